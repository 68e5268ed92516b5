"""Helpers of the browser tests (imported by name: tests have no packages)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "screenshots"
PASSWORD = "un mot de passe solide"
MAILLON = [sys.executable, "-c", "from node.cli.main import main; raise SystemExit(main())"]


def require_chromium() -> None:
    """Skip on a developer's machine without Chromium; fail in CI, where ``.ci/run`` installs it."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed it")
        pytest.skip("Debian's chromium is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def maillon(*args: str, stdin: str | None = None) -> None:
    subprocess.run([*MAILLON, *args], input=stdin, text=True, check=True, capture_output=True)


@contextmanager
def running(data: Path, port: int) -> Iterator[str]:
    """``maillon run`` on ``data`` (initialised to listen on ``port``) until the block ends; yields its URL."""
    process = subprocess.Popen([*MAILLON, "run", "--data", str(data)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
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
    try:
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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

