"""`coursecheck init` writes a starter config that runs without edits."""

from __future__ import annotations

import shutil

from conftest import REPO


def test_init_on_the_demo_course_runs_without_edits(tmp_path, cli):
    shutil.copytree(REPO / "examples" / "course", tmp_path / "course")
    root = tmp_path / "course"
    code, _out, err = cli(root, "init")
    assert code == 0, err
    config = (root / ".coursecheck.toml").read_text(encoding="utf-8")
    assert 'content = ["content/course/**/*.{md,mdx}"]' in config
    assert 'data = ["data/*.json"]' in config
    # Prerequisites drop the module's number; links use site routes: both detected.
    assert 'aliases = ["{dir|unnumbered}/{stem}", "/course/{path}"]' in config
    code, out, err = cli(root)
    assert code in (0, 1), err
    assert "configuration error" not in err
    assert "Checked 10 files" in out
    # A second init refuses to overwrite.
    code, _out, err = cli(root, "init")
    assert code == 2 and "already exists" in err


def test_init_on_an_empty_folder(tmp_path, cli):
    code, _out, _err = cli(tmp_path, "init")
    assert code == 0, _err
    code, out, err = cli(tmp_path)
    assert code == 0, err
    assert "Checked 0 files" in out


def test_init_order_from_frontmatter_when_files_are_not_numbered(tmp_path, cli):
    for name, order in (("intro", 1), ("basics", 2), ("advanced", 3)):
        (tmp_path / "docs").mkdir(exist_ok=True)
        (tmp_path / "docs" / f"{name}.md").write_text(f"---\ntitle: {name}\norder: {order}\n---\n# {name}\n")
    code, out, _ = cli(tmp_path, "init", "--stdout")
    assert code == 0
    assert 'order = "frontmatter"' in out
    assert 'content = ["docs/**/*.md"]' in out


def test_init_on_a_docs_site_with_lessons_in_several_top_folders(tmp_path, cli):
    (tmp_path / "docs").mkdir()
    (tmp_path / "blog").mkdir()
    (tmp_path / "docs" / "intro.md").write_text("---\ntitle: Введение\n---\n# Введение\n", encoding="utf-8")
    (tmp_path / "blog" / "post.md").write_text("---\ntitle: Пост\n---\n# Пост\n", encoding="utf-8")
    code, out, _ = cli(tmp_path, "init", "--stdout")
    assert code == 0
    assert 'content = ["**/*.md"]' in out
