"""Integrations: pre-commit (for real, with the pre-commit tool), GitHub annotations,
baselines, --fix/--diff, the progress bar and colours."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, REPO, where

from coursecheck import baseline, fix
from coursecheck.cli import main
from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.fsutil import atomic_write_bytes
from coursecheck.model import Finding
from coursecheck.progress import ProgressBar
from coursecheck.report import ReportOptions
from coursecheck.report.github import annotation, escape_data, escape_property
from coursecheck.report.github import render as render_github
from coursecheck.text import Span

# A test plugin whose rules offer fixes, so these tests depend on no built-in rule's details:
# - demo/homoglyph: "Dоcker" with a Cyrillic о (U+043E) -> "Docker" (safe)
# - demo/trailing-space: spaces or tabs at the end of a line -> removed (safe)
# - demo/two-lines: the word SPLITME -> "first\nsecond" (safe; a replacement with a newline)
# - demo/shout: the word ТИХО -> "ГРОМКО" (unsafe: may change meaning)
# - demo/overlap: "Dоcker" again, whole word -> "DOCKER" (overlaps demo/homoglyph)
FIXER_PLUGIN = '''
import re
from coursecheck import hookimpl
from coursecheck.model import Edit, Fix
from coursecheck.rules import rule

HOMOGLYPH = re.compile("D\\u043ecker")
TRAILING = re.compile(r"[ \\t]+$", re.M)


@rule("demo/homoglyph", level="error", fixable=True)
def homoglyph(doc, ctx):
    """A Latin word with a Cyrillic letter (test rule)."""
    for seg in doc.iter_segments({"prose", "heading"}):
        for m in HOMOGLYPH.finditer(seg.text):
            start, end = seg.range(m.start() + 1, m.start() + 2)
            fix = ctx.replace(doc, start, end, "o", "replace Cyrillic о with Latin o")
            ctx.report(doc, start, end, "Cyrillic о in «Docker»", fix=fix, anchor=m.group())


@rule("demo/trailing-space", level="warning", fixable=True)
def trailing_space(doc, ctx):
    """Whitespace at the end of a line (test rule)."""
    for m in TRAILING.finditer(doc.source):
        fix = ctx.replace(doc, m.start(), m.end(), "", "remove trailing whitespace")
        ctx.report(doc, m.start(), m.end(), "trailing whitespace", fix=fix)


@rule("demo/two-lines", level="warning", fixable=True)
def two_lines(doc, ctx):
    """SPLITME becomes two lines (test rule)."""
    for m in re.finditer("SPLITME", doc.source):
        fix = Fix("split", [Edit(doc.span(m.start(), m.end()), "first\\nsecond")])
        ctx.report(doc, m.start(), m.end(), "split this", fix=fix, anchor="SPLITME")


@rule("demo/shout", level="warning", fixable=True)
def shout(doc, ctx):
    """ТИХО should be loud (test rule with an unsafe fix)."""
    for m in re.finditer("ТИХО", doc.source):
        fix = Fix("shout", [Edit(doc.span(m.start(), m.end()), "ГРОМКО")], safe=False)
        ctx.report(doc, m.start(), m.end(), "too quiet", fix=fix)


@rule("demo/overlap", level="warning", fixable=True)
def overlap(doc, ctx):
    """The whole word again, to collide with demo/homoglyph (test rule)."""
    for m in HOMOGLYPH.finditer(doc.source):
        fix = Fix("capitals", [Edit(doc.span(m.start(), m.end()), "DOCKER")])
        ctx.report(doc, m.start(), m.end(), "write it in capitals", fix=fix)


@hookimpl
def coursecheck_rules():
    return [homoglyph, trailing_space, two_lines, shout, overlap]
'''

FIX_CONFIG = 'plugins = ["fixer.py"]\n' + textwrap.dedent(DEFAULT_CONFIG)
DEMO_RULES = ["demo/homoglyph", "demo/trailing-space", "demo/two-lines", "demo/shout"]


def fixer_course(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in {**files, "fixer.py": FIXER_PLUGIN, ".coursecheck.toml": FIX_CONFIG}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


def run(root: Path, select: list[str] | None = None):
    config = load_config(root / ".coursecheck.toml", root)
    return Engine(config, RunOptions(select=select or DEMO_RULES, entry_points=False)).run()


LESSON = "---\ntitle: Урок\n---\n# Урок  \n\nСам по себе Dоcker — инструмент.\t\nЕщё строка.\n"
FIXED = "---\ntitle: Урок\n---\n# Урок\n\nСам по себе Docker — инструмент.\nЕщё строка.\n"


# -- --fix and --diff ------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
def test_fix_keeps_bom_line_endings_and_mode(tmp_path, cli, newline, bom):
    prefix = b"\xef\xbb\xbf" if bom else b""
    original = prefix + LESSON.replace("\n", newline).encode("utf-8")
    root = fixer_course(tmp_path, {"content/01-a.md": original})
    lesson = root / "content" / "01-a.md"
    os.chmod(lesson, 0o640)
    result = run(root)
    # The findings the fixes are for, at their exact places.
    assert where(result.active) == [
        ("demo/trailing-space", "content/01-a.md", 4, 7),
        ("demo/homoglyph", "content/01-a.md", 6, 14),
        ("demo/trailing-space", "content/01-a.md", 6, 33),
    ]
    code, out, err = cli(root, "--fix", "--select", ",".join(DEMO_RULES))
    assert lesson.read_bytes() == prefix + FIXED.replace("\n", newline).encode("utf-8")
    assert os.stat(lesson).st_mode & 0o777 == 0o640
    assert "fixed content/01-a.md:6:14: demo/homoglyph replace Cyrillic о with Latin o" in err
    assert "fixed content/01-a.md:4:7: demo/trailing-space remove trailing whitespace" in err
    assert "coursecheck: fixed 3 findings in 1 file" in err
    # What remains is reported from a fresh check of the fixed file: nothing.
    assert code == 0, out + err
    assert "Checked 1 file: 0 errors, 0 warnings, 0 notes" in out
    assert not [p.name for p in lesson.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_a_replacement_with_a_newline_takes_the_files_line_endings(tmp_path, newline):
    text = "# Урок\n\nначало SPLITME конец\n".replace("\n", newline)
    root = fixer_course(tmp_path, {"content/01-a.md": text})
    plan = fix.plan_fixes(run(root))
    assert [f.rule_id for f in plan.fixed] == ["demo/two-lines"]
    written = fix.write_fixes(plan)
    assert [f.relpath for f in written.written] == ["content/01-a.md"]
    expected = "# Урок\n\nначало first\nsecond конец\n".replace("\n", newline)
    assert (root / "content" / "01-a.md").read_bytes() == expected.encode("utf-8")


def test_diff_shows_the_fixes_and_writes_nothing(tmp_path, cli):
    root = fixer_course(tmp_path, {"content/01-a.md": LESSON})
    before = (root / "content" / "01-a.md").read_bytes()
    code, out, err = cli(root, "--diff", "--select", ",".join(DEMO_RULES))
    assert code == 1
    assert (root / "content" / "01-a.md").read_bytes() == before
    assert out == (
        "--- a/content/01-a.md\n"
        "+++ b/content/01-a.md\n"
        "@@ -1,7 +1,7 @@\n"
        " ---\n"
        " title: Урок\n"
        " ---\n"
        "-# Урок  \n"
        "+# Урок\n"
        " \n"
        "-Сам по себе Dоcker — инструмент.\t\n"
        "+Сам по себе Docker — инструмент.\n"
        " Ещё строка.\n"
    )
    assert "3 fixes in 1 file would be applied by --fix" in err
    # Nothing to fix: empty diff, exit 0.
    (root / "content" / "01-a.md").write_text(FIXED, encoding="utf-8")
    code, out, err = cli(root, "--diff", "--select", ",".join(DEMO_RULES))
    assert (code, out) == (0, "")
    assert "no safe fixes to apply" in err


def test_diff_marks_a_last_line_without_newline(tmp_path):
    root = fixer_course(tmp_path, {"content/01-a.md": "# A\n\nDоcker"})
    diff = fix.plan_fixes(run(root)).diff()
    assert diff.endswith("-Dоcker\n\\ No newline at end of file\n+Docker\n\\ No newline at end of file\n")


def test_fix_never_touches_a_file_with_a_parse_error(tmp_path, cli):
    broken = "---\ntitle: [oops\n---\n# A\n\nDоcker  \n"
    root = fixer_course(tmp_path, {"content/01-a.md": broken, "content/02-b.md": "# B\n\nDоcker\n"})
    result = run(root, [*DEMO_RULES, "parse"])
    assert ("parse/frontmatter", "content/01-a.md", 3, 1) in where(result.findings)
    assert ("demo/homoglyph", "content/01-a.md", 6, 2) in where(result.active)
    code, _out, err = cli(root, "--fix", "--select", ",".join(DEMO_RULES))
    assert (root / "content" / "01-a.md").read_text(encoding="utf-8") == broken
    assert (root / "content" / "02-b.md").read_text(encoding="utf-8") == "# B\n\nDоcker\n".replace("о", "o")
    assert "not fixed: content/01-a.md: the file has a parse error; fix that first" in err
    assert code == 1  # the parse error (and the finding it blocked) remain


def test_fix_skips_a_file_changed_since_the_run(tmp_path):
    root = fixer_course(tmp_path, {"content/01-a.md": LESSON, "content/02-b.md": "# B\n\nDоcker\n"})
    result = run(root)
    (root / "content" / "01-a.md").write_text(LESSON + "новая строка\n", encoding="utf-8")
    plan = fix.plan_fixes(result)
    assert plan.skipped_files == [("content/01-a.md", "the file changed since it was checked; run again")]
    assert [f.relpath for f in plan.files] == ["content/02-b.md"]
    # A change between planning and writing is caught too (content hash).
    (root / "content" / "02-b.md").write_text("# B\n\nDоcker!\n", encoding="utf-8")
    written = fix.write_fixes(plan)
    assert written.written == []
    assert written.failed == [("content/02-b.md", "the file changed since it was checked; not written")]
    assert (root / "content" / "02-b.md").read_text(encoding="utf-8") == "# B\n\nDоcker!\n"


def test_unsafe_and_overlapping_fixes_are_not_applied(tmp_path, cli):
    root = fixer_course(tmp_path, {"content/01-a.md": "# A\n\nТИХО и Dоcker\n"})
    result = run(root, ["demo/homoglyph", "demo/shout", "demo/overlap"])
    plan = fix.plan_fixes(result)
    assert [(f.rule_id, f.span.column) for f in plan.fixed] == [("demo/overlap", 8)]
    assert sorted((f.rule_id, why) for f, why in plan.skipped) == [
        ("demo/homoglyph", "overlaps another fix; run --fix again"),
        ("demo/shout", fix.UNSAFE),
    ]
    code, _out, err = cli(root, "--fix", "--select", "demo/homoglyph,demo/shout,demo/overlap")
    assert (root / "content" / "01-a.md").read_text(encoding="utf-8") == "# A\n\nТИХО и DOCKER\n"
    assert "1 finding has a fix that may change meaning; not applied" in err
    assert "not fixed: content/01-a.md:3:9: demo/homoglyph: overlaps another fix; run --fix again" in err
    assert code == 0  # what remains is a warning (demo/shout)


def test_suppressed_findings_are_not_fixed(tmp_path, cli):
    text = "# A\n\n<!-- coursecheck-disable-next-line demo/homoglyph -- quoted as written -->\nDоcker\n"
    root = fixer_course(tmp_path, {"content/01-a.md": text})
    code, _out, err = cli(root, "--fix", "--select", "demo/homoglyph")
    assert code == 0
    assert (root / "content" / "01-a.md").read_text(encoding="utf-8") == text
    assert "fixed 0 findings in 0 files" in err


def test_atomic_write_bytes_follows_a_symlink_and_keeps_the_mode(tmp_path):
    target = tmp_path / "real.md"
    target.write_bytes(b"old")
    os.chmod(target, 0o604)
    link = tmp_path / "link.md"
    link.symlink_to(target)
    atomic_write_bytes(link, b"new")
    assert link.is_symlink()
    assert target.read_bytes() == b"new"
    assert os.stat(target).st_mode & 0o777 == 0o604
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.md", "real.md"]


# -- baseline ----------------------------------------------------------------------------


def test_baseline_fails_only_on_new_findings_and_survives_line_shifts(tmp_path, cli):
    lesson = "# A\n\nDоcker один.\n\nDоcker два.\n"
    root = fixer_course(tmp_path, {"content/01-a.md": lesson, "content/02-b.md": "# B\n\nDоcker\n"})
    code, _out, err = cli(root, "--write-baseline", "cc-baseline.json", "--select", "demo/homoglyph")
    assert code == 0, err
    assert "wrote baseline cc-baseline.json (3 findings)" in err
    data = json.loads((root / "cc-baseline.json").read_text(encoding="utf-8"))
    assert data["coursecheck-baseline"] == 1
    assert [(e["rule"], e["path"], e["line"]) for e in data["findings"]] == [
        ("demo/homoglyph", "content/01-a.md", 3),
        ("demo/homoglyph", "content/01-a.md", 5),
        ("demo/homoglyph", "content/02-b.md", 3),
    ]
    code, out, _err = cli(root, "--baseline", "cc-baseline.json", "--select", "demo/homoglyph")
    assert code == 0
    assert "0 errors" in out and "3 suppressed" in out
    # Unrelated edits shift every line; one new finding is added at the end.
    shifted = "---\ntitle: A\n---\n# A\n\nВступление.\n\nDоcker один.\n\nDоcker два.\n\nНовый Dоcker.\n"
    (root / "content" / "01-a.md").write_text(shifted, encoding="utf-8")
    code, out, _err = cli(root, "--baseline", "cc-baseline.json", "--select", "demo/homoglyph")
    assert code == 1
    assert out.splitlines()[0].startswith("content/01-a.md:12:8: error demo/homoglyph")
    assert len([line for line in out.splitlines() if "demo/homoglyph" in line]) == 1
    assert "1 error" in out and "3 suppressed" in out


def test_baseline_entries_are_suppressed_in_sarif_and_json(tmp_path, cli):
    root = fixer_course(tmp_path, {"content/01-a.md": "# A\n\nDоcker\n"})
    cli(root, "--write-baseline", "b.json", "--select", "demo/homoglyph")
    code, out, _err = cli(root, "--baseline", "b.json", "--select", "demo/homoglyph", "--format", "sarif")
    assert code == 0
    results = json.loads(out)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["demo/homoglyph"]
    assert results[0]["suppressions"][0]["kind"] == "external"
    code, out, _err = cli(root, "--baseline", "b.json", "--select", "demo/homoglyph", "--format", "json")
    finding = json.loads(out)["findings"][0]
    assert finding["suppression"]["kind"] == "baseline"


def test_stale_baseline_entries_are_reported(tmp_path, cli):
    root = fixer_course(tmp_path, {"content/01-a.md": "# A\n\nDоcker\n", "content/02-b.md": "# B\n\nDоcker\n"})
    cli(root, "--write-baseline", "b.json", "--select", "demo/homoglyph")
    (root / "content" / "02-b.md").write_text("# B\n\nDocker\n", encoding="utf-8")
    code, _out, err = cli(root, "--baseline", "b.json", "--select", "demo/homoglyph")
    assert code == 0
    assert "1 baseline entry in b.json matched no finding" in err
    # Checking one other file only: the entry about 02-b.md is not judged.
    code, _out, err = cli(root, "--baseline", "b.json", "--select", "demo/homoglyph", "content/01-a.md")
    assert code == 0 and "matched no finding" not in err
    # Rewriting the baseline drops the stale entry.
    code, _out, err = cli(root, "--baseline", "b.json", "--write-baseline", "b.json", "--select", "demo/homoglyph")
    assert code == 0 and "matched no finding" not in err
    entries = json.loads((root / "b.json").read_text(encoding="utf-8"))["findings"]
    assert [(e["path"], e["line"]) for e in entries] == [("content/01-a.md", 3)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "baseline b.json not found"),
        ("{", "b.json:1:2: baseline is not valid JSON"),
        ('{"findings": []}', "not a coursecheck baseline"),
        ('{"coursecheck-baseline": 9, "findings": []}', "baseline format 9 is not supported"),
        ('{"coursecheck-baseline": 1, "findings": [{"rule": "x"}]}', "findings[0] has no 'fingerprint'"),
    ],
)
def test_a_bad_baseline_is_a_usage_error(tmp_path, cli, content, message):
    root = fixer_course(tmp_path, {"content/01-a.md": "# A\n"})
    if content is not None:
        (root / "b.json").write_text(content, encoding="utf-8")
    code, out, err = cli(root, "--baseline", "b.json")
    assert code == 2
    assert message in err and out == ""


def test_write_baseline_refuses_paths(tmp_path, cli):
    root = fixer_course(tmp_path, {"content/01-a.md": "# A\n"})
    code, _out, err = cli(root, "--write-baseline", "b.json", "content/01-a.md")
    assert code == 2 and "without PATHS" in err
    assert not (root / "b.json").exists()


def test_baseline_roundtrip_keeps_every_fingerprint(tmp_path):
    root = fixer_course(tmp_path, {"content/01-a.md": LESSON})
    result = run(root)
    baseline.write(tmp_path / "b.json", result)
    entries = baseline.load(tmp_path / "b.json")
    assert sorted(e.fingerprint for e in entries) == sorted(f.fingerprint for f in result.active)
    applied = baseline.apply(result, entries, "b.json")
    assert (applied.matched, applied.stale, result.active) == (3, [], [])


# -- --format github -----------------------------------------------------------------------


def test_github_escaping_follows_the_workflow_command_rules():
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("dir:a,b/100%.md\n") == "dir%3Aa%2Cb/100%25.md%0A"
    finding = Finding("team/odd", "50% of «x»,\nsee: y", "content/a,b:c.md", Span(3, 5, 3, 9, 5, 9), level="warning")
    assert annotation(finding) == (
        "::warning file=content/a%2Cb%3Ac.md,line=3,col=5,endColumn=9,title=team/odd::50%25 of «x»,%0Asee: y"
    )
    # A range over several lines: GitHub takes columns only on one line.
    multi = Finding("graph/x", "m", "a.md", Span(3, 5, 6, 2, 5, 2), level="note")
    assert annotation(multi) == "::notice file=a.md,line=3,endLine=6,title=graph/x::m"
    # A finding about the whole course has no file.
    assert annotation(Finding("musthave/x", "m", "", Span.point(1), level="error")) == "::error title=musthave/x::m"


def test_github_format_on_a_course(tmp_path, cli):
    root = fixer_course(tmp_path, {"content/01-a.md": LESSON})
    code, out, _err = cli(root, "--format", "github", "--select", ",".join(DEMO_RULES))
    assert code == 1
    lines = out.splitlines()
    assert lines[:3] == [
        "::error file=content/01-a.md,line=6,col=14,endColumn=15,title=demo/homoglyph::Cyrillic о in «Docker»",
        "::warning file=content/01-a.md,line=4,col=7,endColumn=9,title=demo/trailing-space::trailing whitespace",
        "::warning file=content/01-a.md,line=6,col=33,endColumn=34,title=demo/trailing-space::trailing whitespace",
    ]
    assert re.fullmatch(r"coursecheck: checked 1 file: 1 error, 2 warnings, 0 notes \(\d+\.\d\ds\)\.", lines[3])
    assert len(lines) == 4


def test_github_format_leaves_out_suppressed_findings():
    from coursecheck.engine import Result
    from coursecheck.model import Suppression

    kept = Finding("demo/homoglyph", "kept", "a.md", Span.point(2, 3), level="error")
    hidden = Finding("demo/homoglyph", "hidden", "a.md", Span.point(1), level="error")
    hidden.suppression = Suppression("baseline")
    result = Result(root=Path("."), config_path="", findings=[hidden, kept], rules=[], files=["a.md"])
    assert render_github(result, ReportOptions()) == (
        "::error file=a.md,line=2,col=3,title=demo/homoglyph::kept\n"
        "coursecheck: checked 1 file: 1 error, 0 warnings, 0 notes, 1 suppressed (0.00s).\n"
    )


# -- pre-commit mode (--force-exclude) --------------------------------------------------------

PRECOMMIT_COURSE = {
    "content/01-intro.md": "# Введение\n\nDоcker в старом уроке.\n",
    "content/02-next.md": '---\nprerequisites: ["01-intro"]\n---\n# Дальше\n\nТекст.\n',
    "README.md": "# Курс\n\nDоcker в README.\n",
}
GRAPH_CONFIG = 'plugins = ["fixer.py"]\n[course]\ncontent = ["content/**/*.md"]\nid = "{stem}"\n'


def precommit_course(root: Path) -> Path:
    fixer_course(root, PRECOMMIT_COURSE)
    (root / ".coursecheck.toml").write_text(GRAPH_CONFIG, encoding="utf-8")
    return root


def test_staged_files_only_are_reported_but_course_rules_see_everything(tmp_path, cli):
    root = precommit_course(tmp_path)
    (root / "content" / "03-new.md").write_text(
        '---\nprerequisites: ["02-next", "02-nxet"]\n---\n# Новый\n\nDоcker.\n', encoding="utf-8"
    )
    select = "--select=demo/homoglyph,graph/unresolved-reference"
    code, out, _err = cli(root, "--force-exclude", select, "content/03-new.md", "README.md", "fixer.py")
    assert code == 1
    # 02-next (not staged) resolves: the whole course was read. The old lesson's finding and
    # files outside the course (README.md, fixer.py) are not reported.
    assert [line.split(" ", 2)[:2] for line in out.splitlines()[:-1]] == [
        ["content/03-new.md:2:28:", "error"],
        ["content/03-new.md:6:2:", "error"],
    ]
    assert "graph/unresolved-reference prerequisite '02-nxet'" in out
    assert "Checked 1 file:" in out
    # Without --force-exclude an explicitly named README.md is checked.
    code, out, _err = cli(root, select, "README.md")
    assert "README.md:3:2: error demo/homoglyph" in out


def test_a_staged_config_reports_the_whole_course(tmp_path, cli):
    root = precommit_course(tmp_path)
    code, out, _err = cli(root, "--force-exclude", "--select=demo/homoglyph", ".coursecheck.toml")
    assert code == 1
    assert "content/01-intro.md:3:2: error demo/homoglyph" in out
    assert "README.md" not in out
    code, out, _err = cli(root, "--force-exclude", "--select=demo/homoglyph", "README.md")
    assert code == 0 and "Checked 0 files" in out


def test_the_pre_commit_manifest_declares_the_hook():
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "coursecheck")
    assert hook["language"] == "python"
    assert hook["entry"].split()[0] == "coursecheck" and "--force-exclude" in hook["entry"]
    assert hook["require_serial"] is True
    files = re.compile(hook["files"])
    for name in ("a/b.md", "a/b.mdx", "data/g.json", "q.yaml", "q.yml", ".coursecheck.toml"):
        assert files.search(name), name
    for name in ("a.py", "a.mdx.bak", "image.png"):
        assert not files.search(name), name
    try:
        from pre_commit.clientlib import load_manifest
    except ImportError:
        return
    assert [h["id"] for h in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))] == ["coursecheck"]


# -- pre-commit, for real -----------------------------------------------------------------

NETWORK_TROUBLE = re.compile(
    r"NewConnectionError|Temporary failure in name resolution|Name or service not known|Network is unreachable"
    r"|No matching distribution found|Could not find a version that satisfies|ConnectTimeout|ReadTimeout"
    r"|Connection refused|ProxyError|Max retries exceeded",
)
HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "coursecheck", "rules")


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def _hook_repo(tmp_path: Path) -> tuple[Path, str]:
    """This checkout as pre-commit sees a hook repository: a git repo at a commit. Made from
    the working tree, so the hook under test is the code under test."""
    repo = tmp_path / "hook-repo"
    repo.mkdir()
    for name in HOOK_REPO_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.is_file():
            shutil.copy2(source, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "snapshot")
    return repo, _git(repo, "rev-parse", "HEAD").strip()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_refuses_a_commit_with_a_broken_lesson(tmp_path):
    pre_commit = shutil.which("pre-commit")
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit)")
    hook_repo, rev = _hook_repo(tmp_path)
    course = tmp_path / "course"
    course.mkdir()
    files = {
        ".coursecheck.toml": '[course]\ncontent = ["content/**/*.md"]\nid = "{stem}"\n',
        "content/01-intro.md": "---\ntitle: Введение\n---\n# Введение\n\nТекст.\n",
        "content/02-next.md": '---\ntitle: Дальше\nprerequisites: ["01-intro"]\n---\n# Дальше\n\nТекст.\n',
        ".pre-commit-config.yaml": f"repos:\n  - repo: {hook_repo.as_posix()}\n    rev: {rev}\n"
        "    hooks:\n      - id: coursecheck\n",
    }
    for rel, text in files.items():
        (course / rel).parent.mkdir(parents=True, exist_ok=True)
        (course / rel).write_text(text, encoding="utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org")
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")

    def sh(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=course, env=env, capture_output=True, text=True, timeout=timeout)

    assert sh("git", "init", "-q").returncode == 0
    assert sh("git", "add", "-A").returncode == 0
    assert sh("git", "commit", "-q", "--no-verify", "-m", "course").returncode == 0
    assert sh(pre_commit, "install").returncode == 0
    # pre-commit builds the hook's own virtualenv from PyPI (coursecheck and its dependencies).
    installed = sh(pre_commit, "install-hooks", timeout=600)
    log = installed.stdout + installed.stderr
    home_log = tmp_path / "pre-commit-home" / "pre-commit.log"
    if home_log.exists():
        log += home_log.read_text(encoding="utf-8", errors="replace")
    if installed.returncode != 0 and NETWORK_TROUBLE.search(log):
        pytest.skip("no network for pre-commit's own virtualenv install")
    assert installed.returncode == 0, log

    # A broken lesson: a prerequisite that names no lesson.
    (course / "content" / "03-broken.md").write_text(
        '---\ntitle: Сломанный\nprerequisites: ["02-nxet"]\n---\n# Сломанный\n\nТекст.\n', encoding="utf-8"
    )
    assert sh("git", "add", "content/03-broken.md").returncode == 0
    refused = sh("git", "commit", "-m", "add a broken lesson", timeout=300)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "coursecheck" in output and "Failed" in output
    assert (
        "content/03-broken.md:3:17: error graph/unresolved-reference prerequisite '02-nxet' names no lesson" in output
    )
    assert "Checked 1 file: 1 error," in output  # only the staged file is reported
    assert "course" == sh("git", "log", "--format=%s").stdout.strip()  # nothing was committed

    # Fixed, the commit goes through.
    (course / "content" / "03-broken.md").write_text(
        '---\ntitle: Сломанный\nprerequisites: ["02-next"]\n---\n# Сломанный\n\nТекст.\n', encoding="utf-8"
    )
    assert sh("git", "add", "content/03-broken.md").returncode == 0
    accepted = sh("git", "commit", "-m", "add a lesson", timeout=300)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "coursecheck" in accepted.stderr and "Passed" in accepted.stderr


# -- progress bar, colours, summary ----------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def many_lessons(root: Path, n: int) -> Path:
    files = {f"content/{i:03d}-l.md": f"# Урок {i}\n\nТекст.\n" for i in range(n)}
    return fixer_course(root, files)


def test_progress_bar_on_a_terminal_for_a_long_run(tmp_path):
    root = many_lessons(tmp_path, 60)
    stream = FakeTerminal()
    bar = ProgressBar(stream)
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        bar(done, total)

    config = load_config(root / ".coursecheck.toml", root)
    result = Engine(config, RunOptions(select=DEMO_RULES, entry_points=False)).run(progress=progress)
    bar.close()
    assert len(result.files) == 60
    total = calls[0][1]
    assert total >= 120 and calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert bar.shown and "Checking" in stream.getvalue()


def test_no_progress_bar_for_a_short_run(tmp_path):
    root = many_lessons(tmp_path, 10)
    stream = FakeTerminal()
    bar = ProgressBar(stream)
    config = load_config(root / ".coursecheck.toml", root)
    Engine(config, RunOptions(select=DEMO_RULES, entry_points=False)).run(progress=bar)
    bar.close()
    assert not bar.shown and stream.getvalue() == ""


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path, cli):
    root = many_lessons(tmp_path, 60)
    code, out, err = cli(root, "--select", ",".join(DEMO_RULES))
    assert code == 0
    assert "Checking" not in err and "\x1b" not in err + out
    assert "Checked 60 files: 0 errors, 0 warnings, 0 notes" in out


def run_with_stderr_on_a_terminal(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run coursecheck with stderr on a pseudo-terminal and stdout a pipe: (exit code,
    what the terminal got, stdout)."""
    import pty

    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:  # drain the terminal while the run goes on, so a write never blocks
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the other end is closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM", "CI")}
    env.update(TERM="xterm", **extra)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "coursecheck", *args],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env,
            timeout=120,
        )
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return done.returncode, b"".join(chunks).decode("utf-8", errors="replace"), done.stdout.decode("utf-8")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_in_a_real_terminal(tmp_path):
    root = many_lessons(tmp_path, 60)
    select = "--select=" + ",".join(DEMO_RULES)
    code, terminal, stdout = run_with_stderr_on_a_terminal(root, select)
    assert code == 0
    assert "Checking" in terminal and "100%" in terminal
    assert "\x1b" not in stdout and "Checked 60 files" in stdout
    # --no-progress and --quiet keep the terminal clean, and so does CI=true.
    for flag in ("--no-progress", "--quiet"):
        code, terminal, _stdout = run_with_stderr_on_a_terminal(root, select, flag)
        assert code == 0 and terminal == "", flag
    code, terminal, _stdout = run_with_stderr_on_a_terminal(root, select, env={"CI": "true"})
    assert code == 0 and terminal == ""


def test_colours_on_a_terminal_respect_no_color(tmp_path, monkeypatch):
    root = fixer_course(tmp_path, {"content/01-a.md": LESSON})
    monkeypatch.chdir(root)

    def run_on_terminal(*args: str) -> str:
        out = FakeTerminal()
        monkeypatch.setattr(sys, "stdout", out)
        main(["--select", ",".join(DEMO_RULES), "--no-progress", *args])
        return out.getvalue()

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[31merror\x1b[0m" in run_on_terminal()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = run_on_terminal()
    assert "\x1b" not in plain and "content/01-a.md:6:14: error demo/homoglyph" in plain
    assert "\x1b[31m" in run_on_terminal("--color", "always")
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b" not in run_on_terminal("--color", "never")


def test_one_line_summary_with_files_levels_and_time(tmp_path, cli):
    root = fixer_course(tmp_path, {"content/01-a.md": LESSON, "content/02-b.md": "# B\n"})
    code, out, _err = cli(root, "--select", ",".join(DEMO_RULES))
    assert code == 1
    assert re.fullmatch(r"Checked 2 files: 1 error, 2 warnings, 0 notes \(\d+\.\d\ds\)\.", out.splitlines()[-1])
    code, _out, err = cli(root, "--select", ",".join(DEMO_RULES), "--format", "json", "-o", "out.json")
    assert re.search(r"wrote out\.json \(2 files; 1 error, 2 warnings, 0 notes; \d+\.\d\ds\)", err)


# -- init on the demo course ----------------------------------------------------------------------


def test_init_on_the_demo_course_finds_its_broken_prerequisite(tmp_path, cli):
    shutil.copytree(REPO / "examples" / "course", tmp_path / "course")
    root = tmp_path / "course"
    code, _out, err = cli(root, "init")
    assert code == 0, err
    code, out, err = cli(root)
    assert "configuration error" not in err
    assert code == 1
    # Defect 1 of examples/course/README.md: the prerequisite typo, found with the starter config.
    assert (
        "content/course/02-module-2/02-container-networking.mdx:8:17: error graph/unresolved-reference "
        "prerequisite 'module-2/01-volume-and-data' names no lesson" in out
    )


# -- the snippets of docs/integrations.md -------------------------------------------------------

DOCS = REPO / "docs" / "integrations.md"
WORKFLOWS = ("github-code-scanning.yml", "github-annotations.yml")


def yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```$", markdown, flags=re.S | re.M)


def test_docs_show_each_workflow_exactly_as_tested():
    text = DOCS.read_text(encoding="utf-8")
    blocks = yaml_blocks(text)
    for name in WORKFLOWS:
        assert (REPO / "docs" / "examples" / name).read_text(encoding="utf-8") in blocks, name


def test_docs_pre_commit_snippets_are_valid_configs(tmp_path):
    clientlib = pytest.importorskip("pre_commit.clientlib")
    configs = [b for b in yaml_blocks(DOCS.read_text(encoding="utf-8")) if b.startswith("repos:")]
    assert len(configs) == 3
    for i, block in enumerate(configs):
        path = tmp_path / f"config-{i}.yaml"
        path.write_text(block, encoding="utf-8")
        loaded = clientlib.load_config(str(path))
        assert [h["id"] for r in loaded["repos"] for h in r["hooks"]] == ["coursecheck"]
    # The local hook is the published one, run from the environment.
    from ruamel.yaml import YAML

    local = YAML(typ="safe").load(configs[2])["repos"][0]["hooks"][0]
    published = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]
    for key in ("entry", "files", "require_serial"):
        assert local[key] == published[key], key


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_documented_local_hook_refuses_a_broken_lesson(tmp_path):
    """The `repo: local` snippet, for real: no virtualenv of its own, so no network needed."""
    pre_commit = shutil.which("pre-commit")
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit)")
    coursecheck = Path(sys.executable).parent / "coursecheck"
    if not coursecheck.exists() and shutil.which("coursecheck") is None:
        pytest.skip("the coursecheck command is not installed")
    local = next(b for b in yaml_blocks(DOCS.read_text(encoding="utf-8")) if "repo: local" in b)
    files = {
        ".coursecheck.toml": '[course]\ncontent = ["content/**/*.md"]\nid = "{stem}"\n',
        "content/01-intro.md": "# Введение\n\nТекст.\n",
        ".pre-commit-config.yaml": local,
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / ".pre-commit-home"), "NO_COLOR": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org")
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")

    def sh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    (tmp_path / ".gitignore").write_text(".pre-commit-home/\n", encoding="utf-8")
    assert sh("git", "init", "-q").returncode == 0
    assert sh(pre_commit, "install").returncode == 0
    assert sh("git", "add", "-A").returncode == 0
    first = sh("git", "commit", "-m", "course")
    assert first.returncode == 0, first.stdout + first.stderr
    (tmp_path / "content" / "02-broken.md").write_text(
        '---\nprerequisites: ["01-intrо"]\n---\n# Сломанный\n', encoding="utf-8"
    )
    (tmp_path / "README.md").write_text("# Not part of the course\n", encoding="utf-8")
    sh("git", "add", "content/02-broken.md", "README.md")
    refused = sh("git", "commit", "-m", "broken")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "content/02-broken.md:2:17: error graph/unresolved-reference prerequisite '01-intrо'" in output
    assert "README.md" not in output


def run_workflow_steps(workflow: Path, course: Path, summary: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """The workflow's `run:` steps, in order, as GitHub's runner would run them (bash -eo
    pipefail, GITHUB_STEP_SUMMARY set); `uses:` steps and the install step are skipped:
    coursecheck is installed here already."""
    from ruamel.yaml import YAML

    steps = YAML(typ="safe").load(workflow.read_text(encoding="utf-8"))["jobs"]["coursecheck"]["steps"]
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true", "CI": "true"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    outcomes: dict[str, subprocess.CompletedProcess[str]] = {}
    for step in steps:
        if "run" not in step or step["run"].startswith("pip install"):
            continue
        outcomes[step.get("id") or step["name"]] = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=course,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    return outcomes


@pytest.mark.slow
def test_the_code_scanning_workflow_runs_on_the_demo_course(tmp_path):
    course = tmp_path / "repo"
    shutil.copytree(REPO / "examples", course / "examples")
    shutil.copy2(REPO / ".coursecheck.toml", course / ".coursecheck.toml")
    if (REPO / "rules").is_dir():
        shutil.copytree(REPO / "rules", course / "rules")
    summary = tmp_path / "summary.md"
    workflow = REPO / "docs" / "examples" / "github-code-scanning.yml"
    from ruamel.yaml import YAML

    job = YAML(typ="safe").load(workflow.read_text(encoding="utf-8"))["jobs"]["coursecheck"]
    assert job["permissions"]["security-events"] == "write"
    upload = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "coursecheck.sarif" and upload["if"] == "always()"
    outcomes = run_workflow_steps(workflow, course, summary)
    # The demo has findings: the check step fails (continue-on-error), the rest runs.
    check_step = next(s for s in job["steps"] if s.get("id") == "check")
    assert check_step["continue-on-error"] is True
    assert outcomes["check"].returncode == 1, outcomes["check"].stderr
    log = json.loads((course / "coursecheck.sarif").read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0" and log["runs"][0]["results"]
    report = outcomes["Verification report in the job summary"]
    assert report.returncode == 0, report.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("---\n") and "status: gaps_found" in text
    # ...and the last step fails the job because the check step failed.
    last = job["steps"][-1]
    assert last["if"] == "steps.check.outcome == 'failure'" and outcomes[last["name"]].returncode == 1


@pytest.mark.slow
def test_the_annotations_workflow_runs_on_the_demo_course(tmp_path):
    course = tmp_path / "repo"
    shutil.copytree(REPO / "examples", course / "examples")
    shutil.copy2(REPO / ".coursecheck.toml", course / ".coursecheck.toml")
    if (REPO / "rules").is_dir():
        shutil.copytree(REPO / "rules", course / "rules")
    summary = tmp_path / "summary.md"
    outcomes = run_workflow_steps(REPO / "docs" / "examples" / "github-annotations.yml", course, summary)
    assert outcomes["Verification report in the job summary"].returncode == 0
    assert "status: gaps_found" in summary.read_text(encoding="utf-8")
    annotations = outcomes["Check the course"]
    assert annotations.returncode == 1
    lines = annotations.stdout.splitlines()
    assert (
        "::error file=examples/course/content/course/02-module-2/02-container-networking.mdx,line=8,col=17,"
        "endColumn=46,title=graph/unresolved-reference::prerequisite 'module-2/01-volume-and-data' names no lesson"
    ) in "\n".join(lines)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines[:-1])
    assert lines[-1].startswith("coursecheck: checked 10 files:")
