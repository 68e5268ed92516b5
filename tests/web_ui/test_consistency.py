"""One way to say each thing across pages: the node's fingerprint, periods in French words, one pagination."""

from __future__ import annotations


async def test_the_dashboard_shows_the_fingerprint_not_the_long_id(web, admin):
    node, _store, _client = web
    response, text = await admin.get("/")
    assert response.status == 200
    assert node.key.public.fingerprint in text and node.key.public.node_id not in text


async def test_the_waste_register_the_donor_report_and_the_statistics_agree_on_a_recycling_weight(web, admin):
    """A pallet weighed 51.5 kg at the door (its items say 17 kg): the register, the donor report and the
    statistics all say 51.5 kg, item by item in the same shares."""
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
    from node.domain.impact import FACTOR_TABLES
    from node.domain.stats import compute_stats

    async with store.reader() as db:
        stats = await compute_stats(db, 0, 4_102_444_800_000, years=3, factors=FACTOR_TABLES["ademe-2022"])
    figures = stats.as_figures()
    assert figures["recycled.desktop.units"] == 3
    assert figures["recycled.desktop.weight_g"] == figures["recycled.weight_g"] == sum(recycled) == 51_500
    from node.domain.impact import FACTOR_TABLES
    from node.domain.stats import compute_stats

    async with store.reader() as db:
        stats = await compute_stats(db, 0, 4_102_444_800_000, years=3, factors=FACTOR_TABLES["ademe-2022"])
    figures = stats.as_figures()
    assert figures["recycled.desktop.units"] == 3
    assert figures["recycled.desktop.weight_g"] == figures["recycled.weight_g"] == sum(recycled) == 51_500


async def test_every_paged_list_has_the_same_pager_and_odd_pages_answer_cleanly(web, admin):
    """One pager (web_ui/paging.py, _pager.html): the same links and "Page N / M" on every paged list."""
    import re

    from node.domain import users
    from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
    from node.domain.donors import DonorInput, create_donor
    from node.domain.items import ItemInput, create_items
    from node.domain.lots import LotInput, create_lot
    from node.validation import parse

    _node, store, _client = web
    async with store.transaction() as tx:
        donors = [await create_donor(tx, DonorInput(name=f"Donateur {n:02d}", type="company")) for n in range(51)]
        lots = [await create_lot(tx, parse(LotInput, {"reference": f"P-{n:02d}", "donor_id": donors[0]}))
                for n in range(51)]  # fmt: skip
        await create_items(tx, lots[0], [parse(ItemInput, {"category": "desktop", "storage": "none"})] * 51)
        for _ in range(51):
            await create_beneficiary(tx, BeneficiaryInput(category="person"))
        actor = await users.get_user(tx, 1)
        for n in range(51):
            await users.audit(tx, actor, "login", detail=f"entry {n}")
    paged = ["/donors", f"/donors/{donors[0]}", "/lots", f"/lots/{lots[0]}", "/items", "/workshop",
             "/beneficiaries", "/settings/audit"]  # fmt: skip
    for path in paged:
        response, text = await admin.get(path)
        assert response.status == 200, path
        assert re.search(r'<nav class="pager"[^>]*>\s*<span>Page 1 / 2</span>\s*<a href="\?[^"]*page=2[^"]*" rel="next">'
                         r"Page suivante →</a>", text), path  # fmt: skip
        response, text = await admin.get(path + "?page=2")
        assert response.status == 200 and "Page 2 / 2" in text and 'rel="prev">← Page précédente' in text, path
        assert 'rel="next"' not in text, path
    for path in [*paged, "/recycle", "/erasures", "/reports"]:
        for odd in ("99", "abc", "-1", "0", "²", "9" * 40):
            response, text = await admin.get(f"{path}?page={odd}")
            assert response.status == 200, (path, odd)
    response, text = await admin.get("/items?page=99")  # past the end: an empty page and a way back to the last
    assert "Page 99 / 2" in text and re.search(r'href="\?[^"]*page=2[^"]*" rel="prev"', text)
