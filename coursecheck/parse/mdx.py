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

# A fence opener at a line start, after the prefixes of the containers it may be in: block
# quotes (``>``) and a list item's marker on the same line. Indentation is not limited: in
# MDX there is no indented code (micromark opens and closes fences at any indentation), and
# in Markdown a fence in a list item is indented with the item's content.
_FENCE_OPEN = re.compile(r"([ \t>]*)((?:[-*+]|\d{1,9}[.)])[ \t]+)?(`{3,}|~{3,})([^\n]*)$", re.M)
_QUOTE_PREFIX = re.compile(r"[ \t]{0,3}>[ \t]?")
_ESM_START = re.compile(r"(?:import\s*[\w{*'\"]|export\s+(?:const|let|var|function|default|class|async|\{|\*))")
# What the scan stops at. A line break matters only where a fence or ESM may open on the
# next line (checked there); the others are skipped by the regex engine.
_LINE_OPENER = r"\n(?=[ \t>]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?(?:```|~~~)|import|export)"
_INTERESTING = re.compile(r"[`{<\\]|" + _LINE_OPENER)
_INTERESTING_MARKDOWN = re.compile(r"[`\\]|<!--|" + _LINE_OPENER)  # no JSX nor expressions
# JSX names start with a letter (any script), ``$`` or ``_``; what else follows ``<`` in MDX
# prose (a digit, ``=``, ``-``, ``!``...) is an error of the compiler, not text.
_TAG_NAME = re.compile(r"(?:[^\W\d]|\$)[\w.:$-]*")
_NAME_START = re.compile(r"[^\W\d]|\$")
_ATTR_NAME = re.compile(r"[A-Za-z_$][\w:$.-]*")
_AUTOLINK = re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>")
_SPACE = re.compile(r"\s*")
_SPACE_QUOTED = re.compile(r"(?:(?<=\n)[ \t]{0,3}>|\s)*")  # blanks, and a block quote's ">" after a newline


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
    masks: list[tuple[int, int]] = field(default_factory=list)  # the masked ranges, in order


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

    def __init__(self, text: str, needle: str | re.Pattern[str]) -> None:
        self.text = text
        self.needle = needle
        self._from = len(text) + 1  # no answer yet
        self._result = -1

    def find(self, start: int) -> int:
        if self._from <= start and (self._result == -1 or start <= self._result):
            return self._result
        needle = self.needle
        if isinstance(needle, str):
            result = self.text.find(needle, start)
        else:
            m = needle.search(self.text, start)
            result = -1 if m is None else m.start()
        self._from, self._result = start, result
        return result


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


def _parse_tag(scanner: _Scanner, start: int, quoted: bool = False) -> RawComponent | None:
    """Parse a JSX tag at ``text[start] == '<'``. None when it is not a tag at all. In a block
    quote (``quoted``) a tag that spans lines has the quote's ``>`` at the start of each."""
    text = scanner.text
    space = _SPACE_QUOTED if quoted else _SPACE
    i = start + 1
    closing = False
    if i < len(text) and text[i] == "/":
        closing = True
        i += 1
    if i < len(text) and text[i] == ">":  # fragment <> or </>
        return RawComponent("/" if closing else "", start, i + 1)
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
        i = space.match(text, i).end()  # type: ignore[union-attr]  # \s* always matches
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
        i = space.match(text, am.end()).end()  # type: ignore[union-attr]  # \s* always matches
        if i < n and text[i] == "=":
            i = space.match(text, i + 1).end()  # type: ignore[union-attr]  # \s* always matches
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


_NEWLINE = re.compile("\n")
_LINE_PREFIX = re.compile(r"[ \t>]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?")
_BLANK_LINE = re.compile(r"\n[ \t>]*\n")  # a paragraph's end (in a block quote too)


def _prefix_end(text: str, line_start: int) -> int:
    """The end of the container prefix of the line starting at ``line_start``."""
    m = _LINE_PREFIX.match(text, line_start)
    return m.end() if m else line_start


class _LinePrefixes:
    """The start of the line of an offset and the end of its container prefix (block quote
    markers, a list marker, indentation), for offsets that only move forward: each line is
    read once (a line of many tags asked for each: quadratic)."""

    __slots__ = ("_begin", "_prefix_end", "_upto", "body_start", "text")

    def __init__(self, text: str, body_start: int) -> None:
        self.text = text
        self.body_start = body_start
        self._upto = self._begin = body_start
        self._prefix_end = -1

    def prefix(self, offset: int) -> tuple[int, int]:
        if offset < self._upto:  # not forward: answer without the cache
            begin = max(self.text.rfind("\n", 0, offset) + 1, self.body_start)
            return begin, _prefix_end(self.text, begin)
        newline = self.text.rfind("\n", self._upto, offset)
        self._upto = offset
        if newline != -1:
            self._begin, self._prefix_end = newline + 1, -1
        if self._prefix_end == -1:
            self._prefix_end = _prefix_end(self.text, self._begin)
        return self._begin, self._prefix_end


def _balance(text: str, comps: list[RawComponent], body_start: int) -> list[tuple[int, str, str]]:
    """What the MDX compiler says of tags left open or closed out of turn.

    A line made of tags only (after container prefixes, with blanks between) holds *flow*
    tags: they nest across blocks and must be closed before the end of the file. Other tags
    are *text* tags, in a paragraph: they must be closed in that paragraph (it ends at a blank
    line), and a text tag cannot close a flow one. The nesting of containers (block quotes,
    list items) is not followed: a tag closed in another container is not reported.
    """
    problems: list[tuple[int, str, str]] = []
    n = len(text)
    count = len(comps)
    flow = [False] * count
    k = 0
    while k < count:
        first = comps[k]
        line_start = max(text.rfind("\n", 0, first.start) + 1, body_start)
        eol = text.find("\n", first.start)
        eol = n if eol == -1 else eol
        pos = _prefix_end(text, line_start)
        ok = True
        j = k
        while j < count and comps[j].start < eol:
            if ok and text[pos : comps[j].start].strip():
                ok = False
            pos = comps[j].end
            eol = max(eol, pos)
            j += 1
        if ok:
            after = text.find("\n", pos)
            ok = not text[pos : n if after == -1 else after].strip()
        for x in range(k, j):
            flow[x] = ok
        k = j

    def shown(name: str) -> str:
        return f"<{name}>" if name else "<>"

    newlines: list[int] = []

    def line_of(offset: int) -> int:
        if not newlines:
            newlines.extend(m.start() for m in _NEWLINE.finditer(text))
            newlines.append(n)
        return bisect_left(newlines, offset) + 1

    flow_stack: list[RawComponent] = []
    text_stack: list[RawComponent] = []
    paragraph_end = -1
    for comp, is_flow in zip(comps, flow, strict=True):
        if text_stack and (is_flow or comp.start > paragraph_end):
            top = text_stack[-1]
            problems.append((top.start, "unclosed-jsx", f"JSX element {shown(top.name)} is not closed before the end "
                             "of its paragraph (a tag in a line of text must be closed in the same paragraph)"))
            text_stack = []
        if comp.self_closing:
            continue
        closing = comp.name.startswith("/")
        name = comp.name[1:] if closing else comp.name
        stack = flow_stack if is_flow else text_stack
        if not closing:
            if not is_flow and not text_stack:
                blank = _BLANK_LINE.search(text, comp.end)
                paragraph_end = n if blank is None else blank.start()
            stack.append(comp)
            continue
        if stack and stack[-1].name == name:
            stack.pop()
            continue
        depth = next((d for d in range(len(stack) - 1, -1, -1) if stack[d].name == name), -1)
        if depth != -1:
            inner = stack[-1]
            problems.append((comp.start, "unclosed-jsx", f"closing tag </{name}> before {shown(inner.name)} "
                             f"(line {line_of(inner.start)}) is closed"))
            del stack[depth:]
        elif not is_flow and flow_stack and flow_stack[-1].name == name:
            problems.append((comp.start, "unclosed-jsx", f"closing tag </{name}> in a line of text closes the "
                             f"{shown(name)} of line {line_of(flow_stack[-1].start)}, which stands "
                             "on a line of its own: put the closing tag on a line of its own too"))
            flow_stack.pop()
        elif stack:
            open_ = stack[-1]
            problems.append((comp.start, "unclosed-jsx", f"closing tag </{name}> where </{open_.name}> is expected "
                             f"(for the {shown(open_.name)} of line {line_of(open_.start)})"))
            stack.pop()
        else:
            problems.append((comp.start, "unclosed-jsx", f"closing tag </{name}> has no opening tag"
                             + ("" if is_flow else " in its paragraph")))
    if text_stack:
        top = text_stack[-1]
        problems.append((top.start, "unclosed-jsx", f"JSX element {shown(top.name)} is not closed before the end "
                         "of its paragraph (a tag in a line of text must be closed in the same paragraph)"))
    for comp in flow_stack:
        problems.append((comp.start, "unclosed-jsx", f"JSX element {shown(comp.name)} is never closed"))
    return problems


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
# Where a paragraph (and so a code span) ends: a blank line, or a fence opener (a fence
# interrupts a paragraph: a run of backticks before it cannot close after it).
# (A backtick fence's info has no backtick: "```b` c" is no opener and interrupts nothing.)
_PARAGRAPH_END = re.compile(r"\n[ \t]*\n|\n(?=[ \t>]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?(?:```[^`\n]*(?:\n|\Z)|~~~))")


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
        self.blank_line = _NextFinder(text, _PARAGRAPH_END)
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
def _fence_closer(marker: str, max_indent: int | None) -> re.Pattern[str]:
    indent = r"[ \t]*" if max_indent is None else "[ \t]{0," + str(max_indent) + "}"
    return re.compile(r"^" + indent + re.escape(marker[0]) + "{" + str(len(marker)) + r",}[ \t]*$", re.M)


# Block quotes deeper than this are read as this deep (markdown-it-py nests at most 100):
# each line of a fence is checked for as many ">" as its opener has.
_MAX_QUOTE_DEPTH = 100


def _indent_width(prefix: str) -> int:
    """Columns of blanks, tabs to the next multiple of 4 (as CommonMark counts them)."""
    if "\t" not in prefix:
        return len(prefix)
    width = 0
    for ch in prefix:
        width += 4 - width % 4 if ch == "\t" else 1
    return width


def _read_fence(text: str, start: int, m: re.Match[str], mdx: bool) -> RawFence:
    """The fence opened by ``m`` (a match of ``_FENCE_OPEN`` at the line start ``start``).

    A fence ends at a closing fence (the same character, at least as many) or where its
    container ends: a line with fewer ``>`` than the opener's block quote, or, for a fence
    opened on a list item's first line, a line indented less than the item's content. MDX
    closes fences at any indentation (it has no indented code); Markdown up to three columns
    deeper than the opener (a list item's fence is indented with the item).
    """
    n = len(text)
    prefix, item, marker, info = m.group(1), m.group(2) or "", m.group(3), m.group(4)
    depth = min(prefix.count(">"), _MAX_QUOTE_DEPTH)
    opener_end = m.end()
    content_start = min(opener_end + 1, n)
    indent = _indent_width(prefix[prefix.rfind(">") + 1 :] if depth else prefix)
    item_column = _indent_width(prefix) + len(item) if item else 0  # a list item's content column
    closer = _fence_closer(marker, None if mdx else indent + len(item) + 3)
    if not depth and not item_column:
        cm = closer.search(text, content_start)
        if cm:
            return RawFence(marker, info.strip(), start, content_start, cm.start(), cm.end(), True)
        return RawFence(marker, info.strip(), start, content_start, n, n, False)
    # In a container: line by line (fences in block quotes and on list item lines are few).
    pos = content_start
    while pos < n:
        eol = text.find("\n", pos)
        eol = n if eol == -1 else eol
        line = text[pos:eol]
        rest = line
        for _ in range(depth):
            q = _QUOTE_PREFIX.match(rest)
            if q is None:
                # The block quote ends before this line, and the fence with it.
                end = pos - 1 if pos > content_start else opener_end
                return RawFence(marker, info.strip(), start, content_start, pos, max(end, opener_end), True)
            rest = rest[q.end() :]
        if item_column and rest.strip() and _indent_width(rest[: len(rest) - len(rest.lstrip(" \t"))]) < item_column:
            end = pos - 1 if pos > content_start else opener_end
            return RawFence(marker, info.strip(), start, content_start, pos, max(end, opener_end), True)
        if closer.match(rest):
            return RawFence(marker, info.strip(), start, content_start, pos, eol, True)
        pos = eol + 1
    return RawFence(marker, info.strip(), start, content_start, n, n, False)


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
    not_an_opener = last_fence_end = -1  # a fence-like line that opens none; where the last fence ended

    lines = _LinePrefixes(text, body_start)

    def line_start_at(offset: int) -> bool:
        """Whether only container prefixes stand before ``offset`` on its line."""
        return lines.prefix(offset)[1] >= offset

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
            m = _FENCE_OPEN.match(text, i)
            if m and m.group(3)[0] == "`" and "`" in m.group(4):
                # Not an opener (CommonMark: no backtick in a backtick fence's info string),
                # but its author meant one: a later fence left open is this line's doing.
                not_an_opener = i
            elif m:
                fence = _read_fence(text, i, m, mdx)
                if not fence.closed:
                    marker = fence.marker
                    if not_an_opener > last_fence_end:
                        fence_line = text.count("\n", 0, i) + 1
                        report(
                            not_an_opener,
                            "unterminated-fence",
                            f"this line does not open a code fence (a {marker[0]} fence's info string cannot contain "
                            f"{marker[0]}), so the {marker} on line {fence_line} opens one that is never closed",
                        )
                    else:
                        report(i, "unterminated-fence", f"code fence {marker} is never closed")
                out.fences.append(fence)
                i = last_fence_end = fence.end
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
                # Still read as a comment (suppressions), but the compiler rejects it.
                report(i + 1, "html-comment", "an HTML comment <!-- --> is not MDX (the compiler rejects it): "
                       "write {/* ... */}")
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
                if exc.what == "expression":
                    # No "}" closes it before the end of the file: to the MDX compiler the rest
                    # of the file is this expression (it names this "{" and reads nothing
                    # after it), so nothing after it is Markdown to check either.
                    _mask(buf, text, i, n)
                    i = n
                    break
                eol = text.find("\n", i)
                i = n if eol == -1 else eol
                continue
            if not line_start_at(i):
                blank = _BLANK_LINE.search(text, i, end)
                if blank is not None:
                    # An expression in a paragraph ends with it: MDX reads the paragraph's
                    # "{" as never closed (a flow expression, alone on its lines, may span them).
                    report(i, "unterminated-expression", "MDX expression is never closed in its paragraph "
                           "(a blank line follows before its })")
                    i = blank.start() + 1
                    continue
            _mask(buf, text, i, end)
            i = end
            continue
        if ch == "<":
            nxt = text[i + 1 : i + 2]
            if not nxt or nxt.isspace():
                i += 1  # "a < b": not a tag
                continue
            if text.startswith("](", i - 2):
                eol = text.find("\n", i)
                close = text.find(">", i, n if eol == -1 else eol)
                i = close + 1 if close != -1 else i + 1  # a link destination in <...>
                continue
            auto = _AUTOLINK.match(text, i)
            if auto:
                report(i, "autolink", "an autolink <...> is not MDX (the compiler reads it as a JSX tag): write "
                       "[text](url) or the bare URL")
                i = auto.end()
                continue
            if nxt not in "/>" and not _NAME_START.match(nxt):
                report(i + 1, "lone-angle", f"'<' followed by '{nxt}' starts a JSX tag in MDX, and '{nxt}' cannot "
                       "start a tag name: write \\< (or &lt;) for a less-than sign")
                i += 1
                continue
            line_begin, prefix_end = lines.prefix(i)
            quoted = ">" in text[line_begin:prefix_end]
            try:
                comp = _parse_tag(scanner, i, quoted)
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
                name_match = _TAG_NAME.match(text, i + 1 + (nxt == "/"))
                end = name_match.end() if name_match else i + 1
                bad = text[end : end + 1]
                report(end, "bad-tag", f"unexpected '{bad}' in the JSX tag name <{text[i + 1 : end]}...: MDX reads "
                       "'<' followed by a letter as a tag (write \\< for a less-than sign)")
                i += 1
                continue
            out.components.append(comp)
            _mask(buf, text, comp.start, comp.end)
            i = comp.end
            continue
        i += 1
    if mdx and out.components:
        balance = _balance(text, out.components, body_start)
        if balance:
            # One problem per line, as report() keeps them: the tag problems of lines that
            # have one already are left out (an unclosed attribute's tag, again).
            newlines = [m.start() for m in _NEWLINE.finditer(text)]
            lines_reported = {bisect_left(newlines, offset) for offset, _, _ in out.problems}
            for problem in balance:
                line = bisect_left(newlines, problem[0])
                if line not in lines_reported:
                    lines_reported.add(line)
                    out.problems.append(problem)
            out.problems.sort(key=lambda p: p[0])
    if buf is not None:
        out.masked = _apply_masks(text, buf)
        out.masks = buf
    out.work = scanner.work
    return out
