"""Membership certificates as held: who a hub (or national) admitted, for which time.

A ``membership.certificate/1`` is a record of the admitting node's log; any
node holding that log reads them here: the hub itself, its members (they
follow the hub's log), national (it holds the hubs' logs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from node.domain.stats import period_bounds
from node.store.database import Reader
from protocol import canonical
from protocol.kinds import MembershipCertificate

__all__ = ["Membership", "certificates", "members_during", "covered", "network_keys"]


@dataclass(frozen=True, slots=True)
class Membership:
    """A certificate as held: by whom (``issuer``), for which key, role and time."""

    record_id: bytes
    issuer: bytes
    member: bytes
    name: str
    role: str
    network: str
    valid_from: int
    valid_until: int

    def covers(self, start: int, end: int) -> bool:
        """Valid for some of the time [start, end)."""
        return self.valid_from < end and self.valid_until > start

    def valid_at(self, at: int) -> bool:
        return self.valid_from <= at < self.valid_until


async def certificates(db: Reader, issuers: Iterable[bytes], *, member: bytes | None = None) -> list[Membership]:
    """The membership certificates ``issuers`` signed that are held here (for ``member`` alone if given), oldest first."""
    issuers = tuple(issuers)
    if not issuers:
        return []
    marks = ", ".join("?" * len(issuers))
    # the member's key is in the content's bytes: a cheap filter before decoding
    only = " AND instr(content, ?) > 0" if member is not None else ""
    rows = await db.all(f"SELECT id, author, content FROM log_records WHERE kind = ? AND author IN ({marks})"
                        f" AND content IS NOT NULL{only} ORDER BY time, seq",
                        (MembershipCertificate.KIND, *issuers, *((member,) if member is not None else ())))  # fmt: skip
    out = []
    for row in rows:
        body = MembershipCertificate.model_validate(canonical.decode(row["content"]))
        if member is None or body.member == member:
            out.append(Membership(row["id"], row["author"], body.member, body.member_name, body.role, body.network,
                                  body.valid_from, body.valid_until))  # fmt: skip
    return out


async def members_during(db: Reader, issuers: Iterable[bytes], period: str) -> dict[bytes, str]:
    """Members (role ``member``) certified by ``issuers`` for some of ``period``, with their names."""
    start, end = period_bounds(period)
    return {c.member: c.name for c in await certificates(db, issuers) if c.role == "member" and c.covers(start, end)}


async def covered(db: Reader, issuers: Iterable[bytes], member: bytes, period: str) -> bool:
    """Whether a certificate of ``issuers`` for ``member`` covers some of ``period``."""
    start, end = period_bounds(period)
    return any(c.covers(start, end) for c in await certificates(db, issuers, member=member))


async def network_keys(db: Reader, me: bytes) -> frozenset[bytes]:
    """The keys of this node's network: this node, its hub, and every member its hub certified.

    A hub's network is itself and the members it certified; a member's, its
    hub (an active upstream of role ``hub``) and the members that hub
    certified. Taken from the certificates held (signed records), never
    from what a node says of itself. National's upstream role is not
    ``hub``: the hubs it admitted are each their own network.
    """
    hubs = [row[0] for row in await db.all(
        "SELECT key FROM peers WHERE relation = 'upstream' AND role = 'hub' AND state = 'active'")]  # fmt: skip
    certified = {c.member for c in await certificates(db, (me, *hubs)) if c.role == "member"}
    return frozenset({me, *hubs, *certified})
