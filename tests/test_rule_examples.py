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

# Rules whose examples need more than one file and a config section to show (course-wide
# rules, glossaries, must-haves, plans...), not converted yet.
NOT_YET = {
    "bilingual/abbreviation-mismatch",
    "bilingual/duplicate-term",
    "bilingual/forbidden-translation",
    "bilingual/glossary-script",
    "bilingual/inconsistent-rendering",
    "bilingual/missing-pair",
    "bilingual/mixed-jargon",
    "core/internal-error",
    "declarative/no-op",
    "frontmatter/duplicate-order",
    "frontmatter/duplicate-prefix",
    "graph/later-prerequisite",
    "graph/missing-data-reference",
    "graph/orphan-lesson",
    "graph/prerequisite-cycle",
    "graph/redundant-prerequisite",
    "graph/unresolved-reference",
    "musthave/artifact",
    "musthave/key-link",
    "musthave/missing-path",
    "musthave/requirement",
    "musthave/truth",
    "parse/encoding",
    "parse/file-name",
    "parse/outside-root",
    "parse/unreadable",
    "spelling/rejected-word",
    "terminology/coverage",
    "terminology/glossary-entry",
    "terminology/unused-term",
    "terminology/used-before-introduction",
}

FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>\w*)\n(?P<body>.*?)^(?P=fence)\n", re.S | re.M)
PLACE = re.compile(r"Reported at line (\d+), column (\d+)\.")
FILE_OF = {"markdown": "content/example.md", "mdx": "content/example.mdx", "json": "data/example.json",
           "yaml": "data/example.yaml"}


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


def example(docs: str) -> dict | None:
    """The parts of a runnable example, or None when the section is not written that way."""
    text = section_text(docs, "Example")
    if text is None:
        return None
    fences = list(FENCE.finditer(text))
    config = "".join(f["body"] for f in fences if f["info"] == "toml")
    files = [f for f in fences if f["info"] in FILE_OF]
    place = PLACE.search(text)
    named = re.search(r"^In `([^`]+)`:$", text, re.M)  # the file's path, when it matters
    good_at = text.find("Use instead:")
    if len(files) != 2 or place is None or good_at == -1 or not files[0].end() <= place.start() < good_at < files[1].start():
        return None
    path = named[1] if named else FILE_OF[files[0]["info"]]
    return {"config": config, "bad": files[0], "good": files[1], "line": int(place[1]), "column": int(place[2]),
            "path": path}


def findings_of(tmp_path, rule, config: str, fence, path: str) -> list:
    level = "" if rule.level != "off" or rule.id in config else f'\n[rules]\n"{rule.id}" = "warning"\n'
    write_files(tmp_path, {path: fence["body"]})
    (tmp_path / ".coursecheck.toml").write_text(textwrap.dedent(DEFAULT_CONFIG) + config + level, encoding="utf-8")
    return [f for f in check(tmp_path, select=[rule.id]).active if f.rule_id == rule.id]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_the_documented_example_fires_where_it_says_and_the_fixed_one_does_not(rule, tmp_path):
    parts = example(rule.docs or "")
    if rule.id in NOT_YET:
        assert parts is None, f"{rule.id} has a runnable example now: remove it from NOT_YET"
        pytest.skip("example not runnable yet (NOT_YET)")
    assert parts is not None, f"{rule.id}: ## Example needs a bad file, 'Reported at line L, column C.', 'Use instead:' and a good file"
    bad = findings_of(tmp_path / "bad", rule, parts["config"], parts["bad"], parts["path"])
    assert (rule.id, parts["path"], parts["line"], parts["column"]) in where(bad), where(bad)
    good = findings_of(tmp_path / "good", rule, parts["config"], parts["good"], parts["path"])
    assert where(good) == []


@pytest.mark.parametrize("rule", [r for r in RULES if r.fixable], ids=lambda r: r.id)
def test_a_rule_with_a_fix_says_how_safe_it_is(rule):
    assert re.search(r"^## Fix safety\n\S", rule.docs or "", re.M), rule.id


def test_the_parser_reads_the_format():
    docs = "x\n\n## Example\n```toml\n[a]\n```\n```markdown\nbad\n```\nReported at line 1, column 2.\n\nUse instead:\n```markdown\ngood\n```\n\n## How to fix\n"
    parts = example(docs)
    assert parts is not None and (parts["config"], parts["bad"]["body"], parts["good"]["body"]) == ("[a]\n", "bad\n", "good\n")
    assert (parts["line"], parts["column"]) == (1, 2)
    assert example(docs.replace("Use instead:", "")) is None
    assert len(RULES) > 50
