"""Labels to print: choose the items and the format, get a PDF with a QR code per item.

Each QR code opens ``<origin>/i/<gid>``, where the origin is the address
this page was opened at: labels are printed from the node's own page, on
the workshop's network, and the phones that scan them are on that network
too. Opened as ``localhost``, the codes would point at the phone itself,
so the page warns.

Other pages link here with the choice made: ``/labels?lot_id=12``, or
``/labels?item_id=3&item_id=5`` (a form of checked items). The PDF is
``GET /labels.pdf`` with the same parameters (read-only accounts may
print), or ``POST`` for long lists of items.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from aiohttp import web
from multidict import MultiMapping

from node.domain.lots import list_lots
from node.domain.settings import get_setting
from node.errors import DomainError
from node.reports.label_items import MAX_LABELS, LabelItem, label_items, normalise_tag
from node.reports.labels import FORMATS, SHEET, Label, render_labels
from web_ui.keys import NODE, STORE
from web_ui.labels import CATEGORY_NAMES, name_of
from web_ui.pages.outputs_common import Problem, download, error_of, slug, today, translate
from web_ui.render import page

routes = web.RouteTableDef()


def _(text: str) -> str:
    return text


MODES = ("lot", "range", "today", "checked")
FIELDS: dict[str, str] = {
    "category": _("Category of the item"),
    "model": _("Brand and model of the item"),
    "serial": _("Serial number (S/N)"),
    "lot": _("Reference of its lot"),
    "node": _("Name of this workshop"),
}
DEFAULT_FIELDS = ("category", "model", "serial")
LOTS_SHOWN = 200
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass
class Choice:
    """What the labels form asks, as typed (shown again with an error)."""

    mode: str = "lot"
    lot_id: int | None = None
    tag_from: str = ""
    tag_to: str = ""
    item_ids: list[int] = field(default_factory=list)
    layout: str = "sheet"
    skip: int = 0
    fields: tuple[str, ...] = DEFAULT_FIELDS


def _whole(text: str, what: str) -> int:
    try:
        number = int(text.strip())
    except ValueError:
        number = -1
    if not 0 <= number < 2**63:  # what SQLite can compare
        raise Problem(_("A number was expected here."), f"{what}: {text[:30]!r}")
    return number


def read_choice(values: MultiMapping[str], *, submitted: bool) -> Choice:
    """The form's values; ``submitted`` says the field checkboxes were on the form (none ticked means none)."""
    choice = Choice()
    choice.item_ids = [_whole(v, "item_id") for v in values.getall("item_id", [])][: MAX_LABELS + 1]
    lot = str(values.get("lot_id", "")).strip()
    choice.lot_id = _whole(lot, "lot_id") if lot else None
    choice.mode = "checked" if choice.item_ids else "lot"
    if values.get("mode") in MODES:
        choice.mode = str(values["mode"])
    choice.tag_from = str(values.get("tag_from", "")).strip()[:100]
    choice.tag_to = str(values.get("tag_to", "")).strip()[:100]
    choice.layout = str(values.get("format", "sheet"))
    if choice.layout not in FORMATS:
        raise Problem(_("Choose a sheet of labels or a label printer."), f"format: {choice.layout!r}")
    skip = str(values.get("skip", "")).strip()
    choice.skip = _whole(skip, "skip") if skip else 0
    if choice.layout == "sheet" and not 0 <= choice.skip < SHEET.per_page:
        raise Problem(_("A sheet has 24 labels: skip 0 to 23 of them."), f"skip: {choice.skip}")
    if submitted or "field" in values:
        choice.fields = tuple(f for f in FIELDS if f in values.getall("field", []))
    return choice


async def _items(request: web.Request, choice: Choice) -> list[LabelItem]:
    """The items the choice names; at least one (the domain checks there are not too many)."""
    items = await _chosen(request, choice)
    if not items:
        raise Problem(_("No item matches this choice: there is no label to print."))
    return items


async def _chosen(request: web.Request, choice: Choice) -> list[LabelItem]:
    async with request.app[STORE].reader() as db:
        if choice.mode == "lot":
            if choice.lot_id is None:
                raise Problem(_("Choose a lot."))
            return await label_items(db, lot_id=choice.lot_id)
        if choice.mode == "range":
            if not choice.tag_from or not choice.tag_to:
                raise Problem(_("Give the first and the last asset tag of the range."))
            first, last = await normalise_tag(db, choice.tag_from), await normalise_tag(db, choice.tag_to)
            return await label_items(db, tag_range=(first, last))
        if choice.mode == "today":
            return await label_items(db, created=today()[1])
        if not choice.item_ids:
            raise Problem(_("No item is checked. Check items in the list of items first."))
        return await label_items(db, item_ids=choice.item_ids)


def _lines(item: LabelItem, fields: tuple[str, ...], node_name: str, _: Callable[..., str]) -> tuple[str, ...]:
    """The text lines of one label, in the order of ``FIELDS``; empty values are left out."""
    model = " ".join(part for part in (item.brand, item.model) if part)
    values = {
        "category": name_of(CATEGORY_NAMES, item.category, _),
        "model": model,
        "serial": _("S/N {serial}", serial=item.serial) if item.serial else "",
        "lot": _("Lot: {reference}", reference=item.lot_reference) if item.lot_reference else "",
        "node": node_name,
    }
    return tuple(values[f] for f in fields if values[f])


async def _form(request: web.Request, choice: Choice, *, status: int = 200, error: tuple[str, str] | None = None,
                selected: int | None = None) -> web.Response:  # fmt: skip
    async with request.app[STORE].reader() as db:
        lots = await list_lots(db, limit=LOTS_SHOWN)
        prefix = await get_setting(db, "asset_prefix")  # the examples show this node's own tags
    origin = request.url.origin()
    return page(
        request, "outputs/labels.html", status=status, choice=choice, lots=lots, fields=FIELDS, error=error,
        selected=selected, origin=str(origin), local_origin=origin.host in _LOCAL_HOSTS, day=date.fromisoformat(today()[0]),
        max_labels=MAX_LABELS, tag_examples=(f"{prefix}-000001", f"{prefix}-000024"),
    )  # fmt: skip


@routes.get("/labels")
async def labels_form(request: web.Request) -> web.Response:
    """The form; a link may name the items already (a lot, checked items)."""
    try:
        choice = read_choice(request.query, submitted=False)
    except Problem as exc:
        return await _form(request, Choice(), status=422, error=error_of(request, exc))
    selected = None
    if choice.mode == "checked" or (choice.mode == "lot" and choice.lot_id is not None):
        try:
            selected = len(await _items(request, choice))
        except (DomainError, Problem) as exc:
            return await _form(request, choice, status=422, error=error_of(request, exc))
    return await _form(request, choice, selected=selected)


# The PDFs being made now: the form's random token -> (labels done, labels in all). A person
# printing 1 200 labels sees how far it is (labels.js asks every half second).
_PROGRESS: dict[str, tuple[int, int]] = {}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,40}")


@routes.get(r"/labels/progress/{token:[A-Za-z0-9_-]{8,40}}")
async def labels_progress(request: web.Request) -> web.Response:
    """How far the PDF of the form that sent ``token`` is: ``{"done": n, "total": m}`` (0, 0 when unknown)."""
    done, total = _PROGRESS.get(request.match_info["token"], (0, 0))
    return web.json_response({"done": done, "total": total})


@routes.get("/labels.pdf")
@routes.post("/labels.pdf")
async def labels_pdf(request: web.Request) -> web.Response:
    """The PDF of the chosen labels, shown in the browser (inline) to print."""
    values = await request.post() if request.method == "POST" else request.query
    choice = Choice()
    try:
        choice = read_choice(values, submitted=True)
        items = await _items(request, choice)
    except (DomainError, Problem) as exc:
        return await _form(request, choice, status=422, error=error_of(request, exc))
    _ = translate(request)
    origin = str(request.url.origin())
    node_name = request.app[NODE].config.name
    labels = [Label(item.asset_tag, f"{origin}/i/{item.gid}", _lines(item, choice.fields, node_name, _))
              for item in items]  # fmt: skip
    # A few seconds of work for thousands of labels: off the event loop.
    skip = choice.skip if choice.layout == "sheet" else 0
    title = _("Item labels")
    token = str(values.get("progress", ""))
    if not _TOKEN.fullmatch(token):
        token = ""

    def progress(done: int, total: int) -> None:  # from the rendering thread: a tuple swap is atomic
        _PROGRESS[token] = (done, total)

    if token:
        _PROGRESS[token] = (0, len(labels))
    try:
        pdf = await asyncio.to_thread(render_labels, labels, FORMATS[choice.layout], skip=skip, title=title,
                                      progress=progress if token else None)  # fmt: skip
    finally:
        _PROGRESS.pop(token, None)
    return download(pdf, "application/pdf", f"{slug(_('labels'))}-{today()[0]}.pdf", inline=True)
