"""Config discovery, loading and errors: every error names file, line and key; exit code 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from coursecheck.config import ConfigError, expand_template, find_config, load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.globs import compile_glob, literal_base


def errors_of(tmp_path: Path, text: str, name: str = ".coursecheck.toml") -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config = load_config(path, tmp_path, strict=False)
        Engine(config, RunOptions(entry_points=False))
    return [str(p) for p in info.value.problems]


def test_toml_syntax_error_has_line(tmp_path):
    (error,) = errors_of(tmp_path, '[course]\ncontent = ["a"\nid = "x"\n')
    assert error.startswith(".coursecheck.toml:3:")
    assert "TOML syntax error" in error


def test_unknown_top_level_key_with_did_you_mean(tmp_path):
    (error,) = errors_of(tmp_path, '[course]\ncontent = ["**/*.md"]\n\n[ruless]\n"x" = 1\n')
    assert error.startswith(".coursecheck.toml:4: ruless: unknown top-level key; did you mean 'rules'?")


def test_unknown_course_key_and_wrong_type(tmp_path):
    errors = errors_of(tmp_path, '[course]\ncontnet = ["**/*.md"]\norder = 3\n')
    assert errors[0].startswith(".coursecheck.toml:2: course.contnet: unknown key; did you mean 'content'?")
    assert errors[1] == ".coursecheck.toml:3: course.order: must be a string, not int"


def test_unknown_rule_id_and_bad_level(tmp_path):
    errors = errors_of(
        tmp_path,
        """
        [course]
        content = ["**/*.md"]

        [rules]
        "core/unused-supression" = "warning"
        "parse/encoding" = "eror"
        """,
    )
    assert errors == [
        ".coursecheck.toml:6: rules.core/unused-supression: unknown rule; did you mean 'core/unused-suppression'? (see `coursecheck rules`)",
        ".coursecheck.toml:7: rules.parse/encoding: level must be one of error, warning, note, off, not 'eror'; did you mean 'error'?",
    ]


def test_unknown_rule_option(tmp_path):
    (error,) = errors_of(tmp_path, '[rules]\n"core/unused-suppression" = { level = "note", treshold = 3 }\n')
    assert error.startswith(".coursecheck.toml:2: rules.core/unused-suppression.treshold: unknown option")


def test_glob_escaping_the_root_is_rejected(tmp_path):
    (error,) = errors_of(tmp_path, '[course]\ncontent = ["../other/**/*.md"]\n')
    assert error.startswith(
        ".coursecheck.toml:2: course.content: glob '../other/**/*.md': '..' would leave the project root"
    )


def test_bad_id_template(tmp_path):
    (error,) = errors_of(tmp_path, '[course]\naliases = ["{dir|unnumberd}/{stem}"]\n')
    assert "unknown filter '|unnumberd'" in error and "did you mean 'unnumbered'" in error
    assert error.startswith(".coursecheck.toml:2: course.aliases:")


def test_overrides_are_checked(tmp_path):
    errors = errors_of(
        tmp_path,
        """
        [[overrides]]
        files = ["intro/*.md"]
        rules = { "core/nope" = "off" }
        """,
    )
    assert errors == [".coursecheck.toml:4: overrides.0.rules.core/nope: unknown rule (see `coursecheck rules`)"]


def test_unknown_pack(tmp_path):
    (error,) = errors_of(tmp_path, 'extends = ["recomended"]\n')
    assert error.startswith(".coursecheck.toml:1: extends: unknown rule pack 'recomended'; did you mean 'recommended'?")


def test_pack_problems_name_the_pack_file(tmp_path):
    (tmp_path / "team.toml").write_text('[rules]\n\n"core/internal-eror" = "off"\n', encoding="utf-8")
    (error,) = errors_of(tmp_path, 'extends = ["./team.toml"]\n')
    assert error.startswith("team.toml:3: rules.core/internal-eror: unknown rule")


def test_later_settings_override_packs_field_by_field(tmp_path):
    (tmp_path / "team.toml").write_text(
        '[rules]\n"core/unused-suppression" = { level = "error" }\n"parse/unterminated-fence" = "note"\n',
        encoding="utf-8",
    )
    path = tmp_path / ".coursecheck.toml"
    path.write_text('extends = ["./team.toml"]\n[rules]\n"parse/unterminated-fence" = "error"\n', encoding="utf-8")
    config = load_config(path, tmp_path)
    engine = Engine(config, RunOptions(entry_points=False))
    assert engine.settings.base("core/unused-suppression")[0] == "error"
    assert engine.settings.base("parse/unterminated-fence")[0] == "error"


def test_per_glob_overrides(tmp_path):
    path = tmp_path / ".coursecheck.toml"
    path.write_text(
        '[rules]\n"parse" = "warning"\n\n[[overrides]]\nfiles = ["drafts/**"]\nrules = { "parse/encoding" = "off" }\n',
        encoding="utf-8",
    )
    engine = Engine(load_config(path, tmp_path), RunOptions(entry_points=False))
    assert engine.settings.for_file("parse/encoding", "lessons/a.md")[0] == "warning"  # family level
    assert engine.settings.for_file("parse/encoding", "drafts/x/a.md")[0] == "off"


def test_config_in_pyproject(tmp_path):
    (tmp_path / ".git").mkdir()  # a repository: discovery walks up to its root
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.coursecheck.course]\ncontent = ["docs/**/*.md"]\nbogus = 1\n', encoding="utf-8"
    )
    (tmp_path / "sub").mkdir()
    found = find_config(tmp_path / "sub")
    assert found == (tmp_path / "pyproject.toml").resolve()
    with pytest.raises(ConfigError) as info:
        load_config(found, tmp_path)
    assert str(info.value.problems[0]).startswith("pyproject.toml:6: course.bogus: unknown key")


def test_discovery_walks_upward_and_prefers_coursecheck_toml(tmp_path):
    (tmp_path / ".git").write_text("gitdir: elsewhere\n", encoding="utf-8")  # a worktree's .git is a file
    (tmp_path / "pyproject.toml").write_text("[tool.coursecheck]\n", encoding="utf-8")
    (tmp_path / ".coursecheck.toml").write_text("", encoding="utf-8")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == (tmp_path / ".coursecheck.toml").resolve()


def test_invalid_utf8_config(tmp_path):
    (tmp_path / ".coursecheck.toml").write_bytes(b'[course]\nid = "\xff"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / ".coursecheck.toml", tmp_path)
    assert str(info.value.problems[0]) == ".coursecheck.toml:2: not valid UTF-8"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{path}", "02-module-2/01-x"),
        ("{dir|unnumbered}/{stem}", "module-2/01-x"),
        ("/course/{path}", "/course/02-module-2/01-x"),
        ("{path|unnumbered}", "module-2/x"),
        ("{module}", "02-module-2"),
        ("{name}", "01-x.mdx"),
    ],
)
def test_lesson_id_templates(template, expected):
    assert expand_template(template, "02-module-2/01-x.mdx") == expected


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("src/**/*.mdx", "src/a/b/c.mdx", True),
        ("src/**/*.mdx", "src/c.mdx", True),
        ("src/**/*.mdx", "srcx/c.mdx", False),
        ("*.md", "deep/x/readme.md", True),
        ("content/**/*.{md,mdx}", "content/a/x.md", True),
        ("content/**/*.{md,mdx}", "content/a/x.json", False),
        ("drafts/", "drafts/a/b.md", True),
        ("data/[!_]*.json", "data/_x.json", False),
    ],
)
def test_globs(pattern, path, matched):
    assert bool(compile_glob(pattern).match(path)) is matched


def test_literal_base():
    assert literal_base("src/content/course/**/*.mdx") == "src/content/course"
    assert literal_base("**/*.md") == ""
