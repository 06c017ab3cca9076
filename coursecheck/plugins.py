"""Plugin manager set-up: built-ins, entry points, config-listed modules.

Hooks are called one implementation at a time (:func:`call_each`) so that a plugin that
raises or returns garbage is reported and skipped while the others still run.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from coursecheck import (
    hookimpl,  # noqa: F401  (re-exported for plugins)
    hookspecs,
)
from coursecheck.errors import CoursecheckError
from coursecheck.results import Notification

BUILTIN_PACKAGES = ("coursecheck.builtin", "coursecheck.report")


def builtin_plugins() -> list[str]:
    """Every module of the built-in packages, in name order: a new rule family is a new
    module in ``coursecheck/builtin/`` and needs no registration anywhere else."""
    names: list[str] = []
    for package_name in BUILTIN_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                names.append(f"{package_name}.{info.name}")
    return sorted(names)


def builtin_rule_kinds(pm: pluggy.PluginManager) -> frozenset[str]:
    """The names of the rule kinds the built-in plugins provide: declarative rules of these
    kinds record their reads (:func:`coursecheck.coursecache.trusted`)."""
    builtin = set(builtin_plugins())
    names: set[str] = set()
    for impl in pm.hook.coursecheck_rule_kinds.get_hookimpls():
        if impl.plugin_name in builtin:
            provided: Any = impl.function()
            names.update(kind.name for kind in provided)
    return frozenset(names)


ENTRY_POINT_GROUP = "coursecheck"


class PluginError(CoursecheckError):
    """A plugin listed in the config could not be loaded (reported as a config error)."""


def plugin_name(pm: pluggy.PluginManager, plugin: object) -> str:
    return pm.get_name(plugin) or str(getattr(plugin, "__name__", repr(plugin)))


def make_plugin_manager(
    config_plugins: list[str], config_dir: Path | None, *, entry_points: bool = True
) -> tuple[pluggy.PluginManager, list[Notification]]:
    pm = pluggy.PluginManager("coursecheck")
    pm.add_hookspecs(hookspecs)
    notes: list[Notification] = []
    for name in builtin_plugins():
        pm.register(importlib.import_module(name), name=name)
    if entry_points:
        for dist_plugin in _entry_points():
            try:
                plugin = dist_plugin.load()
            except Exception as exc:  # a broken third-party package must not stop the run
                notes.append(
                    Notification(
                        f"plugin '{dist_plugin.name}' (entry point {dist_plugin.value}) failed to load: "
                        f"{type(exc).__name__}: {exc}",
                        plugin=dist_plugin.name,
                        exception=traceback.format_exc(limit=3),
                    )
                )
                continue
            if pm.is_registered(plugin):
                continue
            try:
                pm.register(plugin, name=dist_plugin.name)
            except Exception as exc:
                notes.append(
                    Notification(f"plugin '{dist_plugin.name}' could not be registered: {exc}", dist_plugin.name)
                )
    for spec in config_plugins:
        module = load_local_plugin(spec, config_dir)
        if not pm.is_registered(module):
            pm.register(module, name=spec)
    return pm, notes


def _entry_points() -> Iterator[Any]:
    from importlib.metadata import entry_points

    yield from entry_points(group=ENTRY_POINT_GROUP)


def installed_plugin_names() -> list[str]:
    """The names of the installed plugins (entry points), read from package metadata: none
    of their code is imported."""
    return sorted({ep.name for ep in _entry_points()})


ISOLATED_ENV = "COURSECHECK_ISOLATED"


def isolated_by_env() -> bool:
    """Whether ``COURSECHECK_ISOLATED`` asks for the isolated mode: any value but empty,
    ``0``, ``false``, ``no`` or ``off`` does (a value not understood errs on the safe side)."""
    import os

    return os.environ.get(ISOLATED_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def load_local_plugin(spec: str, config_dir: Path | None) -> ModuleType:
    """Import ``spec``: a path to a ``.py`` file (relative to the config) or a module name
    importable from the config's folder. Raises :class:`PluginError` with a clear message."""
    base = config_dir or Path.cwd()
    try:
        if spec.endswith(".py") or "/" in spec or "\\" in spec:
            path = (base / spec).resolve()
            if not path.is_file():
                raise PluginError(f"plugin file {spec} not found (looked in {base})")
            name = "coursecheck_local_" + "_".join(path.with_suffix("").parts[-2:]).replace("-", "_").replace(".", "_")
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise PluginError(f"plugin file {spec} cannot be imported")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
            return module
        if str(base) not in sys.path:
            sys.path.insert(0, str(base))
        return importlib.import_module(spec)
    except PluginError:
        raise
    except ModuleNotFoundError as exc:
        raise PluginError(f"plugin module '{spec}' not found ({exc})") from None
    except Exception as exc:
        raise PluginError(f"plugin '{spec}' failed to import: {type(exc).__name__}: {exc}") from None


def call_each(
    pm: pluggy.PluginManager,
    hook_name: str,
    notes: list[Notification],
    check: Callable[[Any], bool] | None = None,
    expected: str = "",
    **kwargs: Any,
) -> list[tuple[str, Any]]:
    """Call every implementation of a hook; returns ``(plugin name, result)`` pairs.

    Exceptions and results failing ``check`` become notifications instead of ending the run.
    """
    results: list[tuple[str, Any]] = []
    caller = getattr(pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        name = plugin_name(pm, impl.plugin)
        args = {arg: kwargs[arg] for arg in impl.argnames if arg in kwargs}
        try:
            value = impl.function(**args)
        except Exception as exc:
            notes.append(
                Notification(
                    f"plugin '{name}' raised in {hook_name}: {type(exc).__name__}: {exc}",
                    plugin=name,
                    exception=traceback.format_exc(limit=4),
                )
            )
            continue
        if value is None:
            continue
        if check is not None and not check(value):
            notes.append(
                Notification(
                    f"plugin '{name}' returned {type(value).__name__} from {hook_name}; expected {expected}",
                    plugin=name,
                )
            )
            continue
        results.append((name, value))
    return results
