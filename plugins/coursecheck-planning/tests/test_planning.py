"""coursecheck-planning: plan files' must-haves become coursecheck must-haves, measured."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coursecheck.config import ConfigError, load_config
from coursecheck.engine import Engine, Result, RunOptions
from coursecheck.model import FAILED, NEEDS_HUMAN, VERIFIED

CONFIG = """
plugins = ["coursecheck_planning.plugin"]

[course]
content = ["content/**/*.md"]
id = "{path}"
aliases = ["{dir|unnumbered}/{stem}"]

[planning]
root = "docs"
plans = [".planning/phases/*/*-PLAN.md"]
"""

LESSON_1 = "---\ntitle: Intro\n---\n\n# Intro\n\nThe lag metric is MilliSecondsBehindSource.\n"
LESSON_2 = "---\ntitle: Alerts\nprerequisites: [module-1/01-intro]\n---\n\n# Alerts\n\nAlert on lag.\n"
COMPONENT = "export const MetricTable = () => null;\nexport function Legend() {}\n"

PLAN = """\
---
phase: 01-basics
plan: 01
requirements: [CRS-01]
must_haves:
  truths:
    - "The lag metric is named in the intro"
    - "Learners enjoy the module"
  artifacts:
    - path: content/01-module-1/01-intro.md
      provides: Introduction
      min_lines: 5
      contains: MilliSecondsBehindSource
    - path: src/MetricTable.tsx
      provides: Table component
      exports: [MetricTable, Legend, Missing]
  key_links:
    - from: 02-alerts.md
      to: 01-intro.md
      via: Alerts build on the intro
    - from: 01-intro.md
      to: src/MetricTable.tsx
      via: The intro shows the table
      pattern: 'MetricTable'
---

<tasks>
<task type="auto">
  <name>Task 1: Intro lesson (CRS-01)</name>
  <files>content/01-module-1/01-intro.md</files>
</task>
<task type="checkpoint:human-verify" gate="blocking">
  <name>Table renders</name>
  <what-built>The table shows one row per metric</what-built>
  <how-to-verify>Open the intro page in a browser</how-to-verify>
</task>
</tasks>
"""

MAPPING = """
[[planning.truth]]
text = "the lag   metric is named in the intro"
id = "lag-named"
term = "MilliSecondsBehindSource"
files = "content/**/01-intro.md"
"""


def make(tmp_path: Path, *, plan: str = PLAN, config: str = CONFIG + MAPPING) -> Path:
    files = {
        "content/01-module-1/01-intro.md": LESSON_1,
        "content/01-module-1/02-alerts.md": LESSON_2,
        "src/MetricTable.tsx": COMPONENT,
        "docs/.planning/phases/01-basics/01-01-PLAN.md": plan,
        "docs/.planning/REQUIREMENTS.md": "- [ ] **CRS-01**: Learners read the lag metric\n",
        ".coursecheck.toml": textwrap.dedent(config),
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


def run(root: Path) -> Result:
    config = load_config(root / ".coursecheck.toml", root)
    return Engine(config, RunOptions(entry_points=False)).run()


def problems(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        run(root)
    return [str(p) for p in caught.value.problems]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_plan_must_haves_become_measured_verdicts(tmp_path):
    result = run(make(tmp_path))
    verdicts = {(v.kind, v.id): v for v in result.extra["verdicts"]}
    intro = verdicts[("artifact", "content/01-module-1/01-intro.md")]
    assert intro.status == VERIFIED
    assert intro.evidence == "7 lines, contains 'MilliSecondsBehindSource' (1×)"
    table = verdicts[("artifact", "src/MetricTable.tsx")]
    assert table.status == FAILED  # `Missing` is not exported
    assert table.measures["patterns"] == {p: n for p, n in zip(table.measures["patterns"], [1, 1, 0], strict=True)}
    # A bare file name is resolved under the project root; no pattern: an edge between lessons.
    edge = verdicts[("key-link", "content/01-module-1/02-alerts.md -> content/01-module-1/01-intro.md")]
    assert edge.status == VERIFIED
    assert edge.evidence == "02-alerts.md lists module-1/01-intro as a prerequisite (line 3)"
    pattern = verdicts[("key-link", "content/01-module-1/01-intro.md -> src/MetricTable.tsx")]
    assert pattern.status == FAILED
    assert pattern.evidence == "/MetricTable/ not found in 01-intro.md"
    # The mapped truth is measured; the other one is a human check, never passed.
    assert verdicts[("truth", "lag-named")].status == VERIFIED
    assert verdicts[("truth", "lag-named")].text == "The lag metric is named in the intro"
    human = verdicts[("human-check", "01-01-truth-2")]
    assert human.status == NEEDS_HUMAN
    assert human.measures["title"] == "Learners enjoy the module"
    assert "01-01-PLAN.md (line 8)" in human.measures["why"]
    checkpoint = verdicts[("human-check", "01-01-checkpoint-2")]
    assert (checkpoint.measures["title"], checkpoint.measures["test"]) == (
        "Table renders",
        "Open the intro page in a browser",
    )
    # CRS-01 is named in the task that lists the intro: satisfied by that artifact only.
    requirement = verdicts[("requirement", "CRS-01")]
    assert requirement.text == "Learners read the lag metric"
    assert requirement.measures["satisfied_by"] == [
        {"ref": "artifact:content/01-module-1/01-intro.md", "status": VERIFIED}
    ]
    assert requirement.status == VERIFIED


def test_failed_must_haves_are_findings_where_the_plan_declares_them(tmp_path):
    plan = PLAN.replace("path: src/MetricTable.tsx", "path: src/Gone.tsx")
    result = run(make(tmp_path, plan=plan))
    found = [
        (f.rule_id, f.path, f.span.line, f.span.column) for f in result.active if f.rule_id.startswith("musthave/")
    ]
    assert found == [
        ("musthave/key-link", "content/01-module-1/01-intro.md", 2, 1),
        ("musthave/artifact", "docs/.planning/phases/01-basics/01-01-PLAN.md", 14, 1),
    ]


def test_exports_match_export_forms(tmp_path):
    import re

    from coursecheck_planning.plans import _export_pattern

    text = "export default function A() {}\nexport { B, C as D }\nexport async function E() {}\nconst F = 1\n"
    assert [bool(re.search(_export_pattern(n), text)) for n in "ABCEF"] == [True, True, True, True, False]


def test_plan_mistakes_are_config_errors_at_the_plan_line(tmp_path):
    plan = PLAN.replace("      min_lines: 5", "      min_line: 5").replace("pattern: 'MetricTable'", "pattern: '(['")
    assert problems(make(tmp_path, plan=plan)) == [
        "docs/.planning/phases/01-basics/01-01-PLAN.md:12: must_haves.artifacts[0].min_line: unknown key; did you mean 'min_lines'?",
        "docs/.planning/phases/01-basics/01-01-PLAN.md:24: must_haves.key_links[1].pattern: invalid regular expression '([': unterminated character set at position 1",
    ]


def test_broken_yaml_is_reported_with_its_line(tmp_path):
    plan = PLAN.replace("  truths:\n", "  truths: [\n", 1)
    assert problems(make(tmp_path, plan=plan)) == [
        "docs/.planning/phases/01-basics/01-01-PLAN.md:7: frontmatter is not valid YAML: "
        "did not find expected node content (while parsing a flow node)"
    ]


def test_a_mapping_no_plan_uses_is_an_error(tmp_path):
    config = CONFIG + MAPPING.replace("the lag   metric", "the lag metric is not")
    assert problems(make(tmp_path, config=config)) == [
        ".coursecheck.toml:13: planning.truth[0].text: no plan has the truth 'the lag metric is not is named in the intro' "
        "(compared without case and extra spaces)"
    ]


def test_planning_settings_are_validated(tmp_path):
    config = CONFIG.replace('root = "docs"', 'root = "docs"\nrequirement-patern = "x"') + MAPPING.replace(
        'id = "lag-named"', 'id = "lag-named"\nmin-ocurrences = 2'
    )
    assert problems(make(tmp_path, config=config)) == [
        ".coursecheck.toml:11: planning.requirement-patern: unknown key; did you mean 'requirement-pattern'? "
        "(known: root, plans, requirements, requirement-pattern, requirements-file, human-checkpoints, truth, artifact)",
        ".coursecheck.toml:17: planning.truth[0].min-ocurrences: unknown key; did you mean 'min-occurrences'? "
        "(known: id, term, pattern, heading, files, scope, min-occurrences, max-occurrences, min-files, "
        "case-sensitive, inflect)",
    ]


def test_no_plan_found_is_an_error(tmp_path):
    config = CONFIG.replace('root = "docs"', 'root = "elsewhere"')
    (message,) = problems(make(tmp_path, config=config))
    assert message.startswith(".coursecheck.toml:9: planning: no plan file matches .planning/phases/*/*-PLAN.md under ")


def test_without_a_planning_table_the_plugin_does_nothing(tmp_path):
    config = CONFIG.split("[planning]")[0]
    result = run(make(tmp_path, config=config))
    assert result.extra.get("verdicts", []) == []
