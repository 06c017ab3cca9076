"""The course stage's findings, kept between runs while nothing they depend on has changed.

The course rules run on the records and summaries of every checked file, the config and
the data files, and a few of them look at files *outside* the checked set: must-have
artifacts (``labs/monitoring/dashboard.json``), key links to folders, relative links to
files that are not lessons. So the key of a stored course stage has two parts:

* a key over what every run knows before the course rules run: the per-file cache key of
  each checked file (its bytes, path and role, the code, the plugins, the config, the
  data files), the config files' bytes (findings point at their lines) and the course
  rules that run;
* the reads outside the checked set, *recorded* while the rules ran: a course rule reads a
  file with :func:`read_bytes` and asks whether a path is a file or a folder with
  :func:`path_kind`; each answer is stored with the entry, and the entry is used only if
  every recorded question gets the same answer now.

Only course rules whose code records its reads are trusted: coursecheck's own rules and
declarative rules of the built-in kinds. With any other course rule active (a plugin's,
whose reads we cannot see) the course stage runs every time, as before. A run whose rules
marked it :func:`volatile` (a pattern timed out: the outcome depends on the machine's
speed), reported an internal problem, or published something that cannot be stored, is
not stored either.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Any

from coursecheck.model import Document

_RECORDER_KEY = "coursecheck.coursecache.reads"
FORMAT = 1


class Reads:
    """The questions course rules asked about files outside the checked set, and the answers."""

    __slots__ = ("answers", "events", "volatile")

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], str] = {}
        self.volatile = False
        self.events = _events

    def still_true(self) -> bool:
        """Whether every recorded question gets the same answer now."""
        for (op, path), answer in self.answers.items():
            if _ANSWER[op](Path(path)) != answer:
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
    """``path.read_bytes()``, recorded (raises OSError as it does)."""
    reads = _recorder(course)
    try:
        data = path.read_bytes()
    except OSError as exc:
        if reads is not None:
            reads.answers[("bytes", str(path))] = _error(exc)
        raise
    if reads is not None:
        reads.answers[("bytes", str(path))] = _digest(data)
    return data


def path_kind(course: Any, path: Path) -> str:
    """``"file"``, ``"dir"``, ``"other"`` or ``"missing"`` (symbolic links followed), recorded."""
    kind = _kind(path)
    reads = _recorder(course)
    if reads is not None:
        reads.answers[("kind", str(path))] = kind
    return kind


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


def _kind(path: Path) -> str:
    try:
        if path.is_file():
            return "file"
        if path.is_dir():
            return "dir"
        return "other" if path.exists() else "missing"
    except OSError as exc:
        return _error(exc)


def _bytes_answer(path: Path) -> str:
    try:
        return _digest(path.read_bytes())
    except OSError as exc:
        return _error(exc)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _error(exc: OSError) -> str:
    return f"error {type(exc).__name__} {exc.errno}"


_ANSWER = {"bytes": _bytes_answer, "kind": _kind}


# -- what the engine calls ----------------------------------------------------------------


def trusted(rule: Any) -> bool:
    """Whether a course rule's reads outside the checked files are recorded: coursecheck's
    own rules, and declarative rules of the built-in kinds."""
    module = getattr(rule.check, "__module__", "") or ""
    if not module.startswith("coursecheck."):
        return False
    if "declarative" in rule.tags and str(rule.plugin).startswith("declarative ("):
        from coursecheck.builtin.rulekinds import BUILTIN_KINDS

        return len(rule.tags) > 1 and rule.tags[1] in {kind.name for kind in BUILTIN_KINDS}
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


class _NoDocuments(pickle.Pickler):
    """Refuses to store a Document: a course finding or published result that holds one
    would be restored without its file (not worth storing; the stage runs again)."""

    def persistent_id(self, obj: Any) -> None:
        if isinstance(obj, Document):
            raise pickle.PicklingError("a Document in the course stage's results")
        return None


def pack(reads: Reads, findings: list[Any], extra: dict[str, Any]) -> bytes | None:
    """The stored form of a course stage (None when it cannot or must not be stored)."""
    if reads.volatile or reads.events != _events:
        return None
    buffer = io.BytesIO()
    try:
        _NoDocuments(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump((FORMAT, reads.answers, findings, extra))
    except Exception:
        return None
    return buffer.getvalue()


def unpack(stored: Any) -> tuple[list[Any], dict[str, Any]] | None:
    """Findings and published results of a stored course stage, if still valid."""
    if not isinstance(stored, bytes):
        return None
    try:
        form, answers, findings, extra = pickle.loads(stored)
    except Exception:
        return None
    if form != FORMAT or not isinstance(answers, dict) or not isinstance(findings, list):
        return None
    reads = Reads()
    reads.answers = answers
    if not reads.still_true():
        return None
    return findings, extra
