"""Statistics and impact of any period, with the impact's formula written out, and the same figures as CSV;
a member's report of a period to its network (``/reports/network``); on a hub, the hub's own report,
which goes into its regional summary (``node.network.regional``), not to a hub.

The figures are ``node.domain.stats.compute_stats``'s; the impact is never shown
without its arithmetic (units × years × factor, per category), its factor
table's version and source, and the years of second life assumed
(DOMAIN.md). The formula lines are built here, in the reader's language,
from ``Impact.lines``, not from the English ``Impact.formula_lines``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from federation.audit import Audit, InclusionFailed
from node.domain.impact import Impact, factor_table
from node.domain.settings import get_setting
from node.domain.states import FATES, STATES
from node.domain.stats import Amount, Stats, compute_stats
from node.errors import DomainError
from node.network import peers as trust
from node.network.stats_reports import (
    SentReport,
    last_ended_period,
    list_reports,
    own_keys,
    preview,
    publish_report,
)
from node.network.transparency import inclusion_of
from node.reports.sheet_cells import csv_writer
from node.store.database import Reader
from protocol.keys import fingerprint
from web_ui.auth import requires
from web_ui.i18n import Formats
from web_ui.keys import FEDERATION, NODE, STORE
from web_ui.labels import BENEFICIARY_CATEGORIES, CATEGORY_NAMES, STATE_NAMES, name_of, ordered_categories
from web_ui.pages.federation import CALL_ERRORS
from web_ui.pages.figure_sheets import figure_header, figures_xlsx
from web_ui.pages.handoffs import wake_federation
from web_ui.pages.network_common import (
    BAR_HEIGHT,
    CHART_WIDTH,
    NAME_WIDTH,
    POLICY_LEVELS,
    Bar,
    bar_chart,
    checked_period,
    ended_periods,
    figure_rows,
    has_ended,
    known_text,
    period_choices,
    period_name,
    today,
)  # fmt: skip
from web_ui.pages.outputs_common import download, error_of, parse_period, translate
from web_ui.pages.workshop_common import see_other, status_of
from web_ui.periods import listed
from web_ui.render import LANGUAGE, page

routes = web.RouteTableDef()


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


_ZERO = Amount(0, 0)


@dataclass(frozen=True, slots=True)
class FateRow:
    name: str
    units: dict[str, int]  # fate -> units
    total: int


_ordered = ordered_categories


def chart(distributed: Mapping[str, int], _: Callable[..., str]) -> tuple[list[Bar], int]:
    """Horizontal bars of distributed units by category, scaled to the largest; and the drawing's height."""
    drawn = bar_chart((name_of(CATEGORY_NAMES, c, _), distributed[c]) for c in _ordered(distributed))
    return drawn.bars, drawn.height


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
        formula=formula(stats.impact, fmt, _), impact=stats.impact,
        neighbours=tuple(p if listed(p) else "" for p in neighbours(period)),  # never the future, nor beyond the list
        report_period=period if has_ended(period) else "",
    )  # fmt: skip


@routes.get(r"/reports/stats.{form:csv|xlsx}")
async def stats_csv(request: web.Request) -> web.Response:
    """The period's figures as ``figure;value`` lines (the keys of ``Stats.as_figures``), after the period.

    The CSV is a machine interface (figure keys, as reports carry them); the XLSX names each figure in words.
    """
    period_text = request.query.get("period", "")
    try:
        period, stats = await _stats(request, period_text)
    except DomainError as exc:
        return page(request, "outputs/stats.html", status=422, error=error_of(request, exc),
                    period=period_text[:20], stats=None)  # fmt: skip
    rows: list[list[object]] = [["period", period], ["start_ms", stats.start_ms], ["end_ms", stats.end_ms],
                                 ["computed_ms", stats.computed_ms], ["impact.factor_version", stats.impact.version],
                                 ["impact.factor_source", stats.impact.source],
                                 *([key, value] for key, value in sorted(stats.as_figures().items()))]  # fmt: skip
    if request.match_info["form"] == "xlsx":
        _ = translate(request)
        named = [[figure_header(str(key), _), value, key] for key, value in rows]
        return figures_xlsx([["figure", "value", "key"], *named], f"stats-{period}.xlsx", _, period)
    out = io.StringIO(newline="")
    writer = csv_writer(out, delimiter=";")
    writer.writerow(["figure", "value"])
    writer.writerows(rows)
    body = out.getvalue().encode("utf-8-sig")
    return download(body, "text/csv", f"stats-{period}.csv", charset="utf-8")


# --- a member's report to its network --------------------------------------------------------------

REPORT_REFUSALS: dict[str, str] = {
    "not_published": _("The publication policy shares no statistics: nothing was signed. An administrator can change it in the settings."),
    "period_not_ended": _("This period has not ended: its report can be sent once it has. Nothing was signed."),
}  # fmt: skip
REPORT_REFUSED = _("The report was not sent. Nothing was signed.")
# federation.audit.InclusionFailed.reason, and what the page itself finds
INCLUSION_FAILURES: dict[str, str] = {
    "not_yet": _("Not yet in the network's latest checkpoint: try again later."),
    "not_included": _("Warning: the hub says this report is not in its log, although it received it. The hub may have dropped it. An alert was recorded (Federation page): tell the hub's administrator."),
    "bad_proof": _("Warning: the hub's proof that it holds this report does not verify: its log may have been altered. An alert was recorded (Federation page): tell the hub's administrator."),
    "bad_checkpoint": _("Warning: the hub answered with a checkpoint that is not a valid one of its log. An alert was recorded (Federation page): tell the hub's administrator."),
    "no_upstream": _("This node has no hub to ask: it has not joined a network, or its hub has no address."),
    "not_held": _("This report is not held on this node."),
    "unreachable": _("The hub could not be reached: try again later."),
    "no_federation": _("The federation is not running in this process: the node checks its reports by itself while it runs."),
}  # fmt: skip
# On a hub, the upstream that keeps and proves its own reports is the national federation, not a hub.
INCLUSION_FAILURES_AT_NATIONAL: dict[str, str] = {
    "not_yet": _("Not yet in the national federation's latest checkpoint: try again later."),
    "not_included": _("Warning: the national federation says this report is not in its log, although it received it. It may have dropped it. An alert was recorded (Federation page): tell the national federation's administrator."),
    "bad_proof": _("Warning: the national federation's proof that it holds this report does not verify: its log may have been altered. An alert was recorded (Federation page): tell the national federation's administrator."),
    "bad_checkpoint": _("Warning: the national federation answered with a checkpoint that is not a valid one of its log. An alert was recorded (Federation page): tell the national federation's administrator."),
    "no_upstream": _("This hub has no national federation to ask: it has not joined one, or its node has no address."),
    "unreachable": _("The national federation could not be reached: try again later."),
}  # fmt: skip
NOT_A_REPORTER = _("This node is the national federation's: it reports to no hub. Nothing was signed.")
ALARMING = frozenset({"not_included", "bad_proof", "bad_checkpoint"})
# node.network.peers.Peer.relation, as the reader of a report
READER_RELATIONS: dict[str, str] = {
    "upstream": _("our hub"),
    "national": _("the national federation"),  # a hub's upstream
    "downstream": _("a member of our network"),
    "peer": _("a peer node"),
}
# On a hub, its upstream is the national federation: policy levels said as a hub's readers are.
HUB_POLICY_LEVELS: dict[str, str] = {
    "hub": _("This hub and the national federation"),
    "network": _("The national federation and every hub it admitted"),
}


@dataclass(frozen=True, slots=True)
class ReaderRow:
    """Who may read a report: this node, a peer (name, relation), or a member of the network not met yet."""

    name: str
    relation: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class SentRow:
    """A report this node signed, its readers, and the hub's checkpoint proved to hold it."""

    report: SentReport
    readers: list[ReaderRow] | None  # None: anyone (public)
    checkpoint: int | None
    verified_at: int | None


async def readers_of(db: Reader, audience: tuple[bytes, ...], me: bytes, own_name: str,
                     _: Callable[..., str]) -> list[ReaderRow] | None:  # fmt: skip
    """An audience in words (``node.network.stats_reports.reader_names`` in English); None for anyone (public)."""
    if not audience:
        return None
    known = {peer.key: peer for peer in await trust.list_peers(db)}
    rows = []
    for key in audience:
        if key == me:
            rows.append(ReaderRow(own_name, _("this node"), fingerprint(key)))
        elif key in known:
            peer = known[key]
            national = peer.relation == "upstream" and peer.role == "national"
            relation = READER_RELATIONS.get("national" if national else peer.relation)
            rows.append(ReaderRow(known[key].name, _(relation) if relation else "", fingerprint(key)))
        else:
            rows.append(ReaderRow("", _("a member of the network"), fingerprint(key)))
    return rows


def _inclusion_check(request: web.Request) -> Audit | None:
    """The running federation's audit, if this process runs one that can call the hub."""
    fed = request.app.get(FEDERATION)
    return fed.audit if fed is not None and getattr(fed, "client", None) is not None else None


async def report_page(request: web.Request, text: str, *, status: int = 200,
                      refused: tuple[str, str] | None = None,
                      check: tuple[str, str, str] | None = None) -> web.Response:  # fmt: skip
    """What the report of a period would carry and for whom, the button to send it, the reports sent."""
    node, store = request.app[NODE], request.app[STORE]
    me = node.key.public.raw
    language = request.get(LANGUAGE, "fr")
    _ = translate(request)
    async with store.reader() as db:
        schedule = await get_setting(db, "stats_schedule")
        sent = await list_reports(db, await own_keys(db, me))
    period_text = text.strip() or last_ended_period(schedule, today()) or ended_periods(today())["month"][0]
    error, draft = None, None
    role = node.config.role
    try:
        period = checked_period(period_text)
        if role != "national":  # national reports to no hub: nothing would leave
            async with store.transaction() as tx:  # writes nothing: the audience is computed as when signing
                draft = await preview(tx, period)
    except DomainError as exc:
        period, status = period_text[:20], 422
        error = error_of(request, exc)
    async with store.reader() as db:
        readers = None
        if draft is not None and draft.audience:
            readers = await readers_of(db, draft.audience, me, node.config.name, _)
        rows = []
        for report in sent:
            included = await inclusion_of(db, report.id)
            rows.append(SentRow(report, await readers_of(db, report.audience, me, node.config.name, _),
                                included.checkpoint_seq if included else None,
                                included.verified_at if included else None))  # fmt: skip
    figures = figure_rows(draft.figures, language) if draft is not None else []
    levels = {**POLICY_LEVELS, **HUB_POLICY_LEVELS} if role == "hub" else POLICY_LEVELS
    flashes = []
    earlier = [row.report for row in rows if row.report.period == period]
    if request.query.get("done") == "sent" and status == 200 and earlier:
        if role == "hub":  # its own report goes into its regional summary, not to a hub
            message = _("The report of {period} was signed (version {version}). The regional summary of this period includes it once it is signed again: “Sign the summary” on the Network page, or the daily upkeep the next day.",
                        period=period_name(period, language), version=earlier[0].version)  # fmt: skip
        else:
            message = _("The report of {period} was signed (version {version}). It leaves for the hub as soon as this node reaches it.",
                        period=period_name(period, language), version=earlier[0].version)  # fmt: skip
        flashes.append(("ok", message))
    return page(
        request, "network/report.html", status=status, period=period, error=error, draft=draft,
        period_label=period_name(period, language) if error is None else period, figures=figures,
        notes=[known_text(note, _) for note in draft.notes] if draft else [], readers=readers,
        level=levels.get(draft.level, draft.level) if draft else "", earlier=earlier, sent=rows,
        ended=error is None and has_ended(period), refused=refused, flashes=flashes,
        choices=period_choices(today(), {r.period for r in sent} | ({period} if error is None else set())),
        period_name=lambda p: period_name(p, language), can_check=_inclusion_check(request) is not None,
        role=role, check=check,
    )  # fmt: skip


@routes.get("/reports/network")
async def network_report(request: web.Request) -> web.Response:
    """"Rapport au réseau": choose an ended period, see exactly what would leave and for whom, send it."""
    return await report_page(request, request.query.get("period", ""))


@routes.post("/reports/network/send")
@requires("admin")
async def send_report(request: web.Request) -> web.Response:
    """Sign the period's report (``node.network.stats_reports.publish_report``); sending again signs a correction."""
    _ = translate(request)
    text = str((await request.post()).get("period", ""))
    if request.app[NODE].config.role == "national":
        return await report_page(request, text, status=409, refused=(_(NOT_A_REPORTER), ""))
    try:
        period = checked_period(text)
        async with request.app[STORE].transaction() as tx:
            await publish_report(tx, period)
    except DomainError as exc:
        if exc.code == "invalid_period":
            return await report_page(request, text)
        why = f" {_(REPORT_REFUSALS[exc.code])}" if exc.code in REPORT_REFUSALS else ""
        message = _(REPORT_REFUSED) + why
        return await report_page(request, text, status=status_of(exc), refused=(message, exc.message))
    wake_federation(request)
    return see_other(f"/reports/network?period={period}&done=sent")


@routes.post("/reports/network/check")
async def check_report(request: web.Request) -> web.Response:
    """"Vérifier maintenant": have the hub prove now that its log holds one of our reports."""
    _ = translate(request)
    form = await request.post()
    text, wanted = str(form.get("period", "")), str(form.get("report", ""))
    try:
        record_id = bytes.fromhex(wanted)
    except ValueError:
        record_id = b""
    audit = _inclusion_check(request)
    code, detail = "", ""
    if len(record_id) != 32:
        code = "not_held"
    elif audit is None:
        code = "no_federation"
    else:
        try:
            included = await audit.check_inclusion(record_id)
        except InclusionFailed as exc:
            code, detail = exc.reason, exc.message
        except CALL_ERRORS as exc:
            code, detail = "unreachable", f"{type(exc).__name__}: {exc}"
    at_national = request.app[NODE].config.role == "hub"  # a hub's upstream is the national federation
    if not code:
        if at_national:
            message = _("Proved: the national federation's log holds this report, at its checkpoint {number}.",
                        number=included.checkpoint_seq)  # fmt: skip
        else:
            message = _("Proved: the hub's log holds this report, at its checkpoint {number}.",
                        number=included.checkpoint_seq)  # fmt: skip
        return await report_page(request, text, check=("ok", message, ""))
    failures = {**INCLUSION_FAILURES, **INCLUSION_FAILURES_AT_NATIONAL} if at_national else INCLUSION_FAILURES
    message = _(failures.get(code, failures["unreachable"]))
    kind = "alarm" if code in ALARMING else "later" if code == "not_yet" else "error"
    status = 409 if code in ALARMING else 200 if code == "not_yet" else 503
    return await report_page(request, text, status=status, check=(kind, message, detail))
