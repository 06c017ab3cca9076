"""Markdown and MDX documents: frontmatter, MDX pre-pass, markdown-it-py, exact positions.

markdown-it-py gives line ranges for blocks but no columns for inline text. We recover them
by aligning each inline child with the source, moving forward only: children come in source
order, so ``str.find`` from a cursor lands on the right place; escapes and entities, whose
text differs from the source, fall back to a character-by-character alignment.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from coursecheck.model import (
    CodeBlock,
    Comment,
    Component,
    Document,
    Finding,
    Frontmatter,
    Heading,
    Link,
    Prop,
    Segment,
)
from coursecheck.parse.mdx import blank_out, prepass
from coursecheck.parse.yamlflat import load_flat
from coursecheck.parse.yamlpos import FRONTMATTER_LIMITS, YamlProblem, load_with_places
from coursecheck.text import LineIndex

if TYPE_CHECKING:
    from markdown_it.token import Token

_FM_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)
# Parse problems of one rule reported per file, then one saying how many more: a file of
# 150,000 unclosed expressions (one per line) made as many findings (the findings of rules
# are capped by the engine, `max-findings`; parse problems are made here).
MAX_PROBLEMS = 200


def problem(doc: Document, rule_id: str, message: str, start: int, end: int | None = None) -> Finding:
    span = doc.span(start, end)
    return Finding(rule_id, message, doc.relpath, span).set_snippet(doc.lines.line_text(span.line))


def parse_frontmatter(doc: Document) -> int:
    """Parse YAML frontmatter into ``doc.frontmatter``; returns where the body starts."""
    text = doc.source
    if not (text.startswith("---\n") or text == "---"):
        return 0
    close = _FM_CLOSE.search(text, 4)
    if close is None:
        doc.problems.append(
            problem(doc, "parse/frontmatter", "frontmatter opened with --- on line 1 is never closed", 0, 3)
        )
        return 0
    body_start = close.end() + 1 if close.end() < len(text) else close.end()
    yaml_text = text[4 : close.start()]
    fm_span = doc.span(0, close.end())
    try:
        # Flat frontmatter (most of it) is read without composing it; the rest is composed.
        flat = load_flat(yaml_text, doc.lines, 4)
        data, places = flat if flat is not None else load_with_places(yaml_text, doc.lines, 4, FRONTMATTER_LIMITS)
    except YamlProblem as exc:
        what = "frontmatter is not read" if exc.limit else "frontmatter is not valid YAML"
        doc.problems.append(problem(doc, "parse/frontmatter", f"{what}: {exc}", exc.offset))
        doc.frontmatter = Frontmatter({}, fm_span)
        return body_start
    if data is None:
        data = {}
    if not isinstance(data, dict):
        doc.problems.append(
            problem(doc, "parse/frontmatter", "frontmatter must be a mapping of fields (key: value)", 4)
        )
        data = {}
    doc.frontmatter = Frontmatter(data, fm_span, places)
    for path, span in places.items():
        if path and path[-1] == "#key":
            continue
        value = _get(data, path)
        if isinstance(value, str) and value:
            start = doc.lines.offset(span.line, span.column)
            if doc.source[start : start + 1] in ("'", '"'):
                start += 1
            doc.segments.append(Segment("frontmatter", value, [(0, start)], ".".join(map(str, path))))
    return body_start


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


_ALNUM = re.compile(r"[^\W_]")  # what str.isalnum() accepts, one character


def _has_words(source: str, start: int, end: int) -> bool:
    return start < end and _ALNUM.search(source, start, end) is not None


_MARKUP_TOKENS = frozenset({"em_open", "em_close", "strong_open", "strong_close", "s_open", "s_close"})


# How far the character-by-character alignment looks for the next character of a text. In
# one text of an inline token, consecutive characters stand at most an escape or an entity
# apart in the source (the longest, ``&CounterClockwiseContourIntegral;``, is 33
# characters); the first may come after blanks (table padding, masked JSX) and markup. A
# character not found that near is not there (an entity's character), and searching the
# rest of the paragraph for it per character was quadratic.
_ALIGN_WINDOW = 64
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_NONSPACE = re.compile(r"\S")


class _Aligner:
    """Finds inline children in the source, moving forward from a cursor."""

    __slots__ = ("_alnum_at", "_alnum_from", "_nonspace_at", "_nonspace_from", "cursor", "end", "source")

    def __init__(self, source: str, start: int, end: int) -> None:
        self.source = source
        self.cursor = start
        self.end = end
        # The last answers of next_alnum and next_nonspace: each holds from its start to it.
        self._alnum_from = self._nonspace_from = end + 1
        self._alnum_at = self._nonspace_at = end

    def find(self, needle: str) -> int:
        if not needle:
            return self.cursor
        pos = self.source.find(needle, self.cursor, self.end)
        return pos

    def next_alnum(self, start: int) -> int:
        """Offset of the first letter or digit at or after ``start`` (``end`` when none)."""
        if not self._alnum_from <= start <= self._alnum_at:
            m = _ALNUM.search(self.source, start, self.end)
            self._alnum_from, self._alnum_at = start, m.start() if m else self.end
        return self._alnum_at

    def next_nonspace(self, start: int) -> int:
        """Offset of the first non-blank character at or after ``start`` (``end`` when none)."""
        if not self._nonspace_from <= start <= self._nonspace_at:
            m = _NONSPACE.search(self.source, start, self.end)
            self._nonspace_from, self._nonspace_at = start, m.start() if m else self.end
        return self._nonspace_at

    def next_text(self, needle: str) -> int:
        """Where ``needle`` is in the source if it comes next (only markup between the cursor
        and it: markers, prefixes, escapes, no other words), else -1.

        The search stops at the first word: a copy of the needle after it is not this text.
        """
        cursor = self.cursor
        limit = self.next_alnum(cursor) + len(needle)
        return self.source.find(needle, cursor, limit if limit < self.end else self.end)

    def take(self, needle: str) -> list[tuple[int, int]]:
        """Anchors ``(index_in_needle, source_offset)`` for ``needle``; advances the cursor."""
        pos = self.next_text(needle) if needle else self.cursor
        # Markup (markers, prefixes, escapes) may stand between the cursor and the text, but
        # not other words: then the exact copy found is a later one, and the text here was
        # written differently (escapes, entities) — align it character by character.
        if pos != -1:
            self.cursor = pos + len(needle)
            return [(0, pos)]
        anchors: list[tuple[int, int]] = []
        expected = -1
        source, end = self.source, self.end
        for k, ch in enumerate(needle):
            cursor = self.cursor
            window = (self.next_nonspace(cursor) if k == 0 else cursor) + _ALIGN_WINDOW
            stop = window if window < end else end
            pos = source.find(ch, cursor, stop)
            after = pos + 1
            amp = source.find("&", cursor, pos if pos != -1 else stop)
            if amp != -1 and ch != "&":
                # An entity before the character's next copy may be what stands for it
                # (``&lt;<``: the first "<" is the entity): placed at its "&".
                entity = _ENTITY.match(source, amp)
                if entity is not None and html.unescape(entity.group()).startswith(ch):
                    pos, after = amp, entity.end()
                elif pos == -1:
                    pos, after = amp, amp + 1
            if pos == -1:
                pos = after = cursor
            if pos != expected:
                anchors.append((k, pos))
            self.cursor = after
            expected = pos + 1
        return anchors


def _inline(
    doc: Document,
    token: Token,
    scope: str,
    info: str,
    aligner: _Aligner,
    definitions: dict[str, tuple[int, int]] | None = None,
) -> Segment:
    """Build the text segment of an inline token; record links, images and inline code.

    ``definitions`` maps each reference label (:func:`_label_key`) to where its destination
    is written: a reference link's ``href_span`` is there, its ``span`` at the place of use.
    """
    children = token.children or ()
    if len(children) == 1 and children[0].type == "text" and children[0].content:
        # Most inline tokens are one plain text (a list item, a table cell, a heading).
        content = children[0].content
        return Segment(scope, content, aligner.take(content), info)
    text_parts: list[str] = []
    anchors: list[tuple[int, int]] = []
    length = 0
    # (href, start offset, index in text_parts at open): a link's text is joined from its own
    # parts (joining the whole paragraph at each link was quadratic in links per paragraph).
    link_stack: list[tuple[str, int, int, str]] = []  # (href, open offset, parts index, title)
    source = aligner.source  # the masked text markdown-it-py parsed (same offsets)
    find = source.find
    for child in children:
        kind = child.type
        if kind == "text":
            content = child.content
            if content:
                # The common case inline (what _Aligner.take does first): the text itself
                # is next in the source, with only markup before it.
                pos = aligner.next_text(content)
                if pos != -1:
                    aligner.cursor = pos + len(content)
                    anchors.append((length, pos))
                else:
                    for k, off in aligner.take(content):
                        anchors.append((length + k, off))
                text_parts.append(content)
                length += len(content)
        elif kind == "softbreak" or kind == "hardbreak":
            pos = find("\n", aligner.cursor, aligner.end)
            pos = aligner.cursor if pos == -1 else pos
            aligner.cursor = pos + 1
            anchors.append((length, pos))
            text_parts.append("\n")
            length += 1
        elif kind == "code_inline":
            # Find the backtick runs, not the content: the content may be a lone space,
            # and CommonMark turns newlines into spaces and strips one space at each end.
            fence = child.markup or "`"
            opening = _find_backtick_run(source, len(fence), aligner.cursor, aligner.end)
            start = aligner.cursor if opening == -1 else opening
            if opening != -1:
                content_start = opening + len(fence)
                closing = _find_backtick_run(source, len(fence), content_start, aligner.end)
                closing = content_start + len(child.content) if closing == -1 else closing
                raw = source[content_start:closing]
                strip = 1 if len(raw) >= 2 and raw[0] in " \n" and raw[-1] in " \n" and raw.strip() else 0
                if child.content:
                    anchors_ = [(0, content_start + strip)]
                    if "\n" in raw:
                        anchors_ = _align_multiline_code(source, child.content, content_start + strip, closing)
                    doc.segments.append(Segment("inline_code", child.content, anchors_, ""))
                aligner.cursor = closing + len(fence)
            # A gap in the prose: a pattern must not match across the code span.
            anchors.append((length, start))
            text_parts.append(" ")
            length += 1
        elif kind == "link_open":
            # An autolink opens with "<": a "[" later in the paragraph is another link's.
            bracket = source.find("<" if child.markup == "autolink" else "[", aligner.cursor, aligner.end)
            open_at = bracket if bracket != -1 else aligner.cursor
            if bracket != -1:
                aligner.cursor = bracket + 1
            # markdown-it-py percent-encodes destinations; keep them as the author wrote them.
            href = unquote(str(child.attrGet("href") or ""))
            link_stack.append((href, open_at, len(text_parts), str(child.attrGet("title") or "")))
        elif kind == "link_close" and link_stack:
            href, open_at, parts_from, title = link_stack.pop()
            link_text = "".join(text_parts[parts_from:])
            markup = child.markup
            form = "inline"
            if markup == "autolink":
                form = "autolink"
                close = source.find(">", aligner.cursor, aligner.end)
                end = close + 1 if close != -1 else aligner.cursor
                href_start = open_at + 1
                href_end = max(href_start, end - 1)
            else:
                # The link text ends at the first "]" after its children; what follows it
                # tells the form: "(destination)", "[label]", "[]" or nothing (shortcut).
                bracket = source.find("]", aligner.cursor, aligner.end)
                after = bracket + 1 if bracket != -1 else aligner.cursor
                inline = None
                if source.startswith("(", after):
                    inline = _destination(source, after, aligner.end, href, title, definitions, open_at + 1, bracket)
                if inline is not None:
                    href_start, href_end, end = inline
                else:
                    form = "reference"
                    label_start, label_end, end = _reference(source, open_at + 1, bracket, aligner.end, definitions)
                    definition = definitions.get(_label_key(source[label_start:label_end])) if definitions else None
                    href_start, href_end = definition if definition else (label_start, label_end)
            aligner.cursor = max(aligner.cursor, end)
            doc.links.append(
                Link(href, link_text, doc.span(open_at, end), doc.span(href_start, href_end), "markdown", form)
            )
        elif kind in _MARKUP_TOKENS and child.markup:
            # Step over emphasis markers so that a following text is not found inside them.
            pos = aligner.find(child.markup)
            if pos != -1 and not source[aligner.cursor : pos].strip():
                aligner.cursor = pos + len(child.markup)
        elif kind == "image":
            alt_start = source.find("![", aligner.cursor, aligner.end)
            if alt_start != -1:
                bracket = _alt_end(source, alt_start + 2, aligner.end, child.content)
                after = bracket + 1
                src = unquote(str(child.attrGet("src") or ""))
                form = "inline"
                inline = None
                if source.startswith("(", after):
                    title = str(child.attrGet("title") or "")
                    inline = _destination(source, after, aligner.end, src, title, definitions, alt_start + 2, bracket)
                if inline is not None:
                    src_start, src_end, end = inline
                else:
                    form = "reference"
                    label_start, label_end, end = _reference(source, alt_start + 2, bracket, aligner.end, definitions)
                    definition = definitions.get(_label_key(source[label_start:label_end])) if definitions else None
                    src_start, src_end = definition if definition else (label_start, label_end)
                aligner.cursor = max(aligner.cursor, end)
                doc.images.append(
                    Link(src, child.content, doc.span(alt_start, end), doc.span(src_start, src_end), "markdown", form)
                )
        elif kind == "html_inline":
            pos = aligner.find(child.content)
            if pos != -1:
                aligner.cursor = pos + len(child.content)
    return Segment(scope, "".join(text_parts), anchors or [(0, aligner.cursor)], info)


def _same_target(written: str, href: str) -> bool:
    """Whether a destination as written is the link target ``href`` (decoded) markdown-it-py
    made of it (it reads escapes and entities, percent-encodes, writes hosts in punycode)."""
    from markdown_it.common.normalize_url import normalizeLink
    from markdown_it.common.utils import unescapeAll

    return written == href or unquote(normalizeLink(unescapeAll(written))) == href


def _reference(
    source: str, text_start: int, bracket: int, end: int, definitions: dict[str, tuple[int, int]] | None
) -> tuple[int, int, int]:
    """``(label start, label end, link end)`` of a reference link whose text runs from
    ``text_start`` to the ``]`` at ``bracket``: ``[text][label]`` when a defined label with
    no bracket in it follows, ``[text][]``, else the shortcut ``[text]`` (what follows is
    prose: ``[two][Y, [B]`` is the link ``[two]``, text, and the link ``[B]``)."""
    after = bracket + 1
    if bracket != -1 and source.startswith("[", after):
        close = source.find("]", after + 1, end)
        if close == after + 1:
            return text_start, bracket, close + 1  # collapsed: [text][]
        if close != -1 and "[" not in source[after + 1 : close]:
            label = source[after + 1 : close]
            if definitions and _label_key(label) in definitions:
                return after + 1, close, close + 1
    return text_start, max(text_start, bracket), max(after, text_start)


def _destination(
    source: str,
    paren: int,
    end: int,
    href: str,
    title: str,
    definitions: dict[str, tuple[int, int]] | None,
    label_start: int,
    label_end: int,
) -> tuple[int, int, int] | None:
    """``(start, end, link end)`` of an inline link's destination in the ``(...)`` at
    ``paren``, read as CommonMark does (``<...>`` or a run without blanks whose parentheses
    balance, then the title markdown-it-py found, then ``)``); None when the link is a
    reference one followed by a ``(`` of the prose.

    A reference link (its label defined with the link's target) followed by ``(`` is read
    at most a few times its target's and title's length on: a paragraph of ``[r](`` with
    nothing closing them must not cost a scan to its end per link.
    """
    if not definitions:
        # The common form, ``(destination)`` with no blank, parenthesis, escape or title: what
        # the scan below reads of it, in one match.
        simple = _SIMPLE_DESTINATION.match(source, paren, end)
        if simple is not None:
            return simple.start(1), simple.end(1), simple.end()
    definition = definitions.get(_label_key(source[label_start:label_end])) if definitions else None
    if definition is not None and _same_target(source[definition[0] : definition[1]], href):
        end = min(end, paren + 2 * (len(href) + len(title)) + 64)
    i = paren + 1
    while i < end and source[i] in " \t\n":
        i += 1
    if source.startswith("<", i):
        close = source.find(">", i + 1, end)
        if close == -1:
            return None
        dest_start, dest_end, i = i + 1, close, close + 1
    else:
        dest_start = j = i
        depth = 0
        while j < end:
            ch = source[j]
            if ch == "\\":
                j += 2
                continue
            if ch <= " " or ch == "\x7f":  # blanks and ASCII control characters end it
                break
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            j += 1
        dest_end = i = min(j, end)
    while i < end and source[i] in " \t\n":
        i += 1
    if i < end and source[i] in "\"'(":  # a title (empty, "", has no attribute)
        # The title's closing delimiter: its text in the source is no shorter than the
        # title markdown-it-py decoded (escapes and entities are longer).
        delimiter = ")" if source[i] == "(" else source[i]
        close = source.find(delimiter, i + 1 + len(title), end)
        while close != -1 and source[close - 1] == "\\":
            close = source.find(delimiter, close + 1, end)
        if close == -1:
            return None
        i = close + 1
        while i < end and source[i] in " \t\n":
            i += 1
    if i >= end or source[i] != ")":
        return None
    if definition is not None and not _same_target(source[dest_start:dest_end], href):
        if _same_target(source[definition[0] : definition[1]], href):
            return None
    return dest_start, dest_end, i + 1


_SIMPLE_DESTINATION = re.compile(r"\(([^\x00-\x20\x7f()<\\]+)\)")


def _alt_end(source: str, start: int, end: int, alt: str) -> int:
    """The ``]`` closing an image's alt text that starts at ``start``: brackets nest, escapes
    do not count. The scan reads at most a few times the alt's length (an unclosed ``![`` per
    word of a paragraph must not make it quadratic): where none is found, ``start - 1``."""
    if source.startswith(alt + "]", start):
        return start + len(alt)
    depth = 0
    i = start
    stop = min(end, start + 4 * len(alt) + 256)
    while i < stop:
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return start - 1


def _heading_text(token: Token, masked: str, masks: list[tuple[int, int]], start: int, end: int) -> str:
    """A heading's text as a reader sees it: its text and the content of its code spans (the
    prose segment has a gap for each span, so that patterns do not match across it; a heading
    made of inline code, ``## `useAuth()` ``, is still named by its words). JSX masked in it
    is no text (``<code>mount<wbr />Waitlist()</code>`` is ``mountWaitlist()``): the
    characters of a text that were masked (``start``..``end`` of ``masked``) are dropped."""
    parts = []
    first = bisect_right(masks, (start, -1)) - 1 if masks else 0
    near = [r for r in masks[max(first, 0) : first + 64] if r[1] > start and r[0] < end] if masks else []
    cursor = start
    for child in token.children or ():
        kind = child.type
        if kind == "text" or kind == "code_inline":
            content = child.content
            if near and content:
                pos = masked.find(content, cursor, end)
                if pos != -1:
                    cursor = pos + len(content)
                    if kind == "text":
                        content = "".join(
                            ch for k, ch in enumerate(content) if not any(a <= pos + k < b for a, b in near)
                        )
            parts.append(content)
        elif kind == "softbreak" or kind == "hardbreak":
            parts.append(" ")
    return "".join(parts).strip()


def _label_key(label: str) -> str:
    """A reference label as CommonMark matches it: case-folded, inner whitespace collapsed."""
    return " ".join(label.split()).casefold()


# A link reference definition's start: "[label]:" at a line start, after block quote markers
# and indentation; its destination follows, on the same line or the next.
# Its label has no unescaped bracket (CommonMark): a label's scan stops at the next "[".
_DEFINITION = re.compile(r"^[ \t>]*\[((?:[^\[\]\\\n]|\\.|\n(?![ \t]*\n)){1,999})\]:[ \t]*(?:\n[ \t>]*)?(<[^>\n]*>|\S+)(?=[ \t]*(?:\n|$|[\"'(]))", re.M)


def _definitions(
    source: str, code_lines: set[int], index: Any, references: dict[str, Any]
) -> dict[str, tuple[int, int]]:
    """Where each link reference definition's destination is written (the first definition
    of a label wins, as in CommonMark). A candidate counts only where markdown-it-py read a
    definition of that label with that destination (``references``, its env's): a line
    like a definition inside a paragraph or a code block is none."""
    from markdown_it.common.utils import normalizeReference

    found: dict[str, tuple[int, int]] = {}
    for m in _DEFINITION.finditer(source):
        key = _label_key(m.group(1))
        if not key or key in found:
            continue
        reference = references.get(normalizeReference(m.group(1)))
        if reference is None:
            continue
        start, end = m.start(2), m.end(2)
        if source[start] == "<":
            start, end = start + 1, end - 1
        written = source[start:end]
        if not _same_target(written, unquote(str(reference.get("href")))):
            continue
        if code_lines and index.span(m.start()).line in code_lines:
            continue
        found[key] = (start, end)
    return found


def _find_backtick_run(source: str, length: int, start: int, end: int) -> int:
    """Offset of the next run of exactly ``length`` backticks (a code span's closer), or -1."""
    i = source.find("`", start, end)
    while i != -1:
        j = i
        while j < end and source[j] == "`":
            j += 1
        if j - i == length:
            return i
        i = source.find("`", j, end)
    return -1


def _align_multiline_code(source: str, content: str, start: int, end: int) -> list[tuple[int, int]]:
    """Anchors for a code span that crosses lines: each line break became a space and the
    next line's indentation (or container prefix) was dropped, or a tab of it expanded."""
    anchors: list[tuple[int, int]] = []
    j, expected = start, -1
    for k, ch in enumerate(content):
        if ch == " " and j < end and source[j] == "\n":
            pos = j
            j += 1
            if k + 1 < len(content):
                nxt = source.find(content[k + 1], j, end)
                j = nxt if nxt != -1 else j
        elif ch == " " and (j >= end or source[j] != " "):
            pos = j  # a tab of the indentation, expanded to spaces by markdown-it-py
        else:
            found = source.find(ch, j, end)
            pos = found if found != -1 else j
            j = pos + 1
        if pos != expected:
            anchors.append((k, pos))
        expected = pos + 1
    return anchors or [(0, start)]


def _code_segment(doc: Document, token: Token, language: str, masked: str) -> CodeBlock:
    """A fenced or indented code block with per-line anchors (containers strip indentation,
    tabs may be expanded to spaces: the rest of each line is found at the line's end)."""
    index = doc.lines
    first, last = token.map or (0, 0)
    fenced = token.type == "fence"
    content_first = first + 2 if fenced else first + 1  # 1-based line of the first content line
    content = token.content
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    anchors: list[tuple[int, int]] = []
    pos = 0
    if content and content_first <= index.line_count:
        content_start = index.line_start(content_first)
        if masked.startswith(content, content_start) and (
            content[-1] == "\n" or content_start + len(content) == len(masked)
        ):
            # The content is the source as written (a fence outside containers): every
            # line is found where it starts; the anchors are those of the general case.
            offset = content_start
            for line in lines:
                anchors.append((pos, offset))
                if line[:1] == " ":
                    lead = len(line) - len(line.lstrip(" "))
                    if lead < len(line):
                        anchors.append((pos + lead, offset + lead))
                pos += len(line) + 1
                offset += len(line) + 1
            lines_done = True
        else:
            lines_done = False
    else:
        lines_done = False
    for k, line in enumerate(() if lines_done else lines):
        line_no = content_first + k
        if line_no > index.line_count:
            break
        line_start = index.line_start(line_no)
        src = masked[line_start : line_start + len(index.line_text(line_no))]
        lead = len(line) - len(line.lstrip(" "))
        rest = line[lead:]
        if src.endswith(rest):
            rest_start = line_start + len(src) - len(rest)
            anchors.append((pos, max(line_start, rest_start - lead)))
            if lead and rest:
                anchors.append((pos + lead, rest_start))
        else:
            anchors.append((pos, line_start))
        pos += len(line) + 1
    text = "\n".join(lines)
    if not anchors:
        anchors = [(0, index.line_start(min(content_first, index.line_count)))]
    span = doc.span(index.line_start(first + 1), index.line_end(min(last, index.line_count)))
    return CodeBlock(language, Segment("code", text, anchors, language), span)


# The JSX props whose string value is a link (``<Card href="/x">``, ``<Link to="/y">``): in
# mdast they are attributes, in the model links of origin "jsx" (the harness says so).
LINK_PROPS = ("href", "to")


def parse_markdown(
    path: Path,
    relpath: str,
    text: str,
    *,
    mdx: bool,
    has_bom: bool = False,
    link_props: tuple[str, ...] = LINK_PROPS,
) -> Document:
    index = LineIndex(text)
    doc = Document(path, relpath, "mdx" if mdx else "markdown", text, index, has_bom=has_bom)
    body_start = parse_frontmatter(doc)
    pre = prepass(text, mdx=mdx, body_start=body_start)
    masked = pre.masked
    if body_start:
        head = blank_out(text[:body_start])
        masked = head + masked[body_start:]
    rules = ["parse/unterminated-fence" if code == "unterminated-fence" else "parse/mdx-syntax" for _, code, _ in pre.problems]
    totals = Counter(rules)
    reported: Counter[str] = Counter()
    for (offset, _code, message), rule in zip(pre.problems, rules, strict=True):
        reported[rule] += 1
        if reported[rule] <= MAX_PROBLEMS:
            doc.problems.append(problem(doc, rule, message, offset, offset + 1))
        elif reported[rule] == MAX_PROBLEMS + 1:
            more = totals[rule] - MAX_PROBLEMS
            note = f"{more} more problems like the {MAX_PROBLEMS} above, from this line on, are not reported; fix those first"
            doc.problems.append(problem(doc, rule, note, offset, offset + 1))
    for raw_comment in pre.comments:
        doc.comments.append(Comment(raw_comment.text, doc.span(raw_comment.start, raw_comment.end)))
    for raw in pre.components:
        if not raw.name or raw.name.startswith("/"):
            continue
        comp = Component(raw.name, doc.span(raw.start, raw.end))
        for rp in raw.props:
            seg = None
            if rp.kind in ("string", "template") and rp.value is not None:
                seg = Segment("prop", rp.value, [(0, rp.value_start)], f"{raw.name}.{rp.name}")
                doc.segments.append(seg)
            comp.props[rp.name] = Prop(rp.name, rp.value, rp.kind, doc.span(rp.start, rp.end), seg)
            if rp.name in link_props and rp.kind in ("string", "template") and rp.value is not None:
                doc.links.append(
                    Link(
                        rp.value,
                        "",
                        doc.span(rp.start, rp.end),
                        doc.span(rp.value_start, rp.value_start + len(rp.value)),
                        "jsx",
                        "prop",
                    )
                )
        doc.components.append(comp)

    if "\x00" in masked:  # markdown-it-py reads NUL as U+FFFD; align against the same text
        masked = masked.replace("\x00", "\ufffd")
    from coursecheck.parse.mdit import markdown_it  # imported on the first parse

    env: dict[str, Any] = {}
    tokens = markdown_it(mdx).parse(masked, env)
    definitions = None
    if env.get("references"):
        code_lines: set[int] = set()
        for token in tokens:
            if token.type in ("fence", "code_block") and token.map:
                code_lines.update(range(token.map[0] + 1, token.map[1] + 1))
        definitions = _definitions(masked, code_lines, index, env["references"])
    # Several inline tokens can share a line (table cells): continue from the last cursor.
    cursors: dict[int, int] = {}
    line_count = index.line_count
    line_start_of, line_end_of = index.line_start, index.line_end
    parent: Token | None = None  # the token before
    for token in tokens:
        kind = token.type
        if kind == "inline":
            token_map = token.map
            if token_map:
                first_line = token_map[0]
                start = line_start_of(first_line + 1)
                end = line_end_of(min(token_map[1], line_count))
            else:
                first_line, start, end = 0, 0, len(masked)
            aligner = _Aligner(masked, max(start, cursors.get(first_line, start)), end)
            if parent is not None and parent.type == "heading_open":
                level = int(parent.tag[1])
                seg = _inline(doc, token, "heading", str(level), aligner, definitions)
                line_start = start
                text_start = seg.anchors[0][1] if seg.text else line_start
                line_end = index.line_end(first_line + 1)
                title = _heading_text(token, masked, pre.masks, start, end)
                doc.headings.append(Heading(level, title, doc.span(text_start, line_end), line_start))
            else:
                seg = _inline(doc, token, "prose", "", aligner, definitions)
            cursors[first_line] = aligner.cursor
            if seg.text and not seg.text.isspace():
                doc.segments.append(seg)
        elif kind in ("fence", "code_block"):
            language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
            doc.code_blocks.append(_code_segment(doc, token, language, masked))
            doc.segments.append(doc.code_blocks[-1].segment)
        parent = token
    doc.segments.sort(key=lambda s: s.anchors[0][1] if s.anchors else 0)
    doc.links.sort(key=lambda link: (link.span.line, link.span.column))
    return doc
