"""GitHub Actions annotations (``--format github``), for repositories without code scanning.

Each finding becomes a workflow command the runner turns into an annotation on the file and
line, shown in the job log and on the pull request's diff::

    ::error file=content/01-intro.mdx,line=8,col=17,endColumn=52,title=graph/unresolved-reference::prerequisite ...

Every value from the repository (path, rule id, message) is escaped as GitHub's toolkit
escapes workflow commands (``escapeData`` and ``escapeProperty`` in actions/toolkit
``packages/core/src/command.ts``): in the message ``%``, CR and LF become ``%25``, ``%0D``
and ``%0A``; property values (file, title) also escape ``:`` and ``,`` (``%3A``, ``%2C``),
which would otherwise end the value. Before that, the other control and format characters
(ESC, BEL, DEL, C1, bidi controls, U+2028...) are shown as escapes such as ``\\x1b``
(:func:`coursecheck.escape.controls`): the log viewer would act on them. Each line starts with
the command coursecheck chose and holds one command, so the runner reads no other. Levels map to ``error``,
``warning`` and ``notice``. Suppressed findings are left out. A plain summary line ends the
output. GitHub shows only the first annotations of each level per step (the rest stay in the
log), so the most severe findings come first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coursecheck import hookimpl
from coursecheck.escape import controls, inert
from coursecheck.model import LEVEL_RANK, Finding
from coursecheck.report import ReportOptions
from coursecheck.wording import level_counts
from coursecheck.wording import plural as _plural

if TYPE_CHECKING:
    from coursecheck.results import Result

COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    """A workflow command's message, as the toolkit's ``escapeData``: ``%`` first, so the
    escapes themselves stay intact."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value, as the toolkit's ``escapeProperty``: the message
    escapes plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def data(value: object) -> str:
    """Repository text as a command's message: control characters shown, then toolkit-escaped."""
    return escape_data(inert(controls(value, keep_line_breaks=True)))


def prop(value: object) -> str:
    """Repository text as a command's property value."""
    return escape_property(inert(controls(value, keep_line_breaks=True)))


def annotation(finding: Finding) -> str:
    command = COMMANDS.get(finding.level, "error")
    properties: list[tuple[str, str]] = []
    if finding.path:
        span = finding.span
        properties += [("file", finding.path), ("line", str(span.line))]
        if span.end_line == span.line:
            # GitHub takes columns only for a range on one line.
            properties.append(("col", str(span.column)))
            if span.end_column > span.column:
                properties.append(("endColumn", str(span.end_column)))
        elif span.end_line > span.line:
            properties.append(("endLine", str(span.end_line)))
    properties.append(("title", finding.rule_id))
    props = ",".join(f"{key}={prop(value)}" for key, value in properties)
    return f"::{command} {props}::{data(finding.message)}"


def _annotations(findings: list[Finding]) -> tuple[str, ...]:
    return tuple(annotation(f) for f in findings if f.suppression is None)


def render(result: Result, options: ReportOptions) -> str:
    findings = [f for f in result.findings if f.suppression is None]
    if result.blocks is not None:
        # Each file's annotations as the last run made them when its findings are the same
        # (coursecheck.findingstore), in the order of its unsuppressed findings.
        texts = [text for part in result.blocks.cached("github", result.findings, _annotations) for text in part]
    else:
        texts = [annotation(f) for f in findings]
    # Most severe first (GitHub displays a limited number per level), then by place.
    order = sorted(range(len(findings)), key=lambda i: (-LEVEL_RANK.get(findings[i].level, 3), findings[i].sort_key()))
    lines = [texts[i] for i in order]
    for note in result.notifications:
        command = "error" if note.level == "error" else "warning"
        lines.append(f"::{command} title=coursecheck::{data(note.message)}")
    counts = result.counts()
    suppressed = sum(1 for f in result.findings if f.suppression is not None)
    summary = f"coursecheck: checked {_plural(len(result.files), 'file')}: {level_counts(counts)}"
    if suppressed:
        summary += f", {suppressed} suppressed"
    lines.append(summary + f" ({result.duration:.2f}s).")
    return "\n".join(lines) + "\n"


@hookimpl
def coursecheck_reporters() -> dict[str, object]:
    return {"github": render}
