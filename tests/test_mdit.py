"""The parser coursecheck runs gives markdown-it-py's own tokens.

``coursecheck.parse.mdit`` runs the library with two shortcuts: line markers computed per
line (``tests/test_positions.py``) and no inline parse for content without inline markup.
Every field of every token, children included, must be the library's: on generated text
built from the characters the shortcut decides by (markup, blanks, line breaks, trailing
spaces), on fixtures, and on every corpus file when ``../shared`` is there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from coursecheck.parse.mdit import _plain_children, markdown_it

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def _library(mdx: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    if mdx:
        md.disable(["code", "html_block", "html_inline"])
    return md


def _fields(tokens):
    return [
        (t.type, t.tag, t.nesting, t.content, t.markup, t.info, t.level, t.block, t.hidden, t.map, t.attrs, t.meta,
         None if t.children is None else _fields(t.children))
        for t in tokens
    ]


def _same_tokens(text: str) -> None:
    for mdx in (False, True):
        assert _fields(markdown_it(mdx).parse(text)) == _fields(_library(mdx).parse(text)), (mdx, text)


_PIECES = st.sampled_from(
    ["word", "слово", " ", "  ", "   ", "\t", "\n", "\n\n", " \n", "  \n", "\t\n", "\n  ", "\n\t", ":", "-", "#",
     "*", "_", "`", "~", "[", "]", "(", ")", "!", "<", ">", "&", "&amp;", "\\", "|", "---", "- ", "1. ", "> ",
     "# ", "| a | b |\n|---|---|\n", "http://x.org", "{", "}"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_generated_text_gets_the_librarys_tokens(text):
    _same_tokens(text)


@pytest.mark.parametrize(
    "text",
    [
        "Просто текст абзаца.",
        "Первая строка  \nвторая строка \nтретья\n   с отступом\n",
        "- пункт\n- ещё: пункт\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        "# Заголовок\n\n## \n\nline\t\nnext",
        "a  \n  \nb",
    ],
)
def test_fixture_text_gets_the_librarys_tokens(text):
    _same_tokens(text)


def test_plain_content_skips_the_inline_parse():
    # A shortcut that never applied would pass the comparisons above: it must apply here.
    children = _plain_children("первая  \nвторая \nтретья")
    assert [(t.type, t.content) for t in children] == [
        ("text", "первая"), ("hardbreak", ""), ("text", "вторая"), ("softbreak", ""), ("text", "третья")
    ]


@pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/corpora is not here")
def test_corpus_files_get_the_librarys_tokens():
    checked = 0
    for path in sorted(CORPORA.glob("*/**/*.md*"))[::7]:  # a seventh of the files: a few seconds
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        except (UnicodeDecodeError, OSError):
            continue
        _same_tokens(text)
        checked += 1
    assert checked > 200
