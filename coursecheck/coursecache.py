"""The course stage's findings, kept between runs while nothing they depend on has changed.

The course rules run on the records and summaries of every checked file, the config and
the data files, and a few of them look at files *outside* the checked set: must-have
artifacts (``labs/monitoring/dashboard.json``), key links to folders, relative links to
files that are not lessons. So the key of a stored course stage has two parts:

* a key over what every run knows before the course rules run: the *view* of each checked
  file (what course rules see of it: its record's frontmatter, headings, links, components
  with their positions and the text of their lines, and the summaries rules made of it;
  see :func:`coursecheck.records.view_digest`), the code, the plugins, the config, the
  data files, the config files' bytes (findings point at their lines) and the course
  rules that run;
* the reads *recorded* while the rules ran, each stored with its answer; the entry is used
  only if every recorded question gets the same answer now:

  - outside the checked set: a course rule reads a file with :func:`read_bytes` and asks
    whether a path is a file or a folder with :func:`path_kind`;
  - of a checked file, what its view leaves out: its text (read or parsed again), its line
    count (:mod:`coursecheck.records` records these reads).

  So an edit that changes nothing a course rule looked at (a typo fixed in a paragraph, a
  sentence added at the end) reuses the stored course findings; one that moves a link
  down a line or changes a frontmatter value runs the course rules again.

Only course rules whose code records its reads are trusted: coursecheck's own rules and
declarative rules of the built-in kinds. With any other course rule active (a plugin's,
whose reads we cannot see) the course stage runs every time, as before. A run whose rules
marked it :func:`volatile` (a pattern timed out: the outcome depends on the machine's
speed), reported an internal problem, or published something that cannot be stored, is
not stored either.
"""

from __future__ import annotations

import copy
import copyreg
import hashlib
import io
import pickle
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from coursecheck.fsutil import OutsideRoot, contained, lexically_inside, read_regular_bytes
from coursecheck.model import Document
from coursecheck.records import outside_view_value

_RECORDER_KEY = "coursecheck.coursecache.reads"
_REFUSED_KEY = "coursecheck.coursecache.refused"
FORMAT = 4


class Reads:
    """The questions course rules asked about files outside the checked set, and the answers."""

    __slots__ = ("answers", "events", "records", "volatile")

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], str] = {}
        # Parts of checked files' records outside their views that rules read
        # (coursecheck.records.track_reads): (what, relpath) -> value.
        self.records: dict[tuple[str, str], Any] = {}
        self.volatile = False
        self.events = _events

    def still_true(self, course: Any = None) -> bool:
        """Whether every recorded question gets the same answer now (``course``: the run's
        course, whose records answer the questions about checked files)."""
        root = getattr(course, "root", None)
        for (op, path), answer in self.answers.items():
            if _ANSWER[op](Path(path), root) != answer:
                return False
        if self.records:
            if course is None:
                return False
            by_rel = {doc.relpath: doc for doc in (*course.lessons, *course.data_files, *course.others)}
            for (what, rel), value in self.records.items():
                doc = by_rel.get(rel)
                if doc is None or outside_view_value(doc, what) != value:
                    return False
        return True


def _recorder(course: Any) -> Reads | None:
    cache = getattr(course, "cache", None)
    return cache.get(_RECORDER_KEY) if isinstance(cache, dict) else None


def start_recording(course: Any) -> Reads:
    reads = Reads()
    course.cache[_RECORDER_KEY] = reads
    return reads


def stop_recording(course: Any) -> None:
    course.cache.pop(_RECORDER_KEY, None)


# -- what course rules call ---------------------------------------------------------------


def read_bytes(course: Any, path: Path) -> bytes:
    """``path.read_bytes()``, recorded (raises OSError as it does). A path that leaves the
    course's root or leads into its .git folder, through a link or as written, is not read:
    :class:`~coursecheck.fsutil.OutsideRoot` (an OSError) is raised, and the link is noted
    for the run's ``parse/outside-root`` findings (:func:`refused_links`)."""
    reads = _recorder(course)
    try:
        data = _read_contained(path, getattr(course, "root", None))
    except OSError as exc:
        if isinstance(exc, OutsideRoot):
            _refuse(course, exc)
        if reads is not None:
            reads.answers[("bytes", str(path))] = _error(exc)
        raise
    if reads is not None:
        reads.answers[("bytes", str(path))] = _digest(data)
    return data


def path_kind(course: Any, path: Path) -> str:
    """``"file"``, ``"dir"``, ``"other"`` or ``"missing"`` (symbolic links followed), recorded;
    ``"outside"`` for a path that leaves the course's root or leads into its .git folder
    (through a link, which is noted as :func:`read_bytes` notes it, or as written), which is
    not looked at."""
    root = getattr(course, "root", None)
    kind = _kind(path, root)
    if kind == "outside" and root is not None:
        try:
            contained(root, path)
        except OutsideRoot as exc:
            _refuse(course, exc)
    reads = _recorder(course)
    if reads is not None:
        reads.answers[("kind", str(path))] = kind
    return kind


def list_tree(
    course: Any, path: Path, skip: frozenset[str] = frozenset(), limit: int = 100_000
) -> list[tuple[str, bool]]:
    """``(relpath, is_folder)`` of everything under the folder ``path`` (relative to it,
    folders before their content, sorted; names in ``skip`` not entered; at most ``limit``
    entries), recorded: the stored course stage is used again only while the listing is the
    same. Symbolic links are listed, never followed."""
    listing = _tree(path, skip, limit)
    reads = _recorder(course)
    if reads is not None:
        reads.answers[("tree", f"{path}\0{','.join(sorted(skip))}\0{limit}")] = _digest(repr(listing).encode())
    return listing


def _tree(path: Path, skip: frozenset[str], limit: int) -> list[tuple[str, bool]]:
    import os

    out: list[tuple[str, bool]] = []
    if not path.is_dir():
        return out
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        rel = Path(folder).relative_to(path).as_posix()
        prefix = "" if rel == "." else rel + "/"
        out.extend((prefix + d, True) for d in dirs)
        out.extend((prefix + f, False) for f in sorted(files))
        if len(out) > limit:
            break
    return out


def _tree_answer(key: Path, root: Path | None = None) -> str:
    path, skip, limit = str(key).split("\0")
    listing = _tree(Path(path), frozenset(s for s in skip.split(",") if s), int(limit))
    return _digest(repr(listing).encode())


def volatile(course: Any) -> None:
    """This run's course findings depend on something not recorded."""
    reads = _recorder(course)
    if reads is not None:
        reads.volatile = True


def timing_dependent() -> None:
    """Something whose outcome depends on the machine's speed happened (a user pattern
    timed out): a course stage running now is not stored."""
    global _events
    _events += 1


_events = 0


def _refuse(course: Any, exc: OutsideRoot) -> None:
    """Note a link that leads out (paths written outside the root are the caller's to report)."""
    cache = getattr(course, "cache", None)
    if exc.link and isinstance(cache, dict):
        cache.setdefault(_REFUSED_KEY, {}).setdefault(exc.link, exc.describe(exc.link))


def refused_links(course: Any) -> dict[str, str]:
    """The links course rules met that lead out of the root (link relpath -> why), for the
    engine's ``parse/outside-root`` findings."""
    cache = getattr(course, "cache", None)
    found = cache.get(_REFUSED_KEY) if isinstance(cache, dict) else None
    return dict(found) if isinstance(found, dict) else {}


def _read_contained(path: Path, root: Path | None) -> bytes:
    return read_regular_bytes(path if root is None else contained(root, path))


def _kind(path: Path, root: Path | None = None) -> str:
    if root is not None:
        if not lexically_inside(root, path):
            return "outside"
        try:
            path = Path(contained(root, path))
        except OutsideRoot:
            return "outside"
    try:
        if path.is_file():
            return "file"
        if path.is_dir():
            return "dir"
        return "other" if path.exists() else "missing"
    except OSError as exc:
        return _error(exc)


def _bytes_answer(path: Path, root: Path | None = None) -> str:
    try:
        return _digest(_read_contained(path, root))
    except OSError as exc:
        return _error(exc)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _error(exc: OSError) -> str:
    return f"error {type(exc).__name__} {exc.errno}"


_ANSWER: dict[str, Callable[..., str]] = {"bytes": _bytes_answer, "kind": _kind, "tree": _tree_answer}


# -- what the engine calls ----------------------------------------------------------------


def trusted(rule: Any, builtin_kinds: Collection[str] = ()) -> bool:
    """Whether a course rule's reads outside the checked files are recorded: coursecheck's
    own rules, and declarative rules of the built-in kinds (``builtin_kinds``, their names:
    :func:`coursecheck.plugins.builtin_rule_kinds`; passed in, as this module is below the
    plugins)."""
    module = getattr(rule.check, "__module__", "") or ""
    if not module.startswith("coursecheck."):
        return False
    if "declarative" in rule.tags and str(rule.plugin).startswith("declarative ("):
        return len(rule.tags) > 1 and rule.tags[1] in builtin_kinds
    return module.startswith("coursecheck.builtin.")


def config_bytes(config: Any) -> bytes:
    """The bytes of the config file and of every file it extends (findings and messages
    may quote their lines)."""
    names = sorted({str(config.path)} | {str(file) for file, _line in config.origins.values()} - {"None"})
    out = []
    for name in names:
        try:
            out.append(name.encode("utf-8", "surrogatepass") + b"\0" + Path(name).read_bytes())
        except OSError as exc:
            out.append(name.encode("utf-8", "surrogatepass") + b"\0" + _error(exc).encode())
    return b"\0\0".join(out)


def _refuse_document(obj: Any) -> Any:
    raise pickle.PicklingError("a Document in the course stage's results")


def _document_refusing_table() -> dict[Any, Any]:
    """A pickler's dispatch table that refuses to store a Document: a course finding or
    published result that holds one would be restored without its file (not worth storing;
    the stage runs again). A dispatch table, looked up by the C pickler per type, costs
    nothing per object (a ``persistent_id`` hook was a Python call per object: ~0.1 s for
    12,000 findings)."""
    table = dict(copyreg.dispatch_table)
    pending = [Document]
    while pending:
        cls = pending.pop()
        table[cls] = _refuse_document
        pending.extend(cls.__subclasses__())
    return table


class Stage:
    """A course stage as stored: per course rule, its findings and what it published; the
    recorded reads; and each checked file's view and per-file cache key (which say, in a
    later run, which files changed and where their earlier records are).

    A rule's findings are stored in *chunks* of :data:`CHUNK` findings in the rule's order,
    each pickled apart, with a digest of each file's findings in it (``chunks``: rule ->
    [(bytes, {path: digest})], as stored or unpacked; empty for a stage made this run). A
    stage made by moving an earlier one's findings (:func:`relocate`) stores again only the
    chunks that hold a moved finding: the others are the same objects in the same places,
    and keep their bytes and digests."""

    __slots__ = ("chunks", "file_keys", "outcomes", "reads", "views")

    def __init__(
        self,
        reads: Reads,
        outcomes: dict[str, tuple[list[Any], dict[str, Any]]],
        views: dict[str, str],
        file_keys: dict[str, str],
        chunks: dict[str, list[Chunk]] | None = None,
    ) -> None:
        self.reads = reads
        self.outcomes = outcomes
        self.views = views
        self.file_keys = file_keys
        self.chunks: dict[str, list[Chunk]] = chunks or {}

    def findings(self) -> list[Any]:
        return [f for found, _extra in self.outcomes.values() for f in found]

    def extra(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for _found, published in self.outcomes.values():
            out.update(published)
        return out

    def file_digests(self) -> dict[str, str]:
        """Per file with findings, a digest of its findings in this stage, in the order
        :meth:`findings` gives them (each rule's, chunk by chunk). Needs the chunks (a stage
        packed or unpacked)."""
        parts: dict[str, list[bytes]] = {}
        for rule_id in self.outcomes:
            rule = rule_id.encode("utf-8", "surrogatepass") + b"\0"
            for _data, digests in self.chunks.get(rule_id, ()):
                for path, digest in digests.items():
                    parts.setdefault(path, []).append(rule + digest)
        return {
            path: "course:" + hashlib.blake2b(b"\0".join(tags), digest_size=20).hexdigest()
            for path, tags in parts.items()
        }


# Findings per stored chunk: small enough that a moved lesson re-stores a few hundred
# findings per rule, large enough that unpickling a stage is not dominated by calls.
CHUNK = 256
Chunk = tuple[bytes, dict[str, bytes]]  # pickled findings; per file, a digest of its findings in them


def pack(stage: Stage, earlier: Stage | None = None) -> bytes | None:
    """The stored form of a course stage (None when it cannot or must not be stored);
    ``earlier``: the stage its relocated outcomes were moved from (their unchanged chunks
    are taken as they were). Fills ``stage.chunks``."""
    reads = stage.reads
    if reads.volatile or reads.events != _events:
        return None
    table = _document_refusing_table()
    stored: dict[str, tuple[dict[str, Any], list[Chunk]]] = {}
    try:
        for rule_id, (found, published) in stage.outcomes.items():
            before = None
            if earlier is not None and rule_id in earlier.chunks:
                before = (earlier.outcomes[rule_id][0], earlier.chunks[rule_id])
            stage.chunks[rule_id] = _chunks(found, before, table)
            stored[rule_id] = (published, stage.chunks[rule_id])
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = table
        pickler.dump((FORMAT, reads.answers, reads.records, stored, stage.views, stage.file_keys))
    except Exception:
        stage.chunks = {}
        return None
    return buffer.getvalue()


def _chunks(found: list[Any], before: tuple[list[Any], list[Chunk]] | None, table: dict[Any, Any]) -> list[Chunk]:
    """``found`` in stored chunks (pickled, with a digest of each file's findings in them),
    or taken from ``before`` (an earlier stage's findings and chunks) when it holds the
    very same finding objects."""
    out = []
    for start in range(0, len(found), CHUNK):
        part = found[start : start + CHUNK]
        index = start // CHUNK
        if before is not None and index < len(before[1]):
            earlier = before[0][start : start + CHUNK]
            if len(earlier) == len(part) and all(a is b for a, b in zip(part, earlier, strict=True)):
                out.append(before[1][index])
                continue
        by_path: dict[str, list[Any]] = {}
        for finding in part:
            by_path.setdefault(finding.path, []).append(finding)
        digests = {
            path: hashlib.blake2b(_pickled(items, table), digest_size=20).digest() for path, items in by_path.items()
        }
        out.append((_pickled(part, table), digests))
    return out


def _pickled(value: Any, table: dict[Any, Any]) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = table
    pickler.dump(value)
    return buffer.getvalue()


def unpack(stored: Any, course: Any = None) -> Stage | None:
    """A stored course stage, if its recorded reads still get the same answers for
    ``course`` (the run's course: its records answer the recorded reads of checked files).
    ``stored`` is what an authenticated cache entry holds (coursecheck.cache: its MAC was
    checked before it was unpickled), so unpickling it again is unpickling our own bytes."""
    if not isinstance(stored, bytes):
        return None
    try:
        form, answers, record_reads, rules, views, file_keys = pickle.loads(stored)
    except Exception:
        return None
    if (
        form != FORMAT
        or not isinstance(answers, dict)
        or not isinstance(record_reads, dict)
        or not isinstance(rules, dict)
        or not isinstance(views, dict)
        or not isinstance(file_keys, dict)
    ):
        return None
    reads = Reads()
    reads.answers = answers
    reads.records = record_reads
    if not reads.still_true(course):
        return None
    outcomes: dict[str, tuple[list[Any], dict[str, Any]]] = {}
    chunks: dict[str, list[Chunk]] = {}
    try:
        for rule_id, (published, stored_chunks) in rules.items():
            found: list[Any] = []
            for data, _digest in stored_chunks:
                found.extend(pickle.loads(data))
            outcomes[rule_id] = (found, published)
            chunks[rule_id] = stored_chunks
    except Exception:
        return None
    return Stage(reads, outcomes, views, file_keys, chunks)


def relocate(
    outcome: tuple[list[Any], dict[str, Any]], moves: dict[str, Any], documents: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]] | None:
    """A relocatable rule's stored outcome with its findings in the files of ``moves``
    (relpath -> :class:`coursecheck.records.LineMove`) moved with their lines; None when one
    cannot be moved (it carries a fix: its edits' offsets would be stale). A snippet whose
    line was not a kept line is taken again from ``documents`` (relpath -> record)."""
    found, published = outcome
    out = []
    for finding in found:
        move = moves.get(finding.path)
        related = finding.related
        if related and any(path in moves for path, _span, _message in related):
            related = [
                (path, moves[path].span(span) if path in moves else span, message) for path, span, message in related
            ]
        if move is None and related is finding.related:
            out.append(finding)
            continue
        if finding.fix is not None:
            return None
        span = finding.span if move is None else move.span(finding.span)
        moved = copy.copy(finding)
        moved.span = span
        moved.related = related
        if move is not None and finding.snippet and not move.kept(finding.span.line):
            doc = documents.get(finding.path)
            if doc is not None:
                moved.set_snippet(doc.lines.text_at(span.line))
        out.append(moved)
    return out, published
