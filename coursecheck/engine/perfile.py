"""The per-file stage: each file's FileResult (parse problems, document rules' findings,
course rules' summaries, its record), from the run index or the file cache when its key is
there, else computed here or in worker processes on big courses."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from coursecheck.cache import FileCache, restored_one
from coursecheck.config import Config
from coursecheck.engine.reading import Reader, _raw_bytes
from coursecheck.engine.rulecalls import RuleCalls
from coursecheck.model import Course, Document
from coursecheck.plugins import Notification
from coursecheck.records import pack_fields, record_fields, view_digest
from coursecheck.results import FileResult, RunOptions
from coursecheck.rules import Rule
from coursecheck.runindex import RunIndex, Signature, restore, signature

# Below this many files worker processes cost more than they save (measured: benchmarks/run.py).
PARALLEL_MIN_FILES = 200
MAX_JOBS = 8
FILES_PER_JOB = 50  # a worker is worth starting for this many files


class PerFileStage:
    """The per-file stage of one run. Its inputs: the file cache and the run's keys in it
    (``base_key``; ``full_key``: the run with every rule, when this one selects); it fills
    ``file_keys`` (relpath -> the file's cache key) and counts ``cache_hits``,
    ``cache_misses`` and ``index_rejected`` (run indexes or results in them that failed to
    load)."""

    def __init__(
        self,
        config: Config,
        options: RunOptions,
        reader: Reader,
        calls: RuleCalls,
        notes: list[Notification],
        cache: FileCache | None,
        base_key: str,
        full_key: str,
        file_keys: dict[str, str],
    ) -> None:
        self.config = config
        self.options = options
        self.notes = notes
        self._reader = reader
        self._calls = calls
        self._cache = cache
        self._base_key = base_key
        self._full_key = full_key
        self._file_keys = file_keys
        self.cache_hits = self.cache_misses = 0
        self.index_rejected = 0
        # relpath -> its summary still pickled, for results from the run index (their
        # ``summary`` is left empty: coursecheck.engine.summaries restores them if read).
        self.deferred_summaries: dict[str, memoryview] = {}

    def per_file(
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
        raw, problem_doc = (given, None) if given is not None else self._reader.read(path, rel)
        key = None
        if raw is not None and self._cache is not None and given is None:
            key = FileCache.key(self._base_key, rel, role, raw)
            hit = self._cache.get(key) if lookup else None
            if isinstance(hit, FileResult) and hit.relpath == rel:
                return hit, None
        doc = problem_doc if raw is None else self._reader.parse(path, rel, raw)
        if doc is None:
            result = FileResult(rel, role, None, [], {}, self.notes[notes_before:])
            del self.notes[notes_before:]
            return result, None
        doc.aliases = []
        doc_role = role
        if role == "lesson" and doc.kind not in ("markdown", "mdx"):
            doc_role = "data" if doc.kind in ("json", "yaml") else "other"
        if doc_role == "lesson":
            self._reader.identify(doc)
        doc.role = doc_role
        summary: dict[str, Any] = {}
        findings = self._calls.check_document(doc, course, active_rules, summary)
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

    def per_file_results(
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
            self.index_rejected += index.rejected
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
                    if isinstance(hit, FileResult) and hit.relpath == rel and index.attach(rel, hit):
                        summary = index.summary_bytes(rel)
                        if summary is not None:
                            self.deferred_summaries[rel] = summary
                        self._file_keys[rel] = key
                        index.keep(rel)
                        results.append((hit, None))
                        self.cache_hits += 1
                        restored_one()
                        continue
                    self.index_rejected += 1
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
                yield self.per_file(rel, role, course, active_rules, lookup=False)
            return
        global _WORKER_STATE
        _WORKER_STATE = (self, course, active_rules)
        import coursecheck.parse.mdit  # noqa: F401  (imported once, before the workers fork)

        size = max(1, min(64, len(items) // (jobs * 8)))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        done = 0
        # Imported here: a run served from the cache starts no worker (~10 ms of imports).
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        try:
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
                yield self.per_file(rel, role, course, active_rules, lookup=False)
        finally:
            _WORKER_STATE = None

    def _narrowed(self, hit: FileResult, active_rules: list[Rule]) -> FileResult:
        """A stored result of the run with every rule, as this narrower run makes it: only
        the active rules' findings."""
        ids = {r.id for r in active_rules}
        findings = [f for f in hit.findings if f.rule_id in ids]
        return FileResult(hit.relpath, hit.role, hit.fields, findings, hit.summary, hit.notes, hit.view)


_WORKER_STATE: tuple[PerFileStage, Course, list[Rule]] | None = None


def _work_on_chunk(chunk: list[tuple[str, str]]) -> list[FileResult]:
    """In a worker process (forked: it has the parent's engine, plugins and config)."""
    assert _WORKER_STATE is not None
    stage, course, active_rules = _WORKER_STATE
    return [stage.per_file(rel, role, course, active_rules, lookup=False)[0] for rel, role in chunk]


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()

