"""Where items go: distribution to a beneficiary (``/distribute``) and recycling
outflows for the waste register (``/recycle``).

Distribution is checked before it is recorded: the page (GET, "check"
button) shows for each chosen item its state, whether it still needs a
data erasure, and the prix solidaire problems of the price typed
(``node.domain.distribution.price_problems``); only then does it offer the
confirmation form, which posts to ``node.domain.distribution.distribute``. The
domain checks everything again in its transaction: a refusal changes
nothing and is shown in French, naming the items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from node.categories import PRICE_CAP_CENTS
from node.domain import beneficiaries, distribution, happened
from node.domain.beneficiaries import Beneficiary
from node.domain.distribution import DistributionInput, OutflowInput
from node.domain.items import item_id_by_tag
from node.errors import DomainError, Invalid, NotFound
from node.queries.workshop_lists import OPEN_STATES, HandoutItem, handout_items, lot_choices, open_items
from node.store.database import Reader
from node.validation import parse
from web_ui.i18n import Formats
from web_ui.keys import STORE
from web_ui.labels import CATEGORY_NAMES
from web_ui.pages.workshop_beneficiaries import category_names
from web_ui.pages.workshop_common import (
    ORIENTATION_NAMES,
    DAY_HELP,
    PER_PAGE,
    REFUSALS,
    Pager,
    Refusal,
    as_id,
    decimal_units,
    euros,
    field_of,
    form_day,
    ids_from,
    may,
    operator,
    page_number,
    query_choice,
    query_id,
    refusal,
    render,
    see_other,
    status_of,
    tr,
)  # fmt: skip
from web_ui.render import LANGUAGE

__all__ = ["routes", "french_price_problem"]

routes = web.RouteTableDef()
BENEFICIARY_CHOICES = 200


def _(text: str) -> str:
    return text


# node.domain.distribution.price_problems says these in English; the pages say them in French.
NO_RESALE = _("the donor asked for no resale: the item must be given free")
PUBLIC_BODY = _("equipment given by a public body may be sold only to people in precarity or associations serving them")
ABOVE_CAP = _("{price} is above the prix solidaire cap of {cap} for this category")


def french_price_problem(translate: Callable[..., str], fmt: Formats, problem: str, category: str,
                         price_cents: int) -> str:  # fmt: skip
    """One problem of ``price_problems`` in the person's language (unknown ones stay as they are)."""
    if problem == NO_RESALE or problem == PUBLIC_BODY:
        return translate(problem)
    if "prix solidaire cap" in problem and category in PRICE_CAP_CENTS:
        return translate(ABOVE_CAP, price=fmt.money(price_cents), cap=fmt.money(PRICE_CAP_CENTS[category]))
    return problem


# --- distribution --------------------------------------------------------------------------------


async def _beneficiary_choices(db: Reader, chosen: int | None,
                               searched: str = "") -> tuple[list[Beneficiary], Beneficiary | None]:  # fmt: skip
    """The list to choose from: what the search found (code, category, referrer), or the newest; the chosen one."""
    if searched:
        found = await beneficiaries.find_beneficiaries(db, searched, category_names=category_names())
    else:
        found = await beneficiaries.list_beneficiaries(db, limit=BENEFICIARY_CHOICES)
    current = next((b for b in found if b.id == chosen), None)
    if chosen is not None and current is None:
        try:
            current = await beneficiaries.get_beneficiary(db, chosen)
            found.append(current)
        except NotFound:
            current = None
    return found, current


def _checks(request: web.Request, items: list[HandoutItem], beneficiary: Beneficiary | None,
            price: int | None) -> dict[int, list[str]]:  # fmt: skip
    """Per item, in French, what would refuse the handover."""
    _ = tr(request)
    fmt = Formats(request.get(LANGUAGE, "fr"))
    checks: dict[int, list[str]] = {}
    for item in items:
        found = []
        if item.state not in ("ready", "reserved"):
            found.append(_("not ready: only a ready or reserved item can be distributed"))
        if item.erasure_required:
            found.append(_("no data erasure recorded and the disk was not removed"))
        if beneficiary is not None and price is not None:
            for problem in distribution.price_problems(item.category, price, item.donor_type, list(item.orientations),
                                                       beneficiary.category):  # fmt: skip
                found.append(french_price_problem(_, fmt, problem, item.category, price))
        checks[item.id] = found
    return checks


async def _distribute_page(request: web.Request, item_ids: list[int], entered: dict[str, str], *,
                           checking: bool, status: int = 200, refused: Refusal | None = None,
                           notes: list[str] | None = None) -> web.Response:  # fmt: skip
    _ = tr(request)
    notes = list(notes or [])
    chosen = as_id(entered.get("beneficiary_id", ""))
    async with request.app[STORE].reader() as db:
        try:
            items = await handout_items(db, item_ids)
        except NotFound:
            items = []
            notes.append(_("An item of the list does not exist (any more); choose the items again."))
        choices, beneficiary = await _beneficiary_choices(db, chosen, entered.get("beneficiary_q", ""))
        if checking:
            notes += await _day_notes(request, db, [i.id for i in items], entered.get("happened_on", ""))
    if entered.get("beneficiary_q") and beneficiary is None and len(choices) == 1:
        beneficiary = choices[0]  # the search found one: it is the one chosen (the list shows it selected)
        entered = {**entered, "beneficiary_id": str(beneficiary.id)}
    price = None
    if entered.get("price", "").strip() or checking:
        try:
            price = euros(entered.get("price", ""))
        except ValueError:
            notes.append(_("Price: write an amount in euros, such as 25 or 12,50 (0 or empty: free)."))
    if checking and beneficiary is None:
        notes.append(_("Choose the beneficiary."))
    if checking and not items:
        notes.append(_("Choose at least one item."))
    checks = _checks(request, items, beneficiary, price if checking else None)
    blocked = any(checks.values())
    # A state or a missing erasure is never overridden; a price rule may be, by an admin, with a reason.
    hard = any(i.state not in ("ready", "reserved") or i.erasure_required for i in items)
    is_admin = may(request, "admin")
    confirmable = bool(checking and not notes and items and beneficiary is not None and price is not None
                       and not hard and (not blocked or is_admin))  # fmt: skip
    return render(
        request, "workshop/distribute.html", status=status, items=items, checks=checks, entered=entered,
        choices=choices, beneficiary=beneficiary, price=price, checking=checking, blocked=blocked,
        confirmable=confirmable, notes=notes, refused=refused, is_admin=is_admin, handout_day=_or_none(entered),
        back=urlencode([("item_id", i.id) for i in items]),
    )  # fmt: skip


def _or_none(entered: dict[str, str]) -> Any:
    """The day typed, if it is one (the confirmation repeats it)."""
    try:
        return form_day(entered.get("happened_on", ""))
    except ValueError:
        return None


async def _day_notes(request: web.Request, db: Reader, item_ids: list[int], text: str) -> list[str]:
    """What the domain would say of the day of the hand-out, checked before the confirmation is offered."""
    _ = tr(request)
    try:
        await happened.check_items_day(db, item_ids, form_day(text))
    except ValueError:
        return [_(DAY_HELP)]
    except Invalid as exc:
        return [_(REFUSALS.get(exc.code, DAY_HELP))]
    return []


def _entered(data: Any) -> dict[str, str]:
    fields = ("beneficiary_id", "beneficiary_q", "price", "override_reason", "happened_on")
    return {name: str(data.get(name, "")).strip()[:600] for name in fields}


@routes.get("/distribute")
async def distribute_form(request: web.Request) -> web.Response:
    """Choose the items, the beneficiary and the price; "check" shows what the rules say."""
    _ = tr(request)
    item_ids, bad = ids_from(request.query.getall("item_id", []))
    notes = [_("The list of items was not understood.")] if bad else []
    tag = request.query.get("tag", "").strip()[:100]
    if tag:
        try:
            async with request.app[STORE].reader() as db:
                found = await item_id_by_tag(db, tag)
            if found not in item_ids:
                item_ids.append(found)
        except NotFound:
            notes.append(_("No item has the asset tag “{tag}”.", tag=tag))
    return await _distribute_page(request, item_ids, _entered(request.query), notes=notes,
                                  checking="check" in request.query)  # fmt: skip


@routes.post("/distribute")
async def distribute(request: web.Request) -> web.Response:
    """Record the handover; an admin may override a broken price rule with a reason."""
    _ = tr(request)
    form = await request.post()
    item_ids, bad = ids_from(form.getall("item_id", []))
    entered = _entered(form)
    is_admin = may(request, "admin")
    if not is_admin:
        entered["override_reason"] = ""  # only an admin may override; the field is not even shown
    if bad or not item_ids:
        return await _distribute_page(request, item_ids, entered, checking=True, status=422)
    try:
        price = euros(entered["price"])
        day = form_day(entered["happened_on"])
    except ValueError:  # the page's notes say which field
        return await _distribute_page(request, item_ids, entered, checking=True, status=422)
    try:
        handout = parse(DistributionInput, {
            "beneficiary_id": entered["beneficiary_id"] or None, "price_cents": price,
            "override_reason": entered["override_reason"] or None, "operator": operator(request),
            "happened_on": day,
        })  # fmt: skip
        async with request.app[STORE].transaction() as tx:
            await distribution.distribute(tx, item_ids, handout, is_admin=is_admin)
    except DomainError as exc:
        named = await _named(request, exc, item_ids)
        return await _distribute_page(request, item_ids, entered, checking=True, status=status_of(exc),
                                      refused=refusal(_, exc, *named))  # fmt: skip
    return see_other(f"/beneficiaries/{handout.beneficiary_id}?done=distributed&count={len(item_ids)}")


async def _named(request: web.Request, exc: DomainError, item_ids: list[int]) -> list[str]:
    """Sentences naming the items a refusal is about."""
    _ = tr(request)
    field = field_of(exc)  # a missing beneficiary is said by the page's own notes
    if field == "override_reason":
        return [_("The reason for overriding the rule needs 3 to 500 characters.")]
    if field == "happened_on":
        return [_(DAY_HELP)]
    if exc.code == "invalid" and "override reason" in exc.message:
        return [_("The price breaks no rule: leave the override reason empty.")]
    async with request.app[STORE].reader() as db:
        try:
            items = await handout_items(db, item_ids)
        except NotFound:
            return []
    if exc.code == "erasure_required":
        tags = [i.asset_tag for i in items if i.erasure_required]
        return [_("Items without data erasure: {items}.", items=", ".join(tags))] if tags else []
    if exc.code == "invalid_transition":
        tags = [i.asset_tag for i in items if i.state not in ("ready", "reserved")]
        return [_("Items not ready: {items}.", items=", ".join(tags))] if tags else []
    if exc.code == "price_refused":
        return [_("Items whose price breaks a rule: {items}. Their problems are listed with each item.",
                  items=", ".join(i.asset_tag for i in items))]  # fmt: skip
    return []


# --- recycling -----------------------------------------------------------------------------------


RECYCLE_FIELDS = ("recipient", "waste_code", "treatment", "happened_on", "weight_kg", "note")
FIELD_HELP = {
    "recipient": _("Recipient: who takes the waste, such as Ecologic."),
    "waste_code": _("Waste code: three pairs of digits, such as 16 02 14 (with * after it for hazardous waste)."),
    "treatment": _("Treatment: its code, such as R4 (recycling of metals) or R12."),
    "happened_on": DAY_HELP,
    "weight_kg": _("Weight: a number of kg, such as 12,5."),
    "weight_g": _("Weight: a number of kg, such as 12,5."),
    "note": _("Note: at most 500 characters."),
}


async def _recycle_page(request: web.Request, item_ids: list[int], entered: dict[str, str], *, status: int = 200,
                        refused: Refusal | None = None) -> web.Response:  # fmt: skip
    _ = tr(request)
    lists_all = "orientation" in request.query
    filters = {
        "lot": query_id(request, "lot"), "state": query_choice(request, "state", OPEN_STATES),
        "category": query_choice(request, "category", CATEGORY_NAMES),
        # Without filters, the items sorted "to recycle" are the ones to offer.
        "orientation": query_choice(request, "orientation", ORIENTATION_NAMES) if lists_all else "recycle",
    }  # fmt: skip
    number = page_number(request)
    async with request.app[STORE].reader() as db:
        try:
            chosen = await handout_items(db, item_ids)
        except NotFound:
            chosen = []
        found = await open_items(db, state=filters["state"], category=filters["category"], lot_id=filters["lot"],
                                 orientation=filters["orientation"], limit=PER_PAGE,
                                 offset=(number - 1) * PER_PAGE)  # fmt: skip
        lots = await lot_choices(db)
    flashes = []
    if request.query.get("done") == "recycled":
        flashes.append(("ok", _("Outflow no. {number} recorded in the waste register, with {count} item(s).",
                               number=query_id(request, "outflow") or 0, count=query_id(request, "count") or 0)))  # fmt: skip
    chosen_ids = {i.id for i in chosen}
    return render(
        request, "workshop/recycle.html", status=status, flashes=flashes, chosen=chosen, entered=entered,
        found=found, candidates=[i for i in found.items if i.id not in chosen_ids], pager=Pager(number, found.total),
        filters=filters, lots=lots, open_states=OPEN_STATES, refused=refused,
    )  # fmt: skip


@routes.get("/recycle")
async def recycle_form(request: web.Request) -> web.Response:
    """The outflow form, with the items sorted "to recycle" (or filtered) to check."""
    item_ids, _bad = ids_from(request.query.getall("item_id", []))
    return await _recycle_page(request, item_ids, {})


@routes.post("/recycle")
async def recycle(request: web.Request) -> web.Response:
    """Record an outflow to a recycler; its items become recycled (all or none)."""
    _ = tr(request)
    form = await request.post()
    item_ids, bad = ids_from(form.getall("item_id", []))
    entered = {name: str(form.get(name, "")).strip()[:600] for name in RECYCLE_FIELDS}
    problems: list[str] = [_("The list of items was not understood.")] if bad else []
    weight = day = None
    try:
        weight = decimal_units(entered["weight_kg"], 1000, high=10**11)
    except ValueError:
        problems.append(_(FIELD_HELP["weight_kg"]))
    try:
        day = form_day(entered["happened_on"])
    except ValueError:
        problems.append(_(FIELD_HELP["happened_on"]))
    if not item_ids and weight is None and not problems:
        problems.append(_("Without any item checked, give the weight in kg."))
    if problems:
        return await _recycle_page(request, item_ids, entered, status=422, refused=Refusal(tuple(problems)))
    try:
        outflow = parse(OutflowInput, {
            "item_ids": item_ids, "recipient": entered["recipient"], "waste_code": entered["waste_code"],
            "treatment": entered["treatment"], "weight_g": weight, "happened_on": day, "note": entered["note"] or None,
            "operator": operator(request),
        })  # fmt: skip
        async with request.app[STORE].transaction() as tx:
            outflow_id = await distribution.recycle(tx, outflow)
    except DomainError as exc:
        field = field_of(exc)
        named = [_(FIELD_HELP[field])] if field in FIELD_HELP else []
        if exc.code == "invalid_transition":
            async with request.app[STORE].reader() as db:
                gone = [i.asset_tag for i in await handout_items(db, item_ids) if i.state not in OPEN_STATES]
            if gone:
                named.append(_("Items that already left the workshop: {items}.", items=", ".join(gone)))
        return await _recycle_page(request, item_ids, entered, status=status_of(exc), refused=refusal(_, exc, *named))
    return see_other(f"/recycle?done=recycled&outflow={outflow_id}&count={len(item_ids)}")
