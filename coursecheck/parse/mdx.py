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
from dataclasses import dataclass, field
from functools import lru_cache

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


def _skip_js_string(text: str, i: int, quote: str) -> int:
    """``i`` is just after the opening quote; returns the offset after the closing one."""
    stop = _STRING_STOP[quote].search
    while True:
        m = stop(text, i)
        if m is None:
            raise _Unterminated("template literal" if quote == "`" else "string literal")
        i = m.start()
        ch = text[i]
        if ch == "\\":
            i += 2
        elif ch == quote:
            return i + 1
        elif ch == "\n":
            raise _Unterminated("string literal")
        else:  # "${" in a template literal
            i = _skip_js_expression(text, i + 2)


def _skip_js_expression(text: str, i: int) -> int:
    """``i`` is just after a ``{``; returns the offset after the matching ``}``."""
    n = len(text)
    depth = 1
    stop = _EXPRESSION_STOP.search
    while True:
        m = stop(text, i)
        if m is None:
            raise _Unterminated("expression")
        i = m.start()
        ch = text[i]
        if ch in "\"'`":
            i = _skip_js_string(text, i + 1, ch)
            continue
        if ch == "/":
            nxt = text[i + 1 : i + 2]
            if nxt == "*":
                close = text.find("*/", i + 2)
                if close == -1:
                    raise _Unterminated("comment")
                i = close + 2
            elif nxt == "/":
                close = text.find("\n", i)
                i = n if close == -1 else close
            else:
                i += 1
            continue
        if ch == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


def _parse_tag(text: str, start: int) -> RawComponent | None:
    """Parse a JSX tag at ``text[start] == '<'``. None when it is not a tag at all."""
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
        i = _SPACE.match(text, i).end()
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
            end = _skip_js_expression(text, i + 1)
            comp.props.append(RawProp("...", "spread", i, end, text[i + 1 : end - 1], i + 1))
            i = end
            continue
        am = _ATTR_NAME.match(text, i)
        if not am:
            raise _Unterminated(f"JSX element <{name}>")
        attr = am.group()
        attr_start = i
        i = _SPACE.match(text, am.end()).end()
        if i < n and text[i] == "=":
            i = _SPACE.match(text, i + 1).end()
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
                end = _skip_js_expression(text, i + 1)
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


def _mask(buf: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    # Ranges come in increasing, non-overlapping order; the masked text is built once at the end.
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


def _find_code_span_end(text: str, i: int) -> int:
    """``text[i]`` starts a backtick run; return the end of the code span, or of the run."""
    j = i
    while j < len(text) and text[j] == "`":
        j += 1
    run = text[i:j]
    limit = text.find("\n\n", j)
    if limit == -1:
        limit = len(text)
    k = j
    while True:
        k = text.find(run, k, limit)
        if k == -1:
            return j
        e = k + len(run)
        if (e >= len(text) or text[e] != "`") and text[k - 1] != "`":
            return e
        while e < len(text) and text[e] == "`":
            e += 1
        k = e


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
                    out.problems.append((i, "unterminated-fence", f"code fence {marker} is never closed"))
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
            i = _find_code_span_end(text, i)
            continue
        if ch == "<" and text.startswith("<!--", i):
            close = text.find("-->", i + 4)
            if close == -1:
                out.problems.append((i, "unterminated-comment", "HTML comment <!-- is never closed"))
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
                close = text.find("*/", i + 3)
                end = text.find("}", close + 2) if close != -1 else -1
                if close == -1 or end == -1 or text[close + 2 : end].strip():
                    out.problems.append((i, "unterminated-comment", "MDX comment {/* is never closed with */}"))
                    i += 3
                    continue
                out.comments.append(RawComment(text[i + 3 : close].strip(), i, end + 1))
                _mask(buf, text, i, end + 1)
                i = end + 1
                continue
            try:
                end = _skip_js_expression(text, i + 1)
            except _Unterminated as exc:
                what = "expression" if exc.what == "expression" else f"expression: its {exc.what}"
                out.problems.append((i, "unterminated-expression", f"MDX {what} is never closed"))
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
                comp = _parse_tag(text, i)
            except _Unterminated as exc:
                name_match = _TAG_NAME.match(text, i + 1)
                name = name_match.group() if name_match else ""
                what = exc.what if exc.what.startswith("JSX") else f"JSX element <{name}>: its {exc.what}"
                out.problems.append((i, "unterminated-jsx", f"{what} is never closed"))
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
    return out
