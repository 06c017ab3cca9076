"""Russian and English prose: mixed-script words classified and repaired only into known
words (bilingual/mixed-script, mixed-jargon, wrong-layout), and the spelling family
(spelling/unknown-word, rejected-word) with the glossary and the course vocabulary."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursecheck import lexicon, transliterate
from coursecheck.builtin.bilingual import CONFUSABLES, mixed_words, read_mixed
from tests.conftest import DEFAULT_CONFIG, lint, where

SPELLING = DEFAULT_CONFIG + '\n[rules]\n"spelling" = "note"\n'


def fixes(findings) -> list[tuple[int, int, str, bool]]:
    """(line, column, replacement, safe) of each finding's first edit."""
    return [
        (f.fix.edits[0].span.line, f.fix.edits[0].span.column, f.fix.edits[0].replacement, f.fix.safe)
        for f in findings
        if f.fix is not None
    ]


# -- bilingual/mixed-script: every mixed word, classified ---------------------------------------


def test_transliteration_slip_gets_an_unsafe_fix_to_the_known_word(tmp_path):
    files = {"content/a.md": "# A\n\nСначала Migrация схемы, и всё идёт normально.\n"}
    findings = lint(tmp_path, files, select=["bilingual/mixed-script"])
    assert where(findings) == [
        ("bilingual/mixed-script", "content/a.md", 3, 9),
        ("bilingual/mixed-script", "content/a.md", 3, 36),
    ]
    assert fixes(findings) == [(3, 9, "Миграция", False), (3, 36, "нормально", False)]
    assert "transliteration slip for «Миграция»" in findings[0].message


def test_keyboard_layout_slip_inside_a_latin_word(tmp_path):
    findings = lint(tmp_path, {"content/a.md": "# A\n\nЗапустите Dщcker.\n"}, select=["bilingual/mixed-script"])
    assert where(findings) == [("bilingual/mixed-script", "content/a.md", 3, 11)]
    assert fixes(findings) == [(3, 11, "Docker", False)]
    assert "keyboard layout slip" in findings[0].message


def test_homoglyph_reading_that_is_no_word_gets_no_fix(tmp_path):
    # «зыpх» with a Latin p: the Cyrillic reading «зырх» is no word, nor is any other repair.
    findings = lint(tmp_path, {"content/a.md": "# A\n\nСлово зыpх здесь.\n"}, select=["bilingual/mixed-script"])
    assert where(findings) == [("bilingual/mixed-script", "content/a.md", 3, 7)]
    assert findings[0].fix is None
    assert "«зырх» is not a known word" in findings[0].message


def test_imperfect_homoglyph_reading_yields_to_the_transliteration(tmp_path):
    # The look-alike reading «Імрликации» (Ukrainian І, р) is no word: the repair is «Импликации».
    findings = lint(tmp_path, {"content/a.md": "# A\n\nImpликации решения.\n"}, select=["bilingual/mixed-script"])
    assert fixes(findings) == [(3, 1, "Импликации", False)]


def test_acronyms_units_identifiers_and_short_words_are_never_repaired(tmp_path):
    text = "# A\n\nПротокол TСP, объём 5кB, поле cfg_кonфиг и Zа.\n"
    findings = lint(tmp_path, {"content/a.md": text}, select=["bilingual/mixed-script"])
    assert where(findings) == [
        ("bilingual/mixed-script", "content/a.md", 3, 10),
        ("bilingual/mixed-script", "content/a.md", 3, 22),
        ("bilingual/mixed-script", "content/a.md", 3, 35),
        ("bilingual/mixed-script", "content/a.md", 3, 44),
    ]
    assert [f.fix for f in findings] == [None, None, None, None]
    assert "an acronym" in findings[0].message and "a unit" in findings[1].message
    assert "an identifier" in findings[2].message and "a short word" in findings[3].message


def test_glued_words_are_reported_without_a_fix_unless_turned_off(tmp_path):
    files = {"content/a.md": "# A\n\nНажмите ИмяSubmit сейчас.\n"}
    findings = lint(tmp_path, files, select=["bilingual/mixed-script"])
    assert where(findings) == [("bilingual/mixed-script", "content/a.md", 3, 9)]
    assert findings[0].fix is None and "missing space" in findings[0].message
    config = DEFAULT_CONFIG + '\n[rules]\n"bilingual/mixed-script" = { report-glued = false }\n'
    assert lint(tmp_path, files, config=config, select=["bilingual/mixed-script"]) == []


def test_words_the_vocabulary_accepts_are_not_mixed_script_findings(tmp_path):
    config = DEFAULT_CONFIG + '\n[spelling]\nwords = ["ИмяSubmit"]\n'
    files = {"content/a.md": "# A\n\nНажмите ИмяSubmit сейчас.\n"}
    assert lint(tmp_path, files, config=config, select=["bilingual/mixed-script"]) == []


# -- bilingual/mixed-jargon ---------------------------------------------------------------------


def test_latin_root_with_a_russian_ending_is_jargon_at_note_level(tmp_path):
    files = {"content/a.md": "# A\n\nЗадача может failить, а потом Dockerом всё чинят.\n"}
    findings = lint(tmp_path, files, select=["bilingual"])
    assert where(findings) == [
        ("bilingual/mixed-jargon", "content/a.md", 3, 14),
        ("bilingual/mixed-jargon", "content/a.md", 3, 31),
    ]
    assert [f.level for f in findings] == ["note", "note"]
    assert "«fail-ить»" in findings[0].message


def test_jargon_accept_list_takes_words_and_roots(tmp_path):
    config = DEFAULT_CONFIG + '\n[rules]\n"bilingual/mixed-jargon" = { accept = ["fail", "Dockerом"] }\n'
    files = {"content/a.md": "# A\n\nЗадача может failить, failнуться; Dockerом чинят.\n"}
    assert lint(tmp_path, files, config=config, select=["bilingual"]) == []


# -- bilingual/wrong-layout (opt-in) ------------------------------------------------------------

LAYOUT = DEFAULT_CONFIG + '\n[rules]\n"bilingual/wrong-layout" = "warning"\n'


def test_whole_word_in_the_wrong_layout(tmp_path):
    files = {"content/a.md": "# A\n\nЗапустите vbuhfwbz, а cj,frf спит. Выполните Ыудусе.\n"}
    assert lint(tmp_path, files, select=["bilingual/wrong-layout"]) == []  # off by default
    findings = lint(tmp_path, files, config=LAYOUT, select=["bilingual/wrong-layout"])
    assert where(findings) == [
        ("bilingual/wrong-layout", "content/a.md", 3, 11),
        ("bilingual/wrong-layout", "content/a.md", 3, 23),
        ("bilingual/wrong-layout", "content/a.md", 3, 46),
    ]
    assert fixes(findings) == [(3, 11, "миграция", False), (3, 23, "собака", False), (3, 46, "Select", False)]


def test_acronyms_known_words_and_identifiers_are_not_wrong_layout(tmp_path):
    text = "# A\n\nПротокол TLS и ЕДЫ, слово kafka, файл ghbdtn.txt и ghbdtn_2, `vbuhfwbz`.\n"
    assert lint(tmp_path, {"content/a.md": text}, config=LAYOUT, select=["bilingual/wrong-layout"]) == []


# -- the property: no repair is an unknown word -------------------------------------------------

KNOWN_RUSSIAN = ["миграция", "контейнер", "нормально", "запрос", "импликации", "сервер", "очередь", "таблица"]
KNOWN_ENGLISH = ["docker", "container", "connector", "snapshot", "offset", "schema", "cluster", "replica"]
_TO_CYRILLIC = {lat: cyr for cyr, lat in CONFUSABLES.items()}


def _corrupt(word: str, draw, how: str) -> str:
    if how == "homoglyph":
        table = CONFUSABLES if word[0] in lexicon.RUSSIAN_LETTERS else _TO_CYRILLIC
        spots = [i for i, c in enumerate(word) if c in table]
        if not spots:
            return word
        i = draw(st.sampled_from(spots))
        return word[:i] + table[word[i]] + word[i + 1 :]
    cut = draw(st.integers(1, len(word) - 1))
    if how == "layout":
        swapped = transliterate.layout_swap(word[:cut])
        return (swapped or word[:cut]) + word[cut:]
    if how == "transliteration":
        readings = transliterate.transliterations(word[:cut], 8)
        return (draw(st.sampled_from(readings)) if readings else word[:cut]) + word[cut:]
    other = draw(st.text(alphabet="abcdefgxyzабвгдж", min_size=1, max_size=3))
    return word[:cut] + other + word[cut:]


@st.composite
def mixed_word(draw):
    word = draw(st.sampled_from(KNOWN_RUSSIAN + KNOWN_ENGLISH))
    how = draw(st.sampled_from(["homoglyph", "layout", "transliteration", "random"]))
    corrupted = _corrupt(word, draw, how)
    if draw(st.booleans()):
        corrupted = corrupted[:1].upper() + corrupted[1:]
    return corrupted


@settings(max_examples=150, deadline=None)
@given(mixed_word())
def test_no_repair_of_a_generated_mixed_word_is_an_unknown_word(word):
    words = lexicon.Lexicon()
    text = f"Слово {word} здесь."
    for found in mixed_words(text):
        reading = read_mixed(found, text, words.known)
        if reading.repair is not None:
            # Known to the dictionary itself, not only to the oracle the rule used.
            assert lexicon.dictionary_known(reading.repair), (word, reading)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(KNOWN_RUSSIAN + KNOWN_ENGLISH), st.integers(0, 50))
def test_every_suggestion_is_a_known_word(word, seed):
    typo = word[: seed % len(word)] + word[seed % len(word) + 1 :] if seed % 2 else word + word[-1]
    for suggestion in lexicon.Lexicon().suggest(typo):
        assert lexicon.dictionary_known(suggestion, derived=False), (typo, suggestion)


# -- spelling/unknown-word ----------------------------------------------------------------------


def test_spelling_is_off_by_default(tmp_path):
    assert lint(tmp_path, {"content/a.md": "# A\n\nВсе аггрегаты сохраняются.\n"}, select=["spelling"]) == []


def test_unknown_russian_word_with_a_dictionary_suggestion(tmp_path):
    files = {"content/a.md": "# A\n\nВсе аггрегаты сохраняются в журнале.\n"}
    findings = lint(tmp_path, files, config=SPELLING, select=["spelling"])
    assert where(findings) == [("spelling/unknown-word", "content/a.md", 3, 5)]
    assert findings[0].level == "note"
    assert "did you mean «агрегаты»" in findings[0].message
    assert fixes(findings) == [(3, 5, "агрегаты", False)]


def test_unknown_english_word_in_russian_prose(tmp_path):
    files = {"content/a.md": "# A\n\nПроверьте conection и затем retry.\n"}
    findings = lint(tmp_path, files, config=SPELLING, select=["spelling"])
    assert where(findings) == [("spelling/unknown-word", "content/a.md", 3, 11)]
    assert "English dictionary" in findings[0].message and "«connection»" in findings[0].message


def test_what_spelling_never_checks(tmp_path):
    text = (
        "---\ntitle: Урок\nзаголовокк: значение\n---\n# Урок\n\n"
        "Код `kafkaa_conectr` и https://exmaple.com/pathh, файл confg.yaml, user@exmaple.org,\n"
        "имена Grafanna и PostgreSQL, аббревиатуры ЖЗПР и GDPRR, переменная my_varr, v2beta.\n\n"
        "```python\nconection = аггрегаты\n```\n\n"
        '<Mermaid chart="граф аггрегаты" />\n'
    )
    files = {"content/a.mdx": text}
    assert lint(tmp_path, files, config=SPELLING, select=["spelling"]) == []


def test_glossary_terms_are_accepted_in_every_inflection_and_suggested_first(tmp_path):
    config = SPELLING + '\n[glossary]\nfile = "data/glossary.json"\n'
    files = {
        "content/a.md": "# A\n\nСнэпшоты и снэпшотов хватит; но снапшотом нельзя.\n",
        "data/glossary.json": json.dumps([{"term": "Снэпшот", "termEn": "Snapshot"}], ensure_ascii=False),
    }
    findings = lint(tmp_path, files, config=config, select=["spelling"])
    assert where(findings) == [("spelling/unknown-word", "content/a.md", 3, 33)]
    assert "did you mean «снэпшотом»" in findings[0].message


def test_course_vocabulary_accepts_words_inflections_and_prefixes(tmp_path):
    config = SPELLING + '\n[spelling]\naccept = ["vocabulary/accept.txt"]\nwords = ["депло*"]\n'
    files = {
        "vocabulary/accept.txt": "# our words\nдашборд\n\npgoutput\n",
        "content/a.md": "# A\n\nДашборды, дашбордов, pgoutput, деплоится, деплоить; а дашбрд — нет.\n",
    }
    assert lint(tmp_path, files, config=SPELLING, select=["spelling"]) == []  # «дашбрд»: nothing close
    findings = lint(tmp_path, files, config=config, select=["spelling"])
    assert where(findings) == [("spelling/unknown-word", "content/a.md", 3, 55)]
    assert "vocabulary/accept.txt" in findings[0].message


def test_rejected_words_are_reported_with_their_entry(tmp_path):
    config = SPELLING + '\n[spelling]\nreject = ["vocabulary/reject.txt"]\n'
    files = {
        "vocabulary/reject.txt": "# words we do not use\nюзер\n",
        "content/a.md": "# A\n\nКаждый юзер получает токен, всем юзерам по токену.\n",
    }
    findings = lint(tmp_path, files, config=config, select=["spelling/rejected-word"])
    assert where(findings) == [
        ("spelling/rejected-word", "content/a.md", 3, 8),
        ("spelling/rejected-word", "content/a.md", 3, 34),
    ]
    assert "vocabulary/reject.txt:2" in findings[0].message


def test_words_no_known_word_is_close_to_are_reported_only_on_request(tmp_path):
    files = {"content/a.md": "---\ntopics: [promqll]\ntitle: Дашборд\n---\n# A\n\nСмотрим дашборд.\n"}
    assert lint(tmp_path, files, config=SPELLING, select=["spelling"]) == []
    config = SPELLING + '"spelling/unknown-word" = { without-suggestions = true }\n'
    findings = lint(tmp_path, files, config=config, select=["spelling"])
    # The title is checked; the topics list (tags, ids) is not.
    assert where(findings) == [
        ("spelling/unknown-word", "content/a.md", 3, 8),
        ("spelling/unknown-word", "content/a.md", 7, 9),
    ]
    assert "English jargon («dashboard»)" in findings[0].message and findings[0].fix is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('accept = ["../outside.txt"]', "must be inside the project root"),
        ('accept = ["/etc/hostname"]', "must be inside the project root"),
        ('accept = ["missing.txt"]', "no such file: missing.txt"),
        ('backend = "aspell"', "must be one of builtin, hunspell"),
        ("words = [1]", "must be a string or a list of strings"),
        ('acept = ["x"]', "did you mean 'accept'"),
    ],
)
def test_spelling_config_errors(tmp_path, cli, value, message):
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / ".coursecheck.toml").write_text(DEFAULT_CONFIG + f"\n[spelling]\n{value}\n", encoding="utf-8")
    code, _out, err = cli(tmp_path)
    assert code == 2
    assert ".coursecheck.toml:" in err and message in err


def test_known_typos_stay_unknown_and_derived_words_are_known():
    for typo in ("аггрегаты", "пережевут", "запрсо", "конфигурацыя"):
        assert not lexicon.dictionary_known(typo), typo
    for word in ("неблокирующий", "логирование", "визуализировать", "гранулярность", "типобезопасной"):
        assert lexicon.dictionary_known(word), word
    for word in ("runtime", "namespace", "backend", "parallelization", "rebalance"):
        assert lexicon.english_known(word), word
    assert not lexicon.english_known("conection")


# -- init and the frequency list ----------------------------------------------------------------

RUSSIAN_LESSON = (
    "---\ntitle: Урок {n}\n---\n# Урок {n}\n\nМы смотрим дашборд и дашборды каждый день. "
    "Снэпшоты хранятся отдельно, а снэпшот делается ночью.{extra}\n"
)
TYPO = " Все аггрегаты пересчитываются."


def test_init_turns_spelling_on_for_a_russian_course_with_a_seeded_vocabulary(tmp_path, cli):
    for n in (1, 2):
        (tmp_path / "lessons").mkdir(exist_ok=True)
        text = RUSSIAN_LESSON.format(n=n, extra=TYPO if n == 1 else "")
        (tmp_path / "lessons" / f"0{n}-lesson.md").write_text(text, encoding="utf-8")
    code, _out, err = cli(tmp_path, "init")
    assert code == 0, err
    config = (tmp_path / ".coursecheck.toml").read_text(encoding="utf-8")
    assert '[rules."spelling/unknown-word"]\nlevel = "note"' in config
    assert 'accept = ["vocabulary/accept.txt"]' in config
    seeded = (tmp_path / "vocabulary" / "accept.txt").read_text(encoding="utf-8").splitlines()
    words = [w for w in seeded if not w.startswith("#")]
    # Jargon used in both lessons; «аггрегаты», used once and one edit from «агрегаты», stays a finding.
    assert words == ["дашборд", "снэпшоты"]
    code, out, err = cli(tmp_path, "--format", "json")
    found = [
        (f["rule"], f["path"], f["line"], f["column"])
        for f in json.loads(out)["findings"]
        if f["rule"].startswith("spelling")
    ]
    assert found == [("spelling/unknown-word", "lessons/01-lesson.md", 6, 102)]
    code, out, err = cli(tmp_path, "terms", "--unknown")
    assert code == 0, err
    assert "аггрегаты" in out and "did you mean агрегаты" in out
    code, out, _ = cli(tmp_path, "terms", "--unknown", "--plain")
    assert out.split() == ["аггрегаты"]


def test_init_stdout_inlines_the_vocabulary_and_english_courses_get_no_spelling(tmp_path, cli):
    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "01-a.md").write_text(RUSSIAN_LESSON.format(n=1, extra=TYPO), encoding="utf-8")
    code, out, _err = cli(tmp_path / "ru", "init", "--stdout")
    assert code == 0 and 'words = ["дашборд", "снэпшоты"]' in out
    assert not (tmp_path / "ru" / "vocabulary").exists()
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "01-a.md").write_text("---\ntitle: A\n---\n# A\n\nPlain English text.\n", encoding="utf-8")
    code, out, _err = cli(tmp_path / "en", "init", "--stdout")
    assert code == 0 and "[spelling]" not in out


def test_yaspeller_ignore_regions_and_names_are_not_checked(tmp_path):
    text = (
        "# A\n\nВывод <!-- yaspeller ignore:start -->«искат ьтакси»<!-- yaspeller ignore:end --> странный.\n\n"
        "Автор Ильсаф написал, Ильсаф Абдулхаков проверил.\n\nНеобязатальный аргумент.\n"
    )
    findings = lint(tmp_path, {"content/a.md": text}, config=SPELLING, select=["spelling"])
    assert where(findings) == [("spelling/unknown-word", "content/a.md", 7, 1)]
    assert "«Необязательный»" in findings[0].message
