"""Document model fidelity (#19): the code blocks, JSX, headings and links the MDX compiler
sees, at exact positions, and ``parse/mdx-syntax`` where ``@mdx-js/mdx`` rejects a file.

Each test is a defect seen on real documentation (reduced, written for this file) or a form
the differential harness (``scripts/mdx_harness.py``) compares; the expected values were
checked against the reference parsers (remark-parse + remark-mdx + remark-gfm).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import lint, where

from coursecheck.parse.markdown import parse_markdown
from coursecheck.text import normalize_newlines

FIXTURES = Path(__file__).parent / "fixtures" / "mdx_broken"
CONFIG = """
[course]
content = ["content/**/*.{md,mdx}"]
id = "{path}"
"""


def parse(text: str, name: str = "a.mdx"):
    return parse_markdown(Path(name), name, normalize_newlines(text), mdx=name.endswith(".mdx"))


def problems(doc) -> list[tuple[str, int, int]]:
    return [(f.rule_id, f.span.line, f.span.column) for f in doc.problems]


def written(doc, span) -> str:
    return doc.source[doc.lines.offset(span.line, span.column) : doc.lines.offset(span.end_line, span.end_column)]


# -- fences inside JSX and list items, with blank lines --------------------------------------


def test_an_indented_fence_in_jsx_with_a_blank_line_stays_code():
    # Before: the pre-pass saw no fence (indented 4), read `{1` as an expression (a false
    # parse/mdx-syntax) and <Not/> in the YAML as a component.
    text = "<Tabs>\n  <Tab>\n    ```yaml\n    a: {1\n\n    b: <Not/> [x](/in-code)\n    ```\n  </Tab>\n</Tabs>\n"
    doc = parse(text)
    assert problems(doc) == []
    assert [(c.name, c.span.line) for c in doc.components] == [("Tabs", 1), ("Tab", 2)]
    assert [(b.language, b.span.line, b.span.end_line) for b in doc.code_blocks] == [("yaml", 3, 7)]
    assert doc.links == []
    code = doc.code_blocks[0].segment
    k = code.text.index("<Not/>")
    assert doc.lines.span(code.offset(k)).line == 6 and text[code.offset(k) :].startswith("<Not/>")


def test_a_fence_in_a_nested_list_item_keeps_its_braces(tmp_path):
    text = "- a\n  - b\n\n    ```js\n    x = {\n\n    }\n    ```\n\nTODO after\n"
    doc = parse(text)
    assert problems(doc) == []
    assert [(b.language, b.span.line, b.span.end_line) for b in doc.code_blocks] == [("js", 4, 8)]
    found = lint(tmp_path, {"content/a.mdx": text}, config=CONFIG, select=["anti-patterns/todo"])
    assert where(found) == [("anti-patterns/todo", "content/a.mdx", 10, 1)]


def test_a_fence_in_a_block_quote_ends_with_the_quote():
    text = "> ```sh\n> echo {x}\n>\n> echo <y>\n> ```\n\n> [q](/quoted)\n"
    doc = parse(text)
    assert problems(doc) == [] and doc.components == []
    assert [(b.span.line, b.span.end_line) for b in doc.code_blocks] == [(1, 5)]
    assert doc.code_blocks[0].segment.text == "echo {x}\n\necho <y>"  # before: {x} masked out of the code
    assert [(link.href, link.span.line, link.span.column) for link in doc.links] == [("/quoted", 7, 3)]


def test_a_yaml_sample_in_a_list_inside_a_component_is_code_as_written(tmp_path):
    # Before: "{b" was an unclosed expression (a false parse/mdx-syntax) and <div> a component
    # masked out of the sample.
    text = "<Steps>\n\n1. Config:\n\n    ```yaml\n    a: {b\n\n    # TODO in the sample <div>\n    ```\n\n</Steps>\n"
    found = lint(tmp_path, {"content/a.mdx": text}, config=CONFIG)
    assert [f for f in where(found) if f[0].startswith(("anti-patterns/todo", "parse/"))] == []
    doc = parse(text)
    assert [c.name for c in doc.components] == ["Steps"]
    assert doc.code_blocks[0].segment.text == "a: {b\n\n# TODO in the sample <div>"


# -- unclosed fences -------------------------------------------------------------------------


def test_an_unclosed_fence_is_reported_at_the_line_that_meant_to_open_it():
    # "``` a`b" is no opener (a backtick in a backtick fence's info): the ``` that was meant
    # to close it opens a fence that runs to the end of the file.
    doc = parse("``` a`b\ncode\n```\n\n# Heading\n", "a.md")
    assert problems(doc) == [("parse/unterminated-fence", 1, 1)]
    assert "line 3" in doc.problems[0].message
    assert [(b.span.line, b.span.end_line) for b in doc.code_blocks] == [(3, 5)]


def test_an_unclosed_fence_without_such_a_line_is_reported_at_its_opener():
    doc = parse("```js\nx\n```\n\ntext\n\n~~~\nopen\n", "a.md")
    assert problems(doc) == [("parse/unterminated-fence", 7, 1)]


# -- headings ----------------------------------------------------------------------------------


def test_a_heading_of_inline_code_is_named_by_its_code(tmp_path):
    doc = parse("## `useAuth()`\n\n### The `<SignIn />` component\n\nSub `code`\n---\n")
    assert [(h.level, h.text, h.span.line, h.span.column) for h in doc.headings] == [
        (2, "useAuth()", 1, 4),
        (3, "The <SignIn /> component", 3, 5),
        (2, "Sub code", 5, 1),
    ]


def test_masked_jsx_in_a_heading_is_no_text():
    doc = parse("### <code>mount<wbr />Waitlist()</code>\n")
    assert [h.text for h in doc.headings] == ["mountWaitlist()"]


# -- links -----------------------------------------------------------------------------------


def test_reference_links_resolve_to_their_definitions_at_the_place_of_use():
    text = "See [one][a], [two][], [Three] and [`x`][B].\n\n[a]: /ref/a\n[two]: </ref/two> \"T\"\n[three]: /ref/three\n[b]: /ref/b 'title'\n"
    doc = parse(text, "a.md")
    got = [(link.href, link.form, link.span.line, link.span.column, written(doc, link.href_span)) for link in doc.links]
    assert got == [
        ("/ref/a", "reference", 1, 5, "/ref/a"),
        ("/ref/two", "reference", 1, 15, "/ref/two"),
        ("/ref/three", "reference", 1, 24, "/ref/three"),
        ("/ref/b", "reference", 1, 36, "/ref/b"),
    ]
    assert [written(doc, link.span) for link in doc.links] == ["[one][a]", "[two][]", "[Three]", "[`x`][B]"]


def test_a_reference_link_before_an_inline_link_does_not_take_its_target():
    # Before: the reference link took the next "](" as its own: a garbage target, and the
    # inline link after it was reported two lines off.
    text = "The [`<Profile />`][profile] opens\nwhen asked. Use the [`props`](#properties)\nprop.\n\n[profile]: /docs/profile\n"
    doc = parse(text)
    got = [(link.href, link.span.line, link.span.column, written(doc, link.href_span)) for link in doc.links]
    assert got == [("/docs/profile", 1, 5, "/docs/profile"), ("#properties", 2, 21, "#properties")]


def test_a_broken_reference_link_is_reported_at_its_definitions_destination(tmp_path):
    # The graph reports (and a rename in the editor rewrites) the destination as written, in
    # the definition: one place for every use. Before: the label at the place of use, read
    # as the target. The link itself (doc.links) is at the place of use.
    files = {
        "content/a.md": "# A\n\nRead [the next lesson][next] first.\n\n[next]: ./missing-lesson.md\n",
        "content/b.md": "# B\n",
    }
    found = lint(tmp_path, files, config=CONFIG, select=["graph/unresolved-reference"])
    assert where(found) == [("graph/unresolved-reference", "content/a.md", 5, 9)]
    assert "./missing-lesson.md" in found[0].message


def test_an_autolink_does_not_move_the_cursor_to_a_later_bracket(tmp_path):
    # The minimal input the fuzzer found: "<R@q>[", a TODO two lines later.
    doc = parse("a <R@q>[\nb\nTODO x\n", "a.md")
    assert [(link.href, link.form, link.span.line, link.span.column) for link in doc.links] == [
        ("mailto:R@q", "autolink", 1, 3)
    ]
    found = lint(tmp_path, {"content/a.md": "a <R@q>[\nb\nTODO x\n"}, config=CONFIG, select=["anti-patterns/todo"])
    assert where(found) == [("anti-patterns/todo", "content/a.md", 3, 1)]


def test_images_are_kept_apart_from_links():
    doc = parse("![alt][img] and [link](/l) and ![inline](/i.png) [![in](/in.png)](/wrapped)\n\n[img]: /img.png\n", "a.md")
    assert [(link.href, link.span.column) for link in doc.links] == [("/l", 17), ("/wrapped", 50)]
    assert [(i.href, i.form, i.span.column, written(doc, i.href_span)) for i in doc.images] == [
        ("/img.png", "reference", 1, "/img.png"),
        ("/i.png", "inline", 32, "/i.png"),
        ("/in.png", "inline", 51, "/in.png"),
    ]


def test_links_in_jsx_href_and_to_props():
    doc = parse('Go <a href="/doc">doc</a> or <Link to="/to">to</Link> or <Card title="/no" />.\n')
    assert [(link.href, link.origin, link.form, link.span.column) for link in doc.links] == [
        ("/doc", "jsx", "prop", 7),
        ("/to", "jsx", "prop", 36),
    ]
    only_href = parse_markdown(Path("a.mdx"), "a.mdx", '<Link to="/to" href="/h">x</Link>\n', mdx=True, link_props=("href",))
    assert [link.href for link in only_href.links] == ["/h"]


def test_a_multiline_tag_in_a_block_quote_is_one_element():
    text = '> Note:\n>\n> <a\n>   href="/x"\n>   target="_blank"\n> >\n>   <img src="/b.svg" />\n> </a>\n'
    doc = parse(text)
    assert problems(doc) == []
    assert [(c.name, c.span.line) for c in doc.components] == [("a", 3), ("img", 7)]


# -- parse/mdx-syntax: what @mdx-js/mdx's compile rejects --------------------------------------

# (file, line, column) of the parse/mdx-syntax finding on each broken fixture; the line is
# the one compile names (for "Unexpected end of file in attribute value" compile names the
# end of the file, coursecheck the opener: see scripts/broken_mdx.py).
BROKEN = {
    "autolink.mdx": [(1, 10)],
    "closing-in-text.mdx": [(3, 12)],
    "fragment-unclosed.mdx": [(1, 1)],
    "html-comment.mdx": [(3, 2)],
    "less-than-digit.mdx": [(3, 16)],
    "less-than-equals.mdx": [(3, 17)],
    "less-than-indented.mdx": [(3, 6)],
    "mismatched-closing.mdx": [(6, 1)],
    "stray-brace.mdx": [(3, 9)],
    "stray-closing.mdx": [(3, 1)],
    "text-tag-in-list.mdx": [(1, 8)],
    "unbalanced-expression.mdx": [(1, 8)],
    "unclosed-attribute.mdx": [(1, 1), (5, 1)],
    "unclosed-flow-tag.mdx": [(3, 1)],
    "unclosed-text-tag.mdx": [(1, 7)],
}


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.mdx")))
def test_broken_mdx_fixtures(name):
    doc = parse((FIXTURES / name).read_text(encoding="utf-8"), name)
    expected = [("parse/mdx-syntax", line, column) for line, column in BROKEN.get(name, [])]
    assert problems(doc) == expected
    assert name.startswith("ok-") == (name not in BROKEN)


def test_the_broken_set_covers_every_kind():
    assert len(BROKEN) >= 12 and len([p for p in FIXTURES.glob("ok-*.mdx")]) >= 3


def test_less_than_in_prose_and_in_code(tmp_path):
    text = "# T\n\nLatency <1 ms, a < b, `<2` in code.\n\n```\n<3\n```\n"
    found = lint(tmp_path, {"content/a.mdx": text}, config=CONFIG, select=["parse/mdx-syntax"])
    assert where(found) == [("parse/mdx-syntax", "content/a.mdx", 3, 10)]
    assert "\\<" in found[0].message


def test_unclosed_tag_messages_name_the_tag_and_the_line():
    doc = parse("<Tabs>\n  <Tab>\n\n  First tab.\n\n</Tabs>\n")
    assert problems(doc) == [("parse/mdx-syntax", 6, 1)]
    assert doc.problems[0].message == "closing tag </Tabs> before <Tab> (line 2) is closed"


def test_a_flow_tag_may_interrupt_a_paragraph():
    # remark-mdx: a line of tags only is flow, after a paragraph line too.
    doc = parse("Text\n<Note>\nbody\n</Note>\n")
    assert problems(doc) == []


def test_expressions_with_braces_in_strings_are_one_expression():
    doc = parse('<Card title={"a } b"} data={{ x: "}" }} to="/card">\n\nText `{code}` {"}"} end\n\n</Card>\n')
    assert problems(doc) == []
    assert [(c.name, sorted(c.props)) for c in doc.components] == [("Card", ["data", "title", "to"])]
    assert [(link.href, link.span.line, link.span.column) for link in doc.links] == [("/card", 1, 41)]


def test_manifest_of_the_harness_is_valid_json():
    # The reference's pinned packages: a change is an install of other versions.
    package = json.loads((Path(__file__).parent.parent / "scripts" / "mdx-reference" / "package.json").read_text())
    assert set(package["dependencies"]) == {
        "@mdx-js/mdx",
        "remark-frontmatter",
        "remark-gfm",
        "remark-mdx",
        "remark-parse",
        "unified",
    }


def test_a_heading_of_inline_code_is_named_in_messages(tmp_path):
    # Before: the section was named « » (the heading's prose text, where code is a gap).
    text = "# Title\n\nIntro.\n\n## `useAuth()`\n\n## Next\n\nText.\n"
    found = lint(tmp_path, {"content/a.md": text}, config=CONFIG, select=["anti-patterns/empty-section"])
    assert where(found) == [("anti-patterns/empty-section", "content/a.md", 5, 1)]
    assert "«useAuth()»" in found[0].message


def test_many_tag_problems_are_capped_like_other_parse_problems():
    # 5,000 stray closing tags: 200 findings and one saying how many more (MAX_PROBLEMS).
    doc = parse("</a>\n" * 5000)
    assert len(doc.problems) == 201 and "4800 more problems" in doc.problems[-1].message
    assert problems(doc)[:2] == [("parse/mdx-syntax", 1, 1), ("parse/mdx-syntax", 2, 1)]


def test_a_rename_rewrites_a_reference_links_definition(tmp_path):
    # The editor's rename edits the destination as written: for a reference link, in its
    # definition (were the graph's span the place of use, the whole "[text][label]" would be
    # replaced by the new path).
    from coursecheck.lsp import navigation as nav
    from coursecheck.lsp.workspace import CourseWorkspace

    config = '[course]\ncontent = ["content/**/*.{md,mdx}"]\nid = "{path}"\n'
    files = {
        "content/a.md": "# A\n\nRead [the next lesson][next] first.\n\n[next]: ./b.md\n",
        "content/b.md": "# B\n\nText.\n",
    }
    lint(tmp_path, files, config=config)  # writes the course
    ws = CourseWorkspace(tmp_path, cache=False)
    assert ws.load()
    plan = nav.plan_rename(ws, [("content/b.md", "content/c.md")])
    assert [(e.relpath, e.span.line, e.span.column, e.new_text) for e in plan.edits] == [
        ("content/a.md", 5, 9, "./c.md")
    ]


def test_a_code_span_runs_over_a_line_that_is_no_fence_opener():
    # "```b` c" has a backtick in its info: no opener, the paragraph (and the span) go on.
    doc = parse("text `a {x}\n```b` c\n")
    assert problems(doc) == [] and doc.components == []
    assert [s.text for s in doc.segments if s.scope == "inline_code"] == ["a {x} ```b"]
