"""What the ``maillon`` parser needs and nothing more: handlers named, imported when they run.

``maillon --help`` builds the whole parser; importing every command's module
for it (the domain, pydantic, the protocol's record kinds, aiohttp) took most
of a second. A parser built here names each handler by its module and
function (``lazy("node.cli.commands:backup")``): the module is imported when that
command runs, never for another command nor for the help.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

__all__ = ["lazy", "Lazy", "add_data", "entry_points"]


class Lazy:
    """A command's handler, ``module:function``, imported at its first call."""

    __slots__ = ("target",)

    def __init__(self, target: str) -> None:
        module, sep, name = target.partition(":")
        if not sep or not module or not name:
            raise ValueError(f"a handler is named module:function, not {target!r}")
        self.target = target

    def resolve(self) -> Callable[[argparse.Namespace], int]:
        module, _, name = self.target.partition(":")
        return getattr(import_module(module), name)

    def __call__(self, args: argparse.Namespace) -> int:
        return self.resolve()(args)

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"


def lazy(target: str) -> Lazy:
    return Lazy(target)


def add_data(parser: argparse.ArgumentParser) -> None:
    """``--data DIR``, the node's data directory, which every data command takes."""
    parser.add_argument("--data", type=Path, required=True, help="the node's data directory")


def entry_points(group: str) -> list[tuple[str, str]]:
    """The ``(name, "module:attr")`` entry points of ``group`` of the installed distributions.

    What ``importlib.metadata.entry_points(group=...)`` finds, read from the
    ``entry_points.txt`` of each ``*.dist-info`` / ``*.egg-info`` on
    ``sys.path`` (the first distribution of a name wins, as there): importing
    ``importlib.metadata`` (and the email package under it) took longer than
    the rest of ``maillon --help`` together.
    """
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for base in sys.path:
        try:
            names = sorted(os.listdir(base or "."))
        except OSError:
            continue
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if not dot or suffix not in ("dist-info", "egg-info"):
                continue
            distribution = stem.split("-")[0].lower().replace("_", "-")
            if distribution in seen:
                continue
            seen.add(distribution)
            try:
                with open(os.path.join(base or ".", name, "entry_points.txt"), encoding="utf-8") as file:
                    text = file.read()
            except OSError:
                continue
            found += _section(text, group)
    return found


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """The ``name = value`` lines of the ``[group]`` section of an ``entry_points.txt``."""
    lines, inside = [], False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            lines.append((name.strip(), value.split("[")[0].strip()))
    return lines
