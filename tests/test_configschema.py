"""Config sections declared as schemas (coursecheck.config.schema): one validator for every
section, problems at the file, line and key that set them."""

from __future__ import annotations

import textwrap

import pytest

from coursecheck.builtin import graph as graph_family
from coursecheck.config import ConfigError, load_config
from coursecheck.config.schema import Key, Section, describe_section, validate_sections
from coursecheck.engine import Engine
from coursecheck.graph import GRAPH_KEYS

SECTION = Section(
    "demo",
    "a demo section",
    keys=(
        Key("name", "string", "a name", non_empty=True),
        Key("mode", "string", "how", default="fast", choices=("fast", "slow")),
        Key("count", "int", "how many", default=1, minimum=1),
        Key("tags", "strings", "tags"),
        Key("path", "string", "a path", check=lambda v, _c: None if v.endswith(".txt") else "must be a .txt file"),
        Key("items", "tables", "items", keys=(Key("id", "string", "the item's id", required=True),)),
    ),
)


def problems(tmp_path, toml):
    (tmp_path / ".coursecheck.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    config = load_config(tmp_path / ".coursecheck.toml", tmp_path, strict=False)
    return [str(p) for p in validate_sections(config, [SECTION])]


def test_a_valid_section_has_no_problems(tmp_path):
    ok = """
        [demo]
        name = "x"
        mode = "slow"
        count = 3
        tags = ["a", "b"]
        path = "a.txt"
        [[demo.items]]
        id = "one"
    """
    assert problems(tmp_path, ok) == []


def test_every_problem_has_its_file_line_and_key(tmp_path):
    bad = """
        [demo]
        nmae = "x"
        mode = "slwo"
        count = 0
        tags = ["a", 1]
        path = "a.md"
        name = " "
        [[demo.items]]
        idd = "one"
    """
    assert problems(tmp_path, bad) == [
        ".coursecheck.toml:3: demo.nmae: unknown key; did you mean 'name'? (known: name, mode, count, tags, path, items)",
        ".coursecheck.toml:4: demo.mode: must be one of fast, slow, not 'slwo'; did you mean 'slow'?",
        ".coursecheck.toml:5: demo.count: must be 1 or more, not 0",
        ".coursecheck.toml:6: demo.tags: must be a list of strings",
        ".coursecheck.toml:7: demo.path: must be a .txt file",
        ".coursecheck.toml:8: demo.name: must not be empty",
        ".coursecheck.toml:9: demo.items.0: needs `id`: the item's id",
        ".coursecheck.toml:10: demo.items.0.idd: unknown key; did you mean 'id'? (known: id)",
    ]


def test_a_section_of_the_wrong_shape(tmp_path):
    assert problems(tmp_path, "demo = 3\n") == [".coursecheck.toml:1: demo: must be a table: [demo]"]
    assert problems(tmp_path, '[demo]\ncount = "2"\n') == [
        ".coursecheck.toml:2: demo.count: must be a whole number, not str"
    ]
    assert problems(tmp_path, "[demo]\ncount = true\n") == [
        ".coursecheck.toml:2: demo.count: must be a whole number, not true or false"
    ]


PLUGIN = """
from coursecheck.api import ConfigKey, ConfigSection, hookimpl


def boom(value, config):
    raise ValueError("boom")


@hookimpl
def coursecheck_config_schemas():
    return [
        ConfigSection("demo", "a demo section", keys=(ConfigKey("count", "int", minimum=1),)),
        ConfigSection("broken", "a section whose check raises", keys=(ConfigKey("name", check=boom),)),
    ]
"""


def engine_with_plugin(tmp_path, toml):
    (tmp_path / "demo_plugin.py").write_text(PLUGIN, encoding="utf-8")
    (tmp_path / ".coursecheck.toml").write_text('plugins = ["demo_plugin.py"]\n' + toml, encoding="utf-8")
    return Engine(load_config(tmp_path / ".coursecheck.toml", tmp_path))


def test_a_plugin_declares_a_section_and_the_engine_validates_it(tmp_path):
    with pytest.raises(ConfigError) as info:
        engine_with_plugin(tmp_path, "[demo]\ncount = -1\n")
    assert [str(p) for p in info.value.problems] == [".coursecheck.toml:3: demo.count: must be 1 or more, not -1"]


def test_a_check_that_raises_leaves_its_section_unchecked_and_is_told(tmp_path):
    engine = engine_with_plugin(tmp_path, '[demo]\ncount = 2\n[broken]\nname = "x"\n')
    assert [n.message for n in engine.notes if "[broken]" in n.message] == [
        "the check of [broken] raised ValueError: boom"
    ]


def test_the_graph_schema_declares_every_key_the_graph_reads():
    assert [k.name for k in graph_family.SECTION.keys] == list(GRAPH_KEYS)


def test_a_section_documents_its_keys():
    text = describe_section(SECTION)
    assert "`[demo]`: a demo section" in text
    assert "| `mode` | a string (fast, slow) | `'fast'` | how |" in text
    assert SECTION.defaults() == {"mode": "fast", "count": 1}


def test_plugins_import_the_schema_from_the_public_api():
    from coursecheck import api

    assert api.ConfigSection is Section and api.ConfigKey is Key
