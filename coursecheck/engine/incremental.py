"""What incremental re-checks (an editor's buffers: coursecheck.lsp) start from: the last
run's files, rules and unfinished findings; and the helpers that finish them again."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coursecheck.model import Course, Document, Finding
from coursecheck.rules import Rule


@dataclass(slots=True)
class _LastRun:
    """What the last :meth:`Engine.run` leaves for incremental re-checks."""

    files: list[tuple[str, str]]  # (relpath, role), the run's files in course order
    active_rules: list[Rule]
    stage_course: Course  # the course the per-file stage sees (its data files)
    walk_problems: list[Finding]
    file_findings: dict[str, list[Finding]]  # relpath -> per-file stage findings (not finished)
    course_findings: list[Finding]  # the course stage's findings (not finished)
    reported: set[str] | None
    stage_cache: dict[Any, Any] | None = None  # see Engine._stage_for_source
    finished: dict[str, list[Finding]] | None = None  # relpath -> finished findings (recheck_course)
    course_by_path: dict[str, list[Finding]] | None = None  # course_findings by relpath, built when first asked

    def course_findings_in(self, rel: str) -> list[Finding]:
        """The course stage's findings in one file (an index: an editor asks at every edit)."""
        if self.course_by_path is None:
            self.course_by_path = _by_path(self.course_findings)
        return self.course_by_path.get(rel, [])


def _by_path(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.path, []).append(f)
    return out


def _raw_key(f: Finding) -> tuple[Any, ...]:
    """What tells a course finding from another between two course stages. Not its level:
    finishing sets it on the run's own findings (which recheck_course compares with
    unfinished ones); a level comes from the config and the rule, the same in both."""
    return (f.rule_id, f.message, f.span, f.anchor, f.snippet, f.fix is not None)


def _swap_records(course: Course, new: dict[str, Document]) -> None:
    """Put ``new`` records in the place of the course's records of the same files."""
    if not new:
        return
    for group in (course.lessons, course.data_files, course.others):
        for i, doc in enumerate(group):
            replacement = new.get(doc.relpath)
            if replacement is not None and replacement is not doc:
                replacement.order_index = doc.order_index
                group[i] = replacement
    for key, doc in list(course.by_id.items()):
        if doc.relpath in new:
            course.by_id[key] = new[doc.relpath]
    course.cache.pop("coursecheck.model.by-relpath", None)


def _fresh(findings: Iterable[Finding]) -> list[Finding]:
    """Copies of findings a run already finished, as their rules made them (no inline
    suppression: finishing them again applies the file's directives as they are now)."""
    out = []
    for f in findings:
        copy = _copy(f)
        if copy.suppression is not None and copy.suppression.kind == "inline":
            copy.suppression = None
        out.append(copy)
    return out


def _copy(finding: Finding) -> Finding:
    """A copy whose list of related places is its own (finishing may append to it)."""
    return dataclasses.replace(finding, related=list(finding.related))

