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
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from coursecheck.text import LineIndex, Span

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import Node, ScalarNode

# ruamel.yaml is imported on first use: a warm run served from the cache parses no YAML.

_TAG = "tag:yaml.org,2002:"


class YamlProblem(Exception):
    """YAML that cannot be read. ``limit`` is set when it is valid YAML that crosses one of
    the :class:`YamlLimits` (the message says which, and the offset is where)."""

    def __init__(self, message: str, offset: int, *, limit: bool = False) -> None:
        super().__init__(message)
        self.offset = offset
        self.limit = limit


@dataclass(frozen=True, slots=True)
class YamlLimits:
    """What a YAML document of a repository may cost, checked before it is composed.

    ``max_depth``: collections inside collections. The YAML composer recurses in C once per
    level (80 KB of ``[`` crashed the process with SIGSEGV) and libyaml's scanner is
    quadratic in the depth of flow collections, so a deep document is refused before either
    sees it. ``max_alias_nodes``: the nodes that aliases add, each alias counting every node of
    what it repeats. Every copy gets its own value and places here, so nine levels of nine
    aliases (364 bytes, the "billion laughs") would build 9**9 of them.
    """

    max_depth: int
    max_alias_nodes: int
    what: str  # "frontmatter" or "a data file", for the messages


# Real frontmatter nests a few levels (a list of mappings of lists is 3) and uses aliases, if
# ever, for a value or two.
FRONTMATTER_LIMITS = YamlLimits(max_depth=32, max_alias_nodes=1_000, what="frontmatter")
# Data files (dashboards, quizzes, glossaries) nest deeper (a Grafana dashboard about 10
# levels) and may repeat a shared block with an alias per entry.
DATA_LIMITS = YamlLimits(max_depth=100, max_alias_nodes=100_000, what="a data file")

# With this many ``*`` characters at most, aliases cannot add more than about 20 times the
# document's own nodes (3**(8/3)): the event scan is skipped. Most frontmatter has none.
_UNCHECKED_ALIASES = 8
# Where a line's block nesting starts: indentation and the "- ", "? " and ": " indicators.
_BLOCK_PREFIX = re.compile(r"^[ ?:-]*", re.M)


@lru_cache(maxsize=1)
def _composer() -> YAML:
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=False)  # the C parser, when ruamel.yaml.clib is installed
    except Exception:  # pragma: no cover - platforms without the C extension
        return YAML(typ="safe", pure=True)


def _may_cross(text: str, limits: YamlLimits) -> bool:
    """Whether ``text`` may cross ``limits``, told from its characters in linear time.

    Flow nesting needs a ``[`` or ``{`` per level. A nested block collection starts further
    right than its parent, or at the same column once (a sequence as a mapping's value), so
    block nesting is at most twice the widest line prefix of indentation and indicators.
    """
    if text.count("*") > _UNCHECKED_ALIASES:
        return True
    flow = text.count("[") + text.count("{")
    if flow > limits.max_depth:
        return True
    widest = max((len(m) for m in _BLOCK_PREFIX.findall(text)), default=0)
    return flow + 2 * (widest + 1) > limits.max_depth


def _check_limits(text: str, limits: YamlLimits, offset_of: Any) -> None:
    """Scan the parser's events (not the composed nodes) and raise :class:`YamlProblem` at the
    first event that crosses ``limits``: the nesting depth, or the nodes aliases add.

    Linear in the events read: each collection's expanded size is summed as it closes, each
    alias adds its anchor's size (capped, so the sums stay small numbers). The scan stops at
    the crossing: libyaml reads at most about 1,024 characters ahead of the event it gives.
    Syntax errors are left to the composer, which reports them as before.
    """
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        DocumentStartEvent,
        ScalarEvent,
    )

    cap = limits.max_alias_nodes + 1
    sizes: dict[str, int] = {}  # anchor -> nodes of its expansion (at most ``cap``)
    stack: list[list[Any]] = []  # open collections: [anchor, nodes so far]
    added = 0
    try:
        for event in _composer().parse(text):
            if isinstance(event, ScalarEvent):
                if event.anchor:
                    sizes[event.anchor] = 1
                if stack:
                    stack[-1][1] += 1
            elif isinstance(event, CollectionStartEvent):
                if len(stack) >= limits.max_depth:
                    raise YamlProblem(
                        f"YAML nests more than {limits.max_depth} levels deep here, the limit for "
                        f"{limits.what}; flatten the structure",
                        offset_of(event.start_mark),
                        limit=True,
                    )
                stack.append([event.anchor, 1])
            elif isinstance(event, CollectionEndEvent):
                anchor, size = stack.pop()
                if anchor:
                    sizes[anchor] = size
                if stack:
                    stack[-1][1] = min(stack[-1][1] + size, cap)
            elif isinstance(event, AliasEvent):
                name = event.anchor
                if name in sizes:
                    size = sizes[name]
                elif any(entry[0] == name for entry in stack):
                    raise YamlProblem(
                        f"alias *{name} is inside the node &{name} it repeats (a structure without end)",
                        offset_of(event.start_mark),
                        limit=True,
                    )
                else:
                    continue  # an undefined alias: the composer reports it
                added += size
                if added > limits.max_alias_nodes:
                    repeats = f"{'more than ' if size >= cap else ''}{min(size, cap - 1):,}"
                    raise YamlProblem(
                        f"aliases here would repeat more than {limits.max_alias_nodes:,} nodes (*{name} alone "
                        f"repeats {repeats}), the limit for {limits.what}; write the values out instead",
                        offset_of(event.start_mark),
                        limit=True,
                    )
                if stack:
                    stack[-1][1] = min(stack[-1][1] + size, cap)
            elif isinstance(event, DocumentStartEvent):
                sizes.clear()
    except YAMLError:
        return


def load_with_places(
    text: str, index: LineIndex, base_offset: int, limits: YamlLimits = DATA_LIMITS
) -> tuple[Any, dict[tuple[Any, ...], Span]]:
    """Parse ``text`` (which starts at ``base_offset`` of the file indexed by ``index``).

    Returns plain data and a map from key paths to spans: ``(*path, "#key")`` for a key,
    ``path`` for a value or list item. Raises :class:`YamlProblem` with the file offset, also
    when the document crosses ``limits`` (checked before it is composed).
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    base_line, _, _ = index.position(base_offset)

    def offset_of(mark: Any) -> int:
        line = min(base_line + mark.line, index.line_count)
        return index.line_start(line) + min(mark.column, len(index.line_text(line)))

    if _may_cross(text, limits):
        _check_limits(text, limits, offset_of)
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

    # Aliases share their node: a node built again is a copy. The event scan bounded them;
    # this budget is the backstop should that scan have been skipped or fooled.
    budget = [2 * len(text) + 16 + limits.max_alias_nodes]

    def build(n: Node, path: tuple[Any, ...], depth: int) -> Any:
        budget[0] -= 1
        if depth > limits.max_depth or budget[0] < 0:
            what = (
                f"nests more than {limits.max_depth} levels deep"
                if depth > limits.max_depth
                else f"repeats more than {limits.max_alias_nodes:,} nodes through aliases"
            )
            raise YamlProblem(
                f"YAML {what} here, the limit for {limits.what}", offset_of(n.start_mark), limit=True
            )
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
                key_path = (*path, key)
                places[key_path + ("#key",)] = span_of(key_node)  # noqa: RUF005  (mypy takes d[(*a, b)] for 3.11 syntax)
                places[key_path] = span_of(value_node)
                result[key] = build(value_node, key_path, depth + 1)
            return result
        if isinstance(n, SequenceNode):
            items = []
            for i, item in enumerate(n.value):
                item_path = (*path, i)
                places[item_path] = span_of(item)
                items.append(build(item, item_path, depth + 1))
            return items
        return _scalar(cast("ScalarNode", n))

    try:
        data = build(node, (), 0)
    except YamlProblem:
        if "*" in text:  # aliases (the event scan was skipped): it names the alias that crossed
            _check_limits(text, limits, offset_of)
        raise
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
