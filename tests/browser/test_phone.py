"""A phone (390 × 844) in Chromium, against real node processes: nothing cut on the right, a compact menu,
the workshop's bulk actions before its rows, and a beneficiary found among 511 by typing.

- Items, workshop and national pages: no table (nor the page) is wider than the screen: each table
  reads as cards, each cell headed by its column.
- The menu is one "Menu" button: the header stays small; it opens by tap, by keyboard, and
  without JavaScript (the #menu target).
- The workshop's step, distribute and recycle come before the rows, and stay in view while one
  scrolls down the list (sticky).
- The distribution page's beneficiary search: as one types (JavaScript), and with its button
  (without JavaScript).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from browsertools import PASSWORD, free_port, login, maillon, require_chromium, running, shoot
from playwright.async_api import expect
from test_network_figures import fill_national
from test_reception import accepted_offer

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
LONG_REFERENCE = "REGION-BRETAGNE-2026-LYCEES-DU-FINISTERE-NORD-PALETTE-12"
CATEGORIES = ("person", "association", "school", "ess", "other")

# Every table of the page against the screen: its right edge and its own width (hidden tables skipped).
OVERFLOWS = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  if (document.documentElement.scrollWidth > width) found.push(`page: ${document.documentElement.scrollWidth} > ${width}`);
  for (const table of document.querySelectorAll("main table")) {
    const box = table.getBoundingClientRect();
    if (box.width <= 1 || table.closest(".visually-hidden")) continue;
    if (box.right > width + 1 || table.scrollWidth > table.clientWidth + 1) {
      found.push(`${(table.caption && table.caption.textContent.trim()) || "table"}: right ${box.right}, ${table.scrollWidth} wide, screen ${width}`);
    }
  }
  return found;
}"""


async def fill_workshop(data: Path) -> None:
    """A lot of 60 laptops with long names (as the donor's inventory writes them), 511 beneficiaries."""
    from node.config import load_node
    from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
    from node.domain.donors import DonorInput, create_donor
    from node.domain.items import ItemInput, create_items
    from node.domain.lots import LotInput, create_lot
    from node.store.database import Store

    node = load_node(data)
    store = await Store.open(node.db_path, node.key)
    try:
        async with store.transaction() as tx:
            donor = await create_donor(tx, DonorInput(name="Région Bretagne, direction des lycées", type="public_body"))
            lot = await create_lot(tx, LotInput(reference=LONG_REFERENCE, donor_id=donor, declared_units=60))
            await create_items(tx, lot, [ItemInput(
                category="laptop", brand="Hewlett-Packard", model="EliteBook 840 G5 Notebook PC avec station d'accueil",
                serial=f"5CG8{n:06d}XYZ-ABCDEFGHIJ", weight_g=1800) for n in range(60)])  # fmt: skip
            referrers = ("CCAS de Rennes", "Secours populaire", "École Jules Ferry", "Mission locale de Brest")
            for n in range(511):
                await create_beneficiary(tx, BeneficiaryInput(category=CATEGORIES[n % 5], referrer=referrers[n % 4]))
    finally:
        await store.close()


def start(tmp_path_factory, name: str, role: str, fill) -> tuple[Path, int]:
    require_chromium()
    data = tmp_path_factory.mktemp(role) / "node"
    port = free_port()
    maillon("init", "--data", str(data), "--name", name, "--role", role, "--port", str(port))
    for user, user_role in (("admin", "admin"), ("tech", "technician")):
        maillon("user", "add", "--data", str(data), user, "--role", user_role, stdin=PASSWORD + "\n")
    asyncio.run(fill(data))
    return data, port


@pytest.fixture(scope="module")
def workshop_node(tmp_path_factory):
    data, port = start(tmp_path_factory, "Atelier Solidaire du Pays de Morlaix", "member", fill_workshop)
    with running(data, port) as base:
        yield base


@pytest.fixture(scope="module")
def national_node(tmp_path_factory):
    data, port = start(tmp_path_factory, "Fédération", "national", fill_national)
    with running(data, port) as base:
        yield base


async def phone(browser, base: str, user: str = "tech", *, javascript: bool = True):
    context = await browser.new_context(locale="fr-FR", viewport=PHONE, java_script_enabled=javascript)
    page = await context.new_page()
    await login(page, base, user)
    return context, page


async def test_no_table_is_cut_on_the_right_on_a_phone(workshop_node, national_node, browser):
    context, page = await phone(browser, workshop_node)
    for path in ("/items", "/workshop", "/lots", "/beneficiaries", "/"):
        await page.goto(workshop_node + path)
        assert await page.evaluate(OVERFLOWS) == [], path
    await page.goto(workshop_node + "/items")
    await shoot(page, "phone-items")  # (leaves the page at desktop width)
    await page.set_viewport_size(PHONE)
    # a row is a card: its cells stacked, each named by its column
    first = page.locator("main table tbody tr").first
    serial = first.locator("td[data-label='Numéro de série']")
    assert "5CG8" in await serial.inner_text()
    assert await page.evaluate("(cell) => getComputedStyle(cell, '::before').content", await serial.element_handle()) \
        == '"Numéro de série : "'
    await context.close()

    context, page = await phone(browser, national_node, "admin")
    await page.goto(national_node + "/national")
    assert await page.evaluate(OVERFLOWS) == []
    total = page.locator("table.by-hub tfoot tr td[data-label*='ordinateur portable']").first
    assert await total.is_visible()
    await context.close()


async def test_the_menu_is_one_button_that_opens_by_tap_keyboard_or_without_javascript(workshop_node, browser):
    context, page = await phone(browser, workshop_node)
    header = page.locator("header.top")
    toggle = page.locator(".menu-toggle")
    menu = page.locator("#menu nav")
    assert (await header.bounding_box())["height"] <= 80  # one line: the name and "Menu"
    assert not await menu.is_visible() and await toggle.get_attribute("aria-expanded") == "false"
    await toggle.click()
    assert await menu.is_visible() and await toggle.get_attribute("aria-expanded") == "true"
    for name in ("Scanner", "Distribuer", "Recycler", "Atelier"):
        assert await menu.get_by_role("link", name=name, exact=True).is_visible()
    await page.keyboard.press("Escape")
    assert not await menu.is_visible() and await toggle.get_attribute("aria-expanded") == "false"
    # by keyboard alone: Tab to it, Enter opens, the first entry has the focus
    await toggle.focus()
    await page.keyboard.press("Enter")
    assert await menu.is_visible()
    assert await page.evaluate("document.activeElement.textContent") == "Accueil"
    await page.keyboard.press("Escape")
    await toggle.focus()
    await page.keyboard.press("Space")
    assert await menu.is_visible()
    await page.locator(".menu-close").click()
    assert not await menu.is_visible()
    await context.close()

    context, page = await phone(browser, workshop_node, javascript=False)
    menu = page.locator("#menu nav")
    assert not await menu.is_visible()
    await page.locator(".menu-toggle").click()  # a link to #menu: the :target opens it
    assert await menu.is_visible()
    await page.locator(".menu-close").click()
    assert not await menu.is_visible()
    await context.close()


async def test_the_workshops_bulk_actions_come_before_the_rows_and_stay_in_view(workshop_node, browser):
    context, page = await phone(browser, workshop_node)
    await page.goto(workshop_node + "/workshop")
    bar = page.locator("fieldset.ws-bulk-bar")
    rows = page.locator("main table tbody tr")
    assert await rows.count() == 50
    assert (await bar.bounding_box())["y"] < (await rows.first.bounding_box())["y"]
    assert (await bar.bounding_box())["height"] < PHONE["height"] / 3
    await rows.nth(45).scroll_into_view_if_needed()
    box = await bar.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"]  # sticky: still on screen
    assert await page.get_by_role("button", name="Enregistrer cette étape pour les matériels cochés").is_visible()
    await shoot(page, "phone-workshop")
    await context.close()


async def test_a_beneficiary_is_found_by_typing_or_with_the_search_button(workshop_node, browser):
    context, page = await phone(browser, workshop_node)
    await page.goto(workshop_node + "/distribute?item_id=1")
    choices = page.locator("#ws-beneficiary option")
    assert await choices.count() == 201  # "Choisir…" and the newest 200
    await page.locator("#ws-beneficiary-q").press_sequentially("B-000042")
    await expect(choices).to_have_count(2)  # (the page's CSP forbids wait_for_function's eval)
    assert await page.locator("#ws-beneficiary").input_value() == "42"  # the only one found is chosen
    assert "1 bénéficiaire(s) trouvé(s)" in await page.locator("#ws-beneficiary-found").inner_text()
    await page.locator("#ws-beneficiary-q").fill("")
    await page.locator("#ws-beneficiary-q").press_sequentially("ecole")  # a category's word, without its accent
    await expect(choices).to_have_count(51)  # 50 at most: "add a word"
    texts = await choices.all_inner_texts()
    assert all("établissement scolaire" in text or "École Jules Ferry" in text for text in texts[1:])  # or referrer
    await page.locator("#ws-beneficiary-q").fill("mission brest")
    await expect(choices.nth(1)).to_contain_text("Mission locale de Brest")
    assert all(text.endswith("Mission locale de Brest") for text in (await choices.all_inner_texts())[1:])
    await shoot(page, "phone-beneficiary-search")
    await context.close()

    context, page = await phone(browser, workshop_node, javascript=False)
    await page.goto(workshop_node + "/distribute?item_id=1")
    await page.locator("#ws-beneficiary-q").fill("B-000042")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Rechercher").click()
    assert await page.locator("#ws-beneficiary option").count() == 2
    assert await page.locator("#ws-beneficiary").input_value() == "42"
    async with page.expect_navigation():
        await page.get_by_role("button", name="Vérifier avant de distribuer").click()
    assert await page.locator("#ws-beneficiary").input_value() == "42"  # kept through the check
    assert "Choisissez le bénéficiaire" not in await page.locator("main").inner_text()
    await context.close()


@pytest.fixture(scope="module")
def reception_node(tmp_path_factory):
    """A member that accepted its hub's offer of three laptops (tests/browser/test_reception.py)."""
    offers: list[str] = []

    async def fill(data: Path) -> None:
        offers.append((await accepted_offer(data)).hex())

    data, port = start(tmp_path_factory, "Atelier Solidaire", "member", fill)
    with running(data, port) as base:
        yield base, offers[0]


async def test_the_reception_ticks_every_line_with_one_tap_on_a_phone(reception_node, browser):
    """The table's header (and its « Arrivé » box) is hidden on a phone: a « Tout cocher » button is not."""
    base, offer = reception_node
    for javascript in (True, False):
        context, page = await phone(browser, base, javascript=javascript)
        await page.goto(f"{base}/handoffs/{offer}/reception")
        button = page.get_by_role("button", name="Tout cocher")
        box = await button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 40
        if javascript:
            await button.click()
        else:  # the button posts the form; the page comes back with every line ticked
            async with page.expect_navigation():
                await button.click()
        assert await page.locator("input[name=received]:checked").count() == 3
        assert "3 sur 3 coché(s)" in await page.locator("#tick-count").inner_text()
        await shoot(page, f"reception-tick-all-phone{'' if javascript else '-no-js'}")
        undo = page.get_by_role("button", name="Tout décocher")
        if javascript:
            await undo.click()
        else:
            async with page.expect_navigation():
                await undo.click()
        assert await page.locator("input[name=received]:checked").count() == 0
        await context.close()
