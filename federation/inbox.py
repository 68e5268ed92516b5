"""Receiving records: verify everything, hold the exact bytes, apply effects, relay; one transaction.

``receive`` is the one door for records arriving from another node, whether
pushed to this node, pulled from a peer's log or from its mailbox. For each
item it checks, in order: the entry (PROTOCOL.md "Checking an entry", steps
1-6), that content with an audience came sealed and public content in clear,
the sealed content when this node is a recipient, the body against its kind,
the author's revocation, then the author's log as held here (step 8).
A refused item changes nothing but an alert; the others are held.
"""

from __future__ import annotations

from node import peers as trust
from node.outbox import enqueue
from node.replica import head, store_record
from node.store import Tx
from protocol.errors import ContentInvalid, LogBroken, ProtocolError, Reason, RecordInvalid, RequestRefused
from protocol.keys import SigningKey
from protocol.records import Record, open_entry
from protocol.seal import open_sealed

from federation.effects import apply_effects
from federation.wire import Item, Result

__all__ = ["receive"]

# Refusals that are part of normal catching up, not worth an admin's attention.
_QUIET = {Reason.GAP.value}


async def receive(tx: Tx, key: SigningKey, items: list[Item], *, sender: bytes | None) -> list[Result]:
    """Verify and hold ``items`` (from ``sender``, None when read from a file); one result per item."""
    return [await _receive_one(tx, key, item, sender) for item in items]


async def _receive_one(tx: Tx, key: SigningKey, item: Item, sender: bytes | None) -> Result:
    me = key.public.raw
    record: Record | None = None
    try:
        record = open_entry(item.entry)
        record, body = _readable(record, item, key)
        revoked = await tx.value("SELECT revoked_from FROM peers WHERE key = ?", (record.header.author,))
        if revoked is not None and record.header.seq >= revoked:
            raise RequestRefused(Reason.REVOKED_KEY, f"records of this key from seq {revoked} are revoked")
        outcome = await store_record(tx, record, item.sealed)
    except ProtocolError as exc:
        return await _refused(tx, exc, record, sender)
    if outcome != "duplicate" and record.header.author != me:
        if body is not None:
            await apply_effects(tx, me, record, body)
        if outcome == "new":
            await _relay(tx, me, record, sender)
    return Result(record.id, "duplicate" if outcome == "duplicate" else "accepted")


def _readable(record: Record, item: Item, key: SigningKey) -> tuple[Record, object | None]:
    """The record with its content when this node may read it, and its parsed body (None if not)."""
    header = record.header
    if header.audience:
        if record.content is not None:
            raise RecordInvalid(Reason.BAD_ENTRY, "the content of a record with an audience travels sealed")
        if item.sealed is not None and header.readable_by(key.public.raw):
            record = record.with_content(open_sealed(item.sealed, record.id, key))
    elif item.sealed is not None:
        raise RecordInvalid(Reason.BAD_ENTRY, "the content of a public record travels in clear")
    if record.content is None:
        return record, None
    try:
        return record, record.body()
    except ContentInvalid as exc:
        if exc.code is Reason.UNKNOWN_KIND:
            return record, None  # valid but not understood: held, read again by a newer version
        raise


async def _refused(tx: Tx, exc: ProtocolError, record: Record | None, sender: bytes | None) -> Result:
    author = record.header.author if record else None
    seq = record.header.seq if record else None
    have = None
    if exc.code is Reason.GAP and author is not None:
        have = (await head(tx, author))[0]
    if exc.code is Reason.FORK and isinstance(exc, LogBroken):
        await trust.raise_alert(tx, "fork", exc.code.value, peer=sender, author=author, seq=seq, detail=exc.message)
    elif exc.code.value not in _QUIET:
        await trust.raise_alert(tx, "refused", exc.code.value, peer=sender, author=author, seq=seq, detail=exc.message)
    return Result(record.id if record else None, "refused", exc.code.value, have)


async def _relay(tx: Tx, me: bytes, record: Record, sender: bytes | None) -> None:
    """A record addressed to other trusted nodes goes on to them (the hub relays for members behind NAT)."""
    header = record.header
    for reader in header.audience:
        if reader in (me, sender, header.author):
            continue
        peer = await trust.get_peer(tx, reader)
        if peer is not None and peer.active:
            await enqueue(tx, reader, [record.id])
