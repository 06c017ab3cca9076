"""Positions between coursecheck and a client, in the encoding they agreed on.

coursecheck's spans are 1-based lines and code-point columns of the original file (with
UTF-16 columns beside them); LSP positions are 0-based lines and a character offset in
UTF-16 code units by default, or UTF-8 bytes or UTF-32 code points when the client offered
them (``general.positionEncodings``) and the server chose one. Lines are split on CR, LF
and CRLF, as both sides do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coursecheck.text import Span

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_BREAK = re.compile(r"\r\n|\r|\n")


class Lines:
    """The lines of a text, without their terminators."""

    __slots__ = ("lines",)

    def __init__(self, text: str) -> None:
        self.lines = _BREAK.split(text)

    def __len__(self) -> int:
        return len(self.lines)

    def get(self, index: int) -> str:
        """The text of 0-based line ``index`` ("" past the end)."""
        return self.lines[index] if 0 <= index < len(self.lines) else ""


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in the encoding's code units."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def code_points(line: str, offset: int, encoding: str) -> int:
    """The code-point index in ``line`` of a client's ``offset`` (clamped to the line)."""
    if encoding == UTF32 or line.isascii():
        return max(0, min(offset, len(line)))
    count = 0
    for i, ch in enumerate(line):
        width = 1 if encoding == UTF16 and ord(ch) <= 0xFFFF else 2 if encoding == UTF16 else len(ch.encode("utf-8"))
        if count + width > offset:
            return i
        count += width
    return len(line)


@dataclass(frozen=True, slots=True)
class Point:
    """An LSP position: 0-based line, character in the client's units."""

    line: int
    character: int


def point(line: int, column: int, encoding: str, lines: Lines | None, column_utf16: int | None = None) -> Point:
    """The LSP position of 1-based ``line`` and code-point ``column``. ``lines`` (the
    file's text) is needed for UTF-8 and for UTF-16 when ``column_utf16`` is not known."""
    index = max(line - 1, 0)
    if encoding == UTF32:
        return Point(index, max(column - 1, 0))
    if encoding == UTF16 and column_utf16 is not None:
        return Point(index, max(column_utf16 - 1, 0))
    text = lines.get(index) if lines is not None else ""
    prefix = text[: max(column - 1, 0)]
    extra = max(column - 1, 0) - len(prefix)  # past the line's end (the text changed): keep the count
    return Point(index, units(prefix, encoding) + extra)


def span_points(span: Span, encoding: str, lines: Lines | None) -> tuple[Point, Point]:
    start = point(span.line, span.column, encoding, lines, span.column_utf16)
    end = point(span.end_line, span.end_column, encoding, lines, span.end_column_utf16)
    return start, end


def offset_of(text: str, line: int, character: int, encoding: str) -> int:
    """The index in ``text`` of a client's 0-based position: past the last line is the end
    of the text, past a line's end is that end (the line terminator is not part of it)."""
    start = 0
    if line > 0:
        for count, found in enumerate(_BREAK.finditer(text), 1):
            if count == line:
                start = found.end()
                break
        else:
            return len(text)
    after = _BREAK.search(text, start)
    end = after.start() if after is not None else len(text)
    return start + code_points(text[start:end], character, encoding)


def from_client(line: int, character: int, encoding: str, lines: Lines) -> tuple[int, int]:
    """1-based line and code-point column of a client's position."""
    return line + 1, code_points(lines.get(line), character, encoding) + 1
