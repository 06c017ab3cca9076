"""``--fix`` and ``--diff``: apply the safe fixes rules attach to their findings.

A rule offers a :class:`~coursecheck.model.Fix` (edits at spans of the original file). Here
the fixes of one run are turned into new file contents:

* only safe fixes of unsuppressed findings; a fix is applied whole or not at all;
* a file with any ``parse/*`` finding is never touched (its positions may not be what the
  rule thought), nor one whose content changed since the run read it;
* spans are 1-based lines and code-point columns of the original file, so the edits are
  applied to the file's own text read again: its BOM, its line endings (LF, CRLF or CR; a
  replacement's newlines take the file's style) and its mode are kept;
* edits are applied bottom-up; a fix overlapping one already taken is left for the next run;
* each file is written atomically (temporary file and rename), never through a symbolic
  link: a lesson that is a link is left alone with a message (fix the file it points to),
  and nothing outside the project root or inside .git is written;
* a SIGTERM while writing removes the temporary file; one left by ``kill -9`` is removed by
  the next run (coursecheck.fsutil.remove_leftover_temps).
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import os
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from coursecheck.fsutil import OutsideRoot, atomic_write_bytes, contained, shown, terminate_cleanly
from coursecheck.model import Finding
from coursecheck.text import DecodeError, decode_source, normalize_newlines

if TYPE_CHECKING:
    from coursecheck.results import Result

_BOM = b"\xef\xbb\xbf"
UNSAFE = "the fix is not safe; apply it by hand"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DIFF_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass(slots=True)
class FileFix:
    """The fixes for one file: what it holds now, what it will hold, which findings they fix."""

    relpath: str
    path: Path
    before: str  # the file's text (original line endings, BOM removed)
    after: str
    has_bom: bool
    digest: str  # sha256 of the bytes the plan was made from
    fixed: list[Finding] = field(default_factory=list)

    def data(self) -> bytes:
        return (_BOM if self.has_bom else b"") + self.after.encode("utf-8")

    def diff(self) -> str:
        lines = difflib.unified_diff(
            _diff_lines(self.before), _diff_lines(self.after), f"a/{self.relpath}", f"b/{self.relpath}"
        )
        return "".join(lines)


@dataclass(slots=True)
class FixPlan:
    files: list[FileFix] = field(default_factory=list)
    root: Path | None = None  # the project root: nothing is written outside it
    # (path, why) for files with fixable findings that were left alone.
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    # Findings whose fix was not taken, and why (unsafe, overlapping, out of range).
    skipped: list[tuple[Finding, str]] = field(default_factory=list)

    @property
    def fixed(self) -> list[Finding]:
        return [f for file in self.files for f in file.fixed]

    def diff(self) -> str:
        return "".join(file.diff() for file in self.files)


def _diff_lines(text: str) -> list[str]:
    """Lines with their own terminators; a last line without one gets git's marker."""
    lines = _DIFF_LINE.findall(text)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def plan_fixes(result: Result) -> FixPlan:
    """Work out the new contents of every file the run's safe fixes change (nothing is written)."""
    plan = FixPlan(root=result.root)
    by_path: dict[str, list[Finding]] = {}
    broken: set[str] = set()
    for finding in result.findings:
        if finding.rule_id.startswith("parse/"):
            broken.add(finding.path)
        if finding.fix is None or finding.suppression is not None:
            continue
        if not finding.fix.safe:
            plan.skipped.append((finding, UNSAFE))
            continue
        if not finding.fix.edits or not finding.path:
            continue
        by_path.setdefault(finding.path, []).append(finding)
    documents = {doc.relpath: doc for doc in result.course.documents} if result.course is not None else {}
    # Parse problems count even when --select left parse/* out of the findings.
    broken.update(rel for rel, doc in documents.items() if any(p.rule_id.startswith("parse/") for p in doc.problems))
    for relpath in sorted(by_path):
        findings = by_path[relpath]
        if relpath in broken:
            plan.skipped_files.append((relpath, "the file has a parse error; fix that first"))
            continue
        path = result.root / relpath
        refused = link_refusal(result.root, relpath)
        if refused:
            plan.skipped_files.append((relpath, refused))
            continue
        try:
            raw = path.read_bytes()
            text, has_bom = decode_source(raw)
        except (OSError, DecodeError) as exc:
            plan.skipped_files.append((relpath, f"cannot read it again: {exc}"))
            continue
        doc = documents.get(relpath)
        if doc is None or normalize_newlines(text) != doc.source:
            plan.skipped_files.append((relpath, "the file changed since it was checked; run again"))
            continue
        file_fix = _fix_file(relpath, path, text, has_bom, hashlib.sha256(raw).hexdigest(), findings, plan)
        if file_fix.fixed:
            plan.files.append(file_fix)
    return plan


def link_refusal(root: Path, relpath: str) -> str:
    """Why ``--fix`` leaves ``relpath`` alone because of a link ("" when it does not): the
    file is a symbolic link (writing it would change the file it points to, which another
    path names), or a link on the way leads out of the root or into .git."""
    path = root / relpath
    try:
        real = contained(root, relpath)
    except OutsideRoot as exc:
        return f"{exc.describe(relpath)}; not written"
    if path.is_symlink():
        target = _link_target(root, relpath, real)
        return f"is a symbolic link; --fix does not write through links: fix {target}, the file it points to, instead"
    return ""


def _link_target(root: Path, relpath: str, real: str) -> str:
    """The file a link inside the root points to, as the course names it: the link's own
    relative target taken from its folder (``01-real.md`` beside it), else its real path."""
    try:
        written = os.readlink(root / relpath)
    except OSError:
        written = ""
    if written and not os.path.isabs(written):
        named = posixpath.normpath(posixpath.join(posixpath.dirname(relpath), Path(written).as_posix()))
        if not named.startswith("../") and named != "..":
            return shown(named)
    try:
        return shown(Path(real).relative_to(Path(contained(root, "."))).as_posix())
    except ValueError:
        return shown(real)


def _fix_file(
    relpath: str, path: Path, text: str, has_bom: bool, digest: str, findings: list[Finding], plan: FixPlan
) -> FileFix:
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    newline = _newline_style(text)

    def offset(line: int, column: int) -> int | None:
        if not 1 <= line <= len(starts) or column < 1:
            return None
        line_end = starts[line] if line < len(starts) else len(text)
        content_end = line_end - len(_terminator(text, line_end))
        at = starts[line - 1] + column - 1
        return at if at <= content_end else None

    taken: list[tuple[int, int, str]] = []
    file_fix = FileFix(relpath, path, text, text, has_bom, digest)
    for finding in sorted(findings, key=Finding.sort_key):
        assert finding.fix is not None
        edits: list[tuple[int, int, str]] = []
        for edit in finding.fix.edits:
            start = offset(edit.span.line, edit.span.column)
            end = offset(edit.span.end_line, edit.span.end_column)
            if start is None or end is None or end < start:
                edits = []
                plan.skipped.append((finding, "an edit lies outside the file"))
                break
            replacement = edit.replacement if newline == "\n" else edit.replacement.replace("\n", newline)
            edits.append((start, end, replacement))
        if not edits:
            continue
        edits.sort()
        if any(_overlap(a, b) for a, b in itertools.pairwise(edits)):
            plan.skipped.append((finding, "the fix's own edits overlap"))
            continue
        if all(edit in taken for edit in edits):  # another finding's fix already does exactly this
            file_fix.fixed.append(finding)
            continue
        if any(_overlap(edit, other) for edit in edits for other in taken):
            plan.skipped.append((finding, "overlaps another fix; run --fix again"))
            continue
        taken.extend(edits)
        file_fix.fixed.append(finding)
    after = text
    for start, end, replacement in sorted(taken, reverse=True):
        after = after[:start] + replacement + after[end:]
    file_fix.after = after
    return file_fix


def _terminator(text: str, line_end: int) -> str:
    if text.endswith("\r\n", 0, line_end):
        return "\r\n"
    if line_end and text[line_end - 1] in "\r\n":
        return text[line_end - 1]
    return ""


def _overlap(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    if a[0] == b[0]:  # two edits starting at one place: their order would be a guess
        return True
    return a[0] < b[1] and b[0] < a[1]


def _newline_style(text: str) -> str:
    counts = Counter(m.group() for m in _LINE_BREAK.finditer(text))
    return counts.most_common(1)[0][0] if counts else "\n"


@dataclass(slots=True)
class Written:
    written: list[FileFix] = field(default_factory=list)
    # (path, why) for files left alone at the last moment (changed on disk, not writable).
    failed: list[tuple[str, str]] = field(default_factory=list)


def write_fixes(plan: FixPlan) -> Written:
    """Write each planned file atomically, unless it changed on disk since the plan was made."""
    out = Written()
    with terminate_cleanly():
        for file_fix in plan.files:
            _write_one(plan, file_fix, out)
    return out


def _write_one(plan: FixPlan, file_fix: FileFix, out: Written) -> None:
    if plan.root is not None:
        refused = link_refusal(plan.root, file_fix.relpath)  # again: the tree may have changed
        if refused:
            out.failed.append((file_fix.relpath, refused))
            return
    try:
        current = file_fix.path.read_bytes()
    except OSError as exc:
        out.failed.append((file_fix.relpath, f"cannot read it again: {exc.strerror or exc}"))
        return
    if hashlib.sha256(current).hexdigest() != file_fix.digest:
        out.failed.append((file_fix.relpath, "the file changed since it was checked; not written"))
        return
    try:
        atomic_write_bytes(file_fix.path, file_fix.data(), root=plan.root, links="refuse")
    except OSError as exc:
        out.failed.append((file_fix.relpath, f"cannot write it: {exc.strerror or exc}"))
        return
    out.written.append(file_fix)


def describe(file_fix: FileFix) -> list[str]:
    """One line per fixed finding: ``path:line:col rule-id description``."""
    return [
        f"{file_fix.relpath}:{f.span.line}:{f.span.column}: {f.rule_id} {f.fix.description if f.fix else ''}".rstrip()
        for f in file_fix.fixed
    ]
