"""Browser tests: a real node process on loopback, Debian's Chromium driven by Playwright.

Screenshots go to ``artifacts/screenshots/`` (git-ignored). Without
Chromium the tests are skipped on a developer's machine, but fail in CI
(where ``.ci/run`` installs it), so a broken install cannot pass unseen.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from browsertools import CHROMIUM, PASSWORD

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _maillon(*args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-c", "from node.cli import main; raise SystemExit(main())", *args],
                   input=stdin, text=True, check=True, capture_output=True)  # fmt: skip


@pytest.fixture(scope="module")
def live_node(tmp_path_factory):
    """A running node with three accounts: admin, tech (technician), lecteur (read-only)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed it")
        pytest.skip("Debian's chromium is not installed")
    data = tmp_path_factory.mktemp("browser") / "node"
    port = _free_port()
    _maillon("init", "--data", str(data), "--name", "Atelier Solidaire", "--port", str(port))
    for name, role in (("admin", "admin"), ("tech", "technician"), ("lecteur", "read_only")):
        _maillon("user", "add", "--data", str(data), name, "--role", role, stdin=PASSWORD + "\n")
    process = subprocess.Popen(
        [sys.executable, "-c", "from node.cli import main; raise SystemExit(main())", "run", "--data", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the node did not start: " + (process.stdout.read() if process.stdout else ""))
    yield base, data
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        await chromium.close()
