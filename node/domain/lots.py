"""Lots: what arrives from a donor (a pallet, a truck), counted and weighed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from node.domain.happened import check_day
from node.domain.states import TERMINAL
from node.errors import NotFound, RuleBroken
from node.store.database import Reader, Tx, now_ms
from node.validation import Day, Id, Input

__all__ = ["LotInput", "Reception", "Lot", "create_lot", "receive_lot", "get_lot", "list_lots", "lot_id_by_reference"]

Orientation = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class LotInput(Input):
    reference: Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
    donor_id: Id | None = None
    received_on: Day | None = None
    source: Literal["direct", "hub", "handoff"] = "direct"
    site: Annotated[str, Field(max_length=200)] | None = None
    declared_units: Annotated[int, Field(ge=0, le=10**6)] | None = None
    declared_weight_g: Annotated[int, Field(ge=0, le=10**9)] | None = None
    orientations: Annotated[list[Orientation], Field(max_length=16)] = []


class Reception(Input):
    """What the volunteers counted and weighed on arrival."""

    counted_units: Annotated[int, Field(ge=0, le=10**6)]
    weighed_g: Annotated[int, Field(ge=0, le=10**9)]
    received_on: Day | None = None


@dataclass(frozen=True, slots=True)
class Lot:
    id: int
    reference: str
    donor_id: int | None
    donor_name: str | None
    received_on: str | None
    source: str
    site: str | None
    declared_units: int | None
    declared_weight_g: int | None
    counted_units: int | None
    weighed_g: int | None
    orientations: tuple[str, ...]
    items: int
    items_done: int

    @property
    def status(self) -> str:
        """open (no item yet), in_progress, or closed (every item has its fate)."""
        if self.items == 0:
            return "open"
        return "closed" if self.items_done == self.items else "in_progress"

    @property
    def unit_gap(self) -> int | None:
        """Counted minus declared units (negative: missing), when both are known."""
        if self.counted_units is None or self.declared_units is None:
            return None
        return self.counted_units - self.declared_units

    @property
    def weight_gap_g(self) -> int | None:
        if self.weighed_g is None or self.declared_weight_g is None:
            return None
        return self.weighed_g - self.declared_weight_g


async def create_lot(tx: Tx, lot: LotInput) -> int:
    check_day(lot.received_on, "received_on")
    if lot.donor_id is not None and await tx.value("SELECT 1 FROM donors WHERE id = ?", (lot.donor_id,)) is None:
        raise NotFound(f"no donor {lot.donor_id}")
    if await tx.value("SELECT 1 FROM lots WHERE reference = ?", (lot.reference,)):
        raise RuleBroken(f"a lot with reference {lot.reference!r} already exists", code="duplicate_reference")
    return await tx.run(
        "INSERT INTO lots (reference, donor_id, received_on, source, site, declared_units,"
        " declared_weight_g, orientations, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (lot.reference, lot.donor_id, lot.received_on.isoformat() if lot.received_on else None, lot.source,
         lot.site, lot.declared_units, lot.declared_weight_g, json.dumps(sorted(set(lot.orientations))), now_ms()),
    )  # fmt: skip


async def receive_lot(tx: Tx, lot_id: int, reception: Reception) -> None:
    check_day(reception.received_on, "received_on")
    changed = await tx.changes(
        "UPDATE lots SET counted_units = ?, weighed_g = ?, received_on = coalesce(?, received_on) WHERE id = ?",
        (reception.counted_units, reception.weighed_g,
         reception.received_on.isoformat() if reception.received_on else None, lot_id),
    )  # fmt: skip
    if not changed:
        raise NotFound(f"no lot {lot_id}")


_SELECT = f"""
SELECT l.id, l.reference, l.donor_id, d.name AS donor_name, l.received_on, l.source, l.site,
       l.declared_units, l.declared_weight_g, l.counted_units, l.weighed_g, l.orientations,
       (SELECT count(*) FROM items i WHERE i.lot_id = l.id) AS items,
       (SELECT count(*) FROM items i WHERE i.lot_id = l.id
                                     AND i.state IN ({", ".join(f"'{s}'" for s in sorted(TERMINAL))})) AS items_done
FROM lots l LEFT JOIN donors d ON d.id = l.donor_id
"""


def _lot(row) -> Lot:
    values = dict(row)
    values["orientations"] = tuple(json.loads(values["orientations"]))
    return Lot(**values)


async def get_lot(db: Reader, lot_id: int) -> Lot:
    row = await db.one(_SELECT + " WHERE l.id = ?", (lot_id,))
    if row is None:
        raise NotFound(f"no lot {lot_id}")
    return _lot(row)


async def lot_id_by_reference(db: Reader, reference: str) -> int:
    lot_id = await db.value("SELECT id FROM lots WHERE reference = ?", (reference,))
    if lot_id is None:
        raise NotFound(f"no lot with reference {reference!r}")
    return lot_id


async def list_lots(db: Reader, *, donor_id: int | None = None, limit: int = 100, offset: int = 0) -> list[Lot]:
    where, params = ("WHERE l.donor_id = ?", [donor_id]) if donor_id is not None else ("", [])
    rows = await db.all(_SELECT + f" {where} ORDER BY l.id DESC LIMIT ? OFFSET ?", [*params, limit, offset])
    return [_lot(row) for row in rows]
