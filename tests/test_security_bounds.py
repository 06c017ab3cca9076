"""Hostile input is bounded (issue #17): each input that made a small file cost unbounded time
or memory, at a small size, gives its finding at its place (or the normal result) and the
run goes on for the other files.

No test here times anything (speed is measured in benchmarks/hostile.py, at sizes up to
2 MB): linearity is shown by counting the work a stage did where it counts it (the MDX
pre-pass), and otherwise by the outcome a super-linear version would only reach after
minutes (a test that hangs fails by timeout in CI).
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, check, where

from coursecheck import declarative, patterns
from coursecheck.builtin import bilingual, mermaid, musthaves
from coursecheck.config import ConfigError, load_config
from coursecheck.globs import MAX_ALTERNATIVES, _Glob, compile_glob, invalid_glob, matches
from coursecheck.model import Document
from coursecheck.parse import mdx
from coursecheck.parse.data import parse_data
from coursecheck.parse.markdown import parse_markdown
from coursecheck.parse.yamlpos import DATA_LIMITS, FRONTMATTER_LIMITS
from coursecheck.report.sarif import markdown_to_text
from coursecheck.suppress import directives

GOOD = {"content/ok.md": "# Хороший урок\n\nТекст.\n"}


def run_course(course, files: dict[str, str], config: str = DEFAULT_CONFIG):
    """Check a course of ``files`` plus a good lesson: the findings, after asserting that the
    good lesson was checked and that nothing went wrong inside coursecheck."""
    result = check(course({**GOOD, **files}, config))
    assert "content/ok.md" in result.files
    assert not result.notifications
    return result


def md(text: str, *, mdx_: bool = False) -> Document:
    return parse_markdown(Path("x.mdx" if mdx_ else "x.md"), "x.mdx" if mdx_ else "x.md", text, mdx=mdx_)


def problems(doc: Document) -> list[tuple[str, int, int]]:
    return [(p.rule_id, p.span.line, p.span.column) for p in doc.problems]


# -- YAML: aliases and nesting, checked before composing ------------------------------------

BOMB = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
    f"{k}: &{k} [" + ", ".join([f"*{chr(ord(k) - 1)}"] * 9) + "]" for k in "bcdefghi"
]


def test_alias_bomb_in_frontmatter_is_a_finding_at_the_alias(course):
    # a: 10 nodes, b: 91, c: 820; the aliases of b and c add 909, the first *c of d crosses 1,000.
    result = run_course(course, {"content/bomb.md": "---\n" + "\n".join(BOMB) + "\n---\n\n# Урок\n"})
    found = [f for f in result.active if f.path == "content/bomb.md"]
    assert where(found, "parse/frontmatter") == [("parse/frontmatter", "content/bomb.md", 5, 8)]
    message = next(f.message for f in found if f.rule_id == "parse/frontmatter")
    assert "frontmatter is not read" in message and "more than 1,000 nodes" in message and "*c" in message


def test_alias_chain_of_any_length_stops_at_the_limit():
    levels = ["l0: &l0 x"] + [f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 9) + "]" for k in range(1, 3000)]
    doc = md("---\n" + "\n".join(levels) + "\n---\n\nText.\n")
    # l1 adds 9, l2 81, l3 819 (909 in all), the first *l3 of l4 (820 more) crosses 1,000.
    assert problems(doc) == [("parse/frontmatter", 6, 10)]
    assert doc.frontmatter is not None and doc.frontmatter.data == {}


def test_alias_inside_the_node_it_repeats():
    doc = md("---\na: &a [1, *a]\n---\n")
    assert problems(doc) == [("parse/frontmatter", 2, 11)]
    assert "structure without end" in doc.problems[0].message


def test_a_few_aliases_and_merge_keys_still_read():
    doc = md("---\nbase: &b {level: 2, tags: [x, y]}\nlesson:\n  <<: *b\n  title: T\ncopy: *b\n---\n")
    assert doc.problems == []
    assert doc.frontmatter is not None
    assert doc.frontmatter.data["lesson"] == {"title": "T", "level": 2, "tags": ["x", "y"]}
    assert doc.frontmatter.data["copy"] == {"level": 2, "tags": ["x", "y"]}
    assert doc.frontmatter.place("copy", "tags", 1).line == 2  # an alias copy points at what it repeats


def test_nested_flow_brackets_in_frontmatter_are_a_finding_not_a_crash(course):
    # 80 KB of "[" crashed the YAML composer with SIGSEGV. The root mapping is level 1: the
    # 32nd "[" (column 7 + 31) opens level 33.
    result = run_course(course, {"content/deep.md": "---\ntitle: x\ntags: " + "[" * 80_000 + "\n---\n\n# Урок\n"})
    assert where(result.active, "parse/frontmatter") == [("parse/frontmatter", "content/deep.md", 3, 38)]
    assert f"more than {FRONTMATTER_LIMITS.max_depth} levels" in result.active[0].message


def test_nested_block_mappings_in_frontmatter():
    lines = [" " * (2 * k) + "a:" for k in range(60)]
    doc = md("---\n" + "\n".join(lines) + "\n---\n")
    assert problems(doc) == [("parse/frontmatter", 34, 65)]  # the 33rd mapping, under the 32nd key


def test_frontmatter_at_the_depth_limit_is_read():
    value = "[" * 31 + "x" + "]" * 31
    doc = md(f"---\ntags: {value}\n---\n")
    assert doc.problems == []
    assert doc.frontmatter is not None and doc.frontmatter.place(*(["tags"] + [0] * 31)).column == 38


@pytest.mark.parametrize(
    ("name", "content", "expected", "words"),
    [
        ("data/deep.yaml", "items: " + "[" * 50_000 + "]" * 50_000 + "\n", ("parse/data-syntax", 1, 107), "levels"),
        ("data/deep.json", '{"a": ' + "[" * 50_000 + "]" * 50_000 + "}", ("parse/data-syntax", 1, 106), "levels"),
        # Aliases of b..e add 74,718 nodes; the first *e of f (66,430 more) crosses 100,000.
        ("data/bomb.yaml", "\n".join(BOMB) + "\n", ("parse/data-syntax", 6, 8), "nodes"),
    ],
)
def test_hostile_data_files_are_findings(course, name, content, expected, words):
    result = run_course(course, {name: content})
    found = [f for f in result.active if f.path == name]
    assert [(f.rule_id, f.span.line, f.span.column) for f in found] == [expected]
    assert words in found[0].message


def test_data_file_depth_and_aliases_within_limits_read():
    doc = parse_data(Path("d.yaml"), "d.yaml", "x: " + "[" * 99 + "1" + "]" * 99 + "\n", "yaml")
    assert doc.problems == [] and doc.data_places
    entries = "\n".join(f"- <<: *d\n  id: {k}" for k in range(500))
    doc = parse_data(Path("d.yaml"), "d.yaml", "defaults: &d {a: 1, b: 2}\nitems:\n" + entries + "\n", "yaml")
    assert doc.problems == [] and doc.data is not None and len(doc.data) == 2
    assert DATA_LIMITS.max_alias_nodes >= 500 * 3


def test_json_at_the_depth_limit_is_read():
    doc = parse_data(Path("d.json"), "d.json", "[" * 100 + "]" * 100, "json")
    assert doc.problems == []


# -- the MDX pre-pass: linear, with findings at their places ---------------------------------


def work(text: str, *, as_mdx: bool = True) -> int:
    return mdx.prepass(text, mdx=as_mdx).work


@pytest.mark.parametrize(
    "line",
    ["Text {\n", "<Mermaid chart={`\n", "<Card title={`a` + `b\n", "{ 'a' {\n", "<A b={x /* c\n"],
)
def test_unclosed_scans_read_each_character_a_few_times(line):
    # Each of these opened a scan to the end of the file per line (20 KB of "{": 30 s).
    small, large = line * 200, line * 400
    assert work(large) <= 4 * len(large) + 64
    assert work(large) <= 2.2 * work(small) + 64


def test_an_expression_never_closed_takes_the_rest_of_the_file(course):
    # No "}" before the end of the file: to the MDX compiler everything after the first "{"
    # is that expression. One finding, at it; nothing after it is read as Markdown (the
    # TODO is inside the expression), and the Markdown parser gets blanks, not 1 MB of text.
    body = "# Урок\n\n" + "Значение {props.x\n" * 3 + "\nTODO: later\n"
    result = run_course(course, {"content/x.mdx": body})
    assert where(result.active, "parse/mdx-syntax") == [("parse/mdx-syntax", "content/x.mdx", 3, 10)]
    assert where(result.active, "anti-patterns/todo") == []


def test_unclosed_template_literals_give_a_finding_per_tag(course):
    body = "# Урок\n\n" + "<Mermaid chart={`\n" * 3
    result = run_course(course, {"content/x.mdx": body})
    assert where(result.active, "parse/mdx-syntax") == [("parse/mdx-syntax", "content/x.mdx", n, 1) for n in (3, 4, 5)]


def test_scans_that_close_are_unchanged():
    text = "A {x + `t ${y} t`} b <C p={`diagram\n\ngraph`} q=\"s\" /> {/* note */} <!-- c --> `code` end\n"
    pre = mdx.prepass(text, mdx=True)
    # Only the HTML comment, which the MDX compiler rejects (it is still read as a comment).
    assert [(offset, code) for offset, code, _ in pre.problems] == [(text.index("<!--") + 1, "html-comment")]
    assert [(c.name, [(p.name, p.kind, p.value) for p in c.props]) for c in pre.components] == [
        ("C", [("p", "template", "diagram\n\ngraph"), ("q", "string", "s")])
    ]
    assert [c.text for c in pre.comments] == ["note", "c"]
    assert pre.masked.index("end") == text.index("end") and "diagram" not in pre.masked


@pytest.mark.parametrize("opener", ["{/* ", "<!-- "])
def test_comment_openers_without_closer_are_one_finding(opener):
    # Every later opener is inside the first comment; each finding also copied its line.
    doc = md("# A\n\n" + opener * 2000 + "\n\n" + opener * 10 + "\n", mdx_=True)
    assert problems(doc) == [("parse/mdx-syntax", 3, 1)]


def test_mdx_comment_not_ended_by_a_brace_is_one_finding_per_line():
    doc = md("{/* a */ x {/* b */ y\n{/* c */ z\n", mdx_=True)
    assert problems(doc) == [("parse/mdx-syntax", 1, 1), ("parse/mdx-syntax", 2, 1)]


def test_the_work_budget_stops_the_pre_pass_with_a_finding(monkeypatch):
    # A backstop no input reaches with the memoized scans: shown by lowering it.
    monkeypatch.setattr(mdx, "_WORK_PER_CHAR", 0)
    monkeypatch.setattr(mdx, "_WORK_FLOOR", 20)
    doc = md("# A\n\n<B p={1} />\n\n<C p={aaaaaaaaaaaaaaaaaaaaaaaa} />\n\nText.\n", mdx_=True)
    assert problems(doc) == [("parse/mdx-syntax", 5, 1)]
    assert "stopped" in doc.problems[0].message
    assert [c.name for c in doc.components] == ["B"]
    assert any(s.text == "Text." for s in doc.segments)  # the rest is still read (as Markdown)


def test_code_spans_of_a_long_paragraph():
    doc = md("`a` " * 3000 + "\n")
    assert [s.anchors[0][1] for s in doc.segments if s.scope == "inline_code"] == [4 * k + 1 for k in range(3000)]


def test_backtick_runs_that_never_close():
    runs = "".join("`" * k + "x " for k in range(1, 300))
    doc = md(runs + "\n\n`` a `` b\n")
    codes = [(s.text, s.anchors[0][1]) for s in doc.segments if s.scope == "inline_code"]
    # In the first paragraph, only the run of one backtick closes (at the run of... none):
    # markdown-it-py and the pre-pass agree that no span ends there; the second paragraph's does.
    assert codes == [("a", len(runs) + 5)]


# -- Markdown: links, alignment, nesting, long lines ------------------------------------------


def test_links_of_one_paragraph():
    doc = md("[link](x.md) " * 2000 + "\n")
    assert len(doc.links) == 2000
    assert all(link.text == "link" and link.href == "x.md" for link in doc.links)
    assert [link.span.column for link in doc.links[:3]] == [1, 14, 27]
    assert doc.links[-1].href_span.column == 13 * 1999 + 8


def test_reference_links_and_images_with_an_unclosed_parenthesis():
    text = "![a][r] (" * 1000 + "[b][r] " * 1000 + "\n\n[r]: /x\n"
    doc = md(text)
    assert len(doc.links) == 1000
    assert doc.links[0].text == "b"


def test_entities_and_escapes_keep_their_places():
    doc = md("&copy; *слово* &#1234; \\* " * 2000 + "\n")
    prose = next(s for s in doc.segments if s.scope == "prose")
    k = prose.text.index("слово", len("© слово Ӓ * ") * 1999)  # the last repetition
    assert prose.offset(k) == 26 * 1999 + 8


def test_utf16_columns_on_a_long_line_with_an_emoji():
    doc = md("😀 " + "[a](b) " * 1500 + "\n")
    last = doc.links[-1]
    assert last.span.column == 3 + 7 * 1499 and last.span.column_utf16 == last.span.column + 1


def test_deep_blockquotes_and_lists_parse():
    # markdown-it-py stops nesting at 20 levels (its "commonmark" preset) and does not read
    # what is deeper (see docs/security.md); the parse stays linear and does not recurse.
    doc = md(">" * 5000 + " deep\n\nafter\n")
    assert [s.text for s in doc.segments] == ["after"]
    assert md(">" * 19 + " deep\n").segments[0].text == "deep"
    items = md("".join("  " * k + "- item\n" for k in range(300)))
    assert sum(s.text.count("item") for s in items.segments) == 9  # a list level is two (list, item)


def test_a_long_line_is_one_segment():
    doc = md("слово " * 50_000 + "\n")
    assert [s.scope for s in doc.segments] == ["prose"] and len(doc.segments[0].text) == 6 * 50_000 - 1


# -- suppressions ---------------------------------------------------------------------------


def test_suppression_comment_with_many_spaces(course):
    # (.*?)\s*$ with re.S was quadratic here: 80,000 spaces took 59 s.
    spaces = " " * 80_000
    lesson = f"# Урок\n\n<!-- coursecheck-disable-next-line anti-patterns/todo{spaces}-- черновик -->\nTODO: дописать.\n"
    result = run_course(course, {"content/x.md": lesson}, DEFAULT_CONFIG + '\n[rules]\n"anti-patterns/todo" = "warning"\n')
    assert [f for f in result.active if f.path == "content/x.md"] == []
    suppressed = [f for f in result.findings if f.path == "content/x.md"]
    assert [(f.rule_id, f.span.line, f.span.column) for f in suppressed] == [("anti-patterns/todo", 4, 1)]
    assert suppressed[0].suppression is not None and suppressed[0].suppression.justification == "черновик"


def test_suppression_reason_and_rules_read_as_before():
    doc = md("<!-- coursecheck-disable-file   anti-patterns/todo,  core/x  --  why not \n -->\n")
    [d] = directives(doc)
    assert (d.kind, d.rules, d.reason) == ("disable-file", ("anti-patterns/todo", "core/x"), "why not")


# -- user regexes of built-in rules: a time limit ---------------------------------------------

SLOW = "^(a|a)*$"  # passes the nested-quantifier check; exponential on "aaa...ab"


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setattr(declarative, "REGEX_TIMEOUT", 0.02)
    monkeypatch.setattr(musthaves, "REGEX_TIMEOUT", 0.02)


def test_frontmatter_pattern_that_backtracks_is_a_finding_once(course, short_timeout):
    config = DEFAULT_CONFIG + f'\n[frontmatter.fields.slug]\ntype = "string"\npattern = "{SLOW}"\n'
    lessons = {f"content/{n}.md": "---\nslug: " + "a" * 40 + "b\n---\n\n# Урок\n" for n in ("a", "b", "c")}
    result = run_course(course, lessons, config)
    found = where(result.active, "frontmatter/pattern")
    assert found == [("frontmatter/pattern", "content/a.md", 2, 7)]  # tried once, then skipped
    assert "took longer than" in result.active[0].message


def test_placeholder_pattern_that_backtracks_is_a_finding_once(course, short_timeout):
    config = DEFAULT_CONFIG + f'\n[rules]\n"anti-patterns/placeholder" = {{ level = "warning", patterns = ["{SLOW}"] }}\n'
    lessons = {f"content/{n}.md": "# Урок\n\n" + "a" * 40 + "b\n" for n in ("a", "b")}
    result = run_course(course, lessons, config)
    assert where(result.active, "anti-patterns/placeholder") == [("anti-patterns/placeholder", "content/a.md", 3, 1)]


def test_patterns_still_match_with_the_regex_module(course):
    config = DEFAULT_CONFIG + '\n[frontmatter.fields.slug]\ntype = "string"\npattern = "^[a-z-]+$"\n'
    result = run_course(course, {"content/a.md": "---\nslug: Bad Slug\n---\n\n# Урок\n"}, config)
    assert where(result.active, "frontmatter/pattern") == [("frontmatter/pattern", "content/a.md", 2, 7)]


def test_truth_pattern_that_times_out_is_not_tried_on_every_lesson(course, short_timeout, monkeypatch):
    calls = []
    real = musthaves._truth_hits

    def counting(doc, entry, memo):
        calls.append(doc.relpath)
        return real(doc, entry, memo)

    monkeypatch.setattr(musthaves, "_truth_hits", counting)
    config = DEFAULT_CONFIG + f'\n[[truth]]\nid = "t"\ntext = "x"\npattern = "{SLOW}"\nfiles = "content/*.md"\n'
    lessons = {f"content/{n}.md": "# Урок\n\n" + "a" * 40 + "b\n" for n in ("a", "b", "c", "d")}
    result = run_course(course, lessons, config)
    # Once in the per-file stage (the other lessons skip it), once in the course stage that reports it.
    assert len(calls) == 2
    assert any(f.rule_id == "musthave/truth" and "took longer than" in f.message for f in result.active)


# -- config: globs and TOML -----------------------------------------------------------------


def test_glob_with_many_wildcards_is_matched_in_linear_time():
    glob = compile_glob("*a" * 10 + "*b")
    assert isinstance(glob, _Glob)
    assert not glob.match("a" * 250)  # the regex backtracked for hours here
    assert glob.match("x/" + "a" * 20 + "b")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/*-draft-*.md", "content/a/x-draft-1.md", True),
        ("**/*-draft-*.md", "content/a/x-draft.md", False),
        ("*a*b*c*", "dir/xaybzc", True),
        ("*a*b*c*", "dir/a/b/c", False),
        ("src/**/x*y*z", "src/x1y2z", True),
        ("src/**/x*y*z", "src/a/b/xyz", True),
        ("src/**/x*y*z/", "src/a/xyz/deeper/file.md", True),
        ("[ab]*?*?*", "a12", True),
        ("[!ab]*?*?*", "a12", False),
    ],
)
def test_glob_automaton_agrees_with_the_regex(pattern, path, expected):
    glob = compile_glob(pattern)
    assert isinstance(glob, _Glob)
    assert bool(glob.match(path)) is expected
    alternatives = glob.pattern
    assert bool(re.compile("(?:" + "|".join(alternatives) + r")\Z").match(path)) is expected
    assert matches(path, [pattern]) is expected


def test_glob_automaton_agrees_with_the_regex_on_random_cases():
    rng = random.Random(17)
    pieces = ["*", "**", "?", "a", "b", "/", "[ab]", "{a,b}", "**/"]
    for _ in range(300):
        pattern = "".join(rng.choice(pieces) for _ in range(rng.randint(3, 7)))
        glob = compile_glob(pattern)
        if not isinstance(glob, _Glob):
            continue
        regex = re.compile("(?:" + "|".join(glob.pattern) + r")\Z")
        for _ in range(10):
            path = "".join(rng.choice("ab/") for _ in range(rng.randint(0, 8)))
            assert bool(glob.match(path)) == bool(regex.match(path)), (pattern, path)


def test_glob_with_too_many_alternatives_is_a_config_error(course):
    pattern = "content/" + "{a,b}" * 10 + ".md"
    assert invalid_glob(pattern) == f"more than {MAX_ALTERNATIVES} {{a,b}} alternatives; write fewer patterns"
    assert not compile_glob(pattern).match("content/" + "a" * 10 + ".md")
    root = course(GOOD, DEFAULT_CONFIG.replace('"content/**/*.{md,mdx}"', f'"{pattern}"'))
    with pytest.raises(ConfigError, match="alternatives"):
        check(root)


def test_deeply_nested_toml_is_a_config_error(course):
    root = course(GOOD, DEFAULT_CONFIG + "\n[rules]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(root / ".coursecheck.toml", root)


# -- regexes of rule families rewritten without backtracking: same answers ---------------------


def test_words_before_a_parenthesis_as_the_regex_found_them():
    old = re.compile(r"((?:[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*\s+)*[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*)\s*$")
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice("аб -\n\tx1Ё(") for _ in range(rng.randint(0, 14)))
        pos = rng.randint(0, len(text))
        end = rng.randint(pos, len(text))
        a, b = old.search(text, pos, end), bilingual._CYR_WORDS_BEFORE.search(text, pos, end)
        assert (a and a.group(1)) == (b and b.group(1)), (text, pos, end)
    long = "а" * 100_000 + "1 слово"
    assert bilingual._CYR_WORDS_BEFORE.search(long, 0, len(long)).group(1) == "слово"


def test_nested_quantifier_check_as_before():
    old = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")
    rng = random.Random(6)
    for _ in range(3000):
        text = "".join(rng.choice("()\\+*}{ab") for _ in range(rng.randint(0, 12)))
        assert bool(old.search(text)) == bool(patterns._NESTED_QUANTIFIER.search(text)), text
    assert patterns._NESTED_QUANTIFIER.search("(" + "+" * 100_000 + "x") is None
    assert patterns.regex_problem("(a+)+") is not None


def test_mermaid_node_id_as_before():
    old = re.compile(r"([\w.$-]+)[ \t]*$")
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice("ab.$- \t[x\n") for _ in range(rng.randint(0, 12)))
        at = rng.randint(0, len(text))
        start = text.rfind("\n", 0, at) + 1
        a, b = old.search(text, start, at), mermaid._NODE_ID.search(text, start, at)
        assert (a and a.group(1)) == (b and b.group(1)), (text, at)


def test_sarif_help_text_of_hostile_docs():
    assert markdown_to_text("## Title" + " " * 100_000 + "x ##") == ("TITLE" + " " * 100_000 + "X")
    long = "[" * 100_000
    assert markdown_to_text(long) == long  # kept as written
    assert markdown_to_text("A **bold** [link](https://x.org) here.") == "A bold link (https://x.org) here."


def test_benchmark_inputs_are_listed_in_the_docs():
    # benchmarks/hostile.py is documented in docs/performance.md with every input it builds.
    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("hostile", root / "benchmarks" / "hostile.py")
    assert spec is not None and spec.loader is not None
    hostile = importlib.util.module_from_spec(spec)
    sys.modules["hostile"] = hostile  # dataclasses look their module up
    try:
        spec.loader.exec_module(hostile)
    finally:
        del sys.modules["hostile"]
    names = [item.name for item in hostile.INPUTS]
    doc = (root / "docs" / "performance.md").read_text(encoding="utf-8")
    assert len(names) >= 15
    assert [n for n in names if f"`{n}`" not in doc] == []
    compile(hostile._FLOOR, "floor", "exec")  # the script timing markdown-it-py alone, run in a child
    # Each input builds files at a small size (the benchmark writes them as they are).
    for item in hostile.INPUTS:
        files = item.build(100 if item.unit == "terms" else 4096)
        assert files and all(rel.startswith(("content/", "data/")) for rel in files), item.name


def test_deep_json_in_baseline_and_init_survey(course, cli):
    deep = "[" * 100_000 + "]" * 100_000
    root = course({**GOOD, "data/glossary.json": deep, "baseline.json": deep})
    code, out, err = cli(root, "--baseline", "baseline.json")
    assert code == 2 and "baseline.json: baseline is nested too deeply to read" in err
    code, out, err = cli(root, "init", "--stdout", str(root))
    assert code == 0 and "Traceback" not in out + err and "[course]" in out


def test_parse_problems_per_file_are_capped_with_a_note():
    doc = md("Text <5\n" * 1000, mdx_=True)  # a '<' that cannot start a tag: a problem per line
    assert problems(doc)[:2] == [("parse/mdx-syntax", 1, 7), ("parse/mdx-syntax", 2, 7)]
    assert len(doc.problems) == 201 and doc.problems[199].span.line == 200
    last = doc.problems[-1]
    assert (last.rule_id, last.span.line, last.span.column) == ("parse/mdx-syntax", 201, 7)
    assert last.message.startswith("800 more problems like the 200 above")


# -- a build's output: terminal sequences removed in one pass ---------------------------------


def test_build_output_loses_its_terminal_sequences():
    from coursecheck.report.build import _ANSI

    text = "a\x1b]0;title\x07b\x1b]8;;https://x\x1b\\c\x1b[31mred\x1b[0m"
    assert _ANSI.sub("", text) == "abcred"
    # Openers that never end are left for the output's escaping (not a match each to the end).
    assert _ANSI.sub("", "\x1b]x" * 3 + "\x1b]0;t\x07") == "\x1b]x" * 3
