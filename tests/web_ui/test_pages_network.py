"""The network's statistics in the web interface, on real SQLite files: a member's report to its
network, a hub's network page (members, refused reports, signing the summary, CSV, the year's
figures), the national page.

Each node is a real ``Store`` with its own key and file; a hub holds its
members' reports as the federation would leave them (``store_records``),
as ``tests/node/test_regional.py`` does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from webtools import PASSWORD, Browser

from federation.audit import InclusionFailed
from node.config import Config, init_node
from node.domain import users
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.settings import set_setting
from node.network import national, peers, regional, transparency
from node.network.replica import store_records
from node.network.stats_reports import preview
from node.store.database import Store
from protocol import canonical
from protocol.keys import SigningKey, fingerprint
from protocol.kinds import MembershipCertificate, RegionalSummary, RegionalSummaryV2, StatsReport
from protocol.records import Record, open_envelope, sign_record
from web_ui.app import make_app
from web_ui.keys import FEDERATION

PARIS = ZoneInfo("Europe/Paris")
DAY = 86_400_000
MARCH = "2024-03"
NNBSP, NBSP = "\u202f", "\u00a0"


def paris(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=PARIS).timestamp()) * 1000


def key(name: str) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(name.encode()).digest())


ANNE, BERT, CHLO = key("anne"), key("bert"), key("chlo")

# Anne's March: 2 500 computers (12 t) in, 1 800 out for reuse, 500 recycled, 200 dismantled.
MARCH_FIGURES = {
    "received.laptop.units": 1500, "received.laptop.weight_g": 3_000_000, "received.desktop.units": 1000,
    "received.desktop.weight_g": 9_000_000, "distributed.laptop.units": 1000,
    "distributed.desktop.units": 800, "recycled.laptop.units": 500, "dismantled.desktop.units": 200,
    "recycled.weight_g": 2_100_000, "reuse_rate_permille": 720, "impact.years": 4,
    "impact.co2e_g": 40_000_000, "beneficiaries.person": 400,
}  # fmt: skip
APRIL_FIGURES = {
    "received.laptop.units": 50, "received.laptop.weight_g": 400_000, "distributed.laptop.units": 30,
    "reuse_rate_permille": 1000, "impact.years": 4, "impact.co2e_g": 5_000_000,
}  # fmt: skip


class Member:
    """A member's log: its reports, signed in order, as its hub receives them."""

    def __init__(self, signing: SigningKey) -> None:
        self.key = signing
        self.records: list[Record] = []

    def report(self, period: str, figures: dict[str, int], *, at: str, supersedes: Record | None = None,
               audience: tuple[bytes, ...] = ()) -> Record:  # fmt: skip
        version = 1 if supersedes is None else supersedes.body().version + 1
        body = StatsReport(period=period, version=version, figures=figures,
                           supersedes=None if supersedes is None else supersedes.id)  # fmt: skip
        prev = self.records[-1] if self.records else None
        record = sign_record(self.key, seq=len(self.records) + 1, prev=prev.id if prev else None,
                             time=paris(at), kind=StatsReport.KIND, content=body.to_content(),
                             audience=audience)  # fmt: skip
        self.records.append(record)
        return record


async def hold(store: Store, *records: Record) -> None:
    async with store.transaction() as tx:
        stored = await store_records(tx, [(record, None) for record in records])
    assert all(s.error is None for s in stored), [s.error for s in stored]


async def certify(store: Store, member: SigningKey, name: str, *, start: str, days: int = 366) -> None:
    async with store.transaction() as tx:
        await peers.pin_peer(tx, member.public.raw, name=name, role="member", relation="downstream")
        await tx.append(MembershipCertificate(member=member.public.raw, member_name=name, role="member",
                                              network="Ordi Test", valid_from=paris(start),
                                              valid_until=paris(start) + days * DAY))  # fmt: skip


async def open_node(root, name: str, role: str) -> tuple:
    node = init_node(root / name.lower().replace(" ", "-"), Config(name=name, role=role))
    store = await Store.open(node.db_path, node.key, create=True)
    async with store.transaction() as tx:
        for user, user_role in (("admin", "admin"), ("tech", "technician"), ("reader", "read_only")):
            await users.create_user(tx, user, PASSWORD, user_role)
    return node, store


async def as_user(client, name: str = "admin") -> Browser:
    browser = Browser(client)
    await browser.login(name)
    return browser


async def value(store: Store, sql: str, params=()):
    async with store.reader() as db:
        return await db.value(sql, params)


async def reports(store: Store, kind: str = StatsReport.KIND) -> int:
    """How many records of ``kind`` (a statistics report, a regional summary) the node holds."""
    return await value(store, "SELECT count(*) FROM log_records WHERE kind = ?", (kind,))


def text_of(html: str) -> str:
    """The page's main text, tags removed, entities decoded, spaces folded (no-break spaces too)."""
    main = html.split("<main", 1)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", main)).split())


def policy(**levels: str) -> str:
    return json.dumps({"fates": "hub", **levels})


def csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


# --- a member: its report to the network ----------------------------------------------------------


async def workshop(store: Store) -> None:
    """Three laptops and a screen received today."""
    async with store.transaction() as tx:
        lot = await create_lot(tx, LotInput(reference="MAIRIE-2026", declared_units=4))
        await create_items(tx, lot, [ItemInput(category="laptop", weight_g=2000) for _ in range(3)]
                           + [ItemInput(category="screen", weight_g=4000, storage="none")])  # fmt: skip


async def test_the_preview_shows_exactly_what_would_leave_and_keeps_workforce_home(web, admin):
    node, store, _ = web
    await workshop(store)
    async with store.transaction() as tx:
        await set_setting(tx, "workforce", json.dumps({"fte": 2.5, "insertion_jobs": 3, "volunteers": 12}))
    year = str(datetime.now(PARIS).year)
    response, html = await admin.get(f"/reports/network?period={year}")
    assert response.status == 200
    async with store.transaction() as tx:
        draft = await preview(tx, year)
    shown = re.findall(r'<td><code>([a-z_.0-9]+)</code></td>', html)
    assert shown and sorted(shown) == sorted(draft.figures)  # every figure, and only those
    text = text_of(html)
    assert "Rapport au réseau" in text and "Reçus : ordinateur portable (unités) 3" in text
    assert "Reçus : écran (poids) 4,0 kg" in text
    assert not any(key.startswith("workforce.") for key in shown)
    assert "ETP" not in text and "Bénévoles" not in text
    assert "Les chiffres des effectifs restent sur ce nœud" in text and "avec personne" in text
    assert "Le stock de l'atelier n'est pas transmis" in text
    assert f"La période {year} n'est pas terminée" in text  # partial figures: no button to send
    assert "Signer et envoyer" not in text
    assert "La tête de réseau (le réseau régional)" in text and node.key.public.fingerprint in text

    async with store.transaction() as tx:
        await set_setting(tx, "publication_policy", policy(stats="hub", workforce="hub"))
    _, html = await admin.get(f"/reports/network?period={year}")
    text = text_of(html)
    assert "workforce.fte_hundredths" in html and "Équivalents temps plein (ETP) 2,5" in text
    assert "Emplois en insertion 3" in text and "Bénévoles 12" in text

    async with store.transaction() as tx:
        await set_setting(tx, "publication_policy", policy(stats="none", workforce="none"))
    _, html = await admin.get(f"/reports/network?period={year}")
    assert "Rien : la politique de publication ne partage pas les statistiques." in text_of(html)
    assert "<code>received." not in html


async def test_the_stats_page_leads_a_member_to_its_report(admin):
    _, html = await admin.get("/reports/stats?period=2024-03")
    assert 'href="/reports/network?period=2024-03"' in html
    _, html = await admin.get("/reports/stats")  # this year: not ended, the report page chooses the period
    assert 'href="/reports/network"' in html
    _, html = await admin.get("/reports/network?period=2019-Q2")  # the period shown is the one chosen
    assert '<option value="2019-Q2" selected>2e trimestre 2019</option>' in html


async def test_an_admin_signs_the_report_and_a_correction_supersedes_it(web, admin):
    _, store, client = web
    await admin.get("/reports/network?period=2024-03")
    response, _ = await admin.post("/reports/network/send", {"period": "2024-03"}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/reports/network?period=2024-03&done=sent"
    assert await reports(store) == 1
    _, html = await admin.get("/reports/network?period=2024-03&done=sent")
    text = text_of(html)
    assert "Le rapport de mars 2024 a été signé (version 1)" in text
    assert "pas encore prouvé" in text and "en vigueur" in text
    assert "Une correction est un nouvel envoi : la version 2 remplacera la version 1" in text
    response, _ = await admin.post("/reports/network/send", {"period": "2024-03"}, allow_redirects=False)
    assert response.status == 303
    async with store.reader() as db:
        rows = await db.all("SELECT content FROM log_records WHERE kind = ? ORDER BY seq",
                            (StatsReport.KIND,))  # fmt: skip
    first, second = (StatsReport.model_validate(canonical.decode(row["content"])) for row in rows)
    assert (first.version, second.version) == (1, 2)
    _, html = await admin.get("/reports/network?period=2024-03")
    assert "remplacé par une correction" in text_of(html)
    # a period that has not ended: refused, nothing signed
    year = str(datetime.now(PARIS).year)
    response, html = await admin.post("/reports/network/send", {"period": year}, allow_redirects=False)
    assert response.status == 409 and "Cette période n'est pas terminée" in text_of(html)
    assert await reports(store) == 2
    # not an admin: refused, nothing signed
    for name in ("tech", "reader"):
        browser = await as_user(client, name)
        await browser.get("/reports/network?period=2024-03")
        response, _ = await browser.post("/reports/network/send", {"period": "2024-03"},
                                         allow_redirects=False)  # fmt: skip
        assert response.status == 403
    assert await reports(store) == 2


class StubAudit:
    """``Federation.audit`` answering as a hub would: proved, not yet, or dropped."""

    def __init__(self, store: Store) -> None:
        self.store, self.answer = store, "ok"

    async def check_inclusion(self, record_id: bytes) -> transparency.Inclusion:
        if self.answer != "ok":
            raise InclusionFailed(self.answer, "the upstream says it is not in its log at checkpoint 7")
        async with self.store.transaction() as tx:
            return await transparency.record_inclusion(tx, record_id, checkpoint_seq=7, tree_size=40,
                                                       leaf_index=3)  # fmt: skip


class StubFederation:
    def __init__(self, store: Store) -> None:
        self.client = object()
        self.audit = StubAudit(store)

    def wake(self, peer=None) -> None:
        pass


async def test_check_now_asks_the_hub_and_says_what_it_answered(tmp_path):
    node, store = await open_node(tmp_path, "Atelier du Lien", "member")
    fed = StubFederation(store)
    app = make_app(node, store)
    app[FEDERATION] = fed
    async with TestClient(TestServer(app)) as client:
        admin = await as_user(client)
        await admin.get("/reports/network?period=2024-03")
        await admin.post("/reports/network/send", {"period": "2024-03"})
        _, html = await admin.get("/reports/network?period=2024-03")
        report_id = re.search(r'name="report" value="([0-9a-f]{64})"', html).group(1)
        check = {"period": "2024-03", "report": report_id}
        fed.audit.answer = "not_yet"
        response, html = await admin.post("/reports/network/check", check)
        assert response.status == 200
        assert "Pas encore dans le dernier point de contrôle du réseau, réessayez plus tard." in text_of(html)
        fed.audit.answer = "not_included"
        response, html = await admin.post("/reports/network/check", check)
        assert response.status == 409 and 'role="alert"' in html
        assert "Attention : la tête de réseau dit que ce rapport n'est pas dans son journal" in text_of(html)
        fed.audit.answer = "ok"
        response, html = await admin.post("/reports/network/check", check)
        text = text_of(html)
        assert response.status == 200 and "Prouvé" in text and "inclus au point de contrôle 7" in text
        assert "pas encore prouvé" not in text
    await store.close()


async def test_without_a_running_federation_there_is_no_check_button(admin):
    await admin.get("/reports/network?period=2024-03")
    await admin.post("/reports/network/send", {"period": "2024-03"})
    _, html = await admin.get("/reports/network?period=2024-03")
    assert "Vérifier maintenant" not in html
    assert "La fédération ne tourne pas dans ce processus" in text_of(html)
    response, html = await admin.post("/reports/network/check", {"period": "2024-03", "report": "00" * 32})
    assert response.status == 503


# --- a hub: its network -----------------------------------------------------------------------------


@pytest.fixture
async def hub(tmp_path):
    """A hub with Anne and Bert certified for 2024, Chlo for 2023 only, and their reports of March 2024.

    Anne sent March twice (a correction) and April; Bert sent March before it ended (it does not count), and a
    yearly report of 2024; Chlo sent March after her certificate ran out.
    """
    node, store = await open_node(tmp_path, "Ordi Test", "hub")
    await certify(store, ANNE, "Anne", start="2024-01-01")
    await certify(store, BERT, "Bert", start="2024-01-01")
    await certify(store, CHLO, "Chlo", start="2023-01-01", days=365)
    anne, bert, chlo = Member(ANNE), Member(BERT), Member(CHLO)
    first = anne.report(MARCH, {"received.laptop.units": 1}, at="2024-04-02")
    await hold(store, first, anne.report(MARCH, MARCH_FIGURES, at="2024-04-10", supersedes=first),
               anne.report("2024-04", APRIL_FIGURES, at="2024-05-02"),
               bert.report(MARCH, {"received.desktop.units": 7}, at="2024-03-20"),
               bert.report("2024", {"recycled.weight_g": 0, "impact.years": 4}, at="2025-01-10"),
               chlo.report(MARCH, {"received.desktop.units": 99}, at="2024-04-03"))  # fmt: skip
    async with TestClient(TestServer(make_app(node, store))) as client:
        yield node, store, client
    await store.close()


async def test_the_hub_page_shows_members_reporting_missing_and_the_reports_that_do_not_count(hub):
    _, _, client = hub
    admin = await as_user(client)
    response, html = await admin.get(f"/network?period={MARCH}")
    assert response.status == 200
    text = text_of(html)
    assert 'href="/network" aria-current="page"' in html  # in the menu of a hub
    assert "Réseau · mars 2024" in text and "pas encore signé" in text
    anne = next(text_of("<main>" + r) for r in html.split("<tr") if "Anne<br>" in r)
    bert = next(text_of("<main>" + r) for r in html.split("<tr") if "Bert<br>" in r and "colspan" in r)
    assert "a rendu compte (version 2)" in anne
    assert "2 500 12 000,0 kg 1 800 2 100,0 kg 72 %" in anne
    assert "manquant" in bert and "un rapport a été reçu, mais il ne compte pas" in bert
    assert fingerprint(ANNE.public.raw) in text
    # the reports that do not count, with the reason in French
    ignored = text.split("Rapports qui ne comptent pas", 1)[1].split("Résumés signés", 1)[0]
    assert "Anne" in ignored and "remplacé par une version plus récente" in ignored
    assert "Bert" in ignored and "signé avant la fin de la période" in ignored
    assert "Chlo" in ignored and "certificat du membre non valide pour la période" in ignored
    # by category, drawn and written
    assert '<svg viewBox="0 0 640' in html and "Unités distribuées pour réemploi, par catégorie" in text
    assert "ordinateur portable 1 500 3 000,0 kg 1 000 500 0 0" in text


# A hub-only member's figures that no other member shares: the publication rule withholds them from national.
HIDDEN_FIGURES = {
    "dismantled.desktop.units": 3, "dismantled.desktop.weight_g": 30_000, "dismantled.printer.units": 1,
    "entered.multifunction_printer.units": 2, "workforce.volunteers": 7, "lead_time.mean_days": 12,
    "beneficiaries.school": 1, "some.future.figure": 5,
}  # fmt: skip
WITHHELD_NAMES = ("Démantelés : ordinateur fixe, imprimante (unités)", "Démantelés : ordinateur fixe (poids)",
                  "Entrés dans le réseau par des dons : imprimante multifonction (unités)", "Bénévoles",
                  "Jours de la réception au devenir (moyenne)", "Bénéficiaires servis : établissement scolaire",
                  "autres chiffres (1)")  # fmt: skip


def _no_raw_key(fragment: str) -> None:
    for raw in HIDDEN_FIGURES:
        assert raw not in fragment, raw


async def test_the_hub_names_the_figures_its_publication_rule_withholds_in_french(hub):
    node, store, client = hub
    dani = key("dani")
    await certify(store, dani, "Dani", start="2024-01-01")
    async with store.transaction() as tx:  # the national federation reads what the hub publishes
        await peers.pin_peer(tx, key("national").public.raw, name="Fédération", role="national",
                             relation="upstream")  # fmt: skip
    audience = tuple(sorted({dani.public.raw, node.key.public.raw}))
    await hold(store, Member(dani).report(MARCH, HIDDEN_FIGURES, at="2024-04-02", audience=audience))
    admin = await as_user(client)
    _, html = await admin.get(f"/network?period={MARCH}")
    part = text_of(html).split("Retenus pour la fédération nationale", 1)[1].split("Structures membres", 1)[0]
    for name in WITHHELD_NAMES:
        assert name in part, name
    _no_raw_key(part)


async def test_a_member_node_has_no_network_page(admin):
    response, html = await admin.get("/network")
    assert response.status == 404 and "Cette page est celle d'une tête de réseau" in text_of(html)
    assert 'href="/network"' not in html and 'href="/national"' not in html


async def test_signing_the_summary_then_nothing_changed(hub):
    _, store, client = hub
    tech = await as_user(client, "tech")
    await tech.get(f"/network?period={MARCH}")
    response, _ = await tech.post("/network/sign", {"period": MARCH}, allow_redirects=False)
    assert response.status == 403
    admin = await as_user(client)
    await admin.get(f"/network?period={MARCH}")
    response, _ = await admin.post("/network/sign", {"period": MARCH}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == f"/network?period={MARCH}&done=signed"
    assert await reports(store, RegionalSummaryV2.KIND) == 1
    _, html = await admin.get(f"/network?period={MARCH}&done=signed")
    text = text_of(html)
    assert "Le résumé a été signé : version 1." in text and "Résumé signé : version 1, le" in text
    assert "Il dit ce qui est affiché ici." in text and "pas encore signé" not in text
    response, _ = await admin.post("/network/sign", {"period": MARCH}, allow_redirects=False)
    assert response.headers["Location"] == f"/network?period={MARCH}&done=unchanged"
    _, html = await admin.get(f"/network?period={MARCH}&done=unchanged")
    assert "Rien n'a changé depuis le dernier résumé : rien n'a été signé." in text_of(html)
    assert await reports(store, RegionalSummaryV2.KIND) == 1
    # a period that has not ended is refused, with its reason
    year = str(datetime.now(PARIS).year)
    response, html = await admin.post("/network/sign", {"period": year})
    assert response.status == 409
    assert "Cette période n'est pas terminée : son résumé se signe ensuite." in text_of(html)
    response, html = await admin.get("/network?period=2024-13")
    assert response.status == 422 and "Ce n'est pas une période" in text_of(html)


async def test_the_hub_page_shows_its_own_activity_and_a_year_from_its_members_months(hub):
    _, store, client = hub
    admin = await as_user(client)
    await admin.post("/network/sign", {"period": MARCH}, allow_redirects=False)
    _, html = await admin.get(f"/network?period={MARCH}")
    text = text_of(html)
    assert "Ordi Test activité propre de la tête de réseau rapport propre (version 1)" in text
    assert "Entrés par des dons" in text and "Passés d'une structure à l'autre du réseau" in text
    # the year 2024: Bert's yearly report, Anne's March and April (she sent no yearly report): both count
    _, html = await admin.get("/network?period=2024")
    text = text_of(html)
    assert "Anne" in text and "a rendu compte par 2 rapports de périodes plus courtes" in text
    assert "Bert" in text and "a rendu compte (version 1)" in text
    response = await client.get("/network.csv?period=2024")
    rows = {row["member"]: row for row in csv_rows(await response.read())}
    assert rows["Anne"]["received.laptop.units"] == str(1500 + 50) and rows["Anne"]["state"] == "reported"


async def test_the_csv_has_a_row_per_member_and_the_total(hub):
    _, _, client = hub
    admin = await as_user(client)
    response = await client.get(f"/network.csv?period={MARCH}")
    assert response.status == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="network-2024-03.csv"'
    rows = csv_rows(await response.read())
    by_member = {row["member"]: row for row in rows}
    assert set(by_member) == {"Anne", "Bert", "total"} and admin
    assert by_member["Anne"]["state"] == "reported" and by_member["Anne"]["version"] == "2"
    assert by_member["Anne"]["received.laptop.units"] == "1500"
    assert by_member["Anne"]["fingerprint"] == fingerprint(ANNE.public.raw)
    assert by_member["Bert"]["state"] == "missing" and by_member["Bert"]["received.laptop.units"] == ""
    total = by_member["total"]
    assert total["received.laptop.units"] == "1500" and total["members.reporting"] == "1"
    assert total["members.missing"] == "1" and total["reuse_rate_permille"] == "720"
    assert all(row["period"] == MARCH for row in rows)


async def test_a_few_figures_of_the_year_in_french(hub):
    _, _, client = hub
    admin = await as_user(client)
    response, html = await admin.get("/network/figures?year=2024")
    assert response.status == 200
    page = unescape(html)
    # Anne's March and April add up (monthly reports); Bert's yearly report counts once
    assert f"2{NNBSP}550 ordinateurs reçus (12,4{NBSP}t)" in page
    assert f"1{NNBSP}830 remis à des familles, écoles et associations" in page
    assert f"taux de réemploi{NBSP}: 72,3{NNBSP}%" in page  # 1 830 / (1 830 + 500 + 200)
    assert f"45{NBSP}t de CO2e évitées" in page
    assert f"2{NBSP}100{NBSP}kg confiés au recyclage" in page or f"2,1{NBSP}t confiés au recyclage" in page
    assert "2 structures membres sur 2 ont rendu compte" in page
    assert "dont 1 pour une partie de l'année seulement" in page
    for year in ("20x4", "0000"):  # not a year; a year the calendar cannot place
        response, html = await admin.get(f"/network/figures?year={year}")
        assert response.status == 422, year


# --- national ---------------------------------------------------------------------------------------


async def copy_log(source: Store, target: Store, author: bytes) -> None:
    async with source.reader() as db:
        rows = await db.all("SELECT envelope, content FROM log_records WHERE author = ? ORDER BY seq",
                            (author,))  # fmt: skip
    records = []
    for row in rows:
        held = open_envelope(row["envelope"])
        records.append(Record(held.envelope, held.header_bytes, held.signature, held.header, held.id,
                              row["content"]))  # fmt: skip
    await hold(target, *records)


@pytest.fixture
async def nation(tmp_path):
    """National with two hubs: Ordi Test's summary checks out; Ordi3's inflates its member's figures."""
    node, store = await open_node(tmp_path, "Fédération", "national")
    good, bad = key("hub one"), key("hub three")
    for signing, name in ((good, "Ordi Test"), (bad, "Ordi3")):
        async with store.transaction() as tx:
            await peers.pin_peer(tx, signing.public.raw, name=name, role="hub", relation="downstream",
                                 network=name)  # fmt: skip
    one = await Store.open(tmp_path / "one.db", good, create=True)
    three = await Store.open(tmp_path / "three.db", bad, create=True)
    await certify(one, ANNE, "Anne", start="2024-01-01")
    await certify(three, BERT, "Bert", start="2024-01-01")
    anne_report = Member(ANNE).report(MARCH, MARCH_FIGURES, at="2024-04-02")
    bert_report = Member(BERT).report(MARCH, APRIL_FIGURES, at="2024-04-02")
    await hold(one, anne_report)
    async with one.transaction() as tx:
        await regional.sign_summary(tx, MARCH)
    await hold(three, bert_report)
    async with three.transaction() as tx:  # the hub inflates what its member reported
        figures = {**regional.sum_figures([APRIL_FIGURES]), "received.laptop.units": 999,
                   "members.reporting": 1}  # fmt: skip
        await tx.append(RegionalSummary(period=MARCH, version=1, figures=figures, reports=[bert_report.id],
                                        missing=[]))  # fmt: skip
    for hub_store, signing in ((one, good), (three, bad)):
        await copy_log(hub_store, store, signing.public.raw)
        await hub_store.close()
    await hold(store, anne_report, bert_report)
    async with store.transaction() as tx:
        at = paris("2024-04-05")
        await national.record_audit(tx, good.public.raw, national.Checkpoint(3, at, 8, bytes(32)),
                                    state="consistent")  # fmt: skip
        await national.record_audit(tx, bad.public.raw, national.Checkpoint(5, at, 12, bytes(32)),
                                    state="rewritten",
                                    detail="checkpoint 6 (size 10) does not extend checkpoint 5")  # fmt: skip
    async with TestClient(TestServer(make_app(node, store))) as client:
        yield node, store, client
    await store.close()


async def test_the_national_page_shows_checks_audits_and_totals(nation):
    _, _, client = nation
    admin = await as_user(client)
    response, html = await admin.get("/national")
    assert response.status == 200
    assert 'href="/national" aria-current="page"' in html and 'href="/network"' not in html  # the menu
    text = text_of(html)
    hubs = text.split("Têtes de réseau", 1)[1]
    good = hubs.split("Ordi Test · réseau Ordi Test", 1)[1].split("Ordi3", 1)[0]
    bad = hubs.split("Ordi3 · réseau Ordi3", 1)[1]
    assert "journal cohérent jusqu'au point de contrôle 3 (taille 8)" in good
    # Anne's report and the hub's own one, both read and added up
    assert "✓ vérifié" in good and "2 rapport(s) détenu(s) sur 2, 2 lisible(s)" in good
    assert "journal réécrit" in bad and 'role="alert"' in html
    assert "checkpoint 6 (size 10) does not extend checkpoint 5" in bad
    assert "incohérent" in bad
    assert "Les chiffres diffèrent de la somme des rapports qu'il cite : received.laptop.units" in bad


async def test_national_shows_one_row_per_hub_and_period_by_category_and_the_total_apart(nation):
    _, _, client = nation
    admin = await as_user(client)
    _, html = await admin.get("/national")
    table = html.split('<table class="by-hub">', 1)[1].split("</table>", 1)[0]
    assert "mars 2024" in table
    body, foot = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0], table.split("<tfoot>", 1)[1]
    rows = [_words(row) for row in body.split("<tr>")[1:]]
    assert [row.split(" ", 1)[0] for row in rows] == ["Ordi", "Ordi3"] and rows[0].startswith("Ordi Test")
    assert "Distribués" in table and "ordinateur portable" in table and "ordinateur fixe" in table
    # distributed by category (desktops, laptops): Anne 800 and 1 000; Ordi3's member 30 laptops
    assert rows[0].endswith("800 1 000 1") and rows[1].endswith("0 30 1")
    # Ordi3's transparency log was found rewritten: its row says so beside what was checked
    assert "journal réécrit" in rows[1] and "journal réécrit" not in rows[0]
    assert _words(foot).startswith("Total national") and _words(foot).endswith("800 1 030 2")


async def test_national_names_the_withheld_figures_and_says_which_header_is_a_total(tmp_path):
    node, store = await open_node(tmp_path, "Fédération", "national")
    signing = key("hub four")
    async with store.transaction() as tx:
        await peers.pin_peer(tx, signing.public.raw, name="Ordi4", role="hub", relation="downstream",
                             network="Ordi4")  # fmt: skip
    hub_store = await Store.open(tmp_path / "four.db", signing, create=True)
    async with hub_store.transaction() as tx:
        await tx.append(RegionalSummaryV2(period=MARCH, version=1, figures={"received.laptop.units": 4,
                                                                           "entered.laptop.units": 4},
                                          reports=[], missing=[], pooled=[], withheld=sorted(HIDDEN_FIGURES),
                                          min_members=3))  # fmt: skip
    await copy_log(hub_store, store, signing.public.raw)
    await hub_store.close()
    async with TestClient(TestServer(make_app(node, store))) as client:
        admin = await as_user(client)
        _, html = await admin.get("/national")
    await store.close()
    text = text_of(html)
    # the page's title is the menu's
    assert "<title>Chiffres nationaux" in html and "<h1>Chiffres nationaux</h1>" in html
    part = text.split("Chiffres retenus par la règle de publication de la tête de réseau (8)", 1)[1]
    for name in WITHHELD_NAMES:
        assert name in part, name
    _no_raw_key(text)
    # the total of what entered from donors is not named as the group of its categories
    table = html.split('<table class="by-hub">', 1)[1].split("</table>", 1)[0]
    head = table.split("</thead>", 1)[0]
    assert ">Entrés par des dons (total)</th>" in head and ">Entrés par des dons</th>" in head
    assert 'data-label="Entrés par des dons (total)"' in table
    assert 'data-label="Entrés par des dons · ordinateur portable"' in table


def _words(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).replace("\u202f", " ").replace("\xa0", " ").split())


async def test_national_never_says_verified_for_a_sum_it_could_not_check(nation):
    _, store, client = nation
    async with store.transaction() as tx:  # Anne's report for her hub only: national holds its header
        await tx.run("UPDATE log_records SET content = NULL WHERE author = ? AND kind = 'stats.report/1'",
                     (ANNE.public.raw,))  # fmt: skip
    admin = await as_user(client)
    _, html = await admin.get("/national")
    text = text_of(html)
    good = text.split("Têtes de réseau", 1)[1].split("Ordi Test · réseau Ordi Test", 1)[1].split("Ordi3", 1)[0]
    assert "✓ vérifié" not in text and "signé, somme non vérifiée" in good
    assert "2 rapport(s) détenu(s) sur 2, 1 lisible(s)" in good
    assert "somme non vérifiée : 1 rapport(s) lisible(s) ici sur 2" in text


async def test_the_national_csv_has_a_row_per_hub_and_period_and_the_total_apart(nation):
    _, _, client = nation
    await as_user(client)
    response = await client.get("/national.csv")
    rows = csv_rows(await response.read())
    assert [(r["period"], r["row"], r["hub"]) for r in rows] == [(MARCH, "hub", "Ordi Test"), (MARCH, "hub", "Ordi3"),
                                                                (MARCH, "national_total", "")]  # fmt: skip
    one, three, total = rows
    assert (one["check"], one["reports_readable"], one["sum_checked"]) == ("verified", "2", "yes")
    assert (one["log_audit"], three["log_audit"], total["log_audit"]) == ("consistent", "rewritten", "")
    assert one["distributed.desktop.units"] == "800" and three["distributed.desktop.units"] == ""
    assert one["received.laptop.units"] == "1500" and three["received.laptop.units"] == "999"
    assert total["received.laptop.units"] == str(1500 + 999) and total["members.reporting"] == "2"


def _xlsx_rows(raw: bytes) -> list[list[object]]:
    import io

    from openpyxl import load_workbook

    return [list(row) for row in load_workbook(io.BytesIO(raw)).active.iter_rows(values_only=True)]


async def test_the_networks_xlsx_holds_the_csvs_cells_under_french_headers(hub):
    _, _, client = hub
    await as_user(client)
    csv_table = csv_rows(await (await client.get(f"/network.csv?period={MARCH}")).read())
    response = await client.get(f"/network.xlsx?period={MARCH}")
    assert response.status == 200 and response.headers["Content-Disposition"].endswith('network-2024-03.xlsx"')
    sheet = _xlsx_rows(await response.read())
    assert sheet[0][:4] == ["Période", "Membre", "Empreinte", "État"] and len(sheet) == 1 + len(csv_table)
    assert not [h for h in sheet[0] if "." in str(h) and " " not in str(h)]  # no figure key left as a header
    anne = next(row for row in sheet if row[1] == "Anne")
    keys = list(csv_table[0])
    assert str(anne[keys.index("received.laptop.units")]) == "1500"


async def test_the_national_xlsx_holds_the_csvs_cells_under_french_headers(nation):
    _, _, client = nation
    await as_user(client)
    response = await client.get("/national.xlsx")
    sheet = _xlsx_rows(await response.read())
    assert sheet[0][:3] == ["Période", "Ligne", "Tête de réseau"] and len(sheet) == 4


async def test_the_hub_page_shows_its_members_real_totals_even_those_withheld_from_national(hub):
    """The hub reads every member's report: its own page sums them all; only what leaves for national is withheld."""
    node, store, client = hub
    dani = key("dani")
    await certify(store, dani, "Dani", start="2024-01-01")
    async with store.transaction() as tx:  # the national federation reads what the hub publishes
        await peers.pin_peer(tx, key("national").public.raw, name="Fédération", role="national",
                             relation="upstream")  # fmt: skip
    audience = tuple(sorted({dani.public.raw, node.key.public.raw}))  # Dani shares with its hub only
    dani_figures = {"received.laptop.units": 4, "received.laptop.weight_g": 15_600, "distributed.laptop.units": 2,
                    "reuse_rate_permille": 1000, "impact.co2e_g": 9_000}  # fmt: skip
    await hold(store, Member(dani).report(MARCH, dani_figures, at="2024-04-02", audience=audience))
    admin = await as_user(client)
    _, html = await admin.get(f"/network?period={MARCH}")
    text = text_of(html)
    assert "Retenus pour la fédération nationale" in text  # Dani's received laptops, among others
    assert "Reçus sur la période 2 504 12 015,6 kg" in text  # « En bref »: Anne's 2 500 and Dani's 4
    total = next(text_of("<main>" + r) for r in html.split("<tr") if "Le réseau" in r)
    assert "2 504 12 015,6 kg 1 802 2 100,0 kg" in total
    assert "Ils sont comptés dans les chiffres affichés ici" in text
    assert "Sauf les chiffres retenus pour la fédération nationale, nommés sous « En bref »" in text
    response = await client.get(f"/network.csv?period={MARCH}")
    rows = {row["member"]: row for row in csv_rows(await response.read())}
    assert rows["total"]["received.laptop.units"] == "1504"


async def test_a_hubs_own_report_page_says_it_goes_into_its_regional_summary(hub):
    """A hub reports to no hub: its own report is in its regional summary, which national reads."""
    _, store, client = hub
    async with store.transaction() as tx:
        await peers.pin_peer(tx, key("national").public.raw, name="Fédération nationale", role="national",
                             relation="upstream")  # fmt: skip
    admin = await as_user(client)
    _, html = await admin.get(f"/reports/network?period={MARCH}")
    text = text_of(html)
    assert "n'est pas une structure membre" not in text and "notre tête de réseau" not in text
    assert "Voici le rapport propre de la tête de réseau" in text and "résumé régional" in text
    assert "Fédération nationale, la fédération nationale" in text
    assert f'href="/network?period={MARCH}"' in html
    assert "Signer le rapport" in text and "envoyer" not in text.casefold().split("rapports envoyés")[0]
    response, html = await admin.post("/reports/network/send", {"period": MARCH})
    text = text_of(html)
    assert "Le rapport de mars 2024 a été signé (version 1)." in text
    assert "Le résumé régional de cette période l'inclut dès qu'il est signé à nouveau" in text
    assert "Il part vers la tête de réseau" not in text
    assert "Signer la correction" in text and "Signer et envoyer la correction" not in text
    # what the page says is what happens: the summary takes the hub's latest version in
    await admin.post("/network/sign", {"period": MARCH}, allow_redirects=False)
    await admin.post("/reports/network/send", {"period": MARCH})
    _, html = await admin.get(f"/network?period={MARCH}")
    assert "rapport propre (version 2)" in text_of(html)


async def test_a_hubs_report_page_names_the_national_federations_log_and_its_readers(tmp_path):
    """On a hub, the log that proves its own reports is national's, and policy ``hub`` means national reads."""
    node, store = await open_node(tmp_path, "Ordi Test", "hub")
    async with store.transaction() as tx:
        await peers.pin_peer(tx, key("national").public.raw, name="Fédération nationale", role="national",
                             relation="upstream", url="https://national.example.org")  # fmt: skip
    fed = StubFederation(store)
    app = make_app(node, store)
    app[FEDERATION] = fed
    async with TestClient(TestServer(app)) as client:
        admin = await as_user(client)
        await admin.post("/reports/network/send", {"period": MARCH})
        _, html = await admin.get(f"/reports/network?period={MARCH}")
        text = text_of(html)
        assert "Cette tête de réseau et la fédération nationale" in text
        assert "La tête de réseau (le réseau régional)" not in text
        assert "Rapports signés" in text and "Rapports envoyés" not in text
        assert "La fédération nationale inscrit chaque enregistrement reçu dans un journal public" in text
        assert "Dans le journal de la fédération nationale" in text
        assert "journal de la tête de réseau" not in text and "La tête de réseau inscrit" not in text
        report_id = re.search(r'name="report" value="([0-9a-f]{64})"', html).group(1)
        check = {"period": MARCH, "report": report_id}
        fed.audit.answer = "not_included"
        response, html = await admin.post("/reports/network/check", check)
        text = text_of(html)
        assert response.status == 409 and "Attention : la fédération nationale dit que ce rapport" in text
        assert "la tête de réseau dit" not in text and "l'administrateur de la tête de réseau" not in text
        fed.audit.answer = "ok"
        _, html = await admin.post("/reports/network/check", check)
        assert "Prouvé : le journal de la fédération nationale contient ce rapport" in text_of(html)
    await store.close()


async def test_national_has_no_report_to_send_to_the_network(tmp_path):
    node, store = await open_node(tmp_path, "Fédération", "national")
    async with TestClient(TestServer(make_app(node, store))) as client:
        admin = await as_user(client)
        response, html = await admin.get(f"/reports/network?period={MARCH}")
        text = text_of(html)
        assert response.status == 200
        assert "Ce nœud est celui de la fédération nationale : il ne rend compte à aucune tête de réseau" in text
        assert "<h1>Rapport au réseau</h1>" in html  # no period: there is no report of one
        assert 'href="/national"' in html.split("<main", 1)[1]
        assert "structure membre" not in text and "sa tête de réseau" not in text
        assert "Signer" not in text and "Ce qui quitterait ce nœud" not in text
        response, html = await admin.post("/reports/network/send", {"period": MARCH})
        assert response.status == 409 and "Rien n'a été signé" in text_of(html)
    assert await reports(store) == 0
    await store.close()


async def test_the_hubs_year_holds_its_own_months_on_the_page_and_in_the_csv(hub):
    """A hub that reported its own activity month by month: its year shows it, as its own, before it signs the year."""
    from node.network.stats_reports import publish_report
    from node.store.database import clock_at

    _, store, client = hub
    with clock_at(paris("2024-03-05")):  # the State's lot arrives at the hub's warehouse
        await workshop(store)
    async with store.transaction() as tx:
        await publish_report(tx, MARCH)
    admin = await as_user(client)
    _, html = await admin.get("/network?period=2024")
    own = next(text_of("<main>" + r) for r in html.split("<tr") if 'class="own"' in r)
    assert "activité propre de la tête de réseau rapports propres de périodes plus courtes (1) 4 10,0 kg" in own
    assert "Lots reçus de donateurs 1 0 donateur(s)" in text_of(html)  # « En bref »: the hub's lot, no donor named
    response = await client.get("/network.csv?period=2024")
    rows = {row["member"]: row for row in csv_rows(await response.read())}
    assert rows["(hub)"]["state"] == "own" and rows["(hub)"]["received.laptop.units"] == "3"
    assert rows["total"]["received.laptop.units"] == str(1500 + 50 + 3)
    _, html = await admin.get("/network/figures?year=2024")
    assert f"2{NNBSP}554 équipements reçus" in unescape(html)  # Anne's 2 550 computers and the hub's 4 devices


async def national_with_a_rule(tmp_path) -> tuple:
    """National reading Ordi5's March: 16 lots, 13 donors; laptops pooled over 4 members, screens withheld."""
    node, store = await open_node(tmp_path, "Fédération", "national")
    signing = key("hub five")
    async with store.transaction() as tx:
        await peers.pin_peer(tx, signing.public.raw, name="Ordi5", role="hub", relation="downstream",
                             network="Ordi5")  # fmt: skip
    hub_store = await Store.open(tmp_path / "five.db", signing, create=True)
    async with hub_store.transaction() as tx:
        await tx.append(RegionalSummaryV2(period=MARCH, version=1, figures={
            "received.laptop.units": 40, "entered.laptop.units": 40, "lots.from_donors": 16, "donors.count": 13,
            "members.reporting": 4}, reports=[], missing=[], pooled=["received.laptop.units"],
            withheld=["entered.screen.units", "workforce.volunteers"], min_members=4))  # fmt: skip
    await copy_log(hub_store, store, signing.public.raw)
    await hub_store.close()
    return node, store


def test_nationals_summary_list_names_the_figures_pooled_and_withheld(tmp_path, capsys):
    import asyncio

    from node.cli.main import main

    async def made() -> tuple:
        node, store = await national_with_a_rule(tmp_path)
        async with store.transaction() as tx:  # national admitted the hub: its database holds its own log
            await tx.append(MembershipCertificate(member=key("hub five").public.raw, member_name="Ordi5", role="hub",
                                                  network="Ordi5", valid_from=paris("2024-01-01"),
                                                  valid_until=paris("2025-01-01")))  # fmt: skip
        await store.close()
        return node

    node = asyncio.run(made())
    assert main(["summary", "list", "--data", str(node.data_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    at = next(n for n, line in enumerate(out) if line.startswith(f"  {MARCH} "))
    assert out[at + 1:at + 3] == ["    pooled over at least 4 members sharing with their hub only: received.laptop.units",
                                  "    withheld: entered.screen.units, workforce.volunteers"]


async def test_national_says_which_figures_are_pooled_or_withheld_and_counts_lots_and_donors(tmp_path):
    """Page and CSV: lots and donors per hub and period; the figures pooled over k members, those withheld."""
    node, store = await national_with_a_rule(tmp_path)
    async with TestClient(TestServer(make_app(node, store))) as client:
        admin = await as_user(client)
        _, html = await admin.get("/national")
        response = await client.get("/national.csv")
        rows = csv_rows(await response.read())
    await store.close()
    table = html.split('<table class="by-hub">', 1)[1].split("</table>", 1)[0]
    head = table.split("</thead>", 1)[0]
    assert ">Lots reçus de donateurs</th>" in head and ">Donateurs de ces lots</th>" in head
    row = _words(table.split("<tbody>", 1)[1].split("</tbody>", 1)[0])
    assert "16 13" in row
    # a withheld figure is said withheld, never shown as a zero: the screens that entered, and so their total
    assert "ordinateur portable</th>" in head and "écran</th>" in head
    assert row.startswith("Ordi5") and "40 + retenu 0 0 16 13 40 retenu" in row
    foot = _words(table.split("<tfoot>", 1)[1])
    assert "40 + retenu 0 0 16 13 40 retenu" in foot
    text = text_of(html)
    pooled = text.split("Chiffres additionnés sur au moins 4 adhérents qui ne les partagent qu'avec leur tête de réseau (1)", 1)[1]
    assert pooled.split("Chiffres retenus", 1)[0].strip().startswith("Reçus : ordinateur portable (unités)")
    assert "Chiffres retenus par la règle de publication de la tête de réseau (2)" in text
    hub, total = rows
    assert (hub["pooled"], hub["withheld"], hub["min_members"]) == ("received.laptop.units",
                                                                   "entered.screen.units workforce.volunteers", "4")
    assert hub["lots.from_donors"] == "16" and hub["donors.count"] == "13" and total["pooled"] == ""


async def test_a_hub_admin_sets_how_many_members_a_pooled_figure_needs(tmp_path, admin):
    """k of the publication rule is the hub's setting, on its settings page beside the publication policy."""
    from node.domain.settings import get_setting

    _, html = await admin.get("/settings")  # a member association's node: no such setting to show
    assert 'name="summary_min_members"' not in html
    node, store = await open_node(tmp_path, "Ordi Test", "hub")
    async with TestClient(TestServer(make_app(node, store))) as client:
        hub_admin = await as_user(client)
        _, html = await hub_admin.get("/settings")
        assert re.search(r'name="summary_min_members"[^>]*value="3"', html)
        assert "au moins autant d'adhérents" in text_of(html)
        form = {"stats": "hub", "fates": "hub", "workforce": "hub", "summary_min_members": "4"}
        response, _ = await hub_admin.post("/settings/publication", form, allow_redirects=False)
        assert response.status == 303
        response, html = await hub_admin.post("/settings/publication", {**form, "stats": "public",
                                                                         "summary_min_members": "0"})  # fmt: skip
        assert response.status == 422 and "un nombre entier de 1 à 10 000" in text_of(html)
        assert re.search(r'name="summary_min_members"[^>]*value="0"', html)  # what was typed, to correct
    async with store.reader() as db:
        assert await get_setting(db, "summary_min_members") == 4
        assert json.loads(await get_setting(db, "publication_policy"))["stats"] == "hub"  # all or nothing
    await store.close()
