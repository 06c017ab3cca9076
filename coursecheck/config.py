"""Configuration: discovery, TOML loading, rule packs (``extends``), validation.

Every problem is reported with the file, line and key it concerns, with a did-you-mean
where one fits, and makes the run exit with code 2. Validation happens in two steps:
the shape of the file first (here, before plugins load), then rule ids, rule options and
plugin sections against what the loaded plugins declare (:func:`validate_against`).
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from coursecheck.errors import CoursecheckError
from coursecheck.fsutil import OutsideRoot, contained, outside_problem, shown
from coursecheck.globs import invalid_glob, matches

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_NAMES = (".coursecheck.toml", "coursecheck.toml")
# Findings one rule reports in one file, at most (more are counted and summed up in one more
# finding): a repository cannot make a rule keep 10^5 findings, their cache entry and report.
DEFAULT_MAX_FINDINGS = 200
LEVEL_NAMES = ("error", "warning", "note", "off")
CORE_KEYS = {
    "course": "where lessons and data files are, lesson ids, course order, languages",
    "rules": "rule levels and options",
    "overrides": "per-glob rule levels and options",
    "plugins": "local plugin modules or .py files",
    "extends": "rule packs to start from",
    "fail-level": "lowest level that makes the run fail (exit 1)",
    "max-findings": f"findings reported per rule and file (default {DEFAULT_MAX_FINDINGS}; 0 = no limit)",
}
COURSE_KEYS = {
    "content": list,
    "data": list,
    "partials": list,
    "exclude": list,
    "id": str,
    "aliases": list,
    "order": str,
    "order-field": str,
    "languages": dict,
}


# ConfigProblem.kind of the problems a plugin that was not loaded may explain (plugins off).
UNKNOWN_RULE = "unknown-rule"
UNKNOWN_SECTION = "unknown-section"


@dataclass(slots=True)
class ConfigProblem:
    file: str
    line: int
    key: str
    message: str
    kind: str = ""  # UNKNOWN_RULE, UNKNOWN_SECTION, or "" for any other problem

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class ConfigError(CoursecheckError):
    """The config's problems (each names its file and line); nothing is checked."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass(slots=True)
class RuleSetting:
    level: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    max_findings: int | None = None  # `max-findings`: findings reported per file (0 = no limit)


@dataclass(slots=True)
class Override:
    files: list[str]
    rules: dict[str, RuleSetting]


@dataclass(slots=True)
class CourseConfig:
    content: list[str] = field(default_factory=lambda: ["**/*.md", "**/*.mdx"])
    data: list[str] = field(default_factory=list)
    # Included text (partials, snippets, tooltips): checked as text, not lessons (no
    # frontmatter schema, not pages of the course graph).
    partials: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    id: str = "{path}"
    aliases: list[str] = field(default_factory=list)
    order: str = "path"
    order_field: str = "order"
    languages: dict[str, str] = field(default_factory=lambda: {"primary": "ru", "secondary": "en"})


ALWAYS_EXCLUDED = ["**/node_modules/**", "**/.git/**", "**/.venv/**", "**/__pycache__/**", "**/.coursecheck-cache/**"]


@dataclass(slots=True)
class Config:
    path: Path | None  # None: no config file was found (defaults)
    root: Path
    course: CourseConfig = field(default_factory=CourseConfig)
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    extends: list[str] = field(default_factory=list)
    fail_level: str = "error"
    max_findings: int = DEFAULT_MAX_FINDINGS  # top-level `max-findings` (0 = no limit)
    sections: dict[str, Any] = field(default_factory=dict)  # plugin-owned top-level keys
    origins: dict[tuple[Any, ...], tuple[str, int]] = field(default_factory=dict)
    # Shape problems found while loading, reported together with those found once plugins
    # are loaded (so a user sees every error at once).
    problems: list[ConfigProblem] = field(default_factory=list)
    # The user's own config, given with --config from outside the project root (--root): the
    # paths it writes (packs, a plan root) are taken as written. A config inside the root is
    # the repository's, as untrusted as its other files: its paths must stay inside the root.
    trusted: bool = False

    def where(self, *key: Any) -> tuple[str, int]:
        """(file, line) that set ``key``, or its nearest parent; for plugin error messages."""
        while key:
            if key in self.origins:
                return self.origins[key]
            key = key[:-1]
        return (self.display_path, 0)

    @property
    def display_path(self) -> str:
        return str(self.path) if self.path else "(defaults)"


# -- locating keys in TOML text ---------------------------------------------------------

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"' + r"|'[^']*'"
_KEY = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")


def _split_key(dotted: str) -> list[str]:
    parts = re.findall(_KEY, dotted)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


class TomlLocator:
    """Finds the line of a key path in TOML source (``tomllib`` keeps no positions)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        table: tuple[Any, ...] = ()
        arrays: dict[tuple[Any, ...], int] = {}
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if in_multiline in line:
                    in_multiline = None
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            header = _HEADER.match(line)
            if header and stripped.startswith("["):
                is_array = header.group(1) == "[["
                parts = _split_key(header.group(2))
                # A header inside an array of tables belongs to its current element:
                # [[rule.example]] after the 3rd [[rule]] is ("rule", 2, "example", n).
                path: tuple[Any, ...] = ()
                for k, part in enumerate(parts):
                    path = (*path, part)
                    if path in arrays and not (is_array and k == len(parts) - 1):
                        path = (*path, arrays[path])
                if is_array:
                    idx = arrays.get(path, -1) + 1
                    arrays[path] = idx
                    table = (*path, idx)
                else:
                    table = path
                self.lines.setdefault(table, number)
                self.lines.setdefault(path, number)
                continue
            assign = _ASSIGN.match(line)
            if assign:
                key = (*table, *_split_key(assign.group(1)))
                self.lines.setdefault(key, number)
                rest = line[assign.end() :]
                for inner in _INLINE_KEY.finditer(rest):
                    self.lines.setdefault((*key, *_split_key(inner.group(1))), number)
                for quote in ('"""', "'''"):
                    if rest.count(quote) == 1:
                        in_multiline = quote

    def line(self, *key: Any) -> int:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return 0


# -- loading -----------------------------------------------------------------------------


@dataclass(slots=True)
class Discovery:
    """Where config discovery looked, and what it found."""

    path: Path | None  # the config used; None: none found (defaults)
    searched: list[Path]  # folders looked in, nearest first
    repository: Path | None  # the repository root that bounds the search (None: not in one)
    refused: list[tuple[Path, str]] = field(default_factory=list)  # configs not used, and why

    def describe(self) -> str:
        """Where discovery looked, for the message that says no config was found."""
        names = ", ".join(CONFIG_NAMES) + " or [tool.coursecheck] in pyproject.toml"
        if self.repository is None:
            where = f"in {self.searched[0]} only: it is not inside a git repository"
        elif len(self.searched) == 1:
            where = f"in {self.searched[0]}, the repository root"
        else:
            where = f"in {self.searched[0]} and its parents up to the repository root {self.repository}"
        refused = "".join(f"; not used: {path}, {why}" for path, why in self.refused)
        return f"no .coursecheck.toml found (looked for {names} {where}{refused})"


def repository_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds ``.git`` (a folder, or the file of a
    worktree or submodule); None outside any repository."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _current_uid() -> int | None:
    geteuid = getattr(os, "geteuid", None)  # absent on Windows: no ownership check there
    return geteuid() if geteuid is not None else None


def _foreign_owner(path: Path) -> str | None:
    """Why ``path`` may not configure a run outside a repository (owned by another user), or None."""
    uid = _current_uid()
    if uid is None:
        return None
    try:
        owner = path.stat().st_uid
    except OSError:
        return None
    return None if owner == uid else f"owned by another user (uid {owner}); pass it with --config to use it"


def discover_config(start: Path) -> Discovery:
    """The config of the repository ``start`` is in: the nearest ``.coursecheck.toml``
    (``coursecheck.toml``, or a pyproject.toml with ``[tool.coursecheck]``) at or above
    ``start``, up to the repository root (the nearest folder holding ``.git``) and never
    above it: a config in a parent folder outside the repository (a shared /tmp, another
    user's home) could load plugins, which run code. Outside any repository only ``start``
    itself is searched, and a config there is used only if the current user owns it (as
    git does with ``safe.directory``)."""
    start = start.resolve()
    repository = repository_root(start)
    folders = [start]
    if repository is not None:
        folders += list(start.parents)[: len(start.parents) - len(repository.parents)]
    found = Discovery(None, folders, repository)
    for folder in folders:
        candidate = _config_in(folder)
        if candidate is None:
            continue
        why = _foreign_owner(candidate) if repository is None else None
        if why is not None:
            found.refused.append((candidate, why))
            continue
        found.path = candidate
        break
    return found


def _config_in(folder: Path) -> Path | None:
    for name in CONFIG_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            if "coursecheck" in tomllib.loads(pyproject.read_text("utf-8")).get("tool", {}):
                return pyproject
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            pass
    return None


def find_config(start: Path) -> Path | None:
    """The config :func:`discover_config` finds from ``start`` (None: none)."""
    return discover_config(start).path


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def _read_toml(path: Path, display: str) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigProblem(display, 0, "", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([ConfigProblem(display, line, "", "not valid UTF-8")]) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        line = int(m.group(1)) if m else getattr(exc, "lineno", 0)
        if not line and "end of document" in msg:
            line = len(text.splitlines()) or 1  # the last line: where the open construct was left
        msg = _TOML_POS.sub("", msg).strip()
        col = f" (column {m.group(2)})" if m else ""
        raise ConfigError([ConfigProblem(display, line, "", f"TOML syntax error: {msg}{col}")]) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError([ConfigProblem(display, 0, "", "TOML nested too deeply to read")]) from None


def shipped_pack(name: str) -> Path | None:
    """A rule pack shipped with coursecheck (the repository's ``rules/`` folder)."""
    try:
        packaged = resources.files("coursecheck") / "packs" / f"{name}.toml"
        if packaged.is_file():
            return Path(str(packaged))
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    source_tree = Path(__file__).resolve().parent.parent / "rules" / f"{name}.toml"
    return source_tree if source_tree.is_file() else None


def shipped_pack_names() -> list[str]:
    names: set[str] = set()
    for folder in (Path(__file__).resolve().parent / "packs", Path(__file__).resolve().parent.parent / "rules"):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def did_you_mean(word: str, candidates: Any) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _merge(base: Any, new: Any) -> Any:
    """Field-by-field merge: tables merge recursively; arrays of tables with ``id`` merge by
    id; anything else is replaced."""
    if isinstance(base, dict) and isinstance(new, dict):
        out = dict(base)
        for key, value in new.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    if (
        isinstance(base, list)
        and isinstance(new, list)
        and all(isinstance(x, dict) and "id" in x for x in (*base, *new))
        and (base or new)
    ):
        out_list = list(base)
        positions = {item["id"]: i for i, item in enumerate(out_list)}
        for item in new:
            if item["id"] in positions:
                out_list[positions[item["id"]]] = _merge(out_list[positions[item["id"]]], item)
            else:
                positions[item["id"]] = len(out_list)
                out_list.append(item)
        return out_list
    if isinstance(base, list) and isinstance(new, list) and all(isinstance(x, dict) for x in (*base, *new)):
        return [*base, *new]
    return new


def _record_origins(
    data: Any,
    key: tuple[Any, ...],
    locator: TomlLocator,
    display: str,
    origins: dict[tuple[Any, ...], tuple[str, int]],
    merged: Any = None,
    merged_key: tuple[Any, ...] | None = None,
) -> None:
    """Record where each key of ``data`` was set, under its path in ``merged`` (the result of
    :func:`_merge`): a table of an array merged by ``id``, or appended after a pack's tables,
    sits at another index there than in its own file."""
    target = key if merged_key is None else merged_key
    origins[target] = (display, locator.line(*key)) if key else (display, 0)
    if isinstance(data, dict):
        for k, v in data.items():
            inner = merged.get(k) if isinstance(merged, dict) else None
            _record_origins(v, (*key, k), locator, display, origins, inner, (*target, k))
    elif isinstance(data, list):
        merged_list = merged if isinstance(merged, list) else data
        by_id = {item["id"]: j for j, item in enumerate(merged_list) if isinstance(item, dict) and "id" in item}
        own_ids = [v["id"] for v in data if isinstance(v, dict) and "id" in v]
        if len(set(map(repr, own_ids))) != len(own_ids):
            by_id = {}  # ids repeated in one file: tables stay where they are (the checker reports it)
        shift = len(merged_list) - len(data)  # tables without ids are appended (see _merge)
        for i, v in enumerate(data):
            if isinstance(v, dict):
                j = by_id.get(v["id"], i + shift) if "id" in v and isinstance(v["id"], str) else i + shift
                inner = merged_list[j] if 0 <= j < len(merged_list) else None
                _record_origins(v, (*key, i), locator, display, origins, inner, (*target, j))


def load_config(path: Path | None, cwd: Path | None = None, *, strict: bool = True, trusted: bool = False) -> Config:
    """Load ``path`` (or defaults when None) with its ``extends`` packs, check its shape.

    TOML syntax errors always raise :class:`ConfigError`. Other problems raise too when
    ``strict``; otherwise they are kept in ``config.problems`` for the engine to report
    together with rule and plugin problems. ``trusted``: the user's own config from outside
    the project (see :attr:`Config.trusted`); otherwise a pack given as a path must be a file
    inside the config's folder.
    """
    cwd = cwd or Path.cwd()
    if path is None:
        return Config(None, cwd.resolve())
    path = path.resolve() if path.exists() else path
    display = _display(path, cwd)
    data, text = _read_toml(path, display)
    locator = TomlLocator(text)
    origins: dict[tuple[Any, ...], tuple[str, int]] = {}
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("coursecheck", {})
        # Keys in pyproject live under tool.coursecheck: shift the locator's paths.
        shifted = TomlLocator("")
        shifted.lines = {k[2:]: v for k, v in locator.lines.items() if k[:2] == ("tool", "coursecheck")}
        locator = shifted
    problems: list[ConfigProblem] = []
    extends = data.get("extends", [])
    if isinstance(extends, str):
        extends = [extends]
    merged: dict[str, Any] = {}
    if not isinstance(extends, list) or not all(isinstance(e, str) for e in extends):
        problems.append(
            ConfigProblem(display, locator.line("extends"), "extends", "must be a list of pack names or paths")
        )
        extends = []
    for entry in extends:
        pack_path, refused = _pack_path(entry, path.parent, trusted)
        if refused:
            problems.append(ConfigProblem(display, locator.line("extends"), "extends", refused))
            continue
        if pack_path is None:
            hint = did_you_mean(entry, shipped_pack_names())
            known = ", ".join(shipped_pack_names()) or "none"
            problems.append(
                ConfigProblem(
                    display, locator.line("extends"), "extends", f"unknown rule pack '{entry}'{hint} (shipped: {known})"
                )
            )
            continue
        pack_display = _display(pack_path, cwd)
        try:
            pack_data, pack_text = _read_toml(pack_path, pack_display)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        pack_data.pop("extends", None)
        merged = _merge(merged, pack_data)
        _record_origins(pack_data, (), TomlLocator(pack_text), pack_display, origins, merged)
    own = {k: v for k, v in data.items() if k != "extends"}
    merged = _merge(merged, own)
    _record_origins(own, (), locator, display, origins, merged)
    config = Config(path, path.parent, extends=list(extends), origins=origins, trusted=trusted)
    problems.extend(_check_shape(config, merged))
    if problems and strict:
        raise ConfigError(problems)
    config.problems = problems
    return config


def _pack_path(entry: str, base: Path, trusted: bool = False) -> tuple[Path | None, str]:
    """The file of a rule pack (None: unknown), or why it is refused: a pack given as a path
    is a file inside the config's folder (the project root), reached without a link that
    leads out of it or into .git, unless the config is ``trusted`` (the user's). Shipped
    packs are named, not given as paths."""
    if trusted and (entry.endswith(".toml") or "/" in entry or "\\" in entry):
        candidate = (base / entry).resolve()
        return (candidate if candidate.is_file() else None), ""
    if entry.endswith(".toml") or "/" in entry or "\\" in entry:
        why = outside_problem(base, entry)
        if why is not None:
            return None, f"rule pack {why}; give a shipped pack by its name, or a .toml file inside the project"
        try:
            candidate = Path(contained(base, entry))
        except OutsideRoot as exc:
            return None, f"rule pack '{shown(entry)}': {exc.describe()}"
        return (candidate if candidate.is_file() else None), ""
    return shipped_pack(entry), ""


def _display(path: Path, cwd: Path) -> str:
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def _type_name(t: type) -> str:
    return {str: "a string", list: "a list", dict: "a table", int: "an integer", bool: "true or false"}.get(
        t, t.__name__
    )


def _check_shape(config: Config, data: dict[str, Any]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []

    def bad(key: tuple[Any, ...], message: str) -> None:
        file, line = config.where(*key)
        problems.append(ConfigProblem(file, line, ".".join(str(k) for k in key), message))

    course = data.get("course", {})
    if not isinstance(course, dict):
        bad(("course",), "must be a table: [course]")
        course = {}
    for key, value in course.items():
        expected = COURSE_KEYS.get(key)
        if expected is None:
            bad(("course", key), f"unknown key{did_you_mean(key, COURSE_KEYS)} (known: {', '.join(COURSE_KEYS)})")
            continue
        if not isinstance(value, expected):
            bad(("course", key), f"must be {_type_name(expected)}, not {type(value).__name__}")
            continue
        if expected is list and not all(isinstance(v, str) for v in value):
            bad(("course", key), "must be a list of strings")
            continue
        if key in ("content", "data", "partials", "exclude"):
            for pattern in value:
                why = invalid_glob(pattern)
                if why:
                    bad(("course", key), f"glob '{pattern}': {why}")
        attr = key.replace("-", "_")
        setattr(config.course, attr, list(value) if isinstance(value, list) else value)
    if config.course.order not in ("path", "frontmatter"):
        bad(("course", "order"), f'must be "path" or "frontmatter", not \'{config.course.order}\'')
    for template in [config.course.id, *config.course.aliases]:
        why = template_problem(template)
        if why:
            bad(("course", "id" if template == config.course.id else "aliases"), why)

    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        bad(("rules",), "must be a table: [rules]")
        rules = {}
    for rule_id, value in rules.items():
        setting = _rule_setting(value, ("rules", rule_id), bad)
        if setting is not None:
            config.rules[rule_id] = setting

    overrides = data.get("overrides", [])
    if not isinstance(overrides, list):
        bad(("overrides",), "must be an array of tables: [[overrides]]")
        overrides = []
    for i, entry in enumerate(overrides):
        key = ("overrides", i)
        if not isinstance(entry, dict):
            bad(key, "must be a table with 'files' and 'rules'")
            continue
        files = entry.get("files")
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            bad((*key, "files"), "must be a non-empty list of globs")
            continue
        for extra in set(entry) - {"files", "rules"}:
            bad(
                (*key, extra),
                f"unknown key{did_you_mean(extra, ['files', 'rules'])}; an override has 'files' and 'rules'",
            )
        rule_table = entry.get("rules", {})
        if not isinstance(rule_table, dict):
            bad((*key, "rules"), "must be a table of rule id = level")
            continue
        settings = {}
        for rule_id, value in rule_table.items():
            setting = _rule_setting(value, (*key, "rules", rule_id), bad)
            if setting is not None:
                settings[rule_id] = setting
        config.overrides.append(Override(list(files), settings))

    plugins = data.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        bad(("plugins",), "must be a list of module names or .py paths")
    else:
        config.plugins = list(plugins)

    fail = data.get("fail-level", "error")
    if fail not in LEVEL_NAMES[:3]:
        bad(("fail-level",), f"must be one of error, warning, note{did_you_mean(str(fail), LEVEL_NAMES[:3])}")
    else:
        config.fail_level = fail

    if "max-findings" in data:
        limit = _max_findings(data["max-findings"], ("max-findings",), bad)
        if limit is not None:
            config.max_findings = limit

    for key, value in data.items():
        if key not in CORE_KEYS:
            config.sections[key] = value
    return problems


def _rule_setting(value: Any, key: tuple[Any, ...], bad: Any) -> RuleSetting | None:
    if isinstance(value, str):
        if value not in LEVEL_NAMES:
            bad(key, f"level must be one of {', '.join(LEVEL_NAMES)}, not '{value}'{did_you_mean(value, LEVEL_NAMES)}")
            return None
        return RuleSetting(level=value)
    if isinstance(value, dict):
        level = value.get("level")
        if level is not None and level not in LEVEL_NAMES:
            bad(
                (*key, "level"),
                f"must be one of {', '.join(LEVEL_NAMES)}, not '{level}'{did_you_mean(str(level), LEVEL_NAMES)}",
            )
            return None
        options = {k: v for k, v in value.items() if k not in ("level", "max-findings")}
        if isinstance(options.get("options"), dict):
            nested = options.pop("options")
            options.update(nested)
        limit = _max_findings(value["max-findings"], (*key, "max-findings"), bad) if "max-findings" in value else None
        return RuleSetting(level=level, options=options, max_findings=limit)
    bad(key, f'must be a level ("error", "warning", "note", "off") or a table, not {type(value).__name__}')
    return None


def _max_findings(value: Any, key: tuple[Any, ...], bad: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        bad(key, f"must be a whole number >= 0 (0 = no limit), not {value!r}")
        return None
    return value


# -- lesson id templates -----------------------------------------------------------------

_TEMPLATE_VAR = re.compile(r"\{([^{}]*)\}")
TEMPLATE_VARS = ("path", "stem", "dir", "module", "name", "folder", "route")
TEMPLATE_FILTERS = ("unnumbered", "lower")


def template_problem(template: str) -> str | None:
    for m in _TEMPLATE_VAR.finditer(template):
        var, *filters = [p.strip() for p in m.group(1).split("|")]
        if var not in TEMPLATE_VARS:
            return f"unknown placeholder {{{var}}} in '{template}'{did_you_mean(var, TEMPLATE_VARS)} (known: {', '.join(TEMPLATE_VARS)})"
        for f in filters:
            if f not in TEMPLATE_FILTERS:
                return f"unknown filter '|{f}' in '{template}'{did_you_mean(f, TEMPLATE_FILTERS)} (known: {', '.join(TEMPLATE_FILTERS)})"
    return None


_NUMBER_PREFIX = re.compile(r"^\d+[-_.]")
_INDEX_STEMS = ("index", "README", "readme", "_index")


def expand_template(template: str, relpath_in_base: str) -> str:
    """Fill ``{path}``, ``{stem}``, ``{dir}``, ``{module}``, ``{name}``, ``{folder}``,
    ``{route}`` for a lesson.

    ``relpath_in_base`` is the lesson's path relative to its content glob's base, e.g.
    ``02-module-2/01-x.mdx``: path ``02-module-2/01-x``, stem ``01-x``, dir ``02-module-2``,
    module (first folder) ``02-module-2``, name ``01-x.mdx``, folder (the name of the
    lesson's own folder) ``02-module-2``. ``{route}`` is the path a site serves the page at:
    the path, less a final ``index``, ``README`` or ``_index`` (``guide/index.md`` is
    ``guide``). For lessons named by their folder (``1-intro/article.md``) ``{folder}`` or
    ``{dir}`` is the lesson's name. Filters: ``|unnumbered`` drops numeric prefixes
    (``02-module-2`` -> ``module-2``) of every part, ``|lower``.
    """
    parts = relpath_in_base.split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    folders = parts[:-1]
    route = "/".join(folders) if stem in _INDEX_STEMS else "/".join([*folders, stem])
    values = {
        "path": "/".join([*folders, stem]),
        "stem": stem,
        "dir": "/".join(folders),
        "module": folders[0] if folders else "",
        "name": name,
        "folder": folders[-1] if folders else "",
        "route": route,
    }

    def fill(m: re.Match[str]) -> str:
        var, *filters = [p.strip() for p in m.group(1).split("|")]
        value = values.get(var, "")
        for f in filters:
            if f == "unnumbered":
                value = "/".join(_NUMBER_PREFIX.sub("", part) for part in value.split("/"))
            elif f == "lower":
                value = value.lower()
        return value

    result = _TEMPLATE_VAR.sub(fill, template)
    return re.sub(r"/{2,}", "/", result)


# -- effective settings --------------------------------------------------------------------


def validate_against(config: Config, rules: dict[str, Any], sections: dict[str, str]) -> list[ConfigProblem]:
    """Check rule ids, levels, options and top-level keys against the loaded plugins."""
    problems: list[ConfigProblem] = []
    families = {r.split("/", 1)[0] for r in rules}

    def bad(key: tuple[Any, ...], message: str, kind: str = "") -> None:
        file, line = config.where(*key)
        problems.append(ConfigProblem(file, line, ".".join(str(k) for k in key), message, kind))

    def check_setting(rule_id: str, setting: RuleSetting, key: tuple[Any, ...]) -> None:
        if rule_id in families:
            if setting.options:
                bad(key, "a whole family takes only a level and max-findings; set options on each rule")
            return
        rule = rules.get(rule_id)
        if rule is None:
            candidates = list(rules) if "/" in rule_id else [*rules, *families]
            bad(key, f"unknown rule{did_you_mean(rule_id, candidates)} (see `coursecheck rules`)", UNKNOWN_RULE)
            return
        for name, value in setting.options.items():
            opt = rule.option(name)
            if opt is None:
                known = ", ".join(o.name for o in rule.options) or "none"
                bad(
                    (*key, name),
                    f"unknown option for {rule_id}{did_you_mean(name, [o.name for o in rule.options])} (options: {known})",
                )
                continue
            why = option_problem(opt, value)
            if why:
                bad((*key, name), why)

    for rule_id, setting in config.rules.items():
        check_setting(rule_id, setting, ("rules", rule_id))
    for i, override in enumerate(config.overrides):
        for rule_id, setting in override.rules.items():
            check_setting(rule_id, setting, ("overrides", i, "rules", rule_id))
    for key in config.sections:
        if key not in sections:
            known = sorted([*CORE_KEYS, *sections])
            bad((key,), f"unknown top-level key{did_you_mean(key, known)} (known: {', '.join(known)})", UNKNOWN_SECTION)
    return problems


def option_problem(opt: Any, value: Any) -> str | None:
    expected = opt.type
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (expected is int and isinstance(value, bool)) or not isinstance(value, expected):
        return f"must be {opt.describe_type()}, not {type(value).__name__}"
    if opt.choices and value not in opt.choices:
        return f"must be one of {', '.join(map(str, opt.choices))}, not '{value}'{did_you_mean(str(value), map(str, opt.choices))}"
    if expected is list and opt.item is not None:
        for item in value:
            if not isinstance(item, opt.item):
                return f"must be a list of {opt.item.__name__}; found {type(item).__name__}"
    if opt.regex:
        for pattern in value if isinstance(value, list) else [value]:
            try:
                re.compile(pattern)
            except re.error as exc:
                return f"invalid regular expression {pattern!r}: {exc}"
    return None


class Settings:
    """Effective level and options of each rule for each file (overrides applied in order)."""

    def __init__(self, config: Config, rules: dict[str, Any]) -> None:
        self.config = config
        self.rules = rules
        # Keyed by the overrides that apply, not by file: files with the same overrides share
        # one (level, options) per rule (memory stays flat on big courses).
        self._cache: dict[tuple[str, tuple[int, ...] | None], tuple[str, dict[str, Any]]] = {}
        self._applying: dict[str, tuple[int, ...]] = {}
        self._limits: dict[tuple[str, tuple[int, ...]], int] = {}

    def base(self, rule_id: str) -> tuple[str, dict[str, Any]]:
        return self.for_file(rule_id, None)

    def _overrides_for(self, relpath: str) -> tuple[int, ...]:
        applying = self._applying.get(relpath)
        if applying is None:
            applying = tuple(i for i, o in enumerate(self.config.overrides) if matches(relpath, o.files))
            self._applying[relpath] = applying
        return applying

    def for_file(self, rule_id: str, relpath: str | None) -> tuple[str, dict[str, Any]]:
        applying = None if relpath is None else self._overrides_for(relpath)
        key = (rule_id, applying)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        rule = self.rules[rule_id]
        level = rule.level
        options = rule.defaults()
        family = rule_id.split("/", 1)[0]
        layers = [self.config.rules]
        if applying is not None:
            layers += [self.config.overrides[i].rules for i in applying]
        for layer in layers:
            for name in (family, rule_id):
                setting = layer.get(name)
                if setting is not None:
                    if setting.level is not None:
                        level = setting.level
                    options.update(setting.options)
        self._cache[key] = (level, options)
        return level, options

    def max_findings(self, rule_id: str, relpath: str | None) -> int:
        """Findings ``rule_id`` reports in one file at most (0 = no limit): the top-level
        ``max-findings``, then ``max-findings`` of the rule's family and of the rule in
        ``[rules]`` and in each ``[[overrides]]`` that applies to the file, in that order."""
        applying = () if relpath is None else self._overrides_for(relpath)
        key = (rule_id, applying)
        limit = self._limits.get(key)
        if limit is None:
            limit = self.config.max_findings
            family = rule_id.split("/", 1)[0]
            for layer in [self.config.rules, *(self.config.overrides[i].rules for i in applying)]:
                for name in (family, rule_id):
                    setting = layer.get(name)
                    if setting is not None and setting.max_findings is not None:
                        limit = setting.max_findings
            self._limits[key] = limit
        return limit

    def enabled_anywhere(self, rule_id: str) -> bool:
        if self.base(rule_id)[0] != "off":
            return True
        family = rule_id.split("/", 1)[0]
        return any(
            (s := o.rules.get(rule_id) or o.rules.get(family)) is not None and s.level not in (None, "off")
            for o in self.config.overrides
        )


def config_relpath(config: Config, file: str) -> str:
    """A config file's path for a finding: relative to the project root when inside it."""
    path = Path(file)
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.resolve().relative_to(config.root.resolve()).as_posix()
    except (ValueError, OSError):
        return file
