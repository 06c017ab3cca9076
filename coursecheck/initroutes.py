"""``coursecheck init``: how the site serves its pages, read from the links themselves.

Authors write links the way their site serves pages. So the links of a repository say how
it is routed: a link ``/developers/courses/x/y`` to a page kept at ``content/courses/x/y.md``
says that ``/developers/`` serves ``content/``; many links ``/fr/guide`` to a page kept only
at ``.../en/guide.md`` say that ``fr`` is a locale served from ``en`` when untranslated; links
that find their page only in another case say the routes ignore case. What the evidence
supports is written into ``[graph]`` with a comment giving the evidence, and summed up in
init's summary; a repository whose links say nothing gets nothing.

Thresholds: a mount needs three distinct link targets (and a prefix of three segments at most); a locale segment two distinct values;
case-insensitive routes three links (two targets) that resolve only by case; a route
served elsewhere (a generated API reference) three distinct targets below a prefix where
the repository has no page; anchors are checked when 90% of the fragments of links to
known pages match a heading.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from coursecheck.config import expand_template
from coursecheck.fsutil import read_inside
from coursecheck.routing import (
    Anchors,
    Router,
    RouteSettings,
    Served,
    clean_path,
    looks_like_redirects,
    page_keys,
)

if TYPE_CHECKING:
    # coursecheck.init.Survey: init imports this module, so no import back (tests/test_layers.py).
    Survey = Any

# Link schemes of the web and of tools: never a site's own scheme for naming lessons.
KNOWN_SCHEMES = {
    "http", "https", "mailto", "tel", "ftp", "ftps", "sftp", "data", "javascript", "file", "irc", "ircs",
    "ssh", "git", "ws", "wss", "news", "sms", "skype", "slack", "vscode", "urn", "xmpp", "magnet", "about",
    "chrome", "blob", "geo", "market", "webcal", "zoommtg", "msteams", "spotify", "steam", "localhost",
}  # fmt: skip
SCHEME_TEMPLATES = (
    "{folder|unnumbered}",
    "{stem|unnumbered}",
    "{route|unnumbered}",
    "{folder}",
    "{stem}",
    "{route}",
    "{path}",
)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(?!//)(.+)$")
_ALIAS_FIELD_NAME = re.compile(r"alias|route|redirect|permalink|location|url|path|slug|href", re.IGNORECASE)
_ASSET = re.compile(r"\.(?!mdx?$|html?$)[A-Za-z0-9]{1,5}$")  # /img/cover.png is not a page's route
_COMPUTED = re.compile(r"[{}$<>:*]")  # a placeholder in a URL (/users/{id}, /:slug): not a page's path
MOUNT_MIN_TARGETS = 3
MOUNT_MAX_DEPTH = 3  # segments of a mounted URL prefix (/developers/courses/ at most /a/b/c/)
_LOCALE_CODE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$")
MAX_REDIRECT_CANDIDATE = 8 * 1024 * 1024


@dataclass(slots=True)
class _Link:
    source: str
    href: str


def _links(s: Survey) -> list[_Link]:
    out: list[_Link] = []
    for rel in [*s.lessons, *s.partials]:
        facts = s.facts.get(rel)
        if facts is not None:
            out.extend(_Link(rel, unquote(href.strip())) for href in facts.links if href.strip())
    return out


def _fake_course(s: Survey) -> Any:
    lessons = []
    for rel in s.lessons:
        fm = s.facts[rel].frontmatter
        lessons.append(SimpleNamespace(relpath=rel, frontmatter=SimpleNamespace(data=fm) if fm else None))
    return SimpleNamespace(lessons=lessons, root=s.root)


def infer(s: Survey, files: list[str]) -> None:
    """Fill ``s.graph`` (the ``[graph]`` table), its comments, rule settings and summary lines."""
    if not s.lessons:
        return
    links = _links(s)
    course = _fake_course(s)
    settings = RouteSettings()
    _redirect_files(s, files, settings)
    _alias_fields(s, settings)
    absolute = [link for link in links if link.href.startswith("/") and not link.href.startswith("//")]
    _mounts_and_locales(s, course, settings, absolute)
    router = _router(course, settings, s)
    _case(s, course, settings, absolute, router)
    router = _router(course, settings, s)
    _served_elsewhere(s, settings, absolute, router)
    router = _router(course, settings, s)
    _navigation(s, files, settings, router)
    router = _router(course, settings, s)
    _schemes(s, links)
    _anchors(s, links, router)


def _router(course: Any, settings: RouteSettings, s: Survey) -> Router:
    router = Router(course, settings)

    def read(rel: str) -> str | None:
        try:
            return read_inside(s.root, rel).decode("utf-8", errors="replace")
        except OSError:
            return None

    router.load_redirects(read)
    return router


# -- redirects and alias fields ------------------------------------------------------------


def _redirect_files(s: Survey, files: list[str], settings: RouteSettings) -> None:
    found = []
    for rel in files:
        name = rel.rsplit("/", 1)[-1].lower()
        if not (name == "_redirects" or name == "vercel.json" or "redirect" in rel.lower()):
            continue
        try:
            raw = read_inside(s.root, rel, parents_checked=True)
        except OSError:
            continue
        if len(raw) > MAX_REDIRECT_CANDIDATE:
            continue
        count = looks_like_redirects(rel, raw.decode("utf-8", errors="replace"))
        if count:
            found.append((rel, count))
    if found:
        settings.redirects = tuple(rel for rel, _ in found)
        s.redirect_files = [rel for rel, _ in found]
        s.graph["redirects"] = list(settings.redirects)
        listed = ", ".join(f"{rel} ({count})" for rel, count in found)
        s.graph_notes.append(f"The site's redirect files (rules): {listed}; a link to an old URL follows them.")
        s.notes.append(f"redirects read from {listed}")


def _alias_fields(s: Survey, settings: RouteSettings) -> None:
    fields = []
    for name, count in s.fields.items():
        if count < 2 or not _ALIAS_FIELD_NAME.search(name):
            continue
        values = [s.facts[rel].frontmatter.get(name) for rel in s.lessons if s.facts[rel].frontmatter]  # type: ignore[union-attr]
        routes = [v for value in values for v in (value if isinstance(value, list) else [value]) if v is not None]
        if (
            routes
            and all(isinstance(v, str) and v.startswith("/") and not v.startswith("//") for v in routes)
            and not any(_ASSET.search(clean_path(v)) for v in routes)
            and len(set(routes)) >= 0.9 * len(routes)  # a route names one page (a few conflicts aside)
        ):
            fields.append(name)
    if fields:
        settings.alias_fields = tuple(fields)
        s.graph["alias-fields"] = fields
        s.graph_notes.append(f"Frontmatter fields listing more routes of a page: {', '.join(fields)}.")


# -- mounts and locales ------------------------------------------------------------------


def _mappings(s: Survey, absolute: list[_Link]) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], int]]:
    """For each link target that ends like a page's path: (URL prefix, folder) it implies,
    counted by distinct targets (and by links)."""
    by_tail: dict[str, list[list[str]]] = {}
    for rel in s.lessons:
        for key in page_keys(rel):
            parts = key.split("/") if key else []
            if parts:
                by_tail.setdefault(parts[-1].lower(), []).append(parts)
    targets: dict[str, int] = Counter(
        clean_path(link.href) for link in absolute if not _COMPUTED.search(link.href.split("#", 1)[0])
    )
    found: Counter[tuple[str, str]] = Counter()
    links: dict[tuple[str, str], int] = {}
    for target, times in targets.items():
        url = [p for p in target.strip("/").split("/") if p]
        if not url:
            continue
        best: list[tuple[int, list[str]]] = []
        for parts in by_tail.get(url[-1].lower(), ()):
            common = 0
            while common < min(len(url), len(parts)) and url[-1 - common].lower() == parts[-1 - common].lower():
                common += 1
            if not best or common > best[0][0]:
                best = [(common, parts)]
            elif common == best[0][0] and parts != best[0][1]:
                best.append((common, parts))
        if len(best) != 1:
            continue  # no page, or two equally good ones: says nothing
        common, parts = best[0]
        prefix = "/" + "/".join(url[: len(url) - common])
        prefix = prefix if prefix == "/" else prefix + "/"
        folder = "/".join(parts[: len(parts) - common])
        folder = folder + "/" if folder else ""
        found[(prefix, folder)] += 1
        links[(prefix, folder)] = links.get((prefix, folder), 0) + times
    return found, links


def _mounts_and_locales(s: Survey, course: Any, settings: RouteSettings, absolute: list[_Link]) -> None:
    found, links = _mappings(s, absolute)
    if not found:
        return
    folders = {rel.rsplit("/", 1)[0] + "/" for rel in s.lessons if "/" in rel}
    folders |= {"/".join(p.split("/")[:i]) + "/" for p in list(folders) for i in range(1, p.count("/"))}
    # 1. Mounts that serve a whole folder at a prefix, the root mount first.
    mounts: dict[str, str] = {}
    root_like = sorted(((n, m) for m, n in found.items() if m[0] == "/"), reverse=True)
    if root_like:
        mounts["/"] = root_like[0][1][1]
    # 2. Locale segments: /P/S/x served by the folder of /P/x (S dropped: a variant of the
    #    page) or by that of /P/L/x (S replaced by the fallback locale L).
    inserted: dict[tuple[str, str], set[str]] = {}
    substituted: dict[tuple[str, str, str], set[str]] = {}
    rest: list[tuple[tuple[str, str], int]] = []
    for (prefix, folder), n in found.items():
        if prefix == "/" and prefix in mounts:
            continue
        parts = prefix.strip("/").split("/")
        parent = "/" + "/".join(parts[:-1])
        parent = parent if parent == "/" else parent + "/"
        segment = parts[-1]
        served = _served_folder(mounts, parent)
        if served is not None and served == folder:
            inserted.setdefault((parent, folder), set()).add(segment)
            continue
        if served is not None and folder.startswith(served) and folder.count("/") == served.count("/") + 1:
            locale = folder[len(served) :].rstrip("/")
            if (served + segment + "/") in folders and segment != locale:
                substituted.setdefault((parent, served, locale), set()).add(segment)
                continue
        rest.append(((prefix, folder), n))
    locales: list[str] = []
    fallback = ""
    for (parent, folder), segments in sorted(inserted.items(), key=lambda i: -len(i[1])):
        if len(segments) >= 2:
            locales += sorted(segments)
            s.graph_notes.append(
                f"Links insert a segment after {parent} ({', '.join(sorted(segments)[:8])}"
                f"{'...' if len(segments) > 8 else ''}) before a page's path: a variant of the page "
                "(a language, an SDK), served by the page without it."
            )
            break
        for segment in segments:
            rest.append(((parent + segment + "/", folder), 2))
    if not locales:
        for (_parent, served, locale), variants in sorted(substituted.items(), key=lambda i: -len(i[1])):
            # Two locales served from a third, or one that is plainly a language code.
            if len(variants) >= 2 or all(_LOCALE_CODE.match(x) for x in (*variants, locale)):
                locales = sorted(variants | {locale})
                fallback = locale
                s.graph_notes.append(
                    f"Locales {', '.join(locales[:10])}: a page not translated is served from '{locale}' "
                    f"({served}{locale}/)."
                )
                break
    # 3. Other prefixes that serve a folder (/developers/ serves content/), with support.
    for (prefix, folder), n in sorted(rest, key=lambda i: -i[1]):
        if n < MOUNT_MIN_TARGETS or prefix in mounts or prefix.strip("/").count("/") >= MOUNT_MAX_DEPTH:
            continue
        served = _served_folder(mounts, prefix)
        if served == folder:
            continue  # already said by a shorter mount
        if served is not None and served in folders:
            continue  # the prefix already serves pages of its own: these links are broken, not remapped
        mounts[prefix] = folder
    if mounts == {"/": ""} and not locales:
        settings.mounts = (("/", ""),)
        s.graph["mounts"] = {"/": ""}
        s.graph_notes.insert(
            0, "Links name pages by their path in the repository (/docs/x is docs/x.md or docs/x/index.md)."
        )
    elif mounts:
        settings.mounts = tuple(mounts.items())
        s.graph["mounts"] = dict(sorted(mounts.items(), key=lambda m: m[0]))
        described = ", ".join(f"{p} serves {f or 'the root'}" for p, f in sorted(mounts.items()))
        s.graph_notes.insert(0, f"How the site serves the repository's pages (URL prefix = folder): {described}.")
    if locales:
        settings.locales = tuple(locales)
        settings.fallback_locale = fallback
        s.graph["locales"] = locales
        s.graph["fallback-locale"] = fallback
    if mounts:
        total = sum(links.values())
        s.notes.append(
            f"links: {len(mounts)} URL prefix{'es' if len(mounts) != 1 else ''} mapped to folders"
            f"{f', {len(locales)} locale or variant segments' if locales else ''} (from {total} links)"
        )


def _served_folder(mounts: dict[str, str], prefix: str) -> str | None:
    """The folder ``prefix`` is served from by ``mounts`` (longest prefix first)."""
    for mount in sorted(mounts, key=len, reverse=True):
        if prefix.startswith(mount):
            return mounts[mount] + prefix[len(mount) :].lstrip("/")
    return None


# -- case, routes served elsewhere --------------------------------------------------------


def _case(s: Survey, course: Any, settings: RouteSettings, absolute: list[_Link], router: Router) -> None:
    if not settings.mounts:
        return
    keys = [k for rel in s.lessons for k in page_keys(rel)]
    if len({k.lower() for k in keys}) < len(set(keys)):
        return  # two pages differ only by case: the routes must be case-sensitive
    folded = RouteSettings(**{**_as_dict(settings), "case_sensitive": False})
    loose = Router(course, folded)
    only_by_case: Counter[str] = Counter()
    sources: set[str] = set()
    for link in absolute:
        path = clean_path(link.href)
        if router.resolve(path) is None and isinstance(loose.resolve(path), (SimpleNamespace, Served)):
            only_by_case[path] += 1
            sources.add(link.source)
    if sum(only_by_case.values()) >= 3 and len(only_by_case) >= 2 and len(sources) >= 2:
        settings.case_sensitive = False
        s.graph["case-sensitive"] = False
        example = next(iter(only_by_case))
        s.graph_notes.append(
            f"{sum(only_by_case.values())} links name a page in another case ({example}): the site's routes are "
            "taken as case-insensitive (set true to report them)."
        )


def _as_dict(settings: RouteSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__slots__}  # type: ignore[attr-defined]


def _served_elsewhere(s: Survey, settings: RouteSettings, absolute: list[_Link], router: Router) -> None:
    """Prefixes under which the repository has no page but links name many: generated by
    another system (an API reference built from its schema)."""
    if not settings.mounts:
        return
    below: dict[str, set[str]] = {}
    for link in absolute:
        path = clean_path(link.href)
        if not router.claims(path) or router.resolve(path) is not None:
            continue
        parts = path.strip("/").split("/")
        # The deepest prefix that is a folder of pages, and the next segment: the subtree
        # the repository does not have.
        for i in range(len(parts) - 1, 0, -1):
            if any(router.is_folder(candidate) for candidate in router.candidates("/" + "/".join(parts[:i]))):
                prefix = "/" + "/".join(parts[: i + 1]) + "/"
                below.setdefault(prefix, set()).add("/".join(parts[i + 1 :]))
                break
    elsewhere = sorted(prefix for prefix, deeper in below.items() if len(deeper - {""}) >= 3)
    if elsewhere:
        settings.elsewhere = tuple(elsewhere)
        s.graph["served-elsewhere"] = elsewhere
        s.graph_notes.append(
            "Links name many pages below these prefixes, where the repository has none: served by another system "
            f"(a generated reference); not judged: {', '.join(elsewhere)}."
        )


NAV_MIN_LINKS = 10
NAV_MIN_RESOLVED = 0.8
NAV_MAX_ELSEWHERE = 40
_NAV_KEYS = {"href", "link", "url", "path", "to"}


def _navigation(s: Survey, files: list[str], settings: RouteSettings, router: Router) -> None:
    """The site's navigation files (a JSON sidebar or manifest whose links are mostly the
    repository's pages): the few pages it lists that the repository does not hold are
    served by the site from elsewhere (a generated reference, an error catalogue)."""
    if not settings.mounts:
        return
    found: dict[str, str] = {}
    for rel in files:
        if not rel.lower().endswith(".json") or rel in s.redirect_files:
            continue
        try:
            raw = read_inside(s.root, rel, parents_checked=True)
        except OSError:
            continue
        if len(raw) > MAX_REDIRECT_CANDIDATE or b'"/' not in raw:
            continue
        try:
            data = json.loads(raw.decode("utf-8", errors="replace"))
        except Exception:  # not JSON, or nested too deep: not a navigation file
            continue
        hrefs = [h for h in _nav_hrefs(data) if not _COMPUTED.search(h)]
        if len(hrefs) < NAV_MIN_LINKS:
            continue
        missing = [h for h in dict.fromkeys(clean_path(h) for h in hrefs) if router.resolve(h) is None]
        resolved = 1 - len(missing) / len(set(clean_path(h) for h in hrefs))
        if resolved < NAV_MIN_RESOLVED or len(missing) > NAV_MAX_ELSEWHERE:
            continue
        for path in missing:
            if router.claims(path):
                found.setdefault(path.rstrip("/") + "/", rel)
    if found:
        elsewhere = [*settings.elsewhere, *(p for p in sorted(found) if p not in settings.elsewhere)]
        settings.elsewhere = tuple(elsewhere)
        s.graph["served-elsewhere"] = list(elsewhere)
        sources = ", ".join(sorted(set(found.values())))
        s.graph_notes.append(
            f"The site's navigation ({sources}) lists pages the repository does not hold: served from elsewhere, "
            f"not judged: {', '.join(sorted(found))}."
        )
        s.notes.append(f"navigation: {len(found)} pages listed in {sources} are served from elsewhere")


def _nav_hrefs(data: Any) -> list[str]:
    """Absolute URL paths under link-like keys (``href``, ``link``...) anywhere in ``data``."""
    out: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str):
                    if str(key).lower() in _NAV_KEYS and value.startswith("/") and not value.startswith("//"):
                        out.append(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, (dict, list)))
    return out


# -- link schemes ---------------------------------------------------------------------------


def _schemes(s: Survey, links: list[_Link]) -> None:
    """A site's own link scheme (``info:intro``): the template naming lessons that way."""
    by_scheme: dict[str, list[str]] = {}
    for link in links:
        m = _SCHEME.match(link.href)
        if m is not None and m.group(1).lower() not in KNOWN_SCHEMES:
            by_scheme.setdefault(m.group(1), []).append(m.group(2).split("#", 1)[0])
    inside = [_inside(s, rel) for rel in s.lessons]
    routes = list(s.graph.get("routes", []))
    for scheme, rests in sorted(by_scheme.items()):
        if len(rests) < 3:
            continue
        best, hits = None, 0
        for template in SCHEME_TEMPLATES:
            names = [expand_template(template, p) for p in inside]
            if len(set(names)) < len(names):
                continue
            known = set(names)
            n = sum(1 for r in rests if r in known)
            if n > hits:
                best, hits = template, n
        if best is not None and hits >= len(rests) / 2:
            s.aliases.append(f"{scheme}:{best}")
            routes.append(f"{scheme}:")
            s.notes.append(f"links '{scheme}:NAME' name lessons by {best} ({hits} of {len(rests)} resolve)")
    if routes:
        # The site paths the aliases give, and the schemes (a route list replaces the default).
        defaults = [t.split("{", 1)[0] for t in s.aliases if t.startswith("/") and "{" in t]
        s.graph["routes"] = list(dict.fromkeys([*defaults, *routes]))


def _inside(s: Survey, rel: str) -> str:
    return rel[len(s.content_base) + 1 :] if s.content_base and rel.startswith(s.content_base + "/") else rel


# -- anchors ---------------------------------------------------------------------------------


def _anchors(s: Survey, links: list[_Link], router: Router) -> None:
    """Check #fragments when the repository's anchors match its headings (90% or more)."""
    anchors: dict[str, Anchors] = {}

    def of(rel: str) -> Anchors:
        if rel not in anchors:
            facts = s.facts[rel]
            anchors[rel] = Anchors.of(facts.headings, facts.ids)
        return anchors[rel]

    cross = [0, 0]
    same = [0, 0]
    examples: list[str] = []
    lessons = set(s.lessons)
    attached = _attached_partials(s)  # page key -> names of partial folders beside it
    missed: dict[str, set[str]] = {}  # partial folder name -> pages missing a fragment
    missed_elsewhere: set[str] = set()
    misses: list[tuple[str, list[int], tuple[str, ...]]] = []
    for link in links:
        if "#" not in link.href or link.source not in lessons:
            continue
        path, fragment = link.href.split("#", 1)
        if not fragment or not re.match(r"^[^\s/{}$<>]+$", fragment):
            continue
        if not path:
            target = link.source
            counter = same
        else:
            found = _resolve(router, link.source, path)
            if found is None:
                continue
            target, counter = found, cross
        if not s.facts[target].headings and not s.facts[target].ids:
            continue  # nothing to match: a page whose content is generated elsewhere
        counter[1] += 1
        if of(target).has(fragment):
            counter[0] += 1
            continue
        names = attached.get(page_keys(target)[-1], ())
        for name in names:
            missed.setdefault(name, set()).add(target)
        if not names:
            missed_elsewhere.add(target)
        misses.append((link.href, counter, names))
    # Partial folders beside pages whose fragments miss far more often than elsewhere: the
    # site builds sections of the page from them (an "In practice" section from practice/).
    sections = sorted(
        name for name, pages in missed.items() if len(pages) >= 3 and len(pages) >= 2 * len(missed_elsewhere)
    )
    if sections:
        s.rules.append(
            (
                "graph/unresolved-anchor",
                "{ sections-from = [" + ", ".join(f'"{name}"' for name in sections) + "] }",
                f"Links to pages with {', '.join(sections)}/ beside them name sections no heading of the page has "
                "(the site builds them from those partials): such fragments are not judged.",
            )
        )
        s.notes.append(f"anchors: sections built from {', '.join(n + '/' for n in sections)} partials are not judged")
    for href, counter, names in misses:
        if any(name in sections for name in names):
            counter[1] -= 1  # not judged
        elif len(examples) < 3:
            examples.append(href)
    checked, total = cross[0] + same[0], cross[1] + same[1]
    if total == 0:
        return
    rate = checked / total
    if total >= 5 and rate < 0.9:
        s.rules.append(
            (
                "graph/unresolved-anchor",
                '"off"',
                f"Only {checked} of {total} link fragments match a heading of their page ({rate:.0%}): this site makes "
                "its anchors some other way, so they are not checked.",
            )
        )
        s.notes.append(f"anchors not checked: {checked} of {total} fragments match headings")
        return
    if same[1] >= 5 and same[0] < 0.9 * same[1]:
        s.rules.append(
            (
                "graph/unresolved-anchor",
                "{ same-page = false }",
                f"{same[0]} of {same[1]} same-page fragments match a heading: only links to other pages are checked.",
            )
        )
    s.notes.append(f"anchors checked: {checked} of {total} link fragments match their page's headings")


def _attached_partials(s: Survey) -> dict[str, tuple[str, ...]]:
    """Page key -> the names of folders beside the page that hold partials
    (``js/events/practice/tip.md`` gives ``js/events`` -> ``practice``)."""
    pages = {page_keys(rel)[-1] for rel in s.lessons}
    found: dict[str, dict[str, None]] = {}
    for rel in s.partials:
        parts = rel.split("/")
        for i in range(1, len(parts) - 1):
            key = "/".join(parts[:i])
            if key in pages:
                found.setdefault(key, {})[parts[i]] = None
    return {key: tuple(names) for key, names in found.items()}


def _resolve(router: Router, source: str, path: str) -> str | None:
    if path.startswith("/"):
        found = router.resolve(path)
    else:
        joined = os.path.normpath(os.path.join(os.path.dirname(source), path)).replace(os.sep, "/")
        found = router.page(joined)
    relpath = getattr(found, "relpath", None)
    return relpath if isinstance(relpath, str) else None
