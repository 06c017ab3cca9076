"""Acceptance (optional): the real course, checked in 3 shards and merged, gives the reports
of an unsharded run, byte for byte (all rule families, must-haves, the Markdown report).

Skipped when the corpus is absent (a fresh clone without ../shared).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS, REPO

from coursecheck import shard
from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.report import ReportOptions

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus ../shared/corpora/debezium-course-07 not present")

CONFIG = REPO / "tests" / "acceptance" / "debezium-course-07.toml"


def engine() -> Engine:
    config = load_config(CONFIG, REPO, strict=False)
    config.root = CORPUS.resolve()
    return Engine(config, RunOptions(entry_points=False))


def test_three_shards_merge_to_the_unsharded_reports(tmp_path: Path) -> None:
    whole_engine = engine()
    whole = whole_engine.run()
    artifacts = []
    for k in (1, 2, 3):
        path = tmp_path / f"{k}.ccshard"
        path.write_bytes(shard.dumps(engine().run_shard(k, 3)))
        artifacts.append(shard.load(path))
    assert sorted(len(a.files) for a in artifacts) == [9, 9, 10]  # 28 lessons
    merged = engine().merge(artifacts)
    reporters = whole_engine.reporters()
    options = ReportOptions(timestamp="2026-01-01T00:00:00Z")
    for fmt in ("sarif", "markdown", "json", "text"):
        made = reporters[fmt](merged, options)
        expected = reporters[fmt](whole, options)
        if fmt == "text":  # its last line says how long the run took
            made, expected = made.rsplit("(", 1)[0], expected.rsplit("(", 1)[0]
        assert made == expected, fmt
    assert "status: gaps_found" in reporters["markdown"](merged, options)
