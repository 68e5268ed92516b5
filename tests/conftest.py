"""Shared test options.

No test asserts a duration: the machines that run them are shared and
busy, and how fast the code is belongs to bench/. Hypothesis searches
without a deadline for the same reason.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

settings.register_profile("maillon", deadline=None)
settings.load_profile("maillon")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", help="run long tests at their full size")


# The slowest files first (real node processes, the browser), so that two workers end together
# rather than one finishing a long scenario alone while the other idles.
_FIRST = ("tests/federation/test_chaos.py", "tests/federation/", "tests/browser/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid
        return next((n for n, prefix in enumerate(_FIRST) if path.startswith(prefix)), len(_FIRST))

    items.sort(key=rank)  # stable: the order within a file, and of files within a rank, is kept
