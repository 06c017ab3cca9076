"""The content-hash cache of per-file results.

One entry per file and per *everything its per-file result depends on*: the file's bytes,
its path and role, the coursecheck code, the plugins (names, versions and the content of
every file of their packages), the versions of the libraries whose behaviour shapes results
(markdown-it-py, ruamel.yaml, regex, pymorphy3 and its dictionaries...), the whole
effective config, and the data files of the course (document rules may read them, e.g. the
glossary). An entry holds the file's per-file findings, its lightweight record (see
:mod:`coursecheck.records`) and the summaries rules made of it.

Entries live in ``<cache dir>/v<N>/<2 hex>/<62 hex>`` and are written atomically (temporary
file + rename), so concurrent runs never see half an entry and the last writer wins with an
equivalent value. The cache is only an accelerator: any problem with it (read-only tree,
full disk) means "run without it".

**A cache folder is untrusted.** It lives in the project, so a repository can commit one:
whatever it holds must not run code or make coursecheck touch files outside it. So

* every entry carries an HMAC-SHA256 of its bytes (and of its address and store) under a
  per-user secret key kept outside the project (:func:`secret_key`), checked *before*
  anything is unpickled: an entry that fails is ignored and rewritten (self-healing), and
  counted (``coursecheck -v`` says how many each store rejected);
* a folder with a symbolic link anywhere in it is not used at all (:func:`open_folder`),
  entries are read with ``O_NOFOLLOW``, tags are created with ``O_EXCL``, and the sweep and
  the pruning delete only regular files of the cache's own naming, never through a link.
"""

from __future__ import annotations

import dataclasses
import errno
import gc
import hashlib
import hmac
import os
import pickle
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from coursecheck import __version__

FORMAT = 1
DEFAULT_DIR = ".coursecheck-cache"
_MAGIC = b"coursecheck-cache\0"
MAC_SIZE = 32  # HMAC-SHA256
# Entries larger than this are not read (a planted file must not cost unbounded memory).
MAX_ENTRY_BYTES = 1 << 30

# The distributions whose behaviour shapes per-file results: their versions are part of
# every key (an upgraded parser or dictionary must not leave old results in use).
DEPENDENCIES = (
    "markdown-it-py",
    "mdit-py-plugins",
    "ruamel.yaml",
    "ruamel.yaml.clib",
    "regex",
    "pymorphy3",
    "pymorphy3-dicts-ru",
    "DAWG2-Python",
    "jmespath",
    "networkx",
    "snowballstemmer",
    "pluggy",
    "tomli",
)


@lru_cache(maxsize=1)
def dependency_versions() -> tuple[tuple[str, str], ...]:
    """``(distribution, version)`` of each of :data:`DEPENDENCIES` ("" when not installed),
    read once per process from the names of the ``*.dist-info`` (and ``*.egg-info``) folders
    on ``sys.path``, the first one found winning as for imports. ~1 ms: asking
    ``importlib.metadata.version`` for each took ~45 ms, a tenth of a warm run."""
    wanted = {_normal(name) for name in DEPENDENCIES}
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:  # a zip file, a folder that is not there
            continue
        for entry in names:
            egg = entry.endswith(".egg-info")
            if not (egg or entry.endswith(".dist-info")):
                continue
            name, _, version = entry.rpartition(".")[0].partition("-")
            key = _normal(name)
            if key in wanted and key not in found:
                found[key] = version.partition("-")[0] if egg else version
    return tuple((name, found.get(_normal(name), "")) for name in DEPENDENCIES)


def _normal(name: str) -> str:
    """A distribution's name as its metadata folder spells it, compared (PEP 503)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def code_fingerprint(modules: list[Any]) -> str:
    """What the code that produces per-file results looks like: the coursecheck version, the
    versions of the libraries it builds on (:data:`DEPENDENCIES`), the content of every
    source file of coursecheck, and of every file of the given plugin modules' packages (an
    edited helper module of a plugin package, an edited local plugin or an editable install
    invalidates the cache).

    Files are named relative to their package and hashed by content, not by path and mtime:
    the same code imported from a checkout and from an installed copy (a test runner beside
    the CLI) shares a cache, and a fresh clone does not invalidate it.
    """
    digest = hashlib.sha256(f"{__version__}\0{sys.version_info[:2]}\0".encode())
    for name, version in dependency_versions():
        digest.update(f"{name}={version}\0".encode())
    files: dict[str, Path] = {}
    package = Path(__file__).resolve().parent
    for path in package.rglob("*.py"):
        files[f"coursecheck/{path.relative_to(package).as_posix()}"] = path
    for module in modules:
        name = str(getattr(module, "__name__", ""))
        if name == "coursecheck" or name.startswith("coursecheck."):
            continue  # hashed above
        for label, path in plugin_files(module):
            files[f"{name}:{label}"] = path
        digest.update(f"{name}={getattr(module, '__version__', '')}\0".encode())
    for name in sorted(files):
        content = _content_digest(str(files[name]))
        if content:
            digest.update(f"{name}\0{content}\0".encode())
    return digest.hexdigest()


# A plugin package with more files than this is hashed by its first files only (sorted).
MAX_PLUGIN_FILES = 5000


def plugin_files(module: Any) -> list[tuple[str, Path]]:
    """The files a plugin module's behaviour may come from, each with a stable label:

    * a module of a package: every file of its outermost regular package (helper modules,
      data files, templates...), ``__pycache__`` left out;
    * a single-file module: its file, and the files of the modules already imported from
      the same folder (its helpers), unless that folder holds installed packages or the
      standard library.
    """
    file = getattr(module, "__file__", None)
    if not file:
        return []
    name = str(getattr(module, "__name__", ""))
    top = _outer_package(name, module)
    if top is not None:
        out: list[tuple[str, Path]] = []
        for folder in _package_folders(top):
            base = Path(folder)
            for path in sorted(_files_under(base)):
                out.append((path.relative_to(base).as_posix(), path))
                if len(out) >= MAX_PLUGIN_FILES:
                    return out
        return out
    path = Path(file)
    out = [(path.name, path)]
    folder = os.path.dirname(os.path.abspath(file))
    if folder in _shared_folders():
        return out
    for other in list(sys.modules.values()):
        other_file = getattr(other, "__file__", None)
        if other is module or not isinstance(other_file, str) or not other_file.endswith(".py"):
            continue
        if os.path.dirname(os.path.abspath(other_file)) == folder:
            out.append((os.path.basename(other_file), Path(other_file)))
    return out


def _outer_package(name: str, module: Any) -> Any | None:
    """The outermost regular package (one with an ``__init__`` file) holding ``module``, or
    the module itself when it is a package; None for a single-file module."""
    found = module if getattr(module, "__path__", None) is not None and getattr(module, "__file__", None) else None
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        parent = sys.modules.get(".".join(parts[:i]))
        if parent is None or not getattr(parent, "__file__", None) or getattr(parent, "__path__", None) is None:
            break  # a namespace package (no __init__) spans unrelated distributions: stop below it
        found = parent
    return found


def _package_folders(package: Any) -> list[str]:
    try:
        return [str(p) for p in package.__path__]
    except Exception:
        return []


def _files_under(base: Path) -> Iterator[Path]:
    pending = [base]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    pending.append(Path(entry.path))
            elif entry.is_file() and not entry.name.endswith((".pyc", ".pyo")):
                yield Path(entry.path)


@lru_cache(maxsize=1)
def _shared_folders() -> frozenset[str]:
    """Folders of installed packages and of the standard library."""
    import site
    import sysconfig

    folders = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            folders.add(os.path.abspath(path))
    try:
        folders.update(os.path.abspath(p) for p in site.getsitepackages())
    except Exception:
        pass
    try:
        folders.add(os.path.abspath(site.getusersitepackages()))
    except Exception:
        pass
    return frozenset(folders)


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


# -- the secret key the stored entries are authenticated with ----------------------------

KEY_ENV = "COURSECHECK_CACHE_KEY"
KEY_FILE = "cache-key"


@dataclasses.dataclass(frozen=True)
class Secret:
    """The key stores are authenticated with; ``note`` says why it is this process's own
    (nothing stored earlier is then trusted), "" when it is the user's."""

    key: bytes
    note: str = ""
    where: str = ""  # the key file, or the environment variable


# Used when the user's key cannot be (worker processes forked from this one share it).
_PROCESS_KEY = secrets.token_bytes(32)
_SECRETS: dict[str, Secret] = {}


def key_folder() -> Path | None:
    """Where the user's key lives: ``$XDG_CONFIG_HOME/coursecheck`` (an absolute path, as the
    XDG spec asks), else ``~/.config/coursecheck``; None without a home folder."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    if base and os.path.isabs(base):
        return Path(base) / "coursecheck"
    home = os.path.expanduser("~")
    if not home or home == "~" or not os.path.isabs(home):
        return None
    return Path(home) / ".config" / "coursecheck"


def secret_key(root: Path | None = None) -> Secret:
    """The key this process authenticates stored entries with, for a project at ``root``.

    ``$COURSECHECK_CACHE_KEY`` when set (CI: a secret of the job), else the user's key file
    (:func:`key_folder`), created on first use (atomically, mode 0600). A key file that is a
    symbolic link, not a regular file, not the user's, or readable by others is refused; so
    is one inside the project root (a repository could have committed it). Then, or when it
    cannot be created, the key is this process's own: nothing stored earlier is trusted
    (every entry is rebuilt), and ``note`` says why."""
    memo = str(root)
    found = _SECRETS.get(memo)
    if found is None:
        found = _SECRETS[memo] = _user_secret(root)
    return found


class _KeyRefused(Exception):
    pass


_ONLY_THIS_RUN = "the cache is authenticated with a key of this run only: entries stored earlier are rebuilt"


def _user_secret(root: Path | None) -> Secret:
    given = os.environ.get(KEY_ENV, "")
    if given:
        return Secret(
            hashlib.sha256(b"coursecheck cache key\0" + given.encode("utf-8", "surrogateescape")).digest(),
            where=f"${KEY_ENV}",
        )
    folder = key_folder()
    if folder is None:
        return Secret(_PROCESS_KEY, f"no home folder to keep the cache key in (set ${KEY_ENV}); {_ONLY_THIS_RUN}")
    path = folder / KEY_FILE
    if root is not None and _inside(path, Path(root)):
        return Secret(
            _PROCESS_KEY,
            f"the cache key's place {path} is inside the project root {root} (a repository could supply it); "
            f"set ${KEY_ENV} or XDG_CONFIG_HOME; {_ONLY_THIS_RUN}",
        )
    try:
        try:
            key = _read_key(path)
        except FileNotFoundError:
            key = _create_key(folder, path)
    except _KeyRefused as exc:
        return Secret(_PROCESS_KEY, f"{exc}; {_ONLY_THIS_RUN}")
    except OSError as exc:
        return Secret(
            _PROCESS_KEY, f"cannot read or create the cache key {path} ({exc.strerror or exc}); {_ONLY_THIS_RUN}"
        )
    return Secret(key, where=str(path))


def _inside(path: Path, root: Path) -> bool:
    try:
        resolved, base = path.resolve(), root.resolve()
    except (OSError, RuntimeError):
        return True  # cannot tell: do not trust it
    return resolved == base or base in resolved.parents


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted in place of a file must not block the run
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_KEY_TEXT = re.compile(r"[0-9a-f]{64}")


def _read_key(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _KeyRefused(f"the cache key {path} is a symbolic link; refused") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _KeyRefused(f"the cache key {path} is not a regular file; refused")
        if os.name == "posix":
            if st.st_uid != os.geteuid():
                raise _KeyRefused(f"the cache key {path} belongs to another user; refused")
            if st.st_mode & 0o077:
                raise _KeyRefused(
                    f"the cache key {path} is accessible to other users (mode {stat.S_IMODE(st.st_mode):o}); "
                    f"refused (`chmod 600 {path}`)"
                )
        data = os.read(fd, 256)
    finally:
        os.close(fd)
    text = data.decode("ascii", "replace").strip()
    if not _KEY_TEXT.fullmatch(text):
        raise _KeyRefused(f"{path} is not a coursecheck cache key (64 hex digits); refused")
    return bytes.fromhex(text)


def _create_key(folder: Path, path: Path) -> bytes:
    """Write a new random key where none is: complete or not at all (a temporary file,
    then a hard link that fails if another process was first: its key is then used)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = (secrets.token_hex(32) + "\n").encode("ascii")
    tmp = folder / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600)
    try:
        try:
            os.write(fd, text)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system: create it in place
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600)
            except FileExistsError:
                pass
            else:
                try:
                    os.write(fd, text)
                finally:
                    os.close(fd)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return _read_key(path)


def mac(key: bytes, domain: str, address: str, *parts: bytes | memoryview) -> bytes:
    """HMAC-SHA256 of ``parts``, bound to the store (``domain``) and the entry's ``address``:
    an authentic entry moved to another key or store does not verify either."""
    signer = hmac.new(key, f"{domain}\0{address}\0".encode("utf-8", "surrogatepass"), hashlib.sha256)
    for part in parts:
        signer.update(part)
    return signer.digest()


def read_regular(path: str, limit: int = MAX_ENTRY_BYTES) -> bytes:
    """The bytes of the regular file ``path``, never through a symbolic link (``O_NOFOLLOW``)
    and never blocking on a FIFO; OSError for anything else (FileNotFoundError when absent),
    also when it is larger than ``limit``."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        if st.st_size > limit:
            raise OSError(errno.EFBIG, "too large for a cache entry", path)
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read()  # sized by fstat; checked again below (a file that grew)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(errno.EFBIG, "too large for a cache entry", path)
    return data


class FileCache:
    """A folder of pickled per-file results, addressed by key (a hex digest), each entry
    authenticated with ``key`` (default: the user's, :func:`secret_key`)."""

    def __init__(self, folder: Path, *, name: str = "", keep: int | None = None, key: bytes | None = None) -> None:
        self.folder = Path(folder)
        self.entries = self.folder / f"v{FORMAT}{name}"
        self.keep = keep  # at most this many entries (the newest written); None: no limit
        self._entries = str(self.entries)  # entry paths joined as strings: thousands per run
        self.mac_key = key if key is not None else secret_key().key  # what entries are authenticated with
        self._domain = f"coursecheck {self.entries.name}"
        self._header = _MAGIC + __version__.encode() + b"\0"
        self.hits = 0
        self.misses = 0
        # Entries present but not authentic, damaged, foreign or not regular files.
        self.rejected_keys: set[str] = set()
        self.writes_failed = 0
        self.used: set[str] = set()  # keys read or written by this process
        self.opened_ns = time.time_ns()  # entries written since are another run's too: kept
        self._stages: FileCache | None = None
        self._latest: FileCache | None = None
        self._outputs: FileCache | None = None

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
        """The value stored under ``key``; None when absent, not authentic, damaged or foreign
        (the MAC is checked before anything is unpickled)."""
        try:
            data = read_regular(os.path.join(self._entries, key[:2], key[2:]))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            self.misses += 1  # nothing stored there ("" asked for: a folder)
            return None
        except OSError:  # a link, a FIFO, too large, unreadable
            self._reject(key)
            return None
        header = self._header
        start = len(header) + MAC_SIZE
        if len(data) < start or not data.startswith(header):
            self._reject(key)
            return None
        payload = memoryview(data)[start:]
        if not hmac.compare_digest(data[len(header) : start], mac(self.mac_key, self._domain, key, header, payload)):
            self._reject(key)
            return None
        try:
            value = pickle.loads(payload)
        except Exception:  # authentic but unreadable (another Python's classes): recompute
            self._reject(key)
            return None
        self.hits += 1
        self.used.add(key)
        restored_one()
        if self.keep is not None:  # a bounded folder keeps the entries used last
            try:
                os.utime(os.path.join(self._entries, key[:2], key[2:]), follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass
        return value

    def _reject(self, key: str) -> None:
        self.rejected_keys.add(key)
        self.misses += 1

    @property
    def rejected(self) -> int:
        """How many stored entries this store rejected (each counted once)."""
        return len(self.rejected_keys)

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` atomically; failures only mean the next run recomputes."""
        path = self._path(key)
        try:
            value = packed_result(value)
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            header = self._header
            data = header + mac(self.mac_key, self._domain, key, header, payload) + payload
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)  # replaces a link itself, never what it points at
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
        Deletes only regular files named as entries are, never through a link.
        Returns how many entries were deleted."""
        counter = self.entries / ".written"
        try:
            before = int(read_regular(str(counter), 64).decode("ascii"))
        except (OSError, ValueError):
            before = 0
        total = before + written
        if total <= max(SWEEP_AFTER, 2 * files):
            if written:
                _write_quietly(counter, str(total))
            return 0
        keep = self.used | set(used)
        removed = 0
        for folder in _subfolders(self._entries):
            for entry, st in _own_files(folder.path, _ENTRY_NAME):
                if folder.name + entry.name in keep or st.st_mtime_ns >= self.opened_ns:
                    continue
                if _unlink_own(entry.path):
                    removed += 1
        _write_quietly(counter, "0")
        return removed

    def course_stages(self) -> FileCache:
        """Where stored course stages live: beside the per-file entries, the newest
        :data:`COURSE_STAGES_KEPT` only (one is written per state of the course, and a
        5,000-lesson course's is megabytes)."""
        if self._stages is None:
            self._stages = FileCache(self.folder, name="-course", keep=COURSE_STAGES_KEPT, key=self.mac_key)
        return self._stages

    def outputs(self) -> FileCache:
        """Commands' outputs for a state of the course (``coursecheck graph``), the newest
        few: a command on an unchanged course prints them instead of building them again."""
        if self._outputs is None:
            self._outputs = FileCache(self.folder, name="-outputs", keep=COURSE_STAGES_KEPT, key=self.mac_key)
        return self._outputs

    def latest_course_stages(self) -> FileCache:
        """Per course layout (its files, config and rules), the key of the course stage
        stored last: the stage an edit that moved lines can take findings from."""
        if self._latest is None:
            self._latest = FileCache(self.folder, name="-course-latest", keep=COURSE_STAGES_KEPT, key=self.mac_key)
        return self._latest

    def rejections(self) -> dict[str, int]:
        """Entries each store of this folder rejected so far (see :meth:`get`)."""
        out = {"file cache": self.rejected}
        if self._stages is not None:
            out["course stages"] = self._stages.rejected
        if self._latest is not None:
            out["latest course stage pointers"] = self._latest.rejected
        return out

    def _prune(self) -> None:
        entries = []
        for folder in _subfolders(self._entries):
            for entry, st in _own_files(folder.path, _ENTRY_NAME):
                entries.append((st.st_mtime_ns, entry.path))
        assert self.keep is not None
        entries.sort(reverse=True)
        for _mtime, path in entries[self.keep :]:
            _unlink_own(path)


# What the cache names its entries (anything else in its folders is never deleted).
_ENTRY_NAME = re.compile(r"[0-9a-f]{62}")


def _subfolders(path: str) -> list[os.DirEntry[str]]:
    """The two-hex-digit folders of a store: real folders only, never a link to one."""
    try:
        with os.scandir(path) as found:
            return [e for e in found if len(e.name) == 2 and e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _own_files(path: str, name: re.Pattern[str]) -> list[tuple[os.DirEntry[str], os.stat_result]]:
    """Regular files in ``path`` named like ``name`` and owned by this user, with their
    lstat (links, folders, FIFOs and other users' files are left alone)."""
    out = []
    try:
        with os.scandir(path) as found:
            for entry in found:
                if not name.fullmatch(entry.name):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) and _owned(st):
                    out.append((entry, st))
    except OSError:
        pass
    return out


def _owned(st: os.stat_result) -> bool:
    return os.name != "posix" or st.st_uid == os.geteuid()


def _unlink_own(path: str) -> bool:
    """Delete ``path`` if it is (still) a regular file of this user; never follows a link."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or not _owned(st):
            return False
        os.unlink(path)  # unlink never follows the last component
    except OSError:
        return False
    return True


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

    return dataclasses.replace(cast(Any, value), fields=pack_fields(fields))


# Entries restored between two freezes of the collector (see freezing_loaded).
FREEZE_EVERY = 256
_freezing = False
_restored = 0


def restored_one() -> None:
    """Count an entry restored (from a cache entry or the run index): every
    :data:`FREEZE_EVERY` of them, while :func:`freezing_loaded` is on, what is alive is moved
    out of the collector's reach."""
    global _restored
    if _freezing:
        _restored += 1
        if _restored % FREEZE_EVERY == 0:
            gc.freeze()


@contextmanager
def restoring_many() -> Iterator[None]:
    """While one store restores many objects at once (a stored course stage: ~60,000 at 5,000
    lessons), no collection in the middle (they are all alive: a young collection there
    scanned ~50,000 objects, ~15 ms), and what was restored is moved out of the collector's
    reach after it, as :func:`restored_one` does. Only while :func:`freezing_loaded` is on."""
    if not _freezing or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


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


_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# coursecheck's cache; safe to delete.\n"


def open_folder(folder: Path, root: Path | None = None) -> str:
    """Make ``folder`` ready for the cache (created if needed, tagged); "" when the cache
    can live there, else why not (``coursecheck -v`` says it; the run goes on without it).

    Refused: a folder that is, or lies under, a symbolic link below the project ``root``;
    a folder with a symbolic link anywhere in it (a repository may commit one, and a link
    there would make the cache read, write or delete files elsewhere); a folder that cannot
    be created or written. ``CACHEDIR.TAG`` and ``.gitignore`` are created only where no
    file (nor link) is, never rewritten."""
    folder = Path(os.path.abspath(folder))
    linked = _linked_component(folder, root)
    if linked is not None:
        return f"{linked} is a symbolic link; the cache never reads or writes through one: running without the cache"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        st = os.lstat(folder)
    except OSError as exc:
        return f"cannot create the cache folder {folder} ({exc.strerror or exc}): running without the cache"
    if not stat.S_ISDIR(st.st_mode):
        return f"the cache folder {folder} is not a folder: running without the cache"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the cache folder {folder} is not writable: running without the cache"
    link = find_link(folder)
    if link is not None:
        return (
            f"the cache folder {folder} contains a symbolic link ({link}); the cache never reads, writes or "
            "deletes through one: running without the cache (`coursecheck cache clean` removes the folder)"
        )
    if not _create_once(folder / "CACHEDIR.TAG", _TAG):
        return f"cannot write {folder / 'CACHEDIR.TAG'}: running without the cache"
    _create_once(folder / ".gitignore", "*\n")
    return ""


def usable_dir(folder: Path, root: Path | None = None) -> bool:
    """Whether the cache can live in ``folder`` (see :func:`open_folder`)."""
    return open_folder(folder, root) == ""


def _linked_component(folder: Path, root: Path | None) -> Path | None:
    """The first symbolic link among ``folder`` and its parents below ``root`` (only
    ``folder`` itself when it is not under ``root``: the user chose where it is)."""
    candidates = [folder]
    if root is not None:
        base = Path(os.path.abspath(root))
        if base in folder.parents:
            parent = folder.parent
            while parent != base:
                candidates.append(parent)
                parent = parent.parent
    for path in reversed(candidates):
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return path
        except OSError:
            continue  # not there (yet): created below, as a folder
    return None


def find_link(folder: Path) -> str | None:
    """The first symbolic link found in ``folder``'s tree (relative to it), or None. Folders
    are listed, never followed (a walk of 5,000 entries takes a few milliseconds)."""
    pending = [str(folder)]
    base = len(str(folder)) + 1
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as found:
                for entry in found:
                    if entry.is_symlink():
                        return entry.path[base:]
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        except OSError:
            continue
    return None


def _create_once(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` unless something (a file, a link) is already there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o644)
    except FileExistsError:
        return True
    except OSError:
        return False
    try:
        os.write(fd, text.encode("utf-8"))
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def clean(folder: Path) -> bool:
    """Remove the cache folder; True if there was one. Refuses folders that are not caches
    and a folder that is a symbolic link; links inside are removed, never followed."""
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        raise OSError(f"{folder} is a symbolic link, not a cache folder; not removed (nor what it points at)")
    if not stat.S_ISDIR(st.st_mode):
        return False
    try:
        tag = os.lstat(folder / "CACHEDIR.TAG")
    except OSError:
        tag = None
    if tag is None or not stat.S_ISREG(tag.st_mode):
        raise OSError(f"{folder} does not look like a coursecheck cache (no CACHEDIR.TAG); not removed")
    if not shutil.rmtree.avoids_symlink_attacks and find_link(folder) is not None:
        # This platform's rmtree could be raced into following a link: refuse instead.
        raise OSError(f"{folder} contains a symbolic link; remove the folder by hand")
    shutil.rmtree(folder)
    return True
