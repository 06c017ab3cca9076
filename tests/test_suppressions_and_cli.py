"""Inline suppressions (used and unused), CLI exit codes, formats, rule docs, init."""

from __future__ import annotations

import json
import textwrap

from conftest import DEFAULT_CONFIG, check, where

# A plugin rule that flags the word "ЗАГЛУШКА" — suppression tests need a rule that fires.
MARKER_PLUGIN = '''
import re
from coursecheck import hookimpl
from coursecheck.rules import rule

@rule("demo/marker", level="error")
def marker(doc, ctx):
    """Flags the word ЗАГЛУШКА."""
    for seg in doc.iter_segments({"prose", "heading"}):
        for m in re.finditer("ЗАГЛУШКА", seg.text):
            start, end = seg.range(m.start(), m.end())
            ctx.report(doc, start, end, "placeholder left in text", anchor=m.group())

@hookimpl
def coursecheck_rules():
    return [marker]
'''
CONFIG = 'plugins = ["marker.py"]\n' + textwrap.dedent(DEFAULT_CONFIG)


def build(course, files):
    root = course({**files, "marker.py": MARKER_PLUGIN}, None)
    (root / ".coursecheck.toml").write_text(CONFIG, encoding="utf-8")
    return root


def test_next_line_suppression_in_mdx_and_markdown(course):
    root = build(
        course,
        {
            "content/a.mdx": "# A\n\n{/* coursecheck-disable-next-line demo/marker -- will be written in May */}\nТут ЗАГЛУШКА.\n\nИ тут ЗАГЛУШКА.\n",
            "content/b.md": "# B\n\n<!-- coursecheck-disable-next-line demo -->\nТут ЗАГЛУШКА.\n",
        },
    )
    result = check(root, select=["demo", "core", "parse"])
    assert where(result.active) == [("demo/marker", "content/a.mdx", 6, 7)]
    suppressed = [f for f in result.findings if f.suppression is not None]
    assert where(suppressed) == [("demo/marker", "content/a.mdx", 4, 5), ("demo/marker", "content/b.md", 4, 5)]
    assert suppressed[0].suppression.justification == "will be written in May"


def test_block_and_file_suppressions(course):
    root = build(
        course,
        {
            "content/a.md": (
                "# A\n\n<!-- coursecheck-disable demo/marker -->\nЗАГЛУШКА раз.\n\nЗАГЛУШКА два.\n"
                "<!-- coursecheck-enable demo/marker -->\n\nЗАГЛУШКА три.\n"
            ),
            "content/b.md": "<!-- coursecheck-disable-file -->\n# B\n\nЗАГЛУШКА.\n",
        },
    )
    result = check(root, select=["demo", "core", "parse"])
    assert where(result.active) == [("demo/marker", "content/a.md", 9, 1)]
    assert len([f for f in result.findings if f.suppression]) == 3


def test_unused_and_unknown_suppressions_are_reported(course):
    root = build(
        course,
        {
            "content/a.mdx": (
                "# A\n\n{/* coursecheck-disable-next-line demo/marker */}\nЧистый текст.\n\n"
                "{/* coursecheck-disable-next-line demo/markr */}\nЕщё текст.\n"
            ),
        },
    )
    result = check(root, select=["demo", "core", "parse"])
    found = [(f.rule_id, f.span.line, f.span.column, f.message) for f in result.active]
    assert found == [
        ("core/unused-suppression", 3, 1, "suppression for demo/marker silences nothing; remove it"),
        ("core/unused-suppression", 6, 1, "suppression names unknown rule demo/markr"),
    ]


def test_exit_codes(course, cli):
    root = build(course, {"content/a.md": "# A\n\nЗАГЛУШКА.\n", "content/b.md": "# B\n"})

    def run(*args: str) -> tuple[int, str, str]:
        return cli(root, "--select", "demo,core,parse", *args)

    code, out, err = run()
    assert code == 1
    assert "content/a.md:3:1: error demo/marker placeholder left in text" in out
    assert "Checked 2 files: 1 error, 0 warnings, 0 notes" in out
    assert cli(root, "--select", "core,parse")[0] == 0
    assert run("content/b.md")[0] == 0  # only b.md reported
    assert run("--select", "nosuch")[0] == 2
    assert run("--format", "xml")[0] == 2
    assert run("--fail-level", "warning")[0] == 1
    (root / ".coursecheck.toml").write_text(CONFIG + '\n[rules]\n"demo/marker" = "note"\n')
    assert run()[0] == 0  # notes do not fail at the default level
    assert run("--fail-level", "note")[0] == 1
    (root / ".coursecheck.toml").write_text("[course\n")
    code, _out, err = run()
    assert code == 2
    assert err.startswith(".coursecheck.toml:1: TOML syntax error")


def test_json_format_and_output_file(course, cli):
    root = build(course, {"content/a.md": "# A\n\nЗАГЛУШКА 🚀 ЗАГЛУШКА.\n"})
    code, out, _ = cli(root, "--select", "demo", "--format", "json", "--output", "out/report.json")
    assert code == 1 and out == ""
    data = json.loads((root / "out" / "report.json").read_text(encoding="utf-8"))
    first, second = data["findings"]
    assert (first["line"], first["column"], second["column"], second["column_utf16"]) == (3, 1, 12, 13)
    assert first["fingerprint"] != second["fingerprint"]
    assert data["counts"] == {"error": 2, "warning": 0, "note": 0}
    assert data["files"][0]["lesson_id"] == "a"


def test_the_written_report_line_says_1_error_and_1_file(course, cli):
    root = build(course, {"content/a.md": "# A\n\nЗАГЛУШКА.\n"})
    code, _out, err = cli(root, "--select", "demo", "--format", "json", "--output", "r.json")
    assert code == 1
    assert "coursecheck: wrote r.json (1 file; 1 error, 0 warnings, 0 notes; " in err


def test_wording_counts():
    from coursecheck.wording import level_counts, plural, plural_grouped

    assert [plural(n, "error") for n in (0, 1, 2)] == ["0 errors", "1 error", "2 errors"]
    assert plural(3, "fix", "fixes") == "3 fixes" and plural(1, "fix", "fixes") == "1 fix"
    assert plural_grouped(1234, "file") == "1,234 files" and plural(1234, "file") == "1234 files"
    assert level_counts({"error": 1, "warning": 2}) == "1 error, 2 warnings, 0 notes"


def test_fingerprints_survive_unrelated_line_shifts(course):
    root = build(course, {"content/a.md": "# A\n\nЗАГЛУШКА.\n"})
    before = check(root, select=["demo"]).active[0].fingerprint
    (root / "content/a.md").write_text("# A\n\nНовый абзац сверху.\n\nЕщё один.\n\nЗАГЛУШКА.\n", encoding="utf-8")
    after = check(root, select=["demo"]).active[0]
    assert after.span.line == 7
    assert after.fingerprint == before


def test_rules_and_rule_docs(course, cli):
    root = course({"content/a.md": "# A\n"})
    code, out, _ = cli(root, "rules")
    assert code == 0
    assert "parse/frontmatter" in out and "core/unused-suppression" in out
    code, out, _ = cli(root, "rule", "parse/frontmatter")
    assert code == 0
    for section in ("## What it does", "## Why it matters", "## Example", "## How to fix"):
        assert section in out
    code, _, err = cli(root, "rule", "parse/frontmater")
    assert code == 2 and "did you mean 'parse/frontmatter'" in err


def test_help_explains_commands_and_exit_codes(cli, tmp_path):
    code, out, _ = cli(tmp_path, "--help")
    assert code == 0
    assert "exit codes:" in out and "rule ID" in out and "init" in out


def test_no_config_uses_defaults_and_says_so(cli, tmp_path):
    (tmp_path / "lesson.md").write_text("# Урок\n\n```bash\necho\n", encoding="utf-8")
    code, out, err = cli(tmp_path, "--select", "parse,core")
    assert "no .coursecheck.toml found" in err
    assert "lesson.md:3:1: warning parse/unterminated-fence" in out
    assert code == 0  # a warning does not fail at the default fail level


def test_bad_files_are_findings_and_the_run_goes_on(course, cli):
    root = course(
        {
            "content/latin1.md": "Привет".encode("cp1251"),
            "content/binary.md": b"\x00\x01\x02",
            "content/broken.mdx": "---\ntitle: [oops\n---\n\n# Урок\n",
            "content/ok.md": "# Хороший урок\n",
            "data/bad.json": '{"a": 1,}',
        }
    )
    code, out, _ = cli(root)
    assert code == 1
    assert "content/latin1.md:1:1: error parse/encoding not valid UTF-8: byte 0xcf at line 1, column 1" in out
    assert "content/binary.md:1:1: error parse/encoding file contains NUL bytes" in out
    assert "content/broken.mdx:3:1: error parse/frontmatter frontmatter is not valid YAML" in out
    assert "data/bad.json:1:9: error parse/data-syntax invalid JSON" in out
    assert "Checked 5 files" in out


def test_main_turns_coursecheck_errors_into_a_message_and_their_exit_code(cli, tmp_path, monkeypatch):
    from coursecheck import cli as cli_module
    from coursecheck.config import ConfigError, ConfigProblem
    from coursecheck.errors import CoursecheckError, ExitCode
    from coursecheck.shard import ShardError

    def refuse(argv):
        raise ShardError("shard 2/3 was made by another coursecheck")

    monkeypatch.setattr(cli_module, "cmd_rules", refuse)
    code, out, err = cli(tmp_path, "rules")
    assert (code, out) == (ExitCode.USAGE, "")
    assert err == "coursecheck: error: shard 2/3 was made by another coursecheck\n"
    assert issubclass(ConfigError, CoursecheckError)

    def bad_config(argv):
        raise ConfigError([ConfigProblem("x.toml", 3, "course", "unknown key 'colour'")])

    monkeypatch.setattr(cli_module, "cmd_rules", bad_config)
    code, _out, err = cli(tmp_path, "rules")
    assert code == 2 and "x.toml" in err and err.endswith("1 configuration error; nothing was checked\n")
