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
from coursecheck.config import Config, ConfigProblem, config_relpath, did_you_mean
from coursecheck.config.schema import table_problems
from coursecheck.coursecache import list_tree, path_kind, read_bytes
from coursecheck.declarative import REGEX_TIMEOUT, PatternTimeout
from coursecheck.fsutil import PRIVATE_DIRS
from coursecheck.globs import GlobMatcher, compile_glob, invalid_glob, literal_base, matches
from coursecheck.graph import CourseGraph, course_graph, resolve_lesson
from coursecheck.match import SCOPE_GROUPS, TermMatcher, occurrences, resolve_scopes
from coursecheck.model import FAILED, NEEDS_HUMAN, SCOPES, VERIFIED, Course, Document, Verdict
from coursecheck.musthave_keys import SCHEMAS, Contributed
from coursecheck.rules import Rule, RuleContext, rule
from coursecheck.state import VERDICTS
from coursecheck.text import LineIndex, Span
from coursecheck.wording import plural as _plural

CACHE_KEY = "coursecheck.musthaves"
SECTIONS = ("truth", "artifact", "key-link", "requirement", "human-check")
VERIFY_METHODS = ("edge", "link", "pattern", "inside", "pattern-from-or-to", "absent", "connected")
PATTERN_METHODS = ("pattern", "pattern-from-or-to", "absent")
_MAX_LINES_LISTED = 8
_CYRILLIC = re.compile("[А-Яа-яЁё]")

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
    prefix = f"{entry.kind}[{entry.index}]"

    def bad(key: str, message: str) -> None:
        problems.append(
            (f"{prefix}.{key}" if key else prefix, _line(config, entry, key) if key else entry.line, message)
        )

    for path, message in table_problems(config, SCHEMAS[entry.kind], entry.raw):
        bad(str(path[0]) if path else "", message)
    if problems:
        return problems
    if entry.kind == "truth":
        checks = [k for k in ("term", "pattern", "heading", "names") if k in entry.raw]
        if len(checks) != 1:
            bad("", "a truth checks exactly one of 'term', 'pattern', 'heading' or 'names'")
        if "names" in entry.raw and not any(n.strip() for n in entry.strings("names")):
            bad("names", "must name at least one non-empty string")
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
                scope_names = [*SCOPE_GROUPS, *SCOPES]
                bad("scope", f"{exc}{did_you_mean(scope, scope_names)}")
        if "term" in entry.raw and not any(t.strip() for t in entry.strings("term")):
            bad("term", "must name at least one non-empty term")
    elif entry.kind == "artifact":
        path = entry.raw["path"]
        why = invalid_glob(path) or _private_path(path)
        if why:
            bad("path", why)
        for name in entry.strings("exports"):
            if not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
                bad("exports", f"'{name}' is not a name a module can export")
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
        for key in ("from", "to"):
            why = _private_path(entry.raw[key])
            if why:
                bad(key, why)
        methods = entry.strings("verify")
        for method in methods:
            if method not in VERIFY_METHODS:
                bad(
                    "verify",
                    f"unknown verification '{method}'{did_you_mean(method, VERIFY_METHODS)} "
                    f"(one of: {', '.join(VERIFY_METHODS)})",
                )
        for method in methods:
            if method in PATTERN_METHODS and "pattern" not in entry.raw:
                bad("verify", f"verify = '{method}' needs a 'pattern' to look for in 'from'")
        if "pattern" in entry.raw:
            why = _regex_problem(entry.raw["pattern"])
            if why:
                bad("pattern", why)
    return problems


def _private_path(written: str) -> str | None:
    """Why a must-have may not name ``written``: a path into .git (version-control data,
    where a CI checkout keeps its token), which coursecheck never reads."""
    parts = written.strip().replace("\\", "/").split("/")
    if any(part in PRIVATE_DIRS for part in parts):
        return f"'{written}' is inside .git (version-control data, which may hold credentials); not read"
    return None


def _regex_problem(pattern: str, ignore_case: bool = False) -> str | None:
    try:
        _regex(pattern, re.IGNORECASE if ignore_case else 0)
    except (re.error, regex.error) as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    return None


# -- helpers ----------------------------------------------------------------------------------


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
        from coursecheck.diagrams import chart_components, diagrams

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
    if kind == "outside":  # a link out of the root or into .git: never read (parse/outside-root)
        return _File(rel, None, None, "leads outside the project root or into .git; not read (see parse/outside-root)")
    if kind != "file":
        return None
    try:
        raw = read_bytes(course, path)
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        return _File(rel, None, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    return _File(rel, None, text)


# -- what a path names: a file, a lesson, a folder, a glob (the one place paths are resolved) --

_GLOB_CHARS = frozenset("*?[{")
_SKIPPED_DIRS = frozenset({".git", "node_modules", ".venv", "__pycache__", ".coursecheck-cache"})
_MAX_LISTED = 100_000  # entries of one listing: a huge tree must not cost unbounded time
_LISTING_KEY = "musthave.listing"


@dataclass(slots=True)
class _Target:
    """What a path written in a must-have names. ``kind`` is ``file`` (a lesson or a file),
    ``folder``, ``glob`` or ``missing``; ``files`` are the files it names (a folder's files
    at any depth, a glob's matches), ``folders`` the folders a glob matched."""

    written: str
    kind: str
    files: list[_File] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    hint: str = ""  # why it is missing, or what the writer probably meant

    @property
    def lesson(self) -> Document | None:
        if self.kind == "file" and self.files and self.files[0].doc is not None:
            return self.files[0].doc if self.files[0].doc.is_lesson else None
        return None

    @property
    def relpath(self) -> str:
        if self.kind == "file" and self.files:
            return self.files[0].relpath
        if self.kind == "folder" and self.folders:
            return self.folders[0]
        return self.written.strip().removeprefix("./")

    def shown(self) -> str:
        """How evidence names it: the file's name, a folder with a slash, a glob as written."""
        if self.kind == "file":
            return posixpath.basename(self.relpath)
        if self.kind == "folder":
            return self.relpath.rstrip("/") + "/"
        return self.written.strip()


def has_glob(written: str) -> bool:
    return any(c in _GLOB_CHARS for c in written)


def _inside_root(rel: str) -> bool:
    """Whether a relative path as written stays under the root (no absolute path, no ``..``)."""
    return bool(rel) and not rel.startswith(("/", "\\")) and ".." not in re.split(r"[/\\]", rel)


def _listing(course: Course, base: str) -> list[tuple[str, bool]]:
    """``(relpath, is_folder)`` of everything under the folder ``base`` (``""``: the root),
    folders before their content, without .git, node_modules and cache folders; a recorded
    read (the stored course stage is used while the listing is the same). Symbolic links are
    listed, never followed here (where they lead is decided when a file is opened)."""
    memo: dict[str, list[tuple[str, bool]]] = course.cache.setdefault(_LISTING_KEY, {})
    if base in memo:
        return memo[base]
    start = course.root / base if base else course.root
    prefix = base.rstrip("/") + "/" if base else ""
    out: list[tuple[str, bool]] = []
    if path_kind(course, start) == "dir":
        out = [(prefix + rel, is_dir) for rel, is_dir in list_tree(course, start, _SKIPPED_DIRS, _MAX_LISTED)]
    memo[base] = out
    return out


def _near(course: Course, rel: str) -> str:
    """A did-you-mean for a path that names nothing: the same file name elsewhere, or a
    close name in the same folder (``labs/.env`` -> ``labs/.env.example``)."""
    import difflib

    name = posixpath.basename(rel.rstrip("/"))
    folder = posixpath.dirname(rel.rstrip("/"))
    everything = _listing(course, "")
    same_name = [p for p, _d in everything if posixpath.basename(p) == name]
    if same_name:
        return f"did you mean {', '.join(repr(p) for p in same_name[:3])}?"
    siblings = {posixpath.basename(p): p for p, _d in everything if posixpath.dirname(p) == folder}
    prefixed = [p for n, p in siblings.items() if name and n.startswith(name)]
    close = [siblings[n] for n in difflib.get_close_matches(name, list(siblings), n=1, cutoff=0.8)]
    shown = prefixed[:1] or close
    return f"did you mean '{shown[0]}'?" if shown else ""


def resolve_target(course: Course, written: str) -> _Target:
    """What ``written`` names under the course root: a lesson (an id, an alias, a route or a
    path), a file, a folder (its files at any depth), a glob (``src/**/*.mdx``, files and
    folders it matches), or a bare name unique under the root (``02-alerts.mdx``,
    ``02-alerts``). Nothing outside the root: an absolute path or one with ``..`` is missing."""
    rel = written.strip().removeprefix("./")
    if not rel:
        return _Target(written, "missing", hint="an empty path")
    if not _inside_root(rel):
        return _Target(written, "missing", hint="outside the project root")
    doc = course.document(rel) or resolve_lesson(course, rel)
    if doc is not None:
        return _Target(written, "file", [_File(doc.relpath, doc, doc.source)])
    if has_glob(rel):
        why = invalid_glob(rel)
        if why:
            return _Target(written, "missing", hint=f"invalid glob: {why}")
        rx = _glob(rel)
        base = literal_base(rel)
        matched = [(p, d) for p, d in _listing(course, base) if rx.match(p)]
        files = [f for f in (_open(course, p) for p, d in matched if not d) if f is not None]
        folders = [p + "/" for p, d in matched if d]
        if not files and not folders:
            return _Target(written, "missing", hint="the glob matches nothing")
        return _Target(written, "glob", files, folders)
    kind = path_kind(course, course.root / rel.rstrip("/"))
    if kind == "dir":
        folder = rel.rstrip("/") + "/"
        inside = [p for p, d in _listing(course, folder.rstrip("/")) if not d]
        files = [f for f in (_open(course, p) for p in inside) if f is not None]
        return _Target(written, "folder", files, [folder])
    opened = _open(course, rel)
    if opened is not None:
        return _Target(written, "file", [opened])
    if "/" not in rel:  # a bare name: the one file under the root with that name (or stem)
        found = [p for p, d in _listing(course, "") if not d and posixpath.basename(p) == rel]
        if not found and "." not in rel:
            found = [
                p for p, d in _listing(course, "") if not d and posixpath.splitext(posixpath.basename(p))[0] == rel
            ]
        if len(found) == 1:
            resolved = resolve_target(course, found[0])
            resolved.written = written
            return resolved
        if len(found) > 1:
            shown = ", ".join(found[:3]) + (", …" if len(found) > 3 else "")
            return _Target(written, "missing", hint=f"{len(found)} files have that name ({shown}); write the path")
    return _Target(written, "missing", hint=_near(course, rel))


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


# -- truths that name things: measured evidence, the meaning left to a person ---------------

NAMES_FOUND = "names found"  # measures["state"] of a truth whose named things all occur


def _name_rx(name: str) -> _TimedPattern:
    """A name as ``grep -owF`` finds it (``grep -owiF`` for a phrase with spaces): the exact
    text, not inside a longer word (a letter, digit or underscore on neither side)."""
    flags = re.IGNORECASE if " " in name.strip() else 0
    return _regex(rf"(?<!\w){re.escape(name.strip())}(?!\w)", flags)


def _name_counts(files: Iterable[_File], name: str) -> dict[str, int]:
    """Occurrences of ``name`` per file (files where it does not occur left out)."""
    rx = _name_rx(name)
    phrase = " " in name.strip()
    needle = name.strip().lower() if phrase else name.strip()
    out: dict[str, int] = {}
    for f in files:
        text = f.text or ""
        if needle not in (text.lower() if phrase else text):
            continue  # the cheap test first: most files do not hold most names
        n = len(rx.finditer(text))
        if n:
            out[f.relpath] = n
    return out


def _path_named(course: Course, name: str) -> str:
    """A file or folder of the repository that ``name`` is the name (or the path) of: a truth
    saying "the directory is now 03-module-3" names a folder, not text."""
    rel = name.strip().removeprefix("./").rstrip("/")
    if not rel or not _inside_root(rel) or has_glob(rel) or " " in rel:
        return ""
    for path, is_dir in _listing(course, ""):
        if path == rel or posixpath.basename(path) == rel:
            return f"the {'folder' if is_dir else 'file'} {path}{'/' if is_dir else ''}"
    return ""


def _course_files(course: Course) -> list[_File]:
    return [_File(d.relpath, d, d.source) for d in course.documents]


def evaluate_names_truth(course: Course, entry: Entry) -> Outcome:
    """A truth in prose with the names it states (``names``): each counted in the truth's
    ``files`` (paths, folders or globs: a phase's files) and in every file of the course. One
    that occurs nowhere is a gap (FAILED); when all occur the evidence is reported and the
    meaning stays a person's to confirm (NEEDS HUMAN, state "names found"): a name being
    present does not make the sentence true."""
    names = [n.strip() for n in entry.strings("names") if n.strip()]
    scope: dict[str, _File] = {}
    for written in entry.strings("files"):
        target = resolve_target(course, written)
        for f in target.files:
            scope.setdefault(f.relpath, f)
    memo: dict[str, dict[str, int]] = course.cache.setdefault("musthave.name-counts", {})
    everywhere = _course_files(course)
    found: dict[str, dict[str, Any]] = {}
    parts: list[str] = []
    absent: list[str] = []
    for name in names:
        in_scope = _name_counts(scope.values(), name)
        if name not in memo:
            memo[name] = _name_counts(everywhere, name)
        in_course = memo[name]
        total_scope, total_course = sum(in_scope.values()), sum(in_course.values())
        found[name] = {
            "phase": total_scope,
            "phase_files": in_scope,
            "course": total_course,
            "course_files": len(in_course),
        }
        shown = f"`{name}`"
        if not total_scope and not total_course:
            as_path = _path_named(course, name)
            if as_path:
                found[name]["path"] = as_path
                parts.append(f"{shown}: no occurrence in a file's text, but {as_path} exists")
                continue
            absent.append(name)
            parts.append(f"{shown} occurs nowhere (0 in {_plural(len(scope), 'file')} of the scope, 0 in the course)")
            continue
        if in_scope:
            short = _short_names(in_scope)
            top = max(in_scope, key=lambda p: (in_scope[p], -list(in_scope).index(p)))
            where = (
                f"{_plural(total_scope, 'occurrence')} in {short[top]}"
                if len(in_scope) == 1
                else f"{_plural(total_scope, 'occurrence')} across {len(in_scope)} files, most in {short[top]} ({in_scope[top]})"
            )
        else:
            where = f"0 in the {_plural(len(scope), 'file')} of the scope"
        parts.append(f"{shown}: {where}; {total_course:,} in the course ({_plural(len(in_course), 'file')})")
    gap = bool(absent) and entry.get("absent-is-gap", True)
    state = "absent" if gap else NAMES_FOUND if not absent else "some absent, as the truth may say"
    status = FAILED if gap else NEEDS_HUMAN
    evidence = "; ".join(parts)
    if not gap:
        evidence += "; the meaning is a person's to confirm"
    measures = {
        "state": state,
        "names": found,
        "scope_files": len(scope),
        "counted_as": "occurrences as `grep -owF` counts them (case-sensitive; a phrase with spaces ignores case)",
        "decided_by": "the names the truth states, counted"
        + ("; one occurs nowhere" if gap else "; its meaning left to a person"),
    }
    locations = []
    for info in found.values():
        for path in list(info["phase_files"])[:1]:
            locations.append((path, Span.point(1)))
    verdict = Verdict("truth", entry.id, entry.get("text", ""), status, evidence, measures, locations[:1])
    return Outcome(entry, verdict, problem=f"truth '{entry.id}' names what occurs nowhere: {evidence}")


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


_PHRASE = re.compile(r"[^\W\d_][\w'’-]*(?: +[\w'’-]+)+")  # words with spaces: prose, not code
_CAMEL_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_EXPORT_STAR = re.compile(r"^[ \t]*export\s+\*\s+from\s+['\"]([^'\"]+)['\"]", re.MULTILINE)
_EXPORT_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mdx")
_LESSON_SUFFIXES = (".md", ".mdx", ".markdown")


def _is_lesson_text(file: _File) -> bool:
    return file.relpath.lower().endswith(_LESSON_SUFFIXES)


def _near_forms(source: str, value: str) -> str:
    """Where a string that does not occur is written in another form: another case, or a
    CamelCase name written as words (``OutboxEventRouter`` -> "Outbox Event Router"). A hint
    for the reader; it never makes the string present."""
    forms: list[str] = []
    other_case = [m.group() for m in re.finditer(re.escape(value), source, re.IGNORECASE)]
    if other_case:
        most = max(set(other_case), key=other_case.count)
        forms.append(f"'{most}' {len(other_case)}× in another case")
    parts = _CAMEL_PART.findall(value)
    if len(parts) > 1 and " " not in value:
        words = r"[\s_-]*".join(re.escape(p) for p in parts)
        apart = [m.group() for m in re.finditer(words, source, re.IGNORECASE) if m.group() != value]
        apart = [a for a in apart if a.lower() != value.lower()]
        if apart:
            most = max(set(apart), key=apart.count)
            forms.append(f"'{most}' {len(apart)}× as words")
    return "; ".join(forms)


def _count_contains(file: _File, value: str, regex_too: bool) -> tuple[int, str, str]:
    """(occurrences, how they were counted, a hint when there are none) of a ``contains``
    string: literally (case-sensitive, as ``grep -oF``); a prose phrase in a lesson also
    ignoring case; with ``regex_too`` (``contains-or-regex``), as a regular expression
    when it does not occur literally."""
    source = file.text or ""
    n = source.count(value)
    if n:
        return n, "", ""
    if _is_lesson_text(file) and _PHRASE.fullmatch(value):
        n = len(re.findall(re.escape(value), source, re.IGNORECASE))
        if n:
            return n, "ignoring case", ""
    if regex_too:
        try:
            rx = _regex(value, re.MULTILINE)
        except (re.error, regex.error):
            rx = None
        if rx is not None:
            hits = rx.finditer(source)
            if hits:
                lines = len({source.count("\n", 0, m.start()) for m in hits})
                return len(hits), f"as a regular expression, on {_plural(lines, 'line')}", ""
    return 0, "", _near_forms(source, value)


def _export_rx(name: str) -> str:
    """An ``export`` of ``name``: ``export const/let/var/function/class/interface/type/enum``
    (with ``default``, ``async``, ``declare``, ``abstract``), ``export default name``, or
    ``name`` in an ``export { ... }`` list (``export { a as name }`` included)."""
    n = re.escape(name)
    return (
        rf"^[ \t]*export\s+(?:declare\s+)?(?:default\s+)?(?:abstract\s+)?(?:async\s+)?"
        rf"(?:function\s*\*?|const|let|var|class|interface|type|enum|namespace)\s+{n}(?![\w$])"
        rf"|^[ \t]*export\s+default\s+{n}(?![\w$])"
        rf"|^[ \t]*export\s+(?:type\s+)?\{{[^}}]*(?<![\w$]){n}(?![\w$])[^}}]*\}}"
    )


def _exported(course: Course, file: _File, name: str, depth: int = 0, seen: set[str] | None = None) -> str | None:
    """Where ``name`` is exported: in ``file`` itself (``"line N"``), or in a module it
    re-exports everything from (``export * from './x'``, followed inside the root, 4 levels
    at most; that module's path)."""
    seen = seen if seen is not None else set()
    seen.add(file.relpath)
    source = file.text or ""
    m = _regex(_export_rx(name), re.MULTILINE).search(source)
    if m is not None:
        return f"line {source.count(chr(10), 0, m.start()) + 1}" if depth == 0 else file.relpath
    if depth >= 4:
        return None
    for star in _EXPORT_STAR.finditer(source):
        spec = star.group(1)
        if not spec.startswith("."):
            continue  # a package: not in this repository
        base = posixpath.normpath(posixpath.join(posixpath.dirname(file.relpath), spec))
        if not _inside_root(base):
            continue
        candidates = (base, *(base + e for e in _EXPORT_EXTENSIONS), *(f"{base}/index{e}" for e in _EXPORT_EXTENSIONS))
        for candidate in candidates:
            if candidate in seen:
                continue
            target = _open(course, candidate)
            if target is None or target.text is None:
                continue
            found = _exported(course, target, name, depth + 1, seen)
            if found is not None:
                return found
            break
    return None


@dataclass(slots=True)
class _Checked:
    """The checks of one file (or of a folder's files together)."""

    good: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    measures: dict[str, Any] = field(default_factory=dict)
    fail_line: int = 1


def _file_checks(
    course: Course, entry: Entry, file: _File, count_diagrams: Callable[[Document], int], *, lessons_only: bool = False
) -> _Checked:
    """Every check of an ``[[artifact]]`` on one file, with what it measured."""
    out = _Checked(measures={"path": file.relpath})
    good, bad, measures = out.good, out.bad, out.measures
    lines = file.line_count
    measures["lines"] = lines
    if "min-lines" in entry.raw:
        measures["min_lines"] = entry.raw["min-lines"]
    line_text = _plural(lines, "line")
    if "min-lines" in entry.raw and lines < entry.raw["min-lines"]:
        bad.append(f"{line_text} (need ≥ {entry.raw['min-lines']})")
    elif "max-lines" in entry.raw and lines > entry.raw["max-lines"]:
        bad.append(f"{line_text} (need ≤ {entry.raw['max-lines']})")
    else:
        good.append(line_text)
    doc = _parsed(file)
    if "min-mermaid" in entry.raw and (doc is not None or not lessons_only):
        count = count_diagrams(doc) if doc is not None else 0
        measures["mermaid"] = count
        text = f"{count} Mermaid diagram{'s' if count != 1 else ''}"
        (good if count >= entry.raw["min-mermaid"] else bad).append(
            text if count >= entry.raw["min-mermaid"] else f"{text} (need ≥ {entry.raw['min-mermaid']})"
        )
    if "frontmatter" in entry.raw and entry.raw["frontmatter"] is not False and (doc is not None or not lessons_only):
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
            out.fail_line = broken[0].span.line
        elif missing and fm is not None:
            bad.append(f"frontmatter lacks {', '.join(missing)}")
            out.fail_line = fm.span.line
        else:
            good.append("frontmatter valid" + (f" ({', '.join(required)})" if required else ""))
    source = file.text or ""
    found: dict[str, int] = {}
    absent: list[str] = []
    present: list[str] = []
    for key, regex_too in (("contains", False), ("contains-or-regex", True)):
        for value in entry.strings(key):
            n, how, hint = _count_contains(file, value, regex_too)
            found[value] = n
            if n:
                present.append(f"'{value}' ({n}×{', ' + how if how else ''})")
            else:
                absent.append(f"'{value}'" + (f" ({hint})" if hint else ""))
    if found:
        measures["contains"] = found
    if absent:
        bad.append("lacks " + ", ".join(absent))
    elif present:
        good.append("contains " + ", ".join(present))
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
    names = entry.strings("exports")
    if names:
        where_exported = {n: _exported(course, file, n) for n in names}
        measures["exports"] = {n: w is not None for n, w in where_exported.items()}
        missing_names = [n for n, w in where_exported.items() if w is None]
        if missing_names:
            bad.append("does not export " + ", ".join(missing_names))
        else:
            via = sorted({w for w in where_exported.values() if w and not w.startswith("line ")})
            good.append(f"exports {', '.join(names)}" + (f" (re-exported from {', '.join(via)})" if via else ""))
    kinds = [k for k in ("json", "yaml") if k in entry.raw]
    lower = file.relpath.lower()
    if not kinds and (file.doc is None or file.doc.kind in ("json", "yaml")):
        kinds = ["json"] if lower.endswith(".json") else ["yaml"] if lower.endswith((".yaml", ".yml")) else []
    for kind in kinds:
        data, error, error_line = _load_data(file, kind)
        measures[f"{kind}_valid"] = not error
        if error:
            bad.append(error)
            out.fail_line = error_line or out.fail_line
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
    return out


def _listed(names: list[str], limit: int = 4) -> str:
    return ", ".join(names[:limit]) + (f", … ({len(names) - limit} more)" if len(names) > limit else "")


def _folder_checks(
    course: Course, entry: Entry, target: _Target, count_diagrams: Callable[[Document], int]
) -> _Checked:
    """A folder's files together: lines and diagrams summed, a string or pattern present in
    some file, a name exported by some file; frontmatter and JSON/YAML checked per file."""
    out = _Checked(measures={"path": target.relpath, "files": [f.relpath for f in target.files]})
    files = target.files
    names = _short_names(f.relpath for f in files)
    lines = sum(f.line_count for f in files)
    out.measures["lines"] = lines
    out.good.append(f"folder of {_plural(len(files), 'file')}, {_plural(lines, 'line')} in all")
    if not files:
        out.bad.append("the folder holds no file")
    if "min-lines" in entry.raw and lines < entry.raw["min-lines"]:
        out.bad.append(f"{_plural(lines, 'line')} in all (need ≥ {entry.raw['min-lines']})")
    if "min-mermaid" in entry.raw:
        count = sum(count_diagrams(d) for d in (_parsed(f) for f in files) if d is not None)
        out.measures["mermaid"] = count
        text = f"{count} Mermaid diagram{'s' if count != 1 else ''}"
        if count >= entry.raw["min-mermaid"]:
            out.good.append(text)
        else:
            out.bad.append(f"{text} (need ≥ {entry.raw['min-mermaid']})")
    for key, regex_too in (("contains", False), ("contains-or-regex", True)):
        for value in entry.strings(key):
            counts = {f.relpath: _count_contains(f, value, regex_too)[0] for f in files}
            holding = [p for p, n in counts.items() if n]
            out.measures.setdefault("contains", {})[value] = sum(counts.values())
            if holding:
                out.good.append(
                    f"'{value}' in {len(holding)} of {_plural(len(files), 'file')} ({sum(counts.values())}×)"
                )
            else:
                out.bad.append(f"'{value}' in none of its {_plural(len(files), 'file')}")
    for pattern in entry.strings("patterns"):
        matching = [f for f in files if _regex(pattern, re.MULTILINE).search(f.text or "")]
        (out.good if matching else out.bad).append(f"/{pattern}/ in {len(matching)} of {_plural(len(files), 'file')}")
    for name in entry.strings("exports"):
        by = next((f for f in files if _exported(course, f, name) is not None), None)
        (out.good if by else out.bad).append(
            f"{name} exported by {names[by.relpath]}" if by else f"no file exports {name}"
        )
    per_file: dict[str, Any] = {k: entry.raw[k] for k in ("frontmatter", "json", "yaml") if k in entry.raw}
    if per_file:
        only = Entry(entry.kind, entry.index, entry.id, per_file, entry.file, entry.line)
        failing = []
        for f in files:
            checked = _file_checks(course, only, f, count_diagrams, lessons_only=True)
            if checked.bad:
                failing.append(f"{names[f.relpath]}: {', '.join(checked.bad)}")
        if failing:
            out.bad.append("; ".join(failing[:4]) + ("; …" if len(failing) > 4 else ""))
    return out


def _glob_checks(course: Course, entry: Entry, target: _Target, count_diagrams: Callable[[Document], int]) -> _Checked:
    """Every file a glob matches is the artifact: each must hold."""
    files = target.files
    names = _short_names(f.relpath for f in files)
    out = _Checked(measures={"path": target.written.strip(), "files": [f.relpath for f in files]})
    per_file = {f.relpath: _file_checks(course, entry, f, count_diagrams) for f in files}
    for checked in per_file.values():
        if checked.bad:
            checked.measures["problems"] = list(checked.bad)
    out.measures["lines"] = sum(c.measures.get("lines", 0) for c in per_file.values())
    diagrams = [c.measures["mermaid"] for c in per_file.values() if isinstance(c.measures.get("mermaid"), int)]
    if diagrams:
        out.measures["mermaid"] = sum(diagrams)
    out.measures["per_file"] = {p: c.measures for p, c in per_file.items()}
    failing = {p: c for p, c in per_file.items() if c.bad}
    matched = f"{_plural(len(files), 'file')} match"
    if target.folders and not files:
        out.bad.append(f"the glob matches {_plural(len(target.folders), 'folder')} and no file")
    if failing:
        by_problem: dict[str, list[str]] = {}
        for p, c in failing.items():
            by_problem.setdefault(", ".join(c.bad), []).append(names[p])
        for problem, which in by_problem.items():
            out.bad.append(f"{problem} in {len(which)} of {matched.replace(' match', '')}: {_listed(which)}")
        first = next(iter(failing.values()))
        out.fail_line = first.fail_line
    else:
        shared = [
            g for g in (next(iter(per_file.values())).good if per_file else []) if not re.match(r"\d[\d,]* lines?$", g)
        ]
        out.good.append(f"{matched}, each holds" + (f" ({'; '.join(shared)})" if len(files) == 1 and shared else ""))
        if len(files) > 1:
            counts = [c.measures.get("lines", 0) for c in per_file.values()]
            out.good.append(f"{min(counts):,}–{max(counts):,} lines each, {sum(counts):,} in all")
        out.good.append(f"matched: {_listed(list(names.values()), 8)}")
    return out


def evaluate_artifact(
    course: Course, config: Config, entry: Entry, count_diagrams: Callable[[Document], int]
) -> Outcome:
    written = entry.raw["path"]
    provides = entry.get("provides", "")
    target = resolve_target(course, written)
    error = next((f.error for f in target.files if f.error), "") if target.kind == "file" else ""
    if target.kind == "missing" or error:
        why = error or ("no such file" if not target.hint or target.hint.startswith("did you mean") else target.hint)
        evidence = f"{written}: {why}" + (f"; {target.hint}" if target.hint.startswith("did you mean") else "")
        measures = {"exists": False, "path": written, "decided_by": "the path names nothing in the repository"}
        verdict = Verdict("artifact", entry.id, provides, FAILED, evidence, measures)
        return Outcome(entry, verdict, problem=f"artifact '{written}' is missing: {evidence}")
    if target.kind == "folder":
        checked = _folder_checks(course, entry, target, count_diagrams)
        decided = "a folder: its files together"
    elif target.kind == "glob":
        checked = _glob_checks(course, entry, target, count_diagrams)
        decided = "a glob: every file it matches"
    else:
        checked = _file_checks(course, entry, target.files[0], count_diagrams)
        decided = "the file's own checks"
    file = target.files[0] if target.files else None
    measures = {"exists": True, **checked.measures, "kind": target.kind, "decided_by": decided}
    ok = not checked.bad
    evidence = ", ".join(checked.bad + checked.good) if not ok else ", ".join(checked.good)
    what = f"[[artifact]] '{entry.id}'" if "id" in entry.raw else "[[artifact]] must-have of this file"
    if provides:
        what += f" ({provides})"
    fail_line = checked.fail_line
    path = file.relpath if file is not None and target.kind == "file" else ""
    if target.kind == "glob" and not ok:
        per_file = checked.measures.get("per_file", {})
        failing = [p for p, m in per_file.items() if m.get("problems")]
        path = failing[0] if failing else ""
    locations = [(path, Span.point(fail_line if not ok else 1))] if path else []
    verdict = Verdict("artifact", entry.id, provides, VERIFIED if ok else FAILED, evidence, measures, locations)
    span: Span | None = None
    doc = None
    if path and file is not None:
        shown = next((f for f in target.files if f.relpath == path), file)
        doc = shown.doc
        lines = shown.line_count
        span = (
            Span.point(min(fail_line, max(lines, 1)))
            if shown.doc is None and shown.text is not None
            else Span.point(fail_line)
        )
    return Outcome(
        entry, verdict, path=path, span=span, doc=doc, problem=f"{what} does not hold: {', '.join(checked.bad)}"
    )


# -- key links --------------------------------------------------------------------------------

_HOST_PORT = re.compile(r"[A-Za-z][\w.-]*:\d{2,5}")
_PATH_LIKE = re.compile(r"[^\s]*(?:/|\.[A-Za-z0-9]{1,6}$)[^\s]*")


def path_like(written: str) -> bool:
    """Whether a key link's end is written as a path (``labs/x.yml``, ``02-a.mdx``,
    ``src/*``) rather than as a description ("connector config") or an address
    (``connect:9404``, ``http://host/x``)."""
    w = written.strip()
    return bool(w) and not _HOST_PORT.fullmatch(w) and "://" not in w and bool(_PATH_LIKE.fullmatch(w))


def _edge_evidence(cg: CourseGraph, a: Document, b: Document) -> str | None:
    refs = [*cg.edge_references(a.relpath, b.relpath), *cg.edge_references(b.relpath, a.relpath)]
    for kind in ("prerequisite", "link"):
        for ref in refs:
            if ref.kind == kind and ref.source is not None:
                name = posixpath.basename(ref.source.relpath)
                if kind == "prerequisite":
                    return f"{name} lists {ref.written} as a prerequisite (line {ref.span.line})"
                return f"{name} links to {ref.written} (line {ref.span.line})"
    return None


def _broken_links(cg: CourseGraph, lesson: Document | None) -> str:
    """What ``from`` links to that resolves to nothing, as a hint for a failed link check."""
    broken = [r for r in cg.unresolved if r.kind == "link" and r.source is not None and r.source is lesson]
    if not broken:
        return ""
    shown = ", ".join(f"'{r.written}' (line {r.span.line})" for r in broken[:3])
    return f"; its link{'s' if len(broken) > 1 else ''} {shown} lead{'' if len(broken) > 1 else 's'} to no lesson"


def _link_from(cg: CourseGraph, file: _File, b: _Target) -> str | None:
    """A Markdown link (or internal lesson link) from ``file`` to what ``b`` names."""
    doc = file.doc or _parsed(file)
    if doc is None:
        return None
    name = posixpath.basename(file.relpath)
    if b.lesson is not None:
        for ref in cg.edge_references(file.relpath, b.lesson.relpath):
            if ref.kind == "link":
                return f"{name} links to {ref.written} (line {ref.span.line})"
        return None
    targets = {f.relpath for f in b.files} | {p.rstrip("/") for p in b.folders}
    for link in doc.links:
        href = link.href.split("#", 1)[0].split("?", 1)[0]
        if not href or "://" in href:
            continue
        if href.startswith("/"):
            resolved = href.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(doc.relpath), href))
        if resolved.rstrip("/") in targets:
            return f"{name} links to {link.href} (line {link.span.line})"
    return None


def _mention_forms(file: _File, b: _Target) -> list[str]:
    """How ``file`` may name what ``b`` is: its path as written, from the root, relative to
    ``file``'s folder (``./postgres/init.sql``), a lesson's ids, the file name."""
    forms: list[str] = []
    written = b.written.strip().removeprefix("./").rstrip("/")
    if written and not has_glob(written):
        forms.append(written)
    for path in [f.relpath for f in b.files[:1]] if b.kind == "file" else [p.rstrip("/") for p in b.folders[:1]]:
        forms.append(path)
        relative = posixpath.relpath(path, posixpath.dirname(file.relpath) or ".")
        forms += [relative, "./" + relative] if not relative.startswith("..") else [relative]
        if b.kind == "file":
            forms.append(posixpath.basename(path))
            stem = posixpath.splitext(posixpath.basename(path))[0]
            if b.lesson is not None and len(stem) >= 8 and re.search(r"\d", stem) and "-" in stem:
                forms.append(stem)  # a lesson named as a prerequisite or route: "module-8/05-binlog-wal"
    if b.lesson is not None:
        forms += [i for i in (b.lesson.lesson_id, *getattr(b.lesson, "aliases", ())) if i]
    return sorted({f for f in forms if f and len(f) > 2}, key=len, reverse=True)


def _mention(file: _File, b: _Target) -> str | None:
    source = file.text or ""
    for form in _mention_forms(file, b):
        at = source.find(form)
        if at >= 0:
            return f"{posixpath.basename(file.relpath)} names {form} (line {source.count(chr(10), 0, at) + 1})"
    return None


def _connection(cg: CourseGraph, file: _File, b: _Target, method: str) -> str | None:
    """How ``file`` is connected to what ``b`` names: a link; for ``connected`` also a
    mention of it, or (a folder ``b``) lying in it."""
    found = _link_from(cg, file, b)
    if found or method == "link":
        return found
    found = _mention(file, b)
    if found:
        return found
    folder = b.relpath.rstrip("/") + "/"
    if b.kind == "folder" and file.relpath.startswith(folder):
        return f"{posixpath.basename(file.relpath)} is in {folder}"
    return None


def _yaml_block_hits(text: str, pattern: str) -> list[int]:
    """Lines of a YAML text where ``pattern`` matches once the line is joined to the
    more-indented lines of its block (``build:`` then ``context: ./jupyter`` read as one
    line), the match starting on the line itself: a one-line pattern written for a nested
    mapping finds it, a pattern spread over unrelated keys does not."""
    rx = _regex(pattern, 0)
    lines = text.split("\n")
    hits: list[int] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        block = [line]
        for nxt in lines[i + 1 : i + 30]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip(" ")) <= indent:
                break
            if nxt.strip():
                block.append(nxt.strip())
        if len(block) == 1:
            continue
        m = rx.search(" ".join(block))
        if m is not None and m.start() < len(line):
            hits.append(i + 1)
    return hits


def _pattern_hits(file: _File, pattern: str) -> tuple[list[int], str]:
    """The lines where ``pattern`` matches in ``file`` (1-based; each match's first line) and
    how: ``""`` line by line, ``"in a YAML block"`` when only a block read as one line matches."""
    text = file.text or ""
    hits = _regex(pattern, re.MULTILINE).finditer(text)
    if hits:
        return [text.count("\n", 0, m.start()) + 1 for m in hits], ""
    if file.relpath.lower().endswith((".yml", ".yaml")):
        lines = _yaml_block_hits(text, pattern)
        if lines:
            return lines, "in a YAML block read as one line"
    return [], ""


def _found_pattern(file: _File, pattern: str) -> tuple[list[int], str] | None:
    found = _pattern_hits(file, pattern)
    return found if found[0] else None


def _files_holding(files: list[_File], check: Callable[[_File], Any]) -> tuple[list[tuple[_File, Any]], list[_File]]:
    holding, not_holding = [], []
    for f in files:
        found = check(f)
        if found:
            holding.append((f, found))
        else:
            not_holding.append(f)
    return holding, not_holding


def _pattern_text(pattern: str, holding: list[tuple[_File, Any]], where: str) -> str:
    if len(holding) == 1:
        f, (lines, how) = holding[0]
        shown = (
            f"/{pattern}/ found {len(lines)}× in {posixpath.basename(f.relpath)} ({_lines_text(sorted(set(lines)))})"
        )
        return shown + (f" {how}" if how else "") + where
    total = sum(len(lines) for _f, (lines, _how) in holding)
    names = [posixpath.basename(f.relpath) for f, _ in holding]
    return f"/{pattern}/ found {total}× in {len(holding)} files ({_listed(names)}){where}"


def evaluate_key_link(course: Course, cg: CourseGraph, entry: Entry) -> Outcome:
    via = entry.get("via", "")
    a = resolve_target(course, entry.raw["from"])
    b = resolve_target(course, entry.raw["to"])
    measures: dict[str, Any] = {"from": entry.raw["from"], "to": entry.raw["to"]}
    unresolved = []
    for key, end in (("from", a), ("to", b)):
        if end.kind == "missing" and (key == "from" or path_like(end.written)):
            unresolved.append({"key": key, "written": end.written, "hint": end.hint})
    if unresolved:
        measures["unresolved"] = unresolved
    pattern = entry.raw.get("pattern", "")
    methods = entry.strings("verify")
    if not methods:
        if pattern:
            methods = ["pattern"]
        elif a.lesson is not None and b.lesson is not None:
            methods = ["edge"]
        elif b.kind == "folder":
            methods = ["inside"]
        else:
            methods = ["link"]
    measures["verify"] = methods
    # Only a pattern (or a description searched as written) needs no `to` to exist.
    needs_to = any(m in ("edge", "link", "inside") for m in methods) or (
        "connected" in methods and path_like(b.written)
    )
    if a.kind == "missing" or (b.kind == "missing" and needs_to):
        nowhere = [
            (k, e)
            for k, e in (("from", a), ("to", b))
            if e.kind == "missing" and (k == "from" or needs_to or path_like(e.written))
        ]
        evidence = "; ".join(
            f"{k} '{entry.raw[k]}' is no lesson, file or folder" + (f" ({e.hint})" if e.hint else "")
            for k, e in nowhere
        )
        measures["decided_by"] = "an end the check needs names nothing"
        verdict = Verdict("key-link", entry.id, via, FAILED, evidence, measures)
        return Outcome(entry, verdict, problem=f"key link '{entry.id}' cannot be checked: {evidence}")
    measures["from"] = a.relpath if a.kind in ("file", "folder") else entry.raw["from"]
    if b.kind in ("file", "folder"):
        measures["to"] = b.relpath
    a_files = a.files
    a_name = a.shown()
    each = a.kind == "glob"  # a glob's files each hold the link; a folder's files together
    good: list[str] = []
    bad: list[str] = []
    unknown: list[str] = []
    decided: list[str] = []
    culprits: list[_File] = []  # the files of a glob `from` that break the link

    def judge(holding: list[tuple[_File, Any]], missing: list[_File], ok_text: str, bad_text: str) -> None:
        if holding and (not missing or not each):
            good.append(ok_text)
        else:
            culprits.extend(missing)
            if each and holding:
                names = [posixpath.basename(f.relpath) for f in missing]
                bad.append(f"{bad_text} in {len(missing)} of {len(a_files)} files ({_listed(names)})")
            else:
                bad.append(bad_text)

    for method in methods:
        if method == "edge":
            if a.lesson is None or b.lesson is None:
                bad.append(f"an edge needs two lessons; {'from' if a.lesson is None else 'to'} is not a lesson")
                continue
            found = _edge_evidence(cg, a.lesson, b.lesson)
            measures["edge"] = found is not None
            decided.append("a prerequisite or link between the two lessons")
            (good if found else bad).append(found or f"no prerequisite or link between {a_name} and {b.shown()}")
        elif method == "connected" and a.lesson is not None and b.lesson is not None:
            found = _edge_evidence(cg, a.lesson, b.lesson) or _mention(a.files[0], b)
            measures["edge"] = found is not None
            decided.append("a prerequisite, link or mention between the two lessons")
            (good if found else bad).append(
                found or f"no prerequisite, link or mention between {a_name} and {b.shown()}"
            )
        elif method in ("link", "connected"):
            if b.kind == "missing" and method == "connected" and not path_like(b.written):
                text = b.written.strip()
                if re.search(r"\s", text):
                    decided.append("nothing to measure: `to` is a description and no pattern is given")
                    unknown.append(
                        f"to '{text}' is a description, not a file, and no pattern says what {a_name} must hold"
                    )
                    continue

                def names_text(f: _File, t: str = text) -> int:
                    return (f.text or "").count(t)

                holding, missing = _files_holding(a_files, names_text)
                decided.append("from names `to` (GSD: the source includes the target)")
                judge(
                    holding,
                    missing,
                    f"{a_name} names '{text}' ({sum(n for _f, n in holding)}×)",
                    f"{a_name} never names '{text}'",
                )
                continue
            if b.kind == "missing":
                bad.append(f"to '{entry.raw['to']}' is no lesson, file or folder" + (f" ({b.hint})" if b.hint else ""))
                continue

            def connects(f: _File, m: str = method) -> str | None:
                return _connection(cg, f, b, m)

            holding, missing = _files_holding(a_files, connects)
            decided.append(
                "a link from `from` to `to`"
                if method == "link"
                else "from links to, names, or lies in `to`"
                if b.kind == "folder"
                else "from links to or names `to`"
            )
            measures["link"] = bool(holding)
            target = cg.display(b.lesson) if b.lesson is not None else b.relpath
            ok_text = "; ".join(str(found) for _f, found in holding[:3])
            none = f"{a_name} has no link to {target}"
            if method != "link":
                none = f"{a_name} neither links to nor names {target}" + (
                    ", nor lies in it" if b.kind == "folder" else ""
                )
            judge(holding, missing, ok_text, none + (_broken_links(cg, a.lesson) if method == "link" else ""))
        elif method in ("pattern", "pattern-from-or-to"):
            holding, missing = _files_holding(a_files, lambda f: _found_pattern(f, pattern))
            measures["pattern_count"] = sum(len(found[0]) for _f, found in holding)
            if holding and (not missing or not each):
                decided.append("the pattern found in `from`")
                good.append(_pattern_text(pattern, holding, ""))
                continue
            if method == "pattern-from-or-to" and b.files:
                in_to, _rest = _files_holding(b.files, lambda f: _found_pattern(f, pattern))
                if in_to:
                    decided.append("the pattern found in `to` (GSD: searched in from, then in to)")
                    measures["pattern_in_to"] = sum(len(found[0]) for _f, found in in_to)
                    good.append(f"/{pattern}/ not in {a_name}; " + _pattern_text(pattern, in_to, " (`to`)"))
                    continue
            decided.append(
                "the pattern searched in `from`" + (" and `to`" if method == "pattern-from-or-to" and b.files else "")
            )
            where = a_name + (f" or {b.shown()}" if method == "pattern-from-or-to" and b.files else "")
            if each and holding:
                names = [posixpath.basename(f.relpath) for f in missing]
                bad.append(f"/{pattern}/ not found in {len(missing)} of {len(a_files)} files ({_listed(names)})")
                culprits.extend(missing)
            else:
                bad.append(f"/{pattern}/ not found in {where}")
                culprits.extend(missing)
        elif method == "absent":
            holding, _missing = _files_holding(a_files, lambda f: _found_pattern(f, pattern))
            measures["pattern_count"] = sum(len(found[0]) for _f, found in holding)
            decided.append("the pattern must occur nowhere in `from` (a removal)")
            if holding:
                bad.append(_pattern_text(pattern, holding, "") + " (it must occur nowhere)")
                culprits.extend(f for f, _found in holding)
            else:
                n = len(a_files)
                good.append(f"/{pattern}/ occurs in none of {_plural(n, 'file') if n != 1 else a_name}")
        elif method == "inside":
            folder = b.relpath.rstrip("/") + "/" if b.kind == "folder" else posixpath.dirname(b.relpath) + "/"
            if b.kind == "missing":
                bad.append(f"to '{entry.raw['to']}' is no folder")
                continue
            inside = all(f.relpath.startswith(folder) for f in a_files) and bool(a_files)
            measures["inside"] = inside
            decided.append("`from` lies in the folder `to`")
            (good if inside else bad).append(f"{a_name} is {'' if inside else 'not '}in {folder}")
    measures["decided_by"] = "; ".join(dict.fromkeys(decided))
    status = FAILED if bad else NEEDS_HUMAN if unknown else VERIFIED
    evidence = "; ".join(bad + unknown + good)
    location_file = a_files[0] if a_files else None
    verdict = Verdict(
        "key-link",
        entry.id,
        via,
        status,
        evidence,
        measures,
        [(location_file.relpath, Span.point(1))] if location_file is not None and a.kind == "file" else [],
    )
    path, span, doc = "", None, None
    culprit = culprits[0] if culprits and a.kind == "glob" else None
    lesson = a.lesson or (
        culprit.doc if culprit is not None and culprit.doc is not None and culprit.doc.is_lesson else None
    )
    if lesson is not None:
        path, doc = lesson.relpath, lesson
        fm = lesson.frontmatter
        span = lesson.span(0, 0)
        if fm is not None:
            span = (
                fm.places.get((cg.settings.prerequisites_field, "#key")) or fm.places.get(("title", "#key")) or fm.span
            )
    elif culprit is not None:
        path, doc, span = culprit.relpath, culprit.doc, Span.point(1)
    elif a.kind == "file" and location_file is not None:
        path, doc, span = location_file.relpath, location_file.doc, Span.point(1)
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
        name = _name(verdict)
        lines = verdict.measures.get("lines")
        return f"{name} ({lines} lines)" if lines is not None else name
    return f"{verdict.kind} {verdict.id}"


def _name(verdict: Verdict) -> str:
    """An artifact as evidence names it: a file's name, a folder or glob as written."""
    if verdict.kind == "artifact":
        path = str(verdict.measures.get("path", verdict.id))
        if verdict.measures.get("kind") in ("folder", "glob"):
            return path.rstrip("/") + ("/" if verdict.measures.get("kind") == "folder" else "")
        return posixpath.basename(path)
    return verdict.id


def evaluate_requirement(entry: Entry, verdicts: dict[tuple[str, str], Verdict]) -> Outcome:
    parts = []
    for ref in entry.strings("satisfied-by"):
        kind, _, name = ref.partition(":")
        found = verdicts.get((kind, name))
        parts.append((ref, found))
    failed = [(r, v) for r, v in parts if v is None or v.status == FAILED]
    human = [(r, v) for r, v in parts if v is not None and v.status == NEEDS_HUMAN]
    decided = "its must-haves: satisfied when all hold, blocked when one failed"
    if entry.get("untied"):
        # Named for the phase but by no plan: satisfied-by lists every must-have of the phase,
        # not the ones this requirement needs. All of them holding satisfies it; a failure
        # cannot be pinned on it, so a person decides.
        decided = "not tied to must-haves by any plan: satisfied when all of the phase's hold, else a person's"
        if parts and not failed and not human:
            status, state = VERIFIED, "SATISFIED"
            evidence = f"no plan names it; all {_plural(len(parts), 'must-have')} of its phase hold"
        else:
            status, state = NEEDS_HUMAN, "NEEDS HUMAN"
            why = (
                f"{len(failed)} of the phase's {_plural(len(parts), 'must-have')} failed "
                f"({', '.join(_name(v) if v is not None else r for r, v in failed[:4])}"
                f"{', …' if len(failed) > 4 else ''}) and no plan says which of them it needs"
                if failed
                else "the phase has no measured must-have"
                if not parts
                else "some of the phase's must-haves wait for a person"
            )
            evidence = f"no plan names it; {why}"
        measures = {
            "state": state,
            "satisfied_by": [{"ref": r, "status": v.status if v is not None else FAILED} for r, v in parts],
            "decided_by": decided,
        }
        verdict = Verdict("requirement", entry.id, entry.get("text", ""), status, evidence, measures)
        return Outcome(entry, verdict, problem=f"requirement {entry.id} is not satisfied: {evidence}")
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
        "decided_by": decided,
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
        {"title": entry.get("title", ""), "test": entry.raw["test"], "expected": expected, "why": why}
        | ({"truth": True} if entry.get("truth") else {}),
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
            outcomes.append(
                evaluate_names_truth(course, entry) if "names" in entry.raw else evaluate_truth(course, entry)
            )
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
    for o in outcomes:
        _describe(config, o)
    course.cache[CACHE_KEY] = outcomes
    VERDICTS.set(course.extra, [o.verdict for o in outcomes])
    return outcomes


_SUBJECT_KEYS = {
    "truth": ("text",),
    "artifact": ("path",),
    "key-link": ("from", "to", "pattern"),
    "requirement": ("id", "text"),
    "human-check": ("title", "test"),
}


def _describe(config: Config, outcome: Outcome) -> None:
    """What a verdict says about its declaration: where, the subject as written, the phase."""
    entry, verdict = outcome.entry, outcome.verdict
    verdict.declared = (config_relpath(config, entry.file), entry.line)
    verdict.subject = {k: entry.raw[k] for k in _SUBJECT_KEYS.get(entry.kind, ()) if k in entry.raw}
    phase = entry.raw.get("phase")
    verdict.phase = phase if isinstance(phase, str) else ""


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


@rule("musthave/missing-path", level="warning", course=True, tags=("musthaves",))
def missing_path(course: Course, ctx: RuleContext) -> None:
    """A key link names a path that is not in the repository, although its check did not need it.

    ## What it does
    A key link checked by a `pattern` looks in `from` (and, for plans, in `to`): its verdict
    does not depend on `to` existing. When `to` is written as a path (`labs/prometheus/x.yml`,
    `02-alerts.mdx`, a glob) and names no file or folder under the project root, this rule
    says so at the line that declares it, with a did-you-mean, instead of failing the link
    for a reason that is not the link's. (An end the check needs, and a missing artifact,
    fail their own must-have.)

    ## Why it matters
    A wrong path in a plan or config misleads the next reader and hides a renamed file; the
    link itself may still hold.

    ## Example
    ```toml
    [[key-link]]
    from = "content/02-prometheus.mdx"
    to = "labs/monitoring/prometheus/prometheus.yml"   # the lab's file is labs/monitoring/prometheus.yml
    pattern = 'prometheus\\.yml'
    ```

    ## How to fix
    Correct the path (the message suggests the file it probably means).
    """
    for outcome in evaluate(course, ctx.config):
        verdict, entry = outcome.verdict, outcome.entry
        unresolved = verdict.measures.get("unresolved") if verdict.kind == "key-link" else None
        if not unresolved or str(verdict.measures.get("decided_by", "")).startswith("an end the check needs"):
            continue
        for end in unresolved:
            file, line = ctx.config.where(entry.kind, entry.index, end["key"])
            hint = f"; {end['hint']}" if end.get("hint") else ""
            ctx.report_span(
                config_relpath(ctx.config, file or entry.file),
                Span.point(max(line or entry.line, 1)),
                f"key link '{entry.id}': {end['key']} '{end['written']}' names no file or folder under the "
                f"project root{hint} (the link was checked without it: {verdict.status})",
                anchor=f"missing-path:{entry.id}:{end['key']}",
            )


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
    return [truth, artifact, key_link, requirement, missing_path]
