"""The MDX pre-pass: find what is not Markdown and mask it, keeping every offset.

MDX adds ESM (``import``/``export`` blocks), JSX elements, ``{expressions}`` and
``{/* comments */}`` to Markdown. markdown-it-py knows none of them, so before parsing we
replace them with spaces (newlines kept) in a copy of the text: the masked copy has the same
length and the same line breaks, so every offset markdown-it-py reports is an offset of the
original file. What was masked is returned as data (components with their props, comments).

Code fences and inline code spans are left alone: a ``<Tag>`` inside code is code.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NoReturn

_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})([^\n]*)$", re.M)
# MDX has no indented code: a fence opens at any indentation (code samples nested in JSX
# components, ``<Tab>\n      ```tsx``), as in micromark with indented code disabled.
_FENCE_OPEN_MDX = re.compile(r"^([ \t]*)(`{3,}|~{3,})([^\n]*)$", re.M)
_ESM_START = re.compile(r"(?:import\s*[\w{*'\"]|export\s+(?:const|let|var|function|default|class|async|\{|\*))")
# What the scan stops at. A line break matters only where a fence or ESM may open on the
# next line (checked there); the others are skipped by the regex engine.
_LINE_OPENER = r"\n(?= {0,3}(?:```|~~~)|import|export)"
_INTERESTING = re.compile(r"[`{<\\]|\n(?=[ \t]*(?:```|~~~)|import|export)")
_INTERESTING_MARKDOWN = re.compile(r"[`\\]|<!--|" + _LINE_OPENER)  # no JSX nor expressions
_TAG_NAME = re.compile(r"[A-Za-z][\w.:-]*")
_ATTR_NAME = re.compile(r"[A-Za-z_$][\w:$.-]*")
_AUTOLINK = re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>")
_SPACE = re.compile(r"\s*")


@dataclass(slots=True)
class RawProp:
    name: str
    kind: str  # string | template | expression | boolean | spread
    start: int  # attribute start
    end: int  # attribute end
    value: str | None = None
    value_start: int = 0  # offset of value text (inside the quotes/backticks)


@dataclass(slots=True)
class RawComponent:
    name: str
    start: int
    end: int
    props: list[RawProp] = field(default_factory=list)
    self_closing: bool = False


@dataclass(slots=True)
class RawComment:
    text: str
    start: int
    end: int


@dataclass(slots=True)
class RawFence:
    marker: str
    info: str
    start: int  # offset of the opening fence line
    content_start: int
    content_end: int
    end: int  # end of the closing fence line (or of the text, if unterminated)
    closed: bool


@dataclass(slots=True)
class PrePass:
    masked: str
    components: list[RawComponent] = field(default_factory=list)
    comments: list[RawComment] = field(default_factory=list)
    fences: list[RawFence] = field(default_factory=list)
    # (offset, code, message) for what could not be read; the rest of the file still is.
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    work: int = 0  # characters the JS scans read (linear in the text: tests count it)


class _Unterminated(Exception):
    def __init__(self, what: str) -> None:
        self.what = what


# Where a JS string or expression scan must stop and look: everything else is skipped by
# the regex engine, not a Python loop (template literals in props hold whole diagrams).
_STRING_STOP = {
    '"': re.compile(r'["\\\n]'),
    "'": re.compile(r"['\\\n]"),
    "`": re.compile(r"[`\\]|\$\{"),
}
_EXPRESSION_STOP = re.compile(r"[\"'`/{}]")

# The characters the scans of one file may read, per character of the file, before the
# pre-pass stops reading JSX and expressions (the rest of the file is then Markdown). The
# scans below read each character a few times at most (once per way of lexing it: as code,
# inside a string, inside a comment); this is the backstop should some input defeat that.
_WORK_PER_CHAR = 16
_WORK_FLOOR = 100_000


_STOPPED = (
    "MDX pre-pass stopped here: reading this file's JSX and expressions took more than its limit; the rest "
    "is checked as plain Markdown (look for unclosed {, template literals or tags from here on)"
)


class _OutOfWork(Exception):
    """The scans of one file read more than their budget (see ``_WORK_PER_CHAR``)."""


class _NextFinder:
    """``text.find(needle, start)`` for starts that only move forward, each character read
    once: the last answer holds for every start up to it (-1: for every later start)."""

    __slots__ = ("_from", "_result", "needle", "text")

    def __init__(self, text: str, needle: str) -> None:
        self.text = text
        self.needle = needle
        self._from = len(text) + 1  # no answer yet
        self._result = -1

    def find(self, start: int) -> int:
        if self._from <= start and (self._result == -1 or start <= self._result):
            return self._result
        self._from, self._result = start, self.text.find(self.needle, start)
        return self._result


class _Scanner:
    """The JS scans of one file (expressions, strings, template literals), memoized.

    Each scan is a pure function of where it starts, so its result (the offset after its
    end, or why it never ends) is kept: a later scan reaching the same start reuses it.
    Without that, text that opens ``{`` or a template literal on every line and never closes
    it cost a scan to the end of the file per line (20 KB: 30 s). Nested scans run on an
    explicit stack, not Python recursion (80 KB of ``{`` nest 80,000 deep).
    """

    __slots__ = ("budget", "comment_close", "memo", "text", "work")

    def __init__(self, text: str) -> None:
        self.text = text
        self.memo: dict[tuple[str, int], int | str] = {}  # (kind, start) -> end, or what never ends
        self.comment_close = _NextFinder(text, "*/")
        self.work = 0  # characters the scans read (regex searches count the distance they ran)
        self.budget = _WORK_PER_CHAR * len(text) + _WORK_FLOOR

    def expression(self, i: int) -> int:
        """``i`` is just after a ``{``; returns the offset after the matching ``}``."""
        return self._scan("{", i)

    def string(self, i: int, quote: str) -> int:
        """``i`` is just after the opening quote; returns the offset after the closing one."""
        return self._scan(quote, i)

    def _scan(self, kind: str, i: int) -> int:
        memo = self.memo
        known = memo.get((kind, i))
        if known is not None:
            if isinstance(known, str):
                raise _Unterminated(known)
            return known
        text = self.text
        n = len(text)
        stack: list[list[Any]] = [[kind, i, i]]  # frames: [kind, start, position]
        while True:
            frame = stack[-1]
            kind, start, pos = frame
            end = -1
            child: tuple[str, int] | None = None
            if kind == "{":
                m = _EXPRESSION_STOP.search(text, pos)
                if m is None:
                    self._fail(stack, "expression", n - pos)
                j = m.start()
                self._spend(stack, j - pos + 1)
                ch = text[j]
                if ch in "\"'`":
                    child = (ch, j + 1)
                elif ch == "/":
                    nxt = text[j + 1 : j + 2]
                    if nxt == "*":
                        close = self.comment_close.find(j + 2)
                        if close == -1:
                            self._fail(stack, "comment", 1)
                        self._spend(stack, close - j)
                        frame[2] = close + 2
                    elif nxt == "/":
                        close = text.find("\n", j)
                        frame[2] = n if close == -1 else close
                        self._spend(stack, frame[2] - j)
                    else:
                        frame[2] = j + 1
                    continue
                elif ch == "{":
                    child = ("{", j + 1)
                else:  # "}"
                    end = j + 1
            else:
                m = _STRING_STOP[kind].search(text, pos)
                if m is None:
                    self._fail(stack, "template literal" if kind == "`" else "string literal", n - pos)
                j = m.start()
                self._spend(stack, j - pos + 1)
                ch = text[j]
                if ch == "\\":
                    frame[2] = j + 2
                    continue
                if ch == kind:
                    end = j + 1
                elif ch == "\n":
                    self._fail(stack, "string literal", 0)
                else:  # "${" in a template literal
                    child = ("{", j + 2)
            if child is not None:
                known = memo.get(child)
                if known is None:
                    stack.append([child[0], child[1], child[1]])
                    continue
                if isinstance(known, str):
                    self._fail(stack, known, 0)
                frame[2] = known
                continue
            memo[(kind, start)] = end
            stack.pop()
            if not stack:
                return end
            stack[-1][2] = end

    def _spend(self, stack: list[list[Any]], chars: int) -> None:
        self.work += chars
        if self.work > self.budget:
            raise _OutOfWork

    def _fail(self, stack: list[list[Any]], what: str, chars: int) -> NoReturn:
        """Every open scan fails with the innermost's reason."""
        self.work += chars
        for kind, start, _ in stack:
            self.memo[(kind, start)] = what
        raise _Unterminated(what)

    def exhausted(self) -> bool:
        return self.work > self.budget


def _parse_tag(scanner: _Scanner, start: int) -> RawComponent | None:
    """Parse a JSX tag at ``text[start] == '<'``. None when it is not a tag at all."""
    text = scanner.text
    i = start + 1
    closing = False
    if i < len(text) and text[i] == "/":
        closing = True
        i += 1
    if i < len(text) and text[i] == ">":  # fragment <> or </>
        return RawComponent("", start, i + 1)
    m = _TAG_NAME.match(text, i)
    if not m:
        return None
    name = m.group()
    i = m.end()
    # A tag name must be followed by space, '/', or '>' (else it's prose like "<5мс").
    if i < len(text) and not (text[i].isspace() or text[i] in "/>{"):
        return None
    comp = RawComponent(("/" if closing else "") + name, start, start)
    n = len(text)
    while True:
        i = _SPACE.match(text, i).end()  # type: ignore[union-attr]  # \s* always matches
        if i >= n:
            raise _Unterminated(f"JSX element <{name}>")
        ch = text[i]
        if ch == ">":
            comp.end = i + 1
            return comp
        if text.startswith("/>", i):
            comp.end = i + 2
            comp.self_closing = True
            return comp
        if ch == "{":  # spread attribute or comment
            end = scanner.expression(i + 1)
            comp.props.append(RawProp("...", "spread", i, end, text[i + 1 : end - 1], i + 1))
            i = end
            continue
        am = _ATTR_NAME.match(text, i)
        if not am:
            raise _Unterminated(f"JSX element <{name}>")
        attr = am.group()
        attr_start = i
        i = _SPACE.match(text, am.end()).end()  # type: ignore[union-attr]  # \s* always matches
        if i < n and text[i] == "=":
            i = _SPACE.match(text, i + 1).end()  # type: ignore[union-attr]  # \s* always matches
            if i >= n:
                raise _Unterminated(f"JSX element <{name}>")
            q = text[i]
            if q in "\"'":
                close = text.find(q, i + 1)
                if close == -1:
                    raise _Unterminated(f"attribute {attr} of <{name}>")
                comp.props.append(RawProp(attr, "string", attr_start, close + 1, text[i + 1 : close], i + 1))
                i = close + 1
            elif q == "{":
                end = scanner.expression(i + 1)
                inner_start, inner_end = i + 1, end - 1
                inner = text[inner_start:inner_end]
                stripped = inner.strip()
                lead = len(inner) - len(inner.lstrip())
                if (
                    len(stripped) >= 2
                    and stripped[0] == "`"
                    and stripped[-1] == "`"
                    and "`" not in stripped[1:-1].replace("\\`", "")
                ):
                    value_start = inner_start + lead + 1
                    comp.props.append(RawProp(attr, "template", attr_start, end, stripped[1:-1], value_start))
                elif len(stripped) >= 2 and stripped[0] in "\"'" and stripped[-1] == stripped[0]:
                    value_start = inner_start + lead + 1
                    comp.props.append(RawProp(attr, "string", attr_start, end, stripped[1:-1], value_start))
                else:
                    comp.props.append(RawProp(attr, "expression", attr_start, end, inner, inner_start))
                i = end
            else:
                raise _Unterminated(f"attribute {attr} of <{name}>")
        else:
            comp.props.append(RawProp(attr, "boolean", attr_start, am.end(), None, am.end()))


def _after_blank_line(text: str, i: int, body_start: int) -> bool:
    """MDX reads ESM only at the start of a block: after a blank line or the body start."""
    if i <= body_start:
        return True
    prev_end = i - 1  # the newline ending the previous line
    prev_start = text.rfind("\n", 0, prev_end) + 1
    return prev_start < body_start or not text[prev_start:prev_end].strip()


def blank_out(text: str) -> str:
    """``text`` with every character but newlines replaced by a space (same length, same lines)."""
    if "\n" not in text:
        return " " * len(text)
    return "\n".join([" " * len(line) for line in text.split("\n")])


def _mask(buf: list[tuple[int, int]] | None, text: str, start: int, end: int) -> None:
    # Ranges come in increasing, non-overlapping order; the masked text is built once at the end.
    assert buf is not None  # masks are taken in MDX only, where there is a buffer
    buf.append((start, end))


def _apply_masks(text: str, ranges: list[tuple[int, int]]) -> str:
    if not ranges:
        return text
    pieces: list[str] = []
    done = 0
    for start, end in ranges:
        start = max(start, done)
        if end <= start:
            continue
        pieces.append(text[done:start])
        pieces.append(blank_out(text[start:end]))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


_BACKTICKS = re.compile(r"`+")


class _CodeSpans:
    """Where inline code spans end, each paragraph read once.

    A span opened by a run of N backticks ends at the next run of exactly N backticks in its
    paragraph. Searching for it from each opening run read the rest of the paragraph again per
    run: a paragraph of many spans, or of runs that never close, was quadratic. The runs of the
    paragraph are indexed by length the first time one of its spans is looked for.
    """

    __slots__ = ("_from", "_limit", "_runs", "blank_line", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.blank_line = _NextFinder(text, "\n\n")
        self._limit = -1  # the paragraph indexed: its end, and where its index starts
        self._from = -1
        self._runs: dict[int, list[int]] = {}  # run length -> starts of the runs, in order

    def end(self, i: int) -> int:
        """``text[i]`` starts a backtick run; return the end of the code span, or of the run."""
        text = self.text
        n = len(text)
        j = i
        while j < n and text[j] == "`":
            j += 1
        limit = self.blank_line.find(j)
        if limit == -1:
            limit = n
        if limit != self._limit or j < self._from:
            # Runs are maximal: text[j] is no backtick, nor is the character after a match.
            runs: dict[int, list[int]] = {}
            for m in _BACKTICKS.finditer(text, j, limit):
                runs.setdefault(m.end() - m.start(), []).append(m.start())
            self._limit, self._from, self._runs = limit, j, runs
        starts = self._runs.get(j - i)
        if not starts:
            return j
        k = bisect_left(starts, j)
        return starts[k] + (j - i) if k < len(starts) else j


@lru_cache(maxsize=64)
def _fence_closer(marker: str, mdx: bool = False) -> re.Pattern[str]:
    indent = r"^[ \t]*" if mdx else r"^ {0,3}"
    return re.compile(indent + re.escape(marker[0]) + "{" + str(len(marker)) + r",}[ \t]*$", re.M)


def prepass(text: str, *, mdx: bool, body_start: int = 0) -> PrePass:
    """Scan ``text`` from ``body_start`` (after frontmatter). With ``mdx=False`` (plain
    Markdown) only fences and HTML comments are recorded and nothing is masked."""
    buf: list[tuple[int, int]] | None = [] if mdx else None
    out = PrePass(masked=text)
    n = len(text)
    i = body_start
    line_start = True
    interesting = _INTERESTING.search if mdx else _INTERESTING_MARKDOWN.search
    # Every search below either consumes what it read or remembers its answer for the next
    # one (see _Scanner, _CodeSpans, _NextFinder): the pre-pass is linear in the text.
    scanner = _Scanner(text)
    code_spans = _CodeSpans(text)
    html_close = _NextFinder(text, "-->")
    mdx_comment_close = _NextFinder(text, "*/")
    mdx_comment_end: dict[int, int] = {}  # "*/" offset -> offset of the "}" after it, or -1
    reported_to = -1  # end of the line of the last problem: one problem per line
    html_unclosed = mdx_unclosed = False  # an opener without a closer in the rest of the file seen

    def report(offset: int, code: str, message: str) -> None:
        # A second problem on a line repeats the first (an unclosed comment's opener again),
        # and each problem copies its line as the snippet: a long line of openers was
        # quadratic in time and memory.
        nonlocal reported_to
        if offset < reported_to:
            return
        eol = text.find("\n", offset)
        reported_to = n if eol == -1 else eol
        out.problems.append((offset, code, message))

    while i < n:
        if line_start:
            line_start = False
            m = (_FENCE_OPEN_MDX if mdx else _FENCE_OPEN).match(text, i)
            if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
                marker = m.group(2)
                closer = _fence_closer(marker, mdx)
                content_start = m.end() + 1
                cm = closer.search(text, min(content_start, n))
                if cm:
                    fence = RawFence(marker, m.group(3).strip(), i, content_start, cm.start(), cm.end(), True)
                else:
                    fence = RawFence(marker, m.group(3).strip(), i, content_start, n, n, False)
                    report(i, "unterminated-fence", f"code fence {marker} is never closed")
                out.fences.append(fence)
                i = fence.end
                continue
            if mdx and _ESM_START.match(text, i) and _after_blank_line(text, i, body_start):
                end = text.find("\n\n", i)
                end = n if end == -1 else end
                _mask(buf, text, i, end)
                i = end
                continue
        m = interesting(text, i)
        if not m:
            break
        i = m.start()
        ch = text[i]
        if ch == "\n":
            i += 1
            line_start = True
            continue
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            i = code_spans.end(i)
            continue
        if ch == "<" and text.startswith("<!--", i):
            close = html_close.find(i + 4)
            if close == -1:
                # The rest of the file has no "-->": later openers are inside this comment.
                if not html_unclosed:
                    report(i, "unterminated-comment", "HTML comment <!-- is never closed")
                    html_unclosed = True
                i += 4
                continue
            out.comments.append(RawComment(text[i + 4 : close].strip(), i, close + 3))
            if mdx:
                _mask(buf, text, i, close + 3)
            i = close + 3
            continue
        if not mdx:
            i += 1
            continue
        if ch == "{":
            if text.startswith("{/*", i):
                close = mdx_comment_close.find(i + 3)
                end = -1
                if close != -1:
                    # The comment ends with "}" after "*/" and nothing but spaces between.
                    end = mdx_comment_end.get(close, -2)
                    if end == -2:
                        spaces = _SPACE.match(text, close + 2)
                        after = spaces.end() if spaces else close + 2
                        end = mdx_comment_end[close] = after if text.startswith("}", after) else -1
                if end == -1:
                    if close != -1 or not mdx_unclosed:  # no "*/" left: later openers are inside
                        report(i, "unterminated-comment", "MDX comment {/* is never closed with */}")
                    mdx_unclosed = mdx_unclosed or close == -1
                    i += 3
                    continue
                out.comments.append(RawComment(text[i + 3 : close].strip(), i, end + 1))
                _mask(buf, text, i, end + 1)
                i = end + 1
                continue
            try:
                end = scanner.expression(i + 1)
            except _OutOfWork:
                report(i, "too-complex", _STOPPED)
                break
            except _Unterminated as exc:
                what = "expression" if exc.what == "expression" else f"expression: its {exc.what}"
                report(i, "unterminated-expression", f"MDX {what} is never closed")
                eol = text.find("\n", i)
                i = n if eol == -1 else eol
                continue
            _mask(buf, text, i, end)
            i = end
            continue
        if ch == "<":
            if _AUTOLINK.match(text, i):
                i += 1
                continue
            try:
                comp = _parse_tag(scanner, i)
            except _OutOfWork:
                report(i, "too-complex", _STOPPED)
                break
            except _Unterminated as exc:
                name_match = _TAG_NAME.match(text, i + 1)
                name = name_match.group() if name_match else ""
                what = exc.what if exc.what.startswith("JSX") else f"JSX element <{name}>: its {exc.what}"
                report(i, "unterminated-jsx", f"{what} is never closed")
                # Skip the rest of the line: the unclosed part would only repeat the error.
                eol = text.find("\n", i)
                i = n if eol == -1 else eol
                continue
            if comp is None:
                i += 1
                continue
            out.components.append(comp)
            _mask(buf, text, comp.start, comp.end)
            i = comp.end
            continue
        i += 1
    if buf is not None:
        out.masked = _apply_masks(text, buf)
    out.work = scanner.work
    return out
