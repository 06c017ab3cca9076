"""Terminology: required terms with coverage thresholds, unused glossary terms, terms used
before the lesson that introduces them, unreadable glossary entries.

Config: ``[glossary]`` (see :mod:`coursecheck.glossary`) and ``[[term]]`` coverage
requirements::

    [[term]]
    term = "MilliSecondsBehindSource"
    files = ["src/content/course/03-module-3/*.mdx"]
    min-occurrences = 10
    min-lessons = 3
    scope = "all"                # prose | code | diagrams | frontmatter | all, or a list

Every measurement is published in ``course.extra["term-coverage"]`` for reports.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coursecheck import glossary as gl
from coursecheck import hookimpl
from coursecheck.config import Config
from coursecheck.config.schema import Key, Section
from coursecheck.escape import say, toml_string
from coursecheck.globs import invalid_glob, matches
from coursecheck.match import Coverage, TermMatcher, coverage, occurrences, resolve_scopes
from coursecheck.model import Course, Document
from coursecheck.rules import Option, Rule, RuleContext, rule
from coursecheck.state import TERM_COVERAGE
from coursecheck.text import Span, kept_snippet, quote

if TYPE_CHECKING:
    from coursecheck.commands import CommandContext

TERM_SECTION = "term"
SCOPE_HELP = "prose (paragraphs, lists, tables, headings), code (blocks and inline), diagrams (component props), frontmatter, all"


@dataclass(slots=True)
class Requirement:
    """One ``[[term]]`` entry."""

    index: int
    id: str
    forms: tuple[str, ...]
    files: list[str]
    min_occurrences: int
    min_lessons: int
    scope: str | list[str]
    inflect: bool | None
    case_sensitive: bool
    text: str

    @property
    def term(self) -> str:
        return self.forms[0]


def requirements(config: Config) -> list[Requirement]:
    raw = config.sections.get(TERM_SECTION, [])
    out: list[Requirement] = []
    if not isinstance(raw, list):
        return out
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("term"), str):
            continue
        files = item.get("files", [])
        forms = [item["term"], *(f for f in item.get("forms", []) if isinstance(f, str))]
        out.append(
            Requirement(
                index=i,
                id=str(item.get("id") or item["term"]),
                forms=tuple(dict.fromkeys(f.strip() for f in forms if f.strip())),
                files=[files] if isinstance(files, str) else list(files),
                min_occurrences=int(item.get("min-occurrences", 1)),
                min_lessons=int(item.get("min-lessons", 1)),
                scope=item.get("scope", "all"),
                inflect=item.get("inflect"),
                case_sensitive=bool(item.get("case-sensitive", False)),
                text=str(item.get("text", "")),
            )
        )
    return out


def _globs(value: str | list[str], config: Config) -> list[str]:
    patterns = [value] if isinstance(value, str) else value
    return [f"glob '{pattern}': {why}" for pattern in patterns if (why := invalid_glob(pattern))]


def _scope(value: str | list[str], config: Config) -> str | None:
    try:
        resolve_scopes(value)
    except ValueError as exc:
        return str(exc)
    return None


# The [[term]] tables' schema (validated by the engine, once).
TERM_SCHEMA = Section(
    TERM_SECTION,
    "required terms with coverage thresholds ([[term]]: term, files, min-occurrences, min-lessons, scope)",
    array=True,
    keys=(
        Key("id", "string", "the requirement's name in findings and the report (default: the term)"),
        Key("term", "string", "the term to count", required=True),
        Key("forms", "strings", "more forms of the term that count as a use"),
        Key("files", "string-or-strings", "globs of the lessons the term must be used in (default: all)", check=_globs),
        Key("min-occurrences", "int", "uses the term needs in all", default=1, minimum=0),
        Key("min-lessons", "int", "lessons the term must be used in", default=1, minimum=0),
        Key("scope", "string-or-strings", f"where a use counts: {SCOPE_HELP}", default="all", check=_scope),
        Key("inflect", "bool", "match inflected forms (default: for Cyrillic terms)"),
        Key("case-sensitive", "bool", "match the term's case exactly", default=False),
        Key("text", "string", "what the requirement says, in the report"),
    ),
)


@hookimpl
def coursecheck_inputs(config: Config) -> list[str]:
    # The glossary file is read by document rules (bilingual, terminology summaries) even
    # when it is not among the course's data files.
    file = (config.sections.get(gl.SECTION) or {}).get("file")
    return [file.strip()] if isinstance(file, str) and file.strip() else []


@hookimpl
def coursecheck_config_schemas() -> list[Section]:
    return [gl.SCHEMA, TERM_SCHEMA]


@hookimpl
def coursecheck_init_sections(survey: Any) -> str | None:
    """A ``[glossary]`` section for the data file that holds a glossary, recognized by its
    shape (a list of term objects at any depth, or categories of them), with the field
    mapping and the entries path it needs (``categories[].terms``)."""
    from coursecheck.parse.data import load_data_file

    found: list[tuple[int, str, str, dict[str, str]]] = []
    for rel in getattr(survey, "data_files", []):
        # Not through a link out of the repository: its fields would go into the config.
        data = load_data_file(survey.root, rel)
        if data is None:
            continue
        named = 2 if "gloss" in rel.rsplit("/", 1)[-1].lower() else 0
        shape = gl.find_glossary_shape(data, min_entries=1 if named else 3)
        if shape is None:
            continue
        entries, fields = shape
        found.append((named, rel, entries, fields))
    if not found:
        return None
    found.sort(key=lambda f: (-f[0], f[1]))
    _named, rel, entries, fields = found[0]
    mapping = ", ".join(f"{role} = {toml_string(path)}" for role, path in fields.items())
    lines = ["[glossary]", "# The course's own glossary, found by its shape; see docs/glossary-and-terms.md"]
    lines.append(f"file = {toml_string(rel)}")  # the file's name is the repository's
    if entries:
        lines.append(f"entries = {toml_string(entries)}")
    lines.append(f"fields = {{ {mapping} }}")
    return "\n".join(lines)


# -- rules -------------------------------------------------------------------------------------


def _scope_option(default: list[str]) -> Option:
    return Option("scopes", list, default, f"where a use counts: {SCOPE_HELP}", item=str)


def _scopes(ctx: RuleContext) -> tuple[str, ...]:
    try:
        return resolve_scopes(ctx.options.get("scopes") or ["all"])
    except ValueError:
        return resolve_scopes("all")


def _matcher(req: Requirement) -> TermMatcher:
    inflect = req.inflect if req.inflect is not None else any(gl.script_of(f) == "Cyrillic" for f in req.forms)
    return TermMatcher(*req.forms, inflect=inflect, case_sensitive=req.case_sensitive)


COVERAGE_RULE = "terminology/coverage"


def _requirement_occurrences(
    doc: Document, req: Requirement, matcher: TermMatcher, scope_names: tuple[str, ...]
) -> list[tuple[Span, str]]:
    return [(doc.span(start, end), text) for start, end, text in occurrences(doc, matcher, scope_names)]


def measure(course: Course, config: Config) -> list[tuple[Requirement, Coverage]]:
    """Coverage of every ``[[term]]`` requirement (cached per run). The occurrences of each
    lesson come from the coverage rule's per-file summary (a lesson without one, e.g. when
    the rule did not run, is searched here)."""
    cached = course.cache.get("term-coverage")
    if cached is not None:
        return cached
    results = []
    for k, req in enumerate(requirements(config)):
        matcher = _matcher(req)
        scope_names = resolve_scopes(req.scope)
        cov = Coverage(matcher.forms, scope_names)
        for doc in course.lessons:
            if req.files and not matches(doc.relpath, req.files):
                continue
            cov.checked.append(doc.relpath)
            summary = course.summaries.get(doc.relpath, {}).get(COVERAGE_RULE)
            found = (
                summary.get(k, []) if summary is not None else _requirement_occurrences(doc, req, matcher, scope_names)
            )
            for span, text in found:
                cov.total += 1
                cov.per_file[doc.relpath] = cov.per_file.get(doc.relpath, 0) + 1
                cov.locations.append((doc.relpath, span, text))
        results.append((req, cov))
    course.cache["term-coverage"] = results
    published: list[dict[str, Any]] = [
        {
            "id": req.id,
            "term": req.term,
            "text": req.text,
            "files": req.files,
            "scopes": list(cov.scopes),
            "occurrences": cov.total,
            "lessons": cov.lessons,
            "checked": len(cov.checked),
            "per_file": dict(cov.per_file),
            "min_occurrences": req.min_occurrences,
            "min_lessons": req.min_lessons,
            "met": cov.total >= req.min_occurrences and cov.lessons >= req.min_lessons,
        }
        for req, cov in results
    ]
    TERM_COVERAGE.set(course.extra, published)
    return results


def _line_text(doc: Document, span: Span) -> str | tuple[str, int, bool]:
    """What ``RuleContext.report`` would take as the finding's snippet (a window of a long line)."""
    return kept_snippet(doc.lines.text_at(span.line), span)


@rule("terminology/coverage", level="error", course=True)
def coverage_rule(course: Course, ctx: RuleContext) -> None:
    """A required term occurs less often, or in fewer lessons, than the config requires.

    ## What it does
    Counts each `[[term]]` of the config in the lessons its `files` globs select and reports
    the requirement when the term has fewer occurrences than `min-occurrences` or appears in
    fewer lessons than `min-lessons`. An occurrence is one match of the term (Unicode word
    boundaries: `MilliSecondsBehindSource` counts inside `debezium_metrics_MilliSecondsBehindSource`;
    Russian forms match their inflections); `scope` says where matches count (`prose`,
    `code`, `diagrams`, `frontmatter`, `all`), and the message states it.

    ## Why it matters
    A course plan promises that a topic is taught, not mentioned once: "the lag metric is
    explained across the monitoring module". Counting keeps the promise checkable as lessons
    are edited.

    ## Example
    ```toml
    [[term]]
    term = "MilliSecondsBehindSource"
    files = ["src/content/course/03-module-3/*.mdx"]
    min-occurrences = 40
    min-lessons = 5
    ```
    reports `term «MilliSecondsBehindSource»: 38 occurrences across 4 of 7 lessons ...;
    required at least 40 occurrences in at least 5 lessons`.

    ## How to fix
    Teach the term where the plan says it is taught, or correct the thresholds. `coursecheck
    terms` prints the counts per lesson.
    """
    results = measure(course, ctx.config)
    for req, cov in results:
        if cov.total >= req.min_occurrences and cov.lessons >= req.min_lessons:
            continue
        path, span = gl.config_place(ctx.config, TERM_SECTION, req.index, "term")
        where = f"files {', '.join(req.files)}" if req.files else "all lessons"
        if not cov.checked:
            message = f"term «{quote(req.term)}»: the files globs match no lesson ({where})"
        else:
            message = (
                f"term «{quote(req.term)}»: {cov.describe()} (scope {'+'.join(cov.scopes)}; {where}); "
                f"required at least {req.min_occurrences} occurrence{'s' if req.min_occurrences != 1 else ''}"
                f" in at least {req.min_lessons} lesson{'s' if req.min_lessons != 1 else ''}"
            )
        related = []
        for rel, n in cov.per_file.items():
            first = next(s for p, s, _ in cov.locations if p == rel)
            related.append((rel, first, f"{n} occurrence{'s' if n != 1 else ''} of «{quote(req.term)}»"))
        ctx.report_span(path, span, message, anchor=req.id, related=related)


@rule("terminology/unused-term", level="warning", course=True, options=[_scope_option(["all"])])
def unused_term(course: Course, ctx: RuleContext) -> None:
    """A glossary term is used in no lesson.

    ## What it does
    Looks for every glossary entry's forms (the term, its English form and abbreviation,
    Russian forms with their inflections) in every lesson and reports the entries found
    nowhere, at the entry in the glossary file (or the config).

    ## Why it matters
    A glossary entry no lesson uses is either a leftover of removed material or a topic
    the course promised and never taught; students search the glossary and find a term
    they will not meet.

    ## Example
    No lesson says «оркестратор» or «orchestrator»:
    ```toml
    [glossary]
    file = "data/glossary.json"
    fields = { term = "term", english = "termEn" }
    ```
    In `data/glossary.json`:
    ```json
    [
      { "term": "Оркестратор", "termEn": "Orchestrator" }
    ]
    ```
    In `content/01-compose.md`:
    ```markdown
    Compose запускает несколько контейнеров одной командой.
    ```
    Reported at line 2, column 13 of `data/glossary.json`.

    Use instead:
    In `content/01-compose.md`:
    ```markdown
    Compose запускает несколько контейнеров одной командой; оркестратор (orchestrator)
    делает то же на нескольких хостах.
    ```

    ## How to fix
    Teach the term where it belongs, or delete the entry. If lessons use another spelling,
    add it to the entry (or as a `variants` form in `[[glossary.terms]]`).
    """
    glossary = gl.load(ctx.config, course)
    scopes = _scopes(ctx)
    summaries = ctx.summaries()
    used: set[int] = set()
    for doc in course.lessons:
        found = summaries.get(doc.relpath)
        used.update(found if found is not None else _used_entries(doc, glossary, scopes))
    for i, entry in enumerate(glossary.entries):
        if not entry.forms or i in used:
            continue
        forms = " / ".join(entry.forms)
        ctx.report_span(
            entry.path,
            entry.place("term"),
            f"glossary term {entry.label} is used in no lesson "
            f"(looked for {' / '.join(map(quote, entry.forms))} in {len(course.lessons)} lessons)",
            anchor=forms,
        )


@rule(
    "terminology/used-before-introduction",
    level="warning",
    course=True,
    options=[
        _scope_option(["prose"]),
        Option(
            "introduced-by",
            str,
            "pair",
            "which lesson introduces a term: the first one that gives it with its pair ('образ (image)'), "
            "falling back to the glossary's related lessons; or 'related': the first related lesson",
            choices=("pair", "related"),
        ),
    ],
)
def used_before_introduction(course: Course, ctx: RuleContext) -> None:
    """A term is used in a lesson that comes before the lesson introducing it.

    ## What it does
    Finds, for each glossary term, the lesson that introduces it: by default the first
    lesson in course order that gives the term with its pair ("реестр (registry)"), or
    the first of the glossary's related lessons when no lesson pairs it. Every earlier
    lesson that already uses the term is reported at its first use.

    ## Why it matters
    Students read lessons in order: a term used before it is explained reads as jargon,
    and the explanation three lessons later comes too late.

    ## Example
    The first lesson uses «реестр»; the pair «реестр (registry)» comes only in the second:
    ```toml
    [[glossary.terms]]
    term = "Реестр"
    english = "Registry"
    ```
    In `content/01-images.md`:
    ```markdown
    Готовые образы скачивают из реестра.
    ```
    In `content/02-registry.md`:
    ```markdown
    Реестр (registry) хранит образы.
    ```
    Reported at line 1, column 29 of `content/01-images.md`.

    Use instead:
    In `content/01-images.md`:
    ```markdown
    Готовые образы скачивают из реестра (registry).
    ```

    ## How to fix
    Introduce the term (with its English pair) at its first use, or rephrase the early
    lesson so it does not need the term yet.
    """
    glossary = gl.load(ctx.config, course)
    scopes = _scopes(ctx)
    mode = ctx.options.get("introduced-by", "pair")
    summaries = ctx.summaries()
    per_lesson: list[tuple[Document, FirstUses]] = []
    for doc in course.lessons:
        firsts = summaries.get(doc.relpath)
        per_lesson.append((doc, firsts if firsts is not None else _first_uses(doc, glossary, scopes)))
    for i, entry in enumerate(glossary.entries):
        if not entry.forms:
            continue
        intro: tuple[Document, Span] | None = None
        if mode == "pair":
            intro = next(
                ((doc, firsts[i][3]) for doc, firsts in per_lesson if i in firsts and firsts[i][3] is not None),
                None,
            )  # type: ignore[assignment]
        intro_doc = intro[0] if intro else None
        if intro_doc is None:
            related = [course.resolve(r) for r in entry.related]
            known = [d for d in related if d is not None and d.order_index is not None]
            intro_doc = min(known, key=lambda d: d.order_index or 0) if known else None
        if intro_doc is None or intro_doc.order_index is None:
            continue
        how = "gives it with its pair" if intro else "is its first related lesson in the glossary"
        intro_span = intro[1] if intro else None
        for doc, firsts in per_lesson:
            if doc.order_index is None or doc.order_index >= intro_doc.order_index or i not in firsts:
                continue
            span, text, line_text, _paired = firsts[i]
            related_places = [(intro_doc.relpath, intro_span, "introduced here")] if intro_span else []
            ctx.report_span(
                doc.relpath,
                span,
                f"«{quote(text)}» ({entry.label}) is used before the lesson that introduces it: {intro_doc.relpath} {how}",
                anchor=entry.forms[0],
                related=related_places,
                snippet=line_text,
            )


@rule("terminology/glossary-entry", level="error", course=True)
def glossary_entry(course: Course, ctx: RuleContext) -> None:
    """A glossary entry (or the glossary file) cannot be read through the field mapping.

    ## What it does
    Reports, at the place in the glossary file, entries that are not tables, entries
    without the term field, fields of the wrong type (a list where text is expected), a
    file whose `entries` path holds no list, and a file that is not valid JSON/YAML.

    ## Why it matters
    An entry coursecheck cannot read is checked by no terminology or bilingual rule: its
    term is silently absent from the glossary.

    ## Example
    An entry whose `term` is a list, where the glossary expects text:
    ```toml
    [glossary]
    file = "data/glossary.json"
    fields = { term = "term", english = "termEn" }
    ```
    In `data/glossary.json`:
    ```json
    [
      { "term": "Том", "termEn": "Volume" },
      { "term": ["Образ", "Имидж"], "termEn": "Image" }
    ]
    ```
    Reported at line 3, column 13 of `data/glossary.json`.

    Use instead:
    In `data/glossary.json`:
    ```json
    [
      { "term": "Том", "termEn": "Volume" },
      { "term": "Образ", "termEn": "Image" }
    ]
    ```

    ## How to fix
    Correct the entry, or the `[glossary] fields` mapping so it names the fields the file uses.
    """
    glossary = gl.load(ctx.config, course)
    doc = glossary.document
    for problem in glossary.problems:
        if doc is not None and problem.path == doc.relpath and doc.problems and course.document(doc.relpath):
            # The syntax error itself is parse/data-syntax's finding.
            if problem.message.startswith("glossary not loaded"):
                continue
        ctx.report_span(problem.path, problem.span, problem.message, doc=doc, anchor=problem.message)


# -- per-file summaries (the per-file stage: cached, parallel) ---------------------------------


@coverage_rule.summarizer
def _summarize_coverage(doc: Document, ctx: RuleContext) -> dict[int, list[tuple[Span, str]]] | None:
    """Occurrences (span, matched text) of each ``[[term]]`` whose files globs take this
    lesson, keyed by the requirement's position."""
    if doc.lesson_id is None:
        return None
    out: dict[int, list[tuple[Span, str]]] = {}
    for k, req in enumerate(requirements(ctx.config)):
        if req.files and not matches(doc.relpath, req.files):
            continue
        found = _requirement_occurrences(doc, req, _matcher(req), resolve_scopes(req.scope))
        if found:
            out[k] = found
    return out


def _used_entries(doc: Document, glossary: gl.Glossary, scopes: tuple[str, ...]) -> list[int]:
    """Positions of the glossary entries with at least one use in ``doc``."""
    # glossary.uses, not a search of its own: used-before-introduction asks for the same
    # uses of the same lesson, and they are found once.
    return [i for i, entry in enumerate(glossary.entries) if entry.forms and gl.uses(doc, entry, scopes)]


@unused_term.summarizer
def _summarize_used(doc: Document, ctx: RuleContext) -> list[int] | None:
    if doc.lesson_id is None:
        return None
    return _used_entries(doc, gl.load(ctx.config, ctx.course), _scopes(ctx))  # type: ignore[arg-type]


# entry position -> (first use's span, its text, its line's text, the first paired use's span)
FirstUses = dict[int, tuple[Span, str, "str | tuple[str, int, bool]", "Span | None"]]


def _first_uses(doc: Document, glossary: gl.Glossary, scopes: tuple[str, ...]) -> FirstUses:
    out: FirstUses = {}
    for i, entry in enumerate(glossary.entries):
        if not entry.forms:
            continue
        found = gl.uses(doc, entry, scopes)
        if not found:
            continue
        first = found[0]
        span = doc.span(first.start, first.end)
        paired = next((u for u in found if u.paired), None)
        paired_span = doc.span(paired.start, paired.end) if paired is not None else None
        out[i] = (span, first.text, _line_text(doc, span), paired_span)
    return out


@used_before_introduction.summarizer
def _summarize_first_uses(doc: Document, ctx: RuleContext) -> FirstUses | None:
    if doc.lesson_id is None:
        return None
    return _first_uses(doc, gl.load(ctx.config, ctx.course), _scopes(ctx))  # type: ignore[arg-type]


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [coverage_rule, unused_term, used_before_introduction, glossary_entry]


# -- `coursecheck terms`: the measurements behind the rules ----------------------------------


def glossary_forms(course: Course, config: Config, scopes: str = "all") -> list[dict[str, Any]]:
    """For each glossary entry: occurrences, lessons and the distinct surface forms matched
    (how inflection was resolved), for ``coursecheck terms`` and reports."""
    from collections import Counter

    glossary = gl.load(config, course)
    scope_names = resolve_scopes(scopes)
    rows = []
    for entry in glossary.entries:
        if not entry.forms:
            continue
        cov = coverage(course, entry.matcher(), None, scope_names)
        forms = Counter(text.lower() for _, _, text in cov.locations)
        rows.append({"entry": entry, "coverage": cov, "forms": forms})
    return rows


def terms_command(argv: list[str], app: CommandContext) -> int:
    """``coursecheck terms [--config FILE] [--root DIR] [--scope SCOPE]``."""
    import argparse
    from pathlib import Path

    from coursecheck.config import ConfigError
    from coursecheck.results import RunOptions

    parser = argparse.ArgumentParser(
        prog="coursecheck terms",
        description="Term coverage and the inflected forms matched for each glossary term.",
    )
    parser.add_argument("--config", type=Path, help="config file (default: the nearest .coursecheck.toml)")
    parser.add_argument("--root", type=Path, help="project root (default: the config file's folder)")
    parser.add_argument("--scope", default="all", help=f"where glossary terms count: {SCOPE_HELP}")
    app.add_plugin_arguments(parser)
    parser.add_argument(
        "--unknown",
        action="store_true",
        help="list the words no dictionary, glossary or course vocabulary knows, by frequency (to build the vocabulary)",
    )
    parser.add_argument("--min-count", type=int, default=1, help="with --unknown: only words used at least this often")
    parser.add_argument("--plain", action="store_true", help="with --unknown: one word a line (for an accept file)")
    app.add_cache_arguments(parser)
    args = parser.parse_args(argv)
    config, code = app.load_config(args.config, args.root)
    if config is None:
        return code
    assert isinstance(config, Config)
    try:
        if args.root is not None:
            config.root = args.root.resolve()
        # Installed plugins are never loaded here: term coverage is built in.
        choice = app.plugin_options(args)
        choice["entry_points"] = False
        chosen: dict[str, Any] = {**app.cache_options(args), **choice}
        options = RunOptions(select=["terminology/coverage"], **chosen)
        engine = app.engine(config, options)
        result = app.run(engine, args, "Reading the course")
        resolve_scopes(args.scope)
    except ConfigError as exc:
        app.print_config_error(exc)
        return 2
    except ValueError as exc:
        say(f"coursecheck terms: {exc}")
        return 2
    for note in result.notifications:  # what --isolated left out, a crashed plugin...
        say(f"coursecheck terms: {note.level}: {note.message}")
    course = result.course
    if course is None:
        return 2
    if args.unknown:
        from coursecheck.spellcheck import print_unknown

        print_unknown(course, config, minimum=args.min_count, plain=args.plain)
        return 0
    import io

    from coursecheck.match import morphology

    # An unchanged course prints what the last run measured (matching every inflected form
    # of every term over thousands of lessons takes seconds).
    text = engine.stored_output("terms", args.scope, morphology())
    if text is None:
        out = io.StringIO()
        _print_terms(course, config, args.scope, out)
        text = out.getvalue()
        engine.store_output("terms", text, args.scope, morphology())
    sys.stdout.write(text)
    return 0


def _print_terms(course: Any, config: Config, scope: str, out: Any) -> None:
    """The report of ``coursecheck terms``: inflection, required terms, glossary forms."""
    from coursecheck.match import morphology

    say(f"Inflection: {morphology()}", out)
    reqs = measure(course, config)
    if reqs:
        print("\nRequired terms ([[term]]):", file=out)
        for req, cov in reqs:
            met = cov.total >= req.min_occurrences and cov.lessons >= req.min_lessons
            say(
                f"  {'ok  ' if met else 'FAIL'} {req.term}: {cov.describe()} (scope {'+'.join(cov.scopes)}; "
                f"required >= {req.min_occurrences} in >= {req.min_lessons})",
                out,
            )
            for rel, n in cov.per_file.items():
                say(f"         {n:4d}  {rel}", out)
    rows = glossary_forms(course, config, scope)
    if rows:
        print(file=out)
        say(f"Glossary terms (scope {scope}):", out)
        for row in rows:
            cov = row["coverage"]
            forms = ", ".join(f"{form} {n}" for form, n in row["forms"].most_common())
            say(f"  {row['entry'].label}: {cov.total} in {cov.lessons} lessons; forms: {forms or '-'}", out)


@hookimpl
def coursecheck_commands() -> dict[str, tuple[str, Any]]:
    return {"terms": ("term coverage and the inflected forms matched for each glossary term", terms_command)}
