"""What ``coursecheck init`` writes for a GSD project: the ``[planning]`` table."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def gsd_phases(root: Path) -> list[str]:
    """The phase folders under ``.planning/phases/`` that hold a plan (``*-PLAN.md``)."""
    phases = root / ".planning" / "phases"
    if not phases.is_dir():
        return []
    out = []
    for folder in sorted(p for p in phases.iterdir() if p.is_dir() and not p.is_symlink()):
        if any(f.name.endswith("-PLAN.md") for f in folder.iterdir() if f.is_file()):
            out.append(folder.name)
    return out


def planning_section(survey: Any) -> str | None:
    root = getattr(survey, "root", None)
    if not isinstance(root, Path):
        return None
    phases = gsd_phases(root)
    if not phases:
        return None
    shown = ", ".join(phases[:3]) + (f", … ({len(phases)} in all)" if len(phases) > 3 else "")
    return "\n".join(
        [
            f"# GSD planning found: .planning/phases/ ({shown}). The plans' must-haves (truths,",
            "# artifacts, key links), requirement ids and checkpoints are checked on every run;",
            "# `coursecheck report --phase ID` writes a phase's VERIFICATION report.",
            "[planning]",
            '# plans = [".planning/phases/*/*-PLAN.md"]   # the default',
        ]
    )
