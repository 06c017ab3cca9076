"""Write docs/rules.md from the rules' own documentation: the page SARIF ``helpUri`` links to.

python scripts/rules-doc.py            # built-in rules (installed plugins are not loaded)
python scripts/rules-doc.py --check    # exit 1 if docs/rules.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from coursecheck.config import Config
from coursecheck.engine import Engine, RunOptions
from coursecheck.fsutil import atomic_write
from coursecheck.report.sarif import rules_reference

TARGET = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def main(argv: list[str]) -> int:
    engine = Engine(Config(None, TARGET.parent.parent), RunOptions(entry_points=False))
    text = rules_reference(sorted(engine.rules.values(), key=lambda r: r.id))
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python scripts/rules-doc.py", file=sys.stderr)
            return 1
        return 0
    atomic_write(TARGET, text)
    print(f"wrote {TARGET} ({len(engine.rules)} rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
