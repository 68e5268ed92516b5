"""The hub's transparency log between real nodes on loopback: leaves, checkpoints, a member's inclusion check."""

from __future__ import annotations

import asyncio
import sqlite3

import aiohttp
import pytest
from livenodes import LiveNode, wait_for
from test_replication import append, held, own
from test_requests_live import call

from federation.audit import InclusionFailed
from federation.client import FedClient
from federation.engine import Federation, Timing
from node.config import load_node
from node.store.database import Store
from protocol import canonical, merkle
from protocol.kinds import LogCheckpoint, LotDecline

FAST = Timing.from_environ({"MAILLON_FEDERATION_FAST": "1"})


def check_inclusion(member: LiveNode, record_id: bytes):
    """``Audit.check_inclusion`` on the member's database, from outside its process (it keeps running)."""

    async def go():
        loaded = load_node(member.data)
        store = await Store.open(loaded.db_path, loaded.key)
        try:
            async with aiohttp.ClientSession() as session:
                fed = Federation(loaded, store, session=session, timing=FAST)  # as the running nodes
                fed.client = FedClient(session, loaded.key)
                return await fed.audit.check_inclusion(record_id)
        finally:
            await store.close()

    return asyncio.run(go())


def checkpoints(hub: LiveNode) -> list[LogCheckpoint]:
    rows = hub.query("SELECT content FROM log_records WHERE author = ? AND kind = ? ORDER BY seq",
                     (hub.key, LogCheckpoint.KIND))  # fmt: skip
    return [LogCheckpoint.model_validate(canonical.decode(row[0])) for row in rows]


def leaves(hub: LiveNode) -> list:
    return hub.query("SELECT t.idx, t.record_id, t.leaf_hash, r.envelope, r.author FROM transparency_leaves t"
                     " JOIN log_records r ON r.id = t.record_id ORDER BY t.idx")  # fmt: skip


def drop_and_sign(hub: LiveNode, record_id: bytes) -> None:
    """A dishonest hub: takes a record out of its leaves and signs a checkpoint over what is left."""

    async def go():
        loaded = load_node(hub.data)
        store = await Store.open(loaded.db_path, loaded.key)
        try:
            async with store.transaction() as tx:
                index = await tx.value("SELECT idx FROM transparency_leaves WHERE record_id = ?", (record_id,))
                await tx.run("DELETE FROM transparency_leaves WHERE idx = ?", (index,))
                await tx.run("UPDATE transparency_leaves SET idx = -idx WHERE idx > ?", (index,))
                await tx.run("UPDATE transparency_leaves SET idx = -idx - 1 WHERE idx < 0")
                hashes = [row[0] for row in await tx.all("SELECT leaf_hash FROM transparency_leaves ORDER BY idx")]
                await tx.append(LogCheckpoint(tree_size=len(hashes), root=merkle.root(hashes)))
        finally:
            await store.close()

    asyncio.run(go())


@pytest.fixture
def hub_and_member(make_node):
    hub = make_node("Ordi Grand Ouest", role="hub").start()
    member = make_node("Atelier du Lien", reachable=False)
    member.join(hub)
    member.start()
    return hub, member


def test_a_members_records_become_leaves_and_are_proved_included(hub_and_member):
    hub, member = hub_and_member
    records = append(member, LotDecline(offer=bytes(32), reason="kept"), count=3)
    wait_for(lambda: held(hub, member.key) == own(member), what="the member's log at its hub")
    # every record of the member is a leaf, its hash that of its envelope; the hub's own records too
    wait_for(lambda: {row["record_id"] for row in leaves(hub)} >= {r.id for r in records}, what="the leaves")
    rows = leaves(hub)
    assert [row["idx"] for row in rows] == list(range(len(rows)))
    assert all(row["leaf_hash"] == merkle.leaf_hash(row["envelope"]) for row in rows)
    member_leaves = [row["record_id"] for row in rows if row["author"] == member.key]
    assert member_leaves == [row[0] for row in member.query("SELECT id FROM log_records WHERE author = ? ORDER BY seq",
                                                            (member.key,))]  # acceptance order: the log's order
    assert any(row["author"] == hub.key for row in rows)
    assert hub.value("SELECT count(*) FROM transparency_leaves t JOIN log_records r ON r.id = t.record_id"
                     " WHERE r.kind = ?", (LogCheckpoint.KIND,)) == 0  # fmt: skip
    # a checkpoint over all of them appears, its root that of the envelopes in leaf order
    size = len(rows)
    last = wait_for(lambda: next((c for c in checkpoints(hub) if c.tree_size >= size), None), what="a checkpoint")
    envelopes = [row["envelope"] for row in leaves(hub)][: last.tree_size]
    assert last.root == merkle.root_of_data(envelopes)
    # the member asks for the proof of its record and keeps the result
    included = check_inclusion(member, records[1].id)
    seq = hub.value("SELECT seq FROM log_records WHERE author = ? AND kind = ? ORDER BY seq DESC LIMIT 1",
                    (hub.key, LogCheckpoint.KIND))  # fmt: skip
    assert included.tree_size >= size and included.checkpoint_seq <= seq
    kept = member.query("SELECT checkpoint_seq, tree_size FROM inclusions WHERE record_id = ?", (records[1].id,))
    assert tuple(kept[0]) == (included.checkpoint_seq, included.tree_size)
    # the log grows, a later checkpoint extends the earlier one: the hub proves it
    more = append(member, LotDecline(offer=bytes(32), reason="later"), count=2)
    wait_for(lambda: {row["record_id"] for row in leaves(hub)} >= {r.id for r in more}, what="the new leaves")
    grown = len(leaves(hub))
    new = wait_for(lambda: next((c for c in checkpoints(hub) if c.tree_size >= grown), None), what="a later checkpoint")
    key = load_node(member.data).key
    status, answer = call(hub, key, "GET", "/fed/v1/proof/consistency", query=f"old={last.tree_size}&new={new.tree_size}")
    assert status == 200
    merkle.verify_consistency(last.tree_size, new.tree_size, last.root, new.root, answer["path"])
    # the endpoints refuse what they cannot prove
    status, answer = call(hub, key, "GET", "/fed/v1/proof/inclusion", query=f"record={'00' * 32}&size={new.tree_size}")
    assert (status, answer["reason"]) == (404, "not_in_log")
    status, answer = call(hub, key, "GET", "/fed/v1/proof/consistency", query=f"old=1&new={2**40}")
    assert (status, answer["reason"]) == (400, "bad_size")


def test_a_hub_that_drops_a_record_is_caught_by_the_inclusion_check(hub_and_member):
    hub, member = hub_and_member
    records = append(member, LotDecline(offer=bytes(32), reason="dropped"), count=2)
    wait_for(lambda: {row["record_id"] for row in leaves(hub)} >= {r.id for r in records}, what="the leaves")
    size = len(leaves(hub))
    wait_for(lambda: any(c.tree_size >= size for c in checkpoints(hub)), what="a checkpoint")
    assert check_inclusion(member, records[0].id).tree_size >= size
    drop_and_sign(hub, records[0].id)
    with pytest.raises(InclusionFailed) as failed:
        check_inclusion(member, records[0].id)
    assert failed.value.reason == "not_included"
    assert member.value("SELECT reason FROM alerts WHERE kind = 'inclusion_failed'") == "not_included"
    # the other record is still proved: the hub rewrote its log around it, consistently
    assert check_inclusion(member, records[1].id).tree_size >= size - 1


def test_a_hub_whose_stored_bytes_changed_signs_no_checkpoint(hub_and_member):
    hub, member = hub_and_member
    records = append(member, LotDecline(offer=bytes(32), reason="altered"), count=2)
    wait_for(lambda: {row["record_id"] for row in leaves(hub)} >= {r.id for r in records}, what="the leaves")
    wait_for(lambda: checkpoints(hub), what="a checkpoint")
    db = sqlite3.connect(hub.data / "node.db", timeout=10)
    try:
        with db:
            db.execute("UPDATE log_records SET envelope = CAST(envelope || x'00' AS BLOB) WHERE id = ?", (records[0].id,))
    finally:
        db.close()
    signed = checkpoints(hub)  # none after this: every checkpoint reads all the leaves back
    later = append(member, LotDecline(offer=bytes(32), reason="grows"))
    wait_for(lambda: later[0].id in {row["record_id"] for row in leaves(hub)}, what="the log growing")
    wait_for(lambda: hub.value("SELECT detail FROM alerts WHERE kind = 'log_tampered'"), what="the hub's alert")
    assert records[0].id.hex() in hub.value("SELECT detail FROM alerts WHERE kind = 'log_tampered'")
    assert checkpoints(hub) == signed
