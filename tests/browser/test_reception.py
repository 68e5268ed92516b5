"""The reception of a lot handed over by another node, in a real browser against a real node process.

The node's hub offered three laptops (``lot.offer/2``, each line with the
label the hub printed) and the node accepted. A volunteer opens the
reception page: the lines are named by printed label, model and serial,
never by a 36-character global id; typing a printed label ticks its line;
keeping the printed labels is chosen, and the summary names the one this
node cannot keep (it already uses that label); the reception is entered
afterwards, with the day the lot arrived; confirming gives the items
those labels, and the renumbered one still opens by its printed label.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest
from browsertools import login, shoot

from federation.inbox import receive
from federation.wire import Item
from node.config import load_node
from node.domain.items import ItemInput, create_items
from node.domain.settings import set_setting
from node.network import handoffs, peers
from node.store.database import Store, now_ms
from protocol import canonical
from protocol.custody_kinds import LotOffer2
from protocol.keys import SigningKey
from protocol.records import sign_record
from protocol.seal import encryption_key, seal

pytestmark = pytest.mark.browser
HUB = SigningKey.from_seed(hashlib.sha256(b"the hub of the reception test").digest())
GID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LINES = [("OGO-000411", "PF1A2B3C", "ThinkPad T480"), ("OGO-000412", "PF4D5E6F", "ThinkPad T480"),
         ("OGO 000413", "PF7G8H9J", "ThinkPad X270")]  # fmt: skip


async def accepted_offer(data: Path) -> bytes:
    """The hub's offer, received as the federation receives it, and accepted: its record id."""
    loaded = load_node(data)
    me = loaded.key.public.raw
    store = await Store.open(loaded.db_path, loaded.key)
    try:
        async with store.transaction() as tx:
            await peers.pin_peer(tx, HUB.public.raw, name="Ordi Grand Ouest", role="hub", relation="upstream",
                                 encryption_key=encryption_key(HUB))  # fmt: skip
            await set_setting(tx, "asset_prefix", "ATB")
            await create_items(tx, None, [ItemInput(category="screen")], asset_tags=["OGO-000412"])  # a clash
        gids = [f"0192e0c0-0000-7000-8000-00000000000{n}" for n in range(1, 4)]
        body = LotOffer2(lot_ref="ETAT-2026-03", recipient=me, units=3, weight_g=4800, orientations=[],
                         expires=now_ms() + 10 * 86_400_000, items=[
                             {"gid": gid, "category": "laptop", "weight_g": 1600, "erasure": "erased", "brand": "Lenovo",
                              "model": model, "serial": serial, "tags": ["REG-77", tag] if n == 0 else [tag]}
                             for n, (gid, (tag, serial, model)) in enumerate(zip(gids, LINES))])  # fmt: skip
        record = sign_record(HUB, seq=1, prev=None, time=now_ms(), kind=body.KIND,
                             content=canonical.encode(body.to_content()), audience=(me,))  # fmt: skip
        sealed = seal(record.id, record.content, {me: encryption_key(loaded.key), HUB.public.raw: encryption_key(HUB)})
        async with store.transaction() as tx:
            results = await receive(tx, loaded.key, [Item(canonical.encode([record.envelope, None]), sealed)],
                                    sender=HUB.public.raw)  # fmt: skip
        assert [r.status for r in results] == ["accepted"]
        async with store.transaction() as tx:
            await handoffs.answer_offer(tx, record.id, accept=True)
        return record.id
    finally:
        await store.close()


def labels(data: Path) -> dict[str, str]:
    db = sqlite3.connect(data / "node.db")
    try:
        return dict(db.execute("SELECT serial, asset_tag FROM items WHERE serial IS NOT NULL"))
    finally:
        db.close()


async def test_the_reception_names_lines_by_their_printed_label_and_may_keep_it(live_node, browser):
    base, data = live_node
    offer = (await accepted_offer(data)).hex()
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await login(page, base, "tech")
    await page.goto(f"{base}/handoffs/{offer}/reception")
    table = page.locator("table.reception")
    text = await table.inner_text()
    for tag, serial, model in LINES:
        assert tag in text and serial in text and model in text
    assert "avant : REG-77" in text  # the label the first laptop carried before the hub's
    assert not GID.search(text), "no 36-character global id in the list"
    await shoot(page, "reception")

    # typing a printed label ticks its line at once (handoffs.js), any case
    await page.fill("#scan-code", "ogo 000413")
    await page.press("#scan-code", "Enter")
    await page.wait_for_function("document.querySelectorAll('input[name=received]:checked').length === 1")
    assert "OGO 000413" in await page.locator("input[name=received]:checked").evaluate(
        "box => box.closest('tr').innerText")
    # the label the laptop carried before the hub's finds it too
    await page.fill("#scan-code", "REG-77")
    await page.press("#scan-code", "Enter")
    await page.wait_for_function("document.querySelectorAll('input[name=received]:checked').length === 2")
    await page.check("input[name=received][value$='0002']")

    await page.get_by_label("Garder les étiquettes imprimées", exact=False).check()
    await page.fill("#rc-weight", "4,8")
    # entered afterwards: the lot arrived on 14 March 2025 (the browser's date field, French label)
    await page.get_by_label("Date d'arrivée (si ce n'est pas aujourd'hui)").fill("2025-03-14")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Afficher le récapitulatif").click()
    summary = await page.locator("#summary").inner_text()
    assert "Arrivé le 14/03/2025" in summary
    assert "OGO-000412" in summary and "nouvelle étiquette" in summary  # the clash, named
    assert "2 appareil(s) gardent leur étiquette imprimée" in summary
    assert not GID.search(summary)
    await shoot(page, "reception-summary")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Confirmer la réception").click()
    assert "/handoffs/" in page.url and "done=received" in page.url

    assert labels(data) == {"PF1A2B3C": "OGO-000411", "PF4D5E6F": "ATB-000001",
                                                        "PF7G8H9J": "OGO 000413"}  # fmt: skip
    db = sqlite3.connect(data / "node.db")
    # received that day; erased by the hub's signed statement, so "effacé" here without a step of ours
    assert db.execute("SELECT received_on FROM lots WHERE source = 'handoff'").fetchone() == ("2025-03-14",)
    assert db.execute("SELECT DISTINCT i.state FROM items i JOIN lots l ON l.id = i.lot_id"
                      " WHERE l.source = 'handoff'").fetchall() == [("erased",)]  # fmt: skip
    db.close()
    # the renumbered laptop: its printed label is in its history, and the search finds it by it
    await page.goto(f"{base}/items?q=OGO-000412")
    assert "ATB-000001" in await page.locator("main").inner_text()
    db = sqlite3.connect(data / "node.db")
    item = db.execute("SELECT id FROM items WHERE asset_tag = 'ATB-000001'").fetchone()[0]
    db.close()
    await page.goto(f"{base}/items/{item}")
    history = await page.locator("#former-tags").inner_text()
    assert "OGO-000412" in history and "Ordi Grand Ouest" in history
    await shoot(page, "item-former-tags")
    await context.close()

