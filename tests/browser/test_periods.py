"""A period is chosen from a list written in French, and the page then names it in words."""

from __future__ import annotations

import pytest
from browsertools import login, shoot

pytestmark = pytest.mark.browser


async def test_the_statistics_period_is_chosen_from_a_french_list(live_node, browser):
    base, _ = live_node
    page = await browser.new_page(locale="fr-FR")
    await login(page, base, "admin")
    await page.goto(base + "/reports")
    waste = page.locator("#waste-period")
    assert await waste.evaluate("e => e.tagName") == "SELECT"  # chosen, never typed
    assert (await waste.locator("option").first.inner_text()) == "toutes les sorties"
    await page.goto(base + "/reports/stats")
    choices = page.locator("#period")
    names = await choices.locator("option").all_inner_texts()
    assert any(name.endswith("trimestre " + name.split()[-1]) and name[0].isdigit() for name in names)
    quarter = next(name for name in names if name.startswith("3e trimestre"))
    await choices.select_option(label=quarter)
    await page.get_by_role("button", name="Afficher les chiffres").click()
    await page.wait_for_url("**/reports/stats?period=*-Q3")
    assert quarter in await page.get_by_role("heading", level=1).first.inner_text()
    month = next(name for name in await page.locator("#period option").all_inner_texts() if name.startswith("novembre"))
    await page.locator("#period").select_option(label=month)
    await page.get_by_role("button", name="Afficher les chiffres").click()
    await page.wait_for_url("**/reports/stats?period=*-11")
    assert month in await page.get_by_role("heading", level=1).first.inner_text()
    await shoot(page, "stats-period")
    await page.close()
