"""The reuse domain on a real SQLite file: every rule, and bad input that changes nothing."""

from __future__ import annotations

import pytest

from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary, erase_expired, get_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, recycle
from node.domain.donors import DonorInput, create_donor, get_donor
from node.domain.erasure import ErasureInput, attach_orphans, erasures_of, orphan_disks, record_erasure
from node.domain.items import ItemInput, create_items, find_items, get_item, history, item_id_by_tag
from node.domain.lots import LotInput, Reception, create_lot, get_lot, receive_lot
from node.domain.workflow import (
    StepInput,
    correct_event,
    define_step,
    fit_component,
    harvest_component,
    record_step,
    remove_storage,
)  # fmt: skip
from node.errors import Invalid, NotFound, RuleBroken
from node.validation import parse
from protocol.records import open_envelope


async def setup_lot(store, *, donor_type="public_body", orientations=(), items=None):
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": "Préfecture", "type": donor_type}))
        lot = await create_lot(tx, parse(LotInput, {"reference": "L-1", "donor_id": donor, "declared_units": 4,
                                                    "declared_weight_g": 10_000, "orientations": list(orientations)}))  # fmt: skip
        specs = items or [{"category": "laptop", "serial": "SN-A"}, {"category": "screen"},
                          {"category": "desktop", "storage_gb": 500}, {"category": "tablet"}]  # fmt: skip
        ids = await create_items(tx, lot, [parse(ItemInput, s) for s in specs])
        person = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "person", "name": "M. Y"}))
        school = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "school"}))
    return lot, ids, person, school


async def step(store, ids, **fields):
    async with store.transaction() as tx:
        return await record_step(tx, ids, parse(StepInput, fields))


async def make_ready(store, ids):
    await step(store, ids, state="sorted", orientation="refurbish")
    await step(store, ids, state="ready")


async def erase(store, serial):
    async with store.transaction() as tx:
        return await record_erasure(tx, parse(ErasureInput, {"host_serial": serial, "method": "PRNG Stream",
                                                             "level": "clear", "tool": "nwipe", "result": "success"}))  # fmt: skip


async def count(store, table):
    async with store.reader() as db:
        return await db.value(f"SELECT count(*) FROM {table}")


@pytest.mark.parametrize(
    "data",
    [{"name": "", "type": "company"}, {"name": "X", "type": "bank"}, {"name": "X", "type": "company", "siret": "123"},
     {"name": "X", "type": "company", "colour": "red"}, {"name": "X", "type": "company", "contact_email": "no-at"}],
)  # fmt: skip
def test_donor_input_is_checked(data):
    with pytest.raises(Invalid):
        parse(DonorInput, data)


async def test_lot_rules(store):
    lot, ids, *_ = await setup_lot(store)
    async with store.transaction() as tx:
        await receive_lot(tx, lot, parse(Reception, {"counted_units": 3, "weighed_g": 9_000}))
    async with store.reader() as db:
        got = await get_lot(db, lot)
    assert (got.items, got.status, got.unit_gap, got.weight_gap_g) == (4, "in_progress", -1, -1000)
    with pytest.raises(RuleBroken, match="already exists"):
        async with store.transaction() as tx:
            await create_lot(tx, parse(LotInput, {"reference": "L-1"}))
    with pytest.raises(NotFound):
        async with store.transaction() as tx:
            await create_lot(tx, parse(LotInput, {"reference": "L-2", "donor_id": 99}))
    assert await count(store, "lots") == 1


async def test_items_get_defaults_tags_and_are_found(store):
    _, ids, *_ = await setup_lot(store)
    async with store.reader() as db:
        laptop = await get_item(db, ids[0])
        desktop = await get_item(db, ids[2])
        assert laptop.weight_g == 2200 and laptop.asset_tag == "MLN-000001" and laptop.state == "received"
        assert desktop.storage == "present"
        assert len(laptop.gid) == 36 and laptop.gid[14] == "7"  # UUIDv7
        assert (await find_items(db, query="sn-a")).items[0].id == ids[0]
        assert (await find_items(db, query="MLN-000002")).items[0].id == ids[1]
        assert (await find_items(db, category="screen")).total == 1
        assert await item_id_by_tag(db, laptop.gid) == ids[0]
        with pytest.raises(Invalid):
            await find_items(db, state="lost")


async def test_transitions_and_sorting(store):
    _, ids, *_ = await setup_lot(store)
    with pytest.raises(Invalid, match="orientation"):
        await step(store, ids, state="sorted")
    with pytest.raises(RuleBroken, match="reserved"):
        await step(store, ids[:1], state="reserved")
    await make_ready(store, ids[:1])
    await step(store, ids[:1], state="reserved")
    async with store.reader() as db:
        assert [e.state for e in await history(db, ids[0])] == ["received", "sorted", "ready", "reserved"]
        assert (await history(db, ids[0]))[1].detail == {"orientation": "refurbish"}


async def test_a_batch_moves_all_or_nothing(store):
    _, ids, *_ = await setup_lot(store)
    await make_ready(store, ids[:1])
    with pytest.raises(RuleBroken):
        await step(store, ids[:2], state="reserved")  # the second is not ready
    async with store.reader() as db:
        assert (await get_item(db, ids[0])).state == "ready"
    assert await count(store, "events") == 4 + 2


async def test_association_step_names(store):
    _, ids, *_ = await setup_lot(store)
    async with store.transaction() as tx:
        await define_step(tx, "Passage au banc de test", "tested")
    await step(store, ids[:1], step="Passage au banc de test", grade="B")
    async with store.reader() as db:
        item = await get_item(db, ids[0])
        assert (item.state, item.grade) == ("tested", "B")
    with pytest.raises(NotFound):
        await step(store, ids[:1], step="Inconnu")


async def test_no_item_with_storage_leaves_without_erasure(store):
    _, ids, person, _ = await setup_lot(store)
    await make_ready(store, ids)
    with pytest.raises(RuleBroken) as info:
        async with store.transaction() as tx:
            await distribute(tx, [ids[0]], parse(DistributionInput, {"beneficiary_id": person}))
    assert info.value.code == "erasure_required"
    assert await count(store, "distributions") == 0
    # A screen holds no data; the laptop gets its erasure; the desktop its disk removed.
    await erase(store, "SN-A")
    async with store.transaction() as tx:
        await remove_storage(tx, [ids[2]], destroyed=True)
        await distribute(tx, ids[:3], parse(DistributionInput, {"beneficiary_id": person}))
    async with store.reader() as db:
        assert [(await get_item(db, i)).state for i in ids] == ["distributed"] * 3 + ["ready"]


async def test_no_item_with_storage_goes_to_recycling_without_erasure(store):
    _, ids, *_ = await setup_lot(store)  # laptop SN-A, screen, desktop with a disk, tablet
    await step(store, ids, state="sorted", orientation="recycle")
    ecologic = {"recipient": "Ecologic", "waste_code": "16 02 14", "treatment": "R4"}
    with pytest.raises(RuleBroken) as info:
        async with store.transaction() as tx:
            await recycle(tx, parse(OutflowInput, {"item_ids": ids, **ecologic}))
    assert info.value.code == "erasure_required" and "send to recycling" in info.value.message
    assert await count(store, "outflows") == 0
    # the laptop's disk is wiped, the desktop's and the tablet's destroyed: all four may go
    await erase(store, "SN-A")
    async with store.transaction() as tx:
        await remove_storage(tx, [ids[2], ids[3]], destroyed=True)
        await recycle(tx, parse(OutflowInput, {"item_ids": ids, **ecologic}))
    async with store.reader() as db:
        assert [(await get_item(db, i)).state for i in ids] == ["recycled"] * 4


async def test_failed_erasure_does_not_count(store):
    _, ids, person, _ = await setup_lot(store)
    await make_ready(store, ids[:1])
    async with store.transaction() as tx:
        await record_erasure(tx, parse(ErasureInput, {"item_id": ids[0], "method": "DoD", "level": "clear",
                                                      "tool": "nwipe", "result": "failure"}))  # fmt: skip
    with pytest.raises(RuleBroken):
        async with store.transaction() as tx:
            await distribute(tx, ids[:1], parse(DistributionInput, {"beneficiary_id": person}))


@pytest.mark.parametrize(
    ("donor_type", "orientations", "price", "beneficiary", "allowed"),
    [
        ("company", (), 18000, "person", True),
        ("company", (), 18001, "person", False),  # above the 180 € laptop cap
        ("company", ("no_resale",), 100, "person", False),
        ("company", ("no_resale",), 0, "person", True),
        ("public_body", (), 5000, "school", False),  # 3DS: resale only to people or associations
        ("public_body", (), 0, "school", True),
        ("company", (), 5000, "school", True),
    ],
)
async def test_prix_solidaire(store, donor_type, orientations, price, beneficiary, allowed):
    _, ids, person, school = await setup_lot(store, donor_type=donor_type, orientations=orientations,
                                             items=[{"category": "laptop", "storage": "none"}])  # fmt: skip
    await make_ready(store, ids)
    request = {"beneficiary_id": person if beneficiary == "person" else school, "price_cents": price}
    if allowed:
        async with store.transaction() as tx:
            await distribute(tx, ids, parse(DistributionInput, request))
        return
    with pytest.raises(RuleBroken) as info:
        async with store.transaction() as tx:
            await distribute(tx, ids, parse(DistributionInput, request))
    assert info.value.code == "price_refused"
    with pytest.raises(RuleBroken):  # a technician cannot override
        async with store.transaction() as tx:
            await distribute(tx, ids, parse(DistributionInput, request | {"override_reason": "accord du donateur"}))
    async with store.transaction() as tx:  # an admin can, with a reason kept
        await distribute(tx, ids, parse(DistributionInput, request | {"override_reason": "accord du donateur"}),
                         is_admin=True)  # fmt: skip
    async with store.reader() as db:
        assert await db.value("SELECT override_reason FROM distributions") == "accord du donateur"


async def test_fates_are_signed_into_the_log_privately(store):
    _, ids, person, _ = await setup_lot(store, items=[{"category": "screen"}, {"category": "screen"}])
    await make_ready(store, ids)
    async with store.transaction() as tx:
        await distribute(tx, ids, parse(DistributionInput, {"beneficiary_id": person}))
    async with store.reader() as db:
        row = await db.one("SELECT envelope, content FROM log_records WHERE kind = 'item.fates/2'")
        gids = [(await get_item(db, i)).gid for i in ids]
    record = open_envelope(row["envelope"]).with_content(row["content"])
    assert record.header.audience == (store.key.public.raw,)
    fates = record.body().fates
    assert [(f.gid, f.outcome, f.beneficiary_category) for f in fates] == [(g, "distributed", "person") for g in gids]


async def test_correction_restores_the_previous_state(store):
    _, ids, person, _ = await setup_lot(store, items=[{"category": "screen"}])
    await make_ready(store, ids)
    async with store.transaction() as tx:
        [event] = await distribute(tx, ids, parse(DistributionInput, {"beneficiary_id": person}))
    with pytest.raises(Invalid):
        async with store.transaction() as tx:
            await correct_event(tx, event, " ")
    async with store.transaction() as tx:
        await correct_event(tx, event, "wrong item scanned")
    async with store.reader() as db:
        assert (await get_item(db, ids[0])).state == "ready"
        events = await history(db, ids[0])
    assert events[-1].corrects == event and events[-1].detail == {"reason": "wrong item scanned"}
    with pytest.raises(RuleBroken, match="last event"):
        async with store.transaction() as tx:
            await correct_event(tx, event, "again")


async def test_recycling_outflow(store):
    _, ids, *_ = await setup_lot(store, items=[{"category": "screen", "weight_g": 5000}, {"category": "printer"}])
    await step(store, ids, state="sorted", orientation="recycle")
    async with store.transaction() as tx:
        outflow = await recycle(tx, parse(OutflowInput, {"item_ids": ids, "recipient": "Ecologic",
                                                         "waste_code": "16 02 14", "treatment": "R4"}))  # fmt: skip
        loose = await recycle(tx, parse(OutflowInput, {"recipient": "Ecologic", "waste_code": "16 02 16",
                                                       "treatment": "R4", "weight_g": 12_500, "on": "2026-03-02"}))  # fmt: skip
    async with store.reader() as db:
        assert await db.value("SELECT weight_g FROM outflows WHERE id = ?", (outflow,)) == 5000 + 8000
        assert await db.value("SELECT count(*) FROM outflow_items WHERE outflow_id = ?", (outflow,)) == 2
        assert await db.value("SELECT time FROM outflows WHERE id = ?", (loose,)) == 1772452800000
    with pytest.raises(Invalid):
        parse(OutflowInput, {"recipient": "X", "waste_code": "1602", "treatment": "R4", "weight_g": 1})
    with pytest.raises(Invalid, match="weight"):
        async with store.transaction() as tx:
            await recycle(tx, parse(OutflowInput, {"recipient": "X", "waste_code": "16 02 14", "treatment": "R4"}))


async def test_beneficiary_details_are_erased_after_retention(store):
    async with store.transaction() as tx:
        kept = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "person", "name": "Mme Z",
                                                                     "contact": "06 00 00 00 00"}))  # fmt: skip
    async with store.reader() as db:
        before = await get_beneficiary(db, kept)
    assert before.code == f"B-{kept:06d}" and before.name == "Mme Z"
    async with store.transaction() as tx:
        assert await erase_expired(tx, now=before.erase_after - 1) == 0
        assert await erase_expired(tx, now=before.erase_after) == 1
    async with store.reader() as db:
        after = await get_beneficiary(db, kept)
    assert (after.name, after.contact, after.code, after.category) == (None, None, before.code, "person")


async def test_orphan_disks_and_components(store):
    async with store.transaction() as tx:
        await record_erasure(tx, parse(ErasureInput, {"host_serial": "LATER-1", "disk_serial": "D1", "method": "DoD",
                                                      "level": "clear", "tool": "nwipe", "result": "success"}))  # fmt: skip
    async with store.reader() as db:
        assert len(await orphan_disks(db)) == 1
    _, ids, *_ = await setup_lot(store, items=[{"category": "laptop", "serial": "LATER-1"}, {"category": "laptop"}])
    async with store.transaction() as tx:
        assert await attach_orphans(tx, ids[0]) == 1
        part = await harvest_component(tx, ids[0], "RAM 8 Go DDR4")
        await fit_component(tx, part, ids[1])
        with pytest.raises(RuleBroken):
            await fit_component(tx, part, ids[1])
    async with store.reader() as db:
        assert [e.disk_serial for e in await erasures_of(db, ids[0])] == ["D1"]
        assert await orphan_disks(db) == []


async def test_unknown_things_are_not_found_and_change_nothing(store):
    with pytest.raises(NotFound):
        async with store.transaction() as tx:
            await create_items(tx, 42, [parse(ItemInput, {"category": "laptop"})])
    with pytest.raises(NotFound):
        async with store.transaction() as tx:
            await record_step(tx, [1, 2], parse(StepInput, {"state": "tested"}))
    with pytest.raises(NotFound):
        async with store.reader() as db:
            await get_donor(db, 1)
    assert await count(store, "items") == 0 and await count(store, "events") == 0


async def test_a_storage_removal_cannot_be_undone(store):
    _, ids, *_ = await setup_lot(store, items=[{"category": "laptop"}])
    async with store.transaction() as tx:
        await record_step(tx, ids, StepInput(state="sorted", orientation="parts"))  # stays sorted: not "erased"
        await remove_storage(tx, ids, destroyed=False)
    async with store.reader() as db:
        last = (await history(db, ids[0]))[-1]
    with pytest.raises(RuleBroken) as info:
        async with store.transaction() as tx:
            await correct_event(tx, last.id, "mistake")
    assert info.value.code == "storage_removal_final"
