"""Config sections declared as schemas, and the one validator that checks them.

A plugin that owns a top-level config section (``[graph]``, ``[[term]]``...) declares it
once as a :class:`Section` from the ``coursecheck_config_schemas`` hook: its keys, their
types, allowed values, defaults and one-line docs. The engine validates every declared
section once, with :func:`validate_sections`, and reports each problem at the file, line
and key that set it (an unknown key with a "did you mean"), like the core keys' problems.
What a type cannot say (a path that must exist, a glob, a regex) is a key's ``check``, and
what spans keys (``min`` is not above ``max``) is a table's ``table_check`` (the section's
``check``): they return messages, reported at the key with its file and line. A check sees
only values of the right type. :func:`table_problems` checks one table against a key, for
tables that are not a section's own (must-have tables a plugin contributes).

The messages are the same for every section:

* ``must be a table: [graph]`` / ``must be an array of tables: [[term]]``;
* ``unknown key; did you mean 'start'? (known: routes, start, ...)``;
* ``must be a string, not int`` (``a list of strings``, ``true or false``, ``a whole
  number``...), or the key's own ``expected`` text;
* ``must not be empty`` (``non_empty``); ``needs `text``` (a ``required`` key);
* ``must be one of builtin, hunspell, not 'biltin'; did you mean 'builtin'?``;
* ``must be 1 or more, not 0`` (``minimum``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from coursecheck.config.core import Config, ConfigProblem, did_you_mean

# What a key's value may be: TOML types, by the name a schema uses.
TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "bool": (bool,),
    "int": (int,),
    "number": (int, float),
    "list": (list,),
    "strings": (list,),  # a list of strings
    "string-or-strings": (str, list),  # one string or a list of them
    "table": (dict,),
    "tables": (list,),  # an array of tables, each checked against ``keys``
    "any": (object,),
}
_DESCRIBED = {
    "string": "a string",
    "bool": "true or false",
    "int": "a whole number",
    "number": "a number",
    "list": "a list",
    "strings": "a list of strings",
    "string-or-strings": "a string or a list of strings",
    "table": "a table",
    "tables": "an array of tables",
    "any": "a value",
}

# A check: (value, config) -> problem messages (a message, a list of them, or None).
Check = Callable[[Any, "Config"], "str | list[str] | None"]
# A section-wide check: (table, config) -> (key path inside the table, message) pairs.
TableCheck = Callable[[dict[str, Any], "Config"], "list[tuple[tuple[Any, ...], str]]"]


@dataclass(frozen=True)
class Key:
    """One key of a section: its name, type, allowed values, default and docs."""

    name: str
    type: str = "string"  # a name in TYPES
    doc: str = ""
    default: Any = None
    choices: tuple[Any, ...] = ()
    minimum: int | float | None = None
    non_empty: bool = False  # a string (or each string of a list) must not be blank
    expected: str = ""  # what the value must be, said in the type message (default: from the type)
    check: Check | None = None  # more checks of a value of the right type
    # "tables" (each item) or "table" with known keys: the keys of the table; "table" of
    # free names: ``values``, the schema of each value.
    keys: tuple[Key, ...] = ()
    values: Key | None = None
    required: bool = False  # in a table of ``keys``: the item must have this key
    table_check: TableCheck | None = None  # for "tables"/"table": checks across the item's keys

    def describe(self) -> str:
        if self.expected:
            return self.expected
        if self.type in ("strings", "string-or-strings") and self.non_empty:
            return _DESCRIBED[self.type].replace("strings", "non-empty strings")
        return _DESCRIBED.get(self.type, self.type)


@dataclass(frozen=True)
class Section:
    """A top-level config section a plugin owns: ``[name]`` (``array``: ``[[name]]``)."""

    name: str
    doc: str
    keys: tuple[Key, ...] = ()
    array: bool = False  # an array of tables ([[term]]); each table has ``keys``
    values: Key | None = None  # a table of free names, each value checked by this key
    check: TableCheck | None = None  # checks across keys (per table of an array)
    header: str = ""  # how the user writes the section, in "must be a table: ..." (default [name])

    def as_key(self) -> Key:
        return Key(
            self.name,
            "tables" if self.array else "table",
            self.doc,
            keys=self.keys,
            values=self.values,
            table_check=self.check,
            expected=f"an array of tables: {self.header or f'[[{self.name}]]'}"
            if self.array
            else f"a table: {self.header or f'[{self.name}]'}",
        )

    def defaults(self) -> dict[str, Any]:
        """The keys' defaults (those that have one)."""
        return {k.name: k.default for k in self.keys if k.default is not None}


@dataclass
class _Run:
    config: Config
    problems: list[tuple[tuple[Any, ...], str]] = field(default_factory=list)

    def bad(self, path: tuple[Any, ...], message: str) -> None:
        self.problems.append((path, message))


def _type_ok(value: Any, key: Key) -> bool:
    if isinstance(value, bool) and key.type in ("int", "number"):
        return False
    if not isinstance(value, TYPES[key.type]):
        return False
    if isinstance(value, list) and key.type in ("strings", "string-or-strings"):
        return all(isinstance(v, str) for v in value)
    return True


def _check_value(run: _Run, path: tuple[Any, ...], key: Key, value: Any) -> None:
    if not _type_ok(value, key):
        wrong_items = isinstance(value, list) and key.type in ("strings", "string-or-strings")
        shown = "" if key.type in ("table", "tables") or key.expected or wrong_items else f", not {_toml_type(value)}"
        run.bad(path, f"must be {key.describe()}{shown}")
        return
    if key.non_empty:
        items = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and not v.strip() for v in items):
            blank = isinstance(value, str) and not key.expected
            run.bad(path, "must not be empty" if blank else f"must be {key.describe()}")
            return
    if key.choices and value not in key.choices:
        choices = [str(c) for c in key.choices]
        shown = (
            f"'{value}'" if isinstance(value, str) else _toml_type(value) if isinstance(value, (list, dict)) else value
        )
        run.bad(path, f"must be one of {', '.join(choices)}, not {shown}{did_you_mean(str(value), choices)}")
        return
    if key.minimum is not None and isinstance(value, (int, float)) and value < key.minimum:
        run.bad(path, f"must be {key.minimum} or more, not {value}")
        return
    before = len(run.problems)
    if key.type == "tables":
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                run.bad((*path, i), f"must be a table{_needing(key)}")
                continue
            _check_table(run, (*path, i), key, item)
    elif key.type == "table" and (key.keys or key.values or key.table_check):
        _check_table(run, path, key, value)
    if key.check is not None and len(run.problems) == before:  # a check sees well-formed values only
        found = key.check(value, run.config)
        for message in [found] if isinstance(found, str) else found or []:
            run.bad(path, message)


def _needing(key: Key) -> str:
    required = [k.name for k in key.keys if k.required]
    return f" with `{required[0]}`" if required else ""


def _check_table(run: _Run, path: tuple[Any, ...], key: Key, table: dict[str, Any]) -> None:
    if key.keys:
        known = {k.name: k for k in key.keys}
        for sub in known.values():
            wanted = table.get(sub.name)
            if sub.required and not (isinstance(wanted, str) and wanted.strip() if sub.type == "string" else wanted):
                run.bad(path, f"needs `{sub.name}`" + (f": {sub.doc}" if sub.doc else ""))
        for name, value in table.items():
            found = known.get(name)
            if found is None:
                if key.values is not None:
                    _check_value(run, (*path, name), key.values, value)
                    continue
                run.bad((*path, name), f"unknown key{did_you_mean(str(name), known)} (known: {', '.join(known)})")
                continue
            _check_value(run, (*path, name), found, value)
    elif key.values is not None:
        for name, value in table.items():
            _check_value(run, (*path, name), key.values, value)
    if key.table_check is not None:
        for sub_path, message in key.table_check(table, run.config):
            run.bad((*path, *sub_path), message)


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def table_problems(config: Config, key: Key, table: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """The problems of one table checked against ``key`` (a ``table`` key with ``keys``), as
    (key path inside the table, message): for tables that are not a config section's own
    (the must-have tables a plugin contributes, at the plugin's file and line)."""
    run = _Run(config)
    _check_table(run, (), key, table)
    return run.problems


def section_problems(config: Config, section: Section) -> list[tuple[tuple[Any, ...], str]]:
    """The problems of one section as (key path from the section's name, message)."""
    run = _Run(config)
    value = config.sections.get(section.name)
    if value is None:
        return []
    key = section.as_key()
    _check_value(run, (section.name,), key, value)
    return run.problems


def validate_sections(
    config: Config, sections: Iterable[Section], failed: Callable[[Section, Exception], None] | None = None
) -> list[ConfigProblem]:
    """Every declared section checked once: problems at the file, line and key that set them.

    A check that raises (a plugin's bug) leaves its section unchecked and is handed to
    ``failed`` (the engine makes it a notification); without ``failed`` it propagates."""
    problems: list[ConfigProblem] = []
    for section in sections:
        try:
            found = section_problems(config, section)
        except Exception as exc:
            if failed is None:
                raise
            failed(section, exc)
            continue
        for path, message in found:
            file, line = config.where(*path)
            problems.append(ConfigProblem(file, line, ".".join(map(str, path)), message))
    return problems


def describe_section(section: Section) -> str:
    """The section's docs as Markdown: a table of its keys (for ``docs/`` and help)."""
    lines = [f"`{'[[' + section.name + ']]' if section.array else '[' + section.name + ']'}`: {section.doc}", ""]
    if section.keys:
        lines += ["| key | type | default | what |", "|---|---|---|---|"]
        for key in section.keys:
            default = "" if key.default is None else f"`{key.default!r}`"
            kind = key.describe() + (f" ({', '.join(map(str, key.choices))})" if key.choices else "")
            lines.append(f"| `{key.name}` | {kind} | {default} | {key.doc} |")
    return "\n".join(lines)
