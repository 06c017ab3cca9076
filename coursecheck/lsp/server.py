"""The language server: LSP messages in and out (pygls 2), the course checked by
:class:`~coursecheck.lsp.workspace.CourseWorkspace` on one engine thread.

How a change travels: ``didChange`` updates the buffer and (re)starts a debounce timer;
shortly before it ends the buffer's per-file stage runs (priority 0; for a push client its
``publishDiagnostics`` is made then too, to the bytes, :class:`Prepared`); when it ends, the
diagnostics go out (those bytes written, or pushed the usual way when the check was not
ready, or answered to the pending pull); then the course stage runs (priority 1, at most
one queued) and every file whose findings it changed gets new diagnostics (pushed, or a
``workspace/diagnostic/refresh`` for pull clients). Requests that read the course
(definition, rename...) wait for the pending checks of their file first.

Nothing a request or a plugin raises ends the server: each handler reports the error
(``window/logMessage``) and answers with nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import gc
import hashlib
import inspect
import itertools
import json
import logging
import os
import queue
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCNotification, JsonRPCProtocol
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from coursecheck import __version__
from coursecheck.fsutil import atomic_write_bytes
from coursecheck.lsp import actions as act
from coursecheck.lsp import navigation as nav
from coursecheck.lsp.positions import UTF8, UTF16, UTF32, Lines, from_client, offset_of, span_points
from coursecheck.lsp.workspace import CourseWorkspace
from coursecheck.model import Finding
from coursecheck.text import Span

T = TypeVar("T")
log = logging.getLogger("coursecheck.lsp")
_PYGLS_LOG = logging.getLogger("pygls.protocol.json_rpc")  # pygls's own, where it logs each message sent

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}
RULE_DOCS = "https://github.com/coursecheck/coursecheck/blob/main/docs/rules.md#"
ADD_TO_VOCABULARY = "coursecheck.addToVocabulary"
# A buffer's check starts this long before its debounce ends (at least; more when its checks
# took longer, at most half the debounce): see CoursecheckServer._lead.
PRECHECK_LEAD = 0.025
# How many of a file's last checks made ahead the lead looks at (the slowest of them).
RECENT_PRECHECKS = 16
# How long the engine thread may hold the GIL while the loop thread waits for it (CPython's
# default is 5 ms): the loop reads a keystroke, fires a debounce and writes diagnostics in a
# few short steps, each of which waited for a running course stage to let go of the GIL.
SWITCH_INTERVAL = 0.0005
# The debounce's timer is set this much early and the rest slept (see _debounced).
TIMER_SLACK = 0.002
# A file each keystroke's check appends its compute time to (benchmarks/lsp.py); off when unset.
TIMINGS_ENV = "COURSECHECK_LSP_TIMINGS"
FIX_ALL_KIND = "source.fixAll.coursecheck"


@dataclass(slots=True, frozen=True)
class Prepared:
    """A file's ``textDocument/publishDiagnostics`` for one version, made on the engine thread
    as the check finished: the bytes pygls would write for it (header and body), so that
    the debounce's end only writes them (no lsprotocol/cattrs, no JSON on the loop then)."""

    uri: str
    version: int | None
    digest: str  # of the diagnostics (_digest), what _published keeps
    empty: bool  # no diagnostics
    data: bytes


# (findings, diagnostics to push, compute seconds, the workspace's epoch the check read,
# the check's own file's notification made ahead, when it was asked for)
Outcome = tuple[list[Finding] | None, dict[str, list[types.Diagnostic]] | None, float, int, Prepared | None]


@dataclass(slots=True)
class Settings:
    """What a user can set (``initializationOptions`` or the ``coursecheck`` section of
    the client's settings); see docs/editors.md."""

    run: str = "change"  # change: check as you type (debounced); save: on save only
    debounce: float = 0.3  # seconds after the last change (the setting is in milliseconds)
    diagnostics: str = "auto"  # auto | push | pull
    workspace_diagnostics: bool = True  # diagnostics of files that are not open
    cache: bool = True  # the content-hash cache in .coursecheck-cache/
    config: str = ""  # a config file (default: the nearest .coursecheck.toml)
    poll: float = 2.0  # seconds between looks at the config and the other inputs

    def update(self, raw: Any) -> list[str]:
        """Take the values of ``raw`` (a dict); the problems found, for the log."""
        problems: list[str] = []
        if not isinstance(raw, dict):
            return problems
        raw = raw.get("coursecheck", raw) if isinstance(raw.get("coursecheck"), dict) else raw
        for key, value in raw.items():
            name = key.replace("-", "_").replace("workspaceDiagnostics", "workspace_diagnostics")
            if name == "run" and value in ("change", "save"):
                self.run = value
            elif name == "debounce" and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.debounce = min(max(value / 1000, 0.0), 10.0)  # given in milliseconds
            elif name == "diagnostics" and value in ("auto", "push", "pull"):
                self.diagnostics = value
            elif name == "workspace_diagnostics" and isinstance(value, bool):
                self.workspace_diagnostics = value
            elif name == "cache" and isinstance(value, bool):
                self.cache = value
            elif name == "config" and isinstance(value, str):
                self.config = value
            elif name == "poll" and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.poll = min(max(float(value), 0.2), 600.0)
            else:
                problems.append(f"setting {key}={value!r} is not understood; ignored")
        return problems


class EngineThread:
    """One thread that runs every engine call, in priority order (then in order of
    submission): a lesson's own check (0) never waits behind a queued course stage (1)."""

    def __init__(self) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._work, name="coursecheck-engine", daemon=True)
        self._thread.start()

    def submit(self, priority: int, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((priority, next(self._order), (fn, args, future)))
        return future

    def stop(self) -> None:
        self._queue.put((99, next(self._order), None))

    def run_urgent(self) -> None:
        """(On the engine thread, inside a job.) Run the queued jobs of priority 0 now:
        called between course rules, so a keystroke's check does not wait for them."""
        while True:
            with self._queue.mutex:
                if not self._queue.queue or self._queue.queue[0][0] > 0:
                    return
            _priority, _n, item = self._queue.get_nowait()
            self._run(item)

    def _work(self) -> None:
        while True:
            _priority, _n, item = self._queue.get()
            if item is None:
                return
            self._run(item)

    @staticmethod
    def _run(item: Any) -> None:
        fn, args, future = item
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to the awaiting handler
            future.set_exception(exc)


@dataclass(slots=True)
class _Precheck:
    """A buffer's check started before its debounce ends, for the text it had then."""

    version: int | None
    text: str
    future: asyncio.Future[Outcome]


class _TimedStream(asyncio.StreamReader):
    """A stream that notes when each chunk was read from the pipe (the loop's time): a
    message arrived when its first byte did, not when the coroutine reading it resumed (a
    loop iteration later, longer while the engine thread holds the GIL)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit)
        self._fed = 0  # bytes fed so far
        self._chunks: deque[tuple[int, float]] = deque()  # (bytes fed up to the chunk's end, when)

    def feed_data(self, data: Any) -> None:  # bytes (typeshed: Iterable[SupportsIndex])
        if data:
            self._fed += len(data)
            self._chunks.append((self._fed, asyncio.get_running_loop().time()))
        super().feed_data(data)

    def arrival(self, offset: int) -> float | None:
        """When the byte at ``offset`` (from the stream's start) was read; the chunks before
        it are forgotten."""
        chunks = self._chunks
        while chunks and chunks[0][0] <= offset:
            chunks.popleft()
        return chunks[0][1] if chunks else None


class _LoopReader:
    """stdin as pygls's message loop reads it (``readline``, ``readexactly``), on the event
    loop. The end of the input, inside a message too, or a header line over the stream's
    limit reads as b"", which ends the loop as the end of stdin does. ``received``: the
    loop's time when the message being read (then handled) began to arrive."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream
        self._between = True  # no header line of the next message read yet
        self._consumed = 0  # bytes read from the stream so far
        self.received: float | None = None

    async def readline(self) -> bytes:
        try:
            line = await self._stream.readline()
        except ValueError:  # a line longer than the limit: not a client speaking LSP
            log.error("a header line from the client is too long; the server stops")
            return b""
        if self._between:
            stream = self._stream
            came = stream.arrival(self._consumed) if isinstance(stream, _TimedStream) else None
            self.received = came if came is not None else asyncio.get_running_loop().time()
            self._between = False
        self._consumed += len(line)
        return line

    async def readexactly(self, n: int) -> bytes:
        self._between = True
        try:
            body = await self._stream.readexactly(n)
        except asyncio.IncompleteReadError:  # the client went away mid-message: nothing to read
            return b""
        self._consumed += len(body)
        return body


class _Buffer(TextDocument):
    """An open document whose incremental changes are applied by offset. pygls rewrites
    every line and converts the edited line's columns one character at a time: ~0.5 ms a
    keystroke in a 4 KB lesson of Russian prose, before the debounce even starts. Lines are
    the protocol's (split at CR, LF and CRLF only), positions in the agreed encoding."""

    def __init__(self, *args: Any, encoding: str = UTF16, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoding = encoding

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        text = self.source
        where = change.range
        start = offset_of(text, where.start.line, where.start.character, self._encoding)
        end = max(start, offset_of(text, where.end.line, where.end.character, self._encoding))
        self._source = text[:start] + change.text + text[end:]


class CoursecheckServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("coursecheck", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.settings = Settings()
        self.ws: CourseWorkspace | None = None
        self.engine_thread = EngineThread()
        self.encoding = UTF16
        self.pull = False
        self.refresh_support = False
        self.loaded = asyncio.Event()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._precheck_timers: dict[str, asyncio.TimerHandle] = {}
        self._prechecks: dict[str, _Precheck] = {}  # relpath -> the check made ahead of its debounce's end
        self._compute: dict[str, float] = {}  # relpath -> seconds its last check took (engine thread)
        # relpath -> seconds its last checks made ahead took from their start to their outcome
        # on the loop (a wait for the engine thread included)
        self._precheck_waits: dict[str, deque[float]] = {}
        self._timings_path = os.environ.get(TIMINGS_ENV) or None
        self._ends: dict[str, float] = {}  # relpath -> when its last debounce ends (the loop's time), for the timings
        self._checks: dict[str, asyncio.Future[Any]] = {}  # relpath -> the check in flight
        self._course_job: asyncio.Future[Any] | None = None  # the queued (not started) course stage
        self._course_rerun = False
        self._published: dict[str, str] = {}  # uri -> digest of what was pushed
        self._config_uris: set[str] = set()
        self._versions: dict[str, int | None] = {}  # relpath -> buffer version last checked
        self._poll_task: asyncio.Task[None] | None = None
        self._watching = False
        self._open: dict[str, str] = {}  # relpath -> the URI the client opened it with
        self._open_rels: dict[str, str] = {}  # and back
        self._reader: Any = None  # what reads the client's messages (start_io)
        self._tasks: set[asyncio.Future[Any]] = set()
        # Whether the loaded course's objects are moved out of the collector's reach once it
        # is ready (gc.freeze; see _settle): the server's process only (start_io), not a
        # test's that drives a server in its own process.
        self.freeze_loaded = False
        self._frozen = False

    # -- plumbing ------------------------------------------------------------------------

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """pygls's stdio server, with stdin read on the event loop: pygls reads each header
        line and each body in a thread-pool job, a thread hop (and a wait for the GIL) per
        read, which cost a keystroke's message ~1 ms on its way in. A stdin the loop cannot
        watch (a file; an event loop without pipe support) is read as pygls reads it."""
        source = stdin or sys.stdin.buffer
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.freeze_loaded = True
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

        async def serve() -> None:
            stream = _TimedStream(limit=1 << 24)
            reader: Any = _LoopReader(stream)
            try:
                await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), source)
            except (OSError, ValueError, NotImplementedError):  # a file; a loop without pipes (Windows)
                reader = StdinAsyncReader(source, self.thread_pool)
            self._reader = reader
            assert self._stop_event is not None
            await run_async(self._stop_event, reader, self.protocol, log, self.report_server_error)

        try:
            asyncio.run(serve())
        except BrokenPipeError:
            log.error("the connection to the client is lost; the server stops")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def spawn(self, coroutine: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run a coroutine on the loop, kept referenced until it is done."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def job(self, priority: int, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn`` on the engine thread; submitted now (in the order of the calls), awaited
        by the caller."""
        return asyncio.wrap_future(self.engine_thread.submit(priority, fn, *args))

    def say(self, message: str, level: types.MessageType = types.MessageType.Log) -> None:
        try:
            self.window_log_message(types.LogMessageParams(level, message))
        except Exception:  # no client connection (tests of the workspace alone)
            log.info(message)

    def uri(self, rel: str) -> str:
        """The URI of a file: as the client wrote it when it opened it, else made here."""
        opened = self._open.get(rel)
        if opened is not None:
            return opened
        assert self.ws is not None
        return from_fs_path(str(self.ws.root / rel)) or ""

    def open_document(self, rel: str) -> Any:
        """pygls's document of an open file (None when the editor has not opened it)."""
        uri = self._open.get(rel)
        return self.workspace.text_documents.get(unquote(uri)) if uri is not None else None

    def rel(self, uri: str) -> str | None:
        if self.ws is None:
            return None
        known = self._open_rels.get(uri)  # an open document's: its path resolved once (~0.2 ms a keystroke)
        if known is not None:
            return known
        path = to_fs_path(uri)
        return self.ws.relpath(Path(path)) if path else None

    def lines(self, rel: str) -> Lines | None:
        """The text positions of ``rel`` are converted against (None when not needed)."""
        if self.encoding == UTF32 or self.ws is None:
            return None
        text = self.ws.text(rel)
        return Lines(text) if text is not None else None

    def range(self, span: Span, lines: Lines | None) -> types.Range:
        start, end = span_points(span, self.encoding, lines)
        return types.Range(types.Position(start.line, start.character), types.Position(end.line, end.character))

    def cursor(self, uri: str, position: types.Position) -> tuple[str, int, int] | None:
        """(relpath, line, code-point column) of a client position in an open document."""
        rel = self.rel(uri)
        if rel is None or self.ws is None:
            return None
        doc = self.open_document(rel)  # the client's text now (the engine thread's is set from it)
        text = doc.source if doc is not None else self.ws.text(rel)
        if text is None:
            return None
        line, column = from_client(position.line, position.character, self.encoding, Lines(text))
        return rel, line, column

    # -- start and reload -----------------------------------------------------------------

    def on_initialize(self, params: types.InitializeParams) -> None:
        for problem in self.settings.update(params.initialization_options or {}):
            self.say(problem, types.MessageType.Warning)
        root = _root_of(params)
        config = Path(self.settings.config) if self.settings.config else None
        if config is not None and not config.is_absolute():
            config = root / config
        self.ws = CourseWorkspace(root, config, cache=self.settings.cache, log=self.say)
        encoding = self.protocol.workspace.position_encoding if self.protocol._workspace is not None else None
        self.encoding = {"utf-8": UTF8, "utf-32": UTF32}.get(str(encoding or "utf-16"), UTF16)
        self._use_buffers()
        caps = params.capabilities
        text_caps = caps.text_document
        pull_capable = bool(text_caps is not None and text_caps.diagnostic is not None)
        ws_caps = caps.workspace
        self.refresh_support = bool(
            ws_caps is not None and ws_caps.diagnostics is not None and ws_caps.diagnostics.refresh_support
        )
        mode = self.settings.diagnostics
        # Pull only when every update can reach the client: a course rule's finding in an
        # open lesson B after an edit in A needs workspace/diagnostic/refresh.
        self.pull = pull_capable and (mode == "pull" or (mode == "auto" and self.refresh_support))
        if not self.pull:
            for method in (types.TEXT_DOCUMENT_DIAGNOSTIC, types.WORKSPACE_DIAGNOSTIC):
                self.protocol.fm.features.pop(method, None)

    async def on_initialized(self) -> None:
        await self.reload(first=True)
        self._register_watchers()
        self._poll_task = asyncio.ensure_future(self._poll())

    async def reload(self, first: bool = False) -> None:
        """Load the config and check the course again; publish what changed."""
        ws = self.ws
        if ws is None:
            return
        if self._frozen:  # the course loaded before may become garbage now: back in the collector's reach
            gc.unfreeze()
            self._frozen = False
        ok = await self.job(1, ws.load)  # never run between course rules (run_urgent)
        self.loaded.set()
        self._publish_config_problems()
        if not ok and first and ws.problem is not None and ws.problem.error:
            self.window_show_message(
                types.ShowMessageParams(types.MessageType.Error, f"coursecheck could not load: {ws.problem.error}")
            )
        if ok:
            await self._deliver(set(ws.by_path) | {self.rel(u) or "" for u in self._published} - {""})
            self.spawn(self.job(2, self._settle))

    def _settle(self) -> None:
        """(engine thread, idle after a load) The records restored and the graph built
        (:meth:`CourseWorkspace.prewarm`), then, in the server's process, what is alive moved
        out of the cyclic collector's reach: a 5,000-lesson course is millions of objects
        that live until the next load, and each full collection walked them all (measured:
        ~270 ms holding the GIL, every ~2 s of typing, on the engine thread, so a keystroke's
        message waited for it). Garbage is collected first; what the edits make later stays
        collectable; a reload hands everything back first (:meth:`reload`)."""
        ws = self.ws
        assert ws is not None
        ws.prewarm()
        if self.freeze_loaded and gc.isenabled() and not self._frozen:
            gc.collect()
            gc.freeze()
            self._frozen = True

    def _use_buffers(self) -> None:
        """Open documents as :class:`_Buffer` (pygls's workspace makes them; left as pygls
        has it when a pygls version makes them otherwise)."""
        if self.protocol._workspace is None:
            return
        workspace = self.protocol.workspace
        sync_kind, codec = getattr(workspace, "_sync_kind", None), getattr(workspace, "_position_codec", None)
        if sync_kind is None or codec is None or not hasattr(workspace, "_create_text_document"):
            return
        encoding = self.encoding

        def make(
            uri: str, source: str | None = None, version: int | None = None, language_id: str | None = None
        ) -> Any:
            return _Buffer(
                uri, source, version, language_id, sync_kind=sync_kind, position_codec=codec, encoding=encoding
            )

        setattr(workspace, "_create_text_document", make)  # noqa: B010 - an instance's own factory

    def _publish_config_problems(self) -> None:
        ws = self.ws
        assert ws is not None
        grouped: dict[str, list[types.Diagnostic]] = {}
        if ws.problem is not None:
            target = ws.config_path or ws.root / ".coursecheck.toml"
            for problem in ws.problem.problems:
                path = Path(problem.file)
                path = path if path.is_absolute() else ws.root / path
                line = max(problem.line - 1, 0)
                message = f"{problem.key}: {problem.message}" if problem.key else problem.message
                grouped.setdefault(from_fs_path(str(path)) or "", []).append(
                    types.Diagnostic(
                        types.Range(types.Position(line, 0), types.Position(line, 1000)),
                        message,
                        severity=types.DiagnosticSeverity.Error,
                        source="coursecheck",
                        code="config",
                    )
                )
            if ws.problem.error:
                grouped.setdefault(from_fs_path(str(target)) or "", []).append(
                    types.Diagnostic(
                        types.Range(types.Position(0, 0), types.Position(0, 1)),
                        f"coursecheck could not load the course: {ws.problem.error}",
                        severity=types.DiagnosticSeverity.Error,
                        source="coursecheck",
                        code="config",
                    )
                )
        for uri in self._config_uris - grouped.keys():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
        for uri, items in grouped.items():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, items))
        self._config_uris = set(grouped)

    def _register_watchers(self) -> None:
        caps = self.client_capabilities.workspace
        watch = caps.did_change_watched_files if caps is not None else None
        if watch is None or not watch.dynamic_registration:
            return  # the poll loop looks at the inputs, and at the course files too
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
        )
        registration = types.Registration("coursecheck-files", types.WORKSPACE_DID_CHANGE_WATCHED_FILES, options)

        async def register() -> None:
            try:
                await self.client_register_capability_async(types.RegistrationParams([registration]))
                self._watching = True
            except Exception as exc:
                self.say(f"file watching not registered: {exc}")

        self.spawn(register())

    async def _poll(self) -> None:
        """Every few seconds: reload when an input changed on disk (the config, a pack, the
        glossary, a vocabulary); without a file watcher, also re-read course files changed
        outside the editor (every 10th round)."""
        rounds = 0
        while True:
            await asyncio.sleep(self.settings.poll)
            rounds += 1
            ws = self.ws
            if ws is None:
                continue
            try:
                if await self.job(2, ws.inputs_changed):
                    self.say("a config, glossary or vocabulary file changed: reloading")
                    await self.reload()
                elif not self._watching and rounds % 10 == 0:  # ~20 s: a stat of every course file
                    changed, added = await self.job(2, ws.disk_changes, self.engine_thread.run_urgent)
                    if changed or added:
                        await self.check_files([*changed, *added])
            except asyncio.CancelledError:
                raise
            except Exception:
                self.say("the poll failed:\n" + traceback.format_exc(limit=6))

    # -- checking ---------------------------------------------------------------------------

    def buffer_changed(self, uri: str, *, saved: bool = False, opened: bool = False) -> None:
        rel = self.rel(uri)
        ws = self.ws
        if rel is None or ws is None:
            return
        if opened:
            self._open[rel] = uri
            self._open_rels[uri] = rel
        doc = self.open_document(rel)
        if doc is not None:  # the buffer as it is now, for the requests before the next check
            self.engine_thread.submit(0, ws.set_buffer, rel, doc.source)
        path = ws.root / rel
        if saved and ws.is_input(path):
            self.spawn(self.reload())
            return
        if opened or saved or self.settings.run == "change":
            # The debounce runs from when the change arrived, not from here (decoding the
            # message and applying the change come before).
            since = getattr(self._reader, "received", None)
            self.schedule(rel, 0.0 if opened or saved else self.settings.debounce, since)

    def schedule(self, rel: str, delay: float, since: float | None = None) -> None:
        """Check ``rel`` when ``delay`` has passed since ``since`` (the loop's time; default
        now) with no newer change: the debounce. The check itself starts a little before
        (:meth:`_lead`) and its diagnostics go out when the debounce ends, as those of a
        check started then would: the same text, and nothing else it reads changed in
        between (else it is made again)."""
        for timers in (self._timers, self._precheck_timers):
            timer = timers.pop(rel, None)
            if timer is not None:
                timer.cancel()
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = now if since is None else min(since, now)
        end = start + delay
        self._ends[rel] = end
        self._timers[rel] = loop.call_at(end - TIMER_SLACK, self._debounced, rel, end)
        lead = self._lead(rel, delay)
        if lead > 0:
            self._precheck_timers[rel] = loop.call_at(start + delay - lead, self._precheck, rel)

    def _debounced(self, rel: str, end: float) -> None:
        """The debounce's end (the loop's time ``end``): the check made ahead published here
        (no task, no trip to the engine thread), else the check. The loop's timers fire late
        (its selector waits whole milliseconds, rounded up, then the process is woken: ~0.9
        ms on the benchmark's machine), so the timer is set TIMER_SLACK early and the rest of
        the wait slept here: never before the end. (Spinning the last 0.3 ms instead of
        sleeping it saved ~0.1 ms at p50 but gave outliers of 0.5-4.4 ms in 3 of 30 edits
        on the shared benchmark machine, likely the spinning process preempted.)"""
        remaining = end - asyncio.get_running_loop().time()
        if remaining > 0:
            time.sleep(remaining)
        if not self.pull and rel not in self._checks and self.loaded.is_set():
            try:
                ready = self._ready(rel)
                if ready is not None:
                    self._timers.pop(rel, None)
                    self._take(rel, *ready, True)
                    return
            except Exception:
                self.say(f"publishing the check of {rel} failed:\n" + traceback.format_exc(limit=6))
        self.spawn(self.check(rel))

    def _lead(self, rel: str, delay: float) -> float:
        """How long before the debounce's end a check of ``rel`` starts: enough for its last
        check's compute time four times over, and for the slowest of its last
        RECENT_PRECHECKS checks made ahead (start to outcome, waits for the engine thread
        included: a course stage lets a check in only between its rules) with half as much
        again; at least PRECHECK_LEAD; at most half the debounce (a keystroke after it
        starts wastes the check). 0 when no check of the file was timed yet or there is no
        debounce."""
        last = self._compute.get(rel)
        if delay <= 0 or last is None:
            return 0.0
        waits = self._precheck_waits.get(rel)
        slowest = max(waits) if waits else 0.0
        return min(delay / 2, max(PRECHECK_LEAD, 4 * last, 1.5 * slowest))

    def _precheck_done(self, rel: str, started: float, future: asyncio.Future[Outcome]) -> None:
        """(loop) A check made ahead has its outcome: how long it took, for :meth:`_lead`."""
        if future.cancelled() or future.exception() is not None:
            return
        waits = self._precheck_waits.get(rel)
        if waits is None:
            waits = self._precheck_waits[rel] = deque(maxlen=RECENT_PRECHECKS)
        waits.append(asyncio.get_running_loop().time() - started)

    def _precheck(self, rel: str) -> None:
        self._precheck_timers.pop(rel, None)
        doc = self.open_document(rel)
        if doc is None or self.ws is None or not self.loaded.is_set():
            return
        text = doc.source
        publish = (self.uri(rel), doc.version) if not self.pull and self._can_prepare() else None
        future = self.job(0, self._check_job, rel, text, publish)
        # (The exception retrieved there too: _check may never await the future.)
        future.add_done_callback(functools.partial(self._precheck_done, rel, asyncio.get_running_loop().time()))
        self._prechecks[rel] = _Precheck(doc.version, text, future)

    async def flush(self, rel: str, course: bool = False) -> None:
        """Wait until the file's last change is checked (and, with ``course``, the course
        stage after it): a request about it then sees its current text."""
        await self.loaded.wait()
        early = self._precheck_timers.pop(rel, None)
        if early is not None:
            early.cancel()
        timer = self._timers.pop(rel, None)
        if timer is not None:
            timer.cancel()
            await self.check(rel)
        elif rel in self._checks:
            await asyncio.shield(self._checks[rel])
        if course and self._course_job is not None:
            await asyncio.shield(self._course_job)

    async def flush_all(self) -> None:
        """Wait until every change made so far is checked, course stage included: a
        request that reads other files' places (references, rename) sees them as they are."""
        await self.loaded.wait()
        for rel in list(self._timers):
            await self.flush(rel)
        for future in list(self._checks.values()):
            await asyncio.shield(future)
        while self._course_job is not None:
            await asyncio.shield(self._course_job)

    async def check(self, rel: str) -> None:
        """The per-file stage of one file and its diagnostics, then a course stage."""
        self._timers.pop(rel, None)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        earlier = self._checks.get(rel)
        self._checks[rel] = done  # before any await: flush() sees the check from now on
        try:
            if earlier is not None:
                await asyncio.shield(earlier)
            await self.loaded.wait()
            await self._check(rel)
        finally:
            done.set_result(None)
            if self._checks.get(rel) is done:
                del self._checks[rel]

    async def _check(self, rel: str) -> None:
        ws = self.ws
        assert ws is not None
        doc = self.open_document(rel)
        text = doc.source if doc is not None else None
        version = doc.version if doc is not None else None
        outcome: Outcome | None = None
        early = self._prechecks.pop(rel, None)
        if early is not None and text is not None and early.version == version and early.text == text:
            try:
                outcome = await early.future
            except Exception:
                outcome = None  # made again below, where a failure is reported
            if outcome is not None and outcome[3] != ws.epoch:
                outcome = None  # a course stage or a reload since: not what a check now gives
        ahead = outcome is not None
        if outcome is None:
            try:
                outcome = await self.job(0, self._check_job, rel, text)
            except Exception:
                self.say(f"checking {rel} failed:\n" + traceback.format_exc(limit=6))
                return
        self._take(rel, version, outcome, ahead)

    def _ready(self, rel: str) -> tuple[int | None, Outcome] | None:
        """(loop) The check made ahead of the debounce's end, when it is done and is what a
        check now would give: the buffer's text it checked, no course stage or reload since."""
        early = self._prechecks.get(rel)
        ws = self.ws
        if ws is None or early is None or not early.future.done() or early.future.cancelled():
            return None
        if early.future.exception() is not None:
            return None
        doc = self.open_document(rel)
        if doc is None or doc.version != early.version or doc.source != early.text:
            return None
        outcome = early.future.result()
        if outcome[3] != ws.epoch:
            return None
        del self._prechecks[rel]
        return early.version, outcome

    def _take(self, rel: str, version: int | None, outcome: Outcome, ahead: bool) -> None:
        """(loop) A check's outcome: the file's diagnostics pushed (a pull client asks: its
        pending request was waiting for this check), then a course stage queued."""
        ws = self.ws
        assert ws is not None
        found, reports, seconds, _epoch, prepared = outcome
        if found is None:
            return
        self._versions[rel] = version
        written = None
        if not self.pull and reports is not None and rel in reports:
            uri = self.uri(rel)
            if rel in ws.buffers or self.settings.workspace_diagnostics or uri in self._published:
                if prepared is not None and prepared.uri == uri and prepared.version == version and rel in ws.buffers:
                    written = self._write_prepared(prepared)
                if written is None:
                    self._push({rel: reports[rel]}, checked=rel)
        self._compute[rel] = seconds
        if self._timings_path is not None:  # after the push: a file's write is not on its way
            self._note_timing(rel, version, seconds, ahead, written)
        self.course_stage()

    def _check_job(self, rel: str, text: str | None, publish: tuple[str, int | None] | None = None) -> Outcome:
        """(engine thread) The per-file check of ``rel`` (its buffer set to ``text``) and,
        for push clients, its diagnostics: one trip to the engine thread per check. With
        ``publish`` (the file's URI and the buffer's version): its notification made too
        (:class:`Prepared`), for the loop to write as it is when the debounce ends."""
        ws = self.ws
        assert ws is not None
        started = time.perf_counter()
        if text is not None:
            ws.set_buffer(rel, text)
        epoch = ws.epoch
        found = ws.check_file(rel)
        reports = self._diagnostics_of([rel]) if found is not None and not self.pull else None
        prepared = None
        if publish is not None and reports is not None and rel in reports:
            prepared = self.prepare_publish(publish[0], reports[rel], publish[1])
        return found, reports, time.perf_counter() - started, epoch, prepared

    def _can_prepare(self) -> bool:
        """Whether a notification can be made ahead as pygls would send it: pygls's writer,
        with headers (what :meth:`prepare_publish` writes)."""
        protocol = self.protocol
        return getattr(protocol, "_include_headers", False) and getattr(protocol, "writer", None) is not None

    def prepare_publish(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None) -> Prepared:
        """The bytes pygls's ``text_document_publish_diagnostics`` would write for these
        diagnostics: the same notification type, JSON made the same way (``json.dumps`` with
        its converter, ASCII only), the same header (tests/test_lsp_prepared.py compares
        them byte for byte with pygls's own, in the three position encodings)."""
        protocol = self.protocol
        method = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
        notification_type = protocol.get_message_type(method) or JsonRPCNotification
        notification = notification_type(
            method=method,
            params=types.PublishDiagnosticsParams(uri, diagnostics, version),
            jsonrpc=JsonRPCProtocol.VERSION,
        )
        body = json.dumps(notification, default=protocol._serialize_message)
        header = (
            f"Content-Length: {len(body)}\r\n"
            f"Content-Type: {protocol.CONTENT_TYPE}; charset={protocol.CHARSET}\r\n\r\n"
        )
        return Prepared(uri, version, _digest(diagnostics), not diagnostics, (header + body).encode(protocol.CHARSET))

    def _write_prepared(self, prepared: Prepared) -> float | None:
        """(loop) A prepared notification written as pygls writes one (its writer, then the
        same bookkeeping as :meth:`_push`); the time it was written, None when it could not be
        (the caller then sends it the usual way)."""
        writer = getattr(self.protocol, "writer", None)
        if writer is None or not self._can_prepare():
            return None
        if _PYGLS_LOG.isEnabledFor(logging.INFO):  # the line pygls logs for what it sends (--log-file)
            _PYGLS_LOG.info("Sending data: %s", prepared.data.partition(b"\r\n\r\n")[2].decode("utf-8"))
        try:
            pending = writer.write(prepared.data)
        except BrokenPipeError:
            raise  # as pygls: the connection is gone
        except Exception:
            return None
        if inspect.isawaitable(pending):
            self.spawn(pending)  # an async writer (a websocket)
        written = time.perf_counter()
        if prepared.empty:
            self._published.pop(prepared.uri, None)
        else:
            self._published[prepared.uri] = prepared.digest
        return written

    def _note_timing(
        self, rel: str, version: int | None, seconds: float, ahead: bool, written: float | None = None
    ) -> None:
        """A check's line in the timings file: the file, the version, its compute time (ms),
        whether it was made ahead, and when its prepared notification was written
        (perf_counter, seconds; "-" when it went out the usual way), and when the debounce
        ended (the loop's clock, which is perf_counter's on Linux)."""
        assert self._timings_path is not None
        sent = f"{written:.6f}" if written is not None else "-"
        end = self._ends.get(rel)
        sent += f"\t{end:.6f}" if end is not None else "\t-"
        try:
            with open(self._timings_path, "a", encoding="utf-8") as out:
                out.write(f"{rel}\t{version}\t{seconds * 1000:.3f}\t{'ahead' if ahead else 'after'}\t{sent}\n")
        except OSError:
            self._timings_path = None

    async def check_files(self, rels: list[str]) -> None:
        """Files changed on disk (not open): checked again, then one course stage."""
        ws = self.ws
        assert ws is not None
        for rel in rels:
            if rel not in ws.buffers:
                await self.job(0, ws.check_file, rel)
        self.course_stage()

    def course_stage(self) -> None:
        """Queue a course stage unless one is queued already (it will take this change)."""
        if self._course_job is not None:
            self._course_rerun = True
            return
        self._course_job = asyncio.ensure_future(self._course_stage())

    async def _course_stage(self) -> None:
        ws = self.ws
        assert ws is not None
        try:
            while True:
                self._course_rerun = False
                changed = await self.job(1, ws.check_course, self.engine_thread.run_urgent)
                await self._deliver(changed)
                if not self._course_rerun:
                    break
        except Exception:
            self.say("the course stage failed:\n" + traceback.format_exc(limit=6))
        finally:
            self._course_job = None

    async def _deliver(
        self,
        rels: set[str],
        checked: str | None = None,
        reports: dict[str, list[types.Diagnostic]] | None = None,
    ) -> None:
        """New diagnostics of ``rels`` to the client: pushed, or a refresh for pull. The
        file just ``checked`` gets them even when unchanged (for its new version);
        ``reports``: diagnostics already made on the engine thread."""
        if not rels:
            return
        if self.pull:
            if self.refresh_support:
                try:
                    await self.workspace_diagnostic_refresh_async(None)
                except Exception as exc:
                    self.say(f"workspace/diagnostic/refresh failed: {exc}")
            return
        ws = self.ws
        assert ws is not None
        wanted = sorted(
            rel
            for rel in rels
            if rel in ws.buffers or self.settings.workspace_diagnostics or self.uri(rel) in self._published
        )
        if reports is None or not set(wanted) <= set(reports):
            reports = await self.job(0, self._diagnostics_of, wanted)
        else:
            reports = {rel: reports[rel] for rel in wanted}
        self._push(reports, checked)

    def _push(self, reports: dict[str, list[types.Diagnostic]], checked: str | None) -> None:
        """(loop) Push each file's diagnostics that changed (the file just ``checked``: always,
        for its new version)."""
        ws = self.ws
        assert ws is not None
        for rel, diagnostics in reports.items():
            uri = self.uri(rel)
            digest = _digest(diagnostics)
            if self._published.get(uri) == digest and rel != checked:
                continue
            if diagnostics:
                self._published[uri] = digest
            else:
                self._published.pop(uri, None)
            version = self._versions.get(rel) if rel in ws.buffers else None
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics, version))

    def _diagnostics_of(self, rels: list[str]) -> dict[str, list[types.Diagnostic]]:
        """(engine thread) The LSP diagnostics of each file's findings."""
        ws = self.ws
        assert ws is not None
        out: dict[str, list[types.Diagnostic]] = {}
        for rel in rels:
            findings = ws.findings(rel)
            lines = self.lines(rel) if findings and (self.encoding == UTF8 or _astral(findings)) else None
            out[rel] = [self.diagnostic(f, lines) for f in findings]
        return out

    def diagnostic(self, f: Finding, lines: Lines | None) -> types.Diagnostic:
        data: dict[str, Any] = {"key": f.fingerprint, "rule": f.rule_id}
        if f.fix is not None and f.fix.edits:
            data["fix"] = {
                "title": f.fix.description,
                "safe": f.fix.safe,
                "edits": [
                    {"range": _range_json(self.range(e.span, lines)), "newText": e.replacement} for e in f.fix.edits
                ],
            }
        related = []
        for path, span, message in f.related:
            if path:
                related.append(
                    types.DiagnosticRelatedInformation(
                        types.Location(self.uri(path), self.range(span, self.lines(path) if path != f.path else lines)),
                        message,
                    )
                )
        anchor = f.rule_id.replace("/", "")
        return types.Diagnostic(
            self.range(f.span, lines),
            f.message,
            severity=SEVERITY.get(f.level, types.DiagnosticSeverity.Warning),
            code=f.rule_id,
            code_description=types.CodeDescription(RULE_DOCS + anchor),
            source="coursecheck",
            related_information=related or None,
            data=data,
        )

    # -- pull diagnostics ---------------------------------------------------------------------

    async def document_diagnostic(self, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        rel = self.rel(params.text_document.uri)
        if rel is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        await self.flush(rel)
        reports = await self.job(0, self._diagnostics_of, [rel])
        items = reports.get(rel, [])
        digest = _digest(items)
        if params.previous_result_id == digest:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=digest)
        return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=digest)

    async def workspace_diagnostic(self, params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
        await self.loaded.wait()
        ws = self.ws
        assert ws is not None
        previous = {p.uri: p.value for p in params.previous_result_ids}
        rels = await self.job(0, ws.paths_with_findings)
        rels = sorted(set(rels) | {self.rel(uri) or "" for uri in previous} - {""})
        reports = await self.job(0, self._diagnostics_of, rels)
        items: list[types.WorkspaceDocumentDiagnosticReport] = []
        for rel, diagnostics in reports.items():
            uri = self.uri(rel)
            digest = _digest(diagnostics)
            version = self._versions.get(rel) if rel in ws.buffers else None
            if previous.get(uri) == digest:
                items.append(
                    types.WorkspaceUnchangedDocumentDiagnosticReport(uri=uri, version=version, result_id=digest)
                )
            else:
                items.append(
                    types.WorkspaceFullDocumentDiagnosticReport(
                        uri=uri, version=version, items=diagnostics, result_id=digest
                    )
                )
        return types.WorkspaceDiagnosticReport(items=items)

    # -- code actions -------------------------------------------------------------------------

    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        rel = self.rel(params.text_document.uri)
        if rel is None:
            return None
        await self.flush(rel)
        return await self.job(0, self._code_actions, rel, params)

    def _code_actions(self, rel: str, params: types.CodeActionParams) -> list[types.CodeAction]:
        ws = self.ws
        assert ws is not None
        text = ws.text(rel)
        doc = ws.document(rel)
        if text is None:
            return []
        lines = Lines(text)
        only = params.context.only or []
        keys = {
            d.data.get("key")
            for d in params.context.diagnostics
            if isinstance(d.data, dict) and d.data.get("key") and d.source == "coursecheck"
        }
        start = from_client(params.range.start.line, params.range.start.character, self.encoding, lines)
        end = from_client(params.range.end.line, params.range.end.character, self.encoding, lines)
        findings = ws.findings(rel)
        chosen = [f for f in findings if f.fingerprint in keys or _touches(f.span, start, end)]
        out: list[act.Action] = []
        wants_quickfix = not only or any(k == "quickfix" or str(k).startswith("quickfix") for k in only)
        if wants_quickfix:
            for f in chosen:
                for action in (
                    act.fix_action(f),
                    act.suppress_action(f, doc, text) if doc is not None else None,
                    act.vocabulary_action(ws, f, text),
                ):
                    if action is None:
                        continue
                    same = next((a for a in out if a.title == action.title and a.edits == action.edits), None)
                    if same is not None:  # two findings of one rule on a line: one suppression
                        same.findings.extend(action.findings)
                    else:
                        out.append(action)
        if not only or any(str(k).startswith("source") for k in only):
            every = act.fix_all(findings, rel)
            if every is not None:
                out.append(every)
        return [self._code_action(a, lines) for a in out]

    def _code_action(self, action: act.Action, lines: Lines) -> types.CodeAction:
        kind = types.CodeActionKind.QuickFix if action.kind == "quickfix" else FIX_ALL_KIND
        diagnostics = [self.diagnostic(f, lines) for f in action.findings if action.kind == "quickfix"]
        edit = self.workspace_edit(action.edits, lines) if action.edits else None
        command = None
        if action.command is not None:
            command = types.Command(title=action.title, command=action.command[0], arguments=action.command[1])
        return types.CodeAction(
            action.title,
            kind=kind,
            diagnostics=diagnostics or None,
            edit=edit,
            command=command,
            is_preferred=action.preferred or None,
        )

    def workspace_edit(
        self, edits: list[act.Edit] | list[nav.TextEdit], lines: Lines | None = None, renames: Any = ()
    ) -> types.WorkspaceEdit:
        """A WorkspaceEdit: ``documentChanges`` (versioned edits of open files, then file
        renames) when the client takes them, else ``changes``."""
        by_file: dict[str, list[types.TextEdit]] = {}
        cache: dict[str, Lines | None] = {}
        for e in edits:
            if e.relpath not in cache:
                cache[e.relpath] = self.lines(e.relpath)
            file_lines = cache[e.relpath] if cache[e.relpath] is not None else lines
            new_text = e.new_text
            by_file.setdefault(e.relpath, []).append(types.TextEdit(self.range(e.span, file_lines), new_text))
        caps = self.client_capabilities.workspace
        we = caps.workspace_edit if caps is not None else None
        operations = set(we.resource_operations or []) if we is not None else set()
        document_changes = bool(we is not None and we.document_changes) or bool(renames and "rename" in operations)
        if not document_changes:
            return types.WorkspaceEdit(changes={self.uri(rel): items for rel, items in by_file.items()})
        changes: list[Any] = []
        for rel, items in by_file.items():
            uri = self.uri(rel)
            doc = self.open_document(rel)
            version = doc.version if doc is not None else None
            changes.append(types.TextDocumentEdit(types.OptionalVersionedTextDocumentIdentifier(uri, version), items))
        for old, new in renames:
            changes.append(types.RenameFile(self.uri(old), self.uri(new), kind="rename"))
        return types.WorkspaceEdit(document_changes=changes)

    async def add_to_vocabulary(self, file: str, word: str) -> None:
        """The vocabulary action, run here: the word appended to the accept file, through
        the editor when the file is open there, else written to disk (atomically); then
        the course is reloaded (the vocabulary is part of every file's check)."""
        ws = self.ws
        if ws is None or not isinstance(file, str) or not isinstance(word, str):
            return
        rel = ws.relpath(ws.root / file)
        if rel is None or act.vocabulary_file(ws) != rel or not act._WORD.match(word):
            self.say(f"not added: {word!r} to {file!r} (not the course's vocabulary file, or not a word)")
            return
        uri = self.uri(rel)
        doc = self.open_document(rel)
        if doc is not None:  # open in the editor: an edit of its buffer, saved by the user
            addition = act.append_word(doc.source, word)
            if addition is None:
                return
            lines = Lines(doc.source)
            last = lines.get(len(lines) - 1)
            at = self.range(_utf16_span(Span(len(lines), len(last) + 1, len(lines), len(last) + 1, 0, 0), lines), lines)
            edit = types.WorkspaceEdit(changes={uri: [types.TextEdit(at, addition)]})
            await self.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit, label=f"Add «{word}»"))
            return

        def write() -> bool:
            path = ws.root / rel
            try:
                existing = path.read_bytes().decode("utf-8-sig")
            except FileNotFoundError:
                existing = ""
            addition = act.append_word(existing, word)
            if addition is None:
                return False
            atomic_write_bytes(path, (existing + addition).encode("utf-8"))
            return True

        try:
            written = await self.job(0, write)
        except (OSError, UnicodeDecodeError) as exc:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"cannot add «{word}»: {exc}"))
            return
        if written:
            self.say(f"added «{word}» to {rel}")
            await self.reload()

    # -- navigation ---------------------------------------------------------------------------

    async def on_cursor(self, uri: str, position: types.Position, fn: Callable[..., T], *args: Any) -> T | None:
        """Run a navigation query about a cursor after the file's checks (course stage
        included: references resolve against the current course)."""
        rel = self.rel(uri)
        if rel is None:
            return None
        await self.flush_all()
        where = self.cursor(uri, position)
        if where is None:
            return None
        return await self.job(0, fn, *where, *args)

    def locations(self, places: list[nav.Place]) -> list[types.Location]:
        return [types.Location(self.uri(p.relpath), self.range(p.span, self.lines(p.relpath))) for p in places]

    async def definition(self, params: types.DefinitionParams) -> list[types.Location] | None:
        ws = self.ws
        assert ws is not None
        places = await self.on_cursor(params.text_document.uri, params.position, functools.partial(nav.definition, ws))
        return await self.job(0, self.locations, places) if places else None

    async def references(self, params: types.ReferenceParams) -> list[types.Location] | None:
        ws = self.ws
        assert ws is not None
        places = await self.on_cursor(
            params.text_document.uri,
            params.position,
            functools.partial(_references, ws),
            params.context.include_declaration,
        )
        return await self.job(0, self.locations, places) if places else None

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        ws = self.ws
        assert ws is not None

        def query(rel: str, line: int, column: int) -> types.Hover | None:
            found = nav.hover(ws, rel, line, column, ws.by_path.get(rel, []))
            if found is None:
                return None
            markdown, span = found
            return types.Hover(
                types.MarkupContent(types.MarkupKind.Markdown, markdown), self.range(span, self.lines(rel))
            )

        return await self.on_cursor(params.text_document.uri, params.position, query)

    async def completion(self, params: types.CompletionParams) -> types.CompletionList | None:
        ws = self.ws
        assert ws is not None
        rel = self.rel(params.text_document.uri)
        if rel is None:
            return None
        await self.loaded.wait()
        where = self.cursor(params.text_document.uri, params.position)
        if where is None:
            return None

        def query(rel: str, line: int, column: int) -> types.CompletionList:
            items, cut = nav.completions(ws, rel, line, column)
            lines = self.lines(rel)
            out = []
            for item in items:
                span = Span(line, item.start, line, column, item.start, column)
                edit_range = self.range(span, lines)
                if self.encoding == UTF16 and lines is not None:  # the UTF-16 columns of a one-line span
                    edit_range = self.range(_utf16_span(span, lines), None)
                out.append(
                    types.CompletionItem(
                        item.label,
                        kind=types.CompletionItemKind.File,
                        detail=item.detail or None,
                        documentation=item.documentation,
                        sort_text=item.sort,
                        filter_text=item.label,
                        text_edit=types.TextEdit(edit_range, item.label),
                    )
                )
            return types.CompletionList(is_incomplete=cut, items=out)

        return await self.job(0, query, *where)

    async def prepare_rename(self, params: types.PrepareRenameParams) -> types.PrepareRenamePlaceholder | None:
        ws = self.ws
        assert ws is not None

        def query(rel: str, line: int, column: int) -> types.PrepareRenamePlaceholder | None:
            ref = nav.rename_target(ws, rel, line, column)
            if ref is None:
                return None
            span = nav.written_range(ws, ref)
            return types.PrepareRenamePlaceholder(self.range(span, self.lines(rel)), ref.written.strip())

        return await self.on_cursor(params.text_document.uri, params.position, query)

    async def rename(self, params: types.RenameParams) -> types.WorkspaceEdit | None:
        ws = self.ws
        assert ws is not None

        def query(rel: str, line: int, column: int) -> types.WorkspaceEdit | str:
            ref = nav.rename_target(ws, rel, line, column)
            if ref is None or ref.target is None:
                return "put the cursor on a prerequisite or an internal link to rename the lesson it names"
            new_rel = nav.new_path_for_name(ws, ref, params.new_name)
            if new_rel is None:
                return f"'{params.new_name}' cannot name a lesson in the form '{ref.written.strip()}' is written"
            if new_rel == ref.target.relpath:
                return "the name is the same"
            if (ws.root / new_rel).exists():
                return f"{new_rel} exists already"
            if ws.role(new_rel) != "lesson":
                return f"{new_rel} would be outside the course's content globs"
            plan = nav.plan_rename(ws, [(ref.target.relpath, new_rel)])
            for why in plan.skipped:
                self.say(f"rename: {why}")
            return self.workspace_edit(plan.edits, None, renames=plan.moves)

        rel = self.rel(params.text_document.uri)
        if rel is None:
            return None
        caps = self.client_capabilities.workspace
        we = caps.workspace_edit if caps is not None else None
        if we is None or "rename" not in (we.resource_operations or []):
            raise ValueError("this editor cannot rename files through the language server; rename the file instead")
        answer = await self.on_cursor(params.text_document.uri, params.position, query)
        if isinstance(answer, str):
            raise ValueError(answer)
        asyncio.get_running_loop().call_later(1.0, lambda: self.spawn(self.sync_disk()))
        return answer

    async def will_rename_files(self, params: types.RenameFilesParams) -> types.WorkspaceEdit | None:
        ws = self.ws
        assert ws is not None
        await self.flush_all()

        def plan() -> types.WorkspaceEdit | None:
            moves: list[tuple[str, str]] = []
            for item in params.files:
                old, new = self.rel(item.old_uri), self.rel(item.new_uri)
                if old is None or new is None:
                    continue
                inside = nav.lessons_under(ws, old)
                if inside:  # a folder
                    moves.extend((rel, new.rstrip("/") + rel[len(old.rstrip("/")) :]) for rel in inside)
                elif ws.course is not None and ws.course.document(old) is not None:
                    moves.append((old, new))
            if not moves:
                return None
            rename_plan = nav.plan_rename(ws, moves)
            for why in rename_plan.skipped:
                self.say(f"rename: {why}")
            return self.workspace_edit(rename_plan.edits) if rename_plan.edits else None

        return await self.job(0, plan)

    async def sync_disk(self) -> None:
        """Files that appeared, changed or went away on disk (a rename, a checkout)."""
        ws = self.ws
        if ws is None:
            return
        changed, added = await self.job(2, ws.disk_changes, self.engine_thread.run_urgent)
        if changed or added:
            await self.check_files([*changed, *added])

    async def watched_files_changed(self, params: types.DidChangeWatchedFilesParams) -> None:
        ws = self.ws
        if ws is None:
            return
        reload = False
        rels: list[str] = []
        for change in params.changes:
            path = to_fs_path(change.uri)
            if not path:
                continue
            if ws.is_input(Path(path)):
                reload = True
                continue
            rel = ws.relpath(Path(path))
            if rel is not None and rel not in ws.buffers and ".coursecheck-cache" not in rel.split("/"):
                rels.append(rel)
        if reload:
            await self.reload()
        elif rels:
            await self.check_files(sorted(set(rels)))

    def closed(self, uri: str) -> None:
        rel = self.rel(uri)
        ws = self.ws
        if rel is None or ws is None:
            return
        for timers in (self._timers, self._precheck_timers):
            timer = timers.pop(rel, None)
            if timer is not None:
                timer.cancel()
        self._prechecks.pop(rel, None)
        self._ends.pop(rel, None)
        self._precheck_waits.pop(rel, None)
        self._open.pop(rel, None)
        self._open_rels.pop(uri, None)

        async def back_to_disk() -> None:
            await self.job(0, ws.close_buffer, rel)
            self._versions.pop(rel, None)
            await self.check(rel)
            if not self.settings.workspace_diagnostics and not self.pull:
                self._published.pop(uri, None)
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

        self.spawn(back_to_disk())

    async def configuration_changed(self, params: types.DidChangeConfigurationParams) -> None:
        raw = params.settings
        caps = self.client_capabilities.workspace
        if (not raw or raw == {}) and caps is not None and caps.configuration:
            try:
                answer = await self.workspace_configuration_async(
                    types.ConfigurationParams([types.ConfigurationItem(section="coursecheck")])
                )
                raw = answer[0] if answer else None
            except Exception as exc:
                self.say(f"workspace/configuration failed: {exc}")
        before = (self.settings.cache, self.settings.config)
        for problem in self.settings.update(raw or {}):
            self.say(problem, types.MessageType.Warning)
        if (self.settings.cache, self.settings.config) != before and self.ws is not None:
            self.ws.cache = self.settings.cache
            if self.settings.config:
                self.ws.explicit_config = Path(self.settings.config)
            await self.reload()

    def stop(self) -> None:
        if self._poll_task is not None:
            self._poll_task.cancel()
        self.engine_thread.stop()


def _references(ws: CourseWorkspace, rel: str, line: int, column: int, include: bool) -> list[nav.Place]:
    return nav.references(ws, rel, line, column, include)


def _root_of(params: types.InitializeParams) -> Path:
    for candidate in (
        params.workspace_folders[0].uri if params.workspace_folders else None,
        params.root_uri,
    ):
        if candidate:
            path = to_fs_path(candidate)
            if path:
                return Path(path)
    if params.root_path:
        return Path(params.root_path)
    return Path.cwd()


def _digest(diagnostics: list[types.Diagnostic]) -> str:
    parts = [
        f"{d.range.start.line}:{d.range.start.character}-{d.range.end.line}:{d.range.end.character}"
        f"\0{d.code}\0{d.severity}\0{d.message}\0{(d.data or {}).get('key', '') if isinstance(d.data, dict) else ''}"
        for d in diagnostics
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _range_json(r: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def _astral(findings: list[Finding]) -> bool:
    """Whether a UTF-16 conversion needs the text (a span without its UTF-16 columns)."""
    return any(f.span.column_utf16 <= 0 for f in findings)


def _touches(span: Span, start: tuple[int, int], end: tuple[int, int]) -> bool:
    """Whether the finding's span meets the requested range (a cursor is an empty range)."""
    return (span.line, span.column) <= end and start <= (span.end_line, span.end_column)


def _utf16_span(span: Span, lines: Lines) -> Span:
    text = lines.get(span.line - 1)

    def u16(column: int) -> int:
        prefix = text[: column - 1]
        return len(prefix) + sum(1 for ch in prefix if ord(ch) > 0xFFFF) + 1 + max(0, column - 1 - len(prefix))

    return Span(span.line, span.column, span.end_line, span.end_column, u16(span.column), u16(span.end_column))


def _guard(server: CoursecheckServer, name: str, fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T | None]]:
    """A handler that logs what it raised instead of letting it reach the protocol; a
    request's own refusal (ValueError) goes back to the client as its error message."""

    @functools.wraps(fn)
    async def wrapper(*args: Any) -> T | None:
        try:
            return await fn(*args)
        except ValueError:
            raise
        except asyncio.CancelledError:
            raise
        except Exception:
            server.say(f"{name} failed:\n" + traceback.format_exc(limit=8), types.MessageType.Error)
            return None

    return wrapper


def make_server() -> CoursecheckServer:
    server = CoursecheckServer()

    def feature(method: str, options: Any = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            server.feature(method, options)(_guard(server, method, fn) if asyncio.iscoroutinefunction(fn) else fn)
            return fn

        return register

    @server.feature(types.INITIALIZE)
    def _initialize(ls: CoursecheckServer, params: types.InitializeParams) -> None:
        ls.on_initialize(params)

    @feature(types.INITIALIZED)
    async def _initialized(ls: CoursecheckServer, params: types.InitializedParams) -> None:
        await ls.on_initialized()

    @server.feature(types.SHUTDOWN)
    def _shutdown(ls: CoursecheckServer, params: Any) -> None:
        ls.stop()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def _did_open(ls: CoursecheckServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.buffer_changed(params.text_document.uri, opened=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def _did_change(ls: CoursecheckServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.buffer_changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def _did_save(ls: CoursecheckServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.buffer_changed(params.text_document.uri, saved=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def _did_close(ls: CoursecheckServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.closed(params.text_document.uri)

    @feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="coursecheck", inter_file_dependencies=True, workspace_diagnostics=True),
    )
    async def _diagnostic(ls: CoursecheckServer, params: types.DocumentDiagnosticParams) -> Any:
        return await ls.document_diagnostic(params)

    @feature(types.WORKSPACE_DIAGNOSTIC)
    async def _workspace_diagnostic(ls: CoursecheckServer, params: types.WorkspaceDiagnosticParams) -> Any:
        return await ls.workspace_diagnostic(params)

    @feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]),
    )
    async def _code_action(ls: CoursecheckServer, params: types.CodeActionParams) -> Any:
        return await ls.code_actions(params)

    @server.command(ADD_TO_VOCABULARY)
    async def _add_word(ls: CoursecheckServer, *args: Any) -> None:
        try:
            await ls.add_to_vocabulary(*args[:2])
        except Exception:
            ls.say("adding to the vocabulary failed:\n" + traceback.format_exc(limit=6), types.MessageType.Error)

    @feature(types.TEXT_DOCUMENT_DEFINITION)
    async def _definition(ls: CoursecheckServer, params: types.DefinitionParams) -> Any:
        return await ls.definition(params)

    @feature(types.TEXT_DOCUMENT_REFERENCES)
    async def _references_handler(ls: CoursecheckServer, params: types.ReferenceParams) -> Any:
        return await ls.references(params)

    @feature(types.TEXT_DOCUMENT_HOVER)
    async def _hover(ls: CoursecheckServer, params: types.HoverParams) -> Any:
        return await ls.hover(params)

    @feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=["/", "(", "-", '"', "'", "[", " "]),
    )
    async def _completion(ls: CoursecheckServer, params: types.CompletionParams) -> Any:
        return await ls.completion(params)

    @feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def _prepare_rename(ls: CoursecheckServer, params: types.PrepareRenameParams) -> Any:
        return await ls.prepare_rename(params)

    @feature(types.TEXT_DOCUMENT_RENAME)
    async def _rename(ls: CoursecheckServer, params: types.RenameParams) -> Any:
        return await ls.rename(params)

    lesson_files = types.FileOperationRegistrationOptions(
        filters=[
            types.FileOperationFilter(pattern=types.FileOperationPattern(glob="**/*.{md,mdx,markdown}")),
            types.FileOperationFilter(
                pattern=types.FileOperationPattern(glob="**/*", matches=types.FileOperationPatternKind.Folder)
            ),
        ]
    )

    @feature(types.WORKSPACE_WILL_RENAME_FILES, lesson_files)
    async def _will_rename(ls: CoursecheckServer, params: types.RenameFilesParams) -> Any:
        return await ls.will_rename_files(params)

    @feature(types.WORKSPACE_DID_RENAME_FILES, lesson_files)
    async def _did_rename(ls: CoursecheckServer, params: types.RenameFilesParams) -> None:
        await ls.sync_disk()

    @feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def _watched(ls: CoursecheckServer, params: types.DidChangeWatchedFilesParams) -> None:
        await ls.watched_files_changed(params)

    @feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def _configuration(ls: CoursecheckServer, params: types.DidChangeConfigurationParams) -> None:
        await ls.configuration_changed(params)

    return server
