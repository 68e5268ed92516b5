"""The aiohttp application factory, used by ``service.start`` and by the tests."""

from __future__ import annotations

from html import escape

from aiohttp import web

from node.config import Node
from node.store import Store
from web_ui.i18n import DEFAULT_LANGUAGE, translator

__all__ = ["make_app", "NODE", "STORE"]

NODE = web.AppKey("node", Node)
STORE = web.AppKey("store", Store)


def make_app(node: Node, store: Store) -> web.Application:
    from web_ui.api import add_api_routes
    from web_ui.uploads import add_upload_routes

    app = web.Application(client_max_size=20 * 1024 * 1024)
    app[NODE] = node
    app[STORE] = store
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    add_api_routes(app)
    add_upload_routes(app)
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


async def index(request: web.Request) -> web.Response:
    node = request.app[NODE]
    language = request.query.get("lang", DEFAULT_LANGUAGE)
    _ = translator(language)
    public = node.key.public
    title = escape(_("Maillon node"))
    body = f"""<!doctype html>
<html lang="{escape(language)}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {escape(node.config.name)}</title></head>
<body><main>
<h1>{escape(node.config.name)}</h1>
<dl>
<dt>{escape(_("Role"))}</dt><dd>{escape(_(node.config.role))}</dd>
<dt>{escape(_("Fingerprint"))}</dt><dd><code>{escape(public.fingerprint)}</code></dd>
<dt>{escape(_("Node id"))}</dt><dd><code>{escape(public.node_id)}</code></dd>
</dl>
<p>{escape(_("Compare this fingerprint aloud before trusting another node."))}</p>
</main></body></html>"""
    return web.Response(text=body, content_type="text/html")
