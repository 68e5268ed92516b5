"""Data erasure: per disk, with its proof, matched to items or kept as orphan disks.

The rule: an item that holds storage cannot leave (distributed, handed off)
without its storage proven erased, or removed or destroyed.

Proven erased (``PROVEN``): every disk the workshop probe found in the item
(``item_disks``) has a successful erasure record with its serial; when the
probe found none, one successful erasure record is enough.

The state "erased" follows from that proof, never from a button: recording
an erasure (by hand, an nwipe/ShredOS log, the station attaching orphan
disks) or the storage's removal moves an item still before it ("received",
"sorted", "tested") to "erased" once the proof is complete (``settle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from node.categories import HAS_STORAGE, holds_data
from node.domain.fate_evidence import evidence_recorded
from node.domain.happened import check_day, check_lot_day, happened_ms
from node.domain.item_events import append_events
from node.errors import NotFound, RuleBroken
from node.store.database import IN_ARRAY, Reader, Tx, as_array, now_ms
from node.validation import Day, Id, Input, Millis

__all__ = ["ErasureInput", "Erasure", "record_erasure", "erasures_of", "orphan_disks", "require_erased",
           "needs_erasure", "attach_orphans", "PROVEN", "proven_erased", "settle", "BEFORE_ERASURE", "DiskProofs",
           "disk_proofs", "PROOF_STEP"]  # fmt: skip

# The states an item's erasure proof moves it on from.
BEFORE_ERASURE: tuple[str, ...] = ("received", "sorted", "tested")
# The step of the event that moves an item to "erased" on its proof (``settle``).
PROOF_STEP = "erasure_proven"

# SQL: the item ``i`` is proven erased (see the module's docstring).
PROVEN = (
    "(EXISTS (SELECT 1 FROM erasures pe WHERE pe.item_id = i.id AND pe.result = 'success')"
    " AND NOT EXISTS (SELECT 1 FROM item_disks pd WHERE pd.item_id = i.id AND NOT EXISTS ("
    "SELECT 1 FROM erasures pe WHERE pe.item_id = i.id AND pe.result = 'success'"
    " AND pe.disk_serial = pd.serial COLLATE NOCASE)))"
)

Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


class ErasureInput(Input):
    item_id: Id | None = None
    disk_serial: Text | None = None
    disk_model: Text | None = None
    disk_size_bytes: Annotated[int, Field(ge=0, le=10**16)] | None = None
    host_serial: Text | None = None
    method: Text
    level: Literal["clear", "purge", "destroy"]
    tool: Text
    tool_version: Text | None = None
    passes: Annotated[int, Field(ge=0, le=100)] | None = None
    verification: Text | None = None
    result: Literal["success", "failure"]
    operator: Text | None = None
    time: Millis | None = None
    happened_on: Day | None = None  # the day of the erasure, when ``time`` is not known (default today)
    evidence_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    source: Literal["manual", "nwipe", "shredos_upload", "import", "handoff"] = "manual"


@dataclass(frozen=True, slots=True)
class Erasure:
    id: int
    item_id: int | None
    disk_serial: str | None
    disk_model: str | None
    disk_size_bytes: int | None
    host_serial: str | None
    method: str
    level: str
    tool: str
    tool_version: str | None
    passes: int | None
    verification: str | None
    result: str
    operator: str | None
    time: int
    evidence_sha256: str | None
    source: str


_FIELDS = ("item_id", "disk_serial", "disk_model", "disk_size_bytes", "host_serial", "method", "level", "tool",
           "tool_version", "passes", "verification", "result", "operator", "time", "evidence_sha256", "source")  # fmt: skip


async def record_erasure(tx: Tx, erasure: ErasureInput) -> int:
    """Record one disk's erasure. Without ``item_id`` it is matched by host serial
    (the item's serial) when exactly one item has it; otherwise it stays an orphan.
    """
    values = erasure.model_dump()
    day = values.pop("happened_on")
    if values["time"] is None:
        check_day(day)
        values["time"] = happened_ms(day) or now_ms()
    if values["item_id"] is None and erasure.host_serial:
        matches = await tx.all("SELECT id FROM items WHERE serial = ? COLLATE NOCASE", (erasure.host_serial,))
        if len(matches) == 1:
            values["item_id"] = matches[0]["id"]
    elif values["item_id"] is not None and await tx.value("SELECT 1 FROM items WHERE id = ?", (values["item_id"],)) is None:
        raise NotFound(f"no item {values['item_id']}")
    if day is not None and values["item_id"] is not None:
        lot = await tx.one("SELECT l.reference, l.received_on FROM items i JOIN lots l ON l.id = i.lot_id"
                           " WHERE i.id = ?", (values["item_id"],))  # fmt: skip
        if lot is not None:
            check_lot_day(day, lot["received_on"], lot["reference"])
    erasure_id = await tx.run(
        f"INSERT INTO erasures ({', '.join(_FIELDS)}, recorded) VALUES ({', '.join('?' * len(_FIELDS))}, ?)",
        [*(values[f] for f in _FIELDS), now_ms()],
    )
    if values["item_id"] is not None and erasure.source != "handoff":
        evidence_recorded(tx, [values["item_id"]])  # signed as in stock, for the node the item came from
    if values["item_id"] is not None and erasure.result == "success":
        # The disk was there: an item whose storage was unknown now has some.
        await tx.run("UPDATE items SET storage = 'present' WHERE id = ? AND storage = 'unknown'", (values["item_id"],))
        await settle(tx, [values["item_id"]], operator=erasure.operator)
    return erasure_id


async def attach_orphans(tx: Tx, item_id: int) -> int:
    """Attach orphan disks whose host serial is this item's serial; return how many."""
    serial = await tx.value("SELECT serial FROM items WHERE id = ?", (item_id,))
    if not serial:
        return 0
    attached = await tx.changes(
        "UPDATE erasures SET item_id = ? WHERE item_id IS NULL AND host_serial = ? COLLATE NOCASE", (item_id, serial)
    )
    if attached:
        evidence_recorded(tx, [item_id])
        await settle(tx, [item_id])
    return attached


async def erasures_of(db: Reader, item_id: int) -> list[Erasure]:
    rows = await db.all(f"SELECT id, {', '.join(_FIELDS)} FROM erasures WHERE item_id = ? ORDER BY time", (item_id,))
    return [Erasure(**dict(r)) for r in rows]


async def orphan_disks(db: Reader, *, limit: int = 100, offset: int = 0) -> list[Erasure]:
    rows = await db.all(
        f"SELECT id, {', '.join(_FIELDS)} FROM erasures WHERE item_id IS NULL ORDER BY time DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [Erasure(**dict(r)) for r in rows]


def needs_erasure(category: str, storage: str) -> bool:
    """Whether an item's storage may still hold data."""
    return storage == "present" or (storage == "unknown" and category in HAS_STORAGE)


async def require_erased(db: Reader, item_ids: list[int], *, action: str) -> None:
    """Raise ``RuleBroken`` (``erasure_required``) naming the items that may still hold data."""
    blocked = []
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start : start + 500]
        rows = await db.all(
            f"SELECT i.asset_tag, i.category, i.storage FROM items i WHERE i.id IN ({', '.join('?' * len(chunk))})"
            f" AND NOT {PROVEN}",
            chunk,
        )
        blocked += [r["asset_tag"] for r in rows if needs_erasure(r["category"], r["storage"])]
    if blocked:
        shown = ", ".join(blocked[:10]) + (" ..." if len(blocked) > 10 else "")
        raise RuleBroken(
            f"cannot {action} {shown}: no successful data erasure recorded for each disk and storage not removed",
            code="erasure_required",
        )


# SQL: the item ``i``'s latest sorting chose parts or recycling (``node.queries.workshop_lists``' orientation).
_SORTED_FOR_OTHER = (
    "coalesce((SELECT json_extract(so.detail, '$.orientation') FROM events so WHERE so.item_id = i.id"
    " AND so.state = 'sorted' AND json_extract(so.detail, '$.orientation') IS NOT NULL ORDER BY so.id DESC LIMIT 1),"
    " 'refurbish') != 'refurbish'"
)


async def proven_erased(db: Reader, item_ids: list[int]) -> set[int]:
    """Those of ``item_ids`` whose storage is proven erased, or was removed or destroyed."""
    rows = await db.all(f"SELECT i.id FROM items i WHERE i.id IN {IN_ARRAY} AND (i.storage = 'removed' OR {PROVEN})",
                        (as_array(item_ids),))  # fmt: skip
    return {r["id"] for r in rows}


@dataclass(frozen=True, slots=True)
class DiskProofs:
    """An item's disks as the probe found them, and how many have a successful erasure on record."""

    disks: int
    erased: int
    unproven: tuple[str, ...]  # serials of the disks still without one


async def disk_proofs(db: Reader, item_id: int) -> DiskProofs:
    rows = await db.all(
        "SELECT d.serial, EXISTS (SELECT 1 FROM erasures e WHERE e.item_id = d.item_id AND e.result = 'success'"
        " AND e.disk_serial = d.serial COLLATE NOCASE) AS erased FROM item_disks d WHERE d.item_id = ? ORDER BY d.serial",
        (item_id,),
    )  # fmt: skip
    return DiskProofs(len(rows), sum(1 for r in rows if r["erased"]),
                      tuple(r["serial"] for r in rows if not r["erased"]))  # fmt: skip


async def settle(tx: Tx, item_ids: list[int], *, operator: str | None = None) -> list[int]:
    """Move the items whose erasure is now proven (or storage removed) to "erased"; return those moved.

    Only items still before the erasure (``BEFORE_ERASURE``) that may hold
    data (``node.categories.holds_data``) move: one further on (refurbished,
    ready) or gone keeps its state, and a keyboard never becomes "erased".
    An item sorted for parts or recycling stays "sorted" (its page says its
    storage is proven erased): "erased" is a step of the refurbishing.
    The event says what proved it (``proof``: erasure or storage_removed).
    """
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return []
    rows = await tx.all(
        f"SELECT i.id, i.category, i.storage, i.storage = 'removed' AS removed FROM items i"
        f" WHERE i.id IN {IN_ARRAY} AND i.state IN {IN_ARRAY} AND (i.storage = 'removed' OR {PROVEN})"
        f" AND NOT (i.state = 'sorted' AND {_SORTED_FOR_OTHER})",
        (as_array(ids), as_array(BEFORE_ERASURE)),
    )  # fmt: skip
    moving = [r for r in rows if holds_data(r["category"], r["storage"])]
    # It happened when the proof was made (the last successful erasure's time), never before the item's
    # last event nor after now: a history imported in the past reads erased on the day it was.
    now = now_ms()
    happened = {row["id"]: min(now, max(row["erased_at"] or now, row["last"] or 0)) for row in await tx.all(
        "SELECT i.id, (SELECT max(e.time) FROM erasures e WHERE e.item_id = i.id AND e.result = 'success')"
        " AS erased_at, (SELECT max(v.happened) FROM events v WHERE v.item_id = i.id) AS last"
        f" FROM items i WHERE i.id IN {IN_ARRAY}", (as_array(r["id"] for r in moving),))}  # fmt: skip
    groups: dict[tuple[str, int], list[int]] = {}
    for r in moving:
        proof = "storage_removed" if r["removed"] else "erasure"
        groups.setdefault((proof, now if r["removed"] else happened[r["id"]]), []).append(r["id"])
    for (proof, time), group in groups.items():
        await append_events(tx, group, "erased", time, step=PROOF_STEP, detail={"proof": proof}, operator=operator)
    evidence_recorded(tx, [r["id"] for r in moving])  # (proofs attached by a disk's serial, at the station)
    return [r["id"] for r in moving]
