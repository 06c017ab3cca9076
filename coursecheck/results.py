"""What a run produces: the :class:`Result` every reporter reads, the options of a run, and
what the per-file stage makes of one file.

Below the engine and the plugins (reporters, hooks and the cache all name these), above the
model and the plugin machinery they are made of.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursecheck import __version__
from coursecheck.config import Config
from coursecheck.model import LEVEL_RANK, Course, Document, Finding, Phase
from coursecheck.rules import Rule


@dataclass(slots=True)
class Notification:
    """Something that went wrong inside coursecheck or a plugin (not a finding in the course)."""

    message: str
    plugin: str = ""
    rule_id: str = ""
    path: str = ""
    exception: str = ""
    level: str = "error"


@dataclass(slots=True)
class Result:
    """Everything a reporter needs. Reporters are pure functions of it."""

    root: Path
    config_path: str
    findings: list[Finding]  # sorted; suppressed ones included (``finding.suppression``)
    rules: list[Rule]  # rules that ran (enabled somewhere)
    files: list[str]  # files checked, relative to root
    notifications: list[Notification] = field(default_factory=list)
    duration: float = 0.0
    fail_level: str = "error"
    course: Course | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # plugin results (must-haves...)
    version: str = __version__
    config: Config | None = None  # what was checked against (reports read their own sections)
    # Extra Markdown report sections from plugins (``coursecheck_report_sections``): (heading, body).
    report_sections: list[tuple[str, str]] = field(default_factory=list)
    # The phases of a planned project (``coursecheck_phases``), for phase-scoped reports.
    phases: list[Phase] = field(default_factory=list)
    # Outputs kept for the next run on the unchanged course (``get(kind, *parts)``,
    # ``put(kind, text, *parts)``; see Engine.stored_output), or None (no cache): what a
    # costly report part (the JSON's file outlines) is served from on a warm run.
    outputs: Any = None
    # The files' groups of findings the engine finished this run, with the reporters' stored
    # text for them (coursecheck.findingstore.FinishedGroups: ``cached(kind, findings,
    # render)``), or None. Whoever changes findings after the run sets it to None.
    blocks: Any = None

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if f.suppression is None]

    def counts(self) -> dict[str, int]:
        c = Counter(f.level for f in self.active)
        return {level: c.get(level, 0) for level in ("error", "warning", "note")}

    @property
    def failed(self) -> bool:
        threshold = LEVEL_RANK[self.fail_level]
        return any(LEVEL_RANK.get(f.level, 0) >= threshold for f in self.active)

    @property
    def internal_errors(self) -> bool:
        return any(n.level == "error" for n in self.notifications)


@dataclass(slots=True)
class RunOptions:
    paths: list[Path] = field(default_factory=list)  # restrict reported findings to these
    select: list[str] = field(default_factory=list)  # rule ids or families
    ignore: list[str] = field(default_factory=list)
    fail_level: str | None = None
    entry_points: bool = True  # load installed plugins (the ``coursecheck`` entry points)
    local_plugins: bool = True  # load the config's ``plugins = [...]``
    # What turned plugins off (``--isolated``, ``--no-plugins``...), for the notification that
    # says which were not loaded; "" when they are on.
    plugins_off_by: str = ""
    # pre-commit passes every staged file: skip those outside the course's globs, and report
    # the whole course when the config itself is among them (it changes every file's check).
    force_exclude: bool = False
    # The per-file cache (off for library calls unless asked; the CLI turns it on).
    cache: bool = False
    cache_dir: Path | None = None  # default: <root>/.coursecheck-cache
    jobs: int = 0  # worker processes for the per-file stage; 0: as many as CPUs (when it pays)
    # Keep full parsed documents for the course stage when there are at most this many files
    # (None: always); above it, records re-parse on demand (bounded memory on big courses).
    keep_documents: int | None = 400


@dataclass(slots=True)
class FileResult:
    """What the per-file stage makes of one file (what the cache stores)."""

    relpath: str
    role: str
    fields: dict[str, Any] | None  # the record's parts (coursecheck.records); None: no document
    findings: list[Finding]
    summary: dict[str, Any]
    notes: list[Notification]
    # What the course stage sees of the file without a recorded read (records.view_digest):
    # the stored course stage is keyed on it, not on the bytes.
    view: str = ""


@dataclass(slots=True)
class SourceCheck:
    """One file checked from content the caller holds (:meth:`Engine.check_source`)."""

    relpath: str
    role: str  # lesson | data | other
    result: FileResult
    document: Document | None  # the parse (None: nothing parsed, e.g. the file is too big)
    # Finished as a run finishes them (levels, inline suppressions, fingerprints): this
    # file's per-file findings and the last course stage's findings in the file.
    findings: list[Finding]
