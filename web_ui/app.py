"""The aiohttp application factory, used by ``service.start`` and by the tests.

Pages live in ``web_ui/pages/``: each module has ``routes`` (an aiohttp
``RouteTableDef``) and is listed in ``PAGES``. The federation pages plug in
the same way when the federation issues land (``pages/federation.py``).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from node.config import Node
from node.store.database import Store
from web_ui.keys import FEDERATION, NODE, STORE

if TYPE_CHECKING:
    from federation.engine import Federation

__all__ = ["make_app", "PAGES"]

STATIC = Path(__file__).parent / "static"

PAGES = (
    "web_ui.pages.dashboard",
    "web_ui.pages.home",
    "web_ui.pages.catalogue",
    "web_ui.pages.workshop",
    "web_ui.pages.outputs",
    "web_ui.pages.admin",
    "web_ui.pages.federation",
    "web_ui.pages.handoffs",
    "web_ui.pages.handoffs_reception",
    "web_ui.pages.network",
    "web_ui.pages.station",
    "web_ui.pages.national",
    "web_ui.pages.verify",
)

_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")  # fmt: skip


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _headers(response)
        raise
    _headers(response)
    return response


def _headers(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")


def make_app(node: Node, store: Store, fed: "Federation | None" = None) -> web.Application:
    """The node's HTTP application: the web interface, and the federation's endpoints when ``fed`` is given."""
    from web_ui.api import add_api_routes
    from web_ui.auth import add_auth_routes, auth_middleware
    from web_ui.render import setup_templates
    from web_ui.storage_errors import storage_errors
    from web_ui.uploads import add_upload_routes

    # storage_errors outside auth_middleware: the session read and the audit write may meet a full disk too
    app = web.Application(client_max_size=20 * 1024 * 1024,
                          middlewares=[security_headers, storage_errors, auth_middleware])  # fmt: skip
    app[NODE] = node
    app[STORE] = store
    setup_templates(app)
    app.router.add_get("/health", health)
    app.router.add_static("/static/", STATIC, append_version=False)
    add_auth_routes(app)
    add_api_routes(app)
    add_upload_routes(app)
    if fed is not None:
        from federation.server import add_routes

        add_routes(app, fed)
        app[FEDERATION] = fed
    for name in PAGES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a page group not written yet
        app.router.add_routes(module.routes)
    return app


async def health(request: web.Request) -> web.Response:
    """Liveness and the node's identity, for monitoring and for people setting up peers."""
    node = request.app[NODE]
    async with request.app[STORE].reader() as db:
        items = await db.value("SELECT count(*) FROM items")
        seq = await db.value("SELECT max(seq) FROM log_records WHERE author = ?", (node.key.public.raw,))
    return web.json_response({
        "status": "ok", "name": node.config.name, "role": node.config.role, "node_id": node.key.public.node_id,
        "fingerprint": node.key.public.fingerprint, "items": items, "log_seq": seq or 0,
    })  # fmt: skip
