"""Sharding a course over CI jobs: which files a shard checks, and the artifact it writes.

``coursecheck check --shard K/N -o shard-K.ccshard`` runs the per-file stage (parse,
document rules, the ``summarize`` steps of course rules) on the files assigned to shard K
and writes what that stage made of each file: its findings, its record and its summaries.
``coursecheck merge shard-*.ccshard`` checks that the artifacts belong together (same
coursecheck, plugins, config and data files; every file of the checkout covered exactly
once, with the same content), then runs the course stage on them and writes the usual
outputs, identical to an unsharded run.

Every shard job computes the assignment on its own from the checkout, so it must be a
deterministic function of the files: :func:`assign` balances by size (largest first, each
file to the lightest shard) and breaks ties by a hash of the path, not by any order the
file system or the CI runner might change.

The artifact is a small JSON header (readable with ``head -2``) and a compressed pickle of
the per-file results. It is loaded with an unpickler that only builds coursecheck's own
classes, the standard containers and the classes of the plugins the merge has loaded:
an artifact cannot make the merge job run arbitrary code.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursecheck import __version__

MAGIC = b"COURSECHECK-SHARD\n"
FORMAT_VERSION = 1
# A file's weight is its size plus what every file costs whatever its size (reading, the
# parser's and the rules' set-up): measured, a 0-byte lesson takes about as long as 1.5 KiB.
PER_FILE_WEIGHT = 1536


class ShardError(Exception):
    """An artifact that cannot be read, or artifacts that do not belong together."""


def parse_spec(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; raises ValueError with a message for anything else."""
    index, sep, total = text.partition("/")
    try:
        k, n = int(index), int(total)
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected K/N, e.g. 2/3") from None
    if not sep or n < 1 or not 1 <= k <= n:
        raise ValueError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 2/3")
    return k, n


def _path_hash(rel: str) -> int:
    return int.from_bytes(hashlib.blake2b(rel.encode("utf-8"), digest_size=8).digest(), "big")


def assign(sizes: dict[str, int], total: int) -> list[list[str]]:
    """Files per shard (``total`` lists, each in the order given), balanced by weight.

    Longest-processing-time-first: files by decreasing weight (ties: by path hash, then
    path), each to the shard with the least weight so far (ties: the lowest number).
    """
    weights = {rel: size + PER_FILE_WEIGHT for rel, size in sizes.items()}
    order = sorted(weights, key=lambda rel: (-weights[rel], _path_hash(rel), rel))
    loads = [0] * total
    owner: dict[str, int] = {}
    for rel in order:
        lightest = min(range(total), key=lambda i: (loads[i], i))
        owner[rel] = lightest
        loads[lightest] += weights[rel]
    shards: list[list[str]] = [[] for _ in range(total)]
    for rel in sizes:
        shards[owner[rel]].append(rel)
    return shards


def balance(sizes: dict[str, int], total: int) -> float:
    """Largest shard's weight over the mean shard weight (1.0 is perfect)."""
    loads = [sum(sizes[rel] + PER_FILE_WEIGHT for rel in shard) for shard in assign(sizes, total)]
    mean = sum(loads) / total
    return max(loads) / mean if mean else 1.0


@dataclass(slots=True)
class ShardArtifact:
    """What one shard hands to the merge."""

    index: int  # K, 1-based
    total: int  # N
    run_key: dict[str, str]  # coursecheck code and plugins, config, rules, data files (Engine.run_key)
    # (relpath, role, sha256 of the bytes) of every file this shard was assigned
    files: list[tuple[str, str, str]]
    results: list[Any]  # engine.FileResult per file, in the order of ``files``
    version: str = __version__
    notes: list[Any] = field(default_factory=list)  # notifications of the shard's own run

    def header(self) -> dict[str, Any]:
        return {
            "format": "coursecheck-shard",
            "format_version": FORMAT_VERSION,
            "coursecheck": self.version,
            "shard": f"{self.index}/{self.total}",
            "run_key": self.run_key,
            "files": len(self.files),
        }


def dumps(artifact: ShardArtifact) -> bytes:
    header = json.dumps(artifact.header(), sort_keys=True).encode("utf-8")
    body = pickle.dumps((artifact.files, artifact.results, artifact.notes), protocol=pickle.HIGHEST_PROTOCOL)
    return MAGIC + header + b"\n" + zlib.compress(body, 6)


def load(path: Path, allowed_modules: set[str] = frozenset()) -> ShardArtifact:  # type: ignore[assignment]
    """Read an artifact; ``allowed_modules``: plugin modules whose classes it may contain."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ShardError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not data.startswith(MAGIC):
        raise ShardError(
            f"{path}: not a coursecheck shard artifact (written by `coursecheck check --shard K/N -o FILE`)"
        )
    header_line, sep, body = data[len(MAGIC) :].partition(b"\n")
    try:
        header = json.loads(header_line)
    except ValueError:
        header = None
    if not sep or not isinstance(header, dict):
        raise ShardError(f"{path}: the artifact's header is damaged")
    if header.get("format_version") != FORMAT_VERSION or header.get("coursecheck") != __version__:
        raise ShardError(
            f"{path}: written by coursecheck {header.get('coursecheck')} (artifact format "
            f"{header.get('format_version')}); this is coursecheck {__version__} (format {FORMAT_VERSION}): "
            "run the shards and the merge with the same coursecheck"
        )
    try:
        index, total = parse_spec(str(header.get("shard", "")))
    except ValueError:
        raise ShardError(f"{path}: the artifact's header names no shard K/N") from None
    try:
        files, results, notes = _SafeUnpickler(io.BytesIO(zlib.decompress(body)), allowed_modules).load()
    except ShardError:
        raise
    except Exception as exc:  # truncated download, bit rot: say which file, never a traceback
        raise ShardError(f"{path}: the artifact is damaged ({type(exc).__name__}: {exc})") from None
    if len(files) != len(results) or len(files) != header.get("files"):
        raise ShardError(f"{path}: the artifact is damaged (file count does not match its header)")
    run_key = header.get("run_key")
    if not isinstance(run_key, dict):
        raise ShardError(f"{path}: the artifact's header is damaged (no run key)")
    return ShardArtifact(index, total, run_key, files, results, str(header["coursecheck"]), notes)


# Classes an artifact may contain besides coursecheck's own and the plugins' (the standard
# containers and values rules put in findings, records and summaries).
_SAFE_GLOBALS = {
    ("builtins", name)
    for name in ("set", "frozenset", "tuple", "list", "dict", "bytes", "bytearray", "complex", "slice", "range")
} | {
    ("pathlib", "PosixPath"),
    ("pathlib", "PurePosixPath"),
    ("pathlib", "WindowsPath"),
    ("pathlib", "PureWindowsPath"),
    ("pathlib._local", "PosixPath"),
    ("pathlib._local", "PurePosixPath"),
    ("pathlib._local", "WindowsPath"),
    ("pathlib._local", "PureWindowsPath"),
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("collections", "Counter"),
    ("copyreg", "_reconstructor"),
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"),
    ("fractions", "Fraction"),
    ("re", "_compile"),
    ("ruamel.yaml.comments", "CommentedMap"),
    ("ruamel.yaml.comments", "CommentedSeq"),
}


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, stream: io.BytesIO, allowed_modules: set[str]) -> None:
        super().__init__(stream)
        self._allowed = allowed_modules

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        if module.split(".", 1)[0] == "coursecheck" or module in self._allowed:
            found = super().find_class(module, name)
            if isinstance(found, type):  # classes only: a function here could be called with any arguments
                return found
        raise ShardError(f"the artifact contains {module}.{name}, which a coursecheck shard never writes; not loaded")


def file_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
