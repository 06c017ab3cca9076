"""Acceptance (optional): SARIF and the Markdown verification report on the real course.

The report must reproduce the measured figures of the hand-written example report
(../shared/reference/07-VERIFICATION.md) and list the broken prerequisite it missed. The
figures are checked against an independent measurement of the corpus files made here.
Skipped when the corpus is absent.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from conftest import CORPUS, REPO
from report_course import table_cell_counts

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus ../shared/corpora/debezium-course-07 not present")

CONFIG = REPO / "tests" / "acceptance" / "debezium-course-07.toml"
MODULE3 = "src/content/course/03-module-3"
DASHBOARD = "labs/monitoring/grafana/dashboards/debezium-production.json"
TIMESTAMP = "2026-02-01T01:56:00Z"
SCHEMA = json.loads((REPO / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def run(cli, tmp_path: Path, *args: str) -> tuple[int, str]:
    out = tmp_path / "out"
    code, _stdout, err = cli(
        REPO, *args, "--config", str(CONFIG), "--root", str(CORPUS), "--timestamp", TIMESTAMP, "-o", str(out)
    )
    assert code in (0, 1), err
    return code, out.read_text(encoding="utf-8")


def wc_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def mermaid_count(path: Path) -> int:
    """Diagrams as a person would count them: <Mermaid ...> tags and ```mermaid fences,
    outside other code fences."""
    count, fence = 0, None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^ {0,3}(`{3,}|~{3,})\s*(\w*)", line)
        if m and fence is None:
            fence = m.group(1)
            count += m.group(2) == "mermaid"
            continue
        if m and line.strip().startswith(fence or "\0") and not m.group(2):
            fence = None
            continue
        if fence is None:
            count += len(re.findall(r"<Mermaid\b", line))
    return count


def row(report: str, first_cell: str) -> list[str]:
    for line in report.splitlines():
        if line.startswith(f"| {first_cell} |"):
            return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
    raise AssertionError(f"no table row starting with {first_cell}")


def test_corpus_sarif_is_schema_valid(cli, tmp_path):
    _code, text = run(cli, tmp_path, "--format", "sarif")
    log = json.loads(text)
    errors = [e.message for e in jsonschema.Draft4Validator(SCHEMA).iter_errors(log)]
    assert errors == []
    results = log["runs"][0]["results"]
    assert results
    unresolved = [
        r
        for r in results
        if r["ruleId"] == "graph/unresolved-reference"
        and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == f"{MODULE3}/01-jmx-metrics-interpretation.mdx"
    ]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in unresolved] == [8]
    for r in results:
        assert not r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith(("/", "file:"))


@pytest.mark.skipif(shutil.which("npx") is None, reason="npx not available")
def test_corpus_sarif_passes_the_multitool_github_rules(cli, tmp_path):
    _code, text = run(cli, tmp_path, "--format", "sarif")
    sarif = tmp_path / "corpus.sarif"
    sarif.write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "validate-sarif.sh"), str(sarif)], capture_output=True, text=True, timeout=600
    )
    if done.returncode == 77:
        pytest.skip("SARIF Multitool unavailable")
    assert done.returncode == 0, done.stdout + done.stderr


def test_report_reproduces_the_example_figures(cli, tmp_path):
    _code, report = run(cli, tmp_path, "report")
    lessons = sorted((CORPUS / MODULE3).glob("*.mdx"))
    assert len(lessons) == 7
    lines = {p.name: wc_lines(p) for p in lessons}
    diagrams = {p.name: mermaid_count(p) for p in lessons}
    assert list(lines.values()) == [427, 470, 450, 457, 534, 537, 588]  # the example's figures
    assert list(diagrams.values()) == [4, 1, 3, 4, 3, 6, 3]
    for p in lessons:
        details = row(report, f"`{MODULE3}/{p.name}`")[3]
        noun = "diagram" if diagrams[p.name] == 1 else "diagrams"
        assert details.startswith(f"{lines[p.name]} lines, {diagrams[p.name]} Mermaid {noun}"), details
    dashboard_lines = wc_lines(CORPUS / DASHBOARD)
    assert dashboard_lines == 1052
    assert row(report, f"`{DASHBOARD}`")[3].startswith(f"{dashboard_lines} lines, valid JSON")
    assert row(report, "Total MDX files (artifacts)")[1] == "7 of 7 declared"
    assert row(report, "Total lines (MDX artifacts)")[1] == f"{sum(lines.values()):,}" == "3,463"
    assert row(report, "Total Mermaid diagrams (MDX artifacts)")[1] == f"{sum(diagrams.values())}" == "24"
    assert row(report, "`debezium-production.json` lines")[1] == "1,052"
    assert row(report, "`debezium-production.json` JSON validity")[1] == "Valid"
    # Term counts of the truths, against a plain count in the files.
    texts = [p.read_text(encoding="utf-8") for p in lessons]
    for number, term in (
        (1, "MilliSecondsBehindSource"),
        (2, "QueueRemainingCapacity"),
        (3, "MilliSecondsSinceLastEvent"),
    ):
        occurrences = sum(t.count(term) for t in texts)
        files = sum(1 for t in texts if term in t)
        cells = row(report, str(number))
        assert term in cells[1] and cells[2] == "VERIFIED"
        assert cells[3].startswith(f"{occurrences} occurrences across {files} lessons"), cells[3]
    assert (
        sum(t.count("MilliSecondsBehindSource") for t in texts),
        sum(t.count("QueueRemainingCapacity") for t in texts),
    ) == (38, 19)


def test_report_lists_the_broken_prerequisite_the_example_missed(cli, tmp_path):
    _code, report = run(cli, tmp_path, "report")
    assert "\nstatus: gaps_found\n" in report
    lesson = CORPUS / MODULE3 / "01-jmx-metrics-interpretation.mdx"
    line_no = next(
        i
        for i, line in enumerate(lesson.read_text(encoding="utf-8").splitlines(), 1)
        if "incremental-snapshots" in line
    )
    column = (
        lesson.read_text(encoding="utf-8").splitlines()[line_no - 1].index('"module-2/03-incremental-snapshots"') + 1
    )
    location = f"`{MODULE3}/01-jmx-metrics-interpretation.mdx:{line_no}:{column}`"
    assert (line_no, column) == (8, 17)
    cells = row(report, location)
    assert "module-2/03-incremental-snapshots" in cells[1] and "did you mean" in cells[1]
    summary = report[report.index("## Summary") :]
    assert location in summary and "graph/unresolved-reference" in summary


def test_report_is_stable_and_renders_as_gfm(cli, tmp_path):
    _code, first = run(cli, tmp_path, "report")
    _code, second = run(cli, tmp_path, "report")
    assert first == second
    counts = table_cell_counts(first)
    assert len(counts) >= 9
    for widths in counts:
        assert len(set(widths)) == 1, widths
