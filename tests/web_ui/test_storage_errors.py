"""A full disk seen from the web: a page says so in French, the API and the uploads answer a reason code.

The disk is made full with SQLite's own mechanism (``max_page_count``: the
database cannot grow, SQLite answers SQLITE_FULL), or, for the files the node
keeps beside its database, by a write that fails with ENOSPC. Each time,
nothing is written: no row, no half file.
"""

from __future__ import annotations

import errno
import html
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from webtools import PASSWORD, Browser

from node.config import Config, init_node
from node.domain import users
from node.domain.access import create_station, create_token
from node.domain.lots import LotInput, create_lot
from node.store import files
from node.store.database import Store
from web_ui.app import make_app

LOG = (Path(__file__).parents[1] / "node" / "imports" / "fixtures" / "nwipe-shredos-example.log").read_bytes()
FIELDS = re.compile(r'<input type="hidden" name="(sha256|kind|filename|lot|item_tag)" value="([^"]*)"')


@pytest.fixture
async def node(tmp_path):
    made = init_node(tmp_path / "node", Config(name="Atelier"))
    store = await Store.open(made.db_path, made.key, create=True)
    async with store.transaction() as tx:
        await users.create_user(tx, "tech", PASSWORD, "technician")
        await create_lot(tx, LotInput(reference="LOT-1"))
        station = await create_station(tx, "poste-1")
        token = await create_token(tx, "script", "technician")
    async with TestClient(TestServer(make_app(made, store))) as client:
        yield made, store, client, {"station": station, "token": token}
    await store.close()


async def fill_the_disk(store: Store) -> None:
    """From now on the database cannot grow, as on a full disk."""
    async with store.reader() as db:
        pages = await db.value("PRAGMA page_count")
    await store._writer.execute(f"PRAGMA max_page_count = {pages}")


def no_space(handle, data: bytes) -> None:
    handle.write(data[: len(data) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


async def count(store: Store, table: str) -> int:
    async with store.reader() as db:
        return await db.value(f"SELECT count(*) FROM {table}")


def kept_files(made) -> list[Path]:
    return [p for p in (made.data_dir / "files").rglob("*") if p.is_file()]


async def test_the_api_answers_disk_full_with_its_code_and_writes_nothing(node):
    made, store, client, secrets = node
    await fill_the_disk(store)
    async with store.reader() as db:
        lot = await db.value("SELECT id FROM lots")
    items = [{"category": "laptop", "brand": "Dell", "model": "Latitude 5490", "serial": f"SN-{n:05d}",
              "cpu": "Intel Core i5-8350U, écran rayé, batterie à changer"} for n in range(300)]  # fmt: skip
    response = await client.post("/api/v1/items", json={"lot_id": lot, "items": items},
                                 headers={"Authorization": f"Bearer {secrets['token']}"})  # fmt: skip
    body = await response.json()
    assert response.status == 507 and body["code"] == "disk_full", body
    assert "disk is full" in body["message"] and "nothing was written" in body["message"]
    assert await count(store, "items") == 0 and await count(store, "events") == 0
    # The node goes on: reads work, and a write works once there is room again.
    await store._writer.execute("PRAGMA max_page_count = 1073741823")
    response = await client.post("/api/v1/items", json={"lot_id": lot, "items": items[:2]},
                                 headers={"Authorization": f"Bearer {secrets['token']}"})  # fmt: skip
    assert response.status == 201 and await count(store, "items") == 2


async def test_a_shredos_upload_on_a_full_disk_answers_disk_full_and_keeps_no_half_file(node, monkeypatch):
    made, store, client, secrets = node
    monkeypatch.setattr(files, "_write", no_space)
    response = await client.put(f"/upload/shredos/poste-1/{secrets['station']}", data=LOG)
    body = await response.json()
    assert response.status == 507 and body["code"] == "disk_full", body
    assert "disk is full" in body["message"]
    assert await count(store, "erasures") == 0 and kept_files(made) == []


async def test_a_page_import_on_a_full_disk_says_so_in_french_and_imports_nothing(node, tmp_path):
    made, store, client, _ = node
    tech = Browser(client)
    await tech.login("tech")
    await tech.get("/items/import")
    sheet = tmp_path / "inventaire.csv"
    rows = [f"portable;Dell;Latitude 5490;SN{n:05d}" for n in range(400)]
    sheet.write_text("\n".join(["Catégorie;Marque;Modèle;N° de série", *rows]) + "\n", encoding="utf-8")
    with sheet.open("rb") as handle:
        response, text = await tech.post("/imports/preview", {"kind": "history", "file": handle})
    assert response.status == 200, text
    confirm = text[text.index('action="/imports/confirm"'):]
    fields = [(k, v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm)
              if k != "_csrf"]  # fmt: skip
    await fill_the_disk(store)
    response = await client.post("/imports/confirm", data=[*fields, ("_csrf", tech.csrf)])
    text = await response.text()
    assert response.status == 507
    assert "Le disque du nœud est plein : rien n'a été enregistré" in html.unescape(text)
    assert await count(store, "items") == 0
