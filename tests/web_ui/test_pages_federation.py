"""The federation page: peers, outbox, alerts, invitations, joining a hub, nodes seen on the LAN.

Each node is real: its own data directory and SQLite file; the hub a member
joins is a second node's application served on loopback, with its
federation endpoints.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from aiohttp.test_utils import TestClient, TestServer
from webtools import PASSWORD, Browser

from federation.discovery import Found
from federation.engine import Federation
from node.config import Config, init_node
from node.domain import alerts, users
from node.errors import RuleBroken
from node.network import outbox
from node.network import peers as trust
from node.store.database import Store, now_ms
from protocol.errors import Reason
from protocol.keys import SigningKey, fingerprint
from protocol.kinds import LotDecline
from web_ui.app import make_app
from web_ui.pages.federation import reason_messages

SCRIPT = "<script>alert('peer')</script>"
LINE = re.compile(r"maillon join ([^\s<]+) --token ([^\s<]+) --fingerprint ([A-Z0-9-]+)")


async def open_node(root, name: str, role: str = "member") -> tuple:
    node = init_node(root / name.lower().replace(" ", "-"), Config(name=name, role=role))
    store = await Store.open(node.db_path, node.key, create=True)
    async with store.transaction() as tx:
        for user, user_role in (("admin", "admin"), ("tech", "technician"), ("reader", "read_only")):
            await users.create_user(tx, user, PASSWORD, user_role)
    return node, store


@pytest.fixture
async def hub(tmp_path):
    """A hub's application served on loopback (web interface and /fed/v1): (node, store, client, url)."""
    node, store = await open_node(tmp_path, "Ordi Grand Ouest", "hub")
    fed = Federation(node, store)
    await fed.ensure_descriptor()  # what /.well-known/maillon serves; no loops needed here
    async with TestClient(TestServer(make_app(node, store, fed), host="127.0.0.1")) as client:
        yield node, store, client, str(client.make_url("")).rstrip("/")
    await store.close()


async def logged_in(client, name: str = "admin") -> Browser:
    browser = Browser(client)
    await browser.login(name)
    return browser


async def value(store, sql: str, params=()):
    async with store.reader() as db:
        return await db.value(sql, params)


def text_of(html: str) -> str:
    """The page's main text, tags removed, entities decoded, spaces folded."""
    main = html.split("<main", 1)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", main)).split())


# --- what the page shows ---------------------------------------------------------------------------


async def test_peers_outbox_and_alerts_come_from_the_node(admin, web):
    _, store, _ = web
    hub_key, lan_key, gone_key = (SigningKey.generate().public.raw for _ in range(3))
    async with store.transaction() as tx:
        await trust.pin_peer(tx, hub_key, name="Ordi Grand Ouest", role="hub", relation="upstream",
                             url="https://hub.example.org", network="Grand Ouest")  # fmt: skip
        await trust.pin_peer(tx, lan_key, name=SCRIPT, role="member", relation="peer")
        await trust.mark_contact(tx, hub_key)
        await trust.mark_failure(tx, lan_key, "ClientConnectorError: connection refused")
        records = [await tx.append(LotDecline(offer=bytes(32), reason="test")) for _ in range(3)]
        await outbox.enqueue(tx, hub_key, [record.id for record in records])
        await alerts.raise_alert(tx, "fork", "fork", peer=hub_key, author=gone_key, seq=12,
                                detail="two records with seq 12")  # fmt: skip
        await alerts.raise_alert(tx, "refused_by_peer", "bad_signature", peer=lan_key, author=gone_key, seq=3)
        await alerts.raise_alert(tx, "refused", "a_future_reason", author=gone_key)
    response, html = await admin.get("/federation")
    assert response.status == 200
    text = text_of(html)
    # peers: relation in words, state, fingerprint, address or NAT, contact, queue, back-off
    assert "Ordi Grand Ouest" in text and "tête de réseau · réseau Grand Ouest" in text
    assert "en amont : ce nœud en est membre" in text and "pair : ajouté par un administrateur" in text
    assert fingerprint(hub_key) in text and fingerprint(lan_key) in text
    assert "https://hub.example.org" in text and "nous rejoint depuis derrière un NAT" in text
    assert "jamais" in text  # the LAN node was never heard from
    assert "3 enregistrement(s) en attente" in text
    assert "1 échec(s) de suite" in text and "prochaine tentative à" in text
    assert "ClientConnectorError: connection refused" in text
    # the script in a peer's name is text, never markup
    assert SCRIPT not in html and "&lt;script&gt;alert(&#39;peer&#39;)&lt;/script&gt;" in html
    assert SCRIPT in text
    # the outbox: who waits for what since when
    outbox_part = text.split("File d'envoi", 2)[2].split("Alertes", 1)[0]
    assert "Ordi Grand Ouest 3" in outbox_part
    # alerts: kind, reason in French with its code, author's fingerprint, seq
    assert "Fourche dans un journal" in text and "Enregistrement refusé par un pair" in text
    assert "la signature ne se vérifie pas" in text.lower() and "bad_signature" in text
    assert "a_future_reason" in text and "non expliquée par cette version" in text
    assert fingerprint(gone_key) in text and "enregistrement n° 12" in text
    assert "two records with seq 12" in text
    # a member node invites no one: no invitations section
    assert 'id="invitations-title"' not in html


async def test_a_node_that_moved_is_shown_and_one_that_claims_another_role_is_not_believed(admin, web):
    _, store, _ = web
    member = SigningKey.generate().public.raw
    async with store.transaction() as tx:
        await trust.pin_peer(tx, member, name="Atelier du Lien", role="member", relation="downstream",
                             url="https://atelier.example")  # fmt: skip
        # what a member's newer descriptor does (federation.effects): a move to another origin is taken
        await trust.update_peer_descriptor(tx, member, name="Atelier du Lien", role="member",
                                           url="https://nouveau.example:8443/", encryption_key=None, network=None)  # fmt: skip
    with pytest.raises(RuleBroken, match="cannot make it a national"):
        async with store.transaction() as tx:
            await trust.update_peer_descriptor(tx, member, name="Fédération", role="national",
                                               url="https://ailleurs.example", encryption_key=None, network=None)  # fmt: skip
    async with store.transaction() as tx:
        await alerts.raise_alert(tx, "refused_effect", "role_not_certified", author=member, seq=3,
                                detail="node.descriptor/1: pinned as a member")  # fmt: skip
    _, html = await admin.get("/federation")
    text = text_of(html)
    assert "Adresse d'un nœud modifiée" in text and "Le nœud a publié une nouvelle adresse" in text
    assert "https://atelier.example -> https://nouveau.example:8443" in text
    assert "Le rôle d'un nœud vient du certificat qui l'a admis" in text and "role_not_certified" in text
    async with store.reader() as db:
        peer = await trust.get_peer(db, member)
    assert (peer.role, peer.url, peer.name) == ("member", "https://nouveau.example:8443", "Atelier du Lien")


async def test_the_page_works_without_a_running_federation(admin):
    response, html = await admin.get("/federation")
    text = text_of(html)
    assert response.status == 200
    assert "La découverte du réseau local ne fonctionne pas dans ce processus." in text
    assert "Rejoindre une tête de réseau" in text  # a member may join from the page
    response, html = await admin.post("/federation/discovered", {"node_id": "x", "fingerprint": "AAAA-AAAA-AAAA-AAAA"})
    assert response.status == 422 and "Rien n'a été changé" in text_of(html)


def test_every_protocol_reason_is_explained_in_french():
    from web_ui.i18n import translator

    english = reason_messages(lambda text, **values: text)
    french = reason_messages(translator("fr"))
    for reason in Reason:
        assert reason.value in english, f"explain {reason.value} in web_ui/pages/federation.py"
    assert all(french[code] != english[code] for code in english)


# --- invitations ------------------------------------------------------------------------------------


async def test_a_hub_admin_makes_an_invitation_that_works_once(hub):
    node, store, client, _ = hub
    admin = await logged_in(client)
    response, html = await admin.post("/federation/invitations", {"role": "member", "note": "Atelier <b>du Lien</b>",
                                                                  "days": "7"})  # fmt: skip
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    url, token, shown_fingerprint = LINE.search(unescape(html)).groups()
    assert shown_fingerprint == node.key.public.fingerprint and url.startswith("http://")
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'class="qr"' in html
    assert "<title>Code QR de l&#39;invitation</title>" in html or "<title>Code QR de l'invitation</title>" in html
    assert "adresse de bouclage" in text_of(html)  # no url in node.toml, listening on loopback: say so
    # the token is shown once: not on the page afterwards, not stored in clear
    _, html = await admin.get("/federation")
    assert token not in html and "Atelier <b>du Lien</b>" in text_of(html) and "pas encore utilisée" in text_of(html)
    assert await value(store, "SELECT count(*) FROM invitations WHERE instr(sha256, ?) > 0", (token.encode(),)) == 0
    member, other = SigningKey.generate().public.raw, SigningKey.generate().public.raw
    async with store.transaction() as tx:
        used = await trust.use_invitation(tx, token, member)
        await trust.pin_peer(tx, member, name="Atelier du Lien", role="member", relation="downstream")
    assert used.role == "member"
    with pytest.raises(RuleBroken, match="already used"):
        async with store.transaction() as tx:
            await trust.use_invitation(tx, token, other)
    _, html = await admin.get("/federation")
    assert "utilisée le" in text_of(html) and "par Atelier du Lien" in text_of(html)


async def test_a_refused_invitation_makes_nothing(hub, admin, web):
    _, store, client, _ = hub
    hub_admin = await logged_in(client)
    response, html = await hub_admin.post("/federation/invitations", {"role": "member", "note": "", "days": "365"})
    assert response.status == 422 and "de 1 à 90 jours" in text_of(html) and "--token" not in html
    assert await value(store, "SELECT count(*) FROM invitations") == 0
    member_store = web[1]
    response, html = await admin.post("/federation/invitations", {"role": "member", "note": "", "days": "7"})
    assert response.status == 422 and "seule une tête de réseau" in text_of(html)
    assert await value(member_store, "SELECT count(*) FROM invitations") == 0


async def test_an_invitation_may_say_since_when_the_node_is_a_member(hub):
    _, store, client, _ = hub
    admin = await logged_in(client)
    for day in ("2999-01-01", "1 janvier"):  # in the future; not a day
        response, html = await admin.post("/federation/invitations", {"role": "member", "days": "7", "member_since": day})
        assert response.status == 422 and "pas dans le futur" in text_of(html) and "--token" not in html
    assert await value(store, "SELECT count(*) FROM invitations") == 0
    response, html = await admin.post("/federation/invitations", {"role": "member", "days": "7",
                                                                  "member_since": "2025-01-01"})  # fmt: skip
    assert response.status == 200 and "--token" in html
    # midnight in Paris on 1 January 2025
    assert await value(store, "SELECT member_since FROM invitations") == 1_735_686_000_000


# --- joining a hub ----------------------------------------------------------------------------------


async def test_a_member_joins_a_hub_only_with_its_fingerprint(hub, admin, web):
    hub_node, hub_store, hub_client, hub_url = hub
    member_node, member_store, _ = web
    async with member_store.transaction() as tx:
        await tx.append(LotDecline(offer=bytes(32), reason="test"))
    hub_admin = await logged_in(hub_client)
    _, html = await hub_admin.post("/federation/invitations", {"role": "member", "note": "Atelier", "days": "7"})
    _, token, _ = LINE.search(unescape(html)).groups()
    wrong = "AAAA-BBBB-CCCC-DDDD"
    response, html = await admin.post("/federation/join", {"url": hub_url, "token": token, "fingerprint": wrong})
    text = text_of(html)
    assert response.status == 422
    assert "Rien n'a été changé : ce nœud n'a pas rejoint de réseau." in text
    assert "n'a pas l'empreinte donnée" in text and "fingerprint mismatch" in text
    assert f'value="{hub_url}"' in html  # what was typed stays, to correct it
    for store in (member_store, hub_store):
        assert await value(store, "SELECT count(*) FROM peers") == 0
    assert await value(hub_store, "SELECT count(*) FROM invitations WHERE used IS NOT NULL") == 0
    # the invitation line pasted whole, with the fingerprint read aloud typed in lower case
    line = f"maillon join {hub_url} --token {token} --fingerprint {hub_node.key.public.fingerprint}"
    response, html = await admin.post("/federation/join", {"url": line, "token": "", "fingerprint": ""},
                                      allow_redirects=False)  # fmt: skip
    assert response.status == 303, text_of(html)
    assert response.headers["Location"].startswith("/federation?done=joined")
    async with member_store.reader() as db:
        pinned = await trust.get_peer(db, hub_node.key.public.raw)
    assert pinned is not None and pinned.relation == "upstream" and pinned.url == hub_url
    async with hub_store.reader() as db:
        member = await trust.get_peer(db, member_node.key.public.raw)
    assert member is not None and member.relation == "downstream" and member.url is None
    _, html = await admin.get("/federation?done=joined")
    text = text_of(html)
    assert "Ce nœud a rejoint le réseau" in text and "Ordi Grand Ouest" in text
    assert "Ce nœud est déjà membre de : Ordi Grand Ouest." in text
    assert await value(member_store, "SELECT count(*) FROM outbox") == 1  # its whole log waits for the hub
    # a token the hub never gave is refused by the hub, and the page says why
    response, html = await admin.post("/federation/join", {"url": hub_url, "token": "not-a-token",
                                                           "fingerprint": hub_node.key.public.fingerprint.lower()})  # fmt: skip
    assert response.status == 422 and "L'invitation est inconnue, déjà utilisée" in text_of(html)
    assert "bad_invitation" in text_of(html)
    assert await value(member_store, "SELECT count(*) FROM peers") == 1
    # the audit log names the join that changed something
    assert await value(member_store, "SELECT count(*) FROM audit WHERE action = 'POST /federation/join'") == 1


async def test_a_join_that_cannot_reach_the_address_says_so(admin, web):
    _, store, _ = web
    cases = [("http://127.0.0.1:9", "AAAA-BBBB-CCCC-DDDD", "n'a pas pu être joint"),
             ("ftp://hub.example.org", "AAAA-BBBB-CCCC-DDDD", "est http:// ou https://, un hôte"),
             ("http://127.0.0.1:9", "AAAA", "16 lettres et chiffres en 4 groupes")]  # fmt: skip
    for url, fp, message in cases:
        response, html = await admin.post("/federation/join", {"url": url, "token": "t", "fingerprint": fp})
        assert response.status == 422 and message in text_of(html), url
    assert await value(store, "SELECT count(*) FROM peers") == 0


# --- nodes seen on the local network ----------------------------------------------------------------


async def test_a_discovered_node_is_added_only_with_the_fingerprint_read_aloud(hub, tmp_path):
    hub_node, hub_store, _, hub_url = hub
    node, store = await open_node(tmp_path, "Atelier Solidaire")
    fed = Federation(node, store)  # not started: the test plays discovery's part
    async with TestClient(TestServer(make_app(node, store, fed))) as client:
        admin = await logged_in(client)
        hub_public = hub_node.key.public
        fed._on_found(Found(node_id=hub_public.node_id, fingerprint=hub_public.fingerprint,
                            name="Ordi <i>Grand</i> Ouest", role="hub", url=hub_url))  # fmt: skip
        _, html = await admin.get("/federation")
        text = text_of(html)
        assert "Ajouter ce nœud ?" in text and "Ordi <i>Grand</i> Ouest" in text and hub_url in text
        assert hub_public.fingerprint in text
        response, html = await admin.post("/federation/discovered", {"node_id": hub_public.node_id,
                                                                     "fingerprint": "AAAA-BBBB-CCCC-DDDD"})  # fmt: skip
        assert response.status == 422 and "n'a pas l'empreinte donnée" in text_of(html)
        assert await value(store, "SELECT count(*) FROM peers") == 0
        response, html = await admin.post("/federation/discovered", {"node_id": hub_public.node_id,
                                                                     "fingerprint": hub_public.fingerprint.lower()},
                                          allow_redirects=False)  # fmt: skip
        assert response.status == 303, text_of(html)
        async with store.reader() as db:
            peer = await trust.get_peer(db, hub_public.raw)
        assert peer is not None and peer.relation == "peer" and peer.url == hub_url
        assert peer.name == "Ordi Grand Ouest"  # from its signed descriptor, not from the announcement
        _, html = await admin.get("/federation?done=added")
        text = text_of(html)
        assert "Le nœud est désormais reconnu comme pair." in text and "Ajouter ce nœud ?" not in text
        response, html = await admin.post("/federation/discovered", {"node_id": "GONE", "fingerprint": "x"})
        assert response.status == 422 and "n'est plus vu sur le réseau local" in text_of(html)
    await fed.stop()
    await store.close()


# --- who may do what --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "refusal"), [("reader", "lecture seule"), ("tech", "Votre rôle ne permet pas")])
async def test_only_admins_post(hub, name, refusal):
    _, store, client, hub_url = hub
    browser = await logged_in(client, name)
    _, html = await browser.get("/federation")
    assert 'action="/federation/' not in html  # no form offered
    forms = [("/federation/invitations", {"role": "member", "note": "", "days": "7"}),
             ("/federation/join", {"url": hub_url, "token": "t", "fingerprint": "AAAA-BBBB-CCCC-DDDD"}),
             ("/federation/discovered", {"node_id": "x", "fingerprint": "AAAA-BBBB-CCCC-DDDD"})]  # fmt: skip
    for path, form in forms:
        response, html = await browser.post(path, form)
        assert response.status == 403 and refusal in unescape(html), path
    assert await value(store, "SELECT count(*) FROM invitations") == 0
    assert await value(store, "SELECT count(*) FROM peers") == 0


async def test_a_post_without_the_csrf_token_changes_nothing(hub):
    _, store, client, _ = hub
    admin = await logged_in(client)
    response, _ = await admin.post("/federation/invitations", {"role": "member", "note": "", "days": "7"}, csrf=False)
    assert response.status == 403
    assert await value(store, "SELECT count(*) FROM invitations") == 0


async def test_old_invitations_read_as_expired(hub):
    _, store, client, _ = hub
    async with store.transaction() as tx:
        await trust.create_invitation(tx, note="Ressourcerie", days=1)
        await tx.run("UPDATE invitations SET expires = ?", (now_ms() - 1000,))
    reader = await logged_in(client, "reader")
    _, html = await reader.get("/federation")
    assert "Ressourcerie" in text_of(html) and "expirée le" in text_of(html) and "inutilisée" in text_of(html)


async def test_the_reports_this_node_signed_say_who_reads_them_and_whether_the_hub_holds_them(admin, web):
    from node.network.transparency import record_inclusion
    from protocol.kinds import StatsReport

    _, store, _ = web
    _, html = await admin.get("/federation")
    assert "Aucun signé pour l'instant" in text_of(html) and 'href="/reports/network"' in html
    hub = SigningKey.generate().public.raw
    async with store.transaction() as tx:
        first = await tx.append(StatsReport(period="2026-09", version=1, figures={"received.laptop.units": 3}),
                                (hub, tx.author))  # fmt: skip
        await tx.append(StatsReport(period="2026-10", version=1, figures={}))
        await record_inclusion(tx, first.id, checkpoint_seq=7, tree_size=40, leaf_index=12)
    _, html = await admin.get("/federation")
    text = text_of(html)
    assert "septembre 2026 1" in text and "2 nœud(s)" in text and "inclus au point de contrôle 7" in text
    assert "octobre 2026 1" in text and "tout le monde" in text and "pas encore prouvé" in text


async def test_a_silent_member_and_an_unreachable_peer_are_alerts_on_the_hubs_page(hub):
    from node.network.silence import check_silence
    from node.store.database import clock_at
    from protocol.kinds import MembershipCertificate

    _, store, client, _ = hub
    member = SigningKey.from_seed(b"m" * 32).public.raw
    day = 86_400_000
    with clock_at(now_ms() - 60 * day):  # admitted two months ago; it never reported, nor called since
        async with store.transaction() as tx:
            await trust.pin_peer(tx, member, name="Atelier Muet", role="member", relation="downstream")
            await tx.append(MembershipCertificate(member=member, member_name="Atelier Muet", role="member",
                                                  network="Ordi Grand Ouest", valid_from=now_ms(),
                                                  valid_until=now_ms() + 366 * day))  # fmt: skip
    async with store.transaction() as tx:
        await check_silence(tx)
    admin = await logged_in(client)
    _, html = await admin.get("/federation")
    text = text_of(html)
    assert text.count("Un nœud est silencieux") == 2
    assert "Cet adhérent n'a envoyé aucun rapport statistique depuis plus longtemps que sa période" in text
    assert "member_silent" in text and "peer_unreachable" in text and "Atelier Muet" in text


async def invitation_text(root, url: str) -> str:
    """The page's text after a hub at public address ``url`` made an invitation."""
    node = init_node(root, Config(name="Ordi Grand Ouest", role="hub", url=url))
    store = await Store.open(node.db_path, node.key, create=True)
    async with store.transaction() as tx:
        await users.create_user(tx, "admin", PASSWORD, "admin")
    try:
        async with TestClient(TestServer(make_app(node, store), host="127.0.0.1")) as client:
            admin = await logged_in(client)
            _, html = await admin.post("/federation/invitations", {"role": "member", "note": "Atelier", "days": "7"})
            return text_of(html)
    finally:
        await store.close()


async def test_an_invitation_naming_a_loopback_address_says_no_other_node_can_reach_it(tmp_path):
    text = await invitation_text(tmp_path / "demo", "http://127.0.0.1:18601")  # as `maillon demo` sets it
    assert "maillon join http://127.0.0.1:18601 --token" in text
    assert "http://127.0.0.1:18601 est une adresse de bouclage : aucun autre nœud ne peut la joindre." in text
    assert "url dans node.toml" in text and "--host" in text
    text = await invitation_text(tmp_path / "real", "https://ordi.example.org")  # a real address: no warning
    assert "adresse de bouclage" not in text and "n'a pas d'adresse publique" not in text


async def test_published_reports_name_their_period_in_french(admin, web):
    from protocol.kinds import StatsReport

    _, store, _ = web
    async with store.transaction() as tx:
        await tx.append(StatsReport(period="2026-09", version=1, figures={}))
        await tx.append(StatsReport(period="2025", version=1, figures={}))
    _, html = await admin.get("/federation")
    text = text_of(html).split("Rapports publiés", 1)[1]
    assert "septembre 2026 1" in text and "2025 1" in text and "2026-09" not in text
    assert 'href="/reports/network?period=2026-09"' in html


async def test_a_hubs_published_reports_are_proved_in_nationals_log_and_national_publishes_none(tmp_path):
    from node.network.transparency import record_inclusion
    from protocol.kinds import StatsReport

    node, store = await open_node(tmp_path / "hub", "Ordi Grand Ouest", "hub")
    async with store.transaction() as tx:
        record = await tx.append(StatsReport(period="2026-09", version=1, figures={"received.laptop.units": 3}))
        await record_inclusion(tx, record.id, checkpoint_seq=7, tree_size=40, leaf_index=12)
    async with TestClient(TestServer(make_app(node, store))) as client:
        _, html = await (await logged_in(client)).get("/federation")
    await store.close()
    text = text_of(html)
    assert "Dans le journal de la fédération nationale" in text and "journal de la tête de réseau" not in text
    assert "Rapports publiés" in text and "inclus au point de contrôle 7" in text

    node, store = await open_node(tmp_path / "national", "Fédération nationale", "national")
    async with TestClient(TestServer(make_app(node, store))) as client:
        _, html = await (await logged_in(client)).get("/federation")
    await store.close()
    text = text_of(html)
    assert "Rapports publiés" not in text and "Envoyer un rapport au réseau" not in text
    assert "Chiffres nationaux" in text and 'href="/national"' in html.split("<main", 1)[1]
