"""Items keep their labels across a hand-off between two real node processes on loopback (issue 19.3).

A hub labels its items ``OGO-…`` and hands two lots to a member that labels
its own ``ATB-…``: the first received without keeping the labels (the items
are numbered by the member, their printed labels find them in its search
and its scan page), the second with the labels kept (``maillon handoff
receive --keep-tags``), one of which the member already uses. Then an offer
signed as an earlier version did (``lot.offer/1``, no labels) still arrives
and is received.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse

from livenodes import LiveNode, run, wait_for

from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.settings import set_setting
from node.domain.users import create_user
from node.network import handoffs
from protocol.kinds import LotOffer, OfferedItem

PASSWORD = "un mot de passe assez long"
COOKIE = "maillon_session"  # web_ui.auth.COOKIE


def stock(node: LiveNode, reference: str, count: int) -> tuple[int, list[int]]:
    async def action(tx):
        lot = await create_lot(tx, LotInput(reference=reference, declared_units=count))
        ids = await create_items(tx, lot, [ItemInput(category="laptop", brand="Lenovo", model="ThinkPad T480",
                                                     serial=f"{reference}-{n}", weight_g=1600) for n in range(count)])
        return lot, ids

    return run(node, action)


def offered(giver: LiveNode, taker: LiveNode, offer: bytes) -> None:
    wait_for(lambda: taker.value("SELECT state FROM handoffs WHERE offer = ?", (offer,)) == "offered", 60, "the offer")
    taker.cli("handoff", "accept", "--data", str(taker.data), offer.hex()[:16])
    wait_for(lambda: giver.value("SELECT state FROM handoffs WHERE offer = ?", (offer,)) == "accepted", 60, "the accept")


def received(giver: LiveNode, offer: bytes) -> None:
    wait_for(lambda: giver.value("SELECT state FROM handoffs WHERE offer = ?", (offer,)) == "received", 60, "the receipt")


def tag_of(node: LiveNode, serial: str) -> str:
    return node.value("SELECT asset_tag FROM items WHERE serial = ?", (serial,))


class Browser:
    """A logged-in account of a node's web interface, following no redirect."""

    def __init__(self, node: LiveNode, username: str) -> None:
        self.parts = urllib.parse.urlsplit(node.url)
        status, page, headers = self.get("/login")
        csrf = re.search(r'name="_csrf" value="([^"]+)"', page)[1]
        cookie = (headers.get("Set-Cookie") or "").split(";")[0]
        status, _page, headers = self.request("POST", "/login", urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "next": "/", "_csrf": csrf}),
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})  # fmt: skip
        assert status == 303, status
        self.cookie = next(c.split(";")[0] for c in headers["cookies"] if c.startswith(f"{COOKIE}="))

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(self.parts.hostname, self.parts.port, timeout=20)
        try:
            connection.request(method, path, body, headers or {})
            answer = connection.getresponse()
            return answer.status, answer.read().decode(), {**dict(answer.getheaders()),
                                                           "cookies": answer.msg.get_all("Set-Cookie") or []}
        finally:
            connection.close()

    def get(self, path: str):
        return self.request("GET", path, headers={"Cookie": self.cookie} if hasattr(self, "cookie") else {})


def test_a_received_item_is_found_by_the_label_printed_at_the_node_that_handed_it_over(make_node):
    hub = make_node("Ordi Grand Ouest", role="hub").start()
    member = make_node("Atelier B")
    member.join(hub)
    member.start()
    wait_for(lambda: hub.value("SELECT count(*) FROM log_records WHERE author = ?", (member.key,)), 60, "the join")
    run(hub, lambda tx: set_setting(tx, "asset_prefix", "OGO"))
    run(member, lambda tx: set_setting(tx, "asset_prefix", "ATB"))
    run(member, lambda tx: create_user(tx, "benevole", PASSWORD, "technician"))
    first_lot, _ids = stock(hub, "ETAT-1", 2)
    second_lot, _ids = stock(hub, "ETAT-2", 2)
    assert [tag_of(hub, s) for s in ("ETAT-1-0", "ETAT-1-1", "ETAT-2-0", "ETAT-2-1")] == [
        "OGO-000001", "OGO-000002", "OGO-000003", "OGO-000004"]
    # the member already labelled one of its own items OGO-000004 (another network's scheme, say)
    run(member, lambda tx: create_items(tx, None, [ItemInput(category="screen")], asset_tags=["OGO-000004"]))

    # 1. received as before: the member numbers the items; the printed labels are former tags
    offer = run(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.key, lot_id=first_lot))).id
    assert hub.value("SELECT kind FROM log_records WHERE id = ?", (offer,)) == "lot.offer/2"
    offered(hub, member, offer)
    member.cli("handoff", "receive", "--data", str(member.data), offer.hex()[:16], "--weight", "3200", "--all")
    received(hub, offer)
    assert [tag_of(member, s) for s in ("ETAT-1-0", "ETAT-1-1")] == ["ATB-000001", "ATB-000002"]
    browser = Browser(member, "benevole")
    status, page, _headers = browser.get("/items?q=OGO-000002")
    assert status == 200, _headers.get("Location")
    assert "ATB-000002" in page and "ATB-000001" not in page
    status, _page, headers = browser.get("/scan?code=ogo-000001")  # typed as read, any case
    item = member.value("SELECT id FROM items WHERE serial = 'ETAT-1-0'")
    assert status == 303 and headers["Location"] == f"/items/{item}"
    status, page, _headers = browser.get(f"/items/{item}")
    assert status == 200 and "OGO-000001" in page and "Ordi Grand Ouest" in page  # in its history, with who listed it

    # 2. received keeping the printed labels: kept, except the one the member already uses
    offer = run(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.key, lot_id=second_lot))).id
    offered(hub, member, offer)
    shown = member.cli("handoff", "show", "--data", str(member.data), offer.hex()[:16])
    assert "printed OGO-000003" in shown and "printed OGO-000004" in shown
    member.cli("handoff", "receive", "--data", str(member.data), offer.hex()[:16], "--weight", "3200", "--all",
               "--keep-tags")  # fmt: skip
    received(hub, offer)
    assert [tag_of(member, s) for s in ("ETAT-2-0", "ETAT-2-1")] == ["OGO-000003", "ATB-000003"]
    status, _page, headers = browser.get("/scan?code=OGO-000003")
    assert headers["Location"] == f"/items/{member.value('SELECT id FROM items WHERE serial = ?', ('ETAT-2-0',))}"
    status, page, _headers = browser.get("/items?q=OGO-000004")  # both: the member's own, and the one it renumbered
    screen = member.value("SELECT id FROM items WHERE asset_tag = 'OGO-000004'")
    assert "ATB-000003" in page and f'href="/items/{screen}"' in page

    # 3. an offer signed as an earlier version did, without labels, is still received
    third_lot, ids = stock(hub, "ANCIEN", 1)
    gid = hub.value("SELECT gid FROM items WHERE id = ?", (ids[0],))

    async def old_offer(tx):
        body = LotOffer(lot_ref="ANCIEN", recipient=member.key, units=1, weight_g=1600, orientations=[],
                        expires=4_000_000_000_000, items=[OfferedItem(gid=gid, category="laptop", weight_g=1600,
                                                          erasure="pending", serial="ANCIEN-0")])  # fmt: skip
        record = await tx.append(body, audience=[member.key])
        await handoffs.insert_handoff(tx, record, body, direction="out", peer=member.key, lot_id=third_lot)
        await tx.run("INSERT INTO handoff_items (offer, gid, item_id) VALUES (?, ?, ?)", (record.id, gid, ids[0]))
        return record.id

    offer = run(hub, old_offer)
    offered(hub, member, offer)
    member.cli("handoff", "receive", "--data", str(member.data), offer.hex()[:16], "--weight", "1600", "--all",
               "--keep-tags")  # fmt: skip
    received(hub, offer)
    assert tag_of(member, "ANCIEN-0") == "ATB-000004"
    assert hub.value("SELECT state FROM items WHERE id = ?", (ids[0],)) == "transferred"
    assert member.value("SELECT count(*) FROM alerts WHERE kind = 'refused_effect'") == 0
