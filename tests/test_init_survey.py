"""`coursecheck init` reads a repository as its author would (#21): lessons vs furniture vs
partials, the inferred schema's support thresholds, the site's zod schema, languages, data
files and glossaries by shape, link routing inferred from the links, folder-named lessons,
link schemes, the run summary; and the config it writes runs unedited."""

from __future__ import annotations

from conftest import write_files

from coursecheck.builtin.frontmatter import infer_schema_toml
from coursecheck.init import parse_zod_fields


def page(title: str, body: str = "", extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\n# {title}\n\n{body}"


ENGLISH = "The text of this page explains the setup in plain English words for the reader.\n"


def docs_site() -> dict[str, str]:
    """A small documentation site: pages with frontmatter under docs/, a partial they include,
    repository furniture, config files that are not data."""
    files = {
        "README.md": "# Project\n\nHow to build the site.\n",
        "CONTRIBUTING.md": "# Contributing\n\nOpen a pull request.\n",
        ".github/PULL_REQUEST_TEMPLATE.md": "## What\n\nDescribe the change.\n",
        "docs/_partials/note.md": "A shared note without frontmatter.\n",
        "docs/guide/index.md": page("Guide", ENGLISH + "\n## Getting started\n\nText.\n"),
        "docker-compose.yml": "services:\n  web:\n    image: nginx\n",
        "tsconfig.json": '{"compilerOptions": {"strict": true}}',
    }
    for i in range(1, 7):
        body = ENGLISH + f"\nSee [the guide](/docs/guide/) and [next](/docs/page-{i % 6 + 1}).\n"
        files[f"docs/page-{i}.md"] = page(f"Page {i}", body + '\n<Include src="_partials/note" />\n')
    return files


def init(tmp_path, cli, files: dict[str, str]) -> tuple[str, str]:
    write_files(tmp_path, files)
    code, _out, err = cli(tmp_path, "init", "--no-progress")
    assert code == 0, err
    return (tmp_path / ".coursecheck.toml").read_text(encoding="utf-8"), err


# -- what is a lesson ----------------------------------------------------------------------


def test_furniture_is_left_out_and_partials_are_their_own_role(tmp_path, cli):
    config, err = init(tmp_path, cli, docs_site())
    assert 'content = ["docs/**/*.md"]' in config
    assert 'partials = ["**/_partials/**"]' in config
    assert "7 lessons under docs, 1 partials" in err
    assert "left out 3 files that are not lessons: .github/PULL_REQUEST_TEMPLATE.md, CONTRIBUTING.md, README.md" in err
    # docker-compose.yml and tsconfig.json are configuration, not the course's data.
    assert "data =" not in config


def test_the_written_config_runs_unedited_with_no_schema_error_off_the_lessons(tmp_path, cli):
    init(tmp_path, cli, docs_site())
    _code, out, err = cli(tmp_path, "--no-cache", "--format", "json")
    assert "configuration error" not in err
    import json

    findings = json.loads(out)["findings"]
    assert [f for f in findings if f["rule"].startswith("frontmatter/")] == []
    assert [f for f in findings if f["level"] == "error"] == []


def test_lessons_named_by_their_folder_get_a_folder_id(tmp_path, cli):
    files = {
        f"book/{n}-{name}/article.md": f"# {name.title()}\n\nТекст урока о том, как устроен {name}.\n"
        for n, name in enumerate(["intro", "types", "loops", "functions"], 1)
    }
    config, err = init(tmp_path, cli, files)
    assert "named by their file name" in err
    assert 'content = ["book/**/article.md"]' in config
    assert 'id = "{folder}"' in config or 'id = "{dir}"' in config


def test_a_site_link_scheme_becomes_an_alias_and_a_route(tmp_path, cli):
    files = {}
    names = ["intro", "types", "loops", "functions"]
    for n, name in enumerate(names, 1):
        other = names[n % 4]
        files[f"book/{n}-{name}/article.md"] = f"# {name}\n\nСм. [урок](info:{other}) и [ещё](info:{names[n - 1]}).\n"
    config, _err = init(tmp_path, cli, files)
    assert '"info:{folder|unnumbered}"' in config
    assert '"info:"' in config
    code, out, _ = cli(tmp_path, "--no-cache", "--select", "graph")
    assert code == 0, out
    assert "graph/unresolved-reference" not in out


def test_no_lessons_found_says_what_to_do(tmp_path, cli):
    files = {"README.md": "# Project\n\nAbout it.\n", "CHANGELOG.md": "# Changes\n\n- 1.0\n"}
    _config, err = init(tmp_path, cli, files)
    assert "0 lessons" in err
    assert "set [course] content" in err


# -- languages -------------------------------------------------------------------------------


def test_english_only_repository_gets_primary_en(tmp_path, cli):
    config, _ = init(tmp_path, cli, docs_site())
    assert 'languages = { primary = "en" }' in config


def test_russian_repository_gets_ru_with_english_terms(tmp_path, cli):
    files = {
        f"content/{i:02}-lesson.md": page(f"Урок {i}", "Здесь мы разбираем, как работает Docker и зачем нужен образ.\n")
        for i in range(1, 4)
    }
    config, _ = init(tmp_path, cli, files)
    assert 'languages = { primary = "ru", secondary = "en" }' in config


# -- the inferred schema ---------------------------------------------------------------------


def test_schema_empty_lists_are_values_and_module_first_lessons_may_lack_a_field():
    lessons: dict[str, dict] = {}
    for module in ("m1", "m2"):
        lessons[f"{module}/01.md"] = {"title": "first"}  # a module's first lesson: no prerequisite
        for n in range(2, 11):
            lessons[f"{module}/{n:02}.md"] = {"title": "T", "prerequisites": [f"{module}/{n - 1:02}"]}
    lessons["m1/05.md"]["prerequisites"] = []
    toml = infer_schema_toml(lessons, module_first={"m1/01.md", "m2/01.md"})
    block = toml.split("[frontmatter.fields.prerequisites]", 1)[1].split("[", 1)[0]
    assert "required = true" not in block  # only the modules' first lessons lack it
    assert "given by 18 of 20 lessons; the others open their module" in block
    # Without the module structure the same field is required ([] counts as a value).
    block = infer_schema_toml(lessons).split("[frontmatter.fields.prerequisites]", 1)[1].split("[", 1)[0]
    assert "required = true" in block


def test_schema_enum_only_when_each_value_recurs_and_case_variants_are_one():
    recurring = {f"{i}.md": {"level": ["Intro", "intro", "advanced", "advanced", "intro"][i]} for i in range(5)}
    assert 'enum = ["advanced", "intro"]' in infer_schema_toml(recurring)
    authors = {f"{i}.md": {"author": ["Ann", "Bob", "Ann", "Cid", "Dan", "Eve"][i]} for i in range(6)}
    assert "enum = " not in infer_schema_toml(authors)  # Bob, Cid... used once: not a closed set
    urls = {f"{i}.md": {"cover": ["/img/a.png", "/img/b.png"][i % 2]} for i in range(6)}
    assert "enum = " not in infer_schema_toml(urls)


def test_schema_takes_optional_fields_and_enums_from_the_sites_zod_schema():
    zod = parse_zod_fields(
        "const docs = defineCollection({ schema: z.object({\n"
        "  title: z.string(),\n"
        "  i18nReady: z.boolean().default(false),\n"
        "  level: z.enum(['beginner', 'advanced', 'expert']),\n"
        "}) });\n"
    )
    assert zod == {
        "title": {"optional": False, "enum": None},
        "i18nReady": {"optional": True, "enum": None},
        "level": {"optional": False, "enum": ["beginner", "advanced", "expert"]},
    }
    lessons = {f"{i}.md": {"title": f"T{i}", "i18nReady": True, "level": "beginner"} for i in range(5)}
    toml = infer_schema_toml(lessons, site_schema=zod, site_schema_file="src/content/config.ts")
    ready = toml.split("[frontmatter.fields.i18nReady]", 1)[1].split("[", 1)[0]
    assert "required = true" not in ready and "optional in the site's content schema" in ready
    assert 'enum = ["beginner", "advanced", "expert"]' in toml


def test_init_reads_the_zod_schema_of_an_astro_site(tmp_path, cli):
    files = docs_site()
    files["src/content/config.ts"] = (
        "import { defineCollection, z } from 'astro:content';\n"
        "export const collections = { docs: defineCollection({ schema: z.object({\n"
        "  title: z.string(),\n  draft: z.boolean().optional(),\n}) }) };\n"
    )
    for rel in [r for r in files if r.startswith("docs/page-")]:
        files[rel] = files[rel].replace("---\n\n", "draft: false\n---\n\n", 1)
    config, _ = init(tmp_path, cli, files)
    assert "(src/content/config.ts) are kept" in config
    draft = config.split("[frontmatter.fields.draft]", 1)[1].split("\n\n", 1)[0]
    assert "required = true" not in draft


# -- data files and glossaries -----------------------------------------------------------


def test_a_glossary_nested_under_categories_is_found_by_its_shape(tmp_path, cli):
    files = docs_site()
    files["data/glossary.json"] = (
        '{"categories": [{"name": "Basics", "terms": ['
        '{"term": "Node", "definition": "A machine of the cluster."},'
        '{"term": "Pod", "definition": "A group of containers."},'
        '{"term": "Volume", "definition": "Storage a pod mounts."}]}]}'
    )
    config, _ = init(tmp_path, cli, files)
    assert 'file = "data/glossary.json"' in config
    assert 'entries = "categories[].terms"' in config
    _code, _out, err = cli(tmp_path, "--no-cache", "--select", "terminology")
    assert "configuration error" not in err and "found NoneType" not in err


# -- link routing inferred from the links --------------------------------------------------


def test_routing_inferred_mount_redirects_route_field_and_navigation(tmp_path, cli):
    files = docs_site()
    files["pages/about/index.md"] = page("About", ENGLISH, extra='location: "/about/"\n')
    files["pages/team/index.md"] = page("Team", ENGLISH + "\n[about](/about/)\n", extra='location: "/team/"\n')
    files["vercel.json"] = '{"redirects": [{"source": "/old-guide", "destination": "/docs/guide"}]}'
    nav = [{"title": f"Page {i}", "href": f"/docs/page-{i}"} for i in range(1, 7)]
    nav += [{"title": "Guide", "href": "/docs/guide"}, {"title": "Errors", "href": "/docs/errors/catalogue"}]
    nav += [{"title": "About", "href": "/about/"}, {"title": "Team", "href": "/team/"}]
    import json

    files["docs/manifest.json"] = json.dumps({"navigation": [nav]})
    files["docs/page-1.md"] = files["docs/page-1.md"].replace("\n<Include", "\n[old](/old-guide)\n\n<Include")
    config, err = init(tmp_path, cli, files)
    assert 'redirects = ["vercel.json"]' in config
    assert 'alias-fields = ["location"]' in config
    assert '"/docs/errors/catalogue/"' in config  # listed by the navigation, served from elsewhere
    assert "navigation: 1 pages listed in docs/manifest.json are served from elsewhere" in err
    code, out, _ = cli(tmp_path, "--no-cache", "--select", "graph")
    assert code == 0, out
    assert "graph/unresolved" not in out, out


def test_sections_built_from_partials_beside_pages_are_inferred(tmp_path, cli):
    files = {}
    topics = ["events", "cookies", "storage", "history", "fetch"]
    for topic in topics:
        files[f"js/{topic}/index.md"] = page(topic.title(), ENGLISH + "\n## Briefly\n\nText.\n")
        files[f"js/{topic}/practice/expert.md"] = "A tip from an expert, shown in the page's practice section.\n"
    for i, topic in enumerate(topics):
        other = topics[(i + 1) % len(topics)]
        body = f"\nSee [in practice](/js/{other}/#in-practice) and [briefly](/js/{other}/#briefly).\n"
        files[f"js/{topic}/index.md"] += body
    config, _ = init(tmp_path, cli, files)
    assert '"graph/unresolved-anchor" = { sections-from = ["practice"] }' in config
    code, out, _ = cli(tmp_path, "--no-cache", "--select", "graph")
    assert code == 0, out
    assert "graph/unresolved-anchor" not in out
