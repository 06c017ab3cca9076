"""Benchmark: the language server on a big course, typed into as an editor would.

    python benchmarks/lsp.py                                  # the demo course replicated to 5,000 lessons
    python benchmarks/lsp.py --corpus PATH --size 5000        # a real course's lessons, replicated
    python benchmarks/lsp.py --words 40 --debounce 300

It builds the course as benchmarks/run.py does (the lessons copied under numbered module
folders), starts `coursecheck lsp` in a fresh process (the first check fills the cache),
opens two lessons A and B of one module, and types into A: words of a few keystrokes 60 ms
apart into a paragraph, then a pause; every few words a new line (lines below move: the
course stage runs) and an edit of A's `order` to B's (B gets frontmatter/duplicate-order
from the course stage; the next such edit takes it back).

Figures printed:

* time from the debounce's end (the last keystroke + the debounce) to A's diagnostics for
  that version, p50 and p95, against 3x the bare parse of A (markdown-it-py, median of 20);
* the check's own compute time for those versions (the server's engine thread, written to
  the file COURSECHECK_LSP_TIMINGS names), and how many of those checks started before the
  debounce's end and were used: the server starts a buffer's check a little before
  (docs/editors.md) and publishes at the end, so the figure above does not contain the
  check's time when it did (only what of it was left at the end, if anything);
* what that time is made of (one clock in both processes, for the edits whose message the
  server made ahead): the last keystroke's way to the server (the client's encoding, the
  pipe, until the server read its first byte: where the server's debounce starts), the
  server's debounce end to its write, and the write to the client's handler (the pipe, the
  client's read and decoding); ``--trace FILE`` writes these per edit (TSV);
* time from the same moment to B's diagnostics after an order edit (course rules follow);
* the server's resident memory at the end and its peak (VmRSS, VmHWM), target <= 500 MB.

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _run_module():  # benchmarks/run.py: how the corpus is built
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bare_parse_seconds(text: str) -> float:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    md.parse(text)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        md.parse(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pick_lessons(folder: Path) -> tuple[Path, Path, str, str]:
    """A and B of one module: B's `order` occurs once in the folder; A has another."""
    orders: dict[Path, str] = {}
    for path in sorted(folder.glob("*.md*")):
        m = re.search(r"^order:\s*(\S+)\s*$", path.read_text(encoding="utf-8"), re.M)
        if m:
            orders[path] = m.group(1)
    counts: dict[str, int] = {}
    for value in orders.values():
        counts[value] = counts.get(value, 0) + 1
    unique = [p for p, v in orders.items() if counts[v] == 1]
    if not unique:
        raise SystemExit(f"no lesson in {folder} has an order of its own")
    b = unique[len(unique) // 2]
    a = max((p for p in orders if p != b), key=lambda p: len(p.read_text(encoding="utf-8")))
    return a, b, orders[a], orders[b]


def rss(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def drive(
    root: Path, a: Path, b: Path, order_a: str, order_b: str, args: argparse.Namespace, timings: Path
) -> None:
    from lsprotocol import types as t
    from pygls.lsp.client import LanguageClient
    from pygls.uris import from_fs_path

    client = LanguageClient("coursecheck-benchmark", "1")
    arrivals: dict[str, list[tuple[float, int | None, list[t.Diagnostic]]]] = {}

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _published(params: t.PublishDiagnosticsParams) -> None:
        arrivals.setdefault(params.uri, []).append((time.perf_counter(), params.version, list(params.diagnostics)))

    ready = asyncio.Event()

    @client.feature(t.WINDOW_LOG_MESSAGE)
    def _log(params: t.LogMessageParams) -> None:
        if params.message.startswith("ready:"):
            ready.set()
        if args.verbose:
            print("server:", params.message[:200])

    started = time.perf_counter()
    await client.start_io(
        sys.executable, "-m", "coursecheck", "lsp", env={**os.environ, "COURSECHECK_LSP_TIMINGS": str(timings)}
    )
    server = client._server
    assert server is not None
    root_uri = from_fs_path(str(root))
    await client.initialize_async(
        t.InitializeParams(
            capabilities=t.ClientCapabilities(),  # push diagnostics, UTF-16
            root_uri=root_uri,
            workspace_folders=[t.WorkspaceFolder(root_uri, "course")],
            initialization_options={"debounce": args.debounce, "workspaceDiagnostics": False},
        )
    )
    client.initialized(t.InitializedParams())
    uri_a, uri_b = from_fs_path(str(a)), from_fs_path(str(b))
    text = a.read_text(encoding="utf-8")
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri_a, "mdx", 1, text)))
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(t.TextDocumentItem(uri_b, "mdx", 1, b.read_text(encoding="utf-8")))
    )
    while not (arrivals.get(uri_a) and arrivals.get(uri_b)):
        await asyncio.sleep(0.05)
    print(f"server up, course checked, A and B diagnosed: {time.perf_counter() - started:.1f}s")
    await ready.wait()  # records restored and the graph built while the user reads
    print(f"server ready (records restored): {time.perf_counter() - started:.1f}s")
    await asyncio.sleep(1.0)

    lines = text.split("\n")
    # A paragraph line to type at the end of: the longest line that is prose.
    target = max(
        (i for i, line in enumerate(lines) if line and line[0].isalpha() and not line.startswith(("import", "export"))),
        key=lambda i: len(lines[i]),
    )
    order_line = next(i for i, line in enumerate(lines) if re.match(r"^order:\s*", line))
    version = 1
    own: list[float] = []
    measured: dict[int, tuple[float, float, str]] = {}  # version -> (the debounce's end, A's arrival, kind)
    follow: list[float] = []
    kinds: dict[str, list[float]] = {}
    b_has_duplicate = False
    words = ["слово", "word", "тест", "ещё"]

    last_change = 0.0
    written_at: dict[int, float] = {}  # version -> when the client's did_change call returned (written)

    def change(line: int, start: int, end: int, new: str) -> None:
        nonlocal version, last_change
        version += 1
        last_change = time.perf_counter()
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(version, uri_a),
                [t.TextDocumentContentChangePartial(t.Range(t.Position(line, start), t.Position(line, end)), new)],
            )
        )
        written_at[version] = time.perf_counter()

    def utf16(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    for n in range(args.words):
        order_edit = n % 5 == 4
        if order_edit:
            old = lines[order_line]
            new_value = order_b if not b_has_duplicate else order_a
            lines[order_line] = f"order: {new_value}"
            change(order_line, 0, utf16(old), lines[order_line])
            b_has_duplicate = not b_has_duplicate
        else:
            word = " " + words[n % len(words)]
            for ch in word:
                column = utf16(lines[target])
                change(target, column, column, ch)
                lines[target] += ch
                await asyncio.sleep(0.06)
            if n % 5 == 2:  # a new line: every line below moves
                column = utf16(lines[target])
                change(target, column, column, "\n")
                lines.insert(target + 1, "")
                target += 1
                order_line = order_line if order_line < target else order_line + 1
        typed = last_change  # the last keystroke was sent then (not after the sleep that followed it)
        fired = typed + args.debounce / 1000
        b_before = len(arrivals.get(uri_b, []))
        deadline = typed + 30
        while time.perf_counter() < deadline:
            got = [x for x in arrivals.get(uri_a, []) if x[1] == version]
            if got:
                own.append(got[0][0] - fired)
                kind = "order edit" if order_edit else "new line" if n % 5 == 2 else "word"
                measured[version] = (fired, got[0][0], kind)
                kinds.setdefault(kind, []).append(got[0][0] - fired)
                break
            await asyncio.sleep(0.002)
        if order_edit:
            while time.perf_counter() < deadline and len(arrivals.get(uri_b, [])) == b_before:
                await asyncio.sleep(0.005)
            if len(arrivals.get(uri_b, [])) > b_before:
                follow.append(arrivals[uri_b][-1][0] - fired)
        await asyncio.sleep(args.pause)
    now, peak = rss(server.pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    bare = bare_parse_seconds(a.read_text(encoding="utf-8"))

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    print(f"lesson A: {a.relative_to(root)} ({len(text)} characters); B: {b.relative_to(root)}")
    print(f"bare markdown-it-py parse of A: {bare * 1000:.1f} ms; 3x = {3 * bare * 1000:.1f} ms")
    print(
        f"A's diagnostics after the debounce ({len(own)} edits): p50 {statistics.median(own) * 1000:.1f} ms, "
        f"p95 {pct(own, 0.95) * 1000:.1f} ms -> p50 {statistics.median(own) / bare:.2f}x, "
        f"p95 {pct(own, 0.95) / bare:.2f}x the bare parse (target <= 3x)"
    )
    for kind, values in sorted(kinds.items()):
        print(
            f"  {kind} ({len(values)}): p50 {statistics.median(values) * 1000:.1f} ms, "
            f"p95 {pct(values, 0.95) * 1000:.1f} ms"
        )
    rel_a = a.relative_to(root).as_posix()
    compute = []
    ahead = 0
    transit: list[float] = []  # the debounce's end -> the server's (the last keystroke's way to the server)
    to_written: list[float] = []  # the server's debounce's end -> it wrote the prepared notification
    to_client: list[float] = []  # written -> the client's handler had the diagnostics
    rows = ["version\tkind\tfired\tafter_debounce_ms\tcheck_ms\tahead\tclient_encode_ms\ttransit_ms\tserver_ms\tclient_ms"]
    for line in timings.read_text(encoding="utf-8").splitlines() if timings.is_file() else []:
        rel, version_text, ms, when, sent, server_end = line.split("\t")
        if rel == rel_a and version_text.isdigit() and int(version_text) in measured:
            compute.append(float(ms) / 1000)
            ahead += when == "ahead"
            fired, arrived, kind = measured[int(version_text)]
            parts = ["-", "-", "-"]
            if sent != "-" and server_end != "-":
                transit.append(float(server_end) - fired)
                to_written.append(float(sent) - float(server_end))
                to_client.append(arrived - float(sent))
                parts = [f"{x[-1] * 1000:.3f}" for x in (transit, to_written, to_client)]
            encode = written_at[int(version_text)] - (fired - args.debounce / 1000)
            rows.append(
                f"{version_text}\t{kind}\t{fired:.6f}\t{(arrived - fired) * 1000:.3f}\t{ms}\t{when}\t"
                f"{encode * 1000:.3f}\t" + "\t".join(parts)
            )
    if args.trace is not None:
        args.trace.write_text("\n".join(rows) + "\n", encoding="utf-8")
    if compute:
        print(
            f"A's check itself for those versions (the server's compute; {ahead} of {len(compute)} started before "
            f"the debounce's end and used): p50 {statistics.median(compute) * 1000:.1f} ms, p95 {pct(compute, 0.95) * 1000:.1f} ms "
            f"-> p50 {statistics.median(compute) / bare:.2f}x, p95 {pct(compute, 0.95) / bare:.2f}x the bare parse"
        )
    else:
        print("A's check times were not written (COURSECHECK_LSP_TIMINGS)")
    if to_written:
        print(
            f"  of which (the {len(to_written)} sent as prepared; one clock): the last keystroke's way to the server "
            f"(sent -> its debounce starts) p50 {statistics.median(transit) * 1000:.2f} ms, p95 "
            f"{pct(transit, 0.95) * 1000:.2f} ms; the server's debounce end to its write "
            f"p50 {statistics.median(to_written) * 1000:.2f} ms, p95 {pct(to_written, 0.95) * 1000:.2f} ms; "
            f"the write to the client's handler "
            f"p50 {statistics.median(to_client) * 1000:.2f} ms, p95 {pct(to_client, 0.95) * 1000:.2f} ms (the pipe, "
            "the client's read, JSON and lsprotocol decoding)"
        )
    if follow:
        print(
            f"B's diagnostics after an order edit in A ({len(follow)}): p50 {statistics.median(follow) * 1000:.0f} ms, "
            f"max {max(follow) * 1000:.0f} ms"
        )
    else:
        print("B's diagnostics never followed an order edit in A")
    print(f"server memory: {now:.0f} MB now, {peak:.0f} MB peak (target <= 500 MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="a course's lesson folder (default: the demo course)")
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--words", type=int, default=30)
    parser.add_argument("--debounce", type=int, default=300, help="milliseconds")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between words")
    parser.add_argument("--keep", type=Path, help="build the course in this folder (reused if it has one)")
    parser.add_argument("--trace", type=Path, help="write each measured edit's times here (TSV), to look at outliers")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    bench = _run_module()
    with tempfile.TemporaryDirectory(prefix="cc-lsp-bench-") as tmp:
        root = args.keep or Path(tmp)
        if not (root / ".coursecheck.toml").is_file():
            lessons, data = bench.source_lessons(args.corpus)
            started = time.perf_counter()
            bench.build_course(root, lessons, data, args.size, bench.DEMO_CONFIG)
            print(f"built {args.size} lessons in {time.perf_counter() - started:.1f}s under {root}")
        folder = sorted((root / "content").iterdir())[0]
        a, b, order_a, order_b = pick_lessons(folder)
        asyncio.run(drive(root, a, b, order_a, order_b, args, Path(tmp) / "timings.tsv"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
