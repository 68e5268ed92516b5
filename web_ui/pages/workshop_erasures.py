"""Data erasure: the records (newest first), the orphan disks, a manual record, and
the imports of nwipe / ShredOS logs and ``lshw -json`` descriptions (sheets of items are
imported from the lot and item pages: ``web_ui.pages.catalogue_imports``).

An import is shown before it is applied: the uploaded file goes through
``node.domain.importing.run_import(..., dry_run=True)`` (the whole import, rolled
back) and the page shows what it would do. The file waits in the pending
area by its SHA-256 (``node.store.files.keep_pending``: bounded in age and
size, never among the node's documents) and the confirmation form names it
(hash, kind, file name, lot) in hidden fields; confirming reads it back
from there only, runs the real import, in one transaction (a refused file
changes nothing), then removes it (an nwipe log is kept as evidence by the
import itself).

Wiping stations (ShredOS uploading by itself) are registered with
``maillon station add``; the domain has no function listing them yet,
so this page does not show them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from node.domain import erasure
from node.domain.erasure import ErasureInput
from node.domain.importing import IMPORT_KINDS, ImportReport, run_import
from node.domain.items import get_item, item_id_by_tag
from node.errors import DomainError, NotFound
from node.queries.workshop_lists import lot_choices, recent_erasures
from node.store.files import MAX_FILE, drop_pending, keep_pending, pending_file
from node.validation import parse
from web_ui.erasure_words import VERIFICATION_CHOICES, VERIFICATIONS, verification_code
from web_ui.import_lines import IMPORT_REFUSALS, refusal_of, say_line
from web_ui.keys import NODE, STORE
from web_ui.pages.workshop_common import (
    DAY_HELP,
    PER_PAGE,
    Pager,
    Refusal,
    decimal_units,
    field_of,
    form_day,
    operator,
    page_number,
    query_id,
    refusal,
    render,
    see_other,
    status_of,
    tr,
)  # fmt: skip

__all__ = ["routes"]

routes = web.RouteTableDef()
ORPHANS_SHOWN = 50
MANUAL_FIELDS = ("asset_tag", "disk_serial", "disk_model", "size_gb", "method", "level", "tool", "tool_version",
                 "passes", "verification", "result", "operator", "happened_on")  # fmt: skip


def _(text: str) -> str:
    return text


LEVELS = {
    "clear": _("Clear: overwriting (nwipe, shred…)"),
    "purge": _("Purge: secure erase by the disk itself (ATA / NVMe secure erase, crypto erase)"),
    "destroy": _("Destroy: physical destruction of the disk (shredding, drilling)"),
}
RESULTS = {"success": _("erasure succeeded"), "failure": _("erasure failed")}
SOURCES = {
    "manual": _("entered by hand"), "nwipe": _("nwipe log"), "shredos_upload": _("sent by a ShredOS station"),
    "import": _("imported"), "handoff": _("received with a lot"),
}  # fmt: skip
KINDS = {
    "nwipe": _("nwipe / ShredOS erasure log"),
    "lshw": _("hardware description (lshw -json)"),
}
# Sheets of items are imported from the lot and item pages (web_ui.pages.catalogue_imports).
assert set(KINDS) <= set(IMPORT_KINDS)
FIELD_HELP = {
    "asset_tag": _("Asset tag: the one printed on the item's label, such as MLN-000042."),
    "size_gb": _("Size: a number of GB, such as 256 or 500."),
    "passes": _("Passes: a whole number from 0 to 100."),
    "method": _("Method: say how the disk was erased, such as “Fill With Zeros”."),
    "level": _("Level: choose clear, purge or destroy."),
    "tool": _("Tool: the software or machine used, such as nwipe."),
    "result": _("Result: say whether the erasure succeeded."),
    "happened_on": DAY_HELP,
}
DONE = {
    "recorded": _("The erasure is recorded."),
    "now_erased": _("{tag} is now “erased”: the erasure of each of its disks is on record."),
    "not_yet_erased": _("{tag} is not “erased” yet: {count} disk(s) found in it still need a successful erasure record."),
    "imported": _("Import done: {created} created, {updated} updated, {skipped} skipped."),
}


async def _erasures_page(request: web.Request, *, status: int = 200, refused: Refusal | None = None,
                         entered: dict[str, str] | None = None, import_refused: Refusal | None = None,
                         import_entered: dict[str, str] | None = None) -> web.Response:  # fmt: skip
    _ = tr(request)
    number = page_number(request)
    async with request.app[STORE].reader() as db:
        records, total = await recent_erasures(db, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
        orphans = await erasure.orphan_disks(db, limit=ORPHANS_SHOWN + 1)
        lots = await lot_choices(db)
    flashes = []
    done = request.query.get("done")
    if done == "recorded":
        flashes.append(("ok", _(DONE["recorded"])))
        flashes += await _item_outcome(request, query_id(request, "item"))
    elif done == "imported":
        counts = {k: query_id(request, k) or 0 for k in ("created", "updated", "skipped")}
        flashes.append(("ok", _(DONE["imported"], **counts)))
    return render(
        request, "workshop/erasures.html", status=status, flashes=flashes, records=records,
        pager=Pager(number, total), orphans=orphans[:ORPHANS_SHOWN], more_orphans=len(orphans) > ORPHANS_SHOWN,
        lots=lots, levels=LEVELS, results=RESULTS, sources=SOURCES, kinds=KINDS, refused=refused,
        verifications=[VERIFICATIONS[code] for code in VERIFICATION_CHOICES],
        entered=entered or {"operator": operator(request) or "", "result": "success", "level": "clear",
                            "asset_tag": request.query.get("tag", "").strip()[:100]},
        import_refused=import_refused, import_entered=import_entered or {"kind": "nwipe"},
    )  # fmt: skip


async def _item_outcome(request: web.Request, item_id: int | None) -> list[tuple[str, str]]:
    """What the erasure just recorded did to its item: erased now, or the disks still waiting."""
    if item_id is None:
        return []
    _ = tr(request)
    async with request.app[STORE].reader() as db:
        try:
            item = await get_item(db, item_id)
        except NotFound:
            return []
        proofs = await erasure.disk_proofs(db, item_id)
    if item.state == "erased":
        return [("ok", _(DONE["now_erased"], tag=item.asset_tag))]
    if proofs.unproven:
        return [("warning", _(DONE["not_yet_erased"], tag=item.asset_tag, count=len(proofs.unproven)))]
    return []


@routes.get("/erasures")
async def erasures(request: web.Request) -> web.Response:
    return await _erasures_page(request)


@routes.post("/erasures")
async def record_manual(request: web.Request) -> web.Response:
    """One disk's erasure typed by hand (a tool without a log, a physical destruction)."""
    _ = tr(request)
    form = await request.post()
    entered = {name: str(form.get(name, "")).strip()[:300] for name in MANUAL_FIELDS}
    problems = []
    size = passes = day = None
    try:
        size = decimal_units(entered["size_gb"], 10**9, high=10**16)
    except ValueError:
        problems.append(_(FIELD_HELP["size_gb"]))
    try:
        day = form_day(entered["happened_on"])
    except ValueError:
        problems.append(_(FIELD_HELP["happened_on"]))
    if entered["passes"]:
        if entered["passes"].isascii() and entered["passes"].isdigit() and int(entered["passes"]) <= 100:
            passes = int(entered["passes"])
        else:
            problems.append(_(FIELD_HELP["passes"]))
    if not entered["asset_tag"]:
        problems.append(_(FIELD_HELP["asset_tag"]))
    if problems:
        return await _erasures_page(request, status=422, refused=Refusal(tuple(problems)), entered=entered)
    data: dict[str, Any] = {
        "disk_serial": entered["disk_serial"] or None, "disk_model": entered["disk_model"] or None,
        "disk_size_bytes": size, "method": entered["method"], "level": entered["level"], "tool": entered["tool"],
        "tool_version": entered["tool_version"] or None, "passes": passes,
        "verification": verification_code(entered["verification"], _) or None, "result": entered["result"],
        "operator": entered["operator"] or operator(request), "source": "manual", "happened_on": day,
    }  # fmt: skip
    try:
        async with request.app[STORE].reader() as db:
            data["item_id"] = await item_id_by_tag(db, entered["asset_tag"])
    except NotFound:
        message = _("No item has the asset tag “{tag}”.", tag=entered["asset_tag"])
        return await _erasures_page(request, status=422, entered=entered, refused=Refusal((message,)))
    try:
        async with request.app[STORE].transaction() as tx:
            await erasure.record_erasure(tx, parse(ErasureInput, data))
    except DomainError as exc:
        field = field_of(exc)
        named = [_(FIELD_HELP[field])] if field in FIELD_HELP else []
        return await _erasures_page(request, status=status_of(exc), entered=entered, refused=refusal(_, exc, *named))
    return see_other(f"/erasures?done=recorded&item={data['item_id']}")


# --- imports -------------------------------------------------------------------------------------


def _import_entered(form: Any) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip()[:200] for name in ("kind", "lot", "item_tag")}


def _preview(request: web.Request, report: ImportReport, entered: dict[str, str], *, filename: str,
             sha256: str | None, status: int = 200, refused: Refusal | None = None) -> web.Response:  # fmt: skip
    translate = tr(request)
    problems = report.errors
    if refused is None and report.failed in IMPORT_REFUSALS:
        # A file refused whole: the sentence for its code, the node's English words apart (not as a list).
        refused = Refusal((refusal_of(report.failed, translate),), "; ".join(map(str, report.errors[:3])))
        problems = []
    return render(request, "workshop/import_preview.html", status=status, report=report, entered=entered,
                  filename=filename, sha256=sha256, kinds=KINDS, refused=refused, problems=problems,
                  say=lambda line: say_line(line, translate))  # fmt: skip


async def _run(request: web.Request, entered: dict[str, str], data: bytes, filename: str,
               dry_run: bool) -> ImportReport:  # fmt: skip
    return await run_import(request.app[NODE], request.app[STORE], entered["kind"], data, filename,
                            lot=entered["lot"] or None, item=entered["item_tag"] or None, dry_run=dry_run)  # fmt: skip


@routes.post("/erasures/preview")
async def import_preview(request: web.Request) -> web.Response:
    """Upload a file: the whole import runs and is rolled back; the page shows what it would do."""
    _ = tr(request)
    form = await request.post()
    entered = _import_entered(form)
    upload = form.get("file")
    problems = []
    if entered["kind"] not in KINDS:
        problems.append(_("Say what kind of file this is."))
    if not hasattr(upload, "file"):
        problems.append(_("Choose the file to import."))
    if problems:
        return await _erasures_page(request, status=422, import_refused=Refusal(tuple(problems)),
                                    import_entered=entered)  # fmt: skip
    data = upload.file.read(MAX_FILE + 1)  # type: ignore[union-attr]
    filename = (upload.filename or "upload")[:200]  # type: ignore[union-attr]
    if not data:
        return await _erasures_page(request, status=422, import_refused=Refusal((_("The file is empty."),)),
                                    import_entered=entered)  # fmt: skip
    try:
        report = await _run(request, entered, data, filename, dry_run=True)
        sha256 = keep_pending(request.app[NODE].data_dir, data) if report.ok else None
    except DomainError as exc:
        return await _erasures_page(request, status=status_of(exc), import_refused=refusal(_, exc),
                                    import_entered=entered)  # fmt: skip
    return _preview(request, report, entered, filename=filename, sha256=sha256, status=200 if report.ok else 422)


@routes.post("/erasures/import")
async def import_confirm(request: web.Request) -> web.Response:
    """Apply the file the preview showed (read back by its SHA-256), all or nothing."""
    _ = tr(request)
    form = await request.post()
    entered = _import_entered(form)
    sha256 = str(form.get("sha256", ""))
    filename = str(form.get("filename", "upload"))[:200]
    data = pending_file(request.app[NODE].data_dir, sha256)  # never a document or evidence file of files/
    if entered["kind"] not in KINDS or data is None:
        message = _("The file of this preview is not on the node any more: upload it again.")
        return await _erasures_page(request, status=422, import_refused=Refusal((message,)), import_entered=entered)
    try:
        report = await _run(request, entered, data, filename, dry_run=False)
    except DomainError as exc:
        return await _erasures_page(request, status=status_of(exc), import_refused=refusal(_, exc),
                                    import_entered=entered)  # fmt: skip
    if not report.ok:
        return _preview(request, report, entered, filename=filename, sha256=None, status=422,
                        refused=Refusal((_("The import was refused: nothing was changed."),)))  # fmt: skip
    drop_pending(request.app[NODE].data_dir, sha256)
    counts = {"created": report.created, "updated": report.updated, "skipped": report.skipped}
    return see_other("/erasures?" + urlencode({"done": "imported", **counts}))
