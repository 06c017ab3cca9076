"""Write docs/rules.md (the page SARIF ``helpUri`` links to) and the README's rule table
from the rules' own documentation: one source for `coursecheck rule ID`, SARIF and the docs.

python scripts/rules-doc.py            # built-in rules (installed plugins are not loaded)
python scripts/rules-doc.py --check    # exit 1 if docs/rules.md or README.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from coursecheck.cli import rules_table
from coursecheck.config import Config
from coursecheck.engine import Engine, RunOptions
from coursecheck.fsutil import atomic_write
from coursecheck.report.sarif import rules_reference

TARGET = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
README = TARGET.parent.parent / "README.md"
START, END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"


def readme_with_table(readme: str, table: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str]) -> int:
    engine = Engine(Config(None, TARGET.parent.parent), RunOptions(entry_points=False))
    rules = sorted(engine.rules.values(), key=lambda r: r.id)
    text = rules_reference(rules)
    readme = README.read_text(encoding="utf-8")
    new_readme = readme_with_table(readme, rules_table(rules))
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        stale = [str(p) for p, old, new in ((TARGET, current, text), (README, readme, new_readme)) if old != new]
        if stale:
            print(f"{', '.join(stale)} out of date: run python scripts/rules-doc.py", file=sys.stderr)
            return 1
        return 0
    atomic_write(TARGET, text)
    atomic_write(README, new_readme)
    print(f"wrote {TARGET} and the table in {README} ({len(engine.rules)} rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
