"""YAML (frontmatter and data files) with the position of every key, value and list item.

We ask ruamel.yaml to *compose* the document (nodes with start and end marks) rather than to
load it, and build plain Python data from the nodes ourselves: composing with ruamel's C
parser (ruamel.yaml.clib) takes about 0.2 ms for a lesson's frontmatter, where a round-trip
load takes 8 ms — on a 5,000-lesson course that is the difference between 1 s and 40 s.
Marks are 0-based lines and columns in code points; we turn them into
:class:`~coursecheck.text.Span` objects of the original file.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from coursecheck.text import LineIndex, Span

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import Node, ScalarNode

# ruamel.yaml is imported on first use: a warm run served from the cache parses no YAML.

_TAG = "tag:yaml.org,2002:"


class YamlProblem(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@lru_cache(maxsize=1)
def _composer() -> YAML:
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=False)  # the C parser, when ruamel.yaml.clib is installed
    except Exception:  # pragma: no cover - platforms without the C extension
        return YAML(typ="safe", pure=True)


def load_with_places(text: str, index: LineIndex, base_offset: int) -> tuple[Any, dict[tuple[Any, ...], Span]]:
    """Parse ``text`` (which starts at ``base_offset`` of the file indexed by ``index``).

    Returns plain data and a map from key paths to spans: ``(*path, "#key")`` for a key,
    ``path`` for a value or list item. Raises :class:`YamlProblem` with the file offset.
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    base_line, _, _ = index.position(base_offset)

    def offset_of(mark: Any) -> int:
        line = min(base_line + mark.line, index.line_count)
        return index.line_start(line) + min(mark.column, len(index.line_text(line)))

    try:
        node = _composer().compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        offset = offset_of(mark) if mark is not None else base_offset
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
    except RecursionError:
        raise YamlProblem("YAML is nested too deeply to read", base_offset) from None
    places: dict[tuple[Any, ...], Span] = {}
    if node is None:
        return None, places

    def span_of(n: Node) -> Span:
        return index.span(offset_of(n.start_mark), offset_of(n.end_mark))

    def build(n: Node, path: tuple[Any, ...], depth: int) -> Any:
        if depth > 200:
            raise YamlProblem("YAML is nested too deeply to read", offset_of(n.start_mark))
        if isinstance(n, MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in n.value:
                key = build(key_node, (), depth + 1) if not isinstance(key_node, ScalarNode) else _scalar(key_node)
                if key_node.tag == _TAG + "merge" and isinstance(value_node, MappingNode):
                    merged = build(value_node, path, depth + 1)
                    for k, v in merged.items():
                        result.setdefault(k, v)
                    continue
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    key = str(key)
                if key in result:
                    raise YamlProblem(f'duplicate key "{key}"', offset_of(key_node.start_mark))
                places[(*path, key, "#key")] = span_of(key_node)
                places[(*path, key)] = span_of(value_node)
                result[key] = build(value_node, (*path, key), depth + 1)
            return result
        if isinstance(n, SequenceNode):
            items = []
            for i, item in enumerate(n.value):
                places[(*path, i)] = span_of(item)
                items.append(build(item, (*path, i), depth + 1))
            return items
        return _scalar(n)

    data = build(node, (), 0)
    return data, places


def _scalar(node: ScalarNode) -> Any:
    """Plain Python value of a scalar, by the tag the YAML resolver gave it."""
    value = node.value
    tag = node.tag or ""
    kind = tag[len(_TAG) :] if tag.startswith(_TAG) else "str"
    if kind == "null":
        return None
    if kind == "bool":
        return value.lower() in ("true", "yes", "on", "y")
    if kind == "int":
        text = value.replace("_", "")
        try:
            if text.startswith(("0o", "0x", "0b", "-0x", "+0x")):
                return int(text, 0)
            return int(text, 8) if len(text) > 1 and text.startswith("0") and text.isdigit() else int(text)
        except ValueError:
            return value
    if kind == "float":
        lowered = value.lower().replace("_", "")
        if lowered in (".inf", "+.inf"):
            return math.inf
        if lowered == "-.inf":
            return -math.inf
        if lowered == ".nan":
            return math.nan
        try:
            return float(lowered)
        except ValueError:
            return value
    return value  # str, timestamp (kept as written), binary...
