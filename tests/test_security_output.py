"""Output injection (issue 17): what a repository writes reaches no terminal control sequence,
no forged line and no CI workflow command, in any output.

The attacker controls file names, frontmatter, lesson text and the config. The runner of
GitHub Actions reads a workflow command from any log line that starts with ``::`` (after
whitespace) or holds ``##[``; a terminal acts on ESC, OSC and C1 sequences.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from coursecheck.escape import (
    diff_for_display,
    display,
    json_text,
    line,
    markdown_without_html,
    mermaid_label,
    path,
)
from coursecheck.report.github import escape_data, escape_property

# What a hostile string holds: a line break and a forged annotation, the stop-commands
# command, an OSC title, a screen clear, GitHub's legacy command form, a bidi override.
FORGED = "x\n::error file=x,line=1::forged"
HOSTILE = f"{FORGED} ::stop-commands::tok \x1b]0;title\x07 \x1b[2J ##[error]legacy \u202e"
# ... and how text and GitHub outputs show it.
SHOWN_REST = " ::stop-commands::tok \\x1b]0;title\\x07 \\x1b[2J ##\\[error]legacy \\u202e"
SHOWN = "x\\n::error file=x,line=1::forged" + SHOWN_REST
SHOWN_GITHUB = "x%0A::error file=x,line=1::forged" + SHOWN_REST

CONFIG = """
[course]
content = ["content/**/*.md", "*.md"]
"""


def _yaml(text: str) -> str:
    """A YAML double-quoted scalar holding ``text`` (its escapes are JSON's)."""
    return json.dumps(text)


def _course(root: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8", newline="")
    (root / ".coursecheck.toml").write_text(textwrap.dedent(config), encoding="utf-8")
    return root


def _no_command_lines(text: str, allowed: tuple[str, ...] = ()) -> None:
    """No line is a workflow command (but those coursecheck issues on purpose)."""
    for row in text.split("\n"):
        if row.startswith(allowed) and allowed:
            continue
        assert not row.lstrip().startswith("::"), row
        assert "##[" not in row, row
    for ch in ("\x1b", "\x07", "\x9b", "\u2028", "\u202e"):
        assert ch not in text


# -- the escaping functions ---------------------------------------------------------------


def test_display_escapes_controls_line_breaks_and_legacy_commands():
    assert display(HOSTILE) == SHOWN
    assert display("tab\tstays; DEL\x7f C1\x85\x9b NUL\x00 CR\r VT\x0b") == (
        "tab\tstays; DEL\\x7f C1\\x85\\x9b NUL\\x00 CR\\r VT\\x0b"
    )
    # Unicode line/paragraph separators, zero-width and bidi controls, a lone surrogate
    # (a file name that is not UTF-8), a tag character.
    assert display("a\u2028b\u2029c\u200bd\u2066e\udcfff\U000e0041") == (
        "a\\u2028b\\u2029c\\u200bd\\u2066e\\udcfff\\U000e0041"
    )
    assert display("Урок «Docker» — ok") == "Урок «Docker» — ok"  # nothing else changes
    assert display("##vso[task.setvariable variable=x]1") == "##vso\\[task.setvariable variable=x]1"


def test_line_and_path_never_start_a_workflow_command():
    assert line("::error::x") == "\\::error::x"
    assert line("  \t::warning::x") == "  \t\\::warning::x"  # the runner trims leading whitespace
    assert line("a ::error::x") == "a ::error::x"  # only the start of a line counts
    assert line(":\ufe0f:error::x") == ":\\ufe0f:error::x"  # hidden by an ignorable character
    assert path("::error::x.md") == "./::error::x.md"  # still a path an editor opens
    assert path(" ::x.md") == "./ ::x.md"
    assert path("content/a.md") == "content/a.md"


def test_github_escapes_are_the_toolkits():
    # actions/toolkit packages/core/src/command.ts: escapeData and escapeProperty.
    assert escape_data("100%\r\n::x") == "100%25%0D%0A::x"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_json_text_is_the_same_json_and_prints_safely():
    value = {"m": "NEL\x85 LS\u2028 RLO\u202e DEL\x7f ##[error]x ESC\x1b 😀"}
    text = json_text(json.dumps(value, ensure_ascii=False))
    assert text == '{"m": "NEL\\u0085 LS\\u2028 RLO\\u202e DEL\\u007f ##\\u005berror]x ESC\\u001b 😀"}'
    assert json.loads(text) == value


def test_markdown_without_html_keeps_code_and_escapes_tags():
    md = "A <img src=x> `<kept>` ``a`<b>`` <!-- c --> \\`<img>`\n\n```\n<Mermaid />\n```\n\n<script>x</script>"
    assert markdown_without_html(md) == (
        "A &lt;img src=x> `<kept>` ``a`<b>`` &lt;!-- c --> \\`&lt;img>`\n\n```\n<Mermaid />\n```\n\n"
        "&lt;script>x&lt;/script>"
    )
    # As in CommonMark, a span opened after an escaped backtick closes at the next run of its
    # length, even inside what looks like a longer span: the tag after it is escaped.
    assert markdown_without_html("\\`a` ``b`<c>``") == "\\`a` ``b`&lt;c>``"
    # A fence a list item closes: the line after it is no code, its tag is escaped.
    assert markdown_without_html("- a\n  ```\n  q\n<img src=x>") == "- a\n  ```\n  q\n&lt;img src=x>"
    # A code span the line scan sees but a parser does not (a heading ends at its line).
    assert markdown_without_html("# a `\n<img src=x>`") == "# a `\n&lt;img src=x>`"


def test_mermaid_label_is_one_line_and_closes_nothing():
    assert mermaid_label('a"] --> b["<b>#quot;`x`\nnext ##[') == (
        "a#quot;#93; --#gt; b#91;#quot;#lt;b#gt;#35;quot;#96;x#96;\\nnext #35;#35;#91;"
    )


def test_diff_for_display_keeps_the_patch_shape():
    diff = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n ::error::forged\r\n-\x1b[2J old\r\n+new\rtail"
    assert diff_for_display(diff) == (
        "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n \\::error::forged\r\n-\\x1b[2J old\r\n+new\\r\ntail"
    )


# -- text and GitHub outputs of a hostile course ---------------------------------------------


def _hostile_course(root: Path) -> Path:
    return _course(
        root,
        {
            # A frontmatter string quoted by a message; a heading with a clipboard write.
            "content/a.md": f"---\nprerequisites: [{_yaml(HOSTILE)}]\n---\n# A \x1b]52;c;ZXZpbA==\x07\n",
            # A file name with a line break and a forged annotation in it.
            f"content/b{FORGED}.md": "```\n",
            # A file name that would start a line with a workflow command.
            "::error::x.md": "```\n",
        },
    )


def test_text_output_shows_every_hostile_field_escaped(tmp_path, cli):
    root = _hostile_course(tmp_path)
    code, out, err = cli(root, "--no-cache", "--select", "graph/unresolved-reference,parse,anti-patterns")
    assert code == 1
    assert out.splitlines()[:4] == [
        "./::error::x.md:1:1: warning parse/unterminated-fence code fence ``` is never closed",
        f"content/a.md:2:17: error graph/unresolved-reference prerequisite '{SHOWN}' names no lesson of the course; "
        "did you mean 'bx\\n::error file=x,line=1::forged'?",
        "content/a.md:4:1: warning anti-patterns/empty-section section «A \\x1b]52;c;ZXZpbA==\\x07» is empty: "
        "nothing follows it",
        "content/bx\\n::error file=x,line=1::forged.md:1:1: warning parse/unterminated-fence code fence ``` is "
        "never closed",
    ]
    _no_command_lines(out + err)


def test_verbose_source_lines_are_escaped(tmp_path, cli):
    root = _course(tmp_path, {"content/a.md": "# A\n\nTODO \x1b[2J ::error::x ##[error]y\n"})
    _code, out, _err = cli(root, "--no-cache", "-v", "--select", "anti-patterns/todo")
    assert "    | TODO \\x1b[2J ::error::x ##\\[error]y" in out.splitlines()
    _no_command_lines(out)


def test_github_output_escapes_as_the_toolkit_and_shows_controls(tmp_path, cli):
    root = _hostile_course(tmp_path)
    code, out, err = cli(root, "--no-cache", "-f", "github", "--select", "graph/unresolved-reference,parse")
    assert code == 1
    assert out.splitlines()[:3] == [
        "::error file=content/a.md,line=2,col=17,endColumn=126,title=graph/unresolved-reference::"
        f"prerequisite '{SHOWN_GITHUB}' names no lesson of the course; "
        "did you mean 'bx%0A::error file=x,line=1::forged'?",
        "::warning file=%3A%3Aerror%3A%3Ax.md,line=1,col=1,endColumn=2,title=parse/unterminated-fence::"
        "code fence ``` is never closed",
        "::warning file=content/bx%0A%3A%3Aerror file=x%2Cline=1%3A%3Aforged.md,line=1,col=1,endColumn=2,"
        "title=parse/unterminated-fence::code fence ``` is never closed",
    ]
    # Each line holds one command, the one coursecheck chose; nothing else starts one.
    _no_command_lines(out + err, allowed=("::error file=", "::warning file="))
    for row in out.splitlines()[:3]:  # the runner ends the properties at the first "::" after the name
        head = row[2 : row.index("::", 2)]
        assert re.fullmatch(r"(error|warning) file=[^:,]*,line=\d+,col=\d+,endColumn=\d+,title=[^:,]*", head), head


def test_notifications_and_tracebacks_are_escaped(tmp_path, cli):
    plugin = (
        "from coursecheck import hookimpl\n\n"
        "@hookimpl\n"
        "def coursecheck_rules():\n"
        f"    raise ValueError({HOSTILE!r})\n"
    )
    root = _course(tmp_path, {"content/a.md": "# A\n\ntext\n", "boom.py": plugin}, 'plugins = ["boom.py"]\n' + CONFIG)
    _code, out, err = cli(root, "--no-cache", "-v", "--select", "parse")
    assert f"coursecheck: error: plugin 'boom.py' raised in coursecheck_rules: ValueError: {SHOWN}" in out
    _no_command_lines(out + err)
    _code, out, err = cli(root, "--no-cache", "-f", "json", "--select", "parse")
    assert f"coursecheck: error: plugin 'boom.py' raised in coursecheck_rules: ValueError: {SHOWN}" in err
    _no_command_lines(out + err)


def test_config_errors_are_escaped(tmp_path, cli):
    root = tmp_path
    (root / ".coursecheck.toml").write_text(
        f'{json.dumps(FORGED + " ##[error]k")} = 1\n[course]\ncontent = ["*.md"]\n', encoding="utf-8"
    )
    code, out, err = cli(root, "--no-cache")
    assert code == 2 and out == ""
    assert err.splitlines()[0].startswith(
        ".coursecheck.toml: x\\n::error file=x,line=1::forged ##\\[error]k: unknown top-level key"
    )
    _no_command_lines(err)


def test_rule_and_rules_commands_escape_declarative_docs(tmp_path, cli):
    docs = json.dumps("Finds TODO \x1b[2J marks ##[error]s\n\n::error::forged <b>x</b>")
    config = CONFIG + textwrap.dedent(
        """
        [[rule]]
        id = "team/todo"
        kind = "existence"
        terms = ["TODO"]
        message = "remove {match}"
        """
    ) + f"docs = {docs}\n"
    root = _course(tmp_path, {"content/a.md": "# A\n"}, config)
    code, out, err = cli(root, "rule", "team/todo")
    assert code == 0
    assert "Finds TODO \\x1b[2J marks ##\\[error]s" in out.splitlines()
    assert "\\::error::forged <b>x</b>" in out.splitlines()
    _no_command_lines(out + err)
    code, out, err = cli(root, "rules")
    assert re.search(r"^team/todo +warning +Finds TODO \\x1b\[2J marks ##\\\[error\]s$", out, re.M)
    _no_command_lines(out + err)
    code, out, err = cli(root, "rules", "--format", "markdown")
    assert "| warning |  | Finds TODO \\x1b[2J marks ##\\[error]s |" in out


def test_diff_output_is_escaped_and_the_patch_file_exact(tmp_path, cli):
    lesson = "# Урок\n\nСам по себе Dоcker.\n::error::forged\n\x1b[2J ##[error]x\n"
    root = _course(tmp_path, {"content/a.md": lesson})
    code, out, _err = cli(root, "--no-cache", "--diff", "--select", "bilingual/mixed-script")
    assert code == 1
    assert out.splitlines()[-3:] == ["+Сам по себе Docker.", " \\::error::forged", " \\x1b[2J ##\\[error]x"]
    _no_command_lines(out)
    code, _out, _err = cli(root, "--no-cache", "--diff", "--select", "bilingual/mixed-script", "-o", "fix.patch")
    patch = (root / "fix.patch").read_text(encoding="utf-8")
    assert patch.endswith(" ::error::forged\n \x1b[2J ##[error]x\n")  # -o FILE: the exact patch


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("fmt", ["json", "sarif", "markdown"])
def test_other_formats_print_safely(tmp_path, cli, fmt):
    root = _hostile_course(tmp_path)
    _code, out, err = cli(root, "--no-cache", "-f", fmt, "--timestamp", "2024-01-01T00:00:00Z")
    _no_command_lines(out + err)
    if fmt == "json":  # the same JSON: it decodes to the original text
        assert any(HOSTILE in s for s in _strings(json.loads(out)))
    elif fmt == "sarif":  # SARIF messages are sentences: whitespace runs are one space
        assert any(HOSTILE.replace("\n", " ") in s for s in _strings(json.loads(out)))


# -- the Markdown report ----------------------------------------------------------------------

REPORT_CONFIG = (
    CONFIG
    + """
[[rule]]
id = "team/todo"
kind = "existence"
terms = ['TODO\\S*']
regex = true
message = "remove '{match}'"
docs = "Finds <img src=x onerror=alert(1)> TODO `<kept>` marks.\\n\\nMore <script>alert(1)</script> text."
"""
)


def _report_course(root: Path) -> Path:
    return _course(
        root,
        {
            'content/m<1>"]/l"]<i>.md': (
                '---\nprerequisites: ["x\\"] --> y[\\"<b>", "a\\nb|c"]\n---\n# A\n\nTODO|pipe\n'
            ),
            "content/b.md": '---\nprerequisites: ["../m<1>\\"]/l\\"]<i>"]\n---\n# B\n\ntext\n',
        },
        REPORT_CONFIG,
    )


def test_report_escapes_table_cells_and_keeps_no_raw_html(tmp_path, cli):
    root = _report_course(tmp_path)
    _code, out, _err = cli(root, "report", "--no-cache", "--timestamp", "2024-01-01T00:00:00Z")
    lines = out.splitlines()
    # A message with a pipe and a line break stays one table cell.
    assert "| `content/m<1>\"]/l\"]<i>.md:2:37` | prerequisite 'a b\\|c' names no lesson of the course |" in lines
    assert "| `content/m<1>\"]/l\"]<i>.md:6:1` | remove 'TODO\\|pipe' |" in lines
    # Repository text outside code spans: '<' and brackets escaped, so no HTML, no link.
    assert (
        "| `content/m<1>\"]/l\"]<i>.md:2:17` | prerequisite 'x\"\\] --> y\\[\"\\<b>' names no lesson of the course |"
    ) in lines
    # A declarative rule's summary is Markdown, but its raw HTML is made text; code stays code.
    assert "*Finds &lt;img src=x onerror=alert(1)> TODO `<kept>` marks.*" in lines
    assert "<img" not in out.replace("`<kept>`", "").replace("`content/m<1>", "")


def test_report_mermaid_labels_are_one_line_and_close_nothing(tmp_path, cli):
    root = _report_course(tmp_path)
    _code, out, _err = cli(root, "report", "--no-cache", "--timestamp", "2024-01-01T00:00:00Z")
    graph = out.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert graph.splitlines() == [
        "flowchart TD",
        '  subgraph m0["content"]',
        '    n0["b"]',
        "  end",
        '  subgraph m1["m#lt;1#gt;#quot;#93;"]',
        '    n1["l#quot;#93;#lt;i#gt;"]',
        "  end",
        '  u0["../m#lt;1#gt;#quot;#93;/l#quot;#93;#lt;i#gt;"]:::missing',
        "  u0 -.-x n0",
        '  u1["x#quot;#93; --#gt; y#91;#quot;#lt;b#gt;"]:::missing',
        "  u1 -.-x n1",
        '  u2["a\\nb|c"]:::missing',
        "  u2 -.-x n1",
        "  classDef missing stroke:#d33,stroke-dasharray:4 4,color:#d33",
    ]


def test_graph_command_formats_escape_labels(tmp_path, cli):
    root = _hostile_course(tmp_path)
    for fmt in ("mermaid", "dot", "json"):
        code, out, err = cli(root, "graph", "--format", fmt)
        assert code == 0, err
        _no_command_lines(out + err)
    _code, out, _err = cli(root, "graph", "--format", "dot")
    assert '"content/bx\\\\n::error file=x,line=1::forged.md"' in out


def test_sarif_help_of_a_declarative_rule_has_no_raw_html(tmp_path, cli):
    root = _report_course(tmp_path)
    _code, out, _err = cli(root, "--no-cache", "-f", "sarif")
    rules = {r["id"]: r for r in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]}
    help_markdown = rules["team/todo"]["help"]["markdown"]
    assert help_markdown.startswith("Finds &lt;img src=x onerror=alert(1)> TODO `<kept>` marks.\n")
    assert "More &lt;script>alert(1)&lt;/script> text." in help_markdown


# -- the config `coursecheck init` writes -----------------------------------------------------


def test_init_writes_repository_names_as_toml_strings(tmp_path, cli):
    """A file name or frontmatter key can end no string and start no line of the starter
    config (here: an injected [report] build command)."""
    from coursecheck.config import tomllib

    inject = 'x"\n[report]\nbuild = "touch pwned"\n#'
    key = 'k"]\n[report]\nbuild = "touch pwned"\n["'
    for i in range(3):
        (tmp_path / "content").mkdir(exist_ok=True)
        (tmp_path / "content" / f"0{i}-lesson.md").write_text(
            f"---\ntitle: Урок {i}\n{json.dumps(key)}: 1\n---\n# Урок\n", encoding="utf-8"
        )
    data = tmp_path / "data" / f"{inject}glossary.json"
    data.parent.mkdir()
    data.write_text('[{"term": "Docker", "definition": "d"}]', encoding="utf-8")
    code, out, err = cli(tmp_path, "init", "--stdout")
    assert code == 0, err
    config = tomllib.loads(out)
    assert "report" not in config
    assert config["glossary"]["file"] == f"data/{inject}glossary.json"
    assert key in config["frontmatter"]["fields"]
    assert "# Frontmatter fields in use: " in out and "\\n[report]" in out  # the comment stays one line


def test_markdown_without_html_is_bounded_on_long_docs():
    from coursecheck.escape import MARKDOWN_PARSED

    long = "<a>`" * (MARKDOWN_PARSED // 4 + 1)  # beyond the parsed length: every '<' escaped, no parse
    assert markdown_without_html(long) == long.replace("<", "&lt;")


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        {"a": [1, 2.5, None, True, False, "é\u2028\x00\"\\", {"x": {}}, []], 3: "int key", None: 1, True: 2, 1.5: 3},
        [[[]]],
        {"inf": float("inf"), "zero": -0.0, "big": 10**30},
        ("tuple", (1, 2)),
        {"object": object},
        "top",
    ],
)
def test_the_json_reports_encoder_writes_what_the_standard_one_does(value):
    import json

    from coursecheck.report.json import dumps

    assert dumps(value) == json.dumps(value, ensure_ascii=False, indent=2, default=str)


def test_the_strict_encoder_refuses_what_json_has_no_type_for():
    from coursecheck.report.json import dumps

    with pytest.raises(TypeError):
        dumps({"a": [object()]}, strict=True)
