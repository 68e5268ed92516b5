"""What a received record changes on this node, beyond being held.

One function per kind, called by the inbox in the receiving transaction
with the record and its parsed body (only when this node may read it).
Trust kinds, the lot hand-off (``node.network.handoffs``) and, at a hub, members'
statistics reports (``node.network.regional``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from node.domain import alerts, fate_evidence
from node.domain.realistic import check_realistic
from node.errors import DomainError, StoreError
from node.network import handoff_fates, handoffs, regional
from node.network import peers as trust
from node.network.recovery import answers_held
from node.store.database import Tx
from protocol import canonical
from protocol.custody_kinds import ItemFates2, LotOffer2, LotReceipt2
from protocol.kinds import (
    ItemFates,
    KeyRevocation,
    KeyRotation,
    LotAccept,
    LotCancel,
    LotDecline,
    LotOffer,
    LotReceipt,
    NodeDescriptor,
    StatsReport,
)  # fmt: skip
from protocol.records import Record, open_entry

__all__ = ["apply_effects", "apply_deferred", "EFFECTS"]

Effect = Callable[[Tx, bytes, Record, Any], Awaitable[None]]


def _read(record: Record, body: Any) -> Any:
    """The record's body: as parsed when it was checked, or parsed now (checks made on a worker process send none)."""
    return body if body is not None else record.body()


async def _descriptor(tx: Tx, me: bytes, record: Record, body: NodeDescriptor | None) -> None:
    """A peer tells who it is and where it is now: never its role (``role_not_certified``), only an origin (``bad_url``)."""
    body = _read(record, body)
    await trust.update_peer_descriptor(
        tx, record.header.author, name=body.name, role=body.role, url=body.endpoints[0] if body.endpoints else None,
        encryption_key=body.encryption_key, network=body.network,
    )  # fmt: skip


_descriptor.checks_first = True  # type: ignore[attr-defined]  # update_peer_descriptor refuses before it writes


async def _revocation(tx: Tx, me: bytes, record: Record, body: KeyRevocation | None) -> None:
    """A key revoked by itself, or by the node that admitted it (this node's upstream)."""
    body = _read(record, body)
    issuer = record.header.author
    if issuer != body.key:
        upstream = await trust.get_peer(tx, issuer)
        if upstream is None or upstream.relation != "upstream" or not upstream.active:
            return
    if body.key == me:
        await alerts.raise_alert(tx, "revoked", "revoked_key", author=issuer, detail=body.reason)
        return
    if await trust.get_peer(tx, body.key) is not None:
        await trust.revoke_peer(tx, body.key, body.from_seq)


async def _rotation(tx: Tx, me: bytes, record: Record, body: KeyRotation | None) -> None:
    """The old key names its successor: a peer stays trusted under its new key."""
    await trust.rotate_peer(tx, record.header.author, _read(record, body).new_key)


async def _stats_report(tx: Tx, me: bytes, record: Record, body: StatsReport | None) -> None:
    """At a hub, a member's report: refused (an alert) when it cannot count in the summary."""
    key = ("downstream member", record.header.author)  # a relation and role no received record changes
    if key not in tx.memo:
        peer = await trust.get_peer(tx, record.header.author)
        tx.memo[key] = peer is not None and peer.relation == "downstream" and peer.role == "member"
    if tx.memo[key]:
        await regional.report_received(tx, record, _read(record, body))


_stats_report.checks_first = True  # type: ignore[attr-defined]


def _domain(function: Callable[[Tx, Record, Any], Awaitable[Any]], *, checks_first: bool = True,
            concerns: Callable[[Tx, bytes], Awaitable[bool]] | None = None) -> Effect:  # fmt: skip
    """An effect of node/: ``checks_first`` when it refuses before it writes anything (no savepoint needed).

    ``concerns(tx, author)``: whether records of that author may concern
    this node at all; when not, the body is not even parsed.
    """

    async def effect(tx: Tx, me: bytes, record: Record, body: Any) -> None:
        if concerns is not None and not await concerns(tx, record.header.author):
            return
        body = _read(record, body)
        check_realistic(body)  # a time, weight or count beyond what a workshop records changes nothing here
        await function(tx, record, body)

    effect.checks_first = checks_first  # type: ignore[attr-defined]
    return effect


async def _offer_received(tx: Tx, record: Record, body: LotOffer) -> None:
    """An offer to this node; answers it already holds (its own, taken back after a restore) apply now."""
    if await handoffs.offer_received(tx, record, body):
        await answers_held(tx, record.id)


EFFECTS: dict[str, Effect] = {
    NodeDescriptor.KIND: _descriptor,
    KeyRevocation.KIND: _revocation,
    KeyRotation.KIND: _rotation,
    LotOffer.KIND: _domain(_offer_received),
    LotOffer2.KIND: _domain(_offer_received),
    LotAccept.KIND: _domain(handoffs.answer_received),
    LotDecline.KIND: _domain(handoffs.answer_received),
    LotCancel.KIND: _domain(handoffs.answer_received),
    LotReceipt.KIND: _domain(handoffs.receipt_received, checks_first=False),
    LotReceipt2.KIND: _domain(handoffs.receipt_received, checks_first=False),
    ItemFates.KIND: _domain(handoff_fates.fates_received, concerns=handoff_fates.handed_to),
    ItemFates2.KIND: _domain(fate_evidence.fates_received, checks_first=False, concerns=handoff_fates.handed_to),
    StatsReport.KIND: _stats_report,
}


async def apply_effects(tx: Tx, me: bytes, record: Record, body: Any) -> None:
    """Apply what ``record`` changes here; a rule it breaks undoes its effect alone and raises an alert.

    ``body``: the record's parsed body, or None when it was checked on a
    worker process (then parsed here, only if an effect needs it).

    The record itself stays held (its author's log must stay whole); only
    its effect is refused, with the rule's code, for the admin to see.
    """
    effect = EFFECTS.get(record.header.kind)
    if effect is None:
        return
    try:
        if getattr(effect, "checks_first", False) and not tx.signing_held:
            await effect(tx, me, record, body)  # refuses before writing: nothing to undo
        else:
            async with tx.savepoint():
                await effect(tx, me, record, body)
    except StoreError as exc:
        if exc.code != "resync_required":
            raise
        # The effect signs (a transfer's fates, fates passed on) and the node cannot yet: the record is
        # held all the same (the batch it came in, perhaps with this node's own records given back,
        # goes through), and its effect applies once the node signs again.
        await tx.run("INSERT INTO deferred_effects (record_id) VALUES (?) ON CONFLICT DO NOTHING", (record.id,))
    except DomainError as exc:
        await alerts.raise_alert(tx, "refused_effect", exc.code, author=record.header.author, seq=record.header.seq,
                                detail=f"{record.header.kind}: {exc.message}")  # fmt: skip


async def apply_deferred(tx: Tx, me: bytes) -> int:
    """Apply the effects put off while the node could not sign, in the order their records came; how many."""
    rows = await tx.all("SELECT r.envelope, r.content FROM deferred_effects d JOIN log_records r ON r.id = d.record_id"
                        " ORDER BY r.rowid")  # fmt: skip
    await tx.run("DELETE FROM deferred_effects")
    for envelope, content in rows:
        await apply_effects(tx, me, open_entry(canonical.encode([envelope, content])), None)
    return len(rows)
