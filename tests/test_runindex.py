"""The run index: a warm re-run takes unchanged files' keys and results from it without
reading them; any change to a file, the config or the index itself falls back to reading."""

from __future__ import annotations

import os
import pickle
import shutil
import time
from pathlib import Path

import pytest
from test_cache import COURSE_RULES, MUSTHAVE_CONFIG, MUSTHAVE_FILES, dump, run

from coursecheck import runindex
from coursecheck.engine import perfile  # the per-file stage hashes files with perfile._raw_bytes
from coursecheck.records import PACKED
from coursecheck.results import FileResult
from coursecheck.runindex import RunIndex


@pytest.fixture
def trusting(monkeypatch):
    """Files written by the test a moment ago are trusted (no racy-timestamp margin)."""
    monkeypatch.setattr(runindex, "RACY_NS", -(10**15))


@pytest.fixture
def reads(monkeypatch):
    """The files each run reads to hash them (relative paths)."""
    seen: list[str] = []
    original = perfile._raw_bytes

    def counting(root: str, path: str):
        seen.append(path)
        return original(root, path)

    monkeypatch.setattr(perfile, "_raw_bytes", counting)
    return seen


def _rel(root: Path, paths: list[str]) -> list[str]:
    return sorted(Path(p).relative_to(root).as_posix() for p in paths)


def test_a_warm_run_reads_no_unchanged_file(course, tmp_path, trusting, reads):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    cold, _ = run(root, cache_dir)
    assert _rel(root, reads) == ["content/01-module-1/01-intro.md", "content/01-module-1/03-next.md"]
    reads.clear()
    warm, engine = run(root, cache_dir)
    assert reads == [] and engine.cache_hits == 2
    assert dump(warm) == dump(cold) == dump(run(root, None)[0])
    # The head, one results segment and one parts segment, no temporary file beside them.
    index = RunIndex(cache_dir, root, engine._base_key, 0)
    names = sorted(p.name for p in index.path.parent.iterdir())
    assert len(names) == 3 and names[0] == index.path.name
    assert sorted(name.rpartition(".")[2] for name in names[1:]) == ["parts", "results"]
    assert all(runindex._SEGMENT_NAME.fullmatch(name) for name in names[1:])
    # An edit: only that file is read; the new head keeps the other results where they are.
    lesson = root / "content/01-module-1/03-next.md"
    lesson.write_text(lesson.read_text("utf-8") + "\n## Ещё\n", "utf-8")
    reads.clear()
    edited, _ = run(root, cache_dir)
    assert _rel(root, reads) == ["content/01-module-1/03-next.md"]
    reads.clear()
    again, _ = run(root, cache_dir)
    assert reads == [] and dump(again) == dump(edited) == dump(run(root, None)[0])


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(course, tmp_path, trusting, reads):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir, select=COURSE_RULES)
    lesson = root / "content/01-module-1/03-next.md"
    before = os.stat(lesson)
    # Same length, same modification time (as `cp -p` or `rsync -t` leave it): the change
    # time differs, so the file is read again.
    lesson.write_bytes(lesson.read_bytes().replace(b"02-setup", b"02-setux"))
    os.utime(lesson, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(lesson).st_size == before.st_size
    reads.clear()
    edited, _ = run(root, cache_dir, select=COURSE_RULES)
    assert _rel(root, reads) == ["content/01-module-1/03-next.md"]
    assert dump(edited) == dump(run(root, None, select=COURSE_RULES)[0])
    assert any("02-setux" in f.message for f in edited.findings)


def test_records_from_the_index_restore_their_parts_when_the_course_stage_runs(course, tmp_path, trusting):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir, select=COURSE_RULES)
    # A heading added to the intro changes what course rules see: they run again, on the
    # next lesson's record served from the index (its links restored from its cache entry).
    intro = root / "content/01-module-1/01-intro.md"
    intro.write_text(intro.read_text("utf-8") + "\n## Ещё раздел\n", "utf-8")
    after, engine = run(root, cache_dir, select=COURSE_RULES)
    assert engine.course.cache.get("coursecheck.graph") is not None  # the course stage ran
    expected = dump(run(root, None, select=COURSE_RULES)[0])
    assert dump(after) == expected
    assert ("graph/unresolved-reference", "content/01-module-1/03-next.md", 3, 17) in [
        (f["rule"], f["path"], f["line"], f["column"]) for f in expected
    ]
    # The per-file entries are gone (cleaned by hand) but the index is not: it holds the
    # records' parts too, and the findings are the same.
    shutil.rmtree(cache_dir / "v1")
    intro.write_text(intro.read_text("utf-8") + "\n## И ещё\n", "utf-8")
    again, _ = run(root, cache_dir, select=COURSE_RULES)
    assert dump(again) == dump(run(root, None, select=COURSE_RULES)[0])


def test_a_damaged_or_foreign_index_is_ignored(course, tmp_path, trusting, reads):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    cold, engine = run(root, cache_dir)
    index = RunIndex(cache_dir, root, engine._base_key, 0)
    assert index.old.keys() == {"content/01-module-1/01-intro.md", "content/01-module-1/03-next.md"}
    index.path.write_bytes(index.path.read_bytes()[:40])
    reads.clear()
    damaged, _ = run(root, cache_dir)
    assert len(reads) == 2 and dump(damaged) == dump(cold)
    # Rewritten by that run: the next one reads nothing...
    reads.clear()
    run(root, cache_dir)
    assert reads == []
    # ... nor after a config edit no per-file result depends on (a course rule's level)...
    config = root / ".coursecheck.toml"
    config.write_text(config.read_text("utf-8") + '\n[rules."graph/orphan-lesson"]\nlevel = "off"\n', "utf-8")
    reads.clear()
    changed, _ = run(root, cache_dir)
    assert reads == [] and not any(f.rule_id == "graph/orphan-lesson" for f in changed.findings)
    # ... until the config changes what the per-file stage does (another base key).
    config.write_text(config.read_text("utf-8") + '\n[rules."anti-patterns/todo"]\nlevel = "error"\n', "utf-8")
    reads.clear()
    run(root, cache_dir)
    assert len(reads) == 2


def test_a_file_written_just_before_a_run_is_read_again_next_time(course, tmp_path, reads):
    # No `trusting`: the lessons were written moments ago, within the racy-timestamp margin,
    # so the index does not vouch for them (they may change again within the same tick).
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir)
    reads.clear()
    run(root, cache_dir)
    assert len(reads) == 2


def test_only_signatures_older_than_the_margin_are_entered(tmp_path):
    index = RunIndex(tmp_path, tmp_path, "base", started_ns=10 * runindex.RACY_NS)
    old = runindex.RACY_NS
    index.record("a.md", "lesson", (10, old, old, 1), "key-a", None)
    index.record("b.md", "lesson", (10, old, 9 * runindex.RACY_NS + 1, 2), "key-b", None)  # changed lately
    index.record("c.md", "lesson", None, "key-c", None)  # not a regular file
    assert list(index.new) == ["a.md"]
    index.save()
    again = RunIndex(tmp_path, tmp_path, "base", started_ns=0)
    key, stored = again.lookup("a.md", "lesson", (10, old, old, 1))
    assert key == "key-a" and runindex.restore(stored) is None and bytes(stored) == pickle.dumps(None, protocol=5)
    assert again.lookup("a.md", "other", (10, old, old, 1)) is None
    assert again.lookup("a.md", "lesson", (11, old, old, 1)) is None
    assert RunIndex(tmp_path, tmp_path, "another base", started_ns=0).old == {}


def test_a_shared_cache_folder_keeps_the_newest_indexes(tmp_path, trusting):
    folder = tmp_path / "cache"
    written = []
    for n in range(runindex.INDEXES_KEPT + 3):
        index = RunIndex(folder, tmp_path / f"checkout-{n}", "base", started_ns=10**18)
        index.record("a.md", "lesson", (1, 1, 1, 1), "key", None)
        index.save()
        os.utime(index.path, ns=(n * 10**9, n * 10**9))  # written in this order
        written.append(index.path.name)
    names = sorted(p.name for p in index.path.parent.iterdir())
    kept = [name for name in names if "." not in name]
    assert kept == sorted(written[-runindex.INDEXES_KEPT :])
    # Each kept head has its results segment (no parts: a result without a record), and only those.
    assert sorted(name.partition(".")[0] for name in names if name.endswith(".results")) == kept
    assert not [name for name in names if name.endswith(".parts")]


@pytest.mark.slow
def test_random_edits_to_the_demo_course_give_what_an_uncached_run_gives(tmp_path, trusting):
    """Edits of every kind (lines inserted, deleted or changed, sentences appended, a file
    touched without a change, paragraphs inserted), each followed by a cached run (run
    index, stored course stage keyed on views, findings of relocatable rules moved with
    their lines) and an uncached one: the same findings, fingerprints included."""
    import random

    from conftest import REPO

    root = tmp_path / "repo"
    shutil.copytree(REPO / "examples", root / "examples")
    shutil.copy(REPO / ".coursecheck.toml", root / ".coursecheck.toml")
    cache_dir = tmp_path / "cache"
    lessons = sorted(p for p in (root / "examples/course/content").rglob("*") if p.suffix in (".md", ".mdx"))
    rng = random.Random(8)
    run(root, cache_dir)
    reused = moved = 0
    for step in range(24):
        lesson = rng.choice(lessons)
        lines = lesson.read_text("utf-8").split("\n")
        at = rng.randrange(len(lines))
        kind = step % 6
        if kind == 0:
            lines.insert(at, f"Вставленная строка {step}, см. [урок](../01-module-1/01-what-is-a-container).")
        elif kind == 1 and len(lines) > 1:
            del lines[at]
        elif kind == 2:
            lines[at] = lines[at].replace("е", "ё", 1) + " "
        elif kind == 3:
            lines.append(f"Ещё одно предложение {step}.")
        elif kind == 5:
            lines[at:at] = ["", f"Новый абзац {step}.", ""]
        lesson.write_text("\n".join(lines), "utf-8")
        if kind == 4:
            os.utime(lesson)  # touched, not changed
        cached, engine = run(root, cache_dir)
        reused += engine.course.cache.get("coursecheck.graph") is None and not engine.relocated  # no rule ran
        moved += engine.relocated > 0
        assert dump(cached) == dump(run(root, None)[0]), f"step {step}: {kind=} in {lesson.name}"
    # Some of those edits were invisible to the course rules (the stored stage was used),
    # some only moved lines (stored findings moved), others neither: all paths compared.
    assert 0 < reused and 0 < moved and reused + moved < 24


def _parts_file(cache_dir: Path) -> Path:
    (found,) = (cache_dir / runindex.FOLDER).glob("*.parts")
    return found


def test_a_warm_run_reads_no_record_part_and_an_edit_reads_only_what_course_rules_read(
    course, tmp_path, trusting, monkeypatch
):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir, select=COURSE_RULES)
    read: list[int] = []
    original = runindex._PartsFile.read

    def counting(self, offset: int, length: int):
        read.append(length)
        return original(self, offset, length)

    monkeypatch.setattr(runindex._PartsFile, "read", counting)
    warm, engine = run(root, cache_dir, select=COURSE_RULES)
    assert read == [] and engine.cache_hits == 2  # the course stage came from its store
    assert dump(warm) == dump(run(root, None, select=COURSE_RULES)[0])
    # The index holds no packed part itself: they are in the parts segment, by SHA-256.
    index = RunIndex(cache_dir, root, engine._base_key, 0)
    assert all(entry[5] is None or len(entry[5]) == 3 * runindex._PLACE.size for entry in index.old.values())
    assert any(entry[5] for entry in index.old.values())
    assert b"02-setup" not in index.path.read_bytes() and b"02-setup" in _parts_file(cache_dir).read_bytes()
    # A heading added to the intro: the course rules run again, on the next lesson's record
    # served from the index with its parts read from the parts segment.
    intro = root / "content/01-module-1/01-intro.md"
    intro.write_text(intro.read_text("utf-8") + "\n## Ещё раздел\n", "utf-8")
    after, engine = run(root, cache_dir, select=COURSE_RULES)
    assert engine.course.cache.get("coursecheck.graph") is not None and read
    assert dump(after) == dump(run(root, None, select=COURSE_RULES)[0])


@pytest.mark.parametrize("damage", ["flipped", "truncated", "removed"])
def test_a_damaged_parts_file_gives_the_uncached_findings(course, tmp_path, trusting, reads, damage):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir, select=COURSE_RULES)
    parts = _parts_file(cache_dir)
    data = parts.read_bytes()
    if damage == "flipped":  # each part fails its SHA-256: the records parse their files again
        parts.write_bytes(bytes(b ^ 0x55 for b in data))
    elif damage == "truncated":
        parts.write_bytes(data[: len(data) // 3])
    else:  # the files whose parts it held (both) are read
        parts.unlink()
    intro = root / "content/01-module-1/01-intro.md"
    intro.write_text(intro.read_text("utf-8") + "\n## Ещё раздел\n", "utf-8")
    reads.clear()
    after, engine = run(root, cache_dir, select=COURSE_RULES)
    assert dump(after) == dump(run(root, None, select=COURSE_RULES)[0])
    if damage == "removed":
        assert len(reads) == 2
    else:
        assert _rel(root, reads) == ["content/01-module-1/01-intro.md"]
        assert engine.reparsed >= 1 and any("run index" in line for line in engine.cache_report())


def test_deferred_summaries_are_restored_in_order_on_any_read():
    import copy
    import json

    from coursecheck.engine.summaries import DeferredSummaries
    from coursecheck.runindex import pack_summary

    def fresh() -> DeferredSummaries:
        return DeferredSummaries(
            [
                ("a.md", {"r": 1}),
                ("b.md", memoryview(pack_summary({"r": [2]}))),
                ("c.md", pack_summary({})),
                ("d.md", {"r": 3}),
            ]
        )

    expected = {"a.md": {"r": 1}, "b.md": {"r": [2]}, "d.md": {"r": 3}}  # an empty summary is left out
    reads = [
        dict, lambda d: {**d}, list, len, bool, lambda d: (d.restore(), json.loads(json.dumps(d)))[1], lambda d: d.get("b.md"),
        lambda d: d["b.md"], lambda d: "c.md" in d, lambda d: list(d.items()), lambda d: list(d.values()),
        lambda d: pickle.loads(pickle.dumps(d)), copy.deepcopy, lambda d: d == expected,
    ]
    answers = [
        expected, expected, ["a.md", "b.md", "d.md"], 3, True, expected, {"r": [2]}, {"r": [2]}, False,
        list(expected.items()), list(expected.values()), expected, expected, True,
    ]
    for read, answer in zip(reads, answers, strict=True):
        assert read(fresh()) == answer
    assert type(pickle.loads(pickle.dumps(fresh()))) is dict
    written = fresh()
    written["b.md"] = {"r": 9}
    written["e.md"] = {"r": 5}
    assert list(written.items()) == [("a.md", {"r": 1}), ("b.md", {"r": 9}), ("d.md", {"r": 3}), ("e.md", {"r": 5})]


def test_a_warm_run_restores_no_summary_unless_the_course_rules_run(course, tmp_path, trusting):
    from coursecheck.engine.summaries import DeferredSummaries

    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    cold, engine = run(root, cache_dir)
    expected = dict(engine.course.summaries)
    assert expected and type(engine.course.summaries) is dict
    warm, engine = run(root, cache_dir)
    assert isinstance(engine.course.summaries, DeferredSummaries) and engine.course.summaries._entries is not None
    assert dict(engine.course.summaries) == expected and dump(warm) == dump(cold)
    # A heading added: the course rules run again and read their own parts of the
    # summaries (the other lesson's restored from the index), not the rest.
    intro = root / "content/01-module-1/01-intro.md"
    intro.write_text(intro.read_text("utf-8") + "\n## Ещё раздел\n", "utf-8")
    after, engine = run(root, cache_dir)
    summaries = engine.course.summaries
    assert isinstance(summaries, DeferredSummaries) and summaries._entries is not None
    assert "graph/unresolved-anchor" in summaries._parts  # a heading added: the rule ran on its parts
    uncached, fresh = run(root, None)
    assert dump(after) == dump(uncached) and dict(engine.course.summaries) == fresh.course.summaries


def test_deferred_summaries_restore_one_rules_parts_alone():
    from coursecheck.engine.summaries import DeferredSummaries
    from coursecheck.runindex import pack_summary

    heavy = ["# Заголовок"] * 50
    summaries = DeferredSummaries(
        [
            ("a.md", pack_summary({"anchors": heavy, "terms": {"kafka": 2}})),
            ("b.md", {"terms": {"debezium": 1}}),  # made this run
            ("c.md", pack_summary({"anchors": []})),
        ]
    )
    assert summaries.part("terms") == {"a.md": {"kafka": 2}, "b.md": {"debezium": 1}}
    assert summaries.part("missing") == {}
    assert set(summaries._parts) == {"terms", "missing"} and summaries._entries is not None  # anchors still pickled
    assert summaries.parts_of("c.md", {"anchors"}) == {"anchors": []}
    assert summaries.parts_of("a.md", {"terms", "other"}) == {"terms": {"kafka": 2}}
    assert "anchors" not in summaries._parts
    terms = summaries.part("terms")["a.md"]
    # A full read afterwards: everything, in order, the parts restored once (same objects).
    assert dict(summaries) == {
        "a.md": {"anchors": heavy, "terms": {"kafka": 2}},
        "b.md": {"terms": {"debezium": 1}},
        "c.md": {"anchors": []},
    }
    assert summaries["a.md"]["terms"] is terms
    assert summaries.part("terms") == {"a.md": {"kafka": 2}, "b.md": {"debezium": 1}}  # a plain dict now


# -- rewriting after an edit: the head and the changed files' segments only ------------------


def _lessons(count: int) -> dict[str, str]:
    files = {}
    for n in range(count):
        target = f"{(n + 1) % count + 1:02d}-lesson"
        files[f"content/01-module-1/{n + 1:02d}-lesson.md"] = (
            f"# Урок {n + 1}\n\nТекст урока {n + 1}, см. [следующий](./{target}.md).\n\n"
            f"## Раздел {n + 1}\n\nЕщё немного текста про Kafka и Debezium.\n"
        )
    return files


LESSONS_CONFIG = """
[course]
content = ["content/**/*.md"]
id = "{path}"
"""


def _store(cache_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (cache_dir / runindex.FOLDER).iterdir()}


def test_an_edit_past_the_racy_margin_writes_only_that_files_result_and_parts(course, tmp_path, trusting, reads):
    # `trusting`: as if each run came seconds after the write (past the racy margin), so the
    # edited file is recorded and the index is rewritten.
    root = course(_lessons(12), config=LESSONS_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir)
    before = _store(cache_dir)
    head = RunIndex(cache_dir, root, run(root, cache_dir)[1]._base_key, 0)
    assert len(head.old) == 12 and len(before) == 3
    rel = "content/01-module-1/05-lesson.md"
    lesson = root / rel
    lesson.write_text(lesson.read_text("utf-8") + "\nНовое предложение.\n", "utf-8")
    reads.clear()
    edited, engine = run(root, cache_dir)
    assert _rel(root, reads) == [rel]
    after = _store(cache_dir)
    # The old segments are untouched (not copied); two new ones hold exactly the edited
    # file's result and parts; the head is the only file rewritten.
    old_segments = {name: data for name, data in before.items() if "." in name}
    assert all(after[name] == data for name, data in old_segments.items())
    new = sorted(name for name in after if name not in before)
    assert sorted(name.rpartition(".")[2] for name in new) == ["parts", "results"]
    index = RunIndex(cache_dir, root, engine._base_key, 0)
    entry = index.old[rel]
    results, parts = (next(n for n in new if n.endswith(kind)) for kind in (".results", ".parts"))
    assert entry[7] == results and len(after[results]) == entry[4]
    assert entry[8] == parts and len(after[parts]) == sum(size for _at, size, _sha in runindex._PLACE.iter_unpack(entry[5]))
    assert all(index.old[other][7] != results for other in index.old if other != rel)
    written = sum(len(after[name]) for name in new)
    assert written * 8 < sum(len(data) for data in old_segments.values())
    # The next run restores everything from the old segments and the new ones.
    reads.clear()
    again, engine = run(root, cache_dir)
    assert reads == [] and engine.cache_hits == 12
    assert dump(again) == dump(edited) == dump(run(root, None)[0])


def _result(rel: str, n: int) -> FileResult:
    blobs = [f"{rel} часть {i} правка {n} ".encode() * 40 for i in range(3)]
    return FileResult(rel, "lesson", {PACKED: blobs, "title": rel}, [], {"rule": [rel, n]}, [])


def _sig(n: int) -> tuple[int, int, int, int]:
    return (100 + n, 1, 1, n)


def _check_restores(index: RunIndex, expected: dict[str, int]) -> None:
    """Every file of ``expected`` (relpath -> its version) restores exactly from ``index``."""
    assert set(index.old) == set(expected)
    for rel, n in expected.items():
        key, small = index.lookup(rel, "lesson", _sig(n))
        assert key == f"key-{rel}-{n}"
        hit = runindex.restore(small)
        assert isinstance(hit, FileResult) and index.attach(rel, hit)
        assert [part.load() for part in hit.fields[PACKED]] == _result(rel, n).fields[PACKED]
        summary = pickle.loads(index.summary_bytes(rel))
        assert {name: pickle.loads(value) for name, value in summary.items()} == {"rule": [rel, n]}


def _save(folder: Path, root: Path, changed: dict[str, int], previous: dict[str, int]) -> RunIndex:
    """One run: the files of ``previous`` not in ``changed`` kept, those of ``changed`` recorded."""
    index = RunIndex(folder, root, "base", started_ns=time.time_ns())
    for rel, n in previous.items():
        if rel not in changed and index.lookup(rel, "lesson", _sig(n)) is not None:
            index.keep(rel)
    for rel, n in changed.items():
        index.record(rel, "lesson", _sig(n), f"key-{rel}-{n}", _result(rel, n))
    index.save()
    return index


def _segments(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / runindex.FOLDER).iterdir() if "." in p.name)


def test_garbage_past_the_threshold_is_compacted_into_the_new_segments(tmp_path):
    folder, root = tmp_path / "cache", tmp_path / "root"
    files = {f"{n:02d}.md": 0 for n in range(8)}
    _save(folder, root, files, {})
    first = _segments(folder)
    assert len(first) == 2
    # One file of eight changed: 1/8 of the results are garbage (under a quarter), kept.
    versions = {**files, "00.md": 1}
    saved = _save(folder, root, {"00.md": 1}, files)
    assert set(first) < set(_segments(folder)) and len(_segments(folder)) == 4
    assert saved.written < 2 * len(_result("00.md", 1).fields[PACKED][0]) * 3 + 4000
    _check_restores(RunIndex(folder, root, "base", 0), versions)
    # Two more: 3/8 of the results are garbage (over a quarter), not of the parts (under
    # half): the live results are copied into the new results segment, the old ones deleted.
    changed = {"01.md": 1, "02.md": 1}
    _save(folder, root, changed, versions)
    versions |= changed
    now = _segments(folder)
    assert [n for n in now if n.endswith(".results")] != [n for n in first if n.endswith(".results")]
    assert len([n for n in now if n.endswith(".results")]) == 1 and len(now) == 4
    _check_restores(RunIndex(folder, root, "base", 0), versions)
    # Three more: 6/11 of the parts segments' bytes are garbage (over half): the same for them.
    changed = {"03.md": 1, "04.md": 1, "05.md": 1}
    _save(folder, root, changed, versions)
    versions |= changed
    now = _segments(folder)
    assert len(now) == 2 and not set(now) & set(first)
    index = RunIndex(folder, root, "base", 0)
    assert {entry[7] for entry in index.old.values()} == {n for n in now if n.endswith(".results")}
    _check_restores(index, versions)


def test_a_head_names_at_most_max_segments_of_a_kind(tmp_path, monkeypatch):
    monkeypatch.setattr(runindex, "MAX_SEGMENTS", 3)
    monkeypatch.setattr(runindex, "RESULTS_GARBAGE", 1)  # no compaction for garbage
    monkeypatch.setattr(runindex, "PARTS_GARBAGE", 1)
    folder, root = tmp_path / "cache", tmp_path / "root"
    versions = {f"{n:02d}.md": 0 for n in range(10)}
    _save(folder, root, versions, {})
    base = _segments(folder)
    for step in range(1, 7):
        changed = {f"{step:02d}.md": step}
        _save(folder, root, changed, versions)
        versions |= changed
        index = RunIndex(folder, root, "base", 0)
        named = set(index._segments)
        assert len([n for n in named if n.endswith(".results")]) <= 3
        assert len([n for n in named if n.endswith(".parts")]) <= 3
        assert set(_segments(folder)) == named  # the others deleted
        assert set(base) <= named  # the largest segments are never copied
        _check_restores(index, versions)


def test_interleaved_saves_of_two_runs_on_one_root_stay_correct(tmp_path, monkeypatch):
    folder, root = tmp_path / "cache", tmp_path / "root"
    versions = {f"{n:02d}.md": 0 for n in range(6)}
    _save(folder, root, versions, {})
    # Two runs read the same index; each records another file; the last to save wins.
    first = RunIndex(folder, root, "base", started_ns=time.time_ns())
    second = RunIndex(folder, root, "base", started_ns=time.time_ns())
    for index, rel in ((first, "00.md"), (second, "01.md")):
        for other, n in versions.items():
            if other != rel:
                assert index.lookup(other, "lesson", _sig(n)) is not None
                index.keep(other)
        index.record(rel, "lesson", _sig(1), f"key-{rel}-1", _result(rel, 1))
    first.save()
    _check_restores(RunIndex(folder, root, "base", 0), versions | {"00.md": 1})
    second.save()
    _check_restores(RunIndex(folder, root, "base", 0), versions | {"01.md": 1})
    # A third run compacts and deletes the segments the fourth, started before, still
    # uses: the fourth copies them from what it read when it saves.
    third = RunIndex(folder, root, "base", started_ns=time.time_ns())
    fourth = RunIndex(folder, root, "base", started_ns=time.time_ns())
    versions["01.md"] = 1
    monkeypatch.setattr(runindex, "RESULTS_GARBAGE", 10**9)  # any garbage: compacted
    monkeypatch.setattr(runindex, "PARTS_GARBAGE", 10**9)
    for index, rel in ((third, "02.md"), (fourth, "03.md")):
        for other, n in versions.items():
            if other != rel and index.lookup(other, "lesson", _sig(n)) is not None:
                index.keep(other)
        index.record(rel, "lesson", _sig(2), f"key-{rel}-2", _result(rel, 2))
    third.save()
    assert not set(fourth._segments) & set(_segments(folder))  # all it read is gone
    _check_restores(RunIndex(folder, root, "base", 0), versions | {"02.md": 2})
    monkeypatch.setattr(runindex, "RESULTS_GARBAGE", 4)
    monkeypatch.setattr(runindex, "PARTS_GARBAGE", 2)
    fourth.save()
    index = RunIndex(folder, root, "base", 0)
    assert set(index._segments) == {fourth._new_results.name, fourth._new_parts.name}  # copied
    _check_restores(index, versions | {"03.md": 2})


def _edited_store(course, tmp_path) -> tuple[Path, Path, str, dict[str, str]]:
    """Six lessons, a cold run, then one lesson edited and run again past the racy margin:
    the head names a base results and parts segment (five lessons) and a delta one each (the
    edited lesson). Returns the root, the cache folder, the edited lesson and the files by role."""
    root = course(_lessons(6), config=LESSONS_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir)
    rel = "content/01-module-1/03-lesson.md"
    lesson = root / rel
    lesson.write_text(lesson.read_text("utf-8") + "\nНовое предложение.\n", "utf-8")
    _, engine = run(root, cache_dir)
    index = RunIndex(cache_dir, root, engine._base_key, 0)
    edited, other = index.old[rel], index.old["content/01-module-1/01-lesson.md"]
    assert edited[7] != other[7] and edited[8] != other[8]
    roles = {
        "head": index.path.name,
        "base results": other[7],
        "delta results": edited[7],
        "base parts": other[8],
        "delta parts": edited[8],
    }
    return root, cache_dir, rel, roles


@pytest.mark.parametrize("damage", ["flipped", "truncated", "removed", "link"])
@pytest.mark.parametrize("target", ["head", "base results", "delta results", "base parts", "delta parts"])
def test_a_damaged_head_or_segment_only_means_its_files_are_read_again(
    course, tmp_path, trusting, reads, target, damage
):
    root, cache_dir, edited, roles = _edited_store(course, tmp_path)
    path = cache_dir / runindex.FOLDER / roles[target]
    data = path.read_bytes()
    outside = tmp_path / "outside" / "copy"
    outside.parent.mkdir()
    outside.write_bytes(data)
    if damage == "flipped":
        path.write_bytes(bytes(b ^ 0x55 for b in data))
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "link":  # to an authentic copy: used only if the link were followed
        path.unlink()
        path.symlink_to(outside)
    else:
        path.unlink()
    uncached = dump(run(root, None)[0])
    if damage == "link":
        # A cache folder with a link in it is not used at all (coursecheck.cache.open_folder;
        # a link appearing after that check: test_a_linked_head_or_segment_is_never_followed).
        result, engine = run(root, cache_dir)
        assert engine._cache is None and dump(result) == uncached
        assert "contains a symbolic link" in engine.cache_report()[0]
        assert path.is_symlink() and outside.read_bytes() == data
        return
    lessons = sorted(rel for rel in _lessons(6))
    lazily_checked = target.endswith("parts") and damage != "removed"
    if target == "head":
        expected = lessons
    elif lazily_checked:  # a warm run reads no part: the damage is seen when a course rule reads one
        expected = []
    elif target.startswith("delta"):
        expected = [edited]
    else:
        expected = [rel for rel in lessons if rel != edited]
    reads.clear()
    warm, engine = run(root, cache_dir)
    assert _rel(root, reads) == expected
    assert dump(warm) == uncached
    rejected = any("run index" in line for line in engine.cache_report())
    assert rejected == (damage != "removed" and not lazily_checked)
    # A heading added: the course rules run and read the records' parts (a damaged part is
    # taken from its file, parsed again); the same findings as an uncached run.
    first = root / "content/01-module-1/01-lesson.md"
    first.write_text(first.read_text("utf-8") + "\n## Новый раздел\n", "utf-8")
    after, engine = run(root, cache_dir)
    assert dump(after) == dump(run(root, None)[0])
    if lazily_checked:
        assert engine.reparsed >= 1 and any("run index" in line for line in engine.cache_report())
        assert not path.exists()  # a segment found damaged is deleted...
    # ... so the files whose parts it held are read again once (not parsed again by every
    # run whose course rules read them); then the index is whole again and nothing is read.
    reads.clear()
    again, engine = run(root, cache_dir)
    assert dump(again) == dump(after) and bool(reads) == lazily_checked
    reads.clear()
    last, engine = run(root, cache_dir)
    assert reads == [] and engine.reparsed == 0 and dump(last) == dump(after)


@pytest.mark.parametrize("target", ["head", "results", "parts"])
def test_a_linked_head_or_segment_is_never_followed(tmp_path, target):
    # A link that appears after the run checked the cache folder (the engine does not use a
    # folder with a link in it): the index never reads through it, nor deletes it or its target.
    folder, root = tmp_path / "cache", tmp_path / "root"
    versions = {f"{n:02d}.md": 0 for n in range(4)}
    _save(folder, root, versions, {})
    index = RunIndex(folder, root, "base", 0)
    name = index.path.name if target == "head" else next(n for n in index._segments if n.endswith(target))
    path = folder / runindex.FOLDER / name
    outside = tmp_path / "outside"
    authentic = path.read_bytes()
    outside.write_bytes(authentic)  # usable only if the link were followed
    path.unlink()
    path.symlink_to(outside)
    linked = RunIndex(folder, root, "base", time.time_ns())
    assert linked.rejected == 1 and linked.old == {}
    for rel, n in versions.items():
        linked.record(rel, "lesson", _sig(n), f"key-{rel}-{n}", _result(rel, n))
    linked.save()
    assert outside.read_bytes() == authentic and not outside.is_symlink()
    assert path.is_symlink() == (target != "head")  # the head's link is replaced, not written through
    _check_restores(RunIndex(folder, root, "base", 0), versions)


def test_planted_segments_are_never_read_and_only_own_regular_files_are_deleted(course, tmp_path, trusting, reads):
    root, cache_dir, _edited, roles = _edited_store(course, tmp_path)
    folder = cache_dir / runindex.FOLDER
    digest = roles["head"]
    planted = {
        f"{digest}.{'a' * 16}.results": os.urandom(200),
        f"{digest}.{'b' * 16}.parts": os.urandom(200),
        f"{'c' * 64}.{'d' * 16}.results": os.urandom(200),  # another root's, with no head
    }
    for name, data in planted.items():
        (folder / name).write_bytes(data)
    # What a save killed an hour ago left (mkstemp's names), and one of a save under way.
    (folder / ".killed_1.tmp").write_bytes(b"half a segment")
    os.utime(folder / ".killed_1.tmp", ns=(0, time.time_ns() - 2 * runindex._STALE_TMP_NS))
    (folder / ".runnin_2.tmp").write_bytes(b"a concurrent save's")
    reads.clear()
    warm, engine = run(root, cache_dir)
    assert reads == [] and engine.cache_hits == 6 and engine.cache_report() == []
    assert dump(warm) == dump(run(root, None)[0])
    # The next save (an edit) deletes the planted files no head names.
    lesson = root / "content/01-module-1/02-lesson.md"
    lesson.write_text(lesson.read_text("utf-8") + "\nЕщё.\n", "utf-8")
    edited, _ = run(root, cache_dir)
    assert dump(edited) == dump(run(root, None)[0])
    assert not any((folder / name).exists() for name in planted)
    assert not (folder / ".killed_1.tmp").exists() and (folder / ".runnin_2.tmp").exists()


def test_a_compaction_over_a_truncated_parts_segment_drops_only_what_it_cannot_copy(tmp_path, monkeypatch):
    folder, root = tmp_path / "cache", tmp_path / "root"
    versions = {f"{n:02d}.md": 0 for n in range(6)}
    _save(folder, root, versions, {})
    (parts,) = (folder / runindex.FOLDER).glob("*.parts")
    data = parts.read_bytes()
    parts.write_bytes(data[: len(data) // 2])  # the later files' parts are gone
    monkeypatch.setattr(runindex, "PARTS_GARBAGE", 10**9)  # any garbage: compacted
    _save(folder, root, {"00.md": 1}, versions)
    index = RunIndex(folder, root, "base", 0)
    # The files whose parts could be copied are kept (with their parts in the new segment);
    # the others are left out (read again next time); the damaged segment is deleted.
    assert "00.md" in index.old and 1 < len(index.old) < 6 and not parts.exists()
    _check_restores(index, {rel: n for rel, n in (versions | {"00.md": 1}).items() if rel in index.old})
