"""The command line: ``coursecheck [check] [PATHS...]``, ``rules``, ``rule ID``, ``init``."""

from __future__ import annotations

import argparse
import gc
import inspect
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from coursecheck import __version__, checkrun
from coursecheck.commands import CommandContext
from coursecheck.config import Config, ConfigError, discover_config, load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.errors import CoursecheckError, ExitCode
from coursecheck.escape import display, display_keep_lines, say
from coursecheck.fsutil import atomic_write, atomic_write_bytes
from coursecheck.plugins import ISOLATED_ENV, isolated_by_env
from coursecheck.report import ReportOptions
from coursecheck.state import BUILD
from coursecheck.wording import level_counts, plural

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = ExitCode.OK, ExitCode.FINDINGS, ExitCode.USAGE, ExitCode.INTERNAL
COMMANDS = ("check", "rules", "rule", "init", "cache", "merge", "lsp")

DESCRIPTION = """\
A declarative linter for course repositories (Markdown/MDX lessons, glossaries, quizzes).

coursecheck reads .coursecheck.toml (found upward from the current folder up to the
repository root, or [tool.coursecheck] in pyproject.toml), checks the course it describes,
and prints the findings as path:line:column: level rule-id message. On an untrusted branch,
use --isolated: the config's plugins run code (docs/security.md).
"""

EPILOG = """\
commands:
  check [PATHS...]   check the course (the default command); with PATHS, report only
                     findings in those files (course-wide rules still see the whole course)
  rules              list every rule with its level and summary
  rule ID            print a rule's documentation
  init               inspect this repository and write a starter .coursecheck.toml
  cache clean        remove the per-file cache (ROOT/.coursecheck-cache or --cache-dir)
  merge SHARDS...    the course-wide stage and the reports of a sharded run (--shard K/N)
  lsp                the language server on stdio (pip install 'coursecheck[lsp]'; docs/editors.md)

exit codes:
  0  no findings at or above the fail level
  1  findings at or above the fail level (default: error)
  2  usage or configuration error
  3  an internal error occurred and --strict-internal was given

examples:
  coursecheck                              check the course of the current repository
  coursecheck content/course/01-intro.mdx  report findings in one lesson only
  coursecheck --format json -o out.json    machine-readable findings
  coursecheck --format sarif -o cc.sarif   SARIF 2.1.0 for GitHub code scanning and editors
  coursecheck report -o VERIFICATION.md    the Markdown verification report
  coursecheck --select mermaid,graph       run two rule families only
  coursecheck rule mermaid/min-diagrams    how a rule works and how to configure it
  coursecheck --fix                        apply the safe fixes (--diff shows them instead)
  coursecheck --write-baseline cc-baseline.json   accept today's findings; then
  coursecheck --baseline cc-baseline.json         fail only on new ones
  coursecheck --format github              GitHub Actions annotations
  coursecheck --shard 2/3 -o shard-2.ccshard        one CI job of three; then
  coursecheck merge shard-*.ccshard -f sarif -o cc.sarif   the reports of the whole course
"""

MERGE_DESCRIPTION = """\
Merge the artifacts of a sharded run into the reports of the whole course.

Each CI job runs `coursecheck check --shard K/N -o shard-K.ccshard` (the per-file stage on
its share of the files); a last job, on the same commit, downloads the N artifacts and runs
`coursecheck merge shard-*.ccshard` with the usual output options. The merge refuses
artifacts made by another coursecheck, other plugins, another config or rule selection, or
from other file contents; it runs the course-wide rules and writes the same findings and
reports (text, JSON, SARIF, Markdown) as an unsharded run.
"""


NO_PLUGINS_HELP = (
    "load no plugin but coursecheck's own: neither installed plugin packages (entry points) nor the "
    "config's plugins = [...]; the built-in rules, shipped packs and the config's [[rule]] definitions still run"
)
ISOLATED_HELP = (
    f"for untrusted branches (CI on pull requests, a contributor's branch): --no-plugins, never run "
    f"[report] build (--run-build is ignored, with a notice), and use no cache folder inside the checkout "
    f"(only a --cache-dir given); the same as {ISOLATED_ENV}=1"
)


def add_plugin_arguments(parser: argparse.ArgumentParser) -> None:
    """``--no-plugins`` and ``--isolated``, for every command that loads a config."""
    parser.add_argument("--no-plugins", action="store_true", help=NO_PLUGINS_HELP)
    parser.add_argument("--isolated", action="store_true", help=ISOLATED_HELP)


def add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    """``--no-cache``, ``--cache-dir`` and ``--no-progress`` for the commands that read the
    course besides ``check`` (``graph``, ``terms``): they use the same per-file cache."""
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--cache-dir", type=Path, help="cache folder (default: .coursecheck-cache in the root)")
    parser.add_argument("--no-progress", action="store_true", help="never draw a progress bar")


def cache_options(args: argparse.Namespace, plugins: PluginChoice) -> dict[str, object]:
    """The cache part of RunOptions, as ``check`` sets it (isolated, only a --cache-dir named)."""
    return {
        "cache": not args.no_cache and not (plugins.isolated and args.cache_dir is None),
        "cache_dir": args.cache_dir,
    }


def run_with_progress(engine: Engine, args: argparse.Namespace, label: str) -> Any:
    """``engine.run()`` with a transient progress bar on a terminal (not with --no-progress)."""
    from coursecheck import progress

    bar = None
    if not getattr(args, "no_progress", False) and progress.wanted(sys.stderr):
        bar = progress.ProgressBar(sys.stderr, label=label)
    try:
        return engine.run(progress=bar)
    finally:
        if bar is not None:
            bar.close()


@dataclass(slots=True)
class PluginChoice:
    """Which plugins a run loads, from ``--no-plugins``, ``--isolated`` and the environment."""

    isolated: bool = False  # also: never run [report] build
    off_by: str = ""  # what turned plugins off ("" : they are on)

    @property
    def plugins(self) -> bool:
        return not self.off_by

    def run_options(self) -> dict[str, object]:
        return {"entry_points": self.plugins, "local_plugins": self.plugins, "plugins_off_by": self.off_by}


def plugin_choice(args: argparse.Namespace) -> PluginChoice:
    if getattr(args, "isolated", False):
        return PluginChoice(True, "--isolated")
    if isolated_by_env():
        return PluginChoice(True, f"{ISOLATED_ENV}={os.environ.get(ISOLATED_ENV, '')}")
    if getattr(args, "no_plugins", False):
        return PluginChoice(False, "--no-plugins")
    return PluginChoice()


def _plugins_wanted(argv: list[str]) -> bool:
    """Whether installed plugins may be loaded before the arguments are parsed (to list the
    subcommands they add)."""
    return not (isolated_by_env() or any(a in ("--isolated", "--no-plugins") for a in argv))


def _csv(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _epilog_with_plugin_commands(entry_points: bool = True) -> str:
    """EPILOG, with the subcommands plugins add (built-in plugins included) in its list."""
    extra = plugin_commands(entry_points)
    if not extra:
        return EPILOG
    width = 19
    lines = [f"  {name.ljust(width)}{help_text}" for name, (help_text, _fn) in sorted(extra.items())]
    marker = "\nexit codes:"
    head, _, tail = EPILOG.partition(marker)
    return head.rstrip("\n") + "\n" + "\n".join(lines) + "\n" + marker + tail


def _check_parser(
    prog: str = "coursecheck",
    description: str = DESCRIPTION,
    *,
    for_help: bool = False,
    merging: bool = False,
    entry_points: bool = True,
) -> argparse.ArgumentParser:
    epilog = None
    if prog == "coursecheck":
        # Listing plugin commands loads the plugins: only worth it when help is printed.
        epilog = _epilog_with_plugin_commands(entry_points) if for_help else EPILOG
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if merging:
        parser.add_argument(
            "shards", nargs="+", type=Path, help="the artifacts of `coursecheck check --shard K/N -o FILE`, all N"
        )
    else:
        parser.add_argument(
            "paths", nargs="*", type=Path, help="files or folders to report on (default: the whole course)"
        )
    parser.add_argument("-c", "--config", type=Path, help="config file (default: nearest .coursecheck.toml)")
    parser.add_argument(
        "--root", type=Path, help="project root the config's globs are relative to (default: the config file's folder)"
    )
    parser.add_argument(
        "-f", "--format", default="text", help="output format: text, json, sarif, markdown, github (more from plugins)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="write the report to this file (atomically) instead of stdout"
    )
    parser.add_argument(
        "--select", action="append", metavar="RULES", help="only these rule ids or families (comma-separated)"
    )
    parser.add_argument(
        "--ignore", action="append", metavar="RULES", help="skip these rule ids or families (comma-separated)"
    )
    parser.add_argument(
        "--fail-level",
        choices=("error", "warning", "note"),
        help="lowest level that makes the exit code 1 (default: config, else error)",
    )
    parser.add_argument("--show-suppressed", action="store_true", help="also print suppressed findings (text format)")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour output (auto respects NO_COLOR and TTY)",
    )
    parser.add_argument(
        "--timestamp", default="", help="ISO 8601 time to print in reports instead of now (for reproducible reports)"
    )
    parser.add_argument(
        "--automation-id",
        default="",
        metavar="ID",
        help="SARIF runAutomationDetails.id, e.g. coursecheck/lessons/ (GitHub: one category per analysis)",
    )
    parser.add_argument(
        "--run-build",
        action="store_true",
        help="run the [report] build command and put its result in the Markdown report",
    )
    parser.add_argument("--strict-internal", action="store_true", help="exit 3 when a plugin or rule crashed")
    add_plugin_arguments(parser)
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print findings only; the summary only if the run fails"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print source lines, plugin tracebacks, and what the cache rejected or why it was off",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="neither read nor write the per-file cache (.coursecheck-cache/)"
    )
    parser.add_argument(
        "--cache-dir", type=Path, help="where the per-file cache lives (default: ROOT/.coursecheck-cache)"
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=0, help="worker processes for parsing (default: the CPUs, when it pays)"
    )
    parser.add_argument("-V", "--version", action="version", version=f"coursecheck {__version__}")
    phases = parser.add_argument_group("phases (a planned project: coursecheck-planning declares one per plan folder)")
    phases.add_argument(
        "--phase",
        metavar="ID",
        default="",
        help="the report of one phase (its id, number or a unique prefix): its must-haves, its files' findings; "
        "the status and exit code come from its must-haves. `all`: one report per phase (with -o DIR or --into-phases)",
    )
    phases.add_argument(
        "--into-phases",
        action="store_true",
        help="with --phase: write each report as <phase folder>/<NN>-VERIFICATION.md (never over a report "
        "coursecheck did not write, unless --replace-reports)",
    )
    phases.add_argument("--replace-reports", action="store_true", help="with --into-phases: replace any report")
    phases.add_argument(
        "--fail-on-findings",
        action="store_true",
        help="with --phase: exit 1 also when the phase's files have findings at or above the fail level",
    )
    if not merging:
        parser.add_argument(
            "--shard",
            metavar="K/N",
            help="check only shard K of N (per-file rules) and write its artifact to --output; "
            "`coursecheck merge` makes the reports",
        )
    checkrun.add_arguments(parser, merging=merging)
    return parser


def _load(
    config_path: Path | None, root: Path | None = None, *, say_defaults: bool = False
) -> tuple[Config | None, int]:
    """The config (``--config``, else discovered from the current folder), or None and an
    exit code after saying why; ``say_defaults``: say where discovery looked when it found
    none and the defaults are used. A config given with ``--config`` from outside both the
    project root (``root``, ``--root``) and the working folder (a CI checkout) is the user's
    own: trusted (Config.trusted)."""
    cwd = Path.cwd()
    if config_path is not None and not config_path.is_file():
        say(f"coursecheck: error: config file {config_path} not found")
        return None, EXIT_USAGE
    path = config_path
    if path is None:
        discovery = discover_config(cwd)
        path = discovery.path
        if path is None and say_defaults:
            say(
                f"coursecheck: {discovery.describe()}; checking **/*.md and **/*.mdx with defaults "
                "(run `coursecheck init` to write a config)"
            )
    if config_path is None and path is not None:
        # A config the repository holds may be a link: not one leading out of its folder
        # (the project root) or into .git. A config given with --config is the user's.
        from coursecheck.fsutil import OutsideRoot, contained

        try:
            contained(path.parent, path.name)
        except OutsideRoot as exc:
            say(f"coursecheck: error: {path}: {exc.describe()}; give a config with --config")
            return None, EXIT_USAGE
    from coursecheck.fsutil import is_inside

    trusted = (
        config_path is not None
        and root is not None
        and not any(is_inside(folder, config_path) for folder in (root, cwd))
    )
    try:
        return load_config(path, cwd, strict=False, trusted=trusted), EXIT_OK
    except ConfigError as exc:
        _print_config_error(exc)
        return None, EXIT_USAGE


def _print_config_error(exc: ConfigError) -> None:
    for problem in exc.problems:
        say(f"{problem}")
    n = len(exc.problems)
    say(f"coursecheck: {n} configuration error{'s' if n != 1 else ''}; nothing was checked")


def _use_color(choice: str, stream: object) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def cmd_merge(argv: list[str]) -> int:
    return cmd_check(argv, prog="coursecheck merge", description=MERGE_DESCRIPTION, merging=True)


def _shard_usage(args: argparse.Namespace, merging: bool) -> str | None:
    """Why these flags do not go with --shard / merge (None: they do)."""
    if merging:
        args.paths, args.shard = [], None
        return None
    if args.shard is None:
        return None
    if args.paths:
        return "--shard checks its share of the whole course; give no PATHS"
    if args.output is None:
        return "--shard needs --output FILE: where to write the shard's artifact"
    if args.format != "text":
        return "--shard writes an artifact, not a report; give --format to `coursecheck merge`"
    if args.fix or args.diff or args.baseline is not None or args.write_baseline is not None or args.run_build:
        return "--fix, --diff, --baseline, --write-baseline and --run-build go with `coursecheck merge`, not --shard"
    return None


def cmd_check(
    argv: list[str],
    *,
    prog: str = "coursecheck",
    description: str = DESCRIPTION,
    merging: bool = False,
    replay_only: list[int] | None = None,
) -> int:
    """``check`` (and ``report``, ``merge``); ``replay_only``: only replay the last run if
    nothing changed (its exit code is appended), else do nothing (see :func:`_replay_report`)."""
    wants_help = any(a in ("-h", "--help") for a in argv)
    parser = _check_parser(prog, description, for_help=wants_help, merging=merging, entry_points=_plugins_wanted(argv))
    args = parser.parse_args(argv)
    plugins = plugin_choice(args)
    shard_spec: tuple[int, int] | None = None
    problem = _shard_usage(args, merging)
    if problem is None and args.shard is not None:
        from coursecheck.shard import parse_spec

        try:
            shard_spec = parse_spec(args.shard)
        except ValueError as exc:
            problem = str(exc)
    if problem is not None:
        say(f"coursecheck: error: {problem}")
        return EXIT_USAGE
    prepared, code = checkrun.prepare(args)
    if prepared is None:
        return code
    config, code = _load(args.config, args.root, say_defaults=not args.quiet)
    if config is None:
        return code
    assert isinstance(config, Config)
    if args.root is not None:
        if not args.root.is_dir():
            say(f"coursecheck: error: --root {args.root} is not a folder")
            return EXIT_USAGE
        config.root = args.root.resolve()
    code = checkrun.load_baseline(args, prepared, config.root)
    if code != EXIT_OK:
        return code
    replaying = _replay_session(args, config, plugins, merging)
    if replay_only is not None:
        replayed = replaying.replay() if replaying is not None else None
        replay_only.extend([] if replayed is None else [replayed])
        return EXIT_OK if replayed is None else replayed
    if replaying is None:
        return _check(args, config, plugins, prepared, shard_spec, merging)
    replayed = replaying.replay()  # the last run's outputs, when none of its inputs changed
    if replayed is not None:
        return replayed
    with replaying.recording():
        code = _check(args, config, plugins, prepared, shard_spec, merging, replaying)
    replaying.save(code)
    return code


def _replay_session(args: argparse.Namespace, config: Config, plugins: PluginChoice, merging: bool) -> Any:
    """The whole-run replay of this run (coursecheck.replay), None when it may not have one."""
    from coursecheck import replay

    cache_on = not args.no_cache and not (plugins.isolated and args.cache_dir is None)
    return replay.session(args, config, report_timestamp(args.timestamp), cache_on, merging)


def _check(
    args: argparse.Namespace,
    config: Config,
    plugins: PluginChoice,
    prepared: checkrun.Prepared,
    shard_spec: tuple[int, int] | None,
    merging: bool,
    replaying: Any = None,
) -> int:
    """The run of ``check`` once the config is loaded; ``replaying``: the replay session
    recording what it writes (coursecheck.replay)."""
    options = RunOptions(
        paths=list(args.paths),
        select=_csv(args.select),
        ignore=_csv(args.ignore),
        fail_level=args.fail_level,
        force_exclude=args.force_exclude,
        # Isolated, the cache folder inside the checkout (which a branch can commit) is not
        # used; a --cache-dir the user names is.
        cache=not args.no_cache and not (plugins.isolated and args.cache_dir is None),
        cache_dir=args.cache_dir,
        jobs=max(args.jobs, 0),
        **plugins.run_options(),  # type: ignore[arg-type]
    )
    try:
        engine = Engine(config, options)
    except ConfigError as exc:
        _print_config_error(exc)
        return EXIT_USAGE
    if plugins.isolated and not args.no_cache and args.cache_dir is None:
        from coursecheck.cache import DEFAULT_DIR
        from coursecheck.plugins import Notification

        if (config.root / DEFAULT_DIR).exists():
            engine.notes.append(
                Notification(
                    f"{plugins.off_by}: the cache folder {DEFAULT_DIR}/ in the checkout was neither read nor written "
                    "(--cache-dir DIR names one to use)",
                    level="warning",
                )
            )
    unknown = [
        r
        for r in [*options.select, *options.ignore]
        if r not in engine.rules and r not in {x.split("/")[0] for x in engine.rules}
    ]
    if unknown:
        from coursecheck.config import did_you_mean

        for r in unknown:
            say(f"coursecheck: error: unknown rule or family '{r}'{did_you_mean(r, engine.rules)}")
        return EXIT_USAGE
    reporters = engine.reporters()
    if args.format not in reporters:
        from coursecheck.config import did_you_mean

        say(
            f"coursecheck: error: unknown format '{args.format}'{did_you_mean(args.format, reporters)} "
            f"(available: {', '.join(sorted(reporters))})"
        )
        return EXIT_USAGE
    timestamp = report_timestamp(args.timestamp)
    if timestamp is None:
        say(f"coursecheck: error: --timestamp {args.timestamp!r} is not an ISO 8601 date and time")
        return EXIT_USAGE
    if shard_spec is not None:
        return _write_shard(engine, args, shard_spec)
    artifacts = None
    if merging:
        artifacts = _load_shards(engine, args.shards)
        if artifacts is None:
            return EXIT_USAGE
    from coursecheck.shard import ShardError

    try:
        ran = checkrun.run(engine, args, artifacts)
    except ShardError as exc:
        say(f"coursecheck: error: {exc}; nothing was merged")
        return EXIT_USAGE
    checkrun.print_cache_report(engine, args)
    result, code = checkrun.after_run(ran, args, prepared, config, options)
    if result is None:
        return code
    build_failed = False
    if args.run_build and plugins.isolated:
        from coursecheck.plugins import Notification

        result.notifications.append(
            Notification(
                f"{plugins.off_by}: the [report] build command was not run (--run-build ignored)", level="warning"
            )
        )
    elif args.run_build:
        from coursecheck.report.build import BuildError, run_build

        try:
            build = run_build(config)
        except BuildError as exc:
            say(f"coursecheck: error: {exc}")
            return EXIT_USAGE
        BUILD.set(result.extra, build)
        build_failed = not build.passed
    if replaying is not None:
        replaying.ran(engine, result, reporters[args.format])
        timestamp = replaying.report_timestamp()
    report_options = ReportOptions(
        color=args.output is None and args.format == "text" and _use_color(args.color, sys.stdout),
        verbose=args.verbose,
        quiet=args.quiet,
        timestamp=timestamp,
        automation_id=args.automation_id,
        show_suppressed=args.show_suppressed,
        phase=args.phase if args.phase != "all" else "",
        output_name=args.output.name if args.output is not None else "",
    )
    if args.phase:
        from coursecheck.report.phase import write_phase_reports

        return write_phase_reports(result, args, reporters[args.format], report_options, build_failed)
    try:
        text = reporters[args.format](result, report_options)
    except Exception as exc:  # a third-party reporter must not lose the run silently
        say(f"coursecheck: error: reporter '{args.format}' crashed: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL
    if args.output is not None:
        try:
            attachments: dict[str, Any]
            if replaying is None:
                atomic_write(args.output, text, root=config.root)
                attachments = report_options.attachments
            else:  # the bytes it writes are recorded for a replay
                data, attachments = replaying.written(text, report_options.attachments)
                atomic_write_bytes(args.output, data, root=config.root)
            for name, attached in attachments.items():
                if "/" in name or "\\" in name or name in ("", ".", ".."):
                    continue  # a file beside the report, never elsewhere
                if isinstance(attached, list):  # the pieces the replay session recorded
                    atomic_write_bytes(args.output.parent / name, attached, root=config.root)
                else:
                    atomic_write(args.output.parent / name, attached, root=config.root)
        except OSError as exc:
            say(f"coursecheck: error: cannot write {args.output}: {exc.strerror or exc}")
            return EXIT_USAGE
        if args.format != "text" and not args.quiet:
            counts = result.counts()
            say(
                f"coursecheck: wrote {args.output} ({plural(len(result.files), 'file')}; "
                f"{level_counts(counts)}; {result.duration:.2f}s)"
            )
    else:
        write_stdout(text)
    if args.format != "text":
        for note in result.notifications:
            say(f"coursecheck: {note.level}: {note.message}")
    for warning in report_options.warnings:
        say(f"coursecheck: warning: {warning}")
    if args.strict_internal and result.internal_errors:
        return EXIT_INTERNAL
    return EXIT_FINDINGS if result.failed or build_failed else EXIT_OK


def _write_shard(engine: Engine, args: argparse.Namespace, spec: tuple[int, int]) -> int:
    from coursecheck import shard

    index, total = spec
    try:
        key = shard.shard_key()
    except shard.ShardError as exc:
        say(f"coursecheck: error: {exc}")
        return EXIT_USAGE
    artifact = checkrun.run_shard(engine, args, index, total)
    checkrun.print_cache_report(engine, args)
    try:
        atomic_write_bytes(args.output, shard.dumps(artifact, key), root=engine.config.root)
    except OSError as exc:
        say(f"coursecheck: error: cannot write {args.output}: {exc.strerror or exc}")
        return EXIT_USAGE
    if not args.quiet:
        found = sum(len(r.findings) for r in artifact.results)
        say(
            f"coursecheck: shard {index}/{total}: checked {len(artifact.files)} files "
            f"({found} per-file findings so far); wrote {args.output}. "
            "`coursecheck merge` with all the shards makes the reports"
        )
    for note in engine.notes:
        say(f"coursecheck: {note.level}: {note.message}")
    if args.strict_internal and any(n.level == "error" for n in engine.notes):
        return EXIT_INTERNAL
    return EXIT_OK


def _load_shards(engine: Engine, paths: list[Path]) -> list | None:
    """The artifacts, or None after saying why one cannot be used."""
    from coursecheck import shard

    # Classes of the loaded plugins may appear in their summaries: loaded from artifacts
    # signed with the shard key only (without it, only the model's plain data classes).
    allowed = {getattr(p, "__name__", "") for p in engine.pm.get_plugins()}
    allowed |= {type(p).__module__ for p in engine.pm.get_plugins()}
    out = []
    try:
        key = shard.shard_key()
        for path in paths:
            out.append(shard.load(path, allowed, key=key))
    except shard.ShardError as exc:
        say(f"coursecheck: error: {exc}")
        return None
    return out


def report_timestamp(given: str) -> str | None:
    """The time reports show, as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC): ``given`` (--timestamp), or
    now. Reporters never read the clock; None when ``given`` is not ISO 8601."""
    from datetime import datetime, timezone

    if not given:
        moment = datetime.now(timezone.utc)
    else:
        try:
            moment = datetime.fromisoformat(given.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:  # a time without offset is taken as UTC
            moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _engine_for_docs(argv: list[str], prog: str) -> tuple[Engine | None, argparse.Namespace | None, int]:
    parser = argparse.ArgumentParser(prog=f"coursecheck {prog}")
    if prog == "rule":
        parser.add_argument("id", help="rule id, e.g. mermaid/min-diagrams")
    else:
        parser.add_argument(
            "--format", choices=("text", "markdown"), default="text", help="markdown prints the README rule table"
        )
    parser.add_argument("-c", "--config", type=Path, help="config file (its plugins are loaded)")
    add_plugin_arguments(parser)
    args = parser.parse_args(argv)
    config, code = _load(args.config)
    if config is None:
        return None, None, code
    try:
        engine = Engine(config, RunOptions(**plugin_choice(args).run_options()))  # type: ignore[arg-type]
    except ConfigError as exc:
        _print_config_error(exc)
        return None, None, EXIT_USAGE
    for note in engine.notes:  # what --isolated left out, a plugin that failed to load...
        say(f"coursecheck: {note.level}: {note.message}")
    return engine, args, EXIT_OK


def cmd_rules(argv: list[str]) -> int:
    engine, args, code = _engine_for_docs(argv, "rules")
    if engine is None or args is None:
        return code
    rules = sorted(engine.rules.values(), key=lambda r: r.id)
    if args.format == "markdown":
        print(rules_table(rules))
        return EXIT_OK
    width = max(len(r.id) for r in rules)
    for r in rules:
        level, _ = engine.settings.base(r.id)
        fix = " (fix)" if r.fixable else ""
        say(f"{r.id.ljust(width)}  {level:<7}  {r.summary}{fix}", sys.stdout)
    print(f"\n{len(rules)} rules. `coursecheck rule ID` shows one rule's documentation.")
    return EXIT_OK


def rules_table(rules: list, link_base: str = "docs/rules.md") -> str:
    """The README's rule table, generated from the rules' own docs (ids link to their page)."""
    from coursecheck.escape import markdown_without_html
    from coursecheck.report.sarif import github_anchor

    lines = ["| Rule | Default | Fix | What it finds |", "|---|---|---|---|"]
    for r in sorted(rules, key=lambda r: r.id):
        # A declarative rule's summary is the repository's Markdown: no raw HTML, one cell.
        summary = markdown_without_html(display(r.summary)).replace("|", "\\|")
        rule_id = f"[`{r.id}`]({link_base}#{github_anchor(r.id)})" if link_base else f"`{r.id}`"
        lines.append(f"| {rule_id} | {r.level} | {'yes' if r.fixable else ''} | {summary} |")
    return "\n".join(lines)


def cmd_rule(argv: list[str]) -> int:
    engine, args, code = _engine_for_docs(argv, "rule")
    if engine is None or args is None:
        return code
    rule = engine.rules.get(args.id)
    if rule is None:
        from coursecheck.config import did_you_mean

        say(f"coursecheck: error: unknown rule '{args.id}'{did_you_mean(args.id, engine.rules)}")
        return EXIT_USAGE
    level, options = engine.settings.base(rule.id)
    # A declarative rule's id, tags and docs are the repository's text: each line escaped.
    say(f"# {rule.id}", sys.stdout)
    print()
    say(
        f"Default level: {rule.level} (here: {level}). Plugin: {rule.plugin}."
        + (" Has a fix." if rule.fixable else "")
        + (f" Tags: {', '.join(rule.tags)}." if rule.tags else ""),
        sys.stdout,
    )
    print()
    print(display_keep_lines(rule.full_docs()))
    if options:
        print("\nIn this configuration:")
        for key, value in options.items():
            say(f"  {key} = {value!r}", sys.stdout)
    return EXIT_OK


def cmd_init(argv: list[str]) -> int:
    from coursecheck.init import write_starter_config

    parser = argparse.ArgumentParser(
        prog="coursecheck init", description="Inspect this repository and write a starter config."
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing .coursecheck.toml")
    parser.add_argument("--stdout", action="store_true", help="print the config instead of writing it")
    parser.add_argument("root", nargs="?", type=Path, default=Path("."), help="repository root (default: .)")
    parser.add_argument("-j", "--jobs", type=int, help="worker processes reading the files (default: one per CPU)")
    parser.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    add_plugin_arguments(parser)
    args = parser.parse_args(argv)
    plugins = plugin_choice(args)
    from coursecheck import progress

    bar = None
    if not args.no_progress and progress.wanted(sys.stderr):
        bar = progress.ProgressBar(sys.stderr, label="Reading the repository", min_files=progress.MIN_FILES // 2)
    try:
        return write_starter_config(
            args.root,
            force=args.force,
            to_stdout=args.stdout,
            entry_points=plugins.plugins,
            jobs=args.jobs,
            progress=None if bar is None else lambda done, total: bar(2 * done, 2 * total),
        )
    finally:
        if bar is not None:
            bar.close()


def cmd_cache(argv: list[str]) -> int:
    from coursecheck import cache

    parser = argparse.ArgumentParser(prog="coursecheck cache", description="Manage the per-file cache.")
    parser.add_argument("action", choices=["clean"], help="clean: remove the cache folder")
    parser.add_argument("-c", "--config", type=Path, help="config file (default: nearest .coursecheck.toml)")
    parser.add_argument("--root", type=Path, help="project root (default: the config's folder)")
    parser.add_argument("--cache-dir", type=Path, help="the cache folder (default: ROOT/.coursecheck-cache)")
    args = parser.parse_args(argv)
    folder = args.cache_dir
    if folder is None:
        root = args.root
        if root is None:
            config, code = _load(args.config)
            if config is None:
                return code
            root = config.root
        folder = Path(root) / cache.DEFAULT_DIR
    try:
        removed = cache.clean(folder)
    except OSError as exc:
        say(f"coursecheck: error: {exc}")
        return EXIT_USAGE
    say(f"removed {folder}" if removed else f"no cache at {folder}", sys.stdout)
    return EXIT_OK


def plugin_commands(entry_points: bool = True) -> dict[str, tuple[str, object]]:
    """Subcommands contributed by plugins (``coursecheck_commands`` hook); ``entry_points``:
    installed plugins' too (not when the run is isolated)."""
    from coursecheck.plugins import call_each, make_plugin_manager

    notes: list = []
    try:
        pm, notes = make_plugin_manager([], None, entry_points=entry_points)
    except Exception:
        return {}
    commands: dict[str, tuple[str, object]] = {}
    for _name, value in call_each(pm, "coursecheck_commands", notes, lambda v: isinstance(v, dict), "a dict"):
        for name, entry in value.items():
            if name not in COMMANDS and isinstance(entry, tuple) and len(entry) == 2 and callable(entry[1]):
                commands[name] = entry
    return commands


def command_context() -> CommandContext:
    """The app's services for plugin subcommands (:mod:`coursecheck.commands`)."""
    return CommandContext(
        load_config=_load,
        print_config_error=_print_config_error,
        add_plugin_arguments=add_plugin_arguments,
        plugin_options=lambda args: plugin_choice(args).run_options(),
        engine=Engine,
        check=cmd_check,
        add_cache_arguments=add_cache_arguments,
        cache_options=lambda args: cache_options(args, plugin_choice(args)),
        run=lambda engine, args, label: run_with_progress(cast(Engine, engine), args, label),
    )


def _call_command(function: Any, argv: list[str]) -> Any:
    """A plugin's subcommand: ``function(argv, context)``, or ``function(argv)`` when it
    takes one argument (plugins written before the context)."""
    try:
        parameters = [
            p
            for p in inspect.signature(function).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        parameters = []
    if len(parameters) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return function(argv, command_context())
    return function(argv)


def console_main() -> int:
    """The ``coursecheck`` command (and ``python -m coursecheck``): :func:`main`, then an exit
    without the interpreter's last collections over everything the run built. Those walk
    every object still alive (a 5,000-lesson course's records and findings, or one large
    file's document): 0.2-0.5 s of CPU at the end of a run, for objects freed anyway.
    Not in :func:`main`, which tests and plugins call in a process that goes on."""
    code = main()
    gc.freeze()
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = "check"
    extra = None
    if argv and argv[0] in COMMANDS:
        command = argv.pop(0)
    elif argv and not argv[0].startswith("-") and not Path(argv[0]).exists():
        if argv[0] == "report":
            replayed = _replay_report(argv[1:])
            if replayed is not None:
                return replayed
        extra = plugin_commands(_plugins_wanted(argv)).get(argv[0])
        if extra is not None:
            argv.pop(0)
    try:
        if extra is not None:
            return int(_call_command(extra[1], argv) or 0)
        if command == "rules":
            return cmd_rules(argv)
        if command == "rule":
            return cmd_rule(argv)
        if command == "init":
            return cmd_init(argv)
        if command == "cache":
            return cmd_cache(argv)
        if command == "merge":
            return cmd_merge(argv)
        if command == "lsp":
            from coursecheck.lsp import main as lsp_main  # the optional extra: imported only here

            return lsp_main(argv)
        return cmd_check(argv)
    except KeyboardInterrupt:
        say("coursecheck: interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    except ConfigError as exc:  # one a command did not catch itself
        _print_config_error(exc)
        return exc.exit_code
    except CoursecheckError as exc:  # a shard artifact refused, a baseline unread... not caught on the way
        say(f"coursecheck: error: {exc}")
        return exc.exit_code
    except Exception as exc:  # a bug in coursecheck itself: say so, without a traceback
        if os.environ.get("COURSECHECK_DEBUG"):
            raise
        say(f"coursecheck: internal error: {type(exc).__name__}: {exc}")
        say("This is a bug in coursecheck; please report it. Set COURSECHECK_DEBUG=1 to see the traceback.")
        return EXIT_INTERNAL


def _replay_report(argv: list[str]) -> int | None:
    """``coursecheck report`` replayed (coursecheck.replay) before the plugins are loaded to
    find the command: an entry is only made by a run with no plugin but coursecheck's own
    and replayed only while no package was installed or removed since, so the command is
    the built-in one (``check --format markdown``). What the attempt prints is held back
    until it replays; otherwise (None) the command runs as usual, from the start."""
    if any(a in ("-h", "--help", "-f", "--format") or a.startswith("--format=") for a in argv):
        return None
    from coursecheck.replay import held_back

    replayed: list[int] = []
    with held_back() as printed:
        try:
            cmd_check(["--format", "markdown", *argv], prog="coursecheck report", replay_only=replayed)
        except (SystemExit, Exception):
            replayed.clear()
    if not replayed:
        return None
    printed.release()
    return replayed[0]


def write_stdout(text: str) -> None:
    """``text`` on standard output; a lone surrogate (a file name that is not UTF-8, should
    one reach a reporter) is written escaped instead of stopping the run."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def wrap(text: str) -> str:
    return textwrap.fill(text, 88)
