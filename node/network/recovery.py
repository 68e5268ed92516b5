"""What a node's own records mean again when it takes them back after a restore.

A node restored from a backup lacks what it did after the backup was made.
Its log is not lost: the nodes it sent its records to hold them, and the
federation takes them back (``federation.engine`` resync) before the node
signs anything. The records alone say what the node did: it offered a lot,
accepted or declined an offer, withdrew one, received a lot, an item
reached its fate (with its evidence), it admitted a member, it revoked a key. ``replay`` applies each again to
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

from node.domain import alerts
from node.domain.states import FATES, can_move
from node.errors import DomainError, StoreError
from node.network import handoffs, peers
from node.store.database import IN_ARRAY, Tx, as_array
from protocol import canonical
from protocol.custody_kinds import OFFER_KINDS, ItemFates2, LotOffer2, LotReceipt2
from protocol.kinds import (
    ItemFates,
    KeyRevocation,
    LotAccept,
    LotCancel,
    LotDecline,
    LotOffer,
    LotReceipt,
    MembershipCertificate,
)  # fmt: skip
from protocol.records import Record, open_entry

__all__ = ["replay", "answers_held"]


async def replay(tx: Tx, records: Sequence[Record]) -> int:
    """Apply again the effects of this node's own ``records`` (in seq order); return how many changed something."""
    changed = 0
    offers = []  # offers made here and taken back: the answers held to them apply once the rest is replayed
    for record in records:
        if record.header.author != tx.author or record.content is None:
            continue
        replayer = _REPLAYERS.get(record.header.kind)
        if replayer is None:
            continue
        try:
            async with tx.savepoint():
                done = bool(await replayer(tx, record, record.body()))
        except DomainError as exc:  # the record stays held; what it says could not be applied here
            await alerts.raise_alert(tx, "refused_effect", exc.code, author=record.header.author,
                                    seq=record.header.seq, detail=f"{record.header.kind} taken back: {exc.message}")
            continue
        changed += done
        if done and record.header.kind in OFFER_KINDS:
            offers.append(record.id)
    for offer in offers:
        await answers_held(tx, offer)
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


async def answers_held(tx: Tx, offer: bytes) -> None:
    """Apply the records already held that answer the hand-off ``offer``, which this node holds only now.

    After a restore, records come back in no set order: the other side's
    accept or receipt may be held before the offer this node made and takes
    back, this node's own accept before the offer made to it. Whichever
    side's hand-off comes last, what was held before it is applied then,
    in its author's order (each effect is idempotent).
    """
    handoff = await handoffs.get_handoff(tx, offer)
    rows = await tx.all(
        "SELECT envelope, content FROM log_records WHERE kind IN (?, ?, ?, ?, ?) AND content IS NOT NULL"
        " AND instr(content, ?) > 0 ORDER BY author, seq",
        (LotAccept.KIND, LotDecline.KIND, LotCancel.KIND, LotReceipt.KIND, LotReceipt2.KIND, offer),
    )  # fmt: skip
    for row in rows:
        record = open_entry(canonical.encode([row[0], row[1]]))
        body = record.body()
        if body.offer != offer:
            continue
        try:
            async with tx.savepoint():
                if record.header.author == tx.author:
                    if await _REPLAYERS[record.header.kind](tx, record, body) and isinstance(body, LotReceipt):
                        await _after(tx, record.header.seq)
                elif record.header.author == handoff.peer and isinstance(body, LotReceipt):
                    await handoffs.receipt_received(tx, record, body)
                elif record.header.author == handoff.peer:
                    await handoffs.answer_received(tx, record, body)
        except StoreError as exc:
            if exc.code != "resync_required":
                raise
            # it would sign (a receipt moves items, and their fates are signed): once signing is
            # allowed again (``federation.resync`` calls this again), unless this node's own fates,
            # replayed meanwhile, say the items left already
        except DomainError as exc:
            await alerts.raise_alert(tx, "refused_effect", exc.code, author=record.header.author,
                                    seq=record.header.seq, detail=f"{record.header.kind}: {exc.message}")


async def _after(tx: Tx, seq: int) -> None:
    """A receipt replayed late brought items here: the offers and fates this node signed after it name them."""
    rows = await tx.all("SELECT envelope, content FROM log_records WHERE author = ? AND seq > ? AND kind IN (?, ?, ?, ?)"
                        " AND content IS NOT NULL ORDER BY seq", (tx.author, seq, *OFFER_KINDS, ItemFates.KIND,
                        ItemFates2.KIND))  # fmt: skip
    await replay(tx, [open_entry(canonical.encode([row[0], row[1]])) for row in rows])


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


async def _fates(tx: Tx, record: Record, body: ItemFates | ItemFates2) -> bool:
    """Fates this node signed: its items reached them (fates it forwarded are of items it no longer holds).

    An ``item.fates/2`` states outcomes that are not states too (in stock,
    missing): they change nothing; the records it passed on are marked
    passed on again, so that they do not go twice.
    """
    if isinstance(body, ItemFates2) and body.evidence:
        await _passed_on(tx, record, body)
    if body.corrects is not None or not body.fates:
        return False
    rows = {r["gid"]: r for r in await tx.all(f"SELECT id, gid, state FROM items WHERE gid IN {IN_ARRAY}",
                                              (as_array([f.gid for f in body.fates]),))}  # fmt: skip
    read = [(f.gid, _Moved(f)) for f in body.fates]
    moved = [(rows[gid]["id"], fate) for gid, fate in read if gid in rows and fate.fate in FATES
             and rows[gid]["state"] != fate.fate and can_move(rows[gid]["state"], fate.fate)]  # fmt: skip
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


class _Moved:
    """A fate of either version, read as the state it moves an item to."""

    __slots__ = ("fate", "time")

    def __init__(self, fate: Any) -> None:
        self.fate, self.time = getattr(fate, "outcome", None) or fate.fate, fate.time


async def _passed_on(tx: Tx, record: Record, body: ItemFates2) -> None:
    """The records an ``item.fates/2`` of this node passed on, to the nodes of its audience."""
    for entry in body.evidence or ():
        source = open_entry(entry).id
        await tx.run_many("INSERT INTO fates_forwarded (source, origin, forwarded) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                          [(source, key, record.id) for key in record.header.audience if key != tx.author])  # fmt: skip


async def _certificate(tx: Tx, record: Record, body: MembershipCertificate) -> bool:
    """A member this node admitted after the backup: trusted again (its descriptor, when held, completes it)."""
    if await peers.get_peer(tx, body.member) is not None:
        return False
    await peers.pin_peer(tx, body.member, name=body.member_name, role=body.role, relation="downstream")
    return True


async def _revocation(tx: Tx, record: Record, body: KeyRevocation) -> bool:
    """A key this node revoked after the backup: refused again (a restore must not bring it back in)."""
    peer = await peers.get_peer(tx, body.key)
    if peer is None or (peer.revoked_from is not None and peer.revoked_from <= body.from_seq):
        return False
    await peers.revoke_peer(tx, body.key, body.from_seq)
    return True


async def _handoff(tx: Tx, offer: bytes, direction: str) -> Any:
    row = await tx.value("SELECT direction FROM handoffs WHERE offer = ?", (offer,))
    if row != direction:
        return None
    return await handoffs.get_handoff(tx, offer)


_REPLAYERS = {
    LotOffer.KIND: _offer,
    LotOffer2.KIND: _offer,
    LotAccept.KIND: _answer,
    LotDecline.KIND: _answer,
    LotCancel.KIND: _cancel,
    LotReceipt.KIND: _receipt,
    LotReceipt2.KIND: _receipt,
    ItemFates.KIND: _fates,
    ItemFates2.KIND: _fates,
    MembershipCertificate.KIND: _certificate,
    KeyRevocation.KIND: _revocation,
}
