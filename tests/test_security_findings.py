"""Findings and the term search stay bounded on hostile input (issue #17).

A long line's snippet is a window around the finding, positions stay exact; a rule keeps at
most ``max-findings`` findings per file and says how many more there are; messages quote
repository text cut short; the term search reads a lesson once for the whole glossary and
finds exactly what searching term by term finds. Sizes are asserted, never times (speed is
measured in benchmarks/).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import re
import textwrap
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, where, write_files

from coursecheck import match
from coursecheck.config import ConfigError, load_config
from coursecheck.engine import Engine, RunOptions
from coursecheck.match import TermMatcher, same_word, same_word_keys, segment_matches
from coursecheck.report import ReportOptions
from coursecheck.report.sarif import sarif_result
from coursecheck.report.text import render
from coursecheck.text import Span, quote, snippet_window

TODO_NOTE = "anti-patterns/todo: findings over the limit"


def _run(root, *, select=None, cache=False):
    config = load_config(root / ".coursecheck.toml", root)
    return Engine(config, RunOptions(select=select or [], entry_points=False, cache=cache)).run()


# -- snippets: a window of a long line ---------------------------------------------------------


def test_a_finding_far_along_a_long_line_keeps_a_window_of_it(course):
    before = "".join(f"w{i % 10} " for i in range(10_000))  # 30,000 characters
    line = before + "TODO" + " хвост" * 2_000
    root = course({"content/a.md": f"# Урок\n\n{line}\n"})
    result = _run(root, select=["anti-patterns/todo"])
    (f,) = result.active
    assert (f.rule_id, f.span.line, f.span.column, f.span.end_column) == ("anti-patterns/todo", 3, 30_001, 30_005)
    assert f.snippet == line[29_800:30_204]
    assert (f.snippet_column, f.snippet_cut) == (29_801, True)
    assert f.snippet[200:204] == "TODO"

    sarif = sarif_result(f, 0)["locations"][0]["physicalLocation"]
    assert sarif["region"] == {
        "startLine": 3,
        "startColumn": 30_001,
        "endLine": 3,
        "endColumn": 30_005,
        "snippet": {"text": "TODO"},
    }
    assert sarif["contextRegion"] == {
        "startLine": 3,
        "startColumn": 29_801,
        "endLine": 3,
        "endColumn": 30_205,
        "snippet": {"text": line[29_800:30_204]},
    }
    shown = render(result, ReportOptions(verbose=True)).splitlines()
    assert shown[1] == "    | …" + line[29_800:30_204] + "…"


def test_sarif_columns_of_a_window_count_utf16_units_before_it(course):
    line = "🙂" * 600 + " " + "ж" * 600 + " TODO конец"  # astral characters take two UTF-16 units
    root = course({"content/a.md": line + "\n"})
    (f,) = _run(root, select=["anti-patterns/todo"]).active
    start = line.index("TODO")
    assert (f.span.column, f.span.column_utf16) == (start + 1, start + 601)
    assert (f.snippet, f.snippet_column, f.snippet_cut) == (line[start - 200 :], start - 199, False)
    context = sarif_result(f, 0)["locations"][0]["physicalLocation"]["contextRegion"]
    assert (context["startColumn"], context["endColumn"]) == (start + 601 - 200, len(line) + 600 + 1)


@pytest.mark.parametrize(("length", "whole"), [(1_000, True), (1_001, False)])
def test_lines_up_to_a_thousand_characters_are_the_snippet_whole(length, whole):
    line = "TODO " + "x" * (length - 5)
    text, column, cut = snippet_window(line, Span(1, 1, 1, 5, 1, 5))
    assert (text == line, column) == (whole, 1)
    assert cut == (not whole)
    if not whole:
        assert text == line[:204]


def test_a_window_keeps_at_most_two_hundred_characters_of_a_long_finding():
    line = "a" * 5_000
    text, column, cut = snippet_window(line, Span(1, 1_001, 1, 4_001, 1_001, 4_001))
    assert (text, column, cut) == (line[800:1_400], 801, True)
    # A finding spanning several lines: its first line from the finding on.
    assert snippet_window(line, Span(1, 4_901, 2, 3, 4_901, 3)) == (line[4_700:], 4_701, False)


def test_fingerprint_of_a_normal_line_is_the_whole_line_and_stays_bounded_on_a_long_one(tmp_path):
    short = "Обычная строка с  МЕТКА внутри."
    after = " здесь" + " слово" * 1_000

    def fingerprints(far: str) -> dict[int, tuple[str, int]]:
        write_files(tmp_path, {"tools/marks.py": MARK_PLUGIN, "content/a.md": f"{short}\n\n{far}МЕТКА{after}\n"})
        (tmp_path / ".coursecheck.toml").write_text(
            'plugins = ["tools/marks.py"]\n' + textwrap.dedent(DEFAULT_CONFIG), encoding="utf-8"
        )
        return {f.span.line: (f.fingerprint, len(f.snippet)) for f in _run(tmp_path, select=["team/mark"]).active}

    first = fingerprints("слово " * 1_000)
    # As before windows existed (the whole line, spaces collapsed): baselines keep matching.
    expected = hashlib.sha256("\0".join(["team/mark", "content/a.md", " ".join(short.split()), "1"]).encode())
    assert first[1] == (expected.hexdigest()[:32], len(short))
    assert first[3][1] == 405  # 200 characters each side of the finding, not the 12,000 of the line
    # An edit farther than 200 characters from the finding, on its line, keeps its fingerprint.
    again = fingerprints("другое " * 1_000 + "слово " * 50)
    assert again == first
    moved = fingerprints("слово " * 1_000 + "ещё ")
    assert moved[3][0] != first[3][0]


MARK_PLUGIN = '''
from coursecheck import hookimpl
from coursecheck.rules import rule


@rule("team/mark", level="warning")
def mark(doc, ctx):
    """Finds the word МЕТКА; reports it without an anchor (the fingerprint takes the line)."""
    at = doc.source.find("МЕТКА")
    while at != -1:
        ctx.report(doc, at, at + 5, "a mark")
        at = doc.source.find("МЕТКА", at + 1)


@rule("team/yielded", level="warning")
def yielded(doc, ctx):
    """Yields its findings instead of reporting them: they are limited the same way."""
    from coursecheck.model import Finding

    for n in range(doc.source.count("МЕТКА")):
        yield Finding("team/yielded", "yielded " + str(n), doc.relpath, doc.span(0, 1), snippet="x" * 50_000)


@rule("team/loud", level="warning")
def loud(doc, ctx):
    """Reports one message of 10,000 characters."""
    if "ГРОМКО" in doc.source:
        ctx.report(doc, 0, 1, "громко " * 1_500, anchor="a" * 5_000)


@hookimpl
def coursecheck_rules():
    return [mark, yielded, loud]
'''


# -- at most max-findings per rule and file ----------------------------------------------------


def _todos(n: int) -> str:
    return "# Урок\n\n" + "".join(f"TODO пункт {i}\n\n" for i in range(n))


def test_a_rule_keeps_two_hundred_findings_per_file_and_says_how_many_more(course):
    root = course({"content/a.md": _todos(250), "content/b.md": _todos(3)})
    result = _run(root, select=["anti-patterns/todo"])
    in_a = [f for f in result.active if f.path == "content/a.md"]
    assert where(in_a) == [("anti-patterns/todo", "content/a.md", 3 + 2 * i, 1) for i in range(201)]
    note = in_a[-1]
    assert note.message == (
        "50 more findings of anti-patterns/todo in this file are not reported: at most 200 are reported per "
        'rule and file; to see them all, set [rules] "anti-patterns/todo" = { max-findings = 0 }'
    )
    assert (note.level, note.anchor, note.snippet) == ("warning", TODO_NOTE, "TODO пункт 200")
    assert all("пункт" in f.message for f in in_a[:-1])
    assert where(result.active, "anti-patterns/todo")[201:] == [
        ("anti-patterns/todo", "content/b.md", 3 + 2 * i, 1) for i in range(3)
    ]


def test_a_course_rule_past_the_limit_counts_without_making_the_findings(course):
    # graph/unresolved-reference asks count_if_full before making each message: the count
    # in the note is still every dead link of the file, the kept ones the first 200.
    links = "".join(f"[ссылка {i}](missing-{i}.md)\n\n" for i in range(230))
    root = course({"content/a.md": "# Урок\n\n" + links, "content/b.md": "# Б\n\n[тоже](nowhere.md)\n"})
    result = _run(root, select=["graph/unresolved-reference"])
    in_a = [f for f in result.active if f.path == "content/a.md"]
    assert where(in_a)[:2] == [("graph/unresolved-reference", "content/a.md", line, 12) for line in (3, 5)]
    assert len(in_a) == 201 and in_a[199].message.startswith("link 'missing-199.md'")
    assert in_a[-1].message.startswith("30 more findings of graph/unresolved-reference in this file are not reported")
    assert where(in_a[-1:]) == [("graph/unresolved-reference", "content/a.md", 403, 14)]  # the first left out
    assert where([f for f in result.active if f.path == "content/b.md"]) == [
        ("graph/unresolved-reference", "content/b.md", 3, 8)
    ]


@pytest.mark.parametrize(
    ("settings", "kept"),
    [
        ("max-findings = 0\n", 250),
        ("max-findings = 10\n", 10),
        ('[rules]\n"anti-patterns/todo" = { max-findings = 5 }\n', 5),
        ('[rules]\nanti-patterns = { level = "error", max-findings = 7 }\n', 7),
        (
            'max-findings = 3\n[[overrides]]\nfiles = ["content/a.md"]\nrules = { "anti-patterns/todo" = { max-findings = 0 } }\n',
            250,
        ),
    ],
)
def test_max_findings_is_set_at_the_top_per_family_rule_and_override(course, settings, kept):
    config = (
        settings.split("[", 1)[0]
        + textwrap.dedent(DEFAULT_CONFIG)
        + ("[" + settings.split("[", 1)[1] if "[" in settings else "")
    )
    root = course({"content/a.md": _todos(250)}, config=config)
    found = _run(root, select=["anti-patterns/todo"]).active
    assert len(found) == kept + (kept < 250)
    assert [f.span.line for f in found[:kept]] == [3 + 2 * i for i in range(kept)]
    if kept < 250:
        assert found[-1].anchor == TODO_NOTE
        assert found[-1].message.startswith(f"{250 - kept} more findings of anti-patterns/todo in this file")
        assert found[-1].span.line == 3 + 2 * kept


@pytest.mark.parametrize("value", ["-1", '"many"', "true", "1.5"])
def test_max_findings_must_be_a_whole_number(course, value):
    root = course({"content/a.md": "x\n"}, config=f"max-findings = {value}\n" + textwrap.dedent(DEFAULT_CONFIG))
    with pytest.raises(ConfigError, match=r"max-findings: must be a whole number >= 0 \(0 = no limit\)"):
        load_config(root / ".coursecheck.toml", root)


def test_one_long_line_of_markers_keeps_bounded_findings_cache_and_sarif(course, cli):
    line = ("TODO " * 4_000).strip()  # 20 KB, 4,000 markers
    root = course({"content/a.md": line + "\n"})
    result = _run(root, select=["anti-patterns/todo"])
    assert len(result.active) == 201
    assert result.active[-1].message.startswith("3,800 more findings of anti-patterns/todo in this file")
    assert [f.span.column for f in result.active[:3]] == [1, 6, 11]
    assert max(len(f.snippet) for f in result.active) <= 404
    assert len(pickle.dumps(result.active)) < 200_000  # was 4,000 copies of the 20 KB line (80 MB)
    code, out, _ = cli(root, "--select", "anti-patterns/todo", "--format", "sarif")
    assert code == 0 and len(out) < 400_000
    cache_files = [p for p in (root / ".coursecheck-cache").rglob("*") if p.is_file()]
    entries = [p for p in cache_files if "v1-finished" not in p.parts]
    assert entries and max(p.stat().st_size for p in entries) < 200_000
    # The reporters' stored text is bounded by the (bounded) report it is part of.
    stores = [p for p in cache_files if "v1-finished" in p.parts]
    assert stores and max(p.stat().st_size for p in stores) < len(out.encode()) + 200_000


def test_yielded_findings_are_limited_and_bounded_too(tmp_path):
    write_files(tmp_path, {"tools/marks.py": MARK_PLUGIN, "content/a.md": "МЕТКА " * 300 + "\n"})
    (tmp_path / ".coursecheck.toml").write_text(
        'plugins = ["tools/marks.py"]\n' + textwrap.dedent(DEFAULT_CONFIG), encoding="utf-8"
    )
    found = [f for f in _run(tmp_path, select=["team/yielded"]).active]
    assert len(found) == 201
    (note,) = [f for f in found if f.anchor == "team/yielded: findings over the limit"]
    assert note.message.startswith("100 more findings of team/yielded in this file are not reported")
    assert sorted(f.message for f in found if f is not note) == sorted(f"yielded {n}" for n in range(200))
    assert {len(f.snippet) for f in found} == {201}  # a 50,000-character "line" cut to its window
    assert all(f.snippet_cut for f in found)


def test_suppressions_for_a_rule_over_its_limit_are_not_called_unused(course):
    lesson = _todos(205) + "<!-- coursecheck-disable-next-line anti-patterns/todo -->\nTODO последний\n\n"
    lesson += "<!-- coursecheck-disable-next-line anti-patterns/placeholder -->\nничего\n"
    root = course({"content/a.md": lesson})
    result = _run(root, select=["anti-patterns", "core"])
    unused = where(result.active, "core/unused-suppression")
    # The placeholder one silences nothing and says so; the TODO one may be for a finding left out.
    assert unused == [("core/unused-suppression", "content/a.md", 416, 1)]
    assert len(where(result.active, "anti-patterns/todo")) == 201


# -- messages quote repository text cut short ----------------------------------------------------


def test_declarative_match_is_quoted_cut_to_two_hundred_characters(course):
    config = textwrap.dedent(DEFAULT_CONFIG) + textwrap.dedent(
        """
        [[rule]]
        id = "team/long-x"
        kind = "existence"
        regex = true
        terms = ['x{10,}']
        message = "found '{match}' here"
        """
    )
    root = course({"content/a.md": "a " + "x" * 5_000 + " b\n"}, config=config)
    (f,) = _run(root, select=["team/long-x"]).active
    assert f.message == "found '" + "x" * 199 + "…' here"
    assert (f.span.column, f.span.end_column) == (3, 5_003)
    assert len(f.anchor) == 1_000 + 1 + 16  # the match's start and a digest of the whole


def test_glossary_terms_are_quoted_cut_short(course):
    long_term = "Слово" * 200
    config = textwrap.dedent(DEFAULT_CONFIG) + f'[glossary]\nterms = [{{ term = "{long_term}", english = "Word" }}]\n'
    root = course({"content/a.md": "Нет терминов.\n"}, config=config)
    (f,) = _run(root, select=["terminology/unused-term"]).active
    assert f.message == (
        f"glossary term «{quote(long_term)}» (Word) is used in no lesson (looked for {quote(long_term)} / Word in 1 lessons)"
    )
    assert len(f.message) < 500


def test_any_message_is_cut_to_two_thousand_characters(tmp_path):
    write_files(tmp_path, {"tools/marks.py": MARK_PLUGIN, "content/a.md": "ГРОМКО\n"})
    (tmp_path / ".coursecheck.toml").write_text(
        'plugins = ["tools/marks.py"]\n' + textwrap.dedent(DEFAULT_CONFIG), encoding="utf-8"
    )
    (f,) = _run(tmp_path, select=["team/loud"]).active
    assert len(f.message) == 2_000 and f.message.endswith("…")
    assert f.anchor == "a" * 1_000 + "…" + hashlib.sha256(b"a" * 5_000).hexdigest()[:16]


# -- the term search: one index per lesson, the findings of searching term by term -----------------

_REAL_WORDS = [
    "коннектор",
    "снимок",
    "журнал",
    "таблица",
    "сервер",
    "очередь",
    "реплика",
    "схема",
    "том",
    "слой",
    "образ",
    "сеть",
    "порт",
    "ключ",
    "запись",
    "событие",
    "потребитель",
    "производитель",
    "брокер",
    "раздел",
]


def _glossary(n: int, rnd: random.Random) -> list[dict[str, object]]:
    cyr, vowels, lat, lvowels = "бвгдзклмнпрстфхцчшщ", "аеиоуыэюяё", "bcdfghklmnprstvwz", "aeiou"

    def word(cons: str, vows: str, k: int) -> str:
        return "".join(rnd.choice(cons) + rnd.choice(vows) for _ in range(k))

    entries: list[dict[str, object]] = []
    for w in _REAL_WORDS:
        entries.append({"term": w.capitalize(), "termEn": word(lat, lvowels, 3)})
    tricky = [
        {"term": "Журнал упреждающей записи", "termEn": "Write-Ahead Log", "abbreviation": "WAL"},
        {"term": "Точка монтирования", "termEn": "mount point"},
        {"term": ".NET", "termEn": "дотнет"},
        {"term": "C++", "termEn": "плюсы"},
        {"term": "CI/CD", "termEn": "конвейер"},
        {"term": "node.js", "termEn": "нода"},
        {"term": "кто-нибудь", "termEn": "someone"},
        {"term": "Ёлка", "termEn": "fir tree"},
        {"term": "ſtrange", "termEn": "kelvin"},
        {"term": "Iota", "termEn": "йота"},
        {"term": "ιστορία", "termEn": "history"},  # Greek iota: U+0345 matches it without case
    ]
    entries += tricky
    seen = {str(e["term"]).lower() for e in entries}
    while len(entries) < n:
        ru = word(cyr, vowels, rnd.randint(1, 4)) + rnd.choice(["", "ор", "ия", "ка", "ость"])
        if rnd.random() < 0.2:
            ru += " " + word(cyr, vowels, 2)
        if ru.lower() in seen:
            continue
        seen.add(ru.lower())
        entry: dict[str, object] = {"term": ru.capitalize(), "termEn": word(lat, lvowels, rnd.randint(1, 3))}
        if rnd.random() < 0.1:
            entry["abbreviation"] = word(lat, lvowels, 1).upper()
        entries.append(entry)
    return entries


def _lesson(entries: list[dict[str, object]], rnd: random.Random, extra: str = "") -> str:
    endings = ["", "а", "ом", "ами", "е", "ы", "ов", "ах"]
    lines = ["---", "title: Урок", "---", "", "# Заголовок про " + str(entries[0]["term"]), ""]
    sentences = []
    for entry in rnd.sample(entries, 60):
        term, english = str(entry["term"]), str(entry["termEn"])
        ru = term.lower() + rnd.choice(endings)
        shapes = [
            f"Здесь {ru} ({english}) и ещё {term.upper()}.",
            f"В тексте {ru.replace('е', 'ё')} без пары, x{term.lower()} склеен, {english}s во множественном.",
            f"Код `{term.lower()}_{english}` и {english.upper()}-{term.lower()}, снова {ru}ом.",
            f"Пункт {english} ({ru}), {entry.get('abbreviation', 'NOPE')} (расшифровка).",
        ]
        sentences.append(rnd.choice(shapes))
    for at in range(0, len(sentences), 6):  # paragraphs of six sentences, some of them list items
        lines += [("* " if at % 24 == 0 else "") + " ".join(sentences[at : at + 6]), ""]
    lines += ["```bash", "echo " + " ".join(str(e["termEn"]) for e in entries[:30]), "```", ""]
    lines += ["Трудные: C++ и .NET, ASP.NET, CI/CD, node.js, кто-нибудь, ЁЛКИ, ёлку, WALK и WAL (Write-Ahead Log)."]
    lines += ["Буквы: ſtrange, STRANGE, Kelvin, İota, IOTA, ıota.", extra]
    return "\n".join(lines) + "\n"


def _term_course(tmp_path, odd: str = ""):
    rnd = random.Random(17)
    entries = _glossary(300, rnd)
    files = {
        "data/glossary.json": json.dumps(entries, ensure_ascii=False, indent=1),
        "content/01-one.md": _lesson(entries, rnd),
        "content/02-two.md": _lesson(entries, rnd, extra=odd),
    }
    config = "max-findings = 0\n" + textwrap.dedent(DEFAULT_CONFIG)
    config = config.replace("[course]", '[course]\nlanguages = { primary = "ru", secondary = "en" }')
    config += '[glossary]\nfile = "data/glossary.json"\n'
    config += '[[glossary.terms]]\nterm = "Образ"\nvariants = ["имидж"]\nforbidden = ["картинка"]\nexclude = ["образ жизни"]\n'
    write_files(tmp_path, files)
    (tmp_path / ".coursecheck.toml").write_text(config, encoding="utf-8")
    return tmp_path


def _term_by_term(doc, matcher, scopes):
    """The reference: every segment of the scopes searched with the term's regex."""
    return [(seg, m) for seg in doc.segments if seg.scope in scopes for m in matcher.finditer(seg.text)]


@pytest.mark.parametrize("odd", ["", "Греческая подписная йота: \u0345στορία и \u0345ιστορία."])
def test_a_large_glossary_is_found_as_term_by_term(odd):
    from coursecheck.parse.markdown import parse_markdown

    rnd = random.Random(17)
    entries = _glossary(300, rnd)
    matchers = [
        TermMatcher(*[str(e[k]) for k in ("term", "termEn", "abbreviation") if k in e], inflect=True, plurals=True)
        for e in entries
    ]
    matchers.append(TermMatcher("Образ", inflect=True, exclude=["образ жизни"], ambiguous="skip"))
    matchers.append(TermMatcher("WAL", "Kafka", case_sensitive=True))
    matched = 0
    for name in ("01-one.md", "02-two.md"):
        text = _lesson(entries, rnd, extra=odd if name == "02-two.md" else "")
        doc = parse_markdown(Path(name), name, text, mdx=False)
        prose = frozenset(match.resolve_scopes("prose"))
        for scopes, some in ((frozenset(match.resolve_scopes("all")), matchers), (prose, matchers[::10])):
            for matcher in some:
                got = [(id(seg), m) for seg, m in segment_matches(doc, matcher, scopes)]
                assert got == [(id(seg), m) for seg, m in _term_by_term(doc, matcher, scopes)], matcher.forms
                matched += len(got)
        index = match._term_index(doc)
        assert index is not None and index.usable == (name == "01-one.md" or odd == "")
    assert matched > 500


def test_a_large_glossary_gives_the_findings_of_the_search_term_by_term(tmp_path, monkeypatch):
    root = _term_course(tmp_path)
    indexed = [f.as_dict() for f in _run(root, select=["terminology", "bilingual"]).findings]
    monkeypatch.setattr(match, "_term_index", lambda doc: None)  # every term searched with its regex
    by_term = [f.as_dict() for f in _run(root, select=["terminology", "bilingual"]).findings]
    assert indexed == by_term
    rules = {f["rule"] for f in indexed}
    assert {"bilingual/missing-pair", "terminology/unused-term", "bilingual/inconsistent-rendering"} <= rules
    assert len(indexed) > 300


def test_term_keys_find_every_pair_same_word_accepts():
    words = [
        *_REAL_WORDS,
        "коннектора",
        "коннекторов",
        "снимка",
        "снимки",
        "журналы",
        "журнале",
        "тома",
        "томе",
        "слои",
        "слоя",
        "слот",
        "образы",
        "образуют",
        "сети",
        "записи",
        "ёлка",
        "елки",
        "брокеры",
        "разделы",
        "Kafka",
        "kafka",
        "Kafkas",
        "топик",
        "топики",
        "топиков",
        "алерт",
        "алертов",
        "шибо",
        "шибоа",
    ]
    for a in words:
        for b in words:
            if same_word(a, b):
                assert same_word_keys(a)[1] & same_word_keys(b)[0], (a, b)


def test_term_matcher_finditer_at_gives_what_finditer_gives():
    matcher = TermMatcher("коннектор", "Write-Ahead Log", "WAL", inflect=True, plurals=True)
    text = "Коннекторы и коннектором; WALK, WAL, write-ahead  log и x-коннектор, коннектор_1."
    starts = range(len(text))  # every place: the regex decides
    assert list(matcher.finditer_at(text, starts)) == list(matcher.finditer(text))
    assert [m.text for m in matcher.finditer(text)] == [
        "Коннекторы",
        "коннектором",
        "WAL",
        "write-ahead  log",
        "коннектор",
        "коннектор",
    ]


def test_the_parenthesis_a_use_is_in_is_found_as_by_scanning_back():
    from coursecheck.glossary import _open_paren_before

    rnd = random.Random(3)
    for _ in range(500):
        text = "".join(rnd.choice("ab (\n)") for _ in range(rnd.randint(0, 25)))
        for start in range(len(text) + 1):
            back = text.rfind("(", 0, start)
            inside = back != -1 and ")" not in text[back:start] and "\n" not in text[back:start]
            assert _open_paren_before(text, start) == (back if inside else -1), (text, start)


def test_excluded_phrases_drop_exactly_the_uses_inside_them():
    matcher = TermMatcher("том", inflect=True, exclude=["в том числе", "том числе"], ambiguous="count")
    text = "в том числе том, и том числе; тома в том числе " * 3
    found = [(m.start, m.text) for m in matcher.finditer(text)]
    phrases = [(p.start(), p.end()) for p in re.finditer("в том числе|том числе", text)]
    expected = [
        (m.start(), m.group())
        for m in re.finditer(r"(?<![^\W_])тома?(?![^\W_])", text)
        if not any(s <= m.start() and m.end() <= e for s, e in phrases)
    ]
    assert found == expected and len(found) == 6
