"""Acceptance (optional): the course graph and the must-haves of the example report, measured
on the real course in ../shared/corpora.

What the example verification report missed is found: lesson 03-module-3/01 names a
prerequisite that resolves to no lesson. The artifact line counts and Mermaid counts, and the
three metric truths, are those of the report; line counts are checked against an independent
measurement (``wc -l`` semantics on the raw bytes). Skipped when the corpus is absent.
"""

from __future__ import annotations

import pytest
from conftest import CORPUS, REPO

from coursecheck.config import load_config
from coursecheck.engine import Engine, Result, RunOptions
from coursecheck.model import FAILED, NEEDS_HUMAN, VERIFIED

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus ../shared/corpora/debezium-course-07 not present")

CONFIG = REPO / "tests" / "acceptance" / "debezium-course-07.toml"
MODULE_3 = "src/content/course/03-module-3/"
LESSON_LINES = {
    "01-jmx-metrics-interpretation.mdx": (427, 4),
    "02-prometheus-metrics-collection.mdx": (470, 1),
    "03-grafana-dashboard-lab.mdx": (450, 3),
    "04-lag-detection-alerting.mdx": (457, 4),
    "05-wal-bloat-heartbeat.mdx": (534, 3),
    "06-connector-scaling-tasks.mdx": (537, 6),
    "07-disaster-recovery-procedures.mdx": (588, 3),
}
DASHBOARD = "labs/monitoring/grafana/dashboards/debezium-production.json"


@pytest.fixture(scope="module")
def result() -> Result:
    config = load_config(CONFIG, REPO)
    config.root = CORPUS.resolve()
    return Engine(config, RunOptions(select=["graph", "musthave"], entry_points=False)).run()


def verdicts(result: Result) -> dict[tuple[str, str], object]:
    return {(v.kind, v.id): v for v in result.extra["verdicts"]}


def wc_l(path) -> int:
    raw = path.read_bytes()
    return raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1)


def test_unresolved_prerequisite_the_report_missed(result):
    found = [f for f in result.active if f.rule_id == "graph/unresolved-reference"]
    assert [(f.path, f.span.line, f.span.column) for f in found] == [
        (MODULE_3 + "01-jmx-metrics-interpretation.mdx", 8, 17)
    ]
    assert "'module-2/03-incremental-snapshots'" in found[0].message
    assert "'module-2/07-incremental-snapshot-lab'" in found[0].message
    line = (CORPUS / found[0].path).read_text(encoding="utf-8").splitlines()[7]
    assert line == 'prerequisites: ["module-2/03-incremental-snapshots"]'


def test_no_cycles_or_forward_prerequisites_or_data_references(result):
    rules = {f.rule_id for f in result.active}
    assert not rules & {"graph/prerequisite-cycle", "graph/later-prerequisite", "graph/missing-data-reference"}


def test_artifacts_report_the_lines_and_diagrams_of_the_example(result):
    found = verdicts(result)
    for name, (lines, diagrams) in LESSON_LINES.items():
        v = found[("artifact", MODULE_3 + name)]
        assert v.status == VERIFIED, v.evidence
        assert (v.measures["lines"], v.measures["mermaid"]) == (lines, diagrams)
        assert lines == wc_l(CORPUS / MODULE_3 / name)
        assert v.evidence.startswith(f"{lines} lines, {diagrams} Mermaid diagram")
    dashboard = found[("artifact", "dashboard")]
    assert (dashboard.status, dashboard.measures["lines"], dashboard.measures["json_valid"]) == (VERIFIED, 1052, True)
    assert wc_l(CORPUS / DASHBOARD) == 1052
    assert dashboard.evidence == (
        "1052 lines, valid JSON, templating.list[?name=='connector'].name → [\"connector\"], "
        "panels[?targets[?contains(expr || '', 'MilliSecondsBehindSource')]].title → [\"Current Lag\", \"Lag Trend\"]"
    )


def test_metric_truths_match_the_example_counts(result):
    found = verdicts(result)
    expected = {"lag-metric": (38, 4), "queue-capacity": (19, 5), "staleness": (14, 4)}
    for truth_id, (occurrences, lessons) in expected.items():
        v = found[("truth", truth_id)]
        assert v.status == VERIFIED
        assert (v.measures["occurrences"], v.measures["files"]) == (occurrences, lessons)
        assert v.evidence.startswith(f"{occurrences} occurrences across {lessons} lessons; most in ")
    assert found[("truth", "lag-metric")].evidence.startswith(
        "38 occurrences across 4 lessons; most in 01-jmx-metrics-interpretation.mdx (19)"
    )


def test_every_declared_must_have_has_a_verdict(result):
    found = verdicts(result)
    counts = {kind: sum(1 for k, _ in found if k == kind) for kind in ("truth", "artifact", "key-link")}
    counts.update({kind: sum(1 for k, _ in found if k == kind) for kind in ("requirement", "human-check")})
    assert counts == {"truth": 10, "artifact": 8, "key-link": 6, "requirement": 7, "human-check": 4}
    assert all(v.status == VERIFIED for (k, _), v in found.items() if k == "truth")
    assert all(v.status == NEEDS_HUMAN for (k, _), v in found.items() if k == "human-check")
    # The example report calls every key link verified; nothing links lesson 06 to lesson 07.
    statuses = {i: v.status for (k, i), v in found.items() if k == "key-link"}
    assert statuses == {
        "jmx-to-prometheus": VERIFIED,
        "prometheus-scrape-config": VERIFIED,
        "dashboard-to-alerts": VERIFIED,
        "dashboard-provisioned": VERIFIED,
        "heartbeat-and-wal-limit": VERIFIED,
        "scaling-to-dr": FAILED,
    }
    assert all(v.measures["state"] == "SATISFIED" for (k, _), v in found.items() if k == "requirement")
