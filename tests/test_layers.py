"""The layering holds (docs/architecture.md): no import cycle between coursecheck's modules,
counting the imports inside functions and under ``TYPE_CHECKING`` (which a plain import
never runs, so a cycle through them stays hidden until a refactoring makes it real), and
the plugins shipped in plugins/ import coursecheck only through ``coursecheck.api``.

``lint-imports`` (.ci/run, contracts in pyproject.toml) checks the layers themselves.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import networkx as nx
from conftest import REPO

PACKAGE = REPO / "coursecheck"


def module_names(package: Path) -> dict[str, Path]:
    out = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imported(tree: ast.AST, name: str, is_package: bool) -> list[tuple[str, int]]:
    """``(module, line)`` of every import in the tree, wherever it is (functions included).
    ``from package import submodule`` imports the submodule; ``from module import name``,
    the module: a name that may be either is given as both, ``"module|module.name"``."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            out.extend((f"{target}|{target}.{alias.name}", node.lineno) for alias in node.names)
    return out


@functools.cache
def import_graph(package: Path) -> nx.DiGraph:
    """Module -> module it imports (a package's __init__ runs before its submodules: that is
    not an edge here, as for import-linter)."""
    modules = module_names(package)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target, line in imported(tree, name, path.name == "__init__.py"):
            if "|" in target:
                parent, submodule = target.split("|")
                target = submodule if submodule in modules else parent
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph.add_edge(name, target, line=line)
    return graph


def test_the_graph_sees_imports_inside_functions_and_type_checking():
    graph = import_graph(PACKAGE)
    # Known edges of each sort, so that the cycle test below cannot pass on an empty graph.
    assert graph.has_edge("coursecheck.engine", "coursecheck.results")  # top level
    assert graph.has_edge("coursecheck.report.sarif", "coursecheck.results")  # under TYPE_CHECKING
    assert graph.has_edge("coursecheck.cli", "coursecheck.lsp")  # inside a function
    assert graph.number_of_edges() > 250


def test_no_import_cycle_between_modules():
    graph = import_graph(PACKAGE)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    described = []
    for component in cycles:
        cycle = nx.find_cycle(graph.subgraph(component))
        described.append(" -> ".join(f"{a} (l.{graph.edges[a, b]['line']})" for a, b in cycle) + f" -> {cycle[0][0]}")
    assert described == []


def test_shipped_plugins_import_coursecheck_only_through_the_api():
    allowed = ("coursecheck.api",)
    # Modules the shipped plugins still import directly: stable lower layers (model, config,
    # parse, fsutil...), never the engine, the app or a built-in family's module.
    forbidden = ("coursecheck.builtin", "coursecheck.report", "coursecheck.engine", "coursecheck.cli",
                 "coursecheck.checkrun", "coursecheck.cache", "coursecheck.shard", "coursecheck.lsp")
    found = []
    for path in sorted((REPO / "plugins").glob("*/src/**/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target, line in imported(tree, path.stem, False):
            if target.startswith(forbidden) and not target.startswith(allowed):
                found.append(f"{path.relative_to(REPO)}:{line}: {target}")
    assert found == []
