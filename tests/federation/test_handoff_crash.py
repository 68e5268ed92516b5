"""Hand-offs survive crashes: nodes killed (SIGKILL) at random points while lots change hands.

Two real nodes on loopback, a hub and a member behind NAT. The test plays
both admins (it signs offers, accepts and receipts in each node's database,
as the CLI and the web pages do) while a chaos thread kills one node or the
other at random moments and starts it again. After everything has caught
up, every item must be in exactly one custody, none lost, none duplicated,
and both sides must agree on every hand-off.

By default 20 hand-offs; ``pytest --full`` runs 100.
"""

from __future__ import annotations

import random
import threading
import time

from livenodes import LiveNode, run, wait_for

from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.network import handoffs

ITEMS_PER_LOT = 3
PACE = 0.1  # seconds between two admin actions


def states(node: LiveNode, direction: str) -> dict[bytes, str]:
    return {r[0]: r[1] for r in node.query("SELECT offer, state FROM handoffs WHERE direction = ?", (direction,))}


class Chaos(threading.Thread):
    """Kills a node at random (SIGKILL), starts it again, until told to stop."""

    def __init__(self, nodes: list[LiveNode], seed: int) -> None:
        super().__init__(daemon=True)
        self.nodes = nodes
        self.random = random.Random(seed)
        self.done = threading.Event()
        self.kills = 0

    def run(self) -> None:
        while not self.done.wait(self.random.uniform(0.3, 1.5)):
            victim = self.random.choice(self.nodes)
            victim.kill()
            self.kills += 1
            time.sleep(self.random.uniform(0, 0.3))
            victim.start()


def test_every_item_ends_in_exactly_one_custody(make_node, request):
    count = 100 if request.config.getoption("--full") else 20
    hub = make_node("Hub", role="hub").start()
    member = make_node("Membre", reachable=False)
    member.join(hub)
    member.start()
    member_key = member.key

    async def stock(tx):
        lots = []
        for n in range(count):
            lot = await create_lot(tx, LotInput(reference=f"LOT-{n:03d}", declared_units=ITEMS_PER_LOT))
            await create_items(tx, lot, [ItemInput(category="screen", serial=f"S{n}-{k}", weight_g=4000)
                                         for k in range(ITEMS_PER_LOT)])  # fmt: skip
            lots.append(lot)
        return lots

    lots = run(hub, stock)
    all_gids = {r[0] for r in hub.query("SELECT gid FROM items")}
    wait_for(lambda: hub.value("SELECT 1 FROM log_records WHERE author = ? AND kind = 'membership.certificate/1'",
                               (hub.key,)) and member.value("SELECT 1 FROM peers"), what="the join")  # fmt: skip

    chaos = Chaos([hub, member], seed=count)
    chaos.start()
    try:
        for lot in lots:  # one at a time, as admins do, so that kills fall between and during steps
            run(hub, lambda tx, lot=lot: handoffs.create_offer(
                tx, handoffs.OfferInput(recipient=member_key, lot_id=lot)))  # fmt: skip
            time.sleep(PACE)
        offers = list(states(hub, "out"))
        wait_for(lambda: len(states(member, "in")) == count, 120, "the offers at the member")
        for offer in offers:
            run(member, lambda tx, offer=offer: handoffs.answer_offer(tx, offer, accept=True))
            time.sleep(PACE)
        wait_for(lambda: set(states(hub, "out").values()) == {"accepted"}, 120, "the accepts at the hub")
        for n, offer in enumerate(offers):
            lines = [r[0] for r in member.query("SELECT gid FROM handoff_items WHERE offer = ? ORDER BY gid", (offer,))]
            received, missing = (lines[:-1], lines[-1:]) if n % 5 == 0 else (lines, [])  # some items never arrive
            run(member, lambda tx, offer=offer, received=received, missing=missing: handoffs.record_receipt(
                tx, offer, handoffs.ReceiptInput(received=received, missing=missing, weight_g=4000 * len(received))))  # fmt: skip
            time.sleep(PACE)
        wait_for(lambda: set(states(hub, "out").values()) == {"received"}, 180, "the receipts at the hub")
    finally:
        chaos.done.set()
        chaos.join()
    for node in (hub, member):
        if node.process is None:
            node.start()
    assert chaos.kills >= 3, "the chaos thread should have killed nodes several times"

    # every item in exactly one custody, and both sides agree
    at_hub = {r[0]: r[1] for r in hub.query("SELECT gid, state FROM items")}
    at_member = {r[0] for r in member.query("SELECT gid FROM items WHERE state != 'transferred'")}
    kept_by_hub = {g for g, state in at_hub.items() if state != "transferred"}
    assert set(at_hub) == all_gids  # nothing lost at the hub, nothing made up
    assert kept_by_hub | at_member == all_gids
    assert not kept_by_hub & at_member
    assert member.value("SELECT count(*) FROM items") == len(at_member)  # no duplicate at the member
    assert states(member, "in") == states(hub, "out")
    hub_lines = set(hub.query("SELECT offer, gid, outcome FROM handoff_items"))
    member_lines = set(member.query("SELECT offer, gid, outcome FROM handoff_items"))
    assert {tuple(r) for r in hub_lines} == {tuple(r) for r in member_lines}
    assert len(kept_by_hub) == (count + 4) // 5  # the missing ones stayed with the hub
    assert hub.value("SELECT count(*) FROM frozen_authors") == 0 and member.value("SELECT count(*) FROM frozen_authors") == 0
