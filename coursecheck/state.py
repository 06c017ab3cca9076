"""Typed keys for the state plugins share through ``course.extra`` / ``Result.extra`` (what a
rule family publishes for reporters and other plugins) and ``course.cache`` (what a
module memoizes for the run).

A :class:`Key` names the entry and the type of its value once, where the producer and
every consumer import it, so a reporter reads ``VERDICTS.get(result.extra)`` instead of a
string it must spell like the producer did. The names are the published ones (JSON
reports and plugins read ``result.extra["verdicts"]``): they do not change.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:
    from coursecheck.model import Verdict

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Key(Generic[T]):
    """One entry of a state dict: its name and (for type checkers) its value's type."""

    name: str

    def get(self, state: Mapping[Any, Any]) -> T | None:
        return cast("T | None", state.get(self.name))

    def set(self, state: MutableMapping[Any, Any], value: T) -> T:
        state[self.name] = value
        return value

    def setdefault(self, state: MutableMapping[Any, Any], value: T) -> T:
        return cast(T, state.setdefault(self.name, value))


# -- published (course.extra, then Result.extra) -----------------------------------------------

# Every must-have's verdict (coursecheck.builtin.musthaves), for the reports.
VERDICTS: Key[list[Verdict]] = Key("verdicts")
# Each [[term]] requirement's measured coverage (coursecheck.builtin.terminology).
TERM_COVERAGE: Key[list[dict[str, Any]]] = Key("term-coverage")
# The prerequisite graph as Mermaid (coursecheck.graph), for the Markdown report.
GRAPH_MERMAID: Key[str] = Key("graph_mermaid")
# The course's build run (--run-build): coursecheck.report.build.BuildRun, set by the app.
BUILD: Key[Any] = Key("build")
