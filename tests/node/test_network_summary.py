"""A hub's regional.summary/2: its own report, a year from its periods, and the publication rule (k members)."""

from __future__ import annotations

import pytest
from test_regional import ANNE, BERT, HUB, MARCH, Member, certify, hold, key, paris

from node.domain.donors import DonorInput, create_donor
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.settings import set_setting
from node.network import peers, regional
from node.network.summary_rules import Contribution, publish
from node.store.database import clock_at
from protocol.kinds import RegionalSummaryV2

DANI, EMIL = key("dani"), key("emil")
NATIONAL = key("national").public.raw


@pytest.fixture
async def hub(store):
    """A hub admitted by national, with four members from January 2024."""
    for member, name in ((ANNE, "Anne"), (BERT, "Bert"), (DANI, "Dani"), (EMIL, "Emil")):
        await certify(store, member, name, start="2024-01-01")
    async with store.transaction() as tx:
        await peers.pin_peer(tx, NATIONAL, name="Fédération", role="national", relation="upstream")
    return store


def hub_only(member: Member) -> tuple[bytes, ...]:
    """The audience of a report its author shares with its hub alone (publication_policy stats: hub)."""
    return tuple(sorted({member.key.public.raw, HUB}))


async def summary(store, period: str = MARCH) -> RegionalSummaryV2:
    async with store.transaction() as tx:
        record = await regional.sign_summary(tx, period)
    return record.body()


async def test_a_figure_shared_with_the_hub_only_reaches_national_only_pooled_over_k_members(hub):
    anne, bert, dani, emil = Member(ANNE), Member(BERT), Member(DANI), Member(EMIL)
    await hold(hub, anne.report(MARCH, {"received.laptop.units": 5, "beneficiaries.person": 2}, at="2024-04-02"),
               bert.report(MARCH, {"received.laptop.units": 3, "workforce.volunteers": 7}, at="2024-04-02",
                           audience=hub_only(bert)),
               dani.report(MARCH, {"received.laptop.units": 2}, at="2024-04-02", audience=hub_only(dani)),
               emil.report(MARCH, {"received.laptop.units": 1}, at="2024-04-02", audience=hub_only(emil)))  # fmt: skip
    body = await summary(hub)
    # public figures go as they are; three hub-only members pool their laptops; Bert's workforce alone is withheld
    assert body.figures["beneficiaries.person"] == 2 and "beneficiaries.person" not in body.pooled
    assert body.figures["received.laptop.units"] == 11 and "received.laptop.units" in body.pooled
    assert "workforce.volunteers" not in body.figures and body.withheld == ["workforce.volunteers"]
    assert body.min_members == 3
    async with hub.transaction() as tx:  # the hub asks for more members per pooled figure
        await set_setting(tx, "summary_min_members", 4)
    body = await summary(hub)
    assert "received.laptop.units" not in body.figures and "received.laptop.units" in body.withheld
    assert body.min_members == 4 and body.version == 2
    async with hub.reader() as db:  # the hub itself still sees every figure
        assert (await regional.aggregate(db, HUB, MARCH)).all_figures["workforce.volunteers"] == 7


def test_one_hidden_member_beside_public_ones_is_not_pooled():
    """With public reports beside one hidden report, a reader would subtract them: that figure is withheld."""
    public = [Contribution(bytes([n]) * 32, {"x": n}, True) for n in range(1, 5)]
    hidden = Contribution(bytes([9]) * 32, {"x": 9}, False)
    assert publish({"x": 19}, [*public, hidden], 3).withheld == ["x"]


async def test_the_hubs_own_activity_is_in_its_summary_shown_as_such(hub):
    with clock_at(paris("2024-03-05")):  # the State's lot arrives at the hub's warehouse
        async with hub.transaction() as tx:
            donor = await create_donor(tx, DonorInput(name="Préfecture", type="public_body"))
            lot = await create_lot(tx, LotInput(reference="ETAT-1", donor_id=donor))
            await create_items(tx, lot, [ItemInput(category="desktop", weight_g=8000) for _ in range(3)])
    anne = Member(ANNE)
    await hold(hub, anne.report(MARCH, {"distributed.laptop.units": 2}, at="2024-04-02"))
    body = await summary(hub)
    async with hub.reader() as db:
        own = await regional.own_report(db, (HUB,), MARCH)
    assert body.own == own.id and own.id not in body.reports
    assert own.figures["entered.desktop.units"] == 3 and own.figures["lots.from_donors"] == 1
    assert body.figures["entered.desktop.units"] == 3 and body.figures["distributed.laptop.units"] == 2
    assert body.figures["members.reporting"] == 1  # the hub is not one of its members


async def test_a_years_summary_is_the_sum_of_its_periods_each_counted_once(hub):
    anne, bert = Member(ANNE), Member(BERT)
    months = [anne.report(f"2024-{m:02d}", {"received.laptop.units": m}, at=f"2024-{m + 1:02d}-02") for m in (1, 2, 3)]
    quarters = [anne.report(f"2024-Q{q}", {"received.laptop.units": 10 * q}, at=f"2024-{3 * q + 1:02d}-03")
                for q in (2, 3)]  # fmt: skip
    october = anne.report("2024-10", {"received.laptop.units": 100}, at="2024-11-02")
    yearly = bert.report("2024", {"received.laptop.units": 1000}, at="2025-01-05")
    june = bert.report("2024-06", {"received.laptop.units": 7}, at="2024-07-02")  # within Bert's yearly report
    await hold(hub, *months, *quarters, october, yearly, june)
    body = await summary(hub, "2024")
    assert sorted(body.reports) == sorted(r.id for r in (*months, *quarters, october, yearly))
    own = body.figures["received.laptop.units"] - (1 + 2 + 3 + 20 + 30 + 100 + 1000)
    assert own == 0  # the hub received nothing itself
    assert body.missing == sorted([DANI.public.raw, EMIL.public.raw]) and body.figures["members.reporting"] == 2


async def test_a_quarter_or_a_year_holds_the_hubs_own_months_until_it_signs_a_report_of_its_own(hub):
    """The hub reports month by month (its schedule): its quarter and its year still hold its own activity."""
    from node.network.stats_reports import publish_report
    from node.reports import network_year

    with clock_at(paris("2024-02-05")):  # the State's lot arrives at the hub's warehouse in February
        async with hub.transaction() as tx:
            donor = await create_donor(tx, DonorInput(name="Préfecture", type="public_body"))
            lot = await create_lot(tx, LotInput(reference="ETAT-1", donor_id=donor))
            await create_items(tx, lot, [ItemInput(category="desktop", weight_g=8000) for _ in range(3)])
    async with hub.transaction() as tx:
        for month in ("2024-01", "2024-02", "2024-03"):
            await publish_report(tx, month)
    await hold(hub, Member(ANNE).report("2024-Q1", {"entered.laptop.units": 2}, at="2024-04-02"))
    async with hub.reader() as db:
        quarter = await regional.aggregate(db, HUB, "2024-Q1")
        year = await network_year.year_figures(db, HUB, "2024")
    assert quarter.own is None and [r.period for r in quarter.own_parts] == ["2024-01", "2024-02", "2024-03"]
    assert quarter.all_figures["entered.desktop.units"] == 3 and quarter.all_figures["entered.laptop.units"] == 2
    assert quarter.figures["lots.from_donors"] == 1
    assert year.figures["entered.desktop.units"] == 3 and year.figures["entered.desktop.weight_g"] == 24_000
    # the quarter's summary: the hub's own report of the quarter takes the months' place, counted once
    body = await summary(hub, "2024-Q1")
    async with hub.reader() as db:
        signed = await regional.aggregate(db, HUB, "2024-Q1")
    assert body.own == signed.own.id and signed.own_parts == []
    assert body.figures["entered.desktop.units"] == 3 and body.figures["lots.from_donors"] == 1


async def test_a_members_workforce_counts_once_in_a_quarter_it_reported_month_by_month(hub):
    """FTE and volunteers describe the association, not the period: three monthly reports are not 3 × its staff."""
    from node.network import national

    anne, bert = Member(ANNE), Member(BERT)
    staff = {"workforce.fte_hundredths": 450, "workforce.volunteers": 12}
    months = [anne.report(f"2024-{m:02d}", {"received.laptop.units": m, **staff}, at=f"2024-{m + 1:02d}-02")
              for m in (1, 2)]  # fmt: skip
    march = anne.report("2024-03", {"received.laptop.units": 3, "workforce.fte_hundredths": 500,
                                    "workforce.volunteers": 12}, at="2024-04-02")  # fmt: skip
    quarter = bert.report("2024-Q1", {"received.laptop.units": 10, "workforce.fte_hundredths": 200},
                          at="2024-04-03")  # fmt: skip
    await hold(hub, *months, march, quarter)
    body = await summary(hub, "2024-Q1")
    assert body.figures["received.laptop.units"] == 1 + 2 + 3 + 10  # flows add up over the months
    # Anne's staff as of her latest month (March), once, beside Bert's
    assert body.figures["workforce.fte_hundredths"] == 500 + 200 and body.figures["workforce.volunteers"] == 12
    async with hub.reader() as db:
        signed = (await regional.list_summaries(db, (HUB,), "2024-Q1"))[0]
        check = await national.check_summary(db, (HUB,), signed)
        year = await regional.aggregate(db, HUB, "2024")
    assert check.state == "verified" and check.problems == []  # national adds up the same way
    assert year.all_figures["workforce.fte_hundredths"] == 700
