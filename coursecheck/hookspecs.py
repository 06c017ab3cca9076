"""The plugin author's manual: every hook coursecheck calls, in the order it calls them.

A plugin is a module (or object) with functions named like the hooks below, marked with
``coursecheck.hookimpl``. It is found three ways:

* built-ins, the modules of ``coursecheck/builtin/`` and ``coursecheck/report/``, are
  registered first;
* installed packages declare an entry point in the group ``coursecheck``::

      [project.entry-points.coursecheck]
      myplugin = "my_package.plugin"

* a course lists local modules or ``.py`` files in its config: ``plugins = ["tools/rules.py"]``.

Every hook is called for each plugin separately: a plugin that raises, or returns something
that is not what the hook asks for, is reported (``core/internal-error`` and the run's
notifications) and the run goes on with the other plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from coursecheck.config import Config
    from coursecheck.config.schema import Section
    from coursecheck.model import Document
    from coursecheck.results import Result
    from coursecheck.rules import Rule

hookspec = pluggy.HookspecMarker("coursecheck")


@hookspec
def coursecheck_config_sections() -> dict[str, str] | None:
    """Top-level config keys this plugin reads, mapped to a one-line description.

    The config loader rejects top-level keys no plugin declares (with a did-you-mean), so a
    plugin that reads ``[glossary]`` or ``[[truth]]`` must declare them here. Validate the
    contents in :func:`coursecheck_configure`, or declare the section with
    :func:`coursecheck_config_schemas` instead (which does both).
    """


@hookspec
def coursecheck_config_schemas() -> list[Section] | None:
    """The config sections this plugin owns, declared as :class:`~coursecheck.config.schema.Section`
    schemas: keys, types, allowed values, defaults, docs, and checks a type cannot say.

    A declared section needs no :func:`coursecheck_config_sections` entry: coursecheck knows
    its name, and validates it once, reporting each problem at its file, line and key (an
    unknown key with a did-you-mean), like the core keys' problems (exit code 2).
    """


@hookspec
def coursecheck_inputs(config: Config) -> list[str] | None:
    """Files outside the checked set whose content this plugin's *document* rules (or
    ``summarize`` steps) read, relative to the project root (e.g. a glossary file named
    in the config but not among the course's data files).

    Their bytes are part of every file's cache key and of a shard's run key: change one
    and every file is checked again (course rules record their own reads instead; see
    :mod:`coursecheck.coursecache`).
    """


@hookspec
def coursecheck_rules() -> list[Rule] | None:
    """The rules this plugin provides (see :mod:`coursecheck.rules` for how to declare one).

    Called once per run. Rule ids are ``family/name``; ids must be unique across plugins.
    """


@hookspec
def coursecheck_configure(config: Config) -> list[tuple[str, int, str]] | None:
    """Read and validate this plugin's own config sections.

    Return a list of ``(key path, line, message)`` problems (``line`` may be 0 when unknown);
    coursecheck reports them like any config error (exit code 2). Rule options declared with
    :class:`~coursecheck.rules.Option` are validated for you.
    """


@hookspec(firstresult=True)
def coursecheck_parse(path: Path, relpath: str, text: str, kind: str, has_bom: bool) -> Document | None:
    """Parse one file into a :class:`~coursecheck.model.Document`, or return None to pass.

    ``kind`` is coursecheck's guess from the extension: ``markdown``, ``mdx``, ``json``,
    ``yaml`` or ``text``. ``text`` is already decoded (BOM removed, newlines normalised to
    LF, so lines and columns are those of the original file). The first plugin that returns
    a document wins; plugins registered later are asked first, so a plugin can take over a
    kind from the built-in parsers.
    """


@hookspec
def coursecheck_reporters() -> dict[str, Any] | None:
    """Output formats: a mapping ``name -> function(result, options) -> str``.

    ``options`` is a :class:`~coursecheck.report.ReportOptions`. Reporters are pure functions
    of the :class:`~coursecheck.engine.Result`: they must not read files or the clock.
    """


@hookspec
def coursecheck_report_sections(result: Result) -> list[tuple[str, str]] | None:
    """Extra sections for the Markdown report: ``(heading, markdown body)`` pairs."""


@hookspec
def coursecheck_init_sections(survey: Any) -> str | None:
    """TOML text ``coursecheck init`` adds to the starter config it writes.

    ``survey`` is a :class:`coursecheck.init.Survey`: lessons, frontmatter fields and their
    values, MDX components and props, data files, how prerequisites name lessons. The text
    must be valid as written: the starter config has to run without edits.
    """


@hookspec
def coursecheck_init_file(doc: Document, survey: Any) -> Any:
    """What ``coursecheck init`` should keep of one Markdown file for this plugin's sections.

    Called right after init parses the file (each file is parsed once, for every plugin; on
    big repositories in a worker process): return small picklable data, or None. The
    section hook finds it in ``survey.file_data[plugin name][relpath]``. ``survey`` here
    holds only ``root`` and :meth:`~coursecheck.init.Survey.sampled` (whether a costly
    look at this file is wanted): lessons are decided after every file is read.
    """


@hookspec
def coursecheck_commands() -> dict[str, tuple[str, Any]] | None:
    """Extra subcommands: ``name -> (one-line help, function(argv, app) -> exit code)``.

    ``coursecheck NAME ARGS...`` calls the function with ``ARGS`` and the app's
    :class:`~coursecheck.commands.CommandContext` (config loading, the engine, config error
    printing: a plugin imports neither the engine nor the app); a function that takes only
    ``argv`` is called with it alone. Built-in commands (check, rules, rule, init) cannot be
    replaced.
    """


@hookspec
def coursecheck_config_rules(config: Config, plugin_manager: Any) -> list[Any] | None:
    """Rules the configuration itself defines, e.g. declarative ``[[rule]]`` tables.

    Called once per run, after :func:`coursecheck_rules` and before rule ids, levels and
    options in ``[rules]`` and ``[[overrides]]`` are validated, so those can name the rules
    returned here. Return :class:`~coursecheck.rules.Rule` objects and, for definitions
    that are wrong, :class:`~coursecheck.config.ConfigProblem` objects (file, line, key,
    message; use ``config.where(*keypath)``): coursecheck reports them with the other
    configuration errors (exit code 2). ``plugin_manager`` is pluggy's manager, for a plugin that
    gathers contributions from other plugins (the declarative rules plugin calls
    :func:`coursecheck_rule_kinds` through :func:`coursecheck.plugins.call_each`).
    """


@hookspec
def coursecheck_rule_kinds() -> list[Any] | None:
    """Kinds of declarative rules this plugin provides: instances of
    :class:`coursecheck.declarative.RuleKind`.

    A course declares a rule in TOML with ``[[rule]]`` and ``kind = "NAME"``; the kind with
    that name validates the table (the fields it declares, its placeholders) and checks the
    course with it. The built-in kinds (``existence``, ``required``, ``substitution``,
    ``occurrence``, ``consistency``, ``conditional``, ``metric``, ``frontmatter``) live in
    ``coursecheck/builtin/rulekinds.py`` and are written exactly as a third party would
    write one. A minimal kind::

        from coursecheck import hookimpl
        from coursecheck.declarative import FieldSpec, RuleKind

        class Shouting(RuleKind):
            name = "shouting"
            summary = "Words written in capitals"
            fields = (FieldSpec("min-length", "int", "shortest word to report", default=4),)
            placeholders = ("match",)
            default_message = "'{match}' is written in capitals"

            def prepare(self, spec, problem):  # validate fields, compile patterns once
                n = spec.fields["min-length"]
                spec.state["matcher"] = spec.regex_matcher([rf"\\b[A-ZА-ЯЁ]{{{n},}}\\b"], problem, "min-length")

            def check_document(self, rule, doc, ctx):  # or is_course() + check_course()
                for hit in rule.hits(doc, ctx, rule.spec.state["matcher"]):
                    rule.report(ctx, doc, hit, match=hit.text)

        @hookimpl
        def coursecheck_rule_kinds():
            return [Shouting()]

    The rule's own options apply to the kind's patterns (a rule of this kind needs
    ``ignore-case = false``, or every word would be "in capitals"). Kind names must be
    unique: when two plugins define the same name, the first registered keeps it. The
    user guide is ``docs/declarative-rules.md``.
    """


@hookspec
def coursecheck_musthaves(config: Config) -> list[tuple[Any, ...]] | None:
    """Must-haves declared somewhere else than the TOML config (planning documents, a
    spreadsheet export...), merged with the config's ``[[truth]]``, ``[[artifact]]``,
    ``[[key-link]]``, ``[[requirement]]`` and ``[[human-check]]`` tables.

    Return ``(kind, table, file, line)`` tuples, or ``(kind, table, file, line, key_lines)``:

    * ``kind``: ``truth``, ``artifact``, ``key-link``, ``requirement`` or ``human-check``;
    * ``table``: the keys a TOML table of that kind takes (``min-lines``, not ``min_lines``);
    * ``file``, ``line``: where it was declared, shown in configuration errors and as the
      "declared here" location of a finding (``file`` relative to the working folder, or
      absolute);
    * ``key_lines``: optional ``{key: line}`` for errors about a single key.

    The tables are validated and evaluated exactly like TOML ones, after them (a
    ``[[requirement]]`` may name a contributed artifact, and the other way round). Called once
    per run, before the configuration is validated. A plugin that raises here, or returns
    something else, makes the run stop with a configuration error naming the plugin: the
    must-haves it should have declared would otherwise be silently missing. The planning
    importer in ``plugins/coursecheck-planning`` is a complete example.
    """


@hookspec
def coursecheck_phases(config: Config) -> list[Any] | None:
    """The phases of a planned project (:class:`~coursecheck.model.Phase`): id, name, goal,
    the files in scope, the plans. ``coursecheck report --phase ID`` writes the report of one
    of them: its must-haves (those whose ``phase`` key is the id), its files' findings, its
    name and goal. Called once per run, after the course stage; the phases go to
    ``result.phases``. The planning importer declares one per ``.planning/phases/<id>/``."""
