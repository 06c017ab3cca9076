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
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from pathlib import Path
from typing import Any

from coursecheck import __version__
from coursecheck.cache import packed_result

FORMAT = 1
# A signature whose modification or change time is this close to (or after) the start of
# its run is not trusted.
RACY_NS = 2_000_000_000

Signature = tuple[int, int, int, int]


def signature(path: str) -> Signature | None:
    """(size, mtime ns, ctime ns, inode) of a regular file; None for anything else."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class RunIndex:
    """The index of one project's last run (see the module doc)."""

    def __init__(self, folder: Path, root: Path, base_key: str, started_ns: int) -> None:
        digest = hashlib.sha256(str(root).encode("utf-8", "surrogatepass")).hexdigest()
        self.path = Path(folder) / f"v{FORMAT}-index" / digest
        self.base_key = base_key
        self.started_ns = started_ns
        # relpath -> (role, signature, key, result pickled as in its cache entry)
        self.old: dict[str, tuple[str, Signature, str, bytes]] = {}
        self.new: dict[str, tuple[str, Signature, str, bytes]] = {}
        self.changed = False
        self._load()

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
            form, version, base_key, entries = pickle.loads(data)
        except Exception:  # absent, damaged or foreign: the run reads the files
            self.changed = True
            return
        if form != FORMAT or version != __version__ or base_key != self.base_key or not isinstance(entries, dict):
            self.changed = True
            return
        self.old = entries

    def lookup(self, rel: str, role: str, sig: Signature | None) -> tuple[str, bytes] | None:
        """(key, pickled small result) when ``rel`` is unchanged since the index was made."""
        known = self.old.get(rel)
        if known is None or sig is None or known[0] != role or known[1] != sig:
            return None
        return known[2], known[3]

    def keep(self, rel: str, role: str, sig: Signature, key: str, small: bytes) -> None:
        """Carry an entry into the new index unchanged."""
        self.new[rel] = (role, sig, key, small)

    def record(self, rel: str, role: str, sig: Signature | None, key: str, result: Any) -> None:
        """Enter a file read this run (its key computed from the bytes just read)."""
        self.changed = True
        if sig is None or max(sig[1], sig[2]) >= self.started_ns - RACY_NS:
            return  # racy (or not a regular file): read again next time
        small = small_result(result)
        if small is not None:
            self.new[rel] = (role, sig, key, small)

    def save(self) -> None:
        """Write the new index atomically when anything changed (quietly: an accelerator)."""
        if not self.changed and self.new.keys() == self.old.keys():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = pickle.dumps((FORMAT, __version__, self.base_key, self.new), protocol=pickle.HIGHEST_PROTOCOL)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except Exception:
            pass


def small_result(result: Any) -> bytes | None:
    """A per-file result pickled as a cache entry holds it (its record's bulky parts packed);
    None when it does not pickle."""
    try:
        return pickle.dumps(packed_result(result), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None


def restore(data: bytes) -> Any | None:
    """A per-file result from its index form; None when the bytes do not unpickle."""
    try:
        return pickle.loads(data)
    except Exception:
        return None
