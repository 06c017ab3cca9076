"""Repairs of words typed in the wrong script: keyboard layout and transliteration.

Russian writers switch between the ЙЦУКЕН and QWERTY layouts all day, and their slips are
of two kinds: the layout was not switched (the keys of «миграция» typed in QWERTY give
``vbuhfwbz``), or the writer started a Russian word in Latin letters, transliterating
(``Migrация`` for «Миграция», ``normально`` for «нормально»). Both are undone here by
generating candidates; the rules keep only candidates a dictionary knows.

* :func:`layout_swap` maps every letter through the keyboard layout (both directions).
* :func:`transliterations` lists the Cyrillic readings of a Latin run (``sh`` -> «ш»,
  ``c`` -> «к», «ц» or «с», ...), or the Latin readings of a Cyrillic run, most likely first,
  at most ``limit`` of them.
"""

from __future__ import annotations

from functools import lru_cache

# QWERTY key -> the ЙЦУКЕН letter on the same key (the Russian layout of Windows, macOS and
# X11; "`" is «ё» on Windows and X11).
_QWERTY = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_JCUKEN = "йцукенгшщзхъфывапролджэячсмитьбюё"
_QWERTY_UPPER = 'QWERTYUIOP{}ASDFGHJKL:"ZXCVBNM<>~'
_JCUKEN_UPPER = "ЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ"
TO_CYRILLIC_KEYS = dict(zip(_QWERTY + _QWERTY_UPPER, _JCUKEN + _JCUKEN_UPPER, strict=True))
TO_LATIN_KEYS = {v: k for k, v in TO_CYRILLIC_KEYS.items()}
# Keys that are punctuation in QWERTY but letters in ЙЦУКЕН (х ъ ж э б ю ё): inside a
# wrong-layout word they stand for those letters.
LAYOUT_PUNCTUATION = frozenset("[];',.`{}:\"<>~")


def layout_swap(text: str) -> str | None:
    """``text`` typed with the other layout (each character through the key map), or None
    when a character is on no mapped key. The direction is that of the first letter."""
    table = TO_CYRILLIC_KEYS if text[:1] in TO_CYRILLIC_KEYS and text[:1].isascii() else TO_LATIN_KEYS
    out = []
    for ch in text:
        mapped = table.get(ch)
        if mapped is None:
            return None
        out.append(mapped)
    return "".join(out)


# Latin -> Cyrillic readings, longest spellings first; each value lists the readings in the
# order tried (the most usual first). Covers the common romanisations of Russian (GOST,
# BGN/PCGN, passport, informal) and English spellings of loanwords («implication» ->
# «импликация»).
_LATIN_READINGS: dict[str, tuple[str, ...]] = {
    "shch": ("щ",),
    "tion": ("ция",),
    "sch": ("щ", "ш"),
    "sh": ("ш",),
    "ch": ("ч", "х"),
    "zh": ("ж",),
    "kh": ("х",),
    "ts": ("ц", "тс"),
    "tz": ("ц",),
    "ya": ("я",),
    "ja": ("я",),
    "ia": ("ия", "я"),
    "yu": ("ю",),
    "ju": ("ю",),
    "iu": ("ю",),
    "yo": ("ё",),
    "jo": ("ё",),
    "ye": ("е",),
    "je": ("е",),
    "ck": ("к",),
    "ph": ("ф",),
    "th": ("т",),
    "ks": ("кс",),
    "oo": ("у",),
    "ee": ("и",),
    "a": ("а",),
    "b": ("б",),
    "c": ("к", "ц", "с"),
    "d": ("д",),
    "e": ("е", "э"),
    "f": ("ф",),
    "g": ("г", "дж"),
    "h": ("х", "г"),
    "i": ("и", "й", "ай"),
    "j": ("дж", "й", "ж"),
    "k": ("к",),
    "l": ("л", "ль"),
    "m": ("м",),
    "n": ("н",),
    "o": ("о",),
    "p": ("п",),
    "q": ("к",),
    "r": ("р",),
    "s": ("с", "з"),
    "t": ("т",),
    "u": ("у", "ю", "а"),
    "v": ("в",),
    "w": ("в", "у"),
    "x": ("кс", "х"),
    "y": ("ы", "й", "и"),
    "z": ("з",),
}
_CYRILLIC_READINGS: dict[str, tuple[str, ...]] = {
    "а": ("a",),
    "б": ("b",),
    "в": ("v", "w"),
    "г": ("g",),
    "д": ("d",),
    "е": ("e",),
    "ё": ("e", "yo"),
    "ж": ("zh", "j"),
    "з": ("z", "s"),
    "и": ("i", "e"),
    "й": ("y", "i", "j"),
    "к": ("k", "c", "ck"),
    "л": ("l",),
    "м": ("m",),
    "н": ("n",),
    "о": ("o",),
    "п": ("p",),
    "р": ("r",),
    "с": ("s", "c"),
    "т": ("t",),
    "у": ("u", "oo"),
    "ф": ("f", "ph"),
    "х": ("h", "kh", "x"),
    "ц": ("c", "ts"),
    "ч": ("ch",),
    "ш": ("sh",),
    "щ": ("sch", "shch"),
    "ъ": ("",),
    "ы": ("y",),
    "ь": ("",),
    "э": ("e", "a"),
    "ю": ("yu", "u"),
    "я": ("ya", "ia"),
}
_LONGEST = max(len(k) for k in _LATIN_READINGS)


@lru_cache(maxsize=16384)
def transliterations(run: str, limit: int = 64) -> tuple[str, ...]:
    """Readings of ``run`` in the other script, most likely first (at most ``limit``).

    A Latin run gets Cyrillic readings, a Cyrillic run Latin ones; the case of each letter
    is kept (``Migr`` -> «Мигр»). Empty when a letter has no reading."""
    lower = run.lower()
    latin = lower[:1].isascii()
    table = _LATIN_READINGS if latin else _CYRILLIC_READINGS
    longest = _LONGEST if latin else 1
    # Readings of each prefix, built left to right (a bounded beam).
    readings: list[list[str]] = [[""]] + [[] for _ in lower]
    for i in range(len(lower)):
        if not readings[i]:
            continue
        for size in range(min(longest, len(lower) - i), 0, -1):
            options = table.get(lower[i : i + size])
            if options is None:
                continue
            original = run[i : i + size]
            for prefix in readings[i]:
                for option in options:
                    if len(readings[i + size]) >= limit:
                        break
                    readings[i + size].append(
                        prefix + (option.upper() if original.isupper() else _title(option, original))
                    )
    return tuple(dict.fromkeys(readings[len(lower)]))[:limit]


def _title(option: str, original: str) -> str:
    return option[:1].upper() + option[1:] if original[:1].isupper() else option
