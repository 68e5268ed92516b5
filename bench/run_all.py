"""Run every benchmark and write one markdown table of their ratios: ``bench/RESULTS.md``.

Each ``bench/*_bench.py`` runs in its own process (``sys.executable``), one
after the other, its human report shown as it goes. The ``RESULT`` lines it
prints at its end (``bench/result_lines.py``) become the rows of the table:
bench, measure, value, the limit measured in the same run, the ratio, the
goal and the verdict. The file starts with the machine the figures come
from. A bench that fails, or prints a malformed ``RESULT`` line, is listed
under "Failures" and makes the exit status 1; a missed goal does not.

    python bench/run_all.py [NAME ...] [--out FILE]      # NAME: national, federation_bench.py...
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from result_lines import MalformedResult, Result, markdown_table, parse_output  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"


@dataclass
class BenchRun:
    """One bench's run: its figures, and why some are missing (``error``) if so."""

    script: str
    seconds: float
    returncode: int
    results: list[Result] = field(default_factory=list)
    error: str | None = None


def collect(script: str, output: str, returncode: int, seconds: float = 0.0) -> BenchRun:
    """The figures of a bench's output; a malformed ``RESULT`` line, a failure or no figure is the run's error."""
    try:
        results = parse_output(output, script)
    except MalformedResult as exc:
        return BenchRun(script, seconds, returncode, [], str(exc))
    error = None
    if returncode != 0:
        error = f"{script} exited with status {returncode}"
    elif not results:
        error = f"{script} printed no RESULT line"
    return BenchRun(script, seconds, returncode, results, error)


def run_bench(path: Path) -> BenchRun:
    """Run one bench, echoing its output as it comes; its figures."""
    print(f"\n== {path.name} ==", flush=True)
    began = time.perf_counter()
    lines = []
    with subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, text=True, bufsize=1,
                          cwd=BENCH_DIR.parent) as process:  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    return collect(path.name, "".join(lines), process.returncode, time.perf_counter() - began)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=BENCH_DIR.parent, capture_output=True,
                             text=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def machine_description() -> dict[str, str]:
    """What the figures depend on: the machine, its load, the Python, the code, the date."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return {
        "platform": platform.platform(),
        "CPU": _cpu_model(),
        "cores": f"{os.cpu_count()} ({usable} usable by this process)",
        "RAM": _ram(),
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "load average at start": f"{os.getloadavg()[0]:.1f}",
    }


def render(machine: dict[str, str], runs: list[BenchRun]) -> str:
    """``RESULTS.md``: the machine, one table row per figure, the benches' times, the failures."""
    out = ["# Benchmark results", "",
           "Written by `make bench` (`bench/run_all.py`). Each ratio compares a figure with the hardware limit",
           "measured in the same run on this machine; each bench's docstring says what it measures.", "",
           "## Machine", ""]  # fmt: skip
    out += [f"- {name}: {value}" for name, value in machine.items()]
    out += ["", "## Results", "", markdown_table([r for run in runs for r in run.results]).rstrip("\n"), ""]
    out.append("Benches run: " + ", ".join(f"{run.script} ({run.seconds:.0f} s)" for run in runs) + ".")
    failed = [run for run in runs if run.error]
    if failed:
        out += ["", "## Failures", ""] + [f"- {run.error}" for run in failed]
    return "\n".join(out) + "\n"


def _scripts(names: list[str]) -> list[Path]:
    every = sorted(BENCH_DIR.glob("*_bench.py"))
    if not names:
        return every
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".py").removesuffix("_bench")
        path = BENCH_DIR / f"{stem}_bench.py"
        if path not in every:
            raise SystemExit(f"no bench {name!r}; there are: {', '.join(p.stem for p in every)}")
        chosen.append(path)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benches to run (default: every bench/*_bench.py)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where to write the table (default: {RESULTS})")
    args = parser.parse_args(argv)
    scripts = _scripts(args.names)
    machine = machine_description()
    runs = [run_bench(path) for path in scripts]
    text = render(machine, runs)
    args.out.write_text(text, encoding="utf-8")
    print(f"\n{text}\n(written to {args.out})")
    return 1 if any(run.error for run in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
