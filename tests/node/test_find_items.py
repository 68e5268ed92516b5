"""find_items against a plain Python reading of the same items: every page and count of the
item list and its search, whatever the indexes and the query plan SQLite chooses."""

from __future__ import annotations

import itertools
import random

import pytest

from node.donors import DonorInput, create_donor
from node.items import ItemInput, create_items, find_items, get_item
from node.lots import LotInput, create_lot

STATES = ("received", "sorted", "ready", "distributed")
CATEGORIES = ("laptop", "desktop", "screen")
MODELS = (None, "Latitude 5490", "Latitude E7470", "latitude 7480", "LA_T 1", "LAX 2", "OptiPlex 7040",
          "50% off")  # fmt: skip


async def make_items(store) -> list[dict]:
    """About 300 items over two donors' lots and no lot, with models sharing prefixes, serials
    and donor asset numbers that look like models or tags, and states set as a workshop would."""
    rng = random.Random(7)
    async with store.transaction() as tx:
        donors = [await create_donor(tx, DonorInput(name=f"D{n}", type="company")) for n in range(2)]
        lots = [await create_lot(tx, LotInput(reference=f"L-{n}", donor_id=donors[n % 2])) for n in range(4)]
        ids = []
        for n in range(300):
            lot = rng.choice([*lots, None])
            serial = rng.choice([None, f"SN-{n}", "Latitude 9", "MLN-000007"])
            asset = rng.choice([None, None, f"INV-{n}", "lat"])
            item = ItemInput(category=rng.choice(CATEGORIES), model=rng.choice(MODELS), serial=serial,
                             donor_asset=asset)  # fmt: skip
            (item_id,) = await create_items(tx, lot, [item])
            ids.append(item_id)
            # The state as the workshop's steps leave it (the steps themselves are tested elsewhere).
            await tx.run("UPDATE items SET state = ? WHERE id = ?", (rng.choice(STATES), item_id))
    async with store.reader() as db:
        items = [await get_item(db, i) for i in ids]
    donor_of = {lot: donors[n % 2] for n, lot in enumerate(lots)}
    return [{"item": i, "donor_id": donor_of.get(i.lot_id)} for i in items]


def expected(rows: list[dict], query=None, state=None, category=None, lot_id=None, donor_id=None) -> list:
    """Ids newest first: exact serial, asset tag or donor asset number, or the model's start, any case."""
    q = (query or "").strip().casefold()
    found = []
    for row in rows:
        item = row["item"]
        if q and not (
            q in {(v or "").casefold() for v in (item.serial, item.asset_tag, item.donor_asset)}
            or (item.model or "").casefold().startswith(q)
        ):
            continue
        if state and item.state != state or category and item.category != category:
            continue
        if lot_id and item.lot_id != lot_id or donor_id and row["donor_id"] != donor_id:
            continue
        found.append(item.id)
    return sorted(found, reverse=True)


QUERIES = (None, "lat", "Latitude", "LA_T", "la_", "50%", "%", "mln-000007", "SN-12", "inv-3", "lat ", "zzz")
FILTERS = ({}, {"state": "ready"}, {"category": "laptop"}, {"state": "sorted", "category": "screen"},
           {"lot_id": 2}, {"donor_id": 1}, {"donor_id": 2, "state": "ready"},
           {"lot_id": 3, "category": "desktop"})  # fmt: skip


async def test_every_search_and_filter_pages_and_counts_as_python_says(store):
    rows = await make_items(store)
    async with store.reader() as db:
        for query, filters in itertools.product(QUERIES, FILTERS):
            want = expected(rows, query, **filters)
            for limit, offset in ((50, 0), (7, 0), (7, 14), (10, len(want) - 3), (10, len(want) + 20)):
                if offset < 0:
                    continue
                page = await find_items(db, query=query, limit=limit, offset=offset, **filters)
                assert [i.id for i in page.items] == want[offset : offset + limit], (query, filters, offset)
                assert page.total == len(want), (query, filters, offset)
                assert (page.limit, page.offset) == (limit, offset)


async def test_a_page_holds_whole_items_with_their_lot(store):
    rows = await make_items(store)
    async with store.reader() as db:
        page = await find_items(db, limit=500)
        assert page.items == sorted((r["item"] for r in rows), key=lambda i: -i.id)
        assert all(i.lot_reference == (f"L-{i.lot_id - 1}" if i.lot_id else None) for i in page.items)


@pytest.mark.parametrize("text", ["%", "_", "\\", "a%b", "\\%"])
async def test_wildcards_typed_in_a_search_are_plain_characters(store, text):
    async with store.transaction() as tx:
        items = [ItemInput(category="laptop", model=f"{text}x"), ItemInput(category="laptop", model="abc")]
        literal, _other = await create_items(tx, None, items)
    async with store.reader() as db:
        page = await find_items(db, query=text)
    assert [i.id for i in page.items] == [literal] and page.total == 1


class Recorder:
    """A reader that keeps the statements find_items sends, and finds nothing."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def all(self, sql, params):
        self.sent.append((sql, params))
        return []

    async def value(self, sql, params):
        self.sent.append((sql, params))
        return 0


async def test_a_search_with_filters_stays_on_the_search_indexes(store):
    """A filter's own index looks more selective to SQLite than the search's; taking it read every
    item in that state (6 ms at 100 000 items). The model's index holds the filters (migration V5)."""
    recorder = Recorder()
    await find_items(recorder, query="Lat", state="ready", category="laptop", donor_id=1)  # type: ignore[arg-type]
    sql, params = recorder.sent[0]
    async with store.reader() as db:
        plan = " / ".join(row[3] for row in await db.all("EXPLAIN QUERY PLAN " + sql, params))
    assert "COVERING INDEX items_model_filters" in plan, plan
    for index in ("items_serial", "items_asset_tag", "items_donor_asset"):
        assert f"INDEX {index} " in plan, plan
    assert "items_state" not in plan and "items_category" not in plan and "items_lot" not in plan, plan


async def test_the_list_skips_to_its_page_on_the_ids_alone(store):
    """An OFFSET over the table read 13 times the pages of items_newest (V6): at page 200 of
    100 000 items, they no longer fit SQLite's page cache beside the count."""
    recorder = Recorder()
    await find_items(recorder, offset=9950)  # type: ignore[arg-type]
    sql, params = recorder.sent[0]
    async with store.reader() as db:
        plan = " / ".join(row[3] for row in await db.all("EXPLAIN QUERY PLAN " + sql, params))
    assert plan.count("COVERING INDEX items_newest") == 2, plan  # the page's ids and the count
