"""The verification report of one phase (``coursecheck report --phase ID``).

A planned project (GSD: ``.planning/phases/<phase>/``) verifies phase by phase. This report
has the structure of the report GSD's verifier writes by hand (``<NN>-VERIFICATION.md``):

* YAML frontmatter: ``phase``, ``verified``, ``status`` (GSD's rules: ``gaps_found`` when a
  must-have FAILED, else ``human_needed`` when one waits for a person, else ``passed``),
  ``score``, and ``gaps:`` in the form GSD's planner reads back (``truth``, ``status``,
  ``failure_type``, ``reason``, ``artifacts`` with ``path`` and ``issue``, ``missing``),
  ``human_verification:`` when the status is ``human_needed``;
* the title ("Phase 7: Name Verification Report"), the phase goal (ROADMAP.md, else the
  plans' objectives), the time, the status;
* Goal Achievement: Observable Truths, Required Artifacts, Key Link Verification,
  Requirements Coverage, Anti-Patterns Found (the findings in the phase's own files, and a
  count of the rest), Build Verification, Artifact Statistics, Human Verification Required;
* Summary.

Only the phase's must-haves count (those whose ``phase`` is the phase's id); the status and
score come from them, never from findings elsewhere in the course. Every number is a
measurement whose meaning the report states next to it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from coursecheck.globs import compile_glob, invalid_glob
from coursecheck.model import FAILED, LEVEL_RANK, NEEDS_HUMAN, VERIFIED, Finding, Phase, Verdict
from coursecheck.report import ReportOptions
from coursecheck.report._mdtext import code, fenced, table, text, yaml_scalar
from coursecheck.report.build import BuildRun
from coursecheck.state import BUILD, VERDICTS
from coursecheck.wording import plural_grouped as _plural

if TYPE_CHECKING:
    from coursecheck.results import Result

MEASURED_KINDS = ("truth", "artifact", "key-link", "requirement")
# Findings that restate a failed must-have (already a row of its section).
RESTATING = frozenset({"musthave/truth", "musthave/artifact", "musthave/key-link", "musthave/requirement"})
LESSON_SUFFIXES = (".md", ".mdx", ".markdown")
NAMES_FOUND = "names found"


def find_phase(phases: list[Phase], wanted: str) -> Phase | None:
    """The phase ``wanted`` names: its id (``07-module-3-production-operations``), its number
    (``7``, ``07``) or a unique prefix of its id."""
    wanted = wanted.strip()
    for phase in phases:
        if phase.id == wanted:
            return phase
    number = re.fullmatch(r"0*(\d+(?:\.\d+)*[A-Za-z]?)", wanted)
    if number:
        found = [p for p in phases if p.number and p.number.lstrip("0") == number.group(1).lstrip("0")]
        if len(found) == 1:
            return found[0]
    prefixed = [p for p in phases if p.id.startswith(wanted)]
    return prefixed[0] if len(prefixed) == 1 else None


def phase_verdicts(result: Result, phase: Phase) -> list[Verdict]:
    found = VERDICTS.get(result.extra) or []
    return [v for v in found if isinstance(v, Verdict) and v.phase == phase.id]


def scored(items: list[Verdict]) -> list[Verdict]:
    """What the score counts: truths (those left to a person too), artifacts, key links,
    requirements. Checkpoints for a person are listed, never scored."""
    return [v for v in items if v.kind in MEASURED_KINDS or (v.kind == "human-check" and v.measures.get("truth"))]


def phase_status(items: list[Verdict]) -> str:
    """GSD's status rules, on the phase's must-haves only."""
    if any(v.status == FAILED for v in items):
        return "gaps_found"
    if any(v.status == NEEDS_HUMAN for v in items):
        return "human_needed"
    return "passed"


def in_phase_scope(path: str, phase: Phase) -> bool:
    """Whether a file is one of the phase's: a path, under a folder, or matched by a glob
    its plans name (``files_modified`` and the artifacts)."""
    path = path.strip().removeprefix("./")
    for written in phase.scope:
        w = written.strip().removeprefix("./")
        if not w:
            continue
        if any(c in w for c in "*?[{"):
            if not invalid_glob(w) and compile_glob(w).match(path):
                return True
            continue
        w = w.rstrip("/")
        if path == w or path.startswith(w + "/"):
            return True
    return False


# -- small writers (the Markdown helpers of the course report) ------------------------------


def _yaml_string(value: object) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML): safe for any text."""
    return json.dumps(" ".join(str(value).split()), ensure_ascii=False)


def _status_word(v: Verdict) -> str:
    if v.kind == "requirement":
        word = str(v.measures.get("state") or {VERIFIED: "SATISFIED", FAILED: "BLOCKED"}.get(v.status, v.status))
    elif v.kind == "truth" and v.status == NEEDS_HUMAN and v.measures.get("state") != "absent":
        word = "TO CONFIRM" if "names" in v.measures else v.status
    else:
        word = v.status
    return f"**{word}**" if v.status == FAILED else word


def _failure_type(v: Verdict, by_ref: dict[str, Verdict]) -> str:
    """GSD's classification of a gap: ``missing_artifact`` (nothing there), ``stub`` (there,
    but not what the plan says), ``unwired`` (a connection that is not made)."""
    if v.kind == "artifact":
        return "missing_artifact" if v.measures.get("exists") is False else "stub"
    if v.kind == "key-link":
        if str(v.measures.get("decided_by", "")).startswith("an end the check needs"):
            return "missing_artifact"
        return "unwired"
    if v.kind == "truth":
        return "missing_artifact"
    if v.kind == "requirement":
        for part in v.measures.get("satisfied_by", []):
            blocker = by_ref.get(part.get("ref", ""))
            if blocker is not None and blocker.status == FAILED:
                return _failure_type(blocker, by_ref)
        return "missing_artifact"
    return "stub"


def _subject(v: Verdict) -> str:
    """The failed must-have as one sentence, for the ``truth`` field of a GSD gap."""
    s = v.subject
    if v.kind == "truth":
        return str(s.get("text") or v.text or v.id)
    if v.kind == "artifact":
        return f"{s.get('path', v.id)}" + (f" provides {v.text}" if v.text else " exists and holds what the plan says")
    if v.kind == "key-link":
        return f"{s.get('from', '')} is linked to {s.get('to', '')}" + (f" ({v.text})" if v.text else "")
    if v.kind == "requirement":
        return f"{v.id}" + (f": {v.text}" if v.text else " is satisfied")
    return v.id


def _gap_files(v: Verdict) -> list[tuple[str, str]]:
    """``(path, issue)`` of the files a gap is about."""
    m = v.measures
    if v.kind == "artifact":
        per_file = m.get("per_file")
        if isinstance(per_file, dict):
            failing = [(p, ", ".join(f["problems"])) for p, f in per_file.items() if f.get("problems")]
            return failing[:20] or [(str(m.get("path", v.id)), v.evidence)]
        return [(str(m.get("path", v.subject.get("path", v.id))), v.evidence)]
    if v.kind == "key-link":
        return [(str(m.get("from", v.subject.get("from", ""))), v.evidence)]
    if v.kind == "truth":
        return [(str(p), v.evidence) for p, _span in v.locations[:3]]
    return []


def _missing(v: Verdict) -> list[str]:
    """What to add or fix, item by item, from what was measured."""
    m, s = v.measures, v.subject
    out: list[str] = []
    if v.kind == "artifact":
        if m.get("exists") is False:
            return [f"{s.get('path', v.id)} (the path names nothing in the repository)"]
        found = m.get("per_file")
        per_file: dict[str, dict[str, Any]] = found if isinstance(found, dict) else {str(s.get("path", v.id)): m}
        for path, fm in per_file.items():
            lines, least = fm.get("lines"), fm.get("min_lines")
            if isinstance(lines, int) and isinstance(least, int) and lines < least:
                out.append(f"{least - lines} more lines in {path} (it has {lines}, the plan asks for {least})")
            for value, n in (fm.get("contains") or {}).items():
                if not n:
                    out.append(f"'{value}' in {path}")
            for pattern, n in (fm.get("patterns") or {}).items():
                if not n:
                    out.append(f"a match for /{pattern}/ in {path}")
            for name, ok in (fm.get("exports") or {}).items():
                if not ok:
                    out.append(f"an export of {name} in {path}")
        if not out:
            out.append(f"{s.get('path', v.id)}: {v.evidence}")
    elif v.kind == "key-link":
        if s.get("pattern"):
            out.append(f"/{s['pattern']}/ in {s.get('from', '')}")
        else:
            out.append(f"a prerequisite, link or mention connecting {s.get('from', '')} to {s.get('to', '')}")
    elif v.kind == "truth":
        names = m.get("names") or {}
        out += [
            f"`{n}` in the phase's files"
            for n, info in names.items()
            if not info.get("phase") and not info.get("course")
        ]
    elif v.kind == "requirement":
        for part in m.get("satisfied_by", []):
            if part.get("status") == FAILED:
                kind, _, name = str(part.get("ref", "")).partition(":")
                out.append(f"{name} to hold (the {kind.replace('-', ' ')} it needs failed)")
    return out or [v.evidence]


def _gaps_yaml(items: list[Verdict]) -> list[str]:
    by_ref = {f"{v.kind}:{v.id}": v for v in items}
    for v in items:
        if v.kind == "artifact" and isinstance(v.subject.get("path"), str):
            by_ref[f"artifact:{v.subject['path']}"] = v
    lines: list[str] = []
    for v in items:
        if v.status != FAILED or v.kind not in MEASURED_KINDS:
            continue
        lines.append(f"  - truth: {_yaml_string(_subject(v))}")
        lines.append("    status: failed")
        lines.append(f"    failure_type: {_failure_type(v, by_ref)}")
        lines.append(f"    reason: {_yaml_string(v.evidence)}")
        files = _gap_files(v)
        if files:
            lines.append("    artifacts:")
            for path, issue in files:
                lines.append(f"      - path: {_yaml_string(path)}")
                lines.append(f"        issue: {_yaml_string(issue)}")
        lines.append("    missing:")
        lines += [f"      - {_yaml_string(item)}" for item in _missing(v)]
    return lines


def _human_yaml(items: list[Verdict]) -> list[str]:
    lines = []
    for v in items:
        if v.kind != "human-check":
            continue
        lines.append(f"  - test: {_yaml_string(v.measures.get('test') or v.text)}")
        if v.measures.get("expected"):
            lines.append(f"    expected: {_yaml_string(v.measures['expected'])}")
        if v.measures.get("why"):
            lines.append(f"    why_human: {_yaml_string(v.measures['why'])}")
    return lines


# -- the report -----------------------------------------------------------------------------


def render_phase(result: Result, options: ReportOptions, phase: Phase) -> str:
    items = phase_verdicts(result, phase)
    measured = scored(items)
    verified = sum(1 for v in measured if v.status == VERIFIED)
    status = phase_status(items)
    score = f"{verified}/{len(measured)} must-haves verified"
    build = BUILD.get(result.extra)
    build = build if isinstance(build, BuildRun) else None
    plan_files = set(phase.plans)
    mine = [f for f in result.findings if f.path and (in_phase_scope(f.path, phase) or f.path in plan_files)]
    rest = [f for f in result.findings if f not in mine and f.suppression is None]
    phase_files = [p for p in result.files if in_phase_scope(p, phase)]

    lines = ["---", f"phase: {yaml_scalar(phase.id)}"]
    if options.timestamp:
        lines.append(f"verified: {options.timestamp}")
    lines += [f"status: {status}", f"score: {yaml_scalar(score)}"]
    if phase.previous_status:
        lines += [
            "re_verification:",
            f"  previous_status: {_yaml_string(phase.previous_status)}",
            *([f"  previous_score: {_yaml_string(phase.previous_score)}"] if phase.previous_score else []),
        ]
    else:
        lines.append("re_verification: false")
    gaps = _gaps_yaml(items)
    if gaps:
        lines += ["gaps:", *gaps]
    if status == "human_needed":
        human = _human_yaml(items)
        if human:
            lines += ["human_verification:", *human]
    lines += [f"scope: {yaml_scalar(phase.scope)}" if phase.scope else "scope: []"]
    lines += [f"verifier: {yaml_scalar('coursecheck ' + result.version)}", "---", ""]
    lines += [f"# {text(phase.title or phase.id)} Verification Report", ""]
    if phase.goal:
        lines.append(f"**Phase Goal:** {text(phase.goal)}  ")
    if options.timestamp:
        lines.append(f"**Verified:** {options.timestamp}  ")
    lines.append(f"**Status:** {status}  ")
    if phase.previous_status:
        lines.append(
            f"**Re-verification:** Yes: the phase folder's earlier report says {text(phase.previous_status)}"
            + (f", {text(phase.previous_score)}" if phase.previous_score else "")
            + "  "
        )
    else:
        lines.append("**Re-verification:** No: the phase folder holds no earlier report  ")
    lines.append(
        f"**Score:** {score} (truths, artifacts, key links and requirements of this phase; "
        "one left to a person is not verified)  "
    )
    plans = ", ".join(code(PurePosixPath(p).name, table=False) for p in phase.plans)
    lines.append(
        f"**Measured from:** {plans or 'no plan'}"
        + (f"; goal from {text(phase.goal_source)}" if phase.goal_source else "")
        + f"; {_plural(len(phase_files), 'checked file')} in the phase's scope"
    )
    lines += ["", "## Goal Achievement", ""]
    lines += _truths(items, text, table)
    lines += _artifacts(items, text, code, table)
    lines += _links(items, text, code, table)
    lines += _requirements(items, text, table)
    lines += _anti_patterns(result, mine, rest, phase_files, text, code, table)
    lines += _build(build, code, fenced)
    lines += _statistics(result, items, phase_files, code, table)
    lines += _human(items, text, fenced)
    lines += _summary(phase, status, items, text, code)
    lines += ["---", ""]
    if options.timestamp:
        lines += [f"*Verified: {options.timestamp}*  "]
    lines += [f"*Verifier: coursecheck {result.version}*", ""]
    return "\n".join(lines)


def _cell(v: Verdict, text: Any) -> str:
    cell = text(v.evidence) if v.evidence else ""
    rule = v.measures.get("decided_by")
    if rule and v.kind in ("artifact", "key-link", "requirement"):
        cell += f" *(decided by: {text(rule)})*"
    return cell


def _truths(items: list[Verdict], text: Any, table: Any) -> list[str]:
    out = ["### Observable Truths", ""]
    truths = [v for v in items if v.kind == "truth"]
    humans = [v for v in items if v.kind == "human-check" and v.measures.get("truth")]
    if not truths and not humans:
        return [*out, "The phase's plans state no truth.", ""]
    rows = []
    for v in sorted([*truths, *humans], key=lambda v: v.declared or ("", 0)):
        if v.kind == "human-check":
            rows.append([text(v.measures.get("title") or v.text), "NEEDS HUMAN", "names nothing coursecheck can count"])
        else:
            rows.append([text(v.text or v.id), _status_word(v), text(v.evidence)])
    numbered = [[str(i), *row] for i, row in enumerate(rows, start=1)]
    verified = sum(1 for v in truths if v.status == VERIFIED)
    confirm = sum(1 for v in truths if v.status == NEEDS_HUMAN)
    failed = sum(1 for v in truths if v.status == FAILED)
    return [
        *out,
        *table(["#", "Truth", "Status", "Evidence"], numbered),
        "",
        f"**Score:** {verified}/{len(rows)} truths verified"
        + "".join(
            f"; {n} {what}"
            for n, what in (
                (confirm, "with their names found, for a person to confirm"),
                (failed, "naming what occurs nowhere"),
                (len(humans), "naming nothing countable"),
            )
            if n
        )
        + ". Counts are occurrences as `grep -owF` counts them (case-sensitive; a phrase with spaces ignores "
        "case), in the phase's files and in the course (every file the config checks: lessons and data files).",
        "",
    ]


def _artifacts(items: list[Verdict], text: Any, code: Any, table: Any) -> list[str]:
    out = ["### Required Artifacts", ""]
    artifacts = [v for v in items if v.kind == "artifact"]
    if not artifacts:
        return [*out, "The phase's plans declare no artifact.", ""]
    rows = [
        [code(v.subject.get("path", v.measures.get("path", v.id))), text(v.text), _status_word(v), _cell(v, text)]
        for v in artifacts
    ]
    verified = sum(1 for v in artifacts if v.status == VERIFIED)
    return [
        *out,
        *table(["Artifact", "Expected", "Status", "Details"], rows),
        "",
        f"**Artifacts:** {verified}/{len(artifacts)} verified. Lines as `wc -l` counts them (a last line without "
        "a newline counted too); `contains` strings as written, case-sensitive.",
        "",
    ]


def _links(items: list[Verdict], text: Any, code: Any, table: Any) -> list[str]:
    out = ["### Key Link Verification", ""]
    links = [v for v in items if v.kind == "key-link"]
    if not links:
        return [*out, "The phase's plans declare no key link.", ""]
    rows = []
    for v in links:
        source, target = str(v.subject.get("from", "")), str(v.subject.get("to", ""))
        rows.append([code(source), code(target) if target else "", text(v.text), _status_word(v), _cell(v, text)])
    verified = sum(1 for v in links if v.status == VERIFIED)
    return [
        *out,
        *table(["From", "To", "Via", "Status", "Details"], rows),
        "",
        f"**Wiring:** {verified}/{len(links)} connections verified.",
        "",
    ]


def _requirements(items: list[Verdict], text: Any, table: Any) -> list[str]:
    out = ["### Requirements Coverage", ""]
    requirements = [v for v in items if v.kind == "requirement"]
    if not requirements:
        return [*out, "No requirement id is named by the phase's plans or given to it by ROADMAP.md.", ""]
    rows = [[text(f"{v.id}: {v.text}" if v.text else v.id), _status_word(v), _cell(v, text)] for v in requirements]
    satisfied = sum(1 for v in requirements if v.status == VERIFIED)
    return [
        *out,
        *table(["Requirement", "Status", "Implementation"], rows),
        "",
        f"**Coverage:** {satisfied}/{len(requirements)} requirements satisfied.",
        "",
    ]


def _anti_patterns(
    result: Result, mine: list[Finding], rest: list[Finding], files: list[str], text: Any, code: Any, table: Any
) -> list[str]:
    """The findings in the phase's own files (every rule), and how many there are elsewhere."""
    out = ["### Anti-Patterns Found", ""]
    active = [f for f in mine if f.suppression is None and f.rule_id not in RESTATING]
    rows = []
    for f in active[:50]:
        pattern = code(f.rule_id)
        rows.append([code(f.path), str(f.span.line), pattern, f.level, text(f.message)])
    if not rows:
        rows = [["-", "-", "None found", "-", "-"]]
    counts = Counter(f.level for f in active)
    shown = ", ".join(_plural(counts.get(level, 0), level) for level in ("error", "warning", "note"))
    out += [*table(["File", "Line", "Pattern", "Severity", "Impact"], rows), ""]
    sentence = (
        f"Findings of coursecheck's rules in the {_plural(len(files), 'file')} of the phase and its plans "
        f"(the must-haves' own findings are the rows above): {shown}"
    )
    if len(active) > 50:
        sentence += " (the first 50 shown; all of them: `--format sarif`)"
    elsewhere = Counter(f.level for f in rest if f.rule_id not in RESTATING)
    sentence += (
        f". Elsewhere in the course: {sum(elsewhere.values()):,} more ("
        + ", ".join(_plural(elsewhere.get(level, 0), level) for level in ("error", "warning", "note"))
        + "), not part of this phase's status."
    )
    return [*out, sentence, ""]


def _build(build: BuildRun | None, code: Any, fenced: Any) -> list[str]:
    out = ["### Build Verification", ""]
    if build is None:
        return [*out, "Not run: `coursecheck report --run-build` runs the `[report] build` command.", ""]
    if build.timed_out:
        verdict = f"**TIMED OUT** after {build.seconds:.2f} s"
    elif build.passed:
        verdict = f"PASSED (exit code 0) in {build.seconds:.2f} s"
    else:
        verdict = f"**FAILED** (exit code {build.exit_code}) in {build.seconds:.2f} s"
    out += [f"{code(build.command, table=False)}: {verdict}", ""]
    if build.tail:
        out += [*fenced("\n".join(build.tail), "text"), ""]
    return out


def _statistics(result: Result, items: list[Verdict], files: list[str], code: Any, table: Any) -> list[str]:
    rows: list[list[str]] = [["Checked files in the phase's scope", f"{len(files):,}"]]
    artifacts = [v for v in items if v.kind == "artifact" and v.measures.get("exists")]
    lesson_files: dict[str, tuple[int, int | None]] = {}
    other_files: dict[str, int] = {}
    for v in artifacts:
        per_file = v.measures.get("per_file")
        entries = per_file.items() if isinstance(per_file, dict) else [(str(v.measures.get("path", v.id)), v.measures)]
        if v.measures.get("kind") == "folder":
            continue  # a folder's files are counted in its row
        for path, m in entries:
            lines = m.get("lines")
            if not isinstance(lines, int):
                continue
            if path.lower().endswith(LESSON_SUFFIXES):
                diagrams = m.get("mermaid")
                lesson_files[path] = (lines, diagrams if isinstance(diagrams, int) else None)
            else:
                other_files[path] = lines
    if lesson_files:
        rows.append(["Markdown/MDX files among the artifacts", f"{len(lesson_files):,}"])
        rows.append(["Lines in them (`wc -l`)", f"{sum(n for n, _d in lesson_files.values()):,}"])
        diagrams = [d for _n, d in lesson_files.values() if d is not None]
        if diagrams:
            rows.append(
                [
                    "Mermaid diagrams in them (fenced `mermaid` blocks and chart components, empty ones left out)",
                    f"{sum(diagrams):,}",
                ]
            )
    for path, lines in sorted(other_files.items()):
        rows.append([f"{code(PurePosixPath(path).name)} lines (`wc -l`)", f"{lines:,}"])
    for v in artifacts:
        if v.measures.get("kind") == "folder":
            rows.append(
                [
                    f"{code(v.measures.get('path', v.id))}: files, lines (`wc -l`)",
                    f"{len(v.measures.get('files', [])):,} files, {v.measures.get('lines', 0):,} lines",
                ]
            )
        for key, kind in (("json_valid", "JSON"), ("yaml_valid", "YAML")):
            valid = v.measures.get(key)
            if isinstance(valid, bool):
                name = PurePosixPath(str(v.measures.get("path", v.id))).name
                rows.append([f"{code(name)} {kind} validity", "Valid" if valid else "**Invalid**"])
    return ["### Artifact Statistics", "", *table(["Metric", "Value"], rows), ""]


def _block(value: str, text: Any, fenced: Any) -> list[str]:
    """A plan's multi-line text (a checkpoint's steps): prose lines as escaped text, code
    blocks as fenced blocks, so that commands survive and nothing in it becomes Markdown."""
    out: list[str] = []
    lines = value.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)", lines[i])
        if m:
            fence, info = m.group(1), m.group(2)
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i])
                i += 1
            i += 1
            import textwrap

            out += ["", *fenced(textwrap.dedent("\n".join(body)), info), ""]
            continue
        if lines[i].strip():
            out.append(text(lines[i].strip()) + "  ")
        i += 1
    return out


def _human(items: list[Verdict], text: Any, fenced: Any) -> list[str]:
    checks = [v for v in items if v.kind == "human-check"]
    out = ["### Human Verification Required", ""]
    if not checks:
        return [*out, "None: the phase's plans have no checkpoint and no truth left to a person.", ""]
    for i, v in enumerate(checks, start=1):
        title = v.measures.get("title") or v.id
        test = str(v.measures.get("test") or v.text)
        out += [f"#### {i}. {text(title)}", ""]
        if "\n" in test:
            out += ["**Test:**", *_block(test, text, fenced)]
        else:
            out += [f"**Test:** {text(test)}  "]
        if v.measures.get("expected"):
            expected = str(v.measures["expected"])
            out += (
                ["**Expected:**", *_block(expected, text, fenced)]
                if "\n" in expected
                else [f"**Expected:** {text(expected)}  "]
            )
        if v.measures.get("why"):
            out += [f"**Why human:** {text(v.measures['why'])}  "]
        out[-1] = out[-1].rstrip()
        out.append("")
    return out


def _summary(phase: Phase, status: str, items: list[Verdict], text: Any, code: Any) -> list[str]:
    measured = scored(items)
    word = {"passed": "PASSED", "gaps_found": "GAPS FOUND", "human_needed": "HUMAN VERIFICATION NEEDED"}[status]
    per_kind = []
    for kind, label in (
        ("truth", "truths"),
        ("artifact", "artifacts"),
        ("key-link", "key links"),
        ("requirement", "requirements"),
    ):
        group = [v for v in measured if v.kind == kind or (kind == "truth" and v.kind == "human-check")]
        if group:
            per_kind.append(f"{label} {sum(1 for v in group if v.status == VERIFIED)}/{len(group)}")
    verified = sum(1 for v in measured if v.status == VERIFIED)
    sentence = f"{text(phase.title or phase.id)}: **{word}**. {verified}/{len(measured)} must-haves verified"
    if per_kind:
        sentence += f" ({', '.join(per_kind)})"
    humans = [v for v in items if v.kind == "human-check" and not v.measures.get("truth")]
    if humans:
        sentence += f"; {_plural(len(humans), 'checkpoint')} left for a person"
    out = ["## Summary", "", sentence + ".", ""]
    gaps = []
    for v in measured:
        if v.status == FAILED:
            label = {"key-link": "key link"}.get(v.kind, v.kind)
            gaps.append(f"- {label} {code(v.subject.get('path') or v.id, table=False)}: {text(v.evidence)}")
    if gaps:
        out += ["**Gaps** (also in the frontmatter's `gaps:`, for `/gsd:plan-phase --gaps`):", "", *gaps, ""]
    return out


# -- the command line: --phase ID|all, --into-phases -----------------------------------------


def _phase_exit(result: Result, phase: Phase, fail_on_findings: bool) -> int:
    items = phase_verdicts(result, phase)
    if phase_status(items) == "gaps_found":
        return 1
    if fail_on_findings:
        threshold = LEVEL_RANK[result.fail_level]
        mine = [f for f in result.active if f.path and (in_phase_scope(f.path, phase) or f.path in phase.plans)]
        if any(LEVEL_RANK.get(f.level, 0) >= threshold for f in mine if f.rule_id not in RESTATING):
            return 1
    return 0


def _report_name(phase: Phase) -> str:
    """GSD's file name for a phase's report: ``07-VERIFICATION.md``."""
    m = re.match(r"\d+(?:\.\d+)*[A-Za-z]?", phase.id)
    return f"{m.group() if m else phase.id}-VERIFICATION.md"


def _written_by_coursecheck(path: Any) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return False
    front = head.split("\n---", 1)[0] if head.startswith("---") else ""
    return bool(re.search(r"^verifier:\s*\"?coursecheck\b", front, re.MULTILINE))


def write_phase_reports(result: Result, args: Any, reporter: Any, options: ReportOptions, build_failed: bool) -> int:
    """``--phase``: one phase's report (to ``-o`` or stdout, or into its folder), or every
    phase's (``all``: into ``-o DIR`` or the phase folders). The exit code comes from the
    phases' must-haves (``--fail-on-findings``: their files' findings too): 1 when one has a
    gap, 2 when a phase is unknown or a report could not be written."""
    import sys
    from pathlib import Path

    from coursecheck.fsutil import atomic_write

    def say(message: str) -> None:
        print(f"coursecheck: {message}", file=sys.stderr)

    if args.format not in ("markdown", "json"):
        say("error: --phase makes the Markdown report (`coursecheck report`) or --format json")
        return 2
    if not result.phases:
        say(
            "error: no phase is declared: --phase needs a planning plugin (coursecheck-planning) and its [planning] table"
        )
        return 2
    if args.phase == "all":
        phases = list(result.phases)
        if args.output is None and not args.into_phases:
            say("error: --phase all writes one file per phase: give -o DIR or --into-phases")
            return 2
    else:
        phase = find_phase(result.phases, args.phase)
        if phase is None:
            known = ", ".join(p.id for p in result.phases[:8])
            say(f"error: no phase '{args.phase}' (phases: {known}{', …' if len(result.phases) > 8 else ''})")
            return 2
        phases = [phase]
    code = 0
    suffix = ".json" if args.format == "json" else ".md"
    for phase in phases:
        options.phase = phase.id
        text = reporter(result, options)
        target: Path | None
        if args.into_phases:
            folder = Path(phase.folder)
            folder = folder if folder.is_absolute() else result.root / folder
            target = folder / _report_name(phase).replace(".md", suffix)
            if target.exists() and not args.replace_reports and not _written_by_coursecheck(target):
                say(
                    f"error: {target} exists and coursecheck did not write it; not replaced (--replace-reports replaces it)"
                )
                code = max(code, 2)
                continue
        elif args.phase == "all":
            out_dir = Path(args.output)
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / f"{phase.id}-VERIFICATION{suffix}"
        else:
            target = Path(args.output) if args.output is not None else None
        if target is None:
            sys.stdout.write(text)
        else:
            try:
                atomic_write(target, text)
            except OSError as exc:
                say(f"error: cannot write {target}: {exc.strerror or exc}")
                code = max(code, 2)
                continue
            if not args.quiet:
                items = phase_verdicts(result, phase)
                say(f"wrote {target} ({phase.id}: {phase_status(items)}, {len(scored(items))} must-haves)")
        if code < 2:
            code = max(code, _phase_exit(result, phase, args.fail_on_findings))
    for warning in options.warnings:
        say(f"warning: {warning}")
    if build_failed and code < 2:
        code = 1
    return code
