"""The hooks of coursecheck-planning (registered through the ``coursecheck`` entry point).

* ``coursecheck_config_schemas``: declares the ``[planning]`` table (its keys, types,
  defaults, globs, regexes, paths), which coursecheck validates at the file and line;
* ``coursecheck_config_rules``: the problems of ``[planning]`` only the plans show (no
  plan file matches, a mapping that matches no plan's truth), at their file and line;
* ``coursecheck_musthaves``: the plans' must-haves, as coursecheck must-have tables;
* ``coursecheck_phases``: one phase per plan folder, with its name and goal (ROADMAP.md),
  scope and plans, for ``coursecheck report --phase``;
* ``coursecheck_rules``: ``planning/plan-reading``, how each plan was read where it can be
  read more than one way, or could not be read (a plan is someone's document, not
  coursecheck's config: its problems are findings and the rest of the run goes on);
* ``coursecheck_init_sections``: the ``[planning]`` table ``coursecheck init`` writes when
  the repository has ``.planning/phases/``.
"""

from __future__ import annotations

from typing import Any

from coursecheck import hookimpl
from coursecheck.config import Config, ConfigProblem
from coursecheck.config.schema import Section
from coursecheck.model import Course, Phase
from coursecheck.rules import Rule, RuleContext, rule
from coursecheck.text import Span
from coursecheck_planning.plans import SCHEMA, load


@hookimpl
def coursecheck_config_schemas() -> list[Section]:
    return [SCHEMA]


@hookimpl
def coursecheck_config_rules(config: Config, plugin_manager: Any) -> list[ConfigProblem]:
    return load(config).problems


@hookimpl
def coursecheck_musthaves(config: Config) -> list[tuple[Any, ...]]:
    return [declared.as_tuple() for declared in load(config).declared]


@hookimpl
def coursecheck_phases(config: Config) -> list[Phase]:
    return list(load(config).phases)


@rule("planning/plan-reading", level="warning", course=True, tags=("musthaves", "planning"))
def plan_reading(course: Course, ctx: RuleContext) -> None:
    """How a plan was read where it can be read more than one way, or could not be read.

    ## What it does
    Reports, at the plan's line, every item of a GSD plan (`.planning/phases/*/*-PLAN.md`)
    that coursecheck read in a way the plan does not make certain, or could not read:

    - a `contains` value that looks like a regular expression (`curl.*8083/connectors`):
      looked for as written, then matched as a regex (note);
    - `exports: ["*"]` or another value that is not a name: read as `export * from ...`
      (note);
    - a key link whose `via` says the thing is removed ("removal verification"): the
      pattern must occur *nowhere* in `from` (note);
    - a requirement id the plan names that ROADMAP.md gives to another phase;
    - a `files_modified` path that is not in the repository (warning);
    - unknown keys, values of the wrong type (ignored, warning);
    - YAML that does not parse, an artifact without `path`, a regex that does not compile
      (that item or plan is not read: error).

    ## Why it matters
    The verdicts depend on how the plan is read; the reader should see the reading and fix
    the plan when it is not what was meant. A plan is a document of the project, not
    coursecheck's config: a mistake in it must not stop the run.

    ## Example
    ```yaml
    key_links:
      - from: "src/content/course/02-module-2/*.mdx"
        to: "Mermaid component"
        via: "removal verification"
        pattern: "Mermaid"      # meant: Mermaid must be gone
    ```

    ## How to fix
    Write the plan so that it reads one way: a literal `contains`, a name in `exports`, a
    truth ("No Mermaid import remains") instead of a negative key link.
    """
    from coursecheck.api import config_relpath

    for note in load(ctx.config).notes:
        ctx.report_span(
            config_relpath(ctx.config, note.file),
            Span.point(max(note.line, 1)),
            note.message,
            level=note.level,
            anchor=f"plan-reading:{note.line}:{note.message[:40]}",
        )


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [plan_reading]


@hookimpl
def coursecheck_init_sections(survey: Any) -> str | None:
    from coursecheck_planning.init import planning_section

    return planning_section(survey)
