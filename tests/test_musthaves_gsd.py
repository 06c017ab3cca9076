"""Must-haves with the semantics planned projects need (the planning plugin declares them;
a TOML config may too): folders and globs as artifacts and link ends, exports, regexes in
contains, key links checked by a pattern in from then in to, removals, connections, truths
measured by the names they state, requirements no plan ties to must-haves, and the
musthave/missing-path rule."""

from __future__ import annotations

from conftest import where
from test_musthaves import FILES, line_of, run

from coursecheck.model import FAILED, NEEDS_HUMAN, VERIFIED

MORE = {
    **FILES,
    "src/ui/Chart.tsx": "export function Chart() {}\nconst Hidden = 1;\n",
    "src/ui/index.ts": "export * from './Chart';\n",
    "labs/compose.yml": "services:\n  app:\n    build:\n      context: ./app\n",
}


def test_folder_and_glob_artifacts(tmp_path):
    result, verdicts, config = run(
        tmp_path,
        """
        [[artifact]]
        id = "folder"
        path = "content/01-m/"
        contains = ["MilliSecondsBehindSource"]

        [[artifact]]
        id = "glob"
        path = "content/01-m/*"
        contains = ["prerequisites"]
        min-lines = 16

        [[artifact]]
        id = "nothing"
        path = "content/09-*/*.md"
        """,
        MORE,
    )
    assert verdicts["folder"].status == VERIFIED
    lines = sum(FILES[p].count("\n") for p in ("content/01-m/01-intro.md", "content/01-m/02-build.mdx"))  # wc -l
    found = sum(
        FILES[p].count("MilliSecondsBehindSource") for p in ("content/01-m/01-intro.md", "content/01-m/02-build.mdx")
    )
    assert verdicts["folder"].evidence == (
        f"folder of 2 files, {lines} lines in all, 'MilliSecondsBehindSource' in 2 of 2 files ({found}×)"
    )
    glob = verdicts["glob"]
    assert glob.status == FAILED
    assert glob.evidence.startswith("15 lines (need ≥ 16) in 1 of 2 files: 01-intro.md")
    assert verdicts["nothing"].evidence == "content/09-*/*.md: the glob matches nothing"
    assert where(result.active) == [
        ("musthave/artifact", ".coursecheck.toml", line_of(config, 'id = "nothing"') - 1, 1),
        ("musthave/artifact", "content/01-m/01-intro.md", 1, 1),
    ]


def test_exports_and_contains_or_regex(tmp_path):
    _result, verdicts, _config = run(
        tmp_path,
        """
        [[artifact]]
        path = "src/ui/index.ts"
        exports = ["Chart"]

        [[artifact]]
        path = "src/ui/Chart.tsx"
        exports = ["Chart", "Hidden"]

        [[artifact]]
        path = "labs/prometheus.yml"
        contains-or-regex = ["scrape_\\\\w+", "scrape_configs"]
        """,
        MORE,
    )
    assert verdicts["src/ui/index.ts"].evidence == "1 line, exports Chart (re-exported from src/ui/Chart.tsx)"
    assert verdicts["src/ui/Chart.tsx"].evidence == "does not export Hidden, 2 lines"
    assert verdicts["labs/prometheus.yml"].evidence == (
        "1 line, contains 'scrape_\\w+' (1×, as a regular expression, on 1 line), 'scrape_configs' (1×), valid YAML"
    )


def test_key_link_methods_for_plans(tmp_path):
    result, verdicts, config = run(
        tmp_path,
        """
        [[key-link]]
        id = "in-to"
        from = "m/01-intro"
        to = "labs/prometheus.yml"
        pattern = "scrape_configs"
        verify = "pattern-from-or-to"

        [[key-link]]
        id = "removed"
        from = "content/01-m/*"
        to = "an old widget"
        pattern = "OldWidget"
        verify = "absent"

        [[key-link]]
        id = "still-there"
        from = "content/01-m/*"
        to = "the bash fences"
        pattern = "docker build"
        verify = "absent"

        [[key-link]]
        id = "yaml-block"
        from = "labs/compose.yml"
        to = "labs/app/"
        pattern = "build:.*app"

        [[key-link]]
        id = "named"
        from = "m/02-build"
        to = "labs/prometheus.yml"
        verify = "connected"
        """,
        MORE,
    )
    assert verdicts["in-to"].evidence == (
        "/scrape_configs/ not in 01-intro.md; /scrape_configs/ found 1× in prometheus.yml (line 1) (`to`)"
    )
    assert (verdicts["removed"].status, verdicts["removed"].evidence) == (
        VERIFIED,
        "/OldWidget/ occurs in none of 2 files",
    )
    assert verdicts["still-there"].status == FAILED
    assert verdicts["yaml-block"].evidence == (
        "/build:.*app/ found 1× in compose.yml (line 3) in a YAML block read as one line"
    )
    assert verdicts["named"].evidence == "02-build.mdx names labs/prometheus.yml (line 17)"
    # The removal that failed is reported at the lesson that still has it, at its prerequisites.
    assert ("musthave/key-link", "content/01-m/02-build.mdx", 3, 1) in where(result.active)
    # labs/app/ does not exist; the pattern decided: a missing-path warning at the `to` line.
    assert ("musthave/missing-path", ".coursecheck.toml", line_of(config, 'to = "labs/app/"'), 1) in where(
        result.active
    )


def test_missing_path_is_quiet_when_every_path_exists_or_is_a_description(tmp_path):
    result, verdicts, _config = run(
        tmp_path,
        """
        [[key-link]]
        id = "described"
        from = "m/01-intro"
        to = "the lag metric reference"
        pattern = "MilliSecondsBehindSource"
        verify = "pattern-from-or-to"
        """,
    )
    assert verdicts["described"].status == VERIFIED
    assert [w for w in where(result.active) if w[0] == "musthave/missing-path"] == []


def test_truths_with_names(tmp_path):
    result, verdicts, config = run(
        tmp_path,
        """
        [[truth]]
        id = "present"
        text = "The lag metric is MilliSecondsBehindSource, configured in labs/prometheus.yml"
        names = ["MilliSecondsBehindSource", "prometheus.yml"]
        files = ["content/01-m/"]

        [[truth]]
        id = "absent"
        text = "The lag is shown in LagPanel"
        names = ["LagPanel"]

        [[truth]]
        id = "negated"
        text = "No LagPanel is left"
        names = ["LagPanel"]
        absent-is-gap = false
        """,
    )
    present = verdicts["present"]
    assert (present.status, present.measures["state"]) == (NEEDS_HUMAN, "names found")
    # As grep -owF counts: debezium_metrics_MilliSecondsBehindSource is another word.
    assert present.evidence == (
        "`MilliSecondsBehindSource`: 2 occurrences across 2 files, most in 01-intro.md (1); 2 in the course "
        "(2 files); `prometheus.yml`: 1 occurrence in 02-build.mdx; 1 in the course (1 file); the meaning is a "
        "person's to confirm"
    )
    assert verdicts["absent"].status == FAILED
    assert verdicts["negated"].status == NEEDS_HUMAN
    assert where(result.active) == [("musthave/truth", ".coursecheck.toml", line_of(config, 'id = "absent"') - 1, 1)]


def test_an_untied_requirement(tmp_path):
    _result, verdicts, _config = run(
        tmp_path,
        """
        [[artifact]]
        path = "data/dash.json"

        [[artifact]]
        path = "data/broken.json"

        [[requirement]]
        id = "ALL-01"
        satisfied-by = ["artifact:data/dash.json"]
        untied = true

        [[requirement]]
        id = "ALL-02"
        satisfied-by = ["artifact:data/dash.json", "artifact:data/broken.json"]
        untied = true
        """,
    )
    assert (verdicts["ALL-01"].status, verdicts["ALL-01"].evidence) == (
        VERIFIED,
        "no plan names it; all 1 must-have of its phase hold",
    )
    assert verdicts["ALL-02"].status == NEEDS_HUMAN
    assert verdicts["ALL-02"].evidence == (
        "no plan names it; 1 of the phase's 2 must-haves failed (broken.json) and no plan says which of them it needs"
    )


def test_paths_never_leave_the_root(tmp_path):
    import pytest

    from coursecheck.config import ConfigError

    outside = tmp_path.parent / "outside-secret.md"
    outside.write_text("MilliSecondsBehindSource\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        run(tmp_path, f'[[artifact]]\npath = "../{outside.name}"\n')
    assert "'..' would leave the project root" in str(caught.value)
    # A key link's end is resolved, never read, outside the root.
    _result, verdicts, _config = run(
        tmp_path,
        f"""
        [[key-link]]
        id = "up"
        from = "../{outside.name}"
        to = "m/01-intro"
        pattern = "MilliSecondsBehindSource"
        """,
    )
    assert (
        verdicts["up"].evidence == f"from '../{outside.name}' is no lesson, file or folder (outside the project root)"
    )
