"""protocol/ is pure: it imports neither the layers above it nor anything doing I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FORBIDDEN = {
    "node", "federation", "web_ui", "os", "io", "pathlib", "socket", "asyncio", "aiohttp",
    "aiosqlite", "sqlite3", "subprocess", "shutil", "tempfile", "zeroconf", "urllib", "http",
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open":
            names.add("open()")
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "protocol").glob("*.py")), ids=lambda p: p.name)
def test_protocol_module_is_pure(path):
    assert not imported_modules(path) & (FORBIDDEN | {"open()"})


@pytest.mark.parametrize("path", sorted((ROOT / "node").rglob("*.py")), ids=lambda p: p.name)
def test_node_does_not_import_the_layers_above(path):
    assert not imported_modules(path) & {"federation", "web_ui", "aiohttp"}
