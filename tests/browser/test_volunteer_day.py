"""A volunteer's day in a real browser, against a real node process.

Log in, create a donor and a lot, receive 10 items, print their labels,
open an item by its label URL, record its tests, import an nwipe log,
distribute one item at a solidarity price, recycle one, download the donor
report; and the refusals: a form without its CSRF token, a read-only
account trying to write, a script typed in a model name shown as text.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from browsertools import PASSWORD, login, shoot

pytestmark = pytest.mark.browser
NWIPE_LOG = Path(__file__).parents[1] / "node" / "imports" / "fixtures" / "nwipe-shredos-example.log"
XSS_MODEL = "<script>alert('xss')</script>Latitude"


def items_of(data: Path) -> list[tuple[int, str, str]]:
    db = sqlite3.connect(data / "node.db")
    try:
        return db.execute("SELECT id, gid, state FROM items ORDER BY id").fetchall()
    finally:
        db.close()


async def submit(page, form_selector: str) -> None:
    """Click the submit button of one form and wait for the page it leads to."""
    async with page.expect_navigation():
        await page.locator(f"{form_selector} button[type=submit]").first.click()


async def test_a_volunteers_day(live_node, browser):
    base, data = live_node
    context = await browser.new_context(locale="fr-FR", accept_downloads=True)
    page = await context.new_page()
    dialogs: list[str] = []

    async def answer(dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.accept()

    page.on("dialog", answer)
    await login(page, base, "tech")

    # A donor and its lot.
    await page.goto(base + "/donors/new")
    await page.fill("form[action='/donors'] [name=name]", "Région Bretagne")
    await page.select_option("form[action='/donors'] [name=type]", "public_body")
    await submit(page, "form[action='/donors']")
    await page.goto(base + "/lots/new")
    await page.fill("form[action='/lots'] [name=reference]", "REG-2026-01")
    await page.select_option("form[action='/lots'] [name=donor_id]", label="Région Bretagne")
    await page.fill("form[action='/lots'] [name=declared_units]", "10")
    await submit(page, "form[action='/lots']")
    assert "/lots/" in page.url
    lot_url = page.url.split("?")[0]
    await shoot(page, "lot")

    # Receive 10 items: create them in bulk, then count and weigh.
    bulk = "form[action$='/items']"
    await page.select_option(f"{bulk} [name=category]", "laptop")
    await page.fill(f"{bulk} [name=count]", "10")
    await page.fill(f"{bulk} [name=brand]", "Dell")
    await page.fill(f"{bulk} [name=model]", XSS_MODEL)
    await submit(page, bulk)
    reception = "form[action$='/reception']"
    await page.fill(f"{reception} [name=counted_units]", "10")
    await page.fill(f"{reception} [name=weighed_kg]", "22,5")
    await submit(page, reception)
    items = items_of(data)
    assert len(items) == 10 and all(state == "received" for _, _, state in items)

    # Print the lot's labels: the PDF the form asks for.
    lot_id = lot_url.rsplit("/", 1)[1]
    await page.goto(f"{base}/labels?lot_id={lot_id}")
    await shoot(page, "labels")
    query = await page.eval_on_selector("form[action='/labels.pdf']",
                                        "f => new URLSearchParams(new FormData(f)).toString()")  # fmt: skip
    labels = await context.request.get(f"{base}/labels.pdf?{query}")
    assert labels.status == 200 and (await labels.body()).startswith(b"%PDF")

    # Open an item by its label URL; the model's script is text, never run.
    first_id, first_gid, _ = items[0]
    await page.goto(f"{base}/i/{first_gid}")
    assert page.url.startswith(f"{base}/items/{first_id}")
    assert XSS_MODEL in await page.locator("main").inner_text()
    await shoot(page, "item")

    # Record its steps, two taps each on the phone.
    for move in ("sorted:refurbish", "tested", "ready"):
        async with page.expect_navigation():
            await page.locator(f"button[name=move][value='{move}']").first.click()
    assert items_of(data)[0][2] == "ready"

    # Import an nwipe log (preview, then confirm), and record this laptop's erasure.
    await page.goto(base + "/erasures")
    await page.check("input[name=kind][value=nwipe]")
    await page.set_input_files("form[action='/erasures/preview'] input[name=file]", str(NWIPE_LOG))
    await submit(page, "form[action='/erasures/preview']")
    await shoot(page, "import-preview")
    await submit(page, "form[action='/erasures/import']")
    manual = "form[action='/erasures']"
    await page.fill(f"{manual} [name=asset_tag]", "MLN-000001")
    await page.fill(f"{manual} [name=method]", "PRNG Stream")
    await page.check(f"{manual} input[name=level][value=clear]")
    await page.fill(f"{manual} [name=tool]", "nwipe")
    await page.check(f"{manual} input[name=result][value=success]")
    await submit(page, manual)
    db = sqlite3.connect(data / "node.db")
    assert db.execute("SELECT count(*) FROM erasures WHERE item_id IS NULL").fetchone()[0] == 2  # the log's disks
    assert db.execute("SELECT count(*) FROM erasures WHERE item_id = ?", (first_id,)).fetchone()[0] == 1
    db.close()

    # Distribute it to a person at a solidarity price.
    await page.goto(base + "/beneficiaries/new")
    await page.select_option("form[action='/beneficiaries'] [name=category]", "person")
    await page.fill("form[action='/beneficiaries'] [name=referrer]", "CCAS de Rennes")
    await submit(page, "form[action='/beneficiaries']")
    await page.goto(f"{base}/distribute?item_id={first_id}")
    await page.select_option("form[method=get][action='/distribute'] [name=beneficiary_id]", index=1)
    await page.fill("form[method=get][action='/distribute'] [name=price]", "120")
    async with page.expect_navigation():  # "check" (the form's first button searches the beneficiaries)
        await page.locator("form[method=get][action='/distribute'] button[name=check]").click()
    await shoot(page, "distribute")
    await submit(page, "form[method=post][action='/distribute']")
    db = sqlite3.connect(data / "node.db")
    assert db.execute("SELECT price_cents FROM distributions").fetchall() == [(12000,)]
    db.close()

    # Recycle another one: its disk destroyed first (nothing that may hold data goes to recycling otherwise).
    second_id = items[1][0]
    await page.goto(f"{base}/items/{second_id}")
    async with page.expect_navigation():
        await page.locator("button[name=move][value='sorted:recycle']").click()
    async with page.expect_navigation():
        await page.locator(f"form[action='/items/{second_id}/storage-removal'] button[name=destroyed][value='1']").click()
    assert dialogs == ["Enregistrer que le disque de ce matériel a été détruit ?"]  # asked before it is recorded
    dialogs.clear()
    await page.goto(f"{base}/recycle?item_id={second_id}")
    outflow = "form[method=post][action='/recycle']"
    await page.check(f"{outflow} input[name=item_id][value='{second_id}']")
    await page.fill(f"{outflow} [name=recipient]", "Ecologic")
    await page.fill(f"{outflow} [name=waste_code]", "16 02 14")
    await page.fill(f"{outflow} [name=treatment]", "R4")
    await submit(page, outflow)
    assert items_of(data)[1][2] == "recycled"

    # Download the donor report.
    await page.goto(base + "/reports")
    await page.select_option("form[action='/reports/donor'] [name=donor_id]", label="Région Bretagne")
    async with page.expect_download() as download_info:
        await page.locator("form[action='/reports/donor'] button[type=submit]").click()
    report = await (await download_info.value).path()
    assert Path(report).read_bytes().startswith(b"%PDF")
    await page.goto(base + "/reports/stats?period=2026")
    await shoot(page, "stats")
    await page.goto(base + "/")
    await shoot(page, "dashboard-with-data")
    assert dialogs == []  # no script ever ran
    await context.close()


async def test_refusals(live_node, browser):
    base, data = live_node
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await login(page, base, "tech")
    before = sqlite3.connect(data / "node.db").execute("SELECT count(*) FROM donors").fetchone()[0]
    # A form posted without its CSRF token (as another site would) is refused.
    forged = await context.request.post(base + "/donors", form={"name": "Faux", "type": "company"})
    assert forged.status == 403
    await context.close()

    # A read-only account sees no forms to write, and its posts are refused.
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await login(page, base, "lecteur")
    await page.goto(base + "/donors/new")
    assert await page.locator("form[action='/donors']").count() == 0
    csrf = await page.locator("input[name=_csrf]").first.get_attribute("value")
    refused = await context.request.post(base + "/donors", form={"_csrf": csrf, "name": "X", "type": "company"})
    assert refused.status == 403
    after = sqlite3.connect(data / "node.db").execute("SELECT count(*) FROM donors").fetchone()[0]
    assert after == before
    # ... but it logs out, like every account (on a shared workshop computer above all)
    await page.goto(base + "/")
    await page.locator("form[action='/logout'] button").click()
    await page.wait_for_url(base + "/login")
    await page.goto(base + "/")
    assert page.url.startswith(base + "/login")
    await context.close()

    # Another site cannot post the login form: the form's token comes with the page, from the node.
    context = await browser.new_context(locale="fr-FR")
    forged = await context.request.post(base + "/login", form={"username": "tech", "password": PASSWORD,
                                                               "next": "/"}, max_redirects=0)  # fmt: skip
    assert forged.status == 403
    assert "maillon_session" not in {cookie["name"] for cookie in await context.cookies()}
    await context.close()
