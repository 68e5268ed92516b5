"""The home page (``/``), by the node's role: what its people look at first.

- a **member** (an association): its workshop, as the dashboard shows it
  (``web_ui.pages.dashboard``), with Scan, Distribute and Recycle first;
- a **hub**: its network: the member associations and their report for the
  last ended month (the missing ones first), the silences
  (``node.network.silence``), the hand-offs still open; its own workshop's
  dashboard stays at ``/dashboard``;
- **national**: the national figures of the latest period the hubs
  summarised, and each hub's last check (``node.network.national``).

The menu that goes with each is in ``web_ui.menu``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from node.network import handoff_views, handoffs, national, silence
from protocol.keys import fingerprint
from web_ui.i18n import translator
from web_ui.keys import NODE, STORE
from web_ui.pages.dashboard import dashboard
from web_ui.pages.national import CHECK_STATES, FLOWS, tables
from web_ui.pages.network import default_period, network_of
from web_ui.pages.network_common import period_name, sum_of
from web_ui.render import LANGUAGE, page

__all__ = ["routes"]

routes = web.RouteTableDef()
OPEN_SHOWN = 20


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


# node.network.silence.Silence.reason
SILENCES = {
    "member_silent": _("no statistics report for longer than its reporting period"),
    "peer_unreachable": _("no exchange with this node for more than a day"),
}
DIRECTIONS = {"in": _("offered to this node"), "out": _("offered by this node")}
HANDOFF_STATES = {"offered": _("waiting for an answer"), "accepted": _("accepted, waiting for the receipt")}


@dataclass(frozen=True, slots=True)
class OpenHandoff:
    """A hand-off not closed yet, with the other node's name."""

    handoff: handoffs.Handoff
    name: str
    expired: bool


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    """The home page of this node's role."""
    role = request.app[NODE].config.role
    if role == "hub":
        return await hub_home(request)
    if role == "national":
        return await national_home(request)
    return await dashboard(request)


async def hub_home(request: web.Request) -> web.Response:
    period = default_period()
    data = await network_of(request, period)
    me = request.app[NODE].key.public.raw
    async with request.app[STORE].reader() as db:
        silent = await silence.silent_nodes(db, me)
        found = [h for state in HANDOFF_STATES for h in await handoffs.list_handoffs(db, state=state, limit=OPEN_SHOWN)]
        names = await handoff_views.node_names(db, [h.peer for h in found])
    pending = [OpenHandoff(h, names.get(h.peer, fingerprint(h.peer)), h.expired())
               for h in sorted(found, key=lambda h: h.created, reverse=True)][:OPEN_SHOWN]  # fmt: skip
    members = sorted(data.members, key=lambda m: (m.report is not None, m.name.casefold()))
    language = request.get(LANGUAGE, "fr")
    return page(request, "home/hub.html", period=period, period_label=period_name(period, language),
                members=members, missing=[m for m in members if m.report is None], silent=silent,
                silences=SILENCES, pending=pending, directions=DIRECTIONS, states=HANDOFF_STATES,
                network_name=request.app[NODE].config.network or request.app[NODE].config.name)  # fmt: skip


async def national_home(request: web.Request) -> web.Response:
    language = request.get(LANGUAGE, "fr")
    async with request.app[STORE].reader() as db:
        readings = await national.read_hubs(db)
    periods = tables(readings, translator(language))
    latest = periods[0] if periods else None
    flows = [(label, sum_of(latest.total.figures, first, "units")) for first, label in FLOWS] if latest else []
    rewritten = [r for r in readings if r.log is not None and r.log.state == "rewritten"]
    return page(request, "home/national.html", readings=readings, latest=latest, flows=flows, rewritten=rewritten,
                states=CHECK_STATES, distributed=sum_of(latest.total.figures, "distributed", "units") if latest else 0,
                period_name=lambda p: period_name(p, language))  # fmt: skip
