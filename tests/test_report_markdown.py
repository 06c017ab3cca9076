"""The Markdown verification report: sections from measurements, GitHub-safe Markdown, stable."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from conftest import check, write_files
from markdown_it import MarkdownIt
from report_course import SELECT, TIMESTAMP, assert_golden, build_course, table_cell_counts

from coursecheck.config import Config
from coursecheck.engine import Result
from coursecheck.model import FAILED, NEEDS_HUMAN, VERIFIED, Course, Document, Finding, Suppression, Verdict
from coursecheck.plugins import Notification
from coursecheck.report import ReportOptions
from coursecheck.report.build import BuildRun
from coursecheck.report.markdown import code, render, text, yaml_scalar
from coursecheck.rules import rule
from coursecheck.text import LineIndex, Span

REPORT_SECTION = """
[report]
title = "Модуль 1: Введение"
phase = "01-intro"
goal = "Students read the intro | and see no placeholder"
scope = ["content/0*"]
"""

GFM = MarkdownIt("commonmark").enable("table")


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cell texts, as a GFM renderer reads them (escapes resolved)."""
    out: list[list[list[str]]] = []
    rows: list[list[str]] | None = None
    row: list[str] = []
    for token in GFM.parse(markdown):
        if token.type == "table_open":
            rows = []
        elif token.type == "table_close":
            out.append(rows or [])
            rows = None
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and rows is not None:
            rows.append(row)
        elif token.type == "inline" and rows is not None:
            row.append("".join(child.content for child in token.children or []))
    return out


def section(markdown: str, heading: str) -> str:
    start = markdown.index(heading + "\n")
    rest = markdown[start + len(heading) + 1 :]
    level = heading.split(" ", 1)[0]
    ends = [rest.find("\n" + "#" * n + " ") for n in range(1, len(level) + 1)]
    ends = [e for e in ends if e != -1]
    return rest[: min(ends)] if ends else rest


# -- a hand-made Result: every section filled ------------------------------------------------


@rule("anti-patterns/todo", level="warning", tags=("anti-pattern",))
def _todo(doc, ctx):  # pragma: no cover - only its declaration is used
    """A TODO, FIXME or TBD marker is left in a lesson."""


@rule("graph/unresolved-reference", level="error", course=True)
def _unresolved(course, ctx):  # pragma: no cover
    """A prerequisite or internal link names no lesson of the course."""


def lesson(relpath: str, lines: int) -> Document:
    source = "".join(f"строка {i}\n" for i in range(1, lines + 1))
    doc = Document(Path(relpath), relpath, "mdx", source, LineIndex(source))
    doc.lesson_id, doc.role = relpath.rsplit(".", 1)[0], "lesson"
    return doc


def data_file(relpath: str, lines: int) -> Document:
    source = "{\n" + "".join('  "k": 1,\n' for _ in range(lines - 2)) + "}\n"
    doc = Document(Path(relpath), relpath, "json", source, LineIndex(source))
    doc.role = "data"
    return doc


def hand_made(tmp_path: Path, *, fail: bool = True) -> Result:
    a, b = "course/m3/01-jmx.mdx", "course/m3/02-prometheus.mdx"
    docs = [lesson(a, 427), lesson(b, 470), lesson("course/m2/03-wal.mdx", 100)]
    dashboard = data_file("labs/dashboard.json", 1052)
    course = Course(tmp_path, docs, [dashboard], [], {d.lesson_id: d for d in docs})
    verdicts = [
        Verdict(
            "truth",
            "lag-metric",
            "MilliSecondsBehindSource is the primary lag metric",
            VERIFIED,
            "38 occurrences across 2 lessons; most in 01-jmx.mdx (19)",
            {"occurrences": 38, "files": 2},
        ),
        Verdict(
            "truth",
            "alert-for",
            "Alerts use a `for` clause | to avoid storms",
            FAILED if fail else VERIFIED,
            "0 occurrences of /for: \\d+m/ (need ≥ 2)" if fail else "2 occurrences",
            {"occurrences": 0},
            [(b, Span.point(1))],
        ),
        Verdict(
            "artifact",
            a,
            "JMX metric categories",
            VERIFIED,
            "427 lines, 4 Mermaid diagrams, frontmatter valid",
            {"exists": True, "path": a, "lines": 427, "mermaid": 4},
        ),
        Verdict(
            "artifact",
            b,
            "PromQL queries",
            VERIFIED,
            "470 lines, 1 Mermaid diagram",
            {"exists": True, "path": b, "lines": 470, "mermaid": 1},
        ),
        Verdict(
            "artifact",
            "labs/dashboard.json",
            "Production dashboard",
            VERIFIED,
            "1052 lines, valid JSON",
            {"exists": True, "path": "labs/dashboard.json", "lines": 1052, "json_valid": True},
        ),
        Verdict(
            "key-link",
            "m3-02-to-01",
            "JMX metrics exposed -> Prometheus scrapes",
            VERIFIED,
            "02-prometheus.mdx lists m3/01-jmx as a prerequisite (line 8)",
            {"from": b, "to": a},
        ),
        Verdict(
            "requirement",
            "MOD3-01",
            "JMX метрики и их интерпретация",
            VERIFIED,
            "01-jmx.mdx (427 lines) + truth lag-metric",
        ),
        Verdict(
            "requirement",
            "MOD3-02",
            "Алерты без шторма",
            FAILED if fail else VERIFIED,
            "truth alert-for FAILED" if fail else "truth alert-for",
        ),
        Verdict(
            "human-check",
            "Dashboard import",
            "Import dashboard.json into Grafana",
            NEEDS_HUMAN,
            "expected: panels load",
            {
                "test": "Import dashboard.json into Grafana",
                "expected": "Panels load; the $connector dropdown works",
                "why": "Needs a running Grafana",
            },
        ),
    ]
    findings = [
        Finding(
            "anti-patterns/todo",
            "TODO left: «TODO: *fix* <Mermaid> | later»",
            a,
            Span(12, 1, 12, 5, 1, 5),
            level="warning",
            anchor="TODO",
        ),
        Finding(
            "graph/unresolved-reference",
            "prerequisite 'module-2/03-incremental-snapshots' names no lesson; did you mean 'module-2/07-incremental-snapshot-lab'?",
            a,
            Span(8, 17, 8, 52, 17, 52),
            level="error" if fail else "warning",
        ),
        Finding(
            "anti-patterns/todo",
            "TODO left",
            b,
            Span(3, 1, 3, 5, 1, 5),
            level="warning",
            suppression=Suppression("inline", "later"),
        ),
        Finding("anti-patterns/todo", "TODO out of scope", "other/x.md", Span(1, 1, 1, 5, 1, 5), level="warning"),
    ]
    config = Config(
        path=tmp_path / ".coursecheck.toml",
        root=tmp_path,
        sections={
            "report": {
                "title": "Phase 7: Module 3 - Production Operations",
                "phase": "07-module-3-production-operations",
                "goal": "Students can operate Debezium in production",
                "scope": ["course/m3/**", "labs/**"],
            }
        },
    )
    result = Result(
        root=tmp_path,
        config_path=".coursecheck.toml",
        findings=findings,
        rules=[_todo, _unresolved],
        files=[d.relpath for d in [*docs, dashboard]] + ["other/x.md"],
        course=course,
        extra={
            "verdicts": verdicts,
            "graph_mermaid": 'flowchart TD\n  n0["01-jmx"] --> n1["02-prometheus"]\n  u0["module-2/03-incremental-snapshots"]:::missing\n',
        },
        config=config,
    )
    if fail:
        result.extra["build"] = BuildRun("npm run build", 1, 5.36, ["> astro build", "error: `x` | failed", "```"], 120)
        result.notifications.append(
            Notification("plugin 'team.py' rule team/x crashed on a.md: ZeroDivisionError", "team.py")
        )
    result.report_sections.append(("Team notes", "Written by a plugin."))
    return result


def test_golden_hand_made_report(tmp_path):
    report = render(hand_made(tmp_path), ReportOptions(timestamp=TIMESTAMP))
    assert_golden("verification-hand-made.md", report)


def test_frontmatter_status_and_score(tmp_path):
    report = render(hand_made(tmp_path), ReportOptions(timestamp=TIMESTAMP))
    assert report.startswith(
        "---\n"
        "phase: 07-module-3-production-operations\n"
        'scope: ["course/m3/**", "labs/**"]\n'
        "verified: 2026-02-01T01:56:00Z\n"
        "status: gaps_found\n"
        "score: 6/8 must-haves verified\n"
        "verifier: coursecheck 0.1.0\n"
        "---\n\n"
        "# Phase 7: Module 3 - Production Operations Verification Report\n"
    )


def test_status_passed_and_human_needed(tmp_path):
    result = hand_made(tmp_path, fail=False)
    report = render(result, ReportOptions(timestamp=TIMESTAMP))
    assert "\nstatus: human_needed\n" in report and "\nscore: 8/8 must-haves verified\n" in report
    result.extra["verdicts"] = [v for v in result.extra["verdicts"] if v.kind != "human-check"]
    report = render(result, ReportOptions(timestamp=TIMESTAMP))
    assert "\nstatus: passed\n" in report and "\nscore: 8/8 must-haves verified\n" in report
    assert "Phase 7: Module 3 \\- Production Operations: **PASSED**" not in report  # '-' needs no escape
    assert "Phase 7: Module 3 - Production Operations: **PASSED**. 8/8 must-haves verified" in report


def test_every_table_row_has_the_header_cells_and_text_survives(tmp_path):
    report = render(hand_made(tmp_path), ReportOptions(timestamp=TIMESTAMP))
    found = tables(report)
    # truths, artifacts, links, requirements, anti-patterns, statistics, rule overview, 2 rules
    assert len(found) == 9
    for widths, rows in zip(table_cell_counts(report), found, strict=True):
        assert set(widths) == {len(rows[0])}, rows
    truths = found[0]
    assert truths[0] == ["#", "Truth", "Status", "Evidence"]
    assert truths[2][1] == "Alerts use a `for` clause | to avoid storms"  # pipe kept, backticks literal
    assert truths[2][2] == "FAILED"
    anti = found[4]
    assert anti[0] == ["File", "Line", "Pattern", "Severity", "Impact"]
    assert anti[1] == [
        "course/m3/01-jmx.mdx",
        "12",
        "anti-patterns/todo TODO",
        "warning",
        "TODO left: «TODO: *fix* <Mermaid> | later»",
    ]
    statistics = dict(found[5][1:])
    assert statistics == {
        "Files in scope": "3 (2 lessons, 1 data file)",
        "Lines in lessons in scope": "897",
        "dashboard.json lines": "1,052",
        "dashboard.json JSON validity": "Valid",
        "Total MDX files (artifacts)": "2 of 2 declared",
        "Total lines (MDX artifacts)": "897",
        "Total Mermaid diagrams (MDX artifacts)": "5",
    }


def test_sections_in_the_order_of_the_reference_report(tmp_path):
    report = render(hand_made(tmp_path), ReportOptions(timestamp=TIMESTAMP))
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings == [
        "# Phase 7: Module 3 - Production Operations Verification Report",
        "## Goal Achievement",
        "### Observable Truths",
        "### Required Artifacts",
        "### Key Link Verification",
        "### Prerequisite Graph",
        "### Requirements Coverage",
        "### Anti-Patterns Found",
        "### Build Verification",
        "### Artifact Statistics",
        "### Human Verification Required",
        "#### 1. Dashboard import",
        "### Internal Problems",
        "## Findings by Rule",
        "### `graph/unresolved-reference`: 1 error",
        "### `anti-patterns/todo`: 1 warning, 1 suppressed",
        "## Team notes",
        "## Summary",
    ]


def test_build_output_fence_outlasts_backticks_in_the_output(tmp_path):
    report = render(hand_made(tmp_path), ReportOptions(timestamp=TIMESTAMP))
    build = section(report, "### Build Verification")
    assert "`npm run build`: **FAILED** (exit code 1) in 5.36 s" in build
    assert "Last 3 lines of 120 of output:\n\n````text\n> astro build\nerror: `x` | failed\n```\n````\n" in build
    code_blocks = [t for t in GFM.parse(report) if t.type == "fence"]
    assert [t.info for t in code_blocks] == ["mermaid", "text"]
    assert code_blocks[1].content == "> astro build\nerror: `x` | failed\n```\n"


def test_summary_lists_the_gaps(tmp_path):
    report = render(hand_made(tmp_path), ReportOptions(timestamp=TIMESTAMP))
    summary = section(report, "## Summary")
    assert (
        "**GAPS FOUND**. 6/8 must-haves verified (truths 1/2, artifacts 3/3, key links 1/1, requirements 1/2)"
        in summary
    )
    assert "- truth `alert-for`: 0 occurrences of /for: \\\\d+m/ (need ≥ 2)" in summary
    assert "- requirement `MOD3-02`: truth alert-for FAILED" in summary
    assert "- `course/m3/01-jmx.mdx:8:17` `graph/unresolved-reference`: prerequisite" in summary
    assert "- the build `npm run build` failed (see Build Verification)." in summary
    assert "**Still to verify by hand:** Dashboard import." in summary


def test_findings_outside_the_scope_are_left_out(tmp_path):
    report = render(hand_made(tmp_path), ReportOptions(timestamp=TIMESTAMP))
    assert "other/x.md" not in report
    assert "1 error, 1 warning, 0 notes in 3 files in scope (1 suppressed)" in report


def test_without_timestamp_there_is_no_time(tmp_path):
    report = render(hand_made(tmp_path), ReportOptions())
    assert "verified:" not in report and "Verified" not in report


# -- Markdown helpers ---------------------------------------------------------------------------


def test_text_escapes_what_github_would_interpret():
    assert text("a | b * c _d_ snake_case <Mermaid> $x$ [l](u) `c` ~~s~~ &amp; @team") == (
        "a \\| b \\* c \\_d\\_ snake_case \\<Mermaid> \\$x\\$ \\[l\\](u) \\`c\\` \\~\\~s\\~\\~ \\&amp; \\@team"
    )
    assert text("two\nlines") == "two lines"
    rendered = GFM.renderInline(text("a | b * c _d_ <Mermaid> $x$ &amp; @team"))
    assert rendered == "a | b * c _d_ &lt;Mermaid&gt; $x$ &amp;amp; @team"


def test_code_spans_hold_backticks_and_pipes():
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b") == "`a\\|b`"
    assert code("a|b", table=False) == "`a|b`"


def test_yaml_scalars():
    assert yaml_scalar("07-module-3") == "07-module-3"
    assert yaml_scalar("Phase 7: Module 3") == '"Phase 7: Module 3"'
    assert yaml_scalar("yes") == '"yes"'
    assert yaml_scalar(["a/**", "b"]) == '["a/**", "b"]'


# -- the real thing, through the CLI -------------------------------------------------------------


def test_golden_small_course_report(cli, tmp_path):
    root = build_course(tmp_path, REPORT_SECTION)
    code_, out, err = cli(root, "report", "--timestamp", TIMESTAMP, "--select", SELECT)
    assert code_ == 1, err
    assert_golden("small-course.md", out)


def test_positions_are_exact_for_cyrillic_and_astral_lines(cli, tmp_path):
    root = build_course(tmp_path, REPORT_SECTION)
    _code, out, _err = cli(root, "report", "--timestamp", TIMESTAMP, "--select", SELECT)
    rows = {row[0]: row[1] for table_rows in tables(out) for row in table_rows if len(row) == 2}
    # "Привет, мир 🐳 и ЗАГЛУШКА": ЗАГЛУШКА is the 17th code point (the emoji counts once).
    assert rows["content/01-intro.md:8:17"] == "placeholder left in text"
    assert rows["content/02-next.mdx:9:4"] == "placeholder left in text"  # after two astral letters
    line = (root / "content" / "02-next.mdx").read_text(encoding="utf-8").splitlines()[8]
    assert line.index("ЗАГЛУШКА") + 1 == 4


def test_report_is_byte_identical_across_runs_and_valid_coursecheck_input(cli, tmp_path):
    root = build_course(tmp_path / "course", REPORT_SECTION)
    first = cli(root, "report", "--timestamp", TIMESTAMP, "--select", SELECT)[1]
    second = cli(root, "report", "--timestamp", TIMESTAMP, "--select", SELECT)[1]
    assert first == second
    # The report is a lesson coursecheck reads without a parse problem, frontmatter included.
    lint_root = tmp_path / "lint"
    write_files(lint_root, {"content/report.md": first})
    (lint_root / ".coursecheck.toml").write_text('[course]\ncontent = ["content/**/*.md"]\n', encoding="utf-8")
    result = check(lint_root, select=["core", "parse"])
    assert [f for f in result.findings if f.rule_id.startswith("parse/")] == []
    doc = result.course.lessons[0]
    assert doc.frontmatter is not None
    assert doc.frontmatter.data["status"] == "gaps_found"
    assert doc.frontmatter.data["score"] == "0/0 must-haves verified"
    assert doc.frontmatter.data["phase"] == "01-intro"
    assert [h.text for h in doc.headings][:2] == ["Модуль 1: Введение Verification Report", "Goal Achievement"]


def test_report_command_writes_the_file_atomically(cli, tmp_path):
    root = build_course(tmp_path / "course", REPORT_SECTION)
    target = tmp_path / "out" / "VERIFICATION.md"
    code_, out, err = cli(root, "report", "-o", str(target), "--timestamp", TIMESTAMP, "--select", SELECT)
    assert code_ == 1 and out == ""
    assert f"wrote {target}" in err
    assert (
        target.read_text(encoding="utf-8")
        == cli(root, "--format", "markdown", "--timestamp", TIMESTAMP, "--select", SELECT)[1]
    )
    assert [p.name for p in target.parent.iterdir()] == ["VERIFICATION.md"]
    code_, _out, err = cli(root, "report", "--format", "sarif")
    assert code_ == 2 and "the report is Markdown" in err


def test_timestamp_defaults_to_now_in_utc(cli, tmp_path):
    root = build_course(tmp_path, REPORT_SECTION)
    _code, out, _err = cli(root, "report", "--select", SELECT)
    import re

    assert re.search(r"^verified: 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$", out, re.M)


BUILD_OK = f"""
[report]
build = [{str(sys.executable)!r}, "-c", "print('\\\\n'.join(f'line {{i}}' for i in range(30)))"]
build-tail = 3
"""


def test_run_build_shows_exit_code_time_and_tail(cli, tmp_path):
    root = build_course(tmp_path, BUILD_OK)
    code_, out, err = cli(root, "report", "--run-build", "--timestamp", TIMESTAMP, "--select", SELECT)
    assert code_ == 1, err  # the course's findings; the build passed
    build = section(out, "### Build Verification")
    assert "PASSED (exit code 0) in " in build
    assert "Last 3 lines of 30 of output:\n\n```text\nline 27\nline 28\nline 29\n```" in build
    _code, out, _err = cli(root, "report", "--timestamp", TIMESTAMP, "--select", SELECT)
    assert "### Build Verification" not in out  # only with --run-build


def test_failing_build_is_a_gap_and_fails_the_run(cli, tmp_path):
    root = build_course(tmp_path, '\n[report]\nbuild = "echo broken >&2; exit 3"\n')
    (root / "content" / "01-intro.md").write_text("# Чисто\n", encoding="utf-8")
    for name in ("02-next.mdx", "модуль 2/01-урок.md"):
        (root / "content" / name).unlink()
    code_, out, _err = cli(root, "report", "--run-build", "--timestamp", TIMESTAMP, "--select", SELECT)
    assert code_ == 1
    assert "\nstatus: gaps_found\n" in out
    assert "`echo broken >&2; exit 3`: **FAILED** (exit code 3)" in out
    assert "```text\nbroken\n```" in out


def test_run_build_without_a_build_command_is_a_usage_error(cli, tmp_path):
    root = build_course(tmp_path)
    code_, _out, err = cli(root, "report", "--run-build")
    assert code_ == 2
    assert "--run-build: no build command configured (set `build` in the [report] section of" in err


def test_report_config_is_validated_with_file_and_line(cli, tmp_path):
    root = build_course(
        tmp_path,
        textwrap.dedent("""
        [report]
        titel = "x"
        scope = ["../outside/**"]
        build-timeout = 0
    """),
    )
    code_, _out, err = cli(root, "report")
    assert code_ == 2
    assert ".coursecheck.toml:10: report.titel: unknown key; did you mean 'title'?" in err
    assert ".coursecheck.toml:11: report.scope: glob '../outside/**': '..' would leave the project root" in err
    assert ".coursecheck.toml:12: report.build-timeout: must be 1 or more, not 0" in err


@pytest.mark.parametrize("value", ['"npm run build"', '["npm", "run", "build"]'])
def test_build_may_be_a_string_or_a_list(cli, tmp_path, value):
    root = build_course(tmp_path, f"\n[report]\nbuild = {value}\n")
    code_, _out, err = cli(root, "--select", SELECT)
    assert code_ == 1 and "configuration error" not in err


SECTIONS_PLUGIN = """
from coursecheck import hookimpl


@hookimpl
def coursecheck_report_sections(result):
    return [("Team notes", f"{len(result.files)} files were read by the team plugin.")]
"""

BROKEN_SECTIONS_PLUGIN = """
from coursecheck import hookimpl


@hookimpl
def coursecheck_report_sections(result):
    return "not a list of pairs"
"""


def test_plugins_add_report_sections(cli, tmp_path):
    root = build_course(tmp_path)
    write_files(root, {"tools/notes.py": SECTIONS_PLUGIN, "tools/broken.py": BROKEN_SECTIONS_PLUGIN})
    config = (root / ".coursecheck.toml").read_text(encoding="utf-8")
    config = config.replace(
        'plugins = ["tools/demo_rules.py"]', 'plugins = ["tools/demo_rules.py", "tools/notes.py", "tools/broken.py"]'
    )
    (root / ".coursecheck.toml").write_text(config, encoding="utf-8")
    _code, out, err = cli(root, "report", "--timestamp", TIMESTAMP, "--select", SELECT)
    assert "\n## Team notes\n\n3 files were read by the team plugin.\n" in out
    assert out.index("## Team notes") < out.index("## Summary")
    assert "plugin 'tools/broken.py' returned str from coursecheck_report_sections" in err


def test_a_graph_too_big_to_render_collapses_to_modules_with_the_full_graph_beside(tmp_path, cli, monkeypatch):
    from conftest import DEFAULT_CONFIG

    import coursecheck.report.markdown as markdown_report

    monkeypatch.setattr(markdown_report, "GRAPH_INLINE_MAX", 2_000)  # GitHub's limit, scaled down
    files: dict[str, str] = {}
    for m in range(1, 4):
        for n in range(1, 21):
            if n > 1:
                prereq = f'["module-{m}/{n - 1:02d}-lesson"]'
            else:
                prereq = f'["module-{m - 1}/20-lesson"]' if m > 1 else "[]"
            files[f"content/{m:02d}-module-{m}/{n:02d}-lesson.md"] = (
                f"---\ntitle: Урок {m}.{n}\nprerequisites: {prereq}\n---\n\n# Урок {m}.{n}\n\nТекст.\n"
            )
    files["content/02-module-2/07-lesson.md"] = files["content/02-module-2/07-lesson.md"].replace(
        '["module-2/06-lesson"]', '["module-2/99-missing"]'
    )
    write_files(tmp_path, files)
    (tmp_path / ".coursecheck.toml").write_text(textwrap.dedent(DEFAULT_CONFIG), encoding="utf-8")
    code, _out, err = cli(tmp_path, "report", "--select", "graph", "--no-progress", "-o", "report.md")
    assert code == 1, err
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    section = report.split("### Prerequisite Graph", 1)[1].split("\n### ", 1)[0]
    assert "too big to render here" in section and "[report.graph.mmd](report.graph.mmd)" in section
    assert '  m0["01-module-1 (20 lessons)"]' in section
    assert '  m1["02-module-2 (20 lessons, 1 unresolved)"]:::missing' in section
    assert "  m0 -->|1| m1" in section and "  m1 -->|1| m2" in section  # module to module, in order
    full = (tmp_path / "report.graph.mmd").read_text(encoding="utf-8")
    assert full.startswith("flowchart TD\n") and len(full) > 2_000 and full.count('-lesson"]') == 60
    # Printed on stdout, the report says how to get the full graph instead of linking a file.
    code, out, _ = cli(tmp_path, "report", "--select", "graph", "--no-progress")
    assert "`coursecheck graph -o course-graph.mmd`" in out
    assert not (tmp_path / "stdout.graph.mmd").exists()
