"""The broken-MDX set against ``@mdx-js/mdx``'s ``compile`` (``mdx_harness.py --broken``).

``tests/fixtures/mdx_broken/`` holds small MDX files written for this: unclosed and
mismatched tags, stray ``{`` and ``</...>``, ``<`` before a character that cannot start a tag
name, HTML comments and autolinks (not MDX), and a few valid files that look broken. For each,
the compiler's verdict (and the line its error names: the tag a "closing tag expected" error
names, else the error's place) is compared with coursecheck's ``parse/mdx-syntax`` findings:
the same verdict, and a finding within one line of the compiler's.

Deliberate difference: where the compiler names the end of the file ("Unexpected end of file
in attribute value" for a quote never closed), coursecheck names the opener, where the fix
is; such a case counts as agreeing when the finding is at or before the compiler's line.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "mdx_broken"


def syntax_lines(path: Path) -> list[int]:
    sys.path.insert(0, str(REPO))
    from coursecheck.parse.markdown import parse_markdown
    from coursecheck.text import decode_source, normalize_newlines

    text, has_bom = decode_source(path.read_bytes())
    doc = parse_markdown(path, path.name, normalize_newlines(text), mdx=True, has_bom=has_bom)
    return [f.span.line for f in doc.problems if f.rule_id == "parse/mdx-syntax"]


def compare_broken(script: Path) -> list[dict[str, object]]:
    """One row per fixture: the compiler's verdict and line, coursecheck's, and whether they agree."""
    from mdx_harness import run_reference  # beside this script

    files = sorted(FIXTURES.glob("*.mdx"))
    refs = run_reference(script, [(p, True) for p in files], compile_too=True)
    rows: list[dict[str, object]] = []
    for path, ref in zip(files, refs, strict=True):
        ours = syntax_lines(path)
        broken = not ref.get("compiles")
        error = ref.get("compile_error") or {}
        line = error.get("line")
        message = str(error.get("message", ""))
        at_eof = message.startswith("Unexpected end of file")
        if broken != bool(ours):
            agree = False
        elif not broken:
            agree = True
        else:
            agree = any(abs(x - line) <= 1 for x in ours) or (at_eof and min(ours) <= line)
        rows.append(
            {
                "file": path.name,
                "compiles": not broken,
                "compile_line": line,
                "compile_message": message[:100],
                "coursecheck_lines": ours,
                "agree": agree,
                "eof": broken and at_eof and not any(abs(x - line) <= 1 for x in ours),
            }
        )
    return rows


def run_broken(script: Path) -> int:
    rows = compare_broken(script)
    print("| file | compile | its line | coursecheck parse/mdx-syntax lines | agree |")
    print("|---|---|---|---|---|")
    for row in rows:
        verdict = "ok" if row["compiles"] else "rejects"
        note = " (compile names the end of the file; coursecheck the opener)" if row["eof"] else ""
        lines = ", ".join(map(str, row["coursecheck_lines"])) or "none"  # type: ignore[arg-type]
        print(f"| {row['file']} | {verdict} | {row['compile_line'] or ''} | {lines} | {'yes' if row['agree'] else 'NO'}{note} |")
    agreed = sum(1 for row in rows if row["agree"])
    print(f"\n{agreed} of {len(rows)} agree")
    return 0 if agreed == len(rows) else 1
