"""Reading and writing files safely: never a run blocked on a named pipe, never a
half-written report or lesson."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: Path, text: str, *, newline: str | None = None) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    An interrupted write leaves the old file intact; the file mode of an existing file is kept.
    """
    atomic_write_bytes(path, text.encode("utf-8") if newline == "" else _translate(text, newline).encode("utf-8"))


def _translate(text: str, newline: str | None) -> str:
    # What open(..., newline=newline) does when writing: None means the platform's separator.
    separator = os.linesep if newline is None else newline
    return text if separator == "\n" else text.replace("\n", separator)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, rename).

    The file mode of an existing file is kept; a symbolic link is followed, so the file it
    points at is replaced and the link stays a link.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:  # a new file gets the mode open() would give it, not mkstemp's 0600
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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
