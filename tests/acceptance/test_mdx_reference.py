"""Acceptance (optional): the differential harness (``scripts/mdx_harness.py``) agrees with the
MDX compiler's own parsers on the generated tricky cases, the broken-MDX set and the course
in ../shared/corpora (#19).

Skipped when Node.js or npm is missing, when ../shared is absent, or when the reference's npm
packages cannot be installed (no registry): it is a check of the model against remark, not a
unit test. The first run installs the pinned packages into the harness's folder
(``$COURSECHECK_MDX_REFERENCE`` or ``~/.cache/coursecheck/mdx-reference``).
"""

from __future__ import annotations

import shutil
import sys

import pytest
from conftest import CORPUS, REPO, SHARED

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None, reason="Node.js and npm not found"),
    pytest.mark.skipif(not (SHARED / "corpora").is_dir(), reason="../shared/corpora not present"),
]

sys.path.insert(0, str(REPO / "scripts"))


@pytest.fixture(scope="module")
def reference():
    import mdx_harness

    try:
        return mdx_harness.ensure_reference(quiet=True)
    except RuntimeError as exc:
        pytest.skip(f"the reference parsers are not installed: {exc}")


def test_tricky_cases_agree_with_remark(reference, tmp_path):
    import mdx_harness

    root = mdx_harness.write_tricky(tmp_path / "tricky")
    tally = mdx_harness.compare(mdx_harness.collect(root, sorted(mdx_harness.TRICKY), reference))
    for kind in mdx_harness.KINDS:
        assert tally.matched[kind] == tally.union[kind], (kind, tally.differences.get(kind))
    assert tally.false_syntax == [] and tally.missed_syntax == []
    assert tally.reference_rejects == 1  # comments.mdx: an HTML comment, which MDX rejects


def test_broken_mdx_set_agrees_with_compile(reference):
    import broken_mdx

    rows = broken_mdx.compare_broken(reference)
    assert [row["file"] for row in rows if not row["agree"]] == []
    assert sum(1 for row in rows if not row["compiles"]) >= 12


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus ../shared/corpora/debezium-course-07 not present")
def test_the_course_agrees_with_remark(reference):
    import mdx_harness

    # The lessons (what the course's config checks), read in place: no copy, no init run.
    lessons = sorted(p.relative_to(CORPUS).as_posix() for p in (CORPUS / "src" / "content" / "course").rglob("*.mdx"))
    tally = mdx_harness.compare(mdx_harness.collect(CORPUS, lessons, reference))
    assert tally.files == 28
    for kind in mdx_harness.KINDS:
        if tally.union[kind]:
            assert tally.matched[kind] / tally.union[kind] >= 0.999, (kind, tally.differences.get(kind))
    assert tally.false_syntax == [] and tally.missed_syntax == []
    assert tally.reference_rejects == 3  # "<1ms" in prose: see test_corpus_core
