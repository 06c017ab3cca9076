"""Acceptance (optional): Mermaid diagrams, frontmatter and anti-patterns on the real course.

The example verification report states 4, 1, 3, 4, 3, 6, 3 Mermaid diagrams for the seven
lessons of 03-module-3; coursecheck counts them itself (engine and CLI) and an independent
count (``<Mermaid`` tags in the files) agrees. All 74 charts of the course were read by hand:
none is broken, so every mermaid rule must stay silent, and so must the frontmatter and
anti-pattern rules (the lessons follow the course's schema and have no placeholders).
Skipped when the corpus is absent (a fresh clone without ../shared).
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import CORPUS, REPO

from coursecheck.builtin.mermaid import chart_components, diagrams, imbalances
from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus ../shared/corpora/debezium-course-07 not present")

CONFIG = REPO / "tests" / "acceptance" / "debezium-course-07.toml"
MODULE_3 = "src/content/course/03-module-3"
EXPECTED = [4, 1, 3, 4, 3, 6, 3]


@pytest.fixture(scope="module")
def result():
    config = load_config(CONFIG, REPO)
    config.root = CORPUS.resolve()
    options = RunOptions(select=["mermaid", "frontmatter", "anti-patterns"], entry_points=False)
    return Engine(config, options).run()


def test_module_3_diagram_counts(result):
    components = chart_components(load_config(CONFIG, REPO))
    lessons = [d for d in result.course.lessons if d.relpath.startswith(MODULE_3 + "/")]
    assert len(lessons) == 7
    counts = [sum(1 for d in diagrams(doc, components) if not d.is_empty) for doc in lessons]
    assert counts == EXPECTED
    # Independent count: the opening tags in the files.
    by_grep = [(CORPUS / doc.relpath).read_text("utf-8").count("<Mermaid chart={`") for doc in lessons]
    assert by_grep == EXPECTED


def test_every_chart_is_read_and_none_is_flagged(result):
    components = chart_components(load_config(CONFIG, REPO))
    charts = [d for doc in result.course.lessons for d in diagrams(doc, components)]
    assert len(charts) == 74
    assert all(d.is_literal and not d.is_empty for d in charts)
    kinds = sorted({d.kind for d in charts})
    assert kinds == ["flowchart", "graph", "sequenceDiagram", "stateDiagram-v2"]
    assert [p for d in charts for p in imbalances(d.text)] == []


def test_no_findings_from_the_three_families(result):
    assert [(f.rule_id, f.path, f.span.line, f.message) for f in result.active] == []
    ran = {r.id for r in result.rules}
    assert {"mermaid/min-diagrams", "mermaid/unbalanced-brackets", "frontmatter/required-field"} <= ran


def test_counts_through_the_cli(tmp_path, cli):
    # A config that extends ours and asks module 3 for 99 diagrams a lesson: the CLI then
    # reports each lesson's measured count.
    config = tmp_path / "probe.toml"
    config.write_text(
        f'extends = ["{CONFIG.as_posix()}"]\n\n'
        "[[overrides]]\n"
        f'files = ["{MODULE_3}/*.mdx"]\n'
        'rules = { "mermaid/min-diagrams" = { min = 99 } }\n',
        encoding="utf-8",
    )
    code, out, err = cli(
        REPO, "--config", str(config), "--root", str(CORPUS), "--select", "mermaid", "--format", "json"
    )
    assert code == 0, err  # warnings only
    findings = json.loads(out)["findings"]
    measured = {
        f["path"]: int(re.match(r"lesson has (\d+) Mermaid", f["message"]).group(1))
        for f in findings
        if f["rule"] == "mermaid/min-diagrams"
    }
    assert [measured[p] for p in sorted(measured)] == EXPECTED
    assert all(p.startswith(MODULE_3) for p in measured)
    assert [f for f in findings if f["rule"] != "mermaid/min-diagrams"] == []
