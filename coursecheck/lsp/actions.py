"""Code actions as edits: a finding's fix (safe or not), a suppression comment for it, the
word it is about added to the course vocabulary, and every safe fix of a file at once.

Every action is computed here, on the server, from the finding as coursecheck made it
(its spans in the file it checked): never from a range the client sends back, which a
client may count in other units (Neovim 0.7 returns byte columns). The server turns the
edits into a ``WorkspaceEdit``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursecheck.model import Document, Finding
from coursecheck.text import Span

if TYPE_CHECKING:
    from coursecheck.lsp.workspace import CourseWorkspace

# Rules whose findings are about one word a course may use on purpose: the vocabulary
# (``[spelling] accept`` files) takes it. A plugin's rule joins them with the tag "vocabulary".
VOCABULARY_RULES = frozenset(
    {"spelling/unknown-word", "bilingual/mixed-script", "bilingual/mixed-jargon", "bilingual/wrong-layout"}
)
_WORD = re.compile(r"^[^\W\d_][\w'’-]*$")


@dataclass(slots=True)
class Edit:
    relpath: str
    span: Span  # 1-based, code points; an insertion has an empty span
    new_text: str


@dataclass(slots=True)
class Action:
    title: str
    kind: str  # quickfix | source.fixAll
    edits: list[Edit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    preferred: bool = False
    # A command the server runs itself (workspace/executeCommand): (name, arguments).
    command: tuple[str, list[Any]] | None = None


def fix_action(finding: Finding) -> Action | None:
    fix = finding.fix
    if fix is None or not fix.edits:
        return None
    label = "safe fix" if fix.safe else "unsafe fix: review it"
    title = f"{fix.description} ({finding.rule_id}, {label})"
    edits = [Edit(finding.path, e.span, e.replacement) for e in fix.edits]
    return Action(title, "quickfix", edits, [finding], preferred=fix.safe)


def fix_all(findings: list[Finding], rel: str) -> Action | None:
    """Every safe fix of the file's unsuppressed findings that does not overlap another."""
    taken: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    fixed: list[Finding] = []
    for f in sorted(findings, key=Finding.sort_key):
        if f.path != rel or f.fix is None or not f.fix.safe or f.suppression is not None or not f.fix.edits:
            continue
        edits = [
            ((e.span.line, e.span.column), (e.span.end_line, e.span.end_column), e.replacement) for e in f.fix.edits
        ]
        if any(_overlap(a, b) for a in edits for b in taken if a != b):
            continue
        taken.extend(e for e in edits if e not in taken)
        fixed.append(f)
    if not fixed:
        return None
    out = [Edit(rel, Span(line, col, end, end_col, col, end_col), text) for (line, col), (end, end_col), text in taken]
    return Action(
        f"Apply {len(fixed)} safe fix{'es' if len(fixed) > 1 else ''} (coursecheck)", "source.fixAll", out, fixed
    )


def _overlap(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if a[0] == b[0]:
        return True
    return a[0] < b[1] and b[0] < a[1]


# -- suppression ------------------------------------------------------------------------------


def _comment(kind: str, mdx: bool, rules: str) -> str:
    body = f"coursecheck-{kind} {rules}".rstrip()
    return f"{{/* {body} */}}" if mdx else f"<!-- {body} -->"


def suppress_action(finding: Finding, doc: Document, text: str) -> Action | None:
    """A comment that silences ``finding`` and nothing around it, placed where it is read
    as a comment and changes neither the rendering nor the file's structure:

    * a finding in the frontmatter: ``disable-file RULE`` right after it (a comment cannot
      stand inside YAML);
    * inside a code block or a multi-line JSX tag: ``disable RULE`` before it and
      ``enable RULE`` after it (a comment inside would be code or break the tag);
    * inside a paragraph, list or table: ``disable-next-line RULE`` at the end of the
      line above (a comment line would split the paragraph), in a table's last cell;
    * a list item or table row after a line that cannot take it (blank, a delimiter
      row): ``disable RULE`` and ``enable RULE`` at the end of the line itself;
    * otherwise (a block's first line): a ``disable-next-line RULE`` line above it.
    """
    if doc.kind not in ("markdown", "mdx"):
        return None
    mdx = doc.kind == "mdx"
    rule = finding.rule_id
    lines = text.splitlines()
    line = finding.span.line
    if not 1 <= line <= max(len(lines), 1):
        return None
    rel = finding.path
    fm = doc.frontmatter
    if (fm is not None and fm.span.line <= line <= fm.span.end_line) or (fm is None and _fm_end(lines) >= line):
        end = fm.span.end_line if fm is not None else _fm_end(lines)
        return Action(
            f"Suppress {rule} in this file (coursecheck)",
            "quickfix",
            [Edit(rel, _at_line_start(end + 1, lines), _comment("disable-file", mdx, rule) + "\n")],
            [finding],
        )
    block = _enclosing_block(doc, line)
    if block is not None:
        first, last = block
        indent = _indent(lines[first - 1]) if first <= len(lines) else ""
        after = lines[last - 1] if last <= len(lines) else ""
        edits = [
            Edit(rel, _at_line_start(first, lines), indent + _comment("disable", mdx, rule) + "\n"),
            Edit(rel, _at_line_end(last, after), "\n" + indent + _comment("enable", mdx, rule)),
        ]
        return Action(f"Suppress {rule} in this block (coursecheck)", "quickfix", edits, [finding])
    title = f"Suppress {rule} on this line (coursecheck)"
    current = lines[line - 1] if line <= len(lines) else ""
    previous = lines[line - 2] if line >= 2 else ""
    after_frontmatter = fm is not None and line - 1 == fm.span.end_line
    if line >= 2 and not after_frontmatter and _continues(previous):
        # Inside a paragraph, list or table: a comment ending the line above.
        comment = _comment("disable-next-line", mdx, rule)
        return Action(title, "quickfix", [_append(rel, line - 1, previous, comment)], [finding])
    if _LIST_OR_ROW.match(current):
        # A list item or table row whose line above cannot take a comment: a comment line
        # above would end the list or table, so disable and enable the rule on the line.
        pair = _comment("disable", mdx, rule) + _comment("enable", mdx, rule)
        return Action(title, "quickfix", [_append(rel, line, current, pair)], [finding])
    comment = _comment("disable-next-line", mdx, rule)
    edit = Edit(rel, _at_line_start(line, lines), _indent(current) + comment + "\n")
    return Action(title, "quickfix", [edit], [finding])


_LIST_OR_ROW = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|\|)")
_DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


def _continues(text: str) -> bool:
    """Whether a comment may end this line without changing what it is: prose, a list
    item, a quote, a table row (not a heading, a fence, a tag, a table's delimiter row)."""
    s = text.strip()
    if not s or _is_heading(text) or s.startswith(("```", "~~~", "<", "{", "import ", "export ")):
        return False
    return not _DELIMITER_ROW.match(text) and not s.endswith("\\")


def _append(rel: str, line: int, line_text: str, comment: str) -> Edit:
    stripped = line_text.rstrip()
    if stripped.lstrip().startswith("|") and stripped.endswith("|") and len(stripped.strip()) > 1:
        return Edit(rel, _point(line, len(stripped), line_text), " " + comment + " ")  # in the last cell
    return Edit(rel, _point(line, len(stripped) + 1, line_text), " " + comment)


def _fm_end(lines: list[str]) -> int:
    """The closing line of a frontmatter block the parser could not read (0: none)."""
    if not lines or lines[0].strip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return i + 1
    return 0


def _enclosing_block(doc: Document, line: int) -> tuple[int, int] | None:
    """The lines of the code block or multi-line JSX tag ``line`` is inside of."""
    for block in doc.code_blocks:
        if block.span.line <= line <= block.span.end_line:
            return block.span.line, block.span.end_line
    for comp in doc.components:
        if comp.span.line < comp.span.end_line and comp.span.line <= line <= comp.span.end_line:
            return comp.span.line, comp.span.end_line
    return None


def _is_heading(text: str) -> bool:
    return bool(re.match(r"\s{0,3}#{1,6}(\s|$)", text)) or bool(re.match(r"\s{0,3}(=+|-+)\s*$", text))


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def _point(line: int, column: int, line_text: str) -> Span:
    col16 = column + sum(1 for ch in line_text[: column - 1] if ord(ch) > 0xFFFF)
    return Span(line, column, line, column, col16, col16)


def _at_line_start(line: int, lines: list[str]) -> Span:
    return Span(line, 1, line, 1, 1, 1)


def _at_line_end(line: int, line_text: str) -> Span:
    return _point(line, len(line_text) + 1, line_text)


# -- the course vocabulary --------------------------------------------------------------------


def vocabulary_file(ws: CourseWorkspace) -> str | None:
    """The first ``[spelling] accept`` file inside the project root (relative to it)."""
    config = ws.config
    if config is None:
        return None
    section = config.sections.get("spelling")
    if not isinstance(section, dict):
        return None
    accept = section.get("accept", [])
    if isinstance(accept, str):
        accept = [accept]
    if not isinstance(accept, list):
        return None
    for entry in accept:
        if not isinstance(entry, str) or not entry.strip() or Path(entry).is_absolute():
            continue
        rel = ws.relpath(ws.root / entry)
        if rel is not None:
            return rel
    return None


def vocabulary_word(finding: Finding, text: str) -> str | None:
    """The word a finding is about: the text of its span, when that is one word."""
    span = finding.span
    if span.line != span.end_line:
        return None
    lines = text.splitlines()
    if not 1 <= span.line <= len(lines):
        return None
    word = lines[span.line - 1][span.column - 1 : span.end_column - 1].strip()
    return word if _WORD.match(word) and len(word) <= 100 else None


def is_vocabulary_rule(ws: CourseWorkspace, rule_id: str) -> bool:
    if rule_id in VOCABULARY_RULES:
        return True
    rule = ws.engine.rules.get(rule_id) if ws.engine is not None else None
    return rule is not None and "vocabulary" in rule.tags


def vocabulary_action(ws: CourseWorkspace, finding: Finding, text: str) -> Action | None:
    if not is_vocabulary_rule(ws, finding.rule_id):
        return None
    file = vocabulary_file(ws)
    word = vocabulary_word(finding, text)
    if file is None or word is None:
        return None
    return Action(
        f"Add «{word}» to the course vocabulary ({file})",
        "quickfix",
        [],
        [finding],
        command=("coursecheck.addToVocabulary", [file, word]),
    )


def append_word(existing: str, word: str) -> str | None:
    """The text to append to a vocabulary file holding ``existing`` so it accepts ``word``
    (None: an entry already does, case-insensitively)."""
    entries = {line.strip().lower() for line in existing.splitlines() if line.strip() and not line.startswith("#")}
    if word.lower() in entries:
        return None
    prefix = "" if not existing or existing.endswith(("\n", "\r")) else "\n"
    return prefix + word + "\n"
