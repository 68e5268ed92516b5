"""The workshop station in a real browser, against a real node process.

A station is registered with ``maillon station add``; ``maillon-probe``,
fetched from the node, runs as its own process from a laptop's outputs and
uploads them; the volunteer opens the ``Poste d'atelier`` page, sees the
machine with what it still lacks, prints its label; an nwipe log for its
disk arrives and the erasure proof is no longer missing; the admin
registers a second station and changes the grade thresholds.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from browsertools import MAILLON, login, shoot

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).parents[1] / "node" / "imports" / "fixtures"
NWIPE_LOG = FIXTURES / "nwipe-shredos-example.log"


def station(data: Path, base: str, name: str) -> tuple[str, str]:
    """Register a station with the CLI; its probe and ShredOS upload URLs."""
    out = subprocess.run([*MAILLON, "station", "add", "--data", str(data), name, "--url", base], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    probe = re.search(r"python3 - (\S+/upload/probe/\S+)", out)[1]
    shredos = re.search(r"http_post_url=(\S+)", out)[1]
    return probe, shredos


async def test_a_machine_on_the_bench(live_node, browser, tmp_path):
    base, data = live_node
    upload, shredos = station(data, base, "etabli-1")
    probe = tmp_path / "maillon-probe"
    probe.write_bytes(urllib.request.urlopen(base + "/station/probe", timeout=10).read())
    done = subprocess.run([sys.executable, str(probe), upload, "--from", str(FIXTURES / "station" / "dell-latitude-5490"),
                           "--no-local"], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    tag = re.search(r"Nouveau matériel (MLN-\d+)", done.stdout)[1]

    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await login(page, base, "tech")
    await page.get_by_role("link", name="Poste d’atelier").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "Poste d’atelier"
    row = page.get_by_role("row").filter(has_text=tag)
    assert "Latitude 5490" in await row.inner_text()
    missing = await row.locator(".st-missing").inner_text()
    assert "preuve d’effacement" in missing and "tests" in missing and "installation du système" in missing
    assert "/upload/probe/POSTE/JETON" in await page.locator("#st-python").inner_text()
    await shoot(page, "station-bench")

    label = row.get_by_role("link", name="Imprimer l’étiquette")
    href = await label.get_attribute("href")
    assert "format=roll" in href and "field=serial" in href
    pdf = await page.request.get(base + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"

    # The machine's disk is wiped on a ShredOS station: its log names the disk the probe found.
    log = NWIPE_LOG.read_text().replace("WD-WXC1A14S2591", "S3TANX0K312456").replace("3FBJ6P2", "OTHER42")
    request = urllib.request.Request(shredos, data=log.encode(), method="PUT")
    assert urllib.request.urlopen(request, timeout=30).status == 200
    await page.reload()
    missing = await page.get_by_role("row").filter(has_text=tag).locator(".st-missing").inner_text()
    assert "preuve d’effacement" not in missing and "tests" in missing

    # Tested and reinstalled from its page: nothing is missing, and it is marked ready from the bench.
    await row.get_by_role("link", name=tag).click()
    for step in ("tested", "refurbished"):
        async with page.expect_navigation():
            await page.locator(f"form[action$='/step'] button[name=move][value={step}]").first.click()
    await page.goto(base + "/station")
    row = page.get_by_role("row").filter(has_text=tag)
    assert "Rien ne manque" in await row.inner_text()
    async with page.expect_navigation():
        await row.get_by_role("button", name="Le passer « prêt »").click()
    await page.goto(base + "/station")
    assert "prêt" in await page.get_by_role("row").filter(has_text=tag).locator(".st-missing").inner_text()

    # The admin registers a second station and asks more of batteries.
    await page.context.clear_cookies()
    await login(page, base, "admin")
    await page.goto(base + "/station")
    await page.get_by_label("Nom du nouveau poste").fill("etabli-2")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Enregistrer le poste").click()
    assert "Le poste etabli-2 est enregistré" in await page.locator("main").inner_text()
    assert "/upload/probe/etabli-2/" in await page.locator("#st-python").inner_text()
    await shoot(page, "station-registered")
    await page.get_by_role("link", name="Seuils des grades et format d’étiquette").click()
    for grade, percent in (("A", "95"), ("B", "90"), ("C", "80")):
        await page.get_by_label(f"État de la batterie pour le grade {grade} (au moins, en %)").fill(percent)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Enregistrer").click()
    assert "Les réglages sont enregistrés." in await page.locator("main").inner_text()
    await shoot(page, "station-settings")
    again = subprocess.run([sys.executable, str(probe), upload, "--from", str(FIXTURES / "station" / "dell-latitude-5490"),
                            "--no-local"], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert f"{tag} mis à jour" in again.stdout and "Grade proposé : D" in again.stdout
    await context.close()
