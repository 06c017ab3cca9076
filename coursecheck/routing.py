"""How a site serves its pages: what a link's URL path leads to.

A course or documentation site written in Markdown is served by a generator (Astro,
Docusaurus, Next.js, Eleventy, Hugo...) that turns files into routes. Most of them agree on
the rules this module models, so that a link is judged as the site would serve it:

* **mounts**: a URL prefix serves a folder of the repository (``/docs/`` serves ``docs/``,
  ``/developers/`` serves ``content/``); the path under it names a page file;
* **index pages**: ``guide/`` and ``guide`` are ``guide/index.md`` (or ``README.md``,
  ``_index.md``); a trailing slash is accepted both ways;
* **case**: some sites serve routes in any case (``[graph] case-sensitive = false``);
* **locales**: ``/fr/guide`` is the French page, and a page not translated is served from
  the fallback locale (``[graph] locales``, ``fallback-locale``); a locale may also be a
  file suffix (``guide.fr.md``, as Hugo writes translations);
* **redirects**: the site's redirect files (``vercel.json``, ``_redirects``, a JSON list of
  ``source``/``destination``) send an old URL to a page, or out of the repository;
* **alias fields**: frontmatter fields listing more routes of a page (``aliases``,
  ``redirect_from``);
* **routes served elsewhere**: URL prefixes whose pages another system builds (an API
  reference generated from a schema): links under them are not judged.

:class:`Router` is built once per course stage from the lessons (the pages) and the
``[graph]`` settings; every file it reads (redirect files, folders a link names) goes
through :mod:`coursecheck.coursecache`, so the stored course stage knows what it depends on.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from coursecheck.model import Course, Document

PAGE_EXTENSIONS = (".md", ".mdx", ".markdown")
INDEX_NAMES = ("index", "README", "readme", "_index")
# How deep a chain of redirects is followed (a loop in a redirect file ends here).
MAX_REDIRECTS = 8
# Redirect files are configuration, not content: larger ones are not read.
MAX_REDIRECT_FILE = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Served:
    """A link that leads somewhere the site serves but that is not a lesson: a redirect out of
    the repository, a folder's generated page, a route served by another system."""

    what: str  # "redirect" | "folder" | "elsewhere"
    target: str  # where it leads (a URL, a folder, the prefix served elsewhere)


@dataclass(slots=True)
class RouteSettings:
    """The routing part of ``[graph]``."""

    mounts: tuple[tuple[str, str], ...] = ()  # (URL prefix, folder), longest prefix first
    case_sensitive: bool = True
    locales: tuple[str, ...] = ()
    fallback_locale: str = ""  # "" = the page without a locale segment serves untranslated pages
    redirects: tuple[str, ...] = ()  # redirect files, relative to the root
    alias_fields: tuple[str, ...] = ()  # frontmatter fields listing more routes of a page
    elsewhere: tuple[str, ...] = ()  # URL prefixes served by another system


def normalize_prefix(prefix: str) -> str:
    """A URL prefix as compared: a leading ``/`` and a trailing ``/`` (``/docs`` -> ``/docs/``)."""
    prefix = "/" + prefix.strip().strip("/")
    return prefix if prefix == "/" else prefix + "/"


def normalize_folder(folder: str) -> str:
    """A mounted folder as compared: no ``./``, a trailing ``/`` unless it is the root (``""``)."""
    folder = folder.strip().removeprefix("./").strip("/")
    return "" if folder in ("", ".") else folder + "/"


def page_key(relpath: str) -> str:
    """A page file's route inside its folder: the path without the extension."""
    for ext in PAGE_EXTENSIONS:
        if relpath.endswith(ext):
            return relpath[: -len(ext)]
    return relpath


def page_keys(relpath: str) -> list[str]:
    """Every path a page file answers to: ``a/b`` for ``a/b.md``; ``a/index`` and ``a`` for
    ``a/index.md`` (an index page serves its folder; the root index serves ``""``)."""
    key = page_key(relpath)
    keys = [key]
    folder, _, stem = key.rpartition("/")
    if stem in INDEX_NAMES:
        keys.append(folder)
    return keys


def clean_path(path: str) -> str:
    """A URL path without query, fragment, extension of a page file and trailing slashes."""
    path = path.split("#", 1)[0].split("?", 1)[0].strip()
    while len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    for ext in (*PAGE_EXTENSIONS, ".html"):
        if path.endswith(ext) and len(path) > len(ext):
            return path[: -len(ext)]
    return path


# -- redirects -----------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)(\*|\+|\?)?|\*|\(\.\*\)|\(\.\+\)")


@dataclass(slots=True)
class Redirects:
    """Redirect rules: exact sources, and sources with placeholders (``:path*``, ``*``)."""

    exact: dict[str, str] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    _lowered: dict[str, str] | None = None
    _destinations: set[str] | None = None

    def add(self, source: str, destination: str) -> None:
        source, destination = source.strip(), destination.strip()
        if not source.startswith("/") or not destination:
            return
        if _PLACEHOLDER.search(source) is None:
            self.exact.setdefault(_redirect_key(source), destination)
            return
        pattern = _compile_source(source)
        if pattern is not None:
            self.patterns.append((pattern, destination))

    def target(self, path: str, case_sensitive: bool = True) -> str | None:
        """Where ``path`` (a cleaned URL path) is redirected to, or None."""
        key = _redirect_key(path)
        found = self.exact.get(key)
        if found is None and not case_sensitive:
            found = self._folded().get(key.lower())
        if found is not None:
            return found
        for pattern, destination in self.patterns:
            m = pattern.fullmatch(path) or pattern.fullmatch(path + "/")
            if m is not None:
                return _fill(destination, m)
        return None

    def _folded(self) -> dict[str, str]:
        if self._lowered is None or len(self._lowered) > len(self.exact):
            self._lowered = {}
            for k, v in self.exact.items():
                self._lowered.setdefault(k.lower(), v)
        return self._lowered

    def __len__(self) -> int:
        return len(self.exact) + len(self.patterns)

    def leads_to(self, path: str) -> bool:
        """Whether a redirect's destination is ``path`` or a page below it (the destinations
        are pages the site serves)."""
        if self._destinations is None:
            found: set[str] = set()
            for destination in [*self.exact.values(), *(d for _, d in self.patterns)]:
                if destination.startswith("/") and not _PLACEHOLDER.search(destination):
                    parts = clean_path(destination).strip("/").split("/")
                    found.update("/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1))
            self._destinations = found
        return clean_path(path) in self._destinations


def _redirect_key(path: str) -> str:
    return clean_path(path) or "/"


def _compile_source(source: str) -> re.Pattern[str] | None:
    out: list[str] = []
    pos = 0
    groups = 0
    for m in _PLACEHOLDER.finditer(source):
        out.append(re.escape(source[pos : m.start()]))
        groups += 1
        if m.group(1):
            name = m.group(1)
            repeat = m.group(2) or ""
            body = ".*" if repeat in ("*", "+") else "[^/]+"
            if repeat == "?":
                body = "[^/]*"
            out.append(f"(?P<{name}>{body})" if name not in "".join(out) else f"(?:{body})")
        else:
            out.append(f"(?P<splat{groups}>.*)")
        pos = m.end()
    out.append(re.escape(source[pos:]))
    try:
        return re.compile("".join(out).rstrip("/") + "/?")
    except re.error:
        return None


def _fill(destination: str, m: re.Match[str]) -> str:
    values = {k: v for k, v in m.groupdict().items() if v is not None}
    splats = [v for k, v in values.items() if k.startswith("splat")]

    def named(found: re.Match[str]) -> str:
        name = found.group(1)
        if name == "splat":
            return splats[0] if splats else ""
        return values.get(name, found.group(0))

    ordered = list(values.values())

    def numbered(found: re.Match[str]) -> str:
        n = int(found.group(1))
        return ordered[n - 1] if 1 <= n <= len(ordered) else ""

    filled = re.sub(r":([A-Za-z_][A-Za-z0-9_]*)[*+?]?", named, destination)
    return re.sub(r"\$(\d)", numbered, filled)


def parse_redirect_file(name: str, text: str) -> list[tuple[str, str]]:
    """The (source, destination) pairs of a redirect file: JSON (any nesting of objects with
    ``source``/``destination`` or ``from``/``to``, e.g. ``vercel.json``'s ``redirects``),
    YAML with the same keys, or a Netlify ``_redirects`` file (``from to [status]`` lines)."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            return []
        return list(_pairs(data))
    if lowered.endswith((".yml", ".yaml")):
        try:
            from ruamel.yaml import YAML

            data = YAML(typ="safe", pure=True).load(text)
        except Exception:  # a redirect file that cannot be read adds no redirect
            return []
        return list(_pairs(data))
    pairs = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("/"):
            pairs.append((parts[0], parts[1]))
    return pairs


def _pairs(data: Any) -> Iterator[tuple[str, str]]:
    stack = [data]
    seen = 0
    while stack and seen < 1_000_000:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            for a, b in (("source", "destination"), ("from", "to")):
                src, dst = node.get(a), node.get(b)
                if isinstance(src, str) and isinstance(dst, str):
                    yield src, dst
                elif isinstance(src, list) and isinstance(dst, str):  # Docusaurus: from may be a list
                    yield from ((s, dst) for s in src if isinstance(s, str))
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in reversed(node) if isinstance(v, (dict, list)))


def looks_like_redirects(name: str, text: str) -> int:
    """How many redirect rules a file holds (0: not a redirect file)."""
    lowered = name.rsplit("/", 1)[-1].lower()
    if lowered == "_redirects" or lowered.endswith((".json", ".yml", ".yaml")):
        return len(parse_redirect_file(name, text))
    return 0


# -- the router ------------------------------------------------------------------------------


class Router:
    """What a URL path leads to on the course's site (see the module docstring)."""

    def __init__(self, course: Course, settings: RouteSettings) -> None:
        self.course = course
        self.settings = settings
        self.pages: dict[str, Document] = {}
        self.folded: dict[str, Document] = {}
        self._sharing: dict[str, list[Document]] = {}  # key -> every page answering to it
        self.folders: set[str] = set()  # folders holding pages, "a/b/" form
        for doc in course.lessons:
            for key in page_keys(doc.relpath):
                self.pages.setdefault(key, doc)
                self.folded.setdefault(key.lower(), doc)
                self._sharing.setdefault(key, []).append(doc)
            parts = doc.relpath.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                self.folders.add("/".join(parts[:i]) + "/")
        self.folded_folders = {f.lower() for f in self.folders}
        self.mounts = sorted(
            ((normalize_prefix(p), normalize_folder(f)) for p, f in settings.mounts), key=lambda m: -len(m[0])
        )
        self.locales = tuple(dict.fromkeys(settings.locales))
        self.elsewhere = tuple(normalize_prefix(p) for p in settings.elsewhere)
        self.redirects = Redirects()
        self.routes: dict[str, Document] = {}
        for field_name in settings.alias_fields:
            for doc in course.lessons:
                value = doc.frontmatter.data.get(field_name) if doc.frontmatter is not None else None
                for route in [value] if isinstance(value, str) else value if isinstance(value, list) else []:
                    if isinstance(route, str) and route.strip().startswith("/"):
                        self.routes.setdefault(clean_path(route), doc)

    def load_redirects(self, read: Any) -> list[tuple[str, str]]:
        """Read the redirect files with ``read(relpath) -> text | None``; returns the files that
        could not be read, with why."""
        problems = []
        for rel in self.settings.redirects:
            text = read(rel)
            if text is None:
                problems.append((rel, "cannot be read"))
                continue
            for source, destination in parse_redirect_file(rel, text):
                self.redirects.add(source, destination)
        return problems

    # -- pages ---------------------------------------------------------------------------

    def page(self, path: str) -> Document | None:
        """The page a repository path names (``docs/guide``, ``docs/guide/``, ``docs/guide.md``)."""
        key = clean_path(path).strip("/")
        doc = self.pages.get(key)
        if doc is None and not self.settings.case_sensitive:
            doc = self.folded.get(key.lower())
        return doc

    def alternates(self, doc: Document) -> list[Document]:
        """``doc`` and the pages that answer to the same path (``docs/rpc.md`` and
        ``docs/rpc/index.md`` both answer ``docs/rpc``): which one a site serves varies."""
        found = [doc]
        seen = {doc.relpath}  # by path: a Document's == compares every field (and a record may not hold them all)
        for key in page_keys(doc.relpath):
            for d in self._sharing.get(key, ()):
                if d.relpath not in seen:
                    seen.add(d.relpath)
                    found.append(d)
        return found

    def is_folder(self, path: str) -> bool:
        key = clean_path(path).strip("/") + "/"
        if key in self.folders:
            return True
        return not self.settings.case_sensitive and key.lower() in self.folded_folders

    # -- URLs ----------------------------------------------------------------------------

    def claims(self, url: str) -> bool:
        """Whether the URL path ``url`` is one of the site's pages by its routing, found or
        not: under a mount other than the root, or, under the root mount, in a top folder
        (or named like a top page) that holds pages. A link there that leads nowhere is
        broken; other absolute paths (``/pricing``) may be pages the repository does not
        hold."""
        path = clean_path(url)
        if not path.startswith("/"):
            return False
        for prefix, folder in self.mounts:
            if prefix != "/":
                if (path + "/").startswith(prefix):
                    return True
                continue
            first = path.strip("/").split("/", 1)[0]
            if first and (self.is_folder(folder + first) or self.page(folder + first) is not None):
                return True
        return False

    def resolve(self, url: str, depth: int = 0) -> Document | Served | None:
        """What the URL path ``url`` leads to: a lesson, something :class:`Served` that is not
        a lesson, or None (nothing: a broken link)."""
        path = clean_path(url)
        if not path.startswith("/"):
            return None
        if path in self.routes:
            return self.routes[path]
        for prefix in self.elsewhere:
            if (path + "/").startswith(prefix) and prefix != "/":
                return Served("elsewhere", prefix)
        found = self._in_mounts(path)
        if found is not None:
            return found
        found = self._in_locales(path)
        if found is not None:
            return found
        if len(self.redirects) and depth < MAX_REDIRECTS:
            target = self.redirects.target(path, self.settings.case_sensitive)
            if target is not None:
                if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith("//"):
                    return Served("redirect", target)
                return self.resolve(target, depth + 1)
            if self.redirects.leads_to(path):
                # The site's own redirects send readers here: a page the site serves, built
                # from somewhere else than this repository's pages.
                return Served("redirect-target", path)
        return None

    def candidates(self, path: str) -> Iterator[str]:
        """The repository paths ``path`` may serve, mount by mount (longest prefix first)."""
        for prefix, folder in self.mounts:
            if prefix == "/":
                yield folder + path.lstrip("/")
            elif (path + "/").startswith(prefix):
                yield folder + path[len(prefix) :].lstrip("/")

    def _in_mounts(self, path: str) -> Document | Served | None:
        for candidate in self.candidates(path):
            doc = self.page(candidate)
            if doc is not None:
                return doc
            if self.is_folder(candidate):
                return Served("folder", candidate.rstrip("/") + "/")
        return None

    def _in_locales(self, path: str) -> Document | Served | None:
        """``/fr/guide`` served from the fallback locale (``/en/guide``, or ``/guide``), or from
        the file ``guide.fr.md``, when no French page is there."""
        if not self.locales:
            return None
        parts = path.strip("/").split("/")
        for i, part in enumerate(parts[:3]):
            if part not in self.locales:
                continue
            rest = parts[:i] + parts[i + 1 :]
            forms = []
            if rest:
                forms.append("/" + "/".join([*rest[:-1], rest[-1] + "." + part]))  # guide.fr.md
            fallback = self.settings.fallback_locale.strip("/")
            if fallback and fallback != part:
                forms.append("/" + "/".join([*parts[:i], fallback, *parts[i + 1 :]]))
            elif not fallback:
                forms.append("/" + "/".join(rest))
            for form in forms:
                found = self._in_mounts(form)
                if found is not None:
                    return found
            break
        return None

    def url_of(self, doc: Document) -> list[str]:
        """The URL paths a page is served at, one per mount that serves its folder."""
        urls = []
        key = page_keys(doc.relpath)[-1]
        for prefix, folder in self.mounts:
            if folder == "" or (key + "/").startswith(folder):
                urls.append(prefix + key[len(folder) :])
        return urls


def settings_from_raw(raw: dict[str, Any]) -> RouteSettings:
    """The routing settings of a ``[graph]`` table (shapes are checked by the config hook)."""

    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(v for v in value if isinstance(v, str))
        return ()

    mounts_raw = raw.get("mounts")
    mounts: tuple[tuple[str, str], ...] = ()
    if isinstance(mounts_raw, dict):
        mounts = tuple((str(k), str(v)) for k, v in mounts_raw.items() if isinstance(v, str))
    case = raw.get("case-sensitive")
    fallback = raw.get("fallback-locale")
    return RouteSettings(
        mounts=mounts,
        case_sensitive=case if isinstance(case, bool) else True,
        locales=strings("locales"),
        fallback_locale=fallback if isinstance(fallback, str) else "",
        redirects=strings("redirects"),
        alias_fields=strings("alias-fields"),
        elsewhere=strings("served-elsewhere"),
    )


def read_text(course: Course, rel: str) -> str | None:
    """A file of the repository as text, through the recorded reads of the course stage."""
    from coursecheck import coursecache

    try:
        data = coursecache.read_bytes(course, course.root / rel)
    except OSError:
        return None
    if len(data) > MAX_REDIRECT_FILE:
        return None
    return data.decode("utf-8", errors="replace")


def join_url(base: str, relative: str) -> str:
    """``relative`` resolved against the URL path ``base`` as a folder."""
    return posixpath.normpath(posixpath.join(base, relative))


# -- anchors -----------------------------------------------------------------------------------

# What heading slugs keep: letters, marks, digits and connector punctuation of any script,
# hyphens and spaces (github-slugger's rule, used by GitHub, Docusaurus, Astro, MkDocs' default).
_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)
_SLUG_RUNS = re.compile(r"[^\w]+|_+", re.UNICODE)
_HEADING_MARKS = re.compile(r"^\s{0,3}#{1,6}\s*|\s+#+\s*$")
_EXPLICIT_ID = re.compile(r"\{\s*#([^\s{}]+)\s*\}")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# The word comes first and its look-behind after it: a pattern that opens with a
# look-behind is tried at every offset, one that opens with a letter is scanned for it.
_ID_ATTRIBUTE = re.compile(
    r"""(?:id(?<![\w-]id)|name(?<![\w-]name))\s*=\s*(?:"([^"\n]{1,200})"|'([^'\n]{1,200})'|\{\s*["'`]([^"'`\n]{1,200})["'`]\s*\})"""
)
_ANCHOR_SUFFIX = re.compile(r"-\d+$")

# One Cyrillic letter's common Latin transliterations (GOST, ISO 9, the "ya/yu" of most site
# slugifiers): a transliterated anchor («как-пишется» -> "kak-pishetsya") matches whichever
# convention the site's slugifier used.
_TRANSLIT: dict[str, str] = {
    "а": "a", "б": "b", "в": "v|w", "г": "g|h", "д": "d", "е": "e|ye|je", "ё": "e|yo|jo|io",
    "ж": "zh|j|z", "з": "z", "и": "i|y", "й": "y|i|j|", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h|kh|x",
    "ц": "c|ts|tc|tz", "ч": "ch", "ш": "sh", "щ": "shch|sch|shh|sh", "ъ": "", "ы": "y|i",
    "ь": "", "э": "e", "ю": "yu|ju|iu|u", "я": "ya|ja|ia|a", "і": "i", "ї": "yi|i", "є": "ye|e", "ґ": "g",
}  # fmt: skip


def heading_plain(raw: str) -> tuple[str, str | None]:
    """A heading line as its reader sees it (Markdown marks, links and tags removed; the text
    of code spans kept: ``### `<tr>` `` reads ``<tr>``), and the explicit id it sets
    (``## Title {#id}``), if any."""
    text = _HEADING_MARKS.sub("", raw.strip())
    explicit = None
    m = _EXPLICIT_ID.search(text)
    if m is not None:
        explicit = m.group(1)
        text = text[: m.start()] + text[m.end() :]
    pieces = []
    for i, piece in enumerate(_CODE_SPAN.split(text)):
        if i % 2:
            pieces.append(piece)  # a code span's text, as written
            continue
        for found in _ID_ATTRIBUTE.finditer(piece):
            explicit = explicit or next(g for g in found.groups() if g)
        piece = _MD_LINK.sub(lambda g: g.group(1), piece)
        piece = _HTML_TAG.sub("", piece)
        pieces.append(piece.replace("*", "").replace("\\", ""))
    return "".join(pieces).strip(), explicit


_CODE_SPAN = re.compile(r"`+([^`]*)`+")


def github_slug(text: str) -> str:
    """github-slugger's slug: lower case, punctuation dropped, each space a hyphen."""
    return _SLUG_DROP.sub("", text.lower()).replace(" ", "-")


def loose_slug(text: str) -> str:
    """The slug of most other slugifiers: runs of anything but letters and digits become one
    hyphen, none at the ends."""
    return _SLUG_RUNS.sub("-", text.lower()).strip("-")


def _translit_pattern(slug: str) -> re.Pattern[str] | None:
    if not any(ch in _TRANSLIT for ch in slug):
        return None
    parts = []
    for ch in slug:
        alternatives = _TRANSLIT.get(ch)
        parts.append(f"(?:{alternatives})" if alternatives is not None else re.escape(ch))
    try:
        return re.compile("".join(parts))
    except re.error:  # pragma: no cover - the pattern is built from escaped parts
        return None


@dataclass(slots=True)
class Anchors:
    """The anchors a page defines: its headings' slugs (in the usual slug styles) and the
    ids it sets explicitly."""

    exact: set[str] = field(default_factory=set)
    patterns: list[re.Pattern[str]] = field(default_factory=list)

    @classmethod
    def of(cls, headings: Iterable[str], ids: Iterable[str] = ()) -> Anchors:
        anchors = cls()
        for raw in headings:
            text, explicit = heading_plain(raw)
            if explicit:
                anchors.exact.add(explicit.lower())
            for slug in (github_slug(text), loose_slug(text)):
                if slug:
                    anchors.exact.add(slug)
            pattern = _translit_pattern(loose_slug(text))
            if pattern is not None:
                anchors.patterns.append(pattern)
        anchors.exact.update(i.lower() for i in ids if i)
        return anchors

    def has(self, fragment: str) -> bool:
        """Whether ``#fragment`` names an anchor of the page (a repeated heading's ``-1``,
        ``-2`` suffix and the case are not held against it)."""
        wanted = fragment.strip().lower()
        if not wanted:
            return True
        forms = [wanted, loose_slug(wanted)]
        bare = _ANCHOR_SUFFIX.sub("", wanted)
        if bare != wanted:
            forms += [bare, loose_slug(bare)]
        if any(f in self.exact for f in forms):
            return True
        return any(p.fullmatch(f) for p in self.patterns for f in forms)


def explicit_ids(source: str) -> list[str]:
    """The ids a page's text sets: ``id="..."``/``name="..."`` attributes (HTML, JSX) and
    ``{#id}`` heading attributes."""
    found = [next(g for g in m.groups() if g) for m in _ID_ATTRIBUTE.finditer(source)]
    found += [m.group(1) for m in _EXPLICIT_ID.finditer(source)]
    return list(dict.fromkeys(found))
