"""How many lots there are (all, or one donor's), to page through ``node.domain.lots.list_lots``."""

from __future__ import annotations

from node.store.database import Reader

__all__ = ["count_lots"]


async def count_lots(db: Reader, *, donor_id: int | None = None) -> int:
    if donor_id is None:
        return await db.value("SELECT count(*) FROM lots")
    return await db.value("SELECT count(*) FROM lots WHERE donor_id = ?", (donor_id,))
