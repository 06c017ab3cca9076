"""Configuration from outside the repository, and the isolated mode (issue 17).

A config found in a parent folder outside the repository (a shared /tmp, another user's
home) is never used: its plugins would run code. ``--isolated`` (or COURSECHECK_ISOLATED=1)
loads no plugin but coursecheck's own and runs no ``[report] build``: a plugin or build that
would leave a marker file proves it did not run.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from coursecheck import config as config_module
from coursecheck import plugins as plugins_module
from coursecheck.config import discover_config, repository_root
from coursecheck.plugins import isolated_by_env

MARKER_PLUGIN = """\
from pathlib import Path

from coursecheck import hookimpl

Path({marker!r}).write_text("plugin ran", encoding="utf-8")


@hookimpl
def coursecheck_commands():
    return {{"evil-cmd": ("a command of the local plugin", lambda argv: 0)}}
"""

STAMP = "2024-01-01T00:00:00Z"


@pytest.fixture(autouse=True)
def _no_installed_plugins(monkeypatch):
    """The messages below name exactly what was left out: none of the plugins installed in
    the environment running the suite (a test that needs one installs a fake)."""
    monkeypatch.setattr(plugins_module, "_entry_points", lambda: iter(()))
LESSON = "# Урок\n\n```bash\necho\n"  # an unclosed fence: parse/unterminated-fence (built in)


def _repository(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir()
    return root


def _config_with_plugin(folder: Path, marker: Path, extra: str = "") -> Path:
    (folder / "evil.py").write_text(MARKER_PLUGIN.format(marker=str(marker)), encoding="utf-8")
    config = folder / ".coursecheck.toml"
    config.write_text('plugins = ["evil.py"]\n' + textwrap.dedent(extra), encoding="utf-8")
    return config


# -- discovery stops at the repository root -------------------------------------------------


def test_a_config_in_a_parent_folder_outside_the_repository_is_not_used(tmp_path, cli):
    marker = tmp_path / "plugin-ran"
    _config_with_plugin(tmp_path, marker)  # e.g. /tmp/.coursecheck.toml, planted by someone
    repo = _repository(tmp_path / "repo")
    (repo / "lesson.md").write_text(LESSON, encoding="utf-8")
    code, out, err = cli(repo, "--no-cache")
    assert not marker.exists()
    assert (
        f"coursecheck: no .coursecheck.toml found (looked for .coursecheck.toml, coursecheck.toml or "
        f"[tool.coursecheck] in pyproject.toml in {repo.resolve()}, the repository root); checking **/*.md and "
        "**/*.mdx with defaults (run `coursecheck init` to write a config)"
    ) in err.splitlines()
    assert "lesson.md:3:1: warning parse/unterminated-fence" in out
    assert code == 0


def test_discovery_walks_up_inside_the_repository_only(tmp_path):
    (tmp_path / ".coursecheck.toml").write_text("", encoding="utf-8")  # above the repository
    repo = _repository(tmp_path / "repo")
    deep = repo / "content" / "module"
    deep.mkdir(parents=True)
    found = discover_config(deep)
    assert found.path is None
    assert found.repository == repo.resolve()
    assert found.searched == [deep.resolve(), (repo / "content").resolve(), repo.resolve()]
    (repo / "pyproject.toml").write_text("[tool.coursecheck]\n", encoding="utf-8")
    assert discover_config(deep).path == (repo / "pyproject.toml").resolve()


def test_outside_a_repository_only_the_current_folder_is_searched(tmp_path, cli):
    if repository_root(tmp_path.resolve()) is not None:
        pytest.skip("the temporary folder is inside a git repository")
    marker = tmp_path / "plugin-ran"
    _config_with_plugin(tmp_path, marker)
    sub = tmp_path / "sub"
    sub.mkdir()
    found = discover_config(sub)
    assert (found.path, found.repository, found.searched) == (None, None, [sub.resolve()])
    _code, _out, err = cli(sub, "--no-cache")
    assert not marker.exists()
    assert f"in {sub.resolve()} only: it is not inside a git repository);" in err
    # In the folder itself, the user's own config is used (and its plugin loads, by design).
    assert discover_config(tmp_path).path == (tmp_path / ".coursecheck.toml").resolve()


def test_outside_a_repository_a_config_of_another_user_is_refused(tmp_path, cli, monkeypatch):
    if repository_root(tmp_path.resolve()) is not None:
        pytest.skip("the temporary folder is inside a git repository")
    marker = tmp_path / "plugin-ran"
    config = _config_with_plugin(tmp_path, marker)
    owner = config.stat().st_uid
    monkeypatch.setattr(config_module.loading, "_current_uid", lambda: owner + 4242)  # someone else runs it
    found = discover_config(tmp_path)
    assert found.path is None
    assert found.refused == [
        (config.resolve(), f"owned by another user (uid {owner}); pass it with --config to use it")
    ]
    code, _out, err = cli(tmp_path, "--no-cache", "--isolated")
    assert code == 0 and not marker.exists()
    assert (
        f"; not used: {config.resolve()}, owned by another user (uid {owner}); pass it with --config to use it)"
    ) in err
    # Inside a repository the checkout is what the user asked to check: no ownership rule.
    (tmp_path / ".git").mkdir()
    assert discover_config(tmp_path).path == config.resolve()


# -- --isolated and COURSECHECK_ISOLATED ----------------------------------------------------

ISOLATED_CONFIG = """
extends = ["recommended"]
[course]
content = ["*.md"]
[rules]
"team/x" = "error"          # a rule of the plugin: not an error when plugins are off
[team]
setting = 1                 # a section of the plugin: the same
[report]
build = "touch build-ran"

[[rule]]
id = "house/todo"
kind = "existence"
terms = ["TODO"]
message = "work marker '{match}' left"
"""


def _isolated_course(tmp_path: Path) -> tuple[Path, Path]:
    repo = _repository(tmp_path / "repo")
    marker = tmp_path / "plugin-ran"
    _config_with_plugin(repo, marker, ISOLATED_CONFIG)
    (repo / "lesson.md").write_text("# Урок\n\nTODO: дописать.\n\n```bash\necho\n", encoding="utf-8")
    return repo, marker


@pytest.mark.parametrize("how", ["flag", "env"])
def test_isolated_loads_no_local_plugin_and_says_so(tmp_path, cli, monkeypatch, how):
    repo, marker = _isolated_course(tmp_path)
    if how == "env":
        monkeypatch.setenv("COURSECHECK_ISOLATED", "1")
    args = ["--no-cache", "--isolated"] if how == "flag" else ["--no-cache"]
    code, out, err = cli(repo, *args)
    assert not marker.exists(), "the local plugin ran"
    by = "--isolated" if how == "flag" else "COURSECHECK_ISOLATED=1"
    lines = out.splitlines()
    # Built-in rules, the config's declarative rules and shipped packs still run.
    assert "lesson.md:3:1: warning house/todo work marker 'TODO' left" in lines
    assert "lesson.md:5:1: warning parse/unterminated-fence code fence ``` is never closed" in lines
    assert f"coursecheck: warning: {by}: not loaded: the config's plugin evil.py; their rules did not run" in lines
    assert (
        f"coursecheck: warning: {by}: settings for rules and sections no loaded plugin provides were not checked "
        "and have no effect: rules.team/x, team"
    ) in lines
    assert code == 0, out + err


def test_without_isolation_the_same_plugin_runs(tmp_path, cli):
    repo, marker = _isolated_course(tmp_path)
    code, _out, err = cli(repo, "--no-cache")
    assert marker.read_text(encoding="utf-8") == "plugin ran"  # the marker proves the test can fail
    assert code == 2 and "rules.team/x: unknown rule" in err  # the plugin defines no such rule


@pytest.mark.parametrize(
    "command",
    [
        ["report"],
        ["graph"],
        ["terms"],
        ["test-rules"],
        ["rules"],
        ["rule", "house/todo"],
        ["init", "--stdout"],
    ],
    ids=lambda c: c[0],
)
def test_every_command_that_loads_a_config_honours_isolation(tmp_path, cli, monkeypatch, command):
    repo, marker = _isolated_course(tmp_path)
    monkeypatch.setenv("COURSECHECK_ISOLATED", "yes")
    code, out, err = cli(repo, *command)
    assert not marker.exists(), f"the local plugin ran in `coursecheck {command[0]}`"
    assert code in (0, 1), out + err
    code, out, err = cli(repo, *command, "--isolated")
    assert not marker.exists()
    assert code in (0, 1), out + err


@pytest.mark.parametrize("command", [["rules"], ["rule", "house/todo"], ["graph"], ["terms"], ["test-rules"]])
def test_subcommands_say_what_isolation_left_out(tmp_path, cli, command):
    repo, _marker = _isolated_course(tmp_path)
    _code, _out, err = cli(repo, *command, "--isolated")
    assert "--isolated: not loaded: the config's plugin evil.py; their rules did not run" in err


def test_merge_of_isolated_shards_loads_no_plugin(tmp_path, cli):
    repo, marker = _isolated_course(tmp_path)
    code, _out, err = cli(repo, "--isolated", "--no-cache", "--shard", "1/1", "-o", "s.ccshard")
    assert code == 0, err
    code, out, err = cli(repo, "merge", "s.ccshard", "--isolated")
    assert not marker.exists()
    assert "lesson.md:3:1: warning house/todo work marker 'TODO' left" in out.splitlines()
    assert code == 0, out + err


def test_isolated_never_runs_the_report_build(tmp_path, cli):
    repo, _marker = _isolated_course(tmp_path)
    code, out, err = cli(repo, "report", "--isolated", "--no-cache", "--run-build", "--timestamp", STAMP)
    assert not (repo / "build-ran").exists()
    assert "### Build Verification" not in out
    assert "- warning: --isolated: the \\[report\\] build command was not run (--run-build ignored)" in out.splitlines()
    assert "coursecheck: warning: --isolated: the [report] build command was not run (--run-build ignored)" in err
    assert code == 0, out + err


def test_no_plugins_turns_off_local_plugins_but_not_the_build(tmp_path, cli):
    repo, marker = _isolated_course(tmp_path)
    code, out, err = cli(repo, "report", "--no-plugins", "--no-cache", "--run-build", "--timestamp", STAMP)
    assert not marker.exists()
    assert (repo / "build-ran").exists()  # the build is --isolated's to refuse, not --no-plugins'
    assert "coursecheck: warning: --no-plugins: not loaded: the config's plugin evil.py" in err
    assert code == 0, out + err


def test_isolated_loads_no_installed_plugin(tmp_path, cli, monkeypatch):
    loaded: list[str] = []

    def load() -> object:
        loaded.append("team-rules")
        return SimpleNamespace()

    fake = SimpleNamespace(name="team-rules", value="team_rules:plugin", load=load)
    monkeypatch.setattr(plugins_module, "_entry_points", lambda: iter([fake]))
    root = _repository(tmp_path / "repo")
    (root / ".coursecheck.toml").write_text('[course]\ncontent = ["*.md"]\n', encoding="utf-8")
    (root / "lesson.md").write_text("# A\n\ntext\n", encoding="utf-8")
    code, out, _err = cli(root, "--no-cache", "--isolated")
    assert loaded == [] and code == 0
    assert "coursecheck: warning: --isolated: not loaded: installed plugin team-rules; their rules did not run" in out
    # Subcommands of installed plugins are not looked up either when isolated.
    monkeypatch.setenv("COURSECHECK_ISOLATED", "1")
    cli(root, "some-plugin-command")
    assert loaded == []
    monkeypatch.delenv("COURSECHECK_ISOLATED")
    cli(root, "--no-cache")
    assert loaded == ["team-rules"]  # without isolation it loads: the fake is wired in


def test_a_typo_of_a_built_in_rule_is_still_an_error_when_isolated(tmp_path, cli):
    repo, _marker = _isolated_course(tmp_path)
    config = repo / ".coursecheck.toml"
    text = config.read_text(encoding="utf-8").replace('"team/x" = "error"', '"parse/unterminated-fenc" = "error"')
    config.write_text(text, encoding="utf-8")
    code, _out, err = cli(repo, "--no-cache", "--isolated")
    assert code == 2
    assert "rules.parse/unterminated-fenc: unknown rule; did you mean 'parse/unterminated-fence'?" in err


@pytest.mark.parametrize(
    ("value", "isolated"),
    [("", False), ("0", False), ("false", False), ("No", False), ("off", False), ("1", True), ("yes", True),
     ("on", True), ("2", True)],
)
def test_the_environment_variable(monkeypatch, value, isolated):
    monkeypatch.setenv("COURSECHECK_ISOLATED", value)
    assert isolated_by_env() is isolated


def test_help_says_what_the_flags_turn_off(tmp_path, cli):
    code, out, _err = cli(tmp_path, "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert (
        "--no-plugins load no plugin but coursecheck's own: neither installed plugin packages (entry points) nor "
        "the config's plugins = [...]; the built-in rules, shipped packs and the config's [[rule]] definitions "
        "still run"
    ) in flat
    assert (
        "--isolated for untrusted branches (CI on pull requests, a contributor's branch): --no-plugins, never run "
        "[report] build (--run-build is ignored, with a notice), and use no cache folder inside the checkout (only "
        "a --cache-dir given); the same as COURSECHECK_ISOLATED=1"
    ) in flat


def test_isolated_leaves_the_cache_folder_of_the_checkout_alone(tmp_path, cli):
    repo, _marker = _isolated_course(tmp_path)
    planted = repo / ".coursecheck-cache"
    planted.mkdir()
    (planted / "planted").write_bytes(b"whatever a branch committed")
    code, out, err = cli(repo, "--isolated")
    assert sorted(p.name for p in planted.rglob("*")) == ["planted"]  # neither read nor written
    assert (
        "coursecheck: warning: --isolated: the cache folder .coursecheck-cache/ in the checkout was neither read nor "
        "written (--cache-dir DIR names one to use)"
    ) in out.splitlines()
    assert code == 0, out + err
    own = tmp_path / "my-cache"
    cli(repo, "--isolated", "--cache-dir", str(own))
    assert any(own.rglob("*"))  # a cache the user names is used
    cli(repo, "--no-plugins")
    assert len(list(planted.rglob("*"))) > 1  # control: without isolation the cache is written there
