"""Rule calls: one rule on one subject (a document or the course) with its context, its
findings bounded per file, a crash contained (``core/internal-error``, the run goes on)."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from coursecheck.config import Config, Settings
from coursecheck.engine.discovery import _relpath
from coursecheck.model import Course, Document, Finding
from coursecheck.plugins import Notification
from coursecheck.results import RunOptions
from coursecheck.rules import Rule, RuleContext
from coursecheck.text import Span


class RuleCalls:
    """How the stages call rules: which rules the run selected (``--select``, ``--ignore``),
    each rule's options and limit by file, and the notifications of rules that crashed."""

    def __init__(self, config: Config, settings: Settings, options: RunOptions, notes: list[Notification]) -> None:
        self.config = config
        self.settings = settings
        self.options = options
        self.notes = notes

    def check_document(
        self, doc: Document, course: Course, active_rules: list[Rule], summary: dict[str, Any]
    ) -> list[Finding]:
        """Parse problems, document rules and course rules' summaries of one file."""
        findings = list(doc.problems)
        for rule in active_rules:
            if doc.kind not in rule.kinds or (rule.lessons_only and doc.lesson_id is None):
                continue
            if rule.course and rule.summarize is None:
                continue
            level, options = self.settings.for_file(rule.id, doc.relpath)
            if level == "off" and not rule.course:
                continue
            ctx = RuleContext(rule, self.config, options, course, max_findings=self.max_findings(rule.id))
            ctx.summary = summary
            if rule.course:
                findings.extend(self._summarize(rule, ctx, doc, summary))
            else:
                findings.extend(self.call(rule, ctx, doc, doc.relpath))
        return findings

    def _summarize(self, rule: Rule, ctx: RuleContext, doc: Document, summary: dict[str, Any]) -> list[Finding]:
        summarize = rule.summarize
        assert summarize is not None

        def store(subject: Document, context: RuleContext) -> None:
            data = summarize(subject, context)
            if data is not None:
                summary[rule.id] = data

        probe = Rule(rule.id, check=store, plugin=rule.plugin)
        found = self.call(probe, ctx, doc, doc.relpath)
        return found

    def selected(self, rule_id: str) -> bool:
        family = rule_id.split("/", 1)[0]
        if rule_id.startswith(("core/", "parse/")) and not self.options.select:
            return not (rule_id in self.options.ignore or family in self.options.ignore)
        if self.options.select and not (rule_id in self.options.select or family in self.options.select):
            return False
        return not (rule_id in self.options.ignore or family in self.options.ignore)

    def call(self, rule: Rule, ctx: RuleContext, subject: Any, relpath: str) -> list[Finding]:
        """Run one rule; its findings, at most the limit per file (``max-findings``) and one
        more finding per file saying how many were left out (counted as they are reported,
        so a rule reporting 10^5 findings in one file never holds them)."""
        try:
            returned = rule.check(subject, ctx)
            if returned is not None:
                for item in returned:
                    if not isinstance(item, Finding):
                        raise TypeError(f"rule yielded {type(item).__name__}, not Finding")
                    if ctx.keep(item):
                        ctx.findings.append(item)
        except Exception as exc:
            where = f" on {relpath}" if relpath else ""
            message = f"plugin '{rule.plugin}' rule {rule.id} crashed{where}: {type(exc).__name__}: {exc}"
            self.notes.append(Notification(message, rule.plugin, rule.id, relpath, traceback.format_exc(limit=6)))
            span = Span.point(1, 1)
            return [
                *ctx.findings,
                *ctx.limit_notes(),
                Finding(
                    "core/internal-error",
                    message + " (the rest of the run went on)",
                    relpath or self._config_rel(),
                    span,
                    plugin=rule.plugin,
                ),
            ]
        return [*ctx.findings, *ctx.limit_notes()] if ctx.left_out else ctx.findings

    def file_options(self, rule_id: str, relpath: str) -> dict[str, Any]:
        """A rule's options for one file (``[[overrides]]`` applied): RuleContext.options_for."""
        return self.settings.for_file(rule_id, relpath)[1]

    def max_findings(self, rule_id: str) -> Callable[[str], int]:
        """The limit of findings ``rule_id`` keeps in a file, by the file's relpath."""
        return lambda relpath: self.settings.max_findings(rule_id, relpath or None)

    def _config_rel(self) -> str:
        if self.config.path is None:
            return ""
        return _relpath(self.config.path, self.config.root) or self.config.path.name
