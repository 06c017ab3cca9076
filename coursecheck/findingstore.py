"""What a warm re-run takes from the last run instead of making it again: each file's
finished findings (levels, inline suppressions, fingerprints) and the reporters' text for
them.

Finishing (coursecheck.engine.finishing) works file by file: a file's finished findings
depend only on the findings made in it (by its own per-file result, the data files', the
course stage and discovery), on its own record (its suppression comments) and on the run's
levels and selection. So each file's group of findings has a *group key*: a digest of the
keys of the sources its findings came from (the per-file cache key of each file whose
result made some, the key of the stored course stage, a digest of discovery's problems in
it), of its record's key and of the run's finishing context (code, config, rules, levels,
selection, the paths reported). Two runs with the same group key finish the same findings
the same way.

Two kinds of stores, one file each per project root and *kind* under
``<cache dir>/v<N>-finished/``:

* ``finishing``: per group key, what finishing did (each finding's level, plugin,
  fingerprint and suppression, in the finished order, and the findings it added: unused
  suppressions); a warm run replays it on the findings it restored instead of finishing
  them again;
* one per reporter and options (``text``, ``json``, ``sarif:<rules>``...): per group key,
  the text the reporter made of that file's finished findings. A reporter takes it only
  for a run of findings that is, object for object, the group the engine finished under
  that key in this run (:meth:`FinishedGroups.cached`): the stored text is then what
  rendering those findings gives, since they are what finishing made of the same inputs.
  Whoever changes findings after the run (a baseline marking them suppressed) drops the
  run's groups (``result.blocks = None``) and the reporters render everything.

A store is the magic bytes, a pickled ``(format, version, kind, {group key: value})`` and
an HMAC-SHA256 of both under the user's cache key, bound to the store's address (its root
and kind): it is read whole, bounded in size, and nothing is unpickled before the MAC
verifies (docs/security.md). A missing, damaged, foreign or unauthentic store only means
the findings are finished and rendered again; a store is rewritten when the run used
entries it did not hold, holding only the groups of this run.
"""

from __future__ import annotations

import hashlib
import hmac
import operator
import os
import pickle
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from itertools import groupby
from pathlib import Path
from typing import Any

from coursecheck import __version__
from coursecheck.cache import MAC_SIZE, _own_files, _unlink_own, read_regular, restoring_many
from coursecheck.model import Finding

FORMAT = 1
MAX_STORE_BYTES = 1 << 31
# Stores kept in a cache folder (the newest): a few kinds per project root using it.
STORES_KEPT = 32
# A run over some files only keeps the groups it did not use while the store holds at most
# this many (a run over the whole course rewrites it with its own groups).
MAX_KEPT_UNUSED = 200_000
_MAGIC = b"coursecheck-finished\0"
_NAME = re.compile(r"[0-9a-f]{64}")
_path_of = operator.attrgetter("path")


class GroupStore:
    """One kind's values by group key, for one project root (see the module doc)."""

    def __init__(self, folder: Path, root: Path, kind: str, key: bytes) -> None:
        self.address = hashlib.sha256(f"{root}\0{kind}".encode("utf-8", "surrogatepass")).hexdigest()
        self.path = Path(folder) / f"v{FORMAT}-finished" / self.address
        self.kind = kind
        self._key = key
        self.old: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        self.rejected = 0
        # A run that reports on some files only (pre-commit: the PATHS given) keeps the
        # groups it did not use, for the next run over the whole course.
        self.keep_unused = False
        self._changed = False
        self._loaded = False

    def _mac(self, payload: bytes | memoryview) -> bytes:
        signer = hmac.new(self._key, f"coursecheck finished\0{self.address}\0".encode(), hashlib.sha256)
        signer.update(_MAGIC)
        signer.update(payload)
        return signer.digest()

    def _load(self) -> None:
        self._loaded = True
        try:
            data = read_regular(str(self.path), MAX_STORE_BYTES)
        except FileNotFoundError:
            return
        except OSError:  # a link, a FIFO, too large: not ours
            self.rejected = 1
            return
        try:
            end = len(data) - MAC_SIZE
            if end < len(_MAGIC) or not data.startswith(_MAGIC):
                raise ValueError("not a store")
            payload = memoryview(data)[len(_MAGIC) : end]
            if not hmac.compare_digest(data[end:], self._mac(payload)):
                raise ValueError("not authentic")
            with restoring_many():
                form, version, kind, values = pickle.loads(payload)
        except Exception:  # damaged, foreign or not authentic: made again
            self.rejected = 1
            return
        if form == FORMAT and version == __version__ and kind == self.kind and isinstance(values, dict):
            self.old = values

    def get(self, group_key: str) -> Any | None:
        if not self._loaded:
            self._load()
        value = self.old.get(group_key)
        if value is not None:
            self.new[group_key] = value
        return value

    def put(self, group_key: str, value: Any) -> None:
        self.new[group_key] = value
        self._changed = True

    def save(self) -> None:
        """Write the store atomically when this run made values it did not hold, or used
        markedly fewer than it holds (quietly: an accelerator). With ``keep_unused``, the
        values it holds and this run did not use are kept (up to :data:`MAX_KEPT_UNUSED`
        of them): a run over some files does not drop the others' groups."""
        if self.keep_unused:
            if not self._changed:
                return
            if len(self.old) <= MAX_KEPT_UNUSED:
                self.new = {**self.old, **self.new}
        elif not self._changed and len(self.new) >= len(self.old) * 9 // 10:
            return
        self._changed = False
        tmp = ""
        try:
            payload = pickle.dumps((FORMAT, __version__, self.kind, self.new), protocol=pickle.HIGHEST_PROTOCOL)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(_MAGIC)
                handle.write(payload)
                handle.write(self._mac(payload))
            os.replace(tmp, self.path)  # replaces a link itself, never what it points at
            tmp = ""
        except Exception:
            pass
        finally:
            if tmp:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        self.old = self.new
        self._prune()

    def _prune(self) -> None:
        """Keep the :data:`STORES_KEPT` stores written last; only regular files named as
        stores are, never through a link."""
        parent = self.path.parent
        try:
            if not stat.S_ISDIR(os.lstat(parent).st_mode):
                return
        except OSError:
            return
        entries = sorted(((st.st_mtime_ns, entry.path) for entry, st in _own_files(str(parent), _NAME)), reverse=True)
        for _mtime, path in entries[STORES_KEPT:]:
            _unlink_own(path)


class FinishedGroups:
    """``Result.blocks``: the groups of findings this run finished (path -> group key and
    the finished findings, the very objects of ``Result.findings``) and the reporters'
    stores of text for them (see the module doc)."""

    def __init__(self, folder: Path, root: Path, key: bytes) -> None:
        self._folder = folder
        self._root = root
        self._key = key
        self.groups: dict[str, tuple[str, list[Finding]]] = {}
        self._stores: dict[str, GroupStore] = {}
        self.served = 0  # groups whose text came from a store (tests, benchmarks)
        self.rendered = 0
        self.partial = False  # the run reported on some files only: stores keep the others' text

    def store(self, kind: str) -> GroupStore:
        store = self._stores.get(kind)
        if store is None:
            store = self._stores[kind] = GroupStore(self._folder, self._root, kind, self._key)
            store.keep_unused = self.partial
        return store

    def cached(self, kind: str, findings: list[Finding], render: Callable[[list[Finding]], Any]) -> list[Any]:
        """``render`` of each run of consecutive findings of one file in ``findings`` (the
        run's sorted findings), in order. The value stored for ``kind`` is taken instead
        when the run is exactly a group this run finished (the same objects, none added or
        left out) and the store holds a value for its group key; otherwise the value is
        rendered, and kept for the next run when the run is such a group."""
        store = self.store(kind)
        out: list[Any] = []
        groups = self.groups
        same = operator.is_
        for path, items in groupby(findings, key=_path_of):
            run = list(items)
            known = groups.get(path)
            group_key = None
            if known is not None and len(known[1]) == len(run) and all(map(same, run, known[1])):
                group_key = known[0]
                value = store.get(group_key)
                if value is not None:
                    self.served += 1
                    out.append(value)
                    continue
            value = render(run)
            self.rendered += 1
            if group_key is not None and value is not None:
                store.put(group_key, value)
            out.append(value)
        store.save()
        return out

    def key_of(self, parts: Iterable[str]) -> str:
        """A digest of ``parts`` (for kinds and keys made of a reporter's own inputs)."""
        digest = hashlib.sha256()
        for part in parts:
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.hexdigest()
