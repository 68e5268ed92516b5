"""What the dashboard shows beside the period figures: months, waiting items.

``node.domain.stats`` computes a period's figures; the dashboard also needs the
calendar periods "this month" and "this year" as the workshop lives them
(Europe/Paris), the distributed units of each of the last months for a
small chart, and the items that have been waiting too long in one state.

Every query here reads the ``items_state_since`` index (state,
state_since): counts and the oldest items are taken from the index
without reading the items table, so a workshop of 100 000 items costs a
few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from node.domain.states import FATES, STATES
from node.domain.stats import DAY_MS, DEFAULT_STALE_DAYS, period_bounds
from node.errors import Invalid
from node.store.database import Reader

__all__ = [
    "IN_WORKSHOP", "MonthCount", "WaitingItem", "Waiting", "current_periods", "last_months",
    "distributed_by_month", "waiting_items",
]  # fmt: skip

# States of an item still in the workshop (not yet at a fate).
IN_WORKSHOP: tuple[str, ...] = tuple(s for s in STATES if s not in FATES)


@dataclass(frozen=True, slots=True)
class MonthCount:
    """Units that reached a state in one local calendar month (``YYYY-MM``)."""

    month: str
    start_ms: int
    end_ms: int
    units: int


@dataclass(frozen=True, slots=True)
class WaitingItem:
    id: int
    asset_tag: str
    category: str
    state: str
    state_since: int


@dataclass(frozen=True, slots=True)
class Waiting:
    """Items in the workshop whose state has not changed for more than ``days`` days."""

    days: int
    count: int
    oldest: list[WaitingItem]


def _local(now: int, tz: str) -> datetime:
    return datetime.fromtimestamp(now / 1000, UTC).astimezone(ZoneInfo(tz))


def current_periods(now: int, tz: str = "Europe/Paris") -> tuple[str, str]:
    """This month and this year at ``now``, as ``period_bounds`` reads them: ``("2025-03", "2025")``."""
    local = _local(now, tz)
    return f"{local.year:04d}-{local.month:02d}", f"{local.year:04d}"


def last_months(now: int, count: int = 12, tz: str = "Europe/Paris") -> list[tuple[str, int, int]]:
    """The ``count`` local months up to the one holding ``now``, oldest first: (``YYYY-MM``, start, end)."""
    if not 1 <= count <= 120:
        raise Invalid("count is 1 to 120 months", code="invalid")
    local = _local(now, tz)
    index = local.year * 12 + local.month - 1
    months = []
    for n in range(index - count + 1, index + 1):
        name = f"{n // 12:04d}-{n % 12 + 1:02d}"
        months.append((name, *period_bounds(name, tz)))
    return months


async def distributed_by_month(db: Reader, *, now: int, count: int = 12,
                               tz: str = "Europe/Paris") -> list[MonthCount]:  # fmt: skip
    """Distributed units of each of the last ``count`` months, oldest first.

    Counted as ``node.domain.stats`` counts them: items still distributed, by the
    time of the distribution (a corrected distribution does not count).
    One indexed query: a CASE puts each item in its month.
    """
    months = last_months(now, count, tz)
    # Bounds are integers computed here, never input: safe to write into the query.
    buckets = " ".join(f"WHEN state_since < {end} THEN {n}" for n, (_, _, end) in enumerate(months))
    rows = await db.all(
        f"SELECT CASE {buckets} END AS month, count(*) AS units FROM items"
        " WHERE state = 'distributed' AND state_since >= ? AND state_since < ? GROUP BY month",
        (months[0][1], months[-1][2]),
    )
    units = {r["month"]: r["units"] for r in rows}
    return [MonthCount(name, start, end, units.get(n, 0)) for n, (name, start, end) in enumerate(months)]


def _in(values: tuple[str, ...]) -> str:
    # Literals from this module's own constants, never from input.
    return ", ".join(f"'{v}'" for v in values)


_WAITING_COUNT = f"SELECT count(*) FROM items WHERE state IN ({_in(IN_WORKSHOP)}) AND state_since < ?"
# One index range per state, read in order and cut at the limit, then merged:
# never a sort of every waiting item.
_WAITING_OLDEST = " UNION ALL ".join(
    f"SELECT * FROM (SELECT id, asset_tag, category, state, state_since FROM items"
    f" WHERE state = '{state}' AND state_since < :before ORDER BY state_since, id LIMIT :limit)"
    for state in IN_WORKSHOP
) + " ORDER BY state_since, id LIMIT :limit"


async def waiting_items(db: Reader, *, now: int, days: int = DEFAULT_STALE_DAYS, limit: int = 10) -> Waiting:
    """Items in the workshop unchanged for more than ``days`` days: how many, and the ``limit`` oldest.

    The same rule as ``node.domain.stats``' ``stale_units``: ``state_since`` before ``now - days``.
    """
    if days < 0 or not 0 <= limit <= 500:
        raise Invalid("days must not be negative and limit is 0 to 500", code="invalid")
    before = now - days * DAY_MS
    count = await db.value(_WAITING_COUNT, (before,))
    rows = await db.all(_WAITING_OLDEST, {"before": before, "limit": limit}) if limit else []
    return Waiting(days, count, [WaitingItem(**dict(r)) for r in rows])
