"""Benchmark: coursecheck on hostile inputs, each at several sizes (issue #17).

A repository's content is untrusted: a small file must not cost unbounded time or memory.
For each hostile input below, this builds a course in a temporary folder with the input at
each size, runs ``coursecheck --no-cache`` on it in a fresh process per measurement, and
prints one line per size: wall time, peak memory (resident set size of the process), time per
MB, the exit code, how many findings the run reported (read back from the text output's
summary line, or from the JSON report with ``--format json``: a run that crashed, hung or
wrote no report shows none) and the CPU time of markdown-it-py alone on
the same lessons (the floor coursecheck builds on), then per input whether time grows linearly:
the ratio of the time per MB (per term, for the glossary) at the largest size to the one at
the smallest (target <= 2 s per MB and a ratio near 1; a quadratic step doubles it with every
doubling of the size). Time per MB is CPU time (user and system, of the run and its
workers: on a machine shared with other jobs, wall time mostly measures the others), net of
a baseline run measured first (the same config on a one-line lesson: interpreter, imports,
config, dictionaries), which the table shows as its first line.

    python benchmarks/hostile.py                          # every input at 0.25, 0.5, 1 and 2 MB
    python benchmarks/hostile.py --sizes 0.0625,0.125,0.25 --timeout 60
    python benchmarks/hostile.py --inputs mdx-unclosed-brace,links-paragraph
    python benchmarks/hostile.py --list                   # the inputs and what each is
    PYTHONPATH=/tmp/old-checkout python benchmarks/hostile.py   # measure another checkout

A measurement that exceeds ``--timeout`` is killed and shown as ``> T s``; each run's
address space is capped (``--memory-limit``, 4 GB: one input took 14 GB before it was
bounded), so a run past it fails with an exit code other than 0 or 1. After a failure the
larger sizes of that input are skipped. Inputs whose size is not in bytes (the 364-byte alias bomb,
the glossary's term counts) say so in the size column.

Not part of the test suite (speed is measured here, never in tests): run it by hand or in a
scheduled job. The tests of the same inputs at small sizes (the findings, not the time) are in
``tests/test_security_bounds.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MB = 1 << 20

CONFIG = """
extends = ["recommended"]

[course]
content = ["content/**/*.{md,mdx}"]
data = ["data/*.{json,yaml}"]
id = "{path}"
"""

GLOSSARY_CONFIG = """
[glossary]
file = "data/glossary.json"
"""

FRONTMATTER = "---\ntitle: Lesson\n---\n\n"


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _lesson(name: str, body: str) -> dict[str, str]:
    return {f"content/{name}": FRONTMATTER + body}


def alias_bomb(_size: int) -> dict[str, str]:
    """The issue's 364 bytes: nine levels of nine aliases each (9**9 copies of a string)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        prev = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ",".join(f"*{prev}" for _ in range(9)) + "]")
    return {"content/lesson.md": "---\n" + "\n".join(lines) + "\n---\n\nText.\n"}


def alias_chain(size: int) -> dict[str, str]:
    """As many levels of nine aliases as fit: expansion 9**levels, text linear in size."""
    lines = ["l0: &l0 x"]
    k, total = 0, 10
    while total < size:
        k += 1
        line = f"l{k}: &l{k} [" + ",".join([f"*l{k - 1}"] * 9) + "]"
        lines.append(line)
        total += len(line) + 1
    return {"content/lesson.md": "---\n" + "\n".join(lines) + "\n---\n\nText.\n"}


def nested_brackets(size: int) -> dict[str, str]:
    """``tags: [[[[...`` in frontmatter (80 KB crashed the YAML composer with SIGSEGV)."""
    return {"content/lesson.md": "---\ntitle: x\ntags: " + "[" * size + "\n---\n\nText.\n"}


def data_nested(size: int) -> dict[str, str]:
    """A YAML data file of nested flow lists, and a JSON one of nested arrays."""
    half = size // 4
    return {
        **_lesson("lesson.md", "Text.\n"),
        "data/deep.yaml": "items: " + "[" * half + "]" * half + "\n",
        "data/deep.json": "[" * half + "]" * half + "\n",
    }


def data_aliases(size: int) -> dict[str, str]:
    """A YAML data file that is an alias chain (as ``yaml-alias-chain``)."""
    files = alias_chain(size)
    text = files["content/lesson.md"].split("---\n")[1]
    return {**_lesson("lesson.md", "Text.\n"), "data/bomb.yaml": text}


def unclosed_brace(size: int) -> dict[str, str]:
    """Lines of MDX text each opening a ``{`` expression that is never closed."""
    return _lesson("lesson.mdx", _repeat("Text {\n", size))


def unclosed_template(size: int) -> dict[str, str]:
    """Lines of ``<Mermaid chart={`` with template literals that never close."""
    return _lesson("lesson.mdx", _repeat("<Mermaid chart={`\n", size))


def mdx_comments(size: int) -> dict[str, str]:
    """``{/*`` and ``<!--`` openers that never close, on one line."""
    return _lesson("lesson.mdx", _repeat("{/* <!-- ", size))


def unclosed_tags(size: int) -> dict[str, str]:
    """Lines of JSX tags whose attributes never end (quotes of both kinds, expressions)."""
    return _lesson("lesson.mdx", _repeat("<Card title=\"a b={c} d='\n", size))


def nested_jsx(size: int) -> dict[str, str]:
    """JSX elements opened and never closed: ``<Box><Box><Box>...``."""
    return _lesson("lesson.mdx", _repeat("<Box>", size))


def suppression_spaces(size: int) -> dict[str, str]:
    """A suppression comment with a long run of spaces between its rule and its reason."""
    spaces = " " * size
    return _lesson("lesson.md", f"<!-- coursecheck-disable-next-line anti-patterns/todo{spaces}-- why -->\nTODO.\n")


def todo_line(size: int) -> dict[str, str]:
    """One long line of ``TODO`` markers (a finding each; snippets, caps)."""
    return _lesson("lesson.md", _repeat("TODO ", size) + "\n")


def links_paragraph(size: int) -> dict[str, str]:
    """One paragraph (no blank line) of links, ten per line."""
    return _lesson("lesson.md", _repeat("[link](other.md) " * 10 + "\n", size))


def images_open_paren(size: int) -> dict[str, str]:
    """One paragraph of reference images each followed by an unclosed ``(``."""
    return _lesson("lesson.md", _repeat("![a][r] (", size) + "\n\n[r]: /x.png\n")


def emoji_line(size: int) -> dict[str, str]:
    """One line starting with an emoji (UTF-16 columns differ) and then links."""
    return _lesson("lesson.md", "😀 " + _repeat("[a](b.md) ", size) + "\n")


def code_spans(size: int) -> dict[str, str]:
    """One paragraph of inline code spans, and backtick runs that never close."""
    spans = _repeat("`code` and ", size // 2)
    runs, k = [], 1
    while sum(len(r) for r in runs) < size // 2:
        runs.append("`" * k + "x ")
        k += 1
    return _lesson("lesson.md", spans + "\n" + "".join(runs) + "\n")


def entities(size: int) -> dict[str, str]:
    """A paragraph of entities and emphasis, whose text differs from the source."""
    return _lesson("lesson.md", _repeat("&copy; *word* &#1234; ", size) + "\n")


def deep_markdown(size: int) -> dict[str, str]:
    """Nested blockquotes and lists (markdown-it-py's nesting limit), and brackets."""
    third = size // 3
    quotes = ">" * third + " deep\n\n"
    items = "".join("  " * k + "- item\n" for k in range(int(third**0.5)))
    return _lesson("lesson.md", quotes + items + "\n" + "[" * third + "\n")


def long_line(size: int) -> dict[str, str]:
    """One line of prose with no break."""
    return _lesson("lesson.md", _repeat("word ", size) + "\n")


_SYLLABLES_RU = ["ка", "ро", "ми", "ту", "ле", "на", "зо", "пи", "ве", "ду"]
_SYLLABLES_EN = ["ka", "ro", "mi", "tu", "le", "na", "zo", "pi", "ve", "du"]


def _word(k: int, syllables: list[str]) -> str:
    parts = []
    for _ in range(4):
        parts.append(syllables[k % 10])
        k //= 10
    return "".join(parts)


def glossary(terms: int) -> dict[str, str]:
    """A glossary of N terms (made-up words) and 20 lessons that each use 50 of them."""
    entries = [{"term": _word(k, _SYLLABLES_RU), "termEn": _word(k, _SYLLABLES_EN)} for k in range(terms)]
    files = {"data/glossary.json": json.dumps(entries, ensure_ascii=False)}
    for lesson in range(20):
        lines = [f"Урок {lesson}.\n"]
        for j in range(50):
            k = (lesson * 50 + j) % terms
            lines.append(f"Здесь {entries[k]['term']} ({entries[k]['termEn']}) и текст вокруг него.\n")
        files[f"content/lesson-{lesson:02}.md"] = FRONTMATTER + "\n".join(lines)
    return files


@dataclass(frozen=True)
class Input:
    name: str
    build: Callable[[int], dict[str, str]]
    unit: str = "MB"  # MB: sizes in MB; terms: the glossary's term counts; fixed: one size
    config: str = ""


INPUTS = [
    Input("yaml-alias-bomb", alias_bomb, unit="fixed"),
    Input("yaml-alias-chain", alias_chain),
    Input("yaml-nested-brackets", nested_brackets),
    Input("data-nested", data_nested),
    Input("data-aliases", data_aliases),
    Input("mdx-unclosed-brace", unclosed_brace),
    Input("mdx-unclosed-template", unclosed_template),
    Input("mdx-unclosed-comments", mdx_comments),
    Input("mdx-unclosed-tags", unclosed_tags),
    Input("mdx-nested-jsx", nested_jsx),
    Input("suppression-spaces", suppression_spaces),
    Input("todo-line", todo_line),
    Input("links-paragraph", links_paragraph),
    Input("images-open-paren", images_open_paren),
    Input("emoji-line", emoji_line),
    Input("code-spans", code_spans),
    Input("entities", entities),
    Input("deep-markdown", deep_markdown),
    Input("long-line", long_line),
    Input("glossary", glossary, unit="terms", config=GLOSSARY_CONFIG),
]


@dataclass
class Measure:
    seconds: float  # wall
    rss_mb: float
    code: int | None  # None: killed at the timeout
    findings: int | None
    cpu: float = 0.0  # user + system seconds of the run (and of its workers)


# The floor: markdown-it-py alone on the same lessons' bodies (CPU seconds, in a child
# process), the parser coursecheck builds on; what a run takes beyond it is coursecheck's own.
_FLOOR = """
import sys, time
from markdown_it import MarkdownIt
md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
texts = [open(p, encoding="utf-8").read() for p in sys.argv[1:]]
# The body only, as coursecheck gives it to markdown-it-py: frontmatter is YAML.
texts = [t.split("\\n---\\n", 1)[-1] if t.startswith("---\\n") else t for t in texts]
start = time.process_time()
for text in texts:
    md.parse(text)
print(time.process_time() - start)
"""


def markdown_floor(root: Path, timeout: float) -> float | None:
    lessons = sorted(str(p) for p in (root / "content").rglob("*.md*"))
    try:
        done = subprocess.run(
            [sys.executable, "-c", _FLOOR, *lessons], capture_output=True, text=True, timeout=timeout, check=False
        )
        return float(done.stdout)
    except (subprocess.TimeoutExpired, ValueError):
        return None


def measure(root: Path, timeout: float, memory_mb: int = 0, output: str = "text") -> Measure:
    """Run ``coursecheck --no-cache`` in ``root`` in a fresh process; its wall time and peak RSS.
    ``memory_mb`` caps the process's address space (a run past it fails with MemoryError).
    ``output``: the text output (the default a user sees), or the JSON report."""
    out = root / ("out.json" if output == "json" else "out.txt")
    cmd = [sys.executable, "-m", "coursecheck", "--no-cache", "--no-progress"]
    if output == "json":
        cmd += ["-f", "json", "-o", str(out)]
    env = {**os.environ, "NO_COLOR": "1"}

    def limit() -> None:
        if memory_mb:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

    start = time.perf_counter()
    with open(out if output == "text" else os.devnull, "wb") as stdout:
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=limit,
        )
    deadline = start + timeout
    peak_kb = 0
    while True:
        peak_kb = max(peak_kb, _high_water_kb(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, _, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return Measure(time.perf_counter() - start, peak_kb / 1024, None, None, usage.ru_utime + usage.ru_stime)
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if not peak_kb:  # no /proc: the kernel's figure (it may include this process's own size)
        peak_kb = usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime
    found = _count_findings(out) if output == "json" else _count_from_summary(out)
    return Measure(seconds, peak_kb / 1024, proc.returncode, found, cpu)


_SUMMARY = re.compile(rb"Checked [\d,]+ files?: ([\d,]+) errors?, ([\d,]+) warnings?, ([\d,]+) notes?")


def _count_from_summary(out: Path) -> int | None:
    """Findings the text output's last line counts (None: no summary, the run did not end)."""
    try:
        with open(out, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
            tail = f.read()
    except OSError:
        return None
    found = _SUMMARY.findall(tail)
    return sum(int(g.replace(b",", b"")) for g in found[-1]) if found else None


def _high_water_kb(pid: int) -> int:
    """The process's peak resident set size (VmHWM) so far, from /proc; 0 when unknown.

    Not ``ru_maxrss`` of the child: Linux counts there the memory of the process it was
    forked from, before ``exec`` (this one, which grows as it reads big reports).
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _count_findings(out: Path) -> int | None:
    """How many findings the JSON report lists (None: no readable report), read in a child
    process so that this one stays small."""
    if not out.exists():
        return None
    code = "import json,sys; print(len(json.load(open(sys.argv[1], encoding='utf-8'))['findings']))"
    result = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, check=False)
    try:
        return int(result.stdout)
    except ValueError:
        return None


def build(root: Path, item: Input, size: int) -> int:
    """Write the course for ``item`` at ``size``; returns the bytes of its hostile files."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / ".coursecheck.toml").write_text(CONFIG + item.config, encoding="utf-8")
    total = 0
    for rel, text in item.build(size).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        total += len(data)
    return total


def run(
    items: list[Input],
    sizes_mb: list[float],
    terms: list[int],
    timeout: float,
    floors: bool = True,
    memory_mb: int = 0,
    output: str = "text",
) -> None:
    header = (
        f"{'input':24} {'size':>10} {'wall':>9} {'CPU':>8} {'peak RSS':>9} {'per MB':>9} {'rc':>3} {'findings':>8} "
        f"{'mdit':>8}"
    )
    print(header)
    print("-" * len(header))
    summary = []
    with tempfile.TemporaryDirectory(prefix="cc-hostile-") as tmp:
        root = Path(tmp) / "course"
        base = _baseline(root, timeout, output)
        print(
            f"{'baseline':24} {'':>10} {base.seconds:>7.2f} s {base.cpu:>6.2f} s {base.rss_mb:>6.0f} MB {'':>9} "
            f"{base.code!s:>3}"
        )
        for item in items:
            if item.unit == "fixed":
                sizes: list[int] = [0]
            elif item.unit == "terms":
                sizes = terms
            else:
                sizes = [int(mb * MB) for mb in sizes_mb]
            per_unit: list[tuple[int, float]] = []
            for size in sizes:
                nbytes = build(root, item, size)
                m = measure(root, timeout, memory_mb, output)
                if item.unit == "terms":
                    shown, unit_size = f"{size} terms", size
                else:
                    shown, unit_size = _size(nbytes), nbytes / MB
                wall = f"> {timeout:.0f} s" if m.code is None else f"{m.seconds:.2f} s"
                per = max(m.cpu - base.cpu, 0.0) / unit_size if unit_size else 0.0
                per_shown = "" if item.unit == "fixed" else (f"{per * 1000:.1f} ms" if item.unit == "terms" else f"{per:.2f} s")
                found = "" if m.findings is None else str(m.findings)
                rc = "-" if m.code is None else str(m.code)
                floor = markdown_floor(root, timeout) if floors else None
                floor_shown = "" if floor is None else f"{floor:.2f} s"
                print(
                    f"{item.name:24} {shown:>10} {wall:>9} {m.cpu:>6.2f} s {m.rss_mb:>6.0f} MB {per_shown:>9} {rc:>3} "
                    f"{found:>8} {floor_shown:>8}",
                    flush=True,
                )
                if m.code not in (0, 1):  # killed at the timeout, crashed, or out of memory
                    break
                per_unit.append((unit_size, per))
            if item.unit != "fixed" and len(per_unit) >= 2 and len(per_unit) == len(sizes):
                per_what = "term" if item.unit == "terms" else "MB"
                if per_unit[0][1] * per_unit[0][0] < 0.05:  # the smallest size costs nothing beyond the baseline
                    summary.append(f"{item.name}: per-{per_what} ratio n/a (the smallest size costs no more than baseline)")
                else:
                    ratio = per_unit[-1][1] / per_unit[0][1]
                    summary.append(f"{item.name}: per-{per_what} ratio largest/smallest {ratio:.2f}")
            elif item.unit != "fixed":
                summary.append(f"{item.name}: failed or timed out (not bounded at these sizes)")
    print()
    for line in summary:
        print(line)


def _baseline(root: Path, timeout: float, output: str) -> Measure:
    """The fixed cost of a run: the same config on a one-line lesson (the best of three)."""
    build(root, Input("baseline", lambda _size: _lesson("lesson.md", "Text.\n")), 0)
    return min((measure(root, timeout, output=output) for _ in range(3)), key=lambda m: m.cpu)


def _size(nbytes: int) -> str:
    return f"{nbytes / MB:.2f} MB" if nbytes >= 10_000 else f"{nbytes} B"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="0.25,0.5,1,2", help="sizes in MB, comma-separated")
    parser.add_argument("--terms", default="250,500,1000,2000", help="glossary sizes, comma-separated")
    parser.add_argument("--inputs", default="", help="input names, comma-separated (default: all)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a run is killed")
    parser.add_argument("--list", action="store_true", help="list the inputs and exit")
    parser.add_argument("--no-floor", action="store_true", help="do not time markdown-it-py alone on each input")
    parser.add_argument(
        "--memory-limit", type=int, default=4096, help="MB of address space each run may take (0: no limit)"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="the output measured (json adds document outlines)"
    )
    args = parser.parse_args()
    if args.list:
        for item in INPUTS:
            print(f"{item.name:24} {(item.build.__doc__ or '').strip()}")
        return
    wanted = [n for n in args.inputs.split(",") if n]
    unknown = set(wanted) - {i.name for i in INPUTS}
    if unknown:
        parser.error(f"unknown inputs: {', '.join(sorted(unknown))} (see --list)")
    items = [i for i in INPUTS if not wanted or i.name in wanted]
    sizes = [float(s) for s in args.sizes.split(",")]
    terms = [int(t) for t in args.terms.split(",")]
    run(items, sizes, terms, args.timeout, floors=not args.no_floor, memory_mb=args.memory_limit, output=args.format)


if __name__ == "__main__":
    main()
