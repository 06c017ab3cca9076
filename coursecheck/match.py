"""Finding terms and patterns in text: Unicode word boundaries and Russian inflection.

Shared by the terminology and bilingual families, declarative rules and must-have truths,
so that "an occurrence" means the same everywhere:

* A literal term matches where it is not glued to a letter or digit on either side.
  Underscores, dots, quotes and hyphens separate, so ``MilliSecondsBehindSource`` is found
  in ``debezium_metrics_MilliSecondsBehindSource`` but ``WAL`` is not found in ``WALK``.
  Letters are letters in any script (Cyrillic included), unlike ASCII ``\\b``.
* With ``inflect=True``, each Cyrillic word of the term also matches its inflected forms:
  "коннектор" finds "коннектора", "коннектором"; "снимок" finds "снимка". Two analysers
  work together (measured in docs/glossary-and-terms.md):

  - the Snowball Russian stemmer (``snowballstemmer``) proposes candidates: a word with the
    same stem. It needs no dictionary, so it handles course jargon ("снэпшотов",
    "топиков") that no dictionary knows;
  - the OpenCorpora dictionary of ``pymorphy3`` confirms them: when both words are in the
    dictionary they must share a lemma, which rejects Snowball's false friends ("слот" for
    "слой", "образуют" for "образ", "маскированные" for "маскирование"), and the term's
    paradigm adds the forms Snowball cannot reach ("снимок" -> "снимка").

  Without pymorphy3 installed, Snowball alone decides.
* A form that can also be a function word ("том" is both the noun and the pronoun in
  "в том числе") is *ambiguous*. With ``ambiguous="context"`` (the default) it does not
  count right after a preposition ("в том числе", "о том, что", "к тому же"), where the
  pronoun reading is the only grammatical one, and counts elsewhere ("создадим том");
  ``"skip"`` never counts it, ``"count"`` always does. ``exclude`` phrases drop matches
  inside them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from coursecheck.globs import matches

if TYPE_CHECKING:
    from coursecheck.model import Course, Document, Segment
    from coursecheck.text import Span

# Not preceded / followed by a letter or digit of any script (underscore does not count).
_LEFT = r"(?<![^\W_])"
_RIGHT = r"(?![^\W_])"
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*")
_WORD = re.compile(r"[^\W_]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")

# pymorphy3 parts of speech and grammemes that mark a function word (pronoun, preposition...).
_FUNCTION_POS = frozenset({"NPRO", "PREP", "CONJ", "PRCL", "INTJ"})
_FUNCTION_GRAMMEMES = frozenset({"Apro"})

AMBIGUOUS_CHOICES = ("context", "skip", "count")
_PREVIOUS_WORD = re.compile(r"([^\W\d_]+)[^\w]{0,3}$")


@lru_cache(maxsize=1)
def _russian() -> Any:
    # Imported on first use: a run served from the cache stems nothing (~30 ms of start-up).
    import snowballstemmer

    return snowballstemmer.stemmer("russian")


@lru_cache(maxsize=1)
def _morph() -> Any:
    """The pymorphy3 analyser, or None when it is not installed."""
    try:
        import pymorphy3
    except ImportError:  # pragma: no cover - pymorphy3 is a declared dependency
        return None
    try:
        return pymorphy3.MorphAnalyzer()
    except Exception:  # pragma: no cover - broken dictionary install
        return None


def morph_analyzer() -> Any:
    """The shared pymorphy3 ``MorphAnalyzer`` (loaded once per process), or None when
    pymorphy3 is not installed: for other modules that ask the dictionary directly (the
    spelling rules), so the dictionary is not loaded twice."""
    return _morph()


def morphology() -> str:
    """Which analysers decide inflection: ``"snowball+pymorphy3"`` or ``"snowball"``."""
    return "snowball+pymorphy3" if _morph() is not None else "snowball"


def _norm(word: str) -> str:
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of a Russian word, lower-cased (``ё`` read as ``е``)."""
    return _russian().stemWord(_norm(word))


@dataclass(frozen=True, slots=True)
class _Analysis:
    known: bool  # in the dictionary (not guessed by pymorphy3's predictor)
    lemmas: frozenset[str]  # every lemma
    content_lemmas: frozenset[str]  # lemmas of parses that are not function words
    function_lemmas: frozenset[str]  # lemmas of function-word parses ("тот" for "том")


@lru_cache(maxsize=65536)
def _analyse(word: str) -> _Analysis | None:
    morph = _morph()
    if morph is None:
        return None
    lower = word.lower()
    parses = morph.parse(lower)
    known = morph.word_is_known(lower)
    lemmas, content, function = set(), set(), set()
    for p in parses:
        lemma = _norm(p.normal_form)
        lemmas.add(lemma)
        if p.tag.POS in _FUNCTION_POS or _FUNCTION_GRAMMEMES & p.tag.grammemes:
            function.add(lemma)
        else:
            content.add(lemma)
    return _Analysis(known, frozenset(lemmas), frozenset(content or lemmas), frozenset(function))


@lru_cache(maxsize=4096)
def paradigm(word: str) -> tuple[str, ...]:
    """Every form of a dictionary word's content readings ("снимок" -> "снимка", ...).

    Empty for words pymorphy3 does not know (its guesses for jargon are unreliable).
    """
    morph = _morph()
    if morph is None or not morph.word_is_known(word.lower()):
        return ()
    forms: set[str] = set()
    for p in morph.parse(word.lower()):
        if p.tag.POS in _FUNCTION_POS or _FUNCTION_GRAMMEMES & p.tag.grammemes:
            continue
        if "Name" in p.tag.grammemes or "Surn" in p.tag.grammemes or "Patr" in p.tag.grammemes:
            continue
        forms.update(f.word for f in p.lexeme)
    return tuple(sorted(forms))


def same_word(found: str, term_word: str) -> bool:
    """Whether ``found`` is an inflected form of the Russian ``term_word``."""
    if _norm(found) == _norm(term_word):
        return True
    a, b = _analyse(found), _analyse(term_word)
    if a is not None and b is not None and a.known and b.known:
        return bool(a.lemmas & b.content_lemmas)
    return _same_stem(stem(found), stem(term_word))


def same_word_keys(word: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Keys to find the words :func:`same_word` may accept without comparing every pair:
    ``(filed, wanted)``; ``same_word(found, term_word)`` holds only if a key ``wanted`` by
    ``found`` is one ``term_word`` is ``filed`` under. ``same_word`` accepts equal normal
    forms, a shared lemma (a lemma of ``found``, a content lemma of ``term_word``), or Snowball
    stems that are equal or one letter apart at the end (the shorter one a prefix)."""
    norm = _norm(word)
    root = stem(word)
    filed = {("n", norm), ("s", root), ("p", root[:-1])}
    wanted = {("n", norm), ("s", root), ("s", root[:-1]), ("p", root)}
    analysis = _analyse(word)
    if analysis is not None:
        filed |= {("m", lemma) for lemma in analysis.content_lemmas}
        wanted |= {("m", lemma) for lemma in analysis.lemmas}
    return filed, wanted


def is_ambiguous(found: str, term_word: str) -> bool:
    """Whether ``found`` can also be a function word that is not the term ("том" ~ "тот")."""
    a, b = _analyse(found), _analyse(term_word)
    if a is None or b is None:
        return False
    return bool(a.function_lemmas - b.content_lemmas)


def _same_stem(a: str, b: str) -> bool:
    # Snowball is not always consistent across forms ("журнал" -> "журна", "журнале" ->
    # "журнал"): accept stems that differ by one trailing letter.
    short, long = sorted((a, b), key=len)
    return long.startswith(short) and len(long) - len(short) <= 1


def _word_pattern(word: str, inflect: bool) -> tuple[str, list[tuple[str, bool]]]:
    """The regex of one word of a term, and the literal each of its alternatives starts
    with: ``(literal, True)`` for a stem followed by any Cyrillic ending, ``(literal, False)``
    for a whole form (what the term index looks up: see :class:`_TermIndex`)."""
    if inflect and _CYRILLIC_WORD.fullmatch(word):
        alternatives = []
        literals = []
        root = stem(word)
        if len(root) >= 3:
            # The stem then any Cyrillic ending; TermMatcher confirms each candidate.
            alternatives.append(re.escape(root).replace("е", "[её]") + r"[А-Яа-яЁё]*")
            literals.append((root, True))
        for form in paradigm(word):
            if not (len(root) >= 3 and _norm(form).startswith(root)):
                alternatives.append(re.escape(form).replace("е", "[её]"))
                literals.append((form, False))
        if alternatives:
            alternatives.append(re.escape(word))
            literals.append((word, False))
            return "(?:" + "|".join(alternatives) + ")", literals
    return re.escape(word), [(word, False)]


def english_plurals(form: str) -> list[str]:
    """The regular English plural of a term's last word ("bind mount" -> "bind mounts").

    Only the plural: English terms in Russian prose are otherwise not inflected.
    """
    words = form.split(" ")
    last = words[-1]
    if not _LATIN_WORD.fullmatch(last) or len(last) < 2 or last.isupper():
        return []
    lower = last.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        plural = last + "es"
    elif lower.endswith("y") and lower[-2:-1] not in "aeiou":
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return [" ".join([*words[:-1], plural])]


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    text: str


class TermMatcher:
    """Finds one term (or any of its variants) in text.

    ``exclude``: phrases (matched literally, with the same word boundaries) inside which a
    match does not count, e.g. ``"в том числе"``. ``ambiguous``: with ``inflect=True``,
    what to do with a form that can also be a function word: ``"context"`` (skip it after
    a preposition), ``"skip"`` or ``"count"``. ``plurals=True`` also finds the regular English plural of Latin forms.
    """

    def __init__(
        self,
        *forms: str,
        case_sensitive: bool = False,
        inflect: bool = False,
        exclude: Iterable[str] = (),
        ambiguous: str = "context",
        plurals: bool = False,
    ) -> None:
        self.forms = tuple(f for f in forms if f.strip())
        self.case_sensitive = case_sensitive
        self.inflect = inflect
        self.ambiguous = ambiguous
        all_forms = list(self.forms)
        if plurals:
            all_forms += [p for f in self.forms for p in english_plurals(f) if p not in all_forms]
        # Compiled on first use: in a big glossary most terms occur in few lessons, and the
        # term index (segment_matches) finds them without their regex.
        self._pattern, self.keys = _alternation(all_forms, inflect)
        self._regex: re.Pattern[str] | None = None
        self.exclude = tuple(e for e in exclude if e.strip())
        self._exclude_pattern = _alternation(list(self.exclude), False)[0]
        self._exclude_regex: re.Pattern[str] | None = None
        # Cyrillic forms, split into words, to confirm inflected candidates.
        self._term_words = [f.split() for f in self.forms] if inflect else []

    @property
    def regex(self) -> re.Pattern[str] | None:
        """The regex of every form (None when there is no form)."""
        if self._regex is None and self._pattern:
            self._regex = re.compile(self._pattern, 0 if self.case_sensitive else re.IGNORECASE)
        return self._regex

    def finditer(self, text: str) -> Iterator[Match]:
        regex = self.regex
        if regex is None:
            return
        yield from self._accepted(text, regex.finditer(text))

    def finditer_at(self, text: str, starts: Iterable[int]) -> Iterator[Match]:
        """What :meth:`finditer` gives, when every match of the regex in ``text`` starts at
        one of ``starts`` (ascending): the regex is tried only there, as ``finditer`` would
        meet them (a match hides the starts it covers)."""
        regex = self.regex
        if regex is None:
            return
        yield from self._accepted(text, _matches_at(regex, text, starts))

    def _accepted(self, text: str, raw: Iterable[re.Match[str]]) -> Iterator[Match]:
        """The regex's matches ``raw`` that are the term (inflection confirmed, not excluded)."""
        excluded: list[tuple[int, int]] | None = None
        excluded_starts: list[int] = []
        exclude_regex = self._exclude()
        for m in raw:
            found = m.group()
            if self.inflect:
                verdict = self._accepts(found)
                if verdict is None or (verdict == "ambiguous" and _after_preposition(text, m.start())):
                    continue
            if exclude_regex is not None:
                if excluded is None:
                    excluded = [(e.start(), e.end()) for e in exclude_regex.finditer(text)]
                    excluded_starts = [start for start, _end in excluded]
                # The phrases do not overlap: only the last one starting before the match can hold it.
                at = bisect.bisect_right(excluded_starts, m.start()) - 1
                if at >= 0 and m.end() <= excluded[at][1]:
                    continue
            yield Match(m.start(), m.end(), found)

    def _exclude(self) -> re.Pattern[str] | None:
        if self._exclude_regex is None and self._exclude_pattern:
            self._exclude_regex = re.compile(self._exclude_pattern, 0 if self.case_sensitive else re.IGNORECASE)
        return self._exclude_regex

    def count(self, text: str) -> int:
        return sum(1 for _ in self.finditer(text))

    def _accepts(self, found: str) -> str | None:
        """ "yes", "ambiguous" (decide by context), or None when ``found`` is not the term."""
        words = found.split()
        for term in self._term_words:
            if len(term) != len(words):
                continue
            verdict: str | None = "yes"
            for w, t in zip(words, term, strict=True):
                if not _CYRILLIC_WORD.fullmatch(t):
                    continue  # the regex already matched this word literally
                if not same_word(w, t):
                    verdict = None
                    break
                if self.ambiguous != "count" and is_ambiguous(w, t):
                    if self.ambiguous == "skip":
                        verdict = None
                        break
                    verdict = "ambiguous"
            if verdict is not None:
                return verdict
        return None


def _after_preposition(text: str, start: int) -> bool:
    """Whether the word before ``start`` is a preposition ("в", "о", "при", "к"...)."""
    m = _PREVIOUS_WORD.search(text, max(0, start - 40), start)
    if m is None:
        return False
    analysis = _analyse(m.group(1))
    if analysis is None:
        return m.group(1).lower() in ("в", "во", "о", "об", "обо", "на", "при", "к", "ко", "по")
    morph = _morph()
    return any(p.tag.POS == "PREP" for p in morph.parse(m.group(1).lower()))


def _alternation(forms: Sequence[str], inflect: bool) -> tuple[str, tuple[_Key, ...] | None]:
    """The regex of ``forms`` ("" when there is none) and the keys the term index finds
    their matches by (None when some form cannot be found that way: see :func:`_keys`)."""
    alternatives = []
    keys: list[_Key] | None = []
    for form in sorted(forms, key=len, reverse=True):
        words = form.split()
        if not words:
            continue
        patterns = [_word_pattern(w, inflect) for w in words]
        body = r"\s+".join(pattern for pattern, _literals in patterns)
        left = _WORD.match(form[0]) is not None
        right = _WORD.match(form[-1]) is not None
        alternatives.append(f"{_LEFT if left else ''}{body}{_RIGHT if right else ''}")
        if keys is not None:
            found = _keys(patterns[0][1], left, right or len(words) > 1)
            keys = None if found is None else keys + found
    return "|".join(alternatives), None if keys is None else tuple(dict.fromkeys(keys))


def compile_user_regex(pattern: str, *, case_sensitive: bool = True) -> re.Pattern[str]:
    """Compile a user's pattern (raises ``re.error`` for the config loader to report)."""
    return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)


def words(text: str) -> Iterable[re.Match[str]]:
    """Words (letters and digits of any script) in ``text``."""
    return _WORD.finditer(text)


# -- coverage: how often a term occurs across lessons --------------------------------------

# Named groups of segment scopes (see coursecheck.model.SCOPES).
SCOPE_GROUPS: dict[str, tuple[str, ...]] = {
    "prose": ("prose", "heading"),
    "code": ("code", "inline_code"),
    "diagrams": ("prop",),
    "frontmatter": ("frontmatter",),
    "all": ("prose", "heading", "code", "inline_code", "prop", "frontmatter"),
}


def resolve_scopes(scopes: str | Iterable[str]) -> tuple[str, ...]:
    """Scope names from a group name ("prose", "code", "all"...) or a list of groups/scopes.

    Raises ``ValueError`` naming an unknown scope.
    """
    from coursecheck.model import SCOPES

    names = [scopes] if isinstance(scopes, str) else list(scopes)
    out: list[str] = []
    for name in names:
        group = SCOPE_GROUPS.get(name, (name,) if name in SCOPES else None)
        if group is None:
            known = ", ".join([*SCOPE_GROUPS, *(s for s in SCOPES if s not in SCOPE_GROUPS)])
            raise ValueError(f"unknown scope '{name}' (known: {known})")
        out += [s for s in group if s not in out]
    return tuple(out)


@dataclass(slots=True)
class Coverage:
    """Occurrences of a term in a set of lessons.

    ``per_file`` maps each lesson with at least one occurrence to its count, in course
    order; ``checked`` lists every lesson that was searched; ``locations`` holds
    ``(relpath, span, matched text)`` of every occurrence.
    """

    forms: tuple[str, ...]
    scopes: tuple[str, ...]
    total: int = 0
    per_file: dict[str, int] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)
    locations: list[tuple[str, Span, str]] = field(default_factory=list)

    @property
    def lessons(self) -> int:
        """How many lessons have at least one occurrence."""
        return len(self.per_file)

    def describe(self) -> str:
        """ "38 occurrences across 4 of 7 lessons; most in 01-x.mdx (19)"."""
        text = f"{self.total} occurrence{'s' if self.total != 1 else ''} across {self.lessons} of {len(self.checked)} lesson{'s' if len(self.checked) != 1 else ''}"
        if self.per_file:
            top, n = max(self.per_file.items(), key=lambda item: item[1])
            text += f"; most in {top.rsplit('/', 1)[-1]} ({n})"
        return text


def occurrences(doc: Document, matcher: TermMatcher, scopes: Iterable[str]) -> Iterator[tuple[int, int, str]]:
    """``(source start, source end, matched text)`` of a term in ``doc``'s segments of ``scopes``."""
    for seg, m in segment_matches(doc, matcher, frozenset(scopes)):
        start, end = seg.range(m.start, m.end)
        yield start, end, m.text


def segment_matches(
    doc: Document, matcher: TermMatcher, scopes: tuple[str, ...] | frozenset[str]
) -> Iterator[tuple[Segment, Match]]:
    """``matcher``'s matches in each of ``doc``'s segments in ``scopes``, segment by segment
    (what ``matcher.finditer(seg.text)`` gives for every segment), searching only the
    segments where the term's regex matches the segments joined by newlines.

    A match inside a segment is a match of the regex in the joined text, or overlaps one
    (the term regex has only word-boundary lookarounds, and a newline is not a word
    character); a joined match that runs over a segment's end makes every segment it
    touches a candidate. Most terms are absent from most lessons, and present ones from
    most segments: a lesson has hundreds.

    A document asked about many terms in a row is read once instead (:class:`_TermIndex`):
    its words give the places where each term's matches can start, and the regex is tried
    only there."""
    if not matcher._pattern:
        return
    if matcher.keys is not None:
        term_index = _term_index(doc)
        if term_index is not None and term_index.usable:
            all_segments = doc.segments
            found = term_index.starts(matcher.keys, lambda i: all_segments[i].scope in scopes)
            for i in sorted(found):
                segment = all_segments[i]
                for hit in matcher.finditer_at(segment.text, found[i]):
                    yield segment, hit
            return
    assert matcher.regex is not None
    joined, starts = _joined(doc, scopes)
    candidates: set[int] = set()
    for in_joined in matcher.regex.finditer(joined):
        first = bisect.bisect_right(starts, in_joined.start()) - 1
        last = bisect.bisect_right(starts, max(in_joined.end() - 1, in_joined.start())) - 1
        candidates.update(range(first, last + 1))
    if not candidates:
        return
    segments = [seg for seg in doc.segments if seg.scope in scopes]
    for index in sorted(candidates):
        seg = segments[index]
        for m in matcher.finditer(seg.text):
            yield seg, m


_JOINED: dict[tuple[int, frozenset[str]], tuple[Document, int, tuple[str, list[int]]]] = {}
_JOINED_MAX = 8  # documents kept (rules ask for every term of one document in a row)


def _joined(doc: Document, scopes: tuple[str, ...] | frozenset[str]) -> tuple[str, list[int]]:
    """The text of ``doc``'s segments in ``scopes``, joined by newlines, and where each
    segment starts in it (cached per document)."""
    key = (id(doc), frozenset(scopes))
    segments = doc.segments
    cached = _JOINED.get(key)
    if cached is not None and cached[0] is doc and cached[1] == len(segments):
        return cached[2]
    texts = [seg.text for seg in segments if seg.scope in key[1]]
    starts = []
    at = 0
    for text in texts:
        starts.append(at)
        at += len(text) + 1
    joined = ("\n".join(texts), starts)
    if len(_JOINED) >= _JOINED_MAX:
        _JOINED.clear()
    _JOINED[key] = (doc, len(segments), joined)
    return joined


# -- the term index: one pass over a lesson for every term --------------------------------
#
# A glossary of 1,000 terms searched with one regex each reads every lesson 1,000 times. The
# index reads it once: the words of its segments (runs of letters and digits), case-folded
# as the regex engine compares letters without case, each with where it is. A term is then
# looked up by the first letters every match of its regex must start with: the literal that
# begins each alternative of its first word (a stem, a dictionary form, the word itself). A
# match of the regex starts a word of the text at the place of that literal's first run of
# letters (the term's left word boundary, or the non-letter before the run in the literal,
# is in the text too), and that word is the run itself, or starts with it for a stem (or a
# run that ends the literal where no word boundary follows it). So the words found give
# every place a match can start; the regex is tried only there (TermMatcher.finditer_at),
# which gives what a search of the whole segment gives. Texts or terms with characters the
# fold cannot vouch for, and forms starting with no letter or digit, use the regex on the
# whole text instead, as before.


@dataclass(frozen=True, slots=True)
class _Key:
    text: str  # case-folded letters and digits
    prefix: bool  # a word of the text starting with them (else: a word equal to them)
    offset: int  # where they are in the literal: the match starts this far before the word


def _keys(literals: list[tuple[str, bool]], left: bool, bounded: bool) -> list[_Key] | None:
    """The keys of one form's first word from the literals its alternatives start with.

    ``left``: the form has the left word boundary; ``bounded``: something that is not a
    letter or digit follows the first word (a space before the next word, or the right
    word boundary)."""
    fold = _fold_table()
    if fold is None:
        return None
    out = []
    for literal, is_stem in literals:
        run = _WORD.search(literal)
        if run is None or (run.start() == 0 and not left) or _has_odd(literal):
            return None
        followed = run.end() < len(literal)  # a non-letter of the literal follows the run
        exact = followed or (not is_stem and bounded)
        out.append(_Key(run.group().translate(fold), not exact, run.start()))
    return out


_FOLD: list[Any] = []  # [the fold table or None], made on first use


class _FoldTable(dict):  # type: ignore[type-arg]
    """Code point -> the code point standing for every character the regex engine takes
    for it without case (``re.IGNORECASE``: the same simple lowercase, or one of the extra
    cases the engine adds, such as ``ſ`` for ``s``); ``ё`` folds to ``е``, as term regexes
    accept both. Letters and digits fold to letters and digits when their class has one."""

    def __init__(self, tolower: Any, extra: dict[int, tuple[int, ...]]) -> None:
        super().__init__()
        self._tolower = tolower
        self._extra = extra

    def __missing__(self, code: int) -> int:
        lower = self._tolower(code)
        same = {lower, *self._extra.get(lower, ())}
        alnum = [c for c in same if chr(c).isalnum()]
        folded = min(alnum or same)
        folded = 0x435 if folded == 0x451 else folded  # ё -> е
        self[code] = folded
        return folded


def _fold_table() -> _FoldTable | None:
    """The fold table, or None when this Python does not expose how ``re`` compares
    letters without case (then every term is searched with its regex)."""
    if not _FOLD:
        table = None
        try:
            import _sre  # type: ignore[import-not-found]

            try:
                from re import _casefix  # type: ignore[attr-defined]

                extra = _casefix._EXTRA_CASES
            except ImportError:  # pragma: no cover - Python 3.10
                import sre_compile

                extra = sre_compile._ignorecase_fixes  # type: ignore[attr-defined]
            table = _FoldTable(_sre.unicode_tolower, dict(extra))
        except (ImportError, AttributeError):  # pragma: no cover - another implementation
            table = None
        _FOLD.append(table)
    return _FOLD[0]


@lru_cache(maxsize=4096)
def _odd(char: str) -> bool:
    """Whether folding changes whether ``char`` is a letter or digit (U+0345, the Greek
    iota subscript, is no letter but compares without case as iota): word runs of the text
    and of its fold would differ, so the index does not vouch for such a text."""
    fold = _fold_table()
    return fold is not None and char.isalnum() != chr(fold[ord(char)]).isalnum()


def _has_odd(text: str) -> bool:
    return not text.isascii() and any(_odd(c) for c in set(text))


def _matches_at(regex: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    """The matches ``regex.finditer(text)`` gives, when every one of them starts at one of
    ``starts`` (ascending): tried at each start a previous match does not cover."""
    covered = 0
    for start in starts:
        if start < covered:
            continue
        m = regex.match(text, start)
        if m is not None:
            yield m
            covered = max(m.end(), start + 1)


class _TermIndex:
    """The words of a document's segments (every scope), case-folded, with their places."""

    __slots__ = ("_sorted", "places", "usable")

    def __init__(self, doc: Document) -> None:
        fold = _fold_table()
        self.places: dict[str, list[tuple[int, int]]] = {}  # folded word -> (segment index, start)
        self._sorted: list[str] | None = None
        self.usable = fold is not None
        if fold is None:
            return
        places = self.places
        for index, seg in enumerate(doc.segments):
            text = seg.text
            if _has_odd(text):
                self.usable = False
                places.clear()
                return
            folded = text.translate(fold)
            for m in _WORD.finditer(folded):
                # Folding keeps lengths and letters (no odd character): the fold's words are the text's.
                word = m.group()
                found = places.get(word)
                if found is None:
                    places[word] = [(index, m.start())]
                else:
                    found.append((index, m.start()))

    def starts(self, keys: Sequence[_Key], wanted: Callable[[int], bool]) -> dict[int, list[int]]:
        """Segment index -> where a match of a term with ``keys`` may start in it (ascending),
        for the segments ``wanted`` takes."""
        out: dict[int, set[int]] = {}
        for key in keys:
            if key.prefix:
                words = self._sorted
                if words is None:
                    words = self._sorted = sorted(self.places)
                at = bisect.bisect_left(words, key.text)
                hits: list[list[tuple[int, int]]] = []
                while at < len(words) and words[at].startswith(key.text):
                    hits.append(self.places[words[at]])
                    at += 1
            else:
                exact = self.places.get(key.text)
                hits = [exact] if exact is not None else []
            for places in hits:
                for index, start in places:
                    if wanted(index):
                        out.setdefault(index, set()).add(max(start - key.offset, 0))
        return {index: sorted(found) for index, found in out.items()}


_INDEXES: dict[int, tuple[Document, int, _TermIndex]] = {}
_INDEXES_MAX = 4  # documents kept (rules ask for every term of one document in a row)
# The document asked about last and how many times in a row: an index costs a few searches
# of the text, so it is made for a document asked about several terms in a row (the per-file
# stage asks about the whole glossary), not for one asked about one term at a time in turn
# with others (a course rule going through the lessons for each term).
_STREAK: list[Any] = [None, 0]
_STREAK_TO_INDEX = 3


def _term_index(doc: Document) -> _TermIndex | None:
    """The term index of ``doc`` (cached for the last documents asked about), or None while
    a search of the text is cheaper."""
    cached = _INDEXES.get(id(doc))
    segments = doc.segments
    if cached is not None and cached[0] is doc and cached[1] == len(segments):
        return cached[2]
    if _STREAK[0] is doc:
        _STREAK[1] += 1
    else:
        _STREAK[:] = [doc, 1]
    if _STREAK[1] < _STREAK_TO_INDEX:
        return None
    index = _TermIndex(doc)
    if len(_INDEXES) >= _INDEXES_MAX:
        _INDEXES.clear()
    _INDEXES[id(doc)] = (doc, len(segments), index)
    return index


def coverage(
    course: Course,
    term: str | Sequence[str] | TermMatcher,
    files: str | Sequence[str] | None = None,
    scopes: str | Iterable[str] = "all",
    *,
    inflect: bool | None = None,
    case_sensitive: bool = False,
) -> Coverage:
    """Count a term's occurrences in the course's lessons (course order).

    ``term``: one form, several forms, or a ready :class:`TermMatcher`. ``files``: globs
    on lesson paths relative to the project root (default: every lesson). ``scopes``: a
    group of :data:`SCOPE_GROUPS` or a list of groups/scopes. ``inflect`` defaults to
    True when a form has Cyrillic letters. An occurrence is one match of the matcher in
    one segment; the counting is the same as ``TermMatcher.finditer``.
    """
    if isinstance(term, TermMatcher):
        matcher = term
    else:
        forms = (term,) if isinstance(term, str) else tuple(term)
        if inflect is None:
            inflect = any(_CYRILLIC_WORD.search(f) for f in forms)
        matcher = TermMatcher(*forms, inflect=inflect, case_sensitive=case_sensitive)
    scope_names = resolve_scopes(scopes)
    globs = [files] if isinstance(files, str) else list(files or [])
    result = Coverage(matcher.forms, scope_names)
    for doc in course.lessons:
        if globs and not matches(doc.relpath, globs):
            continue
        result.checked.append(doc.relpath)
        for start, end, text in occurrences(doc, matcher, scope_names):
            result.total += 1
            result.per_file[doc.relpath] = result.per_file.get(doc.relpath, 0) + 1
            result.locations.append((doc.relpath, doc.span(start, end), text))
    return result
