"""Third-party plugins installed with pip and found through the ``coursecheck`` entry points.

A temporary virtual environment (``--system-site-packages``: coursecheck and its
dependencies come from this interpreter, nothing is downloaded) gets the two plugins of
``plugins/`` installed editable, plus a small broken plugin written here. coursecheck then
runs in that environment as a user would run it. Skipped when a venv cannot be made or pip
cannot install offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest
from conftest import REPO, write_files

PLUGINS = REPO / "plugins"

BROKEN_PYPROJECT = """
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "coursecheck-broken-example"
version = "0.0.1"

[project.entry-points.coursecheck]
broken = "coursecheck_broken_example"
"""

BROKEN_MODULE = '''
"""A plugin whose hooks fail: coursecheck must report it and go on."""
from coursecheck import hookimpl
from coursecheck.rules import rule


@rule("broken/crash", level="warning")
def crash(doc, ctx):
    """Crashes on every document."""
    raise ValueError("the plugin author forgot a case")


@hookimpl
def coursecheck_rules():
    return [crash]


@hookimpl
def coursecheck_reporters():
    raise RuntimeError("reporters exploded")
'''


def _run(args: list[str], cwd: Path, timeout: int = 60, offline: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if offline:
        env["PIP_NO_INDEX"] = "1"
    env.pop("PYTHONPATH", None)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _see_this_interpreters_packages(python: Path) -> None:
    """``system_site_packages`` gives the new venv the *base* interpreter's packages: when this
    suite itself runs in a virtual environment (the README's way), coursecheck is not there.
    A ``.pth`` file in the new venv adds this interpreter's site-packages after its own."""
    import site
    import sysconfig

    folders = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    found = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # An "import" line of a .pth file runs: addsitedir also processes the .pth files there
    # (an editable install of coursecheck is one).
    lines = [f"import site; site.addsitedir({folder!r})" for folder in sorted(folders)]
    Path(found, "coursecheck-suite.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def env_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("plugins-venv")
    target = base / "venv"
    try:
        venv.EnvBuilder(system_site_packages=True, with_pip=False).create(target)
    except Exception as exc:  # pragma: no cover - platforms without venv
        pytest.skip(f"cannot create a virtual environment: {exc}")
    python = target / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _see_this_interpreters_packages(python)
    broken = base / "broken"
    write_files(
        broken,
        {
            "pyproject.toml": textwrap.dedent(BROKEN_PYPROJECT),
            "coursecheck_broken_example.py": textwrap.dedent(BROKEN_MODULE),
        },
    )
    pip = [str(python), "-m", "pip", "install", "-q"]
    for package in (PLUGINS / "coursecheck-planning", PLUGINS / "coursecheck-plugin-template", broken):
        # pip and setuptools come from the system site-packages; no build environment is made.
        editable = [*pip, "--no-build-isolation", "--no-deps", "-e", str(package)]
        done = _run(editable, base, timeout=120)
        if done.returncode != 0 and "bdist_wheel" in done.stderr:
            # setuptools < 70.1 builds editables through the `wheel` package: install it in
            # the venv once, with pip's own configuration (an index or a wheel folder).
            _run([*pip, "wheel"], base, timeout=120, offline=False)
            done = _run(editable, base, timeout=120)
        if done.returncode != 0:
            pytest.skip(f"cannot install {package.name}: {done.stderr.strip()[-400:]}")
    return python


def test_plugins_are_found_through_entry_points(env_python, tmp_path):
    done = _run([str(env_python), "-m", "coursecheck", "rules"], tmp_path)
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert {"template/heading-period", "broken/crash"} <= listed
    assert "Traceback" not in done.stdout + done.stderr
    # ... and not in this interpreter: the suite's own environment stays untouched.
    here = subprocess.run(
        [sys.executable, "-c", "import importlib.util as u; print(u.find_spec('coursecheck_plugin_template'))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert here.stdout.strip() == "None"


def test_an_installed_rule_fires_and_a_broken_plugin_is_reported_cleanly(env_python, tmp_path):
    write_files(
        tmp_path,
        {
            ".coursecheck.toml": '[course]\ncontent = ["**/*.md"]\n\n[[rule]]\nid = "team/short"\nkind = "long-heading"\nmax-words = 3\n',
            "lesson.md": "# Урок\n\nТекст.\n\n## Настройка коннектора для продакшена.\n",
        },
    )
    select = "template,team,broken,core"
    done = _run([str(env_python), "-m", "coursecheck", "--format", "json", "--select", select], tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    data = json.loads(done.stdout)
    found = sorted((f["rule"], f["path"], f["line"], f["column"]) for f in data["findings"])
    assert found == [
        ("core/internal-error", "lesson.md", 1, 1),  # broken/crash raised; the run went on
        ("team/short", "lesson.md", 5, 4),
        ("template/heading-period", "lesson.md", 5, 39),
    ]
    messages = [n["message"] for n in data["notifications"]]
    assert any(
        "plugin 'broken' raised in coursecheck_reporters: RuntimeError: reporters exploded" in m for m in messages
    )
    assert any(
        "rule broken/crash crashed on lesson.md: ValueError: the plugin author forgot a case" in m for m in messages
    )


def test_the_planning_plugin_reads_plans_when_installed(env_python, tmp_path):
    plan = textwrap.dedent(
        """\
        ---
        phase: 01-intro
        plan: 01
        must_haves:
          artifacts:
            - path: lesson.md
              provides: The lesson
              min_lines: 50
        ---
        Covers INTRO-01.
        """
    )
    write_files(
        tmp_path,
        {
            ".coursecheck.toml": '[course]\ncontent = ["*.md"]\n\n[planning]\n',
            "lesson.md": "# Урок\n\nТекст\n",
            ".planning/phases/01-intro/01-01-PLAN.md": plan,
        },
    )
    done = _run([str(env_python), "-m", "coursecheck", "--format", "json", "--select", "musthave"], tmp_path)
    assert done.returncode == 1, done.stderr
    found = [(f["rule"], f["path"], f["line"], f["column"]) for f in json.loads(done.stdout)["findings"]]
    assert found == [
        ("musthave/requirement", ".planning/phases/01-intro/01-01-PLAN.md", 10, 1),
        ("musthave/artifact", "lesson.md", 1, 1),
    ]
