"""JSON and YAML data files (glossaries, quizzes, dashboards) in the document model."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from coursecheck.fsutil import read_inside
from coursecheck.model import Document
from coursecheck.parse.markdown import problem
from coursecheck.parse.yamlpos import DATA_LIMITS, YamlProblem, load_with_places
from coursecheck.text import LineIndex, Span

# A JSON token that matters for nesting: a string (skipped whole) or a bracket.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _json_too_deep(text: str, max_depth: int) -> int | None:
    """Offset of the first ``[`` or ``{`` nested deeper than ``max_depth``, in linear time."""
    if text.count("[") + text.count("{") <= max_depth:
        return None
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        ch = text[m.start()]
        if ch in "[{":
            depth += 1
            if depth > max_depth:
                return m.start()
        elif ch in "]}":
            depth -= 1
    return None


def parse_data(path: Path, relpath: str, text: str, kind: str, *, has_bom: bool = False) -> Document:
    doc = Document(path, relpath, kind, text, LineIndex(text), has_bom=has_bom)
    if kind == "json":
        # The same depth limit as YAML data (rules walk the data recursively, and its places
        # are read with the YAML parser); checked first, so json.loads never recurses deeply.
        deep = _json_too_deep(text, DATA_LIMITS.max_depth)
        if deep is not None:
            message = (
                f"JSON not read: it nests more than {DATA_LIMITS.max_depth} levels deep here, the limit for "
                f"{DATA_LIMITS.what}; flatten the structure"
            )
            doc.problems.append(problem(doc, "parse/data-syntax", message, deep))
            doc.data_places = {}
            return doc
        try:
            doc.data = json.loads(text)
        except json.JSONDecodeError as exc:
            doc.problems.append(problem(doc, "parse/data-syntax", f"invalid JSON: {exc.msg}", exc.pos))
        except RecursionError:
            doc.problems.append(problem(doc, "parse/data-syntax", "JSON is nested too deeply to read", 0))
    else:
        try:
            doc.data, places = load_with_places(text, doc.lines, 0)
            doc.data_places = places
        except YamlProblem as exc:
            what = "YAML not read" if exc.limit else "invalid YAML"
            doc.problems.append(problem(doc, "parse/data-syntax", f"{what}: {exc}", exc.offset))
    return doc


def data_places(doc: Document) -> dict[tuple[Any, ...], Span]:
    """Spans of every key, value and list item of a data file (JSON is valid YAML 1.2).

    Read on demand for JSON: most runs never need them, and the pure-Python YAML loader is
    slow on a 1,000-line dashboard.
    """
    if doc.data_places is None:
        try:
            _, doc.data_places = load_with_places(doc.source, doc.lines, 0)
        except (YamlProblem, RecursionError):
            doc.data_places = {}
    return doc.data_places


def data_place(doc: Document, *path: Any) -> Span:
    """The most precise span for ``path`` in a data file, falling back to its parents."""
    places = data_places(doc)
    while path:
        if path in places:
            return places[path]
        path = path[:-1]
    return Span.point(1, 1)


# What coursecheck init surveys of a data file (moved from coursecheck.init: the plugins'
# init sections read data files too, and plugins do not import the app).
MAX_DATA_FILE = 2 * 1024 * 1024


def load_data_file(root: Path, rel: str) -> Any:
    """A data file's value for a survey of the repository (coursecheck init and the plugins'
    init sections), read inside the root; None when it cannot be read or is too big."""
    try:
        raw = read_inside(root, rel, parents_checked=True)
    except OSError:
        return None
    if len(raw) > MAX_DATA_FILE:
        return None
    text = raw.decode("utf-8", errors="replace")
    # Read as the check reads data files: YAML nesting and aliases bounded before composing,
    # JSON depth checked first (a survey walks the data: a small alias bomb must not cost it).
    try:
        doc = parse_data(root / rel, rel, text, "json" if rel.lower().endswith(".json") else "yaml")
    except Exception:  # a data file that cannot be read is not surveyed
        return None
    return None if doc.problems else doc.data
