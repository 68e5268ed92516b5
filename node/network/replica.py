"""Other authors' logs as this node holds them: stored as received, chained, frozen on a fork.

Every record a node holds, its own or another's, is a row of ``log_records``
with its exact envelope bytes and, when this node may read it, its content.
``store_records`` is the one door for records coming from elsewhere: it checks
each record against what is held of its author's log (PROTOCOL.md, "Logs")
and writes it, or refuses it with ``LogBroken`` having changed nothing,
except on a fork, where the author is frozen and the other record kept as
proof. ``store_record`` does the same for one record, raising the refusal.

The records were verified (signature, content hash, body) by the caller; the
chain is checked here because only the database knows the author's head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from node.store.database import Reader, Tx, now_ms
from protocol.errors import LogBroken, Reason
from protocol.records import Header, Record, stored_header

__all__ = ["Held", "Stored", "store_record", "store_records", "head", "is_frozen", "held_records", "save_sealed",
           "record_by_id", "held_ids", "latest_of_kind"]


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
    stored = (await store_records(tx, [(record, sealed)]))[0]
    if stored.error is not None:
        raise stored.error
    return stored.outcome


@dataclass(frozen=True, slots=True)
class Stored:
    """What ``store_records`` did with one record: the outcome ``store_record`` returns, or the refusal."""

    outcome: str  # "new", "duplicate", "completed", or "refused" with ``error``
    error: LogBroken | None = None
    have: int | None = None  # on a gap: the last seq held of the author


async def store_records(tx: Tx, batch: Sequence[tuple[Record, bytes | None]]) -> list[Stored]:
    """Hold each ``(record, sealed)`` of ``batch`` in order, as ``store_record`` would one after the other.

    The chain of each author is checked against its head and its held
    records read once for the whole batch (a few queries, not a few per
    record), then the new rows are written with one statement per table.
    A refused record changes nothing, except a fork, which freezes its
    author at once; the records after it in the batch see what came before.
    """
    if not batch:
        return []
    authors = list(dict.fromkeys(record.header.author for record, _ in batch))
    marks = ", ".join("(?)" for _ in authors)
    frozen = {row[0] for row in await tx.all(f"SELECT author FROM frozen_authors WHERE author IN (VALUES {marks})",
                                             authors)}  # fmt: skip
    heads: dict[bytes, tuple[int, bytes | None]] = {author: (0, None) for author in authors}
    for row in await tx.all(
        f"WITH wanted (author) AS (VALUES {marks}) SELECT w.author, r.seq, r.id FROM wanted w"
        " JOIN log_records r ON r.author = w.author"
        " AND r.seq = (SELECT max(seq) FROM log_records WHERE author = w.author)",
        authors,
    ):
        heads[row[0]] = (row[1], row[2])
    # What is held at the seqs this batch names below each head: duplicates, forks, stubs to complete.
    below = list({(r.header.author, r.header.seq) for r, _ in batch if r.header.seq <= heads[r.header.author][0]})
    held: dict[tuple[bytes, int], list] = {}  # (author, seq) -> [id, has content, row to insert or None]
    for start in range(0, len(below), 400):
        chunk = below[start : start + 400]
        for row in await tx.all(
            f"WITH wanted (author, seq) AS (VALUES {', '.join('(?, ?)' for _ in chunk)})"
            " SELECT r.author, r.seq, r.id, r.content IS NOT NULL FROM wanted w"
            " JOIN log_records r ON r.author = w.author AND r.seq = w.seq",
            [value for pair in chunk for value in pair],
        ):
            held[(row[0], row[1])] = [row[2], bool(row[3]), None]

    out: list[Stored] = []
    rows: list[list] = []  # new log_records rows, in order (a later duplicate may complete one)
    completed: list[tuple[bytes, bytes]] = []
    sealed_rows: list[tuple[bytes, bytes]] = []
    for record, sealed in batch:
        h = record.header
        if h.author in frozen:
            out.append(_refused(Reason.FORK, "this author is frozen after a fork"))
            continue
        known = held.get((h.author, h.seq))
        if known is not None:
            if known[0] != record.id:
                await tx.run("INSERT INTO frozen_authors (author, time, seq, evidence) VALUES (?, ?, ?, ?)"
                             " ON CONFLICT (author) DO NOTHING", (h.author, now_ms(), h.seq, record.envelope))  # fmt: skip
                frozen.add(h.author)
                out.append(_refused(Reason.FORK, f"two records with seq {h.seq}"))
                continue
            if sealed is not None:
                sealed_rows.append((record.id, sealed))
            if not known[1] and record.content is not None:
                known[1] = True
                if known[2] is not None:  # held since earlier in this batch: not written yet
                    known[2][6] = record.content
                else:
                    completed.append((record.content, record.id))
                out.append(Stored("completed"))
            else:
                out.append(Stored("duplicate"))
            continue
        last_seq, last_id = heads[h.author]
        if h.seq != last_seq + 1:
            if h.seq <= last_seq:  # below what we hold but absent: a gap (PROTOCOL.md "Logs"), not a fork
                out.append(_refused(Reason.GAP, f"seq {h.seq} is below the last held seq {last_seq}, not held"))
            else:
                out.append(Stored("refused", LogBroken(Reason.GAP, f"missing seq {last_seq + 1} to {h.seq - 1};"
                                                                   f" have {last_seq}"), last_seq))  # fmt: skip
            continue
        if h.prev != last_id:
            out.append(_refused(Reason.BAD_PREV, "prev is not the id of the previous record"))
            continue
        row = [h.author, h.seq, record.id, h.kind, h.time, record.envelope, record.content]
        rows.append(row)
        held[(h.author, h.seq)] = [record.id, record.content is not None, row]
        heads[h.author] = (h.seq, record.id)
        if sealed is not None:
            sealed_rows.append((record.id, sealed))
        out.append(Stored("new"))

    if rows:
        await tx.run_many("INSERT INTO log_records (author, seq, id, kind, time, envelope, content)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)  # fmt: skip
    if completed:
        await tx.run_many("UPDATE log_records SET content = ? WHERE id = ?", completed)
    if sealed_rows:  # after the records they belong to (foreign key); the first copy kept wins
        await tx.run_many("INSERT INTO sealed (record_id, sealed) VALUES (?, ?) ON CONFLICT DO NOTHING", sealed_rows)
    return out


def _refused(reason: Reason, message: str) -> Stored:
    return Stored("refused", LogBroken(reason, message))


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
