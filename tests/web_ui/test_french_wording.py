"""No English inside the French interface: import previews, an item's hand-offs, erasure words, impact note.

Each test renders the page a volunteer sees, in French, and looks for the
English the page showed before (and for the French that replaces it).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from webtools import Browser

from node.domain.donors import DonorInput, create_donor
from node.domain.erasure import ErasureInput, record_erasure
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.network.peers import pin_peer
from node.validation import parse
from protocol.keys import SigningKey, fingerprint, node_id

FIXTURES = Path(__file__).parents[1] / "node" / "imports" / "fixtures"
TAGS = re.compile(r"<[^>]+>")
# What the French pages showed in English before; none may come back on any page.
ENGLISH = ("unknown category", "ignored columns", "success →", "chassis:", "orphan disk", "local_beneficiaries",
           "Fill With Zeros", "PRNG Stream", "vérification : last", "Desktop figures",
           "erasure record(s)")  # fmt: skip


def shown(page: str) -> str:
    """The page's text as a reader sees it (tags out, entities read, spaces made plain)."""
    return " ".join(html.unescape(TAGS.sub(" ", page)).replace("\u202f", " ").replace("\u00a0", " ").split())


def no_english(page: str) -> None:
    text = shown(page)
    left = [word for word in ENGLISH if word in text]
    assert not left, f"English in the French page: {left}"


async def _lot(store) -> int:
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": "Entreprise Exemple", "type": "company"}))
        return await create_lot(tx, parse(LotInput, {"reference": "LOT-1", "donor_id": donor,
                                                     "orientations": ["local_only", "social_priority"]}))  # fmt: skip


async def _preview(tech: Browser, kind: str, path: Path, lot: str = "") -> tuple[int, str]:
    with path.open("rb") as handle:
        form = {"kind": kind, "lot": lot, "item_tag": "", "file": handle}
        response, text = await tech.post("/erasures/preview", form)
    return response.status, text


async def test_an_items_sheet_preview_speaks_french(web, admin, tmp_path):
    """The items sheet's preview (on the lot's page since it left "Effacement") says in French what it found."""
    _, store, _ = web
    lot = await _lot(store)
    sheet = tmp_path / "inventaire.csv"
    sheet.write_text("Catégorie;Marque;Couleur\nportable;Dell;noir\nfrigo;Bosch;blanc\n", encoding="utf-8")
    with sheet.open("rb") as handle:
        response, text = await admin.post("/imports/preview", {"kind": "items", "lot_id": str(lot), "file": handle})
    assert response.status == 200
    no_english(text)
    said = shown(text)
    assert "Ligne 3 : Catégorie — catégorie inconnue" in said and "frigo" in said  # the unknown value, named
    assert "Confirmer l'import de 1 matériel(s)" in said  # the other row imports


async def test_an_nwipe_preview_says_where_each_disk_goes_in_french(web, admin):
    _, store, _ = web
    lot = await _lot(store)
    async with store.transaction() as tx:
        await create_items(tx, lot, [parse(ItemInput, {"category": "laptop", "serial": "3FBJ6P2"})])
    status, text = await _preview(admin, "nwipe", FIXTURES / "nwipe-shredos-example.log")
    assert status == 200
    no_english(text)
    assert "effacement réussi → matériel MLN-000001" in shown(text)


async def test_an_lshw_preview_names_the_category_and_an_unknown_chassis_in_french(web, admin):
    status, text = await _preview(admin, "lshw", FIXTURES / "lshw-virtual-machine.json")
    assert status == 200, shown(text)
    no_english(text)
    assert "(boîtier : inconnu)" in shown(text)
    status, text = await _preview(admin, "lshw", FIXTURES / "lshw-laptop-list.json")
    assert status == 200 and "ordinateur portable" in shown(text)
    no_english(text)


async def test_an_items_history_names_the_sending_node_and_links_the_hand_off(web, admin):
    _, store, _ = web
    lot = await _lot(store)
    hub, offer, receipt = SigningKey.generate().public.raw, "ab" * 32, "cd" * 32
    async with store.transaction() as tx:
        await pin_peer(tx, hub, name="Ordi Grand Ouest", role="hub", relation="upstream")
        detail = json.dumps({"from": node_id(hub), "offer": offer, "receipt": receipt})
        [item] = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop"})], detail=detail)
    response, text = await admin.get(f"/items/{item}")
    assert response.status == 200
    said = shown(text)
    assert f"Reçu de Ordi Grand Ouest ({fingerprint(hub)})" in said
    assert f'<a href="/handoffs/{offer}">voir la remise</a>' in text
    assert node_id(hub) not in said and offer not in said and receipt not in said  # no raw ids or hashes
    assert not re.search(r"\b(from|offer|receipt)\b", said)


async def test_erasure_methods_and_verifications_are_french(web, admin):
    _, store, _ = web
    lot = await _lot(store)
    async with store.transaction() as tx:
        [item] = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop", "storage": "present"})])
        await record_erasure(tx, parse(ErasureInput, {"item_id": item, "method": "Fill With Zeros", "level": "clear",
                                                      "tool": "nwipe", "verification": "last",
                                                      "result": "success"}))  # fmt: skip
    for path in ("/erasures", f"/items/{item}"):
        response, text = await admin.get(path)
        assert response.status == 200
        no_english(text)
        assert "Remplissage par des zéros (1 passe)" in shown(text), path
    assert "vérification : dernière passe vérifiée" in shown((await admin.get("/erasures"))[1])


async def test_the_lot_page_names_the_donors_orientations(web, admin):
    _, store, _ = web
    lot = await _lot(store)
    response, text = await admin.get(f"/lots/{lot}")
    assert response.status == 200 and "bénéficiaires locaux uniquement" in shown(text)
    no_english(text)


def test_the_demonstration_asks_only_for_orientations_the_interface_names():
    from node.cli.demo_data import PLANS
    from web_ui.labels import ORIENTATIONS

    asked = {code for plan in PLANS.values() for lot in plan.lots for code in lot.orientations}
    assert asked and asked <= set(ORIENTATIONS), asked - set(ORIENTATIONS)


async def test_the_impact_note_of_the_statistics_page_is_french(web, admin):
    response, text = await admin.get("/reports/stats?period=2025")
    assert response.status == 200
    no_english(text)
    assert "les écrans ne faisaient pas partie de l" in shown(text)


async def test_no_page_of_the_menu_shows_the_english_of_before(web, admin):
    """Every page without a parameter in its path, in French, after imports and an erasure have happened."""
    _, store, client = web
    lot = await _lot(store)
    async with store.transaction() as tx:
        [item] = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop", "storage": "present"})])
        await record_erasure(tx, parse(ErasureInput, {"item_id": item, "method": "PRNG Stream", "level": "clear",
                                                      "tool": "nwipe", "verification": "last",
                                                      "result": "success"}))  # fmt: skip
    paths = sorted({r.resource.canonical for r in client.app.router.routes()
                    if r.method == "GET" and r.resource is not None and "{" not in r.resource.canonical})  # fmt: skip
    checked = 0
    for path in paths:
        downloads = ("/api", "/static", "/logout", "/health", "/settings/backup")
        if path.startswith(downloads) or "." in path.rsplit("/", 1)[-1]:
            continue
        response = await client.get(path)
        if response.status != 200 or "text/html" not in response.headers.get("Content-Type", ""):
            continue
        no_english(await response.text())
        checked += 1
    assert checked > 20
