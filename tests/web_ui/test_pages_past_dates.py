"""The workshop's forms take the day an event happened (``happened_on``, empty: today).

A volunteer enters last year's steps, erasures, distributions and outflows
from the pages: each is stored with that day (``events.happened``,
``erasures.time``, ``distributions.time``) and counts in that period's
figures; a day in the future, or before the lot's reception, is refused in
French and changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from webtools import Browser

from node.domain.happened import today as node_today  # the node's day (France), not the machine's
from node.domain.impact import factor_table
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.settings import get_setting
from node.domain.stats import compute_stats, period_bounds
from node.validation import parse

PARIS = ZoneInfo("Europe/Paris")
FUTURE = "Cette date est dans le futur"
BEFORE_RECEPTION = "antérieure à la réception du lot"


def day_of(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, PARIS).date()


def tag(item_id: int) -> str:
    return f"MLN-{item_id:06d}"


@pytest.fixture
async def old_lot(web):
    """A lot received on 1 June 2023: two laptops (they hold data) and a screen."""
    _, store, _ = web
    async with store.transaction() as tx:
        lot = await create_lot(tx, parse(LotInput, {"reference": "L-2023", "received_on": "2023-06-01"}))
        laptop, other, screen = await create_items(tx, lot, [parse(ItemInput, {"category": c})
                                                             for c in ("laptop", "laptop", "screen")])  # fmt: skip
    return laptop, other, screen


async def snapshot(store) -> tuple:
    async with store.reader() as db:
        return tuple([await db.value(f"SELECT count(*) FROM {t}") for t in ("events", "erasures", "distributions", "outflows")]
                     + [tuple(await db.all("SELECT id, state, state_since FROM items ORDER BY id"))])  # fmt: skip


async def figures(store, period: str) -> dict:
    async with store.reader() as db:
        factors = factor_table(await get_setting(db, "impact_factors"))
        stats = await compute_stats(db, *period_bounds(period), years=await get_setting(db, "years_of_second_life"),
                                    factors=factors)  # fmt: skip
    return stats.as_figures()


async def last_happened(store, item_id: int) -> date:
    async with store.reader() as db:
        return day_of(await db.value("SELECT happened FROM events WHERE item_id = ? ORDER BY id DESC LIMIT 1", (item_id,)))


async def test_past_steps_erasures_distributions_and_outflows_from_the_pages(web, old_lot) -> None:
    _, store, client = web
    laptop, other, screen = old_lot
    tech = Browser(client)
    await tech.login("tech")
    tomorrow = (node_today() + timedelta(days=1)).isoformat()

    # The forms offer the date, never after today.
    for path in ("/workshop", f"/items/{laptop}/actions", f"/distribute?item_id={laptop}", "/recycle", "/erasures"):
        _, text = await tech.get(path)
        assert "Date (si ce n&#39;est pas aujourd&#39;hui)" in text, path
        assert f'name="happened_on" type="date" max="{node_today().isoformat()}"' in text, path

    # The bulk form: a day in the future or before the reception is refused, and changes nothing.
    before = await snapshot(store)
    for day, said in ((tomorrow, FUTURE), ("31/05/2023", BEFORE_RECEPTION), ("31/02/2023", "un jour comme 31/12/2025")):
        response, text = await tech.post("/workshop/step", {"item_id": [str(laptop), str(other), str(screen)],
                                                            "move": "sorted:refurbish", "happened_on": day})
        assert response.status == 422 and said in text, day
        assert f'value="{day}"' in text  # what was typed is shown again
    response, text = await tech.post(f"/items/{other}/step", {"move": "sorted:refurbish", "happened_on": tomorrow})
    assert response.status == 422 and FUTURE in text
    assert await snapshot(store) == before

    # Then a past day, typed the French way or by the date picker.
    response, text = await tech.post("/workshop/step", {"item_id": [str(laptop), str(other), str(screen)],
                                                        "move": "sorted:refurbish", "happened_on": "10/06/2023"})
    assert response.status == 200 and "Étape enregistrée pour 3 matériel(s)" in text
    assert {await last_happened(store, i) for i in old_lot} == {date(2023, 6, 10)}
    response, _ = await tech.post(f"/items/{other}/step", {"move": "tested", "happened_on": "2023-06-11"})
    assert response.status == 200 and await last_happened(store, other) == date(2023, 6, 11)

    # The manual erasure.
    erasure = {"asset_tag": tag(laptop), "method": "PRNG Stream", "level": "clear", "tool": "nwipe", "result": "success"}
    before = await snapshot(store)
    for day, said in ((tomorrow, FUTURE), ("2023-05-20", BEFORE_RECEPTION), ("demain", "un jour comme 31/12/2025")):
        response, text = await tech.post("/erasures", {**erasure, "happened_on": day})
        assert response.status == 422 and said in text, day
    assert await snapshot(store) == before
    response, text = await tech.post("/erasures", {**erasure, "happened_on": "2023-06-15"})
    assert response.status == 200 and "L’effacement est enregistré." in text
    async with store.reader() as db:
        assert day_of(await db.value("SELECT time FROM erasures WHERE item_id = ?", (laptop,))) == date(2023, 6, 15)
        assert await db.value("SELECT state FROM items WHERE id = ?", (laptop,)) == "erased"
    assert await last_happened(store, laptop) == date(2023, 6, 15)
    response, _ = await tech.post("/workshop/step", {"item_id": str(laptop), "move": "ready", "happened_on": "2023-06-20"})
    assert response.status == 200

    # The distribution: the check says what the domain would, the confirmation repeats the day.
    response, text = await tech.post("/beneficiaries", {"category": "person"})
    assert response.status == 200
    handout = {"item_id": str(laptop), "beneficiary_id": "1", "price": ""}
    _, text = await tech.get("/distribute", params={**handout, "happened_on": tomorrow, "check": "1"})
    assert FUTURE in text and "Confirmer la distribution" not in text
    _, text = await tech.get("/distribute", params={**handout, "happened_on": "2023-09-15", "check": "1"})
    assert "Confirmer la distribution" in text and "Remis le 15/09/2023." in text
    assert '<input type="hidden" name="happened_on" value="2023-09-15">' in text
    before = await snapshot(store)
    for day, said in ((tomorrow, FUTURE), ("2023-05-31", BEFORE_RECEPTION),
                      ("2023-06-19", "antérieure à la dernière étape du matériel")):  # fmt: skip
        response, text = await tech.post("/distribute", {**handout, "happened_on": day})
        assert response.status == 422 and said in text, day
    assert await snapshot(store) == before
    response, text = await tech.post("/distribute", {**handout, "happened_on": "2023-09-15"})
    assert response.status == 200 and "Distribution enregistrée" in text
    async with store.reader() as db:
        assert day_of(await db.value("SELECT time FROM distributions WHERE item_id = ?", (laptop,))) == date(2023, 9, 15)
    assert await last_happened(store, laptop) == date(2023, 9, 15)

    # The outflow to a recycler: the same field, the same refusals.
    outflow = {"item_id": str(screen), "recipient": "Ecologic", "waste_code": "16 02 14", "treatment": "R4"}
    response, text = await tech.post("/recycle", {**outflow, "happened_on": tomorrow})
    assert response.status == 422 and FUTURE in text
    response, text = await tech.post("/recycle", {**outflow, "happened_on": "2023-10-20"})
    assert response.status == 200 and "Sortie n° 1 enregistrée" in text
    assert await last_happened(store, screen) == date(2023, 10, 20)

    # They count in 2023's figures, not in this year's.
    old, now = await figures(store, "2023"), await figures(store, str(node_today().year))
    assert old["distributed.laptop.units"] == 1 and old["recycled.screen.units"] == 1
    assert "distributed.laptop.units" not in now and "recycled.screen.units" not in now


def form_of(text: str, move: str) -> str:
    """The item page's form holding the button of ``move``."""
    before, _, _after = text.partition(f'name="move" value="{move}"')
    return before.rsplit("<form", 1)[1]


async def test_a_refused_step_keeps_what_was_entered_and_says_why_in_french(web, old_lot) -> None:
    _, store, client = web
    laptop, _other, _screen = old_lot
    tech = Browser(client)
    await tech.login("tech")
    response, _ = await tech.post(f"/items/{laptop}/step", {"move": "sorted:refurbish"})
    assert response.status == 200
    before = await snapshot(store)
    response, text = await tech.post(f"/items/{laptop}/step", {"move": "tested", "grade": "B",
                                                               "happened_on": "2023-05-20"})  # fmt: skip
    assert response.status == 422 and await snapshot(store) == before
    assert "Cette date est antérieure à la réception du lot" in text
    assert "la date 20/05/2023 est antérieure à la réception du lot L-2023 (01/06/2023)" in text
    assert "happened_on" not in text.replace('name="happened_on"', "")
    tested = form_of(text, "tested")
    assert '<option value="B" selected>' in tested
    assert '<details class="ws-day" open>' in tested and 'value="2023-05-20"' in tested
    # the other forms start afresh
    assert 'value="2023-05-20"' not in form_of(text, "refurbished") and "open" not in form_of(text, "ready")

    # a system typed before a day in the future is kept too
    tomorrow = (node_today() + timedelta(days=1)).isoformat()
    response, _ = await tech.post(f"/items/{laptop}/step", {"move": "tested"})
    response, text = await tech.post(f"/items/{laptop}/step", {"move": "refurbished", "os": "Linux Mint",
                                                               "happened_on": tomorrow})  # fmt: skip
    assert response.status == 422 and FUTURE in text and "happened_on:" not in text
    refurbished = form_of(text, "refurbished")
    assert 'value="Linux Mint"' in refurbished and f'value="{tomorrow}"' in refurbished
