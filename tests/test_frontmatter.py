"""frontmatter/*: the declarative schema, course order by frontmatter and file names."""

from __future__ import annotations

import pytest

from coursecheck.builtin.frontmatter import infer_schema_toml, regex_problem
from coursecheck.config import tomllib
from tests.conftest import DEFAULT_CONFIG, lint, where

SCHEMA = (
    DEFAULT_CONFIG
    + """
[frontmatter.fields.title]
type = "string"
required = true

[frontmatter.fields.order]
type = "integer"
required = true
min = 1

[frontmatter.fields.difficulty]
type = "string"
required = true
enum = ["beginner", "intermediate", "advanced"]

[frontmatter.fields.estimatedTime]
type = "number"
required = true
min = 1
max = 240

[frontmatter.fields.topics]
type = "list"
items = "string"
min = 1

[frontmatter.fields.prerequisites]
type = "list"
items = "string"
pattern = '^module-\\d+/\\d{2}-[a-z0-9-]+$'
"""
)

GOOD = (
    "---\n"
    'title: "Тома"\n'
    "order: 1\n"
    "difficulty: beginner\n"
    "estimatedTime: 20\n"
    'topics: ["volumes", "данные"]\n'
    'prerequisites: ["module-1/03-dockerfile-basics"]\n'
    "---\n\n"
    "Текст урока.\n"
)


def fm(**fields: str) -> str:
    """GOOD with fields replaced (value None: line removed)."""
    lines = GOOD.split("\n")
    for key, value in fields.items():
        index = next(i for i, line in enumerate(lines) if line.startswith(key + ":"))
        if value is None:
            del lines[index]
        else:
            lines[index] = f"{key}: {value}"
    return "\n".join(lines)


def run(tmp_path, files, rule, config=SCHEMA):
    findings = lint(tmp_path, {f"content/{k}": v for k, v in files.items()}, config=config, select=[rule])
    return where(findings, rule), findings


def test_a_good_lesson_passes_every_frontmatter_rule(tmp_path):
    config = SCHEMA + '\n[rules]\n"frontmatter/unknown-field" = "warning"\n'
    findings = lint(tmp_path, {"content/01-m/01-a.md": GOOD}, config=config, select=["frontmatter"])
    assert findings == []


# -- frontmatter/required-field ------------------------------------------------------------------


def test_required_field_missing_is_reported_at_the_opening_line(tmp_path):
    got, findings = run(tmp_path, {"01-a.md": fm(estimatedTime=None)}, "frontmatter/required-field")
    assert got == [("frontmatter/required-field", "content/01-a.md", 1, 1)]
    assert "'estimatedTime'" in findings[0].message
    assert (findings[0].span.end_line, findings[0].span.end_column) == (1, 4)


def test_required_field_without_value_is_reported_at_its_key(tmp_path):
    got, findings = run(tmp_path, {"01-a.md": fm(difficulty="")}, "frontmatter/required-field")
    assert got == [("frontmatter/required-field", "content/01-a.md", 4, 1)]
    assert findings[0].message.startswith("'difficulty' has no value")


def test_required_field_lesson_without_frontmatter(tmp_path):
    got, findings = run(tmp_path, {"01-a.md": "# Урок\n\nТекст.\n"}, "frontmatter/required-field")
    assert got == [("frontmatter/required-field", "content/01-a.md", 1, 1)]
    assert "required fields: title, order, difficulty, estimatedTime" in findings[0].message


def test_required_field_passes_and_yaml_errors_are_not_duplicated(tmp_path):
    broken = '---\ntitle: "Тома\norder: 1\n---\n\nТекст.\n'
    files = {"content/01-a.md": GOOD, "content/02-b.md": broken}
    findings = lint(tmp_path, files, config=SCHEMA, select=["parse", "frontmatter"])
    assert [f.rule_id for f in findings if f.path == "content/02-b.md"] == ["parse/frontmatter"]
    assert [f for f in findings if f.rule_id.startswith("frontmatter/")] == []


# -- frontmatter/field-type ----------------------------------------------------------------------


def test_field_type_fails_at_value_and_item(tmp_path):
    lesson = fm(estimatedTime='"20"', topics='["volumes", 42]')
    got, findings = run(tmp_path, {"01-a.md": lesson}, "frontmatter/field-type")
    assert got == [
        ("frontmatter/field-type", "content/01-a.md", 5, 16),
        ("frontmatter/field-type", "content/01-a.md", 6, 21),
    ]
    assert findings[0].message == "'estimatedTime' must be a number, not a string; remove the quotes"
    assert findings[1].message == "item 2 of 'topics' must be a string, not an integer"


def test_field_type_integer_rejects_floats_and_bools(tmp_path):
    got, _ = run(tmp_path, {"01-a.md": fm(order="1.5"), "02-b.md": fm(order="true")}, "frontmatter/field-type")
    assert got == [
        ("frontmatter/field-type", "content/01-a.md", 3, 8),
        ("frontmatter/field-type", "content/02-b.md", 3, 8),
    ]


def test_field_type_passes(tmp_path):
    got, _ = run(tmp_path, {"01-a.md": fm(estimatedTime="7.5")}, "frontmatter/field-type")
    assert got == []


# -- frontmatter/enum ----------------------------------------------------------------------------


def test_enum_fails_with_suggestion(tmp_path):
    files = {"01-a.md": fm(difficulty='"expert"'), "02-b.md": fm(difficulty="Beginer")}
    got, findings = run(tmp_path, files, "frontmatter/enum")
    assert got == [("frontmatter/enum", "content/01-a.md", 4, 13), ("frontmatter/enum", "content/02-b.md", 4, 13)]
    assert findings[0].message == "'difficulty' is 'expert', not one of: 'beginner', 'intermediate', 'advanced'"
    assert findings[1].message.endswith("did you mean 'beginner'?")


def test_enum_on_list_items(tmp_path):
    config = SCHEMA.replace('items = "string"\nmin = 1', 'items = "string"\nmin = 1\nenum = ["volumes", "данные"]')
    got, _ = run(tmp_path, {"01-a.md": fm(topics='["volumes", "сети"]')}, "frontmatter/enum", config)
    assert got == [("frontmatter/enum", "content/01-a.md", 6, 21)]


def test_enum_passes(tmp_path):
    assert run(tmp_path, {"01-a.md": fm(difficulty="advanced")}, "frontmatter/enum")[0] == []


# -- frontmatter/pattern -------------------------------------------------------------------------


def test_pattern_fails_at_the_item(tmp_path):
    lesson = fm(prerequisites="\n  - module-1/01-intro\n  - Module 1 / lesson 2")
    got, findings = run(tmp_path, {"01-a.md": lesson}, "frontmatter/pattern")
    assert got == [("frontmatter/pattern", "content/01-a.md", 9, 5)]
    assert "'Module 1 / lesson 2' does not match pattern" in findings[0].message


def test_pattern_passes(tmp_path):
    assert run(tmp_path, {"01-a.md": GOOD}, "frontmatter/pattern")[0] == []


# -- frontmatter/value-range ---------------------------------------------------------------------


def test_value_range_fails_for_numbers_and_lists(tmp_path):
    got, findings = run(tmp_path, {"01-a.md": fm(estimatedTime="600", topics="[]")}, "frontmatter/value-range")
    assert got == [
        ("frontmatter/value-range", "content/01-a.md", 5, 16),
        ("frontmatter/value-range", "content/01-a.md", 6, 9),
    ]
    assert findings[0].message == "'estimatedTime' is 600, above the maximum 240"
    assert findings[1].message == "'topics' has 0 items, below the minimum 1"


def test_value_range_passes(tmp_path):
    assert run(tmp_path, {"01-a.md": fm(estimatedTime="240")}, "frontmatter/value-range")[0] == []


# -- frontmatter/unknown-field (opt-in) ----------------------------------------------------------


def test_unknown_field_is_off_by_default_and_reports_at_the_key_when_on(tmp_path):
    lesson = GOOD.replace("estimatedTime: 20\n", "estimatedTime: 20\nprerequisite: []\n")
    assert run(tmp_path, {"01-a.md": lesson}, "frontmatter/unknown-field")[0] == []
    config = SCHEMA + '\n[rules]\n"frontmatter/unknown-field" = "warning"\n'
    got, findings = run(tmp_path, {"01-a.md": lesson}, "frontmatter/unknown-field", config)
    assert got == [("frontmatter/unknown-field", "content/01-a.md", 6, 1)]
    assert "did you mean 'prerequisites'?" in findings[0].message


def test_unknown_field_passes(tmp_path):
    config = SCHEMA + '\n[rules]\n"frontmatter/unknown-field" = "warning"\n'
    assert run(tmp_path, {"01-a.md": GOOD}, "frontmatter/unknown-field", config)[0] == []


# -- course order --------------------------------------------------------------------------------


def test_order_prefix_fails_at_the_order_value(tmp_path):
    got, findings = run(tmp_path, {"02-m/03-compose.md": fm(order="2")}, "frontmatter/order-prefix")
    assert got == [("frontmatter/order-prefix", "content/02-m/03-compose.md", 3, 8)]
    assert findings[0].message == "order 2 disagrees with the file name prefix '03-' (3)"


def test_order_prefix_passes_and_ignores_unnumbered_files(tmp_path):
    files = {"02-m/03-compose.md": fm(order="3"), "02-m/intro.md": fm(order="9")}
    assert run(tmp_path, files, "frontmatter/order-prefix")[0] == []


def test_order_prefix_uses_the_configured_order_field(tmp_path):
    config = SCHEMA.replace('id = "{path}"', 'id = "{path}"\norder-field = "position"')
    lesson = GOOD.replace("order: 1\n", "order: 1\nposition: 5\n")
    got, _ = run(tmp_path, {"01-m/01-a.md": lesson}, "frontmatter/order-prefix", config)
    assert got == [("frontmatter/order-prefix", "content/01-m/01-a.md", 4, 11)]


def test_duplicate_order_fails_per_module_with_related_location(tmp_path):
    files = {
        "02-m/02-net.md": fm(order="2"),
        "02-m/03-compose.md": fm(order="2"),
        "03-m/02-other.md": fm(order="2"),  # another module: fine
    }
    got, findings = run(tmp_path, files, "frontmatter/duplicate-order")
    assert got == [("frontmatter/duplicate-order", "content/02-m/03-compose.md", 3, 8)]
    assert findings[0].message == "order 2 is already used by 02-net.md in 02-m"
    (path, span, _why) = findings[0].related[0]
    assert (path, span.line, span.column) == ("content/02-m/02-net.md", 3, 8)


def test_duplicate_order_passes(tmp_path):
    files = {"02-m/01-a.md": fm(order="1"), "02-m/02-b.md": fm(order="2")}
    assert run(tmp_path, files, "frontmatter/duplicate-order")[0] == []


def test_duplicate_prefix_fails(tmp_path):
    files = {"02-m/03-compose.md": fm(order="3"), "02-m/3-profiles.md": fm(order="3"), "02-m/04-x.md": fm(order="4")}
    got, findings = run(tmp_path, files, "frontmatter/duplicate-prefix")
    assert got == [("frontmatter/duplicate-prefix", "content/02-m/3-profiles.md", 1, 1)]
    assert findings[0].message == "file name prefix '3-' is already used by 03-compose.md in 02-m"


def test_duplicate_prefix_passes(tmp_path):
    files = {"02-m/01-a.md": fm(order="1"), "02-m/02-b.md": fm(order="2"), "03-m/01-c.md": fm(order="1")}
    assert run(tmp_path, files, "frontmatter/duplicate-prefix")[0] == []


# -- config --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "line", "message"),
    [
        (
            'type = "strng"',
            9,
            "frontmatter.fields.x.type: must be one of string, number, integer, boolean, list, mapping, date, any, not 'strng'; "
            "did you mean 'string'?",
        ),
        ('type = "string"\nrequird = true', 10, "frontmatter.fields.x.requird: unknown key; did you mean 'required'?"),
        ('type = "string"\npattern = "(unclosed"', 10, "frontmatter.fields.x.pattern: invalid regular expression"),
        (
            'type = "string"\npattern = "^(a+)+$"',
            10,
            "frontmatter.fields.x.pattern: regular expression '^(a+)+$' repeats",
        ),
        ('type = "integer"\nenum = ["a"]', 10, "frontmatter.fields.x.enum: value 'a' is not an integer"),
        ('type = "number"\npattern = "x"', 10, "frontmatter.fields.x.pattern: 'pattern' applies to strings"),
        ('type = "number"\nmin = 5\nmax = 1', 10, "frontmatter.fields.x.min: min (5) is greater than max (1)"),
    ],
)
def test_schema_errors_are_config_errors_with_lines(tmp_path, cli, table, line, message):
    (tmp_path / "content").mkdir()
    config = DEFAULT_CONFIG + "\n[frontmatter.fields.x]\n" + table + "\n"
    (tmp_path / ".coursecheck.toml").write_text(config, encoding="utf-8")
    code, _out, err = cli(tmp_path)
    assert code == 2
    assert f".coursecheck.toml:{line}: {message}" in err, err


def test_regex_problem():
    assert regex_problem(r"^module-\d+/\d{2}-[a-z0-9-]+$") is None
    assert regex_problem("(a|b)+") is None  # a repeated group without an inner quantifier is fine
    assert "exponential" in (regex_problem(r"(\w+\s?)*$") or "")


def test_rule_docs_are_printed(tmp_path, cli):
    (tmp_path / ".coursecheck.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
    for rule_id in (
        "frontmatter/required-field",
        "frontmatter/field-type",
        "frontmatter/enum",
        "frontmatter/pattern",
        "frontmatter/value-range",
        "frontmatter/unknown-field",
        "frontmatter/order-prefix",
        "frontmatter/duplicate-order",
        "frontmatter/duplicate-prefix",
    ):
        code, out, _ = cli(tmp_path, "rule", rule_id)
        assert code == 0 and out.startswith(f"# {rule_id}")
        for section in ("## What it does", "## Why it matters", "## Example", "## How to fix"):
            assert section in out, (rule_id, section)


# -- coursecheck init ----------------------------------------------------------------------------


def test_infer_schema_required_types_and_enums():
    lessons = {
        f"m/0{i}.md": {
            "title": f"Урок {i}",
            "order": i,
            "difficulty": ["beginner", "advanced"][i % 2],
            "estimatedTime": 10 if i % 2 else 7.5,
            "topics": ["a", "b"],
            **({"draft": True} if i == 1 else {}),
        }
        for i in range(1, 7)
    }
    text = infer_schema_toml(lessons)
    fields = tomllib.loads(text)["frontmatter"]["fields"]
    assert fields["title"] == {"type": "string", "required": True}  # 6 distinct titles: no enum
    assert fields["order"] == {"type": "integer", "required": True}
    assert fields["difficulty"] == {"type": "string", "required": True, "enum": ["advanced", "beginner"]}
    assert fields["estimatedTime"] == {"type": "number", "required": True}
    assert fields["topics"] == {"type": "list", "items": "string", "required": True}
    assert fields["draft"] == {"type": "boolean"}  # in 1 of 6 lessons: optional


def test_init_config_runs_without_edits(tmp_path, cli):
    for i in range(1, 6):
        lesson = GOOD.replace("order: 1", f"order: {i}").replace('"Тома"', f'"Урок {i}"')
        (tmp_path / "course" / "01-m").mkdir(parents=True, exist_ok=True)
        (tmp_path / "course" / "01-m" / f"0{i}-l.md").write_text(lesson, encoding="utf-8")
    code, _out, err = cli(tmp_path, "init")
    assert code == 0, err
    written = (tmp_path / ".coursecheck.toml").read_text(encoding="utf-8")
    assert "[frontmatter.fields.difficulty]" in written
    # One value in every lesson is no evidence of a closed set: no enum.
    assert "enum =" not in written
    code, out, err = cli(tmp_path, "--select", "frontmatter")
    assert code == 0, out + err


# -- the demo course -------------------------------------------------------------------------------


def test_demo_course_defects_of_the_three_families():
    """Exactly the defects examples/course/README.md lists for these families, at their lines."""
    from coursecheck.config import load_config
    from coursecheck.engine import Engine, RunOptions
    from tests.conftest import REPO

    config = load_config(REPO / ".coursecheck.toml", REPO)
    options = RunOptions(select=["frontmatter", "mermaid", "anti-patterns"], entry_points=False)
    result = Engine(config, options).run()
    c = "examples/course/content/course/"
    assert where(result.active) == [
        ("frontmatter/required-field", c + "01-module-1/02-images-and-layers.mdx", 1, 1),  # 9b
        ("mermaid/unknown-type", c + "01-module-1/03-dockerfile-basics.mdx", 28, 1),  # 10a
        ("mermaid/min-diagrams", c + "01-module-1/04-module-summary.md", 1, 1),  # 14
        ("mermaid/unbalanced-brackets", c + "02-module-2/01-volumes-and-data.mdx", 19, 6),  # 10c
        ("anti-patterns/todo", c + "02-module-2/01-volumes-and-data.mdx", 43, 1),  # 4a
        ("anti-patterns/empty-section", c + "02-module-2/01-volumes-and-data.mdx", 79, 1),  # 5
        ("frontmatter/enum", c + "02-module-2/02-container-networking.mdx", 5, 13),  # 9a
        ("mermaid/empty-diagram", c + "02-module-2/02-container-networking.mdx", 63, 1),  # 10b
        ("frontmatter/duplicate-order", c + "02-module-2/03-docker-compose.mdx", 4, 8),  # 9d
        ("frontmatter/order-prefix", c + "02-module-2/03-docker-compose.mdx", 4, 8),  # 9c
        ("anti-patterns/placeholder", c + "02-module-2/03-docker-compose.mdx", 103, 66),  # 4c
        ("anti-patterns/stub-lesson", c + "02-module-2/04-registry-and-publishing.mdx", 1, 1),  # 6
        ("anti-patterns/placeholder", c + "02-module-2/04-registry-and-publishing.mdx", 13, 1),  # 4b
    ]
    suppressed = [f for f in result.findings if f.suppression is not None]
    assert where(suppressed) == [("anti-patterns/placeholder", c + "02-module-2/02-container-networking.mdx", 76, 3)]
