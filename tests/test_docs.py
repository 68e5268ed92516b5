"""What users are told exists must be documented: commands, settings, record kinds."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from node.cli.main import build_parser
from node.domain.settings import SETTINGS
from protocol.custody_kinds import KINDS  # every kind, the later ones included

ROOT = Path(__file__).parents[1]
NODE_DOC = (ROOT / "docs" / "node.md").read_text()
PROTOCOL = (ROOT / "PROTOCOL.md").read_text()


def commands(parser: argparse.ArgumentParser, prefix: str = "maillon") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = commands(sub, f"{prefix} {name}")
                found += nested or [f"{prefix} {name}"]
    return found


@pytest.mark.parametrize("command", commands(build_parser()))
def test_every_cli_command_is_documented(command):
    assert f"`{command}" in NODE_DOC


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_documented(name):
    assert f"| `{name}` |" in NODE_DOC


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_record_kind_is_specified(kind):
    assert f"### `{kind}`" in PROTOCOL


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
