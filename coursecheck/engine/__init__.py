"""The engine: a run of coursecheck, made of stages (docs/architecture.md).

``orchestrator`` holds :class:`Engine`, whose ``run`` calls the stages in order: discovery,
reading (and identity), the per-file stage (``perfile``: cache, run index, workers), the
course stage (``coursestage``: stored stages, relocation), rule calls (``rulecalls``),
finishing; ``registry`` loads the plugins and checks the config; ``keys`` makes the run's
cache keys; ``incremental`` holds the editor's re-checks. What importers use is re-exported
here.
"""

from coursecheck.engine.discovery import FILE_NAME, OUTSIDE_ROOT
from coursecheck.engine.orchestrator import Engine, run
from coursecheck.engine.perfile import FILES_PER_JOB, MAX_JOBS, PARALLEL_MIN_FILES
from coursecheck.engine.reading import MAX_FILE_BYTES
from coursecheck.results import FileResult, Result, RunOptions, SourceCheck

__all__ = [
    "FILES_PER_JOB",
    "FILE_NAME",
    "MAX_FILE_BYTES",
    "MAX_JOBS",
    "OUTSIDE_ROOT",
    "PARALLEL_MIN_FILES",
    "Engine",
    "FileResult",
    "Result",
    "RunOptions",
    "SourceCheck",
    "run",
]
