"""Coverage-guided fuzzing of the document model for position errors (#19), with atheris.

The property is the one of ``tests/test_positions_fuzz.py`` (every range the model reports
slices back to the text it names; every segment character is that character of the
source), checked on inputs libFuzzer mutates towards new coverage of
``coursecheck/parse/``. Not part of the test suite and atheris is no dependency of the
package: ``pip install atheris`` in a development environment, then::

    python scripts/fuzz_positions.py -max_total_time=300 -max_len=400 CORPUS_DIR
    python scripts/fuzz_positions.py CRASH_FILE          # replay one input

An input that breaks the property is written by libFuzzer as ``crash-*``; minimize it
(``-minimize_crash=1 -runs=10000 crash-...``) and keep it in ``FOUND`` of
``tests/test_positions_fuzz.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

with atheris.instrument_imports(include=["coursecheck.parse", "coursecheck.text", "coursecheck.model"]):
    from test_positions_fuzz import check_ranges


def one_input(data: bytes) -> None:
    if not data:
        return
    mdx = bool(data[0] & 1)
    text = data[1:].decode("utf-8", errors="replace").replace("\x00", "")
    check_ranges(text, mdx)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
