"""Pickles someone else wrote (shard artifacts), loaded as plain data and nothing more.

``pickle.loads`` builds whatever a pickle names and calls what it is told to: a pickle is a
program. A shard artifact comes from another CI job, maybe one that ran a fork's pull
request, and is read by the job holding the SARIF upload permission: it must not be able to
run code there, nor to exhaust its memory or time. Three steps, each a wall of its own:

1. :func:`scan` reads every opcode before the C unpickler sees a byte: only the opcodes
   coursecheck's pickler writes (protocol 4 and 5) are allowed. Not allowed: the memo
   stores with an explicit index (``PUT``, ``BINPUT``, ``LONG_BINPUT``: the C unpickler
   grows its memo table to any index given, so 12 bytes can allocate gigabytes; CPython
   gh-115952), persistent ids, extension codes, the text opcodes of protocol 0 (``GLOBAL``,
   ``INST``...), out-of-band buffers; no length runs past the data.
2. :class:`Loader` answers ``find_class`` from an explicit registry of exact
   ``(module, name)`` pairs: plain data classes of the model whose construction and state
   setting have no side effects (findings, spans, fixes, records' parts, notifications,
   paths). No dotted names (protocol 4 resolves ``"a.b"`` attribute by attribute: any
   object reachable from an allowed module), no functions.
3. :func:`validate` walks what was built: every object of an allowed type, the fields of
   each model object of their declared types (from the dataclasses' annotations), no
   cycles, no nesting deeper than :data:`MAX_DEPTH`, and at most ``max_visits`` objects
   visited *counting shared ones each time* (pickle's memo lets a few bytes describe a
   DAG of shared lists whose traversal, later, would never end) and ``max_text``
   characters of text the same way (a shared megabyte string quoted by a million findings).
"""

from __future__ import annotations

import dataclasses
import io
import pathlib
import pickle
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from typing import Any

MAX_DEPTH = 1000


class UnsafeData(Exception):
    """A pickle that is not plain data of the allowed classes (the message says why)."""


# -- 1. the opcodes ---------------------------------------------------------------------

# Per opcode byte: the length of its fixed argument, or one of the codes below; None: refused.
_COUNTED1, _COUNTED4, _COUNTED8, _LONG4, _STOP = -1, -4, -8, -5, -100
_MAX_LONG4 = 1024  # bytes of a long integer (~2,500 digits; str() of an int stops at 4,300)
_ARGS: list[int | None] = [None] * 256
for _code, _arg in {
    b"\x80": 1,  # PROTO
    b"\x95": 8,  # FRAME (its content is opcodes: scanned on)
    b"(": 0,  # MARK
    b"0": 0,  # POP
    b"1": 0,  # POP_MARK
    b"2": 0,  # DUP
    b"N": 0,  # NONE
    b"\x88": 0,  # NEWTRUE
    b"\x89": 0,  # NEWFALSE
    b"J": 4,  # BININT
    b"K": 1,  # BININT1
    b"M": 2,  # BININT2
    b"\x8a": _COUNTED1,  # LONG1
    b"\x8b": _LONG4,  # LONG4
    b"G": 8,  # BINFLOAT
    b"\x8c": _COUNTED1,  # SHORT_BINUNICODE
    b"X": _COUNTED4,  # BINUNICODE
    b"\x8d": _COUNTED8,  # BINUNICODE8
    b"C": _COUNTED1,  # SHORT_BINBYTES
    b"B": _COUNTED4,  # BINBYTES
    b"\x8e": _COUNTED8,  # BINBYTES8
    b"]": 0,  # EMPTY_LIST
    b"a": 0,  # APPEND
    b"e": 0,  # APPENDS
    b"l": 0,  # LIST
    b")": 0,  # EMPTY_TUPLE
    b"t": 0,  # TUPLE
    b"\x85": 0,  # TUPLE1
    b"\x86": 0,  # TUPLE2
    b"\x87": 0,  # TUPLE3
    b"}": 0,  # EMPTY_DICT
    b"d": 0,  # DICT
    b"s": 0,  # SETITEM
    b"u": 0,  # SETITEMS
    b"\x8f": 0,  # EMPTY_SET
    b"\x90": 0,  # ADDITEMS
    b"\x91": 0,  # FROZENSET
    b"\x94": 0,  # MEMOIZE (the next index: the memo grows one by one)
    b"h": 1,  # BINGET
    b"j": 4,  # LONG_BINGET
    b"\x93": 0,  # STACK_GLOBAL (answered by the registry)
    b"R": 0,  # REDUCE (calls an allowed class)
    b"b": 0,  # BUILD
    b"\x81": 0,  # NEWOBJ
    b"\x92": 0,  # NEWOBJ_EX
    b".": _STOP,
}.items():
    _ARGS[_code[0]] = _arg

_NAMES = {
    ord("p"): "PUT",
    ord("q"): "BINPUT",
    ord("r"): "LONG_BINPUT",
    ord("c"): "GLOBAL",
    ord("i"): "INST",
    ord("o"): "OBJ",
    ord("P"): "PERSID",
    ord("Q"): "BINPERSID",
    0x82: "EXT1",
    0x83: "EXT2",
    0x84: "EXT4",
    0x96: "BYTEARRAY8",
    0x97: "NEXT_BUFFER",
    0x98: "READONLY_BUFFER",
}


def scan(data: bytes) -> None:
    """Raise :class:`UnsafeData` unless ``data`` is one pickle of the allowed opcodes whose
    arguments all lie within it (see the module doc)."""
    args = _ARGS
    end = len(data)
    i = 0
    while i < end:
        op = data[i]
        arg = args[op]
        i += 1
        if arg is None:
            name = _NAMES.get(op, f"opcode {op:#04x}")
            raise UnsafeData(f"it holds the pickle opcode {name} at byte {i - 1}, which coursecheck never writes")
        if arg >= 0:
            i += arg
        elif arg == _COUNTED1:
            if i >= end:
                break
            i += 1 + data[i]
        elif arg == _COUNTED4:
            i += 4 + int.from_bytes(data[i : i + 4], "little")
        elif arg == _COUNTED8:
            i += 8 + int.from_bytes(data[i : i + 8], "little")
        elif arg == _LONG4:
            count = int.from_bytes(data[i : i + 4], "little", signed=True)
            if not 0 <= count <= _MAX_LONG4:
                raise UnsafeData(f"it holds an integer of {count} bytes at byte {i - 1}")
            i += 4 + count
        else:  # STOP
            if i != end:
                raise UnsafeData(f"{end - i} bytes follow the end of the pickle")
            return
    raise UnsafeData("the pickle is truncated")


# -- 2. the classes ---------------------------------------------------------------------


def _model_classes() -> dict[tuple[str, str], type]:
    """The registry: plain data classes of the model (no side effects when built or
    given their state), by the exact ``(module, name)`` a pickle names them with."""
    from coursecheck import declarative, glossary, model, results, text

    classes: list[type] = [
        results.FileResult,
        model.Finding,
        model.Fix,
        model.Edit,
        model.Suppression,
        model.Segment,
        model.Heading,
        model.Link,
        model.Prop,
        model.Component,
        model.Comment,
        model.Frontmatter,
        model.CodeBlock,
        text.Span,
        text._UnpickledSpan,  # Span.__reduce__ restores through it (a class, not a function)
        results.Notification,
        declarative.RuleStats,  # the no-op report's counts in summaries
        glossary.EntryRenderings,  # bilingual/inconsistent-rendering's summary
    ]
    out = {(cls.__module__, cls.__qualname__): cls for cls in classes}
    for cls in _PATHS:
        out[(cls.__module__, cls.__qualname__)] = cls
        out[("pathlib", cls.__qualname__)] = cls  # how Python < 3.13 names them
    return out


_PATHS: tuple[type, ...] = (pathlib.PurePosixPath, pathlib.PosixPath, pathlib.PureWindowsPath)
if sys.platform == "win32":  # pragma: no cover
    _PATHS = (pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.WindowsPath)


@lru_cache(maxsize=1)
def model_classes() -> Mapping[tuple[str, str], type]:
    return types.MappingProxyType(_model_classes())


class Loader(pickle.Unpickler):
    """An unpickler that builds only the classes of the registry (and, for an artifact
    whose MAC was verified, the classes of ``extra_modules``: the loaded plugins')."""

    def __init__(self, data: bytes, *, extra_modules: Iterable[str] = ()) -> None:
        super().__init__(io.BytesIO(data))
        self._classes = model_classes()
        self._extra = frozenset(extra_modules)
        self.extra_classes: set[type] = set()  # plugin classes built (validate() walks them)

    def find_class(self, module: str, name: str) -> Any:
        found = self._classes.get((module, name))
        if found is not None:
            return found
        if module in self._extra and "." not in name:
            candidate = getattr(sys.modules.get(module), name, None)
            if isinstance(candidate, type) and candidate.__module__ == module:
                self.extra_classes.add(candidate)
                return candidate
        raise UnsafeData(f"it contains {module}.{name}, which a coursecheck shard never writes; not loaded")

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafeData("it contains a persistent id, which a coursecheck shard never writes")


def loads(data: bytes, *, extra_modules: Iterable[str] = ()) -> tuple[Any, set[type]]:
    """``data`` scanned (:func:`scan`) and loaded with the registry; returns the value and
    the plugin classes it used. Not validated yet: see :func:`validate`."""
    scan(data)
    loader = Loader(data, extra_modules=extra_modules)
    try:
        value = loader.load()
    except UnsafeData:
        raise
    except RecursionError:
        raise UnsafeData("it is nested too deeply") from None
    except Exception as exc:
        raise UnsafeData(f"it does not load ({type(exc).__name__}: {exc})") from None
    return value, loader.extra_classes


# -- 3. the shapes ----------------------------------------------------------------------

# A schema is a tuple: ("any",), ("leaf", types), ("list", item), ("tuples", item),
# ("tuple", items), ("dict", key, value), ("set", item), ("union", alternatives),
# ("object", class).
ANY: tuple[Any, ...] = ("any",)
_NONE = type(None)
_LEAVES = frozenset({str, int, float, bool, _NONE, bytes})
_SEQUENCES = frozenset({list, tuple, set, frozenset})


def schema(annotation: Any) -> tuple[Any, ...]:
    """The schema of a type annotation (``list[Heading]``, ``str | None``, ``Any``...);
    an annotation it does not know is :data:`ANY` (still only allowed types inside)."""
    if annotation is Any or annotation is typing.Any:
        return ANY
    if annotation is None or annotation is _NONE:
        return ("leaf", (_NONE,))
    if annotation is float:
        return ("leaf", (float, int, bool))
    if annotation is int:
        return ("leaf", (int, bool))
    if annotation in (str, bool, bytes):
        return ("leaf", (annotation,))
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or origin is getattr(types, "UnionType", None):
        return ("union", tuple(schema(a) for a in args))
    if origin is list:
        return ("list", schema(args[0]) if args else ANY)
    if origin is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return ("tuples", schema(args[0]) if args else ANY)
        return ("tuple", tuple(schema(a) for a in args))
    if origin is dict:
        return ("dict", schema(args[0]), schema(args[1])) if args else ("dict", ANY, ANY)
    if origin in (set, frozenset):
        return ("set", schema(args[0]) if args else ANY)
    if isinstance(annotation, type):
        if annotation in set(model_classes().values()):
            return ("object", annotation)
        if issubclass(annotation, pathlib.PurePath):
            return ("leaf", _PATHS)
    return ANY


@lru_cache(maxsize=1)
def _overrides() -> dict[tuple[type, str], tuple[Any, ...]]:
    """Field schemas the annotations do not say precisely enough: a file result's record
    parts are a dict of exactly the record's fields (coursecheck.records.FIELD_TYPES)."""
    from coursecheck.records import FIELD_TYPES
    from coursecheck.results import FileResult

    record = ("fields", {name: schema(annotation) for name, annotation in FIELD_TYPES.items()})
    return {(FileResult, "fields"): ("union", (("leaf", (_NONE,)), record))}


@cache
def fields_of(cls: type) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """(name, schema) of each field of a model class."""
    if not dataclasses.is_dataclass(cls):
        return ()
    hints = typing.get_type_hints(cls)
    overrides = _overrides()
    return tuple(
        (f.name, overrides.get((cls, f.name)) or schema(hints.get(f.name, Any))) for f in dataclasses.fields(cls)
    )


def _unpickled_span() -> type:
    from coursecheck.text import _UnpickledSpan

    return _UnpickledSpan


def _matches(kind: str, sch: tuple[Any, ...], t: type) -> bool:
    """Whether a value of type ``t`` can be what the alternative ``sch`` describes."""
    if kind == "any":
        return True
    if kind == "leaf":
        return t in sch[1]
    if kind == "list":
        return t is list
    if kind in ("tuple", "tuples"):
        return t is tuple
    if kind == "dict" or kind == "fields":
        return t is dict
    if kind == "set":
        return t in (set, frozenset)
    if kind == "object":
        return t is sch[1]
    return False


class _Exit:
    __slots__ = ("ident",)

    def __init__(self, ident: int) -> None:
        self.ident = ident


def validate(
    value: Any,
    sch: tuple[Any, ...],
    *,
    max_visits: int,
    max_text: int,
    extra_classes: Iterable[type] = (),
    max_depth: int = MAX_DEPTH,
) -> None:
    """Raise :class:`UnsafeData` unless ``value`` fits ``sch`` (see the module doc)."""
    classes = frozenset(model_classes().values()) - {_unpickled_span()}
    extra = frozenset(extra_classes)
    stack: list[Any] = [(value, sch, 0)]
    on_path: set[int] = set()
    visits = text = 0
    while stack:
        item = stack.pop()
        if type(item) is _Exit:
            on_path.discard(item.ident)
            continue
        node, sch, depth = item
        visits += 1
        if visits > max_visits:
            raise UnsafeData(
                f"it holds more than {max_visits:,} objects (counting shared ones each time they are used)"
            )
        t = type(node)
        kind = sch[0]
        if kind == "union":
            for alternative in sch[1]:
                if _matches(alternative[0], alternative, t):
                    sch = alternative
                    kind = sch[0]
                    break
            else:
                raise UnsafeData(f"it holds a {t.__name__} where {_describe(sch)} belongs")
        if t in _LEAVES:
            if kind != "any" and not (kind == "leaf" and t in sch[1]):
                raise UnsafeData(f"it holds a {t.__name__} where {_describe(sch)} belongs")
            if t is str or t is bytes:
                text += len(node)
                if text > max_text:
                    raise UnsafeData(f"it holds more than {max_text:,} characters of text (counting shared ones)")
            continue
        if kind == "leaf":
            if t not in sch[1]:
                raise UnsafeData(f"it holds a {t.__name__} where {_describe(sch)} belongs")
            continue  # a path
        if kind == "any":
            if t in _SEQUENCES:
                sch = ("list", ANY)
            elif t is dict:
                sch = ("dict", ANY, ANY)
            elif t in classes:
                sch = ("object", t)
            elif t in _PATHS:
                continue
            elif t in extra:
                sch = ("extra",)
            else:
                raise UnsafeData(f"it holds a {t.__module__}.{t.__qualname__}, which a coursecheck shard never writes")
            kind = sch[0]
        elif not _matches(kind, sch, t):
            raise UnsafeData(f"it holds a {t.__name__} where {_describe(sch)} belongs")
        if depth >= max_depth:
            raise UnsafeData(f"it is nested more than {max_depth} levels deep")
        ident = id(node)
        if ident in on_path:
            raise UnsafeData("it holds a cycle (an object that contains itself), which coursecheck never writes")
        on_path.add(ident)
        stack.append(_Exit(ident))
        depth += 1
        if kind == "list" or kind == "set" or kind == "tuples":
            inner = sch[1]
            for child in node:
                stack.append((child, inner, depth))
        elif kind == "tuple":
            if len(node) != len(sch[1]):
                raise UnsafeData(f"it holds a tuple of {len(node)} items where {_describe(sch)} belongs")
            for child, inner in zip(node, sch[1], strict=True):
                stack.append((child, inner, depth))
        elif kind == "dict":
            key_schema, value_schema = sch[1], sch[2]
            for key, child in node.items():
                stack.append((key, key_schema, depth))
                stack.append((child, value_schema, depth))
        elif kind == "fields":
            wanted = sch[1]
            if node.keys() != wanted.keys():
                missing, unknown = sorted(wanted.keys() - node.keys()), sorted(map(repr, node.keys() - wanted.keys()))
                raise UnsafeData(f"it holds a file's record without {missing} or with {unknown}")
            for name, child in node.items():
                stack.append((child, wanted[name], depth))
        elif kind == "object":
            names = fields_of(t)  # type: ignore[arg-type]
            state = getattr(node, "__dict__", None)
            if state is not None and set(state) != {name for name, _ in names}:
                raise UnsafeData(f"it holds a {t.__name__} with other attributes than its fields")
            for name, inner in names:
                try:
                    child = getattr(node, name)
                except AttributeError:
                    raise UnsafeData(f"it holds a {t.__name__} without its field {name}") from None
                stack.append((child, inner, depth))
        else:  # a plugin's class (artifacts with a verified MAC only): what it holds
            for child in _state_of(node):
                stack.append((child, ANY, depth))


def _state_of(node: Any) -> list[Any]:
    out: list[Any] = list(getattr(node, "__dict__", {}).values())
    for cls in type(node).__mro__:
        for name in cls.__dict__.get("__slots__", ()):
            if hasattr(node, name):
                out.append(getattr(node, name))
    if isinstance(node, dict):
        out.extend(node.keys())
        out.extend(node.values())
    elif isinstance(node, (list, tuple, set, frozenset)):
        out.extend(node)
    return out


def _describe(sch: tuple[Any, ...]) -> str:
    kind = sch[0]
    if kind == "leaf":
        return " or ".join(t.__name__ for t in sch[1])
    if kind == "object":
        return f"a {sch[1].__name__}"
    if kind == "union":
        return " or ".join(_describe(s) for s in sch[1])
    if kind in ("tuple", "tuples"):
        return "a tuple" + (f" of {len(sch[1])} items" if kind == "tuple" else "")
    if kind == "fields":
        return "a file's record"
    if kind == "set":
        return "a set"
    return f"a {kind}"
