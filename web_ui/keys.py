"""The application's typed state (``web.AppKey``): what every page and API handler reads from ``request.app``.

Its own module, below ``web_ui.app`` and the handlers alike, so that handlers never import the app factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from node.config import Node
from node.store.database import Store

if TYPE_CHECKING:
    from federation.engine import Federation

__all__ = ["NODE", "STORE", "FEDERATION"]

NODE = web.AppKey("node", Node)
STORE = web.AppKey("store", Store)
FEDERATION: web.AppKey["Federation"] = web.AppKey("federation_engine")
