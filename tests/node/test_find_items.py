"""find_items against a plain Python reading of the same items: every page and count of the
item list and its search, whatever the indexes and the query plan SQLite chooses."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata

import pytest

from node.domain.donors import DonorInput, create_donor, update_donor
from node.domain.items import ItemEdit, ItemInput, create_items, edit_item, find_items, get_item
from node.domain.lots import LotInput, create_lot
from node.store.search import CATEGORY_WORDS

STATES = ("received", "sorted", "ready", "distributed")
CATEGORIES = ("laptop", "desktop", "screen")
MODELS = (None, "Latitude 5490", "Latitude E7470", "latitude 7480", "LA_T 1", "LAX 2", "OptiPlex 7040",
          "50% off", "ThinkPad T480", "Écran 22\"")  # fmt: skip
BRANDS = (None, "Dell", "Lenovo", "HP", "Hewlett-Packard", "Iiyama")
DONORS = ("Préfecture d'Ille-et-Vilaine", "Crédit Agricole")


async def make_items(store) -> list[dict]:
    """About 300 items over two donors' lots and no lot, with models sharing prefixes, serials
    and donor asset numbers that look like models or tags, and states set as a workshop would."""
    rng = random.Random(7)
    async with store.transaction() as tx:
        donors = [await create_donor(tx, DonorInput(name=DONORS[n], type="company")) for n in range(2)]
        lots = [await create_lot(tx, LotInput(reference=f"L-{n}", donor_id=donors[n % 2])) for n in range(4)]
        ids = []
        for n in range(300):
            lot = rng.choice([*lots, None])
            serial = rng.choice([None, f"SN-{n}", "Latitude 9", "MLN-000007", f"5CG{n:04d}XYZ"])
            asset = rng.choice([None, None, f"INV-{n}", "lat"])
            item = ItemInput(category=rng.choice(CATEGORIES), model=rng.choice(MODELS), serial=serial,
                             donor_asset=asset, brand=rng.choice(BRANDS))  # fmt: skip
            (item_id,) = await create_items(tx, lot, [item])
            ids.append(item_id)
            # The state as the workshop's steps leave it (the steps themselves are tested elsewhere).
            await tx.run("UPDATE items SET state = ? WHERE id = ?", (rng.choice(STATES), item_id))
    async with store.reader() as db:
        items = [await get_item(db, i) for i in ids]
    donor_of = {lot: (donors[n % 2], DONORS[n % 2]) for n, lot in enumerate(lots)}
    return [{"item": i, "donor_id": donor_of.get(i.lot_id, (None, None))[0],
             "donor": donor_of.get(i.lot_id, (None, None))[1]} for i in items]  # fmt: skip


def plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def words(text: str | None) -> list[str]:
    return re.findall(r"[a-z0-9]+", plain(text or ""))


def found_by(row: dict, query: str) -> bool:
    """Every word of the query starts a word of the item's description, or is in a word of its identifiers."""
    item = row["item"]
    described = [w for t in (item.brand, item.model, row["donor"], CATEGORY_WORDS[item.category]) for w in words(t)]
    identifiers = [w for t in (item.asset_tag, item.serial, item.donor_asset, item.lot_reference) for w in words(t)]
    return all(any(w.startswith(q) for w in described) or any(q in w for w in identifiers) for q in words(query))


def expected(rows: list[dict], query=None, state=None, category=None, lot_id=None, donor_id=None) -> list:
    """Ids newest first."""
    found = []
    for row in rows:
        item = row["item"]
        if query and query.strip() and not (words(query) and found_by(row, query)):
            continue
        if state and item.state != state or category and item.category != category:
            continue
        if lot_id and item.lot_id != lot_id or donor_id and row["donor_id"] != donor_id:
            continue
        found.append(item.id)
    return sorted(found, reverse=True)


QUERIES = (None, "lat", "Latitude", "LA_T", "la_", "50%", "%", "mln-000007", "SN-12", "inv-3", "lat ", "zzz",
           "Dell", "lenovo thinkpad", "T480", "portable", "ecran", "Écran", "7xyz", "000007", "hp", "pa", "h",
           "préfecture", "prefecture lat", "L-2", "agricole hp", "  ", "x\"")  # fmt: skip
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


@pytest.mark.parametrize("text", ["%", "_", "\\", "*", '"', "-", "(", "^", "NEAR(", "a OR", "NOT", "a:b"])
async def test_signs_and_operators_typed_in_a_search_are_neither_wildcards_nor_operators(store, text):
    async with store.transaction() as tx:
        items = [ItemInput(category="screen", model=f"{text}x"), ItemInput(category="screen", model="abc near or")]
        await create_items(tx, None, items)
    async with store.reader() as db:
        page = await find_items(db, query=text)
    models = {"%": [], "_": [], "\\": [], "*": [], '"': [], "-": [], "(": [], "^": [],  # no word: nothing
              "NEAR(": ["abc near or", "NEAR(x"], "a OR": ["abc near or", "a ORx"], "NOT": ["NOTx"], "a:b": ["a:bx"]}
    assert [i.model for i in page.items] == models[text] and page.total == len(models[text])


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


async def test_a_search_reads_the_full_text_index(store):
    """The words are looked up in items_search (FTS5, trigrams), whose ids come newest first."""
    recorder = Recorder()
    await find_items(recorder, query="Lat", state="ready", category="laptop", donor_id=1)  # type: ignore[arg-type]
    sql, params = recorder.sent[0]
    async with store.reader() as db:
        plan = " / ".join(row[3] for row in await db.all("EXPLAIN QUERY PLAN " + sql, params))
    assert "VIRTUAL TABLE INDEX" in plan and "items_search" in plan, plan
    assert not re.search(r"SCAN (i|items)( |$)", plan), plan  # never every item read


async def test_the_index_follows_every_change_of_an_item_its_lot_and_its_donor(store):
    """The triggers keep items_search in the transaction that changes what it is made of."""
    async with store.transaction() as tx:
        donor = await create_donor(tx, DonorInput(name="Mairie", type="public_body"))
        lot = await create_lot(tx, LotInput(reference="DON-1", donor_id=donor))
        (item,) = await create_items(tx, lot, [ItemInput(category="laptop", brand="Dell", serial="AAA111")])

    async def ids(query: str) -> list[int]:
        async with store.reader() as db:
            return [i.id for i in (await find_items(db, query=query)).items]

    assert await ids("mairie dell portable don-1 aaa1") == [item]
    async with store.transaction() as tx:
        await edit_item(tx, item, ItemEdit(category="laptop", brand="Lenovo", serial="BBB222"))
        await update_donor(tx, donor, DonorInput(name="Conseil départemental", type="public_body"))
        await tx.run("UPDATE lots SET reference = 'DON-2' WHERE id = ?", (lot,))
    assert await ids("dell") == [] and await ids("aaa1") == [] and await ids("mairie") == []
    assert await ids("lenovo bbb2 departemental don-2") == [item]
    async with store.transaction() as tx:
        await tx.run("DELETE FROM events WHERE item_id = ?", (item,))
        await tx.run("DELETE FROM items WHERE id = ?", (item,))
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM items_search") == 0


async def test_the_list_skips_to_its_page_on_the_ids_alone(store):
    """An OFFSET over the table read 13 times the pages of items_newest (V6): at page 200 of
    100 000 items, they no longer fit SQLite's page cache beside the count."""
    recorder = Recorder()
    await find_items(recorder, offset=9950)  # type: ignore[arg-type]
    sql, params = recorder.sent[0]
    async with store.reader() as db:
        plan = " / ".join(row[3] for row in await db.all("EXPLAIN QUERY PLAN " + sql, params))
    assert plan.count("COVERING INDEX items_newest") == 2, plan  # the page's ids and the count
