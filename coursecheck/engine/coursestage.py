"""The course stage: the course rules on the records of every file, stored between runs
(coursecheck.coursecache) and reused when nothing they read has changed; after an edit that
only moved lines, relocatable rules' stored findings move with them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pluggy

from coursecheck import coursecache, records
from coursecheck.cache import FileCache, restoring_many
from coursecheck.config import Config, Settings
from coursecheck.engine.discovery import OUTSIDE_ROOT
from coursecheck.engine.rulecalls import RuleCalls
from coursecheck.engine.summaries import DeferredSummaries
from coursecheck.model import Course, Document, Finding
from coursecheck.plugins import Notification, builtin_rule_kinds
from coursecheck.records import DocumentRecord, LineMove
from coursecheck.results import FileResult
from coursecheck.rules import Rule, RuleContext
from coursecheck.text import Span


class CourseStage:
    """The course stage of one run. Its inputs: the file cache (None: in memory, never
    stored) and the run's base key in it, each file's per-file key (``file_keys``) and view
    (``views``: what course rules see of it), the links discovery refused (``walk_refused``).
    What it leaves: ``key``, the key of the stage it stored or reused ("" : none), with
    ``file_digests`` (per file, a digest of its course findings), and ``relocated``, how many rules' stored findings it moved instead of running them (None
    when it reused the whole stage)."""

    def __init__(
        self,
        config: Config,
        pm: pluggy.PluginManager,
        settings: Settings,
        calls: RuleCalls,
        notes: list[Notification],
        cache: FileCache | None,
        base_key: str,
        file_keys: dict[str, str],
        views: dict[str, str],
        walk_refused: set[str],
    ) -> None:
        self.config = config
        self.pm = pm
        self.settings = settings
        self.notes = notes
        self._calls = calls
        self._cache = cache
        self._base_key = base_key
        self._file_keys = file_keys
        self._views = views
        self._walk_refused = walk_refused
        self.key = ""
        self.reused = False  # the whole stored stage was reused: its findings are the stored ones
        self.reads: coursecache.Reads | None = None  # what the stage stored or reused read
        self.relocated: int | None = None
        # With ``key``: per file, a digest of its course findings (coursecache.Stage.file_digests).
        self.file_digests: dict[str, str] = {}

    def run(
        self,
        course: Course,
        active_rules: list[Rule],
        to_load: list[tuple[str, str]],
        progress: Callable[[int, int], None] | None,
        step: int,
        total_steps: int,
        *,
        reuse: bool = True,
    ) -> list[Finding]:
        """The course rules' findings (``reuse``: the stage may be stored and reused; not in
        a merge): from the cache when neither the checked files' views,
        the config, the data files nor any file the rules read outside them has changed.

        After an edit that moved things in some files without changing their shape
        (records.shape), relocatable rules' stored findings are moved with their lines
        instead of running the rules again (the others run)."""
        course_rules = [r for r in active_rules if r.course]
        keys = self._course_keys(course, course_rules, to_load) if reuse else None
        summaries = course.summaries
        if keys is None and isinstance(summaries, DeferredSummaries):
            summaries.restore()
        previous: coursecache.Stage | None = None
        moves: dict[str, LineMove] | None = None
        documents: dict[str, Document] = {}
        if keys is not None:
            assert self._cache is not None
            key, layout = keys
            stages, latest = self._cache.course_stages(), self._cache.latest_course_stages()
            with restoring_many():
                stored = coursecache.unpack(stages.get(key), course)
            if stored is not None:
                if progress is not None:
                    progress(step + len(course_rules), total_steps)
                if latest.get(layout) != key:
                    latest.put(layout, key)
                course.extra.update(stored.extra())
                self.reads = stored.reads
                self.key = key
                self.reused = True
                self.file_digests = stored.file_digests()
                return stored.findings()
            # The summaries stay deferred: coursecheck's own rules (the only ones a stored
            # stage runs with: coursecache.trusted) read them through methods, which restore
            # them, or through ctx.summaries(), which restores their own parts only.
            last_key = latest.get(layout)
            if isinstance(last_key, str):
                with restoring_many():
                    previous = coursecache.unpack(stages.get(last_key), course)
            if previous is not None:
                documents = {d.relpath: d for d in (*course.lessons, *course.data_files, *course.others)}
                relocatable = {r.id for r in course_rules if r.relocatable}
                moves = self._line_moves(course, previous, documents, relocatable)
            reads = coursecache.start_recording(course)
            reads.records = records.track_reads()
        notes_before = len(self.notes)
        findings: list[Finding] = []
        outcomes: dict[str, tuple[list[Finding], dict[str, Any]]] = {}
        relocated = 0
        try:
            for rule in course_rules:
                if progress is not None:
                    step += 1
                    progress(step, total_steps)
                if moves is not None and previous is not None and rule.relocatable and rule.id in previous.outcomes:
                    moved = coursecache.relocate(previous.outcomes[rule.id], moves, documents)
                    if moved is not None:
                        outcomes[rule.id] = moved
                        findings.extend(moved[0])
                        course.extra.update(moved[1])
                        relocated += 1
                        continue
                _level, options = self.settings.base(rule.id)
                ctx = RuleContext(
                    rule,
                    self.config,
                    options,
                    course,
                    options_for=functools.partial(self._calls.file_options, rule.id),
                    max_findings=self._calls.max_findings(rule.id),
                )
                before = dict(course.extra)
                found = self._calls.call(rule, ctx, course, "")
                published = {name: value for name, value in course.extra.items() if before.get(name) is not value}
                outcomes[rule.id] = (found, published)
                findings.extend(found)
        finally:
            if keys is not None:
                coursecache.stop_recording(course)
                records.stop_tracking()
        self.relocated = relocated
        # Links leading out of the root that the rules met (artifacts, key links, the
        # glossary, relative links): stored with the stage, as a rule's findings are.
        earlier = previous.outcomes.get(OUTSIDE_ROOT, ([], {}))[0] if previous is not None and relocated else []
        refused = self._refused_findings(course, earlier)
        findings.extend(refused)
        outcomes[OUTSIDE_ROOT] = (refused, {})
        if keys is not None and len(self.notes) == notes_before:
            self.reads = reads  # what the stage read (with the earlier run's, when it moved findings)
            if previous is not None and relocated:
                # The moved findings rest on what the earlier run's rules read.
                reads.answers = {**previous.reads.answers, **reads.answers}
                reads.records = {**previous.reads.records, **reads.records}
            file_keys = {rel: self._file_keys[rel] for rel in self._views if rel in self._file_keys}
            made = coursecache.Stage(reads, outcomes, dict(self._views), file_keys)
            packed = coursecache.pack(made, previous if relocated else None)
            if packed is not None:
                assert self._cache is not None
                self._cache.course_stages().put(keys[0], packed)
                self._cache.latest_course_stages().put(keys[1], keys[0])
                self.key = keys[0]
                self.file_digests = made.file_digests()
        return findings

    def _refused_findings(self, course: Course, earlier: list[Finding]) -> list[Finding]:
        """A ``parse/outside-root`` finding per link the course rules refused to follow
        (coursecache.refused_links), and those of ``earlier`` (relocated rules' links), except
        links discovery reported already (a lesson or data file that is such a link)."""
        reported = set(self._walk_refused) | {
            p.path
            for doc in (*course.lessons, *course.data_files, *course.others)
            for p in getattr(doc, "problems", ())
            if p.rule_id == OUTSIDE_ROOT
        }
        out: dict[str, Finding] = {f.path: f for f in earlier if f.path not in reported}
        for link, why in coursecache.refused_links(course).items():
            if link not in reported and link not in out:
                out[link] = Finding(OUTSIDE_ROOT, why, link, Span.point(1, 1))
        return [out[link] for link in sorted(out)]

    def _line_moves(
        self, course: Course, previous: coursecache.Stage, documents: dict[str, Document], relocatable: set[str]
    ) -> dict[str, LineMove] | None:
        """For the files whose view changed since ``previous`` was stored: how their lines
        moved, if each still has the shape it had (None otherwise: the course rules run).

        The shape takes in the summaries of the ``relocatable`` rules only: the others run
        again anyway, and a relocatable rule reads its own summaries only (rules.py)."""
        assert self._cache is not None
        if previous.views.keys() != self._views.keys():
            return None
        moves: dict[str, LineMove] = {}
        for rel, view in self._views.items():
            if previous.views[rel] == view:
                continue
            old = self._cache.get(previous.file_keys.get(rel, ""))
            new = documents.get(rel)
            if not isinstance(old, FileResult) or old.fields is None or not isinstance(new, DocumentRecord):
                return None
            # The earlier record, as stored: nothing to load or read again (its file changed).
            old_record = DocumentRecord(old.fields, lambda _rel: None, lambda _rel: None)
            if records.shape(old_record, _only(old.summary, relocatable)) != records.shape(
                new, _summary_parts(course.summaries, rel, relocatable)
            ):
                return None
            moves[rel] = LineMove.between(old_record, new)
        return moves

    def _course_keys(
        self, course: Course, course_rules: list[Rule], to_load: list[tuple[str, str]]
    ) -> tuple[str, str] | None:
        """The cache keys of the course stage: the key it is stored under, and the key of
        the course's *layout* (the same without the files' views), under which the key of
        the last stage stored for it is kept. None when the stage is not stored: no cache,
        a file without a per-file key (unreadable, or from a shard), or a course rule
        whose reads outside the checked files are not recorded (a plugin's).

        A file takes part by its *view* (what course rules see of it without a recorded
        read: records.view_digest), not by its bytes: an edit that changes no link, heading,
        frontmatter value, summary or position of them reuses the stored course findings."""
        if self._cache is None or not course_rules:
            return None
        builtin_kinds = builtin_rule_kinds(self.pm)
        if not all(coursecache.trusted(r, builtin_kinds) for r in course_rules):
            return None
        data_rels = {d.relpath for d in course.data_files}  # their content is in the base key
        files: list[str] = []
        views: list[str] = []
        for rel, role in to_load:
            file_key = "data" if rel in data_rels else self._file_keys.get(rel)
            if file_key is None:
                return None
            files.append(f"{rel}\0{role}")
            views.append(self._views.get(rel) or file_key)
        common = (
            str(coursecache.FORMAT),
            self._base_key,
            coursecache.config_bytes(self.config),
            repr(sorted(self.config.origins.items(), key=repr)),
            "\0".join(f"{r.id}:{r.plugin}:{r.relocatable}" for r in course_rules),
            "\0\0".join(files),
        )
        return FileCache.key("course stage", *common, "\0".join(views)), FileCache.key("course layout", *common)


def _summary_parts(summaries: dict[str, dict[str, Any]], rel: str, names: set[str]) -> dict[str, Any]:
    """The parts of ``rel``'s summary made by the rules ``names`` (a deferred summary
    restores those only)."""
    if isinstance(summaries, DeferredSummaries):
        return summaries.parts_of(rel, names)
    return _only(summaries.get(rel, {}), names)


def _only(summary: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The parts of a file's summary made by the rules ``names``."""
    return {name: data for name, data in summary.items() if name in names}
