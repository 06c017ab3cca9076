"""Benchmark: coursecheck against the floor (a bare markdown-it-py parse of the same files).

Prints ratios measured in one run, so machine speed cancels out:

    python benchmarks/run.py                       # the demo course, replicated to 500 and 5,000 lessons
    python benchmarks/run.py --corpus PATH --config CONFIG   # a real course, replicated
    python benchmarks/run.py --sizes 200 --repeat 3

It builds a course in a temporary folder by copying the lessons of the source course under
numbered module folders (content identical, paths unique), then times, in the same process:
a bare single-process markdown-it-py parse of every lesson (the floor); a full coursecheck
check (no cache) of the same files. Not part of the test suite: run it by hand or in a
scheduled job.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from coursecheck.config import load_config  # noqa: E402
from coursecheck.engine import Engine, RunOptions  # noqa: E402

DEMO_CONFIG = """
[course]
content = ["content/**/*.{md,mdx}"]
data = ["data/*.json"]
id = "{path}"
aliases = ["{dir|unnumbered}/{stem}", "/course/{path}"]
"""


def source_lessons(corpus: Path | None) -> tuple[list[Path], Path | None]:
    if corpus is None:
        base = REPO / "examples" / "course" / "content"
        data = REPO / "examples" / "course" / "data"
    else:
        base = corpus
        data = None
    lessons = sorted(p for p in base.rglob("*") if p.suffix in (".md", ".mdx") and "node_modules" not in p.parts)
    lessons = [p for p in lessons if p.name.lower() != "readme.md"]
    return lessons, data


def build_course(target: Path, lessons: list[Path], data: Path | None, size: int) -> list[Path]:
    content = target / "content"
    written: list[Path] = []
    i = 0
    while len(written) < size:
        module = content / f"{i // len(lessons) + 1:04d}-module-{i // len(lessons) + 1}"
        src = lessons[i % len(lessons)]
        dest = module / f"{i % len(lessons) + 1:02d}-{src.name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        written.append(dest)
        i += 1
    if data is not None and data.is_dir():
        shutil.copytree(data, target / "data")
    (target / ".coursecheck.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    return written


def time_bare_parse(files: list[Path]) -> float:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    started = time.perf_counter()
    for path in files:
        md.parse(path.read_text(encoding="utf-8"))
    return time.perf_counter() - started


def time_check(root: Path) -> tuple[float, int]:
    config = load_config(root / ".coursecheck.toml", root)
    started = time.perf_counter()
    result = Engine(config, RunOptions(entry_points=False)).run()
    return time.perf_counter() - started, len(result.findings)


def peak_memory_mb(root: Path) -> float:
    tracemalloc.start()
    time_check(root)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="folder of a real course's lessons (default: the demo course)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000], help="lesson counts to build")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median is printed)")
    parser.add_argument("--memory", action="store_true", help="also measure peak Python memory (slow: tracemalloc)")
    args = parser.parse_args()
    lessons, data = source_lessons(args.corpus)
    if not lessons:
        print("no lessons found", file=sys.stderr)
        return 2
    print(
        f"source: {args.corpus or 'demo course'} ({len(lessons)} lessons); {os.cpu_count()} CPUs; Python {sys.version.split()[0]}"
    )
    per_file: dict[int, float] = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="coursecheck-bench-") as tmp:
            root = Path(tmp)
            files = build_course(root, lessons, data, size)
            bare = statistics.median(time_bare_parse(files) for _ in range(args.repeat))
            runs = []
            findings = 0
            for _ in range(args.repeat):
                gc.collect()
                elapsed, findings = time_check(root)
                runs.append(elapsed)
            full = statistics.median(runs)
            per_file[size] = full / size
            print(
                f"{size:>6} lessons: bare markdown-it-py parse {bare:7.2f}s ({bare / size * 1000:.1f} ms/lesson); "
                f"coursecheck cold check {full:7.2f}s ({full / size * 1000:.1f} ms/lesson, {findings} findings); "
                f"ratio {full / bare:.2f}x"
            )
            if args.memory:
                print(f"        peak Python memory during a check: {peak_memory_mb(root):.0f} MB")
    if len(per_file) >= 2:
        small, large = min(per_file), max(per_file)
        print(f"time per file at {large} vs {small} lessons: {per_file[large] / per_file[small]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
