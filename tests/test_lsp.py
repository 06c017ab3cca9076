"""The language server (coursecheck lsp) driven as real clients drive it: the capabilities
pytest-lsp recorded from Neovim 0.7 (UTF-16, push), Neovim 0.11 (UTF-8), VS Code 1.65
(UTF-16, willRenameFiles, documentChanges) and Emacs 29 (UTF-32). One server per client
and module; the tests of a module run in order on one copy of a small course."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
pytest.importorskip("pygls")

from lsprotocol import types as t  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from tests.lsp_course import COMPOSE_REL, IMAGES, IMAGES_REL, INTRO, INTRO_REL, write_course  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

CLIENTS = ["neovim@v0.7.0", "neovim@v0.11.0", "visual_studio_code", "emacs"]
ENCODING = {"neovim@v0.7.0": "utf-16", "neovim@v0.11.0": "utf-8", "visual_studio_code": "utf-16", "emacs": "utf-32"}
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "coursecheck", "lsp"])


@pytest_lsp.fixture(config=SERVER, params=CLIENTS, scope="module")
async def client(lsp_client: LanguageClient, request: Any, tmp_path_factory: Any):
    root = write_course(tmp_path_factory.mktemp("course"))
    lsp_client.root = root  # type: ignore[attr-defined]
    lsp_client.registrations = []  # type: ignore[attr-defined]

    @lsp_client.feature(t.CLIENT_REGISTER_CAPABILITY)
    def _register(params: t.RegistrationParams) -> None:
        lsp_client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    lsp_client.spec = request.param  # type: ignore[attr-defined]
    uri = from_fs_path(str(root))
    await lsp_client.initialize_session(
        t.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=uri,
            workspace_folders=[t.WorkspaceFolder(uri, "course")],
            initialization_options={"debounce": 30, "poll": 0.3},
        )
    )
    yield
    await lsp_client.shutdown_session()


def uri_of(client: LanguageClient, rel: str) -> str:
    return from_fs_path(str(client.root / rel))  # type: ignore[attr-defined]


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


async def diagnostics(client: LanguageClient, rel: str, until: Any = None, timeout: float = 30.0) -> list[t.Diagnostic]:
    """The client's diagnostics of ``rel`` once ``until(diagnostics)`` holds."""
    uri = uri_of(client, rel)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = list(client.diagnostics.get(uri, []))
        if uri in client.diagnostics and (until is None or until(found)):
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"diagnostics of {rel} never met the condition; last: {[d.code for d in found]}")
        await asyncio.sleep(0.02)


def codes(items: list[t.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in items)


_versions: dict[str, int] = {}


def open_doc(client: LanguageClient, rel: str, text: str) -> None:
    _versions[rel] = 1
    language = "mdx" if rel.endswith(".mdx") else "markdown"
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(t.TextDocumentItem(uri_of(client, rel), language, 1, text))
    )


def replace_all(client: LanguageClient, rel: str, text: str) -> None:
    _versions[rel] = _versions.get(rel, 1) + 1
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(_versions[rel], uri_of(client, rel)),
            [t.TextDocumentContentChangeWholeDocument(text)],
        )
    )


def apply(text: str, edits: list[t.TextEdit], encoding: str) -> str:
    """``text`` with LSP edits applied (positions in ``encoding``), as an editor would."""
    lines = text.split("\n")

    def offset(p: t.Position) -> int:
        line = lines[p.line]
        count = 0
        for i, ch in enumerate(line):
            if count >= p.character:
                return sum(len(x) + 1 for x in lines[: p.line]) + i
            count += units(ch, encoding)
        return sum(len(x) + 1 for x in lines[: p.line]) + len(line)

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
        lines = text.split("\n")
    return text


def edits_of(edit: t.WorkspaceEdit | None, uri: str) -> list[t.TextEdit]:
    if edit is None:
        return []
    if edit.changes:
        return list(edit.changes.get(uri, []))
    out: list[t.TextEdit] = []
    for change in edit.document_changes or []:
        if isinstance(change, t.TextDocumentEdit) and change.text_document.uri == uri:
            out.extend(change.edits)  # type: ignore[arg-type]
    return out


# -- diagnostics ----------------------------------------------------------------------------


async def test_diagnostics_on_open_in_the_negotiated_encoding(client: LanguageClient) -> None:
    """The homoglyph on a Cyrillic line: its column counted in the client's units."""
    encoding = ENCODING[client.spec]  # type: ignore[attr-defined]
    open_doc(client, INTRO_REL, INTRO)
    found = await diagnostics(client, INTRO_REL, lambda d: "bilingual/mixed-script" in codes(d))
    (homoglyph,) = [d for d in found if d.code == "bilingual/mixed-script"]
    line = INTRO.split("\n")[7]
    start = line.index("Dоcker")
    assert homoglyph.range.start == t.Position(7, units(line[:start], encoding))
    assert homoglyph.range.end == t.Position(7, units(line[: start + len("Dоcker")], encoding))
    assert homoglyph.severity == t.DiagnosticSeverity.Error
    assert homoglyph.data["fix"]["safe"] is True
    # The edit travels in Diagnostic.data, in the client's units (the client need not send
    # the range back right: Neovim 0.7 returns byte columns).
    (edit,) = homoglyph.data["fix"]["edits"]
    assert edit["range"]["start"] == {"line": 7, "character": units(line[: start + 1], encoding)}
    assert edit["newText"] == "o"


async def test_workspace_diagnostics_of_files_not_open(client: LanguageClient) -> None:
    found = await diagnostics(client, COMPOSE_REL)
    assert codes(found) == ["bilingual/missing-pair", "bilingual/missing-pair"]
    assert [d.range.start.line for d in found] == [8, 8]


async def test_an_edit_in_one_lesson_updates_the_diagnostics_of_another_open_lesson(client: LanguageClient) -> None:
    """Giving the intro the images lesson's `order` makes frontmatter/duplicate-order, a
    course rule that reports it in the images lesson: open in the client, not edited."""
    open_doc(client, IMAGES_REL, IMAGES)
    await diagnostics(client, IMAGES_REL, lambda d: "bilingual/missing-pair" in codes(d))
    replace_all(client, INTRO_REL, INTRO.replace("order: 1", "order: 2"))
    images = await diagnostics(client, IMAGES_REL, lambda d: "frontmatter/duplicate-order" in codes(d))
    (duplicate,) = [d for d in images if d.code == "frontmatter/duplicate-order"]
    assert duplicate.range.start.line == 2
    replace_all(client, INTRO_REL, INTRO)
    await diagnostics(client, IMAGES_REL, lambda d: "frontmatter/duplicate-order" not in codes(d))


async def test_course_rules_of_the_edited_lesson_follow_its_per_file_check(client: LanguageClient) -> None:
    cyclic = INTRO.replace("order: 1\n", 'order: 1\nprerequisites: ["basics/02-images"]\n')
    replace_all(client, INTRO_REL, cyclic)
    found = await diagnostics(client, INTRO_REL, lambda d: "graph/prerequisite-cycle" in codes(d))
    (cycle,) = [d for d in found if d.code == "graph/prerequisite-cycle"]
    assert cycle.range.start.line == 3
    replace_all(client, INTRO_REL, INTRO)
    found = await diagnostics(client, INTRO_REL, lambda d: "graph/prerequisite-cycle" not in codes(d))
    assert codes(found) == ["bilingual/mixed-script"]
    broken = IMAGES.replace("  - basics/01-intro\n", "  - basics/01-intro\n  - basics/09-missing\n")
    replace_all(client, IMAGES_REL, broken)
    found = await diagnostics(client, IMAGES_REL, lambda d: "graph/unresolved-reference" in codes(d))
    (unresolved,) = [d for d in found if d.code == "graph/unresolved-reference"]
    assert unresolved.range.start == t.Position(5, 4)
    replace_all(client, IMAGES_REL, IMAGES)
    await diagnostics(client, IMAGES_REL, lambda d: "graph/unresolved-reference" not in codes(d))


async def test_broken_yaml_is_a_diagnostic_and_the_server_goes_on(client: LanguageClient) -> None:
    broken = IMAGES.replace('title: "Образы"', 'title: "Образы\n  bad: [')
    replace_all(client, IMAGES_REL, broken)
    found = await diagnostics(client, IMAGES_REL, lambda d: "parse/frontmatter" in codes(d))
    assert found[0].severity == t.DiagnosticSeverity.Error
    replace_all(client, IMAGES_REL, IMAGES)
    await diagnostics(client, IMAGES_REL, lambda d: "parse/frontmatter" not in codes(d))
    hover = await client.text_document_hover_async(
        t.HoverParams(t.TextDocumentIdentifier(uri_of(client, INTRO_REL)), t.Position(7, 2))
    )
    assert hover is not None


# -- code actions ---------------------------------------------------------------------------


async def actions_at(client: LanguageClient, rel: str, line: int, character: int) -> list[t.CodeAction]:
    uri = uri_of(client, rel)
    known = [d for d in client.diagnostics.get(uri, []) if d.range.start.line == line]
    found = await client.text_document_code_action_async(
        t.CodeActionParams(
            t.TextDocumentIdentifier(uri),
            t.Range(t.Position(line, character), t.Position(line, character)),
            t.CodeActionContext(diagnostics=known),
        )
    )
    return [a for a in found or [] if isinstance(a, t.CodeAction)]


async def test_the_safe_fix_on_a_cyrillic_line(client: LanguageClient) -> None:
    encoding = ENCODING[client.spec]  # type: ignore[attr-defined]
    line = INTRO.split("\n")[7]
    found = await actions_at(client, INTRO_REL, 7, units(line[: line.index("Dоcker") + 2], encoding))
    (fix,) = [a for a in found if a.title.endswith("(bilingual/mixed-script, safe fix)")]
    assert fix.kind == t.CodeActionKind.QuickFix and fix.is_preferred
    fixed = apply(INTRO, edits_of(fix.edit, uri_of(client, INTRO_REL)), encoding)
    assert fixed == INTRO.replace("Dоcker", "Docker")
    replace_all(client, INTRO_REL, fixed)
    await diagnostics(client, INTRO_REL, lambda d: "bilingual/mixed-script" not in codes(d))
    replace_all(client, INTRO_REL, INTRO)
    await diagnostics(client, INTRO_REL, lambda d: "bilingual/mixed-script" in codes(d))


async def test_unsafe_fix_is_labelled_and_suppression_silences_only_the_finding(client: LanguageClient) -> None:
    encoding = ENCODING[client.spec]  # type: ignore[attr-defined]
    compose = (client.root / COMPOSE_REL).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    open_doc(client, COMPOSE_REL, compose)
    await diagnostics(client, COMPOSE_REL, lambda d: len(d) == 2)
    found = await actions_at(client, COMPOSE_REL, 8, 12)
    titles = [a.title for a in found]
    assert any("unsafe fix: review it" in title and "bilingual/missing-pair" in title for title in titles)
    (suppress,) = [a for a in found if a.title.startswith("Suppress bilingual/missing-pair on this line")]
    suppressed = apply(compose, edits_of(suppress.edit, uri_of(client, COMPOSE_REL)), encoding)
    assert "<!-- coursecheck-disable-next-line bilingual/missing-pair -->\n" in suppressed
    replace_all(client, COMPOSE_REL, suppressed)
    after = await diagnostics(client, COMPOSE_REL, lambda d: len(d) == 0)
    assert after == []  # both findings of the line, and no unused-suppression
    replace_all(client, COMPOSE_REL, compose)
    await diagnostics(client, COMPOSE_REL, lambda d: len(d) == 2)


async def test_fix_all_applies_every_safe_fix(client: LanguageClient) -> None:
    uri = uri_of(client, INTRO_REL)
    found = await client.text_document_code_action_async(
        t.CodeActionParams(
            t.TextDocumentIdentifier(uri),
            t.Range(t.Position(0, 0), t.Position(0, 0)),
            t.CodeActionContext(diagnostics=[], only=[t.CodeActionKind.SourceFixAll]),
        )
    )
    (every,) = [a for a in found or [] if isinstance(a, t.CodeAction)]
    assert every.kind == "source.fixAll.coursecheck"
    assert apply(INTRO, edits_of(every.edit, uri), ENCODING[client.spec]) == INTRO.replace("Dоcker", "Docker")  # type: ignore[attr-defined]


# -- navigation -----------------------------------------------------------------------------


async def test_definition_of_a_link_a_prerequisite_and_a_glossary_term(client: LanguageClient) -> None:
    intro, images = uri_of(client, INTRO_REL), uri_of(client, IMAGES_REL)
    link = await client.text_document_definition_async(
        t.DefinitionParams(t.TextDocumentIdentifier(intro), t.Position(9, 30))
    )
    assert [loc.uri for loc in link] == [images]  # type: ignore[union-attr]
    assert link[0].range.start.line == 1  # its title  # type: ignore[index]
    prerequisite = await client.text_document_definition_async(
        t.DefinitionParams(t.TextDocumentIdentifier(images), t.Position(4, 8))
    )
    assert [loc.uri for loc in prerequisite] == [intro]  # type: ignore[union-attr]
    term = await client.text_document_definition_async(
        t.DefinitionParams(t.TextDocumentIdentifier(intro), t.Position(7, 3))
    )
    assert [loc.uri for loc in term] == [uri_of(client, "data/glossary.json")]  # type: ignore[union-attr]
    assert term[0].range.start.line == 1  # type: ignore[index]


async def test_references_of_a_lesson(client: LanguageClient) -> None:
    images = uri_of(client, IMAGES_REL)
    found = await client.text_document_references_async(
        t.ReferenceParams(
            text_document=t.TextDocumentIdentifier(images),
            position=t.Position(12, 0),
            context=t.ReferenceContext(include_declaration=False),
        )
    )
    where = sorted((loc.uri.rsplit("/", 1)[-1], loc.range.start.line) for loc in found or [])
    assert where == [("01-compose.md", 3), ("01-compose.md", 8), ("01-intro.md", 9)]


async def test_hover_lesson_term_and_rule_docs(client: LanguageClient) -> None:
    intro = uri_of(client, INTRO_REL)
    lesson = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(intro), t.Position(9, 30)))
    assert lesson is not None and "**Образы**" in lesson.contents.value  # type: ignore[union-attr]
    assert IMAGES_REL in lesson.contents.value  # type: ignore[union-attr]
    term = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(intro), t.Position(7, 2)))
    assert term is not None and "**Контейнер** — Container" in term.contents.value  # type: ignore[union-attr]
    assert "Изолированный процесс" in term.contents.value  # type: ignore[union-attr]
    line = INTRO.split("\n")[7]
    at = units(line[: line.index("Dоcker") + 1], ENCODING[client.spec])  # type: ignore[attr-defined]
    rule = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(intro), t.Position(7, at)))
    assert rule is not None and "**bilingual/mixed-script** (error)" in rule.contents.value  # type: ignore[union-attr]
    assert "#### How to fix" in rule.contents.value  # type: ignore[union-attr]


async def test_completion_of_prerequisites_and_link_targets(client: LanguageClient) -> None:
    images = uri_of(client, IMAGES_REL)
    typed = IMAGES.replace("  - basics/01-intro\n", "  - basics/01-intro\n  - adv\n")
    replace_all(client, IMAGES_REL, typed)
    found = await client.text_document_completion_async(
        t.CompletionParams(t.TextDocumentIdentifier(images), t.Position(5, 7))
    )
    assert found is not None
    items = found.items if isinstance(found, t.CompletionList) else found
    assert [i.label for i in items] == ["advanced/01-compose"]
    assert items[0].text_edit.range == t.Range(t.Position(5, 4), t.Position(5, 7))  # type: ignore[union-attr]
    linked = IMAGES.replace("Вернуться к", "См. [вводный](/course/01") + ""
    replace_all(client, IMAGES_REL, linked)
    line = linked.split("\n")[11]
    column = units(line[: line.index("/course/01") + len("/course/01")], ENCODING[client.spec])  # type: ignore[attr-defined]
    found = await client.text_document_completion_async(
        t.CompletionParams(t.TextDocumentIdentifier(images), t.Position(11, column))
    )
    items = found.items if isinstance(found, t.CompletionList) else found  # type: ignore[union-attr]
    assert [i.label for i in items] == ["/course/01-basics/01-intro"]
    replace_all(client, IMAGES_REL, IMAGES)


async def test_rename_a_lesson_through_a_prerequisite(client: LanguageClient) -> None:
    """Renaming 'basics/02-images' in the compose lesson's prerequisites renames the file
    and rewrites every name of it, each in its own form."""
    spec = client.spec  # type: ignore[attr-defined]
    compose = uri_of(client, COMPOSE_REL)
    edits = client.capabilities.workspace.workspace_edit  # type: ignore[union-attr]
    if "rename" not in (edits.resource_operations or []):  # Emacs 29: the server cannot move files
        with pytest.raises(Exception, match="cannot rename files through the language server"):
            await client.text_document_rename_async(
                t.RenameParams(t.TextDocumentIdentifier(compose), t.Position(3, 22), "basics/02-layers")
            )
        return
    prepared = await client.text_document_prepare_rename_async(
        t.PrepareRenameParams(t.TextDocumentIdentifier(compose), t.Position(3, 22))
    )
    assert isinstance(prepared, t.PrepareRenamePlaceholder) and prepared.placeholder == "basics/02-images"
    assert prepared.range == t.Range(t.Position(3, 17), t.Position(3, 33))
    edit = await client.text_document_rename_async(
        t.RenameParams(t.TextDocumentIdentifier(compose), t.Position(3, 22), "basics/02-layers")
    )
    assert edit is not None and edit.document_changes is not None
    renames = [c for c in edit.document_changes if isinstance(c, t.RenameFile)]
    assert [(r.old_uri, r.new_uri) for r in renames] == [
        (uri_of(client, IMAGES_REL), uri_of(client, "content/01-basics/02-layers.mdx"))
    ]
    compose_text = (client.root / COMPOSE_REL).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    new_compose = apply(compose_text, edits_of(edit, compose), ENCODING[spec])
    assert 'prerequisites: ["basics/02-layers"]' in new_compose
    assert "(/course/01-basics/02-layers)" in new_compose
    new_intro = apply(INTRO, edits_of(edit, uri_of(client, INTRO_REL)), ENCODING[spec])
    assert "(/course/01-basics/02-layers)" in new_intro


async def test_will_rename_files_updates_prerequisites_and_relative_links(client: LanguageClient) -> None:
    """What VS Code's explorer sends before moving a file; the others may send it too."""
    old, new = uri_of(client, INTRO_REL), uri_of(client, "content/01-basics/01-welcome.md")
    edit = await client.workspace_will_rename_files_async(t.RenameFilesParams([t.FileRename(old, new)]))
    assert edit is not None
    images = apply(IMAGES, edits_of(edit, uri_of(client, IMAGES_REL)), ENCODING[client.spec])  # type: ignore[attr-defined]
    assert "  - basics/01-welcome\n" in images
    assert "(./01-welcome.md#введение)" in images


# -- config, plugins, reload ------------------------------------------------------------------


async def test_config_errors_are_diagnostics_on_the_config_and_a_fixed_config_reloads(client: LanguageClient) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    config = root / ".coursecheck.toml"
    good = config.read_text(encoding="utf-8")
    config.write_text(good + '\n[rules]\n"bilingual/mixed-scrip" = "off"\n', encoding="utf-8")
    found = await diagnostics(client, ".coursecheck.toml", lambda d: len(d) > 0)
    assert "unknown rule" in found[0].message
    assert found[0].range.start.line == len(good.splitlines()) + 2  # the key's line
    config.write_text(good + '\n[rules]\n"bilingual/mixed-script" = "off"\n', encoding="utf-8")
    await diagnostics(client, ".coursecheck.toml", lambda d: len(d) == 0)
    await diagnostics(client, INTRO_REL, lambda d: "bilingual/mixed-script" not in codes(d))
    config.write_text(good, encoding="utf-8")
    await diagnostics(client, INTRO_REL, lambda d: "bilingual/mixed-script" in codes(d))
