"""The publication policy turned into audiences: who may read what this node signs.

The ``publication_policy`` setting says, for item fates, statistics and
workforce figures, one of ``none``, ``hub``, ``network`` or ``public``. A
record's audience is fixed when it is signed, and the federation sends its
content only to that audience (sealed), so what is not published cannot be
pulled by anyone:

- ``none``: this node alone (fates are still recorded, privately);
- ``hub``: this node and its upstream (the hub that admitted it);
- ``network``: also every node its upstream certified (their
  ``membership.certificate/1``, held from the upstream's log); more than 63
  readers falls back to ``hub`` (an audience holds at most 64 keys);
- ``public``: anyone (an empty audience).
"""

from __future__ import annotations

import json

from node.domain.memberships import certificates
from node.domain.settings import get_setting
from node.store.database import Reader, Tx, now_ms
from protocol.records import MAX_AUDIENCE

__all__ = ["audience_for", "audience_of", "fates_audience", "reaches", "TOPICS"]

TOPICS = ("stats", "fates", "workforce")


async def audience_for(tx: Tx, topic: str) -> tuple[bytes, ...] | None:
    """The audience for ``topic`` under the policy; ``None`` when the policy says ``none``."""
    return await audience_of(tx, tx.author, topic)


async def audience_of(tx: Reader, me: bytes, topic: str) -> tuple[bytes, ...] | None:
    """The audience a record of ``me`` on ``topic`` gets when signed now (``audience_for`` outside a transaction)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown publication topic {topic!r}")
    level = json.loads(await get_setting(tx, "publication_policy"))[topic]  # checked when set
    if level == "none":
        return None
    if level == "public":
        return ()
    upstream = [row[0] for row in await tx.all(
        "SELECT key FROM peers WHERE relation = 'upstream' AND state = 'active'")]  # fmt: skip
    readers = {me, *upstream}
    if level == "network":
        network = readers | await _certified(tx, upstream)
        readers = network if len(network) <= MAX_AUDIENCE else readers
    return tuple(sorted(readers))


def reaches(audience: tuple[bytes, ...], readers: tuple[bytes, ...] | None) -> bool:
    """Whether every reader of ``readers`` (an audience; ``()`` anyone) may read a record of ``audience``."""
    if audience == () or readers is None:
        return True
    return readers != () and set(readers) <= set(audience)


async def _certified(db: Reader, issuers: list[bytes]) -> set[bytes]:
    """Keys the issuers certified, with a certificate valid now."""
    now = now_ms()
    return {c.member for c in await certificates(db, issuers) if c.valid_at(now)}


def fates_audience(policy: tuple[bytes, ...] | None, me: bytes, origin: bytes | None) -> tuple[bytes, ...]:
    """The audience of an ``item.fates/1`` record under ``policy`` (``audience_for(tx, "fates")``).

    Items another node handed over (``origin``) report to it whatever the
    policy says: it is the origin's donor report. Such a record is then
    addressed (the policy's readers, this node, the origin) rather than
    public, so that it is pushed to the origin.
    """
    readers = {me} if not policy else set(policy)
    if origin is not None:
        readers |= {me, origin}
    elif policy == ():
        return ()
    return tuple(sorted(readers))
