"""Source text and exact positions.

Every position coursecheck reports is the original file's 1-based line and column. Columns
are counted in Unicode code points (what a terminal user and most editors mean by a column);
SARIF needs UTF-16 code units, so every :class:`Span` carries both.

Line terminators are CR, LF and CRLF, as in SARIF (§3.30.2) and in editors. A source is
normalised to LF before parsing: that changes offsets but never a line or a column, because
only terminators are rewritten. The BOM is dropped and counts as no column.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    """A range in a file: 1-based lines, 1-based columns (code points), end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int
    column_utf16: int
    end_column_utf16: int

    def __reduce__(self) -> tuple[type, tuple[int, ...]]:
        # Pickled as constructor arguments: the cache restores tens of thousands of spans,
        # and a slotted dataclass's default restore is several times slower.
        args = (self.line, self.column, self.end_line, self.end_column, self.column_utf16, self.end_column_utf16)
        return _UnpickledSpan, args

    @classmethod
    def point(cls, line: int, column: int = 1) -> Span:
        return cls(line, column, line, column, column, column)

    def as_dict(self) -> dict[str, int]:
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "column_utf16": self.column_utf16,
            "end_column_utf16": self.end_column_utf16,
        }

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> Span:
        return cls(
            data["line"],
            data["column"],
            data["end_line"],
            data["end_column"],
            data["column_utf16"],
            data["end_column_utf16"],
        )


class _UnpickledSpan:
    """Restores a pickled :class:`Span` twice as fast as ``Span(...)``: a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``; here the fields are plain
    slot stores, then the object becomes a Span (same slots: a compatible layout). The
    course stage restores ~18 spans per lesson (frontmatter places): ~0.1 s at 5,000
    lessons. A class, not a function: shard artifacts load classes only."""

    __slots__ = Span.__slots__  # the same layout, or the class assignment below fails

    def __new__(  # type: ignore[misc]
        cls, line: int, column: int, end_line: int, end_column: int, column_utf16: int, end_column_utf16: int
    ) -> Span:
        span: Any = object.__new__(cls)
        span.line = line
        span.column = column
        span.end_line = end_line
        span.end_column = end_column
        span.column_utf16 = column_utf16
        span.end_column_utf16 = end_column_utf16
        span.__class__ = Span
        return span


class DecodeError(ValueError):
    """The file is not valid UTF-8; ``line``/``column`` locate the first bad byte."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def decode_source(raw: bytes) -> tuple[str, bool]:
    """Decode UTF-8 (with or without BOM). Returns the text without BOM and whether one was there.

    Raises :class:`DecodeError` naming the line and column of the first invalid byte.
    """
    has_bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if has_bom else raw
    try:
        return body.decode("utf-8"), has_bom
    except UnicodeDecodeError as exc:
        good = body[: exc.start]
        line = good.count(b"\n") + good.count(b"\r") - good.count(b"\r\n") + 1
        last_break = max(good.rfind(b"\n"), good.rfind(b"\r"))
        column = len(good[last_break + 1 :].decode("utf-8", errors="replace")) + 1
        byte = body[exc.start]
        raise DecodeError(
            f"not valid UTF-8: byte 0x{byte:02x} at line {line}, column {column}; save the file as UTF-8",
            line,
            column,
        ) from None


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF; lines and columns are unchanged."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


_NEWLINE = re.compile("\n")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # two UTF-16 code units each


class LineIndex:
    """Maps offsets in an LF-normalised text to (line, column) and back."""

    __slots__ = ("_astral", "_bmp", "_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0, *[m.end() for m in _NEWLINE.finditer(text)]]
        # Without astral-plane characters UTF-16 columns are code-point columns.
        self._bmp = text.isascii() or _ASTRAL.search(text) is None
        # Else, per line asked about: the offsets of its astral characters. Counting them in
        # the line's text before each offset was quadratic on a long line of many findings.
        self._astral: dict[int, list[int]] = {}

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_start(self, line: int) -> int:
        """Offset of the first character of 1-based ``line``."""
        return self._starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset just past the last character of 1-based ``line`` (its newline excluded)."""
        starts = self._starts
        return starts[line] - 1 if line < len(starts) else len(self.text)

    def text_at(self, line: int) -> str:
        """The text of 1-based ``line``; "" when the text has no such line."""
        return self.line_text(line) if 1 <= line <= len(self._starts) else ""

    def line_text(self, line: int) -> str:
        start = self._starts[line - 1]
        end = self._starts[line] - 1 if line < len(self._starts) else len(self.text)
        return self.text[start:end]

    def position(self, offset: int) -> tuple[int, int, int]:
        """(line, column, utf16 column), all 1-based, of ``offset``."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset)
        start = self._starts[line - 1]
        column = offset - start + 1
        if self._bmp:
            return line, column, column
        astral = self._astral.get(line)
        if astral is None:
            end = self._starts[line] if line < len(self._starts) else len(self.text)
            astral = self._astral[line] = [m.start() for m in _ASTRAL.finditer(self.text, start, end)]
        return line, column, column + bisect.bisect_left(astral, offset)

    def span(self, start: int, end: int | None = None) -> Span:
        if end is None or end < start:
            end = start
        if not self._bmp:
            line, col, col16 = self.position(start)
            end_line, end_col, end_col16 = self.position(end)
            return _UnpickledSpan(line, col, end_line, end_col, col16, end_col16)
        # Code-point columns are UTF-16 columns: one line search, a second only when the span
        # crosses a line (a paragraph of 50,000 links makes 100,000 spans).
        starts = self._starts
        length = len(self.text)
        start = 0 if start < 0 else length if start > length else start
        end = start if end < start else length if end > length else end
        line = bisect.bisect_right(starts, start)
        line_start = starts[line - 1]
        col = start - line_start + 1
        if line == len(starts) or end < starts[line]:
            end_col = end - line_start + 1
            return _UnpickledSpan(line, col, line, end_col, col, end_col)
        end_line = bisect.bisect_right(starts, end, line)
        end_col = end - starts[end_line - 1] + 1
        return _UnpickledSpan(line, col, end_line, end_col, col, end_col)

    def offset(self, line: int, column: int) -> int:
        """Offset of 1-based (line, column in code points)."""
        return self._starts[line - 1] + column - 1


# -- bounded quotes of the source: snippets and quoted text in messages ---------------------
#
# A finding keeps the text of its line (shown with -v, in SARIF, and used by fingerprints when
# it has no anchor) and its message may quote what it found. A repository can make both as
# long as it likes (one 40 KB line of TODO markers made 8,000 findings each holding the whole
# line), so both are cut to a window around the finding. Lines and quotes of ordinary text are
# far below the limits and stay whole, which keeps earlier fingerprints and baselines valid.

SNIPPET_LINE_MAX = 1000  # a line this long or shorter is the snippet, whole
SNIPPET_CONTEXT = 200  # characters kept on each side of the finding on a longer line
SNIPPET_SPAN_MAX = 200  # characters of the finding itself kept on a longer line
QUOTE_MAX = 200  # characters of repository text a message quotes
MESSAGE_MAX = 2000  # characters of a whole message
ANCHOR_MAX = 1000  # characters of an anchor kept as written (a digest of the rest follows)
ELLIPSIS = "…"


def snippet_window(line: str, span: Span) -> tuple[str, int, bool]:
    """A finding's snippet cut from the text of its first line: ``(text, column, cut)``.

    ``column`` is the 1-based column (code points) of the snippet's first character in the
    line and ``cut`` tells whether the line goes on after the snippet. A line of at most
    :data:`SNIPPET_LINE_MAX` characters is returned whole, ``(line, 1, False)``; a longer one
    is cut to the finding (at most :data:`SNIPPET_SPAN_MAX` characters of it) and
    :data:`SNIPPET_CONTEXT` characters on each side. The text is the source's, without
    markers: readers add :data:`ELLIPSIS` where it was cut (:func:`snippet_display`).
    """
    if len(line) <= SNIPPET_LINE_MAX:
        return line, 1, False
    start = min(max(span.column - 1, 0), len(line))
    end = min(max(span.end_column - 1, start), len(line)) if span.end_line == span.line else len(line)
    end = min(end, start + SNIPPET_SPAN_MAX)
    first = max(start - SNIPPET_CONTEXT, 0)
    last = min(end + SNIPPET_CONTEXT, len(line))
    return line[first:last], first + 1, last < len(line)


def kept_snippet(line: str, span: Span) -> str | tuple[str, int, bool]:
    """What a rule keeps of a finding's line to report it later (a course rule's summary):
    the line itself when it is the snippet whole, else its window (:func:`snippet_window`).
    ``RuleContext.report_span(snippet=...)`` takes either."""
    return line if len(line) <= SNIPPET_LINE_MAX else snippet_window(line, span)


def snippet_display(text: str, column: int, cut: bool) -> str:
    """A snippet as shown to a reader: an ellipsis where its line was cut."""
    return (ELLIPSIS if column > 1 else "") + text + (ELLIPSIS if cut else "")


def quote(text: str, limit: int = QUOTE_MAX) -> str:
    """Repository text for a message, cut to ``limit`` characters (an ellipsis ends a cut one)."""
    text = str(text)
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS


def bounded_anchor(anchor: str) -> str:
    """An anchor of at most about :data:`ANCHOR_MAX` characters: a longer one keeps its start
    and a digest of the whole, so two long anchors stay different and each stays stable."""
    if len(anchor) <= ANCHOR_MAX:
        return anchor
    digest = hashlib.sha256(anchor.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{anchor[:ANCHOR_MAX]}{ELLIPSIS}{digest}"
