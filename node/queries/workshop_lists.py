"""What the workshop pages list beside the domain's own queries.

The web pages for steps, erasures, distribution, recycling and
beneficiaries need a few read-only views that ``node.domain.items``,
``node.domain.erasure`` and ``node.domain.beneficiaries`` do not offer: the items still
in the workshop (optionally those sorted for one orientation), the
erasure records newest first, what a handover must check for each item
(its donor's rules, whether it still needs an erasure), an item's last
event, a beneficiary's items, and the lots as a short choice list.

Every query pages (``limit``/``offset``) or reads a bounded set of ids,
through the indexes of migrations v1/v2 (``items_state``, ``events_item``,
``items_lot``), so the pages stay fast with 100 000 items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from node.domain.erasure import PROVEN, needs_erasure
from node.domain.items import Event, Item, ItemPage
from node.domain.states import SORT_ORIENTATIONS, STATES, TERMINAL
from node.errors import Invalid, NotFound
from node.store.database import Reader

__all__ = [
    "OPEN_STATES", "ErasureRow", "HandoutItem", "BeneficiaryItem", "LotChoice", "open_items", "recent_erasures",
    "handout_items", "last_event", "beneficiary_items", "count_beneficiaries", "lot_choices",
]  # fmt: skip

# States of an item still in the workshop: a step may still be recorded.
OPEN_STATES: tuple[str, ...] = tuple(s for s in STATES if s not in TERMINAL)
MAX_IDS = 20000

_ITEM = """
SELECT i.id, i.gid, i.asset_tag, i.lot_id, l.reference AS lot_reference, i.donor_asset, i.category, i.brand,
       i.model, i.serial, i.cpu, i.ram_mb, i.storage, i.storage_type, i.storage_gb, i.screen_in10, i.battery_pct,
       i.weight_g, i.grade, i.state, i.state_since, i.created
FROM items i LEFT JOIN lots l ON l.id = i.lot_id
"""

# The orientation an item was sorted for: its latest sorting event (a later
# storage removal or correction keeps the state "sorted" but says nothing of it).
_ORIENTATION = """
(SELECT json_extract(e.detail, '$.orientation') FROM events e
  WHERE e.item_id = i.id AND e.state = 'sorted' AND json_extract(e.detail, '$.orientation') IS NOT NULL
  ORDER BY e.id DESC LIMIT 1)
"""


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= 500 or offset < 0:
        raise Invalid("limit is 1 to 500 and offset is not negative", code="invalid")


async def open_items(db: Reader, *, state: str | None = None, category: str | None = None,
                     lot_id: int | None = None, orientation: str | None = None, limit: int = 50,
                     offset: int = 0) -> ItemPage:  # fmt: skip
    """Items not at a fate yet, newest first, with filters.

    ``orientation`` keeps the items in state ``sorted`` whose sorting chose
    it (``refurbish``, ``parts``, ``recycle``).
    """
    _page(limit, offset)
    if state is not None and state not in OPEN_STATES:
        raise Invalid(f"state: one of {', '.join(OPEN_STATES)}", code="invalid")
    if orientation is not None and orientation not in SORT_ORIENTATIONS:
        raise Invalid(f"orientation: one of {', '.join(SORT_ORIENTATIONS)}", code="invalid")
    if orientation is not None:
        if state not in (None, "sorted"):
            return ItemPage([], 0, limit, offset)
        state = "sorted"
    where: list[str] = []
    params: dict[str, object] = {}
    if state is None:
        where.append(f"i.state IN ({', '.join(repr(s) for s in OPEN_STATES)})")
    else:
        where.append("i.state = :state")
        params["state"] = state
    if category is not None:
        where.append("i.category = :category")
        params["category"] = category
    if lot_id is not None:
        where.append("i.lot_id = :lot_id")
        params["lot_id"] = lot_id
    if orientation is not None:
        where.append(f"{_ORIENTATION} = :orientation")
        params["orientation"] = orientation
    clause = " WHERE " + " AND ".join(where)
    total = await db.value(f"SELECT count(*) FROM items i{clause}", params)
    # The page's ids first, sorted from the covering index alone; then only those rows are read.
    rows = await db.all(
        _ITEM + f" WHERE i.id IN (SELECT i.id FROM items i{clause} ORDER BY i.id DESC LIMIT :limit OFFSET :offset)"
        " ORDER BY i.id DESC",
        {**params, "limit": limit, "offset": offset},
    )
    return ItemPage([Item(**dict(r)) for r in rows], total, limit, offset)


@dataclass(frozen=True, slots=True)
class ErasureRow:
    """One erasure record, with the asset tag of its item (``None`` for an orphan disk)."""

    id: int
    item_id: int | None
    asset_tag: str | None
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
    source: str


async def recent_erasures(db: Reader, *, limit: int = 50, offset: int = 0) -> tuple[list[ErasureRow], int]:
    """Erasure records, the latest erasure first (by its own time, then the last recorded), and how many."""
    _page(limit, offset)
    total = await db.value("SELECT count(*) FROM erasures")
    rows = await db.all(
        "SELECT e.id, e.item_id, i.asset_tag, e.disk_serial, e.disk_model, e.disk_size_bytes, e.host_serial,"
        " e.method, e.level, e.tool, e.tool_version, e.passes, e.verification, e.result, e.operator, e.time, e.source"
        " FROM erasures e LEFT JOIN items i ON i.id = e.item_id"
        " ORDER BY e.time DESC, e.id DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [ErasureRow(**dict(r)) for r in rows], total


@dataclass(frozen=True, slots=True)
class HandoutItem:
    """What a handover checks for one item: its state, its donor's rules, its erasure."""

    id: int
    asset_tag: str
    category: str
    brand: str | None
    model: str | None
    state: str
    weight_g: int
    lot_reference: str | None
    donor_type: str | None
    orientations: tuple[str, ...]
    erasure_required: bool


async def handout_items(db: Reader, item_ids: list[int]) -> list[HandoutItem]:
    """These items in the order given; ``NotFound`` names the missing ones.

    ``erasure_required`` is the test of ``node.domain.erasure.require_erased``: the
    item may hold data and its erasure is not proven (``node.domain.erasure.PROVEN``).
    """
    unique = list(dict.fromkeys(item_ids))
    if len(unique) > MAX_IDS:
        raise Invalid(f"at most {MAX_IDS} items at once", code="invalid")
    rows = []
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows += await db.all(
            "SELECT i.id, i.asset_tag, i.category, i.brand, i.model, i.state, i.weight_g, i.storage,"
            " l.reference AS lot_reference, d.type AS donor_type, l.orientations,"
            f" {PROVEN} AS erased"
            " FROM items i LEFT JOIN lots l ON l.id = i.lot_id LEFT JOIN donors d ON d.id = l.donor_id"
            f" WHERE i.id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
    if len(rows) != len(unique):
        missing = sorted(set(unique) - {r["id"] for r in rows})
        raise NotFound(f"no item {', '.join(map(str, missing[:10]))}")
    found = {}
    for r in rows:
        found[r["id"]] = HandoutItem(
            id=r["id"], asset_tag=r["asset_tag"], category=r["category"], brand=r["brand"], model=r["model"],
            state=r["state"], weight_g=r["weight_g"], lot_reference=r["lot_reference"], donor_type=r["donor_type"],
            orientations=tuple(json.loads(r["orientations"])) if r["orientations"] else (),
            erasure_required=needs_erasure(r["category"], r["storage"]) and not r["erased"],
        )  # fmt: skip
    return [found[i] for i in unique]


async def last_event(db: Reader, item_id: int) -> Event | None:
    """The item's last event (what a correction would undo), or ``None`` if it has none."""
    row = await db.one(
        "SELECT id, item_id, time, state, step, detail, operator, corrects, happened FROM events WHERE item_id = ?"
        " ORDER BY id DESC LIMIT 1",
        (item_id,),
    )
    return None if row is None else Event(**{**dict(row), "detail": json.loads(row["detail"])})


@dataclass(frozen=True, slots=True)
class BeneficiaryItem:
    """An item handed to a beneficiary, with its price and any override of the price rules."""

    item_id: int
    asset_tag: str
    category: str
    brand: str | None
    model: str | None
    time: int
    price_cents: int
    override_reason: str | None
    state: str


async def beneficiary_items(db: Reader, beneficiary_id: int, *, limit: int = 200) -> list[BeneficiaryItem]:
    """The items distributed to a beneficiary, the latest first."""
    if not 1 <= limit <= 1000:
        raise Invalid("limit is 1 to 1000", code="invalid")
    rows = await db.all(
        "SELECT d.item_id, i.asset_tag, i.category, i.brand, i.model, d.time, d.price_cents, d.override_reason,"
        " i.state FROM distributions d JOIN items i ON i.id = d.item_id WHERE d.beneficiary_id = ?"
        " ORDER BY d.id DESC LIMIT ?",
        (beneficiary_id, limit),
    )
    return [BeneficiaryItem(**dict(r)) for r in rows]


async def count_beneficiaries(db: Reader) -> int:
    return await db.value("SELECT count(*) FROM beneficiaries")


@dataclass(frozen=True, slots=True)
class LotChoice:
    id: int
    reference: str


async def lot_choices(db: Reader, *, limit: int = 500) -> list[LotChoice]:
    """The latest lots, for a choice list (without the counts ``list_lots`` computes)."""
    rows = await db.all("SELECT id, reference FROM lots ORDER BY id DESC LIMIT ?", (limit,))
    return [LotChoice(**dict(r)) for r in rows]
