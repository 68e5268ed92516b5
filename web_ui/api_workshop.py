"""API handlers for the workshop: donors, lots, items, steps, erasures.

Each handler gets the request, the token's holder and (for writes) the body
already parsed by the route's model; it runs one domain call in one
transaction and answers with what the domain returns.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from node.domain import donors, erasure, items, lots, workflow
from node.domain.access import Holder
from node.domain.donors import DonorInput
from node.domain.erasure import ErasureInput
from node.domain.items import ItemEdit, ItemInput
from node.domain.lots import Lot, LotInput, Reception
from node.domain.workflow import StepInput
from node.errors import Invalid
from node.store.database import Reader
from node.validation import Day, Input, parse
from web_ui.api_io import Id, ItemIds, answer, created, path_id, plain, query_int, query_text
from web_ui.keys import STORE

__all__ = [
    "ItemsRequest", "ItemPatch", "StepsRequest", "CorrectionRequest",
    "get_donors", "post_donor", "get_donor", "put_donor", "get_lots", "post_lot", "get_lot", "post_reception",
    "get_items", "post_items", "get_item", "lookup_item", "patch_item", "post_events", "post_correction",
    "get_steps", "post_erasure", "get_orphans",
]  # fmt: skip


class ItemsRequest(Input):
    """New items, usually what was unpacked from one lot, registered in one transaction."""

    lot_id: Id | None = None
    items: Annotated[list[ItemInput], Field(min_length=1, max_length=10000)]
    # the day they were received (default: their lot's reception day, else today); not in the future,
    # not before their lot's reception
    received_on: Day | None = None


def _absent_keeps(schema: dict[str, Any], model: type) -> None:
    # In a patch, a field left out keeps the item's value: there is no default to show.
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class _Patch(Input):
    model_config = ConfigDict(json_schema_extra=_absent_keeps)


# A merge patch of an item's description: the fields sent replace the
# item's, the others are kept, null clears one. ItemEdit itself has every
# field (category required, the rest defaulting to null), so a PATCH parsed
# with it would silently blank whatever the client did not send.
ItemPatch = create_model(
    "ItemPatch",
    __base__=_Patch,
    __doc__="Fields of ItemEdit to change; the fields left out keep their value.",
    **{name: (field.annotation, FieldInfo.merge_field_infos(field, default=None))
       for name, field in ItemEdit.model_fields.items()},
)  # fmt: skip


class StepsRequest(Input):
    """One workshop step for a batch of items: all move, or none."""

    item_ids: ItemIds
    step: StepInput


class CorrectionRequest(Input):
    """Undo an item's last event, saying why."""

    reason: Annotated[str, Field(min_length=1, max_length=500)]
    operator: Annotated[str, Field(max_length=100)] | None = None


# --- donors -------------------------------------------------------------------------------------


async def get_donors(request: web.Request, holder: Holder) -> web.Response:
    """GET /donors: every donor, by name."""
    async with request.app[STORE].reader() as db:
        return answer({"donors": plain(await donors.list_donors(db))})


async def post_donor(request: web.Request, holder: Holder, body: DonorInput) -> web.Response:
    """POST /donors: register a donor (201, with its Location)."""
    async with request.app[STORE].transaction() as tx:
        donor = await donors.get_donor(tx, await donors.create_donor(tx, body))
    return created(asdict(donor), f"/api/v1/donors/{donor.id}")


async def get_donor(request: web.Request, holder: Holder) -> web.Response:
    """GET /donors/{id}."""
    async with request.app[STORE].reader() as db:
        return answer(asdict(await donors.get_donor(db, path_id(request))))


async def put_donor(request: web.Request, holder: Holder, body: DonorInput) -> web.Response:
    """PUT /donors/{id}: replace a donor's details."""
    donor_id = path_id(request)
    async with request.app[STORE].transaction() as tx:
        await donors.update_donor(tx, donor_id, body)
        donor = await donors.get_donor(tx, donor_id)
    return answer(asdict(donor))


# --- lots ---------------------------------------------------------------------------------------


def _lot(lot: Lot) -> dict[str, Any]:
    # The derived figures are properties, which asdict leaves out.
    return {**asdict(lot), "status": lot.status, "unit_gap": lot.unit_gap, "weight_gap_g": lot.weight_gap_g}


async def get_lots(request: web.Request, holder: Holder) -> web.Response:
    """GET /lots: newest first, optionally one donor's."""
    donor_id = query_int(request, "donor_id", minimum=1)
    limit = query_int(request, "limit", 100, minimum=1, maximum=500)
    offset = query_int(request, "offset", 0)
    async with request.app[STORE].reader() as db:
        found = await lots.list_lots(db, donor_id=donor_id, limit=limit, offset=offset)
    return answer({"lots": [_lot(lot) for lot in found], "limit": limit, "offset": offset})


async def post_lot(request: web.Request, holder: Holder, body: LotInput) -> web.Response:
    """POST /lots: register a lot from a donor."""
    async with request.app[STORE].transaction() as tx:
        lot = await lots.get_lot(tx, await lots.create_lot(tx, body))
    return created(_lot(lot), f"/api/v1/lots/{lot.id}")


async def get_lot(request: web.Request, holder: Holder) -> web.Response:
    """GET /lots/{id}, with its counts, gaps and status."""
    async with request.app[STORE].reader() as db:
        return answer(_lot(await lots.get_lot(db, path_id(request))))


async def post_reception(request: web.Request, holder: Holder, body: Reception) -> web.Response:
    """POST /lots/{id}/reception: what was counted and weighed on arrival."""
    lot_id = path_id(request)
    async with request.app[STORE].transaction() as tx:
        await lots.receive_lot(tx, lot_id, body)
        lot = await lots.get_lot(tx, lot_id)
    return answer(_lot(lot))


# --- items --------------------------------------------------------------------------------------


async def _item_view(db: Reader, item_id: int) -> dict[str, Any]:
    item = await items.get_item(db, item_id)
    erasures = await erasure.erasures_of(db, item_id)
    # The same test as the rule in node.domain.erasure.require_erased, so a client
    # can tell before the handover that it would be refused.
    erased = item_id in await erasure.proven_erased(db, [item_id])
    return {
        "item": asdict(item),
        "history": plain(await items.history(db, item_id)),
        "erasures": plain(erasures),
        "erasure_required": erasure.needs_erasure(item.category, item.storage) and not erased,
    }


async def get_items(request: web.Request, holder: Holder) -> web.Response:
    """GET /items: search and filters, a page at a time, with the total."""
    query = query_text(request, "q")
    state = query_text(request, "state", max_length=40)
    category = query_text(request, "category", max_length=40)
    lot_id = query_int(request, "lot_id", minimum=1)
    donor_id = query_int(request, "donor_id", minimum=1)
    limit = query_int(request, "limit", 50, minimum=1, maximum=500)
    offset = query_int(request, "offset", 0)
    async with request.app[STORE].reader() as db:
        page = await items.find_items(db, query=query, state=state, category=category, lot_id=lot_id,
                                      donor_id=donor_id, limit=limit, offset=offset)  # fmt: skip
    return answer(asdict(page))


async def post_items(request: web.Request, holder: Holder, body: ItemsRequest) -> web.Response:
    """POST /items: register items; answer their ids, global ids and asset tags."""
    async with request.app[STORE].transaction() as tx:
        ids = await items.create_items(tx, body.lot_id, list(body.items), operator=holder.name,
                                       received_on=body.received_on)  # fmt: skip
        rows = await workflow.items_by_ids(tx, ids)
    return created({"items": [{"id": r["id"], "gid": r["gid"], "asset_tag": r["asset_tag"]} for r in rows]})


async def get_item(request: web.Request, holder: Holder) -> web.Response:
    """GET /items/{id}: the item, its history and its disks' erasures."""
    async with request.app[STORE].reader() as db:
        return answer(await _item_view(db, path_id(request)))


async def lookup_item(request: web.Request, holder: Holder) -> web.Response:
    """GET /items/lookup?tag=: by the asset tag printed on the label or the global id in its QR code."""
    tag = query_text(request, "tag", max_length=100)
    if tag is None:
        raise Invalid("tag: give the asset tag or the global id", code="invalid")
    async with request.app[STORE].reader() as db:
        return answer(await _item_view(db, await items.item_id_by_tag(db, tag)))


async def patch_item(request: web.Request, holder: Holder, body: BaseModel) -> web.Response:
    """PATCH /items/{id}: a merge patch of the description (see ``ItemPatch``)."""
    item_id = path_id(request)
    async with request.app[STORE].transaction() as tx:
        # Read and write in one transaction, so a concurrent edit is not undone.
        current = await items.get_item(tx, item_id)
        merged = {name: getattr(current, name) for name in ItemEdit.model_fields}
        merged.update(body.model_dump(exclude_unset=True))
        await items.edit_item(tx, item_id, parse(ItemEdit, merged))
        view = await _item_view(tx, item_id)
    return answer(view)


# --- steps and corrections ----------------------------------------------------------------------


async def post_events(request: web.Request, holder: Holder, body: StepsRequest) -> web.Response:
    """POST /events: one step for a batch of items."""
    step = body.step
    if step.operator is None:  # who did it: the token's holder, unless the client names a person
        step = step.model_copy(update={"operator": holder.name})
    async with request.app[STORE].transaction() as tx:
        event_ids = await workflow.record_step(tx, list(body.item_ids), step)
    return created({"event_ids": event_ids})


async def post_correction(request: web.Request, holder: Holder, body: CorrectionRequest) -> web.Response:
    """POST /events/{id}/correction: undo an item's last event by a new one."""
    event_id = path_id(request)
    async with request.app[STORE].transaction() as tx:
        correction = await workflow.correct_event(tx, event_id, body.reason, body.operator or holder.name)
    return created({"event_id": correction})


async def get_steps(request: web.Request, holder: Holder) -> web.Response:
    """GET /steps: the association's own step names and the state each records."""
    async with request.app[STORE].reader() as db:
        return answer({"steps": await workflow.steps(db)})


# --- erasures -----------------------------------------------------------------------------------


async def post_erasure(request: web.Request, holder: Holder, body: ErasureInput) -> web.Response:
    """POST /erasures: one disk's erasure, matched to an item by host serial when it can be."""
    async with request.app[STORE].transaction() as tx:
        erasure_id = await erasure.record_erasure(tx, body)
    return created({"id": erasure_id})


async def get_orphans(request: web.Request, holder: Holder) -> web.Response:
    """GET /erasures/orphans: erasures not matched to an item yet."""
    limit = query_int(request, "limit", 100, minimum=1, maximum=500)
    offset = query_int(request, "offset", 0)
    async with request.app[STORE].reader() as db:
        found = await erasure.orphan_disks(db, limit=limit, offset=offset)
    return answer({"erasures": plain(found), "limit": limit, "offset": offset})
