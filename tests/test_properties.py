"""Property tests of the parser and positions (hypothesis).

For generated Markdown/MDX: parsing never raises; every segment character maps back to the
same character of the source; every span lies inside the file. A longer fuzz run:
``HYPOTHESIS_PROFILE=fuzz pytest tests/test_properties.py`` (or ``python -m
tests.fuzz`` style loops in CI-free time).
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursecheck.parse.data import parse_data
from coursecheck.parse.markdown import parse_markdown
from coursecheck.text import LineIndex, Span, normalize_newlines

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

WORDS = ["Контейнер", "образ", "Docker", "🐳", "слой", "TODO", "ёжик", "a_b", "x", "𝔘", "—", "«кавычки»"]
PIECES = [
    "# ",
    "## ",
    "- ",
    "1. ",
    "> ",
    "  ",
    "\n",
    "\n\n",
    "\r\n",
    "`",
    "```",
    "```mermaid\n",
    "~~~",
    "*",
    "_",
    "**",
    "[",
    "](",
    ")",
    "/course/01-a/02-b",
    "<",
    ">",
    "</",
    "/>",
    "<Mermaid chart={`",
    "`} />",
    '<Callout type="x">',
    "</Callout>",
    "{",
    "}",
    "{/* ",
    " */}",
    "<!-- ",
    " -->",
    "import { A } from 'a';\n",
    "export const x = 1;\n",
    "---\n",
    "title: x\n",
    "|",
    "|---|",
    "\\",
    "&amp;",
    "\t",
    '"',
    "'",
]

documents = st.lists(st.sampled_from(WORDS + PIECES) | st.text(max_size=5), max_size=60).map("".join)


def spans_inside(index: LineIndex, span: Span) -> bool:
    lines = index.line_count
    if not (1 <= span.line <= lines and 1 <= span.end_line <= lines):
        return False
    if span.column < 1 or span.column > len(index.line_text(span.line)) + 1:
        return False
    return span.end_column <= len(index.line_text(span.end_line)) + 1


def check_document(text: str, mdx: bool) -> None:
    source = normalize_newlines(text)
    doc = parse_markdown(Path("g.mdx"), "g.mdx", source, mdx=mdx)
    for seg in doc.segments:
        for i, ch in enumerate(seg.text):
            offset = seg.offset(i)
            assert 0 <= offset <= len(source)
            if ch not in " \n" and seg.scope in ("prose", "heading", "code", "inline_code", "prop"):
                # markdown-it-py replaces NUL with U+FFFD (the engine rejects NUL files anyway);
                # a character written as an entity (&LT;) is at the entity's "&".
                assert source[offset] in (ch, "&") or (ch == "\ufffd" and source[offset] == "\x00"), (
                    seg.scope,
                    seg.text,
                    i,
                )
    spans = [h.span for h in doc.headings] + [c.span for c in doc.components] + [c.span for c in doc.comments]
    spans += [link.span for link in doc.links] + [link.href_span for link in doc.links]
    spans += [p.span for p in doc.problems] + [b.span for b in doc.code_blocks]
    for span in spans:
        assert spans_inside(doc.lines, span), span
    for link in doc.links:
        start = doc.lines.offset(link.href_span.line, link.href_span.column)
        end = doc.lines.offset(link.href_span.end_line, link.href_span.end_column)
        if link.origin == "markdown" and link.href and "\\" not in source[start:end] and "&" not in source[start:end]:
            assert source[start:end] in link.href or link.href.startswith(source[start:end][:1])


@given(documents)
def test_mdx_parsing_never_raises_and_positions_hold(text):
    check_document(text, mdx=True)


@given(documents)
def test_markdown_parsing_never_raises_and_positions_hold(text):
    check_document(text, mdx=False)


@given(st.text(max_size=200))
def test_arbitrary_unicode_never_raises(text):
    check_document(text, mdx=True)
    check_document(text, mdx=False)


@given(st.text(max_size=200))
def test_data_files_never_raise(text):
    for kind in ("json", "yaml"):
        doc = parse_data(Path("d"), "d", normalize_newlines(text), kind)
        for p in doc.problems:
            assert spans_inside(doc.lines, p.span) or not doc.source


@given(st.text(max_size=300), st.data())
def test_line_index_round_trip(text, data):
    text = normalize_newlines(text)
    index = LineIndex(text)
    offset = data.draw(st.integers(min_value=0, max_value=len(text)))
    line, column, column16 = index.position(offset)
    assert index.offset(line, column) == offset
    prefix = text[index.line_start(line) : offset]
    assert column16 - 1 == len(prefix.encode("utf-16-le")) // 2
