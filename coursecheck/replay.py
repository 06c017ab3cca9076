"""Whole-run replay: a run whose every input is what it was in the last run of the same
command writes that run's outputs again without running.

The per-file stores (:mod:`coursecheck.runindex`, :mod:`coursecheck.findingstore`) make a
warm run cheap file by file, but a run still pays a fixed cost for the whole course: the
plugin manager, discovery, restoring every file's results, finishing, rendering the
report. When nothing changed, all of that only rebuilds what the last run wrote. So a
``coursecheck check`` (or ``report``) records, at its end, what it wrote -- the output
file's bytes (and the files attached beside it), what it printed on stdout and stderr, its
exit code -- together with everything its outcome depended on; the next run of the same
command checks those inputs (stat calls, a few small reads) and, when each is unchanged,
writes the recorded outputs and exits.

**What the entry is keyed on.** The entry's *name* is a digest of the command: the project
root, the cache folder, every parsed command-line option (``vars(args)``: format, output,
PATHS, select/ignore, levels, quiet, colour, timestamp, automation id, plugins flags...),
the working folder (PATHS and ``-o`` are relative to it), the environment variables the run
or its reporters read or might (:data:`ENV_KEYS`: colour, terminal, CI, isolation, the
cache key's place, locale and encoding), whether stdout and stderr are terminals and their
encodings, and the interpreter (version, executable, prefix, ``sys.path``). Inside the
authenticated entry, the *inputs*, each checked before a replay:

* the loaded config (its ``repr``: every setting, from the config file, the packs it
  extends and the defaults) and the bytes of the config file and every file it extends;
* discovery: for each literal base of the course's globs, every path component from the
  root down (kind, inode; where a link leads), and for each folder the walk listed, the
  names it held (a digest of them, as the walk split them into folders and files; with
  its stat as a shortcut: an unchanged folder has the same names) -- so a new, removed or
  renamed file anywhere discovery looks, or a new subfolder, is seen. Two kinds of names
  are left out: folders nothing under which is ever a file of the course (``.git``,
  ``node_modules``, ``__pycache__``, ``.venv``, which the walk prunes, and
  ``.coursecheck-cache``, which the config always excludes: the folders under them are not
  recorded either), and the output file when the globs do not take it (every run writes it);
  a folder the walk could not read means no entry (it may become readable);
* every file the run checked (lessons, data files, partials, PATHS given that the globs do
  not take), every input plugins declare (``coursecheck_inputs``: the glossary, the
  vocabulary), the baseline given: their stat signatures (size, modification and change
  times in ns, inode, device; the target's too for a link), taken only when each is older
  than :data:`RACY_NS` before the run started (otherwise the run writes no entry, as the
  run index does not vouch for such a file);
* what the course rules read outside the checked files (:mod:`coursecheck.coursecache`
  records it: file contents, path kinds, folder listings), asked again;
* the code: every file of the coursecheck package (signatures) and its folders (names),
  and on each ``sys.path`` folder the packages' metadata folders and path files (names,
  inodes, times: installing, removing, upgrading or reinstalling a package changes them --
  the plugins the entry points would load, the libraries' versions).

**Why it is complete.** A run's outcome is a function of its files, config, options,
environment and code, given that per-file results depend only on the file and the run
key (the contract the per-file cache already rests on) and that course rules' reads are
recorded. A run writes an entry only when those hold: no plugin other than coursecheck's
own is loaded (third-party hooks -- phases, report sections, reporters -- may read
anything), the course stage was stored or reused (its reads are then known: not with a
plugin's course rule, a volatile or timed-out pattern, an internal error), the reporter is
a built-in one, and nothing in the run writes user files or depends on something else:
not with ``--fix``, ``--diff``, ``--write-baseline``, ``--run-build`` (runs a command),
``--phase``, ``--shard``, ``merge``, ``-v`` (prints what the cache did), ``--no-cache``.
The time is the only thing a built-in reporter reads beside its inputs (the timestamp of
SARIF and the Markdown report, the duration of the text summary): the run renders with a
random marker of the same shape in its place, and the recorded outputs are filled with the
time of the run that writes them (the replay's own time and duration). No rule reads git
or the clock.

**The store.** ``<cache folder>/v1-replay/<name>``, one per (root, command), the newest
:data:`ENTRIES_KEPT` kept. The cache folder is the repository's to write (it may be
committed): the entry ends with an HMAC-SHA256 of all before it under the user's cache key
(:func:`coursecheck.cache.secret_key`), bound to its name; it is read with a size bound,
never through a link, and nothing in it is parsed before its MAC checks -- and then only
JSON, never pickle. The outputs lie in files beside it, read only for a replay, each with
its SHA-256 in the authenticated entry, checked on the bytes read before any is written:
``<name>.<token>.out``, the output file as the run wrote it (a second name for that file,
which the next run replaces rather than writes in; a copy where no hard link can be made),
and ``<name>.<token>.txt``, what was printed and the attached files. Each records where the
time and duration are in it, for the replay to put its own there. A missing, damaged,
foreign or forged entry only means a normal run, which writes a new one.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from coursecheck import __version__
from coursecheck.cache import (
    MAC_SIZE,
    _linked_component,
    _own_files,
    _unlink_own,
    read_regular,
    secret_key,
)
from coursecheck.fsutil import atomic_write_bytes, write_target
from coursecheck.globs import literal_base, matches

FORMAT = 1
FOLDER = "v1-replay"
ENTRIES_KEPT = 16
# A file or folder changed this close to (or after) the start of the run that saw it is
# not vouched for by its signature (it may change again within the timestamp's granularity).
RACY_NS = 2_000_000_000
MAX_ENTRY_BYTES = 64 << 20  # the entry (inputs); the outputs file beside it has its own bound
MAX_OUTPUT_BYTES = 1 << 32

# Environment variables the run, its reporters or the streams it writes to may depend on.
ENV_KEYS = (
    "NO_COLOR",
    "FORCE_COLOR",
    "TERM",
    "CI",
    "GITHUB_ACTIONS",
    "COURSECHECK_ISOLATED",
    "COURSECHECK_CACHE_KEY",
    "COURSECHECK_DEBUG",
    "XDG_CONFIG_HOME",
    "HOME",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
)
# The built-in reporters (their modules): a plugin's reporter may read anything.
BUILTIN_REPORTERS = frozenset(f"coursecheck.report.{name}" for name in ("text", "json", "sarif", "github", "markdown"))
# Folder names discovery never looks inside for files (config ALWAYS_EXCLUDED, and the
# walk's pruning): their presence in a folder does not change what discovery finds.
_IGNORED_FOLDERS = frozenset((".coursecheck-cache", ".git", "node_modules", "__pycache__", ".venv"))
_MAGIC = b"coursecheck-replay\0"
_DOMAIN = "coursecheck replay"
_NAME = re.compile(r"[0-9a-f]{64}")
_OUTPUTS_NAME = re.compile(r"[0-9a-f]{64}\.[0-9a-f]{16}\.(?:out|txt)")
_NOT_REPLAYED = ("fix", "diff", "write_baseline", "run_build", "shard", "verbose", "no_cache", "into_phases")


# -- signatures -----------------------------------------------------------------------------


def _fields(st: os.stat_result) -> list[int]:
    return [stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def state(path: str) -> list[Any]:
    """What a path is now: ``[]`` when there is nothing; else its lstat's kind, size,
    modification and change times, inode and device, and for a link where it leads and the
    stat of what it leads to (``[]`` when nothing)."""
    try:
        st = os.lstat(path)
    except OSError:
        return []
    out: list[Any] = _fields(st)
    if stat.S_ISLNK(st.st_mode):
        try:
            out += [os.readlink(path), os.path.realpath(path), *_fields(os.stat(path))]
        except OSError:
            out.append("")
    return out


def _racy(found: list[Any], started_ns: int) -> bool:
    """Whether a state was changed too close to the start of the run to be vouched for (its
    modification or change time, or its target's for a link)."""
    if not found:
        return False
    limit = started_ns - RACY_NS
    if found[2] >= limit or found[3] >= limit:
        return True
    return len(found) >= 14 and (found[10] >= limit or found[11] >= limit)


def _listing(names_dirs: tuple[list[str] | tuple[str, ...], list[str] | tuple[str, ...]], skip: list[str]) -> str:
    """A digest of a folder's names, split into folders and files as the walk split them."""
    dirs, files = names_dirs
    left = set(skip)
    text = (
        "\0".join(sorted(d for d in dirs if d not in left))
        + "\1"
        + "\0".join(sorted(f for f in files if f not in left))
    )
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _list_now(folder: str) -> tuple[list[str], list[str]] | None:
    """A folder's names now, as ``os.walk`` splits them (None: it cannot be listed)."""
    dirs: list[str] = []
    files: list[str] = []
    try:
        with os.scandir(folder) as found:
            for entry in found:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                (dirs if is_dir else files).append(entry.name)
    except OSError:
        return None
    return dirs, files


def _leftover_names(folder: str, name: str) -> str:
    """A digest of the names beside a single-file glob base that discovery takes as the
    temporary files of an interrupted write of it."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.startswith(f".{name}."))
    except OSError:
        return "unlisted"
    return hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def _components(root: Path, base_rel: str) -> list[str]:
    """The paths from the root down to a glob's literal base (the root first)."""
    out = [str(root)]
    current = root
    for part in [p for p in base_rel.split("/") if p not in ("", ".")]:
        current = current / part
        out.append(str(current))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def config_digest(config: Any) -> str | None:
    """A digest of the loaded config and the bytes of its files; None when its repr holds
    an object without a stable one (it could not be compared)."""
    text = repr(config)
    if " object at 0x" in text:
        return None
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    names = sorted({str(config.path)} | {str(file) for file, _line in config.origins.values()} - {"None"})
    for name in names:
        digest.update(b"\0\0" + name.encode("utf-8", "surrogatepass") + b"\0")
        try:
            digest.update(Path(name).read_bytes())
        except OSError as exc:
            digest.update(f"unreadable {exc.errno}".encode())
    return digest.hexdigest()


def _names(folder: str) -> str:
    """A digest of the names in one of coursecheck's folders (``__pycache__`` left out)."""
    try:
        names = sorted(n for n in os.listdir(folder) if n != "__pycache__")
    except OSError:
        return "unlisted"
    return hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape")).hexdigest()


_METADATA = (".dist-info", ".egg-info", ".pth", ".egg-link")


def _installed(path: str) -> str:
    """What a ``sys.path`` entry says is installed: its packages' metadata folders and path
    files (names, inodes, modification times: installing, removing, upgrading or installing
    again changes it), or the state of an entry that is not a folder (a zip)."""
    try:
        with os.scandir(path) as found:
            entries = []
            for entry in found:
                if entry.name.endswith(_METADATA):
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    entries.append(f"{entry.name}\0{st.st_ino}\0{st.st_mtime_ns}")
    except NotADirectoryError:
        return json.dumps(state(path))
    except OSError:
        return "unlisted"
    return hashlib.sha256("\1".join(sorted(entries)).encode("utf-8", "surrogateescape")).hexdigest()


def _code_paths() -> tuple[list[str], list[str]]:
    """The coursecheck package's folders and files (``__pycache__`` left out)."""
    package = os.path.dirname(os.path.abspath(__file__))
    folders: list[str] = []
    files: list[str] = []
    for folder, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        folders.append(folder)
        files.extend(os.path.join(folder, f) for f in sorted(filenames))
    return folders, files


# -- the session ------------------------------------------------------------------------------


class _Tee:
    """A stream that writes through (with the time markers filled in) and records what was
    written; the progress bar draws on ``unrecorded`` (a replay draws none)."""

    def __init__(self, stream: IO[str], number: int, session: Session) -> None:
        self.unrecorded = stream
        self._number = number
        self._session = session

    def write(self, text: str) -> int:
        self.unrecorded.write(self._session.fill(text))
        self._session.chunks.append((self._number, text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for text in lines:
            self.write(text)

    def flush(self) -> None:
        self.unrecorded.flush()

    def isatty(self) -> bool:
        return bool(self.unrecorded.isatty())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unrecorded, name)


class _Held:
    """Standard output and error held back (in order), each still answering what the real
    stream is (a terminal, its encoding): :func:`held_back`."""

    def __init__(self) -> None:
        self.chunks: list[tuple[IO[str], str]] = []

    def stream(self, real: IO[str]) -> Any:
        held = self

        class _Stream:
            def write(self, text: str) -> int:
                held.chunks.append((real, text))
                return len(text)

            def flush(self) -> None:
                pass

            def isatty(self) -> bool:
                return bool(real.isatty())

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

        return _Stream()

    def release(self) -> None:
        """Write what was held back to the real streams."""
        for real, text in self.chunks:
            real.write(text)
        self.chunks = []


@contextmanager
def held_back() -> Iterator[_Held]:
    """While inside, what is written to stdout and stderr is held back (``release()``
    writes it; otherwise it is dropped)."""
    out, err = sys.stdout, sys.stderr
    held = _Held()
    sys.stdout, sys.stderr = held.stream(out), held.stream(err)
    try:
        yield held
    finally:
        sys.stdout, sys.stderr = out, err


class Session:
    """One ``check`` run that may be replayed: :meth:`replay` tries the stored entry; when
    it cannot, the run goes on :meth:`recording` and :meth:`save` stores what it wrote."""

    def __init__(self, args: Any, config: Any, timestamp: str, folder: Path, cwd: str) -> None:
        self.args = args
        self.config = config
        self.root = Path(config.root)
        self.folder = folder
        self.started = time.perf_counter()
        self.started_ns = time.time_ns()
        self.timestamp = timestamp
        self.given_time = bool(args.timestamp)
        # Markers of the shapes the reporters treat the real values as (a timestamp a YAML
        # frontmatter keeps plain; a duration printed with two decimals), unguessable.
        digits = "".join(secrets.choice("0123456789") for _ in range(14))
        self.time_marker = (
            ""
            if self.given_time
            else (f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}T{digits[8:10]}:{digits[10:12]}:{digits[12:14]}Z")
        )
        self.duration_marker = float(secrets.randbelow(9 * 10**14) + 10**14) + 0.25
        self.duration_text = ""  # the real duration, once the run has one
        self.chunks: list[tuple[int, str]] = []
        # The output file's bytes and the attached files' as written, in pieces, with where
        # the time and duration are in them.
        self.output: tuple[list[bytes | memoryview], list[list[int]]] | None = None
        self.attachments: list[tuple[str, tuple[list[bytes | memoryview], list[list[int]]]]] = []
        self.engine: Any = None
        self.result: Any = None
        self.refused = ""  # why the run writes no entry ("" : it may)
        from coursecheck import coursecache

        self._timing_events = coursecache._events  # a pattern that times out: not recorded
        secret = secret_key(self.root)
        self._key = secret.key
        self._key_is_users = not secret.note
        self.config_digest = config_digest(config)
        self.name = self._name(cwd)
        self.path = folder / FOLDER / self.name

    def _name(self, cwd: str) -> str:
        streams = [
            [bool(getattr(s, "isatty", lambda: False)()), getattr(s, "encoding", ""), getattr(s, "errors", "")]
            for s in (sys.stdout, sys.stderr)
        ]
        env = {k: os.environ.get(k) for k in ENV_KEYS}
        if env["COURSECHECK_CACHE_KEY"] is not None:  # the key's digest, never the key
            env["COURSECHECK_CACHE_KEY"] = hashlib.sha256(
                env["COURSECHECK_CACHE_KEY"].encode("utf-8", "surrogateescape")
            ).hexdigest()
        command = {
            "format": FORMAT,
            "version": __version__,
            "root": str(self.root),
            "cache": str(self.folder),
            "cwd": cwd,
            "args": {k: _plain(v) for k, v in sorted(vars(self.args).items())},
            "env": env,
            "streams": streams,
            "python": [sys.version, sys.executable, sys.prefix, list(sys.path), sys.flags.utf8_mode, os.linesep],
        }
        text = json.dumps(command, sort_keys=True, ensure_ascii=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()

    # -- the time markers ----------------------------------------------------------------

    def report_timestamp(self) -> str:
        """The timestamp reporters are given (a marker unless ``--timestamp`` was)."""
        return self.time_marker or self.timestamp

    def _marks(self) -> tuple[bytes, bytes]:
        return self.time_marker.encode(), f"{self.duration_marker:.2f}".encode()

    def _values(self) -> tuple[bytes, bytes]:
        return self.timestamp.encode(), self.duration_text.encode()

    def fill(self, text: str) -> str:
        """``text`` with the markers replaced by this run's time and duration."""
        time_mark, duration_mark = (m.decode() for m in self._marks())
        if time_mark and time_mark in text:
            text = text.replace(time_mark, self.timestamp)
        if self.duration_text and duration_mark in text:
            text = text.replace(duration_mark, self.duration_text)
        return text

    def segments(self, template: bytes) -> tuple[list[bytes | memoryview], list[list[int]]]:
        """``template`` (with markers) as the run writes it, in pieces (no copy of the
        whole), and where the values are in what is written: ``[offset, kind, length]``,
        kind 0 the time, 1 the duration."""
        found = []
        for kind, mark in enumerate(self._marks()):
            at = template.find(mark) if mark else -1
            while at >= 0:
                found.append((at, kind))
                at = template.find(mark, at + len(mark))
        found.sort()
        marks, values = self._marks(), self._values()
        view = memoryview(template)
        parts: list[bytes | memoryview] = []
        holes: list[list[int]] = []
        at = written = 0
        for offset, kind in found:
            if offset < at:
                continue  # overlapping markers cannot happen (digits only in one of them)
            parts.append(view[at:offset])
            written += offset - at
            parts.append(values[kind])
            holes.append([written, kind, len(values[kind])])
            written += len(values[kind])
            at = offset + len(marks[kind])
        parts.append(view[at:])
        return parts, holes

    def refill(self, data: memoryview, holes: list[list[int]]) -> list[bytes | memoryview]:
        """What was written (``data``, its values at ``holes``) with this run's values."""
        values = self._values()
        parts: list[bytes | memoryview] = []
        at = 0
        for offset, kind, length in holes:
            if not (at <= offset and offset + length <= len(data)):
                raise ValueError("a value outside the output")
            parts += [data[at:offset], values[kind]]
            at = offset + length
        parts.append(data[at:])
        return parts

    # -- recording -------------------------------------------------------------------------

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Standard output and error written through and recorded."""
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(out, 1, self), _Tee(err, 2, self)  # type: ignore[assignment]
        try:
            yield
        finally:
            sys.stdout, sys.stderr = out, err

    def ran(self, engine: Any, result: Any, reporter: Any) -> None:
        """The engine's run is over: its duration is the real one; reporters see a marker."""
        self.engine = engine
        self.result = result
        self.duration_text = f"{result.duration:.2f}"
        result.duration = self.duration_marker
        module = getattr(reporter, "__module__", "")
        if module not in BUILTIN_REPORTERS:
            self.refused = "the reporter is a plugin's"

    def written(self, text: str, attachments: dict[str, str]) -> tuple[list[bytes | memoryview], dict[str, Any]]:
        """The output file's bytes (and the attached files') as the run writes them, in
        pieces: the report's text with the markers filled in; kept for the entry."""
        self.output = self.segments(encoded(text))
        self.attachments = [
            (name, self.segments(encoded(value)))
            for name, value in attachments.items()
            if "/" not in name and "\\" not in name and name not in ("", ".", "..")
        ]
        return self.output[0], {name: parts for name, (parts, _holes) in self.attachments}

    def save(self, code: int) -> None:
        """Store the run's outputs and inputs (quietly: an accelerator; nothing when the run
        may not be replayed)."""
        collecting = gc.isenabled()
        gc.disable()  # the run's objects are all alive: a collection here would walk them for nothing
        try:
            entry = self._entry(code)
        except Exception:
            return
        finally:
            if collecting:
                gc.enable()
        if entry is None:
            return
        try:
            self._write(entry)
        except Exception:
            return

    def _entry(self, code: int) -> dict[str, Any] | None:
        engine, result = self.engine, self.result
        if engine is None or result is None or self.refused or not self._key_is_users or self.config_digest is None:
            return None
        if code not in (0, 1) or result.internal_errors or not engine.course_stage_key:
            return None
        from coursecheck import coursecache

        if coursecache._events != self._timing_events:
            return None  # the outcome depended on the machine's speed
        reads = getattr(engine, "course_reads", None)
        if reads is None or getattr(reads, "volatile", True):
            return None
        for plugin in engine.pm.get_plugins():
            module = getattr(plugin, "__name__", None) or type(plugin).__module__
            if not (module == "coursecheck" or str(module).startswith("coursecheck.")):
                return None  # a third-party plugin: its hooks may read anything
        walked = getattr(engine, "walked", None)
        if not isinstance(walked, dict):
            return None
        root = self.root
        started = self.started_ns
        files: list[list[Any]] = []

        def vouch(path: str) -> bool:
            found = state(path)
            if _racy(found, started):
                return False
            files.append([path, found])
            return True

        base_path = str(root)
        to_check = [os.path.join(base_path, rel) for rel, _role in engine.files()]
        to_check += [os.path.join(base_path, rel) for rel in engine.declared_inputs()]
        if self.args.baseline is not None:
            to_check.append(os.path.abspath(self.args.baseline))
        code_folders, code_files = _code_paths()
        to_check += code_files
        for path in dict.fromkeys(to_check):
            if not vouch(path):
                return None
        given = [[path, _identity(state(path))] for path in dict.fromkeys(os.path.abspath(p) for p in self.args.paths)]
        code_names = [[folder, _names(folder)] for folder in code_folders]
        installed = [[path, _installed(path)] for path in dict.fromkeys(os.path.abspath(p or ".") for p in sys.path)]
        # Discovery: each glob's literal base, from the root down; each folder listed.
        course = self.config.course
        patterns = [*course.partials, *course.content, *course.data]
        bases: list[list[Any]] = []
        for base_rel in dict.fromkeys(literal_base(p) for p in patterns):
            paths = _components(root, base_rel)
            chain = [[path, _identity(state(path))] for path in paths]
            base = paths[-1]
            leftovers = None
            if base_rel and os.path.isfile(base):
                leftovers = _leftover_names(os.path.dirname(base), os.path.basename(base))
            bases.append([chain, leftovers])
        output = os.path.abspath(self.args.output) if self.args.output is not None else ""
        output_matters = False
        if output:
            rel = os.path.relpath(output, root)
            exclude = [*_always_excluded(), *course.exclude]
            output_matters = not rel.startswith("..") and matches(rel.replace(os.sep, "/"), patterns)
            output_matters = output_matters and not matches(rel.replace(os.sep, "/"), exclude)
        folders: list[list[Any]] = []
        for folder, names in walked.items():
            if names is None:
                return None  # a folder the walk could not read: it may become readable
            if _IGNORED_FOLDERS & set(Path(os.path.relpath(folder, root)).parts):
                continue  # nothing under these is ever a file of the course
            skip = [d for d in names[0] if d in _IGNORED_FOLDERS]
            if output and not output_matters and os.path.dirname(output) == folder:
                skip.append(os.path.basename(output))
            found = state(folder)
            folders.append([folder, None if _racy(found, started) else found, _listing(names, skip), skip])
        answers = [[op, path, answer] for (op, path), answer in reads.answers.items()]
        return {
            "config": self.config_digest,
            "files": files,
            "given": given,
            "code_folders": code_names,
            "installed": installed,
            "bases": bases,
            "folders": folders,
            "reads": answers,
            "code": code,
        }

    def _write(self, entry: dict[str, Any]) -> None:
        store = self.folder / FOLDER
        if _linked_component(Path(os.path.abspath(self.folder)), self.root) is not None:
            return
        store.mkdir(parents=True, exist_ok=True)
        if not stat.S_ISDIR(os.lstat(store).st_mode) or _linked_component(store, self.root) is not None:
            return
        token = secrets.token_hex(8)
        # What was printed and the attached files: one file, each piece at its offset.
        texts: list[bytes | memoryview] = []
        offset = 0

        def place(parts: list[bytes | memoryview]) -> list[int]:
            nonlocal offset
            start = offset
            for part in parts:
                texts.append(part)
                offset += len(part)
            return [start, offset - start]

        merged: list[tuple[int, list[str]]] = []
        for number, text in self.chunks:
            if merged and merged[-1][0] == number:
                merged[-1][1].append(text)
            else:
                merged.append((number, [text]))
        streams = []
        for number, pieces in merged:
            parts, holes = self.segments("".join(pieces).encode("utf-8", "surrogatepass"))
            streams.append([number, *place(parts), holes])
        entry["streams"] = streams
        entry["attachments"] = [[name, *place(parts), holes] for name, (parts, holes) in self.attachments]
        entry["texts"] = _store(store, f"{self.name}.{token}.txt", texts)
        entry["output"] = None
        if self.output is not None:
            parts, holes = self.output
            # The output file is kept as it was written: a second name for it (it is
            # replaced, never written in place), else a copy.
            entry["output"] = [*_store(store, f"{self.name}.{token}.out", parts, self._written_file()), holes]
        entry["time_marker"] = self.time_marker
        entry["duration_marker"] = f"{self.duration_marker:.2f}"
        body = json.dumps(entry, ensure_ascii=True, separators=(",", ":")).encode()
        data = _MAGIC + len(body).to_bytes(8, "little") + body
        data += self._mac(data)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=store)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.path)
        except BaseException:
            _quiet_unlink(tmp)
            raise
        _prune(store, self.name, token)

    def _written_file(self) -> str | None:
        """Where the run wrote its output file (None: not known)."""
        try:
            return str(write_target(Path(self.args.output), self.root))
        except OSError:
            return None

    def _mac(self, data: bytes) -> bytes:
        signer = hmac.new(self._key, f"{_DOMAIN}\0{self.name}\0".encode(), hashlib.sha256)
        signer.update(data)
        return signer.digest()

    # -- replaying ---------------------------------------------------------------------------

    def replay(self) -> int | None:
        """The stored run's exit code after writing its outputs again, when every input is
        unchanged; None (nothing written) otherwise."""
        if not self._key_is_users or self.config_digest is None:
            return None
        try:
            entry = self._load()
            if entry is None or not self._still_true(entry):
                return None
            outputs = self._outputs(entry)
            time_marker, duration_marker = entry["time_marker"], entry["duration_marker"]
            code = entry["code"]
            if not (isinstance(time_marker, str) and isinstance(duration_marker, str) and code in (0, 1)):
                return None
            self.time_marker, self.duration_marker = time_marker, float(duration_marker)
        except Exception:  # damaged in a way the checks did not foresee: a normal run
            return None
        if outputs is None:
            return None
        streams, output, attachments = outputs
        self.duration_text = f"{time.perf_counter() - self.started:.2f}"
        try:
            if output is not None:
                target = self.args.output
                atomic_write_bytes(target, self.refill(*output), root=self.root)
                for name, data, holes in attachments:
                    atomic_write_bytes(target.parent / name, self.refill(data, holes), root=self.root)
            printed = [(n, b"".join(self.refill(d, h)).decode("utf-8", "surrogatepass")) for n, d, h in streams]
        except (OSError, ValueError):  # the normal run says why it cannot write there
            return None
        for number, text in printed:
            (sys.stdout if number == 1 else sys.stderr).write(text)
        return int(code)

    def _load(self) -> dict[str, Any] | None:
        store = self.folder / FOLDER
        if _linked_component(Path(os.path.abspath(store)), self.root) is not None:
            return None
        try:
            data = read_regular(str(self.path), MAX_ENTRY_BYTES)
        except OSError:
            return None
        trailer = len(data) - MAC_SIZE
        if trailer < len(_MAGIC) + 8 or not data.startswith(_MAGIC):
            return None
        if not hmac.compare_digest(data[trailer:], self._mac(data[:trailer])):
            return None
        length = int.from_bytes(data[len(_MAGIC) : len(_MAGIC) + 8], "little")
        if len(_MAGIC) + 8 + length != trailer:
            return None
        entry = json.loads(data[len(_MAGIC) + 8 : trailer])
        return entry if isinstance(entry, dict) else None

    def _still_true(self, entry: dict[str, Any]) -> bool:
        if entry.get("config") != self.config_digest:
            return False
        for path, found in entry["files"]:
            if state(path) != found:
                return False
        for path, identity in entry["given"]:
            if _identity(state(path)) != identity:
                return False
        for folder, names in entry["code_folders"]:
            if _names(folder) != names:
                return False
        for path, digest in entry["installed"]:
            if _installed(path) != digest:
                return False
        for chain, leftovers in entry["bases"]:
            for path, identity in chain:
                if _identity(state(path)) != identity:
                    return False
            if leftovers is not None:
                base = chain[-1][0]
                if _leftover_names(os.path.dirname(base), os.path.basename(base)) != leftovers:
                    return False
        for folder, found, digest, skip in entry["folders"]:
            if found is not None and state(folder) == found:
                continue
            names = _list_now(folder)
            if names is None or _listing(names, skip) != digest:
                return False
        if entry["reads"]:
            from coursecheck.coursecache import _ANSWER

            for op, path, answer in entry["reads"]:
                if _ANSWER[op](Path(path), self.root) != answer:
                    return False
        return True

    def _outputs(self, entry: dict[str, Any]) -> tuple[list[Any], Any, list[Any]] | None:
        """The recorded streams, output and attachments (with their values' places), each
        from its file once its SHA-256 is the one the authenticated entry holds."""
        texts = self._blob(entry["texts"], ".txt")
        if texts is None:
            return None
        output = None
        if entry["output"] is not None:
            name, size, digest, found = entry["output"]
            data = self._blob([name, size, digest], ".out")
            if data is None:
                return None
            output = (data, _holes(found, len(data)))

        def piece(at: Any, length: Any) -> memoryview:
            if not (isinstance(at, int) and isinstance(length, int) and 0 <= at and 0 <= length):
                raise ValueError("not a place")
            if at + length > len(texts):
                raise ValueError("outside the outputs")
            return texts[at : at + length]

        streams = []
        for number, at, length, found in entry["streams"]:
            data = piece(at, length)
            streams.append((1 if number == 1 else 2, data, _holes(found, len(data))))
        attachments = []
        for attached, at, length, found in entry["attachments"]:
            if not isinstance(attached, str) or "/" in attached or "\\" in attached or attached in ("", ".", ".."):
                return None
            data = piece(at, length)
            attachments.append((attached, data, _holes(found, len(data))))
        if (output is None) != (self.args.output is None):
            return None
        return streams, output, attachments

    def _blob(self, place: Any, suffix: str) -> memoryview | None:
        """The bytes of an outputs file the entry names, if they have its SHA-256."""
        name, size, digest = place
        if not isinstance(name, str) or not _OUTPUTS_NAME.fullmatch(name) or not name.startswith(self.name + "."):
            return None
        if not name.endswith(suffix) or not isinstance(size, int) or not 0 <= size <= MAX_OUTPUT_BYTES:
            return None
        data = read_regular(str(self.folder / FOLDER / name), size)
        if len(data) != size or not hmac.compare_digest(hashlib.sha256(data).hexdigest(), str(digest)):
            return None
        return memoryview(data)


def _holes(found: Any, size: int) -> list[list[int]]:
    """The values' places in an output, checked: in order, inside it, of a known kind."""
    if not isinstance(found, list):
        raise ValueError("not places")
    at = 0
    for hole in found:
        if not (isinstance(hole, list) and len(hole) == 3 and all(isinstance(x, int) for x in hole)):
            raise ValueError("not a place")
        offset, kind, length = hole
        if kind not in (0, 1) or offset < at or length < 0 or offset + length > size:
            raise ValueError("a place outside the output")
        at = offset + length
    return found


def _store(store: Path, name: str, parts: list[bytes | memoryview], written: str | None = None) -> list[Any]:
    """Keep ``parts`` as ``store/name`` (a second name for ``written``, the file the run
    just wrote with these bytes, when it can have one; else a copy): name, size, SHA-256."""
    digest = hashlib.sha256()
    size = 0
    for part in parts:
        digest.update(part)
        size += len(part)
    if written is not None:
        try:
            st = os.lstat(written)
            if stat.S_ISREG(st.st_mode) and st.st_size == size:
                os.link(written, store / name, follow_symlinks=False)
                return [name, size, digest.hexdigest()]
        except (OSError, NotImplementedError):
            pass  # another file system, no hard links: a copy
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=store)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
        os.replace(tmp, store / name)
    except BaseException:
        _quiet_unlink(tmp)
        raise
    return [name, size, digest.hexdigest()]


def _identity(found: list[Any]) -> list[Any]:
    """A path's kind and identity (inode, device; a link's target), not its times: a glob's
    base folder gains and loses entries (its listing is checked apart)."""
    if not found:
        return []
    return [found[0], found[4], found[5], *found[6:8]]


def _always_excluded() -> list[str]:
    from coursecheck.config import ALWAYS_EXCLUDED

    return list(ALWAYS_EXCLUDED)


def encoded(text: str) -> bytes:
    """``text`` as :func:`coursecheck.fsutil.atomic_write` writes it."""
    if os.linesep != "\n":
        text = text.replace("\n", os.linesep)
    return text.encode("utf-8", "backslashreplace")


def _quiet_unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _prune(store: Path, name: str, token: str) -> None:
    """Keep the newest :data:`ENTRIES_KEPT` entries and the outputs files of each (this
    entry's earlier ones go); regular files of this user only, never through a link."""
    entries = sorted(((st.st_mtime_ns, e.path) for e, st in _own_files(str(store), _NAME)), reverse=True)
    for _mtime, path in entries[ENTRIES_KEPT:]:
        _unlink_own(path)
    kept = {os.path.basename(path) for _mtime, path in entries[:ENTRIES_KEPT]}
    for found, _st in _own_files(str(store), _OUTPUTS_NAME):
        owner, _, rest = found.name.partition(".")
        if owner not in kept or (owner == name and not rest.startswith(token + ".")):
            _unlink_own(found.path)


def session(args: Any, config: Any, timestamp: str | None, cache_on: bool, merging: bool) -> Session | None:
    """A replay session for this ``check`` run, or None when it may not be replayed."""
    if merging or not cache_on or timestamp is None:
        return None
    if any(getattr(args, flag, None) for flag in _NOT_REPLAYED) or str(getattr(args, "phase", "")):
        return None
    folder = args.cache_dir or (Path(config.root) / ".coursecheck-cache")
    try:
        return Session(args, config, timestamp, Path(os.path.abspath(folder)), os.getcwd())
    except Exception:
        return None
