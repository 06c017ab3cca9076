"""Anti-patterns: unfinished text left in lessons (TODO markers, placeholders, empty sections,
stub lessons).

Only what a reader sees is searched: prose (paragraphs, lists, quotes, tables, link text)
and headings by default, never code blocks or inline code, where ``# TODO`` is part of the
example. Matching uses :class:`coursecheck.match.TermMatcher` (Unicode word boundaries,
Russian inflection), so ``TODO`` is not found in ``TODOS`` and «заглушка» finds «заглушку».
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import lru_cache
from itertools import accumulate
from typing import Any

import regex  # type: ignore[import-untyped]

from coursecheck import hookimpl
from coursecheck.config import Config, did_you_mean
from coursecheck.match import Match, TermMatcher, stem
from coursecheck.model import Document, Heading, Segment
from coursecheck.patterns import regex_problem, timed_finditer, timeout_message, user_regex
from coursecheck.rules import Option, Rule, RuleContext, rule
from coursecheck.text import quote

FAMILY = "anti-patterns"
TEXT_SCOPES = ("prose", "heading", "frontmatter", "prop")  # never code nor inline code
DEFAULT_SCOPES = ["prose", "heading"]
DEFAULT_MARKERS = ["TODO", "FIXME", "TBD", "XXX"]
# Placeholder *use*, per language: a sentence (or heading, or list item) that is only one of
# these, or ends in one after a dash or a colon ("Docker Swarm — coming soon"). Words that
# also have ordinary meanings («заглушка», a test stub; "to be added" in a sentence) are
# placeholders only when they stand alone.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "en": (
        "coming soon", "more coming soon", "under construction", "work in progress", "wip", "to be written",
        "to be added", "to be done", "to be continued", "to be completed", "tbd", "tba", "todo", "text goes here",
        "content goes here", "your text here", "insert text here", "placeholder", "placeholder text",
        "lorem ipsum", "stay tuned", "more to come", "not yet written", "write me", "fill me in",
    ),
    "ru": (
        "в разработке", "раздел в разработке", "урок в разработке", "страница в разработке",
        "материал в разработке", "глава в разработке", "статья в разработке", "скоро появится", "скоро будет",
        "будет дополнено", "будет добавлено", "будет добавлено позже", "будет позже", "текст будет позже",
        "здесь будет текст", "тут будет текст", "заглушка", "дописать", "в процессе написания",
        "материал готовится", "раздел готовится", "продолжение следует",
    ),
}  # fmt: skip
# Sign-offs that also close a paragraph of real text ("...will be added to the spec. Stay
# tuned!"): placeholders only when they are all their section holds.
SIGN_OFFS = {"stay tuned", "more to come", "to be continued", "продолжение следует"}
# Phrases that end a sentence as a placeholder after a dash or a colon ("X — coming soon").
TRAILING = {
    "en": (
        "coming soon",
        "tbd",
        "tba",
        "todo",
        "to be added",
        "to be written",
        "wip",
        "under construction",
        "placeholder",
        "a placeholder",
        "a stub",
        "stub",
    ),
    "ru": (
        "в разработке",
        "скоро",
        "скоро появится",
        "будет позже",
        "будет дополнено",
        "будет добавлено позже",
        "заглушка",
    ),
}
# Sentences that announce text instead of being it: placeholders where they are all their
# section holds, or end in an ellipsis («Здесь будет пример настройки…»).
LEADING = {
    "en": ("here will be", "this section will", "this page will", "content will be added", "text will be added"),
    "ru": ("здесь будет", "тут будет", "здесь появится", "в этом разделе будет", "скоро здесь будет"),
}
DEFAULT_PHRASES: list[str] = []  # more phrases of the course's own, matched anywhere

_SCOPES_OPTION = Option(
    "scopes",
    list,
    DEFAULT_SCOPES,
    "where to search: prose, heading, frontmatter (string values), prop (string props of MDX components)",
    item=str,
)


# Not after a letter or digit of any script: TermMatcher's left word boundary.
_LEFT = r"(?<![^\W_])"
# A case-insensitive gate is run, where that is exact, as a case-sensitive one on lowercased
# text (Python's re is several times slower with IGNORECASE on Cyrillic text): when the
# gate's keys are written in ASCII and Cyrillic and the text holds only characters of
# _LOWER_SAFE, a character matches a key letter ignoring case exactly when their
# lowercases are equal, and lowercasing keeps lengths and word boundaries (tested).
_KEY_CHARS = re.compile(r"[\x00-\x7f\u0400-\u04ff]*")
_LOWER_SAFE_RANGES = "\x00-\xff\u0400-\u04ff\u2000-\u206f\u2190-\u23ff\u2500-\u27bf\U0001f000-\U0001faff"
_NOT_LOWER_SAFE = re.compile(f"[^{_LOWER_SAFE_RANGES}]")
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]+")


class _Finder:
    """Phrases found with :class:`TermMatcher`, each built on first use behind a cheap gate.

    Running a term matcher over a whole course for twenty phrases is slow (its boundary
    checks run at every position), and building one for Russian phrases loads the
    morphology dictionaries. An occurrence of a phrase contains each of its words, so one
    regex first finds which words occur in a segment (a Russian word by its Snowball stem,
    less its last letter when longer than 4: "разработк" -> "разработ" also covers
    «разработок»; words under 3 letters, like «в», are not looked for). Only phrases whose
    words all occur are then matched, by their own TermMatcher.
    """

    def __init__(self, forms: tuple[str, ...], *, case_sensitive: bool, inflect: bool) -> None:
        self.case_sensitive = case_sensitive
        self.inflect = inflect
        self.needs: dict[str, frozenset[str]] = {}  # form -> gate groups that must all occur
        groups: dict[str, str] = {}  # key pattern -> group name
        for form in dict.fromkeys(forms):
            names = set()
            for word in form.split():
                key = self._key(word)
                if key is None:
                    continue
                names.add(groups.setdefault(key, f"k{len(groups)}"))
            if form.split():
                self.needs[form] = frozenset(names)
        flags = 0 if case_sensitive else re.IGNORECASE
        self.gate = re.compile(f"{_LEFT}(?:{'|'.join(groups)})", flags) if groups else None
        # One key may be a prefix of another ("текс", "текстов"): at each place the gate
        # stops, every key is tried.
        self.keys = [(name, re.compile(key, flags)) for key, name in groups.items()]
        self.matchers: dict[str, TermMatcher] = {}
        # Forms no gate word guards: the only ones to try where the gate finds nothing.
        self.ungated = {form: needs for form, needs in self.needs.items() if not needs}
        self.lower_gate: re.Pattern[str] | None = None
        self.lower_keys = self.keys
        if not case_sensitive and groups and all(_KEY_CHARS.fullmatch(key) for key in groups):
            self.lower_gate = re.compile(f"{_LEFT}(?:{'|'.join(key.lower() for key in groups)})")
            self.lower_keys = [(name, re.compile(key.lower())) for key, name in groups.items()]
        # Case-sensitive keys that are plain words: absent from a text when no word is in it.
        self.literals: tuple[str, ...] | None = None
        if case_sensitive and all(re.fullmatch(r"[^\W_]+", key) for key in groups):
            self.literals = tuple(groups)

    def _gate(self, text: str) -> tuple[re.Pattern[str] | None, list[tuple[str, re.Pattern[str]]], str]:
        """The gate, its keys and the text to run them on (lowercased where that is exact)."""
        if self.lower_gate is not None and _NOT_LOWER_SAFE.search(text) is None:
            return self.lower_gate, self.lower_keys, text.lower()
        return self.gate, self.keys, text

    def candidates(self, texts: list[str]) -> set[int] | None:
        """Indexes of the texts where :meth:`finditer` may find something (None: any):
        one gate search over the texts joined, instead of one per text."""
        if self.ungated:
            return None
        if self.gate is None:
            return set()
        joined = "\n".join(texts)  # no key spans a line break; "\n" is a word boundary
        if self.literals is not None and not any(word in joined for word in self.literals):
            return set()
        gate, _, haystack = self._gate(joined)
        assert gate is not None
        starts = list(accumulate([len(text) + 1 for text in texts[:-1]], initial=0))
        return {bisect_right(starts, m.start()) - 1 for m in gate.finditer(haystack)}

    def _key(self, word: str) -> str | None:
        if self.inflect and _CYRILLIC_WORD.fullmatch(word):
            root = stem(word)
            if len(root) < 3:
                return None
            return re.escape(root[:-1] if len(root) > 4 else root).replace("е", "[её]")
        return re.escape(word) if len(word) >= 3 or not self.inflect else None

    def finditer(self, text: str) -> list[Match]:
        gate, keys, haystack = self._gate(text)
        if not self.ungated and (gate is None or gate.search(haystack) is None):
            return []  # the common case: no gate word in the segment
        hit: set[str] = set()
        if gate is not None:
            for gated in gate.finditer(haystack):
                hit.update(name for name, key in keys if key.match(haystack, gated.start()))
        found: list[Match] = []
        for form, needs in (self.needs if hit else self.ungated).items():
            if not needs <= hit:
                continue
            matcher = self.matchers.get(form)
            if matcher is None:
                matcher = TermMatcher(form, case_sensitive=self.case_sensitive, inflect=self.inflect)
                self.matchers[form] = matcher
            found.extend(matcher.finditer(text))
        # Longest first at a position; a match inside one already taken is dropped.
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        kept: list[Match] = []
        for m in found:
            if not kept or m.start >= kept[-1].end:
                kept.append(m)
        return kept


@lru_cache(maxsize=32)
def _markers(forms: tuple[str, ...], case_sensitive: bool) -> _Finder:
    return _Finder(forms, case_sensitive=case_sensitive, inflect=False)


@lru_cache(maxsize=32)
def _phrases(forms: tuple[str, ...]) -> _Finder:
    return _Finder(forms, case_sensitive=False, inflect=True)


@lru_cache(maxsize=32)
def _patterns(patterns: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(user_regex(p, regex.IGNORECASE) for p in patterns)


def _segments(doc: Document, scopes: list[str]) -> Iterator[Segment]:
    wanted = frozenset(s for s in scopes if s in TEXT_SCOPES)
    return doc.iter_segments(wanted)


def _context(text: str, start: int, end: int, width: int = 60) -> str:
    """The matched text and what follows it on its line, shortened: for the message.

    The line is read at most 2,000 characters past the match: 10^5 markers on one long line
    each read it to its end (quadratic); the text shown is the same unless more than 1,940
    spaces end the line."""
    line_end = text.find("\n", end, end + 2000)
    line_end = min(len(text), end + 2000) if line_end == -1 else line_end
    shown = text[start:line_end].strip()
    return shown if len(shown) <= width else shown[: width - 1].rstrip() + "…"


# -- config --------------------------------------------------------------------------------


@hookimpl
def coursecheck_configure(config: Config) -> list[tuple[str, int, str]]:
    """Scopes must be text scopes; user patterns must not backtrack exponentially."""
    problems: list[tuple[str, int, str]] = []
    layers: list[tuple[tuple[Any, ...], dict[str, Any]]] = [(("rules",), config.rules)]
    layers += [(("overrides", i, "rules"), o.rules) for i, o in enumerate(config.overrides)]
    for prefix, settings in layers:
        for rule_id, setting in settings.items():
            if not rule_id.startswith(FAMILY + "/"):
                continue
            key = (*prefix, rule_id)
            scopes = setting.options.get("scopes")
            if isinstance(scopes, list):
                for scope in scopes:
                    if scope not in TEXT_SCOPES:
                        hint = did_you_mean(str(scope), TEXT_SCOPES)
                        problems.append(
                            (
                                ".".join(map(str, (*key, "scopes"))),
                                config.where(*key, "scopes")[1],
                                f"unknown scope {scope!r}{hint} (one of: {', '.join(TEXT_SCOPES)}; "
                                "code and inline code are never searched)",
                            )
                        )
            patterns = setting.options.get("patterns")
            if isinstance(patterns, list):
                for pattern in patterns:
                    why = regex_problem(pattern) if isinstance(pattern, str) else None
                    if why and "invalid regular expression" not in why:  # bad syntax: reported already
                        problems.append(
                            (".".join(map(str, (*key, "patterns"))), config.where(*key, "patterns")[1], why)
                        )
    return problems


# -- rules ---------------------------------------------------------------------------------


@rule(
    "anti-patterns/todo",
    level="warning",
    options=[
        Option("markers", list, DEFAULT_MARKERS, "words that mark unfinished work", item=str),
        Option("case-sensitive", bool, True, "match the markers' case exactly (TODO, not todo)"),
        _SCOPES_OPTION,
    ],
    tags=("anti-patterns",),
)
def todo(doc: Document, ctx: RuleContext) -> None:
    """A TODO, FIXME, TBD or XXX marker is left in the text of a lesson.

    ## What it does
    Finds the `markers` (default `TODO`, `FIXME`, `TBD`, `XXX`) as whole words in prose and
    headings (`scopes`), case-sensitively by default. Code blocks and inline code are never
    searched: `# TODO` in a Dockerfile example is part of the example. `TBD` and `TBA` also
    mean "to be determined" as a value ("Until: TBD" in a table, "the date is TBD"): they are
    markers only where they open a sentence, a list item or a heading (`TBD: examples`) or
    stand alone, outside tables.

    ## Why it matters
    A note to the author published as part of the lesson tells students the material is
    unfinished, and the promised part (an example, a section) is missing.

    ## Example
    ```markdown
    TODO: добавить пример резервного копирования тома.
    ```
    Reported at line 1, column 1.

    Use instead:
    ```markdown
    Резервную копию тома делает контейнер, который монтирует том и архивирует его.
    ```

    ## How to fix
    Write what the note asks for and delete the marker, or move the note to an issue
    tracker or an MDX comment (`{/* ... */}`), which readers do not see.
    """
    matcher = _markers(tuple(ctx.options["markers"]), ctx.options["case-sensitive"])
    segments = list(_segments(doc, ctx.options["scopes"]))
    searched = matcher.candidates([segment.text for segment in segments])
    for i, segment in enumerate(segments):
        if searched is not None and i not in searched:
            continue
        for m in matcher.finditer(segment.text):
            if m.text.upper() in VALUE_MARKERS and not _marker_use(doc, segment, m.start, m.end):
                continue  # "Release: TBD" is a value, not a note to the author
            start, end = segment.range(m.start, m.end)
            shown = _context(segment.text, m.start, m.end)
            ctx.report(doc, start, end, f"{m.text} marker left in the {segment.scope}: «{shown}»", anchor=m.text)


VALUE_MARKERS = ("TBD", "TBA")


def _marker_use(doc: Document, segment: Segment, start: int, end: int) -> bool:
    """Whether ``TBD`` at ``segment.text[start:end]`` is a marker: it opens its sentence (or
    stands alone) and is not a table cell's value."""
    if _in_table(doc, segment):
        return False
    before = segment.text[:start]
    cut = max(before.rfind(". "), before.rfind("\n"), before.rfind("! "), before.rfind("? "))
    opening = before[cut + 1 :] if cut >= 0 else before
    return not _WORDS.search(opening)


@rule(
    "anti-patterns/placeholder",
    level="warning",
    options=[
        Option(
            "phrases",
            list,
            DEFAULT_PHRASES,
            "more placeholder phrases of your own, found anywhere in the text: whole words, case-insensitively, "
            "Russian words in any inflected form",
            item=str,
        ),
        Option(
            "patterns", list, [], "more placeholders as regular expressions (case-insensitive)", item=str, regex=True
        ),
        Option(
            "builtin",
            bool,
            True,
            "look for the built-in placeholder uses of the course's languages ([course] languages)",
        ),
        _SCOPES_OPTION,
    ],
    tags=("anti-patterns",),
)
def placeholder(doc: Document, ctx: RuleContext) -> None:
    """Placeholder text stands where content should be: «Раздел в разработке.», "Coming soon",
    "TBD", lorem ipsum.

    ## What it does
    Looks for placeholder *use*, in the languages of the course (`[course] languages`): a
    sentence, list item or heading that is only a placeholder (`Coming soon.`, `TBD`, «В
    разработке», «Заглушка», `Work in progress`), or ends in one after a dash or a colon
    (`Docker Swarm — coming soon.`); a sentence that announces text instead of being it
    («Здесь будет пример…», "This section will…") when it ends in an ellipsis or is all its
    section holds; and lorem ipsum filler (`Lorem ipsum dolor…`). Words that also have
    ordinary meanings are not placeholders in a sentence: «поставили заглушку вместо
    сервиса» (a test stub), "the package needs to be added", "a guide is coming soon",
    «текст-заглушка (Lorem ipsum)». Table cells are values ("Until: TBD"), not placeholders.
    `phrases` and `patterns` add your own, found anywhere. Code is never searched.

    ## Why it matters
    A placeholder promises content the lesson does not have; students hit a dead end, and a
    verification report that counts lines or sections is fooled by filler text.

    ## Example
    ```markdown
    ## Compose в продакшене

    Запуск того же файла на нескольких серверах — coming soon.
    ```
    Reported at line 3, column 47.

    Use instead:
    ```markdown
    ## Compose в продакшене

    Запуск того же файла на нескольких серверах описан в уроке о Swarm.
    ```

    ## How to fix
    Write the content, or remove the section until it exists.
    """
    found: list[tuple[Segment, int, int, str]] = []
    segments = list(_segments(doc, ctx.options["scopes"]))
    if ctx.options.get("builtin", True):
        languages = _languages(ctx)
        texts = [segment.text for segment in segments if segment.scope in ("prose", "heading")]
        # The phrases the lesson holds at all (its text with blanks as one space, any case, е
        # for ё): a sentence can be a placeholder use only of one of them. Most lessons hold
        # none, and cost one pass over their text per phrase, in C.
        joined = " ".join("\n".join(texts).lower().replace("ё", "е").split())
        present = [phrase for phrase in _normal_phrases(languages) if phrase in joined]
        words = tuple({max(phrase.split(), key=len) for phrase in present})
        if "lorem" in joined:
            words += ("lorem",)
        sections: dict[int, bool] | None = None
        for index, segment in enumerate(segments):
            if segment.scope not in ("prose", "heading") or not words:
                continue
            lowered = segment.text.lower().replace("ё", "е")
            if "lorem" not in lowered and not any(word in lowered for word in words):
                continue  # no phrase in the text (the common case): no sentence of it is a placeholder
            if not _in_table(doc, segment):
                if sections is None:
                    sections = _section_content(doc, segments)
                for start, end in _placeholder_uses(segment.text, languages, sections.get(index, False)):
                    found.append((segment, start, end, segment.text[start:end]))
            else:
                for m in _LOREM.finditer(segment.text):
                    found.append((segment, m.start(), m.end(), m.group()))
    if ctx.options["phrases"] or ctx.options["patterns"]:
        phrases = _phrases(tuple(ctx.options["phrases"])) if ctx.options["phrases"] else None
        patterns = _patterns(tuple(ctx.options["patterns"]))
        searched = phrases.candidates([segment.text for segment in segments]) if phrases is not None else set()
        for i, segment in enumerate(segments):
            if phrases is not None and (searched is None or i in searched):
                found += [(segment, m.start, m.end, m.text) for m in phrases.finditer(segment.text)]
            for pattern in patterns:
                matches = timed_finditer(ctx, pattern, segment.text)
                if matches is None:  # reported once, where it timed out; skipped from then on
                    at, _ = segment.range(0, 0)
                    ctx.report(doc, at, None, timeout_message("placeholder pattern", pattern.pattern))
                    continue
                found += [(segment, m.start(), m.end(), m.group()) for m in matches if m.end() > m.start()]
    # In file order, a match that overlaps one already reported is dropped: the furthest end
    # reported so far says it (one comparison per match, not one per match reported).
    reached: int | None = None
    for segment, m_start, m_end, matched in sorted(found, key=lambda f: (f[0].offset(f[1]), f[1])):
        start, end = segment.range(m_start, m_end)
        if reached is not None and start < reached:
            continue
        reached = end if reached is None or end > reached else reached
        shown = _context(segment.text, m_start, m_end)
        ctx.report(
            doc,
            start,
            end,
            f"placeholder «{quote(matched)}» in the {segment.scope}: «{shown}»",
            anchor=matched.lower(),
        )


_SELF_NAMED = {"заглушка", "placeholder", "a placeholder", "a stub", "stub"}
_ABOUT_TEXT = re.compile(r"раздел|урок|страниц|глав|стать|текст|section|page|lesson|chapter|this|text", re.IGNORECASE)
_LOREM = re.compile(r"\blorem\s+ipsum\s+dolor\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
# What may surround a placeholder: punctuation, quotes, brackets, emphasis, emoji, spaces.
_EDGE = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)
_DASH_COLON = re.compile(r"\s*(?:[—–-]{1,2}|:)\s*")
_SPACES = re.compile(r"\s+")


def _languages(ctx: RuleContext) -> tuple[str, ...]:
    langs = ctx.config.course.languages
    found = tuple(dict.fromkeys(v for v in (langs.get("primary"), langs.get("secondary")) if v in PLACEHOLDERS))
    return found or ("en", "ru")


def _normal(text: str) -> str:
    return _SPACES.sub(" ", _EDGE.sub("", text)).lower().replace("ё", "е")


def _placeholder_uses(text: str, languages: tuple[str, ...], alone: bool) -> list[tuple[int, int]]:
    """``(start, end)`` in ``text`` of each placeholder use (see :func:`placeholder`)."""
    exact = {p for lang in languages for p in PLACEHOLDERS[lang]}
    trailing = tuple(p for lang in languages for p in TRAILING[lang])
    leading = tuple(p for lang in languages for p in LEADING[lang])
    out: list[tuple[int, int]] = [(m.start(), m.end()) for m in _LOREM.finditer(text)]
    position = 0
    for piece in _SENTENCE_END.split(text):
        start = text.find(piece, position)
        position = start + len(piece)
        stripped = piece.strip()
        if not stripped:
            continue
        core = _EDGE.sub("", stripped)
        if not core:
            continue
        core_start = start + piece.find(core)
        normal = _normal(core)
        if normal in exact and (normal not in SIGN_OFFS or (alone and _normal(text) == normal)):
            out.append((core_start, core_start + len(core)))
            continue
        parts = _DASH_COLON.split(core)
        head = _normal(" ".join(parts[:-1])) if len(parts) >= 2 else ""
        tail_normal = _normal(parts[-1]) if len(parts) >= 2 else ""
        if (
            head
            and tail_normal in trailing
            # "a stub" after a dash is a placeholder only when what it says it of is the text.
            and (tail_normal not in _SELF_NAMED or _ABOUT_TEXT.search(head))
        ):
            tail = parts[-1]
            at = core.rfind(tail)
            out.append((core_start + at, core_start + at + len(tail)))
            continue
        if normal.startswith(leading) and (alone or stripped.endswith(("…", "..."))):
            out.append((core_start, core_start + len(core)))
    return out


@lru_cache(maxsize=8)
def _normal_phrases(languages: tuple[str, ...]) -> tuple[str, ...]:
    """The placeholder phrases of ``languages`` (exact, trailing and leading), as a sentence's
    normalized text would hold them: lowercase, е for ё, words apart by one space."""
    phrases = {p for lang in languages for table in (PLACEHOLDERS, TRAILING, LEADING) for p in table[lang]}
    return tuple(sorted({" ".join(p.lower().replace("ё", "е").split()) for p in phrases}))


def _section_content(doc: Document, segments: list[Segment]) -> dict[int, bool]:
    """For each prose segment: whether it is all its section holds (no other text, code
    block or component between the heading before it and the next heading, and no
    subsection: a sentence that introduces the subsections below it is their lead, not a
    placeholder)."""
    ordered = sorted(doc.headings, key=lambda h: h.offset)
    headings = [h.offset for h in ordered]
    levels = [h.level for h in ordered]
    starts = [seg.anchors[0][1] if seg.anchors else 0 for seg in segments]
    blocks = [doc.lines.offset(b.span.line, b.span.column) for b in doc.code_blocks]
    blocks += [doc.lines.offset(c.span.line, c.span.column) for c in doc.components]
    per_section: dict[int, int] = {}
    for offset in [*(o for seg, o in zip(segments, starts, strict=True) if seg.scope == "prose"), *blocks]:
        key = bisect_right(headings, offset)
        per_section[key] = per_section.get(key, 0) + 1

    def has_subsection(key: int) -> bool:
        # key: the index of the next heading; the section's own heading is key - 1.
        return 0 < key < len(levels) and levels[key] > levels[key - 1]

    return {
        i: per_section.get(key, 0) == 1 and not has_subsection(key)
        for i, (seg, o) in enumerate(zip(segments, starts, strict=True))
        if seg.scope == "prose"
        for key in [bisect_right(headings, o)]
    }


def _in_table(doc: Document, segment: Segment) -> bool:
    """Whether a segment is a table cell (its line is a table row)."""
    if not segment.anchors:
        return False
    line = doc.lines.line_text(doc.lines.span(segment.anchors[0][1]).line)
    return line.lstrip(" >").startswith("|") or line.count("|") >= 2


_WORDS = re.compile(r"[^\W_]+")  # letters and digits of any script, as coursecheck.match.words
_SETEXT_UNDERLINE = re.compile(r"^[ \t>]*(?:=+|-+)[ \t]*$")
_ATX = re.compile(r"^[ \t>]*(?:(?:[-*+]|\d+[.)])[ \t]+)?#")


def _heading_end(doc: Document, line: int) -> int:
    """Offset just past a heading's block: its line, or its setext underline."""
    last = line
    if not _ATX.match(doc.lines.line_text(line)) and line < doc.lines.line_count:
        if _SETEXT_UNDERLINE.match(doc.lines.line_text(line + 1)):
            last = line + 1
    return doc.lines.line_start(last) + len(doc.lines.line_text(last))


def _has_content(doc: Document, start: int, end: int) -> bool:
    """Anything but whitespace and comments in ``doc.source[start:end]``."""
    text = doc.source[start:end]
    if not text.strip():
        return False
    pieces: list[str] = []
    cursor = start
    for comment in doc.comments:
        c_start = doc.lines.offset(comment.span.line, comment.span.column)
        c_end = doc.lines.offset(comment.span.end_line, comment.span.end_column)
        if c_end <= start or c_start >= end:
            continue
        pieces.append(doc.source[cursor : max(cursor, c_start)])
        cursor = max(cursor, c_end)
    pieces.append(doc.source[cursor:end])
    return any(piece.strip() for piece in pieces)


@rule("anti-patterns/empty-section", level="warning", tags=("anti-patterns",))
def empty_section(doc: Document, ctx: RuleContext) -> None:
    """A heading is followed directly by a heading of the same or a higher level.

    ## What it does
    Reports a heading whose section holds nothing: the next heading has the same or a
    higher level (`## A` then `## B`, or `### A` then `## B`) and only blank lines or
    comments stand between them; also a heading with nothing after it at the end of the
    file. A heading followed by its own subsection (`## A` then `### A.1`) is not empty.
    Reported at the empty heading's line.

    ## Why it matters
    An empty section is a promise in the table of contents that the lesson does not keep;
    usually a part that was planned and never written, or content lost in a merge.

    ## Example
    ```markdown
    # Тома

    ## Временные файловые системы

    ## Права доступа

    Владелец файлов тома — пользователь контейнера.
    ```
    Reported at line 3, column 1.

    Use instead:
    ```markdown
    # Тома

    ## Временные файловые системы

    `tmpfs` хранит данные в памяти хоста.

    ## Права доступа

    Владелец файлов тома — пользователь контейнера.
    ```

    ## How to fix
    Write the section, or delete its heading.
    """
    headings = sorted(doc.headings, key=lambda h: h.offset)
    for i, heading in enumerate(headings):
        body_start = _heading_end(doc, heading.span.line)
        following = headings[i + 1] if i + 1 < len(headings) else None
        if following is not None and following.level > heading.level:
            continue  # a subsection: the section has content
        body_end = following.offset if following is not None else len(doc.source)
        if _has_content(doc, body_start, body_end):
            continue
        line_end = heading.offset + len(doc.lines.line_text(heading.span.line))
        if following is None:
            message = f"section «{_heading_label(doc, heading)}» is empty: nothing follows it"
        else:
            message = (
                f"section «{_heading_label(doc, heading)}» is empty: the next heading "
                f"«{_heading_label(doc, following)}» (line {following.span.line}) follows directly"
            )
        ctx.report(doc, heading.offset, line_end, message, anchor=heading.text)


def _heading_label(doc: Document, heading: Heading) -> str:
    """A heading as its reader sees it: its prose text, or, for a heading that is all code
    (``## `delete()` ``), its line without the Markdown marks."""
    if heading.text.strip():
        return heading.text
    from coursecheck.routing import heading_plain

    return heading_plain(doc.lines.line_text(heading.span.line))[0] or heading.text


@rule(
    "anti-patterns/stub-lesson",
    level="off",
    lessons_only=True,
    options=[
        Option("min-words", int, 100, "fewest words of prose and headings a lesson must have (0: no minimum)"),
        Option("min-lines", int, 0, "fewest lines the lesson file must have, frontmatter included (0: no minimum)"),
    ],
    tags=("anti-patterns",),
)
def stub_lesson(doc: Document, ctx: RuleContext) -> None:
    """A lesson is too short to be more than a stub.

    ## What it does
    Counts the words of the lesson's prose and headings (not code, frontmatter, component
    props or comments) and the lines of the file, and reports the lesson at its first line
    when there are fewer words than `min-words` (default 100) or fewer lines than
    `min-lines` (default 0, not checked). Off by default, since what is "too short"
    depends on the course: switch it on with `"anti-patterns/stub-lesson" = "warning"`.

    ## Why it matters
    A lesson file that exists but holds a sentence and a picture passes "the file exists"
    checks and shows up in the course navigation, yet teaches nothing.

    ## Example
    ```toml
    [rules]
    "anti-patterns/stub-lesson" = { level = "warning", min-words = 8 }
    ```
    ```mdx
    ---
    title: "Реестр и публикация образов"
    ---
    Раздел в разработке.
    ```
    Reported at line 1, column 1.

    Use instead:
    ```mdx
    ---
    title: "Реестр и публикация образов"
    ---
    Образ отправляют в реестр командой `docker push`, указав имя реестра в теге образа.
    ```

    ## How to fix
    Write the lesson, or take it out of the course until it is written. Summary or index
    pages that are short on purpose can get their own threshold:
    ```toml
    [[overrides]]
    files = ["**/index.md"]
    rules = { "anti-patterns/stub-lesson" = { min-words = 20 } }
    ```
    """
    min_words = ctx.options["min-words"]
    min_lines = ctx.options["min-lines"]
    count = sum(len(_WORDS.findall(seg.text)) for seg in doc.iter_segments(("prose", "heading")))
    lines = doc.line_count
    reasons = []
    if min_words > 0 and count < min_words:
        reasons.append(f"{count} word{'s' if count != 1 else ''} of prose (minimum {min_words})")
    if min_lines > 0 and lines < min_lines:
        reasons.append(f"{lines} line{'s' if lines != 1 else ''} (minimum {min_lines})")
    if not reasons:
        return
    first_line = doc.lines.line_text(1) if doc.source else ""
    ctx.report(doc, 0, len(first_line), f"stub lesson: {' and '.join(reasons)}", anchor="stub-lesson")


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [todo, placeholder, empty_section, stub_lesson]
