"""A progress bar for long runs in a terminal, drawn with rich on stderr.

Shown only when stderr is a terminal (never in pipes or pre-commit's captured output), not
in CI (``CI`` set), the terminal is not ``TERM=dumb``, and the run is long (more than ``MIN_FILES``
files). It is transient: it disappears when the run ends, so the findings and the summary
line are all that stays. rich respects ``NO_COLOR``.
"""

from __future__ import annotations

import os
import time
from typing import IO, Any

MIN_FILES = 50
REFRESH_SECONDS = 0.1


def wanted(stream: IO[str], *, quiet: bool = False) -> bool:
    """Whether a progress bar may be drawn on ``stream``."""
    if quiet or os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):  # CI runners that give a pty
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed or odd stream
        return False


class ProgressBar:
    """``Engine.run(progress=bar)``: call with (done, total) steps; ``close()`` at the end.

    The engine counts two steps per file (parse, check) and one per course rule, so the bar
    appears when ``total`` exceeds ``2 * min_files``.
    """

    def __init__(self, stream: IO[str], *, min_files: int = MIN_FILES, label: str = "Checking") -> None:
        # Drawn on the terminal itself, not on a stream that records the run's output for a
        # replay (coursecheck.replay): a replay draws no bar.
        self.stream = getattr(stream, "unrecorded", stream)
        self.min_steps = 2 * min_files
        self.label = label
        self._progress: Any = None
        self._task: Any = None
        self._decided = False
        self._last_refresh = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self._decided:
            self._decided = True
            if total > self.min_steps:
                self._start(total)
        if self._progress is None:
            return
        self._progress.update(self._task, completed=done, total=total)
        now = time.monotonic()
        if now - self._last_refresh >= REFRESH_SECONDS or done >= total:
            self._last_refresh = now
            self._progress.refresh()

    def _start(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        console = Console(file=self.stream, force_terminal=True)
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            auto_refresh=False,  # refreshed from the run itself: no thread, no stray frames after it
        )
        self._task = self._progress.add_task(self.label, total=total)
        self._progress.start()
        self._progress.refresh()
        self._last_refresh = time.monotonic()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    @property
    def shown(self) -> bool:
        return self._decided and self._task is not None
