"""The catalogue pages (donors, lots, items, labels' URLs) through aiohttp's test client,
on a real SQLite file per test: every page renders, every action works and shows its
result, refused input is said in French and changes nothing, readers only read."""

from __future__ import annotations

import re

import pytest
from aiohttp import FormData
from webtools import Browser

from node.domain.erasure import ErasureInput, record_erasure
from node.domain.items import ItemInput, create_items, get_item
from node.domain.lots import LotInput, create_lot, get_lot
from node.domain.states import STATES
from node.domain.workflow import StepInput, correct_event, fit_component, harvest_component, record_step
from web_ui import labels
from web_ui.i18n import translator

TABLES = ("donors", "lots", "items", "events", "documents")
XSS = "<script>alert(1)</script>"


async def counts(store) -> dict[str, int]:
    async with store.reader() as db:
        return {table: await db.value(f"SELECT count(*) FROM {table}") for table in TABLES}


async def follow(browser: Browser, response) -> str:
    assert response.status == 303, await response.text()
    _, text = await browser.get(response.headers["Location"])
    return text


def flat(html: str) -> str:
    """The page's text with tags dropped and spaces folded, for checking what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def reader_browser(client) -> Browser:
    browser = Browser(client)
    await browser.login("reader")
    return browser


async def make_lot(store, reference: str = "L-1", **fields) -> int:
    async with store.transaction() as tx:
        return await create_lot(tx, LotInput(reference=reference, **fields))


async def make_items(store, lot_id: int | None, count: int = 1, **fields) -> list[int]:
    async with store.transaction() as tx:
        return await create_items(tx, lot_id, [ItemInput(**{"category": "laptop", **fields})] * count)


# The shared display names ---------------------------------------------------------------


def test_labels_name_every_code_of_the_domain_in_french():
    from node.domain.beneficiaries import BENEFICIARY_CATEGORIES
    from node.domain.documents import DOCUMENT_KINDS
    from node.domain.donors import DONOR_TYPES
    from node.domain.states import SORT_ORIENTATIONS
    from protocol.kinds import CATEGORIES

    assert set(labels.STATE_NAMES) == set(STATES)
    assert set(labels.CATEGORY_NAMES) == set(CATEGORIES)
    assert set(labels.DONOR_TYPES) == set(DONOR_TYPES)
    assert set(labels.BENEFICIARY_CATEGORIES) == set(BENEFICIARY_CATEGORIES)
    assert set(labels.DOCUMENT_KINDS) == set(DOCUMENT_KINDS)
    assert set(labels.SORT_ORIENTATIONS) == set(SORT_ORIENTATIONS)
    assert set(labels.STORAGE) == {"none", "present", "removed", "unknown"}
    assert set(labels.LOT_STATUS) == {"open", "in_progress", "closed"}
    _ = translator("fr")
    french = {_(labels.STATE_NAMES[s]) for s in STATES}
    assert french == {
        "reçu",
        "trié",
        "testé",
        "effacé",
        "reconditionné",
        "prêt",
        "réservé",
        "distribué",
        "recyclé",
        "démantelé",
        "transféré",
    }
    assert _(labels.CATEGORY_NAMES["laptop"]) == "ordinateur portable"
    assert _(labels.CATEGORY_NAMES["multifunction_printer"]) == "imprimante multifonction"
    assert _(labels.CATEGORY_NAMES["network"]) == "matériel réseau"
    assert [_(v) for v in labels.DONOR_TYPES.values()] == ["organisme public", "entreprise", "association"]
    assert _(labels.ORIENTATIONS["local_only"]) == "bénéficiaires locaux uniquement"
    assert _(labels.BENEFICIARY_CATEGORIES["ess"]) == "structure de l'ESS"
    assert _(labels.BENEFICIARY_CATEGORIES["person"]) == "personne en précarité"
    assert labels.name_of(labels.STATE_NAMES, "ready", _) == "prêt"
    assert labels.name_of(labels.STATE_NAMES, "new_state", _) == "new_state"


# Donors ---------------------------------------------------------------------------------


async def test_donor_created_listed_and_edited(web, admin):
    _, store, _client = web
    response, text = await admin.get("/donors")
    assert response.status == 200 and "Aucun donateur" in text
    response, text = await admin.get("/donors/new")
    assert response.status == 200 and 'name="_csrf"' in text and "organisme public" in text
    response, _text = await admin.post(
        "/donors",
        {
            "name": "Mairie de Rennes",
            "type": "public_body",
            "siret": "213 502 388 00013",
            "contact_email": "dsi@rennes.fr",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/donors/1?done=created"
    text = await follow(admin, response)
    assert "Le donateur a été créé." in text and "21350238800013" in text and "organisme public" in text
    await make_lot(store, "R-1", donor_id=1)
    await make_lot(store, "R-2", donor_id=1)
    response, text = await admin.get("/donors")
    assert "Mairie de Rennes" in text and "21350238800013" in text and 'href="/lots?donor_id=1">2<' in text
    response, text = await admin.get("/donors/1")
    assert "R-1" in text and "R-2" in text and "2 lots" in flat(text)

    response, text = await admin.get("/donors/1/edit")
    assert (
        response.status == 200
        and 'value="Mairie de Rennes"' in text
        and 'value="public_body" selected' in text
    )
    response, _text = await admin.post(
        "/donors/1/edit", {"name": "Rennes Métropole", "type": "public_body"}, allow_redirects=False
    )
    text = await follow(admin, response)
    assert "Les informations du donateur ont été enregistrées." in text and "Rennes Métropole" in text


async def test_donor_errors_are_french_and_change_nothing(web, admin):
    _, store, _client = web
    await admin.get("/donors/new")
    before = await counts(store)
    response, text = await admin.post("/donors", {"name": "", "type": "company", "siret": "12AB"})
    assert response.status == 422
    assert "Ce champ est obligatoire." in text and "Un numéro SIRET comporte 14 chiffres." in text
    assert 'value="12AB"' in text  # what was typed is shown again
    response, text = await admin.post("/donors", {"name": "X", "type": "pirate"})
    assert response.status == 422 and "Choisissez l&#39;une des valeurs proposées." in text
    response, text = await admin.post("/donors", {"name": "X", "type": "company", "contact_email": "nope"})
    assert response.status == 422 and "nom@exemple.org" in text
    assert await counts(store) == before
    response, text = await admin.get("/donors/99")
    assert response.status == 404 and "Ce donateur n&#39;existe pas." in text
    response, text = await admin.post("/donors/99/edit", {"name": "X", "type": "company"})
    assert response.status == 404


async def test_donor_name_with_a_script_is_shown_as_text(web, admin):
    await admin.get("/donors/new")
    response, _text = await admin.post("/donors", {"name": XSS, "type": "association"}, allow_redirects=False)
    text = await follow(admin, response)
    assert XSS not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    _response, text = await admin.get("/donors")
    assert XSS not in text


async def test_donors_are_paged(web, admin):
    _, store, _client = web
    from node.domain.donors import DonorInput, create_donor

    async with store.transaction() as tx:
        for n in range(55):
            await create_donor(tx, DonorInput(name=f"Donateur {n:02d}", type="company"))
    _response, text = await admin.get("/donors")
    assert (
        "Donateur 49" in text
        and "Donateur 50" not in text
        and "Page 1 / 2" in text
        and "55 donateurs" in text
    )
    _response, text = await admin.get("/donors?page=2")
    assert "Donateur 50" in text and "Donateur 49" not in text and "Page précédente" in text


# Documents ------------------------------------------------------------------------------


def upload_form(
    csrf: str,
    kind: str | None = "convention",
    content: bytes | None = b"%PDF-1.4 test",
    filename: str = "convention 2025 é.pdf",
) -> FormData:
    form = FormData(quote_fields=False)  # as browsers send it: the file name in UTF-8
    form.add_field("_csrf", csrf)
    if kind is not None:
        form.add_field("kind", kind)
    if content is not None:
        form.add_field("file", content, filename=filename, content_type="application/pdf")
    return form


async def test_documents_attached_to_a_donor_and_a_lot_then_downloaded(web, admin):
    node, store, client = web
    await admin.get("/donors/new")
    await admin.post("/donors", {"name": "Mairie", "type": "public_body"})
    _response, text = await admin.get("/donors/1")
    assert "Aucun document joint." in text and 'enctype="multipart/form-data"' in text
    response = await client.post("/donors/1/documents", data=upload_form(admin.csrf), allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/donors/1?done=attached#documents"
    _response, text = await admin.get("/donors/1?done=attached")
    assert (
        "Le document a été joint." in text
        and "convention 2025 é.pdf" in text
        and "convention de cession" in text
    )

    response = await client.get("/documents/1")
    assert response.status == 200 and await response.read() == b"%PDF-1.4 test"
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment;")
        and "filename*=UTF-8''convention%202025%20%C3%A9.pdf" in disposition
    )

    lot_id = await make_lot(store)
    response = await client.post(
        f"/lots/{lot_id}/documents",
        data=upload_form(admin.csrf, "pickup_note", b"<html>x</html>", "bon.html"),
        allow_redirects=False,
    )
    assert response.status == 303
    _response, text = await admin.get(f"/lots/{lot_id}")
    assert "bon.html" in text and "bon d&#39;enlèvement" in text
    response = await client.get("/documents/2")
    assert response.headers["Content-Type"] == "application/octet-stream"  # never rendered in our origin
    assert response.headers["Content-Disposition"].startswith('attachment; filename="bon.html"')


async def test_bad_uploads_are_refused_in_french(web, admin):
    node, store, client = web
    await admin.get("/donors/new")
    await admin.post("/donors", {"name": "Mairie", "type": "public_body"})
    before = await counts(store)
    response = await client.post("/donors/1/documents", data=upload_form(admin.csrf, content=None))
    assert response.status == 422 and "Choisissez le fichier à joindre." in await response.text()
    response = await client.post("/donors/1/documents", data=upload_form(admin.csrf, content=b""))
    assert response.status == 422 and "Ce fichier est vide." in await response.text()
    response = await client.post("/donors/1/documents", data=upload_form(admin.csrf, kind="erasure_log"))
    assert response.status == 422 and "Choisissez l&#39;une des valeurs proposées." in await response.text()
    response = await client.post("/donors/7/documents", data=upload_form(admin.csrf))
    assert response.status == 404
    assert await counts(store) == before
    response = await client.get("/documents/5")
    assert response.status == 404 and "Ce document n&#39;existe pas." in await response.text()


async def test_a_document_whose_file_is_gone_is_a_french_404(web, admin):
    node, store, client = web
    await admin.get("/donors/new")
    await admin.post("/donors", {"name": "Mairie", "type": "public_body"})
    await client.post("/donors/1/documents", data=upload_form(admin.csrf))
    for path in (node.data_dir / "files").rglob("*"):
        if path.is_file():
            path.unlink()
    response = await client.get("/documents/1")
    assert response.status == 404 and "manque dans le répertoire" in await response.text()


# Lots -----------------------------------------------------------------------------------


async def test_lot_created_received_with_gaps_and_bulk_items(web, admin):
    _, store, _client = web
    await admin.get("/donors/new")
    await admin.post("/donors", {"name": "Entreprise X", "type": "company"})
    response, text = await admin.get("/lots/new?donor_id=1")
    assert response.status == 200 and '<option value="1" selected>' in text
    assert (
        "bénéficiaires locaux uniquement" in text and "priorité sociale" in text and "pas de revente" in text
    )
    response, _text = await admin.post(
        "/lots",
        {
            "reference": "2025-017",
            "donor_id": "1",
            "received_on": "2025-03-12",
            "declared_units": "12",
            "declared_weight_kg": "25,3",
            "orientations": ["no_resale", "local_only"],
            "site": "Entrepôt",
        },
        allow_redirects=False,
    )
    text = await follow(admin, response)
    assert "Le lot a été créé." in text and "Lot 2025-017" in text and "12/03/2025" in text
    assert "pas de revente" in text and "bénéficiaires locaux uniquement" in text
    assert 'href="/labels?lot_id=1"' in text
    async with store.reader() as db:
        lot = await get_lot(db, 1)
    assert lot.declared_weight_g == 25300 and lot.orientations == ("local_only", "no_resale")

    response, _text = await admin.post(
        "/lots/1/reception", {"counted_units": "9", "weighed_kg": "26,5"}, allow_redirects=False
    )
    text = await follow(admin, response)
    assert "Le comptage et la pesée ont été enregistrés." in text
    assert "3 manquants" in text and "+1,2 kg" in text
    async with store.reader() as db:
        lot = await get_lot(db, 1)
    assert (lot.counted_units, lot.weighed_g, lot.received_on) == (9, 26500, "2025-03-12")
    await admin.post(
        "/lots/1/reception", {"counted_units": "13", "weighed_kg": "24,8", "received_on": "13/03/2025"}
    )
    _response, text = await admin.get("/lots/1")
    assert "1 de plus que déclaré" in text and "\u22120,5 kg" in text and "13/03/2025" in text

    response, _text = await admin.post(
        "/lots/1/items",
        {"category": "laptop", "count": "3", "brand": "Dell", "model": "Latitude 5490", "weight_kg": "1,9"},
        allow_redirects=False,
    )
    text = await follow(admin, response)
    assert "3 matériels ont été créés dans ce lot." in text and text.count("Latitude 5490") >= 3
    assert "ordinateur portable" in text and "reçu" in text
    async with store.reader() as db:
        items = await db.all("SELECT lot_id, brand, weight_g, category FROM items")
    assert [tuple(r) for r in items] == [(1, "Dell", 1900, "laptop")] * 3
    await admin.post("/lots/1/items", {"category": "screen", "count": "2"})
    async with store.reader() as db:
        assert await db.value("SELECT weight_g FROM items WHERE category = 'screen' LIMIT 1") == 4500

    _response, text = await admin.get("/lots")
    page = flat(text)
    assert (
        "2025-017" in page
        and "Entreprise X" in page
        and "12 / 13" in page
        and "5" in page
        and "en cours" in page
    )
    _response, text = await admin.get("/lots?reference=2025-017", allow_redirects=False)
    assert _response.status == 303 and _response.headers["Location"] == "/lots/1"
    _response, text = await admin.get("/lots?reference=nope")
    assert "Aucun lot n&#39;a la référence « nope »." in text


async def test_lot_errors_are_french_and_change_nothing(web, admin):
    _, store, _client = web
    await make_lot(store, "DUP")
    await admin.get("/lots/new")
    before = await counts(store)
    response, text = await admin.post("/lots", {"reference": "DUP"})
    assert response.status == 409 and "Un lot porte déjà cette référence" in text and "already exists" in text
    response, text = await admin.post(
        "/lots",
        {"reference": "", "declared_units": "douze", "declared_weight_kg": "-3", "orientations": "resell"},
    )
    assert response.status == 422
    assert "Ce champ est obligatoire." in text and "Écrivez un nombre entier, par exemple 12." in text
    assert "Ce nombre ne peut pas être négatif." in text and 'value="douze"' in text
    response, text = await admin.post("/lots", {"reference": "NEW", "donor_id": "42"})
    assert response.status == 422 and "n&#39;existe pas" in text
    response, text = await admin.post("/lots", {"reference": "NEW", "received_on": "31/02/2025"})
    assert response.status == 422 and "Écrivez une date, par exemple 31/12/2025." in text

    response, text = await admin.post("/lots/1/reception", {"counted_units": "", "weighed_kg": "12,5,3"})
    assert (
        response.status == 422
        and "Ce champ est obligatoire." in text
        and "Écrivez un nombre, par exemple 1,5." in text
    )
    response, text = await admin.post("/lots/1/items", {"category": "laptop", "count": "501"})
    assert response.status == 422 and "Ce nombre est trop grand." in text
    response, text = await admin.post("/lots/1/items", {"category": "toaster", "count": "0"})
    assert response.status == 422 and "Ce nombre est trop petit." in text
    assert "Choisissez l&#39;une des valeurs proposées." in text
    response, text = await admin.post("/lots/9/items", {"category": "laptop", "count": "2"})
    assert response.status == 404 and "Ce lot n&#39;existe pas." in text
    response, text = await admin.post("/lots/9/reception", {"counted_units": "1", "weighed_kg": "1"})
    assert response.status == 404
    assert await counts(store) == before
    async with store.reader() as db:
        assert (await get_lot(db, 1)).counted_units is None
    response, text = await admin.get("/lots/9")
    assert response.status == 404 and "Ce lot n&#39;existe pas." in text


async def test_lot_pages_page_their_lots_and_items(web, admin):
    _, store, _client = web
    for n in range(52):
        await make_lot(store, f"P-{n:02d}")
    await make_items(store, 1, 60, model="Thinkpad")
    _response, text = await admin.get("/lots")
    assert "52 lots" in flat(text) and "P-51" in text and "P-01" not in text and "Page 1 / 2" in text
    _response, text = await admin.get("/lots?page=2")
    assert "P-01" in text and "P-51" not in text
    _response, text = await admin.get("/lots/1")
    row = '<th scope="row"><a href="/items/'
    assert "60 matériels" in flat(text) and text.count(row) == 50 and "Page 1 / 2" in text
    _response, text = await admin.get("/lots/1?page=2")
    assert text.count(row) == 10


# Items ----------------------------------------------------------------------------------


async def test_item_list_searches_filters_and_pages(web, admin):
    _, store, _client = web
    async with store.transaction() as tx:
        from node.domain.donors import DonorInput, create_donor

        donor = await create_donor(tx, DonorInput(name="Mairie", type="public_body"))
        await create_lot(tx, LotInput(reference="A", donor_id=donor))
        await create_lot(tx, LotInput(reference="B"))
    await make_items(store, 1, 55, model="Latitude 5490")
    await make_items(store, 2, 3, category="screen", model="P2419H")
    (tagged,) = await make_items(store, None, 1, category="tablet", serial="SN-XYZ", donor_asset="INV-7")
    async with store.transaction() as tx:
        await record_step(tx, [tagged], StepInput(state="sorted", orientation="refurbish"))

    response, text = await admin.get("/items")
    assert response.status == 200 and "59 matériels trouvés" in text and "Page 1 / 2" in text
    assert text.count('<th scope="row"><a href="/items/') == 50
    _response, text = await admin.get("/items?page=2")
    assert text.count('<th scope="row"><a href="/items/') == 9
    _response, text = await admin.get("/items?q=sn-xyz")
    assert "1 matériel trouvé" in text and "tablette" in text and "trié" in text
    _response, text = await admin.get("/items?q=INV-7")
    assert "1 matériel trouvé" in text
    _response, text = await admin.get("/items?q=MLN-000002")
    assert "1 matériel trouvé" in text
    _response, text = await admin.get("/items?q=P24")
    assert "3 matériels trouvés" in text and "écran" in text
    _response, text = await admin.get("/items?state=sorted")
    assert "1 matériel trouvé" in text and 'value="sorted" selected' in text
    _response, text = await admin.get("/items?category=screen")
    assert "3 matériels trouvés" in text
    _response, text = await admin.get("/items?lot=B")
    assert "3 matériels trouvés" in text and 'value="B"' in text
    _response, text = await admin.get("/items?lot_id=1&category=laptop")
    assert "55 matériels trouvés" in text and 'value="A"' in text
    _response, text = await admin.get("/items?donor_id=1")
    assert "55 matériels trouvés" in text
    _response, text = await admin.get("/items?lot=ZZZ")
    assert "Aucun lot n&#39;a cette référence." in text and "0 matériels trouvés" in text
    _response, text = await admin.get("/items?state=bogus&category=toaster&page=-4")
    assert _response.status == 200 and "59 matériels trouvés" in text
    # every state and category has its French name in the filters
    for code in ("réservé", "démantelé", "imprimante multifonction", "périphérique"):
        assert code in text


async def test_item_created_with_french_units_then_edited(web, admin):
    _, store, _client = web
    await make_lot(store, "LOT-9")
    response, text = await admin.get("/items/new?lot=LOT-9")
    assert response.status == 200 and 'value="LOT-9"' in text and "stockage inconnu" in text
    response, _text = await admin.post(
        "/items",
        {
            "category": "laptop",
            "lot": "LOT-9",
            "brand": "Lenovo",
            "model": "T480",
            "serial": "PF1ABC",
            "donor_asset": "INV-42",
            "cpu": "i5-8350U",
            "ram_gb": "8",
            "storage": "present",
            "storage_type": "ssd",
            "storage_gb": "256",
            "screen_in": "14,1",
            "battery_pct": "83",
            "weight_kg": "1,58",
            "grade": "B",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/items/1?done=created"
    text = await follow(admin, response)
    assert "Le matériel a été enregistré." in text
    async with store.reader() as db:
        item = await get_item(db, 1)
    assert (item.lot_id, item.ram_mb, item.screen_in10, item.weight_g, item.storage_gb, item.grade) == (
        1,
        8192,
        141,
        1580,
        256,
        "B",
    )
    assert (
        "8 Go" in text
        and "14,1 pouces" in text
        and "1,6 kg" in text
        and "SSD" in text
        and "stockage présent" in text
    )

    response, text = await admin.get("/items/1/edit")
    assert (
        'value="8"' in text
        and 'value="14,1"' in text
        and 'value="1,58"' in text
        and 'value="B" selected' in text
    )
    response, _text = await admin.post(
        "/items/1/edit",
        {
            "category": "laptop",
            "brand": "Lenovo",
            "model": "T480s",
            "ram_gb": "0,5",
            "storage": "removed",
            "weight_kg": "",
        },
        allow_redirects=False,
    )
    text = await follow(admin, response)
    assert "La description du matériel a été enregistrée." in text and "T480s" in text
    async with store.reader() as db:
        item = await get_item(db, 1)
    assert (item.ram_mb, item.weight_g, item.storage, item.serial, item.lot_id) == (
        512,
        2200,
        "removed",
        None,
        1,
    )

    response, _text = await admin.post("/items", {"category": "screen"}, allow_redirects=False)
    async with store.reader() as db:
        assert (await get_item(db, 2)).weight_g == 4500  # the category's usual weight


async def test_item_errors_are_french_and_change_nothing(web, admin):
    _, store, _client = web
    await make_items(store, None, 1)
    await admin.get("/items/new")
    before = await counts(store)
    response, text = await admin.post(
        "/items",
        {
            "category": "",
            "ram_gb": "huit",
            "battery_pct": "130",
            "grade": "F",
            "screen_in": "15.6.1",
            "lot": "NOPE",
        },
    )
    assert response.status == 422
    for message in (
        "Ce champ est obligatoire.",
        "Écrivez un nombre, par exemple 1,5.",
        "Ce nombre est trop grand.",
        "Choisissez l&#39;une des valeurs proposées.",
        "Aucun lot n&#39;a cette référence.",
    ):
        assert message in text, message
    assert 'value="huit"' in text and 'aria-invalid="true"' in text
    response, text = await admin.post("/items", {"category": "laptop", "brand": "x" * 201})
    assert response.status == 422 and "Ce texte est trop long (200 caractères au plus)." in text
    response, text = await admin.post("/items/1/edit", {"category": "laptop", "weight_kg": "-2"})
    assert response.status == 422 and "Ce nombre ne peut pas être négatif." in text
    response, text = await admin.post("/items/77/edit", {"category": "laptop"})
    assert response.status == 404 and "Ce matériel n&#39;existe pas." in text
    assert await counts(store) == before
    async with store.reader() as db:
        assert (await get_item(db, 1)).weight_g == 2200


async def test_item_page_shows_history_erasure_and_parts(web, admin):
    _, store, _client = web
    await admin.get("/donors/new")
    await admin.post("/donors", {"name": "Conseil départemental", "type": "public_body"})
    lot_id = await make_lot(store, "CD-1", donor_id=1)
    first, second = await make_items(store, lot_id, 2, serial=None)
    async with store.transaction() as tx:
        await record_step(tx, [first], StepInput(state="sorted", orientation="refurbish", operator="Awa"))
        (tested,) = await record_step(tx, [first], StepInput(state="tested", note=XSS, operator="Awa"))
        await correct_event(tx, tested, "mauvais poste", operator="Ben")
        part = await harvest_component(tx, second, "Barrette RAM 8 Go")
        await fit_component(tx, part, first)
    response, text = await admin.get(f"/items/{first}")
    assert response.status == 200
    page = flat(text)
    assert "MLN-000001" in text and "Ordinateur portable" in text
    assert 'href="/lots/1"' in text and 'href="/donors/1"' in text and "Conseil départemental" in text
    assert "trié" in page and "à reconditionner" in page and "par Awa" in page and "par Ben" in page
    assert (
        "annulé par une correction" in page
        and "corrige une étape précédente" in page
        and "mauvais poste" in page
    )
    assert XSS not in text and "&lt;script&gt;" in text
    assert '<section id="actions"' in text
    assert "ne peut pas sortir" in page and "Aucun effacement enregistré" in page
    assert "Pièces montées dans ce matériel" in page and "Barrette RAM 8 Go" in page and "MLN-000002" in page
    _response, text = await admin.get(f"/items/{second}")
    assert "Pièces prélevées sur ce matériel" in flat(text) and f'href="/items/{first}"' in text

    async with store.transaction() as tx:
        await record_erasure(
            tx,
            ErasureInput(
                item_id=first,
                disk_serial="S3Z",
                disk_model="Samsung 860",
                method="nist_clear",
                level="clear",
                tool="nwipe",
                result="success",
                operator="Awa",
            ),
        )
    _response, text = await admin.get(f"/items/{first}")
    page = flat(text)
    assert "Un effacement réussi est enregistré pour chacun de ses disques : ce matériel peut sortir." in page
    assert "Samsung 860" in page and "réussi" in page and "effacement simple (réécriture)" in page

    (screen,) = await make_items(store, None, 1, category="screen")
    _response, text = await admin.get(f"/items/{screen}")
    assert "Aucune donnée à effacer : ce matériel peut sortir." in flat(text)
    response, text = await admin.get("/items/999")
    assert response.status == 404 and "Ce matériel n&#39;existe pas." in text


async def test_labels_and_scanner_open_the_item(web, admin):
    _, store, _client = web
    (item_id,) = await make_items(store, None, 1)
    async with store.reader() as db:
        item = await get_item(db, item_id)
    response, _text = await admin.get(f"/i/{item.gid}", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == f"/items/{item_id}"
    response, _text = await admin.get(f"/i/{item.gid.upper()}", allow_redirects=False)
    assert response.status == 303
    response, _text = await admin.get("/i/mln-000001", allow_redirects=False)
    assert response.status == 303
    response, text = await admin.get("/i/unknown-gid")
    assert response.status == 404 and "Aucun matériel ne porte l&#39;étiquette « unknown-gid »." in text
    assert 'lang="fr"' in text and 'id="scan-code"' in text

    response, text = await admin.get("/scan")
    assert response.status == 200 and 'id="scan-code"' in text and "autofocus" in text
    for code in ("MLN-000001", " mln-000001 ", item.gid, f"https://atelier.example/i/{item.gid}"):
        response, _text = await admin.get("/scan", params={"code": code}, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == f"/items/{item_id}", code
    response, text = await admin.get("/scan", params={"code": XSS})
    assert response.status == 404 and XSS not in text and "&lt;script&gt;" in text
    response, text = await admin.get("/scan?code=")
    assert response.status == 200


async def test_item_text_with_a_script_is_shown_as_text(web, admin):
    await admin.get("/items/new")
    response, _text = await admin.post(
        "/items", {"category": "laptop", "brand": XSS, "model": XSS}, allow_redirects=False
    )
    text = await follow(admin, response)
    assert XSS not in text
    _response, text = await admin.get("/items")
    assert XSS not in text and "&lt;script&gt;" in text


# Readers and people not logged in ---------------------------------------------------------


async def test_readers_see_everything_but_no_action(web, admin):
    _, store, client = web
    await admin.get("/donors/new")
    await admin.post("/donors", {"name": "Mairie", "type": "public_body"})
    await make_lot(store, "R-1", donor_id=1)
    await make_items(store, 1, 2)
    reader = await reader_browser(client)
    for path in ("/donors", "/donors/1", "/lots", "/lots/1", "/items", "/items/1", "/scan"):
        response, text = await reader.get(path)
        assert response.status == 200, path
        assert text.count('method="post"') == 1, path  # logging out only
        for action in ("/donors/new", "/lots/new", "/items/new", "/edit", "enctype=", "Créer les matériels"):
            assert action not in text, (path, action)
    for path in ("/donors/new", "/lots/new", "/items/new", "/donors/1/edit", "/items/1/edit"):
        response, _text = await reader.get(path)
        assert response.status == 403, path
    before = await counts(store)
    for path, data in (
        ("/donors", {"name": "X", "type": "company"}),
        ("/lots", {"reference": "X"}),
        ("/items", {"category": "laptop"}),
        ("/lots/1/items", {"category": "laptop", "count": "2"}),
        ("/lots/1/reception", {"counted_units": "1", "weighed_kg": "1"}),
        ("/donors/1/edit", {"name": "X", "type": "company"}),
        ("/items/1/edit", {"category": "screen"}),
    ):
        response, text = await reader.post(path, data)
        assert response.status == 403 and "Votre compte est en lecture seule." in text, path
    response = await client.post("/donors/1/documents", data=upload_form(reader.csrf))
    assert response.status == 403
    assert await counts(store) == before


async def test_technicians_may_act(web):
    _, store, client = web
    tech = Browser(client)
    await tech.login("tech")
    await tech.get("/lots/new")
    response, _text = await tech.post("/lots", {"reference": "T-1"}, allow_redirects=False)
    assert response.status == 303
    response, _text = await tech.post(
        "/lots/1/items", {"category": "laptop", "count": "2"}, allow_redirects=False
    )
    assert response.status == 303
    async with store.reader() as db:
        operators = [r["operator"] for r in await db.all("SELECT operator FROM events")]
    assert operators == ["tech", "tech"]


@pytest.mark.parametrize(
    "path", ["/donors", "/lots/1", "/items", "/items/1", "/i/x", "/scan", "/documents/1"]
)
async def test_pages_need_a_login(web, path):
    _, _store, client = web
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")


async def test_a_form_without_its_token_changes_nothing(web, admin):
    _, store, _client = web
    before = await counts(store)
    response, _text = await admin.post("/donors", {"name": "X", "type": "company"}, csrf=False)
    assert response.status == 403
    assert await counts(store) == before


async def test_successful_posts_are_audited(web, admin):
    _, store, _client = web
    await admin.get("/donors/new")
    await admin.post("/donors", {"name": "Mairie", "type": "public_body"})
    async with store.reader() as db:
        actions = [r["action"] for r in await db.all("SELECT action FROM audit")]
    assert "POST /donors" in actions


@pytest.mark.parametrize(
    "path",
    ["/items/99999999999999999999", "/lots/9223372036854775808", "/donors/" + "9" * 5000, "/documents/0"],
)
async def test_ids_too_large_for_the_database_are_a_french_404(web, admin, path):
    response, text = await admin.get(path)
    assert response.status == 404 and "existe pas" in text


async def test_odd_query_values_are_ignored(web, admin):
    _, store, _client = web
    await make_items(store, None, 2)
    for query in ("page=²", "page=" + "9" * 5000, "page=0", "lot_id=١٢", "donor_id=-1", "done=items&count=²"):
        response, text = await admin.get("/items?" + query)
        assert response.status == 200 and "2 matériels trouvés" in text, query
    response, _text = await admin.get("/items/١")
    assert response.status == 404
