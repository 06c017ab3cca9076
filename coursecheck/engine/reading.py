"""Reading, parsing and identity: a file's bytes (contained in the root, bounded), its
Document from the parser plugins, its lesson id and aliases, its place in the course order.
"""

from __future__ import annotations

import os
import stat
import traceback
from pathlib import Path
from typing import Any

import pluggy

from coursecheck.config import Config, expand_template
from coursecheck.engine.discovery import OUTSIDE_ROOT, _natural_key
from coursecheck.fsutil import OutsideRoot, contained
from coursecheck.globs import compile_glob, literal_base
from coursecheck.model import Document, Finding
from coursecheck.plugins import Notification, plugin_name
from coursecheck.shard import file_digest
from coursecheck.text import DecodeError, LineIndex, Span, decode_source, normalize_newlines

MAX_FILE_BYTES = 8 * 1024 * 1024


class Reader:
    """Reads and parses the course's files for the stages; what goes wrong is a Document
    carrying the problem, and a notification in ``notes`` (the run's)."""

    def __init__(self, config: Config, pm: pluggy.PluginManager, notes: list[Notification]) -> None:
        self.config = config
        self.pm = pm
        self.notes = notes

    def load(self, path: Path, rel: str) -> Document | None:
        raw, problem_doc = self.read(path, rel)
        return problem_doc if raw is None else self.parse(path, rel, raw)

    def read(self, path: Path, rel: str) -> tuple[bytes | None, Document | None]:
        """The file's bytes, or a document carrying the reason it cannot be read.

        ``rel`` comes from discovery, whose folders are checked: only the file itself may be
        a link, and one that leaves the root or leads into .git is reported, never read."""
        try:
            real = contained(self.config.root, rel, parents_checked=True)
        except OutsideRoot as exc:
            return None, _problem_doc(path, rel, OUTSIDE_ROOT, exc.describe(rel))
        try:
            st = os.stat(real)
            if not stat.S_ISREG(st.st_mode):  # reading a FIFO would block the run
                return None, _problem_doc(
                    path, rel, "parse/unreadable", "not a regular file (a FIFO, socket or device); not checked"
                )
            size = st.st_size
            if size > MAX_FILE_BYTES:
                return None, _problem_doc(
                    path,
                    rel,
                    "parse/unreadable",
                    f"file is {size / 1048576:.1f} MiB, over the {MAX_FILE_BYTES // 1048576} MiB limit; not checked",
                )
            return Path(real).read_bytes(), None
        except OSError as exc:
            self.notes.append(Notification(f"{rel}: cannot read: {exc.strerror or exc}", path=rel))
            return None, _problem_doc(path, rel, "parse/unreadable", f"cannot read file: {exc.strerror or exc}")

    def parse(self, path: Path, rel: str, raw: bytes) -> Document | None:
        kind = _kind_of(rel)
        if b"\x00" in raw:
            return _problem_doc(path, rel, "parse/encoding", "file contains NUL bytes (binary?); not checked")
        try:
            text, has_bom = decode_source(raw)
        except DecodeError as exc:
            return _problem_doc(path, rel, "parse/encoding", str(exc), exc.line, exc.column)
        text = normalize_newlines(text)
        for name, impl in self.parse_impls():
            try:
                doc = impl.function(
                    **{
                        a: v
                        for a, v in dict(path=path, relpath=rel, text=text, kind=kind, has_bom=has_bom).items()
                        if a in impl.argnames
                    }
                )
            except Exception as exc:
                message = f"plugin '{name}' failed to parse {rel}: {type(exc).__name__}: {exc}"
                self.notes.append(Notification(message, name, "", rel, traceback.format_exc(limit=6)))
                return _problem_doc(path, rel, "core/internal-error", message)
            if doc is None:
                continue
            if not isinstance(doc, Document):
                self.notes.append(
                    Notification(f"plugin '{name}' returned {type(doc).__name__} from coursecheck_parse", name)
                )
                continue
            return doc
        return _problem_doc(path, rel, "core/internal-error", f"no parser accepted {rel} (kind {kind})")

    def parse_impls(self) -> list[tuple[str, Any]]:
        impls = self.pm.hook.coursecheck_parse.get_hookimpls()
        return [(plugin_name(self.pm, i.plugin), i) for i in reversed(impls)]

    def identify(self, doc: Document) -> None:
        course = self.config.course
        inside = doc.relpath
        for pattern in course.content:
            if compile_glob(pattern).match(doc.relpath):
                base = literal_base(pattern)
                if base and doc.relpath.startswith(base + "/"):
                    inside = doc.relpath[len(base) + 1 :]
                break
        doc.lesson_id = expand_template(course.id, inside)
        doc.aliases = [a for a in (expand_template(t, inside) for t in course.aliases) if a != doc.lesson_id]

    def order_key(self, doc: Document) -> tuple[Any, ...]:
        if self.config.course.order == "frontmatter":
            value = doc.frontmatter.data.get(self.config.course.order_field) if doc.frontmatter else None
            number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else float("inf")
            folder = doc.relpath.rsplit("/", 1)[0] if "/" in doc.relpath else ""
            return (_natural_key(folder), number, _natural_key(doc.relpath))
        return (_natural_key(doc.relpath),)


def _problem_doc(path: Path, rel: str, rule_id: str, message: str, line: int = 1, column: int = 1) -> Document:
    doc = Document(path, rel, "text", "", LineIndex(""))
    doc.problems.append(Finding(rule_id, message, rel, Span.point(line, column)))
    return doc


def _raw_bytes(root: str, path: str) -> bytes | None:
    """A file's bytes for its cache key, None when it cannot be read, is too big or leads
    outside the root (the per-file stage then reports why). Plain strings: 5,000 pathlib
    joins cost ~0.1 s. ``path`` is a discovered file (its folders are checked)."""
    try:
        path = contained(root, path, parents_checked=True)
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None  # a FIFO would block the read
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _digest_of(root: Path, rel: str) -> str:
    """What a shard saw of a discovered file, to tell the merge it is the same file ('' unreadable)."""
    try:
        path = contained(root, rel, parents_checked=True)
    except OutsideRoot:
        return "outside the project root"
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if st.st_size > MAX_FILE_BYTES:
            return "too big"
        with open(path, "rb") as handle:
            return file_digest(handle.read())
    except OSError:
        return ""


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size  # a link is not followed: it may lead outside the root
    except OSError:
        return 0


def _kind_of(rel: str) -> str:
    lower = rel.lower()
    if lower.endswith(".mdx"):
        return "mdx"
    if lower.endswith((".md", ".markdown")):
        return "markdown"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    return "text"

