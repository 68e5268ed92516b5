"""Items: each device, with a global id for life and an asset tag for its label."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from node.categories import DEFAULT_WEIGHT_G
from node.domain.happened import check_lot_day, happened_ms
from node.domain.item_tags import items_with_former_tag
from node.domain.settings import get_setting
from node.domain.states import STATES
from node.errors import Invalid, NotFound
from node.store import search
from node.store.database import Reader, Tx, now_ms
from node.validation import Input
from protocol.kinds import CATEGORIES

__all__ = [
    "ItemInput", "ItemEdit", "Item", "Event", "ItemPage", "new_gid", "create_item", "create_items",
    "edit_item", "get_item", "item_id_by_tag", "find_items", "history",
]  # fmt: skip

Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
Category = Literal[
    "desktop", "laptop", "tablet", "smartphone", "screen", "printer",
    "multifunction_printer", "server", "network", "peripheral", "component", "other",
]  # fmt: skip
assert set(Category.__args__) == set(CATEGORIES)  # type: ignore[attr-defined]


class ItemInput(Input):
    """A new item; ``weight_g`` defaults to the category's typical weight."""

    category: Category
    brand: Text | None = None
    model: Text | None = None
    serial: Text | None = None
    donor_asset: Text | None = None
    cpu: Text | None = None
    ram_mb: Annotated[int, Field(ge=0, le=10**7)] | None = None
    storage: Literal["unknown", "none", "present", "removed"] = "unknown"
    storage_type: Literal["hdd", "ssd", "nvme", "emmc", "other"] | None = None
    storage_gb: Annotated[int, Field(ge=0, le=10**6)] | None = None
    screen_in10: Annotated[int, Field(ge=0, le=1000)] | None = None
    battery_pct: Annotated[int, Field(ge=0, le=100)] | None = None
    weight_g: Annotated[int, Field(ge=0, le=10**7)] | None = None
    grade: Annotated[str, Field(pattern=r"^[A-E]$")] | None = None

    @model_validator(mode="after")
    def _storage_known_from_size(self) -> "ItemInput":
        if self.storage == "unknown" and self.storage_gb:
            object.__setattr__(self, "storage", "present")
        return self


class ItemEdit(ItemInput):
    """A correction of an item's description (its history is untouched)."""


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    gid: str
    asset_tag: str
    lot_id: int | None
    lot_reference: str | None
    donor_asset: str | None
    category: str
    brand: str | None
    model: str | None
    serial: str | None
    cpu: str | None
    ram_mb: int | None
    storage: str
    storage_type: str | None
    storage_gb: int | None
    screen_in10: int | None
    battery_pct: int | None
    weight_g: int
    grade: str | None
    state: str
    state_since: int
    created: int


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    item_id: int
    time: int
    state: str
    step: str | None
    detail: dict
    operator: str | None
    corrects: int | None
    happened: int  # when it happened (``time``: when it was recorded; ``node.domain.happened``)


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: list[Item]
    total: int
    limit: int
    offset: int


def new_gid() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so ids sort by creation (``now_ms``: the history's time under ``clock_at``)."""
    millis = now_ms()
    value = (millis & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC variant
    return str(uuid.UUID(int=value))


_DESCRIPTION = (
    "donor_asset", "category", "brand", "model", "serial", "cpu", "ram_mb", "storage", "storage_type",
    "storage_gb", "screen_in10", "battery_pct", "weight_g", "grade",
)  # fmt: skip
_WEIGHT = _DESCRIPTION.index("weight_g")
_NO_ORIGIN = (None, None, None)


async def create_item(tx: Tx, lot_id: int | None, item: ItemInput, *, operator: str | None = None,
                      gid: str | None = None, asset_tag: str | None = None) -> int:  # fmt: skip
    """Register one item, in state ``received``; return its id."""
    return (await create_items(tx, lot_id, [item], operator=operator, gids=[gid] if gid else None,
                               asset_tags=[asset_tag] if asset_tag else None))[0]  # fmt: skip


async def create_items(tx: Tx, lot_id: int | None, items: list[ItemInput], *, operator: str | None = None,
                       gids: list[str] | None = None, asset_tags: list[str | None] | None = None,
                       detail: str = "{}", origins: list[tuple[bytes, bytes, bytes] | None] | None = None,
                       received_on: date | None = None, details: list[str] | None = None,
                       ) -> list[int]:  # fmt: skip
    """Register items of a lot in one go (a reception); return their ids in order (consecutive).

    ``detail``: the JSON detail of their ``received`` event (where they came from);
    ``details``: one per item instead (an imported row's other columns).
    ``origins``: per item, received from another node: (that node, its offer, our receipt).
    ``asset_tags``: per item, its label (None: the next of this node's numbering).
    ``received_on``: the day they were received (``node.domain.happened``), by default
    the day their lot was; not in the future, not before the lot's reception.
    """
    lot = None
    if lot_id is not None:
        lot = await tx.one("SELECT reference, received_on FROM lots WHERE id = ?", (lot_id,))
        if lot is None:
            raise NotFound(f"no lot {lot_id}")
    if received_on is not None:
        check_lot_day(received_on, lot["received_on"] if lot else None, lot["reference"] if lot else "")
    elif lot is not None and lot["received_on"]:
        received_on = date.fromisoformat(lot["received_on"])
    if not items:
        return []
    prefix = await get_setting(tx, "asset_prefix")
    numbered = [n for n in range(len(items)) if not (asset_tags and asset_tags[n])]  # the others keep theirs
    first = await _take_counter(tx, "asset_tag", len(numbered)) if numbered else 0
    tags = list(asset_tags) if asset_tags else [None] * len(items)
    for k, n in enumerate(numbered):
        tags[n] = f"{prefix}-{first + k:06d}"
    now = now_ms()
    happened = min(happened_ms(received_on) or now, now)
    # The one writer holds the database: ids can be taken in a block and the
    # rows written in two statements (a reception of 1 350 items is one trip).
    base = await tx.value("SELECT coalesce(max(id), 0) + 1 FROM items")
    rows = []
    for n, item in enumerate(items):
        values = [getattr(item, k) for k in _DESCRIPTION]
        if item.weight_g is None:
            values[_WEIGHT] = DEFAULT_WEIGHT_G[item.category]
        rows.append((base + n, gids[n] if gids else new_gid(), tags[n], lot_id, *values, happened, now,
                     *((origins and origins[n]) or _NO_ORIGIN)))  # fmt: skip
    try:
        await tx.run_many(
            f"INSERT INTO items (id, gid, asset_tag, lot_id, {', '.join(_DESCRIPTION)}, state, state_since, created,"
            f" origin_node, origin_offer, origin_receipt) VALUES (?, ?, ?, ?, {', '.join('?' * len(_DESCRIPTION))},"
            " 'received', ?, ?, ?, ?, ?)",
            rows,
        )  # fmt: skip
    except sqlite3.IntegrityError as exc:  # a gid or an asset tag taken
        raise Invalid(f"an item of this batch already exists ({exc})", code="duplicate_item") from exc
    ids = [row[0] for row in rows]
    await tx.run_many(
        "INSERT INTO events (item_id, time, happened, state, detail, operator) VALUES (?, ?, ?, 'received', ?, ?)",
        [(item_id, now, happened, details[n] if details else detail, operator) for n, item_id in enumerate(ids)],
    )
    return ids


async def _take_counter(tx: Tx, name: str, count: int) -> int:
    await tx.run("INSERT INTO counters (name, value) VALUES (?, 0) ON CONFLICT (name) DO NOTHING", (name,))
    await tx.run("UPDATE counters SET value = value + ? WHERE name = ?", (count, name))
    return await tx.value("SELECT value FROM counters WHERE name = ?", (name,)) - count + 1


async def edit_item(tx: Tx, item_id: int, item: ItemEdit) -> None:
    values = {k: getattr(item, k) for k in _DESCRIPTION}
    if values["weight_g"] is None:
        values["weight_g"] = DEFAULT_WEIGHT_G[item.category]
    changed = await tx.changes(
        f"UPDATE items SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?", (*values.values(), item_id)
    )
    if not changed:
        raise NotFound(f"no item {item_id}")


# In the order of Item's fields, so that a row builds an Item by position (four times faster than by name).
_NAMES = ["id", "gid", "asset_tag", "lot_id", "lot_reference", *_DESCRIPTION, "state", "state_since",
          "created"]  # fmt: skip
assert _NAMES == list(Item.__slots__)
_COLUMNS = ", ".join("l.reference AS lot_reference" if n == "lot_reference" else f"i.{n}" for n in _NAMES)
_FROM = " FROM items i LEFT JOIN lots l ON l.id = i.lot_id"
_SELECT = f"SELECT {_COLUMNS}{_FROM}"


async def get_item(db: Reader, item_id: int) -> Item:
    row = await db.one(_SELECT + " WHERE i.id = ?", (item_id,))
    if row is None:
        raise NotFound(f"no item {item_id}")
    return Item(**dict(row))


async def item_id_by_tag(db: Reader, tag_or_gid: str) -> int:
    """Find an item by its asset tag (as printed), its global id (as in the QR code), or a tag it
    carried at a node that held it before (``node.domain.item_tags``), when only one item here carried it."""
    item_id = await db.value(
        "SELECT id FROM items WHERE asset_tag = ? COLLATE NOCASE UNION ALL SELECT id FROM items WHERE gid = ? LIMIT 1",
        (tag_or_gid.strip(), tag_or_gid.strip().lower()),
    )
    if item_id is None:
        former = await items_with_former_tag(db, tag_or_gid)
        if len(former) > 1:
            raise NotFound(f"several items carried the tag {tag_or_gid!r} elsewhere", code="several_items")
        item_id = former[0] if former else None
    if item_id is None:
        raise NotFound(f"no item {tag_or_gid!r}")
    return item_id


async def find_items(
    db: Reader, *, query: str | None = None, state: str | None = None, category: str | None = None,
    lot_id: int | None = None, donor_id: int | None = None, limit: int = 50, offset: int = 0,
) -> ItemPage:  # fmt: skip
    """Search (every word of ``query`` in the item's tag, serial, donor asset number, brand, model,
    category, lot or donor: ``node.store.search``), with filters; newest first. One query: the page and,
    as its last column, the count of all that matches."""
    if state is not None and state not in STATES:
        raise Invalid(f"unknown state {state!r}", code="invalid")
    if category is not None and category not in CATEGORIES:
        raise Invalid(f"unknown category {category!r}", code="invalid")
    if not 1 <= limit <= 500 or offset < 0:
        raise Invalid("limit is 1 to 500 and offset is not negative", code="invalid")
    named: dict[str, object] = {"limit": limit, "offset": offset}
    filters = []  # (column, its condition)
    for column, value in (("state", state), ("category", category), ("lot_id", lot_id)):
        if value is not None:
            filters.append((column, f"= :{column}"))
            named[column] = value
    if donor_id is not None:
        filters.append(("lot_id", "IN (SELECT id FROM lots WHERE donor_id = :donor_id)"))
        named["donor_id"] = donor_id
    expression = search.match(query or "")
    if expression is not None:
        named["match"] = expression
        page, count = _search(filters)
    elif query and query.strip():  # only signs, no word: nothing has it
        page, count = "SELECT id FROM items WHERE 0", "SELECT 0"
    else:
        where = " AND ".join(f"{column} {condition}" for column, condition in filters)
        where = f" WHERE {where}" if where else ""
        page, count = f"SELECT id FROM items{where} ORDER BY id DESC", f"SELECT count(*) FROM items{where}"
    # The page's ids are skipped through on an index (an OFFSET over whole joined rows cost
    # 0.8 ms at page 200), then only those rows are read and joined; the count rides along
    # as a last column, computed once: one round trip to the database.
    rows = await db.all(
        f"SELECT {_COLUMNS}, ({count}){_FROM} WHERE i.id IN ({page} LIMIT :limit OFFSET :offset)"
        " ORDER BY i.id DESC",
        named,
    )
    if rows:
        total = rows[0][-1]
    else:  # nothing found, or past the last page
        total = 0 if offset == 0 else await db.value(count, named)
    return ItemPage([Item(*r[:-1]) for r in rows], total, limit, offset)


def _search(filters: list[tuple[str, str]]) -> tuple[str, str]:
    """The ids of a search's page (newest first) and the count of its matches, from ``items_search``.

    The FTS5 index gives the matching ids in descending order, so the page
    stops at its last row; the items' rows are read only for the filters.
    """
    conditions = ["items_search MATCH :match", *(f"i.{column} {condition}" for column, condition in filters)]
    join = " JOIN items i ON i.id = items_search.rowid" if filters else ""
    where = " AND ".join(conditions)
    page = f"SELECT items_search.rowid FROM items_search{join} WHERE {where} ORDER BY items_search.rowid DESC"
    return page, f"SELECT count(*) FROM items_search{join} WHERE {where}"


async def history(db: Reader, item_id: int) -> list[Event]:
    rows = await db.all(
        "SELECT id, item_id, time, state, step, detail, operator, corrects, happened FROM events WHERE item_id = ?"
        " ORDER BY id",
        (item_id,),
    )
    if not rows and await db.value("SELECT 1 FROM items WHERE id = ?", (item_id,)) is None:
        raise NotFound(f"no item {item_id}")
    return [Event(**{**dict(r), "detail": json.loads(r["detail"])}) for r in rows]
