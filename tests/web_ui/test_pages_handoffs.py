"""Lot hand-offs in the web interface, on real SQLite files: offering a lot from its page,
answering an offer, the reception screen (ticks, scans, damaged, extras, summary), the custody chain.

The page under test is one node's application (the ``web`` fixture); the
other node is a second ``Store`` with its own key and file. ``carry`` hands
one node's log to the other as the federation does (the entry, the content
sealed to its audience, ``federation.inbox.receive``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape

import pytest
from webtools import Browser

from federation.inbox import receive
from federation.wire import Item
from node.domain.happened import day_of
from node.domain.happened import today as node_today
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.workflow import move_items
from node.network import handoffs, peers
from node.store.database import Store
from protocol import canonical
from protocol.keys import SigningKey
from protocol.records import open_entry
from protocol.seal import encryption_key, seal

SCRIPT = "<script>alert('lot')</script>"


@dataclass
class Side:
    """One node as these tests drive it: its key, its store, its name."""

    name: str
    key: SigningKey
    store: Store

    @property
    def raw(self) -> bytes:
        return self.key.public.raw


@pytest.fixture
async def here(web) -> Side:
    node, store, _ = web
    return Side(node.config.name, node.key, store)


@pytest.fixture
async def other(tmp_path):
    key = SigningKey.from_seed(hashlib.sha256(b"Ressourcerie du Pays").digest())
    store = await Store.open(tmp_path / "other.db", key, create=True)
    yield Side("Ressourcerie du Pays", key, store)
    await store.close()


async def pin(a: Side, b: Side, relation: str, role: str) -> None:
    async with a.store.transaction() as tx:
        await peers.pin_peer(tx, b.raw, name=b.name, role=role, relation=relation, encryption_key=encryption_key(b.key))


async def carry(source: Side, target: Side) -> None:
    """``target`` receives ``source``'s whole log (what it already holds is skipped)."""
    keys = {source.raw: source.key, target.raw: target.key}
    async with source.store.reader() as db:
        rows = await db.all("SELECT envelope, content FROM log_records WHERE author = ? ORDER BY seq", (source.raw,))
    items = []
    for row in rows:
        record = open_entry(canonical.encode([row["envelope"], row["content"]]))
        if record.header.audience:
            readers = {*record.header.audience, record.header.author}
            sealed = seal(record.id, record.content, {k: encryption_key(keys[k]) for k in readers})
            items.append(Item(canonical.encode([record.envelope, None]), sealed))
        else:
            items.append(Item(record.entry()))
    async with target.store.transaction() as tx:
        await receive(tx, target.key, items, sender=source.raw)


async def stock(side: Side, *, reference: str = "ETAT-2026-01") -> tuple[int, list[int], list[str]]:
    """Three laptops (the first erased, the last with a script as its model) and a screen."""
    async with side.store.transaction() as tx:
        lot = await create_lot(tx, LotInput(reference=reference, declared_units=4, orientations=["no_resale"]))
        ids = await create_items(tx, lot, [
            ItemInput(category="laptop", serial="SN-A1", brand="Dell", model="Latitude 5490", weight_g=2000),
            ItemInput(category="laptop", serial="SN-A2", brand="Dell", model="Latitude 5490", weight_g=2000),
            ItemInput(category="laptop", serial="SN-A3", brand="HP", model=SCRIPT, weight_g=2000),
            ItemInput(category="screen", serial="SN-S1", weight_g=4000, storage="none"),
        ])  # fmt: skip
        await tx.run("INSERT INTO erasures (item_id, method, level, tool, result, time)"
                     " VALUES (?, 'nist', 'purge', 'nwipe', 'success', 1)", (ids[0],))  # fmt: skip
        gids = [await tx.value("SELECT gid FROM items WHERE id = ?", (i,)) for i in ids]
    return lot, ids, gids


async def value(side: Side, sql: str, params=()):
    async with side.store.reader() as db:
        return await db.value(sql, params)


async def as_user(client, name: str) -> Browser:
    browser = Browser(client)
    await browser.login(name)
    return browser


async def post_all(browser: Browser, path: str, fields: list[tuple[str, str]]):
    """A form with repeated fields (ticked boxes), with the page's CSRF token."""
    response = await browser.client.post(path, data=[("_csrf", browser.csrf), *fields], allow_redirects=False)
    return response, await response.text()


def text_of(html: str) -> str:
    main = html.split("<main", 1)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", main)).split())


def hidden_fields(html: str, action: str) -> list[tuple[str, str]]:
    form = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return [(name, unescape(value)) for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form)
            if name != "_csrf"]  # fmt: skip


# --- offering a lot --------------------------------------------------------------------------------


async def test_a_lot_is_offered_from_its_page_then_withdrawn(web, here, other, admin):
    _, _, client = web
    await pin(here, other, "downstream", "member")
    lot, ids, _ = await stock(here)
    _, html = await admin.get(f"/lots/{lot}")
    assert f'href="/handoffs/new?lot_id={lot}"' in html and "Céder ce lot" in html
    response, html = await admin.get(f"/handoffs/new?lot_id={lot}")
    text = text_of(html)
    assert response.status == 200 and "Ressourcerie du Pays" in text and other.key.public.fingerprint in text
    assert "une structure membre de notre réseau" in text
    assert "Signer et envoyer l'offre" not in text  # no node chosen yet
    response, html = await admin.get(f"/handoffs/new?lot_id={lot}&to={other.key.public.node_id}&days=10&note=Palette")
    text = text_of(html)
    # the review: units, weight, erasure states, the items still to erase flagged
    assert "1 effacé(s), 1 sans données, 2 encore à effacer" in text and "10,0 kg" in text
    assert text.count("effacement à faire") == 2 and "2 matériel(s) peuvent encore contenir des données" in text
    assert "aucun marquage" not in text and "pas de revente" in text  # the donor's orientations travel
    assert SCRIPT not in html and "&lt;script&gt;" in html
    # a technician sees the review, not the confirmation; a POST is refused
    tech = await as_user(client, "tech")
    _, tech_html = await tech.get(f"/handoffs/new?lot_id={lot}&to={other.key.public.node_id}")
    assert "Seul un administrateur peut proposer un lot" in text_of(tech_html)
    response, _ = await post_all(tech, "/handoffs", [("lot_id", str(lot)), ("to", other.key.public.node_id)])
    assert response.status == 403
    admin = await as_user(client, "admin")
    await admin.get(f"/handoffs/new?lot_id={lot}&to={other.key.public.node_id}&days=10&note=Palette")
    fields = hidden_fields(html, "/handoffs")
    assert ("note", "Palette") in fields and ("days", "10") in fields
    response, _ = await post_all(admin, "/handoffs", fields)
    assert response.status == 303
    offer = response.headers["Location"].split("/")[2].split("?")[0]
    _, html = await admin.get(response.headers["Location"])
    text = text_of(html)
    assert "L'offre a été signée" in text and "proposé" in text and "Palette" in text
    assert "Retirer l'offre" in text
    async with here.store.reader() as db:
        outgoing = await handoffs.get_handoff(db, bytes.fromhex(offer))
    assert (outgoing.direction, outgoing.state, outgoing.units, outgoing.lot_id) == ("out", "offered", 4, lot)
    # the lot page shows the hand-off in its custody chain
    _, html = await admin.get(f"/lots/{lot}")
    chain = text_of(html).split("Chaîne de garde", 1)[1]
    assert "Ressourcerie du Pays" in chain and "proposé" in chain and other.key.public.fingerprint in chain
    # offering the same items again is refused in French, naming nothing changed
    response, html = await post_all(admin, "/handoffs", fields)
    assert response.status == 409 and "déjà dans une autre offre en cours" in text_of(html)
    # withdrawn
    response, _ = await post_all(admin, f"/handoffs/{offer}/cancel", [("reason", "no_transport")])
    assert response.status == 303
    _, html = await admin.get(f"/handoffs/{offer}")
    assert "annulé" in text_of(html) and "le transport n'a pas pu se faire" in text_of(html)
    response, html = await post_all(admin, f"/handoffs/{offer}/cancel", [("reason", "no_transport")])
    assert response.status == 409 and "n'est plus en cours" in text_of(html)


async def test_offering_to_a_node_outside_the_network_is_refused(web, here, admin):
    lot, _, _ = await stock(here)
    stranger = SigningKey.generate().public.node_id
    response, html = await admin.get(f"/handoffs/new?lot_id={lot}&to={stranger}")
    assert "Ce nœud ne peut encore céder de lot à personne" in text_of(html)
    response, html = await post_all(admin, "/handoffs", [("lot_id", str(lot)), ("to", stranger), ("days", "14")])
    assert response.status == 409 and "ni un pair ni une structure membre" in text_of(html)
    assert await value(here, "SELECT count(*) FROM handoffs") == 0


async def test_national_is_never_offered_a_lot(web, here, other, admin):
    """A hub's upstream is national, which holds no stock: not in the list of nodes, and refused if typed."""
    await pin(here, other, "upstream", "national")
    lot, _, _ = await stock(here)
    response, html = await admin.get(f"/handoffs/new?lot_id={lot}")
    assert response.status == 200 and other.key.public.fingerprint not in html and other.name not in html
    response, html = await post_all(admin, "/handoffs", [("lot_id", str(lot)), ("to", other.key.public.node_id),
                                                         ("days", "14")])  # fmt: skip
    assert response.status == 409 and "La fédération nationale ne reçoit pas de lot" in text_of(html)
    assert await value(here, "SELECT count(*) FROM handoffs") == 0


# --- an offer made to this node ----------------------------------------------------------------------


async def offered_here(here: Side, other: Side) -> tuple[str, list[str]]:
    """``other`` (our hub) offers its lot to this node; the offer has arrived here."""
    await pin(here, other, "upstream", "hub")
    await pin(other, here, "downstream", "member")
    lot, _, gids = await stock(other, reference="HUB-2026-04")
    async with other.store.transaction() as tx:
        record = await handoffs.create_offer(tx, handoffs.OfferInput(recipient=here.raw, lot_id=lot, note="Palette 2"))
    await carry(other, here)
    return record.id.hex(), gids


async def test_an_offer_is_accepted_then_received_with_ticks_damage_and_an_extra(web, here, other, admin):
    _, _, client = web
    offer, gids = await offered_here(here, other)
    # the federation page lists it, waiting for an answer
    _, html = await admin.get("/federation")
    offers = text_of(html).split("Offres de lots à accepter", 1)[1]
    assert "HUB-2026-04" in offers and f'href="/handoffs/{offer}"' in html and "Ressourcerie du Pays" in offers
    _, html = await admin.get("/handoffs")
    assert "HUB-2026-04" in text_of(html) and "proposé" in text_of(html)
    response, html = await admin.get(f"/handoffs/{offer}")
    text = text_of(html)
    assert response.status == 200 and "Proposé à ce nœud par Ressourcerie du Pays" in text and "Palette 2" in text
    # the other node's strings are text, never markup
    assert SCRIPT not in html and "&lt;script&gt;alert(&#39;lot&#39;)&lt;/script&gt;" in html and SCRIPT in text
    assert "Accepter ce lot" in text and "Refuser ce lot" in text
    # a technician may not answer for the association
    tech = await as_user(client, "tech")
    response, _ = await post_all(tech, f"/handoffs/{offer}/accept", [])
    assert response.status == 403
    admin = await as_user(client, "admin")
    response, _ = await post_all(admin, f"/handoffs/{offer}/accept", [("note", "Merci !")])
    assert response.status == 303
    _, html = await admin.get(response.headers["Location"])
    assert "Vous avez accepté l'offre" in text_of(html) and "accepté" in text_of(html)
    assert f'href="/handoffs/{offer}/reception"' in html

    # the reception screen: nothing ticked yet
    _, html = await admin.get(f"/handoffs/{offer}/reception")
    assert html.count('name="received"') == 4 and 'checked' not in html.split("<tbody>", 1)[1].split("</tbody>")[0]
    assert "0 sur 4 coché(s)" in text_of(html) and '<script src="/static/handoffs.js"' in html
    # without JavaScript, a scanned label (its URL) posts the form and comes back ticked
    response, html = await post_all(admin, f"/handoffs/{offer}/summary",
                                    [("scan", f"http://hub.example/i/{gids[0]}"), ("action", "scan")])  # fmt: skip
    assert response.status == 200 and f'value="{gids[0]}" id="rc-1" data-gid="{gids[0]}"' in html
    assert re.search(rf'value="{gids[0]}" id="rc-1"[^>]*checked', html) and "Coché :" in text_of(html)
    assert "Afficher le récapitulatif" in text_of(html) and 'id="summary"' not in html
    # a serial typed, one box ticked by hand, one damaged (not ticked: counted received), one extra screen, the weight
    fields = [("received", gids[0]), ("scan", "sn-a2"), ("damaged", gids[2]), ("extra_category", "screen"),
              ("extra_weight_kg", "4,5"), ("extra_serial", "X-9"), ("extra_category", ""), ("extra_weight_kg", ""),
              ("extra_serial", ""), ("weight_kg", "10,5"), ("note", "un écran en plus"), ("action", "summary")]  # fmt: skip
    response, html = await post_all(admin, f"/handoffs/{offer}/summary", fields)
    text = text_of(html)
    summary = text.split("4. Ce qui est arrivé", 1)[1]
    assert "Unités 4 4 conforme à la déclaration" in summary  # 3 ticked + 1 extra
    assert "Poids 10,0 kg 10,5 kg +0,5 kg" in summary
    assert "Manquants (1)" in summary and "SN-S1" in summary.split("Manquants (1)", 1)[1].split("Endommagés", 1)[0]
    assert "Endommagés (1)" in summary and "Arrivés sans être listés (1)" in summary and "X-9" in summary
    assert "1 matériel(s) marqué(s) endommagé(s) n'étaient pas coché(s)" in text
    confirm = hidden_fields(html, f"/handoffs/{offer}/receipt")
    assert sorted(v for k, v in confirm if k == "received") == sorted(gids[:3])
    assert [v for k, v in confirm if k == "missing"] == [gids[3]]
    assert ("weight_g", "10500") in confirm and ("extra_weight_g", "4500") in confirm
    # a read-only account cannot post the reception
    reader = await as_user(client, "reader")
    response, html = await post_all(reader, f"/handoffs/{offer}/receipt", confirm)
    assert response.status == 403 and "Votre compte est en lecture seule" in text_of(html)
    # a receipt that does not add up (a line neither received nor missing) is refused in French
    tech = await as_user(client, "tech")
    await tech.get(f"/handoffs/{offer}/reception")
    short = [(k, v) for k, v in confirm if k != "missing"]
    response, html = await post_all(tech, f"/handoffs/{offer}/receipt", short)
    assert response.status == 409 and "La réception ne correspond pas à l'offre" in text_of(html)
    assert await value(here, "SELECT count(*) FROM items") == 0
    # confirmed by a technician
    response, _ = await post_all(tech, f"/handoffs/{offer}/receipt", confirm)
    assert response.status == 303 and response.headers["Location"] == f"/handoffs/{offer}?done=received"
    _, html = await tech.get(response.headers["Location"])
    text = text_of(html)
    assert "La réception a été enregistrée" in text and "reçu" in text and "endommagé" in text
    lot_id = await value(here, "SELECT lot_id FROM handoffs")
    assert await value(here, "SELECT count(*) FROM items WHERE lot_id = ?", (lot_id,)) == 4
    assert await value(here, "SELECT damaged FROM handoff_items WHERE gid = ?", (gids[2],)) == 1
    # the new lot's page says where it comes from
    _, html = await tech.get(f"/lots/{lot_id}")
    chain = text_of(html).split("Chaîne de garde", 1)[1]
    assert "D'où vient ce lot" in chain and "Ressourcerie du Pays" in chain and "HUB-2026-04" in chain
    assert "3 matériel(s) reçu(s) (dont 1 endommagé(s)), 1 manquant(s)" in chain
    assert "Céder ce lot" not in html  # a technician does not offer lots


async def test_a_reception_entered_afterwards_keeps_the_day_the_lot_arrived(web, here, other, admin):
    """Loading the past: the reception form takes the day the lot arrived; a day in the future is named
    before anything is signed; the receipt signed is a lot.receipt/2 with that day."""
    offer, gids = await offered_here(here, other)
    await post_all(admin, f"/handoffs/{offer}/accept", [])
    _, html = await admin.get(f"/handoffs/{offer}/reception")
    assert f'name="happened_on" type="date" min="1980-01-01" max="{node_today().isoformat()}"' in html
    assert "Date d'arrivée (si ce n'est pas aujourd'hui)" in text_of(html)
    ticked = [("received", g) for g in gids] + [("weight_kg", "10"), ("action", "summary")]
    tomorrow = (node_today() + timedelta(days=1)).isoformat()
    response, html = await post_all(admin, f"/handoffs/{offer}/summary", [*ticked, ("happened_on", tomorrow)])
    assert "Date d'arrivée : ce jour est dans le futur" in text_of(html)
    assert f'action="/handoffs/{offer}/receipt"' not in html  # nothing to confirm
    # posted anyway (an old page): refused in French, nothing signed
    response, html = await post_all(admin, f"/handoffs/{offer}/receipt",
                                    [*(("received", g) for g in gids), ("weight_g", "10000"), ("happened_on", tomorrow)])  # fmt: skip
    assert response.status == 422 and "La date d'arrivée est dans le futur" in text_of(html)
    assert await value(here, "SELECT count(*) FROM items") == 0
    response, html = await post_all(admin, f"/handoffs/{offer}/summary", [*ticked, ("happened_on", "2023-06-01")])
    assert "Arrivé le 01/06/2023" in text_of(html)
    confirm = hidden_fields(html, f"/handoffs/{offer}/receipt")
    assert ("happened_on", "2023-06-01") in confirm
    response, _ = await post_all(admin, f"/handoffs/{offer}/receipt", confirm)
    assert response.status == 303
    assert await value(here, "SELECT received_on FROM lots WHERE source = 'handoff'") == "2023-06-01"
    assert await value(here, "SELECT kind FROM log_records WHERE kind LIKE 'lot.receipt/%'") == "lot.receipt/2"
    _, html = await admin.get(f"/handoffs/{offer}")
    assert f"Reçu le 01/06/2023 (saisie le {node_today().strftime('%d/%m/%Y')})" in text_of(html)
    lot_id = await value(here, "SELECT id FROM lots WHERE source = 'handoff'")
    _, html = await admin.get(f"/lots/{lot_id}")
    assert "reçu ici le 01/06/2023" in text_of(html)
    await carry(here, other)
    async with other.store.reader() as db:
        days = {day_of(r[0]) for r in await db.all("SELECT state_since FROM items WHERE state = 'transferred'")}
    assert days == {date(2023, 6, 1)}  # the day the receipt states, the time a donor's bundle moves custody at


async def test_an_offer_is_declined_with_a_reason(web, here, other, admin):
    offer, _ = await offered_here(here, other)
    response, html = await post_all(admin, f"/handoffs/{offer}/decline", [("reason", "stolen"), ("note", "")])
    assert response.status == 422 and "a été refusé" in text_of(html)
    response, _ = await post_all(admin, f"/handoffs/{offer}/decline", [("reason", "no_room"), ("note", "Plein")])
    assert response.status == 303
    _, html = await admin.get(f"/handoffs/{offer}")
    text = text_of(html)
    assert "refusé" in text and "pas de place pour le stocker" in text and "Plein" in text
    _, html = await admin.get(f"/handoffs/{offer}/reception")
    assert "Seule une offre faite à ce nœud et acceptée se réceptionne ici" in text_of(html)
    assert 'name="received"' not in html
    await carry(here, other)
    async with other.store.reader() as db:
        assert (await handoffs.get_handoff(db, bytes.fromhex(offer))).state == "declined"


# --- the chain seen from the node that handed the lot over ------------------------------------------


async def test_the_lot_page_shows_its_hand_off_and_the_fates_reported_downstream(web, here, other, admin):
    await pin(here, other, "downstream", "member")
    await pin(other, here, "upstream", "hub")
    lot, ids, gids = await stock(here)
    async with here.store.transaction() as tx:
        record = await handoffs.create_offer(tx, handoffs.OfferInput(recipient=other.raw, lot_id=lot))
    await carry(here, other)
    async with other.store.transaction() as tx:
        await handoffs.answer_offer(tx, record.id, accept=True)
        await handoffs.record_receipt(tx, record.id, handoffs.ReceiptInput(
            received=gids[:3], missing=gids[3:], weight_g=6100))  # fmt: skip
    async with other.store.transaction() as tx:
        item = await tx.value("SELECT id FROM items WHERE gid = ?", (gids[0],))
        await move_items(tx, [item], "ready")
        await move_items(tx, [item], "distributed", fate={"beneficiary_category": "school"})
    await carry(other, here)
    _, html = await admin.get(f"/lots/{lot}")
    chain = text_of(html).split("Chaîne de garde", 1)[1].split("Documents", 1)[0]
    assert "Cessions de ce lot à d'autres nœuds" in chain and "reçu" in chain
    assert "Ressourcerie du Pays" in chain
    fates = chain.split("Devenir des matériels cédés", 1)[1]
    tag = await value(here, "SELECT asset_tag FROM items WHERE id = ?", (ids[0],))
    assert tag in fates and "distribué" in fates and "établissement scolaire" in fates
    assert await value(here, "SELECT state FROM items WHERE id = ?", (ids[3],)) == "received"  # missing: still here


# --- what a volunteer reads of an offer --------------------------------------------------------------

GID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
OFFER_WEIGHT = "poids des matériels proposés (somme de leurs poids)"


async def test_offered_items_are_named_by_label_model_and_serial_and_the_weight_says_what_it_is(
        web, here, other, admin):  # fmt: skip
    await pin(here, other, "downstream", "member")
    lot, ids, _ = await stock(here)
    tags = [await value(here, "SELECT asset_tag FROM items WHERE id = ?", (i,)) for i in ids]
    # the offer form: each line by its label (a link to the item), model and serial; the weight is the items'
    _, html = await admin.get(f"/handoffs/new?lot_id={lot}&to={other.key.public.node_id}")
    text = text_of(html)
    assert not GID.search(text), "no 36-character global id in the list"
    assert f'<a href="/items/{ids[0]}" class="asset-tag">{tags[0]}</a> · ordinateur portable · Dell Latitude 5490' in html
    assert "numéro de série SN-A1 · 2,0 kg" in text
    assert f"Poids 10,0 kg {OFFER_WEIGHT}" in text
    async with here.store.transaction() as tx:
        record = await handoffs.create_offer(tx, handoffs.OfferInput(recipient=other.raw, lot_id=lot))
    _, html = await admin.get(f"/handoffs/{record.id.hex()}")
    text = text_of(html)
    assert not GID.search(text) and f"{tags[3]} · écran" in text
    assert f"4 unité(s), 10,0 kg {OFFER_WEIGHT}" in text


async def test_the_receiver_reads_printed_labels_ticks_all_without_javascript_and_learns_the_lots_suffix(
        web, here, other, admin):  # fmt: skip
    offer, gids = await offered_here(here, other)
    printed = [await value(other, "SELECT asset_tag FROM items WHERE gid = ?", (g,)) for g in gids]
    _, html = await admin.get(f"/handoffs/{offer}")
    text = text_of(html)
    assert not GID.search(text) and f"{printed[0]} · ordinateur portable · Dell Latitude 5490" in text
    assert OFFER_WEIGHT in text
    await post_all(admin, f"/handoffs/{offer}/accept", [])
    _, html = await admin.get(f"/handoffs/{offer}/reception")
    text = text_of(html)
    assert OFFER_WEIGHT in text.split("1. Cocher", 1)[0] and not GID.search(text)
    # the table's « Arrivé » box is hidden on a phone; « Tout cocher » is a button: without JavaScript it posts
    assert '<button type="submit" name="action" id="tick-all-button"' in html and 'value="tick_all"' in html
    response, html = await post_all(admin, f"/handoffs/{offer}/summary",
                                    [("received", gids[1]), ("weight_kg", "3"), ("action", "tick_all")])  # fmt: skip
    assert response.status == 200 and "4 sur 4 coché(s)" in text_of(html) and 'id="summary"' not in html
    assert all(re.search(rf'value="{g}" id="rc-\d"[^>]*checked', html) for g in gids)
    assert 'value="untick_all"' in html and "Tout décocher" in text_of(html)
    response, html = await post_all(admin, f"/handoffs/{offer}/summary",
                                    [*(("received", g) for g in gids), ("action", "untick_all")])  # fmt: skip
    assert "0 sur 4 coché(s)" in text_of(html) and 'value="tick_all"' in html
    # received: the new lot says whom it came from and what the letters after its reference are
    response, html = await post_all(admin, f"/handoffs/{offer}/summary",
                                    [*(("received", g) for g in gids), ("weight_kg", "10"), ("action", "summary")])  # fmt: skip
    response, _ = await post_all(admin, f"/handoffs/{offer}/receipt", hidden_fields(html, f"/handoffs/{offer}/receipt"))
    assert response.status == 303
    lot_id = await value(here, "SELECT id FROM lots WHERE source = 'handoff'")
    suffix = other.key.public.node_id[:6]
    _, html = await admin.get(f"/lots/{lot_id}")
    assert f"Lot HUB-2026-04 ({suffix})" in text_of(html)
    assert (f"Reçu de Ressourcerie du Pays : son lot HUB-2026-04. « {suffix} » est le début de l'identifiant "
            "de ce nœud, ajouté pour que la référence reste unique ici.") in text_of(html)  # fmt: skip
