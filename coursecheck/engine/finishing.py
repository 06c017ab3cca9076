"""Finishing: each finding's level from the config, inline suppressions applied (an unused
one is ``core/unused-suppression``), findings outside the reported paths dropped, the rest
sorted and fingerprinted."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable

from coursecheck import suppress
from coursecheck.config import Settings
from coursecheck.model import Document, Finding
from coursecheck.rules import Rule, is_limit_note


class Finisher:
    """Finishes findings for the rules of the run (``rules``), by the config's levels
    (``settings``) and the run's selection (``selected``)."""

    def __init__(self, rules: dict[str, Rule], settings: Settings, selected: Callable[[str], bool]) -> None:
        self.rules = rules
        self.settings = settings
        self._selected = selected

    def finish(self, findings: list[Finding], docs: list[Document], reported: set[str] | None) -> list[Finding]:
        by_path: dict[str, list[Finding]] = {}
        for f in findings:
            rule = self.rules.get(f.rule_id)
            if rule is not None:
                level, _ = self.settings.for_file(f.rule_id, f.path or None)
                if level == "off" or not self._selected(f.rule_id):
                    continue
                if not f.level or level != rule.level:
                    f.level = level
            elif not f.level:
                f.level = "error"
            if not f.plugin and rule is not None:
                f.plugin = rule.plugin
            by_path.setdefault(f.path, []).append(f)
        known = set(self.rules)
        families = {r.split("/", 1)[0] for r in known}
        unused_rule = self.rules.get("core/unused-suppression")
        for doc in docs:
            doc_findings = by_path.get(doc.relpath, [])
            # Rules that left findings out here (max-findings): a directive for them may have
            # been written for a finding that was not kept, so it is not called unused.
            limited = {f.rule_id for f in doc_findings if is_limit_note(f)}
            for directive, why in suppress.apply(doc, doc_findings, known):
                if unused_rule is None or not self._selected(unused_rule.id):
                    continue
                if limited and _may_cover(directive.rules, limited, known, families):
                    continue
                level, _ = self.settings.for_file(unused_rule.id, doc.relpath)
                if level == "off":
                    continue
                span = directive.span
                by_path.setdefault(doc.relpath, []).append(
                    Finding(
                        unused_rule.id,
                        why,
                        doc.relpath,
                        span,
                        level=level,
                        plugin=unused_rule.plugin,
                        anchor=" ".join(directive.rules) + directive.kind,
                    ).set_snippet(doc.lines.line_text(span.line))
                )
        out = [f for path, items in by_path.items() if reported is None or path in reported for f in items]
        out.sort(key=Finding.sort_key)
        _fingerprint(out)
        return out



def _may_cover(named: tuple[str, ...], limited: set[str], known: set[str], families: set[str]) -> bool:
    """Whether a suppression naming ``named`` (nothing: every rule) may be meant for a rule
    in ``limited``, and names no unknown rule (that is reported whatever the limit)."""
    if any(r not in known and r not in families for r in named):
        return False
    return not named or any(r in named or r.split("/", 1)[0] in named for r in limited)


def _fingerprint(findings: Iterable[Finding]) -> None:
    """Stable identity for each finding: rule, file and what it is about, not its line.

    Two findings with the same key get an occurrence number, in order of position.
    """
    seen: Counter[tuple[str, str, str]] = Counter()
    for f in findings:
        what = f.anchor or " ".join(f.snippet.split()) or f.message
        key = (f.rule_id, f.path, what)
        seen[key] += 1
        digest = hashlib.sha256("\0".join([*key, str(seen[key])]).encode("utf-8", "surrogatepass")).hexdigest()
        f.fingerprint = digest[:32]

