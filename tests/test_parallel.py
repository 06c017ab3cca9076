"""Worker processes give the same findings as one process: same order, same reports;
plugins loaded from the config work in workers; crashes become findings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions, perfile

PLUGIN = '''
import os
from coursecheck import hookimpl
from coursecheck.rules import rule

PARENT = int(os.environ.get("CC_TEST_PARENT", "0"))


@rule("team/todo", level="warning")
def todo(doc, ctx):
    """TODO markers."""
    at = doc.source.find("TODO")
    if at != -1:
        ctx.report(doc, at, at + 4, "TODO left in the lesson")


@rule("team/crash", level="warning")
def crash(doc, ctx):
    """Crashes on one lesson."""
    if doc.relpath.endswith("07-lesson.md"):
        raise RuntimeError("boom")


@rule("team/die", level="warning")
def die(doc, ctx):
    """Kills a worker process (never the main one)."""
    if PARENT and os.getpid() != PARENT and doc.relpath.endswith("11-lesson.md"):
        os._exit(3)


@hookimpl
def coursecheck_rules():
    return [todo, crash, die]
'''


def make_course(root: Path, count: int = 24, plugin_rules: str = '"team/die" = "off"') -> Path:
    (root / "team_rules.py").write_text(PLUGIN, encoding="utf-8")
    (root / ".coursecheck.toml").write_text(
        textwrap.dedent(
            f"""
            plugins = ["team_rules.py"]

            [course]
            content = ["content/**/*.md"]
            id = "{{path}}"
            aliases = ["{{dir|unnumbered}}/{{stem}}"]

            [rules]
            {plugin_rules}

            [[rule]]
            id = "team/no-simply"
            kind = "existence"
            terms = ["просто"]
            """
        ),
        encoding="utf-8",
    )
    for i in range(count):
        prereq = f'prerequisites: ["module-1/{i - 1:02d}-lesson"]' if i else "prerequisites: []"
        wrong = "\nprerequisites_extra: 1\n" if i % 5 == 0 else ""
        body = f"# Урок {i}\n\nЭто просто текст. TODO\n\n### Прыжок\n" if i % 3 == 0 else f"# Урок {i}\n\nТекст.\n"
        link = f"\nСм. [урок](./{i + 30:02d}-lesson.md).\n" if i % 4 == 0 else ""
        (root / "content/01-module-1").mkdir(parents=True, exist_ok=True)
        (root / f"content/01-module-1/{i:02d}-lesson.md").write_text(
            f"---\ntitle: Урок {i}\n{prereq}{wrong}\n---\n\n{body}{link}", encoding="utf-8"
        )
    return root


def run(root: Path, jobs: int, **kwargs):
    config = load_config(root / ".coursecheck.toml", root)
    engine = Engine(config, RunOptions(entry_points=False, jobs=jobs, **kwargs))
    return engine.run(), engine


@pytest.fixture
def parallel_small(monkeypatch):
    """Workers even for a small course (the thresholds are about speed, not behaviour)."""
    monkeypatch.setattr(perfile, "PARALLEL_MIN_FILES", 4)
    monkeypatch.setattr(perfile, "FILES_PER_JOB", 2)


def test_workers_give_the_same_findings_as_one_process(tmp_path, parallel_small):
    root = make_course(tmp_path)
    serial, _ = run(root, 1)
    parallel, _ = run(root, 2)
    rules = {f.rule_id for f in serial.findings}
    assert {"team/todo", "team/no-simply", "core/internal-error", "graph/unresolved-reference"} <= rules
    assert [f.as_dict() for f in parallel.findings] == [f.as_dict() for f in serial.findings]
    assert parallel.files == serial.files
    crashed = [f for f in parallel.findings if f.rule_id == "core/internal-error"]
    assert [(f.path, f.span.line) for f in crashed] == [("content/01-module-1/07-lesson.md", 1)]
    assert "team/crash crashed on content/01-module-1/07-lesson.md: RuntimeError: boom" in crashed[0].message
    assert any("RuntimeError" in n.message for n in parallel.notifications)


def test_workers_and_cache_together_match_one_process(tmp_path, parallel_small):
    root = make_course(tmp_path)
    serial, _ = run(root, 1)
    cold, engine = run(root, 2, cache=True, cache_dir=tmp_path / "cache")
    assert engine.cache_misses == 24
    warm, engine = run(root, 2, cache=True, cache_dir=tmp_path / "cache")
    assert engine.cache_hits == 24
    expected = [f.as_dict() for f in serial.findings]
    assert [f.as_dict() for f in cold.findings] == expected == [f.as_dict() for f in warm.findings]


def test_a_worker_that_dies_does_not_stop_the_run(tmp_path, parallel_small, monkeypatch):
    import os

    monkeypatch.setenv("CC_TEST_PARENT", str(os.getpid()))
    root = make_course(tmp_path, plugin_rules='"team/crash" = "off"')
    serial, _ = run(root, 1)
    parallel, _ = run(root, 2)
    assert [f.as_dict() for f in parallel.findings] == [f.as_dict() for f in serial.findings]
    assert any("worker process died" in n.message for n in parallel.notifications)


def test_records_load_text_and_segments_on_demand(tmp_path):
    # Above keep_documents the course stage sees records; rules reading segments still work.
    root = make_course(tmp_path)
    full, _ = run(root, 1)
    records, _ = run(root, 1, keep_documents=0)
    assert [f.as_dict() for f in records.findings] == [f.as_dict() for f in full.findings]
    lesson = records.course.lessons[3]
    assert not lesson.loaded
    assert lesson.lines.line_text(1) == "---" and not lesson.loaded  # text only: no parse
    assert any(s.scope == "heading" for s in lesson.segments) and lesson.loaded
