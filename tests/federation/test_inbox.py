"""The inbox on a real SQLite file: every check of a batch, one item after the other, in one transaction."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from federation import inbox
from federation.effects import EFFECTS
from federation.wire import Item
from node.network import peers as trust
from node.network.replica import store_record
from node.store.database import Store
from protocol import canonical
from protocol.errors import LogBroken
from protocol.keys import SigningKey
from protocol.kinds import KeyRevocation, NodeDescriptor, StatsReport
from protocol.records import Record, sign_record
from protocol.seal import encryption_key, seal

SECRET = "Donateur confidentiel : Préfecture du Morbihan"


def key(name: str) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(f"inbox tests {name}".encode()).digest())


HUB, A, B, C, UP = key("hub"), key("a"), key("b"), key("c"), key("national")


@pytest.fixture
async def store(tmp_path):
    """The hub's database, with A and B pinned as its members (C is unknown)."""
    store = await Store.open(tmp_path / "hub.db", HUB, create=True)
    async with store.transaction() as tx:
        for member, name in ((A, "Atelier A"), (B, "Atelier B")):
            await trust.pin_peer(tx, member.public.raw, name=name, role="member", relation="downstream",
                                 encryption_key=encryption_key(member))  # fmt: skip
    yield store
    await store.close()


def chain(author: SigningKey, count: int, *, start: int = 1, prev: bytes | None = None,
          audience: tuple[bytes, ...] = (), body=None, note: str = "ok") -> list[Record]:  # fmt: skip
    """``count`` records of ``author`` from seq ``start`` (after ``prev``)."""
    records = []
    for seq in range(start, start + count):
        content = body or StatsReport(period="2026-01", version=seq, figures={"received.laptop.units": seq},
                                      factor_version=note)  # fmt: skip
        record = sign_record(author, seq=seq, prev=prev, time=1_767_225_600_000 + seq, kind=content.KIND,
                             content=content.to_content(), audience=audience)  # fmt: skip
        prev = record.id
        records.append(record)
    return records


def item(record: Record) -> Item:
    """A record as its author sends it: public content in clear, other content sealed to its readers."""
    if not record.header.audience:
        return Item(record.entry())
    readers = {*record.header.audience, record.header.author}
    keys = {k.public.raw: encryption_key(k) for k in (HUB, A, B, C) if k.public.raw in readers}
    return Item(record.stub().entry(), seal(record.id, record.content, keys))


async def receive(store: Store, items: list[Item], sender: SigningKey = A, **options) -> list[tuple]:
    async with store.transaction() as tx:
        results = await inbox.receive(tx, HUB, items, sender=sender.public.raw, **options)
    return [(r.status, r.reason, r.have) for r in results]


async def held(store: Store, author: SigningKey) -> list[tuple]:
    async with store.reader() as db:
        rows = await db.all("SELECT seq, id, envelope, content FROM log_records WHERE author = ? ORDER BY seq",
                            (author.public.raw,))  # fmt: skip
    return [tuple(row) for row in rows]


async def alerts(store: Store) -> list[tuple]:
    """The alerts the inbox raised (effects raise their own)."""
    async with store.reader() as db:
        rows = await db.all("SELECT kind, reason, author, seq FROM alerts WHERE kind IN ('fork', 'refused') ORDER BY id")
    return [tuple(row) for row in rows]


ACCEPTED = ("accepted", None, None)
DUPLICATE = ("duplicate", None, None)


async def test_records_are_held_as_signed_and_a_second_push_changes_nothing(store):
    records = chain(A, 5)
    assert await receive(store, [item(r) for r in records]) == [ACCEPTED] * 5
    assert await held(store, A) == [(r.header.seq, r.id, r.envelope, r.content) for r in records]
    assert await receive(store, [item(r) for r in records]) == [DUPLICATE] * 5
    # the same record twice in one batch: the second is a duplicate of the first
    more = chain(A, 1, start=6, prev=records[-1].id)
    assert await receive(store, [item(more[0]), item(more[0])]) == [ACCEPTED, DUPLICATE]
    assert len(await held(store, A)) == 6
    assert await alerts(store) == []


async def test_a_gap_is_refused_quietly_with_what_is_held(store):
    records = chain(A, 6)
    assert await receive(store, [item(r) for r in records[:3]]) == [ACCEPTED] * 3
    assert await receive(store, [item(records[4]), item(records[5])]) == [("refused", "gap", 3)] * 2
    # the missing one first, in the same batch: all held
    assert await receive(store, [item(r) for r in records[3:]]) == [ACCEPTED] * 3
    assert [row[0] for row in await held(store, A)] == [1, 2, 3, 4, 5, 6]
    assert await alerts(store) == []  # catching up is normal


async def test_a_fork_freezes_the_author_keeps_the_proof_and_alerts(store):
    records = chain(A, 3)
    assert await receive(store, [item(r) for r in records[:2]]) == [ACCEPTED] * 2
    other = chain(A, 1, start=2, prev=records[0].id, note="other")[0]
    # in one batch: the fork, then the author's next record, valid on its own, refused: the author is frozen
    assert await receive(store, [item(other), item(records[2])]) == [("refused", "fork", None)] * 2
    async with store.reader() as db:
        frozen = await db.one("SELECT seq, evidence FROM frozen_authors WHERE author = ?", (A.public.raw,))
    assert (frozen["seq"], frozen["evidence"]) == (2, other.envelope)
    assert await alerts(store) == [("fork", "fork", A.public.raw, 2)]
    assert [row[0] for row in await held(store, A)] == [1, 2]
    # and it stays frozen, even for records already held
    assert await receive(store, [item(records[0])]) == [("refused", "fork", None)]
    b = chain(B, 1)
    assert await receive(store, [item(b[0])], sender=B) == [ACCEPTED]  # other authors go on


async def test_bad_prev_is_refused_per_record(store):
    records = chain(A, 2)
    wrong = chain(A, 1, start=2, prev=bytes(32))[0]
    results = await receive(store, [item(records[0]), item(wrong), item(records[1])])
    assert results == [ACCEPTED, ("refused", "bad_prev", None), ACCEPTED]
    assert await alerts(store) == [("refused", "bad_prev", A.public.raw, 2)]


async def test_records_of_a_revoked_key_are_refused_from_the_revoked_seq(store):
    async with store.transaction() as tx:
        await trust.revoke_peer(tx, B.public.raw, 3)
    results = await receive(store, [item(r) for r in chain(B, 4)], sender=A)
    assert results == [ACCEPTED, ACCEPTED, ("refused", "revoked_key", None), ("refused", "revoked_key", None)]


async def test_a_revocation_applies_to_the_records_after_it_in_the_same_batch(store):
    records = chain(B, 2)
    revocation = chain(B, 1, start=3, prev=records[-1].id,
                       body=KeyRevocation(key=B.public.raw, from_seq=4, reason="stolen laptop"))  # fmt: skip
    after = chain(B, 2, start=4, prev=revocation[0].id)
    results = await receive(store, [item(r) for r in records + revocation + after], sender=B)
    assert results == [ACCEPTED] * 3 + [("refused", "revoked_key", None)] * 2
    async with store.reader() as db:
        assert await db.value("SELECT revoked_from FROM peers WHERE key = ?", (B.public.raw,)) == 4


async def test_a_descriptor_updates_its_peer(store):
    descriptor = NodeDescriptor(name="Atelier A, nouveau nom", role="member", endpoints=["https://a.example"],
                                encryption_key=encryption_key(A))  # fmt: skip
    records = chain(A, 1, body=descriptor)
    records += chain(A, 1, start=2, prev=records[0].id)
    assert await receive(store, [item(r) for r in records]) == [ACCEPTED] * 2
    async with store.reader() as db:
        peer = await trust.get_peer(db, A.public.raw)
    assert (peer.name, peer.url) == ("Atelier A, nouveau nom", "https://a.example")


async def test_content_with_an_audience_sent_in_clear_is_refused_and_public_content_sent_sealed_too(store):
    private = chain(A, 1, audience=(HUB.public.raw,))[0]
    public = chain(A, 1, note="public")[0]
    sealed = seal(public.id, public.content, {HUB.public.raw: encryption_key(HUB), A.public.raw: encryption_key(A)})
    results = await receive(store, [Item(private.entry()), Item(public.entry(), sealed)])
    assert results == [("refused", "bad_entry", None)] * 2
    assert await held(store, A) == []


async def test_sealed_content_is_opened_for_a_recipient(store):
    record = chain(A, 1, audience=(HUB.public.raw,), note=SECRET)[0]
    sent = item(record)
    assert await receive(store, [sent]) == [ACCEPTED]
    assert await held(store, A) == [(1, record.id, record.envelope, record.content)]
    async with store.reader() as db:
        assert await db.value("SELECT sealed FROM sealed WHERE record_id = ?", (record.id,)) == sent.sealed
        assert await db.value("SELECT count(*) FROM outbox") == 0  # addressed to this node only


async def test_sealed_content_is_kept_sealed_and_relayed_when_this_node_cannot_read_it(store):
    record = chain(A, 1, audience=(B.public.raw,), note=SECRET)[0]
    sent = item(record)
    assert await receive(store, [sent]) == [ACCEPTED]
    assert await held(store, A) == [(1, record.id, record.envelope, None)]
    async with store.reader() as db:
        assert await db.value("SELECT sealed FROM sealed WHERE record_id = ?", (record.id,)) == sent.sealed
        assert [tuple(row) for row in await db.all("SELECT peer, record_id FROM outbox")] == [(B.public.raw, record.id)]
    # an unknown reader (C) gets nothing relayed; the hub never holds the content in clear
    other = chain(A, 1, start=2, prev=record.id, audience=(C.public.raw,), note=SECRET)[0]
    assert await receive(store, [item(other)]) == [ACCEPTED]
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM outbox") == 1
    files = [store.path, store.path.with_name(store.path.name + "-wal")]
    assert not any(SECRET.encode() in f.read_bytes() for f in files if f.exists())


async def test_a_stub_held_is_completed_when_its_content_arrives(store):
    record = chain(A, 1, audience=(HUB.public.raw,))[0]
    assert await receive(store, [Item(record.stub().entry())]) == [ACCEPTED]
    assert (await held(store, A))[0][3] is None
    assert await receive(store, [item(record)]) == [ACCEPTED]
    assert (await held(store, A))[0][3] == record.content
    assert await receive(store, [item(record)]) == [DUPLICATE]


async def test_a_record_of_an_unknown_kind_is_held_with_its_content_only_from_the_upstream(store):
    record = sign_record(A, seq=1, prev=None, time=1_767_225_600_000, kind="future.thing/3",
                         content={"anything": [1, 2, 3]})  # fmt: skip
    # pushed by a member, its own or relayed: refused, nothing held
    assert await receive(store, [item(record)]) == [("refused", "unknown_kind", None)]
    assert await receive(store, [item(record)], sender=B) == [("refused", "unknown_kind", None)]
    assert await held(store, A) == []
    # served by this node's upstream, whose logs it follows whole: held, for a newer version to read
    async with store.transaction() as tx:
        await trust.pin_peer(tx, UP.public.raw, name="National", role="national", relation="upstream")
    assert await receive(store, [item(record)], sender=UP) == [ACCEPTED]
    assert await held(store, A) == [(1, record.id, record.envelope, record.content)]


async def test_relayed_records_are_taken_of_known_authors_only_but_any_from_the_upstream(store):
    async with store.transaction() as tx:
        await trust.pin_peer(tx, UP.public.raw, name="National", role="national", relation="upstream")
    # A relays B's records (a member this hub admitted): taken; C's (a key nobody admitted): refused
    assert await receive(store, [item(r) for r in chain(B, 2)], sender=A) == [ACCEPTED] * 2
    assert await receive(store, [item(r) for r in chain(C, 2)], sender=A) == [("refused", "unknown_author", None)] * 2
    assert await held(store, C) == []
    assert ("refused", "unknown_author", C.public.raw, 1) in await alerts(store)
    # what the upstream serves is taken whatever its author: it checked it by the same rule
    assert await receive(store, [item(r) for r in chain(C, 2)], sender=UP) == [ACCEPTED] * 2


def tampered(record: Record) -> Item:
    """The record with one byte of its signature changed."""
    envelope = canonical.encode([1, record.header_bytes, bytes([record.signature[0] ^ 1]) + record.signature[1:]])
    return Item(canonical.encode([envelope, record.content]))


async def test_a_batch_mixing_good_and_bad_items_keeps_the_good_ones(store):
    records = chain(A, 4)
    batch = [item(records[0]), tampered(records[1]), Item(b"\xc1"), item(records[1]),
             item(records[3]), item(records[2]), item(chain(B, 1)[0])]  # fmt: skip
    results = await receive(store, batch)
    assert results == [ACCEPTED, ("refused", "bad_signature", None), ("refused", "malformed", None), ACCEPTED,
                       ("refused", "gap", 2), ACCEPTED, ACCEPTED]  # fmt: skip
    assert [row[0] for row in await held(store, A)] == [1, 2, 3]
    assert {row[1] for row in await alerts(store)} == {"bad_signature", "malformed"}


async def test_big_batches_are_checked_on_workers_with_the_same_outcome(tmp_path):
    """A batch of 64 or more goes to the worker processes: same verdicts, same rows as checked here."""
    records = chain(A, 150, audience=(HUB.public.raw,))
    relayed = chain(C, 20, audience=(B.public.raw,))
    batch = [item(r) for r in records[:100]] + [tampered(records[100]), item(records[101])]
    batch += [item(r) for r in relayed] + [Item(records[102].entry())]
    outcomes = []
    await inbox.start_workers()  # else this first big batch is checked here while they start
    try:
        for parallel in (True, False):
            store = await Store.open(tmp_path / f"{parallel}.db", HUB, create=True)
            try:
                async with store.transaction() as tx:
                    for member in (A, B, C):  # (C's records, relayed by A, are of a member this hub knows)
                        await trust.pin_peer(tx, member.public.raw, name=member.public.node_id[:8], role="member",
                                             relation="downstream")  # fmt: skip
                results = await receive(store, batch, parallel=parallel)
                async with store.reader() as db:
                    rows = await db.all("SELECT author, seq, id, envelope, content FROM log_records ORDER BY author, seq")
                    sealed = await db.all("SELECT record_id, sealed FROM sealed ORDER BY record_id")
                    queued = await db.all("SELECT peer, record_id FROM outbox ORDER BY id")
                    # the effects ran the same (A's reports, A not certified: refused as not_a_member)
                    effects = await db.all("SELECT kind, reason, author FROM alerts WHERE kind = 'refused_effect'")
                outcomes.append((results, [tuple(r) for r in rows], [tuple(r) for r in sealed], [tuple(r) for r in queued],
                                 [tuple(r) for r in effects]))  # fmt: skip
            finally:
                await store.close()
    finally:
        inbox.stop_workers()
    assert outcomes[0] == outcomes[1]
    results, rows, sealed, queued, effects = outcomes[0]
    assert effects == [("refused_effect", "not_a_member", A.public.raw)]  # folded: one alert an hour
    assert results == ([ACCEPTED] * 100 + [("refused", "bad_signature", None), ("refused", "gap", 100)]
                       + [ACCEPTED] * 20 + [("refused", "bad_entry", None)])  # fmt: skip
    assert len(rows) == 120 and all(row[4] is not None for row in rows if row[0] == A.public.raw)
    assert len(sealed) == 120 and len(queued) == 20


async def test_store_record_refuses_one_record_as_before(store):
    records = chain(A, 3)
    async with store.transaction() as tx:
        assert await store_record(tx, records[0]) == "new"
        assert await store_record(tx, records[0]) == "duplicate"
        with pytest.raises(LogBroken, match="have 1"):
            await store_record(tx, records[2])


async def test_when_the_workers_die_batches_are_checked_on_the_node_process():
    items = [item(r) for r in chain(A, 70, audience=(HUB.public.raw,))]
    workers = inbox._Workers(2)
    try:
        await workers.start()
        for process in workers._pool._processes.values():  # killed by the system, say for memory
            process.kill()
        verdicts = await workers.check(HUB, items)
    finally:
        workers.stop()
    assert workers.count == 1  # and from now on, without trying again
    assert [(v.record.id, v.record.content, v.refusal) for v in verdicts] == [
        (v.record.id, v.record.content, v.refusal) for v in (inbox._check(i.entry, i.sealed, HUB) for i in items)
    ]


async def test_a_big_batch_does_not_wait_for_the_workers_to_start():
    """Workers take a second to start, many more on a busy machine: the batch that starts them is checked here.

    (A hub killed and started again every few seconds never answered a big
    push that waited for them: the member's pushes failed forever.)
    """
    items = [item(r) for r in chain(A, 70, audience=(HUB.public.raw,))]
    workers = inbox._Workers(2)
    starting = threading.Event()
    slow = ThreadPoolExecutor(1)  # stands for worker processes that are still starting
    slow.submit(starting.wait)
    workers._executor = lambda: slow
    try:
        verdicts = await asyncio.wait_for(workers.check(HUB, items), 30)
    finally:
        starting.set()
        workers.stop()
        slow.shutdown()
    assert [(v.record.id, v.record.content, v.refusal) for v in verdicts] == [
        (v.record.id, v.record.content, v.refusal) for v in (inbox._check(i.entry, i.sealed, HUB) for i in items)
    ]


async def test_effects_run_in_order_once_per_record_each_seeing_its_record_held(store, monkeypatch):
    seen = []

    async def effect(tx, me, record, body):
        held_now = await tx.value("SELECT count(*) FROM log_records WHERE id = ?", (record.id,))
        seen.append((record.header.seq, body.version, held_now))

    monkeypatch.setitem(EFFECTS, StatsReport.KIND, effect)
    records = chain(A, 4)
    wrong = chain(A, 1, start=3, prev=bytes(32))[0]
    results = await receive(store, [item(records[0]), item(records[1]), item(wrong), item(records[1]),
                                    item(records[2]), item(records[3])])  # fmt: skip
    assert results == [ACCEPTED, ACCEPTED, ("refused", "bad_prev", None), DUPLICATE, ACCEPTED, ACCEPTED]
    assert seen == [(1, 1, 1), (2, 2, 1), (3, 3, 1), (4, 4, 1)]  # none for the refused one nor the duplicate
    # a record this node cannot read has no effect here
    private = chain(A, 1, start=5, prev=records[3].id, audience=(B.public.raw,))[0]
    assert await receive(store, [item(private)]) == [ACCEPTED]
    assert len(seen) == 4
