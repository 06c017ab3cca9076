"""``coursecheck init``: look at a repository the way a new user would, write a starter config.

It finds the lesson folders (Markdown/MDX files with frontmatter), data files, the
frontmatter fields in use, the MDX components, and how prerequisites and links name lessons,
then writes a ``.coursecheck.toml`` that runs without edits. Plugins add their own sections
through the ``coursecheck_init_sections`` hook.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursecheck.config import expand_template
from coursecheck.escape import display, say, toml_string
from coursecheck.fsutil import SKIP_DIRS, OutsideRoot, atomic_write, read_inside
from coursecheck.parse.markdown import parse_markdown
from coursecheck.text import DecodeError, decode_source, normalize_newlines

SKIP_FILES = {"readme.md", "changelog.md", "license.md", "contributing.md", "code_of_conduct.md", "security.md"}
ID_TEMPLATES = (
    "{path}",
    "{path|unnumbered}",
    "{dir|unnumbered}/{stem}",
    "{module|unnumbered}/{stem}",
    "{stem}",
    "{stem|unnumbered}",
)
DATA_DIR_NAMES = {"data", "glossary", "quizzes", "quiz", "labs"}


@dataclass
class Survey:
    """What ``init`` saw; plugins read it to write their sections."""

    root: Path
    lessons: list[str] = field(default_factory=list)
    content_globs: list[str] = field(default_factory=list)
    content_base: str = ""
    data_files: list[str] = field(default_factory=list)
    data_globs: list[str] = field(default_factory=list)
    fields: Counter[str] = field(default_factory=Counter)
    field_values: dict[str, Counter[str]] = field(default_factory=dict)
    components: Counter[str] = field(default_factory=Counter)
    component_props: dict[str, Counter[str]] = field(default_factory=dict)
    prerequisites: list[str] = field(default_factory=list)
    internal_links: list[str] = field(default_factory=list)
    id_template: str = "{path}"
    aliases: list[str] = field(default_factory=list)
    order: str = "path"
    frontmatter: dict[str, dict[str, Any]] = field(default_factory=dict)  # lesson -> data
    # Files plugins want written beside the config (relpath -> text; e.g. a seeded
    # vocabulary), when ``write_files`` (not with --stdout). An existing file is never
    # replaced.
    files: dict[str, str] = field(default_factory=dict)
    write_files: bool = True


def survey(root: Path) -> Survey:
    root = root.resolve()
    s = Survey(root)
    markdown_files: list[str] = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        rel_folder = Path(os.path.relpath(folder, root)).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        for name in sorted(filenames):
            lower = name.lower()
            if lower.endswith((".md", ".mdx")) and lower not in SKIP_FILES:
                markdown_files.append(prefix + name)
            elif lower.endswith((".json", ".yaml", ".yml")):
                parts = set(prefix.lower().strip("/").split("/"))
                if parts & DATA_DIR_NAMES or lower.startswith(("glossary", "quiz")):
                    s.data_files.append(prefix + name)
    for rel in markdown_files:
        try:
            # A lesson that is a link out of the repository (or into .git) is not surveyed:
            # its frontmatter would end up in the config written here.
            text, _ = decode_source(read_inside(root, rel, parents_checked=True))
        except (OSError, DecodeError):
            continue
        text = normalize_newlines(text)
        if not text.startswith("---\n"):
            continue
        doc = parse_markdown(root / rel, rel, text, mdx=rel.endswith(".mdx"))
        if doc.frontmatter is None or not doc.frontmatter.data:
            continue
        s.lessons.append(rel)
        s.frontmatter[rel] = doc.frontmatter.data
        for key, value in doc.frontmatter.data.items():
            s.fields[key] += 1
            if isinstance(value, str) and len(value) < 40:
                s.field_values.setdefault(key, Counter())[value] += 1
        prereq = doc.frontmatter.data.get("prerequisites")
        if isinstance(prereq, list):
            s.prerequisites.extend(str(p) for p in prereq)
        for comp in doc.components:
            s.components[comp.name] += 1
            s.component_props.setdefault(comp.name, Counter()).update(list(comp.props))
        s.internal_links.extend(link.href for link in doc.links if link.href.startswith("/"))
    if s.lessons:
        common = os.path.commonpath([os.path.dirname(p) or "." for p in s.lessons])
        s.content_base = "" if common in ("", ".") else Path(common).as_posix()
        exts = sorted({p.rsplit(".", 1)[1] for p in s.lessons})
        pattern = "*." + exts[0] if len(exts) == 1 else "*.{" + ",".join(exts) + "}"
        s.content_globs = [f"{s.content_base}/**/{pattern}" if s.content_base else f"**/{pattern}"]
    # One glob per top-level folder holding data files: "data/*.json", "labs/**/*.{json,yml}".
    tops = sorted({p.split("/", 1)[0] if "/" in p else "" for p in s.data_files})
    for top in tops:
        members = [p for p in s.data_files if (p.split("/", 1)[0] if "/" in p else "") == top]
        exts = sorted({p.rsplit(".", 1)[1] for p in members})
        pattern = "*." + exts[0] if len(exts) == 1 else "*.{" + ",".join(exts) + "}"
        folders = {os.path.dirname(p) for p in members}
        if len(folders) == 1:
            folder = folders.pop()
            s.data_globs.append(f"{folder}/{pattern}" if folder else pattern)
        else:
            s.data_globs.append(f"{top}/**/{pattern}")
    _guess_ids(s)
    numbered = sum(1 for p in s.lessons if re.match(r"^\d", p.rsplit("/", 1)[-1]))
    if s.lessons and numbered < len(s.lessons) / 2 and s.fields.get("order", 0) >= len(s.lessons) / 2:
        s.order = "frontmatter"
    return s


def _inside(s: Survey, rel: str) -> str:
    return rel[len(s.content_base) + 1 :] if s.content_base and rel.startswith(s.content_base + "/") else rel


def _guess_ids(s: Survey) -> None:
    """Pick the id template that resolves most prerequisites, and a route alias for links."""
    inside = [_inside(s, p) for p in s.lessons]
    best, best_hits = "{path}", -1
    for template in ID_TEMPLATES:
        ids = {expand_template(template, p) for p in inside}
        hits = sum(1 for p in s.prerequisites if p in ids)
        if hits > best_hits:
            best, best_hits = template, hits
    if best != "{path}" and best_hits > 0:
        s.aliases.append(best)
    prefixes: Counter[str] = Counter()
    paths = [expand_template("{path}", p) for p in inside]
    for href in s.internal_links:
        target = href.split("#", 1)[0].split("?", 1)[0].rstrip("/")
        for p in paths:
            if target.endswith("/" + p) or target == p:
                prefixes[target[: len(target) - len(p)]] += 1
                break
    if prefixes:
        prefix = prefixes.most_common(1)[0][0]
        s.aliases.append(prefix + "{path}")


def _toml_list(values: list[str]) -> str:
    """File names are the repository's: they may hold quotes, line breaks, control characters."""
    return "[" + ", ".join(toml_string(v) for v in values) + "]"


def render_config(s: Survey, plugin_sections: list[str]) -> str:
    lines = [
        "# coursecheck configuration, written by `coursecheck init`.",
        "# Docs: `coursecheck rules`, `coursecheck rule ID`, and the README.",
        "",
        "[course]",
        f"content = {_toml_list(s.content_globs or ['**/*.md', '**/*.mdx'])}",
    ]
    if s.data_globs:
        lines.append(f"data = {_toml_list(s.data_globs)}")
    lines.append(f'id = "{s.id_template}"')
    if s.aliases:
        lines.append(f"aliases = {_toml_list(s.aliases)}  # how prerequisites and links name lessons")
    lines.append(f'order = "{s.order}"')
    lines.append('languages = { primary = "ru", secondary = "en" }')
    lines.append("")
    if s.fields:
        used = ", ".join(f"{k} ({n}/{len(s.lessons)})" for k, n in s.fields.most_common())
        lines.append(f"# Frontmatter fields in use: {display(used)}")  # one comment line whatever the keys hold
    if s.components:
        comps = ", ".join(f"{k} ({n})" for k, n in s.components.most_common())
        lines.append(f"# MDX components in use: {display(comps)}")
    lines += ["", "[rules]", '# "family/rule" = "error" | "warning" | "note" | "off", or a table with options', ""]
    for section in plugin_sections:
        if section.strip():
            lines += [section.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_starter_config(root: Path, *, force: bool = False, to_stdout: bool = False, entry_points: bool = True) -> int:
    target = root / ".coursecheck.toml"
    if os.path.lexists(target) and not force and not to_stdout:
        say(f"coursecheck init: {target} already exists; use --force to overwrite")
        return 2
    s = survey(root)
    s.write_files = not to_stdout
    sections = _plugin_sections(s, entry_points)
    hint = planning_hint(s.root, sections)
    if hint:
        sections.append(hint)
        say(
            "coursecheck init: GSD plans found in .planning/phases/: `pip install coursecheck-planning` "
            "(plugins/coursecheck-planning) and run init again to check their must-haves"
        )
    text = render_config(s, sections)
    if to_stdout:
        sys.stdout.write(text)
        return 0
    written = []
    try:
        for rel, body in sorted(s.files.items()):
            path = s.root / rel
            if os.path.lexists(path):
                continue  # a file the author has is never replaced
            try:
                atomic_write(path, body, root=root)
            except OutsideRoot:
                continue
            written.append(rel)
        atomic_write(target, text, root=root)
    except OSError as exc:
        say(f"coursecheck init: error: cannot write {target}: {exc.strerror or exc}")
        return 2
    also = f"; also wrote {', '.join(written)}" if written else ""
    say(
        f"coursecheck init: wrote {target} ({len(s.lessons)} lessons under {s.content_base or '.'}, "
        f"{len(s.data_files)} data files{also}). Run `coursecheck` to check the course."
    )
    return 0


def _plugin_sections(s: Survey, entry_points: bool = True) -> list[str]:
    """Starter sections from the plugins (installed ones too, unless ``entry_points`` is off)."""
    from coursecheck.plugins import call_each, make_plugin_manager

    try:
        pm, notes = make_plugin_manager([], None, entry_points=entry_points)
    except Exception:  # init must work even if a third-party plugin is broken
        return []
    results = call_each(pm, "coursecheck_init_sections", notes, lambda v: isinstance(v, str), "TOML text", survey=s)
    return [text for _name, text in sorted(results)]


def planning_hint(root: Path, sections: list[str]) -> str | None:
    """A GSD project (``.planning/phases/*/*-PLAN.md``) whose planning plugin is not installed:
    a comment saying how to get the plans' must-haves checked (the plugin, when installed,
    writes the ``[planning]`` table itself)."""
    if any(re.search(r"^\[planning\]", section, re.MULTILINE) for section in sections):
        return None
    phases = root / ".planning" / "phases"
    if not phases.is_dir() or not any(phases.glob("*/*-PLAN.md")):
        return None
    return "\n".join(
        [
            "# GSD planning found (.planning/phases/*/*-PLAN.md). To check the plans' must-haves and",
            "# write phase reports, install the planning plugin and run `coursecheck init --force`:",
            "#   pip install coursecheck-planning        # plugins/coursecheck-planning in coursecheck's repository",
            "# [planning]",
        ]
    )
