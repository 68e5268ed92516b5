"""The durable outbox: which records must reach which peer.

A row is written in the same transaction as what caused it (a record this
node appended and routed, a record it received and must relay) and deleted
only when the peer answered that it holds the record. So a crash or a long
outage loses nothing: the send loop starts again from these rows.

For a peer that cannot be reached (a member behind NAT), the rows wait for
it to pull them (its *mailbox*): it names the last row id it applied, and
what was served to it up to that id is then deleted.

A row id is that cursor, so ids never go back for the life of the node: a
new id is above every id given before (the last one is kept in
``counters``, since SQLite reuses ids once a table empties) and above the
current time in microseconds, so that a node restored from a backup, whose
counter went back with it, still gives ids above those it gave before the
restore. A peer's acknowledgement deletes only rows up to the highest
cursor served to it (also kept), never rows it cannot have seen.
"""

from __future__ import annotations

from collections.abc import Sequence

from node.network.replica import _HELD, _HELD_COLUMNS, _HELD_FROM, Held, _held
from node.store.database import Reader, Tx, now_ms
from protocol import canonical
from protocol.kinds import PeeringConvention
from protocol.records import stored_header

__all__ = ["enqueue", "enqueue_log", "pending", "delivered", "delivered_at", "mailbox", "served", "acknowledge_mailbox", "waiting", "queue_sizes", "routed_seq",
           "set_routed_seq", "route_own", "REFUSED_FROM"]  # fmt: skip

_ROUTED = "federation.routed_seq."
_LAST_ID = "outbox.last_id"
_SERVED = "outbox.served."  # + a peer's key in hex: the highest mailbox cursor served to it
REFUSED_FROM = "federation.refused_from."  # + peer.author (hex): the first seq the peer refused for good


async def _fresh_ids(tx: Tx, count: int, now: int) -> int:
    """Reserve ``count`` outbox ids above every id given before; return the first."""
    last = await tx.value("SELECT value FROM counters WHERE name = ?", (_LAST_ID,)) or 0
    first = max(last + 1, now * 1000)
    await tx.run("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = ?",
                 (_LAST_ID, first + count - 1, first + count - 1))  # fmt: skip
    return first


async def enqueue(tx: Tx, peer: bytes, record_ids: list[bytes]) -> None:
    """Queue records for ``peer`` (already queued ones are left alone)."""
    if not record_ids:
        return
    now = now_ms()
    first = await _fresh_ids(tx, len(record_ids), now)
    await tx.run_many("INSERT INTO outbox (id, peer, record_id, queued) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                      [(first + n, peer, record_id, now) for n, record_id in enumerate(record_ids)])  # fmt: skip


async def enqueue_log(tx: Tx, peer: bytes, author: bytes) -> None:
    """Queue every record of ``author`` held here for ``peer`` (a new upstream gets the whole log)."""
    count = await tx.value("SELECT count(*) FROM log_records WHERE author = ?", (author,))
    if not count:
        return
    now = now_ms()
    first = await _fresh_ids(tx, count, now)
    await tx.run("INSERT INTO outbox (id, peer, record_id, queued) SELECT ? + row_number() OVER (ORDER BY seq) - 1,"
                 " ?, id, ? FROM log_records WHERE author = ? ORDER BY seq ON CONFLICT DO NOTHING",
                 (first, peer, now, author))  # fmt: skip


async def pending(db: Reader, peer: bytes, *, limit: int = 500) -> list[Held]:
    """The next records to push to ``peer``: each author's in seq order, so none arrives before its predecessor."""
    rows = await db.all(
        _HELD + " JOIN outbox o ON o.record_id = r.id WHERE o.peer = ? ORDER BY r.author, r.seq LIMIT ?",
        (peer, limit),
    )
    return [_held(row) for row in rows]


async def delivered(tx: Tx, peer: bytes, record_ids: list[bytes], *, held: Sequence[bytes] = ()) -> None:
    """The peer holds these records (or refused them for good): drop them from its queue.

    ``held``: those it said it holds; for this node's own records, the time
    is kept (``delivered_at``).
    """
    await tx.run_many("DELETE FROM outbox WHERE peer = ? AND record_id = ?", [(peer, rid) for rid in record_ids])
    if held:
        marks = ", ".join("?" * len(held))
        await tx.run(f"INSERT OR IGNORE INTO deliveries (record_id, peer, at) SELECT id, ?, ? FROM log_records"
                     f" WHERE author = ? AND id IN ({marks})", (peer, now_ms(), tx.author, *held))  # fmt: skip


async def delivered_at(db: Reader, record_id: bytes, peer: bytes) -> int | None:
    """When ``peer`` first said it holds this node's record ``record_id``; None if it has not (or not since V9)."""
    return await db.value("SELECT at FROM deliveries WHERE record_id = ? AND peer = ?", (record_id, peer))


async def mailbox(db: Reader, peer: bytes, *, after: int, limit: int = 500) -> tuple[list[Held], int, bool]:
    """What waits for ``peer`` after cursor ``after`` (at most ``limit``), the cursor to name next time, and more.

    Only a reader: the caller serving the page records the cursor with ``served``.
    """
    rows = await db.all(
        f"SELECT {_HELD_COLUMNS}, o.id AS cursor FROM {_HELD_FROM} JOIN outbox o ON o.record_id = r.id"
        " WHERE o.peer = ? AND o.id > ? ORDER BY o.id LIMIT ?",
        (peer, after, limit + 1),
    )
    rows, more = rows[:limit], len(rows) > limit
    return [_held(row) for row in rows], (rows[-1]["cursor"] if rows else after), more


async def served(tx: Tx, peer: bytes, cursor: int) -> None:
    """The mailbox was served to ``peer`` up to ``cursor``: what it may acknowledge from now on."""
    name = _SERVED + peer.hex()
    await tx.run("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE"
                 " SET value = max(value, excluded.value)", (name, cursor))  # fmt: skip


async def acknowledge_mailbox(tx: Tx, peer: bytes, upto: int) -> int:
    """The peer applied its mailbox up to row ``upto``: drop what was served to it up to there; return how many.

    A cursor above what this node served (one it gave before a restore, or
    a peer's mistake) removes only what was served: a row is never dropped
    unseen.
    """
    served_up_to = await tx.value("SELECT value FROM counters WHERE name = ?", (_SERVED + peer.hex(),)) or 0
    return await tx.changes("DELETE FROM outbox WHERE peer = ? AND id <= ?", (peer, min(upto, served_up_to)))


async def waiting(db: Reader, peer: bytes) -> bool:
    """Whether anything is queued for ``peer``."""
    return await db.value("SELECT 1 FROM outbox WHERE peer = ? LIMIT 1", (peer,)) is not None


async def queue_sizes(db: Reader) -> dict[bytes, int]:
    return {row[0]: row[1] for row in await db.all("SELECT peer, count(*) FROM outbox GROUP BY peer")}


async def routed_seq(db: Reader, author: bytes) -> int:
    """The last seq of this node's own log (under key ``author``) that was routed to peers."""
    return await db.value("SELECT value FROM counters WHERE name = ?", (_ROUTED + author.hex(),)) or 0


async def set_routed_seq(tx: Tx, author: bytes, seq: int) -> None:
    await tx.run("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = ?",
                 (_ROUTED + author.hex(), seq, seq))  # fmt: skip


async def queue_summary(db: Reader) -> dict[bytes, tuple[int, int]]:
    """Per peer: how many records wait for it, and since when (the oldest ``queued`` time, ms)."""
    rows = await db.all("SELECT peer, count(*), min(queued) FROM outbox GROUP BY peer")
    return {row[0]: (row[1], row[2]) for row in rows}


ROUTE_BATCH = 5000  # records routed in one transaction


async def route_own(tx: Tx, author: bytes, *, limit: int = ROUTE_BATCH) -> int:
    """Queue the node's records (key ``author``) not routed yet; return how many were routed.

    A record goes to the node's upstream (which keeps its whole log), to the
    pinned peers in its audience, and a peering convention to the hubs it
    names (they sign it too).
    """
    last = await routed_seq(tx, author)
    # (content only where routing reads it: this runs in every transaction that signs, a manifest is large)
    rows = await tx.all("SELECT seq, id, kind, envelope, CASE WHEN kind = ? THEN content END AS content"
                        " FROM log_records WHERE author = ? AND seq > ? ORDER BY seq LIMIT ?",
                        (PeeringConvention.KIND, author, last, limit))  # fmt: skip
    if not rows:
        return 0
    peers = {row[0]: row[1] for row in await tx.all("SELECT key, relation FROM peers WHERE state = 'active'")}
    upstream = {key for key, relation in peers.items() if relation == "upstream"}
    queues: dict[bytes, list[bytes]] = {}
    for row in rows:
        readers = upstream | {k for k in stored_header(row["envelope"]).audience if k in peers}
        if row["kind"] == PeeringConvention.KIND and row["content"] is not None:
            hubs = PeeringConvention.model_validate(canonical.decode(row["content"])).hubs
            readers |= {k for k in hubs if k in peers}
        for reader in readers:
            queues.setdefault(reader, []).append(row["id"])
    for reader, ids in queues.items():
        await enqueue(tx, reader, ids)
    await set_routed_seq(tx, author, rows[-1]["seq"])
    return len(rows)
