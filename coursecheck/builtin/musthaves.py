"""Must-haves: what a course declares it must have, measured with evidence.

Five config sections, each an array of tables (see ``docs/graph-and-musthaves.md``)::

    [[truth]]        observable facts: a term or pattern occurs N times across M files,
                     a heading exists
    [[artifact]]     a file exists, has N lines / N Mermaid diagrams / valid frontmatter,
                     contains strings or patterns, is valid JSON/YAML with JMESPath assertions
    [[key-link]]     lesson or file A relates to B: a graph edge, a link, a pattern in A,
                     or A inside folder B
    [[requirement]]  an id (MOD3-01) satisfied by named truths, artifacts, key links
    [[human-check]]  carried to the report as NEEDS HUMAN, never auto-passed

Every must-have becomes a :class:`~coursecheck.model.Verdict` (VERIFIED / FAILED / NEEDS
HUMAN, with an evidence sentence made from measurements and the numbers in ``measures``),
published as ``course.extra["verdicts"]`` for reporters. A FAILED one is also a finding of
``musthave/truth``, ``musthave/artifact``, ``musthave/key-link`` or ``musthave/requirement``,
located where it matters: the artifact, the key link's ``from`` file, or the config entry.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jmespath
import jmespath.exceptions
import regex

from coursecheck import hookimpl
from coursecheck.config import Config, ConfigProblem, did_you_mean
from coursecheck.coursecache import path_kind, read_bytes
from coursecheck.declarative import REGEX_TIMEOUT, PatternTimeout
from coursecheck.globs import GlobMatcher, compile_glob, invalid_glob, matches
from coursecheck.graph import CourseGraph, course_graph, resolve_lesson
from coursecheck.match import SCOPE_GROUPS, TermMatcher, occurrences, resolve_scopes
from coursecheck.model import FAILED, NEEDS_HUMAN, SCOPES, VERIFIED, Course, Document, Verdict
from coursecheck.rules import Rule, RuleContext, rule
from coursecheck.text import LineIndex, Span

CACHE_KEY = "coursecheck.musthaves"
SECTIONS = ("truth", "artifact", "key-link", "requirement", "human-check")
VERIFY_METHODS = ("edge", "link", "pattern", "inside")
_MAX_LINES_LISTED = 8
_CYRILLIC = re.compile("[А-Яа-яЁё]")

# key -> (accepted types, description used in messages)
_STR = ((str,), "a string")
_INT = ((int,), "an integer >= 0")
_BOOL = ((bool,), "true or false")
_STRS = ((list,), "a list of strings")
_STR_OR_STRS = ((str, list), "a string or a list of strings")

KEYS: dict[str, dict[str, tuple[tuple[type, ...], str]]] = {
    "truth": {
        "id": _STR,
        "text": _STR,
        "term": _STR_OR_STRS,
        "pattern": _STR,
        "heading": _STR,
        "files": _STR_OR_STRS,
        "scope": _STR_OR_STRS,
        "min-occurrences": _INT,
        "max-occurrences": _INT,
        "min-files": _INT,
        "case-sensitive": _BOOL,
        "inflect": _BOOL,
    },
    "artifact": {
        "id": _STR,
        "path": _STR,
        "provides": _STR,
        "min-lines": _INT,
        "max-lines": _INT,
        "min-mermaid": _INT,
        "frontmatter": ((bool, list), "true or a list of required field names"),
        "contains": _STRS,
        "patterns": _STRS,
        "json": _STRS,
        "yaml": _STRS,
    },
    "key-link": {
        "id": _STR,
        "from": _STR,
        "to": _STR,
        "via": _STR,
        "verify": _STR_OR_STRS,
        "pattern": _STR,
    },
    "requirement": {"id": _STR, "text": _STR, "satisfied-by": _STRS},
    "human-check": {"id": _STR, "title": _STR, "test": _STR, "expected": _STR, "why": _STR},
}
REQUIRED = {"truth": ("text",), "artifact": ("path",), "key-link": ("from", "to"), "requirement": ("id",)}
REQUIRED["human-check"] = ("test",)


# -- the model --------------------------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    """One must-have as declared: its section, index, id, config place and raw table."""

    kind: str
    index: int
    id: str
    raw: dict[str, Any]
    file: str
    line: int

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def strings(self, key: str) -> list[str]:
        value = self.raw.get(key)
        if isinstance(value, str):
            return [value]
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@dataclass(slots=True)
class Outcome:
    """A verdict, and where its finding goes when it FAILED."""

    entry: Entry
    verdict: Verdict
    path: str = ""
    span: Span | None = None
    doc: Document | None = None
    problem: str = ""  # the finding's message


@dataclass(slots=True)
class MustHaves:
    entries: dict[str, list[Entry]] = field(default_factory=dict)

    def of(self, kind: str) -> list[Entry]:
        return self.entries.get(kind, [])


def _default_id(kind: str, index: int, raw: dict[str, Any]) -> str:
    if isinstance(raw.get("id"), str) and raw["id"].strip():
        return raw["id"].strip()
    if kind == "artifact" and isinstance(raw.get("path"), str):
        return raw["path"]
    if kind == "key-link" and isinstance(raw.get("from"), str) and isinstance(raw.get("to"), str):
        return f"{raw['from']} -> {raw['to']}"
    return f"{kind}-{index + 1}"


def read_entries(config: Config) -> tuple[MustHaves, list[tuple[str, int, str]]]:
    """The must-haves of ``config`` and the problems of their declaration."""
    model = MustHaves()
    problems: list[tuple[str, int, str]] = []
    for kind in SECTIONS:
        raw = config.sections.get(kind)
        if raw is None:
            continue
        if not isinstance(raw, list):
            problems.append((kind, config.where(kind)[1], f"must be an array of tables: [[{kind}]]"))
            continue
        for i, table in enumerate(raw):
            file, line = config.where(kind, i)
            if not isinstance(table, dict):
                problems.append((f"{kind}[{i}]", line, f"must be a table: [[{kind}]]"))
                continue
            model.entries.setdefault(kind, []).append(Entry(kind, i, _default_id(kind, i, table), table, file, line))
    return model, problems


class _TimedPattern:
    """A user pattern compiled with the ``regex`` module, matched with a time limit: a
    catastrophic pattern fails its must-have instead of hanging the run."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self._compiled = regex.compile(pattern, flags | regex.VERSION0)

    def finditer(self, text: str) -> list[Any]:
        try:
            return list(self._compiled.finditer(text, timeout=REGEX_TIMEOUT))
        except TimeoutError:
            raise PatternTimeout(self.pattern) from None

    def search(self, text: str) -> Any:
        try:
            return self._compiled.search(text, timeout=REGEX_TIMEOUT)
        except TimeoutError:
            raise PatternTimeout(self.pattern) from None


@lru_cache(maxsize=512)
def _regex(pattern: str, flags: int = 0) -> _TimedPattern:
    return _TimedPattern(pattern, flags)


def _timed_out(entry: Entry, exc: PatternTimeout) -> Outcome:
    """A FAILED outcome for a must-have whose pattern ran past the time limit."""
    problem = (
        f"[[{entry.kind}]] '{entry.id}': pattern /{exc.pattern}/ took longer than {REGEX_TIMEOUT:g} s "
        "(catastrophic backtracking?); simplify it"
    )
    verdict = Verdict(entry.kind, entry.id, str(entry.raw.get("text", entry.id)), FAILED, problem, {"timeout": True})
    return Outcome(entry, verdict, problem=problem)


@lru_cache(maxsize=256)
def _glob(pattern: str) -> GlobMatcher:
    return compile_glob(pattern)


@lru_cache(maxsize=256)
def _jmespath(expression: str) -> Any:
    return jmespath.compile(expression)


def validate(config: Config) -> list[tuple[str, int, str]]:
    """Problems of the must-haves declared in the TOML config (``coursecheck_configure``)."""
    return [(key, line, message) for key, line, message, entry in _validate(config) if not _contributed(entry)]


def validate_contributed(config: Config) -> list[ConfigProblem]:
    """Problems of the must-haves plugins contributed, at their own file and line."""
    return [
        ConfigProblem(entry.file, line, key, message)
        for key, line, message, entry in _validate(config)
        if entry is not None and _contributed(entry)
    ]


def _contributed(entry: Entry | None) -> bool:
    return entry is not None and isinstance(entry.raw, Contributed)


def _validate(config: Config) -> list[tuple[str, int, str, Entry | None]]:
    model, shape_problems = read_entries(config)
    problems: list[tuple[str, int, str, Entry | None]] = [(k, n, m, None) for k, n, m in shape_problems]
    ids: dict[str, dict[str, Entry]] = {}
    for kind in SECTIONS:
        for entry in model.of(kind):
            problems.extend((k, n, m, entry) for k, n, m in _validate_entry(config, entry))
            seen = ids.setdefault(kind, {})
            if entry.id in seen:
                first = seen[entry.id]
                at = f"line {first.line}" if first.file == entry.file else f"{first.file}:{first.line}"
                problems.append(
                    (
                        f"{kind}[{entry.index}].id",
                        _line(config, entry, "id"),
                        f"duplicate {kind} id '{entry.id}' (first at {at})",
                        entry,
                    )
                )
            else:
                seen[entry.id] = entry
    for entry in model.of("requirement"):
        for j, ref in enumerate(entry.strings("satisfied-by")):
            kind, _, name = ref.partition(":")
            key = f"requirement[{entry.index}].satisfied-by[{j}]"
            line = _line(config, entry, "satisfied-by")
            if kind not in SECTIONS or not name:
                problems.append(
                    (key, line, f"'{ref}' must be KIND:ID with KIND one of {', '.join(s for s in SECTIONS)}", entry)
                )
            elif name not in ids.get(kind, {}):
                known = list(ids.get(kind, {}))
                problems.append((key, line, f"no {kind} with id '{name}'{did_you_mean(name, known)}", entry))
    return problems


def _line(config: Config, entry: Entry, key: str) -> int:
    return config.where(entry.kind, entry.index, key)[1] or entry.line


def _validate_entry(config: Config, entry: Entry) -> list[tuple[str, int, str]]:
    problems: list[tuple[str, int, str]] = []
    known = KEYS[entry.kind]
    prefix = f"{entry.kind}[{entry.index}]"

    def bad(key: str, message: str) -> None:
        problems.append(
            (f"{prefix}.{key}" if key else prefix, _line(config, entry, key) if key else entry.line, message)
        )

    for key, value in entry.raw.items():
        spec = known.get(key)
        if spec is None:
            bad(key, f"unknown key{did_you_mean(key, known)} (known: {', '.join(known)})")
            continue
        types, description = spec
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if ok and isinstance(value, int) and not isinstance(value, bool) and value < 0:
            ok = False
        if ok and isinstance(value, list) and key != "frontmatter":
            ok = all(isinstance(v, str) for v in value)
        if ok and key == "frontmatter" and isinstance(value, list):
            ok = all(isinstance(v, str) for v in value)
        if not ok:
            bad(key, f"must be {description}, not {_type_name(value)}")
    for key in REQUIRED.get(entry.kind, ()):
        value = entry.raw.get(key)
        if not isinstance(value, str) or not value.strip():
            bad("", f"[[{entry.kind}]] needs '{key}'")
    if problems:
        return problems
    if entry.kind == "truth":
        checks = [k for k in ("term", "pattern", "heading") if k in entry.raw]
        if len(checks) != 1:
            bad("", "a truth checks exactly one of 'term', 'pattern' or 'heading'")
        for key in ("pattern", "heading"):
            if key in entry.raw:
                why = _regex_problem(entry.raw[key], not entry.get("case-sensitive", True))
                if why:
                    bad(key, why)
        for pattern in entry.strings("files"):
            why = invalid_glob(pattern)
            if why:
                bad("files", f"glob '{pattern}': {why}")
        for scope in entry.strings("scope"):
            try:
                resolve_scopes(scope)
            except ValueError as exc:
                known = [*SCOPE_GROUPS, *SCOPES]
                bad("scope", f"{exc}{did_you_mean(scope, known)}")
        if "term" in entry.raw and not any(t.strip() for t in entry.strings("term")):
            bad("term", "must name at least one non-empty term")
    elif entry.kind == "artifact":
        path = entry.raw["path"]
        why = invalid_glob(path)
        if why:
            bad("path", why)
        for pattern in entry.strings("patterns"):
            why = _regex_problem(pattern)
            if why:
                bad("patterns", why)
        for key in ("json", "yaml"):
            for expression in entry.strings(key):
                try:
                    _jmespath(expression)
                except jmespath.exceptions.JMESPathError as exc:
                    first = str(exc).strip().splitlines()
                    bad(key, f"invalid JMESPath expression {expression!r}: {first[0] if first else exc}")
    elif entry.kind == "key-link":
        methods = entry.strings("verify")
        for method in methods:
            if method not in VERIFY_METHODS:
                bad(
                    "verify",
                    f"unknown verification '{method}'{did_you_mean(method, VERIFY_METHODS)} "
                    f"(one of: {', '.join(VERIFY_METHODS)})",
                )
        if "pattern" in methods and "pattern" not in entry.raw:
            bad("verify", "verify = 'pattern' needs a 'pattern' to look for in 'from'")
        if "pattern" in entry.raw:
            why = _regex_problem(entry.raw["pattern"])
            if why:
                bad("pattern", why)
    return problems


def _regex_problem(pattern: str, ignore_case: bool = False) -> str | None:
    try:
        _regex(pattern, re.IGNORECASE if ignore_case else 0)
    except (re.error, regex.error) as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    return None


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", str: "a string", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__
    )


# -- helpers ----------------------------------------------------------------------------------


def config_relpath(config: Config, file: str) -> str:
    """A config file's path for a finding: relative to the project root when inside it."""
    path = Path(file)
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.resolve().relative_to(config.root.resolve()).as_posix()
    except (ValueError, OSError):
        return file


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _short_names(paths: Iterable[str]) -> dict[str, str]:
    """File names where they are unique, longer tails where they are not."""
    paths = list(dict.fromkeys(paths))
    names = {p: posixpath.basename(p) for p in paths}
    depth = 1
    while len(set(names.values())) < len(names) and depth < 8:
        depth += 1
        names = {p: "/".join(p.split("/")[-depth:]) for p in paths}
    return names


def _lines_text(lines: list[int]) -> str:
    shown = ", ".join(map(str, lines[:_MAX_LINES_LISTED]))
    more = ", …" if len(lines) > _MAX_LINES_LISTED else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _diagram_counter(config: Config) -> Callable[[Document], int]:
    """Mermaid diagrams a reader sees, counted by the mermaid family's helper."""
    try:
        from coursecheck.builtin.mermaid import chart_components, diagrams

        components = chart_components(config)
        return lambda doc: sum(1 for d in diagrams(doc, components) if not d.is_empty)
    except ImportError:  # pragma: no cover - the mermaid family is part of coursecheck
        return lambda doc: (
            sum(1 for b in doc.code_blocks if b.language.lower() == "mermaid")
            + sum(1 for c in doc.components if c.name == "Mermaid")
        )


@dataclass(slots=True)
class _File:
    """A file a must-have names: a course document, or a file read from disk."""

    relpath: str
    doc: Document | None
    text: str | None
    error: str = ""

    @property
    def line_count(self) -> int:
        if self.doc is not None:
            return self.doc.line_count
        text = self.text or ""
        if not text:
            return 0
        return text.count("\n") + (0 if text.endswith("\n") else 1)


def _open(course: Course, written: str) -> _File | None:
    """A course document by path or lesson id, else a file on disk under the root."""
    doc = course.document(written) or resolve_lesson(course, written)
    if doc is not None:
        return _File(doc.relpath, doc, doc.source)
    rel = written.strip().removeprefix("./")
    if not rel or rel.startswith("/") or ".." in rel.split("/"):
        return None
    path = course.root / rel
    kind = path_kind(course, path)  # recorded, as the read below: the course stage's cache key
    if kind == "other":  # reading a named pipe would block the run
        return _File(rel, None, None, "not a regular file (a FIFO, socket or device)")
    if kind != "file":
        return None
    try:
        raw = read_bytes(course, path)
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        return _File(rel, None, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    return _File(rel, None, text)


def _parsed(file: _File) -> Document | None:
    """A Markdown/MDX document for a file outside the course globs (to count diagrams)."""
    if file.doc is not None:
        return file.doc
    if file.text is None or not file.relpath.lower().endswith((".md", ".mdx", ".markdown")):
        return None
    from coursecheck.parse.markdown import parse_markdown

    return parse_markdown(Path(file.relpath), file.relpath, file.text, mdx=file.relpath.lower().endswith(".mdx"))


# -- truths -----------------------------------------------------------------------------------


def _truth_documents(course: Course, entry: Entry) -> list[Document]:
    """The lessons a truth is measured in: those matching ``files`` (default: every lesson)."""
    patterns = [p for p in entry.strings("files") if p.strip()]
    if not patterns:
        return list(course.lessons)
    compiled = [_glob(p) for p in patterns]
    return [d for d in course.lessons if any(rx.match(d.relpath) for rx in compiled)]


def _scopes(entry: Entry) -> tuple[str, tuple[str, ...]]:
    """The scope as written (for reports) and the segment scopes it means (shared with
    ``[[term]]``: ``prose`` includes headings, ``code`` inline code, ``diagrams`` props)."""
    names = entry.strings("scope") or ["all"]
    return ",".join(names), resolve_scopes(names)


TRUTH_RULE = "musthave/truth"


def _truth_signature(entry: Entry) -> str:
    return repr(sorted(entry.raw.items(), key=lambda item: item[0]))


def _truth_hits(doc: Document, entry: Entry, memo: dict[str, Any]) -> list[Span]:
    """The spans of a term or pattern truth's occurrences in ``doc`` (segment order)."""
    _scope_name, scopes = _scopes(entry)
    if "term" in entry.raw:
        key = "term\0" + _truth_signature(entry)
        matcher = memo.get(key)
        if matcher is None:
            terms = [t for t in entry.strings("term") if t.strip()]
            # Inflection defaults to on for Russian terms, as for the terminology family's [[term]].
            inflect = entry.get("inflect", any(_CYRILLIC.search(t) for t in terms))
            matcher = memo[key] = TermMatcher(
                *terms, case_sensitive=entry.get("case-sensitive", False), inflect=inflect
            )
        return [doc.span(start, end) for start, end, _text in occurrences(doc, matcher, resolve_scopes(scopes))]
    rx = _regex(entry.raw["pattern"], 0 if entry.get("case-sensitive", True) else re.IGNORECASE)
    out = []
    for seg in doc.iter_segments(scopes):
        for m in rx.finditer(seg.text):
            if m.end() > m.start():
                out.append(doc.span(*seg.range(m.start(), m.end())))
    return out


def _truth_hits_of(course: Course, doc: Document, entry: Entry) -> list[Span]:
    """From the truth rule's per-file summary when it has this truth (as declared now),
    else measured here (a parse of a lesson the course stage holds as a record)."""
    summary = course.summaries.get(doc.relpath, {}).get(TRUTH_RULE)
    found = summary.get(entry.id) if summary is not None else None
    if found is not None and found[0] == _truth_signature(entry) and found[1] is not None:
        return found[1]
    return _truth_hits(doc, entry, course.cache.setdefault("musthave.truth-matchers", {}))


def evaluate_truth(course: Course, entry: Entry) -> Outcome:
    docs = _truth_documents(course, entry)
    unit = "lesson"
    scope_name, _segment_scopes = _scopes(entry)
    max_occurrences = entry.get("max-occurrences")
    # A truth with only a maximum is a ban: zero occurrences satisfy it.
    min_occurrences = entry.get("min-occurrences", 0 if max_occurrences is not None else 1)
    min_files = entry.get("min-files", 0 if max_occurrences is not None else 1)
    per_file: dict[str, list[tuple[int, Span]]] = {}
    what: str
    if "heading" in entry.raw:
        rx = _regex(entry.raw["heading"], 0 if entry.get("case-sensitive", True) else re.IGNORECASE)
        what = f"/{entry.raw['heading']}/"
        headings: dict[str, list[str]] = {}
        for doc in docs:
            for heading in doc.headings:
                if rx.search(heading.text):
                    per_file.setdefault(doc.relpath, []).append((heading.span.line, heading.span))
                    headings.setdefault(doc.relpath, []).append(heading.text)
    else:
        if "term" in entry.raw:
            terms = [t for t in entry.strings("term") if t.strip()]
            what = " / ".join(f"'{t}'" for t in terms)
            # The terminology family's counting (its lessons, its globs): one meaning of "an occurrence".
            globs = entry.strings("files")
            measured_docs = [d for d in course.lessons if not globs or matches(d.relpath, globs)]
        else:
            what = f"/{entry.raw['pattern']}/"
            measured_docs = docs
        for doc in measured_docs:
            for span in _truth_hits_of(course, doc, entry):
                per_file.setdefault(doc.relpath, []).append((span.line, span))
    for hits in per_file.values():
        hits.sort(key=lambda h: (h[1].line, h[1].column))
    occurrences = sum(len(h) for h in per_file.values())
    files = len(per_file)
    names = _short_names(per_file)
    counts = {p: len(h) for p, h in per_file.items()}
    ok = occurrences >= min_occurrences and files >= min_files
    if max_occurrences is not None and occurrences > max_occurrences:
        ok = False
    noun = "heading" if "heading" in entry.raw else "occurrence"
    if occurrences == 0:
        where = f"{_plural(len(docs), unit)}" + (
            f" matching {', '.join(entry.strings('files'))}" if entry.strings("files") else ""
        )
        evidence = (
            f"no heading matches {what} in {where}" if noun == "heading" else f"no occurrence of {what} in {where}"
        )
    elif "heading" in entry.raw:
        parts = [
            f'"{text}" at {names[p]}:{line}'
            for p, texts in headings.items()
            for text, (line, _) in zip(texts, per_file[p], strict=True)
        ]
        evidence = f"{_plural(occurrences, 'heading')}: " + "; ".join(parts[:_MAX_LINES_LISTED])
        if len(parts) > _MAX_LINES_LISTED:
            evidence += "; …"
    elif files == 1:
        (path, hits), *_ = per_file.items()
        evidence = f"{_plural(occurrences, 'occurrence')} in {names[path]} ({_lines_text([h[0] for h in hits])})"
    else:
        top = max(counts, key=lambda p: (counts[p], -list(counts).index(p)))
        firsts = ", ".join(f"{names[p]}:{h[0][0]}" for p, h in per_file.items())
        evidence = (
            f"{_plural(occurrences, 'occurrence')} across {files} {unit}s; most in {names[top]} ({counts[top]}); "
            f"first at {firsts}"
        )
    if not ok:
        need = f"need ≥ {min_occurrences}"
        if min_files > 1:
            need += f" across ≥ {min_files} {unit}s"
        if max_occurrences is not None:
            need = f"need ≤ {max_occurrences}" if occurrences > max_occurrences else need
        evidence = f"{evidence} ({need})"
    measures = {
        "occurrences": occurrences,
        "files": files,
        "per_file": counts,
        "lines": {p: [h[0] for h in hits] for p, hits in per_file.items()},
        "scope": scope_name,
        "checked_files": len(docs),
        "unit": unit,
        "min_occurrences": min_occurrences,
        "min_files": min_files,
    }
    if max_occurrences is not None:
        measures["max_occurrences"] = max_occurrences
    verdict = Verdict(
        "truth",
        entry.id,
        entry.get("text", ""),
        VERIFIED if ok else FAILED,
        evidence,
        measures,
        [(p, hits[0][1]) for p, hits in per_file.items()],
    )
    return Outcome(entry, verdict, problem=f"truth '{entry.id}' does not hold: {evidence}")


# -- artifacts --------------------------------------------------------------------------------


def _jmes_truthy(value: Any) -> bool:
    """JMESPath's truth: false, null, "", [] and {} are false; every number is true."""
    return not (value is None or value is False or value == "" or value == [] or value == {})


def _compact(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _load_data(file: _File, kind: str) -> tuple[Any, str, int]:
    """(data, error, error line) of a JSON or YAML file."""
    if file.doc is not None and file.doc.kind == kind and file.doc.data is not None:
        return file.doc.data, "", 0
    text = file.text or ""
    if kind == "json":
        try:
            return json.loads(text), "", 0
        except json.JSONDecodeError as exc:
            return None, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", exc.lineno
        except RecursionError:
            return None, "JSON nested too deeply", 1
    from coursecheck.parse.yamlpos import YamlProblem, load_with_places

    index = LineIndex(text)
    try:
        data, _ = load_with_places(text, index, 0)
        return data, "", 0
    except YamlProblem as exc:
        line = index.position(exc.offset)[0]
        return None, f"invalid YAML: {exc} (line {line})", line


def evaluate_artifact(
    course: Course, config: Config, entry: Entry, count_diagrams: Callable[[Document], int]
) -> Outcome:
    written = entry.raw["path"]
    provides = entry.get("provides", "")
    file = _open(course, written)
    if file is None or file.error:
        evidence = f"{written}: {file.error if file else 'no such file'}"
        verdict = Verdict("artifact", entry.id, provides, FAILED, evidence, {"exists": False, "path": written})
        return Outcome(entry, verdict, problem=f"artifact '{written}' is missing: {evidence}")
    measures: dict[str, Any] = {"exists": True, "path": file.relpath}
    good: list[str] = []
    bad: list[str] = []
    fail_line = 1
    lines = file.line_count
    measures["lines"] = lines
    line_text = _plural(lines, "line")
    if "min-lines" in entry.raw and lines < entry.raw["min-lines"]:
        bad.append(f"{line_text} (need ≥ {entry.raw['min-lines']})")
    elif "max-lines" in entry.raw and lines > entry.raw["max-lines"]:
        bad.append(f"{line_text} (need ≤ {entry.raw['max-lines']})")
    else:
        good.append(line_text)
    doc = _parsed(file)
    if "min-mermaid" in entry.raw:
        count = count_diagrams(doc) if doc is not None else 0
        measures["mermaid"] = count
        text = f"{count} Mermaid diagram{'s' if count != 1 else ''}"
        (good if count >= entry.raw["min-mermaid"] else bad).append(
            text if count >= entry.raw["min-mermaid"] else f"{text} (need ≥ {entry.raw['min-mermaid']})"
        )
    if "frontmatter" in entry.raw and entry.raw["frontmatter"] is not False:
        required = entry.raw["frontmatter"] if isinstance(entry.raw["frontmatter"], list) else []
        fm = doc.frontmatter if doc is not None else None
        broken = [p for p in (doc.problems if doc is not None else []) if p.rule_id == "parse/frontmatter"]
        missing = [k for k in required if fm is None or fm.data.get(k) in (None, "", [])]
        valid = fm is not None and not broken and not missing
        measures["frontmatter_valid"] = valid
        if fm is None and not broken:
            bad.append("no frontmatter")
        elif broken:
            bad.append(f"frontmatter invalid: {broken[0].message} (line {broken[0].span.line})")
            fail_line = broken[0].span.line
        elif missing:
            bad.append(f"frontmatter lacks {', '.join(missing)}")
            fail_line = fm.span.line
        else:
            good.append("frontmatter valid" + (f" ({', '.join(required)})" if required else ""))
    source = file.text or ""
    contains = entry.strings("contains")
    if contains:
        found = {s: source.count(s) for s in contains}
        measures["contains"] = found
        absent = [s for s, n in found.items() if n == 0]
        if absent:
            bad.append("lacks " + ", ".join(f"'{s}'" for s in absent))
        else:
            good.append("contains " + ", ".join(f"'{s}' ({n}×)" for s, n in found.items()))
    patterns = entry.strings("patterns")
    if patterns:
        pattern_counts: dict[str, int] = {}
        for pattern in patterns:
            hits = list(_regex(pattern, re.MULTILINE).finditer(source))
            pattern_counts[pattern] = len(hits)
            if hits:
                line = source.count("\n", 0, hits[0].start()) + 1
                good.append(f"/{pattern}/ {len(hits)}× (first at line {line})")
            else:
                bad.append(f"no match for /{pattern}/")
        measures["patterns"] = pattern_counts
    kinds = [k for k in ("json", "yaml") if k in entry.raw]
    lower = file.relpath.lower()
    if not kinds and (file.doc is None or file.doc.kind in ("json", "yaml")):
        kinds = ["json"] if lower.endswith(".json") else ["yaml"] if lower.endswith((".yaml", ".yml")) else []
    for kind in kinds:
        data, error, error_line = _load_data(file, kind)
        measures[f"{kind}_valid"] = not error
        if error:
            bad.append(error)
            fail_line = error_line or fail_line
            continue
        good.append(f"valid {kind.upper()}")
        results: dict[str, Any] = {}
        for expression in entry.strings(kind):
            try:
                value = _jmespath(expression).search(data)
            except jmespath.exceptions.JMESPathError as exc:
                bad.append(f"{expression} → error: {str(exc).strip().splitlines()[0]}")
                results[expression] = None
                continue
            results[expression] = value
            shown = f"{expression} → {_compact(value)}"
            (good if _jmes_truthy(value) else bad).append(shown if _jmes_truthy(value) else f"{shown} (false)")
        if results:
            measures["queries"] = {k: _jmes_truthy(v) for k, v in results.items()}
    ok = not bad
    evidence = ", ".join(bad + good) if not ok else ", ".join(good)
    what = f"[[artifact]] '{entry.id}'" if "id" in entry.raw else "[[artifact]] must-have of this file"
    if provides:
        what += f" ({provides})"
    location = (file.relpath, Span.point(fail_line if not ok else 1))
    verdict = Verdict("artifact", entry.id, provides, VERIFIED if ok else FAILED, evidence, measures, [location])
    if file.doc is None and file.text is not None:
        span = Span.point(min(fail_line, max(lines, 1)))
    else:
        span = Span.point(fail_line)
    return Outcome(
        entry,
        verdict,
        path=file.relpath,
        span=span,
        doc=file.doc,
        problem=f"{what} does not hold: {', '.join(bad)}",
    )


# -- key links --------------------------------------------------------------------------------


@dataclass(slots=True)
class _End:
    written: str
    lesson: Document | None = None
    file: _File | None = None
    folder: str = ""

    @property
    def relpath(self) -> str:
        if self.lesson is not None:
            return self.lesson.relpath
        if self.file is not None:
            return self.file.relpath
        return self.folder

    @property
    def name(self) -> str:
        return posixpath.basename(self.relpath.rstrip("/")) + ("/" if self.folder else "")


def _end(course: Course, written: str) -> _End | None:
    lesson = resolve_lesson(course, written)
    if lesson is not None:
        return _End(written, lesson=lesson, file=_File(lesson.relpath, lesson, lesson.source))
    file = _open(course, written)
    if file is not None:
        return _End(written, file=file)
    rel = written.strip().removeprefix("./")
    if rel and not rel.startswith("/") and ".." not in rel.split("/") and path_kind(course, course.root / rel) == "dir":
        return _End(written, folder=rel.rstrip("/") + "/")
    return None


def _edge_evidence(cg: CourseGraph, a: _End, b: _End) -> str | None:
    if a.lesson is None or b.lesson is None:
        return None
    refs = [*cg.edge_references(a.relpath, b.relpath), *cg.edge_references(b.relpath, a.relpath)]
    for kind in ("prerequisite", "link"):
        for ref in refs:
            if ref.kind == kind and ref.source is not None:
                name = posixpath.basename(ref.source.relpath)
                if kind == "prerequisite":
                    return f"{name} lists {ref.written} as a prerequisite (line {ref.span.line})"
                return f"{name} links to {ref.written} (line {ref.span.line})"
    return None


def _broken_links(cg: CourseGraph, a: _End) -> str:
    """What ``from`` links to that resolves to nothing, as a hint for a failed link check."""
    broken = [r for r in cg.unresolved if r.kind == "link" and r.source is not None and r.source is a.lesson]
    if not broken:
        return ""
    shown = ", ".join(f"'{r.written}' (line {r.span.line})" for r in broken[:3])
    return f"; its link{'s' if len(broken) > 1 else ''} {shown} lead{'' if len(broken) > 1 else 's'} to no lesson"


def _link_evidence(cg: CourseGraph, a: _End, b: _End) -> str | None:
    doc = a.lesson or (a.file.doc if a.file else None) or (_parsed(a.file) if a.file else None)
    if doc is None:
        return None
    if b.lesson is not None:
        for ref in cg.edge_references(a.relpath, b.relpath):
            if ref.kind == "link":
                return f"{a.name} links to {ref.written} (line {ref.span.line})"
        return None
    target = b.relpath.rstrip("/")
    for link in doc.links:
        href = link.href.split("#", 1)[0].split("?", 1)[0]
        if not href or "://" in href:
            continue
        if href.startswith("/"):
            resolved = href.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(doc.relpath), href))
        if resolved.rstrip("/") == target:
            return f"{a.name} links to {link.href} (line {link.span.line})"
    return None


def evaluate_key_link(course: Course, cg: CourseGraph, entry: Entry) -> Outcome:
    via = entry.get("via", "")
    ends = {key: _end(course, entry.raw[key]) for key in ("from", "to")}
    missing = [f"{key} '{entry.raw[key]}' is no lesson, file or folder" for key, end in ends.items() if end is None]
    measures: dict[str, Any] = {"from": entry.raw["from"], "to": entry.raw["to"]}
    a, b = ends["from"], ends["to"]
    if a is None or b is None:
        evidence = "; ".join(missing)
        verdict = Verdict("key-link", entry.id, via, FAILED, evidence, measures)
        return Outcome(entry, verdict, problem=f"key link '{entry.id}' cannot be checked: {evidence}")
    measures["from"], measures["to"] = a.relpath, b.relpath
    methods = entry.strings("verify")
    if not methods:
        if "pattern" in entry.raw:
            methods = ["pattern"]
        elif a.lesson is not None and b.lesson is not None:
            methods = ["edge"]
        elif b.folder:
            methods = ["inside"]
        else:
            methods = ["link"]
    measures["verify"] = methods
    good: list[str] = []
    bad: list[str] = []
    for method in methods:
        if method == "edge":
            found = _edge_evidence(cg, a, b)
            measures["edge"] = found is not None
            if found:
                good.append(found)
            elif a.lesson is None or b.lesson is None:
                bad.append(f"an edge needs two lessons; {'from' if a.lesson is None else 'to'} is a file")
            else:
                bad.append(f"no prerequisite or link between {a.name} and {b.name}")
        elif method == "link":
            found = _link_evidence(cg, a, b)
            measures["link"] = found is not None
            target = cg.display(b.lesson) if b.lesson is not None else b.relpath
            (good if found else bad).append(found or f"{a.name} has no link to {target}{_broken_links(cg, a)}")
        elif method == "pattern":
            pattern = entry.raw.get("pattern", "")
            text = a.file.text if a.file is not None and a.file.text is not None else ""
            hits = list(_regex(pattern, re.MULTILINE).finditer(text)) if pattern else []
            measures["pattern_count"] = len(hits)
            if hits:
                lines = sorted({text.count("\n", 0, m.start()) + 1 for m in hits})
                good.append(f"/{pattern}/ found {len(hits)}× in {a.name} ({_lines_text(lines)})")
            else:
                bad.append(f"/{pattern}/ not found in {a.name}")
        elif method == "inside":
            folder = b.folder or (posixpath.dirname(b.relpath) + "/")
            inside = a.relpath.startswith(folder)
            measures["inside"] = inside
            (good if inside else bad).append(f"{a.name} is {'' if inside else 'not '}in {folder}")
    ok = not bad
    evidence = "; ".join(bad + good)
    verdict = Verdict(
        "key-link",
        entry.id,
        via,
        VERIFIED if ok else FAILED,
        evidence,
        measures,
        [(a.relpath, Span.point(1))] if not a.folder else [],
    )
    path, span, doc = "", None, None
    if a.lesson is not None:
        path, doc = a.lesson.relpath, a.lesson
        fm = a.lesson.frontmatter
        span = a.lesson.span(0, 0)
        if fm is not None:
            span = (
                fm.places.get((cg.settings.prerequisites_field, "#key")) or fm.places.get(("title", "#key")) or fm.span
            )
    elif a.file is not None:
        path, doc, span = a.file.relpath, a.file.doc, Span.point(1)
    return Outcome(
        entry,
        verdict,
        path=path,
        span=span,
        doc=doc,
        problem=f"key link '{entry.id}' ({via or 'declared'}) does not hold: {evidence}",
    )


# -- requirements and human checks ----------------------------------------------------------


def _short(verdict: Verdict) -> str:
    if verdict.kind == "artifact":
        name = posixpath.basename(str(verdict.measures.get("path", verdict.id)))
        lines = verdict.measures.get("lines")
        return f"{name} ({lines} lines)" if lines is not None else name
    return f"{verdict.kind} {verdict.id}"


def _name(verdict: Verdict) -> str:
    if verdict.kind == "artifact":
        return posixpath.basename(str(verdict.measures.get("path", verdict.id)))
    return verdict.id


def evaluate_requirement(entry: Entry, verdicts: dict[tuple[str, str], Verdict]) -> Outcome:
    parts = []
    for ref in entry.strings("satisfied-by"):
        kind, _, name = ref.partition(":")
        found = verdicts.get((kind, name))
        parts.append((ref, found))
    failed = [(r, v) for r, v in parts if v is None or v.status == FAILED]
    human = [(r, v) for r, v in parts if v is not None and v.status == NEEDS_HUMAN]
    if not parts:
        status, state = FAILED, "BLOCKED"
        evidence = "nothing is named in satisfied-by"
    elif failed:
        status, state = FAILED, "BLOCKED"
        evidence = "blocked by " + "; ".join(
            f"{v.kind} {_name(v)}: {v.evidence}" if v is not None else f"{r} (unknown)" for r, v in failed
        )
    elif human:
        status, state = NEEDS_HUMAN, "NEEDS HUMAN"
        evidence = "waits for " + ", ".join(_short(v) for _, v in human if v is not None)
    else:
        status, state = VERIFIED, "SATISFIED"
        evidence = " + ".join(_short(v) for _, v in parts if v is not None)
    measures = {
        "state": state,
        "satisfied_by": [{"ref": r, "status": v.status if v is not None else FAILED} for r, v in parts],
    }
    verdict = Verdict("requirement", entry.id, entry.get("text", ""), status, evidence, measures)
    return Outcome(entry, verdict, problem=f"requirement {entry.id} is not satisfied: {evidence}")


def evaluate_human_check(entry: Entry) -> Outcome:
    expected, why = entry.get("expected", ""), entry.get("why", "")
    pieces = [f"expected: {expected}" if expected else "", f"why a person: {why}" if why else ""]
    verdict = Verdict(
        "human-check",
        entry.id,
        entry.raw["test"],
        NEEDS_HUMAN,
        "; ".join(p for p in pieces if p) or "to be checked by a person",
        {"title": entry.get("title", ""), "test": entry.raw["test"], "expected": expected, "why": why},
    )
    return Outcome(entry, verdict)


# -- evaluation, once per run ---------------------------------------------------------------


def evaluate(course: Course, config: Config) -> list[Outcome]:
    """Every must-have's outcome, computed once and published as ``course.extra["verdicts"]``."""
    cached = course.cache.get(CACHE_KEY)
    if isinstance(cached, list):
        return cached
    model, _ = read_entries(config)
    outcomes: list[Outcome] = []
    count_diagrams = _diagram_counter(config)
    graph = course_graph(course, config) if model.of("key-link") else None
    for entry in model.of("truth"):
        try:
            outcomes.append(evaluate_truth(course, entry))
        except PatternTimeout as exc:
            outcomes.append(_timed_out(entry, exc))
    for entry in model.of("artifact"):
        try:
            outcomes.append(evaluate_artifact(course, config, entry, count_diagrams))
        except PatternTimeout as exc:
            outcomes.append(_timed_out(entry, exc))
    for entry in model.of("key-link"):
        assert graph is not None
        try:
            outcomes.append(evaluate_key_link(course, graph, entry))
        except PatternTimeout as exc:
            outcomes.append(_timed_out(entry, exc))
    for entry in model.of("human-check"):
        outcomes.append(evaluate_human_check(entry))
    by_id = {(o.verdict.kind, o.entry.id): o.verdict for o in outcomes}
    requirements = [evaluate_requirement(entry, by_id) for entry in model.of("requirement")]
    humans = [o for o in outcomes if o.verdict.kind == "human-check"]
    outcomes = [o for o in outcomes if o.verdict.kind != "human-check"] + requirements + humans
    course.cache[CACHE_KEY] = outcomes
    course.extra["verdicts"] = [o.verdict for o in outcomes]
    return outcomes


def _report(kind: str, course: Course, ctx: RuleContext) -> None:
    for outcome in evaluate(course, ctx.config):
        if outcome.verdict.kind != kind or outcome.verdict.status != FAILED:
            continue
        entry = outcome.entry
        declared = (config_relpath(ctx.config, entry.file), Span.point(max(entry.line, 1)), f"[[{kind}]] declared here")
        if outcome.path and outcome.span is not None:
            ctx.report_span(
                outcome.path,
                outcome.span,
                outcome.problem,
                doc=outcome.doc,
                anchor=f"{kind}:{entry.id}",
                related=[declared],
            )
        else:
            ctx.report_span(declared[0], declared[1], outcome.problem, anchor=f"{kind}:{entry.id}")


@rule("musthave/truth", level="error", course=True, tags=("musthaves",))
def truth(course: Course, ctx: RuleContext) -> None:
    """A declared truth about the course content does not hold.

    ## What it does
    Evaluates each `[[truth]]` of the config: a `term` (Unicode word boundaries, optional
    Russian inflection) or a regular expression `pattern` counted over the chosen segment
    `scope` of the `files` (default: all lessons), or a `heading` pattern. The truth holds
    when there are at least `min-occurrences` matches (default 1) in at least `min-files`
    files (default 1), and no more than `max-occurrences` when that is set. The evidence
    (counts, files, lines) goes to the verification report; a truth that does not hold is
    reported at its config entry.

    ## Why it matters
    "MilliSecondsBehindSource is the primary lag metric" is a claim about the course. Counted
    on every commit, it stays true when lessons are edited, and the report shows the numbers
    instead of asserting them.

    ## Example
    ```toml
    [[truth]]
    id = "lag-metric"
    text = "MilliSecondsBehindSource identified as primary lag metric"
    term = "MilliSecondsBehindSource"
    files = "src/content/course/03-module-3/*.mdx"
    min-occurrences = 10
    min-files = 3
    ```
    fails when the term occurs 9 times, or only in 2 lessons.

    ## How to fix
    Add the missing content, or correct the declaration (a typo in `term`, a wrong `files`
    glob). The message says what was found and what was needed.
    """
    _report("truth", course, ctx)


@truth.summarizer
def _summarize_truths(doc: Document, ctx: RuleContext) -> dict[str, tuple[str, list[Span] | None]] | None:
    """Per lesson: the occurrences of each term or pattern truth that measures it, keyed by
    id with the truth's declaration (a stale summary is not used). A pattern that runs out
    of time is left to the course stage (None), which reports it."""
    if doc.lesson_id is None or ctx.course is None:
        return None
    model, _ = read_entries(ctx.config)
    memo = ctx.course.cache.setdefault("musthave.truth-matchers", {})
    out: dict[str, tuple[str, list[Span] | None]] = {}
    for entry in model.of("truth"):
        if "heading" in entry.raw or not ("term" in entry.raw or "pattern" in entry.raw):
            continue
        globs = [p for p in entry.strings("files") if p.strip()] if "pattern" in entry.raw else entry.strings("files")
        if "pattern" in entry.raw and globs and not any(_glob(p).match(doc.relpath) for p in globs):
            continue
        if "term" in entry.raw and globs and not matches(doc.relpath, globs):
            continue
        # A pattern that timed out on one lesson is not tried on the next ones (it would take
        # its time limit on each of them); the course stage reports it.
        timed_out = memo.setdefault("#timed-out", set())
        signature = _truth_signature(entry)
        hits: list[Span] | None = None
        if signature not in timed_out:
            try:
                hits = _truth_hits(doc, entry, memo)
            except PatternTimeout:
                timed_out.add(signature)
        out[entry.id] = (signature, hits)
    return out


@rule("musthave/artifact", level="error", course=True, tags=("musthaves",))
def artifact(course: Course, ctx: RuleContext) -> None:
    """A declared artifact is missing or does not meet its requirements.

    ## What it does
    Checks each `[[artifact]]`: the file exists (a path under the root, or a lesson id), has
    at least `min-lines` lines (as `wc -l` counts, a final line without newline included) and
    at least `min-mermaid` Mermaid diagrams, has valid `frontmatter` (optionally with given
    fields), `contains` given strings, matches `patterns`, is valid JSON/YAML, and every
    JMESPath expression of `json` / `yaml` gives a true value (JMESPath truth: `false`,
    `null`, `""`, `[]` and `{}` are false). Reported at the artifact (at the broken line for
    invalid JSON/YAML or frontmatter), or at the config entry when the file is missing.

    ## Why it matters
    A dashboard that lost its `connector` variable, or a lesson cut to a stub, still
    "exists"; the must-have says what it must provide, measured on every commit.

    ## Example
    ```toml
    [[artifact]]
    path = "labs/monitoring/grafana/dashboards/debezium-production.json"
    provides = "Production-ready dashboard"
    json = ["templating.list[?name=='connector'] | length(@) > `0`"]
    ```
    fails when the dashboard has no templating variable named `connector`.

    ## How to fix
    Restore what the message names, or correct the declaration.
    """
    _report("artifact", course, ctx)


@rule("musthave/key-link", level="error", course=True, tags=("musthaves", "graph"))
def key_link(course: Course, ctx: RuleContext) -> None:
    """A declared key link between lessons or files does not hold.

    ## What it does
    Checks each `[[key-link]]` from `from` to `to` (lesson ids, file paths, or a folder) in the
    ways `verify` names (all must hold): `edge` — a prerequisite or internal link between the
    two lessons, either direction; `link` — `from` links to `to`; `pattern` — the regular
    expression `pattern` occurs in `from`; `inside` — `from` lies in the folder `to`. Without
    `verify`: `pattern` when a pattern is given, `edge` between two lessons, `inside` for a
    folder, else `link`. Reported at the `from` lesson's `prerequisites` (or `title`) line,
    at line 1 of another file, or at the config entry when an end does not exist.

    ## Why it matters
    "Lesson 04 builds on the dashboard lab" is only true while lesson 04 actually refers to
    it; a renamed lesson or a dropped prerequisite silently breaks the chain.

    ## Example
    ```toml
    [[key-link]]
    from = "module-3/03-grafana-dashboard-lab"
    to = "module-3/04-lag-detection-alerting"
    via = "Dashboard panels serve as alert visualization"
    verify = "edge"
    ```
    fails when neither lesson lists the other as a prerequisite nor links to it.

    ## How to fix
    Add the prerequisite or link the message asks for, or correct the declaration.
    """
    _report("key-link", course, ctx)


@rule("musthave/requirement", level="error", course=True, tags=("musthaves",))
def requirement(course: Course, ctx: RuleContext) -> None:
    """A declared requirement is not satisfied by the must-haves it names.

    ## What it does
    A `[[requirement]]` lists in `satisfied-by` the truths, artifacts, key links (and human
    checks) that satisfy it, as `KIND:ID` (`artifact:` takes the artifact's `id` or `path`).
    It is SATISFIED (status VERIFIED) when all of them are verified, BLOCKED (FAILED) when one
    failed, NEEDS HUMAN when one waits for a person. A blocked requirement is reported at its
    config entry, naming what blocks it.

    ## Why it matters
    Requirements are what the course promised (MOD3-01: "JMX metrics and their
    interpretation"); tying each to measured must-haves keeps the promise checkable.

    ## Example
    ```toml
    [[requirement]]
    id = "MOD3-01"
    text = "JMX metrics and their interpretation"
    satisfied-by = ["artifact:src/content/course/03-module-3/01-jmx-metrics-interpretation.mdx",
                    "truth:lag-metric"]
    ```

    ## How to fix
    Fix the failing must-have the message names.
    """
    _report("requirement", course, ctx)


@hookimpl
def coursecheck_config_sections() -> dict[str, str]:
    return {
        "truth": "must-haves: observable truths about the content ([[truth]])",
        "artifact": "must-haves: files and what they must provide ([[artifact]])",
        "key-link": "must-haves: links between lessons and files ([[key-link]])",
        "requirement": "must-haves: requirements satisfied by truths, artifacts, key links ([[requirement]])",
        "human-check": "must-haves: checks a person must do, carried to the report ([[human-check]])",
    }


@hookimpl
def coursecheck_configure(config: Config) -> list[tuple[str, int, str]]:
    return validate(config)


# -- must-haves other plugins declare (the coursecheck_musthaves hook) -----------------------


class Contributed(dict):  # type: ignore[type-arg]
    """A must-have table a plugin declared through ``coursecheck_musthaves``, merged into
    ``config.sections`` after the TOML tables. Marked so that a second engine on the same
    Config replaces the contributions instead of adding them twice."""


def merge_contributed(config: Config, plugin_manager: Any) -> list[ConfigProblem]:
    """Ask every plugin for its must-haves and append them to the config's sections, with
    origins (file, line) for error messages; returns the problems with what they returned."""
    from coursecheck.plugins import Notification, call_each

    notes: list[Notification] = []
    problems: list[ConfigProblem] = []
    added: dict[str, list[tuple[dict[str, Any], str, int, dict[str, int]]]] = {}
    expected = "a list of (kind, table, file, line[, key_lines]) tuples"
    for name, items in call_each(
        plugin_manager, "coursecheck_musthaves", notes, lambda v: isinstance(v, (list, tuple)), expected, config=config
    ):
        for item in items:
            shaped = isinstance(item, (tuple, list)) and len(item) in (4, 5)
            kind, table, file, line, key_lines = (*item, {})[:5] if shaped else (None, None, None, None, None)
            if not (
                kind in SECTIONS
                and isinstance(table, dict)
                and isinstance(file, str)
                and isinstance(line, int)
                and isinstance(key_lines, dict)
            ):
                shown = repr(item)
                shown = shown if len(shown) <= 80 else shown[:79] + "…"
                problems.append(
                    ConfigProblem(
                        config.display_path,
                        0,
                        "",
                        f"plugin '{name}' returned {shown} from coursecheck_musthaves; expected {expected}",
                    )
                )
                continue
            added.setdefault(kind, []).append((table, file, line, key_lines))
    problems.extend(ConfigProblem(config.display_path, 0, "", note.message) for note in notes)
    for kind in SECTIONS:
        current = config.sections.get(kind)
        if current is not None and not isinstance(current, list):
            continue  # not an array of tables: validate() reports it
        had_contributions = any(isinstance(t, Contributed) for t in current or [])
        own = [t for t in current or [] if not isinstance(t, Contributed)]
        tables = list(own)
        for table, file, line, key_lines in added.get(kind, []):
            index = len(tables)
            tables.append(Contributed(table))
            config.origins[(kind, index)] = (file, line)
            for key in table:
                key_line = key_lines.get(key)
                config.origins[(kind, index, key)] = (file, key_line if isinstance(key_line, int) else line)
        if tables:
            config.sections[kind] = tables
        elif had_contributions:
            config.sections.pop(kind, None)
    return problems


@hookimpl
def coursecheck_config_rules(config: Config, plugin_manager: Any) -> list[ConfigProblem]:
    # Called once per run before the configuration is validated: the moment to gather the
    # must-haves other plugins declare, so that validate() and evaluate() see them. Their
    # problems are returned here because only a ConfigProblem carries its own file.
    problems = merge_contributed(config, plugin_manager)
    return problems or validate_contributed(config)


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [truth, artifact, key_link, requirement]
