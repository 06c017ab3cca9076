"""The hooks of coursecheck-planning (registered through the ``coursecheck`` entry point).

* ``coursecheck_config_sections``: declares the ``[planning]`` table;
* ``coursecheck_config_rules``: reports problems of ``[planning]`` and of the plan files
  (YAML errors, unknown keys, wrong types) at their own file and line — the only hook whose
  problems carry a file of their own;
* ``coursecheck_musthaves``: the plans' must-haves, as coursecheck must-have tables.
"""

from __future__ import annotations

from typing import Any

from coursecheck import hookimpl
from coursecheck.config import Config, ConfigProblem
from coursecheck_planning.plans import SECTION, load


@hookimpl
def coursecheck_config_sections() -> dict[str, str]:
    return {SECTION: "must-haves read from planning documents (.planning/phases/*/*-PLAN.md), coursecheck-planning"}


@hookimpl
def coursecheck_config_rules(config: Config, plugin_manager: Any) -> list[ConfigProblem]:
    return load(config).problems


@hookimpl
def coursecheck_musthaves(config: Config) -> list[tuple[Any, ...]]:
    return [declared.as_tuple() for declared in load(config).declared]
