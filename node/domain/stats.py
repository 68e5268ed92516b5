"""A node's figures for a period: what came in, where it went, whom it served, what it avoided.

The figures are computed with a few GROUP BY queries over the items,
events, distributions and outflows tables, never by walking items one by
one, so that a year of a large workshop (100 000 items, 500 000 events)
takes a fraction of a second.

How "in the period" is decided:

* received: the item's reception event (not a correction, not a
  storage-removal note) falls in the period;
* fates: the item's current state is a fate (distributed, recycled,
  dismantled, transferred) reached in the period. A fate is terminal: only a
  correction moves an item out of it, and ``items.state_since`` is the time
  of the event that put it there. So an item still in a fate got there by
  exactly one event that nobody corrected, at ``state_since``; a corrected
  distribution does not count, and neither does its correction event;
* beneficiaries: distinct beneficiaries of those distributions;
* recycled weight: the outflows to recyclers recorded in the period, loose
  material included (it is what the waste register weighed);
* where received items came from, and where transferred ones went
  (``network``: the keys of this node's network, ``node.domain.memberships.network_keys``):
  from a donor (the item *entered* the network), from a node of the
  network (it *moved inside*), from a node of another network; to a node
  of the network, or *left* it (another network, or outside the federation);
* lots and donors: the lots received from donors in the period (their
  reception day, else their registration), and their distinct donors.

Every time here is when the thing happened, which may be long before it was
recorded (``node.domain.happened``): ``events.happened``, ``items.state_since``,
``outflows.time``, a lot's ``received_on``.

Periods are half-open, ``start_ms <= time < end_ms``, in protocol time
(integer milliseconds UTC); ``period_bounds`` turns "2024", "2024-03" or
"2024-Q1" into the bounds of that local calendar period.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from node.domain.impact import FactorTable, Impact, impact
from node.domain.recycling_weight import recycled_weights_by_category
from node.domain.states import FATES
from node.errors import Invalid
from node.store.database import Reader, now_ms

__all__ = ["Amount", "Stats", "period_bounds", "compute_stats", "FIGURE_KEY", "DAY_MS", "DEFAULT_STALE_DAYS",
           "ORIGINS", "DESTINATIONS"]

DAY_MS = 86_400_000
DEFAULT_STALE_DAYS = 90
FIGURE_KEY = re.compile(r"^[a-z0-9_.]{1,64}$")
_PERIOD = re.compile(r"^(?P<year>[0-9]{4})(?:-(?P<month>0[1-9]|1[0-2])|-Q(?P<quarter>[1-4]))?$")
# Fates whose weight is a figure: what left as material, not as a device.
_WEIGHED_FATES = ("recycled", "dismantled")
# Where a received item came from, and where a transferred one went (``Stats.origins``, ``Stats.destinations``).
ORIGINS = ("entered", "moved_in", "from_other_network")
DESTINATIONS = ("moved_out", "left")
# Events that note something about an item without receiving or moving it.
_NOT_MOVES = ("correction", "storage_removed")


@dataclass(frozen=True, slots=True)
class Amount:
    """A count of items and their weight in grams."""

    units: int
    weight_g: int


@dataclass(frozen=True)
class Stats:
    """The figures of one period; ``as_figures`` is their stable, signed form.

    Mappings are keyed by item category (``laptop``...), except ``fates``
    (fate, then category), ``beneficiaries`` (beneficiary category) and
    ``stock`` (state, then category). ``stock`` and ``stale_units`` describe
    the workshop when the figures were computed (``computed_ms``), not at the
    end of the period.
    """

    start_ms: int
    end_ms: int
    computed_ms: int
    received: Mapping[str, Amount]
    fates: Mapping[str, Mapping[str, Amount]]
    outflow_weight_g: int
    beneficiaries: Mapping[str, int]
    reuse_rate_permille: int | None
    lead_time_median_days: int | None
    lead_time_mean_days: int | None
    stock: Mapping[str, Mapping[str, int]]
    stale_days: int
    stale_units: int
    impact: Impact
    origins: Mapping[str, Mapping[str, Amount]] = field(default_factory=dict)  # ORIGINS -> category -> amount
    destinations: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # DESTINATIONS -> category -> units
    lots_from_donors: int = 0
    donors: int = 0

    def fate_units(self, fate: str) -> int:
        """Items that reached ``fate`` in the period, all categories."""
        return _units(self.fates, fate)

    def as_figures(self) -> dict[str, int]:
        """Every figure under a dotted key; the body of the signed ``stats.report/1``.

        Keys (``<cat>``: item category, ``<bcat>``: beneficiary category,
        ``<state>``: a non-terminal state); a key whose figure is zero or
        unknown is left out unless said otherwise:

        ``received.<cat>.units``, ``received.<cat>.weight_g``
            items received in the period, and their weight, whoever they came
            from (hand-offs included: do not add them up across nodes).
        ``entered.<cat>.units``, ``entered.<cat>.weight_g``
            of those, the items received from donors: they entered the network.
        ``moved_in.<cat>.units``, ``moved_in.<cat>.weight_g``
            received from a node of this node's network (a hand-off, or a lot
            recorded as given by the hub).
        ``from_other_network.<cat>.units``, ``from_other_network.<cat>.weight_g``
            received from a node of another network.
        ``moved_out.<cat>.units``, ``left.<cat>.units``
            of the period's ``transferred`` items, those handed to a node of this
            node's network, and those that left it (to another network, or
            outside the federation).
        ``lots.from_donors``, ``donors.count``
            lots received from donors in the period, and their distinct donors.
        ``distributed.<cat>.units``, ``transferred.<cat>.units``
            items that reached that fate in the period and are still there.
        ``recycled.<cat>.units``, ``recycled.<cat>.weight_g``,
        ``dismantled.<cat>.units``, ``dismantled.<cat>.weight_g``
            the same, with their weight: a dismantled item's own weight, a
            recycled item's share of its outflow's weighed weight
            (``node.domain.recycling_weight``, as the waste
            register and the donor report count it).
        ``recycled.weight_g``
            weight of the outflows to recyclers in the period, loose material
            included; so not the sum of ``recycled.<cat>.weight_g``. Always present.
        ``beneficiaries.<bcat>``
            distinct beneficiaries served by the period's distributions.
        ``reuse_rate_permille``
            distributed × 1000 / (distributed + recycled + dismantled),
            rounded half up; transfers excluded (the receiving association
            counts them). Absent when the denominator is zero.
        ``lead_time.median_days``, ``lead_time.mean_days``
            whole days from reception to fate over the period's fates (median:
            the lower median; mean: rounded half up). Absent without fates.
        ``stock.<state>.<cat>.units``
            items in the workshop now, by state.
        ``stock.stale.units``, ``stock.stale_days``
            items in the workshop whose state has not changed for more than
            ``stock.stale_days`` days. Always present.
        ``impact.years``, ``impact.co2e_g``, ``impact.materials_g``
            avoided impact of the distributed items (``node.domain.impact``); the
            factor table's version goes beside the figures, in the report's
            ``factor_version``. Always present.
        ``impact.<cat>.co2e_g``, ``impact.<cat>.materials_g``
            the same per category that has a factor.
        ``impact.unfactored.<cat>.units``
            distributed items of categories the factor table does not cover.
        """
        figures: dict[str, int] = {}
        for category, amount in self.received.items():
            figures[f"received.{category}.units"] = amount.units
            figures[f"received.{category}.weight_g"] = amount.weight_g
        for fate in FATES:
            for category, amount in self.fates.get(fate, {}).items():
                figures[f"{fate}.{category}.units"] = amount.units
                if fate in _WEIGHED_FATES:
                    figures[f"{fate}.{category}.weight_g"] = amount.weight_g
        figures["recycled.weight_g"] = self.outflow_weight_g
        for origin in ORIGINS:
            for category, amount in self.origins.get(origin, {}).items():
                figures[f"{origin}.{category}.units"] = amount.units
                figures[f"{origin}.{category}.weight_g"] = amount.weight_g
        for destination in DESTINATIONS:
            for category, units in self.destinations.get(destination, {}).items():
                figures[f"{destination}.{category}.units"] = units
        if self.lots_from_donors:
            figures["lots.from_donors"] = self.lots_from_donors
            figures["donors.count"] = self.donors
        for category, count in self.beneficiaries.items():
            figures[f"beneficiaries.{category}"] = count
        if self.reuse_rate_permille is not None:
            figures["reuse_rate_permille"] = self.reuse_rate_permille
        if self.lead_time_median_days is not None and self.lead_time_mean_days is not None:
            figures["lead_time.median_days"] = self.lead_time_median_days
            figures["lead_time.mean_days"] = self.lead_time_mean_days
        for state, by_category in self.stock.items():
            for category, units in by_category.items():
                figures[f"stock.{state}.{category}.units"] = units
        figures["stock.stale.units"] = self.stale_units
        figures["stock.stale_days"] = self.stale_days
        figures["impact.years"] = self.impact.years
        figures["impact.co2e_g"] = self.impact.co2e_g
        figures["impact.materials_g"] = self.impact.materials_g
        for line in self.impact.lines:
            figures[f"impact.{line.category}.co2e_g"] = line.co2e_g
            figures[f"impact.{line.category}.materials_g"] = line.materials_g
        for category, units in self.impact.unfactored.items():
            figures[f"impact.unfactored.{category}.units"] = units
        bad = [key for key in figures if not FIGURE_KEY.match(key)]
        if bad:  # a category name from outside the schema's vocabulary: refuse rather than sign it
            raise ValueError(f"figure keys that cannot be signed: {', '.join(bad[:5])}")
        return figures


def period_bounds(period: str, tz: str = "Europe/Paris") -> tuple[int, int]:
    """``(start_ms, end_ms)`` of a local calendar period: ``YYYY``, ``YYYY-MM`` or ``YYYY-Qn``.

    The end is the start of the next period (excluded). Anything else
    raises ``Invalid`` (code ``invalid_period``).
    """
    match = _PERIOD.match(period) if isinstance(period, str) else None
    if match is None:
        raise Invalid(f"{period!r} is not a period: write 2024, 2024-03 or 2024-Q1", code="invalid_period")
    year = int(match["year"])
    if match["month"]:
        first, months = int(match["month"]), 1
    elif match["quarter"]:
        first, months = 3 * int(match["quarter"]) - 2, 3
    else:
        first, months = 1, 12
    after = first + months  # 13 means January of the next year
    try:
        zone = ZoneInfo(tz)
        start = datetime(year, first, 1, tzinfo=zone)
        end = datetime(year + (after - 1) // 12, (after - 1) % 12 + 1, 1, tzinfo=zone)
    except (ValueError, OverflowError, ZoneInfoNotFoundError) as exc:
        raise Invalid(f"{period!r} in {tz!r} is not a period this node can compute: {exc}",
                      code="invalid_period") from exc  # fmt: skip
    return int(start.timestamp()) * 1000, int(end.timestamp()) * 1000


def _in(values: tuple[str, ...]) -> str:
    # Literals from this module's own constants, never from input.
    return ", ".join(f"'{v}'" for v in values)


# Reception events: the item's first event; corrections restoring 'received'
# and notes on a received item share the state, so they are left out by step.
_RECEIVED = f"""
SELECT i.category, i.origin_node, l.source, count(*) AS units, coalesce(sum(i.weight_g), 0) AS weight_g
FROM events e JOIN items i ON i.id = e.item_id LEFT JOIN lots l ON l.id = i.lot_id
WHERE e.happened >= :start AND e.happened < :end AND e.state = 'received' AND e.corrects IS NULL
  AND (e.step IS NULL OR e.step NOT IN ({_in(_NOT_MOVES)}))
GROUP BY i.category, i.origin_node, l.source
"""

# The node a transferred item was handed to: the last hand-off of it that was received (none: outside the federation).
_TRANSFERRED = """
SELECT i.category, (SELECT h.peer FROM handoff_items hi JOIN handoffs h ON h.offer = hi.offer
                    WHERE hi.item_id = i.id AND hi.outcome = 'received' AND h.direction = 'out'
                    ORDER BY hi.rowid DESC LIMIT 1) AS peer, count(*) AS units
FROM items i
WHERE i.state = 'transferred' AND i.state_since >= :start AND i.state_since < :end
GROUP BY 1, 2
"""

# Lots received from donors in the period: by their reception day, else by when they were registered.
_LOTS = """
SELECT count(*) AS lots, count(DISTINCT donor_id) AS donors FROM lots
WHERE source = 'direct' AND CASE WHEN received_on IS NULL THEN created >= :start AND created < :end
                                 ELSE received_on >= :first_day AND received_on < :end_day END
"""

# Items whose current state is a fate reached in the period (see the module
# docstring), with the whole days since their reception (their first event,
# found by the events_item index): one pass gives the fates and the lead times.
_FATES = f"""
SELECT state, category, days, count(*) AS units, coalesce(sum(weight_g), 0) AS weight_g FROM (
    SELECT i.state, i.category, i.weight_g,
           max(0, i.state_since - (SELECT r.happened FROM events r WHERE r.item_id = i.id ORDER BY r.id LIMIT 1))
           / {DAY_MS} AS days
    FROM items i
    WHERE i.state IN ({_in(FATES)}) AND i.state_since >= :start AND i.state_since < :end
)
GROUP BY state, category, days
"""

# The latest distribution of an item still distributed is the one nobody corrected.
_BENEFICIARIES = """
SELECT b.category, count(DISTINCT b.id) AS served
FROM items i
JOIN distributions d ON d.id = (SELECT max(x.id) FROM distributions x WHERE x.item_id = i.id)
JOIN beneficiaries b ON b.id = d.beneficiary_id
WHERE i.state = 'distributed' AND i.state_since >= :start AND i.state_since < :end
GROUP BY b.category
"""

_OUTFLOWS = "SELECT coalesce(sum(weight_g), 0) FROM outflows WHERE time >= :start AND time < :end"

_STOCK = f"""
SELECT state, category, count(*) AS units, coalesce(sum(state_since < :stale_before), 0) AS stale
FROM items WHERE state NOT IN ({_in(FATES)})
GROUP BY state, category
"""


async def compute_stats(db: Reader, start_ms: int, end_ms: int, *, years: int, factors: FactorTable,
                        stale_days: int = DEFAULT_STALE_DAYS, now: int | None = None,
                        network: frozenset[bytes] = frozenset(), tz: str = "Europe/Paris") -> Stats:  # fmt: skip
    """The figures of ``start_ms <= time < end_ms``; impact over ``years`` of second life.

    ``now`` (default: the clock) decides which items in stock are stale:
    unchanged for more than ``stale_days`` days. ``network``: the keys of
    the nodes of this node's network, to tell a hand-off inside it from one
    across networks (``node.domain.memberships.network_keys``).
    """
    if end_ms < start_ms:
        raise Invalid("the period ends before it starts", code="invalid_period")
    if stale_days < 0:
        raise Invalid("stale_days must not be negative", code="invalid")
    computed = now_ms() if now is None else now
    bounds = {"start": start_ms, "end": end_ms}

    received: dict[str, Amount] = {}
    origins: dict[str, dict[str, Amount]] = {}
    for r in await db.all(_RECEIVED, bounds):
        _add(received, r["category"], r["units"], r["weight_g"])
        if r["origin_node"] is None:
            origin = "moved_in" if r["source"] == "hub" else "entered"
        else:
            origin = "moved_in" if r["origin_node"] in network else "from_other_network"
        _add(origins.setdefault(origin, {}), r["category"], r["units"], r["weight_g"])
    destinations: dict[str, dict[str, int]] = {}
    for r in await db.all(_TRANSFERRED, bounds):
        by_category = destinations.setdefault("moved_out" if r["peer"] in network else "left", {})
        by_category[r["category"]] = by_category.get(r["category"], 0) + r["units"]
    zone = ZoneInfo(tz)
    days = {"first_day": datetime.fromtimestamp(start_ms / 1000, zone).date().isoformat(),
            "end_day": datetime.fromtimestamp(end_ms / 1000, zone).date().isoformat()}  # fmt: skip
    lots = await db.one(_LOTS, {**bounds, **days})
    fates: dict[str, dict[str, Amount]] = {}
    lead_days: dict[int, int] = {}
    for r in await db.all(_FATES, bounds):
        by_category = fates.setdefault(r["state"], {})
        seen = by_category.get(r["category"], Amount(0, 0))
        by_category[r["category"]] = Amount(seen.units + r["units"], seen.weight_g + r["weight_g"])
        lead_days[r["days"]] = lead_days.get(r["days"], 0) + r["units"]
    # A recycled item weighs its share of its outflow's weighed weight, as in the register and the donor report.
    for category, weight_g in (await recycled_weights_by_category(db, start_ms, end_ms)).items():
        if category in fates.get("recycled", {}):
            fates["recycled"][category] = Amount(fates["recycled"][category].units, weight_g)
    beneficiaries = {r["category"]: r["served"] for r in await db.all(_BENEFICIARIES, bounds)}
    outflow_weight_g = await db.value(_OUTFLOWS, bounds)
    stock: dict[str, dict[str, int]] = {}
    stale_units = 0
    for r in await db.all(_STOCK, {"stale_before": computed - stale_days * DAY_MS}):
        stock.setdefault(r["state"], {})[r["category"]] = r["units"]
        stale_units += r["stale"]
    distributed = {category: amount.units for category, amount in fates.get("distributed", {}).items()}
    # Transfers are left out: the association that receives them counts their fate.
    reused_or_not = sum(_units(fates, fate) for fate in ("distributed", "recycled", "dismantled"))
    median, mean = _median_and_mean(sorted(lead_days.items()))
    return Stats(
        start_ms=start_ms, end_ms=end_ms, computed_ms=computed, received=received, fates=fates,
        outflow_weight_g=outflow_weight_g, beneficiaries=beneficiaries,
        reuse_rate_permille=_permille(_units(fates, "distributed"), reused_or_not),
        lead_time_median_days=median, lead_time_mean_days=mean, stock=stock, stale_days=stale_days,
        stale_units=stale_units, impact=impact(distributed, years, factors), origins=origins,
        destinations=destinations, lots_from_donors=lots["lots"], donors=lots["donors"],
    )  # fmt: skip


def _add(amounts: dict[str, Amount], category: str, units: int, weight_g: int) -> None:
    seen = amounts.get(category, Amount(0, 0))
    amounts[category] = Amount(seen.units + units, seen.weight_g + weight_g)


def _units(fates: Mapping[str, Mapping[str, Amount]], fate: str) -> int:
    return sum(amount.units for amount in fates.get(fate, {}).values())


def _permille(part: int, whole: int) -> int | None:
    """``part / whole`` in per-mille, rounded half up; None when ``whole`` is zero."""
    if whole == 0:
        return None
    return (2000 * part + whole) // (2 * whole)


def _median_and_mean(histogram: list[tuple[int, int]]) -> tuple[int | None, int | None]:
    """Lower median and mean (rounded half up) of values given as sorted (value, count) pairs."""
    total = sum(count for _, count in histogram)
    if total == 0:
        return None, None
    rank = (total - 1) // 2  # the lower median: a value some item really has
    median = None
    seen = 0
    for value, count in histogram:
        seen += count
        if seen > rank:
            median = value
            break
    mean = (2 * sum(value * count for value, count in histogram) + total) // (2 * total)
    return median, mean
