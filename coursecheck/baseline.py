"""Baselines: accept the findings a course has today, fail only on new ones.

``coursecheck --write-baseline FILE`` records every unsuppressed finding by its fingerprint
(rule, file and what the finding is about — a matched word, a key, the source line — but not
its line number, so edits elsewhere in the file do not change it). ``coursecheck --baseline
FILE`` then marks the findings it lists as suppressed (``Suppression(kind="baseline")``):
they stay in reports (SARIF ``suppressions`` of kind ``external``) but do not fail the run.

The file is JSON, sorted by path and line, so it diffs well in review. Only ``fingerprint``
is used for matching; ``rule``, ``path``, ``line`` and ``message`` are there for people.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursecheck.errors import CoursecheckError
from coursecheck.fsutil import OutsideRoot, atomic_write, contained, lexically_inside
from coursecheck.model import Suppression

if TYPE_CHECKING:
    from coursecheck.results import Result

FORMAT_KEY = "coursecheck-baseline"
FORMAT_VERSION = 1


class BaselineError(CoursecheckError, ValueError):
    """The baseline file cannot be read or is not a coursecheck baseline."""


@dataclass(slots=True)
class Entry:
    fingerprint: str
    rule: str
    path: str
    line: int
    message: str


@dataclass(slots=True)
class Applied:
    matched: int  # findings the baseline suppressed
    stale: list[Entry]  # entries that matched no finding (fixed since, or their text changed)


def render(result: Result) -> str:
    entries = [
        {
            "fingerprint": f.fingerprint,
            "rule": f.rule_id,
            "path": f.path,
            "line": f.span.line,
            "message": f.message,
        }
        for f in sorted(result.active, key=lambda f: f.sort_key())
    ]
    document = {
        FORMAT_KEY: FORMAT_VERSION,
        "about": "Findings accepted as they are: `coursecheck --baseline FILE` fails only on new ones. "
        "Matched by fingerprint; rewrite with `coursecheck --write-baseline FILE`.",
        "findings": entries,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write(path: Path, result: Result, root: Path | None = None) -> int:
    """Write the baseline of ``result``'s unsuppressed findings; returns how many it holds.
    ``root``: the project root; a path inside it is not written through a link leading out."""
    atomic_write(path, render(result), root=root)
    return len(result.active)


def load(path: Path, root: Path | None = None) -> list[Entry]:
    """The entries of a baseline file. ``root``: the project root; a baseline inside it (the
    repository's) is not read through a link that leads out of it or into .git."""
    try:
        where: Path | str = path
        if root is not None and lexically_inside(root, os.path.abspath(path)):
            where = contained(root, os.path.abspath(path))
        text = Path(where).read_text(encoding="utf-8")
    except OutsideRoot as exc:
        raise BaselineError(f"baseline {path}: {exc.describe()}") from None
    except FileNotFoundError:
        raise BaselineError(f"baseline {path} not found (write one with --write-baseline {path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}:{exc.lineno}:{exc.colno}: baseline is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise BaselineError(f"{path}: baseline is nested too deeply to read") from None
    if not isinstance(data, dict) or FORMAT_KEY not in data:
        raise BaselineError(f"{path}: not a coursecheck baseline (no '{FORMAT_KEY}' key)")
    if data[FORMAT_KEY] != FORMAT_VERSION:
        raise BaselineError(
            f"{path}: baseline format {data[FORMAT_KEY]!r} is not supported (this coursecheck reads {FORMAT_VERSION})"
        )
    items = data.get("findings")
    if not isinstance(items, list):
        raise BaselineError(f"{path}: 'findings' must be a list")
    entries: list[Entry] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str) or not item["fingerprint"]:
            raise BaselineError(f"{path}: findings[{i}] has no 'fingerprint'")
        line = item.get("line", 0)
        entries.append(
            Entry(
                item["fingerprint"],
                str(item.get("rule", "")),
                str(item.get("path", "")),
                line if isinstance(line, int) else 0,
                str(item.get("message", "")),
            )
        )
    return entries


def apply(result: Result, entries: list[Entry], source: str, *, partial: bool = False) -> Applied:
    """Suppress the findings of ``result`` the baseline lists. ``source`` names the file;
    ``partial`` says the run reported on some files only (PATHS), so entries about other
    files are not stale."""
    by_fingerprint = {e.fingerprint: e for e in entries}
    used: set[str] = set()
    for finding in result.findings:
        if finding.suppression is not None:
            continue
        if finding.fingerprint in by_fingerprint:
            finding.suppression = Suppression("baseline", f"accepted in baseline {source}")
            # The findings are no longer what the engine finished: reporters render them all.
            result.blocks = None
            used.add(finding.fingerprint)
    checked = set(result.files)
    stale = [e for e in entries if e.fingerprint not in used and (not partial or e.path in checked)]
    return Applied(len(used), stale)
