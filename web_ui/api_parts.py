"""API handlers for the workshop's finer moves: disks taken out, parts harvested and
fitted, the association's own step names."""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import Field

from node.domain import workflow
from node.domain.access import Holder
from node.validation import Input
from web_ui.api_io import ApiError, Id, ItemIds, created, path_id
from web_ui.keys import STORE

__all__ = ["StorageRemoval", "Harvest", "Fit", "StepName", "post_storage_removal", "post_component",
           "post_fit", "post_step_name"]  # fmt: skip


class StorageRemoval(Input):
    """The disks of these items were taken out (or destroyed): they no longer hold data."""

    item_ids: ItemIds
    destroyed: bool = False
    operator: Annotated[str, Field(max_length=100)] | None = None


class Harvest(Input):
    """A part taken out of an item, to be fitted into another."""

    from_item: Id
    description: Annotated[str, Field(min_length=1, max_length=200)]


class Fit(Input):
    to_item: Id


class StepName(Input):
    """One of the association's own step names, mapped to a canonical state."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    state: Literal["sorted", "tested", "erased", "refurbished", "ready", "reserved", "recycled", "dismantled"]


async def post_storage_removal(request: web.Request, holder: Holder, body: StorageRemoval) -> web.Response:
    """POST /items/storage-removal: record that the items' disks were removed or destroyed."""
    async with request.app[STORE].transaction() as tx:
        await workflow.remove_storage(tx, list(body.item_ids), destroyed=body.destroyed,
                                      operator=body.operator or holder.name)  # fmt: skip
    return created({"items": len(body.item_ids)})


async def post_component(request: web.Request, holder: Holder, body: Harvest) -> web.Response:
    """POST /components: a part harvested from an item."""
    async with request.app[STORE].transaction() as tx:
        component = await workflow.harvest_component(tx, body.from_item, body.description)
    return created({"id": component})


async def post_fit(request: web.Request, holder: Holder, body: Fit) -> web.Response:
    """POST /components/{id}/fit: the part was fitted into another item."""
    async with request.app[STORE].transaction() as tx:
        await workflow.fit_component(tx, path_id(request), body.to_item)
    return created({"id": path_id(request)})


async def post_step_name(request: web.Request, holder: Holder, body: StepName) -> web.Response:
    """POST /steps: name (or rename) one of the association's steps; admins only."""
    if holder.role != "admin":
        raise ApiError(403, "forbidden", "only an admin may define the association's steps")
    async with request.app[STORE].transaction() as tx:
        await workflow.define_step(tx, body.name, body.state)
    return created({"name": body.name, "state": body.state})
