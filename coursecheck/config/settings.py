"""Effective settings: the config checked against the loaded plugins, and each rule's level
and options per file (part of :mod:`coursecheck.config`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from coursecheck.config.core import CORE_KEYS, UNKNOWN_RULE, UNKNOWN_SECTION, Config, ConfigProblem, RuleSetting
from coursecheck.config.loading import (
    did_you_mean,
)
from coursecheck.globs import matches

# -- effective settings --------------------------------------------------------------------


def validate_against(config: Config, rules: dict[str, Any], sections: dict[str, str]) -> list[ConfigProblem]:
    """Check rule ids, levels, options and top-level keys against the loaded plugins."""
    problems: list[ConfigProblem] = []
    families = {r.split("/", 1)[0] for r in rules}

    def bad(key: tuple[Any, ...], message: str, kind: str = "") -> None:
        file, line = config.where(*key)
        problems.append(ConfigProblem(file, line, ".".join(str(k) for k in key), message, kind))

    def check_setting(rule_id: str, setting: RuleSetting, key: tuple[Any, ...]) -> None:
        if rule_id in families:
            if setting.options:
                bad(key, "a whole family takes only a level and max-findings; set options on each rule")
            return
        rule = rules.get(rule_id)
        if rule is None:
            candidates = list(rules) if "/" in rule_id else [*rules, *families]
            bad(key, f"unknown rule{did_you_mean(rule_id, candidates)} (see `coursecheck rules`)", UNKNOWN_RULE)
            return
        for name, value in setting.options.items():
            opt = rule.option(name)
            if opt is None:
                known = ", ".join(o.name for o in rule.options) or "none"
                bad(
                    (*key, name),
                    f"unknown option for {rule_id}{did_you_mean(name, [o.name for o in rule.options])} (options: {known})",
                )
                continue
            why = option_problem(opt, value)
            if why:
                bad((*key, name), why)

    for rule_id, setting in config.rules.items():
        check_setting(rule_id, setting, ("rules", rule_id))
    for i, override in enumerate(config.overrides):
        for rule_id, setting in override.rules.items():
            check_setting(rule_id, setting, ("overrides", i, "rules", rule_id))
    for key in config.sections:
        if key not in sections:
            known = sorted([*CORE_KEYS, *sections])
            bad((key,), f"unknown top-level key{did_you_mean(key, known)} (known: {', '.join(known)})", UNKNOWN_SECTION)
    return problems


def option_problem(opt: Any, value: Any) -> str | None:
    expected = opt.type
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (expected is int and isinstance(value, bool)) or not isinstance(value, expected):
        return f"must be {opt.describe_type()}, not {type(value).__name__}"
    if opt.choices and value not in opt.choices:
        return f"must be one of {', '.join(map(str, opt.choices))}, not '{value}'{did_you_mean(str(value), map(str, opt.choices))}"
    if expected is list and opt.item is not None:
        for item in value:
            if not isinstance(item, opt.item):
                return f"must be a list of {opt.item.__name__}; found {type(item).__name__}"
    if opt.regex:
        for pattern in value if isinstance(value, list) else [value]:
            try:
                re.compile(pattern)
            except re.error as exc:
                return f"invalid regular expression {pattern!r}: {exc}"
    return None


class Settings:
    """Effective level and options of each rule for each file (overrides applied in order)."""

    def __init__(self, config: Config, rules: dict[str, Any]) -> None:
        self.config = config
        self.rules = rules
        # Keyed by the overrides that apply, not by file: files with the same overrides share
        # one (level, options) per rule (memory stays flat on big courses).
        self._cache: dict[tuple[str, tuple[int, ...] | None], tuple[str, dict[str, Any]]] = {}
        self._applying: dict[str, tuple[int, ...]] = {}
        self._limits: dict[tuple[str, tuple[int, ...]], int] = {}

    def base(self, rule_id: str) -> tuple[str, dict[str, Any]]:
        return self.for_file(rule_id, None)

    def _overrides_for(self, relpath: str) -> tuple[int, ...]:
        applying = self._applying.get(relpath)
        if applying is None:
            applying = tuple(i for i, o in enumerate(self.config.overrides) if matches(relpath, o.files))
            self._applying[relpath] = applying
        return applying

    def for_file(self, rule_id: str, relpath: str | None) -> tuple[str, dict[str, Any]]:
        applying = None if relpath is None else self._overrides_for(relpath)
        key = (rule_id, applying)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        rule = self.rules[rule_id]
        level = rule.level
        options = rule.defaults()
        family = rule_id.split("/", 1)[0]
        layers = [self.config.rules]
        if applying is not None:
            layers += [self.config.overrides[i].rules for i in applying]
        for layer in layers:
            for name in (family, rule_id):
                setting = layer.get(name)
                if setting is not None:
                    if setting.level is not None:
                        level = setting.level
                    options.update(setting.options)
        self._cache[key] = (level, options)
        return level, options

    def max_findings(self, rule_id: str, relpath: str | None) -> int:
        """Findings ``rule_id`` reports in one file at most (0 = no limit): the top-level
        ``max-findings``, then ``max-findings`` of the rule's family and of the rule in
        ``[rules]`` and in each ``[[overrides]]`` that applies to the file, in that order."""
        applying = () if relpath is None else self._overrides_for(relpath)
        key = (rule_id, applying)
        limit = self._limits.get(key)
        if limit is None:
            limit = self.config.max_findings
            family = rule_id.split("/", 1)[0]
            for layer in [self.config.rules, *(self.config.overrides[i].rules for i in applying)]:
                for name in (family, rule_id):
                    setting = layer.get(name)
                    if setting is not None and setting.max_findings is not None:
                        limit = setting.max_findings
            self._limits[key] = limit
        return limit

    def enabled_anywhere(self, rule_id: str) -> bool:
        if self.base(rule_id)[0] != "off":
            return True
        family = rule_id.split("/", 1)[0]
        return any(
            (s := o.rules.get(rule_id) or o.rules.get(family)) is not None and s.level not in (None, "off")
            for o in self.config.overrides
        )


def config_relpath(config: Config, file: str) -> str:
    """A config file's path for a finding: relative to the project root when inside it."""
    path = Path(file)
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.resolve().relative_to(config.root.resolve()).as_posix()
    except (ValueError, OSError):
        return file
