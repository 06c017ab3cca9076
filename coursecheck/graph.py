"""The course graph: lessons and data files as nodes, references between them as typed edges.

Built once per run from a :class:`~coursecheck.model.Course` (cached in ``course.cache``)
and shared by the ``graph/...`` rules, the must-haves, the ``coursecheck graph`` command
and reporters. Edges point from the file that *writes* a reference to what it names:

* ``prerequisite``: lesson X lists lesson P in its frontmatter ``prerequisites`` (X -> P);
* ``link``: lesson X links to lesson Y (Markdown link or JSX ``href``) (X -> Y);
* ``data-reference``: a data file (glossary ``relatedLessons``, quiz ``lesson``) names a lesson;
* ``key-link``: a ``[[key-link]]`` of the config declares that ``from`` relates to ``to``.

A :class:`networkx.DiGraph` holds at most one edge per ordered pair, so each edge carries the
set of its ``kinds`` and the :class:`Reference` objects behind it (file, line, text as written).
References that resolve to no lesson are kept in :attr:`CourseGraph.unresolved`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from coursecheck.coursecache import path_kind
from coursecheck.escape import display, json_text, mermaid_label
from coursecheck.model import Course, Document
from coursecheck.routing import Router, RouteSettings, Served, join_url, read_text, settings_from_raw
from coursecheck.state import GRAPH_MERMAID
from coursecheck.text import Span

if TYPE_CHECKING:
    import networkx as nx

    from coursecheck.config import Config

EDGE_KINDS = ("prerequisite", "link", "key-link", "data-reference")
LESSON_EXTENSIONS = (".md", ".mdx", ".markdown")
DEFAULT_DATA_KEYS = ("lesson", "lessons", "prerequisites", "relatedLessons", "slug")
CACHE_KEY = "coursecheck.graph"
_BY_PATH_KEY = "coursecheck.graph.by-path"
_SUGGEST_KEY = "coursecheck.graph.suggest"
_IDS_KEY = "coursecheck.graph.ids"
_LETTERS_KEY = "coursecheck.graph.id-letters"


def networkx() -> Any:
    """networkx, imported on first use: it takes ~0.4 s to import, and runs that check no
    graph (``--select mermaid``, ``coursecheck rules``) should not pay for it."""
    import networkx as nx

    return nx


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(slots=True)
class Reference:
    """One place where a file names a lesson (or, for key links, a file)."""

    kind: str  # one of EDGE_KINDS
    source: Document | None  # the file it is written in (None: the config, for key links)
    written: str  # the reference as written
    span: Span
    target: Document | None = None  # the lesson it resolves to
    target_path: str = ""  # a non-lesson target (key links to files or folders)
    where: str = ""  # "prerequisites[1]", "relatedLessons[0].slug", "link"...

    @property
    def resolved(self) -> bool:
        return self.target is not None or bool(self.target_path)


@dataclass(slots=True)
class GraphSettings:
    """The ``[graph]`` config section."""

    routes: tuple[str, ...] = ()  # URL prefixes of lesson pages, e.g. "/course/"
    data_keys: tuple[str, ...] = DEFAULT_DATA_KEYS
    prerequisites_field: str = "prerequisites"
    start: tuple[str, ...] = ()  # lessons a learner starts from (default: the first one)
    route: RouteSettings = field(default_factory=RouteSettings)  # how the site serves pages


GRAPH_KEYS: dict[str, type] = {
    "routes": list,
    "data-keys": list,
    "prerequisites-field": str,
    "start": list,
    "mounts": dict,
    "case-sensitive": bool,
    "locales": list,
    "fallback-locale": str,
    "redirects": list,
    "alias-fields": list,
    "served-elsewhere": list,
}


def settings_from(config: Config) -> GraphSettings:
    """``[graph]`` as settings; route prefixes default to the site-route aliases (``/course/{path}``)."""
    raw = config.sections.get("graph")
    raw = raw if isinstance(raw, dict) else {}

    def strings(key: str) -> tuple[str, ...] | None:
        value = raw.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        return None

    routes = strings("routes")
    if routes is None:
        routes = tuple(
            dict.fromkeys(t.split("{", 1)[0] for t in config.course.aliases if t.startswith("/") and "{" in t)
        )
    field_name = raw.get("prerequisites-field")
    return GraphSettings(
        routes=routes,
        data_keys=strings("data-keys") or DEFAULT_DATA_KEYS,
        prerequisites_field=field_name if isinstance(field_name, str) else "prerequisites",
        start=strings("start") or (),
        route=settings_from_raw(raw),
    )


@dataclass(slots=True)
class CourseGraph:
    """The graph and what went into it. Node keys are file paths relative to the root."""

    course: Course
    settings: GraphSettings
    graph: nx.DiGraph
    references: list[Reference] = field(default_factory=list)
    router: Router | None = None
    _prerequisites: nx.DiGraph | None = None
    _display_form: int | None = None
    _unresolved: tuple[int, list[Reference]] | None = None

    # -- queries --------------------------------------------------------------------------

    @property
    def unresolved(self) -> list[Reference]:
        # Computed once (rules ask per lesson); recomputed if references were added since.
        if self._unresolved is None or self._unresolved[0] != len(self.references):
            self._unresolved = (len(self.references), [r for r in self.references if not r.resolved])
        return self._unresolved[1]

    def node_of(self, doc: Document) -> str:
        return doc.relpath

    def edge_kinds(self, a: str, b: str) -> set[str]:
        data = self.graph.get_edge_data(a, b)
        return set(data["kinds"]) if data else set()

    def edge_references(self, a: str, b: str) -> list[Reference]:
        data = self.graph.get_edge_data(a, b)
        return list(data["references"]) if data else []

    def prerequisites(self) -> nx.DiGraph:
        """Lessons only, an edge X -> P for each prerequisite P that lesson X lists."""
        if self._prerequisites is None:
            sub = networkx().DiGraph()
            for doc in self.course.lessons:
                sub.add_node(doc.relpath)
            for a, b, data in self.graph.edges(data=True):
                if "prerequisite" in data["kinds"]:
                    sub.add_edge(a, b)
            self._prerequisites = sub
        return self._prerequisites

    def learning_paths(self, in_order: bool = False) -> nx.DiGraph:
        """Lessons only, an edge A -> B where a learner can go from A to B: B lists A as a
        prerequisite, or A links to B. Declared key links and data files are not ways in.
        ``in_order``: also from a module's last lesson to the next module's first one (the
        course is read in order; see :meth:`module_steps`)."""
        paths = networkx().DiGraph()
        for doc in self.course.lessons:
            paths.add_node(doc.relpath)
        for a, b, data in self.graph.edges(data=True):
            if a == b or not (paths.has_node(a) and paths.has_node(b)):
                continue
            if "prerequisite" in data["kinds"]:
                paths.add_edge(b, a)
            if "link" in data["kinds"]:
                paths.add_edge(a, b)
        if in_order:
            paths.add_edges_from(self.module_steps())
        return paths

    def module_steps(self) -> list[tuple[str, str]]:
        """(last lesson of a module, first lesson of the next module) in course order: a
        module's first lesson follows the module before it (it has no prerequisite of its own)."""
        steps = []
        previous: Document | None = None
        for doc in self.course.lessons:
            if previous is not None and _module_of(previous) != _module_of(doc):
                steps.append((previous.relpath, doc.relpath))
            previous = doc
        return steps

    def learning_successors(self, in_order: bool = False) -> dict[str, list[str]]:
        """:meth:`learning_paths` as plain adjacency lists (lesson -> the lessons a learner
        can go to next, each once), every lesson a key: for walks over thousands of lessons
        without building a second DiGraph."""
        lessons = {doc.relpath for doc in self.course.lessons}
        nexts: dict[str, dict[str, None]] = {doc.relpath: {} for doc in self.course.lessons}
        for a, b, data in self.graph.edges(data=True):
            if a == b or a not in lessons or b not in lessons:
                continue
            kinds = data["kinds"]
            if "prerequisite" in kinds:
                nexts[b][a] = None
            if "link" in kinds:
                nexts[a][b] = None
        if in_order:
            for a, b in self.module_steps():
                nexts[a][b] = None
        return {lesson: list(after) for lesson, after in nexts.items()}

    def start_lessons(self) -> list[Document]:
        """Where a learner starts: ``[graph] start`` or the first lesson in course order."""
        found = [d for d in (resolve_lesson(self.course, s) for s in self.settings.start) if d is not None]
        if found:
            return found
        return self.course.lessons[:1]

    def display(self, doc: Document) -> str:
        """A lesson's id in the form the course's prerequisites use (e.g. ``module-2/01-x``)."""
        if self._display_form is None:
            forms: Counter[int] = Counter()
            for ref in self.references:
                if ref.kind == "prerequisite" and ref.target is not None:
                    written_as = [ref.target.lesson_id, *ref.target.aliases]
                    if ref.written.strip() in written_as:
                        forms[written_as.index(ref.written.strip())] += 1
            self._display_form = forms.most_common(1)[0][0] if forms else 0
        names = [doc.lesson_id or doc.relpath, *doc.aliases]
        return names[self._display_form] if self._display_form < len(names) else names[0]

    def suggestions(self, written: str, limit: int = 3) -> list[str]:
        """Lesson ids or aliases closest to ``written``, best first, one per lesson."""
        return suggest(self.course, written, limit)


def _module_of(doc: Document) -> str:
    return doc.relpath.rsplit("/", 1)[0] if "/" in doc.relpath else ""


# -- resolving ------------------------------------------------------------------------------


def resolve_lesson(course: Course, ref: str) -> Document | None:
    """The lesson ``ref`` names: an id, an alias, a route, or a lesson's file path."""
    ref = ref.strip()
    if not ref:
        return None
    doc = course.resolve(ref)
    if doc is not None:
        return doc
    bare = ref.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    for ext in LESSON_EXTENSIONS:
        if bare.endswith(ext):
            bare = bare[: -len(ext)]
            doc = course.resolve(bare)
            if doc is not None:
                return doc
            break
    by_path = course.cache.get(_BY_PATH_KEY)
    if by_path is None or len(by_path[0]) != len(course.lessons):
        # One index per run, not a scan of every lesson per unresolved reference (quadratic
        # on large courses). The lesson count guards against a Course changed after indexing.
        index: dict[str, Document] = {}
        for lesson in course.lessons:
            index.setdefault(_without_extension(lesson.relpath), lesson)
        by_path = (course.lessons[:], index)
        course.cache[_BY_PATH_KEY] = by_path
    return by_path[1].get(bare)


def suggest(course: Course, written: str, limit: int = 3, cutoff: float = 0.6) -> list[str]:
    # The same wrong name is often written in many places: compare it with every id once.
    memo: dict[tuple[str, int, float, int], list[str]] = course.cache.setdefault(_SUGGEST_KEY, {})
    key = (written, limit, cutoff, len(course.by_id))
    if key not in memo:
        stored_key = None
        if course.store is not None:  # between runs: the answer depends on the ids only
            ids = course.cache.get(_IDS_KEY)
            if ids is None or ids[0] != len(course.by_id):
                digest = hashlib.sha256("\0".join(f"{k}\0{d.relpath}" for k, d in course.by_id.items()).encode())
                ids = course.cache[_IDS_KEY] = (len(course.by_id), digest.hexdigest())
            stored_key = hashlib.sha256(f"graph.suggest\0{ids[1]}\0{written}\0{limit}\0{cutoff}".encode()).hexdigest()
            stored = course.store.get(stored_key)
            if isinstance(stored, list):
                memo[key] = stored
        if key not in memo:
            memo[key] = _suggest(course, written, limit, cutoff)
            if stored_key is not None:
                course.store.put(stored_key, memo[key])
    return list(memo[key])


class _IdLetters:
    """Every lesson id with its length, and per letter a column of how often each id has
    it (one byte per id): the shared-letter counts of difflib's quick_ratio() for all ids
    at once, by big-integer arithmetic on the columns instead of a loop per id and letter
    (which took 4 s of the course stage at 5,000 lessons)."""

    def __init__(self, course: Course) -> None:
        self.keys = list(course.by_id)
        self.relpaths = [doc.relpath for doc in course.by_id.values()]
        self.lengths = [len(key) for key in self.keys]
        columns: dict[str, bytearray] = {}
        count = len(self.keys)
        for index, key in enumerate(self.keys):
            for letter, times in Counter(key).items():
                column = columns.get(letter)
                if column is None:
                    column = columns[letter] = bytearray(count)
                column[index] = min(times, 255)
        self.columns = {letter: bytes(column) for letter, column in columns.items()}

    def shared(self, wanted: Counter[str]) -> bytes | None:
        """Per id, how many letters it shares with ``wanted`` (as multisets); None when a
        count could pass 255 (one byte per id)."""
        if sum(wanted.values()) > 255:
            return None
        total = 0
        for letter, times in wanted.items():
            column = self.columns.get(letter)
            if column is not None:
                # Each byte min(count, times); the sums stay below 256: no carry between ids.
                total += int.from_bytes(column.translate(_AT_MOST[min(times, 255)]), "little")
        return total.to_bytes(len(self.keys), "little")


# _AT_MOST[cap][value] == min(value, cap); built from slices (a generator per byte cost ~30 ms per start-up).
_AT_MOST = [bytes(range(cap)) + bytes([cap]) * (256 - cap) for cap in range(256)]


def _id_letters(course: Course) -> _IdLetters:
    cached = course.cache.get(_LETTERS_KEY)
    if cached is None or cached[0] != len(course.by_id):
        cached = course.cache[_LETTERS_KEY] = (len(course.by_id), _IdLetters(course))
    return cached[1]


def _suggest(course: Course, written: str, limit: int, cutoff: float) -> list[str]:
    target = written.strip()
    matcher = difflib.SequenceMatcher(b=target)
    # quick_ratio() bounds ratio() from above: compute the costly ratio() best bound first
    # and stop once no remaining name can enter the answer (same result as trying all).
    # The bounds are difflib's real_quick_ratio() and quick_ratio(), 2 * shared / total
    # length, with the shared letters of all ids counted at once (_IdLetters).
    ids = _id_letters(course)
    size = len(target)
    shared = ids.shared(Counter(target)) if size else None
    # (-bound, index): sorted, the best bound first, ties in id order.
    candidates: list[tuple[float, int]]
    if shared is not None:
        # shared <= min(length, size): a quick bound >= cutoff passes the real quick one.
        candidates = [
            (-(2.0 * common / (length + size)), index)
            for index, (common, length) in enumerate(zip(shared, ids.lengths, strict=True))
            if 2.0 * common / (length + size) >= cutoff
        ]
    else:
        candidates = []
        for index, length in enumerate(ids.lengths):
            total = length + size
            if not total:
                candidates.append((-1.0, index))
                continue
            if 2.0 * min(length, size) / total < cutoff:
                continue
            matcher.set_seq1(ids.keys[index])
            bound = matcher.quick_ratio()
            if bound >= cutoff:
                candidates.append((-bound, index))
    candidates.sort()
    best: dict[str, tuple[float, int, str]] = {}
    threshold = cutoff
    for negated, index in candidates:
        if -negated < threshold:
            break
        key, relpath = ids.keys[index], ids.relpaths[index]
        matcher.set_seq1(key)
        score = matcher.ratio()
        if score < cutoff:
            continue
        old = best.get(relpath)
        if old is None or score > old[0] or (score == old[0] and index < old[1]):
            best[relpath] = (score, index, key)
            scores = sorted((s for s, _, _ in best.values()), reverse=True)
            threshold = max(cutoff, scores[0] - 0.15, scores[limit - 1] if len(scores) >= limit else cutoff)
    ranked = sorted(((score, key) for score, _, key in best.values()), key=lambda item: (-item[0], item[1]))
    # Only names about as close as the closest one: a clear winner is suggested alone.
    floor = ranked[0][0] - 0.15 if ranked else cutoff
    return [key for score, key in ranked[:limit] if score >= floor]


def did_you_mean(names: list[str]) -> str:
    if not names:
        return ""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        return f"; did you mean {quoted[0]}?"
    return f"; did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"


def _without_extension(path: str) -> str:
    for ext in LESSON_EXTENSIONS:
        if path.endswith(ext):
            return path[: -len(ext)]
    return path


def lesson_href(href: str, settings: GraphSettings) -> tuple[str, bool] | None:
    """Whether a link target may name a lesson: ``(path without #fragment/?query, sure)``.

    ``sure`` is False for targets that are lessons only if they resolve (absolute paths
    outside the route prefixes, bare relative names); None means "not a lesson reference":
    external URLs, ``mailto:``, anchors, assets (a file extension other than a lesson's),
    and hrefs computed at build time (``{...}``, ``${...}``).
    """
    href = href.strip()
    for prefix in settings.routes:
        # A route that is a link scheme of the site ("info:intro" names the lesson "intro").
        if not prefix.startswith("/") and href.startswith(prefix) and len(href) > len(prefix):
            return href.split("#", 1)[0].split("?", 1)[0], True
    if not href or href.startswith(("#", "//")) or _SCHEME.match(href) or "{" in href:
        return None
    path = href.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return None
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if "." in last.strip(".") and not last.endswith(LESSON_EXTENSIONS):
        return None
    if path.startswith("/"):
        if settings.routes:
            for prefix in settings.routes:
                rest = path[len(prefix) :] if path.startswith(prefix) else None
                if rest is not None and rest.strip("/"):
                    # The root route with the site's mounts: the routing model says which
                    # root paths are the repository's pages (/subscribe may be the site's own).
                    return path, not (prefix == "/" and settings.route.mounts)
            return (path, False) if any(path.rstrip("/") == p.rstrip("/") for p in settings.routes) else None
        return path, False
    if path.startswith(("./", "../")) or path.endswith(LESSON_EXTENSIONS):
        return path, True
    return path, False


def _resolve_link(course: Course, doc: Document, path: str, router: Router | None = None) -> Document | Served | None:
    """What a link's path (no fragment, no query) leads to: a lesson, something the site
    serves that is not a lesson (:class:`~coursecheck.routing.Served`), or None."""
    if _SCHEME.match(path) and not path.startswith("/"):
        return resolve_lesson(course, path)  # a site's own link scheme, named by the aliases
    if path.startswith("/"):
        lesson = resolve_lesson(course, path)
        if lesson is not None or router is None:
            return lesson
        return router.resolve(path)
    # Relative: against the lesson's file, then against its site route (as a folder, and as
    # a page: a site may serve "a/b.md" at "/a/b/" or at "/a/b").
    from_file = posixpath.normpath(posixpath.join(posixpath.dirname(doc.relpath), path))
    found: Document | Served | None = resolve_lesson(course, from_file)
    if found is None and router is not None:
        found = router.page(from_file)
    if found is not None:
        return found
    urls = [alias for alias in doc.aliases if alias.startswith("/")]
    if router is not None:
        urls += router.url_of(doc)
    for url in dict.fromkeys(urls):
        for base in (url, posixpath.dirname(url.rstrip("/"))):
            joined = join_url(base, path)
            found = resolve_lesson(course, joined)
            if found is None and router is not None:
                found = router.resolve(joined)
            if found is not None:
                return found
    return None


# -- building -------------------------------------------------------------------------------


def course_graph(course: Course, config: Config) -> CourseGraph:
    """The course graph, built on first use and cached in ``course.cache``."""
    cached = course.cache.get(CACHE_KEY)
    if isinstance(cached, CourseGraph):
        return cached
    built = build(course, settings_from(config), key_links=_key_link_entries(config))
    course.cache[CACHE_KEY] = built
    GRAPH_MERMAID.setdefault(course.extra, to_mermaid(built, kinds=("prerequisite",)))
    course.extra.setdefault("graph_modules_mermaid", to_mermaid_modules(built))
    return built


def _key_link_entries(config: Config) -> list[tuple[str, str]]:
    entries = config.sections.get("key-link")
    out = []
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("from"), str) and isinstance(entry.get("to"), str):
                out.append((entry["from"], entry["to"]))
    return out


def build(course: Course, settings: GraphSettings, key_links: Iterable[tuple[str, str]] = ()) -> CourseGraph:
    graph = networkx().DiGraph()
    for doc in course.lessons:
        graph.add_node(
            doc.relpath,
            kind="lesson",
            id=doc.lesson_id,
            title=_title(doc),
            order=doc.order_index,
            module=doc.relpath.rsplit("/", 2)[-2] if doc.relpath.count("/") >= 1 else "",
        )
    for doc in course.data_files:
        graph.add_node(doc.relpath, kind="data", id=doc.relpath, title="", order=None, module="")
    cg = CourseGraph(course, settings, graph, router=make_router(course, settings))
    for doc in course.lessons:
        for ref in _prerequisites_of(course, doc, settings):
            cg.references.append(ref)
        for ref in _links_of(course, doc, settings, cg.router):
            cg.references.append(ref)
    for doc in course.data_files:
        cg.references.extend(_data_references(course, doc, settings))
    for written_from, written_to in key_links:
        source = _endpoint(course, written_from)
        target = _endpoint(course, written_to)
        if source is None or target is None:
            continue
        for node in (source, target):
            if not graph.has_node(node):
                graph.add_node(node, kind="folder" if node.endswith("/") else "file", id=node, title="", order=None)
        ref = Reference("key-link", None, written_to, Span.point(1, 1), course.document(target), target)
        _add_edge(graph, source, target, ref)
    for ref in cg.references:
        if ref.kind != "key-link" and ref.source is not None and ref.target is not None:
            _add_edge(graph, ref.source.relpath, ref.target.relpath, ref)
    return cg


def _add_edge(graph: nx.DiGraph, a: str, b: str, ref: Reference) -> None:
    data = graph.get_edge_data(a, b)
    if data is None:
        graph.add_edge(a, b, kinds={ref.kind}, references=[ref])
        return
    data["kinds"].add(ref.kind)
    data["references"].append(ref)


def _endpoint(course: Course, written: str) -> str | None:
    """A key link's end as a node key: a lesson, a course file, or a file/folder on disk."""
    lesson = resolve_lesson(course, written)
    if lesson is not None:
        return lesson.relpath
    path = written.strip().removeprefix("./")
    if not path or path.startswith("/") or ".." in path.split("/"):
        return None
    if course.document(path) is not None:
        return path
    kind = path_kind(course, course.root / path)  # recorded: the course stage's cache key
    if kind == "dir":
        return path.rstrip("/") + "/"
    if kind == "file":
        return path
    return None


def _exists(course: Course, path: Path) -> bool:
    """Whether a relative link's target exists. One outside the project root (written so, or
    through a link: parse/outside-root reports the link) is not looked at, and not judged."""
    kind = path_kind(course, path)  # recorded: the course stage's cache key
    return kind in ("file", "dir", "other", "outside")


def _title(doc: Document) -> str:
    if doc.frontmatter is not None and isinstance(doc.frontmatter.data.get("title"), str):
        return doc.frontmatter.data["title"]
    return doc.headings[0].text if doc.headings else ""


def _prerequisites_of(course: Course, doc: Document, settings: GraphSettings) -> Iterator[Reference]:
    fm = doc.frontmatter
    if fm is None:
        return
    name = settings.prerequisites_field
    value = fm.data.get(name)
    items: list[tuple[Any, ...]]
    if isinstance(value, str):
        items = [((name,), value)]
    elif isinstance(value, list):
        items = [((name, i), v) for i, v in enumerate(value)]
    else:
        return
    for keypath, written in items:
        if not isinstance(written, str) or not written.strip():
            continue
        where = f"{name}[{keypath[1]}]" if len(keypath) > 1 else name
        target = resolve_lesson(course, written)
        yield Reference("prerequisite", doc, written, fm.place(*keypath), target, where=where)


def make_router(course: Course, settings: GraphSettings) -> Router:
    """The site's routing for this course (redirect files read through the recorded reads)."""
    router = Router(course, settings.route)
    router.load_redirects(lambda rel: read_text(course, rel))
    return router


def _links_of(
    course: Course, doc: Document, settings: GraphSettings, router: Router | None = None
) -> Iterator[Reference]:
    # What a written href means depends on the href only (within one lesson): decided once,
    # so a lesson with thousands of links to one page costs one resolution, not thousands.
    decided: dict[str, tuple[str, Any]] = {}
    for link in doc.links:
        # The href as written (markdown-it percent-encodes non-ASCII characters in link.href).
        written = _written(doc, link.href_span)
        if not written.strip():
            written = link.href
        verdict = decided.get(written)
        if verdict is None:
            verdict = decided[written] = _decide_link(course, doc, written, settings, router)
        what, target = verdict
        if what == "skip":
            continue
        if what == "served":
            # Served, but not a lesson (a redirect out, a folder's page): resolved, no edge.
            yield Reference("link", doc, written.strip(), link.href_span, None, target.target, where="link")
            continue
        # A reference link's finding (and an editor's rename) is at its destination, in the
        # definition: the exact text to edit.
        yield Reference("link", doc, written.strip(), link.href_span, target, where="link")


def _decide_link(
    course: Course, doc: Document, written: str, settings: GraphSettings, router: Router | None
) -> tuple[str, Any]:
    """``("skip", None)``, ``("served", Served)`` or ``("edge", target or None)`` for an href of ``doc``."""
    # Resolve what the link means: a percent-encoded route names the same lesson.
    candidate = lesson_href(unquote(written), settings)
    if candidate is None:
        return "skip", None
    path, sure = candidate
    target = _resolve_link(course, doc, path, router)
    if isinstance(target, Served):
        return "served", target
    if target is None and not sure and not (router is not None and router.claims(path)):
        return "skip", None
    if target is None and not path.startswith("/") and _exists(course, (course.root / doc.relpath).parent / path):
        return "skip", None  # a relative link to an existing non-lesson file or folder
    if target is doc:
        return "skip", None  # a link within the lesson
    return "edge", target


def _written(doc: Document, span: Span) -> str:
    """The text of ``span``. A one-line span is cut from its line (a record keeps the text of
    its links' lines): the file is not read again in the course stage."""
    if span.line == span.end_line:
        line = doc.lines.text_at(span.line)
        if 1 <= span.column <= span.end_column <= len(line) + 1:
            return line[span.column - 1 : span.end_column - 1]
    return doc.source[_offset(doc, span) : _offset(doc, span, end=True)]


def _offset(doc: Document, span: Span, end: bool = False) -> int:
    if end:
        return doc.lines.offset(span.end_line, span.end_column)
    return doc.lines.offset(span.line, span.column)


def _data_references(course: Course, doc: Document, settings: GraphSettings) -> Iterator[Reference]:
    if doc.data is None or not settings.data_keys:
        return
    keys = set(settings.data_keys)
    found: list[tuple[tuple[Any, ...], str]] = []
    _walk_data(doc.data, (), keys, found)
    if not found:
        return
    from coursecheck.parse.data import data_place  # positions are read only when needed

    for keypath, written in found:
        where = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keypath).lstrip(".")
        yield Reference(
            "data-reference",
            doc,
            written,
            data_place(doc, *keypath),
            resolve_lesson(course, written),
            where=where,
        )


def _walk_data(data: Any, path: tuple[Any, ...], keys: set[str], out: list[tuple[tuple[Any, ...], str]]) -> None:
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, path)]
    while stack:
        node, here = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in keys and isinstance(value, str):
                    if value.strip():
                        out.append(((*here, key), value))
                    continue
                if key in keys and isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                    out.extend(((*here, key, i), v) for i, v in enumerate(value) if v.strip())
                    continue
                if isinstance(value, (dict, list)):
                    stack.append((value, (*here, key)))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, (dict, list)):
                    stack.append((value, (*here, i)))
    out.sort(key=lambda item: [str(k) if not isinstance(k, int) else f"{k:09d}" for k in item[0]])


# -- export ---------------------------------------------------------------------------------


def _edges(cg: CourseGraph, kinds: Iterable[str]) -> list[tuple[str, str, str]]:
    wanted = set(kinds)
    out = []
    for a, b, data in cg.graph.edges(data=True):
        for kind in EDGE_KINDS:
            if kind in data["kinds"] and kind in wanted:
                out.append((a, b, kind))
    order = {n: i for i, n in enumerate(cg.graph.nodes)}
    out.sort(key=lambda e: (order[e[0]], order[e[1]], EDGE_KINDS.index(e[2])))
    return out


def _label(cg: CourseGraph, node: str) -> str:
    data = cg.graph.nodes[node]
    if data.get("kind") == "lesson":
        return posixpath.basename(data.get("id") or node)
    return node


def _quote_mermaid(text: str) -> str:
    """A quoted label's text: one line, nothing that closes the label or opens HTML."""
    return mermaid_label(text)


def to_mermaid(cg: CourseGraph, kinds: Iterable[str] = EDGE_KINDS) -> str:
    """A Mermaid flowchart. Prerequisite arrows point in learning order (prerequisite -->
    lesson); links, data references and key links point from the file that writes them.
    Unresolved references appear as red dashed nodes; prerequisites that close a cycle or
    point forward in course order are drawn in red."""
    kinds = tuple(kinds)
    ids = {node: f"n{i}" for i, node in enumerate(cg.graph.nodes)}
    lines = ["flowchart TD"]
    modules: dict[str, list[str]] = {}
    loose: list[str] = []
    edges = _edges(cg, kinds)
    used = {n for a, b, _ in edges for n in (a, b)}
    for node, data in cg.graph.nodes(data=True):
        if data.get("kind") == "lesson":
            modules.setdefault(data.get("module", ""), []).append(node)
        elif node in used:
            loose.append(node)
    for m, (module, nodes) in enumerate(modules.items()):
        indent = "  "
        if module:
            lines.append(f'  subgraph m{m}["{_quote_mermaid(module)}"]')
            indent = "    "
        for node in nodes:
            lines.append(f'{indent}{ids[node]}["{_quote_mermaid(_label(cg, node))}"]')
        if module:
            lines.append("  end")
    for node in loose:
        lines.append(f'  {ids[node]}[/"{_quote_mermaid(node)}"/]')
    arrows = {"prerequisite": "-->", "link": "-.->", "data-reference": "-.->", "key-link": "==>"}
    styled: list[int] = []
    bad = problem_prerequisites(cg)
    count = 0
    for a, b, kind in edges:
        if kind == "prerequisite":
            lines.append(f"  {ids[b]} {arrows[kind]} {ids[a]}")
            if (a, b) in bad:
                styled.append(count)
        elif kind == "link":
            lines.append(f"  {ids[a]} {arrows[kind]}|link| {ids[b]}")
        else:
            lines.append(f"  {ids[a]} {arrows[kind]} {ids[b]}")
        count += 1
    missing = [r for r in cg.unresolved if r.kind in kinds and r.source is not None]
    for i, ref in enumerate(missing):
        assert ref.source is not None
        lines.append(f'  u{i}["{_quote_mermaid(ref.written)}"]:::missing')
        if ref.kind == "prerequisite":
            lines.append(f"  u{i} -.-x {ids[ref.source.relpath]}")
        else:
            lines.append(f"  {ids[ref.source.relpath]} -.-x u{i}")
        count += 1
    if missing:
        lines.append("  classDef missing stroke:#d33,stroke-dasharray:4 4,color:#d33")
    if styled:
        lines.append(f"  linkStyle {','.join(map(str, styled))} stroke:#d33,stroke-width:2px")
    return "\n".join(lines) + "\n"


def to_mermaid_modules(cg: CourseGraph) -> str:
    """The prerequisite graph collapsed to modules (a folder of lessons is one node, with its
    lesson count): what a report shows when the lesson graph is too big to render. An arrow
    says how many prerequisites go from one module to the next; a module whose lessons name
    a prerequisite that does not exist is drawn red, with how many."""
    modules: dict[str, int] = {}
    module_of: dict[str, str] = {}
    for node, data in cg.graph.nodes(data=True):
        if data.get("kind") == "lesson":
            module = data.get("module", "") or "(top)"
            modules[module] = modules.get(module, 0) + 1
            module_of[node] = module
    ids = {module: f"m{i}" for i, module in enumerate(modules)}
    crossing: Counter[tuple[str, str]] = Counter()
    for a, b, _kind in _edges(cg, ("prerequisite",)):
        ma, mb = module_of.get(a), module_of.get(b)
        if ma is not None and mb is not None and ma != mb:
            crossing[(mb, ma)] += 1  # learning order: the prerequisite's module first
    unresolved: Counter[str] = Counter(
        module_of.get(r.source.relpath, "")
        for r in cg.unresolved
        if r.kind == "prerequisite" and r.source is not None
    )
    lines = ["flowchart TD"]
    for module, count in modules.items():
        label = f"{module} ({count} lesson{'s' if count != 1 else ''}"
        missing = unresolved.get(module, 0)
        label += f", {missing} unresolved)" if missing else ")"
        lines.append(f'  {ids[module]}["{_quote_mermaid(label)}"]' + (":::missing" if missing else ""))
    for (first, then), count in crossing.items():
        lines.append(f"  {ids[first]} -->|{count}| {ids[then]}")
    if unresolved:
        lines.append("  classDef missing stroke:#d33,stroke-dasharray:4 4,color:#d33")
    return "\n".join(lines) + "\n"


def problem_prerequisites(cg: CourseGraph) -> set[tuple[str, str]]:
    """Prerequisite edges X -> P that close a cycle or point forward in course order."""
    pre = cg.prerequisites()
    order = {d.relpath: d.order_index or 0 for d in cg.course.lessons}
    out = set()
    for a, b in pre.edges:
        if order.get(b, 0) >= order.get(a, 0):
            out.add((a, b))
    return out


def _dot_id(text: str) -> str:
    """A quoted DOT id: one line (control characters shown as escapes), no CI log command."""
    return '"' + display(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(cg: CourseGraph, kinds: Iterable[str] = EDGE_KINDS) -> str:
    """Graphviz DOT, with the same arrow directions as :func:`to_mermaid`."""
    kinds = tuple(kinds)
    lines = ["digraph course {", "  rankdir=TB;", "  node [shape=box, fontname=Helvetica];"]
    modules: dict[str, list[str]] = {}
    for node, data in cg.graph.nodes(data=True):
        if data.get("kind") == "lesson":
            modules.setdefault(data.get("module", ""), []).append(node)
    for m, (module, nodes) in enumerate(modules.items()):
        lines.append(f"  subgraph cluster_{m} {{")
        lines.append(f"    label={_dot_id(module)};")
        for node in nodes:
            lines.append(f"    {_dot_id(node)} [label={_dot_id(_label(cg, node))}];")
        lines.append("  }")
    used = {n for a, b, _ in _edges(cg, kinds) for n in (a, b)}
    for node, data in cg.graph.nodes(data=True):
        if data.get("kind") != "lesson" and node in used:
            lines.append(f"  {_dot_id(node)} [shape=note];")
    styles = {"prerequisite": "", "link": " [style=dashed, label=link]", "data-reference": " [style=dotted]"}
    styles["key-link"] = " [style=bold, label=key]"
    bad = problem_prerequisites(cg)
    for a, b, kind in _edges(cg, kinds):
        if kind == "prerequisite":
            colour = " [color=red]" if (a, b) in bad else ""
            lines.append(f"  {_dot_id(b)} -> {_dot_id(a)}{colour};")
        else:
            lines.append(f"  {_dot_id(a)} -> {_dot_id(b)}{styles[kind]};")
    for i, ref in enumerate(r for r in cg.unresolved if r.kind in kinds and r.source is not None):
        assert ref.source is not None
        lines.append(f"  missing{i} [label={_dot_id(ref.written)}, color=red, style=dashed];")
        if ref.kind == "prerequisite":
            lines.append(f"  missing{i} -> {_dot_id(ref.source.relpath)} [color=red, style=dashed];")
        else:
            lines.append(f"  {_dot_id(ref.source.relpath)} -> missing{i} [color=red, style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(cg: CourseGraph, kinds: Iterable[str] = EDGE_KINDS) -> str:
    """Nodes, edges (``source`` writes a reference to ``target``) and unresolved references."""
    kinds = tuple(kinds)
    nodes = [
        {
            "node": node,
            "kind": data.get("kind"),
            "id": data.get("id"),
            "title": data.get("title", ""),
            "order": data.get("order"),
        }
        for node, data in cg.graph.nodes(data=True)
    ]
    edges = []
    for a, b, kind in _edges(cg, kinds):
        places = [
            {"path": r.source.relpath, "line": r.span.line, "column": r.span.column, "written": r.written}
            for r in cg.edge_references(a, b)
            if r.kind == kind and r.source is not None
        ]
        edges.append({"source": a, "target": b, "kind": kind, "places": places})
    unresolved = [
        {
            "kind": r.kind,
            "path": r.source.relpath,
            "line": r.span.line,
            "column": r.span.column,
            "written": r.written,
            "suggestions": cg.suggestions(r.written),
        }
        for r in cg.unresolved
        if r.kind in kinds and r.source is not None
    ]
    graph = json.dumps({"nodes": nodes, "edges": edges, "unresolved": unresolved}, ensure_ascii=False, indent=2)
    return json_text(graph) + "\n"
