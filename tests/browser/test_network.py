"""A hub's administrator signs the network's summary of a month in a real browser, against a real hub process.

The hub's database is filled before it starts, as the federation would
have left it: two members certified for 2024 (the hub's own certificates)
and one member's signed report of March 2024.
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


async def fill(data: Path) -> None:
    """Anne and Bert certified by the hub for 2024; Anne's report of March 2024 held."""
    from node.config import load_node
    from node.network import peers
    from node.network.replica import store_records
    from node.store.database import Store
    from protocol.keys import SigningKey
    from protocol.kinds import MembershipCertificate, StatsReport
    from protocol.records import sign_record

    node = load_node(data)
    store = await Store.open(node.db_path, node.key)
    try:
        members = {name: SigningKey.from_seed(hashlib.sha256(name.encode()).digest()) for name in ("Anne", "Bert")}
        async with store.transaction() as tx:
            for name, key in members.items():
                await peers.pin_peer(tx, key.public.raw, name=name, role="member", relation="downstream")
                await tx.append(MembershipCertificate(member=key.public.raw, member_name=name, role="member",
                                                      network="Ordi Test", valid_from=paris("2024-01-01"),
                                                      valid_until=paris("2025-01-01")))  # fmt: skip
        body = StatsReport(period="2024-03", version=1, figures={
            "received.laptop.units": 120, "received.laptop.weight_g": 240_000, "distributed.laptop.units": 90,
            "recycled.laptop.units": 10, "recycled.weight_g": 20_000, "reuse_rate_permille": 900,
        })  # fmt: skip
        report = sign_record(members["Anne"], seq=1, prev=None, time=paris("2024-04-02"), kind=StatsReport.KIND,
                             content=body.to_content())  # fmt: skip
        async with store.transaction() as tx:
            (stored,) = await store_records(tx, [(report, None)])
        assert stored.error is None, stored.error
    finally:
        await store.close()


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory):
    """A running hub with an administrator, two members and one report of March 2024."""
    require_chromium()
    data = tmp_path_factory.mktemp("hub") / "node"
    port = free_port()
    maillon("init", "--data", str(data), "--name", "Ordi Test", "--role", "hub", "--port", str(port))
    maillon("user", "add", "--data", str(data), "admin", "--role", "admin", stdin=PASSWORD + "\n")
    asyncio.run(fill(data))
    with running(data, port) as base:
        yield base


async def test_a_hub_admin_signs_the_summary_of_a_month(live_hub, browser):
    base = live_hub
    page = await browser.new_page(locale="fr-FR")
    await login(page, base, "admin")
    await page.get_by_role("link", name="Réseau", exact=True).click()
    await page.wait_for_url(base + "/network")
    await page.get_by_label("Période", exact=True).select_option("2024-03")
    await page.get_by_role("button", name="Afficher les chiffres").click()
    await page.wait_for_url(base + "/network?period=2024-03")
    assert await page.get_by_role("heading", level=1).inner_text() == "Réseau · mars 2024"
    members = page.locator("table.members")
    assert "a rendu compte (version 1)" in await members.locator("tr", has_text="Anne").inner_text()
    assert "manquant" in await members.locator("tr", has_text="Bert").inner_text()
    # the hub's own activity is a row of its own, shown as such
    assert "rapport propre (version 1)" in await members.locator("tr.own").inner_text()
    # the daily upkeep, at start, signed the summary of the period a member reported (it had ended)
    signed = await page.locator("section", has_text="Résumé signé").first.inner_text()
    assert "Résumé signé : version 1" in signed and "Il dit ce qui est affiché ici." in signed
    await shoot(page, "network")
    summaries = page.locator("section", has_text="Résumés signés pour cette période")
    assert "en vigueur" in await summaries.inner_text()

    await page.get_by_role("button", name="Signer le résumé").click()  # nothing new since
    await page.wait_for_url(base + "/network?period=2024-03&done=unchanged")
    assert "Rien n'a changé" in await page.get_by_role("status").first.inner_text()
    await page.close()
