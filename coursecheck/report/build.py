"""The course's own build, run on request (``--run-build``) for the Markdown report.

The command comes from ``[report] build`` in the config: a string runs through the shell
(``npm run build``, ``cd site && make``), a list runs without one. It runs in the project
root; its exit code, duration and the tail of its output go into ``result.extra["build"]``,
which the Markdown report's "Build Verification" section shows. Reporters never run it.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coursecheck.errors import CoursecheckError

if TYPE_CHECKING:
    from coursecheck.config import Config

DEFAULT_TIMEOUT = 900  # seconds
DEFAULT_TAIL = 20  # lines of output kept
# An OSC sequence ends at BEL or ST (ESC \); its body stops at the next ESC, so a run of
# unterminated openers costs one pass, not one pass per opener.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


class BuildError(CoursecheckError):
    """``--run-build`` was given but there is nothing to run."""


@dataclass(slots=True)
class BuildRun:
    command: str
    exit_code: int | None  # None: killed after the timeout
    seconds: float
    tail: list[str]  # the last lines of stdout and stderr, interleaved as printed
    total_lines: int
    timed_out: bool = False

    @property
    def passed(self) -> bool:
        return self.exit_code == 0


def build_settings(config: Config) -> tuple[str | list[str] | None, int, int]:
    section: dict[str, Any] = config.sections.get("report") or {}
    if not isinstance(section, dict):
        return None, DEFAULT_TIMEOUT, DEFAULT_TAIL
    return (
        section.get("build"),
        int(section.get("build-timeout", DEFAULT_TIMEOUT)),
        int(section.get("build-tail", DEFAULT_TAIL)),
    )


def run_build(config: Config) -> BuildRun:
    command, timeout, tail = build_settings(config)
    if not command:
        file, _ = config.where("report")
        raise BuildError(f"--run-build: no build command configured (set `build` in the [report] section of {file})")
    shown = command if isinstance(command, str) else " ".join(command)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            shell=isinstance(command, str),
            cwd=config.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = _text(exc.output)
        lines = output.splitlines()
        lines.append(f"(stopped after {timeout} s: build-timeout in [report])")
        return BuildRun(shown, None, time.perf_counter() - started, lines[-tail:], len(lines), timed_out=True)
    except OSError as exc:  # the program does not exist or cannot run
        message = f"cannot run {shown}: {exc.strerror or exc}"
        return BuildRun(shown, 127, time.perf_counter() - started, [message], 1)
    lines = _text(done.stdout).splitlines()
    return BuildRun(shown, done.returncode, time.perf_counter() - started, lines[-tail:] if tail else [], len(lines))


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = text.replace("\r\n", "\n")
    # Progress bars redraw a line with CR: keep what the terminal would finally show.
    text = "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))
    return _ANSI.sub("", text)
