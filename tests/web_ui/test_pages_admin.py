"""Dashboard, settings (steps, impact, publication, accounts, backup, audit) and federation pages."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from html import unescape

import pytest
from webtools import PASSWORD, Browser

import node.domain.items
from node.domain import users, workflow
from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, recycle
from node.domain.items import ItemInput, create_items
from node.domain.settings import get_setting, set_setting
from node.domain.stats import DAY_MS
from node.domain.workflow import StepInput, record_step
from node.errors import Invalid
from node.store.database import now_ms
from node.validation import parse

REFUSED_ROLE = "Votre rôle ne permet pas cette action."
ADMIN_PAGES = ["/", "/settings", "/settings/users", "/settings/audit", "/federation"]


async def browser_for(client, name: str) -> Browser:
    browser = Browser(client)
    await browser.login(name)
    return browser


async def user_id(store, name: str) -> int:
    async with store.reader() as db:
        return await db.value("SELECT id FROM users WHERE username = ?", (name,))


async def count(store, sql: str, params=()) -> int:
    async with store.reader() as db:
        return await db.value(sql, params)


# --- every page, every role ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_every_page_renders_in_french_for_an_admin(admin, path):
    response, text = await admin.get(path)
    assert response.status == 200, text
    assert '<html lang="fr">' in text and "<script>" not in text


async def test_the_account_page_renders(admin, web):
    _, store, _ = web
    response, text = await admin.get(f"/settings/users/{await user_id(store, 'tech')}")
    assert response.status == 200 and "Compte tech" in text and "technicien" in text
    response, text = await admin.get("/settings/users/999999")
    assert response.status == 404 and "Ce compte n'existe pas." in unescape(text)


@pytest.mark.parametrize("name", ["tech", "reader"])
async def test_settings_are_refused_to_technicians_and_readers(web, name):
    _, store, client = web
    browser = await browser_for(client, name)
    tech_id = await user_id(store, "tech")
    paths = ["/settings", "/settings/users", f"/settings/users/{tech_id}", "/settings/audit",
             "/settings/backup"]  # fmt: skip
    for path in paths:
        response, text = await browser.get(path)
        assert response.status == 403, path
        assert REFUSED_ROLE in text or "lecture seule" in text
    _, text = await browser.get("/")
    assert 'href="/settings"' not in text  # no way in from the menu either
    for path, form in [("/settings/steps", {"name": "Banc", "state": "tested"}),
                       ("/settings/general", {"years_of_second_life": "5"}),
                       ("/settings/publication", dict.fromkeys(("stats", "fates", "workforce"), "public")),
                       ("/settings/users", {"username": "intrus", "password": PASSWORD, "password2": PASSWORD,
                                            "role": "admin"}),
                       (f"/settings/users/{tech_id}/role", {"role": "admin"}),
                       (f"/settings/users/{tech_id}/disable", {})]:  # fmt: skip
        response, text = await browser.post(path, form)
        assert response.status == 403, path
    assert await count(store, "SELECT count(*) FROM steps") == 0
    assert await count(store, "SELECT count(*) FROM settings") == 0
    assert await count(store, "SELECT count(*) FROM users") == 3
    assert await count(store, "SELECT count(*) FROM users WHERE role = 'admin'") == 1


async def test_a_reader_sees_the_federation_page_without_admin_links(web):
    _, _, client = web
    reader = await browser_for(client, "reader")
    response, text = await reader.get("/federation")
    assert response.status == 200 and "Pairs (nœuds connus)" in text
    assert "/settings#publication" not in text and "<button" not in text.split("<main", 1)[1]


# --- steps ----------------------------------------------------------------------------------------


async def test_an_admin_names_the_association_s_steps(admin, web):
    _, store, _ = web
    response, text = await admin.post("/settings/steps", {"name": "Banc de test", "state": "tested"})
    assert response.status == 200 and "Banc de test" in text
    assert "Le nom d'étape est enregistré." in unescape(text)
    response, text = await admin.post("/settings/steps", {"name": "Banc de test", "state": "refurbished"})
    async with store.reader() as db:
        assert await workflow.steps(db) == {"Banc de test": "refurbished"}


@pytest.mark.parametrize("form", [{"name": "", "state": "tested"}, {"name": "x" * 61, "state": "tested"},
                                  {"name": "Vol", "state": "distributed"}, {"name": "Vol"}])  # fmt: skip
async def test_a_wrong_step_is_refused_in_french_and_changes_nothing(admin, web, form):
    _, store, _ = web
    response, text = await admin.post("/settings/steps", form)
    assert response.status == 422
    assert "Ce nom d'étape n'a pas été enregistré" in unescape(text)
    assert await count(store, "SELECT count(*) FROM steps") == 0


async def test_user_input_is_shown_as_text(admin):
    script = "<script>alert(1)</script>"
    response, text = await admin.post("/settings/steps", {"name": script, "state": "tested"})
    assert response.status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert(1)" not in text
    form = {"username": "<script>x</script>", "password": PASSWORD, "password2": PASSWORD,
            "role": "technician"}  # fmt: skip
    response, text = await admin.post("/settings/users", form)
    assert response.status == 422 and "&lt;script&gt;x&lt;/script&gt;" in text and "<script>x" not in text


# --- impact, labels, retention, publication -------------------------------------------------------


GENERAL = {"years_of_second_life": "5", "impact_factors": "ademe-2022", "asset_prefix": "EMM",
           "beneficiary_retention_days": "730"}  # fmt: skip


async def test_the_general_settings_are_saved(admin, web):
    _, store, _ = web
    _, text = await admin.get("/settings")
    assert "ADEME 2022" in text and "27,0 kg" in text and "127,0 kg" in text  # the table's factors and source
    response, text = await admin.post("/settings/general", GENERAL)
    assert response.status == 200 and "Les réglages sont enregistrés." in text
    async with store.reader() as db:
        assert [await get_setting(db, n) for n in GENERAL] == [5, "ademe-2022", "EMM", 730]
    assert 'value="EMM"' in text and 'value="5"' in text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("years_of_second_life", "0", "Années de seconde vie : un nombre entier de 1 à 15."),
    ("years_of_second_life", "trois", "Années de seconde vie"),
    ("years_of_second_life", "16", "Années de seconde vie"),
    ("beneficiary_retention_days", "99999", "Durée de conservation"),
    ("impact_factors", "ademe-1999", "Choisissez l'une des tables"),
    ("asset_prefix", "", "Le préfixe des numéros d'inventaire"),
    ("asset_prefix", "A B", "Le préfixe des numéros d'inventaire"),
])  # fmt: skip
async def test_a_wrong_setting_is_refused_and_nothing_changes(admin, web, field, value, message):
    _, store, _ = web
    response, text = await admin.post("/settings/general", GENERAL | {field: value})
    assert response.status == 422 and message in unescape(text) and "Rien n'a été modifié" in unescape(text)
    assert await count(store, "SELECT count(*) FROM settings") == 0  # not even the good fields
    if value:
        assert f'value="{value}"' in text or f'<option value="{value}"' not in text  # what was typed is shown


async def test_the_publication_policy(admin, web):
    _, store, _ = web
    _, text = await admin.get("/settings")
    assert 'name="stats" value="hub" checked' in text and 'name="workforce" value="none" checked' in text
    policy = {"stats": "public", "fates": "network", "workforce": "hub"}
    response, text = await admin.post("/settings/publication", policy)
    assert response.status == 200 and "La politique de publication est enregistrée." in text
    async with store.reader() as db:
        assert json.loads(await get_setting(db, "publication_policy")) == policy
    assert 'name="stats" value="public" checked' in text
    response, text = await admin.post("/settings/publication", {"stats": "everyone", "fates": "hub"})
    assert response.status == 422 and "choisissez un destinataire" in text
    async with store.reader() as db:
        assert json.loads(await get_setting(db, "publication_policy")) == policy


# --- accounts -------------------------------------------------------------------------------------


async def test_an_admin_creates_changes_and_disables_an_account(admin, web):
    _, store, client = web
    form = {"username": "marie", "password": "un mot de passe long", "password2": "un mot de passe long",
            "role": "read_only"}  # fmt: skip
    response, text = await admin.post("/settings/users", form)
    assert response.status == 200 and "Le compte est créé." in text
    assert re.search(r"marie</a>.*?</th>\s*<td>lecture seule</td>", text, re.S)
    marie = await user_id(store, "marie")
    async with store.transaction() as tx:  # marie is logged in somewhere
        marie_session = await users.open_session(tx, await users.get_user(tx, marie))

    response, text = await admin.post(f"/settings/users/{marie}/role", {"role": "technician"})
    assert response.status == 200 and "Le rôle est modifié." in text
    new = {"password": "encore plus long", "password2": "encore plus long"}
    response, text = await admin.post(f"/settings/users/{marie}/password", new)
    assert response.status == 200 and "Le mot de passe est modifié" in text
    async with store.reader() as db:
        assert await users.session_of(db, marie_session) is None  # her open session was closed
        assert await users.authenticate(db, "marie", "encore plus long") is not None
        assert (await users.get_user(db, marie)).role == "technician"

    response, text = await admin.post(f"/settings/users/{marie}/disable")
    assert response.status == 200 and "Le compte est désactivé" in text
    assert "personne ne peut s'y connecter" in unescape(text)
    async with store.reader() as db:
        assert await users.authenticate(db, "marie", "encore plus long") is None
    response, text = await admin.post(f"/settings/users/{marie}/disable")
    assert response.status == 422 and "déjà désactivé" in text and "Refusé" in text


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"username": "tech"}, 409, "Refusé : un compte porte déjà ce nom."),
    ({"password": "court", "password2": "court"}, 422, "au moins 10 caractères"),
    ({"password2": "autre chose encore"}, 422, "Les deux mots de passe diffèrent."),
    ({"username": "a"}, 422, "un nom d'utilisateur compte 2 à 60"),
    ({"role": "superuser"}, 422, "Refusé : la modification n'a pas été faite."),
])  # fmt: skip
async def test_a_wrong_account_is_refused_in_french(admin, web, form, status, message):
    _, store, _ = web
    good = {"username": "paul", "password": PASSWORD, "password2": PASSWORD, "role": "technician"}
    response, text = await admin.post("/settings/users", good | form)
    assert response.status == status and message in unescape(text)
    assert await count(store, "SELECT count(*) FROM users") == 3


async def test_the_last_admin_is_protected(admin, web):
    _, store, _ = web
    me = await user_id(store, "admin")
    response, text = await admin.post(f"/settings/users/{me}/disable")
    assert response.status == 409 and "au moins un administrateur actif" in text
    response, text = await admin.post(f"/settings/users/{me}/role", {"role": "technician"})
    assert response.status == 409 and "au moins un administrateur actif" in text
    async with store.reader() as db:
        account = await users.get_user(db, me)
    assert account.role == "admin" and account.disabled is None
    short = {"password": "court", "password2": "court"}
    response, text = await admin.post(f"/settings/users/{me}/password", short)
    assert response.status == 422 and "au moins 10 caractères" in text
    async with store.reader() as db:
        assert await users.authenticate(db, "admin", PASSWORD) is not None


# --- backup ---------------------------------------------------------------------------------------


async def test_the_backup_download_is_a_sound_sqlite_database(admin, web, tmp_path):
    node, store, _ = web
    async with store.transaction() as tx:
        await workflow.define_step(tx, "Banc", "tested")
    response = await admin.client.get("/settings/backup")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.sqlite3"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="maillon-backup-\d{4}-\d{2}-\d{2}-\d{4}\.db"', disposition)
    path = tmp_path / "downloaded.db"
    path.write_bytes(await response.read())
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert {r[0] for r in db.execute("SELECT username FROM users")} == {"admin", "tech", "reader"}
        assert db.execute("SELECT name, state FROM steps").fetchall() == [("Banc", "tested")]
    for _ in range(200):  # the handler deletes its copy once the last byte is sent, maybe after the client read it
        if not list(node.data_dir.glob("backup-*")):
            break
        await asyncio.sleep(0.05)
    assert not list(node.data_dir.glob("backup-*"))  # the temporary copy is gone
    async with store.reader() as db:
        assert (await users.audit_log(db, limit=1))[0]["action"] == "backup download"


# --- audit log ------------------------------------------------------------------------------------


async def test_the_audit_log_shows_the_actions_in_french(admin, web):
    _, store, _ = web
    await admin.post("/settings/steps", {"name": "Banc", "state": "tested"})
    await admin.post("/settings/users", {"username": "marie", "password": PASSWORD, "password2": PASSWORD,
                                         "role": "technician"})  # fmt: skip
    response, text = await admin.get("/settings/audit")
    assert response.status == 200
    assert "a créé un compte" in text and "marie" in text and "technician" in text
    assert "a modifié des réglages" in text and "Banc=tested" in text
    assert "s'est connecté" in unescape(text)
    assert re.search(r"<td>\d{2}/\d{2}/\d{4} \d{2}:\d{2}</td>", text)  # French dates
    assert "Page suivante" not in text

    async with store.transaction() as tx:
        actor = await users.get_user(tx, await user_id(store, "admin"))
        for n in range(60):
            await users.audit(tx, actor, "login", detail=f"entry {n}")
    _, first = await admin.get("/settings/audit")
    assert "entry 59" in first and "entry 0<" not in first and "Page suivante" in first and "Page 1 / 2" in first
    response, second = await admin.get("/settings/audit?page=2")
    assert response.status == 200 and "Page précédente" in second and "Page 2 / 2" in second and "entry 5<" in second
    response, _ = await admin.get("/settings/audit?page=abc")
    assert response.status == 200


# --- dashboard ------------------------------------------------------------------------------------


async def test_the_dashboard_figures(admin, web, monkeypatch):
    _, store, _ = web
    laptop = parse(ItemInput, {"category": "laptop", "storage": "none"})  # 2.2 kg by default
    long_ago = now_ms() - 200 * DAY_MS
    monkeypatch.setattr(node.domain.items, "now_ms", lambda: long_ago)
    async with store.transaction() as tx:
        (old,) = await create_items(tx, None, [laptop])  # waiting since 200 days
    monkeypatch.undo()
    async with store.transaction() as tx:
        ids = await create_items(tx, None, [laptop] * 5)
        await record_step(tx, ids[:3], parse(StepInput, {"state": "sorted", "orientation": "refurbish"}))
        await record_step(tx, ids[:3], parse(StepInput, {"state": "ready"}))
        beneficiary = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "person"}))
        await distribute(tx, ids[:2], parse(DistributionInput, {"beneficiary_id": beneficiary}))
        await recycle(tx, parse(OutflowInput, {"item_ids": [ids[3]], "recipient": "Ecologic",
                                               "waste_code": "16 02 14", "treatment": "R4"}))  # fmt: skip
    response, text = await admin.get("/")
    assert response.status == 200
    stock = dict(re.findall(r'href="/items\?state=(\w+)">.*?class="figure">([^<]+)<', text, re.S))
    # received: the old laptop and ids[4]; ready: ids[2].
    assert stock == {"received": "2", "sorted": "0", "tested": "0", "erased": "0", "refurbished": "0",
                     "ready": "1", "reserved": "0"}  # fmt: skip
    month = text.split('id="month-title"')[1].split('id="year-title"')[0]
    figures = re.findall(r'class="figure">([^<]+)<', month)
    # received 5 (11 kg), distributed 2, recycled 2.2 kg, reuse 2 / 3, 1 beneficiary
    assert figures == ["5", "2", "2,2 kg", "66,7 %", "1"]
    assert "11,0 kg" in month
    impact = text.split('id="impact-title"')[1].split('id="chart-title"')[0]
    assert "162,0 kg" in impact and "762,0 kg" in impact  # 2 laptops × 3 years × 27 kg and × 127 kg
    assert "3 ans de seconde vie" in impact and "ademe-2022" in impact and 'href="/reports/stats"' in impact
    chart = text.split('id="chart-title"')[1].split('id="waiting-title"')[0]
    assert chart.count("<rect ") == 12 and "<title>" in chart and 'class="visually-hidden"' in chart
    assert re.findall(r"<td>(\d+)</td>", chart)[-1] == "2"  # this month's distributions, in the table
    waiting = text.split('id="waiting-title"')[1].split('id="node-title"')[0]
    assert "1 matériels n'ont pas changé d'état depuis plus de 90 jours" in unescape(waiting)
    assert f'href="/items/{old}"' in waiting and "200" in waiting
    node_part = text.split('id="node-title"')[1]
    assert "Comparez cette empreinte à voix haute" in node_part and "structure membre" in node_part


async def test_an_empty_dashboard(admin, web):
    _, store, _ = web
    response, text = await admin.get("/")
    assert response.status == 200
    assert "Aucun matériel n'attend depuis plus de 90 jours" in unescape(text)
    assert "aucun matériel n'a encore atteint sa destination" in unescape(text) and "–" in text
    with pytest.raises(Invalid):  # an unknown factor table never reaches the settings
        async with store.transaction() as tx:
            await set_setting(tx, "impact_factors", "ademe-2031")


# --- federation -----------------------------------------------------------------------------------


async def test_the_federation_page_shows_the_identity_and_empty_sections(admin, web):
    node, _, _ = web
    response, text = await admin.get("/federation")
    assert response.status == 200
    for group in node.key.public.fingerprint.split("-"):
        assert f"<span>{group}</span>" in text
    assert node.key.public.node_id[:4] in text and "structure membre" in text
    for title in ("Pairs (nœuds connus)", "File d'envoi", "Offres de lots à accepter", "Rapports publiés"):
        assert title in unescape(text)
    assert unescape(text).count("ce nœud n'est pas relié à un réseau") == 3  # peers, outbox, offers
    assert "Aucun signé pour l'instant" in unescape(text)  # reports: this node may sign some before it joins
