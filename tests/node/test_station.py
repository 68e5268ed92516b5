"""The workshop station: a probe's machine becomes an item, matched by system serial then disk serials,
graded from the association's thresholds; nwipe logs for its disks attach to it; the bench says what is missing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from node.domain.grading import DEFAULT_THRESHOLDS, suggest_grade, thresholds_problem
from node.domain.importing import ImportReport, apply_nwipe
from node.domain.items import get_item
from node.domain.settings import set_setting
from node.domain.station import LeftItem, record_probe
from node.domain.workflow import StepInput, record_step
from node.errors import Invalid, NotFound
from node.imports import parse_nwipe
from node.imports.probe import describe_machine
from node.queries.bench import bench_machines

FIXTURES = Path(__file__).parent / "imports" / "fixtures"
STATION = FIXTURES / "station"
SHA = hashlib.sha256(b"bundle").hexdigest()


def machine(name: str):
    return describe_machine({p.name: p.read_bytes() for p in (STATION / name).iterdir()})


async def probe(store, found, station="poste-1"):
    async with store.transaction() as tx:
        return await record_probe(tx, found, station=station, sha256=SHA)


async def test_a_new_machine_becomes_an_item_with_its_description_and_a_suggested_grade(store):
    result = await probe(store, machine("dell-latitude-5490"))
    assert result.created and result.matched_by is None and result.asset_tag == "MLN-000001"
    async with store.reader() as db:
        item = await get_item(db, result.item_id)
        disks = await db.all("SELECT serial, power_on_hours, passed FROM item_disks")
    assert (item.category, item.brand, item.model, item.serial, item.ram_mb, item.storage, item.storage_gb,
            item.storage_type, item.battery_pct, item.screen_in10) == (
        "laptop", "Dell Inc.", "Latitude 5490", "7XK2QK2", 8192, "present", 256, "ssd", 72, 140)  # fmt: skip
    # battery 72 % → B under the default thresholds; RAM 8 GB → A; 11 873 hours → A
    assert item.grade == result.grade == "B"
    assert [tuple(r) for r in disks] == [("S3TANX0K312456", 11873, 1)]


async def test_a_second_probe_updates_the_same_item_by_serial_then_by_disk_serial(store):
    first = await probe(store, machine("lenovo-thinkpad-t480"))
    again = await probe(store, machine("lenovo-thinkpad-t480"))
    assert (again.item_id, again.created, again.matched_by) == (first.item_id, False, "serial")
    # The motherboard was replaced: no serial any more, but its disk is known.
    no_serial = replace(machine("lenovo-thinkpad-t480"), serial=None)
    third = await probe(store, no_serial)
    assert (third.item_id, third.matched_by) == (first.item_id, "disk_serial")
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM items") == 1
        assert await db.value("SELECT count(*) FROM probes WHERE item_id = ?", (first.item_id,)) == 3


async def test_a_disk_moved_into_another_machine_follows_that_machine(store):
    donor = await probe(store, machine("dell-optiplex-7050"))
    found = machine("hp-prodesk-600-g3")
    moved = replace(found, disks=[machine("dell-optiplex-7050").disks[0]])
    other = await probe(store, moved)
    assert other.created and other.item_id != donor.item_id
    async with store.reader() as db:
        held = await db.all("SELECT item_id, serial FROM item_disks")
        assert [tuple(r) for r in held] == [(other.item_id, "ZA4GR8QX")]
        assert (await get_item(db, donor.item_id)).serial == "9GTR4L2"


async def test_a_dead_battery_is_recorded_as_zero(store):
    dead = await probe(store, replace(machine("hp-elitebook-840-g5"), battery_pct=0))
    async with store.reader() as db:
        assert (await get_item(db, dead.item_id)).battery_pct == 0


async def test_a_grade_given_by_hand_is_kept(store):
    first = await probe(store, machine("hp-elitebook-840-g5"))
    assert first.grade == "D"  # battery at 38 %
    async with store.transaction() as tx:
        await tx.run("UPDATE items SET grade = 'B' WHERE id = ?", (first.item_id,))
    await probe(store, machine("hp-elitebook-840-g5"))
    async with store.reader() as db:
        assert (await get_item(db, first.item_id)).grade == "B"


async def test_the_probe_may_name_the_item_and_an_unknown_tag_changes_nothing(store):
    first = await probe(store, machine("dell-optiplex-7050"))
    named = await probe(store, replace(machine("hp-prodesk-600-g3"), item_tag=first.asset_tag))
    assert (named.item_id, named.matched_by) == (first.item_id, "item_tag")
    with pytest.raises(NotFound):
        await probe(store, replace(machine("hp-prodesk-600-g3"), item_tag="MLN-999999"))
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM probes") == 2


async def test_grades_follow_the_thresholds_the_association_sets(store):
    thinkcentre = machine("lenovo-thinkcentre-m710q")
    assert suggest_grade(thinkcentre, DEFAULT_THRESHOLDS)[0] == "C"  # reallocated sectors
    prodesk = machine("hp-prodesk-600-g3")
    grade, reasons = suggest_grade(prodesk, DEFAULT_THRESHOLDS)
    assert grade == "D" and {r.criterion for r in reasons} == {"ram", "disk_hours", "disk_sectors", "disk_failed"}
    strict = {**DEFAULT_THRESHOLDS, "battery_a": 95, "battery_b": 90, "battery_c": 80}
    async with store.transaction() as tx:
        await set_setting(tx, "grade_thresholds", json.dumps(strict))
    assert (await probe(store, machine("dell-latitude-5490"))).grade == "D"  # 72 % < 80 %
    with pytest.raises(Invalid):
        async with store.transaction() as tx:
            await set_setting(tx, "grade_thresholds", json.dumps({**DEFAULT_THRESHOLDS, "battery_b": 90}))
    assert thresholds_problem("[]") and thresholds_problem('{"battery_a": 1}')


async def test_an_nwipe_log_attaches_by_disk_serial_whichever_comes_first(store):
    log = parse_nwipe((FIXTURES / "nwipe-shredos-example.log").read_text())
    found = machine("dell-optiplex-7050")
    disks = [replace(found.disks[0], serial="WD-WXC1A14S2591"), replace(found.disks[0], serial="NS8BN06381120BD03",
                                                                        device="/dev/nvme0n1")]  # fmt: skip
    # The log first (its system serial names no item: orphan disks), then the probe.
    async with store.transaction() as tx:
        await apply_nwipe(tx, replace(log, system_serial=None), None, ImportReport("nwipe", False))
    result = await probe(store, replace(found, disks=disks))
    assert result.attached == 2
    # A second machine probed first, then its log, without system serial either.
    other = await probe(store, replace(machine("hp-prodesk-600-g3"),
                                       disks=[replace(d, serial="X" + d.serial) for d in disks]))  # fmt: skip
    renamed = replace(log, system_serial=None, disks=[replace(d, serial="X" + d.serial) for d in log.disks])
    async with store.transaction() as tx:
        await apply_nwipe(tx, renamed, None, ImportReport("nwipe", False))
    async with store.reader() as db:
        held = await db.all("SELECT item_id, count(*) FROM erasures GROUP BY item_id ORDER BY item_id")
    assert [tuple(r) for r in held] == [(result.item_id, 2), (other.item_id, 2)]


async def test_the_bench_says_what_is_missing_before_ready(store):
    result = await probe(store, machine("dell-latitude-5490"))
    async with store.reader() as db:
        [on_bench] = await bench_machines(db, days=30)
    assert on_bench.asset_tag == result.asset_tag and on_bench.missing == ("erasure", "tests", "os")
    log = parse_nwipe((FIXTURES / "nwipe-shredos-example.log").read_text())
    wiped = replace(log.disks[0], serial="S3TANX0K312456")
    async with store.transaction() as tx:
        await apply_nwipe(tx, replace(log, system_serial=None, disks=[wiped]), None, ImportReport("nwipe", False))
        await record_step(tx, [result.item_id], StepInput(state="tested"))
    async with store.reader() as db:
        [on_bench] = await bench_machines(db, days=30)
    assert on_bench.missing == ("os",) and (on_bench.disks, on_bench.disks_erased) == (1, 1)
    async with store.transaction() as tx:
        await record_step(tx, [result.item_id], StepInput(state="refurbished", os="Linux Mint 21"))
        await record_step(tx, [result.item_id], StepInput(state="ready"))
    async with store.reader() as db:
        [on_bench] = await bench_machines(db, days=30)
    assert on_bench.missing == () and on_bench.ready


async def test_a_machine_back_after_it_left_becomes_a_new_item_and_names_the_one_that_left(store):
    """A distributed or recycled machine back on the bench (a return, a re-donation) is not the item
    that left: that one stays as it left, at its family or its outflow; the answer names it."""
    first = await probe(store, machine("dell-latitude-5490"))
    log = parse_nwipe((FIXTURES / "nwipe-shredos-example.log").read_text())
    wiped = replace(log.disks[0], serial="S3TANX0K312456")
    async with store.transaction() as tx:
        await apply_nwipe(tx, replace(log, system_serial=None, disks=[wiped]), None, ImportReport("nwipe", False))
        await record_step(tx, [first.item_id], StepInput(state="recycled"))
    async with store.reader() as db:
        gone = await get_item(db, first.item_id)
    back = await probe(store, replace(machine("dell-latitude-5490"), battery_pct=40, model="Latitude 5490 (back)"))
    assert back.created and back.matched_by is None and back.asset_tag == "MLN-000002"
    assert back.left == LeftItem(first.item_id, "MLN-000001", "recycled", gone.state_since, "serial")
    async with store.reader() as db:
        assert await get_item(db, first.item_id) == gone  # its description untouched
        kept = await db.all("SELECT item_id FROM item_disks WHERE serial = 'S3TANX0K312456' ORDER BY item_id")
        assert [r[0] for r in kept] == [first.item_id, back.item_id]  # the disks it left with stay on its record
        [on_bench] = await bench_machines(db, days=30)
    assert on_bench.item_id == back.item_id and on_bench.left == back.left
    # Probed again: the item on the bench, found by its serial; the note of its return stays on the bench.
    again = await probe(store, machine("dell-latitude-5490"))
    assert (again.item_id, again.matched_by, again.left) == (back.item_id, "serial", None)
    async with store.reader() as db:
        [on_bench] = await bench_machines(db, days=30)
    assert on_bench.left == back.left
    # The volunteer may still name the item that left.
    named = await probe(store, replace(machine("dell-latitude-5490"), item_tag="MLN-000001"))
    assert (named.item_id, named.matched_by) == (first.item_id, "item_tag")


async def test_a_disk_seen_in_an_item_that_left_makes_a_new_item(store):
    no_serial = replace(machine("lenovo-thinkpad-t480"), serial=None)
    first = await probe(store, no_serial)
    async with store.transaction() as tx:
        await record_step(tx, [first.item_id], StepInput(state="dismantled"))
    async with store.reader() as db:
        gone = await get_item(db, first.item_id)
    back = await probe(store, replace(no_serial, model="ThinkPad T480s"))
    assert back.created and back.item_id != first.item_id
    assert back.left == LeftItem(first.item_id, first.asset_tag, "dismantled", gone.state_since, "disk_serial")
    async with store.reader() as db:
        assert await get_item(db, first.item_id) == gone


async def test_a_new_erasure_log_goes_to_the_item_back_in_the_workshop_not_the_one_that_left(store):
    """The machine's disk was wiped before it left; back on the bench (a new item), its new ShredOS log
    goes to the item in the workshop that has the disk now, which then has its proof of erasure."""
    first = await probe(store, machine("dell-latitude-5490"))
    log = parse_nwipe((FIXTURES / "nwipe-shredos-example.log").read_text())
    wiped = replace(log.disks[0], serial="S3TANX0K312456")
    async with store.transaction() as tx:
        await apply_nwipe(tx, replace(log, system_serial=None, disks=[wiped]), None, ImportReport("nwipe", False))
        await record_step(tx, [first.item_id], StepInput(state="recycled"))
    back = await probe(store, machine("dell-latitude-5490"))
    assert back.created and back.left is not None
    report = ImportReport("nwipe", False)
    async with store.transaction() as tx:
        await apply_nwipe(tx, replace(log, system_serial=None, disks=[wiped]), "b" * 64, report)
    async with store.reader() as db:
        held = await db.all("SELECT item_id FROM erasures WHERE disk_serial = 'S3TANX0K312456' ORDER BY id")
        [on_bench] = await bench_machines(db, days=30)
    assert [r[0] for r in held] == [first.item_id, back.item_id]
    assert str(report.notes[0]).endswith(back.asset_tag)
    assert on_bench.item_id == back.item_id and "erasure" not in on_bench.missing
    assert (on_bench.disks, on_bench.disks_erased) == (1, 1)


async def test_a_new_erasure_log_goes_where_the_disk_was_last_seen_in_the_workshop(store):
    """A disk wiped in one machine, then moved into another (probed there): its next log goes to the
    second. A log for a disk seen only in an item that left still goes to that item."""
    first = await probe(store, machine("dell-latitude-5490"))
    log = parse_nwipe((FIXTURES / "nwipe-shredos-example.log").read_text())
    wiped = replace(log.disks[0], serial="S3TANX0K312456")
    async with store.transaction() as tx:
        await apply_nwipe(tx, replace(log, system_serial=None, disks=[wiped]), None, ImportReport("nwipe", False))
    disk = next(d for d in machine("dell-latitude-5490").disks if d.serial == "S3TANX0K312456")
    other = await probe(store, replace(machine("hp-prodesk-600-g3"), disks=[disk]))
    assert other.item_id != first.item_id
    async with store.transaction() as tx:
        await apply_nwipe(tx, replace(log, system_serial=None, disks=[wiped]), "c" * 64, ImportReport("nwipe", False))
    async with store.reader() as db:
        held = await db.all("SELECT item_id FROM erasures ORDER BY id")
    assert [r[0] for r in held] == [first.item_id, other.item_id]
    async with store.transaction() as tx:
        await record_step(tx, [other.item_id], StepInput(state="recycled"))
        gone = replace(wiped, serial="GONE-1")
        await tx.run("INSERT INTO item_disks (item_id, serial, seen) VALUES (?, 'GONE-1', 1)", (other.item_id,))
        await apply_nwipe(tx, replace(log, system_serial=None, disks=[gone]), None, ImportReport("nwipe", False))
    async with store.reader() as db:
        held = await db.all("SELECT disk_serial, item_id FROM erasures ORDER BY id")
    assert [tuple(r) for r in held] == [("S3TANX0K312456", first.item_id), ("S3TANX0K312456", other.item_id),
                                        ("GONE-1", other.item_id)]  # fmt: skip
