"""The aiohttp application factory, used by ``service.start`` and by the tests."""

from __future__ import annotations

from html import escape

from aiohttp import web

from node.config import Node
from web_ui.i18n import DEFAULT_LANGUAGE, translator

__all__ = ["make_app", "NODE"]

NODE = web.AppKey("node", Node)


def make_app(node: Node) -> web.Application:
    app = web.Application()
    app[NODE] = node
    app.router.add_get("/", index)
    return app


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
