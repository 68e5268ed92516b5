"""Item pages: the list with its search and filters, creating and editing an item, and the
ways in from a label: ``/i/{gid}`` (what the QR code holds) and ``/scan`` (a scanner or a
person types the asset tag). The item's own page is in ``catalogue_item_page``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from node.domain.donors import list_donors
from node.domain.items import (
    Item,
    ItemEdit,
    ItemInput,
    create_item,
    edit_item,
    find_items,
    get_item,
    item_id_by_tag,
)
from node.domain.lots import get_lot, lot_id_by_reference
from node.domain.states import STATES
from node.errors import DomainError, NotFound
from web_ui.auth import requires
from web_ui.i18n import translator
from web_ui.keys import STORE
from web_ui.labels import CATEGORY_NAMES, STATE_NAMES, STORAGE, STORAGE_TYPES
from web_ui.pages.catalogue_common import (
    PER_PAGE,
    Form,
    FormReader,
    Pager,
    decimal_text,
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
from web_ui.pages.catalogue_item_page import NO_ITEM
from web_ui.render import LANGUAGE

__all__ = [
    "item_list",
    "new_item",
    "add_item",
    "edit_item_form",
    "save_item",
    "by_label",
    "scan",
    "read_item",
]


def _(text: str) -> str:
    return text


GRADES = ("A", "B", "C", "D", "E")
NO_LOT_REFERENCE = _("No lot has this reference.")
NO_LABEL = _("No item has the label “{code}”.")
SCAN_HINT = _("Scan the label or type the asset tag, then press Enter.")

# Form field → ItemInput field, where the form asks in the person's units (Go, inches, kg).
FIELDS = {"ram_mb": "ram_gb", "screen_in10": "screen_in", "weight_g": "weight_kg"}
TEXTS = ("brand", "model", "serial", "donor_asset", "cpu")


def read_item(
    data: Mapping[str, Any], translate: Callable[..., str], model: type[ItemInput] = ItemInput
) -> tuple[Form, ItemInput | None]:
    """An item's description as the form gives it: RAM in Go, screen in inches, weight in kg."""
    reader = FormReader(data, translate)
    values: dict[str, Any] = {"category": reader.choice("category", CATEGORY_NAMES)}
    values.update({name: reader.text(name) for name in TEXTS})
    values["ram_mb"] = reader.decimal("ram_gb", 1024, high=10**7)
    values["storage"] = reader.choice("storage", STORAGE) or "unknown"
    values["storage_type"] = reader.choice("storage_type", STORAGE_TYPES)
    values["storage_gb"] = reader.whole("storage_gb", high=10**6)
    values["screen_in10"] = reader.decimal("screen_in", 10, high=1000)
    values["battery_pct"] = reader.whole("battery_pct", high=100)
    values["weight_g"] = reader.decimal("weight_kg", 1000, high=10**7)
    values["grade"] = reader.choice("grade", GRADES)
    return reader.form, reader.build(model, values, FIELDS)


def item_form(item: Item) -> Form:
    """The edit form, filled with the item as it is."""
    values = {name: getattr(item, name) or "" for name in TEXTS}
    values.update(
        category=item.category,
        storage=item.storage,
        storage_type=item.storage_type or "",
        storage_gb="" if item.storage_gb is None else str(item.storage_gb),
        ram_gb=decimal_text(item.ram_mb, 1024),
        screen_in=decimal_text(item.screen_in10, 10),
        battery_pct="" if item.battery_pct is None else str(item.battery_pct),
        weight_kg=kg_text(item.weight_g),
        grade=item.grade or "",
    )
    return Form(values=values)


def _form_page(request: web.Request, form: Form, item: Item | None, status: int = 200) -> web.Response:
    return view(
        request,
        "catalogue/item_form.html",
        status=status,
        form=form,
        item=item,
        grades=[(g, g) for g in GRADES],
    )


@routes.get("/items")
async def item_list(request: web.Request) -> web.Response:
    """Search (serial, asset tag, donor's asset number: exact; model: its start) and filters, 50 a page."""
    _ = tr(request)
    args = request.query
    text = args.get("q", "").strip()[:200]
    state = args.get("state") if args.get("state") in STATES else None
    category = args.get("category") if args.get("category") in CATEGORY_NAMES else None
    donor_id, lot_id = query_id(request, "donor_id"), query_id(request, "lot_id")
    lot_reference = args.get("lot", "").strip()[:100]
    flashes: list[tuple[str, str]] = []
    number = page_number(request)
    async with request.app[STORE].reader() as db:
        if lot_reference:
            try:
                lot_id = await lot_id_by_reference(db, lot_reference)
            except NotFound:
                flashes.append(("error", _(NO_LOT_REFERENCE)))
        elif lot_id is not None:
            try:
                lot_reference = (await get_lot(db, lot_id)).reference
            except NotFound:
                flashes.append(("error", _("This lot does not exist.")))
        found = None
        if not flashes:
            found = await find_items(
                db,
                query=text or None,
                state=state,
                category=category,
                lot_id=lot_id,
                donor_id=donor_id,
                limit=PER_PAGE,
                offset=(number - 1) * PER_PAGE,
            )
        donors = [(str(d.id), d.name) for d in await list_donors(db)]
    filters = Form(
        values={
            "q": text,
            "state": state or "",
            "category": category or "",
            "lot": lot_reference,
            "donor_id": str(donor_id or ""),
        }
    )
    filtered = any((text, state, category, lot_reference, donor_id))
    states, categories = _choices(request.get(LANGUAGE, "fr"))
    return view(
        request,
        "catalogue/items.html",
        items=found.items if found else [],
        filters=filters,
        paging=Pager(number, found.total if found else 0),
        state_options=states,
        category_options=categories,
        donors=donors,
        filtered=filtered,
        flashes=flashes,
    )


@lru_cache(maxsize=None)
def _choices(language: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """The state and category filters' options, (code, name in ``language``)."""
    _ = translator(language)
    states = tuple((code, _(name)) for code, name in STATE_NAMES.items())
    return states, tuple((code, _(name)) for code, name in CATEGORY_NAMES.items())


@routes.get("/items/new")
@requires("technician")
async def new_item(request: web.Request) -> web.Response:
    form = Form(values={"storage": "unknown", "lot": request.query.get("lot", "").strip()[:100]})
    return _form_page(request, form, None)


@routes.post("/items")
@requires("technician")
async def add_item(request: web.Request) -> web.Response:
    _ = tr(request)
    data = await request.post()
    form, item = read_item(data, _)
    lot_reference = str(data.get("lot", "")).strip()
    form.values["lot"] = lot_reference
    lot_id = None
    if lot_reference:
        async with request.app[STORE].reader() as db:
            try:
                lot_id = await lot_id_by_reference(db, lot_reference)
            except NotFound:
                form.errors["lot"] = _(NO_LOT_REFERENCE)
    if item is not None and "lot" not in form.errors:
        try:
            async with request.app[STORE].transaction() as tx:
                item_id = await create_item(tx, lot_id, item, operator=username(request))
        except DomainError as exc:
            refusal(form, exc, _)
        else:
            return see_other(f"/items/{item_id}?done=created")
    return _form_page(request, form, None, status=422)


@routes.get(r"/items/{id:[0-9]+}/edit")
@requires("technician")
async def edit_item_form(request: web.Request) -> web.Response:
    try:
        async with request.app[STORE].reader() as db:
            item = await get_item(db, path_id(request))
    except NotFound:
        return not_found(request, NO_ITEM)
    return _form_page(request, item_form(item), item)


@routes.post(r"/items/{id:[0-9]+}/edit")
@requires("technician")
async def save_item(request: web.Request) -> web.Response:
    _ = tr(request)
    item_id = path_id(request)
    try:
        async with request.app[STORE].reader() as db:
            current = await get_item(db, item_id)
    except NotFound:
        return not_found(request, NO_ITEM)
    form, edit = read_item(await request.post(), _, ItemEdit)
    if edit is not None:
        try:
            async with request.app[STORE].transaction() as tx:
                await edit_item(tx, item_id, edit)  # type: ignore[arg-type]
        except DomainError as exc:
            refusal(form, exc, _)
        else:
            return see_other(f"/items/{item_id}?done=saved")
    return _form_page(request, form, current, status=422)


def _label_code(text: str) -> str:
    """What a scanner typed: an asset tag, a global id, or the label's whole URL (…/i/<gid>)."""
    code = text.strip()[:300]
    if "/i/" in code:
        code = code.rsplit("/i/", 1)[1].split("?")[0].split("#")[0].strip("/")
    return code[:100]


async def _open_label(request: web.Request, code: str) -> web.Response:
    """The item a code names: its label here, its global id, or a label it carried at a node that held
    it before (several items carried that label elsewhere: the search lists them)."""
    _ = tr(request)
    try:
        async with request.app[STORE].reader() as db:
            item_id = await item_id_by_tag(db, code) if code else None
    except NotFound as exc:
        if exc.code == "several_items":
            return see_other(f"/items?{urlencode({'q': code})}")
        item_id = None
    if item_id is None:
        return view(
            request,
            "catalogue/not_found.html",
            status=404,
            message=_(NO_LABEL, code=code),
            scan_form=True,
            scan=Form(values={"code": code}),
        )
    return see_other(f"/items/{item_id}")


@routes.get("/i/{gid}")
async def by_label(request: web.Request) -> web.Response:
    """The URL in a label's QR code: to the item's page."""
    return await _open_label(request, _label_code(request.match_info["gid"]))


@routes.get("/scan")
async def scan(request: web.Request) -> web.Response:
    """A field for a USB scanner (it types the code and Enter) or a person; opens the item."""
    if "code" in request.query:
        code = _label_code(request.query["code"])
        if code:
            return await _open_label(request, code)
    return view(request, "catalogue/scan.html", scan=Form(values={"code": ""}))
