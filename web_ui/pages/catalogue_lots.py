"""Lot pages: the list, creating a lot, and a lot's page, where the lot is counted and
weighed against what was declared, gets its documents, and its items are created in bulk."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from node.domain.documents import documents_of
from node.domain.donors import list_donors
from node.domain.items import ItemInput, create_items, find_items
from node.domain.lots import (
    Lot,
    LotInput,
    Reception,
    create_lot,
    get_lot,
    list_lots,
    lot_id_by_reference,
    receive_lot,
)
from node.errors import DomainError, NotFound
from node.network.handoff_views import custody_chain
from node.queries.lot_counts import count_lots
from protocol.keys import fingerprint, node_id
from web_ui.auth import requires
from web_ui.i18n import Formats
from web_ui.keys import STORE
from web_ui.labels import BENEFICIARY_CATEGORIES, CATEGORY_NAMES, ORIENTATIONS
from web_ui.pages.catalogue_common import (
    PER_PAGE,
    REQUIRED,
    Form,
    FormReader,
    Pager,
    done_flash,
    kg_text,
    not_found,
    page_number,
    path_id,
    query_id,
    refusal,
    routes,
    see_other,
    tr,
    username,
    view,
)
from web_ui.pages.catalogue_documents import UPLOAD_KINDS, attach_upload
from web_ui.pages.handoffs import STATE_NAMES as HANDOFF_STATES
from web_ui.render import LANGUAGE

__all__ = [
    "lot_list",
    "new_lot",
    "add_lot",
    "lot_page",
    "receive",
    "add_lot_document",
    "add_lot_items",
    "unit_gap_text",
    "weight_gap_text",
]


def _(text: str) -> str:
    return text


BULK_MAX = 500
NO_LOT = _("This lot does not exist.")
NO_LOT_NAMED = _("No lot has the reference “{reference}”.")
LOT_SOURCES_CHOSEN = ("direct", "hub")  # a hand-off lot is made by the federation, not typed in
DONE = {
    "created": _("The lot was created."),
    "received": _("The count and the weight were recorded."),
    "attached": _("The document was attached."),
    "item": _("1 item was created in this lot."),
    "items": _("{count} items were created in this lot."),
}


def unit_gap_text(gap: int | None, _: Callable[..., str], fmt: Formats) -> str:
    """ "3 missing", "2 more than declared", "as declared" (counted minus declared units)."""
    if gap is None:
        return ""
    if gap == 0:
        return _("as declared")
    if gap < 0:
        return _("1 missing") if gap == -1 else _("{count} missing", count=fmt.number(-gap))
    return _("1 more than declared") if gap == 1 else _("{count} more than declared", count=fmt.number(gap))


def weight_gap_text(gap_g: int | None, _: Callable[..., str], fmt: Formats) -> str:
    """ "+1,2 kg" or "−0,8 kg" (weighed minus declared), "as declared" when equal."""
    if gap_g is None:
        return ""
    if gap_g == 0:
        return _("as declared")
    return ("+" if gap_g > 0 else "\u2212") + fmt.kg(abs(gap_g))


def read_lot(data: Mapping[str, Any], translate: Callable[..., str]) -> tuple[Form, LotInput | None]:
    reader = FormReader(data, translate)
    values = {
        "reference": reader.text("reference"),
        "donor_id": reader.whole("donor_id", low=1, high=2**63 - 1),
        "received_on": reader.day("received_on"),
        "source": reader.choice("source", LOT_SOURCES_CHOSEN) or "direct",
        "site": reader.text("site"),
        "declared_units": reader.whole("declared_units"),
        "declared_weight_g": reader.decimal("declared_weight_kg", 1000),
        "orientations": reader.choices("orientations", ORIENTATIONS),
    }
    return reader.form, reader.build(LotInput, values, {"declared_weight_g": "declared_weight_kg"})


async def _donor_options(request: web.Request) -> list[tuple[int, str]]:
    async with request.app[STORE].reader() as db:
        return [(d.id, d.name) for d in await list_donors(db)]


@routes.get("/lots")
async def lot_list(request: web.Request) -> web.Response:
    _ = tr(request)
    reference = request.query.get("reference", "").strip()
    donor_id = query_id(request, "donor_id")
    flashes = []
    async with request.app[STORE].reader() as db:
        if reference:
            try:
                return see_other(f"/lots/{await lot_id_by_reference(db, reference)}")
            except NotFound:
                flashes.append(("error", _(NO_LOT_NAMED, reference=reference)))
        pager = Pager(page_number(request), await count_lots(db, donor_id=donor_id))
        lots = await list_lots(db, donor_id=donor_id, limit=pager.per_page, offset=pager.offset)
        donors = [(d.id, d.name) for d in await list_donors(db)]
    filters = Form(values={"donor_id": str(donor_id or ""), "reference": reference})
    return view(
        request,
        "catalogue/lots.html",
        lots=lots,
        paging=pager,
        donors=donors,
        filters=filters,
        flashes=flashes,
    )


@routes.get("/lots/new")
@requires("technician")
async def new_lot(request: web.Request) -> web.Response:
    donor_id = query_id(request, "donor_id")
    form = Form(values={"donor_id": str(donor_id or ""), "source": "direct", "orientations": []})
    return view(
        request,
        "catalogue/lot_form.html",
        form=form,
        donors=await _donor_options(request),
        sources=LOT_SOURCES_CHOSEN,
    )


@routes.post("/lots")
@requires("technician")
async def add_lot(request: web.Request) -> web.Response:
    _ = tr(request)
    form, lot = read_lot(await request.post(), _)
    status = 422
    if lot is not None:
        try:
            async with request.app[STORE].transaction() as tx:
                lot_id = await create_lot(tx, lot)
        except DomainError as exc:
            refusal(form, exc, _)
            status = 409 if exc.code == "duplicate_reference" else 422
            if exc.code == "duplicate_reference":
                form.errors["reference"] = form.message or ""
        else:
            return see_other(f"/lots/{lot_id}?done=created")
    return view(
        request,
        "catalogue/lot_form.html",
        status=status,
        form=form,
        donors=await _donor_options(request),
        sources=LOT_SOURCES_CHOSEN,
    )


def _reception_form(lot: Lot) -> Form:
    return Form(
        values={
            "counted_units": "" if lot.counted_units is None else str(lot.counted_units),
            "weighed_kg": kg_text(lot.weighed_g),
            "received_on": lot.received_on or "",
        }
    )


async def _lot_page(
    request: web.Request,
    lot_id: int,
    *,
    status: int = 200,
    forms: dict[str, Form] | None = None,
    flashes: list[tuple[str, str]] | None = None,
) -> web.Response:
    _ = tr(request)
    fmt = Formats(request.get(LANGUAGE, "fr"))
    number = page_number(request)
    try:
        async with request.app[STORE].reader() as db:
            lot = await get_lot(db, lot_id)
            found = await find_items(db, lot_id=lot_id, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
            documents = await documents_of(db, lot_id=lot_id)
            custody = await custody_chain(db, lot_id)
    except NotFound:
        return not_found(request, NO_LOT)
    # A lot received through a hand-off is named "<the giver's reference> (<the start of the giver's node id>)"
    # (node.network.handoffs): the page says whom it came from and what the suffix is.
    came_from = next(((step.peer_name, step.handoff.lot_ref, suffix) for step in custody.incoming
                      if f"({(suffix := node_id(step.handoff.peer)[:6])})" in lot.reference), None)  # fmt: skip
    forms = {
        "reception": _reception_form(lot),
        "upload": Form(values={"kind": "pickup_note"}),
        "bulk": Form(values={"count": "1"}),
        **(forms or {}),
    }
    return view(
        request,
        "catalogue/lot.html",
        status=status,
        lot=lot,
        items=found.items,
        paging=Pager(number, found.total),
        documents=documents,
        forms=forms,
        upload=forms["upload"],
        upload_kinds=UPLOAD_KINDS,
        unit_gap=unit_gap_text(lot.unit_gap, _, fmt),
        weight_gap=weight_gap_text(lot.weight_gap_g, _, fmt),
        bulk_max=BULK_MAX,
        custody=custody,
        came_from=came_from,
        handoff_states=HANDOFF_STATES,
        fingerprint=fingerprint,
        beneficiary_categories=BENEFICIARY_CATEGORIES,
        flashes=flashes if flashes is not None else done_flash(request, DONE),
    )


@routes.get(r"/lots/{id:[0-9]+}")
async def lot_page(request: web.Request) -> web.Response:
    return await _lot_page(request, path_id(request))


@routes.post(r"/lots/{id:[0-9]+}/reception")
@requires("technician")
async def receive(request: web.Request) -> web.Response:
    """The lot counted and weighed (kg with a decimal comma, kept in grams)."""
    _ = tr(request)
    lot_id = path_id(request)
    reader = FormReader(await request.post(), _)
    values = {
        "counted_units": reader.whole("counted_units"),
        "weighed_g": reader.decimal("weighed_kg", 1000),
        "received_on": reader.day("received_on"),
    }
    reception = reader.build(Reception, values, {"weighed_g": "weighed_kg"})
    if reception is not None:
        try:
            async with request.app[STORE].transaction() as tx:
                await receive_lot(tx, lot_id, reception)
        except NotFound:
            return not_found(request, NO_LOT)
        except DomainError as exc:
            refusal(reader.form, exc, _)
        else:
            return see_other(f"/lots/{lot_id}?done=received#reception")
    return await _lot_page(request, lot_id, status=422, forms={"reception": reader.form}, flashes=[])


@routes.post(r"/lots/{id:[0-9]+}/documents")
@requires("technician")
async def add_lot_document(request: web.Request) -> web.Response:
    _ = tr(request)
    lot_id = path_id(request)
    try:
        form = await attach_upload(request, _, lot_id=lot_id)
    except NotFound:
        return not_found(request, NO_LOT)
    if form is None:
        return see_other(f"/lots/{lot_id}?done=attached#documents")
    return await _lot_page(request, lot_id, status=422, forms={"upload": form}, flashes=[])


@routes.post(r"/lots/{id:[0-9]+}/items")
@requires("technician")
async def add_lot_items(request: web.Request) -> web.Response:
    """Bulk creation: ``count`` identical items (category, brand, model, weight) in this lot."""
    _ = tr(request)
    lot_id = path_id(request)
    reader = FormReader(await request.post(), _)
    count = reader.whole("count", low=1, high=BULK_MAX)
    if count is None and "count" not in reader.form.errors:
        reader.fail("count", REQUIRED)
    values = {
        "category": reader.choice("category", CATEGORY_NAMES),
        "brand": reader.text("brand"),
        "model": reader.text("model"),
        "weight_g": reader.decimal("weight_kg", 1000),
    }
    item = reader.build(ItemInput, values, {"weight_g": "weight_kg"})
    if item is not None and count is not None:
        try:
            async with request.app[STORE].transaction() as tx:
                await create_items(tx, lot_id, [item] * count, operator=username(request))
        except NotFound:
            return not_found(request, NO_LOT)
        except DomainError as exc:
            refusal(reader.form, exc, _)
        else:
            return see_other(f"/lots/{lot_id}?done={'item' if count == 1 else 'items'}&count={count}#items")
    return await _lot_page(request, lot_id, status=422, forms={"bulk": reader.form}, flashes=[])
