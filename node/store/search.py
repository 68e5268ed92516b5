"""Full-text search of items: what a volunteer types ("Dell", "Lenovo ThinkPad", "T480", "portable",
four characters of a serial, a tag's number) finds the items the list shows.

Each item has one row in ``items_search``, an SQLite FTS5 table (the
``unicode61`` tokenizer: words are runs of letters and digits, without case
or accents), whose text ``item_text`` makes of:

- the item's **identifiers** (asset tag, serial, donor's asset number, the
  tags it carried at the nodes that held it before: ``node.domain.item_tags``) and
  its lot's reference, whole and each word of them from every position on
  ("5cg7281xz", "cg7281xz", "g7281xz"...), so that any part of them is the
  start of a word: "7281" finds the serial, "123" the tag MLN-000123;
- its **words** (brand, model, its category's names in French and English,
  ``CATEGORY_WORDS``, its donor's name), whole.

A query is split into words the same way; an item matches when each word
is the start of one of its words (``match``: ``"dell"* AND "t48"*``). The
index also keeps the first 2 to 8 letters of every word as words of their
own (``prefix``), so that such a start is read as one list of items, newest
first, and neither positions nor columns (``detail=none``): a search never
asks for them. (At 100 000 items: about 70 MB, and a brand or two words
answered in about a millisecond; ``bench/ui_bench.py``.) Triggers (migration V10) keep the row in the transaction that
changes the item, its lot or its donor (``node.domain.item_tags.keep_former_tags`` makes an item's row again when it adds its former tags); they call ``item_text`` as the SQL
function ``maillon_item_text``, which the Store defines on every connection
(``FUNCTIONS``; ``register`` for a plain sqlite3 connection).
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata

__all__ = ["CATEGORY_WORDS", "FUNCTIONS", "fold", "item_text", "register", "match"]

# What a volunteer calls each category (protocol.kinds.CATEGORIES), in French and English: the
# interface's names (web_ui.labels.CATEGORY_NAMES, in both catalogues; a test keeps them here)
# and the everyday words for them.
CATEGORY_WORDS: dict[str, str] = {
    "desktop": "ordinateur fixe unité centrale tour desktop computer pc",
    "laptop": "ordinateur portable laptop computer notebook pc",
    "tablet": "tablette tablet",
    "smartphone": "smartphone téléphone mobile phone",
    "screen": "écran moniteur screen monitor",
    "printer": "imprimante printer",
    "multifunction_printer": "imprimante multifonction multifunction printer",
    "server": "serveur server",
    "network": "matériel réseau équipement network equipment switch routeur router",
    "peripheral": "périphérique clavier souris peripheral keyboard mouse",
    "component": "composant component",
    "other": "autre other",
}

_WORD = re.compile(r"[^\W_]+")  # what unicode61 calls a token: letters and digits (an underscore separates)
_SUFFIXES = 40  # an identifier's word is found from any of its first 40 positions on


def fold(text: str | None) -> str:
    """``text`` in lower case without accents ("Écran" → "ecran"); "" for None."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def item_text(asset_tag: str | None, serial: str | None, donor_asset: str | None, lot_reference: str | None,
              brand: str | None, model: str | None, category: str | None, donor: str | None,
              former_tags: str | None = None) -> str:  # fmt: skip
    """An item's searchable text: its words, and its identifiers' words from every position on.

    ``former_tags``: the labels it carried at the nodes that held it before, separated by spaces.
    """
    described = " ".join(p for p in (brand, model, donor, CATEGORY_WORDS.get(category or "", category)) if p)
    words = _WORD.findall(fold(described))
    for identifier in (asset_tag, serial, donor_asset, lot_reference, former_tags):
        for word in _WORD.findall(fold(identifier)):
            words += (word[start:] for start in range(min(len(word), _SUFFIXES)))
    return " ".join(words)


# The SQL functions the view and triggers of ``items_search`` call: (name, number of arguments, function).
# (With 8 arguments: the view of migration V10, which V13 replaced; a migration from scratch still runs it.)
# maillon_fold: a text folded as the search folds it (node.domain.beneficiaries finds by referrer with it).
FUNCTIONS = (("maillon_item_text", 8, item_text), ("maillon_item_text", 9, item_text), ("maillon_fold", 1, fold))


def register(connection: sqlite3.Connection) -> None:
    """Define ``FUNCTIONS`` on a plain sqlite3 connection (the Store does so on each of its own)."""
    for name, count, function in FUNCTIONS:
        connection.create_function(name, count, function, deterministic=True)


def match(query: str) -> str | None:
    """The FTS5 expression of ``query``: each of its words the start of a word; None without a word."""
    words = dict.fromkeys(_WORD.findall(fold(query)))  # each once, in order
    return " AND ".join(f'"{word}"*' for word in words) or None
