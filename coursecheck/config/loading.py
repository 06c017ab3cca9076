"""Loading: discovery of the config, TOML, rule packs (``extends``), the shape of the file
(part of :mod:`coursecheck.config`)."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from coursecheck.fsutil import OutsideRoot, contained, outside_problem, shown
from coursecheck.globs import invalid_glob

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from coursecheck.config.core import (
    CONFIG_NAMES,
    CORE_KEYS,
    COURSE_KEYS,
    LEVEL_NAMES,
    Config,
    ConfigError,
    ConfigProblem,
    Override,
    RuleSetting,
    did_you_mean,
)
from coursecheck.config.locate import TomlLocator
from coursecheck.config.templates import template_problem

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
    source_tree = Path(__file__).resolve().parent.parent.parent / "rules" / f"{name}.toml"
    return source_tree if source_tree.is_file() else None


def shipped_pack_names() -> list[str]:
    names: set[str] = set()
    for folder in (
        Path(__file__).resolve().parent.parent / "packs",
        Path(__file__).resolve().parent.parent.parent / "rules",
    ):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


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
