"""Spelling: words of the lessons' prose checked against dictionaries, the glossary and the
course's own vocabulary (see :mod:`coursecheck.lexicon` for what "known" means).

Config (all optional)::

    [spelling]
    accept = ["vocabulary/accept.txt"]   # words the course uses on purpose, one a line
    reject = ["vocabulary/reject.txt"]   # words that must not appear
    words = ["дашборд", "алерт"]          # more accepted words, inline
    backend = "builtin"                  # or "hunspell" (pyenchant with the system's dictionaries)

    [rules]
    "spelling" = "note"                  # the family is off by default; `coursecheck init`
                                         # turns it on for Russian courses

What is never checked: code (blocks and inline), URLs, paths, e-mail addresses, identifiers
(a token with a digit, ``_``, ``.``, ``/``, ``@``...), JSX and component props, frontmatter
keys, acronyms (all capitals), words shorter than ``min-length``, words mixing scripts
(``bilingual/mixed-script`` reads those), and in a course whose primary language is not
written in Latin letters, Latin words with a capital letter (names: Kafka, PostgreSQL).

``coursecheck terms --unknown`` lists the unknown words of the whole course by frequency, so
an author can build the vocabulary in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from coursecheck import hookimpl, lexicon
from coursecheck.config import Config
from coursecheck.config.schema import Section
from coursecheck.match import resolve_scopes
from coursecheck.model import Document, Edit, Fix
from coursecheck.rules import Option, Rule, RuleContext, rule
from coursecheck.spellcheck import (
    _STRESS,
    Checking,
    Unknown,
    checking,
    ignored_ranges,
    merge_unknown,
    unknown_counts,
    unknown_words,
    words_in,
)

SCOPES_HELP = "where to look: prose (paragraphs, lists, tables, headings), frontmatter (string values), ..."


def _scopes(ctx: RuleContext) -> tuple[str, ...]:
    try:
        return resolve_scopes(ctx.options.get("scopes") or ["prose"])
    except ValueError:
        return resolve_scopes("prose")


def _language(word: str) -> str:
    return "Russian" if lexicon.script(word) == "Cyrillic" else "English"


@rule(
    "spelling/unknown-word",
    level="off",
    fixable=True,
    options=[
        Option("scopes", list, ["prose", "frontmatter"], SCOPES_HELP, item=str),
        Option("latin", bool, True, "also check words in Latin letters against the English word list"),
        Option(
            "capitalized-latin",
            bool,
            False,
            "in a course whose primary language is not written in Latin letters, also check Latin words "
            "with a capital letter (by default they are taken for names: Kafka, Grafana)",
        ),
        Option(
            "min-length",
            int,
            5,
            "shortest word (in letters) to check (short unknown words are mostly slang and abbreviations)",
        ),
        Option(
            "capitalized",
            bool,
            False,
            "also check capitalised words in mid-sentence (by default taken for names: «Коровченко»)",
        ),
        Option(
            "latin-min-length",
            int,
            5,
            "shortest word in Latin letters to check (short ones in Russian prose are mostly names and "
            "abbreviations written in lower case: aws, cdc)",
        ),
        Option("suggestions", int, 3, "how many known words to suggest (0: none)"),
        Option(
            "without-suggestions",
            bool,
            False,
            "also report unknown words no known word is one edit away from: mostly jargon, names and "
            "derived words a dictionary lacks (`coursecheck terms --unknown` lists them all)",
        ),
    ],
)
def unknown_word(doc: Document, ctx: RuleContext) -> None:
    """A word no dictionary, glossary or course vocabulary knows: a typo, or jargon to accept.

    ## What it does
    Checks each word of the prose (and of frontmatter string values): Russian words against
    pymorphy3's OpenCorpora dictionary (every inflection), words in Latin letters against an
    English word list (pyspellchecker's, with regular endings and closed compounds), or
    Hunspell with `[spelling] backend = "hunspell"`. Accepted without a dictionary: the
    glossary's terms in every inflection («снэпшотов» when the glossary has «Снэпшот»), the
    course vocabulary (`[spelling] accept` files and `words`). Never checked: code, URLs,
    paths, identifiers, JSX and props, frontmatter keys, acronyms, names in Latin letters
    (capitalised) in Russian prose, words mixing scripts (`bilingual/mixed-script`), words
    shorter than `min-length`, frontmatter list items (tags, ids), text between yaspeller's
    `<!-- yaspeller ignore:start -->` and `ignore:end` comments, capitalised words in
    mid-sentence (names). Suggestions come from the glossary first, then from the dictionary
    (a word one edit away by an edit people make: swapped letters, a doubled letter, a
    confused vowel or voiced consonant, a missing vowel, an extra letter in a long word;
    never the first letter), then from the course vocabulary; only known words are
    suggested, and the first is offered as an unsafe fix. By default a word is reported only
    when some known word is that close (a likely typo); the rest (jargon, names, derivations
    a dictionary lacks) are listed by `coursecheck terms --unknown`, or reported with
    `without-suggestions = true`.

    ## Why it matters
    A typo in a lesson costs the course its credibility and breaks search; a term spelled
    two ways («аггрегаты», «агрегаты») reads as two terms.

    ## Example
    ```markdown
    Все аггрегаты сохраняются в журнале.
    ```
    Reported at line 1, column 5.
    `«аггрегаты» is not in the Russian dictionary, the glossary or the course vocabulary;
    did you mean «агрегаты»?`

    Use instead:
    ```markdown
    Все агрегаты сохраняются в журнале.
    ```

    ## How to fix
    Correct the word (the fix writes the first suggestion; check it), or add the word to
    the course vocabulary (`[spelling] accept`): `coursecheck terms --unknown` lists every
    unknown word of the course by frequency.

    ## Fix safety
    Unsafe: the fix writes the first suggestion, the closest known word, which need not be the
    word meant (or the word may be jargon to accept). `coursecheck --fix` never applies it;
    the editor offers it as "unsafe fix: review it", and SARIF marks it `safe: false`.
    """
    words = lexicon.build(ctx.config, ctx.course)
    how = checking(ctx.options, ctx.config)
    limit = max(0, int(ctx.options.get("suggestions", 3)))
    vocabulary = words.accept_files[0] if words.accept_files else "the course vocabulary ([spelling] accept)"
    report_all = bool(ctx.options.get("without-suggestions", False))
    ignored = ignored_ranges(doc) if doc.comments else []
    for seg, at, word in unknown_words(doc.iter_segments(_scopes(ctx)), words, how):
        bare = word.replace(_STRESS, "")
        start, end = seg.range(at, at + len(word))
        if ignored and any(a <= start < b for a, b in ignored):
            continue
        suggestions = words.suggest(bare, max(limit, 1))[:limit] if limit or not report_all else []
        if not report_all and not words.suggest(bare, 1):
            continue  # no known word is close: jargon or a name (`coursecheck terms --unknown` lists it)
        hint = f"; did you mean {', '.join(f'«{s}»' for s in suggestions)}?" if suggestions else ""
        root = lexicon.english_root(bare) if not suggestions else None
        if root is not None:
            hint = f": English jargon («{root}»)?"
        fix = None
        if suggestions and doc.source[start:end] == bare:
            fix = Fix(f"write «{suggestions[0]}»", [Edit(doc.span(start, end), suggestions[0])], safe=False)
        ctx.report(
            doc,
            start,
            end,
            f"«{word}» is not in the {_language(bare)} dictionary, the glossary or the course vocabulary{hint} "
            f"(a word used on purpose goes into {vocabulary})",
            fix=fix,
            anchor=bare.lower(),
        )


@rule(
    "spelling/rejected-word",
    level="off",
    options=[Option("scopes", list, ["prose", "frontmatter"], SCOPES_HELP, item=str)],
)
def rejected_word(doc: Document, ctx: RuleContext) -> None:
    """A word the course vocabulary rejects (`[spelling] reject`) is used in a lesson.

    ## What it does
    Reports every use, in prose and frontmatter values, of a word listed in a `reject`
    file of `[spelling]` (a Russian entry also rejects its inflections; an entry ending in
    `*` rejects every word it begins), naming the file and line of the entry. Like Vale's
    `reject.txt`: the words a team has ruled out.

    ## Why it matters
    Some words are spelled right and still wrong for the course: a dropped product name, a
    calque, a spelling the editors replaced.

    ## Example
    With `юзер` in `vocabulary/reject.txt`:
    ```toml
    [spelling]
    reject = ["vocabulary/reject.txt"]

    [rules]
    "spelling/rejected-word" = "warning"
    ```
    In `vocabulary/reject.txt`:
    ```text
    юзер
    ```
    In `content/01-auth.md`:
    ```markdown
    Каждый юзер получает токен.
    ```
    Reported at line 1, column 8 of `content/01-auth.md`.

    Use instead:
    In `content/01-auth.md`:
    ```markdown
    Каждый пользователь получает токен.
    ```

    ## How to fix
    Use the word the course settled on (the reject file's comments are a good place to say
    which), or remove the entry.
    """
    words = lexicon.build(ctx.config, ctx.course)
    if not len(words.rejected):
        return
    for seg in doc.iter_segments(_scopes(ctx)):
        for at, word in words_in(seg.text):
            entry = words.rejected.find(word.replace(_STRESS, ""))
            if entry is None:
                continue
            start, end = seg.range(at, at + len(word))
            ctx.report(
                doc, start, end, f"«{word}» is rejected by the course vocabulary ({entry.where})", anchor=word.lower()
            )


# -- config, cache inputs, init ----------------------------------------------------------------


@hookimpl
def coursecheck_config_schemas() -> list[Section]:
    return [lexicon.SCHEMA]


@hookimpl
def coursecheck_inputs(config: Config) -> list[str]:
    return lexicon.input_files(config)


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [unknown_word, rejected_word]


VOCABULARY_FILE = "vocabulary/accept.txt"
# init accepts an unknown word the course uses at least this often, unless a dictionary
# word is one edit away from it (then it may well be a typo: it stays a finding).
SEED_MIN_COUNT = 2
SEED_ALWAYS = 3  # a word used this often is the course's word, even one edit from another


def seed_words(unknown: list[Unknown]) -> list[Unknown]:
    """The unknown words ``init`` accepts: those with no known word one edit away that are
    used twice or borrowed from English («дашборд», «топиков»); and borrowed words one edit
    from a known word that the course writes its own way, three times or in two lessons
    («телеграм»). «аггрегаты» («агрегаты») and «необязятальный» stay findings."""
    out = []
    for u in unknown:
        borrowed = lexicon.english_root(u.word) is not None or lexicon.script(u.word) == "Latin"
        if u.suggestions:
            # One edit from a known word: accepted only when it is a borrowed word the course
            # writes its own way, often or in two lessons («телеграм»); a native word written
            # so is a typo however often («необязятальный»).
            if borrowed and (u.count >= SEED_ALWAYS or u.same_form_lessons >= 2):
                out.append(u)
        elif u.count >= SEED_MIN_COUNT or borrowed:
            out.append(u)
    return out


def russian_share(docs: Iterable[Document]) -> float:
    """The share of Cyrillic letters among the letters of the lessons' prose."""
    cyrillic = latin = 0
    for doc in docs:
        for seg in doc.iter_segments(resolve_scopes("prose")):
            cyrillic += len(re.findall(r"[а-яёА-ЯЁ]", seg.text))
            latin += len(re.findall(r"[a-zA-Z]", seg.text))
    return cyrillic / (cyrillic + latin) if cyrillic + latin else 0.0


_INIT_WORDS: list[Any] = []  # the lexicon init's per-file survey uses (built once per process)


@hookimpl
def coursecheck_init_file(doc: Document, survey: Any) -> dict[str, Any] | None:
    """Per file, for init: the unknown Russian words of a sampled file with Russian prose
    (``{key: {form: count}}``; see :func:`unknown_counts`)."""
    sampled = getattr(survey, "sampled", None)
    if sampled is not None and not sampled(doc.relpath):
        return None
    if not any(_CYRILLIC_LETTER.search(seg.text) for seg in doc.iter_segments(("prose",))):
        return None
    if not _INIT_WORDS:
        from coursecheck.config import Config

        _INIT_WORDS.append(lexicon.build(Config(path=None, root=survey.root), None))
    counts = unknown_counts(doc, _INIT_WORDS[0], Checking("Cyrillic", True, False, 5))
    return {"unknown": counts}


_CYRILLIC_LETTER = re.compile(r"[а-яёА-ЯЁ]")


@hookimpl
def coursecheck_init_sections(survey: Any) -> str | None:
    """For a Russian course (a third of the prose's letters or more are Cyrillic): the
    spelling rules on (unknown words at note level) and a vocabulary seeded with the
    course's jargon (unknown words used at least twice that no dictionary word is one edit
    away from), written to ``vocabulary/accept.txt`` (inline ``words`` with ``--stdout``).
    On a big course the seed reads an even spread of its lessons (see
    :data:`coursecheck.init.SPELLING_SAMPLE`)."""
    lessons = list(getattr(survey, "lessons", []) or [])
    facts = getattr(survey, "facts", {}) or {}
    cyrillic = sum(getattr(facts.get(rel), "cyrillic", 0) for rel in lessons)
    latin = sum(getattr(facts.get(rel), "latin", 0) for rel in lessons)
    if not lessons or cyrillic + latin == 0 or cyrillic / (cyrillic + latin) < 1 / 3:
        return None
    from coursecheck.config import Config

    per_file = (getattr(survey, "file_data", {}) or {}).get(__name__, {})
    texts = [*lessons, *(getattr(survey, "partials", []) or [])]
    parts = [(rel, per_file[rel]["unknown"]) for rel in texts if isinstance(per_file.get(rel), dict)]
    unknown = merge_unknown(parts, lexicon.build(Config(path=None, root=survey.root), None))
    seeded = seed_words(unknown)
    header = (
        "# Spelling: Russian words through pymorphy3's dictionary, English ones through an English word list;\n"
        "# glossary terms are accepted in every inflection. `coursecheck terms --unknown` lists the words\n"
        f"# no dictionary knows, by frequency. init accepted {len(seeded)} of the {len(unknown)} unknown\n"
        f"# words of {len(parts)} lessons: used twice or borrowed from English, with no known word one edit away;\n"
        f"# or borrowed words the course writes its own way ({SEED_ALWAYS} times or in 2 lessons)."
    )
    rules = '\n\n[rules."spelling/unknown-word"]\nlevel = "note"\n\n[rules."spelling/rejected-word"]\nlevel = "warning"'
    target = survey.root / VOCABULARY_FILE
    files = getattr(survey, "files", None)
    if files is not None and getattr(survey, "write_files", False):
        if not target.exists():
            body = "".join(f"{u.word}\n" for u in sorted(seeded, key=lambda u: u.word))
            files[VOCABULARY_FILE] = (
                "# Words this course uses on purpose, one a line (coursecheck's [spelling] accept).\n"
                "# A Russian word accepts its inflections; a word ending in * accepts every word it begins.\n"
                f"# Seeded by `coursecheck init` with the course's jargon; see `coursecheck terms --unknown`.\n{body}"
            )
        return f'{header}\n[spelling]\naccept = ["{VOCABULARY_FILE}"]{rules}'
    listed = ", ".join('"' + u.word.replace("\\", "\\\\").replace('"', '\\"') + '"' for u in seeded)
    return f"{header}\n[spelling]\nwords = [{listed}]{rules}"
