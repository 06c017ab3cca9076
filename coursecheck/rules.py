"""How a rule is declared, and what it is handed when it runs.

A rule is a function decorated with :func:`rule`; its docstring is its documentation, shown
by ``coursecheck rule ID``, written into SARIF ``help`` and the README's rule table. Write it
like ruff's rule docs, with these sections::

    One line: what the rule finds.

    ## What it does
    ## Why it matters
    ## Example      (a bad file, "Reported at line L, column C.", "Use instead:", a good file)
    ## How to fix
    ## Fix safety   (a rule with a fix: when it is safe, what --fix does with it)
    ## Options      (generated from the declared options if absent)

The example runs in tests/test_rule_examples.py: the rule must fire on the bad file at the
stated place and not on the good one. A ```` ```toml ```` fence before the bad file adds
to the config, and ``In `PATH`:`` names the file when the rule reads its path.

A document rule receives ``(doc, ctx)`` for every file it applies to; a course rule
(``course=True``) receives ``(course, ctx)`` once. Both report through ``ctx``.

Per-file work and course-wide work (what keeps big courses fast)
----------------------------------------------------------------
A run has two stages. The *per-file stage* parses each file and runs the document rules;
it runs in worker processes on big courses and its result is cached by content hash, so
an unchanged file is neither parsed nor checked again. The *course stage* runs the course
rules once, on a :class:`~coursecheck.model.Course` whose lessons are lightweight records
(:mod:`coursecheck.records`): relpath, ids, aliases, order, frontmatter with places,
headings, links, components, comments and line count are at hand; ``doc.source``,
``doc.lines``, ``doc.segments`` and ``doc.code_blocks`` are loaded again on first use (a
re-read or a re-parse of that file).

So a course rule that needs the text of every lesson should not read ``doc.segments``
in its check: it declares a ``summarize`` step that runs in the per-file stage and returns
small picklable data (counts, matched offsets...), and reads those summaries back::

    @rule("team/term-count", course=True)
    def term_count(course, ctx):
        total = sum(data for data in ctx.summaries().values())
        ...

    @term_count.summarizer
    def _count(doc, ctx):            # per file, cached, maybe in another process
        return len(PATTERN.findall(doc.source))

``ctx.summaries()`` maps relpath -> the data ``summarize`` returned for that file (files
for which it returned None are absent). A document rule may also leave data for a course
rule in ``ctx.summary`` (a dict for the file being checked). Summaries, like per-file
findings, are cached: they may depend only on the file, the config, the plugins and the
course's data files (which document rules can read through ``ctx.course.data_files``).

Course rules whose findings move with their lines
-------------------------------------------------
The course stage's findings are stored between runs and reused while nothing a course rule
can see has changed (:mod:`coursecheck.coursecache`). An edit that only moves things (a
paragraph inserted at the top of a lesson moves every heading and link below it) changes
what course rules see, so they run again: at 5,000 lessons that is most of a second.

A course rule declared with ``relocatable=True`` promises that it reads line numbers and
source offsets only to report them: which findings it makes, their messages, anchors,
columns and what it publishes do not depend on where a lesson's elements are, only on what
they are. For such a rule, after an edit that changes where things are in some files but
not their *shape* (:func:`coursecheck.records.shape`: the view without line numbers and
offsets), coursecheck does not run it: it takes the stored findings and moves those in the
edited files with their lines. A rule that quotes a line number in a message ("links to X
(line 12)"), orders findings by line, or measures distances between lines must not declare
it. A relocatable rule reads no summaries but its own (``ctx.summaries()``): only those are
compared between the two versions. Findings that carry a fix are never moved (the rule
runs again). The stored course stage is used only when every course rule's reads are
recorded (:func:`coursecheck.coursecache.trusted`: coursecheck's own rules today), so a
plugin's course rule gains nothing from the flag yet.
"""

from __future__ import annotations

import builtins
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coursecheck.model import Document, Edit, Finding, Fix
from coursecheck.text import MESSAGE_MAX, SNIPPET_LINE_MAX, Span, bounded_anchor, quote

if TYPE_CHECKING:
    from coursecheck.config import Config
    from coursecheck.model import Course

DOCUMENT_KINDS = ("markdown", "mdx")


@dataclass(frozen=True, slots=True)
class Option:
    """A rule option: its name, type, default and help.

    ``type`` is one of ``str``, ``int``, ``float``, ``bool``, ``list`` or ``dict``; ``item``
    types the elements of a list. ``regex=True`` makes the config loader compile the value
    (or each element) so a bad pattern is a config error with its line.
    """

    name: str
    type: type
    default: Any
    help: str
    item: builtins.type | None = None  # (``type`` is the field above)
    choices: tuple[Any, ...] = ()
    regex: bool = False

    def describe_type(self) -> str:
        if self.type is list and self.item is not None:
            return f"list of {self.item.__name__}"
        return self.type.__name__


@dataclass(slots=True)
class Rule:
    id: str
    check: Callable[..., Iterable[Finding] | None]
    level: str = "warning"
    options: tuple[Option, ...] = ()
    tags: tuple[str, ...] = ()
    course: bool = False
    kinds: tuple[str, ...] = DOCUMENT_KINDS
    lessons_only: bool = False
    fixable: bool = False
    plugin: str = ""  # set when registered
    docs: str = ""
    # Course rules: ``summarize(doc, ctx) -> picklable data | None``, run per file in the
    # per-file stage (cached, parallel); the check reads ``ctx.summaries()``.
    summarize: Callable[..., Any] | None = None
    # Course rules: the rule reads line numbers and offsets only to report them (see
    # "Course rules whose findings move with their lines" above).
    relocatable: bool = False

    def summarizer(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: declare ``fn(doc, ctx)`` as this course rule's per-file summary step."""
        self.summarize = fn
        return fn

    @property
    def family(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def name(self) -> str:
        """A PascalCase name (SARIF ``reportingDescriptor.name``)."""
        tail = self.id.split("/", 1)[-1]
        return "".join(part.capitalize() for part in re.split(r"[-_/]", tail) if part)

    @property
    def summary(self) -> str:
        return self.docs.strip().splitlines()[0].strip() if self.docs.strip() else self.id

    def option(self, name: str) -> Option | None:
        for opt in self.options:
            if opt.name == name:
                return opt
        return None

    def defaults(self) -> dict[str, Any]:
        return {opt.name: opt.default for opt in self.options}

    def full_docs(self) -> str:
        """The docstring, with an Options section generated when it has none."""
        text = self.docs.strip()
        if self.options and "## Options" not in text:
            lines = ["", "## Options", ""]
            for opt in self.options:
                default = _toml_repr(opt.default)
                extra = f" One of: {', '.join(map(str, opt.choices))}." if opt.choices else ""
                lines.append(f"- `{opt.name}` ({opt.describe_type()}, default `{default}`): {opt.help}{extra}")
            text += "\n" + "\n".join(lines)
        return text


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_repr(v)}" for k, v in value.items()) + " }"
    return str(value)


def rule(
    rule_id: str,
    *,
    level: str = "warning",
    options: Iterable[Option] = (),
    tags: Iterable[str] = (),
    course: bool = False,
    kinds: Iterable[str] = DOCUMENT_KINDS,
    lessons_only: bool = False,
    fixable: bool = False,
    relocatable: bool = False,
) -> Callable[[Callable[..., Any]], Rule]:
    """Declare a rule. The decorated function becomes a :class:`Rule`."""

    def decorate(fn: Callable[..., Any]) -> Rule:
        return Rule(
            id=rule_id,
            check=fn,
            level=level,
            options=tuple(options),
            tags=tuple(tags),
            course=course,
            kinds=tuple(kinds),
            lessons_only=lessons_only,
            fixable=fixable,
            relocatable=relocatable,
            docs=inspect.getdoc(fn) or "",
        )

    return decorate


# The anchor of the finding that stands for those a rule left out in a file (after its id).
LIMIT_ANCHOR = ": findings over the limit"


def is_limit_note(finding: Finding) -> bool:
    """Whether ``finding`` says how many findings of its rule were left out in its file."""
    return finding.anchor == finding.rule_id + LIMIT_ANCHOR


def bound(finding: Finding) -> Finding:
    """Cut what a finding holds of the repository's text to bounded sizes (see "bounded
    quotes" in :mod:`coursecheck.text`): its snippet to a window, its message and anchor. A
    finding of ordinary text is returned unchanged."""
    if len(finding.snippet) > SNIPPET_LINE_MAX and finding.snippet_column == 1 and not finding.snippet_cut:
        finding.set_snippet(finding.snippet)  # a whole line a rule put there
    if len(finding.message) > MESSAGE_MAX:
        finding.message = quote(finding.message, MESSAGE_MAX)
    finding.anchor = bounded_anchor(finding.anchor)
    return finding


class RuleContext:
    """What a running rule sees: its options, the config, the course, and ``report``.

    ``max_findings`` (a number, or a function of the file's relpath; 0 or None = no limit):
    the findings kept per file. Those reported beyond it are counted, not kept, and
    :meth:`limit_notes` makes one finding per file that says how many were left out (a rule
    may report 10^5 findings on one hostile line: memory, the cache entry and the reports
    stay bounded)."""

    def __init__(
        self,
        rule: Rule,
        config: Config,
        options: dict[str, Any],
        course: Course | None = None,
        options_for: Callable[[str], dict[str, Any]] | None = None,
        max_findings: int | Callable[[str], int] | None = None,
    ) -> None:
        self.rule = rule
        self.config = config
        self.options = options
        self.course = course
        self.findings: list[Finding] = []
        self._options_for = options_for
        self._max_findings = max_findings
        self._kept: dict[str, int] = {}  # relpath -> findings kept
        self._left_out: dict[str, tuple[int, Finding]] = {}  # relpath -> (how many, the first)
        # Per-file stage: the summary of the file being checked (see the module docs).
        self.summary: dict[str, Any] | None = None

    def summaries(self, key: str | None = None) -> dict[str, Any]:
        """Course stage: relpath -> the per-file summary stored under ``key`` (default: this
        rule's id, i.e. what its ``summarize`` step returned)."""
        if self.course is None:
            return {}
        key = key or self.rule.id
        summaries = self.course.summaries
        part = getattr(summaries, "part", None)  # restored one rule's parts at a time (a warm run's)
        if part is not None:
            return dict(part(key))
        return {rel: data[key] for rel, data in summaries.items() if key in data}

    def options_for(self, relpath: str) -> dict[str, Any]:
        """Options as overridden for one file (course rules read per-file thresholds here)."""
        if self._options_for is None:
            return self.options
        return self._options_for(relpath)

    def limit(self, path: str) -> int:
        """The findings kept in file ``path`` at most (0 = no limit)."""
        limit = self._max_findings
        if callable(limit):
            return limit(path)
        return limit or 0

    def keep(self, finding: Finding) -> bool:
        """Count ``finding`` against its file's limit, bounding what it quotes; whether it
        is kept. ``report`` calls it; the engine calls it for findings a rule yields."""
        if self._full(finding.path):
            self._leave_out(bound(finding))
            return False
        bound(finding)
        self._kept[finding.path] += 1
        return True

    def _full(self, path: str) -> bool:
        """Whether file ``path`` has its limit of kept findings."""
        kept = self._kept.setdefault(path, 0)
        limit = self.limit(path)
        return bool(limit) and kept >= limit

    def count_if_full(self, path: str) -> bool:
        """Whether file ``path`` has its limit of findings and one left out already; if so,
        the finding about to be reported is counted as left out too, and the rule need not
        make it (its message, its suggestions): a rule reporting thousands in one file asks
        before each."""
        if not (self._full(path) and path in self._left_out):
            return False
        count, first = self._left_out[path]
        self._left_out[path] = (count + 1, first)
        return True

    def _leave_out(self, finding: Finding) -> None:
        count, first = self._left_out.get(finding.path, (0, finding))
        self._left_out[finding.path] = (count + 1, first)

    @property
    def left_out(self) -> bool:
        """Whether findings were left out by the limit (since the last :meth:`limit_notes`)."""
        return bool(self._left_out)

    def limit_notes(self) -> list[Finding]:
        """One finding for each file where findings were left out by the limit, at the place of
        the first left out: how many more there are and how to see them all."""
        notes = []
        for path, (count, first) in self._left_out.items():
            limit = self.limit(path)
            more = f"{count:,} more finding{'s' if count != 1 else ''} of {self.rule.id}"
            notes.append(
                Finding(
                    self.rule.id,
                    f"{more} in this file {'are' if count != 1 else 'is'} not reported: at most {limit:,} are "
                    f"reported per rule and file; to see them all, set "
                    f'[rules] "{self.rule.id}" = {{ max-findings = 0 }}',
                    path,
                    first.span,
                    level=first.level,
                    snippet=first.snippet,
                    plugin=self.rule.plugin,
                    anchor=self.rule.id + LIMIT_ANCHOR,
                    snippet_column=first.snippet_column,
                    snippet_cut=first.snippet_cut,
                )
            )
        self._left_out.clear()
        return notes

    def report(
        self,
        doc: Document,
        start: int,
        end: int | None,
        message: str,
        *,
        fix: Fix | None = None,
        anchor: str = "",
        related: Iterable[tuple[str, Span, str]] = (),
        level: str | None = None,
    ) -> Finding:
        """Report at source offsets ``start``..``end`` of ``doc``. Past the file's limit the
        finding is only counted: the one returned then has no place (line 1, column 1)."""
        if self._full(doc.relpath) and doc.relpath in self._left_out:
            # Only counted (see report_span): its place is not needed, nor worth a search.
            return self.report_span(doc.relpath, Span.point(1, 1), message, level=level, snippet="")
        return self.report_span(
            doc.relpath, doc.span(start, end), message, doc=doc, fix=fix, anchor=anchor, related=related, level=level
        )

    def report_span(
        self,
        path: str,
        span: Span,
        message: str,
        *,
        doc: Document | None = None,
        fix: Fix | None = None,
        anchor: str = "",
        related: Iterable[tuple[str, Span, str]] = (),
        level: str | None = None,
        snippet: str | tuple[str, int, bool] | None = None,
    ) -> Finding:
        """Report at a span already known (e.g. a frontmatter place). ``snippet``: the
        text of the span's line when the rule has it (a course rule keeps it in its summary,
        so the file is not read again), or a window of it already cut, ``(text, column,
        cut)`` (:func:`coursecheck.text.snippet_window`); by default it is taken from ``doc``.
        Returns the finding (not kept when the file already has the rule's limit of them)."""
        if self._full(path):
            # Counted, not kept: only the first one left out is needed whole (for the note).
            left_out = Finding(self.rule.id, message, path, span, level=level or "", plugin=self.rule.plugin)
            if path not in self._left_out:
                left_out.set_snippet(snippet if snippet is not None else doc.lines.text_at(span.line) if doc else "")
            self._leave_out(bound(left_out))
            return left_out
        if snippet is None:
            snippet = doc.lines.text_at(span.line) if doc is not None else ""
        finding = Finding(
            self.rule.id,
            message,
            path,
            span,
            level=level or "",
            fix=fix,
            related=list(related),
            plugin=self.rule.plugin,
            anchor=anchor,
        ).set_snippet(snippet)
        self._kept[path] += 1
        self.findings.append(bound(finding))
        return finding

    def replace(self, doc: Document, start: int, end: int, replacement: str, description: str) -> Fix:
        """A one-edit fix replacing ``doc.source[start:end]``."""
        return Fix(description, [Edit(doc.span(start, end), replacement)])
