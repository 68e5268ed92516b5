"""Beneficiaries: the list, a new one, and one beneficiary with the items handed to them.

A beneficiary is known by a pseudonymous code (B-000042) and a category;
the referrer is kept too. A name and a contact are optional, never leave
the node, are shown to admins only, and are erased after the retention
period (setting ``beneficiary_retention_days``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from node.domain import beneficiaries
from node.domain.beneficiaries import Beneficiary, BeneficiaryInput
from node.domain.settings import get_setting
from node.errors import DomainError, NotFound
from node.queries.workshop_lists import beneficiary_items, count_beneficiaries
from node.validation import parse
from web_ui.i18n import translator
from web_ui.keys import STORE
from web_ui.labels import BENEFICIARY_CATEGORIES
from web_ui.pages.workshop_common import (
    PER_PAGE,
    Pager,
    Refusal,
    field_of,
    ids_from,
    may,
    page_number,
    path_id,
    query_id,
    refusal,
    render,
    see_other,
    status_of,
    tr,
)  # fmt: skip

__all__ = ["routes", "category_names", "find"]

routes = web.RouteTableDef()
FIELDS = ("category", "referrer", "name", "contact")


def _(text: str) -> str:
    return text


FIELD_HELP = {
    "category": _("Choose the beneficiary's category."),
    "referrer": _("The referrer has at most 200 characters."),
    "name": _("The name has at most 200 characters."),
    "contact": _("The contact has at most 500 characters."),
}


# Words people type for a category beside its names ("établissement scolaire" is what the page says).
CATEGORY_WORDS = {"school": ["école", "collège", "lycée"], "person": ["particulier"], "ess": ["ESS"]}


def category_names() -> dict[str, list[str]]:
    """Each beneficiary category's names in every language: a search finds "école" and "school" alike."""
    languages = [translator(language) for language in ("fr", "en")]
    return {code: [*(translate(name) for translate in languages), *CATEGORY_WORDS.get(code, [])]
            for code, name in BENEFICIARY_CATEGORIES.items()}  # fmt: skip


async def find(request: web.Request, text: str, *, limit: int = beneficiaries.FOUND_MAX) -> list[Beneficiary]:
    """The beneficiaries ``text`` finds by code, category or referrer (``node.domain.beneficiaries.find_beneficiaries``)."""
    async with request.app[STORE].reader() as db:
        return await beneficiaries.find_beneficiaries(db, text[:200], category_names=category_names(), limit=limit)


@routes.get("/beneficiaries")
async def beneficiary_list(request: web.Request) -> web.Response:
    """Newest first, 50 a page, or what a search finds; personal details for admins only."""
    number = page_number(request)
    searched = request.query.get("q", "").strip()[:200]
    if searched:
        found = await find(request, searched)
        total, number = len(found), 1
    else:
        async with request.app[STORE].reader() as db:
            found = await beneficiaries.list_beneficiaries(db, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
            total = await count_beneficiaries(db)
    return render(request, "workshop/beneficiaries.html", found=found, pager=Pager(number, total), searched=searched,
                  is_admin=may(request, "admin"), found_max=beneficiaries.FOUND_MAX)  # fmt: skip


@routes.get("/beneficiaries/choices")
async def beneficiary_choices(request: web.Request) -> web.Response:
    """What the distribution page's search field lists as one types (JSON): code, category, referrer; no name."""
    _ = tr(request)
    found = await find(request, request.query.get("q", "").strip(), limit=beneficiaries.FOUND_MAX)
    return web.json_response({"beneficiaries": [
        {"id": b.id, "code": b.code, "category": _(BENEFICIARY_CATEGORIES.get(b.category, b.category)),
         "referrer": b.referrer or ""} for b in found]})  # fmt: skip


async def _new_page(request: web.Request, entered: dict[str, str], item_ids: list[int], *, status: int = 200,
                    refused: Refusal | None = None) -> web.Response:  # fmt: skip
    async with request.app[STORE].reader() as db:
        retention = await get_setting(db, "beneficiary_retention_days")
    return render(request, "workshop/beneficiary_new.html", status=status, entered=entered, item_ids=item_ids,
                  retention_days=retention, refused=refused)  # fmt: skip


@routes.get("/beneficiaries/new")
async def new_beneficiary(request: web.Request) -> web.Response:
    """The form; ``item_id`` (repeated) comes from the distribution page, which it returns to."""
    item_ids, _bad = ids_from(request.query.getall("item_id", []))
    return await _new_page(request, {"category": "person"}, item_ids)


@routes.post("/beneficiaries")
async def create_beneficiary(request: web.Request) -> web.Response:
    _ = tr(request)
    form = await request.post()
    entered = {name: str(form.get(name, "")).strip()[:600] for name in FIELDS}
    item_ids, _bad = ids_from(form.getall("item_id", []))
    try:
        details = parse(BeneficiaryInput, {k: v for k, v in entered.items() if v})
        async with request.app[STORE].transaction() as tx:
            beneficiary_id = await beneficiaries.create_beneficiary(tx, details)
    except DomainError as exc:
        field = field_of(exc)
        named = [_(FIELD_HELP[field])] if field in FIELD_HELP else []
        return await _new_page(request, entered, item_ids, status=status_of(exc), refused=refusal(_, exc, *named))
    if item_ids:  # back to the distribution that was being prepared, with this beneficiary chosen
        query = urlencode([*(("item_id", i) for i in item_ids), ("beneficiary_id", beneficiary_id)])
        return see_other(f"/distribute?{query}")
    return see_other(f"/beneficiaries/{beneficiary_id}?done=created")


@routes.get("/beneficiaries/{id:[0-9]+}")
async def beneficiary(request: web.Request) -> web.Response:
    """One beneficiary and the items handed to them."""
    _ = tr(request)
    async with request.app[STORE].reader() as db:
        try:
            found = await beneficiaries.get_beneficiary(db, path_id(request))
        except NotFound:
            raise web.HTTPNotFound() from None
        items = await beneficiary_items(db, found.id)
    flashes = []
    done = request.query.get("done")
    if done == "created":
        flashes.append(("ok", _("The beneficiary is registered with the code {code}.", code=found.code)))
    elif done == "distributed":
        flashes.append(("ok", _("Distribution recorded: {count} item(s) handed to {code}.",
                               count=query_id(request, "count") or 0, code=found.code)))  # fmt: skip
    return render(request, "workshop/beneficiary.html", flashes=flashes, beneficiary=found, items=items,
                  is_admin=may(request, "admin"))  # fmt: skip
