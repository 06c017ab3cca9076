"""Glob patterns over POSIX paths relative to the project root (``**``, ``*``, ``?``, ``[]``, ``{a,b}``)."""

from __future__ import annotations

import re
from functools import lru_cache


def _braces(pattern: str) -> list[str]:
    """Expand ``{a,b}`` alternatives (nested ones too)."""
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
                return [x for part in parts for x in _braces(head + part + tail)]
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
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex matching whole relative paths. A pattern without ``/`` matches a file name at
    any depth, as in .gitignore (``*.mdx`` matches ``a/b/c.mdx``)."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    alternatives = []
    for alt in _braces(pattern):
        rx = _translate(alt.rstrip("/"))
        if "/" not in alt.rstrip("/"):
            rx = "(?:[^/]*/)*" + rx
        if alt.endswith("/") or alt.endswith("**"):
            rx += "(?:/.*)?"
        alternatives.append(rx)
    return re.compile("(?:" + "|".join(alternatives) + r")\Z")


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
    return None
