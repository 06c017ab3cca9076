"""Mermaid diagrams: how many a lesson has, and whether each one can be drawn.

A diagram is a fenced ```` ```mermaid ```` code block, or a JSX component whose prop holds
the chart (``<Mermaid chart={`...`} />``). Which components hold charts is configured once,
for every rule of the family and for the modules that count diagrams (must-have artifacts,
the Markdown report's statistics)::

    [mermaid]
    components = ["Mermaid.chart"]      # Component.prop; the default

Other modules use :func:`~coursecheck.diagrams.diagrams` and
:func:`~coursecheck.diagrams.chart_components` (a toolkit below the rule families)::

    from coursecheck.diagrams import chart_components, diagrams
    count = sum(1 for d in diagrams(doc, chart_components(config)) if not d.is_empty)

The syntax checks read the chart text exactly as it is written in the lesson (a template
literal's ``\\n`` stays two characters), so every position is a position of the lesson.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from coursecheck import hookimpl
from coursecheck.config import Config, did_you_mean
from coursecheck.config.schema import Key, Section
from coursecheck.diagrams import DEFAULT_COMPONENTS, Diagram, _first_statement, _lines, chart_components, diagrams
from coursecheck.escape import toml_string
from coursecheck.model import Document, Segment
from coursecheck.rules import Option, Rule, RuleContext, rule

# Diagram types Mermaid 11 recognises by the first word of the chart.
KNOWN_TYPES: tuple[str, ...] = (
    "flowchart",
    "flowchart-elk",
    "graph",
    "sequenceDiagram",
    "classDiagram",
    "classDiagram-v2",
    "stateDiagram",
    "stateDiagram-v2",
    "erDiagram",
    "gantt",
    "pie",
    "journey",
    "gitGraph",
    "mindmap",
    "timeline",
    "quadrantChart",
    "requirementDiagram",
    "C4Context",
    "C4Container",
    "C4Component",
    "C4Dynamic",
    "C4Deployment",
    "sankey",
    "sankey-beta",
    "xychart",
    "xychart-beta",
    "block",
    "block-beta",
    "packet",
    "packet-beta",
    "architecture",
    "architecture-beta",
    "kanban",
    "radar-beta",
    "treemap-beta",
    "zenuml",
    "info",
)


# -- bracket and quote balance -------------------------------------------------------------

_CLOSER = {"(": ")", "[": "]", "{": "}", ">": "]"}
_OPENERS = "([{"
_CLOSERS = ")]}"
# Statements that style or link nodes and hold no labels (`class` declares a class in class
# diagrams, so it is only skipped in flowcharts).
_NOT_LABELS = re.compile(r"[ \t]*(?:style|classDef|linkStyle|click|callback|link|cssClass)[ \t]")
_FLOW_NOT_LABELS = re.compile(r"[ \t]*class[ \t]")
# erDiagram relationship markers: ||--o{, }|..|{, |o--o| ...
_ER_RELATION = re.compile(r"(?:\|o|\|\||\}o|\}\|)(?:--|\.\.)(?:o\||\|\||o\{|\|\{)")
_WORD_CHAR = re.compile(r"\w")
_SIGNIFICANT = re.compile(r'["|>:%()\[\]{}\n]')
_MINDMAP_INVERTED = re.compile(r"\s*[^\s()\[\]{}]*\)")  # cloud )text( and bang ))text((

FLOW_TYPES = {"flowchart", "flowchart-elk", "graph", "block", "block-beta"}
BLOCK_TYPES = {"classDiagram", "classDiagram-v2", "stateDiagram", "stateDiagram-v2", "erDiagram"}
CHECKED_TYPES = FLOW_TYPES | BLOCK_TYPES | {"mindmap"}


@dataclass(frozen=True, slots=True)
class Imbalance:
    """Where a bracket or quote of a chart opens and is never closed (``index`` in the chart
    text), or where a closer matches nothing."""

    index: int
    length: int
    message: str


def _describe(ch: str) -> str:
    return {"(": "'('", "[": "'['", "{": "'{'", ">": "'>'", '"': "quote '\"'", "|": "edge label '|'"}.get(ch, f"'{ch}'")


# Tried only where a run of id characters starts: from inside a long run, each start read
# the rest of it again.
_NODE_ID = re.compile(r"(?<![\w.$-])([\w.$-]+)[ \t]*$")


def _label(text: str, at: int, opener: str) -> str:
    """ "label of node 'A' opened with '['" for the opener at ``text[at]``."""
    line_start = text.rfind("\n", 0, at) + 1
    m = _NODE_ID.search(text, line_start, at)
    node = f" of node '{m.group(1)}'" if m else ""
    return f"label{node} opened with {_describe(opener)}"


def _scan_line(
    text: str, start: int, end: int, *, flow: bool, free_text_after_colon: bool, multiline_strings: bool
) -> tuple[list[tuple[str, int]], Imbalance | None, int]:
    """Scan one statement, ``text[start:end]``. Returns the openers left open, the first
    problem, and where the scan stopped. With ``multiline_strings`` a quoted string may go
    on past ``end`` onto the next lines (the scan then stops at the first line end outside
    a string)."""
    stack: list[tuple[str, int]] = []
    string_at = -1
    label_at = -1
    stop = len(text) if multiline_strings else end
    for m in _SIGNIFICANT.finditer(text, start, stop):
        i = m.start()
        ch = text[i]
        if ch == "\n" and string_at < 0:
            stop = i
            break
        if string_at >= 0:
            if ch == '"':
                string_at = -1
        elif ch == '"':
            string_at = i
        elif label_at >= 0:
            if ch == "|":
                label_at = -1
        elif not stack and flow and ch == "|":
            label_at = i
        elif not stack and flow and ch == ">" and i > start and _WORD_CHAR.match(text[i - 1]):
            stack.append((">", i))  # asymmetric node: id>label]
        elif ch == "%":
            if not stack and text.startswith("%%", i) and not text.startswith("%%{", i):
                stop = i
                break  # a comment to the end of the line
        elif not stack and free_text_after_colon and ch == ":":
            stop = i
            break  # transition, relation and member text after ':' is free text
        elif ch in _OPENERS:
            stack.append((ch, i))
        elif ch in _CLOSERS:
            if not stack:
                return stack, Imbalance(i, 1, f"'{ch}' closes nothing"), i
            opener, at = stack[-1]
            if _CLOSER[opener] != ch:
                return stack, Imbalance(i, 1, f"'{ch}' closes {_describe(opener)}; expected '{_CLOSER[opener]}'"), i
            stack.pop()
    i = stop
    if string_at >= 0:
        if stack:
            opener, at = stack[0]
            message = f"{_label(text, at, opener)} is never closed (a quote inside it is not closed)"
            return stack, Imbalance(at, 1, message), i
        return stack, Imbalance(string_at, 1, "quote '\"' is never closed"), i
    if label_at >= 0:
        return stack, Imbalance(label_at, 1, "edge label opened with '|' is never closed"), i
    return stack, None, i


def imbalances(text: str, kind: str | None = None) -> list[Imbalance]:
    """Unbalanced brackets and quotes in the node labels of a chart (indices into ``text``).

    Checked types: flowchart/graph and block (shapes ``[..]``, ``(..)``, ``{..}``, ``[(..)]``,
    ``((..))``, ``{{..}}``, ``>..]``, edge labels ``|..|``, quoted labels), class, state and
    ER diagrams (braces of ``{ }`` blocks across lines, brackets and quotes of each statement;
    text after ``:`` is free), mindmap (per line; cloud ``)..(`` and bang ``))..((`` shapes
    are inverted on purpose). Other types hold free text and are not checked.
    """
    first = _first_statement(text)
    if first is None:
        return []
    kind = kind or first[1]
    if kind not in CHECKED_TYPES:
        return []
    flow = kind in FLOW_TYPES
    blocks = kind in BLOCK_TYPES
    if kind == "erDiagram":
        # Cardinality markers hold braces and pipes that are not brackets (same length: the
        # indices stay those of the chart).
        text = _ER_RELATION.sub(lambda m: " " * len(m.group()), text)
    problems: list[Imbalance] = []
    block_stack: list[int] = []
    resume_at = text.find("\n", first[0])  # statements start after the type line
    if resume_at == -1:
        return []
    in_note = False
    for start, line in _lines(text):
        end = start + len(line)
        stripped = line.strip()
        if start <= resume_at or not stripped or stripped.startswith("%%"):
            continue
        if in_note:
            in_note = stripped != "end note"
            continue
        if kind.startswith("stateDiagram") and stripped.startswith("note ") and ":" not in stripped:
            in_note = True  # a note block: free text up to `end note`
            continue
        if _NOT_LABELS.match(line) or (flow and _FLOW_NOT_LABELS.match(line)):
            continue
        if kind == "mindmap" and _MINDMAP_INVERTED.match(line):
            continue
        if blocks and stripped.startswith("}"):
            brace = start + line.index("}")
            if block_stack:
                block_stack.pop()
            else:
                problems.append(Imbalance(brace, 1, "'}' closes no block"))
            start = brace + 1
            if not text[start:end].strip():
                continue
        stack, problem, _ = _scan_line(
            text, start, end, flow=flow, free_text_after_colon=blocks, multiline_strings=False
        )
        if problem is not None and flow and '"' in line:
            # A quoted label may go on over several lines: fine if it closes there.
            stack2, problem2, stop = _scan_line(
                text, start, end, flow=flow, free_text_after_colon=False, multiline_strings=True
            )
            if problem2 is None and not stack2 and stop > end:
                resume_at = stop
                continue
        if problem is None and stack:
            if blocks and [ch for ch, _ in stack] == ["{"] and not text[stack[0][1] + 1 : end].strip():
                block_stack.append(stack[0][1])  # `class A {` opens a block closed by a later `}`
                continue
            opener, at = stack[0]
            what = _label(text, at, opener) if flow or kind == "mindmap" else f"bracket {_describe(opener)}"
            problem = Imbalance(at, 1, f"{what} is never closed")
        if problem is not None:
            problems.append(problem)
    for at in block_stack:
        problems.append(Imbalance(at, 1, "block opened with '{' is never closed"))
    return problems


# -- config ---------------------------------------------------------------------------------

_COMPONENT_ENTRY = re.compile(r"^[A-Za-z_$][\w$.-]*\.[A-Za-z_$][\w$-]*$")


def _component_entries(value: list[str], config: Config) -> list[str]:
    return [
        f'\'{entry}\' is not "Component.prop" (e.g. "Mermaid.chart")'
        for entry in value
        if not _COMPONENT_ENTRY.match(entry)
    ]


SECTION = Section(
    "mermaid",
    'which MDX components hold Mermaid charts (components = ["Mermaid.chart"])',
    keys=(
        Key(
            "components",
            "strings",
            'the MDX components and props that hold a Mermaid chart, as "Component.prop"',
            default=list(DEFAULT_COMPONENTS),
            expected='a list of "Component.prop" strings, e.g. ["Mermaid.chart"]',
            check=_component_entries,
        ),
    ),
)


@hookimpl
def coursecheck_config_schemas() -> list[Section]:
    return [SECTION]


@hookimpl
def coursecheck_init_file(doc: Document, survey: Any) -> dict[str, int] | None:
    """Per file, for init: the non-empty diagrams in fenced blocks (key ``""``) and in the
    ``chart`` prop of each component that has one (key: the component's name)."""
    charted = sorted({f"{c.name}.chart" for c in doc.components if "chart" in c.props})
    counts: dict[str, int] = {}
    fenced = sum(1 for d in diagrams(doc, ()) if not d.is_empty)
    if fenced:
        counts[""] = fenced
    for entry in charted:
        n = sum(1 for d in diagrams(doc, (entry,)) if not d.is_empty) - fenced
        if n > 0:
            counts[entry] = n
    return counts or None


@hookimpl
def coursecheck_init_sections(survey: Any) -> str | None:
    """``[mermaid] components`` for the components with a ``chart`` prop; and when nearly
    every lesson (90%) already has a diagram, ``mermaid/min-diagrams`` on with ``min = 1``."""
    props = getattr(survey, "component_props", {}) or {}
    entries = sorted(f"{name}.chart" for name, counter in props.items() if counter.get("chart"))
    parts: list[str] = []
    if entries:
        listed = ", ".join(toml_string(e) for e in entries)
        parts.append(
            "# MDX components whose `chart` prop holds a Mermaid diagram (fenced ```mermaid blocks count too).\n"
            f"[mermaid]\ncomponents = [{listed}]"
        )
    lessons = list(getattr(survey, "lessons", []) or [])
    counted = (getattr(survey, "file_data", {}) or {}).get(__name__, {})
    wanted = {"", *(entries or DEFAULT_COMPONENTS)}
    with_diagrams = sum(1 for rel in lessons if any(n for key, n in (counted.get(rel) or {}).items() if key in wanted))
    if lessons and with_diagrams >= 0.9 * len(lessons):
        parts.append(
            f"# {with_diagrams} of {len(lessons)} lessons have a Mermaid diagram: keep it that way.\n"
            '[rules."mermaid/min-diagrams"]\nlevel = "warning"\nmin = 1'
        )
    return "\n\n".join(parts) or None


def _diagrams_of(doc: Document, ctx: RuleContext) -> list[Diagram]:
    cache = ctx.course.cache if ctx.course is not None else {}
    key = ("mermaid.diagrams", doc.relpath)
    found = cache.get(key)
    if found is None:
        found = diagrams(doc, chart_components(ctx.config))
        cache[key] = found
    return found


def _where(segment: Segment, index: int, length: int) -> tuple[int, int]:
    """Source offsets of ``segment.text[index:index + length]``."""
    return segment.range(index, index + length)


# -- rules ----------------------------------------------------------------------------------


@rule(
    "mermaid/min-diagrams",
    level="off",
    lessons_only=True,
    options=[Option("min", int, 1, "fewest non-empty diagrams a lesson must have (set per glob in [[overrides]])")],
    tags=("mermaid",),
)
def min_diagrams(doc: Document, ctx: RuleContext) -> None:
    """A lesson has fewer Mermaid diagrams than required.

    ## What it does
    Counts the lesson's diagrams: fenced ```` ```mermaid ```` blocks and the components listed
    in `[mermaid] components` (default `Mermaid.chart`, i.e. `<Mermaid chart={`...`} />`).
    Empty diagrams do not count; a chart held in a JS expression (`chart={flow}`) does. When
    the count is below `min`, the finding is reported at the first line of the lesson.
    Off by default (how many diagrams a lesson needs is the course's policy); switch it on
    with `"mermaid/min-diagrams" = { level = "warning", min = 1 }`, and set other minimums per
    glob in `[[overrides]]`. `coursecheck init` switches it on when nearly every lesson
    already has a diagram.

    ## Why it matters
    Courses promise visual explanations ("each lesson has a diagram"); a lesson that lost its
    diagram in an edit, or never got one, breaks that promise silently. Verification reports
    quote diagram counts as evidence: they must be counted, not estimated.

    ## Example
    With `min = 1`, a summary lesson made of a list and a code block:
    ```toml
    [rules]
    "mermaid/min-diagrams" = { level = "warning", min = 1 }
    ```
    ```markdown
    ## Ключевые идеи
    - Контейнер — изолированный процесс.
    ```
    Reported at line 1, column 1.

    Use instead:
    ````markdown
    ## Ключевые идеи
    - Контейнер — изолированный процесс.

    ```mermaid
    flowchart LR
        P[Процесс] --> N[Пространства имён]
    ```
    ````

    ## How to fix
    Add a diagram:
    ````markdown
    ```mermaid
    flowchart LR
        A["Образ"] --> B["Контейнер"]
    ```
    ````
    or lower the minimum for such lessons:
    ```toml
    [[overrides]]
    files = ["**/*-module-summary.md"]
    rules = { "mermaid/min-diagrams" = { min = 0 } }
    ```
    """
    minimum = ctx.options["min"]
    found = [d for d in _diagrams_of(doc, ctx) if not d.is_empty]
    if len(found) >= minimum:
        return
    have = f"{len(found)} Mermaid diagram{'s' if len(found) != 1 else ''}"
    first_line = doc.lines.line_text(1) if doc.source else ""
    ctx.report(doc, 0, len(first_line), f"lesson has {have}; at least {minimum} required", anchor=f"min {minimum}")


@rule("mermaid/empty-diagram", level="error", tags=("mermaid",))
def empty_diagram(doc: Document, ctx: RuleContext) -> None:
    """A Mermaid diagram has no chart.

    ## What it does
    Reports a ```` ```mermaid ```` fence or a chart component (`<Mermaid chart={``} />`) whose
    chart is blank or only `%%` comments, and a chart component without its chart prop.

    ## Why it matters
    Mermaid renders an error box or nothing at all; the reader sees a hole where the
    explanation was meant to be. Such diagrams do not count towards `mermaid/min-diagrams`.

    ## Example
    ```mdx
    ## Сеть в режиме host

    <Mermaid chart={``} />
    ```
    Reported at line 3, column 1.

    Use instead:
    ```mdx
    ## Сеть в режиме host

    <Mermaid chart={`flowchart LR
        C[Контейнер] --> H[Сеть хоста]`} />
    ```

    ## How to fix
    Write the diagram, or delete the empty component.
    """
    for diagram in _diagrams_of(doc, ctx):
        if not diagram.is_empty:
            continue
        if diagram.origin == "fence":
            what = "fenced mermaid block is empty"
        elif diagram.origin.endswith("#missing"):
            comp, prop = diagram.origin.removesuffix("#missing").rsplit(".", 1)
            what = f"<{comp}> has no '{prop}' prop: the diagram is empty"
        else:
            comp, prop = diagram.origin.rsplit(".", 1)
            what = f"<{comp}> diagram is empty: '{prop}' holds no chart"
        ctx.report_span(doc.relpath, diagram.span, what, doc=doc, anchor=diagram.origin)


@rule(
    "mermaid/unknown-type",
    level="error",
    options=[
        Option("extra-types", list, [], "more diagram types to accept (plugins, newer Mermaid versions)", item=str)
    ],
    tags=("mermaid",),
)
def unknown_type(doc: Document, ctx: RuleContext) -> None:
    """A Mermaid diagram starts with a word that is not a diagram type.

    ## What it does
    Reads the first statement of each diagram (after blank lines, `%%` comments and
    directives, and a `---` config block) and checks its first word against the types Mermaid
    knows: `flowchart`, `graph`, `sequenceDiagram`, `classDiagram`, `stateDiagram`,
    `stateDiagram-v2`, `erDiagram`, `gantt`, `pie`, `journey`, `gitGraph`, `mindmap`,
    `timeline`, `quadrantChart`, `requirementDiagram`, `C4Context`..., `sankey-beta`,
    `xychart-beta`, `block-beta`, `packet-beta`, `architecture-beta`, `kanban`, `zenuml`.
    The type is case-sensitive, as in Mermaid. Suggests the closest known type.

    ## Why it matters
    Mermaid cannot detect the diagram and renders "No diagram type detected" instead of the
    picture. A typo in the first word is easy to miss in review because the rest of the
    chart looks right.

    ## Example
    ```mdx
    <Mermaid chart={`
    flowchar LR
        A --> B
    `} />
    ```
    Reported at line 2, column 1.

    Use instead:
    ```mdx
    <Mermaid chart={`
    flowchart LR
        A --> B
    `} />
    ```

    ## How to fix
    Correct the type (`flowchart LR`). For a type this rule does not know yet (a Mermaid
    plugin, a newer release), add it to `extra-types`.
    """
    known = (*KNOWN_TYPES, *ctx.options["extra-types"])
    for diagram in _diagrams_of(doc, ctx):
        if diagram.segment is None:
            continue
        first = _first_statement(diagram.text)
        if first is None:
            continue
        index, word = first
        if word in known:
            continue
        start, end = _where(diagram.segment, index, len(word))
        hint = did_you_mean(word, known)
        ctx.report(doc, start, end, f"unknown Mermaid diagram type '{word}'{hint}", anchor=word)


@rule("mermaid/unbalanced-brackets", level="error", tags=("mermaid",))
def unbalanced_brackets(doc: Document, ctx: RuleContext) -> None:
    """A bracket or quote in a Mermaid node label is never closed.

    ## What it does
    Checks that the shapes and labels of each statement close what they open: `[..]`,
    `(..)`, `{..}` and their combinations (`[(db)]`, `((circle))`, `{{hex}}`, `([stadium])`),
    the asymmetric `id>label]`, quoted labels `"..."` and edge labels `|..|`. Brackets inside
    quotes and edge labels are text (`["a (b)"]`, `-->|"x{y}"|`, `-->|< 1M|`), and so are
    `style`/`classDef` lines and `%%` comments. Class, state and ER diagrams are checked for
    their `{ }` blocks and each statement's brackets (text after `:` is free, ER cardinality
    markers like `||--o{` are not brackets); mindmaps line by line; sequence diagrams, gantt,
    pie and the other text-only types are not checked. The finding points at the bracket or
    quote that opens and is never closed (or the closer that matches nothing), at its line
    and column in the lesson.

    ## Why it matters
    Mermaid stops at the first such error ("Parse error on line 3: ... Expecting 'SQE'") and
    the whole diagram is replaced by an error message on the page.

    ## Example
    ```mdx
    <Mermaid chart={`
    flowchart LR
        A["Хост --> B["Том"]
    `} />
    ```
    Reported at line 3, column 6.
    The label of `A` opens `["` and never closes it: `B["` ends up inside the quote.

    Use instead:
    ```mdx
    <Mermaid chart={`
    flowchart LR
        A["Хост"] --> B["Том"]
    `} />
    ```

    ## How to fix
    Close the label where it ends (`A["Хост"] --> B["Том"]`). Put brackets that are text
    inside quotes: `A["f(x)"]`.
    """
    for diagram in _diagrams_of(doc, ctx):
        if diagram.segment is None or diagram.is_empty:
            continue
        for problem in imbalances(diagram.text):
            start, end = _where(diagram.segment, problem.index, problem.length)
            ctx.report(doc, start, end, f"Mermaid: {problem.message}", anchor=problem.message)


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [min_diagrams, empty_diagram, unknown_type, unbalanced_brackets]
