"""Choosing the items to label: by lot, by a range of asset tags, by creation time, by a list."""

from __future__ import annotations

import pytest

from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.errors import Invalid, NotFound
from node.reports.label_items import label_items, normalise_tag
from node.store.database import now_ms
from node.validation import parse


@pytest.fixture
async def workshop(store):
    """Lot A holds MLN-000001..3, lot B MLN-000004..5; MLN-000006 has no lot."""
    async with store.transaction() as tx:
        a = await create_lot(tx, parse(LotInput, {"reference": "A"}))
        b = await create_lot(tx, parse(LotInput, {"reference": "B"}))
        laptop = parse(ItemInput, {"category": "laptop", "brand": "Dell", "model": "E6440", "serial": "SN1"})
        ids = await create_items(tx, a, [laptop] * 3)
        ids += await create_items(tx, b, [parse(ItemInput, {"category": "screen"})] * 2)
        ids += await create_items(tx, None, [parse(ItemInput, {"category": "tablet"})])
    return store, a, b, ids


def tags(items):
    return [item.asset_tag for item in items]


async def test_by_lot_and_what_a_label_shows(workshop):
    store, a, b, _ids = workshop
    async with store.reader() as db:
        items = await label_items(db, lot_id=a)
        assert tags(items) == ["MLN-000001", "MLN-000002", "MLN-000003"]
        first = items[0]
        assert (first.category, first.brand, first.model, first.serial, first.lot_reference) == (
            "laptop", "Dell", "E6440", "SN1", "A")  # fmt: skip
        assert len(first.gid) == 36
        assert tags(await label_items(db, lot_id=b)) == ["MLN-000004", "MLN-000005"]
        with pytest.raises(NotFound):
            await label_items(db, lot_id=999)


async def test_by_range_of_tags_as_people_type_them(workshop):
    store, *_ = workshop
    async with store.reader() as db:
        assert await normalise_tag(db, " 2 ") == "MLN-000002"
        assert await normalise_tag(db, "mln-4") == "MLN-000004"
        assert await normalise_tag(db, "OLD/17") == "OLD/17"  # not numbered by the node: as typed
        first, last = await normalise_tag(db, "2"), await normalise_tag(db, "mln-000005")
        assert tags(await label_items(db, tag_range=(first, last))) == [f"MLN-00000{n}" for n in range(2, 6)]
        assert tags(await label_items(db, tag_range=("mln-000006", "mln-000006"))) == ["MLN-000006"]
        with pytest.raises(Invalid) as refused:
            await label_items(db, tag_range=("MLN-000005", "MLN-000002"))
        assert refused.value.code == "invalid_range"
        plan = " ".join(str(tuple(r)) for r in await db.all(
            "EXPLAIN QUERY PLAN SELECT id FROM items i WHERE i.asset_tag COLLATE NOCASE BETWEEN 'A' AND 'B'"))
        assert "items_asset_tag" in plan


async def test_by_creation_time_by_list_and_combined(workshop):
    store, a, _b, ids = workshop
    async with store.reader() as db:
        assert len(await label_items(db, created=(0, now_ms() + 1))) == 6
        assert await label_items(db, created=(now_ms() + 1, now_ms() + 2)) == []
        assert tags(await label_items(db, item_ids=[ids[5], ids[0]])) == ["MLN-000001", "MLN-000006"]
        assert tags(await label_items(db, item_ids=ids, lot_id=a, tag_range=("MLN-000002", "MLN-000009"))) == [
            "MLN-000002", "MLN-000003"]  # fmt: skip


async def test_a_choice_is_needed_and_limited(workshop):
    store, a, *_ = workshop
    async with store.reader() as db:
        with pytest.raises(Invalid) as refused:
            await label_items(db)
        assert refused.value.code == "no_selection"
        with pytest.raises(Invalid) as refused:
            await label_items(db, lot_id=a, limit=2)
        assert refused.value.code == "too_many_labels" and "3 items" in refused.value.message
        assert len(await label_items(db, lot_id=a, limit=3)) == 3
