"""What the course-wide stage keeps of each file: a lightweight record, not the parse.

The per-file stage (parse, document rules, summaries) can run in worker processes and be
served from the cache; what it hands to the course stage is a :class:`DocumentRecord` per
file: a :class:`~coursecheck.model.Document` whose small parts (relpath, ids, aliases,
frontmatter with places, headings, links, components, comments, line count) are kept, and
whose bulky parts (``source``, ``lines``, ``segments``, ``code_blocks``) are loaded on
first use: the text by re-reading the file, the segments and code blocks by parsing it
again. Course rules that read only the small parts, or the summaries their ``summarize``
step made per file (see :mod:`coursecheck.rules`), never cause a parse; a rule that reads
``doc.segments`` of every lesson still works, at the price of one parse per lesson.
"""

from __future__ import annotations

import bisect
import copyreg
import hashlib
import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from coursecheck.model import Comment, Component, Document, Finding, Frontmatter, Heading, Link, Segment
from coursecheck.text import LineIndex, Span

# The parts of a Document a record keeps (the rest is loaded on demand).
KEPT = (
    "path",
    "relpath",
    "kind",
    "frontmatter",
    "headings",
    "links",
    "components",
    "comments",
    "data",
    "data_places",
    "problems",
    "has_bom",
    "role",
    "lesson_id",
    "aliases",
    "order_index",
)


# Parts a record may be handed still pickled (``fields[PACKED]``: one bytes object per
# group), each group restored on first use of one of its parts. The cache stores entries
# so: a warm run whose course stage comes from the cache restores none of them (most of an
# entry's restore time), a course stage restores the groups its rules read.
PACKED = "packed"
PACKED_GROUPS = (
    ("frontmatter", "links"),  # read by most course rules (graph, order)
    ("headings", "components", "data_places"),
    ("line_texts", "code_outline"),  # snippets of course findings, the JSON outline
)


# Every field of a record as :func:`record_fields` makes it, with its type: what a shard
# artifact's records are validated against (coursecheck.safepickle).
FIELD_TYPES: dict[str, Any] = {
    "path": str,
    "relpath": str,
    "kind": str,
    "frontmatter": Frontmatter | None,
    "headings": list[Heading],
    "links": list[Link],
    "components": list[Component],
    "comments": list[Comment],
    "data": Any,
    "data_places": dict[tuple[Any, ...], Span] | None,
    "problems": list[Finding],
    "has_bom": bool,
    "role": str,
    "lesson_id": str | None,
    "aliases": list[str],
    "order_index": int | None,
    "line_count": int,
    "digest": str,
    "index_lines": int | None,
    "line_texts": dict[int, str],
    "code_outline": list[tuple[str, int]] | None,
}


def pack_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the parts of :data:`PACKED_GROUPS` pickled (a record restores them on
    first use); unchanged when a part is missing."""
    if PACKED in fields or not all(name in fields for group in PACKED_GROUPS for name in group):
        return fields
    packed = {name: value for name, value in fields.items() if not any(name in group for group in PACKED_GROUPS)}
    packed[PACKED] = [
        pickle.dumps(tuple(_compact(name, fields[name]) for name in group), protocol=pickle.HIGHEST_PROTOCOL)
        for group in PACKED_GROUPS
    ]
    return packed


def unpacked_fields(fields: dict[str, Any], loads: Callable[[bytes], Any]) -> dict[str, Any]:
    """``fields`` with its packed groups restored by ``loads`` (for a shard artifact's
    records: the strict loader of coursecheck.safepickle, never ``pickle.loads``); raises
    ValueError when they are not what :func:`pack_fields` writes."""
    packed = fields.get(PACKED)
    if packed is None:
        return fields
    if type(packed) is not list or len(packed) != len(PACKED_GROUPS):
        raise ValueError("the record's packed parts are damaged")
    out = {name: value for name, value in fields.items() if name != PACKED}
    for group, blob in zip(PACKED_GROUPS, packed, strict=True):
        if type(blob) is not bytes:
            raise ValueError("the record's packed parts are damaged")
        values = loads(blob)
        if type(values) is not tuple or len(values) != len(group):
            raise ValueError("the record's packed parts are damaged")
        for name, value in zip(group, values, strict=True):
            try:
                out[name] = _expand(name, value)
            except (TypeError, ValueError, AttributeError):
                raise ValueError(f"the record's {name} is damaged") from None
    return out


def _compact(name: str, value: Any) -> Any:
    """The kept line texts as (line numbers, one string joined by newlines): restoring ~40
    small strings per lesson, each with a dict slot, took twice as long as one split."""
    if name == "line_texts" and isinstance(value, dict) and all("\n" not in text for text in value.values()):
        return (tuple(value), "\n".join(value.values()))
    return value


def _expand(name: str, value: Any) -> Any:
    if name == "line_texts" and isinstance(value, tuple):
        numbers, joined = value
        if type(numbers) is not tuple or type(joined) is not str:
            raise TypeError("line texts")
        return dict(zip(numbers, joined.split("\n") if numbers else (), strict=True))
    return value


def source_digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def record_fields(doc: Document) -> dict[str, Any]:
    """The picklable, small description of ``doc`` a record is rebuilt from."""
    fields = {name: getattr(doc, name) for name in KEPT}
    fields["path"] = str(doc.path)  # a Path on first use: restoring 5,000 Paths took ~40 ms
    fields["line_count"] = doc.line_count
    fields["digest"] = source_digest(doc.source)
    fields["index_lines"] = doc.lines.line_count
    fields["line_texts"] = _kept_lines(doc)
    # (language, line) of each code block: the JSON report's outline, without a parse.
    fields["code_outline"] = [(block.language, block.span.line) for block in doc.code_blocks]
    return fields


def _kept_lines(doc: Document) -> dict[int, str]:
    """The text of the lines course findings point at (frontmatter, headings, links,
    components, comments, code blocks' opening fences): a finding's snippet is then taken
    without reading the file. A shape (:func:`shape`) tells other lines by their distance
    from the kept line above them."""
    wanted: set[int] = set()
    item: Any  # headings, links, components, comments, code blocks: each has a span
    if doc.frontmatter is not None:
        wanted.update(range(doc.frontmatter.span.line, doc.frontmatter.span.end_line + 1))
    for item in (*doc.headings, *doc.links, *doc.components, *doc.comments, *doc.code_blocks):
        wanted.add(item.span.line)
    for link in doc.links:  # a reference link's destination is written on its definition's line
        wanted.add(link.href_span.line)
    lines = doc.lines
    return {n: lines.line_text(n) for n in sorted(wanted) if 1 <= n <= lines.line_count}


# While the course stage runs, the parts of records outside their *view* (see
# :func:`view_digest`) that course rules read: ``(what, relpath) -> value`` with ``what`` one
# of "line_count", "index_lines" (the line index's count) and "digest" (the text, read or
# parsed again). A stored course stage is reused only if each still has that value.
_outside_view: dict[tuple[str, str], Any] | None = None


def track_reads() -> dict[tuple[str, str], Any]:
    """Start recording reads outside records' views; returns the (live) record."""
    global _outside_view
    _outside_view = {}
    return _outside_view


def stop_tracking() -> None:
    global _outside_view
    _outside_view = None


def _note(what: str, relpath: str, value: Any) -> None:
    if _outside_view is not None:
        _outside_view[(what, relpath)] = value


# The record fields a course stage sees of every file without asking (its *view*): all but
# these, which change with any edit (the text's digest) or any added line (the counts); a
# course rule that reads them is recorded (above).
_OUTSIDE_VIEW = frozenset({"digest", "line_count", "index_lines"})


def view_digest(fields: dict[str, Any], summary: dict[str, Any]) -> str:
    """A digest of what the course stage can see of a file without a recorded read: its
    record's parts (frontmatter, headings, links, ... with their positions, and the text of
    the lines they are on) and the summaries rules made of it. An edit that changes none of
    them (a typo in a paragraph, a line added at the end) leaves it unchanged."""
    digest = hashlib.sha256()
    for name in sorted(fields):
        if name not in _OUTSIDE_VIEW:
            data = pickle.dumps((name, fields[name]), protocol=pickle.HIGHEST_PROTOCOL)
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    digest.update(pickle.dumps(summary, protocol=pickle.HIGHEST_PROTOCOL))
    return digest.hexdigest()


# -- shapes: what course rules see of a file, but where ----------------------------------


def shape(record: DocumentRecord, summary: dict[str, Any]) -> bytes:
    """What course rules see of a file *except where it is*: its view (see
    :func:`view_digest`) with every line number told relative to the kept lines (the lines
    its frontmatter, headings, links, components and comments are on), the kept lines'
    texts without their numbers, and no source offsets.

    Two versions of a file with the same shape differ only in where those lines are: a
    paragraph inserted above a heading moves it down, and changes its view but not its
    shape. The findings of a *relocatable* course rule (see :mod:`coursecheck.rules`) are
    then the same, moved with their lines (:class:`LineMove`)."""
    kept = sorted(record._kept_lines())
    encode = _LineEncoder(kept)
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = encode.table()
    outline = record._code_outline or []
    parts = [(name, getattr(record, name)) for name in KEPT if name not in _NOT_IN_SHAPE]
    parts.append(("line_texts", [record._kept_lines()[n] for n in kept]))
    parts.append(("code_outline", [(language, encode.line(line)) for language, line in outline]))
    pickler.dump((parts, summary))
    return buffer.getvalue()


# Not in a shape: where the file is (its relpath is), and its place in the course order
# (set by the course stage from the order fields and paths, which are in the shape).
_NOT_IN_SHAPE = frozenset({"path", "order_index"})


class _LineEncoder:
    """Line numbers as (index of the last kept line at or above, lines below it); lines
    above the first kept one as (-1, line)."""

    __slots__ = ("kept",)

    def __init__(self, kept: list[int]) -> None:
        self.kept = kept

    def line(self, number: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.kept, number) - 1
        return (i, number - self.kept[i]) if i >= 0 else (-1, number)

    def table(self) -> dict[type, Any]:
        line = self.line

        def span(value: Span) -> tuple[Any, ...]:
            return tuple, ((line(value.line), value.column, line(value.end_line), value.end_column),)

        table: dict[type, Any] = dict(copyreg.dispatch_table)
        pending: list[type] = [Span]
        while pending:
            cls = pending.pop()
            table[cls] = span
            pending.extend(cls.__subclasses__())
        # Source offsets move with every line above them: left out (columns stay).
        table[Heading] = lambda h: (tuple, ((h.level, h.text, h.span),))
        table[Segment] = lambda s: (tuple, ((s.scope, s.text, [i for i, _ in s.anchors], s.info),))
        return table


class LineMove:
    """Where the lines of a file went between two versions of the same shape: each kept
    line to the kept line of the same index, a line below it by the same distance, a line
    above the first kept line stays."""

    __slots__ = ("_new", "_old", "_old_set")

    def __init__(self, old_kept: list[int], new_kept: list[int]) -> None:
        self._old = old_kept
        self._new = new_kept
        self._old_set = frozenset(old_kept)

    @classmethod
    def between(cls, old: DocumentRecord, new: DocumentRecord) -> LineMove:
        return cls(sorted(old._kept_lines()), sorted(new._kept_lines()))

    def line(self, number: int) -> int:
        i = bisect.bisect_right(self._old, number) - 1
        return number if i < 0 else self._new[i] + number - self._old[i]

    def kept(self, number: int) -> bool:
        """Whether ``number`` is a kept line (its text is the same at its new number)."""
        return number in self._old_set

    def span(self, span: Span) -> Span:
        line, end_line = self.line(span.line), self.line(span.end_line)
        if line == span.line and end_line == span.end_line:
            return span
        return Span(line, span.column, end_line, span.end_column, span.column_utf16, span.end_column_utf16)


def outside_view_value(record: Document, what: str) -> Any:
    """The current value of a read recorded by :func:`_note` (None: not a record)."""
    if not isinstance(record, DocumentRecord):
        return None
    if what == "line_count":
        return record._line_count
    if what == "index_lines":
        return record._index_lines
    return record._digest


class _RecordLines:
    """A record's ``lines`` before its text is loaded: the kept line texts and the line
    count answer snippets; anything else loads the file's full :class:`LineIndex`."""

    __slots__ = ("_record",)

    def __init__(self, record: DocumentRecord) -> None:
        self._record = record

    @property
    def line_count(self) -> int:
        _note("index_lines", self._record.relpath, self._record._index_lines)
        return cast(int, self._record._index_lines)  # a _RecordLines is made only when it is known

    def line_text(self, line: int) -> str:
        kept = self._record._kept_lines().get(line)
        return kept if kept is not None else self._record._full_index().line_text(line)

    def text_at(self, line: int) -> str:
        kept = self._record._kept_lines().get(line)
        return kept if kept is not None else self._record._full_index().text_at(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._record._full_index(), name)


# Loads the full Document of a relpath again (parse); the engine provides it.
Loader = Callable[[str], "Document | None"]
# Reads the normalised text of a relpath (no parse); None when it cannot.
TextReader = Callable[[str], "str | None"]


_PACKED_NAMES = {name for group in PACKED_GROUPS for name in group}
_LINE_TEXTS_GROUP = next(i for i, group in enumerate(PACKED_GROUPS) if "line_texts" in group)
_PATH_SLOT = Document.__dict__["path"]
# The slots of Document a record may restore late (their descriptors, to bypass the properties).
_SLOTS = {name: Document.__dict__[name] for name in _PACKED_NAMES if name in Document.__dict__}


def _packed_part(name: str) -> property:
    """A Document part that a record restores from its packed group on first use."""
    slot = _SLOTS[name]
    group = next(i for i, names in enumerate(PACKED_GROUPS) if name in names)

    def get(self: DocumentRecord) -> Any:
        if self._packed is not None:
            self._unpack(group)
        return slot.__get__(self, DocumentRecord)

    def set(self: DocumentRecord, value: Any) -> None:
        if self._packed is not None:
            self._unpack(group)
        slot.__set__(self, value)

    return property(get, set)


class DocumentRecord(Document):
    """A Document whose text and segments are loaded on first use (see the module doc)."""

    __slots__ = (
        "_code_outline",
        "_digest",
        "_full",
        "_index",
        "_index_lines",
        "_line_count",
        "_line_texts",
        "_load",
        "_packed",
        "_read",
        "_text",
    )

    def __init__(self, fields: dict[str, Any], load: Loader, read: TextReader) -> None:
        packed = fields.get(PACKED)
        # bytes, or a part the run index keeps apart (loaded on first use), None once restored
        self._packed: list[Any] | None = list(packed) if packed is not None else None
        for name in KEPT:
            if packed is None or name not in _PACKED_NAMES:
                object.__setattr__(self, name, fields[name])
        self._line_count = fields["line_count"]
        self._digest = fields["digest"]
        self._index_lines = fields.get("index_lines")
        if packed is None:
            self._line_texts: dict[int, str] = fields.get("line_texts") or {}
            self._code_outline: list[tuple[str, int]] | None = fields.get("code_outline")
        self._load = load
        self._read = read
        self._full: Document | None = None
        self._text: str | None = None
        self._index: LineIndex | None = None

    # -- loaded on demand -----------------------------------------------------------------

    def _unpack(self, group: int) -> None:
        # The blobs come from this run, its workers, or a cache entry or run index whose MAC
        # was checked; a shard artifact's are restored by its strict loader when it is read.
        assert self._packed is not None
        blob = self._packed[group]
        if blob is None:
            return
        self._packed[group] = None
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            # Kept apart by the run index (coursecheck.runindex.Part): read and checked now.
            blob = blob.load()
            if blob is None:  # not what the index vouched for: the part comes from a parse
                self._unpack_from_parse(group)
                return
        for name, value in zip(PACKED_GROUPS[group], pickle.loads(blob), strict=True):
            if name == "line_texts":
                self._line_texts = _expand(name, value) or {}
            elif name == "code_outline":
                self._code_outline = value
            else:
                _SLOTS[name].__set__(self, value)

    def _unpack_from_parse(self, group: int) -> None:
        """The parts of ``group`` taken from the file parsed again (its packed bytes could
        not be read): no kept lines (snippets then come from the text), no code outline."""
        doc = self.full()
        for name in PACKED_GROUPS[group]:
            if name == "line_texts":
                self._line_texts = {}
            elif name == "code_outline":
                self._code_outline = None
            else:
                _SLOTS[name].__set__(self, getattr(doc, name))

    def _kept_lines(self) -> dict[int, str]:
        if self._packed is not None:
            self._unpack(_LINE_TEXTS_GROUP)
        return self._line_texts

    @property  # type: ignore[override]
    def path(self) -> Path:
        value = _PATH_SLOT.__get__(self, DocumentRecord)
        if isinstance(value, str):
            value = Path(value)
            _PATH_SLOT.__set__(self, value)
        return value

    @path.setter
    def path(self, value: Path | str) -> None:
        _PATH_SLOT.__set__(self, value)

    frontmatter = _packed_part("frontmatter")  # type: ignore[assignment]
    links = _packed_part("links")  # type: ignore[assignment]
    headings = _packed_part("headings")  # type: ignore[assignment]
    components = _packed_part("components")  # type: ignore[assignment]
    data_places = _packed_part("data_places")  # type: ignore[assignment]

    def full(self) -> Document:
        """The complete parsed Document (parsed again on first call)."""
        _note("digest", self.relpath, self._digest)
        if self._full is None:
            loaded = self._load(self.relpath)
            if loaded is None:
                loaded = Document(self.path, self.relpath, self.kind, self.source, self.lines)
            self._full = loaded
        return self._full

    def _source(self) -> str:
        _note("digest", self.relpath, self._digest)
        if self._text is None:
            text = self._read(self.relpath) if self._full is None else self._full.source
            if text is None or source_digest(text) != self._digest:
                # The file changed (or a parser plugin rewrote the text): take the parse's.
                text = self.full().source
            self._text = text
        return self._text

    @property
    def source(self) -> str:  # type: ignore[override]
        return self._source()

    def _full_index(self) -> LineIndex:
        _note("digest", self.relpath, self._digest)
        if self._index is None:
            self._index = self._full.lines if self._full is not None else LineIndex(self._source())
        return self._index

    @property
    def lines(self) -> LineIndex:  # type: ignore[override]
        # Kept lines first, even when the parse is at hand (a cold run's records): a course
        # rule that only takes its findings' snippets then reads nothing outside the view.
        if self._index is None and self._index_lines is not None:
            return _RecordLines(self)  # type: ignore[return-value]
        return self._full_index()

    @property
    def segments(self) -> list:  # type: ignore[override]
        return self.full().segments

    @property
    def code_blocks(self) -> list:  # type: ignore[override]
        return self.full().code_blocks

    @property
    def code_outline(self) -> list[tuple[str, int]]:
        """(language, line) of each code block (kept: no parse needed)."""
        if self._packed is not None:
            self._unpack(_LINE_TEXTS_GROUP)
        if self._code_outline is None or self._full is not None:
            return [(block.language, block.span.line) for block in self.code_blocks]
        return self._code_outline

    @property
    def line_count(self) -> int:
        _note("line_count", self.relpath, self._line_count)
        return self._line_count

    @property
    def loaded(self) -> bool:
        return self._full is not None

    def __repr__(self) -> str:
        return f"DocumentRecord({self.relpath!r}, kind={self.kind!r}, lesson_id={self.lesson_id!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in KEPT},
            "line_count": self._line_count,
            "digest": self._digest,
            "index_lines": self._index_lines,
            "line_texts": self._kept_lines(),
            "code_outline": self._code_outline,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state, _no_load, _no_read)  # type: ignore[misc]


def _no_load(relpath: str) -> Document | None:
    return None


def _no_read(relpath: str) -> str | None:
    return None


def read_text(root: Path, relpath: str) -> str | None:
    """The file's text as the engine hands it to parsers (BOM removed, LF newlines); None
    when it cannot be read, or is a link leading outside the root (never followed)."""
    from coursecheck.fsutil import read_inside
    from coursecheck.text import DecodeError, decode_source, normalize_newlines

    try:
        text, _ = decode_source(read_inside(root, relpath, parents_checked=True))
    except (OSError, DecodeError):
        return None
    return normalize_newlines(text)
