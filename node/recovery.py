"""What a node's own records mean again when it takes them back after a restore.

A node restored from a backup lacks what it did after the backup was made.
Its log is not lost: the nodes it sent its records to hold them, and the
federation takes them back (``federation.engine`` resync) before the node
signs anything. The records alone say what the node did: it offered a lot,
accepted or declined an offer, withdrew one, received a lot, an item
reached its fate, it admitted a member. ``replay`` applies each again to
the node's own tables, without signing anything (the records are signed
already), so that the node ends in the state its log says.

Replaying is idempotent: a record whose effect is there already changes
nothing, and so does one whose counterpart is not held yet (an accept of
an offer taken back later, the fates of items a receipt taken back later
creates). The resync therefore replays once its own log is back, takes
back the logs of the nodes those records name, and replays again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from node import handoffs, peers
from node.errors import DomainError
from node.states import can_move
from node.store import IN_ARRAY, Tx, as_array
from protocol.kinds import (
    ItemFates, LotAccept, LotCancel, LotDecline, LotOffer, LotReceipt, MembershipCertificate,
)  # fmt: skip
from protocol.records import Record

__all__ = ["replay"]


async def replay(tx: Tx, records: Sequence[Record]) -> int:
    """Apply again the effects of this node's own ``records`` (in seq order); return how many changed something."""
    changed = 0
    for record in records:
        if record.header.author != tx.author or record.content is None:
            continue
        replayer = _REPLAYERS.get(record.header.kind)
        if replayer is None:
            continue
        try:
            async with tx.savepoint():
                changed += bool(await replayer(tx, record, record.body()))
        except DomainError as exc:  # the record stays held; what it says could not be applied here
            await peers.raise_alert(tx, "refused_effect", exc.code, author=record.header.author,
                                    seq=record.header.seq, detail=f"{record.header.kind} taken back: {exc.message}")
    return changed


async def _offer(tx: Tx, record: Record, body: LotOffer) -> bool:
    """An offer this node made: the hand-off and its lines, pointing at the items still here."""
    if await tx.value("SELECT 1 FROM handoffs WHERE offer = ?", (record.id,)):
        # its lines point at the items a receipt taken back since has brought here
        return bool(await tx.changes("UPDATE handoff_items SET item_id = (SELECT i.id FROM items i WHERE i.gid ="
                                     " handoff_items.gid) WHERE offer = ? AND item_id IS NULL AND EXISTS (SELECT 1"
                                     " FROM items i WHERE i.gid = handoff_items.gid)", (record.id,)))  # fmt: skip
    gids = [line.gid for line in body.items]
    items = {r["gid"]: r for r in await tx.all(f"SELECT id, gid, lot_id FROM items WHERE gid IN {IN_ARRAY}",
                                               (as_array(gids),))}  # fmt: skip
    lot_id = await tx.value("SELECT id FROM lots WHERE reference = ?", (body.lot_ref,))
    await handoffs.insert_handoff(tx, record, body, direction="out", peer=body.recipient, lot_id=lot_id)
    await tx.run_many("INSERT INTO handoff_items (offer, gid, item_id) VALUES (?, ?, ?)",
                      [(record.id, gid, items[gid]["id"] if gid in items else None) for gid in gids])  # fmt: skip
    return True


async def _answer(tx: Tx, record: Record, body: LotAccept | LotDecline) -> bool:
    """An accept or decline this node signed, of an offer it holds."""
    handoff = await _handoff(tx, body.offer, "in")
    if handoff is None or handoff.state != "offered":
        return False
    state = "accepted" if isinstance(body, LotAccept) else "declined"
    await handoffs.set_state(tx, body.offer, state, answer=record.id, reason=getattr(body, "reason", None))
    return True


async def _cancel(tx: Tx, record: Record, body: LotCancel) -> bool:
    handoff = await _handoff(tx, body.offer, "out")
    if handoff is None or handoff.state != "offered":
        return False
    await handoffs.set_state(tx, body.offer, "cancelled", answer=record.id, reason=body.reason)
    return True


async def _receipt(tx: Tx, record: Record, body: LotReceipt) -> bool:
    """A receipt this node signed: the items it took into its custody then."""
    handoff = await _handoff(tx, body.offer, "in")
    if handoff is None or handoff.state != "accepted":
        return False
    await handoffs.take_delivery(tx, handoff, record, body)
    return True


async def _fates(tx: Tx, record: Record, body: ItemFates) -> bool:
    """Fates this node signed: its items reached them (fates it forwarded are of items it no longer holds)."""
    if body.corrects is not None or not body.fates:
        return False
    rows = {r["gid"]: r for r in await tx.all(f"SELECT id, gid, state FROM items WHERE gid IN {IN_ARRAY}",
                                              (as_array([f.gid for f in body.fates]),))}  # fmt: skip
    moved = [(rows[f.gid]["id"], f) for f in body.fates
             if f.gid in rows and rows[f.gid]["state"] != f.fate and can_move(rows[f.gid]["state"], f.fate)]
    if not moved:
        return False
    base = await tx.value("SELECT coalesce(max(id), 0) + 1 FROM events")
    detail = json.dumps({"taken_back": record.id.hex()})
    await tx.run_many(
        "INSERT INTO events (id, item_id, time, state, step, detail, operator, record_id) VALUES (?, ?, ?, ?, NULL, ?, NULL, ?)",
        [(base + n, item_id, fate.time, fate.fate, detail, record.id) for n, (item_id, fate) in enumerate(moved)],
    )  # fmt: skip
    await tx.run_many("UPDATE items SET state = ?, state_since = ? WHERE id = ?",
                      [(fate.fate, fate.time, item_id) for item_id, fate in moved])  # fmt: skip
    return True


async def _certificate(tx: Tx, record: Record, body: MembershipCertificate) -> bool:
    """A member this node admitted after the backup: trusted again (its descriptor, when held, completes it)."""
    if await peers.get_peer(tx, body.member) is not None:
        return False
    await peers.pin_peer(tx, body.member, name=body.member_name, role=body.role, relation="downstream")
    return True


async def _handoff(tx: Tx, offer: bytes, direction: str) -> Any:
    row = await tx.value("SELECT direction FROM handoffs WHERE offer = ?", (offer,))
    if row != direction:
        return None
    return await handoffs.get_handoff(tx, offer)


_REPLAYERS = {
    LotOffer.KIND: _offer,
    LotAccept.KIND: _answer,
    LotDecline.KIND: _answer,
    LotCancel.KIND: _cancel,
    LotReceipt.KIND: _receipt,
    ItemFates.KIND: _fates,
    MembershipCertificate.KIND: _certificate,
}
