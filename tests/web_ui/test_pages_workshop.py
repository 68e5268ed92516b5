"""The workshop pages on a real SQLite file: steps on one item and in bulk, erasures and
imports, distribution with the prix solidaire rules, recycling, beneficiaries.

The browsers share the test client's cookie jar: logging in as someone else
switches the person (``as_user``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from types import SimpleNamespace

import aiohttp_jinja2
import pytest
from webtools import Browser

from node.domain.donors import DonorInput, create_donor
from node.domain.happened import today as node_today  # the node's day (France), not the machine's
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.states import STATES, STEP_STATES, can_move
from node.store.database import now_ms
from node.validation import parse
from web_ui.i18n import Formats, translator

FIXTURES = Path(__file__).parents[1] / "node" / "imports" / "fixtures"
MOVE = re.compile(r'name="move" value="([a-z:]+)"')


async def as_user(client, name: str) -> Browser:
    browser = Browser(client)
    await browser.login(name)
    return browser


async def count(store, sql: str, params=()) -> int:
    async with store.reader() as db:
        return await db.value(sql, params)


async def state_of(store, item_id: int) -> str:
    async with store.reader() as db:
        return await db.value("SELECT state FROM items WHERE id = ?", (item_id,))


@pytest.fixture
async def stock(web):
    """A company's lot: three laptops (may hold data), one screen; and a loose laptop with the nwipe log's serial."""
    _, store, _ = web
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": "Entreprise Exemple", "type": "company"}))
        lot = await create_lot(tx, parse(LotInput, {"reference": "LOT-2025-01", "donor_id": donor}))
        laptops = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop"})] * 3)
        [screen] = await create_items(tx, lot, [parse(ItemInput, {"category": "screen"})])
        [dell] = await create_items(tx, None, [parse(ItemInput, {"category": "laptop", "serial": "3FBJ6P2"})])
    return SimpleNamespace(lot=lot, laptops=laptops, screen=screen, dell=dell, all=[*laptops, screen])


def tag(item_id: int) -> str:
    return f"MLN-{item_id:06d}"


async def test_every_page_renders(web, stock, admin):
    for path in ("/workshop", "/workshop?state=received&category=laptop&lot=1", "/workshop?orientation=recycle",
                 f"/items/{stock.screen}/actions", "/distribute", f"/distribute?item_id={stock.screen}",
                 "/recycle", "/recycle?orientation=", "/erasures", "/beneficiaries", "/beneficiaries/new"):
        response, text = await admin.get(path)
        assert response.status == 200, path
        assert "<h1>" in text and 'lang="fr"' in text, path
    response, _ = await admin.get("/beneficiaries/999")
    assert response.status == 404


async def test_a_volunteers_flow(web, stock):
    node, store, client = web
    tech = await as_user(client, "tech")
    l1, l2, l3 = stock.laptops

    # Bulk: sort everything "to refurbish", then ready.
    response, text = await tech.get(f"/workshop?lot={stock.lot}")
    assert response.status == 200 and tag(l1) in text and 'data-select-all="item_id"' in text
    response, text = await tech.post(f"/workshop/step?lot={stock.lot}",
                                     {"item_id": [str(i) for i in stock.all], "move": "sorted:refurbish"})
    assert response.status == 200 and "Étape enregistrée pour 4 matériel(s)" in text
    assert str(response.url).endswith("to=sorted") and "lot=1" in str(response.url)
    # "reserved" is refused from "sorted": all or nothing, the items named in French.
    response, text = await tech.post("/workshop/step", {"item_id": [str(l1), str(l2)], "move": "reserved"})
    assert response.status == 409
    assert "ne peuvent pas devenir « réservé »" in text and f"{tag(l1)} (trié)" in text and tag(l2) in text
    assert await state_of(store, l1) == "sorted"
    response, text = await tech.post("/workshop/step", {"item_id": [str(i) for i in stock.all], "move": "ready"})
    assert response.status == 200 and "prêt" in text
    assert {await state_of(store, i) for i in stock.all} == {"ready"}
    assert await count(store, "SELECT count(*) FROM audit WHERE action = 'POST /workshop/step'") == 2  # not the refusal

    # The laptops may hold data: their handover is refused until erased.
    response, text = await tech.post("/beneficiaries", {"category": "person", "referrer": "CCAS de Rennes"})
    assert response.status == 200 and "B-000001" in text
    b1 = 1
    response, text = await tech.post("/distribute", {"item_id": str(l1), "beneficiary_id": str(b1), "price": "50"})
    assert response.status == 409 and "effacement" in text and f"Matériels sans effacement des données : {tag(l1)}" in text
    assert await count(store, "SELECT count(*) FROM distributions") == 0

    # Manual erasure of each laptop.
    for item_id in stock.laptops:
        response, text = await tech.post("/erasures", {
            "asset_tag": tag(item_id), "disk_serial": f"DISK-{item_id}", "disk_model": "Samsung 860", "size_gb": "256",
            "method": "ATA Secure Erase", "level": "purge", "tool": "hdparm", "tool_version": "9.65", "passes": "1",
            "verification": "last pass", "result": "success", "operator": "Camille",
        })  # fmt: skip
        assert response.status == 200 and "L’effacement est enregistré." in text
    assert await count(store, "SELECT count(*) FROM erasures WHERE item_id IS NOT NULL AND result = 'success'") == 3
    assert await count(store, "SELECT disk_size_bytes FROM erasures LIMIT 1") == 256 * 10**9

    # The check shows the rules before anything is recorded.
    response, text = await tech.get(f"/distribute?item_id={l1}&beneficiary_id={b1}&price=50&check=1")
    assert response.status == 200 and "Confirmer la distribution" in text and "rien ne s’y oppose" in text
    response, text = await tech.get(f"/distribute?item_id={l2}&beneficiary_id={b1}&price=200&check=1")
    assert "au-dessus du plafond du prix solidaire de 180,00 €" in text and "Confirmer la distribution" not in text

    # A solidarity price under the cap is recorded.
    response, text = await tech.post("/distribute", {"item_id": str(l1), "beneficiary_id": str(b1), "price": "50,00"})
    assert response.status == 200 and "Distribution enregistrée : 1 matériel(s) remis à B-000001" in text
    assert tag(l1) in text and "50,00 €" in text
    assert await state_of(store, l1) == "distributed"

    # Above the cap: refused in French, naming the item; nothing changed.
    response, text = await tech.post("/distribute", {"item_id": str(l2), "beneficiary_id": str(b1), "price": "200",
                                                     "override_reason": "a technician cannot override"})
    assert response.status == 409
    assert "enfreint une règle du prix solidaire" in text and tag(l2) in text and "180,00 €" in text
    assert await count(store, "SELECT count(*) FROM distributions") == 1
    assert await state_of(store, l2) == "ready"

    # Recycle the screen through an outflow; not on a day before its reception (today).
    response, text = await tech.post("/recycle", {"item_id": str(stock.screen), "recipient": "Ecologic",
                                                  "waste_code": "16 02 14", "treatment": "R4", "happened_on": "2025-11-03",
                                                  "weight_kg": "", "note": ""})  # fmt: skip
    assert response.status == 422 and "antérieure" in text and await state_of(store, stock.screen) != "recycled"
    today = node_today().strftime("%d/%m/%Y")
    response, text = await tech.get(f"/recycle?item_id={stock.screen}")
    assert response.status == 200 and tag(stock.screen) in text
    response, text = await tech.post("/recycle", {"item_id": str(stock.screen), "recipient": "Ecologic",
                                                  "waste_code": "16 02 14", "treatment": "R4", "happened_on": today,
                                                  "weight_kg": "", "note": "benne de novembre"})  # fmt: skip
    assert response.status == 200 and "Sortie n° 1 enregistrée au registre des déchets, avec 1 matériel(s)" in text
    assert await state_of(store, stock.screen) == "recycled"
    assert await count(store, "SELECT weight_g FROM outflows") == 4500

    # An admin overrides the cap, with a reason.
    admin = await as_user(client, "admin")
    response, text = await admin.get(f"/distribute?item_id={l2}&beneficiary_id={b1}&price=200&check=1")
    assert "Raison de la dérogation" in text and "Confirmer la distribution" in text
    response, text = await admin.post("/distribute", {"item_id": str(l2), "beneficiary_id": str(b1), "price": "200",
                                                      "override_reason": "Accord du conseil d'administration"})
    assert response.status == 200 and "Distribution enregistrée" in text
    assert "Règle de prix levée : Accord du conseil d&#39;administration" in text
    async with store.reader() as db:
        row = await db.one("SELECT price_cents, override_reason FROM distributions WHERE item_id = ?", (l2,))
    assert (row["price_cents"], row["override_reason"]) == (20000, "Accord du conseil d'administration")


async def test_refused_forms_say_why_in_french_and_change_nothing(web, stock):
    _, store, client = web
    tech = await as_user(client, "tech")
    l1 = stock.laptops[0]
    events = await count(store, "SELECT count(*) FROM events")
    response, text = await tech.post("/workshop/step", {"move": "ready"})
    assert response.status == 422 and "Cochez au moins un matériel" in text
    response, text = await tech.post("/workshop/step", {"item_id": str(l1), "move": ""})
    assert response.status == 422 and "Le formulaire a été refusé" in text
    response, text = await tech.post("/workshop/step", {"item_id": [str(l1), "999999"], "move": "tested"})
    assert response.status == 422 and "n’existe pas" in text
    response, text = await tech.post("/distribute", {"item_id": str(l1), "beneficiary_id": "", "price": "dix"})
    assert response.status == 422 and "Prix : indiquez un montant en euros" in text
    response, text = await tech.post("/recycle", {"recipient": "Ecologic", "waste_code": "160214", "treatment": "R4",
                                                  "item_id": str(l1)})  # fmt: skip
    assert response.status == 422 and "Code déchet : trois paires de chiffres" in text
    assert 'value="160214"' in text  # what was typed is shown again
    response, text = await tech.post("/recycle", {"recipient": "Ecologic", "waste_code": "16 02 14", "treatment": "R4"})
    assert response.status == 422 and "Sans matériel coché, indiquez le poids" in text
    response, text = await tech.post("/erasures", {"asset_tag": "MLN-999999", "method": "x", "level": "clear",
                                                   "tool": "x", "result": "success"})  # fmt: skip
    assert response.status == 422 and "Aucun matériel ne porte l’étiquette « MLN-999999 »" in text
    response, text = await tech.post("/erasures", {"asset_tag": tag(l1), "method": "x", "level": "wipe",
                                                   "tool": "x", "result": "success"})  # fmt: skip
    assert response.status == 422 and "Niveau : choisissez" in text
    response, text = await tech.post("/beneficiaries", {"category": "alien"})
    assert response.status == 422 and "Choisissez la catégorie du bénéficiaire" in text
    assert await count(store, "SELECT count(*) FROM events") == events
    for table in ("erasures", "outflows", "distributions", "beneficiaries"):
        assert await count(store, f"SELECT count(*) FROM {table}") == 0, table


async def test_one_item_two_taps_then_a_correction(web, stock):
    _, store, client = web
    tech = await as_user(client, "tech")
    item = stock.laptops[0]
    response, text = await tech.get(f"/items/{item}/actions")
    assert response.status == 200
    assert set(MOVE.findall(text)) == {"sorted:refurbish", "sorted:parts", "sorted:recycle", "tested",
                                       "refurbished", "ready", "recycled", "dismantled"}  # not "reserved" yet
    assert "Enregistrer son effacement" in text  # "erased" comes from a record, not a button
    response, _ = await tech.post(f"/items/{item}/step", {"move": "sorted:parts"}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == f"/items/{item}?done=step-recorded#actions"
    assert await count(store, "SELECT count(*) FROM audit WHERE action = ?", (f"POST /items/{item}/step",)) == 1
    response, text = await tech.get(f"/items/{item}?done=step-recorded")  # the item page includes the buttons
    assert response.status == 200 and "L’étape est enregistrée dans l’historique du matériel." in text
    assert 'value="tested">Testé</button>' in text and "Dernier événement : trié" in text
    response, _ = await tech.post(f"/items/{item}/step", {"move": "tested", "grade": "B"}, allow_redirects=False)
    assert response.status == 303
    async with store.reader() as db:
        assert (await db.one("SELECT state, grade FROM items WHERE id = ?", (item,)))[:] == ("tested", "B")
    response, text = await tech.get(f"/items/{item}/actions")
    assert "Dernier événement : testé" in text
    last = re.search(r'name="event_id" value="([0-9]+)"', text).group(1)
    # A correction needs a reason; then the item goes back to its state before.
    response, text = await tech.post(f"/items/{item}/correction", {"event_id": last, "reason": " "})
    assert response.status == 422 and "Écrivez pourquoi" in text
    response, _ = await tech.post(f"/items/{item}/correction", {"event_id": last, "reason": "mauvais matériel"},
                                  allow_redirects=False)  # fmt: skip
    assert response.status == 303 and "done=event-corrected" in response.headers["Location"]
    assert await state_of(store, item) == "sorted"
    # The page was stale: the event it showed is no longer the last one.
    response, text = await tech.post(f"/items/{item}/correction", {"event_id": last, "reason": "encore"})
    assert response.status == 409 and "Seul le dernier événement" in text
    # The disk taken out: the item may then leave without an erasure record.
    response, _ = await tech.post(f"/items/{item}/storage-removal", {"destroyed": "1"}, allow_redirects=False)
    assert response.status == 303 and "done=disk-destroyed" in response.headers["Location"]
    async with store.reader() as db:
        assert await db.value("SELECT storage FROM items WHERE id = ?", (item,)) == "removed"
    response, text = await tech.get(f"/items/{item}/actions")
    assert "Corriger le dernier événement" not in text  # a correction would not put the disk back
    response, text = await tech.post(f"/items/{item}/correction", {"reason": "oups"})
    assert response.status == 409 and "Un retrait de disque ne s’annule pas ici" in text
    response, text = await tech.post(f"/items/{item}/step", {"move": "sorted:sideways"})
    assert response.status == 422 and "Le formulaire a été refusé" in text
    response, _ = await tech.post("/items/999999/step", {"move": "tested"})
    assert response.status == 404


async def test_the_association_steps_are_buttons_too(web, stock):
    _, store, client = web
    admin = await as_user(client, "admin")
    from node.domain.workflow import define_step

    async with store.transaction() as tx:
        await define_step(tx, "Diagnostic <rapide>", "tested")
    item = stock.screen
    response, text = await admin.get(f"/items/{item}/actions")
    assert 'value="step:Diagnostic &lt;rapide&gt;"' in text and "Diagnostic &lt;rapide&gt;</button>" in text
    response, _ = await admin.post(f"/items/{item}/step", {"move": "step:Diagnostic <rapide>"}, allow_redirects=False)
    assert response.status == 303
    async with store.reader() as db:
        row = await db.one("SELECT state, step FROM events WHERE item_id = ? ORDER BY id DESC LIMIT 1", (item,))
    assert tuple(row) == ("tested", "Diagnostic <rapide>")
    response, text = await admin.get("/workshop")
    assert "Étapes de notre association" in text


def test_the_buttons_follow_the_domains_moves(tmp_path):
    """workshop/item_actions.html decides the moves in Jinja: it must say what node.domain.states.can_move says."""
    from aiohttp import web as aioweb

    from web_ui.render import setup_templates

    app = aioweb.Application()
    setup_templates(app)
    template = aiohttp_jinja2.get_env(app).get_template("workshop/item_actions.html")
    user = SimpleNamespace(may=lambda role: True)
    for state in STATES:
        item = SimpleNamespace(id=7, state=state, storage="unknown", grade=None, asset_tag="MLN-000007", category="laptop")
        html = template.render(item=item, user=user, csrf="x", args={}, _=translator("fr"), fmt=Formats("fr"))
        shown = {move.split(":")[0] for move in MOVE.findall(html)}
        assert shown == {s for s in STEP_STATES if can_move(state, s)}, state


async def test_nwipe_log_preview_then_confirm(web, stock):
    node, store, client = web
    tech = await as_user(client, "tech")
    log = FIXTURES / "nwipe-shredos-example.log"
    with log.open("rb") as handle:
        response, text = await tech.post("/erasures/preview", {"kind": "nwipe", "lot": "", "item_tag": "",
                                                               "file": handle})  # fmt: skip
    assert response.status == 200 and "Confirmer l’import" in text
    assert "Rien n’est encore enregistré" in text and "2 créé(s)" in text and tag(stock.dell) in text
    assert await count(store, "SELECT count(*) FROM erasures") == 0  # a preview writes nothing
    fields = dict(re.findall(r'<input type="hidden" name="(sha256|kind|filename|lot|item_tag)" value="([^"]*)"', text))
    assert fields["kind"] == "nwipe" and len(fields["sha256"]) == 64
    response, text = await tech.post("/erasures/import", fields)
    assert response.status == 200 and "Import effectué : 2 créé(s), 0 mis à jour, 0 ignoré(s)" in text
    assert await count(store, "SELECT count(*) FROM erasures WHERE item_id = ?", (stock.dell,)) == 2
    assert "WD-WXC1A14S2591" in text and "journal nwipe" in text
    # A confirmation naming a file the node does not have changes nothing.
    response, text = await tech.post("/erasures/import", {**fields, "sha256": "0" * 64})
    assert response.status == 422 and "plus sur le nœud" in text
    response, text = await tech.post("/erasures/import", {**fields, "sha256": "../../node.key"})
    assert response.status == 422
    assert await count(store, "SELECT count(*) FROM erasures") == 2


async def test_an_items_sheet_is_imported_from_its_lot_page_bad_rows_listed(web, stock, tmp_path):
    _, store, client = web
    tech = await as_user(client, "tech")
    items = await count(store, "SELECT count(*) FROM items")
    await tech.get(f"/lots/{stock.lot}/import")
    with (FIXTURES / "items-fr-excel.csv").open("rb") as handle:  # bad rows: listed, the others import
        response, text = await tech.post("/imports/preview", {"kind": "items", "lot_id": str(stock.lot), "file": handle})
    assert response.status == 200 and "Lignes écartées" in text and "Ligne 6" in text
    sheet = tmp_path / "inventaire.csv"
    sheet.write_text("Catégorie;Marque;Modèle\nportable;Dell;Latitude 5490\nécran;Iiyama;ProLite\n", encoding="utf-8")
    with sheet.open("rb") as handle:
        response, text = await tech.post("/imports/preview", {"kind": "items", "lot_id": str(stock.lot), "file": handle})
    assert response.status == 200 and "Confirmer l'import de 2 matériel(s)" in html.unescape(text)
    assert await count(store, "SELECT count(*) FROM items") == items
    confirm = text[text.index('action="/imports/confirm"'):]
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm)
    response = await client.post("/imports/confirm", data=[(k, v) for k, v in fields if k != "_csrf"] + [("_csrf", tech.csrf)],
                                 allow_redirects=False)  # fmt: skip
    assert response.status == 303
    response, text = await tech.get(response.headers["Location"])
    assert "2 matériel(s) créé(s)" in text and f"/items?lot_id={stock.lot}" in text
    assert await count(store, "SELECT count(*) FROM items WHERE lot_id = ?", (stock.lot,)) == 6
    response, text = await tech.post("/imports/preview", {"kind": "items", "lot_id": str(stock.lot)})
    assert response.status == 422 and "Choisissez le fichier" in text


async def test_csrf_and_read_only_are_refused(web, stock):
    _, store, client = web
    tech = await as_user(client, "tech")
    item = stock.laptops[0]
    response, _ = await tech.post("/workshop/step", {"item_id": str(item), "move": "tested"}, csrf=False)
    assert response.status == 403
    response, _ = await tech.post(f"/items/{item}/step", {"move": "tested", "_csrf": "forged"}, csrf=False)
    assert response.status == 403
    reader = await as_user(client, "reader")
    for path in (f"/items/{item}/actions", "/workshop", "/erasures", "/recycle", "/beneficiaries/new",
                 f"/distribute?item_id={item}&beneficiary_id=1&price=0&check=1"):
        response, text = await reader.get(path)
        assert response.status == 200, path
        main = text.split('<main id="main"')[1].split("</main>")[0]
        assert 'method="post"' not in main and 'name="move"' not in main, path  # no action offered
    response, text = await reader.get(f"/items/{item}/actions")
    assert "lecture seule" in text
    for path, data in ((f"/items/{item}/step", {"move": "tested"}), ("/workshop/step", {"item_id": str(item)}),
                       ("/beneficiaries", {"category": "person"}), ("/recycle", {"recipient": "x"})):
        response, text = await reader.post(path, data)
        assert response.status == 403 and "lecture seule" in text, path
    assert await state_of(store, item) == "received"
    assert await count(store, "SELECT count(*) FROM beneficiaries") == 0


async def test_beneficiaries_personal_details_and_script_as_text(web):
    _, store, client = web
    tech = await as_user(client, "tech")
    response, text = await tech.get("/beneficiaries/new")
    assert "facultatifs" in text and "1095 jours" in text
    response, text = await tech.post("/beneficiaries", {
        "category": "association", "referrer": "<script>alert('x')</script>", "name": "Jeanne Martin",
        "contact": "06 12 34 56 78",
    })  # fmt: skip
    assert response.status == 200 and "Bénéficiaire B-000001" in text
    assert "<script>alert" not in text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    assert "Jeanne Martin" not in text  # a technician does not see personal details
    assert "Données personnelles à effacer le" in text
    response, text = await tech.get("/beneficiaries")
    assert "&lt;script&gt;" in text and "<script>alert" not in text and "Jeanne Martin" not in text
    admin = await as_user(client, "admin")
    response, text = await admin.get("/beneficiaries")
    assert "Jeanne Martin" in text and "06 12 34 56 78" in text
    from node.domain.beneficiaries import erase_expired

    async with store.transaction() as tx:
        assert await erase_expired(tx, now=now_ms() + 1096 * 86_400_000) == 1
    response, text = await admin.get("/beneficiaries/1")
    assert "Données personnelles effacées le" in text and "Jeanne Martin" not in text
    # From the distribution page, a new beneficiary leads back to it, chosen.
    response, _ = await admin.post("/beneficiaries", {"category": "person", "item_id": ["5", "6"]},
                                   allow_redirects=False)  # fmt: skip
    assert response.headers["Location"] == "/distribute?item_id=5&item_id=6&beneficiary_id=2"


async def test_the_bulk_steps_are_named_as_the_item_page_buttons(web, stock, admin):
    _, store, _ = web
    l1 = stock.laptops[0]
    async with store.transaction() as tx:
        await tx.run("UPDATE items SET state = 'ready' WHERE id = ?", (l1,))
    _, item_page = await admin.get(f"/items/{l1}")
    buttons = dict(re.findall(r'<button type="submit" name="move" value="([a-z]+)"[^>]*>([^<]+)</button>', item_page))
    _, bulk = await admin.get("/workshop?state=ready")
    select = bulk.split('<select id="ws-move" name="move">', 1)[1].split("</select>", 1)[0]
    options = dict(re.findall(r'<option value="([a-z]+)"[^>]*>([^<]+)</option>', select))
    assert set(options) == set(STEP_STATES) - {"sorted"}
    assert {state: buttons[state] for state in options if state in buttons} == {
        state: name for state, name in options.items() if state in buttons}
    assert options == {"tested": "Testé", "refurbished": "Reconditionné", "ready": "Prêt", "reserved": "Réservé",
                       "recycled": "Recyclé", "dismantled": "Démantelé"}  # fmt: skip
    assert "Trié : à reconditionner" in select


@pytest.mark.parametrize(("kind", "fixture", "code", "english"), [
    ("nwipe", "not-an-nwipe-log.txt", "not_nwipe_log", "this is not an nwipe log"),
    ("lshw", "smartctl-not-lshw.json", "not_lshw", "this JSON is not the output of 'lshw -json'"),
    ("lshw", "lshw-truncated.json", "bad_json", "this file is not valid JSON"),
])  # fmt: skip
async def test_a_file_refused_whole_is_said_in_french_the_english_apart(web, stock, kind, fixture, code,
                                                                        english):  # fmt: skip
    from web_ui.import_lines import IMPORT_REFUSALS

    _, store, client = web
    tech = await as_user(client, "tech")
    with (FIXTURES / fixture).open("rb") as handle:
        response, text = await tech.post("/erasures/preview", {"kind": kind, "lot": "", "item_tag": "",
                                                               "file": handle})  # fmt: skip
    assert response.status == 422
    page = html.unescape(text)
    assert html.unescape(translator("fr")(IMPORT_REFUSALS[code])) in page
    # The node's English words only apart, muted and marked as English.
    assert re.search(r'<p class="muted" lang="en">[^<]*' + re.escape(english), page), page
    assert not re.search(r"<li>[^<]*" + re.escape(english), page)
    assert await count(store, "SELECT count(*) FROM erasures") == 0


async def test_an_lshw_preview_names_the_chassis_in_french(web, stock):
    _, _store, client = web
    tech = await as_user(client, "tech")
    for fixture, french in (("lshw-thinkpad-battery.json", "boîtier : portable"),
                            ("lshw-whitebox-desktop.json", "boîtier : ordinateur fixe")):  # fmt: skip
        with (FIXTURES / fixture).open("rb") as handle:
            response, text = await tech.post("/erasures/preview", {"kind": "lshw", "lot": "", "item_tag": "",
                                                                   "file": handle})  # fmt: skip
        assert response.status == 200, text
        page = html.unescape(text)
        assert french in page and "boîtier : notebook" not in page and "boîtier : desktop" not in page, page


async def test_the_manual_erasure_suggests_verifications_in_french_and_keeps_their_codes(web, stock):
    _, store, client = web
    tech = await as_user(client, "tech")
    response, text = await tech.get("/erasures")
    datalist = text[text.index('<datalist id="ws-verifications">'):]
    datalist = html.unescape(datalist[:datalist.index("</datalist>")])
    assert 'value="dernière passe vérifiée"' in datalist and 'value="last"' not in datalist
    assert 'value="all"' not in datalist and 'value="none"' not in datalist
    response, text = await tech.post("/erasures", {
        "asset_tag": tag(stock.laptops[0]), "method": "Fill With Zeros", "level": "clear", "tool": "nwipe",
        "verification": "Dernière passe vérifiée ", "result": "success",
    })  # fmt: skip
    assert response.status == 200 and "L’effacement est enregistré." in text
    async with store.reader() as db:
        assert await db.value("SELECT verification FROM erasures") == "last"
    assert "vérification : dernière passe vérifiée" in html.unescape(text)


async def test_a_future_day_on_the_manual_erasure_is_said_once(web, stock):
    from datetime import timedelta

    _, store, client = web
    tech = await as_user(client, "tech")
    day = (node_today() + timedelta(days=30)).strftime("%d/%m/%Y")
    response, text = await tech.post("/erasures", {
        "asset_tag": tag(stock.laptops[0]), "method": "Fill With Zeros", "level": "clear", "tool": "nwipe",
        "result": "success", "happened_on": day,
    })  # fmt: skip
    page = html.unescape(text)
    assert response.status == 422 and "Cette date est dans le futur" in page
    assert page.count("dans le futur") == 1 and "Détail technique" not in page, page
    assert await count(store, "SELECT count(*) FROM erasures") == 0
