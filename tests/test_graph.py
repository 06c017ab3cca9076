"""The course graph: graph/* rules (failing and passing fixtures), exports, the graph command."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, REPO, check, lint, where, write_files

from coursecheck.config import Config, CourseConfig, load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.graph import course_graph, lesson_href, networkx, settings_from


def lesson(title: str, prerequisites: list[str] | None = None, body: str = "Текст урока.\n") -> str:
    head = f'---\ntitle: "{title}"\n'
    if prerequisites is not None:
        head += f"prerequisites: {json.dumps(prerequisites)}\n"
    return head + "---\n\n" + body


def chain(**overrides: str) -> dict[str, str]:
    """Three lessons in two modules, each requiring the one before: the passing baseline."""
    files = {
        "content/01-m/01-a.md": lesson("A", []),
        "content/01-m/02-b.md": lesson("B", ["m/01-a"]),
        "content/02-n/01-c.md": lesson("C", ["m/02-b"]),
    }
    files.update(overrides)
    return files


GRAPH = ["graph"]


def test_clean_chain_has_no_graph_findings(tmp_path):
    assert where(lint(tmp_path, chain(), select=GRAPH)) == []


# -- graph/unresolved-reference ---------------------------------------------------------------


def test_unresolved_prerequisite_at_its_list_item_with_suggestions(tmp_path):
    findings = lint(tmp_path, chain(**{"content/02-n/01-c.md": lesson("C", ["m/01-a", "m/02-bb"])}), select=GRAPH)
    # prerequisites: ["m/01-a", "m/02-bb"] -- the second item starts at column 27 (its quote).
    assert where(findings) == [("graph/unresolved-reference", "content/02-n/01-c.md", 3, 27)]
    assert findings[0].message == ("prerequisite 'm/02-bb' names no lesson of the course; did you mean 'm/02-b'?")
    assert findings[0].level == "error"


def test_unresolved_markdown_and_jsx_links(tmp_path):
    body = (
        "См. [урок B](/course/01-m/02-b) и [урок X](/course/01-m/09-x).\n\n"
        '<Card href="/course/02-n/07-zz" title="Z" />\n'
    )
    findings = lint(tmp_path, chain(**{"content/02-n/01-c.mdx": lesson("C", ["m/02-b"], body)}), select=GRAPH)
    findings = [f for f in findings if f.path.endswith(".mdx")]
    assert where(findings) == [
        ("graph/unresolved-reference", "content/02-n/01-c.mdx", 6, 44),
        ("graph/unresolved-reference", "content/02-n/01-c.mdx", 8, 13),
    ]
    assert findings[0].message.startswith("link '/course/01-m/09-x' leads to no lesson of the course; did you mean")


def test_links_that_are_not_lesson_references_are_ignored(tmp_path):
    body = (
        "[сайт](https://docker.com), [почта](mailto:a@b.c), [раздел](#итоги), [урок](/course/01-m/01-a#x),\n"
        "[схема](/course/img/flow.png), [PDF](../files/cheatsheet.pdf), [главная](/about),\n"
        "[файл урока](../01-m/01-a.md), [относительно](./01-c), ![картинка](./pic.svg), [курс](/course/).\n\n"
        "<a href={`/course/${slug}`}>динамическая ссылка</a>\n\n## Ссылки\n"
    )
    files = chain(**{"content/02-n/01-c.mdx": lesson("C", ["m/02-b"], body)})
    files["content/01-m/01-a.md"] = lesson("A", [], "## Начало\n")
    findings = lint(tmp_path, files, select=GRAPH)
    # Only the two fragments naming no heading of a page that has headings are reported
    # (graph/unresolved-anchor).
    assert where(findings) == [
        ("graph/unresolved-anchor", "content/02-n/01-c.mdx", 6, 61),
        ("graph/unresolved-anchor", "content/02-n/01-c.mdx", 6, 77),
    ]


def test_lesson_href_classification():
    config = Config(None, Path("."), course=CourseConfig(aliases=["{dir|unnumbered}/{stem}", "/course/{path}"]))
    settings = settings_from(config)
    assert settings.routes == ("/course/",)
    assert lesson_href("/course/01-m/02-b/", settings) == ("/course/01-m/02-b/", True)
    assert lesson_href("/course/01-m/02-b#part?x", settings) == ("/course/01-m/02-b", True)
    assert lesson_href("../01-m/01-a.mdx", settings) == ("../01-m/01-a.mdx", True)
    assert lesson_href("/blog/post", settings) is None
    assert lesson_href("/course/logo.svg", settings) is None
    assert lesson_href("HTTPS://example.com/course/x", settings) is None
    assert lesson_href("tel:+7000", settings) is None


# -- graph/missing-data-reference ---------------------------------------------------------------


GLOSSARY = """[
  {
    "term": "Образ",
    "relatedLessons": [
      { "slug": "m/01-a", "title": "A" },
      { "slug": "m/01-aa", "title": "Нет такого" }
    ]
  }
]
"""


def test_data_reference_to_a_missing_lesson(tmp_path):
    files = chain(**{"data/glossary.json": GLOSSARY, "data/quiz.yaml": "quizzes:\n  - lesson: m/02-b\n"})
    findings = lint(tmp_path, files, select=GRAPH)
    assert where(findings) == [("graph/missing-data-reference", "data/glossary.json", 6, 17)]
    assert findings[0].message == (
        "[0].relatedLessons[1].slug 'm/01-aa' names no lesson of the course; did you mean 'm/01-a'?"
    )


def test_data_references_that_resolve_and_custom_keys(tmp_path):
    config = DEFAULT_CONFIG + '\n[graph]\ndata-keys = ["lessonId"]\n'
    files = chain(**{"data/quiz.yaml": "quizzes:\n  - lessonId: m/02-b\n  - lessonId: m/07-q\n    slug: m/none\n"})
    findings = lint(tmp_path, files, config=config, select=GRAPH)
    # Only the configured key is a reference: "slug" is not read any more.
    assert where(findings) == [("graph/missing-data-reference", "data/quiz.yaml", 3, 15)]


# -- graph/prerequisite-cycle -----------------------------------------------------------------


def test_cycle_reported_once_at_the_forward_prerequisite_with_the_whole_cycle(tmp_path):
    files = chain(**{"content/01-m/01-a.md": lesson("A", ["n/01-c"])})
    findings = lint(tmp_path, files, select=["graph/prerequisite-cycle"])
    assert where(findings) == [("graph/prerequisite-cycle", "content/01-m/01-a.md", 3, 17)]
    assert findings[0].message == "prerequisite cycle: m/01-a → n/01-c → m/02-b → m/01-a"
    assert [(p, s.line, s.column) for p, s, _ in findings[0].related] == [
        ("content/02-n/01-c.md", 3, 17),
        ("content/01-m/02-b.md", 3, 17),
    ]


def test_lesson_listing_itself_is_a_cycle(tmp_path):
    files = chain(**{"content/01-m/02-b.md": lesson("B", ["m/02-b"])})
    findings = lint(tmp_path, files, select=["graph/prerequisite-cycle"])
    assert where(findings) == [("graph/prerequisite-cycle", "content/01-m/02-b.md", 3, 17)]
    assert findings[0].message == "prerequisite cycle: m/02-b → m/02-b"


# -- graph/later-prerequisite -----------------------------------------------------------------


def test_prerequisite_later_in_course_order(tmp_path):
    files = chain(**{"content/01-m/02-b.md": lesson("B", ["m/01-a", "n/01-c"])})
    findings = lint(tmp_path, files, select=["graph/later-prerequisite"])
    assert where(findings) == [("graph/later-prerequisite", "content/01-m/02-b.md", 3, 27)]
    assert findings[0].message == (
        "prerequisite 'n/01-c' comes later in course order (lesson 3 of 3) than this lesson (lesson 2 of 3)"
    )
    assert findings[0].level == "warning"


def test_course_order_from_frontmatter_field(tmp_path):
    # With order = "frontmatter", C (order 2) comes before B (order 3) inside one folder.
    config = DEFAULT_CONFIG.replace('id = "{path}"', 'id = "{path}"\norder = "frontmatter"')
    files = {
        "content/01-m/01-a.md": '---\ntitle: "A"\norder: 1\n---\n\nТекст.\n',
        "content/01-m/02-b.md": '---\ntitle: "B"\norder: 3\nprerequisites: ["m/03-c"]\n---\n\nТекст.\n',
        "content/01-m/03-c.md": '---\ntitle: "C"\norder: 2\nprerequisites: ["m/01-a"]\n---\n\nТекст.\n',
    }
    assert where(lint(tmp_path, files, config=config, select=["graph/later-prerequisite"])) == []


# -- graph/orphan-lesson ----------------------------------------------------------------------


def test_orphan_lesson_where_the_unreachable_part_begins(tmp_path):
    files = chain(
        **{
            "content/02-n/02-c.md": lesson("C", []),
            "content/02-n/03-d.md": lesson("D", ["n/02-c"]),
        }
    )
    findings = lint(tmp_path, files, select=["graph/orphan-lesson"])
    # Reported at the `prerequisites` key of C (line 3); D is reachable only through C.
    assert where(findings) == [("graph/orphan-lesson", "content/02-n/02-c.md", 3, 1)]
    assert findings[0].message == (
        "lesson cannot be reached from the course start 'm/01-a': it lists no prerequisite and no lesson "
        "links to it; 1 more lesson reachable only through it"
    )


def test_a_modules_first_lesson_follows_the_module_before_it(tmp_path):
    # Course order is a path: module n's first lesson lists no prerequisite, yet a reader
    # comes to it from module m's last lesson.
    files = chain(**{"content/02-n/01-c.md": lesson("C", []), "content/02-n/02-d.md": lesson("D", ["n/01-c"])})
    assert where(lint(tmp_path, files, select=["graph/orphan-lesson"])) == []


def test_an_orphan_of_a_broken_prerequisite_points_at_it_instead_of_repeating_it(tmp_path):
    files = chain(**{"content/01-m/02-b.md": lesson("B", ["m/09-x"])})
    findings = lint(tmp_path, files, select=["graph"])
    assert where(findings) == [
        ("graph/orphan-lesson", "content/01-m/02-b.md", 3, 1),
        ("graph/unresolved-reference", "content/01-m/02-b.md", 3, 17),
    ]
    orphan = findings[0]
    assert "only because its prerequisite 'm/09-x' does not resolve" in orphan.message
    assert [(path, span.line, span.column) for path, span, _ in orphan.related] == [("content/01-m/02-b.md", 3, 17)]


def test_a_link_is_a_way_in(tmp_path):
    files = chain(
        **{
            "content/01-m/02-b.md": lesson("B", ["m/01-a"], "Дальше: [урок C](/course/02-n/01-c).\n"),
            "content/02-n/01-c.md": lesson("C", []),
        }
    )
    assert where(lint(tmp_path, files, select=["graph/orphan-lesson"])) == []


def test_course_without_prerequisites_is_not_checked_for_orphans(tmp_path):
    files = {"content/01-m/01-a.md": "# A\n\nТекст.\n", "content/01-m/02-b.md": "# B\n\nТекст.\n"}
    assert where(lint(tmp_path, files, select=["graph/orphan-lesson"])) == []


def test_configured_start_lessons(tmp_path):
    config = DEFAULT_CONFIG + '\n[graph]\nstart = ["m/01-a", "n/01-c"]\n'
    files = chain(**{"content/02-n/01-c.md": lesson("C", [])})
    assert where(lint(tmp_path, files, config=config, select=["graph/orphan-lesson"])) == []


def _orphans_by_condensing_everything(course, cg):
    """What graph/orphan-lesson reports, computed the straightforward way: condense the whole
    subgraph of unreached lessons and count each source's reach with a walk per source."""
    nx = networkx()
    paths = cg.learning_paths(in_order=True)
    starts = [d.relpath for d in cg.start_lessons()]
    reached = set(starts).union(*(nx.descendants(paths, s) for s in starts))
    rest = paths.subgraph([d.relpath for d in course.lessons if d.relpath not in reached])
    condensed = nx.condensation(rest)
    order = {d.relpath: d.order_index for d in course.lessons}
    broken = {r.source.relpath for r in cg.unresolved if r.kind == "prerequisite"}
    start = cg.display(course.document(starts[0]))
    out = set()
    for c in condensed.nodes:
        if condensed.in_degree(c):
            continue
        members = sorted(condensed.nodes[c]["members"], key=order.__getitem__)
        behind = set().union(*(nx.descendants(rest, m) for m in members)) - set(members)
        if members[0] in broken:
            first_broken = next(
                r.written for r in cg.unresolved if r.kind == "prerequisite" and r.source.relpath == members[0]
            )
            why = (
                f"only because its prerequisite '{first_broken}' does not resolve "
                "(fix the graph/unresolved-reference error there)"
            )
        elif len(members) > 1:
            others = ", ".join(cg.display(course.document(m)) for m in members[1:])
            why = f"only {others} lead to it, and nothing leads to them"
        else:
            why = "it lists no prerequisite and no lesson links to it"
        more = (
            f"; {len(behind)} more lesson{'s' if len(behind) != 1 else ''} reachable only through it" if behind else ""
        )
        out.add((members[0], f"lesson cannot be reached from the course start '{start}': {why}{more}"))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_orphan_lessons_match_condensing_the_whole_unreached_graph(tmp_path, seed):
    # The rule condenses only the unreached lessons that have paths between them (isolated
    # ones are sources of their own): generated courses with chains, cycles, links, broken
    # prerequisites and isolated lessons must give what condensing everything gives.
    rng = random.Random(seed)
    names = [(m, i) for m in range(1, 5) for i in range(1, 16)]
    files = {}
    for m, i in names:
        prerequisites = None if rng.random() < 0.3 else []
        body = "Текст урока.\n"
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            pm, pi = rng.choice(names)
            if prerequisites is not None and rng.random() < 0.8:
                prerequisites.append(f"m{pm}/{pi:02d}-l" if rng.random() < 0.9 else f"m{pm}/{pi:02d}-missing")
            else:
                body += f"См. [урок](/course/{pm:02d}-m{pm}/{pi:02d}-l).\n"
        files[f"content/{m:02d}-m{m}/{i:02d}-l.md"] = lesson(f"L{m}.{i}", prerequisites, body)
    root = tmp_path
    write_files(root, files)
    (root / ".coursecheck.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
    result = check(root, select=["graph"])
    course = result.course
    expected = _orphans_by_condensing_everything(course, course_graph(course, result.config))
    found = {(f.path, f.message) for f in result.findings if f.rule_id == "graph/orphan-lesson"}
    assert found == expected
    assert any("more lesson" in message for _, message in expected)  # the generator makes reach


# -- graph/redundant-prerequisite -------------------------------------------------------------


def test_redundant_transitive_prerequisite_is_a_note(tmp_path):
    files = chain(**{"content/02-n/01-c.md": lesson("C", ["m/01-a", "m/02-b"])})
    findings = lint(tmp_path, files, select=["graph/redundant-prerequisite"])
    assert where(findings) == [("graph/redundant-prerequisite", "content/02-n/01-c.md", 3, 17)]
    assert findings[0].message == "prerequisite 'm/01-a' is already implied by another prerequisite (m/02-b → m/01-a)"
    assert findings[0].level == "note"


def test_independent_prerequisites_are_not_redundant(tmp_path):
    files = chain(
        **{
            "content/01-m/02-b.md": lesson("B", []),
            "content/02-n/01-c.md": lesson("C", ["m/01-a", "m/02-b"]),
        }
    )
    assert where(lint(tmp_path, files, select=["graph/redundant-prerequisite"])) == []


# -- config, exports, command -------------------------------------------------------------------


def test_graph_config_errors_name_file_and_line(tmp_path, cli):
    config = DEFAULT_CONFIG + '\n[graph]\nroute = ["/course/"]\nroutes = ["course/"]\n'
    (tmp_path / "content").mkdir()
    (tmp_path / ".coursecheck.toml").write_text(config, encoding="utf-8")
    code, _, err = cli(tmp_path)
    assert code == 2
    lines = len(DEFAULT_CONFIG.splitlines())
    assert f".coursecheck.toml:{lines + 3}: graph.route: unknown key; did you mean 'routes'?" in err
    assert f".coursecheck.toml:{lines + 4}: graph.routes: route prefix 'course/' must start with '/'" in err


def test_graph_is_published_as_mermaid(tmp_path):
    write_files(tmp_path, chain(**{"content/02-n/01-c.md": lesson("C", ["m/02-b", "m/09-x"])}))
    (tmp_path / ".coursecheck.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
    result = check(tmp_path, select=GRAPH)
    assert result.extra["graph_mermaid"] == (
        "flowchart TD\n"
        '  subgraph m0["01-m"]\n'
        '    n0["01-a"]\n'
        '    n1["02-b"]\n'
        "  end\n"
        '  subgraph m1["02-n"]\n'
        '    n2["01-c"]\n'
        "  end\n"
        "  n0 --> n1\n"
        "  n1 --> n2\n"
        '  u0["m/09-x"]:::missing\n'
        "  u0 -.-x n2\n"
        "  classDef missing stroke:#d33,stroke-dasharray:4 4,color:#d33\n"
    )
    graph = course_graph(result.course, load_config_of(tmp_path))
    assert sorted(graph.graph.edges) == [
        ("content/01-m/02-b.md", "content/01-m/01-a.md"),
        ("content/02-n/01-c.md", "content/01-m/02-b.md"),
    ]


def load_config_of(root):
    return load_config(root / ".coursecheck.toml", root)


def test_graph_command_on_an_unchanged_course_prints_the_stored_graph(course, cli, monkeypatch):
    import coursecheck.builtin.graph as graph_rules

    root = course(chain())
    code, first, _ = cli(root, "graph", "--no-progress")
    assert code == 0 and (root / ".coursecheck-cache").is_dir()

    def not_again(*_args, **_kwargs):
        raise AssertionError("the graph of an unchanged course is built again")

    monkeypatch.setattr(graph_rules, "course_graph", not_again)
    code, second, _ = cli(root, "graph", "--no-progress")
    assert code == 0 and second == first
    monkeypatch.undo()
    # An edit changes the course stage: the graph is built again, with the new lesson.
    (root / "content/02-n/02-d.md").write_text(lesson("D", ["n/01-c"]), encoding="utf-8")
    code, third, _ = cli(root, "graph", "--no-progress")
    assert code == 0 and third != first and "02-d" in third
    # --no-cache neither reads nor writes it.
    code, fourth, _ = cli(root, "graph", "--no-cache")
    assert code == 0 and fourth == third


def test_graph_command_formats(course, cli):
    files = chain(
        **{
            "content/01-m/02-b.md": lesson("B", ["m/01-a"], "Дальше: [C](/course/02-n/01-c).\n"),
            "data/glossary.json": '[{"term": "X", "relatedLessons": [{"slug": "m/01-a"}]}]\n',
        }
    )
    root = course(files)
    code, out, _ = cli(root, "graph", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [(e["source"], e["target"], e["kind"]) for e in data["edges"]] == [
        ("content/01-m/02-b.md", "content/01-m/01-a.md", "prerequisite"),
        ("content/01-m/02-b.md", "content/02-n/01-c.md", "link"),
        ("content/02-n/01-c.md", "content/01-m/02-b.md", "prerequisite"),
        ("data/glossary.json", "content/01-m/01-a.md", "data-reference"),
    ]
    assert data["edges"][1]["places"] == [
        {"path": "content/01-m/02-b.md", "line": 6, "column": 13, "written": "/course/02-n/01-c"}
    ]
    code, out, _ = cli(root, "graph", "--format", "dot", "--edges", "link")
    assert code == 0
    assert '"content/01-m/02-b.md" -> "content/02-n/01-c.md" [style=dashed, label=link];' in out
    assert "prerequisite" not in out and out.startswith("digraph course {")
    code, out, _ = cli(root, "graph")
    assert code == 0 and out.startswith("flowchart TD\n")
    assert "  n1 -.->|link| n2\n" in out
    code, _, err = cli(root, "graph", "--edges", "prerequisites")
    assert code == 2 and "did you mean 'prerequisite'?" in err


def test_demo_course_graph_defects_at_the_lines_its_readme_lists():
    """examples/course/README.md, defects 1, 2, 3, 11b and 12 — and nothing else from the graph."""
    result = Engine(load_config_of(REPO), RunOptions(select=GRAPH, entry_points=False)).run()
    course = "examples/course/content/course/"
    assert where(result.active) == [
        ("graph/later-prerequisite", course + "01-module-1/03-dockerfile-basics.mdx", 8, 50),
        ("graph/prerequisite-cycle", course + "01-module-1/03-dockerfile-basics.mdx", 8, 50),
        ("graph/unresolved-reference", course + "01-module-1/04-module-summary.md", 52, 138),
        ("graph/unresolved-reference", course + "02-module-2/02-container-networking.mdx", 8, 17),
        ("graph/missing-data-reference", "examples/course/data/glossary.json", 84, 17),
    ]


def _suggest_by_trying_all(by_id: dict, written: str, limit: int = 3, cutoff: float = 0.6) -> list[str]:
    """The plain definition the fast search must agree with: difflib's ratio() against
    every id, the best id per lesson, names about as close as the closest one."""
    import difflib

    matcher = difflib.SequenceMatcher(b=written.strip())
    best: dict[str, tuple[float, int, str]] = {}
    for index, (key, doc) in enumerate(by_id.items()):
        matcher.set_seq1(key)
        score = matcher.ratio()
        old = best.get(doc.relpath)
        if score >= cutoff and (old is None or score > old[0]):
            best[doc.relpath] = (score, index, key)
    ranked = sorted(((s, k) for s, _, k in best.values()), key=lambda item: (-item[0], item[1]))
    floor = ranked[0][0] - 0.15 if ranked else cutoff
    return [k for s, k in ranked[:limit] if s >= floor]


@pytest.mark.slow
def test_suggestions_equal_trying_every_id_with_difflib():
    import random
    from types import SimpleNamespace

    from coursecheck import graph
    from coursecheck.model import Course

    rng = random.Random(11)
    words = ["intro", "docker", "сети", "тома", "compose", "registry", "images", "слои", "lab", "🐳"]
    by_id = {}
    for n in range(400):
        module, lesson = n // 10 + 1, n % 10 + 1
        stem = "-".join(rng.sample(words, 2))
        doc = SimpleNamespace(relpath=f"content/{module:02d}/{lesson:02d}-{stem}.md")
        for key in (f"module-{module}/{lesson:02d}-{stem}", f"/course/{module:02d}/{lesson:02d}-{stem}"):
            by_id.setdefault(key, doc)
    by_id["x" * 300] = SimpleNamespace(relpath="content/long.md")  # ids longer than 255 letters
    course = Course(Path("."), [], [], [], by_id)
    written = [*rng.sample(list(by_id), 30), "module-3/04-docker-сети", "", "x" * 290, "модуль-1/01", "a" * 400]
    for text in written + [w[:-2] + "zz" for w in written if len(w) > 3]:
        assert graph._suggest(course, text, 3, 0.6) == _suggest_by_trying_all(by_id, text), text
