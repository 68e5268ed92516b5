"""Donors as the donor list shows them: each with the number of its lots."""

from __future__ import annotations

from dataclasses import dataclass

from node.errors import Invalid
from node.store.database import Reader

__all__ = ["DonorSummary", "donor_summaries", "count_donors"]


@dataclass(frozen=True, slots=True)
class DonorSummary:
    id: int
    name: str
    type: str
    siret: str | None
    lots: int


async def donor_summaries(db: Reader, *, limit: int = 50, offset: int = 0) -> list[DonorSummary]:
    """Donors by name, with how many lots each gave (counted through the ``lots_donor`` index)."""
    if not 1 <= limit <= 500 or offset < 0:
        raise Invalid("limit is 1 to 500 and offset is not negative", code="invalid")
    rows = await db.all(
        "SELECT d.id, d.name, d.type, d.siret, (SELECT count(*) FROM lots l WHERE l.donor_id = d.id) AS lots"
        " FROM donors d ORDER BY d.name COLLATE NOCASE, d.id LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [DonorSummary(**dict(r)) for r in rows]


async def count_donors(db: Reader) -> int:
    return await db.value("SELECT count(*) FROM donors")
