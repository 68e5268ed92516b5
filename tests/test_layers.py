"""Imports point one way: between the packages, inside node/, and no module imports itself back.

The packages: ``web_ui → federation → node → protocol``. Inside node/, each
subpackage uses only the ones below it (docs/architecture.md draws them):

    node (config, categories, errors, notes, validation, workers)
      ← node.imports (parsers of the workshops' files)
      ← node.store ← node.domain ← node.network ← node.reports ← node.queries ← node.cli

Every import counts, those inside functions too (a lazy import is still an arrow).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("protocol", "node", "federation", "web_ui")
NODE_LAYERS = ("", "imports", "store", "domain", "network", "reports", "queries", "cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


@cache
def imports_of(name: str) -> frozenset[str]:
    """The project's modules ``name`` imports (``from a.b import c`` counts ``a.b.c`` when it is a module)."""
    path, known = modules()[name], modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names}
    return frozenset(m for m in found if m in known and m != name)


def node_layer(name: str) -> int:
    parts = name.split(".")
    sub = parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in NODE_LAYERS) else ""
    return NODE_LAYERS.index(sub)


@pytest.mark.parametrize("name", [m for m in sorted(modules()) if m.startswith("node.")])
def test_node_modules_import_only_the_layers_below(name):
    above = sorted(m for m in imports_of(name) if m.startswith("node.") and node_layer(m) > node_layer(name))
    assert not above, f"{name} (layer {NODE_LAYERS[node_layer(name)] or 'node'}) imports a layer above: {above}"


@pytest.mark.parametrize("name", sorted(modules()))
def test_packages_import_only_the_packages_below(name):
    rank = PACKAGES.index(name.split(".")[0])
    above = sorted(m for m in imports_of(name) if PACKAGES.index(m.split(".")[0]) > rank)
    assert not above, f"{name} imports a package above it: {above}"


def test_no_module_imports_itself_back():
    """No cycle of imports, of any length (a package's ``__init__`` counts as importing what it names)."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(imports_of(name)):
            if state.get(other) == 1:
                cycles.append(path[path.index(other):] + [name, other] if other in path else [name, other])
            elif other not in state:
                visit(other, [*path, name])
        state[name] = 2

    for name in sorted(modules()):
        if name not in state:
            visit(name, [])
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


@pytest.mark.parametrize("name", [m for m in sorted(modules()) if m.startswith("web_ui.") and m != "web_ui.service"])
def test_handlers_never_import_the_app_factory(name):
    """The app loads its pages by name (``web_ui.app.PAGES``), so an import of it from a page is a hidden cycle:
    what a handler reads of the app is in ``web_ui.keys``. Only the service that starts the node makes the app."""
    assert "web_ui.app" not in imports_of(name), f"{name} imports web_ui.app: take the keys from web_ui.keys"
