"""Finding terms and patterns in text: Unicode word boundaries and Russian inflection.

Shared by the terminology and bilingual families, declarative rules and must-have truths,
so that "an occurrence" means the same everywhere:

* A literal term matches where it is not glued to a letter or digit on either side.
  Underscores, dots, quotes and hyphens separate, so ``MilliSecondsBehindSource`` is found
  in ``debezium_metrics_MilliSecondsBehindSource`` but ``WAL`` is not found in ``WALK``.
  Letters are letters in any script (Cyrillic included), unlike ASCII ``\\b``.
* With ``inflect=True``, each Cyrillic word of the term also matches its inflected forms:
  "коннектор" finds "коннектора", "коннектором". Stems come from the Snowball Russian
  stemmer (``snowballstemmer``): a match is a word with the same stem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

# Not preceded / followed by a letter or digit of any script (underscore does not count).
_LEFT = r"(?<![^\W_])"
_RIGHT = r"(?![^\W_])"
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*")
_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1)
def _russian() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("russian")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of a Russian word, lower-cased (``ё`` read as ``е``)."""
    return _russian().stemWord(word.lower().replace("ё", "е"))


def _word_pattern(word: str, inflect: bool) -> str:
    if inflect and _CYRILLIC_WORD.fullmatch(word):
        root = stem(word)
        if len(root) >= 3:
            # The stem then any Cyrillic ending; the stem check in TermMatcher confirms it.
            return re.escape(root).replace("е", "[её]") + r"[А-Яа-яЁё]*"
    return re.escape(word)


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    text: str


class TermMatcher:
    """Finds one term (or any of its variants) in text."""

    def __init__(
        self,
        *forms: str,
        case_sensitive: bool = False,
        inflect: bool = False,
    ) -> None:
        self.forms = tuple(f for f in forms if f.strip())
        self.case_sensitive = case_sensitive
        self.inflect = inflect
        alternatives = []
        for form in sorted(self.forms, key=len, reverse=True):
            words = form.split()
            body = r"\s+".join(_word_pattern(w, inflect) for w in words)
            left = _LEFT if _WORD.match(form[0]) else ""
            right = _RIGHT if _WORD.match(form[-1]) else ""
            alternatives.append(f"{left}{body}{right}")
        flags = 0 if case_sensitive else re.IGNORECASE
        self.regex = re.compile("|".join(alternatives), flags) if alternatives else None
        self._stems = {self._stem_key(f) for f in self.forms} if inflect else set()

    def _stem_key(self, text: str) -> tuple[str, ...]:
        return tuple(stem(w) if _CYRILLIC_WORD.fullmatch(w) else w.lower() for w in text.split())

    def finditer(self, text: str) -> Iterator[Match]:
        if self.regex is None:
            return
        for m in self.regex.finditer(text):
            found = m.group()
            if self.inflect and not any(_same_stems(self._stem_key(found), k) for k in self._stems):
                continue
            yield Match(m.start(), m.end(), found)

    def count(self, text: str) -> int:
        return sum(1 for _ in self.finditer(text))


def _same_stems(found: tuple[str, ...], term: tuple[str, ...]) -> bool:
    # Snowball is not always consistent across forms ("журнал" -> "журна", "журнале" ->
    # "журнал"): accept stems that differ by one trailing letter.
    if len(found) != len(term):
        return False
    for a, b in zip(found, term, strict=True):
        short, long = sorted((a, b), key=len)
        if not (long.startswith(short) and len(long) - len(short) <= 1):
            return False
    return True


def compile_user_regex(pattern: str, *, case_sensitive: bool = True) -> re.Pattern[str]:
    """Compile a user's pattern (raises ``re.error`` for the config loader to report)."""
    return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)


def words(text: str) -> Iterable[re.Match[str]]:
    """Words (letters and digits of any script) in ``text``."""
    return _WORD.finditer(text)
