"""Spreadsheet imports, from the lot and item pages: a lot's items, or a year of history.

``/lots/{id}/import`` imports a sheet of items into that lot;
``/items/import`` imports a history (one row per item with its lot, donor,
reception, erasure, fate...: ``node.imports.history``), making the lots and
donors it names. Both show a preview first: the whole import runs and is
rolled back (``node.domain.importing.run_import(..., dry_run=True)``). The preview
lists the rows it will create, how each column is read (a choice the
person can change: the page is previewed again with it), every value no
field accepts beside the accepted ones, and the rows left out. Confirming
runs the import on the same file, remembers the columns as chosen (the
``import_columns`` setting), and leads to the new items.

The previewed file waits in the node's pending area, named by its SHA-256
(``node.store.files.keep_pending``), not among its documents: confirm reads
it only there and removes it once imported; one never confirmed expires
(24 h), and the area holds at most 200 MB (the oldest previews go first).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from node.domain.importing import SHEET_KINDS, ImportReport, run_import
from node.domain.lots import get_lot
from node.errors import DomainError
from node.imports.history import FIELDS, IGNORE, NOTE
from node.imports.parsing import LIMITS
from node.store.files import MAX_FILE, drop_pending, keep_pending, pending_file
from web_ui.auth import requires
from web_ui.import_lines import IMPORT_REFUSALS, refusal_of
from web_ui.keys import NODE, STORE
from web_ui.labels import BENEFICIARY_CATEGORIES, CATEGORY_NAMES, STATE_NAMES
from web_ui.pages.catalogue_common import not_found, path_id, routes, see_other, tr, username, view

__all__ = ["lot_import", "history_import", "preview", "confirm", "done", "FIELD_NAMES"]

_YEAR = re.compile(r"^(19[89][0-9]|20[0-9][0-9]|2100)$")
MAX_LOTS_SHOWN = 200


def _(text: str) -> str:
    return text


# Our fields, as a column of the person's sheet may hold them.
FIELD_NAMES: dict[str, str] = {
    "category": _("Category"), "brand": _("Brand"), "model": _("Model"), "serial": _("Serial number"),
    "donor_asset": _("Donor's asset number"), "weight_g": _("Weight"), "cpu": _("Processor"), "ram_mb": _("RAM"),
    "storage_gb": _("Storage size"), "storage_type": _("Storage type"), "grade": _("Grade"), "lot": _("Lot"),
    "donor": _("Donor"), "received_on": _("Reception date"), "erasure": _("Data erasure"),
    "erased_on": _("Erasure date"), "fate": _("Fate"), "fate_on": _("Fate date"),
    "beneficiary_category": _("Beneficiary category"), "price_cents": _("Price (€)"),
    "recipient": _("Recycler"), NOTE: _("Keep as a note on each item"), IGNORE: _("Leave out"),
}  # fmt: skip
assert set(FIELD_NAMES) == {*FIELDS, NOTE, IGNORE}
KIND_TITLES = {"items": _("Import a sheet of items into lot {reference}"), "history": _("Load your history")}
# Why a row was left out, by the stable code of node.imports.history / node.domain.history_import.
ROW_REASONS = {
    "unknown_category": _("unknown category"), "missing_category": _("no category"),
    "unknown_fate": _("unknown fate"), "unknown_beneficiary_category": _("unknown beneficiary category"),
    "unknown_erasure": _("unknown erasure value"), "unknown_storage_type": _("unknown storage type"),
    "bad_grade": _("the grade is a letter from A to E"), "bad_number": _("not a number"), "bad_unit": _("unknown unit"),
    "out_of_range": _("too large"), "too_long": _("text too long"), "bad_date": _("not a date (write 01/06/2023)"),
    "bad_price": _("not a price in euros"), "future_date": _("a date in the future"),
    "before_reception": _("a date before the reception of the item or its lot"),
    "erasure_required": _("left the workshop without a data erasure: say it in the erasure column"),
    "beneficiary_without_distribution": _("a beneficiary for an item that was not distributed"),
    "price_without_distribution": _("a price for an item that was not distributed"),
    "price_refused": _("the price breaks a prix solidaire rule"), "unknown_lot": _("no lot has this reference"),
    "invalid": _("a value the item cannot take"),
}  # fmt: skip
FILE_PROBLEMS = {
    "no_category_column": _("No column is read as the category: choose it below, then preview again."),
    "column_twice": _("Two columns are read as the same field: choose one, then preview again."),
}
FATE_NAMES = {fate: STATE_NAMES[fate] for fate in ("distributed", "recycled", "dismantled", "transferred")}


def _accepted_names(fld: str, values: tuple[str, ...]) -> list[str]:
    names = {"category": CATEGORY_NAMES, "fate": FATE_NAMES, "beneficiary_category": BENEFICIARY_CATEGORIES}.get(fld)
    return [names.get(v, v) for v in values] if names else list(values)


def _form_page(request: web.Request, kind: str, lot: Any, *, status: int = 200, problem: str | None = None,
               detail: str = "") -> web.Response:  # fmt: skip
    """The upload form; ``problem`` in French, ``detail`` the domain's English words, shown apart."""
    return view(request, "catalogue/import.html", status=status, kind=kind, lot=lot, problem=problem,
                detail=detail, title=KIND_TITLES[kind], max_rows=LIMITS.sheet.rows)  # fmt: skip


@routes.get(r"/lots/{id:[0-9]+}/import")
@requires("technician")
async def lot_import(request: web.Request) -> web.Response:
    """The form to import a sheet of items into this lot."""
    async with request.app[STORE].reader() as db:
        try:
            lot = await get_lot(db, path_id(request))
        except DomainError:
            return not_found(request, _("This lot does not exist."))
    return _form_page(request, "items", lot)


@routes.get("/items/import")
@requires("technician")
async def history_import(request: web.Request) -> web.Response:
    """The form to load a year of history: items, lots, donors, erasures and fates."""
    return _form_page(request, "history", None)


def _columns(form: Any, headers: list[str]) -> dict[str, str] | None:
    """The columns as the person chose them in the preview (``col-<n>`` for the n-th header)."""
    chosen = {}
    for n, header in enumerate(headers[:LIMITS.sheet.columns]):
        value = form.get(f"col-{n}")
        if isinstance(value, str) and value in FIELD_NAMES and header.strip():
            chosen[header] = value
    return chosen or None


async def _entered(request: web.Request, form: Any) -> tuple[str, Any] | web.Response:
    kind = str(form.get("kind", ""))
    if kind not in SHEET_KINDS:
        return not_found(request, _("This import does not exist."))
    lot = None
    if kind == "items":
        lot_id = str(form.get("lot_id", ""))
        async with request.app[STORE].reader() as db:
            try:
                lot = await get_lot(db, int(lot_id)) if lot_id.isdigit() and len(lot_id) < 19 else None
            except DomainError:
                lot = None
        if lot is None:
            return not_found(request, _("This lot does not exist."))
    return kind, lot


def _preview_page(request: web.Request, kind: str, lot: Any, report: ImportReport, *, filename: str, sha256: str,
                  status: int = 200) -> web.Response:  # fmt: skip
    _t = tr(request)
    problem = None
    if report.failed in FILE_PROBLEMS:
        problem = _t(FILE_PROBLEMS[report.failed])
    elif report.failed in IMPORT_REFUSALS:
        problem = refusal_of(report.failed, _t)
    elif not report.ok:
        problem = _t("This file cannot be imported: nothing was changed.")
    unknown = [{"column": u.column, "field": u.field, "value": u.value, "lines": u.lines, "count": u.count,
                "accepted": _accepted_names(u.field, u.accepted)} for u in report.unknown_values]  # fmt: skip
    skipped: dict[int, list[Any]] = {}
    for error in report.skipped_rows:
        skipped.setdefault(error.line, []).append(error)
    return view(request, "catalogue/import_preview.html", status=status, kind=kind, lot=lot, report=report,
                filename=filename, sha256=sha256, problem=problem, unknown=unknown, skipped=skipped,
                row_reasons=ROW_REASONS, field_names=FIELD_NAMES, fate_names=FATE_NAMES,
                beneficiary_names=BENEFICIARY_CATEGORIES, title=KIND_TITLES[kind],
                detail="; ".join(report.errors[:3]))  # fmt: skip


async def _run(request: web.Request, kind: str, lot: Any, data: bytes, filename: str, columns: dict[str, str] | None,
               dry_run: bool) -> ImportReport:  # fmt: skip
    return await run_import(request.app[NODE], request.app[STORE], kind, data, filename,
                            lot=lot.reference if lot else None, dry_run=dry_run, columns=columns,
                            operator=username(request) or "import")  # fmt: skip


def _pending(request: web.Request, sha256: str) -> bytes | None:
    """The file a preview kept (``keep_pending``): never one of the node's documents or evidence files."""
    return pending_file(request.app[NODE].data_dir, sha256)


@routes.post("/imports/preview")
@requires("technician")
async def preview(request: web.Request) -> web.Response:
    """Upload a sheet (or preview again with other columns): the import runs and is rolled back."""
    _t = tr(request)
    form = await request.post()
    entered = await _entered(request, form)
    if isinstance(entered, web.Response):
        return entered
    kind, lot = entered
    upload = form.get("file")
    sha256 = str(form.get("sha256", ""))
    filename = str(form.get("filename", "upload"))[:200]
    if hasattr(upload, "file"):
        data = upload.file.read(MAX_FILE + 1)  # type: ignore[union-attr]
        filename = (upload.filename or "upload")[:200]  # type: ignore[union-attr]
        if not data:
            return _form_page(request, kind, lot, status=422, problem=_t("The file is empty."))
        if len(data) > MAX_FILE:
            return _form_page(request, kind, lot, status=413, problem=_t("The file is too large (at most 50 MB)."))
        sha256 = keep_pending(request.app[NODE].data_dir, data)
        columns = None
    else:
        stored = _pending(request, sha256)
        if stored is None:  # none sent, or its preview expired, was imported or made room for newer ones
            problem = (_t("The file of this preview is not on the node any more: upload it again.") if sha256
                       else _t("Choose the file to import."))  # fmt: skip
            return _form_page(request, kind, lot, status=422, problem=problem)
        data = stored
        columns = _columns(form, [str(h) for h in form.getall("header", [])])
    try:
        report = await _run(request, kind, lot, data, filename, columns, dry_run=True)
    except DomainError as exc:
        drop_pending(request.app[NODE].data_dir, sha256)  # the form asks for a file again: this one is of no use
        return _form_page(request, kind, lot, status=422, problem=_t("The file could not be read. Nothing was imported."),
                          detail=exc.message)  # fmt: skip
    return _preview_page(request, kind, lot, report, filename=filename, sha256=sha256, status=200 if report.ok else 422)


@routes.post("/imports/confirm")
@requires("technician")
async def confirm(request: web.Request) -> web.Response:
    """Import the file the preview showed, with the columns it showed; then lead to the new items."""
    _t = tr(request)
    form = await request.post()
    entered = await _entered(request, form)
    if isinstance(entered, web.Response):
        return entered
    kind, lot = entered
    filename = str(form.get("filename", "upload"))[:200]
    sha256 = str(form.get("sha256", ""))
    data = _pending(request, sha256)
    if data is None:
        return _form_page(request, kind, lot, status=422,
                          problem=_t("The file of this preview is not on the node any more: upload it again."))  # fmt: skip
    columns = _columns(form, [str(h) for h in form.getall("header", [])])
    try:
        report = await _run(request, kind, lot, data, filename, columns, dry_run=False)
    except DomainError as exc:
        drop_pending(request.app[NODE].data_dir, sha256)  # the form asks for a file again
        return _form_page(request, kind, lot, status=422, problem=_t("The import was refused: nothing was changed."),
                          detail=exc.message)  # fmt: skip
    if not report.ok:
        return _preview_page(request, kind, lot, report, filename=filename, sha256=sha256, status=422)
    drop_pending(request.app[NODE].data_dir, sha256)
    years = sorted({str(row.get(f))[:4] for row in report.rows for f in ("received_on", "fate_on") if row.get(f)})
    query = [("created", report.created), ("skipped", report.skipped), ("erasures", report.erasures),
             *(("lot", lot_id) for lot_id in list(report.lots)[:MAX_LOTS_SHOWN]), *(("year", y) for y in years[:20])]
    return see_other("/imports/done?" + urlencode(query))


def _whole(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0


@routes.get("/imports/done")
@requires("read_only")
async def done(request: web.Request) -> web.Response:
    """What the import made, with links to the new items (by lot) and to the figures of their years."""
    lots = []
    async with request.app[STORE].reader() as db:
        for raw in request.query.getall("lot", [])[:MAX_LOTS_SHOWN]:
            try:
                lots.append(await get_lot(db, _whole(raw)))
            except DomainError:
                continue
    years = [y for y in request.query.getall("year", [])[:20] if _YEAR.match(y)]
    counts = {k: _whole(request.query.get(k, "")) for k in ("created", "skipped", "erasures")}
    return view(request, "catalogue/import_done.html", lots=lots, years=years, counts=counts)
