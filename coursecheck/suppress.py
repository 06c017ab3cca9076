"""Inline suppressions: comments in a lesson that silence findings.

Markdown ``<!-- ... -->`` and MDX ``{/* ... */}`` comments are read alike::

    coursecheck-disable-next-line [RULE ...] [-- why]   the line after the comment
    coursecheck-disable [RULE ...] [-- why]              from here ...
    coursecheck-enable [RULE ...]                        ... to here (or the end of the file)
    coursecheck-disable-file [RULE ...] [-- why]         the whole file

No RULE means every rule; RULE may be a family (``anti-patterns``). A directive that
silences nothing is itself reported (``core/unused-suppression``), so stale ones do not pile up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from coursecheck.model import Document, Finding, Suppression
from coursecheck.text import Span

# The directive's word only: the rest is taken with str.strip(). A ``(.*?)\s*$`` tail here
# was quadratic (each start of the lazy group rescans the trailing spaces: 59 s on a comment
# with 80,000 spaces before its last word).
_DIRECTIVE = re.compile(r"coursecheck-(disable-next-line|disable-file|disable|enable)\b")


@dataclass(slots=True)
class Directive:
    kind: str
    rules: tuple[str, ...]
    reason: str
    span: Span
    first_line: int  # first line it covers
    last_line: int  # last line it covers (inclusive)
    used: bool = False
    matched_rules: set[str] = field(default_factory=set)

    def covers(self, finding: Finding) -> bool:
        if not self.first_line <= finding.span.line <= self.last_line:
            return False
        if not self.rules:
            return True
        family = finding.rule_id.split("/", 1)[0]
        return finding.rule_id in self.rules or family in self.rules


def directives(doc: Document) -> list[Directive]:
    found: list[Directive] = []
    open_blocks: list[Directive] = []
    if not doc.comments:  # most files: do not touch the text (a cached record reads it lazily)
        return found
    last_line = max(doc.lines.line_count, 1)
    for comment in doc.comments:
        m = _DIRECTIVE.match(comment.text)
        if not m:
            continue
        kind, rest = m.group(1), comment.text[m.end() :].strip()
        rest, _, reason = rest.partition("--")
        rules = tuple(r.strip(",") for r in rest.split() if r.strip(","))
        span = comment.span
        if kind == "disable-next-line":
            found.append(Directive(kind, rules, reason.strip(), span, span.end_line + 1, span.end_line + 1))
        elif kind == "disable-file":
            found.append(Directive(kind, rules, reason.strip(), span, 1, last_line))
        elif kind == "disable":
            block = Directive(kind, rules, reason.strip(), span, span.line, last_line)
            found.append(block)
            open_blocks.append(block)
        else:  # enable closes the latest matching disable
            for block in reversed(open_blocks):
                if not rules or set(rules) & set(block.rules) or not block.rules:
                    block.last_line = span.line
                    open_blocks.remove(block)
                    break
    return found


def apply(doc: Document, findings: list[Finding], known_rules: set[str]) -> list[tuple[Directive, str]]:
    """Mark findings of ``doc`` covered by its directives; return unused directives with why."""
    dirs = directives(doc)
    if not dirs:
        return []
    for finding in findings:
        if finding.suppression is not None or finding.rule_id == "core/unused-suppression":
            continue
        for d in dirs:
            if d.covers(finding):
                d.used = True
                d.matched_rules.add(finding.rule_id)
                finding.suppression = Suppression("inline", d.reason)
                break
    unused = []
    families = {r.split("/", 1)[0] for r in known_rules}
    for d in dirs:
        unknown = [r for r in d.rules if r not in known_rules and r not in families]
        if unknown:
            unused.append((d, f"suppression names unknown rule {', '.join(unknown)}"))
        elif not d.used:
            what = ", ".join(d.rules) if d.rules else "any rule"
            unused.append((d, f"suppression for {what} silences nothing; remove it"))
    return unused
