"""The file of an import preview waits in the pending area, not among the node's documents.

Real node, real SQLite file, real HTTP on loopback (aiohttp's test client).
A preview never confirmed leaves nothing in ``files/``, and what it leaves
in ``imports-pending/`` expires (at the next preview, and in the daily
upkeep) and stays within a cap (the oldest previews go first). Confirm
reads only a file a preview kept: never a document or an evidence file of
``files/``, named by its hash in a forged form.
"""

from __future__ import annotations

import errno
import html
import os
import re
import time
from pathlib import Path

import aiohttp
import pytest
from webtools import Browser

from node.errors import Invalid
from node.network.upkeep import daily_upkeep
from node.store import files
from node.store.files import PENDING_DIR, store_file
from web_ui.pages import catalogue_imports

SHEET = ("Lot;Donateur;Date de réception;Catégorie;Marque;Modèle;N° de série\n"
         "P-1;Mairie de Brest;01/06/2023;Portable;Dell;E7470;SN-1\n"
         "P-1;Mairie de Brest;01/06/2023;Écran;HP;P22;SN-2\n")  # fmt: skip
NWIPE = Path(__file__).parents[1] / "node" / "imports" / "fixtures" / "nwipe-shredos-example.log"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def kept(data_dir: Path, folder: str) -> list[Path]:
    return sorted(p for p in (data_dir / folder).rglob("*") if p.is_file())


async def count_items(store) -> int:
    async with store.reader() as db:
        return await db.value("SELECT count(*) FROM items")


async def previewed(tech: Browser, sheet: str, name: str = "historique.csv") -> tuple[aiohttp.ClientResponse, str]:
    await tech.get("/items/import")
    form = aiohttp.FormData()
    form.add_field("_csrf", tech.csrf)
    form.add_field("kind", "history")
    form.add_field("file", sheet.encode(), filename=name, content_type="text/csv")
    response = await tech.client.post("/imports/preview", data=form)
    return response, await response.text()


def confirm_fields(text: str) -> list[tuple[str, str]]:
    """The hidden fields of the preview's confirm form, as the browser would post them."""
    form = text[text.index('action="/imports/confirm"'):]
    form = form[: form.index("</form>")]
    return [(k, html.unescape(v)) for k, v in HIDDEN.findall(form)]


@pytest.fixture
async def tech(web):
    browser = Browser(web[2])
    await browser.login("tech")
    return browser


async def test_a_preview_keeps_its_file_pending_and_nothing_among_the_documents(web, tech):
    node, store, _ = web
    response, text = await previewed(tech, SHEET)
    assert response.status == 200, text
    sha256 = dict(confirm_fields(text))["sha256"]
    assert kept(node.data_dir, "files") == []  # never confirmed: no document kept
    assert [p.name for p in kept(node.data_dir, PENDING_DIR)] == [sha256]
    assert await count_items(store) == 0


async def test_confirm_imports_from_the_pending_file_then_removes_it(web, tech):
    node, store, client = web
    _, text = await previewed(tech, SHEET)
    fields = confirm_fields(text)
    response = await client.post("/imports/confirm", data=fields, allow_redirects=False)
    assert response.status == 303, await response.text()
    _, done = await tech.get(response.headers["Location"])
    assert "/items?lot_id=" in done
    assert await count_items(store) == 2
    assert kept(node.data_dir, PENDING_DIR) == [] and kept(node.data_dir, "files") == []
    # The same form posted again imports nothing twice: its file is gone.
    response = await client.post("/imports/confirm", data=fields)
    assert response.status == 422
    assert "Le fichier de cet aperçu n’est plus sur le nœud" in await response.text()
    assert await count_items(store) == 2


async def test_confirm_refuses_a_document_of_the_node_it_did_not_preview(web, tech):
    node, store, client = web
    _, text = await previewed(tech, SHEET)
    fields = dict(confirm_fields(text))
    other = SHEET.replace("SN-1", "SN-9").encode()
    document = store_file(node.data_dir, other)  # a document or evidence file, kept by its hash
    fields["sha256"] = document
    response = await client.post("/imports/confirm", data=fields)
    text = await response.text()
    assert response.status == 422
    assert "Le fichier de cet aperçu n’est plus sur le nœud" in text
    assert await count_items(store) == 0
    assert files.file_path(node.data_dir, document).read_bytes() == other  # left as it was
    # A preview again with other columns reads only the pending area too.
    response = await client.post("/imports/preview", data={**fields, "_csrf": tech.csrf})
    assert response.status == 422 and "n’est plus sur le nœud : envoyez-le à nouveau" in await response.text()


async def test_a_preview_removes_the_pending_files_of_expired_previews(web, tech):
    node, _, _ = web
    pending = node.data_dir / PENDING_DIR
    pending.mkdir()
    old, fresh = pending / ("a" * 64), pending / ("b" * 64)
    half = pending / ("c" * 64 + ".partial")  # left by a crash mid-write
    for path in (old, fresh, half):
        path.write_bytes(b"Categorie\nportable\n")
    day_ago = time.time() - files.PENDING_HOURS * 3600 - 60
    os.utime(old, (day_ago, day_ago))
    response, text = await previewed(tech, SHEET)
    assert response.status == 200, text
    names = {p.name for p in kept(node.data_dir, PENDING_DIR)}
    assert names == {fresh.name, dict(confirm_fields(text))["sha256"]}


async def test_past_the_cap_a_preview_removes_the_oldest_pending_files_first(web, tech, monkeypatch):
    node, store, client = web
    sheets = [SHEET.replace("SN-1", f"SN-{n}") for n in range(3)]
    monkeypatch.setattr(files, "PENDING_BYTES", 2 * len(sheets[0].encode()))
    forms = []
    for n, sheet in enumerate(sheets):
        response, text = await previewed(tech, sheet)
        assert response.status == 200, text
        forms.append(confirm_fields(text))
        stamp = time.time() - 100 + n  # previewed in this order
        os.utime(node.data_dir / PENDING_DIR / dict(forms[-1])["sha256"], (stamp, stamp))
    assert len(kept(node.data_dir, PENDING_DIR)) == 2
    response = await client.post("/imports/confirm", data=forms[0])
    assert response.status == 422 and "envoyez-le à nouveau" in await response.text()
    assert await count_items(store) == 0
    response = await client.post("/imports/confirm", data=forms[2], allow_redirects=False)
    assert response.status == 303 and await count_items(store) == 2


async def test_the_daily_upkeep_removes_the_expired_pending_files(web):
    node, store, _ = web
    pending = node.data_dir / PENDING_DIR
    pending.mkdir()
    old, fresh = pending / ("d" * 64), pending / ("e" * 64)
    for path in (old, fresh):
        path.write_bytes(b"x")
    day_ago = time.time() - files.PENDING_HOURS * 3600 - 60
    os.utime(old, (day_ago, day_ago))
    await daily_upkeep(store)
    assert [p.name for p in kept(node.data_dir, PENDING_DIR)] == [fresh.name]


@pytest.mark.parametrize("step", ["preview", "confirm"])
async def test_a_refusal_shows_the_french_sentence_alone_and_the_english_detail_apart(web, tech, monkeypatch, step):
    node, store, client = web
    _, text = await previewed(tech, SHEET)
    fields = confirm_fields(text)

    async def refused(*args, **kwargs):
        raise Invalid("the sheet names a lot twice", code="invalid")

    monkeypatch.setattr(catalogue_imports, "run_import", refused)
    if step == "preview":
        response, text = await previewed(tech, SHEET)
        sentence = "Le fichier n’a pas pu être lu. Rien n’a été importé."
    else:
        response = await client.post("/imports/confirm", data=fields)
        text = await response.text()
        sentence = "L’import a été refusé : rien n’a été modifié."
    assert response.status == 422
    text = html.unescape(text)
    assert f"<p>{sentence}</p>" in text
    assert '<p class="muted" lang="en">the sheet names a lot twice</p>' in text
    assert await count_items(store) == 0
    assert kept(node.data_dir, PENDING_DIR) == []  # the form asks for the file again: nothing left waiting


async def test_a_preview_on_a_full_disk_says_so_and_leaves_no_half_file(web, tech, monkeypatch):
    node, store, _ = web

    def no_space(handle, data: bytes) -> None:
        handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_write", no_space)
    response, text = await previewed(tech, SHEET)
    assert response.status == 507, text
    assert "Le disque du nœud est plein" in html.unescape(text)
    assert kept(node.data_dir, PENDING_DIR) == [] and await count_items(store) == 0


async def test_an_nwipe_log_waits_pending_until_confirmed_then_is_kept_as_evidence(web, tech):
    node, store, client = web
    log = NWIPE.read_bytes()
    await tech.get("/erasures")
    form = aiohttp.FormData()
    for key, value in (("_csrf", tech.csrf), ("kind", "nwipe"), ("lot", ""), ("item_tag", "")):
        form.add_field(key, value)
    form.add_field("file", log, filename="nwipe.log", content_type="text/plain")
    response = await client.post("/erasures/preview", data=form)
    text = await response.text()
    assert response.status == 200, text
    fields = dict(re.findall(r'<input type="hidden" name="(_csrf|sha256|kind|filename|lot|item_tag)" value="([^"]*)"',
                             text))  # fmt: skip
    assert kept(node.data_dir, "files") == [] and len(kept(node.data_dir, PENDING_DIR)) == 1
    # A document of the node, named in a forged confirmation, is not imported.
    forged = {**fields, "sha256": store_file(node.data_dir, log + b"\n")}
    response = await client.post("/erasures/import", data=forged)
    assert response.status == 422 and "plus sur le nœud" in await response.text()
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM erasures") == 0
    response = await client.post("/erasures/import", data=fields)
    assert response.status == 200, await response.text()
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM erasures") > 0
    assert kept(node.data_dir, PENDING_DIR) == []
    assert files.file_path(node.data_dir, fields["sha256"]).read_bytes() == log  # the evidence is kept
