"""Link routing (coursecheck/routing.py): a link is judged as the site would serve it.

Mounts, index pages, trailing slashes, case, locales and their fallback, redirect files,
alias fields, routes served elsewhere, partials, link schemes, {folder}/{route} ids, and
graph/unresolved-anchor against the target's headings and ids."""

from __future__ import annotations

from conftest import lint, where

from coursecheck.config import expand_template
from coursecheck.routing import Anchors, Redirects, clean_path, heading_plain, page_keys, parse_redirect_file

SITE = """
[course]
content = ["docs/**/*.md"]
partials = ["docs/_partials/**"]
id = "{route}"

[graph]
mounts = { "/docs/" = "docs/" }
"""


def page(title: str, body: str = "", extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\n# {title}\n\n{body}"


def site(**more: str) -> dict[str, str]:
    files = {
        "docs/guide/index.md": page("Guide", "## Getting started\n\nText.\n"),
        "docs/setup.md": page("Setup", "Text.\n"),
    }
    files.update(more)
    return files


def links(tmp_path, body: str, config: str = SITE, **files: str):
    """graph findings of a one-line body in docs/from.md (line 7 of the file)."""
    all_files = site(**files)
    all_files["docs/from.md"] = page("From", body + "\n")
    return where(lint(tmp_path, all_files, config=config, select=["graph"]))


# -- index pages and trailing slashes -------------------------------------------------------


def test_a_folder_url_serves_its_index_page_with_or_without_a_trailing_slash(tmp_path):
    assert links(tmp_path, "[a](/docs/guide/) [b](/docs/guide) [c](/docs/setup/) [d](/docs/setup)") == []


def test_a_url_under_a_mount_that_names_no_page_is_reported_at_its_href(tmp_path):
    assert links(tmp_path, "[a](/docs/guide/) [b](/docs/missing)") == [
        ("graph/unresolved-reference", "docs/from.md", 7, 23)
    ]


def test_page_keys_and_clean_path():
    assert page_keys("docs/guide/index.md") == ["docs/guide/index", "docs/guide"]
    assert page_keys("docs/a.mdx") == ["docs/a"]
    assert clean_path("/docs/guide/#x") == "/docs/guide"
    assert clean_path("/docs/a.html?q=1") == "/docs/a"


# -- case -----------------------------------------------------------------------------------


def test_case_is_significant_unless_the_site_says_otherwise(tmp_path):
    assert links(tmp_path, "[a](/docs/Setup)") == [("graph/unresolved-reference", "docs/from.md", 7, 5)]
    folded = SITE + "case-sensitive = false\n"
    assert links(tmp_path / "folded", "[a](/docs/Setup) [b](/docs/GUIDE/)", config=folded) == []


# -- locales --------------------------------------------------------------------------------


def test_an_untranslated_page_is_served_from_the_fallback_locale(tmp_path):
    config = """
[course]
content = ["docs/**/*.md"]
id = "{route}"

[graph]
mounts = { "/" = "docs/" }
locales = ["en", "fr"]
fallback-locale = "en"
"""
    files = {
        "docs/en/setup.md": page("Setup"),
        "docs/en/only.md": page("Only English"),
        "docs/fr/setup.md": page("Installation"),
        "docs/fr/from.md": page("De", "[a](/fr/only) [b](/fr/setup) [c](/fr/nowhere)\n"),
    }
    assert where(lint(tmp_path, files, config=config, select=["graph"])) == [
        ("graph/unresolved-reference", "docs/fr/from.md", 7, 34)
    ]


def test_a_locale_may_be_a_file_suffix(tmp_path):
    config = SITE + 'locales = ["fr"]\n'
    assert links(tmp_path, "[a](/docs/fr/setup)", config=config, **{"docs/setup.fr.md": page("Installation")}) == []


# -- redirects, alias fields, routes served elsewhere --------------------------------------


def test_redirect_files_send_old_urls_to_pages_or_out_of_the_repository(tmp_path):
    config = SITE + 'redirects = ["vercel.json"]\n'
    vercel = (
        '{"redirects": ['
        '{"source": "/old-guide", "destination": "/docs/guide"},'
        '{"source": "/blog/:slug", "destination": "https://blog.example/:slug"},'
        '{"source": "/stale", "destination": "/docs/missing"}]}'
    )
    # /docs/missing is a page the site's own redirects send readers to: built elsewhere.
    body = "[a](/old-guide) [b](/blog/post) [c](/stale) [d](/docs/missing) [e](/docs/gone)"
    assert links(tmp_path, body, config=config, **{"vercel.json": vercel}) == [
        ("graph/unresolved-reference", "docs/from.md", 7, 68)
    ]


def test_a_redirect_destination_is_a_page_the_site_serves():
    redirects = Redirects()
    for source, destination in parse_redirect_file("_redirects", "/a   /pricing/teams\n/b/*  https://x.example/:splat\n"):
        redirects.add(source, destination)
    assert redirects.target("/a") == "/pricing/teams"
    assert redirects.target("/b/c") == "https://x.example/c"
    assert redirects.leads_to("/pricing/teams") and redirects.leads_to("/pricing")
    assert not redirects.leads_to("/other")


def test_alias_fields_add_routes_of_a_page(tmp_path):
    config = SITE + 'alias-fields = ["redirect_from"]\n'
    moved = page("Moved", extra='redirect_from: ["/old/moved"]\n')
    assert links(tmp_path, "[a](/old/moved)", config=config, **{"docs/moved.md": moved}) == []


def test_links_under_a_route_served_elsewhere_are_not_judged(tmp_path):
    config = SITE + 'served-elsewhere = ["/docs/api/"]\n'
    assert links(tmp_path, "[a](/docs/api/users) [b](/docs/apix)", config=config) == [
        ("graph/unresolved-reference", "docs/from.md", 7, 26)
    ]


# -- partials, link schemes, id templates ---------------------------------------------------


def test_partials_are_checked_as_text_not_as_lessons(tmp_path):
    files = site(**{"docs/_partials/note.md": "A shared note with no frontmatter.\n"})
    config = SITE + '\n[frontmatter.fields.title]\ntype = "string"\nrequired = true\n'
    findings = lint(tmp_path, files, config=config, select=["frontmatter", "graph"])
    assert [f for f in findings if f.path.startswith("docs/_partials/")] == []


def test_a_link_scheme_names_lessons_by_their_alias(tmp_path):
    config = """
[course]
content = ["book/**/*.md"]
id = "{folder}"
aliases = ["info:{folder|unnumbered}"]

[graph]
routes = ["info:"]
"""
    files = {
        "book/1-intro/article.md": page("Intro"),
        "book/2-types/article.md": page("Types", "See [intro](info:intro) and [x](info:nothing).\n"),
    }
    assert where(lint(tmp_path, files, config=config, select=["graph"])) == [
        ("graph/unresolved-reference", "book/2-types/article.md", 7, 33)
    ]


def test_folder_and_route_id_templates():
    assert expand_template("{folder}", "1-intro/article.md") == "1-intro"
    assert expand_template("{folder|unnumbered}", "02-m/1-intro/article.md") == "intro"
    assert expand_template("{route}", "guide/index.md") == "guide"
    assert expand_template("{route}", "guide/setup.mdx") == "guide/setup"


# -- anchors --------------------------------------------------------------------------------


def test_fragments_are_checked_against_the_targets_headings(tmp_path):
    found = links(tmp_path, "[a](/docs/guide#getting-started) [b](/docs/guide/#nothing) [c](./setup.md#setup)")
    assert found == [("graph/unresolved-anchor", "docs/from.md", 7, 38)]


def test_explicit_ids_code_spans_and_transliterated_headings_are_anchors(tmp_path):
    target = page("Target", "## Options {#opts}\n\n### `<tr>` element\n\n## Как пишется\n\n<a id=\"here\"></a>\n")
    body = "[a](/docs/target#opts) [b](/docs/target#tr-element) [c](/docs/target#kak-pishetsya) [d](/docs/target#here)"
    assert links(tmp_path, body, **{"docs/target.md": target}) == []


def test_a_page_with_no_heading_nor_id_has_its_fragments_left_alone(tmp_path):
    # Its content comes from a component or a generator: there is nothing to match against.
    generated = "---\ntitle: Generated\n---\n\n<ApiReference />\n"
    assert links(tmp_path, "[a](/docs/generated#any-section)", **{"docs/generated.md": generated}) == []


def test_heading_plain_keeps_code_span_text():
    assert heading_plain("### `<tr>` **row**") == ("<tr> row", None)
    assert heading_plain("## Title {#custom}") == ("Title", "custom")
    assert Anchors.of(["Named volumes"]).has("named-volumes")
    assert not Anchors.of(["Named volumes"]).has("volumes")


def test_sections_built_from_partials_beside_a_page_are_not_judged(tmp_path):
    config = """
[course]
content = ["docs/**/*.md"]
partials = ["**/practice/**"]
id = "{route}"

[graph]
mounts = { "/docs/" = "docs/" }

[rules]
"graph/unresolved-anchor" = { sections-from = ["practice"] }
"""
    files = {
        "docs/events/index.md": page("Events", "## Bubbling\n"),
        "docs/events/practice/tip.md": "A tip shown in the page's practice section.\n",
        "docs/other.md": page("Other", "## Usage\n"),
        "docs/from.md": page("From", "[a](/docs/events/#in-practice) [b](/docs/other#in-practice)\n"),
    }
    assert where(lint(tmp_path, files, config=config, select=["graph"])) == [
        ("graph/unresolved-anchor", "docs/from.md", 7, 36)
    ]


def test_the_root_route_judges_only_paths_where_the_repository_has_pages(tmp_path):
    config = """
[course]
content = ["**/*.md"]
id = "{route}"
aliases = ["/{route}"]

[graph]
mounts = { "/" = "" }
"""
    files = {
        "guide/index.md": page("Guide"),
        "guide/setup.md": page("Setup", "[a](/subscribe/) [b](/guide/) [c](/guide/missing/)\n"),
    }
    # /subscribe/ may be a page of the site itself; /guide/ is the repository's folder.
    assert where(lint(tmp_path, files, config=config, select=["graph"])) == [
        ("graph/unresolved-reference", "guide/setup.md", 7, 35)
    ]
