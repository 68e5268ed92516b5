"""The web interface as a service of ``maillon run`` (entry point ``maillon.services``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from node.config import Node
from node.store import Store
from node.users import has_users
from web_ui.app import make_app
from web_ui.auth import setup_code

__all__ = ["start"]


async def start(node: Node, store: Store) -> Callable[[], Awaitable[None]]:
    """Listen on the node's configured address; return the coroutine that stops it."""
    async with store.reader() as db:
        first_start = not await has_users(db)
    runner = web.AppRunner(make_app(node, store))
    await runner.setup()
    site = web.TCPSite(runner, node.config.host, node.config.port)
    await site.start()
    print(f"web interface: http://{node.config.host}:{node.config.port}/", flush=True)
    if first_start:
        print(f"first start: create the administrator at /setup with the code {setup_code(node.data_dir)}", flush=True)
    return runner.cleanup
