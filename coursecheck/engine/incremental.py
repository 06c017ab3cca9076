"""What incremental re-checks (an editor's buffers: coursecheck.lsp) start from: the last
run's files, rules and unfinished findings; and the helpers that finish them again."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from coursecheck.config import ALWAYS_EXCLUDED, Config
from coursecheck.engine.discovery import _natural_key
from coursecheck.engine.finishing import Finisher
from coursecheck.engine.perfile import PerFileStage
from coursecheck.engine.reading import MAX_FILE_BYTES, Reader, _kind_of, _problem_doc
from coursecheck.engine.rulecalls import RuleCalls
from coursecheck.globs import compile_glob, matches
from coursecheck.model import Course, Document, Finding
from coursecheck.plugins import Notification
from coursecheck.records import DocumentRecord
from coursecheck.results import FileResult, Result, RunOptions, SourceCheck
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
    stage_cache: dict[Any, Any] | None = None  # see Rechecks._stage_for_source
    finished: dict[str, list[Finding]] | None = None  # relpath -> finished findings (recheck_course)
    course_by_path: dict[str, list[Finding]] | None = None  # course_findings by relpath, built when first asked
    roles: tuple[list[tuple[str, str]], dict[str, str]] | None = None  # (files, files as a dict)

    def role_of(self, rel: str) -> str | None:
        """A file's role in ``files`` (an index kept for the list it was built from: an editor
        asks at every edit, and a scan of 5,000 files cost ~0.2 ms)."""
        if self.roles is None or self.roles[0] is not self.files:
            self.roles = (self.files, dict(self.files))
        return self.roles[1].get(rel)

    def course_findings_in(self, rel: str) -> list[Finding]:
        """The course stage's findings in one file (an index: an editor asks at every edit)."""
        if self.course_by_path is None:
            self.course_by_path = _by_path(self.course_findings)
        return self.course_by_path.get(rel, [])


class Rechecks:
    """The editor's incremental re-checks (coursecheck.lsp), from what the last run left
    (``last``; None: no run yet). The per-file stage and the course stage are the engine's,
    handed in as callables (``files_stage`` makes one on the run's cache and keys;
    ``course_stage`` runs the course rules in memory on the course it is given); records are
    made with ``reload`` and ``read_text``. ``views`` (relpath -> view) is the engine's, kept
    up to date here; ``rechecked`` is what the last :meth:`recheck_course` finished again."""

    def __init__(
        self,
        config: Config,
        options: RunOptions,
        notes: list[Notification],
        last: _LastRun | None,
        reader: Reader,
        calls: RuleCalls,
        finisher: Finisher,
        views: dict[str, str],
        files_stage: Callable[[], PerFileStage],
        course_stage: Callable[
            [Course, list[Rule], list[tuple[str, str]], Callable[[int, int], None] | None], list[Finding]
        ],
        reload: Callable[[str], Document | None],
        read_text: Callable[[str], str | None],
    ) -> None:
        self.config = config
        self.options = options
        self.notes = notes
        self._last = last
        self._reader = reader
        self._calls = calls
        self._finisher = finisher
        self._views = views
        self._files_stage = files_stage
        self._course_stage = course_stage
        self._reload = reload
        self._read_text = read_text
        self.rechecked: set[str] = set()

    def role_of(self, rel: str) -> str | None:
        """The role discovery gives a file of the project (lesson | data), None when the
        course's globs do not take it."""
        if self._last is not None:
            known = self._last.role_of(rel)
            if known is not None:
                return known
        course = self.config.course
        if matches(rel, [*ALWAYS_EXCLUDED, *course.exclude]):
            return None
        for role, patterns in (("other", course.partials), ("lesson", course.content), ("data", course.data)):
            if any(compile_glob(pattern).match(rel) for pattern in patterns):
                return role
        return None

    def check_source(self, rel: str, content: bytes) -> SourceCheck:
        """The per-file stage for ``content`` standing for the file ``rel`` (an editor's
        unsaved buffer): parse, document rules, summaries, against the data files of the
        last :meth:`Engine.run` (which must have happened). Nothing is read from the disk for the
        file, nothing is cached. The findings are finished together with the last course
        stage's findings in the file; :meth:`recheck_course` runs the course stage again."""
        last = self._last
        if last is None:
            raise RuntimeError("check_source() needs a run() first")
        role = self.role_of(rel) or "other"
        path = self.config.root / rel
        notes_before = len(self.notes)
        if role == "data" or (role == "lesson" and _kind_of(rel) in ("json", "yaml")):
            # A data file, checked as run() checks them (lessons' checks read them: the
            # lessons see an edited data file after the next run()).
            doc = self._reader.parse(path, rel, content) if len(content) <= MAX_FILE_BYTES else None
            if doc is None:
                doc = _problem_doc(path, rel, "parse/unreadable", "file is too large to check")
            doc.aliases = []
            doc.role = "data" if role == "data" or doc.kind in ("json", "yaml") else "other"
            summary: dict[str, Any] = {}
            found = self._calls.check_document(doc, self._stage_for_source(), last.active_rules, summary)
            result = FileResult(rel, doc.role, None, found, summary, self.notes[notes_before:])
            document: Document | None = doc
        elif len(content) > MAX_FILE_BYTES:
            document = _problem_doc(
                path, rel, "parse/unreadable", f"file is over the {MAX_FILE_BYTES // 1048576} MiB limit; not checked"
            )
            result = FileResult(rel, role, None, list(document.problems), {}, [])
        else:
            result, document = self._files_stage().per_file(
                rel, role, self._stage_for_source(), last.active_rules, given=content
            )
        del self.notes[notes_before:]
        own = last.course_findings_in(rel)
        docs = [document] if document is not None else []
        findings = self._finisher.finish(_fresh([*result.findings, *own]), docs, {rel})
        return SourceCheck(rel, result.role, result, document, findings)

    def _stage_for_source(self) -> Course:
        """The per-file stage's course for one more file: the run's data files, and of what
        rules keep in ``course.cache`` (derived from the config and the data files: the
        glossary, schemas) the part that names no file (a document rule may keep per-file
        results there, keyed by relpath, for the one check of each file a run makes)."""
        last = self._last
        assert last is not None
        if last.stage_cache is None:
            paths = {rel for rel, _ in last.files}
            last.stage_cache = {
                key: value
                for key, value in last.stage_course.cache.items()
                if not (key in paths or (isinstance(key, tuple) and any(part in paths for part in key)))
            }
        stage = last.stage_course
        return Course(stage.root, stage.lessons, stage.data_files, stage.others, stage.by_id, dict(last.stage_cache))

    def recheck_course(
        self,
        old: Course,
        checks: Iterable[SourceCheck] = (),
        removed: Iterable[str] = (),
        between: Callable[[], None] | None = None,
    ) -> Result:
        """The last run again with the files of ``checks`` as :meth:`check_source` checked
        them and the files ``removed`` gone: the per-file results of every other file are
        the last run's; the course stage runs again, in memory and on every file's record
        (nothing is read again), unless no file was added or removed and no checked file's
        view (what course rules see of it: records.view_digest) changed, in which case
        its findings are the last ones. The result is what run() would give on that
        content (data files: see check_source), and the next re-check starts from it.

        ``old``: the course of the last run (or re-check); the new one is handed to the
        course stage callback when it runs (the engine's course from then on).

        ``between`` is called before each course rule: the caller may check other buffers
        there with check_source (which reads the last course stage's findings, not this
        one's), so a keystroke's own check does not wait for the whole course stage."""
        last = self._last
        assert last is not None
        started = time.perf_counter()
        checked = {c.relpath: c for c in checks}
        gone = set(removed) - set(checked)
        records: dict[str, Document] = {d.relpath: d for d in old.documents}
        roles = dict(last.files)
        files = [(rel, role) for rel, role in last.files if rel not in gone]
        course_changed = bool(gone & set(records))
        for rel in gone:
            records.pop(rel, None)
            last.file_findings.pop(rel, None)
            self._views.pop(rel, None)
        for rel, check in checked.items():
            last.file_findings[rel] = check.result.findings
            if check.role == "data" or check.result.fields is None:
                if rel not in roles:
                    files.append((rel, check.role))
                continue  # data files: see check_source
            if rel not in roles:
                files.append((rel, check.role))
                course_changed = True
            record = DocumentRecord(check.result.fields, self._reload, self._read_text)
            record._full = check.document  # the buffer's parse: never read from the disk
            records[rel] = record
            if self._views.get(rel) != check.result.view:
                course_changed = True
            self._views[rel] = check.result.view
            if check.result.summary:
                old.summaries[rel] = check.result.summary
            else:
                old.summaries.pop(rel, None)
        files.sort(key=lambda item: _natural_key(item[0]))
        last.files = files
        course_findings = last.course_findings
        before = last.course_findings
        course = old
        if not course_changed:
            # Same views: the course findings stand; the edited files' records take the
            # place of the old ones (their text is the buffer's, not the disk's).
            _swap_records(old, {rel: records[rel] for rel in checked if rel in records})
        else:
            docs = [records[rel] for rel, _ in files if rel in records]
            lessons = sorted((d for d in docs if d.lesson_id is not None), key=self._reader.order_key)
            for i, doc in enumerate(lessons):
                doc.order_index = i
            by_id: dict[str, Document] = {}
            for doc in lessons:
                for key in (doc.lesson_id, *doc.aliases):
                    if key is not None:
                        by_id.setdefault(key, doc)
            course = Course(
                self.config.root,
                lessons,
                [d for d in docs if d.role == "data"],
                [d for d in docs if d.role == "other"],
                by_id,
            )
            course.summaries = {rel: s for rel, s in old.summaries.items() if rel in records}
            course.store = old.store
            hook = None if between is None else (lambda _done, _total: between())
            course_findings = self._course_stage(course, last.active_rules, files, hook)
            last.course_findings = course_findings
            last.course_by_path = None
        # Findings are finished per file (levels, suppressions and fingerprints are the
        # file's own): only the files checked, gone, or whose course findings changed.
        dirty: set[str] | None = set(checked) | gone
        if course_findings is not before:
            old_by_path, new_by_path = _by_path(before), _by_path(course_findings)
            dirty.update(  # type: ignore[union-attr]
                path
                for path in old_by_path.keys() | new_by_path.keys()
                if [_raw_key(f) for f in old_by_path.get(path, [])] != [_raw_key(f) for f in new_by_path.get(path, [])]
            )
        finished = last.finished
        if finished is None:
            finished = last.finished = {}
            dirty = None  # every file
        own_course = last.course_by_path = _by_path(course_findings)  # check_source reads it at every edit
        walk = _by_path(last.walk_problems)
        paths = set(last.file_findings) | set(own_course) | set(walk) if dirty is None else dirty
        for path in paths:
            raw = [*walk.get(path, []), *last.file_findings.get(path, []), *own_course.get(path, [])]
            own_doc = course.document(path)
            finished[path] = self._finisher.finish(_fresh(raw), [own_doc] if own_doc is not None else [], last.reported)
            if not finished[path]:
                del finished[path]
        self.rechecked = set(paths)
        findings = [f for path in sorted(finished, key=_natural_key) for f in finished[path]]
        findings.sort(key=Finding.sort_key)
        return Result(
            root=self.config.root,
            config_path=self.config.display_path,
            findings=findings,
            rules=sorted(last.active_rules, key=lambda r: r.id),
            files=[rel for rel, _ in files if last.reported is None or rel in last.reported],
            notifications=self.notes,
            duration=time.perf_counter() - started,
            fail_level=self.options.fail_level or self.config.fail_level,
            course=course,
            extra=course.extra,
            config=self.config,
        )


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
