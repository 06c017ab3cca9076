"""The plugin module named by the entry point: hooks marked with ``coursecheck.hookimpl``.

Two ways to add a check, one of each:

* a **rule** (``coursecheck_rules``): Python code with a fixed id, on for every course that
  installs the plugin (switch it off in ``[rules]`` like any rule);
* a **rule kind** (``coursecheck_rule_kinds``): a building block a course uses in its own
  ``[[rule]]`` tables, with its own id, fields, message and level.

Every hook is listed and documented in ``coursecheck/hookspecs.py``; what a plugin imports
comes from ``coursecheck.api`` (the stable public API).
"""

from __future__ import annotations

from coursecheck.api import Document, FieldSpec, Option, Rule, RuleContext, RuleKind, RuleSpec, UserRule, hookimpl, rule


@rule(
    "template/heading-period",
    level="warning",
    options=(Option("allow-ellipsis", bool, True, "do not report headings ending with '...' or '…'"),),
)
def heading_period(doc: Document, ctx: RuleContext) -> None:
    """A heading ends with a period.

    ## What it does
    Reports a heading whose text ends with `.`, at the period.

    ## Why it matters
    Headings are titles, not sentences: a period at the end looks like a typo in the table
    of contents and in the page's sidebar.

    ## Example
    ```markdown
    ## Настройка коннектора.
    ```

    ## How to fix
    Remove the period: `## Настройка коннектора`.
    """
    for heading in doc.headings:
        text = heading.text.rstrip()
        if not text.endswith("."):
            continue
        if ctx.options["allow-ellipsis"] and text.endswith(".."):
            continue
        # The heading's span ends after its last character: the period, in the source.
        end = doc.lines.offset(heading.span.end_line, heading.span.end_column)
        if doc.source[end - 1 : end] != ".":
            continue  # the period comes from markup (an entity, a code span): nothing to point at
        ctx.report(doc, end - 1, end, "heading ends with a period", anchor=heading.text)


class LongHeading(RuleKind):
    """``kind = "long-heading"``: headings with more than ``max-words`` words."""

    name = "long-heading"
    summary = "Headings longer than a number of words"
    fields = (FieldSpec("max-words", "int", "most words a heading may have", default=8),)
    placeholders = ("words", "max")
    default_message = "heading has {words} words (at most {max})"
    scoped = False  # it reads headings, not the text of a scope

    def prepare(self, spec: RuleSpec, problem) -> None:  # type: ignore[no-untyped-def]
        if spec.fields["max-words"] < 1:
            problem("max-words", "must be at least 1")

    def check_document(self, rule: UserRule, doc: Document, ctx: RuleContext) -> None:
        limit = rule.spec.fields["max-words"]
        for heading in doc.headings:
            words = len(heading.text.split())
            if words > limit:
                rule.report(ctx, doc, heading.span, words=words, max=limit)


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [heading_period]


@hookimpl
def coursecheck_rule_kinds() -> list[RuleKind]:
    return [LongHeading()]
