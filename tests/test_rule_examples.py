"""Every built-in rule's documented example runs: the rule fires on the bad example at the
place its docs state, and not on the good one (``Use instead:``); a rule with a fix says
how safe it is (``## Fix safety``).

The format of a rule's ``## Example`` section (coursecheck.rules), read here::

    ## Example
    ```toml            (optional: what the example adds to the config)
    ...
    ```
    In `content/02-module/03-lesson.md`:   (optional: the file's path, when the rule reads it)
    ```markdown        (the bad file: markdown, mdx, json or yaml)
    ...
    ```
    Reported at line 3, column 1.

    Use instead:
    ```markdown
    ...
    ```

Rules whose example is not written that way yet are listed in ``NOT_YET``: the list may
only shrink (a rule that gains a runnable example must leave it).
"""

from __future__ import annotations

import re
import textwrap

import pytest
from conftest import DEFAULT_CONFIG, REPO, check, where, write_files

from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions

# Rules whose example this format cannot run yet: reported in the config itself, whose lines
# depend on the rest of it (must-haves, term coverage, declarative no-op); fixed by renaming
# a file (duplicate prefixes); made of bytes, names, links or permissions a fence cannot
# hold (encoding, file names, outside-root, unreadable); or a crash of a rule (internal
# error).
NOT_YET = {
    "core/internal-error",
    "declarative/no-op",
    "frontmatter/duplicate-prefix",
    "musthave/artifact",
    "musthave/key-link",
    "musthave/missing-path",
    "musthave/requirement",
    "musthave/truth",
    "parse/encoding",
    "parse/file-name",
    "parse/outside-root",
    "parse/unreadable",
    "terminology/coverage",
}

FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>\w*)\n(?P<body>.*?)^(?P=fence)\n", re.S | re.M)
PLACE = re.compile(r"Reported at line (\d+), column (\d+)(?: of `([^`]+)`)?\.")
FILE_OF = {"markdown": "content/example.md", "mdx": "content/example.mdx", "json": "data/example.json",
           "yaml": "data/example.yaml", "text": "vocabulary/words.txt"}


def builtin_rules():
    engine = Engine(load_config(REPO / ".coursecheck.toml", REPO), RunOptions(entry_points=False))
    return sorted((r for r in engine.rules.values() if r.plugin.startswith("coursecheck.")), key=lambda r: r.id)


RULES = builtin_rules()


def section_text(docs: str, name: str) -> str | None:
    """The body of ``## name``, to the next ``## `` heading outside code fences."""
    lines = docs.splitlines(keepends=True)
    try:
        start = lines.index(f"## {name}\n") + 1
    except ValueError:
        return None
    out, fence = [], None
    for line in lines[start:]:
        m = re.match(r"(`{3,}|~{3,})", line)
        if m and fence is None:
            fence = m.group(1)
        elif m and line.strip() == m.group(1) and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
            fence = None
        elif fence is None and line.startswith("## "):
            break
        out.append(line)
    return "".join(out)


def files_in(text: str, default: str | None = None) -> dict[str, str]:
    """The file fences of ``text``, by path: ``In `PATH`:`` before a fence names its file,
    else ``default`` or the fence's language does (content/example.md, data/example.json...)."""
    out: dict[str, str] = {}
    for fence in FENCE.finditer(text):
        if fence["info"] not in FILE_OF:
            continue
        named = re.search(r"In `([^`]+)`:\n$", text[: fence.start()])
        out[named[1] if named else default or FILE_OF[fence["info"]]] = fence["body"]
    return out


def example(docs: str) -> dict | None:
    """The parts of a runnable example, or None when the section is not written that way:
    the bad files, then ``Reported at line L, column C[ of `PATH`].``, then ``Use
    instead:`` and the files that change (the others stay as they were)."""
    text = section_text(docs, "Example")
    if text is None:
        return None
    place = PLACE.search(text)
    good_at = text.find("Use instead:")
    if place is None or good_at == -1 or not place.start() < good_at:
        return None
    config = "".join(f["body"] for f in FENCE.finditer(text[:place.start()]) if f["info"] == "toml")
    bad = files_in(text[: place.start()])
    changed = files_in(text[good_at:], next(iter(bad)) if len(bad) == 1 else None)
    if not bad or not changed or not set(changed) <= set(bad):
        return None
    path = place[3] or next(iter(bad))
    return {"config": config, "bad": bad, "good": {**bad, **changed}, "line": int(place[1]),
            "column": int(place[2]), "path": path}


def findings_of(tmp_path, rule, config: str, files: dict[str, str]) -> list:
    level = "" if rule.level != "off" or rule.id in config else f'\n[rules]\n"{rule.id}" = "warning"\n'
    write_files(tmp_path, files)
    (tmp_path / ".coursecheck.toml").write_text(textwrap.dedent(DEFAULT_CONFIG) + config + level, encoding="utf-8")
    return [f for f in check(tmp_path, select=[rule.id]).active if f.rule_id == rule.id]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_the_documented_example_fires_where_it_says_and_the_fixed_one_does_not(rule, tmp_path):
    parts = example(rule.docs or "")
    if rule.id in NOT_YET:
        assert parts is None, f"{rule.id} has a runnable example now: remove it from NOT_YET"
        pytest.skip("example not runnable yet (NOT_YET)")
    assert parts is not None, f"{rule.id}: ## Example needs a bad file, 'Reported at line L, column C.', 'Use instead:' and a good file"
    bad = findings_of(tmp_path / "bad", rule, parts["config"], parts["bad"])
    assert (rule.id, parts["path"], parts["line"], parts["column"]) in where(bad), where(bad)
    good = findings_of(tmp_path / "good", rule, parts["config"], parts["good"])
    assert where(good) == []


@pytest.mark.parametrize("rule", [r for r in RULES if r.fixable], ids=lambda r: r.id)
def test_a_rule_with_a_fix_says_how_safe_it_is(rule):
    assert re.search(r"^## Fix safety\n\S", rule.docs or "", re.M), rule.id


def test_the_parser_reads_the_format():
    docs = "x\n\n## Example\n```toml\n[a]\n```\n```markdown\nbad\n```\nReported at line 1, column 2.\n\nUse instead:\n```markdown\ngood\n```\n\n## How to fix\n"
    parts = example(docs)
    assert parts is not None and parts["config"] == "[a]\n"
    assert (parts["bad"], parts["good"]) == ({"content/example.md": "bad\n"}, {"content/example.md": "good\n"})
    assert (parts["path"], parts["line"], parts["column"]) == ("content/example.md", 1, 2)
    assert example(docs.replace("Use instead:", "")) is None
    two = docs.replace("```markdown\nbad", "In `data/g.json`:\n```json\n{}\n```\nIn `content/a.md`:\n```markdown\nbad")
    two = two.replace("column 2.", "column 2 of `content/a.md`.").replace("Use instead:\n", "Use instead:\nIn `content/a.md`:\n")
    parts = example(two)
    assert parts is not None and parts["good"] == {"data/g.json": "{}\n", "content/a.md": "good\n"}
    assert parts["path"] == "content/a.md"
    assert len(RULES) > 50
