"""The browser reaches the node: login page, dashboard, French by default."""

from __future__ import annotations

import pytest
from browsertools import login, shoot

pytestmark = pytest.mark.browser


async def test_login_and_dashboard(live_node, browser):
    base, _ = live_node
    page = await browser.new_page(locale="fr-FR")
    await page.goto(base + "/items")
    assert page.url.startswith(base + "/login")
    await shoot(page, "login")
    await login(page, base, "admin")
    assert await page.get_by_role("heading", level=1).first.inner_text() == "Tableau de bord"
    await shoot(page, "dashboard")
    await page.goto(base + "/federation")
    assert await page.get_by_role("heading", level=1).first.inner_text() == "Fédération"
    await shoot(page, "federation")
    await page.goto(base + "/handoffs")
    assert await page.get_by_role("heading", level=1).first.inner_text() == "Cessions de lots"
    await shoot(page, "handoffs")
    await page.close()
