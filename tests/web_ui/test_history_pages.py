"""Dating past events through the JSON API, and the sheet imports of the lot and item pages.

Real node, real SQLite file, aiohttp's test client. A day in the future or
before the lot's reception is refused with its code and a French message,
and changes nothing.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import aiohttp
from test_api import api, make_lot, make_ready  # noqa: F401  (the fixture and helpers of the API tests)

from node.domain.happened import today as node_today  # the node's day (France), not the machine's

HISTORY = ("Lot;Donateur;Date de réception;Catégorie;Marque;Modèle;N° de série;Effacement;Devenir;Date de sortie;"
           "Bénéficiaire;Couleur\n"
           "H-1;Mairie de Brest;01/06/2023;Portable;Dell;E7470;SN-1;oui;Distribué;15/09/2023;Particulier;gris\n"
           "H-1;Mairie de Brest;01/06/2023;Grille-pain;X;Y;SN-2;;;;;\n"
           "H-1;Mairie de Brest;01/06/2023;Écran;HP;P22;SN-3;;Recyclé;20/10/2023;;\n")


async def test_api_dates_steps_distributions_and_erasures_and_refuses_bad_days(api) -> None:  # noqa: F811
    lot = await api.ok("POST", "/lots", {"reference": "L-2023", "received_on": "2023-06-01"})
    before = {"lot_id": lot["id"], "items": [{"category": "laptop"}], "received_on": "2023-05-01"}
    status, refused = await api.call("POST", "/items", before)
    assert (status, refused["code"]) == (422, "before_reception") and "antérieure à la réception" in refused["message"]
    created = await api.ok("POST", "/items", {"lot_id": lot["id"], "items": [{"category": "laptop", "serial": "S1"}]})
    [laptop] = [item["id"] for item in created["items"]]
    tomorrow = (node_today() + timedelta(days=2)).isoformat()
    counts = await api.counts()
    for body in ({"item_ids": [laptop], "step": {"state": "sorted", "orientation": "refurbish", "happened_on": tomorrow}},
                 {"item_ids": [laptop], "step": {"state": "sorted", "orientation": "refurbish", "happened_on": "2023-05-31"}}):
        status, refused = await api.call("POST", "/events", body)
        assert status == 422 and refused["code"] in ("future_date", "before_reception")
        assert "la date" in refused["message"]
    assert await api.counts() == counts  # nothing changed
    await api.ok("POST", "/events", {"item_ids": [laptop], "step": {"state": "sorted", "orientation": "refurbish",
                                                                     "happened_on": "2023-06-10"}})
    await api.ok("POST", "/events", {"item_ids": [laptop], "step": {"state": "ready", "happened_on": "2023-06-20"}})
    await api.ok("POST", "/erasures", {"item_id": laptop, "method": "PRNG", "level": "clear", "tool": "nwipe",
                                       "result": "success", "happened_on": "2023-06-15"})
    person = await api.ok("POST", "/beneficiaries", {"category": "person"})
    status, refused = await api.call("POST", "/distributions", {"item_ids": [laptop], "distribution": {
        "beneficiary_id": person["id"], "happened_on": "2023-06-19"}})
    assert (status, refused["code"]) == (422, "before_last_step")
    await api.ok("POST", "/distributions", {"item_ids": [laptop], "distribution": {"beneficiary_id": person["id"],
                                                                                   "happened_on": "2023-09-15"}})
    view = await api.ok("GET", f"/items/{laptop}")
    days = [date.fromtimestamp(e["happened"] / 1000).isoformat() for e in view["history"]]
    assert days == ["2023-06-01", "2023-06-10", "2023-06-20", "2023-09-15"]
    assert all(date.fromtimestamp(e["time"] / 1000) >= node_today() - timedelta(days=1) for e in view["history"])
    assert date.fromtimestamp(view["erasures"][0]["time"] / 1000) == date(2023, 6, 15)
    old = (await api.ok("GET", "/stats?period=2023"))["figures"]
    assert old["received.laptop.units"] == 1 and old["distributed.laptop.units"] == 1
    now = (await api.ok("GET", f"/stats?period={node_today().year}"))["figures"]
    assert "received.laptop.units" not in now and "distributed.laptop.units" not in now
    status, refused = await api.call("POST", "/lots", {"reference": "L-F", "received_on": tomorrow})
    assert (status, refused["code"]) == (422, "future_date")


def csrf_of(text: str) -> str:
    return re.search(r'name="_csrf" value="([^"]+)"', text)[1]


async def test_history_import_from_the_items_page(web, admin) -> None:
    node, store, client = web
    _, text = await admin.get("/items")
    assert 'href="/items/import"' in text
    _, text = await admin.get("/items/import")
    form = aiohttp.FormData()
    form.add_field("_csrf", csrf_of(text))
    form.add_field("kind", "history")
    form.add_field("file", HISTORY.encode(), filename="historique.csv", content_type="text/csv")
    response = await client.post("/imports/preview", data=form)
    text = await response.text()
    assert response.status == 200, text
    assert "Grille-pain" in text and "ordinateur portable, ordinateur fixe, écran" in text  # beside the accepted ones
    assert "Couleur" in text and "Garder en note sur chaque matériel" in text and "Ligne 3" in text
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM items") == 0
    sha256 = re.search(r'name="sha256" value="([0-9a-f]{64})"', text)[1]
    headers = re.findall(r'<input type="hidden" name="header" value="([^"]*)">', text)
    data = {"kind": "history", "sha256": sha256, "filename": "historique.csv"}
    pairs = [("_csrf", csrf_of(text)), *data.items(), *(("header", h) for h in headers[: len(headers) // 2])]
    pairs += [(f"col-{n}", value) for n, value in re.findall(r'<input type="hidden" name="col-(\d+)" value="([^"]*)">', text)]
    response = await client.post("/imports/confirm", data=pairs, allow_redirects=False)
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    _, done = await admin.get(location)
    assert "/items?lot_id=" in done and "/reports/stats?period=2023" in done
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM items") == 2
        assert await db.value("SELECT value FROM settings WHERE name = 'import_columns'") is not None


async def test_lot_page_imports_a_sheet_into_the_lot(web, admin) -> None:
    node, store, client = web
    from node.domain.lots import LotInput, create_lot
    from node.validation import parse

    async with store.transaction() as tx:
        lot_id = await create_lot(tx, parse(LotInput, {"reference": "L-7", "received_on": "2024-03-01"}))
    _, text = await admin.get(f"/lots/{lot_id}")
    assert f'href="/lots/{lot_id}/import"' in text
    _, text = await admin.get(f"/lots/{lot_id}/import")
    form = aiohttp.FormData()
    form.add_field("_csrf", csrf_of(text))
    form.add_field("kind", "items")
    form.add_field("lot_id", str(lot_id))
    form.add_field("file", "Catégorie;Marque\nportable;Dell\nfrigo;LG\n".encode(), filename="lot.csv")
    response = await client.post("/imports/preview", data=form)
    text = await response.text()
    assert response.status == 200 and "frigo" in text and "Lignes écartées" in text
    # the row gives no reception day: its item gets the lot's, and the preview says which
    rows = text.split('id="im-rows-table"', 1)[1].split("</table>", 1)[0]
    assert "01/03/2024 <span class=\"muted\">(jour de réception du lot)</span>" in rows
    _, erasures = await admin.get("/erasures")
    assert "tableau de matériels (CSV" not in erasures.split("Un tableau")[0] and "/items/import" in erasures
