"""National's pages: the hubs' summaries, each checked, one row per hub and period, and the totals apart.

- ``/national``: per period, one row per hub with its figures by category
  (what entered from donors, what was distributed, for each category) and
  what national checked of its summary: the signature and the hub's log
  (always, or the summary would not be held), the listed reports held, N
  readable of M, and the sum, checked only when all M could be read
  (``node.network.national.SummaryCheck``): "vérifié" only then, "signé" when some
  are for the hub only. The national totals come apart, after the hubs'
  rows; then each hub's log audit and its summaries' problems.
  A figure the hub's publication rule withheld is said so, never a zero.
- ``/national.csv``: one row per hub and period with every figure and the
  summary's publication rule (``min_members``, ``pooled``, ``withheld``),
  then one row per period for the national total (``row`` says which).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from node.domain.stats import period_bounds
from node.network import national
from protocol.keys import fingerprint
from protocol.kinds import RegionalSummaryV2
from web_ui.i18n import translator
from web_ui.keys import NODE, STORE
from web_ui.labels import CATEGORY_NAMES, name_of, ordered_categories
from web_ui.pages.figure_sheets import figures_xlsx
from web_ui.pages.network_common import (
    Main,
    csv_download,
    figure_groups,
    known_text,
    main_figures,
    not_here,
    period_name,
)
from web_ui.render import LANGUAGE, page

__all__ = ["routes", "CHECK_STATES"]

routes = web.RouteTableDef()


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


CHECK_STATES: dict[str, str] = {
    "verified": _("verified"),
    "signed": _("signed, sum not checked"),
    "incomplete": _("incomplete"),
    "inconsistent": _("inconsistent"),
}
# The figures national shows by category: what entered the network from donors, and what was distributed.
CATEGORY_FIGURES = (("entered", _("Entered from donors")), ("distributed", _("Distributed")))
# The flows of PROTOCOL.md's "Statistics": in from donors (counted once), inside a network, out of it.
FLOWS = (("entered", _("Entered from donors")), ("moved_in", _("Moved inside the network")),
         ("left", _("Left for another network")))  # fmt: skip
# A flow's total column beside the group of its categories under the same name: the total says it is one.
TOTAL_OF = _("{figure} (total)")
# The period's lots from donors and their donors (PROTOCOL.md, "Statistics"): "13 donors, 16 lots".
COUNTS = (("lots.from_donors", _("Lots received from donors")), ("donors.count", _("Donors of those lots")))


@dataclass(frozen=True, slots=True)
class CheckRow:
    check: national.SummaryCheck
    main: Main
    problems: list[tuple[str, bool]]  # (text, known: False when shown in English)


@dataclass(frozen=True, slots=True)
class HubRow:
    reading: national.HubReading
    fingerprint: str
    checks: list[CheckRow]


@dataclass(frozen=True, slots=True)
class Line:
    """A row of a period's table: a hub's summary, or the national total (``row.check`` None)."""

    name: str
    check: national.SummaryCheck | None
    figures: dict[str, int]
    withheld: frozenset[str] = frozenset()  # keys the hub's publication rule kept out (the total: any hub's)
    log: national.AuditedLog | None = None  # the audit of the hub's transparency log (None: not audited yet)


@dataclass(frozen=True, slots=True)
class PeriodTable:
    period: str
    hubs: list[Line]
    total: Line
    categories: list[tuple[str, str]]  # (code, name)


def _is(key: str, first: str, category: str | None) -> bool:
    """Whether ``key`` is ``<first>.<category>.units`` (any category when ``category`` is None)."""
    parts = key.split(".")
    return len(parts) == 3 and parts[0] == first and parts[2] == "units" and category in (None, parts[1])


def _units(figures: dict[str, int], first: str, category: str | None = None) -> int:
    return sum(value for key, value in figures.items() if _is(key, first, category))


def cell(line: Line, first: str, category: str | None = None) -> tuple[int, bool]:
    """A cell of a line: the published units of ``first`` (a category's, or all of them; or the figure
    ``first`` itself when it has no category), and whether some of it was withheld by the publication rule."""
    if "." in first:  # a figure of its own: lots.from_donors, donors.count
        return line.figures.get(first, 0), first in line.withheld
    return _units(line.figures, first, category), any(_is(key, first, category) for key in line.withheld)


def _withheld(check: national.SummaryCheck) -> frozenset[str]:
    return frozenset(getattr(check.summary.body, "withheld", ()))


async def _readings(request: web.Request) -> list[national.HubReading]:
    async with request.app[STORE].reader() as db:
        return await national.read_hubs(db)


def tables(readings: list[national.HubReading], translate) -> list[PeriodTable]:
    """Per period (newest first), one line per hub, and the national total apart."""
    rows = national.hub_periods(readings)
    totals = national.national_totals(readings)
    audits = {reading.hub: reading.log for reading in readings}
    out = []
    for period in sorted({row.period for row in rows}, key=period_bounds, reverse=True):
        lines = [Line(row.name, row.check, row.figures, _withheld(row.check), audits[row.hub])
                 for row in rows if row.period == period]  # fmt: skip
        found = {key.split(".")[1] for line in lines for key in (*line.figures, *line.withheld)
                 if key.count(".") == 2 and key.split(".")[0] in dict(CATEGORY_FIGURES)}  # fmt: skip
        categories = [(code, name_of(CATEGORY_NAMES, code, translate)) for code in ordered_categories(found)]
        withheld = frozenset().union(*(line.withheld for line in lines))
        out.append(PeriodTable(period, lines, Line("", None, totals[period], withheld), categories))
    return out


@routes.get("/national")
async def national_page(request: web.Request) -> web.Response:
    """Per period, each hub's figures by category and what was checked; the national totals apart; the audits."""
    if request.app[NODE].config.role != "national":
        return not_here(request, "national")
    language = request.get(LANGUAGE, "fr")
    _ = translator(language)
    readings = await _readings(request)
    hubs = [HubRow(r, fingerprint(r.hub), [
        CheckRow(c, main_figures(c.summary.body.figures), [known_text(p, _) for p in c.problems])
        for c in r.summaries]) for r in readings]  # fmt: skip
    grouped = {label for _first, label in CATEGORY_FIGURES}

    def flow_header(label: str) -> str:
        return _(TOTAL_OF, figure=_(label)) if label in grouped else _(label)

    return page(request, "network/national.html", hubs=hubs, states=CHECK_STATES, tables=tables(readings, _),
                category_figures=CATEGORY_FIGURES, flows=FLOWS, counts=COUNTS, cell=cell, flow_header=flow_header,
                figure_groups=lambda keys: figure_groups(keys, language),
                period_name=lambda p: period_name(p, language))  # fmt: skip


@routes.get(r"/national.{form:csv|xlsx}")
async def national_csv(request: web.Request) -> web.Response:
    """One row per hub and period with every figure and the check; then the national total of each period."""
    if request.app[NODE].config.role != "national":
        return not_here(request, "national")
    readings = await _readings(request)
    rows_by_hub = national.hub_periods(readings)
    totals = national.national_totals(readings)
    audits = {reading.hub: reading.log for reading in readings}
    columns = sorted({key for row in rows_by_hub for key in row.figures} | {k for f in totals.values() for k in f})
    head = ["period", "row", "hub", "fingerprint", "network", "version", "check", "reports_listed", "reports_held",
            "reports_readable", "sum_checked", "log_audit", "min_members", "pooled", "withheld"]  # fmt: skip
    rows: list[list[object]] = [[*head, *columns]]
    for row in rows_by_hub:
        check, body = row.check, row.check.summary.body
        rule = ([body.min_members, " ".join(body.pooled), " ".join(body.withheld)]
                if isinstance(body, RegionalSummaryV2) else ["", "", ""])  # fmt: skip
        rows.append([row.period, "hub", row.name, fingerprint(row.hub), row.network or "",
                     body.version, check.state, check.listed, check.held, check.readable,
                     "yes" if check.sum_checked else "no", audits[row.hub].state if audits[row.hub] else "not_audited",
                     *rule, *(row.figures.get(c, "") for c in columns)])  # fmt: skip
    for period in sorted(totals, key=period_bounds, reverse=True):
        rows.append([period, "national_total", "", "", "", "", "", "", "", "", "", "", "", "", "",
                     *(totals[period].get(c, "") for c in columns)])  # fmt: skip
    if request.match_info["form"] == "xlsx":  # the CSV is a machine interface; the XLSX speaks words
        return figures_xlsx(rows, "national.xlsx", translator(request.get(LANGUAGE, "fr")), "national")
    return csv_download(rows, "national.csv")
