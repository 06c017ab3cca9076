"""Rules about the course graph: prerequisites, internal links and data-file references.

The graph itself is built by :mod:`coursecheck.graph`; this plugin reads the ``[graph]``
config section, declares the ``graph/...`` rules and the ``coursecheck graph`` command.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursecheck import hookimpl
from coursecheck.config import Config, config_relpath, did_you_mean
from coursecheck.config.schema import Key, Section
from coursecheck.errors import ExitCode
from coursecheck.escape import say
from coursecheck.graph import (
    EDGE_KINDS,
    CourseGraph,
    Reference,
    course_graph,
    networkx,
    resolve_lesson,
    to_dot,
    to_json,
    to_mermaid,
)
from coursecheck.graph import did_you_mean as suggest_text
from coursecheck.model import Course, Document
from coursecheck.routing import Anchors, explicit_ids, github_slug, heading_plain, page_keys
from coursecheck.rules import Option, Rule, RuleContext, rule
from coursecheck.text import Span

if TYPE_CHECKING:
    from coursecheck.commands import CommandContext


def _prerequisite_reference(cg: CourseGraph, lesson: str, prerequisite: str) -> Reference | None:
    for ref in cg.edge_references(lesson, prerequisite):
        if ref.kind == "prerequisite":
            return ref
    return None


def _ordinal(doc: Document, course: Course) -> str:
    return f"lesson {(doc.order_index or 0) + 1} of {len(course.lessons)}"


@rule("graph/unresolved-reference", level="error", course=True, relocatable=True, tags=("graph", "links"))
def unresolved_reference(course: Course, ctx: RuleContext) -> None:
    """A prerequisite or internal link names no lesson of the course.

    ## What it does
    Resolves every entry of a lesson's frontmatter `prerequisites` and every internal link
    (Markdown links and JSX `href`s under the course's site routes, e.g. `/course/...`, or
    relative `./`, `../` links) against the lessons' ids and aliases, and reports those that
    resolve to no lesson, at the exact list item or link, with the closest ids as suggestions.
    External URLs, `mailto:`, `#anchors` and assets (images, files with other extensions)
    are not lesson references.

    ## Why it matters
    A prerequisite that names nothing silently drops out of the course's dependency graph:
    the site shows no "read first" link and every graph check is blind to it. A broken link
    is a 404 for the student.

    ## Example
    In `content/02-module-2/03-wal-configuration-tuning.md`:
    ```markdown
    ---
    title: "Настройка WAL"
    ---
    ```
    In `content/02-module-2/05-snapshots.md`:
    ```markdown
    ---
    title: "Снимки"
    prerequisites: ["module-2/03-incremental-snapshots"]
    ---
    ```
    Reported at line 3, column 17 of `content/02-module-2/05-snapshots.md`.

    Use instead:
    In `content/02-module-2/05-snapshots.md`:
    ```markdown
    ---
    title: "Снимки"
    prerequisites: ["module-2/03-wal-configuration-tuning"]
    ---
    ```

    ## How to fix
    Use one of the suggested ids, or create the missing lesson. The forms a lesson can be
    named by come from `[course] id` and `aliases`; link prefixes from `[graph] routes`.
    """
    cg = course_graph(course, ctx.config)
    for ref in cg.unresolved:
        if ref.source is None or ref.kind not in ("prerequisite", "link"):
            continue
        if ctx.count_if_full(ref.source.relpath):
            continue  # past the file's limit: counted, no message made
        hint = suggest_text(cg.suggestions(ref.written.split("#", 1)[0]))
        if ref.kind == "prerequisite":
            message = f"prerequisite '{ref.written}' names no lesson of the course{hint}"
        else:
            message = f"link '{ref.written}' leads to no lesson of the course{hint}"
        ctx.report_span(ref.source.relpath, ref.span, message, doc=ref.source, anchor=ref.written)
    for i, written in enumerate(cg.settings.start):
        if resolve_lesson(course, written) is None:
            file, line = ctx.config.where("graph", "start")
            ctx.report_span(
                config_relpath(ctx.config, file),
                Span.point(max(line, 1)),
                f"[graph] start[{i}] '{written}' names no lesson of the course{suggest_text(cg.suggestions(written))}",
                anchor=written,
            )


ANCHOR_RULE = "graph/unresolved-anchor"


@rule(
    ANCHOR_RULE,
    level="warning",
    course=True,
    relocatable=True,
    tags=("graph", "links"),
    options=[
        Option("same-page", bool, True, "also check links to an anchor of the same page (`#section`)"),
        Option(
            "sections-from",
            list,
            [],
            "folders of partials beside a page that the site turns into sections of it (`practice`): "
            "a fragment of such a page that matches none of its own headings is not judged",
            item=str,
        ),
    ],
)
def unresolved_anchor(course: Course, ctx: RuleContext) -> None:
    """A link's `#fragment` names no heading or anchor of the page it leads to.

    ## What it does
    For every link to a lesson with a fragment (`/course/02-x#volumes`, `./02-x.md#volumes`,
    and, with `same-page`, `#volumes` within the lesson), looks for the anchor among the
    target's headings, slugged the ways site generators slug them (GitHub's and Docusaurus'
    `## Named volumes` -> `named-volumes`, the usual slugifiers' runs of punctuation as one
    hyphen, Russian headings transliterated by any common convention: «Как пишется» ->
    `kak-pishetsya`; a repeated heading's `-1` suffix and case are accepted) and among the ids
    the page sets itself (`{#id}` after a heading, `id="..."` and `name="..."` attributes).
    Reports the link at its href, with the closest anchors of the target.

    ## Why it matters
    A fragment that names nothing still opens the page, at its top: the reader lands far from
    the section the sentence promised, and nothing tells the author the heading was renamed.

    ## Example
    The heading is `## Named volumes`:
    In `content/02-module-2/01-volumes.md`:
    ```markdown
    ## Named volumes

    A named volume outlives its container.
    ```
    In `content/02-module-2/02-compose.md`:
    ```markdown
    See [named volumes](/course/02-module-2/01-volumes#named-volume).
    ```
    Reported at line 1, column 21 of `content/02-module-2/02-compose.md`.

    Use instead:
    In `content/02-module-2/02-compose.md`:
    ```markdown
    See [named volumes](/course/02-module-2/01-volumes#named-volumes).
    ```

    ## How to fix
    Use the anchor of the heading as it is now (one of the suggestions), or give the heading
    an explicit id. A page with no heading nor id (its content is generated) is not judged.
    A site that builds sections of a page from partials beside it (`js/events/practice/*.md`
    shown as the page's "In practice" section) names those folders in `sections-from`; a
    site whose anchors come from elsewhere can switch the rule off:
    `"graph/unresolved-anchor" = "off"`.
    """
    from urllib.parse import unquote

    cg = course_graph(course, ctx.config)
    summaries = ctx.summaries()
    anchors: dict[str, Anchors] = {}
    with_sections = pages_with_sections(course, ctx.options.get("sections-from") or [])

    def of(doc: Document) -> Anchors | None:
        found = anchors.get(doc.relpath)
        if found is None:
            data = summaries.get(doc.relpath)
            if not isinstance(data, tuple) or len(data) != 2:
                return None
            if not data[0] and not data[1]:
                return None  # no heading nor id: a page whose content is generated elsewhere
            found = anchors[doc.relpath] = Anchors.of(data[0], data[1])
        return found

    def check(source: Document, target: Document, written: str, span: Span) -> None:
        fragment = unquote(written.split("#", 1)[1]).strip()
        if not fragment or not _PLAIN_FRAGMENT.match(fragment):
            return  # "#", a route fragment ("#/x"), a computed one
        pages = cg.router.alternates(target) if cg.router is not None else [target]
        known = [found for found in (of(page) for page in pages) if found is not None]
        if not known or any(found.has(fragment) for found in known):
            return
        if any(page_keys(page.relpath)[-1] in with_sections for page in pages):
            return  # the site adds sections built from the partials beside the page
        data = summaries.get(target.relpath) or ((), ())
        slugs = [github_slug(heading_plain(h)[0]) for h in data[0]]
        close = difflib.get_close_matches(fragment.lower(), [s for s in slugs if s], n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr('#' + c) for c in close)}?" if close else ""
        where = "this page" if target is source else f"'{cg.display(target)}'"
        ctx.report_span(
            source.relpath,
            span,
            f"link '{written}': {where} has no heading or anchor '#{fragment}'{hint}",
            doc=source,
            anchor=written,
        )

    for ref in cg.references:
        if ref.kind == "link" and ref.source is not None and ref.target is not None and "#" in ref.written:
            check(ref.source, ref.target, ref.written, ref.span)
    if ctx.options.get("same-page", True):
        for doc in course.lessons:
            for link in doc.links:
                href = link.href.strip()
                if href.startswith("#") and len(href) > 1:
                    check(doc, doc, href, link.href_span)


_PLAIN_FRAGMENT = re.compile(r"^[^\s/{}$<>]+$")


def pages_with_sections(course: Course, folders: list[str]) -> set[str]:
    """The page keys (``js/events`` for ``js/events/index.md``) that have a folder named in
    ``folders`` beside them holding partials (``js/events/practice/tip.md``)."""
    if not folders:
        return set()
    names = set(folders)
    found: set[str] = set()
    for doc in course.others:
        parts = doc.relpath.split("/")
        for i, part in enumerate(parts[:-1]):
            if part in names:
                found.add("/".join(parts[:i]))
    return found


@unresolved_anchor.summarizer
def _anchors_summary(doc: Document, ctx: RuleContext) -> tuple[list[str], list[str]] | None:
    """The page's heading lines and the ids its text sets (cached per file)."""
    if doc.kind not in ("markdown", "mdx"):
        return None
    headings = [doc.lines.line_text(h.span.line) for h in doc.headings]
    return headings, explicit_ids(doc.source)


@rule("graph/missing-data-reference", level="error", course=True, relocatable=True, tags=("graph", "data"))
def missing_data_reference(course: Course, ctx: RuleContext) -> None:
    """A data file (glossary, quiz) names a lesson that does not exist.

    ## What it does
    Reads the values of the keys listed in `[graph] data-keys` (default `lesson`, `lessons`,
    `prerequisites`, `relatedLessons`, `slug`) in every data file of the course and reports
    those that resolve to no lesson, at the exact value, with the closest ids as suggestions.

    ## Why it matters
    The glossary's "related lessons" and a quiz's lesson are links on the site: a slug that
    names nothing is a dead link, or a quiz shown under no lesson.

    ## Example
    In `content/02-module-2/04-port-publishing.md`:
    ```markdown
    ---
    title: "Проброс портов"
    ---
    ```
    In `data/practice.json`:
    ```json
    { "slug": "module-2/05-port-publishing", "title": "Проброс портов на практике" }
    ```
    Reported at line 1, column 11 of `data/practice.json`.

    Use instead:
    In `data/practice.json`:
    ```json
    { "slug": "module-2/04-port-publishing", "title": "Проброс портов на практике" }
    ```

    ## How to fix
    Correct the slug to an existing lesson id, or remove the entry. If a key is not a lesson
    reference in your data, set `[graph] data-keys` to the keys that are.
    """
    cg = course_graph(course, ctx.config)
    for ref in cg.unresolved:
        if ref.source is None or ref.kind != "data-reference":
            continue
        hint = suggest_text(cg.suggestions(ref.written))
        ctx.report_span(
            ref.source.relpath,
            ref.span,
            f"{ref.where} '{ref.written}' names no lesson of the course{hint}",
            doc=ref.source,
            anchor=f"{ref.where}={ref.written}",
        )


@rule("graph/prerequisite-cycle", level="error", course=True, relocatable=True, tags=("graph", "prerequisites"))
def prerequisite_cycle(course: Course, ctx: RuleContext) -> None:
    """Lessons require each other in a circle.

    ## What it does
    Finds cycles in the prerequisite graph and reports each at the prerequisite that points
    forward in course order (the likely mistake), with the whole cycle in the message and the
    other prerequisites of the cycle as related locations. A lesson listing itself is a cycle.

    ## Why it matters
    No student can satisfy a circle of prerequisites; sites that order lessons by their
    prerequisites cannot order these at all.

    ## Example
    In `content/01-module-1/03-dockerfile-basics.md`:
    ```markdown
    ---
    title: "Основы Dockerfile"
    prerequisites: ["module-2/03-docker-compose"]
    ---
    ```
    In `content/02-module-2/03-docker-compose.md`:
    ```markdown
    ---
    title: "Docker Compose"
    prerequisites: ["module-1/03-dockerfile-basics"]
    ---
    ```
    Reported at line 3, column 17 of `content/01-module-1/03-dockerfile-basics.md`.

    Use instead:
    In `content/01-module-1/03-dockerfile-basics.md`:
    ```markdown
    ---
    title: "Основы Dockerfile"
    ---
    ```

    ## How to fix
    Remove the prerequisite that points to the later lesson; link to it in the text instead.
    """
    nx = networkx()
    cg = course_graph(course, ctx.config)
    pre = cg.prerequisites()
    order = {d.relpath: d.order_index or 0 for d in course.lessons}
    component: dict[str, int] = {}
    for i, members in enumerate(nx.strongly_connected_components(pre)):
        for node in members:
            component[node] = i
    for lesson, prerequisite in sorted(pre.edges, key=lambda e: (order[e[0]], order[e[1]])):
        in_cycle = lesson == prerequisite or component[lesson] == component[prerequisite]
        if not in_cycle or order[prerequisite] < order[lesson]:
            continue
        back = nx.shortest_path(pre, prerequisite, lesson) if lesson != prerequisite else [lesson]
        cycle = [lesson, *back] if lesson != prerequisite else [lesson, lesson]
        ref = _prerequisite_reference(cg, lesson, prerequisite)
        if ref is None or ref.source is None:
            continue
        names = [cg.display(course.document(n)) for n in cycle]  # type: ignore[arg-type]
        related = []
        for a, b in itertools.pairwise(cycle[1:]):
            other = _prerequisite_reference(cg, a, b)
            if other is not None and other.source is not None:
                related.append((other.source.relpath, other.span, f"{names[cycle.index(a)]} requires {other.written}"))
        ctx.report_span(
            ref.source.relpath,
            ref.span,
            f"prerequisite cycle: {' → '.join(names)}",
            doc=ref.source,
            anchor=" ".join(names),
            related=related,
        )


@rule("graph/later-prerequisite", level="warning", course=True, relocatable=True, tags=("graph", "prerequisites"))
def later_prerequisite(course: Course, ctx: RuleContext) -> None:
    """A prerequisite comes later in course order than the lesson that needs it.

    ## What it does
    Compares each resolved prerequisite's position in course order (by path, or by the
    frontmatter field `[course] order` names) with the lesson's, and reports prerequisites
    that come after the lesson.

    ## Why it matters
    A student following the course in order meets the lesson before what it builds on.

    ## Example
    Lesson 3 of module 1 lists a lesson of module 2:
    In `content/01-module-1/03-dockerfile-basics.md`:
    ```markdown
    ---
    title: "Основы Dockerfile"
    prerequisites: ["module-2/03-docker-compose"]
    ---
    ```
    In `content/02-module-2/03-docker-compose.md`:
    ```markdown
    ---
    title: "Docker Compose"
    ---
    ```
    Reported at line 3, column 17 of `content/01-module-1/03-dockerfile-basics.md`.

    Use instead:
    In `content/01-module-1/03-dockerfile-basics.md`:
    ```markdown
    ---
    title: "Основы Dockerfile"
    ---
    ```

    ## How to fix
    Remove the prerequisite (and mention the later lesson as "see also"), or move the lesson.
    """
    cg = course_graph(course, ctx.config)
    for ref in cg.references:
        if ref.kind != "prerequisite" or ref.source is None or ref.target is None or ref.target is ref.source:
            continue
        if (ref.target.order_index or 0) > (ref.source.order_index or 0):
            ctx.report_span(
                ref.source.relpath,
                ref.span,
                f"prerequisite '{ref.written}' comes later in course order ({_ordinal(ref.target, course)}) "
                f"than this lesson ({_ordinal(ref.source, course)})",
                doc=ref.source,
                anchor=ref.written,
            )


@rule("graph/orphan-lesson", level="warning", course=True, relocatable=True, tags=("graph",))
def orphan_lesson(course: Course, ctx: RuleContext) -> None:
    """A lesson no learner can reach from the course start by prerequisites or links.

    ## What it does
    Walks the course from its start (the first lesson in course order, or `[graph] start`):
    from a lesson to the lessons that list it as a prerequisite and to the lessons it links
    to; and, since a course is read in order, from a module's last lesson to the next
    module's first one (a module's first lesson needs no prerequisite). Lessons never
    reached are orphans; the rule reports each lesson where an unreachable
    part of the course begins (a lesson with no way in), saying how many more lessons are
    reachable only through it, at its `prerequisites` (or `title`) line. A course where no
    lesson has a `prerequisites` field is not checked: it does not use a prerequisite graph.

    ## Why it matters
    An orphan is cut off from the dependency graph: nothing says what to read before it,
    nothing leads to it, and every graph-based check (order, key links) skips it. Often it
    is a lesson whose prerequisites were forgotten or do not resolve.

    A lesson cut off only because its own prerequisite does not resolve says so and points
    at that prerequisite (the `graph/unresolved-reference` error there is the thing to fix).

    ## Example
    The third lesson has no `prerequisites`, and no lesson links to it or requires it:
    In `content/01-module-1/01-what-is-a-container.md`:
    ```markdown
    ---
    title: "Что такое контейнер"
    ---
    ```
    In `content/01-module-1/02-images-and-layers.md`:
    ```markdown
    ---
    title: "Образы и слои"
    prerequisites: ["module-1/01-what-is-a-container"]
    ---
    ```
    In `content/01-module-1/03-dockerfile-basics.md`:
    ```markdown
    ---
    title: "Основы Dockerfile"
    ---
    ```
    Reported at line 2, column 1 of `content/01-module-1/03-dockerfile-basics.md`.

    Use instead:
    In `content/01-module-1/03-dockerfile-basics.md`:
    ```markdown
    ---
    title: "Основы Dockerfile"
    prerequisites: ["module-1/02-images-and-layers"]
    ---
    ```

    ## How to fix
    Add the lesson's `prerequisites`, or link to it from the lesson before it.
    """
    cg = course_graph(course, ctx.config)
    field_name = cg.settings.prerequisites_field
    if not any(d.frontmatter is not None and field_name in d.frontmatter.data for d in course.lessons):
        return  # a course that declares no prerequisites has no graph to be cut off from
    nexts = cg.learning_successors(in_order=True)
    starts = [d.relpath for d in cg.start_lessons()]
    reached: set[str] = set(starts)
    stack = list(starts)
    while stack:
        for after in nexts[stack.pop()]:
            if after not in reached:
                reached.add(after)
                stack.append(after)
    unreached = [d.relpath for d in course.lessons if d.relpath not in reached]
    if not unreached:
        return
    order = {d.relpath: d.order_index or 0 for d in course.lessons}
    start_name = cg.display(course.document(starts[0]))  # type: ignore[arg-type]
    broken_by_source: dict[int, list[Reference]] = {}
    for r in cg.unresolved:
        if r.kind == "prerequisite":
            broken_by_source.setdefault(id(r.source), []).append(r)
    for members, behind_count in _unreached_sources(nexts, unreached):
        members = sorted(members, key=order.__getitem__)
        doc = course.document(members[0])
        if doc is None:
            continue
        behind = range(behind_count)  # only its size is reported
        broken = broken_by_source.get(id(doc), [])
        related = []
        if broken:
            # A consequence of the unresolved prerequisite: point at it, not repeat it.
            why = (
                f"only because its prerequisite '{broken[0].written}' does not resolve "
                "(fix the graph/unresolved-reference error there)"
            )
            related = [(doc.relpath, broken[0].span, f"prerequisite '{broken[0].written}' names no lesson")]
        elif len(members) > 1:
            others = ", ".join(cg.display(course.document(m)) for m in members[1:])  # type: ignore[arg-type]
            why = f"only {others} lead to it, and nothing leads to them"
        else:
            why = "it lists no prerequisite and no lesson links to it"
        more = (
            f"; {len(behind)} more lesson{'s' if len(behind) != 1 else ''} reachable only through it" if behind else ""
        )
        span = _lesson_place(doc, cg.settings.prerequisites_field)
        ctx.report_span(
            doc.relpath,
            span,
            f"lesson cannot be reached from the course start '{start_name}': {why}{more}",
            doc=doc,
            anchor=doc.relpath,
            related=related,
        )


def _unreached_sources(nexts: dict[str, list[str]], unreached: list[str]) -> list[tuple[list[str], int]]:
    """Where the unreached part of the course begins: the sources of the condensation of the
    learning paths among ``unreached`` lessons, each as (its lessons, how many other
    unreached lessons it reaches), in the order of ``unreached``.

    The same as condensing the whole subgraph, but usually far cheaper: an unreached lesson
    with no path to or from another unreached one (most of them, in a course whose graph
    is broken) is a component of its own, a source reaching nothing; only the lessons with
    such paths are condensed (by networkx)."""
    among = set(unreached)
    inner: dict[str, list[str]] = {}
    entered: set[str] = set()
    for lesson in unreached:
        after = [n for n in nexts[lesson] if n in among]
        if after:
            inner[lesson] = after
            entered.update(after)
    connected = [lesson for lesson in unreached if lesson in inner or lesson in entered]
    found: dict[str, tuple[list[str], int]] = {}
    if connected:
        rest = networkx().DiGraph()
        rest.add_nodes_from(connected)
        rest.add_edges_from((a, b) for a, after in inner.items() for b in after)
        condensed = networkx().condensation(rest)
        behind_counts = _reachable_counts(condensed)
        position = {lesson: i for i, lesson in enumerate(connected)}
        for c in condensed.nodes:
            if not condensed.in_degree(c):
                members = list(condensed.nodes[c]["members"])
                found[min(members, key=position.__getitem__)] = (members, behind_counts[c])
    out = []
    for lesson in unreached:
        if lesson in found:
            out.append(found[lesson])
        elif lesson not in inner and lesson not in entered:
            out.append(([lesson], 0))
    return out


def _reachable_counts(condensed: Any) -> dict[int, int]:
    """For each source of a condensation (a DAG of strongly connected components; sources
    have no way in): how many lessons of other components it reaches. One pass in reverse
    topological order, each component's reach a bit set (an int): no walk per lesson."""
    nx = networkx()
    reach: dict[int, int] = {}
    for c in reversed(list(nx.topological_sort(condensed))):
        bits = 1 << c
        for succ in condensed.successors(c):
            bits |= reach[succ]
        reach[c] = bits
    sizes = {c: len(condensed.nodes[c]["members"]) for c in condensed.nodes}
    single = all(n == 1 for n in sizes.values())
    counts: dict[int, int] = {}
    for c in condensed.nodes:
        if condensed.in_degree(c):
            continue
        bits = reach[c] & ~(1 << c)
        if single:
            counts[c] = bits.bit_count()
            continue
        total = 0
        while bits:
            low = bits & -bits
            total += sizes[low.bit_length() - 1]
            bits ^= low
        counts[c] = total
    return counts


def _lesson_place(doc: Document, field_name: str) -> Span:
    fm = doc.frontmatter
    if fm is None:
        return Span.point(1, 1)  # the file's start (without reading its text)
    for key in (field_name, "title"):
        if (key, "#key") in fm.places:
            return fm.places[(key, "#key")]
    return fm.span


@rule("graph/redundant-prerequisite", level="note", course=True, relocatable=True, tags=("graph", "prerequisites"))
def redundant_prerequisite(course: Course, ctx: RuleContext) -> None:
    """A prerequisite is already implied by another prerequisite of the same lesson.

    ## What it does
    Reports a prerequisite P of lesson X when another prerequisite Q of X already requires P,
    directly or through other lessons (Q → … → P). Lessons inside a prerequisite cycle are
    skipped: the cycle is the problem there.

    ## Why it matters
    Redundant entries make the prerequisite list longer than what a student must actually
    read first, and hide the real structure of the course.

    ## Example
    In `content/01-module-1/03-dockerfile-basics.md`:
    ```markdown
    ---
    title: "Основы Dockerfile"
    ---
    ```
    In `content/02-module-2/01-volumes-and-data.md`:
    ```markdown
    ---
    title: "Тома и данные"
    prerequisites: ["module-1/03-dockerfile-basics"]
    ---
    ```
    In `content/02-module-2/03-docker-compose.md`:
    ```markdown
    ---
    title: "Docker Compose"
    prerequisites: ["module-1/03-dockerfile-basics", "module-2/01-volumes-and-data"]
    ---
    ```
    Reported at line 3, column 17 of `content/02-module-2/03-docker-compose.md`.

    Use instead:
    In `content/02-module-2/03-docker-compose.md`:
    ```markdown
    ---
    title: "Docker Compose"
    prerequisites: ["module-2/01-volumes-and-data"]
    ---
    ```

    ## How to fix
    Keep only the direct prerequisites.
    """
    nx = networkx()
    cg = course_graph(course, ctx.config)
    pre = cg.prerequisites()
    component: dict[str, int] = {}
    for i, members in enumerate(nx.strongly_connected_components(pre)):
        for node in members:
            component[node] = i
    below: dict[str, set[str]] = {}

    def descendants(node: str) -> set[str]:
        if node not in below:
            below[node] = nx.descendants(pre, node)
        return below[node]

    for doc in course.lessons:
        lesson = doc.relpath
        prerequisites = [p for p in pre.successors(lesson) if p != lesson]
        if len(prerequisites) < 2 or any(component[p] == component[lesson] for p in prerequisites):
            continue
        for p in prerequisites:
            via = [q for q in prerequisites if q != p and p in descendants(q) and component[q] != component[p]]
            if not via:
                continue
            ref = _prerequisite_reference(cg, lesson, p)
            if ref is None:
                continue
            chain = nx.shortest_path(pre, via[0], p)
            names = " → ".join(cg.display(course.document(n)) for n in chain)  # type: ignore[arg-type]
            ctx.report_span(
                doc.relpath,
                ref.span,
                f"prerequisite '{ref.written}' is already implied by another prerequisite ({names})",
                doc=doc,
                anchor=ref.written,
            )


# -- config -----------------------------------------------------------------------------------

_ROUTE_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:$")


def _routes(value: list[str], config: Config) -> list[str]:
    return [
        f"route prefix '{route}' must start with '/' (a site path) or be a link scheme ending in ':' (e.g. 'info:')"
        for route in value
        if not route.startswith("/") and not _ROUTE_SCHEME.match(route)
    ]


def _site_paths(value: list[str], config: Config) -> list[str]:
    return [f"URL prefix '{route}' must start with '/'" for route in value if not route.startswith("/")]


def _inside(value: list[str], config: Config) -> list[str]:
    return [
        f"'{rel}' must be a file relative to the project root, inside it"
        for rel in value
        if rel.startswith("/") or ".." in rel.split("/")
    ]


def _mounts(value: dict[str, str], config: Config) -> list[str]:
    problems = []
    for prefix, folder in value.items():
        if not prefix.startswith("/"):
            problems.append(f"URL prefix '{prefix}' must start with '/'")
        if folder.startswith("/") or ".." in folder.split("/"):
            problems.append(f"folder '{folder}' must be relative to the project root, inside it")
    return problems


def _strings(name: str, doc: str, check: Any = None) -> Key:
    return Key(name, "strings", doc, non_empty=True, check=check)


SECTION = Section(
    "graph",
    "course graph: link route prefixes, data-file keys naming lessons, course start",
    keys=(
        _strings("routes", "link prefixes of lesson pages (default: from [course] aliases)", _routes),
        _strings("data-keys", "keys of data files whose values name lessons"),
        Key(
            "prerequisites-field",
            "string",
            "the frontmatter field listing a lesson's prerequisites",
            default="prerequisites",
        ),
        _strings("start", "lessons a learner starts from (default: the first one)"),
        Key(
            "mounts",
            "table",
            "URL prefix = the folder the site serves under it",
            expected='a table of URL prefix = "folder", e.g. { "/docs/" = "docs/" }',
            values=Key("mount", "string", expected='a table of URL prefix = "folder", e.g. { "/docs/" = "docs/" }'),
            check=_mounts,
        ),
        Key("case-sensitive", "bool", "whether routes match in their case only", default=True),
        _strings("locales", "locale prefixes of translated pages (/fr/guide)"),
        Key("fallback-locale", "string", "the locale a page without a prefix is in"),
        _strings("redirects", "the site's redirect files (vercel.json, _redirects)", _inside),
        _strings("alias-fields", "frontmatter fields listing more routes of a page"),
        _strings("served-elsewhere", "routes another system builds: not judged", _site_paths),
    ),
)


@hookimpl
def coursecheck_config_schemas() -> list[Section]:
    return [SECTION]


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [
        unresolved_reference,
        unresolved_anchor,
        missing_data_reference,
        prerequisite_cycle,
        later_prerequisite,
        orphan_lesson,
        redundant_prerequisite,
    ]


# -- the `coursecheck graph` command ------------------------------------------------------------

FORMATS = {"mermaid": to_mermaid, "dot": to_dot, "json": to_json}


def graph_command(argv: list[str], app: CommandContext) -> int:
    from coursecheck.config import ConfigError
    from coursecheck.fsutil import atomic_write
    from coursecheck.results import RunOptions

    parser = argparse.ArgumentParser(
        prog="coursecheck graph",
        description="Print the course graph: lessons, prerequisites, internal links, data-file "
        "references and declared key links. Prerequisite arrows point in learning order "
        "(prerequisite --> lesson); unresolved references are drawn as red dashed nodes.",
    )
    parser.add_argument("--format", choices=tuple(FORMATS), default="mermaid", help="output format (default mermaid)")
    parser.add_argument(
        "--edges",
        default=",".join(EDGE_KINDS),
        help=f"comma-separated edge kinds to include (default: all of {', '.join(EDGE_KINDS)})",
    )
    parser.add_argument("-c", "--config", type=Path, help="config file (default: nearest .coursecheck.toml)")
    parser.add_argument("--root", type=Path, help="project root (default: the config file's folder)")
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    app.add_plugin_arguments(parser)
    app.add_cache_arguments(parser)
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.edges.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in EDGE_KINDS]
    if unknown:
        say(
            f"coursecheck graph: error: unknown edge kind '{unknown[0]}'{did_you_mean(unknown[0], EDGE_KINDS)} "
            f"(kinds: {', '.join(EDGE_KINDS)})"
        )
        return ExitCode.USAGE
    config, code = app.load_config(args.config, args.root)
    if config is None:
        return code
    assert isinstance(config, Config)
    if args.root is not None:
        if not args.root.is_dir():
            say(f"coursecheck graph: error: --root {args.root} is not a folder")
            return ExitCode.USAGE
        config.root = args.root.resolve()
    try:
        options = RunOptions(select=["graph"], **app.cache_options(args), **app.plugin_options(args))
        engine = app.engine(config, options)
    except ConfigError as exc:
        app.print_config_error(exc)
        return ExitCode.USAGE
    result = app.run(engine, args, "Reading the course")
    for note in result.notifications:  # what --isolated left out, a crashed plugin...
        say(f"coursecheck graph: {note.level}: {note.message}")
    course = result.course
    assert course is not None
    # An unchanged course prints what the last run built (a 5,000-lesson graph takes seconds).
    text = engine.stored_output("graph", args.format, ",".join(kinds))
    if text is None:
        text = FORMATS[args.format](course_graph(course, config), kinds)
        engine.store_output("graph", text, args.format, ",".join(kinds))
    if args.output is not None:
        try:
            atomic_write(args.output, text, root=config.root)
        except OSError as exc:
            say(f"coursecheck graph: error: cannot write {args.output}: {exc.strerror or exc}")
            return ExitCode.USAGE
    else:
        sys.stdout.write(text)
    return ExitCode.OK


@hookimpl
def coursecheck_commands() -> dict[str, tuple[str, Any]]:
    return {"graph": ("print the course graph as Mermaid, DOT or JSON", graph_command)}
