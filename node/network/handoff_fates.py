"""Fates flowing back up the chain of hand-offs: kept where the items came from, and passed on to their origin.

Every later fate of an item handed on (at the receiver, or further down the
chain) comes back to the node that handed it as ``item.fates`` records;
that node keeps them (``downstream_fates``) and forwards them to where the
item came from, so that the donor report at the origin is complete. Who
holds a hand-off with whom is read here too: whose logs a node follows.
"""

from __future__ import annotations

from node.domain.publication import audience_for, fates_audience
from node.store.database import IN_ARRAY, Reader, Tx, as_array
from protocol.kinds import (
    Fate,
    ItemFates,
)  # fmt: skip
from protocol.records import Record

__all__ = ["handoff_peers", "open_handoff_peers", "handed_to", "fates_received"]


async def handoff_peers(db: Reader) -> set[bytes]:
    """The nodes this node has a hand-off with, either way (whose logs answer or follow its own)."""
    return {row[0] for row in await db.all("SELECT DISTINCT peer FROM handoffs")}


async def open_handoff_peers(db: Reader) -> set[bytes]:
    """The nodes of the hand-offs still open here (offered or accepted), either way."""
    return {row[0] for row in await db.all("SELECT DISTINCT peer FROM handoffs WHERE state IN ('offered', 'accepted')")}


async def handed_to(tx: Tx, node: bytes) -> bool:
    """Whether this node ever offered anything to ``node`` (so that fates it reports may be about our items).

    Looked up once per transaction: only this node's own offers change it,
    never a record it receives.
    """
    key = ("handed to", node)
    if key not in tx.memo:
        tx.memo[key] = await tx.value("SELECT 1 FROM handoffs WHERE direction = 'out' AND peer = ? LIMIT 1",
                                      (node,)) is not None  # fmt: skip
    return tx.memo[key]


async def fates_received(tx: Tx, record: Record, body: ItemFates) -> int:
    """Fates of items this node handed to the record's author: keep them, forward them to our origin.

    A correction (``corrects``) sets the fates of the corrected record
    aside; where that record's fates were forwarded, the forwarded record is
    corrected the same way, with the fates that remain (possibly none), so
    the correction travels as far as the fates did.
    """
    reporter = record.header.author
    forwarded: dict[bytes, bytes] = {}  # origin -> our record that carried the corrected fates there
    if body.corrects is not None:
        await tx.run("UPDATE downstream_fates SET superseded = 1 WHERE record_id = ? AND reporter = ?",
                     (body.corrects, reporter))  # fmt: skip
        forwarded = {r["origin"]: r["forwarded"] for r in await tx.all(
            "SELECT origin, forwarded FROM fates_forwarded WHERE source = ?", (body.corrects,))}  # fmt: skip
    if not forwarded and not await handed_to(tx, reporter):
        return 0  # this node never handed anything to the reporter (a hub or national reading the fates of others)
    gids = [f.gid for f in body.fates]
    ours = {r["gid"]: r for r in await tx.all(
        f"SELECT i.id, i.gid, i.origin_node FROM items i JOIN handoff_items h ON h.item_id = i.id"
        f" JOIN handoffs o ON o.offer = h.offer WHERE o.direction = 'out' AND o.peer = ? AND h.outcome = 'received'"
        f" AND i.gid IN {IN_ARRAY}", (reporter, as_array(gids)))}  # fmt: skip
    kept = [f for f in body.fates if f.gid in ours]
    if kept:
        await tx.run_many(
            "INSERT INTO downstream_fates (item_id, record_id, reporter, fate, time, beneficiary_category, weight_g,"
            " to_node) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(ours[f.gid]["id"], record.id, reporter, f.fate, f.time, f.beneficiary_category, f.weight_g, f.to)
             for f in kept],
        )  # fmt: skip
    by_origin: dict[bytes, list[Fate]] = {origin: [] for origin in forwarded}
    for fate in kept:
        origin = ours[fate.gid]["origin_node"]
        if origin is not None:
            by_origin.setdefault(origin, []).append(fate)
    if by_origin:
        policy = await audience_for(tx, "fates")
        for origin, fates in by_origin.items():
            sent = await tx.append(ItemFates(fates=fates, corrects=forwarded.get(origin)),
                                   audience=fates_audience(policy, tx.author, origin))  # fmt: skip
            await tx.run("INSERT INTO fates_forwarded (source, origin, forwarded) VALUES (?, ?, ?)",
                         (record.id, origin, sent.id))  # fmt: skip
    return len(kept)
