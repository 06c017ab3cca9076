"""Must-haves: truths, artifacts, key links, requirements, human checks — verdicts with exact
evidence, findings for the failed ones at the place that matters, config errors with lines."""

from __future__ import annotations

import textwrap

from conftest import DEFAULT_CONFIG, check, where, write_files

from coursecheck.model import FAILED, NEEDS_HUMAN, VERIFIED

INTRO = """---
title: "Введение"
description: "Что такое образ"
prerequisites: []
---

# Введение

Образ (image) — это шаблон. Образы хранятся в реестре.
Метрика `debezium_metrics_MilliSecondsBehindSource`, то есть MilliSecondsBehindSource.

```mermaid
flowchart LR
  A --> B
```
"""

BUILD = """---
title: "Сборка"
prerequisites: ["m/01-intro"]
---

## Кэш сборки

Каждый образ собирается из слоёв; MilliSecondsBehindSource растёт при долгой сборке.

<Mermaid chart={`flowchart LR
  X --> Y`} />

```bash
docker build -t app .
```

Конфигурация лежит в `labs/prometheus.yml`.
"""

DASHBOARD = """{
  "templating": {"list": [{"name": "connector"}]},
  "panels": [
    {"title": "Lag", "targets": [{"expr": "debezium_metrics_MilliSecondsBehindSource / 1000"}]},
    {"title": "Rows", "type": "row"}
  ]
}
"""

FILES = {
    "content/01-m/01-intro.md": INTRO,
    "content/01-m/02-build.mdx": BUILD,
    "data/dash.json": DASHBOARD,
    "data/broken.json": '{\n  "a": 1,\n  "b": \n}\n',
    "data/lab.yaml": "services:\n  - name: prometheus\n    port: 9090\n",
    "labs/prometheus.yml": "scrape_configs: []\n",
}


def run(tmp_path, musthaves: str, files: dict[str, str] | None = None):
    write_files(tmp_path, files or FILES)
    config = textwrap.dedent(DEFAULT_CONFIG) + textwrap.dedent(musthaves)
    (tmp_path / ".coursecheck.toml").write_text(config, encoding="utf-8")
    result = check(tmp_path, select=["musthave"])
    return result, {v.id: v for v in result.extra["verdicts"]}, config


def line_of(text: str, needle: str, nth: int = 0) -> int:
    """1-based line of the ``nth`` line containing ``needle``."""
    return [i for i, line in enumerate(text.splitlines(), 1) if needle in line][nth]


# -- truths -----------------------------------------------------------------------------------


def test_term_truth_verified_with_counts_files_and_lines(tmp_path):
    result, verdicts, _ = run(
        tmp_path,
        """
        [[truth]]
        id = "lag"
        text = "MilliSecondsBehindSource is the lag metric"
        term = "MilliSecondsBehindSource"
        min-occurrences = 3
        min-files = 2
        """,
    )
    v = verdicts["lag"]
    assert (v.kind, v.status, v.text) == ("truth", VERIFIED, "MilliSecondsBehindSource is the lag metric")
    # The identifier debezium_metrics_MilliSecondsBehindSource counts (underscore separates words).
    assert (
        v.evidence == "3 occurrences across 2 lessons; most in 01-intro.md (2); first at 01-intro.md:10, 02-build.mdx:8"
    )
    assert v.measures["occurrences"] == 3
    assert v.measures["files"] == 2
    assert v.measures["per_file"] == {"content/01-m/01-intro.md": 2, "content/01-m/02-build.mdx": 1}
    assert v.measures["lines"] == {"content/01-m/01-intro.md": [10, 10], "content/01-m/02-build.mdx": [8]}
    assert v.measures["scope"] == "all"
    assert [(p, s.line, s.column) for p, s in v.locations] == [
        ("content/01-m/01-intro.md", 10, 27),
        ("content/01-m/02-build.mdx", 8, 35),
    ]
    assert where(result.active) == []


def test_term_truth_failed_is_reported_at_its_config_entry(tmp_path):
    result, verdicts, config = run(
        tmp_path,
        """
        [[truth]]
        id = "lag"
        text = "Lag metric everywhere"
        term = "MilliSecondsBehindSource"
        files = "content/01-m/*.md"
        min-occurrences = 5
        min-files = 2
        """,
    )
    v = verdicts["lag"]
    assert v.status == FAILED
    assert v.evidence == "2 occurrences in 01-intro.md (lines 10, 10) (need ≥ 5 across ≥ 2 lessons)"
    assert where(result.active) == [("musthave/truth", ".coursecheck.toml", line_of(config, "[[truth]]"), 1)]
    assert result.active[0].message == f"truth 'lag' does not hold: {v.evidence}"
    assert result.active[0].level == "error"


def test_russian_term_matches_inflected_forms_by_default(tmp_path):
    _, verdicts, _ = run(
        tmp_path,
        """
        [[truth]]
        text = "Образ"
        term = "образ"
        scope = ["prose", "heading"]
        min-occurrences = 3
        """,
    )
    v = verdicts["truth-1"]
    # "Образ", "Образы" (lesson 1) and "образ" (lesson 2); the frontmatter "образ" is out of scope.
    assert (v.status, v.measures["occurrences"], v.measures["scope"]) == (VERIFIED, 3, "prose,heading")


def test_pattern_truth_in_one_scope_and_heading_truth(tmp_path):
    result, verdicts, config = run(
        tmp_path,
        """
        [[truth]]
        id = "build-command"
        text = "The lesson shows docker build"
        pattern = 'docker build'
        files = "content/**/02-build.mdx"
        scope = "code"

        [[truth]]
        id = "cache-heading"
        text = "Build cache has its own section"
        heading = '(?i)^кэш сборки$'

        [[truth]]
        id = "layers-heading"
        text = "Layers have their own section"
        heading = 'Слои'
        """,
    )
    assert verdicts["build-command"].evidence == "1 occurrence in 02-build.mdx (line 14)"
    assert verdicts["cache-heading"].status == VERIFIED
    assert verdicts["cache-heading"].evidence == '1 heading: "Кэш сборки" at 02-build.mdx:6'
    assert verdicts["layers-heading"].status == FAILED
    assert verdicts["layers-heading"].evidence == "no heading matches /Слои/ in 2 lessons (need ≥ 1)"
    assert where(result.active) == [("musthave/truth", ".coursecheck.toml", line_of(config, "[[truth]]", 2), 1)]


def test_max_occurrences_turns_a_truth_into_a_ban(tmp_path):
    _, verdicts, _ = run(
        tmp_path,
        """
        [[truth]]
        id = "no-latest"
        text = "No image uses the latest tag"
        pattern = ':latest'
        max-occurrences = 0

        [[truth]]
        id = "no-registry-word"
        text = "The word реестр is not used"
        term = "реестр"
        max-occurrences = 0
        """,
    )
    assert (verdicts["no-latest"].status, verdicts["no-latest"].evidence) == (
        VERIFIED,
        "no occurrence of /:latest/ in 2 lessons",
    )
    assert verdicts["no-registry-word"].status == FAILED
    assert verdicts["no-registry-word"].evidence == "1 occurrence in 01-intro.md (line 9) (need ≤ 0)"


# -- artifacts --------------------------------------------------------------------------------


def test_lesson_artifact_verified_with_lines_diagrams_frontmatter_contents(tmp_path):
    result, verdicts, _ = run(
        tmp_path,
        """
        [[artifact]]
        path = "content/01-m/02-build.mdx"
        provides = "The build cache"
        min-lines = 10
        min-mermaid = 1
        frontmatter = ["title", "prerequisites"]
        contains = ["docker build"]
        patterns = ['слоё?в']
        """,
    )
    v = verdicts["content/01-m/02-build.mdx"]
    assert (v.kind, v.status, v.text) == ("artifact", VERIFIED, "The build cache")
    assert v.evidence == (
        "17 lines, 1 Mermaid diagram, frontmatter valid (title, prerequisites), contains 'docker build' (1×), "
        "/слоё?в/ 1× (first at line 8)"
    )
    assert v.measures == {
        "exists": True,
        "path": "content/01-m/02-build.mdx",
        "lines": 17,
        "min_lines": 10,
        "mermaid": 1,
        "frontmatter_valid": True,
        "contains": {"docker build": 1},
        "patterns": {"слоё?в": 1},
        "kind": "file",
        "decided_by": "the file's own checks",
    }
    assert where(result.active) == []


def test_lesson_artifact_failed_is_reported_at_the_file(tmp_path):
    result, verdicts, config = run(
        tmp_path,
        """
        [[artifact]]
        path = "content/01-m/02-build.mdx"
        provides = "The build cache"
        min-lines = 100
        min-mermaid = 2
        frontmatter = ["title", "description"]
        contains = ["docker push"]
        """,
    )
    v = verdicts["content/01-m/02-build.mdx"]
    assert v.status == FAILED
    assert v.evidence == (
        "17 lines (need ≥ 100), 1 Mermaid diagram (need ≥ 2), frontmatter lacks description, lacks 'docker push'"
    )
    assert where(result.active) == [("musthave/artifact", "content/01-m/02-build.mdx", 1, 1)]
    finding = result.active[0]
    assert finding.message == (
        "[[artifact]] must-have of this file (The build cache) does not hold: 17 lines (need ≥ 100), "
        "1 Mermaid diagram (need ≥ 2), frontmatter lacks description, lacks 'docker push'"
    )
    assert [(p, s.line) for p, s, _ in finding.related] == [(".coursecheck.toml", line_of(config, "[[artifact]]"))]


def test_json_artifact_with_jmespath_assertions(tmp_path):
    result, verdicts, _ = run(
        tmp_path,
        """
        [[artifact]]
        id = "dashboard"
        path = "data/dash.json"
        json = ["templating.list[?name=='connector'].name",
                "panels[?targets[?contains(expr || '', 'MilliSecondsBehindSource')]].title"]

        [[artifact]]
        id = "dashboard-gaps"
        path = "data/dash.json"
        json = ["templating.list[?name=='table'].name", "length(panels) > `5`", "length(panels)"]
        """,
    )
    assert verdicts["dashboard"].status == VERIFIED
    assert verdicts["dashboard"].evidence == (
        "7 lines, valid JSON, templating.list[?name=='connector'].name → [\"connector\"], "
        "panels[?targets[?contains(expr || '', 'MilliSecondsBehindSource')]].title → [\"Lag\"]"
    )
    assert verdicts["dashboard"].measures["json_valid"] is True
    gaps = verdicts["dashboard-gaps"]
    assert gaps.status == FAILED
    # JMESPath truth: [] and false are false; every number (even 0) is true.
    assert gaps.evidence == (
        "templating.list[?name=='table'].name → [] (false), length(panels) > `5` → false (false), "
        "7 lines, valid JSON, length(panels) → 2"
    )
    assert where(result.active) == [("musthave/artifact", "data/dash.json", 1, 1)]


def test_invalid_json_artifact_is_reported_at_the_error_line(tmp_path):
    result, verdicts, _ = run(
        tmp_path,
        """
        [[artifact]]
        path = "data/broken.json"
        """,
    )
    v = verdicts["data/broken.json"]
    assert v.status == FAILED
    assert v.evidence == "invalid JSON: Expecting value (line 4, column 1), 4 lines"
    assert v.measures["json_valid"] is False
    assert where(result.active) == [("musthave/artifact", "data/broken.json", 4, 1)]


def test_yaml_artifact_and_files_outside_the_course_globs(tmp_path):
    result, verdicts, _ = run(
        tmp_path,
        """
        [[artifact]]
        path = "data/lab.yaml"
        yaml = ["services[?name=='prometheus'].port | [0]"]

        [[artifact]]
        path = "labs/prometheus.yml"
        contains = ["scrape_configs"]
        """,
    )
    assert verdicts["data/lab.yaml"].evidence == "3 lines, valid YAML, services[?name=='prometheus'].port | [0] → 9090"
    assert verdicts["labs/prometheus.yml"].evidence == "1 line, contains 'scrape_configs' (1×), valid YAML"
    assert where(result.active) == []


def test_missing_artifact_is_reported_at_its_config_entry(tmp_path):
    result, verdicts, config = run(
        tmp_path,
        """
        [[artifact]]
        path = "content/01-m/03-missing.mdx"
        min-lines = 10
        """,
    )
    v = verdicts["content/01-m/03-missing.mdx"]
    assert (v.status, v.evidence, v.measures) == (
        FAILED,
        "content/01-m/03-missing.mdx: no such file",
        {
            "exists": False,
            "path": "content/01-m/03-missing.mdx",
            "decided_by": "the path names nothing in the repository",
        },
    )
    assert where(result.active) == [("musthave/artifact", ".coursecheck.toml", line_of(config, "[[artifact]]"), 1)]


# -- key links --------------------------------------------------------------------------------


def test_key_links_verified_by_edge_pattern_link_and_folder(tmp_path):
    build = BUILD.replace("Конфигурация лежит", "Конфигурация лежит в [файле](../../labs/prometheus.yml) и")
    result, verdicts, _ = run(
        tmp_path,
        """
        [[key-link]]
        id = "intro-to-build"
        from = "m/01-intro"
        to = "m/02-build"
        via = "Images, then how they are built"

        [[key-link]]
        id = "scrape"
        from = "m/02-build"
        to = "labs/prometheus.yml"
        via = "Scrape configuration"
        verify = ["pattern", "link"]
        pattern = 'labs/prometheus\\.yml'

        [[key-link]]
        id = "dashboard-folder"
        from = "data/dash.json"
        to = "data/"
        via = "Provisioned from the data folder"
        """,
        {**FILES, "content/01-m/02-build.mdx": build},
    )
    assert verdicts["intro-to-build"].status == VERIFIED
    assert verdicts["intro-to-build"].text == "Images, then how they are built"
    assert verdicts["intro-to-build"].evidence == "02-build.mdx lists m/01-intro as a prerequisite (line 3)"
    assert verdicts["intro-to-build"].measures["verify"] == ["edge"]
    assert verdicts["scrape"].evidence == (
        "/labs/prometheus\\.yml/ found 2× in 02-build.mdx (line 17); "
        "02-build.mdx links to ../../labs/prometheus.yml (line 17)"
    )
    assert verdicts["dashboard-folder"].evidence == "dash.json is in data/"
    assert where(result.active) == []


def test_failed_key_link_is_reported_at_the_from_lesson(tmp_path):
    intro = INTRO.replace("prerequisites: []\n", "")
    result, verdicts, config = run(
        tmp_path,
        """
        [[key-link]]
        id = "build-to-intro"
        from = "m/02-build"
        to = "m/01-intro"
        via = "Back to basics"
        verify = "link"

        [[key-link]]
        id = "ghost"
        from = "m/01-intro"
        to = "m/09-ghost"
        """,
        {**FILES, "content/01-m/01-intro.md": intro},
    )
    assert verdicts["build-to-intro"].status == FAILED
    assert verdicts["build-to-intro"].evidence == "02-build.mdx has no link to m/01-intro"
    assert verdicts["ghost"].evidence == "to 'm/09-ghost' is no lesson, file or folder"
    assert where(result.active) == [
        ("musthave/key-link", ".coursecheck.toml", line_of(config, "[[key-link]]", 1), 1),
        # At the `prerequisites` key of the from-lesson: where the link or prerequisite goes.
        ("musthave/key-link", "content/01-m/02-build.mdx", 3, 1),
    ]
    assert result.active[1].message == (
        "key link 'build-to-intro' (Back to basics) does not hold: 02-build.mdx has no link to m/01-intro"
    )


# -- requirements and human checks ------------------------------------------------------------

REQUIREMENTS = """
[[truth]]
id = "lag"
text = "Lag metric"
term = "MilliSecondsBehindSource"

[[artifact]]
path = "content/01-m/02-build.mdx"
min-lines = 10

[[artifact]]
id = "dash"
path = "data/dash.json"
json = ["panels[?type=='graph']"]

[[human-check]]
id = "import"
test = "Import the dashboard into Grafana"
expected = "All panels load"
why = "Needs a running Grafana"

[[requirement]]
id = "R-1"
text = "Lag is explained"
satisfied-by = ["truth:lag", "artifact:content/01-m/02-build.mdx"]

[[requirement]]
id = "R-2"
text = "Dashboard"
satisfied-by = ["artifact:dash", "truth:lag"]

[[requirement]]
id = "R-3"
text = "Dashboard works"
satisfied-by = ["human-check:import", "truth:lag"]
"""


def test_requirements_satisfied_blocked_and_waiting_for_a_person(tmp_path):
    result, verdicts, config = run(tmp_path, REQUIREMENTS)
    r1, r2, r3 = verdicts["R-1"], verdicts["R-2"], verdicts["R-3"]
    assert (r1.status, r1.measures["state"], r1.evidence) == (
        VERIFIED,
        "SATISFIED",
        "truth lag + 02-build.mdx (17 lines)",
    )
    assert (r2.status, r2.measures["state"]) == (FAILED, "BLOCKED")
    assert r2.evidence == "blocked by artifact dash.json: panels[?type=='graph'] → [] (false), 7 lines, valid JSON"
    assert r2.measures["satisfied_by"] == [
        {"ref": "artifact:dash", "status": FAILED},
        {"ref": "truth:lag", "status": VERIFIED},
    ]
    assert (r3.status, r3.measures["state"], r3.evidence) == (
        NEEDS_HUMAN,
        "NEEDS HUMAN",
        "waits for human-check import",
    )
    human = verdicts["import"]
    assert (human.kind, human.status, human.text) == ("human-check", NEEDS_HUMAN, "Import the dashboard into Grafana")
    assert human.evidence == "expected: All panels load; why a person: Needs a running Grafana"
    # Order for reports: truths, artifacts, key links, requirements, human checks.
    kinds = [v.kind for v in result.extra["verdicts"]]
    assert kinds == ["truth", "artifact", "artifact", "requirement", "requirement", "requirement", "human-check"]
    assert where(result.active) == [
        ("musthave/requirement", ".coursecheck.toml", line_of(config, "[[requirement]]", 1), 1),
        ("musthave/artifact", "data/dash.json", 1, 1),
    ]


# -- configuration errors -----------------------------------------------------------------------


def config_errors(tmp_path, cli, musthaves: str) -> tuple[int, str, str]:
    write_files(tmp_path, FILES)
    config = textwrap.dedent(DEFAULT_CONFIG) + textwrap.dedent(musthaves)
    (tmp_path / ".coursecheck.toml").write_text(config, encoding="utf-8")
    code, _, err = cli(tmp_path)
    return code, err, config


def test_bad_jmespath_and_regex_are_config_errors_with_lines(tmp_path, cli):
    code, err, config = config_errors(
        tmp_path,
        cli,
        """
        [[artifact]]
        path = "data/dash.json"
        json = ["templating.list[?name=="]

        [[truth]]
        text = "t"
        pattern = "(unclosed"
        """,
    )
    assert code == 2
    json_line, pattern_line = line_of(config, "json ="), line_of(config, "pattern =")
    assert f".coursecheck.toml:{json_line}: artifact[0].json: invalid JMESPath expression" in err
    assert f".coursecheck.toml:{pattern_line}: truth[0].pattern: invalid regular expression '(unclosed'" in err


def test_unknown_keys_missing_fields_and_unknown_references(tmp_path, cli):
    code, err, config = config_errors(
        tmp_path,
        cli,
        """
        [[truth]]
        text = "t"
        term = "x"
        min-file = 2

        [[key-link]]
        from = "m/01-intro"
        to = "m/02-build"
        verify = "edges"

        [[requirement]]
        id = "R"
        satisfied-by = ["truth:nope", "artefact:x"]

        [[human-check]]
        expected = "something"
        """,
    )
    assert code == 2
    assert f":{line_of(config, 'min-file')}: truth[0].min-file: unknown key; did you mean 'min-files'?" in err
    assert (
        f":{line_of(config, 'verify')}: key-link[0].verify: unknown verification 'edges'; did you mean 'edge'?" in err
    )
    assert f":{line_of(config, 'satisfied-by')}: requirement[0].satisfied-by[0]: no truth with id 'nope'" in err
    assert "requirement[0].satisfied-by[1]: 'artefact:x' must be KIND:ID" in err
    assert f":{line_of(config, '[[human-check]]')}: human-check[0]: needs `test`" in err
