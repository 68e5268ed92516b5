"""The workshop pages' lists, on a real SQLite file built with the domain functions."""

from __future__ import annotations

import pytest

from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, distribute
from node.domain.donors import DonorInput, create_donor
from node.domain.erasure import ErasureInput, record_erasure
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.workflow import StepInput, record_step, remove_storage
from node.errors import Invalid, NotFound
from node.queries.workshop_lists import (
    OPEN_STATES,
    beneficiary_items,
    count_beneficiaries,
    handout_items,
    last_event,
    lot_choices,
    open_items,
    recent_erasures,
)  # fmt: skip
from node.validation import parse


async def step(tx, ids, state, **fields):
    await record_step(tx, ids, parse(StepInput, {"state": state, **fields}))


@pytest.fixture
async def workshop(store):
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": "Préfecture", "type": "public_body"}))
        lot = await create_lot(tx, parse(LotInput, {"reference": "L1", "donor_id": donor,
                                                    "orientations": ["no_resale"]}))  # fmt: skip
        other = await create_lot(tx, parse(LotInput, {"reference": "L2"}))
        laptops = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop"})] * 4)
        screens = await create_items(tx, other, [parse(ItemInput, {"category": "screen"})] * 2)
        await step(tx, laptops[:2], "sorted", orientation="recycle")
        await step(tx, laptops[2:], "sorted", orientation="refurbish")
        await step(tx, [laptops[3]], "ready")
        await step(tx, [screens[0]], "dismantled")
    return {"lot": lot, "other": other, "laptops": laptops, "screens": screens}


async def test_open_items_leave_out_fates_and_filter(store, workshop):
    laptops, screens = workshop["laptops"], workshop["screens"]
    async with store.reader() as db:
        page = await open_items(db)
        assert page.total == 5 and [i.id for i in page.items] == [screens[1], *reversed(laptops)]
        assert (await open_items(db, state="sorted")).total == 3
        assert (await open_items(db, category="screen")).total == 1
        assert (await open_items(db, lot_id=workshop["lot"])).total == 4
        recycle = await open_items(db, orientation="recycle")
        assert sorted(i.id for i in recycle.items) == laptops[:2]
        assert (await open_items(db, orientation="refurbish")).total == 1  # the other one moved on to ready
        assert (await open_items(db, orientation="recycle", state="ready")).total == 0
        second = await open_items(db, limit=2, offset=2)
        assert [i.id for i in second.items] == [laptops[2], laptops[1]] and second.total == 5
        for bad in ({"state": "distributed"}, {"orientation": "sideways"}, {"limit": 0}, {"offset": -1}):
            with pytest.raises(Invalid):
                await open_items(db, **bad)
    assert "distributed" not in OPEN_STATES and "reserved" in OPEN_STATES


async def test_the_orientation_survives_a_storage_removal(store, workshop):
    item = workshop["laptops"][0]
    async with store.transaction() as tx:
        await remove_storage(tx, [item], destroyed=True)
    async with store.reader() as db:
        assert item in [i.id for i in (await open_items(db, orientation="recycle")).items]
        event = await last_event(db, item)
    assert event.step == "storage_removed" and event.detail == {"destroyed": True}


async def test_erasures_last_recorded_first(store, workshop):
    item = workshop["laptops"][3]
    async with store.transaction() as tx:
        for serial in ("A", "B"):
            await record_erasure(tx, ErasureInput(item_id=item, disk_serial=serial, method="zeros", level="clear",
                                                  tool="nwipe", result="success", time=1_700_000_000_000))  # fmt: skip
        await record_erasure(tx, ErasureInput(disk_serial="C", host_serial="NOPE", method="zeros", level="clear",
                                              tool="nwipe", result="failure"))  # fmt: skip
    async with store.reader() as db:
        rows, total = await recent_erasures(db)
        assert total == 3 and [r.disk_serial for r in rows] == ["C", "B", "A"]
        assert rows[0].asset_tag is None and rows[1].asset_tag == "MLN-000004"
        rows, total = await recent_erasures(db, limit=1, offset=1)
        assert [r.disk_serial for r in rows] == ["B"] and total == 3


async def test_handout_items_say_what_a_handover_checks(store, workshop):
    laptops, screens = workshop["laptops"], workshop["screens"]
    async with store.transaction() as tx:
        await record_erasure(tx, ErasureInput(item_id=laptops[3], method="zeros", level="clear", tool="nwipe",
                                              result="success"))  # fmt: skip
        await record_erasure(tx, ErasureInput(item_id=laptops[2], method="zeros", level="clear", tool="nwipe",
                                              result="failure"))  # fmt: skip
    async with store.reader() as db:
        found = await handout_items(db, [laptops[3], screens[1], laptops[2], laptops[3]])
        assert [i.id for i in found] == [laptops[3], screens[1], laptops[2]]
        assert [i.erasure_required for i in found] == [False, False, True]
        assert found[0].donor_type == "public_body" and found[0].orientations == ("no_resale",)
        assert found[1].donor_type is None and found[1].orientations == () and found[1].lot_reference == "L2"
        with pytest.raises(NotFound, match="99"):
            await handout_items(db, [laptops[0], 99])
        assert await handout_items(db, []) == []


async def test_a_beneficiarys_items_and_the_counts(store, workshop):
    ready = workshop["laptops"][3]
    async with store.transaction() as tx:
        await record_erasure(tx, ErasureInput(item_id=ready, method="zeros", level="clear", tool="nwipe",
                                              result="success"))  # fmt: skip
        first = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "person"}))
        await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "school"}))
        await distribute(tx, [ready], parse(DistributionInput, {"beneficiary_id": first}))
    async with store.reader() as db:
        assert await count_beneficiaries(db) == 2
        [given] = await beneficiary_items(db, first)
        assert (given.item_id, given.asset_tag, given.price_cents, given.state) == (ready, "MLN-000004", 0, "distributed")
        assert await beneficiary_items(db, first + 1) == []
        with pytest.raises(Invalid):
            await beneficiary_items(db, first, limit=0)
        assert [(c.id, c.reference) for c in await lot_choices(db)] == [(workshop["other"], "L2"), (workshop["lot"], "L1")]
        assert await last_event(db, 999) is None


async def test_erasures_are_listed_by_their_own_time_latest_first(store, workshop):
    """An old log imported last is listed below a newer erasure imported first; equal times by id, latest first."""
    item = workshop["laptops"][2]
    times = {"new": 1_800_000_000_000, "old": 1_674_572_160_000, "older": 1_674_565_000_000, "same": 1_800_000_000_000}
    async with store.transaction() as tx:
        for serial in ("new", "older", "old", "same"):
            await record_erasure(tx, ErasureInput(item_id=item, disk_serial=serial, method="zeros", level="clear",
                                                  tool="nwipe", result="success", time=times[serial]))  # fmt: skip
    async with store.reader() as db:
        rows, _total = await recent_erasures(db)
        assert [r.disk_serial for r in rows] == ["same", "new", "old", "older"]
        rows, _total = await recent_erasures(db, limit=2, offset=2)
        assert [r.disk_serial for r in rows] == ["old", "older"]
