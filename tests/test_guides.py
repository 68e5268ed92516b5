"""The user guide (French) and the admin guide cannot drift from the interface and the CLI.

- every page of docs/guide/ is reachable from its index, and every relative
  link (and anchor) in the guides resolves;
- every label the French guide quotes in «guillemets» is a French string of
  the web interface's catalogues (web_ui/locale/fr/LC_MESSAGES/*.po): the
  guide's convention is to quote what is on the screen, and only that;
- every `maillon ...` command the guides name exists, and every command line
  in their code blocks parses with the real parser.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from node.cli.main import build_parser

ROOT = Path(__file__).parents[1]
GUIDE = ROOT / "docs" / "guide"
ADMIN = ROOT / "docs" / "admin.md"
INDEX = GUIDE / "README.md"
GUIDE_PAGES = sorted(GUIDE.glob("*.md"))
DOCS = [*GUIDE_PAGES, ADMIN]

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
QUOTED = re.compile(r"«\s*(.*?)\s*»", re.DOTALL)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`([^`\n]+)`")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _prose(text: str) -> str:
    """The text without its fenced code blocks (what a reader sees as sentences and tables)."""
    return FENCE.sub("", text)


def _links(path: Path) -> list[str]:
    return LINK.findall(_prose(path.read_text(encoding="utf-8")))


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*$", _prose(path.read_text(encoding="utf-8")), re.MULTILINE)
    return {_slug(h) for h in headings}


def _french_strings() -> set[str]:
    strings = set()
    for po in sorted((ROOT / "web_ui" / "locale" / "fr" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        strings |= {message.string for message in catalog if message.id and message.string}
    return strings


def _command_tree(parser: argparse.ArgumentParser) -> dict[str, dict]:
    """The CLI as nested dicts: name → its subcommands, with None standing for "runnable here"."""
    tree: dict[str, dict] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                node = _command_tree(sub)
                if sub.get_default("handler") is not None:
                    node[None] = {}
                tree[name] = node
    return tree


CLI = _command_tree(build_parser())


def _command_of(words: list[str]) -> tuple[str, bool]:
    """The command path named by ``maillon w1 w2 ...`` and whether it runs (a handler exists)."""
    node, path = CLI, ["maillon"]
    for word in words:
        if word not in node:
            break
        node = node[word]
        path.append(word)
    return " ".join(path), None in node


def _commands_named(path: Path) -> list[str]:
    """Every `maillon ...` in inline code or at the start of a code block line."""
    text = path.read_text(encoding="utf-8")
    found = [code for code in INLINE_CODE.findall(_prose(text)) if code.startswith("maillon ")]
    for block in FENCE.findall(text):
        found += [line.strip() for line in block.splitlines() if line.strip().startswith("maillon ")]
    return found


def _command_lines(path: Path) -> list[str]:
    """Command lines of the code blocks: examples the reader may copy as they are."""
    lines = []
    for block in FENCE.findall(path.read_text(encoding="utf-8")):
        lines += [line.strip() for line in block.splitlines() if line.strip().startswith("maillon ")]
    return lines


def test_the_guide_has_an_index_and_pages():
    assert INDEX.exists()
    assert len(GUIDE_PAGES) > 5


def test_every_page_of_the_index_exists():
    linked = [target for target in _links(INDEX) if not re.match(r"[a-z]+:", target)]
    assert linked
    for target in linked:
        assert (INDEX.parent / target.split("#")[0]).is_file(), f"docs/guide/README.md links to missing {target}"


def test_every_guide_page_is_in_the_index():
    linked = {(INDEX.parent / target.split("#")[0]).resolve() for target in _links(INDEX)}
    missing = [_rel(page) for page in GUIDE_PAGES if page != INDEX and page.resolve() not in linked]
    assert not missing, f"not linked from docs/guide/README.md: {missing}"


@pytest.mark.parametrize("path", DOCS, ids=_rel)
def test_relative_links_resolve(path):
    problems = []
    for target in _links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            problems.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            problems.append(f"{target}: no heading #{anchor} in {_rel(destination)}")
    assert not problems, f"{_rel(path)}: " + "; ".join(problems)


@pytest.mark.parametrize("path", GUIDE_PAGES, ids=_rel)
def test_quoted_labels_are_in_the_french_catalogues(path):
    strings = _french_strings()
    quoted = [" ".join(label.split()) for label in QUOTED.findall(path.read_text(encoding="utf-8"))]
    assert quoted or path == INDEX
    unknown = sorted({label for label in quoted if label not in strings})
    assert not unknown, f"{_rel(path)} quotes labels the interface does not show: {unknown}"


def test_the_label_check_catches_an_invented_label():
    assert "Créer le lot" in _french_strings()
    assert "Créer le lot maintenant" not in _french_strings()


@pytest.mark.parametrize("path", DOCS, ids=_rel)
def test_named_commands_exist(path):
    wrong = []
    for line in _commands_named(path):
        command, runs = _command_of(shlex.split(line, comments=True)[1:])
        if not runs:
            wrong.append(f"{line!r} (only {command!r} exists)")
    assert not wrong, f"{_rel(path)}: " + "; ".join(wrong)


@pytest.mark.parametrize("path", DOCS, ids=_rel)
def test_command_examples_parse(path, capsys):
    refused = []
    for line in _command_lines(path):
        try:
            build_parser().parse_args(shlex.split(line, comments=True)[1:])
        except SystemExit:
            refused.append(f"{line!r}: {capsys.readouterr().err.strip().splitlines()[-1]}")
    assert not refused, f"{_rel(path)}: " + "; ".join(refused)


def test_the_admin_guide_covers_the_commands_it_must():
    named = {_command_of(shlex.split(line, comments=True)[1:])[0] for line in _commands_named(ADMIN)}
    for command in ("maillon init", "maillon run", "maillon backup", "maillon restore", "maillon invite",
                    "maillon join", "maillon peers", "maillon key rotate"):  # fmt: skip
        assert command in named, f"docs/admin.md does not show {command}"


def test_the_readme_lists_both_guides():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documentation = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    assert "(docs/guide/README.md)" in documentation
    assert "(docs/admin.md)" in documentation
