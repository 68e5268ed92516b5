"""What the network pages share with the member's report page: periods, figure names and values, the
node's notes in French, the main figures, charts, CSV.

The node's notes (``node.network.stats_reports.ReportPreview.notes``) and problems
(``node.network.national.SummaryCheck.problems``) are ``node.notes.Note``: a code
and its values; ``known_text`` gives the French of each known code (the
values in place) and shows one it does not know as the node wrote it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from aiohttp import web
from babel.numbers import format_decimal

from node.domain.stats import period_bounds
from node.notes import Note
from node.reports.sheet_cells import csv_writer
from node.store.database import now_ms
from web_ui import labels, periods
from web_ui.i18n import TIMEZONE, Formats, translator
from web_ui.labels import CATEGORY_NAMES, figure_name, figure_unit, name_of, ordered_categories
from web_ui.pages.outputs_common import download
from web_ui.render import LANGUAGE, page

__all__ = [
    "today", "checked_period", "ended_periods", "period_choices", "period_name", "has_ended", "figure_text",
    "figure_rows", "figure_groups", "known_text", "NOTES", "POLICY_LEVELS", "Main", "main_figures", "CATEGORY_COLUMNS",
    "CategoryRow", "by_category", "totals", "Bar", "Chart", "bar_chart", "mass", "percent", "csv_download",
    "not_here", "CHART_WIDTH", "ROW_HEIGHT", "BAR_HEIGHT", "NAME_WIDTH", "VALUE_ROOM", "sum_of",
]  # fmt: skip

# The charts' drawing, in SVG user units (it scales to the page's width); the statistics page's too.
CHART_WIDTH, ROW_HEIGHT, BAR_HEIGHT, NAME_WIDTH, VALUE_ROOM = 640, 32, 22, 210, 70


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


POLICY_LEVELS: dict[str, str] = {
    "none": _("Nobody: kept on this node"),
    "hub": _("The hub (the regional network)"),
    "network": _("Every node of the network"),
    "public": _("Everyone (public)"),
}
_LEVELS = ("workforce", "stats")  # the values of NOTES that name a level of the publication policy
_LEVEL_WORDS: dict[str, str] = {"none": _("nobody"), "hub": _("the hub"), "network": _("the network"),
                                "public": _("everyone")}  # fmt: skip

# The node's notes and problems (``node.notes.Note``) by code: each has its French form, its values in place.
NOTES: dict[str, str] = {
    # node.network.stats_reports.preview
    "not_published": _("The publication policy shares no statistics: nothing leaves this node."),
    "stock_kept": _("The workshop's stock is not reported: it describes the workshop today, not the period."),
    "period_not_ended": _("{period} has not ended: these figures are partial, and the report can be sent once it has."),
    "workforce_kept": _("Workforce figures are kept on this node: the publication policy shares them with {workforce}, and the statistics with {stats}."),
    # node.network.national.check_summary
    "not_a_report": _("The summary lists record {record}, which is a {kind}, not a statistics report."),
    "not_certified": _("Report {record}: its author was not certified by the hub for {period}."),
    "signed_early": _("Report {record} was signed before {period} ended."),
    "other_period": _("Report {record} is for {other}, not {period}."),
    "counted_and_missing": _("{count} member(s) both counted and said missing."),
    "counted_twice": _("A member is counted twice."),
    "own_not_hub": _("Report {record}, given as the hub's own, is another node's."),
    "figures_differ": _("The figures differ from the sum of the reports it lists: {keys}."),
}  # fmt: skip


def known_text(note: Note, translate: Callable[..., str]) -> tuple[str, bool]:
    """A note or a problem of the node in the reader's language, and whether its code is known here."""
    message = NOTES.get(note.code)
    if message is None:
        return note.text, False
    values = {name: translate(_LEVEL_WORDS[value]) if name in _LEVELS and value in _LEVEL_WORDS else value
              for name, value in note.values.items()}  # fmt: skip
    return translate(message, **values), True


def ended_periods(day: date) -> dict[str, list[str]]:
    """The periods ended on ``day``, newest first: the last 12 months, 4 quarters, 3 years."""
    months, quarters = [], []
    year, month = day.year, day.month
    for _n in range(12):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(f"{year}-{month:02d}")
    year, quarter = day.year, (day.month - 1) // 3 + 1
    for _n in range(4):
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
        quarters.append(f"{year}-Q{quarter}")
    return {"month": months, "quarter": quarters, "year": [str(day.year - n) for n in (1, 2, 3)]}


def period_kind(period: str) -> str:
    """``year``, ``quarter`` or ``month``, of a valid period."""
    return "year" if len(period) == 4 else "quarter" if "Q" in period else "month"


def period_choices(day: date, held: Iterable[str] = ()) -> dict[str, list[str]]:
    """``ended_periods`` and the periods for which something is held, by kind, newest first."""
    choices = ended_periods(day)
    for period in held:
        kind = period_kind(period)
        if period not in choices[kind]:
            choices[kind].append(period)
    return {kind: sorted(periods, reverse=True) for kind, periods in choices.items()}


def period_name(period: str, language: str) -> str:
    """"mars 2024", "1er trimestre 2024", "2024" (``web_ui.periods``)."""
    return periods.period_name(period, language)


def today() -> date:
    """The local day (Europe/Paris)."""
    return datetime.now(TIMEZONE).date()


def has_ended(period: str) -> bool:
    """Whether ``period`` (a valid one) is over: reports and summaries are signed only then."""
    return period_bounds(period)[1] <= now_ms()


def figure_text(key: str, value: int, fmt: Formats, _: Callable[..., str]) -> str:
    """A figure's value as the reader writes it: weights in kg, rates in %, days, FTE with decimals."""
    unit = figure_unit(key)
    if unit == "grams":
        return fmt.kg(value)
    if unit == "permille":
        return fmt.permille(value)
    if unit == "days":
        return _("{days} days", days=fmt.number(value))
    if unit == "hundredths":
        return fmt.number(value / 100)
    if unit == "years":
        return _("1 year") if value == 1 else _("{years} years", years=fmt.number(value))
    return fmt.number(value)


# Figures in the order a person reads a report: what came in, what became of it, who was served, then ratios.
_FIGURE_ORDER = ("received.", "entered.", "moved_in.", "from_other_network.", "lots.", "donors.", "distributed.",
                 "transferred.", "moved_out.", "left.", "recycled.", "dismantled.", "beneficiaries.", "reuse_rate",
                 "lead_time.", "impact.", "workforce.", "members.")  # fmt: skip


def _rank(key: str) -> tuple[int, str]:
    first = (n for n, prefix in enumerate(_FIGURE_ORDER) if key.startswith(prefix))
    return next(first, len(_FIGURE_ORDER)), key


def figure_rows(figures: Mapping[str, int], language: str) -> list[tuple[str, str, str]]:
    """``(key, name, value)`` of each figure, in reading order, in ``language``."""
    translate, fmt = translator(language), Formats(language)
    return [(key, figure_name(key, translate), figure_text(key, figures[key], fmt, translate))
            for key in sorted(figures, key=_rank)]  # fmt: skip


def figure_groups(keys: Iterable[str], language: str) -> list[str]:
    """The names of the figures ``keys`` (a publication rule's pooled or withheld ones), in reading order,
    each kind of figure once with its categories (``web_ui.labels.figure_groups``): never a raw key."""
    return labels.figure_groups(sorted(keys, key=_rank), translator(language))


def _parts(key: str) -> list[str]:
    return key.split(".")


def sum_of(figures: Mapping[str, int], first: str, last: str) -> int:
    """The sum of the ``<first>.<category>.<last>`` figures: e.g. every category's received units."""
    return sum(value for key, value in figures.items()
               if (parts := _parts(key)) and len(parts) == 3 and (parts[0], parts[2]) == (first, last))


@dataclass(frozen=True, slots=True)
class Main:
    """The figures a network looks at first, from a report's or a summary's figures."""

    received: int
    received_g: int
    distributed: int
    recycled_g: int
    reuse_permille: int | None
    co2e_g: int
    materials_g: int


def main_figures(figures: Mapping[str, int]) -> Main:
    """``Main`` of a report's or a summary's figures (one it lacks counts as 0; the rate stays unknown)."""
    return Main(sum_of(figures, "received", "units"), sum_of(figures, "received", "weight_g"),
                sum_of(figures, "distributed", "units"), figures.get("recycled.weight_g", 0),
                figures.get("reuse_rate_permille"), figures.get("impact.co2e_g", 0),
                figures.get("impact.materials_g", 0))  # fmt: skip


CATEGORY_COLUMNS = (("received", "units"), ("received", "weight_g"), ("distributed", "units"),
                    ("recycled", "units"), ("dismantled", "units"), ("transferred", "units"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class CategoryRow:
    code: str
    name: str
    values: dict[tuple[str, str], int]


def by_category(figures: Mapping[str, int], translate: Callable[..., str]) -> list[CategoryRow]:
    """Received, distributed, recycled, dismantled, handed over: one row per category present."""
    found: dict[str, dict[tuple[str, str], int]] = {}
    for key, value in figures.items():
        parts = _parts(key)
        if len(parts) == 3 and (parts[0], parts[2]) in CATEGORY_COLUMNS:
            found.setdefault(parts[1], {})[(parts[0], parts[2])] = value
    return [CategoryRow(code, name_of(CATEGORY_NAMES, code, translate),
                        {column: found[code].get(column, 0) for column in CATEGORY_COLUMNS})
            for code in ordered_categories(found)]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Bar:
    name: str
    units: int
    y: int
    width: int


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    height: int
    width: int = CHART_WIDTH
    name_width: int = NAME_WIDTH
    bar_height: int = BAR_HEIGHT


def totals(rows: list[CategoryRow]) -> dict[tuple[str, str], int]:
    """Each column of ``by_category``'s rows added up."""
    return {column: sum(row.values[column] for row in rows) for column in CATEGORY_COLUMNS}


def bar_chart(rows: Iterable[tuple[str, int]]) -> Chart:
    """Horizontal bars of ``(name, value)``, scaled to the largest value."""
    rows = list(rows)
    top = max((units for _name, units in rows), default=0) or 1
    room = CHART_WIDTH - NAME_WIDTH - VALUE_ROOM
    bars = [Bar(name, units, 8 + n * ROW_HEIGHT, max(1, round(units * room / top)) if units else 0)
            for n, (name, units) in enumerate(rows)]  # fmt: skip
    return Chart(bars, 16 + len(bars) * ROW_HEIGHT)


def mass(grams: int, locale: str) -> str:
    """A weight to paste into a text: "12,4 t" from a tonne, else "850 kg" (no-break spaces)."""
    if abs(grams) >= 1_000_000:
        return format_decimal(grams / 1_000_000, format="#,##0.#", locale=locale) + "\u00a0t"
    return format_decimal(round(grams / 1000), format="#,##0", locale=locale) + "\u00a0kg"


def percent(permille: int, locale: str) -> str:
    """"72 %" (a narrow no-break space before the sign, as French writes it)."""
    return format_decimal(permille / 10, format="0.#", locale=locale) + "\u202f%"


def csv_download(rows: list[list[object]], filename: str) -> web.Response:
    """``rows`` as a CSV file (``;``, UTF-8 with a BOM: what a French spreadsheet opens as it is)."""
    out = io.StringIO(newline="")
    csv_writer(out, delimiter=";").writerows(rows)
    return download(out.getvalue().encode("utf-8-sig"), "text/csv", filename, charset="utf-8")


def not_here(request: web.Request, role: str) -> web.Response:
    """The 404 of a page that belongs to nodes of another ``role`` (``hub`` or ``national``)."""
    _ = translator(request.get(LANGUAGE, "fr"))
    if role == "hub":
        message = _("This page is for a hub: it shows the reports of the network's members.")
    else:
        message = _("This page is for the national federation's node: it reads the hubs' summaries.")
    return page(request, "catalogue/not_found.html", status=404, message=message)


def checked_period(text: str) -> str:
    """The period asked for, as ``period_bounds`` accepts it (``Invalid`` otherwise)."""
    text = text.strip().upper()[:20]
    period_bounds(text)
    return text
