"""Warm runs take each file's finished findings and the reporters' text for them from the
last run (coursecheck.findingstore): the outputs must be byte for byte what a run without
any stored state prints, in every format, and a damaged or forged store is only a miss."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, write_files
from report_course import GOLDEN, SELECT, TIMESTAMP, build_course

from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions

FORMATS = [
    ("text",),
    ("text", "-v"),
    ("text", "--show-suppressed"),
    ("json",),
    ("sarif",),
    ("github",),
    ("markdown",),
]


def _normal(text: str) -> str:
    """The run's duration (text and github summaries) is the one thing that may differ."""
    return re.sub(r"\(\d+\.\d\ds\)\.$", "(D.DDs).", text, flags=re.M)


def _run(cli, root: Path, fmt: tuple[str, ...], *extra: str) -> str:
    code, out, _err = cli(root, "--format", *fmt, "--timestamp", TIMESTAMP, "--select", SELECT, *extra)
    assert code in (0, 1)
    return _normal(out)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: " ".join(f))
def test_warm_runs_print_what_a_run_without_stored_state_prints(cli, tmp_path, fmt):
    root = build_course(tmp_path)
    expected = _run(cli, root, fmt, "--no-cache")
    cold = _run(cli, root, fmt)
    warm = _run(cli, root, fmt)
    again = _run(cli, root, fmt)
    assert cold == expected
    assert warm == expected
    assert again == expected
    assert (root / ".coursecheck-cache" / "v1-finished").is_dir()


def test_warm_runs_match_the_golden_sarif(cli, tmp_path):
    root = build_course(tmp_path)
    for _ in range(3):
        sarif = _run(cli, root, ("sarif",)).replace(root.as_uri() + "/", "file:///COURSE/")
        assert sarif == (GOLDEN / "small-course.sarif").read_text(encoding="utf-8")


def test_formats_in_turn_share_one_cache(cli, tmp_path):
    """Each format's text is stored apart: a run in one format never serves another's."""
    root = build_course(tmp_path)
    expected = {fmt: _run(cli, root, fmt, "--no-cache") for fmt in FORMATS}
    for _ in range(2):
        for fmt in FORMATS:
            assert _run(cli, root, fmt) == expected[fmt]


def _engine(root: Path) -> Engine:
    config = load_config(root / ".coursecheck.toml", root)
    return Engine(config, RunOptions(cache=True, select=SELECT.split(",")))


def test_a_warm_run_replays_finishing_and_serves_every_group(tmp_path):
    root = build_course(tmp_path)
    first = _engine(root).run()
    assert first.blocks is not None
    first.blocks.cached("json", first.findings, lambda group: str(len(group)))
    engine = _engine(root)
    second = engine.run()
    assert [f.as_dict() for f in second.findings] == [f.as_dict() for f in first.findings]
    assert engine.replayed > 0
    values = second.blocks.cached("json", second.findings, lambda group: "rendered")
    assert "rendered" not in values
    assert second.blocks.served == len(values) > 0


def test_an_edited_file_is_finished_and_rendered_again(tmp_path):
    root = build_course(tmp_path)
    first = _engine(root).run()
    first.blocks.cached("text", first.findings, lambda group: group[0].path)
    lesson = next(p for p in sorted((root / "content").rglob("*.md")) if "ЗАГЛУШКА" in p.read_text(encoding="utf-8"))
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("ЗАГЛУШКА", "ЗАГЛУШКА ЗАГЛУШКА", 1), "utf-8")
    rel = lesson.relative_to(root).as_posix()
    second = _engine(root).run()
    rendered: list[str] = []

    def render(group):
        rendered.append(group[0].path)
        return group[0].path

    second.blocks.cached("text", second.findings, render)
    assert rel in rendered  # its findings changed: made again
    assert len(rendered) < len({f.path for f in second.findings})  # the others were served


def test_a_paragraph_inserted_keeps_the_other_files_groups(tmp_path):
    # Every line of the edited lesson moves: the course stage runs (or moves its stored
    # findings), so its key changes; the other files' course findings are the same, and
    # their groups (keyed by a digest of them) are replayed and served, not made again.
    lessons = {
        f"content/0{i}-lesson.md": f"---\ntitle: Урок {i}\n---\n\n# Урок {i}\n\nСм. [урок](missing-{i}.md).\n"
        for i in range(1, 5)
    }
    write_files(tmp_path, {**lessons, ".coursecheck.toml": DEFAULT_CONFIG})
    options = {"select": ["graph"], "entry_points": False}
    config = load_config(tmp_path / ".coursecheck.toml", tmp_path)
    first = Engine(config, RunOptions(cache=True, **options)).run()
    assert len({f.path for f in first.findings if f.rule_id == "graph/unresolved-reference"}) == 4
    first.blocks.cached("text", first.findings, lambda group: group[0].path)
    edited = tmp_path / "content/01-lesson.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("---\n\n", "---\n\nНовый абзац.\n\n", 1), "utf-8")
    engine = Engine(load_config(tmp_path / ".coursecheck.toml", tmp_path), RunOptions(cache=True, **options))
    second = engine.run()
    rendered: list[str] = []

    def render(group):
        rendered.append(group[0].path)
        return group[0].path

    second.blocks.cached("text", second.findings, render)
    uncached = Engine(load_config(tmp_path / ".coursecheck.toml", tmp_path), RunOptions(cache=False, **options)).run()
    assert [f.as_dict() for f in second.findings] == [f.as_dict() for f in uncached.findings]
    moved = [f for f in second.findings if f.path == "content/01-lesson.md"]
    assert [(f.rule_id, f.span.line) for f in moved] == [("graph/unresolved-reference", 9)]
    assert rendered == ["content/01-lesson.md"]  # the three others were served
    assert engine.replayed == 3


def test_findings_changed_after_the_run_are_rendered_again(tmp_path):
    root = build_course(tmp_path)
    first = _engine(root).run()
    first.blocks.cached("text", first.findings, lambda group: "stored")
    second = _engine(root).run()
    second.findings[0:1] = [type(second.findings[0])(**{**_fields(second.findings[0]), "message": "changed"})]
    values = second.blocks.cached("text", second.findings, lambda group: group[0].message)
    assert values[0] == "changed"  # not the same object as the engine finished: rendered
    assert values[1:] and all(v == "stored" for v in values[1:])


def _fields(finding) -> dict:
    return {name: getattr(finding, name) for name in finding.__dataclass_fields__}


def test_a_baseline_drops_the_stored_text(cli, tmp_path):
    root = build_course(tmp_path)
    _run(cli, root, ("json",))
    _run(cli, root, ("json",))
    cli(root, "--select", SELECT, "--write-baseline", str(tmp_path / "baseline.json"))
    expected = _run(cli, root, ("json",), "--no-cache", "--baseline", str(tmp_path / "baseline.json"))
    assert _run(cli, root, ("json",), "--baseline", str(tmp_path / "baseline.json")) == expected
    assert '"kind": "baseline"' in expected


@pytest.mark.parametrize("damage", ["flip", "truncate", "forge"])
def test_a_damaged_or_forged_store_is_a_miss(cli, tmp_path, damage):
    root = build_course(tmp_path)
    expected = _run(cli, root, ("json",), "--no-cache")
    _run(cli, root, ("json",))
    stores = list((root / ".coursecheck-cache" / "v1-finished").iterdir())
    assert stores
    for store in stores:
        data = store.read_bytes()
        if damage == "flip":
            data = data[:-40] + bytes([data[-40] ^ 1]) + data[-39:]
        elif damage == "truncate":
            data = data[: len(data) // 2]
        else:  # a store a repository committed: its own pickle, without the user's key
            import pickle

            data = b"coursecheck-finished\0" + pickle.dumps((1, "x", "json", {})) + b"\0" * 32
        store.write_bytes(data)
    assert _run(cli, root, ("json",)) == expected
    assert _run(cli, root, ("json",)) == expected


def test_a_run_over_some_files_keeps_the_other_files_groups(tmp_path):
    # A pre-commit run (the PATHS given) finishes and renders one file: the stores keep the
    # others' groups, so the next run over the whole course replays and serves them all.
    lessons = {
        f"content/0{i}-lesson.md": f"---\ntitle: Урок {i}\n---\n\n# Урок {i}\n\nСм. [урок](missing-{i}.md).\n"
        for i in range(1, 5)
    }
    write_files(tmp_path, {**lessons, ".coursecheck.toml": DEFAULT_CONFIG})
    options = {"select": ["graph"], "entry_points": False}

    def run(**more):
        engine = Engine(load_config(tmp_path / ".coursecheck.toml", tmp_path), RunOptions(cache=True, **options, **more))
        result = engine.run()
        rendered: list[str] = []

        def render(group):
            rendered.append(group[0].path)
            return group[0].path

        result.blocks.cached("text", [f for f in result.findings], render)
        return engine, result, rendered

    run()
    edited = tmp_path / "content/01-lesson.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nЕщё строка.\n", "utf-8")
    engine, result, rendered = run(paths=[edited])
    assert {f.path for f in result.findings} == {"content/01-lesson.md"}
    engine, result, rendered = run()
    assert engine.replayed == 4 and rendered == []  # every group replayed and served
    uncached = Engine(load_config(tmp_path / ".coursecheck.toml", tmp_path), RunOptions(cache=False, **options)).run()
    assert [f.as_dict() for f in result.findings] == [f.as_dict() for f in uncached.findings]
