"""The ``maillon`` command line, run as a user runs it."""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import weakref
from pathlib import Path

import pytest

from node.cli.main import freeze_startup_heap, main

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "records.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_log_verify_accepts_a_valid_export(tmp_path, capsys):
    path = tmp_path / "hub.log"
    path.write_bytes(bytes.fromhex(VECTORS["hub_log_export"]))
    assert main(["log", "verify", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [out[0]] and "valid=11" in out[0] and out[0].endswith("verdict=ok")


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_log_verify_names_each_problem(tmp_path, capsys, vector):
    path = tmp_path / "bad.log"
    path.write_bytes(bytes.fromhex(vector["log_export"]))
    args = ["log", "verify", str(path)]
    if vector["author"]:
        args += ["--author", vector["author"]]
    assert main(args) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert f"entry={len(vector['context'])} " in lines[0]
    assert f"reason={vector['reason']} " in lines[0]
    assert lines[1].startswith("summary ") and lines[1].endswith("verdict=fail")


@pytest.mark.parametrize("vector", VECTORS["log_exports"], ids=lambda v: v["name"])
def test_log_verify_prints_the_lines_of_the_vectors(tmp_path, capsys, vector):
    # PROTOCOL.md, "Log export": each problem line up to its reason, then the summary, exactly.
    path = tmp_path / "x.log"
    path.write_bytes(bytes.fromhex(vector["log_export"]))
    args = ["log", "verify", str(path)] + (["--author", vector["author"]] if vector["author"] else [])
    assert main(args) == (1 if vector["problems"] else 0)
    *problems, summary = capsys.readouterr().out.splitlines()
    assert [line.split(" reason=")[0] + " reason=" + line.split(" reason=")[1].split(" ")[0] for line in problems] \
        == vector["problems"]
    assert summary == vector["summary"]


@pytest.mark.parametrize("vector", VECTORS["documents"]["valid"] + VECTORS["documents"]["invalid"],
                         ids=lambda v: v["name"])
def test_record_verify_follows_the_document_vectors(tmp_path, capsys, vector):
    path = tmp_path / "x.mlnrec"
    path.write_bytes(bytes.fromhex(vector["file"]))
    code = main(["record", "verify", str(path)])
    out = capsys.readouterr().out.splitlines()
    if "reason" in vector:
        assert code == 1 and out[0].startswith(f"problem reason={vector['reason']} ")
    else:
        assert code == 0 and out == [f"kind={vector['kind']} author={vector['author']} "
                                     f"fingerprint={vector['fingerprint']} seq={vector['seq']} time={vector['time']} "
                                     f"id={vector['id']} verdict=ok"]


def test_log_verify_bad_arguments(tmp_path, capsys):
    assert main(["log", "verify", str(tmp_path / "missing.log")]) == 2
    path = tmp_path / "x.log"
    path.write_bytes(bytes.fromhex(VECTORS["hub_log_export"]))
    assert main(["log", "verify", str(path), "--author", "nonsense"]) == 2
    assert "weak_key" in capsys.readouterr().err


def test_init_twice_fails_cleanly(tmp_path, capsys):
    assert main(["init", "--data", str(tmp_path), "--name", "Atelier"]) == 0
    assert "fingerprint:" in capsys.readouterr().out
    assert main(["init", "--data", str(tmp_path), "--name", "Autre"]) == 2
    assert "already holds a node" in capsys.readouterr().err


def test_run_serves_the_node_and_stops_on_sigint(tmp_path):
    port = free_port()
    assert main(["init", "--data", str(tmp_path), "--name", "Atelier du test", "--port", str(port)]) == 0
    process = subprocess.Popen(
        [sys.executable, "-c", "from node.cli.main import main; raise SystemExit(main())", "run", "--data", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        page = None
        for _ in range(100):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert page is not None and "Atelier du test" in page and "Empreinte" in page
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()


def test_the_started_heap_is_frozen_and_later_garbage_still_collected():
    class Cycle:
        pass

    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 10_000  # what this process loaded: out of the full collections' sight
        cycle = Cycle()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None  # what the node's work allocates after its start is collected as before
    finally:
        gc.unfreeze()
