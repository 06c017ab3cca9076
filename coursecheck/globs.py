"""Glob patterns over POSIX paths relative to the project root (``**``, ``*``, ``?``, ``[]``, ``{a,b}``)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TypeAlias

# A pattern of a config (which a repository writes) must not cost unbounded time or memory:
# ``{a,b}`` alternatives multiply (twenty groups of two are a million patterns), and a regex
# translation backtracks polynomially in the path's length per wildcard (``*a*a*a*a*a*a*b``
# took 10 s on a 60-character file name). More alternatives are refused; patterns with more
# than two wildcard runs are matched by _Glob, linear in the path.
MAX_ALTERNATIVES = 256
_REGEX_WILDCARDS = 2


class _TooManyAlternatives(ValueError):
    pass


def _braces(pattern: str) -> list[str]:
    """Expand ``{a,b}`` alternatives (nested ones too)."""
    found = _expand(pattern)
    if len(found) > MAX_ALTERNATIVES:
        raise _TooManyAlternatives
    return found


def _expand(pattern: str) -> list[str]:
    depth = 0
    start = -1
    for i, ch in enumerate(pattern):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                inner = pattern[start + 1 : i]
                parts, level, last = [], 0, 0
                for k, c in enumerate(inner):
                    if c == "{":
                        level += 1
                    elif c == "}":
                        level -= 1
                    elif c == "," and level == 0:
                        parts.append(inner[last:k])
                        last = k + 1
                parts.append(inner[last:])
                if len(parts) == 1:
                    continue
                head, tail = pattern[:start], pattern[i + 1 :]
                out: list[str] = []
                for part in parts:
                    out.extend(_expand(head + part + tail))
                    if len(out) > MAX_ALTERNATIVES:
                        raise _TooManyAlternatives
                return out
    return [pattern]


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if pattern.startswith("**", i):
                at_start = i == 0 or pattern[i - 1] == "/"
                after = pattern[i + 2 : i + 3]
                if at_start and after == "/":
                    out.append("(?:[^/]*/)*")
                    i += 3
                    continue
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            close = pattern.find("]", i + 1)
            if close == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : close]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = close
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> GlobMatcher:
    """A matcher of whole relative paths (``.match(path)`` is truthy for a match). A pattern
    without ``/`` matches a file name at any depth, as in .gitignore (``*.mdx`` matches
    ``a/b/c.mdx``). A pattern with too many ``{a,b}`` alternatives matches nothing (the
    config check reports it: :func:`invalid_glob`)."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    try:
        expanded = _braces(pattern)
    except _TooManyAlternatives:
        return re.compile(r"(?!)")
    alternatives = []
    for alt in expanded:
        rx = _translate(alt.rstrip("/"))
        if "/" not in alt.rstrip("/"):
            rx = "(?:[^/]*/)*" + rx
        if alt.endswith("/") or alt.endswith("**"):
            rx += "(?:/.*)?"
        alternatives.append(rx)
    if max(len(_WILDCARD_RUN.findall(alt)) for alt in expanded) > _REGEX_WILDCARDS:
        return _Glob(alternatives)
    return re.compile("(?:" + "|".join(alternatives) + r")\Z")


_WILDCARD_RUN = re.compile(r"\*+")
# The pieces _translate writes, as _Glob reads them back: each is one step of its automaton.
_PIECE = re.compile(
    r"(?P<segments>\(\?:\[\^/\]\*/\)\*)|(?P<tail>\(\?:/\.\*\)\?)|(?P<any>\.\*)|(?P<name>\[\^/\]\*)"
    r"|(?P<one>\[\^/\])|(?P<set>\[(?:\\.|[^\]\\])*\])|(?P<literal>\\.|[^\\\[(.])"
)


class _Glob:
    """A glob matched by simulating its automaton over the path: the set of places the
    pattern can be at after each character, so the time is the path's length times the
    pattern's, whatever the wildcards (a regex backtracks through every way of splitting the
    path between them). The sets met are cached with their successors (a lazily built DFA):
    paths share their characters, so most steps are one lookup."""

    __slots__ = ("_alternatives", "pattern")

    _CACHE_LIMIT = 50_000  # transitions kept per alternative

    def __init__(self, translated: list[str]) -> None:
        self.pattern = translated
        self._alternatives = [_Automaton(self._steps(rx)) for rx in translated]

    @staticmethod
    def _steps(rx: str) -> list[tuple[str, re.Pattern[str] | None]]:
        steps: list[tuple[str, re.Pattern[str] | None]] = []
        pos = 0
        while pos < len(rx):
            m = _PIECE.match(rx, pos)
            if m is None:  # pragma: no cover - _translate writes only these pieces
                raise ValueError(f"cannot read glob piece at {rx[pos:]!r}")
            kind = m.lastgroup or "literal"
            piece = m.group()
            steps.append((kind, re.compile(piece, re.S) if kind in ("set", "literal") else None))
            pos = m.end()
        return steps

    def match(self, path: str) -> bool | None:
        return True if any(automaton.run(path) for automaton in self._alternatives) else None


class _Automaton:
    """One alternative of a :class:`_Glob`. A place is (step, phase); phase 1 is inside a
    repeated part: within a segment of "segments" (before its "/"), or after the "/" of
    "tail"."""

    __slots__ = ("_moves", "_start", "steps")

    def __init__(self, steps: list[tuple[str, re.Pattern[str] | None]]) -> None:
        self.steps = steps
        self._start = self._closure({(0, 0)})
        self._moves: dict[tuple[frozenset[tuple[int, int]], str], frozenset[tuple[int, int]]] = {}

    def run(self, path: str) -> bool:
        places = self._start
        moves = self._moves
        for ch in path:
            nxt = moves.get((places, ch))
            if nxt is None:
                nxt = self._step(places, ch)
                if len(moves) >= _Glob._CACHE_LIMIT:
                    moves.clear()
                moves[(places, ch)] = nxt
            if not nxt:
                return False
            places = nxt
        return (len(self.steps), 0) in places

    def _closure(self, places: set[tuple[int, int]]) -> frozenset[tuple[int, int]]:
        steps, n = self.steps, len(self.steps)
        todo = list(places)
        while todo:
            step, phase = todo.pop()
            if step == n:
                continue
            kind = steps[step][0]
            # A repeated part may end here (empty, or "tail" once its "/" is read).
            if (phase == 0 and kind in ("segments", "tail", "any", "name")) or (phase == 1 and kind == "tail"):
                nxt = (step + 1, 0)
                if nxt not in places:
                    places.add(nxt)
                    todo.append(nxt)
        return frozenset(places)

    def _step(self, places: frozenset[tuple[int, int]], ch: str) -> frozenset[tuple[int, int]]:
        steps, n = self.steps, len(self.steps)
        moved: set[tuple[int, int]] = set()
        for step, phase in places:
            if step == n:
                continue
            kind, rx = steps[step]
            if kind == "segments":  # (?:[^/]*/)*: segments, each ended by its "/"
                moved.add((step, 0 if ch == "/" else 1))
            elif kind == "tail":  # (?:/.*)?: nothing, or "/" and anything
                if phase == 1 or ch == "/":
                    moved.add((step, 1))
            elif kind == "any":  # .*
                moved.add((step, 0))
            elif kind == "name":  # [^/]*
                if ch != "/":
                    moved.add((step, 0))
            elif kind == "one":  # [^/]
                if ch != "/":
                    moved.add((step + 1, 0))
            else:  # a literal or a [set]
                assert rx is not None
                if rx.fullmatch(ch):
                    moved.add((step + 1, 0))
        return self._closure(moved) if moved else frozenset()


GlobMatcher: TypeAlias = "re.Pattern[str] | _Glob"


def matches(path: str, patterns: list[str] | tuple[str, ...]) -> bool:
    return any(compile_glob(p).match(path) for p in patterns)


def literal_base(pattern: str) -> str:
    """The directory part of a glob before its first wildcard: ``src/c/**/*.mdx`` -> ``src/c``."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    parts = pattern.split("/")
    base: list[str] = []
    for part in parts[:-1]:
        if any(c in part for c in "*?[{"):
            break
        base.append(part)
    return "/".join(base)


def invalid_glob(pattern: str) -> str | None:
    """Why a config glob is not allowed, or None: globs stay inside the project root."""
    p = pattern.strip()
    if not p:
        return "empty pattern"
    if p.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", p):
        return "absolute paths are not allowed; write the pattern relative to the config file"
    if ".." in p.replace("\\", "/").split("/"):
        return "'..' would leave the project root; move the config file up instead"
    try:
        _braces(p)
    except _TooManyAlternatives:
        return f"more than {MAX_ALTERNATIVES} {{a,b}} alternatives; write fewer patterns"
    return None
