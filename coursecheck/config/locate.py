"""Locating keys in TOML text: the line that set a key (part of :mod:`coursecheck.config`)."""

from __future__ import annotations

import re
from typing import Any

# -- locating keys in TOML text ---------------------------------------------------------

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"' + r"|'[^']*'"
_KEY = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")


def _split_key(dotted: str) -> list[str]:
    parts = re.findall(_KEY, dotted)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


class TomlLocator:
    """Finds the line of a key path in TOML source (``tomllib`` keeps no positions)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        table: tuple[Any, ...] = ()
        arrays: dict[tuple[Any, ...], int] = {}
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if in_multiline in line:
                    in_multiline = None
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            header = _HEADER.match(line)
            if header and stripped.startswith("["):
                is_array = header.group(1) == "[["
                parts = _split_key(header.group(2))
                # A header inside an array of tables belongs to its current element:
                # [[rule.example]] after the 3rd [[rule]] is ("rule", 2, "example", n).
                path: tuple[Any, ...] = ()
                for k, part in enumerate(parts):
                    path = (*path, part)
                    if path in arrays and not (is_array and k == len(parts) - 1):
                        path = (*path, arrays[path])
                if is_array:
                    idx = arrays.get(path, -1) + 1
                    arrays[path] = idx
                    table = (*path, idx)
                else:
                    table = path
                self.lines.setdefault(table, number)
                self.lines.setdefault(path, number)
                continue
            assign = _ASSIGN.match(line)
            if assign:
                key = (*table, *_split_key(assign.group(1)))
                self.lines.setdefault(key, number)
                rest = line[assign.end() :]
                for inner in _INLINE_KEY.finditer(rest):
                    self.lines.setdefault((*key, *_split_key(inner.group(1))), number)
                for quote in ('"""', "'''"):
                    if rest.count(quote) == 1:
                        in_multiline = quote

    def line(self, *key: Any) -> int:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return 0
