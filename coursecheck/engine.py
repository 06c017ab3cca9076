"""The run: discover -> parse -> document rules -> course rules -> suppress -> Result.

The engine knows no rule: it asks the plugins for rules, parsers and reporters.
"""

from __future__ import annotations

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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from coursecheck import __version__, coursecache, records, suppress
from coursecheck.cache import DEFAULT_DIR as DEFAULT_CACHE_DIR
from coursecheck.cache import FileCache, code_fingerprint, freezing_loaded
from coursecheck.cache import usable_dir as cache_usable
from coursecheck.config import (
    ALWAYS_EXCLUDED,
    Config,
    ConfigError,
    ConfigProblem,
    Settings,
    expand_template,
    validate_against,
)
from coursecheck.fsutil import read_regular_bytes
from coursecheck.globs import compile_glob, literal_base, matches
from coursecheck.model import LEVEL_RANK, Course, Document, Finding, Phase
from coursecheck.plugins import Notification, PluginError, call_each, make_plugin_manager, plugin_name
from coursecheck.records import DocumentRecord, LineMove, pack_fields, read_text, record_fields, view_digest
from coursecheck.rules import Rule, RuleContext
from coursecheck.runindex import RunIndex, Signature, restore, signature
from coursecheck.shard import ShardArtifact, ShardError, assign, file_digest
from coursecheck.text import DecodeError, LineIndex, Span, decode_source, normalize_newlines

MAX_FILE_BYTES = 8 * 1024 * 1024
# Below this many files worker processes cost more than they save (measured: benchmarks/run.py).
PARALLEL_MIN_FILES = 200
MAX_JOBS = 8
FILES_PER_JOB = 50  # a worker is worth starting for this many files
_NATURAL = re.compile(r"(\d+)")


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
    entry_points: bool = True
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


class Engine:
    def __init__(self, config: Config, options: RunOptions | None = None) -> None:
        self.config = config
        self.options = options or RunOptions()
        self.notes: list[Notification] = []
        try:
            self.pm, notes = make_plugin_manager(
                config.plugins, config.path.parent if config.path else None, entry_points=self.options.entry_points
            )
        except PluginError as exc:
            file, line = config.where("plugins")
            raise ConfigError([ConfigProblem(file, line, "plugins", str(exc))]) from None
        self.notes.extend(notes)
        self.rules = self._collect_rules()
        config_problems = self._collect_config_rules()
        sections: dict[str, str] = {}
        for _name, value in call_each(
            self.pm, "coursecheck_config_sections", self.notes, lambda v: isinstance(v, dict), "a dict"
        ):
            sections.update(value)
        problems = [*config.problems, *config_problems, *validate_against(config, self.rules, sections)]
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
        self.course: Course | None = None
        self.cache_hits = self.cache_misses = 0  # files served from / missing in the cache
        self.reparsed = 0  # records parsed again in the course stage (see coursecheck.records)
        self._merging: list[ShardArtifact] | None = None  # merge(): per-file results from shards
        self._inputs: str | None = None  # see _inputs_key
        self.swept = 0  # cache entries deleted at the end of the run (FileCache.sweep)
        self._file_keys: dict[str, str] = {}  # relpath -> per-file cache key
        self._views: dict[str, str] = {}  # relpath -> FileResult.view (the course stage's key)
        self.relocated = 0  # course rules whose stored findings the last run moved (not ran)

    # -- plugins ----------------------------------------------------------------------

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
        """``(relpath, role)`` for every file of the course, role lesson | data."""
        root = self.config.root
        course = self.config.course
        exclude = [*ALWAYS_EXCLUDED, *course.exclude]
        found: dict[str, str] = {}
        problems: list[Finding] = []
        for role, patterns in (("lesson", course.content), ("data", course.data)):
            for pattern in patterns:
                rx = compile_glob(pattern)
                base = root / literal_base(pattern)
                for rel in _walk(root, base, problems):
                    if rx.match(rel) and not matches(rel, exclude) and rel not in found:
                        found[rel] = role
        return sorted(found.items(), key=lambda item: _natural_key(item[0])), problems

    # -- the run ------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> Result:
        """Check the course. ``progress(done, total)``, if given, is called as files are parsed
        and checked and as course rules run (the CLI draws a progress bar with it)."""
        with _fewer_collections():
            return self._run(progress)

    def _run(self, progress: Callable[[int, int], None] | None) -> Result:
        started = time.perf_counter()
        root = self.config.root
        files, walk_problems = self.discover()
        findings: list[Finding] = list(walk_problems)
        course_files = {rel for rel, _ in files}
        reported: set[str] | None = None
        extra_files: list[tuple[str, str]] = []
        if self.options.paths:
            reported = set()
            for p in self.options.paths:
                absolute = p if p.is_absolute() else Path.cwd() / p
                rel = _relpath(absolute, root)
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

        by_rel: dict[str, Document] = {}
        summaries: dict[str, dict[str, Any]] = {}
        for doc in data_docs:
            step += 2
            if progress is not None:
                progress(step, total_steps)
            summary: dict[str, Any] = {}
            findings.extend(self._check_document(doc, stage_course, active_rules, summary))
            if summary:
                summaries[doc.relpath] = summary
            by_rel[doc.relpath] = doc
        rest = [(rel, role) for rel, role in to_load if rel not in data_rels]
        keep = self.options.keep_documents is None or len(rest) <= self.options.keep_documents
        if self._merging is not None:
            per_file = self._merged_results(rest, active_rules, data_docs)
        else:
            per_file = self._per_file_results(rest, stage_course, active_rules, use_index=True)
        for result, full in per_file:
            step += 2
            if progress is not None:
                progress(step, total_steps)
            findings.extend(result.findings)
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

        findings.extend(self._course_stage(course, active_rules, to_load, progress, step, total_steps))

        if progress is not None:
            progress(total_steps, total_steps)
        if self._cache is not None and self._merging is None:
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

    # -- sharding (coursecheck.shard) -------------------------------------------------

    def _active_rules(self) -> list[Rule]:
        return [r for r in self.rules.values() if self._selected(r.id) and self.settings.enabled_anywhere(r.id)]

    def run_key(self, active_rules: list[Rule], data_docs: list[Document]) -> dict[str, str]:
        """What the per-file results depend on besides the files, part by part (a merge
        names the part that differs); the cache's base key adds the project's path."""
        plugins = sorted(((plugin_name(self.pm, p), p) for p in self.pm.get_plugins()), key=lambda i: str(i[0]))
        c = self.config
        return {
            "coursecheck and plugins": FileCache.key(
                code_fingerprint([p for _, p in plugins]), " ".join(name for name, _ in plugins)
            ),
            "config": FileCache.key(repr((c.course, c.rules, c.overrides, c.plugins, c.extends, c.sections))),
            "rules selected": FileCache.key("\0".join(sorted(f"{r.id}:{r.plugin}" for r in active_rules))),
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
                listed.append((result.relpath, items[n - 1][1], _digest_of(self.config.root / result.relpath)))
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
        self._merging = sorted(artifacts, key=lambda a: a.index)
        try:
            return self.run(progress)
        finally:
            self._merging = None

    def _merged_results(
        self, items: list[tuple[str, str]], active_rules: list[Rule], data_docs: list[Document]
    ) -> Iterator[tuple[FileResult, Document | None]]:
        """The shards' results for ``items``, after checking they are this checkout's."""
        assert self._merging is not None
        key = self.run_key(active_rules, data_docs)
        for a in self._merging:
            for part, value in key.items():
                if a.run_key.get(part) != value:
                    raise ShardError(
                        f"shard {a.index}/{a.total} was made with different {part} than this merge; "
                        "run every shard and the merge on the same commit with the same options"
                    )
        by_rel: dict[str, tuple[str, str, FileResult, int]] = {}
        for a in self._merging:
            for (rel, role, digest), result in zip(a.files, a.results, strict=True):
                if rel in by_rel:
                    raise ShardError(f"{rel} is in shard {by_rel[rel][3]}/{a.total} and in shard {a.index}/{a.total}")
                by_rel[rel] = (role, digest, result, a.index)
        wanted = {rel for rel, _ in items}
        missing = sorted(wanted - set(by_rel))
        extra = sorted(set(by_rel) - wanted)
        if missing or extra:
            said = (
                [f"not in any shard: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"] if missing else []
            )
            if extra:
                said.append(
                    f"in a shard but not in this checkout: {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}"
                )
            raise ShardError(
                "the shards do not cover this checkout's files (" + "; ".join(said) + "); "
                "run every shard and the merge on the same commit"
            )
        for rel, role in items:
            shard_role, digest, result, index = by_rel[rel]
            if shard_role != role or digest != _digest_of(self.config.root / rel):
                raise ShardError(f"{rel} has changed since shard {index}/{self._merging[0].total} checked it")
            if result.fields is not None:
                result.fields["path"] = self.config.root / rel
            yield result, None

    # -- the course stage (course rules; stored between runs, coursecheck.coursecache) ----

    def _course_stage(
        self,
        course: Course,
        active_rules: list[Rule],
        to_load: list[tuple[str, str]],
        progress: Callable[[int, int], None] | None,
        step: int,
        total_steps: int,
    ) -> list[Finding]:
        """The course rules' findings: from the cache when neither the checked files' views,
        the config, the data files nor any file the rules read outside them has changed.

        After an edit that moved things in some files without changing their shape
        (records.shape), relocatable rules' stored findings are moved with their lines
        instead of running the rules again (the others run)."""
        course_rules = [r for r in active_rules if r.course]
        keys = self._course_keys(course_rules, to_load)
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
                    options_for=lambda rel, r=rule.id: self.settings.for_file(r, rel)[1],
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
        return findings

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
        if self._cache is None or self._merging is not None or not course_rules:
            return None
        course = self.course
        assert course is not None
        if not all(coursecache.trusted(r) for r in course_rules):
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
            ctx = RuleContext(rule, self.config, options, course)
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
        self, rel: str, role: str, course: Course, active_rules: list[Rule], *, lookup: bool = True
    ) -> tuple[FileResult, Document | None]:
        """One file's per-file result, from the cache when its key is there."""
        notes_before = len(self.notes)
        path = self.config.root / rel
        raw, problem_doc = self._read(path, rel)
        key = None
        if raw is not None and self._cache is not None:
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
        if self._cache is not None:
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
            index = RunIndex(self._cache.folder, self.config.root, self._base_key, time.time_ns())
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
            raw = _raw_bytes(path)
            hit = None
            if raw is not None:
                key = self._file_keys[rel] = FileCache.key(self._base_key, rel, role, raw)
                hit = self._cache.get(key)
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
                key = self._file_keys.get(rel)
                if index is not None and key is not None:
                    index.record(rel, role, signatures.get(position), key, value[0])
        except BaseException:
            if index is not None:
                index.discard()
            raise
        if index is not None:
            index.save()
        for value in results:
            assert value is not None
            yield value

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
        folder = self.options.cache_dir or (self.config.root / DEFAULT_CACHE_DIR)
        if not cache_usable(folder):
            return None  # a read-only tree: run without a cache
        return FileCache(folder)

    def _cache_base_key(self, active_rules: list[Rule], data_docs: list[Document]) -> str:
        """Everything besides the file itself that per-file results depend on: the run key
        (code, plugins, config, rules, data files) and the project root (one cache per tree)."""
        return FileCache.key(*self.run_key(active_rules, data_docs).values(), str(self.config.root))

    def _inputs_key(self) -> str:
        """The bytes of the files plugins declare their document rules read besides the
        checked ones (``coursecheck_inputs``: e.g. a glossary outside the data globs)."""
        if self._inputs is None:
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
            parts = []
            for rel in sorted(named):
                try:
                    content = read_regular_bytes(self.config.root / rel)
                except OSError as exc:
                    content = f"unreadable: {exc.strerror or exc}".encode()
                parts.append(FileCache.key(rel, content))
            self._inputs = FileCache.key(*parts)
        return self._inputs

    def _selected(self, rule_id: str) -> bool:
        family = rule_id.split("/", 1)[0]
        if rule_id.startswith(("core/", "parse/")) and not self.options.select:
            return not (rule_id in self.options.ignore or family in self.options.ignore)
        if self.options.select and not (rule_id in self.options.select or family in self.options.select):
            return False
        return not (rule_id in self.options.ignore or family in self.options.ignore)

    def _call(self, rule: Rule, ctx: RuleContext, subject: Any, relpath: str) -> list[Finding]:
        try:
            returned = rule.check(subject, ctx)
            if returned is not None:
                for item in returned:
                    if isinstance(item, Finding):
                        ctx.findings.append(item)
                    else:
                        raise TypeError(f"rule yielded {type(item).__name__}, not Finding")
        except Exception as exc:
            where = f" on {relpath}" if relpath else ""
            message = f"plugin '{rule.plugin}' rule {rule.id} crashed{where}: {type(exc).__name__}: {exc}"
            self.notes.append(Notification(message, rule.plugin, rule.id, relpath, traceback.format_exc(limit=6)))
            span = Span.point(1, 1)
            return [
                *ctx.findings,
                Finding(
                    "core/internal-error",
                    message + " (the rest of the run went on)",
                    relpath or self._config_rel(),
                    span,
                    plugin=rule.plugin,
                ),
            ]
        return ctx.findings

    def _config_rel(self) -> str:
        if self.config.path is None:
            return ""
        return _relpath(self.config.path, self.config.root) or self.config.path.name

    # -- reading and parsing ------------------------------------------------------------

    def _load(self, path: Path, rel: str) -> Document | None:
        raw, problem_doc = self._read(path, rel)
        return problem_doc if raw is None else self._parse(path, rel, raw)

    def _read(self, path: Path, rel: str) -> tuple[bytes | None, Document | None]:
        """The file's bytes, or a document carrying the reason it cannot be read."""
        try:
            st = path.stat()
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
            return path.read_bytes(), None
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
        unused_rule = self.rules.get("core/unused-suppression")
        for doc in docs:
            doc_findings = by_path.get(doc.relpath, [])
            for directive, why in suppress.apply(doc, doc_findings, known):
                if unused_rule is None or not self._selected(unused_rule.id):
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
                        snippet=doc.lines.line_text(span.line),
                        plugin=unused_rule.plugin,
                        anchor=" ".join(directive.rules) + directive.kind,
                    )
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


def _only(summary: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The parts of a file's summary made by the rules ``names``."""
    return {name: data for name, data in summary.items() if name in names}


def _is_sections(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, (tuple, list)) and len(item) == 2 for item in value)


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
        digest = hashlib.sha256("\0".join([*key, str(seen[key])]).encode("utf-8")).hexdigest()
        f.fingerprint = digest[:32]


def _problem_doc(path: Path, rel: str, rule_id: str, message: str, line: int = 1, column: int = 1) -> Document:
    doc = Document(path, rel, "text", "", LineIndex(""))
    doc.problems.append(Finding(rule_id, message, rel, Span.point(line, column)))
    return doc


def _raw_bytes(path: str) -> bytes | None:
    """A file's bytes for its cache key, None when it cannot be read or is too big (the
    per-file stage then reports why). Plain strings: 5,000 pathlib joins cost ~0.1 s."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None  # a FIFO would block the read
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _digest_of(path: Path) -> str:
    """What a shard saw of a file, to tell the merge it is the same file ('' unreadable)."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if st.st_size > MAX_FILE_BYTES:
            return "too big"
        return file_digest(path.read_bytes())
    except OSError:
        return ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
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


def _walk(root: Path, base: Path, problems: list[Finding]) -> Iterable[str]:
    """Relative POSIX paths of files under ``base``; links to folders are not followed
    (no symlink loops), unreadable folders are reported."""
    if base.is_file():
        rel = _relpath(base, root)
        if rel is not None:
            yield rel
        return
    if not base.is_dir():
        return

    def onerror(exc: OSError) -> None:
        rel = _relpath(Path(exc.filename), root) if exc.filename else None
        problems.append(
            Finding(
                "parse/unreadable",
                f"cannot read folder: {exc.strerror or exc}",
                rel or str(exc.filename),
                Span.point(1, 1),
                level="warning",
            )
        )

    root_str = str(root)
    for folder, dirnames, filenames in os.walk(base, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames if d not in (".git", "node_modules", "__pycache__", ".venv"))
        rel_folder = os.path.relpath(folder, root_str)
        prefix = "" if rel_folder == "." else Path(rel_folder).as_posix() + "/"
        for name in sorted(filenames):
            yield prefix + name


def run(config: Config, options: RunOptions | None = None) -> Result:
    """Check the course described by ``config``."""
    return Engine(config, options).run()
