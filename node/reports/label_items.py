"""Which items to print labels for: a lot, a range of asset tags, a creation period, or a list.

The filters given are combined (all must hold); at least one is needed, so
that nobody prints the whole workshop by mistake. Items come in creation
order, which is asset-tag order for tags the node numbered itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from node.domain.settings import get_setting
from node.errors import Invalid, NotFound
from node.store.database import Reader

__all__ = ["LabelItem", "MAX_LABELS", "label_items", "normalise_tag"]

MAX_LABELS = 5000
_TAG_DIGITS = 6  # node.domain.items numbers tags PREFIX-000042
_NUMBERED = re.compile(r"^(?:(?P<prefix>[A-Za-z0-9]+)-)?(?P<number>[0-9]{1,9})$")


@dataclass(frozen=True, slots=True)
class LabelItem:
    """What a label shows of an item."""

    id: int
    gid: str
    asset_tag: str
    category: str
    brand: str | None
    model: str | None
    serial: str | None
    lot_reference: str | None


async def normalise_tag(db: Reader, text: str) -> str:
    """An asset tag as the node writes it: ``42`` and ``mln-42`` become ``MLN-000042``.

    A volunteer reads "42" on a label and types it; tags the node did not
    number itself (imported ones) are returned as typed.
    """
    text = text.strip()
    match = _NUMBERED.match(text)
    if match is None:
        return text
    prefix = match["prefix"] or await get_setting(db, "asset_prefix")
    return f"{prefix.upper()}-{int(match['number']):0{_TAG_DIGITS}d}"


_SELECT = """
SELECT i.id, i.gid, i.asset_tag, i.category, i.brand, i.model, i.serial, l.reference AS lot_reference
FROM items i LEFT JOIN lots l ON l.id = i.lot_id
"""


async def label_items(
    db: Reader, *, lot_id: int | None = None, tag_range: tuple[str, str] | None = None,
    created: tuple[int, int] | None = None, item_ids: Sequence[int] | None = None, limit: int = MAX_LABELS,
) -> list[LabelItem]:  # fmt: skip
    """The items matching every filter given, oldest first.

    ``tag_range`` is inclusive and compared as text without regard to case
    (tags of one prefix and width sort like their numbers; see
    ``normalise_tag``); ``created`` is half-open, in protocol milliseconds.
    Raises ``Invalid`` (``no_selection``) without a filter,
    (``invalid_range``) for a range that ends before it starts,
    (``too_many_labels``) past ``limit`` items; ``NotFound`` for a lot
    that does not exist.
    """
    where: list[str] = []
    params: dict[str, object] = {}
    if lot_id is not None:
        if await db.value("SELECT 1 FROM lots WHERE id = ?", (lot_id,)) is None:
            raise NotFound(f"no lot {lot_id}")
        where.append("i.lot_id = :lot_id")
        params["lot_id"] = lot_id
    if tag_range is not None:
        first, last = tag_range
        if first.upper() > last.upper():
            raise Invalid(f"the range {first} to {last} ends before it starts", code="invalid_range")
        # Compared with NOCASE, the collation of the items_asset_tag index.
        where.append("i.asset_tag COLLATE NOCASE BETWEEN :first AND :last")
        params.update(first=first, last=last)
    if created is not None:
        where.append("i.created >= :since AND i.created < :until")
        params.update(since=created[0], until=created[1])
    if item_ids is not None:
        where.append("i.id IN (SELECT value FROM json_each(:ids))")
        params["ids"] = json.dumps([int(i) for i in item_ids])
    if not where:
        raise Invalid("choose the items to label: a lot, a range of asset tags, a day or a list",
                      code="no_selection")  # fmt: skip
    clause = " WHERE " + " AND ".join(where)
    rows = await db.all(_SELECT + clause + " ORDER BY i.id LIMIT :limit", {**params, "limit": limit + 1})
    if len(rows) > limit:
        total = await db.value("SELECT count(*) FROM items i" + clause, params)
        raise Invalid(f"{total} items selected; at most {limit} labels at a time", code="too_many_labels")
    return [LabelItem(**dict(row)) for row in rows]
