"""Acceptance (optional): the report of phase 7 from planning files (plugins/coursecheck-planning).

Our own plan files (tests/acceptance/planning/.planning/phases/07-.../07-0N-PLAN.md, in the
format of real GSD plans) restate the must-haves of the example report
(../shared/reference/07-VERIFICATION.md) as the report states them. `coursecheck report
--phase 07` must have the example's structure (frontmatter keys, sections in order, table
headers); its Required Artifacts and Key Link rows are compared with the example's, and the
figures with an independent count of the corpus files. Where the example report is wrong,
ours must say so. Skipped when the corpus or the reference report is absent.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest
from conftest import CORPUS, REPO, SHARED

from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.report import ReportOptions

REFERENCE = SHARED / "reference" / "07-VERIFICATION.md"
CONFIG = REPO / "tests" / "acceptance" / "debezium-planning.toml"
PLANNING_ROOT = REPO / "tests" / "acceptance" / "planning"
PLANS = PLANNING_ROOT / ".planning" / "phases" / "07-module-3-production-operations"
PLUGIN_SRC = REPO / "plugins" / "coursecheck-planning" / "src"

pytestmark = pytest.mark.skipif(
    not (CORPUS.is_dir() and REFERENCE.is_file()), reason="corpus or reference report in ../shared not present"
)


def section_rows(markdown: str, heading: str) -> list[list[str]]:
    """The body rows of the first table under ``### heading``, cells unescaped."""
    body = markdown.split(f"### {heading}\n", 1)[1].split("\n### ", 1)[0]
    rows = []
    for line in body.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows.append([re.sub(r"\\(.)", r"\1", c).strip("`") for c in cells])
    return rows[1:]  # without the header


def number(pattern: str, text: str) -> int | None:
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def wc_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def mermaid_tags(path: Path) -> int:
    """Independent count: <Mermaid tags outside code fences (the course's only diagram form)."""
    count, fence = 0, None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if m:
            fence = None if fence and m.group(1).startswith(fence) else (fence or m.group(1))
            continue
        if fence is None:
            count += len(re.findall(r"<Mermaid\b", line))
    return count


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    import sys

    sys.path.insert(0, str(PLUGIN_SRC))
    try:
        config = load_config(CONFIG, REPO, trusted=True)  # our config, outside the corpus's root
        config.root = CORPUS.resolve()
        config.plugins.append("coursecheck_planning.plugin")  # as if installed (entry point)
        engine = Engine(config, RunOptions(entry_points=False))
        result = engine.run()
        options = ReportOptions(timestamp="2026-02-01T01:56:00Z", phase="07")
        return engine.reporters()["markdown"](result, options)
    finally:
        sys.path.remove(str(PLUGIN_SRC))


def test_required_artifacts_match_the_example_rows_measured(report):
    example = {row[0]: row for row in section_rows(REFERENCE.read_text(encoding="utf-8"), "Required Artifacts")}
    ours = {row[0]: row for row in section_rows(report, "Required Artifacts")}
    assert set(ours) == set(example)
    assert len(ours) == 8
    for path, row in ours.items():
        expected = example[path]
        assert row[2] == "VERIFIED" == expected[2], path
        lines = number(r"(\d+) lines", row[3])
        assert lines == number(r"(\d+) lines", expected[3]) == wc_lines(CORPUS / path), path
        if path.endswith(".mdx"):
            diagrams = number(r"(\d+) Mermaid diagram", row[3])
            assert diagrams == number(r"(\d+) Mermaid diagram", expected[3]) == mermaid_tags(CORPUS / path), path
            assert "frontmatter valid (title, description, order)" in row[3]
        else:
            assert "valid JSON" in row[3] and '→ ["connector"]' in row[3]
    measured = {p: number(r"(\d+) lines", r[3]) for p, r in ours.items()}
    assert sorted(measured.values()) == [427, 450, 457, 470, 534, 537, 588, 1052]


def test_key_links_match_the_example_rows_and_say_what_is_true(report):
    example = section_rows(REFERENCE.read_text(encoding="utf-8"), "Key Link Verification")
    ours = section_rows(report, "Key Link Verification")
    assert len(ours) == len(example) == 6
    by_from = {PurePosixPath(row[0]).name: row for row in ours}
    assert set(by_from) == {row[0] for row in example}
    for ex_from, ex_to, _via, ex_status, _details in example:
        row = by_from[ex_from]
        assert ex_status == "VERIFIED"  # the example report calls every link verified
        if ex_to.endswith((".mdx", ".yml", "/")):
            assert row[1] == ex_to or PurePosixPath(row[1]).name == ex_to, (row, ex_to)
    status = {name: row[3] for name, row in by_from.items()}
    details = {name: row[4] for name, row in by_from.items()}
    assert status["01-jmx-metrics-interpretation.mdx"] == "VERIFIED"
    assert details["01-jmx-metrics-interpretation.mdx"].startswith(
        "02-prometheus-metrics-collection.mdx lists module-3/01-jmx-metrics-interpretation as a prerequisite (line 8)"
    )
    assert status["03-grafana-dashboard-lab.mdx"] == "VERIFIED"
    assert status["debezium-production.json"] == "VERIFIED"
    assert status["05-wal-bloat-heartbeat.mdx"] == "VERIFIED"
    assert details["05-wal-bloat-heartbeat.mdx"].startswith("/max_slot_wal_keep_size/ found 10× in 05-wal-bloat")
    # Where the example report is wrong. The scrape config it names does not exist (the lab's
    # file is labs/monitoring/prometheus.yml): the lesson does refer to its scrape config (the
    # pattern), so the link holds, and the wrong path is a finding of its own at the plan line.
    assert not (CORPUS / "labs/monitoring/prometheus/prometheus.yml").exists()
    assert (CORPUS / "labs/monitoring/prometheus.yml").is_file()
    assert status["02-prometheus-metrics-collection.mdx"] == "VERIFIED"
    assert details["02-prometheus-metrics-collection.mdx"].startswith(
        "/prometheus\\.yml/ found 2× in 02-prometheus-metrics-collection.mdx (lines 138, 143)"
    )
    plan = PLANS / "07-01-PLAN.md"
    line = next(i for i, t in enumerate(plan.read_text("utf-8").splitlines(), 1) if "prometheus/prometheus.yml" in t)
    rows = section_rows(report, "Anti-Patterns Found")
    (row,) = [r for r in rows if r[2] == "musthave/missing-path"]
    assert (PurePosixPath(row[0]).name, row[1], row[3]) == ("07-01-PLAN.md", str(line), "warning")
    assert "did you mean 'labs/monitoring/prometheus.yml'?" in row[4]
    # Nothing links lesson 06 to lesson 07 (no prerequisite, link or mention).
    assert status["06-connector-scaling-tasks.mdx"] == "**FAILED**"
    assert details["06-connector-scaling-tasks.mdx"].startswith(
        "no prerequisite, link or mention between 06-connector-scaling-tasks.mdx and 07-disaster-recovery-procedures.mdx"
    )


def test_requirements_link_each_id_to_the_artifacts_of_its_task(report):
    rows = {row[0].split(":", 1)[0]: row for row in section_rows(report, "Requirements Coverage")}
    example = {
        row[0].split(":", 1)[0]: row
        for row in section_rows(REFERENCE.read_text(encoding="utf-8"), "Requirements Coverage")
    }
    assert set(rows) == set(example) == {f"MOD3-0{i}" for i in range(1, 8)}
    for rid, row in rows.items():
        assert row[1] == "SATISFIED" == example[rid][1], rid
        # the same files as the example's Implementation column, with measured line counts
        assert re.findall(r"[\w-]+\.(?:mdx|json)", row[2]) == re.findall(r"[\w-]+\.(?:mdx|json)", example[rid][2]), rid


def test_the_report_is_honest_about_the_phase(report):
    assert "status: gaps_found" in report
    assert "score: 30/31 must-haves verified" in report
    assert "**Score:** 10/10 truths verified" in report
    fm = frontmatter(report)
    (gap,) = fm["gaps"]
    assert (gap["status"], gap["failure_type"]) == ("failed", "unwired")
    assert gap["artifacts"][0]["path"] == "src/content/course/03-module-3/06-connector-scaling-tasks.mdx"


def frontmatter(markdown: str) -> dict:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(markdown.split("---\n", 2)[1])


def structure(markdown: str) -> tuple[list[str], list[str]]:
    """The headings (down to ###; `#### N.` items left out) and the header row of each table."""
    heads, tables, previous = [], [], ""
    for line in markdown.splitlines():
        if re.match(r"^#{1,3} ", line):
            heads.append(line)
        if line.startswith("|---") and previous.startswith("|"):
            tables.append(" | ".join(c.strip() for c in previous.strip().strip("|").split("|")))
        previous = line
    return heads, tables


def test_the_phase_report_has_the_structure_of_the_hand_written_one(report):
    """The golden structure: generated here from the corpus and our plans, compared with the
    reference report's structure (no corpus text is stored in the project)."""
    reference = REFERENCE.read_text(encoding="utf-8")
    ours_heads, ours_tables = structure(report)
    ref_heads, ref_tables = structure(reference)
    assert ours_heads == ref_heads
    assert ours_tables == ref_tables
    assert set(frontmatter(reference)) <= set(frontmatter(report))
    assert frontmatter(report)["phase"] == frontmatter(reference)["phase"]
    for label in ("**Phase Goal:**", "**Verified:**", "**Status:**", "**Re-verification:**"):
        assert any(line.startswith(label) for line in report.splitlines()), label
