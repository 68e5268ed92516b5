"""Fixtures of the federation tests: real node processes on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from livenodes import LiveNode  # noqa: E402


@pytest.fixture
def make_node(tmp_path):
    """``make_node(name, role=..., reachable=...)``: a new node (not started); all are stopped at the end."""
    made: list[LiveNode] = []

    def make(name: str, **options) -> LiveNode:
        node = LiveNode(tmp_path, name, **options)
        made.append(node)
        return node

    yield make
    for node in made:
        node.stop()
