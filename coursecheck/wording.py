"""One wording for counts in every message and report: ``1 error``, ``2 errors``, ``3 fixes``,
and the summary of a run's findings (``17 errors, 13 warnings, 0 notes``).

Below everything else (the core layer): the app's messages, the reporters and the rule
families all count things in sentences.
"""

from __future__ import annotations

from collections.abc import Mapping


def plural(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is 1 (``plural``: an irregular one:
    ``plural(2, "fix", "fixes")``)."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def plural_grouped(n: int, word: str, plural: str | None = None) -> str:
    """:func:`plural` with thousands separated (``1,234 files``), as the Markdown and SARIF
    texts write counts."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def level_counts(counts: Mapping[str, int]) -> str:
    """A run's active findings by level: ``17 errors, 13 warnings, 0 notes``
    (``Result.counts()``)."""
    return ", ".join(plural(counts.get(level, 0), level) for level in ("error", "warning", "note"))
