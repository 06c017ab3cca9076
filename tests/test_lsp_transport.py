"""The language server's stdio: messages read on the event loop from a pipe (what editors
give), as pygls reads them from a file, and a client that goes away mid-message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")


def _message(payload: dict) -> bytes:
    body = json.dumps(payload).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _session(root: Path) -> bytes:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}},
    }
    shutdown = {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None}
    return _message(initialize) + _message(shutdown) + _message({"jsonrpc": "2.0", "method": "exit", "params": None})


def _answers(stdout: bytes) -> dict[int, dict]:
    out: dict[int, dict] = {}
    while stdout:
        header, _, rest = stdout.partition(b"\r\n\r\n")
        length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        message = json.loads(rest[:length])
        if "id" in message and "method" not in message:
            out[message["id"]] = message
        stdout = rest[length:]
    return out


@pytest.mark.parametrize("stdin_kind", ["pipe", "file"])
def test_a_session_over_a_pipe_and_over_a_file(tmp_path: Path, stdin_kind: str) -> None:
    session = _session(tmp_path)
    command = [sys.executable, "-m", "coursecheck", "lsp"]
    if stdin_kind == "pipe":
        done = subprocess.run(command, input=session, capture_output=True, timeout=60, cwd=tmp_path)
    else:
        (tmp_path / "in").write_bytes(session)
        with open(tmp_path / "in", "rb") as stdin:
            done = subprocess.run(command, stdin=stdin, capture_output=True, timeout=60, cwd=tmp_path)
    answers = _answers(done.stdout)
    assert answers[1]["result"]["capabilities"]["textDocumentSync"]["change"] == 2  # incremental
    assert answers[2]["result"] is None
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr


def test_a_client_gone_mid_message_ends_the_server_quietly(tmp_path: Path) -> None:
    cut = _session(tmp_path)[:60]  # inside the initialize request's body
    done = subprocess.run(
        [sys.executable, "-m", "coursecheck", "lsp"], input=cut, capture_output=True, timeout=60, cwd=tmp_path
    )
    assert done.stdout == b""
    assert b"Traceback" not in done.stderr


# -- an open document's incremental changes (server._Buffer) ---------------------------------

TEXTS = [
    "---\ntitle: Урок\n---\n\nПервый абзац про Docker.\nВторая строка 😀 с эмодзи.\n",
    "line one\r\nline two\r\n\r\nthird\rfourth",
    "",
    "no newline at the end: ёлка",
]


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def _position(text: str, index: int, encoding: str):
    from lsprotocol import types as t

    before = text[:index].replace("\r\n", "\n").replace("\r", "\n")
    line = before.count("\n")
    return t.Position(line, _units(before.rsplit("\n", 1)[-1], encoding))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_incremental_changes_give_the_client_text(encoding: str) -> None:
    """Random edits at random places (code points, not inside a CRLF) applied as a client
    sends them: the document holds what the client's buffer holds, as pygls's own
    document gives (its lines are split as the protocol's only on these texts)."""
    import random

    from lsprotocol import types as t
    from pygls.workspace import PositionCodec, TextDocument

    from coursecheck.lsp.server import _Buffer

    rng = random.Random(23)
    inserts = ["x", "ё", "😀", "\n", "\r\n", "слово ", ""]
    for text in TEXTS:
        ours = _Buffer("file:///a.md", text, 1, encoding=encoding, position_codec=PositionCodec(encoding))
        theirs = TextDocument("file:///a.md", text, 1, position_codec=PositionCodec(encoding))
        expected = text
        for _ in range(60):
            cuts = [i for i in range(len(expected) + 1) if not expected[i - 1 : i + 1] == "\r\n"]
            a, b = sorted(rng.sample(cuts, 2) if len(cuts) > 1 else [0, 0])
            new = rng.choice(inserts)
            change = t.TextDocumentContentChangePartial(
                t.Range(_position(expected, a, encoding), _position(expected, b, encoding)), new
            )
            expected = expected[:a] + new + expected[b:]
            ours.apply_change(change)
            theirs.apply_change(change)
            assert ours.source == expected
            assert theirs.source == expected


def test_positions_past_the_end_are_clamped() -> None:
    from coursecheck.lsp.positions import offset_of

    text = "ab\nёж\u2028x\r\nlast"
    assert offset_of(text, 0, 99, "utf-16") == 2  # the end of line 0, not its newline
    assert offset_of(text, 1, 3, "utf-16") == text.index("x")  # U+2028 is no line break in LSP
    assert offset_of(text, 2, 2, "utf-8") == text.index("last") + 2
    assert offset_of(text, 9, 0, "utf-16") == len(text)


@pytest.mark.asyncio
async def test_a_message_arrives_when_its_first_byte_was_read_from_the_pipe() -> None:
    """The debounce counts from a change's arrival: the time its first byte came in (the
    chunk it began in), however much later the message loop gets to it."""
    import asyncio

    from coursecheck.lsp.server import _LoopReader, _TimedStream

    loop = asyncio.get_running_loop()
    one, two, three = (_message({"jsonrpc": "2.0", "method": "x", "params": {"n": n}}) for n in (1, 2, 3))
    stream = _TimedStream(limit=1 << 16)
    reader = _LoopReader(stream)
    stream.feed_data(one + two[:10])  # the second message begins in the first chunk
    first_chunk = loop.time()
    await asyncio.sleep(0.03)
    stream.feed_data(two[10:] + three)
    second_chunk = loop.time()
    await asyncio.sleep(0.03)

    async def read_one() -> tuple[float | None, bytes]:
        length = 0
        while True:
            line = await reader.readline()
            if line.startswith(b"Content-Length: "):
                length = int(line.split(b": ")[1])
            if line == b"\r\n":
                return reader.received, await reader.readexactly(length)

    got = [await read_one() for _ in range(3)]
    assert [body for _, body in got] == [m.partition(b"\r\n\r\n")[2] for m in (one, two, three)]
    assert got[0][0] is not None and got[0][0] <= first_chunk
    assert got[1][0] == got[0][0]  # it began in the first chunk
    assert got[2][0] is not None and first_chunk < got[2][0] <= second_chunk
