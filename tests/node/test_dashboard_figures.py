"""The dashboard's months and waiting items, on a real SQLite file built with the domain functions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import node.domain.distribution
import node.domain.items
import node.domain.workflow
from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, distribute
from node.domain.impact import FACTOR_TABLES
from node.domain.items import ItemInput, create_items
from node.domain.stats import DAY_MS, compute_stats, period_bounds
from node.domain.workflow import StepInput, correct_event, record_step
from node.errors import Invalid
from node.queries.dashboard_figures import (
    IN_WORKSHOP,
    current_periods,
    distributed_by_month,
    last_months,
    waiting_items,
)  # fmt: skip
from node.validation import parse

PARIS = ZoneInfo("Europe/Paris")
ADEME = FACTOR_TABLES["ademe-2022"]


def paris(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS).timestamp()) * 1000


class Clock:
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


async def receive(store, clock, when: int, count: int) -> list[int]:
    clock.now = when
    async with store.transaction() as tx:
        laptop = parse(ItemInput, {"category": "laptop", "storage": "none"})
        return await create_items(tx, None, [laptop] * count)


async def step(store, clock, when: int, ids: list[int], *states: str) -> None:
    clock.now = when
    async with store.transaction() as tx:
        for state in states:
            fields = {"state": state, "orientation": "refurbish"} if state == "sorted" else {"state": state}
            await record_step(tx, ids, parse(StepInput, fields))


async def give(store, clock, when: int, ids: list[int]) -> list[int]:
    clock.now = when
    async with store.transaction() as tx:
        beneficiary = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "person"}))
        return await distribute(tx, ids, parse(DistributionInput, {"beneficiary_id": beneficiary}))


def test_current_periods_follow_paris_time():
    # 23:30 UTC on December 31 is already the new year in Paris.
    assert current_periods(paris("2025-01-01 00:30")) == ("2025-01", "2025")
    assert current_periods(paris("2024-12-31 23:59")) == ("2024-12", "2024")
    assert current_periods(paris("2024-03-31 02:30")) == ("2024-03", "2024")  # the DST change


def test_last_months_cross_the_year_and_are_contiguous():
    months = last_months(paris("2025-02-10 12:00"), 12)
    assert [m[0] for m in months][:3] == ["2024-03", "2024-04", "2024-05"] and months[-1][0] == "2025-02"
    assert all(a[2] == b[1] for a, b in zip(months, months[1:]))
    assert months[-1][1:] == period_bounds("2025-02")
    assert [m[0] for m in last_months(paris("2025-01-05 12:00"), 1)] == ["2025-01"]
    with pytest.raises(Invalid):
        last_months(0, 0)


async def test_distributed_by_month(store, clock):
    a = await receive(store, clock, paris("2024-01-10 10:00"), 6)
    await step(store, clock, paris("2024-01-11 10:00"), a, "sorted", "ready")
    await give(store, clock, paris("2024-01-31 23:30"), a[:2])  # January in Paris, February in UTC
    await give(store, clock, paris("2024-03-01 00:10"), a[2:3])
    wrong = await give(store, clock, paris("2024-03-02 10:00"), a[3:4])
    clock.now = paris("2024-03-03 10:00")
    async with store.transaction() as tx:
        await correct_event(tx, wrong[0], "wrong person")  # no longer counted
    early = await receive(store, clock, paris("2023-02-01 10:00"), 1)
    await step(store, clock, paris("2023-02-02 10:00"), early, "sorted", "ready")
    await give(store, clock, paris("2023-02-15 10:00"), early)  # thirteen months before: outside
    async with store.reader() as db:
        months = await distributed_by_month(db, now=paris("2024-03-20 12:00"))
    assert len(months) == 12 and months[0].month == "2023-04" and months[-1].month == "2024-03"
    assert {m.month: m.units for m in months if m.units} == {"2024-01": 2, "2024-03": 1}
    # The same definition as the statistics.
    start, end = period_bounds("2024-01")
    async with store.reader() as db:
        stats = await compute_stats(db, start, end, years=3, factors=ADEME)
    assert stats.fate_units("distributed") == 2


async def test_waiting_items_match_the_statistics(store, clock):
    old = await receive(store, clock, paris("2024-01-01 10:00"), 3)
    await step(store, clock, paris("2024-01-05 10:00"), old[:1], "sorted")
    await step(store, clock, paris("2024-01-03 10:00"), old[1:2], "sorted", "ready")
    await give(store, clock, paris("2024-01-06 10:00"), old[1:2])  # gone: not waiting
    recent = await receive(store, clock, paris("2024-05-20 10:00"), 2)
    now = paris("2024-06-01 12:00")
    async with store.reader() as db:
        waiting = await waiting_items(db, now=now, days=90, limit=10)
        stats = await compute_stats(db, *period_bounds("2024"), years=3, factors=ADEME, now=now)
        one = await waiting_items(db, now=now, days=90, limit=1)
        none = await waiting_items(db, now=now, days=400)
        everything = await waiting_items(db, now=now, days=0, limit=0)
        with pytest.raises(Invalid):
            await waiting_items(db, now=now, days=-1)
    assert waiting.count == 2 == stats.stale_units
    # Oldest first: the item still received since January 1, then the one sorted on January 5.
    assert [(w.id, w.state) for w in waiting.oldest] == [(old[2], "received"), (old[0], "sorted")]
    first = waiting.oldest[0]
    assert first.asset_tag.startswith("MLN-") and first.state_since == paris("2024-01-01 10:00")
    assert [w.id for w in one.oldest] == [old[2]] and one.count == 2
    assert none.count == 0 and none.oldest == []
    assert everything.count == 2 + len(recent) and everything.oldest == []


def test_in_workshop_states():
    assert IN_WORKSHOP == ("received", "sorted", "tested", "erased", "refurbished", "ready", "reserved")
    assert DAY_MS == 86_400_000
