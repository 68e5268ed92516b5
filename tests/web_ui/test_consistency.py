"""One way to say each thing across pages: the node's fingerprint, periods in French words, one pagination."""

from __future__ import annotations


async def test_the_dashboard_shows_the_fingerprint_not_the_long_id(web, admin):
    node, _store, _client = web
    response, text = await admin.get("/")
    assert response.status == 200
    assert node.key.public.fingerprint in text and node.key.public.node_id not in text


async def test_the_waste_register_and_the_donor_report_agree_on_a_recycling_weight(web, admin):
    """A pallet weighed 51.5 kg at the door: the register and the donor report both say 51.5 kg."""
    import csv
    import io

    from node.domain.distribution import OutflowInput, recycle
    from node.domain.donors import DonorInput, create_donor
    from node.domain.items import ItemInput, create_items
    from node.domain.lots import LotInput, create_lot
    from node.reports.donor_report import build_donor_report
    from node.validation import parse

    node, store, client = web
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": "Mairie", "type": "public_body"}))
        lot = await create_lot(tx, parse(LotInput, {"reference": "L-1", "donor_id": donor}))
        items = await create_items(tx, lot, [parse(ItemInput, {"category": "desktop", "storage": "none",
                                                               "weight_g": w}) for w in (8000, 9000, 0)])  # fmt: skip
        await recycle(tx, parse(OutflowInput, {"item_ids": items, "recipient": "Ecologic", "waste_code": "16 02 14",
                                               "treatment": "R4", "weight_g": 51_500}))  # fmt: skip
    raw = await (await client.get("/exports/waste-register.csv")).read()
    register = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [row["Quantité (kg)"] for row in register] == ["51,500"]
    async with store.transaction() as tx:
        report = await build_donor_report(tx, node, donor_id=donor, lot=None, period=None)
    recycled = [line.weight_g for line in report.lines if line.fate == "recycled"]
    assert len(recycled) == 3 and sum(recycled) == 51_500
    assert recycled[0] < recycled[1]  # shared in proportion to the items' own weights
