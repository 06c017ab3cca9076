"""The per-file cache: hits, misses, invalidation (including course-wide findings in other
files), self-healing, concurrent runs, --no-cache and `coursecheck cache clean`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import where

from coursecheck import coursecache
from coursecheck.cache import COURSE_STAGES_KEPT, FileCache
from coursecheck.config import load_config
from coursecheck.engine import Engine, Result, RunOptions
from coursecheck.engine.rulecalls import RuleCalls

LESSON_A = """---
title: Введение
---

# Введение

Текст урока.
"""

LESSON_B = """---
title: Продолжение
prerequisites: ["module-1/02-setup"]
---

# Продолжение

Смотрите [настройку](/course/01-module-1/02-setup).
"""

FILES = {
    "content/01-module-1/01-intro.md": LESSON_A,
    "content/01-module-1/03-next.md": LESSON_B,
}


def run(root: Path, cache_dir: Path | None, **kwargs) -> tuple[Result, Engine]:
    config = load_config(root / ".coursecheck.toml", root)
    options = RunOptions(entry_points=False, cache=cache_dir is not None, cache_dir=cache_dir, **kwargs)
    engine = Engine(config, options)
    return engine.run(), engine


def dump(result: Result) -> list[dict]:
    return [f.as_dict() for f in result.findings]


def test_second_run_is_served_from_the_cache_with_identical_findings(course, tmp_path):
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    cold, engine = run(root, cache_dir)
    assert (engine.cache_hits, engine.cache_misses) == (0, 2)
    warm, engine = run(root, cache_dir)
    assert (engine.cache_hits, engine.cache_misses) == (2, 0)
    assert engine.reparsed == 0  # the graph rules read records only
    assert dump(warm) == dump(cold) == dump(run(root, None)[0])
    assert ("graph/unresolved-reference", "content/01-module-1/03-next.md", 3, 17) in where(warm.findings)


def test_select_and_ignore_after_a_plain_run_are_served_from_its_cache(course, tmp_path):
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir)
    for options in ({"select": ["graph"]}, {"ignore": ["anti-patterns"]}, {"select": ["parse", "core"]}):
        narrowed, engine = run(root, cache_dir, **options)
        assert (engine.cache_hits, engine.cache_misses) == (2, 0), options
        assert dump(narrowed) == dump(run(root, None, **options)[0]), options
    # The narrowed runs left the plain run's entries alone: it is still warm.
    _, engine = run(root, cache_dir)
    assert (engine.cache_hits, engine.cache_misses) == (2, 0)


def test_a_config_edit_to_a_course_rule_keeps_every_files_stored_result(course, tmp_path):
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir)
    config = root / ".coursecheck.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[rules]\n"graph/unresolved-reference" = "warning"\n'
        '"graph/orphan-lesson" = "off"\n',
        encoding="utf-8",
    )
    edited, engine = run(root, cache_dir)
    assert (engine.cache_hits, engine.cache_misses) == (2, 0)
    assert dump(edited) == dump(run(root, None)[0])
    assert {f.level for f in edited.findings if f.rule_id == "graph/unresolved-reference"} == {"warning"}
    # A per-file rule's setting does change the per-file results.
    config.write_text(config.read_text(encoding="utf-8") + '"anti-patterns/todo" = "error"\n', encoding="utf-8")
    _, engine = run(root, cache_dir)
    assert (engine.cache_hits, engine.cache_misses) == (0, 2)


def test_an_edit_in_one_lesson_changes_course_findings_in_another(course, tmp_path):
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    before, _ = run(root, cache_dir)
    unresolved = [f for f in where(before.findings, "graph/unresolved-reference")]
    assert unresolved == [
        ("graph/unresolved-reference", "content/01-module-1/03-next.md", 3, 17),
        ("graph/unresolved-reference", "content/01-module-1/03-next.md", 8, 22),
    ]
    # Lesson A is renamed to what B asks for: B is unchanged (served from the cache), but
    # its course-wide findings go away.
    (root / "content/01-module-1/01-intro.md").rename(root / "content/01-module-1/02-setup.md")
    after, engine = run(root, cache_dir)
    assert engine.cache_hits == 1 and engine.cache_misses == 1
    assert where(after.findings, "graph/unresolved-reference") == []
    # ... and come back when it is renamed again.
    (root / "content/01-module-1/02-setup.md").rename(root / "content/01-module-1/01-intro.md")
    again, engine = run(root, cache_dir)
    assert engine.cache_hits == 2
    assert where(again.findings, "graph/unresolved-reference") == unresolved


def test_an_edit_invalidates_that_file_only(course, tmp_path):
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir)
    path = root / "content/01-module-1/01-intro.md"
    path.write_text(LESSON_A.replace("# Введение", "# Введение\n# Второй заголовок"), encoding="utf-8")
    result, engine = run(root, cache_dir)
    assert (engine.cache_hits, engine.cache_misses) == (1, 1)
    assert dump(result) == dump(run(root, None)[0])


def test_a_config_change_invalidates_every_file(course, tmp_path):
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    first, _ = run(root, cache_dir)
    assert where(first.findings, "core/heading-increment") == []
    config = root / ".coursecheck.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[rules]\n"graph" = "off"\n', encoding="utf-8")
    second, engine = run(root, cache_dir)
    assert engine.cache_hits == 0
    assert where(second.findings, "graph/unresolved-reference") == []


def test_a_data_file_change_invalidates_lessons(course, tmp_path):
    # Document rules may read the course's data files (the glossary): they are in every key.
    root = course({**FILES, "data/quiz.json": '{"lesson": "module-1/01-intro"}'})
    cache_dir = tmp_path / "cache"
    run(root, cache_dir)
    (root / "data/quiz.json").write_text('{"lesson": "module-1/09-nothing"}', encoding="utf-8")
    result, engine = run(root, cache_dir)
    assert engine.cache_hits == 0
    assert where(result.findings, "graph/missing-data-reference") == [
        ("graph/missing-data-reference", "data/quiz.json", 1, 12)
    ]


def test_a_corrupted_entry_is_ignored_and_rewritten(course, tmp_path):
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    cold, _ = run(root, cache_dir)
    entries = sorted(p for p in (cache_dir / "v1").rglob("*") if p.is_file())
    assert len(entries) >= 2  # two files (and the graph's suggestions)
    for i, entry in enumerate(entries):
        if i % 2:
            entry.write_bytes(entry.read_bytes()[:40])  # truncated
        else:
            entry.write_bytes(b"coursecheck-cache\0garbage")
    healed, engine = run(root, cache_dir)
    assert (engine.cache_hits, engine.cache_misses) == (0, 2)
    assert dump(healed) == dump(cold)
    warm, engine = run(root, cache_dir)
    assert engine.cache_hits == 2 and dump(warm) == dump(cold)


def test_an_entry_of_another_version_is_a_miss(tmp_path):
    cache = FileCache(tmp_path)
    key = FileCache.key("x")
    cache.put(key, {"a": 1})
    assert cache.get(key) == {"a": 1}
    path = tmp_path / "v1" / key[:2] / key[2:]
    path.write_bytes(path.read_bytes().replace(b"\0", b"\0x", 1))  # other version header
    assert cache.get(key) is None


def test_pre_commit_paths_report_course_findings_about_them_from_the_cache(course, tmp_path):
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir)
    b = root / "content/01-module-1/03-next.md"
    result, engine = run(root, cache_dir, paths=[b])
    assert engine.cache_hits == 2
    assert {f.path for f in result.active} == {"content/01-module-1/03-next.md"}
    assert len(where(result.findings, "graph/unresolved-reference")) == 2
    only_a, _ = run(root, cache_dir, paths=[root / "content/01-module-1/01-intro.md"])
    assert where(only_a.findings, "graph/unresolved-reference") == []


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    extra = [] if args[:1] == ("cache",) else ["--no-plugins"]
    return subprocess.run(
        [sys.executable, "-m", "coursecheck", *args, *extra],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_concurrent_runs_do_not_corrupt_the_cache(course, tmp_path):
    files = dict(FILES)
    for i in range(30):
        files[f"content/02-module-2/{i:02d}-extra.md"] = f"# Урок {i}\n\nТекст [ссылка](/course/module-9/x-{i}).\n"
    root = course(files)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "coursecheck", "--no-plugins", "--format", "json"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate()[0] for p in procs]
    findings = [json.loads(out)["findings"] for out in outputs]
    assert all(f == findings[0] for f in findings) and len(findings[0]) >= 30
    warm, engine = run(root, root / ".coursecheck-cache")
    assert engine.cache_hits == 32 and engine.cache_misses == 0
    assert [f.as_dict() for f in warm.findings] == findings[0]
    assert not [p for p in (root / ".coursecheck-cache").rglob("*.tmp")]  # no temp files left


@pytest.mark.slow
def test_no_cache_flag_and_cache_clean(course):
    root = course(FILES)
    done = _cli(root, "--no-cache")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert not (root / ".coursecheck-cache").exists()
    assert _cli(root).returncode == 1
    assert (root / ".coursecheck-cache" / "CACHEDIR.TAG").is_file()
    cleaned = _cli(root, "cache", "clean")
    assert cleaned.returncode == 0 and "removed" in cleaned.stdout
    assert not (root / ".coursecheck-cache").exists()
    again = _cli(root, "cache", "clean")
    assert again.returncode == 0 and "no cache" in again.stdout


def test_cache_clean_refuses_a_folder_that_is_not_a_cache(course, tmp_path):
    root = course(FILES)
    other = tmp_path / "precious"
    other.mkdir()
    (other / "file.txt").write_text("keep me", encoding="utf-8")
    done = _cli(root, "cache", "clean", "--cache-dir", str(other))
    assert done.returncode == 2 and "does not look like a coursecheck cache" in done.stderr
    assert (other / "file.txt").read_text(encoding="utf-8") == "keep me"


def test_an_unwritable_cache_folder_means_running_without_cache(course, tmp_path):
    root = course(FILES)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    result, engine = run(root, blocker / "cache")
    assert engine._cache is None
    assert dump(result) == dump(run(root, None)[0])


# -- course rules that read lesson text do it in summaries (the per-file stage) ---------------

GLOSSARY_CONFIG = """
[course]
content = ["content/**/*.{md,mdx}"]
data = ["data/*.{json,yaml,yml}"]
id = "{path}"
aliases = ["{dir|unnumbered}/{stem}", "/course/{path}"]

[glossary]
file = "data/glossary.json"
fields = { term = "term", english = "termEn" }

[[term]]
term = "Том"
min-occurrences = 3
"""

TERM_FILES = {
    "content/01-a.md": "---\ntitle: А\n---\n\n# Один\n\nСначала создадим том.\n",
    "content/02-b.md": "---\ntitle: Б\n---\n\n# Два\n\nТом (volume) хранит данные.\n",
    "content/03-c.md": "---\ntitle: В\n---\n\n# Три\n\nСоберём имидж (image). Образ (image) неизменяем.\n",
    "content/04-d.md": "---\ntitle: Г\n---\n\n# Четыре\n\nЕщё раз имидж и образ.\n",
    "data/glossary.json": json.dumps(
        [
            {"term": "Том", "termEn": "Volume"},
            {"term": "Образ", "termEn": "Image"},
            {"term": "Оркестратор", "termEn": "Orchestrator"},
        ],
        ensure_ascii=False,
    ),
}
TEXT_RULES = ["terminology", "bilingual/inconsistent-rendering"]


def test_text_reading_course_rules_run_from_cached_summaries_without_reading_lessons(course, tmp_path, monkeypatch):
    root = course(TERM_FILES, config=GLOSSARY_CONFIG)
    cache_dir = tmp_path / "cache"
    cold, _ = run(root, cache_dir, select=TEXT_RULES)
    expected = [
        ("terminology/coverage", ".coursecheck.toml", 13, 8),
        ("terminology/unused-term", "data/glossary.json", 1, 86),
        ("terminology/used-before-introduction", "content/01-a.md", 7, 18),
        ("bilingual/inconsistent-rendering", "content/03-c.md", 7, 9),
        # «имидж» was found as a pair in 03-c; its plain use in 04-d counts too.
        ("bilingual/inconsistent-rendering", "content/04-d.md", 7, 9),
    ]
    assert sorted(where(cold.findings)) == sorted(expected)
    # Nothing changed: the course stage itself comes from the cache, no lesson is loaded.
    stored, engine = run(root, cache_dir, select=TEXT_RULES)
    assert dump(stored) == dump(cold)
    assert [d.relpath for d in engine.course.lessons if d._text is not None or d.loaded] == []
    # The course rules run again (as after an edit elsewhere) on the cached summaries.
    with monkeypatch.context() as patched:
        patched.setattr(coursecache, "unpack", lambda stored, course=None: None)
        warm, engine = run(root, cache_dir, select=TEXT_RULES)
    assert engine.cache_hits == 4 and engine.cache_misses == 0  # the lessons (data files are read whole)
    assert dump(warm) == dump(cold) == dump(run(root, None, select=TEXT_RULES)[0])
    # Snippets and positions came from the summaries and records. The one exception: a pair
    # rendering («имидж (image)» in 03-c) is searched again in the lessons that did not
    # find it themselves (a parse each).
    loaded = sorted(d.relpath for d in engine.course.lessons if d._text is not None or d.loaded)
    assert loaded == ["content/01-a.md", "content/02-b.md", "content/04-d.md"]
    (root / "content/03-c.md").write_text("---\ntitle: В\n---\n\n# Три\n\nОбраз (image).\n", encoding="utf-8")
    _, engine = run(root, cache_dir, select=TEXT_RULES)
    assert engine.reparsed == 0
    # Only the edited lesson, parsed in this run (and kept whole: a small course), is loaded.
    assert [d.relpath for d in engine.course.lessons if d._text is not None or d.loaded] == ["content/03-c.md"]
    by_rule = {f.rule_id: f for f in warm.findings}
    assert by_rule["terminology/used-before-introduction"].snippet == "Сначала создадим том."


def test_an_edit_in_one_lesson_changes_text_findings_in_another_through_summaries(course, tmp_path):
    root = course(TERM_FILES, config=GLOSSARY_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir, select=TEXT_RULES)
    # Lesson B stops pairing «том»: A is served from the cache, its finding goes away.
    (root / "content/02-b.md").write_text("---\ntitle: Б\n---\n\n# Два\n\nТом хранит данные.\n", encoding="utf-8")
    after, engine = run(root, cache_dir, select=TEXT_RULES)
    assert engine.cache_hits == 3 and engine.cache_misses == 1
    assert where(after.findings, "terminology/used-before-introduction") == []
    # Lesson C drops the other rendering: D's finding (cached lesson) goes away too.
    (root / "content/03-c.md").write_text("---\ntitle: В\n---\n\n# Три\n\nОбраз (image).\n", encoding="utf-8")
    (root / "content/04-d.md").write_text("---\ntitle: Г\n---\n\n# Четыре\n\nОбраз.\n", encoding="utf-8")
    again, _ = run(root, cache_dir, select=TEXT_RULES)
    assert where(again.findings, "bilingual/inconsistent-rendering") == []
    # ... and a lesson that starts using the unused term clears unused-term.
    (root / "content/01-a.md").write_text(TERM_FILES["content/01-a.md"] + "\nОркестратор.\n", encoding="utf-8")
    last, engine = run(root, cache_dir, select=TEXT_RULES)
    assert engine.cache_misses == 1
    assert where(last.findings, "terminology/unused-term") == []
    assert dump(last) == dump(run(root, None, select=TEXT_RULES)[0])


TRUTH_CONFIG = """
[course]
content = ["content/**/*.{md,mdx}"]
id = "{path}"

[[truth]]
id = "lag"
text = "lag is taught"
term = "lag"
min-occurrences = 2
min-files = 2

[[truth]]
id = "offsets"
text = "offsets are taught"
pattern = 'stor\\w+'
files = ["content/0[12]-*.md"]
scope = "prose"
"""

TRUTH_FILES = {
    "content/01-a.md": "# A\n\nThe lag grows.\n",
    "content/02-b.md": "# B\n\nOffsets are stored; the lag shrinks.\n\n`offset` in code\n",
}


def test_truths_are_measured_in_summaries_and_follow_edits(course, tmp_path):
    root = course(TRUTH_FILES, config=TRUTH_CONFIG)
    cache_dir = tmp_path / "cache"
    # keep_documents=0: the course stage holds records only (as on a course of > 400 files).
    cold, _ = run(root, cache_dir, select=["musthave"], keep_documents=0)
    verdicts = {v.id: v for v in cold.extra["verdicts"]}
    assert verdicts["lag"].measures["lines"] == {"content/01-a.md": [3], "content/02-b.md": [3]}
    assert verdicts["offsets"].measures["lines"] == {"content/02-b.md": [3]}
    assert where(cold.findings) == []
    warm, engine = run(root, cache_dir, select=["musthave"], keep_documents=0)
    assert engine.cache_hits == 2 and engine.reparsed == 0
    assert [v.evidence for v in warm.extra["verdicts"]] == [v.evidence for v in cold.extra["verdicts"]]
    # An edit in lesson B fails the term truth, reported at the config (A came from the cache).
    (root / "content/02-b.md").write_text("# B\n\nOffsets are stored.\n", encoding="utf-8")
    after, engine = run(root, cache_dir, select=["musthave"], keep_documents=0)
    assert engine.cache_hits == 1 and engine.reparsed == 0
    assert where(after.findings) == [("musthave/truth", ".coursecheck.toml", 6, 1)]
    assert dump(after) == dump(run(root, None, select=["musthave"], keep_documents=0)[0])
    # A changed declaration is measured again, not taken from a summary made for the old one.
    config = root / ".coursecheck.toml"
    config.write_text(TRUTH_CONFIG.replace("stor\\w+", "gr\\w+"), encoding="utf-8")
    changed, _ = run(root, cache_dir, select=["musthave"], keep_documents=0)
    assert {v.id: v for v in changed.extra["verdicts"]}["offsets"].measures["lines"] == {"content/01-a.md": [3]}


# -- the course stage, stored between runs (coursecheck.coursecache) ------------------------

MUSTHAVE_CONFIG = """
[course]
content = ["content/**/*.md"]
data = ["data/*.json"]
id = "{path}"
aliases = ["{dir|unnumbered}/{stem}", "/course/{path}"]

[[artifact]]
path = "labs/notes.md"
provides = "Lab notes"
min-lines = 3
contains = ["Prometheus"]

[[key-link]]
id = "intro-to-lab"
from = "module-1/01-intro"
to = "labs/"
via = "the intro points at the labs folder"
verify = "inside"
"""

MUSTHAVE_FILES = {
    **FILES,
    "data/quiz.json": json.dumps([{"lesson": "module-1/01-intro"}]),
    "labs/notes.md": "# Notes\n\nPrometheus scrapes.\n",
}
COURSE_RULES = ["graph", "musthave"]


def _course_rules_called(root: Path, cache_dir: Path, **options) -> tuple[Result, list[str]]:
    calls: list[str] = []
    original = RuleCalls.call

    def counting(self, rule, ctx, subject, relpath):
        if rule.course:
            calls.append(rule.id)
        return original(self, rule, ctx, subject, relpath)

    RuleCalls.call = counting
    try:
        result, _ = run(root, cache_dir, **({"select": COURSE_RULES} | options))
    finally:
        RuleCalls.call = original
    return result, calls


def test_an_unchanged_course_serves_the_course_stage_from_the_cache(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    cold, _ = run(root, cache_dir, select=COURSE_RULES)
    assert ("musthave/key-link", "content/01-module-1/01-intro.md", 2, 1) in where(cold.findings)
    warm, calls = _course_rules_called(root, cache_dir)
    assert calls == []  # no course rule ran
    assert dump(warm) == dump(cold) == dump(run(root, None, select=COURSE_RULES)[0])
    assert warm.extra.keys() == cold.extra.keys() and repr(warm.extra["verdicts"]) == repr(cold.extra["verdicts"])


def _artifact_finding(result: Result) -> list[str]:
    return [f.message for f in result.findings if f.rule_id == "musthave/artifact"]


def _course_findings(result: Result) -> list[tuple[str, str, int, int]]:
    return sorted(where(f for f in result.findings if f.rule_id.startswith(("graph/", "musthave/"))))


def test_course_findings_follow_an_edit_to_a_lesson(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    before, _ = run(root, cache_dir, select=COURSE_RULES)
    assert ("graph/unresolved-reference", "content/01-module-1/03-next.md", 3, 17) in _course_findings(before)
    # The missing prerequisite appears: the finding in the other lesson goes away.
    (root / "content/01-module-1/02-setup.md").write_text("---\ntitle: Настройка\n---\n\n# Настройка\n", "utf-8")
    after, _ = run(root, cache_dir, select=COURSE_RULES)
    assert not any(f[0] == "graph/unresolved-reference" for f in _course_findings(after))
    # And an edit to the lesson itself (the prerequisite written wrong again) brings it back.
    (root / "content/01-module-1/03-next.md").write_text(LESSON_B.replace('02-setup"]', '02-setp"]'), "utf-8")
    again, _ = run(root, cache_dir, select=COURSE_RULES)
    assert ("graph/unresolved-reference", "content/01-module-1/03-next.md", 3, 17) in _course_findings(again)
    assert dump(again) == dump(run(root, None, select=COURSE_RULES)[0])


def test_an_edit_no_course_rule_can_see_reuses_the_stored_course_stage(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    before, _ = run(root, cache_dir, select=COURSE_RULES)
    # A paragraph added at the end: no link, heading or frontmatter value moved, and no
    # course rule read this lesson's text, so the course findings cannot change.
    lesson = root / "content/01-module-1/03-next.md"
    lesson.write_text(LESSON_B + "\nЕщё один абзац.\n", "utf-8")
    after, calls = _course_rules_called(root, cache_dir)
    assert calls == []
    assert ("musthave/key-link", "content/01-module-1/01-intro.md", 2, 1) in where(after.findings)
    assert dump(after) == dump(before) == dump(run(root, None, select=COURSE_RULES)[0])
    # The must-haves read the text of the intro (the key link's lesson): a word changed in
    # its paragraph runs the course rules again (the read was recorded with the text's digest).
    intro = root / "content/01-module-1/01-intro.md"
    intro.write_text(LESSON_A.replace("Текст урока.", "Исправленный текст урока."), "utf-8")
    edited, calls = _course_rules_called(root, cache_dir)
    assert "musthave/key-link" in calls
    assert dump(edited) == dump(run(root, None, select=COURSE_RULES)[0])


def test_an_edit_that_moves_a_link_moves_the_stored_findings_of_relocatable_rules(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    before, _ = run(root, cache_dir, select=COURSE_RULES)
    assert ("graph/unresolved-reference", "content/01-module-1/03-next.md", 8, 22) in _course_findings(before)
    lesson = root / "content/01-module-1/03-next.md"
    lesson.write_text(LESSON_B.replace("# Продолжение\n", "# Продолжение\n\nНовый абзац.\n"), "utf-8")
    after, calls = _course_rules_called(root, cache_dir)
    # The link moved two lines down and is otherwise the same: the graph rules (relocatable)
    # do not run, their finding moves with its line; the must-haves (not relocatable) run.
    assert not [c for c in calls if c.startswith("graph/")]
    assert "musthave/key-link" in calls
    assert ("graph/unresolved-reference", "content/01-module-1/03-next.md", 10, 22) in _course_findings(after)
    assert dump(after) == dump(run(root, None, select=COURSE_RULES)[0])
    # Moved again from the stage the moving run stored.
    lesson.write_text(LESSON_B.replace("# Продолжение\n", "# Продолжение\n\nОдин.\n\nДва.\n\nТри.\n"), "utf-8")
    again, calls = _course_rules_called(root, cache_dir)
    assert not [c for c in calls if c.startswith("graph/")]
    assert ("graph/unresolved-reference", "content/01-module-1/03-next.md", 14, 22) in _course_findings(again)
    assert dump(again) == dump(run(root, None, select=COURSE_RULES)[0])


def test_an_edit_that_changes_a_link_runs_the_relocatable_rules(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir, select=COURSE_RULES)
    lesson = root / "content/01-module-1/03-next.md"
    # Moved down, and its target corrected: not the same shape, the graph rules run.
    edited = LESSON_B.replace("# Продолжение\n", "# Продолжение\n\nНовый абзац.\n").replace(
        "(/course/01-module-1/02-setup)", "(/course/01-module-1/01-intro)"
    )
    assert edited != LESSON_B.replace("# Продолжение\n", "# Продолжение\n\nНовый абзац.\n")
    lesson.write_text(edited, "utf-8")
    after, calls = _course_rules_called(root, cache_dir)
    assert "graph/unresolved-reference" in calls
    assert not any(f[0] == "graph/unresolved-reference" and f[2] == 10 for f in _course_findings(after))
    assert dump(after) == dump(run(root, None, select=COURSE_RULES)[0])


def test_moving_needs_the_earlier_record_of_the_edited_file(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir, select=COURSE_RULES)
    for entry in FileCache(cache_dir).entries.glob("*/*"):
        entry.unlink()  # per-file results gone (the run index still serves unchanged files)
    lesson = root / "content/01-module-1/03-next.md"
    lesson.write_text(LESSON_B.replace("# Продолжение\n", "# Продолжение\n\nНовый абзац.\n"), "utf-8")
    after, calls = _course_rules_called(root, cache_dir)
    assert "graph/unresolved-reference" in calls
    assert ("graph/unresolved-reference", "content/01-module-1/03-next.md", 10, 22) in _course_findings(after)
    assert dump(after) == dump(run(root, None, select=COURSE_RULES)[0])


def test_a_course_rule_that_read_a_line_count_runs_again_when_it_changes(course, tmp_path):
    # The artifact is a checked lesson: the must-have reads its record's line count, which
    # is not part of what the stored course stage is keyed on; the read is recorded.
    config = MUSTHAVE_CONFIG.replace('path = "labs/notes.md"', 'path = "content/01-module-1/01-intro.md"')
    config = config.replace("min-lines = 3", "min-lines = 10").replace('contains = ["Prometheus"]', "")
    root = course(MUSTHAVE_FILES, config=config)
    cache_dir = tmp_path / "cache"
    short, _ = run(root, cache_dir, select=COURSE_RULES)
    assert len(_artifact_finding(short)) == 1 and "need ≥ 10" in _artifact_finding(short)[0]
    (root / "content/01-module-1/01-intro.md").write_text(LESSON_A + "\nОдна.\n\nДве.\n\nТри.\n", "utf-8")
    long_enough, calls = _course_rules_called(root, cache_dir)
    assert "musthave/artifact" in calls
    assert _artifact_finding(long_enough) == []
    assert dump(long_enough) == dump(run(root, None, select=COURSE_RULES)[0])


def test_course_findings_follow_an_edit_to_a_data_file(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    before, _ = run(root, cache_dir, select=COURSE_RULES)
    assert not any(f[0] == "graph/missing-data-reference" for f in _course_findings(before))
    (root / "data/quiz.json").write_text(json.dumps([{"lesson": "module-1/09-gone"}]), "utf-8")
    after, _ = run(root, cache_dir, select=COURSE_RULES)
    assert ("graph/missing-data-reference", "data/quiz.json", 1, 13) in _course_findings(after)
    assert dump(after) == dump(run(root, None, select=COURSE_RULES)[0])


def test_course_findings_follow_files_outside_the_checked_set(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    before, _ = run(root, cache_dir, select=COURSE_RULES)
    assert _artifact_finding(before) == []
    # labs/notes.md is no lesson (outside the content globs): the artifact reads it from disk.
    (root / "labs/notes.md").write_text("# Notes\n\nGrafana only.\n", "utf-8")
    edited, _ = run(root, cache_dir, select=COURSE_RULES)
    assert len(_artifact_finding(edited)) == 1 and "Prometheus" in _artifact_finding(edited)[0]
    assert dump(edited) == dump(run(root, None, select=COURSE_RULES)[0])
    # Removed: the artifact is missing; the key link still finds the labs/ folder...
    (root / "labs/notes.md").unlink()
    removed, _ = run(root, cache_dir, select=COURSE_RULES)
    assert len(_artifact_finding(removed)) == 1 and _artifact_finding(removed) != _artifact_finding(edited)
    assert dump(removed) == dump(run(root, None, select=COURSE_RULES)[0])
    # ...until the folder itself goes (a question about a path, not a read, is recorded too).
    (root / "labs").rmdir()
    gone, _ = run(root, cache_dir, select=COURSE_RULES)
    assert ("musthave/key-link", ".coursecheck.toml", 14, 1) in where(gone.findings)
    assert dump(gone) == dump(run(root, None, select=COURSE_RULES)[0])


def test_course_findings_follow_an_edit_to_the_config(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    before, _ = run(root, cache_dir, select=COURSE_RULES)
    assert _artifact_finding(before) == []
    config = root / ".coursecheck.toml"
    config.write_text(config.read_text("utf-8").replace("min-lines = 3", "min-lines = 30"), "utf-8")
    stricter, _ = run(root, cache_dir, select=COURSE_RULES)
    assert len(_artifact_finding(stricter)) == 1
    # A comment line moves every finding that points into the config: a new key.
    config.write_text("# moved\n" + config.read_text("utf-8"), "utf-8")
    moved, _ = run(root, cache_dir, select=COURSE_RULES)
    lines = {f.span.line for f in stricter.findings if f.path == ".coursecheck.toml"}
    assert {f.span.line for f in moved.findings if f.path == ".coursecheck.toml"} == {n + 1 for n in lines}
    assert dump(moved) == dump(run(root, None, select=COURSE_RULES)[0])


def test_a_plugin_course_rule_keeps_the_course_stage_running(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    engine = Engine(load_config(root / ".coursecheck.toml", root), RunOptions(entry_points=False))
    graph_rule = engine.rules["graph/orphan-lesson"]
    assert coursecache.trusted(graph_rule)
    from coursecheck.rules import Rule

    assert not coursecache.trusted(Rule("team/reads-anything", check=lambda course, ctx: None, course=True))
    run(root, cache_dir, select=COURSE_RULES)
    key_count = sum(1 for _ in (cache_dir / "v1").rglob("*") if _.is_file())
    # A timed-out pattern makes the stage's outcome depend on the machine: it is not stored.
    before = coursecache._events
    coursecache.timing_dependent()
    assert coursecache._events == before + 1
    reads = coursecache.Reads()
    assert coursecache.pack(_stage(reads, [], {})) is not None
    coursecache.timing_dependent()
    assert coursecache.pack(_stage(reads, [], {})) is None
    assert key_count > 0


def test_cached_records_restore_their_bulky_parts_only_when_read(course, tmp_path):
    from coursecheck.records import PACKED, PACKED_GROUPS, DocumentRecord, pack_fields, record_fields

    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    cold, _ = run(root, cache_dir)
    warm, engine = run(root, cache_dir)
    assert dump(warm) == dump(cold)
    # The course stage came from the cache: no record restored any packed group.
    lessons = engine.course.lessons
    assert lessons and all(d._packed is not None and all(d._packed) for d in lessons)
    # A record from packed fields reads like one from plain fields, part by part.
    doc = engine._load(root / "content/01-module-1/03-next.md", "content/01-module-1/03-next.md")
    plain = record_fields(doc)
    packed = pack_fields(plain)
    assert PACKED in packed and not any(name in packed for group in PACKED_GROUPS for name in group)
    a = DocumentRecord(plain, engine._reload, engine._read_text)
    b = DocumentRecord(packed, engine._reload, engine._read_text)
    assert b._packed is not None and all(b._packed)
    assert b.frontmatter == a.frontmatter and b._packed[1] is not None  # only its group restored
    assert b.headings == a.headings and b.links == a.links and b.components == a.components
    assert b.lines.line_text(3) == a.lines.line_text(3) == 'prerequisites: ["module-1/02-setup"]'
    assert b.code_outline == a.code_outline and b.data_places == a.data_places
    assert b.__getstate__() == a.__getstate__()
    c = DocumentRecord(packed, engine._reload, engine._read_text)
    c.headings = []  # a write restores the group first, then replaces the part
    assert c.headings == [] and c.components == a.components


def test_only_the_newest_course_stages_are_kept(course, tmp_path):
    root = course(MUSTHAVE_FILES, config=MUSTHAVE_CONFIG)
    cache_dir = tmp_path / "cache"
    lesson = root / "content/01-module-1/01-intro.md"
    for i in range(COURSE_STAGES_KEPT + 3):
        # A heading is part of what course rules see: each version is a course stage of its own.
        lesson.write_text(LESSON_A + f"\n## Версия {i}\n", "utf-8")
        result, _ = run(root, cache_dir, select=COURSE_RULES)
    stages = FileCache(cache_dir).course_stages().entries
    assert len([p for p in stages.rglob("*") if p.is_file()]) == COURSE_STAGES_KEPT
    # The newest is among them: an unchanged re-run needs no course rule.
    again, engine = run(root, cache_dir, select=COURSE_RULES)
    assert dump(again) == dump(result) and engine.course.cache.get("coursecheck.graph") is None


def test_a_glossary_outside_the_data_globs_is_in_every_key(course, tmp_path):
    # Document rules (bilingual/missing-pair here) read the glossary file even when it is not
    # one of the course's data files: the terminology plugin declares it (coursecheck_inputs).
    config = GLOSSARY_CONFIG.replace('file = "data/glossary.json"', 'file = "glossary/terms.json"')
    files = {rel: text for rel, text in TERM_FILES.items() if not rel.startswith("data/")}
    files["glossary/terms.json"] = json.dumps([{"term": "Том", "termEn": "Volume"}], ensure_ascii=False)
    root = course(files, config=config)
    cache_dir = tmp_path / "cache"
    before, _ = run(root, cache_dir, select=["bilingual/missing-pair"])
    assert where(before.active) == [("bilingual/missing-pair", "content/01-a.md", 7, 18)]
    (root / "glossary/terms.json").write_text(
        json.dumps([{"term": "Том", "termEn": "Volume"}, {"term": "Образ", "termEn": "Image"}], ensure_ascii=False),
        encoding="utf-8",
    )
    after, engine = run(root, cache_dir, select=["bilingual/missing-pair"])
    assert engine.cache_hits == 0
    assert dump(after) == dump(run(root, None, select=["bilingual/missing-pair"])[0])
    assert where(after.active) == [
        ("bilingual/missing-pair", "content/01-a.md", 7, 18),
        ("bilingual/missing-pair", "content/03-c.md", 7, 16),  # «Образ» is a glossary term now
        ("bilingual/missing-pair", "content/04-d.md", 7, 17),
    ]


def _entries(cache_dir: Path) -> set[str]:
    return {p.parent.name + p.name for p in (cache_dir / "v1").glob("*/[!.]*")}


def test_entries_no_run_uses_any_more_are_swept(course, tmp_path, monkeypatch):
    from coursecheck import cache as cache_module

    monkeypatch.setattr(cache_module, "SWEEP_AFTER", 3)  # a sweep once 3+ entries were written
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    _, engine = run(root, cache_dir)
    first = _entries(cache_dir)
    assert set(engine._file_keys.values()) <= first and engine.swept == 0
    lesson = root / "content/01-module-1/03-next.md"
    original = lesson.read_text(encoding="utf-8")
    stale: set[str] = set()
    for n in range(1, 4):  # three edits: each leaves the previous version's entry behind
        before = dict(engine._file_keys)
        lesson.write_text(original + f"\nEdit {n}.\n", encoding="utf-8")
        _, engine = run(root, cache_dir)
        stale.add(before["content/01-module-1/03-next.md"])
    current = set(engine._file_keys.values())
    # Written: 2 + 1 + 1 = 4 > max(3, 2 x 2 files) only at the third edit: then swept.
    assert engine.swept >= 2
    left = _entries(cache_dir)
    assert current <= left and not (stale & left)
    # What remains serves the next run whole.
    result, engine = run(root, cache_dir)
    assert (engine.cache_hits, engine.cache_misses, engine.swept) == (2, 0, 0)
    assert dump(result) == dump(run(root, None)[0])


def test_a_sweep_keeps_entries_written_by_a_concurrent_run(course, tmp_path, monkeypatch):
    from coursecheck import cache as cache_module

    monkeypatch.setattr(cache_module, "SWEEP_AFTER", 0)
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    run(root, cache_dir)
    folder = cache_dir / "v1" / "ab"
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / ("0" * 62), folder / ("1" * 62)
    old.write_bytes(b"an entry of an older course state")
    os.utime(old, ns=(1, 1))
    store = cache_module.FileCache(cache_dir)
    fresh.write_bytes(b"written by another run after this one opened the cache")
    assert store.sweep([], written=10, files=2) >= 1
    assert not old.exists() and fresh.exists()
    assert (cache_dir / "v1" / ".written").read_text(encoding="ascii") == "0"


def test_a_course_stage_that_published_a_document_is_not_stored(tmp_path):
    from coursecheck.model import Document, Finding
    from coursecheck.records import DocumentRecord
    from coursecheck.text import LineIndex, Span

    reads = coursecache.Reads()
    finding = Finding("graph/orphan-lesson", "m", "a.md", Span.point(1, 1))
    stored = coursecache.pack(_stage(reads, [finding], {"counts": {"a.md": 1}}))
    unpacked = coursecache.unpack(stored)
    assert unpacked is not None and [f.as_dict() for f in unpacked.findings()] == [finding.as_dict()]
    assert unpacked.extra() == {"counts": {"a.md": 1}}
    doc = Document(tmp_path / "a.md", "a.md", "markdown", "", LineIndex(""))
    assert coursecache.pack(_stage(reads, [], {"nested": [1, {"doc": doc}]})) is None
    record = DocumentRecord.__new__(DocumentRecord)  # a subclass is refused too
    assert coursecache.pack(_stage(reads, [], {"record": record})) is None


def _stage(reads: coursecache.Reads, findings: list, published: dict) -> coursecache.Stage:
    return coursecache.Stage(reads, {"graph/orphan-lesson": (findings, published)}, {"a.md": "view"}, {})


CONSISTENCY_CONFIG = (
    MUSTHAVE_CONFIG.split("[[artifact]]")[0]
    + """
[[rule]]
id = "team/backend"
kind = "consistency"
variants = ["бэкенд", "бэкэнд"]
"""
)


def test_a_course_level_declarative_rule_takes_its_hits_from_summaries(course, tmp_path):
    files = {
        **FILES,
        "content/01-module-1/01-intro.md": LESSON_A + "\nБэкенд принимает запрос, бэкенд отвечает.\n",
        "content/01-module-1/03-next.md": LESSON_B + "\nЗапрос уходит на бэкэнд.\n",
    }
    root = course(files, config=CONSISTENCY_CONFIG)
    cache_dir = tmp_path / "cache"
    before, _ = run(root, cache_dir)
    assert ("team/backend", "content/01-module-1/03-next.md", 10, 18) in where(before.findings)
    # A sentence without the term added at the end: the rule's hits are in the summaries,
    # unchanged, so no course rule reads the lessons again and the stored stage is used.
    intro = root / "content/01-module-1/01-intro.md"
    intro.write_text(intro.read_text("utf-8") + "\nЕщё одна фраза.\n", "utf-8")
    after, calls = _course_rules_called(root, cache_dir, select=[])
    assert calls == [] and dump(after) == dump(before) == dump(run(root, None)[0])
    # A third use of the minority spelling turns the majority: the finding moves.
    intro.write_text(intro.read_text("utf-8") + "\nНо бэкэнд, бэкэнд и бэкэнд.\n", "utf-8")
    turned, _ = run(root, cache_dir)
    assert ("team/backend", "content/01-module-1/03-next.md", 10, 18) not in where(turned.findings)
    assert sum(1 for f in where(turned.findings) if f[0] == "team/backend") == 2
    assert dump(turned) == dump(run(root, None)[0])


SHAPED = """---
title: Форма
---

# Форма

Вступление.

## Раздел

Смотрите [урок](/course/a/b) и
<Note type="info">
текст
</Note>

```bash
echo hi
```
"""


@pytest.mark.parametrize(
    ("edit", "same_shape"),
    [
        (lambda t: t.replace("Вступление.\n", "Вступление.\n\nНовый абзац.\n\nЕщё один.\n"), True),
        (lambda t: t.replace("# Форма\n", "# Форма\n\nАбзац сверху.\n"), True),
        (lambda t: t + "\nВ конце.\n", True),
        (lambda t: t.replace("(/course/a/b)", "(/course/a/c)"), False),  # a link's target
        (lambda t: t.replace("## Раздел", "## Другой раздел"), False),  # a heading's text
        (
            lambda t: t.replace('<Note type="info">\nтекст\n', '<Note type="info">\nтекст\nещё\n'),
            True,
        ),  # inside a component's body
        (lambda t: t.replace('type="info"', 'type="warning"'), False),  # a prop's value
        (lambda t: t.replace("title: Форма\n", "title: Форма\norder: 2\n"), False),  # frontmatter
        (lambda t: t.replace("```bash", "Абзац.\n\n```bash"), True),  # the code block moves
    ],
)
def test_a_files_shape_is_its_view_without_where_things_are(tmp_path, edit, same_shape):
    from coursecheck.parse.markdown import parse_markdown
    from coursecheck.records import DocumentRecord, LineMove, pack_fields, record_fields, shape

    def record(text):
        doc = parse_markdown(tmp_path / "a.mdx", "a.mdx", text, mdx=True)
        return DocumentRecord(pack_fields(record_fields(doc)), lambda _r: None, lambda _r: text)

    old, new = record(SHAPED), record(edit(SHAPED))
    assert (shape(old, {}) == shape(new, {})) is same_shape
    if same_shape:
        move = LineMove.between(old, new)
        # Each element of the old version maps to where it is in the new one.
        assert [move.span(h.span) for h in old.headings] == [h.span for h in new.headings]
        assert [move.span(link.href_span) for link in old.links] == [link.href_span for link in new.links]
        assert [move.span(c.span) for c in old.components] == [c.span for c in new.components]
        assert move.line(1) == 1 and move.kept(1)


def test_a_summary_with_positions_is_part_of_the_shape(tmp_path):
    from coursecheck.parse.markdown import parse_markdown
    from coursecheck.records import DocumentRecord, pack_fields, record_fields, shape
    from coursecheck.text import Span

    doc = parse_markdown(tmp_path / "a.md", "a.md", SHAPED, mdx=False)
    rec = DocumentRecord(pack_fields(record_fields(doc)), lambda _r: None, lambda _r: SHAPED)
    # A span on a kept line (the heading's) is told relative to it; one between kept lines
    # by its distance from the kept line above.
    assert shape(rec, {"r": Span.point(6, 3)}) != shape(rec, {"r": Span.point(8, 3)})
    assert shape(rec, {"r": [1, 2]}) != shape(rec, {"r": [1, 3]})


def test_json_outlines_of_unchanged_files_are_served_from_the_cache(course, cli, monkeypatch):
    import coursecheck.report.json as json_report

    root = course(FILES)
    _, first, _ = cli(root, "--format", "json", "--no-progress")
    monkeypatch.setattr(json_report, "document_outline", lambda result: (_ for _ in ()).throw(AssertionError))
    _, second, _ = cli(root, "--format", "json", "--no-progress")
    assert json.loads(second)["files"] == json.loads(first)["files"]
    assert second == first
    monkeypatch.undo()
    # An edit makes the outline again, with the edit in it.
    lesson = root / "content/01-module-1/01-intro.md"
    lesson.write_text(LESSON_A + "\n## Итоги\n\nТекст.\n", encoding="utf-8")
    _, third, _ = cli(root, "--format", "json", "--no-progress")
    outline = {f["path"]: f for f in json.loads(third)["files"]}
    assert [h["text"] for h in outline["content/01-module-1/01-intro.md"]["headings"]] == ["Введение", "Итоги"]
    _, uncached, _ = cli(root, "--format", "json", "--no-cache")
    assert json.loads(uncached)["files"] == json.loads(third)["files"]


def test_restoring_many_pauses_the_collector_and_freezes_what_it_restored():
    import gc
    import pickle

    from coursecheck.cache import freezing_loaded, restoring_many

    if not gc.isenabled() or gc.get_freeze_count():
        pytest.skip("the collector is off or objects are frozen in this process")
    payload = pickle.dumps([{"n": n} for n in range(1000)])
    with restoring_many():  # outside a run: the collector is left alone
        assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    with freezing_loaded():
        with restoring_many():
            assert not gc.isenabled()
            restored = pickle.loads(payload)
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(restored)  # out of the collector's reach
    assert gc.get_freeze_count() == 0  # handed back when the run ends
    assert restored[999] == {"n": 999}
