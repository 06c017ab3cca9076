"""Acceptance (optional): term coverage and the terminology/bilingual rules on the real course.

The three module-3 metrics are counted by occurrence in every scope of the 7 lessons of
03-module-3; an independent measurement (a plain substring count of the files) agrees.
Skipped when the corpus is absent (a fresh clone without ../shared).
"""

from __future__ import annotations

import pytest
from conftest import CORPUS, REPO

from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus ../shared/corpora/debezium-course-07 not present")

CONFIG = REPO / "tests" / "acceptance" / "debezium-course-07.toml"
MODULE_3 = "src/content/course/03-module-3"


@pytest.fixture(scope="module")
def result():
    config = load_config(CONFIG, REPO)
    config.root = CORPUS.resolve()
    return Engine(config, RunOptions(select=["terminology", "bilingual"], entry_points=False)).run()


@pytest.mark.parametrize(
    ("term", "occurrences", "lessons"),
    [("MilliSecondsBehindSource", 38, 4), ("QueueRemainingCapacity", 19, 5), ("MilliSecondsSinceLastEvent", 14, 4)],
)
def test_metric_coverage_in_module_3(result, term, occurrences, lessons):
    measured = next(m for m in result.extra["term-coverage"] if m["term"] == term)
    assert (measured["occurrences"], measured["lessons"], measured["checked"]) == (occurrences, lessons, 7)
    # Independent check: the names occur as plain substrings, once per occurrence.
    by_grep = {
        f"{MODULE_3}/{p.name}": p.read_text("utf-8").count(term) for p in sorted((CORPUS / MODULE_3).glob("*.mdx"))
    }
    assert measured["per_file"] == {k: v for k, v in by_grep.items() if v}
    assert not any(f.rule_id == "terminology/coverage" for f in result.active)


def test_corpus_findings_point_inside_lessons(result):
    lessons = {d.relpath for d in result.course.lessons}
    for finding in result.active:
        assert finding.path in lessons, finding
        assert 1 <= finding.span.line <= result.course.document(finding.path).line_count
