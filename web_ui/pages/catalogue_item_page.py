"""An item's page: what it is, where it comes from, its state and history, its disks'
erasures (and so whether it may leave), the parts taken from it or fitted into it,
and the place where the workshop's actions are shown.

The workshop's buttons come from ``workshop/item_actions.html`` when that
template exists; if ``web_ui.pages.workshop`` is loaded and defines
``async def item_actions_context(db, item_id) -> dict``, what it returns is
added to this page's context for that template.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from node.domain.erasure import disk_proofs as erasure_disk_proofs
from node.domain.erasure import erasures_of, needs_erasure, proven_erased
from node.domain.item_components import components_of
from node.domain.item_tags import former_tags
from node.domain.items import Event, Item, get_item, history
from node.domain.lots import get_lot
from node.errors import NotFound
from node.network.handoff_views import node_names
from node.queries.arrivals import damaged_offers
from node.queries.bench import last_probe
from node.store.database import Reader
from protocol.errors import KeyRefused
from protocol.keys import fingerprint, parse_node_id
from web_ui.i18n import Formats
from web_ui.keys import STORE
from web_ui.event_details import event_details
from web_ui.labels import STEP_NAMES
from web_ui.pages.catalogue_common import done_flash, not_found, path_id, routes, tr, view
from web_ui.render import LANGUAGE

__all__ = ["item_page", "Step", "steps_of", "when_of", "leave_status", "NO_ITEM"]


def _(text: str) -> str:
    return text


NO_ITEM = _("This item does not exist.")
DONE = {
    "created": _("The item was registered."),
    "saved": _("The item's description was saved."),
}
ERASURE_LEVELS = {
    "clear": _("clear (overwritten)"),
    "purge": _("purge (secure erase)"),
    "destroy": _("destroy (physically destroyed)"),
}
ERASURE_RESULTS = {"success": _("succeeded"), "failure": _("failed")}


@dataclass(frozen=True, slots=True)
class Step:
    """One event of the history, ready to show."""

    event: Event
    step: str | None
    details: list[tuple[str, str, str]]  # label, value, link ("" when none)
    corrected: bool  # a later correction undid it
    when: str  # the day it happened, and the day it was entered when that is another day
    damaged: bool = False  # its reception marked the item damaged on arrival


def when_of(event: Event, _: Callable[..., str], fmt: Formats) -> str:
    """When the event happened (``Formats.when``), and when it was entered if that was another day."""
    happened = fmt.when(event.happened)
    if fmt.date(event.time) == fmt.date(event.happened):
        return happened
    return _("on {day} (entered on {date} at {time})", day=happened, date=fmt.date(event.time),
             time=fmt.time(event.time))  # fmt: skip


def steps_of(events: list[Event], _: Callable[..., str], fmt: Formats,
             nodes: dict[str, str] | None = None, damaged: set[str] | None = None) -> list[Step]:  # fmt: skip
    """The history, newest first, each event with its details in words (``nodes``: node id -> how to name it;
    ``damaged``: the hand-offs, by offer, whose reception marked the item damaged)."""
    corrected = {e.corrects for e in events if e.corrects is not None}
    return [
        Step(
            e,
            _(STEP_NAMES[e.step]) if e.step in STEP_NAMES else e.step,
            event_details(e.detail, _, fmt.money, nodes or {}),
            e.id in corrected,
            when_of(e, _, fmt),
            e.state == "received" and e.detail.get("offer") in (damaged or set()),
        )
        for e in reversed(events)
    ]


def leave_status(item: Item, proven: bool) -> str:
    """``no_data`` (nothing to erase), ``erased`` (proven erased, ``node.domain.erasure.PROVEN``), or ``blocked``.

    The same test as the rule that lets an item leave and as the "erased" state
    (``node.domain.erasure.settle``), so the page and the dashboard's counts agree.
    """
    if not needs_erasure(item.category, item.storage):
        return "no_data"
    return "erased" if proven else "blocked"


async def history_node_names(db: Reader, events: list[Event]) -> dict[str, str]:
    """The nodes the history names (a hand-off's sender or receiver), as "name (fingerprint)"."""
    keys: dict[str, bytes] = {}
    for event in events:
        for key in ("from", "to"):
            text = event.detail.get(key)
            if isinstance(text, str) and text not in keys:
                try:
                    keys[text] = parse_node_id(text).raw
                except (KeyRefused, ValueError):
                    continue
    names = await node_names(db, list(keys.values()))
    return {text: f"{names[raw]} ({fingerprint(raw)})" if names.get(raw) else fingerprint(raw)
            for text, raw in keys.items()}


async def _actions_context(db: Reader, item: Item) -> dict[str, Any]:
    workshop = sys.modules.get("web_ui.pages.workshop")  # only if the app loaded it
    extra = getattr(workshop, "item_actions_context", None)
    return dict(await extra(db, item.id)) if extra is not None else {}


@routes.get(r"/items/{id:[0-9]+}")
async def item_page(request: web.Request) -> web.Response:
    _ = tr(request)
    fmt = Formats(request.get(LANGUAGE, "fr"))
    try:
        async with request.app[STORE].reader() as db:
            item = await get_item(db, path_id(request))
            events = await history(db, item.id)
            erasures = await erasures_of(db, item.id)
            proven = item.id in await proven_erased(db, [item.id])
            disk_proofs = await erasure_disk_proofs(db, item.id)
            components = await components_of(db, item.id)
            lot = await get_lot(db, item.lot_id) if item.lot_id is not None else None
            extra = await _actions_context(db, item)
            probe = await last_probe(db, item.id)
            former = await former_tags(db, item.id)
            names = await node_names(db, [tag.node for tag in former if tag.node])
            nodes = await history_node_names(db, events)
            damaged = await damaged_offers(db, item.id)
    except NotFound:
        return not_found(request, NO_ITEM)
    context = {
        "item": item,
        "lot": lot,
        "steps": steps_of(events, _, fmt, nodes, damaged),
        "arrived_damaged": bool(damaged),
        "events": events,
        "erasures": erasures,
        "leave": leave_status(item, proven),
        "disk_proofs": disk_proofs,
        "components": components,
        "probe": probe,
        # the labels it carried at the nodes that held it before, with who listed them (its own label left out)
        "former_tags": [(tag, names.get(tag.node) if tag.node else None) for tag in former
                        if tag.tag.casefold() != item.asset_tag.casefold()],
        "kept_tag": any(tag.tag.casefold() == item.asset_tag.casefold() for tag in former),
        "erasure_levels": ERASURE_LEVELS,
        "erasure_results": ERASURE_RESULTS,
        "flashes": done_flash(request, DONE) + list(extra.pop("flashes", [])),
    }
    return view(request, "catalogue/item.html", **{**extra, **context})
