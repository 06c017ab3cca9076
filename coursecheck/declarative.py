"""Declarative rules: ``[[rule]]`` tables in TOML become real coursecheck rules.

A course team writes a rule in its config or in a rule pack, without Python::

    [[rule]]
    id = "team/no-kafka-lowercase"
    kind = "substitution"
    scope = "prose"
    swap = { "кафка" = "Kafka" }
    message = "Write '{expected}', not '{match}'"

      [[rule.example]]
      bad = "Данные уходят в кафка."
      ok = "Данные уходят в Kafka."

This module is the model shared by every kind of rule:

* :class:`RuleKind` — what a kind is (``existence``, ``substitution``...). Kinds are
  provided by plugins through the ``coursecheck_rule_kinds`` hook; the built-in ones live in
  :mod:`coursecheck.builtin.rulekinds`.
* :class:`RuleSpec` — one validated ``[[rule]]`` table: common fields (id, level, scope,
  files, message, examples...) and the kind's own fields.
* :class:`UserRule` — a spec at work: it becomes a :class:`coursecheck.rules.Rule`, so
  levels, overrides, ``--select``, suppressions, SARIF and ``coursecheck rule ID`` treat it
  like any built-in rule. It extracts the text of its scopes from a document, finds its
  terms or patterns there, and formats messages from placeholders.
* :func:`run_examples` — the rule's ``[[rule.example]]`` snippets, checked by
  ``coursecheck test-rules`` and the test suite.

Literal terms go through :class:`coursecheck.match.TermMatcher` (Unicode word boundaries,
Russian inflection), so an occurrence means here what it means to the terminology rules.
User regexes use the ``regex`` module, whose matching takes a time limit: a pattern that
backtracks catastrophically is reported, it does not hang the run.
"""

from __future__ import annotations

import bisect
import fnmatch
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import regex

from coursecheck.config import ConfigProblem, did_you_mean, shipped_pack, shipped_pack_names
from coursecheck.globs import invalid_glob, matches
from coursecheck.match import TermMatcher, stem
from coursecheck.model import Course, Document, Finding, Fix, Segment
from coursecheck.rules import DOCUMENT_KINDS, Rule, RuleContext
from coursecheck.text import Span, quote

if TYPE_CHECKING:
    from coursecheck.config import Config

ALL_KINDS = ("markdown", "mdx", "json", "yaml", "text")
LEVELS = ("error", "warning", "note", "off")
REGEX_TIMEOUT = 1.0  # seconds a user pattern may take on one file
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_./-]*$")

# Scopes a rule can read, with what the argument after ":" selects.
SCOPES = {
    "prose": "paragraph, list, quote and table text (markup removed; link text included)",
    "headings": "heading text",
    "code": "fenced and indented code blocks; `code:LANG` selects a language (glob: `code:sh*`)",
    "inline-code": "`inline code` spans",
    "link-text": "the text of Markdown links",
    "frontmatter": "string values of the frontmatter; `frontmatter:FIELD` selects a field",
    "prop": "string props of MDX components; `prop:Component.prop` selects one (e.g. `prop:Mermaid.chart`)",
    "file": "the whole file as written (any file type, markup included)",
}
SCOPES_WITH_ARGUMENT = ("code", "frontmatter", "prop")
COMMON_PLACEHOLDERS = ("rule", "file")

# Markup the parser removes from prose, headings and link text: a term containing it can
# never match there (the classic silent no-op: "`kubectl`" searched in prose).
_MARKUP = re.compile(r"`|\*\*|__|\]\(|<!--|\{/\*|^#{1,6}\s|^>\s|^[-*+]\s")
_SINGLE_LINE_SCOPES = ("headings", "link-text", "inline-code", "frontmatter")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*")
_SEPARATOR = "\n\x00\n"  # between pieces of scope text: no term or word crosses it


class PatternTimeout(Exception):
    """A user regex took longer than :data:`REGEX_TIMEOUT` on one text."""

    def __init__(self, pattern: str) -> None:
        super().__init__(pattern)
        self.pattern = pattern
        # The outcome depends on the machine's speed: a course stage that meets one is not stored.
        from coursecheck import coursecache

        coursecache.timing_dependent()


# -- fields ---------------------------------------------------------------------------------

FIELD_TYPES = {
    "str": "a string",
    "strs": "a string or a list of strings",
    "int": "an integer",
    "number": "a number",
    "bool": "true or false",
    "table": "a table of strings (key = value)",
    "list": "a list",
    "any": "a value",
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field of a ``[[rule]]`` table: its TOML name, type (a key of :data:`FIELD_TYPES`),
    help, whether it is required, its default and, for strings, the allowed values."""

    name: str
    type: str
    help: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()


COMMON_FIELDS = (
    FieldSpec("id", "str", "rule id, `family/name` (e.g. `team/no-kafka-lowercase`)", required=True),
    FieldSpec("kind", "str", "what the rule checks (existence, substitution, ...)", required=True),
    FieldSpec("level", "str", "error, warning, note or off", default="warning", choices=LEVELS),
    FieldSpec("message", "str", "the finding's message; placeholders such as {match} are filled in"),
    FieldSpec("docs", "str", "documentation (Markdown): first line is the summary"),
    FieldSpec("tags", "strs", "free tags, shown in `coursecheck rule ID` and SARIF", default=[]),
    FieldSpec("scope", "strs", "where to look: " + ", ".join(SCOPES)),
    FieldSpec("files", "strs", "only files matching these globs (relative to the project root)", default=[]),
    FieldSpec("exclude", "strs", "skip files matching these globs", default=[]),
    FieldSpec("ignore-case", "bool", "match terms in any letter case", default=True),
    FieldSpec("inflect", "bool", "Russian terms also match their inflected forms", default=False),
    FieldSpec("regex", "bool", "terms are regular expressions, not literal words", default=False),
    FieldSpec("example", "list", "[[rule.example]] tables with `bad` and `ok` snippets", default=[]),
)
EXAMPLE_FIELDS = {
    "bad": "a snippet (or a list: several lessons in course order) the rule must report",
    "ok": "a snippet (or a list) the rule must not report",
    "count": "how many findings `bad` must produce (default: at least one)",
    "line": "line of the first finding in `bad`",
    "column": "column of the first finding in `bad`",
    "message": "text the first finding's message must contain",
    "path": "file name the snippet is checked as (default example.md; .mdx for MDX)",
}


# -- rule kinds -----------------------------------------------------------------------------


class RuleKind:
    """A kind of declarative rule. Subclass it in a plugin and return an instance from the
    ``coursecheck_rule_kinds`` hook (see :mod:`coursecheck.hookspecs`).

    Class attributes describe the kind; methods validate a spec and check a course:

    * ``fields``: the kind's own :class:`FieldSpec` s (common fields come for free);
    * ``placeholders``: what messages may use besides ``{rule}`` and ``{file}``;
    * ``scoped``: whether the kind reads scope text (and accepts ``scope``);
    * ``default_scope``: scopes used when a rule names none;
    * :meth:`prepare`: check field values beyond their types and compile patterns into
      ``spec.state`` (report problems with ``problem(field, message)``);
    * :meth:`is_course`: whether a spec runs once per course (:meth:`check_course`)
      instead of per file (:meth:`check_document`).
    """

    name: str = ""
    summary: str = ""
    fields: tuple[FieldSpec, ...] = ()
    placeholders: tuple[str, ...] = ()
    scoped: bool = True
    default_scope: tuple[str, ...] = ("prose",)
    default_message: str = "{rule}"
    fixable: bool = False  # whether findings carry a fix (shown by `coursecheck rules`)

    def prepare(self, spec: RuleSpec, problem: Callable[[str, str], None]) -> None:
        """Validate and compile ``spec`` (types are already checked)."""

    def is_course(self, spec: RuleSpec) -> bool:
        return False

    def describe(self, spec: RuleSpec) -> str:
        """One line saying what this rule finds (its summary when ``docs`` is absent)."""
        return self.summary

    def check_document(self, rule: UserRule, doc: Document, ctx: RuleContext) -> None:
        raise NotImplementedError

    def check_course(self, rule: UserRule, course: Course, ctx: RuleContext) -> None:
        raise NotImplementedError


# -- scopes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    argument: str = ""

    def __str__(self) -> str:
        return f"{self.name}:{self.argument}" if self.argument else self.name


def parse_scope(text: str) -> tuple[Scope | None, str]:
    """``("code:bash")`` -> Scope("code", "bash"); on error, (None, why)."""
    name, _, argument = text.strip().partition(":")
    name = name.strip()
    argument = argument.strip()
    if name not in SCOPES:
        return None, f"unknown scope '{name}'{did_you_mean(name, SCOPES)} (known: {', '.join(SCOPES)})"
    if argument and name not in SCOPES_WITH_ARGUMENT:
        return None, f"scope '{name}' takes no ':{argument}' (only {', '.join(SCOPES_WITH_ARGUMENT)} do)"
    if ":" in text and not argument:
        return None, f"scope '{text}' has an empty selector after ':'"
    return Scope(name, argument), ""


def _slice(seg: Segment, i: int, j: int, scope: str, info: str = "") -> Segment:
    """The part ``seg.text[i:j]`` as a segment of its own, with exact source anchors."""
    anchors = [(0, seg.offset(i))] + [(ti - i, so) for ti, so in seg.anchors if i < ti < j]
    return Segment(scope, seg.text[i:j], anchors, info)


def _text_index(seg: Segment, source_offset: int) -> int:
    """The index in ``seg.text`` of the first character at or after ``source_offset``."""
    best = 0
    for ti, so in seg.anchors:
        if so <= source_offset:
            best = ti + (source_offset - so)
        else:
            return min(best, ti)
    return min(best, len(seg.text))


def _link_text_segments(doc: Document) -> list[Segment]:
    pieces: list[Segment] = []
    carriers = [s for s in doc.segments if s.scope in ("prose", "heading") and s.text]
    starts = [s.anchors[0][1] for s in carriers]
    for link in doc.links:
        if link.origin != "markdown" or not link.text.strip():
            continue
        opening = doc.lines.offset(link.span.line, link.span.column)  # the "["
        k = bisect.bisect_right(starts, opening + 1) - 1
        if k < 0:
            continue
        seg = carriers[k]
        i = seg.text.find(link.text, max(0, _text_index(seg, opening + 1) - 2))
        if i != -1:
            pieces.append(_slice(seg, i, i + len(link.text), "link-text", link.href))
    return pieces


def _selects(scope: Scope, seg: Segment) -> bool:
    if not scope.argument:
        return True
    info = seg.info
    if scope.name == "code":
        return fnmatch.fnmatchcase(info.lower(), scope.argument.lower())
    if scope.name == "frontmatter":
        return fnmatch.fnmatchcase(info, scope.argument) or info.startswith(scope.argument + ".")
    return fnmatch.fnmatchcase(info, scope.argument)


_MODEL_SCOPE = {"prose": "prose", "headings": "heading", "code": "code", "inline-code": "inline_code"}
_MODEL_SCOPE.update(frontmatter="frontmatter", prop="prop")


def scope_segments(doc: Document, scopes: tuple[Scope, ...]) -> list[Segment]:
    """The pieces of ``doc`` the scopes select, in document order."""
    pieces: list[Segment] = []
    for scope in scopes:
        if scope.name == "file":
            if doc.source:
                pieces.append(Segment("file", doc.source, [(0, 0)], ""))
        elif scope.name == "link-text":
            pieces.extend(_link_text_segments(doc))
        else:
            model_scope = _MODEL_SCOPE[scope.name]
            pieces.extend(s for s in doc.segments if s.scope == model_scope and s.text and _selects(scope, s))
    if len(scopes) > 1:
        pieces.sort(key=lambda s: s.anchors[0][1])
    return pieces


@dataclass(slots=True)
class ScopeText:
    """The text of a document's scopes joined into one string, so that a rule runs one
    compiled pattern per file instead of one per paragraph."""

    text: str
    starts: list[int]
    pieces: list[Segment]
    _folded: str | None = None

    @property
    def folded(self) -> str:
        """The text lower-cased with ё read as е, for matchers' quick "can it be here?" test."""
        if self._folded is None:
            self._folded = fold(self.text)
        return self._folded

    @classmethod
    def of(cls, pieces: list[Segment]) -> ScopeText:
        starts: list[int] = []
        position = 0
        for seg in pieces:
            starts.append(position)
            position += len(seg.text) + len(_SEPARATOR)
        return cls(_SEPARATOR.join(s.text for s in pieces), starts, pieces)

    def locate(self, start: int, end: int) -> tuple[Segment, int, int] | None:
        """(piece, source start, source end) of ``text[start:end]``; None when it crosses pieces."""
        k = bisect.bisect_right(self.starts, start) - 1
        if k < 0:
            return None
        seg = self.pieces[k]
        i, j = start - self.starts[k], end - self.starts[k]
        if j > len(seg.text):
            return None
        first, last = seg.range(i, j)
        return seg, first, last


# -- matching -------------------------------------------------------------------------------


@dataclass(slots=True)
class Hit:
    """An occurrence in a document: source offsets, the matched text, the piece it is in."""

    start: int
    end: int
    text: str
    segment: Segment | None
    match: Any = None  # the regex match, for kinds that expand groups
    # A hit a course-level rule takes from a file's summary: where it is and its line's
    # text, so that reporting it reads nothing of the file (see UserRule.summarize).
    span: Span | None = None
    line: str | None = None


def fold(text: str) -> str:
    return text.lower().replace("ё", "е")


class Matcher:
    """Literal terms (Unicode word boundaries, optional Russian inflection) or regexes."""

    def __init__(self, terms: list[str], *, is_regex: bool, ignore_case: bool, inflect: bool) -> None:
        self.terms = terms
        self.is_regex = is_regex
        self.term_matcher: TermMatcher | None = None
        self.patterns: list[Any] = []
        # Substrings one of which any match contains (first word, or its Russian stem): a
        # text holding none of them is skipped without running the pattern, which scans
        # slowly because each alternative starts with a look-behind.
        self.needles: tuple[str, ...] = ()
        if is_regex:
            flags = regex.IGNORECASE if ignore_case else 0
            self.patterns = [regex.compile(t, flags | regex.VERSION0) for t in terms]
        else:
            self.term_matcher = TermMatcher(*terms, case_sensitive=not ignore_case, inflect=inflect)
            # Case-sensitive plain terms are looked for as written; the others in folded text.
            self.exact = not ignore_case and not inflect
            self.needles = tuple({self._needle(t, inflect) for t in terms if t.split()})

    def _needle(self, term: str, inflect: bool) -> str:
        """The longest word of ``term`` (its stem when inflected): every match contains it."""
        needles = []
        for word in term.split():
            if inflect and _CYRILLIC.fullmatch(word) and len(stem(word)) >= 3:
                needles.append(stem(word))
            else:
                needles.append(word if self.exact else fold(word))
        return max(needles, key=len)

    def could_match(self, text: str, folded: str) -> bool:
        haystack = text if self.exact else folded
        return not self.needles or any(n in haystack for n in self.needles)

    def finditer(self, text: str, folded: str | None = None) -> Iterator[tuple[int, int, str, Any]]:
        if self.term_matcher is not None:
            if folded is not None and not self.could_match(text, folded):
                return
            for m in self.term_matcher.finditer(text):
                yield m.start, m.end, m.text, None
            return
        if len(self.patterns) == 1:
            yield from self._run(self.patterns[0], text)
            return
        found = [hit for p in self.patterns for hit in self._run(p, text)]
        found.sort(key=lambda h: (h[0], -h[1]))
        last_end = -1
        for hit in found:
            if hit[0] >= last_end:  # overlapping matches of several patterns count once
                last_end = hit[1]
                yield hit

    @staticmethod
    def _run(pattern: Any, text: str) -> list[tuple[int, int, str, Any]]:
        try:
            return [
                (m.start(), m.end(), m.group(), m)
                for m in pattern.finditer(text, timeout=REGEX_TIMEOUT)
                if m.end() > m.start()
            ]
        except TimeoutError:
            raise PatternTimeout(pattern.pattern) from None


# -- the spec -------------------------------------------------------------------------------


@dataclass(slots=True)
class Example:
    index: int
    bad: list[str]
    ok: list[str]
    count: int | None
    line: int | None
    column: int | None
    message: str | None
    path: str | None
    where: tuple[str, int]


@dataclass(slots=True)
class RuleSpec:
    """A validated ``[[rule]]`` table."""

    index: int  # position in the merged ``rule`` array (for ``config.where``)
    id: str
    kind: RuleKind
    level: str
    message: str
    docs: str
    tags: list[str]
    scopes: tuple[Scope, ...]
    files: list[str]
    exclude: list[str]
    ignore_case: bool
    inflect: bool
    is_regex: bool
    examples: list[Example]
    fields: dict[str, Any]  # the kind's own fields, defaults filled in
    where: tuple[str, int]  # file and line of the definition
    raw: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # what the kind compiled

    def matcher(self, terms: list[str], problem: Callable[[str, str], None], key: str) -> Matcher | None:
        """Compile ``terms`` (the field ``key``) with the rule's case, inflection and regex options."""
        if not terms:
            problem(key, "must name at least one term")
            return None
        for term in terms:
            if not term.strip():
                problem(key, "has an empty term; it would match nothing (or everything)")
                return None
        if self.is_regex:
            return self.regex_matcher(terms, problem, key)
        return Matcher(terms, is_regex=False, ignore_case=self.ignore_case, inflect=self.inflect)

    def regex_matcher(self, patterns: list[str], problem: Callable[[str, str], None], key: str) -> Matcher | None:
        flags = regex.IGNORECASE if self.ignore_case else 0
        for pattern in patterns:
            try:
                compiled = regex.compile(pattern, flags | regex.VERSION0)
            except regex.error as exc:
                problem(key, f"invalid regular expression {pattern!r}: {exc}")
                return None
            try:
                empty = compiled.fullmatch("", timeout=REGEX_TIMEOUT) is not None
            except TimeoutError:
                empty = False
            if empty:
                problem(key, f"regular expression {pattern!r} matches the empty string; it would report everywhere")
                return None
        return Matcher(patterns, is_regex=True, ignore_case=self.ignore_case, inflect=False)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _type_problem(spec: FieldSpec, value: Any) -> str | None:
    kind = spec.type
    if kind == "str" and not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if kind == "strs" and not (
        isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    ):
        return "must be a string or a list of strings"
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return f"must be an integer, not {type(value).__name__}"
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"must be a number, not {type(value).__name__}"
    if kind == "bool" and not isinstance(value, bool):
        return f"must be true or false, not {type(value).__name__}"
    if kind == "table" and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
        return 'must be a table of strings, e.g. { "wrong" = "right" }'
    if kind == "list" and not isinstance(value, list):
        return f"must be a list, not {type(value).__name__}"
    if spec.choices and isinstance(value, str) and value not in spec.choices:
        return f"must be one of {', '.join(spec.choices)}, not '{value}'{did_you_mean(value, spec.choices)}"
    return None


def placeholders_in(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template.replace("{{", "").replace("}}", ""))


# Placeholders that hold the repository's text (what a rule found), cut in messages.
_QUOTED_VALUES = frozenset({"match", "value"})


def format_message(template: str, values: dict[str, Any]) -> str:
    """Fill ``{name}`` placeholders (``{{`` and ``}}`` are literal braces). Only plain names:
    no attribute access or format specs, so a message cannot reach into Python objects."""

    def fill(m: re.Match[str]) -> str:
        value = values.get(m.group(1))
        return "" if value is None else str(value)

    parts = template.split("{{")
    out = []
    for part in parts:
        pieces = part.split("}}")
        out.append("}".join(_PLACEHOLDER.sub(fill, p) for p in pieces))
    return "{".join(out)


def collect_kinds(pm: Any) -> tuple[dict[str, RuleKind], list[str]]:
    """Every rule kind the plugins provide; and problems with the providers."""
    from coursecheck.plugins import call_each

    notes: list[Any] = []
    kinds: dict[str, RuleKind] = {}
    trouble: list[str] = []
    for name, provided in call_each(
        pm, "coursecheck_rule_kinds", notes, lambda v: isinstance(v, (list, tuple)), "a list of RuleKind"
    ):
        for kind in provided:
            if not isinstance(kind, RuleKind) or not kind.name:
                trouble.append(f"plugin '{name}' returned {kind!r} from coursecheck_rule_kinds")
            elif kind.name in kinds:
                trouble.append(f"plugin '{name}' redefines rule kind '{kind.name}'; the first definition is kept")
            else:
                kinds[kind.name] = kind
    trouble.extend(n.message for n in notes)
    return kinds, trouble


def parse_rules(
    config: Config,
    kinds: dict[str, RuleKind],
    taken_ids: set[str],
    trouble: list[str] = (),  # type: ignore[assignment]
) -> tuple[list[RuleSpec], list[ConfigProblem], list[tuple[str, int]]]:
    """Validate the config's ``[[rule]]`` tables.

    Returns the valid specs, the problems (file:line, key, message), and the (id, index) of
    definitions that had problems, so a placeholder rule can still answer to their id.
    """
    problems: list[ConfigProblem] = []
    specs: list[RuleSpec] = []
    broken: list[tuple[str, int]] = []
    tables = config.sections.get("rule", [])

    def report(key: tuple[Any, ...], message: str) -> None:
        file, line = config.where(*key)
        problems.append(ConfigProblem(file, line, ".".join(str(k) for k in key), message))

    if isinstance(tables, dict):
        report(("rule",), "must be an array of tables: write [[rule]] (two brackets), one per rule")
        return specs, problems, broken
    if not isinstance(tables, list):
        report(("rule",), "must be an array of tables: [[rule]]")
        return specs, problems, broken
    first_seen: dict[str, int] = {}
    for index, table in enumerate(tables):
        before = len(problems)
        spec = _parse_one(config, index, table, kinds, report, trouble)
        if spec is not None:
            if spec.id in taken_ids:
                report(("rule", index, "id"), f"'{spec.id}' is already a built-in rule id; choose another family")
            elif spec.id in first_seen:
                _, line = config.where("rule", first_seen[spec.id], "id")
                report(("rule", index, "id"), f"rule '{spec.id}' is defined twice (first at line {line})")
            first_seen.setdefault(spec.id, index)
        if len(problems) == before and spec is not None:
            specs.append(spec)
        elif (
            isinstance(table, dict)
            and isinstance(table.get("id"), str)
            and table["id"] not in taken_ids
            and first_seen.get(table["id"], index) == index
        ):
            broken.append((table["id"], index))
    return specs, problems, broken


def _parse_one(
    config: Config,
    index: int,
    table: Any,
    kinds: dict[str, RuleKind],
    report: Callable[[tuple[Any, ...], str], None],
    trouble: list[str],
) -> RuleSpec | None:
    key = ("rule", index)
    if not isinstance(table, dict):
        report(key, "each [[rule]] must be a table")
        return None
    rule_id = table.get("id")
    if rule_id is None:
        report(key, "missing 'id' (e.g. id = \"team/no-kafka-lowercase\")")
        return None
    if not isinstance(rule_id, str) or not ID_PATTERN.match(rule_id):
        report((*key, "id"), f"rule id must look like 'family/name' (letters, digits, - _ .), not {rule_id!r}")
        return None
    kind_name = table.get("kind")
    if kind_name is None:
        report(key, f"rule '{rule_id}' has no 'kind' (one of: {', '.join(sorted(kinds))})")
        return None
    if not isinstance(kind_name, str) or kind_name not in kinds:
        extra = f"; {'; '.join(trouble)}" if trouble else ""
        report(
            (*key, "kind"),
            f"unknown rule kind {kind_name!r}{did_you_mean(str(kind_name), kinds)} (known: {', '.join(sorted(kinds))}){extra}",
        )
        return None
    kind = kinds[kind_name]
    known = {f.name: f for f in (*COMMON_FIELDS, *kind.fields)}
    ok = True
    for name, value in table.items():
        spec_field = known.get(name)
        if spec_field is None:
            report(
                (*key, name),
                f"unknown key for a {kind_name} rule{did_you_mean(name, known)} (keys: {', '.join(known)})",
            )
            ok = False
            continue
        why = _type_problem(spec_field, value)
        if why:
            report((*key, name), why)
            ok = False
    for spec_field in kind.fields:
        # After an unknown key ("term"), its did-you-mean says it all.
        if ok and spec_field.required and spec_field.name not in table:
            report(key, f"a {kind_name} rule needs '{spec_field.name}': {spec_field.help}")
            ok = False
    if not ok:
        return None

    scopes: list[Scope] = []
    if "scope" in table and not kind.scoped:
        report((*key, "scope"), f"a {kind_name} rule takes no scope")
        return None
    for text in _as_list(table.get("scope")) or list(kind.default_scope):
        scope, why = parse_scope(text)
        if scope is None:
            report((*key, "scope"), why)
            return None
        scopes.append(scope)
    for glob_key in ("files", "exclude"):
        for pattern in _as_list(table.get(glob_key)):
            why = invalid_glob(pattern)
            if why:
                report((*key, glob_key), f"glob '{pattern}': {why}")
                return None
    message = table.get("message") or kind.default_message
    allowed = (*COMMON_PLACEHOLDERS, *kind.placeholders)
    for name in placeholders_in(message):
        if name not in allowed:
            report(
                (*key, "message"),
                f"unknown placeholder {{{name}}}{did_you_mean(name, allowed)} (a {kind_name} rule has: "
                + ", ".join("{" + p + "}" for p in allowed)
                + ")",
            )
            return None
    examples = _parse_examples(config, index, table.get("example", []), report)
    if examples is None:
        return None
    fields = {f.name: table.get(f.name, f.default) for f in kind.fields}
    spec = RuleSpec(
        index=index,
        id=rule_id,
        kind=kind,
        level=table.get("level", "warning"),
        message=message,
        docs=table.get("docs", ""),
        tags=_as_list(table.get("tags")),
        scopes=tuple(scopes),
        files=_as_list(table.get("files")),
        exclude=_as_list(table.get("exclude")),
        ignore_case=table.get("ignore-case", True),
        inflect=table.get("inflect", False),
        is_regex=table.get("regex", False),
        examples=examples,
        fields=fields,
        where=config.where(*key),
        raw=table,
    )
    failed = False

    def problem(name: str, why: str) -> None:
        nonlocal failed
        failed = True
        report((*key, name), why)

    try:
        kind.prepare(spec, problem)
    except Exception as exc:  # a third-party kind must not crash the config loader
        problem("kind", f"rule kind '{kind_name}' failed to read this rule: {type(exc).__name__}: {exc}")
    return None if failed else spec


def _parse_examples(
    config: Config, index: int, raw: Any, report: Callable[[tuple[Any, ...], str], None]
) -> list[Example] | None:
    out: list[Example] = []
    for n, table in enumerate(raw):
        key = ("rule", index, "example", n)
        if not isinstance(table, dict):
            report(key, "each [[rule.example]] must be a table with 'bad' and/or 'ok'")
            return None
        for name, value in table.items():
            if name not in EXAMPLE_FIELDS:
                report(
                    (*key, name),
                    f"unknown key in an example{did_you_mean(name, EXAMPLE_FIELDS)} (keys: {', '.join(EXAMPLE_FIELDS)})",
                )
                return None
            if name in ("bad", "ok"):
                spec = FieldSpec(name, "strs", "")
            elif name in ("count", "line", "column"):
                spec = FieldSpec(name, "int", "")
            else:
                spec = FieldSpec(name, "str", "")
            why = _type_problem(spec, value)
            if why:
                report((*key, name), why)
                return None
        if "bad" not in table and "ok" not in table:
            report(key, "an example needs 'bad' (must be reported) or 'ok' (must not be)")
            return None
        if "bad" not in table and any(k in table for k in ("count", "line", "column", "message")):
            report(key, "'count', 'line', 'column' and 'message' describe the 'bad' snippet, which is missing")
            return None
        out.append(
            Example(
                index=n,
                bad=_as_list(table.get("bad")),
                ok=_as_list(table.get("ok")),
                count=table.get("count"),
                line=table.get("line"),
                column=table.get("column"),
                message=table.get("message"),
                path=table.get("path"),
                where=config.where(*key),
            )
        )
    return out


# -- the rule at work -------------------------------------------------------------------


STATS_KEY = "declarative.stats"
TRIPPED_KEY = "declarative.tripped"


@dataclass(slots=True)
class RuleStats:
    """What a user rule saw in one run: feeds the no-op report."""

    files: int = 0  # files the rule applied to
    scoped: int = 0  # non-empty scope texts it read
    hits: int = 0


class UserRule:
    """A :class:`RuleSpec` at work; :meth:`as_rule` makes the engine's :class:`Rule`."""

    def __init__(self, spec: RuleSpec) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.tripped: str = ""  # set when a pattern timed out: the rule stops for the run
        self.ignore_globs = False  # examples run on snippets whatever the rule's `files`
        self._example_results: list[ExampleResult] | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def course(self) -> bool:
        return self.kind.is_course(self.spec)

    def as_rule(self) -> Rule:
        scope_names = {s.name for s in self.spec.scopes} if self.kind.scoped else set()
        return Rule(
            id=self.spec.id,
            check=self.check,
            level=self.spec.level,
            tags=("declarative", self.kind.name, *self.spec.tags),
            course=self.course,
            kinds=ALL_KINDS if "file" in scope_names else DOCUMENT_KINDS,
            plugin=f"declarative ({shown_origin(self.spec.where[0])})",
            docs=self.documentation(),
            summarize=self.summarize if self.course and self.kind.scoped and self._matchers() else None,
        )

    def _matchers(self) -> list[Matcher]:
        """The matchers of the rule's compiled state, in a stable order (a course-level kind
        asks for hits of these)."""
        found: list[Matcher] = []

        def walk(value: Any) -> None:
            if isinstance(value, Matcher):
                found.append(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    walk(item)

        for value in self.spec.state.values():
            walk(value)
        return found

    def summarize(self, doc: Document, ctx: RuleContext) -> dict[str, Any] | None:
        """Per file, in the per-file stage (cached, maybe in a worker): the hits of each of
        the rule's matchers with their spans and lines. The course-level check then takes
        them from the summary instead of reading every lesson's text again: the stored
        course stage stays valid across edits that change no hit."""
        if self.tripped or not self.applies_to(doc.relpath):
            return None
        lines: dict[int, str] = {}  # each line a hit is on, once (10^5 hits may share one long line)
        try:
            found = [
                [(h.start, h.end, h.text, span := doc.span(h.start, h.end)) for h in hits]
                for hits in (self.hits(doc, ctx, matcher, count=False) for matcher in self._matchers())
            ]
        except PatternTimeout:
            return None  # the course-level check meets the timeout itself and reports it
        for hits in found:
            for *_, span in hits:
                if span.line not in lines:
                    lines[span.line] = doc.lines.text_at(span.line)
        return {"hits": found, "lines": lines}

    def applies_to(self, relpath: str) -> bool:
        if self.ignore_globs:
            return True
        if self.spec.files and not matches(relpath, self.spec.files):
            return False
        return not (self.spec.exclude and matches(relpath, self.spec.exclude))

    def stats(self, ctx: RuleContext) -> RuleStats:
        if ctx.summary is not None:  # per-file stage: kept with the file's summary (cached)
            table = ctx.summary.setdefault(STATS_KEY, {})
        elif ctx.course is None:
            return RuleStats()
        else:
            table = ctx.course.cache.setdefault(STATS_KEY, {})
        return table.setdefault(self.spec.id, RuleStats())

    # -- entry point for the engine -------------------------------------------------------

    def check(self, subject: Any, ctx: RuleContext) -> None:
        if self.tripped:
            return
        try:
            if isinstance(subject, Document):
                stats = self.stats(ctx)
                if not self.applies_to(subject.relpath):
                    return
                stats.files += 1
                self.kind.check_document(self, subject, ctx)
            else:
                self.kind.check_course(self, subject, ctx)
        except PatternTimeout as exc:
            self.tripped = exc.pattern
            if ctx.summary is not None:  # the no-op report may run in another process
                ctx.summary.setdefault(TRIPPED_KEY, []).append(self.spec.id)
            doc = subject if isinstance(subject, Document) else None
            message = (
                f"pattern {exc.pattern!r} of rule {self.spec.id} took longer than {REGEX_TIMEOUT:g} s"
                + (f" on {doc.relpath}" if doc else "")
                + " (catastrophic backtracking?); the rule is skipped for the rest of the run — simplify the pattern"
            )
            if doc is not None:
                ctx.report_span(doc.relpath, Span.point(1, 1), message, doc=doc, level="error")
            else:
                path, span = definition_place(ctx.config, self.spec)
                ctx.report_span(path, span, message, level="error")

    # -- helpers for kinds --------------------------------------------------------------

    def documents(self, course: Course, ctx: RuleContext) -> list[Document]:
        """The course's documents this rule applies to, lessons first in course order."""
        docs = [*course.lessons, *course.others]
        if "file" in {s.name for s in self.spec.scopes}:
            docs += course.data_files
        chosen = [d for d in docs if self.applies_to(d.relpath)]
        self.stats(ctx).files += len(chosen)
        return chosen

    def scope_text(self, doc: Document, ctx: RuleContext, scopes: tuple[Scope, ...] | None = None) -> ScopeText:
        scopes = scopes or self.spec.scopes
        # Shared by the rules checking the same document one after the other; only the
        # latest document is kept (documents come and go: ids of dead ones are reused).
        cache: dict[Any, Any] = {}
        if ctx.course is not None:
            cache = ctx.course.cache.setdefault("declarative.scope-text", {})
        if cache.get("doc") is not doc:
            cache.clear()
            cache["doc"] = doc
        text = cache.get(scopes)
        if text is None:
            text = cache[scopes] = ScopeText.of(scope_segments(doc, scopes))
        # Counted per text, not per character: the count goes into the file's summary, which
        # keys the stored course stage; a character count would change with every edit.
        self.stats(ctx).scoped += 1 if text.text else 0
        return text

    def hits(self, doc: Document, ctx: RuleContext, matcher: Matcher, *, count: bool = True) -> list[Hit]:
        """Occurrences of ``matcher`` in the rule's scopes of ``doc``, in document order."""
        summarized = self._summarized(doc, ctx, matcher)
        if summarized is not None:
            if count:
                self.stats(ctx).hits += len(summarized)
            return summarized
        text = self.scope_text(doc, ctx)
        out: list[Hit] = []
        for start, end, found, m in matcher.finditer(text.text, text.folded if matcher.needles else None):
            located = text.locate(start, end)
            if located is None:
                continue
            seg, first, last = located
            out.append(Hit(first, last, found, seg, m))
        if count:
            self.stats(ctx).hits += len(out)
        return out

    def _summarized(self, doc: Document, ctx: RuleContext, matcher: Matcher) -> list[Hit] | None:
        """The hits of ``matcher`` in ``doc`` from its summary, in the course stage."""
        if ctx.summary is not None or ctx.course is None:
            return None  # the per-file stage: computed from the document
        summary = ctx.course.summaries.get(doc.relpath, {}).get(self.spec.id)
        if not isinstance(summary, dict):
            return None
        matchers = self._matchers()
        index = next((i for i, m in enumerate(matchers) if m is matcher), None)
        stored = summary.get("hits")
        lines = summary.get("lines")
        if index is None or not isinstance(stored, list) or len(stored) != len(matchers) or not isinstance(lines, dict):
            return None
        return [
            Hit(start, end, text, None, span=span, line=lines.get(span.line, ""))
            for start, end, text, span in stored[index]
        ]

    def values(self, doc: Document | None, **values: Any) -> dict[str, Any]:
        return {"rule": self.spec.id, "file": doc.relpath if doc else "", **values}

    def report(
        self,
        ctx: RuleContext,
        doc: Document,
        where: Hit | tuple[int, int] | Span,
        /,
        *,
        message: str | None = None,
        fix: Fix | None = None,
        **values: Any,
    ) -> Finding:
        """Report at a hit, at source offsets or at a span, with the rule's message filled in.
        The text it found (``match``, ``value``) is quoted cut to a bounded length
        (:func:`coursecheck.text.quote`): a match may be a whole line of a lesson."""
        shown = {k: quote(str(v)) if k in _QUOTED_VALUES and v is not None else v for k, v in values.items()}
        text = format_message(message or self.spec.message, self.values(doc, **shown))
        anchor = str(values.get("match", "")) or text
        if isinstance(where, Span):
            return ctx.report_span(doc.relpath, where, text, doc=doc, fix=fix, anchor=anchor)
        if isinstance(where, Hit) and where.span is not None:
            return ctx.report_span(doc.relpath, where.span, text, doc=doc, fix=fix, anchor=anchor, snippet=where.line)
        start, end = (where.start, where.end) if isinstance(where, Hit) else where
        return ctx.report(doc, start, end, text, fix=fix, anchor=anchor)

    # -- documentation ------------------------------------------------------------------

    def summary(self) -> str:
        if self.spec.docs.strip():
            return self.spec.docs.strip().splitlines()[0].strip()
        return self.kind.describe(self.spec)

    def documentation(self) -> str:
        spec = self.spec
        body = spec.docs.strip().split("\n", 1)[1].strip() if "\n" in spec.docs.strip() else ""
        scope = ", ".join(f"`{s}`" for s in spec.scopes) if self.kind.scoped else "the whole lesson"
        lines = [
            self.summary(),
            "",
            "## What it does",
            f"A declarative `{self.kind.name}` rule defined {_definition(spec)}. "
            f"{self.kind.describe(spec)}. Scope: {scope}."
            + (f" Files: {', '.join(spec.files)}." if spec.files else "")
            + (f" Except: {', '.join(spec.exclude)}." if spec.exclude else ""),
            "",
            "## Why it matters",
            body or "The course team declared it (see its definition).",
        ]
        bad = [s for e in spec.examples for s in e.bad]
        ok = [s for e in spec.examples for s in e.ok]
        if bad or ok:
            lines += ["", "## Example"]
            for title, snippets in (("Reported:", bad[:2]), ("Not reported:", ok[:2])):
                if snippets:
                    # A fence longer than any backtick run inside the snippet.
                    longest = max((len(run) for run in re.findall(r"`+", "".join(snippets))), default=0)
                    fence = "`" * max(3, longest + 1)
                    lines += [title, f"{fence}markdown", *snippets, fence]
        lines += ["", "## How to fix", f"Change the text as the message says: «{spec.message}»."]
        return "\n".join(lines)

    # -- self-tests -----------------------------------------------------------------------

    def example_results(self, config: Config) -> list[ExampleResult]:
        if self._example_results is None:
            self._example_results = run_examples(self, config)
        return self._example_results


def _definition(spec: RuleSpec) -> str:
    shown = shown_origin(spec.where[0])
    return f"in {shown}, line {spec.where[1]}" if shown.startswith("pack ") else f"at `{shown}:{spec.where[1]}`"


@functools.lru_cache(maxsize=64)
def shown_origin(file: str) -> str:
    """A definition's file as rule docs and SARIF show it: a shipped pack by its name (not
    where this machine installed it), a file under the working folder relative to it."""
    if file.startswith("("):  # "(defaults)": no file
        return file
    path = Path(file).resolve()  # origins are relative to the working folder
    for name in shipped_pack_names():
        pack = shipped_pack(name)
        if pack is not None and path == pack.resolve():
            return f"pack {name}"
    if Path(file).is_absolute():
        try:
            return path.relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            return file
    return file


def definition_place(config: Config, spec: RuleSpec) -> tuple[str, Span]:
    """Where to report about a rule's definition: its line when the file is inside the
    project, else the config's ``extends`` line (shipped packs live outside the project)."""
    file, line = spec.where
    root = config.root.resolve()
    # Origins name files relative to the folder coursecheck was started in; try the likely ones.
    bases = [Path.cwd(), config.root] + ([config.path.parent] if config.path is not None else [])
    for candidate in [Path(file)] if Path(file).is_absolute() else [base / file for base in bases]:
        try:
            rel = candidate.resolve().relative_to(root)
        except (ValueError, OSError):
            continue
        if candidate.resolve().is_file():
            return rel.as_posix(), Span.point(max(line, 1), 1)
    if config.path is not None:
        try:
            rel_config = config.path.resolve().relative_to(root).as_posix()
        except ValueError:
            rel_config = config.path.name
        _, extends_line = config.where("extends")
        return rel_config, Span.point(max(extends_line, 1), 1)
    return "", Span.point(1, 1)


# -- examples -------------------------------------------------------------------------------


@dataclass(slots=True)
class ExampleResult:
    example: Example
    problems: list[str]  # empty: the example passed
    findings: list[Finding]


def _example_course(snippets: list[str], path: str | None) -> Course:
    from coursecheck.parse.markdown import parse_markdown
    from coursecheck.text import normalize_newlines

    docs: list[Document] = []
    for n, snippet in enumerate(snippets):
        if path and len(snippets) == 1:
            name = path
        else:
            stem, dot, ext = (path or "example.md").rpartition(".")
            name = f"{stem}-{n + 1}.{ext}" if dot else f"{path}-{n + 1}"
        text = normalize_newlines(snippet)
        doc = parse_markdown(Path(name), name, text, mdx=name.endswith(".mdx"))
        doc.role = "lesson"
        doc.lesson_id = name.rsplit(".", 1)[0]
        doc.order_index = n
        docs.append(doc)
    return Course(Path("."), docs, [], [], {d.lesson_id: d for d in docs if d.lesson_id})


def check_snippets(rule: UserRule, config: Config, snippets: list[str], path: str | None) -> list[Finding]:
    """Run ``rule`` on a course made of ``snippets`` (ignoring its ``files`` globs, unless
    the example names its ``path``)."""
    course = _example_course(snippets, path)
    ctx = RuleContext(rule.as_rule(), config, {}, course)
    saved, rule.tripped, rule.ignore_globs = rule.tripped, "", path is None
    try:
        if rule.course:
            rule.check(course, ctx)
        else:
            for doc in course.lessons:
                rule.check(doc, ctx)
    finally:
        rule.tripped, rule.ignore_globs = saved, False
    return sorted(ctx.findings, key=Finding.sort_key)


def run_examples(rule: UserRule, config: Config) -> list[ExampleResult]:
    results: list[ExampleResult] = []
    for example in rule.spec.examples:
        problems: list[str] = []
        findings: list[Finding] = []
        if example.bad:
            findings = check_snippets(rule, config, example.bad, example.path)
            if not findings:
                problems.append("the 'bad' snippet is not reported: the rule is likely a no-op")
            elif example.count is not None and len(findings) != example.count:
                got = "; ".join(f"{f.span.line}:{f.span.column} {f.message}" for f in findings)
                problems.append(f"'bad' gives {len(findings)} findings, expected {example.count}: {got}")
            if findings:
                first = findings[0]
                if example.line is not None and first.span.line != example.line:
                    problems.append(f"first finding is on line {first.span.line}, expected {example.line}")
                if example.column is not None and first.span.column != example.column:
                    problems.append(f"first finding is at column {first.span.column}, expected {example.column}")
                if example.message is not None and example.message not in first.message:
                    problems.append(f"first finding says {first.message!r}, expected it to contain {example.message!r}")
        if example.ok:
            ok_findings = check_snippets(rule, config, example.ok, example.path)
            for f in ok_findings:
                problems.append(f"the 'ok' snippet is reported at {f.span.line}:{f.span.column}: {f.message}")
        results.append(ExampleResult(example, problems, findings))
    return results


def static_noop(spec: RuleSpec) -> str | None:
    """Why the rule's terms can never match text of its scopes, if that can be seen from
    the definition alone (markup the parser removes, a line break in one-line text)."""
    terms = spec.state.get("terms", [])
    if not terms or spec.is_regex:
        return None
    names = {s.name for s in spec.scopes}
    if names & {"prose", "headings", "link-text"} and not names & {"file", "code", "inline-code", "prop"}:
        for term in terms:
            if _MARKUP.search(term):
                return (
                    f"term {term!r} contains Markdown markup, which is not part of the text in scope "
                    f'{", ".join(sorted(names))}: it can never match (use scope "file", or drop the markup)'
                )
    if names and names <= set(_SINGLE_LINE_SCOPES):
        for term in terms:
            if "\n" in term:
                return f"term {term!r} has a line break, but the scope {', '.join(sorted(names))} is one line of text"
    return None
