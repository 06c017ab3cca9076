"""Stored state a repository can supply (issue #17): the cache folder, the run index, the
stored course stages and their "latest" pointers, shard artifacts. Each attack below works
with plain ``pickle.loads`` (each test first shows its gadget does run code that way); here
nothing runs, nothing outside the folder is touched, the run gives the uncached findings,
and the user sees why (``-v`` for the cache, a clear error for an artifact)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import types
import zlib
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cache import FILES, dump, run

from coursecheck import __version__, cache, runindex, safepickle, shard
from coursecheck.cache import FileCache
from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.model import Finding
from coursecheck.runindex import RunIndex
from coursecheck.text import Span

ENTRY_HEADER = b"coursecheck-cache\0" + __version__.encode() + b"\0"


def system_gadget(marker: Path) -> bytes:
    """A pickle that runs a shell command (creating ``marker``) when loaded."""

    class Gadget:
        def __reduce__(self):
            return (os.system, (f"touch '{marker}'",))

    return pickle.dumps(Gadget(), protocol=pickle.HIGHEST_PROTOCOL)


def open_gadget(marker: Path) -> bytes:
    """A pickle that creates ``marker`` through a callable (``open``) when loaded."""

    class Gadget:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps(Gadget(), protocol=pickle.HIGHEST_PROTOCOL)


def assert_runs_code(gadget: bytes, marker: Path) -> None:
    """The gadget is real: plain pickle.loads creates the marker (removed again)."""
    loaded = pickle.loads(gadget)
    if hasattr(loaded, "close"):
        loaded.close()
    if hasattr(loaded, "wait"):
        loaded.wait()
    assert marker.exists()
    marker.unlink()


def forged_entry(payload: bytes) -> bytes:
    """A cache entry with the right header and a made-up MAC (the key is not known)."""
    return ENTRY_HEADER + os.urandom(cache.MAC_SIZE) + payload


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*/*") if p.is_file() and not p.name.startswith("."))


@pytest.fixture
def cached(course, tmp_path):
    """A course, its uncached findings, and a cache filled by one run (no run index)."""
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    uncached = dump(run(root, None)[0])
    cold, _ = run(root, cache_dir)
    assert dump(cold) == uncached
    return root, cache_dir, uncached


# -- the cache folder: planted entries ------------------------------------------------------


def test_a_planted_cache_entry_runs_nothing_and_is_rebuilt(cached, tmp_path):
    root, cache_dir, uncached = cached
    marker = tmp_path / "pwned"
    gadget = system_gadget(marker)
    assert_runs_code(gadget, marker)
    planted = entries(cache_dir / "v1")
    assert len(planted) >= 2
    for i, entry in enumerate(planted):
        # The old format (no MAC) and a forged MAC: both refused before unpickling.
        entry.write_bytes(ENTRY_HEADER + gadget if i % 2 else forged_entry(gadget))
    shutil.rmtree(cache_dir / "v1-index", ignore_errors=True)
    result, engine = run(root, cache_dir)
    assert not marker.exists()
    assert dump(result) == uncached
    assert engine.cache_hits == 0 and engine._cache.rejected == 2
    assert engine.cache_report() == [
        "the cache rejected 2 stored entries (file cache 2): not authentic under your cache key, damaged, "
        "or not regular files; rebuilt"
    ]
    # Rebuilt: the next run is served from the cache again, and rejects nothing.
    again, engine = run(root, cache_dir)
    assert engine.cache_hits == 2 and engine.cache_report() == [] and dump(again) == uncached


def test_a_planted_run_index_runs_nothing(cached, tmp_path):
    root, cache_dir, uncached = cached
    marker = tmp_path / "pwned"
    gadget = open_gadget(marker)
    assert_runs_code(gadget, marker)
    # At the path computed from the root (predictable on CI): the old format, whose header
    # was unpickled before its version and key were compared...
    path = cache_dir / "v1-index" / hashlib.sha256(str(root).encode()).hexdigest()
    assert path == RunIndex(cache_dir, root, "", 0).path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"coursecheck-index\0" + gadget + len(gadget).to_bytes(8, "little"))
    result, engine = run(root, cache_dir)
    assert not marker.exists() and dump(result) == uncached
    assert "(run index 1)" in engine.cache_report()[0]
    # ... and the new one with a made-up MAC.
    path.write_bytes(b"coursecheck-index\0" + gadget + len(gadget).to_bytes(8, "little") + os.urandom(32))
    result, engine = run(root, cache_dir)
    assert not marker.exists() and dump(result) == uncached
    assert "(run index 1)" in engine.cache_report()[0]


def test_a_planted_course_stage_runs_nothing(cached, tmp_path):
    root, cache_dir, uncached = cached
    marker = tmp_path / "pwned"
    gadget = system_gadget(marker)
    stages = entries(cache_dir / "v1-course")
    assert stages
    for entry in stages:
        # The stored value of a course stage is bytes unpickled again: nested, and forged.
        entry.write_bytes(forged_entry(pickle.dumps(gadget, protocol=pickle.HIGHEST_PROTOCOL)))
    result, engine = run(root, cache_dir)
    assert not marker.exists() and dump(result) == uncached
    assert f"course stages {len(stages)}" in engine.cache_report()[0]


def test_a_planted_latest_course_stage_pointer_runs_nothing(cached, tmp_path):
    root, cache_dir, _uncached = cached
    marker = tmp_path / "pwned"
    gadget = open_gadget(marker)
    pointers = entries(cache_dir / "v1-course-latest")
    assert pointers
    for entry in pointers:
        entry.write_bytes(forged_entry(gadget))
    # An edit that changes a lesson's view: the stored stage misses, the pointer is read.
    lesson = root / "content/01-module-1/01-intro.md"
    lesson.write_text(lesson.read_text("utf-8") + "\n## Новый раздел\n", "utf-8")
    result, engine = run(root, cache_dir)
    assert not marker.exists() and dump(result) == dump(run(root, None)[0])
    assert "latest course stage pointers 1" in engine.cache_report()[0]


def test_verbose_says_how_many_entries_each_store_rejected(cached, cli):
    root, _cache_dir, _uncached = cached
    cache_dir = root / ".coursecheck-cache"
    cli(root, "--no-plugins")  # fills the default cache folder
    for entry in entries(cache_dir / "v1"):
        entry.write_bytes(forged_entry(b"garbage"))
    shutil.rmtree(cache_dir / "v1-index", ignore_errors=True)
    code, _out, err = cli(root, "--no-plugins", "-v")
    assert code == 1
    assert "coursecheck: cache: the cache rejected 2 stored entries (file cache 2)" in err
    code, _out, err = cli(root, "--no-plugins")  # not without -v
    assert "coursecheck: cache:" not in err


# -- the key the stores are authenticated with ------------------------------------------------


@pytest.fixture
def key_home(tmp_path, monkeypatch):
    """A fresh place for the user's key (and no key remembered by this process)."""
    home = tmp_path / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setattr(cache, "_SECRETS", {})
    return home / "coursecheck" / "cache-key"


def test_the_key_is_created_once_with_mode_0600_and_shared_by_runs(key_home, tmp_path):
    first = cache.secret_key(tmp_path / "project")
    assert first.note == "" and first.where == str(key_home)
    assert oct(key_home.stat().st_mode & 0o777) == "0o600"
    assert len(key_home.read_text("ascii").strip()) == 64
    cache._SECRETS.clear()
    assert cache.secret_key(tmp_path / "project").key == first.key  # the next process reads it
    assert not [p for p in key_home.parent.iterdir() if p.name != "cache-key"]  # no temporary file left


@pytest.mark.parametrize("problem", ["symlink", "group-readable", "not-a-file", "garbage"])
def test_a_suspicious_key_file_is_refused(key_home, tmp_path, problem):
    key_home.parent.mkdir(parents=True)
    if problem == "symlink":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.write_text("a" * 64 + "\n")
        elsewhere.chmod(0o600)
        key_home.symlink_to(elsewhere)
    elif problem == "group-readable":
        key_home.write_text("a" * 64 + "\n")
        key_home.chmod(0o640)
    elif problem == "not-a-file":
        key_home.mkdir()
    else:
        key_home.write_text("not a key\n")
        key_home.chmod(0o600)
    secret = cache.secret_key(tmp_path / "project")
    assert secret.key == cache._PROCESS_KEY
    expected = {
        "symlink": "is a symbolic link; refused",
        "group-readable": "is accessible to other users (mode 640); refused (`chmod 600",
        "not-a-file": "is not a regular file; refused",
        "garbage": "is not a coursecheck cache key (64 hex digits); refused",
    }[problem]
    assert expected in secret.note and "entries stored earlier are rebuilt" in secret.note


def test_a_key_inside_the_project_is_not_used(course, tmp_path, monkeypatch):
    # A repository that commits .config/coursecheck/cache-key knows the key: the run then
    # uses a key of its own and trusts nothing stored (every entry rejected, rebuilt).
    root = course(FILES)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / ".config"))
    monkeypatch.setattr(cache, "_SECRETS", {})
    (root / ".config" / "coursecheck").mkdir(parents=True)
    (root / ".config" / "coursecheck" / "cache-key").write_text("b" * 64 + "\n")
    run(root, tmp_path / "cache")
    monkeypatch.setattr(cache, "_PROCESS_KEY", os.urandom(32))  # the next process
    monkeypatch.setattr(cache, "_SECRETS", {})
    result, engine = run(root, tmp_path / "cache")
    note = engine.cache_report()[0]
    assert "is inside the project root" in note and "entries stored earlier are rebuilt" in note
    assert engine.cache_hits == 0 and engine._cache.rejected >= 2
    assert engine._cache.rejections()["course stages"] == 1
    assert dump(result) == dump(run(root, None)[0])


def test_the_environment_can_supply_the_key(key_home, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSECHECK_CACHE_KEY", "a CI secret of this job")
    secret = cache.secret_key(tmp_path)
    assert secret.note == "" and secret.where == "$COURSECHECK_CACHE_KEY" and not key_home.exists()
    store = FileCache(tmp_path / "c", key=secret.key)
    store.put(FileCache.key("x"), {"a": 1})
    assert FileCache(tmp_path / "c", key=secret.key).get(FileCache.key("x")) == {"a": 1}
    assert FileCache(tmp_path / "c", key=os.urandom(32)).get(FileCache.key("x")) is None


def test_an_authentic_entry_moved_to_another_address_or_store_is_rejected(tmp_path):
    store = FileCache(tmp_path)
    first, second = FileCache.key("first"), FileCache.key("second")
    store.put(first, "value")
    source = tmp_path / "v1" / first[:2] / first[2:]
    target = tmp_path / "v1" / second[:2] / second[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    assert store.get(first) == "value" and store.get(second) is None and store.rejected == 1
    stages = store.course_stages()
    moved = stages.entries / first[:2] / first[2:]
    moved.parent.mkdir(parents=True)
    shutil.copy(source, moved)
    assert stages.get(first) is None and stages.rejected == 1


# -- the cache folder: links ------------------------------------------------------------------


def precious(folder: Path, names: list[str]) -> dict[Path, bytes]:
    """Files outside the cache that a followed link would reach (named as cache files are)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names:
        (folder / name).write_bytes(b"keep me " + name.encode())
        out[folder / name] = (folder / name).read_bytes()
    return out


def intact(files: dict[Path, bytes]) -> bool:
    return all(path.is_file() and not path.is_symlink() and path.read_bytes() == data for path, data in files.items())


HEX62, HEX64 = "ab" * 31, "cd" * 32


@pytest.mark.parametrize("where", ["v1/ab", "v1-index", "v1-course/ab", "v1-course-latest"])
def test_a_cache_folder_with_a_link_is_not_used(cached, tmp_path, where):
    root, cache_dir, uncached = cached
    outside = precious(tmp_path / "outside", [HEX62, HEX64, "notes.txt"])
    link = cache_dir / where
    shutil.rmtree(link, ignore_errors=True)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(tmp_path / "outside", target_is_directory=True)
    result, engine = run(root, cache_dir)
    assert engine._cache is None and dump(result) == uncached
    (note,) = engine.cache_report()
    assert f"contains a symbolic link ({where})" in note and "running without the cache" in note
    assert intact(outside) and sorted(p.name for p in (tmp_path / "outside").iterdir()) == sorted(
        [HEX62, HEX64, "notes.txt"]
    )


def test_the_sweep_and_the_pruning_never_delete_through_a_link(tmp_path, monkeypatch):
    # Even when a link appears after the folder was checked: only regular files of the
    # cache's own naming, in real folders, are deleted.
    outside = precious(tmp_path / "outside", [HEX62, HEX64])
    monkeypatch.setattr(cache, "SWEEP_AFTER", 0)
    store = FileCache(tmp_path / "cache")
    store.put(FileCache.key("a"), 1)
    (store.entries / "ab").symlink_to(tmp_path / "outside", target_is_directory=True)
    (store.entries / "cd").mkdir()
    (store.entries / "cd" / HEX62).symlink_to(tmp_path / "outside" / HEX62)  # a linked entry
    store.opened_ns = 10**20  # everything is older than this run
    store.used.clear()
    assert store.sweep([], written=10, files=1) == 1  # the one real entry
    assert intact(outside) and (store.entries / "cd" / HEX62).is_symlink()
    assert store.get("cd" + HEX62) is None and store.rejected == 1  # a linked entry is never read
    stages = store.course_stages()
    stages.entries.mkdir(parents=True)
    (stages.entries / "ab").symlink_to(tmp_path / "outside", target_is_directory=True)
    stages.keep = 0
    stages._prune()
    assert intact(outside)
    index = RunIndex(tmp_path / "cache", tmp_path, "base", 0)
    index.path.parent.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(index.path.parent, ignore_errors=True)
    index.path.parent.symlink_to(tmp_path / "outside", target_is_directory=True)
    monkeypatch.setattr(runindex, "INDEXES_KEPT", 0)
    index._prune()
    assert intact(outside)


@pytest.mark.parametrize("name", ["CACHEDIR.TAG", ".gitignore"])
def test_tags_are_never_written_through_a_dangling_link(course, tmp_path, name):
    root = course(FILES)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    target = tmp_path / "outside" / "bashrc"
    (tmp_path / "outside").mkdir()
    (cache_dir / name).symlink_to(target)
    result, engine = run(root, cache_dir)
    assert not target.exists() and engine._cache is None
    assert f"contains a symbolic link ({name})" in engine.cache_report()[0]
    assert dump(result) == dump(run(root, None)[0])


def test_a_cache_folder_that_is_a_link_is_not_used(course, tmp_path, cli):
    root = course(FILES)
    outside = precious(tmp_path / "outside", ["notes.txt"])
    (root / ".coursecheck-cache").symlink_to(tmp_path / "outside", target_is_directory=True)
    code, _out, err = cli(root, "--no-plugins", "-v")
    assert code == 1
    assert ".coursecheck-cache is a symbolic link; the cache never reads or writes through one" in err
    assert intact(outside) and sorted(p.name for p in (tmp_path / "outside").iterdir()) == ["notes.txt"]
    # `cache clean` removes neither the link's target nor the link.
    code, _out, err = cli(root, "cache", "clean")
    assert code == 2 and "is a symbolic link, not a cache folder; not removed" in err
    assert intact(outside) and (root / ".coursecheck-cache").is_symlink()


def test_cache_clean_removes_links_inside_without_following_them(cached, tmp_path, cli):
    root, _cache_dir, _uncached = cached
    cli(root, "--no-plugins")
    outside = precious(tmp_path / "outside", [HEX62, "notes.txt"])
    (root / ".coursecheck-cache" / "v1" / "ab").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / ".coursecheck-cache" / "link-to-file").symlink_to(tmp_path / "outside" / "notes.txt")
    code, out, _err = cli(root, "cache", "clean")
    assert code == 0 and "removed" in out
    assert not (root / ".coursecheck-cache").exists() and intact(outside)


# -- cache keys -------------------------------------------------------------------------------


def _engine(root: Path) -> Engine:
    return Engine(load_config(root / ".coursecheck.toml", root), RunOptions(entry_points=False))


def test_a_dependency_upgrade_changes_the_cache_key(course, tmp_path, monkeypatch):
    root = course(FILES)
    engine = _engine(root)
    before = engine.run_key([], [])
    for name in ("regex", "markdown_it_py", "pymorphy3_dicts_ru", "ruamel.yaml", "jmespath", "networkx"):
        # What an upgrade leaves: another version's metadata folder, found first.
        site = tmp_path / f"site-{name}"
        (site / f"{name}-99.0.dist-info").mkdir(parents=True)
        monkeypatch.syspath_prepend(str(site))
        cache.dependency_versions.cache_clear()
        assert dict(cache.dependency_versions())[name.replace("_", "-")] == "99.0"
        after = engine.run_key([], [])
        assert after["coursecheck and plugins"] != before["coursecheck and plugins"], name
        assert {k: v for k, v in after.items() if k != "coursecheck and plugins"} == {
            k: v for k, v in before.items() if k != "coursecheck and plugins"
        }
        monkeypatch.undo()
        cache.dependency_versions.cache_clear()
        assert engine.run_key([], []) == before


def test_dependency_versions_are_those_importlib_metadata_reads():
    from importlib import metadata

    for name, version in cache.dependency_versions():
        try:
            expected = metadata.version(name)
        except metadata.PackageNotFoundError:
            expected = ""
        assert version == expected, name


PACKAGE_RULES = '''
from coursecheck import hookimpl
from coursecheck.rules import rule

from ccpkg_helpers_test.helpers import MESSAGE


@rule("team/helper-message", level="warning")
def helper_message(doc, ctx):
    """Reports the helper's message on each lesson."""
    ctx.report(doc, 0, 1, MESSAGE)


@hookimpl
def coursecheck_rules():
    return [helper_message]
'''


def test_editing_a_helper_module_of_a_plugin_package_invalidates_the_cache(course, tmp_path):
    files = {
        **FILES,
        "ccpkg_helpers_test/__init__.py": "",
        "ccpkg_helpers_test/rules.py": PACKAGE_RULES,
        "ccpkg_helpers_test/helpers.py": 'MESSAGE = "old message"\n',
    }
    root = course(files, config='plugins = ["ccpkg_helpers_test.rules"]\n' + textwrap.dedent(DEFAULT_CONFIG))
    cache_dir = tmp_path / "cache"

    def messages() -> tuple[list[str], Engine]:
        for name in [m for m in sys.modules if m.startswith("ccpkg_helpers_test")]:
            del sys.modules[name]  # a new process imports the package afresh
        try:
            result, engine = run(root, cache_dir, select=["team"])
        finally:
            sys.path[:] = [p for p in sys.path if p != str(root)]
        return [f.message for f in result.findings], engine

    assert messages()[0] == ["old message", "old message"]
    (root / "ccpkg_helpers_test/helpers.py").write_text('MESSAGE = "the new message"\n', "utf-8")
    found, engine = messages()
    assert found == ["the new message", "the new message"] and engine.cache_hits == 0


def test_every_file_of_a_plugin_package_is_in_the_fingerprint(tmp_path, monkeypatch):
    package = tmp_path / "ccpkg_fp_test"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "rules.py").write_text("X = 1\n")
    (package / "helpers.py").write_text("Y = 1\n")
    (package / "data" / "words.txt").write_text("слово\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module("ccpkg_fp_test.rules")
    try:
        labels = sorted(label for label, _path in cache.plugin_files(module))
        assert labels == ["__init__.py", "data/words.txt", "helpers.py", "rules.py"]
        before = cache.code_fingerprint([module])
        (package / "data" / "words.txt").write_text("слово\nещё одно\n")
        assert cache.code_fingerprint([module]) != before
    finally:
        for name in [m for m in sys.modules if m.startswith("ccpkg_fp_test")]:
            del sys.modules[name]


# -- shard artifacts --------------------------------------------------------------------------


@pytest.fixture
def artifact(course, tmp_path):
    """A course and the artifact of its one shard (cache on: the records' parts packed)."""
    root = course(FILES)
    engine = Engine(
        load_config(root / ".coursecheck.toml", root),
        RunOptions(entry_points=False, cache=True, cache_dir=tmp_path / "cache"),
    )
    made = engine.run_shard(1, 1)
    assert any(r.fields and "packed" in r.fields for r in made.results)
    path = tmp_path / "shard-1.ccshard"
    path.write_bytes(shard.dumps(made))
    return root, path


def forged(artifact_bytes: bytes, body: bytes, **header: object) -> bytes:
    """``artifact_bytes`` with its pickle replaced by ``body`` (and its header updated)."""
    fields = json.loads(artifact_bytes[len(shard.MAGIC) :].partition(b"\n")[0])
    fields.update({"body_size": len(body), **header})
    return shard.MAGIC + json.dumps(fields).encode() + b"\n" + zlib.compress(body)


def body_of(path: Path) -> tuple[list, list, list]:
    """The (files, results, notes) of an artifact we made (plain pickle: our own bytes)."""
    return pickle.loads(zlib.decompress(path.read_bytes()[len(shard.MAGIC) :].partition(b"\n")[2]))


def _str(text: str) -> bytes:
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data


def test_an_artifact_loads_and_merges_to_the_unsharded_findings(artifact):
    root, path = artifact
    loaded = shard.load(path)
    assert all(r.fields is None or "packed" not in r.fields for r in loaded.results)  # restored on reading
    engine = Engine(load_config(root / ".coursecheck.toml", root), RunOptions(entry_points=False))
    assert dump(engine.merge([loaded])) == dump(run(root, None)[0])


def test_the_dotted_name_gadget_is_refused(artifact, tmp_path, cli):
    root, path = artifact
    marker = tmp_path / "pwned"
    # ("coursecheck.report.build", "subprocess.Popen") is subprocess.Popen for protocol 4.
    gadget = (
        b"\x80\x04"
        + _str("coursecheck.report.build")
        + _str("subprocess.Popen")
        + b"\x93"
        + b"(("
        + _str("touch")
        + _str(str(marker))
        + b"ltR."
    )
    assert_runs_code(gadget, marker)
    path.write_bytes(forged(path.read_bytes(), gadget))
    code, _out, err = cli(root, "merge", str(path), "--no-plugins")
    assert code == 2
    assert (
        f"coursecheck: error: {path}: the artifact was not loaded: it contains "
        "coursecheck.report.build.subprocess.Popen, which a coursecheck shard never writes; not loaded"
    ) in err
    assert not marker.exists()


def test_coursechecks_own_classes_are_not_gadgets(artifact, tmp_path):
    root, path = artifact
    marker = tmp_path / "pwned"
    # RunIndex(folder, root, ...) unpickles a file of the checkout when built: a planted
    # index there would run code. It is not a data class: refused.
    folder = tmp_path / "planted"
    index_path = RunIndex(folder, root, "", 0, key=b"k").path
    index_path.parent.mkdir(parents=True)
    gadget = open_gadget(marker)
    index_path.write_bytes(b"coursecheck-index\0" + gadget + len(gadget).to_bytes(8, "little"))

    class Build:
        def __reduce__(self):
            return (RunIndex, (folder, root, "", 0))

    body = pickle.dumps(([], [Build()], []), protocol=pickle.HIGHEST_PROTOCOL)
    path.write_bytes(forged(path.read_bytes(), body, files=0))
    with pytest.raises(shard.ShardError, match=r"it contains coursecheck\.runindex\.RunIndex, which a coursecheck"):
        shard.load(path)
    assert not marker.exists()


def test_a_nested_packed_record_gadget_is_refused(artifact, tmp_path):
    _root, path = artifact
    marker = tmp_path / "pwned"
    gadget = system_gadget(marker)
    assert_runs_code(gadget, marker)
    files, results, notes = body_of(path)
    packed = next(r for r in results if r.fields and "packed" in r.fields)
    packed.fields["packed"][0] = gadget
    path.write_bytes(forged(path.read_bytes(), pickle.dumps((files, results, notes), protocol=5)))
    with pytest.raises(shard.ShardError, match=r"it contains (posix|os)\.system, which a coursecheck shard never"):
        shard.load(path)
    assert not marker.exists()


def test_a_zlib_bomb_is_refused_before_it_is_inflated(artifact, monkeypatch):
    _root, path = artifact
    bomb = b"\0" * (4 << 20)  # 4 MB of zeros: a ~4 KB body
    data = forged(path.read_bytes(), bomb)
    assert len(data) < 10_000
    path.write_bytes(data)
    with pytest.raises(shard.ShardError, match=r"states a body of 4,194,304 bytes, more than this merge reads"):
        shard.load(path, max_body=1 << 20)
    # More than 64x its compressed size (the floor lowered for the test): refused as well.
    monkeypatch.setattr(shard, "MIN_BODY_ALLOWED", 1 << 16)
    with pytest.raises(shard.ShardError, match=r"more than this merge reads \(\d[\d,]* bytes for a \d"):
        shard.load(path)
    # A header that understates the body: inflated up to what it states, then refused.
    path.write_bytes(forged(path.read_bytes(), bomb, body_size=1000))
    with pytest.raises(shard.ShardError, match=r"the artifact's body is larger than its header states \(1,000 bytes\)"):
        shard.load(path)


def test_a_memo_index_bomb_is_refused_before_it_is_loaded(artifact):
    # 12 bytes that make the C unpickler allocate (and clear) a memo table of 2**29 slots.
    _root, path = artifact
    bomb = b"\x80\x04]r" + (1 << 28).to_bytes(4, "little") + b"."
    path.write_bytes(forged(path.read_bytes(), bomb))
    with pytest.raises(shard.ShardError, match=r"the pickle opcode LONG_BINPUT at byte 3, which coursecheck never"):
        shard.load(path)


def test_shared_and_cyclic_data_are_refused(artifact):
    _root, path = artifact
    files, results, notes = body_of(path)
    dag: list = []
    for _ in range(64):
        dag = [dag, dag]  # 130 list objects; 2**64 visits for whoever walks it
    results[0].summary["x"] = dag
    path.write_bytes(forged(path.read_bytes(), pickle.dumps((files, results, notes), protocol=5)))
    with pytest.raises(shard.ShardError, match=r"objects \(counting shared ones each time they are used\)"):
        shard.load(path)
    cycle: list = []
    cycle.append(cycle)
    results[0].summary["x"] = cycle
    path.write_bytes(forged(path.read_bytes(), pickle.dumps((files, results, notes), protocol=5)))
    with pytest.raises(shard.ShardError, match=r"it holds a cycle"):
        shard.load(path)
    shared = "x" * 100_000
    results[0].summary["x"] = [shared] * 5_000  # 500 MB of text for a report quoting each
    path.write_bytes(forged(path.read_bytes(), pickle.dumps((files, results, notes), protocol=5)))
    with pytest.raises(shard.ShardError, match=r"characters of text \(counting shared ones\)"):
        shard.load(path)


def test_ill_typed_data_is_refused(artifact):
    _root, path = artifact
    files, results, notes = body_of(path)
    span = Span(1, 1, 1, 2, 1, 2)
    object.__setattr__(span, "line", "12")
    results[0].findings.append(Finding("core/x", "a message", results[0].relpath, span))
    path.write_bytes(forged(path.read_bytes(), pickle.dumps((files, results, notes), protocol=5)))
    with pytest.raises(shard.ShardError, match=r"it holds a str where int or bool belongs"):
        shard.load(path)
    results[0].findings.pop()
    results[0].fields = {"relpath": "x"}
    path.write_bytes(forged(path.read_bytes(), pickle.dumps((files, results, notes), protocol=5)))
    with pytest.raises(shard.ShardError, match=r"it holds a file's record without \["):
        shard.load(path)


PLUGIN_MODULE = "ccplugin_summaries_test"


@pytest.fixture
def plugin_class(monkeypatch):
    module = types.ModuleType(PLUGIN_MODULE)

    class Measure:
        def __init__(self, value: int) -> None:
            self.value = value

    Measure.__module__ = PLUGIN_MODULE
    Measure.__qualname__ = "Measure"
    module.Measure = Measure  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, PLUGIN_MODULE, module)
    return Measure


def test_plugin_classes_load_only_from_signed_artifacts(artifact, plugin_class, monkeypatch):
    _root, path = artifact
    files, results, notes = body_of(path)
    results[0].summary["team/measure"] = plugin_class(3)
    made = shard.ShardArtifact(
        1,
        1,
        json.loads(path.read_bytes()[len(shard.MAGIC) :].partition(b"\n")[0])["run_key"],
        files,
        results,
        notes=notes,
    )
    path.write_bytes(shard.dumps(made))
    with pytest.raises(shard.ShardError, match=rf"it contains {PLUGIN_MODULE}\.Measure, which a coursecheck shard"):
        shard.load(path, {PLUGIN_MODULE})
    key = b"k" * 32
    path.write_bytes(shard.dumps(made, key))
    loaded = shard.load(path, {PLUGIN_MODULE}, key=key)
    assert loaded.results[0].summary["team/measure"].value == 3
    with pytest.raises(shard.ShardError, match=rf"it contains {PLUGIN_MODULE}\.Measure"):
        shard.load(path, {PLUGIN_MODULE})  # signed, but this merge has no key: data only


def test_the_shard_key_signs_artifacts_and_the_merge_requires_it(course, tmp_path, cli, monkeypatch):
    root = course(FILES)
    artifact_path = tmp_path / "s1.ccshard"
    monkeypatch.setenv("COURSECHECK_SHARD_KEY", "a secret of these CI jobs")
    code, _out, err = cli(root, "--shard", "1/1", "-o", str(artifact_path), "--no-plugins")
    assert code == 0, err
    header = json.loads(artifact_path.read_bytes()[len(shard.MAGIC) :].partition(b"\n")[0])
    assert header["signed"] is True and len(header["mac"]) == 64
    code, _out, err = cli(root, "merge", str(artifact_path), "--no-plugins", "-f", "json")
    assert code == 1, err
    whole = cli(root, "--no-plugins", "-f", "json", "--no-cache")[1]
    assert (
        json.loads(cli(root, "merge", str(artifact_path), "--no-plugins", "-f", "json")[1])["findings"]
        == (json.loads(whole)["findings"])
    )
    # A byte changed after the shard job wrote it: refused.
    data = bytearray(artifact_path.read_bytes())
    data[-10] ^= 1
    artifact_path.write_bytes(bytes(data))
    code, _out, err = cli(root, "merge", str(artifact_path), "--no-plugins")
    assert code == 2 and "the artifact's signature does not match $COURSECHECK_SHARD_KEY" in err
    # An unsigned artifact (a job without the key, or a forged one): refused while the key is set.
    monkeypatch.delenv("COURSECHECK_SHARD_KEY")
    cli(root, "--shard", "1/1", "-o", str(artifact_path), "--no-plugins")
    monkeypatch.setenv("COURSECHECK_SHARD_KEY", "a secret of these CI jobs")
    code, _out, err = cli(root, "merge", str(artifact_path), "--no-plugins")
    assert code == 2 and "the artifact is not signed, and $COURSECHECK_SHARD_KEY is set here" in err
    # Without the key (a fork's pull request: no secrets) the merge loads it as data.
    monkeypatch.setenv("COURSECHECK_SHARD_KEY", "")
    assert cli(root, "merge", str(artifact_path), "--no-plugins")[0] == 1
    monkeypatch.setenv("COURSECHECK_SHARD_KEY", "short")
    code, _out, err = cli(root, "merge", str(artifact_path), "--no-plugins")
    assert code == 2 and "$COURSECHECK_SHARD_KEY is set but shorter than 16 characters" in err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=4), cut=st.booleans()
)
def test_a_damaged_artifact_body_is_a_clear_error_or_plain_data(artifact, edits, cut):
    """Bytes of a real artifact's pickle changed at random: loading it either gives plain
    data of the model or a ShardError naming the file, never another exception."""
    _root, path = artifact
    original = path.with_suffix(".original")
    if not original.exists():
        shutil.copy(path, original)
    data = original.read_bytes()
    raw = bytearray(zlib.decompress(data[len(shard.MAGIC) :].partition(b"\n")[2]))
    for position, value in edits:
        raw[position % len(raw)] = value
    if cut:
        del raw[len(raw) // 2 :]
    path.write_bytes(forged(data, bytes(raw)))
    try:
        loaded = shard.load(path)
    except shard.ShardError as exc:
        assert str(exc).startswith(f"{path}: ")
    else:
        assert len(loaded.results) == len(loaded.files)


def test_the_scanner_accepts_what_the_pickler_writes():
    # Everything the model's data can hold, written by the pickler at protocols 4 and 5.
    from coursecheck.model import Edit, Fix

    span = Span(1, 2, 3, 4, 5, 6)
    value = [
        "текст" * 100,
        "x" * 70_000,
        b"\x00\x01" * 200,
        2**100,
        -(2**70),
        -1,
        70_000,
        3.5,
        float("inf"),
        True,
        None,
        (1,),
        (1, 2),
        (1, 2, 3),
        (1, 2, 3, 4),
        {1, 2},
        frozenset({3}),
        {"k": [span, span]},
        Path("a/b"),
        Finding("a/b", "m", "p.md", span, fix=Fix("d", [Edit(span, "r")])),
    ]
    for protocol in (4, 5):
        data = pickle.dumps(value, protocol=protocol)
        loaded, _ = safepickle.loads(data)
        assert loaded == value
        safepickle.validate(loaded, safepickle.ANY, max_visits=10_000, max_text=10**6)


# -- every store, random content --------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A course, its uncached findings, and a cache folder after three runs (a run index
    whose head names a base results and parts segment and, after an edit, a delta one each;
    course stages and latest pointers); copied for each example."""
    root = tmp_path_factory.mktemp("store-course")
    # More lessons than the edit below changes: its save leaves the old segments as they are
    # (a one-lesson edit of two would leave half of them garbage: compacted).
    extra = {f"content/02-module-2/{n:02d}-more.md": f"# Ещё урок {n}\n\nTODO: дописать.\n" for n in range(1, 7)}
    for rel, text in {**FILES, **extra}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    (root / ".coursecheck.toml").write_text(textwrap.dedent(DEFAULT_CONFIG), "utf-8")
    for path in root.rglob("*.md"):
        os.utime(path, ns=(10**18, 10**18))  # long before the runs: the index vouches for them
    cache_dir = tmp_path_factory.mktemp("store-cache") / "cache"
    saved = runindex.RACY_NS
    runindex.RACY_NS = -(10**19)
    try:
        run(root, cache_dir)
        lesson = root / "content/01-module-1/03-next.md"
        lesson.write_text(lesson.read_text("utf-8") + "\nЕщё одна строка.\n", "utf-8")
        run(root, cache_dir)  # the edited lesson's result and parts in segments of their own
        _, engine = run(root, cache_dir)
    finally:
        runindex.RACY_NS = saved
    assert engine.cache_hits == 8
    index = cache_dir / runindex.FOLDER
    assert len(list(index.glob("*.results"))) == len(list(index.glob("*.parts"))) == 2
    return root, cache_dir, dump(run(root, None)[0])


def _random_pickle(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


PAYLOADS = st.one_of(
    st.binary(max_size=300),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.binary(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
        max_leaves=10,
    ).map(_random_pickle),
)
# A store's folder, and for the run index which of its files (the head, a results or a
# parts segment: each kind gets its share of the examples).
STORES = ["v1", "v1-index:head", "v1-index:results", "v1-index:parts", "v1-course", "v1-course-latest"]


def _store_files(cache_dir: Path, store: str) -> list[Path]:
    folder, _, kind = store.partition(":")
    files = sorted(p for p in (cache_dir / folder).rglob("*") if p.is_file() and not p.name.startswith("."))
    if kind:
        files = [p for p in files if (p.suffix == f".{kind}") or (kind == "head" and "." not in p.name)]
    return files


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plants=st.lists(
        st.tuples(st.sampled_from(STORES), st.integers(min_value=0, max_value=5), PAYLOADS, st.integers(0, 3)),
        min_size=1,
        max_size=6,
    )
)
@pytest.mark.slow
def test_random_content_in_every_store_gives_the_uncached_findings(pristine, tmp_path_factory, plants):
    root, source, uncached = pristine
    cache_dir = tmp_path_factory.mktemp("store-example") / "cache"
    shutil.copytree(source, cache_dir, symlinks=True)
    marker = cache_dir.parent / "pwned"
    for store, which, payload, form in plants:
        files = _store_files(cache_dir, store)
        assert files, store
        target = files[which % len(files)]
        if form == 0:
            data = payload  # random bytes, or a random pickle
        elif form == 1:
            data = forged_entry(payload)  # with the right header and a made-up MAC
        elif form == 2:
            data = target.read_bytes()[: max(1, len(payload))]  # an authentic entry, truncated
        else:
            data = forged_entry(system_gadget(marker))
        target.write_bytes(data)
    saved = runindex.RACY_NS
    runindex.RACY_NS = -(10**19)
    try:
        result, _engine = run(root, cache_dir)
    finally:
        runindex.RACY_NS = saved
    assert not marker.exists()
    assert dump(result) == uncached


@pytest.mark.slow
def test_subprocess_runs_see_the_same(cached, tmp_path):
    """A separate process (what a user or pre-commit runs) rejects a planted entry too."""
    root, _cache_dir, _uncached = cached
    env = {**os.environ, "NO_COLOR": "1"}
    first = subprocess.run(
        [sys.executable, "-m", "coursecheck", "--no-plugins", "-f", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    marker = tmp_path / "pwned"
    for entry in entries(root / ".coursecheck-cache" / "v1"):
        entry.write_bytes(forged_entry(system_gadget(marker)))
    shutil.rmtree(root / ".coursecheck-cache" / "v1-index", ignore_errors=True)
    assert first.returncode == 1, first.stderr
    second = subprocess.run(
        [sys.executable, "-m", "coursecheck", "--no-plugins", "-f", "json", "-v"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert not marker.exists()
    assert json.loads(second.stdout)["findings"] == json.loads(first.stdout)["findings"]
    assert "the cache rejected 2 stored entries (file cache 2)" in second.stderr
