"""The web interface as a service of ``maillon run`` (entry point ``maillon.services``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from node.config import Node
from node.store import Store
from web_ui.app import make_app

__all__ = ["start"]


async def start(node: Node, store: Store) -> Callable[[], Awaitable[None]]:
    """Listen on the node's configured address; return the coroutine that stops it."""
    runner = web.AppRunner(make_app(node, store))
    await runner.setup()
    site = web.TCPSite(runner, node.config.host, node.config.port)
    await site.start()
    print(f"web interface: http://{node.config.host}:{node.config.port}/", flush=True)
    return runner.cleanup
