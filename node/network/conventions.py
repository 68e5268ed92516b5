"""Peering conventions: two networks agree to exchange hand-offs (``peering.convention/1``).

One hub proposes a convention by signing it; the other accepts by signing
the same body, byte for byte. It is **in force** when both hubs hold a
record of it with the same content hash and the time is within its
validity (PROTOCOL.md). Cross-network hand-offs need one in force.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.store.database import Reader, now_ms
from protocol import canonical
from protocol.kinds import PeeringConvention
from protocol.records import stored_header

__all__ = ["Convention", "list_conventions", "peered"]


@dataclass(frozen=True, slots=True)
class Convention:
    """One convention body and who signed it."""

    content_hash: bytes
    body: PeeringConvention
    content: bytes
    signed_by: frozenset[bytes]
    record_ids: tuple[bytes, ...]  # the signatures held (either names it)

    @property
    def complete(self) -> bool:
        return set(self.body.hubs) <= self.signed_by

    def in_force(self, at: int) -> bool:
        return self.complete and self.body.valid_from <= at < self.body.valid_until

    def state(self, at: int) -> str:
        """``in_force``, ``expired``, ``not_yet`` or ``proposed`` (one signature only)."""
        if not self.complete:
            return "proposed"
        if at >= self.body.valid_until:
            return "expired"
        return "in_force" if at >= self.body.valid_from else "not_yet"


async def list_conventions(db: Reader, hub: bytes | None = None) -> list[Convention]:
    """The conventions held (naming ``hub`` when given), newest first."""
    rows = await db.all("SELECT id, author, envelope, content FROM log_records"
                        " WHERE kind = ? AND content IS NOT NULL ORDER BY time DESC", (PeeringConvention.KIND,))  # fmt: skip
    found: dict[bytes, Convention] = {}
    for row in rows:
        body = PeeringConvention.model_validate(canonical.decode(row["content"]))
        if row["author"] not in body.hubs or (hub is not None and hub not in body.hubs):
            continue  # only the two hubs' own signatures count
        content_hash = stored_header(row["envelope"]).content_hash
        known = found.get(content_hash)
        signers = (known.signed_by if known else frozenset()) | {row["author"]}
        ids = (known.record_ids if known else ()) + (row["id"],)
        found[content_hash] = Convention(content_hash, body, row["content"], signers, ids)
    return list(found.values())


async def peered(db: Reader, a: bytes, b: bytes, at: int | None = None) -> bool:
    """Whether hubs ``a`` and ``b`` have a convention in force at ``at`` (now by default)."""
    at = now_ms() if at is None else at
    return any(c.in_force(at) and set(c.body.hubs) == {a, b} for c in await list_conventions(db, a))
