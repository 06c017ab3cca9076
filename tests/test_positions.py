"""Positions in the document model are the original file's lines and columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecheck.parse.markdown import parse_markdown
from coursecheck.text import LineIndex, Span, decode_source, normalize_newlines

LESSON = (
    "---\n"
    'title: "Образы и слои"\n'
    "order: 2\n"
    "prerequisites:\n"
    '  - "module-1/01-intro"\n'
    "  - module-1/02-next\n"
    "topics: [docker, images]\n"
    "---\n"
    "\n"
    "import { Mermaid } from '../Mermaid.tsx';\n"
    "\n"
    "# Образ (image) 🐳\n"
    "\n"
    "Текст со ссылкой на [первый урок](/course/01-module-1/01-intro) и `код`.\n"
    "\n"
    '<Callout type="warning"\n'
    '  title="Важно">\n'
    "Внутри **компонента** обычный Markdown.\n"
    "</Callout>\n"
    "\n"
    "<Mermaid chart={`\n"
    "flowchart LR\n"
    '    A["Хост"] --> B["Контейнер"]\n'
    "`} client:visible />\n"
    "\n"
    "{/* комментарий: не проза */}\n"
    "\n"
    "- 🚀 пункт списка с [ссылкой](https://example.com)\n"
)


def parse(text: str, mdx: bool = True):
    raw = text.encode("utf-8")
    decoded, bom = decode_source(raw)
    return parse_markdown(Path("lesson.mdx"), "lesson.mdx", normalize_newlines(decoded), mdx=mdx, has_bom=bom)


def test_frontmatter_keys_values_and_list_items():
    doc = parse(LESSON)
    fm = doc.frontmatter
    assert fm is not None
    assert fm.data["prerequisites"] == ["module-1/01-intro", "module-1/02-next"]
    key = fm.place("order", "#key")
    assert (key.line, key.column, key.end_column) == (3, 1, 6)
    value = fm.place("order")
    assert (value.line, value.column) == (3, 8)
    first = fm.place("prerequisites", 0)
    assert (first.line, first.column, first.end_column) == (5, 5, 24)  # quotes included
    second = fm.place("prerequisites", 1)
    assert (second.line, second.column, second.end_column) == (6, 5, 21)
    flow_item = fm.place("topics", 1)
    assert (flow_item.line, flow_item.column) == (7, 18)


def test_heading_position_with_astral_character():
    doc = parse(LESSON)
    (heading,) = doc.headings
    assert heading.text == "Образ (image) 🐳"
    assert (heading.span.line, heading.span.column) == (12, 3)
    # The emoji is one code point but two UTF-16 code units.
    assert heading.span.end_column == 3 + len("Образ (image) 🐳")
    assert heading.span.end_column_utf16 == heading.span.end_column + 1


def test_links_markdown_and_positions():
    doc = parse(LESSON)
    internal, external = doc.links
    assert internal.href == "/course/01-module-1/01-intro"
    assert internal.text == "первый урок"
    assert (internal.span.line, internal.span.column) == (14, 21)
    assert (internal.href_span.line, internal.href_span.column) == (14, 35)
    assert internal.href_span.end_column - internal.href_span.column == len(internal.href)
    assert external.href == "https://example.com"
    assert (external.span.line, external.span.column) == (28, 20)
    assert external.span.column_utf16 == 21  # the rocket emoji before it takes two UTF-16 units


def test_jsx_props_and_template_literal_lines():
    doc = parse(LESSON)
    callout, mermaid = doc.components
    assert callout.name == "Callout"
    assert (callout.span.line, callout.span.column) == (16, 1)
    title = callout.props["title"]
    assert title.value == "Важно"
    assert (title.span.line, title.span.column) == (17, 3)
    assert mermaid.name == "Mermaid"
    chart = mermaid.props["chart"]
    assert chart.kind == "template"
    # Each line of the chart maps back to its line in the lesson.
    index = chart.segment.text.index("A[")
    line, column, _ = doc.lines.position(chart.segment.offset(index))
    assert (line, column) == (23, 5)
    assert mermaid.props["client:visible"].kind == "boolean"


def test_mdx_is_masked_out_of_prose():
    doc = parse(LESSON)
    prose = " ".join(s.text for s in doc.iter_segments({"prose"}))
    assert "import" not in prose
    assert "комментарий" not in prose
    assert "flowchart" not in prose
    assert "Callout" not in prose
    assert "Внутри компонента обычный Markdown." in prose
    inline_code = [s.text for s in doc.iter_segments({"inline_code"})]
    assert inline_code == ["код"]
    assert [c.text for c in doc.comments] == ["комментарий: не проза"]


def test_every_prose_character_maps_to_itself():
    doc = parse(LESSON)
    for seg in doc.iter_segments({"prose", "heading", "frontmatter", "prop", "code", "inline_code"}):
        for i, ch in enumerate(seg.text):
            if ch in " \n":
                continue
            assert doc.source[seg.offset(i)] == ch, (seg.scope, seg.text, i)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_lone_cr_keep_lines_and_columns(newline):
    lf = parse(LESSON)
    other = parse(LESSON.replace("\n", newline))
    assert [(h.span.line, h.span.column) for h in other.headings] == [(h.span.line, h.span.column) for h in lf.headings]
    assert [link.href_span for link in other.links] == [link.href_span for link in lf.links]
    assert other.frontmatter.place("prerequisites", 1) == lf.frontmatter.place("prerequisites", 1)
    assert other.line_count == lf.line_count == 28


def test_bom_is_not_a_column():
    raw = b"\xef\xbb\xbf" + LESSON.encode("utf-8")
    text, bom = decode_source(raw)
    assert bom is True
    doc = parse_markdown(Path("x.mdx"), "x.mdx", text, mdx=True, has_bom=True)
    assert doc.frontmatter is not None  # the BOM does not hide the frontmatter
    assert (doc.headings[0].span.line, doc.headings[0].span.column) == (12, 3)


def test_code_fence_content_is_code_not_prose():
    doc = parse("# T\n\n```bash\n<Mermaid chart={`x`} />\nTODO: это код\n```\n\nПроза.\n")
    (block,) = doc.code_blocks
    assert block.language == "bash"
    assert "TODO" in block.segment.text
    assert doc.components == []  # JSX inside a fence is code
    line, column, _ = doc.lines.position(block.segment.offset(block.segment.text.index("TODO")))
    assert (line, column) == (5, 1)
    assert [s.text for s in doc.iter_segments({"prose"})] == ["Проза."]


def test_fence_inside_list_item_has_exact_columns():
    doc = parse("- пункт:\n\n  ```yaml\n  key: value\n  ```\n", mdx=False)
    (block,) = doc.code_blocks
    line, column, _ = doc.lines.position(block.segment.offset(0))
    assert (line, column, block.segment.text) == (4, 3, "key: value")


def test_escapes_and_entities_still_align():
    doc = parse("Цена \\*не\\* 5 &amp; 6 — «кавычки».\n", mdx=False)
    (seg,) = list(doc.iter_segments({"prose"}))
    assert seg.text == "Цена *не* 5 & 6 — «кавычки»."
    i = seg.text.index("6")
    assert doc.lines.position(seg.offset(i))[:2] == (1, 21)


def test_table_cells_with_equal_text_get_their_own_columns():
    doc = parse("| a | b |\n|---|---|\n| да | да |\n", mdx=False)
    cells = [s for s in doc.iter_segments({"prose"}) if s.text == "да"]
    assert [doc.lines.position(s.offset(0))[:2] for s in cells] == [(3, 3), (3, 8)]


def test_line_index_utf16_columns():
    index = LineIndex("аб🐳в\nx")
    assert index.position(3) == (1, 4, 5)  # after the emoji: code points 4, UTF-16 units 5
    assert index.position(5) == (2, 1, 1)


def test_unterminated_constructs_are_findings_not_exceptions():
    doc = parse("---\ntitle: x\n\n# Без конца\n\n<Mermaid chart={`\nflowchart\n")
    # Frontmatter never closed: reported at line 1, and the rest is still read as MDX.
    assert [(p.rule_id, p.span.line, p.span.column) for p in doc.problems] == [
        ("parse/frontmatter", 1, 1),
        ("parse/mdx-syntax", 6, 1),
    ]
    assert [h.text for h in doc.headings] == ["Без конца"]
    doc = parse("# Заголовок\n\n<Mermaid chart={`\nflowchart LR\n")
    (problem,) = doc.problems
    assert (problem.rule_id, problem.span.line, problem.span.column) == ("parse/mdx-syntax", 3, 1)
    doc = parse("Текст\n\n```bash\necho\n")
    (problem,) = doc.problems
    assert (problem.rule_id, problem.span.line, problem.span.column) == ("parse/unterminated-fence", 3, 1)


@pytest.mark.parametrize(
    "src",
    [
        "a",
        "a\n",
        "  ",
        "  \n",
        "\n\n  ",
        "x\n\n\n",
        "\t a\n\tb",
        " \t\tx\n  \n \t",
        "  \t  - item\n    \tcode\n>\tquote\n",
        "# Заголовок\n\n      \n        masked JSX line\n```\n  code\n```\n   ",
    ],
)
def test_block_state_line_markers_are_the_librarys(src):
    # The parser computes markdown-it-py's line markers its own (faster) way; they must be
    # exactly the library's, or every block position would shift.
    from markdown_it.rules_block.state_block import StateBlock

    from coursecheck.parse.mdit import _LineMarkedState
    from coursecheck.parse.mdit import markdown_it as _markdown_it

    md = _markdown_it(True)
    ours, library = _LineMarkedState(src, md, {}, []), StateBlock(src, md, {}, [])
    for name in ("bMarks", "eMarks", "tShift", "sCount", "bsCount", "lineMax", "line", "src"):
        assert getattr(ours, name) == getattr(library, name), name


def test_fence_and_indented_code_anchors():
    # A top-level fence is the source as written (one anchor per line); a fence in a list
    # item loses the item's indentation: each line is still found at its column.
    doc = parse("Текст\n\n```py\n  x = 1\ny\n```\n\n- пункт\n\n  ```py\n    z = 2\n  ```\n", mdx=False)
    top, nested = (b.segment for b in doc.code_blocks)
    assert top.text == "  x = 1\ny" and top.anchors == [(0, 13), (2, 15), (8, 21)]
    assert doc.lines.position(top.offset(top.text.index("x")))[:2] == (4, 3)
    assert doc.lines.position(nested.offset(nested.text.index("z")))[:2] == (11, 5)


def test_a_pickled_span_comes_back_as_an_equal_frozen_span():
    # Spans are restored by a faster path than Span(...) (the cache holds many): the result
    # must be a real Span, equal, with the same hash, still frozen, also through the shard
    # loader's unpickler (which loads classes only).
    import dataclasses
    import pickle

    from coursecheck import safepickle
    from coursecheck.text import Span

    span = Span(3, 7, 4, 2, 8, 2)
    for restored in (
        pickle.loads(pickle.dumps(span, protocol=pickle.HIGHEST_PROTOCOL)),
        safepickle.loads(pickle.dumps([span], protocol=pickle.HIGHEST_PROTOCOL))[0][0],
    ):
        assert type(restored) is Span
        assert restored == span and hash(restored) == hash(span)
        assert (restored.line, restored.column, restored.end_line, restored.end_column) == (3, 7, 4, 2)
        assert (restored.column_utf16, restored.end_column_utf16) == (8, 2)
        with pytest.raises(dataclasses.FrozenInstanceError):
            restored.line = 1  # type: ignore[misc]


def test_mdx_fence_indented_inside_a_component_is_code_not_jsx():
    # MDX has no indented code: a fence nested in a component opens at any indentation, and
    # the tags and braces of the sample inside it are not JSX (no parse problem).
    text = (
        "# A\n\n<Tabs>\n  <Tab>\n    Create the screen.\n\n      ```tsx\n      import { Text } from 'ui'\n\n      export default function Screen() {\n"
        "        return (\n            {ok ? (\n              <Text>You're in</Text>\n            )}\n        )\n      }\n"
        "      ```\n  </Tab>\n</Tabs>\n\nAfter <Note>x</Note>.\n"
    )
    doc = parse(text)
    assert doc.problems == []
    markdown = parse(text, mdx=False)
    assert markdown.problems == []


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ab \n😀ж", max_size=30),
    st.lists(st.tuples(st.integers(-3, 33), st.one_of(st.none(), st.integers(-3, 33))), min_size=1, max_size=8),
)
def test_line_index_span_is_the_two_positions(text, ranges):
    # LineIndex.span takes a shorter way than two position() calls (one line search for a
    # span on one line, no UTF-16 work without astral characters): the same Span either way.
    index = LineIndex(text)
    for start, end in ranges:
        stop = start if end is None or end < start else end
        (line, col, col16), (end_line, end_col, end_col16) = index.position(start), index.position(stop)
        span = index.span(start, end)
        assert span == Span(line, col, end_line, end_col, col16, end_col16) and type(span) is Span
