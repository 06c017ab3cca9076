"""Acceptance (optional): six real GSD phases (../shared/corpora/gsd-phases), configured as a
new user would (`coursecheck init`, whose [planning] table the plugin writes), read with the
plugin. Each phase's verdicts are pinned (per plan, in declaration order: artifacts, then key
links; requirement ids), and every line, Mermaid and name count the evidence prints is
compared with an independent count of the files. The verdicts are the ones a reader of the
repository reaches (the reasons are in the plugin's README, "On real phases"). Skipped
when the corpus is absent."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from conftest import REPO, SHARED

from coursecheck.config import load_config
from coursecheck.engine import Engine, Result, RunOptions
from coursecheck.init import render_config, survey

PHASES = SHARED / "corpora" / "gsd-phases"
PLUGIN_SRC = REPO / "plugins" / "coursecheck-planning" / "src"

pytestmark = pytest.mark.skipif(not PHASES.is_dir(), reason="corpus ../shared/corpora/gsd-phases not present")

# phase -> ({plan: (artifacts, key links)}, {requirement: status}, truths by state)
# V verified (requirement: satisfied), F failed (blocked), H a person's to decide.
PINNED = {
    "04-lab-infrastructure": (
        {"04-01": ("VFV", "VV"), "04-02": ("VVV", "VV"), "04-03": ("FVF", "VV"), "04-04": ("V", "VVV")},
        {f"INFRA-0{i}": "H" for i in range(1, 9)},  # named by ROADMAP.md only: no plan ties them
        {"names found": 3, "nothing to count": 11},
    ),
    "08-module-4-advanced-patterns": (
        {"08-01": ("VV", "VV"), "08-02": ("VV", "VV"), "08-03": ("VFV", "VV"), "08-04": ("VV", "VV")},
        {f"MOD4-0{i}": "F" if i in (5, 6) else "V" for i in range(1, 9)},
        {"names found": 3, "nothing to count": 15},
    ),
    "13-connector-setup-comparison": (
        {"13-01": ("V", "V"), "13-02": ("V", "V"), "13-03": ("V", "F")},
        {"MYSQL-04": "V", "MYSQL-05": "V", "MYSQL-06": "V"},
        {"names found": 5, "nothing to count": 7},
    ),
    "17-multi-database-capstone": (
        {"17-01": ("V", "VV"), "17-02": ("V", "VVV"), "17-03": ("V", "VV")},
        {"MYSQL-16": "V"},  # named by ROADMAP.md only; every must-have of the phase holds
        {"names found": 4, "nothing to count": 8},
    ),
    "19-module-renaming": (
        {"19-01": ("VVVVVV", "V")},
        {"STRUCT-01a": "V", "STRUCT-01b": "V"},
        {"names found": 2, "nothing to count": 2},
    ),
    "29-module-2-diagram-migration": (
        {"29-01": ("VVVVV", "V"), "29-02": ("VVVF", "VV")},
        {f"MOD2-0{i}": "F" for i in range(1, 5)},  # blocked by the lessons' import path
        {"names found": 2, "nothing to count": 22},
    ),
}
SHORT = {"VERIFIED": "V", "FAILED": "F", "NEEDS HUMAN": "H"}
_RESULTS: dict[str, Result] = {}


def run_phase(phase: str, tmp_path_factory: pytest.TempPathFactory) -> Result:
    """The phase's tree with the config `coursecheck init` writes (must-have rules only)."""
    if phase in _RESULTS:
        return _RESULTS[phase]
    sys.path.insert(0, str(PLUGIN_SRC))
    try:
        from coursecheck_planning.init import planning_section

        tree = PHASES / phase / "tree"
        found = survey(tree)
        config_file = tmp_path_factory.mktemp(phase) / ".coursecheck.toml"
        config_file.write_text(render_config(found, [planning_section(found) or ""]), encoding="utf-8")
        config = load_config(config_file, tree)
        config.root = tree.resolve()
        config.plugins.append("coursecheck_planning.plugin")  # as if installed (entry point)
        cwd = os.getcwd()
        os.chdir(tree)
        try:
            options = RunOptions(entry_points=False, cache=False, select=["musthave", "planning"])
            _RESULTS[phase] = Engine(config, options).run()
        finally:
            os.chdir(cwd)
    finally:
        sys.path.remove(str(PLUGIN_SRC))
    return _RESULTS[phase]


@pytest.mark.parametrize("phase", sorted(PINNED))
def test_the_phase_verdicts_are_the_repositorys(phase, tmp_path_factory):
    result = run_phase(phase, tmp_path_factory)
    plans: dict[str, list[str]] = {}
    requirements: dict[str, str] = {}
    truths: dict[str, int] = {}
    for v in result.extra["verdicts"]:
        plan = Path(v.declared[0]).name.removesuffix("-PLAN.md")
        if v.kind in ("artifact", "key-link"):
            plans.setdefault(plan, ["", ""])[0 if v.kind == "artifact" else 1] += SHORT[v.status]
        elif v.kind == "requirement":
            requirements[v.id] = SHORT[v.status]
        elif v.kind == "truth" or (v.kind == "human-check" and v.measures.get("truth")):
            state = "nothing to count" if v.kind == "human-check" else v.measures.get("state", v.status)
            truths[state] = truths.get(state, 0) + 1
    expected_plans, expected_requirements, expected_truths = PINNED[phase]
    assert {k: tuple(x) for k, x in plans.items()} == expected_plans
    assert requirements == expected_requirements
    assert truths == expected_truths
    # Every verdict says which rule decided it; none of a truth is ever VERIFIED from prose.
    assert all(v.measures.get("decided_by") for v in result.extra["verdicts"] if v.kind != "human-check")
    assert not [v for v in result.extra["verdicts"] if v.kind == "truth" and v.status == "VERIFIED"]


def _lines(raw: bytes) -> int:
    """Lines as `wc -l` counts them, plus a last line without a newline."""
    return raw.count(b"\n") + (1 if raw and not raw.endswith(b"\n") else 0)


def _mermaid(text: str) -> int:
    """Diagrams by hand: fenced ```mermaid blocks, and <Mermaid chart=...> tags outside fences
    (a bare <Mermaid> wrapping a fence is the fence's diagram, counted once)."""
    count, fence = 0, None
    for line in text.splitlines():
        m = re.match(r"^\s*(`{3,}|~{3,})(\w*)", line)
        if m:
            if fence is None:
                fence = m.group(1)
                count += m.group(2).lower() == "mermaid"
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is None:
            count += len(re.findall(r"<Mermaid\b[^>]*\bchart=", line))
    return count


@pytest.mark.parametrize("phase", sorted(PINNED))
def test_printed_counts_equal_independent_counts(phase, tmp_path_factory):
    result = run_phase(phase, tmp_path_factory)
    tree = PHASES / phase / "tree"
    checked = 0
    for v in result.extra["verdicts"]:
        if v.kind == "artifact" and v.measures.get("exists"):
            per_file = v.measures.get("per_file") or {}
            files = v.measures.get("files") or [v.measures["path"]]
            lines = sum(_lines((tree / f).read_bytes()) for f in files)
            assert v.measures["lines"] == lines, v.id
            assert f"{lines} lines" in v.evidence or f"{lines:,} lines" in v.evidence or per_file, v.id
            if isinstance(v.measures.get("mermaid"), int) and not per_file:
                assert v.measures["mermaid"] == _mermaid((tree / v.measures["path"]).read_text("utf-8")), v.id
            for value, n in (v.measures.get("contains") or {}).items():
                if v.measures.get("kind") == "file" and n and "ignoring case" not in v.evidence:
                    text = (tree / v.measures["path"]).read_text("utf-8")
                    # grep -oF, or grep -oE for a value read as a regex (it does not occur as written)
                    by_hand = text.count(value) or len(re.findall(value, text, re.MULTILINE))
                    assert n == by_hand, (v.id, value)
            checked += 1
        if v.kind == "truth" and "names" in v.measures:
            scope = {f for p in result_scope(result, v.phase) for f in files_of(tree, p)}
            for name, info in v.measures["names"].items():
                flags = re.IGNORECASE if " " in name else 0
                rx = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", flags)
                by_hand = sum(len(rx.findall(f.read_text("utf-8", errors="replace"))) for f in scope)
                assert info["phase"] == by_hand, (v.id, name)  # as grep -owF counts
                checked += 1
    assert checked


def result_scope(result: Result, phase_id: str) -> list[str]:
    return next(p.scope for p in result.phases if p.id == phase_id)


def files_of(tree: Path, written: str) -> list[Path]:
    rel = written.strip().removeprefix("./")
    if any(c in rel for c in "*?["):
        return [p for p in tree.glob(rel) if p.is_file()]
    path = tree / rel
    if path.is_dir():
        return [p for p in path.rglob("*") if p.is_file()]
    return [path] if path.is_file() else []


def test_plans_that_read_more_than_one_way_are_findings(tmp_path_factory):
    notes = {
        phase: sorted(
            {(f.rule_id, f.level) for f in run_phase(phase, tmp_path_factory).findings if f.rule_id != "musthave/truth"}
            - {("musthave/artifact", "error"), ("musthave/key-link", "error"), ("musthave/requirement", "error")}
        )
        for phase in ("04-lab-infrastructure", "13-connector-setup-comparison", "29-module-2-diagram-migration")
    }
    assert notes == {
        # labs/.env, named by files_modified and a key link, is not committed (.env.example is).
        "04-lab-infrastructure": [("musthave/missing-path", "warning"), ("planning/plan-reading", "warning")],
        # A regex written in `contains`.
        "13-connector-setup-comparison": [("planning/plan-reading", "note")],
        # A "removal verification" link written as a positive pattern.
        "29-module-2-diagram-migration": [("planning/plan-reading", "note")],
    }
