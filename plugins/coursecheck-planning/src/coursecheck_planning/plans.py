"""Reading plan files and turning their must-haves into coursecheck must-have tables.

A plan (``.planning/phases/07-module-3-production-operations/07-01-PLAN.md``) carries in its
YAML frontmatter::

    must_haves:
      truths:                      # observable facts, as sentences
        - "MilliSecondsBehindSource is the primary lag metric"
      artifacts:                   # files and what they provide
        - path: src/content/course/03-module-3/01-jmx-metrics-interpretation.mdx
          provides: JMX metric categories
          min_lines: 200
          contains: "MilliSecondsBehindSource"     # a string or a list of strings
          exports: [MetricTable]                   # names the file must export (JS/TS/MDX)
      key_links:                   # connections between files
        - from: src/content/course/03-module-3/02-prometheus-metrics-collection.mdx
          to: labs/monitoring/prometheus.yml
          via: Scrape configuration
          pattern: 'prometheus\\.yml'              # a regex that must occur in `from`

Translation (one coursecheck table per item, located at the item's line in the plan):

* artifact -> ``[[artifact]]`` (``min_lines`` -> ``min-lines``, ``contains`` -> ``contains``,
  ``exports`` -> ``patterns`` matching an ``export`` of each name), plus the keys of every
  ``[[planning.artifact]]`` whose ``path`` glob matches (``min-mermaid``, ``frontmatter``...);
* key link -> ``[[key-link]]``; ``from``/``to`` are lessons or files (a bare file name is
  looked up under the project root when unique); with a ``pattern`` the link holds when the
  pattern occurs in ``from``, without one coursecheck's default applies (a prerequisite or
  link between two lessons, ``from`` inside a folder ``to``, else a link from ``from``);
* truth -> ``[[truth]]`` when a ``[[planning.truth]]`` maps its text to a measurable check,
  else ``[[human-check]]`` (never auto-passed);
* requirement ids found in the plan's text (``MOD3-05``) -> ``[[requirement]]`` satisfied by
  the plan's artifacts (ids in several plans collect the artifacts of all of them);
* ``<task type="checkpoint:human-verify">`` tasks -> ``[[human-check]]``.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursecheck.builtin.musthaves import KEYS
from coursecheck.config import Config, ConfigProblem
from coursecheck.fsutil import OutsideRoot, contained, outside_problem
from coursecheck.globs import compile_glob, invalid_glob
from coursecheck.parse.markdown import parse_markdown

SECTION = "planning"
DEFAULT_PLANS = (".planning/phases/*/*-PLAN.md",)
DEFAULT_REQUIREMENTS_FILE = ".planning/REQUIREMENTS.md"
# Two capitals-or-digits groups and exactly two digits: MOD3-05, AUTH-01 (not SHA-256, UTF-8).
DEFAULT_REQUIREMENT_PATTERN = r"\b[A-Z][A-Z0-9]+-\d{2}\b"

# [planning] keys: name -> (accepted types, description)
SETTINGS: dict[str, tuple[tuple[type, ...], str]] = {
    "root": ((str,), "folder holding .planning/, relative to the config file (default: the project root)"),
    "plans": ((list,), "globs of plan files, relative to root"),
    "requirements": ((bool,), "make [[requirement]] must-haves of requirement ids found in plans"),
    "requirement-pattern": ((str,), "regular expression of a requirement id"),
    "requirements-file": ((str,), "a file listing requirement texts ('- **MOD3-01**: text'), relative to root"),
    "human-checkpoints": ((bool,), "make [[human-check]] must-haves of checkpoint:human-verify tasks"),
    "truth": ((list,), "[[planning.truth]]: a plan truth's text mapped to a measurable check"),
    "artifact": ((list,), "[[planning.artifact]]: checks added to plan artifacts whose path matches"),
}
ARTIFACT_KEYS = ("path", "provides", "min_lines", "contains", "exports")
KEY_LINK_KEYS = ("from", "to", "via", "pattern")
MUST_HAVE_KEYS = ("truths", "artifacts", "key_links")
# What a [[planning.truth]] may say besides `text`: the check keys of a [[truth]].
TRUTH_MAP_KEYS = {k: v for k, v in KEYS["truth"].items() if k != "text"}
ARTIFACT_MAP_KEYS = {k: v for k, v in KEYS["artifact"].items() if k not in ("id", "provides")}
_SKIPPED_DIRS = {".git", "node_modules", ".venv", "__pycache__", ".coursecheck-cache"}
_TASK = re.compile(r"<task\b([^>]*)>(.*?)</task>", re.DOTALL)
_FILES = re.compile(r"<files>(.*?)</files>", re.DOTALL)
_ELEMENT = re.compile(r"<(name|what-built|how-to-verify|resume-signal)>(.*?)</\1>", re.DOTALL)
_REQUIREMENT_LINE = re.compile(r"^\s*[-*]\s*(?:\[[ xX]\]\s*)?\**`?([A-Za-z][\w.-]*)`?\**\s*[:—–-]\s*(\S.*)$")


@dataclass(slots=True)
class Declared:
    """A must-have table for the ``coursecheck_musthaves`` hook."""

    kind: str
    table: dict[str, Any]
    file: str
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    def as_tuple(self) -> tuple[str, dict[str, Any], str, int, dict[str, int]]:
        return (self.kind, self.table, self.file, self.line, self.key_lines)


@dataclass(slots=True)
class Loaded:
    declared: list[Declared] = field(default_factory=list)
    problems: list[ConfigProblem] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)  # display paths of the plans read


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _did_you_mean(word: str, candidates: Any) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    if not isinstance(value, types):
        return False
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return False
    return not isinstance(value, list) or all(isinstance(v, str) for v in value)


def _regex_problem(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    return ""


def settings_problems(config: Config) -> list[ConfigProblem]:
    """Problems of the ``[planning]`` table itself (types, globs, regexes, mappings)."""
    section = config.sections.get(SECTION)
    problems: list[ConfigProblem] = []

    def bad(key: tuple[Any, ...], message: str) -> None:
        file, line = config.where(SECTION, *key)
        dotted = SECTION + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in key)
        problems.append(ConfigProblem(file, line, dotted, message))

    if section is None:
        return problems
    if not isinstance(section, dict):
        bad((), "must be a table: [planning]")
        return problems
    for key, value in section.items():
        spec = SETTINGS.get(key)
        if spec is None:
            bad((key,), f"unknown key{_did_you_mean(key, SETTINGS)} (known: {', '.join(SETTINGS)})")
        elif key in ("truth", "artifact"):
            if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
                bad((key,), f"must be an array of tables: [[planning.{key}]]")
        elif not _type_ok(value, spec[0]):
            bad((key,), f"must be {'a list of strings' if spec[0] == (list,) else spec[0][0].__name__}")
    for key, base in (("root", _config_folder(config)), ("requirements-file", None)):
        written = section.get(key)
        if not isinstance(written, str):
            continue
        if base is None:  # relative to the plan root, itself inside the project root
            if "root" in section and isinstance(section["root"], str) and _outside(config, section["root"], None):
                continue  # the root is reported
            base = _plan_root_as_written(config)
        refused = _outside(config, written, base)
        if refused:
            bad((key,), refused)
    for pattern in section.get("plans", []) if _type_ok(section.get("plans", []), (list,)) else []:
        why = invalid_glob(pattern)
        if why:
            bad(("plans",), f"glob '{pattern}': {why}")
    if isinstance(section.get("requirement-pattern"), str):
        why = _regex_problem(section["requirement-pattern"])
        if why:
            bad(("requirement-pattern",), why)
    for kind, known, required in (("truth", TRUTH_MAP_KEYS, "text"), ("artifact", ARTIFACT_MAP_KEYS, "path")):
        tables = section.get(kind, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            continue
        for i, table in enumerate(tables):
            if not isinstance(table.get(required), str) or not table[required].strip():
                bad((kind, i), f"[[planning.{kind}]] needs '{required}'")
            for key, value in table.items():
                if key == required:
                    continue
                spec = known.get(key)
                if spec is None:
                    bad((kind, i, key), f"unknown key{_did_you_mean(key, known)} (known: {', '.join(known)})")
                elif not _type_ok(value, spec[0]) and not (key == "frontmatter" and value is True):
                    bad((kind, i, key), f"must be {spec[1]}")
                elif key in ("pattern", "heading") or key == "patterns":
                    for pattern in [value] if isinstance(value, str) else value:
                        why = _regex_problem(pattern)
                        if why:
                            bad((kind, i, key), why)
            if kind == "truth" and sum(k in table for k in ("term", "pattern", "heading")) != 1:
                bad((kind, i), "a [[planning.truth]] maps to exactly one of 'term', 'pattern' or 'heading'")
            if kind == "artifact" and isinstance(table.get("path"), str):
                why = invalid_glob(table["path"])
                if why:
                    bad((kind, i, "path"), f"glob '{table['path']}': {why}")
    return problems


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Finder:
    """Resolves a bare file name (``02-prometheus-metrics-collection.mdx``) under the root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_name: dict[str, list[str]] | None = None

    def resolve(self, written: str) -> str:
        rel = written.strip().removeprefix("./")
        if not rel or "/" in rel or "." not in rel or (self.root / rel).exists():
            return written
        if self._by_name is None:
            self._by_name = {}
            for folder, dirs, files in os.walk(self.root):
                dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
                base = Path(folder).relative_to(self.root).as_posix()
                for name in files:
                    self._by_name.setdefault(name, []).append(name if base == "." else f"{base}/{name}")
        found = self._by_name.get(rel, [])
        return found[0] if len(found) == 1 else written


def _export_pattern(name: str) -> str:
    """A regex for ``export`` of ``name``: ``export const X``, ``export default function X``,
    ``export { X }``, ``export async function X``, ``export class/type/interface X``."""
    n = re.escape(name)
    return (
        rf"export\s+(?:default\s+)?(?:async\s+)?(?:function\*?|const|let|var|class|interface|type|enum)\s+{n}\b"
        rf"|export\s*\{{[^}}]*\b{n}\b[^}}]*\}}"
    )


def _config_folder(config: Config) -> Path:
    return config.path.parent if config.path is not None else config.root


def _plan_root_as_written(config: Config) -> Path:
    section = config.sections.get(SECTION) or {}
    written = section.get("root") if isinstance(section, dict) else None
    folder = _config_folder(config)
    return Path(os.path.normpath(folder / written)) if isinstance(written, str) else config.root


def _outside(config: Config, written: str, base: Path | None) -> str:
    """Why ``written`` (a path relative to ``base``, default the config's folder) is refused:
    it must name a place inside the project root, outside .git, reached without a link
    that leads out (the plans and requirements of another tree are not this course's)."""
    if getattr(config, "trusted", False):
        return ""  # the user's own config, from outside the project: its paths as written
    base = _config_folder(config) if base is None else base
    if os.path.isabs(written):
        return outside_problem(config.root, written) or ""
    try:
        relative = os.path.relpath(os.path.normpath(base / written), config.root)
    except ValueError:
        relative = written
    why = outside_problem(config.root, relative)
    if why is not None:
        return why.replace(f"'{relative}'", f"'{written}'", 1)
    try:
        contained(config.root, relative)
    except OutsideRoot as exc:
        return f"'{written}': {exc.describe()}"
    return ""


def plan_root(config: Config) -> Path:
    section = config.sections.get(SECTION) or {}
    written = section.get("root") if isinstance(section, dict) else None
    if isinstance(written, str) and config.path is not None:
        return (config.path.parent / written).resolve()
    return config.root


def plan_files(config: Config) -> list[Path]:
    section = config.sections.get(SECTION) or {}
    patterns = section.get("plans", list(DEFAULT_PLANS)) if isinstance(section, dict) else list(DEFAULT_PLANS)
    root = plan_root(config)
    compiled = [compile_glob(p) for p in patterns if isinstance(p, str) and not invalid_glob(p)]
    found: list[Path] = []
    if not root.is_dir():
        return found
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS - {".planning"})
        base = Path(folder).relative_to(root).as_posix()
        for name in sorted(files):
            rel = name if base == "." else f"{base}/{name}"
            if any(rx.match(rel) for rx in compiled):
                found.append(Path(folder) / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _requirement_texts(config: Config) -> dict[str, str]:
    section = config.sections.get(SECTION) or {}
    written = section.get("requirements-file", DEFAULT_REQUIREMENTS_FILE)
    path = plan_root(config) / written if isinstance(written, str) else None
    if path is None:
        return {}
    try:
        # The default file may be a link the repository committed: never one leading out.
        boundary = plan_root(config) if getattr(config, "trusted", False) else config.root
        path = Path(contained(boundary, path))
    except OutsideRoot:
        return {}
    if not path.is_file():
        return {}
    texts: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _REQUIREMENT_LINE.match(line)
        if m:
            texts.setdefault(m.group(1), m.group(2).strip())
    return texts


def load(config: Config) -> Loaded:
    """Every plan's must-haves as coursecheck tables, and the problems met reading them.

    Nothing happens without a ``[planning]`` table: an installed plugin stays quiet in
    courses that do not ask for it.
    """
    out = Loaded()
    section = config.sections.get(SECTION)
    if section is None:
        return out
    out.problems.extend(settings_problems(config))
    if out.problems:
        return out
    root = plan_root(config)
    files = plan_files(config)
    if not files:
        file, line = config.where(SECTION)
        patterns = ", ".join(section.get("plans", DEFAULT_PLANS))
        out.problems.append(ConfigProblem(file, line, SECTION, f"no plan file matches {patterns} under {root}"))
        return out
    finder = _Finder(config.root)
    requirement_rx = re.compile(section.get("requirement-pattern", DEFAULT_REQUIREMENT_PATTERN))
    requirement_texts = _requirement_texts(config)
    truth_maps = section.get("truth", [])
    artifact_maps = [(compile_glob(t["path"]), i, t) for i, t in enumerate(section.get("artifact", []))]
    used_truth_maps: set[int] = set()
    seen_truths: set[str] = set()
    artifacts: dict[str, Declared] = {}
    links: dict[tuple[str, str, str], Declared] = {}
    requirements: dict[str, tuple[list[str], str, int]] = {}
    others: list[Declared] = []
    for path in files:
        display = _display(path)
        try:
            # Inside the project root; for the user's own config, inside the plan root it chose.
            real = Path(contained(root if getattr(config, "trusted", False) else config.root, path))
        except OutsideRoot as exc:
            out.problems.append(ConfigProblem(display, 0, "", exc.describe()))
            continue
        out.plans.append(display)
        text = real.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
        doc = parse_markdown(path, display, text, mdx=False)
        plan_id = path.name.removesuffix("-PLAN.md").removesuffix(".md")

        def bad(line: int, key: str, message: str, display: str = display) -> None:
            out.problems.append(ConfigProblem(display, line, key, message))

        broken = [p for p in doc.problems if p.rule_id == "parse/frontmatter"]
        if broken:
            bad(broken[0].span.line, "", broken[0].message)
            continue
        fm = doc.frontmatter
        must = fm.data.get("must_haves") if fm is not None else None
        if must is None:
            must = {}
        if not isinstance(must, dict):
            bad(fm.place("must_haves").line, "must_haves", "must be a mapping with truths, artifacts, key_links")
            continue

        def line_of(*place: Any, fm: Any = fm) -> int:
            return fm.place("must_haves", *place).line

        for key in must:
            if key not in MUST_HAVE_KEYS:
                bad(line_of(key, "#key"), f"must_haves.{key}", f"unknown key{_did_you_mean(str(key), MUST_HAVE_KEYS)}")
        lists: dict[str, list[Any]] = {}
        for key in MUST_HAVE_KEYS:
            value = must.get(key) or []
            if not isinstance(value, list):
                bad(line_of(key), f"must_haves.{key}", "must be a list")
                value = []
            lists[key] = value
        plan_artifacts: list[str] = []

        # -- artifacts
        for i, item in enumerate(lists["artifacts"]):
            where = f"must_haves.artifacts[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item["path"].strip():
                bad(line_of("artifacts", i), where, "an artifact is a mapping with at least a 'path'")
                continue
            key_lines = {k: line_of("artifacts", i, k, "#key") for k in item}
            ok = True
            for key, value in item.items():
                if key not in ARTIFACT_KEYS:
                    bad(key_lines[key], f"{where}.{key}", f"unknown key{_did_you_mean(str(key), ARTIFACT_KEYS)}")
                    ok = False
                elif key == "min_lines" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    bad(key_lines[key], f"{where}.{key}", "must be an integer >= 0")
                    ok = False
                elif key in ("contains", "exports") and not (
                    isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
                ):
                    bad(key_lines[key], f"{where}.{key}", "must be a string or a list of strings")
                    ok = False
                elif key == "provides" and not isinstance(value, str):
                    bad(key_lines[key], f"{where}.{key}", "must be a string")
                    ok = False
            if not ok:
                continue
            written = item["path"].strip()
            target = finder.resolve(written)
            table: dict[str, Any] = {"path": target}
            lines = {"path": key_lines["path"]}
            if isinstance(item.get("provides"), str):
                table["provides"], lines["provides"] = item["provides"], key_lines["provides"]
            if "min_lines" in item:
                table["min-lines"], lines["min-lines"] = item["min_lines"], key_lines["min_lines"]
            if "contains" in item:
                value = item["contains"]
                table["contains"] = [value] if isinstance(value, str) else list(value)
                lines["contains"] = key_lines["contains"]
            if "exports" in item:
                value = item["exports"]
                table["patterns"] = [_export_pattern(n) for n in ([value] if isinstance(value, str) else value)]
                lines["patterns"] = key_lines["exports"]
            for rx, _j, mapping in artifact_maps:
                if rx.match(target):
                    for key, value in mapping.items():
                        if key == "path":
                            continue
                        if key in ("contains", "patterns") and key in table:
                            table[key] = [*table[key], *[v for v in value if v not in table[key]]]
                        else:
                            table.setdefault(key, value)
            previous = artifacts.get(target)
            if previous is not None:
                _merge_artifact(previous.table, table)
            else:
                artifacts[target] = Declared("artifact", table, display, line_of("artifacts", i), lines)
            plan_artifacts.append(target)

        # -- key links
        for i, item in enumerate(lists["key_links"]):
            where = f"must_haves.key_links[{i}]"
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) and item[k].strip() for k in ("from", "to")
            ):
                bad(line_of("key_links", i), where, "a key link is a mapping with at least 'from' and 'to'")
                continue
            key_lines = {k: line_of("key_links", i, k, "#key") for k in item}
            ok = True
            for key, value in item.items():
                if key not in KEY_LINK_KEYS:
                    bad(key_lines[key], f"{where}.{key}", f"unknown key{_did_you_mean(str(key), KEY_LINK_KEYS)}")
                    ok = False
                elif not isinstance(value, str):
                    bad(key_lines[key], f"{where}.{key}", "must be a string")
                    ok = False
                elif key == "pattern" and _regex_problem(value):
                    bad(key_lines[key], f"{where}.{key}", _regex_problem(value))
                    ok = False
            if not ok:
                continue
            table = {"from": finder.resolve(item["from"].strip()), "to": finder.resolve(item["to"].strip())}
            lines = {"from": key_lines["from"], "to": key_lines["to"]}
            for key in ("via", "pattern"):
                if key in item:
                    table[key], lines[key] = item[key], key_lines[key]
            identity = (table["from"], table["to"], table.get("pattern", ""))
            if identity in links:
                continue  # the same link declared by two plans: one must-have
            table["id"] = f"{table['from']} -> {table['to']}"
            if any(d.table["id"] == table["id"] for d in links.values()):
                table["id"] += f" ({plan_id})"
            links[identity] = Declared("key-link", table, display, line_of("key_links", i), lines)

        # -- truths
        for i, item in enumerate(lists["truths"]):
            line = line_of("truths", i)
            if not isinstance(item, str) or not item.strip():
                bad(line, f"must_haves.truths[{i}]", "a truth is a sentence (a string)")
                continue
            normal = _normal(item)
            if normal in seen_truths:
                continue  # the same claim in two plans: one must-have
            seen_truths.add(normal)
            mapped = next(((j, t) for j, t in enumerate(truth_maps) if _normal(t["text"]) == normal), None)
            if mapped is not None:
                j, mapping = mapped
                used_truth_maps.add(j)
                table = {"text": " ".join(item.split()), **{k: v for k, v in mapping.items() if k != "text"}}
                table.setdefault("id", f"{plan_id}-truth-{i + 1}")
                # The measurable check is declared in the config: errors and "declared here" go there.
                file, map_line = config.where(SECTION, "truth", j)
                key_lines = {k: config.where(SECTION, "truth", j, k)[1] or map_line for k in table}
                others.append(Declared("truth", table, file, map_line, key_lines))
            else:
                others.append(
                    Declared(
                        "human-check",
                        {
                            "id": f"{plan_id}-truth-{i + 1}",
                            "title": " ".join(item.split()),
                            "test": f"Check that this holds in the course: {' '.join(item.split())}",
                            "why": f"a truth of {path.name} (line {line}) that no [[planning.truth]] maps to a measurable check",
                        },
                        display,
                        line,
                    )
                )

        # -- human checkpoints
        if section.get("human-checkpoints", True):
            for n, m in enumerate(_TASK.finditer(text), start=1):
                if "checkpoint:human-verify" not in m.group(1):
                    continue
                parts = {name: " ".join(value.split()) for name, value in _ELEMENT.findall(m.group(2))}
                how = parts.get("how-to-verify") or parts.get("what-built")
                if not how:
                    continue
                line = text.count("\n", 0, m.start()) + 1
                table = {
                    "id": f"{plan_id}-checkpoint-{n}",
                    "title": parts.get("name") or parts.get("what-built") or f"Checkpoint of {path.name}",
                    "test": how,
                    "why": f"a checkpoint:human-verify task of {path.name} (line {line})",
                }
                if parts.get("what-built") and parts.get("how-to-verify"):
                    table["expected"] = parts["what-built"]
                others.append(Declared("human-check", table, display, line))

        # -- requirement ids in the plan's text
        if section.get("requirements", True):
            # An id named in a <task> whose <files> lists some of the plan's artifacts is
            # satisfied by those; an id named only elsewhere, by all the plan's artifacts.
            by_task: dict[str, list[str]] = {}
            for m in _TASK.finditer(text):
                files_match = _FILES.search(m.group(2))
                named = [finder.resolve(f) for f in re.split(r"[,\s]+", files_match.group(1))] if files_match else []
                mine = [a for a in plan_artifacts if a in named]
                for rid in requirement_rx.findall(m.group(0)):
                    by_task.setdefault(rid, []).extend(a for a in mine if a not in by_task.get(rid, []))
            for m in requirement_rx.finditer(text):
                rid = m.group(0)
                line = text.count("\n", 0, m.start()) + 1
                refs, file, first_line = requirements.get(rid, ([], display, line))
                chosen = by_task.get(rid) or plan_artifacts
                refs.extend(f"artifact:{a}" for a in chosen if f"artifact:{a}" not in refs)
                requirements[rid] = (refs, file, first_line)

    unreadable = bool(out.problems)  # a plan not read may hold the truth a mapping names
    for j, mapping in enumerate(truth_maps):
        if j not in used_truth_maps and not unreadable:
            file, line = config.where(SECTION, "truth", j)
            out.problems.append(
                ConfigProblem(
                    file,
                    line,
                    f"{SECTION}.truth[{j}].text",
                    f"no plan has the truth '{mapping['text']}' (compared without case and extra spaces)",
                )
            )
    out.declared.extend(artifacts.values())
    out.declared.extend(links.values())
    out.declared.extend(d for d in others if d.kind == "truth")
    declared_in_config = {
        t.get("id")
        for t in config.sections.get("requirement", []) or []
        if isinstance(t, dict) and not _is_contributed(t)
    }
    for rid, (refs, file, line) in sorted(requirements.items()):
        if rid in declared_in_config:
            continue  # the TOML config says how this requirement is satisfied
        table = {"id": rid, "satisfied-by": refs}
        if rid in requirement_texts:
            table["text"] = requirement_texts[rid]
        out.declared.append(Declared("requirement", table, file, line))
    out.declared.extend(d for d in others if d.kind == "human-check")
    return out


def _is_contributed(table: Any) -> bool:
    from coursecheck.builtin.musthaves import Contributed

    return isinstance(table, Contributed)


def _merge_artifact(first: dict[str, Any], again: dict[str, Any]) -> None:
    """The same file declared by two plans: one must-have holding both plans' demands."""
    for key, value in again.items():
        if key == "min-lines":
            first[key] = max(first.get(key, 0), value)
        elif key in ("contains", "patterns"):
            first[key] = [*first.get(key, []), *[v for v in value if v not in first.get(key, [])]]
        elif key == "provides" and first.get(key) and value not in first[key]:
            first[key] = f"{first[key]}; {value}"
        else:
            first.setdefault(key, value)
