"""The dashboard: what the workshop holds, this month's and this year's figures."""

from __future__ import annotations

from aiohttp import web

from web_ui.render import page

routes = web.RouteTableDef()


@routes.get("/")
async def dashboard(request: web.Request) -> web.Response:
    return page(request, "dashboard.html")
