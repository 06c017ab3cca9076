"""Markdown text that renders as meant: the small writers of the Markdown reports (the
course report, :mod:`coursecheck.report.markdown`, and the phase report,
:mod:`coursecheck.report.phase`). Not a plugin (the leading underscore keeps it out of the
built-in plugin list).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from coursecheck.escape import display, json_text, line

# -- Markdown text that renders as meant --------------------------------------------------------

_SPECIAL = re.compile(r"[\\`*\[\]<|~$]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|&(?=#?\w+;)|(?<![\w.])@(?=\w)")


def text(value: object) -> str:
    """Plain text in Markdown (a sentence, a table cell): one line, punctuation that Markdown
    or GitHub would interpret (emphasis, links, HTML, math, mentions, table pipes) escaped,
    control characters shown as escapes (``\\x1b``: the report may be printed on a terminal)."""
    flat = " ".join(str(value).split())
    return display(_SPECIAL.sub(lambda m: "\\" + m.group(), flat))


def code(value: object, *, table: bool = True) -> str:
    """An inline code span that survives backticks in the text, and pipes inside tables; one
    line, its control characters shown as escapes and no CI log command in it."""
    flat = display(" ".join(str(value).split()))
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    if table:
        flat = flat.replace("|", "\\|")
    return f"{fence}{pad}{flat}{pad}{fence}"


def fenced(body: str, info: str = "") -> list[str]:
    """A fenced block whose fence is longer than any backtick run inside it; each line's
    control characters shown as escapes, and no line a CI log command."""
    lines = [line(display(row)) for row in body.rstrip("\n").split("\n")]
    longest = max((len(run) for run in re.findall(r"`{3,}", "\n".join(lines))), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{info}", *lines, fence]


def table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out.extend("| " + " | ".join(cell or " " for cell in row) + " |" for row in rows)
    return out


def yaml_scalar(value: object) -> str:
    """A YAML scalar: plain when unambiguous, else a double-quoted (JSON) string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_text(json.dumps(str(v), ensure_ascii=False)) for v in value) + "]"
    s = str(value)
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_./ -]*[A-Za-z0-9_./]|[A-Za-z0-9]", s) and s.lower() not in (
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "null",
        "~",
    ):
        return s
    return json_text(json.dumps(s, ensure_ascii=False))  # a JSON string is a YAML double-quoted one
