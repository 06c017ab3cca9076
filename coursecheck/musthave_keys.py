"""The must-have tables' keys (``[[truth]]``, ``[[artifact]]``, ``[[key-link]]``,
``[[requirement]]``, ``[[human-check]]``): their accepted types and the required ones, and
the marker of the tables a plugin contributes through ``coursecheck_musthaves``.

Below the rule families, in the public API (:mod:`coursecheck.api`): the must-haves family
validates the tables with these keys, and a plugin that reads plans into must-have tables
(coursecheck-planning) writes tables with the same keys.
"""

from __future__ import annotations

from typing import Any

from coursecheck.config.schema import Key

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
        "names": _STRS,
        "absent-is-gap": _BOOL,
        "phase": _STR,
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
        "contains-or-regex": _STRS,
        "patterns": _STRS,
        "exports": _STRS,
        "json": _STRS,
        "yaml": _STRS,
        "phase": _STR,
    },
    "key-link": {
        "id": _STR,
        "from": _STR,
        "to": _STR,
        "via": _STR,
        "verify": _STR_OR_STRS,
        "pattern": _STR,
        "phase": _STR,
    },
    "requirement": {"id": _STR, "text": _STR, "satisfied-by": _STRS, "phase": _STR, "untied": _BOOL},
    "human-check": {
        "id": _STR,
        "title": _STR,
        "test": _STR,
        "expected": _STR,
        "why": _STR,
        "phase": _STR,
        "truth": _BOOL,  # a truth of the plans left to a person: counted with the truths
    },
}
REQUIRED = {"truth": ("text",), "artifact": ("path",), "key-link": ("from", "to"), "requirement": ("id",)}
REQUIRED["human-check"] = ("test",)

_SCHEMA_TYPES = {(str,): "string", (int,): "int", (bool,): "bool", (list,): "strings", (str, list): "string-or-strings"}


def _frontmatter(value: Any, config: Any) -> str | None:
    if isinstance(value, bool) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return None
    return "must be true or a list of required field names"


def table_schema(kind: str) -> Key:
    """The keys of a ``[[kind]]`` must-have table as a schema (:mod:`coursecheck.config.schema`)."""
    keys = []
    for name, (types, _described) in KEYS[kind].items():
        if name == "frontmatter":
            keys.append(Key(name, "any", check=_frontmatter))
            continue
        kind_of = _SCHEMA_TYPES[types]
        keys.append(
            Key(name, kind_of, minimum=0 if kind_of == "int" else None, required=name in REQUIRED.get(kind, ()))
        )
    return Key(kind, "table", keys=tuple(keys))


SCHEMAS = {kind: table_schema(kind) for kind in KEYS}


class Contributed(dict):  # type: ignore[type-arg]
    """A must-have table a plugin declared through ``coursecheck_musthaves``, merged into
    ``config.sections`` after the TOML tables. Marked so that a second engine on the same
    Config replaces the contributions instead of adding them twice."""
