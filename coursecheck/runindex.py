"""The index of the last run: a warm re-run that neither reads the course nor opens an entry
per file.

The cache (:mod:`coursecheck.cache`) is addressed by content: to find a file's entry a run
reads the file and hashes it, then opens and unpickles the entry. At 5,000 lessons that is
10,000 files opened for a run that finds nothing new. The index is one file per project
(``<cache dir>/v<N>-index/<root digest>``), rewritten atomically after a run whose files
changed; it holds, per checked file:

* its stat signature (size, modification and change times in ns, inode) and role;
* its per-file cache key, computed from the bytes when the signature was taken;
* its per-file result *without* the record's packed groups (frontmatter, links, headings,
  line texts: the bulk of an entry), pickled. A record restores those from the cache entry
  on first use, i.e. only when the course stage runs (see :class:`LazyGroups`).

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
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from coursecheck import __version__
from coursecheck.records import PACKED, PACKED_GROUPS

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
        # relpath -> (role, signature, key, result without packed groups, pickled)
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
    """A per-file result pickled without its record's packed groups (None: not possible)."""
    fields = getattr(result, "fields", None)
    if isinstance(fields, dict):
        grouped = {name for group in PACKED_GROUPS for name in group}
        if not isinstance(fields.get(PACKED), list) and not grouped <= fields.keys():
            return None  # the index would hold the whole record
        small = {name: value for name, value in fields.items() if name not in grouped}
        small[PACKED] = None  # restore() puts LazyGroups here
        result = replace(result, fields=small)
    try:
        return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None


def restore(small: bytes, fetch_groups: Callable[[], list[bytes | None]]) -> Any | None:
    """A per-file result from its index form; its record's groups come from ``fetch_groups``
    on first use. None when the bytes do not unpickle."""
    try:
        result = pickle.loads(small)
    except Exception:
        return None
    fields = getattr(result, "fields", None)
    if isinstance(fields, dict) and PACKED in fields:
        fields[PACKED] = LazyGroups(fetch_groups)
    return result


class LazyGroups:
    """A record's packed groups, fetched (from the cache entry, or by parsing the file again)
    when the record first restores one: a run whose course stage is served from the cache
    never fetches them."""

    __slots__ = ("_fetch", "_groups")

    def __init__(self, fetch: Callable[[], list[bytes | None]]) -> None:
        self._fetch = fetch
        self._groups: list[bytes | None] | None = None

    def _loaded(self) -> list[bytes | None]:
        if self._groups is None:
            groups = list(self._fetch())
            if len(groups) != len(PACKED_GROUPS):
                raise ValueError("packed groups of another shape")
            self._groups = groups
        return self._groups

    def __getitem__(self, index: int) -> bytes | None:
        return self._loaded()[index]

    def __setitem__(self, index: int, value: bytes | None) -> None:
        self._loaded()[index] = value

    def __len__(self) -> int:
        return len(PACKED_GROUPS)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._loaded())
