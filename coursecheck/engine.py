"""The run: discover -> parse -> document rules -> course rules -> suppress -> Result.

The engine knows no rule: it asks the plugins for rules, parsers and reporters.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import os
import re
import stat
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from coursecheck import coursecache, records, suppress
from coursecheck.cache import DEFAULT_DIR as DEFAULT_CACHE_DIR
from coursecheck.cache import FileCache, code_fingerprint, freezing_loaded, open_folder, secret_key
from coursecheck.config import (
    ALWAYS_EXCLUDED,
    UNKNOWN_RULE,
    UNKNOWN_SECTION,
    Config,
    ConfigError,
    ConfigProblem,
    Settings,
    expand_template,
    validate_against,
)
from coursecheck.config.schema import Section, validate_sections
from coursecheck.fsutil import (
    OutsideRoot,
    contained,
    encodable,
    is_temp_name,
    read_inside,
    remove_leftover_temps,
    shown,
)
from coursecheck.globs import compile_glob, literal_base, matches
from coursecheck.model import Course, Document, Finding, Phase
from coursecheck.plugins import (
    Notification,
    PluginError,
    builtin_rule_kinds,
    call_each,
    installed_plugin_names,
    make_plugin_manager,
    plugin_name,
)
from coursecheck.records import DocumentRecord, LineMove, pack_fields, read_text, record_fields, view_digest
from coursecheck.results import FileResult, Result, RunOptions, SourceCheck
from coursecheck.rules import Rule, RuleContext, is_limit_note
from coursecheck.runindex import RunIndex, Signature, restore, signature
from coursecheck.shard import ShardArtifact, ShardError, ShardResults, assign, file_digest
from coursecheck.text import DecodeError, LineIndex, Span, decode_source, normalize_newlines

MAX_FILE_BYTES = 8 * 1024 * 1024
# Below this many files worker processes cost more than they save (measured: benchmarks/run.py).
PARALLEL_MIN_FILES = 200
MAX_JOBS = 8
FILES_PER_JOB = 50  # a worker is worth starting for this many files
_NATURAL = re.compile(r"(\d+)")
OUTSIDE_ROOT = "parse/outside-root"
FILE_NAME = "parse/file-name"


class _StoredOutputs:
    """Result.outputs: reporters' outputs kept for the next run on unchanged files, keyed on
    every checked file's per-file key (its bytes, the code, config, rules and data files):
    what is built from the files' records alone (the JSON's outlines) is right as long as
    they are."""

    def __init__(self, store: FileCache, files_key: str) -> None:
        self._store = store
        self._files_key = files_key

    def get(self, kind: str, *parts: str) -> str | None:
        text = self._store.get(FileCache.key(kind, self._files_key, *parts))
        return text if isinstance(text, str) else None

    def put(self, kind: str, text: str, *parts: str) -> None:
        self._store.put(FileCache.key(kind, self._files_key, *parts), text)


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


class Engine:
    def __init__(self, config: Config, options: RunOptions | None = None) -> None:
        self.config = config
        self.options = options or RunOptions()
        self.notes: list[Notification] = []
        try:
            self.pm, notes = make_plugin_manager(
                config.plugins if self.options.local_plugins else [],
                config.path.parent if config.path else None,
                entry_points=self.options.entry_points,
            )
        except PluginError as exc:
            file, line = config.where("plugins")
            raise ConfigError([ConfigProblem(file, line, "plugins", str(exc))]) from None
        self.notes.extend(notes)
        skipped = self._skipped_plugins()
        self.rules = self._collect_rules()
        config_problems = self._collect_config_rules()
        sections: dict[str, str] = {}
        for _name, value in call_each(
            self.pm, "coursecheck_config_sections", self.notes, lambda v: isinstance(v, dict), "a dict"
        ):
            sections.update(value)
        schemas: list[Section] = []
        for _name, value in call_each(
            self.pm,
            "coursecheck_config_schemas",
            self.notes,
            lambda v: isinstance(v, list) and all(isinstance(s, Section) for s in v),
            "a list of coursecheck.api.ConfigSection",
        ):
            schemas.extend(value)
        sections.update({schema.name: schema.doc for schema in schemas})

        def failed(section: Section, exc: Exception) -> None:
            self.notes.append(Notification(f"the check of [{section.name}] raised {type(exc).__name__}: {exc}"))

        checked = [*validate_against(config, self.rules, sections), *validate_sections(config, schemas, failed)]
        if skipped:
            checked = self._without_plugin_settings(checked, skipped)
        problems = [*config.problems, *config_problems, *checked]
        for name, value in call_each(
            self.pm, "coursecheck_configure", self.notes, lambda v: isinstance(v, list), "a list", config=config
        ):
            for item in value:
                try:
                    key, line, message = item
                except (TypeError, ValueError):
                    self.notes.append(
                        Notification(f"plugin '{name}' returned a malformed config problem: {item!r}", name)
                    )
                    continue
                file, where_line = config.where(*str(key).split("."))
                problems.append(ConfigProblem(file, line or where_line, str(key), str(message)))
        if problems:
            problems.sort(key=lambda p: (p.file != config.display_path, p.file, p.line))
            raise ConfigError(problems)
        self.settings = Settings(config, self.rules)
        self._cache: FileCache | None = None
        self._base_key = ""
        self._full_key = ""  # the base key of the run with every rule, when this one selects
        # The key of the course stage this run stored or reused ("" : none): what commands
        # key their stored outputs on (stored_output).
        self.course_stage_key = ""
        self._cache_notes: list[str] = []  # why the cache is off or keyed for this run only (-v)
        self._index_rejected = 0  # run indexes (or results in them) that failed to load
        self.course: Course | None = None
        self.cache_hits = self.cache_misses = 0  # files served from / missing in the cache
        self.reparsed = 0  # records parsed again in the course stage (see coursecheck.records)
        self._inputs: str | None = None  # see _inputs_key
        self.swept = 0  # cache entries deleted at the end of the run (FileCache.sweep)
        self._file_keys: dict[str, str] = {}  # relpath -> per-file cache key
        self._views: dict[str, str] = {}  # relpath -> FileResult.view (the course stage's key)
        self.relocated = 0  # course rules whose stored findings the last run moved (not ran)
        # Temporary files of killed writes seen by discovery (folder -> names), and those removed.
        self._leftovers: dict[str, list[str]] = {}
        self.removed_leftovers: list[str] = []
        self._walk_refused: set[str] = set()  # links discovery reported (parse/outside-root)
        self._last: _LastRun | None = None  # what check_source and recheck_course start from
        self.rechecked: set[str] = set()  # the files whose findings the last recheck_course finished again

    # -- plugins ----------------------------------------------------------------------

    def _skipped_plugins(self) -> list[str]:
        """The plugins this run does not load that it otherwise would (the config's and the
        installed ones), said in a notification: their rules do not run, and that must not
        pass for a clean result. Only when the user turned plugins off (``plugins_off_by``):
        a library call that leaves out entry points hears nothing."""
        if not self.options.plugins_off_by:
            return []
        skipped: list[str] = []
        if not self.options.local_plugins:
            skipped += [f"the config's plugin {spec}" for spec in self.config.plugins]
        if not self.options.entry_points:
            skipped += [f"installed plugin {name}" for name in installed_plugin_names()]
        if skipped:
            by = self.options.plugins_off_by
            self.notes.append(
                Notification(f"{by}: not loaded: {', '.join(skipped)}; their rules did not run", level="warning")
            )
        return skipped

    def _without_plugin_settings(self, problems: list[ConfigProblem], skipped: list[str]) -> list[ConfigProblem]:
        """Settings of rules and sections only a plugin that was not loaded can provide are
        no config error when plugins are off: they are ignored, and a notification names
        them. (A rule of a family the loaded rules have is still checked: a typo.)"""
        families = {r.split("/", 1)[0] for r in self.rules}
        kept: list[ConfigProblem] = []
        ignored: list[str] = []
        for problem in problems:
            setting = re.match(r"(?:overrides\.\d+\.)?rules\.(.+)", problem.key)
            family = setting.group(1).split("/", 1)[0] if setting else ""
            if problem.kind == UNKNOWN_SECTION or (problem.kind == UNKNOWN_RULE and family not in families):
                ignored.append(problem.key)
            else:
                kept.append(problem)
        if ignored:
            self.notes.append(
                Notification(
                    f"{self.options.plugins_off_by}: settings for rules and sections no "
                    f"loaded plugin provides were not checked and have no effect: {', '.join(ignored)}",
                    level="warning",
                )
            )
        return kept

    def _collect_rules(self) -> dict[str, Rule]:
        rules: dict[str, Rule] = {}
        for name, provided in call_each(
            self.pm,
            "coursecheck_rules",
            self.notes,
            lambda v: isinstance(v, (list, tuple)),
            "a list of Rule",
        ):
            for rule in provided:
                if not isinstance(rule, Rule) or not isinstance(rule.id, str) or "/" not in rule.id:
                    self.notes.append(
                        Notification(
                            f"plugin '{name}' returned {rule!r} from coursecheck_rules; expected Rule objects with ids 'family/name'",
                            name,
                        )
                    )
                    continue
                if rule.id in rules:
                    self.notes.append(
                        Notification(
                            f"rule {rule.id} from plugin '{name}' is already defined by '{rules[rule.id].plugin}'; ignored",
                            name,
                        )
                    )
                    continue
                rule.plugin = rule.plugin or name
                rules[rule.id] = rule
        return rules

    def _collect_config_rules(self) -> list[ConfigProblem]:
        """Add the rules the config defines (``coursecheck_config_rules``); returns the
        problems found in their definitions."""
        problems: list[ConfigProblem] = []
        for name, provided in call_each(
            self.pm,
            "coursecheck_config_rules",
            self.notes,
            lambda v: isinstance(v, (list, tuple)),
            "a list of Rule and ConfigProblem",
            config=self.config,
            plugin_manager=self.pm,
        ):
            for item in provided:
                if isinstance(item, ConfigProblem):
                    problems.append(item)
                elif isinstance(item, Rule) and isinstance(item.id, str) and "/" in item.id:
                    if item.id in self.rules:
                        file, line = self.config.where()
                        problems.append(
                            ConfigProblem(
                                file, line, item.id, f"rule id is already used by '{self.rules[item.id].plugin}'"
                            )
                        )
                        continue
                    item.plugin = item.plugin or name
                    self.rules[item.id] = item
                else:
                    self.notes.append(
                        Notification(f"plugin '{name}' returned {item!r} from coursecheck_config_rules", name)
                    )
        return problems

    def reporters(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for _name, value in call_each(
            self.pm, "coursecheck_reporters", self.notes, lambda v: isinstance(v, dict), "a dict"
        ):
            out.update(value)
        return out

    # -- discovery ----------------------------------------------------------------------

    def discover(self) -> tuple[list[tuple[str, str]], list[Finding]]:
        """``(relpath, role)`` for every file of the course, role lesson | data | other (partials).

        Every path returned has its folders checked: real folders inside the root, reached
        without following a link that leaves it (see :func:`_walk`); the file itself may be
        a link, which reading checks (:meth:`_read`). A file whose name is not UTF-8 is not
        returned but reported (``parse/file-name``): its name could not be written into a
        report, a fingerprint or a cache key."""
        root = self.config.root
        course = self.config.course
        exclude = [*ALWAYS_EXCLUDED, *course.exclude]
        found: dict[str, str] = {}
        problems: list[Finding] = []
        badly_named: set[str] = set()
        walk = _Walk(root, problems)
        # Partials first: a partial inside a content folder is not a lesson.
        for role, patterns in (("other", course.partials), ("lesson", course.content), ("data", course.data)):
            for pattern in patterns:
                rx = compile_glob(pattern)
                for rel in walk.files(literal_base(pattern)):
                    if rx.match(rel) and not matches(rel, exclude) and rel not in found:
                        if encodable(rel):
                            found[rel] = role
                        elif rel not in badly_named:
                            badly_named.add(rel)
                            problems.append(_file_name_problem(rel))
        self._leftovers = walk.leftovers
        return sorted(found.items(), key=lambda item: _natural_key(item[0])), problems

    def _remove_leftovers(self) -> None:
        """Remove the temporary files a killed ``--fix`` left beside the course's files
        (coursecheck.fsutil.remove_leftover_temps: nothing else is touched)."""
        for folder, names in self._leftovers.items():
            for name in remove_leftover_temps(folder, names):
                rel = os.path.relpath(os.path.join(folder, name), self.config.root)
                self.removed_leftovers.append(shown(Path(rel).as_posix()))
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
        root = self.config.root
        files, walk_problems = self.discover()
        self._remove_leftovers()
        self._walk_refused = {f.path for f in walk_problems if f.rule_id == OUTSIDE_ROOT}
        findings: list[Finding] = list(walk_problems)
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

        to_load = [*files, *extra_files]
        active_rules = self._active_rules()
        course_rule_count = sum(1 for r in active_rules if r.course)
        total_steps = 2 * len(to_load) + course_rule_count  # each file: read+parse, then check
        step = 0

        data_docs = self._load_data_docs(to_load)
        stage_course = Course(root, [], [d for d in data_docs if d.role == "data"], [], {})
        data_rels = {d.relpath for d in data_docs}
        self._cache = self._open_cache()
        if self._cache is not None:
            self._base_key = self._cache_base_key(active_rules, data_docs)
            self._full_key = self._full_base_key(active_rules, data_docs)

        by_rel: dict[str, Document] = {}
        summaries: dict[str, dict[str, Any]] = {}
        file_findings: dict[str, list[Finding]] = {}  # per-file stage findings (see check_source)
        for doc in data_docs:
            step += 2
            if progress is not None:
                progress(step, total_steps)
            summary: dict[str, Any] = {}
            found = file_findings[doc.relpath] = self._check_document(doc, stage_course, active_rules, summary)
            findings.extend(found)
            if summary:
                summaries[doc.relpath] = summary
            by_rel[doc.relpath] = doc
        rest = [(rel, role) for rel, role in to_load if rel not in data_rels]
        keep = self.options.keep_documents is None or len(rest) <= self.options.keep_documents
        if shards is not None:
            per_file = shards.results(rest, self.run_key(active_rules, data_docs), root, _digest_of)
        else:
            per_file = self._per_file_results(rest, stage_course, active_rules, use_index=True)
        for result, full in per_file:
            step += 2
            if progress is not None:
                progress(step, total_steps)
            findings.extend(result.findings)
            file_findings[result.relpath] = result.findings
            self.notes.extend(result.notes)
            # No view (no record, or no cache): the file's bytes stand for it.
            self._views[result.relpath] = result.view or self._file_keys.get(result.relpath, "")
            if result.summary:
                summaries[result.relpath] = result.summary
            if result.fields is None:
                continue
            record = DocumentRecord(result.fields, self._reload, self._read_text)
            if full is not None and keep:
                record._full = full
            by_rel[result.relpath] = record
        docs = [by_rel[rel] for rel, _ in to_load if rel in by_rel]

        lessons = [d for d in docs if d.lesson_id is not None]
        lessons.sort(key=self._order_key)
        for i, doc in enumerate(lessons):
            doc.order_index = i
        by_id: dict[str, Document] = {}
        for doc in lessons:
            assert doc.lesson_id is not None  # a lesson is a document with an id
            for key in (doc.lesson_id, *doc.aliases):
                by_id.setdefault(key, doc)
        course = Course(
            root,
            lessons,
            [d for d in docs if d.role == "data"],
            [d for d in docs if d.role == "other"],
            by_id,
        )
        course.summaries = summaries
        course.store = self._cache
        self.course = course

        course_findings = self._course_stage(
            course, active_rules, to_load, progress, step, total_steps, reuse=shards is None
        )
        findings.extend(course_findings)
        self._last = _LastRun(
            to_load, active_rules, stage_course, list(walk_problems), file_findings, course_findings, reported
        )

        if progress is not None:
            progress(total_steps, total_steps)
        if self._cache is not None and shards is None:
            self.swept = self._cache.sweep(self._file_keys.values(), self.cache_misses, len(to_load))
        findings = self._finish(findings, docs, reported)
        fail_level = self.options.fail_level or self.config.fail_level
        run_result = Result(
            root=root,
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
        if self._last is not None:
            for known, role in self._last.files:
                if known == rel:
                    return role
        course = self.config.course
        if matches(rel, [*ALWAYS_EXCLUDED, *course.exclude]):
            return None
        for role, patterns in (("other", course.partials), ("lesson", course.content), ("data", course.data)):
            if any(compile_glob(pattern).match(rel) for pattern in patterns):
                return role
        return None

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
        unsaved buffer): parse, document rules, summaries, against the data files of the
        last :meth:`run` (which must have happened). Nothing is read from the disk for the
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
            doc = self._parse(path, rel, content) if len(content) <= MAX_FILE_BYTES else None
            if doc is None:
                doc = _problem_doc(path, rel, "parse/unreadable", "file is too large to check")
            doc.aliases = []
            doc.role = "data" if role == "data" or doc.kind in ("json", "yaml") else "other"
            summary: dict[str, Any] = {}
            found = self._check_document(doc, self._stage_for_source(), last.active_rules, summary)
            result = FileResult(rel, doc.role, None, found, summary, self.notes[notes_before:])
            document: Document | None = doc
        elif len(content) > MAX_FILE_BYTES:
            document = _problem_doc(
                path, rel, "parse/unreadable", f"file is over the {MAX_FILE_BYTES // 1048576} MiB limit; not checked"
            )
            result = FileResult(rel, role, None, list(document.problems), {}, [])
        else:
            result, document = self._per_file(rel, role, self._stage_for_source(), last.active_rules, given=content)
        del self.notes[notes_before:]
        own = last.course_findings_in(rel)
        docs = [document] if document is not None else []
        findings = self._finish(_fresh([*result.findings, *own]), docs, {rel})
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

        ``between`` is called before each course rule: the caller may check other buffers
        there with check_source (which reads the last course stage's findings, not this
        one's), so a keystroke's own check does not wait for the whole course stage."""
        last = self._last
        if last is None or self.course is None:
            raise RuntimeError("recheck_course() needs a run() first")
        started = time.perf_counter()
        checked = {c.relpath: c for c in checks}
        gone = set(removed) - set(checked)
        old = self.course
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
        if not course_changed:
            # Same views: the course findings stand; the edited files' records take the
            # place of the old ones (their text is the buffer's, not the disk's).
            _swap_records(old, {rel: records[rel] for rel in checked if rel in records})
        else:
            docs = [records[rel] for rel, _ in files if rel in records]
            lessons = sorted((d for d in docs if d.lesson_id is not None), key=self._order_key)
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
            self.course = course
            cache, self._cache = self._cache, None  # in memory: the stored stages are the disk's
            try:
                hook = None if between is None else (lambda _done, _total: between())
                course_findings = self._course_stage(course, last.active_rules, files, hook, 0, 0)
            finally:
                self._cache = cache
            last.course_findings = course_findings
            last.course_by_path = None
        course = self.course
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
            finished[path] = self._finish(_fresh(raw), [own_doc] if own_doc is not None else [], last.reported)
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

    # -- sharding (coursecheck.shard) -------------------------------------------------

    def _active_rules(self) -> list[Rule]:
        return [r for r in self.rules.values() if self._selected(r.id) and self.settings.enabled_anywhere(r.id)]

    def run_key(self, active_rules: list[Rule], data_docs: list[Document]) -> dict[str, str]:
        """What the per-file results depend on besides the files, part by part (a merge
        names the part that differs); the cache's base key adds the project's path."""
        plugins = sorted(((plugin_name(self.pm, p), p) for p in self.pm.get_plugins()), key=lambda i: str(i[0]))
        c = self.config
        # A course rule without a per-file summary plays no part in the per-file stage: its
        # level, options and selection leave every file's stored result valid (the course
        # stage is keyed on the config file's bytes, so it runs again).
        course_only = {r.id for r in self.rules.values() if r.course and r.summarize is None}
        per_file_rules = [r for r in active_rules if r.id not in course_only]
        settings = {rule_id: value for rule_id, value in c.rules.items() if rule_id not in course_only}
        return {
            "coursecheck and plugins": FileCache.key(
                code_fingerprint([p for _, p in plugins]), " ".join(name for name, _ in plugins)
            ),
            "config": FileCache.key(
                repr((c.course, settings, c.overrides, c.plugins, c.extends, c.sections, c.max_findings))
            ),
            "rules selected": FileCache.key("\0".join(sorted(f"{r.id}:{r.plugin}" for r in per_file_rules))),
            "data files": FileCache.key("\0".join(f"{d.relpath}\0{d.source}" for d in data_docs), self._inputs_key()),
        }

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
                self._base_key = self._cache_base_key(active_rules, data_docs)
            listed: list[tuple[str, str, str]] = []
            results: list[FileResult] = []
            for n, (result, _full) in enumerate(self._per_file_results(items, stage_course, active_rules), 1):
                listed.append((result.relpath, items[n - 1][1], _digest_of(self.config.root, result.relpath)))
                results.append(result)
                if progress is not None:
                    progress(n, len(items))
            return ShardArtifact(index, total, self.run_key(active_rules, data_docs), listed, results)

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
    ) -> list[Finding]:
        """The course rules' findings (``reuse``: the stage may be stored and reused; not in
        a merge): from the cache when neither the checked files' views,
        the config, the data files nor any file the rules read outside them has changed.

        After an edit that moved things in some files without changing their shape
        (records.shape), relocatable rules' stored findings are moved with their lines
        instead of running the rules again (the others run)."""
        course_rules = [r for r in active_rules if r.course]
        keys = self._course_keys(course_rules, to_load) if reuse else None
        previous: coursecache.Stage | None = None
        moves: dict[str, LineMove] | None = None
        documents: dict[str, Document] = {}
        if keys is not None:
            assert self._cache is not None
            key, layout = keys
            stages, latest = self._cache.course_stages(), self._cache.latest_course_stages()
            stored = coursecache.unpack(stages.get(key), course)
            if stored is not None:
                if progress is not None:
                    progress(step + len(course_rules), total_steps)
                if latest.get(layout) != key:
                    latest.put(layout, key)
                course.extra.update(stored.extra())
                self.course_stage_key = key
                return stored.findings()
            last_key = latest.get(layout)
            if isinstance(last_key, str):
                previous = coursecache.unpack(stages.get(last_key), course)
            if previous is not None:
                documents = {d.relpath: d for d in (*course.lessons, *course.data_files, *course.others)}
                relocatable = {r.id for r in course_rules if r.relocatable}
                moves = self._line_moves(previous, documents, relocatable)
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
                    options_for=functools.partial(self._file_options, rule.id),
                    max_findings=self._max_findings(rule.id),
                )
                before = dict(course.extra)
                found = self._call(rule, ctx, course, "")
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
            if previous is not None and relocated:
                # The moved findings rest on what the earlier run's rules read.
                reads.answers = {**previous.reads.answers, **reads.answers}
                reads.records = {**previous.reads.records, **reads.records}
            file_keys = {rel: self._file_keys[rel] for rel in self._views if rel in self._file_keys}
            packed = coursecache.pack(coursecache.Stage(reads, outcomes, dict(self._views), file_keys))
            if packed is not None:
                assert self._cache is not None
                self._cache.course_stages().put(keys[0], packed)
                self._cache.latest_course_stages().put(keys[1], keys[0])
                self.course_stage_key = keys[0]
        return findings

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
        self, previous: coursecache.Stage, documents: dict[str, Document], relocatable: set[str]
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
            summaries = self.course.summaries.get(rel, {}) if self.course is not None else {}
            if records.shape(old_record, _only(old.summary, relocatable)) != records.shape(
                new, _only(summaries, relocatable)
            ):
                return None
            moves[rel] = LineMove.between(old_record, new)
        return moves

    def _course_keys(self, course_rules: list[Rule], to_load: list[tuple[str, str]]) -> tuple[str, str] | None:
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
        course = self.course
        assert course is not None
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

    # -- the per-file stage (cached, parallel) -----------------------------------------

    def _check_document(
        self, doc: Document, course: Course, active_rules: list[Rule], summary: dict[str, Any]
    ) -> list[Finding]:
        """Parse problems, document rules and course rules' summaries of one file."""
        findings = list(doc.problems)
        for rule in active_rules:
            if doc.kind not in rule.kinds or (rule.lessons_only and doc.lesson_id is None):
                continue
            if rule.course and rule.summarize is None:
                continue
            level, options = self.settings.for_file(rule.id, doc.relpath)
            if level == "off" and not rule.course:
                continue
            ctx = RuleContext(rule, self.config, options, course, max_findings=self._max_findings(rule.id))
            ctx.summary = summary
            if rule.course:
                findings.extend(self._summarize(rule, ctx, doc, summary))
            else:
                findings.extend(self._call(rule, ctx, doc, doc.relpath))
        return findings

    def _summarize(self, rule: Rule, ctx: RuleContext, doc: Document, summary: dict[str, Any]) -> list[Finding]:
        summarize = rule.summarize
        assert summarize is not None

        def store(subject: Document, context: RuleContext) -> None:
            data = summarize(subject, context)
            if data is not None:
                summary[rule.id] = data

        probe = Rule(rule.id, check=store, plugin=rule.plugin)
        found = self._call(probe, ctx, doc, doc.relpath)
        return found

    def _per_file(
        self,
        rel: str,
        role: str,
        course: Course,
        active_rules: list[Rule],
        *,
        lookup: bool = True,
        given: bytes | None = None,
    ) -> tuple[FileResult, Document | None]:
        """One file's per-file result, from the cache when its key is there. ``given``: the
        file's content as the caller has it (an editor's buffer): not read, not cached."""
        notes_before = len(self.notes)
        path = self.config.root / rel
        raw, problem_doc = (given, None) if given is not None else self._read(path, rel)
        key = None
        if raw is not None and self._cache is not None and given is None:
            key = FileCache.key(self._base_key, rel, role, raw)
            hit = self._cache.get(key) if lookup else None
            if isinstance(hit, FileResult) and hit.relpath == rel:
                return hit, None
        doc = problem_doc if raw is None else self._parse(path, rel, raw)
        if doc is None:
            result = FileResult(rel, role, None, [], {}, self.notes[notes_before:])
            del self.notes[notes_before:]
            return result, None
        doc.aliases = []
        doc_role = role
        if role == "lesson" and doc.kind not in ("markdown", "mdx"):
            doc_role = "data" if doc.kind in ("json", "yaml") else "other"
        if doc_role == "lesson":
            self._identify(doc)
        doc.role = doc_role
        summary: dict[str, Any] = {}
        findings = self._check_document(doc, course, active_rules, summary)
        fields = record_fields(doc)
        view = ""
        if self._cache is not None or given is not None:
            # Packed here rather than by the cache: the view is a digest of the packed bytes
            # (pickling each span again for it cost ~0.25 ms per file), and a worker's result
            # travels packed to the main process.
            fields = pack_fields(fields)
            view = view_digest(fields, summary)
        result = FileResult(rel, doc_role, fields, findings, summary, self.notes[notes_before:], view)
        del self.notes[notes_before:]  # the caller adds them, cached or not
        if key is not None and self._cache is not None:
            self._cache.put(key, result)
        return result, doc

    def _per_file_results(
        self, items: list[tuple[str, str]], course: Course, active_rules: list[Rule], *, use_index: bool = False
    ) -> Iterator[tuple[FileResult, Document | None]]:
        """Per-file results in the order of ``items``. Cache hits are served here (with
        ``use_index``, files unchanged since the last run straight from the run index,
        without reading them: see coursecheck.runindex); the misses go to worker processes
        when there are enough of them to pay for the workers (fork start-up, pickling
        results), else they are checked here too."""
        jobs = self.options.jobs or (os.cpu_count() or 1)
        if self._cache is None:
            yield from self._compute(items, course, active_rules, jobs)
            return
        index = None
        if use_index:
            index = RunIndex(
                self._cache.folder, self.config.root, self._base_key, time.time_ns(), key=self._cache.mac_key
            )
            self._index_rejected += index.rejected
        misses: list[int] = []
        signatures: dict[int, Signature | None] = {}
        results: list[tuple[FileResult, Document | None] | None] = []
        root = str(self.config.root)
        for position, (rel, role) in enumerate(items):
            path = os.path.join(root, rel)
            self._file_keys.pop(rel, None)
            sig = None
            if index is not None:
                sig = signatures[position] = signature(path)  # before the read: see runindex
                known = index.lookup(rel, role, sig)
                if known is not None and sig is not None:
                    key, small = known
                    hit = restore(small)
                    if isinstance(hit, FileResult) and hit.relpath == rel:
                        self._file_keys[rel] = key
                        index.keep(rel)
                        results.append((hit, None))
                        self.cache_hits += 1
                        continue
                    self._index_rejected += 1
            raw = _raw_bytes(root, path)
            hit = None
            if raw is not None:
                key = self._file_keys[rel] = FileCache.key(self._base_key, rel, role, raw)
                hit = self._cache.get(key)
                if hit is None and self._full_key:
                    # --select/--ignore after a plain run: its stored results serve this run.
                    full = self._cache.get(FileCache.key(self._full_key, rel, role, raw))
                    if isinstance(full, FileResult) and full.relpath == rel:
                        hit = self._narrowed(full, active_rules)
            if isinstance(hit, FileResult) and hit.relpath == rel:
                results.append((hit, None))
                self.cache_hits += 1
                if index is not None:
                    index.record(rel, role, sig, self._file_keys[rel], hit)
            else:
                results.append(None)
                misses.append(position)
                self.cache_misses += 1
        computed = self._compute([items[i] for i in misses], course, active_rules, jobs)
        try:
            for position, value in zip(misses, computed, strict=True):
                results[position] = value
                rel, role = items[position]
                file_key = self._file_keys.get(rel)
                if index is not None and file_key is not None:
                    index.record(rel, role, signatures.get(position), file_key, value[0])
        except BaseException:
            if index is not None:
                index.discard()
            raise
        if index is not None:
            index.save()
        for done in results:
            assert done is not None
            yield done

    def _compute(
        self, items: list[tuple[str, str]], course: Course, active_rules: list[Rule], jobs: int
    ) -> Iterator[tuple[FileResult, Document | None]]:
        jobs = min(jobs, MAX_JOBS, max(1, len(items) // FILES_PER_JOB))
        if jobs < 2 or len(items) < PARALLEL_MIN_FILES or not _can_fork():
            for rel, role in items:
                yield self._per_file(rel, role, course, active_rules, lookup=False)
            return
        global _WORKER_STATE
        _WORKER_STATE = (self, course, active_rules)
        import coursecheck.parse.mdit  # noqa: F401  (imported once, before the workers fork)

        size = max(1, min(64, len(items) // (jobs * 8)))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        done = 0
        try:
            import multiprocessing

            with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                for chunk_results in pool.map(_work_on_chunk, chunks):
                    for result in chunk_results:
                        done += 1
                        yield result, None
        except BrokenProcessPool as exc:
            self.notes.append(
                Notification(f"a worker process died ({exc}); the remaining files were checked in the main process")
            )
            for rel, role in items[done:]:
                yield self._per_file(rel, role, course, active_rules, lookup=False)
        finally:
            _WORKER_STATE = None

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
            counts = {**self._cache.rejections(), "run index": self._index_rejected}
            total = sum(counts.values())
            if total:
                parts = ", ".join(f"{store} {n}" for store, n in counts.items() if n)
                lines.append(
                    f"the cache rejected {total} stored {'entry' if total == 1 else 'entries'} ({parts}): "
                    "not authentic under your cache key, damaged, or not regular files; rebuilt"
                )
        return lines

    def _full_base_key(self, active_rules: list[Rule], data_docs: list[Document]) -> str:
        """With ``--select`` or ``--ignore``: the base key of the run with every enabled rule
        (what a plain run stores), whose entries hold the selected rules' findings too; ""
        when this run is that run."""
        every = [r for r in self.rules.values() if self.settings.enabled_anywhere(r.id)]
        full = self._cache_base_key(every, data_docs)
        return "" if full == self._base_key else full

    def _narrowed(self, hit: FileResult, active_rules: list[Rule]) -> FileResult:
        """A stored result of the run with every rule, as this narrower run makes it: only
        the active rules' findings."""
        ids = {r.id for r in active_rules}
        findings = [f for f in hit.findings if f.rule_id in ids]
        return FileResult(hit.relpath, hit.role, hit.fields, findings, hit.summary, hit.notes, hit.view)

    def _cache_base_key(self, active_rules: list[Rule], data_docs: list[Document]) -> str:
        """Everything besides the file itself that per-file results depend on: the run key
        (code, plugins, config, rules, data files) and the project root (one cache per tree)."""
        return FileCache.key(*self.run_key(active_rules, data_docs).values(), str(self.config.root))

    def _inputs_key(self) -> str:
        """The bytes of the files plugins declare their document rules read besides the
        checked ones (``coursecheck_inputs``: e.g. a glossary outside the data globs)."""
        if self._inputs is None:
            parts = []
            for rel in self.declared_inputs():
                try:
                    content = read_inside(self.config.root, rel)
                except OSError as exc:
                    content = f"unreadable: {exc.strerror or exc}".encode()
                parts.append(FileCache.key(rel, content))
            self._inputs = FileCache.key(*parts)
        return self._inputs

    def declared_inputs(self) -> list[str]:
        """The files (relative to the root) plugins declare their document rules read
        besides the checked ones (``coursecheck_inputs``: a vocabulary, a glossary outside
        the data globs)."""
        named: set[str] = set()
        for _name, value in call_each(
            self.pm,
            "coursecheck_inputs",
            self.notes,
            lambda v: isinstance(v, (list, tuple)),
            "a list of paths",
            config=self.config,
        ):
            named.update(str(item) for item in value)
        return sorted(named)

    def _selected(self, rule_id: str) -> bool:
        family = rule_id.split("/", 1)[0]
        if rule_id.startswith(("core/", "parse/")) and not self.options.select:
            return not (rule_id in self.options.ignore or family in self.options.ignore)
        if self.options.select and not (rule_id in self.options.select or family in self.options.select):
            return False
        return not (rule_id in self.options.ignore or family in self.options.ignore)

    def _call(self, rule: Rule, ctx: RuleContext, subject: Any, relpath: str) -> list[Finding]:
        """Run one rule; its findings, at most the limit per file (``max-findings``) and one
        more finding per file saying how many were left out (counted as they are reported,
        so a rule reporting 10^5 findings in one file never holds them)."""
        try:
            returned = rule.check(subject, ctx)
            if returned is not None:
                for item in returned:
                    if not isinstance(item, Finding):
                        raise TypeError(f"rule yielded {type(item).__name__}, not Finding")
                    if ctx.keep(item):
                        ctx.findings.append(item)
        except Exception as exc:
            where = f" on {relpath}" if relpath else ""
            message = f"plugin '{rule.plugin}' rule {rule.id} crashed{where}: {type(exc).__name__}: {exc}"
            self.notes.append(Notification(message, rule.plugin, rule.id, relpath, traceback.format_exc(limit=6)))
            span = Span.point(1, 1)
            return [
                *ctx.findings,
                *ctx.limit_notes(),
                Finding(
                    "core/internal-error",
                    message + " (the rest of the run went on)",
                    relpath or self._config_rel(),
                    span,
                    plugin=rule.plugin,
                ),
            ]
        return [*ctx.findings, *ctx.limit_notes()] if ctx.left_out else ctx.findings

    def _file_options(self, rule_id: str, relpath: str) -> dict[str, Any]:
        """A rule's options for one file (``[[overrides]]`` applied): RuleContext.options_for."""
        return self.settings.for_file(rule_id, relpath)[1]

    def _max_findings(self, rule_id: str) -> Callable[[str], int]:
        """The limit of findings ``rule_id`` keeps in a file, by the file's relpath."""
        return lambda relpath: self.settings.max_findings(rule_id, relpath or None)

    def _config_rel(self) -> str:
        if self.config.path is None:
            return ""
        return _relpath(self.config.path, self.config.root) or self.config.path.name

    # -- reading and parsing ------------------------------------------------------------

    def _load(self, path: Path, rel: str) -> Document | None:
        raw, problem_doc = self._read(path, rel)
        return problem_doc if raw is None else self._parse(path, rel, raw)

    def _read(self, path: Path, rel: str) -> tuple[bytes | None, Document | None]:
        """The file's bytes, or a document carrying the reason it cannot be read.

        ``rel`` comes from discovery, whose folders are checked: only the file itself may be
        a link, and one that leaves the root or leads into .git is reported, never read."""
        try:
            real = contained(self.config.root, rel, parents_checked=True)
        except OutsideRoot as exc:
            return None, _problem_doc(path, rel, OUTSIDE_ROOT, exc.describe(rel))
        try:
            st = os.stat(real)
            if not stat.S_ISREG(st.st_mode):  # reading a FIFO would block the run
                return None, _problem_doc(
                    path, rel, "parse/unreadable", "not a regular file (a FIFO, socket or device); not checked"
                )
            size = st.st_size
            if size > MAX_FILE_BYTES:
                return None, _problem_doc(
                    path,
                    rel,
                    "parse/unreadable",
                    f"file is {size / 1048576:.1f} MiB, over the {MAX_FILE_BYTES // 1048576} MiB limit; not checked",
                )
            return Path(real).read_bytes(), None
        except OSError as exc:
            self.notes.append(Notification(f"{rel}: cannot read: {exc.strerror or exc}", path=rel))
            return None, _problem_doc(path, rel, "parse/unreadable", f"cannot read file: {exc.strerror or exc}")

    def _parse(self, path: Path, rel: str, raw: bytes) -> Document | None:
        kind = _kind_of(rel)
        if b"\x00" in raw:
            return _problem_doc(path, rel, "parse/encoding", "file contains NUL bytes (binary?); not checked")
        try:
            text, has_bom = decode_source(raw)
        except DecodeError as exc:
            return _problem_doc(path, rel, "parse/encoding", str(exc), exc.line, exc.column)
        text = normalize_newlines(text)
        for name, impl in self._parse_impls():
            try:
                doc = impl.function(
                    **{
                        a: v
                        for a, v in dict(path=path, relpath=rel, text=text, kind=kind, has_bom=has_bom).items()
                        if a in impl.argnames
                    }
                )
            except Exception as exc:
                message = f"plugin '{name}' failed to parse {rel}: {type(exc).__name__}: {exc}"
                self.notes.append(Notification(message, name, "", rel, traceback.format_exc(limit=6)))
                return _problem_doc(path, rel, "core/internal-error", message)
            if doc is None:
                continue
            if not isinstance(doc, Document):
                self.notes.append(
                    Notification(f"plugin '{name}' returned {type(doc).__name__} from coursecheck_parse", name)
                )
                continue
            return doc
        return _problem_doc(path, rel, "core/internal-error", f"no parser accepted {rel} (kind {kind})")

    def _parse_impls(self) -> list[tuple[str, Any]]:
        impls = self.pm.hook.coursecheck_parse.get_hookimpls()
        return [(plugin_name(self.pm, i.plugin), i) for i in reversed(impls)]

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

    def _identify(self, doc: Document) -> None:
        course = self.config.course
        inside = doc.relpath
        for pattern in course.content:
            if compile_glob(pattern).match(doc.relpath):
                base = literal_base(pattern)
                if base and doc.relpath.startswith(base + "/"):
                    inside = doc.relpath[len(base) + 1 :]
                break
        doc.lesson_id = expand_template(course.id, inside)
        doc.aliases = [a for a in (expand_template(t, inside) for t in course.aliases) if a != doc.lesson_id]

    def _order_key(self, doc: Document) -> tuple[Any, ...]:
        if self.config.course.order == "frontmatter":
            value = doc.frontmatter.data.get(self.config.course.order_field) if doc.frontmatter else None
            number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else float("inf")
            folder = doc.relpath.rsplit("/", 1)[0] if "/" in doc.relpath else ""
            return (_natural_key(folder), number, _natural_key(doc.relpath))
        return (_natural_key(doc.relpath),)

    # -- after the rules --------------------------------------------------------------

    def _finish(self, findings: list[Finding], docs: list[Document], reported: set[str] | None) -> list[Finding]:
        by_path: dict[str, list[Finding]] = {}
        for f in findings:
            rule = self.rules.get(f.rule_id)
            if rule is not None:
                level, _ = self.settings.for_file(f.rule_id, f.path or None)
                if level == "off" or not self._selected(f.rule_id):
                    continue
                if not f.level or level != rule.level:
                    f.level = level
            elif not f.level:
                f.level = "error"
            if not f.plugin and rule is not None:
                f.plugin = rule.plugin
            by_path.setdefault(f.path, []).append(f)
        known = set(self.rules)
        families = {r.split("/", 1)[0] for r in known}
        unused_rule = self.rules.get("core/unused-suppression")
        for doc in docs:
            doc_findings = by_path.get(doc.relpath, [])
            # Rules that left findings out here (max-findings): a directive for them may have
            # been written for a finding that was not kept, so it is not called unused.
            limited = {f.rule_id for f in doc_findings if is_limit_note(f)}
            for directive, why in suppress.apply(doc, doc_findings, known):
                if unused_rule is None or not self._selected(unused_rule.id):
                    continue
                if limited and _may_cover(directive.rules, limited, known, families):
                    continue
                level, _ = self.settings.for_file(unused_rule.id, doc.relpath)
                if level == "off":
                    continue
                span = directive.span
                by_path.setdefault(doc.relpath, []).append(
                    Finding(
                        unused_rule.id,
                        why,
                        doc.relpath,
                        span,
                        level=level,
                        plugin=unused_rule.plugin,
                        anchor=" ".join(directive.rules) + directive.kind,
                    ).set_snippet(doc.lines.line_text(span.line))
                )
        out = [f for path, items in by_path.items() if reported is None or path in reported for f in items]
        out.sort(key=Finding.sort_key)
        _fingerprint(out)
        return out


_WORKER_STATE: tuple[Engine, Course, list[Rule]] | None = None


def _work_on_chunk(chunk: list[tuple[str, str]]) -> list[FileResult]:
    """In a worker process (forked: it has the parent's engine, plugins and config)."""
    assert _WORKER_STATE is not None
    engine, course, active_rules = _WORKER_STATE
    return [engine._per_file(rel, role, course, active_rules, lookup=False)[0] for rel, role in chunk]


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


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _may_cover(named: tuple[str, ...], limited: set[str], known: set[str], families: set[str]) -> bool:
    """Whether a suppression naming ``named`` (nothing: every rule) may be meant for a rule
    in ``limited``, and names no unknown rule (that is reported whatever the limit)."""
    if any(r not in known and r not in families for r in named):
        return False
    return not named or any(r in named or r.split("/", 1)[0] in named for r in limited)


def _only(summary: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The parts of a file's summary made by the rules ``names``."""
    return {name: data for name, data in summary.items() if name in names}


def _is_sections(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, (tuple, list)) and len(item) == 2 for item in value)


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


def _is_phases(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, Phase) for item in value)


def _fingerprint(findings: Iterable[Finding]) -> None:
    """Stable identity for each finding: rule, file and what it is about, not its line.

    Two findings with the same key get an occurrence number, in order of position.
    """
    seen: Counter[tuple[str, str, str]] = Counter()
    for f in findings:
        what = f.anchor or " ".join(f.snippet.split()) or f.message
        key = (f.rule_id, f.path, what)
        seen[key] += 1
        digest = hashlib.sha256("\0".join([*key, str(seen[key])]).encode("utf-8", "surrogatepass")).hexdigest()
        f.fingerprint = digest[:32]


def _problem_doc(path: Path, rel: str, rule_id: str, message: str, line: int = 1, column: int = 1) -> Document:
    doc = Document(path, rel, "text", "", LineIndex(""))
    doc.problems.append(Finding(rule_id, message, rel, Span.point(line, column)))
    return doc


def _raw_bytes(root: str, path: str) -> bytes | None:
    """A file's bytes for its cache key, None when it cannot be read, is too big or leads
    outside the root (the per-file stage then reports why). Plain strings: 5,000 pathlib
    joins cost ~0.1 s. ``path`` is a discovered file (its folders are checked)."""
    try:
        path = contained(root, path, parents_checked=True)
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None  # a FIFO would block the read
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _digest_of(root: Path, rel: str) -> str:
    """What a shard saw of a discovered file, to tell the merge it is the same file ('' unreadable)."""
    try:
        path = contained(root, rel, parents_checked=True)
    except OutsideRoot:
        return "outside the project root"
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if st.st_size > MAX_FILE_BYTES:
            return "too big"
        with open(path, "rb") as handle:
            return file_digest(handle.read())
    except OSError:
        return ""


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size  # a link is not followed: it may lead outside the root
    except OSError:
        return 0


def _kind_of(rel: str) -> str:
    lower = rel.lower()
    if lower.endswith(".mdx"):
        return "mdx"
    if lower.endswith((".md", ".markdown")):
        return "markdown"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    return "text"


@lru_cache(maxsize=1 << 16)  # each path is sorted twice a run (discovery, lesson order)
def _natural_key(path: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in _NATURAL.split(path))


def _relpath(path: Path, root: Path) -> str | None:
    try:
        rel = os.path.relpath(path.resolve(), root.resolve())
    except ValueError:
        return None
    if rel == ".." or rel.startswith(".." + os.sep):
        return None
    return Path(rel).as_posix()


class _Walk:
    """Listing the files under the literal parts of the course's globs.

    The literal part of a glob (``content/course`` of ``content/course/**/*.mdx``) is the
    repository's: a link there that leaves the root or leads into .git is reported
    (``parse/outside-root``) and not followed. Below it, links to folders are not followed
    (no symlink loops, no way out); files that are links are checked when read. Unreadable
    folders are reported. Temporary files of killed writes are noted (``leftovers``)."""

    def __init__(self, root: Path, problems: list[Finding]) -> None:
        self.root = root
        self.problems = problems
        self.leftovers: dict[str, list[str]] = {}
        self._refused: set[str] = set()

    def files(self, base_rel: str) -> Iterable[str]:
        root = self.root
        base = root / base_rel if base_rel else root
        try:
            contained(root, base_rel or ".")
        except OutsideRoot as exc:
            where = exc.link or base_rel
            if where not in self._refused and os.path.lexists(base):
                self._refused.add(where)
                self.problems.append(Finding(OUTSIDE_ROOT, exc.describe(where), where, Span.point(1, 1)))
            return
        if base_rel and os.path.isfile(base):
            folder, name = os.path.split(str(base))
            self._note_leftovers(folder, [n for n in _listdir(folder) if n.startswith(f".{name}.")])
            yield Path(base_rel).as_posix()
            return
        if not base.is_dir():
            return
        yield from self._walk(base)

    def _walk(self, base: Path) -> Iterable[str]:
        root = self.root

        def onerror(exc: OSError) -> None:
            rel = _relpath(Path(exc.filename), root) if exc.filename else None
            self.problems.append(
                Finding(
                    "parse/unreadable",
                    f"cannot read folder: {exc.strerror or exc}",
                    shown(rel or str(exc.filename)),
                    Span.point(1, 1),
                    level="warning",
                )
            )

        root_str = str(root)
        for folder, dirnames, filenames in os.walk(base, onerror=onerror):
            dirnames[:] = sorted(d for d in dirnames if d not in (".git", "node_modules", "__pycache__", ".venv"))
            rel_folder = os.path.relpath(folder, root_str)
            prefix = "" if rel_folder == "." else Path(rel_folder).as_posix() + "/"
            self._note_leftovers(folder, filenames)
            for name in sorted(filenames):
                yield prefix + name

    def _note_leftovers(self, folder: str, names: Iterable[str]) -> None:
        found = [name for name in names if is_temp_name(name)]
        if found:
            known = self.leftovers.setdefault(folder, [])
            known.extend(name for name in found if name not in known)


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _file_name_problem(rel: str) -> Finding:
    """A file whose name is not UTF-8: reported by its escaped name, not checked."""
    name = shown(rel)
    return Finding(
        FILE_NAME,
        "the file name is not valid UTF-8 (shown with its bad bytes as \\xNN); not checked: rename it",
        name,
        Span.point(1, 1),
    )


def run(config: Config, options: RunOptions | None = None) -> Result:
    """Check the course described by ``config``."""
    return Engine(config, options).run()
