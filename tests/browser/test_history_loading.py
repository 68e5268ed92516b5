"""Loading a year of history in a real browser, against a real node process (issue 19).

Upload a sheet from the items page, see the preview (the columns as read,
one changed and previewed again, the unknown value beside the accepted
ones, the rows left out), confirm, follow the link to the new items, and
see the figures of the past year count them, not the current year's.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from browsertools import login, shoot

from node.domain.happened import today as node_today  # the node's day (France), not the machine's

pytestmark = pytest.mark.browser

SHEET = ("Lot;Donateur;Date de réception;Catégorie;Marque;Modèle;N° de série;Effacement;Devenir;Date de sortie;"
         "Bénéficiaire;Prix;Remarque\n"
         "H23-01;Préfecture;01/06/2023;Portable;Dell;Latitude E7470;SN-1;oui;Distribué;15/09/2023;Particulier;20;rayure\n"
         "H23-01;Préfecture;01/06/2023;Portable;Lenovo;T480;SN-2;oui;Distribué;20/09/2023;Association;;\n"
         "H23-01;Préfecture;01/06/2023;Grille-pain;Moulinex;X;SN-3;;;;;;\n"
         "H23-01;Préfecture;01/06/2023;Écran;HP;P22;SN-4;;Recyclé;20/10/2023;;;\n"
         "H23-02;Mairie;03/07/2023;Tablette;Apple;iPad 6;SN-5;oui;;;;;à réparer\n")


def states(data: Path) -> dict[str, str]:
    db = sqlite3.connect(data / "node.db")
    try:
        return dict(db.execute("SELECT serial, state FROM items").fetchall())
    finally:
        db.close()


async def test_loading_a_year_of_history(live_node, browser, tmp_path):
    base, data = live_node
    sheet = tmp_path / "historique-2023.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await login(page, base, "tech")

    await page.goto(base + "/items")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Charger son historique (CSV ou XLSX)").click()
    await page.get_by_label("Tableur (CSV ou XLSX)").set_input_files(str(sheet))
    async with page.expect_navigation():
        await page.get_by_role("button", name="Voir l’aperçu de l’import").click()

    # The preview: nothing recorded; the unknown category listed with the accepted ones.
    summary = page.locator("#im-summary")
    assert "4 matériel(s) créé(s), 1 ligne(s) écartée(s)" in await summary.inner_text()
    unknown = page.locator("tr.im-unknown")
    assert "Grille-pain" in await unknown.inner_text() and "ordinateur portable" in await unknown.inner_text()
    assert "Ligne 4" in await page.locator("#im-skipped-list").inner_text()
    assert await page.locator("#im-rows-table tbody tr").count() == 4
    assert states(data) == {}
    await shoot(page, "history-preview")

    # The "Remarque" column is left out instead of kept as a note; the preview runs again with it.
    remark = page.get_by_label("Remarque")
    assert await remark.input_value() == "note"
    await remark.select_option("")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Relancer l'aperçu avec ces colonnes").click()
    assert await page.get_by_label("Remarque").input_value() == ""
    async with page.expect_navigation():
        await page.get_by_role("button", name="Confirmer l'import de 4 matériel(s)").click()

    # Done: links to the new items of each lot and to the figures of 2023.
    assert "4 matériel(s) créé(s)" in await page.locator("main").inner_text()
    await shoot(page, "history-done")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Les matériels du lot H23-01").click()
    listed = await page.locator("main").inner_text()
    assert "Latitude E7470" in listed and "T480" in listed and "iPad" not in listed
    # SN-5 was erased and kept: the erasure proof moves it to "erased" (on the day of its erasure)
    assert states(data) == {"SN-1": "distributed", "SN-2": "distributed", "SN-4": "recycled", "SN-5": "erased"}

    await page.goto(base + "/reports/stats?period=2023")
    # The first card: the items received in the period, its figure below its title.
    received_2023 = [line for line in (await page.locator(".card").first.inner_text()).splitlines() if line.strip()]
    assert received_2023[1] == "4", received_2023
    await page.goto(base + f"/reports/stats?period={node_today().year}")
    received_now = [line for line in (await page.locator(".card").first.inner_text()).splitlines() if line.strip()]
    assert received_now[1] == "0", received_now
    await shoot(page, "history-stats-now")
    await context.close()
