"""Lot hand-offs between nodes, in process: real SQLite files, records carried by the real inbox.

Each node is a ``Store`` with its own key and file; ``carry`` takes what one
node signed and hands it to the other exactly as the federation does (the
entry, content sealed to the audience, ``federation.inbox.receive``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from federation.inbox import receive
from federation.wire import Item
from node.config import Config
from node.config import Node as NodeDir
from node.domain.donors import DonorInput, create_donor
from node.domain.happened import day_of
from node.domain.happened import today as node_today
from node.domain.impact import factor_table
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.settings import get_setting
from node.domain.stats import compute_stats, period_bounds
from node.domain.workflow import correct_event, move_items
from node.errors import Invalid, RuleBroken
from node.network import handoffs, peers
from node.reports.donor_report import build_donor_report
from node.store.database import Store, clock_at, day_ms, restore
from protocol import canonical
from protocol.custody_kinds import LotReceipt2
from protocol.keys import SigningKey
from protocol.kinds import LotOffer, LotReceipt, MembershipCertificate, NodeDescriptor, OfferedItem
from protocol.records import Record, open_entry
from protocol.seal import encryption_key, seal


@dataclass
class Node:
    name: str
    key: SigningKey
    store: Store

    @property
    def raw(self) -> bytes:
        return self.key.public.raw


@pytest.fixture
async def nodes(tmp_path):
    made = {}
    for name in ("hub", "member", "other"):
        key = SigningKey.from_seed(hashlib.sha256(name.encode()).digest())
        made[name] = Node(name, key, await Store.open(tmp_path / f"{name}.db", key, create=True))
    hub, member, other = made["hub"], made["member"], made["other"]
    for a, b, relation in ((hub, member, "downstream"), (member, hub, "upstream"), (hub, other, "downstream"),
                           (other, hub, "upstream")):  # fmt: skip
        async with a.store.transaction() as tx:
            await peers.pin_peer(tx, b.raw, name=b.name, role="hub" if b is hub else "member", relation=relation,
                                 encryption_key=encryption_key(b.key))  # fmt: skip
    # the hub certifies both members: each can hand lots to the other (the same network)
    async with hub.store.transaction() as tx:
        for node in (member, other):
            await tx.append(MembershipCertificate(member=node.raw, member_name=node.name, role="member",
                                                  network="Ordi Grand Ouest", valid_from=0, valid_until=2**62))  # fmt: skip
    yield made
    for node in made.values():
        await node.store.close()


async def carry(records: list[Record], sender: Node, receiver: Node) -> list:
    """Deliver ``records`` from ``sender`` to ``receiver`` as the federation would."""
    items = []
    for record in records:
        if record.header.audience:
            readers = {*record.header.audience, record.header.author}
            keys = {k: encryption_key(_KEYS[k]) for k in readers}
            items.append(Item(canonical.encode([record.envelope, None]), seal(record.id, record.content, keys)))
        else:
            items.append(Item(record.entry()))
    async with receiver.store.transaction() as tx:
        return await receive(tx, receiver.key, items, sender=sender.raw)


_KEYS: dict[bytes, SigningKey] = {}


async def sync_logs(source: Node, target: Node) -> None:
    """``target`` holds ``source``'s whole log (as after replication), so later records chain."""
    async with source.store.reader() as db:
        rows = await db.all("SELECT envelope, content FROM log_records WHERE author = ? ORDER BY seq", (source.raw,))
    records = [open_entry(canonical.encode([r["envelope"], r["content"]])) for r in rows]
    await carry(records, source, target)


async def signed(node: Node, action) -> Record:
    async with node.store.transaction() as tx:
        return await action(tx)


async def stock(node: Node, count: int, *, erased: int = 0) -> tuple[int, list[int]]:
    async with node.store.transaction() as tx:
        donor = await create_donor(tx, DonorInput(name="Préfecture du Morbihan", type="public_body"))
        lot = await create_lot(tx, LotInput(reference="ETAT-2026-01", declared_units=count, donor_id=donor))
        ids = await create_items(tx, lot, [ItemInput(category="laptop", serial=f"SN{n}", weight_g=2000)
                                           for n in range(count)])  # fmt: skip
        for item_id in ids[:erased]:
            await tx.run("INSERT INTO erasures (item_id, method, level, tool, result, time) VALUES (?, 'nist', 'purge',"
                         " 'nwipe', 'success', 1)", (item_id,))  # fmt: skip
    return lot, ids


@pytest.fixture(autouse=True)
def keys(nodes):
    _KEYS.update({node.raw: node.key for node in nodes.values()})


async def figures(store: Store, period: str) -> dict:
    async with store.reader() as db:
        factors = factor_table(await get_setting(db, "impact_factors"))
        stats = await compute_stats(db, *period_bounds(period), years=await get_setting(db, "years_of_second_life"),
                                    factors=factors)  # fmt: skip
    return stats.as_figures()


async def gids(node: Node, ids: list[int]) -> list[str]:
    async with node.store.reader() as db:
        return [await db.value("SELECT gid FROM items WHERE id = ?", (i,)) for i in ids]


async def test_a_lot_handed_to_a_member_changes_custody_at_the_receipt(nodes):
    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 10, erased=4)
    await sync_logs(hub, member)
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    assert [r.status for r in await carry([offer], hub, member)] == ["accepted"]
    async with member.store.reader() as db:
        incoming = await handoffs.get_handoff(db, offer.id)
        lines = await handoffs.handoff_lines(db, offer.id)
    assert (incoming.direction, incoming.state, incoming.units) == ("in", "offered", 10)
    assert sum(line.line["erasure"] == "erased" for line in lines) == 4
    accept = await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    await sync_logs(member, hub)
    async with hub.store.reader() as db:
        assert (await handoffs.get_handoff(db, offer.id)).state == "accepted"
    assert accept.header.audience == (hub.raw,)
    # the truck arrives: 8 items, one damaged, 2 missing, 1 extra nobody listed
    all_gids = await gids(hub, ids)
    receipt_input = handoffs.ReceiptInput(received=all_gids[:8], missing=all_gids[8:], damaged=all_gids[:1],
                                          extra=[handoffs.ExtraInput(category="screen", weight_g=4000)], weight_g=21_000)  # fmt: skip
    receipt = await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, receipt_input))
    async with member.store.reader() as db:
        held = await db.all("SELECT gid, origin_node, origin_offer, origin_receipt FROM items ORDER BY id")
        erasures = await db.value("SELECT count(*) FROM erasures WHERE source = 'handoff'")
        lot_row = await db.one("SELECT source, counted_units, weighed_g FROM lots")
        arrived = [r[0] for r in await db.all("SELECT state FROM items ORDER BY id")]
    assert [r["gid"] for r in held[:8]] == all_gids[:8] and len(held) == 9  # global ids kept, the extra is new
    assert all(r["origin_node"] == hub.raw and r["origin_offer"] == offer.id and r["origin_receipt"] == receipt.id
               for r in held[:8])  # fmt: skip
    assert erasures == 4 and tuple(lot_row) == ("handoff", 9, 21_000)
    # the hub's signed statement of their erasure is their proof here: they arrive erased, the others received
    assert arrived == ["erased"] * 4 + ["received"] * 5
    await sync_logs(member, hub)
    async with hub.store.reader() as db:
        states = [await db.value("SELECT state FROM items WHERE id = ?", (i,)) for i in ids]
        outgoing = await handoffs.get_handoff(db, offer.id)
    assert states == ["transferred"] * 8 + ["received"] * 2  # the missing stay in the hub's custody
    assert (outgoing.state, outgoing.receipt, outgoing.units_counted) == ("received", receipt.id, 9)


async def test_fates_flow_back_up_the_chain(nodes):
    hub, member, other = nodes["hub"], nodes["member"], nodes["other"]
    lot, ids = await stock(hub, 3, erased=3)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    await sync_logs(hub, other)
    # hub → member
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(received=g, weight_g=6000)))
    await sync_logs(member, hub)
    # member → other (a peer), one item
    async with member.store.reader() as db:
        item = await db.value("SELECT id FROM items WHERE gid = ?", (g[0],))
    await sync_logs(member, other)
    second = await signed(member, lambda tx: handoffs.create_offer(
        tx, handoffs.OfferInput(recipient=other.raw, item_ids=[item])))  # fmt: skip
    await carry([second], member, other)
    await signed(other, lambda tx: handoffs.answer_offer(tx, second.id, accept=True))
    await signed(other, lambda tx: handoffs.record_receipt(tx, second.id, handoffs.ReceiptInput(received=[g[0]], weight_g=2000)))
    await sync_logs(other, member)  # the receipt: the member's item is transferred; a fate record goes to the hub
    # the other association gives it to a family
    async with other.store.transaction() as tx:
        other_item = await tx.value("SELECT id FROM items WHERE gid = ?", (g[0],))
        await move_items(tx, [other_item], "ready")
        await move_items(tx, [other_item], "distributed", fate={"beneficiary_category": "person"})
    await sync_logs(other, member)  # the fate reaches the member, which forwards it
    await sync_logs(member, hub)
    async with hub.store.reader() as db:
        fates = await db.all("SELECT fate, beneficiary_category, reporter FROM downstream_fates d JOIN items i"
                             " ON i.id = d.item_id WHERE i.gid = ? ORDER BY d.time, d.fate", (g[0],))  # fmt: skip
    assert {(f["fate"], f["beneficiary_category"]) for f in fates} >= {("transferred", None), ("distributed", "person")}
    # each fate is the record of the node that settled it, passed on unchanged: the member signed the
    # transfer, the other association the distribution (not the member that forwarded it)
    assert {(f["fate"], f["reporter"]) for f in fates} == {("transferred", member.raw), ("distributed", other.raw)}
    # the donor report at the origin shows where each item ended, and who signed it
    async with hub.store.reader() as db:
        report = await build_donor_report(db, NodeDir(Path("."), Config(name="Hub"), hub.key), lot="ETAT-2026-01")
    line = next(line for line in report.lines if line.gid == g[0])
    assert (line.state, line.fate, line.beneficiary_category) == ("transferred", "distributed", "person")
    assert line.processed_by == f"other · {other.key.public.fingerprint}"  # two hops down: the node that did it
    assert [e.tool for e in line.erasures] == ["nwipe"]
    # at the member, no news yet: in stock there, as its receipt proves
    assert {(line.fate, line.processed_by) for line in report.lines if line.gid != g[0]} == {
        (None, f"member · {member.key.public.fingerprint}")}


async def test_bad_offers_and_receipts_are_refused_and_change_nothing(nodes):
    hub, member, other = nodes["hub"], nodes["member"], nodes["other"]
    lot, ids = await stock(hub, 4, erased=4)
    async with hub.store.transaction() as tx:
        await move_items(tx, [ids[0]], "ready")
        await move_items(tx, [ids[0]], "distributed")
    with pytest.raises(RuleBroken, match="not in stock") as refused:
        await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, item_ids=ids)))
    assert refused.value.code == "not_in_stock"
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, item_ids=ids[1:])))
    with pytest.raises(RuleBroken) as busy:
        await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=other.raw, item_ids=ids[1:2])))
    assert busy.value.code == "already_offered"
    stranger = SigningKey.generate().public.raw
    with pytest.raises(RuleBroken) as unknown:
        await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=stranger, item_ids=ids[1:2])))
    assert unknown.value.code == "unknown_node"
    await sync_logs(hub, member)
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    g = await gids(hub, ids)
    with pytest.raises(RuleBroken) as counts:  # one line forgotten: neither received nor missing
        await signed(member, lambda tx: handoffs.record_receipt(
            tx, offer.id, handoffs.ReceiptInput(received=g[1:3], weight_g=4000)))  # fmt: skip
    assert counts.value.code == "bad_counts"
    with pytest.raises(ValidationError):
        handoffs.ReceiptInput(received=["not-a-gid"], weight_g=1)
    with pytest.raises(Invalid):  # damaged but not received: the kind's rule, refused before signing
        await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(
            received=g[1:3], missing=g[3:], damaged=g[3:], weight_g=4000)))  # fmt: skip

    async with member.store.reader() as db:
        assert await db.value("SELECT count(*) FROM items") == 0
        assert (await handoffs.get_handoff(db, offer.id)).state == "accepted"
    # a receipt signed by a node that was not offered the lot: held (its log stays whole), refused, alert raised
    async with other.store.transaction() as tx:
        forged = await tx.append(LotReceipt(offer=offer.id, received=g[1:], missing=[], damaged=[], extra=[],
                                                     units_counted=3, weight_g=6000), audience=[hub.raw])  # fmt: skip
    await sync_logs(other, hub)
    async with hub.store.reader() as db:
        assert [await db.value("SELECT state FROM items WHERE id = ?", (i,)) for i in ids[1:]] == ["received"] * 3
        alert = await db.one("SELECT kind, reason FROM alerts WHERE author = ?", (other.raw,))
        assert await db.value("SELECT 1 FROM log_records WHERE id = ?", (forged.id,))
    assert tuple(alert) == ("refused_effect", "not_addressee")


async def test_national_refuses_a_lot_offered_to_it(nodes, tmp_path):
    """National holds no lots: a hub's offer to it (signed by a hub that bypassed its own check) is refused
    at receipt, nothing is held to answer, and national's admin sees an alert naming the rule."""
    hub = nodes["hub"]
    key = SigningKey.from_seed(hashlib.sha256(b"national").digest())
    national = Node("national", key, await Store.open(tmp_path / "national.db", key, create=True))
    _KEYS[national.raw] = key
    try:
        async with national.store.transaction() as tx:
            await tx.append(NodeDescriptor(name="Fédération", role="national", endpoints=[],
                                           encryption_key=encryption_key(key)))  # fmt: skip
            await peers.pin_peer(tx, hub.raw, name="hub", role="hub", relation="downstream",
                                 encryption_key=encryption_key(hub.key))  # fmt: skip
        await sync_logs(hub, national)
        line = OfferedItem(gid="0192e0c0-0000-7000-8000-000000000002", category="laptop", weight_g=2000,
                           erasure="erased")  # fmt: skip
        async with hub.store.transaction() as tx:
            offer = await tx.append(LotOffer(lot_ref="ETAT", recipient=national.raw, items=[line], units=1,
                                             weight_g=2000, orientations=[], expires=4_000_000_000_000),
                                    audience=[national.raw])  # fmt: skip
        outcome = await carry([offer], hub, national)
        assert [r.status for r in outcome] == ["accepted"], outcome  # held: the hub's log stays whole
        async with national.store.reader() as db:
            assert await db.value("SELECT count(*) FROM handoffs") == 0
            assert await db.value("SELECT count(*) FROM handoff_items") == 0
            alert = await db.one("SELECT kind, reason FROM alerts WHERE author = ?", (hub.raw,))
        assert tuple(alert) == ("refused_effect", "national_holds_no_lots")
    finally:
        await national.store.close()


async def test_a_manifest_line_no_item_can_hold_is_refused_at_the_receipt(nodes):
    hub, member = nodes["hub"], nodes["member"]
    await sync_logs(hub, member)
    # valid in the protocol (weights up to 10**12 g), beyond what an item here may weigh (10**7 g)
    lines = [OfferedItem(gid="0192e0c0-0000-7000-8000-000000000001", category="other", weight_g=2 * 10**7,
                         erasure="not_applicable")]  # fmt: skip
    async with hub.store.transaction() as tx:
        offer = await tx.append(LotOffer(lot_ref="PORTIQUE", recipient=member.raw, items=lines, units=1,
                                         weight_g=2 * 10**7, orientations=[], expires=4_000_000_000_000), audience=[member.raw])  # fmt: skip
    assert [r.status for r in await carry([offer], hub, member)] == ["accepted"]
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    async with member.store.reader() as db:
        head = await db.value("SELECT max(seq) FROM log_records WHERE author = ?", (member.raw,))
    with pytest.raises(Invalid, match="manifest line 0192e0c0-0000-7000-8000-000000000001") as refused:
        await signed(member, lambda tx: handoffs.record_receipt(
            tx, offer.id, handoffs.ReceiptInput(received=[lines[0].gid], weight_g=2 * 10**7)))  # fmt: skip
    assert refused.value.code == "invalid"
    async with member.store.reader() as db:  # nothing signed, nothing held
        assert await db.value("SELECT count(*) FROM items") == 0
        assert await db.value("SELECT max(seq) FROM log_records WHERE author = ?", (member.raw,)) == head
        assert (await handoffs.get_handoff(db, offer.id)).state == "accepted"


async def test_a_hand_off_entered_later_keeps_the_day_the_lot_arrived(nodes):
    """A network loading its past: the receipt of a lot that arrived on 2023-06-01, signed today, is a
    ``lot.receipt/2`` with that day; custody moved that day on both sides, and a day in the future is refused."""
    hub, member = nodes["hub"], nodes["member"]
    async with hub.store.transaction() as tx:
        donor = await create_donor(tx, DonorInput(name="Préfecture du Morbihan", type="public_body"))
        lot = await create_lot(tx, LotInput(reference="ETAT-2023", declared_units=3, donor_id=donor,
                                            received_on=date(2023, 5, 2)))  # fmt: skip
        ids = await create_items(tx, lot, [ItemInput(category="laptop", serial=f"SN{n}", weight_g=2000) for n in range(3)])
        await tx.run("INSERT INTO erasures (item_id, method, level, tool, result, time) VALUES (?, 'nist', 'purge',"
                     " 'nwipe', 'success', ?)", (ids[0], day_ms(date(2023, 5, 10))))  # fmt: skip
    await sync_logs(hub, member)
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    g = await gids(hub, ids)
    async with member.store.reader() as db:
        head = await db.value("SELECT max(seq) FROM log_records WHERE author = ?", (member.raw,))
    with pytest.raises(Invalid) as future:
        await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(
            received=g, weight_g=6000, happened_on=node_today() + timedelta(days=1))))  # fmt: skip
    assert future.value.code == "future_date"
    async with member.store.reader() as db:  # nothing signed, nothing held
        assert await db.value("SELECT max(seq) FROM log_records WHERE author = ?", (member.raw,)) == head
        assert await db.value("SELECT count(*) FROM items") == 0

    receipt = await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(
        received=g, weight_g=6000, happened_on=date(2023, 6, 1))))  # fmt: skip
    assert receipt.header.kind == "lot.receipt/2" and receipt.body().received_on == "2023-06-01"
    async with member.store.reader() as db:
        assert await db.value("SELECT received_on FROM lots") == "2023-06-01"
        received = [day_of(r[0]) for r in await db.all("SELECT happened FROM events WHERE state = 'received'")]
        erased = [day_of(r[0]) for r in await db.all("SELECT happened FROM events WHERE state = 'erased'")]
    assert received == [date(2023, 6, 1)] * 3 and erased == [date(2023, 6, 1)]
    assert (await figures(member.store, "2023"))["received.laptop.units"] == 3  # counted in the year it happened
    assert (await figures(member.store, str(node_today().year))).get("received.laptop.units", 0) == 0
    await sync_logs(member, hub)
    async with hub.store.reader() as db:
        moved = await db.all("SELECT state, state_since FROM items ORDER BY id")
    assert [(r[0], day_of(r[1])) for r in moved] == [("transferred", date(2023, 6, 1))] * 3


async def test_a_receipt_dated_after_it_was_signed_moves_nothing(nodes):
    """A ``lot.receipt/2`` whose day comes after its record's time (UTC+14, the latest calendar) is no fact:
    the giver holds it (the log stays whole) but keeps custody, and its admin sees why."""
    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 2, erased=2)
    await sync_logs(hub, member)
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    await sync_logs(member, hub)
    g = await gids(hub, ids)
    async with member.store.transaction() as tx:  # signed by hand: the member's own check refuses such a day
        await tx.append(LotReceipt2(offer=offer.id, received=g, missing=[], damaged=[], extra=[], units_counted=2,
                                    weight_g=4000, received_on="2099-01-01"), audience=[hub.raw])  # fmt: skip
    await sync_logs(member, hub)
    async with hub.store.reader() as db:
        assert [r[0] for r in await db.all("SELECT state FROM items ORDER BY id")] == ["received"] * 2
        alert = await db.one("SELECT kind, reason FROM alerts WHERE author = ?", (member.raw,))
        assert (await handoffs.get_handoff(db, offer.id)).state == "accepted"
    assert tuple(alert) == ("refused_effect", "unrealistic_value")


async def test_a_receipt_signed_at_an_instant_beyond_the_calendar_is_read_without_failing(nodes):
    """A hostile member signs its lot.receipt/2 at the largest time the protocol allows (year 146 million):
    the giver reads the day it states against it without an overflow, and custody moves on that day."""
    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 2, erased=2)
    await sync_logs(hub, member)
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    await sync_logs(member, hub)
    g = await gids(hub, ids)
    with clock_at(2**62):
        async with member.store.transaction() as tx:
            await tx.append(LotReceipt2(offer=offer.id, received=g, missing=[], damaged=[], extra=[], units_counted=2,
                                        weight_g=4000, received_on="2023-06-01"), audience=[hub.raw])  # fmt: skip
    await sync_logs(member, hub)
    async with hub.store.reader() as db:
        moved = [(r[0], day_of(r[1])) for r in await db.all("SELECT state, state_since FROM items ORDER BY id")]
    assert moved == [("transferred", date(2023, 6, 1))] * 2


async def test_a_cancel_wins_over_an_accept_that_crossed_it(nodes):
    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 2)
    await sync_logs(hub, member)
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    await signed(hub, lambda tx: handoffs.cancel_offer(tx, offer.id, "truck_broken"))
    await sync_logs(member, hub)  # the accept arrives after the cancel: ignored
    await sync_logs(hub, member)  # the cancel arrives after the accept: it wins
    for node in (hub, member):
        async with node.store.reader() as db:
            assert (await handoffs.get_handoff(db, offer.id)).state == "cancelled"
    everything = await gids(hub, ids)
    with pytest.raises(RuleBroken) as late:
        await signed(member, lambda tx: handoffs.record_receipt(
            tx, offer.id, handoffs.ReceiptInput(received=everything, weight_g=1)))  # fmt: skip
    assert late.value.code == "not_open"
    # the items are free again: a new offer may include them
    await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))


async def test_a_corrected_fate_is_corrected_at_the_origin_too(nodes):
    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 2, erased=2)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(received=g, weight_g=4000)))
    await sync_logs(member, hub)
    async with member.store.transaction() as tx:
        items = [await tx.value("SELECT id FROM items WHERE gid = ?", (gid,)) for gid in g]
        await move_items(tx, items, "ready")
        events = await move_items(tx, items, "distributed", fate={"beneficiary_category": "school"})
    await sync_logs(member, hub)

    async def live_fates():
        async with hub.store.reader() as db:
            return sorted((r[0], r[1]) for r in await db.all(
                "SELECT i.gid, d.fate FROM downstream_fates d JOIN items i ON i.id = d.item_id WHERE d.superseded = 0"))  # fmt: skip

    assert await live_fates() == sorted((gid, "distributed") for gid in g)
    # the distribution of the first item was a mistake: undone at the member, and so at the hub
    async with member.store.transaction() as tx:
        await correct_event(tx, events[0], "wrong item handed out")
    await sync_logs(member, hub)
    assert await live_fates() == [(g[1], "distributed")]
    async with member.store.transaction() as tx:  # and the second one too: a correction with no fate left
        await correct_event(tx, events[1], "the school returned it")
    await sync_logs(member, hub)
    assert await live_fates() == []


async def test_a_correction_travels_as_far_as_the_fates_it_corrects(nodes):
    hub, member, other = nodes["hub"], nodes["member"], nodes["other"]
    lot, ids = await stock(hub, 1, erased=1)
    (gid,) = await gids(hub, ids)
    await sync_logs(hub, member)
    await sync_logs(hub, other)
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(received=[gid], weight_g=2000)))
    await sync_logs(member, hub)
    async with member.store.reader() as db:
        item = await db.value("SELECT id FROM items WHERE gid = ?", (gid,))
    await sync_logs(member, other)
    second = await signed(member, lambda tx: handoffs.create_offer(
        tx, handoffs.OfferInput(recipient=other.raw, item_ids=[item])))  # fmt: skip
    await carry([second], member, other)
    await signed(other, lambda tx: handoffs.answer_offer(tx, second.id, accept=True))
    await signed(other, lambda tx: handoffs.record_receipt(tx, second.id, handoffs.ReceiptInput(received=[gid], weight_g=2000)))
    await sync_logs(other, member)
    async with other.store.transaction() as tx:
        other_item = await tx.value("SELECT id FROM items WHERE gid = ?", (gid,))
        await move_items(tx, [other_item], "ready")
        (event,) = await move_items(tx, [other_item], "distributed", fate={"beneficiary_category": "person"})
    await sync_logs(other, member)
    await sync_logs(member, hub)

    async def at_the_hub():
        async with hub.store.reader() as db:
            return sorted(r[0] for r in await db.all("SELECT fate FROM downstream_fates WHERE superseded = 0"))

    assert await at_the_hub() == ["distributed", "transferred"]
    # two hops down, the distribution is undone: the member corrects what it forwarded, and the hub follows
    async with other.store.transaction() as tx:
        await correct_event(tx, event, "handed to the wrong family")
    await sync_logs(other, member)
    await sync_logs(member, hub)
    assert await at_the_hub() == ["transferred"]


async def test_a_restored_hub_applies_the_answers_it_held_before_its_own_offer_came_back(nodes, tmp_path):
    """After a restore, records come back in any order: the member's accept and receipt first, then the
    hub's own offer, first as a stub (from a node that cannot read it), then with its content."""
    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 2)
    await sync_logs(hub, member)
    await sync_logs(member, hub)
    await hub.store.backup(tmp_path / "hub-backup.db")
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    accept = await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    all_gids = await gids(hub, ids)
    receipt = await signed(member, lambda tx: handoffs.record_receipt(
        tx, offer.id, handoffs.ReceiptInput(received=all_gids, weight_g=4000)))  # fmt: skip
    await carry([accept, receipt], member, hub)  # the hub signs the items' fates: transferred
    async with hub.store.reader() as db:
        row = await db.one("SELECT envelope, content FROM log_records WHERE author = ? AND kind = 'item.fates/2'"
                           " ORDER BY seq DESC LIMIT 1", (hub.raw,))  # fmt: skip
    fates = open_entry(canonical.encode([row[0], row[1]]))
    restore(tmp_path / "hub-backup.db", tmp_path / "restored.db")
    restored = Node("hub", hub.key, await Store.open(tmp_path / "restored.db", hub.key))
    try:
        assert [r.status for r in await carry([accept, receipt], member, restored)] == ["accepted", "accepted"]
        stub = Item(canonical.encode([offer.envelope, None]))
        async with restored.store.transaction() as tx:
            assert [r.status for r in await receive(tx, restored.key, [stub], sender=member.raw)] == ["accepted"]
        async with restored.store.reader() as db:
            assert await db.value("SELECT count(*) FROM handoffs") == 0  # a stub says nothing to replay
        await carry([offer, fates], member, restored)  # now with their content, sealed to the hub
        async with restored.store.reader() as db:
            handoff = await handoffs.get_handoff(db, offer.id)
            states = {await db.value("SELECT state FROM items WHERE id = ?", (i,)) for i in ids}
        assert (handoff.state, handoff.answer, handoff.receipt) == ("received", accept.id, receipt.id)
        assert states == {"transferred"}  # the items left with the receipt, as before the restore
        async with restored.store.reader() as db:  # and nothing was signed again
            assert await db.value("SELECT max(seq) FROM log_records WHERE author = ?", (hub.raw,)) == fates.header.seq
    finally:
        await restored.store.close()


async def test_a_restored_node_does_not_answer_again_an_offer_it_may_have_answered_unread(nodes):
    """Restored, a node holds its own answer as a stub (taken back from a node that could not read it).

    The hand-off reads "offered" again, but the node signed an answer to its
    giver since the offer: signing another could contradict it. Refused
    until the content comes back; an answer to another node does not block.
    """
    hub, member = nodes["hub"], nodes["member"]
    lot, _ = await stock(hub, 2)
    await sync_logs(hub, member)
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    decline = await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=False))
    async with member.store.transaction() as tx:  # what a restore and a resync from non-readers leave
        await tx.run("UPDATE log_records SET content = NULL WHERE id = ?", (decline.id,))
        await tx.run("UPDATE handoffs SET state = 'offered', answer = NULL WHERE offer = ?", (offer.id,))
    with pytest.raises(RuleBroken) as refused:
        await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    assert refused.value.code == "signed_unread"
    async with member.store.reader() as db:
        assert (await handoffs.get_handoff(db, offer.id)).state == "offered"
    # the stub addressed someone else: nothing to fear for this hand-off
    async with member.store.transaction() as tx:
        await tx.run("UPDATE log_records SET envelope = (SELECT envelope FROM log_records WHERE author = ? AND seq = 1)"
                     " WHERE id = ?", (hub.raw, decline.id))  # fmt: skip
    assert (await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))).header.kind == "lot.accept/1"
