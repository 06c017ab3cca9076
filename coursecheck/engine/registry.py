"""The registry: the plugin manager (built-ins, entry points, the config's plugins), the
rules the plugins and the config define, the config's sections validated against them."""

from __future__ import annotations

import re

from coursecheck.config import (
    UNKNOWN_RULE,
    UNKNOWN_SECTION,
    Config,
    ConfigError,
    ConfigProblem,
    Settings,
    validate_against,
)
from coursecheck.config.schema import Section, validate_sections
from coursecheck.plugins import (
    Notification,
    PluginError,
    call_each,
    installed_plugin_names,
    make_plugin_manager,
)
from coursecheck.results import RunOptions
from coursecheck.rules import Rule


class Registry:
    """Loads the plugins for ``config`` and checks the config against what they provide:
    ``pm``, ``rules`` (id -> Rule) and ``settings``; raises ConfigError naming every problem.
    Notifications (a plugin that returned something malformed, plugins not loaded) go to
    ``notes``."""

    def __init__(self, config: Config, options: RunOptions, notes: list[Notification]) -> None:
        self.config = config
        self.options = options
        self.notes = notes
        try:
            self.pm, notes = make_plugin_manager(
                config.plugins if self.options.local_plugins else [],
                config.path.parent if config.path else None,
                entry_points=self.options.entry_points,
            )
        except PluginError as exc:
            file, line = config.where("plugins")
            raise ConfigError([ConfigProblem(file, line, "plugins", str(exc))]) from None
        self.notes.extend(notes)
        skipped = self._skipped_plugins()
        self.rules = self._collect_rules()
        config_problems = self._collect_config_rules()
        sections: dict[str, str] = {}
        for _name, value in call_each(
            self.pm, "coursecheck_config_sections", self.notes, lambda v: isinstance(v, dict), "a dict"
        ):
            sections.update(value)
        schemas: list[Section] = []
        for _name, value in call_each(
            self.pm,
            "coursecheck_config_schemas",
            self.notes,
            lambda v: isinstance(v, list) and all(isinstance(s, Section) for s in v),
            "a list of coursecheck.api.ConfigSection",
        ):
            schemas.extend(value)
        sections.update({schema.name: schema.doc for schema in schemas})

        def failed(section: Section, exc: Exception) -> None:
            self.notes.append(Notification(f"the check of [{section.name}] raised {type(exc).__name__}: {exc}"))

        checked = [*validate_against(config, self.rules, sections), *validate_sections(config, schemas, failed)]
        if skipped:
            checked = self._without_plugin_settings(checked, skipped)
        problems = [*config.problems, *config_problems, *checked]
        for name, value in call_each(
            self.pm, "coursecheck_configure", self.notes, lambda v: isinstance(v, list), "a list", config=config
        ):
            for item in value:
                try:
                    key, line, message = item
                except (TypeError, ValueError):
                    self.notes.append(
                        Notification(f"plugin '{name}' returned a malformed config problem: {item!r}", name)
                    )
                    continue
                file, where_line = config.where(*str(key).split("."))
                problems.append(ConfigProblem(file, line or where_line, str(key), str(message)))
        if problems:
            problems.sort(key=lambda p: (p.file != config.display_path, p.file, p.line))
            raise ConfigError(problems)
        self.settings = Settings(config, self.rules)

    def _skipped_plugins(self) -> list[str]:
        """The plugins this run does not load that it otherwise would (the config's and the
        installed ones), said in a notification: their rules do not run, and that must not
        pass for a clean result. Only when the user turned plugins off (``plugins_off_by``):
        a library call that leaves out entry points hears nothing."""
        if not self.options.plugins_off_by:
            return []
        skipped: list[str] = []
        if not self.options.local_plugins:
            skipped += [f"the config's plugin {spec}" for spec in self.config.plugins]
        if not self.options.entry_points:
            skipped += [f"installed plugin {name}" for name in installed_plugin_names()]
        if skipped:
            by = self.options.plugins_off_by
            self.notes.append(
                Notification(f"{by}: not loaded: {', '.join(skipped)}; their rules did not run", level="warning")
            )
        return skipped

    def _without_plugin_settings(self, problems: list[ConfigProblem], skipped: list[str]) -> list[ConfigProblem]:
        """Settings of rules and sections only a plugin that was not loaded can provide are
        no config error when plugins are off: they are ignored, and a notification names
        them. (A rule of a family the loaded rules have is still checked: a typo.)"""
        families = {r.split("/", 1)[0] for r in self.rules}
        kept: list[ConfigProblem] = []
        ignored: list[str] = []
        for problem in problems:
            setting = re.match(r"(?:overrides\.\d+\.)?rules\.(.+)", problem.key)
            family = setting.group(1).split("/", 1)[0] if setting else ""
            if problem.kind == UNKNOWN_SECTION or (problem.kind == UNKNOWN_RULE and family not in families):
                ignored.append(problem.key)
            else:
                kept.append(problem)
        if ignored:
            self.notes.append(
                Notification(
                    f"{self.options.plugins_off_by}: settings for rules and sections no "
                    f"loaded plugin provides were not checked and have no effect: {', '.join(ignored)}",
                    level="warning",
                )
            )
        return kept

    def _collect_rules(self) -> dict[str, Rule]:
        rules: dict[str, Rule] = {}
        for name, provided in call_each(
            self.pm,
            "coursecheck_rules",
            self.notes,
            lambda v: isinstance(v, (list, tuple)),
            "a list of Rule",
        ):
            for rule in provided:
                if not isinstance(rule, Rule) or not isinstance(rule.id, str) or "/" not in rule.id:
                    self.notes.append(
                        Notification(
                            f"plugin '{name}' returned {rule!r} from coursecheck_rules; expected Rule objects with ids 'family/name'",
                            name,
                        )
                    )
                    continue
                if rule.id in rules:
                    self.notes.append(
                        Notification(
                            f"rule {rule.id} from plugin '{name}' is already defined by '{rules[rule.id].plugin}'; ignored",
                            name,
                        )
                    )
                    continue
                rule.plugin = rule.plugin or name
                rules[rule.id] = rule
        return rules

    def _collect_config_rules(self) -> list[ConfigProblem]:
        """Add the rules the config defines (``coursecheck_config_rules``); returns the
        problems found in their definitions."""
        problems: list[ConfigProblem] = []
        for name, provided in call_each(
            self.pm,
            "coursecheck_config_rules",
            self.notes,
            lambda v: isinstance(v, (list, tuple)),
            "a list of Rule and ConfigProblem",
            config=self.config,
            plugin_manager=self.pm,
        ):
            for item in provided:
                if isinstance(item, ConfigProblem):
                    problems.append(item)
                elif isinstance(item, Rule) and isinstance(item.id, str) and "/" in item.id:
                    if item.id in self.rules:
                        file, line = self.config.where()
                        problems.append(
                            ConfigProblem(
                                file, line, item.id, f"rule id is already used by '{self.rules[item.id].plugin}'"
                            )
                        )
                        continue
                    item.plugin = item.plugin or name
                    self.rules[item.id] = item
                else:
                    self.notes.append(
                        Notification(f"plugin '{name}' returned {item!r} from coursecheck_config_rules", name)
                    )
        return problems

