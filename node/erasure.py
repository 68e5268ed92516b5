"""Data erasure: per disk, with its proof, matched to items or kept as orphan disks.

The rule: an item that holds storage cannot leave (distributed, handed off)
without a successful erasure, or its storage removed or destroyed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from node.categories import HAS_STORAGE
from node.errors import NotFound, RuleBroken
from node.happened import check_day, check_lot_day, happened_ms
from node.store import Reader, Tx, now_ms
from node.validation import Day, Id, Input, Millis

__all__ = ["ErasureInput", "Erasure", "record_erasure", "erasures_of", "orphan_disks", "require_erased",
           "needs_erasure", "attach_orphans"]  # fmt: skip

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
    if values["item_id"] is not None and erasure.result == "success":
        # The disk was there: an item whose storage was unknown now has some.
        await tx.run("UPDATE items SET storage = 'present' WHERE id = ? AND storage = 'unknown'", (values["item_id"],))
    return erasure_id


async def attach_orphans(tx: Tx, item_id: int) -> int:
    """Attach orphan disks whose host serial is this item's serial; return how many."""
    serial = await tx.value("SELECT serial FROM items WHERE id = ?", (item_id,))
    if not serial:
        return 0
    return await tx.changes(
        "UPDATE erasures SET item_id = ? WHERE item_id IS NULL AND host_serial = ? COLLATE NOCASE", (item_id, serial)
    )


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
            " AND NOT EXISTS (SELECT 1 FROM erasures e WHERE e.item_id = i.id AND e.result = 'success')",
            chunk,
        )
        blocked += [r["asset_tag"] for r in rows if needs_erasure(r["category"], r["storage"])]
    if blocked:
        shown = ", ".join(blocked[:10]) + (" ..." if len(blocked) > 10 else "")
        raise RuleBroken(
            f"cannot {action} {shown}: no successful data erasure recorded and storage not removed",
            code="erasure_required",
        )
