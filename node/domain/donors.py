"""Donors: who gives the equipment (public bodies, companies, associations)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from node.errors import NotFound
from node.store.database import Reader, Tx, now_ms
from node.validation import Input

__all__ = ["DonorInput", "Donor", "create_donor", "update_donor", "get_donor", "list_donors", "DONOR_TYPES"]

DONOR_TYPES = ("public_body", "company", "association")
Short = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


class DonorInput(Input):
    name: Short
    type: Literal["public_body", "company", "association"]
    siret: Annotated[str, Field(pattern=r"^[0-9]{14}$")] | None = None
    contact_name: Short | None = None
    contact_email: Annotated[str, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    contact_phone: Annotated[str, Field(max_length=40)] | None = None
    address: Annotated[str, Field(max_length=500)] | None = None


@dataclass(frozen=True, slots=True)
class Donor:
    id: int
    name: str
    type: str
    siret: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    address: str | None
    created: int


_FIELDS = "id, name, type, siret, contact_name, contact_email, contact_phone, address, created"


async def create_donor(tx: Tx, donor: DonorInput) -> int:
    return await tx.run(
        "INSERT INTO donors (name, type, siret, contact_name, contact_email, contact_phone, address, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (donor.name, donor.type, donor.siret, donor.contact_name, donor.contact_email,
         donor.contact_phone, donor.address, now_ms()),
    )  # fmt: skip


async def update_donor(tx: Tx, donor_id: int, donor: DonorInput) -> None:
    changed = await tx.changes(
        "UPDATE donors SET name = ?, type = ?, siret = ?, contact_name = ?, contact_email = ?,"
        " contact_phone = ?, address = ? WHERE id = ?",
        (donor.name, donor.type, donor.siret, donor.contact_name, donor.contact_email,
         donor.contact_phone, donor.address, donor_id),
    )  # fmt: skip
    if not changed:
        raise NotFound(f"no donor {donor_id}")


async def get_donor(db: Reader, donor_id: int) -> Donor:
    row = await db.one(f"SELECT {_FIELDS} FROM donors WHERE id = ?", (donor_id,))
    if row is None:
        raise NotFound(f"no donor {donor_id}")
    return Donor(**dict(row))


async def list_donors(db: Reader) -> list[Donor]:
    return [Donor(**dict(row)) for row in await db.all(f"SELECT {_FIELDS} FROM donors ORDER BY name")]
