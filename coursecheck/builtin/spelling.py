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
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from coursecheck import glossary as gl
from coursecheck import hookimpl, lexicon
from coursecheck.config import Config
from coursecheck.match import resolve_scopes, stem
from coursecheck.model import Document, Edit, Fix, Segment
from coursecheck.rules import Option, Rule, RuleContext, rule

# A token is what whitespace, dashes, brackets and quotes separate; its edge punctuation is
# stripped; what is left is a word only if it is letters with inner hyphens or apostrophes
# (anything else -- a digit, "_", ".", "/", "@", "=" -- makes it code-like: not checked).
_TOKEN = re.compile(r"[^\s\u2014\u2013\u2026«»\"“”„()\[\]{}<>|]+")
_EDGE = ".,;:!?'’*~^`‘"
_WORDLIKE = re.compile(r"[^\W\d_](?:[^\W\d_]|\u0301)*(?:[-'’][^\W\d_](?:[^\W\d_]|\u0301)*)*")
_PART = re.compile(r"[^\W\d_](?:[^\W\d_]|\u0301)*")
_STRESS = "\u0301"

SCOPES_HELP = "where to look: prose (paragraphs, lists, tables, headings), frontmatter (string values), ..."


@dataclass(frozen=True, slots=True)
class Checking:
    """What the rule checks (its options, resolved once)."""

    primary: str  # the primary language's script
    latin: bool
    capitalized_latin: bool
    min_length: int
    latin_min_length: int = 5
    capitalized: bool = False  # also check capitalised words in mid-sentence (names)


def checking(ctx_options: dict[str, Any], config: Config) -> Checking:
    primary = gl.language_script(config.course.languages.get("primary", "ru")) or "Cyrillic"
    return Checking(
        primary=primary,
        latin=bool(ctx_options.get("latin", True)),
        capitalized_latin=bool(ctx_options.get("capitalized-latin", False)) or primary == "Latin",
        min_length=max(1, int(ctx_options.get("min-length", 5))),
        latin_min_length=max(1, int(ctx_options.get("latin-min-length", 5))),
        capitalized=bool(ctx_options.get("capitalized", False)),
    )


@lru_cache(maxsize=65536)
def _token_words(token: str) -> tuple[tuple[int, str], ...]:
    """``(index in the token, word)`` of a token's words (a token repeats: read once)."""
    left = 0
    right = len(token)
    while left < right and token[left] in _EDGE:
        left += 1
    while right > left and token[right - 1] in _EDGE:
        right -= 1
    core = token[left:right]
    if not core or "`" in token or _WORDLIKE.fullmatch(core) is None:
        return ()  # `code` in a title or a prop, an identifier, a URL: not prose
    return tuple((left + part.start(), part.group()) for part in _PART.finditer(core))


def words_in(text: str) -> Iterator[tuple[int, str]]:
    """``(index, word)`` of the words of ``text`` a spelling check reads (see the module
    docs for what is skipped); a hyphenated word gives each of its parts."""
    for m in _TOKEN.finditer(text):
        found = _token_words(m.group())
        if found:
            start = m.start()
            for at, word in found:
                yield start + at, word


def needs_check(word: str, how: Checking) -> bool:
    """Whether a word is one the rule checks (not an acronym, a name, a short word...)."""
    bare = word.replace(_STRESS, "")
    if len(bare) < how.min_length:
        return False
    kind = lexicon.script(bare)
    if kind == "Cyrillic":
        return True
    if kind == "Latin":
        if not how.latin or (bare.isupper() and len(bare) > 1) or len(bare) < how.latin_min_length:
            return False
        if any(c.isupper() for c in bare[1:]):
            return False  # PostgreSQL, iPhone
        return how.capitalized_latin or bare.islower()
    return False


_LIST_ITEM = re.compile(r"(?:^|\.)\d+$")
_SENTENCE_END = re.compile(r"(?:^|[.!?…:;]|\n)[\s«»\"“”„()*_\-—–]*$")


_NEXT_CAPITALISED = re.compile(r"[ \u00a0]+[А-ЯЁ][а-яё]")


def _name_like(text: str, at: int, word: str) -> bool:
    """A Cyrillic word with a capital in mid-sentence, or followed by another capitalised
    word («Ильсаф Абдулхаков»): a name more often than a typo."""
    if not word[:1].isupper():
        return False
    if _SENTENCE_END.search(text, max(0, at - 12), at) is None:
        return True
    return _NEXT_CAPITALISED.match(text, at + len(word)) is not None


# yaspeller, the spell checker many Russian documentation repositories use, skips text
# between these comments; a course annotated for it is not reported again.
_IGNORE_START = re.compile(r"^\s*yaspeller\s+ignore:start\s*$")
_IGNORE_END = re.compile(r"^\s*yaspeller\s+ignore:end\s*$")


def ignored_ranges(doc: Document) -> list[tuple[int, int]]:
    """Source ranges between ``<!-- yaspeller ignore:start -->`` and ``ignore:end``."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for comment in doc.comments:
        if _IGNORE_START.match(comment.text) and start is None:
            start = doc.lines.offset(comment.span.end_line, comment.span.end_column)
        elif _IGNORE_END.match(comment.text) and start is not None:
            out.append((start, doc.lines.offset(comment.span.line, comment.span.column)))
            start = None
    if start is not None:
        out.append((start, len(doc.source)))
    return out


def unknown_words(
    segments: Iterable[Segment], words: lexicon.Lexicon, how: Checking
) -> Iterator[tuple[Segment, int, str]]:
    """``(segment, index, word)`` of each word no dictionary, glossary or vocabulary knows."""
    # Most words of a lesson are common words seen before: each token's verdict (does it
    # hold a word to report?) is kept for the run, so a word is looked up once.
    verdicts = words.verdicts.setdefault(how, {})
    if len(verdicts) > 500_000:  # bounded memory on a huge course: start again
        verdicts.clear()
    for seg in segments:
        if seg.scope == "frontmatter" and _LIST_ITEM.search(seg.info):
            continue  # frontmatter lists hold tags and lesson ids (topics: [promql, cdc])
        text = seg.text
        for m in _TOKEN.finditer(text):
            token = m.group()
            found = verdicts.get(token)
            if found is None:
                found = verdicts[token] = _unknown_in_token(token, words, how)
            if not found:
                continue
            for at, word in found:
                at += m.start()
                if not how.capitalized and word[:1].isupper() and _name_like(text, at, word):
                    continue
                yield seg, at, word


def _unknown_in_token(token: str, words: lexicon.Lexicon, how: Checking) -> tuple[tuple[int, str], ...]:
    out = []
    for at, word in _token_words(token):
        if not needs_check(word, how):
            continue
        bare = word.replace(_STRESS, "")
        if not words.known(bare) and not (bare.isupper() and len(bare) > 1):  # an unknown acronym: left alone
            out.append((at, word))
    return tuple(out)


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
    `«аггрегаты» is not in the Russian dictionary, the glossary or the course vocabulary;
    did you mean «агрегаты»?`

    ## How to fix
    Correct the word (the fix writes the first suggestion; check it), or add the word to
    the course vocabulary (`[spelling] accept`): `coursecheck terms --unknown` lists every
    unknown word of the course by frequency.
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
    With `юзер` in `vocabulary/reject.txt`: `Каждый юзер получает токен.`

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
def coursecheck_config_sections() -> dict[str, str]:
    return {lexicon.SECTION: lexicon.SECTION_HELP}


@hookimpl
def coursecheck_configure(config: Config) -> list[tuple[str, int, str]]:
    return lexicon.validate_config(config)


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


@dataclass(slots=True)
class Unknown:
    """One unknown word of the course: its forms, uses and lessons (``terms --unknown``)."""

    word: str  # the most frequent form
    count: int
    lessons: int
    forms: Counter[str]
    suggestions: list[str]
    same_form_lessons: int = 1  # the most lessons one form is written in


def survey_unknown(docs: Iterable[Document], words: lexicon.Lexicon, how: Checking) -> list[Unknown]:
    """The unknown words of ``docs``, grouped by Snowball stem (Russian) or lower case
    (English), most frequent first."""
    return merge_unknown(((doc.relpath, unknown_counts(doc, words, how)) for doc in docs), words)


def unknown_counts(doc: Document, words: lexicon.Lexicon, how: Checking) -> dict[str, dict[str, int]]:
    """One file's part of :func:`survey_unknown`: ``{key: {form: count}}`` of its unknown
    words (small and picklable: ``init`` computes it where it parses the file)."""
    found: dict[str, dict[str, int]] = {}
    ignored = ignored_ranges(doc) if doc.comments else []
    for seg, at, word in unknown_words(doc.iter_segments(resolve_scopes(["prose", "frontmatter"])), words, how):
        if ignored and any(a <= seg.offset(at) < b for a, b in ignored):
            continue
        bare = word.replace(_STRESS, "")
        key = stem(bare) if lexicon.script(bare) == "Cyrillic" else bare.lower()
        forms = found.setdefault(key, {})
        forms[bare.lower()] = forms.get(bare.lower(), 0) + 1
    return found


def merge_unknown(parts: Iterable[tuple[str, dict[str, dict[str, int]]]], words: lexicon.Lexicon) -> list[Unknown]:
    """The files' :func:`unknown_counts` (``(relpath, counts)`` pairs) as one list of
    :class:`Unknown`, most frequent first."""
    forms: dict[str, Counter[str]] = {}
    lessons: dict[str, set[str]] = {}
    form_lessons: dict[str, set[str]] = {}
    for relpath, counts in parts:
        for key, by_form in counts.items():
            counter = forms.setdefault(key, Counter())
            for form, n in by_form.items():
                counter[form] += n
                form_lessons.setdefault(form, set()).add(relpath)
            lessons.setdefault(key, set()).add(relpath)
    out = []
    for key, counter in forms.items():
        word = counter.most_common(1)[0][0]
        same = max(len(form_lessons[f]) for f in counter)
        out.append(Unknown(word, sum(counter.values()), len(lessons[key]), counter, words.suggest(word, 3), same))
    out.sort(key=lambda u: (-u.count, -u.lessons, u.word))
    return out


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


# -- `coursecheck terms --unknown` --------------------------------------------------------------


def print_unknown(course: Any, config: Config, *, minimum: int = 1, plain: bool = False, out: Any = None) -> int:
    """Print the course's unknown words by frequency (``plain``: one word a line, for an
    accept file). Returns how many were printed."""
    out = out or sys.stdout
    words = lexicon.build(config, course)
    how = Checking(gl.language_script(config.course.languages.get("primary", "ru")) or "Cyrillic", True, False, 5)
    unknown = [u for u in survey_unknown(course.lessons, words, how) if u.count >= minimum]
    if plain:
        for u in unknown:
            print(u.word, file=out)
        return len(unknown)
    print(f"Unknown words: {len(unknown)} (count, lessons, word, other forms, suggestions)", file=out)
    for u in unknown:
        others = ", ".join(f for f in u.forms if f != u.word)
        hint = f"  did you mean {', '.join(u.suggestions)}?" if u.suggestions else ""
        print(f"  {u.count:5d} {u.lessons:4d}  {u.word}{f' ({others})' if others else ''}{hint}", file=out)
    return len(unknown)
