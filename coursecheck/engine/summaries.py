"""Per-file summaries restored only if something reads them.

A warm run takes every file's per-file result from the run index; the summaries in them
(what course rules' ``summarize`` made of each file: ~half of a result's unpickling time)
are read only when the course rules run or a course stage is relocated. When the stored
course stage is reused whole, nothing reads them: :class:`DeferredSummaries` keeps them
pickled until the first read through any of its methods (or :meth:`DeferredSummaries.restore`),
then restores all of them in order and is a plain dict from then on.

A stored summary is *packed* (coursecheck.runindex.pack_summary): each rule's part pickled
apart. A course rule reading its own summaries (``ctx.summaries()``, which asks
:meth:`DeferredSummaries.part`) restores that part of each file only: after an edit that
moves lines, the relocated rules' summaries (a page's headings and anchors: most of the
bytes) stay pickled while the other rules run on theirs."""

from __future__ import annotations

import pickle
from typing import Any

from coursecheck.cache import restoring_many


class DeferredSummaries(dict):  # type: ignore[type-arg]
    """``relpath -> summary``, given in course order as summaries or as the pickled bytes
    of one (from a run index whose MAC was checked); restored on the first read, keeping
    the files whose summary is empty out, as the per-file stage does."""

    __slots__ = ("_by_rel", "_entries", "_packed", "_parts")

    def __init__(self, entries: list[tuple[str, Any]]) -> None:
        super().__init__()
        self._entries: list[tuple[str, Any]] | None = entries
        self._packed: dict[str, dict[str, bytes]] = {}  # relpath -> its packed parts, once unpickled
        self._parts: dict[str, dict[str, Any]] = {}  # rule -> relpath -> its part, restored by part()
        self._by_rel: dict[str, Any] | None = None  # relpath -> its entry, for parts_of()

    def restore(self) -> None:
        """Restore the pickled summaries now (before the course rules run: from then on
        this is a plain dict for C code too, e.g. ``json.dumps``, which reads a dict's size
        and items without calling its methods)."""
        if self._entries is not None:
            self._fill()

    def part(self, name: str) -> dict[str, Any]:
        """``relpath -> the part of its summary stored under name`` for the files whose
        summary has one, in course order (``ctx.summaries(name)``), restoring those parts
        only while the rest stays pickled. The parts restored are the objects a later
        full restore gives the summaries (one object per part, whoever reads it)."""
        if self._entries is None:
            return {rel: data[name] for rel, data in dict.items(self) if name in data}
        restored = self._parts.get(name)
        if restored is None:
            restored = self._parts[name] = {}
            with restoring_many():
                self._restore_part(name, restored)
        return dict(restored)

    def _restore_part(self, name: str, restored: dict[str, Any]) -> None:
        assert self._entries is not None
        for rel, value in self._entries:
            if isinstance(value, dict):
                if name in value:
                    restored[rel] = value[name]
                continue
            pickled = self._packed_parts(rel, value).get(name)
            if pickled is not None:
                restored[rel] = _loads(pickled, None)

    def parts_of(self, relpath: str, names: set[str]) -> dict[str, Any]:
        """The parts ``names`` of one file's summary (those it has), restoring only them."""
        if self._entries is None:
            return {name: data for name, data in dict.get(self, relpath, {}).items() if name in names}
        if self._by_rel is None:
            self._by_rel = dict(self._entries)
        value: Any = self._by_rel.get(relpath, {})
        if isinstance(value, dict):
            return {name: data for name, data in value.items() if name in names}
        out: dict[str, Any] = {}
        for name, pickled in self._packed_parts(relpath, value).items():
            if name in names:
                known = self._parts.get(name)
                out[name] = known[relpath] if known is not None and relpath in known else _loads(pickled, None)
        return out

    def _packed_parts(self, rel: str, value: Any) -> dict[str, bytes]:
        parts = self._packed.get(rel)
        if parts is None:
            loaded = _loads(value, {})
            parts = self._packed[rel] = loaded if isinstance(loaded, dict) else {}
        return parts

    def _fill(self) -> None:
        with restoring_many():
            self._fill_now()

    def _fill_now(self) -> None:
        entries, self._entries = self._entries, None
        for rel, value in entries or ():
            if not isinstance(value, dict):
                parts = self._packed_parts(rel, value)
                value = {}
                for name, pickled in parts.items():
                    known = self._parts.get(name)
                    value[name] = known[rel] if known is not None and rel in known else _loads(pickled, None)
            if value:
                dict.__setitem__(self, rel, value)
        self._packed = {}
        self._parts = {}
        self._by_rel = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self.items()),))


def _loads(data: Any, failed: Any) -> Any:
    try:
        return pickle.loads(data)
    except Exception:  # our own bytes, authenticated: not expected
        return failed


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
