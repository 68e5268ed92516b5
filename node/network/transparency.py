"""The transparency log of a hub or national node: an RFC 9162 Merkle tree over the records it accepts.

A **leaf** is one record: its data is the record's envelope bytes exactly as
held (``log_records.envelope``: the signed header and the signature, never
the content), its hash ``LH(envelope) = SHA-256(0x00 || envelope)``
(``protocol.merkle.leaf_hash``). Leaves are numbered from 0, without gaps,
in **acceptance order**:

- a record of another node, when the inbox holds it as new
  (``federation.inbox``), in the order of its batch, in the same transaction;
- the node's own records, when its federation routes them (``append_own``),
  in seq order; except its own ``log.checkpoint/1`` records, which state the
  log and are not part of it (each would otherwise make the next one due).

A record is a leaf at most once. Only a hub or a national node keeps the
log: the caller decides. ``checkpoint`` reads every stored envelope again,
checks it against its stored leaf hash (a changed byte is refused, not
signed over), and signs a public ``log.checkpoint/1`` {tree_size, root}
when the log grew since the last one. ``inclusion`` and ``consistency``
answer the proofs of RFC 9162 from the stored leaf hashes.

A member keeps, per record of its own, the latest checkpoint of its upstream
that was proved to include it (``inclusions``), so the interface can say
"included at checkpoint N".
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from node.errors import DomainError, Invalid, NotFound
from node.network.replica import Held, latest_of_kind
from node.store.database import Reader, Tx, now_ms
from protocol import canonical
from protocol.kinds import LogCheckpoint
from protocol.merkle import MerkleTree, leaf_hash
from protocol.records import Record

__all__ = ["LogTampered", "Proof", "Inclusion", "LeafTree", "append_leaves", "append_own", "leaf_count",
           "checkpoint", "last_checkpoint", "inclusion", "consistency", "record_inclusion", "inclusion_of"]  # fmt: skip

_OWN = "transparency.own_seq."


class LogTampered(DomainError):
    """A stored leaf no longer matches the bytes it was made from, or a leaf's record is gone."""

    code = "log_tampered"


@dataclass(frozen=True, slots=True)
class Proof:
    """An inclusion proof: the leaf's index in the tree of ``size`` leaves, and the path (RFC 9162 2.1.3)."""

    index: int
    size: int
    path: list[bytes]


@dataclass(frozen=True, slots=True)
class Inclusion:
    """A member's own record proved in its upstream's log at a checkpoint."""

    record_id: bytes
    checkpoint_seq: int
    tree_size: int
    leaf_index: int
    verified_at: int


# The hub's side ---------------------------------------------------------------


async def append_leaves(tx: Tx, records: Iterable[tuple[bytes, bytes]]) -> int:
    """Append ``(record id, envelope bytes)`` pairs as leaves, in order; return how many were new.

    A record already a leaf is left where it is.
    """
    rows = [(record_id, leaf_hash(envelope), record_id) for record_id, envelope in records]
    if not rows:
        return 0
    before = await leaf_count(tx)
    await tx.run_many(
        "INSERT INTO transparency_leaves (idx, record_id, leaf_hash)"
        " SELECT coalesce((SELECT max(idx) FROM transparency_leaves) + 1, 0), ?, ?"
        " WHERE NOT EXISTS (SELECT 1 FROM transparency_leaves WHERE record_id = ?)",
        rows,
    )
    return await leaf_count(tx) - before


async def append_own(tx: Tx, author: bytes) -> int:
    """Append the node's own records (key ``author``) not yet leaves, checkpoints aside; return how many."""
    name = _OWN + author.hex()
    last = await tx.value("SELECT value FROM counters WHERE name = ?", (name,)) or 0
    rows = await tx.all("SELECT seq, id, kind, envelope FROM log_records WHERE author = ? AND seq > ? ORDER BY seq",
                        (author, last))  # fmt: skip
    if not rows:
        return 0
    added = await append_leaves(tx, [(row["id"], row["envelope"]) for row in rows if row["kind"] != LogCheckpoint.KIND])
    seq = rows[-1]["seq"]
    await tx.run("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = ?",
                 (name, seq, seq))  # fmt: skip
    return added


async def leaf_count(db: Reader) -> int:
    """The size of the log: how many leaves it holds."""
    return await db.value("SELECT coalesce(max(idx) + 1, 0) FROM transparency_leaves")


async def last_checkpoint(db: Reader, author: bytes) -> tuple[Held | None, LogCheckpoint | None]:
    """This node's latest checkpoint (key ``author``) as held, and its body; ``(None, None)`` when none."""
    held = await latest_of_kind(db, author, LogCheckpoint.KIND)
    if held is None:
        return None, None
    body = LogCheckpoint.model_validate(canonical.decode(held.content))
    return held, body


async def checkpoint(tx: Tx) -> Record | None:
    """Check every leaf against its stored envelope, then sign a checkpoint if the log grew; else None.

    Raises ``LogTampered`` (nothing is signed) when a leaf's record is no
    longer held, its envelope no longer hashes to the stored leaf hash, the
    leaves are not numbered 0, 1, 2... without gaps, or they no longer
    extend the last checkpoint (fewer leaves, or another root at its size).
    """
    _, last = await last_checkpoint(tx, tx.author)
    size = await leaf_count(tx)
    signed = last.tree_size if last is not None else 0
    if size < signed:
        raise LogTampered(f"the log holds {size} leaves, fewer than the {signed} of its last checkpoint")
    if size == signed:
        return None
    tree = MerkleTree()
    hashes: list[bytes] = []
    rows = await tx.all("SELECT t.idx, t.record_id, t.leaf_hash, r.envelope FROM transparency_leaves t"
                        " LEFT JOIN log_records r ON r.id = t.record_id ORDER BY t.idx")  # fmt: skip
    for expected, row in enumerate(rows):
        if row["idx"] != expected:
            raise LogTampered(f"leaf {expected} is missing from the transparency log")
        if row["envelope"] is None:
            raise LogTampered(f"leaf {expected}: record {row['record_id'].hex()} is no longer held")
        if leaf_hash(row["envelope"]) != row["leaf_hash"]:
            raise LogTampered(f"leaf {expected}: the stored bytes of record {row['record_id'].hex()} changed")
        hashes.append(row["leaf_hash"])
    tree.extend(hashes)
    if last is not None and signed and tree.root(signed) != last.root:
        raise LogTampered(f"the first {signed} leaves no longer have the root of the last checkpoint")
    return await tx.append(LogCheckpoint(tree_size=tree.size, root=tree.root()))


class LeafTree:
    """The stored leaf hashes as a ``MerkleTree`` kept in memory, read again only from where it stopped.

    Proofs cost O(log n) hashes, not a read of the whole log. The stored
    leaves only grow; should they not (a restore, an admin's edit), the
    last cached leaf no longer matches and the tree is read again.
    """

    def __init__(self) -> None:
        self._tree = MerkleTree()
        self._lock = asyncio.Lock()

    async def tree(self, db: Reader) -> MerkleTree:
        async with self._lock:
            size = await leaf_count(db)
            cached = self._tree.size
            if cached and (size < cached or await db.value("SELECT leaf_hash FROM transparency_leaves WHERE idx = ?",
                                                           (cached - 1,)) != self._tree.leaf(cached - 1)):  # fmt: skip
                self._tree = MerkleTree()
            if size > self._tree.size:
                rows = await db.all("SELECT leaf_hash FROM transparency_leaves WHERE idx >= ? ORDER BY idx",
                                    (self._tree.size,))  # fmt: skip
                self._tree.extend(row[0] for row in rows)
            return self._tree


def _size(size: int, tree: MerkleTree) -> None:
    if not 0 < size <= tree.size:
        raise Invalid(f"size {size} is not between 1 and the log's size {tree.size}", code="bad_size")


async def inclusion(db: Reader, record_id: bytes, size: int, *, leaves: LeafTree | None = None) -> Proof:
    """The proof that ``record_id`` is a leaf of the log's first ``size`` leaves.

    Raises ``NotFound`` (``not_in_log``) when it is not a leaf, or not one of
    the first ``size``; ``Invalid`` (``bad_size``) for a size the log never had.
    """
    tree = await (leaves or LeafTree()).tree(db)
    _size(size, tree)
    index = await db.value("SELECT idx FROM transparency_leaves WHERE record_id = ?", (record_id,))
    if index is None or index >= size:
        raise NotFound(f"record {record_id.hex()} is not in the first {size} leaves of the log", code="not_in_log")
    return Proof(index, size, tree.inclusion_proof(index, size))


async def consistency(db: Reader, old: int, new: int, *, leaves: LeafTree | None = None) -> list[bytes]:
    """The proof that the log's first ``new`` leaves extend its first ``old`` (RFC 9162 2.1.4).

    Raises ``Invalid`` (``bad_size``) unless 0 < old <= new <= the log's size.
    """
    tree = await (leaves or LeafTree()).tree(db)
    _size(new, tree)
    if not 0 < old <= new:
        raise Invalid(f"old size {old} is not between 1 and {new}", code="bad_size")
    return tree.consistency_proof(old, new)


# The member's side --------------------------------------------------------------


async def record_inclusion(tx: Tx, record_id: bytes, *, checkpoint_seq: int, tree_size: int, leaf_index: int) -> Inclusion:
    """Keep that ``record_id`` was proved included at the upstream's checkpoint ``checkpoint_seq``."""
    at = now_ms()
    await tx.run("INSERT INTO inclusions (record_id, checkpoint_seq, tree_size, leaf_index, verified_at)"
                 " VALUES (?, ?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET checkpoint_seq = excluded.checkpoint_seq,"
                 " tree_size = excluded.tree_size, leaf_index = excluded.leaf_index, verified_at = excluded.verified_at",
                 (record_id, checkpoint_seq, tree_size, leaf_index, at))  # fmt: skip
    return Inclusion(record_id, checkpoint_seq, tree_size, leaf_index, at)


async def inclusion_of(db: Reader, record_id: bytes) -> Inclusion | None:
    """The latest checkpoint at which ``record_id`` was proved included, if any."""
    row = await db.one("SELECT record_id, checkpoint_seq, tree_size, leaf_index, verified_at FROM inclusions"
                       " WHERE record_id = ?", (record_id,))  # fmt: skip
    return None if row is None else Inclusion(*row)
