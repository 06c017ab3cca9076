"""The index of the last run: a warm re-run that neither reads the course nor opens an entry
per file.

The cache (:mod:`coursecheck.cache`) is addressed by content: to find a file's entry a run
reads the file and hashes it, then opens and unpickles the entry. At 5,000 lessons that is
10,000 files opened for a run that finds nothing new. The index is one file per project
(``<cache dir>/v<N>-index/<root digest>``), rewritten atomically after a run whose files
changed; it holds, per checked file:

* its stat signature (size, modification and change times in ns, inode) and role;
* its per-file cache key, computed from the bytes when the signature was taken;
* its per-file result, pickled as in its cache entry but without the record's bulky
  packed parts (frontmatter, links, headings, kept lines...: ~90 % of the bytes), which
  lie in a *parts file* beside the index (``<root digest>.<random>.parts``), each with its
  SHA-256 in the index; its summary is pickled apart, right after it, each rule's part
  on its own (:func:`pack_summary`; restored only if read, and only the parts read:
  :mod:`coursecheck.engine.summaries`). At 5,000 lessons the index is about 14 MB
  and is read in one go, faster than opening 5,000 entries; the parts file (about 39 MB)
  is read only where a course rule reads a record's parts, one part at a time (a warm run
  reads none).

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
A part is unpickled only once its bytes, read from the parts file the index names, have
the SHA-256 the authenticated index holds for them; a part that does not (the parts file
damaged, truncated or planted) is counted and its record takes that part from the file,
parsed again (:meth:`coursecheck.records.DocumentRecord.full`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import pickle
import re
import secrets
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coursecheck import __version__
from coursecheck.cache import (
    _CLOEXEC,
    _NOFOLLOW,
    _NONBLOCK,
    MAC_SIZE,
    _own_files,
    _unlink_own,
    packed_result,
    read_regular,
    secret_key,
)
from coursecheck.records import PACKED

# An index larger than this is not read (at 5,000 lessons one is about 14 MB).
MAX_INDEX_BYTES = 1 << 32

FORMAT = 4  # in the header: an index of another format is rewritten
FOLDER = "v1-index"
# A signature whose modification or change time is this close to (or after) the start of
# its run is not trusted.
RACY_NS = 2_000_000_000

# Kept parts are copied to the new parts file in pieces of this many bytes.
_COPY_CHUNK = 8 << 20

# Indexes kept in a cache folder (the newest): one per project root using it.
INDEXES_KEPT = 8

Signature = tuple[int, int, int, int]
# Where a record's packed part lies in the parts file: offset, length, SHA-256 of the bytes.
PartPlace = tuple[int, int, bytes]
# relpath -> (role, signature, key, offset and length of its pickled result and summary,
# its parts, the length of the result alone: its pickled summary follows it; None: the
# summary is in the result)
Entry = tuple[str, Signature, str, int, int, "tuple[PartPlace, ...] | None", "int | None"]


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

    The index file is the magic bytes, the pickled results one after another (each without
    its record's packed parts), then a header (format, coursecheck version, base key, the
    name of the parts file, and per file: role, signature, key, where its result lies and
    where its parts lie in the parts file with their SHA-256), the header's length in 8
    bytes and the MAC of all that. A run reads the index whole, checks the MAC, and
    unpickles a file's result in place; its parts are read from the parts file when a
    course rule first reads them. A run that changes anything writes the results and parts
    of the files it read as it goes (memory stays flat on a cold run), then those carried
    over (copied, not hashed again), then the header and the MAC, and renames the parts
    file, then the index, into place.
    """

    def __init__(self, folder: Path, root: Path, base_key: str, started_ns: int, key: bytes | None = None) -> None:
        digest = hashlib.sha256(str(root).encode("utf-8", "surrogatepass")).hexdigest()
        self.path = Path(folder) / FOLDER / digest
        self.base_key = base_key
        self.started_ns = started_ns
        self._key = key if key is not None else secret_key(root).key
        self._digest = digest
        self._domain_address = ("coursecheck run index", digest)
        self._signer: Any = None
        self.rejected = 0  # 1 when an index was there but not authentic or not readable
        self.old: dict[str, Entry] = {}
        self.new: dict[str, Entry] = {}
        self._data = memoryview(b"")
        self._parts: _PartsFile | None = None  # the parts file of the index read
        self._kept: list[str] = []
        self._changed = False
        self._handle: Any = None
        self._tmp = ""
        self._offset = 0
        self._parts_handle: Any = None
        self._parts_tmp = ""
        self._parts_offset = 0
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
            header = pickle.loads(view[trailer - 8 - length : trailer - 8])
        except Exception:  # damaged, foreign or not authentic: the run reads the files
            self.rejected = 1
            self._changed = True
            return
        if not isinstance(header, tuple) or len(header) != 5 or header[0] != FORMAT:
            self._changed = True  # an older coursecheck's
            return
        _form, version, base_key, parts_name, entries = header
        if version != __version__ or base_key != self.base_key or not isinstance(entries, dict):
            self._changed = True
            return
        parts = _PartsFile.open(self.path.parent, self._digest, parts_name)
        if parts is None:  # gone (replaced by a concurrent run) or not a regular file: read the files
            self._changed = True
            return
        self.old = entries
        self._data = memoryview(data)
        self._parts = parts

    def lookup(self, rel: str, role: str, sig: Signature | None) -> tuple[str, memoryview] | None:
        """(key, pickled result) when ``rel`` is unchanged since the index was made; the
        result is without its record's packed parts (:meth:`attach` gives them back)."""
        known = self.old.get(rel)
        if known is None or sig is None or known[0] != role or known[1] != sig:
            return None
        offset, length = known[3], known[4] if known[6] is None else known[6]
        return known[2], self._data[offset : offset + length]

    def summary_bytes(self, rel: str) -> memoryview | None:
        """The pickled summary of ``rel``'s result when it is kept apart from the result
        (the result restored from :meth:`lookup` then has an empty one)."""
        known = self.old.get(rel)
        if known is None or known[6] is None:
            return None
        return self._data[known[3] + known[6] : known[3] + known[4]]

    def attach(self, rel: str, result: Any) -> bool:
        """Give ``result`` (just restored from :meth:`lookup`'s bytes) its record's packed
        parts back, each read from the parts file on first use; False when the result is not
        one they fit."""
        known = self.old.get(rel)
        places = known[5] if known is not None else None
        if places is None:
            return True
        fields = getattr(result, "fields", None)
        if type(fields) is not dict or PACKED in fields or self._parts is None:
            return False
        fields[PACKED] = [Part(self._parts, *place) for place in places]
        return True

    def keep(self, rel: str) -> None:
        """Carry ``rel``'s entry (just looked up) into the new index unchanged."""
        self._kept.append(rel)

    def record(self, rel: str, role: str, sig: Signature | None, key: str, result: Any) -> None:
        """Enter a file read this run (its key computed from the bytes just read)."""
        if sig is None or max(sig[1], sig[2]) >= self.started_ns - RACY_NS:
            return  # racy (or not a regular file): read again next time
        try:
            value = packed_result(result)
            fields = getattr(value, "fields", None)
            blobs = fields.get(PACKED) if isinstance(fields, dict) else None
            if isinstance(fields, dict) and type(blobs) is list and all(type(blob) is bytes for blob in blobs):
                value = dataclasses.replace(value, fields={k: v for k, v in fields.items() if k != PACKED})
            else:
                blobs = None
            summary = getattr(value, "summary", None)
            pickled_summary = b""
            if type(summary) is dict and summary:
                pickled_summary = pack_summary(summary)
                value = dataclasses.replace(value, summary={})
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return
        self._changed = True
        places = None
        if blobs is not None:
            places = self._write_parts(blobs)
            if places is None:
                return
        offset = self._write_run(payload + pickled_summary)
        if offset is not None:
            alone = len(payload) if pickled_summary else None
            self.new[rel] = (role, sig, key, offset, len(payload) + len(pickled_summary), places, alone)

    def _write_parts(self, blobs: list[bytes]) -> tuple[PartPlace, ...] | None:
        """Append a record's packed parts to the new parts file: where each lies."""
        places = []
        for blob in blobs:
            offset = self._write_part_run(blob)
            if offset is None:
                return None
            places.append((offset, len(blob), hashlib.sha256(blob).digest()))
        return tuple(places)

    def _write_part_run(self, payload: bytes | memoryview) -> int | None:
        """Append ``payload`` to the new parts file: where it starts (None: it cannot be written)."""
        if self._parts_handle is False:
            return None
        try:
            if self._parts_handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, self._parts_tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path.parent)
                self._parts_handle = os.fdopen(fd, "wb")
                self._parts_offset = 0
            self._parts_handle.write(payload)
        except Exception:
            self._fail()
            return None
        offset = self._parts_offset
        self._parts_offset += len(payload)
        return offset

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
            self._fail()
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
        # The kept results lie mostly one after another in the old file: copied in runs,
        # and so are their parts (their SHA-256 carried over: the bytes are not hashed again).
        kept = sorted(self._kept, key=lambda rel: self.old[rel][3])
        moved_results = _runs(kept, lambda rel: (self.old[rel][3], self.old[rel][4]), self._copy_results)
        if moved_results is None:
            return
        with_parts = sorted((rel for rel in kept if self.old[rel][5]), key=lambda rel: self._part_span(rel)[0])
        moved_parts = _runs(with_parts, self._part_span, self._copy_parts)
        if moved_parts is None:
            return
        for rel in kept:
            role, sig, key, offset, length, places, alone = self.old[rel]
            if places:
                shift = moved_parts[rel]
                places = tuple((at + shift, size, sha) for at, size, sha in places)
            self.new[rel] = (role, sig, key, offset + moved_results[rel], length, places, alone)
        if self._write_part_run(b"") is None or not self._handle:
            self.discard()
            return
        name = f"{self._digest}.{secrets.token_hex(8)}.parts"
        try:
            header = pickle.dumps(
                (FORMAT, __version__, self.base_key, name, self.new), protocol=pickle.HIGHEST_PROTOCOL
            )
            size = len(header).to_bytes(8, "little")
            self._handle.write(header)
            self._handle.write(size)
            self._signer.update(header)
            self._signer.update(size)
            self._handle.write(self._signer.digest())
            self._handle.close()
            self._parts_handle.close()
            os.replace(self._parts_tmp, self.path.parent / name)
            self._parts_tmp = ""
            os.replace(self._tmp, self.path)
            self._handle = self._parts_handle = None
        except Exception:
            self.discard()
            return
        self._prune(keep_parts=name)

    def _part_span(self, rel: str) -> tuple[int, int]:
        """Where ``rel``'s parts lie in the old parts file (they are written one after another)."""
        places = self.old[rel][5]
        assert places
        return places[0][0], places[-1][0] + places[-1][1] - places[0][0]

    def _copy_results(self, start: int, length: int) -> int | None:
        return self._write_run(self._data[start : start + length])

    def _copy_parts(self, start: int, length: int) -> int | None:
        assert self._parts is not None
        base = None
        for at in range(start, start + length, _COPY_CHUNK):
            data = self._parts.read(at, min(_COPY_CHUNK, start + length - at))
            offset = self._write_part_run(data) if data is not None else None
            if offset is None:
                return None
            base = offset if base is None else base
        return base

    def _mac(self) -> Any:
        """An HMAC-SHA256 of this index (fed with ``update``), bound to its project root."""
        domain, address = self._domain_address
        return hmac.new(self._key, f"{domain}\0{address}\0".encode(), hashlib.sha256)

    def _prune(self, keep_parts: str = "") -> None:
        """Keep the :data:`INDEXES_KEPT` indexes written last (one per project root: a cache
        folder shared by many checkouts would otherwise keep one for each), and the parts
        file of each (this project's other parts files are older ones). Deletes only
        regular files named as indexes and parts files are, never through a link."""
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
        indexes = {os.path.basename(path) for _mtime, path in entries[:INDEXES_KEPT]}
        for entry, _st in _own_files(str(parent), _PARTS_NAME):
            digest = entry.name.partition(".")[0]
            if digest not in indexes or (digest == self._digest and entry.name != keep_parts):
                _unlink_own(entry.path)

    def _fail(self) -> None:
        """A write failed: no new index this run (the files written so far are dropped)."""
        self.discard()
        self._handle = self._parts_handle = False

    def discard(self) -> None:
        """Drop the new index being written (a run that stopped half-way)."""
        for handle_name, tmp_name in (("_handle", "_tmp"), ("_parts_handle", "_parts_tmp")):
            handle = getattr(self, handle_name)
            setattr(self, handle_name, None)
            tmp = getattr(self, tmp_name)
            try:
                if handle:
                    handle.close()
                if tmp:
                    os.unlink(tmp)
            except OSError:
                pass
            setattr(self, tmp_name, "")


def _runs(
    items: list[str], span: Callable[[str], tuple[int, int]], copy: Callable[[int, int], int | None]
) -> dict[str, int] | None:
    """Copy the byte ranges of ``items`` (``span(item)``: start and length, items in order of
    start) in runs of adjacent ranges with ``copy(start, length)`` (where the run now
    starts, None when it cannot be written): each item's shift; None on a failure."""
    shifts: dict[str, int] = {}
    start = 0
    while start < len(items):
        end = start + 1
        while end < len(items) and span(items[end])[0] == sum(span(items[end - 1])):
            end += 1
        first = span(items[start])[0]
        last = span(items[end - 1])
        base = copy(first, last[0] + last[1] - first)
        if base is None:
            return None
        for item in items[start:end]:
            shifts[item] = base - first
        start = end
    return shifts


_PREAD = getattr(os, "pread", None)


class _PartsFile:
    """The parts file of an index read this run, open until the last record using it is
    gone (a concurrent run may replace or remove the file meanwhile: this one still reads
    the parts its index describes)."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd = fd

    @classmethod
    def open(cls, folder: Path, digest: str, name: Any) -> _PartsFile | None:
        if not isinstance(name, str) or not _PARTS_NAME.fullmatch(name) or not name.startswith(digest + "."):
            return None
        try:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
        except OSError:
            return None
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            regular = False
        if not regular:
            os.close(fd)
            return None
        return cls(fd)

    def read(self, offset: int, length: int) -> bytes | None:
        """``length`` bytes at ``offset``; None when the file is shorter or unreadable."""
        try:
            if _PREAD is not None:
                data = _PREAD(self._fd, length, offset)
            else:  # no pread (Windows): one reader per process
                os.lseek(self._fd, offset, os.SEEK_SET)
                data = os.read(self._fd, length)
        except (OSError, OverflowError, ValueError):
            return None
        return data if len(data) == length else None

    def __del__(self) -> None:
        try:
            os.close(self._fd)
        except (OSError, AttributeError):
            pass


class Part:
    """A record's packed part kept in a parts file (``DocumentRecord`` loads it on first
    use): its bytes once they have the SHA-256 the authenticated index holds for them,
    else None (the record then takes the part from the file, parsed again)."""

    __slots__ = ("_digest", "_file", "_length", "_offset")

    def __init__(self, file: _PartsFile, offset: int, length: int, digest: bytes) -> None:
        self._file = file
        self._offset = offset
        self._length = length
        self._digest = digest

    def load(self) -> bytes | None:
        data = self._file.read(self._offset, self._length)
        if data is None or not hmac.compare_digest(hashlib.sha256(data).digest(), self._digest):
            global rejected_parts
            rejected_parts += 1
            return None
        return data

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (a result handed on): as the bytes it stands for.
        data = self.load()
        if data is None:
            raise pickle.PicklingError("a record's part kept apart could not be read")
        return (bytes, (data,))


# Parts that failed their check (read by the engine after a run, for ``coursecheck -v``).
rejected_parts = 0

_INDEX_NAME = re.compile(r"[0-9a-f]{64}")
_PARTS_NAME = re.compile(r"[0-9a-f]{64}\.[0-9a-f]{16}\.parts")


def pack_summary(summary: dict[str, Any]) -> bytes:
    """A result's summary as the index keeps it: each rule's part pickled apart, then the
    ``{rule: bytes}`` map pickled (coursecheck.engine.summaries restores one rule's parts
    without the others')."""
    parts = {name: pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL) for name, value in summary.items()}
    return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)


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
