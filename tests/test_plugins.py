"""Plugins: found through entry points and config; a crashing plugin never stops the run."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, check, where

from coursecheck.config import ConfigError, load_config
from coursecheck.engine import Engine, RunOptions

PLUGIN = '''
from coursecheck import hookimpl
from coursecheck.rules import rule


@rule("team/no-kafka-lowercase", level="error")
def no_kafka_lowercase(doc, ctx):
    """Write Kafka with a capital K.

    ## What it does
    Finds "кафка" in prose.
    """
    for seg in doc.iter_segments({"prose"}):
        i = seg.text.find("кафка")
        if i != -1:
            start, end = seg.range(i, i + 5)
            ctx.report(doc, start, end, "write 'Kafka'")


@hookimpl
def coursecheck_rules():
    return [no_kafka_lowercase]
'''

CRASHING = '''
from coursecheck import hookimpl
from coursecheck.rules import rule


@rule("crash/divide", level="warning")
def divide(doc, ctx):
    """Crashes on purpose."""
    return 1 / len(doc.headings)


@rule("crash/garbage", level="warning")
def garbage(doc, ctx):
    """Yields something that is not a finding."""
    yield "not a finding"


@hookimpl
def coursecheck_rules():
    return [divide, garbage, "not a rule"]


@hookimpl
def coursecheck_reporters():
    raise RuntimeError("reporter hook broke")
'''

LESSONS = {
    "content/01-intro.md": "---\ntitle: Введение\n---\n\nДанные уходят в кафка.\n",
    "content/02-next.md": "# Второй урок\n\nБез ошибок.\n",
}


def test_local_plugin_from_config(course):
    root = course({**LESSONS, "tools/team_rules.py": PLUGIN}, None)
    (root / ".coursecheck.toml").write_text('plugins = ["tools/team_rules.py"]\n' + textwrap.dedent(DEFAULT_CONFIG))
    result = check(root, select=["team"])
    assert where(result.active) == [("team/no-kafka-lowercase", "content/01-intro.md", 5, 17)]
    assert result.active[0].level == "error"
    assert result.active[0].plugin == "tools/team_rules.py"


def test_local_plugin_module_name(course):
    root = course({**LESSONS, "team_rules_mod.py": PLUGIN}, None)
    (root / ".coursecheck.toml").write_text('plugins = ["team_rules_mod"]\n' + textwrap.dedent(DEFAULT_CONFIG))
    try:
        result = check(root, select=["team"])
    finally:
        sys.modules.pop("team_rules_mod", None)
    assert [f.rule_id for f in result.active] == ["team/no-kafka-lowercase"]


def test_missing_local_plugin_is_a_config_error(course):
    root = course(LESSONS, None)
    (root / ".coursecheck.toml").write_text('plugins = ["tools/missing.py"]\n')
    with pytest.raises(ConfigError) as info:
        Engine(load_config(root / ".coursecheck.toml", root), RunOptions(entry_points=False))
    (problem,) = info.value.problems
    assert (problem.line, problem.key) == (1, "plugins")
    assert "tools/missing.py not found" in problem.message


def test_entry_point_plugin(tmp_path, monkeypatch):
    site = tmp_path / "site"
    dist = site / "coursecheck_teamrules-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: coursecheck-teamrules\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[coursecheck]\nteamrules = cc_teamrules_ep\n")
    (site / "cc_teamrules_ep.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    root = tmp_path / "course"
    for rel, text in LESSONS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".coursecheck.toml").write_text(textwrap.dedent(DEFAULT_CONFIG))
    try:
        config = load_config(root / ".coursecheck.toml", root)
        result = Engine(config, RunOptions(entry_points=True, select=["team"])).run()
        assert "team/no-kafka-lowercase" in {r.id for r in result.rules}
        assert where(result.active) == [("team/no-kafka-lowercase", "content/01-intro.md", 5, 17)]
        assert result.active[0].plugin == "teamrules"
        # And without entry points it is not loaded.
        result = Engine(config, RunOptions(entry_points=False)).run()
        assert "team/no-kafka-lowercase" not in {r.id for r in result.rules}
    finally:
        sys.modules.pop("cc_teamrules_ep", None)


def test_crashing_plugin_is_reported_and_the_run_goes_on(course):
    root = course({**LESSONS, "tools/crash.py": CRASHING, "tools/team.py": PLUGIN}, None)
    (root / ".coursecheck.toml").write_text(
        'plugins = ["tools/crash.py", "tools/team.py"]\n' + textwrap.dedent(DEFAULT_CONFIG)
    )
    result = check(root, select=["crash", "team", "core"])
    internal = [(f.path, f.message) for f in result.active if f.rule_id == "core/internal-error"]
    # 01-intro.md has no heading: divide crashes there only; garbage crashes everywhere.
    assert any(
        path == "content/01-intro.md"
        and "plugin 'tools/crash.py' rule crash/divide crashed on content/01-intro.md: ZeroDivisionError" in msg
        for path, msg in internal
    )
    assert sum("crash/garbage" in msg for _, msg in internal) == 2
    # The other plugin's rule still ran.
    assert [f.rule_id for f in result.active if f.rule_id.startswith("team/")] == ["team/no-kafka-lowercase"]
    messages = [n.message for n in result.notifications]
    assert any("returned 'not a rule'" in m for m in messages)
    assert result.internal_errors


def test_crashing_reporter_hook_does_not_hide_other_reporters(course):
    root = course({**LESSONS, "tools/crash.py": CRASHING}, None)
    (root / ".coursecheck.toml").write_text('plugins = ["tools/crash.py"]\n' + textwrap.dedent(DEFAULT_CONFIG))
    engine = Engine(load_config(root / ".coursecheck.toml", root), RunOptions(entry_points=False))
    assert {"text", "json"} <= set(engine.reporters())
    assert any("reporter hook broke" in n.message for n in engine.notes)


def test_parser_plugin_can_take_over_a_kind(course):
    parser_plugin = """
from coursecheck import hookimpl
from coursecheck.model import Document
from coursecheck.text import LineIndex

@hookimpl
def coursecheck_parse(path, relpath, text, kind):
    if kind == "text" and relpath.endswith(".adoc"):
        return Document(path, relpath, "markdown", text, LineIndex(text))
    return None
"""
    root = course({"content/a.adoc": "= Title\n", "tools/adoc.py": parser_plugin}, None)
    (root / ".coursecheck.toml").write_text('plugins = ["tools/adoc.py"]\n[course]\ncontent = ["content/*.adoc"]\n')
    result = check(root)
    assert result.course is not None
    assert [d.kind for d in result.course.documents] == ["markdown"]


def test_builtin_rules_are_plugins_like_any_other(tmp_path: Path):
    config = load_config(None, tmp_path)
    engine = Engine(config, RunOptions(entry_points=False))
    plugins = {r.plugin for r in engine.rules.values()}
    assert "coursecheck.builtin.core" in plugins


def test_typed_state_keys_keep_the_published_names():
    from coursecheck import state

    # Plugins and JSON reports read these names: the typed keys must not rename them.
    assert [k.name for k in (state.VERDICTS, state.TERM_COVERAGE, state.GRAPH_MERMAID, state.BUILD)] == [
        "verdicts", "term-coverage", "graph_mermaid", "build"]
    extra: dict = {}
    assert state.GRAPH_MERMAID.get(extra) is None
    assert state.GRAPH_MERMAID.setdefault(extra, "graph TD") == "graph TD"
    assert state.GRAPH_MERMAID.setdefault(extra, "other") == "graph TD"
    state.VERDICTS.set(extra, [])
    assert extra == {"graph_mermaid": "graph TD", "verdicts": []}
