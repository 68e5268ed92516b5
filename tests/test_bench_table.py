"""The benches' RESULT lines and the table ``make bench`` writes from them (no real bench runs here but one smoke run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "bench"
sys.path.insert(0, str(BENCH))

from result_lines import MalformedResult, Result, parse_line, parse_output, result_line  # noqa: E402
from run_all import collect, machine_description, render  # noqa: E402

OUTPUT = """\
machine: Linux x86_64, 2 cpus
bare Ed25519 verify:                 15000 /s
open_entry (decode + verify):        13500 /s   ratio 0.900 (goal >= 0.85)
RESULT {"bench": "protocol", "measure": "open_entry / bare verify", "value": 13500, "unit": "records/s", \
"limit": 15000.0, "limit_unit": "verify/s", "ratio": 0.9, "goal": ">= 0.85", "ok": true}
RESULT {"bench": "protocol", "measure": "open_entry + body / bare verify", "value": 9000.0, "unit": "records/s", \
"limit": 15000.0, "limit_unit": "verify/s", "ratio": 0.6, "goal": null, "ok": null}
RESULT {"bench": "node", "measure": "idle node VmRSS", "value": 120.5, "unit": "MB", "limit": null, "ratio": null, \
"goal": "<= 100 MB", "ok": false}
"""


def test_result_lines_become_table_rows():
    run = collect("protocol_bench.py", OUTPUT, 0, 12.0)
    assert run.error is None
    assert [(r.bench, r.measure, r.value, r.limit, r.ratio, r.verdict) for r in run.results] == [
        ("protocol", "open_entry / bare verify", 13500.0, 15000.0, 0.9, "PASS"),
        ("protocol", "open_entry + body / bare verify", 9000.0, 15000.0, 0.6, "-"),
        ("node", "idle node VmRSS", 120.5, None, None, "MISS"),
    ]
    text = render({"CPU": "AMD EPYC", "cores": "2"}, [run])
    assert "- CPU: AMD EPYC" in text
    assert "| bench | measure | value | limit measured | ratio | goal | verdict |" in text
    assert "| protocol | open_entry / bare verify | 13500 records/s | 15000 verify/s | 0.900 | >= 0.85 | PASS |" in text
    assert "| node | idle node VmRSS | 120.5 MB |  |  | <= 100 MB | MISS |" in text
    assert "Failures" not in text


def test_a_line_printed_by_a_bench_reads_back_the_same():
    result = Result("national", "catch-up", 4154.0, "records/s", 14640.0, "verify/s", 0.2837, ">= 0.7", False)
    assert parse_line(result_line(result)) == result


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('RESULT {"bench": "ui", "measure": "item list", "value": 1.2, "unit": "ms"', "not JSON"),
        ('RESULT ["ui", 1.2]', "not a JSON object"),
        ('RESULT {"bench": "ui", "measure": "item list", "unit": "ms"}', "lacks value"),
        ('RESULT {"bench": "ui", "measure": "item list", "value": "fast", "unit": "ms"}', "'value' must be a number"),
        ('RESULT {"bench": "ui", "measure": "m", "value": 1, "unit": "ms", "goal": "<= 3"}', "no verdict"),
        ('RESULT {"bench": "ui", "measure": "m", "value": 1, "unit": "ms", "speed": 3}', "unknown fields: speed"),
        ('RESULT {"bench": "ui", "measure": "m", "value": 1, "unit": "ms", "ok": "yes"}', "'ok' must be a bool"),
        ('RESULT{"bench": "ui"}', "followed by a space"),
    ],
)
def test_a_malformed_line_is_refused_with_a_clear_error(line, says):
    with pytest.raises(MalformedResult, match=says):
        parse_output(f"human output\n{line}\n", "ui_bench.py")
    with pytest.raises(MalformedResult, match="ui_bench.py line 2"):
        parse_output(f"human output\n{line}\n", "ui_bench.py")


def test_a_bench_that_fails_or_says_nothing_is_listed_under_failures():
    malformed = collect("ui_bench.py", OUTPUT + "RESULT {oops}\n", 0)
    crashed = collect("handoff_bench.py", "Traceback (most recent call last):\n", 1)
    silent = collect("node_bench.py", "machine: ...\n", 0)
    assert malformed.results == [] and "ui_bench.py line 7: RESULT line is not JSON" in malformed.error
    assert crashed.error == "handoff_bench.py exited with status 1"
    assert silent.error == "node_bench.py printed no RESULT line"
    text = render({}, [malformed, crashed, silent])
    assert "## Failures" in text and "- handoff_bench.py exited with status 1" in text


def test_the_machine_is_described():
    machine = machine_description()
    assert {"platform", "CPU", "cores", "RAM", "Python", "date", "commit"} <= set(machine)
    assert all(value for value in machine.values())


def test_every_bench_prints_result_lines():
    for path in BENCH.glob("*_bench.py"):
        assert "print_result(" in path.read_text(), f"{path.name} prints no RESULT line"


def test_the_national_bench_runs_quick():
    done = subprocess.run([sys.executable, str(BENCH / "national_bench.py"), "--quick"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results = parse_output(done.stdout, "national_bench.py")
    assert results[0].measure.startswith("catch-up of") and results[0].ok is not None
    assert any("inclusion proof, verification" in r.measure for r in results)
    assert "exact envelope bytes in seq order" in done.stdout


def project_imports(path: Path) -> list[tuple[str, str | None]]:
    """The (module, name) a bench imports from the project, lazy imports included (name None: ``import m``)."""
    import ast

    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT:
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] in PROJECT]
    return found


PROJECT = ("protocol", "node", "federation", "web_ui")


@pytest.mark.parametrize("path", sorted(BENCH.glob("*_bench.py")), ids=lambda p: p.name)
def test_every_bench_imports_what_exists(path):
    """A module moved (node/ into subpackages) must not leave a bench that no longer starts: the suite never
    runs the benches whole, so each name they import from the project is checked here."""
    import importlib

    for module, name in project_imports(path):
        imported = importlib.import_module(module)
        if name is not None and not hasattr(imported, name):
            importlib.import_module(f"{module}.{name}")  # a submodule: ModuleNotFoundError names it
