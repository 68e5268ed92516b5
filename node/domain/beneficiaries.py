"""Beneficiaries: local and private. Personal details are optional and erased
after the retention period; the pseudonymous code and the category stay.
Nothing here ever leaves the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from node.domain.settings import get_setting
from node.errors import NotFound
from node.store.database import Reader, Tx, now_ms
from node.validation import Input

__all__ = ["BeneficiaryInput", "Beneficiary", "create_beneficiary", "get_beneficiary", "list_beneficiaries",
           "erase_expired", "BENEFICIARY_CATEGORIES"]  # fmt: skip

BENEFICIARY_CATEGORIES = ("person", "association", "school", "ess", "other")
DAY_MS = 86_400_000


class BeneficiaryInput(Input):
    category: Literal["person", "association", "school", "ess", "other"]
    referrer: Annotated[str, Field(max_length=200)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")] | None = None
    contact: Annotated[str, Field(max_length=500)] | None = None


@dataclass(frozen=True, slots=True)
class Beneficiary:
    id: int
    code: str
    category: str
    referrer: str | None
    name: str | None
    contact: str | None
    created: int
    erase_after: int | None
    erased: int | None


async def create_beneficiary(tx: Tx, beneficiary: BeneficiaryInput) -> int:
    """Register a beneficiary with a fresh pseudonymous code (B-000042)."""
    retention = await get_setting(tx, "beneficiary_retention_days")
    now = now_ms()
    has_details = beneficiary.name is not None or beneficiary.contact is not None
    beneficiary_id = await tx.run(
        "INSERT INTO beneficiaries (code, category, referrer, name, contact, created, erase_after)"
        " VALUES ('pending', ?, ?, ?, ?, ?, ?)",
        (beneficiary.category, beneficiary.referrer, beneficiary.name, beneficiary.contact, now,
         now + retention * DAY_MS if has_details else None),
    )  # fmt: skip
    await tx.run("UPDATE beneficiaries SET code = ? WHERE id = ?", (f"B-{beneficiary_id:06d}", beneficiary_id))
    return beneficiary_id


_FIELDS = "id, code, category, referrer, name, contact, created, erase_after, erased"


async def get_beneficiary(db: Reader, beneficiary_id: int) -> Beneficiary:
    row = await db.one(f"SELECT {_FIELDS} FROM beneficiaries WHERE id = ?", (beneficiary_id,))
    if row is None:
        raise NotFound(f"no beneficiary {beneficiary_id}")
    return Beneficiary(**dict(row))


async def list_beneficiaries(db: Reader, *, limit: int = 100, offset: int = 0) -> list[Beneficiary]:
    rows = await db.all(f"SELECT {_FIELDS} FROM beneficiaries ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset))
    return [Beneficiary(**dict(r)) for r in rows]


async def erase_expired(tx: Tx, *, now: int | None = None) -> int:
    """Erase the personal details whose retention has run out; return how many."""
    now = now_ms() if now is None else now
    return await tx.changes(
        "UPDATE beneficiaries SET name = NULL, contact = NULL, referrer = NULL, erased = ?"
        " WHERE erase_after IS NOT NULL AND erase_after <= ? AND erased IS NULL",
        (now, now),
    )
