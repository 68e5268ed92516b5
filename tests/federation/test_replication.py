"""Joining, pushing, pulling and relaying between real node processes on loopback."""

from __future__ import annotations

import asyncio

import pytest
from livenodes import LiveNode, wait_for
from test_requests_live import call

from node.config import load_node
from node.errors import StoreError
from node.store.database import Store
from protocol.kinds import LotDecline
from protocol.records import Record

SECRET = "Donateur confidentiel: Préfecture du Morbihan"


def append(node: LiveNode, body, audience: tuple[bytes, ...] = (), count: int = 1) -> list[Record]:
    """Sign records into a node's log from outside its process (its federation picks them up)."""

    async def go() -> list[Record]:
        loaded = load_node(node.data)
        store = await Store.open(loaded.db_path, loaded.key)
        try:
            async with store.transaction() as tx:
                return [await tx.append(body, audience) for _ in range(count)]
        finally:
            await store.close()

    return asyncio.run(go())


def held(node: LiveNode, author: bytes) -> int:
    return node.value("SELECT count(*) FROM log_records WHERE author = ?", (author,))


def own(node: LiveNode) -> int:
    return held(node, node.key)


def queued(node: LiveNode) -> int:
    return node.value("SELECT count(*) FROM outbox")


def test_a_member_joins_and_both_logs_flow(make_node):
    hub = make_node("Ordi Grand Ouest", role="hub").start()
    member = make_node("Atelier du Lien", reachable=False)
    out = member.join(hub)
    assert "joined Ordi Grand Ouest" in out
    member.start()
    wait_for(lambda: held(hub, member.key) == own(member), what="the member's log at its hub")
    # the hub signed a membership certificate; the member pulled the hub's log and holds it
    certificate = hub.query("SELECT content FROM log_records WHERE author = ? AND kind = 'membership.certificate/1'",
                            (hub.key,))  # fmt: skip
    assert len(certificate) == 1
    wait_for(lambda: held(member, hub.key) == own(hub), what="the hub's log at the member")
    assert member.value("SELECT relation FROM peers WHERE key = ?", (hub.key,)) == "upstream"
    assert hub.value("SELECT relation FROM peers WHERE key = ?", (member.key,)) == "downstream"
    assert hub.value("SELECT url FROM peers WHERE key = ?", (member.key,)) is None  # behind NAT
    # a record written later flows too, and nothing stays queued
    append(member, LotDecline(offer=bytes(32), reason="test"))
    wait_for(lambda: held(hub, member.key) == own(member) and queued(member) == 0, what="the new record")
    peers = member.cli("peers", "--data", str(member.data))
    assert "Ordi Grand Ouest" in peers and "upstream hub, active" in peers


def test_a_join_with_the_wrong_fingerprint_or_a_used_token_changes_nothing(make_node):
    hub = make_node("Hub", role="hub").start()
    member = make_node("Membre")
    token, _ = hub.invite()
    out = member.cli("join", "--data", str(member.data), hub.url, "--token", token, "--fingerprint",
                     "AAAA-BBBB-CCCC-DDDD", check=False)  # fmt: skip
    assert "fingerprint mismatch" in out
    assert member.value("SELECT count(*) FROM peers") == 0
    assert hub.value("SELECT count(*) FROM peers") == 0
    member.cli("join", "--data", str(member.data), hub.url, "--token", token, "--fingerprint", hub.fingerprint)
    intruder = make_node("Intrus")
    out = intruder.cli("join", "--data", str(intruder.data), hub.url, "--token", token, "--fingerprint",
                       hub.fingerprint, check=False)  # fmt: skip
    assert "bad_invitation" in out and "already used" in out
    assert intruder.value("SELECT count(*) FROM peers") == 0
    assert hub.value("SELECT count(*) FROM peers") == 1


def test_the_hub_relays_sealed_content_it_cannot_read(make_node):
    hub = make_node("Hub", role="hub").start()
    a = make_node("Atelier A", reachable=False)
    b = make_node("Atelier B", reachable=False)
    a.join(hub)
    b.join(hub)
    a.start()
    b.start()
    # A needs B's encryption key: it comes with B's descriptor, relayed through the hub's log of B
    wait_for(lambda: held(hub, b.key) == own(b), what="B's log at the hub")
    record = append(a, LotDecline(offer=bytes(32), reason="no_room", note=SECRET), audience=(b.key,))[0]
    wait_for(lambda: b.value("SELECT content FROM log_records WHERE id = ?", (record.id,)), 30, "the content at B")
    # B holds the exact bytes A signed, content included
    row = b.query("SELECT envelope, content FROM log_records WHERE id = ?", (record.id,))[0]
    assert row["envelope"] == record.envelope and row["content"] == record.content
    # the hub holds the header and a sealed copy, never the content
    assert hub.value("SELECT content FROM log_records WHERE id = ?", (record.id,)) is None
    sealed = hub.value("SELECT sealed FROM sealed WHERE record_id = ?", (record.id,))
    assert sealed and SECRET.encode() not in sealed
    assert SECRET.encode() not in (hub.data / "node.db").read_bytes()


def test_a_peer_down_for_a_while_then_back_gets_everything_once(make_node):
    hub = make_node("Hub", role="hub").start()
    member = make_node("Membre", reachable=False)
    member.join(hub)
    member.start()
    wait_for(lambda: held(hub, member.key) == own(member), what="the first log")
    hub.stop()
    append(member, LotDecline(offer=bytes(32), reason="later"), count=40)
    wait_for(lambda: member.value("SELECT failures FROM peers") >= 2, what="failed attempts")
    assert member.value("SELECT last_error FROM peers")
    member.kill()  # and the member crashes with its queue full
    assert queued(member) >= 40
    member.start()
    hub.start()
    wait_for(lambda: held(hub, member.key) == own(member) and queued(member) == 0, 30, "catching up")
    assert member.value("SELECT failures FROM peers") == 0
    seqs = [r[0] for r in hub.query("SELECT seq FROM log_records WHERE author = ? ORDER BY seq", (member.key,))]
    assert seqs == list(range(1, own(member) + 1))


def test_a_node_restored_from_an_old_backup_takes_its_log_back_before_signing(make_node):
    hub = make_node("Hub", role="hub").start()
    member = make_node("Membre", reachable=False)
    member.join(hub)
    member.start()
    wait_for(lambda: held(hub, member.key) == own(member), what="the first log")
    member.cli("backup", "--data", str(member.data), "--out", str(member.data / "old.db"))
    append(member, LotDecline(offer=bytes(32), reason="after_backup", note=SECRET), audience=(member.key,), count=3)
    wait_for(lambda: held(hub, member.key) == own(member) and queued(member) == 0, what="the later records")
    sent = own(member)
    member.stop()
    hub.stop()
    member.cli("restore", "--data", str(member.data), str(member.data / "old.db"))
    assert own(member) == sent - 3
    member.start()
    # the hub is down: the node serves, but signs nothing until it has its log back
    with pytest.raises(StoreError, match="restored from a backup"):
        append(member, LotDecline(offer=bytes(32), reason="too_early"))
    hub.start()
    wait_for(lambda: own(member) == sent, 30, "the log taken back from the hub")
    contents = member.query("SELECT content FROM log_records WHERE author = ? AND seq > ?", (member.key, sent - 3))
    assert all(row["content"] and SECRET.encode() in row["content"] for row in contents)  # sealed to itself
    record = wait_for(lambda: _try_append(member), 20, "signing allowed again")
    assert record.header.seq > sent  # after the log taken back, never over it
    wait_for(lambda: held(hub, member.key) == own(member), what="the new record at the hub")
    assert hub.value("SELECT count(*) FROM frozen_authors") == 0


def _try_append(node: LiveNode) -> Record | None:
    try:
        return append(node, LotDecline(offer=bytes(32), reason="after_restore"))[0]
    except StoreError:
        return None


def test_bodies_larger_than_one_network_read_go_through(make_node):
    hub = make_node("Hub", role="hub").start()
    member = make_node("Membre", reachable=False)
    member.join(hub)
    member.start()
    # 300 public records of ~600 bytes: pushes and pulls of several hundred kilobytes
    append(member, LotDecline(offer=bytes(32), reason="big", note="x" * 480), count=300)
    wait_for(lambda: held(hub, member.key) == own(member) and queued(member) == 0, what="the big push")
    other = make_node("Autre", reachable=False)
    other.join(hub)
    other.start()
    # the other member pulls the first member's log from the hub when it must (here: it is told to)
    status, answer = call(hub, load_node(other.data).key, "GET", f"/fed/v1/log/{member.node_id}", query="after=0&limit=500")
    assert status == 200 and len(answer["items"]) == own(member) and sum(len(e) for e, _ in answer["items"]) > 150_000


def test_national_admits_a_hub_the_same_way(make_node):
    national = make_node("Fédération nationale", role="national").start()
    hub = make_node("Ordi Grand Ouest", role="hub")
    token, line = national.invite("hub")
    assert "--fingerprint " + national.fingerprint in line
    hub.cli("join", "--data", str(hub.data), national.url, "--token", token, "--fingerprint", national.fingerprint)
    hub.start()
    wait_for(lambda: held(national, hub.key) == own(hub), what="the hub's log at national")
    row = national.query("SELECT role, relation FROM peers WHERE key = ?", (hub.key,))[0]
    assert tuple(row) == ("hub", "downstream")
    certificate = national.query("SELECT content FROM log_records WHERE kind = 'membership.certificate/1'")[0]
    assert b"hub" in certificate["content"]
