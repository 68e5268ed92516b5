"""Issue 19, points 1 and 11, in a real browser against a real node process.

"Effacé" has no button any more: the item page leads to recording the
erasure, which moves the item; the workshop's bulk form refuses "erased"
(even from an old page that still offers it) and an operating system for a
keyboard; a keyboard's page shows neither the erasure nor the OS.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from browsertools import login, shoot

pytestmark = pytest.mark.browser


def states(data: Path) -> dict[str, str]:
    db = sqlite3.connect(data / "node.db")
    try:
        return dict(db.execute("SELECT asset_tag, state FROM items ORDER BY id").fetchall())
    finally:
        db.close()


async def submit(page, selector: str) -> None:
    async with page.expect_navigation():
        await page.locator(f"{selector} button[type=submit]").first.click()


async def make_items(page, base: str) -> None:
    """A lot with three laptops and one keyboard, made through the pages."""
    await page.goto(base + "/donors/new")
    await page.fill("form[action='/donors'] [name=name]", "Mairie de Quimper")
    await page.select_option("form[action='/donors'] [name=type]", "public_body")
    await submit(page, "form[action='/donors']")
    await page.goto(base + "/lots/new")
    await page.fill("form[action='/lots'] [name=reference]", "QUI-1")
    await page.select_option("form[action='/lots'] [name=donor_id]", label="Mairie de Quimper")
    await submit(page, "form[action='/lots']")
    bulk = "form[action$='/items']"
    for category, count in (("laptop", "3"), ("peripheral", "1")):
        await page.select_option(f"{bulk} [name=category]", category)
        await page.fill(f"{bulk} [name=count]", count)
        await submit(page, bulk)


async def test_erased_follows_the_erasure_record(live_node, browser):
    base, data = live_node
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await login(page, base, "tech")
    await make_items(page, base)
    assert states(data) == {f"MLN-00000{n}": "received" for n in range(1, 5)}
    db = sqlite3.connect(data / "node.db")
    laptop, keyboard = (db.execute("SELECT id FROM items WHERE asset_tag = ?", (t,)).fetchone()[0]
                        for t in ("MLN-000001", "MLN-000004"))  # fmt: skip
    db.close()

    # The laptop's page: no "Effacé" button, a link to record its erasure.
    await page.goto(f"{base}/items/{laptop}")
    async with page.expect_navigation():
        await page.locator("button[name=move][value='tested']").first.click()
    assert await page.locator("button[name=move][value='erased']").count() == 0
    assert "peut encore contenir des données" in await page.locator("#erasure").inner_text()
    await shoot(page, "item-erasure-to-record")
    async with page.expect_navigation():
        await page.locator("#actions a", has_text="Enregistrer son effacement").click()
    manual = "form[action='/erasures']"
    assert await page.input_value(f"{manual} [name=asset_tag]") == "MLN-000001"  # filled in from the item
    await page.fill(f"{manual} [name=disk_serial]", "WD-123")
    await page.fill(f"{manual} [name=method]", "PRNG Stream")
    await page.check(f"{manual} input[name=level][value=clear]")
    await page.fill(f"{manual} [name=tool]", "nwipe")
    await page.check(f"{manual} input[name=result][value=success]")
    await submit(page, manual)
    assert "MLN-000001 est maintenant « effacé »" in await page.locator("main").inner_text()
    assert states(data)["MLN-000001"] == "erased"

    # Its page and the dashboard agree.
    await page.goto(f"{base}/items/{laptop}")
    erasure = await page.locator("#erasure").inner_text()
    assert "Un effacement réussi est enregistré pour chacun de ses disques" in erasure
    assert "effacement prouvé par ses enregistrements" in await page.locator("main").inner_text()
    await page.goto(base + "/")
    tile = page.locator("a[href='/items?state=erased']")
    assert re.sub(r"\D", "", await tile.locator(".figure").inner_text()) == "1"

    # The workshop's bulk form: no "Effacé" step; forced from an old page, it is refused in French.
    await page.goto(base + "/workshop")
    assert await page.locator("#ws-move option[value='erased']").count() == 0
    for tag in ("MLN-000002", "MLN-000003"):
        await page.locator("tr", has_text=tag).locator("input[name=item_id]").check()
    await page.evaluate("""() => { const s = document.querySelector('#ws-move');
        s.add(new Option('Effacé', 'erased')); s.value = 'erased'; }""")  # fmt: skip
    async with page.expect_navigation():
        await page.locator("button[name=action][value=step]").click()
    refusal = await page.locator("main").inner_text()
    assert "« Effacé » ne se coche pas à la main" in refusal and "Rien n’a été enregistré" in refusal
    await shoot(page, "workshop-erased-refused")
    assert states(data)["MLN-000002"] == states(data)["MLN-000003"] == "received"

    # An operating system for a laptop and a keyboard together: refused, the keyboard named.
    await page.goto(base + "/workshop")
    for tag in ("MLN-000002", "MLN-000004"):
        await page.locator("tr", has_text=tag).locator("input[name=item_id]").check()
    await page.select_option("#ws-move", "refurbished")
    await page.locator("details.ws-more > summary").click()  # grade, system and note fold away (phone layout)
    await page.fill("#ws-os", "Linux Mint")
    async with page.expect_navigation():
        await page.locator("button[name=action][value=step]").click()
    refusal = await page.locator("main").inner_text()
    assert "Matériels sans système d’exploitation : MLN-000004" in refusal
    assert states(data)["MLN-000002"] == states(data)["MLN-000004"] == "received"

    # The keyboard's page: no erasure, no disk to take out, no OS field.
    await page.goto(f"{base}/items/{keyboard}")
    actions = page.locator("#actions")
    assert await actions.locator("a", has_text="Enregistrer son effacement").count() == 0
    assert await actions.locator("form[action$='/storage-removal']").count() == 0
    assert await actions.locator("input[name=os]").count() == 0
    assert await actions.locator("button[name=move][value='refurbished']").count() == 1
    await shoot(page, "item-keyboard-steps")
    await context.close()
