"""An item keeps the labels it carried along a chain of hand-offs (lot.offer/2), in process.

Three nodes with real SQLite files; records carried by the real inbox
(``test_handoff_domain.carry``). The hub labels ``OGO-…``, the member
``ATB-…``, the other member ``REC-…``.
"""

from __future__ import annotations

import pytest
from test_handoff_domain import carry, gids, keys, nodes, signed, sync_logs  # noqa: F401  (fixtures)

from node.domain.item_tags import former_tags, keep_former_tags, keepable, offered_tags
from node.domain.items import ItemInput, create_items, find_items, item_id_by_tag
from node.domain.lots import LotInput, create_lot
from node.domain.settings import set_setting
from node.errors import NotFound
from node.network import handoff_views, handoffs
from protocol import canonical

__all__: list[str] = []


async def prefix(node, text: str) -> None:
    async with node.store.transaction() as tx:
        await set_setting(tx, "asset_prefix", text)


async def stock(node, count: int, reference: str) -> tuple[int, list[int]]:
    async with node.store.transaction() as tx:
        lot = await create_lot(tx, LotInput(reference=reference, declared_units=count))
        ids = await create_items(tx, lot, [ItemInput(category="laptop", brand="Dell", model="Latitude E7450",
                                                     serial=f"{reference}-SN{n}", weight_g=2000) for n in range(count)])
    return lot, ids


async def content(node, record_id: bytes) -> dict:
    async with node.store.reader() as db:
        return canonical.decode(await db.value("SELECT content FROM log_records WHERE id = ?", (record_id,)))


async def hand(giver, taker, *, lot=None, items=None, keep_tags=False) -> bytes:
    """Offer, accept, receive everything; the giver holds the receipt."""
    offer = await signed(giver, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(
        recipient=taker.raw, lot_id=lot, item_ids=items or [])))  # fmt: skip
    assert [r.status for r in await carry([offer], giver, taker)] == ["accepted"]
    await signed(taker, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    async with taker.store.reader() as db:
        lines = [line.gid for line in await handoffs.handoff_lines(db, offer.id)]
    await signed(taker, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(
        received=lines, weight_g=2000 * len(lines), keep_tags=keep_tags)))  # fmt: skip
    await sync_logs(taker, giver)
    return offer.id


async def tag_of(node, gid: str) -> str:
    async with node.store.reader() as db:
        return await db.value("SELECT asset_tag FROM items WHERE gid = ?", (gid,))


async def test_the_labels_follow_the_item_down_the_chain_and_find_it_at_each_node(nodes):
    hub, member, other = nodes["hub"], nodes["member"], nodes["other"]
    for node, text in ((hub, "OGO"), (member, "ATB"), (other, "REC")):
        await prefix(node, text)
    lot, ids = await stock(hub, 3, "ETAT-2026-01")
    g = await gids(hub, ids)
    async with member.store.transaction() as tx:  # the member already uses one of the hub's labels
        await create_items(tx, None, [ItemInput(category="screen")], asset_tags=["ogo-000002"])
    await sync_logs(hub, member)
    await sync_logs(hub, other)
    offer = await hand(hub, member, lot=lot, keep_tags=True)
    signed_offer = await content(hub, offer)
    assert [line["tags"] for line in signed_offer["items"]] == [["OGO-000001"], ["OGO-000002"], ["OGO-000003"]]
    async with hub.store.reader() as db:
        assert await db.value("SELECT kind FROM log_records WHERE id = ?", (offer,)) == "lot.offer/2"
    # kept where nothing clashes; the clashing one is numbered here, its printed label a former tag
    assert [await tag_of(member, x) for x in g] == ["OGO-000001", "ATB-000001", "OGO-000003"]
    async with member.store.reader() as db:
        second = await db.value("SELECT id FROM items WHERE gid = ?", (g[1],))
        assert [t.tag for t in await former_tags(db, second)] == ["OGO-000002"]
        assert {t.node for t in await former_tags(db, second)} == {hub.raw}
        # the search finds both items that have or had OGO-000002; the scan takes the label in use here
        found = await find_items(db, query="OGO-000002")
        assert {item.asset_tag for item in found.items} == {"ogo-000002", "ATB-000001"}
        assert (await find_items(db, query="000002")).total == 2
        assert await item_id_by_tag(db, "OGO-000002") != second
        assert await item_id_by_tag(db, "ogo-000001") == await db.value("SELECT id FROM items WHERE gid = ?", (g[0],))
    # member → other: each line carries the labels the item had, the member's own last, each once
    async with member.store.reader() as db:
        first = await db.value("SELECT id FROM items WHERE gid = ?", (g[0],))
    await sync_logs(member, other)
    onward = await hand(member, other, items=[first, second])
    assert [line["tags"] for line in (await content(member, onward))["items"]] == [
        ["OGO-000001"], ["OGO-000002", "ATB-000001"]]
    async with other.store.reader() as db:
        again = await db.value("SELECT id FROM items WHERE gid = ?", (g[1],))
        assert await db.value("SELECT asset_tag FROM items WHERE id = ?", (again,)) == "REC-000002"
        assert [t.tag for t in await former_tags(db, again)] == ["OGO-000002", "ATB-000001"]
        assert {t.node for t in await former_tags(db, again)} == {member.raw}  # who listed them
        # the first holder's label and the second's both open the item at the third node
        assert await item_id_by_tag(db, "OGO-000002") == again == await item_id_by_tag(db, "atb-000001")
        assert [i.id for i in (await find_items(db, query="ATB 1")).items] == [again]


async def test_a_printed_label_is_not_kept_where_it_would_name_two_items(nodes):
    hub, member = nodes["hub"], nodes["member"]
    async with member.store.transaction() as tx:
        await set_setting(tx, "asset_prefix", "ATB")
        await create_items(tx, None, [ItemInput(category="screen")] * 2, asset_tags=["OGO-7", None])
        await keep_former_tags(tx, {await tx.value("SELECT id FROM items WHERE asset_tag = 'ATB-000001'"): ["OGO-8"]},
                               node=None, offer=None, since=0)  # fmt: skip
        # in use, carried before, of our own form (our numbering gives it later), twice in one delivery
        allowed = await keepable(tx, ["ogo-7", "OGO-8", "atb-000500", "OGO-9", "OGO-10", "ogo-10", "ATB 5"])
    assert allowed == {"OGO-9", "ATB 5"}


async def test_a_version_1_offer_is_still_received_and_its_items_numbered_here(nodes):
    hub, member = nodes["hub"], nodes["member"]
    from protocol.kinds import LotOffer, OfferedItem  # what an earlier version signed

    await prefix(member, "ATB")
    lot, ids = await stock(hub, 2, "ANCIEN")
    g = await gids(hub, ids)
    await sync_logs(hub, member)

    async def old_offer(tx):
        body = LotOffer(lot_ref="ANCIEN", recipient=member.raw, units=2, weight_g=4000, orientations=[],
                        expires=4_000_000_000_000, items=[OfferedItem(gid=x, category="laptop", weight_g=2000, erasure="pending",
                                                          serial=f"S{n}") for n, x in enumerate(g)])  # fmt: skip
        record = await tx.append(body, audience=[member.raw])
        await handoffs.insert_handoff(tx, record, body, direction="out", peer=member.raw, lot_id=lot)
        await tx.run_many("INSERT INTO handoff_items (offer, gid, item_id) VALUES (?, ?, ?)",
                          [(record.id, x, i) for x, i in zip(g, ids)])  # fmt: skip
        return record

    offer = await signed(hub, old_offer)
    assert offer.header.kind == "lot.offer/1"
    assert [r.status for r in await carry([offer], hub, member)] == ["accepted"]
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    async with member.store.reader() as db:
        lines = await handoff_views.manifest(db, offer.id)
    assert [line.tags for line in lines] == [(), ()] and handoff_views.find_lines(lines, "s1") == [g[1]]
    await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(
        received=g, weight_g=4000, keep_tags=True)))  # fmt: skip
    await sync_logs(member, hub)
    assert [await tag_of(member, x) for x in g] == ["ATB-000001", "ATB-000002"]
    async with member.store.reader() as db:
        assert await db.value("SELECT count(*) FROM item_tags") == 0
    async with hub.store.reader() as db:
        assert [await db.value("SELECT state FROM items WHERE id = ?", (i,)) for i in ids] == ["transferred"] * 2


async def test_the_scan_of_a_label_two_items_carried_elsewhere_names_neither(nodes):
    member = nodes["member"]
    async with member.store.transaction() as tx:
        ids = await create_items(tx, None, [ItemInput(category="screen")] * 2)
        await keep_former_tags(tx, {i: ["X-1"] for i in ids}, node=None, offer=None, since=0)
    async with member.store.reader() as db:
        with pytest.raises(NotFound) as several:
            await item_id_by_tag(db, "x-1")
        assert several.value.code == "several_items"
        assert (await find_items(db, query="X-1")).total == 2


async def test_an_offer_line_carries_the_newest_16_labels_each_once_its_own_last(nodes):
    member = nodes["member"]
    async with member.store.transaction() as tx:
        ids = await create_items(tx, None, [ItemInput(category="screen")] * 3,
                                 asset_tags=["OWN-1", "T-3", "X" * 65])  # the last cannot travel as a tag
        await keep_former_tags(tx, {ids[0]: [f"T-{n}" for n in range(20)], ids[1]: ["T-1", "T-3", "T-5"]},
                               node=None, offer=None, since=0)  # fmt: skip
        tags = await offered_tags(tx, [(i, tag) for i, tag in zip(ids, ["OWN-1", "T-3", "X" * 65])])
    assert tags[ids[0]] == [*(f"T-{n}" for n in range(5, 20)), "OWN-1"] and len(tags[ids[0]]) == 16
    assert tags[ids[1]] == ["T-1", "T-5", "T-3"]  # its own label, kept from the last holder, moves to the end
    assert ids[2] not in tags  # no label to send: the line has no tags
