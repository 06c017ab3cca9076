"""coursecheck-planning: GSD plans' must-haves become coursecheck verdicts, read as GSD defines
them. Every semantic rule has a fixture that holds and one that does not (project.py: our
own small GSD project), and findings are asserted with their rule id, file, line and column."""

from __future__ import annotations

import pytest
from project import (
    ALERTS,
    CONFIG,
    GAUGE,
    INTRO,
    MORE,
    PLAN_BASICS,
    PLAN_EXTRA,
    PLAN_LAB,
    ROADMAP,
    line_of,
    make,
    run,
    verdicts,
)

from coursecheck.config import ConfigError
from coursecheck.model import FAILED, NEEDS_HUMAN, VERIFIED

BASICS = ".planning/phases/01-basics/01-01-PLAN.md"
LAB = ".planning/phases/01-basics/01-02-PLAN.md"
EXTRA = ".planning/phases/02-extra/02-01-PLAN.md"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def found(result, *prefixes: str) -> list[tuple[str, str, int, int]]:
    return [
        (f.rule_id, f.path, f.span.line, f.span.column)
        for f in result.active
        if f.rule_id.startswith(prefixes or ("musthave/", "planning/"))
    ]


def test_the_project_as_written_holds(tmp_path):
    result = run(make(tmp_path))
    v = verdicts(result)
    statuses = {k: x.status for k, x in v.items() if k[0] in ("artifact", "key-link", "requirement")}
    assert set(statuses.values()) == {VERIFIED}
    assert len(statuses) == 15
    # The only finding is the note on how the removal link was read.
    assert found(result) == [("planning/plan-reading", EXTRA, line_of(PLAN_EXTRA, 'pattern: "Spinner"'), 1)]


# -- artifacts ------------------------------------------------------------------------------


def test_artifact_contains_is_literal_and_its_absence_is_a_finding_at_the_file(tmp_path):
    plan = PLAN_BASICS.replace('contains: "MilliSecondsBehindSource"', 'contains: "millisecondsbehindsource"')
    result = run(make(tmp_path, {BASICS: plan}))
    intro = verdicts(result)[("artifact", "content/01-basics/01-intro.md")]
    assert intro.status == FAILED
    # The identifier in another case does not count; the evidence says where it is.
    assert intro.evidence == (
        "lacks 'millisecondsbehindsource' ('MilliSecondsBehindSource' 1× in another case), 9 lines, 0 Mermaid diagrams"
    )
    assert ("musthave/artifact", "content/01-basics/01-intro.md", 1, 1) in found(result)
    # BAS-01 is named in the task that lists the intro: blocked by it.
    assert verdicts(result)[("requirement", "BAS-01")].status == FAILED


def test_a_prose_phrase_in_a_lesson_matches_ignoring_case(tmp_path):
    plan = PLAN_BASICS.replace('contains: ["5s", "2m"]', 'contains: ["outbox pattern"]').replace(
        'path: "content/01-basics/02-alerts.md"', 'path: "content/01-basics/01-intro.md"'
    )
    v = verdicts(run(make(tmp_path, {BASICS: plan})))[("artifact", "content/01-basics/01-intro.md")]
    assert v.status == VERIFIED
    assert "'outbox pattern' (1×, ignoring case)" in v.evidence
    absent = plan.replace('["outbox pattern"]', '["inbox pattern"]')
    v = verdicts(run(make(tmp_path, {BASICS: absent})))[("artifact", "content/01-basics/01-intro.md")]
    assert (v.status, v.evidence.split(",")[0]) == (FAILED, "lacks 'inbox pattern'")


def test_a_regex_written_in_contains_is_read_as_one_with_a_note(tmp_path):
    plan = PLAN_BASICS.replace('contains: ["5s", "2m"]', 'contains: ["curl.*8083/connectors"]').replace(
        'path: "content/01-basics/02-alerts.md"', 'path: "content/01-basics/01-intro.md"'
    )
    result = run(make(tmp_path, {BASICS: plan}))
    v = verdicts(result)[("artifact", "content/01-basics/01-intro.md")]
    assert v.status == VERIFIED
    assert "'curl.*8083/connectors' (1×, as a regular expression, on 1 line)" in v.evidence
    line = line_of(plan, 'contains: ["curl')
    assert ("planning/plan-reading", BASICS, line, 1) in found(result)
    note = next(f for f in result.active if f.rule_id == "planning/plan-reading" and f.span.line == line)
    assert note.level == "note"
    no_match = plan.replace("curl.*8083", "wget.*8083")
    v = verdicts(run(make(tmp_path, {BASICS: no_match})))[("artifact", "content/01-basics/01-intro.md")]
    assert v.status == FAILED


def test_min_lines_counts_lines_as_wc_l(tmp_path):
    text = INTRO.rstrip("\n")  # no final newline: wc -l says 8, the last line still counts
    plan = PLAN_BASICS.replace("min_lines: 5", "min_lines: 9")
    v = verdicts(run(make(tmp_path, {"content/01-basics/01-intro.md": text, BASICS: plan})))
    assert v[("artifact", "content/01-basics/01-intro.md")].measures["lines"] == 9
    plan = PLAN_BASICS.replace("min_lines: 5", "min_lines: 10")
    v = verdicts(run(make(tmp_path, {BASICS: plan})))[("artifact", "content/01-basics/01-intro.md")]
    assert (v.status, v.evidence.split(",")[0]) == (FAILED, "9 lines (need ≥ 10)")


def test_exports_are_declarations_followed_through_barrels(tmp_path):
    v = verdicts(run(make(tmp_path)))
    assert v[("artifact", "src/widgets/Gauge.tsx")].evidence == "7 lines, exports Gauge, Dial"
    assert v[("artifact", "src/widgets/index.ts")].evidence == (
        "2 lines, exports Gauge, Box (re-exported from src/widgets/Gauge.tsx)"
    )
    # A name that only occurs (an import, a call) is not exported.
    gauge = GAUGE.replace("export const Dial", "const Dial")
    result = run(make(tmp_path, {"src/widgets/Gauge.tsx": gauge}))
    v = verdicts(result)[("artifact", "src/widgets/Gauge.tsx")]
    assert (v.status, v.evidence) == (FAILED, "does not export Dial, 7 lines")
    assert ("musthave/artifact", "src/widgets/Gauge.tsx", 1, 1) in found(result)


def test_exports_star_and_values_that_are_not_names(tmp_path):
    plan = PLAN_EXTRA.replace("exports: [Gauge, Box]", 'exports: ["*"]').replace(
        "exports: [Gauge, Dial]", 'exports: ["Gauge()"]'
    )
    result = run(make(tmp_path, {EXTRA: plan}))
    v = verdicts(result)
    assert v[("artifact", "src/widgets/index.ts")].status == VERIFIED  # export * from './Gauge'
    assert v[("artifact", "src/widgets/Gauge.tsx")].evidence == "7 lines, exports Gauge"
    assert ("planning/plan-reading", EXTRA, line_of(plan, 'exports: ["*"]'), 1) in found(result)
    assert ("planning/plan-reading", EXTRA, line_of(plan, 'exports: ["Gauge()"]'), 1) in found(result)
    not_barrel = run(make(tmp_path, {EXTRA: plan, "src/widgets/index.ts": "export { Gauge } from './Gauge';\n"}))
    assert verdicts(not_barrel)[("artifact", "src/widgets/index.ts")].status == FAILED


def test_a_missing_artifact_is_reported_at_the_plan_line_with_a_did_you_mean(tmp_path):
    plan = PLAN_LAB.replace("path: lab/compose.yml", "path: lab/compose.yaml")
    result = run(make(tmp_path, {LAB: plan}))
    v = verdicts(result)[("artifact", "lab/compose.yaml")]
    assert (v.status, v.evidence) == (FAILED, "lab/compose.yaml: no such file; did you mean 'lab/compose.yml'?")
    assert ("musthave/artifact", LAB, line_of(plan, "- path: lab/compose.yaml"), 1) in found(result)


def test_a_folder_artifact_is_its_files_together(tmp_path):
    plan = PLAN_LAB.replace("path: lab/compose.yml", "path: lab/").replace('contains: "services"', 'contains: "FROM"')
    v = verdicts(run(make(tmp_path, {LAB: plan})))[("artifact", "lab/")]
    assert (v.status, v.evidence) == (VERIFIED, "folder of 2 files, 7 lines in all, 'FROM' in 1 of 2 files (1×)")
    absent = plan.replace('contains: "FROM"', 'contains: "ENTRYPOINT"')
    v = verdicts(run(make(tmp_path, {LAB: absent})))[("artifact", "lab/")]
    assert (v.status, v.evidence.split(",")[0]) == (FAILED, "'ENTRYPOINT' in none of its 2 files")


def test_a_glob_artifact_holds_when_every_file_it_matches_holds(tmp_path):
    other = "---\ntitle: Other\n---\n\n# Other\n"
    result = run(make(tmp_path, {"content/02-extra/02-other.mdx": other}))
    v = verdicts(result)[("artifact", "content/02-extra/*.mdx")]
    assert v.status == FAILED
    assert v.evidence.startswith("lacks 'from '../../src/widgets'' in 1 of 2 files: 02-other.mdx")
    assert ("musthave/artifact", "content/02-extra/02-other.mdx", 1, 1) in found(result)


# -- key links ------------------------------------------------------------------------------


def test_a_pattern_is_searched_in_from_then_in_to(tmp_path):
    plan = PLAN_BASICS.replace('pattern: "MilliSeconds\\\\w+"', 'pattern: "prerequisites"').replace(
        'to: "metrics reference"', 'to: "02-alerts.md"'
    )
    v = verdicts(run(make(tmp_path, {BASICS: plan})))[("key-link", "01-intro.md -> 02-alerts.md")]
    assert v.status == VERIFIED
    assert v.evidence == "/prerequisites/ not in 01-intro.md; /prerequisites/ found 1× in 02-alerts.md (line 3) (`to`)"
    assert v.measures["decided_by"] == "the pattern found in `to` (GSD: searched in from, then in to)"
    missing = plan.replace('pattern: "prerequisites"', 'pattern: "thresholds?"')
    result = run(make(tmp_path, {BASICS: missing}))
    v = verdicts(result)[("key-link", "01-intro.md -> 02-alerts.md")]
    assert (v.status, v.evidence) == (FAILED, "/thresholds?/ not found in 01-intro.md or 02-alerts.md")
    # At the from-lesson's title (it lists no prerequisites).
    assert ("musthave/key-link", "content/01-basics/01-intro.md", 2, 1) in found(result)


def test_a_to_written_as_a_path_that_does_not_exist_is_its_own_finding(tmp_path):
    plan = PLAN_BASICS.replace('to: "metrics reference"', 'to: "docs/metrics.md"')
    result = run(make(tmp_path, {BASICS: plan}))
    v = verdicts(result)[("key-link", "01-intro.md -> docs/metrics.md")]
    assert v.status == VERIFIED  # the pattern is in from: the link holds
    assert ("musthave/missing-path", BASICS, line_of(plan, 'to: "docs/metrics.md"'), 1) in found(result)
    # A description is no path: no finding.
    assert [f for f in found(run(make(tmp_path))) if f[0] == "musthave/missing-path"] == []


def test_a_removal_link_holds_when_the_pattern_occurs_nowhere(tmp_path):
    v = verdicts(run(make(tmp_path)))[("key-link", "content/02-extra/*.mdx -> Spinner component")]
    assert (v.status, v.evidence) == (VERIFIED, "/Spinner/ occurs in none of content/02-extra/*.mdx")
    more = MORE.replace("<Gauge />", "<Gauge />\n<Spinner />")
    result = run(make(tmp_path, {"content/02-extra/01-more.mdx": more}))
    v = verdicts(result)[("key-link", "content/02-extra/*.mdx -> Spinner component")]
    assert (v.status, v.evidence) == (
        FAILED,
        f"/Spinner/ found 1× in 01-more.mdx (line {line_of(more, '<Spinner')}) (it must occur nowhere)",
    )
    # At the culprit lesson's title (it lists no prerequisites).
    assert ("musthave/key-link", "content/02-extra/01-more.mdx", 2, 1) in found(result)


def test_a_link_between_lessons_without_pattern_is_a_prerequisite_or_link(tmp_path):
    v = verdicts(run(make(tmp_path)))[("key-link", "02-alerts.md -> 01-intro.md")]
    assert v.evidence == "02-alerts.md lists basics/01-intro as a prerequisite (line 3)"
    alone = ALERTS.replace("prerequisites: [basics/01-intro]\n", "")
    v = verdicts(run(make(tmp_path, {"content/01-basics/02-alerts.md": alone})))[
        ("key-link", "02-alerts.md -> 01-intro.md")
    ]
    assert (v.status, v.evidence) == (
        FAILED,
        "no prerequisite, link or mention between 02-alerts.md and 01-intro.md",
    )


def test_without_pattern_a_file_must_name_or_link_its_target(tmp_path):
    plan = PLAN_LAB.replace('      pattern: "build:.*app"\n', "").replace(
        "to: lab/app/Dockerfile", "to: lab/conf/app.ini"
    )
    files = {LAB: plan, "lab/conf/app.ini": "[app]\n"}
    v = verdicts(run(make(tmp_path, files)))[("key-link", "lab/compose.yml -> lab/conf/app.ini")]
    assert (v.status, v.evidence) == (VERIFIED, "compose.yml names ./conf/app.ini (line 6)")
    unnamed = plan.replace("to: lab/conf/app.ini", "to: lab/app/Dockerfile")
    v = verdicts(run(make(tmp_path, {LAB: unnamed})))[("key-link", "lab/compose.yml -> lab/app/Dockerfile")]
    assert (v.status, v.evidence) == (FAILED, "compose.yml neither links to nor names lab/app/Dockerfile")
    prose = plan.replace("to: lab/conf/app.ini", "to: the app image")
    v = verdicts(run(make(tmp_path, {LAB: prose})))[("key-link", "lab/compose.yml -> the app image")]
    assert v.status == NEEDS_HUMAN  # a description and no pattern: nothing to measure


def test_a_one_line_pattern_finds_a_nested_yaml_mapping(tmp_path):
    v = verdicts(run(make(tmp_path)))[("key-link", "lab/compose.yml -> lab/app/Dockerfile")]
    assert v.evidence == "/build:.*app/ found 1× in compose.yml (line 3) in a YAML block read as one line"
    # A pattern spread over unrelated keys does not.
    plan = PLAN_LAB.replace('pattern: "build:.*app"', 'pattern: "context:.*app.ini"')
    v = verdicts(run(make(tmp_path, {LAB: plan})))[("key-link", "lab/compose.yml -> lab/app/Dockerfile")]
    assert v.status == FAILED


def test_a_glob_from_holds_when_every_file_holds(tmp_path):
    other = "---\ntitle: Other\n---\n\n# Other\n"
    v = verdicts(run(make(tmp_path, {"content/02-extra/02-other.mdx": other})))[
        ("key-link", "content/02-extra/*.mdx -> src/widgets")
    ]
    assert (v.status, v.evidence) == (FAILED, "/import .* from .*widgets/ not found in 1 of 2 files (02-other.mdx)")


# -- truths ---------------------------------------------------------------------------------


def test_a_truth_is_measured_by_the_names_it_states_and_never_passed(tmp_path):
    v = verdicts(run(make(tmp_path)))
    lag = v[("truth", "01-01-truth-1")]
    assert lag.status == NEEDS_HUMAN and lag.measures["state"] == "names found"
    assert lag.evidence == (
        "`MilliSecondsBehindSource`: 2 occurrences across 2 files, most in 01-intro.md (1); "
        "2 in the course (2 files); the meaning is a person's to confirm"
    )
    enjoy = v[("human-check", "01-01-truth-2")]  # names nothing countable: a person's
    assert enjoy.measures["truth"] is True


def test_a_truth_naming_what_occurs_nowhere_is_a_gap(tmp_path):
    plan = PLAN_BASICS.replace(
        '"MilliSecondsBehindSource is the lag metric"', '"MilliSecondsSinceLastEvent is the lag metric"'
    )
    result = run(make(tmp_path, {BASICS: plan}))
    v = verdicts(result)[("truth", "01-01-truth-1")]
    assert (v.status, v.evidence) == (
        FAILED,
        "`MilliSecondsSinceLastEvent` occurs nowhere (0 in 3 files of the scope, 0 in the course)",
    )
    assert ("musthave/truth", BASICS, line_of(plan, "MilliSecondsSinceLastEvent"), 1) in found(result)
    # A truth that says something is gone: its name occurring nowhere is no gap.
    assert verdicts(run(make(tmp_path)))[("truth", "02-01-truth-1")].status == NEEDS_HUMAN


def test_a_mapped_truth_is_checked_as_mapped(tmp_path):
    config = (
        CONFIG
        + '\n[[planning.truth]]\ntext = "millisecondsbehindsource is the  lag metric"\nterm = "MilliSecondsBehindSource"\nmin-files = 2\n'
    )
    v = verdicts(run(make(tmp_path, config=config)))[("truth", "01-01-truth-1")]
    assert v.status == VERIFIED
    config = config.replace("min-files = 2", "min-files = 3")
    assert verdicts(run(make(tmp_path, config=config)))[("truth", "01-01-truth-1")].status == FAILED


# -- requirements ---------------------------------------------------------------------------


def test_requirements_from_frontmatter_tasks_and_text(tmp_path):
    v = verdicts(run(make(tmp_path)))
    # BAS-01 is named in the task that lists the intro: that artifact only.
    assert [p["ref"] for p in v[("requirement", "BAS-01")].measures["satisfied_by"]] == [
        "artifact:content/01-basics/01-intro.md"
    ]
    # BAS-02: in the frontmatter only: every artifact of the plan.
    assert len(v[("requirement", "BAS-02")].measures["satisfied_by"]) == 2
    # BAS-03a (a letter after the number) from the lab plan's text.
    assert v[("requirement", "BAS-03a")].text == "A lab to try it"


def test_a_requirement_roadmap_gives_the_phase_and_no_plan_names_is_untied(tmp_path):
    plan = PLAN_LAB.replace("A lab for BAS-03a.", "A lab.")
    v = verdicts(run(make(tmp_path, {LAB: plan})))[("requirement", "BAS-03a")]
    assert (v.status, v.evidence) == (VERIFIED, "no plan names it; all 6 must-haves of its phase hold")
    broken = PLAN_BASICS.replace("min_lines: 5", "min_lines: 50")
    v = verdicts(run(make(tmp_path, {LAB: plan, BASICS: broken})))[("requirement", "BAS-03a")]
    assert v.status == NEEDS_HUMAN  # which failure it depends on, no plan says
    assert v.evidence == (
        "no plan names it; 1 of the phase's 6 must-haves failed (01-intro.md) and no plan says which of them it needs"
    )


def test_an_id_roadmap_gives_another_phase_is_a_mention(tmp_path):
    plan = PLAN_LAB.replace("A lab for BAS-03a.", "A lab for BAS-03a, shown later in EXT-01.")
    result = run(make(tmp_path, {LAB: plan}))
    ext = [v for v in result.extra["verdicts"] if v.kind == "requirement" and v.id == "EXT-01"]
    assert [v.phase for v in ext] == ["02-extra"]
    assert ("planning/plan-reading", LAB, line_of(plan, "EXT-01"), 1) in found(result)


# -- checkpoints, plans that cannot be read -------------------------------------------------


def test_a_checkpoint_keeps_its_code(tmp_path):
    v = verdicts(run(make(tmp_path)))[("human-check", "01-01-checkpoint-2")]
    assert v.measures["title"] == "The alert fires"
    assert v.measures["test"] == (
        "Start the lab, then:\n```bash\ncurl -s http://localhost:9090/api/v1/rules | jq '.data.groups | length'\n"
        "```\nThe count is 1."
    )
    assert v.measures["expected"] == "An alert rule on the lag"


def test_a_plan_that_does_not_parse_is_a_finding_and_the_rest_is_read(tmp_path):
    plan = PLAN_LAB.replace("  truths:\n", "  truths: [\n", 1)
    result = run(make(tmp_path, {LAB: plan}))
    broken = [f for f in result.active if f.rule_id == "planning/plan-reading"]
    # The line where the YAML parser noticed the open list.
    assert [(f.path, f.span.line, f.level) for f in broken if f.path == LAB] == [
        (LAB, line_of(plan, '- "The lab builds'), "error")
    ]
    assert ("artifact", "content/01-basics/01-intro.md") in verdicts(result)


def test_files_modified_naming_nothing_is_a_warning(tmp_path):
    plan = PLAN_LAB.replace(
        "files_modified: [lab/compose.yml]", "files_modified: [lab/compose.yml, lab/.env, lab/*.ini]"
    )
    result = run(make(tmp_path, {LAB: plan}))
    notes = sorted(
        (f.span.line, f.message) for f in result.active if f.rule_id == "planning/plan-reading" and f.path == LAB
    )
    line = line_of(plan, "files_modified:")
    assert notes == [
        (line, "files_modified names 'lab/*.ini', a glob that matches nothing in the repository"),
        (line, "files_modified names 'lab/.env', which is not in the repository"),
    ]
    assert [f for f in run(make(tmp_path)).active if f.rule_id == "planning/plan-reading" and f.path == LAB] == []


def test_unknown_keys_and_wrong_types_in_a_plan_are_warnings(tmp_path):
    plan = PLAN_BASICS.replace("      min_lines: 5", "      min_line: 5")
    result = run(make(tmp_path, {BASICS: plan}))
    (note,) = [f for f in result.active if f.rule_id == "planning/plan-reading" and f.path == BASICS]
    assert (note.span.line, note.level, note.message) == (
        line_of(plan, "min_line: 5"),
        "warning",
        "must_haves.artifacts[0].min_line: unknown key; did you mean 'min_lines'?; ignored",
    )


# -- phases ---------------------------------------------------------------------------------


def test_phases_have_their_roadmap_name_goal_and_scope(tmp_path):
    phases = {p.id: p for p in run(make(tmp_path)).phases}
    basics = phases["01-basics"]
    assert (basics.title, basics.goal, basics.goal_source) == (
        "Phase 1: Basics",
        "Learners read the lag metric and set an alert on it",
        "ROADMAP.md",
    )
    assert basics.scope == ["content/01-basics/01-intro.md", "content/01-basics/02-alerts.md", "lab/compose.yml"]
    assert basics.folder == ".planning/phases/01-basics"
    without = run(make(tmp_path, {".planning/ROADMAP.md": ROADMAP.replace("### Phase 2: Extra material", "")}))
    extra = {p.id: p for p in without.phases}["02-extra"]
    assert (extra.title, extra.goal, extra.goal_source) == (
        "Phase 2",
        "The gauge widget, used in the extra lesson (EXT-01).",
        "the plans' objectives",
    )


# -- the [planning] table: the user's own config --------------------------------------------


def problems(root):
    with pytest.raises(ConfigError) as caught:
        run(root)
    return [str(p) for p in caught.value.problems]


def test_planning_settings_are_validated(tmp_path):
    config = CONFIG + 'requirement-patern = "x"\nroot = "../elsewhere"\n'
    assert problems(make(tmp_path, config=config)) == [
        ".coursecheck.toml:9: planning.requirement-patern: unknown key; did you mean 'requirement-pattern'? "
        "(known: root, plans, requirements, requirement-pattern, requirements-file, roadmap-file, "
        "human-checkpoints, truth-names, truth, artifact)",
        ".coursecheck.toml:10: planning.root: '../elsewhere' leads outside the project root; only files inside it are read",
    ]


def test_a_mapping_no_plan_uses_is_an_error(tmp_path):
    config = CONFIG + '\n[[planning.truth]]\ntext = "a truth no plan states"\nterm = "x"\n'
    assert problems(make(tmp_path, config=config)) == [
        ".coursecheck.toml:10: planning.truth.0.text: no plan has the truth 'a truth no plan states' "
        "(compared without case and extra spaces)"
    ]


def test_without_a_planning_table_the_plugin_does_nothing(tmp_path):
    result = run(make(tmp_path, config=CONFIG.split("[planning]")[0]))
    assert result.extra.get("verdicts", []) == []
    assert result.phases == []
