"""What is under the cursor, and where it leads: prerequisites, internal links, glossary
terms; the references to a lesson; completion of lesson ids and link targets; the edits a
lesson's rename makes in every file that names it.

Pure functions over a :class:`~coursecheck.lsp.workspace.CourseWorkspace`: positions in
and out are 1-based lines and code-point columns (the server converts them to the client's
encoding). The course graph (:mod:`coursecheck.graph`) knows every reference with its span
and target; the glossary (:mod:`coursecheck.glossary`) every term with its place.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from coursecheck import glossary as glossary_mod
from coursecheck import graph as graph_mod
from coursecheck.model import Document, Finding
from coursecheck.text import Span

if TYPE_CHECKING:
    from coursecheck.graph import CourseGraph, Reference
    from coursecheck.lsp.workspace import CourseWorkspace

LESSON_EXTENSIONS = graph_mod.LESSON_EXTENSIONS


@dataclass(slots=True)
class Place:
    """A place in a file of the project: relpath and span (1-based, code points)."""

    relpath: str
    span: Span


@dataclass(slots=True)
class TextEdit:
    relpath: str
    span: Span
    new_text: str


@dataclass(slots=True)
class RenamePlan:
    """A lesson's rename: the files moved and the edits in the files that name them."""

    moves: list[tuple[str, str]] = field(default_factory=list)  # (old relpath, new relpath)
    edits: list[TextEdit] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # references left as written, and why


def graph(ws: CourseWorkspace) -> CourseGraph | None:
    """The course graph of the workspace's last course stage (built once per course)."""
    course, config = ws.course, ws.config
    if course is None or config is None:
        return None
    return graph_mod.course_graph(course, config)


def contains(span: Span, line: int, column: int) -> bool:
    """Whether the position is inside ``span`` (its end included: a cursor after a word)."""
    if (line, column) < (span.line, span.column):
        return False
    return (line, column) <= (span.end_line, span.end_column)


def reference_at(ws: CourseWorkspace, rel: str, line: int, column: int) -> Reference | None:
    """The prerequisite, internal link or data reference written at the position."""
    cg = graph(ws)
    if cg is None:
        return None
    for ref in cg.references:
        if ref.source is not None and ref.source.relpath == rel and contains(ref.span, line, column):
            return ref
    return None


def lesson_place(doc: Document) -> Place:
    """Where a lesson is shown when jumped to: its title in the frontmatter, else its
    first heading, else its top."""
    fm = doc.frontmatter
    if fm is not None and "title" in fm.data:
        return Place(doc.relpath, fm.place("title"))
    if doc.headings:
        return Place(doc.relpath, doc.headings[0].span)
    return Place(doc.relpath, Span.point(1, 1))


def lesson_title(doc: Document) -> str:
    fm = doc.frontmatter
    if fm is not None and isinstance(fm.data.get("title"), str):
        return fm.data["title"]
    return doc.headings[0].text if doc.headings else ""


# -- glossary ----------------------------------------------------------------------------------


def term_at(ws: CourseWorkspace, rel: str, line: int, column: int) -> tuple[Any, Span] | None:
    """The glossary entry a word at the position is a use of (its inflections count),
    with the span of the use."""
    course, config = ws.course, ws.config
    text = ws.text(rel)
    if course is None or config is None or text is None:
        return None
    try:
        terms = glossary_mod.load(config, course)
    except Exception:
        return None
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    line_text = lines[line - 1]
    for entry in terms.entries:
        if not entry.forms:
            continue
        for m in entry.matcher().finditer(line_text):
            if m.start + 1 <= column <= m.end + 1:
                return entry, Span(line, m.start + 1, line, m.end + 1, m.start + 1, m.end + 1)
    return None


def term_markdown(entry: Any) -> str:
    names = [f"**{entry.term}**" if entry.term else ""]
    if entry.english:
        names.append(entry.english)
    if entry.abbreviation:
        names.append(f"`{entry.abbreviation}`")
    head = " — ".join(n for n in names if n) or entry.label
    parts = [head]
    if entry.definition:
        parts.append(entry.definition)
    if entry.variants:
        parts.append("Variants: " + ", ".join(entry.variants))
    if entry.forbidden:
        parts.append("Not: " + ", ".join(entry.forbidden))
    where = entry.path or "the config"
    parts.append(f"_Glossary: {where}:{entry.place().line}_")
    return "\n\n".join(parts)


def term_place(ws: CourseWorkspace, entry: Any) -> Place:
    path = entry.path
    if not path and ws.config is not None and ws.config_path is not None:
        path = ws.relpath(ws.config_path) or ""
    return Place(path, entry.place("term"))


# -- definition, references, hover ----------------------------------------------------------


def definition(ws: CourseWorkspace, rel: str, line: int, column: int) -> list[Place]:
    ref = reference_at(ws, rel, line, column)
    if ref is not None and ref.target is not None:
        return [lesson_place(ref.target)]
    found = term_at(ws, rel, line, column)
    if found is not None:
        return [term_place(ws, found[0])]
    return []


def references(ws: CourseWorkspace, rel: str, line: int, column: int, include_declaration: bool) -> list[Place]:
    """Every place that requires or links to the lesson under the cursor (a reference to
    it), or to the lesson being edited when the cursor is on none."""
    cg = graph(ws)
    course = ws.course
    if cg is None or course is None:
        return []
    ref = reference_at(ws, rel, line, column)
    target = ref.target if ref is not None else course.document(rel)
    if target is None:
        return []
    places = [
        Place(r.source.relpath, r.span)
        for r in cg.references
        if r.target is not None and r.target.relpath == target.relpath and r.source is not None
    ]
    if include_declaration:
        places.insert(0, lesson_place(target))
    return places


def hover(ws: CourseWorkspace, rel: str, line: int, column: int, findings: list[Finding]) -> tuple[str, Span] | None:
    """Markdown for the position: the lesson a reference names, the glossary term, and the
    docs of the rules whose findings cover it."""
    parts: list[str] = []
    span: Span | None = None
    ref = reference_at(ws, rel, line, column)
    if ref is not None:
        span = ref.span
        if ref.target is not None:
            doc = ref.target
            title = lesson_title(doc)
            lines = [f"**{title}**" if title else f"**{doc.lesson_id}**", f"`{doc.lesson_id}` — {doc.relpath}"]
            fm = doc.frontmatter
            if fm is not None and isinstance(fm.data.get("description"), str):
                lines.append(fm.data["description"])
            parts.append("\n\n".join(lines))
        else:
            parts.append(f"`{ref.written}` names no lesson of the course")
    else:
        found = term_at(ws, rel, line, column)
        if found is not None:
            span = found[1]
            parts.append(term_markdown(found[0]))
    engine = ws.engine
    seen: set[str] = set()
    for f in findings:
        if f.suppression is None and contains(f.span, line, column) and f.rule_id not in seen:
            seen.add(f.rule_id)
            rule = engine.rules.get(f.rule_id) if engine is not None else None
            docs = rule.full_docs() if rule is not None else ""
            parts.append(f"**{f.rule_id}** ({f.level}): {f.message}" + (f"\n\n{_demote(docs)}" if docs else ""))
            span = span or f.span
    if not parts or span is None:
        return None
    return "\n\n---\n\n".join(parts), span


def _demote(docs: str) -> str:
    """A rule's docs inside a hover: its ``##`` sections become ``####``."""
    return re.sub(r"^## ", "#### ", docs, flags=re.M)


# -- completion ---------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^(\s*-\s+)(['\"]?)([^'\"\s]*)$")
_FLOW_ITEM = re.compile(r"[\[,]\s*(['\"]?)([^'\",\[\]\s]*)$")
_LINK_TARGET = re.compile(r"\]\(\s*(<?)([^)\s>]*)$")
_HREF = re.compile(r"""\b(?:href|to)\s*=\s*["']([^"']*)$""")


@dataclass(slots=True)
class Completion:
    label: str
    detail: str
    documentation: str
    start: int  # code-point column (1-based) where the replaced text starts
    sort: str


def completions(
    ws: CourseWorkspace, rel: str, line: int, column: int, limit: int = 200
) -> tuple[list[Completion], bool]:
    """Lesson ids inside the prerequisites field, link targets after ``](`` or ``href="``:
    the candidates for the text typed so far, and whether the list was cut at ``limit``."""
    text = ws.text(rel)
    course = ws.course
    if text is None or course is None:
        return [], False
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return [], False
    before = lines[line - 1][: column - 1]
    kind, typed, start = _completion_context(ws, lines, line, before)
    if kind is None:
        return [], False
    cg = graph(ws)
    items: list[Completion] = []
    needle = typed.lower()
    for order, doc in enumerate(course.lessons):
        if doc.relpath == rel:
            continue
        if kind == "prerequisite":
            label = cg.display(doc) if cg is not None else doc.lesson_id or doc.relpath
        else:
            label = _link_form(doc, rel)
        if needle and needle not in label.lower():
            continue
        items.append(Completion(label, lesson_title(doc), doc.relpath, start, f"{order:06d}"))
        if len(items) >= limit:
            return items, True
    return items, False


def _completion_context(ws: CourseWorkspace, lines: list[str], line: int, before: str) -> tuple[str | None, str, int]:
    field_name = "prerequisites"
    if ws.config is not None:
        field_name = graph_mod.settings_from(ws.config).prerequisites_field
    if _in_frontmatter(lines, line):
        m = _LIST_ITEM.match(before)
        if m is not None and _list_key(lines, line) == field_name:
            return "prerequisite", m.group(3), len(m.group(1)) + len(m.group(2)) + 1
        if re.match(rf"^\s*{re.escape(field_name)}\s*:\s*\[", before):
            m2 = _FLOW_ITEM.search(before)
            if m2 is not None:
                return "prerequisite", m2.group(2), m2.start(2) + 1
        return None, "", 0
    m3 = _LINK_TARGET.search(before) or _HREF.search(before)
    if m3 is not None:
        group = m3.lastindex or 1
        return "link", m3.group(group), m3.start(group) + 1
    return None, "", 0


def _in_frontmatter(lines: list[str], line: int) -> bool:
    if not lines or lines[0].strip() != "---" or line == 1:
        return False
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return line - 1 < i
    return True


def _list_key(lines: list[str], line: int) -> str | None:
    """The key whose block list the item on ``line`` belongs to."""
    for i in range(line - 2, 0, -1):
        text = lines[i]
        if not text.strip() or text.lstrip().startswith("-"):
            continue
        m = re.match(r"^([A-Za-z0-9_-]+)\s*:\s*$", text)
        return m.group(1) if m else None
    return None


def _link_form(doc: Document, from_rel: str) -> str:
    """How a link from ``from_rel`` names the lesson: its site route when the course has
    one (an alias starting with ``/``), else the relative path of its file."""
    for alias in doc.aliases:
        if alias.startswith("/"):
            return alias
    return relative_path(from_rel, doc.relpath)


def relative_path(from_rel: str, to_rel: str) -> str:
    out = posixpath.relpath(to_rel, posixpath.dirname(from_rel) or ".")
    return out if out.startswith("../") else "./" + out


# -- rename ---------------------------------------------------------------------------------------


def rename_target(ws: CourseWorkspace, rel: str, line: int, column: int) -> Reference | None:
    """The reference whose lesson a rename at the position renames (None: not one)."""
    ref = reference_at(ws, rel, line, column)
    if ref is None or ref.target is None or ref.kind not in ("prerequisite", "link", "data-reference"):
        return None
    return ref


def written_range(ws: CourseWorkspace, ref: Reference) -> Span:
    """The span of the reference's text itself (without the quotes around a YAML item)."""
    source = ref.source
    text = ws.text(source.relpath) if source is not None else None
    if text is None or ref.span.line != ref.span.end_line:
        return ref.span
    lines = text.splitlines()
    if not 1 <= ref.span.line <= len(lines):
        return ref.span
    line_text = lines[ref.span.line - 1]
    chunk = line_text[ref.span.column - 1 : ref.span.end_column - 1]
    written = ref.written.strip()
    at = chunk.find(written)
    if at == -1:
        return ref.span
    start = ref.span.column + at
    return _span(ref.span.line, start, start + len(written), line_text)


def new_path_for_name(ws: CourseWorkspace, ref: Reference, new_name: str) -> str | None:
    """The file a lesson moves to when the reference ``ref`` to it is renamed ``new_name``
    (written in the same form as ``ref``); None when the name cannot be a lesson's."""
    engine = ws.engine
    target = ref.target
    if engine is None or target is None:
        return None
    new_name = new_name.strip()
    if not new_name or any(c in new_name for c in "\0\\"):
        return None
    old_names = engine.lesson_names(target.relpath)
    written = _bare(ref.written)
    ext = posixpath.splitext(target.relpath)[1]
    if ref.kind == "link" and not written.startswith("/"):  # a relative link: a path
        base = posixpath.dirname(ref.source.relpath) if ref.source is not None else ""
        candidate = posixpath.normpath(posixpath.join(base, _bare(new_name)))
        if not candidate.endswith(LESSON_EXTENSIONS):
            candidate += ext
        return candidate if not candidate.startswith("../") else None
    if written in old_names:
        index = old_names.index(written)
        wanted = _bare(new_name)
        # The new file keeps the folder and extension; its stem is the new name's last part.
        stem = wanted.rstrip("/").rsplit("/", 1)[-1]
        for folder in _candidate_folders(target.relpath, wanted, old_names[index]):
            candidate = posixpath.join(folder, stem + ext) if folder else stem + ext
            if engine.lesson_names(candidate)[index] == wanted:
                return candidate
        return None
    return None


def _candidate_folders(old_rel: str, wanted: str, old_name: str) -> list[str]:
    """Folders to try for the renamed file: its own, then (when the name's folder part
    changed) the folder of each course lesson whose name has that folder part."""
    folders = [posixpath.dirname(old_rel)]
    wanted_dir = wanted.rstrip("/").rsplit("/", 1)[0] if "/" in wanted.strip("/") else ""
    old_dir = old_name.rstrip("/").rsplit("/", 1)[0] if "/" in old_name.strip("/") else ""
    if wanted_dir != old_dir:
        parent = posixpath.dirname(folders[0])
        folders.append(posixpath.join(parent, wanted_dir.rsplit("/", 1)[-1]) if parent else wanted_dir)
    return folders


def _bare(written: str) -> str:
    """A reference without its #fragment, ?query and trailing slash, decoded."""
    return unquote(written.strip().split("#", 1)[0].split("?", 1)[0]).rstrip("/") or written.strip()


def plan_rename(ws: CourseWorkspace, moves: list[tuple[str, str]]) -> RenamePlan:
    """The edits that keep every prerequisite, link and data reference pointing at the
    lessons of ``moves`` (old relpath -> new relpath) once they are moved: each written in
    the form it was (the same id template or route, a relative path from its file), a
    #fragment kept; and the relative links inside a moved lesson, when its folder changes."""
    plan = RenamePlan(moves=list(moves))
    cg = graph(ws)
    engine = ws.engine
    if cg is None or engine is None:
        return plan
    moved = dict(moves)
    for ref in cg.references:
        if ref.source is None or ref.kind == "key-link":
            continue
        source_old = ref.source.relpath
        source_new = moved.get(source_old, source_old)
        target = ref.target
        if target is None:
            continue
        target_old = target.relpath
        target_new = moved.get(target_old, target_old)
        if target_new == target_old and source_new == source_old:
            continue
        written = ref.written.strip()
        replacement = _rewrite(engine, ref.kind, written, source_old, source_new, target_old, target_new)
        if replacement is None:
            if target_new != target_old:
                plan.skipped.append(
                    f"{source_old}:{ref.span.line}: '{written}' is not written in a form a rename keeps"
                )
            continue
        if replacement == written:
            continue
        span = written_range(ws, ref)
        plan.edits.append(TextEdit(source_old, span, replacement))
    return plan


def _rewrite(
    engine: Any, kind: str, written: str, source_old: str, source_new: str, target_old: str, target_new: str
) -> str | None:
    bare = _bare(written)
    suffix = written[len(written.split("#", 1)[0].split("?", 1)[0]) :]
    trailing = "/" if written.split("#", 1)[0].split("?", 1)[0].endswith("/") else ""
    old_names = engine.lesson_names(target_old)
    new_names = engine.lesson_names(target_new)
    if bare in old_names:
        return new_names[old_names.index(bare)] + trailing + suffix
    for ext in LESSON_EXTENSIONS:  # an id written with the file's extension
        if bare.endswith(ext) and bare[: -len(ext)] in old_names:
            return new_names[old_names.index(bare[: -len(ext)])] + ext + suffix
    if kind == "link" and not bare.startswith("/"):
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source_old), bare))
        stem_old = _strip_ext(target_old)
        if resolved in (target_old, stem_old):
            new = relative_path(source_new, target_new if resolved == target_old else _strip_ext(target_new))
            if not bare.startswith(("./", "../")) and new.startswith("./"):
                new = new[2:]
            return new + trailing + suffix
        return None
    if bare in (_strip_ext(target_old), target_old):  # the file's path from the root
        return (target_new if bare == target_old else _strip_ext(target_new)) + trailing + suffix
    return None


def _strip_ext(path: str) -> str:
    for ext in LESSON_EXTENSIONS:
        if path.endswith(ext):
            return path[: -len(ext)]
    return path


def _span(line: int, start: int, end: int, line_text: str) -> Span:
    """A one-line span from code-point columns (UTF-16 columns from the line's text)."""

    def utf16(column: int) -> int:
        return column + sum(1 for ch in line_text[: column - 1] if ord(ch) > 0xFFFF)

    return Span(line, start, line, end, utf16(start), utf16(end))


def lessons_under(ws: CourseWorkspace, rel_folder: str) -> list[str]:
    """The lessons inside a folder (a folder rename moves them all)."""
    course = ws.course
    if course is None:
        return []
    prefix = rel_folder.rstrip("/") + "/"
    return [d.relpath for d in course.lessons if d.relpath.startswith(prefix)]
