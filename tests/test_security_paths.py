"""Containment: every path coursecheck reads or writes on a repository's behalf resolves
inside the project root (and out of its .git folder); links that stay inside keep working.

Each test plays an attacker who controls the repository's files (a pull request from a
fork): links committed in the tree, paths written in the config. The secret is a token in
a file outside the project root (a runner's home) or in ``.git/config`` (where CI checkouts
keep the job's token); it must appear in no output format, and nothing outside the root may
be written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, check, where

from coursecheck import fsutil

TOKEN = "ghs_SECRETTOKEN7f3a"
SECRET_CONFIG = f'[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic {TOKEN}\n'
LESSON = "---\ntitle: Введение\n---\n# Введение\n\nТекст урока.\n"
# A repository-defined rule that quotes what it matched: the way a secret would leak.
QUOTING_RULE = """
[[rule]]
id = "team/auth"
kind = "existence"
terms = ['AUTHORIZATION[^\\n]*', 'ghs_\\w+']
regex = true
scope = ["prose", "code", "file"]
level = "error"
message = "found {match}"
"""
FORMATS = ("text", "json", "sarif", "github", "markdown")


@pytest.fixture
def attack(tmp_path):
    """``(repo, outside)``: a project root with a .git/config holding the token, and a
    folder outside it (a runner's home) holding secret files."""
    repo, outside = tmp_path / "repo", tmp_path / "home"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "config").write_text(SECRET_CONFIG, encoding="utf-8")
    (repo / "content").mkdir()
    (repo / "content" / "01-intro.md").write_text(LESSON, encoding="utf-8")
    outside.mkdir()
    (outside / "secret.md").write_text(f"# Secret\n\nAUTHORIZATION: basic {TOKEN}\n", encoding="utf-8")
    (outside / "secret.json").write_text(json.dumps([{"term": TOKEN, "termEn": TOKEN}]), encoding="utf-8")
    (outside / "bashrc").write_text("export PATH=/usr/bin\n", encoding="utf-8")
    return repo, outside


def configure(repo: Path, extra: str = "", base: str = DEFAULT_CONFIG) -> None:
    (repo / ".coursecheck.toml").write_text(textwrap.dedent(base) + textwrap.dedent(extra), encoding="utf-8")


def outputs(cli, repo: Path, *args: str) -> dict[str, tuple[int, str]]:
    """Every output format's exit code and stdout+stderr for ``coursecheck ARGS``."""
    seen = {}
    for fmt in FORMATS:
        code, out, err = cli(repo, "--no-cache", "-f", fmt, *args)
        assert "Traceback" not in out + err and "internal error" not in err, err
        seen[fmt] = (code, out + err)
    return seen


def assert_not_leaked(seen: dict[str, tuple[int, str]]) -> None:
    for fmt, (_code, text) in seen.items():
        assert TOKEN not in text, f"the token reached the {fmt} output"
        assert "SECRETTOKEN" not in text, fmt


# -- lessons and data files that are links ------------------------------------------------


def test_a_lesson_linked_to_git_config_is_reported_and_never_read(attack, cli):
    repo, _ = attack
    configure(repo, QUOTING_RULE)
    os.symlink("../.git/config", repo / "content" / "02-notes.md")
    result = check(repo)
    assert where(result.active, "parse/outside-root") == [("parse/outside-root", "content/02-notes.md", 1, 1)]
    (finding,) = [f for f in result.active if f.rule_id == "parse/outside-root"]
    assert finding.message.startswith("is a symbolic link to '../.git/config', leading into .git")
    assert where(result.active, "team/auth") == []
    seen = outputs(cli, repo)
    assert_not_leaked(seen)
    assert all(code == 1 for code, _ in seen.values())
    assert "content/02-notes.md:1:1: error parse/outside-root" in seen["text"][1]
    assert "::error file=content/02-notes.md,line=1,col=1" in seen["github"][1]
    sarif = json.loads(seen["sarif"][1].split("\ncoursecheck:")[0])
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"parse/outside-root"}


def test_a_lesson_linked_outside_the_root_is_reported_and_never_read(attack, cli):
    repo, outside = attack
    configure(repo, QUOTING_RULE)
    os.symlink(outside / "secret.md", repo / "content" / "02-notes.md")  # absolute target
    os.symlink("../../home/secret.md", repo / "content" / "03-more.md")  # relative target
    result = check(repo)
    assert where(result.active, "parse/outside-root") == [
        ("parse/outside-root", "content/02-notes.md", 1, 1),
        ("parse/outside-root", "content/03-more.md", 1, 1),
    ]
    assert "leading outside the project root; not followed" in result.active[0].message
    assert_not_leaked(outputs(cli, repo))
    _code, out, _err = cli(repo, "--no-cache", "-f", "json")
    outline = {d["path"]: d for d in json.loads(out)["files"]}  # the JSON outline of each file
    assert outline["content/02-notes.md"]["headings"] == [] and outline["content/02-notes.md"]["lines"] <= 1


def test_a_data_file_linked_outside_the_root_is_reported_and_never_read(attack, cli):
    repo, outside = attack
    (repo / "data").mkdir()
    os.symlink(outside / "secret.json", repo / "data" / "glossary.json")
    configure(repo, '\n[glossary]\nfile = "data/glossary.json"\n')
    result = check(repo)
    assert where(result.active, "parse/outside-root") == [("parse/outside-root", "data/glossary.json", 1, 1)]
    assert_not_leaked(outputs(cli, repo))


def test_the_folder_of_a_content_glob_linked_outside_is_not_walked(attack, cli):
    repo, outside = attack
    (outside / "course").mkdir()
    (outside / "course" / "01-x.md").write_text(f"# X\n\n{TOKEN}\n", encoding="utf-8")
    os.symlink(outside / "course", repo / "lessons")
    configure(repo, QUOTING_RULE, base='[course]\ncontent = ["content/**/*.md", "lessons/**/*.md"]\n')
    result = check(repo)
    assert where(result.active, "parse/outside-root") == [("parse/outside-root", "lessons", 1, 1)]
    assert result.files == ["content/01-intro.md"]
    assert_not_leaked(outputs(cli, repo))


def test_a_link_to_a_folder_outside_below_the_glob_is_not_followed(attack, cli):
    repo, outside = attack
    (outside / "course").mkdir()
    (outside / "course" / "01-x.md").write_text(f"# X\n\n{TOKEN}\n", encoding="utf-8")
    os.symlink(outside / "course", repo / "content" / "more")
    configure(repo, QUOTING_RULE)
    assert check(repo).files == ["content/01-intro.md"]
    assert_not_leaked(outputs(cli, repo))


# -- paths in the config ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("{outside}/secret.json", "is an absolute path; write it relative to the project root"),
        ("../home/secret.json", "leads outside the project root"),
        ("data/../../home/secret.json", "leads outside the project root"),
        (".git/config.json", "is inside .git"),
    ],
)
def test_glossary_file_outside_the_root_is_a_config_error(attack, cli, written, expected):
    repo, outside = attack
    configure(repo, f'\n[glossary]\nfile = "{written.format(outside=outside)}"\n')
    code, out, err = cli(repo, "--no-cache")
    assert code == 2
    line = (repo / ".coursecheck.toml").read_text(encoding="utf-8").splitlines().index(
        "file = " + f'"{written.format(outside=outside)}"'
    ) + 1
    assert f".coursecheck.toml:{line}: glossary.file: '" in err and expected in err
    assert TOKEN not in out + err


def test_extends_outside_the_root_is_a_config_error(attack, cli):
    repo, outside = attack
    (outside / "team.toml").write_text(f'[rules]\n"{TOKEN}" = "error"\n', encoding="utf-8")
    for written, expected in (
        (str(outside / "team.toml"), "is an absolute path"),
        ("../home/team.toml", "leads outside the project root"),
    ):
        configure(repo, "", base=f'extends = ["{written}"]\n' + DEFAULT_CONFIG)
        code, out, err = cli(repo, "--no-cache")
        assert code == 2, err
        assert f".coursecheck.toml:1: extends: rule pack '{written}' {expected}" in err
        assert TOKEN not in out + err
    os.symlink(outside / "team.toml", repo / "team.toml")
    configure(repo, "", base='extends = ["recommended", "./team.toml"]\n' + DEFAULT_CONFIG)
    code, out, err = cli(repo, "--no-cache")
    assert code == 2
    assert ".coursecheck.toml:1: extends: rule pack './team.toml': is a symbolic link to '" in err
    assert "leading outside the project root; not followed" in err
    assert TOKEN not in out + err


def test_shipped_packs_and_packs_inside_the_root_still_load(attack, cli):
    repo, _ = attack
    (repo / "packs").mkdir()
    (repo / "packs" / "team.toml").write_text('[rules]\n"anti-patterns/todo" = "error"\n', encoding="utf-8")
    os.symlink("packs/team.toml", repo / "team.toml")  # a link that stays inside
    configure(repo, "", base='extends = ["recommended", "packs/team.toml", "team.toml"]\n' + DEFAULT_CONFIG)
    code, _out, err = cli(repo, "--no-cache")
    assert code == 0, err


def test_a_discovered_config_linked_outside_is_refused(attack, cli):
    repo, outside = attack
    (outside / "cc.toml").write_text('[course]\ncontent = ["**/*.md"]\n', encoding="utf-8")
    os.symlink(outside / "cc.toml", repo / ".coursecheck.toml")
    code, _out, err = cli(repo, "--no-cache")
    assert code == 2
    assert ".coursecheck.toml: is a symbolic link to '" in err and "leading outside the project root" in err


# -- must-haves, key links, relative links ------------------------------------------------


MUSTHAVES = """
[[artifact]]
id = "dashboard"
path = "labs/dashboard.json"
contains = ["ghs_"]
json = ["[0].term"]

[[key-link]]
from = "labs/notes.md"
to = "content/01-intro.md"
verify = "pattern"
pattern = 'ghs_\\w+'
"""


def test_must_have_artifacts_and_key_links_through_links_are_not_read(attack, cli):
    repo, outside = attack
    (repo / "labs").mkdir()
    os.symlink(outside / "secret.json", repo / "labs" / "dashboard.json")
    os.symlink("../.git/config", repo / "labs" / "notes.md")
    configure(repo, MUSTHAVES)
    result = check(repo)
    assert where(result.active, "parse/outside-root") == [
        ("parse/outside-root", "labs/dashboard.json", 1, 1),
        ("parse/outside-root", "labs/notes.md", 1, 1),
    ]
    verdicts = {v.id: v for v in result.extra["verdicts"]}
    assert verdicts["dashboard"].status == "FAILED"
    assert "leads outside the project root or into .git; not read" in verdicts["dashboard"].evidence
    seen = outputs(cli, repo)
    code, out, err = cli(repo, "report", "--no-cache")
    seen["report"] = (code, out + err)
    assert_not_leaked(seen)
    assert "labs/dashboard.json" in out


def test_the_stored_course_stage_keeps_the_refused_links(attack, cli, tmp_path):
    repo, outside = attack
    (repo / "labs").mkdir()
    os.symlink(outside / "secret.json", repo / "labs" / "dashboard.json")
    configure(repo, MUSTHAVES.split("[[key-link]]")[0])
    first = cli(repo, "--cache-dir", str(tmp_path / "cache"))
    second = cli(repo, "--cache-dir", str(tmp_path / "cache"))  # the course stage comes from the cache
    assert first[1].rsplit("(", 1)[0] == second[1].rsplit("(", 1)[0]
    assert "labs/dashboard.json:1:1: error parse/outside-root" in second[1]


def test_a_relative_link_to_a_file_linked_outside_is_reported(attack):
    repo, outside = attack
    (repo / "files").mkdir()
    os.symlink(outside / "bashrc", repo / "files" / "setup")
    (repo / "content" / "02-setup.md").write_text(
        "# Настройка\n\n[скрипт](../files/setup), [вне](../../home/bashrc)\n", encoding="utf-8"
    )
    configure(repo)
    result = check(repo)
    assert where(result.active, "parse/outside-root") == [("parse/outside-root", "files/setup", 1, 1)]
    # A link written to leave the root is not looked at (nor judged): no existence oracle.
    assert where(result.active, "graph/unresolved-reference") == []


PLANNING = """
plugins = ["coursecheck_planning.plugin"]

[course]
content = ["content/**/*.md"]

[planning]
"""


@pytest.fixture
def planning(monkeypatch):
    src = Path(__file__).resolve().parent.parent / "plugins" / "coursecheck-planning" / "src"
    monkeypatch.syspath_prepend(str(src))


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('root = "/"', "planning.root: '/' is an absolute path"),
        ('root = "../home"', "planning.root: '../home' leads outside the project root"),
        (
            'requirements-file = "../../home/secret.md"',
            "planning.requirements-file: '../../home/secret.md' leads outside",
        ),
    ],
)
@pytest.mark.slow
def test_planning_paths_outside_the_root_are_config_errors(attack, cli, planning, setting, expected):
    repo, _ = attack
    configure(repo, "", base=PLANNING + setting + "\n")
    code, out, err = cli(repo, "--no-cache")
    assert code == 2
    line = (repo / ".coursecheck.toml").read_text(encoding="utf-8").splitlines().index(setting) + 1
    assert f".coursecheck.toml:{line}: {expected}" in err
    assert TOKEN not in out + err


def test_a_plan_linked_outside_the_root_is_not_read(attack, cli, planning):
    repo, outside = attack
    (outside / "07-01-PLAN.md").write_text(f'---\nmust_haves:\n  truths:\n    - "{TOKEN}"\n---\n', encoding="utf-8")
    phase = repo / ".planning" / "phases" / "07-x"
    phase.mkdir(parents=True)
    os.symlink(outside / "07-01-PLAN.md", phase / "07-01-PLAN.md")
    configure(repo, "", base=PLANNING)
    code, out, err = cli(repo, "--no-cache")
    assert code == 2
    assert "07-01-PLAN.md: is a symbolic link to '" in err and "leading outside the project root" in err
    assert TOKEN not in out + err


# -- links inside the root keep working -----------------------------------------------------


def test_links_that_stay_inside_the_root_keep_working(tmp_path):
    root = tmp_path / "repo"
    (root / "src" / "course").mkdir(parents=True)
    (root / "src" / "course" / "01-intro.md").write_text("# Intro\n\nTODO: дописать.\n", encoding="utf-8")
    os.symlink("01-intro.md", root / "src" / "course" / "02-alias.md")
    os.symlink("src/course", root / "content")  # the glob's folder is a link inside the root
    (root / "shared").mkdir()
    (root / "shared" / "glossary.json").write_text('[{"term": "Образ", "termEn": "Image"}]', encoding="utf-8")
    (root / "data").mkdir()
    os.symlink("../shared/glossary.json", root / "data" / "glossary.json")
    (root / "labs").mkdir()
    os.symlink("../shared/glossary.json", root / "labs" / "dashboard.json")
    configure(
        root,
        '[glossary]\nfile = "data/glossary.json"\n\n[[artifact]]\npath = "labs/dashboard.json"\njson = ["[0].term"]\n',
        base='[course]\ncontent = ["content/**/*.md"]\ndata = ["data/*.json"]\n\n[rules]\n"anti-patterns/todo" = "error"\n',
    )
    result = check(root)
    assert where(result.active, "parse/outside-root") == []
    assert result.files == ["content/01-intro.md", "content/02-alias.md", "data/glossary.json"]
    assert where(result.active, "anti-patterns/todo") == [
        ("anti-patterns/todo", "content/01-intro.md", 3, 1),
        ("anti-patterns/todo", "content/02-alias.md", 3, 1),
    ]
    assert [v.status for v in result.extra["verdicts"]] == ["VERIFIED"]


# -- --fix never writes through a link ------------------------------------------------------


FIX_RULE = """
[[rule]]
id = "team/slang"
kind = "substitution"
swap = { "юзер" = "export EVIL=1 #" }
level = "error"
"""


def test_fix_never_writes_through_a_link_outside_the_root(attack, cli):
    repo, outside = attack
    (outside / "bashrc").write_text("# юзер\n", encoding="utf-8")
    before = (outside / "bashrc").read_bytes()
    os.symlink(outside / "bashrc", repo / "content" / "02-rc.md")
    configure(repo, FIX_RULE)
    code, out, _err = cli(repo, "--no-cache", "--fix")
    assert (outside / "bashrc").read_bytes() == before
    assert (repo / "content" / "02-rc.md").is_symlink()
    assert "content/02-rc.md:1:1: error parse/outside-root" in out
    assert code == 1


def test_fix_refuses_a_lesson_that_is_a_link_inside_the_root(tmp_path, cli):
    root = tmp_path / "repo"
    (root / "content").mkdir(parents=True)
    (root / "content" / "01-real.md").write_text("# Урок\n\nКаждый юзер.\n", encoding="utf-8")
    os.symlink("01-real.md", root / "content" / "02-alias.md")
    configure(root, FIX_RULE.replace('"export EVIL=1 #"', '"пользователь"'))
    code, _out, err = cli(root, "--no-cache", "--fix")
    assert code == 0, err
    assert (
        "coursecheck: not fixed: content/02-alias.md: is a symbolic link; --fix does not write through links: "
        "fix content/01-real.md, the file it points to, instead" in err
    )
    assert (root / "content" / "02-alias.md").is_symlink()
    assert (root / "content" / "01-real.md").read_text(encoding="utf-8") == "# Урок\n\nКаждый пользователь.\n"
    assert sorted(p.name for p in (root / "content").iterdir()) == ["01-real.md", "02-alias.md"]


def test_write_refuses_a_link_where_links_are_refused(tmp_path):
    (tmp_path / "real.md").write_bytes(b"old")
    os.symlink("real.md", tmp_path / "link.md")
    with pytest.raises(fsutil.LinkRefused):
        fsutil.atomic_write_bytes(tmp_path / "link.md", b"new", root=tmp_path, links="refuse")
    assert (tmp_path / "real.md").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.md", "real.md"]


# -- outputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("report", "-o", "report.md"),
        ("-f", "sarif", "-o", "report.md"),
        ("--write-baseline", "report.md"),
        ("--diff", "-o", "report.md"),
        ("graph", "-o", "report.md"),
        ("--shard", "1/1", "-o", "report.md"),
    ],
)
def test_an_output_linked_outside_the_root_is_not_written(attack, cli, args):
    repo, outside = attack
    configure(repo)
    before = (outside / "bashrc").read_bytes()
    os.symlink(outside / "bashrc", repo / "report.md")
    code, _out, err = cli(repo, *args, "--no-cache") if args[0] != "graph" else cli(repo, *args)
    assert code == 2, err
    assert "cannot write report.md: is a symbolic link to '" in err and "leading outside the project root" in err
    assert (outside / "bashrc").read_bytes() == before
    assert (repo / "report.md").is_symlink()
    assert not [p for p in outside.iterdir() if p.name.endswith(".tmp")]


def test_an_output_linked_into_git_is_not_written(attack, cli):
    repo, _ = attack
    configure(repo)
    (repo / ".git" / "hooks").mkdir()
    os.symlink(".git/hooks/pre-commit", repo / "report.md")
    code, _out, err = cli(repo, "report", "--no-cache", "-o", "report.md")
    assert code == 2 and "leading into .git" in err
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()


def test_outputs_through_links_inside_the_root_and_outside_paths_are_written(attack, cli, tmp_path):
    repo, _ = attack
    configure(repo)
    (repo / "reports").mkdir()
    os.symlink("reports/latest.md", repo / "report.md")
    code, _out, err = cli(repo, "report", "--no-cache", "-o", "report.md")
    assert code == 0, err
    assert (repo / "report.md").is_symlink() and "Verification Report" in (repo / "reports" / "latest.md").read_text()
    # A path the user names outside the project is theirs: written as given.
    code, _out, err = cli(repo, "--no-cache", "-f", "json", "-o", str(tmp_path / "out.json"))
    assert code == 0 and json.loads((tmp_path / "out.json").read_text())["counts"]["error"] == 0


def test_a_baseline_linked_outside_the_root_is_not_read(attack, cli):
    repo, outside = attack
    configure(repo)
    (outside / "baseline.json").write_text('{"coursecheck-baseline": 1, "findings": []}', encoding="utf-8")
    os.symlink(outside / "baseline.json", repo / "cc-baseline.json")
    code, _out, err = cli(repo, "--no-cache", "--baseline", "cc-baseline.json")
    assert code == 2
    assert "baseline cc-baseline.json: is a symbolic link to '" in err and "leading outside the project root" in err


# -- temporary files of a killed write -----------------------------------------------------


KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from coursecheck import fsutil
def stall(fd):
    print("written", flush=True)
    time.sleep(60)
fsutil.os.fsync = stall
fsutil.atomic_write_bytes(Path(sys.argv[1]), b"# half\\n", root=Path(sys.argv[2]), links="refuse")
"""


def test_a_temporary_file_left_by_a_killed_fix_is_removed_by_the_next_run(tmp_path, cli):
    root = tmp_path / "repo"
    (root / "content").mkdir(parents=True)
    lesson = root / "content" / "01-a.md"
    lesson.write_text(LESSON, encoding="utf-8")
    configure(root)
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(lesson), str(root)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline() == "written\n"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    (leftover,) = [p.name for p in (root / "content").iterdir() if p.name.endswith(".tmp")]
    assert fsutil.is_temp_name(leftover) and leftover.startswith(".01-a.md.coursecheck-")
    # Files that only look alike are not coursecheck's, or not a leftover: kept.
    kept = [
        ".01-a.md.ab12cd34.tmp",  # the old naming, indistinguishable from a user's file
        f".01-a.md.coursecheck-{os.getpid()}-abcdefgh.tmp",  # its writer is alive
        f".02-gone.md.coursecheck-{writer.pid}-abcdefgh.tmp",  # not beside the file it was for
    ]
    for name in kept:
        (root / "content" / name).write_text("x", encoding="utf-8")
    assert lesson.read_text(encoding="utf-8") == LESSON
    code, _out, err = cli(root, "--no-cache")
    assert code == 0, err
    assert f"coursecheck: removed 1 temporary file left by an interrupted write: content/{leftover}" in err
    assert sorted(p.name for p in (root / "content").iterdir()) == sorted(["01-a.md", *kept])


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "lesson.md"
    target.write_text("old", encoding="utf-8")
    script = KILLED_WRITER.replace(
        "fsutil.atomic_write_bytes(", "with fsutil.terminate_cleanly():\n    fsutil.atomic_write_bytes("
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script, str(target), str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline() == "written\n"
    writer.send_signal(signal.SIGTERM)
    assert writer.wait(timeout=10) == 128 + signal.SIGTERM
    assert [p.name for p in tmp_path.iterdir()] == ["lesson.md"]
    assert target.read_text(encoding="utf-8") == "old"


# -- file names that are not UTF-8 ----------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_reported_and_the_run_goes_on(tmp_path, cli):
    root = tmp_path / "repo"
    (root / "content").mkdir(parents=True)
    (root / "content" / "01-ok.md").write_text(LESSON, encoding="utf-8")
    (root / "content" / "02-привет.md").write_text(LESSON, encoding="utf-8")  # UTF-8: fine
    bad = os.fsdecode(b"03-\xcf\xf0\xe8.md")  # CP1251 bytes
    (root / "content" / bad).write_text(LESSON, encoding="utf-8")
    (root / "content" / os.fsdecode(b"mod-\xff")).mkdir()
    (root / "content" / os.fsdecode(b"mod-\xff") / "01-x.md").write_text(LESSON, encoding="utf-8")
    configure(root)
    result = check(root)
    assert where(result.active, "parse/file-name") == [
        ("parse/file-name", "content/03-\\xcf\\xf0\\xe8.md", 1, 1),
        ("parse/file-name", "content/mod-\\xff/01-x.md", 1, 1),
    ]
    assert result.files == ["content/01-ok.md", "content/02-привет.md"]
    seen = outputs(cli, root)
    assert all(code == 1 for code, _ in seen.values())
    json.loads(seen["json"][1].split("\ncoursecheck:")[0])
    json.loads(seen["sarif"][1].split("\ncoursecheck:")[0])
    assert "content/03-\\xcf\\xf0\\xe8.md:1:1: error parse/file-name" in seen["text"][1]
    code, out, err = cli(root, "--no-cache", "content/" + bad)
    assert code == 1 and "parse/file-name" in out and "internal error" not in err


# -- the helper -----------------------------------------------------------------------------


def test_contained_names_the_link_that_leads_out(attack):
    repo, outside = attack
    os.symlink(outside, repo / "labs")
    with pytest.raises(fsutil.OutsideRoot) as caught:
        fsutil.contained(repo, "labs/secret.md")
    assert caught.value.link == "labs"
    assert caught.value.describe() == (
        f"labs is a symbolic link to '{outside}', leading outside the project root; not followed; "
        "labs/secret.md was not read"
    )
    assert fsutil.contained(repo, "content/01-intro.md") == os.path.realpath(repo / "content" / "01-intro.md")
    with pytest.raises(fsutil.OutsideRoot, match=r"inside \.git"):
        fsutil.contained(repo, ".git/config")
    os.symlink(outside / "nowhere", repo / "dangling")
    with pytest.raises(fsutil.OutsideRoot):
        fsutil.contained(repo, "dangling")  # a dangling link out is refused too: never written through


def test_a_config_of_the_users_own_from_outside_the_project_names_paths_as_written(attack, cli):
    repo, outside = attack
    (outside / "team.toml").write_text('[rules]\n"anti-patterns/todo" = "error"\n', encoding="utf-8")
    (outside / "cc.toml").write_text(
        f'extends = ["{outside / "team.toml"}"]\n[course]\ncontent = ["content/**/*.md"]\n', encoding="utf-8"
    )
    # --config from outside the root and the working folder (CI's own file): trusted.
    code, _out, err = cli(repo, "--no-cache", "--config", str(outside / "cc.toml"), "--root", str(repo))
    assert code == 0, err
    # The same config inside the checkout is the repository's, even when --root is narrower.
    (repo / "cc.toml").write_text((outside / "cc.toml").read_text(encoding="utf-8"), encoding="utf-8")
    code, _out, err = cli(repo, "--no-cache", "--config", "cc.toml", "--root", "content")
    assert code == 2 and "cc.toml:1: extends: rule pack" in err and "is an absolute path" in err


def test_init_neither_surveys_nor_writes_through_links_leading_out(attack, cli):
    repo, outside = attack
    (outside / "secret.md").write_text(f"---\n{TOKEN}: x\ntitle: y\n---\n# S\n", encoding="utf-8")
    os.symlink(outside / "secret.md", repo / "content" / "02-notes.md")
    code, out, err = cli(repo, "init", "--stdout")
    assert code == 0, err
    assert TOKEN not in out and "title" in out
    before = (outside / "bashrc").read_bytes()
    os.symlink(outside / "bashrc", repo / ".coursecheck.toml")
    code, _out, err = cli(repo, "init", "--force")
    assert code == 2 and "cannot write" in err and "leading outside the project root" in err
    assert (outside / "bashrc").read_bytes() == before


def test_must_haves_naming_git_are_config_errors(attack, cli):
    repo, _ = attack
    configure(
        repo,
        '\n[[artifact]]\npath = ".git/config"\ncontains = ["ghs_"]\n\n'
        '[[key-link]]\nfrom = ".git/config"\nto = "content/01-intro.md"\n',
    )
    lines = (repo / ".coursecheck.toml").read_text(encoding="utf-8").splitlines()
    artifact_line = lines.index('path = ".git/config"') + 1
    link_line = lines.index('from = ".git/config"') + 1
    code, out, err = cli(repo, "--no-cache")
    assert code == 2
    assert f".coursecheck.toml:{artifact_line}: artifact[0].path: '.git/config' is inside .git" in err
    assert f".coursecheck.toml:{link_line}: key-link[0].from: '.git/config' is inside .git" in err
    assert TOKEN not in out + err
