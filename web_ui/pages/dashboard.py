"""The dashboard: what the workshop holds, this month's and this year's figures, the year's impact.

Everything on it comes from indexed queries: ``node.domain.stats.compute_stats``
for the month and the year, ``node.queries.dashboard_figures`` for the chart of
the last twelve months and the items waiting too long; so the page stays
fast with 100 000 items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from aiohttp import web
from babel.dates import format_date

from node.domain.impact import DEFAULT_FACTOR_VERSION, factor_table
from node.domain.settings import get_setting
from node.domain.stats import DEFAULT_STALE_DAYS, Stats, compute_stats, period_bounds
from node.errors import NotFound
from node.queries.dashboard_figures import (
    IN_WORKSHOP,
    MonthCount,
    current_periods,
    distributed_by_month,
    waiting_items,
)  # fmt: skip
from node.store.database import now_ms
from web_ui.i18n import LOCALES, TIMEZONE, translator
from web_ui.keys import STORE
from web_ui.labels import CATEGORY_NAMES, STATE_NAMES
from web_ui.render import LANGUAGE, page

routes = web.RouteTableDef()

CHART_MONTHS = 12
WAITING_SHOWN = 10
# The chart's drawing area, in SVG user units (the SVG scales to the page's width).
CHART_WIDTH, CHART_HEIGHT, CHART_BASE = 720, 240, 200


@dataclass(frozen=True, slots=True)
class Figures:
    """The headline figures of one period, as the dashboard's cards show them."""

    received_units: int
    received_weight_g: int
    distributed_units: int
    recycled_weight_g: int
    reuse_rate_permille: int | None
    beneficiaries: int

    @classmethod
    def of(cls, stats: Stats) -> "Figures":
        return cls(
            received_units=sum(a.units for a in stats.received.values()),
            received_weight_g=sum(a.weight_g for a in stats.received.values()),
            distributed_units=stats.fate_units("distributed"),
            recycled_weight_g=stats.outflow_weight_g,
            reuse_rate_permille=stats.reuse_rate_permille,
            beneficiaries=sum(stats.beneficiaries.values()),
        )


@dataclass(frozen=True, slots=True)
class Bar:
    """One month of the chart: its short label under the bar, its full name, its rectangle."""

    label: str
    name: str
    units: int
    x: int
    y: int
    width: int
    height: int


def chart(months: list[MonthCount], language: str) -> list[Bar]:
    """Bars for the months, scaled to the largest (an empty chart stays flat)."""
    top = max((m.units for m in months), default=0) or 1
    slot = CHART_WIDTH // max(len(months), 1)
    locale = LOCALES.get(language, LOCALES["fr"])
    bars = []
    for n, month in enumerate(months):
        year, number = (int(part) for part in month.month.split("-"))
        first = date(year, number, 1)
        height = round(month.units * (CHART_BASE - 30) / top)
        label, name = format_date(first, "MMM", locale=locale), format_date(first, "LLLL yyyy", locale=locale)
        bars.append(Bar(label, name, month.units, n * slot + 6, CHART_BASE - height, slot - 12, height))
    return bars


@routes.get("/dashboard")
async def dashboard(request: web.Request) -> web.Response:
    now = now_ms()
    month, year = current_periods(now, str(TIMEZONE))
    language = request.get(LANGUAGE, "fr")
    flashes = []
    async with request.app[STORE].reader() as db:
        years = await get_setting(db, "years_of_second_life")
        version = await get_setting(db, "impact_factors")
        try:
            factors = factor_table(version)
        except NotFound:  # set from the command line to a table this Maillon does not know
            factors = factor_table(DEFAULT_FACTOR_VERSION)
            _ = translator(language)
            unknown = _("Unknown impact factor table {version} in the settings: these figures use {default}.",
                        version=version, default=DEFAULT_FACTOR_VERSION)  # fmt: skip
            flashes.append(("error", unknown))
        this_month = await compute_stats(db, *period_bounds(month), years=years, factors=factors, now=now)
        this_year = await compute_stats(db, *period_bounds(year), years=years, factors=factors, now=now)
        months = await distributed_by_month(db, now=now, count=CHART_MONTHS, tz=str(TIMEZONE))
        waiting = await waiting_items(db, now=now, days=DEFAULT_STALE_DAYS, limit=WAITING_SHOWN)
    local_now = datetime.fromtimestamp(now / 1000, UTC).astimezone(TIMEZONE)
    month_name = format_date(local_now, "LLLL yyyy", locale=LOCALES.get(language, LOCALES["fr"]))
    stock = {state: sum(this_year.stock.get(state, {}).values()) for state in IN_WORKSHOP}
    return page(
        request, "dashboard.html", flashes=flashes,
        stock=stock, stock_total=sum(stock.values()),
        month=Figures.of(this_month), year=Figures.of(this_year),
        month_name=month_name, year_name=year, impact=this_year.impact,
        bars=chart(months, language), chart_size=(CHART_WIDTH, CHART_HEIGHT, CHART_BASE),
        waiting=waiting, now=now, state_names=STATE_NAMES, category_names=CATEGORY_NAMES,
    )  # fmt: skip
