"""Fixtures for the web interface: a real node, a real SQLite file, aiohttp's test client."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from webtools import PASSWORD, Browser

from node.config import Config, init_node
from node.domain import users
from node.store.database import Store
from web_ui.app import make_app


@pytest.fixture
async def web(tmp_path):
    node = init_node(tmp_path / "node", Config(name="Atelier <b>test</b>"))
    store = await Store.open(node.db_path, node.key, create=True)
    async with store.transaction() as tx:
        for name, role in (("admin", "admin"), ("tech", "technician"), ("reader", "read_only")):
            await users.create_user(tx, name, PASSWORD, role)
    async with TestClient(TestServer(make_app(node, store))) as client:
        yield node, store, client
    await store.close()


@pytest.fixture
async def admin(web):
    browser = Browser(web[2])
    await browser.login("admin")
    return browser
