"""How items arrived from another node: the hand-off lines the reception marked damaged."""

from __future__ import annotations

from node.store.database import Reader

__all__ = ["damaged_offers"]


async def damaged_offers(db: Reader, item_id: int) -> set[str]:
    """The offers (hex record ids) whose reception here marked the item damaged (``handoff_items.damaged``)."""
    rows = await db.all(
        "SELECT h.offer FROM handoff_items l JOIN handoffs h ON h.offer = l.offer"
        " WHERE l.item_id = ? AND l.damaged = 1 AND h.direction = 'in'",
        (item_id,),
    )
    return {bytes(r[0]).hex() for r in rows}
