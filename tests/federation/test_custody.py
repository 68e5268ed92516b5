"""Custody between real node processes: never lost, never doubled, whatever the queues and the restores.

Members behind NAT hand lots to each other through their hub, which
relays what they sign into their mailboxes; nodes are restored from
backups. After each scenario every item has exactly one custodian and both
sides of every hand-off agree.
"""

from __future__ import annotations

import time
import urllib.request
from typing import ClassVar

import pytest
from livenodes import LiveNode, run, wait_for

from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.errors import RuleBroken, StoreError
from node.network import handoffs
from protocol.kinds import Body, LotDecline


def stock(node: LiveNode, reference: str, count: int = 2) -> int:
    async def action(tx):
        lot = await create_lot(tx, LotInput(reference=reference, declared_units=count))
        await create_items(tx, lot, [ItemInput(category="laptop", serial=f"{reference}-{n}", weight_g=2000)
                                     for n in range(count)])  # fmt: skip
        return lot

    return run(node, action)


def offer(node: LiveNode, to: bytes, lot: int) -> bytes:
    return run(node, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=to, lot_id=lot))).id


def accept(node: LiveNode, offer_id: bytes) -> None:
    run(node, lambda tx: handoffs.answer_offer(tx, offer_id, accept=True))


def receive_all(node: LiveNode, offer_id: bytes) -> None:
    lines = [r[0] for r in node.query("SELECT gid FROM handoff_items WHERE offer = ? ORDER BY gid", (offer_id,))]
    run(node, lambda tx: handoffs.record_receipt(tx, offer_id, handoffs.ReceiptInput(received=lines, weight_g=4000)))


def state(node: LiveNode, offer_id: bytes) -> str | None:
    return node.value("SELECT state FROM handoffs WHERE offer = ?", (offer_id,))


def custodians(nodes: list[LiveNode], serial: str) -> list[str]:
    """The nodes that hold an item (by serial) in their custody."""
    return [n.name for n in nodes if n.value("SELECT 1 FROM items WHERE serial = ? AND state != 'transferred'", (serial,))]


def relay_network(make_node) -> tuple[LiveNode, LiveNode, LiveNode]:
    hub = make_node("Hub", role="hub").start()
    a = make_node("Atelier A", reachable=False)
    b = make_node("Atelier B", reachable=False)
    a.join(hub)
    b.join(hub)
    a.start()
    b.start()
    # A learns B's certificate and encryption key from the hub's log and B's descriptor
    wait_for(lambda: a.value("SELECT count(*) FROM log_records WHERE author = ? AND kind = 'membership.certificate/1'",
                             (hub.key,)) == 2, what="both certificates at A")  # fmt: skip
    wait_for(lambda: hub.value("SELECT count(*) FROM log_records WHERE author = ?", (b.key,)), what="B's log at the hub")
    return hub, a, b


def test_offers_relayed_one_after_another_all_arrive_and_custody_moves_once(make_node):
    """Each offer is made once the hub's queue has emptied: the mailbox cursor must never point back."""
    hub, a, b = relay_network(make_node)
    nodes = [hub, a, b]
    offers = []
    for n in range(3):
        wait_for(lambda: hub.value("SELECT count(*) FROM outbox") == 0, what="the hub's queue to empty")
        offers.append(offer(a, b.key, stock(a, f"LOT-{n}")))
        wait_for(lambda: state(b, offers[-1]) == "offered", 30, f"offer {n} at B")
    for offer_id in offers:
        wait_for(lambda: hub.value("SELECT count(*) FROM outbox") == 0, what="the hub's queue to empty")
        accept(b, offer_id)
        wait_for(lambda: state(a, offer_id) == "accepted", 30, "the accept at A")
    for offer_id in offers:
        wait_for(lambda: hub.value("SELECT count(*) FROM outbox") == 0, what="the hub's queue to empty")
        receive_all(b, offer_id)
        wait_for(lambda: state(a, offer_id) == "received", 30, "the receipt at A")
    for n in range(3):
        for k in range(2):
            assert custodians(nodes, f"LOT-{n}-{k}") == ["Atelier B"]


def hub_and_member(make_node) -> tuple[LiveNode, LiveNode]:
    hub = make_node("Hub", role="hub").start()
    member = make_node("Membre", reachable=False)
    member.join(hub)
    member.start()
    wait_for(lambda: hub.value("SELECT count(*) FROM log_records WHERE author = ?", (member.key,)), what="the join")
    return hub, member


def restore(node: LiveNode, backup: str) -> None:
    node.stop()
    node.cli("restore", "--data", str(node.data), str(node.data / backup))
    node.start()


def test_a_member_restored_ends_in_the_state_its_log_says(make_node):
    """The backup was made before the member accepted and received two lots (one offered after the backup)."""
    hub, member = hub_and_member(make_node)
    nodes = [hub, member]
    first = offer(hub, member.key, stock(hub, "ETAT-1"))
    wait_for(lambda: state(member, first) == "offered", 30, "the first offer at the member")
    member.cli("backup", "--data", str(member.data), "--out", str(member.data / "old.db"))
    second = offer(hub, member.key, stock(hub, "ETAT-2"))
    wait_for(lambda: state(member, second) == "offered", 30, "the second offer at the member")
    for offer_id in (first, second):
        accept(member, offer_id)
        receive_all(member, offer_id)
        wait_for(lambda: state(hub, offer_id) == "received", 30, "the receipt at the hub")
    wait_for(lambda: member.value("SELECT count(*) FROM outbox") == 0, what="the member's queue to empty")
    restore(member, "old.db")
    for offer_id in (first, second):
        wait_for(lambda: state(member, offer_id) == "received", 30, "the hand-off taken back at the member")
    for lot in ("ETAT-1", "ETAT-2"):
        for k in range(2):
            assert custodians(nodes, f"{lot}-{k}") == ["Membre"]
    assert member.value("SELECT count(*) FROM items") == 4  # each once
    # it signs again, after its log, never over it
    fresh = stock(member, "APRES")
    assert member.value("SELECT count(*) FROM frozen_authors") == 0
    assert hub.value("SELECT count(*) FROM frozen_authors") == 0
    assert fresh


def signs(node: LiveNode) -> bool:
    """Whether the node signs again (it refuses to while its log is not taken back)."""
    try:
        run(node, lambda tx: tx.append(LotDecline(offer=bytes(32), reason="probe")))
        return True
    except StoreError:
        return False


def test_a_hub_restored_with_no_upstream_takes_its_log_back_from_a_member_behind_nat(make_node):
    hub, member = hub_and_member(make_node)
    hub.cli("backup", "--data", str(hub.data), "--out", str(hub.data / "old.db"))
    made = offer(hub, member.key, stock(hub, "ETAT-1"))
    wait_for(lambda: state(member, made) == "offered", 30, "the offer at the member")
    signed = hub.value("SELECT max(seq) FROM log_records WHERE author = ?", (hub.key,))
    restore(hub, "old.db")
    # the member sees its hub lacks its own records, and gives them back; only then does the hub sign
    wait_for(lambda: hub.value("SELECT max(seq) FROM log_records WHERE author = ?", (hub.key,)) == signed, 60,
             "the hub's log given back")  # fmt: skip
    wait_for(lambda: signs(hub), 30, "the hub signing again")
    assert state(hub, made) == "offered"  # its own offer, replayed
    accept(member, made)
    wait_for(lambda: state(hub, made) == "accepted", 30, "the accept at the hub")
    for node in (hub, member):
        assert node.value("SELECT count(*) FROM frozen_authors") == 0


def test_a_hub_no_one_answers_stays_read_only_until_released_and_a_fork_is_then_frozen(make_node):
    hub, member = hub_and_member(make_node)
    hub.cli("backup", "--data", str(hub.data), "--out", str(hub.data / "old.db"))
    stock(hub, "AVANT")
    offer(hub, member.key, hub.value("SELECT id FROM lots WHERE reference = 'AVANT'"))
    wait_for(lambda: member.value("SELECT count(*) FROM handoffs"), 30, "the offer at the member")
    member.stop()  # the only node holding the hub's later records is away
    restore(hub, "old.db")
    assert not signs(hub)
    peers = hub.cli("peers", "--data", str(hub.data))
    assert "READ-ONLY" in peers and "restored from a backup" in peers
    told = hub.cli("resync", "--data", str(hub.data), check=False)
    assert "--accept-fork-risk" in told
    page = urllib.request.urlopen(hub.url + "/login").read().decode()
    assert "restauré depuis une sauvegarde" in page
    released = hub.cli("resync", "--data", str(hub.data), "--accept-fork-risk")
    assert "fork" in released
    wait_for(lambda: signs(hub), 30, "the hub released")
    # it signed over its lost records: the member, back, sees two records with one seq and freezes its hub
    member.start()
    wait_for(lambda: member.value("SELECT count(*) FROM frozen_authors WHERE author = ?", (hub.key,)), 60,
             "the fork frozen at the member")  # fmt: skip
    assert member.value("SELECT count(*) FROM alerts WHERE kind = 'fork'")


class FutureKind(Body):
    """A kind a newer Maillon may sign, which this hub does not know yet."""

    KIND: ClassVar[str] = "future.kind/1"
    anything: str


def test_a_record_the_hub_refuses_for_good_does_not_make_the_member_send_for_ever(make_node):
    hub, member = hub_and_member(make_node)
    wait_for(lambda: member.value("SELECT count(*) FROM outbox") == 0, 90, "the member's queue to empty")
    before = hub.value("SELECT max(seq) FROM log_records WHERE author = ?", (member.key,))
    run(member, lambda tx: tx.append(FutureKind(anything="x")))
    run(member, lambda tx: tx.append(LotDecline(offer=bytes(32), reason="after")))
    # the refused record leaves the queue with one alert, and the one after it is not pushed round and round
    # (signed from this process, the records are queued by the node's next routing round: the alert comes after)
    wait_for(lambda: member.value("SELECT count(*) FROM alerts WHERE kind = 'refused_by_peer'"), 90, "the refusal")
    wait_for(lambda: member.value("SELECT count(*) FROM outbox") == 0, 90, "the member's queue to empty")
    for _ in range(10):
        time.sleep(0.2)
        assert member.value("SELECT count(*) FROM outbox") == 0
    assert hub.value("SELECT max(seq) FROM log_records WHERE author = ?", (member.key,)) == before
    alerts = member.query("SELECT reason, seq FROM alerts WHERE kind = 'refused_by_peer'")
    assert [(r[0], r[1]) for r in alerts] == [("unknown_kind", before + 1)]


def test_a_hub_restored_gets_back_what_a_member_behind_nat_signed_since_its_backup(make_node):
    """B's receipt reached the hub, waiting there for A (away); the hub is restored from an older backup.

    B has nothing new to push: it must see that its hub lacks the end of its
    log and give it back, so that the receipt reaches A and custody moves once.
    """
    hub, a, b = relay_network(make_node)
    nodes = [hub, a, b]
    made = offer(a, b.key, stock(a, "LOT"))
    wait_for(lambda: state(b, made) == "offered", 30, "the offer at B")
    accept(b, made)
    wait_for(lambda: state(a, made) == "accepted", 30, "the accept at A")
    wait_for(lambda: hub.value("SELECT count(*) FROM outbox") == 0, what="the hub's queue to empty")
    hub.cli("backup", "--data", str(hub.data), "--out", str(hub.data / "old.db"))
    a.stop()
    receive_all(b, made)
    signed = b.value("SELECT max(seq) FROM log_records WHERE author = ?", (b.key,))
    wait_for(lambda: hub.value("SELECT max(seq) FROM log_records WHERE author = ?", (b.key,)) == signed, 30,
             "B's receipt at the hub")  # fmt: skip
    wait_for(lambda: b.value("SELECT count(*) FROM outbox") == 0, what="B's queue to empty")
    restore(hub, "old.db")
    a.start()
    wait_for(lambda: state(a, made) == "received", 60, "the receipt at A")
    for k in range(2):
        assert custodians(nodes, f"LOT-{k}") == ["Atelier B"]
    # every member said how much of the hub's log it holds (none holds more): the hub signs again
    wait_for(lambda: signs(hub), 60, "the hub signing again")
    for node in nodes:
        assert node.value("SELECT count(*) FROM frozen_authors") == 0


def test_a_receipt_pushed_to_a_hub_still_taking_its_log_back_waits_for_it_and_blocks_nothing(make_node):
    """The hub signs (a transfer's fates) when a receipt arrives; while it takes its log back it cannot.

    The member's push carries both the hub's lost records (given back) and
    its receipt: the receipt's effect waits until the hub signs again, and
    the records it came with are held all the same.
    """
    hub, member = hub_and_member(make_node)
    nodes = [hub, member]
    first = offer(hub, member.key, stock(hub, "ETAT-1"))
    wait_for(lambda: state(member, first) == "offered", 30, "the first offer at the member")
    accept(member, first)
    wait_for(lambda: state(hub, first) == "accepted", 30, "the accept at the hub")
    hub.cli("backup", "--data", str(hub.data), "--out", str(hub.data / "old.db"))
    second = offer(hub, member.key, stock(hub, "ETAT-2"))  # signed after the backup: only the member keeps it
    wait_for(lambda: state(member, second) == "offered", 30, "the second offer at the member")
    hub.stop()
    hub.cli("restore", "--data", str(hub.data), str(hub.data / "old.db"))
    receive_all(member, first)
    hub.start()
    wait_for(lambda: state(hub, first) == "received", 60, "the receipt applied at the hub")
    wait_for(lambda: signs(hub), 30, "the hub signing again")
    assert state(hub, second) == "offered"
    for k in range(2):
        assert custodians(nodes, f"ETAT-1-{k}") == ["Membre"]
    for node in nodes:
        assert node.value("SELECT count(*) FROM frozen_authors") == 0


def test_a_hub_restored_gets_back_from_a_member_behind_nat_the_answer_others_held_only_as_a_stub(make_node):
    """The hub declined A's offer; a reachable member held that decline as a stub (it could not read it).

    Restored from an older backup, the hub takes its log back from the
    reachable member: the decline comes back unread. A, behind NAT, is
    the only one holding its content: the hub sends it the stub, A gives
    the content back, and the hub ends with the offer declined, as its log
    says, instead of answering it a second time.
    """
    hub, a, _ = relay_network(make_node)
    c = make_node("Atelier C")
    c.join(hub)
    c.start()
    hub.cli("backup", "--data", str(hub.data), "--out", str(hub.data / "old.db"))
    made = offer(a, hub.key, stock(a, "LOT"))
    wait_for(lambda: state(hub, made) == "offered", 30, "the offer at the hub")
    declined = run(hub, lambda tx: handoffs.answer_offer(tx, made, accept=False)).id
    wait_for(lambda: state(a, made) == "declined", 30, "the decline at A")
    wait_for(lambda: c.value("SELECT 1 FROM log_records WHERE id = ?", (declined,)), 30, "the decline at C")
    assert c.value("SELECT content FROM log_records WHERE id = ?", (declined,)) is None  # it could not read it
    restore(hub, "old.db")
    wait_for(lambda: state(hub, made) == "declined", 90, "the hub's own decline, given back by A")
    wait_for(lambda: signs(hub), 60, "the hub signing again")
    with pytest.raises(RuleBroken, match="declined"):  # not answered a second time
        accept(hub, made)
    for node in (hub, a, c):
        assert node.value("SELECT count(*) FROM frozen_authors") == 0
