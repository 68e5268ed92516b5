"""The donor's proof, in process: real SQLite files, records carried by the real inbox (issue 16).

Each defect the issue found at a whole network's year, one test each: the
member that did the work signs what the donor receives; the fate is
explicit in the signed form; work two hops down is the work of the node
that did it; erasures come back; the period is exact.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from test_handoff_domain import carry, gids, keys, nodes, signed, stock, sync_logs  # noqa: F401  (fixtures)

from node.config import Config
from node.config import Node as NodeDir
from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, recycle
from node.domain.erasure import ErasureInput, record_erasure
from node.domain.fate_evidence import statement
from node.domain.stats import period_bounds
from node.domain.workflow import move_items
from node.network import handoffs
from node.reports.donor_bundle import bundle_file
from node.reports.donor_report import build_donor_report, sign_donor_report
from node.store.database import day_ms
from protocol import canonical
from protocol.bundle import describe, verify_bundle
from protocol.custody_kinds import ItemFates2

CERTIFICATE = "ab" * 32


async def handed(giver, taker, gids_: list[str], *, lot=None, items=None):
    offer = await signed(giver, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(
        recipient=taker.raw, lot_id=lot, item_ids=items or [])))  # fmt: skip
    await carry([offer], giver, taker)
    accept = await signed(taker, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
    await carry([accept], taker, giver)
    receipt = await signed(taker, lambda tx: handoffs.record_receipt(
        tx, offer.id, handoffs.ReceiptInput(received=gids_, weight_g=2000 * len(gids_))))  # fmt: skip
    await sync_logs(taker, giver)
    return offer, receipt


async def settle_at_member(member, g: list[str]) -> None:
    """The member erases both items (a certificate each), gives the first to a school, recycles the second."""
    async with member.store.transaction() as tx:
        ids = [await tx.value("SELECT id FROM items WHERE gid = ?", (gid,)) for gid in g]
        for n, item_id in enumerate(ids):
            await record_erasure(tx, ErasureInput(item_id=item_id, disk_serial=f"WD-M{n}", method="PRNG stream",
                                                  level="purge", tool="nwipe", result="success",
                                                  evidence_sha256=CERTIFICATE))  # fmt: skip
        school = await create_beneficiary(tx, BeneficiaryInput(category="school"))
        await move_items(tx, ids[:1], "ready")
        await distribute(tx, ids[:1], DistributionInput(beneficiary_id=school))
        await recycle(tx, OutflowInput(item_ids=ids[1:], recipient="Ecologic", waste_code="16 02 14", treatment="R4"))


async def report_bundle(hub, **choice):
    node = NodeDir(Path("."), Config(name="Ordi Grand Ouest"), hub.key)
    async with hub.store.transaction() as tx:
        report = await build_donor_report(tx, node, **choice)
        record = await sign_donor_report(tx, report)
    async with hub.store.reader() as db:
        return report, verify_bundle(await bundle_file(db, record))


async def test_the_member_signs_an_explicit_fate_with_its_erasures_and_the_donor_receives_it(nodes):
    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 2)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    await handed(hub, member, g, lot=lot)
    await settle_at_member(member, g)
    await sync_logs(member, hub)
    # what the member signed: explicit outcomes, with their evidence
    async with member.store.reader() as db:
        rows = await db.all("SELECT content FROM log_records WHERE author = ? AND kind = 'item.fates/2'", (member.raw,))
    statements = {f.gid: f for row in rows for f in ItemFates2.model_validate(canonical.decode(row[0])).fates}
    assert statements[g[0]].outcome == "distributed" and statements[g[0]].beneficiary_category == "school"
    assert statements[g[1]].outcome == "recycled" and statements[g[1]].weight_g == 2000
    assert statements[g[1]].outflow == "Ecologic (16 02 14)"
    assert [(e.disk_serial, e.level, e.certificate_sha256.hex()) for e in statements[g[0]].erasures] == [
        ("WD-M0", "purge", CERTIFICATE)]
    # what the donor receives: the member's own records, checked against the member's key
    report, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert check.ok, describe(check)
    by_gid = {item.gid: item for item in check.items}
    assert (by_gid[g[0]].outcome, by_gid[g[0]].by, by_gid[g[0]].signed) == ("distributed", member.raw, True)
    assert (by_gid[g[1]].outcome, by_gid[g[1]].by) == ("recycled", member.raw)
    assert by_gid[g[1]].statement.weight_g == 2000 and by_gid[g[1]].statement.outflow == "Ecologic (16 02 14)"
    assert [(who, e.certificate_sha256.hex()) for who, e in by_gid[g[0]].erasures] == [(member.raw, CERTIFICATE)]
    # and the PDF's lines say the same: the fate recycled (not "transferred"), the erasure proven
    lines = {line.gid: line for line in report.lines}
    assert (lines[g[1]].state, lines[g[1]].fate) == ("transferred", "recycled")
    assert lines[g[0]].processed_by == f"member · {member.key.public.fingerprint}"
    assert all(line.erased for line in report.lines) and report.erased_units == 2


async def test_work_two_hops_down_is_signed_by_the_node_that_did_it(nodes):
    hub, member, other = nodes["hub"], nodes["member"], nodes["other"]
    lot, ids = await stock(hub, 2)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    await sync_logs(hub, other)
    await handed(hub, member, g, lot=lot)
    async with member.store.reader() as db:
        at_member = [await db.value("SELECT id FROM items WHERE gid = ?", (gid,)) for gid in g]
    await sync_logs(member, other)
    await handed(member, other, g, items=at_member)
    await settle_at_member(other, g)
    await sync_logs(other, member)  # the member passes the other's records on, unchanged
    await sync_logs(member, hub)
    async with hub.store.reader() as db:
        reporters = {r[0] for r in await db.all("SELECT reporter FROM downstream_fates WHERE fate != 'transferred'")}
    assert reporters == {other.raw}
    _report, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert check.ok, describe(check)
    for item in check.items:
        assert item.custody == [hub.raw, member.raw, other.raw] and item.by == other.raw and item.signed
    assert {item.outcome for item in check.items} == {"distributed", "recycled"}


async def test_the_period_is_the_exact_calendar_period(nodes):
    hub = nodes["hub"]
    await stock(hub, 1)
    node = NodeDir(Path("."), Config(name="Ordi Grand Ouest"), hub.key)
    async with hub.store.reader() as db:
        year = await db.value("SELECT strftime('%Y', created / 1000, 'unixepoch') FROM lots")
        report = await build_donor_report(db, node, donor_id=1, period=period_bounds(year))
    assert (report.period_from, report.period_to) == (f"{year}-01-01", f"{year}-12-31")
    async with hub.store.reader() as db:
        report = await build_donor_report(db, node, donor_id=1, period=period_bounds(f"{year}-Q1"))
    assert (report.period_from, report.period_to) == (f"{year}-01-01", f"{year}-03-31")


async def test_a_reception_discrepancy_is_signed_in_the_report(nodes):
    from node.domain.lots import Reception, receive_lot

    hub = nodes["hub"]
    lot, _ids = await stock(hub, 5)
    async with hub.store.transaction() as tx:
        await tx.run("UPDATE lots SET declared_units = 8, declared_weight_g = 30000 WHERE id = ?", (lot,))
        await receive_lot(tx, lot, Reception(counted_units=5, weighed_g=10_000))
    report, check = await report_bundle(hub, lot="ETAT-2026-01")
    (reception,) = report.receptions
    assert (reception.units_gap, reception.weight_gap_g) == (-3, -20_000)
    (signed_lot,) = check.body.lots
    assert (signed_lot.declared_units, signed_lot.counted_units, signed_lot.declared_weight_g, signed_lot.weighed_g) == (
        8, 5, 30_000, 10_000)
    assert {item.outcome for item in check.items} == {"in_stock"} and all(item.signed for item in check.items)


async def test_a_node_passing_fates_on_cannot_slip_in_a_stranger_s_word(nodes):
    """The member passes on a 'distribution' signed by a key that never held the item: the hub keeps none of it
    (an alert), and the donor's bundle, built from what the hub holds, leaves it out and verifies."""
    from protocol.keys import SigningKey

    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 1)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    await handed(hub, member, g, lot=lot)
    stranger = SigningKey.generate()
    from protocol.records import sign_record

    forged = sign_record(stranger, seq=1, prev=None, time=2**40, kind=ItemFates2.KIND, content=ItemFates2(fates=[
        statement(g[0], "distributed", 2**40, [], {"beneficiary_category": "person"}, 2000)]).to_content())  # fmt: skip
    async with member.store.transaction() as tx:
        await tx.append(ItemFates2(fates=[], evidence=[forged.entry()]), audience=[hub.raw])
    await sync_logs(member, hub)
    async with hub.store.reader() as db:
        assert await db.value("SELECT count(*) FROM downstream_fates WHERE reporter = ?", (stranger.public.raw,)) == 0
        alert = await db.one("SELECT kind, reason FROM alerts WHERE author = ?", (member.raw,))
    assert tuple(alert) == ("refused_effect", "not_custodian")
    # the donor's bundle leaves the member's record out: the item is in stock at the member, as its receipt proves
    _report, check = await report_bundle(hub, lot="ETAT-2026-01")
    (item,) = check.items
    assert check.ok and (item.outcome, item.by, item.signed) == ("in_stock", member.raw, False)


async def test_a_hand_off_entered_later_holds_in_the_donors_bundle(nodes):
    """Loading the past: the hub entered the State's lot today (no date), the member its reception of
    2023-06-01 (a lot.receipt/2) and then a distribution of 2023-09-01. The hub's transfer is stated at the
    day the lot arrived, the time the bundle moves custody at: the chain holds, the member's fate counts."""
    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 2, erased=2)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot)))
    await carry([offer], hub, member)
    await carry([await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))], member, hub)
    receipt = await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(
        received=g, weight_g=4000, happened_on=date(2023, 6, 1))))  # fmt: skip
    assert receipt.header.kind == "lot.receipt/2"
    async with member.store.transaction() as tx:
        first = await tx.value("SELECT id FROM items WHERE gid = ?", (g[0],))
        school = await create_beneficiary(tx, BeneficiaryInput(category="school"))
        await move_items(tx, [first], "ready", at=day_ms(date(2023, 8, 1)))
        await distribute(tx, [first], DistributionInput(beneficiary_id=school, happened_on=date(2023, 9, 1)))
    await sync_logs(member, hub)
    async with hub.store.reader() as db:
        since = {r[0] for r in await db.all("SELECT state_since FROM items WHERE state = 'transferred'")}
    assert since == {day_ms(date(2023, 6, 1))}  # before the hub's own reception event of today: as the receipt says
    report, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert check.ok, describe(check)
    by_gid = {item.gid: item for item in check.items}
    assert (by_gid[g[0]].outcome, by_gid[g[0]].by, by_gid[g[0]].signed) == ("distributed", member.raw, True)
    assert by_gid[g[0]].custody == [hub.raw, member.raw]


async def test_a_distribution_entered_with_a_past_day_is_the_outcome_after_a_report_said_in_stock(nodes):
    """Loading the past after a first report: that report signed the item "in stock" today; the distribution
    entered next happened last month. An end of life outranks a statement of the stock, whatever their times:
    the second report says distributed, not in stock."""
    from datetime import timedelta

    from node.domain.happened import today
    from node.store.database import clock_at

    hub = nodes["hub"]
    with clock_at(day_ms(today() - timedelta(days=60))):
        lot, ids = await stock(hub, 1, erased=1)
    first, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert [(item.outcome, item.signed) for item in check.items] == [("in_stock", True)]
    async with hub.store.transaction() as tx:
        school = await create_beneficiary(tx, BeneficiaryInput(category="school"))
        await move_items(tx, ids, "ready", at=day_ms(today() - timedelta(days=40)))
        await distribute(tx, ids, DistributionInput(beneficiary_id=school, happened_on=today() - timedelta(days=30)))
    report, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert check.ok, describe(check)
    (item,) = check.items
    assert (item.outcome, item.by, item.signed) == ("distributed", hub.raw, True)
    assert item.statement.beneficiary_category == "school"
    assert [line.fate for line in report.lines] == ["distributed"]


async def erase_at(node, g: list[str], prefix: str) -> None:
    async with node.store.transaction() as tx:
        for n, gid in enumerate(g):
            item_id = await tx.value("SELECT id FROM items WHERE gid = ?", (gid,))
            await record_erasure(tx, ErasureInput(item_id=item_id, disk_serial=f"{prefix}{n}", method="PRNG stream",
                                                  level="purge", tool="nwipe", result="success",
                                                  evidence_sha256=CERTIFICATE))  # fmt: skip


async def test_erasures_of_items_still_in_stock_down_the_chain_come_back_signed(nodes):
    """The issue's "Effacements prouvés : 0 sur 170": a member erased what it received and has not given it
    yet. It signs the items in stock with their erasures, as soon as it records them, and the donor's report
    counts them: one hop down (the member), and two (the other association, through the member)."""
    hub, member, other = nodes["hub"], nodes["member"], nodes["other"]
    lot, ids = await stock(hub, 4)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    await sync_logs(hub, other)
    await handed(hub, member, g, lot=lot)
    await sync_logs(member, other)
    async with member.store.reader() as db:
        onward = [await db.value("SELECT id FROM items WHERE gid = ?", (gid,)) for gid in g[2:]]
    await handed(member, other, g[2:], items=onward)
    await erase_at(member, g[:2], "WD-M")  # one transaction: one record for both
    await erase_at(other, g[2:], "WD-O")
    async with member.store.reader() as db:
        stated = await db.all("SELECT content FROM log_records WHERE author = ? AND kind = 'item.fates/2'"
                              " ORDER BY seq DESC LIMIT 1", (member.raw,))  # fmt: skip
    statements = ItemFates2.model_validate(canonical.decode(stated[0][0])).fates
    assert [(s.gid, s.outcome, [e.disk_serial for e in s.erasures]) for s in statements] == [
        (g[0], "in_stock", ["WD-M0"]), (g[1], "in_stock", ["WD-M1"])]
    await sync_logs(other, member)
    await sync_logs(member, hub)
    report, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert check.ok, describe(check)
    by_gid = {item.gid: item for item in check.items}
    for gid, who in ((g[0], member), (g[1], member), (g[2], other), (g[3], other)):
        item = by_gid[gid]
        assert (item.outcome, item.by, item.signed) == ("in_stock", who.raw, True), gid
        assert [(signer, e.certificate_sha256.hex()) for signer, e in item.erasures] == [(who.raw, CERTIFICATE)]
    assert report.erased_units == 4 and all(line.processed_by for line in report.lines)


async def test_an_item_missing_at_a_reception_down_the_chain_is_signed_missing_by_the_node_answerable(nodes):
    hub, member, other = nodes["hub"], nodes["member"], nodes["other"]
    lot, ids = await stock(hub, 2)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    await sync_logs(hub, other)
    await handed(hub, member, g, lot=lot)
    await sync_logs(member, other)
    async with member.store.reader() as db:
        at_member = [await db.value("SELECT id FROM items WHERE gid = ?", (gid,)) for gid in g]
    offer = await signed(member, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(
        recipient=other.raw, item_ids=at_member)))  # fmt: skip
    await carry([offer], member, other)
    await carry([await signed(other, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))], other, member)
    await signed(other, lambda tx: handoffs.record_receipt(tx, offer.id, handoffs.ReceiptInput(
        received=g[:1], missing=g[1:], weight_g=2000)))  # fmt: skip
    await sync_logs(other, member)  # the member signs that the item missing at the other's reception is its own
    await sync_logs(member, hub)
    report, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert check.ok, describe(check)
    missing = next(item for item in check.items if item.gid == g[1])
    assert (missing.outcome, missing.by, missing.signed) == ("missing", member.raw, True)
    assert missing.custody == [hub.raw, member.raw] and missing.missing_at == [other.raw]
    line = next(line for line in report.lines if line.gid == g[1])
    assert line.missing_at == f"other · {other.key.public.fingerprint}"


async def test_a_recycled_item_states_its_share_of_the_weighed_outflow_and_the_report_says_it(nodes):
    """The member weighs its outflow to the recycler (5 kg for two 2 kg laptops): each item's signed weight is
    its share of it, as the member's waste register says, and the hub's donor report says the same."""
    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 2)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    await handed(hub, member, g, lot=lot)
    await erase_at(member, g, "WD-M")
    async with member.store.transaction() as tx:
        at_member = [await tx.value("SELECT id FROM items WHERE gid = ?", (gid,)) for gid in g]
        await recycle(tx, OutflowInput(item_ids=at_member, recipient="Ecologic", waste_code="16 02 14",
                                       treatment="R4", weight_g=5000))  # fmt: skip
    await sync_logs(member, hub)
    report, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert check.ok, describe(check)
    assert [(item.outcome, item.statement.weight_g) for item in check.items] == [("recycled", 2500)] * 2
    assert [(line.fate, line.weight_g) for line in report.lines] == [("recycled", 2500)] * 2
    assert report.totals_by_fate["recycled"].weight_g == 5000


async def test_the_period_takes_a_lot_by_the_day_it_was_received_not_the_day_it_was_entered(nodes):
    """A network loads its past: a lot received on 15/11/2023 is entered today. `--period 2023` reports it
    (as the statistics count it in 2023); the year it was entered does not."""
    from node.domain.donors import DonorInput, create_donor
    from node.domain.items import ItemInput, create_items
    from node.domain.lots import LotInput, create_lot

    hub = nodes["hub"]
    async with hub.store.transaction() as tx:
        donor = await create_donor(tx, DonorInput(name="Préfecture du Morbihan", type="public_body"))
        lot = await create_lot(tx, LotInput(reference="ETAT-2023-11", donor_id=donor, received_on=date(2023, 11, 15)))
        await create_items(tx, lot, [ItemInput(category="laptop", serial="SN-2023")])
        this_year = await tx.value("SELECT strftime('%Y', created / 1000, 'unixepoch') FROM lots")
    node = NodeDir(Path("."), Config(name="Ordi Grand Ouest"), hub.key)
    async with hub.store.reader() as db:
        report = await build_donor_report(db, node, donor_id=donor, period=period_bounds("2023"))
        assert (report.lots, [line.serial for line in report.lines]) == (("ETAT-2023-11",), ["SN-2023"])
        assert (report.period_from, report.period_to) == ("2023-01-01", "2023-12-31")
        report = await build_donor_report(db, node, donor_id=donor, period=period_bounds(this_year))
        assert report.lots == ()


async def test_each_erasure_on_the_pdf_and_the_register_names_who_did_it_and_its_certificate(nodes):
    """The hub wiped a laptop before handing it on; the member wiped it again (with nwipe's certificate) and gave
    it. The PDF said both passes under "par member": it now names who did each, and the certificate's hash."""
    from node.reports.donor_pdf import render_donor_report
    from node.reports.donor_register import register_rows
    from pypdf import PdfReader
    import io

    hub, member = nodes["hub"], nodes["member"]
    lot, ids = await stock(hub, 1)
    g = await gids(hub, ids)
    async with hub.store.transaction() as tx:
        await record_erasure(tx, ErasureInput(item_id=ids[0], disk_serial="WD-H0", method="Fill With Zeros",
                                              level="clear", tool="nwipe", result="success"))  # fmt: skip
    await sync_logs(hub, member)
    await handed(hub, member, g, lot=lot)
    await erase_at(member, g, "WD-M")
    async with member.store.transaction() as tx:
        item_id = await tx.value("SELECT id FROM items WHERE gid = ?", (g[0],))
        school = await create_beneficiary(tx, BeneficiaryInput(category="school"))
        await move_items(tx, [item_id], "ready")
        await distribute(tx, [item_id], DistributionInput(beneficiary_id=school))
    await sync_logs(member, hub)
    report, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert check.ok, describe(check)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_donor_report(report))).pages)
    flat = " ".join(text.split())
    fingerprint = member.key.public.fingerprint
    assert "disque WD-H0 · par Ordi Grand Ouest" in flat
    assert f"disque WD-M0 · par member · {fingerprint} · certificat SHA-256 {CERTIFICATE[:16]}…" in flat
    (heading, row) = register_rows(report)
    proofs = row[heading.index("Preuves d’effacement")]
    assert proofs == ("clear (réécriture) · Remplissage par des zéros (1 passe) · nwipe · {day} · réussi · disque WD-H0"
                      " · par Ordi Grand Ouest | purge · Flux pseudo-aléatoire (PRNG) · nwipe · {day} · réussi · disque"
                      f" WD-M0 · par member · {fingerprint} · certificat SHA-256 {CERTIFICATE}").format(
        day=row[heading.index("Date du devenir")])  # fmt: skip


async def test_a_lot_of_more_than_a_thousand_items_handed_on_keeps_its_chain_in_the_bundle(nodes):
    """The member hands 1 001 items on: its transferred statements are too many to carry the hand-off's records
    in the same record, which go in a record of their own (evidence only). The hub's bundle left that record
    out (it names no item's fate), so the other's distributions read as not a custodian's and were dropped: the
    donor saw "transferred" for every item."""
    hub, member, other = nodes["hub"], nodes["member"], nodes["other"]
    lot, ids = await stock(hub, 1001)
    g = await gids(hub, ids)
    await sync_logs(hub, member)
    await sync_logs(hub, other)
    await handed(hub, member, g, lot=lot)
    await sync_logs(member, other)
    async with member.store.reader() as db:
        at_member = [r[0] for r in await db.all("SELECT id FROM items ORDER BY id")]
    await handed(member, other, g, items=at_member)
    async with other.store.transaction() as tx:
        at_other = [r[0] for r in await tx.all("SELECT id FROM items ORDER BY id")]
        await tx.run_many("INSERT INTO erasures (item_id, method, level, tool, result, time) VALUES (?, 'PRNG stream',"
                          " 'purge', 'nwipe', 'success', ?)", [(i, day_ms(date(2026, 1, 5))) for i in at_other])  # fmt: skip
        school = await create_beneficiary(tx, BeneficiaryInput(category="school"))
        await move_items(tx, at_other, "ready")
        await distribute(tx, at_other, DistributionInput(beneficiary_id=school))
    await sync_logs(other, member)
    await sync_logs(member, hub)
    _report, check = await report_bundle(hub, lot="ETAT-2026-01")
    assert check.ok, describe(check)[-3:]
    assert {(item.outcome, item.by, len(item.custody)) for item in check.items} == {("distributed", other.raw, 3)}
