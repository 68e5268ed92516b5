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
