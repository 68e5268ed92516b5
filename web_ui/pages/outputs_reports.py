"""Reports: the donor report (signed, PDF and signed document), the list of those signed, the CSV exports.

``POST /reports/donor`` builds the report, signs it into the node's log
and answers with the PDF as a download; the signed document (``.mlnrec``)
of every report signed so far is on ``/reports``, written again from the
log at each download. Exports are ``GET /exports/<kind>.csv`` and
``.xlsx``, for spreadsheets in the reader's language (``web_ui.sheets``;
the nwipe customers file CSV only, without BOM, as nwipe reads it).
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aiohttp import web

from node.domain.donors import list_donors
from node.domain.lots import list_lots
from node.errors import DomainError, NotFound
from node.reports.donor_bundle import bundle_file
from node.reports.donor_pdf import render_donor_report
from node.reports.donor_register import register_csv, register_xlsx
from node.reports.donor_report import build_donor_report, report_of_signed, sign_donor_report
from node.reports.exports import CSV_EXPORTS, export_table, nwipe_customers
from node.reports.signed_documents import count_donor_reports, donor_report, donor_reports, signed_document
from protocol.custody_kinds import DonorReport2
from protocol.records import read_record_file
from web_ui.i18n import LANGUAGES, TIMEZONE
from web_ui.keys import NODE, STORE
from web_ui.pages.outputs_common import Problem, download, error_of, parse_period, slug, translate
from web_ui.paging import Pager, page_number
from web_ui.render import LANGUAGE, page
from web_ui.sheets import XLSX_TYPE, csv_bytes, people_sheet, xlsx_bytes

routes = web.RouteTableDef()

LOTS_SHOWN = 200
EXPORTS = (*CSV_EXPORTS, "nwipe-customers")


def _(text: str) -> str:
    return text


EXPORT_NAMES: dict[str, str] = {
    "items": _("Items (every item and its description)"),
    "lots": _("Lots (donor, declared and counted quantities)"),
    "events": _("Events (every step of every item)"),
    "waste-register": _("Waste register (outflows to recyclers)"),
    "nwipe-customers": _("Donors for nwipe (customers file of the wiping stations)"),
}


@dataclass
class DonorChoice:
    """The donor report form, as typed."""

    donor_id: str = ""
    lot: str = ""
    period: str = ""
    language: str = "fr"


async def _reports_page(request: web.Request, *, status: int = 200, choice: DonorChoice | None = None,
                        error: tuple[str, str] | None = None, export_error: tuple[str, str] | None = None,
                        export_period: str = "") -> web.Response:  # fmt: skip
    node = request.app[NODE]
    async with request.app[STORE].reader() as db:
        donors = await list_donors(db)
        lots = await list_lots(db, limit=LOTS_SHOWN)
        pager = Pager(page_number(request), await count_donor_reports(db, node.key.public.raw))
        signed = await donor_reports(db, node.key.public.raw, limit=pager.per_page, offset=pager.offset)
    return page(
        request, "outputs/reports.html", status=status, donors=donors, lots=lots,
        choice=choice or DonorChoice(language=request.get(LANGUAGE, "fr")), error=error,
        signed=signed, pager=pager,
        exports=EXPORT_NAMES, export_error=export_error, export_period=export_period,
    )  # fmt: skip


@routes.get("/reports")
async def reports(request: web.Request) -> web.Response:
    return await _reports_page(request)


@routes.post("/reports/donor")
async def make_donor_report(request: web.Request) -> web.Response:
    """Build, sign and render a donor report; the PDF comes back as a download."""
    form = await request.post()
    choice = DonorChoice(**{name: str(form.get(name, "")).strip() for name in ("donor_id", "lot", "period")},
                         language=str(form.get("language", "fr")))  # fmt: skip
    node = request.app[NODE]
    try:
        if bool(choice.donor_id) == bool(choice.lot):
            raise Problem(_("Choose a donor or a lot: one of the two."))
        if choice.language not in LANGUAGES:
            raise Problem(_("Choose the language of the report."), f"language: {choice.language!r}")
        donor_id = int(choice.donor_id) if choice.donor_id.isdigit() and len(choice.donor_id) < 19 else None
        if choice.donor_id and donor_id is None:
            raise Problem(_("Choose a donor in the list."), f"donor_id: {choice.donor_id[:30]!r}")
        period = parse_period(choice.period, required=False)
        async with request.app[STORE].transaction() as tx:
            report = await build_donor_report(tx, node, donor_id=donor_id, lot=choice.lot or None,
                                              period=period[1] if period else None)  # fmt: skip
            if not report.lines:
                raise Problem(_("No item of this donor in this period: there is nothing to report."))
            record = await sign_donor_report(tx, report)
    except (DomainError, Problem) as exc:
        return await _reports_page(request, status=422, choice=choice, error=error_of(request, exc))
    signed = replace(report, record_id_hex=record.id.hex())
    # Rendering a large report takes a second or more: off the event loop.
    pdf = await asyncio.to_thread(render_donor_report, signed, choice.language, tz=str(TIMEZONE))
    day = datetime.now(TIMEZONE).strftime("%Y-%m-%d")
    return download(pdf, "application/pdf", f"{_file_prefix(request)}-{slug(report.donor_name)}-{day}.pdf")


def _file_prefix(request: web.Request) -> str:
    return slug(translate(request)(_("donor-report")))


@routes.get(r"/reports/donor/{record:[0-9a-f]{64}}.mlnrec")
async def donor_report_file(request: web.Request) -> web.Response:
    """The signed document of a donor report, as signed (anyone can check it offline)."""
    record = request.match_info["record"]
    try:
        async with request.app[STORE].reader() as db:
            summary = await donor_report(db, record)
            document = await signed_document(db, record)
    except DomainError as exc:
        message, _detail = error_of(request, exc)
        return page(request, "error.html", status=404, message=message)
    day = datetime.fromtimestamp(summary.time_ms / 1000, UTC).astimezone(TIMEZONE).strftime("%Y-%m-%d")
    name = f"{_file_prefix(request)}-{slug(summary.donor)}-{day}-{record[:8]}.mlnrec"
    return download(document, "application/octet-stream", name)


@routes.get(r"/reports/donor/{record:[0-9a-f]{64}}.mlnbundle")
async def donor_report_bundle(request: web.Request) -> web.Response:
    """The proof bundle of a donor report: the report and the signed records of every hop (checked offline)."""
    record = request.match_info["record"]
    try:
        async with request.app[STORE].reader() as db:
            summary = await donor_report(db, record)
            document = await signed_document(db, record)
            signed = read_record_file(document)
            if signed.header.kind != DonorReport2.KIND:
                raise NotFound("this report was signed before proof bundles existed: download its .mlnrec")
            bundle = await bundle_file(db, signed)
    except DomainError as exc:
        message, _detail = error_of(request, exc)
        return page(request, "error.html", status=404, message=message)
    day = datetime.fromtimestamp(summary.time_ms / 1000, UTC).astimezone(TIMEZONE).strftime("%Y-%m-%d")
    name = f"{_file_prefix(request)}-{slug(summary.donor)}-{day}-{record[:8]}.mlnbundle"
    return download(bundle, "application/octet-stream", name)


@routes.get(r"/reports/donor/{record:[0-9a-f]{64}}.{form:csv|xlsx}")
async def donor_register(request: web.Request) -> web.Response:
    """The donor's register of a signed report, serial by serial (CSV, XLSX), in the reader's language.

    What the records held now prove of the report's items, as the proof
    bundle downloaded beside it does (an item given since the report was
    signed reads given).
    """
    record, form = request.match_info["record"], request.match_info["form"]
    language = request.get(LANGUAGE, "fr")
    try:
        async with request.app[STORE].reader() as db:
            summary = await donor_report(db, record)
            signed = read_record_file(await signed_document(db, record))
            if signed.header.kind != DonorReport2.KIND:
                raise NotFound("this report was signed before proof bundles existed: download its .mlnrec")
            report = await report_of_signed(db, request.app[NODE], signed)
    except DomainError as exc:
        message, _detail = error_of(request, exc)
        return page(request, "error.html", status=404, message=message)
    day = datetime.fromtimestamp(summary.time_ms / 1000, UTC).astimezone(TIMEZONE).strftime("%Y-%m-%d")
    name = f"{_file_prefix(request)}-{slug(summary.donor)}-{day}-{record[:8]}.{form}"
    if form == "xlsx":
        return download(await asyncio.to_thread(register_xlsx, report, language), XLSX_TYPE, name)
    return download(register_csv(report, language), "text/csv", name, charset="utf-8")


@routes.get(r"/exports/{kind}.{form:csv|xlsx}")
async def export_file(request: web.Request) -> web.Response:
    """One export for a spreadsheet, CSV or XLSX, in the reader's language (``web_ui.sheets``).

    The nwipe customers file is CSV only, as nwipe reads it (no BOM); ``maillon
    export`` writes the machine form of the others (``node.reports.exports``).
    """
    kind, form = request.match_info["kind"], request.match_info["form"]
    if kind not in EXPORTS or (kind == "nwipe-customers" and form != "csv"):
        raise web.HTTPNotFound()
    period_text = request.query.get("period", "")
    text = io.StringIO(newline="")
    try:
        period = parse_period(period_text, required=False) if kind == "waste-register" else None
        async with request.app[STORE].reader() as db:
            if kind == "nwipe-customers":
                await nwipe_customers(db, text)
            else:
                table = await export_table(db, kind, period=period[1] if period else None)
    except DomainError as exc:
        return await _reports_page(request, status=422, export_error=error_of(request, exc),
                                   export_period=period_text[:20])  # fmt: skip
    suffix = f"-{period[0]}" if kind == "waste-register" and period else ""
    name = f"{kind}{suffix}-{datetime.now(TIMEZONE).strftime('%Y-%m-%d')}.{form}"
    if kind == "nwipe-customers":
        return download(text.getvalue().encode("utf-8"), "text/csv", name, charset="utf-8")
    sheet = people_sheet(table, translate(request), title=kind)
    if form == "xlsx":
        return download(await asyncio.to_thread(xlsx_bytes, sheet), XLSX_TYPE, name)
    return download(csv_bytes(sheet), "text/csv", name, charset="utf-8")
