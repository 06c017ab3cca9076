"""Whole-run replay (coursecheck.replay): a run whose every input is unchanged writes the
last run's output file, stdout, stderr and exit code again without running; any change to
an input, the command or the store means a normal run with the right outputs."""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import write_files

from coursecheck import replay
from coursecheck.cli import main
from coursecheck.engine import Engine

CONFIG = """
[course]
content = ["content/**/*.{md,mdx}"]
data = ["data/*.json"]
id = "{path}"
aliases = ["{dir|unnumbered}/{stem}", "/course/{path}"]

[glossary]
file = "glossary/terms.json"
fields = { term = "term", english = "termEn" }
"""

INTRO = """---
title: Введение
---

# Введение

Контейнер запускает процесс. Смотрите [дальше](/course/01-basics/02-next).
"""

NEXT = """---
title: Дальше
prerequisites: ["01-basics/01-intro"]
---

# Дальше

Ссылка в [никуда](/course/01-basics/99-missing). TODO: дописать.
"""

FILES = {
    "content/01-basics/01-intro.md": INTRO,
    "content/01-basics/02-next.md": NEXT,
    "data/quiz.json": '{"questions": []}\n',
    "glossary/terms.json": json.dumps([{"term": "Контейнер", "termEn": "Container"}], ensure_ascii=False),
}


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files the test wrote a moment ago are vouched for (no racy-timestamp margin)."""
    monkeypatch.setattr(replay, "RACY_NS", -(10**15))


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item per engine run (a replay makes none)."""
    counted: list[int] = []
    original = Engine.run

    def counting(self: Engine, *args: object, **kwargs: object) -> object:
        counted.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "run", counting)
    return counted


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "course"
    write_files(project, FILES)
    (project / ".coursecheck.toml").write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    monkeypatch.chdir(project)
    for name in ("NO_COLOR", "FORCE_COLOR", "CI"):
        monkeypatch.delenv(name, raising=False)
    return project


class Cli:
    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str], runs: list[int]) -> None:
        self.root = root
        self.capsys = capsys
        self.runs = runs
        self.cache = root.parent / "cache"

    def __call__(self, *argv: str, cache: bool = True) -> tuple[int, str, str, bool]:
        """Exit code, stdout, stderr, and whether the engine ran (False: replayed)."""
        before = len(self.runs)
        extra = ["--cache-dir", str(self.cache)] if cache else ["--no-cache"]
        code = main([*argv, "--no-progress", *extra])
        out, err = self.capsys.readouterr()
        return code, out, err, len(self.runs) > before


@pytest.fixture
def cli(root: Path, capsys: pytest.CaptureFixture[str], runs: list[int], trusting: None) -> Cli:
    return Cli(root, capsys, runs)


def _timeless(text: str) -> str:
    """Durations (every run has its own) as ``N.NNs``."""
    return re.sub(r"\d+\.\d\ds\)", "N.NNs)", text)


FORMATS = [
    ("text", None),
    ("text", "out.txt"),
    ("json", "out.json"),
    ("sarif", "cc.sarif"),
    ("github", None),
    ("markdown", "VERIFICATION.md"),
]


@pytest.mark.parametrize(("fmt", "output"), FORMATS)
def test_a_warm_run_writes_what_the_cold_run_wrote(cli: Cli, root: Path, fmt: str, output: str | None) -> None:
    argv = ["report"] if fmt == "markdown" else ["check", "--format", fmt]
    argv += ["--timestamp", "2026-01-02T03:04:05Z"]
    if output:
        argv += ["-o", output]
    cold = cli(*argv)
    cold_file = (root / output).read_bytes() if output else b""
    assert cold[3] and cold[0] == 1  # it ran; a broken link is an error
    warm = cli(*argv)
    assert not warm[3], "the unchanged run was replayed"
    assert warm[0] == cold[0]
    assert _timeless(warm[1]) == _timeless(cold[1])
    assert _timeless(warm[2]) == _timeless(cold[2])
    if output:
        assert _timeless((root / output).read_text("utf-8")) == _timeless(cold_file.decode())
        if fmt != "text":  # only the text summary shows the duration
            assert (root / output).read_bytes() == cold_file
    # And it is what a run without any cache writes.
    fresh = cli(*argv, cache=False)
    assert _timeless(fresh[1]) == _timeless(warm[1]) and fresh[0] == warm[0]
    if output:
        assert _timeless((root / output).read_text()) == _timeless(cold_file.decode())
    assert "graph/unresolved-reference" in (cold[1] + cold_file.decode())


def test_the_output_file_of_a_replay_is_byte_identical(cli: Cli, root: Path) -> None:
    argv = ["check", "-f", "sarif", "-o", "cc.sarif", "--timestamp", "2026-01-02T03:04:05Z", "-q"]
    cli(*argv)
    cold = (root / "cc.sarif").read_bytes()
    (root / "cc.sarif").unlink()
    assert not cli(*argv)[3]
    assert (root / "cc.sarif").read_bytes() == cold


@pytest.mark.parametrize(
    ("argv", "output", "stamp"),
    [
        (["check", "-f", "sarif", "-o", "cc.sarif"], "cc.sarif", r'"endTimeUtc": "([^"]+)"'),
        (["report", "-o", "V.md"], "V.md", r"verified: (\S+)"),
    ],
)
def test_a_replay_shows_its_own_time(cli: Cli, root: Path, argv: list[str], output: str, stamp: str) -> None:
    cli(*argv)
    cold = (root / output).read_text()
    _code, _out, err, ran = cli(*argv)
    assert not ran
    warm = (root / output).read_text()
    (cold_time,) = re.findall(stamp, cold)
    (warm_time,) = re.findall(stamp, warm)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", warm_time) and warm_time >= cold_time
    assert warm.replace(warm_time, cold_time) == cold  # the time is all that differs
    assert re.search(r"wrote \S+ \(.*; \d+\.\d\ds\)", err)  # the replay's own duration


def _edit_same_size(root: Path) -> None:
    path = root / "content/01-basics/02-next.md"
    text = path.read_text(encoding="utf-8")
    stat = path.stat()
    path.write_text(text.replace("99-missing", "98-missing"), "utf-8")
    assert path.stat().st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the modification time put back


def _new_lesson(root: Path) -> None:
    (root / "content/01-basics/03-more.md").write_text("# Ещё\n\nТекст. TODO: потом.\n", "utf-8")


def _new_lesson_in_new_folder(root: Path) -> None:
    (root / "content/02-deep/sub").mkdir(parents=True)
    (root / "content/02-deep/sub/01-x.md").write_text("# Икс\n\nTODO: потом.\n", "utf-8")


def _removed(root: Path) -> None:
    (root / "content/01-basics/02-next.md").unlink()


def _renamed(root: Path) -> None:
    (root / "content/01-basics/02-next.md").rename(root / "content/01-basics/02-later.md")


def _config(root: Path) -> None:
    with open(root / ".coursecheck.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[rules."graph/unresolved-reference"]\nlevel = "warning"\n')


def _data(root: Path) -> None:
    (root / "data/quiz.json").write_text('{"questions": [1}\n', "utf-8")


def _glossary(root: Path) -> None:
    terms = [{"term": "Контейнер", "termEn": "Container"}, {"term": "Образ", "termEn": "Image"}]
    (root / "glossary/terms.json").write_text(json.dumps(terms, ensure_ascii=False), "utf-8")


def _not_a_lesson(root: Path) -> None:
    (root / "content/01-basics/notes.txt").write_text("not matched by the globs", "utf-8")


@pytest.mark.parametrize(
    "change",
    [_edit_same_size, _new_lesson, _new_lesson_in_new_folder, _removed, _renamed, _config, _data, _glossary],
)
def test_a_changed_input_means_a_normal_run_with_the_right_outputs(cli: Cli, root: Path, change) -> None:
    argv = ["check", "-f", "json", "-o", "out.json"]
    cli(*argv)
    assert not cli(*argv)[3]
    change(root)
    code, _out, err, ran = cli(*argv)
    assert ran
    fresh = cli(*argv, cache=False)
    assert code == fresh[0] and _timeless(err) == _timeless(fresh[2])
    after = (root / "out.json").read_text()
    cli(*argv)
    assert (root / "out.json").read_text() == after
    assert not cli(*argv)[3]  # recorded again: the next unchanged run replays


def test_a_file_the_globs_do_not_take_leaves_the_replay_valid_but_its_folder_is_listed(cli: Cli, root: Path) -> None:
    argv = ["check", "-f", "json", "-o", "out.json"]
    cli(*argv)
    _not_a_lesson(root)
    # The folder's names changed: the run is not replayed (a file discovery might take).
    assert cli(*argv)[3]
    assert not cli(*argv)[3]


@pytest.mark.parametrize(
    "variant",
    [
        ["check", "-f", "json", "-o", "out.json", "--select", "graph"],
        ["check", "-f", "json", "-o", "other.json"],
        ["check", "-f", "json", "-o", "out.json", "--fail-level", "warning"],
        ["check", "-f", "text", "-o", "out.json"],
        ["check", "-f", "json", "-o", "out.json", "-q"],
        ["check", "-f", "json", "-o", "out.json", "content/01-basics/01-intro.md"],
    ],
)
def test_another_command_is_not_replayed_from_this_ones_entry(cli: Cli, variant: list[str]) -> None:
    cli("check", "-f", "json", "-o", "out.json")
    _code, _out, _err, ran = cli(*variant)
    assert ran
    assert not cli(*variant)[3]


def test_an_environment_variable_the_reporter_reads_is_part_of_the_key(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("check")
    assert not cli("check")[3]
    monkeypatch.setenv("NO_COLOR", "1")  # read with --color auto
    assert cli("check")[3]
    assert not cli("check")[3]
    monkeypatch.delenv("NO_COLOR")
    assert not cli("check")[3]  # the entry of the run without it is still there


@pytest.mark.parametrize(
    "flags", [["--fix"], ["--diff"], ["-v"], ["--write-baseline", "base.json"], ["--phase", "all"]]
)
def test_runs_that_write_files_or_print_the_cache_are_never_replayed(cli: Cli, flags: list[str]) -> None:
    cli("check", *flags)
    assert cli("check", *flags)[3]


def test_files_changed_just_before_the_run_are_not_vouched_for(
    root: Path, capsys: pytest.CaptureFixture[str], runs: list[int]
) -> None:
    run = Cli(root, capsys, runs)  # with the racy margin: the files were written a moment ago
    run("check")
    assert run("check")[3]


def _entry(cli: Cli) -> Path:
    (found,) = [p for p in (cli.cache / replay.FOLDER).iterdir() if replay._NAME.fullmatch(p.name)]
    return found


def _outputs(cli: Cli) -> Path:
    (found,) = [p for p in (cli.cache / replay.FOLDER).iterdir() if p.name.endswith(".out")]
    return found


def _flip_mac(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


def _forge_exit_code(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b'"code":1', b'"code":0'))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-40])


def _garbage(path: Path) -> None:
    path.write_bytes(b"coursecheck-replay\0" + os.urandom(200))


@pytest.mark.parametrize("damage", [_flip_mac, _forge_exit_code, _truncate, _garbage])
def test_a_damaged_or_forged_entry_means_a_normal_run(cli: Cli, root: Path, damage) -> None:
    argv = ["check", "-f", "sarif", "-o", "cc.sarif", "--timestamp", "2026-01-02T03:04:05Z"]
    cold = cli(*argv)
    cold_file = (root / "cc.sarif").read_bytes()
    damage(_entry(cli))
    code, _out, _err, ran = cli(*argv)
    assert ran and code == cold[0] == 1
    assert (root / "cc.sarif").read_bytes() == cold_file


def test_forged_outputs_are_not_written(cli: Cli, root: Path) -> None:
    argv = ["check", "-f", "sarif", "-o", "cc.sarif", "--timestamp", "2026-01-02T03:04:05Z"]
    cli(*argv)
    cold_file = (root / "cc.sarif").read_bytes()
    blob = _outputs(cli)
    data = blob.read_bytes()
    blob.write_bytes(data.replace(b"graph/unresolved-reference", b"graph/unresolved-referencX"))
    assert cli(*argv)[3]
    assert (root / "cc.sarif").read_bytes() == cold_file
    os.truncate(_outputs(cli), 10)
    assert cli(*argv)[3]
    assert (root / "cc.sarif").read_bytes() == cold_file


def test_an_entry_made_with_another_key_is_not_trusted(cli: Cli, tmp_path: Path, monkeypatch) -> None:
    from coursecheck import cache

    cli("check")
    monkeypatch.setattr(cache, "_SECRETS", {})
    monkeypatch.setenv("COURSECHECK_CACHE_KEY", "someone else")
    entry = _entry(cli)
    saved = entry.read_bytes()
    cli("check")  # another key: another name too; plant the first entry under the new name
    new_entry = _entry_named(cli, exclude=entry.name)
    new_entry.write_bytes(saved)
    assert cli("check")[3]


def _entry_named(cli: Cli, exclude: str) -> Path:
    (found,) = [
        p for p in (cli.cache / replay.FOLDER).iterdir() if replay._NAME.fullmatch(p.name) and p.name != exclude
    ]
    return found


def test_a_link_planted_as_the_entry_is_not_followed(cli: Cli, root: Path, tmp_path: Path) -> None:
    argv = ["check", "-f", "json", "-o", "out.json"]
    cli(*argv)
    entry = _entry(cli)
    elsewhere = tmp_path / "elsewhere"
    shutil.copy(entry, elsewhere)
    before = elsewhere.read_bytes()
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert cli(*argv)[3]  # the valid entry behind the link is not read
    assert cli(*argv)[3]  # (a link in the cache folder turns the cache off: nothing is stored)
    assert elsewhere.read_bytes() == before  # nor written through
    entry.unlink()
    cli(*argv)
    assert not cli(*argv)[3]


def test_a_link_planted_as_the_store_folder_is_not_used(cli: Cli, tmp_path: Path) -> None:
    argv = ["check", "-f", "json", "-o", "out.json"]
    cli(*argv)
    store = cli.cache / replay.FOLDER
    moved = tmp_path / "moved-store"
    store.rename(moved)
    store.symlink_to(moved, target_is_directory=True)
    listed = sorted(p.name for p in moved.iterdir())
    assert cli(*argv)[3]
    assert cli(*argv)[3]  # never replayed through the link
    assert sorted(p.name for p in moved.iterdir()) == listed  # nothing written through it


def test_the_store_keeps_one_entry_per_command_and_prunes(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay, "ENTRIES_KEPT", 2)
    for fmt in ("json", "sarif", "github"):
        cli("check", "-f", fmt)
        cli("check", "-f", fmt)
    store = cli.cache / replay.FOLDER
    names = [p.name for p in store.iterdir()]
    entries = [n for n in names if replay._NAME.fullmatch(n)]
    texts = [n for n in names if n.endswith(".txt")]
    assert len(entries) == 2 and len(texts) == 2 and not [n for n in names if n.endswith(".out")]
    assert sorted(n.partition(".")[0] for n in texts) == sorted(entries)
    cli("check", "-f", "sarif", "-o", "cc.sarif")
    cli("check", "-f", "sarif", "-o", "cc.sarif")  # replayed: the entry and its files stay as they are
    cli("check", "-f", "sarif", "-o", "cc.sarif", "-q")
    names = [p.name for p in store.iterdir()]
    assert len([n for n in names if replay._NAME.fullmatch(n)]) == 2
    assert len([n for n in names if n.endswith(".out")]) == 2 and len([n for n in names if n.endswith(".txt")]) == 2


def test_the_output_file_edited_in_place_is_not_what_a_replay_writes(cli: Cli, root: Path) -> None:
    argv = ["check", "-f", "json", "-o", "out.json"]
    cli(*argv)
    cold = (root / "out.json").read_bytes()
    with open(root / "out.json", "r+b") as handle:  # in place: the stored copy may share its inode
        handle.write(b"[]")
    cli(*argv)
    assert (root / "out.json").read_bytes() == cold
    assert not cli(*argv)[3]
    assert (root / "out.json").read_bytes() == cold


ARTIFACT_CONFIG = (
    CONFIG
    + """
[[artifact]]
path = "labs/notes.md"
provides = "Lab notes"
contains = ["Prometheus"]
"""
)


def test_a_file_a_course_rule_read_outside_the_globs_is_an_input(cli: Cli, root: Path) -> None:
    (root / ".coursecheck.toml").write_text(textwrap.dedent(ARTIFACT_CONFIG), encoding="utf-8")
    write_files(root, {"labs/notes.md": "# Notes\n\nPrometheus scrapes.\n"})
    argv = ["check", "-f", "json", "-o", "out.json"]
    cli(*argv)
    assert not cli(*argv)[3]
    before = json.loads((root / "out.json").read_text())
    (root / "labs/notes.md").write_text("# Notes\n\nGrafana draws.\n", "utf-8")  # outside every glob
    assert cli(*argv)[3]
    after = json.loads((root / "out.json").read_text())
    assert after != before
    assert not cli(*argv)[3]


def test_a_package_installed_since_is_seen(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    cli("check")
    assert not cli("check")[3]
    (site / "coursecheck_extra-1.0.dist-info").mkdir()  # a plugin could come with it
    assert cli("check")[3]
    assert not cli("check")[3]


def test_coursecheck_edited_since_is_seen(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "package"
    package.mkdir()
    module = package / "module.py"
    module.write_text("X = 1\n", "utf-8")
    original = replay._code_paths

    def with_module() -> tuple[list[str], list[str]]:
        folders, files = original()
        return [*folders, str(package)], [*files, str(module)]

    monkeypatch.setattr(replay, "_code_paths", with_module)
    cli("check")
    assert not cli("check")[3]
    module.write_text("X = 2\n", "utf-8")
    assert cli("check")[3]
    (package / "new.py").write_text("", "utf-8")
    assert cli("check")[3]
    assert not cli("check")[3]


PLUGIN = """
from coursecheck import hookimpl


@hookimpl
def coursecheck_report_sections(result):
    return [("Team", "read from anywhere")]
"""


def test_a_run_with_a_plugin_is_never_replayed(cli: Cli, root: Path) -> None:
    write_files(root, {"tools/team.py": PLUGIN})
    (root / ".coursecheck.toml").write_text('plugins = ["tools/team.py"]\n' + textwrap.dedent(CONFIG), "utf-8")
    argv = ["report", "-o", "V.md"]
    cli(*argv)
    assert cli(*argv)[3]  # its hooks may read anything: no entry
    assert "read from anywhere" in (root / "V.md").read_text("utf-8")
    assert not (cli.cache / replay.FOLDER).exists() or not [
        p for p in (cli.cache / replay.FOLDER).iterdir() if replay._NAME.fullmatch(p.name)
    ]


def test_a_replayed_report_loads_no_plugin_to_find_its_command(
    cli: Cli, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coursecheck import cli as app

    asked: list[bool] = []
    original = app.plugin_commands
    monkeypatch.setattr(app, "plugin_commands", lambda *a, **k: asked.append(True) or original(*a, **k))
    argv = ["report", "-o", "V.md", "--timestamp", "2026-01-02T03:04:05Z"]
    cold = cli(*argv)
    cold_file = (root / "V.md").read_bytes()
    assert asked and cold[3]
    asked.clear()
    warm = cli(*argv)
    assert not asked and not warm[3]
    assert (root / "V.md").read_bytes() == cold_file and warm[0] == cold[0]
    assert _timeless(warm[2]) == _timeless(cold[2]) and warm[1] == cold[1]
    # An argument error is reported once, by the command itself.
    code, _out, err, _ran = cli("report", "--no-such-flag")
    assert code == 2 and err.count("unrecognized arguments") == 1
    (root / "content/01-basics/01-intro.md").write_text(INTRO + "\nЕщё.\n", "utf-8")
    changed = cli(*argv)
    assert asked and changed[3] and _timeless(changed[2]) == _timeless(cold[2])
