"""SARIF 2.1.0 for GitHub code scanning and editors (``--format sarif``).

One log, one run. What consumers rely on, and how it is made here:

* ``tool.driver.rules``: every rule that ran, with help from the rule's own docstring
  (``help.markdown``; ``help.text`` is a plain-text rendering of it) and a stable ``helpUri``.
* Result locations are relative URIs (GitHub ignores ``uriBaseId``), with ``uriBaseId``
  ``%SRCROOT%`` and ``run.originalUriBaseIds`` for other consumers.
* Columns count UTF-16 code units, and ``run.columnKind`` says so: the spec gives no default.
* ``partialFingerprints`` carry the engine's fingerprint (rule, file and what the finding is
  about, not its line), so an alert keeps its identity across unrelated edits.
* Suppressed findings stay, with ``suppressions``; internal errors become
  ``invocations[0].toolExecutionNotifications``.
* GitHub's upload limits are respected: too many results, locations or tags are cut (the
  most severe results kept), with a warning in the log and on stderr.

The reporter is a pure function of the Result: no clock, no file reads.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from coursecheck import hookimpl
from coursecheck.model import LEVEL_RANK, Finding
from coursecheck.report import ReportOptions
from coursecheck.rules import Rule
from coursecheck.text import Span

if TYPE_CHECKING:
    from coursecheck.engine import Result
    from coursecheck.plugins import Notification

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/coursecheck/coursecheck"
RULES_DOC_URI = f"{INFORMATION_URI}/blob/main/docs/rules.md"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "coursecheckFingerprint/v1"


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """GitHub code scanning's limits for one uploaded SARIF file (docs: "SARIF support for
    code scanning", "Limits on SARIF file upload")."""

    gzip_bytes: int = 10 * 1024 * 1024
    results: int = 25_000
    shown_results: int = 5_000  # GitHub displays only the most severe 5,000 of a run
    locations: int = 1_000
    tags: int = 20


GITHUB_LIMITS = UploadLimits()


def help_uri(rule_id: str) -> str:
    """The rule's section in docs/rules.md: GitHub's anchor for a heading that is the rule id
    (``## parse/encoding`` or ``## `parse/encoding` `` -> ``#parseencoding``)."""
    return f"{RULES_DOC_URI}#{github_anchor(rule_id)}"


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading: lower case, punctuation dropped, spaces
    turned into hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def artifact_uri(path: str) -> str:
    """A relative URI reference for a POSIX path (RFC 3986: percent-encoded; ``:`` encoded so a
    first segment is never read as a scheme)."""
    return quote(path, safe="/!$&'()*+,;=@~")


def is_relative_path(path: str) -> bool:
    if not path or path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return False
    return ".." not in PurePosixPath(path).parts


# -- Markdown help as plain text -------------------------------------------------------------

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_EMPHASIS = re.compile(r"(\*\*|__|(?<![\w*])\*(?=\S)|(?<![\w_])_(?=\S))(.+?)(?<=\S)\1(?![\w*])")


def markdown_to_text(markdown: str) -> str:
    """A plain-text rendering of rule docs for ``help.text``: headings become lines of their
    own, code blocks are indented, links show their target, emphasis markers go."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines():
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            else:
                out.append("    " + line if line.strip() else "")
            continue
        opening = _FENCE.match(line.strip())
        if opening:
            fence = opening.group(1)[0] * len(opening.group(1))
            continue
        heading = _HEADING.match(line)
        if heading:
            out.append(heading.group(1).upper() if line.startswith("## ") else heading.group(1))
            continue
        line = _LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", line)
        out.append(_EMPHASIS.sub(r"\2", line))
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _section(markdown: str, title: str) -> str:
    match = re.search(rf"^##\s+{re.escape(title)}\s*$(.*?)(?=^##\s|\Z)", markdown, re.M | re.S)
    return match.group(1).strip() if match else ""


# -- the log -----------------------------------------------------------------------------------


def _sentence(text: str) -> str:
    """SARIF messages are sentences (the SARIF Multitool's SARIF2001 wants a final period)."""
    text = " ".join(text.split()) or "(no message)"
    return text if text.endswith((".", "!", "?")) else text + "."


def rule_descriptor(rule: Rule, limits: UploadLimits = GITHUB_LIMITS) -> dict[str, Any]:
    docs = rule.full_docs()
    summary = _sentence(rule.summary)
    what = _section(docs, "What it does")
    full = summary + ("\n\n" + markdown_to_text(what) if what else "")
    tags = list(dict.fromkeys([*rule.tags, rule.family]))[: limits.tags]
    return {
        "id": rule.id,
        "name": rule.name or rule.id,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": full},
        "help": {"text": markdown_to_text(docs) or summary, "markdown": docs or summary},
        "helpUri": help_uri(rule.id),
        "defaultConfiguration": {"level": rule.level if rule.level in LEVEL_RANK else "warning"},
        "properties": {"tags": tags, "plugin": rule.plugin},
    }


def _unknown_descriptor(rule_id: str) -> dict[str, Any]:
    """For a finding whose rule is not among the rules that ran (so ``ruleIndex`` stays valid)."""
    return {
        "id": rule_id,
        "name": Rule(rule_id, check=lambda *a: None).name or rule_id,
        "shortDescription": {"text": f"Findings reported as {rule_id}."},
        "helpUri": help_uri(rule_id),
        "defaultConfiguration": {"level": "error"},
    }


def region(span: Span) -> dict[str, int]:
    """1-based lines and UTF-16 columns; the end column is exclusive, as in SARIF."""
    start_line = max(span.line, 1)
    end_line = max(span.end_line, start_line)
    start_column = max(span.column_utf16, 1)
    end_column = max(span.end_column_utf16, 1)
    if end_line == start_line:
        end_column = max(end_column, start_column)
    return {"startLine": start_line, "startColumn": start_column, "endLine": end_line, "endColumn": end_column}


def physical_location(path: str, span: Span) -> dict[str, Any]:
    return {
        "artifactLocation": {"uri": artifact_uri(path), "uriBaseId": SRCROOT},
        "region": region(span),
    }


def _suppression(finding: Finding) -> dict[str, Any]:
    assert finding.suppression is not None
    kind = "inSource" if finding.suppression.kind == "inline" else "external"
    out: dict[str, Any] = {"kind": kind, "status": "accepted"}
    if finding.suppression.justification:
        out["justification"] = finding.suppression.justification
    return out


def _fix(finding: Finding) -> dict[str, Any]:
    assert finding.fix is not None
    fix: dict[str, Any] = {
        "description": {"text": _sentence(finding.fix.description)},
        "artifactChanges": [
            {
                "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": SRCROOT},
                "replacements": [
                    {"deletedRegion": region(edit.span), "insertedContent": {"text": edit.replacement}}
                    for edit in finding.fix.edits
                ],
            }
        ],
    }
    if not finding.fix.safe:
        fix["properties"] = {"safe": False}
    return fix


def _with_snippets(location: dict[str, Any], span: Span, line: str) -> dict[str, Any]:
    """The region's text and its whole line as context, for viewers without the source
    (only for a one-line region: the context region must contain the region)."""
    if not line or span.line != span.end_line:
        return location
    covered = line[max(span.column, 1) - 1 : max(span.end_column, 1) - 1]
    if covered:
        location["region"]["snippet"] = {"text": covered}
    line_end = len(line.encode("utf-16-le")) // 2 + 1
    region = location["region"]
    if region["startColumn"] > 1 or region["endColumn"] < line_end:  # a context must be larger than the region
        location["contextRegion"] = {
            "startLine": span.line,
            "startColumn": 1,
            "endLine": span.line,
            "endColumn": line_end,
            "snippet": {"text": line},
        }
    return location


def sarif_result(finding: Finding, rule_index: int, limits: UploadLimits = GITHUB_LIMITS) -> dict[str, Any]:
    location = _with_snippets(physical_location(finding.path, finding.span), finding.span, finding.snippet)
    out: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": finding.level if finding.level in LEVEL_RANK else "error",
        "message": {"text": _sentence(finding.message)},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    related = [r for r in finding.related if is_relative_path(r[0])][: max(limits.locations - 1, 0)]
    if related:
        out["relatedLocations"] = [
            {"id": i, "physicalLocation": physical_location(path, span), "message": {"text": _sentence(message)}}
            for i, (path, span, message) in enumerate(related, start=1)
        ]
    if finding.fix is not None and finding.fix.edits:
        out["fixes"] = [_fix(finding)]
    if finding.suppression is not None:
        out["suppressions"] = [_suppression(finding)]
    return out


def _notification(
    message: str, level: str, rule_id: str = "", path: str = "", rule_index: dict[str, int] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"level": level if level in LEVEL_RANK else "error", "message": {"text": _sentence(message)}}
    if path and is_relative_path(path):
        out["locations"] = [
            {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(path), "uriBaseId": SRCROOT}}}
        ]
    if rule_id:
        out["associatedRule"] = {"id": rule_id}
        if rule_index is not None and rule_id in rule_index:
            out["associatedRule"]["index"] = rule_index[rule_id]
    return out


def _from_plugin_notification(note: Notification, rule_index: dict[str, int]) -> dict[str, Any]:
    out = _notification(note.message, note.level, note.rule_id, note.path, rule_index)
    if note.plugin:
        out["properties"] = {"plugin": note.plugin}
    return out


def _severity_key(item: tuple[int, Finding]) -> tuple[int, int, int]:
    index, finding = item
    suppressed = 1 if finding.suppression is not None else 0
    return (suppressed, -LEVEL_RANK.get(finding.level, 3), index)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def build_log(result: Result, options: ReportOptions, limits: UploadLimits = GITHUB_LIMITS) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict (see :func:`render` for the size limit)."""
    log, _warnings = _build(result, options, limits, keep=None)
    return log


def _build(
    result: Result, options: ReportOptions, limits: UploadLimits, keep: int | None
) -> tuple[dict[str, Any], list[str]]:
    warnings: list[str] = []
    rules = list(result.rules)
    descriptors = [rule_descriptor(r, limits) for r in rules]
    for r in rules:
        if len(dict.fromkeys([*r.tags, r.family])) > limits.tags:
            warnings.append(f"rule {r.id} has more than {limits.tags} tags; SARIF keeps the first {limits.tags}")
    rule_index = {r.id: i for i, r in enumerate(rules)}

    notifications: list[dict[str, Any]] = []
    placed: list[Finding] = []
    for finding in result.findings:
        if is_relative_path(finding.path):
            placed.append(finding)
            continue
        # GitHub shows no result without a file location: a finding about no file of the
        # repository is a notification of the run instead.
        where = f"{finding.path}: " if finding.path else ""
        notifications.append(
            _notification(f"{where}{finding.message}", finding.level, finding.rule_id, rule_index=rule_index)
        )

    chosen = list(enumerate(placed))
    cap = limits.results if keep is None else min(keep, limits.results)
    if len(chosen) > limits.shown_results or len(chosen) > cap:
        # Most severe first: GitHub shows only part of a large run, and a cut must drop the least severe.
        chosen.sort(key=_severity_key)
        if len(placed) > limits.shown_results:
            warnings.append(
                f"{_plural(len(placed), 'result')}: GitHub code scanning shows at most "
                f"{limits.shown_results:,} per run; the most severe are written first"
            )
    if len(chosen) > cap:
        dropped = chosen[cap:]
        chosen = chosen[:cap]
        counts = {level: sum(1 for _, f in dropped if f.level == level) for level in ("error", "warning", "note")}
        what = ", ".join(_plural(n, level) for level, n in counts.items() if n)
        reason = (
            f"GitHub's limit of {limits.results:,} results per run"
            if keep is None or keep >= limits.results
            else f"GitHub's limit of {limits.gzip_bytes // (1024 * 1024)} MB (gzip) per file"
        )
        warnings.append(
            f"SARIF truncated to {_plural(len(chosen), 'result')} of {len(placed):,} for {reason}; dropped {what}"
        )

    results = []
    for _, finding in chosen:
        index = rule_index.get(finding.rule_id)
        if index is None:
            index = rule_index[finding.rule_id] = len(descriptors)
            descriptors.append(_unknown_descriptor(finding.rule_id))
        if len(finding.related) >= limits.locations:
            warnings.append(
                f"{finding.path}:{finding.span.line}: {finding.rule_id} has {len(finding.related) + 1:,} locations; "
                f"SARIF keeps {limits.locations:,} (GitHub's limit per result)"
            )
        results.append(sarif_result(finding, index, limits))

    notifications.extend(_from_plugin_notification(n, rule_index) for n in result.notifications)
    notifications.extend(_notification(w, "warning") for w in warnings)
    invocation: dict[str, Any] = {
        "executionSuccessful": not result.internal_errors,
        "toolExecutionNotifications": notifications,
    }
    if options.timestamp:
        invocation["endTimeUtc"] = options.timestamp

    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "coursecheck",
                "version": result.version,
                "semanticVersion": result.version,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(result)}},
        "columnKind": "utf16CodeUnits",
        "results": results,
    }
    if options.automation_id:
        run["automationDetails"] = {"id": options.automation_id}
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return log, warnings


def _root_uri(result: Result) -> str:
    uri = result.root.resolve().as_uri() if result.root.is_absolute() else artifact_uri(result.root.as_posix())
    return uri if uri.endswith("/") else uri + "/"


def _dump(log: dict[str, Any]) -> str:
    return json.dumps(log, ensure_ascii=False, indent=2) + "\n"


def render(result: Result, options: ReportOptions, limits: UploadLimits = GITHUB_LIMITS) -> str:
    log, warnings = _build(result, options, limits, keep=None)
    text = _dump(log)
    size = len(gzip.compress(text.encode("utf-8"), compresslevel=6))
    keep = len(log["runs"][0]["results"])
    while size > limits.gzip_bytes and keep > 0:
        # Results make up nearly all of a large log: scale their number to the budget, with margin.
        keep = min(keep - 1, int(keep * limits.gzip_bytes / size * 0.95))
        log, warnings = _build(result, options, limits, keep=max(keep, 0))
        text = _dump(log)
        size = len(gzip.compress(text.encode("utf-8"), compresslevel=6))
    options.warnings.extend(warnings)
    return text


@hookimpl
def coursecheck_reporters() -> dict[str, object]:
    return {"sarif": render}
