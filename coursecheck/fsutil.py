"""Reading and writing files safely: never a run blocked on a named pipe, never a
half-written report or lesson, never a path the repository chose that leads outside it.

A repository's content is untrusted (a pull request from a fork, a contributor's branch):
its symbolic links may point anywhere. Every path coursecheck reads or writes on the
repository's behalf goes through :func:`contained`, which resolves it and refuses one that
leaves the project root, or that leads into the repository's version-control folder
(``.git/config`` is where CI checkouts keep the job's token). Links that stay inside the
root keep working.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

# Folders whose content is never course material and may hold credentials.
PRIVATE_DIRS = frozenset({".git", ".hg", ".svn"})
# Folders a survey of the repository (coursecheck init, the spelling seed) does not walk.
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".astro", ".next", ".cache"}
# Temporary files of atomic_write_bytes: ".NAME.coursecheck-PID-XXXXXXXX.tmp" beside NAME.
_TEMP = re.compile(r"^\.(?P<name>.+)\.coursecheck-(?P<pid>\d+)-[a-z0-9_]{8}\.tmp$")
_TEMP_MARK = ".coursecheck-"


class OutsideRoot(OSError):
    """A path that leaves the project root or leads into its ``.git`` folder.

    ``link`` is the symbolic link that leads there (POSIX path relative to the root; "" when
    the path is written outside the root or into ``.git`` without a link), ``target`` what the
    link says (its own text, which the repository wrote: nothing of the file system is shown).
    """

    def __init__(self, relpath: str, link: str, target: str, private: bool) -> None:
        self.relpath = relpath
        self.link = link
        self.target = target
        self.private = private
        super().__init__(errno.EACCES, self.describe(), relpath)

    def describe(self, relative_to: str | None = None) -> str:
        """The reason, for a message about ``relative_to`` (default: the path asked for)."""
        private = ".git (version-control data, which may hold credentials)"
        if not self.link:
            where = f"inside {private}" if self.private else "outside the project root"
            return f"{shown(self.relpath)} is {where}; not read"
        where = f"into {private}" if self.private else "outside the project root"
        about = self.relpath if relative_to is None else relative_to
        head = "is a symbolic link" if self.link == about else f"{shown(self.link)} is a symbolic link"
        tail = "" if self.link == about else f"; {shown(about)} was not read"
        return f"{head} to '{shown(self.target)}', leading {where}; not followed{tail}"

    def __str__(self) -> str:
        return self.describe()


class LinkRefused(OSError):
    """A write to a path that is a symbolic link, where links are not written through."""


def shown(text: str) -> str:
    """``text`` (a path, a link target) safe to print: bytes a file name holds that are not
    UTF-8 (surrogate-escaped by the OS layer) and control characters as ``\\x..`` escapes."""
    if text.isprintable() and text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = os.fsencode(text).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def encodable(name: str) -> bool:
    """Whether a file name is valid UTF-8 (names that are not arrive surrogate-escaped)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def real_root(root: str) -> str:
    """The project root (an absolute path) with its own links resolved (a checkout under
    /tmp -> /private/tmp)."""
    return _real_root(os.path.abspath(root))


@functools.lru_cache(maxsize=64)
def _real_root(root: str) -> str:
    return os.path.realpath(root)


def _inside(root_real: str, real: str) -> bool:
    if real == root_real:
        return True
    prefix = root_real if root_real.endswith(os.sep) else root_real + os.sep
    return real.startswith(prefix)


def _private(root_real: str, real: str) -> bool:
    rel = real[len(root_real) :]
    return any(part in PRIVATE_DIRS for part in rel.split(os.sep))


def is_inside(root: Path | str, path: Path | str) -> bool:
    """Whether ``path``, links resolved, is inside ``root`` (links resolved too)."""
    return _inside(real_root(str(root)), os.path.realpath(os.path.abspath(path)))


def lexically_inside(root: Path | str, path: Path | str) -> bool:
    """Whether ``path`` as written (absolute, or relative to ``root``; ``..`` taken as written,
    links on the way not resolved) names a place inside ``root`` (as written, or with its
    own links resolved: /tmp/x and /private/tmp/x are the same root)."""
    absolute = os.path.normpath(os.path.join(os.path.abspath(root), path))
    return _inside(os.path.normpath(os.path.abspath(root)), absolute) or _inside(real_root(str(root)), absolute)


def outside_problem(root: Path | str, written: str) -> str | None:
    """Why a path written in the config (relative to ``root``) is refused, or None: an
    absolute path, '..' that leaves the root, a path into .git. (A link on the way that
    leads out is the repository's doing, not the config's: reading refuses it.)"""
    p = written.strip().replace("\\", "/")
    if p.startswith("/") or re.match(r"^[A-Za-z]:/", p):
        return f"'{shown(written)}' is an absolute path; write it relative to the project root (it must stay inside it)"
    if not lexically_inside(root, p):
        return f"'{shown(written)}' leads outside the project root; only files inside it are read"
    if any(part in PRIVATE_DIRS for part in os.path.normpath(p).split(os.sep)):
        return f"'{shown(written)}' is inside .git (version-control data, which may hold credentials); not read"
    return None


def contained(root: Path | str, path: Path | str, *, parents_checked: bool = False) -> str:
    """The real path of ``path`` (absolute, or relative to ``root``) if it stays inside
    ``root`` and out of its ``.git`` folder; raises :class:`OutsideRoot` naming the link that
    leads out otherwise. A path that does not exist is resolved as far as it goes (a dangling
    link that points outside is refused too).

    ``parents_checked``: the folders on the way are known to be real folders inside the root
    (a file found by walking a checked folder without following links); only the file
    itself is looked at, one ``lstat`` instead of one per component.
    """
    root = os.path.abspath(root)
    joined = os.path.join(root, str(path))
    if parents_checked:
        try:
            if not stat.S_ISLNK(os.lstat(joined).st_mode):
                return joined
        except OSError:
            return joined  # missing: the caller's open says so
    root_real = real_root(root)
    real = os.path.realpath(joined)
    if _inside(root_real, real) and not _private(root_real, real):
        return real
    raise _why_outside(root, joined, root_real)


def _why_outside(root: str, joined: str, root_real: str) -> OutsideRoot:
    absolute_root = os.path.normpath(os.path.abspath(root))
    lexical = os.path.normpath(os.path.abspath(joined))
    if not _inside(absolute_root, lexical):
        return OutsideRoot(Path(lexical).as_posix(), "", "", False)
    rel = os.path.relpath(lexical, absolute_root)
    relpath = Path(rel).as_posix()
    parts = rel.split(os.sep)
    for i in range(len(parts)):
        prefix = os.path.join(absolute_root, *parts[: i + 1])
        if parts[i] in PRIVATE_DIRS and not os.path.islink(prefix):
            return OutsideRoot(relpath, "", "", True)
        if os.path.islink(prefix):
            real = os.path.realpath(prefix)
            if not _inside(root_real, real) or _private(root_real, real):
                try:
                    target = os.readlink(prefix)
                except OSError:
                    target = "?"
                return OutsideRoot(relpath, "/".join(parts[: i + 1]), target, _inside(root_real, real))
    # Only '..' after a link leads out (the kernel takes '..' from the link's target).
    return OutsideRoot(relpath, relpath, _readlink(joined), False)


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def read_regular_bytes(path: Path | str) -> bytes:
    """The bytes of a regular file (symbolic links followed); OSError for anything else:
    reading a named pipe (FIFO) blocks until something writes to it."""
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a FIFO, socket or device)", str(path))
    with open(path, "rb") as handle:
        return handle.read()


def read_inside(root: Path | str, path: Path | str, *, parents_checked: bool = False) -> bytes:
    """The bytes of a regular file the repository names, if it is inside ``root``
    (:func:`contained`; raises :class:`OutsideRoot`, or OSError as a read does)."""
    return read_regular_bytes(contained(root, path, parents_checked=parents_checked))


# -- writing -------------------------------------------------------------------------------


def atomic_write(
    path: Path, text: str, *, newline: str | None = None, root: Path | None = None, links: str = "follow"
) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    An interrupted write leaves the old file intact; the file mode of an existing file is
    kept. ``root`` and ``links``: see :func:`atomic_write_bytes`. Text that holds a lone
    surrogate (a file name that is not UTF-8) is written with it escaped, never a crash.
    """
    translated = text if newline == "" else _translate(text, newline)
    atomic_write_bytes(path, translated.encode("utf-8", "backslashreplace"), root=root, links=links)


def _translate(text: str, newline: str | None) -> str:
    # What open(..., newline=newline) does when writing: None means the platform's separator.
    separator = os.linesep if newline is None else newline
    return text if separator == "\n" else text.replace("\n", separator)


def write_target(path: Path, root: Path | None = None, links: str = "follow") -> Path:
    """Where a write to ``path`` lands (see :func:`atomic_write_bytes`); raises OutsideRoot or
    LinkRefused when it must not happen."""
    path = Path(path)
    if links == "refuse" and path.is_symlink():
        raise LinkRefused(errno.EPERM, "is a symbolic link; not written through", str(path))
    absolute = os.path.abspath(path)  # a path given on the command line: relative to the working folder
    if root is not None and lexically_inside(root, absolute):
        # The repository chose what is at this path: its links may only lead inside it (and
        # not into .git: a link to .git/hooks/pre-commit would make a report run as code).
        try:
            return Path(contained(root, absolute))
        except OutsideRoot as exc:
            if exc.link or not exc.private:
                raise
            return Path(absolute)  # .git/... as the user typed it, no link on the way
    if path.is_symlink():  # a path the user named outside the project: as they set it up
        return path.resolve()
    return path


def atomic_write_bytes(
    path: Path,
    data: bytes | memoryview | list[bytes | memoryview],
    *,
    root: Path | None = None,
    links: str = "follow",
) -> None:
    """Write ``data`` (or its pieces, one after another) to ``path`` atomically (temporary
    file in the same folder, fsync, rename).

    The file mode of an existing file is kept. A symbolic link is followed, so the file it
    points at is replaced and the link stays a link, except:

    * with ``root`` (the project root), a path inside it may only lead to a place inside it:
      a link that leaves the root or leads into ``.git`` raises :class:`OutsideRoot` and
      nothing is written (a repository may commit ``report.md -> ~/.bashrc``);
    * with ``links="refuse"``, a path that is a link raises :class:`LinkRefused` (``--fix``
      never writes through a link).

    The temporary file is named ``.NAME.coursecheck-PID-XXXXXXXX.tmp``: one a killed run
    leaves behind is recognised and removed by the next run (:func:`remove_leftover_temps`).
    """
    path = write_target(Path(path), root, links)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:  # a new file gets the mode open() would give it, not mkstemp's 0600
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{_TEMP_MARK}{os.getpid()}-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in data if isinstance(data, list) else [data]:  # pieces: written one after another
                handle.write(part)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is how :func:`atomic_write_bytes` names its temporary files."""
    return name.endswith(".tmp") and _TEMP_MARK in name and _TEMP.match(name) is not None


def remove_leftover_temps(folder: str, names: Iterable[str]) -> list[str]:
    """Remove the temporary files of writes that were killed (``kill -9``, a power cut) from
    ``folder``: files named as :func:`atomic_write_bytes` names them, beside the file they
    were to replace, owned by this user, regular files (not links), whose writer process is
    gone. Nothing else is touched. Returns the names removed."""
    removed = []
    for name in names:
        m = _TEMP.match(name) if name.endswith(".tmp") and _TEMP_MARK in name else None
        if m is None:
            continue
        pid = int(m.group("pid"))
        path = os.path.join(folder, name)
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or _alive(pid):
                continue
            if not os.path.lexists(os.path.join(folder, m.group("name"))):
                continue  # not beside the file it was to replace: not ours to judge
            os.unlink(path)
        except OSError:
            continue  # a read-only tree, or gone already
        removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or not ours to signal): leave its file
    return True


@contextmanager
def terminate_cleanly() -> Iterator[None]:
    """While writing user files: SIGTERM (a CI job cancelled, ``timeout``) ends the process
    through SystemExit, so the write in progress removes its temporary file (SIGKILL cannot
    be caught: :func:`remove_leftover_temps` cleans up after it on the next run)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, _exit)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
