"""bilingual/*: pairs on first use, forbidden and inconsistent renderings, mixed-script words,
glossary integrity; Russian inflection in TermMatcher; the demo course's defects."""

from __future__ import annotations

import json

import pytest

from coursecheck.builtin.bilingual import abbreviation_fits, analyse_mixed
from coursecheck.match import TermMatcher
from tests.conftest import DEFAULT_CONFIG, REPO, check, lint, where

GLOSSARY_CONFIG = (
    DEFAULT_CONFIG
    + """
[glossary]
file = "data/glossary.json"
fields = { term = "term", english = "termEn", abbreviation = "abbr" }
"""
)


def glossary(*entries: dict) -> str:
    return json.dumps(list(entries), ensure_ascii=False, indent=2) + "\n"


VOLUME = {"term": "Том", "termEn": "Volume"}
WAL = {"term": "Журнал упреждающей записи", "termEn": "Write-Ahead Log", "abbr": "WAL"}


# -- TermMatcher: Russian inflection ------------------------------------------------------------


def texts(matcher: TermMatcher, text: str) -> list[str]:
    return [m.text for m in matcher.finditer(text)]


def test_inflected_forms_are_one_term():
    matcher = TermMatcher("коннектор", inflect=True)
    assert texts(matcher, "коннектор, коннектора, коннектором; коннекторы") == [
        "коннектор",
        "коннектора",
        "коннектором",
        "коннекторы",
    ]


def test_dictionary_rejects_snowball_false_friends_and_adds_fleeting_vowels():
    assert texts(TermMatcher("слой", inflect=True), "слот, слоты, слоя, слоёв") == ["слоя", "слоёв"]
    assert texts(TermMatcher("образ", inflect=True), "образуют образы") == ["образы"]
    assert texts(TermMatcher("снимок", inflect=True), "снимка, снимков") == ["снимка", "снимков"]
    # Jargon no dictionary knows still inflects through Snowball.
    assert texts(TermMatcher("снэпшот", inflect=True), "снэпшотов, снэпшотом") == ["снэпшотов", "снэпшотом"]


def test_pronoun_reading_after_a_preposition_is_not_the_term():
    matcher = TermMatcher("том", inflect=True)
    text = "в том числе; Создадим том. О том, что в томе; к тому же"
    assert texts(matcher, text) == ["том", "томе"]
    assert texts(TermMatcher("том", inflect=True, ambiguous="count"), text) == ["том", "том", "том", "томе", "тому"]
    assert texts(TermMatcher("том", inflect=True, ambiguous="skip"), text) == ["томе"]
    assert texts(TermMatcher("том", inflect=True, ambiguous="count", exclude=["в том числе"]), text)[0] == "том"


def test_english_plurals_and_word_boundaries():
    matcher = TermMatcher("Bind mount", "WAL", plurals=True)
    assert texts(matcher, "bind mounts, WAL_level, WALK, pg_wal") == ["bind mounts", "WAL", "wal"]


# -- bilingual/missing-pair ---------------------------------------------------------------------


def test_first_use_without_its_pair_is_reported_with_a_fix(tmp_path):
    files = {
        "content/a.md": "# A\n\nДанные лежат в томе. Том (volume) живёт дольше контейнера.\n",
        "data/glossary.json": glossary(VOLUME),
    }
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/missing-pair"])
    assert where(findings) == [("bilingual/missing-pair", "content/a.md", 3, 16)]
    assert "write «томе (volume)»" in findings[0].message
    assert findings[0].fix is not None and findings[0].fix.edits[0].replacement == " (volume)"


@pytest.mark.parametrize(
    "sentence",
    [
        "Том (volume) живёт дольше контейнера.",
        "Volume (том) живёт дольше контейнера.",
        "Тома (volumes) живут дольше контейнера.",
        "Тома (англ. volumes) живут дольше.",
    ],
)
def test_paired_first_use_is_fine(tmp_path, sentence):
    files = {"content/a.md": f"# A\n\n{sentence} Потом том.\n", "data/glossary.json": glossary(VOLUME)}
    assert lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/missing-pair"]) == []


def test_abbreviation_with_its_expansion_is_a_pair(tmp_path):
    files = {
        "content/a.md": "# A\n\nWAL (Write-Ahead Log) растёт.\n",
        "content/b.md": "# B\n\nЖурнал упреждающей записи (Write-Ahead Log, WAL) растёт.\n",
        "content/c.md": "# C\n\nПосмотрим на WAL.\n",
        "data/glossary.json": glossary(WAL),
    }
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/missing-pair"])
    assert where(findings) == [("bilingual/missing-pair", "content/c.md", 3, 14)]


def test_code_is_not_a_first_use(tmp_path):
    files = {
        "content/a.md": "# A\n\n```bash\ndocker volume create\n```\n\nТом (volume) создан.\n",
        "data/glossary.json": glossary(VOLUME),
    }
    assert lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/missing-pair"]) == []


# -- bilingual/forbidden-translation -----------------------------------------------------------


FORBIDDEN_CONFIG = DEFAULT_CONFIG + '\n[[glossary.terms]]\nterm = "Топик"\nenglish = "Topic"\nforbidden = ["тема"]\n'


def test_forbidden_rendering_is_reported_in_any_inflection(tmp_path):
    files = {"content/a.md": "# A\n\nТопик (topic) хранит события. Пишем в тему orders.\n"}
    findings = lint(tmp_path, files, config=FORBIDDEN_CONFIG, select=["bilingual/forbidden-translation"])
    assert where(findings) == [("bilingual/forbidden-translation", "content/a.md", 3, 39)]
    assert "«тему» is a forbidden rendering of «Топик» (Topic); write «топик»" in findings[0].message


def test_no_forbidden_rendering_no_finding(tmp_path):
    files = {"content/a.md": "# A\n\nТопик (topic) хранит события. Пишем в топик orders.\n"}
    assert lint(tmp_path, files, config=FORBIDDEN_CONFIG, select=["bilingual/forbidden-translation"]) == []


# -- bilingual/inconsistent-rendering -------------------------------------------------------------


IMAGE = {"term": "Образ", "termEn": "Image"}


def test_other_rendering_given_with_the_english_form_is_reported_with_counts(tmp_path):
    files = {
        "content/a.md": "# A\n\nОбраз (image) неизменяем. Образы хранятся в реестре.\n",
        "content/b.md": "# B\n\nСоберём имидж (image) и запустим.\n",
        "data/glossary.json": glossary(IMAGE),
    }
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/inconsistent-rendering"])
    assert where(findings) == [("bilingual/inconsistent-rendering", "content/b.md", 3, 9)]
    assert "«образ» 2× in 1 lesson, «имидж» 1× in 1 lesson" in findings[0].message


def test_configured_variant_used_alongside_the_glossary_form(tmp_path):
    config = GLOSSARY_CONFIG + '\n[[glossary.terms]]\nterm = "Образ"\nvariants = ["имидж"]\n'
    files = {
        "content/a.md": "# A\n\nОбраз (image) неизменяем.\n",
        "content/b.md": "# B\n\nСоберём имиджа два.\n",
        "data/glossary.json": glossary(IMAGE),
    }
    findings = lint(tmp_path, files, config=config, select=["bilingual/inconsistent-rendering"])
    assert where(findings) == [("bilingual/inconsistent-rendering", "content/b.md", 3, 9)]


def test_one_rendering_is_consistent(tmp_path):
    files = {
        "content/a.md": "# A\n\nОбраз (image) неизменяем.\n",
        "content/b.md": "# B\n\nСоберём образ (image).\n",
        "data/glossary.json": glossary(IMAGE),
    }
    assert lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/inconsistent-rendering"]) == []


# -- bilingual/mixed-script -------------------------------------------------------------------


def test_homoglyph_in_a_latin_word_is_reported_with_a_safe_fix(tmp_path):
    findings = lint(
        tmp_path, {"content/a.md": "# A\n\nСам по себе Dоcker работает.\n"}, select=["bilingual/mixed-script"]
    )
    assert where(findings) == [("bilingual/mixed-script", "content/a.md", 3, 13)]
    fix = findings[0].fix
    assert fix is not None and fix.safe
    assert [(e.span.line, e.span.column, e.replacement) for e in fix.edits] == [(3, 14, "o")]


def test_homoglyph_in_a_cyrillic_heading_and_lowercase_case_pair(tmp_path):
    files = {"content/a.md": "# Kонтейнер\n\nОдин контeйнер и один конtроль.\n"}
    findings = lint(tmp_path, files, select=["bilingual/mixed-script"])
    assert where(findings) == [
        ("bilingual/mixed-script", "content/a.md", 1, 3),
        ("bilingual/mixed-script", "content/a.md", 3, 6),
        ("bilingual/mixed-script", "content/a.md", 3, 23),
    ]
    assert [f.fix.edits[0].replacement for f in findings] == ["К", "е", "т"]
    assert [f.fix.safe for f in findings] == [True, True, False]


def test_code_urls_and_hyphenated_words_are_not_mixed_script(tmp_path):
    text = "# A\n\nPostgreSQL-сервер и Kafka-топик. `Dоcker` в коде.\n\n```\nкontейнер\n```\n"
    assert lint(tmp_path, {"content/a.md": text}, select=["bilingual/mixed-script"]) == []


def test_code_switching_slang_is_jargon_not_a_mixed_script_error(tmp_path):
    # An English root with a Russian ending: bilingual/mixed-jargon's (note), without a fix
    # (tests/test_spelling.py has the other classes of mixed words).
    files = {"content/a.md": "# A\n\nПроцесс может failить.\n"}
    assert lint(tmp_path, files, select=["bilingual/mixed-script"]) == []
    findings = lint(tmp_path, files, select=["bilingual/mixed-jargon"])
    assert where(findings) == [("bilingual/mixed-jargon", "content/a.md", 3, 15)]
    assert findings[0].fix is None and findings[0].level == "note"


def test_analyse_mixed_prefers_the_majority_script():
    assert analyse_mixed("Dоcker", 0).replacements == [(1, "о", "o")]
    assert analyse_mixed("рython", 0).intended == "Latin"


# -- glossary integrity ----------------------------------------------------------------------------


def test_swapped_glossary_entry_is_reported_with_a_swap_fix(tmp_path):
    files = {
        "content/a.md": "# A\n\nПространство имён (namespace).\n",
        "data/glossary.json": glossary(VOLUME, {"term": "Namespace", "termEn": "Пространство имён"}),
    }
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/glossary-script"])
    assert where(findings) == [("bilingual/glossary-script", "data/glossary.json", 7, 13)]
    edits = findings[0].fix.edits
    assert [(e.span.line, e.span.column, e.replacement) for e in edits] == [
        (7, 13, '"Пространство имён"'),
        (8, 15, '"Namespace"'),
    ]


def test_glossary_in_the_right_scripts_is_fine(tmp_path):
    files = {
        "content/a.md": "# A\n\nТом (volume).\n",
        "data/glossary.json": glossary(VOLUME, {"term": "Docker", "termEn": "Docker"}),
    }
    assert lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/glossary-script"]) == []


def test_duplicate_entries_are_reported_at_the_later_one(tmp_path):
    files = {
        "content/a.md": "# A\n\nТом (volume).\n",
        "data/glossary.json": glossary(VOLUME, WAL, {"term": "Тома", "termEn": "Volumes"}),
    }
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/duplicate-term"])
    assert where(findings) == [("bilingual/duplicate-term", "data/glossary.json", 12, 13)]
    assert "already defined at data/glossary.json:3" in findings[0].message


def test_distinct_entries_are_not_duplicates(tmp_path):
    files = {"content/a.md": "# A\n\nТом (volume).\n", "data/glossary.json": glossary(VOLUME, WAL)}
    assert lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/duplicate-term"]) == []


def test_abbreviation_that_does_not_fit_its_expansion(tmp_path):
    bad = {"term": "Журнал упреждающей записи", "termEn": "Write-Ahead Journal", "abbr": "WAL"}
    files = {"content/a.md": "# A\n\nТом (volume).\n", "data/glossary.json": glossary(VOLUME, WAL, bad)}
    findings = lint(tmp_path, files, config=GLOSSARY_CONFIG, select=["bilingual/abbreviation-mismatch"])
    assert where(findings) == [("bilingual/abbreviation-mismatch", "data/glossary.json", 14, 13)]


def test_abbreviation_fits():
    assert abbreviation_fits("WAL", "Write-Ahead Log")
    assert abbreviation_fits("cgroups", "Control groups")
    assert abbreviation_fits("СУБД", "система управления базами данных")
    assert not abbreviation_fits("WAL", "Write-Ahead Journal")
    assert not abbreviation_fits("SMT", "Message Transformation")


# -- docs and the demo course --------------------------------------------------------------------------

BILINGUAL_RULES = [
    "bilingual/mixed-script",
    "bilingual/mixed-jargon",
    "bilingual/wrong-layout",
    "bilingual/missing-pair",
    "bilingual/forbidden-translation",
    "bilingual/inconsistent-rendering",
    "bilingual/glossary-script",
    "bilingual/duplicate-term",
    "bilingual/abbreviation-mismatch",
]


@pytest.mark.parametrize("rule_id", BILINGUAL_RULES)
def test_rule_docs_are_printed(cli, tmp_path, rule_id):
    code, out, _ = cli(tmp_path, "rule", rule_id)
    assert code == 0
    assert "## What it does" in out and "## Example" in out


C = "examples/course/content/course/"


def test_demo_course_defects_of_both_families_and_nothing_else():
    result = check(REPO, select=["terminology", "bilingual"])
    assert where(result.active) == [
        ("bilingual/mixed-script", C + "01-module-1/01-what-is-a-container.mdx", 68, 13),  # 7a
        ("bilingual/missing-pair", C + "01-module-1/02-images-and-layers.mdx", 16, 72),  # 8a
        ("terminology/used-before-introduction", C + "01-module-1/02-images-and-layers.mdx", 16, 72),  # 8a
        ("bilingual/mixed-script", C + "02-module-2/01-volumes-and-data.mdx", 45, 118),  # 7b
        ("bilingual/inconsistent-rendering", C + "02-module-2/03-docker-compose.mdx", 56, 40),  # 8b
        ("bilingual/glossary-script", "examples/course/data/glossary.json", 28, 13),  # 11a
        ("terminology/unused-term", "examples/course/data/glossary.json", 104, 13),  # 11c
        ("bilingual/duplicate-term", "examples/course/data/glossary.json", 112, 13),  # 11d
    ]


def test_quick_mixed_script_test_covers_both_scripts():
    # mixed-script skips a lesson when may_mix_scripts says no: its ranges must hold every
    # letter the regex module calls Latin or Cyrillic, so no mixed word is ever skipped.
    import re

    import regex

    from coursecheck.builtin import bilingual

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    for script, ranges in (("Latin", bilingual._LATIN_RANGES), ("Cyrillic", bilingual._CYRILLIC_RANGES)):
        outside = re.compile(f"[^{ranges}]")
        missing = [f"U+{ord(c):04X}" for c in regex.findall(rf"\p{{Script={script}}}", every) if outside.match(c)]
        assert missing == [], script
    assert not bilingual.may_mix_scripts("обычный текст\nи Docker, и «kafka»")
    assert bilingual.may_mix_scripts("Dоcker") and bilingual.may_mix_scripts("контeйнер")
