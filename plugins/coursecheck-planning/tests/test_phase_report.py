"""The report of one phase (`coursecheck report --phase`): the structure of GSD's
VERIFICATION.md, GSD's status rules, the `gaps:` frontmatter GSD's planner reads, measured
numbers equal to independent counts; the command line around it; `coursecheck init`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from phase7 import FILES, LESSON_ALERTS, LESSON_METRICS
from ruamel.yaml import YAML

from coursecheck.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden" / "07-VERIFICATION.md"
UPDATE = os.environ.get("COURSECHECK_UPDATE_GOLDEN") == "1"
TIMESTAMP = "2026-02-01T01:56:00Z"
PHASE_DIR = Path(".planning/phases/07-operations")


def write(root: Path, changes: dict[str, str] | None = None) -> Path:
    for rel, text in {**FILES, **(changes or {})}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    # Only the config's plugins (this one): none installed in the environment running the tests.
    monkeypatch.setattr("coursecheck.plugins._entry_points", lambda: iter(()))

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--no-cache"])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def frontmatter(report: str) -> dict:
    """The report's YAML frontmatter, read by a YAML parser (GSD's planner reads it back)."""
    return YAML(typ="safe").load(report.split("---\n", 2)[1])


def headings(markdown: str) -> list[str]:
    out, fence = [], None
    for line in markdown.splitlines():
        m = re.match(r"^(`{3,}|~{3,})", line)
        if m:
            fence = None if fence and m.group(1).startswith(fence) else (fence or m.group(1))
            continue
        if fence is None and re.match(r"^#{1,4} ", line):
            out.append(line)
    return out


def test_golden_phase_report(cli, tmp_path):
    write(tmp_path)
    code, report, _err = cli("report", "--phase", "7", "--timestamp", TIMESTAMP)
    assert code == 1  # a gap: the exit code comes from the phase's must-haves
    if UPDATE:
        GOLDEN.write_text(report, encoding="utf-8")
    assert report == GOLDEN.read_text(encoding="utf-8")


def test_the_report_has_the_sections_of_a_gsd_verification_report(cli, tmp_path):
    write(tmp_path)
    _code, report, _err = cli("report", "--phase", "07-operations", "--timestamp", TIMESTAMP)
    assert headings(report) == [
        "# Phase 7: Operations Verification Report",
        "## Goal Achievement",
        "### Observable Truths",
        "### Required Artifacts",
        "### Key Link Verification",
        "### Requirements Coverage",
        "### Anti-Patterns Found",
        "### Build Verification",
        "### Artifact Statistics",
        "### Human Verification Required",
        "#### 1. Learners trust the numbers",
        "#### 2. Dashboard import",
        "## Summary",
    ]
    assert "**Phase Goal:** Learners watch the lag of a connector and alert on it  " in report


def test_gaps_frontmatter_is_what_gsds_planner_reads(cli, tmp_path):
    write(tmp_path)
    _code, report, _err = cli("report", "--phase", "7", "--timestamp", TIMESTAMP)
    fm = frontmatter(report)
    assert (fm["phase"], fm["status"], fm["score"]) == ("07-operations", "gaps_found", "6/14 must-haves verified")
    assert [g["failure_type"] for g in fm["gaps"]] == ["missing_artifact", "stub", "stub"]
    alerts = fm["gaps"][1]
    assert alerts["truth"] == "content/07-ops/02-alerts.mdx provides Alert rules and thresholds"
    assert alerts["artifacts"] == [
        {"path": "content/07-ops/02-alerts.mdx", "issue": alerts["reason"]},
    ]
    assert alerts["missing"] == ["17 more lines in content/07-ops/02-alerts.mdx (it has 13, the plan asks for 30)"]
    for gap in fm["gaps"]:
        assert set(gap) <= {"truth", "status", "failure_type", "reason", "artifacts", "missing"}
        assert gap["status"] == "failed"


def test_status_rules_human_needed_and_passed(cli, tmp_path):
    long_alerts = LESSON_ALERTS + "\n".join(f"Строка {i}." for i in range(20)) + "\n"
    known = LESSON_METRICS + "\nHeartbeatGap показывает, что коннектор молчит.\n"
    changes = {"content/07-ops/02-alerts.mdx": long_alerts, "content/07-ops/01-lag-metrics.mdx": known}
    write(tmp_path, changes)
    code, report, _err = cli("report", "--phase", "7")
    fm = frontmatter(report)
    assert (code, fm["status"]) == (0, "human_needed")  # truths wait for a person; nothing failed
    assert "gaps" not in fm
    assert [h["test"] for h in fm["human_verification"]][:1] == [
        "Check that this holds in the course: Learners trust the numbers"
    ]


def test_numbers_equal_independent_counts(cli, tmp_path):
    write(tmp_path)
    _code, report, _err = cli("--phase", "7", "--format", "json")
    data = json.loads(report)
    by_id = {v["id"]: v for v in data["extra"]["verdicts"]}
    for rel in ("content/07-ops/01-lag-metrics.mdx", "content/07-ops/02-alerts.mdx", "labs/dashboards/ops.json"):
        raw = (tmp_path / rel).read_bytes()
        assert by_id[rel]["measures"]["lines"] == raw.count(b"\n")  # wc -l
    # Mermaid diagrams: the chart component and the fenced block, counted by hand.
    text = (tmp_path / "content/07-ops/01-lag-metrics.mdx").read_text(encoding="utf-8")
    assert by_id["content/07-ops/01-lag-metrics.mdx"]["measures"]["mermaid"] == text.count("<Mermaid ") + text.count(
        "```mermaid"
    )
    # A truth's names: occurrences as grep -ow counts them.
    lag = by_id["07-01-truth-1"]["measures"]["names"]["LagMillis"]
    files = [
        tmp_path / p
        for p in ("content/07-ops/01-lag-metrics.mdx", "content/07-ops/02-alerts.mdx", "labs/dashboards/ops.json")
    ]
    assert lag["phase"] == sum(len(re.findall(r"(?<!\w)LagMillis(?!\w)", f.read_text(encoding="utf-8"))) for f in files)


def test_json_verdicts_are_objects_with_subject_declaration_and_rule(cli, tmp_path):
    write(tmp_path)
    _code, out, _err = cli("--phase", "7", "--format", "json")
    data = json.loads(out)
    link = next(
        v for v in data["extra"]["verdicts"] if v["kind"] == "key-link" and v["subject"]["from"] == "01-lag-metrics.mdx"
    )
    assert link["subject"] == {
        "from": "01-lag-metrics.mdx",
        "to": "labs/prometheus/prometheus.yml",
        "pattern": "localhost:9090",
    }
    plan = FILES[".planning/phases/07-operations/07-01-PLAN.md"].splitlines()
    line = plan.index('    - from: "01-lag-metrics.mdx"') + 1
    assert link["declared"] == {"file": ".planning/phases/07-operations/07-01-PLAN.md", "line": line}
    assert (link["status"], link["decided_by"], link["phase"]) == (
        "VERIFIED",
        "the pattern found in `from`",
        "07-operations",
    )
    assert data["extra"]["phase"]["title"] == "Phase 7: Operations"


def test_a_path_the_plan_names_that_does_not_exist_is_a_finding_in_the_report(cli, tmp_path):
    write(tmp_path)
    _code, report, _err = cli("report", "--phase", "7")
    plan = (tmp_path / PHASE_DIR / "07-01-PLAN.md").read_text(encoding="utf-8")
    line = next(i for i, text in enumerate(plan.splitlines(), 1) if "labs/prometheus/prometheus.yml" in text)
    assert f"| `.planning/phases/07-operations/07-01-PLAN.md` | {line} | `musthave/missing-path` | warning |" in report


def test_all_phases_into_their_folders_never_over_a_hand_written_report(cli, tmp_path):
    write(tmp_path)
    target = tmp_path / PHASE_DIR / "07-VERIFICATION.md"
    target.write_text("---\nphase: 07-operations\nstatus: passed\n---\n\nWritten by hand.\n", encoding="utf-8")
    code, _out, err = cli("report", "--phase", "all", "--into-phases")
    assert code == 2
    assert "07-VERIFICATION.md exists and coursecheck did not write it; not replaced" in err
    assert target.read_text(encoding="utf-8").endswith("Written by hand.\n")
    code, _out, err = cli("report", "--phase", "all", "--into-phases", "--replace-reports")
    assert code == 1 and "wrote" in err
    assert frontmatter(target.read_text(encoding="utf-8"))["verifier"].startswith("coursecheck ")
    code, _out, _err = cli("report", "--phase", "all", "--into-phases")  # ours now: replaced
    assert code == 1


def test_an_earlier_report_in_the_phase_folder_makes_it_a_re_verification(cli, tmp_path):
    earlier = "---\nphase: 07-operations\nstatus: gaps_found\nscore: 3/9 must-haves verified\n---\n"
    write(tmp_path, {str(PHASE_DIR / "07-VERIFICATION.md"): earlier})
    _code, report, _err = cli("report", "--phase", "7")
    assert frontmatter(report)["re_verification"] == {
        "previous_status": "gaps_found",
        "previous_score": "3/9 must-haves verified",
    }
    assert (
        "**Re-verification:** Yes: the phase folder's earlier report says gaps_found, 3/9 must-haves verified  "
        in report
    )


def test_phase_usage_errors(cli, tmp_path):
    write(tmp_path)
    code, _out, err = cli("report", "--phase", "9")
    assert code == 2 and "no phase '9' (phases: 07-operations)" in err
    code, _out, err = cli("report", "--phase", "all")
    assert code == 2 and "give -o DIR or --into-phases" in err
    code, _out, err = cli("--phase", "7", "--format", "sarif")
    assert code == 2 and "--phase makes the Markdown report" in err


def test_fail_on_findings_adds_the_phases_own_findings(cli, tmp_path):
    passing = {
        "content/07-ops/02-alerts.mdx": LESSON_ALERTS + "\n".join(f"Строка {i}." for i in range(20)) + "\n",
        "content/07-ops/01-lag-metrics.mdx": LESSON_METRICS + "\nHeartbeatGap.\n",
    }
    write(tmp_path, passing)
    code, _out, _err = cli("report", "--phase", "7", "-o", "r.md")
    assert code == 0
    code, _out, _err = cli("report", "--phase", "7", "-o", "r.md", "--fail-on-findings", "--fail-level", "warning")
    assert code == 1  # the plan names a path that does not exist: a warning in the phase's plan


def test_init_writes_the_planning_table(tmp_path, monkeypatch, capsys):
    from coursecheck_planning.init import planning_section

    from coursecheck.init import render_config, survey

    write(tmp_path)
    section = planning_section(survey(tmp_path))
    assert section is not None and "[planning]" in section.splitlines()
    assert "07-operations" in section
    from coursecheck.config import tomllib

    assert "planning" in tomllib.loads(render_config(survey(tmp_path), [section]))


def test_init_without_the_plugin_says_how_to_install_it(tmp_path):
    from coursecheck.init import planning_hint

    write(tmp_path)
    hint = planning_hint(tmp_path, [])
    assert hint is not None and "pip install coursecheck-planning" in hint
    assert all(line.startswith("#") for line in hint.splitlines())
    assert planning_hint(tmp_path, ["[planning]\n"]) is None
    (tmp_path / ".planning").rename(tmp_path / "elsewhere")
    assert planning_hint(tmp_path, []) is None
