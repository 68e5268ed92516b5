"""Browser tests: a real node process on loopback, Debian's Chromium driven by Playwright.

Screenshots go to ``artifacts/screenshots/`` (git-ignored). Without
Chromium the tests are skipped on a developer's machine, but fail in CI
(where ``.ci/run`` installs it), so a broken install cannot pass unseen.
"""

from __future__ import annotations

import pytest
from browsertools import CHROMIUM, PASSWORD, free_port, maillon, require_chromium, running

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip


@pytest.fixture(scope="module")
def live_node(tmp_path_factory):
    """A running node with three accounts: admin, tech (technician), lecteur (read-only)."""
    require_chromium()
    data = tmp_path_factory.mktemp("browser") / "node"
    port = free_port()
    maillon("init", "--data", str(data), "--name", "Atelier Solidaire", "--port", str(port))
    for name, role in (("admin", "admin"), ("tech", "technician"), ("lecteur", "read_only")):
        maillon("user", "add", "--data", str(data), name, "--role", role, stdin=PASSWORD + "\n")
    with running(data, port) as base:
        yield base, data


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        await chromium.close()
