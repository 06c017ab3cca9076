"""The word machinery of the spelling family: which tokens of the prose are words to check,
which of them no dictionary knows, and the survey of a course's unknown words that
``coursecheck terms --unknown`` prints and ``coursecheck init`` seeds a vocabulary from.

A toolkit below the rule families: the spelling rules (:mod:`coursecheck.builtin.spelling`)
and the terms command (:mod:`coursecheck.builtin.terminology`) both use it.
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
from coursecheck import lexicon
from coursecheck.config import Config
from coursecheck.match import resolve_scopes, stem
from coursecheck.model import Document, Segment

# A token is what whitespace, dashes, brackets and quotes separate; its edge punctuation is
# stripped; what is left is a word only if it is letters with inner hyphens or apostrophes
# (anything else -- a digit, "_", ".", "/", "@", "=" -- makes it code-like: not checked).
_TOKEN = re.compile(r"[^\s\u2014\u2013\u2026«»\"“”„()\[\]{}<>|]+")
_EDGE = ".,;:!?'’*~^`‘"
_WORDLIKE = re.compile(r"[^\W\d_](?:[^\W\d_]|\u0301)*(?:[-'’][^\W\d_](?:[^\W\d_]|\u0301)*)*")
_PART = re.compile(r"[^\W\d_](?:[^\W\d_]|\u0301)*")
_STRESS = "\u0301"

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
