"""What a received record changes on this node, beyond being held.

One function per kind, called by the inbox in the receiving transaction
with the record and its parsed body (only when this node may read it).
The hand-off and statistics issues add their kinds here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from node import peers as trust
from node.store import Tx
from protocol.kinds import KeyRevocation, KeyRotation, NodeDescriptor
from protocol.records import Record

__all__ = ["apply_effects", "EFFECTS"]

Effect = Callable[[Tx, bytes, Record, Any], Awaitable[None]]


async def _descriptor(tx: Tx, me: bytes, record: Record, body: NodeDescriptor) -> None:
    """A peer tells who it is and where it is now."""
    await trust.update_peer_descriptor(
        tx, record.header.author, name=body.name, role=body.role, url=body.endpoints[0] if body.endpoints else None,
        encryption_key=body.encryption_key, network=body.network,
    )  # fmt: skip


async def _revocation(tx: Tx, me: bytes, record: Record, body: KeyRevocation) -> None:
    """A key revoked by itself, or by the node that admitted it (this node's upstream)."""
    issuer = record.header.author
    if issuer != body.key:
        upstream = await trust.get_peer(tx, issuer)
        if upstream is None or upstream.relation != "upstream" or not upstream.active:
            return
    if body.key == me:
        await trust.raise_alert(tx, "revoked", "revoked_key", author=issuer, detail=body.reason)
        return
    if await trust.get_peer(tx, body.key) is not None:
        await trust.revoke_peer(tx, body.key, body.from_seq)


async def _rotation(tx: Tx, me: bytes, record: Record, body: KeyRotation) -> None:
    """The old key names its successor: a peer stays trusted under its new key."""
    await trust.rotate_peer(tx, record.header.author, body.new_key)


EFFECTS: dict[str, Effect] = {
    NodeDescriptor.KIND: _descriptor,
    KeyRevocation.KIND: _revocation,
    KeyRotation.KIND: _rotation,
}


async def apply_effects(tx: Tx, me: bytes, record: Record, body: Any) -> None:
    effect = EFFECTS.get(record.header.kind)
    if effect is not None:
        await effect(tx, me, record, body)
