"""Shared helpers: build a small course in a temporary folder, run coursecheck on it."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from coursecheck.cli import main
from coursecheck.config import load_config
from coursecheck.engine import Engine, Result, RunOptions
from coursecheck.model import Finding

DEFAULT_CONFIG = """
[course]
content = ["content/**/*.{md,mdx}"]
data = ["data/*.{json,yaml,yml}"]
id = "{path}"
aliases = ["{dir|unnumbered}/{stem}", "/course/{path}"]
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")


@pytest.fixture(scope="session", autouse=True)
def _cache_key_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The cache's secret key (coursecheck.cache.secret_key) lives in a folder of the test
    session, not in the user's ~/.config; no key from the environment (subprocesses too)."""
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    os.environ.pop("COURSECHECK_CACHE_KEY", None)
    os.environ.pop("COURSECHECK_SHARD_KEY", None)


@pytest.fixture
def course(tmp_path: Path) -> Callable[..., Path]:
    """``course(files, config=DEFAULT_CONFIG)`` writes a course and its .coursecheck.toml."""

    def build(files: dict[str, str | bytes], config: str | None = DEFAULT_CONFIG) -> Path:
        write_files(tmp_path, files)
        if config is not None:
            (tmp_path / ".coursecheck.toml").write_text(textwrap.dedent(config), encoding="utf-8")
        return tmp_path

    return build


def check(root: Path, *, select: list[str] | None = None, paths: list[Path] | None = None) -> Result:
    """Run the engine on ``root`` (installed third-party plugins are not loaded)."""
    config = load_config(root / ".coursecheck.toml", root)
    options = RunOptions(paths=paths or [], select=select or [], entry_points=False)
    return Engine(config, options).run()


def lint(
    tmp_path: Path,
    files: dict[str, str | bytes],
    *,
    config: str = DEFAULT_CONFIG,
    select: list[str] | None = None,
) -> list[Finding]:
    """Findings (unsuppressed) of a course made of ``files``; ``select`` limits rules."""
    write_files(tmp_path, files)
    (tmp_path / ".coursecheck.toml").write_text(textwrap.dedent(config), encoding="utf-8")
    return check(tmp_path, select=select).active


def where(findings: list[Finding], rule_id: str | None = None) -> list[tuple[str, str, int, int]]:
    """``(rule, path, line, column)`` of findings, for exact assertions."""
    return [
        (f.rule_id, f.path, f.span.line, f.span.column) for f in findings if rule_id is None or f.rule_id == rule_id
    ]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``cli(root, *args)`` runs ``coursecheck ARGS`` in ``root``: (exit code, stdout, stderr)."""

    def run(root: Path, *args: str) -> tuple[int, str, str]:
        monkeypatch.chdir(root)
        monkeypatch.setenv("NO_COLOR", "1")
        capsys.readouterr()
        code = main([*args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


REPO = Path(__file__).resolve().parent.parent
# The shared corpora beside the checkout (../shared); COURSECHECK_SHARED for a worktree elsewhere.
SHARED = Path(os.environ.get("COURSECHECK_SHARED", REPO.parent / "shared"))
CORPUS = Path(os.environ.get("COURSECHECK_CORPUS", SHARED / "corpora" / "debezium-course-07"))


# Whole modules that are slow by nature (`pytest -m "not slow"` is the quick loop; tests that
# take a second or more elsewhere carry @pytest.mark.slow): the real corpora, the language
# server driven as an editor would, a virtual environment built to install the plugins.
SLOW_MODULES = ("test_external_plugins.py", "test_lsp.py", "test_lsp_pull.py", "test_lsp_neovim.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if path.parent.name == "acceptance" or path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
