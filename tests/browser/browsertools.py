"""Helpers of the browser tests (imported by name: tests have no packages)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "screenshots"
PASSWORD = "un mot de passe solide"


async def login(page, base: str, username: str) -> None:
    await page.goto(base + "/login")
    await page.get_by_label("Nom d'utilisateur").fill(username)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(base + "/")


async def shoot(page, name: str) -> None:
    """Save a screenshot of the page at phone and desktop widths."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for label, width, height in (("phone", 390, 844), ("desktop", 1366, 900)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)

