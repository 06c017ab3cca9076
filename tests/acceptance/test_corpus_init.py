"""Acceptance (optional): `coursecheck init` on the real course, tried as a new user would.

The starter config must run without edits and find the broken prerequisite the hand-written
verification report missed: `module-2/03-incremental-snapshots` in
`03-module-3/01-jmx-metrics-interpretation.mdx`, line 8. Skipped when the corpus is absent.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import CORPUS

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus ../shared/corpora/debezium-course-07 not present")

LESSON = "src/content/course/03-module-3/01-jmx-metrics-interpretation.mdx"
EXPECTED = (
    f"{LESSON}:8:17: error graph/unresolved-reference prerequisite 'module-2/03-incremental-snapshots' "
    "names no lesson of the course; did you mean 'module-2/07-incremental-snapshot-lab'"
)


def test_starter_config_beside_the_read_only_corpus(tmp_path, cli):
    """The corpus is read-only: the config goes elsewhere (--stdout), then --config and --root."""
    code, config_text, err = cli(tmp_path, "init", "--stdout", str(CORPUS))
    assert code == 0, err
    config = tmp_path / "starter.toml"
    config.write_text(config_text, encoding="utf-8")
    code, out, err = cli(tmp_path, "--config", str(config), "--root", str(CORPUS))
    assert "configuration error" not in err, err
    assert code == 1  # the broken prerequisite is an error
    assert EXPECTED in out
    # The 28 lessons: the lab's Grafana dashboards and Prometheus/Compose files are not the
    # course's data (no glossary, quiz or lesson references in them), so init leaves them out.
    assert "Checked 28 files" in out


def test_init_in_a_copy_of_the_corpus_then_plain_coursecheck(tmp_path, cli):
    """What a new user types in their own repository: `coursecheck init`, then `coursecheck`."""
    root = tmp_path / "course"
    shutil.copytree(CORPUS, root)
    code, _out, err = cli(root, "init")
    assert code == 0, err
    assert "wrote" in err and "28 lessons" in err
    code, out, err = cli(root)
    assert "configuration error" not in err, err
    assert code == 1
    assert EXPECTED in out
    # The same finding through the GitHub annotation format, as CI would print it.
    code, out, _err = cli(root, "--format", "github")
    assert (
        f"::error file={LESSON},line=8,col=17,endColumn=52,title=graph/unresolved-reference::"
        "prerequisite 'module-2/03-incremental-snapshots' names no lesson" in out
    )
