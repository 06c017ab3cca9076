"""Finishing: each finding's level from the config, inline suppressions applied (an unused
one is ``core/unused-suppression``), findings outside the reported paths dropped, the rest
sorted and fingerprinted.

Finishing is done file by file (a file's levels, suppressions and fingerprints are its
own). Given the keys of where each finding came from (:class:`FinishKeys`), a file's group
of findings gets a group key, and what finishing did to it is stored
(coursecheck.findingstore) and replayed on the next run with the same key instead of
being done again."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from coursecheck import suppress
from coursecheck.config import Settings
from coursecheck.findingstore import GroupStore
from coursecheck.model import Document, Finding, Suppression
from coursecheck.rules import Rule, is_limit_note

FORMAT = 1  # of the replay data stored per group: a change makes every group's key new


@dataclass(slots=True)
class FinishKeys:
    """Where the findings handed to :meth:`Finisher.finish` came from: ``segments`` are
    ``(end, source key)`` in order (findings ``[previous end, end)`` came from that source;
    None: a source without a key, whose files' groups are finished every time); ``records``
    is the key of each file's record (its suppression comments); ``context`` a digest of
    what finishing depends on besides them (code, config, levels, selection). ``store``
    keeps what finishing did per group; ``groups`` is filled with each group's key and its
    finished findings."""

    context: str
    segments: list[tuple[int, str | None]]
    records: dict[str, str]
    store: GroupStore | None = None
    groups: dict[str, tuple[str, list[Finding]]] = field(default_factory=dict)
    replayed: int = 0


class Finisher:
    """Finishes findings for the rules of the run (``rules``), by the config's levels
    (``settings``) and the run's selection (``selected``)."""

    def __init__(self, rules: dict[str, Rule], settings: Settings, selected: Callable[[str], bool]) -> None:
        self.rules = rules
        self.settings = settings
        self._selected = selected

    def finish(
        self,
        findings: list[Finding],
        docs: list[Document],
        reported: set[str] | None,
        keys: FinishKeys | None = None,
    ) -> list[Finding]:
        by_path: dict[str, list[Finding]] = {}
        sources: dict[str, list[str | None]] = {}
        if keys is None:
            for f in findings:
                items = by_path.get(f.path)
                if items is None:
                    by_path[f.path] = [f]
                else:
                    items.append(f)
        else:
            start = 0
            for end, source in keys.segments:
                for f in findings[start:end]:
                    items = by_path.get(f.path)
                    if items is None:
                        by_path[f.path] = [f]
                        sources[f.path] = [source]
                    else:
                        items.append(f)
                        known = sources[f.path]
                        if known[-1] != source:
                            known.append(source)
                start = end
        doc_of = {doc.relpath: doc for doc in docs}
        paths = set(by_path) | set(doc_of)
        known_rules = set(self.rules)
        families = {r.split("/", 1)[0] for r in known_rules}
        out: list[Finding] = []
        for path in sorted(paths):
            raw = by_path.get(path, [])
            doc = doc_of.get(path)
            group_key = None
            # Only groups that are reported: finishing still sets the levels of the others'
            # findings (what an editor's re-check starts from), which a replay would not.
            if keys is not None and keys.store is not None and (reported is None or path in reported):
                group_key = _group_key(keys, path, sources.get(path, []), doc is not None)
            if group_key is not None:
                assert keys is not None and keys.store is not None
                done = _replay(keys.store.get(group_key), raw)
                if done is not None:
                    keys.replayed += 1
                else:
                    done = self._finish_file(raw, doc, path, reported, known_rules, families)
                    keys.store.put(group_key, _replay_data(raw, done))
                if done:
                    keys.groups[path] = (group_key, done)
            else:
                done = self._finish_file(raw, doc, path, reported, known_rules, families)
            out.extend(done)
        return out

    def _finish_file(
        self,
        raw: list[Finding],
        doc: Document | None,
        path: str,
        reported: set[str] | None,
        known: set[str],
        families: set[str],
    ) -> list[Finding]:
        """One file's findings finished: levels, its suppressions (``doc``: its record, if
        any), then (when ``path`` is reported) sorted and fingerprinted."""
        items: list[Finding] = []
        for f in raw:
            rule = self.rules.get(f.rule_id)
            if rule is not None:
                level, _ = self.settings.for_file(f.rule_id, f.path or None)
                if level == "off" or not self._selected(f.rule_id):
                    continue
                if not f.level or level != rule.level:
                    f.level = level
            elif not f.level:
                f.level = "error"
            if not f.plugin and rule is not None:
                f.plugin = rule.plugin
            items.append(f)
        if doc is not None:
            unused_rule = self.rules.get("core/unused-suppression")
            # Rules that left findings out here (max-findings): a directive for them may have
            # been written for a finding that was not kept, so it is not called unused.
            limited = {f.rule_id for f in items if is_limit_note(f)}
            for directive, why in suppress.apply(doc, items, known):
                if unused_rule is None or not self._selected(unused_rule.id):
                    continue
                if limited and _may_cover(directive.rules, limited, known, families):
                    continue
                level, _ = self.settings.for_file(unused_rule.id, doc.relpath)
                if level == "off":
                    continue
                span = directive.span
                items.append(
                    Finding(
                        unused_rule.id,
                        why,
                        doc.relpath,
                        span,
                        level=level,
                        plugin=unused_rule.plugin,
                        anchor=" ".join(directive.rules) + directive.kind,
                    ).set_snippet(doc.lines.line_text(span.line))
                )
        if reported is not None and path not in reported:
            return []
        items.sort(key=Finding.sort_key)
        _fingerprint(items)
        return items


def finish_context(*parts: str) -> str:
    """The digest of what finishing depends on besides the findings and the records."""
    digest = hashlib.sha256()
    for part in ("finishing", *parts):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _group_key(keys: FinishKeys, path: str, sources: list[str | None], has_record: bool) -> str | None:
    """The key of one file's group (None: a source without a key took part, or its record
    has none)."""
    named = [source for source in sources if source is not None]
    record = keys.records.get(path, "") if has_record else "-"
    if len(named) != len(sources) or not record:
        return None
    return finish_context(keys.context, path, record, *named)


def _replay_data(raw: list[Finding], done: list[Finding]) -> tuple[int, list[tuple[Any, ...]]]:
    """What finishing made of ``raw``: per finished finding, its place in ``raw`` (-1: a
    finding finishing added, stored whole) and its level, plugin, fingerprint and
    suppression."""
    place = {id(f): i for i, f in enumerate(raw)}
    items = []
    for f in done:
        i = place.get(id(f), -1)
        suppression = None if f.suppression is None else (f.suppression.kind, f.suppression.justification)
        items.append((i, f.level, f.plugin, f.fingerprint, suppression, f if i < 0 else None))
    return len(raw), items


def _replay(stored: Any, raw: list[Finding]) -> list[Finding] | None:
    """``raw`` finished as the stored replay data says (None: no usable data)."""
    if not isinstance(stored, tuple) or len(stored) != 2 or stored[0] != len(raw):
        return None
    out: list[Finding] = []
    try:
        for i, level, plugin, fingerprint, suppression, added in stored[1]:
            f = added if i < 0 else raw[i]
            if not isinstance(f, Finding):
                return None
            f.level = level
            f.plugin = plugin
            f.fingerprint = fingerprint
            f.suppression = None if suppression is None else Suppression(*suppression)
            out.append(f)
    except (TypeError, ValueError, IndexError):
        return None
    return out


def _may_cover(named: tuple[str, ...], limited: set[str], known: set[str], families: set[str]) -> bool:
    """Whether a suppression naming ``named`` (nothing: every rule) may be meant for a rule
    in ``limited``, and names no unknown rule (that is reported whatever the limit)."""
    if any(r not in known and r not in families for r in named):
        return False
    return not named or any(r in named or r.split("/", 1)[0] in named for r in limited)


def _fingerprint(findings: Iterable[Finding]) -> None:
    """Stable identity for each finding: rule, file and what it is about, not its line.

    Two findings with the same key get an occurrence number, in order of position.
    """
    seen: Counter[tuple[str, str, str]] = Counter()
    for f in findings:
        what = f.anchor or " ".join(f.snippet.split()) or f.message
        key = (f.rule_id, f.path, what)
        seen[key] += 1
        digest = hashlib.sha256("\0".join([*key, str(seen[key])]).encode("utf-8", "surrogatepass")).hexdigest()
        f.fingerprint = digest[:32]

