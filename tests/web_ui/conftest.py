"""Fixtures for the web interface: a real node, a real SQLite file, aiohttp's test client."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node import users
from node.config import Config, init_node
from node.store import Store
from web_ui.app import make_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


class Browser:
    """A logged-in (or not) person, with their cookies; ``post`` adds the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    async def get(self, path: str, **kwargs):
        response = await self.client.get(path, **kwargs)
        text = await response.text()
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return response, text

    async def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        form = dict(data or {})
        if csrf:
            form["_csrf"] = self.csrf
        response = await self.client.post(path, data=form, **kwargs)
        return response, await response.text()

    async def login(self, username: str, password: str = PASSWORD):
        response = await self.client.post("/login", data={"username": username, "password": password, "next": "/"})
        await self.get("/")
        return response


@pytest.fixture
async def web(tmp_path):
    node = init_node(tmp_path / "node", Config(name="Atelier <b>test</b>"))
    store = await Store.open(node.db_path, node.key)
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
