"""The Markdown verification report (``--format markdown``, ``coursecheck report``).

It follows the hand-written verification report a reviewer would write (YAML frontmatter
with status and score; Observable Truths, Required Artifacts, Key Link Verification,
Requirements Coverage, Anti-Patterns Found, Build Verification, Artifact Statistics, Human
Verification Required, Summary), plus the lint findings grouped by rule and a Mermaid picture
of the prerequisite graph. Every evidence cell comes from a measurement: the must-have
verdicts (``result.extra["verdicts"]``), the findings, the parsed documents, the build run.

Report settings live in the config's ``[report]`` table (declared and validated here)::

    [report]
    title = "Module 3: Production Operations"   # heading: "<title> Verification Report"
    phase = "07-module-3-production-operations" # frontmatter `phase`
    goal = "Students can operate Debezium in production"
    scope = ["src/content/course/03-module-3/**"]  # files the findings/statistics cover
    build = "npm run build"                       # run with --run-build
    build-timeout = 900                           # seconds
    build-tail = 20                               # lines of build output shown
    findings-per-rule = 20                        # rows per rule in "Findings by Rule"

The output is stable (same tree, same report, byte for byte, except the timestamp, which
comes from ``ReportOptions.timestamp``), renders on GitHub (escaped table cells, fences longer
than any backtick run they hold) and is itself a valid Markdown lesson for coursecheck.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from coursecheck import hookimpl
from coursecheck.config.schema import Key, Section
from coursecheck.escape import display, markdown_without_html
from coursecheck.globs import invalid_glob, matches
from coursecheck.model import FAILED, LEVEL_RANK, NEEDS_HUMAN, VERIFIED, Finding, Verdict
from coursecheck.report import ReportOptions
from coursecheck.report._mdtext import code, fenced, table, text, yaml_scalar
from coursecheck.report.build import BuildRun
from coursecheck.state import BUILD, GRAPH_MERMAID, VERDICTS
from coursecheck.wording import plural_grouped as _plural

if TYPE_CHECKING:
    from coursecheck.commands import CommandContext
    from coursecheck.config import Config
    from coursecheck.results import Result

DEFAULT_FINDINGS_PER_RULE = 20
LESSON_SUFFIXES = (".md", ".mdx", ".markdown")


def _globs(value: list[str], config: Config) -> list[str]:
    return [f"glob '{pattern}': {why}" for pattern in value if (why := invalid_glob(pattern))]


def _not_empty(value: str | list[str], config: Config) -> str | None:
    return None if value else "must not be empty"


# The [report] table's schema.
SECTION = Section(
    "report",
    "the Markdown verification report: title, goal, scope, build command",
    keys=(
        Key("title", "string", "what is verified, shown as '<title> Verification Report'"),
        Key("phase", "string", "a phase or milestone id, written into the frontmatter"),
        Key("goal", "string", "the goal the must-haves serve, shown under the title"),
        Key(
            "scope",
            "strings",
            "globs of the files whose findings and statistics the report covers",
            non_empty=True,
            check=_globs,
        ),
        Key(
            "build",
            "string-or-strings",
            "the course's build command, run with --run-build",
            non_empty=True,
            check=_not_empty,
        ),
        Key("build-timeout", "int", "seconds the build may take", default=900, minimum=1),
        Key("build-tail", "int", "lines of build output shown", default=20, minimum=0),
        Key("findings-per-rule", "int", "rows per rule in 'Findings by Rule'", default=20, minimum=1),
    ),
)


# -- what the report is about -------------------------------------------------------------------


def report_settings(result: Result) -> dict[str, Any]:
    config = result.config
    section = config.sections.get("report") if config is not None else None
    return section if isinstance(section, dict) else {}


def verdicts(result: Result) -> list[Verdict]:
    found = VERDICTS.get(result.extra) or []
    return [v for v in found if isinstance(v, Verdict)]


def _scope(result: Result, settings: dict[str, Any]) -> list[str]:
    scope = settings.get("scope")
    if isinstance(scope, list) and scope:
        return [str(s) for s in scope]
    return []


def _in_scope(path: str, scope: list[str]) -> bool:
    return not scope or not path or matches(path, scope)


def _status(result: Result, items: list[Verdict], in_scope: list[Finding], build: BuildRun | None) -> str:
    threshold = LEVEL_RANK[result.fail_level]
    failing = any(LEVEL_RANK.get(f.level, 0) >= threshold for f in in_scope if f.suppression is None)
    if any(v.status == FAILED for v in items) or failing or result.internal_errors or (build and not build.passed):
        return "gaps_found"
    if any(v.status == NEEDS_HUMAN for v in items):
        return "human_needed"
    return "passed"


def _measured(items: list[Verdict]) -> list[Verdict]:
    """Must-haves that are checked by measurement (human checks are never auto-passed)."""
    return [v for v in items if v.kind != "human-check"]


def _status_word(v: Verdict) -> str:
    if v.kind == "requirement":
        word = {VERIFIED: "SATISFIED", FAILED: "NOT SATISFIED"}.get(v.status, v.status)
    else:
        word = v.status
    return f"**{word}**" if v.status == FAILED else word


def _location(path: str, line: int = 0, column: int = 0) -> str:
    if not path:
        return ""
    if line and column:
        return f"{path}:{line}:{column}"
    return f"{path}:{line}" if line else path


def _where(v: Verdict) -> str:
    if not v.locations:
        return ""
    path, span = v.locations[0]
    return _location(path, span.line)


def _evidence(v: Verdict) -> str:
    cell = text(v.evidence) if v.evidence else ""
    where = _where(v)
    # The row of an artifact or key link names its file already; a truth's does not.
    if (
        v.status == FAILED
        and where
        and v.kind not in ("artifact", "key-link")
        and where.split(":", 1)[0] not in v.evidence
    ):
        cell += f" (at {code(where)})"
    return cell


def _short(path: str) -> str:
    return PurePosixPath(path).name if "/" in path else path


def _link_ends(v: Verdict) -> tuple[str, str]:
    source, target = v.measures.get("from"), v.measures.get("to")
    if isinstance(source, str) and isinstance(target, str):
        return source, target
    for arrow in (" -> ", " → ", "->", "→"):
        if arrow in v.id:
            left, right = v.id.split(arrow, 1)
            return left.strip(), right.strip()
    return v.id, ""


# -- sections -----------------------------------------------------------------------------------


def _frontmatter(
    result: Result, settings: dict[str, Any], scope: list[str], status: str, score: str, options: ReportOptions
) -> list[str]:
    lines = ["---"]
    if settings.get("phase"):
        lines.append(f"phase: {yaml_scalar(settings['phase'])}")
    config = result.config
    default_scope = [*config.course.content, *config.course.data] if config is not None else ["**"]
    lines.append(f"scope: {yaml_scalar(scope or default_scope)}")
    if options.timestamp:
        stamp = options.timestamp
        plain = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", stamp)
        lines.append(f"verified: {stamp if plain else yaml_scalar(stamp)}")  # a YAML timestamp, as written by hand
    lines.append(f"status: {status}")
    lines.append(f"score: {yaml_scalar(score)}")
    lines.append(f"verifier: {yaml_scalar('coursecheck ' + result.version)}")
    lines.append("---")
    return lines


def _truths(items: list[Verdict]) -> list[str]:
    truths = [v for v in items if v.kind == "truth"]
    out = ["### Observable Truths", ""]
    if not truths:
        return [*out, "No truths declared (`[[truth]]` in the config).", ""]
    rows = [[str(i), text(v.text or v.id), _status_word(v), _evidence(v)] for i, v in enumerate(truths, start=1)]
    verified = sum(1 for v in truths if v.status == VERIFIED)
    return [
        *out,
        *table(["#", "Truth", "Status", "Evidence"], rows),
        "",
        f"**Score:** {verified}/{len(truths)} truths verified",
        "",
    ]


def _artifacts(items: list[Verdict]) -> list[str]:
    artifacts = [v for v in items if v.kind == "artifact"]
    out = ["### Required Artifacts", ""]
    if not artifacts:
        return [*out, "No artifacts declared (`[[artifact]]` in the config).", ""]
    rows = [[code(v.measures.get("path", v.id)), text(v.text), _status_word(v), _evidence(v)] for v in artifacts]
    return [*out, *table(["Artifact", "Expected", "Status", "Details"], rows), ""]


def _key_links(items: list[Verdict]) -> list[str]:
    links = [v for v in items if v.kind == "key-link"]
    out = ["### Key Link Verification", ""]
    if not links:
        return [*out, "No key links declared (`[[key-link]]` in the config).", ""]
    rows = []
    for v in links:
        source, target = _link_ends(v)
        rows.append([code(source), code(target) if target else "", text(v.text), _status_word(v), _evidence(v)])
    return [*out, *table(["From", "To", "Via", "Status", "Details"], rows), ""]


# GitHub renders a Mermaid block of at most 50,000 characters (and slowly well before): a
# bigger lesson graph is shown collapsed to modules, the full one in a file beside the report.
GRAPH_INLINE_MAX = 40_000


def _graph(result: Result, options: ReportOptions) -> list[str]:
    graph = GRAPH_MERMAID.get(result.extra)
    if not isinstance(graph, str) or not graph.strip():
        return []
    modules = result.extra.get("graph_modules_mermaid")
    if len(graph) <= GRAPH_INLINE_MAX or not isinstance(modules, str) or not modules.strip():
        return ["### Prerequisite Graph", "", *fenced(graph.strip(), "mermaid"), ""]
    size = f"{len(graph) // 1000:,} KB"
    if re.fullmatch(r"[\w.-]+", options.output_name):
        name = PurePosixPath(options.output_name).stem + ".graph.mmd"
        options.attachments[name] = graph
        where = f"The full lesson graph ({size}) is in [{name}]({name})."
    else:
        where = f"The full lesson graph ({size}): `coursecheck graph -o course-graph.mmd`."
    note = f"The lesson graph is too big to render here: its modules, with the prerequisites between them. {where}"
    return ["### Prerequisite Graph", "", note, "", *fenced(modules.strip(), "mermaid"), ""]


def _requirements(items: list[Verdict]) -> list[str]:
    requirements = [v for v in items if v.kind == "requirement"]
    out = ["### Requirements Coverage", ""]
    if not requirements:
        return [*out, "No requirements declared (`[[requirement]]` in the config).", ""]
    rows = [[text(f"{v.id}: {v.text}" if v.text else v.id), _status_word(v), _evidence(v)] for v in requirements]
    return [*out, *table(["Requirement", "Status", "Implementation"], rows), ""]


def _is_anti_pattern(finding: Finding, tags: dict[str, tuple[str, ...]]) -> bool:
    rule_tags = tags.get(finding.rule_id, ())
    return (
        finding.rule_id.split("/", 1)[0] == "anti-patterns"
        or "anti-pattern" in rule_tags
        or "anti-patterns" in rule_tags
    )


def _anti_patterns(findings: list[Finding], tags: dict[str, tuple[str, ...]], files: int) -> list[str]:
    found = [f for f in findings if _is_anti_pattern(f, tags)]
    active = [f for f in found if f.suppression is None]
    suppressed = len(found) - len(active)
    out = ["### Anti-Patterns Found", ""]
    rows = []
    for f in active:
        pattern = code(f.rule_id)
        if f.anchor and len(f.anchor) <= 60:
            pattern += f" {code(f.anchor)}"
        rows.append([code(f.path), str(f.span.line), pattern, f.level, text(f.message)])
    if not rows:
        rows = [["-", "-", "None found", "-", "-"]]
    out += [*table(["File", "Line", "Pattern", "Severity", "Impact"], rows), ""]
    found_text = _plural(len(active), "anti-pattern") if active else "No anti-patterns"
    what = f"{found_text} found in the {_plural(files, 'file')} in scope"
    if suppressed:
        what += f"; {suppressed:,} more suppressed inline or by the baseline"
    return [*out, what + ".", ""]


def _build(build: BuildRun | None, settings: dict[str, Any]) -> list[str]:
    if build is None:
        return []
    if build.timed_out:
        verdict = f"**TIMED OUT** after {build.seconds:.2f} s"
    elif build.passed:
        verdict = f"PASSED (exit code 0) in {build.seconds:.2f} s"
    else:
        verdict = f"**FAILED** (exit code {build.exit_code}) in {build.seconds:.2f} s"
    out = ["### Build Verification", "", f"{code(build.command, table=False)}: {verdict}", ""]
    if build.tail:
        shown = len(build.tail)
        if shown < build.total_lines:
            out += [f"Last {_plural(shown, 'line')} of {build.total_lines:,} of output:", ""]
        else:
            out += [f"Output ({_plural(shown, 'line')}):", ""]
        out += [*fenced("\n".join(build.tail), "text"), ""]
    else:
        out += ["The build printed nothing.", ""]
    return out


def _statistics(result: Result, items: list[Verdict], scope: list[str]) -> list[str]:
    rows: list[list[str]] = []
    course = result.course
    checked = set(result.files)  # once, not once per document
    docs = [d for d in (course.documents if course else []) if d.relpath in checked]
    docs = [d for d in docs if _in_scope(d.relpath, scope)]
    lessons = [d for d in docs if d.is_lesson]
    data = [d for d in docs if d.role == "data"]
    rows.append(
        ["Files in scope", f"{len(docs):,} ({_plural(len(lessons), 'lesson')}, {_plural(len(data), 'data file')})"]
    )
    rows.append(["Lines in lessons in scope", f"{sum(d.line_count for d in lessons):,}"])
    artifacts = [v for v in items if v.kind == "artifact"]
    if artifacts:
        by_suffix: dict[str, list[Verdict]] = {}
        for v in artifacts:
            path = str(v.measures.get("path", v.id))
            by_suffix.setdefault(PurePosixPath(path).suffix.lower(), []).append(v)
        for suffix, group in sorted(by_suffix.items()):
            if suffix in LESSON_SUFFIXES:
                label = suffix[1:].upper()
                present = [v for v in group if isinstance(v.measures.get("lines"), int)]
                rows.append([f"Total {label} files (artifacts)", f"{len(present):,} of {len(group):,} declared"])
                rows.append([f"Total lines ({label} artifacts)", f"{sum(v.measures['lines'] for v in present):,}"])
                diagrams = [v.measures["mermaid"] for v in group if isinstance(v.measures.get("mermaid"), int)]
                if diagrams:
                    rows.append([f"Total Mermaid diagrams ({label} artifacts)", f"{sum(diagrams):,}"])
                continue
            for v in group:
                name = _short(str(v.measures.get("path", v.id)))
                if isinstance(v.measures.get("lines"), int):
                    rows.append([f"{code(name)} lines", f"{v.measures['lines']:,}"])
                for key, kind in (("json_valid", "JSON"), ("yaml_valid", "YAML")):
                    valid = v.measures.get(key)
                    if isinstance(valid, bool):
                        rows.append([f"{code(name)} {kind} validity", "Valid" if valid else "**Invalid**"])
    return ["### Artifact Statistics", "", *table(["Metric", "Value"], rows), ""]


def _human(items: list[Verdict]) -> list[str]:
    checks = [v for v in items if v.kind == "human-check"]
    out = ["### Human Verification Required", ""]
    if not checks:
        return [*out, "None declared (`[[human-check]]` in the config).", ""]
    for i, v in enumerate(checks, start=1):
        title = v.measures.get("title") or v.id
        test = v.measures.get("test") or v.text
        out += [f"#### {i}. {text(title)}", ""]
        out += [f"**Test:** {text(test)}  "]
        if v.measures.get("expected"):
            out += [f"**Expected:** {text(v.measures['expected'])}  "]
        if v.measures.get("why"):
            out += [f"**Why human:** {text(v.measures['why'])}  "]
        out[-1] = out[-1].rstrip()
        out.append("")
    return out


def _findings_by_rule(
    result: Result, findings: list[Finding], files: int, per_rule: int, rule_docs: dict[str, str]
) -> list[str]:
    active = [f for f in findings if f.suppression is None]
    counts = Counter(f.level for f in active)
    suppressed = len(findings) - len(active)
    summary = ", ".join(_plural(counts.get(level, 0), level) for level in ("error", "warning", "note"))
    out = ["## Findings by Rule", ""]
    line = f"{summary} in {_plural(files, 'file')} in scope"
    if suppressed:
        line += f" ({suppressed:,} suppressed)"
    out += [line + f"; the run fails at level {code(result.fail_level, table=False)} and above.", ""]
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.rule_id, []).append(f)

    def severity(rule_id: str) -> tuple[int, str]:
        levels = [LEVEL_RANK.get(f.level, 0) for f in groups[rule_id] if f.suppression is None]
        return (-max(levels, default=0), rule_id)

    order = sorted(groups, key=severity)
    if order:
        overview = []
        for rule_id in order:
            by_level = Counter(f.level for f in groups[rule_id] if f.suppression is None)
            hidden = sum(1 for f in groups[rule_id] if f.suppression is not None)
            counts_row = [f"{by_level[level]:,}" if by_level[level] else "" for level in ("error", "warning", "note")]
            overview.append([code(rule_id), *counts_row, f"{hidden:,}" if hidden else ""])
        out += [*table(["Rule", "Errors", "Warnings", "Notes", "Suppressed"], overview), ""]
    for rule_id in order:
        group = groups[rule_id]
        shown = [f for f in group if f.suppression is None]
        by_level = Counter(f.level for f in shown)
        parts = [_plural(by_level[level], level) for level in ("error", "warning", "note") if by_level[level]]
        hidden = len(group) - len(shown)
        if hidden:
            parts.append(f"{hidden:,} suppressed")
        out += [f"### {code(rule_id, table=False)}: {', '.join(parts)}", ""]
        if rule_docs.get(rule_id):  # the rule's own summary line: Markdown written by its author
            # (a declarative rule's is the repository's: shown without raw HTML or controls)
            summary = markdown_without_html(display(" ".join(rule_docs[rule_id].split()).strip("*_ ")))
            out += [f"*{summary}*", ""]
        if not shown:
            continue
        rows = [
            [code(_location(f.path, f.span.line, f.span.column)) if f.path else "", text(f.message)]
            for f in shown[:per_rule]
        ]
        out += table(["Location", "Message"], rows)
        if len(shown) > per_rule:
            out += ["", f"…and {len(shown) - per_rule:,} more (all of them: `--format sarif` or `--format json`)."]
        out.append("")
    return out


def _notifications(result: Result) -> list[str]:
    if not result.notifications:
        return []
    out = ["### Internal Problems", "", "The checks below did not run to the end; their silence is not a pass.", ""]
    out += [f"- {n.level}: {text(n.message)}" for n in result.notifications]
    return [*out, ""]


def _extra_sections(result: Result) -> list[str]:
    out: list[str] = []
    for heading, body in result.report_sections:
        out += [f"## {text(heading)}", "", str(body).rstrip("\n"), ""]
    return out


def _summary(
    result: Result,
    title: str,
    status: str,
    items: list[Verdict],
    findings: list[Finding],
    files: int,
    build: BuildRun | None,
) -> list[str]:
    measured = _measured(items)
    verified = sum(1 for v in measured if v.status == VERIFIED)
    out = ["## Summary", ""]
    word = {"passed": "PASSED", "gaps_found": "GAPS FOUND", "human_needed": "HUMAN VERIFICATION NEEDED"}[status]
    per_kind = []
    for kind, label in (
        ("truth", "truths"),
        ("artifact", "artifacts"),
        ("key-link", "key links"),
        ("requirement", "requirements"),
    ):
        group = [v for v in measured if v.kind == kind]
        if group:
            per_kind.append(f"{label} {sum(1 for v in group if v.status == VERIFIED)}/{len(group)}")
    sentence = f"{text(title)}: **{word}**. "
    if measured:
        sentence += f"{verified}/{len(measured)} must-haves verified ({', '.join(per_kind)})"
    else:
        sentence += "No must-haves declared"
    humans = [v for v in items if v.kind == "human-check"]
    if humans:
        sentence += f"; {_plural(len(humans), 'check')} left for a person"
    active = [f for f in findings if f.suppression is None]
    counts = Counter(f.level for f in active)
    sentence += (
        f". Lint: {_plural(counts.get('error', 0), 'error')}, {_plural(counts.get('warning', 0), 'warning')}, "
        f"{_plural(counts.get('note', 0), 'note')} in {_plural(files, 'file')} in scope."
    )
    out += [sentence, ""]
    gaps: list[str] = []
    listed: set[str] = set()  # findings that only restate a failed must-have (anchor "kind:id")
    for v in measured:
        if v.status == FAILED:
            label = {"key-link": "key link"}.get(v.kind, v.kind)
            gaps.append(f"- {label} {code(v.id, table=False)}: {text(v.evidence)}")
            listed.add(f"{v.kind}:{v.id}")
    threshold = LEVEL_RANK[result.fail_level]
    failing = [f for f in active if LEVEL_RANK.get(f.level, 0) >= threshold and f.anchor not in listed]
    for f in failing[:20]:
        where = _location(f.path, f.span.line, f.span.column)
        gaps.append(f"- {code(where, table=False)} {code(f.rule_id, table=False)}: {text(f.message)}")
    if len(failing) > 20:
        gaps.append(f"- …and {len(failing) - 20:,} more {result.fail_level}-level findings (see Findings by Rule).")
    if build is not None and not build.passed:
        gaps.append(f"- the build {code(build.command, table=False)} failed (see Build Verification).")
    if result.internal_errors:
        gaps.append("- some checks crashed (see Internal Problems).")
    if gaps:
        out += ["**Gaps:**", "", *gaps, ""]
    if humans:
        out += [f"**Still to verify by hand:** {', '.join(text(v.measures.get('title') or v.id) for v in humans)}.", ""]
    return out


def render(result: Result, options: ReportOptions) -> str:
    if options.phase:
        from coursecheck.report.phase import find_phase, render_phase

        phase = find_phase(result.phases, options.phase)
        if phase is not None:
            return render_phase(result, options, phase)
        options.warnings.append(f"no phase '{options.phase}' is declared; the report covers the whole course")
    settings = report_settings(result)
    scope = _scope(result, settings)
    items = verdicts(result)
    build = BUILD.get(result.extra)
    build = build if isinstance(build, BuildRun) else None
    in_scope = [f for f in result.findings if _in_scope(f.path, scope)]
    files = sum(1 for path in result.files if _in_scope(path, scope))
    status = _status(result, items, in_scope, build)
    measured = _measured(items)
    verified = sum(1 for v in measured if v.status == VERIFIED)
    score = f"{verified}/{len(measured)} must-haves verified"
    title = str(settings.get("title") or "Course")
    tags = {r.id: r.tags for r in result.rules}
    summaries = {r.id: r.summary for r in result.rules}
    per_rule = int(settings.get("findings-per-rule", DEFAULT_FINDINGS_PER_RULE))

    lines = _frontmatter(result, settings, scope, status, score, options)
    lines += ["", f"# {text(title)} Verification Report", ""]
    if settings.get("goal"):
        lines.append(f"**Goal:** {text(settings['goal'])}  ")
    if options.timestamp:
        lines.append(f"**Verified:** {options.timestamp}  ")
    lines.append(f"**Status:** {status}  ")
    lines.append(f"**Score:** {score}  ")
    config_name = _config_name(result)
    scope_text = ", ".join(code(s, table=False) for s in scope) if scope else "the whole course"
    lines.append(f"**Scope:** {scope_text}; {_plural(files, 'file')} checked against {code(config_name, table=False)}")
    lines.append("")
    lines += ["## Goal Achievement", ""]
    lines += _truths(items)
    lines += _artifacts(items)
    lines += _key_links(items)
    lines += _graph(result, options)
    lines += _requirements(items)
    lines += _anti_patterns(in_scope, tags, files)
    lines += _build(build, settings)
    lines += _statistics(result, items, scope)
    lines += _human(items)
    lines += _notifications(result)
    lines += _findings_by_rule(result, in_scope, files, per_rule, summaries)
    lines += _extra_sections(result)
    lines += _summary(result, title, status, items, in_scope, files, build)
    lines += ["---", ""]
    if options.timestamp:
        lines += [f"*Verified: {options.timestamp}*  "]
    lines += [f"*Verifier: coursecheck {result.version}*", ""]
    return "\n".join(lines)


def _config_name(result: Result) -> str:
    config = result.config
    if config is None or config.path is None:
        return result.config_path
    try:
        return config.path.resolve().relative_to(result.root.resolve()).as_posix()
    except ValueError:
        return config.path.name


# -- plugin hooks -------------------------------------------------------------------------------


@hookimpl
def coursecheck_reporters() -> dict[str, object]:
    return {"markdown": render}


@hookimpl
def coursecheck_config_schemas() -> list[Section]:
    return [SECTION]


def _report_command(argv: list[str], app: CommandContext) -> int:
    if any(a in ("-f", "--format") or a.startswith("--format=") for a in argv):
        import sys

        print(
            "coursecheck report: error: the report is Markdown; use `coursecheck --format ...` for others",
            file=sys.stderr,
        )
        return 2
    return app.check(
        ["--format", "markdown", *argv],
        prog="coursecheck report",
        description="Write the Markdown verification report: must-haves with their evidence, findings by "
        "rule, statistics, the prerequisite graph (the same as `coursecheck --format markdown`).",
    )


@hookimpl
def coursecheck_commands() -> dict[str, tuple[str, Any]]:
    return {
        "report": (
            "write the Markdown verification report (same options as check; -o FILE, --run-build, --timestamp)",
            _report_command,
        )
    }
