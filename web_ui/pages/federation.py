"""The federation page: this node's identity, its peers, what it sends, offers, published reports.

The federation itself (``federation/``) is not written yet. The page is
laid out so that each coming piece plugs in at one place: one function per
section returns that section's template context, read from the node in
the same reader; the template shows an empty state while a section's list
is empty. When a piece lands, its function queries the domain (a node/
module, never SQL here) and its part of ``federation/index.html`` shows the
rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from node.config import Node
from node.store import Reader
from web_ui.app import NODE, STORE
from web_ui.render import page

routes = web.RouteTableDef()

Section = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Identity:
    """What another node's admin compares, aloud, before trusting this node."""

    name: str
    role: str
    fingerprint_groups: tuple[str, ...]
    node_id: str
    node_id_groups: tuple[str, ...]


def identity(node: Node) -> Identity:
    public = node.key.public
    node_id = public.node_id
    return Identity(
        name=node.config.name, role=node.config.role, fingerprint_groups=tuple(public.fingerprint.split("-")),
        node_id=node_id, node_id_groups=tuple(node_id[i : i + 4] for i in range(0, len(node_id), 4)),
    )  # fmt: skip


async def peers_section(db: Reader, node: Node) -> Section:
    """Known nodes: name, role, fingerprint, address, trusted or not, last contact. None yet."""
    return {"peers": []}


async def outbox_section(db: Reader, node: Node) -> Section:
    """Records waiting to be sent, per peer, with the last attempt and the next try. None yet."""
    return {"outbox": []}


async def offers_section(db: Reader, node: Node) -> Section:
    """Lots other nodes offer to hand over to this one, waiting for an answer. None yet."""
    return {"offers": []}


async def reports_section(db: Reader, node: Node) -> Section:
    """Reports this node has published (statistics, fates) and their audience. None yet."""
    return {"reports": []}


SECTIONS = (peers_section, outbox_section, offers_section, reports_section)


@routes.get("/federation")
async def federation(request: web.Request) -> web.Response:
    node = request.app[NODE]
    context: Section = {}
    async with request.app[STORE].reader() as db:
        for section in SECTIONS:
            context.update(await section(db, node))
    return page(request, "federation/index.html", identity=identity(node), **context)
