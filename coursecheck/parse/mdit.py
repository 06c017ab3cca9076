"""The markdown-it-py parser coursecheck uses: the library's block parser with line markers
computed per line. A module of its own, imported on the first parse: a run served from the
cache parses nothing and does not import markdown-it-py (~40 ms of start-up)."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import accumulate
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_core.state_core import StateCore
from markdown_it.token import Token


class _LineMarkedState(StateBlock):
    """markdown-it-py's block state with its line markers computed per line by string
    methods: the library scans each line's leading whitespace one character at a time, and
    the MDX pre-pass leaves many lines indented by masked JSX (about a tenth of a parse).
    The markers are the library's own (``tests/test_positions.py`` compares them)."""

    def __init__(self, src: str, md: MarkdownIt, env: Any, tokens: list[Token]) -> None:
        super().__init__("", md, env, tokens)  # everything but the markers of ``src``
        self.src = src
        lines = src.split("\n")
        if not lines[-1].strip(" \t"):
            lines.pop()  # after the last newline: nothing, or blanks the library gives no line
        length = len(src)
        begins = list(accumulate([len(line) + 1 for line in lines], initial=0))
        begins[-1] = length  # the library's fake last line
        ends = [begin + len(line) for begin, line in zip(begins, lines, strict=False)]
        ends.append(length)
        shifts = [len(line) - len(line.lstrip(" \t")) for line in lines]
        if "\t" in src:
            counts = [_expanded_width(line[:shift]) for line, shift in zip(lines, shifts, strict=True)]
        else:
            counts = shifts[:]
        shifts.append(0)
        counts.append(0)
        self.bMarks, self.eMarks, self.tShift, self.sCount = begins, ends, shifts, counts
        self.bsCount = [0] * len(begins)
        self.lineMax = len(lines)


def _expanded_width(indent: str) -> int:
    """Columns of leading spaces and tabs, tabs to the next multiple of 4 (as markdown-it)."""
    if "\t" not in indent:
        return len(indent)
    width = 0
    for ch in indent:
        width += 4 - width % 4 if ch == "\t" else 1
    return width


class _ParserBlock(ParserBlock):
    def parse(self, src: str, md: MarkdownIt, env: Any, outTokens: list[Token]) -> list[Token] | None:
        if not src:
            return None
        state = _LineMarkedState(src, md, env, outTokens)
        self.tokenize(state, state.line, state.lineMax)
        return state.tokens


# The characters an enabled inline rule acts on, besides the line break: escape, code spans,
# strikethrough, emphasis, links, images, autolinks and HTML, entities. (Every other character
# the library's text rule stops at is taken as text when no rule matches it.)
_INLINE_MARKUP = re.compile(r"[\\`~*_\[!<&]")


def _plain_children(content: str) -> list[Token] | None:
    """The inline tokens markdown-it-py makes of ``content`` that holds no inline markup: its
    lines as text, apart by a softbreak, or a hardbreak after two spaces or more (the library's
    newline rule: one trailing space is dropped, the next line's leading blanks skipped).
    None for what this does not read (a line left empty)."""
    if "\n" not in content:
        if not content:
            return []
        token = Token("text", "", 0)
        token.content = content
        return [token]
    children: list[Token] = []
    lines = content.split("\n")
    last = len(lines) - 1
    for k, line in enumerate(lines):
        if k:
            line = line.lstrip(" \t")
        if not line.strip(" "):
            return None
        brk = "softbreak"
        if k < last and line.endswith(" "):
            if line.endswith("  "):
                line = line.rstrip(" ")
                brk = "hardbreak"
            else:
                line = line[:-1]
        text = Token("text", "", 0)
        text.content = line
        children.append(text)
        if k < last:
            children.append(Token(brk, "br", 0))
    return children


def _inline(state: StateCore) -> None:
    """markdown-it-py's core inline rule, with the inline parse skipped for content that
    holds no inline markup (about half the inline tokens of a lesson: list items, table cells,
    headings, plain sentences), whose tokens are known without it. ``tests/test_positions.py``
    compares the tokens with the library's."""
    inline = state.md.inline
    for token in state.tokens:
        if token.type == "inline":
            content = token.content
            if _INLINE_MARKUP.search(content) is None:
                plain = _plain_children(content)
                if plain is not None:
                    token.children = plain
                    continue
            if token.children is None:
                token.children = []
            inline.parse(content, state.md, state.env, token.children)


@lru_cache(maxsize=2)
def markdown_it(mdx: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    block = _ParserBlock()
    block.ruler = md.block.ruler  # the same rules, enabled as above
    md.block = block
    md.core.ruler.at("inline", _inline)
    if mdx:
        # MDX has no indented code and no raw HTML: JSX was masked by the pre-pass, and a
        # line left indented by masking must not turn into a code block.
        md.disable(["code", "html_block", "html_inline"])
    return md
