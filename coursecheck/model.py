"""The document model shared by every rule, and the findings rules produce.

A :class:`Document` is made once per file by a parser plugin; rules only read it. Every
piece of content keeps where it came from, so a finding can point at the original file.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from coursecheck.text import LineIndex, Span, snippet_window

LEVELS = ("error", "warning", "note")
LEVEL_RANK = {"note": 1, "warning": 2, "error": 3}

# Scopes a segment of text can belong to. "prose" is paragraph, list, quote and table text
# (link text included); the others are what their names say. Rules pick the scopes they read.
SCOPES = ("prose", "heading", "code", "inline_code", "frontmatter", "prop", "data")


def _reduce_by_fields(self: Any) -> tuple[type, tuple[Any, ...]]:
    """Pickle a slotted dataclass as its constructor arguments: restoring one is then a plain
    call, several times faster than the default (the cache restores many headings, spans...)."""
    cls = type(self)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls) if f.init)
    return cls, tuple(getattr(self, name) for name in names)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(slots=True)
class Segment:
    """A piece of text of one scope, mapped back to source offsets.

    ``text`` is what the reader sees (markup removed); ``anchors`` is a sorted list of
    ``(text_index, source_offset)``: from each anchor on, text and source advance together.
    """

    __reduce__ = _reduce_by_fields

    scope: str
    text: str
    anchors: list[tuple[int, int]]
    info: str = ""  # code language, "Component.prop", heading level...

    def offset(self, index: int) -> int:
        """Source offset of ``text[index]`` (``index == len(text)`` maps past the last char)."""
        if index >= len(self.text) and self.text:
            return self.offset(len(self.text) - 1) + 1
        i = bisect.bisect_right(self.anchors, index, key=_anchor_key) - 1
        text_index, source = self.anchors[max(i, 0)]
        return source + index - text_index

    def range(self, start: int, end: int) -> tuple[int, int]:
        """Source offsets of ``text[start:end]``."""
        if end <= start:
            first = self.offset(start)
            return first, first
        return self.offset(start), self.offset(end - 1) + 1


def _anchor_key(anchor: tuple[int, int]) -> int:
    return anchor[0]


@dataclass(slots=True)
class Heading:
    __reduce__ = _reduce_by_fields
    level: int
    text: str
    span: Span
    offset: int


@dataclass(slots=True)
class Link:
    __reduce__ = _reduce_by_fields
    href: str
    text: str
    span: Span  # the whole link (or the JSX attribute)
    href_span: Span  # where the destination is written (a reference link's: in its definition)
    origin: str = "markdown"  # markdown | jsx | html
    # inline ``[t](url)`` | reference ``[t][label]``, ``[label]`` (``href`` resolved from the
    # definition; ``span`` at the place of use) | autolink ``<url>`` | prop (a JSX attribute)
    form: str = "inline"


@dataclass(slots=True)
class Prop:
    """A JSX attribute. ``segment`` holds a string or template-literal value with positions."""

    __reduce__ = _reduce_by_fields

    name: str
    value: str | None
    kind: str  # string | template | expression | boolean
    span: Span
    segment: Segment | None = None


@dataclass(slots=True)
class Component:
    __reduce__ = _reduce_by_fields
    name: str
    span: Span  # the opening tag
    props: dict[str, Prop] = field(default_factory=dict)


@dataclass(slots=True)
class CodeBlock:
    language: str
    segment: Segment  # the content, without fences
    span: Span  # opening fence to closing fence


@dataclass(slots=True)
class Comment:
    """A Markdown ``<!-- -->`` or MDX ``{/* */}`` comment (used for suppressions)."""

    __reduce__ = _reduce_by_fields

    text: str
    span: Span


@dataclass(slots=True)
class Frontmatter:
    __reduce__ = _reduce_by_fields
    data: dict[str, Any]
    span: Span  # from the opening to the closing delimiter
    # Where each key, value and list item is: ("prerequisites",) is the value of a key,
    # ("prerequisites", 0) its first item, ("prerequisites", "#key") the key itself.
    places: dict[tuple[Any, ...], Span] = field(default_factory=dict)

    def place(self, *path: Any) -> Span:
        """The most precise span known for ``path``, falling back to its parents."""
        while path:
            if path in self.places:
                return self.places[path]
            path = path[:-1]
        return self.span


@dataclass(slots=True)
class Edit:
    span: Span
    replacement: str


@dataclass(slots=True)
class Fix:
    description: str
    edits: list[Edit]
    safe: bool = True


@dataclass(slots=True)
class Suppression:
    kind: str  # inline | baseline
    justification: str = ""


@dataclass(slots=True)
class Finding:
    rule_id: str
    message: str
    path: str  # POSIX path relative to the project root
    span: Span
    level: str = ""  # "" until the engine applies the configured level
    fix: Fix | None = None
    snippet: str = ""  # the source line (a window of a long one), for context and fingerprints
    fingerprint: str = ""
    suppression: Suppression | None = None
    related: list[tuple[str, Span, str]] = field(default_factory=list)
    plugin: str = ""
    # Text identifying the finding independently of its line (a matched word, a key);
    # fingerprints use it so a finding keeps its identity when lines shift.
    anchor: str = ""
    # Where the snippet is in its line: the 1-based column of its first character, and whether
    # the line goes on after it (a long line's snippet is a window around the finding).
    snippet_column: int = 1
    snippet_cut: bool = False

    def sort_key(self) -> tuple[Any, ...]:
        return (self.path, self.span.line, self.span.column, self.rule_id, self.message)

    def set_snippet(self, snippet: str | tuple[str, int, bool]) -> Finding:
        """Set the snippet from the text of the span's first line (cut to a window around the
        finding when the line is long: :func:`coursecheck.text.snippet_window`), or from a
        window already cut, ``(text, column, cut)``. Returns the finding."""
        if isinstance(snippet, str):
            snippet = snippet_window(snippet, self.span)
        self.snippet, self.snippet_column, self.snippet_cut = snippet
        return self

    def __reduce__(self) -> tuple[type[Finding], tuple[Any, ...]]:
        # Pickled as constructor arguments (fast to restore from the cache and from workers).
        return Finding, (
            self.rule_id,
            self.message,
            self.path,
            self.span,
            self.level,
            self.fix,
            self.snippet,
            self.fingerprint,
            self.suppression,
            self.related,
            self.plugin,
            self.anchor,
            self.snippet_column,
            self.snippet_cut,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "level": self.level,
            "message": self.message,
            "path": self.path,
            **self.span.as_dict(),
            "fingerprint": self.fingerprint,
            "suppressed": self.suppression is not None,
            "suppression": None
            if self.suppression is None
            else {"kind": self.suppression.kind, "justification": self.suppression.justification},
            "fix": None
            if self.fix is None
            else {
                "description": self.fix.description,
                "edits": [{**e.span.as_dict(), "replacement": e.replacement} for e in self.fix.edits],
            },
            "related": [{"path": p, **s.as_dict(), "message": m} for p, s, m in self.related],
        }


@dataclass(slots=True)
class Document:
    """One parsed file. Offsets index ``source`` (LF-normalised, BOM removed)."""

    path: Path
    relpath: str
    kind: str  # markdown | mdx | json | yaml | text
    source: str
    lines: LineIndex
    frontmatter: Frontmatter | None = None
    headings: list[Heading] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    code_blocks: list[CodeBlock] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    images: list[Link] = field(default_factory=list)  # kept apart from links: ``href`` is the source
    components: list[Component] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    data: Any = None  # parsed JSON/YAML for data files
    data_places: dict[tuple[Any, ...], Span] | None = None  # see coursecheck.parse.data
    problems: list[Finding] = field(default_factory=list)  # parse problems, as findings
    has_bom: bool = False
    # Set by the engine: lesson | data | other; for lessons, canonical id, aliases and
    # position in course order.
    role: str = "other"
    lesson_id: str | None = None
    aliases: list[str] = field(default_factory=list)
    order_index: int | None = None

    @property
    def is_lesson(self) -> bool:
        return self.lesson_id is not None

    @property
    def line_count(self) -> int:
        """Lines as ``wc -l`` counts them: a final line without a newline still counts."""
        if not self.source:
            return 0
        return self.source.count("\n") + (0 if self.source.endswith("\n") else 1)

    def span(self, start: int, end: int | None = None) -> Span:
        return self.lines.span(start, end)

    def iter_segments(self, scopes: tuple[str, ...] | frozenset[str] | None = None) -> Iterator[Segment]:
        for seg in self.segments:
            if scopes is None or seg.scope in scopes:
                yield seg

    def components_named(self, name: str) -> list[Component]:
        return [c for c in self.components if c.name == name]


VERIFIED, FAILED, NEEDS_HUMAN = "VERIFIED", "FAILED", "NEEDS HUMAN"


@dataclass(slots=True)
class Verdict:
    """The outcome of one must-have (truth, artifact, key link, requirement, human check).

    ``evidence`` is a sentence made from measurements ("38 occurrences across 4 lessons;
    most in 01-x.mdx (19)"); ``measures`` keeps the numbers behind it for reports.
    """

    kind: str  # truth | artifact | key-link | requirement | human-check
    id: str
    text: str  # what must hold (truth text, artifact "provides", link "via"...)
    status: str  # VERIFIED | FAILED | NEEDS HUMAN
    evidence: str
    measures: dict[str, Any] = field(default_factory=dict)
    locations: list[tuple[str, Span]] = field(default_factory=list)
    # Where it was declared (config or plan file relative to the root, line), the subject as
    # written there (``path``, ``from``/``to``, ``id``, ``text``), and the phase it belongs to.
    declared: tuple[str, int] | None = None
    subject: dict[str, Any] = field(default_factory=dict)
    phase: str = ""


@dataclass(slots=True)
class Phase:
    """A phase of a planned project (a GSD ``.planning/phases/<id>/`` folder), as a plugin
    declares it (``coursecheck_phases``): what a phase-scoped report is about. Must-haves
    belong to it through their ``phase`` key."""

    id: str  # the phase folder's name: "07-module-3-production-operations"
    number: str = ""  # "7"
    name: str = ""  # "Module 3 - Production Operations"
    title: str = ""  # "Phase 7: Module 3 - Production Operations"
    goal: str = ""
    goal_source: str = ""  # where the goal was read: "ROADMAP.md", "the plans' objectives"
    scope: list[str] = field(default_factory=list)  # paths, folders, globs the phase's plans name
    plans: list[str] = field(default_factory=list)  # plan files, relative to the working folder
    folder: str = ""  # the phase's folder, relative to the working folder
    requirements: list[str] = field(default_factory=list)
    # The phase's earlier report (``<NN>-VERIFICATION.md`` in its folder): its frontmatter's
    # status and score, for ``re_verification`` (empty when there is none).
    previous_status: str = ""
    previous_score: str = ""


@dataclass(slots=True)
class Course:
    """Everything course-wide rules see: lessons in course order, data files, id lookup."""

    root: Path
    lessons: list[Document]
    data_files: list[Document]
    others: list[Document]
    by_id: dict[str, Document]  # canonical ids and aliases
    cache: dict[Any, Any] = field(default_factory=dict)  # for plugins to share derived data (str or tuple keys)
    # What plugins publish for reporters (e.g. "verdicts": list[Verdict]); becomes Result.extra.
    extra: dict[str, Any] = field(default_factory=dict)
    # Per-file summaries made in the per-file stage (cached with the file's findings):
    # relpath -> {key: data}; a course rule's ``summarize`` result is under its rule id.
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A store kept between runs (the cache folder: ``get(key)``/``put(key, value)``, keys hex
    # digests), or None (no cache): for course-level results that are costly and depend on
    # little (e.g. suggestions that depend on the set of lesson ids only).
    store: Any = None

    @property
    def documents(self) -> list[Document]:
        return [*self.lessons, *self.data_files, *self.others]

    def resolve(self, reference: str) -> Document | None:
        """The lesson a prerequisite id, alias or internal route refers to, if any."""
        ref = reference.strip()
        for candidate in _reference_forms(ref):
            doc = self.by_id.get(candidate)
            if doc is not None:
                return doc
        return None

    def document(self, relpath: str) -> Document | None:
        # Counted, not listed: rules call this per lesson (a list per call is quadratic).
        count = len(self.lessons) + len(self.data_files) + len(self.others)
        index = self.cache.get(_INDEX_KEY)
        if index is None or index[0] != count:  # rebuilt when files were added
            by_relpath: dict[str, Document] = {}
            index = (count, by_relpath)
            for doc in self.documents:
                index[1].setdefault(doc.relpath, doc)
            self.cache[_INDEX_KEY] = index
        return index[1].get(relpath)


_INDEX_KEY = "coursecheck.model.by-relpath"


def _reference_forms(ref: str) -> Iterator[str]:
    yield ref
    stripped = ref.split("#", 1)[0].split("?", 1)[0]
    if stripped != ref:
        yield stripped
    if stripped.endswith("/"):
        yield stripped.rstrip("/")
