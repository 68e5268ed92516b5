"""Issue 19 point 4 in a real browser: a distribution made last year, entered today.

A lot received in March 2024 and its screen go through the workshop's bulk
form with past days, then the distribution page: the date picker says
"Date (si ce n'est pas aujourd'hui)", takes no day after today, the check
repeats the day before the confirmation, and the past day is stored.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browsertools import login, shoot

from node.domain.happened import today as node_today  # the node's day (France), not the machine's

pytestmark = pytest.mark.browser


def one(data: Path, sql: str):
    db = sqlite3.connect(data / "node.db")
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


async def submit(page, selector: str, button: str = "button[type=submit]") -> None:
    async with page.expect_navigation():
        await page.locator(f"{selector} {button}").first.click()


async def test_a_past_distribution(live_node, browser):
    base, data = live_node
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await login(page, base, "tech")

    # A lot received on 1 March 2024, with one screen (no data to erase).
    await page.goto(base + "/lots/new")
    await page.fill("form[action='/lots'] [name=reference]", "ANC-2024")
    await page.fill("form[action='/lots'] [name=received_on]", "2024-03-01")
    await submit(page, "form[action='/lots']")
    bulk = "form[action$='/items']"
    await page.select_option(f"{bulk} [name=category]", "screen")
    await page.fill(f"{bulk} [name=count]", "1")
    await submit(page, bulk)
    screen = one(data, "SELECT id FROM items WHERE category = 'screen'")

    # Sorted and ready in March 2024, from the workshop's bulk form.
    step = "form[action^='/workshop/step']"
    for move, day in (("sorted:refurbish", "2024-03-04"), ("ready", "2024-03-08")):
        await page.goto(f"{base}/workshop")
        await page.check(f"#ws-item-{screen}")
        await page.select_option(f"{step} [name=move]", move)
        await page.locator("details.ws-more > summary").click()  # the date folds away with grade, system, note
        await page.fill(f"{step} [name=happened_on]", day)
        await submit(page, step, "button[name=action][value=step]")
        assert "Étape enregistrée" in await page.content()

    await page.goto(base + "/beneficiaries/new")
    await page.select_option("form[action='/beneficiaries'] [name=category]", "person")
    await submit(page, "form[action='/beneficiaries']")

    # The distribution page.
    await page.goto(f"{base}/distribute?item_id={screen}")
    assert await page.get_by_label("Date (si ce n'est pas aujourd'hui)").get_attribute("max") == node_today().isoformat()
    check = "form[action='/distribute'][method=get]"
    await page.select_option(f"{check} [name=beneficiary_id]", index=1)
    # A day in the future: the browser itself keeps it (max = today); the server refuses it too (page tests).
    await page.fill(f"{check} [name=happened_on]", (node_today() + timedelta(days=3)).isoformat())
    assert await page.locator(f"{check} [name=happened_on]").evaluate("field => field.validity.rangeOverflow")
    assert await page.get_by_role("button", name="Confirmer la distribution").count() == 0

    await page.fill(f"{check} [name=happened_on]", "2024-03-20")
    await submit(page, check, "button[name=check]")
    assert "Remis le 20/03/2024." in await page.content()
    await shoot(page, "distribution-past-day")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Confirmer la distribution").click()
    assert "Distribution enregistrée" in await page.content()

    stored = one(data, f"SELECT time FROM distributions WHERE item_id = {screen}")
    assert datetime.fromtimestamp(stored / 1000, ZoneInfo("Europe/Paris")).date() == date(2024, 3, 20)
    assert one(data, f"SELECT state FROM items WHERE id = {screen}") == "distributed"
