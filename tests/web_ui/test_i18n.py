"""Every string the interface marks for translation has its French translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web_ui.i18n import Formats, catalogue, negotiate, translator

WEB_UI = Path(__file__).parents[2] / "web_ui"
MARKED = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def marked_strings() -> set[str]:
    found = set()
    for path in [*WEB_UI.rglob("*.html"), *WEB_UI.rglob("*.py")]:
        for double, single in MARKED.findall(path.read_text(encoding="utf-8")):
            found.add((double or single).replace('\\"', '"').replace("\\'", "'"))
    return found


@pytest.mark.parametrize("message", sorted(marked_strings()))
def test_every_marked_string_has_a_french_translation(message):
    assert message in catalogue("fr"), f"add a French translation of {message!r} to web_ui/locale/fr/LC_MESSAGES"


def test_english_is_the_source_and_placeholders_work():
    assert translator("en")("Dashboard") == "Dashboard"
    assert translator("fr")("Dashboard") == "Tableau de bord"
    assert translator("xx")("Dashboard") == "Tableau de bord"  # French by default


@pytest.mark.parametrize(
    ("cookie", "account", "header", "expected"),
    [(None, None, None, "fr"), (None, None, "en-GB,en;q=0.9", "en"), ("fr", None, "en", "fr"),
     (None, "en", "fr", "en"), ("de", None, "de-DE", "fr")],
)  # fmt: skip
def test_language_negotiation(cookie, account, header, expected):
    assert negotiate(cookie, account, header) == expected


def test_french_formats():
    fr = Formats("fr")
    assert fr.kg(1_234_567) == "1\u202f234,6 kg"
    assert fr.money(18000) == "180,00 €"
    assert fr.date(1_763_900_000_000) == "23/11/2025"
    assert Formats("en").kg(1_234_567) == "1,234.6 kg"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_whole_numbers_are_written_as_babel_writes_them(language):
    from babel.numbers import format_decimal

    formats = Formats(language)
    for value in (0, 7, 999, 1000, 12_345, 100_000, 1_234_567, 10**12, -1, -1234, -10**7):
        assert formats.number(value) == format_decimal(value, locale=formats.locale)
    assert formats.number(1234.5) == format_decimal(1234.5, locale=formats.locale)
    assert formats.number(None) == ""


def test_every_note_the_node_writes_has_its_french_form():
    from web_ui.pages.network_common import NOTES

    root = Path(__file__).parents[2] / "node"
    codes = {code for path in root.rglob("*.py") for code in re.findall(r'\bNote\(\s*"([a-z_]+)"', path.read_text())}
    assert codes and codes <= set(NOTES), f"add to web_ui.pages.network_common.NOTES: {sorted(codes - set(NOTES))}"
    for message in NOTES.values():
        assert message in catalogue("fr")


def test_the_figures_of_what_entered_moved_inside_and_left_a_network_have_french_names():
    from web_ui.labels import figure_name

    _ = translator("fr")
    assert figure_name("entered.laptop.units", _) == "Entrés dans le réseau par des dons : ordinateur portable (unités)"
    assert figure_name("moved_in.desktop.weight_g", _) == "Reçus d'une structure du réseau : ordinateur fixe (poids)"
    assert figure_name("left.screen.units", _).startswith("Sortis du réseau : ")
    assert figure_name("from_other_network.laptop.units", _).startswith("Reçus d'un autre réseau : ")
    assert figure_name("moved_out.laptop.units", _).startswith("Remis à une structure du réseau : ")
    assert (figure_name("lots.from_donors", _), figure_name("donors.count", _)) == (
        "Lots reçus de donateurs", "Donateurs de ces lots")
