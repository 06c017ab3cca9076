"""Per-file summaries restored only if something reads them.

A warm run takes every file's per-file result from the run index; the summaries in them
(what course rules' ``summarize`` made of each file: ~half of a result's unpickling time)
are read only when the course rules run or a course stage is relocated. When the stored
course stage is reused whole, nothing reads them: :class:`DeferredSummaries` keeps them
pickled until the first read through any of its methods (or :meth:`DeferredSummaries.restore`,
which the course stage calls before any course rule runs), then restores all of them in
order and is a plain dict from then on."""

from __future__ import annotations

import pickle
from typing import Any


class DeferredSummaries(dict):  # type: ignore[type-arg]
    """``relpath -> summary``, given in course order as summaries or as the pickled bytes
    of one (from a run index whose MAC was checked); restored on the first read, keeping
    the files whose summary is empty out, as the per-file stage does."""

    __slots__ = ("_entries",)

    def __init__(self, entries: list[tuple[str, Any]]) -> None:
        super().__init__()
        self._entries: list[tuple[str, Any]] | None = entries

    def restore(self) -> None:
        """Restore the pickled summaries now (before the course rules run: from then on
        this is a plain dict for C code too, e.g. ``json.dumps``, which reads a dict's size
        and items without calling its methods)."""
        if self._entries is not None:
            self._fill()

    def _fill(self) -> None:
        entries, self._entries = self._entries, None
        for rel, value in entries or ():
            if not isinstance(value, dict):
                try:
                    value = pickle.loads(value)
                except Exception:  # our own bytes, authenticated: not expected
                    value = {}
            if value:
                dict.__setitem__(self, rel, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self.items()),))


def _filling(name: str) -> Any:
    method = getattr(dict, name)

    def call(self: DeferredSummaries, *args: Any, **kwargs: Any) -> Any:
        if self._entries is not None:
            self._fill()
        return method(self, *args, **kwargs)

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


for _name in (
    "__contains__",
    "__delitem__",
    "__eq__",
    "__getitem__",
    "__ior__",
    "__iter__",
    "__len__",
    "__ne__",
    "__or__",
    "__repr__",
    "__reversed__",
    "__ror__",
    "__setitem__",
    "clear",
    "copy",
    "get",
    "items",
    "keys",
    "pop",
    "popitem",
    "setdefault",
    "update",
    "values",
):
    setattr(DeferredSummaries, _name, _filling(_name))
