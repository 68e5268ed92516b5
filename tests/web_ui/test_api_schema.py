"""The local API keeps the contract of its OpenAPI file: schemathesis against a live node (issue 18.10).

Requests generated from ``web_ui/openapi.json`` (valid ones, and ones that
break the schema) go over real HTTP on loopback to a node on a real SQLite
file; every answer is checked against the schema: no server error, a
documented status and body, schema-breaking requests refused, valid ones
accepted or refused only for a documented domain reason. A few examples
per operation in ``make test``; fifty with ``--full``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402

from node.config import Config, init_node  # noqa: E402
from node.domain.access import create_token  # noqa: E402
from node.store.database import Store  # noqa: E402
from web_ui.api import OPENAPI_PATH  # noqa: E402
from web_ui.app import make_app  # noqa: E402

SCHEMA = schemathesis.openapi.from_dict(json.loads(OPENAPI_PATH.read_text()))
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
# (operation, mode): an operation with neither parameters nor body has no request that breaks the schema
CASES = [(label, mode) for label, op in sorted(OPERATIONS.items())
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or op.body or op.query or op.path_parameters]  # fmt: skip


class LiveNode:
    """A node serving its API on loopback from its own thread and event loop (schemathesis calls are blocking)."""

    def __init__(self, root) -> None:
        self.root = root
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        from aiohttp import web

        node = init_node(self.root, Config(name="A"))
        self.store = await Store.open(node.db_path, node.key, create=True)
        async with self.store.transaction() as tx:
            self.token = await create_token(tx, "schemathesis", "admin")
        self.runner = web.AppRunner(make_app(node, self.store))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.store.close()

    def __enter__(self) -> "LiveNode":
        self.thread.start()
        assert self.ready.wait(30)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with LiveNode(tmp_path_factory.mktemp("api") / "node") as node:
        yield node


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES])
def test_the_api_keeps_its_contract(live, label, mode, request):
    operation = OPERATIONS[label]
    examples = 50 if request.config.getoption("--full") else 5
    headers = {"Authorization": f"Bearer {live.token}"}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(operation.as_strategy(generation_mode=mode))
    def check(case):
        case.call_and_validate(base_url=live.url, headers=headers)

    check()
