"""National's figures and a hub's silence alerts in a real browser, against real node processes.

- National reads two hubs: Ordi Test's summary lists a public report and
  one its member shares with its hub alone (national holds its signed
  header only): "signé, somme non vérifiée", never "vérifié"; Ordi3's
  lists one public report: "vérifié". One row per hub, its figures by
  category; the national total apart.
- A hub whose member was admitted two months ago and never reported, nor
  called: its federation page shows both silences as alerts.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browsertools import PASSWORD, free_port, login, maillon, require_chromium, running, shoot

pytestmark = pytest.mark.browser


def paris(day: str) -> int:
    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=ZoneInfo("Europe/Paris")).timestamp()) * 1000


def key(name: str):
    from protocol.keys import SigningKey

    return SigningKey.from_seed(hashlib.sha256(name.encode()).digest())


async def fill_national(data: Path) -> None:
    """Two hubs admitted, their logs held: certificates, members' reports (one a header only), summaries."""
    from node.config import load_node
    from node.network import peers
    from node.network.regional import sum_figures
    from node.network.replica import store_records
    from node.store.database import Store
    from protocol.kinds import MembershipCertificate, RegionalSummaryV2, StatsReport
    from protocol.records import Record, sign_record

    def chain(signing, bodies):
        records = []
        for time, body, audience in bodies:
            prev = records[-1].id if records else None
            records.append(sign_record(signing, seq=len(records) + 1, prev=prev, time=time, kind=body.KIND,
                                       content=body.to_content(), audience=audience))  # fmt: skip
        return records

    node = load_node(data)
    store = await Store.open(node.db_path, node.key)
    try:
        held = []
        for hub_name, members in (("Ordi Test", (("Anne", ()), ("Bert", "hub only"))), ("Ordi3", (("Chlo", ()),))):
            hub = key(hub_name)
            async with store.transaction() as tx:
                await peers.pin_peer(tx, hub.public.raw, name=hub_name, role="hub", relation="downstream",
                                     network=hub_name)  # fmt: skip
            bodies, reports, figures = [], [], []
            for n, (name, policy) in enumerate(members):
                member = key(name)
                bodies.append((paris("2024-01-01"), MembershipCertificate(
                    member=member.public.raw, member_name=name, role="member", network=hub_name,
                    valid_from=paris("2024-01-01"), valid_until=paris("2025-01-01")), ()))  # fmt: skip
                body = StatsReport(period="2024-03", version=1, figures={
                    "entered.laptop.units": 100 + n, "received.laptop.units": 100 + n,
                    "distributed.laptop.units": 80, "distributed.desktop.units": 7 * (n + 1)})  # fmt: skip
                audience = tuple(sorted([member.public.raw, hub.public.raw])) if policy else ()
                (report,) = chain(member, [(paris("2024-04-02"), body, audience)])
                reports.append(report if not policy else Record(report.envelope, report.header_bytes,
                                                                report.signature, report.header, report.id, None))
                figures.append(body.figures)
            summed = {**sum_figures(figures), "members.reporting": len(members), "members.missing": 0}
            bodies.append((paris("2024-04-05"), RegionalSummaryV2(
                period="2024-03", version=1, figures=summed, reports=sorted(r.id for r in reports), missing=[],
                pooled=[], withheld=[], min_members=1), ()))  # fmt: skip
            held += [*chain(hub, bodies), *reports]
        async with store.transaction() as tx:
            stored = await store_records(tx, [(record, None) for record in held])
        assert all(s.error is None for s in stored), [s.error for s in stored]
    finally:
        await store.close()


async def fill_silent_hub(data: Path) -> None:
    """A member admitted two months ago that never reported nor called."""
    from node.config import load_node
    from node.network import peers
    from node.store.database import Store, clock_at, now_ms
    from protocol.kinds import MembershipCertificate

    node = load_node(data)
    store = await Store.open(node.db_path, node.key)
    try:
        with clock_at(now_ms() - 60 * 86_400_000):
            async with store.transaction() as tx:
                member = key("Atelier Muet").public.raw
                await peers.pin_peer(tx, member, name="Atelier Muet", role="member", relation="downstream")
                await tx.append(MembershipCertificate(member=member, member_name="Atelier Muet", role="member",
                                                      network="Ordi Test", valid_from=now_ms(),
                                                      valid_until=now_ms() + 366 * 86_400_000))  # fmt: skip
    finally:
        await store.close()


def live(tmp_path_factory, name: str, role: str, fill):
    require_chromium()
    data = tmp_path_factory.mktemp(role) / "node"
    port = free_port()
    maillon("init", "--data", str(data), "--name", name, "--role", role, "--port", str(port))
    maillon("user", "add", "--data", str(data), "admin", "--role", "admin", stdin=PASSWORD + "\n")
    asyncio.run(fill(data))
    return data, port


@pytest.fixture(scope="module")
def live_national(tmp_path_factory):
    data, port = live(tmp_path_factory, "Fédération", "national", fill_national)
    with running(data, port) as base:
        yield base


@pytest.fixture(scope="module")
def live_silent_hub(tmp_path_factory):
    data, port = live(tmp_path_factory, "Ordi Test", "hub", fill_silent_hub)
    with running(data, port) as base:
        yield base


async def test_national_shows_a_row_per_hub_and_says_exactly_what_it_checked(live_national, browser):
    base = live_national
    page = await browser.new_page(locale="fr-FR")
    await login(page, base, "admin")
    await page.goto(base + "/national")
    table = page.locator("table.by-hub")
    assert "mars 2024" in await table.locator("caption").inner_text()
    rows = table.locator("tbody tr")
    assert await rows.count() == 2
    good, other = await rows.nth(0).inner_text(), await rows.nth(1).inner_text()
    assert good.startswith("Ordi Test") and other.startswith("Ordi3")
    # Bert's report is for his hub only: national holds its header, cannot add it up, and says so
    assert "signé, somme non vérifiée" in good and "vérifié\n" not in good.replace("vérifiés", "")
    assert "2 rapport(s) détenu(s) sur 2, 1 lisible(s)" in good
    assert "somme non vérifiée : 1 rapport(s) lisible(s) ici sur 2" in good
    assert "✓ vérifié" in other and "somme vérifiée sur les 1 rapports" in other
    headers = await table.locator("thead").inner_text()
    assert "ordinateur fixe" in headers and "ordinateur portable" in headers and "Entrés par des dons" in headers
    total = await table.locator("tfoot tr").inner_text()
    assert total.startswith("Total national") and "301" in total  # 100 + 101 + 100 laptops entered
    await shoot(page, "national")
    await page.close()


async def test_a_silent_member_is_an_alert_on_the_hubs_federation_page(live_silent_hub, browser):
    base = live_silent_hub
    page = await browser.new_page(locale="fr-FR")
    await login(page, base, "admin")
    await page.goto(base + "/federation")
    alerts = await page.locator("table.alerts").inner_text()
    assert alerts.count("Un nœud est silencieux") == 2
    assert "member_silent" in alerts and "peer_unreachable" in alerts and "Atelier Muet" in alerts
    await page.close()
