"""Declarative [[rule]] tables: every kind reporting and staying quiet, scopes, matching,
messages, validation with file:line, regex time limit, no-op detection, third-party kinds."""

from __future__ import annotations

import textwrap
import time

import pytest
from conftest import DEFAULT_CONFIG, check, lint, write_files

from coursecheck import declarative
from coursecheck.config import ConfigError, TomlLocator, load_config
from coursecheck.engine import Engine, RunOptions


def rules_config(rules: str) -> str:
    return DEFAULT_CONFIG + textwrap.dedent(rules)


def found(findings, prefix: str = "team/") -> list[tuple[str, str, int, int, str]]:
    return [
        (f.rule_id, f.path, f.span.line, f.span.column, f.message) for f in findings if f.rule_id.startswith(prefix)
    ]


def run(tmp_path, files: dict[str, str], rules: str, prefix: str = "team/"):
    findings = lint(tmp_path, files, config=rules_config(rules))
    assert [f.message for f in findings if f.rule_id == "core/internal-error"] == []
    return found(findings, prefix)


def config_errors(tmp_path, rules: str) -> list[str]:
    (tmp_path / ".coursecheck.toml").write_text(rules_config(rules), encoding="utf-8")
    config = load_config(tmp_path / ".coursecheck.toml", tmp_path)
    with pytest.raises(ConfigError) as info:
        Engine(config, RunOptions(entry_points=False))
    return [str(p) for p in info.value.problems]


# -- existence ----------------------------------------------------------------------------

EXISTENCE = """
[[rule]]
id = "team/no-todo"
kind = "existence"
terms = ["TODO", "юзер"]
ignore-case = false
message = "found '{match}' in {file} ({rule})"
"""


def test_existence_reports_each_occurrence_with_exact_position(tmp_path):
    files = {"content/a.md": "# Урок\n\nТекст. TODO: дописать.\n\nКаждый юзер видит.\n"}
    assert run(tmp_path, files, EXISTENCE) == [
        ("team/no-todo", "content/a.md", 3, 8, "found 'TODO' in content/a.md (team/no-todo)"),
        ("team/no-todo", "content/a.md", 5, 8, "found 'юзер' in content/a.md (team/no-todo)"),
    ]


def test_existence_passes_clean_text_and_respects_cyrillic_word_boundaries(tmp_path):
    # "юзерский" and "юзеру" contain "юзер" but are other words; ASCII \b would match them.
    files = {"content/a.md": "# Урок\n\nЮзерский интерфейс и todo в нижнем регистре; ТОDOшка.\n"}
    assert run(tmp_path, files, EXISTENCE) == []


def test_existence_positions_survive_frontmatter_crlf_and_astral_characters(tmp_path):
    text = "---\r\ntitle: x\r\n---\r\n\r\n🐳 Кит и TODO\r\n"
    assert run(tmp_path, {"content/a.md": text}, EXISTENCE) == [
        ("team/no-todo", "content/a.md", 5, 9, "found 'TODO' in content/a.md (team/no-todo)")
    ]


def test_inflect_matches_russian_forms(tmp_path):
    rules = """
    [[rule]]
    id = "team/no-kafka"
    kind = "existence"
    terms = ["кафка"]
    inflect = true
    """
    files = {"content/a.md": "Пишем в кафку, читаем из кафки.\n\nКафкианский сюжет.\n"}
    assert [(r, line, col) for r, _, line, col, _ in run(tmp_path, files, rules)] == [
        ("team/no-kafka", 1, 9),
        ("team/no-kafka", 1, 26),
    ]


# -- scopes -----------------------------------------------------------------------------

SCOPED = """
[[rule]]
id = "team/word"
kind = "existence"
terms = ["секрет"]
scope = {scope}
"""

SCOPE_DOC = """---
title: Урок про секрет
---
# Заголовок секрет

Абзац с [ссылка на секрет](/x) и `секрет` в коде.

```bash
echo секрет
```

```python
print("секрет")
```

<Mermaid chart={`flowchart LR
  A[секрет] --> B`} />
"""


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ('"prose"', [(6, 20)]),
        ('"headings"', [(4, 13)]),
        ('"link-text"', [(6, 20)]),
        ('"inline-code"', [(6, 35)]),
        ('"code"', [(9, 6), (13, 8)]),
        ('"code:bash"', [(9, 6)]),
        ('"code:py*"', [(13, 8)]),
        ('"frontmatter:title"', [(2, 17)]),
        ('"prop:Mermaid.chart"', [(17, 5)]),
        ('["headings", "code:python"]', [(4, 13), (13, 8)]),
    ],
)
def test_scopes_select_their_text(tmp_path, scope, expected):
    findings = run(tmp_path, {"content/a.mdx": SCOPE_DOC}, SCOPED.replace("{scope}", scope))
    assert [(line, col) for _, path, line, col, _ in findings] == expected
    assert {path for _, path, *_ in findings} == {"content/a.mdx"}


def test_file_scope_sees_markup_and_data_files(tmp_path):
    rules = """
    [[rule]]
    id = "team/comment-todo"
    kind = "existence"
    scope = "file"
    terms = ['<!-- TODO']
    """
    files = {
        "content/a.md": "Текст.\n\n<!-- TODO: убрать -->\n",
        "data/g.json": '{"note": "<!-- TODO"}\n',
    }
    assert [(p, line, col) for _, p, line, col, _ in run(tmp_path, files, rules)] == [
        ("content/a.md", 3, 1),
        ("data/g.json", 1, 11),
    ]


def test_files_and_exclude_globs(tmp_path):
    rules = """
    [[rule]]
    id = "team/word"
    kind = "existence"
    terms = ["секрет"]
    files = ["content/m1/**"]
    exclude = ["**/*-draft.md"]
    """
    files = {
        "content/m1/a.md": "Тут секрет.\n",
        "content/m1/b-draft.md": "Тут секрет.\n",
        "content/m2/c.md": "Тут секрет.\n",
    }
    assert [(p, line, col) for _, p, line, col, _ in run(tmp_path, files, rules)] == [("content/m1/a.md", 1, 5)]


# -- required ---------------------------------------------------------------------------


def test_required_per_file(tmp_path):
    rules = """
    [[rule]]
    id = "team/summary"
    kind = "required"
    terms = ["Итоги"]
    scope = "headings"
    """
    files = {"content/a.md": "# Урок\n\n## Итоги\n\nВсё.\n", "content/b.md": "# Урок\n\nТекст про итоги.\n"}
    assert run(tmp_path, files, rules) == [("team/summary", "content/b.md", 1, 1, "'Итоги' must appear in this file")]


def test_required_per_course_points_at_the_definition(tmp_path):
    rules = """
    [[rule]]
    id = "team/mentions-kafka"
    kind = "required"
    per = "course"
    terms = ["Kafka"]
    """
    line = rules_config(rules).splitlines().index('id = "team/mentions-kafka"')  # 0-based [[rule]] line
    assert run(tmp_path, {"content/a.md": "Нет.\n", "content/b.md": "Тоже нет.\n"}, rules) == [
        ("team/mentions-kafka", ".coursecheck.toml", line, 1, "'Kafka' must appear anywhere in the course")
    ]
    assert run(tmp_path, {"content/b.md": "Про Kafka.\n"}, rules) == []


# -- substitution ---------------------------------------------------------------------------

SUBSTITUTION = """
[[rule]]
id = "team/user"
kind = "substitution"
swap = { "юзер" = "пользователь", "Javascript" = "JavaScript" }
inflect = true
"""


def test_substitution_reports_with_expected_and_a_fix(tmp_path):
    files = {"content/a.md": "Юзер пишет на javascript.\n\nЮзеры довольны.\n"}
    findings = lint(tmp_path, files, config=rules_config(SUBSTITUTION), select=["team"])
    assert found(findings) == [
        ("team/user", "content/a.md", 1, 1, "use 'Пользователь' instead of 'Юзер'"),
        ("team/user", "content/a.md", 1, 15, "use 'JavaScript' instead of 'javascript'"),
        ("team/user", "content/a.md", 3, 1, "use 'Пользователь' instead of 'Юзеры'"),
    ]
    first, second, third = findings
    assert first.fix is not None and first.fix.edits[0].replacement == "Пользователь"
    assert (first.fix.edits[0].span.line, first.fix.edits[0].span.column, first.fix.edits[0].span.end_column) == (
        1,
        1,
        5,
    )
    assert second.fix is not None and second.fix.edits[0].replacement == "JavaScript"
    # An inflected form gets the message but no automatic fix: "пользователь" would not agree.
    assert third.fix is None


def test_substitution_passes_the_right_spelling(tmp_path):
    assert run(tmp_path, {"content/a.md": "Пользователь пишет на JavaScript.\n"}, SUBSTITUTION) == []


def test_substitution_regex_with_groups(tmp_path):
    rules = r"""
    [[rule]]
    id = "team/version"
    kind = "substitution"
    regex = true
    swap = { 'Python ?2\.(\d)' = 'Python 3 (not 2.\1)' }
    message = "write '{expected}'"
    """
    assert run(tmp_path, {"content/a.md": "Нужен Python 2.7 или Python 3.12.\n"}, rules) == [
        ("team/version", "content/a.md", 1, 7, "write 'Python 3 (not 2.7)'")
    ]


# -- occurrence ------------------------------------------------------------------------------


def test_occurrence_max_per_file_reports_the_first_one_too_many(tmp_path):
    rules = """
    [[rule]]
    id = "team/few-simply"
    kind = "occurrence"
    terms = ["просто"]
    max = 1
    """
    files = {"content/a.md": "Это просто.\n\nИ это просто.\n\nПросто всё.\n"}
    assert run(tmp_path, files, rules) == [
        ("team/few-simply", "content/a.md", 3, 7, "'просто' occurs 3 times in this file (at most 1)")
    ]
    assert run(tmp_path, {"content/a.md": "Это просто.\n"}, rules) == []


def test_occurrence_min_per_section_points_at_the_heading(tmp_path):
    rules = """
    [[rule]]
    id = "team/examples"
    kind = "occurrence"
    terms = ["например"]
    min = 1
    per = "section"
    """
    files = {"content/a.md": "# Урок\n\n## Первый\n\nНапример, так.\n\n## Второй\n\nБез примеров.\n"}
    assert run(tmp_path, files, rules) == [
        ("team/examples", "content/a.md", 1, 3, "'например' occurs 0 times in section «Урок» (at least 1)"),
        ("team/examples", "content/a.md", 7, 4, "'например' occurs 0 times in section «Второй» (at least 1)"),
    ]


# -- consistency -------------------------------------------------------------------------------

CONSISTENCY = """
[[rule]]
id = "team/backend"
kind = "consistency"
variants = ["бэкенд", "бэкэнд"]
inflect = true
"""


def test_consistency_reports_the_minority_with_counts(tmp_path):
    files = {
        "content/01.md": "Бэкенд отвечает. Бэкенду плохо.\n",
        "content/02.md": "Ответ от бэкэнда.\n\nСнова бэкенд.\n",
    }
    assert run(tmp_path, files, CONSISTENCY) == [
        (
            "team/backend",
            "content/02.md",
            1,
            10,
            "'бэкэнда': the course uses 'бэкенд' 3× and 'бэкэнд' 1×; keep one spelling",
        )
    ]


def test_consistency_passes_a_single_spelling(tmp_path):
    assert run(tmp_path, {"content/01.md": "Бэкенд.\n", "content/02.md": "Бэкенда нет.\n"}, CONSISTENCY) == []


# -- conditional -------------------------------------------------------------------------------

CONDITIONAL = """
[[rule]]
id = "team/wal"
kind = "conditional"
if = "WAL"
then = ["Write-Ahead Log", "журнал упреждающей записи"]
order = "{order}"
ignore-case = false
"""


def test_conditional_in_file(tmp_path):
    rules = CONDITIONAL.replace("{order}", "file")
    files = {
        "content/01.md": "WAL растёт. Write-Ahead Log (WAL) — журнал.\n",
        "content/02.md": "Как журнал упреждающей записи (WAL) хранит изменения? WAL растёт.\n",
    }
    assert run(tmp_path, files, rules) == [
        (
            "team/wal",
            "content/01.md",
            1,
            1,
            "'WAL' is used before 'Write-Ahead Log' / 'журнал упреждающей записи' appears",
        )
    ]


def test_conditional_in_course_order(tmp_path):
    rules = CONDITIONAL.replace("{order}", "course")
    introduced = {"content/01.md": "Write-Ahead Log (WAL) — журнал.\n", "content/02.md": "WAL растёт.\n"}
    assert run(tmp_path, introduced, rules) == []
    late = {"content/01.md": "Про WAL позже.\n", "content/02.md": "Write-Ahead Log (WAL).\n"}
    assert [(r, p, line, col) for r, p, line, col, _ in run(tmp_path, late, rules)] == [
        ("team/wal", "content/01.md", 1, 5)
    ]


# -- metric -------------------------------------------------------------------------------------


def test_metric_headings_max_points_at_the_first_heading_too_many(tmp_path):
    rules = """
    [[rule]]
    id = "team/headings"
    kind = "metric"
    metric = "headings"
    max = 2
    """
    files = {"content/a.md": "# Один\n\n## Два\n\n## Три\n"}
    assert run(tmp_path, files, rules) == [
        ("team/headings", "content/a.md", 5, 4, "headings: 3, more than the maximum 2")
    ]
    assert run(tmp_path, {"content/a.md": "# Один\n\n## Два\n"}, rules) == []


def test_metric_words_min_and_code_ratio(tmp_path):
    rules = """
    [[rule]]
    id = "team/words"
    kind = "metric"
    metric = "words"
    min = 5
    message = "{value} words (min {min})"

    [[rule]]
    id = "team/code-ratio"
    kind = "metric"
    metric = "code-ratio"
    max = 1
    """
    files = {"content/a.md": "# Код\n\nТри слова тут.\n\n```bash\na\nb\nc\nd\ne\n```\n"}
    assert run(tmp_path, files, rules) == [
        ("team/code-ratio", "content/a.md", 1, 1, "code-ratio: 2.5, more than the maximum 1"),
        ("team/words", "content/a.md", 1, 1, "4 words (min 5)"),
    ]


# -- frontmatter -----------------------------------------------------------------------------


def test_frontmatter_conditions(tmp_path):
    rules = """
    [[rule]]
    id = "team/difficulty"
    kind = "frontmatter"
    field = "difficulty"
    required = true
    one-of = ["beginner", "advanced"]

    [[rule]]
    id = "team/slug"
    kind = "frontmatter"
    field = "slug"
    type = "string"
    pattern = '^[a-z0-9-]+$'

    [[rule]]
    id = "team/no-draft"
    kind = "frontmatter"
    field = "draft"
    forbidden = true
    """
    files = {
        "content/a.md": "---\ndifficulty: expert\nslug: Bad_Slug\ndraft: true\n---\n\nТекст.\n",
        "content/b.md": "---\ntitle: x\n---\n\nТекст.\n",
        "content/c.md": "---\ndifficulty: beginner\nslug: good-slug\n---\n\nТекст.\n",
    }
    assert run(tmp_path, files, rules) == [
        ("team/difficulty", "content/a.md", 2, 13, "'difficulty' is 'expert'; expected one of 'beginner', 'advanced'"),
        ("team/slug", "content/a.md", 3, 7, "'slug' is 'Bad_Slug'; expected it to match '^[a-z0-9-]+$'"),
        ("team/no-draft", "content/a.md", 4, 1, "frontmatter field 'draft' is not allowed"),
        ("team/difficulty", "content/b.md", 1, 1, "frontmatter field 'difficulty' is missing"),
    ]


# -- levels, overrides, suppressions, select, docs ----------------------------------------------


def test_user_rule_is_a_real_rule(tmp_path, cli):
    rules = """
    [[rule]]
    id = "team/no-todo"
    kind = "existence"
    terms = ["TODO"]
    level = "note"
    tags = ["style"]
    docs = "No TODO in lessons.\\n\\nStudents see them."

    [rules]
    "team/no-todo" = "error"

    [[overrides]]
    files = ["content/drafts/**"]
    rules = { "team/no-todo" = "off" }
    """
    files = {
        "content/a.md": "TODO раз.\n\n<!-- coursecheck-disable-next-line team/no-todo -->\nTODO два.\n",
        "content/drafts/b.md": "TODO три.\n",
    }
    findings = lint(tmp_path, files, config=rules_config(rules))
    assert [
        (f.rule_id, f.path, f.span.line, f.span.column, f.level) for f in findings if f.rule_id == "team/no-todo"
    ] == [("team/no-todo", "content/a.md", 1, 1, "error")]
    code, out, _ = cli(tmp_path, "rule", "team/no-todo")
    assert code == 0
    assert out.startswith("# team/no-todo\n")
    assert "No TODO in lessons." in out and "Students see them." in out and "Tags: declarative, existence, style" in out
    code, out, _ = cli(tmp_path, "--select", "team", "--format", "json")
    assert code == 1 and '"rule": "team/no-todo"' in out and "anti-patterns" not in out


def test_placeholders_and_literal_braces(tmp_path):
    rules = """
    [[rule]]
    id = "team/braces"
    kind = "existence"
    terms = ["foo"]
    message = "{{literal}} {match} in {file}"
    """
    assert run(tmp_path, {"content/a.md": "foo\n"}, rules) == [
        ("team/braces", "content/a.md", 1, 1, "{literal} foo in content/a.md")
    ]


# -- validation --------------------------------------------------------------------------------


def test_unknown_key_kind_scope_and_placeholder_are_config_errors_with_lines(tmp_path):
    rules = """
    [[rule]]
    id = "team/a"
    kind = "existence"
    term = ["x"]

    [[rule]]
    id = "team/b"
    kind = "existance"
    terms = ["x"]

    [[rule]]
    id = "team/c"
    kind = "existence"
    terms = ["x"]
    scope = "headngs"

    [[rule]]
    id = "team/d"
    kind = "substitution"
    swap = { "a" = "b" }
    message = "use {expectd}"
    """
    errors = config_errors(tmp_path, rules)
    base = len(DEFAULT_CONFIG.splitlines())
    assert errors == [
        f".coursecheck.toml:{base + 5}: rule.0.term: unknown key for a existence rule; did you mean 'terms'? "
        "(keys: id, kind, level, message, docs, tags, scope, files, exclude, ignore-case, inflect, regex, example, terms)",
        f".coursecheck.toml:{base + 9}: rule.1.kind: unknown rule kind 'existance'; did you mean 'existence'? "
        "(known: conditional, consistency, existence, frontmatter, metric, occurrence, required, substitution)",
        f".coursecheck.toml:{base + 16}: rule.2.scope: unknown scope 'headngs'; did you mean 'headings'? "
        "(known: prose, headings, code, inline-code, link-text, frontmatter, prop, file)",
        f".coursecheck.toml:{base + 22}: rule.3.message: unknown placeholder {{expectd}}; did you mean 'expected'? "
        "(a substitution rule has: {rule}, {file}, {match}, {expected})",
    ]


def test_bad_regex_duplicate_and_builtin_ids_and_types(tmp_path):
    rules = """
    [[rule]]
    id = "team/re"
    kind = "existence"
    regex = true
    terms = ["(unclosed"]

    [[rule]]
    id = "team/empty"
    kind = "existence"
    regex = true
    terms = ["x*"]

    [[rule]]
    id = "team/twice"
    kind = "existence"
    terms = ["x"]

    [[rule]]
    id = "team/twice"
    kind = "existence"
    terms = ["y"]

    [[rule]]
    id = "core/internal-error"
    kind = "existence"
    terms = ["x"]

    [[rule]]
    id = "team/types"
    kind = "occurrence"
    terms = ["x"]
    max = "three"
    """
    errors = config_errors(tmp_path, rules)
    base = len(DEFAULT_CONFIG.splitlines())
    assert errors[0].startswith(f".coursecheck.toml:{base + 6}: rule.0.terms: invalid regular expression '(unclosed': ")
    assert errors[1] == (
        f".coursecheck.toml:{base + 12}: rule.1.terms: regular expression 'x*' matches the empty string; "
        "it would report everywhere"
    )
    assert errors[2] == (
        f".coursecheck.toml:{base + 20}: rule.3.id: rule 'team/twice' is defined twice (first at line {base + 15})"
    )
    assert errors[3] == (
        f".coursecheck.toml:{base + 25}: rule.4.id: 'core/internal-error' is already a built-in rule id; choose another family"
    )
    assert errors[4] == f".coursecheck.toml:{base + 33}: rule.5.max: must be an integer, not str"
    assert len(errors) == 5


def test_example_tables_are_validated(tmp_path):
    rules = """
    [[rule]]
    id = "team/x"
    kind = "existence"
    terms = ["x"]

      [[rule.example]]
      bad = "x"
      colum = 1
    """
    (error,) = config_errors(tmp_path, rules)
    base = len(DEFAULT_CONFIG.splitlines())
    assert error.startswith(
        f".coursecheck.toml:{base + 9}: rule.0.example.0.colum: unknown key in an example; did you mean 'column'?"
    )


def test_toml_locator_numbers_nested_arrays_of_tables_per_parent():
    text = '[[rule]]\nid = "a"\n[[rule.example]]\nbad = "1"\n[[rule]]\nid = "b"\n[[rule.example]]\nbad = "2"\n[[rule.example]]\nok = "3"\n'
    loc = TomlLocator(text)
    assert loc.line("rule", 0, "example", 0, "bad") == 4
    assert loc.line("rule", 1, "example", 0, "bad") == 8
    assert loc.line("rule", 1, "example", 1, "ok") == 10
    assert loc.line("rule", 1, "id") == 6


# -- regex time limit -------------------------------------------------------------------------


def test_catastrophic_regex_is_reported_not_hanging(tmp_path, monkeypatch):
    monkeypatch.setattr(declarative, "REGEX_TIMEOUT", 0.2)
    rules = """
    [[rule]]
    id = "team/slow"
    kind = "existence"
    regex = true
    terms = ['(x+x+)+y']
    """
    files = {"content/a.md": "x" * 3000 + "\n", "content/b.md": "x" * 3000 + "\n"}
    started = time.perf_counter()
    findings = run(tmp_path, files, rules)
    assert time.perf_counter() - started < 5
    # Reported once, naming the rule and the pattern; the rule stops for the rest of the run.
    assert len(findings) == 1
    rule_id, path, line, column, message = findings[0]
    assert (rule_id, path, line, column) == ("team/slow", "content/a.md", 1, 1)
    assert "pattern '(x+x+)+y' of rule team/slow took longer than 0.2 s on content/a.md" in message


# -- no-op detection ------------------------------------------------------------------------------


def test_no_op_rules_are_reported_at_their_definition(tmp_path):
    rules = """
    [[rule]]
    id = "team/misspelt-language"
    kind = "existence"
    scope = "code:pyhton"
    terms = ["print"]

    [[rule]]
    id = "team/markup-in-prose"
    kind = "existence"
    terms = ["`kubectl`"]

    [[rule]]
    id = "team/nowhere"
    kind = "existence"
    terms = ["x"]
    files = ["lessons/**"]

    [[rule]]
    id = "team/fine"
    kind = "existence"
    terms = ["никогда-не-встретится"]

      [[rule.example]]
      bad = "никогда-не-встретится"
    """
    files = {"content/a.md": "Текст и `kubectl`.\n\n```python\nprint(1)\n```\n"}
    findings = lint(tmp_path, files, config=rules_config(rules))
    base = len(DEFAULT_CONFIG.splitlines())
    assert found(findings, "declarative/") == [
        (
            "declarative/no-op",
            ".coursecheck.toml",
            base + 2,
            1,
            "rule team/misspelt-language is likely a no-op: its scope (code:pyhton) selected no text in the 1 files it applies to",
        ),
        (
            "declarative/no-op",
            ".coursecheck.toml",
            base + 8,
            1,
            "rule team/markup-in-prose is likely a no-op: term '`kubectl`' contains Markdown markup, which is not part "
            'of the text in scope prose: it can never match (use scope "file", or drop the markup)',
        ),
        (
            "declarative/no-op",
            ".coursecheck.toml",
            base + 13,
            1,
            "rule team/nowhere is likely a no-op: its files/exclude globs match none of the 1 files checked",
        ),
    ]


def test_rule_that_matches_nothing_and_whose_bad_example_fails_is_a_no_op(tmp_path):
    rules = """
    [[rule]]
    id = "team/broken"
    kind = "existence"
    terms = ["**важно**"]
    scope = ["prose", "code"]

      [[rule.example]]
      bad = "Это **важно**."
    """
    findings = lint(tmp_path, {"content/a.md": "Это **важно**.\n"}, config=rules_config(rules))
    (message,) = [f.message for f in findings if f.rule_id == "declarative/no-op"]
    assert message == (
        "rule team/broken is likely a no-op: it matched nothing in the course, and its own 'bad' example is not "
        "reported either"
    )


# -- third-party kinds ----------------------------------------------------------------------------

KIND_PLUGIN = """
from coursecheck import hookimpl
from coursecheck.declarative import FieldSpec, RuleKind


class Shouting(RuleKind):
    name = "shouting"
    summary = "Words in capitals"
    fields = (FieldSpec("min-length", "int", "shortest word to report", default=4),)
    placeholders = ("match",)
    default_message = "'{match}' is written in capitals"

    def prepare(self, spec, problem):
        n = spec.fields["min-length"]
        spec.state["matcher"] = spec.regex_matcher([r"\\b[A-ZА-ЯЁ]{%d,}\\b" % n], problem, "min-length")

    def check_document(self, rule, doc, ctx):
        for hit in rule.hits(doc, ctx, rule.spec.state["matcher"]):
            rule.report(ctx, doc, hit, match=hit.text)


@hookimpl
def coursecheck_rule_kinds():
    return [Shouting()]
"""


def test_a_plugin_adds_a_rule_kind(tmp_path):
    write_files(tmp_path, {"tools/kinds.py": KIND_PLUGIN, "content/a.md": "Это ОЧЕНЬ важно, а это ок.\n"})
    config = 'plugins = ["tools/kinds.py"]\n' + rules_config(
        """
        [[rule]]
        id = "team/caps"
        kind = "shouting"
        min-length = 3
        ignore-case = false
        """
    )
    (tmp_path / ".coursecheck.toml").write_text(config, encoding="utf-8")
    result = check(tmp_path, select=["team"])
    assert found(result.active) == [("team/caps", "content/a.md", 1, 5, "'ОЧЕНЬ' is written in capitals")]
