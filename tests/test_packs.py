"""Shipped rule packs: their examples pass under `coursecheck test-rules`, a broken example
fails it, and a user config overrides a pack rule field by field."""

from __future__ import annotations

import sys
import textwrap

import pytest
from conftest import DEFAULT_CONFIG, REPO, lint, write_files

from coursecheck.config import load_config, shipped_pack, shipped_pack_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PACKS_WITH_RULES = [
    name for name in shipped_pack_names() if tomllib.loads(shipped_pack(name).read_text("utf-8")).get("rule")
]


def test_the_required_packs_are_shipped():
    assert {"recommended", "ru-en-tech", "anti-patterns"} <= set(shipped_pack_names())
    assert {"ru-en-tech", "anti-patterns"} <= set(PACKS_WITH_RULES)


@pytest.mark.parametrize("pack", PACKS_WITH_RULES)
def test_shipped_pack_examples_pass(pack, cli, tmp_path):
    code, out, err = cli(tmp_path, "test-rules", "--strict", pack)
    assert err == ""
    assert "FAIL" not in out
    assert out.rstrip().endswith("0 failed — passed")
    assert code == 0


@pytest.mark.parametrize("pack", PACKS_WITH_RULES)
def test_every_shipped_rule_has_bad_and_ok_examples_and_docs(pack):
    data = tomllib.loads(shipped_pack(pack).read_text("utf-8"))
    for rule in data["rule"]:
        examples = rule.get("example", [])
        assert any("bad" in e for e in examples), rule["id"]
        assert any("ok" in e for e in examples), rule["id"]
        assert rule.get("docs", "").strip(), rule["id"]
        assert rule["id"].split("/")[0] == {"anti-patterns": "pack-ap"}.get(pack, pack)


def test_demo_config_rules_pass(cli):
    code, out, _ = cli(REPO, "test-rules")
    assert code == 0, out
    assert "team/compose-v2" not in out  # passing rules are listed with -v only


BROKEN_PACK = """
[[rule]]
id = "mine/no-kafka"
kind = "existence"
terms = ["кафка"]

  [[rule.example]]
  ok = "Пишем в Kafka."

  [[rule.example]]
  bad = "Пишем в Kafka."     # wrong on purpose: the rule does not report this
  ok = "Данные уходят в кафка."
"""


def test_a_broken_example_fails_test_rules(cli, tmp_path):
    (tmp_path / "team.toml").write_text(BROKEN_PACK, encoding="utf-8")
    code, out, _ = cli(tmp_path, "test-rules", "team.toml")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "team.toml:2: mine/no-kafka: FAIL example 2 (team.toml:10): the 'bad' snippet is not reported: "
        "the rule is likely a no-op"
    )
    assert lines[1] == (
        "team.toml:2: mine/no-kafka: FAIL example 2 (team.toml:10): the 'ok' snippet is reported at 1:17: avoid 'кафка'"
    )
    assert lines[-1] == "test-rules: 1 rules, 2 examples: 0 rules passed, 1 failed — FAILED"


def test_wrong_expectations_in_an_example_fail(cli, tmp_path):
    pack = """
    [[rule]]
    id = "mine/word"
    kind = "existence"
    terms = ["слово"]

      [[rule.example]]
      bad = "Одно слово и ещё слово."
      count = 1
      line = 2
      column = 3
      message = "something else"
    """
    (tmp_path / "team.toml").write_text(textwrap.dedent(pack), encoding="utf-8")
    code, out, _ = cli(tmp_path, "test-rules", "team.toml")
    assert code == 1
    assert "'bad' gives 2 findings, expected 1: 1:6 avoid 'слово'; 1:18 avoid 'слово'" in out
    assert "first finding is on line 1, expected 2" in out
    assert "first finding is at column 6, expected 3" in out
    assert "first finding says \"avoid 'слово'\", expected it to contain 'something else'" in out


def test_test_rules_errors(cli, tmp_path):
    code, _, err = cli(tmp_path, "test-rules", "ru-en-teh")
    assert code == 2
    assert "no rule pack 'ru-en-teh'; did you mean 'ru-en-tech'?" in err
    code, _, err = cli(tmp_path, "test-rules")
    assert code == 2 and "no .coursecheck.toml found" in err
    (tmp_path / "bad.toml").write_text('[[rule]]\nid = "x/y"\nkind = "nope"\n', encoding="utf-8")
    code, _, err = cli(tmp_path, "test-rules", "bad.toml")
    assert code == 2 and "bad.toml:3: rule.0.kind: unknown rule kind 'nope'" in err


def test_rules_without_examples_warn_and_fail_when_strict(cli, tmp_path):
    (tmp_path / "team.toml").write_text('[[rule]]\nid = "mine/x"\nkind = "existence"\nterms = ["x"]\n', "utf-8")
    code, out, _ = cli(tmp_path, "test-rules", "team.toml")
    assert code == 0 and "team.toml:1: mine/x: warning: no examples" in out
    code, out, _ = cli(tmp_path, "test-rules", "--strict", "team.toml")
    assert code == 1 and "team.toml:1: mine/x: FAIL no examples" in out


# -- field-by-field override -----------------------------------------------------------------

OVERRIDE = (
    'extends = ["ru-en-tech"]\n'
    + DEFAULT_CONFIG
    + textwrap.dedent(
        """
        [[rule]]
        id = "ru-en-tech/slang"
        level = "error"
        swap = { "юзер" = "участник" }
        """
    )
)


def test_user_config_overrides_a_pack_rule_field_by_field(tmp_path):
    files = {"content/a.md": "Юзер и девелопер.\n"}
    findings = [f for f in lint(tmp_path, files, config=OVERRIDE) if f.rule_id == "ru-en-tech/slang"]
    # `level` and one `swap` entry come from the user; `kind`, `inflect`, the other swap
    # entries and the examples still come from the pack.
    assert [(f.span.line, f.span.column, f.level, f.message) for f in findings] == [
        (1, 1, "error", "use 'Участник' instead of 'Юзер'"),
        (1, 8, "error", "use 'разработчик' instead of 'девелопер'"),
    ]
    config = load_config(tmp_path / ".coursecheck.toml", tmp_path)
    rules = config.sections["rule"]
    index = next(i for i, r in enumerate(rules) if r["id"] == "ru-en-tech/slang")
    own_line = OVERRIDE.splitlines().index('level = "error"') + 1
    assert config.where("rule", index, "level") == (".coursecheck.toml", own_line)
    pack_file, pack_line = config.where("rule", index, "kind")
    assert pack_file.endswith("ru-en-tech.toml") and pack_line > 0
    pack_text = shipped_pack("ru-en-tech").read_text("utf-8").splitlines()
    assert pack_text[pack_line - 1] == 'kind = "substitution"'
    assert pack_text[pack_line - 2] == 'id = "ru-en-tech/slang"'


def test_an_override_error_points_at_the_user_file(tmp_path):
    from coursecheck.config import ConfigError
    from coursecheck.engine import Engine, RunOptions

    config_text = OVERRIDE.replace('level = "error"', 'levle = "error"')
    (tmp_path / ".coursecheck.toml").write_text(config_text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Engine(load_config(tmp_path / ".coursecheck.toml", tmp_path), RunOptions(entry_points=False))
    line = config_text.splitlines().index('levle = "error"') + 1
    assert [str(p) for p in info.value.problems] == [
        f".coursecheck.toml:{line}: rule.{_slang_index()}.levle: unknown key for a substitution rule; did you mean "
        "'level'? (keys: id, kind, level, message, docs, tags, scope, files, exclude, ignore-case, inflect, regex, "
        "example, swap)"
    ]


def _slang_index() -> int:
    rules = tomllib.loads(shipped_pack("ru-en-tech").read_text("utf-8"))["rule"]
    return next(i for i, r in enumerate(rules) if r["id"] == "ru-en-tech/slang")


def test_every_example_in_the_user_guide_passes(cli, tmp_path):
    """docs/declarative-rules.md shows a rule of each kind: they must be real."""
    import re

    guide = (REPO / "docs" / "declarative-rules.md").read_text("utf-8")
    fenced = re.findall(r"^(`{3,})toml\n(.*?)^\1$", guide, re.S | re.M)
    blocks = [body for _, body in fenced if "[[rule.example]]" in body]
    kinds = {m for b in blocks for m in re.findall(r'^kind = "([a-z]+)"', b, re.M)}
    assert kinds == {
        "existence",
        "required",
        "substitution",
        "occurrence",
        "consistency",
        "conditional",
        "metric",
        "frontmatter",
    }
    (tmp_path / "guide.toml").write_text("\n".join(blocks), encoding="utf-8")
    code, out, err = cli(tmp_path, "test-rules", "--strict", "guide.toml")
    assert (code, err) == (0, ""), out
    assert out.rstrip().endswith(f"{len(blocks)} rules passed, 0 failed — passed")


def test_local_packs_extend_and_override_each_other(tmp_path):
    write_files(
        tmp_path,
        {
            "rules/base.toml": textwrap.dedent(
                """
                [[rule]]
                id = "acme/word"
                kind = "existence"
                terms = ["секрет"]
                scope = "code:pyhton"
                message = "no '{match}'"
                """
            ),
            "rules/fix.toml": '[[rule]]\nid = "acme/word"\nscope = "prose"\n',
            "content/a.md": "Тут секрет.\n",
        },
    )
    base_only = 'extends = ["rules/base.toml"]\n' + DEFAULT_CONFIG
    findings = lint(tmp_path, {}, config=base_only)
    # The misspelt scope makes the rule a no-op, reported in the pack file (inside the project).
    assert [
        (f.rule_id, f.path, f.span.line, f.message) for f in findings if f.rule_id.startswith(("acme", "decl"))
    ] == [
        (
            "declarative/no-op",
            "rules/base.toml",
            2,
            "rule acme/word is likely a no-op: its scope (code:pyhton) selected no text in the 1 files it applies to",
        )
    ]
    both = 'extends = ["rules/base.toml", "rules/fix.toml"]\n' + DEFAULT_CONFIG
    findings = lint(tmp_path, {}, config=both)
    # The second pack changes the scope only; terms and message still come from the first.
    assert [
        (f.rule_id, f.path, f.span.line, f.span.column, f.message)
        for f in findings
        if f.rule_id.startswith(("acme", "decl"))
    ] == [("acme/word", "content/a.md", 1, 5, "no 'секрет'")]
