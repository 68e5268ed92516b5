"""A donor checks a report in Chromium, with no account, on a node before its first setup (issue 16).

The bundle is a real one: the node signs a donor report of a lot it
erased and partly distributed (``maillon export donor-report``). The page
verifies it in the browser (``static/verify.js``); then tampered bundles:
one byte changed, a hop removed, a fate swapped (the last two from
tests/vectors/custody.json, whose chain has three nodes).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

import pytest
from browsertools import MAILLON, free_port, maillon, require_chromium, running, shoot

pytestmark = pytest.mark.browser
VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "custody.json").read_text())


def _prepare(data: Path) -> None:
    """A donor's lot of three laptops: erased; one distributed to a school, two in stock."""
    from node.config import load_node
    from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
    from node.domain.distribution import DistributionInput, distribute
    from node.domain.donors import DonorInput, create_donor
    from node.domain.erasure import ErasureInput, record_erasure
    from node.domain.items import ItemInput, create_items
    from node.domain.lots import LotInput, create_lot
    from node.domain.workflow import move_items
    from node.store.database import Store

    async def go() -> None:
        node = load_node(data)
        store = await Store.open(node.db_path, node.key)
        try:
            async with store.transaction() as tx:
                donor = await create_donor(tx, DonorInput(name="Préfecture du Finistère", type="public_body"))
                lot = await create_lot(tx, LotInput(reference="ETAT-29", donor_id=donor, declared_units=3))
                ids = await create_items(tx, lot, [ItemInput(category="laptop", serial=f"PF29-{n}") for n in range(3)])
                for item_id in ids:
                    await record_erasure(tx, ErasureInput(item_id=item_id, method="PRNG stream", level="purge",
                                                          tool="nwipe", result="success", disk_serial=f"WD{item_id}"))  # fmt: skip
                school = await create_beneficiary(tx, BeneficiaryInput(category="school"))
                await move_items(tx, ids[:1], "ready")
                await distribute(tx, ids[:1], DistributionInput(beneficiary_id=school))
        finally:
            await store.close()

    asyncio.run(go())


@pytest.fixture(scope="module")
def fresh_node(tmp_path_factory):
    """A node with a signed donor report and no account yet; yields its URL, the bundle and the fingerprint."""
    require_chromium()
    root = tmp_path_factory.mktemp("verify")
    data, port = root / "node", free_port()
    maillon("init", "--data", str(data), "--name", "Ordi Grand Ouest", "--port", str(port))
    _prepare(data)
    pdf = root / "rapport.pdf"
    out = subprocess.run([*MAILLON, "export", "--data", str(data), "donor-report", "--lot", "ETAT-29", "--out", str(pdf)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    fingerprint = subprocess.run([*MAILLON, "record", "verify", str(pdf.with_suffix(".mlnbundle"))], capture_output=True,
                                 text=True).stdout.split("fingerprint=")[1].split()[0]  # fmt: skip
    assert "3 items" in out
    with running(data, port) as base:
        yield base, pdf.with_suffix(".mlnbundle"), fingerprint, root


async def check(page, base: str, path: Path) -> str:
    await page.goto(base + "/verify")
    await page.set_input_files("#bundle-file", str(path))
    verdict = page.locator("#verdict")
    await verdict.wait_for(timeout=30_000)
    return await verdict.get_attribute("data-verdict")


async def test_a_donor_checks_a_real_report_in_the_browser(fresh_node, browser):
    base, bundle, fingerprint, root = fresh_node
    page = await browser.new_page(locale="fr-FR")
    await page.goto(base + "/verify")
    assert page.url == base + "/verify"  # no login, no first-setup redirect
    assert await page.get_by_role("heading", level=1).inner_text() == "Vérifier un rapport au donateur"
    assert await page.locator("#server-fingerprint").inner_text() == fingerprint
    assert await check(page, base, bundle) == "ok"
    text = await page.locator("#result").inner_text()
    assert "Tous les maillons tiennent : 3 appareils vérifiés" in text and fingerprint in text
    rows = page.locator("#items tbody tr")
    assert await rows.count() == 3
    fates = sorted([await rows.nth(n).get_attribute("data-fate") for n in range(3)])
    assert fates == ["distributed", "in_stock", "in_stock"]
    distributed = await page.locator("#items tr[data-fate=distributed]").inner_text()
    assert "distribué (réemploi, établissement scolaire)" in distributed  # one bracket
    assert "purge · Flux pseudo-aléatoire (PRNG) · nwipe" in distributed  # the method as the PDF names it
    assert re.search(r"vérifiés dans ce navigateur en \d+,\d\d s", text)  # a decimal comma
    await shoot(page, "verify-ok")

    data = bytearray(bundle.read_bytes())
    data[len(data) * 2 // 3] ^= 0x01  # one byte of a record
    (root / "one-byte.mlnbundle").write_bytes(bytes(data))
    assert await check(page, base, root / "one-byte.mlnbundle") == "fail"
    problem = await page.locator("#problems li").first.inner_text()
    assert "concerne : PF29-" in problem and "_" not in problem  # the devices named, no raw code
    assert await page.locator("#items tr[data-broken=yes]").count() >= 1
    assert "preuve rompue" in await page.locator("#items tr[data-broken=yes]").first.inner_text()
    await shoot(page, "verify-one-byte")
    (root / "rapport-copie.mlnbundle").write_bytes((root / "rapport.pdf").read_bytes())  # the PDF, not its proof
    assert await check(page, base, root / "rapport-copie.mlnbundle") == "fail"
    assert "Ce fichier est le PDF du rapport, pas sa preuve" in await page.locator("#verdict").inner_text()
    for name in ("hop_removed", "fate_swapped"):
        vector = next(v for v in VECTORS["bundles"] if v["name"] == name)
        (root / f"{name}.mlnbundle").write_bytes(bytes.fromhex(vector["bundle"]))
        assert await check(page, base, root / f"{name}.mlnbundle") == "fail", name
        assert await page.locator("#problems li").count() >= 1
    text = await page.locator("#result").inner_text()
    assert "une déclaration modifiée après sa signature" in text  # the fate swapped: its record no longer matches
    good = next(v for v in VECTORS["bundles"] if v["name"] == "good")
    (root / "good.mlnbundle").write_bytes(bytes.fromhex(good["bundle"]))
    assert await check(page, base, root / "good.mlnbundle") == "ok"
    two_hops = await page.locator("#items tr[data-fate=distributed]").inner_text()
    assert two_hops.count("→") == 2  # the chain of custody, link by link, to the member that did the work
    await page.close()
