"""anti-patterns/*: TODO markers, placeholders, empty sections, stub lessons."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEFAULT_CONFIG, lint, where

FM = '---\ntitle: "Урок"\n---\n'  # lines 1-3


def run(tmp_path, files, rule, config=DEFAULT_CONFIG):
    findings = lint(tmp_path, {f"content/{k}": v for k, v in files.items()}, config=config, select=[rule])
    return where(findings, rule), findings


# -- anti-patterns/todo --------------------------------------------------------------------------


def test_todo_fails_in_prose_headings_lists_and_tables(tmp_path):
    lesson = (
        FM
        + "\n"  # 4
        + "Текст. TODO: добавить пример резервного копирования.\n"  # 5
        + "\n## План FIXME\n"  # 7
        + "\n- TBD: пример с томами\n"  # 9
        + "\n| a | b |\n|---|---|\n| XXX | 🐳 TODO |\n"  # 11-13
    )
    got, findings = run(tmp_path, {"a.md": lesson}, "anti-patterns/todo")
    assert got == [
        ("anti-patterns/todo", "content/a.md", 5, 8),
        ("anti-patterns/todo", "content/a.md", 7, 9),
        ("anti-patterns/todo", "content/a.md", 9, 3),
        ("anti-patterns/todo", "content/a.md", 13, 3),
        ("anti-patterns/todo", "content/a.md", 13, 11),
    ]
    assert findings[0].message == "TODO marker left in the prose: «TODO: добавить пример резервного копирования.»"
    assert findings[1].message.startswith("FIXME marker left in the heading")
    # The emoji is one column in code points, two in UTF-16.
    assert (findings[4].span.column, findings[4].span.column_utf16) == (11, 12)


def test_tbd_as_a_value_is_not_a_marker(tmp_path):
    """"To be determined" in a table cell or inside a sentence is a value; TBD opening a
    sentence or standing alone is a marker."""
    lesson = (
        FM
        + "\n| Версия | До |\n|---|---|\n| 3 | TBD |\n"  # 5-7
        + "\nДата выхода пока TBD, следите за новостями.\n"  # 9
        + "\nTBD\n"  # 11
        + "\nГотово. TBD: ссылки на видео.\n"  # 13
    )
    got, _ = run(tmp_path, {"a.md": lesson}, "anti-patterns/todo")
    assert got == [("anti-patterns/todo", "content/a.md", 11, 1), ("anti-patterns/todo", "content/a.md", 13, 9)]


def test_todo_passes_in_code_and_inline_code_and_inside_words(tmp_path):
    lesson = (
        FM
        + "\n```dockerfile\n# TODO: закрепить версию\nFROM nginx\n```\n"
        + "\nФлаг `--todo` и переменная `TODO_LIST`, слово TODOS и todo-list.\n"
        + "\n    # TODO в отступе\n"
    )
    assert run(tmp_path, {"a.md": lesson}, "anti-patterns/todo")[0] == []
    mdx = FM + "\n{/* TODO: комментарий автора */}\n\nТекст.\n"
    assert run(tmp_path, {"b.mdx": mdx}, "anti-patterns/todo")[0] == []


def test_todo_options_markers_case_and_scopes(tmp_path):
    lesson = '---\ntitle: "TODO: название"\n---\n\nДоделать: todo и ДОДЕЛАТЬ.\n'
    config = DEFAULT_CONFIG + (
        '\n[rules]\n"anti-patterns/todo" = { markers = ["TODO", "доделать"], case-sensitive = false,'
        ' scopes = ["prose", "frontmatter"] }\n'
    )
    got, _ = run(tmp_path, {"a.md": lesson}, "anti-patterns/todo", config)
    assert got == [
        ("anti-patterns/todo", "content/a.md", 2, 9),
        ("anti-patterns/todo", "content/a.md", 5, 1),
        ("anti-patterns/todo", "content/a.md", 5, 11),
        ("anti-patterns/todo", "content/a.md", 5, 18),
    ]


# -- anti-patterns/placeholder -------------------------------------------------------------------


def test_placeholder_fails_in_both_languages_and_inflected(tmp_path):
    lesson = (
        FM
        + "\nРаздел в разработке. Здесь будет про `docker push`.\n"  # 5
        + "\nLorem ipsum dolor sit amet.\n"  # 7
        + "\n## Продакшен — coming soon\n"  # 9
        + "\nTo be added.\n"  # 11
        + "\n## Мониторинг\n\nЗдесь будет пример с Prometheus\n"  # 13-15: all the section holds
    )
    got, findings = run(tmp_path, {"a.md": lesson}, "anti-patterns/placeholder")
    assert got == [
        ("anti-patterns/placeholder", "content/a.md", 5, 1),
        ("anti-patterns/placeholder", "content/a.md", 7, 1),
        ("anti-patterns/placeholder", "content/a.md", 9, 16),
        ("anti-patterns/placeholder", "content/a.md", 11, 1),
        ("anti-patterns/placeholder", "content/a.md", 15, 1),
    ]
    assert findings[0].message.startswith("placeholder «Раздел в разработке» in the prose")
    assert findings[3].message.startswith("placeholder «To be added» in the prose")


def test_placeholder_words_in_their_ordinary_meaning_pass(tmp_path):
    """«Заглушка» (a test stub), "to be added" in a sentence, a guide "coming soon" as news,
    lorem ipsum named, an announcing sentence followed by the text it announces: no finding."""
    lesson = (
        FM
        + "\nПоставили заглушку вместо сервиса, чтобы тест не ходил в сеть.\n"
        + "\n## Заглушка для сервера\n\nСначала сделаем заглушку для сервера.\n"
        + "\nThe package needs to be added as a plugin. A guide is coming soon.\n"
        + "\nТекст-заглушка (Lorem ipsum) помечается тегом.\n"
        + "\n## Настройка\n\nЗдесь будет создан файл конфигурации:\n\n```yaml\nkey: value\n```\n"
        + "\n| Статус | Когда |\n|---|---|\n| в работе | coming soon |\n"
        + "\n## CLI basics\n\nThis section will walk through the commands\nyou use daily.\n\n### Install\n\nRun it.\n"
        + "\n## Counters\n\nThe spec will add custom counters soon. Stay tuned! 🤓\n"
    )
    assert run(tmp_path, {"a.md": lesson}, "anti-patterns/placeholder")[0] == []


def test_placeholder_announcing_sentence_or_sign_off_alone_in_a_section_fails(tmp_path):
    lesson = FM + "\n## CLI basics\n\nThis section will walk through the commands\n\n## Next\n\nStay tuned!\n"
    got, _ = run(tmp_path, {"a.md": lesson}, "anti-patterns/placeholder")
    assert got == [("anti-patterns/placeholder", "content/a.md", 7, 1), ("anti-patterns/placeholder", "content/a.md", 11, 1)]


def test_placeholder_per_language(tmp_path):
    """An English-only course does not look for Russian placeholders, and the other way round."""
    lesson = FM + "\nВ разработке.\n\nComing soon.\n"
    english = DEFAULT_CONFIG.replace('[course]\n', '[course]\nlanguages = { primary = "en" }\n', 1)
    got, _ = run(tmp_path, {"a.md": lesson}, "anti-patterns/placeholder", english)
    assert got == [("anti-patterns/placeholder", "content/a.md", 7, 1)]


def test_placeholder_passes_on_ordinary_text_and_code(tmp_path):
    lesson = (
        FM
        + "\nЭто удобно при разработке; раздел про тома — дальше. Сервис скоро ответит.\n"
        + "\n```python\n# placeholder: lorem ipsum\nprint('coming soon')\n```\n"
        + "\nИспользуйте `заглушка` как имя контейнера.\n"
    )
    assert run(tmp_path, {"a.md": lesson}, "anti-patterns/placeholder")[0] == []


def test_placeholder_custom_phrases_and_patterns(tmp_path):
    lesson = FM + "\nСм. раздел [ССЫЛКА] и ещё ???.\n"
    config = DEFAULT_CONFIG + (
        "\n[rules]\n\"anti-patterns/placeholder\" = { phrases = [\"см. раздел\"], patterns = ['\\[ССЫЛКА\\]', '\\?{3}'] }\n"
    )
    got, _ = run(tmp_path, {"a.md": lesson}, "anti-patterns/placeholder", config)
    assert got == [
        ("anti-patterns/placeholder", "content/a.md", 5, 1),
        ("anti-patterns/placeholder", "content/a.md", 5, 12),
        ("anti-patterns/placeholder", "content/a.md", 5, 27),
    ]


def test_placeholder_suppressed_on_the_next_line(tmp_path):
    lesson = (
        FM
        + "\n{/* coursecheck-disable-next-line anti-patterns/placeholder -- термин */}\n"
        + "**Заглушка.** Сервис с фиксированным ответом.\n"
    )
    findings = lint(tmp_path, {"content/a.mdx": lesson}, select=["anti-patterns", "core"])
    assert findings == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ('scopes = ["prose", "code"]', "unknown scope 'code'"),
        ('scopes = ["prse"]', "unknown scope 'prse'; did you mean 'prose'?"),
        ("patterns = ['(\\w+\\s?)*$']", "repeats a group that itself repeats"),
    ],
)
def test_bad_options_are_config_errors(tmp_path, cli, options, message):
    (tmp_path / "content").mkdir()
    config = DEFAULT_CONFIG + '\n[rules]\n"anti-patterns/placeholder" = { ' + options + " }\n"
    (tmp_path / ".coursecheck.toml").write_text(config, encoding="utf-8")
    code, _out, err = cli(tmp_path)
    assert code == 2
    assert ".coursecheck.toml:9: rules.anti-patterns/placeholder." in err and message in err, err


# -- anti-patterns/empty-section -----------------------------------------------------------------


def test_empty_section_fails_for_same_and_higher_level_and_at_the_end(tmp_path):
    lesson = (
        FM
        + "\n## Временные файловые системы\n"  # 5: followed by ## -> empty
        + "\n<!-- потом -->\n\n"
        + "## Права доступа\n"  # 9
        + "\nТекст.\n"
        + "\n### Подраздел\n"  # 13: followed by ## -> empty
        + "\n## Итоги\n"  # 15
        + "\n### Пусто в конце\n"  # 17: nothing after -> empty
    )
    got, findings = run(tmp_path, {"a.md": lesson}, "anti-patterns/empty-section")
    assert got == [
        ("anti-patterns/empty-section", "content/a.md", 5, 1),
        ("anti-patterns/empty-section", "content/a.md", 13, 1),
        ("anti-patterns/empty-section", "content/a.md", 17, 1),
    ]
    assert findings[0].message == (
        "section «Временные файловые системы» is empty: the next heading «Права доступа» (line 9) follows directly"
    )


def test_empty_section_names_a_heading_that_is_all_code_by_its_code(tmp_path):
    lesson = FM + "\n## Методы\n\n## `remove()`\n\nУдаляет запись.\n"
    got, findings = run(tmp_path, {"a.md": lesson}, "anti-patterns/empty-section")
    assert got == [("anti-patterns/empty-section", "content/a.md", 5, 1)]
    assert findings[0].message == "section «Методы» is empty: the next heading «remove()» (line 7) follows directly"


def test_empty_section_passes_for_subsections_components_code_and_setext(tmp_path):
    lesson = (
        FM
        + "\n## Раздел\n\n### Подраздел\n\nТекст.\n"
        + "\n## Схема\n\n<Mermaid chart={`flowchart LR\n  A --> B\n`} />\n"
        + "\n## Код\n\n```bash\nls\n```\n"
        + "\nЗаголовок setext\n----------------\n\nТекст под ним.\n"
    )
    assert run(tmp_path, {"a.mdx": lesson}, "anti-patterns/empty-section")[0] == []


def test_empty_section_mdx_comment_only(tmp_path):
    lesson = FM + "\n## Раздел\n\n{/* TODO */}\n\n## Следующий\n\nТекст.\n"
    assert run(tmp_path, {"a.mdx": lesson}, "anti-patterns/empty-section")[0] == [
        ("anti-patterns/empty-section", "content/a.mdx", 5, 1)
    ]


# -- anti-patterns/stub-lesson -------------------------------------------------------------------

STUB_ON = DEFAULT_CONFIG + '\n[rules]\n"anti-patterns/stub-lesson" = { level = "warning", min-words = 20 }\n'


def test_stub_lesson_fails_below_min_words(tmp_path):
    lesson = FM + "\nРаздел в разработке.\n\n```bash\n" + "echo много слов в коде не считаются\n" * 10 + "```\n"
    got, findings = run(tmp_path, {"a.md": lesson}, "anti-patterns/stub-lesson", STUB_ON)
    assert got == [("anti-patterns/stub-lesson", "content/a.md", 1, 1)]
    assert findings[0].message == "stub lesson: 3 words of prose (minimum 20)"


def test_stub_lesson_min_lines(tmp_path):
    config = (
        DEFAULT_CONFIG
        + '\n[rules]\n"anti-patterns/stub-lesson" = { level = "warning", min-words = 0, min-lines = 10 }\n'
    )
    got, findings = run(tmp_path, {"a.md": FM + "\nКоротко.\n"}, "anti-patterns/stub-lesson", config)
    assert got == [("anti-patterns/stub-lesson", "content/a.md", 1, 1)]
    assert findings[0].message == "stub lesson: 5 lines (minimum 10)"


def test_stub_lesson_passes_and_is_off_by_default(tmp_path):
    lesson = FM + "\n" + "Слово " * 25 + "\n"
    assert run(tmp_path, {"a.md": lesson}, "anti-patterns/stub-lesson", STUB_ON)[0] == []
    assert run(tmp_path, {"b.md": FM + "\nКоротко.\n"}, "anti-patterns/stub-lesson")[0] == []


def test_rule_docs_are_printed(tmp_path, cli):
    (tmp_path / ".coursecheck.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
    for rule_id in (
        "anti-patterns/todo",
        "anti-patterns/placeholder",
        "anti-patterns/empty-section",
        "anti-patterns/stub-lesson",
    ):
        code, out, _ = cli(tmp_path, "rule", rule_id)
        assert code == 0 and out.startswith(f"# {rule_id}")
        for section in ("## What it does", "## Why it matters", "## Example", "## How to fix"):
            assert section in out, (rule_id, section)
    _, out, _ = cli(tmp_path, "rule", "anti-patterns/stub-lesson")
    assert "- `min-words` (int, default `100`)" in out


# -- never a traceback (the three families of this module's issue) ------------------------------

PIECES = [
    "---\n",
    "title: x\n",
    "order: 3\n",
    "order: [\n",
    "difficulty: expert\n",
    "# ",
    "## ",
    "### ",
    "- ",
    "> ",
    "\n",
    "\n\n",
    "```mermaid\n",
    "```\n",
    "<Mermaid chart={`",
    "`} />",
    "{/* c */}",
    "<!-- c -->",
    "TODO",
    "заглушка",
    "coming soon",
    "A[x",
    '"',
    "flowchar",
    "Текст 🐳",
    "===\n",
]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join), st.sampled_from(["01-a.mdx", "02-b.md"]))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_rules_never_raise_on_generated_lessons(engine_for_fuzz, text, name):
    from coursecheck.model import Course
    from coursecheck.parse.markdown import parse_markdown
    from coursecheck.rules import RuleContext

    engine = engine_for_fuzz
    doc = parse_markdown(Path(name), f"m/{name}", text, mdx=name.endswith(".mdx"))
    doc.lesson_id = doc.relpath
    course = Course(Path("."), [doc], [], [], {doc.lesson_id: doc})
    for rule in engine.rules.values():
        if rule.family not in ("frontmatter", "mermaid", "anti-patterns"):
            continue
        ctx = RuleContext(rule, engine.config, {**rule.defaults()}, course)
        rule.check(course if rule.course else doc, ctx)
        for finding in ctx.findings:
            assert 1 <= finding.span.line <= max(doc.lines.line_count, 1)


@pytest.fixture(scope="module")
def engine_for_fuzz(tmp_path_factory):
    from coursecheck.config import load_config
    from coursecheck.engine import Engine, RunOptions

    root = tmp_path_factory.mktemp("fuzz")
    config = DEFAULT_CONFIG + '\n[frontmatter.fields.order]\ntype = "integer"\nrequired = true\nmin = 1\n'
    (root / ".coursecheck.toml").write_text(config, encoding="utf-8")
    return Engine(load_config(root / ".coursecheck.toml", root), RunOptions(entry_points=False))


def test_lowercased_gate_is_exact_for_its_characters():
    # Case-insensitive phrase gates run case-sensitively on lowercased text when the text
    # holds only _LOWER_SAFE characters and the keys only ASCII and Cyrillic: there, a
    # character matches a key character ignoring case exactly when their lowercases are
    # equal, and lowercasing keeps each character one character and a word character or not.
    import re

    from coursecheck.builtin.antipatterns import _KEY_CHARS, _NOT_LOWER_SAFE

    safe = "".join(chr(c) for c in range(0x110000) if not _NOT_LOWER_SAFE.match(chr(c)))
    assert "İ" not in safe and "\u212a" not in safe and "ı" not in safe and "ᲀ" not in safe
    for c in safe:
        assert len(c.lower()) == 1 and c.lower().isalnum() == c.isalnum(), c
    keys = "".join(chr(c) for c in range(0x110000) if _KEY_CHARS.fullmatch(chr(c)))
    for k in keys:
        ignoring_case = set(re.findall(re.escape(k), safe, re.IGNORECASE))
        assert ignoring_case == {c for c in safe if c.lower() == k.lower()}, k


@pytest.mark.parametrize("odd", ["", "Температура 5 \u212a, ı.\n\n"])
def test_placeholder_ignores_case_with_and_without_unsafe_characters(tmp_path, odd):
    # Characters outside the lowercase-safe set (Kelvin sign, dotless i) make the lesson be
    # searched ignoring case the slow way; either way mixed case matches at the same place.
    lesson = FM + "\n" + odd + "Этот раздел — ЗаГлУшКа.\n\nLorem IPSUM dolor.\n"
    first = 5 if not odd else 7
    got, _ = run(tmp_path, {"a.md": lesson}, "anti-patterns/placeholder")
    assert got == [
        ("anti-patterns/placeholder", "content/a.md", first, 15),
        ("anti-patterns/placeholder", "content/a.md", first + 2, 1),
    ]
