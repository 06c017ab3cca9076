"""The exit codes of every command, and the base of coursecheck's own errors.

Below everything else (the core layer): the app returns these codes, plugin subcommands
return them too (through :mod:`coursecheck.api`), and every error coursecheck raises on
purpose (a bad config, a shard artifact it refuses, a plugin that cannot be loaded) is a
:class:`CoursecheckError`, which ``main`` turns into a message and a code once.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What ``coursecheck`` exits with (``coursecheck --help`` lists them)."""

    OK = 0  # no findings at or above the fail level
    FINDINGS = 1  # findings at or above the fail level (default: error)
    USAGE = 2  # usage or configuration error
    INTERNAL = 3  # an internal error occurred and --strict-internal was given
    INTERRUPTED = 130  # Ctrl-C


class CoursecheckError(Exception):
    """An error coursecheck reports to the user as a message (never a traceback), with the
    exit code it ends the command with."""

    exit_code: ExitCode = ExitCode.USAGE
