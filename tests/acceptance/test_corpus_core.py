"""Acceptance (optional): the real course in ../shared/corpora parses completely.

Skipped when the corpus is absent (a fresh clone without ../shared).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import CORPUS, REPO

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus ../shared/corpora/debezium-course-07 not present")

CONFIG = REPO / "tests" / "acceptance" / "debezium-course-07.toml"


def mermaid_lines_by_grep(path: Path) -> list[int]:
    """An independent measurement: lines where a `<Mermaid` tag opens, outside code fences."""
    lines, fence = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if m and (fence is None or (m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence))):
            fence = None if fence else m.group(1)
            continue
        if fence is None:
            lines.extend(number for _ in re.finditer(r"<Mermaid\b", line))
    return lines


def test_corpus_parses_and_lists_every_mermaid_component(cli, tmp_path):
    code, _out, err = cli(
        REPO, "--config", str(CONFIG), "--root", str(CORPUS), "--format", "json", "-o", str(tmp_path / "r.json")
    )
    assert code in (0, 1), err
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    files = {f["path"]: f for f in data["files"]}
    lessons = [p for p, f in files.items() if f["role"] == "lesson"]
    assert len(lessons) == 28
    assert "labs/monitoring/grafana/dashboards/debezium-production.json" in files
    parse_findings = [
        (f["rule"], f["path"].rsplit("/", 1)[1], f["line"], f["column"])
        for f in data["findings"]
        if f["rule"].startswith(("parse/", "core/internal"))
    ]
    # "<1ms" in prose: @mdx-js/mdx's compile rejects these three lessons ("Unexpected
    # character `1` before name"), at the first of these places in each (#19).
    assert parse_findings == [
        ("parse/mdx-syntax", "01-smt-overview.mdx", 354, 16),
        ("parse/mdx-syntax", "01-smt-overview.mdx", 356, 19),
        ("parse/mdx-syntax", "01-smt-overview.mdx", 357, 30),
        ("parse/mdx-syntax", "01-smt-overview.mdx", 456, 64),
        ("parse/mdx-syntax", "02-predicates-filtering.mdx", 685, 24),
        ("parse/mdx-syntax", "05-outbox-pattern-theory.mdx", 261, 91),
    ]
    assert data["notifications"] == []
    module3 = sorted(p for p in lessons if "/03-module-3/" in p)
    counts = []
    for path in module3:
        lines = [c["line"] for c in files[path]["components"] if c["name"] == "Mermaid"]
        assert lines == mermaid_lines_by_grep(CORPUS / path), path
        counts.append(len(lines))
    assert counts == [4, 1, 3, 4, 3, 6, 3]
    assert sum(counts) == 24
    lines = {p.rsplit("/", 1)[1]: files[p]["lines"] for p in module3}
    assert list(lines.values()) == [427, 470, 450, 457, 534, 537, 588]
