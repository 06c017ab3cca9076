"""The language server with a pull client (Neovim 0.11's recorded capabilities, with the
``workspace/diagnostic/refresh`` support later Neovims and VS Code declare), a course
vocabulary and a plugin: pull and workspace diagnostics, a refresh when course rules change
another lesson, the vocabulary action run by the server, a plugin rule that raises."""

from __future__ import annotations

import ast
import asyncio
import sys
from typing import Any

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types as t  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from tests.lsp_course import COMPOSE_REL, IMAGES, IMAGES_REL, INTRO, INTRO_REL, write_course  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

PLUGIN = '''
import re

from coursecheck import hookimpl
from coursecheck.rules import rule


def _accepted(config):
    words = set()
    for rel in (config.sections.get("spelling") or {}).get("accept", []):
        path = config.root / rel
        if path.is_file():
            words |= {w.strip().lower() for w in path.read_text(encoding="utf-8").splitlines() if w.strip()}
    return words


@rule("team/jargon", level="warning", tags=("vocabulary",))
def jargon(doc, ctx):
    """A word of jargon the course vocabulary does not accept."""
    accepted = _accepted(ctx.config)
    for seg in doc.iter_segments({"prose"}):
        for m in re.finditer(r"кубер\\w*", seg.text):
            if m.group().lower() not in accepted:
                start, end = seg.range(m.start(), m.end())
                ctx.report(doc, start, end, f"«{m.group()}» is jargon", anchor=m.group())


@rule("team/boom", level="warning")
def boom(doc, ctx):
    """Raises on a lesson that says BOOM."""
    if "BOOM" in doc.source:
        raise RuntimeError("kaboom")


@hookimpl
def coursecheck_rules():
    return [jargon, boom]


@hookimpl
def coursecheck_config_sections():
    return {"spelling": "the course vocabulary (a test plugin)"}


@hookimpl
def coursecheck_inputs(config):
    return list((config.sections.get("spelling") or {}).get("accept", []))
'''

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "coursecheck", "lsp"])


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory: Any):
    root = write_course(
        tmp_path_factory.mktemp("pull"),
        {"tools/team.py": PLUGIN, "vocabulary/accept.txt": "# words the course uses on purpose\n"},
    )
    config = root / ".coursecheck.toml"
    config.write_text(
        'plugins = ["tools/team.py"]\n'
        + config.read_text(encoding="utf-8")
        + '\n[spelling]\naccept = ["vocabulary/accept.txt"]\n',
        encoding="utf-8",
    )
    lsp_client.root = root  # type: ignore[attr-defined]
    capabilities = client_capabilities("neovim@v0.11.0")
    assert capabilities.workspace is not None
    capabilities.workspace.diagnostics = t.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    uri = from_fs_path(str(root))
    await lsp_client.initialize_session(
        t.InitializeParams(
            capabilities=capabilities,
            root_uri=uri,
            workspace_folders=[t.WorkspaceFolder(uri, "course")],
            initialization_options={"debounce": 30, "poll": 0.3},
        )
    )
    yield
    await lsp_client.shutdown_session()


def uri_of(client: LanguageClient, rel: str) -> str:
    return from_fs_path(str(client.root / rel))  # type: ignore[attr-defined]


async def pull(client: LanguageClient, rel: str, previous: str | None = None) -> Any:
    return await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri_of(client, rel)), previous_result_id=previous)
    )


def change(client: LanguageClient, rel: str, version: int, text: str) -> None:
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(version, uri_of(client, rel)),
            [t.TextDocumentContentChangeWholeDocument(text)],
        )
    )


async def until(condition: Any, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_pull_diagnostics_and_unchanged_reports(client: LanguageClient) -> None:
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(t.TextDocumentItem(uri_of(client, INTRO_REL), "markdown", 1, INTRO))
    )
    report = await pull(client, INTRO_REL)
    assert isinstance(report, t.RelatedFullDocumentDiagnosticReport)
    assert [d.code for d in report.items] == ["bilingual/mixed-script"]
    line = INTRO.split("\n")[7]
    assert report.items[0].range.start == t.Position(7, len(line[: line.index("Dоcker")].encode()))  # UTF-8
    again = await pull(client, INTRO_REL, report.result_id)
    assert isinstance(again, t.RelatedUnchangedDocumentDiagnosticReport)
    assert client.diagnostics == {}  # nothing pushed to a pull client


async def test_a_pull_waits_for_the_edit_and_course_changes_ask_for_a_refresh(client: LanguageClient) -> None:
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(t.TextDocumentItem(uri_of(client, IMAGES_REL), "mdx", 1, IMAGES))
    )
    before = client.diagnostic_refresh_count
    change(client, INTRO_REL, 2, INTRO.replace("order: 1", "order: 2"))
    report = await pull(client, INTRO_REL)  # answered after the debounced check of version 2
    assert "frontmatter/order-prefix" in [d.code for d in report.items]
    await until(lambda: client.diagnostic_refresh_count > before)
    images = await pull(client, IMAGES_REL)
    assert "frontmatter/duplicate-order" in [d.code for d in images.items]
    change(client, INTRO_REL, 3, INTRO)
    await pull(client, INTRO_REL)


async def test_workspace_diagnostics_cover_files_not_open(client: LanguageClient) -> None:
    report = await client.workspace_diagnostic_async(t.WorkspaceDiagnosticParams(previous_result_ids=[]))
    by_uri = {item.uri: item for item in report.items}
    compose = by_uri[uri_of(client, COMPOSE_REL)]
    assert isinstance(compose, t.WorkspaceFullDocumentDiagnosticReport)
    assert [d.code for d in compose.items] == ["bilingual/missing-pair", "bilingual/missing-pair"]
    again = await client.workspace_diagnostic_async(
        t.WorkspaceDiagnosticParams(previous_result_ids=[t.PreviousResultId(compose.uri, compose.result_id or "")])
    )
    assert isinstance({i.uri: i for i in again.items}[compose.uri], t.WorkspaceUnchangedDocumentDiagnosticReport)


async def test_add_to_the_vocabulary_is_run_by_the_server(client: LanguageClient) -> None:
    root = client.root  # type: ignore[attr-defined]
    text = INTRO.replace("на машину.", "на машину, а потом кубер.")
    change(client, INTRO_REL, 4, text)
    report = await pull(client, INTRO_REL)
    (jargon,) = [d for d in report.items if d.code == "team/jargon"]
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            t.TextDocumentIdentifier(uri_of(client, INTRO_REL)), jargon.range, t.CodeActionContext(diagnostics=[jargon])
        )
    )
    # lsprotocol's converter (this test client's) reads a CodeAction that carries a command
    # as a Command, the inner command object turned into its repr; editors tell the two
    # apart by the command's type (Neovim) or the action's kind (VS Code).
    (add,) = [a for a in actions or [] if a.title.startswith("Add «кубер»")]
    assert getattr(add, "edit", None) is None  # run by the server: nothing for the client to do
    inner = add.command if isinstance(add, t.CodeAction) else ast.literal_eval(add.command)
    name, arguments = (
        (inner.command, inner.arguments)
        if isinstance(inner, t.Command)
        else (
            inner["command"],
            inner["arguments"],
        )
    )
    assert name == "coursecheck.addToVocabulary" and arguments == ["vocabulary/accept.txt", "кубер"]
    await client.workspace_execute_command_async(t.ExecuteCommandParams(name, arguments))
    assert (root / "vocabulary/accept.txt").read_text(encoding="utf-8").endswith("\nкубер\n")

    async def gone() -> bool:
        found = await pull(client, INTRO_REL)
        return "team/jargon" not in [d.code for d in found.items]

    for _ in range(600):
        if await gone():
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the vocabulary was not reloaded")
    change(client, INTRO_REL, 5, INTRO)


async def test_a_plugin_that_raises_is_a_diagnostic_and_the_server_goes_on(client: LanguageClient) -> None:
    change(client, INTRO_REL, 6, INTRO + "\nBOOM\n")
    report = await pull(client, INTRO_REL)
    crash = [d for d in report.items if d.code == "core/internal-error"]
    assert crash and "kaboom" in crash[0].message
    change(client, INTRO_REL, 7, INTRO)
    report = await pull(client, INTRO_REL)
    assert [d.code for d in report.items] == ["bilingual/mixed-script"]
