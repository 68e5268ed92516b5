"""Real ``maillon`` node processes on loopback, each with its own data directory and SQLite file.

The federation tests drive them through the CLI and HTTP and read their
databases read-only, as an admin would; nothing is shared in memory.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

from node.config import load_node
from node.store.database import Store

CLI = [sys.executable, "-c", "from node.cli.main import main; raise SystemExit(main())"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveNode:
    """One node: ``init`` at construction, then ``start``/``stop``/``kill``, CLI calls and read-only queries."""

    def __init__(self, root: Path, name: str, *, role: str = "member", reachable: bool = True) -> None:
        self.name = name
        self.data = root / name.lower().replace(" ", "-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        args = ["init", "--data", str(self.data), "--name", name, "--role", role, "--port", str(self.port)]
        if reachable:
            args += ["--url", self.url]
        out = self.cli(*args)
        self.fingerprint = out.split("fingerprint: ")[1].split()[0]
        self.node_id = out.split("node id:")[1].split()[0]
        self.log = self.data / "run.log"

    def cli(self, *args: str, check: bool = True, stdin: str | None = None) -> str:
        result = subprocess.run([*CLI, *args], input=stdin, text=True, capture_output=True, env=_env())
        if check and result.returncode != 0:
            raise AssertionError(f"maillon {' '.join(args)} failed ({result.returncode}): {result.stdout}{result.stderr}")
        return result.stdout + result.stderr

    def start(self) -> "LiveNode":
        handle = self.log.open("a")
        self.process = subprocess.Popen([*CLI, "run", "--data", str(self.data)], stdout=handle,
                                        stderr=subprocess.STDOUT, env=_env())  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1)
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise AssertionError(f"{self.name} did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as in a power cut."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        db = sqlite3.connect(f"file:{self.data / 'node.db'}?mode=ro", uri=True, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def value(self, sql: str, params: tuple = ()) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    @property
    def key(self) -> bytes:
        return self.value("SELECT author FROM log_records WHERE kind = 'node.descriptor/1' ORDER BY rowid LIMIT 1")

    def invite(self, role: str = "member") -> tuple[str, str]:
        """A fresh invitation: (token, the join command line)."""
        out = self.cli("invite", "--data", str(self.data), "--role", role)
        line = next(line.strip() for line in out.splitlines() if line.strip().startswith("maillon join"))
        return line.split("--token ")[1].split()[0], line

    def join(self, hub: "LiveNode") -> str:
        token, _ = hub.invite("hub" if self.value("SELECT 1") and self.role == "hub" else "member")
        return self.cli("join", "--data", str(self.data), hub.url, "--token", token, "--fingerprint", hub.fingerprint)

    @property
    def role(self) -> str:
        return (self.data / "node.toml").read_text().split('role = "')[1].split('"')[0]


def _env() -> dict[str, str]:
    env = dict(os.environ, MAILLON_FEDERATION_FAST="1", MAILLON_DISCOVERY="off", PYTHONUNBUFFERED="1")
    return env


def wait_for(condition: Callable[[], Any], timeout: float = 40.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def run(node: LiveNode, action: Callable[[Any], Any]) -> Any:
    """``action(tx)`` in one transaction on ``node``'s database, from this process, as the CLI and the pages do."""

    async def go():
        loaded = load_node(node.data)
        store = await Store.open(loaded.db_path, loaded.key)
        try:
            async with store.transaction() as tx:
                return await action(tx)
        finally:
            await store.close()

    return asyncio.run(go())
