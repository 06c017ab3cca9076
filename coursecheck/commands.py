"""What the app gives a plugin's subcommand (``coursecheck_commands``).

A subcommand is ``function(argv, context) -> exit code``: the :class:`CommandContext` holds
what a command needs of the app and of the engine (loading the config as ``check`` does,
printing config errors, the ``--no-plugins``/``--isolated`` arguments, running the
engine), so that no plugin imports the app or the engine. A function that takes only
``argv`` is still called that way (older plugins).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from coursecheck.config import Config, ConfigError
    from coursecheck.plugins import Notification
    from coursecheck.results import Result, RunOptions
    from coursecheck.rules import Rule


class Runner(Protocol):
    """An engine made for one config and its options: :meth:`run` checks the course."""

    config: Config
    rules: dict[str, Rule]  # every rule the plugins gave, by id
    notes: list[Notification]  # what went wrong while loading plugins and rules

    def run(self, progress: Any = None) -> Result: ...

    def stored_output(self, kind: str, *parts: str) -> str | None: ...

    def store_output(self, kind: str, text: str, *parts: str) -> None: ...


@dataclass(frozen=True, slots=True)
class CommandContext:
    """The app's services for a plugin's subcommand."""

    # (``--config`` or None, ``--root`` or None) -> the config, or None and the exit code
    # after saying why (as ``coursecheck check`` loads it: discovery, containment, trust).
    load_config: Callable[[Path | None, Path | None], tuple[Config | None, int]]
    # Print a config's problems and "N configuration errors; nothing was checked".
    print_config_error: Callable[[ConfigError], None]
    # Add ``--no-plugins`` and ``--isolated`` to a command's parser ...
    add_plugin_arguments: Callable[[argparse.ArgumentParser], None]
    # ... and the RunOptions keywords they give (which plugins a run loads).
    plugin_options: Callable[[argparse.Namespace], dict[str, Any]]
    # The engine for a config and options (raises ConfigError on a bad config).
    engine: Callable[[Config, RunOptions], Runner]
    # The check command itself, for a command that is a check with another report:
    # ``check(argv, prog=..., description=...)``.
    check: Callable[..., int]
    # Add ``--no-cache``, ``--cache-dir`` and ``--no-progress`` to a command's parser ...
    add_cache_arguments: Callable[[argparse.ArgumentParser], None]
    # ... and the RunOptions keywords they give (the cache, as ``check`` uses it).
    cache_options: Callable[[argparse.Namespace], dict[str, Any]]
    # ``engine.run()`` with a progress bar on a terminal: ``run(engine, args, label)``.
    run: Callable[[Runner, argparse.Namespace, str], Result]
