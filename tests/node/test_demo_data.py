"""The demonstration's year of activity: the numbers of DOMAIN.md, and every rule of the domain kept."""

from __future__ import annotations

import json
from datetime import date

import pytest

from node.categories import PRICE_CAP_CENTS
from node.cli.demo_data import PLANS, ended_months, generate, history_start, sort_received_lot
from node.domain.erasure import needs_erasure
from node.domain.impact import FACTOR_TABLES
from node.domain.lots import lot_id_by_reference
from node.domain.states import FATES
from node.domain.stats import compute_stats, period_bounds
from node.store.database import clock_at, day_ms
from protocol.log import verify_log, write_log
from protocol.records import open_envelope

TODAY = date(2026, 3, 18)
START = history_start(TODAY)


async def year_of(store, slug: str, *, scale: float = 1.0):
    with clock_at(day_ms(TODAY) + 3 * 3_600_000):  # "now" is that afternoon
        return await generate(store, PLANS[slug], start=START, today=TODAY, scale=scale)


def test_the_year_is_the_twelve_months_before_this_one():
    assert history_start(TODAY) == date(2025, 3, 1)
    assert ended_months(START, TODAY) == [f"2025-{m:02d}" for m in range(3, 13)] + ["2026-01", "2026-02"]
    assert ended_months(history_start(date(2026, 1, 5)), date(2026, 1, 5))[-1] == "2025-12"


async def test_the_hub_holds_the_state_experiment_in_its_warehouse(store):
    made = await year_of(store, "ordi-grand-ouest")
    assert made.lots == 5 and made.items == 1350 and made.states == {"received": 1350}
    async with store.reader() as db:
        lots = await db.all("SELECT l.reference, l.declared_units, l.counted_units, l.declared_weight_g, d.type"
                            " FROM lots l JOIN donors d ON d.id = l.donor_id")  # fmt: skip
        donors = await db.value("SELECT count(*) FROM donors WHERE type = 'public_body'")
    assert donors == 4  # 4 administrations
    assert sum(r["declared_units"] for r in lots) == 1350 == sum(r["counted_units"] for r in lots)
    assert sum(r["declared_weight_g"] for r in lots) > 5_000_000  # over 5 t
    assert all(r["type"] == "public_body" for r in lots)


async def test_the_region_bretagne_lot_at_a_member(store):
    await year_of(store, "atelier-du-lien")
    async with store.reader() as db:
        lot = await db.one("SELECT id, declared_units, declared_weight_g, site FROM lots WHERE reference = 'RB-2024-18P'")
        items = await db.value("SELECT count(*) FROM items WHERE lot_id = ?", (lot["id"],))
    assert lot["declared_units"] == items == 1200
    assert lot["declared_weight_g"] > 3_500_000 and "18 palettes" in lot["site"]


async def test_la_postes_five_lots_at_a_member(store):
    await year_of(store, "ordi-solidaire-brest")
    async with store.reader() as db:
        rows = await db.all("SELECT l.declared_units, l.declared_weight_g FROM lots l JOIN donors d ON d.id = l.donor_id"
                            " WHERE d.name = 'La Poste'")  # fmt: skip
    assert len(rows) == 5
    assert sum(r[0] for r in rows) == 100 and sum(r[1] for r in rows) == 850_000


async def test_every_rule_holds_through_a_members_year(store):
    made = await year_of(store, "atelier-du-lien")
    assert made.states["distributed"] > 900 and made.states.get("recycled") and made.states.get("dismantled")
    assert made.erasures > 700 and made.beneficiaries > 300
    async with store.reader() as db:
        # no item that may hold data left without a successful erasure (or its storage removed)
        distributed = await db.all("SELECT i.id, i.category, i.storage, EXISTS (SELECT 1 FROM erasures e WHERE"
                                   " e.item_id = i.id AND e.result = 'success') AS erased FROM items i"
                                   " WHERE i.state = 'distributed'")  # fmt: skip
        assert all(r["erased"] for r in distributed if needs_erasure(r["category"], r["storage"]))
        assert sum(r["erased"] for r in distributed) > 700
        # prices under the caps, free where the donor asked, sold only to people and associations for public bodies
        sales = await db.all("SELECT i.category, x.price_cents, b.category AS beneficiary, d.type, l.orientations"
                             " FROM distributions x JOIN items i ON i.id = x.item_id JOIN lots l ON l.id = i.lot_id"
                             " JOIN donors d ON d.id = l.donor_id JOIN beneficiaries b ON b.id = x.beneficiary_id")  # fmt: skip
        assert len(sales) == len(distributed) and any(r["price_cents"] for r in sales)
        for sale in sales:
            assert sale["price_cents"] <= PRICE_CAP_CENTS.get(sale["category"], 10**9)
            if "no_resale" in json.loads(sale["orientations"]):
                assert sale["price_cents"] == 0
            if sale["price_cents"] and sale["type"] == "public_body":
                assert sale["beneficiary"] in ("person", "association")
        assert not await db.value("SELECT count(*) FROM distributions WHERE override_reason IS NOT NULL")
        # each history in time order, each state its last event, each fate signed
        assert not await db.value("SELECT count(*) FROM events a JOIN events b ON b.item_id = a.item_id"
                                  " AND b.id > a.id AND b.time < a.time")  # fmt: skip
        assert not await db.value("SELECT count(*) FROM items i WHERE i.state != (SELECT e.state FROM events e"
                                  " WHERE e.item_id = i.id ORDER BY e.id DESC LIMIT 1)")  # fmt: skip
        marks = ", ".join(f"'{f}'" for f in FATES)
        assert not await db.value(f"SELECT count(*) FROM events WHERE state IN ({marks}) AND record_id IS NULL")
        first, last = await db.one("SELECT min(time), max(time) FROM events")
        assert day_ms(START) <= first and last <= day_ms(TODAY) + 3 * 3_600_000
        # the node's log: one chain, dated as it happened, that verifies
        rows = await db.all("SELECT envelope, content, time FROM log_records WHERE author = ? ORDER BY seq",
                            (store.key.public.raw,))  # fmt: skip
    times = [r["time"] for r in rows]
    assert times == sorted(times) and times[0] < day_ms(date(2025, 6, 1))
    records = [open_envelope(r["envelope"]).with_content(r["content"]) for r in rows]
    assert verify_log(write_log(records), store.key.public.raw).ok


async def test_every_month_has_its_activity(store):
    await year_of(store, "atelier-du-lien")
    active = 0
    async with store.reader() as db:
        for period in ended_months(START, TODAY):
            start, end = period_bounds(period)
            stats = await compute_stats(db, start, end, years=3, factors=FACTOR_TABLES["ademe-2022"])
            active += stats.fate_units("distributed") > 0
    assert active >= 10


async def test_the_same_plan_gives_the_same_history(store, tmp_path):
    from node.store.database import Store

    other = await Store.open(tmp_path / "other.db", store.key, create=True)
    try:
        first, second = await year_of(store, "recyclerie-besancon", scale=0.2), await year_of(other, "recyclerie-besancon", scale=0.2)
        assert first == second
        query = "SELECT serial, state, grade FROM items ORDER BY id"
        async with store.reader() as a, other.reader() as b:
            assert [tuple(r) for r in await a.all(query)] == [tuple(r) for r in await b.all(query)]
    finally:
        await other.close()


async def test_a_lot_received_by_hand_off_is_sorted_and_the_broken_items_recycled(store):
    await year_of(store, "ordi-grand-ouest", scale=0.1)
    async with store.reader() as db:
        lot = await lot_id_by_reference(db, "ETAT-L1")
    recycled = await sort_received_lot(store, lot)
    async with store.reader() as db:
        states = dict(await db.all("SELECT state, count(*) FROM items WHERE lot_id = ? GROUP BY state", (lot,)))
        signed = await db.value("SELECT count(*) FROM log_records WHERE kind = 'item.fates/2'")
    assert recycled >= 1 and states["recycled"] == recycled and states["sorted"] == 30 - recycled
    assert signed == 1


@pytest.mark.parametrize("slug", sorted(PLANS))
async def test_every_plan_runs_small(store, slug):
    made = await year_of(store, slug, scale=0.1)
    assert made.items > 0 and made.lots == len(PLANS[slug].lots)
