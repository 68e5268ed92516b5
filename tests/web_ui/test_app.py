"""The node's status page, through aiohttp's test client."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from node.config import Config, init_node
from node.store import Store
from web_ui.app import make_app


async def test_status_page_in_french_by_default_and_english_on_request(tmp_path):
    node = init_node(tmp_path, Config(name="<Atelier & Cie>"))
    store = await Store.open(node.db_path, node.key)
    async with TestClient(TestServer(make_app(node, store))) as client:
        response = await client.get("/")
        assert response.status == 200
        page = await response.text()
        assert "Empreinte" in page and node.key.public.fingerprint in page
        assert "&lt;Atelier &amp; Cie&gt;" in page and "<Atelier" not in page
        english = await (await client.get("/?lang=en")).text()
        assert "Fingerprint" in english and 'lang="en"' in english
        health = await (await client.get("/health")).json()
        assert health["status"] == "ok" and health["fingerprint"] == node.key.public.fingerprint
    await store.close()
