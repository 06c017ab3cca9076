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

The artifact is a small JSON header (readable with ``head -2``) and a zlib-compressed pickle
of the per-file results. An artifact comes from another job, maybe one that ran a fork's
pull request, and the merge job holds the SARIF upload permission, so it is read as data:

* the body is decompressed up to the size its header states, at most
  :data:`MAX_BODY_RATIO` times its compressed size and never more than ``max_body``;
* the pickle is loaded by :mod:`coursecheck.safepickle`: opcodes checked before loading,
  only the plain data classes of the model built (no function, no dotted name, no plugin
  class), the result validated (types, no cycles, bounded size counting shared objects);
  the records' packed parts are restored by the same loader when the artifact is read;
* with ``$COURSECHECK_SHARD_KEY`` set (a secret the CI jobs share), shards sign their
  artifacts (HMAC-SHA256) and the merge accepts only artifacts whose MAC verifies; the
  classes of the loaded plugins (in their summaries) are then allowed too.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import pickle
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursecheck import __version__
from coursecheck.errors import CoursecheckError

if TYPE_CHECKING:
    from coursecheck.model import Document
    from coursecheck.results import FileResult

MAGIC = b"COURSECHECK-SHARD\n"
FORMAT_VERSION = 2
# The key the shard jobs and the merge share (a CI secret); empty or unset: no signing.
KEY_ENV = "COURSECHECK_SHARD_KEY"
MIN_KEY_LENGTH = 16
# Bounds on what an artifact may make the merge read and hold.
MAX_BODY = 4 << 30  # bytes decompressed (and read), whatever the header states
MAX_BODY_RATIO = 64  # decompressed / compressed (real artifacts: 3-6x; zlib allows ~1,000x)
MIN_BODY_ALLOWED = 64 << 20  # a small artifact may still decompress to this much
MAX_HEADER = 64 << 10
# A file's weight is its size plus what every file costs whatever its size (reading, the
# parser's and the rules' set-up): measured, a 0-byte lesson takes about as long as 1.5 KiB.
PER_FILE_WEIGHT = 1536


class ShardError(CoursecheckError):
    """An artifact that cannot be read, or artifacts that do not belong together."""



class ShardResults:
    """The per-file results of a sharded run, from its artifacts: where a merge takes each
    file's result instead of the per-file stage (``Engine.merge``), after checking they are
    this checkout's."""

    def __init__(self, artifacts: list[ShardArtifact]) -> None:
        self.artifacts = sorted(artifacts, key=lambda a: a.index)

    def results(
        self,
        items: list[tuple[str, str]],
        key: dict[str, str],
        root: Path,
        digest_of: Callable[[Path, str], str],
    ) -> Iterator[tuple[FileResult, Document | None]]:
        """The shards' results for ``items`` (relpath, role), in that order. ``key``: this
        run's key (Engine.run_key), which every shard's must equal; ``digest_of(root,
        relpath)``: what a shard saw of a file, to tell it has not changed since."""
        for a in self.artifacts:
            for part, value in key.items():
                if a.run_key.get(part) != value:
                    raise ShardError(
                        f"shard {a.index}/{a.total} was made with different {part} than this merge; "
                        "run every shard and the merge on the same commit with the same options"
                    )
        by_rel: dict[str, tuple[str, str, FileResult, int]] = {}
        for a in self.artifacts:
            for (rel, role, digest), result in zip(a.files, a.results, strict=True):
                if rel in by_rel:
                    raise ShardError(f"{rel} is in shard {by_rel[rel][3]}/{a.total} and in shard {a.index}/{a.total}")
                by_rel[rel] = (role, digest, result, a.index)
        wanted = {rel for rel, _ in items}
        missing = sorted(wanted - set(by_rel))
        extra = sorted(set(by_rel) - wanted)
        if missing or extra:
            said = (
                [f"not in any shard: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"] if missing else []
            )
            if extra:
                said.append(
                    f"in a shard but not in this checkout: {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}"
                )
            raise ShardError(
                "the shards do not cover this checkout's files (" + "; ".join(said) + "); "
                "run every shard and the merge on the same commit"
            )
        for rel, role in items:
            shard_role, digest, result, index = by_rel[rel]
            if shard_role != role or digest != digest_of(root, rel):
                raise ShardError(f"{rel} has changed since shard {index}/{self.artifacts[0].total} checked it")
            if result.fields is not None:
                result.fields["path"] = root / rel
            yield result, None


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


def shard_key() -> bytes | None:
    """The signing key from ``$COURSECHECK_SHARD_KEY`` (None when unset or empty: a fork's
    pull request gets no secrets); raises ShardError when it is too short to be a secret."""
    given = os.environ.get(KEY_ENV, "")
    if not given:
        return None
    if len(given) < MIN_KEY_LENGTH:
        raise ShardError(
            f"${KEY_ENV} is set but shorter than {MIN_KEY_LENGTH} characters: use a random secret "
            "(e.g. the output of `openssl rand -hex 32`)"
        )
    return hashlib.sha256(b"coursecheck shard key\0" + given.encode("utf-8", "surrogateescape")).digest()


def _mac(key: bytes, header: dict[str, Any], body: bytes | memoryview) -> str:
    unsigned = {name: value for name, value in header.items() if name != "mac"}
    signer = hmac.new(key, b"coursecheck shard\0" + _header_bytes(unsigned) + b"\n", hashlib.sha256)
    signer.update(body)
    return signer.hexdigest()


def _header_bytes(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True).encode("utf-8")


def dumps(artifact: ShardArtifact, key: bytes | None = None) -> bytes:
    """The artifact's bytes; signed with ``key`` when given (see :func:`shard_key`)."""
    raw = pickle.dumps((artifact.files, artifact.results, artifact.notes), protocol=pickle.HIGHEST_PROTOCOL)
    body = zlib.compress(raw, 6)
    header = {**artifact.header(), "body_size": len(raw), "signed": key is not None}
    if key is not None:
        header["mac"] = _mac(key, header, body)
    return MAGIC + _header_bytes(header) + b"\n" + body


def load(
    path: Path,
    allowed_modules: set[str] = frozenset(),  # type: ignore[assignment]
    *,
    key: bytes | None = None,
    max_body: int = MAX_BODY,
) -> ShardArtifact:
    """Read an artifact as data (see the module doc). With ``key`` (the merge's
    :func:`shard_key`) its MAC must verify, and the classes of ``allowed_modules`` (the
    loaded plugins' modules) may appear in it; without, only the model's plain classes.
    ``max_body``: the most bytes it may decompress to, whatever its header states."""
    from coursecheck import safepickle

    data = _read(path, max_body)
    if not data.startswith(MAGIC):
        raise ShardError(
            f"{path}: not a coursecheck shard artifact (written by `coursecheck check --shard K/N -o FILE`)"
        )
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    header: Any = None
    if end >= 0:
        try:
            header = json.loads(data[len(MAGIC) : end])
        except (ValueError, RecursionError):
            header = None
    if not isinstance(header, dict):
        raise ShardError(f"{path}: the artifact's header is damaged")
    if header.get("format_version") != FORMAT_VERSION or header.get("coursecheck") != __version__:
        raise ShardError(
            f"{path}: written by coursecheck {_shown(header.get('coursecheck'))} (artifact format "
            f"{_shown(header.get('format_version'))}); this is coursecheck {__version__} (format {FORMAT_VERSION}): "
            "run the shards and the merge with the same coursecheck"
        )
    try:
        index, total = parse_spec(str(header.get("shard", "")))
    except ValueError:
        raise ShardError(f"{path}: the artifact's header names no shard K/N") from None
    run_key, count, size = header.get("run_key"), header.get("files"), header.get("body_size")
    if (
        not isinstance(run_key, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in run_key.items())
        or type(count) is not int
        or type(size) is not int
        or count < 0
        or size < 0
    ):
        raise ShardError(f"{path}: the artifact's header is damaged (no run key, file count or body size)")
    body = memoryview(data)[end + 1 :]
    if key is not None:
        given = header.get("mac")
        if not isinstance(given, str) or header.get("signed") is not True:
            raise ShardError(
                f"{path}: the artifact is not signed, and ${KEY_ENV} is set here: the merge accepts only "
                f"artifacts of shard jobs that had the same ${KEY_ENV}"
            )
        if not hmac.compare_digest(given, _mac(key, header, body)):
            raise ShardError(
                f"{path}: the artifact's signature does not match ${KEY_ENV}: it was changed after its shard job "
                "wrote it, or written with another key; not loaded"
            )
    allowed = min(max_body, max(MAX_BODY_RATIO * len(body), MIN_BODY_ALLOWED))
    if size > allowed:
        raise ShardError(
            f"{path}: the artifact's header states a body of {size:,} bytes, more than this merge reads "
            f"({allowed:,} bytes for a {len(body):,}-byte artifact); not loaded"
        )
    raw = _decompress(path, body, size)
    extra = allowed_modules if key is not None else ()
    try:
        files, results, notes = _load_body(raw, extra)
    except safepickle.UnsafeData as exc:
        raise ShardError(f"{path}: the artifact was not loaded: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ShardError(f"{path}: the artifact is damaged ({exc})") from None
    if len(files) != count:
        raise ShardError(f"{path}: the artifact is damaged (file count does not match its header)")
    return ShardArtifact(index, total, run_key, files, results, str(header["coursecheck"]), notes)


def _shown(value: Any) -> str:
    """A header value for a message: short, and printable (it comes from the artifact)."""
    text = "".join(c if c.isprintable() else "?" for c in str(value))
    return text if len(text) <= 40 else text[:40] + "..."


def _read(path: Path, limit: int) -> bytes:
    """The artifact's bytes: a regular file (never a blocking FIFO), at most ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            if st.st_size > limit:
                raise OSError(errno.EFBIG, f"larger than {limit:,} bytes")
            with open(fd, "rb", closefd=False) as handle:
                data = handle.read()
        finally:
            os.close(fd)
    except OSError as exc:
        raise ShardError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ShardError(f"{path}: cannot read: larger than {limit:,} bytes")
    return data


def _decompress(path: Path, body: memoryview, size: int) -> bytes:
    """The body, decompressed to exactly the ``size`` the header states (never more)."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(body, size + 1)
    except zlib.error as exc:
        raise ShardError(f"{path}: the artifact is damaged (zlib: {exc})") from None
    if len(raw) > size or inflater.unconsumed_tail:
        raise ShardError(f"{path}: the artifact's body is larger than its header states ({size:,} bytes); not loaded")
    if len(raw) < size or not inflater.eof:
        raise ShardError(f"{path}: the artifact is damaged (truncated: its body is shorter than its header states)")
    return raw


def _load_body(raw: bytes, extra_modules: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """The artifact's (files, results, notes), loaded and validated as data; the records'
    packed parts restored by the same loader (a blob used twice is refused: restoring it
    again and again would cost without bound)."""
    from coursecheck import safepickle
    from coursecheck.plugins import Notification
    from coursecheck.records import PACKED, unpacked_fields
    from coursecheck.results import FileResult

    value, classes = safepickle.loads(raw, extra_modules=extra_modules)
    if type(value) is not tuple or len(value) != 3 or not all(type(part) is list for part in value):
        raise safepickle.UnsafeData("its body is not (files, results, notes)")
    files, results, notes = value
    if len(files) != len(results):
        raise safepickle.UnsafeData("its file list and results do not match")
    seen: set[int] = set()

    def strict(blob: bytes) -> Any:
        if id(blob) in seen:
            raise safepickle.UnsafeData("a record's packed part is used twice")
        seen.add(id(blob))
        part, more = safepickle.loads(blob, extra_modules=extra_modules)
        classes.update(more)
        return part

    for result in results:
        if type(result) is not FileResult:
            raise safepickle.UnsafeData("its results are not per-file results")
        fields = result.fields
        if type(fields) is dict and PACKED in fields:
            if id(fields) in seen:
                raise safepickle.UnsafeData("a record is used twice")
            seen.add(id(fields))
            result.fields = unpacked_fields(fields, strict)
    shape = safepickle.schema(tuple[list[tuple[str, str, str]], list[FileResult], list[Notification]])
    # Each object a pickle builds costs at least a byte of it (a shared one: two, for its
    # memo reference); text shared by many findings (their file's path) counts each time.
    safepickle.validate(
        (files, results, notes),
        shape,
        max_visits=2 * len(raw) + 10_000,
        max_text=16 * len(raw) + (1 << 20),
        extra_classes=classes,
    )
    return files, results, notes


def file_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
