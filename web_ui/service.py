"""The node's HTTP server as a service of ``maillon run`` (entry point ``maillon.services``).

One port serves the web interface and the federation's endpoints
(``/fed/v1``, ``/.well-known/maillon``); the federation's loops start and
stop with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from federation.engine import Federation
from federation.server import refuse_unreadable_requests
from node.config import Node
from node.domain.users import has_users
from node.store.database import Store
from web_ui.app import make_app
from web_ui.auth import setup_code

__all__ = ["start"]


async def start(node: Node, store: Store) -> Callable[[], Awaitable[None]]:
    """Listen on the node's configured address; return the coroutine that stops it."""
    async with store.reader() as db:
        first_start = not await has_users(db)
    fed = Federation(node, store)
    await fed.start()
    runner = web.AppRunner(make_app(node, store, fed))
    await runner.setup()
    refuse_unreadable_requests(runner)
    site = web.TCPSite(runner, node.config.host, node.config.port)
    await site.start()
    print(f"web interface: http://{node.config.host}:{node.config.port}/", flush=True)
    if first_start:
        print(f"first start: create the administrator at /setup with the code {setup_code(node.data_dir)}", flush=True)

    async def stop() -> None:
        await runner.cleanup()
        await fed.stop()

    return stop
