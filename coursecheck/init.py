"""``coursecheck init``: read a repository the way its author would, write a starter config.

What it decides, and how (each decision is written into the config with a comment, and the
summary printed at the end says what was found and what was left out):

* **lessons** are content files with frontmatter; repository furniture (README, LICENSE,
  CHANGELOG, CONTRIBUTING, templates...) is not; **partials** (files in folders whose name
  starts with ``_``, files other pages include or import, text files without frontmatter
  beside lessons that have it) are checked as text, not as lessons; folders that hold no
  lesson at all (a contributors' ``docs/``) are left out. A repository whose pages have no
  frontmatter is read by file names: the name most content files share (``article.md``,
  ``index.md``) names its lessons, which are then named by their folder.
* **the frontmatter schema** is inferred with support thresholds (see
  :mod:`coursecheck.builtin.frontmatter`), using the site's own content schema when one is
  there (``src/content/config.ts``, ``content.config.ts``: zod, read as text).
* **languages** come from the letters of the lessons' prose.
* **data files** are recognized by their shape: glossaries (lists of term objects at any
  depth, categories of terms), quizzes, files whose values name lessons.
* **lesson ids and link routing**: id and alias templates that resolve the prerequisites,
  the site's mounts, locales, case, redirect files and routes served elsewhere, inferred
  from the links themselves (:mod:`coursecheck.initroutes`).

Every file is read and parsed once, in worker processes on big repositories, with a
progress bar in a terminal. Plugins add sections through ``coursecheck_init_sections``
and may look at each parsed file through ``coursecheck_init_file`` (in the same pass).
"""

from __future__ import annotations

import os
import re
import sys
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursecheck.config import expand_template
from coursecheck.escape import display, say, toml_string
from coursecheck.fsutil import SKIP_DIRS, OutsideRoot, atomic_write, read_inside
from coursecheck.parse.data import load_data_file
from coursecheck.text import DecodeError, decode_source, normalize_newlines

MARKDOWN_EXTENSIONS = (".md", ".mdx", ".markdown")
DATA_EXTENSIONS = (".json", ".yaml", ".yml")
# Repository furniture: files about the repository, not pages of the course.
FURNITURE = {
    "readme",
    "changelog",
    "changes",
    "history",
    "license",
    "licence",
    "copying",
    "notice",
    "contributing",
    "contributors",
    "code_of_conduct",
    "code-of-conduct",
    "security",
    "support",
    "maintainers",
    "authors",
    "governance",
    "codeowners",
    "funding",
    "pull_request_template",
    "issue_template",
}
SKIP_FILES = {name + ".md" for name in FURNITURE}  # kept for plugins that imported it
ID_TEMPLATES = (
    "{path}",
    "{path|unnumbered}",
    "{route}",
    "{route|unnumbered}",
    "{dir|unnumbered}/{stem}",
    "{module|unnumbered}/{stem}",
    "{stem}",
    "{stem|unnumbered}",
    "{dir}",
    "{dir|unnumbered}",
    "{folder}",
    "{folder|unnumbered}",
)
DATA_DIR_NAMES = {"data", "glossary", "quizzes", "quiz"}
# Data files that are tools' configuration, never course data.
CONFIG_FILE_NAMES = {
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "jsconfig.json",
    "composer.json",
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "renovate.json",
    "lerna.json",
    "nx.json",
    "turbo.json",
    "crowdin.yml",
    "mkdocs.yml",
    "netlify.toml",
    "vercel.json",
    "_config.yml",
    "manifest.json",
}
CONTENT_SCHEMA_FILES = ("src/content/config.ts", "src/content.config.ts", "content.config.ts", "src/content/config.mts")
PARALLEL_MIN_FILES = 200  # fewer files are surveyed in this process (workers cost more than they save)
SPELLING_SAMPLE = 400  # lessons whose words seed the vocabulary (spread over the course)
_IMPORT = re.compile(r"""^\s*import\s+[\w{}\s,*]+\s+from\s+["']([^"']+\.mdx?)["']""", re.MULTILINE)
_INCLUDE_PROPS = ("src", "file", "path", "include")


@dataclass(slots=True)
class FileFacts:
    """What ``init`` keeps of one Markdown file after its single parse (small, picklable)."""

    rel: str
    frontmatter: dict[str, Any] | None = None  # None: no frontmatter block
    frontmatter_error: bool = False
    components: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)  # what the file imports or includes
    links: list[str] = field(default_factory=list)  # hrefs as written
    headings: list[str] = field(default_factory=list)  # heading lines
    ids: list[str] = field(default_factory=list)  # ids the text sets
    cyrillic: int = 0
    latin: int = 0
    words: int = 0
    plugin_data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Survey:
    """What ``init`` saw; plugins read it to write their sections."""

    root: Path
    lessons: list[str] = field(default_factory=list)
    content_globs: list[str] = field(default_factory=list)
    content_base: str = ""
    data_files: list[str] = field(default_factory=list)
    data_globs: list[str] = field(default_factory=list)
    fields: Counter[str] = field(default_factory=Counter)
    field_values: dict[str, Counter[str]] = field(default_factory=dict)
    components: Counter[str] = field(default_factory=Counter)
    component_props: dict[str, Counter[str]] = field(default_factory=dict)
    prerequisites: list[str] = field(default_factory=list)
    internal_links: list[str] = field(default_factory=list)
    id_template: str = "{path}"
    aliases: list[str] = field(default_factory=list)
    order: str = "path"
    frontmatter: dict[str, dict[str, Any]] = field(default_factory=dict)  # lesson -> data
    # Files plugins want written beside the config (relpath -> text; e.g. a seeded
    # vocabulary), when ``write_files`` (not with --stdout). An existing file is never
    # replaced.
    files: dict[str, str] = field(default_factory=dict)
    write_files: bool = True
    # What the single pass over the files found (relpath -> facts), and what plugins
    # computed per file in it (plugin name -> relpath -> data).
    facts: dict[str, FileFacts] = field(default_factory=dict)
    file_data: dict[str, dict[str, Any]] = field(default_factory=dict)
    markdown_files: list[str] = field(default_factory=list)
    partials: list[str] = field(default_factory=list)
    partial_globs: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # Markdown files neither lessons nor partials
    exclude_globs: list[str] = field(default_factory=list)
    languages: dict[str, str] = field(default_factory=lambda: {"primary": "ru", "secondary": "en"})
    graph: dict[str, Any] = field(default_factory=dict)  # the [graph] table
    graph_notes: list[str] = field(default_factory=list)  # comments written above [graph]
    rules: list[tuple[str, str, str]] = field(default_factory=list)  # (rule id, TOML value, comment)
    notes: list[str] = field(default_factory=list)  # the run summary, one line each
    suggested_packs: list[tuple[str, str]] = field(default_factory=list)  # (pack, why)
    content_schema: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {optional, enum}
    content_schema_file: str = ""
    module_first: set[str] = field(default_factory=set)  # lessons first in their folder
    by_name: bool = False  # lessons found by their file name, not by frontmatter
    redirect_files: list[str] = field(default_factory=list)
    sample: frozenset[str] = frozenset()  # lessons plugins may read closely (spelling seeds)
    problems: list[str] = field(default_factory=list)  # what could not be read

    def sampled(self, rel: str) -> bool:
        """Whether a costly per-file survey (the spelling seed) should read ``rel``: every
        file of a small repository, an even spread of a big one."""
        if not self.sample:
            return True
        return rel in self.sample

    def facts_of(self, rel: str) -> FileFacts | None:
        return self.facts.get(rel)


# -- the single pass over the files ---------------------------------------------------------


def _walk(root: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """Markdown files, data-file candidates, other files worth a look (redirect files), and
    Markdown files in hidden folders (``.github/``: templates, never lessons)."""
    markdown: list[str] = []
    data: list[str] = []
    other: list[str] = []
    hidden: list[str] = []
    for folder, dirnames, filenames in os.walk(root):
        rel_folder = Path(os.path.relpath(folder, root)).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        in_hidden = any(part.startswith(".") for part in prefix.split("/") if part)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and (in_hidden or d != ".git"))
        if in_hidden:
            hidden.extend(prefix + n for n in sorted(filenames) if n.lower().endswith(MARKDOWN_EXTENSIONS))
            continue
        for name in sorted(filenames):
            lower = name.lower()
            if lower.endswith(MARKDOWN_EXTENSIONS):
                markdown.append(prefix + name)
            elif lower.endswith(DATA_EXTENSIONS):
                data.append(prefix + name)
            elif lower == "_redirects":
                other.append(prefix + name)
    return markdown, data, other, hidden


_STATE: tuple[Path, Any, Survey] | None = None  # (root, plugin manager, survey) for workers


# The plugins whose per-file survey (coursecheck_init_file) looks only at sampled files with
# Russian prose (spelling) or at files with a diagram (mermaid): other files need no full
# parse when no other plugin surveys files.
_NARROW_FILE_SURVEYS = {"coursecheck.builtin.mermaid", "coursecheck.builtin.spelling"}


def _needs_full_parse(rel: str, text: str, pm: Any, survey_: Any) -> bool:
    """Whether a file needs the full Markdown parse: a plugin's per-file survey reads its
    prose (any plugin but the narrow ones; spelling, on sampled files with Russian text).
    The others are scanned (:func:`_scanned_facts`), several times faster; the narrow
    surveys get the scanned document (frontmatter, components, code blocks)."""
    impls = pm.hook.coursecheck_init_file.get_hookimpls() if pm is not None else []
    if any(impl.plugin_name not in _NARROW_FILE_SURVEYS for impl in impls):
        return True
    sampled = getattr(survey_, "sampled", None)
    return (sampled is None or sampled(rel)) and _CYRILLIC.search(text) is not None


def _facts(rel: str) -> tuple[FileFacts | None, list[str]]:
    """Read and parse one Markdown file; its facts, and the plugins' problems with it."""
    from coursecheck.parse.markdown import parse_markdown
    from coursecheck.routing import explicit_ids

    assert _STATE is not None
    root, pm, survey_ = _STATE
    try:
        # Not through a link out of the repository (or into .git): its text would end up in
        # the config written here.
        text, _ = decode_source(read_inside(root, rel, parents_checked=True))
    except (OSError, DecodeError):
        return None, []
    text = normalize_newlines(text)
    if not _needs_full_parse(rel, text, pm, survey_):
        facts, scanned = _scanned_facts(root, rel, text)
        return facts, _plugin_file_data(pm, facts, scanned, survey_)
    doc = parse_markdown(root / rel, rel, text, mdx=rel.endswith(".mdx"))
    facts = FileFacts(rel)
    if doc.frontmatter is not None:
        facts.frontmatter = dict(doc.frontmatter.data) if isinstance(doc.frontmatter.data, dict) else {}
    elif text.startswith("---\n"):
        facts.frontmatter_error = any(p.rule_id == "parse/frontmatter" for p in doc.problems)
    for comp in doc.components:
        facts.components.append((comp.name, tuple(comp.props)))
        for name in _INCLUDE_PROPS:
            prop = comp.props.get(name)
            if prop is not None and prop.kind == "string" and prop.value:
                facts.includes.append(prop.value)
    facts.includes += _IMPORT.findall(text)
    facts.links = [link.href for link in doc.links]
    facts.headings = [doc.lines.line_text(h.span.line) for h in doc.headings]
    facts.ids = explicit_ids(text)[:200]
    for seg in doc.iter_segments(("prose", "heading")):
        facts.cyrillic += len(_CYRILLIC.findall(seg.text))
        facts.latin += len(_LATIN.findall(seg.text))
        facts.words += len(_WORD.findall(seg.text))
    return facts, _plugin_file_data(pm, facts, doc, survey_)


def _plugin_file_data(pm: Any, facts: FileFacts, doc: Any, survey_: Any) -> list[str]:
    """The plugins' per-file surveys of ``doc`` into ``facts``; their problems."""
    from coursecheck.plugins import call_each

    notes: list[Any] = []
    for name, value in call_each(pm, "coursecheck_init_file", notes, None, "", doc=doc, survey=survey_):
        facts.plugin_data[name] = value
    return [n.message for n in notes]


# What the scan of a file reads (a file no plugin needs parsed): the frontmatter and the MDX
# components as the parser reads them (the same functions), links and headings by pattern
# in the text outside code.
_MD_LINK = re.compile(r"(?<!!)\[(?:[^\[\]\n]|\[[^\]\n]*\])*\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
_REF_DEFINITION = re.compile(r"(?m)^ {0,3}\[[^\]\n]+\]:\s*<?([^\s>]+)>?")
_ATX_HEADING = re.compile(r"(?m)^ {0,3}#{1,6}(?:[ \t]+|$)")
_ATX_HEADING_MDX = re.compile(r"(?m)^[ \t]*#{1,6}(?:[ \t]+|$)")  # no indented code in MDX
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash escape, as the parser reads it
_CODE_SPAN = re.compile(r"(`+)[^`\n]*?\1")


def _scanned_facts(root: Path, rel: str, text: str) -> tuple[FileFacts, Any]:
    """A file's facts without the Markdown parse (see :func:`_needs_full_parse`), and the
    document the scan made: frontmatter, components and code blocks, no prose."""
    from urllib.parse import unquote

    from coursecheck.model import CodeBlock, Component, Document, Prop, Segment
    from coursecheck.parse.markdown import parse_frontmatter
    from coursecheck.parse.mdx import blank_out, prepass
    from coursecheck.routing import explicit_ids
    from coursecheck.text import LineIndex

    mdx = rel.endswith(".mdx")
    doc = Document(root / rel, rel, "mdx" if mdx else "markdown", text, LineIndex(text))
    body_start = parse_frontmatter(doc)
    pre = prepass(text, mdx=mdx, body_start=body_start)
    facts = FileFacts(rel)
    if doc.frontmatter is not None:
        facts.frontmatter = dict(doc.frontmatter.data) if isinstance(doc.frontmatter.data, dict) else {}
    elif text.startswith("---\n"):
        facts.frontmatter_error = any(p.rule_id == "parse/frontmatter" for p in doc.problems)
    masked = blank_out(text[:body_start]) + pre.masked[body_start:]
    for fence in pre.fences:  # code is not prose: blanked, lines kept
        masked = masked[: fence.start] + blank_out(masked[fence.start : fence.end]) + masked[fence.end :]
        language = fence.info.split()[0] if fence.info.split() else ""
        code = text[fence.content_start : fence.content_end].rstrip("\n")
        segment = Segment("code", code, [(0, fence.content_start)], language)
        doc.code_blocks.append(CodeBlock(language, segment, doc.span(fence.start, fence.end)))
    masked = _CODE_SPAN.sub(lambda m: " " * len(m.group()), masked)
    for raw in pre.components:
        if not raw.name or raw.name.startswith("/"):
            continue
        comp = Component(raw.name, doc.span(raw.start, raw.end))
        for prop in raw.props:
            value_segment = None
            if prop.kind in ("string", "template") and prop.value is not None:
                value_segment = Segment("prop", prop.value, [(0, prop.value_start)], f"{raw.name}.{prop.name}")
            comp.props[prop.name] = Prop(prop.name, prop.value, prop.kind, doc.span(prop.start, prop.end), value_segment)
            if prop.kind in ("string", "template") and prop.value:
                if prop.name in _INCLUDE_PROPS and prop.kind == "string":
                    facts.includes.append(prop.value)
                if prop.name == "href":
                    facts.links.append(prop.value)
        doc.components.append(comp)
        facts.components.append((comp.name, tuple(comp.props)))
    facts.includes += _IMPORT.findall(text)
    found = [(m.start(), unquote(_ESCAPED.sub(r"\1", m.group(1).strip("<>")))) for m in _MD_LINK.finditer(masked)]
    found += [(m.start(), m.group(1)) for m in _AUTOLINK.finditer(masked)]
    found += [(m.start(), unquote(_ESCAPED.sub(r"\1", m.group(1)))) for m in _REF_DEFINITION.finditer(masked)]
    facts.links += [href for _, href in sorted(found)]
    headings = (_ATX_HEADING_MDX if mdx else _ATX_HEADING).finditer(masked)
    facts.headings = [doc.lines.line_text(doc.lines.position(m.start())[0]) for m in headings]
    facts.ids = explicit_ids(text)[:200]
    prose = _MD_LINK.sub(" ", masked)
    facts.cyrillic = len(_CYRILLIC.findall(prose))
    facts.latin = len(_LATIN.findall(prose))
    facts.words = len(_WORD.findall(prose))
    return facts, doc


_CYRILLIC = re.compile(r"[а-яёА-ЯЁіїєґІЇЄҐ]")
_LATIN = re.compile(r"[a-zA-Z]")
_WORD = re.compile(r"[^\W_]+")


def _facts_chunk(chunk: list[str]) -> list[tuple[str, FileFacts | None, list[str]]]:
    return [(rel, *_facts(rel)) for rel in chunk]


def _survey_files(
    s: Survey, pm: Any, files: list[str], jobs: int | None, progress: Callable[[int, int], None] | None
) -> None:
    """Parse every Markdown file once, in worker processes when there are many."""
    global _STATE
    _STATE = (s.root, pm, s)
    total = len(files)
    jobs = jobs or (os.cpu_count() or 1)
    results: list[tuple[str, FileFacts | None, list[str]]] = []
    try:
        if jobs < 2 or total < PARALLEL_MIN_FILES or not _can_fork():
            for i, rel in enumerate(files, 1):
                results.append((rel, *_facts(rel)))
                if progress is not None:
                    progress(i, total)
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            import coursecheck.parse.mdit  # noqa: F401  (imported once, before the workers fork)

            # The first file here, before the workers fork: what parsing and the plugins'
            # per-file surveys load once (a dictionary, the morphology) is then shared by
            # every worker instead of being loaded by each.
            first = _first_sampled(s, files)
            results.append((first, *_facts(first)))
            rest = [rel for rel in files if rel != first]
            size = max(1, min(64, len(rest) // (jobs * 8)))
            chunks = [rest[i : i + size] for i in range(0, len(rest), size)]
            with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                for part in pool.map(_facts_chunk, chunks):
                    results.extend(part)
                    if progress is not None:
                        progress(len(results), total)
    finally:
        _STATE = None
    for rel, facts, problems in results:
        if facts is not None:
            s.facts[rel] = facts
            for name, value in facts.plugin_data.items():
                s.file_data.setdefault(name, {})[rel] = value
        s.problems.extend(problems)


def _first_sampled(s: Survey, files: list[str]) -> str:
    """A file the plugins look at closely (in the sample), with prose: the one to warm up on."""
    for rel in files:
        if s.sampled(rel) and rel.endswith(MARKDOWN_EXTENSIONS):
            return rel
    return files[0]


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def survey(
    root: Path,
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    entry_points: bool = True,
    pm: Any = None,
) -> Survey:
    """Look at the repository under ``root``: every Markdown file parsed once."""
    from coursecheck import initroutes

    root = root.resolve()
    s = Survey(root)
    if pm is None:
        pm = _plugin_manager(entry_points)
    markdown, data_candidates, others, hidden = _walk(root)
    s.markdown_files = markdown
    # The spelling seed reads a spread of the course, not all of a big one.
    if len(markdown) > SPELLING_SAMPLE:
        step = len(markdown) / SPELLING_SAMPLE
        s.sample = frozenset(markdown[int(i * step)] for i in range(SPELLING_SAMPLE))
    _survey_files(s, pm, markdown, jobs, progress)
    _classify(s)
    s.left_out = sorted([*s.left_out, *hidden])
    _layout(s)
    _frontmatter_stats(s)
    _languages(s)
    _read_content_schema(s)
    _data_files(s, data_candidates)
    _guess_ids(s)
    numbered = sum(1 for p in s.lessons if re.match(r"^\d", p.rsplit("/", 1)[-1]))
    if s.lessons and numbered < len(s.lessons) / 2 and s.fields.get("order", 0) >= len(s.lessons) / 2:
        s.order = "frontmatter"
    initroutes.infer(s, data_candidates + others)
    return s


def _plugin_manager(entry_points: bool) -> Any:
    from coursecheck.plugins import make_plugin_manager

    try:
        pm, _notes = make_plugin_manager([], None, entry_points=entry_points)
    except Exception:  # init must work even if a third-party plugin is broken
        pm, _notes = make_plugin_manager([], None, entry_points=False)
    return pm


# -- which files are lessons ------------------------------------------------------------------


def is_furniture(rel: str) -> bool:
    """A file about the repository (README, LICENSE-SA.md, CONTRIBUTING...), by its name."""
    name = rel.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0].lower()
    return stem in FURNITURE or stem.split("-", 1)[0] in ("license", "licence") or stem.endswith("_template")


def is_partial_path(rel: str) -> bool:
    """In a folder whose name starts with ``_`` (``_partials/``, ``_includes/``), or named
    so itself (``_snippet.mdx``; not ``_index.md``, Hugo's section page)."""
    parts = rel.split("/")
    if any(p.startswith("_") for p in parts[:-1]):
        return True
    stem = parts[-1].rsplit(".", 1)[0]
    return stem.startswith("_") and stem != "_index"


def _included(s: Survey) -> set[str]:
    """Markdown files other files import or include (``import X from './x.mdx'``,
    ``<Include src="_partials/x" />``), resolved against the includer and the root."""
    files = set(s.facts)
    stems: dict[str, str] = {}
    for rel in files:
        for ext in MARKDOWN_EXTENSIONS:
            if rel.endswith(ext):
                stems.setdefault(rel[: -len(ext)], rel)
    found: set[str] = set()
    for rel, facts in s.facts.items():
        folder = os.path.dirname(rel)
        for written in facts.includes:
            target = written.strip().split("#", 1)[0]
            if not target or "://" in target:
                continue
            for base in (folder, "", *(_parents(folder))):
                path = os.path.normpath(os.path.join(base, target.lstrip("/"))).replace(os.sep, "/")
                hit = path if path in files else stems.get(path)
                if hit is not None and hit != rel:
                    found.add(hit)
                    break
    return found


def _linked(s: Survey) -> set[str]:
    """Markdown files other pages link to as pages (relative links, or absolute ones written
    as the file's path): a file named like a partial that is linked is a page."""
    files = set(s.facts)
    found: set[str] = set()
    for rel, facts in s.facts.items():
        folder = os.path.dirname(rel)
        for href in facts.links:
            path = href.split("#", 1)[0].split("?", 1)[0].strip()
            if not path or "://" in path or path.startswith(("mailto:", "#")):
                continue
            base = "" if path.startswith("/") else folder
            joined = os.path.normpath(os.path.join(base, path.lstrip("/"))).replace(os.sep, "/").rstrip("/")
            for candidate in (joined, *(joined + ext for ext in MARKDOWN_EXTENSIONS)):
                if candidate in files:
                    found.add(candidate)
                    break
    return found


def _parents(folder: str) -> list[str]:
    parts = folder.split("/") if folder else []
    return ["/".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def _classify(s: Survey) -> None:
    """Split the Markdown files into lessons, partials and files left out."""
    included = _included(s)
    linked = _linked(s)
    with_frontmatter = []
    candidates = []
    for rel in s.markdown_files:
        facts = s.facts.get(rel)
        if facts is None:
            continue
        if is_furniture(rel) and not (facts.frontmatter and _lesson_like(s, facts.frontmatter)):
            s.left_out.append(rel)
            continue
        if rel in included or (is_partial_path(rel) and rel not in linked):
            s.partials.append(rel)
            continue
        candidates.append(rel)
        if facts.frontmatter:
            with_frontmatter.append(rel)
    if (
        with_frontmatter
        and len(with_frontmatter) >= min(3, len(candidates))
        and len(with_frontmatter) >= 0.2 * len(candidates)
    ):
        lessons = with_frontmatter
    else:
        lessons = _lessons_by_name(s, candidates)
        s.by_name = bool(lessons)
    lessons = _without_strays(s, lessons)
    s.lessons = lessons
    lesson_set = set(lessons)
    lesson_tops = {_top(rel) for rel in lessons}
    lesson_folders = {os.path.dirname(rel) for rel in lessons}
    for rel in candidates:
        if rel in lesson_set:
            continue
        # Text beside the lessons (a practice snippet, a task) is read as text; a folder
        # that holds no lesson at all (a contributors' guide) is repository furniture.
        if _top(rel) in lesson_tops and (os.path.dirname(rel) in lesson_folders or _near_lessons(rel, lesson_folders)):
            s.partials.append(rel)
        else:
            s.left_out.append(rel)
    s.partials.sort()
    s.left_out.sort()
    for rel in lessons:
        facts = s.facts[rel]
        if facts.frontmatter:
            s.frontmatter[rel] = facts.frontmatter
    first: dict[str, str] = {}
    for rel in sorted(lessons, key=_natural_key):
        first.setdefault(os.path.dirname(rel), rel)
    s.module_first = set(first.values())


STRAY_SHARE = 0.05  # pages outside the folder that holds the rest of the lessons...
STRAY_MAX = 10  # ... at most this many: a test page, a landing page, not the course


def _without_strays(s: Survey, lessons: list[str]) -> list[str]:
    """The lessons without a few pages outside the folder that holds all the others
    (``src/pages/test.md`` beside ``src/content/course/``): taken in, they would move the
    content base up and every lesson's id with it."""
    if len(lessons) < 20:
        return lessons
    under: Counter[str] = Counter()
    for rel in lessons:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            under["/".join(parts[:i])] += 1
    fits = [f for f, n in under.items() if n >= (1 - STRAY_SHARE) * len(lessons) and len(lessons) - n <= STRAY_MAX]
    if not fits:
        return lessons
    best = max(fits, key=lambda f: f.count("/"))
    strays = [rel for rel in lessons if not rel.startswith(best + "/")]
    if not strays:
        return lessons
    s.left_out.extend(strays)
    shown = ", ".join(display(p) for p in strays[:3]) + (" ..." if len(strays) > 3 else "")
    s.notes.append(f"left out {len(strays)} pages outside {best}/, which holds the other {under[best]} lessons: {shown}")
    return [rel for rel in lessons if rel.startswith(best + "/")]


def _near_lessons(rel: str, lesson_folders: set[str]) -> bool:
    """Whether a folder above ``rel`` (its lesson's folder: ``html/a/practice/x.md``) holds lessons."""
    folder = os.path.dirname(rel)
    while folder:
        folder = os.path.dirname(folder)
        if folder in lesson_folders:
            return True
    return False


def _lesson_like(s: Survey, data: dict[str, Any]) -> bool:
    """A furniture-named file whose frontmatter looks like the lessons' (a README that is
    a section's index page)."""
    return "title" in data or len(data) >= 2


def _lessons_by_name(s: Survey, candidates: list[str]) -> list[str]:
    """Lessons of a repository without frontmatter: the files that share the name most content
    files have (``article.md`` in ``1-intro/``), when that name is at least a third of them."""
    names = Counter(rel.rsplit("/", 1)[-1] for rel in candidates)
    if not names:
        return []
    name, count = names.most_common(1)[0]
    if count >= 3 and count >= len(candidates) / 3 and len({os.path.dirname(r) for r in candidates}) >= 3:
        return [rel for rel in candidates if rel.rsplit("/", 1)[-1] == name]
    return [rel for rel in candidates if s.facts[rel].words > 0] if len(candidates) <= 20 else []


def _top(rel: str) -> str:
    return rel.split("/", 1)[0] if "/" in rel else ""


def _natural_key(path: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path))


# -- globs ---------------------------------------------------------------------------------


def _ext_pattern(paths: list[str]) -> str:
    exts = sorted({p.rsplit(".", 1)[1] for p in paths})
    return "*." + exts[0] if len(exts) == 1 else "*.{" + ",".join(exts) + "}"


def _layout(s: Survey) -> None:
    """Content, partial and exclude globs that take exactly the lessons and partials."""
    from coursecheck.globs import matches

    if not s.lessons:
        return
    common = os.path.commonpath([os.path.dirname(p) or "." for p in s.lessons])
    s.content_base = "" if common in ("", ".") else Path(common).as_posix()
    if s.by_name:
        name = s.lessons[0].rsplit("/", 1)[-1]
        s.content_globs = [f"{s.content_base}/**/{name}" if s.content_base else f"**/{name}"]
    else:
        pattern = _ext_pattern(s.lessons)
        s.content_globs = [f"{s.content_base}/**/{pattern}" if s.content_base else f"**/{pattern}"]
    lessons = set(s.lessons)

    def safe(glob: str) -> bool:
        return not any(matches(rel, [glob]) for rel in lessons)

    # Partials: one glob per underscore folder name, per folder name that holds only
    # partials (practice/, tasks/), then the rest one by one.
    partial_globs: list[str] = []
    left = list(s.partials)
    underscore = Counter(p for rel in left for p in rel.split("/")[:-1] if p.startswith("_"))
    for name, _count in sorted(underscore.items()):
        glob = f"**/{name}/**"
        if safe(glob):
            partial_globs.append(glob)
    left = [rel for rel in left if not matches(rel, partial_globs)]
    folder_names = Counter(rel.split("/")[-2] for rel in left if "/" in rel)
    for name, count in sorted(folder_names.items()):
        glob = f"**/{name}/**"
        if count >= 3 and safe(glob):
            partial_globs.append(glob)
    left = [rel for rel in left if not matches(rel, partial_globs)]
    file_names = Counter(rel.rsplit("/", 1)[-1] for rel in left)
    for name, count in sorted(file_names.items()):
        glob = f"**/{name}"
        if count >= 3 and safe(glob):
            partial_globs.append(glob)
    left = [rel for rel in left if not matches(rel, partial_globs)]
    if len(left) > 60:
        by_folder = Counter(os.path.dirname(rel) for rel in left)
        for folder, _count in sorted(by_folder.items()):
            glob = f"{folder}/*.{{md,mdx}}" if folder else "*.{md,mdx}"
            if safe(glob):
                partial_globs.append(glob)
        left = [rel for rel in left if not matches(rel, partial_globs)]
    partial_globs += left
    s.partial_globs = partial_globs
    # Left out: what the content globs would take that is neither a lesson nor a partial.
    taken = [rel for rel in s.left_out if matches(rel, s.content_globs) and not matches(rel, partial_globs)]
    exclude: list[str] = []
    tops = Counter(_top(rel) for rel in taken)
    for top, _count in sorted(tops.items()):
        if top and safe(f"{top}/**"):
            exclude.append(f"{top}/**")
    taken = [rel for rel in taken if not matches(rel, exclude)]
    names = Counter(rel.rsplit("/", 1)[-1] for rel in taken)
    for name, count in sorted(names.items()):
        if count >= 3 and safe(f"**/{name}"):
            exclude.append(f"**/{name}")
    taken = [rel for rel in taken if not matches(rel, exclude)]
    s.exclude_globs = exclude + taken


def _frontmatter_stats(s: Survey) -> None:
    for rel in s.lessons:
        facts = s.facts[rel]
        data = facts.frontmatter or {}
        for key, value in data.items():
            s.fields[str(key)] += 1
            if isinstance(value, str) and len(value) < 40:
                s.field_values.setdefault(str(key), Counter())[value] += 1
        prereq = data.get("prerequisites")
        if isinstance(prereq, list):
            s.prerequisites.extend(str(p) for p in prereq)
        elif isinstance(prereq, str):
            s.prerequisites.append(prereq)
        for name, props in facts.components:
            s.components[name] += 1
            s.component_props.setdefault(name, Counter()).update(list(props))
        s.internal_links.extend(href for href in facts.links if href.startswith("/"))


def _languages(s: Survey) -> None:
    cyrillic = sum(s.facts[rel].cyrillic for rel in s.lessons)
    latin = sum(s.facts[rel].latin for rel in s.lessons)
    if cyrillic + latin == 0 or cyrillic / (cyrillic + latin) >= 1 / 3:
        s.languages = {"primary": "ru", "secondary": "en"}
    else:
        s.languages = {"primary": "en"}
    if s.languages.get("primary") == "ru" and cyrillic and latin:
        # Shipped packs that fit what the text is (suggested in a comment: the config runs as
        # written, and the pack's findings are the author's call).
        s.suggested_packs.append(
            ("ru-en-tech", "Russian technical prose with English terms: calques, jargon, one spelling per course")
        )


# -- the site's content schema ------------------------------------------------------------

_ZOD_FIELD = re.compile(r"(?m)^\s*['\"]?([A-Za-z_$][\w$-]*)['\"]?\s*:\s*z\s*\.")


def _read_content_schema(s: Survey) -> None:
    """Fields of the site's zod content schema (Astro's ``src/content/config.ts``), read as
    text: which are optional or defaulted, and which take an enum."""
    for rel in CONTENT_SCHEMA_FILES:
        try:
            text = read_inside(s.root, rel).decode("utf-8", errors="replace")
        except OSError:
            continue
        s.content_schema_file = rel
        s.content_schema.update(parse_zod_fields(text))
        return


def parse_zod_fields(text: str) -> dict[str, dict[str, Any]]:
    """``{field: {"optional": bool, "enum": [...] | None}}`` for each ``name: z.…`` of a zod
    schema written in TypeScript (its text; nothing is run)."""
    out: dict[str, dict[str, Any]] = {}
    matches = list(_ZOD_FIELD.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        chain = text[m.end() - 2 : end]
        # The field's own chain ends at the first top-level comma or closing brace.
        depth = 0
        for k, ch in enumerate(chain):
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth < 0:
                    chain = chain[:k]
                    break
            elif ch == "," and depth == 0:
                chain = chain[:k]
                break
        optional = bool(re.search(r"\.(optional|default|nullish)\s*\(", chain))
        enum = None
        e = re.search(r"z\s*\.\s*enum\s*\(\s*\[([^\]]*)\]", chain)
        if e is not None:
            enum = re.findall(r"""["']([^"']*)["']""", e.group(1))
        out.setdefault(m.group(1), {"optional": optional, "enum": enum})
    return out


# -- data files --------------------------------------------------------------------------


def _data_files(s: Survey, candidates: list[str]) -> None:
    """Data files recognized by their shape (a glossary, a quiz, values naming lessons), or
    kept in a data folder; never a tool's configuration or an article's folder."""
    from coursecheck import glossary as gl

    lesson_folders = {os.path.dirname(rel) for rel in s.lessons}
    for rel in candidates:
        name = rel.rsplit("/", 1)[-1].lower()
        if name in CONFIG_FILE_NAMES or name.startswith((".", "tsconfig", "docker-compose")):
            continue
        if os.path.dirname(rel) in lesson_folders and not name.startswith(("glossary", "quiz")):
            continue  # beside a lesson: the page's own data (11ty data files, demos)
        data = load_data_file(s.root, rel)
        if data is None:
            continue
        folders = set(rel.lower().split("/")[:-1])
        shape = gl.find_glossary_shape(data)
        if shape is not None or _quiz_like(data) or folders & DATA_DIR_NAMES or name.startswith(("glossary", "quiz")):
            if not _redirect_like(data):
                s.data_files.append(rel)
    tops = sorted({p.split("/", 1)[0] if "/" in p else "" for p in s.data_files})
    for top in tops:
        members = [p for p in s.data_files if (p.split("/", 1)[0] if "/" in p else "") == top]
        pattern = _ext_pattern(members)
        folders = {os.path.dirname(p) for p in members}
        if len(folders) == 1:
            folder = folders.pop()
            s.data_globs.append(f"{folder}/{pattern}" if folder else pattern)
        elif len(members) <= 5:
            s.data_globs.extend(members)
        else:
            s.data_globs.append(f"{top}/**/{pattern}")


def _quiz_like(data: Any) -> bool:
    items = (
        data
        if isinstance(data, list)
        else next((v for v in data.values() if isinstance(v, list)), None)
        if isinstance(data, dict)
        else None
    )
    if not isinstance(items, list) or not items:
        return False
    keys = [set(item) for item in items if isinstance(item, dict)]
    return len(keys) >= 2 and all("question" in k and ({"answers", "options", "choices", "answer"} & k) for k in keys)


def _redirect_like(data: Any) -> bool:
    from coursecheck.routing import _pairs

    return next(_pairs(data), None) is not None


# -- lesson ids ----------------------------------------------------------------------------


def _inside(s: Survey, rel: str) -> str:
    return rel[len(s.content_base) + 1 :] if s.content_base and rel.startswith(s.content_base + "/") else rel


def _guess_ids(s: Survey) -> None:
    """The id template that names lessons uniquely and resolves most prerequisites, and a
    route alias for links written as site paths."""
    inside = [_inside(s, p) for p in s.lessons]
    index_pages = any(p.rsplit("/", 1)[-1].rsplit(".", 1)[0] in ("index", "README", "_index") for p in inside)
    default = "{dir}" if s.by_name else "{route}" if index_pages else "{path}"
    if len({expand_template(default, p) for p in inside}) < len(inside):
        default = "{path}"
    s.id_template = default
    best, best_hits = default, 0
    for template in ID_TEMPLATES:
        ids = [expand_template(template, p) for p in inside]
        known = set(ids)
        if len(known) < len(ids):
            continue  # two lessons would share the name
        hits = sum(1 for p in s.prerequisites if p in known)
        if hits > best_hits:
            best, best_hits = template, hits
    if best != default and best_hits > 0:
        s.aliases.append(best)
    prefixes: Counter[str] = Counter()
    paths = [expand_template(default, p) for p in inside]
    by_tail: dict[str, list[str]] = {}
    for p in paths:
        by_tail.setdefault(p.rsplit("/", 1)[-1], []).append(p)
    for href in s.internal_links:
        target = href.split("#", 1)[0].split("?", 1)[0].rstrip("/")
        for p in by_tail.get(target.rsplit("/", 1)[-1], ()):
            if target.endswith("/" + p) or target == p:
                prefixes[target[: len(target) - len(p)]] += 1
                break
    if prefixes:
        prefix = prefixes.most_common(1)[0][0]
        if prefix.startswith("/"):
            s.aliases.append(prefix + default)


# -- the config ------------------------------------------------------------------------------


def _toml_list(values: list[str]) -> str:
    """File names are the repository's: they may hold quotes, line breaks, control characters."""
    return "[" + ", ".join(toml_string(v) for v in values) + "]"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_string(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return _toml_list([str(v) for v in value])
    return toml_string(str(value))


def render_config(s: Survey, plugin_sections: list[str]) -> str:
    lines = [
        "# coursecheck configuration, written by `coursecheck init`.",
        "# Docs: `coursecheck rules`, `coursecheck rule ID`, and the README.",
        "",
    ]
    for pack, why in s.suggested_packs:
        lines.append(f'# Suggested: extends = ["recommended", {toml_string(pack)}]  # {display(why)}')
    if s.suggested_packs:
        lines.append("")
    lines += ["[course]"]
    if s.by_name:
        lines.append("# The pages have no frontmatter: lessons are the files named as most content files are.")
    lines.append(f"content = {_toml_list(s.content_globs or ['**/*.md', '**/*.mdx'])}")
    if s.partial_globs:
        lines.append(f"# {len(s.partials)} included or supporting files, checked as text, not as lessons:")
        lines.append(f"partials = {_toml_list(s.partial_globs)}")
    if s.exclude_globs:
        lines.append("# Repository furniture and folders without lessons:")
        lines.append(f"exclude = {_toml_list(s.exclude_globs)}")
    if s.data_globs:
        lines.append(f"data = {_toml_list(s.data_globs)}")
    lines.append(f'id = "{s.id_template}"')
    if s.aliases:
        lines.append(f"aliases = {_toml_list(s.aliases)}  # how prerequisites and links name lessons")
    lines.append(f'order = "{s.order}"')
    langs = ", ".join(f"{k} = {toml_string(v)}" for k, v in s.languages.items())
    lines.append(f"languages = {{ {langs} }}  # from the letters of the lessons' prose")
    lines.append("")
    if s.fields:
        used = ", ".join(f"{k} ({n}/{len(s.lessons)})" for k, n in s.fields.most_common())
        lines.append(f"# Frontmatter fields in use: {display(used)}")  # one comment line whatever the keys hold
    if s.components:
        comps = ", ".join(f"{k} ({n})" for k, n in s.components.most_common(40))
        more = f" and {len(s.components) - 40} more" if len(s.components) > 40 else ""
        lines.append(f"# MDX components in use: {display(comps)}{more}")
    if s.graph or s.graph_notes:
        lines += ["", *(f"# {display(note)}" for note in s.graph_notes)]
        lines.append("[graph]")
        for key, value in s.graph.items():
            lines.append(f"{key} = {_toml_value(value)}")
    lines += ["", "[rules]", '# "family/rule" = "error" | "warning" | "note" | "off", or a table with options']
    for rule_id, value, comments in _merged_rules(s.rules):
        lines += [f"# {display(comment)}" for comment in comments]
        lines.append(f"{toml_string(rule_id)} = {value}")
    lines.append("")
    for section in plugin_sections:
        if section.strip():
            lines += [section.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _merged_rules(rules: list[tuple[str, str, str]]) -> list[tuple[str, str, list[str]]]:
    """One line per rule id (a TOML key is written once): ``"off"`` wins, inline tables of
    options are joined (``{ a = 1 }`` and ``{ b = 2 }`` make ``{ a = 1, b = 2 }``)."""
    merged: dict[str, tuple[list[str], list[str]]] = {}
    for rule_id, value, comment in rules:
        values, comments = merged.setdefault(rule_id, ([], []))
        values.append(value.strip())
        if comment:
            comments.append(comment)
    out = []
    for rule_id, (values, comments) in merged.items():
        tables = [v[1:-1].strip() for v in values if v.startswith("{") and v.endswith("}")]
        if len(values) == 1 or len(tables) != len(values):
            value = next((v for v in values if v == '"off"'), values[-1])
        else:
            value = "{ " + ", ".join(t for t in tables if t) + " }"
        out.append((rule_id, value, comments))
    return out


def write_starter_config(
    root: Path,
    *,
    force: bool = False,
    to_stdout: bool = False,
    entry_points: bool = True,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    target = root / ".coursecheck.toml"
    if os.path.lexists(target) and not force and not to_stdout:
        say(f"coursecheck init: {target} already exists; use --force to overwrite")
        return 2
    pm = _plugin_manager(entry_points)
    s = survey(root, jobs=jobs, progress=progress, pm=pm)
    s.write_files = not to_stdout
    sections = _plugin_sections(s, pm)
    hint = planning_hint(s.root, sections)
    if hint:
        sections.append(hint)
        say(
            "coursecheck init: GSD plans found in .planning/phases/: `pip install coursecheck-planning` "
            "(plugins/coursecheck-planning) and run init again to check their must-haves"
        )
    text = render_config(s, sections)
    if to_stdout:
        sys.stdout.write(text)
        _print_summary(s, None, [])
        return 0
    written = []
    try:
        for rel, body in sorted(s.files.items()):
            path = s.root / rel
            if os.path.lexists(path):
                continue  # a file the author has is never replaced
            try:
                atomic_write(path, body, root=root)
            except OutsideRoot:
                continue
            written.append(rel)
        atomic_write(target, text, root=root)
    except OSError as exc:
        say(f"coursecheck init: error: cannot write {target}: {exc.strerror or exc}")
        return 2
    _print_summary(s, target, written)
    return 0


def _print_summary(s: Survey, target: Path | None, written: list[str]) -> None:
    """What init found and what it left out, one line each (on stderr)."""
    where = f"wrote {target}" if target is not None else "printed the config"
    base = s.content_base or "."
    found = (
        f"coursecheck init: {where}: {len(s.lessons)} lessons under {base}"
        + (" (named by their file name: the pages have no frontmatter)" if s.by_name else "")
        + f", {len(s.partials)} partials, {len(s.data_files)} data files"
    )
    say(found)
    if not s.lessons:
        if s.markdown_files:
            say(
                f"  no lessons found among {len(s.markdown_files)} Markdown files: none has frontmatter and no file "
                "name is shared by most of them; set [course] content to your lessons' globs "
                '(e.g. content = ["docs/**/*.md"])'
            )
        else:
            say("  no Markdown files found: set [course] content to your lessons' globs")
    if s.left_out:
        shown = ", ".join(display(p) for p in s.left_out[:6])
        more = f" and {len(s.left_out) - 6} more" if len(s.left_out) > 6 else ""
        say(f"  left out {len(s.left_out)} files that are not lessons: {shown}{more}")
    for note in s.notes:
        say(f"  {display(note)}")
    if written:
        say(f"  also wrote {', '.join(written)}")
    for problem in s.problems[:5]:
        say(f"  {display(problem)}")
    if target is not None:
        say("  Run `coursecheck` to check the course.")


def _plugin_sections(s: Survey, pm: Any = None, entry_points: bool = True) -> list[str]:
    """Starter sections from the plugins (installed ones too, unless ``entry_points`` is off)."""
    from coursecheck.plugins import call_each

    if pm is None:
        pm = _plugin_manager(entry_points)
    notes: list[Any] = []
    results = call_each(pm, "coursecheck_init_sections", notes, lambda v: isinstance(v, str), "TOML text", survey=s)
    return [text for _name, text in sorted(results)]


def planning_hint(root: Path, sections: list[str]) -> str | None:
    """A GSD project (``.planning/phases/*/*-PLAN.md``) whose planning plugin is not installed:
    a comment saying how to get the plans' must-haves checked (the plugin, when installed,
    writes the ``[planning]`` table itself)."""
    if any(re.search(r"^\[planning\]", section, re.MULTILINE) for section in sections):
        return None
    phases = root / ".planning" / "phases"
    if not phases.is_dir() or not any(phases.glob("*/*-PLAN.md")):
        return None
    return "\n".join(
        [
            "# GSD planning found (.planning/phases/*/*-PLAN.md). To check the plans' must-haves and",
            "# write phase reports, install the planning plugin and run `coursecheck init --force`:",
            "#   pip install coursecheck-planning        # plugins/coursecheck-planning in coursecheck's repository",
            "# [planning]",
        ]
    )


def spread(items: list[str], limit: int) -> list[str]:
    """At most ``limit`` of ``items``, evenly spread (stable: the same repository gives the
    same choice)."""
    if len(items) <= limit:
        return list(items)
    ranked = sorted(items, key=lambda rel: zlib.crc32(rel.encode("utf-8", "surrogateescape")))
    return sorted(ranked[:limit])
