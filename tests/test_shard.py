"""Sharded runs (``check --shard K/N`` + ``merge``) give the reports of an unsharded run,
byte for byte; artifacts that do not belong together are refused with a clear message."""

from __future__ import annotations

import json
import pickle
import random
import shutil
import zlib
from pathlib import Path

import pytest

from coursecheck import shard
from coursecheck.config import load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.report import ReportOptions
from tests.conftest import REPO

STAMP = "2026-01-01T00:00:00Z"
FORMATS = {"sarif": "cc.sarif", "markdown": "VERIFICATION.md", "json": "cc.json"}


def demo_copy(root: Path, modules: int = 2) -> Path:
    """The demo course (config, lessons, data, components); with ``modules`` > 2 its two
    modules are repeated as modules 3, 4, ... (a large course with the same defects)."""
    root.mkdir()
    shutil.copy(REPO / ".coursecheck.toml", root / ".coursecheck.toml")
    shutil.copytree(REPO / "examples" / "course", root / "examples" / "course")
    lessons = root / "examples" / "course" / "content" / "course"
    originals = sorted(p for p in lessons.iterdir() if p.is_dir())
    for number in range(len(originals) + 1, modules + 1):
        source = originals[(number - 1) % len(originals)]
        shutil.copytree(source, lessons / f"{number:02d}-module-{number}")
    return root


def sharded_and_whole(cli, root: Path, total: int = 3, *extra: str) -> dict[str, tuple[bytes, bytes]]:
    """Each format written by an unsharded run and by ``total`` shards merged."""
    artifacts = []
    for k in range(1, total + 1):
        artifact = root.parent / f"shard-{k}.ccshard"
        code, _out, err = cli(root, "--shard", f"{k}/{total}", "-o", str(artifact), "--no-cache", *extra)
        assert code == 0, err
        assert f"shard {k}/{total}: checked" in err
        artifacts.append(str(artifact))
    out: dict[str, tuple[bytes, bytes]] = {}
    for fmt, name in FORMATS.items():
        whole, merged = root.parent / f"whole-{name}", root.parent / f"merged-{name}"
        code_whole, _, err = cli(root, "-f", fmt, "-o", str(whole), "--timestamp", STAMP, "--no-cache", *extra)
        code_merged, _, err_merged = cli(
            root,
            "merge",
            *reversed(artifacts),
            "-f",
            fmt,
            "-o",
            str(merged),
            "--timestamp",
            STAMP,
            "--no-cache",
            *extra,
        )
        assert code_merged == code_whole, (err, err_merged)
        out[fmt] = (whole.read_bytes(), merged.read_bytes())
    return out


def test_demo_course_three_shards_merge_to_the_unsharded_reports(cli, tmp_path: Path) -> None:
    root = demo_copy(tmp_path / "repo")
    outputs = sharded_and_whole(cli, root)
    for fmt, (whole, merged) in outputs.items():
        assert merged == whole, fmt
    sarif = outputs["sarif"][0].decode("utf-8")
    # The reports are not empty: the demo's deliberate defects, course-wide ones included.
    assert '"ruleId": "graph/unresolved-reference"' in sarif
    assert '"ruleId": "terminology/unused-term"' in sarif
    assert "## Key Link Verification" in outputs["markdown"][0].decode("utf-8")


@pytest.mark.slow
def test_generated_large_course_three_shards_with_workers(cli, tmp_path: Path) -> None:
    # 60 modules x 4 lessons: the unsharded run parses in 2 worker processes (200 files or
    # more) and keeps the full parses for the course stage; each shard of 80 runs in one
    # process and the merge has only records (course rules parse again what they read).
    root = demo_copy(tmp_path / "repo", modules=60)
    assert len(list((root / "examples/course/content/course").rglob("*.md*"))) == 240
    artifacts = [shard.load(path) for path in _shards(cli, root, 3, "-j", "2")]  # written by the CLI, as in CI
    config = load_config(root / ".coursecheck.toml", root)
    whole_engine = Engine(config, RunOptions(jobs=2))
    whole = whole_engine.run()
    merged_engine = Engine(load_config(root / ".coursecheck.toml", root), RunOptions(jobs=2))
    merged = merged_engine.merge(artifacts)
    assert whole_engine.course is not None and merged_engine.reparsed > 0
    reporters = whole_engine.reporters()
    options = ReportOptions(timestamp=STAMP)
    for fmt in FORMATS:
        assert reporters[fmt](merged, options) == reporters[fmt](whole, options), fmt
    # Course-wide findings land in lessons of every shard (each copy of the demo's broken
    # prerequisite is reported in its own lesson).
    broken = {f.path for f in merged.active if f.rule_id == "graph/unresolved-reference"}
    for artifact in artifacts:
        assert broken & {rel for rel, _role, _digest in artifact.files}


def _shards(cli, root: Path, total: int = 3, *extra: str) -> list[Path]:
    paths = []
    for k in range(1, total + 1):
        path = root.parent / f"s{k}-of-{total}.ccshard"
        code, _, err = cli(root, "--shard", f"{k}/{total}", "-o", str(path), "--no-cache", *extra)
        assert code == 0, err
        paths.append(path)
    return paths


@pytest.mark.slow
def test_merge_refuses_missing_duplicate_and_mismatched_shards(cli, tmp_path: Path) -> None:
    root = demo_copy(tmp_path / "repo")
    s1, s2, s3 = _shards(cli, root)
    code, _, err = cli(root, "merge", str(s1), str(s3))
    assert (code, err.strip()) == (2, "coursecheck: error: missing shard 2/3; nothing was merged")
    code, _, err = cli(root, "merge", str(s1), str(s2), str(s2), str(s3))
    assert (code, err.strip()) == (2, "coursecheck: error: shard 2/3 given more than once; nothing was merged")
    code, _, err = cli(root, "merge", str(s1), str(s2), str(s3), "--select", "mermaid")
    assert code == 2
    assert "shard 1/3 was made with different rules selected than this merge" in err
    (two,) = _shards(cli, root, 1)[:1]
    code, _, err = cli(root, "merge", str(s1), str(two))
    assert code == 2 and "shard 1/1 is from a split into 1, not 3" in err


def test_merge_refuses_a_changed_config_file_or_checkout(cli, tmp_path: Path) -> None:
    root = demo_copy(tmp_path / "repo")
    shards = [str(p) for p in _shards(cli, root)]
    lesson = root / "examples/course/content/course/01-module-1/02-images-and-layers.mdx"
    original = lesson.read_bytes()
    lesson.write_bytes(original + b"\nOne more line.\n")
    code, _, err = cli(root, "merge", *shards)
    assert code == 2
    assert "examples/course/content/course/01-module-1/02-images-and-layers.mdx has changed since shard" in err
    lesson.write_bytes(original)
    extra = root / "examples/course/content/course/01-module-1/05-new-lesson.md"
    extra.write_text("# New\n", encoding="utf-8")
    code, _, err = cli(root, "merge", *shards)
    assert code == 2
    assert "not in any shard: examples/course/content/course/01-module-1/05-new-lesson.md" in err
    extra.unlink()
    glossary = root / "examples/course/data/glossary.json"
    glossary.write_bytes(glossary.read_bytes().replace(b"\n", b"\n ", 1))
    code, _, err = cli(root, "merge", *shards)
    assert code == 2 and "was made with different data files than this merge" in err
    config = root / ".coursecheck.toml"
    glossary.write_bytes(glossary.read_bytes().replace(b"\n ", b"\n", 1))
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("min = 1 }   # every lesson", "min = 2 }   # every lesson"), encoding="utf-8")
    code, _, err = cli(root, "merge", *shards)
    assert code == 2 and "was made with different config than this merge" in err


def test_damaged_and_foreign_artifacts_are_refused_without_running_them(cli, tmp_path: Path) -> None:
    root = demo_copy(tmp_path / "repo")
    s1, s2, s3 = _shards(cli, root)
    data = s2.read_bytes()
    s2.write_bytes(data[: len(data) // 2])  # a truncated download
    code, _, err = cli(root, "merge", str(s1), str(s2), str(s3))
    assert code == 2 and f"{s2}: the artifact is damaged" in err
    s2.write_bytes(b"{}")
    code, _, err = cli(root, "merge", str(s1), str(s2), str(s3))
    assert code == 2 and "not a coursecheck shard artifact" in err
    # A crafted artifact whose pickle calls a function: refused, the function never runs.
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    s2.write_bytes(forged(data, pickle.dumps(([], [Evil()], []))))
    code, _, err = cli(root, "merge", str(s1), str(s2), str(s3))
    assert code == 2 and "pathlib.Path.touch, which a coursecheck shard never writes; not loaded" in err
    assert not marker.exists()
    # A coursecheck function (not a class) is refused as well, and so is protocol 0's GLOBAL.
    from coursecheck.fsutil import atomic_write

    s2.write_bytes(forged(data, pickle.dumps(atomic_write, protocol=4)))
    code, _, err = cli(root, "merge", str(s1), str(s2), str(s3))
    assert code == 2 and "coursecheck.fsutil.atomic_write, which a coursecheck shard never writes" in err
    s2.write_bytes(forged(data, b"ccoursecheck.fsutil\natomic_write\n."))
    code, _, err = cli(root, "merge", str(s1), str(s2), str(s3))
    assert code == 2 and "the pickle opcode GLOBAL at byte 0, which coursecheck never writes" in err


def forged(artifact: bytes, body: bytes) -> bytes:
    """``artifact`` with its pickle replaced by ``body`` (the header's body size updated)."""
    header = json.loads(artifact[len(shard.MAGIC) :].partition(b"\n")[0])
    header["body_size"] = len(body)
    return shard.MAGIC + json.dumps(header).encode() + b"\n" + zlib.compress(body)


def test_another_version_is_refused(cli, tmp_path: Path) -> None:
    root = demo_copy(tmp_path / "repo")
    s1, s2, s3 = _shards(cli, root)
    data = s3.read_bytes().replace(b'"coursecheck": "', b'"coursecheck": "9', 1)
    s3.write_bytes(data)
    code, _, err = cli(root, "merge", str(s1), str(s2), str(s3))
    assert code == 2
    assert "written by coursecheck 9" in err and "run the shards and the merge with the same coursecheck" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "4/3", "-o", "x"], "--shard '4/3': expected K/N with 1 <= K <= N, e.g. 2/3"),
        (["--shard", "two", "-o", "x"], "--shard 'two': expected K/N, e.g. 2/3"),
        (["--shard", "1/3"], "--shard needs --output FILE: where to write the shard's artifact"),
        (["--shard", "1/3", "-o", "x", "-f", "sarif"], "--shard writes an artifact, not a report"),
        (["--shard", "1/3", "-o", "x", "--fix"], "go with `coursecheck merge`, not --shard"),
        (["--shard", "1/3", "-o", "x", "README.md"], "--shard checks its share of the whole course; give no PATHS"),
        (["merge", "a", "--fix"], "unrecognized arguments: --fix"),
    ],
)
def test_shard_usage_errors(cli, tmp_path: Path, args: list[str], message: str) -> None:
    root = demo_copy(tmp_path / "repo")
    code, _, err = cli(root, *args)
    assert code == 2
    assert message in err
    assert not (root / "x").exists()


def test_assignment_is_deterministic_complete_and_balanced() -> None:
    rng = random.Random(7)
    # Lesson-like sizes: most 5-25 KiB, a few very long ones.
    sizes = {f"content/{i // 20:03d}/{i % 20:02d}-lesson.mdx": rng.randint(5_000, 25_000) for i in range(5000)}
    for rel in list(sizes)[::500]:
        sizes[rel] = 400_000
    shards = shard.assign(sizes, 3)
    assert sorted(rel for s in shards for rel in s) == sorted(sizes)  # each file exactly once
    shuffled = dict(rng.sample(list(sizes.items()), len(sizes)))
    again = shard.assign(shuffled, 3)
    assert [sorted(s) for s in again] == [sorted(s) for s in shards]  # order of discovery does not matter
    assert shard.balance(sizes, 3) <= 1.01
    assert shard.balance(sizes, 8) <= 1.02
    # Fewer files than shards: the extra shards are empty, not an error.
    assert shard.assign({"a.md": 10}, 3) == [["a.md"], [], []]


def test_an_empty_shard_merges(cli, tmp_path: Path) -> None:
    root = demo_copy(tmp_path / "repo")
    shards = _shards(cli, root, 12)  # 8 lessons: four shards get no file
    code_whole, out_whole, _ = cli(root, "--no-cache", "-f", "json")
    code, out, err = cli(root, "merge", *map(str, shards), "--no-cache", "-f", "json")
    assert code == code_whole == 1, err
    assert out == out_whole


def _run_steps(steps: list[dict], cwd: Path, env: dict[str, str], matrix: dict[str, str]) -> dict[str, int]:
    """The job's `run:` steps as GitHub's runner runs them (bash -eo pipefail), with
    `${{ matrix.X }}` substituted; the install step is skipped (coursecheck is installed)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, **env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    outcomes: dict[str, int] = {}
    for step in steps:
        if "run" not in step or step["run"].startswith("pip install"):
            continue
        script = step["run"]
        for key, value in matrix.items():
            script = script.replace("${{ matrix." + key + " }}", value)
        assert "${{" not in script, script
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        outcomes[step.get("id") or step["name"]] = done.returncode
    return outcomes


@pytest.mark.slow
def test_the_sharded_workflow_runs_on_the_demo_course(tmp_path: Path) -> None:
    import json

    from ruamel.yaml import YAML

    workflow_path = REPO / "docs" / "examples" / "github-sharded.yml"
    text = workflow_path.read_text(encoding="utf-8")
    assert f"```yaml\n{text}```" in (REPO / "docs" / "sharding.md").read_text(encoding="utf-8")
    jobs = YAML(typ="safe").load(text)["jobs"]
    root = demo_copy(tmp_path / "repo")
    downloaded = root / "shards"  # download-artifact with merge-multiple: every file in one folder
    shard_job = jobs["shard"]
    upload = next(s for s in shard_job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    for k in shard_job["strategy"]["matrix"]["shard"]:
        outcomes = _run_steps(shard_job["steps"], root, {"CI": "true"}, {"shard": str(k)})
        assert set(outcomes.values()) == {0}, outcomes
        produced = root / upload["with"]["path"].replace("${{ matrix.shard }}", str(k))
        downloaded.mkdir(exist_ok=True)
        produced.rename(downloaded / produced.name)
    merge_job = jobs["merge"]
    assert merge_job["needs"] == "shard"
    download = next(s for s in merge_job["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    assert download["with"]["path"] == "shards" and download["with"]["merge-multiple"] is True
    summary = tmp_path / "summary.md"
    outcomes = _run_steps(merge_job["steps"], root, {"CI": "true", "GITHUB_STEP_SUMMARY": str(summary)}, {})
    assert outcomes["check"] == 1  # the demo's defects; continue-on-error lets the upload run
    assert outcomes["Verification report in the job summary"] == 0
    assert outcomes["Fail on findings"] == 1
    assert "status: gaps_found" in summary.read_text(encoding="utf-8")
    # The uploaded SARIF is the unsharded run's (apart from the time it was made), run by
    # the same installed command.
    whole_step = {"name": "whole", "run": f"coursecheck --format sarif --output {tmp_path / 'whole.sarif'}"}
    assert _run_steps([whole_step], root, {"CI": "true"}, {}) == {"whole": 1}
    merged = json.loads((root / "coursecheck.sarif").read_text(encoding="utf-8"))
    whole = json.loads((tmp_path / "whole.sarif").read_text(encoding="utf-8"))
    for log in (merged, whole):
        for invocation in log["runs"][0]["invocations"]:
            invocation.pop("endTimeUtc", None)
    assert merged == whole
    assert merged["runs"][0]["results"]
