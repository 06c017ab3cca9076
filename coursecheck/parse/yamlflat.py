"""The YAML most frontmatter is, read without composing it: flat ``key: value`` lines whose
values are plain or simply quoted scalars, flow lists of them, or block lists of them.

Composing a lesson's frontmatter with ruamel.yaml's C parser and building its data with
places costs about 0.4 ms, a twentieth of a cold check of a typical lesson; this reader
takes a tenth of that. It accepts only a subset whose meaning is certain — the values, their
types (the scalars are resolved by ruamel.yaml's own resolver) and the places are those
:func:`coursecheck.parse.yamlpos.load_with_places` gives, which ``tests/test_yamlflat.py``
checks on generated documents and on the corpora — and answers ``None`` for anything else
(nested mappings, anchors, tags, block scalars, escapes, comments after a value, tabs,
continuation lines, duplicate keys, errors), which then takes the composer's path.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from coursecheck.parse.yamlpos import _composer, _scalar
from coursecheck.text import LineIndex, Span

# A key: a plain word (the resolver must still call it a string: ``true:``, ``1:`` are not).
_KEY = r"[A-Za-z_][A-Za-z0-9_-]*"
# A plain scalar in block context: no indicator first, no ": " or " #" inside, not ending in
# ":" (all of which YAML reads otherwise), no quotes (so that a value never looks quoted).
_PLAIN = r"[^\s\-?:,\[\]{}#&*!|>'\"%@`](?:[^\s:#'\"]|:(?=[^\s])|(?<! )#| (?=[^\s#]))*"
_DOUBLE = r'"[^"\\\n]*"'
_SINGLE = r"'[^'\n]*'"
_SCALAR = f"(?:{_DOUBLE}|{_SINGLE}|{_PLAIN})"
# Flow list items: plain scalars without the flow indicators, or quoted ones.
_FLOW_PLAIN = r"[^\s\-?:,\[\]{}#&*!|>'\"%@`](?:[^\s:#,\[\]{}'\"]|(?<! )#| (?=[^\s,\]]))*"
_FLOW_ITEM = re.compile(f"({_DOUBLE}|{_SINGLE}|{_FLOW_PLAIN}) *(,|\\]) *")
_KEY_LINE = re.compile(f"({_KEY}):(?: +({_SCALAR}|\\[[^\\n]*))? *")
_ITEM_LINE = re.compile(f"( *)- +({_SCALAR}) *")
_SKIPPED_LINE = re.compile(r" *(?:#[^\n]*)?")  # blank, or a comment alone on its line
# Characters YAML forbids in a document or that this reader leaves to the composer (tabs,
# other controls, NEL, the BOM and surrogates, non-characters).
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


@lru_cache(maxsize=1)
def _resolve() -> Any:
    from ruamel.yaml.nodes import ScalarNode

    resolver = _composer().resolver

    # Lessons repeat their keys and many values (``draft: false``): each is resolved once.
    @lru_cache(maxsize=4096)
    def resolve(value: str) -> str:
        return str(resolver.resolve(ScalarNode, value, (True, False)).value)  # the tag's text

    return resolve


class _Scalar:
    """What :func:`coursecheck.parse.yamlpos._scalar` reads of a scalar node."""

    __slots__ = ("tag", "value")

    def __init__(self, value: str, tag: str) -> None:
        self.value = value
        self.tag = tag


def _value(written: str) -> Any:
    """The value of a scalar as written: quoted ones are strings, plain ones as resolved."""
    if written[0] in "\"'":
        return written[1:-1]
    return _scalar(_Scalar(written, _resolve()(written)))  # type: ignore[arg-type]


def load_flat(text: str, index: LineIndex, base_offset: int) -> tuple[Any, dict[tuple[Any, ...], Span]] | None:
    """Data and places of ``text`` (at ``base_offset`` of the file ``index`` indexes) when it
    is flat frontmatter this reader accepts, else None. ``text`` ends with a newline."""
    if not text.endswith("\n") or _UNUSUAL.search(text) is not None:
        return None
    resolve = _resolve()
    span = index.span
    data: dict[str, Any] = {}
    places: dict[tuple[Any, ...], Span] = {}
    lines = text.split("\n")
    lines.pop()  # after the last newline
    offset = base_offset
    # The key whose value is a block list, while its items are read: (key, items, first dash,
    # indentation of its items).
    open_list: tuple[str, list[Any], int, int] | None = None
    pending_null: tuple[str, int] | None = None  # a key with no value yet: (key, after its ':')
    for line in lines:
        start = offset
        offset += len(line) + 1
        if pending_null is not None or open_list is not None:
            item = _ITEM_LINE.fullmatch(line)
            if item is not None:
                indent = len(item.group(1))
                if pending_null is not None:
                    key = pending_null[0]
                    open_list = (key, [], start + indent, indent)
                    data[key] = open_list[1]
                    pending_null = None
                assert open_list is not None
                if indent != open_list[3]:
                    return None
                written = item.group(2)
                at = start + item.start(2)
                places[(open_list[0], len(open_list[1]))] = span(at, at + len(written))
                open_list[1].append(_value(written))
                continue
        if _SKIPPED_LINE.fullmatch(line):
            continue
        if line[:1] == " ":
            return None  # a continuation line, a nested mapping: the composer reads those
        if pending_null is not None:
            key, after = pending_null
            data[key] = None
            places[(key,)] = span(after, after)
            pending_null = None
        if open_list is not None:
            places[(open_list[0],)] = span(open_list[2], start)
            open_list = None
        match = _KEY_LINE.fullmatch(line)
        if match is None:
            return None
        key = match.group(1)
        if resolve(key) != "tag:yaml.org,2002:str" or key in data:
            return None
        places[(key, "#key")] = span(start, start + len(key))
        written = match.group(2)
        if written is None:
            pending_null = (key, start + len(key) + 1)
            data[key] = None
            continue
        at = start + match.start(2)
        if written[0] == "[":
            items = _flow_list(written, at, key, places, span)
            if items is None:
                return None
            data[key] = items
            continue
        places[(key,)] = span(at, at + len(written))
        data[key] = _value(written)
    end = base_offset + len(text)
    if pending_null is not None:
        key, after = pending_null
        places[(key,)] = span(after, after)
    if open_list is not None:
        places[(open_list[0],)] = span(open_list[2], end)
    if not data:
        return None  # empty or comments only: the composer says what that is
    return data, _ordered(places)


def _flow_list(written: str, at: int, key: str, places: dict[tuple[Any, ...], Span], span: Any) -> list[Any] | None:
    """The items of a one-line flow list ``[a, "b", c]`` written at ``at``, or None."""
    items: list[Any] = []
    item_places: list[tuple[tuple[Any, ...], Span]] = []
    pos = 1
    while pos < len(written) and written[pos] == " ":
        pos += 1
    if written.startswith("]", pos):
        if written[pos + 1 :].strip(" "):
            return None
        places[(key,)] = span(at, at + pos + 1)
        return items
    while True:
        match = _FLOW_ITEM.match(written, pos)
        if match is None:
            return None
        value = match.group(1).rstrip(" ")
        item_places.append(((key, len(items)), span(at + match.start(1), at + match.start(1) + len(value))))
        items.append(_value(value))
        pos = match.end()
        if match.group(2) == "]":
            break
    if pos != len(written) or written.rstrip(" ")[-1] != "]":
        return None
    places[(key,)] = span(at, at + len(written.rstrip(" ")))
    places.update(item_places)
    return items


def _ordered(places: dict[tuple[Any, ...], Span]) -> dict[tuple[Any, ...], Span]:
    """The places in the order the composer's reader makes them: a key, its value, then the
    value's items (a block list's value is known only after its items)."""
    out: dict[tuple[Any, ...], Span] = {}
    for path, where in places.items():
        if path[-1] == "#key":
            out[path] = where
            value = (path[0],)
            if value in places:
                out[value] = places[value]
        elif len(path) > 1:
            out[path] = where
    return out
