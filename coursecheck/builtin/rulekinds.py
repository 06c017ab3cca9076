"""The built-in kinds of declarative rules, ``declarative/no-op`` and ``coursecheck test-rules``.

Each kind is a :class:`~coursecheck.declarative.RuleKind`, provided through the
``coursecheck_rule_kinds`` hook exactly as a third-party plugin would provide its own. The
config's ``[[rule]]`` tables become rules through ``coursecheck_config_rules``. The user
guide with an example of each kind is ``docs/declarative-rules.md``.
"""

from __future__ import annotations

import argparse
import bisect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import regex

from coursecheck import hookimpl
from coursecheck.config import ConfigError, load_config
from coursecheck.declarative import (
    REGEX_TIMEOUT,
    STATS_KEY,
    TRIPPED_KEY,
    FieldSpec,
    Hit,
    PatternTimeout,
    RuleKind,
    RuleSpec,
    RuleStats,
    UserRule,
    collect_kinds,
    definition_place,
    format_message,
    parse_rules,
    static_noop,
)
from coursecheck.escape import say
from coursecheck.model import Course, Document
from coursecheck.plugins import call_each
from coursecheck.rules import Rule, RuleContext, rule
from coursecheck.text import Span, quote

if TYPE_CHECKING:
    from coursecheck.commands import CommandContext

TERMS = FieldSpec("terms", "strs", "the words or phrases (regexes with regex = true) to look for", required=True)


def _quote(terms: list[str]) -> str:
    shown = [f"'{t}'" for t in terms[:4]]
    return " / ".join(shown) + (" ..." if len(terms) > 4 else "")


def _start(doc: Document) -> Span:
    return Span.point(1, 1)


class Existence(RuleKind):
    name = "existence"
    summary = "A word or pattern that must not appear"
    fields = (TERMS,)
    placeholders = ("match",)
    default_message = "avoid '{match}'"

    def prepare(self, spec: RuleSpec, problem: Any) -> None:
        spec.state["terms"] = list(_terms(spec.fields["terms"]))
        spec.state["matcher"] = spec.matcher(spec.state["terms"], problem, "terms")

    def describe(self, spec: RuleSpec) -> str:
        return f"Reports every occurrence of {_quote(spec.state.get('terms', []))}"

    def check_document(self, rule: UserRule, doc: Document, ctx: RuleContext) -> None:
        for hit in rule.hits(doc, ctx, rule.spec.state["matcher"]):
            rule.report(ctx, doc, hit, match=hit.text)


def _terms(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class Required(RuleKind):
    name = "required"
    summary = "A word or pattern that must appear"
    fields = (
        TERMS,
        FieldSpec(
            "per",
            "str",
            "`file`: in every file; `course`: somewhere in the course",
            default="file",
            choices=("file", "course"),
        ),
    )
    placeholders = ("expected", "where")

    default_message = "{expected} must appear {where}"

    def prepare(self, spec: RuleSpec, problem: Any) -> None:
        spec.state["terms"] = _terms(spec.fields["terms"])
        spec.state["matcher"] = spec.matcher(spec.state["terms"], problem, "terms")

    def is_course(self, spec: RuleSpec) -> bool:
        return spec.fields["per"] == "course"

    def describe(self, spec: RuleSpec) -> str:
        where = "every file" if spec.fields["per"] == "file" else "the course"
        return f"Requires {_quote(spec.state.get('terms', []))} in {where}"

    def check_document(self, rule: UserRule, doc: Document, ctx: RuleContext) -> None:
        if not rule.hits(doc, ctx, rule.spec.state["matcher"]):
            rule.report(ctx, doc, _start(doc), expected=_quote(rule.spec.state["terms"]), where="in this file")

    def check_course(self, rule: UserRule, course: Course, ctx: RuleContext) -> None:
        docs = rule.documents(course, ctx)
        if not docs or any(rule.hits(doc, ctx, rule.spec.state["matcher"]) for doc in docs):
            return
        path, span = definition_place(ctx.config, rule.spec)
        message = format_message(
            rule.spec.message,
            rule.values(None, expected=_quote(rule.spec.state["terms"]), where="anywhere in the course"),
        )
        ctx.report_span(path, span, message, anchor=rule.spec.id)


class Substitution(RuleKind):
    name = "substitution"
    summary = "Use one word instead of another"
    fields = (FieldSpec("swap", "table", 'what to replace: { "wrong" = "right" }', required=True),)
    placeholders = ("match", "expected")
    default_message = "use '{expected}' instead of '{match}'"
    fixable = True

    def prepare(self, spec: RuleSpec, problem: Any) -> None:
        pairs = []
        for wrong, right in spec.fields["swap"].items():
            if not right.strip():
                problem("swap", f"'{wrong}' has an empty replacement; use an existence rule to forbid a word")
                return
            if wrong == right:
                problem("swap", f"'{wrong}' is replaced by itself: the rule would never report")
                return
            matcher = spec.matcher([wrong], problem, "swap")
            if matcher is None:
                return
            pairs.append((wrong, right, matcher))
        if not pairs:
            problem("swap", 'needs at least one entry: { "wrong" = "right" }')
        spec.state["pairs"] = pairs
        spec.state["terms"] = [w for w, _, _ in pairs]
        if pairs and not spec.is_regex:
            # One pass over the text for all literal entries; a hit is then told apart.
            spec.state["combined"] = spec.matcher(spec.state["terms"], problem, "swap")

    def describe(self, spec: RuleSpec) -> str:
        pairs = spec.state.get("pairs", [])
        shown = ", ".join(f"'{r}' instead of '{w}'" for w, r, _ in pairs[:3])
        return f"Asks for {shown}" + (" ..." if len(pairs) > 3 else "")

    def check_document(self, rule: UserRule, doc: Document, ctx: RuleContext) -> None:
        found: list[tuple[Hit, str, str]] = []
        pairs = rule.spec.state["pairs"]
        combined = rule.spec.state.get("combined")
        if combined is not None:
            for hit in rule.hits(doc, ctx, combined):
                pair = next((p for p in pairs if _whole(p[2], hit.text)), None)
                if pair is not None:
                    found.append((hit, pair[0], pair[1]))
        else:
            for wrong, right, matcher in pairs:
                found.extend((hit, wrong, right) for hit in rule.hits(doc, ctx, matcher))
        found.sort(key=lambda item: (item[0].start, -item[0].end))
        last_end = -1
        for hit, wrong, right in found:
            if hit.start < last_end:
                continue
            last_end = hit.end
            expected = self._expected(rule.spec, hit, wrong, right)
            if hit.text == expected:
                continue
            fix = None
            same_form = rule.spec.is_regex or not rule.spec.inflect or hit.text.lower() == wrong.lower()
            if same_form and doc.source[hit.start : hit.end] == hit.text:
                fix = ctx.replace(
                    doc, hit.start, hit.end, expected, f"replace '{quote(hit.text)}' with '{quote(expected)}'"
                )
            rule.report(ctx, doc, hit, fix=fix, match=hit.text, expected=quote(expected))

    @staticmethod
    def _expected(spec: RuleSpec, hit: Hit, wrong: str, right: str) -> str:
        if spec.is_regex and hit.match is not None and "\\" in right:
            try:
                return hit.match.expand(right)
            except (regex.error, IndexError):
                return right
        # "Юзер" at the start of a sentence asks for "Пользователь", not "пользователь"
        # (unless the wrong form itself is capitalised: then the case is the point).
        if spec.ignore_case and hit.text[:1].isupper() and right[:1].islower() and not wrong[:1].isupper():
            return right[:1].upper() + right[1:]
        return right


def _whole(matcher: Any, text: str) -> bool:
    """Whether ``matcher`` matches all of ``text`` (which entry of a swap table a hit is)."""
    return any(start == 0 and end == len(text) for start, end, _, _ in matcher.finditer(text))


class Occurrence(RuleKind):
    name = "occurrence"
    summary = "A word or pattern must occur at least / at most N times"
    fields = (
        TERMS,
        FieldSpec("min", "int", "fewest occurrences allowed"),
        FieldSpec("max", "int", "most occurrences allowed"),
        FieldSpec("per", "str", "count per `file` or per `section`", default="file", choices=("file", "section")),
        FieldSpec("section-level", "int", "headings of this level or higher start a section", default=2),
    )
    placeholders = ("count", "min", "max", "expected", "match", "section")

    def prepare(self, spec: RuleSpec, problem: Any) -> None:
        low, high = spec.fields["min"], spec.fields["max"]
        if low is None and high is None:
            problem("kind", "an occurrence rule needs 'min', 'max' or both")
            return
        if (low is not None and low < 0) or (high is not None and high < 0):
            problem("min" if low is not None and low < 0 else "max", "must not be negative")
            return
        if low is not None and high is not None and low > high:
            problem("min", f"min ({low}) is larger than max ({high})")
            return
        spec.state["terms"] = _terms(spec.fields["terms"])
        spec.state["matcher"] = spec.matcher(spec.state["terms"], problem, "terms")
        custom = "message" in spec.raw
        spec.state["too-many"] = (
            spec.message if custom else "{expected} occurs {count} times in {section} (at most {max})"
        )
        spec.state["too-few"] = (
            spec.message if custom else "{expected} occurs {count} times in {section} (at least {min})"
        )

    def describe(self, spec: RuleSpec) -> str:
        low, high = spec.fields["min"], spec.fields["max"]
        bounds = " and ".join(
            x for x in (low is not None and f"at least {low}", high is not None and f"at most {high}") if x
        )
        return f"Wants {_quote(spec.state.get('terms', []))} {bounds} times per {spec.fields['per']}"

    def check_document(self, rule: UserRule, doc: Document, ctx: RuleContext) -> None:
        spec = rule.spec
        hits = rule.hits(doc, ctx, spec.state["matcher"])
        low, high = spec.fields["min"], spec.fields["max"]
        expected = _quote(spec.state["terms"])
        if spec.fields["per"] == "file":
            groups = [("this file", _start(doc), hits)]
        else:
            level = spec.fields["section-level"]
            heads = [h for h in doc.headings if h.level <= level]
            offsets = [h.offset for h in heads]
            groups = [(f"section «{h.text}»", h.span, []) for h in heads]
            intro: list[Hit] = []
            for hit in hits:
                k = _section_of(offsets, hit.start)
                (intro if k < 0 else groups[k][2]).append(hit)
            if intro and high is not None and len(intro) > high:
                groups.insert(0, ("the text before the first heading", _start(doc), intro))
        for section, span, found in groups:
            values = {"count": len(found), "min": low, "max": high, "expected": expected, "section": section}
            if high is not None and len(found) > high:
                over = found[high]
                rule.report(ctx, doc, over, message=spec.state["too-many"], match=over.text, **values)
            elif low is not None and len(found) < low:
                rule.report(ctx, doc, span, message=spec.state["too-few"], match="", **values)


def _section_of(offsets: list[int], position: int) -> int:
    return bisect.bisect_right(offsets, position) - 1


class Consistency(RuleKind):
    name = "consistency"
    summary = "One spelling across the whole course, not two"
    fields = (
        FieldSpec(
            "variants",
            "list",
            'the competing spellings: ["бэкенд", "бэкэнд"]; an entry may list several forms: [["e-mail", "E-mail"], "email"]',
            required=True,
        ),
    )
    placeholders = ("match", "variant", "count", "expected", "expected_count")
    default_message = (
        "'{match}': the course uses '{expected}' {expected_count}× and '{variant}' {count}×; keep one spelling"
    )

    def prepare(self, spec: RuleSpec, problem: Any) -> None:
        variants: list[list[str]] = []
        for entry in spec.fields["variants"]:
            forms = [entry] if isinstance(entry, str) else entry
            if not isinstance(forms, list) or not forms or not all(isinstance(f, str) for f in forms):
                problem("variants", "each variant is a string or a list of strings")
                return
            variants.append(forms)
        if len(variants) < 2:
            problem("variants", "needs at least two variants to choose between")
            return
        spec.state["variants"] = [(forms, spec.matcher(forms, problem, "variants")) for forms in variants]
        spec.state["terms"] = [f for forms in variants for f in forms]

    def is_course(self, spec: RuleSpec) -> bool:
        return True

    def describe(self, spec: RuleSpec) -> str:
        names = [forms[0] for forms, _ in spec.state.get("variants", [])]
        return f"Reports the less used of {_quote(names)} across the course"

    def check_course(self, rule: UserRule, course: Course, ctx: RuleContext) -> None:
        variants = rule.spec.state["variants"]
        found: list[list[tuple[Document, Hit]]] = [[] for _ in variants]
        for doc in rule.documents(course, ctx):
            for k, (_, matcher) in enumerate(variants):
                found[k].extend((doc, hit) for hit in rule.hits(doc, ctx, matcher))
        used = [k for k in range(len(variants)) if found[k]]
        if len(used) < 2:
            return
        # The majority wins; on a tie, the variant declared first.
        winner = max(used, key=lambda k: (len(found[k]), -k))
        for k in used:
            if k == winner:
                continue
            for doc, hit in found[k]:
                rule.report(
                    ctx,
                    doc,
                    hit,
                    match=hit.text,
                    variant=variants[k][0][0],
                    count=len(found[k]),
                    expected=variants[winner][0][0],
                    expected_count=len(found[winner]),
                )


class Conditional(RuleKind):
    name = "conditional"
    summary = "If one term appears, another must appear first"
    fields = (
        FieldSpec("if", "strs", "the term that needs an introduction (e.g. an abbreviation)", required=True),
        FieldSpec("then", "strs", "what must appear before it (e.g. the expansion)", required=True),
        FieldSpec(
            "order",
            "str",
            "`file`: earlier in the same file; `course`: earlier in course order",
            default="file",
            choices=("file", "course"),
        ),
    )
    placeholders = ("match", "expected")
    default_message = "'{match}' is used before {expected} appears"

    def prepare(self, spec: RuleSpec, problem: Any) -> None:
        spec.state["if"] = spec.matcher(_terms(spec.fields["if"]), problem, "if")
        spec.state["then"] = spec.matcher(_terms(spec.fields["then"]), problem, "then")
        spec.state["terms"] = [*_terms(spec.fields["if"]), *_terms(spec.fields["then"])]

    def is_course(self, spec: RuleSpec) -> bool:
        return spec.fields["order"] == "course"

    def describe(self, spec: RuleSpec) -> str:
        where = "earlier in the file" if spec.fields["order"] == "file" else "earlier in course order"
        return f"Requires {_quote(_terms(spec.fields['then']))} {where} than {_quote(_terms(spec.fields['if']))}"

    def check_document(self, rule: UserRule, doc: Document, ctx: RuleContext) -> None:
        first = rule.hits(doc, ctx, rule.spec.state["if"])
        if not first:
            return
        intro = rule.hits(doc, ctx, rule.spec.state["then"], count=False)
        if not intro or intro[0].start > first[0].start:
            rule.report(ctx, doc, first[0], match=first[0].text, expected=_quote(_terms(rule.spec.fields["then"])))

    def check_course(self, rule: UserRule, course: Course, ctx: RuleContext) -> None:
        for doc in rule.documents(course, ctx):
            intro = rule.hits(doc, ctx, rule.spec.state["then"], count=False)
            first = rule.hits(doc, ctx, rule.spec.state["if"])
            if intro and (not first or intro[0].start < first[0].start):
                return  # introduced before (or without) any use
            if first:
                rule.report(ctx, doc, first[0], match=first[0].text, expected=_quote(_terms(rule.spec.fields["then"])))
                return


METRICS = {
    "lines": "lines in the file, as `wc -l` counts them",
    "words": "words (letters and digits of any script) in the rule's scope (default: prose and headings)",
    "headings": "headings",
    "code-blocks": "fenced and indented code blocks",
    "code-lines": "lines inside code blocks",
    "code-ratio": "lines of code divided by lines of prose and headings",
    "links": "links (Markdown links and JSX href props)",
}


class Metric(RuleKind):
    name = "metric"
    summary = "A measure of each lesson within bounds"
    fields = (
        FieldSpec("metric", "str", "what to measure: " + ", ".join(METRICS), required=True, choices=tuple(METRICS)),
        FieldSpec("min", "number", "lowest value allowed"),
        FieldSpec("max", "number", "highest value allowed"),
    )
    placeholders = ("metric", "value", "min", "max")
    default_scope = ("prose", "headings")

    def prepare(self, spec: RuleSpec, problem: Any) -> None:
        low, high = spec.fields["min"], spec.fields["max"]
        if low is None and high is None:
            problem("metric", "a metric rule needs 'min', 'max' or both")
            return
        if low is not None and high is not None and low > high:
            problem("min", f"min ({low}) is larger than max ({high})")
            return
        if "scope" in spec.raw and spec.fields["metric"] != "words":
            problem("scope", "only the 'words' metric reads a scope")
            return
        custom = "message" in spec.raw
        spec.state["too-many"] = spec.message if custom else "{metric}: {value}, more than the maximum {max}"
        spec.state["too-few"] = spec.message if custom else "{metric}: {value}, fewer than the minimum {min}"

    def describe(self, spec: RuleSpec) -> str:
        low, high = spec.fields["min"], spec.fields["max"]
        bounds = " and ".join(x for x in (low is not None and f"≥ {low:g}", high is not None and f"≤ {high:g}") if x)
        return f"Wants {spec.fields['metric']} {bounds} in each file"

    def check_document(self, rule: UserRule, doc: Document, ctx: RuleContext) -> None:
        name = rule.spec.fields["metric"]
        value, items = self.measure(rule, doc, ctx, name)
        rule.stats(ctx).hits += 1  # measured: the rule had something to look at
        low, high = rule.spec.fields["min"], rule.spec.fields["max"]
        values = {"metric": name, "value": _number(value), "min": _number(low), "max": _number(high)}
        if high is not None and value > high:
            k = int(high)
            span = items[k] if 0 <= k < len(items) else _start(doc)
            rule.report(ctx, doc, span, message=rule.spec.state["too-many"], **values)
        elif low is not None and value < low:
            rule.report(ctx, doc, _start(doc), message=rule.spec.state["too-few"], **values)

    @staticmethod
    def measure(rule: UserRule, doc: Document, ctx: RuleContext, name: str) -> tuple[float, list[Span]]:
        """The value, and the spans of the counted items (to point at the first one too many)."""
        from coursecheck.match import words

        if name == "lines":
            return doc.line_count, []
        if name == "words":
            return sum(1 for _ in words(rule.scope_text(doc, ctx).text)), []
        if name == "headings":
            return len(doc.headings), [h.span for h in doc.headings]
        if name == "code-blocks":
            return len(doc.code_blocks), [b.span for b in doc.code_blocks]
        if name == "links":
            return len(doc.links), [link.span for link in doc.links]
        code = sum(b.segment.text.count("\n") + 1 for b in doc.code_blocks if b.segment.text)
        if name == "code-lines":
            return code, []
        starts = [doc.lines.line_start(n) for n in range(1, doc.lines.line_count + 1)]
        prose_lines: set[int] = set()
        for seg in doc.segments:
            if seg.scope in ("prose", "heading") and seg.text.strip():
                first = bisect.bisect_right(starts, seg.offset(0))
                last = bisect.bisect_right(starts, seg.offset(len(seg.text) - 1))
                prose_lines.update(range(first, last + 1))
        return round(code / max(len(prose_lines), 1), 2), []


def _number(value: float | None) -> str:
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


FIELD_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "list": (list,),
    "table": (dict,),
    "date": (),
}


class Frontmatter(RuleKind):
    name = "frontmatter"
    summary = "Conditions on a frontmatter field"
    scoped = False
    default_scope = ()
    fields = (
        FieldSpec("field", "str", "the field, dotted for nested ones (`meta.author`)", required=True),
        FieldSpec("required", "bool", "the field must be present", default=False),
        FieldSpec("forbidden", "bool", "the field must be absent", default=False),
        FieldSpec("type", "str", "value type: " + ", ".join(FIELD_TYPES), choices=tuple(FIELD_TYPES)),
        FieldSpec("one-of", "list", "allowed values (for a list, allowed items)"),
        FieldSpec("pattern", "str", "a regex the value (each item of a list) must contain"),
        FieldSpec("min", "number", "lowest value (for strings and lists: shortest length)"),
        FieldSpec("max", "number", "highest value (for strings and lists: longest length)"),
    )
    placeholders = ("field", "value", "expected")

    def prepare(self, spec: RuleSpec, problem: Any) -> None:
        f = spec.fields
        conditions = [f["required"], f["forbidden"], f["type"], f["one-of"], f["pattern"], f["min"], f["max"]]
        if not any(c not in (None, False) for c in conditions):
            problem(
                "field", "a frontmatter rule needs a condition: required, forbidden, type, one-of, pattern, min or max"
            )
            return
        if f["required"] and f["forbidden"]:
            problem("forbidden", "a field cannot be both required and forbidden")
            return
        if f["pattern"] is not None:
            m = spec.regex_matcher([f["pattern"]], problem, "pattern")
            spec.state["pattern"] = m.patterns[0] if m else None
        spec.state["path"] = tuple(int(p) if p.isdigit() else p for p in f["field"].split("."))

    def describe(self, spec: RuleSpec) -> str:
        f = spec.fields
        parts = [
            f["required"] and "present",
            f["forbidden"] and "absent",
            f["type"] and f"a {f['type']}",
            f["one-of"] and "one of " + ", ".join(map(str, f["one-of"][:5])),
            f["pattern"] and f"matching {f['pattern']!r}",
            f["min"] is not None and f"at least {f['min']}",
            f["max"] is not None and f"at most {f['max']}",
        ]
        return f"Frontmatter field '{f['field']}' must be " + ", ".join(p for p in parts if p)

    def check_document(self, rule: UserRule, doc: Document, ctx: RuleContext) -> None:
        spec = rule.spec
        f = spec.fields
        path = spec.state["path"]
        fm = doc.frontmatter
        value: Any = fm.data if fm is not None else None
        present = fm is not None
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                present = False
                break
        custom = spec.message if "message" in spec.raw else None
        name = f["field"]

        def say(default: str, span: Span, shown: Any = "", expected: str = "") -> None:
            rule.report(ctx, doc, span, message=custom or default, field=name, value=_show(shown), expected=expected)

        if not present:
            if f["required"]:
                say("frontmatter field '{field}' is missing", fm.span if fm is not None else _start(doc))
            return
        assert fm is not None
        place = fm.place(*path)
        stats = rule.stats(ctx)
        stats.hits += 1  # the field exists: the rule had something to look at
        if f["forbidden"]:
            say("frontmatter field '{field}' is not allowed", fm.places.get((*path, "#key"), place), value)
            return
        if f["type"] and not _is_type(value, f["type"]):
            say("'{field}' is {value}; expected {expected}", place, value, f"a {f['type']}")
            return
        items = value if isinstance(value, list) else [value]
        for k, item in enumerate(items):
            where = fm.place(*path, k) if isinstance(value, list) else place
            if f["one-of"] is not None and item not in f["one-of"]:
                say("'{field}' is {value}; expected one of {expected}", where, item, ", ".join(map(_show, f["one-of"])))
                return
            pattern = spec.state.get("pattern")
            if pattern is not None:
                try:
                    found = pattern.search(str(item), timeout=REGEX_TIMEOUT)
                except TimeoutError:
                    raise PatternTimeout(pattern.pattern) from None
                if found is None:
                    say("'{field}' is {value}; expected it to match {expected}", where, item, repr(f["pattern"]))
                    return
        size = len(value) if isinstance(value, (str, list)) else value
        if isinstance(size, (int, float)) and not isinstance(size, bool):
            what = "length of '{field}'" if isinstance(value, (str, list)) else "'{field}'"
            if f["min"] is not None and size < f["min"]:
                say(what + " is {value}; expected at least {expected}", place, size, _number(f["min"]))
            elif f["max"] is not None and size > f["max"]:
                say(what + " is {value}; expected at most {expected}", place, size, _number(f["max"]))


def _is_type(value: Any, name: str) -> bool:
    import datetime

    if name == "date":
        return isinstance(value, (datetime.date, datetime.datetime))
    if isinstance(value, bool) and name != "boolean":
        return False
    return isinstance(value, FIELD_TYPES[name])


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


BUILTIN_KINDS = (
    Existence(),
    Required(),
    Substitution(),
    Occurrence(),
    Consistency(),
    Conditional(),
    Metric(),
    Frontmatter(),
)


# -- the no-op report ----------------------------------------------------------------------


@rule("declarative/no-op", level="warning", course=True, tags=("declarative",))
def no_op(course: Course, ctx: RuleContext) -> None:
    """A declarative rule that cannot find anything.

    ## What it does
    After every `[[rule]]` has run, reports the ones that could not have found anything:
    their `files`/`exclude` globs match no file of the course; their scope selected no text
    (e.g. `scope = "code:pyhton"`); their terms contain Markdown markup that is not part of
    the text they search (`` `kubectl` `` searched in prose); or they matched nothing and
    their own `bad` example is not reported either. The finding points at the rule's
    definition (or, for a shipped pack, at the config's `extends` line).

    ## Why it matters
    A rule that can never match looks exactly like a rule that passes: the run exits 0 and
    nobody notices that the check is gone. Vale users meet this with a misspelt scope or a
    pattern that needs a word boundary the engine does not have.

    ## Example
    ```toml
    [[rule]]
    id = "team/no-python2"
    kind = "existence"
    scope = "code:pyhton"          # misspelt language: no code block is ever selected
    terms = ["print "]
    ```

    ## How to fix
    Correct the scope, globs or terms the message names; `coursecheck test-rules` checks
    every rule against its own examples.
    """
    # Per-file statistics come with each file's summary (cached, maybe from a worker
    # process); course-level kinds count in this process.
    table: dict[str, RuleStats] = {}
    tripped: set[str] = set()
    # Each file's part under each key (ctx.summaries restores those parts only), in course
    # order, then the course-level counts.
    tripped_parts = [*ctx.summaries(TRIPPED_KEY).values(), course.cache.get(TRIPPED_KEY, ())]
    stats_parts = [*ctx.summaries(STATS_KEY).values(), course.cache.get(STATS_KEY, {})]
    for tripped_part in tripped_parts:
        tripped.update(tripped_part)
    for stats in stats_parts:
        for rule_id, part in stats.items():
            total = table.setdefault(rule_id, RuleStats())
            total.files += part.files
            total.scoped += part.scoped
            total.hits += part.hits
    rules: dict[str, UserRule] = {
        **getattr(ctx.rule.check, "registry", {}),
        **course.cache.get("declarative.rules", {}),
    }
    checked = len(course.documents)
    for rule_id, stats in sorted(table.items(), key=lambda item: _definition_order(rules, item[0])):
        user_rule = rules.get(rule_id)
        if user_rule is None or user_rule.tripped or rule_id in tripped:
            continue
        spec = user_rule.spec
        reason = ""
        if stats.files == 0 and checked:
            reason = f"its files/exclude globs match none of the {checked} files checked"
        elif user_rule.kind.scoped and stats.scoped == 0 and stats.files and stats.hits == 0:
            scope = ", ".join(str(s) for s in spec.scopes)
            reason = f"its scope ({scope}) selected no text in the {stats.files} files it applies to"
        elif stats.hits == 0:
            reason = static_noop(spec) or ""
            if not reason and any(e.bad for e in spec.examples):
                results = user_rule.example_results(ctx.config)
                if any(r.example.bad and not r.findings for r in results):
                    reason = "it matched nothing in the course, and its own 'bad' example is not reported either"
        if reason:
            path, span = definition_place(ctx.config, spec)
            ctx.report_span(path, span, f"rule {rule_id} is likely a no-op: {reason}", anchor=rule_id)


# -- hooks -----------------------------------------------------------------------------------


@hookimpl
def coursecheck_rule_kinds() -> list[RuleKind]:
    return list(BUILTIN_KINDS)


@hookimpl
def coursecheck_config_sections() -> dict[str, str]:
    return {"rule": "declarative rules: [[rule]] tables (docs/declarative-rules.md)"}


@hookimpl
def coursecheck_config_rules(config: Any, plugin_manager: Any) -> list[Any]:
    pm = plugin_manager
    kinds, trouble = collect_kinds(pm)
    taken: set[str] = set()
    for _name, provided in call_each(pm, "coursecheck_rules", [], lambda v: isinstance(v, (list, tuple))):
        taken.update(r.id for r in provided if isinstance(r, Rule))
    specs, problems, broken = parse_rules(config, kinds, taken, trouble)
    user_rules = [UserRule(spec) for spec in specs]
    registry = {r.id: r for r in user_rules}
    out: list[Any] = [*problems]
    for user_rule in user_rules:
        built = user_rule.as_rule()
        built.check = _registering(user_rule, registry)
        built.fixable = user_rule.kind.fixable
        out.append(built)
    for rule_id, _index in broken:
        # The definition is wrong (reported above); the id still exists so that [rules]
        # entries naming it do not add "unknown rule" noise.
        out.append(Rule(id=rule_id, check=_never, docs="A declarative rule whose definition has errors."))
    # Last, so that it runs after every course-level user rule.
    out.append(_no_op_rule(registry))
    return out


def _no_op_rule(registry: dict[str, UserRule]) -> Rule:
    # A fresh copy per engine: the engine sets ``plugin`` on the object it receives. It
    # carries this config's user rules (their checks may never run here: cache, workers).
    def check(subject: Any, ctx: RuleContext) -> None:
        no_op.check(subject, ctx)

    check.registry = registry  # type: ignore[attr-defined]
    return Rule(id=no_op.id, check=check, level=no_op.level, tags=no_op.tags, course=True, docs=no_op.docs)


def _definition_order(rules: dict[str, UserRule], rule_id: str) -> tuple[int, str]:
    order = list(rules)
    return (order.index(rule_id) if rule_id in rules else len(order), rule_id)


def _never(subject: Any, ctx: RuleContext) -> None:
    return None


def _registering(user_rule: UserRule, registry: dict[str, UserRule]) -> Any:
    """The rule's check, also publishing the rule in the course cache for the no-op report."""

    def check(subject: Any, ctx: RuleContext) -> None:
        if ctx.course is not None:
            ctx.course.cache.setdefault("declarative.rules", {})[user_rule.id] = user_rule
        user_rule.check(subject, ctx)

    check.user_rule = user_rule  # type: ignore[attr-defined]
    return check


def user_rules_of(rules: dict[str, Rule]) -> list[UserRule]:
    """The declarative rules among an engine's rules."""
    out = []
    for r in rules.values():
        user_rule = getattr(r.check, "user_rule", None)
        if isinstance(user_rule, UserRule):
            out.append(user_rule)
    return out


# -- coursecheck test-rules --------------------------------------------------------------------


def cmd_test_rules(argv: list[str], app: CommandContext) -> int:
    from coursecheck.config import did_you_mean, discover_config, shipped_pack, shipped_pack_names
    from coursecheck.results import RunOptions

    parser = argparse.ArgumentParser(
        prog="coursecheck test-rules",
        description="Run the examples of declarative rules ([[rule.example]] ok/bad snippets); "
        "exit 1 when one fails or a rule is a likely no-op.",
    )
    parser.add_argument("packs", nargs="*", help="shipped pack names or .toml files (default: the current config)")
    parser.add_argument("-c", "--config", type=Path, help="config file (default: nearest .coursecheck.toml)")
    parser.add_argument("--strict", action="store_true", help="also fail on rules that have no examples")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every rule, passed ones too")
    app.add_plugin_arguments(parser)
    args = parser.parse_args(argv)
    plugins = app.plugin_options(args)

    cwd = Path.cwd()
    targets: list[Path] = []
    for entry in args.packs:
        path = Path(entry) if entry.endswith(".toml") or "/" in entry else shipped_pack(entry)
        if path is None or not path.is_file():
            hint = did_you_mean(entry, shipped_pack_names())
            say(f"coursecheck: error: no rule pack '{entry}'{hint} (shipped: {', '.join(shipped_pack_names())})")
            return 2
        targets.append(path)
    if not targets:
        discovery = discover_config(cwd)
        found = args.config or discovery.path
        if found is None:
            say(
                f"coursecheck: error: {discovery.describe()}; name packs to test, e.g. "
                "`coursecheck test-rules ru-en-tech`"
            )
            return 2
        targets.append(found)

    failed = tested = examples = untested = 0
    for target in targets:
        try:
            engine = app.engine(load_config(target, cwd), RunOptions(**plugins))
        except ConfigError as exc:
            app.print_config_error(exc)
            return 2
        for note in engine.notes:  # what --isolated / --no-plugins left out, among others
            say(f"coursecheck: {note.level}: {note.message}")
        for user_rule in sorted(user_rules_of(engine.rules), key=lambda r: r.id):
            tested += 1
            file, line = user_rule.spec.where
            head = f"{file}:{line}: {user_rule.id}"
            problems: list[str] = []
            reason = static_noop(user_rule.spec)
            if reason:
                problems.append(f"likely a no-op: {reason}")
            results = user_rule.example_results(engine.config)
            examples += len(results)
            for result in results:
                for problem in result.problems:
                    ex_file, ex_line = result.example.where
                    problems.append(f"example {result.example.index + 1} ({ex_file}:{ex_line}): {problem}")
            if not results:
                untested += 1
                message = "no examples: add [[rule.example]] with 'bad' and 'ok' snippets"
                if args.strict:
                    problems.append(message)
                else:
                    say(f"{head}: warning: {message}", sys.stdout)
            if problems:
                failed += 1
                for problem in problems:
                    say(f"{head}: FAIL {problem}", sys.stdout)
            elif args.verbose:
                say(f"{head}: ok ({len(results)} examples)", sys.stdout)
    verdict = "FAILED" if failed else "passed"
    extra = f", {untested} without examples" if untested else ""
    print(
        f"test-rules: {tested} rules, {examples} examples: {tested - failed} rules passed, {failed} failed{extra} — {verdict}"
    )
    return 1 if failed else 0


@hookimpl
def coursecheck_commands() -> dict[str, tuple[str, Any]]:
    return {"test-rules": ("run the examples of declarative [[rule]] definitions", cmd_test_rules)}
