"""The course as the language server holds it: the engine, the last result, the editor's
buffers, and what makes a reload necessary.

Nothing here knows the protocol (pygls): the server (:mod:`coursecheck.lsp.server`) calls
these methods from one thread, converts what they return into LSP messages, and sends them.
The engine is used through :class:`~coursecheck.engine.Engine` only: ``run()`` for a full
check, ``check_source()`` for one buffer's per-file stage (what the editor shows first,
within a few parse times of the lesson), ``recheck_course()`` for the course stage after
it (what other open lessons see of the edit).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursecheck.config import Config, ConfigError, ConfigProblem, find_config, load_config
from coursecheck.engine import PARALLEL_MIN_FILES, Engine, Result, RunOptions, SourceCheck
from coursecheck.model import Course, Document, Finding
from coursecheck.text import DecodeError, decode_source, normalize_newlines

Log = Callable[[str], None]
# A file's signature on disk: size, modification time, inode (None: not there).
Signature = tuple[int, int, int] | None


def signature(path: Path) -> Signature:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(slots=True)
class LoadProblem:
    """Why the course could not be (re)loaded: config problems (shown on the config file,
    with their lines) or an unexpected error (a plugin that raised at load time)."""

    problems: list[ConfigProblem] = field(default_factory=list)
    error: str = ""


class CourseWorkspace:
    """One course: its config, engine and last result, plus the editor's open buffers."""

    def __init__(
        self,
        root: Path,
        config_path: Path | None = None,
        *,
        cache: bool = True,
        warm_cache: bool = True,
        entry_points: bool = True,
        log: Log | None = None,
    ) -> None:
        self.root = root.resolve()
        self.explicit_config = config_path
        self.cache = cache
        self.warm_cache = warm_cache
        self.entry_points = entry_points
        self.log: Log = log or (lambda message: None)
        self.config: Config | None = None
        self.config_path: Path | None = None
        self.engine: Engine | None = None
        self.result: Result | None = None
        self.problem: LoadProblem | None = None  # the last load's, None when it loaded
        self.buffers: dict[str, str] = {}  # relpath -> the editor's text of an open file
        self.by_path: dict[str, list[Finding]] = {}  # relpath -> finished findings, shown now
        self.pending: dict[str, SourceCheck] = {}  # checked, not yet in a course stage
        self.removed: set[str] = set()  # gone from disk, not yet out of the course
        self.documents: dict[str, Document] = {}  # relpath -> the parse of an open buffer
        self.generation = 0  # bumped at every load: the course may be another one
        # Bumped when what a file's check reads besides its text changes (a load, a course
        # stage's findings): a check made before then is not what a check now would give.
        self.epoch = 0
        self._inputs: dict[Path, Signature] = {}
        self._disk: dict[str, Signature] = {}

    # -- paths -------------------------------------------------------------------------------

    def relpath(self, path: Path) -> str | None:
        """``path`` relative to the project root (POSIX), None when outside it."""
        try:
            rel = os.path.relpath(path.resolve(), self.root)
        except ValueError:
            return None
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            return None
        return Path(rel).as_posix()

    def path(self, rel: str) -> Path:
        return self.root / rel

    def role(self, rel: str) -> str | None:
        """lesson | data for a file of the course, None for any other file."""
        return self.engine.role_of(rel) if self.engine is not None else None

    @property
    def course(self) -> Course | None:
        return self.result.course if self.result is not None else None

    # -- loading ------------------------------------------------------------------------

    def load(self) -> bool:
        """Load the config and check the whole course (the open buffers as they are in the
        editor). False when it could not: :attr:`problem` says why, and the last course
        that loaded stays (its findings are still shown)."""
        started = time.perf_counter()
        config_path = self.explicit_config or find_config(self.root)
        self.config_path = config_path.resolve() if config_path is not None else None
        self._inputs = {p: signature(p) for p in self._input_paths(None)}
        try:
            config = load_config(config_path, self.root, strict=False)
            if config_path is None:
                config.root = self.root
            engine = Engine(config, RunOptions(cache=self.cache, jobs=1, entry_points=self.entry_points))
        except ConfigError as exc:
            self.problem = LoadProblem(list(exc.problems))
            self.log(f"the config has {len(exc.problems)} problem(s); the course is not checked again until it loads")
            return False
        except Exception as exc:  # a plugin that raised while loading: never the server's end
            self.problem = LoadProblem(error=f"{type(exc).__name__}: {exc}")
            self.log("loading the course failed:\n" + traceback.format_exc(limit=8))
            return False
        self._warm(config)
        try:
            result = engine.run()
        except Exception as exc:
            self.problem = LoadProblem(error=f"the check failed: {type(exc).__name__}: {exc}")
            self.log("the check failed:\n" + traceback.format_exc(limit=8))
            return False
        self.config, self.engine, self.result, self.problem = config, engine, result, None
        self.generation += 1
        self.epoch += 1
        self.pending.clear()
        self.removed.clear()
        self.documents.clear()
        self._inputs = {p: signature(p) for p in self._input_paths(engine)}
        self._disk = {rel: signature(self.root / rel) for rel in result.files}
        self._set_all(result)
        for rel in list(self.buffers):
            if self.role(rel) is not None:
                self.check_file(rel)
        if self.pending:
            self.check_course()
        self.log(
            f"checked {len(result.files)} files in {time.perf_counter() - started:.2f}s "
            f"({engine.cache_hits} from the cache)"
        )
        return True

    def _warm(self, config: Config) -> None:
        """A big course's first check is made in a fresh process (`coursecheck -q`), which
        fills the cache with worker processes: this process has threads (the protocol's
        reader), and forking it for workers could deadlock. The run here then reads the
        cache. Skipped when the cache is off or the course is small."""
        if not self.cache or not self.warm_cache or self.engine is not None:
            return
        probe = Engine(config, RunOptions(entry_points=self.entry_points))
        files, _ = probe.discover()
        if len(files) < PARALLEL_MIN_FILES:
            return
        command = [
            sys.executable,
            "-m",
            "coursecheck",
            "-q",
            "--no-progress",
            "--format",
            "json",
            "--root",
            str(self.root),
        ]
        if self.config_path is not None:
            command[3:3] = ["--config", str(self.config_path)]
        started = time.perf_counter()
        try:
            subprocess.run(
                command,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=1800,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            self.log(f"warming the cache failed ({exc}); checking in this process")
            return
        self.log(f"cache warmed by a separate check in {time.perf_counter() - started:.1f}s")

    def _input_paths(self, engine: Engine | None) -> list[Path]:
        """Files whose change means a reload: the config and its packs, local plugins,
        the glossary, files plugins declare as inputs (vocabularies), the data files."""
        paths: set[Path] = set()
        if self.config_path is not None:
            paths.add(self.config_path)
        else:
            paths.add(self.root / ".coursecheck.toml")  # a config created later
        config = engine.config if engine is not None else None
        if config is not None:
            for display, _line in config.origins.values():
                candidate = Path(display)
                paths.add(candidate if candidate.is_absolute() else self.root / candidate)
            base = config.path.parent if config.path is not None else self.root
            for plugin in config.plugins:
                if plugin.endswith(".py") or "/" in plugin:
                    paths.add((base / plugin).resolve())
            glossary = config.sections.get("glossary")
            if isinstance(glossary, dict) and isinstance(glossary.get("file"), str):
                paths.add(self.root / glossary["file"])
            for rel in engine.declared_inputs() if engine is not None else []:
                paths.add(self.root / rel)
        if engine is not None and self.result is not None:
            paths.update(self.root / rel for rel, role in engine.files() if role == "data")
        return sorted(p.resolve() if p.exists() else p for p in paths)

    def inputs(self) -> list[Path]:
        return list(self._inputs)

    def is_input(self, path: Path) -> bool:
        resolved = path.resolve() if path.exists() else path
        return resolved in self._inputs

    def inputs_changed(self) -> bool:
        """Whether a file the course is loaded from changed on disk since the last load."""
        return any(signature(p) != sig for p, sig in self._inputs.items())

    # -- buffers and checks ----------------------------------------------------------------

    def set_buffer(self, rel: str, text: str) -> None:
        self.buffers[rel] = text

    def close_buffer(self, rel: str) -> None:
        """The editor closed the file: from now on it is what the disk holds."""
        self.buffers.pop(rel, None)
        self.documents.pop(rel, None)

    def content(self, rel: str) -> bytes | None:
        """The file as the editor has it, else as the disk has it (None: unreadable)."""
        text = self.buffers.get(rel)
        if text is not None:
            return text.encode("utf-8", "surrogatepass")
        try:
            return (self.root / rel).read_bytes()
        except OSError:
            return None

    def text(self, rel: str) -> str | None:
        """The file's text (the buffer's, else the disk's), newlines as written."""
        text = self.buffers.get(rel)
        if text is not None:
            return text
        try:
            decoded, _ = decode_source((self.root / rel).read_bytes())
        except (OSError, DecodeError):
            return None
        return decoded

    def check_file(self, rel: str) -> list[Finding] | None:
        """The per-file stage of one file (its buffer, else the disk): its findings now,
        with the course findings the last course stage made in it. None: not a file of
        the course, or no course loaded."""
        if self.engine is None or self.result is None or self.role(rel) is None:
            return None
        content = self.content(rel)
        if content is None:  # gone from the disk
            self.removed.add(rel)
            self.pending.pop(rel, None)
            return []
        self.removed.discard(rel)
        try:
            check = self.engine.check_source(rel, content)
        except Exception:
            self.log(f"checking {rel} failed:\n" + traceback.format_exc(limit=8))
            return None
        self.pending[rel] = check
        if rel in self.buffers and check.document is not None:
            self.documents[rel] = check.document
        self.by_path[rel] = [f for f in check.findings if f.path == rel]
        return self.by_path[rel]

    def check_course(self, between: Callable[[], None] | None = None) -> set[str]:
        """The course stage after the files checked since the last one: the relpaths
        whose findings changed (other lessons' too). ``between``: called between course
        rules (the server checks a newer keystroke there, see Engine.recheck_course)."""
        if self.engine is None or (not self.pending and not self.removed):
            return set()
        checks, gone = list(self.pending.values()), set(self.removed)
        self.pending.clear()
        self.removed.clear()
        try:
            result = self.engine.recheck_course(checks, gone, between)
        except Exception:
            self.log("the course stage failed:\n" + traceback.format_exc(limit=8))
            return set()
        self.result = result
        self.epoch += 1
        for rel in gone:
            self._disk.pop(rel, None)
        for check in checks:
            if check.relpath not in self.buffers:
                self._disk[check.relpath] = signature(self.root / check.relpath)
        # A file checked again while this stage ran (between its rules) keeps that newer
        # check's findings; the next course stage takes it.
        return self._set_all(result, self.engine.rechecked - set(self.pending))

    def _set_all(self, result: Result, only: set[str] | None = None) -> set[str]:
        """Take the result's findings; the relpaths whose findings changed. ``only``: the
        files the engine finished again (the others' findings are the same objects)."""
        grouped: dict[str, list[Finding]] = {}
        for f in result.findings:
            if only is None or f.path in only:
                grouped.setdefault(f.path, []).append(f)
        candidates = grouped.keys() | self.by_path.keys() if only is None else only
        changed = {rel for rel in candidates if _key(grouped.get(rel)) != _key(self.by_path.get(rel))}
        if only is None:
            self.by_path = grouped
        else:
            for rel in only:
                if rel in grouped:
                    self.by_path[rel] = grouped[rel]
                else:
                    self.by_path.pop(rel, None)
        return changed

    def prewarm(self) -> None:
        """Restore what the course stage reads of every record (a run served from the cache
        keeps them packed) and build the course graph (networkx imported): the first edit's
        course stage then costs what the next ones do. Run when the server is idle."""
        course = self.course
        if course is None:
            return
        started = time.perf_counter()
        for doc in course.documents:
            doc.frontmatter, doc.links, doc.headings, doc.components  # noqa: B018 - restored on first use
            getattr(doc, "code_outline", None)  # the kept line texts (snippets)
        try:
            from coursecheck.graph import course_graph  # what navigation.graph builds (it imports this module)

            if self.config is not None:
                course_graph(course, self.config)
        except Exception:
            self.log("building the course graph failed:\n" + traceback.format_exc(limit=6))
        self.log(f"ready: records and the course graph restored in {time.perf_counter() - started:.2f}s")

    def disk_changes(self, between: Callable[[], None] | None = None) -> tuple[list[str], list[str]]:
        """Files of the course changed on disk (not open in the editor), and files that
        appeared, since they were last read: ``(changed, added)``. A removed file is
        among the changed ones (check_file notes it is gone). ``between``: called every
        few hundred files (a stat of 5,000 files and the walk take ~60 ms; the server
        checks a keystroke there)."""
        if self.engine is None:
            return [], []
        changed = []
        for n, (rel, sig) in enumerate(list(self._disk.items()), 1):
            if rel not in self.buffers and signature(self.root / rel) != sig:
                changed.append(rel)
            if between is not None and n % 500 == 0:
                between()
        if between is not None:
            between()
        try:
            files, _ = self.engine.discover()
        except Exception:
            return changed, []
        added = [rel for rel, _ in files if rel not in self._disk and rel not in self.buffers]
        return changed, added

    def findings(self, rel: str) -> list[Finding]:
        """The findings shown for a file now (suppressed ones left out)."""
        return [f for f in self.by_path.get(rel, []) if f.suppression is None]

    def paths_with_findings(self) -> list[str]:
        return sorted(rel for rel, items in self.by_path.items() if any(f.suppression is None for f in items))

    def document(self, rel: str) -> Document | None:
        """The parse of a file: an open buffer's own, else the course's record."""
        doc = self.documents.get(rel)
        if doc is not None:
            return doc
        course = self.course
        return course.document(rel) if course is not None else None


def _key(findings: list[Finding] | None) -> Any:
    if not findings:
        return ()
    return tuple(
        (f.rule_id, f.message, f.span, f.level, f.suppression is None, f.fix is not None, f.fingerprint)
        for f in findings
    )


def read_text(path: Path) -> str | None:
    """A file's text as the engine reads it (BOM removed, LF newlines); None: unreadable."""
    try:
        text, _ = decode_source(path.read_bytes())
    except (OSError, DecodeError):
        return None
    return normalize_newlines(text)
