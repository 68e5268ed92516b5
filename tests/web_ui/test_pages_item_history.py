"""An item's page tells its history in words: each event on the day it happened (and, when it
was entered on another day, that day beside it), its details in French, never a time the node
invented for a past day; and it says when the item arrived damaged from another node.

Real node, real SQLite file, real HTTP (aiohttp's test client).
"""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape

from test_pages_handoffs import other, here, offered_here  # noqa: F401  (fixtures and helpers)

from node.domain.happened import day_of
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.workflow import StepInput, record_step
from node.network import handoffs
from node.store.database import day_ms
from node.validation import parse
from web_ui.i18n import Formats

FR = Formats("fr")


def text_of(html: str) -> str:
    main = html.split("<main", 1)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", main)).split())


def history_of(html: str) -> str:
    return text_of(html).split("Historique", 1)[1]


async def times_of(store, item_id: int) -> list[int]:
    """When each event of the item was recorded, oldest first."""
    async with store.reader() as db:
        return [r[0] for r in await db.all("SELECT time FROM events WHERE item_id = ? ORDER BY id", (item_id,))]


def entered(ms: int) -> str:
    """How the page says when a past event was entered: its day and its minute."""
    return f"(saisi le {FR.date(ms)} à {FR.datetime(ms).split()[-1]})"


async def test_imported_details_are_shown_in_french_words(web, admin) -> None:
    _, store, _ = web
    detail = {"import": True, "notes": {"Remarque": "clavier usé", "Couleur": "gris"}, "checked_twice": False,
              "boxes": ["A", "B"], "source_sheet": {"name": "stock.csv"}}
    async with store.transaction() as tx:
        lot = await create_lot(tx, parse(LotInput, {"reference": "L-IMP", "received_on": "2024-03-01"}))
        [item] = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop"})],
                                    details=[json.dumps(detail, ensure_ascii=False)])  # fmt: skip
    response, html = await admin.get(f"/items/{item}")
    assert response.status == 200
    history = history_of(html)
    assert "Remarque : clavier usé" in history and "Couleur : gris" in history
    assert "Source importé d'un tableau" in history and "Notes du tableau" in history
    for raw in ("True", "False", "{", "[", "import ", "checked_twice"):
        assert raw not in history, raw
    # keys the page does not know stay readable
    assert "Checked twice non" in history and "Boxes A, B" in history and "Source sheet name : stock.csv" in history


async def test_the_history_shows_the_day_each_event_happened(web, admin) -> None:
    _, store, _ = web
    async with store.transaction() as tx:
        lot = await create_lot(tx, parse(LotInput, {"reference": "L-2023", "received_on": "2023-06-01"}))
        past, now = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop"})] * 2)
        sorting = StepInput(state="sorted", orientation="refurbish", happened_on=date(2023, 6, 10), operator="Awa")
        await record_step(tx, [past, now], sorting)
        await record_step(tx, [now], StepInput(state="tested", operator="Ben"))
    received, sorted_ = await times_of(store, past)
    _, html = await admin.get(f"/items/{past}")
    page = text_of(html)
    # its state since a past day: the day alone, never the noon UTC the day is stored at (14:00 in Paris)
    assert "État : trié depuis le 10/06/2023 " in page and "10/06/2023 14:00" not in page
    history = history_of(html)
    assert f"trié le 10/06/2023 {entered(sorted_)} · par Awa Orientation à reconditionner" in history
    assert f"reçu le 01/06/2023 {entered(received)}" in history
    assert "14:00" not in history

    # a step entered the day it happened keeps its date and time, as before
    *_, tested = await times_of(store, now)
    _, html = await admin.get(f"/items/{now}")
    assert f"État : testé depuis le {FR.datetime(tested)}" in text_of(html)
    history = history_of(html)
    assert f"testé {FR.datetime(tested)} · par Ben" in history and "saisi" not in history.split("trié")[0]


def test_a_day_only_instant_is_written_as_its_date() -> None:
    noon = day_ms(date(2026, 11, 30))
    assert FR.when(noon) == "30/11/2026"
    assert FR.when(noon + 60_000) == FR.datetime(noon + 60_000) == "30/11/2026 13:01"
    assert FR.when(None) == ""


async def test_an_item_that_arrived_damaged_says_so(web, here, other, admin) -> None:  # noqa: F811
    _, store, _ = web
    async with store.transaction() as tx:  # this node's own numbering differs from the labels that arrive
        await create_items(tx, None, [parse(ItemInput, {"category": "screen"})])
    offer, gids = await offered_here(here, other)
    async with store.transaction() as tx:
        await handoffs.answer_offer(tx, bytes.fromhex(offer), accept=True)
        await handoffs.record_receipt(tx, bytes.fromhex(offer), handoffs.ReceiptInput(
            received=gids, damaged=[gids[1]], weight_g=10000, happened_on=date(2023, 6, 1)))  # fmt: skip
    async with store.reader() as db:
        damaged, intact = [await db.value("SELECT id FROM items WHERE gid = ?", (g,)) for g in gids[1:3]]
        recorded = await db.value("SELECT time FROM events WHERE item_id = ? ORDER BY id LIMIT 1", (damaged,))
    _, html = await admin.get(f"/items/{damaged}")
    page = text_of(html)
    assert "arrivé endommagé" in page
    # the node that handed it over did so on the day the lot arrived, not the day the reception was entered
    assert "qui l'a cédé le 01/06/2023" in page
    if day_of(recorded) != date(2023, 6, 1):
        assert f"cédé le {FR.date(recorded)}" not in page
    _, html = await admin.get(f"/items/{intact}")
    assert "endommagé" not in text_of(html)
