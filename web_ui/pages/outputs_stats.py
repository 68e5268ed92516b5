"""Statistics and impact of any period, with the impact's formula written out, and the same figures as CSV.

The figures are ``node.stats.compute_stats``'s; the impact is never shown
without its arithmetic (units × years × factor, per category), its factor
table's version and source, and the years of second life assumed
(DOMAIN.md). The formula lines are built here, in the reader's language,
from ``Impact.lines``, not from the English ``Impact.formula_lines``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from node.errors import DomainError
from node.impact import Impact, factor_table
from node.settings import get_setting
from node.states import FATES, STATES
from node.stats import Amount, Stats, compute_stats
from web_ui.app import STORE
from web_ui.i18n import Formats
from web_ui.labels import BENEFICIARY_CATEGORIES, CATEGORY_NAMES, STATE_NAMES, name_of
from web_ui.pages.outputs_common import download, error_of, parse_period, translate
from web_ui.render import LANGUAGE, page

routes = web.RouteTableDef()

_ZERO = Amount(0, 0)

# The chart's drawing, in SVG user units (it scales to the page's width).
CHART_WIDTH, ROW_HEIGHT, BAR_HEIGHT, NAME_WIDTH, VALUE_ROOM = 640, 32, 22, 210, 70


@dataclass(frozen=True, slots=True)
class Bar:
    name: str
    units: int
    y: int
    width: int


@dataclass(frozen=True, slots=True)
class FateRow:
    name: str
    units: dict[str, int]  # fate -> units
    total: int


def _ordered(categories: object) -> list[str]:
    """Categories in the order the interface lists them, unknown ones after."""
    present = set(categories)  # type: ignore[arg-type]
    return [c for c in CATEGORY_NAMES if c in present] + sorted(present - set(CATEGORY_NAMES))


def chart(distributed: Mapping[str, int], _: Callable[..., str]) -> tuple[list[Bar], int]:
    """Horizontal bars of distributed units by category, scaled to the largest; and the drawing's height."""
    top = max(distributed.values(), default=0) or 1
    room = CHART_WIDTH - NAME_WIDTH - VALUE_ROOM
    bars = [
        Bar(name_of(CATEGORY_NAMES, category, _), distributed[category], 8 + n * ROW_HEIGHT,
            max(1, round(distributed[category] * room / top)) if distributed[category] else 0)
        for n, category in enumerate(_ordered(distributed))
    ]  # fmt: skip
    return bars, 16 + len(bars) * ROW_HEIGHT


def formula(impact: Impact, fmt: Formats, _: Callable[..., str]) -> list[str]:
    """The impact's arithmetic in the reader's language, one line per product, then the total."""
    years = _("1 year") if impact.years == 1 else _("{years} years", years=fmt.number(impact.years))
    lines = []
    for line in impact.lines:
        category = name_of(CATEGORY_NAMES, line.category, _)
        units = _("1 device") if line.units == 1 else _("{units} devices", units=fmt.number(line.units))
        lines.append(_("{category}: {units} × {years} × {factor} of CO2e a year = {total} of CO2e avoided",
                       category=category, units=units, years=years, factor=fmt.kg(line.factor_co2e_g_per_year),
                       total=fmt.kg(line.co2e_g)))  # fmt: skip
        lines.append(_("{category}: {units} × {years} × {factor} of raw materials a year = {total} of raw materials avoided",
                       category=category, units=units, years=years,
                       factor=fmt.kg(line.factor_materials_g_per_year),
                       total=fmt.kg(line.materials_g)))  # fmt: skip
    lines.append(_("Total: {co2e} of CO2e and {materials} of raw materials avoided, assuming {years} of second life.",
                   co2e=fmt.kg(impact.co2e_g), materials=fmt.kg(impact.materials_g), years=years))  # fmt: skip
    for category, units in impact.unfactored.items():
        lines.append(_("{category}: {units} distributed, not counted (no factor for them in {version}).",
                       category=name_of(CATEGORY_NAMES, category, _), units=fmt.number(units),
                       version=impact.version))  # fmt: skip
    return lines


def neighbours(period: str) -> tuple[str, str]:
    """The periods before and after ``period`` (a valid one), of the same length."""
    year = int(period[:4])
    if len(period) == 4:
        return str(year - 1), str(year + 1)
    if period[5] == "Q":
        quarter = int(period[6]) - 1
        before, after = divmod(quarter - 1, 4), divmod(quarter + 1, 4)
        return f"{year + before[0]}-Q{before[1] + 1}", f"{year + after[0]}-Q{after[1] + 1}"
    month = int(period[5:7]) - 1
    before, after = divmod(month - 1, 12), divmod(month + 1, 12)
    return f"{year + before[0]}-{before[1] + 1:02d}", f"{year + after[0]}-{after[1] + 1:02d}"


async def _stats(request: web.Request, period_text: str | None) -> tuple[str, Stats]:
    period, (start, end) = parse_period(period_text)  # type: ignore[misc]
    async with request.app[STORE].reader() as db:
        years = await get_setting(db, "years_of_second_life")
        factors = factor_table(await get_setting(db, "impact_factors"))
        return period, await compute_stats(db, start, end, years=years, factors=factors)


@routes.get("/reports/stats")
async def stats_page(request: web.Request) -> web.Response:
    period_text = request.query.get("period", "")
    try:
        period, stats = await _stats(request, period_text)
    except DomainError as exc:
        return page(request, "outputs/stats.html", status=422, error=error_of(request, exc),
                    period=period_text[:20], stats=None)  # fmt: skip
    _ = translate(request)
    fmt = Formats(request.get(LANGUAGE, "fr"))
    categories = _ordered({*stats.received, *(c for by in stats.fates.values() for c in by)})
    fate_rows = [
        FateRow(name_of(CATEGORY_NAMES, c, _), {f: stats.fates.get(f, {}).get(c, _ZERO).units for f in FATES},
                sum(stats.fates.get(f, {}).get(c, _ZERO).units for f in FATES))
        for c in categories if any(c in stats.fates.get(f, {}) for f in FATES)
    ]  # fmt: skip
    distributed = {c: a.units for c, a in stats.fates.get("distributed", {}).items()}
    bars, chart_height = chart(distributed, _)
    stock = [(STATE_NAMES.get(s, s), sum(stats.stock[s].values())) for s in STATES if s in stats.stock]
    return page(
        request, "outputs/stats.html", error=None, period=period, stats=stats,
        received=[(name_of(CATEGORY_NAMES, c, _), stats.received[c]) for c in _ordered(stats.received)],
        received_units=sum(a.units for a in stats.received.values()),
        received_weight_g=sum(a.weight_g for a in stats.received.values()),
        fates=FATES, fate_names={f: STATE_NAMES.get(f, f) for f in FATES}, fate_rows=fate_rows,
        fate_totals={f: stats.fate_units(f) for f in FATES},
        beneficiaries=[(name_of(BENEFICIARY_CATEGORIES, c, _), served)
                       for c, served in sorted(stats.beneficiaries.items())],
        stock=stock, stock_total=sum(n for _name, n in stock),
        bars=bars, chart_size=(CHART_WIDTH, chart_height, NAME_WIDTH, BAR_HEIGHT),
        formula=formula(stats.impact, fmt, _), impact=stats.impact, neighbours=neighbours(period),
    )  # fmt: skip


@routes.get("/reports/stats.csv")
async def stats_csv(request: web.Request) -> web.Response:
    """The period's figures as ``figure;value`` lines (the keys of ``Stats.as_figures``), after the period."""
    period_text = request.query.get("period", "")
    try:
        period, stats = await _stats(request, period_text)
    except DomainError as exc:
        return page(request, "outputs/stats.html", status=422, error=error_of(request, exc),
                    period=period_text[:20], stats=None)  # fmt: skip
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["figure", "value"])
    writer.writerow(["period", period])
    writer.writerow(["start_ms", stats.start_ms])
    writer.writerow(["end_ms", stats.end_ms])
    writer.writerow(["computed_ms", stats.computed_ms])
    writer.writerow(["impact.factor_version", stats.impact.version])
    writer.writerow(["impact.factor_source", stats.impact.source])
    for key, value in sorted(stats.as_figures().items()):
        writer.writerow([key, value])
    body = out.getvalue().encode("utf-8-sig")
    return download(body, "text/csv", f"stats-{period}.csv", charset="utf-8")
