"""Discovery: the course's files, found by the ``[course]`` globs inside the root.

Every folder on the way is checked (links that leave the root or lead into .git are reported,
not followed); names that are not UTF-8 are reported, not returned.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from coursecheck.config import ALWAYS_EXCLUDED, Config
from coursecheck.fsutil import OutsideRoot, contained, encodable, is_temp_name, remove_leftover_temps, shown
from coursecheck.globs import compile_glob, literal_base, matches
from coursecheck.model import Finding
from coursecheck.text import Span

_NATURAL = re.compile(r"(\d+)")
OUTSIDE_ROOT = "parse/outside-root"
FILE_NAME = "parse/file-name"


def discover(
    config: Config, listings: dict[str, Any] | None = None
) -> tuple[list[tuple[str, str]], list[Finding], dict[str, list[str]]]:
    """``(relpath, role)`` for every file of the course, role lesson | data | other (partials);
    the problems met; the temporary files of killed writes seen (folder -> names).
    ``listings``, when given, receives each folder walked with the names it held (folders,
    files; None for a folder that could not be read): what a whole-run replay checks
    (coursecheck.replay).

    Every path returned has its folders checked: real folders inside the root, reached
    without following a link that leaves it (see :func:`_walk`); the file itself may be
    a link, which reading checks (:meth:`Reader.read`). A file whose name is not UTF-8 is not
    returned but reported (``parse/file-name``): its name could not be written into a
    report, a fingerprint or a cache key."""
    root = config.root
    course = config.course
    exclude = [*ALWAYS_EXCLUDED, *course.exclude]
    found: dict[str, str] = {}
    problems: list[Finding] = []
    badly_named: set[str] = set()
    walk = _Walk(root, problems, listings)
    # Partials first: a partial inside a content folder is not a lesson.
    for role, patterns in (("other", course.partials), ("lesson", course.content), ("data", course.data)):
        for pattern in patterns:
            rx = compile_glob(pattern)
            for rel in walk.files(literal_base(pattern)):
                if rx.match(rel) and not matches(rel, exclude) and rel not in found:
                    if encodable(rel):
                        found[rel] = role
                    elif rel not in badly_named:
                        badly_named.add(rel)
                        problems.append(_file_name_problem(rel))
    return sorted(found.items(), key=lambda item: _natural_key(item[0])), problems, walk.leftovers


def remove_leftovers(leftovers: dict[str, list[str]], root: Path) -> list[str]:
    """Remove the temporary files a killed ``--fix`` left beside the course's files
    (coursecheck.fsutil.remove_leftover_temps: nothing else is touched); their paths, shown."""
    removed: list[str] = []
    for folder, names in leftovers.items():
        for name in remove_leftover_temps(folder, names):
            rel = os.path.relpath(os.path.join(folder, name), root)
            removed.append(shown(Path(rel).as_posix()))
    return removed


@lru_cache(maxsize=1 << 16)  # each path is sorted twice a run (discovery, lesson order)
def _natural_key(path: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in _NATURAL.split(path))


def _relpath(path: Path, root: Path) -> str | None:
    try:
        rel = os.path.relpath(path.resolve(), root.resolve())
    except ValueError:
        return None
    if rel == ".." or rel.startswith(".." + os.sep):
        return None
    return Path(rel).as_posix()


class _Walk:
    """Listing the files under the literal parts of the course's globs.

    The literal part of a glob (``content/course`` of ``content/course/**/*.mdx``) is the
    repository's: a link there that leaves the root or leads into .git is reported
    (``parse/outside-root``) and not followed. Below it, links to folders are not followed
    (no symlink loops, no way out); files that are links are checked when read. Unreadable
    folders are reported. Temporary files of killed writes are noted (``leftovers``)."""

    def __init__(self, root: Path, problems: list[Finding], listings: dict[str, Any] | None = None) -> None:
        self.root = root
        self.problems = problems
        self.listings = listings
        self.leftovers: dict[str, list[str]] = {}
        self._refused: set[str] = set()

    def files(self, base_rel: str) -> Iterable[str]:
        root = self.root
        base = root / base_rel if base_rel else root
        try:
            contained(root, base_rel or ".")
        except OutsideRoot as exc:
            where = exc.link or base_rel
            if where not in self._refused and os.path.lexists(base):
                self._refused.add(where)
                self.problems.append(Finding(OUTSIDE_ROOT, exc.describe(where), where, Span.point(1, 1)))
            return
        if base_rel and os.path.isfile(base):
            folder, name = os.path.split(str(base))
            self._note_leftovers(folder, [n for n in _listdir(folder) if n.startswith(f".{name}.")])
            yield Path(base_rel).as_posix()
            return
        if not base.is_dir():
            return
        yield from self._walk(base)

    def _walk(self, base: Path) -> Iterable[str]:
        root = self.root

        def onerror(exc: OSError) -> None:
            if self.listings is not None:
                self.listings[str(exc.filename)] = None
            rel = _relpath(Path(exc.filename), root) if exc.filename else None
            self.problems.append(
                Finding(
                    "parse/unreadable",
                    f"cannot read folder: {exc.strerror or exc}",
                    shown(rel or str(exc.filename)),
                    Span.point(1, 1),
                    level="warning",
                )
            )

        root_str = str(root)
        for folder, dirnames, filenames in os.walk(base, onerror=onerror):
            if self.listings is not None:
                self.listings[folder] = (tuple(dirnames), tuple(filenames))
            dirnames[:] = sorted(d for d in dirnames if d not in (".git", "node_modules", "__pycache__", ".venv"))
            rel_folder = os.path.relpath(folder, root_str)
            prefix = "" if rel_folder == "." else Path(rel_folder).as_posix() + "/"
            self._note_leftovers(folder, filenames)
            for name in sorted(filenames):
                yield prefix + name

    def _note_leftovers(self, folder: str, names: Iterable[str]) -> None:
        found = [name for name in names if is_temp_name(name)]
        if found:
            known = self.leftovers.setdefault(folder, [])
            known.extend(name for name in found if name not in known)


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _file_name_problem(rel: str) -> Finding:
    """A file whose name is not UTF-8: reported by its escaped name, not checked."""
    name = shown(rel)
    return Finding(
        FILE_NAME,
        "the file name is not valid UTF-8 (shown with its bad bytes as \\xNN); not checked: rename it",
        name,
        Span.point(1, 1),
    )


