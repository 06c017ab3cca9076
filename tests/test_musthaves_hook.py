"""The coursecheck_musthaves hook: must-haves a plugin declares from elsewhere than TOML."""

from __future__ import annotations

import textwrap

import pytest
from conftest import DEFAULT_CONFIG, write_files

from coursecheck.config import ConfigError, load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.model import FAILED, VERIFIED

LESSON = "---\ntitle: One\n---\n\n# One\n\nText.\n"

PLUGIN = """
from coursecheck import hookimpl

@hookimpl
def coursecheck_musthaves(config):
    return [
        ("artifact", {"path": "content/01-one.md", "min-lines": 5}, "plans/a.md", 3),
        ("artifact", {"path": "content/02-missing.md"}, "plans/a.md", 9, {"path": 10}),
        ("requirement", {"id": "R-01", "satisfied-by": ["artifact:content/01-one.md"]}, "plans/a.md", 1),
    ]
"""


def _engine(root, plugin: str, extra: str = ""):
    write_files(root, {"content/01-one.md": LESSON, "tools/mh.py": plugin})
    config_text = 'plugins = ["tools/mh.py"]\n' + textwrap.dedent(DEFAULT_CONFIG) + textwrap.dedent(extra)
    (root / ".coursecheck.toml").write_text(config_text, encoding="utf-8")
    config = load_config(root / ".coursecheck.toml", root)
    return config, Engine(config, RunOptions(entry_points=False))


def test_contributed_musthaves_are_evaluated_and_located_at_their_declaration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _config, engine = _engine(tmp_path, PLUGIN)
    result = engine.run()
    verdicts = {(v.kind, v.id): v for v in result.extra["verdicts"]}
    assert verdicts[("artifact", "content/01-one.md")].status == VERIFIED
    assert verdicts[("artifact", "content/01-one.md")].measures["lines"] == 7
    assert verdicts[("artifact", "content/02-missing.md")].status == FAILED
    assert verdicts[("requirement", "R-01")].status == VERIFIED
    missing = [f for f in result.active if f.rule_id == "musthave/artifact"]
    # The file is missing: the finding goes to where the plugin says it was declared.
    assert [(f.path, f.span.line, f.span.column) for f in missing] == [("plans/a.md", 9, 1)]


def test_a_second_engine_on_the_same_config_does_not_add_them_twice(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config, engine = _engine(tmp_path, PLUGIN)
    engine.run()
    again = Engine(config, RunOptions(entry_points=False)).run()
    assert [v.id for v in again.extra["verdicts"] if v.kind == "artifact"] == [
        "content/01-one.md",
        "content/02-missing.md",
    ]


def test_toml_and_contributed_must_haves_refer_to_each_other(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    extra = """
    [[requirement]]
    id = "R-02"
    satisfied-by = ["artifact:content/01-one.md"]
    """
    _config, engine = _engine(tmp_path, PLUGIN, extra)
    verdicts = {(v.kind, v.id): v for v in engine.run().extra["verdicts"]}
    assert verdicts[("requirement", "R-02")].status == VERIFIED


def test_a_bad_contributed_table_is_a_config_error_at_its_own_file_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plugin = PLUGIN.replace(
        '"min-lines": 5}, "plans/a.md", 3)', '"min-lines": "many"}, "plans/a.md", 3, {"min-lines": 4})'
    )
    with pytest.raises(ConfigError) as caught:
        _engine(tmp_path, plugin)
    assert [str(p) for p in caught.value.problems] == [
        "plans/a.md:4: artifact[0].min-lines: must be a whole number, not str"
    ]


def test_a_duplicate_id_names_the_first_declaration_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    extra = """
    [[artifact]]
    path = "content/01-one.md"
    """
    with pytest.raises(ConfigError) as caught:
        _engine(tmp_path, PLUGIN, extra)
    assert [str(p) for p in caught.value.problems] == [
        "plans/a.md:3: artifact[1].id: duplicate artifact id 'content/01-one.md' (first at .coursecheck.toml:9)"
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("raise RuntimeError('plans unreadable')", "raised in coursecheck_musthaves: RuntimeError: plans unreadable"),
        ("return 'nonsense'", "returned str from coursecheck_musthaves; expected a list of"),
        ("return [('artefact', {}, 'x', 1)]", "returned ('artefact', {}, 'x', 1) from coursecheck_musthaves"),
    ],
)
def test_a_plugin_that_fails_stops_the_run_with_a_clear_config_error(tmp_path, monkeypatch, body, message):
    monkeypatch.chdir(tmp_path)
    plugin = f"from coursecheck import hookimpl\n\n@hookimpl\ndef coursecheck_musthaves(config):\n    {body}\n"
    with pytest.raises(ConfigError) as caught:
        _engine(tmp_path, plugin)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / '.coursecheck.toml'}: plugin 'tools/mh.py' ")
    assert message in problems[0]
