"""The parts of an item's life as a donor or a receiver of components.

``node.domain.workflow`` records a part harvested from an item and fitted into
another; this module reads, for one item, the parts taken out of it and the
parts fitted into it, each with the other item's asset tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.store.database import Reader

__all__ = ["Component", "ItemComponents", "components_of"]


@dataclass(frozen=True, slots=True)
class Component:
    id: int
    description: str
    from_item: int
    from_tag: str
    to_item: int | None
    to_tag: str | None
    harvested: int
    fitted: int | None


@dataclass(frozen=True, slots=True)
class ItemComponents:
    harvested: list[Component]  # taken out of this item (fitted elsewhere or waiting)
    fitted: list[Component]  # taken from other items and fitted into this one


_SELECT = """
SELECT c.id, c.description, c.from_item, f.asset_tag AS from_tag, c.to_item, t.asset_tag AS to_tag,
       c.harvested, c.fitted
FROM components c JOIN items f ON f.id = c.from_item LEFT JOIN items t ON t.id = c.to_item
"""


async def components_of(db: Reader, item_id: int) -> ItemComponents:
    harvested = await db.all(_SELECT + " WHERE c.from_item = ? ORDER BY c.id", (item_id,))
    fitted = await db.all(_SELECT + " WHERE c.to_item = ? ORDER BY c.id", (item_id,))
    return ItemComponents([Component(**dict(r)) for r in harvested], [Component(**dict(r)) for r in fitted])
