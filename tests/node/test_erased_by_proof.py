"""The state "erased" follows from erasure proofs (or storage removed), never from a button;
and an item takes only the steps its category allows (issue 19, points 1 and 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.categories import gets_os, holds_data
from node.config import Config, init_node
from node.domain.erasure import PROOF_STEP, ErasureInput, disk_proofs, proven_erased, record_erasure
from node.domain.importing import run_import
from node.domain.items import ItemInput, create_items, get_item, history
from node.domain.workflow import (
    StepInput,
    allowed_steps,
    correct_event,
    define_step,
    record_step,
    remove_storage,
)
from node.errors import RuleBroken
from node.store.database import Store
from node.validation import parse
from tests.node.conftest import KEY

FIXTURES = Path(__file__).parent / "imports" / "fixtures"


async def make(store, *specs: dict) -> list[int]:
    async with store.transaction() as tx:
        return await create_items(tx, None, [parse(ItemInput, s) for s in specs])


async def state_of(store, item_id: int) -> str:
    async with store.reader() as db:
        return (await get_item(db, item_id)).state


async def events(store) -> int:
    async with store.reader() as db:
        return await db.value("SELECT count(*) FROM events")


def wiped(item_id: int | None, serial: str | None = None, result: str = "success", **extra) -> ErasureInput:
    return parse(ErasureInput, {"item_id": item_id, "disk_serial": serial, "method": "PRNG Stream", "level": "clear",
                                "tool": "nwipe", "result": result, **extra})  # fmt: skip


async def test_erased_cannot_be_recorded_by_hand_and_nothing_changes(store):
    [laptop] = await make(store, {"category": "laptop"})
    async with store.transaction() as tx:
        await record_step(tx, [laptop], StepInput(state="tested"))
    before = await events(store)
    for step in (StepInput(state="erased"), StepInput(state="erased", note="nwipe fait")):
        with pytest.raises(RuleBroken) as info:
            async with store.transaction() as tx:
                await record_step(tx, [laptop], step)
        assert info.value.code == "erasure_proof_required" and "record" in info.value.message
    assert await state_of(store, laptop) == "tested" and await events(store) == before


async def test_an_association_step_cannot_stand_for_erased(store):
    with pytest.raises(RuleBroken) as info:
        async with store.transaction() as tx:
            await define_step(tx, "Passage nwipe", "erased")
    assert info.value.code == "erasure_proof_required"
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM steps") == 0


async def test_a_recorded_erasure_moves_the_item_to_erased(store):
    [laptop] = await make(store, {"category": "laptop", "serial": "PF-1"})
    async with store.transaction() as tx:
        await record_step(tx, [laptop], StepInput(state="tested"))
        await record_erasure(tx, wiped(laptop, "DISK-1", result="failure"))
    assert await state_of(store, laptop) == "tested"  # a failed pass proves nothing
    async with store.transaction() as tx:
        await record_erasure(tx, wiped(laptop, "DISK-1", operator="Awa"))
    async with store.reader() as db:
        last = (await history(db, laptop))[-1]
        assert await proven_erased(db, [laptop]) == {laptop}
    assert last.state == "erased" and last.step == PROOF_STEP and last.detail == {"proof": "erasure"}
    assert last.operator == "Awa"
    # the proof stays: the move it made cannot be undone by a correction
    with pytest.raises(RuleBroken) as info:
        async with store.transaction() as tx:
            await correct_event(tx, last.id, "mistake")
    assert info.value.code == "erasure_proven_final"


async def test_every_disk_the_probe_found_must_be_proven(store):
    [desktop] = await make(store, {"category": "desktop", "serial": "UC-1"})
    async with store.transaction() as tx:
        await tx.run_many("INSERT INTO item_disks (item_id, serial, seen) VALUES (?, ?, 0)",
                          [(desktop, "SSD-A"), (desktop, "HDD-B")])  # fmt: skip
        await record_erasure(tx, wiped(desktop, "SSD-A"))
    async with store.reader() as db:
        proofs = await disk_proofs(db, desktop)
        assert await proven_erased(db, [desktop]) == set()
    assert (proofs.disks, proofs.erased, proofs.unproven) == (2, 1, ("HDD-B",))
    assert await state_of(store, desktop) == "received"
    with pytest.raises(RuleBroken) as info:  # and it may not leave either: the same test
        async with store.transaction() as tx:
            await record_step(tx, [desktop], StepInput(state="recycled"))
    assert info.value.code == "erasure_required"
    async with store.transaction() as tx:
        await record_erasure(tx, wiped(desktop, "hdd-b"))  # serials match whatever their case
    assert await state_of(store, desktop) == "erased"


async def test_an_item_further_on_or_sorted_for_parts_keeps_its_state(store):
    ready, parts = await make(store, {"category": "laptop"}, {"category": "laptop"})
    async with store.transaction() as tx:
        await record_step(tx, [ready], StepInput(state="refurbished", os="Debian"))
        await record_step(tx, [parts], StepInput(state="sorted", orientation="parts"))
        await record_erasure(tx, wiped(ready, "D1"))
        await record_erasure(tx, wiped(parts, "D2"))
    assert await state_of(store, ready) == "refurbished" and await state_of(store, parts) == "sorted"
    async with store.reader() as db:
        assert await proven_erased(db, [ready, parts]) == {ready, parts}


async def test_storage_removed_or_destroyed_counts_as_erased(store):
    taken, destroyed = await make(store, {"category": "laptop"}, {"category": "smartphone"})
    async with store.transaction() as tx:
        await remove_storage(tx, [taken], destroyed=False, operator="Awa")
        await remove_storage(tx, [destroyed], destroyed=True)
    async with store.reader() as db:
        last = (await history(db, taken))[-1]
        assert await proven_erased(db, [taken, destroyed]) == {taken, destroyed}
    assert last.state == "erased" and last.detail == {"proof": "storage_removed"}
    assert await state_of(store, destroyed) == "erased"


async def test_an_nwipe_log_moves_the_item_whose_disk_it_names(store, tmp_path):
    node = init_node(tmp_path / "node", Config(name="Atelier"))
    log = (FIXTURES / "nwipe-secure-erase.log").read_bytes()
    [laptop] = await make(store, {"category": "laptop"})
    from node.imports.nwipe import parse_nwipe

    disks = [d.serial for d in parse_nwipe(log.decode()).disks if d.serial and d.status == "success"]
    assert disks
    async with store.transaction() as tx:
        await tx.run_many("INSERT INTO item_disks (item_id, serial, seen) VALUES (?, ?, 0)", [(laptop, s) for s in disks])
    report = await run_import(node, store, "nwipe", log, "wipe.log")
    assert report.ok and await state_of(store, laptop) == "erased"


async def test_the_erased_count_agrees_with_the_proofs(store):
    items = await make(store, *({"category": "laptop"} for _ in range(4)))
    async with store.transaction() as tx:
        await record_erasure(tx, wiped(items[0], "A"))
        await remove_storage(tx, [items[1]], destroyed=True)
    async with store.reader() as db:
        counted = await db.value("SELECT count(*) FROM items WHERE state = 'erased'")
        proven = await proven_erased(db, items)
    assert counted == len(proven) == 2


# --- steps by category ------------------------------------------------------------------------


def test_which_categories_hold_data_and_get_an_os():
    assert holds_data("laptop", "unknown") and holds_data("multifunction_printer", "unknown")
    assert not holds_data("peripheral", "unknown") and not holds_data("screen", "unknown")
    assert holds_data("screen", "present")  # a disk was found in it: it is erased like any other
    assert not holds_data("laptop", "none")
    assert gets_os("laptop", "unknown") and gets_os("smartphone", "present")
    assert not gets_os("peripheral", "unknown") and not gets_os("screen", "present") and not gets_os("laptop", "none")
    assert "erased" in allowed_steps("laptop", "unknown") and "erased" not in allowed_steps("peripheral", "unknown")


async def test_no_operating_system_on_a_keyboard_and_nothing_moves(store):
    laptop, keyboard = await make(store, {"category": "laptop"}, {"category": "peripheral"})
    before = await events(store)
    with pytest.raises(RuleBroken) as info:
        async with store.transaction() as tx:
            await record_step(tx, [laptop, keyboard], StepInput(state="refurbished", os="Linux Mint"))
    assert info.value.code == "step_not_for_category" and "peripheral" in info.value.message
    assert await events(store) == before and await state_of(store, laptop) == "received"
    async with store.transaction() as tx:  # refurbished without an OS is fine for both
        await record_step(tx, [laptop, keyboard], StepInput(state="refurbished", note="nettoyé"))


async def test_a_keyboard_has_no_disk_to_take_out(store):
    [keyboard] = await make(store, {"category": "peripheral"})
    with pytest.raises(RuleBroken) as info:
        async with store.transaction() as tx:
            await remove_storage(tx, [keyboard], destroyed=True)
    assert info.value.code == "step_not_for_category"
    assert await state_of(store, keyboard) == "received"


# --- databases where a button made items "erased" -----------------------------------------------


async def test_the_migration_takes_back_erased_without_proof(tmp_path):
    path = tmp_path / "old.db"
    store = await Store.open(path, KEY, create=True)
    unproven, proven, removed, later = await make(store, *({"category": "laptop"} for _ in range(4)))
    async with store.transaction() as tx:
        await record_step(tx, [unproven, proven, removed, later], StepInput(state="tested"))
        # what the old "Mark as erased" button wrote: an event, the state, no proof
        for item in (unproven, proven, removed, later):
            await tx.run("INSERT INTO events (item_id, time, state) VALUES (?, 1, 'erased')", (item,))
            await tx.run("UPDATE items SET state = 'erased' WHERE id = ?", (item,))
        await tx.run("INSERT INTO erasures (item_id, method, level, tool, result, time) VALUES"
                     " (?, 'zeros', 'clear', 'nwipe', 'success', 1)", (proven,))  # fmt: skip
        await tx.run("UPDATE items SET storage = 'removed' WHERE id = ?", (removed,))
        await tx.run("INSERT INTO events (item_id, time, state) VALUES (?, 2, 'refurbished')", (later,))
        await tx.run("UPDATE items SET state = 'refurbished' WHERE id = ?", (later,))
        await tx.run("INSERT INTO steps (name, state) VALUES ('Passage nwipe', 'erased')")
        # as a database from before V14 (and V15, which dates events: undone too, so that it applies again)
        await tx.run("DELETE FROM schema_version WHERE version >= 14")
        for undo in ("DROP TRIGGER events_happened", "DROP INDEX events_happened",
                     "ALTER TABLE events DROP COLUMN happened", "ALTER TABLE erasures DROP COLUMN recorded"):
            await tx.run(undo)
    await store.close()
    store = await Store.open(path, KEY, create=True)  # (create: it holds no record of this key yet)
    try:
        assert [await state_of(store, i) for i in (unproven, proven, removed, later)] == \
            ["tested", "erased", "erased", "refurbished"]
        async with store.reader() as db:
            last = (await history(db, unproven))[-1]
            assert await db.value("SELECT count(*) FROM steps") == 0
            assert await db.value("SELECT count(*) FROM items WHERE state = 'erased'") == \
                len(await proven_erased(db, [unproven, proven, removed]))
        assert last.step == "correction" and "erasure record" in last.detail["reason"]
    finally:
        await store.close()
