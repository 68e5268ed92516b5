"""ShredOS uploads its erasure log straight to the node, over real HTTP on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node.config import Config, init_node
from node.domain.access import create_station
from node.store.database import Store
from web_ui.app import make_app
from web_ui.uploads import _from_lan

LOG = (Path(__file__).parents[1] / "node" / "imports" / "fixtures" / "nwipe-shredos-example.log").read_bytes()


@pytest.fixture
async def setup(tmp_path):
    node = init_node(tmp_path, Config(name="A"))
    store = await Store.open(node.db_path, node.key, create=True)
    async with store.transaction() as tx:
        token = await create_station(tx, "poste-1")
    async with TestClient(TestServer(make_app(node, store))) as client:
        yield client, store, token
    await store.close()


async def erasures(store) -> int:
    async with store.reader() as db:
        return await db.value("SELECT count(*) FROM erasures WHERE source = 'shredos_upload'")


async def test_upload_is_filed_like_an_import_and_is_idempotent(setup):
    client, store, token = setup
    response = await client.put(f"/upload/shredos/poste-1/{token}", data=LOG)
    assert response.status == 200 and (await response.json())["ok"]
    assert await erasures(store) == 2
    again = await client.put(f"/upload/shredos/poste-1/{token}", data=LOG)
    assert again.status == 200 and await erasures(store) == 2


@pytest.mark.parametrize("path", ["/upload/shredos/poste-1/wrong", "/upload/shredos/poste-2/{token}"])
async def test_wrong_station_or_token_is_refused(setup, path):
    client, store, token = setup
    response = await client.put(path.format(token=token), data=LOG)
    assert response.status == 403 and (await response.json())["code"] == "unknown_station"
    assert await erasures(store) == 0


async def test_garbage_is_refused_and_changes_nothing(setup):
    client, store, token = setup
    response = await client.put(f"/upload/shredos/poste-1/{token}", data=b"\x00not a log" * 100)
    assert response.status == 422 and not (await response.json())["ok"]
    assert await erasures(store) == 0


@pytest.mark.parametrize(
    ("remote", "allowed"),
    [("127.0.0.1", True), ("192.168.1.20", True), ("10.0.0.5", True), ("fe80::1", True), ("::1", True),
     ("8.8.8.8", False), ("2001:4860::8888", False), (None, False), ("garbage", False)],
)  # fmt: skip
def test_only_the_local_network_may_upload(remote, allowed):
    assert _from_lan(remote) is allowed


async def test_a_chunked_log_over_10_mb_is_refused_before_it_is_read_whole(setup):
    """Content-Length is not the only way to send a body: a chunked one is counted as it comes."""
    client, store, token = setup
    sent = 0

    async def chunks():
        nonlocal sent
        piece = LOG + b"\n" * (1024 * 1024 - len(LOG))
        for _ in range(11):
            sent += len(piece)
            yield piece

    response = await client.put(f"/upload/shredos/poste-1/{token}", data=chunks())
    assert response.status == 413 and (await response.json())["code"] == "too_large"
    assert await erasures(store) == 0
    # and a log just under the limit, chunked, still goes through
    async def small():
        yield LOG

    response = await client.put(f"/upload/shredos/poste-1/{token}", data=small())
    assert response.status == 200 and await erasures(store) == 2
