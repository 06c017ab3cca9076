"""The edited lesson's ``publishDiagnostics`` made ahead of the debounce's end (with the
check that starts before it) and only written when the debounce ends: the bytes are
pygls's own for the same diagnostics, in each position encoding; a newer change drops
them; a check not done when the debounce ends is still published once, when it is.

The server runs in the test's process here, its messages fed as pygls's reader feeds them
and what it writes captured, so that the tests can hold a check back on the engine thread."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")

from lsprotocol import types as t
from pygls.uris import from_fs_path

from coursecheck.lsp.server import CoursecheckServer, make_server
from tests.lsp_course import INTRO, INTRO_REL, write_course

# An astral character before the homoglyph (Dоcker, a Cyrillic о) on a Cyrillic line: its
# columns differ in UTF-8, UTF-16 and UTF-32.
LESSON = INTRO.replace("Сначала", "😀 Сначала")
LINE = next(i for i, line in enumerate(LESSON.split("\n")) if "Dоcker" in line)


class Capture:
    """A pygls writer that keeps what the server writes."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.data += data

    def close(self) -> None:
        pass

    def frames(self) -> list[bytes]:
        """Each message as written: its header and body."""
        with self.lock:
            rest = bytes(self.data)
        out = []
        while rest:
            header, _, body = rest.partition(b"\r\n\r\n")
            length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            out.append(header + b"\r\n\r\n" + body[:length])
            rest = body[length:]
        return out

    def published(self, uri: str) -> list[tuple[bytes, dict[str, Any]]]:
        """The publishDiagnostics of ``uri``: (the bytes written, the params)."""
        out = []
        for frame in self.frames():
            message = json.loads(frame.partition(b"\r\n\r\n")[2])
            if message.get("method") == t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS and message["params"]["uri"] == uri:
                out.append((frame, message["params"]))
        return out


def _feed(server: CoursecheckServer, payload: dict[str, Any]) -> None:
    """One client message, decoded and handled as pygls's reader does (io_.run_async)."""
    body = json.dumps({"jsonrpc": "2.0", **payload})
    server.protocol.handle_message(json.loads(body, object_hook=server.protocol.structure_message))


async def _until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the server never got there")
        await asyncio.sleep(0.005)


async def _start(root: Path, encoding: str, debounce: int) -> tuple[CoursecheckServer, Capture, str]:
    """A server initialized on ``root`` with ``encoding``, the lesson open and diagnosed."""
    server = make_server()
    out = Capture()
    server.protocol.set_writer(out)
    root_uri = from_fs_path(str(root))
    capabilities = {"general": {"positionEncodings": [encoding]}}
    init = {"processId": None, "rootUri": root_uri, "capabilities": capabilities}
    init["initializationOptions"] = {"debounce": debounce, "workspaceDiagnostics": False, "poll": 600}
    _feed(server, {"id": 1, "method": "initialize", "params": init})
    _feed(server, {"method": "initialized", "params": {}})
    uri = from_fs_path(str(root / INTRO_REL))
    document = {"uri": uri, "languageId": "markdown", "version": 1, "text": LESSON}
    _feed(server, {"method": "textDocument/didOpen", "params": {"textDocument": document}})
    await _until(lambda: any(p.get("version") == 1 for _, p in out.published(uri)))
    assert server.encoding == encoding
    return server, out, uri


def _type(server: CoursecheckServer, uri: str, version: int, column: int, text: str) -> None:
    where = {"start": {"line": LINE, "character": column}, "end": {"line": LINE, "character": column}}
    _feed(
        server,
        {
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": where, "text": text}],
            },
        },
    )


def _line_end(server: CoursecheckServer, rel: str) -> int:
    """The length of the typed-into line in the negotiated encoding (the client's column)."""
    doc = server.open_document(rel)
    line = doc.source.split("\n")[LINE]
    if server.encoding == "utf-8":
        return len(line.encode("utf-8"))
    if server.encoding == "utf-16":
        return len(line.encode("utf-16-le")) // 2
    return len(line)


def _spy_prepared(server: CoursecheckServer) -> list[int | None]:
    """The versions whose prepared notification the server wrote."""
    written: list[int | None] = []
    original = server._write_prepared

    def spy(prepared: Any) -> float | None:
        done = original(prepared)
        if done is not None:
            written.append(prepared.version)
        return done

    server._write_prepared = spy  # type: ignore[method-assign]
    return written


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
async def test_the_prepared_notification_is_what_pygls_writes(tmp_path: Path, encoding: str) -> None:
    root = write_course(tmp_path / "course")
    server, out, uri = await _start(root, encoding, debounce=0)
    try:
        found = await server.job(0, server._diagnostics_of, [INTRO_REL])
        diagnostics = found[INTRO_REL]
        homoglyph = next(d for d in diagnostics if d.code == "bilingual/mixed-script")
        assert isinstance(homoglyph.data, dict) and "fix" in homoglyph.data  # an edit carried in data
        line = LESSON.split("\n")[LINE]
        start = line.index("Dоcker")
        expected_column = {
            "utf-8": len(line[:start].encode("utf-8")),
            "utf-16": len(line[:start].encode("utf-16-le")) // 2,
            "utf-32": start,
        }[encoding]
        assert (homoglyph.range.start.line, homoglyph.range.start.character) == (LINE, expected_column)

        prepared = await server.job(0, server.prepare_publish, uri, diagnostics, 7)
        before = len(out.frames())
        server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, diagnostics, 7))
        theirs = out.frames()[before]
        assert prepared.data == theirs
        params = json.loads(prepared.data.partition(b"\r\n\r\n")[2])["params"]
        assert params["version"] == 7
        assert any("Dоcker" in d["message"] or "о" in d["message"] for d in params["diagnostics"])
        assert [d["range"]["start"]["character"] for d in params["diagnostics"] if d["code"] == homoglyph.code] == [
            expected_column
        ]
        assert not prepared.empty
    finally:
        server.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["utf-16", "utf-8"])
async def test_a_keystroke_published_from_its_prepared_notification(tmp_path: Path, encoding: str) -> None:
    root = write_course(tmp_path / "course")
    server, out, uri = await _start(root, encoding, debounce=120)
    try:
        server._lead = lambda rel, delay: delay / 2  # type: ignore[method-assign]
        written = _spy_prepared(server)
        _type(server, uri, 2, _line_end(server, INTRO_REL), " ещё")
        await _until(lambda: any(p.get("version") == 2 for _, p in out.published(uri)))
        assert written == [2]
        frame, params = next((f, p) for f, p in out.published(uri) if p.get("version") == 2)
        # What pygls itself would write for the diagnostics the server has now.
        diagnostics = (await server.job(0, server._diagnostics_of, [INTRO_REL]))[INTRO_REL]
        assert frame == (await server.job(0, server.prepare_publish, uri, diagnostics, 2)).data
        assert "bilingual/mixed-script" in {d["code"] for d in params["diagnostics"]}
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_a_newer_change_drops_the_prepared_notification(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course")
    server, out, uri = await _start(root, "utf-16", debounce=300)
    try:
        server._lead = lambda rel, delay: delay / 2  # type: ignore[method-assign]
        written = _spy_prepared(server)
        _type(server, uri, 2, _line_end(server, INTRO_REL), " a")
        # Version 2's check and notification are made (ahead), its debounce not over yet.
        await _until(lambda: INTRO_REL in server._prechecks and server._prechecks[INTRO_REL].future.done())
        assert server._prechecks[INTRO_REL].version == 2
        # Version 3 gets no check ahead of its own: at its debounce's end only version 2's is there.
        server._lead = lambda rel, delay: 0.0  # type: ignore[method-assign]
        _type(server, uri, 3, _line_end(server, INTRO_REL), "b")
        await _until(lambda: any(p.get("version") == 3 for _, p in out.published(uri)))
        await asyncio.sleep(0.35)  # past where version 2's debounce would have ended
        versions = [p.get("version") for _, p in out.published(uri)]
        assert 2 not in versions
        assert versions.count(3) == 1
        assert written == []  # version 3 checked at its debounce's end, sent the usual way
        assert INTRO_REL not in server._prechecks
        assert server.open_document(INTRO_REL).source.split("\n")[LINE].endswith(" ab")
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_a_check_not_done_when_the_debounce_ends_is_published_when_it_is(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course")
    server, out, uri = await _start(root, "utf-16", debounce=100)
    try:
        server._lead = lambda rel, delay: 0.02  # type: ignore[method-assign]
        check_job = server._check_job
        ended: list[float] = []

        def slow(rel: str, text: str | None, publish: Any = None) -> Any:
            time.sleep(0.15)  # the engine thread busy past the debounce's end
            return check_job(rel, text, publish)

        original_debounced = server._debounced

        def debounced(rel: str, end: float) -> None:
            ended.append(time.monotonic())
            original_debounced(rel, end)

        server._check_job = slow  # type: ignore[method-assign]
        server._debounced = debounced  # type: ignore[method-assign]
        _type(server, uri, 2, _line_end(server, INTRO_REL), " x")
        await _until(lambda: any(p.get("version") == 2 for _, p in out.published(uri)))
        arrived = time.monotonic()
        await asyncio.sleep(0.2)
        assert ended and arrived - ended[0] > 0.05  # published after the debounce's end, when the check was done
        published = [p for _, p in out.published(uri) if p.get("version") == 2]
        assert len(published) == 1
        assert "bilingual/mixed-script" in {d["code"] for d in published[0]["diagnostics"]}
        assert server._versions[INTRO_REL] == 2
        assert max(server._precheck_waits[INTRO_REL]) > 0.15  # the next checks start earlier (_lead)
    finally:
        server.stop()


def test_the_lead_covers_the_slowest_recent_check_made_ahead() -> None:
    from collections import deque

    from coursecheck.lsp.server import PRECHECK_LEAD, RECENT_PRECHECKS

    server = make_server()
    try:
        assert server._lead("a.md", 0.3) == 0.0  # never checked: nothing to go by
        server._compute["a.md"] = 0.001
        assert server._lead("a.md", 0.3) == PRECHECK_LEAD
        assert server._lead("a.md", 0.0) == 0.0  # no debounce: checked at once
        server._compute["a.md"] = 0.010
        assert server._lead("a.md", 0.3) == pytest.approx(0.040)  # 4x the last check
        # A check made ahead that waited 60 ms for the engine thread (a course rule running).
        server._precheck_waits["a.md"] = deque([0.005, 0.060, 0.004], maxlen=RECENT_PRECHECKS)
        assert server._lead("a.md", 0.3) == pytest.approx(0.090)
        assert server._lead("a.md", 0.1) == pytest.approx(0.050)  # at most half the debounce
        for _ in range(RECENT_PRECHECKS):  # the slow one forgotten after as many quick ones
            server._precheck_waits["a.md"].append(0.005)
        assert server._lead("a.md", 0.3) == pytest.approx(0.040)
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_the_loaded_course_is_frozen_once_ready_and_handed_back_on_reload(tmp_path: Path) -> None:
    """(The server's process only: ``start_io`` sets ``freeze_loaded``; here set by hand, and
    the test's process unfrozen at the end.)"""
    import gc

    if gc.get_freeze_count() or not gc.isenabled():
        pytest.skip("this process froze objects itself, or has no collector")
    root = write_course(tmp_path / "course")
    server = make_server()
    server.freeze_loaded = True
    out = Capture()
    server.protocol.set_writer(out)
    try:
        root_uri = from_fs_path(str(root))
        init = {"processId": None, "rootUri": root_uri, "capabilities": {}, "initializationOptions": {"poll": 600}}
        _feed(server, {"id": 1, "method": "initialize", "params": init})
        _feed(server, {"method": "initialized", "params": {}})
        await _until(lambda: server._frozen)
        assert gc.get_freeze_count() > 0
        ws = server.ws
        assert ws is not None
        seen: list[int] = []
        load = ws.load

        def counting_load() -> bool:
            seen.append(gc.get_freeze_count())
            return load()

        ws.load = counting_load  # type: ignore[method-assign]
        await server.reload()
        assert seen == [0]  # the course loaded before was collectable while the new one loaded
        await _until(lambda: server._frozen)
        assert gc.get_freeze_count() > 0
    finally:
        server.stop()
        gc.unfreeze()
