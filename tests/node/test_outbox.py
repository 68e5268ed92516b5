"""The outbox as a mailbox: a cursor never points back, an acknowledgement drops only what was served."""

from __future__ import annotations

from node.network import outbox, peers
from node.store.database import Store, restore
from protocol.kinds import LotDecline

PEER = bytes(range(32))


async def _setup(store: Store, count: int) -> list[bytes]:
    async with store.transaction() as tx:
        await peers.pin_peer(tx, PEER, name="Membre", role="member", relation="downstream")
        return [(await tx.append(LotDecline(offer=bytes(32), reason=f"r{n}"))).id for n in range(count)]


async def _serve(store: Store, after: int) -> tuple[list[bytes], int]:
    """What the mailbox endpoint does: acknowledge ``after``, serve the next page, note what was served."""
    async with store.transaction() as tx:
        if after:
            await outbox.acknowledge_mailbox(tx, PEER, after)
        held, cursor, _ = await outbox.mailbox(tx, PEER, after=after)
        if cursor > after:
            await outbox.served(tx, PEER, cursor)
    return [h.id for h in held], cursor


async def test_a_row_queued_after_the_queue_emptied_is_served_not_dropped(store):
    first, second = await _setup(store, 2)
    async with store.transaction() as tx:
        await outbox.enqueue(tx, PEER, [first])
    served, cursor = await _serve(store, 0)
    assert served == [first]
    assert await _serve(store, cursor) == ([], cursor)  # acknowledged: the queue is empty
    async with store.transaction() as tx:
        await outbox.enqueue(tx, PEER, [second])
    served, later = await _serve(store, cursor)  # the old cursor acknowledges nothing new
    assert served == [second] and later > cursor


async def test_an_acknowledgement_beyond_what_was_served_drops_nothing_unseen(store):
    ids = await _setup(store, 3)
    async with store.transaction() as tx:
        await outbox.enqueue(tx, PEER, ids[:1])
    _, cursor = await _serve(store, 0)
    async with store.transaction() as tx:
        await outbox.enqueue(tx, PEER, ids[1:])
        dropped = await outbox.acknowledge_mailbox(tx, PEER, 2**62)  # a cursor this node never gave
    assert dropped == 1
    served, _ = await _serve(store, cursor)
    assert served == ids[1:]


async def test_ids_given_after_a_restore_are_above_those_given_before_it(store, tmp_path):
    ids = await _setup(store, 3)
    await store.backup(tmp_path / "backup.db")
    async with store.transaction() as tx:
        await outbox.enqueue(tx, PEER, ids[:2])
    _, before = await _serve(store, 0)
    key = store.key
    await store.close()
    restore(tmp_path / "backup.db", tmp_path / "node.db")
    again = await Store.open(tmp_path / "node.db", key)
    try:
        async with again.transaction() as tx:
            await outbox.enqueue(tx, PEER, ids[2:])
        served, after = await _serve(again, before)  # the member names the cursor it had before the restore
        assert served == ids[2:] and after > before
    finally:
        await again.close()
