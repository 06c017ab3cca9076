"""The course glossary: terms with their forms in both languages, loaded once per run.

Read from config (``[glossary]``) and, optionally, from the course's own glossary file
(JSON or YAML) through a field mapping::

    [glossary]
    file = "data/glossary.json"
    entries = ""                      # where the list of entries is ("" = the top level)
    fields = { term = "term", english = "termEn", abbreviation = "abbreviation",
               definition = "definition", related = "relatedLessons[].slug" }

    [[glossary.terms]]                # inline terms, or settings for a term of the file
    term = "Образ"
    english = "Image"
    variants = ["имидж"]

Every entry keeps the exact span of each of its fields (in the data file, through
:func:`coursecheck.parse.data.data_place`, or in the config file) so glossary findings
point at the right line and column. Used by the terminology and bilingual families.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import regex

from coursecheck import coursecache
from coursecheck.config.schema import Key, Section
from coursecheck.fsutil import OutsideRoot, contained, outside_problem
from coursecheck.match import AMBIGUOUS_CHOICES, TermMatcher, segment_matches
from coursecheck.parse.data import data_place, parse_data
from coursecheck.text import DecodeError, Span, decode_source, normalize_newlines, quote

if TYPE_CHECKING:
    from coursecheck.config import Config
    from coursecheck.model import Course, Document

SECTION = "glossary"
SECTION_HELP = "the course glossary: inline terms and/or the course's own glossary file with a field mapping"

# Roles a glossary field can play. "english" is the secondary-language form whatever the
# secondary language is ("secondary" is accepted as its synonym).
TEXT_ROLES = ("term", "english", "abbreviation", "definition")
LIST_ROLES = ("related", "variants", "forbidden", "exclude")
ROLES = (*TEXT_ROLES, *LIST_ROLES)
ROLE_SYNONYMS = {"secondary": "english"}
DEFAULT_FIELDS = {
    "term": "term",
    "english": "termEn",
    "abbreviation": "abbreviation",
    "definition": "definition",
    "related": "relatedLessons[].slug",
}
GLOSSARY_KEYS = {
    "file": "path of the course's glossary file (JSON or YAML), relative to the project root",
    "entries": 'where the list of entries is inside the file ("" = the top level, e.g. "terms")',
    "fields": "field mapping: role = path inside an entry (term, english, abbreviation, definition, related...)",
    "terms": "inline terms ([[glossary.terms]]), or settings for terms of the file",
}
TERM_KEYS: dict[str, Any] = {
    "term": str,
    "english": str,
    "secondary": str,
    "abbreviation": str,
    "definition": str,
    "related": list,
    "variants": list,
    "forbidden": list,
    "exclude": list,
    "inflect": bool,
    "case-sensitive": bool,
    "ambiguous": str,
}

# Scripts of the languages a course is likely to pair (ISO 639-1 codes).
LANGUAGE_SCRIPTS = {
    **dict.fromkeys(("ru", "uk", "be", "bg", "mk", "kk", "ky", "mn", "tg"), "Cyrillic"),
    **dict.fromkeys(
        ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "sv", "da", "no", "nb", "fi", "tr", "ro", "hu"),
        "Latin",
    ),
}
_LETTER_SCRIPT = regex.compile(r"(\p{Script=Cyrillic})|(\p{Script=Latin})|(\p{L})")
_PATH_PART = re.compile(r"^([^\[\]]+)?((?:\[\d*\])*)$")


@lru_cache(maxsize=8192)  # asked for the same few term forms at every use
def script_of(text: str) -> str:
    """ "Cyrillic", "Latin", "mixed" (letters of both), "other" or "" (no letters)."""
    seen = set()
    for m in _LETTER_SCRIPT.finditer(text):
        seen.add("Cyrillic" if m.group(1) else "Latin" if m.group(2) else "other")
        if len(seen) > 1:
            return "mixed"
    return next(iter(seen), "")


def language_script(language: str) -> str | None:
    return LANGUAGE_SCRIPTS.get(language.lower().split("-", 1)[0])


@dataclass(slots=True)
class GlossaryEntry:
    """One term. Text fields are "" when absent; ``places`` maps roles to spans."""

    index: int
    term: str = ""
    english: str = ""
    abbreviation: str = ""
    definition: str = ""
    related: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    inflect: bool | None = None  # None: inflect Cyrillic forms
    case_sensitive: bool = False
    ambiguous: str = "context"
    origin: str = "file"  # file | config
    path: str = ""  # where the entry is written (relative to the project root)
    places: dict[str, Span] = field(default_factory=dict)  # role -> span; "entry" -> the entry
    _matchers: dict[Any, TermMatcher] = field(default_factory=dict, repr=False)
    # The forms, and the fields they were made of (rules ask for them per lesson and term).
    _forms: tuple[tuple[str, str, str], list[str]] | None = field(default=None, repr=False, compare=False)

    @property
    def forms(self) -> list[str]:
        """The term's own forms: term, english, abbreviation (variants are not the term)."""
        made_of = (self.term, self.english, self.abbreviation)
        if self._forms is not None and self._forms[0] == made_of:
            return list(self._forms[1])
        out: list[str] = []
        for form in made_of:
            if form.strip() and form.strip().lower() not in (f.lower() for f in out):
                out.append(form.strip())
        self._forms = (made_of, out)
        return list(out)

    @property
    def label(self) -> str:
        """«Образ» (Image, IMG) — for messages."""
        main = self.term or self.english or self.abbreviation
        others = [quote(f) for f in (self.english, self.abbreviation) if f and f != main]
        return f"«{quote(main)}»" + (f" ({', '.join(others)})" if others else "")

    def place(self, role: str = "term") -> Span:
        for candidate in (role, "term", "english", "entry"):
            if candidate in self.places:
                return self.places[candidate]
        return Span.point(1, 1)

    def forms_in(self, script: str) -> list[str]:
        return [f for f in self.forms if script_of(f) == script]

    def matcher(self, *forms: str, plurals: bool = True) -> TermMatcher:
        """A matcher for ``forms`` (default: the term's own forms) with this entry's settings."""
        wanted = tuple(forms) or tuple(self.forms)
        key = (wanted, plurals)
        found = self._matchers.get(key)
        if found is None:
            inflect = self.inflect if self.inflect is not None else True
            found = TermMatcher(
                *wanted,
                inflect=inflect,
                case_sensitive=self.case_sensitive,
                exclude=self.exclude,
                ambiguous=self.ambiguous,
                plurals=plurals,
            )
            self._matchers[key] = found
        return found


@dataclass(slots=True)
class GlossaryProblem:
    """An entry or field that could not be read; reported by terminology/glossary-entry."""

    path: str
    span: Span
    message: str


@dataclass(slots=True)
class Glossary:
    entries: list[GlossaryEntry] = field(default_factory=list)
    problems: list[GlossaryProblem] = field(default_factory=list)
    file: str = ""  # the glossary file, relative to the project root ("" when none)
    document: Document | None = None

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, text: str) -> GlossaryEntry | None:
        """The entry one of whose forms is ``text`` (case-insensitive)."""
        wanted = text.strip().lower()
        for entry in self.entries:
            if wanted in (f.lower() for f in entry.forms):
                return entry
        return None


# -- config -----------------------------------------------------------------------------


def parse_field_path(path: str) -> list[str | int | None] | None:
    """``"relatedLessons[].slug"`` -> ``["relatedLessons", None, "slug"]`` (None = each item).

    Returns None for a malformed path.
    """
    if not path.strip():
        return []
    out: list[str | int | None] = []
    for part in path.strip().split("."):
        m = _PATH_PART.match(part)
        if m is None or (m.group(1) is None and not m.group(2)):
            return None
        if m.group(1):
            out.append(m.group(1))
        for index in re.findall(r"\[(\d*)\]", m.group(2)):
            out.append(int(index) if index else None)
    return out


def _glossary_file(file: str, config: Config) -> str | None:
    if (why := outside_problem(config.root, file)) is not None:
        return why
    if not _linked_out(config.root, file) and not (config.root / file).is_file():
        what = "not a regular file" if (config.root / file).exists() else "no such file"
        return f"{what}: {file} (relative to the project root {config.root})"
    if not file.lower().endswith((".json", ".yaml", ".yml")):
        return "must be a .json, .yaml or .yml file"
    return None


_ENTRIES_PATH = 'a path like "terms" or "data.terms" ("" for the top level)'
_FIELD_PATH = 'must be a path inside an entry, like "termEn" or "related[].slug"'


def _entries_path(entries: str, config: Config) -> str | None:
    return f"must be {_ENTRIES_PATH}" if parse_field_path(entries) is None else None


def _field_roles(fields: dict[str, Any], config: Config) -> list[tuple[tuple[Any, ...], str]]:
    from coursecheck.config import did_you_mean

    problems: list[tuple[tuple[Any, ...], str]] = []
    for role, path in fields.items():
        if ROLE_SYNONYMS.get(role, role) not in ROLES:
            problems.append(((role,), f"unknown role{did_you_mean(role, ROLES)} (roles: {', '.join(ROLES)})"))
        elif not isinstance(path, str) or parse_field_path(path) is None:
            problems.append(((role,), _FIELD_PATH))
    return problems


def _names_a_term(item: dict[str, Any], config: Config) -> list[tuple[tuple[Any, ...], str]]:
    if any(isinstance(item.get(k), str) and item[k].strip() for k in ("term", "english", "secondary")):
        return []
    return [((), "a glossary term needs `term` (or `english`)")]


_TERM_KEY_TYPES = {str: "string", list: "strings", bool: "bool"}

# The [glossary] table's schema (validated by the engine, once).
SCHEMA = Section(
    SECTION,
    SECTION_HELP,
    keys=(
        Key(
            "file", "string", GLOSSARY_KEYS["file"], non_empty=True, expected="a path (a string)", check=_glossary_file
        ),
        Key("entries", "string", GLOSSARY_KEYS["entries"], default="", expected=_ENTRIES_PATH, check=_entries_path),
        Key(
            "fields",
            "table",
            GLOSSARY_KEYS["fields"],
            default=dict(DEFAULT_FIELDS),
            expected='a table: fields = { term = "term", english = "termEn" }',
            table_check=_field_roles,
        ),
        Key(
            "terms",
            "tables",
            GLOSSARY_KEYS["terms"],
            expected="an array of tables: [[glossary.terms]]",
            keys=tuple(
                Key(name, _TERM_KEY_TYPES[t], choices=AMBIGUOUS_CHOICES if name == "ambiguous" else ())
                for name, t in TERM_KEYS.items()
            ),
            table_check=_names_a_term,
        ),
    ),
)


def _linked_out(root: Path, file: str) -> bool:
    """Whether a link on the way to ``file`` leads out of the root (not followed: loading
    the glossary reports it as parse/outside-root)."""
    try:
        contained(root, file)
    except OutsideRoot:
        return True
    return False


def config_place(config: Config, *key: Any) -> tuple[str, Span]:
    """(path relative to the project root, span) of a config key, for findings about it."""
    file, line = config.where(*key)
    path = file
    if config.path is not None:
        try:
            path = config.path.resolve().relative_to(config.root.resolve()).as_posix()
        except ValueError:
            path = file
    if line <= 0:
        return path, Span.point(1, 1)
    column, end = 1, 1
    try:
        text = (config.path or Path(file)).read_text("utf-8").splitlines()[line - 1]
        name = str(key[-1]) if key and not isinstance(key[-1], int) else ""
        at = text.find(name) if name else -1
        if at != -1:
            value_at = text.find("=", at)
            column = (value_at + 1 if value_at != -1 else at) + 1
            while column <= len(text) and text[column - 1] == " ":
                column += 1
            end = len(text.split(" #", 1)[0].rstrip()) + 1
        else:
            column = len(text) - len(text.lstrip()) + 1
            end = len(text.rstrip()) + 1
    except (OSError, IndexError, UnicodeDecodeError):
        pass
    return path, Span(line, column, line, max(end, column), column, max(end, column))


# -- loading ------------------------------------------------------------------------------


def load(config: Config, course: Course) -> Glossary:
    """The glossary of this run (cached in ``course.cache``)."""
    cached = course.cache.get("glossary")
    if isinstance(cached, Glossary):
        return cached
    glossary = Glossary()
    section = config.sections.get(SECTION)
    if isinstance(section, dict):
        file = section.get("file")
        if isinstance(file, str) and file.strip():
            _load_file(glossary, config, course, file.strip(), section)
        _merge_config_terms(glossary, config, section.get("terms", []))
    course.cache["glossary"] = glossary
    return glossary


def _load_file(glossary: Glossary, config: Config, course: Course, file: str, section: dict[str, Any]) -> None:
    relpath = Path(file).as_posix()
    while relpath.startswith("./"):
        relpath = relpath[2:]
    glossary.file = relpath
    doc = course.document(relpath)
    if doc is None:
        path = config.root / file
        try:
            # Recorded: a glossary outside the checked files is part of the course stage's cache key.
            text, has_bom = decode_source(coursecache.read_bytes(course, path))
        except (OSError, DecodeError) as exc:
            glossary.problems.append(GlossaryProblem(relpath, Span.point(1, 1), f"cannot read the glossary: {exc}"))
            return
        kind = "json" if file.lower().endswith(".json") else "yaml"
        doc = parse_data(path, relpath, normalize_newlines(text), kind, has_bom=has_bom)
    glossary.document = doc
    if doc.data is None:
        # parse/data-syntax reports the syntax error when the file is a course data file.
        why = doc.problems[0].message if doc.problems else "the file is empty"
        span = doc.problems[0].span if doc.problems else Span.point(1, 1)
        glossary.problems.append(GlossaryProblem(relpath, span, f"glossary not loaded: {why}"))
        return
    entries_path = parse_field_path(section.get("entries", "") or "") or []
    # "terms", or "categories[].terms": the entries of every category, in order.
    containers = list(_values(doc.data, entries_path, ())) if None in entries_path else []
    if None not in entries_path:
        container = _get(doc.data, entries_path)
        containers = [(container, tuple(entries_path))]
    lists = [(value, keys) for value, keys in containers if isinstance(value, list)]
    if not lists:
        where = section.get("entries") or "the top level"
        found = type(containers[0][0]).__name__ if containers else "nothing"
        glossary.problems.append(
            GlossaryProblem(
                relpath,
                data_place(doc, *[k for k in entries_path if k is not None]),
                f"expected a list of glossary entries at {where}, found {found}",
            )
        )
        return
    items_at = [((*keys, i), item) for value, keys in lists for i, item in enumerate(value)]
    fields = dict(DEFAULT_FIELDS)
    for role, path in (section.get("fields") or {}).items():
        fields[ROLE_SYNONYMS.get(role, role)] = path
    parsed = {role: parse_field_path(path) or [] for role, path in fields.items() if isinstance(path, str)}
    for i, (base, item) in enumerate(items_at):
        entry = GlossaryEntry(index=len(glossary.entries), origin="file", path=relpath)
        entry.places["entry"] = data_place(doc, *base)
        if not isinstance(item, dict):
            glossary.problems.append(
                GlossaryProblem(relpath, entry.places["entry"], f"entry {i + 1} is not a table of fields; skipped")
            )
            continue
        for role, field_path in parsed.items():
            values = list(_values(item, field_path, ()))
            if not values:
                continue
            if role in TEXT_ROLES:
                value, sub = values[0]
                if not isinstance(value, str):
                    glossary.problems.append(
                        GlossaryProblem(
                            relpath,
                            data_place(doc, *base, *sub),
                            f"entry {i + 1}: field '{fields[role]}' ({role}) must be text, not {type(value).__name__}",
                        )
                    )
                    continue
                setattr(entry, role, value.strip())
                entry.places[role] = data_place(doc, *base, *sub)
            else:
                if len(values) == 1 and isinstance(values[0][0], list):
                    values = [(v, (*values[0][1], k)) for k, v in enumerate(values[0][0])]
                items = [v for v, _ in values if isinstance(v, str)]
                setattr(entry, role, items)
                if values:
                    entry.places[role] = data_place(doc, *base, *values[0][1])
        if not (entry.term or entry.english):
            glossary.problems.append(
                GlossaryProblem(
                    relpath,
                    entry.places["entry"],
                    f"entry {i + 1} has no '{fields.get('term')}' (term) nor '{fields.get('english')}' (english) field; skipped",
                )
            )
            continue
        glossary.entries.append(entry)


def _merge_config_terms(glossary: Glossary, config: Config, terms: Any) -> None:
    if not isinstance(terms, list):
        return
    for i, item in enumerate(terms):
        if not isinstance(item, dict):
            continue
        values = {ROLE_SYNONYMS.get(k, k): v for k, v in item.items()}
        names = [values.get(k) for k in ("term", "english") if isinstance(values.get(k), str)]
        targets = [e for e in glossary.entries if e.origin == "file" and any(n and _same_form(n, e) for n in names)]
        if not targets:
            entry = GlossaryEntry(index=len(glossary.entries), origin="config")
            entry.path, entry.places["entry"] = config_place(config, SECTION, "terms", i)
            targets = [entry]
            glossary.entries.append(entry)
        for entry in targets:
            for role in TEXT_ROLES:
                value = values.get(role)
                if isinstance(value, str) and (entry.origin == "config" or not getattr(entry, role)):
                    setattr(entry, role, value.strip())
                    key = next(k for k in item if ROLE_SYNONYMS.get(k, k) == role)
                    if entry.origin == "config":
                        entry.places[role] = config_place(config, SECTION, "terms", i, key)[1]
            for role in LIST_ROLES:
                value = values.get(role)
                if isinstance(value, list):
                    current = getattr(entry, role)
                    current.extend(v for v in value if isinstance(v, str) and v not in current)
                    if entry.origin == "config":
                        entry.places[role] = config_place(config, SECTION, "terms", i, role)[1]
            if isinstance(values.get("inflect"), bool):
                entry.inflect = values["inflect"]
            if isinstance(values.get("case-sensitive"), bool):
                entry.case_sensitive = values["case-sensitive"]
            if values.get("ambiguous") in AMBIGUOUS_CHOICES:
                entry.ambiguous = values["ambiguous"]
            entry._matchers.clear()


def _same_form(name: str, entry: GlossaryEntry) -> bool:
    return name.strip().lower() in (f.lower() for f in (entry.term, entry.english) if f)


# Keys a glossary entry's fields go by, most likely first (for ``coursecheck init``).
SHAPE_KEYS: dict[str, tuple[str, ...]] = {
    "term": ("term", "termRu", "name", "title", "word"),
    "english": ("termEn", "english", "en", "translation", "original"),
    "abbreviation": ("abbreviation", "abbr", "acronym"),
    "definition": ("definition", "description", "meaning", "explanation", "desc"),
    "related": ("relatedLessons", "related", "lessons"),
}


def find_glossary_shape(data: Any, limit: int = 10_000, min_entries: int = 3) -> tuple[str, dict[str, str]] | None:
    """Where a data file keeps glossary entries, by their shape: the largest list (at any
    depth, through lists of categories) of objects that have a term field and a definition
    or English field (``min_entries`` of them at least). Returns ``(entries path, field mapping)``: ``("categories[].terms",
    {"term": "name", "definition": "description"})``; None when nothing looks like one."""
    best: tuple[int, str, dict[str, str]] | None = None
    stack: list[tuple[Any, str, bool]] = [(data, "", False)]
    seen = 0
    while stack and seen < limit:
        node, path, through_list = stack.pop()
        seen += 1
        groups = _entry_lists(node)
        for items in groups:
            fields = _entry_fields(items)
            if fields is not None and (best is None or len(items) > best[0]):
                best = (len(items), path, fields)
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and re.fullmatch(r"[A-Za-z_][\w-]*", key) and isinstance(value, (dict, list)):
                    stack.append((value, f"{path}.{key}" if path else key, False))
        elif isinstance(node, list) and not through_list and node and all(isinstance(v, dict) for v in node):
            # A list of categories: the same key in each holds part of the entries.
            keys = set.intersection(*(set(v) for v in node))
            for key in sorted(k for k in keys if isinstance(k, str) and re.fullmatch(r"[A-Za-z_][\w-]*", k)):
                merged = [item for v in node if isinstance(v.get(key), list) for item in v[key]]
                if merged:
                    stack.append((merged, f"{path}[].{key}" if path else f"[].{key}", True))
    if best is None or best[0] < min_entries:
        return None
    return best[1], best[2]


def _entry_lists(node: Any) -> list[list[Any]]:
    return [node] if isinstance(node, list) and node and all(isinstance(v, dict) for v in node) else []


def _entry_fields(items: list[dict[str, Any]]) -> dict[str, str] | None:
    fields: dict[str, str] = {}
    for role, keys in SHAPE_KEYS.items():
        for key in keys:
            holding = sum(1 for item in items if isinstance(item.get(key), (str, list)) and item.get(key))
            if holding >= 0.8 * len(items):
                fields[role] = key
                break
    if "term" not in fields or not ({"definition", "english"} & set(fields)):
        return None
    related = fields.get("related")
    if related is not None:
        sample = next((item[related] for item in items if isinstance(item.get(related), list) and item[related]), None)
        if isinstance(sample, list) and sample and isinstance(sample[0], dict):
            named_by = next((k for k in ("slug", "lesson", "id", "href") if k in sample[0]), None)
            if named_by is None:
                del fields["related"]
            else:
                fields["related"] = f"{related}[].{named_by}"
        elif isinstance(sample, list) and sample and isinstance(sample[0], str):
            fields["related"] = f"{related}[]"
    return fields


def _get(data: Any, path: list[str | int | None]) -> Any:
    for part in path:
        if isinstance(part, str) and isinstance(data, dict):
            data = data.get(part)
        elif isinstance(part, int) and isinstance(data, list) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _values(data: Any, path: list[str | int | None], keys: tuple[Any, ...]) -> Any:
    """``(value, key path)`` for each value a field path reaches (``None`` = every item)."""
    if not path:
        if data is not None:
            yield data, keys
        return
    head, rest = path[0], path[1:]
    if head is None:
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from _values(item, rest, (*keys, i))
        return
    if isinstance(head, int):
        if isinstance(data, list) and head < len(data):
            yield from _values(data[head], rest, (*keys, head))
        return
    if isinstance(data, dict) and head in data:
        yield from _values(data[head], rest, (*keys, head))


# -- uses of a term in a lesson, and whether a use gives both forms -------------------------

_OPEN_PAREN = re.compile(r"[ \t]*\(([^()\n]*)\)")


@dataclass(slots=True)
class Use:
    """One occurrence of a glossary term in a lesson, at source offsets ``start``..``end``."""

    doc: Document
    start: int
    end: int
    text: str
    paired: bool  # given with another form of the term: "образ (image)", "WAL (Write-Ahead Log)"


def _other_forms(entry: GlossaryEntry, found: str) -> list[str]:
    """The forms of ``entry`` that would pair with ``found`` (another language or the
    abbreviation/expansion)."""
    if entry.abbreviation and found.strip().lower() == entry.abbreviation.lower():
        return [f for f in (entry.term, entry.english) if f]
    script = script_of(found)
    others = [f for f in (entry.term, entry.english) if f and script_of(f) != script]
    if entry.abbreviation:
        others.append(entry.abbreviation)
    return others


def is_paired(text: str, start: int, end: int, entry: GlossaryEntry) -> bool:
    """Whether the use ``text[start:end]`` comes with another form of the term in a
    parenthesis right after it ("образ (image)") or is itself inside the parenthesis that
    follows another form ("Write-Ahead Log (журнал упреждающей записи)")."""
    others = _other_forms(entry, text[start:end])
    if not others:
        return False
    matcher = entry.matcher(*others)
    after = _OPEN_PAREN.match(text, end)
    if after is not None and any(True for _ in matcher.finditer(after.group(1))):
        return True
    open_at = _open_paren_before(text, start)
    if open_at != -1:
        before = text[max(0, open_at - 120) : open_at].rstrip()
        for m in matcher.finditer(before):
            if m.end == len(before):
                return True
    return False


_PAREN_OR_NEWLINE = re.compile(r"[()\n]")
# The parentheses and newlines of the text looked at last: (text, their offsets, the characters).
_DELIMITERS: list[Any] = [None, [], ""]


def _open_paren_before(text: str, start: int) -> int:
    """The offset of the last ``(`` before ``start`` with no ``)`` or newline after it (the
    parenthesis ``start`` is in), or -1. Found by bisection in the text's parentheses and
    newlines, listed once per text: a term used 10^4 times on one long line does not make
    each use scan the line back to its start."""
    if _DELIMITERS[0] is not text:
        found = list(_PAREN_OR_NEWLINE.finditer(text))
        _DELIMITERS[:] = [text, [m.start() for m in found], "".join(m.group() for m in found)]
    at = bisect.bisect_left(_DELIMITERS[1], start) - 1
    return _DELIMITERS[1][at] if at >= 0 and _DELIMITERS[2][at] == "(" else -1


def uses(doc: Document, entry: GlossaryEntry, scopes: tuple[str, ...] | frozenset[str]) -> list[Use]:
    """Every use of the term's own forms (not its variants) in ``doc``, in source order."""
    wanted = frozenset(scopes)
    memo = _uses_memo(doc)
    found = memo.get(id(entry))
    if found is None or found[0] is not entry:
        found = memo[id(entry)] = (entry, {})
    by_scopes = found[1]
    known = by_scopes.get(wanted)
    if known is None:
        # Several rules ask for the same term in the same lesson (terminology's unused-term
        # and used-before-introduction, bilingual's missing-pair): found once per scope set;
        # a narrower set is cut from a wider one already found.
        wider = next((v for have, v in by_scopes.items() if have > wanted), None)
        if wider is not None:
            known = [(scope, use) for scope, use in wider if scope in wanted]
        else:
            known = _find_uses(doc, entry, wanted)
        by_scopes[wanted] = known
    return [use for _scope, use in known]


def _find_uses(doc: Document, entry: GlossaryEntry, scopes: frozenset[str]) -> list[tuple[str, Use]]:
    found: list[tuple[str, Use]] = []
    for seg, m in segment_matches(doc, entry.matcher(), scopes):
        start, end = seg.range(m.start, m.end)
        found.append((seg.scope, Use(doc, start, end, m.text, is_paired(seg.text, m.start, m.end, entry))))
    found.sort(key=lambda item: item[1].start)
    return found


# The uses found in the document checked last: (document, its segment count, id(entry) ->
# (entry, scopes -> [(segment scope, use)])). Rules check one document after another.
_USES: list[Any] = [None, 0, {}]


def _uses_memo(doc: Document) -> dict[int, tuple[GlossaryEntry, dict[frozenset[str], list[tuple[str, Use]]]]]:
    segments = len(doc.segments)
    if _USES[0] is not doc or _USES[1] != segments:
        _USES[:] = [doc, segments, {}]
    return _USES[2]


def pairable(entry: GlossaryEntry) -> bool:
    """Whether the term has forms that can pair: two scripts, or an abbreviation and its expansion."""
    scripts = {script_of(f) for f in (entry.term, entry.english) if f}
    if entry.abbreviation and (entry.term or entry.english):
        return True
    return len(scripts - {""}) >= 2


# A use of a rendering: (source span, matched text, the text of its line) -- what a finding
# needs, kept in the per-file summary so the course stage reads no file.
RenderingUse = tuple[Span, str, "str | tuple[str, int, bool] | None"]


@dataclass(slots=True)
class EntryRenderings:
    """One lesson's renderings of one glossary entry (bilingual/inconsistent-rendering's per-file
    summary; here, below the rule families, because stored summaries are unpickled by class)."""

    main: int  # uses of the glossary's own form(s) (counted only: never reported)
    variants: dict[str, list[RenderingUse]]  # each configured variant -> its uses
    pairs: dict[str, str]  # «X (english)» found here: label -> text
    pair_uses: dict[str, list[RenderingUse]]  # the uses of each pair text found here
