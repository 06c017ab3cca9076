"""Frontmatter: a declarative schema for lesson fields, and course order by file names.

YAML that cannot be read is reported by the parser (``parse/frontmatter``); the rules here
skip such lessons instead of piling more findings on the same error. The schema lives in
the config, one table per field::

    [frontmatter.fields.difficulty]
    type = "string"
    required = true
    enum = ["beginner", "intermediate", "advanced"]

    [frontmatter.fields.prerequisites]
    type = "list"
    items = "string"
    pattern = '^module-\\d+/\\d{2}-[a-z0-9-]+$'

Field keys: ``type`` (string, number, integer, boolean, list, mapping, date, any),
``items`` (the type of list items), ``required``, ``enum``, ``pattern`` (a regular
expression searched in the value, or in each item of a list), ``min``/``max`` (a number's
value, a string's length, a list's item count) and ``description``.

Findings point at the exact key, value or list item (``doc.frontmatter.place``); a missing
field is reported at the frontmatter's opening ``---``. A "module" is a lesson's folder.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from coursecheck import hookimpl
from coursecheck.config import Config, did_you_mean
from coursecheck.config.schema import Key, Section, section_problems
from coursecheck.escape import toml_string
from coursecheck.model import Course, Document
from coursecheck.patterns import SPENT, regex_problem, timed_finditer, timeout_message, user_regex
from coursecheck.rules import Rule, RuleContext, rule
from coursecheck.text import Span

TYPES: dict[str, str] = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "list": "a list",
    "mapping": "a mapping",
    "date": "a date (YYYY-MM-DD)",
    "any": "anything",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][\d:.+\-Z]+)?$")
_NUMERIC_PREFIX = re.compile(r"^(\d+)[-_.]")
# -- the schema ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str = "any"
    items: str = "any"
    required: bool = False
    enum: tuple[Any, ...] = ()
    pattern: Any = None  # a user_regex
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Schema:
    fields: dict[str, FieldSpec] = field(default_factory=dict)

    @property
    def required(self) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.required]


def _field_problems(table: dict[str, Any], config: Config) -> list[tuple[tuple[Any, ...], str]]:
    """What the keys of one ``[frontmatter.fields.NAME]`` table say together (each key's
    type and allowed values are the schema's)."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    kind, items = table.get("type", "any"), table.get("items", "any")
    if kind not in TYPES or items not in TYPES:
        return problems  # reported at the key
    if "items" in table and kind not in ("list", "any"):
        problems.append((("items",), f"'items' applies to lists; this field's type is '{kind}'"))
    scalar = items if kind == "list" else kind
    enum = table.get("enum")
    if isinstance(enum, list):
        if not enum or not all(isinstance(v, (str, int, float, bool)) for v in enum):
            problems.append((("enum",), "must be a non-empty list of allowed values"))
        else:
            for value in enum:
                if not _type_ok(value, scalar):
                    problems.append((("enum",), f"value {value!r} is not {TYPES[scalar]}, the type of this field"))
    pattern = table.get("pattern")
    if isinstance(pattern, str):
        why = regex_problem(pattern)
        if why:
            problems.append((("pattern",), why))
        elif scalar not in ("string", "date", "any"):
            problems.append((("pattern",), f"'pattern' applies to strings; this field holds {TYPES[scalar]}"))
    low, high = table.get("min"), table.get("max")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low > high:
        problems.append((("min",), f"min ({low}) is greater than max ({high})"))
    return problems


_FIELD = Key(
    "field",
    "table",
    expected='a table, e.g. [frontmatter.fields.NAME] with type = "string"',
    keys=(
        Key("type", "any", "the value's type", default="any", choices=tuple(TYPES)),
        Key("items", "any", "the type of a list's items", default="any", choices=tuple(TYPES)),
        Key("required", "bool", "every lesson must have the field, with a value", default=False),
        Key("enum", "list", "the allowed values", expected="a non-empty list of allowed values"),
        Key(
            "pattern",
            "string",
            "a regular expression a string value must match",
            expected="a regular expression (a string)",
        ),
        Key("min", "number", "the smallest allowed number"),
        Key("max", "number", "the largest allowed number"),
        Key("description", "string", "what the field is for", default=""),
    ),
    table_check=_field_problems,
)
FIELD_KEYS = tuple(k.name for k in _FIELD.keys)

# The [frontmatter] table's schema (validated by the engine, once).
SECTION = Section(
    "frontmatter",
    "the lesson frontmatter schema: [frontmatter.fields.NAME] type, required, enum, pattern",
    header="[frontmatter.fields.NAME]",
    keys=(
        Key(
            "fields",
            "table",
            "the fields, by name: [frontmatter.fields.NAME]",
            expected="a table of fields: [frontmatter.fields.NAME]",
            values=_FIELD,
        ),
    ),
)


def read_schema(config: Config) -> Schema:
    """The ``[frontmatter]`` schema of ``config``: the fields without problems (the engine
    reports the problems, and runs no rule on a config that has any)."""
    section = config.sections.get("frontmatter")
    fields = section.get("fields", {}) if isinstance(section, dict) else {}
    if not isinstance(fields, dict):
        return Schema()
    broken = {path[2] for path, _message in section_problems(config, SECTION) if len(path) > 2}
    specs: dict[str, FieldSpec] = {}
    for name, table in fields.items():
        if name in broken or not isinstance(table, dict):
            continue
        kind, items = table.get("type", "any"), table.get("items", "any")
        pattern = table.get("pattern")
        specs[name] = FieldSpec(
            name,
            kind,
            items,
            table.get("required", False),
            tuple(table.get("enum", [])),
            user_regex(pattern) if pattern is not None else None,
            table.get("min"),
            table.get("max"),
            table.get("description", ""),
        )
    return Schema(specs)


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "mapping":
        return isinstance(value, dict)
    if kind == "date":
        return isinstance(value, str) and bool(_DATE.match(value))
    return True


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


@hookimpl
def coursecheck_config_schemas() -> list[Section]:
    return [SECTION]


def _schema(ctx: RuleContext) -> Schema:
    cache = ctx.course.cache if ctx.course is not None else {}
    schema = cache.get("frontmatter.schema")
    if schema is None:
        schema = read_schema(ctx.config)
        cache["frontmatter.schema"] = schema
    return schema


def _readable(doc: Document) -> bool:
    """Frontmatter present and parsed (YAML errors are parse/frontmatter's findings)."""
    return doc.frontmatter is not None and not any(p.rule_id == "parse/frontmatter" for p in doc.problems)


def _opening(doc: Document) -> Span:
    """The opening ``---`` of the frontmatter (or the first line when there is none)."""
    return doc.span(0, min(3, len(doc.lines.line_text(1))))


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


# -- document rules ----------------------------------------------------------------------------


@rule("frontmatter/required-field", level="error", lessons_only=True, tags=("frontmatter",))
def required_field(doc: Document, ctx: RuleContext) -> None:
    """A lesson's frontmatter lacks a field the schema requires.

    ## What it does
    For every field declared with `required = true` in `[frontmatter.fields.NAME]`, reports
    a lesson whose frontmatter does not have it, or has it with no value (`estimatedTime:`,
    `title: ""`). An empty list is a value: `prerequisites: []` says "none".
    A missing field is reported at the frontmatter's opening `---`, naming the field; an
    empty one at its key. A lesson with no frontmatter at all gets one finding listing the
    required fields. Lessons whose YAML cannot be read are left to `parse/frontmatter`.

    ## Why it matters
    Site generators (Astro content collections, Docusaurus) refuse to build a page whose
    frontmatter fails their schema, or render "undefined" where the reading time or the
    difficulty should be. The course's own listings and filters read these fields.

    ## Example
    With `estimatedTime` required:
    ```toml
    [frontmatter.fields.estimatedTime]
    type = "number"
    required = true
    ```
    ```markdown
    ---
    title: "Образы и слои"
    order: 2
    ---
    ```
    Reported at line 1, column 1.

    Use instead:
    ```markdown
    ---
    title: "Образы и слои"
    order: 2
    estimatedTime: 25
    ---
    ```

    ## How to fix
    Add the field (`estimatedTime: 20`), or make it optional in the schema
    (`required = false`).
    """
    schema = _schema(ctx)
    required = schema.required
    if not required:
        return
    if doc.frontmatter is None:
        ctx.report_span(
            doc.relpath,
            Span.point(1, 1),
            f"lesson has no frontmatter; required fields: {', '.join(required)}",
            doc=doc,
            anchor="no frontmatter",
        )
        return
    if not _readable(doc):
        return
    data = doc.frontmatter.data
    for name in required:
        if name not in data:
            ctx.report_span(
                doc.relpath,
                _opening(doc),
                f"frontmatter has no '{name}' (required by [frontmatter.fields.{name}])",
                doc=doc,
                anchor=name,
            )
        elif data[name] is None or data[name] == "":
            ctx.report_span(
                doc.relpath,
                doc.frontmatter.place(name, "#key"),
                f"'{name}' has no value (required by [frontmatter.fields.{name}])",
                doc=doc,
                anchor=name,
            )


def _declared(doc: Document, ctx: RuleContext) -> list[tuple[FieldSpec, Any]]:
    """``(spec, value)`` of the declared fields present with a value in a readable frontmatter."""
    if not _readable(doc):
        return []
    assert doc.frontmatter is not None
    data = doc.frontmatter.data
    return [(spec, data[name]) for name, spec in _schema(ctx).fields.items() if data.get(name) is not None]


def _items(spec: FieldSpec, value: Any) -> list[tuple[tuple[Any, ...], Any]]:
    """``(place path, value)`` of the scalar values enum/pattern apply to."""
    if spec.type == "list" or (spec.type == "any" and isinstance(value, list)):
        if not isinstance(value, list):
            return []
        return [((spec.name, i), item) for i, item in enumerate(value)]
    return [((spec.name,), value)]


@rule("frontmatter/field-type", level="error", lessons_only=True, tags=("frontmatter",))
def field_type(doc: Document, ctx: RuleContext) -> None:
    """A frontmatter field has the wrong type.

    ## What it does
    Checks each declared field's value against its `type` (`string`, `number`, `integer`,
    `boolean`, `list`, `mapping`, `date`, `any`), and each list item against `items`. Reports
    at the value or the item. A quoted number (`order: "3"`) is a string, as in YAML.

    ## Why it matters
    Sorting by `order` or summing `estimatedTime` fails, or silently sorts "10" before "9",
    when a number is written as a string; a site's content schema rejects the page.

    ## Example
    With `estimatedTime` declared `number` and `topics` a `list`:
    ```toml
    [frontmatter.fields.estimatedTime]
    type = "number"

    [frontmatter.fields.topics]
    type = "list"
    ```
    ```markdown
    ---
    estimatedTime: "20 минут"
    topics: volumes
    ---
    ```
    Reported at line 2, column 16.

    Use instead:
    ```markdown
    ---
    estimatedTime: 20
    topics: [volumes]
    ---
    ```

    ## How to fix
    Write the value in the declared type: `estimatedTime: 20`, `topics: ["volumes"]`.
    """
    for spec, value in _declared(doc, ctx):
        fm = doc.frontmatter
        assert fm is not None
        if not _type_ok(value, spec.type):
            hint = ""
            if spec.type in ("number", "integer") and isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
                hint = "; remove the quotes"
            elif spec.type == "list" and not isinstance(value, list):
                hint = f"; write [{_show(value)}]"
            ctx.report_span(
                doc.relpath,
                fm.place(spec.name),
                f"'{spec.name}' must be {TYPES[spec.type]}, not {_type_name(value)}{hint}",
                doc=doc,
                anchor=spec.name,
            )
            continue
        if isinstance(value, list) and spec.items != "any":
            for i, item in enumerate(value):
                if not _type_ok(item, spec.items):
                    ctx.report_span(
                        doc.relpath,
                        fm.place(spec.name, i),
                        f"item {i + 1} of '{spec.name}' must be {TYPES[spec.items]}, not {_type_name(item)}",
                        doc=doc,
                        anchor=f"{spec.name}[{i}]",
                    )


@rule("frontmatter/enum", level="error", lessons_only=True, tags=("frontmatter",))
def enum_value(doc: Document, ctx: RuleContext) -> None:
    """A frontmatter field holds a value its `enum` does not allow.

    ## What it does
    For fields declared with `enum = [...]`, reports a value (or, for a list, an item) that
    is not one of the allowed values, at the value, with the closest allowed value when one
    is near (a typo). Comparison is exact (case-sensitive).

    ## Why it matters
    Filters and badges on the site know only the allowed values: a lesson marked
    `difficulty: "expert"` disappears from every difficulty filter, or breaks the build.

    ## Example
    With the field's allowed values:
    ```toml
    [frontmatter.fields.difficulty]
    enum = ["beginner", "intermediate", "advanced"]
    ```
    ```markdown
    ---
    difficulty: "expert"
    ---
    ```
    Reported at line 2, column 13.

    Use instead:
    ```markdown
    ---
    difficulty: "advanced"
    ---
    ```

    ## How to fix
    Use one of the allowed values, or add the new value to the `enum` (and to the site's
    content schema).
    """
    for spec, value in _declared(doc, ctx):
        if not spec.enum:
            continue
        fm = doc.frontmatter
        assert fm is not None
        for path, item in _items(spec, value):
            if item in spec.enum or isinstance(item, (list, dict)):
                continue
            allowed = ", ".join(_show(v) for v in spec.enum)
            hint = did_you_mean(str(item), [str(v) for v in spec.enum])
            ctx.report_span(
                doc.relpath,
                fm.place(*path),
                f"'{spec.name}' is {_show(item)}, not one of: {allowed}{hint}",
                doc=doc,
                anchor=f"{spec.name}={item}",
            )


@rule("frontmatter/pattern", level="error", lessons_only=True, tags=("frontmatter",))
def pattern_value(doc: Document, ctx: RuleContext) -> None:
    """A frontmatter string does not match the field's `pattern`.

    ## What it does
    For fields declared with `pattern = '...'`, reports a string value (or list item) in
    which the regular expression finds no match (anchor it with `^...$` to match the whole
    value). Reported at the value or item.

    ## Why it matters
    Ids, slugs and references follow conventions the site and coursecheck rely on: a
    prerequisite written `Module 2 / lesson 1` resolves to nothing.

    ## Example
    With a `pattern` on `prerequisites`:
    ```toml
    [frontmatter.fields.prerequisites]
    type = "list"
    pattern = '^module-[0-9]+/[0-9]{2}-[a-z0-9-]+$'
    ```
    ```markdown
    ---
    prerequisites: ["module-1/Dockerfile basics"]
    ---
    ```
    Reported at line 2, column 17.

    Use instead:
    ```markdown
    ---
    prerequisites: ["module-1/03-dockerfile-basics"]
    ---
    ```

    ## How to fix
    Write the value in the expected form (`module-1/03-dockerfile-basics`), or correct the
    pattern.
    """
    for spec, value in _declared(doc, ctx):
        if spec.pattern is None:
            continue
        fm = doc.frontmatter
        assert fm is not None
        for path, item in _items(spec, value):
            if not isinstance(item, str):
                continue
            found = timed_finditer(ctx, spec.pattern, item, first=True)
            if found is SPENT:
                break
            if found is None:
                what = f"pattern of frontmatter field '{spec.name}'"
                ctx.report_span(doc.relpath, fm.place(*path), timeout_message(what, spec.pattern.pattern), doc=doc)
                break
            if not found:
                ctx.report_span(
                    doc.relpath,
                    fm.place(*path),
                    f"'{spec.name}' value {item!r} does not match pattern {spec.pattern.pattern!r}",
                    doc=doc,
                    anchor=f"{spec.name}={item}",
                )


@rule("frontmatter/value-range", level="error", lessons_only=True, tags=("frontmatter",))
def value_range(doc: Document, ctx: RuleContext) -> None:
    """A frontmatter value is outside the field's `min`/`max`.

    ## What it does
    For fields declared with `min` and/or `max`, checks a number's value, a string's length
    (in characters) or a list's number of items, and reports at the value.

    ## Why it matters
    Limits catch values that are valid YAML and the right type but wrong: a reading time of
    0 or 600 minutes, a description too long for the lesson card, a lesson with no topics.

    ## Example
    With a range for `estimatedTime`:
    ```toml
    [frontmatter.fields.estimatedTime]
    type = "number"
    min = 5
    max = 120
    ```
    ```markdown
    ---
    estimatedTime: 0
    ---
    ```
    Reported at line 2, column 16.

    Use instead:
    ```markdown
    ---
    estimatedTime: 15
    ---
    ```

    ## How to fix
    Correct the value, or widen the limits in the schema.
    """
    for spec, value in _declared(doc, ctx):
        if spec.minimum is None and spec.maximum is None:
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            measured, unit = value, ""
        elif isinstance(value, str):
            measured, unit = len(value), " characters"
        elif isinstance(value, list):
            measured, unit = len(value), " items"
        else:
            continue
        fm = doc.frontmatter
        assert fm is not None
        if spec.minimum is not None and measured < spec.minimum:
            limit = f"below the minimum {_num(spec.minimum)}"
        elif spec.maximum is not None and measured > spec.maximum:
            limit = f"above the maximum {_num(spec.maximum)}"
        else:
            continue
        ctx.report_span(
            doc.relpath,
            fm.place(spec.name),
            f"'{spec.name}' {'is' if not unit else 'has'} {_num(measured)}{unit}, {limit}",
            doc=doc,
            anchor=spec.name,
        )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@rule("frontmatter/unknown-field", level="off", lessons_only=True, tags=("frontmatter",))
def unknown_field(doc: Document, ctx: RuleContext) -> None:
    """A frontmatter field is not declared in the schema (opt-in).

    ## What it does
    When the config declares fields (`[frontmatter.fields.NAME]`), reports a key of a
    lesson's frontmatter that is not among them, at the key, with the closest declared name
    (`estimatedtime` -> `estimatedTime`). Off by default: switch it on with
    `"frontmatter/unknown-field" = "warning"`.

    ## Why it matters
    A misspelt optional key is not an error to YAML nor to most sites: the field is simply
    ignored, and the lesson silently loses its prerequisites or reading time.

    ## Example
    The schema declares `prerequisites`:
    ```toml
    [frontmatter.fields.prerequisites]
    type = "list"

    [rules]
    "frontmatter/unknown-field" = "warning"
    ```
    ```markdown
    ---
    prerequisite: ["module-1/01-what-is-a-container"]
    ---
    ```
    Reported at line 2, column 1.

    Use instead:
    ```markdown
    ---
    prerequisites: ["module-1/01-what-is-a-container"]
    ---
    ```

    ## How to fix
    Correct the key, or declare the field in `[frontmatter.fields.NAME]` (with
    `type = "any"` if it may hold anything).
    """
    schema = _schema(ctx)
    if not schema.fields or not _readable(doc):
        return
    fm = doc.frontmatter
    assert fm is not None
    for key in fm.data:
        if key in schema.fields:
            continue
        hint = did_you_mean(str(key), schema.fields)
        ctx.report_span(
            doc.relpath,
            fm.place(key, "#key"),
            f"unknown frontmatter field '{key}'{hint} (declared: {', '.join(schema.fields)})",
            doc=doc,
            anchor=str(key),
        )


def _order_of(doc: Document, order_field: str) -> float | None:
    if not _readable(doc):
        return None
    assert doc.frontmatter is not None
    value = doc.frontmatter.data.get(order_field)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _prefix_of(doc: Document) -> tuple[int, str] | None:
    """The numeric prefix of the file name: ``(3, "03-")`` for ``03-docker-compose.mdx``."""
    m = _NUMERIC_PREFIX.match(doc.relpath.rsplit("/", 1)[-1])
    return (int(m.group(1)), m.group(0)) if m else None


def _folder_name(module: str) -> str:
    return module.rsplit("/", 1)[-1]


def _module(doc: Document) -> str:
    return doc.relpath.rsplit("/", 1)[0] if "/" in doc.relpath else "."


@rule("frontmatter/order-prefix", level="warning", lessons_only=True, tags=("frontmatter", "order"))
def order_prefix(doc: Document, ctx: RuleContext) -> None:
    """A lesson's `order` disagrees with the numeric prefix of its file name.

    ## What it does
    For a lesson file named with a numeric prefix (`03-docker-compose.mdx`) and a numeric
    order field (`order`, or `[course] order-field`), reports at the order value when the two
    differ. Files without a prefix, and lessons without a numeric order, are not checked.

    ## Why it matters
    Two sources of truth for one sequence drift apart: the file tree (and every editor,
    `ls`, the course repository's readers) shows one order, the site's navigation another.

    ## Example
    In `content/02-module-2/03-docker-compose.md`:
    ```markdown
    ---
    order: 2
    ---
    ```
    Reported at line 2, column 8.

    Use instead:
    ```markdown
    ---
    order: 3
    ---
    ```

    ## How to fix
    Make them agree: `order: 3`, or rename the file. Renumber both when inserting a lesson.
    """
    order = _order_of(doc, ctx.config.course.order_field)
    prefix = _prefix_of(doc)
    if order is None or prefix is None or order == prefix[0]:
        return
    fm = doc.frontmatter
    assert fm is not None
    name = ctx.config.course.order_field
    ctx.report_span(
        doc.relpath,
        fm.place(name),
        f"{name} {_num(order)} disagrees with the file name prefix '{prefix[1]}' ({prefix[0]})",
        doc=doc,
        anchor=f"{name}={_num(order)}",
    )


@rule("frontmatter/duplicate-order", level="error", course=True, relocatable=True, tags=("frontmatter", "order"))
def duplicate_order(course: Course, ctx: RuleContext) -> None:
    """Two lessons of one module have the same `order`.

    ## What it does
    Groups lessons by folder (a module) and reports every lesson whose numeric order field
    (`order`, or `[course] order-field`) repeats one already used by an earlier lesson of
    the same folder (in path order), at its order value, pointing to the first one.

    ## Why it matters
    With `[course] order = "frontmatter"` and on most sites, lessons with equal order are
    sorted arbitrarily: navigation, "next lesson" links and prerequisites checks depend on
    an order that is not defined.

    ## Example
    Two lessons of module 2 both have `order: 2`:
    In `content/02-module-2/02-container-networking.md`:
    ```markdown
    ---
    order: 2
    ---
    ```
    In `content/02-module-2/03-docker-compose.md`:
    ```markdown
    ---
    order: 2
    ---
    ```
    Reported at line 2, column 8 of `content/02-module-2/03-docker-compose.md`.

    Use instead:
    In `content/02-module-2/03-docker-compose.md`:
    ```markdown
    ---
    order: 3
    ---
    ```

    ## How to fix
    Give each lesson of the module its own order (usually the file name's prefix).
    """
    order_field = ctx.config.course.order_field
    # (module, order) -> the first lesson with it: its file name and the place of its order.
    seen: dict[tuple[str, float], tuple[str, Span]] = {}
    for doc in sorted(course.lessons, key=lambda d: d.relpath):
        order = _order_of(doc, order_field)
        if order is None:
            continue
        fm = doc.frontmatter
        assert fm is not None
        key = (_module(doc), order)
        first = seen.get(key)
        if first is None:
            seen[key] = (doc.relpath, fm.place(order_field))
            continue
        first_relpath, first_place = first
        number = _num(order)
        ctx.report_span(
            doc.relpath,
            fm.place(order_field),
            f"{order_field} {number} is already used by {first_relpath.rsplit('/', 1)[-1]} in {_folder_name(key[0])}",
            doc=doc,
            anchor=f"{order_field}={number}",
            related=[(first_relpath, first_place, f"first lesson with {order_field} {number}")],
        )


@rule("frontmatter/duplicate-prefix", level="warning", course=True, relocatable=True, tags=("frontmatter", "order"))
def duplicate_prefix(course: Course, ctx: RuleContext) -> None:
    """Two lesson files of one module share a numeric prefix.

    ## What it does
    Groups lessons by folder and reports every file whose numeric name prefix (`03-` in
    `03-docker-compose.mdx`, compared as a number: `3-` and `03-` are the same) was already
    used by an earlier file of the same folder, at the file's first line, pointing to the
    first one.

    ## Why it matters
    The prefix is the course order in the file tree; two files with one prefix have no
    defined order between them, and usually mean a lesson was inserted without renumbering.

    ## Example
    `02-module-2/03-docker-compose.mdx` and `02-module-2/03-compose-profiles.mdx`.

    ## How to fix
    Renumber the files (and their `order` fields) so each prefix is used once.
    """
    seen: dict[tuple[str, int], Document] = {}
    for doc in sorted(course.lessons, key=lambda d: d.relpath):
        prefix = _prefix_of(doc)
        if prefix is None:
            continue
        key = (_module(doc), prefix[0])
        first = seen.setdefault(key, doc)
        if first is doc:
            continue
        first_name = first.relpath.rsplit("/", 1)[-1]
        ctx.report_span(
            doc.relpath,
            Span.point(1, 1),
            f"file name prefix '{prefix[1]}' is already used by {first_name} in {_folder_name(key[0])}",
            doc=doc,
            anchor=f"prefix={prefix[0]}",
            related=[(first.relpath, Span.point(1, 1), f"first file with prefix '{prefix[1]}'")],
        )


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [
        required_field,
        field_type,
        enum_value,
        pattern_value,
        value_range,
        unknown_field,
        order_prefix,
        duplicate_order,
        duplicate_prefix,
    ]


# -- coursecheck init ---------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(name: str) -> str:
    # A frontmatter key is the repository's: quoted, it can hold nothing that ends the header.
    return name if _BARE_KEY.match(name) else toml_string(name)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return toml_string(value)


def _infer_type(values: list[Any]) -> str:
    kinds = {_kind_of(v) for v in values if v is not None}
    if not kinds:
        return "any"
    if kinds == {"integer", "number"}:
        return "number"
    return kinds.pop() if len(kinds) == 1 else "any"


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "any"


_NOT_ENUM_VALUE = re.compile(r"://|^/|@|^\d{4}-\d{2}-\d{2}")
ENUM_MAX_VALUES = 8
ENUM_MIN_USES = 2  # each value of an inferred enum is used at least this often


def infer_schema_toml(
    lessons: dict[str, dict[str, Any]],
    *,
    module_first: set[str] | frozenset[str] = frozenset(),
    site_schema: dict[str, dict[str, Any]] | None = None,
    site_schema_file: str = "",
) -> str:
    """A ``[frontmatter.fields.*]`` schema inferred from lesson frontmatter, with support
    thresholds so that it describes the course rather than its accidents:

    * a field is required when at least 90% of the lessons give it a value (an empty list
      is a value: ``prerequisites: []`` says "none"), unless the only lessons without it
      are the first lessons of their modules (a module-first lesson has no prerequisite),
      or the site's own content schema makes it optional or gives it a default;
    * a string field gets an ``enum`` only when it takes 2 to 8 values over at least 5
      lessons and *each* value is used at least twice (author names, URLs and titles are
      not closed sets); values that differ only in case count as one, written the way most
      lessons write it; the site's schema's ``z.enum([...])`` is taken as it is;
    * numbers found as both integers and floats are ``number``; mixed types are ``any``.
    """
    if not lessons:
        return ""
    site = site_schema or {}
    total = len(lessons)
    present: Counter[str] = Counter()
    valued: Counter[str] = Counter()
    values: dict[str, list[Any]] = {}
    missing: dict[str, list[str]] = {}
    for data in lessons.values():
        for key, value in data.items():
            present[str(key)] += 1
            if value is not None and value != "":
                valued[str(key)] += 1
            values.setdefault(str(key), []).append(value)
    for rel, data in lessons.items():
        for key in present:
            if data.get(key) is None or data.get(key) == "":
                missing.setdefault(key, []).append(rel)
    out = [
        f"# Frontmatter schema inferred by `coursecheck init` from {total} lessons: fields that at least 90%",
        "# of them give a value are required, enums only where each value recurs. Tighten it (enum,",
        "# pattern, min, max): see `coursecheck rule frontmatter/field-type`.",
    ]
    if site_schema_file:
        out.append(f"# Optional fields and enums of the site's content schema ({site_schema_file}) are kept.")
    for name, _count in sorted(present.items(), key=lambda item: (-item[1], item[0])):
        found = values[name]
        kind = _infer_type(found)
        declared = site.get(name, {})
        lines = [f"[frontmatter.fields.{_toml_key(name)}]", f'type = "{kind}"']
        if kind == "list":
            items = _infer_type([item for v in found if isinstance(v, list) for item in v])
            if items != "any":
                lines.append(f'items = "{items}"')
        lacking = missing.get(name, [])
        if valued[name] / total >= 0.9:
            if declared.get("optional"):
                lines.insert(1, "# optional in the site's content schema")
            elif lacking and all(rel in module_first for rel in lacking):
                lines.insert(1, f"# given by {valued[name]} of {total} lessons; the others open their module")
            else:
                lines.append("required = true")
        enum = declared.get("enum")
        if kind == "string" and enum:
            lines.append(f"enum = [{', '.join(_toml_value(v) for v in enum)}]")
        elif kind == "string":
            inferred = _infer_enum([v for v in found if isinstance(v, str)])
            if inferred:
                lines.append(f"enum = [{', '.join(_toml_value(v) for v in inferred)}]")
        out += [*lines, ""]
    return "\n".join(out).rstrip()


def _infer_enum(found: list[str]) -> list[str] | None:
    """A closed set of values: 2 to 8 of them over 5 uses or more, each used twice or more
    (case variants counted together, written as most lessons write them)."""
    if len(found) < 5:
        return None
    groups: dict[str, Counter[str]] = {}
    for value in found:
        groups.setdefault(value.strip().lower(), Counter())[value] += 1
    if not 2 <= len(groups) <= ENUM_MAX_VALUES:
        return None
    if any(sum(c.values()) < ENUM_MIN_USES for c in groups.values()):
        return None
    if any(_NOT_ENUM_VALUE.search(v) or len(v) > 40 or len(v.split()) > 3 for v in found):
        return None
    return sorted(c.most_common(1)[0][0] for c in groups.values())


@hookimpl
def coursecheck_init_sections(survey: Any) -> str | None:
    lessons = getattr(survey, "frontmatter", None) or {}
    text = infer_schema_toml(
        lessons,
        module_first=getattr(survey, "module_first", frozenset()),
        site_schema=getattr(survey, "content_schema", None),
        site_schema_file=getattr(survey, "content_schema_file", ""),
    )
    return text or None
