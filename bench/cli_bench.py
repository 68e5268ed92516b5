"""How long the command line takes to start, against a bare Python start-up in the same run.

A volunteer or a script calls ``maillon`` often: ``--help`` used to take
0.8 s on an idle machine (every command's module, pydantic, aiohttp...,
imported to build the parser), and importing 100 nwipe logs took 100 calls.

Measured, each the median of ``--rounds`` runs in a fresh process:

- the limit: ``python -c pass`` with the same interpreter (its site, the
  editable install's finder included);
- ``maillon --help``: goal <= 0.2 s;
- ``maillon settings --data DIR`` on a fresh node, a command whose work is
  tiny (open the database, read the settings): goal <= 0.5 s;
- 100 nwipe logs imported by one ``maillon import nwipe DIR`` call, against
  10 calls of one log each, scaled to 100 (the time a call per log costs).

    python bench/cli_bench.py [--rounds R]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from result_lines import print_result  # noqa: E402

SHREDOS = ROOT / "tests" / "node" / "imports" / "fixtures" / "nwipe-shredos-example.log"
HELP_GOAL = 0.2
COMMAND_GOAL = 0.5


def maillon() -> list[str]:
    """The console script beside this interpreter, as a person runs it; else the same through ``-c``."""
    script = Path(sys.executable).with_name("maillon")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from node.cli.main import main; raise SystemExit(main())"]


def seconds(argv: list[str], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def wipe_log(n: int) -> str:
    return (SHREDOS.read_text().replace("3FBJ6P2", f"PC{n:05d}").replace("WD-WXC1A14S2591", f"WD-{n:06d}")
            .replace("NS8BN06381120BD03", f"NS-{n:06d}"))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    cli = maillon()
    print(f"machine: {platform.system()} {platform.machine()}, Python {platform.python_version()}")
    bare = seconds([sys.executable, "-c", "pass"], args.rounds)
    help_ = seconds([*cli, "--help"], args.rounds)
    print(f"python -c pass:            {bare * 1000:7.1f} ms")
    print(f"maillon --help:            {help_ * 1000:7.1f} ms   {help_ / bare:.2f} x a bare start (goal <= 0.2 s)")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "node"
        subprocess.run([*cli, "init", "--data", str(data), "--name", "Bench"], check=True, capture_output=True)
        command = seconds([*cli, "settings", "--data", str(data)], args.rounds)
        print(f"maillon settings --data:   {command * 1000:7.1f} ms   {command / bare:.2f} x a bare start (goal <= 0.5 s)")
        logs = Path(tmp) / "logs"
        logs.mkdir()
        for n in range(100):
            (logs / f"nwipe_log_{n:03d}.txt").write_text(wipe_log(n))
        start = time.perf_counter()
        subprocess.run([*cli, "import", "--data", str(data), "nwipe", str(logs)], check=True, capture_output=True)
        one_call = time.perf_counter() - start
        single = Path(tmp) / "single"
        single.mkdir()
        start = time.perf_counter()
        for n in range(10):
            path = single / f"log{n}.txt"
            path.write_text(wipe_log(1000 + n))
            subprocess.run([*cli, "import", "--data", str(data), "nwipe", str(path)], check=True, capture_output=True)
        per_call = (time.perf_counter() - start) / 10
    print(f"100 nwipe logs, one call:  {one_call:7.2f} s")
    print(f"100 nwipe logs, 100 calls: {per_call * 100:7.2f} s (10 calls measured)   one call / 100 calls: "
          f"{one_call / (per_call * 100):.2f}")  # fmt: skip
    print_result("cli", "maillon --help / python -c pass", help_, "s", limit=bare, ratio=help_ / bare,
                 goal=f"<= {HELP_GOAL} s", ok=help_ <= HELP_GOAL)  # fmt: skip
    print_result("cli", "maillon settings / python -c pass", command, "s", limit=bare, ratio=command / bare,
                 goal=f"<= {COMMAND_GOAL} s", ok=command <= COMMAND_GOAL)  # fmt: skip
    print_result("cli", "import 100 nwipe logs: one call / 100 calls", one_call, "s", limit=per_call * 100,
                 ratio=one_call / (per_call * 100))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
