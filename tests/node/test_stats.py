"""Period figures and avoided impact, on a real SQLite file built with the domain functions.

The workshop's clock is set by hand (the domain modules read ``now_ms``),
so every figure below is known exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import node.domain.distribution
import node.domain.items
import node.domain.workflow
from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, recycle
from node.domain.donors import DonorInput, create_donor
from node.domain.impact import FACTOR_TABLES, Factor, FactorTable, factor_table, format_kg, impact
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.stats import DAY_MS, FIGURE_KEY, compute_stats, period_bounds
from node.domain.workflow import StepInput, correct_event, move_items, record_step, remove_storage
from node.errors import Invalid, NotFound
from node.validation import parse

ADEME = FACTOR_TABLES["ademe-2022"]
PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> int:
    """Protocol time of a Paris wall-clock time, ``YYYY-MM-DD HH:MM``."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS).timestamp()) * 1000


def utc(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()) * 1000


class Clock:
    """Stands for ``now_ms`` in the domain modules."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (node.domain.items, node.domain.workflow, node.domain.distribution):
        monkeypatch.setattr(module, "now_ms", clock)
    return clock


async def receive(store, clock: Clock, when: int, specs: list[dict]) -> list[int]:
    clock.now = when
    async with store.transaction() as tx:
        lot = await tx.value("SELECT id FROM lots LIMIT 1")
        if lot is None:
            donor = await create_donor(tx, parse(DonorInput, {"name": "Préfecture", "type": "public_body"}))
            lot = await create_lot(tx, parse(LotInput, {"reference": "L-1", "donor_id": donor}))
        return await create_items(tx, lot, [parse(ItemInput, s) for s in specs])


async def steps(store, clock: Clock, when: int, ids: list[int], *states: str) -> None:
    clock.now = when
    async with store.transaction() as tx:
        for state in states:
            fields = {"state": state, "orientation": "refurbish"} if state == "sorted" else {"state": state}
            await record_step(tx, ids, parse(StepInput, fields))


async def give(store, clock: Clock, when: int, ids: list[int], beneficiary: int) -> list[int]:
    clock.now = when
    async with store.transaction() as tx:
        return await distribute(tx, ids, parse(DistributionInput, {"beneficiary_id": beneficiary}))


async def beneficiary(store, category: str) -> int:
    async with store.transaction() as tx:
        return await create_beneficiary(tx, parse(BeneficiaryInput, {"category": category}))


def no_disk(category: str) -> dict:
    # Storage taken out before arrival: the erasure rule does not hold these items back.
    return {"category": category, "storage": "none"}


@pytest.fixture
async def workshop(store, clock):
    """February and March 2024 in a Paris workshop, then April; see the expected figures below."""
    (l0,) = await receive(store, clock, paris("2024-02-10 10:00"), [no_disk("laptop")])
    (old,) = await receive(store, clock, paris("2024-01-15 10:00"), [no_disk("laptop")])
    await steps(store, clock, paris("2024-01-20 10:00"), [old], "sorted", "tested")
    l1, l2, l3, l4, d1, d2, s1, p1, t1 = await receive(store, clock, paris("2024-03-04 09:00"), [
        no_disk("laptop"), no_disk("laptop"), no_disk("laptop"), {"category": "laptop", "storage_gb": 256},
        no_disk("desktop"), no_disk("desktop"), {"category": "screen"}, no_disk("smartphone"), no_disk("tablet"),
    ])  # fmt: skip
    clock.now = paris("2024-03-04 11:00")
    async with store.transaction() as tx:  # a note on a received item: not a second reception
        await remove_storage(tx, [l4], destroyed=True)
    a, b, e = [await beneficiary(store, "person") for _ in range(3)]
    c = await beneficiary(store, "school")

    await steps(store, clock, paris("2024-03-05 09:00"), [p1], "dismantled")
    await steps(store, clock, paris("2024-03-06 09:00"), [l0, l1, l2, l3, l4, d1, s1], "sorted", "ready")
    await give(store, clock, paris("2024-03-12 10:00"), [l0, l1], a)
    await give(store, clock, paris("2024-03-12 10:00"), [l2], c)
    await give(store, clock, paris("2024-03-12 10:00"), [d1, s1], b)
    clock.now = paris("2024-03-15 09:00")
    async with store.transaction() as tx:
        await recycle(tx, parse(OutflowInput, {"item_ids": [d2], "recipient": "Ecologic", "waste_code": "16 02 14",
                                               "treatment": "R4"}))  # fmt: skip
        await recycle(tx, parse(OutflowInput, {"recipient": "Ecologic", "waste_code": "16 02 16", "weight_g": 12_000,
                                               "treatment": "R4"}))  # fmt: skip
    (wrong,) = await give(store, clock, paris("2024-03-20 10:00"), [l3], e)
    clock.now = paris("2024-03-21 10:00")
    async with store.transaction() as tx:
        await correct_event(tx, wrong, "given to the wrong person")
    clock.now = paris("2024-03-25 09:00")
    async with store.transaction() as tx:
        await move_items(tx, [t1], "transferred")

    await give(store, clock, paris("2024-04-03 10:00"), [l4], a)
    clock.now = paris("2024-04-10 09:00")
    async with store.transaction() as tx:
        await recycle(tx, parse(OutflowInput, {"recipient": "Ecologic", "waste_code": "16 02 16", "weight_g": 5_000,
                                               "treatment": "R4"}))  # fmt: skip
    return store


async def stats_of(store, period: str, **options):
    start, end = period_bounds(period)
    async with store.reader() as db:
        return await compute_stats(db, start, end, years=3, factors=ADEME, now=paris("2024-06-01 12:00"), **options)


async def test_march_figures(workshop):
    stats = await stats_of(workshop, "2024-03")
    assert stats.as_figures() == {
        # 4 laptops, 2 desktops, a screen, a phone and a tablet arrived on March 4.
        "received.laptop.units": 4, "received.laptop.weight_g": 4 * 2200,
        "received.desktop.units": 2, "received.desktop.weight_g": 2 * 7500,
        "received.screen.units": 1, "received.screen.weight_g": 4500,
        "received.smartphone.units": 1, "received.smartphone.weight_g": 180,
        "received.tablet.units": 1, "received.tablet.weight_g": 500,
        # L0 (received in February), L1, L2; L3's distribution was corrected.
        "distributed.laptop.units": 3, "distributed.desktop.units": 1, "distributed.screen.units": 1,
        "recycled.desktop.units": 1, "recycled.desktop.weight_g": 7500,
        "dismantled.smartphone.units": 1, "dismantled.smartphone.weight_g": 180,
        "transferred.tablet.units": 1,
        # every item came from the lot's donor: it entered the network; the tablet left it (no hand-off: outside)
        "entered.laptop.units": 4, "entered.laptop.weight_g": 4 * 2200,
        "entered.desktop.units": 2, "entered.desktop.weight_g": 2 * 7500,
        "entered.screen.units": 1, "entered.screen.weight_g": 4500,
        "entered.smartphone.units": 1, "entered.smartphone.weight_g": 180,
        "entered.tablet.units": 1, "entered.tablet.weight_g": 500,
        "left.tablet.units": 1,
        "recycled.weight_g": 7500 + 12_000,  # the desktop's outflow and loose cables; April's is not counted
        "beneficiaries.person": 2,  # a and b; e only had the corrected distribution
        "beneficiaries.school": 1,
        "reuse_rate_permille": 714,  # 5 / (5 + 1 + 1)
        # Days to fate: 1 (phone), 8 × 4 (Mar 12), 11 (recycled), 21 (transferred), 31 (L0 from Feb 10).
        "lead_time.median_days": 8, "lead_time.mean_days": 12,
        # Now (June 1): L3 back to ready; the January laptop tested since January 20.
        "stock.ready.laptop.units": 1, "stock.tested.laptop.units": 1,
        "stock.stale.units": 1, "stock.stale_days": 90,
        "impact.years": 3,
        "impact.laptop.co2e_g": 3 * 3 * 27_000, "impact.laptop.materials_g": 3 * 3 * 127_000,
        "impact.desktop.co2e_g": 1 * 3 * 42_000, "impact.desktop.materials_g": 1 * 3 * 259_000,
        "impact.co2e_g": 243_000 + 126_000, "impact.materials_g": 1_143_000 + 777_000,
        "impact.unfactored.screen.units": 1,
    }  # fmt: skip
    assert stats.fate_units("distributed") == 5


async def test_other_periods(workshop):
    february = (await stats_of(workshop, "2024-02")).as_figures()
    assert february["received.laptop.units"] == 1 and "distributed.laptop.units" not in february
    assert "reuse_rate_permille" not in february and "lead_time.median_days" not in february
    assert february["impact.co2e_g"] == 0 and february["recycled.weight_g"] == 0

    q2 = (await stats_of(workshop, "2024-Q2")).as_figures()
    assert {k: v for k, v in q2.items() if k.split(".")[0] in ("distributed", "recycled", "beneficiaries")} == {
        "distributed.laptop.units": 1, "recycled.weight_g": 5000, "beneficiaries.person": 1,
    }  # fmt: skip
    assert (q2["reuse_rate_permille"], q2["lead_time.median_days"], q2["lead_time.mean_days"]) == (1000, 30, 30)

    year = (await stats_of(workshop, "2024")).as_figures()
    assert year["received.laptop.units"] == 6 and year["distributed.laptop.units"] == 4
    assert year["recycled.weight_g"] == 24_500 and year["beneficiaries.person"] == 2
    assert year["reuse_rate_permille"] == 750  # 6 / 8
    assert all(FIGURE_KEY.match(key) for key in year) and all(type(v) is int for v in year.values())


async def test_stale_threshold_is_a_parameter(workshop):
    # The January laptop waits since January 20 (133 days on June 1), L3 since March 21 (72 days).
    stats = await stats_of(workshop, "2024-03", stale_days=60)
    assert (stats.stale_units, stats.as_figures()["stock.stale_days"]) == (2, 60)
    stats = await stats_of(workshop, "2024-03", stale_days=100)
    assert stats.stale_units == 1
    stats = await stats_of(workshop, "2024-03", stale_days=200)
    assert stats.stale_units == 0


async def test_impact_in_stats_shows_its_formula(workshop):
    stats = await stats_of(workshop, "2024-03")
    assert stats.impact.version == "ademe-2022"
    assert stats.impact.formula_lines()[0] == "laptop: 3 × 3 years × 27.0 kg CO2e/year = 243.0 kg CO2e"
    assert "screen: 1 units not counted (no factor in ademe-2022)" in stats.impact.formula_lines()


async def test_reception_at_midnight_in_paris(store, clock):
    # 23:30 UTC on Feb 29 is already March 1 in Paris; 22:30 UTC is still February.
    await receive(store, clock, utc("2024-02-29 22:30"), [no_disk("laptop")])
    await receive(store, clock, utc("2024-02-29 23:30"), [no_disk("desktop")])
    february, march = await stats_of(store, "2024-02"), await stats_of(store, "2024-03")
    assert set(february.received) == {"laptop"} and set(march.received) == {"desktop"}


async def test_empty_database(store):
    stats = await stats_of(store, "2024")
    assert stats.as_figures() == {
        "recycled.weight_g": 0, "stock.stale.units": 0, "stock.stale_days": 90,
        "impact.years": 3, "impact.co2e_g": 0, "impact.materials_g": 0,
    }  # fmt: skip
    assert (stats.reuse_rate_permille, stats.lead_time_median_days, stats.lead_time_mean_days) == (None, None, None)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2024-03", "2024-02-29 23:00", "2024-03-31 22:00"),  # summer time starts on March 31
        ("2024-01", "2023-12-31 23:00", "2024-01-31 23:00"),
        ("2024-12", "2024-11-30 23:00", "2024-12-31 23:00"),
        ("2024-Q1", "2023-12-31 23:00", "2024-03-31 22:00"),
        ("2024-Q3", "2024-06-30 22:00", "2024-09-30 22:00"),
        ("2024-Q4", "2024-09-30 22:00", "2024-12-31 23:00"),
        ("2024", "2023-12-31 23:00", "2024-12-31 23:00"),
    ],
)
def test_period_bounds_are_paris_calendar_periods(period, start, end):
    assert period_bounds(period) == (utc(start), utc(end))


def test_period_bounds_in_another_time_zone():
    assert period_bounds("2024-07", tz="UTC") == (utc("2024-07-01 00:00"), utc("2024-08-01 00:00"))
    assert period_bounds("2024-07", tz="America/Cayenne") == (utc("2024-07-01 03:00"), utc("2024-08-01 03:00"))


@pytest.mark.parametrize(
    "period",
    ["", "24", "2024-13", "2024-00", "2024-1", "2024-Q0", "2024-Q5", "2024/03", "2024-03-01", " 2024", "2024-q1",
     "0000", "9999", "２０２４", None],
)  # fmt: skip
def test_bad_periods_are_refused(period):
    with pytest.raises(Invalid) as caught:
        period_bounds(period)
    assert caught.value.code == "invalid_period"


def test_unknown_time_zone_is_refused():
    with pytest.raises(Invalid, match="Mars/Olympus"):
        period_bounds("2024", tz="Mars/Olympus")


async def test_reversed_bounds_are_refused(store):
    async with store.reader() as db:
        with pytest.raises(Invalid):
            await compute_stats(db, 10 * DAY_MS, DAY_MS, years=3, factors=ADEME)


def test_impact_of_the_network_laptops():
    result = impact({"laptop": 550}, 3, ADEME)
    assert (result.co2e_g, result.materials_g) == (550 * 3 * 27_000, 550 * 3 * 127_000)
    assert result.co2e_g == 44_550_000
    assert result.formula_lines() == [
        "laptop: 550 × 3 years × 27.0 kg CO2e/year = 44 550.0 kg CO2e",
        "laptop: 550 × 3 years × 127.0 kg raw materials/year = 209 550.0 kg raw materials",
        "total: 44 550.0 kg CO2e and 209 550.0 kg raw materials avoided, assuming 3 years of second life",
        "factors: ademe-2022, ADEME 2022, Évaluation de l'impact environnemental d'un ensemble de produits"
        " reconditionnés. Desktop figures as cited by the Ordi Grand Ouest 2023 activity report;"
        " screens were not in the study.",
    ]


def test_impact_of_the_network_year_2023():
    # 1 224 desktops, 550 laptops, 57 phones and tablets (counted here as phones), one year of second life.
    result = impact({"desktop": 1224, "laptop": 550, "smartphone": 57, "screen": 300}, 1, ADEME)
    assert [line.category for line in result.lines] == ["laptop", "desktop", "smartphone"]
    assert result.co2e_g == 550 * 27_000 + 1224 * 42_000 + 57 * 24_600 == 67_660_200
    assert result.materials_g == 550 * 127_000 + 1224 * 259_000 + 57 * 76_900
    assert dict(result.unfactored) == {"screen": 300}
    lines = result.formula_lines()
    assert "smartphone: 57 × 1 year × 24.6 kg CO2e/year = 1 402.2 kg CO2e" in lines
    assert "desktop: 1 224 × 1 year × 42.0 kg CO2e/year = 51 408.0 kg CO2e" in lines
    assert "screen: 300 units not counted (no factor in ademe-2022)" in lines
    assert any("67 660.2 kg CO2e" in line and "1 year of second life" in line for line in lines)


def test_impact_factor_table_is_sourced_and_frozen():
    assert factor_table("ademe-2022") is ADEME
    assert ADEME.source.startswith("ADEME 2022, Évaluation de l'impact environnemental")
    assert "Ordi Grand Ouest 2023" in ADEME.note
    assert dict(ADEME.factors) == {
        "laptop": Factor(27_000, 127_000), "desktop": Factor(42_000, 259_000),
        "smartphone": Factor(24_600, 76_900), "tablet": Factor(20_000, 80_000),
    }  # fmt: skip
    with pytest.raises(TypeError):
        ADEME.factors["screen"] = Factor(1, 1)  # type: ignore[index]
    with pytest.raises(NotFound):
        factor_table("ademe-2031")
    with pytest.raises(ValueError):
        Factor(27.5, 127_000)  # type: ignore[arg-type]


def test_impact_refuses_bad_input():
    for years in (0, -1, 2.5):
        with pytest.raises(Invalid):
            impact({"laptop": 1}, years, ADEME)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        impact({"laptop": -1}, 3, ADEME)


def test_impact_with_another_table():
    table = FactorTable("test-1", "a test", {"screen": Factor(1_500, 10_001)})
    result = impact({"screen": 2, "laptop": 1}, 2, table)
    assert (result.co2e_g, result.materials_g, dict(result.unfactored)) == (6_000, 40_004, {"laptop": 1})
    assert result.formula_lines()[1] == "screen: 2 × 2 years × 10.001 kg raw materials/year = 40.004 kg raw materials"
    assert result.formula_lines()[-1] == "factors: test-1, a test"


def test_format_kg_is_exact():
    assert [format_kg(g) for g in (0, 5, 24_600, 24_650, 1_000_000, 44_550_000, -1_500)] == [
        "0.0", "0.005", "24.6", "24.65", "1 000.0", "44 550.0", "-1.5",
    ]  # fmt: skip
