"""The index of the last run: a warm re-run that neither reads the course nor opens an entry
per file.

The cache (:mod:`coursecheck.cache`) is addressed by content: to find a file's entry a run
reads the file and hashes it, then opens and unpickles the entry. At 5,000 lessons that is
10,000 files opened for a run that finds nothing new. The index of a project is a *head*
file (``<cache dir>/v<N>-index/<root digest>``), replaced atomically after a run whose files
changed, and the *segments* it names beside it; the head holds, per checked file:

* its stat signature (size, modification and change times in ns, inode) and role;
* its per-file cache key, computed from the bytes when the signature was taken;
* where its per-file result lies: a *results segment* (``<root digest>.<random>.results``)
  and the offset and length in it. The result is pickled as in its cache entry but without
  the record's bulky packed parts (frontmatter, links, headings, kept lines...: ~90 % of
  the bytes); its summary is pickled apart, right after it, each rule's part on its own
  (:func:`pack_summary`; restored only if read, and only the parts read:
  :mod:`coursecheck.engine.summaries`);
* where its record's packed parts lie: a *parts segment* (``<root digest>.<random>.parts``),
  and each part's offset, length and SHA-256.

Segments are written once and never changed. A run that changed anything writes the
results and parts of the files it read (as it goes: memory stays flat on a cold run) to a
new results segment and a new parts segment, and a new head naming them and the old
segments that still hold the unchanged files' results and parts: after a one-lesson edit
it writes that lesson's result and parts and the head (~300 bytes per file), not the whole
index (at 5,000 lessons ~14 MB of results and ~39 MB of parts). The old segments'
bytes that no head needs any more are garbage: when they pass a quarter of the results
segments' bytes (half of the parts segments'), or a head would name more than
:data:`MAX_SEGMENTS` of a kind, the save copies the live results or parts into its new
segment (all of them, or those of all but the largest segment) and the old ones are
deleted. A warm run reads the head and the results segments whole (~14 MB at 5,000
lessons, mostly one segment); a parts segment only where a course rule reads a record's
parts, one part at a time (a warm run reads none).

A run trusts a file's index entry only when the index was made with the same base key
(code, plugins, config, rules, data files) and the file's signature is unchanged. As in
Git's index, a signature taken less than :data:`RACY_NS` before the run that took it
started is not trusted (the file may have changed again within the timestamp's
granularity): such a file is read and hashed again. The change time catches tools that
restore a modification time (``cp -p``, ``rsync -t``); it cannot be set by a user.
The index is an accelerator like the rest of the cache: a missing, foreign, damaged or
stale head only means the run reads and hashes the files; a missing or damaged segment,
that the files whose results or parts it holds are read and hashed again.

Its path is predictable (a digest of the checkout's path), so a repository can commit a
file there: the head ends with an HMAC-SHA256 of everything before it, under the user's
secret key (:func:`coursecheck.cache.secret_key`), checked before anything in it is
unpickled. A head that fails is ignored, counted (``coursecheck -v``) and rewritten. The
head holds each results segment's length and SHA-256: a segment is read whole and used
only when it has them (else counted, and its files read again), before anything in it is
unpickled. A part is unpickled only once its bytes, read from the parts segment the head
names, have the SHA-256 the head holds for them; a part that does not (the segment
damaged, truncated or planted) is counted and its record takes that part from the file,
parsed again (:meth:`coursecheck.records.DocumentRecord.full`). Segments are opened with
``O_NOFOLLOW`` and must be regular files; only names of the index's own form, with the
head's root digest, are opened or deleted.

Concurrent runs on one root: each writes its own segments (random names) and replaces the
head; the last one wins. Segments no head names are deleted by the next save, except those
written since that save's run started (a concurrent run's, whose head may not be in place
yet). A segment deleted under a run that still uses it is copied from what that run holds
(the results read, the parts segment kept open) into its new segment when it saves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import pickle
import re
import secrets
import stat
import struct
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from coursecheck import __version__
from coursecheck.cache import (
    _CLOEXEC,
    _NOFOLLOW,
    _NONBLOCK,
    MAC_SIZE,
    _own_files,
    _unlink_own,
    packed_result,
    read_regular,
    secret_key,
)
from coursecheck.records import PACKED

# A results segment larger than this is not read (at 5,000 lessons the index's results are
# about 12 MB); nor a head larger than MAX_HEAD_BYTES (about 1.5 MB there).
MAX_INDEX_BYTES = 1 << 32
MAX_HEAD_BYTES = 1 << 30

FORMAT = 5  # in the head: an index of another format is rewritten
FOLDER = "v1-index"
# A signature whose modification or change time is this close to (or after) the start of
# its run is not trusted.
RACY_NS = 2_000_000_000

# Kept parts are copied to a new parts segment in pieces of this many bytes.
_COPY_CHUNK = 8 << 20

# Segments of one kind (results, parts) a head names at most: a save that would name more
# copies the live bytes of all but the largest into its new segment.
MAX_SEGMENTS = 8
# A save copies every live result (part) into its new segment when the garbage in the
# segments its head would name passes 1/RESULTS_GARBAGE of their bytes (1/PARTS_GARBAGE).
# Results segments are read whole by every warm run: their garbage is kept lower.
RESULTS_GARBAGE = 4
PARTS_GARBAGE = 2

# Heads kept in a cache folder (the newest): one per project root using it.
INDEXES_KEPT = 8
# A temporary file of a save older than this is one a killed run left: deleted.
_STALE_TMP_NS = 3600 * 10**9

Signature = tuple[int, int, int, int]
# Where a record's packed part lies in its parts segment: offset, length, SHA-256 of the
# bytes; a record's places are kept packed one after another in one bytes object (unpickling
# 5,000 heads' worth of tuples of ints and digests cost ~2 ms more).
_PLACE = struct.Struct("<QI32s")
# relpath -> (role, signature, key, offset and length of its pickled result and summary,
# its parts, the length of the result alone: its pickled summary follows it; None: the
# summary is in the result), the results segment holding the result, the parts segment
# holding its parts (one after another; None: no parts).
Entry = tuple[str, Signature, str, int, int, "bytes | None", "int | None", str, "str | None"]
# A segment's name -> its length and SHA-256 (b"" for parts segments: each part has its own).
Segments = dict[str, tuple[int, bytes]]


def signature(path: str) -> Signature | None:
    """(size, mtime ns, ctime ns, inode) of a regular file; None for anything else (a link
    too: it is not followed here, and is read, checked for where it leads, every run)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


_MAGIC = b"coursecheck-index\0"


class RunIndex:
    """The index of one project's last run (see the module doc).

    The head is the magic bytes, a pickled header (format, coursecheck version, base key,
    the segments it names with their lengths and SHA-256, and per file: role, signature,
    key, where its result and its parts lie) and the MAC of all that. A run reads the head,
    checks the MAC, reads the results segments whole and checks their SHA-256, and
    unpickles a file's result in place; its parts are read from their parts segment when a
    course rule first reads them. A run that changes anything writes the results and parts
    of the files it read as it goes to new segments; its save copies live bytes out of old
    segments only when they hold too much garbage or are too many, then renames the new
    segments, then the new head, into place.
    """

    def __init__(self, folder: Path, root: Path, base_key: str, started_ns: int, key: bytes | None = None) -> None:
        digest = hashlib.sha256(str(root).encode("utf-8", "surrogatepass")).hexdigest()
        self.path = Path(folder) / FOLDER / digest
        self.base_key = base_key
        self.started_ns = started_ns
        self._key = key if key is not None else secret_key(root).key
        self._digest = digest
        self._domain_address = ("coursecheck run index", digest)
        self.rejected = 0  # heads and segments that were there but not authentic or not readable
        self.old: dict[str, Entry] = {}
        self.new: dict[str, Entry] = {}
        self._segments: Segments = {}  # the segments the head read names (those usable)
        self._results: dict[str, memoryview] = {}  # results segment -> its bytes (checked)
        self._parts: dict[str, _PartsFile] = {}  # parts segment -> the file, open
        self._kept: list[str] = []
        self._changed = False
        self._new_results = _NewSegment(self.path.parent, digest, "results")
        self._new_parts = _NewSegment(self.path.parent, digest, "parts")
        self.written = 0  # bytes the last save wrote (segments and head)
        self._load()

    def _load(self) -> None:
        try:
            data = read_regular(str(self.path), MAX_HEAD_BYTES)
        except FileNotFoundError:
            self._changed = True
            return
        except OSError:  # a link, a FIFO, too large: not ours
            self.rejected += 1
            self._changed = True
            return
        try:
            trailer = len(data) - MAC_SIZE
            if trailer < len(_MAGIC) or not data.startswith(_MAGIC):
                raise ValueError("not an index")
            view = memoryview(data)
            signer = self._mac()
            signer.update(view[:trailer])
            if not hmac.compare_digest(data[trailer:], signer.digest()):
                raise ValueError("not authentic")
            header = pickle.loads(view[len(_MAGIC) : trailer])
        except Exception:  # damaged, foreign or not authentic: the run reads the files
            self.rejected += 1
            self._changed = True
            return
        if not isinstance(header, tuple) or len(header) != 5 or header[0] != FORMAT:
            self._changed = True  # an older coursecheck's
            return
        _form, version, base_key, segments, entries = header
        if version != __version__ or base_key != self.base_key:
            self._changed = True
            return
        try:
            usable = self._open_segments(segments)
            if len(usable) < len(segments):
                # Some files' results or parts are gone or damaged: those files are read again.
                entries = {
                    rel: entry
                    for rel, entry in entries.items()
                    if entry[7] in usable and (entry[8] is None or entry[8] in usable)
                }
                self._changed = True
        except Exception:  # authentic, so ours: only a coursecheck bug lands here
            self.rejected += 1
            self._changed = True
            self._results.clear()
            self._parts.clear()
            return
        self.old = entries
        self._segments = usable

    def _open_segments(self, segments: Segments) -> Segments:
        """Read the results segments named (checked against their SHA-256) and open the parts
        segments: the segments usable."""
        usable: Segments = {}
        folder = str(self.path.parent)
        for name, (size, sha) in segments.items():
            if not _SEGMENT_NAME.fullmatch(name) or not name.startswith(self._digest + "."):
                continue
            path = os.path.join(folder, name)
            if name.endswith(".parts"):
                parts = _PartsFile.open(path)
                if isinstance(parts, _PartsFile):
                    self._parts[name] = parts
                    usable[name] = (size, sha)
                elif not parts:  # there, but a link or not a regular file
                    self.rejected += 1
                continue
            try:
                data = read_regular(path, MAX_INDEX_BYTES)
            except FileNotFoundError:
                continue  # replaced by a concurrent run
            except OSError:
                self.rejected += 1
                continue
            if len(data) != size or not hmac.compare_digest(hashlib.sha256(data).digest(), sha):
                self.rejected += 1
                continue
            self._results[name] = memoryview(data)
            usable[name] = (size, sha)
        return usable

    def lookup(self, rel: str, role: str, sig: Signature | None) -> tuple[str, memoryview] | None:
        """(key, pickled result) when ``rel`` is unchanged since the index was made; the
        result is without its record's packed parts (:meth:`attach` gives them back)."""
        known = self.old.get(rel)
        if known is None or sig is None or known[0] != role or known[1] != sig:
            return None
        offset, length = known[3], known[4] if known[6] is None else known[6]
        return known[2], self._results[known[7]][offset : offset + length]

    def summary_bytes(self, rel: str) -> memoryview | None:
        """The pickled summary of ``rel``'s result when it is kept apart from the result
        (the result restored from :meth:`lookup` then has an empty one)."""
        known = self.old.get(rel)
        if known is None or known[6] is None:
            return None
        return self._results[known[7]][known[3] + known[6] : known[3] + known[4]]

    def attach(self, rel: str, result: Any) -> bool:
        """Give ``result`` (just restored from :meth:`lookup`'s bytes) its record's packed
        parts back, each read from its parts segment on first use; False when the result is
        not one they fit."""
        known = self.old.get(rel)
        places = known[5] if known is not None else None
        if not places:
            return True
        assert known is not None and known[8] is not None
        fields = getattr(result, "fields", None)
        if type(fields) is not dict or PACKED in fields:
            return False
        file = self._parts[known[8]]
        fields[PACKED] = [Part(file, places, at) for at in range(0, len(places), _PLACE.size)]
        return True

    def keep(self, rel: str) -> None:
        """Carry ``rel``'s entry (just looked up) into the new index unchanged."""
        self._kept.append(rel)

    def record(self, rel: str, role: str, sig: Signature | None, key: str, result: Any) -> None:
        """Enter a file read this run (its key computed from the bytes just read)."""
        if sig is None or max(sig[1], sig[2]) >= self.started_ns - RACY_NS:
            return  # racy (or not a regular file): read again next time
        try:
            value = packed_result(result)
            fields = getattr(value, "fields", None)
            blobs = fields.get(PACKED) if isinstance(fields, dict) else None
            if isinstance(fields, dict) and type(blobs) is list and all(type(blob) is bytes for blob in blobs):
                value = dataclasses.replace(value, fields={k: v for k, v in fields.items() if k != PACKED})
            else:
                blobs = None
            summary = getattr(value, "summary", None)
            pickled_summary = b""
            if type(summary) is dict and summary:
                pickled_summary = pack_summary(summary)
                value = dataclasses.replace(value, summary={})
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return
        self._changed = True
        places = None
        if blobs:
            packed = []
            for blob in blobs:
                at = self._new_parts.write(blob)
                if at is None:
                    return
                packed.append(_PLACE.pack(at, len(blob), hashlib.sha256(blob).digest()))
            places = b"".join(packed)
        offset = self._new_results.write(payload + pickled_summary)
        if offset is not None:
            alone = len(payload) if pickled_summary else None
            parts_name = self._new_parts.name if places else None
            self.new[rel] = (
                role, sig, key, offset, len(payload) + len(pickled_summary),
                places, alone, self._new_results.name, parts_name,
            )  # fmt: skip

    def save(self) -> None:
        """Write the new head (and the new segments) atomically when it would hold anything
        new (quietly: an accelerator). Entries it no longer vouches for (a file edited
        moments ago, still within the racy margin, or removed) are left until then, up to a
        tenth of them: a stale signature never matches the file again, so such an entry is
        never used."""
        dropped = len(self.old) - len(self._kept)
        if not self._changed and dropped <= len(self.old) // 10:
            self.discard()
            return
        kept = {rel: self.old[rel] for rel in self._kept if rel not in self.new}
        if not kept and not self.new:
            self.discard()  # nothing to vouch for
            return
        copied, lost = self._compact(kept)
        for rel in lost:  # its part could not be read to be copied: read again next time
            kept.pop(rel, None)
            copied.pop(rel, None)
        entries = {**self.new, **kept, **copied}
        segments: Segments = {}
        for entry in entries.values():
            for name in (entry[7], entry[8]):
                if name is not None and name not in segments:
                    segments[name] = self._segments.get(name) or self._new_segment(name)
        try:
            written = 0
            for segment in (self._new_results, self._new_parts):
                if segment.name in segments:
                    written += segment.size
                    segment.publish()
            header = pickle.dumps(
                (FORMAT, __version__, self.base_key, segments, entries), protocol=pickle.HIGHEST_PROTOCOL
            )
            signer = self._mac()
            signer.update(_MAGIC)
            signer.update(header)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(_MAGIC)
                    handle.write(header)
                    handle.write(signer.digest())
                os.replace(tmp, self.path)
            except BaseException:
                _unlink_quietly(tmp)
                raise
            self.written = written + len(_MAGIC) + len(header) + MAC_SIZE
        except Exception:
            self.discard()
            return
        self.discard()  # what was not published (an empty new segment)
        self._prune(keep=set(segments))

    def _new_segment(self, name: str) -> tuple[int, bytes]:
        segment = self._new_results if name == self._new_results.name else self._new_parts
        return segment.size, segment.digest()

    def _compact(self, kept: dict[str, Entry]) -> tuple[dict[str, Entry], set[str]]:
        """Copy the kept entries' results and parts out of the old segments that hold too
        much garbage, are too many, or are gone since this run read them, into the new
        segments: those entries as they are now, and those whose bytes could not be copied
        (a parts segment found truncated; a write that failed fails the save anyway)."""
        live: dict[str, int] = {}
        for entry in kept.values():
            live[entry[7]] = live.get(entry[7], 0) + entry[4]
            if entry[8] is not None and entry[5]:
                live[entry[8]] = live.get(entry[8], 0) + _span(entry)[1]
        moving = self._to_move(live, ".results", RESULTS_GARBAGE) | self._to_move(live, ".parts", PARTS_GARBAGE)
        folder = str(self.path.parent)
        for name in live:
            try:
                there = stat.S_ISREG(os.lstat(os.path.join(folder, name)).st_mode)
            except OSError:
                there = False
            if not there:  # deleted by a concurrent run: copied from what this run holds
                moving.add(name)
        copied: dict[str, Entry] = {}
        lost: set[str] = set()
        if not moving:
            return copied, lost
        # The moved results lie mostly one after another in their old segment: copied in
        # runs, and so are their parts (their SHA-256 carried over: not hashed again).
        results = sorted(
            (rel for rel, e in kept.items() if e[7] in moving), key=lambda rel: (kept[rel][7], kept[rel][3])
        )
        shifts = _runs(results, lambda rel: (kept[rel][7], kept[rel][3], kept[rel][4]), self._copy_results)
        for rel in results:
            if rel not in shifts:
                lost.add(rel)
                continue
            entry = kept[rel]
            copied[rel] = (*entry[:3], entry[3] + shifts[rel], *entry[4:7], self._new_results.name, entry[8])  # type: ignore[assignment]
        with_parts = sorted(
            (rel for rel, e in kept.items() if e[8] in moving and e[5]),
            key=lambda rel: (kept[rel][8], _span(kept[rel])[0]),
        )
        shifts = _runs(with_parts, lambda rel: (kept[rel][8] or "", *_span(kept[rel])), self._copy_parts)
        for rel in with_parts:
            if rel not in shifts:
                lost.add(rel)
                continue
            entry = copied.get(rel, kept[rel])
            places = b"".join(
                _PLACE.pack(at + shifts[rel], size, sha) for at, size, sha in _PLACE.iter_unpack(entry[5] or b"")
            )
            copied[rel] = (*entry[:5], places, entry[6], entry[7], self._new_parts.name)  # type: ignore[assignment]
        return copied, lost

    def _to_move(self, live: dict[str, int], suffix: str, garbage: int) -> set[str]:
        """The old segments of a kind whose live bytes are copied into the new one: all of
        them when their garbage passes ``1/garbage`` of their bytes, all but the largest when
        the head would name more than :data:`MAX_SEGMENTS` of them, else none."""
        used = [name for name in live if name.endswith(suffix)]
        total = sum(self._segments[name][0] for name in used)
        if total - sum(live[name] for name in used) > total // garbage:
            return set(used)
        if len(used) + 1 > MAX_SEGMENTS:
            largest = max(used, key=lambda name: self._segments[name][0])
            return {name for name in used if name != largest}
        return set()

    def _copy_results(self, segment: str, start: int, length: int) -> int | None:
        return self._new_results.write(self._results[segment][start : start + length])

    def _copy_parts(self, segment: str, start: int, length: int) -> int | None:
        base = None
        for at in range(start, start + length, _COPY_CHUNK):
            data = self._parts[segment].read(at, min(_COPY_CHUNK, start + length - at))
            if data is None:  # shorter than its head says: damaged
                self._parts[segment].damaged()
                return None
            offset = self._new_parts.write(data)
            if offset is None:
                return None
            base = offset if base is None else base
        return base

    def _mac(self) -> Any:
        """An HMAC-SHA256 of this index's head (fed with ``update``), bound to its project root."""
        domain, address = self._domain_address
        return hmac.new(self._key, f"{domain}\0{address}\0".encode(), hashlib.sha256)

    def _prune(self, keep: Iterable[str] = ()) -> None:
        """Keep the :data:`INDEXES_KEPT` heads written last (one per project root: a cache
        folder shared by many checkouts would otherwise keep one for each), and the segments
        of each; of this project's, those its head names (``keep``) and those written since
        this run started (a concurrent run's). Deletes only regular files named as heads,
        segments and temporary files are, never through a link."""
        parent = self.path.parent
        try:
            if not stat.S_ISDIR(os.lstat(parent).st_mode):
                return
        except OSError:
            return
        kept = set(keep)
        entries = [(st.st_mtime_ns, entry.path) for entry, st in _own_files(str(parent), _INDEX_NAME)]
        entries.sort(reverse=True)
        for _mtime, path in entries[INDEXES_KEPT:]:
            _unlink_own(path)
        indexes = {os.path.basename(path) for _mtime, path in entries[:INDEXES_KEPT]}
        for entry, st in _own_files(str(parent), _SEGMENT_NAME):
            digest = entry.name.partition(".")[0]
            if digest not in indexes or (
                digest == self._digest and entry.name not in kept and st.st_mtime_ns < self.started_ns
            ):
                _unlink_own(entry.path)
        stale = time.time_ns() - _STALE_TMP_NS
        for entry, st in _own_files(str(parent), _TMP_NAME):
            if st.st_mtime_ns < stale:
                _unlink_own(entry.path)

    def discard(self) -> None:
        """Drop the new segments being written (a run that stopped half-way)."""
        self._new_results.discard()
        self._new_parts.discard()


def _span(entry: Entry) -> tuple[int, int]:
    """Where an entry's parts lie in their parts segment (written one after another)."""
    places = entry[5]
    assert places
    first = _PLACE.unpack_from(places)[0]
    last, length, _sha = _PLACE.unpack_from(places, len(places) - _PLACE.size)
    return first, last + length - first


def _runs(
    items: list[str], span: Callable[[str], tuple[str, int, int]], copy: Callable[[str, int, int], int | None]
) -> dict[str, int]:
    """Copy the byte ranges of ``items`` (``span(item)``: segment, start and length, items in
    order of segment and start) in runs of adjacent ranges with ``copy(segment, start,
    length)`` (where the run now starts, None when it cannot be copied; a run that fails is
    copied again item by item): each copied item's shift (the items that failed left out)."""
    shifts: dict[str, int] = {}
    start = 0
    while start < len(items):
        segment, first, _length = span(items[start])
        end = start + 1
        while end < len(items):
            name, at, _ = span(items[end])
            _, before, before_length = span(items[end - 1])
            if name != segment or at != before + before_length:
                break
            end += 1
        _, last, last_length = span(items[end - 1])
        base = copy(segment, first, last + last_length - first)
        if base is not None:
            for item in items[start:end]:
                shifts[item] = base - first
        elif end - start > 1:
            for item in items[start:end]:
                _name, at, length = span(item)
                base = copy(segment, at, length)
                if base is not None:
                    shifts[item] = base - at
        start = end
    return shifts


class _NewSegment:
    """A segment being written this run: a temporary file, made on the first write, renamed
    to its (random) name when the new head names it."""

    def __init__(self, folder: Path, digest: str, kind: str) -> None:
        self.name = f"{digest}.{secrets.token_hex(8)}.{kind}"
        self.size = 0
        self._folder = folder
        self._hash = hashlib.sha256()
        self._handle: Any = None  # False: a write failed, nothing more is written
        self._tmp = ""

    def write(self, payload: bytes | memoryview) -> int | None:
        """Append ``payload``: where it starts (None: it cannot be written)."""
        if self._handle is False:
            return None
        try:
            if self._handle is None:
                self._folder.mkdir(parents=True, exist_ok=True)
                fd, self._tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self._folder)
                self._handle = os.fdopen(fd, "wb")
            self._handle.write(payload)
        except Exception:
            self.discard()
            self._handle = False
            return None
        self._hash.update(payload)
        offset = self.size
        self.size += len(payload)
        return offset

    def digest(self) -> bytes:
        return self._hash.digest() if self.name.endswith(".results") else b""

    def publish(self) -> None:
        """Close the file and rename it into place (OSError when it cannot be)."""
        if not self._handle:
            raise OSError("the segment could not be written")
        self._handle.close()
        self._handle = None
        os.replace(self._tmp, self._folder / self.name)
        self._tmp = ""

    def discard(self) -> None:
        handle, self._handle = self._handle, None
        try:
            if handle:
                handle.close()
        except OSError:
            pass
        if self._tmp:
            _unlink_quietly(self._tmp)
            self._tmp = ""


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


_PREAD = getattr(os, "pread", None)


class _PartsFile:
    """A parts segment of the index read this run, open until the last record using it is
    gone (a concurrent run may remove the file meanwhile: this one still reads the parts
    its head describes)."""

    __slots__ = ("_damaged", "_fd", "_path")

    def __init__(self, fd: int, path: str) -> None:
        self._fd = fd
        self._path = path
        self._damaged = False

    @classmethod
    def open(cls, path: str) -> _PartsFile | bool:
        """The segment at ``path``, open; False when it is there but not a regular file (a
        link is not followed), True when it is not there."""
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            regular = False
        if not regular:
            os.close(fd)
            return False
        return cls(fd, path)

    def damaged(self) -> None:
        """A part read from this segment failed its check: the segment is deleted (if it is
        still the file this run opened), so the next run reads the files whose parts it held
        again instead of parsing them again on every run whose course rules read them."""
        if self._damaged:
            return
        self._damaged = True
        try:
            opened, there = os.fstat(self._fd), os.lstat(self._path)
        except OSError:
            return
        if (opened.st_dev, opened.st_ino) == (there.st_dev, there.st_ino):
            _unlink_own(self._path)

    def read(self, offset: int, length: int) -> bytes | None:
        """``length`` bytes at ``offset``; None when the file is shorter or unreadable."""
        try:
            if _PREAD is not None:
                data = _PREAD(self._fd, length, offset)
            else:  # no pread (Windows): one reader per process
                os.lseek(self._fd, offset, os.SEEK_SET)
                data = os.read(self._fd, length)
        except (OSError, OverflowError, ValueError):
            return None
        return data if len(data) == length else None

    def __del__(self) -> None:
        try:
            os.close(self._fd)
        except (OSError, AttributeError):
            pass


class Part:
    """A record's packed part kept in a parts segment (``DocumentRecord`` loads it on first
    use): its bytes once they have the SHA-256 the authenticated head holds for them, else
    None (the record then takes the part from the file, parsed again)."""

    __slots__ = ("_at", "_file", "_places")

    def __init__(self, file: _PartsFile, places: bytes, at: int) -> None:
        self._file = file
        self._places = places  # the record's places, packed (:data:`_PLACE`); this one at ``at``
        self._at = at

    def load(self) -> bytes | None:
        offset, length, digest = _PLACE.unpack_from(self._places, self._at)
        data = self._file.read(offset, length)
        if data is None or not hmac.compare_digest(hashlib.sha256(data).digest(), digest):
            global rejected_parts
            rejected_parts += 1
            self._file.damaged()
            return None
        return data

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (a result handed on): as the bytes it stands for.
        data = self.load()
        if data is None:
            raise pickle.PicklingError("a record's part kept apart could not be read")
        return (bytes, (data,))


# Parts that failed their check (read by the engine after a run, for ``coursecheck -v``).
rejected_parts = 0

_INDEX_NAME = re.compile(r"[0-9a-f]{64}")
_SEGMENT_NAME = re.compile(r"[0-9a-f]{64}\.[0-9a-f]{16}\.(?:results|parts)")
_PARTS_NAME = re.compile(r"[0-9a-f]{64}\.[0-9a-f]{16}\.parts")
# What tempfile.mkstemp(prefix=".", suffix=".tmp") makes.
_TMP_NAME = re.compile(r"\.[A-Za-z0-9_]{8}\.tmp")


def pack_summary(summary: dict[str, Any]) -> bytes:
    """A result's summary as the index keeps it: each rule's part pickled apart, then the
    ``{rule: bytes}`` map pickled (coursecheck.engine.summaries restores one rule's parts
    without the others')."""
    parts = {name: pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL) for name, value in summary.items()}
    return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)


def small_result(result: Any) -> bytes | None:
    """A per-file result pickled as a cache entry holds it (its record's bulky parts packed);
    None when it does not pickle."""
    try:
        return pickle.dumps(packed_result(result), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None


def restore(data: bytes | memoryview) -> Any | None:
    """A per-file result from its index form (bytes of an index whose MAC was checked);
    None when the bytes do not unpickle."""
    try:
        return pickle.loads(data)
    except Exception:
        return None
