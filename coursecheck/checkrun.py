"""What ``coursecheck check`` does around the engine's run: the progress bar, ``--fix`` and
``--diff``, baselines. ``cli.py`` wires these in; the logic lives here and in
:mod:`coursecheck.fix`, :mod:`coursecheck.baseline` and :mod:`coursecheck.progress`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coursecheck import baseline, fix, progress
from coursecheck.errors import ExitCode
from coursecheck.escape import diff_for_display, say
from coursecheck.wording import plural as _plural

if TYPE_CHECKING:
    from coursecheck.config import Config
    from coursecheck.engine import Engine, Result, RunOptions
    from coursecheck.shard import ShardArtifact

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = ExitCode.OK, ExitCode.FINDINGS, ExitCode.USAGE


def add_arguments(parser: argparse.ArgumentParser, *, merging: bool = False) -> None:
    """The options around the run; ``merging``: only those `coursecheck merge` takes (it
    neither fixes files nor takes PATHS)."""
    group = parser.add_argument_group("baselines" if merging else "fixes, baselines, pre-commit")
    if merging:
        parser.set_defaults(fix=False, diff=False, force_exclude=False)
    else:
        group.add_argument("--fix", action="store_true", help="apply the safe fixes, then report what remains")
        group.add_argument(
            "--diff", action="store_true", help="print the safe fixes as a unified diff; write nothing (exit 1 if any)"
        )
    group.add_argument(
        "--baseline", type=Path, metavar="FILE", help="findings listed in FILE are suppressed: only new ones fail"
    )
    group.add_argument(
        "--write-baseline", type=Path, metavar="FILE", help="record the current findings in FILE (then they pass)"
    )
    if merging:
        group.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
        return
    group.add_argument(
        "--force-exclude",
        action="store_true",
        help="skip PATHS outside the course's globs (pre-commit passes every staged file); "
        "a PATH that is the config file itself reports the whole course",
    )
    group.add_argument("--no-progress", action="store_true", help="never draw a progress bar")


@dataclass(slots=True)
class Prepared:
    entries: list[baseline.Entry] | None = None


def prepare(args: argparse.Namespace) -> tuple[Prepared | None, int]:
    """Check the flags before anything runs: a bad baseline is a usage error, not a late surprise."""
    out = Prepared()
    if args.write_baseline is not None and args.paths:
        say("coursecheck: error: --write-baseline records the whole course; run it without PATHS")
        return None, EXIT_USAGE
    if args.fix and args.write_baseline is not None:
        say("coursecheck: error: use --fix and --write-baseline in separate runs")
        return None, EXIT_USAGE
    return out, EXIT_OK


def load_baseline(args: argparse.Namespace, prepared: Prepared, root: Path) -> int:
    """Read ``--baseline FILE`` before the run (a bad one is a usage error, not a late
    surprise). A baseline inside the project root is the repository's: it is not read
    through a link that leads out of the root or into .git."""
    if args.baseline is None:
        return EXIT_OK
    try:
        prepared.entries = baseline.load(args.baseline, root)
    except baseline.BaselineError as exc:
        say(f"coursecheck: error: {exc}")
        return EXIT_USAGE
    return EXIT_OK


def run(engine: Engine, args: argparse.Namespace, artifacts: list[ShardArtifact] | None = None) -> Result:
    """The engine's run (or its merge of shard ``artifacts``), with a progress bar when
    stderr is a terminal and the run is long."""
    bar = None
    if not args.no_progress and progress.wanted(sys.stderr, quiet=args.quiet):
        bar = progress.ProgressBar(sys.stderr)
    try:
        if artifacts is not None:
            return engine.merge(artifacts, progress=bar)
        return engine.run(progress=bar)
    finally:
        if bar is not None:
            bar.close()
        if engine.removed_leftovers and not args.quiet:
            names = ", ".join(engine.removed_leftovers[:5]) + (" ..." if len(engine.removed_leftovers) > 5 else "")
            say(
                f"coursecheck: removed {_plural(len(engine.removed_leftovers), 'temporary file')} "
                f"left by an interrupted write: {names}"
            )


def print_cache_report(engine: Engine, args: argparse.Namespace) -> None:
    """Under ``-v``: why the cache was not used (links in its folder, an unwritable tree) or
    was keyed for this run only, and how many stored entries each store rejected."""
    if not getattr(args, "verbose", False):
        return
    for line in engine.cache_report():
        print(f"coursecheck: cache: {line}", file=sys.stderr)


def run_shard(engine: Engine, args: argparse.Namespace, index: int, total: int) -> ShardArtifact:
    bar = None
    if not args.no_progress and progress.wanted(sys.stderr, quiet=args.quiet):
        bar = progress.ProgressBar(sys.stderr)
    try:
        return engine.run_shard(index, total, progress=bar)
    finally:
        if bar is not None:
            bar.close()


def after_run(
    result: Result,
    args: argparse.Namespace,
    prepared: Prepared,
    config: Config,
    options: RunOptions,
) -> tuple[Result | None, int]:
    """``--diff``/``--fix``, then the baseline. Returns the result to report, or None and an
    exit code when the run ends here (``--diff``)."""
    if args.diff:
        plan = fix.plan_fixes(result)
        _print_skipped(plan, args.quiet)
        text = plan.diff()
        if args.output is not None:
            from coursecheck.fsutil import atomic_write

            try:
                atomic_write(args.output, text, root=config.root)  # the exact patch
            except OSError as exc:
                say(f"coursecheck: error: cannot write {args.output}: {exc.strerror or exc}")
                return None, EXIT_USAGE
        else:
            sys.stdout.write(diff_for_display(text))
        fixed = plan.fixed
        if fixed:
            say(
                f"coursecheck: {_plural(len(fixed), 'fix', 'fixes')} in {_plural(len(plan.files), 'file')} "
                "would be applied by --fix"
            )
        else:
            say("coursecheck: no safe fixes to apply")
        return None, EXIT_FINDINGS if fixed else EXIT_OK
    if args.fix:
        result = _fix(result, args, config, options)
    if args.write_baseline is not None:
        try:
            count = baseline.write(args.write_baseline, result, config.root)
        except OSError as exc:
            say(f"coursecheck: error: cannot write {args.write_baseline}: {exc.strerror or exc}")
            return None, EXIT_USAGE
        say(f"coursecheck: wrote baseline {args.write_baseline} ({_plural(count, 'finding')})")
        baseline.apply(result, baseline.load(args.write_baseline, config.root), str(args.write_baseline))
    elif prepared.entries is not None:  # a baseline just written replaces the one given
        applied = baseline.apply(result, prepared.entries, str(args.baseline), partial=bool(args.paths))
        if applied.stale and not args.quiet:
            say(
                f"coursecheck: {_plural(len(applied.stale), 'baseline entry', 'baseline entries')} in "
                f"{args.baseline} matched no finding (fixed?); `--write-baseline {args.baseline}` drops them"
            )
    return result, EXIT_OK


def _fix(result: Result, args: argparse.Namespace, config: Config, options: RunOptions) -> Result:
    from coursecheck.engine import Engine

    plan = fix.plan_fixes(result)
    _print_skipped(plan, args.quiet)
    written = fix.write_fixes(plan)
    for relpath, why in written.failed:
        say(f"coursecheck: not fixed: {relpath}: {why}")
    count = sum(len(f.fixed) for f in written.written)
    for file_fix in written.written:
        for line in fix.describe(file_fix):
            say(f"fixed {line}")
    if count or not args.quiet:
        say(f"coursecheck: fixed {_plural(count, 'finding')} in {_plural(len(written.written), 'file')}")
    if not written.written:
        return result
    # Report what remains: the files changed, so check them again.
    return run(Engine(config, options), args)


def _print_skipped(plan: fix.FixPlan, quiet: bool) -> None:
    for relpath, why in plan.skipped_files:
        say(f"coursecheck: not fixed: {relpath}: {why}")
    if quiet:
        return
    unsafe = [f for f, why in plan.skipped if why == fix.UNSAFE]
    if unsafe:
        say(
            f"coursecheck: {_plural(len(unsafe), 'finding has a fix', 'findings have fixes')} "
            "that may change meaning; not applied (see `coursecheck rule ID`)"
        )
    for finding, why in plan.skipped:
        if why == fix.UNSAFE:
            continue
        say(
            f"coursecheck: not fixed: {finding.path}:{finding.span.line}:{finding.span.column}: "
            f"{finding.rule_id}: {why}"
        )
