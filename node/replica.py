"""Other authors' logs as this node holds them: stored as received, chained, frozen on a fork.

Every record a node holds, its own or another's, is a row of ``log_records``
with its exact envelope bytes and, when this node may read it, its content.
``store_record`` is the one door for a record coming from elsewhere: it checks
the record against what is held of its author's log (PROTOCOL.md, "Logs")
and writes it, or raises ``LogBroken`` having changed nothing, except on a
fork, where the author is frozen and the other record kept as proof.

The records were verified (signature, content hash, body) by the caller; the
chain is checked here because only the database knows the author's head.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.store import Reader, Tx, now_ms
from protocol.errors import LogBroken, Reason
from protocol.records import Header, Record, stored_header

__all__ = ["Held", "store_record", "head", "is_frozen", "held_records", "save_sealed", "record_by_id",
           "held_ids", "latest_of_kind"]


@dataclass(frozen=True, slots=True)
class Held:
    """A record as stored: its bytes, its decoded header, its content and sealed copy if held."""

    id: bytes
    header: Header
    envelope: bytes
    content: bytes | None
    sealed: bytes | None


async def head(db: Reader, author: bytes) -> tuple[int, bytes | None]:
    """The last seq held of ``author``'s log and its record id (0, None when none)."""
    row = await db.one("SELECT seq, id FROM log_records WHERE author = ? ORDER BY seq DESC LIMIT 1", (author,))
    return (0, None) if row is None else (row["seq"], row["id"])


async def is_frozen(db: Reader, author: bytes) -> bool:
    return await db.value("SELECT 1 FROM frozen_authors WHERE author = ?", (author,)) is not None


async def store_record(tx: Tx, record: Record, sealed: bytes | None = None) -> str:
    """Hold ``record``; return ``"new"``, ``"duplicate"`` (a no-op) or ``"completed"``.

    ``completed``: a duplicate of a stub held, this time with its content.

    Raises ``LogBroken``: ``fork`` (the author is frozen first, and stays so),
    ``gap`` (``have`` in the message: the last seq held), ``bad_prev``.
    """
    h = record.header
    if await is_frozen(tx, h.author):
        raise LogBroken(Reason.FORK, "this author is frozen after a fork")
    known = await tx.one("SELECT id, content FROM log_records WHERE author = ? AND seq = ?", (h.author, h.seq))
    if known is not None:
        if known["id"] != record.id:
            await tx.run("INSERT INTO frozen_authors (author, time, seq, evidence) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT (author) DO NOTHING", (h.author, now_ms(), h.seq, record.envelope))  # fmt: skip
            raise LogBroken(Reason.FORK, f"two records with seq {h.seq}")
        if sealed is not None:
            await save_sealed(tx, record.id, sealed)
        if known["content"] is None and record.content is not None:
            await tx.run("UPDATE log_records SET content = ? WHERE id = ?", (record.content, record.id))
            return "completed"
        return "duplicate"
    last_seq, last_id = await head(tx, h.author)
    if h.seq != last_seq + 1:
        if h.seq <= last_seq:  # below what we hold but absent: cannot happen with contiguous logs
            raise LogBroken(Reason.FORK, f"seq {h.seq} is behind the log")
        raise LogBroken(Reason.GAP, f"missing seq {last_seq + 1} to {h.seq - 1}; have {last_seq}")
    if h.prev != last_id:
        raise LogBroken(Reason.BAD_PREV, "prev is not the id of the previous record")
    await tx.run(
        "INSERT INTO log_records (author, seq, id, kind, time, envelope, content) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (h.author, h.seq, record.id, h.kind, h.time, record.envelope, record.content),
    )
    if sealed is not None:
        await save_sealed(tx, record.id, sealed)
    return "new"


async def save_sealed(tx: Tx, record_id: bytes, sealed: bytes) -> None:
    """Keep the sealed copy of a record's content (the first one kept wins)."""
    await tx.run("INSERT INTO sealed (record_id, sealed) VALUES (?, ?) ON CONFLICT DO NOTHING", (record_id, sealed))


_HELD_COLUMNS = "r.id, r.envelope, r.content, s.sealed"
_HELD_FROM = "log_records r LEFT JOIN sealed s ON s.record_id = r.id"
_HELD = f"SELECT {_HELD_COLUMNS} FROM {_HELD_FROM}"


def _held(row) -> Held:
    return Held(row["id"], stored_header(row["envelope"]), row["envelope"], row["content"], row["sealed"])


async def held_records(db: Reader, author: bytes, *, after: int = 0, limit: int = 500) -> list[Held]:
    """``author``'s log as held here, from seq ``after`` + 1, in order."""
    rows = await db.all(_HELD + " WHERE r.author = ? AND r.seq > ? ORDER BY r.seq LIMIT ?", (author, after, limit))
    return [_held(row) for row in rows]


async def held_ids(db: Reader, author: bytes, *, after: int, before: int) -> list[bytes]:
    """Ids of ``author``'s records held with ``after`` < seq < ``before``."""
    rows = await db.all("SELECT id FROM log_records WHERE author = ? AND seq > ? AND seq < ? ORDER BY seq",
                        (author, after, before))  # fmt: skip
    return [row[0] for row in rows]


async def latest_of_kind(db: Reader, author: bytes, kind: str) -> Held | None:
    """``author``'s latest record of ``kind`` held with its content."""
    row = await db.one(_HELD + " WHERE r.author = ? AND r.kind = ? AND r.content IS NOT NULL ORDER BY r.seq DESC LIMIT 1",
                       (author, kind))  # fmt: skip
    return None if row is None else _held(row)


async def record_by_id(db: Reader, record_id: bytes) -> Held | None:
    row = await db.one(_HELD + " WHERE r.id = ?", (record_id,))
    return None if row is None else _held(row)
