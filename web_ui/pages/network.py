"""The network's statistics: a hub's members' reports and signed summaries; national's reading of them.

- ``/network`` (a hub): the network's figures for a period, the sums of
  every report the hub reads (``node.network.regional.aggregate``), with
  what its summary withholds from national named apart: each
  member, reporting or missing, with its main figures; the figures by
  category, drawn as bars and written in tables; the reports that do not
  count and why; the summaries signed; "Signer le résumé" (admins).
- ``/network.csv``: the same figures, one row per member and a total row.
- ``/network/figures?year=2025`` (a hub): "Quelques chiffres", the year's
  figures in short French sentences to paste into the activity report.
- ``/national`` and ``/national.csv`` (the national federation) are in
  ``web_ui.pages.national``.

The member's side (its report to the network) is on the statistics pages
(``outputs_stats``); what both share is in ``network_common``. Nothing here
writes SQL: the figures come from ``node.network.regional`` and ``node.network.national``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from node.errors import DomainError, Invalid
from node.network import regional
from node.network.handoff_views import node_names
from node.network.stats_reports import own_keys
from node.network.summary_rules import staff_once
from node.reports import network_year
from protocol.keys import fingerprint
from web_ui.auth import requires
from web_ui.i18n import Formats, translator
from web_ui.keys import NODE, STORE
from web_ui.labels import BENEFICIARY_CATEGORIES, name_of
from web_ui.pages.figure_sheets import figures_xlsx
from web_ui.pages.handoffs import wake_federation
from web_ui.pages.network_common import (
    CATEGORY_COLUMNS,
    Main,
    bar_chart,
    by_category,
    checked_period,
    csv_download,
    ended_periods,
    figure_groups,
    figure_rows,
    has_ended,
    main_figures,
    mass,
    not_here,
    percent,
    period_choices,
    period_name,
    sum_of,
    today,
    totals,
)  # fmt: skip
from web_ui.pages.workshop_common import see_other
from web_ui.render import LANGUAGE, page

__all__ = ["routes", "sentences"]

routes = web.RouteTableDef()


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


# --- a hub: its network's figures ----------------------------------------------------------------

# node.network.regional.MemberReport.why_not
WHY_NOT: dict[str, str] = {
    "superseded": _("superseded by a later version"),
    "not_a_member": _("the member's certificate is not valid for the period"),
    "period_not_ended": _("signed before the period ended"),
    "summary_overflow": _("its figures would take the summary beyond what it can hold"),
}
SIGN_REFUSALS: dict[str, str] = {
    "not_a_hub": _("This node admitted no member yet: there is nothing to summarise."),
    "not_published": _("The publication policy shares no statistics: no summary is signed. Change it in the settings."),
    "period_not_ended": _("This period has not ended: its summary is signed once it has."),
    "invalid_period": _("This is not a period. Write a year (2026), a month (2026-10) or a quarter (2026-Q3)."),
}  # fmt: skip
SIGN_REFUSED = _("The summary was not signed.")
# What entered the network from donors (counted once), moved inside it, left it (PROTOCOL.md, "Statistics").
FLOWS = (("entered", _("Entered from donors")), ("moved_in", _("Moved inside the network")),
         ("left", _("Left for another network")))  # fmt: skip


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member certified for the period: its report that counts (None: missing) and its main figures."""

    key: bytes
    name: str
    fingerprint: str
    report: regional.MemberReport | None
    main: Main | None
    refused: int  # its reports of the period that do not count, other than the versions a correction replaced
    count: int = 1  # its reports that count: more than one for a year or quarter it reported month by month


@dataclass(frozen=True, slots=True)
class Ignored:
    """A report held for the period that does not count, and whose it is."""

    report: regional.MemberReport
    name: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Network:
    """What the hub's page and its CSV show of a period."""

    aggregate: regional.Aggregate
    members: list[MemberRow]
    ignored: list[Ignored]
    summaries: list[regional.SignedSummary]  # newest first
    held: list[str]  # the periods something is held for


async def network_of(request: web.Request, period: str) -> Network:
    me = request.app[NODE].key.public.raw
    async with request.app[STORE].reader() as db:
        keys = await own_keys(db, me)
        agg = await regional.aggregate(db, me, period)
        reports = await regional.member_reports(db, keys, period)
        summaries = await regional.list_summaries(db, keys, period)
        held = await regional.reported_periods(db)
        names = {**await node_names(db, [r.member for r in reports]), **agg.names}
    counted: dict[bytes, list[regional.MemberReport]] = {}
    for r in agg.reports:  # a year or a quarter: maybe several reports of periods inside it
        counted.setdefault(r.member, []).append(r)
    certified = {*counted, *agg.missing}  # agg.names also names the members of other periods
    ignored = [Ignored(r, names.get(r.member, ""), fingerprint(r.member)) for r in reports if not r.counts]
    members = []
    for key, name in sorted(names.items(), key=lambda item: (item[1].casefold(), item[0])):
        if key not in certified:
            continue
        own = counted.get(key, [])
        refused = sum(1 for i in ignored if i.report.member == key and i.report.why_not != "superseded")
        main = main_figures(_summed(own)) if own else None
        members.append(MemberRow(key, name, fingerprint(key), own[0] if own else None, main, refused, len(own)))
    return Network(agg, members, ignored, summaries, held)


async def _network_page(request: web.Request, period: str, *, status: int = 200,
                        refused: tuple[str, str] | None = None) -> web.Response:  # fmt: skip
    language = request.get(LANGUAGE, "fr")
    _ = translator(language)
    node = request.app[NODE]
    data = await network_of(request, period)
    agg, summaries = data.aggregate, data.summaries
    latest = summaries[0] if summaries else None
    flashes = []
    done = request.query.get("done", "") if status == 200 else ""
    if done == "signed" and latest is not None:
        message = _("The summary was signed: version {version}. It leaves for the national federation when this node reaches it.",
                    version=latest.body.version)  # fmt: skip
        flashes.append(("ok", message))
    elif done == "unchanged":
        flashes.append(("ok", _("Nothing changed since the last summary: nothing was signed.")))
    # The hub reads every member's report: its own page shows the network's real sums (``all_figures``);
    # only the summary that leaves for national leaves out what the publication rule withholds.
    figures = agg.all_figures
    categories = by_category(figures, _)
    return page(
        request, "network/hub.html", status=status, period=period, period_label=period_name(period, language),
        choices=period_choices(today(), [*data.held, period]), aggregate=agg, main=main_figures(figures),
        members=data.members, ignored=data.ignored, summaries=summaries, latest=latest,
        up_to_date=latest is not None and agg.same_as(latest.body), ended=has_ended(period),
        categories=categories, columns=CATEGORY_COLUMNS, category_totals=totals(categories),
        own=agg.own, own_parts=agg.own_parts, own_main=main_figures(_own_figures(agg)),
        flows=[(label, sum_of(figures, first, "units")) for first, label in FLOWS],
        lots=(figures.get("lots.from_donors", 0), figures.get("donors.count", 0)),
        all_figures=figure_rows(figures, language),
        figure_groups=lambda keys: figure_groups(keys, language),
        member_chart=bar_chart((m.name, m.main.distributed if m.main else 0) for m in data.members),
        category_chart=bar_chart((c.name, c.values[("distributed", "units")]) for c in categories),
        why_not=WHY_NOT, refused=refused, flashes=flashes, error=None,
        network_name=node.config.network or node.config.name, period_name=lambda p: period_name(p, language),
    )  # fmt: skip


def _own_figures(agg: regional.Aggregate) -> dict[str, int]:
    """The hub's own figures for the period: its report of it, else its reports of the periods inside it."""
    return dict(agg.own.figures) if agg.own else _summed(agg.own_parts)


def _summed(reports: list[regional.MemberReport]) -> dict[str, int]:
    """One node's reports of the periods inside a period as one: flows added up, its staff counted once."""
    return regional.sum_figures(staff_once([(r.member, r.period, r.figures) for r in reports]))


def _bad_period(request: web.Request, text: str) -> web.Response:
    language = request.get(LANGUAGE, "fr")
    error = (translator(language)(SIGN_REFUSALS["invalid_period"]), "")
    return page(request, "network/hub.html", status=422, error=error, period=text[:20],
                choices=period_choices(today()), period_name=lambda p: period_name(p, language))  # fmt: skip


def default_period() -> str:
    """The last ended month."""
    return ended_periods(today())["month"][0]


def _asked(request: web.Request) -> str | web.Response:
    """The period a hub's page asks for (default: the last ended month), or the page that says why not."""
    if request.app[NODE].config.role != "hub":
        return not_here(request, "hub")
    text = request.query.get("period", "") or default_period()
    try:
        return checked_period(text)
    except DomainError:
        return _bad_period(request, text)


@routes.get("/network")
async def network_page(request: web.Request) -> web.Response:
    """The network's figures for a period (default: the last ended month), its members, its summaries."""
    period = _asked(request)
    if isinstance(period, web.Response):
        return period
    return await _network_page(request, period)


@routes.post("/network/sign")
@requires("admin")
async def sign(request: web.Request) -> web.Response:
    """Sign the period's summary (``node.network.regional.sign_summary``), a new version only if something changed."""
    if request.app[NODE].config.role != "hub":
        return not_here(request, "hub")
    _ = translator(request.get(LANGUAGE, "fr"))
    text = str((await request.post()).get("period", ""))
    try:
        period = checked_period(text)
        async with request.app[STORE].transaction() as tx:
            record = await regional.sign_summary(tx, period)
    except DomainError as exc:
        if exc.code == "invalid_period":
            return _bad_period(request, text)
        message = _(SIGN_REFUSED) + (f" {_(SIGN_REFUSALS[exc.code])}" if exc.code in SIGN_REFUSALS else "")
        return await _network_page(request, period, status=409, refused=(message, exc.message))
    if record is None:
        return see_other(f"/network?period={period}&done=unchanged")
    wake_federation(request)
    return see_other(f"/network?period={period}&done=signed")


@routes.get(r"/network.{form:csv|xlsx}")
async def network_csv(request: web.Request) -> web.Response:
    """One row per member (its counted report's figures, empty when missing), then the network's total.

    The CSV is a machine interface (figure keys); the XLSX says its headers in words (``figure_sheets``).
    """
    period = _asked(request)
    if isinstance(period, web.Response):
        return period
    data = await network_of(request, period)
    agg = data.aggregate
    by_member: dict[bytes, list[regional.MemberReport]] = {}
    for report in agg.reports:
        by_member.setdefault(report.member, []).append(report)
    figures_of = {member: _summed(reports) for member, reports in by_member.items()}
    own = _own_figures(agg)
    total = agg.all_figures  # the hub's own download: the real sums, withheld figures included
    columns = sorted({key for figures in figures_of.values() for key in figures} | set(total) | set(own))
    rows: list[list[object]] = [["period", "member", "fingerprint", "state", "version", *columns]]
    if agg.own is not None or agg.own_parts:
        version = agg.own.version if agg.own is not None else ""
        rows.append([period, "(hub)", "", "own", version, *(own.get(key, "") for key in columns)])
    for row in data.members:
        figures = figures_of.get(row.key, {})
        state, version = ("reported", row.report.version if row.count == 1 else "") if row.report else ("missing", "")
        values = [figures.get(key, "") for key in columns]
        rows.append([period, row.name, row.fingerprint, state, version, *values])
    rows.append([period, "total", "", "", "", *(total.get(c, "") for c in columns)])
    if request.match_info["form"] == "xlsx":
        return figures_xlsx(rows, f"network-{period}.xlsx", translator(request.get(LANGUAGE, "fr")), period)
    return csv_download(rows, f"network-{period}.csv")


# --- a hub: the year's figures for the activity report ------------------------------------------


def sentences(year: network_year.Year, language: str) -> list[str]:
    """The year's figures in short sentences, the French way (narrow no-break spaces, decimal comma)."""
    _, locale = translator(language), Formats(language).locale
    number = Formats(language).number
    figures, main = year.figures, main_figures(year.figures)
    out = []
    if main.received:
        computers = sum_of(figures, "received", "units") == sum(figures.get(f"received.{c}.units", 0)
                                                               for c in ("desktop", "laptop"))  # fmt: skip
        units, weight = number(main.received), mass(main.received_g, locale)
        out.append(_("{units} computers received ({weight})", units=units, weight=weight) if computers
                   else _("{units} devices received ({weight})", units=units, weight=weight))
    entered = sum_of(figures, "entered", "units")
    if entered:
        out.append(_("{units} entered the network from donors", units=number(entered)))
    if figures.get("lots.from_donors"):
        out.append(_("{donors} donors, {lots} lots", donors=number(figures.get("donors.count", 0)),
                     lots=number(figures["lots.from_donors"])))  # fmt: skip
    if main.distributed:
        out.append(_("{units} handed to families, schools and associations", units=number(main.distributed)))
    if main.recycled_g:
        out.append(_("{weight} handed to recyclers", weight=mass(main.recycled_g, locale)))
    if main.reuse_permille is not None:
        out.append(_("reuse rate: {rate}", rate=percent(main.reuse_permille, locale)))
    if main.co2e_g:
        tonnes = abs(main.co2e_g) >= 1_000_000
        value = mass(main.co2e_g, locale).rsplit("\u00a0", 1)[0]
        out.append(_("{weight} t of CO2e avoided", weight=value) if tonnes
                   else _("{weight} kg of CO2e avoided", weight=value))
    if main.materials_g:
        out.append(_("{weight} of raw materials avoided", weight=mass(main.materials_g, locale)))
    if "impact.years" in figures:
        out.append(_("impact assuming {years} years of second life (ADEME factors)",
                     years=number(figures["impact.years"])))  # fmt: skip
    out.append(_("{reporting} member associations out of {certified} reported",
                 reporting=number(year.reporting), certified=number(year.certified)))  # fmt: skip
    if year.partial:
        out.append(_("{count} of them for part of the year only", count=number(year.partial)))
    return out


@routes.get("/network/figures")
async def few_figures(request: web.Request) -> web.Response:
    """"Quelques chiffres": the year's figures as sentences for the activity report, and by category."""
    if request.app[NODE].config.role != "hub":
        return not_here(request, "hub")
    language = request.get(LANGUAGE, "fr")
    text = request.query.get("year", "").strip() or str(today().year - 1)
    try:
        if not (len(text) == 4 and text.isdigit()):
            raise Invalid(f"{text!r} is not a year", code="invalid_period")
        async with request.app[STORE].reader() as db:
            result = await network_year.year_figures(db, request.app[NODE].key.public.raw, text)
            held = {p[:4] for p in await regional.reported_periods(db)}
    except DomainError:  # not a year, or one the calendar cannot place (0000)
        _ = translator(language)
        return page(request, "network/figures.html", status=422, year=text[:8], years=[], lines=[],
                    result=None, error=_("Choose a year, e.g. 2025."))  # fmt: skip
    categories = by_category(result.figures, translator(language))
    years = sorted(held | {str(today().year - n) for n in (0, 1, 2)}, reverse=True)
    return page(
        request, "network/figures.html", year=text, years=years, lines=sentences(result, language),
        result=result, categories=categories, columns=CATEGORY_COLUMNS, category_totals=totals(categories),
        error=None,
        beneficiaries=[(name_of(BENEFICIARY_CATEGORIES, key.split(".", 1)[1], translator(language)), value)
                       for key, value in sorted(result.figures.items()) if key.startswith("beneficiaries.")],
    )  # fmt: skip
