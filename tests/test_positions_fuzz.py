"""Fuzzing for position errors (#19): every range the model reports slices back to the text
it names. Property-based (hypothesis, the ``ci`` profile of ``test_properties``; a long run:
``HYPOTHESIS_PROFILE=fuzz pytest tests/test_positions_fuzz.py``); the minimized inputs the
fuzzing found are kept below as plain regression tests.

What "slices back" means, per element: a link's span is ``[...](...)``, ``[...][...]``,
``[...]`` or ``<...>`` in the source, and its ``href_span`` is the destination as written
(for a reference link: in its definition); an image's span starts with ``![``; a component's
span is its opening tag; a code block's span runs from its opening fence line; every
character of a text segment is that character of the source.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it.common.normalize_url import normalizeLinkText
from test_properties import spans_inside

from coursecheck.parse.markdown import parse_markdown
from coursecheck.text import normalize_newlines

WORDS = ["TODO", "слово", "Docker", "🐳", "x", "a_b", "R@q", "team@example.org"]
PIECES = [
    "\n",
    "\n\n",
    "  ",
    "    ",
    "- ",
    "1. ",
    "> ",
    "# ",
    "Title\n===\n",
    "`",
    "``",
    "```",
    "```js\n",
    "``` a`b\n",
    "~~~\n",
    "    ```\n",
    "> ```\n",
    "- ```\n",
    "[",
    "]",
    "](",
    ")",
    "][",
    "[]",
    "![",
    "]: ",
    "[ref]: /ref/x\n",
    "[ref]",
    "[t][ref]",
    "/doc/page",
    "<",
    ">",
    "<R@q>",
    "<https://example.org>",
    "</",
    "/>",
    "<Tabs>",
    "</Tabs>",
    '<a href="/h">',
    "</a>",
    '<Link to="/t" />',
    "{",
    "}",
    '{"}"}',
    "{/* c */}",
    "<!-- c -->",
    "*",
    "**",
    "_",
    "\\",
    "&amp;",
    "|",
    "|---|",
    "\t",
    "---\n",
    "title: x\n",
]

documents = st.lists(st.sampled_from(WORDS + PIECES) | st.text(max_size=4), max_size=50).map("".join)


def written(source: str, doc, span) -> str:
    return source[doc.lines.offset(span.line, span.column) : doc.lines.offset(span.end_line, span.end_column)]


def check_ranges(text: str, mdx: bool) -> None:
    source = normalize_newlines(text)
    doc = parse_markdown(Path("f.mdx"), "f.mdx", source, mdx=mdx)
    for seg in doc.segments:
        for i, ch in enumerate(seg.text):
            if ch in " \n" or seg.scope not in ("prose", "heading", "code", "inline_code", "prop"):
                continue
            offset = seg.offset(i)
            # A character written as an entity (&LT;) is at the entity's "&".
            assert source[offset] in (ch, "&") or (ch == "\ufffd" and source[offset] == "\x00"), (seg.scope, seg.text, i)
    for link in doc.links:
        assert spans_inside(doc.lines, link.span) and spans_inside(doc.lines, link.href_span)
        whole = written(source, doc, link.span)
        dest = written(source, doc, link.href_span).strip()  # <fo > is "fo" for markdown-it-py
        if link.origin == "jsx":
            assert dest == link.href or "\\" in dest or "\n" in whole, (whole, dest, link.href)
            continue
        if link.form == "autolink":
            assert whole.startswith("<") and whole.endswith(">"), whole
        else:
            assert whole.startswith("["), (link.form, whole)
            assert whole.endswith(")" if link.form == "inline" else "]") or "\\" in whole, (link.form, whole)
        # Known limit: in MDX a {expression} or tag inside a destination is masked like any
        # other (remark reads none there), so the target misses it; not checked.
        masked_inside = mdx and any(c in dest for c in "{<")
        if dest and not masked_inside and not dest.startswith("//") and not any(c in dest for c in "\\&%:"):
            # A path (an URL with a scheme is normalised by markdown-it-py: hosts in punycode,
            # ports): as the author wrote it but for percent-encoding.
            target = unquote(normalizeLinkText(link.href))
            assert target.endswith(dest) or dest in target, (link.form, whole, dest, link.href)
    for image in doc.images:
        assert written(source, doc, image.span).startswith("!["), written(source, doc, image.span)
    for comp in doc.components:
        assert written(source, doc, comp.span).startswith("<" + comp.name), (comp.name, written(source, doc, comp.span))
    for block in doc.code_blocks:
        assert spans_inside(doc.lines, block.span)
    for problem in doc.problems:
        assert spans_inside(doc.lines, problem.span), problem


@given(documents)
def test_mdx_ranges_slice_back_to_what_they_name(text):
    check_ranges(text, mdx=True)


@given(documents)
def test_markdown_ranges_slice_back_to_what_they_name(text):
    check_ranges(text, mdx=False)


# Minimized inputs found by fuzzing; each failed before its fix (the first raised IndexError).
FOUND = [
    # An autolink's link_open looked for "[": a later "[" moved the cursor a line down.
    ("<R@q>[", False),
    ("a <R@q>[\nb\nTODO x\n", False),
    # A reference link took the next "](" of the paragraph as its destination.
    ("[a][r] [b](/c)\n\n[r]: /d\n", False),
    ("[`x`][r] [y](z.md)\n\n[r]: /d\n", True),
    # An image's "(" search found a later link's destination.
    ("![i][r] [l](/l)\n\n[r]: /i\n", False),
    # An entity's character after a block quote marker was placed at the marker.
    (">&LT;", False),
    # A paragraph line like a definition ("[g]: /x] or ...") was taken for the definition
    # (coverage-guided: scripts/fuzz_positions.py).
    ("[g]: /x] or [y][g].\n\n[g]: /z\n", False),
    # A "(" in a link's title was counted as a parenthesis of its destination: the link
    # was taken for a reference one.
    ('[a](</with space>) [b](/p(1)) [c](/t "ti(/t tle")\n', True),
    # "[two][Y, [B]": "[Y, [B]" was taken for the label of a full reference link.
    ("See [one][a], [two][Y, [8h[B].\n\n[a]: /ref/a\n[two]: </ref/two>\n[b]: /ref/b\n", True),
    # An entity before a literal copy of its character: "&lt;<" placed both at the "<".
    ("&lt;<TODO", False),
    # A code span across lines in a list item, the next line indented with a tab (expanded
    # to spaces): its characters were placed one tab on (coverage-guided).
    ("* `\n\tab`\n", False),
    ("- `x\n\ty`\n", True),
    # A definition's destination with a host ("//é", punycode for markdown-it-py) was not
    # matched with the definition markdown-it-py read.
    ("See [one][a].\n\n[a]: //\u00e9\n", True),
    # A definition written with an escape ("/re\\/a") did not match its target: the "[a]"
    # followed by "(...)" of the prose (no destination: a control character) was taken
    # for an inline link.
    ("[a]: /re\\/a\n[tw\x01[a](A0.B/empXy\x10)\n", False),
    # A control character in "(...)" (no destination for CommonMark): the cursor went past
    # the ")" markdown-it-py leaves as text, placed at the end of the file (coverage-guided).
    ("[a]:a\n[](\x01[a])", False),
    # An empty title ("") was not read, and the link taken for a reference one.
    ('[b]( /two ) [c](/three "")[t d](<ur>)\n', True),
]


@pytest.mark.parametrize(("text", "mdx"), FOUND)
def test_found_inputs(text, mdx):
    check_ranges(text, mdx)
