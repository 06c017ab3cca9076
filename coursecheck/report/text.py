"""The terminal format: ``path:line:col: level rule-id message``, then a summary.

Every field that comes from the repository (paths, rule ids of declarative rules, messages,
source lines, plugin notifications) is shown through :mod:`coursecheck.escape`: one line per
finding whatever the text holds, no terminal control sequence, no GitHub workflow command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coursecheck import hookimpl
from coursecheck.escape import display, line, path
from coursecheck.report import ReportOptions
from coursecheck.text import snippet_display
from coursecheck.wording import level_counts
from coursecheck.wording import plural as _plural

if TYPE_CHECKING:
    from coursecheck.model import Finding
    from coursecheck.results import Result

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "note": "\033[36m", "dim": "\033[2m", "bold": "\033[1m"}
_RESET = "\033[0m"


def _paint(text: str, style: str, options: ReportOptions) -> str:
    return f"{_COLORS[style]}{text}{_RESET}" if options.color else text


def _finding_lines(findings: list[Finding], config_path: str, options: ReportOptions) -> str:
    """The lines of ``findings`` (one file's, or any), joined."""
    lines: list[str] = []
    for f in findings:
        if f.suppression is not None and not options.show_suppressed:
            continue
        where = f"{path(f.path)}:{f.span.line}:{f.span.column}" if f.path else path(config_path)
        level = _paint(f.level, f.level, options)
        suffix = " (suppressed)" if f.suppression is not None else ""
        rule_id = _paint(display(f.rule_id), "dim", options)
        lines.append(line(f"{where}: {level} {rule_id} {display(f.message)}{suffix}"))
        if options.verbose and f.snippet.strip():
            # The source line as it is (tabs kept; a long line cut to a window around the
            # finding), its control characters shown as escapes.
            shown = snippet_display(f.snippet, f.snippet_column, f.snippet_cut)
            lines.append(line(f"    | {display(shown.rstrip())}"))
    return "\n".join(lines)


def render(result: Result, options: ReportOptions) -> str:
    lines: list[str] = []
    blocks = result.blocks
    if blocks is not None:
        # Each file's lines as the last run made them when its findings are the same
        # (coursecheck.findingstore): a warm run does not format them again.
        kind = "text\0" + "\0".join(
            [str(options.color), str(options.verbose), str(options.show_suppressed), result.config_path]
        )
        texts = blocks.cached(kind, result.findings, lambda group: _finding_lines(group, result.config_path, options))
        lines.extend(text for text in texts if text)
    else:
        text = _finding_lines(result.findings, result.config_path, options)
        if text:
            lines.append(text)
    for note in result.notifications:
        lines.append(line(f"coursecheck: {display(note.level)}: {display(note.message)}"))
        if options.verbose and note.exception:
            lines.extend(line("    " + display(row)) for row in note.exception.rstrip().split("\n"))
    counts = result.counts()
    suppressed = sum(1 for f in result.findings if f.suppression is not None)
    summary = f"Checked {_plural(len(result.files), 'file')}: {level_counts(counts)}"
    if suppressed:
        summary += f", {suppressed} suppressed"
    if result.notifications:
        summary += f", {_plural(len(result.notifications), 'internal problem')}"
    summary += f" ({result.duration:.2f}s)."
    if not options.quiet or result.failed:
        lines.append(_paint(summary, "bold", options))
    return "\n".join(lines) + ("\n" if lines else "")


@hookimpl
def coursecheck_reporters() -> dict[str, object]:
    return {"text": render}
