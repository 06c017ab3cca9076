"""What the language server computes, without the protocol: incremental checks give what a
full run gives; each suppression placement silences its finding and nothing else; the
vocabulary action; lesson renames rewrite every name in its own form."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.lsp import actions as act
from coursecheck.lsp import navigation as nav
from coursecheck.lsp.workspace import CourseWorkspace
from tests.lsp_course import COMPOSE_REL, IMAGES_REL, INTRO, INTRO_REL, write_course

REPO = Path(__file__).resolve().parent.parent


def _key(findings):
    return sorted(
        (
            f.rule_id,
            f.path,
            f.span.line,
            f.span.column,
            f.span.end_line,
            f.span.end_column,
            f.message,
            f.level,
            f.suppression is not None,
            f.fingerprint,
        )
        for f in findings
    )


def _demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    shutil.copytree(REPO / "examples", root / "examples")
    shutil.copytree(REPO / "rules", root / "rules")
    shutil.copy(REPO / ".coursecheck.toml", root / ".coursecheck.toml")
    return root


def _edits(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    kind = rng.choice(["paragraph", "heading", "link", "prerequisite", "yaml", "delete", "suppress"])
    at = rng.randrange(len(lines) // 2, len(lines))
    if kind == "paragraph":
        lines[at:at] = ["", "Новый абзац про Dоcker и образы (images).", ""]
    elif kind == "heading":
        lines[at:at] = ["", "## Новый раздел", ""]
    elif kind == "link":
        lines[at:at] = ["", "См. [урок](/course/01-module-1/09-nowhere).", ""]
    elif kind == "prerequisite":
        text = "\n".join(lines).replace("prerequisites: [", 'prerequisites: ["module-1/01-what-is-a-container", ', 1)
        return text
    elif kind == "yaml":
        lines[1] = lines[1] + ' "broken'
    elif kind == "delete":
        del lines[at : at + rng.randrange(1, 6)]
    else:
        lines[at:at] = ["<!-- coursecheck-disable-next-line -->"]
    return "\n".join(lines)


def test_incremental_checks_give_what_a_full_run_gives(tmp_path: Path) -> None:
    """Seeded random edits of the demo course's lessons, checked from buffers with
    check_source and recheck_course, against a fresh run with the same text on disk."""
    root = _demo(tmp_path)
    config = load_config(root / ".coursecheck.toml", root)
    engine = Engine(config, RunOptions(entry_points=False))
    engine.run()
    lessons = [rel for rel, role in engine.files() if role == "lesson"]
    rng = random.Random(23)
    texts: dict[str, str] = {}
    for _round in range(6):
        rel = rng.choice(lessons)
        texts[rel] = _edits(texts.get(rel) or (root / rel).read_text(encoding="utf-8"), rng)
        incremental = engine.recheck_course([engine.check_source(rel, texts[rel].encode())])
        if _round % 3 != 2:
            continue  # compared every third edit (a full run costs a second)
        other = tmp_path / f"full{_round}"
        shutil.copytree(root, other)
        for changed, text in texts.items():
            (other / changed).write_text(text, encoding="utf-8")
        full = Engine(load_config(other / ".coursecheck.toml", other), RunOptions(entry_points=False)).run()
        assert _key(incremental.findings) == _key(full.findings), (_round, rel)


def test_check_source_reports_the_buffer_with_the_last_course_findings(tmp_path: Path) -> None:
    root = write_course(tmp_path)
    ws = CourseWorkspace(root, cache=False)
    assert ws.load()
    found = ws.check_file(INTRO_REL)
    assert [f.rule_id for f in found] == ["bilingual/mixed-script"]
    ws.set_buffer(INTRO_REL, INTRO.replace("order: 1", "order: 2"))
    ws.check_file(INTRO_REL)
    changed = ws.check_course()
    assert IMAGES_REL in changed  # frontmatter/duplicate-order, reported in the other lesson
    assert "frontmatter/duplicate-order" in [f.rule_id for f in ws.findings(IMAGES_REL)]
    ws.close_buffer(INTRO_REL)  # back to the disk's text
    ws.check_file(INTRO_REL)
    assert IMAGES_REL in ws.check_course()
    assert "frontmatter/duplicate-order" not in [f.rule_id for f in ws.findings(IMAGES_REL)]


def test_a_file_deleted_and_one_created_on_disk(tmp_path: Path) -> None:
    root = write_course(tmp_path)
    ws = CourseWorkspace(root, cache=False)
    assert ws.load()
    (root / COMPOSE_REL).unlink()
    (root / "content/02-advanced/02-volumes.md").write_text(
        '---\ntitle: "Тома"\nprerequisites: ["advanced/01-compose"]\n---\n\n# Тома\n', encoding="utf-8"
    )
    changed, added = ws.disk_changes()
    assert changed == [COMPOSE_REL] and added == ["content/02-advanced/02-volumes.md"]
    for rel in [*changed, *added]:
        ws.check_file(rel)
    ws.check_course()
    assert ws.result is not None and COMPOSE_REL not in ws.result.files
    assert [f.rule_id for f in ws.findings("content/02-advanced/02-volumes.md")].count(
        "graph/unresolved-reference"
    ) == 1


def test_a_config_with_errors_keeps_the_last_course(tmp_path: Path) -> None:
    root = write_course(tmp_path)
    ws = CourseWorkspace(root, cache=False)
    assert ws.load()
    config = root / ".coursecheck.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[rules]\n"nope/rule" = "off"\n', encoding="utf-8")
    assert ws.inputs_changed()
    assert not ws.load()
    assert ws.problem is not None and "unknown rule" in ws.problem.problems[0].message
    assert ws.findings(INTRO_REL)  # still shown
    config.write_text("[course\n", encoding="utf-8")
    assert not ws.load() and "TOML syntax error" in ws.problem.problems[0].message


def test_a_plugin_that_raises_is_a_finding(tmp_path: Path) -> None:
    plugin = """
from coursecheck import hookimpl
from coursecheck.rules import rule

@rule("team/boom", level="warning")
def boom(doc, ctx):
    '''Always raises.'''
    raise RuntimeError("kaboom")

@hookimpl
def coursecheck_rules():
    return [boom]
"""
    root = write_course(tmp_path, {"tools/boom.py": plugin})
    config = root / ".coursecheck.toml"
    config.write_text('plugins = ["tools/boom.py"]\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    ws = CourseWorkspace(root, cache=False, entry_points=False)
    assert ws.load()
    found = ws.check_file(INTRO_REL)
    crash = [f for f in found if f.rule_id == "core/internal-error"]
    assert crash and "kaboom" in crash[0].message


# -- suppressions ------------------------------------------------------------------------------

LESSON = """\
---
title: "Урок"
order: 1
---

# Урок

Первая строка абзаца про TODO здесь.
Вторая строка абзаца, тоже TODO.

- пункт списка
- пункт с TODO внутри

| колонка | другая |
|---|---|
| TODO в таблице | x |

```bash
echo TODO in code
```
"""


@pytest.mark.parametrize(
    ("line", "kind"),
    [(8, "paragraph start"), (9, "paragraph middle"), (12, "list item"), (16, "table row after the delimiter")],
)
def test_each_suppression_silences_its_finding_and_nothing_else(tmp_path: Path, line: int, kind: str) -> None:
    root = write_course(tmp_path, {"content/03-x/01-lesson.md": LESSON})
    ws = CourseWorkspace(root, cache=False)
    assert ws.load()
    rel = "content/03-x/01-lesson.md"
    before = ws.check_file(rel)
    (target,) = [f for f in before if f.rule_id == "anti-patterns/todo" and f.span.line == line]
    doc = ws.document(rel)
    assert doc is not None
    action = act.suppress_action(target, doc, LESSON)
    assert action is not None
    text = _apply(LESSON, action.edits)
    ws.set_buffer(rel, text)
    after = ws.check_file(rel)
    silenced = [f for f in after if f.suppression is not None]
    assert [f.rule_id for f in silenced] == ["anti-patterns/todo"], kind
    active = [(f.rule_id, f.message) for f in after if f.suppression is None]
    assert sorted(active) == sorted((f.rule_id, f.message) for f in before if f is not target), kind
    new_doc = ws.document(rel)
    assert new_doc is not None and [h.text for h in new_doc.headings] == [h.text for h in doc.headings]


def _apply(text: str, edits: list[act.Edit]) -> str:
    lines = text.split("\n")
    for e in sorted(edits, key=lambda e: (e.span.line, e.span.column), reverse=True):
        line = lines[e.span.line - 1] if e.span.line <= len(lines) else ""
        before, after = line[: e.span.column - 1], line[e.span.end_column - 1 :]
        if e.span.line <= len(lines):
            lines[e.span.line - 1] = before + e.new_text + after
        else:
            lines.append(e.new_text)
        lines = "\n".join(lines).split("\n")
    return "\n".join(lines)


def test_suppressions_in_frontmatter_and_code_blocks(tmp_path: Path) -> None:
    root = write_course(tmp_path, {"content/03-x/01-lesson.md": LESSON.replace('title: "Урок"', "title: 5")})
    ws = CourseWorkspace(root, cache=False)
    assert ws.load()
    rel = "content/03-x/01-lesson.md"
    text = (root / rel).read_text(encoding="utf-8")
    found = ws.check_file(rel)
    (field_type,) = [f for f in found if f.rule_id == "frontmatter/field-type"]
    doc = ws.document(rel)
    action = act.suppress_action(field_type, doc, text)
    assert action is not None and action.title.startswith("Suppress frontmatter/field-type in this file")
    ws.set_buffer(rel, _apply(text, action.edits))
    after = ws.check_file(rel)
    assert [f.rule_id for f in after if f.suppression is not None] == ["frontmatter/field-type"]
    # A finding inside a code block: disable before the fence, enable after it.
    block = doc.code_blocks[0].span
    fake = type(field_type)("anti-patterns/todo", "x", rel, type(block)(block.line + 1, 6, block.line + 1, 10, 6, 10))
    action = act.suppress_action(fake, doc, text)
    assert action is not None and "in this block" in action.title
    lines = _apply(text, action.edits).split("\n")
    assert lines[block.line - 1] == "<!-- coursecheck-disable anti-patterns/todo -->"
    assert lines[block.end_line + 1] == "<!-- coursecheck-enable anti-patterns/todo -->"


# -- vocabulary and rename ----------------------------------------------------------------------


def test_vocabulary_file_and_word(tmp_path: Path) -> None:
    root = write_course(tmp_path)
    ws = CourseWorkspace(root, cache=False)
    assert ws.load()
    assert act.vocabulary_file(ws) is None  # no [spelling] section: no action
    assert ws.config is not None
    ws.config.sections["spelling"] = {"accept": ["../outside.txt", "vocabulary/accept.txt"]}
    assert act.vocabulary_file(ws) == "vocabulary/accept.txt"  # the first inside the root
    (homoglyph,) = [f for f in ws.check_file(INTRO_REL) if f.rule_id == "bilingual/mixed-script"]
    action = act.vocabulary_action(ws, homoglyph, INTRO)
    assert action is not None and action.command == ("coursecheck.addToVocabulary", ["vocabulary/accept.txt", "Dоcker"])
    assert act.append_word("# words\nдашборд", "Dоcker") == "\nDоcker\n"
    assert act.append_word("dоcker\n", "Dоcker") is None


def test_rename_keeps_each_form_and_moves_relative_links(tmp_path: Path) -> None:
    root = write_course(tmp_path)
    ws = CourseWorkspace(root, cache=False)
    assert ws.load()
    plan = nav.plan_rename(ws, [(IMAGES_REL, "content/02-advanced/02-images.mdx")])
    by_file = {}
    for edit in plan.edits:
        by_file.setdefault(edit.relpath, []).append(edit.new_text)
    assert sorted(by_file[COMPOSE_REL]) == ["/course/02-advanced/02-images", "advanced/02-images"]
    assert by_file[INTRO_REL] == ["/course/02-advanced/02-images"]
    assert by_file[IMAGES_REL] == ["../01-basics/01-intro.md#введение"]  # the moved lesson's own link
    assert plan.skipped == []
