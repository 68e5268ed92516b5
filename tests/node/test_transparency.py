"""The transparency log: leaves in acceptance order, checkpoints over the stored bytes, proofs."""

from __future__ import annotations

import hashlib

import pytest

from node.errors import Invalid, NotFound
from node.network.replica import store_records
from node.network.transparency import (
    LeafTree,
    LogTampered,
    append_leaves,
    append_own,
    checkpoint,
    consistency,
    inclusion,
    inclusion_of,  # fmt: skip
    last_checkpoint,
    leaf_count,
    record_inclusion,
)
from protocol import canonical, merkle
from protocol.errors import ProofInvalid
from protocol.keys import SigningKey
from protocol.kinds import LogCheckpoint, LotDecline
from protocol.records import Record, open_entry, sign_record

MEMBER = SigningKey.from_seed(hashlib.sha256(b"transparency member").digest())


def member_log(count: int, first: int = 1, prev: bytes | None = None) -> list[Record]:
    records = []
    for seq in range(first, first + count):
        record = sign_record(MEMBER, seq=seq, prev=prev, time=1_700_000_000_000 + seq, kind=LotDecline.KIND,
                             content=LotDecline(offer=bytes(32), reason=f"r{seq}").to_content())  # fmt: skip
        records.append(record)
        prev = record.id
    return records


async def accept(store, records: list[Record]) -> None:
    """What the inbox does for records held as new: hold them, then make them leaves in the same transaction."""
    async with store.transaction() as tx:
        stored = await store_records(tx, [(record, None) for record in records])
        await append_leaves(tx, [(r.id, r.envelope) for r, s in zip(records, stored) if s.outcome == "new"])


async def test_leaves_are_the_envelopes_in_acceptance_order(store):
    records = member_log(5)
    await accept(store, records[:3])
    await accept(store, records[:5])  # the first three again: duplicates, not leaves twice
    async with store.reader() as db:
        rows = await db.all("SELECT idx, record_id, leaf_hash FROM transparency_leaves ORDER BY idx")
        assert await leaf_count(db) == 5
    assert [row["idx"] for row in rows] == [0, 1, 2, 3, 4]
    assert [row["record_id"] for row in rows] == [r.id for r in records]
    assert [row["leaf_hash"] for row in rows] == [merkle.leaf_hash(r.envelope) for r in records]


async def test_own_records_are_leaves_but_not_checkpoints(store):
    async with store.transaction() as tx:
        first = await tx.append(LotDecline(offer=bytes(32), reason="own"))
        assert await append_own(tx, tx.author) == 1
        assert await append_own(tx, tx.author) == 0
        cp = await checkpoint(tx)
        second = await tx.append(LotDecline(offer=bytes(32), reason="own_again"))
        assert await append_own(tx, tx.author) == 1  # the checkpoint between them is skipped
        ids = [row[0] for row in await tx.all("SELECT record_id FROM transparency_leaves ORDER BY idx")]
    assert cp is not None
    assert ids == [first.id, second.id]


async def test_a_checkpoint_signs_the_root_of_the_envelopes(store):
    records = member_log(7)
    await accept(store, records)
    async with store.transaction() as tx:
        record = await checkpoint(tx)
        assert await checkpoint(tx) is None  # the log did not grow
    assert record is not None and record.header.kind == LogCheckpoint.KIND
    assert record.header.audience == ()  # public
    body = open_entry(canonical.encode([record.envelope, record.content])).body()
    assert body.tree_size == 7
    assert body.root == merkle.root_of_data([r.envelope for r in records])
    await accept(store, member_log(2, 8, records[-1].id))
    async with store.transaction() as tx:
        later = await checkpoint(tx)
    async with store.reader() as db:
        held, body = await last_checkpoint(db, store.key.public.raw)
    assert held is not None and held.id == later.id and body.tree_size == 9


@pytest.mark.parametrize("damage", [
    "UPDATE log_records SET envelope = CAST(envelope || x'00' AS BLOB) WHERE seq = 2 AND author = :member",
    "UPDATE transparency_leaves SET leaf_hash = zeroblob(32) WHERE idx = 1",
    "DELETE FROM transparency_leaves WHERE idx = 2",
])  # fmt: skip
async def test_a_tampered_log_is_refused_not_signed(store, damage):
    await accept(store, member_log(4))
    async with store.transaction() as tx:
        await tx.run(damage, {"member": MEMBER.public.raw} if ":member" in damage else ())
    with pytest.raises(LogTampered):
        async with store.transaction() as tx:
            await checkpoint(tx)
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM log_records WHERE kind = ?", (LogCheckpoint.KIND,)) == 0


async def test_a_log_that_no_longer_extends_its_checkpoint_is_refused(store):
    records = member_log(3)
    await accept(store, records)
    async with store.transaction() as tx:
        await checkpoint(tx)
        # history rewritten consistently: leaf 0 now holds another record, and the log grew
        await tx.run("DELETE FROM transparency_leaves")
        await append_leaves(tx, [(r.id, r.envelope) for r in reversed(records)])
        await append_leaves(tx, [(r.id, r.envelope) for r in member_log(1, 4, records[-1].id)])
    with pytest.raises(LogTampered, match="root of the last checkpoint"):
        async with store.transaction() as tx:
            await store_records(tx, [(member_log(1, 4, records[-1].id)[0], None)])
            await checkpoint(tx)


async def test_proofs_verify_against_the_checkpoint(store):
    records = member_log(11)
    await accept(store, records[:6])
    async with store.transaction() as tx:
        old = open_entry(canonical.encode([(r := await checkpoint(tx)).envelope, r.content])).body()
    await accept(store, records[6:])
    async with store.transaction() as tx:
        new = open_entry(canonical.encode([(r := await checkpoint(tx)).envelope, r.content])).body()
    leaves = LeafTree()
    async with store.reader() as db:
        for size, body in ((6, old), (11, new)):
            for i, record in enumerate(records[:size]):
                proof = await inclusion(db, record.id, size, leaves=leaves)
                assert (proof.index, proof.size) == (i, size)
                merkle.verify_inclusion(merkle.leaf_hash(record.envelope), proof.index, size, proof.path, body.root)
        path = await consistency(db, 6, 11, leaves=leaves)
        merkle.verify_consistency(6, 11, old.root, new.root, path)
        with pytest.raises(NotFound):
            await inclusion(db, records[8].id, 6, leaves=leaves)  # not yet a leaf at size 6
        with pytest.raises(NotFound):
            await inclusion(db, bytes(32), 11)
        with pytest.raises(Invalid):
            await inclusion(db, records[0].id, 12)
        with pytest.raises(Invalid):
            await consistency(db, 0, 11)
        # a proof for another record's leaf does not verify ours
        proof = await inclusion(db, records[3].id, 11)
        with pytest.raises(ProofInvalid):
            merkle.verify_inclusion(merkle.leaf_hash(records[4].envelope), proof.index, 11, proof.path, new.root)


async def test_the_leaf_cache_reads_again_when_the_leaves_changed(store):
    records = member_log(4)
    await accept(store, records)
    leaves = LeafTree()
    async with store.reader() as db:
        assert (await leaves.tree(db)).root() == merkle.root_of_data([r.envelope for r in records])
    async with store.transaction() as tx:  # an admin's edit behind the cache's back: the same size, reordered
        await tx.run("DELETE FROM transparency_leaves WHERE idx >= 2")
        await append_leaves(tx, [(records[3].id, records[3].envelope), (records[2].id, records[2].envelope)])
    async with store.reader() as db:
        tree = await leaves.tree(db)
    assert tree.size == 4 and tree.leaf(2) == merkle.leaf_hash(records[3].envelope)


async def test_a_member_keeps_its_latest_inclusion(store):
    async with store.transaction() as tx:
        await record_inclusion(tx, b"r" * 32, checkpoint_seq=4, tree_size=10, leaf_index=3)
        await record_inclusion(tx, b"r" * 32, checkpoint_seq=9, tree_size=30, leaf_index=3)
    async with store.reader() as db:
        kept = await inclusion_of(db, b"r" * 32)
        assert await inclusion_of(db, b"s" * 32) is None
    assert (kept.checkpoint_seq, kept.tree_size, kept.leaf_index) == (9, 30, 3)
