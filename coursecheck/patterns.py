"""User regular expressions (from a config, which a repository writes): checked before use,
compiled with the ``regex`` module and matched with a time limit.

A toolkit below the rule families: the frontmatter schema's ``pattern``, the antipatterns
and the declarative rules all match user patterns this way.
"""

from __future__ import annotations

import re
from typing import Any

import regex  # type: ignore[import-untyped]

from coursecheck.rules import RuleContext

# A group holding a quantifier, itself repeated: (a+)+, (\w*x)*, (a|b+){2,} backtrack
# exponentially on a near-match. The group's first quantifier is found without backtracking
# (the text before it holds none): with [^()\\] there, an 8 KB pattern took 8 s to check.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\+*}]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")


def user_regex(pattern: str, flags: int = 0) -> Any:
    """A user's regular expression (from the config, which a repository writes), compiled
    with the ``regex`` module to be matched with a time limit (:func:`timed_search`): Python's
    ``re`` has none, and the nested-quantifier check below misses patterns such as
    ``^(a|a)*$``, exponential on a 30-character value."""
    return regex.compile(pattern, flags | regex.VERSION0)


# What timed_finditer gives for a pattern that timed out earlier in the run: not tried again.
SPENT: list[Any] = []


def timed_finditer(ctx: RuleContext, pattern: Any, text: str, *, first: bool = False) -> list[Any] | None:
    """The matches of ``pattern`` in ``text`` (``first``: only the first), or None when it took longer than
    ``REGEX_TIMEOUT``; then, and for the rest of the run (in this process), the pattern is
    spent: no other text pays the time limit again (``SPENT``, empty, is returned for them:
    compare with ``is``)."""
    from coursecheck.declarative import REGEX_TIMEOUT, PatternTimeout

    spent = ctx.course.cache.setdefault("regex.timed-out", set()) if ctx.course is not None else set()
    if pattern.pattern in spent:
        return SPENT
    try:
        if first:
            found = pattern.search(text, timeout=REGEX_TIMEOUT)
            return [found] if found is not None else []
        return list(pattern.finditer(text, timeout=REGEX_TIMEOUT))
    except TimeoutError:
        PatternTimeout(pattern.pattern)  # marks the run's results as depending on the machine's speed
        spent.add(pattern.pattern)
        return None


def timeout_message(what: str, pattern: str) -> str:
    from coursecheck.declarative import REGEX_TIMEOUT

    return (
        f"{what} {pattern!r} took longer than {REGEX_TIMEOUT:g} s on this text (catastrophic backtracking?); "
        "it is skipped for the rest of the run — simplify it"
    )


def regex_problem(pattern: str) -> str | None:
    """Why a user's regular expression cannot be used, or None: it must compile and must
    not nest quantifiers (``(a+)+``), which can take exponential time on a lesson."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    if _NESTED_QUANTIFIER.search(pattern):
        return (
            f"regular expression {pattern!r} repeats a group that itself repeats (like '(a+)+'), "
            "which can take exponential time; simplify it"
        )
    return None
