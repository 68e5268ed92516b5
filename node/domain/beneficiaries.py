"""Beneficiaries: local and private. Personal details are optional and erased
after the retention period; the pseudonymous code and the category stay.
Nothing here ever leaves the node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from node.domain.settings import get_setting
from node.errors import NotFound
from node.store.database import Reader, Tx, now_ms
from node.store.search import fold
from node.validation import Input

__all__ = ["BeneficiaryInput", "Beneficiary", "create_beneficiary", "get_beneficiary", "list_beneficiaries",
           "find_beneficiaries", "erase_expired", "BENEFICIARY_CATEGORIES"]  # fmt: skip

BENEFICIARY_CATEGORIES = ("person", "association", "school", "ess", "other")
DAY_MS = 86_400_000
FOUND_MAX = 50
_WORDS_MAX = 8


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


async def find_beneficiaries(db: Reader, text: str, *, category_names: Mapping[str, Iterable[str]] | None = None,
                             limit: int = FOUND_MAX) -> list[Beneficiary]:  # fmt: skip
    """The beneficiaries every word of ``text`` finds, newest first (the one whose number is typed first).

    A word finds a beneficiary when it is in its code (``B-000042``, ``42``),
    its referrer, or a name of its category (``category_names``: the names
    the person reads, in their language; the code itself always counts).
    Case and accents do not matter (``ecole`` finds ``École``). The name and
    contact are never searched: a search field must not reveal them.
    """
    words = list(dict.fromkeys(fold(text).replace(",", " ").split()))[:_WORDS_MAX]
    if not words:
        return await list_beneficiaries(db, limit=limit)
    names = {code: {fold(code), *(fold(n) for n in category_names.get(code, ()))} if category_names else {fold(code)}
             for code in BENEFICIARY_CATEGORIES}  # fmt: skip
    where, params, exact = [], [], None
    for word in words:
        categories = [code for code, known in names.items() if any(word in name for name in known)]
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clause = ("(lower(code) LIKE ? ESCAPE '\\' OR maillon_fold(coalesce(referrer, '')) LIKE ? ESCAPE '\\'"
                  f" OR category IN ({', '.join('?' * len(categories)) or 'NULL'}))")  # fmt: skip
        where.append(clause)
        params += [like, like, *categories]
        digits = word.removeprefix("b-").lstrip("0")
        if digits.isdigit() and len(digits) <= 18:
            exact = int(digits)
    rows = await db.all(f"SELECT {_FIELDS} FROM beneficiaries WHERE {' AND '.join(where)}"
                        " ORDER BY id = ? DESC, id DESC LIMIT ?", (*params, exact, limit))  # fmt: skip
    return [Beneficiary(**dict(r)) for r in rows]


async def erase_expired(tx: Tx, *, now: int | None = None) -> int:
    """Erase the personal details whose retention has run out; return how many."""
    now = now_ms() if now is None else now
    return await tx.changes(
        "UPDATE beneficiaries SET name = NULL, contact = NULL, referrer = NULL, erased = ?"
        " WHERE erase_after IS NOT NULL AND erase_after <= ? AND erased IS NULL",
        (now, now),
    )
