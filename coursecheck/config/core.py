"""The config's data: its problems and error, rule settings, overrides, ``[course]`` and
the ``Config`` itself, with the core keys a config may have (part of :mod:`coursecheck.config`)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursecheck.errors import CoursecheckError

CONFIG_NAMES = (".coursecheck.toml", "coursecheck.toml")
# Findings one rule reports in one file, at most (more are counted and summed up in one more
# finding): a repository cannot make a rule keep 10^5 findings, their cache entry and report.
DEFAULT_MAX_FINDINGS = 200
LEVEL_NAMES = ("error", "warning", "note", "off")
CORE_KEYS = {
    "course": "where lessons and data files are, lesson ids, course order, languages",
    "rules": "rule levels and options",
    "overrides": "per-glob rule levels and options",
    "plugins": "local plugin modules or .py files",
    "extends": "rule packs to start from",
    "fail-level": "lowest level that makes the run fail (exit 1)",
    "max-findings": f"findings reported per rule and file (default {DEFAULT_MAX_FINDINGS}; 0 = no limit)",
}
COURSE_KEYS = {
    "content": list,
    "data": list,
    "partials": list,
    "exclude": list,
    "id": str,
    "aliases": list,
    "order": str,
    "order-field": str,
    "languages": dict,
}


# ConfigProblem.kind of the problems a plugin that was not loaded may explain (plugins off).
UNKNOWN_RULE = "unknown-rule"
UNKNOWN_SECTION = "unknown-section"


@dataclass(slots=True)
class ConfigProblem:
    file: str
    line: int
    key: str
    message: str
    kind: str = ""  # UNKNOWN_RULE, UNKNOWN_SECTION, or "" for any other problem

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class ConfigError(CoursecheckError):
    """The config's problems (each names its file and line); nothing is checked."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass(slots=True)
class RuleSetting:
    level: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    max_findings: int | None = None  # `max-findings`: findings reported per file (0 = no limit)


@dataclass(slots=True)
class Override:
    files: list[str]
    rules: dict[str, RuleSetting]


@dataclass(slots=True)
class CourseConfig:
    content: list[str] = field(default_factory=lambda: ["**/*.md", "**/*.mdx"])
    data: list[str] = field(default_factory=list)
    # Included text (partials, snippets, tooltips): checked as text, not lessons (no
    # frontmatter schema, not pages of the course graph).
    partials: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    id: str = "{path}"
    aliases: list[str] = field(default_factory=list)
    order: str = "path"
    order_field: str = "order"
    languages: dict[str, str] = field(default_factory=lambda: {"primary": "ru", "secondary": "en"})


ALWAYS_EXCLUDED = ["**/node_modules/**", "**/.git/**", "**/.venv/**", "**/__pycache__/**", "**/.coursecheck-cache/**"]


@dataclass(slots=True)
class Config:
    path: Path | None  # None: no config file was found (defaults)
    root: Path
    course: CourseConfig = field(default_factory=CourseConfig)
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    extends: list[str] = field(default_factory=list)
    fail_level: str = "error"
    max_findings: int = DEFAULT_MAX_FINDINGS  # top-level `max-findings` (0 = no limit)
    sections: dict[str, Any] = field(default_factory=dict)  # plugin-owned top-level keys
    origins: dict[tuple[Any, ...], tuple[str, int]] = field(default_factory=dict)
    # Shape problems found while loading, reported together with those found once plugins
    # are loaded (so a user sees every error at once).
    problems: list[ConfigProblem] = field(default_factory=list)
    # The user's own config, given with --config from outside the project root (--root): the
    # paths it writes (packs, a plan root) are taken as written. A config inside the root is
    # the repository's, as untrusted as its other files: its paths must stay inside the root.
    trusted: bool = False

    def where(self, *key: Any) -> tuple[str, int]:
        """(file, line) that set ``key``, or its nearest parent; for plugin error messages."""
        while key:
            if key in self.origins:
                return self.origins[key]
            key = key[:-1]
        return (self.display_path, 0)

    @property
    def display_path(self) -> str:
        return str(self.path) if self.path else "(defaults)"


def did_you_mean(word: str, candidates: Any) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
