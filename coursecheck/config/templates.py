"""Lesson id templates: ``{path}``, ``{dir|unnumbered}/{stem}`` (part of :mod:`coursecheck.config`)."""

from __future__ import annotations

import re

from coursecheck.config.core import did_you_mean

# -- lesson id templates -----------------------------------------------------------------

_TEMPLATE_VAR = re.compile(r"\{([^{}]*)\}")
TEMPLATE_VARS = ("path", "stem", "dir", "module", "name", "folder", "route")
TEMPLATE_FILTERS = ("unnumbered", "lower")


def template_problem(template: str) -> str | None:
    for m in _TEMPLATE_VAR.finditer(template):
        var, *filters = [p.strip() for p in m.group(1).split("|")]
        if var not in TEMPLATE_VARS:
            return f"unknown placeholder {{{var}}} in '{template}'{did_you_mean(var, TEMPLATE_VARS)} (known: {', '.join(TEMPLATE_VARS)})"
        for f in filters:
            if f not in TEMPLATE_FILTERS:
                return f"unknown filter '|{f}' in '{template}'{did_you_mean(f, TEMPLATE_FILTERS)} (known: {', '.join(TEMPLATE_FILTERS)})"
    return None


_NUMBER_PREFIX = re.compile(r"^\d+[-_.]")
_INDEX_STEMS = ("index", "README", "readme", "_index")


def expand_template(template: str, relpath_in_base: str) -> str:
    """Fill ``{path}``, ``{stem}``, ``{dir}``, ``{module}``, ``{name}``, ``{folder}``,
    ``{route}`` for a lesson.

    ``relpath_in_base`` is the lesson's path relative to its content glob's base, e.g.
    ``02-module-2/01-x.mdx``: path ``02-module-2/01-x``, stem ``01-x``, dir ``02-module-2``,
    module (first folder) ``02-module-2``, name ``01-x.mdx``, folder (the name of the
    lesson's own folder) ``02-module-2``. ``{route}`` is the path a site serves the page at:
    the path, less a final ``index``, ``README`` or ``_index`` (``guide/index.md`` is
    ``guide``). For lessons named by their folder (``1-intro/article.md``) ``{folder}`` or
    ``{dir}`` is the lesson's name. Filters: ``|unnumbered`` drops numeric prefixes
    (``02-module-2`` -> ``module-2``) of every part, ``|lower``.
    """
    parts = relpath_in_base.split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    folders = parts[:-1]
    route = "/".join(folders) if stem in _INDEX_STEMS else "/".join([*folders, stem])
    values = {
        "path": "/".join([*folders, stem]),
        "stem": stem,
        "dir": "/".join(folders),
        "module": folders[0] if folders else "",
        "name": name,
        "folder": folders[-1] if folders else "",
        "route": route,
    }

    def fill(m: re.Match[str]) -> str:
        var, *filters = [p.strip() for p in m.group(1).split("|")]
        value = values.get(var, "")
        for f in filters:
            if f == "unnumbered":
                value = "/".join(_NUMBER_PREFIX.sub("", part) for part in value.split("/"))
            elif f == "lower":
                value = value.lower()
        return value

    result = _TEMPLATE_VAR.sub(fill, template)
    return re.sub(r"/{2,}", "/", result)
