"""A year of a network, built through the domain under a fixed clock, reported member to hub to national.

National, a hub and three member associations, each its own ``maillon run``
process on loopback with its own SQLite file. Before they federate, each
node's year (the last calendar year) is written through the domain under
``clock_at``: lots from donors received month after month, items
distributed, recycled, one handed to an association outside the
federation. Then the members join, and one of them (Repair Café) stays
down across every period end: the others send every month of the year by
themselves (each month missed, in order, not only the last one), the hub
signs the year, national reads it. When Repair Café comes back, it sends
its missed months too. At every level the year's figures are the sums of
what was entered, category by category; the hub's own lot (the State's)
is in them, counted once.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from livenodes import LiveNode, wait_for
from test_stats_live import enrol

from node.config import load_node
from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, recycle
from node.domain.donors import DonorInput, create_donor
from node.domain.happened import today as node_today  # the node's day (France), not the machine's
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.workflow import StepInput, move_items, record_step
from node.network.regional import sum_figures
from node.store.database import Store, clock_at
from protocol import canonical
from protocol.kinds import RegionalSummaryV2, StatsReport

PARIS = ZoneInfo("Europe/Paris")
YEAR = str(node_today().year - 1)
WEIGHT = {"desktop": 7500, "laptop": 2200, "smartphone": 180, "screen": 4500}
# Each node's year: per month (1-12), items received from a donor by category; of them, how many are
# distributed, recycled, and handed to an association outside the federation (left the network).
PLANS: dict[str, dict[int, tuple[dict[str, int], int, int, int]]] = {
    "Ordi Grand Ouest": {3: ({"desktop": 6, "laptop": 4}, 5, 1, 2), 9: ({"screen": 3}, 2, 0, 0)},  # the State's lots
    "Atelier du Lien": {1: ({"laptop": 3, "smartphone": 2}, 4, 0, 0), 6: ({"desktop": 2}, 1, 1, 0),
                        12: ({"laptop": 2}, 1, 0, 1)},
    "Repair Café": {2: ({"laptop": 5}, 3, 1, 0), 11: ({"screen": 2, "desktop": 1}, 2, 0, 0)},
    "Atelier Trimestriel": {4: ({"smartphone": 4}, 4, 0, 0), 8: ({"laptop": 1}, 0, 1, 0)},
}


def at(month: int, day: int, hour: int = 10) -> int:
    return int(datetime(int(YEAR), month, day, hour, tzinfo=PARIS).timestamp()) * 1000


def fill(node: LiveNode, plan: dict[int, tuple[dict[str, int], int, int, int]]) -> None:
    """Write the node's year through the domain, each step at its own day of the year."""

    async def go() -> None:
        loaded = load_node(node.data)
        store = await Store.open(loaded.db_path, loaded.key)
        try:
            for month, (received, given, recycled, left) in sorted(plan.items()):
                with clock_at(at(month, 3)):
                    async with store.transaction() as tx:
                        donor = await create_donor(tx, DonorInput(name=f"Donateur {month}", type="public_body"))
                        lot = await create_lot(tx, LotInput(reference=f"{node.name[:6]}-{month}", donor_id=donor))
                        specs = [ItemInput(category=c, storage="none", weight_g=WEIGHT[c])
                                 for c, n in received.items() for _ in range(n)]  # fmt: skip
                        ids = await create_items(tx, lot, specs)
                with clock_at(at(month, 10)):
                    async with store.transaction() as tx:
                        if given:
                            await record_step(tx, ids[:given], StepInput(state="sorted", orientation="refurbish"))
                            await record_step(tx, ids[:given], StepInput(state="ready"))
                            person = await create_beneficiary(tx, BeneficiaryInput(category="person"))
                            await distribute(tx, ids[:given], DistributionInput(beneficiary_id=person))
                with clock_at(at(month, 20)):
                    async with store.transaction() as tx:
                        if recycled:
                            await recycle(tx, OutflowInput(item_ids=ids[given:given + recycled], recipient="Ecologic",
                                                           waste_code="16 02 14", treatment="R4"))  # fmt: skip
                        if left:
                            await move_items(tx, ids[given + recycled:given + recycled + left], "transferred")
        finally:
            await store.close()

    asyncio.run(go())


def expected(names: list[str]) -> Counter:
    """What was entered, by figure key, over the nodes named."""
    total: Counter = Counter()
    for name in names:
        for received, given, recycled, left in PLANS[name].values():
            order = [c for c, n in received.items() for _ in range(n)]
            for category in order:
                total[f"entered.{category}.units"] += 1
                total[f"received.{category}.units"] += 1
            for category in order[:given]:
                total[f"distributed.{category}.units"] += 1
            for category in order[given:given + recycled]:
                total[f"recycled.{category}.units"] += 1
            for category in order[given + recycled:given + recycled + left]:
                total[f"left.{category}.units"] += 1
            total["lots.from_donors"] += 1
    return total


def flows(figures: dict[str, int]) -> Counter:
    keep = ("entered.", "received.", "distributed.", "recycled.", "left.")
    return Counter({k: v for k, v in figures.items()
                    if (k.startswith(keep) and k.endswith(".units") and k.count(".") == 2) or k == "lots.from_donors"})


def reports_of(node: LiveNode, author: bytes) -> list[tuple[str, int, dict]]:
    rows = node.query("SELECT seq, content FROM log_records WHERE author = ? AND kind = ? AND content IS NOT NULL"
                      " ORDER BY seq", (author, StatsReport.KIND))  # fmt: skip
    return [(body.period, row["seq"], dict(body.figures))
            for row in rows for body in [StatsReport.model_validate(canonical.decode(row["content"]))]]


def year_summary(node: LiveNode, hub: bytes) -> RegionalSummaryV2 | None:
    rows = node.query("SELECT content FROM log_records WHERE author = ? AND kind = ? AND content IS NOT NULL"
                      " ORDER BY seq DESC", (hub, RegionalSummaryV2.KIND))  # fmt: skip
    bodies = [RegionalSummaryV2.model_validate(canonical.decode(row[0])) for row in rows]
    return next((b for b in bodies if b.period == YEAR), None)


@pytest.mark.slow
def test_a_years_figures_add_up_member_to_hub_to_national_with_a_node_down_across_periods(make_node):
    national = make_node("Fédération nationale", role="national")
    hub = make_node("Ordi Grand Ouest", role="hub")
    members = {name: make_node(name, reachable=False)
               for name in ("Atelier du Lien", "Repair Café", "Atelier Trimestriel")}  # fmt: skip
    for node in (hub, *members.values()):
        fill(node, PLANS[node.name])
    national.start()
    token, _ = national.invite("hub")
    hub.cli("join", "--data", str(hub.data), national.url, "--token", token, "--fingerprint", national.fingerprint)
    hub.start()
    for name, member in members.items():
        enrol(member, hub, since=f"{YEAR}-01-01")
        member.cli("settings", "--data", str(member.data), "publication_policy",
                   json.dumps({"fates": "hub", "stats": "public", "workforce": "none"}))  # fmt: skip
    members["Atelier Trimestriel"].cli("settings", "--data", str(members["Atelier Trimestriel"].data),
                                       "stats_schedule", "quarterly")  # fmt: skip
    certified = "SELECT 1 FROM log_records WHERE author = ? AND kind = 'membership.certificate/1'"
    up = [members["Atelier du Lien"], members["Atelier Trimestriel"]]  # Repair Café stays down
    for member in up:
        member.start()
        wait_for(lambda m=member: m.value(certified, (hub.key,)), what=f"{member.name} holding its certificate")
        member.stop()  # its next start runs the daily upkeep, which now knows the membership
        member.start()
    for member in up:
        sent = wait_for(lambda m=member: [p for p, _, _ in reports_of(m, m.key) if p.startswith(YEAR)]
                        if len(reports_of(m, m.key)) >= 4 else None, what=f"{member.name}'s reports")  # fmt: skip
        periods = [p for p, _, _ in reports_of(member, member.key)]
        # every period missed, in order, once: not only the last one
        assert periods == sorted(periods, key=lambda p: (p[:4], p[5:].zfill(2))) and len(set(periods)) == len(periods)
        want = [f"{YEAR}-Q{q}" for q in range(1, 5)] if member.name == "Atelier Trimestriel" else \
            [f"{YEAR}-{m:02d}" for m in range(1, 13)]  # fmt: skip
        assert sent == want
        # the member's own figures of the year: the sum of its periods', what was entered
        year_of_member = sum_figures(f for p, _, f in reports_of(member, member.key) if p.startswith(YEAR))
        assert flows(year_of_member) == expected([member.name])
    for member in up:
        wait_for(lambda m=member: len([1 for p, _, _ in reports_of(hub, m.key) if p.startswith(YEAR)]) == len(
            [1 for p, _, _ in reports_of(m, m.key) if p.startswith(YEAR)]), what=f"{member.name}'s reports at the hub")

    # the hub signs the year while Repair Café is down: it is said missing, the others counted once
    hub.cli("summary", "sign", "--data", str(hub.data), "--period", YEAR)
    first = year_summary(hub, hub.key)
    assert first.missing == [members["Repair Café"].key] and first.own is not None
    assert flows(first.figures) == expected(["Ordi Grand Ouest", "Atelier du Lien", "Atelier Trimestriel"])

    # Repair Café comes back after the whole year down: it sends each month it missed, by itself
    repair = members["Repair Café"]
    repair.start()
    wait_for(lambda: repair.value(certified, (hub.key,)), what="Repair Café holding its certificate")
    repair.stop()
    repair.start()
    wait_for(lambda: len([1 for p, _, _ in reports_of(hub, repair.key) if p.startswith(YEAR)]) == 12,
             what="Repair Café's twelve months at the hub")  # fmt: skip
    assert flows(sum_figures(f for p, _, f in reports_of(repair, repair.key) if p.startswith(YEAR))) == expected(
        ["Repair Café"])  # fmt: skip
    assert "version 2" in hub.cli("summary", "sign", "--data", str(hub.data), "--period", YEAR)
    summary = year_summary(hub, hub.key)
    everyone = list(PLANS)
    assert summary.missing == [] and summary.withheld == [] and len(summary.reports) == 12 + 12 + 4
    assert flows(summary.figures) == expected(everyone)  # category by category, the hub's own lots once
    assert summary.figures["members.reporting"] == 3

    # national holds the same figures, and says it verified them: every report read and added up
    wait_for(lambda: (s := year_summary(national, hub.key)) is not None and s.version == 2,
             what="national holding the year's summary")  # fmt: skip
    assert flows(year_summary(national, hub.key).figures) == expected(everyone)
    line = f"  {YEAR:<8} v2  {'verified':<12}  29/29 report(s) held, 29 readable, 0 missing, sum checked"
    wait_for(lambda: line in national.cli("summary", "list", "--data", str(national.data)).splitlines(),
             what="national verifying the year")  # fmt: skip
