"""The workshop station: a machine on the bench describes itself (``maillon-probe``) and becomes an item.

The probe's bundle is read by ``node.imports.probe``; here the machine is
matched to an item and the item filled in, in one transaction:

1. the item the probe names (``--item MLN-000042``, a label already on the machine);
2. else the item with the machine's system serial (the newest one still in the workshop);
3. else the item one of its disks was seen in (a probe before, or an erasure record), unless
   both have a serial (then the disk was moved into this machine: it follows the machine);
4. else a new item, received now, without a lot.

An item found by a serial (2, 3) that has left the workshop (distributed,
transferred, recycled, dismantled) is not this machine's item any more:
the machine is back (a return, a new donation), so it becomes a new item
(4) and the result names the item that left (``LeftItem``), for the
volunteer to link them; that item, at a family or another node, is left
as it was, the disks it left with included. Only ``--item`` updates it.

The description (category, brand, model, CPU, RAM, storage, battery
health, screen) takes what the probe measured; a grade is suggested
(``node.domain.grading``) unless someone graded the item by hand. The disks found
are kept (``item_disks``): an nwipe log that names them later attaches to
the item, and erasure records that came first (orphan disks) are attached now.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from node.domain.erasure import attach_orphans, settle
from node.domain.grading import Reason, read_thresholds, suggest_grade
from node.domain.items import ItemEdit, ItemInput, create_items, edit_item, get_item, item_id_by_tag
from node.domain.settings import get_setting
from node.domain.states import TERMINAL
from node.errors import Invalid
from node.imports.probe import Machine
from node.store.database import IN_ARRAY, Tx, as_array, now_ms
from node.validation import parse

__all__ = ["LeftItem", "ProbeResult", "record_probe"]

_TEXT_MAX = 200
_BOUNDS = {"ram_mb": 10**7, "storage_gb": 10**6, "screen_in10": 1000, "battery_pct": 100}


@dataclass(frozen=True)
class LeftItem:
    """The item that carried a probed machine's serial, or one of its disks, and has left the workshop."""

    item_id: int
    asset_tag: str
    state: str  # terminal (node.domain.states.TERMINAL)
    since: int  # when it left: the time of that state
    by: str  # serial or disk_serial


@dataclass(frozen=True)
class ProbeResult:
    """What a probe did to the node."""

    item_id: int
    asset_tag: str
    gid: str
    created: bool
    matched_by: str | None  # item_tag, serial, disk_serial, or None for a new item
    grade: str | None  # suggested
    reasons: list[Reason]
    attached: int  # erasure records of its disks attached now
    left: LeftItem | None  # for a new item: the item with its serial (or a disk's) that left the workshop


def _description(machine: Machine) -> dict[str, object]:
    values: dict[str, object] = {
        "category": machine.category, "brand": machine.brand, "model": machine.model, "serial": machine.serial,
        "cpu": machine.cpu, "ram_mb": machine.ram_mb, "storage_gb": machine.storage_gb,
        "storage_type": machine.storage_type, "battery_pct": machine.battery_pct, "screen_in10": machine.screen_in10,
        "storage": "present" if machine.disks else None,
    }  # fmt: skip
    for name, value in list(values.items()):
        if isinstance(value, str):
            values[name] = value[:_TEXT_MAX]
        elif isinstance(value, int) and not 0 <= value <= _BOUNDS.get(name, 10**9):
            values[name] = None  # a firmware's nonsense is left out, not stored
    return {k: v for k, v in values.items() if v is not None}


async def _match(tx: Tx, machine: Machine) -> tuple[int | None, str | None, LeftItem | None]:
    """The item to update and how it was found, or none, with the item that left that the serials name."""
    if machine.item_tag:
        return await item_id_by_tag(tx, machine.item_tag), "item_tag", None
    left = None
    if machine.serial:
        row = await tx.one(
            "SELECT id, asset_tag, state, state_since FROM items WHERE serial = ? COLLATE NOCASE"
            f" ORDER BY state IN {IN_ARRAY}, id DESC LIMIT 1",
            (machine.serial, as_array(sorted(TERMINAL))),
        )
        if row is not None and row["state"] not in TERMINAL:
            return row["id"], "serial", None
        if row is not None:
            left = LeftItem(row["id"], row["asset_tag"], row["state"], row["state_since"], "serial")
    serials = as_array(sorted({d.serial for d in machine.disks if d.serial}))
    # A disk seen in an item with another serial was moved into this machine (a harvested part): not a match.
    row = await tx.one(
        "SELECT i.id, i.asset_tag, i.state, i.state_since FROM (SELECT item_id, seen AS at FROM item_disks"
        f" WHERE serial COLLATE NOCASE IN {IN_ARRAY} UNION ALL SELECT item_id, time AS at FROM erasures"
        f" WHERE item_id IS NOT NULL AND disk_serial COLLATE NOCASE IN {IN_ARRAY}) s JOIN items i ON i.id = s.item_id"
        " WHERE i.serial IS NULL OR ? IS NULL ORDER BY s.at DESC LIMIT 1",
        (serials, serials, machine.serial),
    )
    if row is not None and row["state"] not in TERMINAL:
        return row["id"], "disk_serial", None
    if row is not None and left is None:
        left = LeftItem(row["id"], row["asset_tag"], row["state"], row["state_since"], "disk_serial")
    return None, None, left


async def record_probe(tx: Tx, machine: Machine, *, station: str, sha256: str) -> ProbeResult:
    """Match or create the item of ``machine``, fill it in, keep its disks and this probe; see the module."""
    if not station or len(station) > 100 or len(sha256) != 64:
        raise Invalid("a probe names its station and the SHA-256 of its raw outputs", code="invalid")
    thresholds = read_thresholds(await get_setting(tx, "grade_thresholds"))
    grade, reasons = suggest_grade(machine, thresholds)
    values = _description(machine)
    item_id, matched_by, left = await _match(tx, machine)
    now = now_ms()
    if item_id is None:
        values["grade"] = grade
        new = parse(ItemInput, {k: v for k, v in values.items() if v is not None})
        [item_id] = await create_items(tx, None, [new], operator=f"station {station}",
                                       detail=json.dumps({"station": station}))  # fmt: skip
    else:
        current = await get_item(tx, item_id)
        if machine.category == "other":
            values.pop("category")  # the probe could not tell: keep what a volunteer chose
        last = await tx.value("SELECT grade FROM probes WHERE item_id = ? ORDER BY id DESC LIMIT 1", (item_id,))
        if grade and (current.grade is None or current.grade == last):
            values["grade"] = grade  # a grade given by hand stays
        merged = {k: getattr(current, k) for k in ItemEdit.model_fields} | values
        if current.storage in ("removed", "none") and "storage" in values:
            merged["storage"] = "present"  # the probe found a disk in it: data may be there again
        await edit_item(tx, item_id, parse(ItemEdit, {k: v for k, v in merged.items() if v is not None}))
    disks = [d for d in machine.disks if d.serial]
    serials = as_array(sorted({d.serial[:_TEXT_MAX] for d in disks}))  # type: ignore[index]
    # A disk is where the newest probe found it: taken out of the item it was in before, unless that item
    # left the workshop (the disks it left with stay on its record).
    await tx.run(
        f"DELETE FROM item_disks WHERE item_id = ? OR (serial COLLATE NOCASE IN {IN_ARRAY}"
        f" AND item_id NOT IN (SELECT id FROM items WHERE state IN {IN_ARRAY}))",
        (item_id, serials, as_array(sorted(TERMINAL))),
    )
    await tx.run_many(
        "INSERT OR REPLACE INTO item_disks (item_id, serial, model, size_bytes, type, power_on_hours, reallocated,"
        " passed, seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(item_id, str(d.serial)[:_TEXT_MAX], (d.model or "")[:_TEXT_MAX] or None, d.size_bytes, d.type,
          d.power_on_hours, d.reallocated, None if d.passed is None else int(d.passed), now) for d in disks],
    )  # fmt: skip
    attached = await attach_orphans(tx, item_id)
    attached += await tx.changes(
        f"UPDATE erasures SET item_id = ? WHERE item_id IS NULL AND disk_serial COLLATE NOCASE IN {IN_ARRAY}",
        (item_id, serials),
    )
    await settle(tx, [item_id], operator=f"station {station}")  # its disks' erasures may all be on record now
    summary = {
        "matched_by": matched_by, "sources": machine.sources, "chassis": machine.chassis,
        "disks": [asdict(d) for d in machine.disks], "reasons": [asdict(r) for r in reasons],
        "problems": [asdict(p) for p in machine.problems], "left": asdict(left) if left else None,
    }  # fmt: skip
    await tx.run("INSERT INTO probes (item_id, station, time, sha256, grade, summary) VALUES (?, ?, ?, ?, ?, ?)",
                 (item_id, station, now, sha256, grade, json.dumps(summary)))  # fmt: skip
    item = await get_item(tx, item_id)
    return ProbeResult(item_id, item.asset_tag, item.gid, matched_by is None, matched_by, grade, reasons, attached,
                       left)  # fmt: skip
