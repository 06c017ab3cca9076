"""The public API: what a plugin author imports (``from coursecheck.api import ...``).

Everything a plugin needs to add rules, rule kinds, config sections, must-haves, reporters
and subcommands, in one module whose names stay stable across releases; the modules they
come from may move. A plugin imports neither the engine nor the app (``coursecheck.cli``):
a subcommand gets a :class:`CommandContext` instead. See docs/plugins.md and
docs/architecture.md.
"""

from __future__ import annotations

from coursecheck import __version__, hookimpl
from coursecheck.commands import CommandContext, Runner
from coursecheck.config import Config, ConfigError, ConfigProblem, config_relpath, did_you_mean
from coursecheck.config.schema import Key as ConfigKey
from coursecheck.config.schema import Section as ConfigSection
from coursecheck.declarative import FieldSpec, RuleKind, RuleSpec, UserRule
from coursecheck.diagrams import Diagram, chart_components, diagrams
from coursecheck.errors import CoursecheckError, ExitCode
from coursecheck.model import Course, Document, Edit, Finding, Fix, Phase, Segment
from coursecheck.musthave_keys import KEYS as MUSTHAVE_KEYS
from coursecheck.musthave_keys import SCHEMAS as MUSTHAVE_SCHEMAS
from coursecheck.musthave_keys import Contributed
from coursecheck.patterns import regex_problem, timed_finditer, user_regex
from coursecheck.plugins import Notification, call_each
from coursecheck.results import Result, RunOptions
from coursecheck.rules import Option, Rule, RuleContext, rule
from coursecheck.text import Span

__all__ = [
    "MUSTHAVE_KEYS",
    "MUSTHAVE_SCHEMAS",
    "CommandContext",
    "Config",
    "ConfigError",
    "ConfigKey",
    "ConfigProblem",
    "ConfigSection",
    "Contributed",
    "Course",
    "CoursecheckError",
    "Diagram",
    "Document",
    "Edit",
    "ExitCode",
    "FieldSpec",
    "Finding",
    "Fix",
    "Notification",
    "Option",
    "Phase",
    "Result",
    "Rule",
    "RuleContext",
    "RuleKind",
    "RuleSpec",
    "RunOptions",
    "Runner",
    "Segment",
    "Span",
    "UserRule",
    "__version__",
    "call_each",
    "chart_components",
    "config_relpath",
    "diagrams",
    "did_you_mean",
    "hookimpl",
    "regex_problem",
    "rule",
    "timed_finditer",
    "user_regex",
]
