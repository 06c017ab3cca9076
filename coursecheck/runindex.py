"""The index of the last run: a warm re-run that neither reads the course nor opens an entry
per file.

The cache (:mod:`coursecheck.cache`) is addressed by content: to find a file's entry a run
reads the file and hashes it, then opens and unpickles the entry. At 5,000 lessons that is
10,000 files opened for a run that finds nothing new. The index is one file per project
(``<cache dir>/v<N>-index/<root digest>``), rewritten atomically after a run whose files
changed; it holds, per checked file:

* its stat signature (size, modification and change times in ns, inode) and role;
* its per-file cache key, computed from the bytes when the signature was taken;
* its per-file result, pickled as in its cache entry (the record's bulky parts still
  packed: restored only when a course rule reads them). At 5,000 lessons the index is
  about 40 MB and is read in one go, faster than opening 5,000 entries.

A run trusts a file's index entry only when the index was made with the same base key
(code, plugins, config, rules, data files) and the file's signature is unchanged. As in
Git's index, a signature taken less than :data:`RACY_NS` before the run that took it
started is not trusted (the file may have changed again within the timestamp's
granularity): such a file is read and hashed again. The change time catches tools that
restore a modification time (``cp -p``, ``rsync -t``); it cannot be set by a user.
The index is an accelerator like the rest of the cache: a missing, foreign, damaged or
stale index only means the run reads and hashes the files.

Its path is predictable (a digest of the checkout's path), so a repository can commit a
file there: the index ends with an HMAC-SHA256 of everything before it, under the user's
secret key (:func:`coursecheck.cache.secret_key`), checked before anything in it is
unpickled. An index that fails is ignored, counted (``coursecheck -v``) and rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from coursecheck import __version__
from coursecheck.cache import MAC_SIZE, _own_files, _unlink_own, packed_result, read_regular, secret_key

# An index larger than this is not read (at 5,000 lessons one is about 40 MB).
MAX_INDEX_BYTES = 1 << 32

FORMAT = 1
# A signature whose modification or change time is this close to (or after) the start of
# its run is not trusted.
RACY_NS = 2_000_000_000

# Indexes kept in a cache folder (the newest): one per project root using it.
INDEXES_KEPT = 8

Signature = tuple[int, int, int, int]


def signature(path: str) -> Signature | None:
    """(size, mtime ns, ctime ns, inode) of a regular file; None for anything else (a link
    too: it is not followed here, and is read, checked for where it leads, every run)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


_MAGIC = b"coursecheck-index\0"


class RunIndex:
    """The index of one project's last run (see the module doc).

    The file is the magic bytes, the pickled results one after another, then a header
    (format, coursecheck version, base key, and per file: role, signature, key and where
    its result lies), the header's length in 8 bytes and the MAC of all that. A run reads
    it whole, checks the MAC, and unpickles a file's result in place; a run that changes
    anything writes the results of the files it read as it goes (memory stays flat on a
    cold run), then those carried over, then the header and the MAC, and renames the file
    into place.
    """

    def __init__(self, folder: Path, root: Path, base_key: str, started_ns: int, key: bytes | None = None) -> None:
        digest = hashlib.sha256(str(root).encode("utf-8", "surrogatepass")).hexdigest()
        self.path = Path(folder) / f"v{FORMAT}-index" / digest
        self.base_key = base_key
        self.started_ns = started_ns
        self._key = key if key is not None else secret_key(root).key
        self._domain_address = ("coursecheck run index", digest)
        self._signer: Any = None
        self.rejected = 0  # 1 when an index was there but not authentic or not readable
        # relpath -> (role, signature, key, offset and length of its pickled result)
        self.old: dict[str, tuple[str, Signature, str, int, int]] = {}
        self.new: dict[str, tuple[str, Signature, str, int, int]] = {}
        self._data = memoryview(b"")
        self._kept: list[str] = []
        self._changed = False
        self._handle: Any = None
        self._tmp = ""
        self._offset = 0
        self._load()

    def _load(self) -> None:
        try:
            data = read_regular(str(self.path), MAX_INDEX_BYTES)
        except FileNotFoundError:
            self._changed = True
            return
        except OSError:  # a link, a FIFO, too large: not ours
            self.rejected = 1
            self._changed = True
            return
        try:
            trailer = len(data) - MAC_SIZE
            if trailer < len(_MAGIC) + 8 or not data.startswith(_MAGIC):
                raise ValueError("not an index")
            view = memoryview(data)
            signer = self._mac()
            signer.update(view[:trailer])
            if not hmac.compare_digest(data[trailer:], signer.digest()):
                raise ValueError("not authentic")
            length = int.from_bytes(data[trailer - 8 : trailer], "little")
            if not len(_MAGIC) <= trailer - 8 - length:
                raise ValueError("damaged")
            form, version, base_key, entries = pickle.loads(view[trailer - 8 - length : trailer - 8])
        except Exception:  # damaged, foreign or not authentic: the run reads the files
            self.rejected = 1
            self._changed = True
            return
        if form != FORMAT or version != __version__ or base_key != self.base_key or not isinstance(entries, dict):
            self._changed = True
            return
        self.old = entries
        self._data = memoryview(data)

    def lookup(self, rel: str, role: str, sig: Signature | None) -> tuple[str, memoryview] | None:
        """(key, pickled result) when ``rel`` is unchanged since the index was made."""
        known = self.old.get(rel)
        if known is None or sig is None or known[0] != role or known[1] != sig:
            return None
        offset, length = known[3], known[4]
        return known[2], self._data[offset : offset + length]

    def keep(self, rel: str) -> None:
        """Carry ``rel``'s entry (just looked up) into the new index unchanged."""
        self._kept.append(rel)

    def record(self, rel: str, role: str, sig: Signature | None, key: str, result: Any) -> None:
        """Enter a file read this run (its key computed from the bytes just read)."""
        if sig is None or max(sig[1], sig[2]) >= self.started_ns - RACY_NS:
            return  # racy (or not a regular file): read again next time
        payload = small_result(result)
        if payload is not None:
            self._changed = True
            self._write(rel, role, sig, key, payload)

    def _write(self, rel: str, role: str, sig: Signature, key: str, payload: bytes | memoryview) -> None:
        offset = self._write_run(payload)
        if offset is not None:
            self.new[rel] = (role, sig, key, offset, len(payload))

    def _write_run(self, payload: bytes | memoryview) -> int | None:
        """Append ``payload`` to the new index: where it starts (None: it cannot be written)."""
        if self._handle is False:
            return None  # the temporary file could not be made: no new index this run
        try:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, self._tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path.parent)
                self._handle = os.fdopen(fd, "wb")
                self._handle.write(_MAGIC)
                self._signer = self._mac()
                self._signer.update(_MAGIC)
                self._offset = len(_MAGIC)
            self._handle.write(payload)
            self._signer.update(payload)
        except Exception:
            self.discard()
            self._handle = False
            return None
        offset = self._offset
        self._offset += len(payload)
        return offset

    def save(self) -> None:
        """Write the new index atomically when it would hold anything new (quietly: an
        accelerator). Entries it no longer vouches for (a file edited moments ago, still
        within the racy margin, or removed) are left until then, up to a tenth of them: a
        stale signature never matches the file again, so such an entry is never used."""
        dropped = len(self.old) - len(self._kept)
        if not self._changed and dropped <= len(self.old) // 10:
            self.discard()
            return
        # The kept results lie mostly one after another in the old file: copied in runs.
        kept = sorted(self._kept, key=lambda rel: self.old[rel][3])
        start = 0
        while start < len(kept):
            end = start + 1
            while end < len(kept) and self.old[kept[end]][3] == self.old[kept[end - 1]][3] + self.old[kept[end - 1]][4]:
                end += 1
            first, last = self.old[kept[start]], self.old[kept[end - 1]]
            base = self._write_run(self._data[first[3] : last[3] + last[4]])
            if base is None:
                return
            for rel in kept[start:end]:
                role, sig, key, offset, length = self.old[rel]
                self.new[rel] = (role, sig, key, base + offset - first[3], length)
            start = end
        if not self._handle:
            return
        try:
            header = pickle.dumps((FORMAT, __version__, self.base_key, self.new), protocol=pickle.HIGHEST_PROTOCOL)
            size = len(header).to_bytes(8, "little")
            self._handle.write(header)
            self._handle.write(size)
            self._signer.update(header)
            self._signer.update(size)
            self._handle.write(self._signer.digest())
            self._handle.close()
            os.replace(self._tmp, self.path)
            self._handle = None
        except Exception:
            self.discard()
            return
        self._prune()

    def _mac(self) -> Any:
        """An HMAC-SHA256 of this index (fed with ``update``), bound to its project root."""
        domain, address = self._domain_address
        return hmac.new(self._key, f"{domain}\0{address}\0".encode(), hashlib.sha256)

    def _prune(self) -> None:
        """Keep the :data:`INDEXES_KEPT` indexes written last (one per project root: a cache
        folder shared by many checkouts would otherwise keep one for each). Deletes only
        regular files named as indexes are, never through a link."""
        parent = self.path.parent
        try:
            if not stat.S_ISDIR(os.lstat(parent).st_mode):
                return
        except OSError:
            return
        entries = [(st.st_mtime_ns, entry.path) for entry, st in _own_files(str(parent), _INDEX_NAME)]
        entries.sort(reverse=True)
        for _mtime, path in entries[INDEXES_KEPT:]:
            _unlink_own(path)

    def discard(self) -> None:
        """Drop the new index being written (a run that stopped half-way)."""
        handle, self._handle = self._handle, None
        try:
            if handle:
                handle.close()
            if self._tmp:
                os.unlink(self._tmp)
        except OSError:
            pass
        self._tmp = ""


_INDEX_NAME = re.compile(r"[0-9a-f]{64}")


def small_result(result: Any) -> bytes | None:
    """A per-file result pickled as a cache entry holds it (its record's bulky parts packed);
    None when it does not pickle."""
    try:
        return pickle.dumps(packed_result(result), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None


def restore(data: bytes | memoryview) -> Any | None:
    """A per-file result from its index form (bytes of an index whose MAC was checked);
    None when the bytes do not unpickle."""
    try:
        return pickle.loads(data)
    except Exception:
        return None
