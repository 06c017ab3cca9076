"""terminology/*: coverage, unused terms, use before introduction, unreadable glossary entries;
the glossary loader and the coverage helper."""

from __future__ import annotations

import json

import pytest

from coursecheck.config import ConfigError, load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.match import coverage
from tests.conftest import DEFAULT_CONFIG, REPO, check, lint, where, write_files

GLOSSARY_CONFIG = (
    DEFAULT_CONFIG
    + """
[glossary]
file = "data/glossary.json"
fields = { term = "term", english = "termEn", abbreviation = "abbr", related = "related[].slug" }
"""
)


def glossary(*entries: dict) -> str:
    return json.dumps(list(entries), ensure_ascii=False, indent=2) + "\n"


LESSON_1 = "# Один\n\nСначала создадим том.\n"
LESSON_2 = "# Два\n\nТом (volume) хранит данные. Тома переживают контейнер.\n"


# -- terminology/coverage ---------------------------------------------------------------


def coverage_config(minimum: int, lessons: int, scope: str = "all") -> str:
    return (
        DEFAULT_CONFIG
        + f"""
[[term]]
term = "LagMetric"
files = "content/m3/*.md"
min-occurrences = {minimum}
min-lessons = {lessons}
scope = "{scope}"
"""
    )


COVERAGE_FILES = {
    "content/m3/a.md": "# A\n\nLagMetric растёт.\n\n```yaml\nmetric: debezium_LagMetric\n```\n",
    "content/m3/b.md": "# B\n\nСмотрим `LagMetric` и LagMetrics.\n",
    "content/m4/c.md": "# C\n\nLagMetric LagMetric LagMetric.\n",
}


def test_coverage_below_threshold_is_reported_at_the_config_entry(tmp_path):
    findings = lint(tmp_path, COVERAGE_FILES, config=coverage_config(5, 2), select=["terminology/coverage"])
    assert where(findings) == [("terminology/coverage", ".coursecheck.toml", 9, 8)]
    message = findings[0].message
    # a.md: prose + code (debezium_LagMetric: "_" separates words); b.md: inline code only
    # ("LagMetrics" is another word); m4 is outside the files glob.
    assert "3 occurrences across 2 of 2 lessons" in message
    assert "scope prose+heading+code+inline_code+prop+frontmatter" in message
    assert "required at least 5 occurrences in at least 2 lessons" in message
    assert [(p, s.line) for p, s, _ in findings[0].related] == [("content/m3/a.md", 3), ("content/m3/b.md", 3)]


def test_coverage_met_reports_nothing_and_publishes_the_measurement(tmp_path):
    write_files(tmp_path, COVERAGE_FILES)
    (tmp_path / ".coursecheck.toml").write_text(coverage_config(3, 2), encoding="utf-8")
    result = check(tmp_path, select=["terminology/coverage"])
    assert where(result.active) == []
    measured = result.extra["term-coverage"][0]
    assert (measured["occurrences"], measured["lessons"], measured["met"]) == (3, 2, True)
    assert measured["per_file"] == {"content/m3/a.md": 2, "content/m3/b.md": 1}


def test_coverage_scope_prose_counts_only_prose(tmp_path):
    findings = lint(tmp_path, COVERAGE_FILES, config=coverage_config(2, 1, "prose"), select=["terminology/coverage"])
    assert where(findings) == [("terminology/coverage", ".coursecheck.toml", 9, 8)]
    assert "1 occurrence across 1 of 2 lessons" in findings[0].message


def test_coverage_helper_counts_inflected_russian_forms(tmp_path):
    write_files(tmp_path, {"content/a.md": "Коннектор упал. Перезапустите коннектора, коннектором.\n"})
    (tmp_path / ".coursecheck.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
    course = check(tmp_path, select=["terminology/coverage"]).course
    cov = coverage(course, "коннектор", scopes="prose")
    assert (cov.total, cov.lessons) == (3, 1)
    assert [(p, s.line, s.column, t) for p, s, t in cov.locations][1] == ("content/a.md", 1, 31, "коннектора")


def test_term_config_errors_name_file_and_line(tmp_path):
    (tmp_path / ".coursecheck.toml").write_text(
        DEFAULT_CONFIG + '\n[[term]]\nterm = "X"\nmin-lesons = 2\nscope = "comments"\n', encoding="utf-8"
    )
    config = load_config(tmp_path / ".coursecheck.toml", tmp_path)
    with pytest.raises(ConfigError) as exc:
        Engine(config, RunOptions(entry_points=False))
    text = str(exc.value)
    assert ".coursecheck.toml:10: term.0.min-lesons: unknown key; did you mean 'min-lessons'?" in text
    assert ".coursecheck.toml:11: term.0.scope: unknown scope 'comments'" in text


# -- terminology/unused-term ----------------------------------------------------------------


def test_unused_glossary_term_is_reported_at_its_entry(tmp_path):
    files = {
        "content/a.md": LESSON_2,
        "data/glossary.json": glossary(
            {"term": "Том", "termEn": "Volume"},
            {"term": "Оркестратор", "termEn": "Orchestrator"},
        ),
    }
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["terminology/unused-term"])
    assert where(findings) == [("terminology/unused-term", "data/glossary.json", 7, 13)]
    assert "«Оркестратор» (Orchestrator) is used in no lesson" in findings[0].message


def test_glossary_term_used_in_any_form_is_not_unused(tmp_path):
    files = {
        "content/a.md": "# A\n\nОркестраторы (orchestrators) распределяют контейнеры.\n",
        "data/glossary.json": glossary({"term": "Оркестратор", "termEn": "Orchestrator"}),
    }
    assert lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["terminology/unused-term"]) == []


def test_inline_config_terms_are_reported_at_the_config_line(tmp_path):
    config = DEFAULT_CONFIG + '\n[[glossary.terms]]\nterm = "Оркестратор"\nenglish = "Orchestrator"\n'
    findings = lint(tmp_path, {"content/a.md": LESSON_2}, config=config, select=["terminology/unused-term"])
    assert where(findings) == [("terminology/unused-term", ".coursecheck.toml", 9, 8)]


# -- terminology/used-before-introduction ----------------------------------------------------


def test_term_used_before_the_lesson_that_pairs_it(tmp_path):
    files = {
        "content/01-a.md": LESSON_1,
        "content/02-b.md": LESSON_2,
        "data/glossary.json": glossary({"term": "Том", "termEn": "Volume"}),
    }
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["terminology/used-before-introduction"])
    assert where(findings) == [("terminology/used-before-introduction", "content/01-a.md", 3, 18)]
    assert "content/02-b.md gives it with its pair" in findings[0].message


def test_term_introduced_first_is_fine(tmp_path):
    files = {
        "content/01-a.md": LESSON_2,
        "content/02-b.md": LESSON_1,
        "data/glossary.json": glossary({"term": "Том", "termEn": "Volume"}),
    }
    assert lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["terminology/used-before-introduction"]) == []


def test_related_lessons_introduce_a_term_nobody_pairs(tmp_path):
    files = {
        "content/01-a.md": LESSON_1,
        "content/02-b.md": "# Два\n\nТом хранит данные.\n",
        "data/glossary.json": glossary({"term": "Том", "termEn": "Volume", "related": [{"slug": "02-b"}]}),
    }
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["terminology/used-before-introduction"])
    assert where(findings) == [("terminology/used-before-introduction", "content/01-a.md", 3, 18)]
    assert "is its first related lesson" in findings[0].message


# -- terminology/glossary-entry ---------------------------------------------------------------


def test_unreadable_glossary_entries_are_reported_where_they_are(tmp_path):
    files = {
        "content/a.md": LESSON_2,
        "data/glossary.json": '[\n  {"name": "Том"},\n  {"term": ["Том"], "termEn": "Volume"},\n  "Том"\n]\n',
    }
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["terminology/glossary-entry"])
    assert where(findings) == [
        ("terminology/glossary-entry", "data/glossary.json", 2, 3),
        ("terminology/glossary-entry", "data/glossary.json", 3, 12),
        ("terminology/glossary-entry", "data/glossary.json", 4, 3),
    ]
    assert "field 'term' (term) must be text, not list" in findings[1].message


def test_well_formed_glossary_has_no_entry_problems(tmp_path):
    files = {"content/a.md": LESSON_2, "data/glossary.json": glossary({"term": "Том", "termEn": "Volume"})}
    assert lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["terminology/glossary-entry"]) == []


def test_yaml_glossary_with_entries_path_and_mapping(tmp_path):
    config = (
        DEFAULT_CONFIG
        + '\n[glossary]\nfile = "data/terms.yaml"\nentries = "terms"\nfields = { term = "ru", english = "en" }\n'
    )
    files = {
        "content/a.md": LESSON_2,
        "data/terms.yaml": "terms:\n  - ru: Том\n    en: Volume\n  - ru: Оркестратор\n    en: Orchestrator\n",
    }
    findings = lint(tmp_path, files, config=config, select=["terminology"])
    assert where(findings) == [("terminology/unused-term", "data/terms.yaml", 4, 9)]


def test_glossary_config_errors_name_file_and_line(tmp_path):
    (tmp_path / ".coursecheck.toml").write_text(
        DEFAULT_CONFIG + '\n[glossary]\nfile = "data/missing.json"\nfields = { trem = "term" }\n', encoding="utf-8"
    )
    config = load_config(tmp_path / ".coursecheck.toml", tmp_path)
    with pytest.raises(ConfigError) as exc:
        Engine(config, RunOptions(entry_points=False))
    text = str(exc.value)
    assert ".coursecheck.toml:9: glossary.file: no such file: data/missing.json" in text
    assert ".coursecheck.toml:10: glossary.fields.trem: unknown role; did you mean 'term'?" in text


# -- docs and the demo --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule_id",
    [
        "terminology/coverage",
        "terminology/unused-term",
        "terminology/used-before-introduction",
        "terminology/glossary-entry",
    ],
)
def test_rule_docs_are_printed(cli, tmp_path, rule_id):
    code, out, _ = cli(tmp_path, "rule", rule_id)
    assert code == 0
    assert "## What it does" in out and "## How to fix" in out


def test_terms_command_prints_coverage_and_forms(cli):
    code, out, _ = cli(REPO, "terms", "--no-cache")
    assert code == 0
    assert "«Том» (Volume): 34 in 4 lessons; forms: volumes 10, том 9, тома 7" in out


def test_terms_command_on_an_unchanged_course_prints_the_stored_report(tmp_path, cli, monkeypatch):
    import shutil

    import coursecheck.builtin.terminology as terminology

    root = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "course", root / "examples" / "course")
    for name in (".coursecheck.toml", "rules", "vocabulary"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        elif source.is_file():
            shutil.copy(source, root / name)
    code, first, _ = cli(root, "terms", "--no-progress")
    assert code == 0 and "«Том» (Volume): 34 in 4 lessons" in first
    monkeypatch.setattr(terminology, "glossary_forms", lambda *a: (_ for _ in ()).throw(AssertionError("again")))
    code, second, _ = cli(root, "terms", "--no-progress")
    assert code == 0 and second == first


def _each_segment(doc, matcher, scopes):
    return [(seg.text, m) for seg in doc.segments if seg.scope in scopes for m in matcher.finditer(seg.text)]


@pytest.mark.parametrize(
    "text",
    [
        # A match across two segments (a list item ends with "foo", the next starts with
        # "bar") is not a match in either, but must not hide "bar baz" inside the second.
        "# Урок\n\n- foo\n- bar baz\n\nТекст: foo bar, Bar  Baz и ещё bar\nbaz.\n",
        "# Урок\n\nНичего нет.\n",
        "# Foo\n\nbar baz `foo bar` и **foo** bar\n",
    ],
)
def test_segment_matches_finds_what_each_segment_gives(tmp_path, text):
    from coursecheck.match import TermMatcher, segment_matches
    from coursecheck.parse.markdown import parse_markdown

    doc = parse_markdown(tmp_path / "a.md", "a.md", text, mdx=False)
    matcher = TermMatcher("foo bar", "bar baz")
    for scopes in (frozenset({"prose"}), frozenset({"prose", "heading", "inline_code"})):
        got = [(seg.text, m) for seg, m in segment_matches(doc, matcher, scopes)]
        assert got == _each_segment(doc, matcher, scopes)
    if text.startswith("# Урок\n\n- foo"):
        found = [(seg.text, m.text) for seg, m in segment_matches(doc, matcher, frozenset({"prose"}))]
        assert ("bar baz", "bar baz") in found and ("foo", "foo") not in found
        assert [t for _s, t in found].count("Bar  Baz") == 1
