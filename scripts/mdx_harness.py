"""Differential harness: coursecheck's document model against the MDX compiler's parsers.

For each file a course checks, compare element by element what coursecheck's model holds
with what the parsers of the MDX compiler see (npm: unified, remark-parse, remark-mdx,
remark-gfm, remark-frontmatter; ``@mdx-js/mdx``'s ``compile`` for broken files):

* headings (line, level, text), code blocks (first and last line, language), JSX elements
  (line, name), internal links (line, target: Markdown links, reference links resolved to
  their definitions at the place of use, autolinks), links in JSX props (``href``, ``to``),
  images (kept apart from links);
* ``parse/mdx-syntax``: a finding on a file the reference parses is a false error, a file
  the reference rejects without one is a miss (with ``--broken``: the line must agree ±1).

Agreement per kind is matched / union of the (file, key) multisets. Run it by hand (not
part of the test suite; ``tests/acceptance/test_mdx_reference.py`` runs a small part)::

    python scripts/mdx_harness.py                   # every corpus in ../shared/corpora, the demo, the tricky cases
    python scripts/mdx_harness.py clerk-docs demo   # some of them
    python scripts/mdx_harness.py --path DIR        # any folder (its own .coursecheck.toml, or init writes one)
    python scripts/mdx_harness.py --broken          # the broken-file set: verdict and line vs @mdx-js/mdx compile
    python scripts/mdx_harness.py --json out.json   # also keep every figure and difference

A corpus is copied to a temporary folder, made a git repository and given the config
``coursecheck init`` writes; the files that config checks (Markdown and MDX) are compared.
The npm packages are installed (pinned, ``scripts/mdx-reference/package.json``) into a folder
the harness owns: ``$COURSECHECK_MDX_REFERENCE`` or ``~/.cache/coursecheck/mdx-reference``.

Deliberate differences (the model is not a copy of mdast; each is said in the output):

* links in JSX props (``<a href="/x">``, ``<Card to="/y">``): mdast has no link there, the
  model has one (origin ``jsx``); compared with the reference's JSX attributes of those names;
* GFM autolink literals (a bare ``https://...`` in prose) are external and not compared;
* an unclosed fence ends at the file's last line (mdast: past the final newline);
* expressions and ESM are not parsed as JavaScript, and the tag check does not follow block
  quotes and list items (the printed notes and docs/document-model.md say what follows).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from coursecheck.parse.markdown import parse_markdown  # noqa: E402
from coursecheck.text import decode_source, normalize_newlines  # noqa: E402

REFERENCE_SOURCE = REPO / "scripts" / "mdx-reference"
CORPORA = REPO.parent.parent / "shared" / "corpora"  # /work/wt/NAME -> /work/shared/corpora
if not CORPORA.is_dir():
    CORPORA = REPO.parent / "shared" / "corpora"
CORPUS_NAMES = ("debezium-course-07", "clerk-docs", "doka-guide", "solana-developer-content")
KINDS = ("headings", "code blocks", "JSX components", "internal links", "JSX-prop links", "images")
LINK_PROPS = ("href", "to")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


def reference_dir() -> Path:
    env = os.environ.get("COURSECHECK_MDX_REFERENCE")
    if env:
        return Path(env)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "coursecheck" / "mdx-reference"


def ensure_reference(quiet: bool = False) -> Path:
    """Install the reference's npm packages into its folder (once; again when the pinned
    versions change). Returns the script to run with Node. Raises RuntimeError when Node or
    npm is missing or the install fails."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("Node.js and npm are needed for the reference parsers")
    target = reference_dir()
    target.mkdir(parents=True, exist_ok=True)
    wanted = (REFERENCE_SOURCE / "package.json").read_bytes()
    installed = target / "package.json"
    if not installed.is_file() or installed.read_bytes() != wanted or not (target / "node_modules").is_dir():
        installed.write_bytes(wanted)
        if not quiet:
            print(f"installing the reference parsers into {target} ...", file=sys.stderr)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=target,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            installed.unlink()
            raise RuntimeError(f"npm install failed: {done.stderr.strip()[-2000:]}")
    script = target / "reference.mjs"
    source = (REFERENCE_SOURCE / "reference.mjs").read_bytes()
    if not script.is_file() or script.read_bytes() != source:
        script.write_bytes(source)
    return script


def run_reference(script: Path, files: list[tuple[Path, bool]], compile_too: bool = False) -> list[dict[str, Any]]:
    requests = "".join(json.dumps({"path": str(p), "mdx": mdx, "compile": compile_too}) + "\n" for p, mdx in files)
    done = subprocess.run(["node", str(script)], input=requests, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the reference script failed: {done.stderr.strip()[-2000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def internal(url: str) -> bool:
    return bool(url) and not _SCHEME.match(url)


def _norm_text(text: str) -> str:
    return " ".join(text.split())


def _norm_url(url: str) -> str:
    return unquote(url).strip()


@dataclass
class FileCompare:
    path: str
    model: dict[str, Counter[tuple[Any, ...]]]
    reference: dict[str, Counter[tuple[Any, ...]]]
    reference_ok: bool
    reference_error: dict[str, Any] | None
    syntax_lines: list[int]  # lines of parse/mdx-syntax findings
    fence_lines: list[int]  # lines of parse/unterminated-fence findings


def model_elements(
    path: Path, relpath: str, mdx: bool
) -> tuple[dict[str, Counter[tuple[Any, ...]]], list[int], list[int], int]:
    text, has_bom = decode_source(path.read_bytes())
    doc = parse_markdown(path, relpath, normalize_newlines(text), mdx=mdx, has_bom=has_bom)
    out: dict[str, Counter[tuple[Any, ...]]] = {kind: Counter() for kind in KINDS}
    for h in doc.headings:
        out["headings"][(h.span.line, h.level, _norm_text(h.text))] += 1
    for block in doc.code_blocks:
        out["code blocks"][(block.span.line, block.span.end_line, block.language)] += 1
    for comp in doc.components:
        out["JSX components"][(comp.span.line, comp.name)] += 1
    for link in doc.links:
        if not internal(link.href):
            continue
        kind = "JSX-prop links" if link.origin == "jsx" else "internal links"
        out[kind][(link.span.line, _norm_url(link.href))] += 1
    for image in doc.images:
        out["images"][(image.span.line, _norm_url(image.href))] += 1
    syntax = [f.span.line for f in doc.problems if f.rule_id == "parse/mdx-syntax"]
    fences = [f.span.line for f in doc.problems if f.rule_id == "parse/unterminated-fence"]
    return out, syntax, fences, doc.line_count


def reference_elements(ref: dict[str, Any], line_count: int = 0) -> dict[str, Counter[tuple[Any, ...]]]:
    out: dict[str, Counter[tuple[Any, ...]]] = {kind: Counter() for kind in KINDS}
    if not ref.get("ok"):
        return out
    for h in ref["headings"]:
        out["headings"][(h["line"], h["depth"], _norm_text(h["text"]))] += 1
    for c in ref["code"]:
        # An unclosed fence: mdast ends it at the end of the file, past a final newline (on a
        # line of its own); the model at the file's last line.
        end_line = min(c["end_line"], line_count) if line_count else c["end_line"]
        out["code blocks"][(c["line"], end_line, c["lang"])] += 1
    for j in ref["jsx"]:
        out["JSX components"][(j["line"], j["name"])] += 1
        for attr in j["attributes"]:
            if attr["name"] in LINK_PROPS and isinstance(attr["value"], str) and internal(attr["value"]):
                out["JSX-prop links"][(attr["line"], _norm_url(attr["value"]))] += 1
    for link in ref["links"]:
        if internal(link["url"]):
            out["internal links"][(link["line"], _norm_url(link["url"]))] += 1
    for image in ref["images"]:
        out["images"][(image["line"], _norm_url(image["url"]))] += 1
    return out


@dataclass
class Tally:
    matched: Counter[str] = field(default_factory=Counter)
    union: Counter[str] = field(default_factory=Counter)
    differences: dict[str, list[str]] = field(default_factory=dict)
    files: int = 0
    reference_rejects: int = 0
    false_syntax: list[str] = field(default_factory=list)  # findings on files the reference parses
    missed_syntax: list[str] = field(default_factory=list)  # files the reference rejects, without a finding

    def agreement(self, kind: str) -> float | None:
        return None if not self.union[kind] else 100.0 * self.matched[kind] / self.union[kind]


def compare(files: list[FileCompare], keep: int = 8) -> Tally:
    tally = Tally()
    for f in files:
        tally.files += 1
        if not f.reference_ok:
            tally.reference_rejects += 1
            if not f.syntax_lines:
                err = f.reference_error or {}
                tally.missed_syntax.append(f"{f.path}:{err.get('line')}: {err.get('message', '')[:120]}")
            continue  # elements of a file the reference cannot parse are not compared
        for line in f.syntax_lines:
            tally.false_syntax.append(f"{f.path}:{line}")
        for kind in KINDS:
            m, r = f.model[kind], f.reference[kind]
            both = m & r
            tally.matched[kind] += sum(both.values())
            tally.union[kind] += sum((m | r).values())
            shown = tally.differences.setdefault(kind, [])
            if len(shown) < keep:
                only_m = sorted((m - r).elements())
                only_r = sorted((r - m).elements())
                for key in only_m[:2]:
                    shown.append(f"{f.path}:{key[0]}: model only {key[1:]}")
                for key in only_r[:2]:
                    shown.append(f"{f.path}:{key[0]}: reference only {key[1:]}")
    return tally


def collect(root: Path, relpaths: list[str], script: Path) -> list[FileCompare]:
    picked = [(rel, rel.lower().endswith(".mdx")) for rel in relpaths if rel.lower().endswith((".md", ".mdx", ".markdown"))]
    refs = run_reference(script, [(root / rel, mdx) for rel, mdx in picked])
    out: list[FileCompare] = []
    for (rel, mdx), ref in zip(picked, refs, strict=True):
        model, syntax, fences, line_count = model_elements(root / rel, rel, mdx)
        out.append(
            FileCompare(
                rel, model, reference_elements(ref, line_count), bool(ref.get("ok")), ref.get("error"), syntax, fences
            )
        )
    return out


def checked_files(root: Path, config: Path | None = None) -> list[str]:
    """The Markdown and MDX files the config checks (a run of coursecheck, JSON output)."""
    args = [sys.executable, "-m", "coursecheck", "--format", "json", "--no-cache", "--no-progress", "--root", str(root)]
    if config is not None:
        args += ["--config", str(config)]
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"coursecheck failed on {root}: {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    return [f["path"] for f in report["files"] if f["kind"] in ("markdown", "mdx")]


def prepare_corpus(source: Path, workdir: Path) -> Path:
    """A copy of the corpus in ``workdir``, a git repository with the config init writes."""
    target = workdir / source.name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    config = target / ".coursecheck.toml"
    if config.exists():
        config.unlink()
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    done = subprocess.run([sys.executable, "-m", "coursecheck", "init"], cwd=target, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"coursecheck init failed on {target}: {done.stderr.strip()[-2000:]}")
    return target


# -- the generated tricky cases ------------------------------------------------------------

TRICKY: dict[str, str] = {
    "fence-in-jsx.mdx": "<Tabs>\n  <Tab>\n    ```yaml\n    a: 1\n\n    b: <Not/> [x](/in-code)\n    ```\n  </Tab>\n</Tabs>\n\n[after](/after)\n",
    "fence-in-list.md": "- item\n\n  ```html\n  <div>\n\n  <a href=\"/x\">x</a>\n  ```\n\n- next [l](/list-link)\n",
    "fence-in-list.mdx": "1. step\n\n   ```js\n   const a = {\n\n   };\n   ```\n\n2. then <Badge>ok</Badge>\n",
    "fence-in-quote.mdx": "> ```sh\n> echo {x}\n>\n> echo <y>\n> ```\n\n> [q](/quoted)\n",
    "tilde-fence.mdx": "~~~md\n```\nnot a closer\n```\n~~~\n\n## After tilde\n",
    "fence-backtick-info.md": "``` a`b\ncode\n```\n\n# Heading\n",
    "fence-longer-closer.mdx": "````\n```\ninner\n```\n````\n\n<Note>x</Note>\n",
    "indented-code.md": "para\n\n    indented code [x](/not-a-link)\n    more\n\n# H\n",
    "indented-mdx.mdx": "para\n\n    not code in MDX [x](/is-a-link)\n",
    "html-block.md": "<div>\n[inside](/html-link)\n</div>\n\n<details>\n\n[md](/md-in-details)\n\n</details>\n",
    "jsx-braces.mdx": '<Card title={"a } b"} data={{ x: "}" }} to="/card">\n\nText `{code}` {"}"} end\n\n</Card>\n',
    "jsx-template.mdx": "<Chart spec={`\na: {b}\n\n}`} />\n\n# After chart\n",
    "reference-links.md": "See [one][a], [two][], [Three] and [four][B].\n\n[a]: /ref/a\n[two]: </ref/two> \"T\"\n[three]: /ref/three\n[b]: /ref/b 'title'\n",
    "reference-links.mdx": "Use [the guide][guide] or [`code`][guide].\n\n[guide]: /guide\n",
    "reference-image.md": "![alt][img] and [link](/l) and ![inline](/i.png)\n\n[img]: /img.png\n",
    "setext.md": "Title\n=====\n\nSub `code`\n---\n\ntext\n",
    "heading-code.mdx": "## `useAuth()`\n\n### The `<SignIn />` component\n",
    "frontmatter-yaml.mdx": "---\ntitle: A\n---\n\n# H1\n",
    "frontmatter-toml.md": "+++\ntitle = \"A\"\n+++\n\n# H1\n",
    "frontmatter-empty.md": "---\n---\n# H\n",
    "crlf.mdx": "---\r\ntitle: x\r\n---\r\n# Head\r\n\r\n[l](/crlf)\r\n\r\n<Tag />\r\n",
    "bom.md": "\ufeff# BOM heading\n\n[l](/bom)\n",
    "autolinks.md": "Mail <team@example.org> and <https://example.com> then [x](/after-autolink) and [y\n",
    "gfm-autolink.mdx": "Visit https://example.com or www.example.com, and [x](/x).\n",
    "nested-links.md": "[a [b](/inner) c](/outer) [![img](/i.png)](/wrapped)\n",
    "link-angle.md": "[a](</with space>) [b](/p(1)) [c](/t \"title\")\n",
    "esm.mdx": "import { A } from './a'\nexport const meta = { x: 1 }\n\n# Title\n\n<A />\n",
    "comments.mdx": "{/* a comment */}\n\n# H {/* inline */}\n\n<!-- html comment in md -->\n",
    "jsx-inline.mdx": "Text with <Kbd>Ctrl</Kbd> and <a href=\"/doc\">doc</a> and <Link to=\"/to\">to</Link>.\n",
    "jsx-expression-jsx.mdx": "{cond && <Inside />}\n\n<Outer render={<Inner />} />\n",
    "table.md": "| a | b |\n|---|---|\n| [x](/cell) | `c|d` |\n",
    "emphasis-link.md": "*[em](/em)* __[strong](/strong)__\n",
    "entity.md": "[a&amp;b](/a&amp;b) &copy; [c](/c%20d)\n",
    "lazy-quote.mdx": "> quote\nlazy [l](/lazy)\n\n> <Q>x</Q>\n",
    "list-jsx.mdx": "- <Icon /> item\n  - nested [n](/nested)\n",
    "html-in-heading.md": "# A <span>b</span> c\n",
    "jsx-multiline.mdx": "<Card\n  title=\"x\"\n  href=\"/multi\"\n>\n  body\n</Card>\n",
}


def write_tricky(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name, text in TRICKY.items():
        (target / name).write_bytes(text.encode("utf-8"))
    return target


# -- report -----------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} %" if value < 100 else "100 %"


def table(results: dict[str, Tally]) -> str:
    head = "| corpus | files | " + " | ".join(KINDS) + " | false mdx-syntax | missed (reference rejects) |"
    rule = "|---" * (len(KINDS) + 4) + "|"
    rows = [head, rule]
    for name, t in results.items():
        cells = [f"{_pct(t.agreement(k))} ({t.matched[k]}/{t.union[k]})" for k in KINDS]
        false_files = len({x.rsplit(":", 1)[0] for x in t.false_syntax})
        rows.append(
            f"| {name} | {t.files} | " + " | ".join(cells)
            + f" | {len(t.false_syntax)} in {false_files} files | {len(t.missed_syntax)} of {t.reference_rejects} |"
        )
    return "\n".join(rows)


def details(name: str, t: Tally) -> str:
    out = [f"\n## {name}: first differences"]
    for kind in KINDS:
        shown = t.differences.get(kind) or []
        if shown:
            out.append(f"{kind}:")
            out.extend(f"  {line}" for line in shown)
    if t.false_syntax:
        out.append("false parse/mdx-syntax (the reference parses the file):")
        out.extend(f"  {x}" for x in t.false_syntax[:10])
    if t.missed_syntax:
        out.append("files the reference rejects, without parse/mdx-syntax:")
        out.extend(f"  {x}" for x in t.missed_syntax[:10])
    return "\n".join(out)


NOTES = """
Deliberate differences (docs/document-model.md): links in JSX props (href, to) are links in
the model (origin jsx) and attributes in mdast: compared with the reference's JSX attributes
of those names (a string, or an expression that is a string or a template literal without
${}). GFM autolink literals are external links: not compared. An unclosed fence ends at the
file's last line (mdast: past the final newline). Expressions and ESM are not parsed as
JavaScript: a file the reference rejects for its JavaScript alone ("Could not parse
expression with acorn") has no parse/mdx-syntax finding. The tag check does not follow
block quotes and list items: a tag closed outside the container it opened in is not
reported. Elements of files the reference cannot parse are not compared (the file is
broken: see the last columns).
"""


def run_named(names: list[str], workdir: Path, script: Path) -> dict[str, Tally]:
    results: dict[str, Tally] = {}
    for name in names:
        if name == "demo":
            root = REPO
            files = checked_files(REPO)
        elif name == "tricky":
            root = write_tricky(workdir / "tricky")
            files = sorted(TRICKY)
        else:
            source = Path(name) if Path(name).is_absolute() or not (CORPORA / name).is_dir() else CORPORA / name
            if not source.is_dir():
                print(f"skipped {name}: no folder {source}", file=sys.stderr)
                continue
            root = prepare_corpus(source, workdir)
            files = checked_files(root)
        results[name] = compare(collect(root, files, script))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="corpora (folder names in ../shared/corpora or paths), demo, tricky")
    parser.add_argument("--workdir", type=Path, help="where corpora are copied (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="write the figures and differences here")
    parser.add_argument("--broken", action="store_true", help="the broken-file set against @mdx-js/mdx compile")
    parser.add_argument("--keep", type=int, default=8)
    args = parser.parse_args(argv)
    script = ensure_reference()
    if args.broken:
        from broken_mdx import run_broken  # beside this script

        return run_broken(script)
    # gsd-phases holds whole repositories (one per phase, "tree/"): each is a corpus.
    phases = sorted(f"gsd-phases/{p.parent.name}/tree" for p in (CORPORA / "gsd-phases").glob("*/tree"))
    names = args.names or [*CORPUS_NAMES, *phases, "demo", "tricky"]
    with tempfile.TemporaryDirectory(prefix="mdx-harness-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run_named(names, workdir, script)
    print(table(results))
    print(NOTES.strip())
    for name, t in results.items():
        print(details(name, t))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    name: {
                        "files": t.files,
                        "agreement": {k: t.agreement(k) for k in KINDS},
                        "matched": dict(t.matched),
                        "union": dict(t.union),
                        "false_syntax": t.false_syntax,
                        "missed_syntax": t.missed_syntax,
                        "differences": t.differences,
                    }
                    for name, t in results.items()
                },
                indent=1,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
