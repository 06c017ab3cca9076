"""YAML (frontmatter and data files) with the position of every key, value and list item.

ruamel.yaml's round-trip loader records 0-based line/column of keys, values and items; we
turn them into :class:`~coursecheck.text.Span` objects of the original file and plain Python
data (dicts, lists, scalars) for rules to read.
"""

from __future__ import annotations

import datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from coursecheck.text import LineIndex, Span


class YamlProblem(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _loader() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    return yaml


def load_with_places(text: str, index: LineIndex, base_offset: int) -> tuple[Any, dict[tuple[Any, ...], Span]]:
    """Parse ``text`` (which starts at ``base_offset`` of the file indexed by ``index``).

    Returns plain data and a map from key paths to spans. Raises :class:`YamlProblem` with
    the file offset of the error.
    """
    base_line, _, _ = index.position(base_offset)
    try:
        node = _loader().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        offset = base_offset
        if mark is not None:
            line = base_line + mark.line
            line = min(line, index.line_count)
            offset = index.line_start(line) + min(mark.column, len(index.line_text(line)))
        problem = exc.problem or exc.context or "invalid YAML"
        context = ""
        if exc.context and exc.problem:
            context = f" ({exc.context}"
            start = exc.context_mark
            if start is not None and mark is not None and start.line != mark.line:
                context += f" started at line {min(base_line + start.line, index.line_count)}"
            context += ")"
        raise YamlProblem(f"{problem}{context}", offset) from None
    except YAMLError as exc:  # errors without a mark
        raise YamlProblem(str(exc).splitlines()[0] if str(exc) else "invalid YAML", base_offset) from None
    places: dict[tuple[Any, ...], Span] = {}
    data = _walk(node, (), places, index, base_line)
    return data, places


def _point(index: LineIndex, base_line: int, line0: int, col0: int) -> int:
    line = min(base_line + line0, index.line_count)
    return index.line_start(line) + col0


def _scalar_end(source: str, start: int, value: Any) -> int:
    """Best end offset of a scalar written at ``start``: the closing quote, or its text."""
    if start >= len(source):
        return start
    ch = source[start]
    if ch in "\"'":
        i = start + 1
        while i < len(source) and source[i] != "\n":
            if source[i] == "\\" and ch == '"':
                i += 2
                continue
            if source[i] == ch:
                if ch == "'" and source[i + 1 : i + 2] == "'":
                    i += 2
                    continue
                return i + 1
            i += 1
        return i
    if isinstance(value, (str, int, float, bool)):
        eol = source.find("\n", start)
        eol = len(source) if eol == -1 else eol
        line = source[start:eol]
        written = line.split(" #", 1)[0].rstrip()
        for stop in (",", "]", "}"):
            # In flow collections a plain scalar stops at these.
            cut = written.find(stop)
            if cut != -1 and str(value).find(stop) == -1:
                written = written[:cut].rstrip()
        return start + len(written)
    return start


def _walk(
    node: Any,
    path: tuple[Any, ...],
    places: dict[tuple[Any, ...], Span],
    index: LineIndex,
    base_line: int,
) -> Any:
    source = index.text
    if isinstance(node, CommentedMap):
        result: dict[str, Any] = {}
        for key, value in node.items():
            key_path = (*path, key)
            try:
                kl, kc = node.lc.key(key)
                key_start = _point(index, base_line, kl, kc)
                places[(*key_path, "#key")] = index.span(key_start, key_start + len(str(key)))
                vl, vc = node.lc.value(key)
                value_start = _point(index, base_line, vl, vc)
                if isinstance(value, (CommentedMap, CommentedSeq)):
                    places[key_path] = index.span(value_start)
                else:
                    places[key_path] = index.span(value_start, _scalar_end(source, value_start, value))
            except (AttributeError, KeyError, TypeError, IndexError):
                pass
            result[key] = _walk(value, key_path, places, index, base_line)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            item_path = (*path, i)
            try:
                il, ic = node.lc.item(i)
                item_start = _point(index, base_line, il, ic)
                end = (
                    item_start
                    if isinstance(value, (CommentedMap, CommentedSeq))
                    else _scalar_end(source, item_start, value)
                )
                places[item_path] = index.span(item_start, end)
            except (AttributeError, KeyError, TypeError, IndexError):
                pass
            items.append(_walk(value, item_path, places, index, base_line))
        return items
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node.isoformat()
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node
