"""The workshop: recording steps on one item (two taps on a phone) or on many at once.

The item page (``/items/{id}``, catalogue) includes
``workshop/item_actions.html``, whose forms post here:

- ``POST /items/{id}/step``: one step (``node.domain.workflow.record_step``);
- ``POST /items/{id}/storage-removal``: the disk was taken out or destroyed;
- ``POST /items/{id}/correction``: undo the item's last event, with a reason;
- ``GET /items/{id}/actions``: the same buttons on a page of their own
  (where a refused action is shown again, in French).

``/workshop`` lists the items still in the workshop (by lot, state,
category, orientation; 50 a page) with checkboxes, and applies one step to
all the checked ones (``POST /workshop/step``): all move, or none.

Distribution and recycling are in ``workshop_handout``, erasures and
imports in ``workshop_erasures``, beneficiaries in
``workshop_beneficiaries``; their routes are added to this module's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from node.categories import gets_os
from node.domain import happened, workflow
from node.domain.items import get_item
from node.domain.states import STATES, STEP_STATES, can_move
from node.domain.workflow import StepInput
from node.errors import DomainError, Invalid, RuleBroken
from node.queries.workshop_lists import OPEN_STATES, last_event, lot_choices, open_items
from node.store.database import Reader
from node.validation import parse
from web_ui.keys import STORE
from web_ui.labels import CATEGORY_NAMES, STATE_NAMES
from web_ui.pages import workshop_beneficiaries, workshop_erasures, workshop_handout
from web_ui.pages.workshop_common import (
    ORIENTATION_NAMES,
    PER_PAGE,
    Pager,
    DAY_HELP,
    Refusal,
    field_of,
    form_day,
    ids_from,
    operator,
    page_number,
    path_id,
    query_choice,
    query_id,
    refusal,
    render,
    see_other,
    status_of,
    tr,
)  # fmt: skip

__all__ = ["routes", "item_actions_context", "read_step"]

routes = web.RouteTableDef()
ITEM = "/items/{id:[0-9]+}"


def _(text: str) -> str:
    return text


DONE = {
    "step": _("Step recorded for {count} item(s): {state}."),
}
# The workshop's steps as the item page's buttons name them (workshop/item_actions.html), for the bulk list.
STEP_LABELS: dict[str, str] = {
    "tested": _("Mark as tested"), "refurbished": _("Mark as refurbished"), "ready": _("Mark as ready"),
    "reserved": _("Mark as reserved"), "recycled": _("Mark as recycled"), "dismantled": _("Mark as dismantled"),
}  # fmt: skip
assert set(STEP_LABELS) == set(STEP_STATES) - {"sorted"}


async def item_actions_context(db: Reader, item_id: int) -> dict[str, Any]:
    """What ``workshop/item_actions.html`` uses beside ``item``: the association's step
    names its category allows, the item's last event (the one a correction undoes),
    the steps its category allows (``node.domain.workflow.allowed_steps``: no "erased" for a
    keyboard) and whether it gets an operating system.

    The item page passes it along: ``**await item_actions_context(db, item.id)``.
    """
    item = await get_item(db, item_id)
    allowed = workflow.allowed_steps(item.category, item.storage)
    named = {name: state for name, state in (await workflow.steps(db)).items() if state in allowed}
    return {"workshop_steps": named, "workshop_last_event": await last_event(db, item_id),
            "workshop_allowed": allowed, "workshop_os": gets_os(item.category, item.storage),
            "workshop_today": happened.today().isoformat()}  # fmt: skip


def read_step(form: Any, who: str | None) -> StepInput:
    """A step from a form: ``move`` is a state (``tested``), a sorting (``sorted:parts``)
    or one of the association's steps (``step:<name>``); grade, OS, note and the day it
    happened (``happened_on``, empty: today) are optional. A day that is not one is
    refused as ``invalid`` on ``happened_on``."""
    move = str(form.get("move", "")).strip()
    data: dict[str, Any] = {"operator": who}
    if move.startswith("step:"):
        data["step"] = move.removeprefix("step:")
        orientation = str(form.get("orientation", "")).strip()
        if orientation:
            data["orientation"] = orientation
    elif move.startswith("sorted:"):
        data["state"], data["orientation"] = "sorted", move.removeprefix("sorted:")
    elif move:
        data["state"] = move
    for name in ("grade", "os", "note"):
        value = str(form.get(name, "")).strip()
        if value:
            data[name] = value
    try:
        data["happened_on"] = form_day(str(form.get("happened_on", ""))[:40])
    except ValueError:
        raise Invalid("happened_on: not a day", code="invalid") from None
    return parse(StepInput, data)


async def _target(db: Reader, step: StepInput) -> str | None:
    if step.step is not None:
        return (await workflow.steps(db)).get(step.step)
    return step.state


async def _explain(request: web.Request, exc: DomainError, item_ids: list[int], step: StepInput | None) -> Refusal:
    """The refusal in French, naming the items that may not move (and the state they are in)."""
    _ = tr(request)
    named = []
    if exc.code == "invalid_transition" and step is not None:
        async with request.app[STORE].reader() as db:
            target = await _target(db, step)
            rows = await workflow.items_by_ids(db, item_ids)
        blocked = [f"{r['asset_tag']} ({_(STATE_NAMES.get(r['state'], r['state']))})" for r in rows
                   if target is not None and not can_move(r["state"], target)]  # fmt: skip
        if blocked:
            named.append(_("Items that cannot become “{state}”: {items}.", state=_(STATE_NAMES[target]),
                           items=", ".join(blocked[:20]) + (" …" if len(blocked) > 20 else "")))  # fmt: skip
    elif exc.code == "step_not_for_category" and step is not None:
        async with request.app[STORE].reader() as db:
            rows = await workflow.items_by_ids(db, item_ids)
        no_os = [f"{r['asset_tag']} ({_(CATEGORY_NAMES.get(r['category'], r['category']))})" for r in rows
                 if not gets_os(r["category"], r["storage"])]  # fmt: skip
        if no_os:
            named.append(_("Items that get no operating system: {items}.",
                           items=", ".join(no_os[:20]) + (" …" if len(no_os) > 20 else "")))  # fmt: skip
    elif exc.code == "not_found" and step is not None and step.step is not None:
        async with request.app[STORE].reader() as db:
            known = step.step in await workflow.steps(db)
        if not known:
            named.append(_("The association's step “{name}” does not exist (any more).", name=step.step))
    elif field_of(exc) == "happened_on":
        named.append(_(DAY_HELP))
    return refusal(_, exc, *named)


# --- one item ------------------------------------------------------------------------------------


async def _item_page(request: web.Request, item_id: int, *, status: int = 200, refused: Refusal | None = None,
                     entered: dict[str, str] | None = None) -> web.Response:  # fmt: skip
    """The item's step buttons on their own page; ``entered``: a refused step's fields, shown again in its form."""
    async with request.app[STORE].reader() as db:
        try:
            item = await get_item(db, item_id)
        except DomainError:
            raise web.HTTPNotFound() from None
        context = await item_actions_context(db, item_id)
    return render(request, "workshop/item.html", status=status, item=item, refused=refused,
                  workshop_entered=entered or {}, **context)  # fmt: skip


@routes.get(ITEM + "/actions")
async def item_actions(request: web.Request) -> web.Response:
    """The step buttons of one item on their own page."""
    return await _item_page(request, path_id(request))


def _back(item_id: int, done: str) -> web.Response:
    return see_other(f"/items/{item_id}?done={done}#actions")


def _entered(form: Any) -> dict[str, str]:
    """What a step's form held, to show it again when the step is refused."""
    fields = ("move", "grade", "os", "note", "orientation", "happened_on")
    return {name: str(form.get(name, ""))[:600] for name in fields}


@routes.post(ITEM + "/step")
async def item_step(request: web.Request) -> web.Response:
    """One step for one item; back to the item page, which says it was recorded."""
    item_id = path_id(request)
    form = await request.post()
    step = None
    try:
        step = read_step(form, operator(request))
        async with request.app[STORE].transaction() as tx:
            await workflow.record_step(tx, [item_id], step)
    except DomainError as exc:
        if exc.code == "not_found" and step is not None and step.step is None:
            raise web.HTTPNotFound() from None
        return await _item_page(request, item_id, status=status_of(exc), entered=_entered(form),
                                refused=await _explain(request, exc, [item_id], step))  # fmt: skip
    return _back(item_id, "step-recorded")


@routes.post(ITEM + "/storage-removal")
async def item_storage_removal(request: web.Request) -> web.Response:
    """The disk was taken out (or destroyed): the item no longer holds data."""
    item_id = path_id(request)
    form = await request.post()
    destroyed = str(form.get("destroyed", "")) == "1"
    try:
        async with request.app[STORE].transaction() as tx:
            await workflow.remove_storage(tx, [item_id], destroyed=destroyed, operator=operator(request))
    except DomainError as exc:
        if exc.code == "not_found":
            raise web.HTTPNotFound() from None
        return await _item_page(request, item_id, status=status_of(exc), refused=refusal(tr(request), exc))
    return _back(item_id, "disk-destroyed" if destroyed else "disk-removed")


@routes.post(ITEM + "/correction")
async def item_correction(request: web.Request) -> web.Response:
    """Undo the item's last event (the one the page showed), with the reason why."""
    _ = tr(request)
    item_id = path_id(request)
    form = await request.post()
    reason = str(form.get("reason", "")).strip()
    seen = str(form.get("event_id", "")).strip()
    try:
        if not reason:
            raise Invalid("reason: a correction needs a reason", code="invalid")
        async with request.app[STORE].transaction() as tx:
            last = await last_event(tx, item_id)
            if last is None:
                raise web.HTTPNotFound()
            # The page names the event the person saw; a newer one means the page was stale.
            if seen and seen != str(last.id):
                raise RuleBroken(f"event {seen[:20]} is not the last event of item {item_id}", code="not_last_event")
            # A correction restores the state, not the storage: undoing a disk removal here would
            # leave the item counted as holding no data. Refused until the domain can undo it.
            if last.step == "storage_removed":
                raise RuleBroken("a storage removal cannot be corrected", code="storage_removal_final")
            await workflow.correct_event(tx, last.id, reason, operator(request))
    except DomainError as exc:
        named = (_("Write why the last event is wrong."),) if exc.code == "invalid" and not reason else ()
        return await _item_page(request, item_id, status=status_of(exc), refused=refusal(_, exc, *named))
    return _back(item_id, "event-corrected")


# --- many items ----------------------------------------------------------------------------------


def _filters(request: web.Request) -> dict[str, Any]:
    return {
        "lot": query_id(request, "lot"),
        "state": query_choice(request, "state", OPEN_STATES),
        "category": query_choice(request, "category", CATEGORY_NAMES),
        "orientation": query_choice(request, "orientation", ORIENTATION_NAMES),
    }


async def _bulk_page(request: web.Request, filters: dict[str, Any], number: int, *, status: int = 200,
                     checked: list[int] | None = None, refused: Refusal | None = None,
                     entered: dict[str, str] | None = None) -> web.Response:  # fmt: skip
    _ = tr(request)
    async with request.app[STORE].reader() as db:
        found = await open_items(db, state=filters["state"], category=filters["category"], lot_id=filters["lot"],
                                 orientation=filters["orientation"], limit=PER_PAGE,
                                 offset=(number - 1) * PER_PAGE)  # fmt: skip
        lots = await lot_choices(db)
        steps = await workflow.steps(db)
    flashes = []
    if request.query.get("done") == "step" and request.query.get("to") in STATES:
        count = query_id(request, "count") or 0
        flashes.append(("ok", _(DONE["step"], count=count, state=_(STATE_NAMES[request.query["to"]]))))
    return render(
        request, "workshop/bulk.html", status=status, flashes=flashes, found=found,
        pager=Pager(number, found.total), filters=filters, lots=lots, steps=steps, step_labels=STEP_LABELS,
        open_states=OPEN_STATES, checked=set(checked or []), refused=refused, entered=entered or {},
    )  # fmt: skip


@routes.get("/workshop")
async def bulk(request: web.Request) -> web.Response:
    """Items still in the workshop, to choose and move together."""
    return await _bulk_page(request, _filters(request), page_number(request))


@routes.post("/workshop/step")
async def bulk_step(request: web.Request) -> web.Response:
    """One step for every checked item (all or nothing); or hand the checked items to the
    distribution or recycling page."""
    _ = tr(request)
    form = await request.post()
    item_ids, bad = ids_from(form.getall("item_id", []))
    filters = _filters(request)  # the list's filters ride in the form's action URL
    number = page_number(request)
    entered = _entered(form)
    if not item_ids or bad:
        message = _("Check at least one item in the list.") if not bad else _("The list of items was not understood.")
        return await _bulk_page(request, filters, number, status=422, refused=Refusal((message,)), entered=entered,
                                checked=item_ids)  # fmt: skip
    action = str(form.get("action", "step"))
    if action in ("distribute", "recycle"):
        # Raised, not returned: nothing changed, so nothing goes to the audit log.
        raise web.HTTPSeeOther(f"/{'distribute' if action == 'distribute' else 'recycle'}?"
                               + urlencode([("item_id", i) for i in item_ids]))  # fmt: skip
    step = None
    try:
        step = read_step(form, operator(request))
        async with request.app[STORE].transaction() as tx:
            await workflow.record_step(tx, item_ids, step)
            target = await _target(tx, step)
    except DomainError as exc:
        return await _bulk_page(request, filters, number, status=status_of(exc), checked=item_ids, entered=entered,
                                refused=await _explain(request, exc, item_ids, step))  # fmt: skip
    kept = [(k, v) for k, v in filters.items() if v is not None]
    query = urlencode([*kept, ("page", number), ("done", "step"), ("count", len(item_ids)), ("to", target)])
    return see_other(f"/workshop?{query}")


for _module in (workshop_handout, workshop_erasures, workshop_beneficiaries):
    for _route in _module.routes:
        routes.route(_route.method, _route.path, **_route.kwargs)(_route.handler)  # type: ignore[attr-defined]
