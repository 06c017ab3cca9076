"""Benchmark: coursecheck against the floor (a bare markdown-it-py parse of the same files),
against itself (cache, one changed file, course size, lesson length) and against
markdownlint-cli2 when it is installed.

Prints ratios measured in one run, so machine speed cancels out:

    python benchmarks/run.py                       # the demo course, replicated to 500 and 5,000 lessons
    python benchmarks/run.py --corpus PATH         # a real course's lessons, replicated
    python benchmarks/run.py --corpus PATH --config CONFIG.toml   # ... checked with that config
    python benchmarks/run.py --sizes 500 --repeat 3
    python benchmarks/run.py --markdownlint /tmp/mdl/node_modules/.bin/markdownlint-cli2

It builds a course in a temporary folder by copying the lessons of the source course under
numbered module folders (content identical, paths unique). Every check runs in a fresh
process (``--child``) that reports its own wall time (config, plugins, the run) and peak
memory (resident set size of the main process and of its largest worker). Figures:

* cold check, one process, no cache, vs the bare single-process parse (target <= 1.5x);
* cold check, worker processes, empty cache, vs the bare parse (target <= 1.0x with 2 CPUs);
* warm re-run vs cold (target <= 5 %); one changed lesson vs cold (target <= 3 %), both the
  whole course and pre-commit style (the changed file given as PATH), for a sentence added
  at the end of a lesson (course rules see no change: their stored findings are reused) and
  for a paragraph inserted at its top (every link and heading below moves: the relocatable
  course rules' stored findings move with their lines, the others run again); each of the
  three timed right after the write and again 2.1 s after it (its own line, same target): a
  file written within the run index's 2 s racy margin is not recorded, so only the later run
  pays for rewriting the index, as a user who saves and runs a few seconds later does;
* time per file at the largest vs the smallest size (target <= 1.2x);
* one lesson repeated 8x vs the lesson (target <= 8.8x);
* peak memory (target <= 400 MB); markdownlint-cli2 (default rules) on the same files;
* ``--shard K/N`` for each of N shards (default 3) and the merge: shard balance, the
  largest shard's time over the mean (target <= 1.2);
* ``--spelling`` (a separate mode): the cold single-process check with the spelling rules
  off and on, alternating: what spelling adds to the per-file time (target <= 20 %).
* ``coursecheck init`` (``--init`` alone: only this) on the same course against the cold
  check, both with the same worker count (one per CPU), no cache: init reads each file once,
  in parallel (target <= 0.5x).
* each output format (``--formats``; ``--formats-only``: only this): ``coursecheck -f FORMAT
  -o FILE`` as a user runs it (the Markdown report as ``coursecheck report -o FILE``), cold
  (empty cache) and then warm (nothing changed), both in that format, each in a fresh
  process: the warm run against the cold one (target <= 5 %).

Not part of the test suite: run it by hand or in a scheduled job.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

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


def build_course(target: Path, lessons: list[Path], data: Path | None, size: int, config: str) -> list[Path]:
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
    (target / ".coursecheck.toml").write_text(config, encoding="utf-8")
    return written


# -- the floor --------------------------------------------------------------------------


def _bare_parse_file(path: Path) -> int:
    from markdown_it import MarkdownIt

    global _MD
    if _MD is None:
        _MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    return len(_MD.parse(path.read_text(encoding="utf-8")))


_MD = None


def time_bare_parse(files: list[Path], processes: int = 1) -> float:
    started = time.perf_counter()
    if processes == 1:
        for path in files:
            _bare_parse_file(path)
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(_bare_parse_file, files, chunksize=max(1, len(files) // (processes * 8)))
    return time.perf_counter() - started


# -- a check in a fresh process -----------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    """``--child ROOT``: one check, printed as JSON (time, findings, memory, cache)."""
    started = time.perf_counter()
    from coursecheck.config import load_config
    from coursecheck.engine import Engine, RunOptions

    root = Path(args.child)
    config = load_config(root / ".coursecheck.toml", root)
    options = RunOptions(
        entry_points=False,
        cache=args.cache_dir is not None,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        jobs=args.jobs,
        paths=[Path(p) for p in args.paths],
    )
    engine = Engine(config, options)
    run_started = time.perf_counter()
    result = engine.run()
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "elapsed": done - started,
                "run": done - run_started,
                "findings": len(result.findings),
                "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "reparsed": engine.reparsed,
                "hits": engine.cache_hits,
                "misses": engine.cache_misses,
                "relocated": engine.relocated,
            }
        )
    )
    return 0


def init_child(args: argparse.Namespace) -> int:
    """``--init-child ROOT``: one ``coursecheck init --stdout``, its time printed as JSON."""
    import contextlib
    import io

    started = time.perf_counter()
    from coursecheck.init import write_starter_config

    with contextlib.redirect_stdout(io.StringIO()) as written, contextlib.redirect_stderr(io.StringIO()):
        code = write_starter_config(Path(args.init_child), to_stdout=True, entry_points=False, jobs=args.jobs or None)
    done = time.perf_counter()
    print(json.dumps({"elapsed": done - started, "code": code, "config_chars": len(written.getvalue())}))
    return 0


FORMATS = ("text", "json", "sarif", "github", "markdown")


def format_child(args: argparse.Namespace) -> int:
    """``--format-child ROOT``: one ``coursecheck`` command line as a user runs it, in one
    format, written to ``--output``; its time printed as JSON."""
    import contextlib
    import io

    started = time.perf_counter()
    from coursecheck.cli import main as cli_main

    fmt = args.format
    argv = ["report"] if fmt == "markdown" else ["check", "--format", fmt]
    argv += ["--root", args.format_child, "-c", str(Path(args.format_child) / ".coursecheck.toml")]
    argv += ["--cache-dir", args.cache_dir, "-o", args.output, "--no-progress", "-q"]
    with contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(argv)
    done = time.perf_counter()
    print(json.dumps({"elapsed": done - started, "code": code, "bytes": Path(args.output).stat().st_size}))
    return 0


def time_format(root: Path, fmt: str, cache_dir: Path, output: Path) -> dict:
    cmd = [sys.executable, __file__, "--format-child", str(root), "--format", fmt]
    cmd += ["--cache-dir", str(cache_dir), "--output", str(output)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, cwd=root)
    if done.returncode != 0:
        raise SystemExit(f"coursecheck -f {fmt} failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["code"] not in (0, 1):
        raise SystemExit(f"coursecheck -f {fmt} exited {result['code']}")
    return result


def measure_formats(args, root: Path, size: int, tmp: Path) -> dict:
    """Each output format, cold (empty cache) then warm (nothing changed), in a fresh
    process each, as a user runs them: the warm run against the cold one in the same format
    (target <= 5 %). With ``--repeat N``: N cold runs and N warm runs, medians, and the
    spread (lowest and highest ratio of a warm run to the median cold)."""
    out: dict[str, dict] = {}
    formats = [f for f in args.formats.split(",") if f]
    for fmt in formats:
        if fmt not in FORMATS:
            raise SystemExit(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
        cache_dir = tmp / f"cache-{size}-{fmt}"
        output = tmp / f"output-{size}.{fmt}"
        colds, warms = [], []
        for _ in range(args.repeat):
            shutil.rmtree(cache_dir, ignore_errors=True)
            colds.append(time_format(root, fmt, cache_dir, output)["elapsed"])
            for _ in range(args.repeat):
                warms.append(time_format(root, fmt, cache_dir, output))
        shutil.rmtree(cache_dir, ignore_errors=True)
        cold = statistics.median(colds)
        warm = statistics.median(r["elapsed"] for r in warms)
        ratios = sorted(r["elapsed"] / cold for r in warms)
        spread = f"; warm runs {ratios[0]:.1%}-{ratios[-1]:.1%}" if len(ratios) > 1 else ""
        label = "report (Markdown)" if fmt == "markdown" else f"-f {fmt}"
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"  {label:<18} cold {cold:7.2f}s, warm {warm:5.2f}s = {warm / cold:6.1%} of cold "
            f"(target <= 5 %{spread}; output {warms[-1]['bytes'] / 1e6:.1f} MB; load average {load:.1f})"
        )
        out[fmt] = {"cold": cold, "warm": warm, "colds": colds, "warms": [r["elapsed"] for r in warms]}
    return out


def time_init(root: Path, jobs: int) -> dict:
    cmd = [sys.executable, __file__, "--init-child", str(root), "--jobs", str(jobs)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"init failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_init(args, root: Path, size: int) -> dict:
    """init against the cold check without cache, same worker count, alternating (the
    machine's speed drifts)."""
    jobs = os.cpu_count() or 1
    inits, colds = [], []
    for _ in range(args.repeat):
        inits.append(time_init(root, jobs))
        colds.append(check(root, jobs=jobs, cache_dir=None))
    init = statistics.median(r["elapsed"] for r in inits)
    cold = statistics.median(r["elapsed"] for r in colds)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"  init (--stdout, {jobs} workers) {init:7.2f}s  {init / cold:5.2f}x the cold check with {jobs} workers, "
        f"no cache ({cold:.2f}s; target <= 0.5x; load average {load:.1f})"
    )
    return {"init": init, "cold_no_cache": cold}


# Seconds between writing a changed lesson and the "after the racy margin" runs: past the
# run index's RACY_NS (2 s), so the run records the file and rewrites the index.
RACY_WAIT = 2.1


def check(root: Path, *, jobs: int, cache_dir: Path | None, paths: list[Path] = ()) -> dict:
    cmd = [sys.executable, __file__, "--child", str(root), "--jobs", str(jobs)]
    if cache_dir is not None:
        cmd += ["--cache-dir", str(cache_dir)]
    cmd += [str(p) for p in paths]
    # Byte-compiled modules are cached, as in a normal install: with PYTHONDONTWRITEBYTECODE
    # set, every check would compile coursecheck's modules again (~0.4 s of a warm run).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"check failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_check(repeat: int, root: Path, **kwargs) -> dict:
    runs = [check(root, **kwargs) for _ in range(repeat)]
    runs.sort(key=lambda r: r["elapsed"])
    return runs[len(runs) // 2]


def markdownlint(binary: str, root: Path) -> tuple[float, float] | None:
    """Seconds and peak MB of markdownlint-cli2 (default rules) on the course's lessons."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], capture_output=True, cwd=sys.argv[-1] if False else None); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, binary, "content/**/*.{md,mdx}", "#node_modules"],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    try:
        seconds, mb = done.stdout.split()
        return float(seconds), float(mb)
    except ValueError:
        return None


def find_markdownlint(given: str | None) -> str | None:
    for candidate in (given, shutil.which("markdownlint-cli2"), "/tmp/mdl/node_modules/.bin/markdownlint-cli2"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


# -- the measurements ---------------------------------------------------------------------


def measure_size(args, lessons, data, config: str, size: int, tmp: Path, mdl: str | None) -> dict:
    root = tmp / f"course-{size}"
    files = build_course(root, lessons, data, size, config)
    # The bare parse and the cold single-process check alternate (the machine's speed drifts
    # over minutes: measured in two blocks, their ratio moved by up to 0.15x).
    bares, serials = [], []
    for _ in range(args.repeat):
        bares.append(time_bare_parse(files))
        serials.append(check(root, jobs=1, cache_dir=None))
    bare = statistics.median(bares)
    serials.sort(key=lambda r: r["elapsed"])
    serial = serials[len(serials) // 2]
    bare2 = statistics.median(time_bare_parse(files, 2) for _ in range(args.repeat))
    cache_dir = tmp / f"cache-{size}"
    colds = []
    for _ in range(args.repeat):
        shutil.rmtree(cache_dir, ignore_errors=True)
        colds.append(check(root, jobs=0, cache_dir=cache_dir))
    colds.sort(key=lambda r: r["elapsed"])
    cold = colds[len(colds) // 2]
    warm = median_check(args.repeat, root, jobs=0, cache_dir=cache_dir)
    changed_file = files[len(files) // 2]
    original = changed_file.read_text(encoding="utf-8")
    changes = []
    pre_commit = []
    for i in range(args.repeat):
        changed_file.write_text(original + f"\nОдна новая строка {i}.\n", encoding="utf-8")
        changes.append(check(root, jobs=0, cache_dir=cache_dir))
        changed_file.write_text(original + f"\nЕщё одна строка {i}.\n", encoding="utf-8")
        pre_commit.append(check(root, jobs=0, cache_dir=cache_dir, paths=[changed_file]))
    # The same lesson with a paragraph inserted at the top of its body: every link, heading
    # and term below it moves down: what course rules see changes, but not its shape (the
    # relocatable rules' stored findings are moved, the other course rules run again).
    moved_runs = []
    for i in range(args.repeat):
        # i + 1 paragraphs: each run moves the links by a different number of lines.
        paragraphs = "\n\n".join(f"Новый абзац {n}." for n in range(i + 1))
        changed_file.write_text(_insert_paragraph(original, paragraphs), encoding="utf-8")
        moved_runs.append(check(root, jobs=0, cache_dir=cache_dir))
    # The same three edits, each timed RACY_WAIT after the write, as a user who saves and
    # runs coursecheck (or `git commit`) a few seconds later: the file is then past the run
    # index's racy-timestamp margin, so the run records it and rewrites the index (a run
    # right after the write does not: the file is read again next time instead).
    late_changes, late_pre_commit, late_moved_runs = [], [], []
    for i in range(args.repeat):
        changed_file.write_text(original + f"\nСтрока после паузы {i}.\n", encoding="utf-8")
        time.sleep(RACY_WAIT)
        late_changes.append(check(root, jobs=0, cache_dir=cache_dir))
        changed_file.write_text(original + f"\nЕщё строка после паузы {i}.\n", encoding="utf-8")
        time.sleep(RACY_WAIT)
        late_pre_commit.append(check(root, jobs=0, cache_dir=cache_dir, paths=[changed_file]))
    for i in range(args.repeat):
        paragraphs = "\n\n".join(f"Абзац после паузы {n}." for n in range(i + 1))
        changed_file.write_text(_insert_paragraph(original, paragraphs), encoding="utf-8")
        time.sleep(RACY_WAIT)
        late_moved_runs.append(check(root, jobs=0, cache_dir=cache_dir))
    changed_file.write_text(original, encoding="utf-8")
    moved, one, staged, one_late, staged_late, moved_late = (
        sorted(runs, key=lambda r: r["elapsed"])[len(runs) // 2]
        for runs in (moved_runs, changes, pre_commit, late_changes, late_pre_commit, late_moved_runs)
    )
    out = {
        "size": size,
        "bare": bare,
        "bare2": bare2,
        "serial": serial,
        "cold": cold,
        "warm": warm,
        "one": one,
        "staged": staged,
        "moved": moved,
        "one_late": one_late,
        "staged_late": staged_late,
        "moved_late": moved_late,
    }
    print(
        f"{size:>6} lessons: bare markdown-it-py parse {bare:.2f}s ({bare / size * 1000:.1f} ms/lesson; "
        f"{bare2:.2f}s with 2 processes)\n"
        f"  cold, 1 process, no cache   {serial['elapsed']:7.2f}s  {serial['elapsed'] / bare:5.2f}x bare "
        f"({serial['findings']} findings; target <= 1.5x)\n"
        f"  cold, workers, empty cache  {cold['elapsed']:7.2f}s  {cold['elapsed'] / bare:5.2f}x bare, "
        f"{cold['elapsed'] / bare2:5.2f}x bare on 2 processes (target <= 1.0x)\n"
        f"  warm re-run                 {warm['elapsed']:7.2f}s  {warm['elapsed'] / cold['elapsed']:6.1%} of cold "
        f"(target <= 5 %; {warm['hits']} hits, {warm['reparsed']} re-parsed)\n"
        f"  one lesson changed          {one['elapsed']:7.2f}s  {one['elapsed'] / cold['elapsed']:6.1%} of cold "
        f"(target <= 3 %; {one['misses']} misses; a sentence added at the end)\n"
        f"  ... pre-commit (that PATH)  {staged['elapsed']:7.2f}s  {staged['elapsed'] / cold['elapsed']:6.1%} of cold\n"
        f"  ... links moved             {moved['elapsed']:7.2f}s  {moved['elapsed'] / cold['elapsed']:6.1%} of cold "
        f"(target <= 3 %; a paragraph inserted at the top; {moved['relocated']} course rules' findings moved)\n"
        f"  one lesson changed, {RACY_WAIT:.1f}s after the write (past the racy margin: the index is rewritten)\n"
        f"    a sentence at the end     {one_late['elapsed']:7.2f}s  {one_late['elapsed'] / cold['elapsed']:6.1%} of cold "
        f"(target <= 3 %; {one_late['misses']} misses)\n"
        f"    ... pre-commit (that PATH){staged_late['elapsed']:7.2f}s  "
        f"{staged_late['elapsed'] / cold['elapsed']:6.1%} of cold (target <= 3 %)\n"
        f"    ... links moved           {moved_late['elapsed']:7.2f}s  {moved_late['elapsed'] / cold['elapsed']:6.1%} of cold "
        f"(target <= 3 %; {moved_late['relocated']} course rules' findings moved)\n"
        f"  peak memory: main {max(r['rss_main_mb'] for r in (serial, cold)):.0f} MB (1 process: "
        f"{serial['rss_main_mb']:.0f} MB), largest worker {cold['rss_worker_mb']:.0f} MB (target <= 400 MB)"
    )
    out.update(measure_init(args, root, size))
    if args.formats:
        out["formats"] = measure_formats(args, root, size, tmp)
    if args.shards > 1:
        out["shards"] = measure_shards(root, files, args.shards, tmp / f"shards-{size}")
    if mdl is not None:
        measured = markdownlint(mdl, root)
        if measured is not None:
            seconds, mb = measured
            out["markdownlint"] = seconds
            print(
                f"  markdownlint-cli2 (default rules): {seconds:.2f}s, {mb:.0f} MB; coursecheck cold is "
                f"{seconds / cold['elapsed']:.2f}x faster (1 process: {seconds / serial['elapsed']:.2f}x; "
                "target >= 2.5x)"
            )
    return out


def measure_spelling(args, lessons, data, config: str, size: int, tmp: Path) -> None:
    """What the spelling rules cost: the cold single-process check (no cache) of the same
    course with ``spelling/unknown-word`` and ``spelling/rejected-word`` off (the default)
    and on at note level, alternating (target: spelling <= 20 % of the cold per-file time)."""
    root = tmp / f"spelling-{size}"
    build_course(root, lessons, data, size, config)
    on = (
        config
        + '\n[rules."spelling/unknown-word"]\nlevel = "note"\n\n[rules."spelling/rejected-word"]\nlevel = "warning"\n'
    )
    offs, ons = [], []
    for _ in range(args.repeat):
        (root / ".coursecheck.toml").write_text(config, encoding="utf-8")
        offs.append(check(root, jobs=1, cache_dir=None))
        (root / ".coursecheck.toml").write_text(on, encoding="utf-8")
        ons.append(check(root, jobs=1, cache_dir=None))
    off = statistics.median(r["elapsed"] for r in offs)
    with_spelling = statistics.median(r["elapsed"] for r in ons)
    found = ons[0]["findings"] - offs[0]["findings"]
    print(
        f"spelling at {size} lessons, cold, 1 process: off {off:.2f}s ({off / size * 1000:.1f} ms/file), "
        f"on {with_spelling:.2f}s ({with_spelling / size * 1000:.1f} ms/file): spelling costs "
        f"{(with_spelling - off) / off:.1%} of the cold per-file time ({found} more findings; target <= 20 %)"
    )
    shutil.rmtree(root, ignore_errors=True)


def measure_shards(root: Path, files: list[Path], total: int, folder: Path) -> dict:
    """``--shard K/N`` for every K (one process each, no cache, one after the other so they
    do not share the CPUs), then ``merge``: balance planned (weights) and measured (time)."""
    from coursecheck import shard

    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base = [sys.executable, "-m", "coursecheck"]
    flags = ["--no-cache", "--no-plugins", "-q", "--no-progress"]
    times = []
    for k in range(1, total + 1):
        started = time.perf_counter()
        cmd = [*base, *flags, "-j", "1", "--shard", f"{k}/{total}", "-o", str(folder / f"{k}.ccshard")]
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            raise SystemExit(f"shard {k}/{total} failed: {done.stderr[-2000:]}")
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    artifacts = [str(folder / f"{k}.ccshard") for k in range(1, total + 1)]
    done = subprocess.run(
        [*base, "merge", *flags, *artifacts, "-o", str(folder / "merged.txt")],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"merge failed: {done.stderr[-2000:]}")
    merge = time.perf_counter() - started
    sizes = {str(p.relative_to(root)): p.stat().st_size for p in files}
    planned = shard.balance(sizes, total)
    measured = max(times) / statistics.mean(times)
    print(
        f"  {total} shards: {', '.join(f'{t:.2f}s' for t in times)}; balance (largest / mean) "
        f"{measured:.2f} measured, {planned:.3f} by weight (target <= 1.2); merge {merge:.2f}s; "
        f"slowest shard + merge {max(times) + merge:.2f}s"
    )
    return {"times": times, "planned": planned, "measured": measured, "merge": merge}


def measure_length(args, lessons: list[Path], config: str, tmp: Path) -> None:
    """One lesson repeated 8 times vs the lesson itself (40 copies each, one process)."""
    lesson = sorted(lessons, key=lambda p: p.stat().st_size)[len(lessons) // 2]
    text = lesson.read_text(encoding="utf-8")
    head, body = "", text
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            head, body = text[: end + 5], text[end + 5 :]
    times = {}
    for factor in (1, 8):
        root = tmp / f"length-{factor}"
        src = tmp / f"length-src-{factor}" / lesson.name
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(head + "\n".join([body] * factor), encoding="utf-8")
        build_course(root, [src], None, 40, config)
        times[factor] = median_check(args.repeat, root, jobs=1, cache_dir=None)["run"]
    print(
        f"lesson length: {lesson.name} x8 costs {times[8] / times[1]:.2f}x the lesson "
        f"({times[1] / 40 * 1000:.1f} vs {times[8] / 40 * 1000:.1f} ms per file; target <= 8.8x)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="folder of a real course's lessons (default: the demo course)")
    parser.add_argument("--config", type=Path, help="config to check with (default: course globs, default rules)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000], help="lesson counts to build")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the median is printed)")
    parser.add_argument("--markdownlint", help="markdownlint-cli2 executable (default: on PATH or /tmp/mdl)")
    parser.add_argument(
        "--shards", type=int, default=3, help="also time --shard K/N for each K and the merge (0: skip)"
    )
    parser.add_argument(
        "--spelling",
        action="store_true",
        help="only measure the spelling rules: cold check with them off and on, at each size",
    )
    parser.add_argument("--init", action="store_true", help="only measure `coursecheck init` against the cold check")
    parser.add_argument(
        "--formats",
        default=",".join(FORMATS),
        help="output formats to time cold and warm, comma-separated (default: all; '' skips)",
    )
    parser.add_argument("--formats-only", action="store_true", help="only measure the output formats, cold and warm")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--format-child", help=argparse.SUPPRESS)
    parser.add_argument("--format", default="text", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--init-child", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.init_child:
        return init_child(args)
    if args.format_child:
        return format_child(args)
    lessons, data = source_lessons(args.corpus)
    if not lessons:
        print("no lessons found", file=sys.stderr)
        return 2
    config = DEMO_CONFIG
    if args.config is not None:
        # The course section is the benchmark's (its folders); the rest is the given config.
        given = args.config.read_text(encoding="utf-8")
        config = DEMO_CONFIG + "\n" + _without_course_section(given)
    mdl = find_markdownlint(args.markdownlint)
    print(
        f"source: {args.corpus or 'demo course'} ({len(lessons)} lessons); config: {args.config or 'default rules'}; "
        f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; markdownlint-cli2: {mdl or 'not found'}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="coursecheck-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if args.spelling:
            for size in args.sizes:
                measure_spelling(args, lessons, data, config, size, tmp)
            return 0
        if args.formats_only:
            for size in args.sizes:
                root = tmp / f"course-{size}"
                build_course(root, lessons, data, size, config)
                _settle()
                print(f"{size:>6} lessons, each output format:")
                measure_formats(args, root, size, tmp)
                shutil.rmtree(root, ignore_errors=True)
            return 0
        if args.init:
            for size in args.sizes:
                root = tmp / f"course-{size}"
                build_course(root, lessons, data, size, config)
                print(f"{size:>6} lessons:")
                measure_init(args, root, size)
                shutil.rmtree(root, ignore_errors=True)
            return 0
        for size in args.sizes:
            results.append(measure_size(args, lessons, data, config, size, tmp, mdl))
            shutil.rmtree(tmp / f"course-{size}", ignore_errors=True)
            shutil.rmtree(tmp / f"cache-{size}", ignore_errors=True)
        if len(results) >= 2:
            small, large = results[0], results[-1]
            for label, key in (("1 process", "serial"), ("workers", "cold")):
                ratio = (large[key]["elapsed"] / large["size"]) / (small[key]["elapsed"] / small["size"])
                print(
                    f"time per file at {large['size']} vs {small['size']} lessons ({label}): {ratio:.2f}x (target <= 1.2x)"
                )
        measure_length(args, lessons, config, tmp)
    return 0


def _settle() -> None:
    """Wait until the files just written are older than the run index's racy margin
    (coursecheck.runindex.RACY_NS): a cold run started sooner does not vouch for them, and
    the warm run after it would read and hash them again, which a re-run of a course whose
    files were not written within the last seconds does not do."""
    from coursecheck.runindex import RACY_NS

    time.sleep(RACY_NS / 1e9 + 0.1)


def _insert_paragraph(text: str, paragraph: str) -> str:
    """``text`` with ``paragraph`` inserted after its frontmatter (or at the top)."""
    lines = text.split("\n")
    at = 0
    if lines and lines[0].strip() == "---":
        closing = next((n for n in range(1, len(lines)) if lines[n].strip() == "---"), None)
        at = 0 if closing is None else closing + 1
    return "\n".join([*lines[:at], "", paragraph, "", *lines[at:]])


def _without_course_section(text: str) -> str:
    out, skipping = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            skipping = stripped == "[course]"
        elif stripped.startswith("[["):
            skipping = False
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
