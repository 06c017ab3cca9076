"""Mermaid diagrams of a document: fenced ```` ```mermaid ```` blocks and the JSX components
configured to hold charts (``[mermaid] components``), with the chart text at its source
positions.

A toolkit below the rule families: the mermaid rules check these diagrams, the must-haves
count them, the Markdown report's statistics show them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coursecheck.config import Config
from coursecheck.model import Document, Segment
from coursecheck.text import Span

DEFAULT_COMPONENTS: tuple[str, ...] = ("Mermaid.chart",)


# -- the public helper -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Diagram:
    """One Mermaid diagram of a document.

    ``origin`` is ``"fence"`` or the ``"Component.prop"`` it came from. ``segment`` holds the
    chart text with its source positions; it is None when the prop is a JS expression
    (``chart={diagramVar}``) or missing, whose text coursecheck cannot read. ``span`` is the
    fence (opening to closing) or the component's opening tag.
    """

    origin: str
    segment: Segment | None
    span: Span

    @property
    def text(self) -> str:
        return self.segment.text if self.segment is not None else ""

    @property
    def is_literal(self) -> bool:
        """True when the chart text is written in the lesson (fence, string or template)."""
        return self.segment is not None

    @property
    def is_empty(self) -> bool:
        """No chart at all: blank text, only ``%%`` comments, or no chart prop. A chart held in
        a JS expression is not empty (its content is just not visible to coursecheck)."""
        if self.segment is None:
            return self.origin != "fence" and self.origin.endswith("#missing")
        return _first_statement(self.segment.text) is None

    @property
    def kind(self) -> str:
        """The diagram type: first word of the first statement (``flowchart``), or ``""``."""
        first = _first_statement(self.text)
        return first[1] if first else ""


def diagrams(doc: Document, components: Iterable[str] = DEFAULT_COMPONENTS) -> list[Diagram]:
    """Every Mermaid diagram of ``doc`` in source order.

    ``components`` lists ``"Component.prop"`` names (``"Mermaid.chart"``): a component with
    that name is a diagram whose chart is that prop. Fenced code blocks whose language is
    ``mermaid`` are always diagrams. Empty diagrams are included (see
    :attr:`Diagram.is_empty`); count ``[d for d in diagrams(doc) if not d.is_empty]`` for
    "diagrams a reader sees".
    """
    wanted: dict[str, list[str]] = {}
    for entry in components:
        name, _, chart_prop = entry.rpartition(".")
        if name and chart_prop:
            wanted.setdefault(name, []).append(chart_prop)
    found: list[tuple[int, Diagram]] = []
    for block in doc.code_blocks:
        if block.language.lower() == "mermaid":
            found.append((_start(doc, block.span), Diagram("fence", block.segment, block.span)))
    if wanted:
        fence_starts = sorted(start for start, diagram in found)
        for comp in doc.components:
            props = wanted.get(comp.name)
            if not props:
                continue
            for prop_name in props:
                prop = comp.props.get(prop_name)
                if prop is None:
                    continue
                origin = f"{comp.name}.{prop_name}"
                segment = prop.segment if prop.kind in ("string", "template") else None
                found.append((_start(doc, comp.span), Diagram(origin, segment, comp.span)))
                break
            else:
                if _wraps_a_fence(doc, comp, fence_starts):
                    continue  # <Mermaid>```mermaid ...```</Mermaid>: the fence is the diagram
                # The component is there but no chart prop is: an empty diagram.
                origin = f"{comp.name}.{props[0]}#missing"
                found.append((_start(doc, comp.span), Diagram(origin, None, comp.span)))
    found.sort(key=lambda item: item[0])
    return [d for _, d in found]


def chart_components(config: Config) -> tuple[str, ...]:
    """The ``[mermaid] components`` of ``config`` (``("Mermaid.chart",)`` by default)."""
    section = config.sections.get("mermaid")
    if isinstance(section, dict):
        value = section.get("components")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
    return DEFAULT_COMPONENTS


def _wraps_a_fence(doc: Document, comp: Any, fence_starts: list[int]) -> bool:
    """Whether a component without its chart prop holds a fenced ```mermaid block between its
    opening tag and its closing tag (the chart as the component's children)."""
    from bisect import bisect_left

    opened = doc.lines.offset(comp.span.end_line, comp.span.end_column)
    closing = doc.source.find(f"</{comp.name}>", opened)
    if closing == -1:
        return False
    i = bisect_left(fence_starts, opened)
    return i < len(fence_starts) and fence_starts[i] < closing


def _start(doc: Document, span: Span) -> int:
    return doc.lines.offset(span.line, span.column)


# -- reading a chart -----------------------------------------------------------------------

_FIRST_WORD = re.compile(r"[ \t]*([A-Za-z][\w-]*)")


def _lines(text: str) -> list[tuple[int, str]]:
    """``(start index, line)`` for each line of ``text``."""
    out: list[tuple[int, str]] = []
    pos = 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _first_statement(text: str) -> tuple[int, str] | None:
    """Index and first word of the first statement: blank lines, ``%%`` comments and
    directives and a leading ``---`` config block are skipped. None for an empty chart."""
    lines = _lines(text)
    i = 0
    while i < len(lines) and not lines[i][1].strip():
        i += 1
    if i < len(lines) and lines[i][1].strip() == "---":
        close = next((k for k in range(i + 1, len(lines)) if lines[k][1].strip() == "---"), None)
        i = close + 1 if close is not None else len(lines)
    for start, line in lines[i:]:
        stripped = line.strip()
        if not stripped or stripped.startswith("%%"):
            continue
        m = _FIRST_WORD.match(line)
        if m is None:
            return start + len(line) - len(line.lstrip()), stripped.split()[0]
        return start + m.start(1), m.group(1)
    return None
