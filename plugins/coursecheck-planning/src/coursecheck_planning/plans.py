"""Reading GSD plan files and turning their must-haves into coursecheck must-have tables.

A GSD project ("get-shit-done") keeps, per phase, ``.planning/phases/<phase>/NN-MM-PLAN.md``
files. Their YAML frontmatter says what the phase must deliver::

    must_haves:
      truths:                      # observable facts, as sentences
        - "MilliSecondsBehindSource is the primary lag metric"
      artifacts:                   # files (or folders, or globs) and what they provide
        - path: src/content/course/03-module-3/01-jmx-metrics-interpretation.mdx
          provides: JMX metric categories
          min_lines: 200
          contains: "MilliSecondsBehindSource"     # a string or a list of strings
          exports: [MetricTable]                   # names the file must export (JS/TS/MDX)
      key_links:                   # connections between files
        - from: 02-prometheus-metrics-collection.mdx
          to: labs/monitoring/prometheus.yml     # a path, or a description ("connector config")
          via: Scrape configuration
          pattern: 'prometheus\\.yml'              # a regex searched in `from`, then in `to`

and the body holds ``<objective>``, ``<task>`` blocks (``<files>``, ``<done>``, checkpoints)
and requirement ids. ``.planning/ROADMAP.md`` gives each phase its name, goal and
requirement ids; ``.planning/REQUIREMENTS.md`` the requirement texts.

What each item becomes (one coursecheck table, located at the item's line in the plan; the
semantics are GSD's, made precise: see README.md):

* artifact -> ``[[artifact]]``: the path as written (coursecheck resolves files, folders,
  globs and unique bare names), ``min_lines`` -> ``min-lines``, ``contains`` -> literal
  ``contains`` (a value that looks like a regex -> ``contains-or-regex``, with a finding),
  ``exports`` -> ``exports`` (``"*"`` -> an ``export *`` pattern, with a finding), plus the
  keys of every matching ``[[planning.artifact]]``;
* key link -> ``[[key-link]]``: with a ``pattern``, verify ``pattern-from-or-to`` (GSD: in
  `from`, else in `to`; `to` may be a description), or ``absent`` when ``via`` says the
  thing is removed (with a finding); without one, ``connected`` (a prerequisite or link
  between lessons, else `from` links to or names `to`);
* truth -> ``[[truth]]`` when a ``[[planning.truth]]`` maps its text, else a ``[[truth]]``
  with the ``names`` it states, counted in the phase's files and the course (never passed:
  the meaning is a person's), else ``[[human-check]]``;
* requirement ids (frontmatter ``requirements:``, else the plan's text; the phase's list in
  ROADMAP.md when it has one) -> ``[[requirement]]`` satisfied by the artifacts of the task
  naming the id, else the plan's artifacts; an id ROADMAP.md gives the phase and no plan
  names -> an untied ``[[requirement]]`` over all the phase's artifacts and key links;
* ``<task type="checkpoint:human-verify">`` -> ``[[human-check]]`` (code blocks kept).

Every must-have carries its ``phase`` (the phase folder's name), for phase-scoped reports.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from coursecheck.api import MUSTHAVE_KEYS as KEYS
from coursecheck.api import MUSTHAVE_SCHEMAS, config_relpath
from coursecheck.config import Config, ConfigProblem
from coursecheck.config.schema import Key, Section, section_problems
from coursecheck.fsutil import OutsideRoot, contained, outside_problem
from coursecheck.globs import compile_glob, invalid_glob, literal_base
from coursecheck.model import Phase
from coursecheck.parse.markdown import parse_markdown

SECTION = "planning"
DEFAULT_PLANS = (".planning/phases/*/*-PLAN.md",)
DEFAULT_REQUIREMENTS_FILE = ".planning/REQUIREMENTS.md"
DEFAULT_ROADMAP_FILE = ".planning/ROADMAP.md"
# Capitals-or-digits, a dash, exactly two digits, maybe a letter: MOD3-05, AUTH-01,
# STRUCT-01a (not SHA-256, UTF-8, ISO-8601).
DEFAULT_REQUIREMENT_PATTERN = r"\b[A-Z][A-Z0-9]+-\d{2}[a-z]?\b"

# [planning] keys: name -> (accepted types, description)
SETTINGS: dict[str, tuple[tuple[type, ...], str]] = {
    "root": ((str,), "folder holding .planning/, relative to the config file (default: the project root)"),
    "plans": ((list,), "globs of plan files, relative to root"),
    "requirements": ((bool,), "make [[requirement]] must-haves of requirement ids found in plans"),
    "requirement-pattern": ((str,), "regular expression of a requirement id"),
    "requirements-file": ((str,), "a file listing requirement texts ('- **MOD3-01**: text'), relative to root"),
    "roadmap-file": ((str,), "the roadmap: each phase's name, goal and requirement ids, relative to root"),
    "human-checkpoints": ((bool,), "make [[human-check]] must-haves of checkpoint:human-verify tasks"),
    "truth-names": ((bool,), "measure the names a truth states (false: every unmapped truth is a human check)"),
    "truth": ((list,), "[[planning.truth]]: a plan truth's text mapped to a measurable check"),
    "artifact": ((list,), "[[planning.artifact]]: checks added to plan artifacts whose path matches"),
}
ARTIFACT_KEYS = ("path", "provides", "min_lines", "contains", "exports")
KEY_LINK_KEYS = ("from", "to", "via", "pattern")
MUST_HAVE_KEYS = ("truths", "artifacts", "key_links")
# What a [[planning.truth]] may say besides `text`: the check keys of a [[truth]].
TRUTH_MAP_KEYS = {k: v for k, v in KEYS["truth"].items() if k not in ("text", "phase", "names", "absent-is-gap")}
ARTIFACT_MAP_KEYS = {k: v for k, v in KEYS["artifact"].items() if k not in ("id", "provides", "phase")}
_SKIPPED_DIRS = {".git", "node_modules", ".venv", "__pycache__", ".coursecheck-cache"}
_TASK = re.compile(r"<task\b([^>]*)>(.*?)</task>", re.DOTALL)
_FILES = re.compile(r"<files>(.*?)</files>", re.DOTALL)
_OBJECTIVE = re.compile(r"<objective>(.*?)</objective>", re.DOTALL)
_ELEMENT = re.compile(r"<(name|what-built|how-to-verify|resume-signal)>(.*?)</\1>", re.DOTALL)
_REQUIREMENT_LINE = re.compile(r"^\s*[-*]\s*(?:\[[ xX]\]\s*)?\**`?([A-Za-z][\w.-]*)`?\**\s*[:—–-]\s*(\S.*)$")
_PHASE_NUMBER = re.compile(r"^(\d+(?:\.\d+)*)([A-Za-z]?)(?=[-_ .]|$)")
_ROADMAP_PHASE = re.compile(r"^(#{2,4})\s*Phase\s+(\d+(?:\.\d+)*[A-Za-z]?)\s*[:.—–-]\s*(.+?)\s*#*\s*$", re.MULTILINE)
_ROADMAP_FIELD = re.compile(
    r"^\s*[-*]?\s*\*\*(Goal|Requirements)\*\*\s*:?\s*:?\s*(.+?)\s*$", re.MULTILINE | re.IGNORECASE
)
# Words in `via` that make a link a removal: "removal verification", "no longer imports".
_NEGATIVE_VIA = re.compile(
    r"\b(?:remov\w*|delet\w*|eliminat\w*|no\s+longer|must\s+not|should\s+not|absen\w*|without|gone|not\s+exist\w*|"
    r"zero|none)\b",
    re.IGNORECASE,
)
_NEGATIVE_TRUTH = re.compile(
    r"^\s*(?:no|none|zero)\b|\b(?:without|not|never|no\s+longer|removed|zero)\b", re.IGNORECASE
)
# A `contains` value that is meant as a regex: `.*`, `\d`, a class, an anchor, `a|b`...
_REGEX_LOOK = re.compile(r"\.[*+?]|\\[dDsSwWbB.]|\[[^\]]+\]|^\^|\$$|\(\?|\w\|\w|\{\d+(?:,\d*)?\}")
_NAME = re.compile(r"[A-Za-z_$][\w$]*")


@dataclass(slots=True)
class Declared:
    """A must-have table for the ``coursecheck_musthaves`` hook."""

    kind: str
    table: dict[str, Any]
    file: str
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    def as_tuple(self) -> tuple[str, dict[str, Any], str, int, dict[str, int]]:
        return (self.kind, self.table, self.file, self.line, self.key_lines)


@dataclass(slots=True)
class Note:
    """How a plan was read where it can be read more than one way, or could not be read:
    a ``planning/plan-reading`` finding at the plan's line."""

    file: str
    line: int
    message: str
    level: str = "warning"


@dataclass(slots=True)
class Loaded:
    declared: list[Declared] = field(default_factory=list)
    problems: list[ConfigProblem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)  # display paths of the plans read
    phases: list[Phase] = field(default_factory=list)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _root_relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def _did_you_mean(word: str, candidates: Any) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _regex_problem(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    return ""


def _regexes(value: str | list[str], config: Config) -> list[str]:
    return [why for pattern in ([value] if isinstance(value, str) else value) if (why := _regex_problem(pattern))]


def _globs(value: list[str], config: Config) -> list[str]:
    return [f"glob '{pattern}': {why}" for pattern in value if (why := invalid_glob(pattern))]


def _glob(value: str, config: Config) -> str | None:
    why = invalid_glob(value)
    return f"glob '{value}': {why}" if why else None


def _mapped_keys(kind: str, names: Any) -> tuple[Key, ...]:
    """[[planning.truth]] / [[planning.artifact]] keys: the must-have keys they set, with the
    must-have tables' types (none required here), their regexes checked."""
    by_name = {key.name: key for key in MUSTHAVE_SCHEMAS[kind].keys}
    return tuple(
        replace(
            by_name[name],
            required=False,
            check=_regexes if name in ("pattern", "heading", "patterns") else by_name[name].check,
        )
        for name in names
    )


def _maps_one_check(table: dict[str, Any], config: Config) -> list[tuple[tuple[Any, ...], str]]:
    if sum(k in table for k in ("term", "pattern", "heading")) != 1:
        return [((), "a [[planning.truth]] maps to exactly one of 'term', 'pattern' or 'heading'")]
    return []


def _paths(section: dict[str, Any], config: Config) -> list[tuple[tuple[Any, ...], str]]:
    """The plan root, the requirements file and the roadmap must be inside the project root."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    for key, base in (("root", _config_folder(config)), ("requirements-file", None), ("roadmap-file", None)):
        written = section.get(key)
        if not isinstance(written, str):
            continue
        if base is None:  # relative to the plan root, itself inside the project root
            if "root" in section and isinstance(section["root"], str) and _outside(config, section["root"], None):
                continue  # the root is reported
            base = _plan_root_as_written(config)
        refused = _outside(config, written, base)
        if refused:
            problems.append(((key,), refused))
    return problems


def _setting(name: str, kind: str, **more: Any) -> Key:
    return Key(name, kind, SETTINGS[name][1], **more)


# The [planning] table's schema (validated by coursecheck, once, before the plans are read).
SCHEMA = Section(
    SECTION,
    "must-haves read from GSD planning documents (.planning/phases/*/*-PLAN.md), coursecheck-planning",
    keys=(
        _setting("root", "string"),
        _setting("plans", "strings", default=list(DEFAULT_PLANS), check=_globs),
        _setting("requirements", "bool", default=True),
        _setting("requirement-pattern", "string", default=DEFAULT_REQUIREMENT_PATTERN, check=_regexes),
        _setting("requirements-file", "string", default=DEFAULT_REQUIREMENTS_FILE),
        _setting("roadmap-file", "string", default=DEFAULT_ROADMAP_FILE),
        _setting("human-checkpoints", "bool", default=True),
        _setting("truth-names", "bool", default=True),
        _setting(
            "truth",
            "tables",
            expected="an array of tables: [[planning.truth]]",
            keys=(
                Key("text", "string", "the plan truth's text", required=True),
                *_mapped_keys("truth", TRUTH_MAP_KEYS),
            ),
            table_check=_maps_one_check,
        ),
        _setting(
            "artifact",
            "tables",
            expected="an array of tables: [[planning.artifact]]",
            keys=(
                Key("path", "string", "a glob of plan artifact paths", required=True, check=_glob),
                *_mapped_keys("artifact", [k for k in ARTIFACT_MAP_KEYS if k != "path"]),
            ),
        ),
    ),
    check=_paths,
)


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _norm_path(written: str) -> str:
    return written.strip().removeprefix("./").rstrip("/")


def _config_folder(config: Config) -> Path:
    return config.path.parent if config.path is not None else config.root


def _plan_root_as_written(config: Config) -> Path:
    section = config.sections.get(SECTION) or {}
    written = section.get("root") if isinstance(section, dict) else None
    folder = _config_folder(config)
    return Path(os.path.normpath(folder / written)) if isinstance(written, str) else config.root


def _outside(config: Config, written: str, base: Path | None) -> str:
    """Why ``written`` (a path relative to ``base``, default the config's folder) is refused:
    it must name a place inside the project root, outside .git, reached without a link
    that leads out (the plans and requirements of another tree are not this course's)."""
    if getattr(config, "trusted", False):
        return ""  # the user's own config, from outside the project: its paths as written
    base = _config_folder(config) if base is None else base
    if os.path.isabs(written):
        return outside_problem(config.root, written) or ""
    try:
        relative = os.path.relpath(os.path.normpath(base / written), config.root)
    except ValueError:
        relative = written
    why = outside_problem(config.root, relative)
    if why is not None:
        return why.replace(f"'{relative}'", f"'{written}'", 1)
    try:
        contained(config.root, relative)
    except OutsideRoot as exc:
        return f"'{written}': {exc.describe()}"
    return ""


def plan_root(config: Config) -> Path:
    section = config.sections.get(SECTION) or {}
    written = section.get("root") if isinstance(section, dict) else None
    if isinstance(written, str) and config.path is not None:
        return (config.path.parent / written).resolve()
    return config.root


def plan_files(config: Config) -> list[Path]:
    section = config.sections.get(SECTION) or {}
    patterns = section.get("plans", list(DEFAULT_PLANS)) if isinstance(section, dict) else list(DEFAULT_PLANS)
    root = plan_root(config)
    compiled = [compile_glob(p) for p in patterns if isinstance(p, str) and not invalid_glob(p)]
    found: list[Path] = []
    if not root.is_dir():
        return found
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS - {".planning"})
        base = Path(folder).relative_to(root).as_posix()
        for name in sorted(files):
            rel = name if base == "." else f"{base}/{name}"
            if any(rx.match(rel) for rx in compiled):
                found.append(Path(folder) / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def planning_file(config: Config, key: str, default: str) -> str | None:
    """The text of a planning file named by ``[planning] key`` (relative to root), or None.
    The one place the plugin reads a planning file other than a plan."""
    section = config.sections.get(SECTION) or {}
    written = section.get(key, default) if isinstance(section, dict) else default
    if not isinstance(written, str):
        return None
    try:
        # The default file may be a link the repository committed: never one leading out.
        path = Path(contained(_boundary(config), plan_root(config) / written))
    except OutsideRoot:
        return None
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")


def _boundary(config: Config) -> Path:
    """What planning files must stay inside: the project root; for the user's own config
    (given from outside the project), the plan root it chose."""
    return plan_root(config) if getattr(config, "trusted", False) else config.root


def _requirement_texts(config: Config) -> dict[str, str]:
    text = planning_file(config, "requirements-file", DEFAULT_REQUIREMENTS_FILE)
    texts: dict[str, str] = {}
    for line in (text or "").splitlines():
        m = _REQUIREMENT_LINE.match(line)
        if m:
            texts.setdefault(m.group(1), m.group(2).strip())
    return texts


def _same_number(a: str, b: str) -> bool:
    """Phase numbers as ROADMAP.md and folders write them: 7, 07 and 07.0 are one phase."""

    def parts(n: str) -> tuple[Any, ...]:
        m = re.fullmatch(r"(\d+(?:\.\d+)*)([A-Za-z]?)", n.strip())
        if not m:
            return (n,)
        return (*(int(x) for x in m.group(1).split(".")), m.group(2).lower())

    pa, pb = parts(a), parts(b)
    strip = lambda p: tuple(x for x in p if x not in (0, "")) if len(p) > 1 else p  # noqa: E731
    return pa == pb or (pa[0] == pb[0] and strip(pa[1:]) == strip(pb[1:]))


def _roadmap_phases(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """``(number, name, {"goal": ..., "requirements": ...})`` for each ``### Phase N: Name``
    section of ROADMAP.md (fields from the section's ``**Goal**:`` lines)."""
    heads = list(_ROADMAP_PHASE.finditer(text))
    out = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[m.end() : end]
        fields: dict[str, str] = {}
        for f in _ROADMAP_FIELD.finditer(body):
            fields.setdefault(f.group(1).lower(), f.group(2).strip())
        name = re.sub(r"\s*[✓✔]\s*$", "", m.group(3).strip().strip("*").strip())
        out.append((m.group(2), name, fields))
    return out


def _roadmap_entry(config: Config, number: str) -> tuple[str, dict[str, str]] | None:
    text = planning_file(config, "roadmap-file", DEFAULT_ROADMAP_FILE)
    if not text:
        return None
    candidates = [(name, fields) for n, name, fields in _roadmap_phases(text) if _same_number(n, number)]
    with_goal = [c for c in candidates if c[1].get("goal")]
    return (with_goal or candidates or [None])[0]


def _looks_like_regex(value: str) -> bool:
    return bool(_REGEX_LOOK.search(value)) and not _regex_problem(value)


def _strings(value: Any) -> list[str] | None:
    """A string or a list of scalars, as strings (YAML turns `8083` into a number)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return [str(v) for v in value]
    return None


# -- the names a truth states ---------------------------------------------------------------

_BACKTICKS = re.compile(r"`([^`\n]{1,80})`")
_QUOTED = re.compile(r"\"([^\"\n]{2,60})\"|“([^”\n]{2,60})”|«([^»\n]{2,60})»|(?<![\w])'([^'\n]{2,60})'(?![\w])")
_HOSTPORT = re.compile(r"(?<![\w.-])[A-Za-z][\w.-]*:\d{2,5}(?![\w])(?!/\S*[*?])")  # not a route pattern
_TAG = re.compile(r"<([A-Z][A-Za-z0-9]*)(?=[\s/>])")  # a JSX component: <Mermaid chart=...>
_CALL = re.compile(r"(?<![\w.$])[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\([^()\s]{0,30}\)")
_DOTTED = re.compile(r"(?<![\w.])[A-Za-z_][\w-]+(?:\.[A-Za-z_][\w-]*)+(?![\w(])")
_SNAKE = re.compile(r"(?<![\w.])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![\w.(])")
_CAMEL = re.compile(
    r"(?<![\w.])(?:[A-Z]?[a-z]+[A-Z][A-Za-z0-9]*|[A-Z]{2,}(?!s(?![A-Za-z0-9]))[a-z][A-Za-z0-9]*)(?![\w.(])"
)  # MilliSecondsBehindSource, PostgreSQL, KRaft; not an acronym's plural (SMTs)
_UNIT = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?(?:ms|s|m|h|d|min|sec|KB|MB|GB|TB|KiB|MiB|GiB|%)(?![\w])"
    r"|(?<![\w.])\d+(?:\.\d+)*\+(?!\w)|(?<![\w.])\d+\.x(?![\w.])"
)
_KEBAB_DIGITS = re.compile(r"(?<![\w./-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+(?![\w/-])")


def truth_names(text: str) -> list[str]:
    """The measurable names a truth states: backticked text, quoted phrases, host:port,
    calls (``pg_logical_emit_message()``), dotted names (``tasks.max``), snake_case and
    CamelCase identifiers (``wal_level``, ``MilliSecondsBehindSource``), numbers with units
    or a plus (``5s``, ``3.6+``, ``2.x``) and digit-bearing kebab names (``03-module-3``).
    Plain words and acronyms are not names: "Student can explain SMTs" names nothing."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: str) -> None:
        value = value.strip().rstrip(".,;:")
        if value.endswith(".*"):
            value = value[:-2]
        if len(value) < 2 or any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append((start, value))

    for m in _BACKTICKS.finditer(text):
        add(m.start(), m.end(), m.group(1))
    for m in _TAG.finditer(text):
        add(m.start(), m.end(), "<" + m.group(1))
    for m in _QUOTED.finditer(text):
        add(m.start(), m.end(), next(g for g in m.groups() if g))
    for rx in (_HOSTPORT, _CALL, _DOTTED, _SNAKE, _CAMEL, _UNIT, _KEBAB_DIGITS):
        for m in rx.finditer(text):
            add(m.start(), m.end(), m.group())
    names: list[str] = []
    for _start, value in sorted(found):
        if value not in names:
            names.append(value)
    return names


# -- reading the plans ----------------------------------------------------------------------


def _phase_of(path: Path, root: Path) -> str:
    """A plan's phase: its folder's name (``07-module-3-production-operations``)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path.parent.name
    return rel.parent.name if rel.parent.name else ""


def _phase_number(phase_id: str) -> str:
    m = _PHASE_NUMBER.match(phase_id)
    if not m:
        return ""
    return m.group(1) + m.group(2)


def _int_or_text(number: str) -> str:
    m = re.fullmatch(r"(\d+)((?:\.\d+)*[A-Za-z]?)", number)
    return str(int(m.group(1))) + m.group(2) if m else number


_MEMO: dict[tuple[Any, ...], Loaded] = {}


def load(config: Config) -> Loaded:
    """Every plan's must-haves as coursecheck tables, the phases, and what was met reading them.

    Nothing happens without a ``[planning]`` table: an installed plugin stays quiet in
    courses that do not ask for it. The result is kept for the run (the hooks and the
    plan-reading rule ask for it several times).
    """
    section = config.sections.get(SECTION)
    if section is None:
        return Loaded()
    files = plan_files(config) if isinstance(section, dict) else []
    stamp = []
    for f in files:
        try:
            st = f.stat()
            stamp.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append((str(f), 0, 0))
    key = (
        id(config),
        repr(sorted(section.items())) if isinstance(section, dict) else "",
        tuple(stamp),
        str(config.root),
    )
    if key not in _MEMO:
        if len(_MEMO) > 16:
            _MEMO.clear()
        _MEMO[key] = _load(config, files)
    return _MEMO[key]


def _load(config: Config, files: list[Path]) -> Loaded:
    out = Loaded()
    section = config.sections.get(SECTION)
    if section_problems(config, SCHEMA) or not isinstance(section, dict):
        return out  # coursecheck reports the table's problems (the schema's): no plan is read
    root = plan_root(config)
    if not files:
        file, line = config.where(SECTION)
        patterns = ", ".join(section.get("plans", DEFAULT_PLANS))
        out.problems.append(ConfigProblem(file, line, SECTION, f"no plan file matches {patterns} under {root}"))
        return out
    requirement_rx = re.compile(section.get("requirement-pattern", DEFAULT_REQUIREMENT_PATTERN))
    requirement_texts = _requirement_texts(config)
    truth_maps = section.get("truth", [])
    artifact_maps = [(compile_glob(t["path"]), i, t) for i, t in enumerate(section.get("artifact", []))]
    used_truth_maps: set[int] = set()
    reader = _Reader(config, out, requirement_rx, requirement_texts, truth_maps, artifact_maps, used_truth_maps)
    by_phase: dict[str, list[Path]] = {}
    for path in files:
        by_phase.setdefault(_phase_of(path, root / ".planning" / "phases") or _phase_of(path, root), []).append(path)
    for phase_id, paths in by_phase.items():
        reader.read_phase(phase_id, paths)

    unreadable = any(n.level == "error" for n in out.notes)  # a plan not read may hold the truth a mapping names
    for j, mapping in enumerate(truth_maps):
        if j not in used_truth_maps and not unreadable:
            file, line = config.where(SECTION, "truth", j)
            out.problems.append(
                ConfigProblem(
                    file,
                    line,
                    f"{SECTION}.truth.{j}.text",
                    f"no plan has the truth '{mapping['text']}' (compared without case and extra spaces)",
                )
            )
    return out


class _Reader:
    """Reads the plans of each phase into must-have tables (one instance per run)."""

    def __init__(
        self,
        config: Config,
        out: Loaded,
        requirement_rx: re.Pattern[str],
        requirement_texts: dict[str, str],
        truth_maps: list[dict[str, Any]],
        artifact_maps: list[tuple[re.Pattern[str], int, dict[str, Any]]],
        used_truth_maps: set[int],
    ) -> None:
        self.config = config
        self.section: dict[str, Any] = config.sections.get(SECTION) or {}
        self.out = out
        self.requirement_rx = requirement_rx
        self.requirement_texts = requirement_texts
        self.truth_maps = truth_maps
        self.artifact_maps = artifact_maps
        self.used_truth_maps = used_truth_maps
        self.used_ids: dict[str, set[str]] = {}  # ids taken by earlier phases, per kind
        self.declared_in_config = {
            t.get("id")
            for t in config.sections.get("requirement", []) or []
            if isinstance(t, dict) and not _is_contributed(t)
        }

    def _unique(self, kind: str, wanted: str, phase_id: str) -> str:
        """``wanted``, or ``wanted (phase)`` when an earlier phase took it."""
        taken = self.used_ids.setdefault(kind, set())
        chosen = wanted if wanted not in taken else f"{wanted} ({phase_id})"
        taken.add(chosen)
        return chosen

    def _not_in_repository(self, written: str) -> str:
        """Why a path the plan names is not in the repository ("" when it is): a file or
        folder under the project root, or a glob matching something there."""
        rel = written.strip().removeprefix("./")
        why = invalid_glob(rel)
        if why:
            return why
        root = self.config.root
        try:  # nothing outside the root is looked at, not even whether it exists
            contained(root, literal_base(rel) if any(c in rel for c in "*?[{") else rel.rstrip("/"))
        except OutsideRoot as exc:
            return exc.describe()
        if any(c in rel for c in "*?[{"):
            base = root / literal_base(rel)
            rx = compile_glob(rel)
            for folder, dirs, files in os.walk(base):
                dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
                prefix = Path(folder).relative_to(root).as_posix()
                for name in [*files, *dirs]:
                    if rx.match(name if prefix == "." else f"{prefix}/{name}"):
                        return ""
            return "a glob that matches nothing in the repository"
        path = root / rel.rstrip("/")
        if path.is_symlink() or path.exists():
            return ""
        return "which is not in the repository"

    def note(self, file: str, line: int, message: str, level: str = "warning") -> None:
        self.out.notes.append(Note(file, line, message, level))

    # -- one phase -----------------------------------------------------------------------

    def read_phase(self, phase_id: str, paths: list[Path]) -> None:
        number = _phase_number(phase_id)
        roadmap = _roadmap_entry(self.config, number) if number else None
        artifacts: dict[str, Declared] = {}
        links: dict[tuple[str, str, str], Declared] = {}
        truths: list[Declared] = []
        humans: list[Declared] = []
        requirements: dict[str, tuple[list[str], str, int]] = {}
        scope: list[str] = []
        objectives: list[str] = []
        seen_truths: set[str] = set()
        plans: list[str] = []
        for path in paths:
            plan = self._read_plan(path, phase_id)
            if plan is None:
                continue
            plans.append(plan.display)
            objectives.extend(plan.objectives)
            for written in plan.files_modified + [d.table["path"] for d in plan.artifacts]:
                if _norm_path(written) not in {_norm_path(s) for s in scope}:
                    scope.append(written)
            for declared in plan.artifacts:
                key = _norm_path(declared.table["path"])
                if key in artifacts:
                    _merge_artifact(artifacts[key].table, declared.table)
                else:
                    artifacts[key] = declared
            for declared in plan.links:
                t = declared.table
                identity = (_norm_path(t["from"]), _norm_path(t["to"]), t.get("pattern", ""))
                if identity in links:
                    continue  # the same link declared by two plans: one must-have
                if any(d.table["id"] == t["id"] for d in links.values()):
                    t["id"] += f" ({plan.plan_id})"
                links[identity] = declared
            for declared in plan.truths:
                normal = _normal(declared.table.get("text") or declared.table.get("title", ""))
                if normal in seen_truths:
                    continue  # the same claim in two plans: one must-have
                seen_truths.add(normal)
                truths.append(declared)
            humans.extend(plan.humans)
            for rid, (refs, file, line) in plan.requirements.items():
                have, first_file, first_line = requirements.get(rid, ([], file, line))
                have.extend(r for r in refs if r not in have)
                requirements[rid] = (have, first_file, first_line)
        if not plans:
            return
        goal, goal_source, name = "", "", ""
        roadmap_ids: list[str] = []
        if roadmap is not None:
            name, fields = roadmap
            goal = fields.get("goal", "")
            goal_source = "ROADMAP.md" if goal else ""
            roadmap_ids = [
                r
                for r in re.findall(r"[A-Za-z][\w.]*-\w+", fields.get("requirements", ""))
                if self.requirement_rx.fullmatch(r)
            ]
        if not goal and objectives:
            goal, goal_source = " ".join(objectives[0].split()), "the plans' objectives"
        # Requirement ids the plans name but ROADMAP.md gives to another phase: mentions, not this phase's.
        if roadmap_ids:
            for rid in [r for r in requirements if r not in roadmap_ids]:
                _refs, file, line = requirements.pop(rid)
                self.note(
                    file,
                    line,
                    f"{rid} is named here but ROADMAP.md does not give it to phase {number}: not counted as this phase's requirement",
                )
        # The same file (or link) declared by two phases is two must-haves, one per phase.
        for declared in artifacts.values():
            declared.table["id"] = self._unique("artifact", declared.table["path"], phase_id)
        for declared in links.values():
            declared.table["id"] = self._unique("key-link", declared.table["id"], phase_id)
        for declared in [*truths, *humans]:
            declared.table["id"] = self._unique(declared.kind, declared.table["id"], phase_id)
        renamed = {f"artifact:{d.table['path']}": f"artifact:{d.table['id']}" for d in artifacts.values()}
        for rid, (refs, file, line) in list(requirements.items()):
            requirements[rid] = ([renamed.get(r, r) for r in refs], file, line)
        phase_tables = [*artifacts.values(), *links.values(), *truths]
        for declared in phase_tables + humans:
            declared.table["phase"] = phase_id
            if declared.table.get("files") == "__scope__":
                declared.table["files"] = list(scope)  # a truth's names are counted in the phase's files
        self.out.declared.extend(artifacts.values())
        self.out.declared.extend(links.values())
        self.out.declared.extend(truths)
        first_plan = plans[0]
        for rid in sorted(set(requirements) | set(roadmap_ids)):
            if rid in self.declared_in_config:
                continue  # the TOML config says how this requirement is satisfied
            unique = self._unique("requirement", rid, phase_id)
            if rid in requirements:
                refs, file, line = requirements[rid]
                table: dict[str, Any] = {"id": unique, "satisfied-by": refs, "phase": phase_id}
            else:
                refs = [f"artifact:{d.table['id']}" for d in artifacts.values()]
                refs += [f"key-link:{d.table['id']}" for d in links.values()]
                file, line = first_plan, 1
                table = {"id": unique, "satisfied-by": refs, "phase": phase_id, "untied": True}
            if rid in self.requirement_texts:
                table["text"] = self.requirement_texts[rid]
            self.out.declared.append(Declared("requirement", table, file, line))
        self.out.declared.extend(humans)
        previous = _previous_report(paths[0].parent)
        number_shown = _int_or_text(number) if number else ""
        title = f"Phase {number_shown}: {name}" if number_shown and name else f"Phase {number_shown or phase_id}"
        self.out.phases.append(
            Phase(
                id=phase_id,
                number=number_shown,
                name=name or phase_id,
                title=title,
                goal=goal,
                goal_source=goal_source,
                scope=scope,
                plans=[config_relpath(self.config, p) for p in plans],  # as findings name them
                folder=_root_relative(paths[0].parent, self.config.root),
                requirements=roadmap_ids or sorted(requirements),
                previous_status=previous.get("status", ""),
                previous_score=previous.get("score", ""),
            )
        )

    # -- one plan ------------------------------------------------------------------------

    def _read_plan(self, path: Path, phase_id: str) -> _Plan | None:
        display = _display(path)
        try:
            real = Path(contained(_boundary(self.config), path))
        except OutsideRoot as exc:
            self.out.problems.append(ConfigProblem(display, 0, "", exc.describe()))
            return None
        text = real.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
        doc = parse_markdown(path, display, text, mdx=False)
        plan_id = path.name.removesuffix("-PLAN.md").removesuffix(".md")
        broken = [p for p in doc.problems if p.rule_id == "parse/frontmatter"]
        if broken:
            self.note(
                display, broken[0].span.line, f"{broken[0].message}; this plan's must-haves were not read", "error"
            )
            return None
        fm = doc.frontmatter
        plan = _Plan(display, plan_id, [o for o in _OBJECTIVE.findall(text)])
        data = fm.data if fm is not None else {}
        must = data.get("must_haves")
        if must is None:
            must = {}
        if not isinstance(must, dict):
            self.note(
                display,
                fm.place("must_haves").line if fm else 1,
                "must_haves must be a mapping with truths, artifacts, key_links; not read",
                "error",
            )
            return plan

        def line_of(*place: Any) -> int:
            return fm.place("must_haves", *place).line if fm is not None else 1

        modified = _strings(data.get("files_modified")) or []
        plan.files_modified = [m for m in modified if m.strip()]
        for i, written in enumerate(plan.files_modified):
            why = self._not_in_repository(written)
            if why:
                line = fm.place("files_modified", i).line if fm is not None else 1
                self.note(display, line, f"files_modified names '{written.strip()}', {why}")
        for key in must:
            if key not in MUST_HAVE_KEYS:
                self.note(
                    display,
                    line_of(key, "#key"),
                    f"must_haves.{key}: unknown key{_did_you_mean(str(key), MUST_HAVE_KEYS)}; not read",
                )
        lists: dict[str, list[Any]] = {}
        for key in MUST_HAVE_KEYS:
            value = must.get(key) or []
            if not isinstance(value, list):
                self.note(display, line_of(key), f"must_haves.{key} must be a list; not read", "error")
                value = []
            lists[key] = value
        self._artifacts(plan, lists["artifacts"], line_of)
        self._links(plan, lists["key_links"], line_of)
        self._truths(plan, lists["truths"], line_of, phase_id)
        if self.section.get("human-checkpoints", True):
            self._checkpoints(plan, text)
        if self.section.get("requirements", True):
            self._requirements(plan, text, data, fm)
        return plan

    def _artifacts(self, plan: _Plan, items: list[Any], line_of: Any) -> None:
        display = plan.display
        for i, item in enumerate(items):
            where = f"must_haves.artifacts[{i}]"
            if isinstance(item, str) and item.strip():
                item = {"path": item}  # a bare path: GSD allows it
            if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"].strip():
                self.note(
                    display,
                    line_of("artifacts", i),
                    f"{where}: an artifact is a mapping with at least a 'path'; not read",
                    "error",
                )
                continue
            key_lines = {k: line_of("artifacts", i, k, "#key") for k in item}
            why = invalid_glob(item["path"].strip())
            if why:
                self.note(
                    display, key_lines["path"], f"{where}.path '{item['path'].strip()}': {why}; not read", "error"
                )
                continue
            table: dict[str, Any] = {"path": item["path"].strip()}
            lines = {"path": key_lines["path"]}
            for key, value in item.items():
                if key not in ARTIFACT_KEYS:
                    self.note(
                        display,
                        key_lines[key],
                        f"{where}.{key}: unknown key{_did_you_mean(str(key), ARTIFACT_KEYS)}; ignored",
                    )
                elif key == "provides":
                    table["provides"], lines["provides"] = str(value), key_lines[key]
                elif key == "min_lines":
                    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                        table["min-lines"], lines["min-lines"] = value, key_lines[key]
                    else:
                        self.note(
                            display,
                            key_lines[key],
                            f"{where}.min_lines must be an integer >= 0, not {value!r}; ignored",
                        )
                elif key == "contains":
                    self._contains(plan, table, lines, _strings(value), key_lines[key], where)
                elif key == "exports":
                    self._exports(plan, table, lines, _strings(value), key_lines[key], where)
            target = table["path"]
            if target.lower().endswith((".md", ".mdx", ".markdown")):
                table.setdefault("min-mermaid", 0)  # diagrams counted and shown, not required
                lines.setdefault("min-mermaid", lines["path"])
            for rx, _j, mapping in self.artifact_maps:
                if rx.match(_norm_path(target)):
                    for key, value in mapping.items():
                        if key == "path":
                            continue
                        if key in ("contains", "patterns", "exports") and key in table:
                            table[key] = [*table[key], *[v for v in value if v not in table[key]]]
                        elif key == "min-mermaid":
                            table[key] = max(table.get(key, 0), value)
                        else:
                            table.setdefault(key, value)
            plan.artifacts.append(Declared("artifact", table, display, line_of("artifacts", i), lines))

    def _contains(
        self, plan: _Plan, table: dict[str, Any], lines: dict[str, int], values: list[str] | None, line: int, where: str
    ) -> None:
        if values is None:
            self.note(plan.display, line, f"{where}.contains must be a string or a list of strings; ignored")
            return
        for value in values:
            if not value:
                continue
            if _looks_like_regex(value):
                table.setdefault("contains-or-regex", []).append(value)
                lines["contains-or-regex"] = line
                self.note(
                    plan.display,
                    line,
                    f"{where}.contains '{value}' looks like a regular expression: coursecheck looks for it as "
                    "written and, when it does not occur, matches it as a regex (GSD matches it literally)",
                    "note",
                )
            else:
                table.setdefault("contains", []).append(value)
                lines["contains"] = line

    def _exports(
        self, plan: _Plan, table: dict[str, Any], lines: dict[str, int], values: list[str] | None, line: int, where: str
    ) -> None:
        if values is None:
            self.note(plan.display, line, f"{where}.exports must be a name or a list of names; ignored")
            return
        for value in values:
            name = value.strip()
            if _NAME.fullmatch(name) and name != "default":
                table.setdefault("exports", []).append(name)
                lines["exports"] = line
            elif name in ("*", "export *"):
                table.setdefault("patterns", []).append(r"^[ \t]*export\s+\*\s+from\s")
                lines["patterns"] = line
                self.note(
                    plan.display,
                    line,
                    f"{where}.exports '{value}' is not a name: read as a module that re-exports everything (`export * from ...`)",
                    "note",
                )
            elif name == "default":
                table.setdefault("patterns", []).append(r"^[ \t]*export\s+default\b")
                lines["patterns"] = line
                self.note(
                    plan.display,
                    line,
                    f"{where}.exports 'default' read as a default export (`export default ...`)",
                    "note",
                )
            else:
                inner = _NAME.findall(name)
                if len(inner) == 1:
                    table.setdefault("exports", []).append(inner[0])
                    lines["exports"] = line
                    self.note(
                        plan.display, line, f"{where}.exports '{value}' is not a name: read as {inner[0]}", "note"
                    )
                else:
                    self.note(plan.display, line, f"{where}.exports '{value}' is not a name a module exports; ignored")

    def _links(self, plan: _Plan, items: list[Any], line_of: Any) -> None:
        display = plan.display
        for i, item in enumerate(items):
            where = f"must_haves.key_links[{i}]"
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) and item[k].strip() for k in ("from", "to")
            ):
                self.note(
                    display,
                    line_of("key_links", i),
                    f"{where}: a key link is a mapping with at least 'from' and 'to'; not read",
                    "error",
                )
                continue
            key_lines = {k: line_of("key_links", i, k, "#key") for k in item}
            table: dict[str, Any] = {"from": item["from"].strip(), "to": item["to"].strip()}
            lines = {"from": key_lines["from"], "to": key_lines["to"]}
            ok = True
            for key, value in item.items():
                if key not in KEY_LINK_KEYS:
                    self.note(
                        display,
                        key_lines[key],
                        f"{where}.{key}: unknown key{_did_you_mean(str(key), KEY_LINK_KEYS)}; ignored",
                    )
                elif key in ("via", "pattern"):
                    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                        self.note(display, key_lines[key], f"{where}.{key} must be a string; ignored")
                        continue
                    value = str(value)
                    if key == "pattern" and _regex_problem(value):
                        self.note(
                            display,
                            key_lines[key],
                            f"{where}.pattern: {_regex_problem(value)}; the link was not read",
                            "error",
                        )
                        ok = False
                        continue
                    table[key], lines[key] = value, key_lines[key]
            if not ok:
                continue
            via = table.get("via", "")
            if "pattern" in table:
                if _NEGATIVE_VIA.search(via) or _NEGATIVE_VIA.search(table["to"]):
                    table["verify"] = ["absent"]
                    self.note(
                        display,
                        key_lines.get("pattern", lines["from"]),
                        f"{where}: via '{via}' reads as a removal, so coursecheck checks that /{table['pattern']}/ "
                        "occurs nowhere in `from` (GSD would require it to occur)",
                        "note",
                    )
                else:
                    table["verify"] = ["pattern-from-or-to"]
            else:
                table["verify"] = ["connected"]
            lines["verify"] = lines["from"]
            table["id"] = f"{table['from']} -> {table['to']}"
            plan.links.append(Declared("key-link", table, display, line_of("key_links", i), lines))

    def _truths(self, plan: _Plan, items: list[Any], line_of: Any, phase_id: str) -> None:
        display = plan.display
        measure_names = self.section.get("truth-names", True)
        for i, item in enumerate(items):
            line = line_of("truths", i)
            if not isinstance(item, str) or not item.strip():
                self.note(display, line, f"must_haves.truths[{i}]: a truth is a sentence (a string); not read", "error")
                continue
            text = " ".join(item.split())
            normal = _normal(item)
            mapped = next(((j, t) for j, t in enumerate(self.truth_maps) if _normal(t["text"]) == normal), None)
            truth_id = f"{plan.plan_id}-truth-{i + 1}"
            if mapped is not None:
                j, mapping = mapped
                self.used_truth_maps.add(j)
                table = {"text": text, **{k: v for k, v in mapping.items() if k != "text"}}
                table.setdefault("id", truth_id)
                # The measurable check is declared in the config: errors and "declared here" go there.
                file, map_line = self.config.where(SECTION, "truth", j)
                key_lines = {k: self.config.where(SECTION, "truth", j, k)[1] or map_line for k in table}
                plan.truths.append(Declared("truth", table, file, map_line, key_lines))
                continue
            names = truth_names(text) if measure_names else []
            if names:
                table = {"id": truth_id, "text": text, "names": names, "files": "__scope__"}
                if _NEGATIVE_TRUTH.search(text):
                    table["absent-is-gap"] = False
                plan.truths.append(Declared("truth", table, display, line))
            else:
                plan.humans.append(
                    Declared(
                        "human-check",
                        {
                            "id": truth_id,
                            "title": text,
                            "test": f"Check that this holds in the course: {text}",
                            "why": f"a truth of {Path(display).name} (line {line}) that names nothing coursecheck can count "
                            "and no [[planning.truth]] maps to a check",
                            "truth": True,
                        },
                        display,
                        line,
                    )
                )

    def _checkpoints(self, plan: _Plan, text: str) -> None:
        for n, m in enumerate(_TASK.finditer(text), start=1):
            if "checkpoint:human-verify" not in m.group(1):
                continue
            parts = {name: _block(value) for name, value in _ELEMENT.findall(m.group(2))}
            how = parts.get("how-to-verify") or parts.get("what-built")
            if not how:
                continue
            line = text.count("\n", 0, m.start()) + 1
            table = {
                "id": f"{plan.plan_id}-checkpoint-{n}",
                "title": " ".join(
                    (parts.get("name") or parts.get("what-built") or f"Checkpoint of {Path(plan.display).name}").split()
                ),
                "test": how,
                "why": f"a checkpoint:human-verify task of {Path(plan.display).name} (line {line})",
            }
            if parts.get("what-built") and parts.get("how-to-verify"):
                table["expected"] = parts["what-built"]
            plan.humans.append(Declared("human-check", table, plan.display, line))

    def _requirements(self, plan: _Plan, text: str, data: dict[str, Any], fm: Any) -> None:
        """Requirement ids: the frontmatter's ``requirements:`` when it has some, else the
        ids in the plan's text. An id named in a <task> whose <files> lists some of the
        plan's artifacts is satisfied by those; an id named only elsewhere, by all of them."""
        listed = _strings(data.get("requirements")) or []
        listed = [r.strip() for r in listed if r.strip()]
        plan_artifacts = [d.table["path"] for d in plan.artifacts]
        by_task: dict[str, list[str]] = {}
        for m in _TASK.finditer(text):
            files_match = _FILES.search(m.group(2))
            named = [f for f in re.split(r"[,\s]+", files_match.group(1)) if f] if files_match else []
            mine = [a for a in plan_artifacts if _covers(a, named)]
            for rid in self.requirement_rx.findall(m.group(0)):
                by_task.setdefault(rid, []).extend(a for a in mine if a not in by_task.get(rid, []))
        found: list[tuple[str, int]] = []
        if listed:
            line = fm.place("requirements").line if fm is not None else 1
            found = [(rid, line) for rid in listed]
        else:
            found = [(m.group(0), text.count("\n", 0, m.start()) + 1) for m in self.requirement_rx.finditer(text)]
        known = set(self.requirement_texts)
        for rid, line in found:
            if known and rid not in known and not listed:
                continue  # a token shaped like an id that REQUIREMENTS.md does not list (a version, a code)
            refs, file, first_line = plan.requirements.get(rid, ([], plan.display, line))
            chosen = by_task.get(rid) or plan_artifacts
            refs.extend(f"artifact:{a}" for a in chosen if f"artifact:{a}" not in refs)
            plan.requirements[rid] = (refs, file, first_line)


def _previous_report(folder: Path) -> dict[str, str]:
    """``status`` and ``score`` from the frontmatter of the phase's earlier report
    (``<NN>-VERIFICATION.md``, GSD's or coursecheck's), if the folder has one."""
    found = sorted(p for p in folder.glob("*-VERIFICATION.md") if p.is_file() and not p.is_symlink())
    if not found:
        return {}
    with open(found[0], encoding="utf-8", errors="replace") as handle:
        text = handle.read(20_000).replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return {"status": "unknown"}
    head = text[4:].split("\n---", 1)[0]
    out = {}
    for key in ("status", "score"):
        m = re.search(rf"^{key}:[ \t]*(\S[^\n]*)", head, re.MULTILINE)  # linear: stripped below
        if m:
            out[key] = m.group(1).strip().strip("\"'")
    return out or {"status": "unknown"}


def _block(value: str) -> str:
    """A plan element's text with its line structure (code blocks survive), dedented."""
    import textwrap

    text = textwrap.dedent(value.strip("\n")).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def _covers(artifact: str, named: list[str]) -> bool:
    """Whether a task's ``<files>`` name the artifact (the same path, a glob over it, a folder)."""
    a = _norm_path(artifact)
    for n in named:
        n = _norm_path(n)
        if not n:
            continue
        if n == a or a.startswith(n + "/") or n.startswith(a + "/"):
            return True
        if any(c in n for c in "*?[") and not invalid_glob(n) and compile_glob(n).match(a):
            return True
        if any(c in a for c in "*?[") and not invalid_glob(a) and compile_glob(a).match(n):
            return True
    return False


@dataclass(slots=True)
class _Plan:
    display: str
    plan_id: str
    objectives: list[str]
    files_modified: list[str] = field(default_factory=list)
    artifacts: list[Declared] = field(default_factory=list)
    links: list[Declared] = field(default_factory=list)
    truths: list[Declared] = field(default_factory=list)
    humans: list[Declared] = field(default_factory=list)
    requirements: dict[str, tuple[list[str], str, int]] = field(default_factory=dict)


def _is_contributed(table: Any) -> bool:
    from coursecheck.api import Contributed

    return isinstance(table, Contributed)


def _merge_artifact(first: dict[str, Any], again: dict[str, Any]) -> None:
    """The same file declared by two plans: one must-have holding both plans' demands."""
    for key, value in again.items():
        if key in ("min-lines", "min-mermaid"):
            first[key] = max(first.get(key, 0), value)
        elif key in ("contains", "contains-or-regex", "patterns", "exports"):
            first[key] = [*first.get(key, []), *[v for v in value if v not in first.get(key, [])]]
        elif key == "provides" and first.get(key) and value not in first[key]:
            first[key] = f"{first[key]}; {value}"
        else:
            first.setdefault(key, value)
