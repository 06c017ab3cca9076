"""The run: discover -> parse -> document rules -> course rules -> suppress -> Result.

The engine knows no rule: it asks the plugins for rules, parsers and reporters. This is
the orchestrator: :meth:`Engine.run` reads top to bottom as the run goes, each stage is a
module of this package that gets what it needs as arguments and hands back what it made
(registry, discovery, reading, keys, rulecalls, perfile, coursestage, finishing, and
incremental for the editor's re-checks; shards are a source of per-file results,
coursecheck.shard).
"""

from __future__ import annotations

import gc
import operator
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import groupby
from pathlib import Path
from typing import Any

from coursecheck import coursecache, runindex
from coursecheck.cache import DEFAULT_DIR as DEFAULT_CACHE_DIR
from coursecheck.cache import FileCache, freezing_loaded, open_folder, secret_key
from coursecheck.config import Config, expand_template
from coursecheck.engine import discovery
from coursecheck.engine.coursestage import CourseStage
from coursecheck.engine.discovery import FILE_NAME, OUTSIDE_ROOT, _file_name_problem, _relpath
from coursecheck.engine.finishing import FORMAT as FINISH_FORMAT
from coursecheck.engine.finishing import Finisher, FinishKeys, finish_context
from coursecheck.engine.incremental import Rechecks, _LastRun
from coursecheck.engine.keys import RunKeys, _StoredOutputs
from coursecheck.engine.perfile import PerFileStage
from coursecheck.engine.reading import Reader, _digest_of, _kind_of, _size
from coursecheck.engine.registry import Registry
from coursecheck.engine.rulecalls import RuleCalls
from coursecheck.engine.summaries import DeferredSummaries
from coursecheck.findingstore import FinishedGroups, GroupStore
from coursecheck.fsutil import encodable
from coursecheck.globs import compile_glob, literal_base
from coursecheck.model import Course, Document, Finding, Phase
from coursecheck.plugins import Notification, call_each
from coursecheck.records import DocumentRecord, read_text
from coursecheck.results import FileResult, Result, RunOptions, SourceCheck
from coursecheck.rules import Rule
from coursecheck.shard import ShardArtifact, ShardError, ShardResults, assign


class Engine:
    def __init__(self, config: Config, options: RunOptions | None = None) -> None:
        self.config = config
        self.options = options or RunOptions()
        self.notes: list[Notification] = []
        registry = Registry(config, self.options, self.notes)
        self.pm, self.rules, self.settings = registry.pm, registry.rules, registry.settings
        self._reader = Reader(config, self.pm, self.notes)
        self._calls = RuleCalls(config, self.settings, self.options, self.notes)
        self._finisher = Finisher(self.rules, self.settings, self._calls.selected)
        self._keys = RunKeys(config, self.pm, self.rules, self.settings, self.notes)
        self._cache: FileCache | None = None
        self._base_key = ""
        self._full_key = ""  # the base key of the run with every rule, when this one selects
        # The key of the course stage this run stored or reused ("" : none): what commands
        # key their stored outputs on (stored_output).
        self.course_stage_key = ""
        self.course_stage_reused = False
        self._course_digests: dict[str, str] = {}  # per file, a digest of its course findings (the course stage)
        self._cache_notes: list[str] = []  # why the cache is off or keyed for this run only (-v)
        self._index_rejected = 0  # run indexes (or results in them) that failed to load
        self._parts_rejected_from = runindex.rejected_parts  # records' parts kept apart that failed their check
        self.course: Course | None = None
        self.cache_hits = self.cache_misses = 0  # files served from / missing in the cache
        self.reparsed = 0  # records parsed again in the course stage (see coursecheck.records)
        self.swept = 0  # cache entries deleted at the end of the run (FileCache.sweep)
        self._file_keys: dict[str, str] = {}  # relpath -> per-file cache key
        self._views: dict[str, str] = {}  # relpath -> FileResult.view (the course stage's key)
        self.relocated = 0  # course rules whose stored findings the last run moved (not ran)
        self.replayed = 0  # files whose finishing the last run replayed from the store (not did)
        # Temporary files of killed writes seen by discovery (folder -> names), and those removed.
        self._leftovers: dict[str, list[str]] = {}
        self.removed_leftovers: list[str] = []
        self._walk_refused: set[str] = set()  # links discovery reported (parse/outside-root)
        # The folders the last discovery walked, with their names (coursecheck.replay), and
        # what the course rules read outside the checked files (None: not known).
        self.walked: dict[str, Any] = {}
        self.course_reads: coursecache.Reads | None = None
        self._last: _LastRun | None = None  # what check_source and recheck_course start from
        self.rechecked: set[str] = set()  # the files whose findings the last recheck_course finished again

    def reporters(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for _name, value in call_each(
            self.pm, "coursecheck_reporters", self.notes, lambda v: isinstance(v, dict), "a dict"
        ):
            out.update(value)
        return out

    # -- discovery ----------------------------------------------------------------------

    def discover(self) -> tuple[list[tuple[str, str]], list[Finding]]:
        """``(relpath, role)`` for every file of the course, and the problems met
        (coursecheck.engine.discovery)."""
        self.walked = {}
        files, problems, self._leftovers = discovery.discover(self.config, self.walked)
        return files, problems

    def _remove_leftovers(self) -> None:
        """Remove the temporary files a killed ``--fix`` left beside the course's files."""
        self.removed_leftovers.extend(discovery.remove_leftovers(self._leftovers, self.config.root))
        self._leftovers = {}

    # -- the run ------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> Result:
        """Check the course. ``progress(done, total)``, if given, is called as files are parsed
        and checked and as course rules run (the CLI draws a progress bar with it)."""
        with _fewer_collections():
            return self._run(progress)

    def _run(self, progress: Callable[[int, int], None] | None, shards: ShardResults | None = None) -> Result:
        """The run; ``shards``: take the per-file results from a sharded run's artifacts
        instead of the per-file stage (:meth:`merge`)."""
        started = time.perf_counter()
        self.course_stage_key = ""
        self.course_stage_reused = False
        files, walk_problems = self.discover()
        self._remove_leftovers()
        self._walk_refused = {f.path for f in walk_problems if f.rule_id == OUTSIDE_ROOT}
        findings: list[Finding] = list(walk_problems)
        reported, extra_files = self._reported(files, findings)

        to_load = [*files, *extra_files]
        active_rules = self._active_rules()
        course_rule_count = sum(1 for r in active_rules if r.course)
        total_steps = 2 * len(to_load) + course_rule_count  # each file: read+parse, then check

        data_docs = self._load_data_docs(to_load)
        stage_course = Course(self.config.root, [], [d for d in data_docs if d.role == "data"], [], {})
        self._open_run_cache(active_rules, data_docs)
        # Where each finding comes from (finishing keys each file's group on it).
        segments: list[tuple[int, str | None]] = [(len(findings), _digest_key("walk", findings))]
        docs, summaries, file_findings, step = self._per_file_stage(
            to_load, data_docs, stage_course, active_rules, shards, findings, progress, total_steps, segments
        )
        course = self.course = self._assemble(docs, summaries)
        course_findings = self._course_stage(
            course, active_rules, to_load, progress, step, total_steps, reuse=shards is None
        )
        if not self.course_stage_key or shards is not None:
            findings.extend(course_findings)
            segments.append((len(findings), None))
        else:
            # Each file's course findings are their own source, keyed by a digest of them:
            # after an edit that makes the course stage run again (or move its findings),
            # the files whose course findings did not change keep their finished groups
            # (finishing works per file, and only the order within a file matters: the
            # stable sort keeps it). The same keys whether the stage ran or was reused, so
            # that a warm run after such an edit replays them too.
            digests = self._course_digests
            for path, group in groupby(sorted(course_findings, key=_path_of), key=_path_of):
                items = list(group)
                findings.extend(items)
                segments.append((len(findings), digests.get(path) or _digest_key("course", items)))
        self._last = _LastRun(
            to_load, active_rules, stage_course, list(walk_problems), file_findings, course_findings, reported
        )

        if progress is not None:
            progress(total_steps, total_steps)
        if self._cache is not None and shards is None:
            self.swept = self._cache.sweep(self._file_keys.values(), self.cache_misses, len(to_load))
        keys = self._finish_keys(segments, docs, data_docs) if shards is None else None
        if keys is not None and keys.store is not None:
            keys.store.keep_unused = reported is not None
        findings = self._finisher.finish(findings, docs, reported, keys)
        if keys is not None and keys.store is not None:
            keys.store.save()
        self.replayed = 0 if keys is None else keys.replayed
        result = self._result(findings, active_rules, docs, reported, course, to_load, started, shards)
        if keys is not None and keys.store is not None and self._cache is not None:
            blocks = FinishedGroups(self._cache.folder, self.config.root, self._cache.mac_key)
            blocks.groups = keys.groups
            blocks.partial = reported is not None
            result.blocks = blocks
        return result

    def _finish_keys(
        self, segments: list[tuple[int, str | None]], docs: list[Document], data_docs: list[Document]
    ) -> FinishKeys | None:
        """The keys finishing stores each file's group under (None: no cache)."""
        if self._cache is None or not self._base_key:
            return None
        data_rels = {d.relpath for d in data_docs}
        records = {}
        for doc in docs:
            key = "data" if doc.relpath in data_rels else self._file_keys.get(doc.relpath)
            if key:
                records[doc.relpath] = f"{key}:{doc.role}"
        context = finish_context(
            str(FINISH_FORMAT),
            self._base_key,
            repr(coursecache.config_bytes(self.config)),
            repr(sorted(self.config.origins.items(), key=repr)),
            repr((self.config.rules, self.config.overrides)),
            repr(sorted((r.id, r.level, r.plugin, r.course) for r in self.rules.values())),
            repr((self.options.select, self.options.ignore)),
        )
        store = GroupStore(self._cache.folder, self.config.root, "finishing", self._cache.mac_key)
        return FinishKeys(context, segments, records, store)

    def _reported(
        self, files: list[tuple[str, str]], findings: list[Finding]
    ) -> tuple[set[str] | None, list[tuple[str, str]]]:
        """The paths the run reports on (None: every path) by the PATHS given, and the files
        given that the course's globs do not take (checked as ``other``). A name that is not
        UTF-8 is added to ``findings`` (``parse/file-name``)."""
        root = self.config.root
        course_files = {rel for rel, _ in files}
        reported: set[str] | None = None
        extra_files: list[tuple[str, str]] = []
        if self.options.paths:
            reported = set()
            for p in self.options.paths:
                absolute = p if p.is_absolute() else Path.cwd() / p
                rel = _relpath(absolute, root)
                if rel is not None and not encodable(rel):
                    problem = _file_name_problem(rel)
                    if not any(f.path == problem.path and f.rule_id == FILE_NAME for f in findings):
                        findings.append(problem)
                    reported.add(problem.path)
                    continue
                if rel is None:
                    if not self.options.force_exclude:
                        self.notes.append(
                            Notification(f"{p} is outside the project root {root}; skipped", level="warning")
                        )
                    continue
                if absolute.is_dir():
                    prefix = "" if rel == "." else rel + "/"
                    reported.update(f for f in course_files if f.startswith(prefix))
                elif rel in course_files:
                    reported.add(rel)
                elif self.options.force_exclude:
                    if self.config.path is not None and absolute.resolve() == self.config.path.resolve():
                        reported = None
                        break
                elif absolute.is_file():
                    reported.add(rel)
                    extra_files.append((rel, "other"))
                else:
                    self.notes.append(Notification(f"{p}: no such file", level="warning"))
        return reported, extra_files

    def _open_run_cache(self, active_rules: list[Rule], data_docs: list[Document]) -> None:
        """The file cache of this run and its keys (None: no cache)."""
        self._cache = self._open_cache()
        if self._cache is not None:
            self._base_key = self._keys.cache_base_key(active_rules, data_docs)
            self._full_key = self._keys.full_base_key(active_rules, data_docs, self._base_key)

    def _per_file_stage(
        self,
        to_load: list[tuple[str, str]],
        data_docs: list[Document],
        stage_course: Course,
        active_rules: list[Rule],
        shards: ShardResults | None,
        findings: list[Finding],
        progress: Callable[[int, int], None] | None,
        total_steps: int,
        segments: list[tuple[int, str | None]] | None = None,
    ) -> tuple[list[Document], dict[str, dict[str, Any]], dict[str, list[Finding]], int]:
        """The data files' checks, then every other file's per-file result (from the shards
        when merging): the documents and records in course order, the summaries, the per-file
        findings by file (also added to ``findings``) and the progress step reached."""
        root = self.config.root
        step = 0
        data_rels = {d.relpath for d in data_docs}
        by_rel: dict[str, Document] = {}
        summaries: dict[str, dict[str, Any]] = {}
        file_findings: dict[str, list[Finding]] = {}  # per-file stage findings (see check_source)
        for doc in data_docs:
            step += 2
            if progress is not None:
                progress(step, total_steps)
            summary: dict[str, Any] = {}
            found = file_findings[doc.relpath] = self._calls.check_document(doc, stage_course, active_rules, summary)
            findings.extend(found)
            if segments is not None:
                segments.append((len(findings), f"data:{doc.relpath}"))
            if summary:
                summaries[doc.relpath] = summary
            by_rel[doc.relpath] = doc
        rest = [(rel, role) for rel, role in to_load if rel not in data_rels]
        keep = self.options.keep_documents is None or len(rest) <= self.options.keep_documents
        stage = self._files_stage()
        deferred: list[tuple[str, Any]] | None = None
        per_file: Iterable[tuple[FileResult, Document | None]]
        if shards is not None:
            per_file = shards.results(rest, self._keys.run_key(active_rules, data_docs), root, _digest_of)
        else:
            per_file = stage.per_file_results(rest, stage_course, active_rules, use_index=True)
        for result, full in per_file:
            step += 2
            if progress is not None:
                progress(step, total_steps)
            findings.extend(result.findings)
            if segments is not None and result.findings:
                key = self._file_keys.get(result.relpath)
                segments.append((len(findings), f"file:{key}" if key else None))
            file_findings[result.relpath] = result.findings
            self.notes.extend(result.notes)
            # No view (no record, or no cache): the file's bytes stand for it.
            self._views[result.relpath] = result.view or self._file_keys.get(result.relpath, "")
            pickled = stage.deferred_summaries.pop(result.relpath, None)
            if pickled is not None or deferred is not None:
                # Kept in order, the pickled ones restored only if read (DeferredSummaries).
                if deferred is None:
                    deferred = list(summaries.items())
                if pickled is not None:
                    deferred.append((result.relpath, pickled))
                elif result.summary:
                    deferred.append((result.relpath, result.summary))
            elif result.summary:
                summaries[result.relpath] = result.summary
            if result.fields is None:
                continue
            record = DocumentRecord(result.fields, self._reload, self._read_text)
            if full is not None and keep:
                record._full = full
            by_rel[result.relpath] = record
        self._counted(stage)
        if deferred is not None:
            summaries = DeferredSummaries(deferred)
        docs = [by_rel[rel] for rel, _ in to_load if rel in by_rel]
        return docs, summaries, file_findings, step

    def _assemble(self, docs: list[Document], summaries: dict[str, dict[str, Any]]) -> Course:
        """The course the course rules see: lessons in course order with their ids and
        aliases, the data files, the others, the summaries, the store."""
        lessons = [d for d in docs if d.lesson_id is not None]
        lessons.sort(key=self._reader.order_key)
        for i, doc in enumerate(lessons):
            doc.order_index = i
        by_id: dict[str, Document] = {}
        for doc in lessons:
            assert doc.lesson_id is not None  # a lesson is a document with an id
            for key in (doc.lesson_id, *doc.aliases):
                by_id.setdefault(key, doc)
        course = Course(
            self.config.root,
            lessons,
            [d for d in docs if d.role == "data"],
            [d for d in docs if d.role == "other"],
            by_id,
        )
        course.summaries = summaries
        course.store = self._cache
        return course

    def _result(
        self,
        findings: list[Finding],
        active_rules: list[Rule],
        docs: list[Document],
        reported: set[str] | None,
        course: Course,
        to_load: list[tuple[str, str]],
        started: float,
        shards: ShardResults | None,
    ) -> Result:
        """The run's Result, with what plugins add to the report (sections, phases)."""
        fail_level = self.options.fail_level or self.config.fail_level
        run_result = Result(
            root=self.config.root,
            config_path=self.config.display_path,
            findings=findings,
            rules=sorted(active_rules, key=lambda r: r.id),
            files=[d.relpath for d in docs if reported is None or d.relpath in reported],
            notifications=self.notes,
            duration=time.perf_counter() - started,
            fail_level=fail_level,
            course=course,
            extra=course.extra,
            config=self.config,
            outputs=self._outputs_for(to_load) if shards is None else None,
        )
        for _name, sections in call_each(
            self.pm,
            "coursecheck_report_sections",
            self.notes,
            _is_sections,
            "(heading, markdown) pairs",
            result=run_result,
        ):
            run_result.report_sections.extend((str(heading), str(body)) for heading, body in sections)
        for _name, phases in call_each(
            self.pm, "coursecheck_phases", self.notes, _is_phases, "a list of Phase", config=self.config
        ):
            run_result.phases.extend(phases)
        return run_result

    # -- the stages, made for this run: what each needs is given, what it made is read back --

    def _files_stage(self) -> PerFileStage:
        """The per-file stage on this run's cache and keys; it fills ``_file_keys``."""
        return PerFileStage(
            self.config,
            self.options,
            self._reader,
            self._calls,
            self.notes,
            self._cache,
            self._base_key,
            self._full_key,
            self._file_keys,
        )

    def _counted(self, stage: PerFileStage) -> None:
        """Add what a per-file stage counted to the engine's counts (``coursecheck -v``)."""
        self.cache_hits += stage.cache_hits
        self.cache_misses += stage.cache_misses
        self._index_rejected += stage.index_rejected

    def _course_stage(
        self,
        course: Course,
        active_rules: list[Rule],
        to_load: list[tuple[str, str]],
        progress: Callable[[int, int], None] | None,
        step: int,
        total_steps: int,
        *,
        reuse: bool = True,
        in_memory: bool = False,
    ) -> list[Finding]:
        """The course rules' findings (coursecheck.engine.coursestage; ``reuse``: the stage
        may be stored and reused, not in a merge; ``in_memory``: without the cache)."""
        stage = CourseStage(
            self.config,
            self.pm,
            self.settings,
            self._calls,
            self.notes,
            None if in_memory else self._cache,
            self._base_key,
            self._file_keys,
            self._views,
            self._walk_refused,
        )
        findings = stage.run(course, active_rules, to_load, progress, step, total_steps, reuse=reuse)
        self.course_stage_reused = stage.reused
        self._course_digests = stage.file_digests
        if stage.key:
            self.course_stage_key = stage.key
        if stage.relocated is not None:
            self.relocated = stage.relocated
        self.course_reads = stage.reads if stage.key else None
        return findings

    def _finish(self, findings: list[Finding], docs: list[Document], reported: set[str] | None) -> list[Finding]:
        return self._finisher.finish(findings, docs, reported)

    def _load(self, path: Path, rel: str) -> Document | None:
        return self._reader.load(path, rel)

    def _load_data_docs(self, to_load: list[tuple[str, str]]) -> list[Document]:
        """Data files first, whole and in this process: document rules may read them
        (the glossary), so they are part of every other file's cache key."""
        data_docs: list[Document] = []
        for rel, role in to_load:
            if role == "data" or (role == "lesson" and _kind_of(rel) in ("json", "yaml")):
                doc = self._load(self.config.root / rel, rel)
                if doc is not None:
                    doc.aliases = []
                    doc.role = "data" if role == "data" or doc.kind in ("json", "yaml") else "other"
                    data_docs.append(doc)
        return data_docs

    # -- incremental re-checks (an editor's buffers: coursecheck.lsp) -------------------

    def role_of(self, rel: str) -> str | None:
        """The role discovery gives a file of the project (lesson | data), None when the
        course's globs do not take it."""
        return self._rechecks().role_of(rel)

    def files(self) -> list[tuple[str, str]]:
        """``(relpath, role)`` of the files the last run (or re-check) checked."""
        return list(self._last.files) if self._last is not None else []

    def lesson_names(self, rel: str) -> list[str]:
        """The names a lesson at ``rel`` has: its id, then each alias template expanded
        (in the config's order, repeats kept: index k is always the same template)."""
        course = self.config.course
        inside = rel
        for pattern in course.content:
            if compile_glob(pattern).match(rel):
                base = literal_base(pattern)
                if base and rel.startswith(base + "/"):
                    inside = rel[len(base) + 1 :]
                break
        return [expand_template(course.id, inside), *(expand_template(t, inside) for t in course.aliases)]

    def check_source(self, rel: str, content: bytes) -> SourceCheck:
        """The per-file stage for ``content`` standing for the file ``rel`` (an editor's
        unsaved buffer): see :meth:`Rechecks.check_source` (coursecheck.engine.incremental)."""
        return self._rechecks().check_source(rel, content)

    def recheck_course(
        self,
        checks: Iterable[SourceCheck] = (),
        removed: Iterable[str] = (),
        between: Callable[[], None] | None = None,
    ) -> Result:
        """The last run again with the files of ``checks`` as :meth:`check_source` checked
        them and the files ``removed`` gone: see :meth:`Rechecks.recheck_course`
        (coursecheck.engine.incremental)."""
        if self._last is None or self.course is None:
            raise RuntimeError("recheck_course() needs a run() first")
        rechecks = self._rechecks()
        result = rechecks.recheck_course(self.course, checks, removed, between)
        self.rechecked = rechecks.rechecked
        return result

    def _rechecks(self) -> Rechecks:
        """The editor's re-checks, from what the last run left."""
        return Rechecks(
            self.config,
            self.options,
            self.notes,
            self._last,
            self._reader,
            self._calls,
            self._finisher,
            self._views,
            self._files_stage,
            self._course_stage_in_memory,
            self._reload,
            self._read_text,
        )

    def _course_stage_in_memory(
        self,
        course: Course,
        active_rules: list[Rule],
        to_load: list[tuple[str, str]],
        progress: Callable[[int, int], None] | None,
    ) -> list[Finding]:
        """A re-check's course stage, on ``course`` (the engine's course from now on: records
        are parsed again through it) and in memory: the stored stages are the disk's."""
        self.course = course
        return self._course_stage(course, active_rules, to_load, progress, 0, 0, in_memory=True)

    # -- sharding (coursecheck.shard) -------------------------------------------------

    def _active_rules(self) -> list[Rule]:
        return [r for r in self.rules.values() if self._calls.selected(r.id) and self.settings.enabled_anywhere(r.id)]

    def run_key(self, active_rules: list[Rule], data_docs: list[Document]) -> dict[str, str]:
        """What the per-file results depend on besides the files, part by part (a merge
        names the part that differs): coursecheck.engine.keys."""
        return self._keys.run_key(active_rules, data_docs)

    def declared_inputs(self) -> list[str]:
        """The files plugins declare their document rules read besides the checked ones
        (``coursecheck_inputs``)."""
        return self._keys.declared_inputs()

    def run_shard(self, index: int, total: int, progress: Callable[[int, int], None] | None = None) -> ShardArtifact:
        """The per-file stage for the files of shard ``index`` of ``total``."""
        with _fewer_collections():
            files, _walk_problems = self.discover()  # the merge reports them
            active_rules = self._active_rules()
            data_docs = self._load_data_docs(files)
            data_rels = {d.relpath for d in data_docs}
            rest = [(rel, role) for rel, role in files if rel not in data_rels]
            sizes = {rel: _size(self.config.root / rel) for rel, _ in rest}
            mine = set(assign(sizes, total)[index - 1])
            items = [(rel, role) for rel, role in rest if rel in mine]
            stage_course = Course(self.config.root, [], [d for d in data_docs if d.role == "data"], [], {})
            self._cache = self._open_cache()
            if self._cache is not None:
                self._base_key = self._keys.cache_base_key(active_rules, data_docs)
            listed: list[tuple[str, str, str]] = []
            results: list[FileResult] = []
            stage = self._files_stage()
            for n, (result, _full) in enumerate(stage.per_file_results(items, stage_course, active_rules), 1):
                listed.append((result.relpath, items[n - 1][1], _digest_of(self.config.root, result.relpath)))
                results.append(result)
                if progress is not None:
                    progress(n, len(items))
            self._counted(stage)
            return ShardArtifact(index, total, self._keys.run_key(active_rules, data_docs), listed, results)

    def merge(self, artifacts: list[ShardArtifact], progress: Callable[[int, int], None] | None = None) -> Result:
        """The course stage on the shards' per-file results: the Result an unsharded run
        would give. Raises ShardError when the artifacts do not belong together or to
        this checkout."""
        if not artifacts:
            raise ShardError("no shard artifacts given")
        total = artifacts[0].total
        seen: dict[int, int] = {}
        for a in artifacts:
            if a.total != total:
                raise ShardError(f"shard {a.index}/{a.total} is from a split into {a.total}, not {total}")
            seen[a.index] = seen.get(a.index, 0) + 1
        twice = sorted(k for k, count in seen.items() if count > 1)
        missing = [k for k in range(1, total + 1) if k not in seen]
        if twice:
            raise ShardError(f"shard {twice[0]}/{total} given more than once")
        if missing:
            raise ShardError(
                f"missing shard{'s' if len(missing) > 1 else ''} {', '.join(f'{k}/{total}' for k in missing)}"
            )
        with _fewer_collections():
            return self._run(progress, ShardResults(artifacts))

    # -- the course stage (course rules; stored between runs, coursecheck.coursecache) ----

    def _outputs_for(self, to_load: list[tuple[str, str]]) -> _StoredOutputs | None:
        """Result.outputs for this run: None without a cache, or when a file has no per-file
        key (unreadable, from a shard: the caller passes None for a merge)."""
        if self._cache is None:
            return None
        data_rels = {d.relpath for d in self.course.data_files} if self.course is not None else set()
        parts = []
        for rel, role in to_load:
            key = "data" if rel in data_rels else self._file_keys.get(rel)
            if key is None:
                return None
            parts.append(f"{rel}\0{role}\0{key}")
        return _StoredOutputs(self._cache.outputs(), FileCache.key(self._base_key, *parts))

    def stored_output(self, kind: str, *parts: str) -> str | None:
        """What a command printed last for this state of the course (the course stage's key:
        every file, config and read the course rules saw) and these ``parts`` (its options);
        None when the course changed or nothing was stored (see :meth:`store_output`)."""
        if self._cache is None or not self.course_stage_key:
            return None
        text = self._cache.outputs().get(FileCache.key(kind, self.course_stage_key, *parts))
        return text if isinstance(text, str) else None

    def store_output(self, kind: str, text: str, *parts: str) -> None:
        """Keep a command's output (``coursecheck graph``'s Mermaid) for the next run on the
        unchanged course: it is built from what the course rules read, so the course stage's
        key says when it is still right."""
        if self._cache is not None and self.course_stage_key:
            self._cache.outputs().put(FileCache.key(kind, self.course_stage_key, *parts), text)

    def _open_cache(self) -> FileCache | None:
        if not self.options.cache:
            return None
        root = self.config.root
        folder = self.options.cache_dir or (root / DEFAULT_CACHE_DIR)
        problem = open_folder(folder, root)
        if problem:  # a read-only tree, links in the folder: run without a cache
            if problem not in self._cache_notes:
                self._cache_notes.append(problem)
            return None
        secret = secret_key(root)
        if secret.note and secret.note not in self._cache_notes:
            self._cache_notes.append(secret.note)
        return FileCache(folder, key=secret.key)

    def cache_report(self) -> list[str]:
        """What ``coursecheck -v`` says about the cache of the last run: why it was not used
        or was keyed for this run only, and how many stored entries each store rejected
        (not authentic, damaged or not regular files; they were rebuilt)."""
        lines = list(self._cache_notes)
        if self._cache is not None:
            apart = runindex.rejected_parts - self._parts_rejected_from
            counts = {**self._cache.rejections(), "run index": self._index_rejected + apart}
            total = sum(counts.values())
            if total:
                parts = ", ".join(f"{store} {n}" for store, n in counts.items() if n)
                lines.append(
                    f"the cache rejected {total} stored {'entry' if total == 1 else 'entries'} ({parts}): "
                    "not authentic under your cache key, damaged, or not regular files; rebuilt"
                )
        return lines

    def _reload(self, rel: str) -> Document | None:
        """A record's full Document, parsed again (course rules that read segments)."""
        self.reparsed += 1
        doc = self._load(self.config.root / rel, rel)
        if doc is not None and self.course is not None:
            record = next((d for d in self.course.documents if d.relpath == rel), None)
            if record is not None:
                doc.role, doc.lesson_id, doc.aliases = record.role, record.lesson_id, list(record.aliases)
                doc.order_index = record.order_index
        return doc

    def _read_text(self, rel: str) -> str | None:
        return read_text(self.config.root, rel)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Parsing allocates millions of short-lived objects (markdown-it tokens): with the default
    thresholds the cyclic garbage collector runs thousands of times per run and rescans the
    growing set of records (measured: ~20 % of a cold run's CPU time). Collect less often."""
    before = gc.get_threshold()
    if before[0] == 0:  # the collector is off: leave it so
        yield
        return
    gc.set_threshold(max(before[0], 50_000), max(before[1], 20), before[2])
    try:
        with freezing_loaded():
            yield
    finally:
        gc.set_threshold(*before)


_path_of = operator.attrgetter("path")


def _digest_key(kind: str, findings: list[Finding]) -> str | None:
    """A source key for findings made this run (discovery's problems): a digest of them."""
    import pickle

    try:
        return f"{kind}:{FileCache.key(pickle.dumps(findings, protocol=pickle.HIGHEST_PROTOCOL))}"
    except Exception:
        return None


def _is_sections(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, (tuple, list)) and len(item) == 2 for item in value)


def _is_phases(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, Phase) for item in value)


def run(config: Config, options: RunOptions | None = None) -> Result:
    """Check the course described by ``config``."""
    return Engine(config, options).run()
