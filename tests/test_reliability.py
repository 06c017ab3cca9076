"""Bad input never produces a traceback or lost work: a finding or a clear error, and the run goes on."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, check, where

from coursecheck.engine import reading as engine_reading
from coursecheck.fsutil import atomic_write

GOOD = {"content/ok.md": "# Хороший урок\n\nТекст.\n"}


def run_cli(cli, root: Path, *args: str) -> tuple[int, str, str]:
    code, out, err = cli(root, *args)
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("invalid-utf8.md", "# Урок\n\nТекст".encode() + b"\xff\n", ("parse/encoding", 3, 6)),
        ("cp1251.md", "Привет".encode("cp1251"), ("parse/encoding", 1, 1)),
        ("utf16.md", "# Урок\n".encode("utf-16"), ("parse/encoding", 1, 1)),
        ("nul.md", b"# A\n\x00\n", ("parse/encoding", 1, 1)),
        ("fence.md", "# A\n\n```bash\necho\n", ("parse/unterminated-fence", 3, 1)),
        ("frontmatter.mdx", "---\ntitle: x\n\n# A\n", ("parse/frontmatter", 1, 1)),
        ("yaml.mdx", "---\ntitle: x\n  bad: [\n---\n# A\n", ("parse/frontmatter", 3, 6)),
        ("duplicate.mdx", "---\ntitle: a\ntitle: b\n---\n# A\n", ("parse/frontmatter", 3, 1)),
        ("scalar-fm.mdx", "---\njust a string\n---\n# A\n", ("parse/frontmatter", 2, 1)),
        ("jsx.mdx", '# A\n\n<Callout type="x"\n', ("parse/mdx-syntax", 3, 1)),
        ("template.mdx", "# A\n\n<Mermaid chart={`\nflowchart LR\n", ("parse/mdx-syntax", 3, 1)),
        ("expression.mdx", "# A\n\nЗначение {props.x\n", ("parse/mdx-syntax", 3, 10)),
        ("comment.mdx", "# A\n\n{/* не закрыт\n", ("parse/mdx-syntax", 3, 1)),
        ("html-comment.md", "# A\n\n<!-- не закрыт\n", ("parse/mdx-syntax", 3, 1)),
    ],
)
def test_bad_lesson_gives_a_finding_at_its_place(course, name, content, expected):
    root = course({**GOOD, f"content/{name}": content})
    result = check(root)
    found = [(f.rule_id, f.span.line, f.span.column) for f in result.active if f.path == f"content/{name}"]
    assert expected in found
    assert "content/ok.md" in result.files  # the rest of the run went on
    assert not result.notifications


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("data/broken.json", '{\n  "a": [1, 2\n}\n', ("parse/data-syntax", 3, 1)),
        ("data/broken.yaml", "a: 1\nb: [\n", ("parse/data-syntax", 3, 1)),
        # At the bracket that crosses the depth limit (coursecheck.parse.yamlpos.DATA_LIMITS).
        ("data/deep.json", "[" * 100000 + "]" * 100000, ("parse/data-syntax", 1, 101)),
    ],
)
def test_bad_data_file(course, name, content, expected):
    root = course({**GOOD, name: content})
    found = [(f.rule_id, f.span.line, f.span.column) for f in check(root).active if f.path == name]
    assert found == [expected]


def test_good_edge_cases_parse_cleanly(course):
    root = course(
        {
            "content/empty.md": "",
            "content/only-frontmatter.mdx": "---\ntitle: x\n---\n",
            "content/bom.md": b"\xef\xbb\xbf# \xd0\xa3\xd1\x80\xd0\xbe\xd0\xba\n",
            "content/crlf.mdx": "---\r\ntitle: x\r\n---\r\n\r\n# Урок\r\n\r\nТекст.\r\n",
            "content/cr.md": "# Урок\rТекст\r",
            "content/long-line.md": "# A\n\n" + "слово " * 200_000 + "\n",
            "content/nested-lists.md": "".join("  " * i + "- пункт\n" for i in range(300)),
            "content/nested-quotes.md": "> " * 500 + "цитата\n",
            "content/nested-jsx.mdx": "<A>\n" * 200 + "текст\n" + "</A>\n" * 200,
            "data/empty.json": "[]",
        }
    )
    result = check(root)
    assert [f for f in result.active if f.rule_id.startswith(("parse/", "core/"))] == []
    assert len(result.files) == 10


def test_huge_file_is_reported_not_read(course, monkeypatch):
    monkeypatch.setattr(engine_reading, "MAX_FILE_BYTES", 1024)  # the per-file stage reads it there
    root = course({**GOOD, "content/huge.md": "# A\n" + "текст\n" * 1000})
    (finding,) = [f for f in check(root).active if f.path == "content/huge.md"]
    assert finding.rule_id == "parse/unreadable"
    assert "over the 0 MiB limit" in finding.message or "limit" in finding.message


def test_ten_megabyte_lesson_does_not_crash(course):
    root = course({**GOOD, "content/big.md": "# A\n\n" + ("Абзац текста. " * 70 + "\n\n") * 10_000})
    assert (root / "content/big.md").stat().st_size > 10_000_000
    result = check(root)
    (finding,) = [f for f in result.active if f.path == "content/big.md"]
    assert finding.rule_id == "parse/unreadable" and "MiB" in finding.message


def test_unreadable_file(course, monkeypatch):
    root = course({**GOOD, "content/secret.md": "# A\n"})
    real = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "secret.md":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    result = check(root)
    assert where(result.active, "parse/unreadable") == [("parse/unreadable", "content/secret.md", 1, 1)]
    assert "Permission denied" in result.active[0].message
    assert "content/ok.md" in result.files


def test_symlink_loop_and_dangling_link(course):
    root = course(GOOD)
    os.symlink(root / "content", root / "content" / "loop")
    os.symlink(root / "missing.md", root / "content" / "dangling.md")
    result = check(root)
    assert "content/ok.md" in result.files
    assert not any("loop/" in f for f in result.files)
    assert where(result.active, "parse/unreadable") == [("parse/unreadable", "content/dangling.md", 1, 1)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
@pytest.mark.parametrize("cache", [True, False])
def test_a_named_pipe_is_reported_not_read(course, tmp_path, cache):
    # Reading a FIFO blocks until someone writes to it: the run must not hang on one.
    import subprocess
    import sys

    root = course(GOOD)
    os.mkfifo(root / "content" / "pipe.md")
    args = [sys.executable, "-m", "coursecheck", "--no-progress"]
    args += ["--cache-dir", str(tmp_path / "cache")] if cache else ["--no-cache"]
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)
    assert (
        "content/pipe.md:1:1: error parse/unreadable not a regular file (a FIFO, socket or device); not checked"
        in done.stdout
    ), done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_named_pipe_named_as_an_artifact_is_reported_not_read(course, tmp_path):
    import subprocess
    import sys

    root = course(GOOD)
    config = root / ".coursecheck.toml"
    config.write_text(
        config.read_text("utf-8") + '\n[[artifact]]\npath = "labs/pipe.json"\nprovides = "a dashboard"\n', "utf-8"
    )
    (root / "labs").mkdir()
    os.mkfifo(root / "labs" / "pipe.json")
    for cache in (["--cache-dir", str(tmp_path / "cache")], ["--no-cache"]):
        args = [sys.executable, "-m", "coursecheck", "--no-progress", *cache]
        done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)
        out = done.stdout + done.stderr
        assert "artifact 'labs/pipe.json' is missing: labs/pipe.json: not a regular file" in out, out
    # A glossary file that is a pipe (or a folder) is a config error saying so.
    os.mkfifo(root / "labs" / "glossary.json")
    config.write_text(config.read_text("utf-8") + '\n[glossary]\nfile = "labs/glossary.json"\n', "utf-8")
    args = [sys.executable, "-m", "coursecheck", "--no-progress", "--no-cache"]
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)
    assert "glossary.file: not a regular file: labs/glossary.json" in done.stdout + done.stderr, done.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[course]\ncontent = "content/*.md"\n', ".coursecheck.toml:2: course.content: must be a list, not str"),
        ("[course]\ncontent = [\n", ".coursecheck.toml:2: TOML syntax error"),
        ('[rules]\n"parse/encoding" = 3\n', ".coursecheck.toml:2: rules.parse/encoding: must be a level"),
        (
            '[course]\ncontent = ["/etc/**/*.md"]\n',
            ".coursecheck.toml:2: course.content: glob '/etc/**/*.md': absolute paths are not allowed",
        ),
        ('fail-level = "fatal"\n', ".coursecheck.toml:1: fail-level: must be one of error, warning, note"),
        (
            '[[overrides]]\nrules = { "parse" = "off" }\n',
            ".coursecheck.toml:1: overrides.0.files: must be a non-empty list of globs",
        ),
    ],
)
def test_hostile_config_is_a_clear_error(course, cli, config, message):
    root = course(GOOD, config)
    code, out, err = run_cli(cli, root)
    assert code == 2
    assert err.startswith(message), err
    assert out == ""


def test_plugin_raising_in_every_hook(course, cli):
    plugin = textwrap.dedent(
        """
        from coursecheck import hookimpl

        @hookimpl
        def coursecheck_config_sections():
            raise ValueError("sections")

        @hookimpl
        def coursecheck_rules():
            raise ValueError("rules")

        @hookimpl
        def coursecheck_configure(config):
            raise ValueError("configure")

        @hookimpl
        def coursecheck_config_schemas():
            raise ValueError("schemas")

        @hookimpl(tryfirst=True)
        def coursecheck_parse(path, relpath, text, kind):
            if relpath.endswith("boom.md"):
                raise ValueError("parse")
            return None

        @hookimpl
        def coursecheck_reporters():
            raise ValueError("reporters")

        @hookimpl
        def coursecheck_commands():
            raise ValueError("commands")

        @hookimpl
        def coursecheck_init_sections(survey):
            raise ValueError("init")
        """
    )
    root = course({**GOOD, "content/boom.md": "# A\n", "hostile.py": plugin}, None)
    (root / ".coursecheck.toml").write_text('plugins = ["hostile.py"]\n' + textwrap.dedent(DEFAULT_CONFIG))
    code, out, _err = run_cli(cli, root)
    assert code == 1  # the parse crash is an error finding
    assert (
        "content/boom.md:1:1: error core/internal-error plugin 'hostile.py' failed to parse content/boom.md: ValueError: parse"
        in out
    )
    hooks = ("coursecheck_config_sections", "coursecheck_config_schemas", "coursecheck_rules", "coursecheck_configure")
    for hook in (*hooks, "coursecheck_reporters"):
        assert f"plugin 'hostile.py' raised in {hook}" in out
    assert "Checked 2 files" in out
    code, _out, _err = run_cli(cli, root, "--strict-internal")
    assert code == 3


def test_plugin_returning_garbage(course):
    plugin = textwrap.dedent(
        """
        from coursecheck import hookimpl

        @hookimpl
        def coursecheck_config_sections():
            return ["not", "a", "dict"]

        @hookimpl
        def coursecheck_rules():
            return 42

        @hookimpl
        def coursecheck_configure(config):
            return [("only-two", 1)]

        @hookimpl
        def coursecheck_config_schemas():
            return ["not a section"]

        @hookimpl(tryfirst=True)
        def coursecheck_parse(path, relpath, text, kind):
            return "not a document"
        """
    )
    root = course({**GOOD, "garbage.py": plugin}, None)
    (root / ".coursecheck.toml").write_text('plugins = ["garbage.py"]\n' + textwrap.dedent(DEFAULT_CONFIG))
    result = check(root)
    messages = " | ".join(n.message for n in result.notifications)
    assert "returned list from coursecheck_config_sections" in messages
    assert "returned int from coursecheck_rules" in messages
    assert "malformed config problem" in messages
    assert "returned list from coursecheck_config_schemas; expected a list of coursecheck.api.ConfigSection" in messages
    assert "returned str from coursecheck_parse" in messages
    assert "content/ok.md" in result.files  # the built-in parser still parsed it


def test_output_is_written_atomically(course, cli, monkeypatch):
    root = course({"content/a.md": "# A\n\n```\n"})
    target = root / "report.json"
    target.write_text("previous report", encoding="utf-8")

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    code, _out, err = run_cli(cli, root, "--format", "json", "--output", "report.json")
    assert code == 2 and "No space left on device" in err
    assert target.read_text(encoding="utf-8") == "previous report"  # nothing lost
    assert [p.name for p in root.iterdir() if p.name.startswith(".report.json")] == []  # no temp left


def test_atomic_write_keeps_mode(tmp_path):
    path = tmp_path / "x.md"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write(path, "new")
    assert path.read_text() == "new"
    assert path.stat().st_mode & 0o777 == 0o640


def test_coursecheck_never_writes_into_the_course(course, cli):
    root = course({**GOOD, "content/b.mdx": "# Б\n\n<Mermaid chart={`\nflowchart\n"})
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    run_cli(cli, root)
    run_cli(cli, root, "--format", "json")
    # The per-file cache (.coursecheck-cache/, ignored by git) is the only thing written.
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".coursecheck-cache" not in p.parts}
    assert before == after


@pytest.mark.slow
def test_catastrophic_regex_in_a_must_have_is_bounded_and_reported(course):
    config = DEFAULT_CONFIG + textwrap.dedent(
        """
        [[truth]]
        id = "evil"
        text = "a pattern that backtracks forever"
        pattern = '(x+x+)+y'
        """
    )
    root = course({"content/a.md": "# A\n\n" + "x" * 3000 + "\n"}, config)
    result = check(root, select=["musthave"])
    (finding,) = result.active
    assert finding.rule_id == "musthave/truth"
    assert "took longer than 1 s" in finding.message and "(x+x+)+y" in finding.message
    (verdict,) = result.extra["verdicts"]
    assert verdict.status == "FAILED"
