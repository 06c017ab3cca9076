"""The content-hash cache of per-file results.

One entry per file and per *everything its per-file result depends on*: the file's bytes,
its path and role, the coursecheck code, the plugins (names, versions and their files'
size and mtime), the whole effective config, and the data files of the course (document
rules may read them, e.g. the glossary). An entry holds the file's per-file findings, its
lightweight record (see :mod:`coursecheck.records`) and the summaries rules made of it.

Entries live in ``<cache dir>/v<N>/<2 hex>/<62 hex>`` and are written atomically (temporary
file + rename), so concurrent runs never see half an entry and the last writer wins with an
equivalent value. An entry that does not unpickle, or was written by another format or
coursecheck version, is ignored and rewritten (self-healing). The cache is only an
accelerator: any problem with it (read-only tree, full disk) means "run without it".
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coursecheck import __version__

FORMAT = 1
DEFAULT_DIR = ".coursecheck-cache"
_MAGIC = b"coursecheck-cache\0"


def code_fingerprint(modules: list[Any]) -> str:
    """What the code that produces per-file results looks like: the coursecheck version and
    the content of every source file of coursecheck and of the given plugin modules (an edited
    local plugin or an editable install invalidates the cache).

    Files are named relative to their package and hashed by content, not by path and mtime:
    the same code imported from a checkout and from an installed copy (a test runner beside
    the CLI) shares a cache, and a fresh clone does not invalidate it.
    """
    digest = hashlib.sha256(f"{__version__}\0{sys.version_info[:2]}\0".encode())
    files: dict[str, Path] = {}
    package = Path(__file__).resolve().parent
    for path in package.rglob("*.py"):
        files[f"coursecheck/{path.relative_to(package).as_posix()}"] = path
    for module in modules:
        file = getattr(module, "__file__", None)
        if file:
            files[f"{getattr(module, '__name__', '')}:{Path(file).name}"] = Path(file)
        digest.update(f"{getattr(module, '__name__', '')}={getattr(module, '__version__', '')}\0".encode())
    for name in sorted(files):
        content = _content_digest(str(files[name]))
        if content:
            digest.update(f"{name}\0{content}\0".encode())
    return digest.hexdigest()


def _content_digest(path: str) -> str:
    """sha256 of a source file, remembered per (path, size, mtime) for the process."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    key = (path, st.st_size, st.st_mtime_ns)
    cached = _DIGESTS.get(key)
    if cached is None:
        try:
            with open(path, "rb") as handle:
                cached = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            return ""
        _DIGESTS[key] = cached
    return cached


_DIGESTS: dict[tuple[str, int, int], str] = {}


class FileCache:
    """A folder of pickled per-file results, addressed by key (a hex digest)."""

    def __init__(self, folder: Path, *, name: str = "", keep: int | None = None) -> None:
        self.folder = Path(folder)
        self.entries = self.folder / f"v{FORMAT}{name}"
        self.keep = keep  # at most this many entries (the newest written); None: no limit
        self._entries = str(self.entries)  # entry paths joined as strings: thousands per run
        self.hits = 0
        self.misses = 0
        self.writes_failed = 0
        self.used: set[str] = set()  # keys read or written by this process
        self.opened_ns = time.time_ns()  # entries written since are another run's too: kept

    @staticmethod
    def key(*parts: bytes | str) -> str:
        digest = hashlib.sha256()
        for part in parts:
            data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.entries / key[:2] / key[2:]

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``; None when absent, corrupted or foreign."""
        try:
            with open(os.path.join(self._entries, key[:2], key[2:]), "rb") as handle:
                data = handle.read()
        except OSError:
            self.misses += 1
            return None
        header = _MAGIC + __version__.encode() + b"\0"
        if not data.startswith(header):
            self.misses += 1
            return None
        try:
            value = pickle.loads(data[len(header) :])
        except Exception:  # a truncated or garbled entry: recompute and overwrite it
            self.misses += 1
            return None
        self.hits += 1
        self.used.add(key)
        if _freezing and self.hits % FREEZE_EVERY == 0:
            gc.freeze()
        if self.keep is not None:  # a bounded folder keeps the entries used last
            try:
                os.utime(os.path.join(self._entries, key[:2], key[2:]))
            except OSError:
                pass
        return value

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` atomically; failures only mean the next run recomputes."""
        path = self._path(key)
        try:
            value = packed_result(value)
            data = _MAGIC + __version__.encode() + b"\0" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
                self.used.add(key)
                if self.keep is not None:
                    self._prune()
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except Exception:
            self.writes_failed += 1

    def sweep(self, used: Iterable[str], written: int, files: int) -> int:
        """Delete the entries no recent run used, so the folder does not grow with every
        edit and config change (entries are addressed by content: an edited file's old
        entry is never read again). Runs only once more than ``max(SWEEP_AFTER, 2 x files)``
        entries were written since the last sweep (a count kept in the folder); keeps the
        entries of ``used`` (this run's keys, workers' included), those this process read
        or wrote, and any written since this cache was opened (a concurrent run's).
        Returns how many entries were deleted."""
        counter = self.entries / ".written"
        try:
            before = int(counter.read_text(encoding="ascii"))
        except (OSError, ValueError):
            before = 0
        total = before + written
        if total <= max(SWEEP_AFTER, 2 * files):
            if written:
                _write_quietly(counter, str(total))
            return 0
        keep = self.used | set(used)
        removed = 0
        try:
            folders = [entry for entry in os.scandir(self.entries) if entry.is_dir() and len(entry.name) == 2]
        except OSError:
            return 0
        for folder in folders:
            try:
                entries = list(os.scandir(folder.path))
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith(".") or folder.name + entry.name in keep:
                    continue
                try:
                    if entry.stat().st_mtime_ns >= self.opened_ns:
                        continue
                    os.unlink(entry.path)
                    removed += 1
                except OSError:
                    pass
        _write_quietly(counter, "0")
        return removed

    def course_stages(self) -> FileCache:
        """Where stored course stages live: beside the per-file entries, the newest
        :data:`COURSE_STAGES_KEPT` only (one is written per state of the course, and a
        5,000-lesson course's is megabytes)."""
        return FileCache(self.folder, name="-course", keep=COURSE_STAGES_KEPT)

    def latest_course_stages(self) -> FileCache:
        """Per course layout (its files, config and rules), the key of the course stage
        stored last: the stage an edit that moved lines can take findings from."""
        return FileCache(self.folder, name="-course-latest", keep=COURSE_STAGES_KEPT)

    def _prune(self) -> None:
        entries = []
        for path in self.entries.glob("*/[!.]*"):  # not another writer's temporary file
            try:
                entries.append((path.stat().st_mtime_ns, path))
            except OSError:
                pass
        assert self.keep is not None
        entries.sort(reverse=True)
        for _mtime, path in entries[self.keep :]:
            try:
                path.unlink()
            except OSError:
                pass


COURSE_STAGES_KEPT = 8
# Entries written since the last sweep before the next one (see FileCache.sweep).
SWEEP_AFTER = 2000


def _write_quietly(path: Path, text: str) -> None:
    """Replace ``path`` atomically; a failure only delays the next sweep."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError:
        pass


def packed_result(value: Any) -> Any:
    """A per-file result with its record's bulky parts pickled on their own: restored only
    when a course rule or a reporter reads them (``coursecheck.records.pack_fields``)."""
    fields = getattr(value, "fields", None)
    if not isinstance(fields, dict) or not dataclasses.is_dataclass(value):
        return value
    from coursecheck.records import pack_fields

    return dataclasses.replace(value, fields=pack_fields(fields))


# Entries restored between two freezes of the collector (see freezing_loaded).
FREEZE_EVERY = 256
_freezing = False


@contextmanager
def freezing_loaded() -> Iterator[None]:
    """During a run: what the cache restores (records, findings, summaries: millions of
    objects on a big course) lives until the run ends, yet every collection of the older
    generations would scan it again (measured: ~0.5 s of a 3.5 s warm re-run at 5,000
    lessons). Every few hundred entries the objects alive are moved out of the collector's
    reach (``gc.freeze``); at the end they are handed back (``gc.unfreeze``). Left alone
    when the collector is off or the process froze objects itself."""
    global _freezing
    if _freezing or not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    _freezing = True
    try:
        yield
    finally:
        _freezing = False
        gc.unfreeze()


def usable_dir(folder: Path) -> bool:
    """Whether the cache can live in ``folder`` (created if needed, writable)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    tag = folder / "CACHEDIR.TAG"
    if not tag.exists():
        try:
            tag.write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# coursecheck's cache; safe to delete.\n",
                encoding="utf-8",
            )
        except OSError:
            return False
    ignore = folder / ".gitignore"
    if not ignore.exists():
        try:
            ignore.write_text("*\n", encoding="utf-8")
        except OSError:
            pass
    return True


def clean(folder: Path) -> bool:
    """Remove the cache folder; True if there was one. Refuses folders that are not caches."""
    if not folder.is_dir():
        return False
    if not (folder / "CACHEDIR.TAG").exists():
        raise OSError(f"{folder} does not look like a coursecheck cache (no CACHEDIR.TAG); not removed")
    shutil.rmtree(folder)
    return True
