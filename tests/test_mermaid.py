"""mermaid/*: diagram counts, empty diagrams, unknown types, unbalanced labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecheck.builtin.mermaid import DEFAULT_COMPONENTS, diagrams, imbalances
from coursecheck.parse.markdown import parse_markdown
from tests.conftest import DEFAULT_CONFIG, lint, where

FM = '---\ntitle: "Урок"\n---\n'
IMPORT = "import { Mermaid } from '../Mermaid.tsx';\n\n"
MIN_ON = DEFAULT_CONFIG + '\n[rules]\n"mermaid/min-diagrams" = "warning"\n'


def chart(body: str) -> str:
    return "<Mermaid chart={`\n" + body + "`} client:visible />\n"


def run(tmp_path: Path, files: dict[str, str], rule: str, config: str = DEFAULT_CONFIG):
    findings = lint(tmp_path, {f"content/{k}": v for k, v in files.items()}, config=config, select=[rule])
    return where(findings, rule)


# -- the public helper -------------------------------------------------------------------------


def test_diagrams_counts_fences_and_components_in_source_order():
    text = (
        FM
        + IMPORT
        + "```mermaid\nflowchart LR\n  A --> B\n```\n\n"
        + chart("sequenceDiagram\n  A->>B: hi\n")
        + '\n<Diagram code={`pie\n  "a": 1\n`} />\n'
        + "\n<Mermaid chart={flow} />\n"
        + "\n```js\nconst x = 1;\n```\n"
    )
    doc = parse_markdown(Path("l.mdx"), "l.mdx", text, mdx=True)
    found = diagrams(doc, DEFAULT_COMPONENTS)
    assert [(d.origin, d.kind, d.span.line) for d in found] == [
        ("fence", "flowchart", 6),
        ("Mermaid.chart", "sequenceDiagram", 11),
        ("Mermaid.chart", "", 20),  # a JS expression: counted, text unknown
    ]
    assert not found[2].is_literal and not found[2].is_empty
    with_diagram = diagrams(doc, ["Mermaid.chart", "Diagram.code"])
    assert [d.kind for d in with_diagram] == ["flowchart", "sequenceDiagram", "pie", ""]
    # The chart text keeps its positions: "sequenceDiagram" starts at line 12, column 1.
    seg = found[1].segment
    assert seg is not None and doc.span(*seg.range(1, 16)).line == 12


# -- mermaid/min-diagrams ----------------------------------------------------------------------


def test_min_diagrams_fails_below_minimum_and_counts_both_kinds(tmp_path):
    lesson_md = FM + "\nТекст без схем.\n"
    lesson_mdx = FM + IMPORT + chart("flowchart LR\n  A --> B\n") + "\n```mermaid\ngraph TD\n  C --> D\n```\n"
    config = DEFAULT_CONFIG + '\n[rules]\n"mermaid/min-diagrams" = { level = "warning", min = 2 }\n'
    result = run(tmp_path, {"a.md": lesson_md, "b.mdx": lesson_mdx}, "mermaid/min-diagrams", config)
    assert result == [("mermaid/min-diagrams", "content/a.md", 1, 1)]


def test_min_diagrams_empty_diagrams_do_not_count_and_overrides_apply(tmp_path):
    files = {
        "01-m/01-a.mdx": FM + IMPORT + "<Mermaid chart={``} />\n",
        "01-m/02-summary.md": FM + "\nИтоги.\n",
    }
    config = MIN_ON + '\n[[overrides]]\nfiles = ["**/*-summary.md"]\nrules = { "mermaid/min-diagrams" = { min = 0 } }\n'
    findings = lint(tmp_path, {f"content/{k}": v for k, v in files.items()}, config=config, select=["mermaid"])
    assert where(findings, "mermaid/min-diagrams") == [("mermaid/min-diagrams", "content/01-m/01-a.mdx", 1, 1)]
    (finding,) = [f for f in findings if f.rule_id == "mermaid/min-diagrams"]
    assert finding.message == "lesson has 0 Mermaid diagrams; at least 1 required"
    assert where(findings, "mermaid/empty-diagram") == [("mermaid/empty-diagram", "content/01-m/01-a.mdx", 6, 1)]


def test_min_diagrams_passes_and_is_off_by_default(tmp_path):
    lesson = FM + IMPORT + chart("flowchart LR\n  A --> B\n")
    assert run(tmp_path, {"a.mdx": lesson}, "mermaid/min-diagrams", MIN_ON) == []
    assert run(tmp_path, {"b.md": FM + "\nБез схем.\n"}, "mermaid/min-diagrams") == []


def test_min_diagrams_reads_configured_components(tmp_path):
    lesson = FM + "\n<Diagram code={`flowchart LR\n  A --> B\n`} />\n"
    expected = [("mermaid/min-diagrams", "content/a.mdx", 1, 1)]
    assert run(tmp_path, {"a.mdx": lesson}, "mermaid/min-diagrams", MIN_ON) == expected
    config = MIN_ON + '\n[mermaid]\ncomponents = ["Diagram.code"]\n'
    assert run(tmp_path, {"a.mdx": lesson}, "mermaid/min-diagrams", config) == []


# -- mermaid/empty-diagram ---------------------------------------------------------------------


def test_empty_diagram_fails(tmp_path):
    lesson = (
        FM
        + IMPORT  # lines 4-5
        + "## Сеть\n\n"  # 6-7
        + "<Mermaid chart={``} />\n\n"  # 8
        + "```mermaid\n%% пока пусто\n```\n\n"  # 10-12
        + "<Mermaid client:visible />\n"  # 14: no chart prop at all
    )
    assert run(tmp_path, {"a.mdx": lesson}, "mermaid/empty-diagram") == [
        ("mermaid/empty-diagram", "content/a.mdx", 8, 1),
        ("mermaid/empty-diagram", "content/a.mdx", 10, 1),
        ("mermaid/empty-diagram", "content/a.mdx", 14, 1),
    ]


def test_empty_diagram_passes(tmp_path):
    lesson = FM + IMPORT + chart("%%{init: {'theme': 'dark'}}%%\nflowchart LR\n  A --> B\n")
    assert run(tmp_path, {"a.mdx": lesson}, "mermaid/empty-diagram") == []


def test_a_component_whose_chart_is_a_fence_inside_it_is_not_empty(tmp_path):
    lesson = (
        FM
        + IMPORT  # lines 4-5
        + "<Mermaid>\n```mermaid\nflowchart LR\n  A --> B\n```\n</Mermaid>\n\n"  # 6-11
        + "<Mermaid>\nТекст без диаграммы.\n</Mermaid>\n"  # 13: no chart anywhere
    )
    assert run(tmp_path, {"a.mdx": lesson}, "mermaid/empty-diagram") == [
        ("mermaid/empty-diagram", "content/a.mdx", 13, 1)
    ]


# -- mermaid/unknown-type ----------------------------------------------------------------------


def test_unknown_type_fails_at_the_word_with_suggestion(tmp_path):
    lesson = FM + IMPORT + "Текст.\n\n" + "<Mermaid chart={`\n  flowchar LR\n    A --> B\n`} />\n"
    findings = lint(tmp_path, {"content/a.mdx": lesson}, select=["mermaid/unknown-type"])
    assert where(findings) == [("mermaid/unknown-type", "content/a.mdx", 9, 3)]
    assert "'flowchar'; did you mean 'flowchart'?" in findings[0].message
    assert (findings[0].span.end_line, findings[0].span.end_column) == (9, 11)


def test_unknown_type_in_fence_inside_a_list(tmp_path):
    lesson = FM + "\n- Пункт:\n\n  ```mermaid\n  sequencediagram\n    A->>B: hi\n  ```\n"
    findings = lint(tmp_path, {"content/a.md": lesson}, select=["mermaid/unknown-type"])
    assert where(findings) == [("mermaid/unknown-type", "content/a.md", 8, 3)]
    assert "did you mean 'sequenceDiagram'?" in findings[0].message


def test_unknown_type_passes_for_known_types_config_blocks_and_extra_types(tmp_path):
    lesson = (
        FM
        + IMPORT
        + chart("---\ntitle: Схема\n---\nflowchart LR\n  A --> B\n")
        + chart("%% comment\nstateDiagram-v2\n  [*] --> A\n")
        + chart("graph TD;\n  A-->B;\n")
        + chart("erDiagram\n  A ||--o{ B : has\n")
        + chart("zenuml\n  A.b()\n")
        + chart("myPluginChart\n  x\n")
    )
    config = DEFAULT_CONFIG + '\n[rules]\n"mermaid/unknown-type" = { extra-types = ["myPluginChart"] }\n'
    assert run(tmp_path, {"a.mdx": lesson}, "mermaid/unknown-type", config) == []


# -- mermaid/unbalanced-brackets ---------------------------------------------------------------


def test_unbalanced_label_fails_at_the_opening_bracket(tmp_path):
    lesson = FM + IMPORT + chart('flowchart LR\n    A["Хост --> B["Том"]\n    B --> C["Контейнер"]\n')
    findings = lint(tmp_path, {"content/a.mdx": lesson}, select=["mermaid/unbalanced-brackets"])
    # line 6 is "<Mermaid chart={`", 7 "flowchart LR", 8 the broken label; '[' is column 6.
    assert where(findings) == [("mermaid/unbalanced-brackets", "content/a.mdx", 8, 6)]
    assert "label of node 'A' opened with '['" in findings[0].message


@pytest.mark.parametrize(
    ("statement", "column", "message"),
    [
        ("A[Хост --> B", 6, "label of node 'A' opened with '[' is never closed"),
        ("A(Хост] --> B", 11, "']' closes '('; expected ')'"),
        ("A --> B]", 12, "']' closes nothing"),
        ("A -->|да B", 10, "edge label opened with '|' is never closed"),
        ('A --> "Хост', 11, "quote '\"' is never closed"),
        ("A --> D>флаг", 12, "label of node 'D' opened with '>' is never closed"),
        ("A --> B{{шестиугольник}", 12, "label of node 'B' opened with '{' is never closed"),
    ],
)
def test_unbalanced_cases_in_a_fence(tmp_path, statement, column, message):
    lesson = FM + "\n```mermaid\nflowchart LR\n    " + statement + "\n```\n"
    findings = lint(tmp_path, {"content/a.md": lesson}, select=["mermaid/unbalanced-brackets"])
    assert where(findings) == [("mermaid/unbalanced-brackets", "content/a.md", 7, column)]
    assert message in findings[0].message


def test_unbalanced_brackets_passes_on_real_chart_idioms(tmp_path):
    lesson = (
        FM
        + IMPORT
        + chart(
            "flowchart TB\n"
            '    subgraph S1["Этап (build)"]\n'
            "        direction LR\n"
            '        A[(База данных)] -->|"SELECT каждые N минут"| B{{hex}}\n'
            "        C((circle)) --> D>flag] --> E([stadium])\n"
            '        F["text with (parens) и {скобками}"] -.->|< 1M строк| G[/para/]\n'
            "        H[\\\\alt\\\\] ==> I(((dbl))) --- J[[sub]]\n"
            '        K["a<br/>b"] --> L{"Queue<br/>>80%?"}\n'
            "        M -->|>= 1M| N[Incremental Snapshot]\n"
            '        O -->|"Envelope<br/>{before, after}"| P\n'
            '        Q["многострочная\n        подпись"] --> R\n'
            "    end\n"
            "    subgraph host [Хост]\n"
            "    end\n"
            '    subgraph "Без snapshot"\n'
            "    end\n"
            "    style S1 fill:#7f1d1d,stroke:#ef4444\n"
            "    classDef warm fill:#f9f,stroke:#333;\n"
            "    class A warm\n"
            "    %% a comment with [ and (\n"
            "    A --> B %% a trailing comment (\n"
            "    A <--> B\n"
            '    T@{ shape: rect, label: "новый синтаксис" }\n'
        )
        + chart(
            "sequenceDiagram\n"
            "    participant App as Приложение (клиент\n"
            "    App->>DB: INSERT INTO t (name) VALUES ('x'\n"
            "    rect rgb(127, 29, 29)\n"
            "        Note over App,DB: сбой :(\n"
            "    end\n"
        )
        + chart(
            "stateDiagram-v2\n"
            "    [*] --> Created: создаёт слот (при запуске\n"
            '    state "Долгое имя (x)" as S\n'
            "    state Composite {\n"
            "        [*] --> Inner\n"
            "    }\n"
            "    note right of S\n"
            "        свободный текст ( [ {\n"
            "    end note\n"
            "    state fork <<fork>>\n"
        )
        + chart(
            "classDiagram\n"
            "    class Animal {\n"
            "        +List~int~ ids\n"
            "        +eat(food: Food) bool\n"
            "        <<interface>>\n"
            "    }\n"
            "    Animal <|-- Duck : extends (sort of\n"
            '    Customer "1" --> "*" Ticket\n'
        )
        + chart(
            "erDiagram\n"
            "    CUSTOMER ||--o{ ORDER : places\n"
            "    CUSTOMER }|..|{ ADDRESS : uses\n"
            "    CUSTOMER {\n"
            '        string name PK "имя (ФИО"\n'
            "    }\n"
        )
        + chart("mindmap\n  root((Курс))\n    Модуль\n      id)облако(\n      id2))взрыв((\n      B[квадрат]\n")
        + chart('pie title Питомцы\n    "Собаки (" : 386\n')
    )
    assert run(tmp_path, {"a.mdx": lesson}, "mermaid/unbalanced-brackets") == []


def test_unbalanced_blocks_in_class_state_and_er_diagrams():
    assert [p.message for p in imbalances("classDiagram\n  class A {\n    +x\n")] == [
        "block opened with '{' is never closed"
    ]
    assert [p.message for p in imbalances("stateDiagram-v2\n  [*] --> A\n  }\n")] == ["'}' closes no block"]
    assert [(p.index, p.message) for p in imbalances('erDiagram\n  A {\n    string x "y\n  }\n')] == [
        (29, "quote '\"' is never closed")
    ]
    assert [p.message for p in imbalances("mindmap\n  root((x)\n")] == [
        "label of node 'root' opened with '(' is never closed"
    ]


def test_unbalanced_positions_through_crlf_and_fence_in_quote(tmp_path):
    lesson = (FM + "\n> ```mermaid\n> graph LR\n>   A[Хост --> B\n> ```\n").replace("\n", "\r\n")
    findings = lint(tmp_path, {"content/a.md": lesson}, select=["mermaid/unbalanced-brackets"])
    assert where(findings) == [("mermaid/unbalanced-brackets", "content/a.md", 7, 6)]


# -- config ----------------------------------------------------------------------------------


def test_bad_components_entry_is_a_config_error(tmp_path, cli):
    (tmp_path / "content").mkdir()
    (tmp_path / ".coursecheck.toml").write_text(
        DEFAULT_CONFIG + '\n[mermaid]\ncomponents = ["Mermaid"]\ncomponets = 1\n', encoding="utf-8"
    )
    code, _out, err = cli(tmp_path)
    assert code == 2
    assert ".coursecheck.toml:9: mermaid.components: 'Mermaid' is not \"Component.prop\"" in err
    assert ".coursecheck.toml:10: mermaid.componets: unknown key; did you mean 'components'?" in err


def test_rule_docs_are_printed(tmp_path, cli):
    (tmp_path / ".coursecheck.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
    for rule_id in (
        "mermaid/min-diagrams",
        "mermaid/empty-diagram",
        "mermaid/unknown-type",
        "mermaid/unbalanced-brackets",
    ):
        code, out, _ = cli(tmp_path, "rule", rule_id)
        assert code == 0
        assert out.startswith(f"# {rule_id}")
        for section in ("## What it does", "## Why it matters", "## Example", "## How to fix"):
            assert section in out
    _, out, _ = cli(tmp_path, "rule", "mermaid/min-diagrams")
    assert "- `min` (int, default `1`)" in out


def test_init_writes_components_with_a_chart_prop(tmp_path):
    from coursecheck.builtin.mermaid import coursecheck_init_sections
    from coursecheck.init import survey

    lesson = FM + IMPORT + chart("flowchart LR\n  A --> B\n") + '\n<Callout title="x">Текст</Callout>\n'
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "01-a.mdx").write_text(lesson, encoding="utf-8")
    text = coursecheck_init_sections(survey(tmp_path))
    assert text is not None and '[mermaid]\ncomponents = ["Mermaid.chart"]' in text


def test_init_switches_min_diagrams_on_when_nearly_every_lesson_has_one(tmp_path, cli):
    (tmp_path / "course").mkdir()
    for i in range(1, 4):
        lesson = FM + IMPORT + chart("flowchart LR\n  A --> B\n")
        (tmp_path / "course" / f"0{i}-a.mdx").write_text(lesson, encoding="utf-8")
    code, _out, err = cli(tmp_path, "init")
    assert code == 0, err
    written = (tmp_path / ".coursecheck.toml").read_text(encoding="utf-8")
    assert '[rules."mermaid/min-diagrams"]\nlevel = "warning"\nmin = 1' in written
    # The written config runs as is, and the rule is on: a lesson without a diagram is found.
    (tmp_path / "course" / "04-b.mdx").write_text(FM + "\nТекст.\n", encoding="utf-8")
    code, out, err = cli(tmp_path, "--select", "mermaid")
    assert "course/04-b.mdx:1:1: warning mermaid/min-diagrams" in out, out + err


# -- never a traceback ------------------------------------------------------------------------

CHART_PIECES = ['"', "[", "]", "(", ")", "{", "}", "|", ">", "<", ":", "-->", "\n", " ", "A", "Хост", "%%", "end", "`"]


@given(
    kind=st.sampled_from(["flowchart LR", "graph TD", "classDiagram", "stateDiagram-v2", "erDiagram", "mindmap", ""]),
    body=st.lists(st.sampled_from(CHART_PIECES), max_size=40).map("".join),
)
@settings(max_examples=300, deadline=None)
def test_imbalances_never_raise_and_point_inside_the_chart(kind, body):
    text = kind + "\n" + body
    for problem in imbalances(text):
        assert 0 <= problem.index < len(text)
        assert text[problem.index] in '"[](){}|>'
