"""Extreme values: refused beyond realistic bounds at the boundary; every page renders what is stored (issue 18.2)."""

from __future__ import annotations

import re

import pytest
from webtools import Browser

from node.domain.access import create_token
from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, recycle
from node.domain.donors import DonorInput, create_donor
from node.domain.erasure import ErasureInput, record_erasure
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, Reception, create_lot, receive_lot
from node.domain.workflow import StepInput, record_step
from node.validation import MAX_TIME_MS, MIN_TIME_MS, parse

HUGE = 2**63 - 1
TABLES = ("donors", "lots", "items", "erasures", "distributions", "outflows")


async def counts(store) -> dict[str, int]:
    async with store.reader() as db:
        return {table: await db.value(f"SELECT count(*) FROM {table}") for table in TABLES}


@pytest.fixture
async def token(web):
    _, store, _ = web
    async with store.transaction() as tx:
        return await create_token(tx, "script", "admin")


WIPE = {"disk_serial": "WD-1", "method": "PRNG Stream", "level": "clear", "tool": "nwipe", "result": "success"}


@pytest.mark.parametrize(("path", "body"), [
    ("/erasures", WIPE | {"time": HUGE}),
    ("/erasures", WIPE | {"time": MAX_TIME_MS + 1}),
    ("/erasures", WIPE | {"time": MIN_TIME_MS - 1}),
    ("/erasures", WIPE | {"time": -1}),
    ("/lots", {"reference": "L", "received_on": "9999-12-31"}),
    ("/lots", {"reference": "L", "received_on": "0001-01-01"}),
    ("/lots", {"reference": "L", "declared_weight_g": 10**10}),
    ("/lots", {"reference": "L", "declared_units": 10**7}),
    ("/outflows", {"recipient": "R", "waste_code": "16 02 14", "treatment": "R4", "on": "1900-01-01"}),
    ("/outflows", {"recipient": "R", "waste_code": "16 02 14", "treatment": "R4", "weight_g": 10**10}),
])  # fmt: skip
async def test_the_api_refuses_values_beyond_realistic_bounds(web, token, path, body):
    _, store, client = web
    before = await counts(store)
    response = await client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 422 and (await response.json())["code"] == "invalid"
    assert await counts(store) == before


async def test_a_form_refuses_a_date_beyond_the_bounds(web):
    _, store, client = web
    tech = Browser(client)
    await tech.login("tech")
    await tech.get("/lots/new")
    response, text = await tech.post("/lots", {"reference": "L-9999", "received_on": "9999-12-31"})
    assert response.status == 422
    assert await counts(store) == dict.fromkeys(TABLES, 0)


async def test_an_nwipe_log_from_a_clock_in_1900_is_refused_clearly(web):
    from pathlib import Path

    from node.domain.importing import run_import

    node, store, _ = web
    log = (Path(__file__).parents[1] / "node" / "imports" / "fixtures" / "nwipe-shredos-example.log").read_text()
    old = re.sub(r"20\d\d/", "1900/", log)
    assert old != log
    report = await run_import(node, store, "nwipe", old.encode(), "old.log")
    assert not report.ok and any("time" in line for line in report.errors), report.errors
    assert await counts(store) == dict.fromkeys(TABLES, 0)


async def test_every_page_renders_the_extreme_values_stored(web):
    """The largest and smallest values the bounds allow, and a time beyond them held from before: no page fails."""
    node, store, client = web
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": "D" * 200, "type": "company"}))
        lot = await create_lot(tx, parse(LotInput, {"reference": "L" * 100, "donor_id": donor,
                                                    "declared_units": 10**6,
                                                    "declared_weight_g": 10**9}))  # fmt: skip
        await receive_lot(tx, lot, parse(Reception, {"counted_units": 10**6, "weighed_g": 10**9,
                                                     "received_on": "1980-01-01"}))  # fmt: skip
        items = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop", "weight_g": 10**7,
                                                               "ram_mb": 10**7, "storage_gb": 10**6,
                                                               "storage": "none", "serial": f"S{n}"})
                                             for n in range(3)])  # fmt: skip
        for n, moment in enumerate((MAX_TIME_MS, MIN_TIME_MS)):
            await record_erasure(tx, parse(ErasureInput, WIPE | {"disk_serial": f"D{n}", "time": moment,
                                                                "disk_size_bytes": 10**16, "passes": 100}))
        person = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "person"}))
        await record_step(tx, items[:1], parse(StepInput, {"state": "ready"}))
        await distribute(tx, items[:1], parse(DistributionInput, {"beneficiary_id": person, "price_cents": 10**7,
                                                                  "override_reason": "extrême"}), is_admin=True)
        await recycle(tx, parse(OutflowInput, {"item_ids": [items[1]], "recipient": "R", "waste_code": "16 02 14",
                                               "treatment": "R4", "weight_g": 10**9}))
        # the domain refuses a day in the future (node.domain.happened): stored from before, or by hand
        await tx.run("UPDATE outflows SET time = ?", (MAX_TIME_MS,))
        # held from before the bounds (or signed by another node): beyond any calendar
        await tx.run("UPDATE erasures SET time = ? WHERE disk_serial = 'D0'", (HUGE,))
        await tx.run("UPDATE items SET state_since = ? WHERE id = ?", (HUGE, items[2]))
        await tx.run("UPDATE events SET time = ? WHERE item_id = ?", (-(2**62), items[2]))
    admin = Browser(client)
    await admin.login("admin")
    gid = (await (await client.get(f"/api/v1/items/{items[2]}")).text())  # not needed: pages take the gid below
    async with store.reader() as db:
        gid = await db.value("SELECT gid FROM items WHERE id = ?", (items[2],))
    paths = set()
    for route in client.app.router.routes():
        if route.method != "GET":
            continue
        path = route.resource.canonical
        if path.startswith(("/api/", "/fed/", "/static", "/upload", "/language", "/.well-known")):
            continue
        path = path.replace("{id}", str(lot if "/lots/" in path else donor if "/donors/" in path else items[2]))
        path = path.replace("{gid}", gid).replace("{kind}", "items")
        if "{" not in path:
            paths.add(path)
    assert len(paths) > 25
    failed = {}
    for path in sorted(paths):
        response = await client.get(path)
        if response.status >= 500:
            failed[path] = response.status
    assert not failed
    for path in ("/erasures", f"/items/{items[2]}", "/", "/items", "/reports/stats", f"/lots/{lot}"):
        response, _ = await admin.get(path)
        assert response.status == 200, path
