"""The run's keys: what the per-file results depend on besides the files (the code and
plugins, the config, the rules selected, the data files and declared inputs), the cache's
base keys built from it, and the store of reporters' outputs keyed on every file."""

from __future__ import annotations

import pluggy

from coursecheck.cache import FileCache, code_fingerprint
from coursecheck.config import Config, Settings
from coursecheck.fsutil import read_inside
from coursecheck.model import Document
from coursecheck.plugins import Notification, call_each, plugin_name
from coursecheck.rules import Rule


class _StoredOutputs:
    """Result.outputs: reporters' outputs kept for the next run on unchanged files, keyed on
    every checked file's per-file key (its bytes, the code, config, rules and data files):
    what is built from the files' records alone (the JSON's outlines) is right as long as
    they are."""

    def __init__(self, store: FileCache, files_key: str) -> None:
        self._store = store
        self._files_key = files_key

    def get(self, kind: str, *parts: str) -> str | None:
        text = self._store.get(FileCache.key(kind, self._files_key, *parts))
        return text if isinstance(text, str) else None

    def put(self, kind: str, text: str, *parts: str) -> None:
        self._store.put(FileCache.key(kind, self._files_key, *parts), text)


class RunKeys:
    """The keys of a run of ``config`` with these plugins and rules; the bytes of declared
    inputs are read once (the first key asked)."""

    def __init__(
        self,
        config: Config,
        pm: pluggy.PluginManager,
        rules: dict[str, Rule],
        settings: Settings,
        notes: list[Notification],
    ) -> None:
        self.config = config
        self.pm = pm
        self.rules = rules
        self.settings = settings
        self.notes = notes
        self._inputs: str | None = None  # see _inputs_key

    def run_key(self, active_rules: list[Rule], data_docs: list[Document]) -> dict[str, str]:
        """What the per-file results depend on besides the files, part by part (a merge
        names the part that differs); the cache's base key adds the project's path."""
        plugins = sorted(((plugin_name(self.pm, p), p) for p in self.pm.get_plugins()), key=lambda i: str(i[0]))
        c = self.config
        # A course rule without a per-file summary plays no part in the per-file stage: its
        # level, options and selection leave every file's stored result valid (the course
        # stage is keyed on the config file's bytes, so it runs again).
        course_only = {r.id for r in self.rules.values() if r.course and r.summarize is None}
        per_file_rules = [r for r in active_rules if r.id not in course_only]
        settings = {rule_id: value for rule_id, value in c.rules.items() if rule_id not in course_only}
        return {
            "coursecheck and plugins": FileCache.key(
                code_fingerprint([p for _, p in plugins]), " ".join(name for name, _ in plugins)
            ),
            "config": FileCache.key(
                repr((c.course, settings, c.overrides, c.plugins, c.extends, c.sections, c.max_findings))
            ),
            "rules selected": FileCache.key("\0".join(sorted(f"{r.id}:{r.plugin}" for r in per_file_rules))),
            "data files": FileCache.key("\0".join(f"{d.relpath}\0{d.source}" for d in data_docs), self._inputs_key()),
        }

    def full_base_key(self, active_rules: list[Rule], data_docs: list[Document], base_key: str) -> str:
        """With ``--select`` or ``--ignore``: the base key of the run with every enabled rule
        (what a plain run stores), whose entries hold the selected rules' findings too; ""
        when this run is that run."""
        every = [r for r in self.rules.values() if self.settings.enabled_anywhere(r.id)]
        full = self.cache_base_key(every, data_docs)
        return "" if full == base_key else full

    def cache_base_key(self, active_rules: list[Rule], data_docs: list[Document]) -> str:
        """Everything besides the file itself that per-file results depend on: the run key
        (code, plugins, config, rules, data files) and the project root (one cache per tree)."""
        return FileCache.key(*self.run_key(active_rules, data_docs).values(), str(self.config.root))

    def _inputs_key(self) -> str:
        """The bytes of the files plugins declare their document rules read besides the
        checked ones (``coursecheck_inputs``: e.g. a glossary outside the data globs)."""
        if self._inputs is None:
            parts = []
            for rel in self.declared_inputs():
                try:
                    content = read_inside(self.config.root, rel)
                except OSError as exc:
                    content = f"unreadable: {exc.strerror or exc}".encode()
                parts.append(FileCache.key(rel, content))
            self._inputs = FileCache.key(*parts)
        return self._inputs

    def declared_inputs(self) -> list[str]:
        """The files (relative to the root) plugins declare their document rules read
        besides the checked ones (``coursecheck_inputs``: a vocabulary, a glossary outside
        the data globs)."""
        named: set[str] = set()
        for _name, value in call_each(
            self.pm,
            "coursecheck_inputs",
            self.notes,
            lambda v: isinstance(v, (list, tuple)),
            "a list of paths",
            config=self.config,
        ):
            named.update(str(item) for item in value)
        return sorted(named)
