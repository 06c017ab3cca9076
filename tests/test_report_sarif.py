"""SARIF 2.1.0: schema-valid, GitHub-ready, exact UTF-16 positions, stable fingerprints."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, check
from report_course import SELECT, TIMESTAMP, assert_golden, build_course

from coursecheck.config import load_config
from coursecheck.engine import Engine, Result, RunOptions
from coursecheck.model import Finding, Suppression
from coursecheck.report import ReportOptions
from coursecheck.report.sarif import (
    FINGERPRINT_KEY,
    RULES_DOC_URI,
    UploadLimits,
    artifact_uri,
    help_uri,
    markdown_to_text,
    render,
)
from coursecheck.rules import rule
from coursecheck.text import Span

SCHEMA = json.loads((REPO / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def schema_errors(log: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def run_sarif(cli, root: Path, *args: str) -> tuple[int, dict, str]:
    code, out, err = cli(root, "--format", "sarif", "--timestamp", TIMESTAMP, *args)
    return code, json.loads(out), err


def utf16_column(line: str, index: int) -> int:
    """An independent measurement: 1-based UTF-16 column of ``line[index]``."""
    return len(line[:index].encode("utf-16-le")) // 2 + 1


def results_by_rule(log: dict, rule_id: str) -> list[dict]:
    return [r for r in log["runs"][0]["results"] if r["ruleId"] == rule_id]


# -- the whole log ----------------------------------------------------------------------------


def test_demo_course_sarif_is_schema_valid_and_complete(cli):
    code, log, _err = run_sarif(cli, REPO)
    assert code in (0, 1)
    assert schema_errors(log) == []
    run = log["runs"][0]
    assert len(log["runs"]) == 1 and log["version"] == "2.1.0"
    driver = run["tool"]["driver"]
    assert driver["name"] == "coursecheck" and driver["semanticVersion"] == driver["version"]
    assert run["columnKind"] == "utf16CodeUnits"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == sorted(set(rule_ids))
    for descriptor in driver["rules"]:
        assert descriptor["help"]["markdown"] and descriptor["help"]["text"]
        assert descriptor["helpUri"] == help_uri(descriptor["id"])
        assert descriptor["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert len(descriptor["properties"]["tags"]) <= 20
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert result["partialFingerprints"][FINGERPRINT_KEY]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == REPO.as_uri() + "/"
    assert run["invocations"][0]["executionSuccessful"] is True


def test_golden_sarif(cli, tmp_path):
    root = build_course(tmp_path)
    code, out, _err = cli(root, "--format", "sarif", "--timestamp", TIMESTAMP, "--select", SELECT)
    assert code == 1
    assert schema_errors(json.loads(out)) == []
    assert_golden("small-course.sarif", out.replace(root.as_uri() + "/", "file:///COURSE/"))


def test_rules_carry_their_docs_as_help(cli, tmp_path):
    root = build_course(tmp_path)
    _code, log, _err = run_sarif(cli, root, "--select", SELECT)
    marker = next(r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "demo/marker")
    assert marker["name"] == "Marker"
    assert marker["shortDescription"]["text"] == "Flags the placeholder word ЗАГЛУШКА."
    assert (
        marker["fullDescription"]["text"]
        == "Flags the placeholder word ЗАГЛУШКА.\n\nFinds `ЗАГЛУШКА` in prose and headings."
    )
    assert marker["help"]["markdown"].startswith("Flags the placeholder word ЗАГЛУШКА.\n\n## What it does\n")
    assert "WHY IT MATTERS\nA placeholder | left in a lesson is a gap students see." in marker["help"]["text"]
    assert "    Тут ЗАГЛУШКА." in marker["help"]["text"]
    assert "the guide (https://example.com/guide)" in marker["help"]["text"]
    assert marker["properties"]["tags"] == ["content", "demo"]
    assert marker["helpUri"] == "https://github.com/coursecheck/coursecheck/blob/main/docs/rules.md#demomarker"


# -- positions ----------------------------------------------------------------------------------


def test_utf16_columns_count_astral_characters_twice(cli, tmp_path):
    root = build_course(tmp_path)
    _code, log, _err = run_sarif(cli, root, "--select", SELECT)
    regions = {
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        ): r["locations"][0]["physicalLocation"]["region"]
        for r in results_by_rule(log, "demo/marker")
    }
    cyrillic_and_emoji = "Привет, мир 🐳 и ЗАГЛУШКА здесь."
    at = cyrillic_and_emoji.index("ЗАГЛУШКА")
    assert at + 1 == 17  # code points: the emoji is one
    region = regions[("content/01-intro.md", 8)]
    assert region == {
        "startLine": 8,
        "startColumn": utf16_column(cyrillic_and_emoji, at),
        "endLine": 8,
        "endColumn": utf16_column(cyrillic_and_emoji, at + len("ЗАГЛУШКА")),
        "snippet": {"text": "ЗАГЛУШКА"},
    }
    assert (region["startColumn"], region["endColumn"]) == (18, 26)  # the emoji is two UTF-16 units
    first = results_by_rule(log, "demo/marker")[0]["locations"][0]["physicalLocation"]
    assert first["contextRegion"] == {
        "startLine": 8,
        "startColumn": 1,
        "endLine": 8,
        "endColumn": utf16_column(cyrillic_and_emoji, len(cyrillic_and_emoji)),
        "snippet": {"text": cyrillic_and_emoji},
    }

    two_astral = "𝔘𝔘 ЗАГЛУШКА и <Mermaid> в тексте."
    region = regions[("content/02-next.mdx", 9)]
    assert (region["startColumn"], region["endColumn"]) == (6, 14)
    assert region["startColumn"] == utf16_column(two_astral, two_astral.index("ЗАГЛУШКА"))
    # The text format speaks code points, SARIF UTF-16 units: the same finding, two columns.
    result = check(root, select=SELECT.split(","))
    finding = next(f for f in result.findings if f.path == "content/02-next.mdx" and f.span.line == 9)
    assert (finding.span.column, finding.span.column_utf16) == (4, 6)


def test_uris_are_relative_and_percent_encoded(cli, tmp_path):
    root = build_course(tmp_path)
    _code, log, _err = run_sarif(cli, root, "--select", SELECT)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    encoded = "content/%D0%BC%D0%BE%D0%B4%D1%83%D0%BB%D1%8C%202/01-%D1%83%D1%80%D0%BE%D0%BA.md"
    assert encoded in uris
    assert artifact_uri("a:b/c d.md") == "a%3Ab/c%20d.md"  # a first segment with ':' is no scheme


# -- identity, suppressions, fixes ---------------------------------------------------------------


def test_fingerprints_survive_unrelated_edits(cli, tmp_path):
    root = build_course(tmp_path)
    _code, before, _err = run_sarif(cli, root, "--select", SELECT)
    lesson = root / "content" / "01-intro.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("# Введение 🐳\n", "# Введение 🐳\n\nНовый абзац.\n"))
    _code, after, _err = run_sarif(cli, root, "--select", SELECT)

    def prints(log: dict) -> dict[str, int]:
        return {
            r["partialFingerprints"][FINGERPRINT_KEY]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
            for r in log["runs"][0]["results"]
        }

    old, new = prints(before), prints(after)
    assert set(old) == set(new)
    moved = [fp for fp in old if old[fp] != new[fp]]
    assert len(moved) == 2 and all(new[fp] == old[fp] + 2 for fp in moved)


def test_suppressed_results_are_kept_with_their_justification(cli, tmp_path):
    root = build_course(tmp_path)
    _code, log, _err = run_sarif(cli, root, "--select", SELECT)
    suppressed = [r for r in log["runs"][0]["results"] if "suppressions" in r]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in suppressed] == [
        ("demo/marker", 7)
    ]
    assert suppressed[0]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "допишем в мае"}
    ]


def test_fixes_and_related_locations(cli, tmp_path):
    root = build_course(tmp_path)
    _code, log, _err = run_sarif(cli, root, "--select", SELECT)
    first = results_by_rule(log, "demo/marker")[0]
    assert first["fixes"] == [
        {
            "description": {"text": "replace the placeholder with 'текст'."},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "content/01-intro.md", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {"startLine": 8, "startColumn": 18, "endLine": 8, "endColumn": 26},
                            "insertedContent": {"text": "текст"},
                        }
                    ],
                }
            ],
        }
    ]
    todo = results_by_rule(log, "demo/todo")[0]
    assert todo["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "content/01-intro.md", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 2, "startColumn": 8, "endLine": 2, "endColumn": 16},
            },
            "message": {"text": "the lesson this TODO is in."},
        }
    ]


# -- the CLI ------------------------------------------------------------------------------------


def test_automation_id_and_timestamp_from_the_cli(cli, tmp_path):
    root = build_course(tmp_path)
    _code, log, _err = run_sarif(cli, root, "--select", SELECT, "--automation-id", "coursecheck/lessons/")
    run = log["runs"][0]
    assert run["automationDetails"] == {"id": "coursecheck/lessons/"}
    assert run["invocations"][0]["endTimeUtc"] == TIMESTAMP
    code, _out, err = cli(root, "--format", "sarif", "--timestamp", "yesterday")
    assert code == 2 and "--timestamp 'yesterday' is not an ISO 8601 date and time" in err
    code, out, _err = cli(root, "--format", "sarif", "--timestamp", "2026-02-01T04:56:00+03:00", "--select", SELECT)
    assert json.loads(out)["runs"][0]["invocations"][0]["endTimeUtc"] == TIMESTAMP


def test_two_runs_are_byte_identical(cli, tmp_path):
    root = build_course(tmp_path)
    first = cli(root, "--format", "sarif", "--timestamp", TIMESTAMP, "--select", SELECT)[1]
    second = cli(root, "--format", "sarif", "--timestamp", TIMESTAMP, "--select", SELECT)[1]
    assert first == second


def test_output_file_is_written(cli, tmp_path):
    root = build_course(tmp_path / "course")
    target = tmp_path / "out" / "coursecheck.sarif"
    code, out, err = cli(root, "--format", "sarif", "-o", str(target), "--select", SELECT)
    assert code == 1 and out == ""
    assert "wrote" in err
    assert schema_errors(json.loads(target.read_text(encoding="utf-8"))) == []


CRASHING = '''
from coursecheck import hookimpl
from coursecheck.rules import rule


@rule("crash/divide", level="warning")
def divide(doc, ctx):
    """Crashes on purpose."""
    return 1 / len(doc.headings)


@hookimpl
def coursecheck_rules():
    return [divide]
'''


def test_internal_errors_become_tool_execution_notifications(cli, course):
    root = course({"content/a.md": "Без заголовка.\n", "crash.py": CRASHING}, None)
    from conftest import DEFAULT_CONFIG

    (root / ".coursecheck.toml").write_text('plugins = ["crash.py"]\n' + DEFAULT_CONFIG, encoding="utf-8")
    _code, log, _err = run_sarif(cli, root, "--select", "crash,core,parse")
    assert schema_errors(log) == []
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert len(notes) == 1
    assert notes[0]["level"] == "error"
    assert notes[0]["message"]["text"].startswith(
        "plugin 'crash.py' rule crash/divide crashed on content/a.md: ZeroDivisionError"
    )
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "content/a.md"
    assert notes[0]["associatedRule"]["id"] == "crash/divide"
    internal = results_by_rule(log, "core/internal-error")
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in internal] == [1]


# -- GitHub's limits ----------------------------------------------------------------------------


@rule("demo/many", level="warning")
def _many(doc, ctx):  # pragma: no cover - only its declaration is used
    """Many findings."""


def hand_made_result(tmp_path: Path, levels: list[str], related: int = 0) -> Result:
    findings = []
    for i, level in enumerate(levels, start=1):
        span = Span(i, 1, i, 5, 1, 5)
        f = Finding("demo/many", f"finding {i}", "a.md", span, level=level, fingerprint=f"fp{i}")
        f.related = [("a.md", Span.point(j + 1), f"related {j}") for j in range(related)]
        findings.append(f)
    findings[-1].suppression = Suppression("baseline", "")
    return Result(root=tmp_path, config_path="", findings=findings, rules=[_many], files=["a.md"])


def test_too_many_results_keep_the_most_severe(tmp_path):
    levels = ["note", "warning", "error", "note", "warning", "error", "note"]
    result = hand_made_result(tmp_path, levels)
    options = ReportOptions(timestamp=TIMESTAMP)
    limits = UploadLimits(results=3, shown_results=2)
    log = json.loads(render(result, options, limits))
    assert schema_errors(log) == []
    kept = [(r["level"], r["message"]["text"]) for r in log["runs"][0]["results"]]
    assert kept == [("error", "finding 3."), ("error", "finding 6."), ("warning", "finding 2.")]
    assert options.warnings == [
        "7 results: GitHub code scanning shows at most 2 per run; the most severe are written first",
        "SARIF truncated to 3 results of 7 for GitHub's limit of 3 results per run; dropped 1 warning, 3 notes",
    ]
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["warning", "warning"]
    # The baseline-suppressed finding is the least wanted: it went first.
    assert all("suppressions" not in r for r in log["runs"][0]["results"])


def test_results_within_the_limits_stay_in_path_order(tmp_path):
    result = hand_made_result(tmp_path, ["note", "error", "warning"])
    options = ReportOptions()
    log = json.loads(render(result, options))
    assert [r["message"]["text"] for r in log["runs"][0]["results"]] == ["finding 1.", "finding 2.", "finding 3."]
    assert log["runs"][0]["results"][2]["suppressions"] == [{"kind": "external", "status": "accepted"}]
    assert options.warnings == []
    assert "endTimeUtc" not in log["runs"][0]["invocations"][0]


def test_gzip_size_limit_drops_the_least_severe(tmp_path):
    levels = ["note", "error"] * 200
    result = hand_made_result(tmp_path, levels)
    options = ReportOptions()
    full = render(result, ReportOptions())
    import gzip

    size = len(gzip.compress(full.encode("utf-8")))
    limits = UploadLimits(gzip_bytes=size // 2)
    text = render(result, options, limits)
    assert len(gzip.compress(text.encode("utf-8"))) <= size // 2
    log = json.loads(text)
    levels_kept = [r["level"] for r in log["runs"][0]["results"]]
    assert 0 < len(levels_kept) < 400
    assert levels_kept.count("error") == min(200, len(levels_kept))
    assert any("MB (gzip) per file" in w for w in options.warnings)


def test_locations_per_result_are_capped(tmp_path):
    result = hand_made_result(tmp_path, ["error"], related=12)
    options = ReportOptions()
    log = json.loads(render(result, options, UploadLimits(locations=5)))
    assert len(log["runs"][0]["results"][0]["relatedLocations"]) == 4  # plus the primary location: 5
    assert options.warnings == ["a.md:1: demo/many has 13 locations; SARIF keeps 5 (GitHub's limit per result)"]


def test_tags_are_capped_at_githubs_limit(tmp_path):
    tagged = rule("demo/tagged", tags=[f"t{i}" for i in range(25)])(lambda doc, ctx: None)
    tagged.docs = "Tagged."
    result = Result(root=tmp_path, config_path="", findings=[], rules=[tagged], files=[])
    options = ReportOptions()
    log = json.loads(render(result, options))
    assert len(log["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"]) == 20
    assert options.warnings == ["rule demo/tagged has more than 20 tags; SARIF keeps the first 20"]


def test_findings_without_a_file_become_notifications(tmp_path):
    f = Finding("demo/many", "about the whole run", "", Span.point(1), level="error", fingerprint="x")
    result = Result(root=tmp_path, config_path="", findings=[f], rules=[_many], files=[])
    log = json.loads(render(result, ReportOptions()))
    assert log["runs"][0]["results"] == []
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes == [
        {
            "level": "error",
            "message": {"text": "about the whole run."},
            "associatedRule": {"id": "demo/many", "index": 0},
        }
    ]


def test_markdown_to_text():
    md = "Summary.\n\n## What it does\nFinds **bold** and [a link](https://x.y).\n\n```toml\na = 1\n```\n"
    assert markdown_to_text(md) == "Summary.\n\nWHAT IT DOES\nFinds bold and a link (https://x.y).\n\n    a = 1"


# -- the SARIF Multitool (optional: needs npx and the package installed) --------------------------

MULTITOOL_SCRIPT = REPO / "scripts" / "validate-sarif.sh"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npx") is None, reason="npx not available")
def test_sarif_multitool_github_rules(tmp_path):
    """`scripts/validate-sarif.sh` runs the SARIF Multitool with GitHub's rules (GH1001-GH1007)
    when it is installed (or installable) and fails on any error it reports."""
    config = load_config(REPO / ".coursecheck.toml", REPO)
    result = Engine(config, RunOptions(entry_points=False)).run()
    sarif = tmp_path / "demo.sarif"
    sarif.write_text(render(result, ReportOptions(timestamp=TIMESTAMP)), encoding="utf-8")
    done = subprocess.run(["bash", str(MULTITOOL_SCRIPT), str(sarif)], capture_output=True, text=True, timeout=600)
    if done.returncode == 77:
        pytest.skip(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "SARIF Multitool unavailable")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors" in done.stdout


def test_help_uris_land_on_the_headings_of_the_rules_reference():
    from coursecheck.builtin.core import ENCODING, UNTERMINATED_FENCE
    from coursecheck.report.sarif import github_anchor, rules_reference

    reference = rules_reference([ENCODING, UNTERMINATED_FENCE])
    headings = [line[3:] for line in reference.splitlines() if line.startswith("## `")]
    assert headings == ["`parse/encoding`", "`parse/unterminated-fence`"]
    assert [f"{RULES_DOC_URI}#{github_anchor(h)}" for h in headings] == [
        help_uri("parse/encoding"),
        help_uri("parse/unterminated-fence"),
    ]
    assert help_uri("parse/unterminated-fence").endswith("#parseunterminated-fence")
    assert "### What it does" in reference
    assert "\n## Следующий раздел\n" in reference  # a heading inside an example fence stays as written
    shipped = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert "\n## `parse/encoding`\n" in shipped and "(#parseencoding)" in shipped
