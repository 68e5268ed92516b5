"""Home pages and menus by the node's role, on real SQLite files.

A member's home is its workshop (the dashboard, with Scan, Distribute and
Recycle first); a hub's is its network (members and their last report, the
hand-offs under way); national's is the national figures. Each role's menu
lists what that role uses, and only what the account may do.
"""

from __future__ import annotations

import re
from html import unescape

from aiohttp.test_utils import TestClient, TestServer
from test_pages_network import ANNE, MARCH, as_user, hub, nation, open_node, text_of  # noqa: F401 (fixtures)

from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.network import handoffs, peers
from protocol.seal import encryption_key
from web_ui.app import make_app

MEMBER_MENU = ["Accueil", "Scanner", "Atelier", "Distribuer", "Recycler", "Matériels", "Lots", "Donateurs",
               "Bénéficiaires", "Effacement", "Poste d’atelier", "Étiquettes", "Rapports", "Cessions", "Fédération",
               "Réglages"]  # fmt: skip


def menu(html: str) -> list[str]:
    nav = html.split('<div class="menu', 1)[1].split("</nav>", 1)[0]
    return [unescape(label) for label in re.findall(r"<li><a href=\"[^\"]+\"[^>]*>([^<]+)</a></li>", nav)]


def current(html: str) -> list[str]:
    nav = html.split('<div class="menu', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)" aria-current="page">', nav)


async def test_a_members_home_is_its_workshop_with_everyday_actions_first(web, admin):
    _, _, client = web
    response, html = await admin.get("/")
    assert response.status == 200 and "Tableau de bord" in html and "À l'atelier en ce moment" in text_of(html)
    assert menu(html) == MEMBER_MENU and current(html) == ["/"]
    quick = html.split('class="quick-actions"', 1)[1].split("</nav>", 1)[0]
    assert all(f'href="{path}"' in quick for path in ("/scan", "/workshop", "/distribute", "/recycle"))
    response, html = await admin.get("/distribute")
    assert current(html) == ["/distribute"]
    response, html = await admin.get("/dashboard")
    assert response.status == 200 and "À l'atelier en ce moment" in text_of(html)

    reader = await as_user(client, "reader")
    _, html = await reader.get("/")
    assert menu(html) == [e for e in MEMBER_MENU if e not in ("Distribuer", "Recycler", "Poste d’atelier",
                                                                "Réglages")]  # fmt: skip
    assert 'class="quick-actions"' not in html  # nothing to record


async def test_a_hubs_home_is_its_network(hub, monkeypatch):
    import web_ui.pages.home as home

    monkeypatch.setattr(home, "default_period", lambda: MARCH)
    node, store, client = hub
    async with store.transaction() as tx:  # a lot offered to Anne, waiting for her answer
        await peers.pin_peer(tx, ANNE.public.raw, name="Anne", role="member", relation="downstream",
                             encryption_key=encryption_key(ANNE))  # fmt: skip
        lot = await create_lot(tx, LotInput(reference="REGION-2024-07", declared_units=2))
        await create_items(tx, lot, [ItemInput(category="screen", storage="none", weight_g=4000)] * 2)
        await handoffs.create_offer(tx, handoffs.OfferInput(recipient=ANNE.public.raw, lot_id=lot))
    admin = await as_user(client)
    response, html = await admin.get("/")
    assert response.status == 200
    text = text_of(html)
    assert "1 structure(s) membre(s) sur 2 n'ont pas envoyé leur rapport de mars 2024" in text
    members = text.split("Structures membres (2)", 1)[1].split("Silences", 1)[0]
    assert members.index("Bert") < members.index("Anne")  # the missing first
    assert "Bert" in members and "manquant" in members and "reçu le 10/04/2024" in members
    pending = text.split("Cessions en cours", 1)[1]
    assert "REGION-2024-07 proposée par ce nœud Anne 2 en attente de réponse" in pending
    assert menu(html)[:3] == ["Accueil", "Réseau", "Cessions"]
    assert "Scanner" in menu(html) and "Distribuer" in menu(html) and "Recycler" in menu(html)
    assert "Bénéficiaires" not in menu(html) and "Chiffres nationaux" not in menu(html)
    assert 'href="/dashboard"' in html  # its own workshop stays reachable


async def test_nationals_home_is_the_national_figures(nation):
    _, _, client = nation
    admin = await as_user(client)
    response, html = await admin.get("/")
    assert response.status == 200
    text = text_of(html)
    assert "Chiffres nationaux mars 2024" in text
    assert "Le journal de Ordi3 a été réécrit" in text and 'role="alert"' in html
    hubs = text.split("Têtes de réseau (2)", 1)[1]
    assert "Ordi Test · Ordi Test mars 2024 vérifié" in hubs and "Ordi3 · Ordi3 mars 2024 incohérent" in hubs
    assert menu(html) == ["Accueil", "Chiffres nationaux", "Fédération", "Réglages"]
    response, html = await admin.get("/national")
    assert current(html) == ["/national"]


async def test_a_hub_without_members_says_how_to_invite_one(tmp_path):
    node, store = await open_node(tmp_path, "Ordi Neuf", "hub")
    try:
        async with TestClient(TestServer(make_app(node, store))) as client:
            admin = await as_user(client)
            response, html = await admin.get("/")
            assert response.status == 200 and "n'a encore admis aucune structure membre" in text_of(html)
            assert "Aucune cession en attente" in text_of(html)
    finally:
        await store.close()
