"""Bilingual rules: Russian prose with English terms (languages from ``[course] languages``).

A term is given with its pair on first use in a lesson; forbidden translations; one
rendering per term across the course; no word that mixes Latin and Cyrillic letters; a
glossary whose entries are written in the right scripts, without duplicates, with
abbreviations that fit their expansions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import regex

from coursecheck import glossary as gl
from coursecheck import hookimpl, lexicon, transliterate
from coursecheck.glossary import EntryRenderings, RenderingUse
from coursecheck.match import TermMatcher, english_plurals, resolve_scopes, same_word, same_word_keys
from coursecheck.model import Course, Document, Edit, Fix, Segment
from coursecheck.rules import Option, Rule, RuleContext, rule
from coursecheck.text import Span, kept_snippet, quote

# -- homoglyphs ------------------------------------------------------------------------------

# Cyrillic letters and the Latin letters they are confusable with: the single-letter
# Cyrillic/Latin pairs of Unicode's confusables.txt (UTS #39), restricted to letters a
# Russian or English text uses. Exact look-alikes: their fix is safe.
CONFUSABLES: dict[str, str] = {
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ү": "Y",
    "Ԛ": "Q", "Ԝ": "W", "Ԍ": "G", "Ѵ": "V",
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s",
    "і": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "ѵ": "v",
    "г": "r", "ӏ": "l",
}  # fmt: skip
# Lower-case forms of the upper-case pairs above (К/K, М/M, Т/T, Н/H, В/B): not look-alikes
# in most fonts, but a Latin "t" in a Russian word stands for "т". Their fix is marked unsafe.
CASE_PAIRS: dict[str, str] = {"к": "k", "м": "m", "т": "t", "н": "h", "в": "b"}

_TO_LATIN = {**CASE_PAIRS, **CONFUSABLES}
# Latin -> Cyrillic, preferring letters of the Russian alphabet ("y" -> "у", not "ү").
_RUSSIAN = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ")
_TO_CYRILLIC: dict[str, str] = {}
for _cyr, _lat in sorted(_TO_LATIN.items(), key=lambda item: item[0] not in _RUSSIAN):
    if _cyr in "гӏ":
        continue  # "r" and "l" in a Russian word are not typed for "г" / "ӏ"
    _TO_CYRILLIC.setdefault(_lat, _cyr)

_MIXED = regex.compile(r"\p{Script=Latin}\p{Script=Cyrillic}|\p{Script=Cyrillic}\p{Script=Latin}")
_WORD = regex.compile(r"[\p{L}\p{M}]+")
_LATIN = regex.compile(r"\p{Script=Latin}")
_CYRILLIC = regex.compile(r"\p{Script=Cyrillic}")
# Ranges holding every letter of the Latin and of the Cyrillic script (and a few others;
# tested against the regex module). A word that mixes the scripts has a letter of each side
# by side, and the standard re finds such a pair several times faster than the regex
# module's script classes: one search over a lesson usually rules it out.
_LATIN_RANGES = (
    "A-Za-z\xaa\xba\xc0-\u02ff\u1d00-\u1eff\u2071\u207f\u2090-\u209f\u212a\u212b\u2132\u214e"
    "\u2160-\u2188\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f\ufb00-\ufb06\uff21-\uff3a\uff41-\uff5a"
    "\U00010780-\U000107bf\U0001df00-\U0001dfff"
)
_CYRILLIC_RANGES = "\u0400-\u052f\u1c80-\u1c8f\u1d2b\u1d78\u2de0-\u2dff\ua640-\ua69f\ufe2e\ufe2f\U0001e030-\U0001e08f"
_LATIN_THEN_CYRILLIC = re.compile(f"[{_LATIN_RANGES}][{_CYRILLIC_RANGES}]")
_CYRILLIC_THEN_LATIN = re.compile(f"[{_CYRILLIC_RANGES}][{_LATIN_RANGES}]")


def may_mix_scripts(text: str) -> bool:
    """False when no word of ``text`` can mix Latin and Cyrillic letters (a quick test)."""
    return _LATIN_THEN_CYRILLIC.search(text) is not None or _CYRILLIC_THEN_LATIN.search(text) is not None


@dataclass(slots=True)
class MixedWord:
    start: int  # index in the segment text
    word: str
    intended: str | None  # "Latin" | "Cyrillic" | None (no homoglyph reading)
    replacements: list[tuple[int, str, str]] = field(default_factory=list)  # (index in word, old, new)
    safe: bool = True


def analyse_mixed(word: str, start: int, primary: str = "Cyrillic") -> MixedWord:
    """Which script a word mixing Latin and Cyrillic letters is meant to be in, and the
    homoglyph replacements that make it so."""
    latin = [i for i, ch in enumerate(word) if _LATIN.match(ch)]
    cyrillic = [i for i, ch in enumerate(word) if _CYRILLIC.match(ch)]
    can_be_cyrillic = all(word[i] in _TO_CYRILLIC for i in latin)
    can_be_latin = all(word[i] in _TO_LATIN for i in cyrillic)
    if can_be_cyrillic and can_be_latin:
        if len(cyrillic) != len(latin):
            intended = "Cyrillic" if len(cyrillic) > len(latin) else "Latin"
        else:
            intended = primary
    elif can_be_cyrillic:
        intended = "Cyrillic"
    elif can_be_latin:
        intended = "Latin"
    else:
        return MixedWord(start, word, None)
    result = MixedWord(start, word, intended)
    if intended == "Cyrillic":
        for i in latin:
            new = _TO_CYRILLIC[word[i]]
            result.replacements.append((i, word[i], new))
            result.safe = result.safe and CONFUSABLES.get(new) == word[i]
    else:
        for i in cyrillic:
            result.replacements.append((i, word[i], _TO_LATIN[word[i]]))
            result.safe = result.safe and word[i] in CONFUSABLES
    return result


def mixed_words(text: str, primary: str = "Cyrillic") -> list[MixedWord]:
    if _MIXED.search(text) is None:
        return []
    return [analyse_mixed(m.group(), m.start(), primary) for m in _WORD.finditer(text) if _MIXED.search(m.group())]


def _script_name(ch: str) -> str:
    return "Cyrillic" if _CYRILLIC.match(ch) else "Latin"


def _primary_script(ctx: RuleContext) -> str:
    return gl.language_script(ctx.config.course.languages.get("primary", "ru")) or "Cyrillic"


def _secondary_script(ctx: RuleContext) -> str:
    return gl.language_script(ctx.config.course.languages.get("secondary", "en")) or "Latin"


# -- what a mixed word is: homoglyph, slip, jargon or glued ------------------------------------

_RUNS = regex.compile(r"\p{Script=Latin}+|\p{Script=Cyrillic}+|[^\p{Script=Latin}\p{Script=Cyrillic}]+")
_MAX_CANDIDATES = 256
# A Russian ending on an English root: «failить», «Dockerом», «commitнуть».
_ENDING = regex.compile(r"[а-яё]{1,7}")
_UNIT_BEFORE = re.compile(r"\d[ \u00a0\u202f]?$")


@dataclass(slots=True)
class Reading:
    """What a word mixing scripts is, and the known word that repairs it (if any)."""

    kind: str  # homoglyph | slip | jargon | glued
    repair: str | None = None  # a known word (never a word no dictionary knows)
    method: str = ""  # homoglyph | transliteration | keyboard layout
    safe: bool = False
    why_no_repair: str = ""  # protected words: acronym, identifier, unit, short word


def _protection(text: str, start: int, word: str) -> str:
    """Why a word is never repaired by layout or transliteration ("" when it may be)."""
    before = text[start - 1] if start > 0 else ""
    after = text[start + len(word)] if start + len(word) < len(text) else ""
    after2 = text[start + len(word) + 1] if start + len(word) + 1 < len(text) else ""
    if before.isdigit() or before == "_" or after.isdigit() or after == "_":
        return "an identifier" if not (before.isdigit() and len(word) <= 4) else "a unit"
    if (after and after in "./@#$" and after2.isalnum()) or (before and before in "./@#$\\"):
        return "an identifier"
    if len(word) <= 4 and _UNIT_BEFORE.search(text, 0, start):
        return "a unit"
    if sum(1 for c in word if c.isalpha()) < 3:
        return "a short word"
    if word.isupper():
        return "an acronym"
    return ""


def _candidates(word: str, target: str) -> list[tuple[str, str]]:
    """``(candidate, method)``: ``word`` with each run of the script other than ``target``
    read in ``target``'s letters, by transliteration or through the keyboard layout."""
    runs = [m.group() for m in _RUNS.finditer(word)]
    source = "Latin" if target == "Cyrillic" else "Cyrillic"
    out: list[tuple[str, str]] = []
    for method in ("transliteration", "keyboard layout"):
        options: list[tuple[str, ...]] = []
        for run in runs:
            if _script_name(run[0]) != source or not run[0].isalpha():
                options.append((run,))
            elif method == "transliteration":
                options.append(transliterate.transliterations(run))
            else:
                swapped = transliterate.layout_swap(run)
                options.append((swapped,) if swapped else ())
        if any(not o for o in options):
            continue
        combos = [""]
        for choice in options:
            combos = [c + o for c in combos for o in choice][:_MAX_CANDIDATES]
        out.extend((c, method) for c in combos if c != word)
    return out


def read_mixed(found: MixedWord, text: str, known: Callable[[str], bool], primary: str = "Cyrillic") -> Reading:
    """Classify a word that mixes Latin and Cyrillic letters (``text`` is the segment it is
    in, for its neighbours) and find the known word that repairs it: the homoglyph reading
    when a dictionary knows it; otherwise, unless the word is protected (an acronym, an
    identifier, a unit, a short word), a transliteration or keyboard-layout reading that a
    dictionary knows; otherwise a Russian ending on a known English root is jargon, and the
    rest are words glued together."""
    word = found.word
    protected = _protection(text, found.start, word)
    if found.intended is not None and protected not in ("a unit", "an identifier"):
        fixed = list(word)
        for i, _old, new in found.replacements:
            fixed[i] = new
        candidate = "".join(fixed)
        if known(candidate):
            return Reading("homoglyph", candidate, "homoglyph", found.safe)
    runs = [m.group() for m in _RUNS.finditer(word)]
    jargon = (
        len(runs) == 2
        and _LATIN.match(runs[0]) is not None
        and len(runs[0]) >= 2
        and _ENDING.fullmatch(runs[1]) is not None
        and known(runs[0])
    )
    if jargon and runs[0][0].isupper() and len(runs[0]) >= 4:
        return Reading("jargon")  # «Dockerом» is Docker with an ending, not «Докером»
    if not protected:
        latin = sum(1 for c in word if _LATIN.match(c))
        cyrillic = sum(1 for c in word if _CYRILLIC.match(c))
        targets = ["Cyrillic", "Latin"]
        if latin > cyrillic or (latin == cyrillic and primary == "Latin"):
            targets.reverse()
        for target in targets:
            for candidate, method in _candidates(word, target):
                if known(candidate):
                    return Reading("slip", candidate, method, False)
    if jargon:
        return Reading("jargon")
    if found.intended is not None:
        return Reading("homoglyph", why_no_repair=protected)
    return Reading("glued", why_no_repair=protected)


def _mixed_readings(doc: Document, ctx: RuleContext) -> list[tuple[Segment, MixedWord, Reading]]:
    """Every word mixing scripts in the rule's scopes, read once per document for the two
    rules that ask (mixed-script and mixed-jargon)."""
    try:
        scopes = resolve_scopes(ctx.options.get("scopes") or ["prose"])
    except ValueError:
        scopes = resolve_scopes("prose")
    if _READINGS[0] is doc and _READINGS[1] == (len(doc.segments), scopes, ctx.config):
        return _READINGS[2]  # the other rule asked first: read once (even when there are none)
    segments = list(doc.iter_segments(scopes))
    if not may_mix_scripts("\n".join([seg.text for seg in segments])):
        _READINGS[:] = [doc, (len(doc.segments), scopes, ctx.config), []]
        return []
    words = lexicon.build(ctx.config, ctx.course)
    primary = _primary_script(ctx)
    out = []
    for seg in segments:
        for found in mixed_words(seg.text, primary):
            if words.accepted.find(found.word) is not None:
                continue  # the course's vocabulary accepts it
            out.append((seg, found, read_mixed(found, seg.text, words.known, primary)))
    _READINGS[:] = [doc, (len(doc.segments), scopes, ctx.config), out]
    return out


# The readings of the document read last: (document, (segment count, scopes, config), readings).
_READINGS: list[Any] = [None, None, []]


def _source_is(doc: Document, start: int, end: int, text: str) -> bool:
    return doc.source[start:end] == text


# -- rules -------------------------------------------------------------------------------------


@rule(
    "bilingual/mixed-script",
    level="error",
    fixable=True,
    options=[
        Option("scopes", list, ["prose"], "where to look: prose (with headings), frontmatter, ...", item=str),
        Option(
            "report-glued",
            bool,
            True,
            "also report words with real letters of both scripts that no known word repairs and that are not "
            "jargon (glued words like «ИмяSubmit»)",
        ),
    ],
)
def mixed_script(doc: Document, ctx: RuleContext) -> None:
    """A word mixes Latin and Cyrillic letters: a homoglyph, a layout or transliteration slip.

    ## What it does
    Finds words in prose and headings (not in code) that contain both Latin and Cyrillic
    letters (letters are classified by their Unicode script) and says what each one is:

    - **a homoglyph** typed in place of a letter: `Dоcker` with a Cyrillic «о», `контeйнер`
      with a Latin «e`. When every letter of one script has a look-alike in the other
      (the Cyrillic/Latin pairs of Unicode's confusables list, UTS #39) and the word made
      of the look-alikes is known (Russian words to pymorphy3's dictionary, English words to
      the English word list, or the course's glossary and vocabulary), the fix replaces the
      homoglyphs: safe for exact look-alikes, unsafe for the lower-case pairs к/k, м/m, т/t,
      н/h, в/b. A reading no dictionary knows gets no fix.
    - **a keyboard-layout or transliteration slip**: `Migrация`, `normально`, `zaпрос` (a
      word begun in Latin letters), `Dщcker` (a key typed in the other layout). The repair
      (`Миграция`, `нормально`, `запрос`, `Docker`) is suggested only when a dictionary
      knows it, and is marked unsafe. Acronyms (`TСP`), identifiers (next to a digit, `_`,
      `.`), units (`5кB`) and words shorter than three letters are never repaired this way.
    - **jargon**, a Russian ending on an English root (`failить`, `Dockerом`): reported by
      `bilingual/mixed-jargon` instead, at note level.
    - **glued words** that are none of these (`ИмяSubmit`): reported without a fix (a
      missing space or hyphen?); `report-glued = false` leaves them alone.

    Words the course's vocabulary accepts (`[spelling] accept`, `words`) are not reported.

    ## Why it matters
    The word looks right but is a different string: search, the glossary, spell checkers
    and screen readers miss it, and a student who copies `Dоcker` into a terminal gets
    "command not found". A half-transliterated word is a typo a reader stumbles on.

    ## Example
    ```markdown
    Сам по себе Dоcker — не единственный инструмент.
    ```
    Reported at line 1, column 13.
    The «о» is U+043E CYRILLIC SMALL LETTER O (fix: `Docker`, safe); a transliteration slip
    such as `Migrация` for `Миграция` is reported the same way (an unsafe fix).

    Use instead:
    ```markdown
    Сам по себе Docker — не единственный инструмент.
    ```

    ## How to fix
    Retype the word, or apply the fix: `coursecheck --fix` applies the safe homoglyph fixes;
    the unsafe repairs are applied by hand (the editor offers them; check the
    word). A word the course uses on purpose goes into the vocabulary (`[spelling] accept`).

    ## Fix safety
    Safe when every replaced letter is a look-alike of the intended script's letter (a
    homoglyph: the Cyrillic «о» in `Dоcker`): the word looks the same and `coursecheck --fix`
    applies it. Unsafe when the repair changes how the word reads (a transliteration slip,
    `Migrация` -> «Миграция», or a letter without an exact look-alike): `--fix` leaves it;
    the editor offers it as "unsafe fix: review it", and SARIF marks it `safe: false`.
    """
    for seg, found, reading in _mixed_readings(doc, ctx):
        if reading.kind == "jargon":
            continue  # bilingual/mixed-jargon's
        start, end = seg.range(found.start, found.start + len(found.word))
        other = "Latin" if found.intended == "Cyrillic" else "Cyrillic"
        if reading.kind == "homoglyph" and reading.repair is not None:
            letters = ", ".join(f"«{old}» (U+{ord(old):04X})" for _, old, _ in found.replacements)
            edits = []
            for i, _old, new in found.replacements:
                s, e = seg.range(found.start + i, found.start + i + 1)
                edits.append(Edit(doc.span(s, e), new))
            fix = Fix(f"replace {other} homoglyphs: «{reading.repair}»", edits, safe=reading.safe)
            message = f"«{quote(found.word)}» is a {found.intended} word with {other} {letters}; write «{reading.repair}»"
            ctx.report(doc, start, end, message, fix=fix, anchor=found.word)
        elif reading.kind == "slip" and reading.repair is not None:
            fix = None
            if _source_is(doc, start, end, found.word):
                fix = Fix(f"write «{reading.repair}»", [Edit(doc.span(start, end), reading.repair)], safe=False)
            message = (
                f"«{quote(found.word)}» mixes Latin and Cyrillic letters: a {reading.method} slip for «{reading.repair}»?"
            )
            ctx.report(doc, start, end, message, fix=fix, anchor=found.word)
        elif reading.kind == "homoglyph":
            letters = ", ".join(f"«{old}» (U+{ord(old):04X})" for _, old, _ in found.replacements)
            fixed = "".join(
                dict((i, new) for i, _o, new in found.replacements).get(i, c) for i, c in enumerate(found.word)
            )
            why = f"; not repaired: {reading.why_no_repair}" if reading.why_no_repair else ""
            message = (
                f"«{quote(found.word)}» mixes Latin and Cyrillic letters ({other} {letters}); «{fixed}» is not a known "
                f"word{why}: retype it"
            )
            ctx.report(doc, start, end, message, anchor=found.word)
        elif ctx.options.get("report-glued", True):
            why = f" (not repaired: {reading.why_no_repair})" if reading.why_no_repair else ""
            message = (
                f"«{quote(found.word)}» mixes Latin and Cyrillic letters and no known word repairs it{why}: "
                "a missing space or hyphen?"
            )
            ctx.report(doc, start, end, message, anchor=found.word)


@rule(
    "bilingual/mixed-jargon",
    level="note",
    options=[
        Option("scopes", list, ["prose"], "where to look: prose (with headings), frontmatter, ...", item=str),
        Option(
            "accept",
            list,
            [],
            "jargon the course accepts: whole words («failить») or English roots («fail» accepts every ending)",
            item=str,
        ),
    ],
)
def mixed_jargon(doc: Document, ctx: RuleContext) -> None:
    """A Russian ending on an English root: `failить`, `Dockerом`.

    ## What it does
    Reports words whose first part is an English word in Latin letters (known to the English
    word list, the glossary or the course vocabulary) and whose rest is a Russian ending in
    Cyrillic letters: `failить`, `failнулся`, `commitнуть`, `Dockerом`. These are the mixed
    words `bilingual/mixed-script` leaves to this rule: no homoglyph, keyboard-layout or
    transliteration reading of them is a known word.

    ## Why it matters
    Spoken jargon in written text: readers outside the team stumble on it, search misses
    it, and the glossary cannot count it. Some of it is the course's style; the accept list
    says which.

    ## Example
    ```markdown
    Если коннектор упадёт, задача может failить.
    ```
    Reported at line 1, column 37.

    Use instead:
    ```markdown
    Если коннектор упадёт, задача может завершиться с ошибкой.
    ```

    ## How to fix
    Write a Russian word («завершиться ошибкой»), the English word with a hyphen
    (`Docker-ом`), or accept the word (`accept = ["fail"]`, or the course vocabulary).
    """
    accepted = {a.strip().lower() for a in ctx.options.get("accept") or [] if a.strip()}
    for seg, found, reading in _mixed_readings(doc, ctx):
        if reading.kind != "jargon":
            continue
        root = _RUNS.match(found.word).group()  # type: ignore[union-attr]
        if found.word.lower() in accepted or root.lower() in accepted:
            continue
        start, end = seg.range(found.start, found.start + len(found.word))
        message = (
            f"«{quote(found.word)}» puts a Russian ending on the English «{root}»: write a Russian word, "
            f"«{root}-{found.word[len(root) :]}», or accept it (the rule's `accept` option or the course vocabulary)"
        )
        ctx.report(doc, start, end, message, anchor=found.word)


# A whole word typed in the other keyboard layout: letters, and inside the word the QWERTY
# keys of «х ъ ж э б ю ё» ("cj,frf" is «собака»).
_LAYOUT_LATIN = re.compile(r"[A-Za-z](?:[A-Za-z\[\];',.`]*[A-Za-z])?")
_LAYOUT_CYRILLIC = re.compile(r"[А-Яа-яЁё]+")


def _layout_words(text: str) -> Iterator[tuple[int, str]]:
    for pattern in (_LAYOUT_LATIN, _LAYOUT_CYRILLIC):
        for m in pattern.finditer(text):
            start, end = m.span()
            before = text[start - 1] if start else ""
            after = text[end] if end < len(text) else ""
            if (
                before.isalnum()
                or after.isalnum()
                or (before and before in "_/\\@#$-")
                or (after and after in "_/\\@-")
            ):
                continue  # part of a longer token: a mixed word, an identifier, a path
            if after == "." and end + 1 < len(text) and text[end + 1].isalnum():
                continue  # file.txt, example.com
            yield start, m.group()


@rule(
    "bilingual/wrong-layout",
    level="off",
    fixable=True,
    options=[
        Option("scopes", list, ["prose"], "where to look: prose (with headings), frontmatter, ...", item=str),
        Option("min-length", int, 4, "shortest word (in letters) to consider"),
    ],
)
def wrong_layout(doc: Document, ctx: RuleContext) -> None:
    """A whole word typed in the other keyboard layout: `vbuhfwbz` for «миграция» (opt-in).

    ## What it does
    Finds words that no dictionary knows and that, read key by key through the other
    layout (QWERTY <-> ЙЦУКЕН), are a word the dictionary of the other script knows:
    `vbuhfwbz` -> «миграция», `cj,frf` -> «собака», `Ыудусе` -> `Select`. Inside a Latin
    word the keys of «х ъ ж э б ю ё» (`[ ] ; ' , . \\``) count as letters. Words shorter than
    `min-length`, acronyms (all capitals), identifiers and words the glossary or the
    course vocabulary knows are left alone.

    ## Why it matters
    A word typed with the wrong layout is unreadable, and it is a slip no reviewer notices
    in a diff full of English identifiers.

    ## Example
    ```markdown
    Запустите vbuhfwbz перед стартом приложения.
    ```
    Reported at line 1, column 11.

    Use instead:
    ```markdown
    Запустите миграцию перед стартом приложения.
    ```

    ## How to fix
    Retype the word, or apply the suggested repair (an unsafe fix: check it).

    ## Fix safety
    Unsafe: the word retyped through the other layout is the dictionary's reading, and the
    author may have meant a name or a code word. `coursecheck --fix` never applies it; the
    editor offers it as "unsafe fix: review it", and SARIF marks it `safe: false`.
    """
    try:
        scopes = resolve_scopes(ctx.options.get("scopes") or ["prose"])
    except ValueError:
        scopes = resolve_scopes("prose")
    words = lexicon.build(ctx.config, ctx.course)
    shortest = max(2, int(ctx.options.get("min-length", 4)))
    for seg in doc.iter_segments(scopes):
        for at, word in _layout_words(seg.text):
            letters = sum(1 for c in word if c.isalpha())
            if letters < shortest or word.isupper() or any(c.isupper() for c in word[1:]):
                continue
            if (word.isalpha() and words.known(word)) or words.accepted.find(word) is not None:
                continue
            swapped = transliterate.layout_swap(word)
            if swapped is None or not words.known(swapped):
                continue
            start, end = seg.range(at, at + len(word))
            fix = None
            if _source_is(doc, start, end, word):
                fix = Fix(f"write «{swapped}»", [Edit(doc.span(start, end), swapped)], safe=False)
            ctx.report(
                doc,
                start,
                end,
                f"«{quote(word)}» looks typed in the other keyboard layout: «{swapped}»?",
                fix=fix,
                anchor=word,
            )


def _pair_text(entry: gl.GlossaryEntry, found: str) -> str:
    others = gl._other_forms(entry, found)
    if not others:
        return ""
    if found.lower() == entry.abbreviation.lower():
        return ", ".join(others[:1])
    # "Registry" -> "registry", but "Write-Ahead Log" and "PostgreSQL" keep their capitals.
    words = [w.lower() if w[1:] == w[1:].lower() else w for w in others if w != entry.abbreviation]
    if entry.abbreviation:
        words.append(entry.abbreviation)
    return ", ".join(words)


@rule(
    "bilingual/missing-pair",
    level="warning",
    lessons_only=True,
    fixable=True,
    options=[Option("headings", bool, False, "count a use in a heading as the first use")],
)
def missing_pair(doc: Document, ctx: RuleContext) -> None:
    """A glossary term's first use in a lesson comes without its pair.

    ## What it does
    For each glossary term, finds its first use in the lesson's prose (a Russian form with
    any inflection, the English form or the abbreviation) and reports it unless the other
    form follows in parentheses — «журнал упреждающей записи (Write-Ahead Log, WAL)»,
    «Write-Ahead Log (журнал упреждающей записи)» — or, for an abbreviation, its expansion
    («WAL (Write-Ahead Log)»). Code, diagrams and frontmatter are not prose.

    ## Why it matters
    Students meet both the Russian term and the English one in documentation, logs and
    configuration; a lesson that gives only one leaves them to guess the other. Each lesson
    can be read on its own, so each gives the pair once.

    ## Example
    With the glossary entry «Реестр» / «Registry»:
    ```toml
    [[glossary.terms]]
    term = "Реестр"
    english = "Registry"
    ```
    ```markdown
    Готовые образы скачивают из реестра.
    ```
    Reported at line 1, column 29.

    Use instead:
    ```markdown
    Готовые образы скачивают из реестра (registry).
    ```

    ## How to fix
    Add the other form in parentheses after the first use (the fix inserts it; check the
    wording).

    ## Fix safety
    Unsafe: the fix inserts «(other form)» after the first use, which may not fit the
    sentence. `coursecheck --fix` never applies it; the editor offers it as "unsafe fix:
    review it", and SARIF marks it `safe: false`.
    """
    if ctx.course is None:
        return
    glossary = gl.load(ctx.config, ctx.course)
    scopes = ("prose", "heading") if ctx.options.get("headings") else ("prose",)
    for entry in glossary.entries:
        if not gl.pairable(entry):
            continue
        found = gl.uses(doc, entry, scopes)
        if not found or found[0].paired:
            continue
        first = found[0]
        pair = _pair_text(entry, first.text)
        if not pair:
            continue
        fix = Fix(f"add «({quote(pair)})»", [Edit(doc.span(first.end, first.end), f" ({pair})")], safe=False)
        ctx.report(
            doc,
            first.start,
            first.end,
            f"first use of {entry.label} in this lesson gives «{quote(first.text)}» without its pair: "
            f"write «{quote(first.text)} ({quote(pair)})»",
            fix=fix,
            anchor=entry.forms[0],
        )


@rule("bilingual/forbidden-translation", level="error", lessons_only=True)
def forbidden_translation(doc: Document, ctx: RuleContext) -> None:
    """A lesson uses a rendering of a term that the glossary forbids.

    ## What it does
    Reports every use, in prose and headings, of a glossary entry's `forbidden` forms
    (Russian forms with their inflections), e.g. a calque the editors have ruled out.

    ## Why it matters
    A course that says «кафка-топик» in one place and «тема Kafka» in another, or uses a
    translation the field does not use, teaches students words they will not find in
    documentation.

    ## Example
    ```toml
    [[glossary.terms]]
    term = "Топик"
    english = "Topic"
    forbidden = ["тема"]
    ```
    ```markdown
    Сообщения попадают в тему, а потребители читают её.
    ```
    Reported at line 1, column 22.

    Use instead:
    ```markdown
    Сообщения попадают в топик, а потребители читают его.
    ```

    ## How to fix
    Use the glossary's form. `coursecheck rule bilingual/forbidden-translation` lists what
    the glossary forbids.
    """
    if ctx.course is None:
        return
    glossary = gl.load(ctx.config, ctx.course)
    scopes = resolve_scopes("prose")
    for entry in glossary.entries:
        if not entry.forbidden:
            continue
        matcher = entry.matcher(*entry.forbidden, plurals=True)
        preferred = entry.forms_in(_primary_script(ctx)) or entry.forms
        write = preferred[0].lower() if not preferred[0].isupper() else preferred[0]
        for seg, m in gl.segment_matches(doc, matcher, scopes):
            start, end = seg.range(m.start, m.end)
            ctx.report(
                doc,
                start,
                end,
                f"«{quote(m.text)}» is a forbidden rendering of {entry.label}; write «{quote(write)}»",
                anchor=m.text.lower(),
            )


@dataclass(slots=True)
class _Rendering:
    label: str
    source: str  # "glossary" | "variants" | "pair"
    uses: list[tuple[Document, Span, str, Any]] = field(default_factory=list)
    count: int = 0  # uses (the glossary's own form is counted, not listed)
    lesson_names: set[str] = field(default_factory=set)

    @property
    def lessons(self) -> int:
        return len(self.lesson_names)

    def add(self, doc: Document, found: list[RenderingUse]) -> None:
        if not found:
            return
        self.count += len(found)
        self.lesson_names.add(doc.relpath)
        self.uses.extend((doc, span, text, line) for span, text, line in found)


def _count(doc: Document, matcher: TermMatcher, scopes: tuple[str, ...], snippets: int) -> list[RenderingUse]:
    """The uses of ``matcher`` in ``doc``; the first ``snippets`` (0: all) with the text of
    their line. Uses of one rendering in a lesson are reported in order, at most the rule's
    limit per file: the line of a use past it would never be shown (and a lesson of 10^5
    uses on one long line would keep 10^5 windows of it)."""
    out: list[RenderingUse] = []
    for seg, m in gl.segment_matches(doc, matcher, scopes):
        s, e = seg.range(m.start, m.end)
        span = doc.span(s, e)
        line = kept_snippet(doc.lines.text_at(span.line), span) if not snippets or len(out) < snippets else None
        out.append((span, m.text, line))
    return out


_PAREN = re.compile(r"\(([^()\n]+)\)")


class _WordsBefore:
    r"""The Cyrillic words (hyphenated ones whole) that end just before ``endpos``, from the
    first of their run: what ``re.search(r"((?:W\s+)*W)\s*$", text, pos, endpos)`` finds with
    W a Cyrillic word. That search tries every start and backtracks from each: quadratic in
    the window (5 ms per parenthesis after 200 letters and a digit). The same words are read
    backwards here: one anchored match on the reversed window, linear."""

    _REVERSED = re.compile(r"\s*([А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*(?:\s+[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*)*)")

    def search(self, text: str, pos: int, endpos: int) -> re.Match[str] | None:
        m = self._REVERSED.match(text[pos:endpos][::-1])
        if m is None:
            return None
        start = endpos - m.end(1)
        return re.match(r"(.*)", text[start : endpos - m.start(1)], re.S)


_CYR_WORDS_BEFORE = _WordsBefore()


def _pair_renderings(doc: Document, entry: gl.GlossaryEntry, primary_form: str) -> dict[str, str]:
    """Renderings found in ``doc`` as «X (english)» where X is not the glossary's form:
    label -> text."""
    english = [f for f in (entry.english, entry.term) if f and gl.script_of(f) == "Latin"]
    if entry.abbreviation:
        english.append(entry.abbreviation)
    if not english:
        return {}
    wanted = {e.lower() for e in english} | {p.lower() for e in english for p in english_plurals(e)}
    size = len(primary_form.split())
    canonical = entry.matcher(primary_form)
    found: dict[str, str] = {}
    parens = _parens(doc)
    # The parentheses whose first item is an English form, in the order of the text.
    hits = sorted((hit for item in wanted for hit in parens.get(item, ())), key=lambda hit: hit[0])
    for _order, seg, m in hits:
        before = _CYR_WORDS_BEFORE.search(seg.text, max(0, m.start() - 200), m.start())
        if before is None:
            continue
        words = before.group(1).split()
        if len(words) < size:
            continue
        candidate = " ".join(words[-size:])
        if any(c.start == 0 and c.end == len(candidate) for c in canonical.finditer(candidate)):
            continue
        found.setdefault(candidate.lower(), candidate)
    return found


# The parentheses in the prose of the document looked at last: (document, its segment count,
# first item of the parenthesis, lower-cased -> [((segment, offset), segment, match)]). Every
# glossary entry looks for its English forms among them: found once per lesson.
_PARENS: list[Any] = [None, 0, {}]


def _parens(doc: Document) -> dict[str, list[tuple[tuple[int, int], Any, re.Match[str]]]]:
    segments = len(doc.segments)
    if _PARENS[0] is not doc or _PARENS[1] != segments:
        found: dict[str, list[tuple[tuple[int, int], Any, re.Match[str]]]] = {}
        for i, seg in enumerate(doc.iter_segments(("prose",))):
            if "(" not in seg.text:
                continue
            for m in _PAREN.finditer(seg.text):
                first_item = m.group(1).split(",")[0].strip().lower()
                found.setdefault(first_item, []).append(((i, m.start()), seg, m))
        _PARENS[:] = [doc, segments, found]
    return _PARENS[2]


def _renderings(doc: Document, glossary: gl.Glossary, primary: str, snippets: int) -> dict[int, EntryRenderings]:
    """The renderings of each entry in ``doc``; ``snippets``: see :func:`_count`."""
    scopes = resolve_scopes("prose")
    out: dict[int, EntryRenderings] = {}
    for i, entry in enumerate(glossary.entries):
        primary_forms = entry.forms_in(primary)
        if not primary_forms:
            continue
        canonical = entry.matcher(*primary_forms)
        main = sum(1 for _ in gl.segment_matches(doc, canonical, scopes))
        variants = {v: _count(doc, entry.matcher(v), scopes, snippets) for v in entry.variants}
        pairs = _pair_renderings(doc, entry, primary_forms[0])
        pair_uses = {text: _count(doc, entry.matcher(text), scopes, snippets) for text in pairs.values()}
        if main or pairs or any(variants.values()):
            out[i] = EntryRenderings(main, {v: u for v, u in variants.items() if u}, pairs, pair_uses)
    return out


@rule(
    "bilingual/inconsistent-rendering",
    level="warning",
    course=True,
    options=[
        Option("detect-pairs", bool, True, "also treat «X (english)» with another Russian X as a rendering"),
    ],
)
def inconsistent_rendering(course: Course, ctx: RuleContext) -> None:
    """One term is rendered in more than one way across the course.

    ## What it does
    For each glossary term, counts the glossary's Russian form and every other rendering in
    the lessons' prose: the entry's `variants` from the config, and (with `detect-pairs`)
    any other Russian words given with the term's English form, as in «имидж (image)» when
    the glossary says «образ». When more than one rendering is used, every use of a
    rendering other than the glossary's is reported, with the counts of each (like Vale's
    `consistency` rule).

    ## Why it matters
    Two words for one concept make students think there are two concepts.

    ## Example
    «образ» in one lesson and the configured variant «имидж» in another:
    ```toml
    [[glossary.terms]]
    term = "Образ"
    english = "Image"
    variants = ["имидж"]
    ```
    In `content/01-images.md`:
    ```markdown
    Образ собирают из Dockerfile.
    ```
    In `content/02-registry.md`:
    ```markdown
    Готовый имидж отправляют в реестр.
    ```
    Reported at line 1, column 9 of `content/02-registry.md`.

    Use instead:
    In `content/02-registry.md`:
    ```markdown
    Готовый образ отправляют в реестр.
    ```

    ## How to fix
    Use the glossary's form everywhere, or change the glossary if the course has settled on
    the other one.
    """
    glossary = gl.load(ctx.config, course)
    scopes = resolve_scopes("prose")
    primary = _primary_script(ctx)
    summaries = ctx.summaries()
    per_lesson: list[tuple[Document, dict[int, EntryRenderings]]] = []
    for doc in course.lessons:
        found = summaries.get(doc.relpath)
        per_lesson.append((doc, found if found is not None else _renderings(doc, glossary, primary, _kept(ctx, doc))))
    for i, entry in enumerate(glossary.entries):
        primary_forms = entry.forms_in(primary)
        if not primary_forms:
            continue
        main = _Rendering(primary_forms[0], "glossary")
        for doc, found in per_lesson:
            if i in found and found[i].main:
                main.count += found[i].main
                main.lesson_names.add(doc.relpath)
        others = [_Rendering(v, "variants") for v in entry.variants]
        if ctx.options.get("detect-pairs", True):
            known = {o.label.lower() for o in others}
            pairs: dict[str, str] = {}
            for _doc, found in per_lesson:
                if i in found:
                    for label, text in found[i].pairs.items():
                        pairs.setdefault(label, text)
            for label, text in pairs.items():
                if label not in known and not any(same_word(text, v) for v in entry.variants):
                    others.append(_Rendering(text, "pair"))
        for other in others:
            for doc, found in per_lesson:
                here = found.get(i)
                if other.source == "variants":
                    uses = here.variants.get(other.label, []) if here is not None else []
                elif here is not None and other.label in here.pair_uses:
                    uses = here.pair_uses[other.label]
                else:
                    # A rendering found as a pair in another lesson: searched here (a parse).
                    uses = _count(doc, entry.matcher(other.label), scopes, _kept(ctx, doc))
                other.add(doc, uses)
        used = [r for r in [main, *others] if r.count]
        if len(used) < 2 or not main.count:
            continue
        counts = ", ".join(
            f"«{quote(r.label.lower())}» {r.count}× in {r.lessons} lesson{'s' if r.lessons != 1 else ''}" for r in used
        )
        for other in used[1:]:
            for doc, span, text, line in other.uses:
                ctx.report_span(
                    doc.relpath,
                    span,
                    f"«{quote(text)}» renders {entry.label} differently from the glossary: {counts}; write «{quote(main.label.lower())}»",
                    anchor=f"{entry.forms[0]}:{text.lower()}",
                    snippet=line,
                )


@inconsistent_rendering.summarizer
def _summarize_renderings(doc: Document, ctx: RuleContext) -> dict[int, EntryRenderings] | None:
    if doc.lesson_id is None:
        return None
    return _renderings(doc, gl.load(ctx.config, ctx.course), _primary_script(ctx), _kept(ctx, doc))  # type: ignore[arg-type]


def _kept(ctx: RuleContext, doc: Document) -> int:
    """Uses of one rendering in ``doc`` that keep their line: as many as can be reported."""
    limit = ctx.limit(doc.relpath)
    return limit + 1 if limit else 0


@rule("bilingual/glossary-script", level="error", course=True, fixable=True)
def glossary_script(course: Course, ctx: RuleContext) -> None:
    """A glossary form is written in the wrong script (often: a swapped entry).

    ## What it does
    Checks each glossary entry: the term field holds the primary-language form (Cyrillic
    for Russian), the English field the secondary-language form (Latin). An entry whose
    term is Latin and English form Cyrillic is reported as swapped, with a fix that swaps
    the two values; a single field in the wrong script, or a form mixing both scripts, is
    reported too. Forms identical in both fields (brand names such as «Docker») are fine.

    ## Why it matters
    The glossary page shows the English form where the Russian one belongs, and every rule
    that pairs the forms reads them the wrong way round.

    ## Example
    ```toml
    [glossary]
    file = "data/glossary.json"
    fields = { term = "term", english = "termEn" }
    ```
    In `data/glossary.json`:
    ```json
    [
      { "term": "Namespace", "termEn": "Пространство имён" }
    ]
    ```
    Reported at line 2, column 13 of `data/glossary.json`.

    Use instead:
    In `data/glossary.json`:
    ```json
    [
      { "term": "Пространство имён", "termEn": "Namespace" }
    ]
    ```

    ## How to fix
    Swap the values (the fix does it in the glossary file) or correct the field.

    ## Fix safety
    Safe: the fix swaps the two values in the glossary file, and is made only when the file
    holds exactly those JSON strings at the entry's `term` and `english` places (otherwise
    there is no fix). `coursecheck --fix` applies it.
    """
    glossary = gl.load(ctx.config, course)
    primary, secondary = _primary_script(ctx), _secondary_script(ctx)
    doc = glossary.document
    for entry in glossary.entries:
        t, e = gl.script_of(entry.term), gl.script_of(entry.english)
        for role, value, script in (("term", entry.term, t), ("english", entry.english, e)):
            if script == "mixed":
                ctx.report_span(
                    entry.path,
                    entry.place(role),
                    f"glossary {role} «{quote(value)}» mixes Latin and Cyrillic letters",
                    doc=doc,
                    anchor=value,
                )
        if t == secondary and e == primary:
            fix = _swap_fix(doc, entry) if entry.origin == "file" else None
            ctx.report_span(
                entry.path,
                entry.place("term"),
                f"swapped glossary entry: the term field holds «{quote(entry.term)}» ({secondary}) and the english "
                f"field «{quote(entry.english)}» ({primary})",
                doc=doc,
                fix=fix,
                anchor=entry.term,
            )
        elif entry.english and e == primary and entry.english.lower() != entry.term.lower():
            ctx.report_span(
                entry.path,
                entry.place("english"),
                f"the english form «{quote(entry.english)}» is written in {primary} letters",
                doc=doc,
                anchor=entry.english,
            )
        elif (
            entry.term
            and entry.english
            and t == secondary
            and e == secondary
            and entry.term.lower() != entry.english.lower()
        ):
            ctx.report_span(
                entry.path,
                entry.place("term"),
                f"the term field holds «{quote(entry.term)}» in {secondary} letters; it should hold the {primary} form",
                doc=doc,
                anchor=entry.term,
            )


def _swap_fix(doc: Document | None, entry: gl.GlossaryEntry) -> Fix | None:
    if doc is None or "term" not in entry.places or "english" not in entry.places:
        return None
    edits = []
    for role, new in (("term", entry.english), ("english", entry.term)):
        span = entry.places[role]
        start = doc.lines.offset(span.line, span.column)
        end = doc.lines.offset(span.end_line, span.end_column)
        old = getattr(entry, role)
        if doc.source[start:end] != json.dumps(old, ensure_ascii=False):
            return None
        edits.append(Edit(span, json.dumps(new, ensure_ascii=False)))
    return Fix("swap the term and english values", edits, safe=True)


def _same_term(a: str, b: str) -> bool:
    wa, wb = a.split(), b.split()
    if not wa or len(wa) != len(wb):
        return False
    return all(
        x.lower() == y.lower() or (gl.script_of(x) == "Cyrillic" and same_word(x, y))
        for x, y in zip(wa, wb, strict=True)
    )


class _TermKeys:
    """Glossary entries by keys of their forms' words, so that the entries a form may be
    the same term as (:func:`_same_term`) are found without comparing it with every entry.

    Words are filed and looked up by :func:`coursecheck.match.same_word_keys`, word by word
    (the same number of words, each word sharing a key). The keys are a superset: each
    candidate is then compared as before."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], list[int]] = {}

    def add(self, index: int, entry: gl.GlossaryEntry) -> None:
        for role in ("term", "english"):
            words = getattr(entry, role).split()
            for at, word in enumerate(words):
                for key in same_word_keys(word)[0]:
                    self._entries.setdefault((role, len(words), at, key), []).append(index)

    def candidates(self, entry: gl.GlossaryEntry) -> list[int]:
        """The entries added so far that may share a form with ``entry``, in order."""
        out: set[int] = set()
        for role in ("term", "english"):
            words = getattr(entry, role).split()
            found: set[int] | None = None
            for at, word in enumerate(words):
                here: set[int] = set()
                for key in same_word_keys(word)[1]:
                    here.update(self._entries.get((role, len(words), at, key), ()))
                found = here if found is None else found & here
                if not found:
                    break
            out |= found or set()
        return sorted(out)


@rule("bilingual/duplicate-term", level="error", course=True)
def duplicate_term(course: Course, ctx: RuleContext) -> None:
    """Two glossary entries describe the same term.

    ## What it does
    Reports a glossary entry whose Russian form (in any inflection) or English form is the
    same as an earlier entry's, at the later entry, naming the earlier one.

    ## Why it matters
    Two definitions of one term drift apart; the glossary page shows the term twice, and
    rules cannot tell which entry a lesson's use belongs to.

    ## Example
    ```toml
    [glossary]
    file = "data/glossary.json"
    fields = { term = "term", english = "termEn" }
    ```
    In `data/glossary.json`:
    ```json
    [
      { "term": "Том", "termEn": "Volume" },
      { "term": "Образ", "termEn": "Image" },
      { "term": "Том", "termEn": "Volume" }
    ]
    ```
    Reported at line 4, column 13 of `data/glossary.json`.

    Use instead:
    In `data/glossary.json`:
    ```json
    [
      { "term": "Том", "termEn": "Volume" },
      { "term": "Образ", "termEn": "Image" }
    ]
    ```

    ## How to fix
    Merge the definitions into one entry (keep the related lessons of both).
    """
    glossary = gl.load(ctx.config, course)
    entries = glossary.entries
    index = _TermKeys()
    for i, later in enumerate(entries):
        # Only the earlier entries sharing a key with this one can be the same term (a
        # glossary of 1,000 entries made 500,000 comparisons).
        candidates = index.candidates(later)
        index.add(i, later)
        for earlier in (entries[j] for j in candidates):
            same = [
                (role, getattr(later, role))
                for role in ("term", "english")
                if getattr(later, role)
                and getattr(earlier, role)
                and _same_term(getattr(later, role), getattr(earlier, role))
            ]
            if not same:
                continue
            role, value = same[0]
            where = f"{earlier.path}:{earlier.place(role).line}"
            ctx.report_span(
                later.path,
                later.place(role),
                f"duplicate glossary entry: {role} «{quote(value)}» is already defined at {where}",
                doc=glossary.document,
                anchor=value,
                related=[(earlier.path, earlier.place(role), "first definition")],
            )
            break


_EXPANSION_WORD = re.compile(r"[A-ZА-ЯЁ]?[a-zа-яё0-9]+|[A-ZА-ЯЁ0-9]+(?![a-zа-яё])")


def abbreviation_fits(abbreviation: str, expansion: str) -> bool:
    """Whether ``abbreviation`` is made of word beginnings of ``expansion``, in order.

    Each word of the expansion gives a prefix (at least its first letter) or nothing; the
    first word always gives one: «WAL» fits «Write-Ahead Log», «cgroups» fits «control
    groups», «СУБД» fits «система управления базами данных»; «WAL» does not fit
    «Write-Ahead Journal». Camel case starts a word («PostgreSQL» is «Postgre», «SQL»).
    """
    short = "".join(c.lower() for c in abbreviation if c.isalnum())
    words = [w.lower() for w in _EXPANSION_WORD.findall(expansion)]
    if not short or not words:
        return False

    @cache
    def fits(at: int, word: int) -> bool:
        if at == len(short):
            return True
        if word == len(words):
            return False
        if word > 0 and fits(at, word + 1):
            return True
        current = words[word]
        k = 1
        while k <= len(current) and at + k <= len(short) and current[:k] == short[at : at + k]:
            if fits(at + k, word + 1):
                return True
            k += 1
        return False

    return fits(0, 0)


@rule("bilingual/abbreviation-mismatch", level="warning", course=True)
def abbreviation_mismatch(course: Course, ctx: RuleContext) -> None:
    """A glossary abbreviation does not fit its expansion.

    ## What it does
    Checks each entry's abbreviation against the form written in the same script (the
    English form for a Latin abbreviation, the Russian one for a Cyrillic abbreviation):
    it must be made of word beginnings of the expansion, in order
    (each word of the expansion gives its first letters or nothing, the first word always
    gives some: `WAL` fits «Write-Ahead Log», `cgroups` fits «control groups», `WAL` does
    not fit «Write-Ahead Journal»).

    ## Why it matters
    An abbreviation that disagrees with its expansion usually means one of them was edited
    and the other forgotten, or the abbreviation belongs to another term.

    ## Example
    ```toml
    [glossary]
    file = "data/glossary.json"
    fields = { term = "term", english = "termEn", abbreviation = "abbr" }
    ```
    In `data/glossary.json`:
    ```json
    [
      { "term": "Журнал упреждающей записи", "termEn": "Write-Ahead Journal", "abbr": "WAL" }
    ]
    ```
    Reported at line 2, column 83 of `data/glossary.json`.

    Use instead:
    In `data/glossary.json`:
    ```json
    [
      { "term": "Журнал упреждающей записи", "termEn": "Write-Ahead Log", "abbr": "WAL" }
    ]
    ```

    ## How to fix
    Correct the abbreviation or the expansion.
    """
    glossary = gl.load(ctx.config, course)
    for entry in glossary.entries:
        abbr = entry.abbreviation
        if not abbr:
            continue
        script = gl.script_of(abbr)
        expansions = [f for f in (entry.english, entry.term) if f and gl.script_of(f) == script and f != abbr]
        if not expansions or any(abbreviation_fits(abbr, x) for x in expansions):
            continue
        ctx.report_span(
            entry.path,
            entry.place("abbreviation"),
            f"abbreviation «{quote(abbr)}» does not fit its expansion «{quote(expansions[0])}»",
            doc=glossary.document,
            anchor=abbr,
        )


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [
        mixed_script,
        mixed_jargon,
        wrong_layout,
        missing_pair,
        forbidden_translation,
        inconsistent_rendering,
        glossary_script,
        duplicate_term,
        abbreviation_mismatch,
    ]
