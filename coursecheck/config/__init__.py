"""Configuration: discovery, TOML loading, rule packs (``extends``), validation.

Every problem is reported with the file, line and key it concerns, with a did-you-mean
where one fits, and makes the run exit with code 2. Validation happens in two steps:
the shape of the file first (here, before plugins load), then rule ids, rule options and
plugin sections against what the loaded plugins declare (:func:`validate_against`).

A package of the modules its ``# --`` banners once divided: :mod:`~coursecheck.config.core`
(the data), :mod:`~coursecheck.config.locate` (lines of keys in TOML text),
:mod:`~coursecheck.config.loading`, :mod:`~coursecheck.config.templates` (lesson ids) and
:mod:`~coursecheck.config.settings` (effective settings); every public name is here too.
"""

from __future__ import annotations

from coursecheck.config.core import (
    ALWAYS_EXCLUDED,
    CONFIG_NAMES,
    CORE_KEYS,
    COURSE_KEYS,
    DEFAULT_MAX_FINDINGS,
    LEVEL_NAMES,
    UNKNOWN_RULE,
    UNKNOWN_SECTION,
    Config,
    ConfigError,
    ConfigProblem,
    CourseConfig,
    Override,
    RuleSetting,
    did_you_mean,
)
from coursecheck.config.loading import (
    Discovery,
    discover_config,
    find_config,
    load_config,
    repository_root,
    shipped_pack,
    shipped_pack_names,
    tomllib,
)
from coursecheck.config.locate import TomlLocator
from coursecheck.config.settings import Settings, config_relpath, option_problem, validate_against
from coursecheck.config.templates import TEMPLATE_FILTERS, TEMPLATE_VARS, expand_template, template_problem

__all__ = [
    "ALWAYS_EXCLUDED",
    "CONFIG_NAMES",
    "CORE_KEYS",
    "COURSE_KEYS",
    "DEFAULT_MAX_FINDINGS",
    "LEVEL_NAMES",
    "TEMPLATE_FILTERS",
    "TEMPLATE_VARS",
    "UNKNOWN_RULE",
    "UNKNOWN_SECTION",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "CourseConfig",
    "Discovery",
    "Override",
    "RuleSetting",
    "Settings",
    "TomlLocator",
    "config_relpath",
    "did_you_mean",
    "discover_config",
    "expand_template",
    "find_config",
    "load_config",
    "option_problem",
    "repository_root",
    "shipped_pack",
    "shipped_pack_names",
    "template_problem",
    "tomllib",
    "validate_against",
]
