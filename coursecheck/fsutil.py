"""Writing files safely: never a half-written report or lesson."""

from __future__ import annotations

import os
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
