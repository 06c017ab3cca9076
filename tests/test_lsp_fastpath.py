"""The language server's edit path against a full check: typing into a lesson (a Cyrillic
line, the check made before the debounce ends and published at its end), then edits that
change what course rules see. What the server publishes for a version is what a full
``coursecheck`` run gives on that text: per-file findings, and course-rule findings (the
standing ones at once, new ones when the course stage after the edit has run)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions
from tests.lsp_course import IMAGES, IMAGES_REL, INTRO, INTRO_REL, write_course

# The intro with a prerequisite cycle (a course rule's finding in it, standing while one types).
CYCLIC = INTRO.replace("order: 1\n", 'order: 1\nprerequisites: ["basics/02-images"]\n')
LINE = next(i for i, line in enumerate(CYCLIC.split("\n")) if line.startswith("Контейнер"))


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _full_check(root: Path, tmp: Path, texts: dict[str, str]) -> dict[str, list[tuple]]:
    """What a fresh run gives on a copy of the course with ``texts`` on disk, as diagnostics
    are compared: (range in UTF-16, code, message), per file."""
    other = tmp / f"full{len(list(tmp.iterdir()))}"
    shutil.copytree(root, other, ignore=shutil.ignore_patterns(".coursecheck-cache"))
    for rel, text in texts.items():
        (other / rel).write_text(text, encoding="utf-8")
    result = Engine(load_config(other / ".coursecheck.toml", other), RunOptions(cache=False, entry_points=False)).run()
    out: dict[str, list[tuple]] = {}
    for f in result.findings:
        if f.suppression is None:
            s = f.span
            out.setdefault(f.path, []).append(
                ((s.line - 1, s.column_utf16 - 1, s.end_line - 1, s.end_column_utf16 - 1), f.rule_id, f.message)
            )
    return {rel: sorted(items) for rel, items in out.items()}


def _key(diagnostics: list[t.Diagnostic]) -> list[tuple]:
    return sorted(
        (
            (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character),
            str(d.code),
            d.message,
        )
        for d in diagnostics
    )


@pytest.mark.asyncio
async def test_the_edit_path_publishes_what_a_full_check_gives(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course", {INTRO_REL: CYCLIC})
    timings = tmp_path / "timings.tsv"
    (tmp_path / "full").mkdir()
    client = LanguageClient("fastpath-test", "1")
    arrivals: dict[str, list[tuple[int | None, list[t.Diagnostic]]]] = {}

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _published(params: t.PublishDiagnosticsParams) -> None:
        arrivals.setdefault(params.uri, []).append((params.version, list(params.diagnostics)))

    await client.start_io(
        sys.executable, "-m", "coursecheck", "lsp", env={**os.environ, "COURSECHECK_LSP_TIMINGS": str(timings)}
    )
    try:
        root_uri = from_fs_path(str(root))
        await client.initialize_async(
            t.InitializeParams(
                capabilities=t.ClientCapabilities(),
                root_uri=root_uri,
                workspace_folders=[t.WorkspaceFolder(root_uri, "course")],
                initialization_options={"debounce": 80, "workspaceDiagnostics": False},
            )
        )
        client.initialized(t.InitializedParams())
        uri, uri_b = from_fs_path(str(root / INTRO_REL)), from_fs_path(str(root / IMAGES_REL))
        client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "markdown", 1, CYCLIC)))
        client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri_b, "mdx", 1, IMAGES)))

        async def settled(version: int) -> None:
            """Until the version's check and the course stage after it are done (references
            wait for every pending check and course stage)."""
            for _ in range(500):
                if any(v == version for v, _ in arrivals.get(uri, [])):
                    break
                await asyncio.sleep(0.02)
            await client.text_document_references_async(
                t.ReferenceParams(
                    context=t.ReferenceContext(include_declaration=True),
                    text_document=t.TextDocumentIdentifier(uri),
                    position=t.Position(0, 0),
                )
            )

        await settled(1)
        # 1. Typing at the end of the Cyrillic line (nothing a course rule reads changes): the
        # first diagnostics of the last version are the full check's, the cycle included.
        lines = CYCLIC.split("\n")
        version = 1
        for ch in " и ещё 😀 слово Dоcker":  # the last keystroke completes a homoglyph (a Cyrillic о)
            column = _u16(lines[LINE])
            version += 1
            client.text_document_did_change(
                t.DidChangeTextDocumentParams(
                    t.VersionedTextDocumentIdentifier(version, uri),
                    [
                        t.TextDocumentContentChangePartial(
                            t.Range(t.Position(LINE, column), t.Position(LINE, column)), ch
                        )
                    ],
                )
            )
            lines[LINE] += ch
            await asyncio.sleep(0.01)
        typed = "\n".join(lines)
        await settled(version)
        first = next(d for v, d in arrivals[uri] if v == version)
        expected = _full_check(root, tmp_path / "full", {INTRO_REL: typed})
        assert "graph/prerequisite-cycle" in {code for _, code, _ in expected[INTRO_REL]}
        assert [code for _, code, _ in expected[INTRO_REL]].count("bilingual/mixed-script") == 2
        assert _key(first) == expected[INTRO_REL]
        notes = [line.split("\t") for line in timings.read_text(encoding="utf-8").splitlines()]
        assert [INTRO_REL, str(version), "ahead"] in [
            [n[0], n[1], n[3]] for n in notes
        ]  # the check made before the end

        # 2. The images lesson's order, and a line above the Cyrillic one: course findings
        # change (a duplicate order in both lessons) and move; once the course stage has run,
        # both open lessons show what the full check gives.
        version += 1
        edited = typed.replace("order: 1", "order: 2").replace("# Введение\n", "# Введение\n\nНовая строка.\n")
        client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(version, uri), [t.TextDocumentContentChangeWholeDocument(edited)]
            )
        )
        await settled(version)
        expected = _full_check(root, tmp_path / "full", {INTRO_REL: edited})
        assert any(code == "frontmatter/duplicate-order" for items in expected.values() for _, code, _ in items)
        assert _key(arrivals[uri][-1][1]) == expected.get(INTRO_REL, [])
        assert _key(arrivals[uri_b][-1][1]) == expected.get(IMAGES_REL, [])
        assert arrivals[uri][-1][0] == version
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
