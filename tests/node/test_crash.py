"""Crash tests: a node process killed (SIGKILL) mid-import loses nothing and half-writes nothing."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from node.cli.main import main

ROWS = 3000


@pytest.fixture
def node_dir(tmp_path, capsys):
    directory = tmp_path / "node"
    assert main(["init", "--data", str(directory), "--name", "Atelier"]) == 0
    sheet = tmp_path / "big.csv"
    lines = ["Catégorie;Marque;N° de série"] + [f"Portable;Dell;SN{n:06d}" for n in range(ROWS)]
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    return directory, sheet


def test_sigkill_during_imports_leaves_whole_imports_only(node_dir, request):
    directory, sheet = node_dir
    rounds = 12 if request.config.getoption("--full") else 4
    rng = random.Random(20261123)
    completed = 0
    for _ in range(rounds):
        process = subprocess.Popen(
            [sys.executable, "-c", "from node.cli.main import main; raise SystemExit(main())",
             "import", "--data", str(directory), "items", str(sheet)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        time.sleep(rng.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        completed += process.returncode == 0
        db = sqlite3.connect(directory / "node.db")
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            items = db.execute("SELECT count(*) FROM items").fetchone()[0]
            events = db.execute("SELECT count(*) FROM events").fetchone()[0]
            tags = db.execute("SELECT count(DISTINCT asset_tag) FROM items").fetchone()[0]
        finally:
            db.close()
        assert items % ROWS == 0, f"a killed import left {items % ROWS} items half-written"
        assert events == items == tags
    # The node still works after all those kills.
    assert main(["import", "--data", str(directory), "items", str(sheet)]) == 0
