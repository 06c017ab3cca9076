"""A small fixed course for the report tests (SARIF and Markdown), with a plugin whose rules
fire on known words, so the reports hold findings with fixes, related locations, inline
suppressions, anti-patterns, Cyrillic and astral-plane characters, and a path that needs
percent-encoding. Golden files in tests/golden/ are made from it.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

from conftest import DEFAULT_CONFIG, write_files

TIMESTAMP = "2026-02-01T01:56:00Z"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = os.environ.get("COURSECHECK_UPDATE_GOLDEN") == "1"
# Rules whose output the golden files hold: the plugin's and the engine's own. Rule families
# added to coursecheck later do not change the golden files.
SELECT = "demo,core,parse"

PLUGIN = '''
import re

from coursecheck import hookimpl
from coursecheck.rules import rule


@rule("demo/marker", level="error", fixable=True, tags=("content",))
def marker(doc, ctx):
    """Flags the placeholder word ЗАГЛУШКА.

    ## What it does
    Finds `ЗАГЛУШКА` in prose and headings.

    ## Why it matters
    A placeholder | left in a lesson is a *gap* students see.

    ## Example
    ```markdown
    Тут ЗАГЛУШКА.
    ```

    ## How to fix
    Write the text; see [the guide](https://example.com/guide).
    """
    for seg in doc.iter_segments({"prose", "heading"}):
        for m in re.finditer("ЗАГЛУШКА", seg.text):
            start, end = seg.range(m.start(), m.end())
            fix = ctx.replace(doc, start, end, "текст", "replace the placeholder with 'текст'")
            ctx.report(doc, start, end, "placeholder left in text", anchor=m.group(), fix=fix)


@rule("demo/todo", level="warning", tags=("anti-pattern",))
def todo(doc, ctx):
    """Flags TODO notes in prose.

    ## What it does
    Finds `TODO:` at the start of a paragraph.
    """
    for seg in doc.iter_segments({"prose"}):
        for m in re.finditer(r"TODO:[^\\n]*", seg.text):
            start, end = seg.range(m.start(), m.end())
            related = []
            if doc.frontmatter is not None and "title" in doc.frontmatter.data:
                related.append((doc.relpath, doc.frontmatter.place("title"), "the lesson this TODO is in"))
            ctx.report(doc, start, end, f"TODO left in prose: '{m.group()}'", anchor=m.group(), related=related)


@hookimpl
def coursecheck_rules():
    return [marker, todo]
'''

LESSONS = {
    "content/01-intro.md": (
        "---\n"
        "title: Введение\n"
        "order: 1\n"
        "---\n"
        "\n"
        "# Введение 🐳\n"
        "\n"
        "Привет, мир 🐳 и ЗАГЛУШКА здесь.\n"
        "\n"
        "TODO: дописать раздел | с трубой и *звёздочкой*\n"
    ),
    "content/02-next.mdx": (
        "---\n"
        "title: Второй урок\n"
        "order: 2\n"
        "---\n"
        "\n"
        "{/* coursecheck-disable-next-line demo/marker -- допишем в мае */}\n"
        "Тут ЗАГЛУШКА.\n"
        "\n"
        "𝔘𝔘 ЗАГЛУШКА и <Mermaid> в тексте.\n"
    ),
    "content/модуль 2/01-урок.md": "# Урок\n\nЕщё одна ЗАГЛУШКА: здесь.\n",
}

CONFIG = 'plugins = ["tools/demo_rules.py"]\n' + textwrap.dedent(DEFAULT_CONFIG)


def build_course(root: Path, extra_config: str = "") -> Path:
    write_files(root, {**LESSONS, "tools/demo_rules.py": PLUGIN})
    (root / ".coursecheck.toml").write_text(CONFIG + extra_config, encoding="utf-8")
    return root


def assert_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/NAME; COURSECHECK_UPDATE_GOLDEN=1 rewrites the file."""
    path = GOLDEN / name
    if UPDATE_GOLDEN or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        if not UPDATE_GOLDEN:
            raise AssertionError(f"golden file {path} was missing and has been written; check it and rerun")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from the golden file (COURSECHECK_UPDATE_GOLDEN=1 to rewrite)"


def table_cell_counts(markdown: str) -> list[list[int]]:
    """Cells per row of every GFM table, counted as GitHub splits them (on pipes that are not
    backslash-escaped, code spans included), so a row with a stray pipe shows up."""
    tables: list[list[int]] = []
    previous_is_row = False
    for line in markdown.splitlines():
        is_row = line.startswith("|") and line.endswith("|")
        if is_row:
            cells = len(re.findall(r"(?<!\\)\|", line)) - 1
            if not previous_is_row:
                tables.append([])
            tables[-1].append(cells)
        previous_is_row = is_row
    return tables
