"""The template's rule and rule kind: a failing and a passing case each, exact positions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coursecheck.config import ConfigError, load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.model import Finding

# `plugins` loads the module by name, whether or not the package is installed.
CONFIG = """
plugins = ["coursecheck_plugin_template.plugin"]

[course]
content = ["**/*.md"]
"""

LONG_HEADING_RULE = """
[[rule]]
id = "team/short-headings"
kind = "long-heading"
max-words = 4
"""


def lint(tmp_path: Path, text: str, config: str = CONFIG) -> list[tuple[str, int, int, str]]:
    (tmp_path / "lesson.md").write_text(text, encoding="utf-8")
    (tmp_path / ".coursecheck.toml").write_text(textwrap.dedent(config), encoding="utf-8")
    loaded = load_config(tmp_path / ".coursecheck.toml", tmp_path)
    result = Engine(loaded, RunOptions(entry_points=False, select=["template", "team"])).run()
    found: list[Finding] = result.active
    return [(f.rule_id, f.span.line, f.span.column, f.message) for f in found]


def test_heading_period_is_reported_at_the_period(tmp_path):
    text = "---\ntitle: Урок\n---\n\n## Настройка **коннектора**.\n\nТекст.\n"
    assert lint(tmp_path, text) == [("template/heading-period", 5, 28, "heading ends with a period")]


def test_heading_without_period_or_with_ellipsis_passes(tmp_path):
    text = "# Настройка коннектора\n\n## А дальше...\n\nТекст с точкой.\n"
    assert lint(tmp_path, text) == []


def test_ellipsis_is_reported_when_the_option_is_off(tmp_path):
    config = CONFIG + '\n[rules]\n"template/heading-period" = { allow-ellipsis = false }\n'
    assert lint(tmp_path, "# Что дальше...\n", config) == [
        ("template/heading-period", 1, 15, "heading ends with a period")
    ]


def test_long_heading_kind_reports_at_the_heading(tmp_path):
    text = "# Short one\n\nText\n\n## A heading with far too many words\n"
    assert lint(tmp_path, text, CONFIG + LONG_HEADING_RULE) == [
        ("team/short-headings", 5, 4, "heading has 7 words (at most 4)")
    ]


def test_long_heading_kind_passes_short_headings(tmp_path):
    assert lint(tmp_path, "# Short one\n\n## Four words at most\n", CONFIG + LONG_HEADING_RULE) == []


def test_long_heading_kind_validates_its_field(tmp_path):
    with pytest.raises(ConfigError) as caught:
        lint(tmp_path, "# x\n", CONFIG + LONG_HEADING_RULE.replace("max-words = 4", "max-words = 0"))
    assert [str(p) for p in caught.value.problems] == [".coursecheck.toml:10: rule.0.max-words: must be at least 1"]
