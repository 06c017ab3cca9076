"""Which words are known: the dictionaries behind the spelling and mixed-script rules.

A word is *known* when

* it is written in Cyrillic and pymorphy3's OpenCorpora dictionary knows it (every
  inflected form is in the dictionary: «миграция», «миграцией»), or
* it is written in Latin letters and the English word list knows it: the frequency list
  shipped with pyspellchecker (160,000 words of current English, typos left out), with
  regular endings (``-s``, ``-ed``, ``-ing``, ``-er``...) and closed compounds of two common
  words («runtime», «namespace», «backend») that the list lacks, or
* the course glossary has it: any word of a term, its English form, abbreviation,
  variants, in any inflection (Russian words through the same Snowball + pymorphy3 test
  that counts glossary terms, :func:`coursecheck.match.same_word`), or
* the course's vocabulary accepts it: the ``[spelling]`` section's ``accept`` files and
  ``words`` (a Russian entry accepts its inflections, an entry ending in ``*`` every word it
  begins).

``[spelling] backend = "hunspell"`` asks Hunspell (through pyenchant, with the system's
``ru_RU`` and ``en_US`` dictionaries) instead of pymorphy3 and the word list.

Suggestions come from the glossary first («снапшотов» -> «снэпшотов» when the glossary has
«снэпшот»), then from the dictionary: words one edit away that the dictionary knows, by an
edit people make (:func:`plausible_edit`), then from the course vocabulary. Nothing is
suggested that is not known.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursecheck.config.schema import Key, Section
from coursecheck.fsutil import read_regular_bytes
from coursecheck.match import morph_analyzer, same_word, stem

if TYPE_CHECKING:
    from coursecheck.config import Config
    from coursecheck.model import Course

SECTION = "spelling"
SECTION_HELP = "spelling: the course vocabulary (accept/reject files, words) and the dictionary backend"
KEYS = {
    "accept": "files of words the course uses on purpose, one a line (relative to the project root)",
    "reject": "files of words that must not appear, one a line (relative to the project root)",
    "words": "more accepted words, inline",
    "backend": 'dictionaries: "builtin" (pymorphy3 and an English word list) or "hunspell" (pyenchant)',
}
BACKENDS = ("builtin", "hunspell")
MAX_VOCABULARY_BYTES = 4 * 1024 * 1024  # a vocabulary is a word list, not a corpus
MAX_ENTRIES = 200_000

RUSSIAN_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
ENGLISH_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[a-zA-Z]")
_LETTERS = re.compile(r"[^\W\d_]+")


def script(word: str) -> str:
    """ "Cyrillic", "Latin", "mixed" or "" for a word of Russian or English letters."""
    cyrillic = _CYRILLIC.search(word) is not None
    latin = _LATIN.search(word) is not None
    if cyrillic and latin:
        return "mixed"
    return "Cyrillic" if cyrillic else "Latin" if latin else ""


def _norm(word: str) -> str:
    return word.lower().replace("ё", "е")


# -- the dictionaries (loaded once per process, on first use) -----------------------------


@lru_cache(maxsize=1)
def english_frequencies() -> dict[str, int]:
    """pyspellchecker's English word list: word -> frequency (empty when not installed)."""
    try:
        import spellchecker  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - a declared dependency
        return {}
    # The list is read directly (0.17 s) rather than through SpellChecker() (0.5 s): only
    # membership and frequencies are needed here.
    path = Path(spellchecker.__file__).parent / "resources" / "en.json.gz"
    try:
        data = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError):  # pragma: no cover - a changed package layout
        data = dict(spellchecker.SpellChecker(language="en").word_frequency.dictionary)
    # The package's own list, words to counts as it writes them: used as loaded (copying its
    # 160,000 entries to check their types took a fifth of the load).
    return data if isinstance(data, dict) else {}


_COMMON = 200  # frequency of a word that may be a part of a closed compound
_ENGLISH_ENDINGS = (
    ("'s", ""),
    ("s", ""),
    ("es", ""),
    ("ies", "y"),
    ("ed", ""),
    ("ed", "e"),
    ("ied", "y"),
    ("ing", ""),
    ("ing", "e"),
    ("er", ""),
    ("ers", ""),
    ("er", "e"),
    ("ers", "e"),
    ("ly", ""),
)


_ENGLISH_SUFFIXES = ("ization", "isation", "izations", "ize", "izes", "ized", "izing", "ation", "ations", "able",
                     "ability", "ness", "ment", "ments", "less", "ful", "ity")  # fmt: skip
_ENGLISH_PREFIXES = ("re", "un", "de", "pre", "non", "sub", "multi", "over", "under", "auto", "micro", "inter")


@lru_cache(maxsize=65536)
def english_known(word: str) -> bool:
    """Whether the English word list knows ``word`` (any case), with regular endings and
    closed compounds of two common words."""
    words = english_frequencies()
    lower = word.lower()
    if lower in words:
        return True
    if not lower.isalpha():
        parts = [part for part in re.split(r"[-'’]", lower) if part]
        return len(parts) > 1 and all(part.isalpha() and english_known(part) for part in parts)
    for ending, replacement in _ENGLISH_ENDINGS:
        if lower.endswith(ending) and len(lower) - len(ending) >= 3:
            base = lower[: -len(ending)]
            if base + replacement in words:
                return True
            if ending in ("ed", "ing", "er", "ers") and len(base) >= 4 and base[-1] == base[-2] and base[:-1] in words:
                return True  # mapped, running
    for suffix in _ENGLISH_SUFFIXES:
        if lower.endswith(suffix) and len(lower) - len(suffix) >= 4:
            base = lower[: -len(suffix)]
            if words.get(base, 0) >= _COMMON or words.get(base + "e", 0) >= _COMMON:
                return True  # parallelization, stateless
    for prefix in _ENGLISH_PREFIXES:
        if lower.startswith(prefix) and len(lower) - len(prefix) >= 4 and english_known(lower[len(prefix) :]):
            return True  # rebalance, unmount, deduplicate
    for i in range(3, len(lower) - 2):
        head, tail = lower[:i], lower[i:]
        if words.get(head, 0) >= _COMMON and (
            words.get(tail, 0) >= _COMMON or (tail.endswith("s") and words.get(tail[:-1], 0) >= _COMMON)
        ):
            return True
    return False


@lru_cache(maxsize=65536)
def russian_known(word: str) -> bool:
    """Whether pymorphy3's dictionary knows ``word`` (any case; a hyphenated word when the
    dictionary knows it whole or knows each part)."""
    morph = morph_analyzer()
    if morph is None:  # pragma: no cover - a declared dependency
        return False
    lower = word.lower()
    if morph.word_is_known(lower):
        return True
    if "-" in lower:
        return all(morph.word_is_known(part) for part in lower.split("-") if part)
    return False


@lru_cache(maxsize=65536)
def russian_derived(word: str) -> bool:
    """:func:`russian_known`, or a productive prefix on a known word of five letters or more,
    which the dictionary does not list with every prefix: «неблокирующий», «запустился»,
    «переиспользовать», «микросервисы»."""
    if russian_known(word):
        return True
    lower = word.lower()
    if "ё" in lower and russian_known(lower.replace("ё", "е")):
        return True  # «уведомлённых»: the dictionary writes some words with «е» only
    if any(
        lower.startswith(prefix)
        and len(lower) - len(prefix) >= (5 if len(prefix) > 1 else 7)
        and _russian_base(lower[len(prefix) :])
        for prefix in _RUSSIAN_PREFIXES
    ):
        return True
    if _russian_base(lower):
        return True
    # Compounds with a linking vowel: «высоконагруженный», «типобезопасный», «многослойность».
    for i in range(3, len(lower) - 4):
        if lower[i] in "ое":
            head, tail = lower[:i], lower[i + 1 :]
            if (russian_known(head) or russian_known(head + lower[i])) and _russian_base(tail):
                return True
    return False


# Derivations technical Russian makes freely from a known word: «логирование» (лог),
# «визуализировать» (визуализация), «партиционирование» (партиция), «гранулярность»
# (гранулярный), «агрегационный» (агрегация).
_IROVAT = re.compile(
    r"(.{3,}?)(?:из|иф|ифиц)?(?:ирова(?:ть|ться|ние|ния|нию|нием|нии|ний|ниям|ниями|ниях|нн[а-я]{1,3}|л|ла|ло|ли|лся|лась|лось|лись)"
    r"|иру(?:ет|ется|ют|ются|ем|ешь|ете|я|ющ[а-я]{1,3}|ем[а-я]{1,3}))$"
)
_OST = re.compile(r"(.{3,})ност(?:ь|и|ью|ей|ям|ями|ях)$")
_ADVERB = re.compile(r"(.{4,}щ)е")
_DIMINUTIVE = re.compile(r"(.{3,}?)(?:ик|чик)(?:|а|у|ом|е|и|ов|ам|ами|ах)")
_SKIY = re.compile(r"(.{3,}?)ск(?:ий|ая|ое|ие|ого|ой|ому|им|их|ими|ую|ом)")
_ONNY = re.compile(r"(.{3,}ци)онн(?:ый|ая|ое|ые|ого|ой|ому|ым|ых|ыми|ую)$")


def _russian_base(lower: str) -> bool:
    """A known word, or a regular derivation of one (see above)."""
    if russian_known(lower):
        return True
    m = _IROVAT.fullmatch(lower)
    if m is not None:
        base = m.group(1)
        bases = [base, base + "а", base + "ия", base + "ция", base + "ация", base + "изация"]
        if base.endswith("ион"):
            bases.append(base[:-2] + "я")
        if any(russian_known(b) for b in bases):
            return True
    m = _OST.fullmatch(lower)
    if m is not None and any(russian_known(m.group(1) + "н" + e) for e in ("ый", "ий", "ой")):
        return True
    m = _ONNY.fullmatch(lower)
    if m is not None and russian_known(m.group(1) + "я"):
        return True
    m = _ADVERB.fullmatch(lower)
    if m is not None and any(russian_known(m.group(1) + e) for e in ("ий", "ый")):
        return True  # «устрашающе», «угрожающе»
    m = _DIMINUTIVE.fullmatch(lower)
    if m is not None and russian_known(m.group(1)):
        return True  # «плюсик», «сайтики»
    m = _SKIY.fullmatch(lower)
    return m is not None and (russian_known(m.group(1)) or russian_known(m.group(1) + "а"))  # «дубайскую»


_RUSSIAN_PREFIXES = (
    "не", "за", "по", "вы", "до", "на", "от", "об", "из", "раз", "рас", "под", "над", "пере", "пред",
    "при", "про", "недо", "само", "авто", "анти", "микро", "мульти", "мета", "супер", "псевдо",
    "гипер", "сверх", "пост", "интер", "контр", "полу", "с", "со",
)  # fmt: skip


@lru_cache(maxsize=4)
def _hunspell(language: str) -> Any:
    import enchant  # type: ignore[import-not-found]  # optional: pip install pyenchant; the system needs libenchant and the dictionary

    return enchant.Dict(language)


def hunspell_problem() -> str | None:
    """Why the Hunspell backend cannot run here, or None."""
    try:
        _hunspell("ru_RU")
        _hunspell("en_US")
    except ImportError:
        return "needs pyenchant (pip install pyenchant) and the system's Enchant library"
    except Exception as exc:  # enchant.errors.DictNotFoundError and the like
        return f"cannot open the Hunspell dictionaries ru_RU and en_US ({exc}); install them (e.g. hunspell-ru, hunspell-en-us)"
    return None


@lru_cache(maxsize=65536)
def _hunspell_known(word: str, language: str) -> bool:
    return bool(_hunspell(language).check(word))


def dictionary_known(word: str, backend: str = "builtin", *, derived: bool = True) -> bool:
    """Whether the dictionary of the word's script knows ``word`` (glossary and vocabulary
    aside); ``derived``: also a Russian word made with a productive prefix."""
    kind = script(word)
    if kind == "Cyrillic":
        if backend == "hunspell":
            return _hunspell_known(word, "ru_RU")
        return russian_derived(word) if derived else russian_known(word)
    if kind == "Latin":
        return _hunspell_known(word, "en_US") if backend == "hunspell" else english_known(word)
    return False


@lru_cache(maxsize=1)
def _common_english() -> tuple[list[str], dict[str, int]]:
    """English words frequent enough to be suggested or to be a jargon root (sorted, for
    prefix search), and their frequencies."""
    words = {w: f for w, f in english_frequencies().items() if f >= _SUGGESTIBLE and w.isalpha()}
    return sorted(words), words


@lru_cache(maxsize=1)
def _all_english() -> tuple[list[str], dict[str, int]]:
    words = {w: f for w, f in english_frequencies().items() if w.isalpha()}
    return sorted(words), words


_SUGGESTIBLE = 500  # the list's rarest words are mostly names and typos: never suggested


def _english_with_prefix(prefix: str) -> str | None:
    """The most frequent English word beginning with ``prefix`` (among the first few in
    alphabetical order), or None."""
    import bisect

    ordered, freq = _all_english()
    at = bisect.bisect_left(ordered, prefix)
    found = [w for w in ordered[at : at + 12] if w.startswith(prefix)]
    return max(found, key=lambda w: (w == prefix, freq[w])) if found else None


@lru_cache(maxsize=16384)
def english_root(word: str) -> str | None:
    """The English word a Russian word is borrowed from when it is jargon: its Snowball stem,
    transliterated, begins a common English word («деплоится» -> deploy, «топиков» -> topic,
    «дашборд» -> dashboard, one letter off). None for words that read as no English word."""
    if script(word) != "Cyrillic":
        return None
    root = stem(word)
    if len(root) < 3:
        return None
    roots = [root] + [
        root[len(p) :] for p in _JARGON_PREFIXES if root.startswith(p) and len(root) - len(p) >= 3
    ]  # «доскроллит» is «скролл» with a Russian prefix
    for candidate in roots:
        found = _english_reading(candidate)
        if found is not None:
            return found
    return None


_JARGON_PREFIXES = ("до", "про", "от", "за", "пере", "по", "вы", "на", "раз", "рас", "под", "при")


def _english_reading(root: str) -> str | None:
    from coursecheck import transliterate

    readings = [r.lower() for r in transliterate.transliterations(root, 48)]
    for reading in readings:
        if len(reading) >= 4:
            found = _english_with_prefix(reading)
            if found is not None:
                return found
        elif reading in _common_english()[1]:
            return reading  # log
    for reading in readings[:6]:
        if len(reading) >= 5:
            for candidate in edits1(reading, ENGLISH_LETTERS):
                if len(candidate) >= len(reading) and (found := _english_with_prefix(candidate)) is not None:
                    return found
    return None


# -- edit distance and candidates ---------------------------------------------------------------


def distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (an adjacent swap counts once), or ``limit + 1``
    when it is larger than ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1] if previous[-1] <= limit else limit + 1


def edits1(word: str, alphabet: str, *, keep_first: bool = False) -> list[str]:
    """Words one edit away: a letter deleted (a doubled letter first), two letters swapped,
    a letter replaced, a letter inserted; in that order, without repeats. ``keep_first``:
    no edit touches the first letter (typos seldom do: «дедупликация» is not «редупликация»)."""
    out: dict[str, None] = {}
    splits = [(word[:i], word[i:]) for i in range(1 if keep_first else 0, len(word) + 1)]
    for a, b in splits:
        if b:
            out.setdefault(a + b[1:])
    for a, b in splits:
        if len(b) > 1:
            out.setdefault(a + b[1] + b[0] + b[2:])
    for a, b in splits:
        if b:
            for c in alphabet:
                if c != b[0]:
                    out.setdefault(a + c + b[1:])
    for a, b in splits:
        for c in alphabet:
            out.setdefault(a + c + b)
    out.pop(word, None)
    return list(out)


# What a real typo changes (dictionary suggestions must be one of these edits; any other
# word one letter away is more often another word than the intended one: «дубайскую» is
# not «дунайскую»). Letters confused in Russian spelling (unstressed vowels, voicing,
# ё/е, й/и) and in English (vowels), and neighbouring keys.
_CONFUSED = {
    frozenset(pair)
    for pair in ("ао", "еи", "ея", "иы", "яа", "еэ", "её", "юу", "оё", "зс", "дт", "бп", "гк", "вф", "жш", "йи",
                 "ьъ", "ae", "ei", "io", "ou", "ua", "ey", "iy", "sz", "ck", "cs")
}  # fmt: skip
_ROWS = ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_ADJACENT: set[frozenset[str]] = set()
for _upper, _lower in ((0, 1), (1, 2), (3, 4), (4, 5)):
    for _row in (_ROWS[_upper], _ROWS[_lower]):
        _ADJACENT.update(frozenset(p) for p in itertools.pairwise(_row))
    for _i, _c in enumerate(_ROWS[_lower]):
        _ADJACENT.update(frozenset((_c, _k)) for _k in _ROWS[_upper][_i : _i + 2])
_VOWELS = set("аеёиоуыэюяaeiouy")


_PROPER = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"})


@lru_cache(maxsize=16384)
def proper_noun(word: str) -> bool:
    """Whether every dictionary reading of ``word`` is a proper name (a person, a place, an
    organisation): no correction of a word written in lower case."""
    morph = morph_analyzer()
    if morph is None:
        return False
    parses = [p for p in morph.parse(word.lower()) if p.is_known]
    return bool(parses) and all(_PROPER & p.tag.grammemes for p in parses)


def _strong_edit(typo: str, candidate: str) -> bool:
    """A doubled letter written once (or a single one doubled), or two letters swapped."""
    a, b = typo.lower(), candidate.lower()
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    if len(longer) != len(shorter) + 1:
        return False
    i = next((k for k in range(len(shorter)) if longer[k] != shorter[k]), len(shorter))
    if longer[:i] + longer[i + 1 :] != shorter:
        return False
    return (i > 0 and longer[i - 1] == longer[i]) or (i + 1 < len(longer) and longer[i + 1] == longer[i])


def _ending_only(word: str, candidate: str) -> bool:
    """Whether ``candidate`` is ``word`` with another ending on the same stem («лога» for
    «логи»): another form of an unknown word, not a correction of it."""
    root = stem(word)
    if stem(candidate) != root:
        return False
    first = next(
        (i for i, (a, b) in enumerate(zip(word, candidate, strict=False)) if a != b), min(len(word), len(candidate))
    )
    return first >= len(root)


@lru_cache(maxsize=1)
def _related_letters() -> dict[str, str]:
    """Letter -> the letters a typo may put in its place (confused or a neighbouring key)."""
    out: dict[str, set[str]] = {}
    for pair in (*_CONFUSED, *_ADJACENT):
        a, b = tuple(pair)
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return {k: "".join(sorted(v)) for k, v in out.items()}


def plausible_edits(typo: str, alphabet: str) -> list[str]:
    """The words :func:`plausible_edit` accepts, generated directly (far fewer than every
    word one edit away), in the order of :func:`edits1`, never touching the first letter."""
    related = _related_letters()
    out = [c for c in edits1(typo, "", keep_first=True)]  # deletions and swaps (no letters to add)
    splits = [(typo[:i], typo[i:]) for i in range(1, len(typo) + 1)]
    for a, b in splits:
        if b:
            out.extend(a + c + b[1:] for c in related.get(b[0], "") if c in alphabet)
    inserted = set(_VOWELS) | set("йьъ")
    for a, b in splits:
        letters = {c for c in alphabet if c in inserted or (a and c == a[-1]) or (b and c == b[0])}
        if typo.isascii() and len(typo) >= 5:
            letters = set(alphabet)
        out.extend(a + c + b for c in sorted(letters))
    return [c for c in dict.fromkeys(out) if c != typo and plausible_edit(typo, c)]


def plausible_edit(typo: str, candidate: str) -> bool:
    """Whether ``candidate`` differs from ``typo`` by an edit people make when typing or
    spelling: two letters swapped; a letter confused with a similar one or a neighbouring
    key; a doubled letter written once or a single one doubled; a missing vowel, «ь», «ъ»
    or «й»; an extra «ь» or «ъ»."""
    a, b = typo.lower(), candidate.lower()
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            return a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        if len(diff) == 1:
            pair = frozenset((a[diff[0]], b[diff[0]]))
            # A neighbouring key only in a long word: in a short one, a word one key away
            # is more often another word («урлом» is not «углом»).
            return pair in _CONFUSED or (pair in _ADJACENT and len(a) >= 8)
        return False
    longer, shorter, missing = (b, a, True) if len(b) > len(a) else (a, b, False)
    if len(longer) != len(shorter) + 1:
        return False
    i = next((k for k in range(len(shorter)) if longer[k] != shorter[k]), len(shorter))
    if longer[:i] + longer[i + 1 :] != shorter:
        return False  # more than one edit («фоллбек» is not «фолбэк»)
    letter = longer[i]
    doubled = (i > 0 and longer[i - 1] == letter) or (i + 1 < len(longer) and longer[i + 1] == letter)
    if doubled or letter in "ьъ":
        return True
    if not missing and len(shorter) >= 7 and (i < len(shorter) or letter in _VOWELS):
        # In a long word an extra letter is a slip («отностительно», «мененджмент»), but
        # not a consonant at the end: «переключалок» is not «переключало».
        return True
    return missing and (letter in _VOWELS or letter == "й" or (len(shorter) >= 5 and typo.isascii()))


def match_case(word: str, model: str) -> str:
    """``word`` written in the case of ``model`` (Title, UPPER or lower)."""
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


# -- the course vocabulary ---------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    word: str  # lower case, «ё» read as «е»; without a trailing "*"
    prefix: bool  # "деплой*": every word beginning with it
    where: str  # "vocabulary/accept.txt:3" or ".coursecheck.toml" (inline words)


@dataclass(slots=True)
class WordSet:
    """Accepted (or rejected) words: exact words, prefixes, and Russian words with their
    inflections (found through an index on Snowball stems, confirmed by ``same_word``)."""

    exact: dict[str, Entry] = field(default_factory=dict)
    prefixes: list[Entry] = field(default_factory=list)
    stems: dict[str, list[Entry]] = field(default_factory=dict)

    def add(self, word: str, where: str) -> None:
        word = word.strip()
        prefix = word.endswith("*")
        word = _norm(word.rstrip("*"))
        if not word:
            return
        entry = Entry(word, prefix, where)
        if prefix:
            self.prefixes.append(entry)
            return
        self.exact.setdefault(word, entry)
        if script(word) == "Cyrillic" and "-" not in word and " " not in word:
            root = stem(word)
            for key in {root, root[:-1]} if len(root) > 3 else {root}:
                self.stems.setdefault(key, []).append(entry)

    def find(self, word: str) -> Entry | None:
        """The entry that takes ``word`` (any case, any inflection of a Russian entry)."""
        lower = _norm(word)
        entry = self.exact.get(lower)
        if entry is not None:
            return entry
        for p in self.prefixes:
            if lower.startswith(p.word):
                return p
        if self.stems and script(lower) == "Cyrillic":
            root = stem(lower)
            for key in (root, root[:-1]):
                for candidate in self.stems.get(key, ()):
                    if same_word(lower, candidate.word):
                        return candidate
        return None

    def __len__(self) -> int:
        return len(self.exact) + len(self.prefixes)


def read_vocabulary(path: Path) -> list[tuple[int, str]]:
    """``(line number, entry)`` of a vocabulary file: one word a line, ``#`` starts a
    comment line, blank lines are skipped. Raises OSError or ValueError (with a reason)."""
    data = read_regular_bytes(path)
    if len(data) > MAX_VOCABULARY_BYTES:
        raise ValueError(f"larger than {MAX_VOCABULARY_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.strip()
        if entry and not entry.startswith("#"):
            out.append((number, entry))
            if len(out) > MAX_ENTRIES:
                raise ValueError(f"more than {MAX_ENTRIES} entries")
    return out


@dataclass(slots=True)
class Settings:
    accept: list[str] = field(default_factory=list)
    reject: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    backend: str = "builtin"


def settings(config: Config) -> Settings:
    section = config.sections.get(SECTION)
    out = Settings()
    if not isinstance(section, dict):
        return out
    for key in ("accept", "reject", "words"):
        value = section.get(key, [])
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            setattr(out, key, [v for v in value if isinstance(v, str) and v.strip()])
    if section.get("backend") in BACKENDS:
        out.backend = section["backend"]
    return out


def inside_root(root: Path, relpath: str) -> Path | None:
    """``root / relpath`` when it stays inside the project root (links resolved), else None."""
    if Path(relpath).is_absolute():
        return None
    base = root.resolve()
    target = (base / relpath).resolve()
    try:
        target.relative_to(base)
    except ValueError:
        return None
    return target


def _vocabulary_files(value: str | list[str], config: Config) -> list[str]:
    problems: list[str] = []
    for relpath in [value] if isinstance(value, str) else value:
        target = inside_root(config.root, relpath)
        if target is None:
            problems.append(f"{relpath}: a vocabulary file must be inside the project root {config.root}")
            continue
        try:
            read_vocabulary(target)
        except FileNotFoundError:
            problems.append(f"no such file: {relpath} (relative to the project root {config.root})")
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problems.append(f"cannot read the vocabulary file {relpath}: {reason}")
    return problems


def _backend(value: str, config: Config) -> str | None:
    why = hunspell_problem() if value == "hunspell" else None
    return f"the hunspell backend {why}" if why else None


# The [spelling] table's schema (validated by the engine, once).
SCHEMA = Section(
    SECTION,
    SECTION_HELP,
    keys=(
        Key("accept", "string-or-strings", KEYS["accept"], default=[], check=_vocabulary_files),
        Key("reject", "string-or-strings", KEYS["reject"], default=[], check=_vocabulary_files),
        Key("words", "string-or-strings", KEYS["words"], default=[]),
        Key("backend", "any", KEYS["backend"], default="builtin", choices=BACKENDS, check=_backend),
    ),
)


def input_files(config: Config) -> list[str]:
    """The vocabulary files (part of every file's cache key: the spelling rules read them)."""
    s = settings(config)
    return [p for p in [*s.accept, *s.reject] if inside_root(config.root, p) is not None]


# -- the lexicon of a run ------------------------------------------------------------------


@dataclass
class Lexicon:
    """The words a run knows: dictionaries, the glossary and the course vocabulary."""

    backend: str = "builtin"
    accepted: WordSet = field(default_factory=WordSet)
    rejected: WordSet = field(default_factory=WordSet)
    # Words of the glossary's own forms (suggested before the dictionary's words).
    glossary_words: list[str] = field(default_factory=list)
    vocabulary_words: list[str] = field(default_factory=list)
    accept_files: list[str] = field(default_factory=list)
    _known: dict[str, bool] = field(default_factory=dict, repr=False)
    # The spelling rule's verdict per token, per set of its options (see spelling.unknown_words).
    verdicts: dict[Any, dict[str, Any]] = field(default_factory=dict, repr=False)
    _suggestions: dict[tuple[str, int], list[str]] = field(default_factory=dict, repr=False)

    def known(self, word: str) -> bool:
        """Known to the dictionary of its script, the glossary or the vocabulary."""
        found = self._known.get(word)
        if found is None:
            found = self.accepted.find(word) is not None or dictionary_known(word, self.backend)
            self._known[word] = found
        return found

    def in_dictionary(self, word: str) -> bool:
        """In the dictionary itself (what may be suggested: no derived words)."""
        return dictionary_known(word, self.backend, derived=False)

    def suggest(self, word: str, limit: int = 3) -> list[str]:
        """Known words close to ``word``: the glossary's and the vocabulary's first, then
        the dictionary's (one edit away). Empty when nothing known is close."""
        key = (word, limit)
        found = self._suggestions.get(key)
        if found is None:
            found = self._suggest(word, limit)
            self._suggestions[key] = found
        return found

    def _suggest(self, word: str, limit: int) -> list[str]:
        kind = script(word)
        if kind not in ("Cyrillic", "Latin"):
            return []
        lower = _norm(word) if kind == "Cyrillic" else word.lower()
        out: list[str] = []
        out.extend(self._close_to(lower, self.glossary_words, kind, strict=False))
        if len(out) < limit and len(lower) >= 4:
            if kind == "Latin" and self.backend == "builtin":
                common = _common_english()[1]
                every = english_frequencies()
                close = [
                    c
                    for c in plausible_edits(lower, ENGLISH_LETTERS)
                    if c in common or (c in every and _strong_edit(lower, c))  # acessibility
                ]
                close.sort(key=lambda c: -every[c])
                if len(lower) < 6:
                    close = []  # short Latin words in Russian prose are names and abbreviations
            else:
                alphabet = RUSSIAN_LETTERS if kind == "Cyrillic" else ENGLISH_LETTERS
                typed = word.lower()
                # The plausible edits first (a few dozen), then the dictionary (slower).
                close = [c for c in plausible_edits(typed, alphabet) if self.in_dictionary(c)]
                root = english_root(lower) if kind == "Cyrillic" else None
                # Another form of the same stem is no correction («логи» is not «лога»).
                # As written: «ё» is a letter an edit may change.
                close = [c for c in close if _strong_edit(typed, c) or not _ending_only(typed, c)]
                if root is not None:
                    # Jargon from English («топиков»): a neighbour counts only when it is
                    # the same loanword spelled right, or the edit is a doubled letter or
                    # a swap, which are typos whatever the word («аггрегаты» -> «агрегаты»,
                    # «указаное» -> «указанное»), not another word one letter away («тупиков»).
                    close = [c for c in close if _strong_edit(typed, c) or english_root(c) == root]
            close = [c for c in close if plausible_edit(word.lower(), c)]
            # A doubled letter or a swap first: «указаное» is «указанное» before «указное».
            close.sort(key=lambda c: not _strong_edit(word.lower(), c))
            if kind == "Cyrillic" and word[:1].islower():
                close = [c for c in close if not proper_noun(c)]  # «урлом» is not «Уралом»
            for candidate in close:
                if len(out) >= limit:
                    break
                if candidate not in out and not self.rejected.find(candidate):
                    out.append(candidate)
        # The course's vocabulary last: it is largely jargon init collected, and a word
        # close to one is more often another form of it than a typo of it.
        out.extend(c for c in self._close_to(lower, self.vocabulary_words, kind, strict=True) if c not in out)
        return [match_case(c, word) for c in out[:limit]]

    def _close_to(self, lower: str, pool: list[str], kind: str, *, strict: bool) -> list[str]:
        """Words of ``pool`` close to ``lower`` (same first letter; ``strict``: one plausible edit)."""
        out: list[str] = []
        for candidate in self._close_in(lower, pool, kind):
            if candidate in out or candidate[:1] != lower[:1]:
                continue
            if strict and not plausible_edit(lower, candidate):
                continue
            out.append(candidate)
        return out

    def _close_in(self, lower: str, pool: list[str], kind: str) -> list[str]:
        out = []
        for known in pool:
            if script(known) != kind or abs(len(known) - len(lower)) > 3:
                continue
            if kind == "Cyrillic":
                a, b = stem(lower), stem(known)
                limit = 1 if len(b) < 5 else 2
                if a != b and distance(a, b, limit) <= limit:
                    ending = lower[len(a) :] if lower.startswith(a) else ""
                    candidate = b + ending
                    if self.accepted.find(candidate) is not None:
                        out.append(candidate)  # «снапшотом» -> «снэпшотом»
                    elif not ending:
                        out.append(known)
            else:
                limit = 1 if len(known) < 6 else 2
                if known != lower and distance(lower, known, limit) <= limit:
                    out.append(known)
        return out


def build(config: Config, course: Course | None) -> Lexicon:
    """The lexicon of this run (cached in ``course.cache``)."""
    if course is not None:
        cached = course.cache.get("lexicon")
        if isinstance(cached, Lexicon):
            return cached
    s = settings(config)
    lexicon = Lexicon(backend=s.backend if s.backend != "hunspell" or hunspell_problem() is None else "builtin")
    if course is not None:
        from coursecheck import glossary as gl

        glossary = gl.load(config, course)
        for entry in glossary.entries:
            for form in (*entry.forms, *entry.variants, *entry.forbidden):
                for m in _LETTERS.finditer(form):
                    lexicon.accepted.add(m.group(), entry.path or "glossary")
            for form in entry.forms:
                for m in _LETTERS.finditer(form):
                    word = _norm(m.group())
                    if word not in lexicon.glossary_words:
                        lexicon.glossary_words.append(word)
    for word in s.words:
        lexicon.accepted.add(word, "[spelling] words")
        if not word.strip().endswith("*"):
            lexicon.vocabulary_words.append(_norm(word))
    for key, target in (("accept", lexicon.accepted), ("reject", lexicon.rejected)):
        for relpath in getattr(s, key):
            path = inside_root(config.root, relpath)
            if path is None:
                continue
            try:
                entries = read_vocabulary(path)
            except (OSError, ValueError):
                continue  # reported by the config check
            if key == "accept":
                lexicon.accept_files.append(relpath)
            for number, text in entries:
                target.add(text, f"{relpath}:{number}")
                if key == "accept" and not text.endswith("*"):
                    lexicon.vocabulary_words.append(_norm(text))
    if course is not None:
        course.cache["lexicon"] = lexicon
    return lexicon
