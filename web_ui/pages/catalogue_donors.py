"""Donor pages: the list, a donor's page (its lots, its documents), creating and editing a donor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from node.domain.documents import documents_of
from node.domain.donors import Donor, DonorInput, create_donor, get_donor, update_donor
from node.domain.lots import list_lots
from node.errors import DomainError, NotFound
from node.queries.donor_summaries import count_donors, donor_summaries
from node.queries.lot_counts import count_lots
from web_ui.auth import requires
from web_ui.keys import STORE
from web_ui.pages.catalogue_common import (
    SPACES,
    Form,
    FormReader,
    Pager,
    done_flash,
    not_found,
    page_number,
    path_id,
    refusal,
    routes,
    see_other,
    tr,
    view,
)
from web_ui.pages.catalogue_documents import UPLOAD_KINDS, attach_upload

__all__ = [
    "donor_list",
    "donor_page",
    "new_donor",
    "add_donor",
    "edit_donor",
    "save_donor",
    "add_donor_document",
]


def _(text: str) -> str:
    return text


FIELDS = ("name", "type", "siret", "contact_name", "contact_email", "contact_phone", "address")
NO_DONOR = _("This donor does not exist.")
DONE = {
    "created": _("The donor was created."),
    "saved": _("The donor's details were saved."),
    "attached": _("The document was attached."),
}


def donor_form(donor: Donor) -> Form:
    return Form(values={name: getattr(donor, name) or "" for name in FIELDS})


def read_donor(data: Mapping[str, Any], translate: Callable[..., str]) -> tuple[Form, DonorInput | None]:
    reader = FormReader(data, translate)
    values: dict[str, Any] = {name: reader.text(name) for name in FIELDS}
    if values["siret"]:
        values["siret"] = SPACES.sub("", values["siret"])  # "123 456 789 00012" as printed on invoices
    return reader.form, reader.build(DonorInput, values)


@routes.get("/donors")
async def donor_list(request: web.Request) -> web.Response:
    number = page_number(request)
    async with request.app[STORE].reader() as db:
        pager = Pager(number, await count_donors(db))
        donors = await donor_summaries(db, limit=pager.per_page, offset=pager.offset)
    return view(request, "catalogue/donors.html", donors=donors, paging=pager)


@routes.get("/donors/new")
@requires("technician")
async def new_donor(request: web.Request) -> web.Response:
    return view(request, "catalogue/donor_form.html", donor=None, form=Form(values={"type": "company"}))


@routes.post("/donors")
@requires("technician")
async def add_donor(request: web.Request) -> web.Response:
    _ = tr(request)
    form, donor = read_donor(await request.post(), _)
    if donor is None:
        return view(request, "catalogue/donor_form.html", status=422, donor=None, form=form)
    async with request.app[STORE].transaction() as tx:
        donor_id = await create_donor(tx, donor)
    return see_other(f"/donors/{donor_id}?done=created")


async def _donor_page(
    request: web.Request,
    donor_id: int,
    *,
    status: int = 200,
    upload: Form | None = None,
    flashes: list[tuple[str, str]] | None = None,
) -> web.Response:
    number = page_number(request)
    try:
        async with request.app[STORE].reader() as db:
            donor = await get_donor(db, donor_id)
            pager = Pager(number, await count_lots(db, donor_id=donor_id))
            lots = await list_lots(db, donor_id=donor_id, limit=pager.per_page, offset=pager.offset)
            documents = await documents_of(db, donor_id=donor_id)
    except NotFound:
        return not_found(request, NO_DONOR)
    return view(
        request,
        "catalogue/donor.html",
        status=status,
        donor=donor,
        lots=lots,
        paging=pager,
        documents=documents,
        upload=upload or Form(values={"kind": "convention"}),
        upload_kinds=UPLOAD_KINDS,
        flashes=flashes if flashes is not None else done_flash(request, DONE),
    )


@routes.get(r"/donors/{id:[0-9]+}")
async def donor_page(request: web.Request) -> web.Response:
    return await _donor_page(request, path_id(request))


@routes.get(r"/donors/{id:[0-9]+}/edit")
@requires("technician")
async def edit_donor(request: web.Request) -> web.Response:
    try:
        async with request.app[STORE].reader() as db:
            donor = await get_donor(db, path_id(request))
    except NotFound:
        return not_found(request, NO_DONOR)
    return view(request, "catalogue/donor_form.html", donor=donor, form=donor_form(donor))


@routes.post(r"/donors/{id:[0-9]+}/edit")
@requires("technician")
async def save_donor(request: web.Request) -> web.Response:
    _ = tr(request)
    donor_id = path_id(request)
    try:
        async with request.app[STORE].reader() as db:
            current = await get_donor(db, donor_id)
    except NotFound:
        return not_found(request, NO_DONOR)
    form, donor = read_donor(await request.post(), _)
    if donor is not None:
        try:
            async with request.app[STORE].transaction() as tx:
                await update_donor(tx, donor_id, donor)
        except DomainError as exc:
            refusal(form, exc, _)
        else:
            return see_other(f"/donors/{donor_id}?done=saved")
    return view(request, "catalogue/donor_form.html", status=422, donor=current, form=form)


@routes.post(r"/donors/{id:[0-9]+}/documents")
@requires("technician")
async def add_donor_document(request: web.Request) -> web.Response:
    _ = tr(request)
    donor_id = path_id(request)
    try:
        form = await attach_upload(request, _, donor_id=donor_id)
    except NotFound:
        return not_found(request, NO_DONOR)
    if form is None:
        return see_other(f"/donors/{donor_id}?done=attached#documents")
    return await _donor_page(request, donor_id, status=422, upload=form, flashes=[])
