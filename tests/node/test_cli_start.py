"""``maillon`` starts without importing what the command does not use; ``import`` takes many files.

No timing here (the machines are shared): ``bench/cli_bench.py`` measures
the time; this checks what makes it, the modules imported.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from node.cli.args import Lazy, entry_points
from node.cli.main import DB_FILE, EXPORT_KINDS, IMPORT_KINDS, build_parser, main

FIXTURES = Path(__file__).parent / "imports" / "fixtures"
SHREDOS = FIXTURES / "nwipe-shredos-example.log"
# What `maillon --help` must not import: the web stack, the domain's models, the crypto, the spreadsheets.
HEAVY = ("aiohttp", "jinja2", "aiohttp_jinja2", "pydantic", "openpyxl", "fpdf", "segno", "cryptography", "msgpack",
         "aiosqlite", "asyncio", "importlib.metadata", "protocol.kinds", "node.store.database", "node.cli.commands",
         "federation.commands", "web_ui")  # fmt: skip


def imported_by(*argv: str) -> set[str]:
    """The modules a fresh interpreter holds after parsing ``maillon ARGV`` (help exits the parser)."""
    code = ("import json, sys\nfrom node.cli.main import build_parser\ntry:\n    build_parser().parse_args(sys.argv[1:])\n"
            "except SystemExit:\n    pass\nprint(json.dumps(sorted(sys.modules)))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2]).stdout  # fmt: skip
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], ["import", "--help"], ["handoff", "receive", "--help"],
                                  ["join", "--help"], ["demo", "--help"]])  # fmt: skip
def test_the_help_imports_nothing_heavy(argv):
    loaded = imported_by(*argv)
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY}, argv


def imported_running(*argv: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``maillon ARGV`` to its end."""
    code = ("import json, sys\nfrom node.cli.main import main\ncode = main(sys.argv[1:])\n"
            "print(json.dumps([code, sorted(sys.modules)]))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2]).stdout  # fmt: skip
    code, modules = json.loads(out.splitlines()[-1])
    assert code == 0, argv
    return set(modules)


# What a command that only reads the database must not import: the web stack, the client, the drawings.
WEB = ("aiohttp", "jinja2", "aiohttp_jinja2", "segno", "fpdf", "openpyxl", "web_ui", "federation.client")


@pytest.mark.parametrize("argv", [["peers"], ["settings"], ["handoff", "list"], ["stats", "--period", "2026"]])
def test_commands_reading_the_database_do_not_load_the_web_stack(tmp_path, argv):
    data = tmp_path / "node"
    assert main(["init", "--data", str(data), "--name", "Atelier", "--role", "hub"]) == 0
    loaded = imported_running(*argv, "--data", str(data))
    assert "node.store.database" in loaded  # it did run
    assert not {m for m in loaded if m.split(".")[0] in WEB or m in WEB}, argv


def test_keys_alone_do_not_load_the_record_kinds():
    """``protocol`` imports nothing itself: a module needing keys does not pay for pydantic's models."""
    code = "import json, sys\nimport protocol.keys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2]).stdout  # fmt: skip
    loaded = set(json.loads(out))
    assert "protocol.keys" in loaded and not {"pydantic", "protocol.kinds", "protocol.records"} & loaded


def test_every_command_names_a_handler_that_exists():
    """A lazy handler is a name: check each one imports, since the help never does."""

    def walk(parser: argparse.ArgumentParser) -> list[Lazy]:
        found = [parser.get_default("handler")] if isinstance(parser.get_default("handler"), Lazy) else []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    found += walk(sub)
        return found

    handlers = walk(build_parser())
    assert len(handlers) > 30
    for handler in handlers:
        assert callable(handler.resolve()), handler


def test_the_parser_copies_of_the_kinds_are_true():
    from node.cli.commands import EXPORTS
    from node.config import DB_FILE as CONFIG_DB_FILE
    from node.domain.importing import IMPORT_KINDS as KINDS

    assert EXPORT_KINDS == EXPORTS and IMPORT_KINDS == KINDS and DB_FILE == CONFIG_DB_FILE


def test_entry_points_are_read_as_importlib_reads_them():
    from importlib.metadata import entry_points as metadata_entry_points

    for group in ("maillon.commands", "maillon.services", "console_scripts"):
        assert sorted(entry_points(group)) == sorted((e.name, e.value) for e in metadata_entry_points(group=group))


# --- maillon import nwipe, many logs at once ------------------------------------------------------


def wipe_log(n: int) -> str:
    """The ShredOS example, as the log of another machine with other disks."""
    return (SHREDOS.read_text().replace("3FBJ6P2", f"PC{n:05d}").replace("WD-WXC1A14S2591", f"WD-{n:06d}")
            .replace("NS8BN06381120BD03", f"NS-{n:06d}"))  # fmt: skip


@pytest.fixture
def data(tmp_path, capsys):
    directory = tmp_path / "node"
    assert main(["init", "--data", str(directory), "--name", "Atelier"]) == 0
    capsys.readouterr()
    return directory


def erasures(data: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(data / DB_FILE)
    try:
        return db.execute("SELECT disk_serial, evidence_sha256 FROM erasures ORDER BY disk_serial").fetchall()
    finally:
        db.close()


def test_a_directory_of_logs_in_one_call_a_bad_file_refused_alone(data, tmp_path, capsys):
    logs = tmp_path / "logs"
    logs.mkdir()
    for n in range(1, 13):
        (logs / f"nwipe_log_{n:02d}.txt").write_text(wipe_log(n))
    (logs / "nwipe_log_07.txt").write_text(wipe_log(7)[:300])  # cut short: refused whole
    (logs / "nwipe_report_Model_WDC_Serial_WD-000001.pdf").write_bytes(b"%PDF-1.4 a certificate")
    (logs / ".hidden").write_text("not a log")
    code = main(["import", "--data", str(data), "nwipe", str(logs)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[-1] == "12 files: 11 applied, 1 refused (nothing changed for those)"
    bad = [line for line in out if line.startswith(f"{logs / 'nwipe_log_07.txt'}: ")]
    assert bad and bad[-1].endswith("nothing was changed")
    assert not any(".pdf" in line or ".hidden" in line for line in out)
    serials = [s for s, _ in erasures(data)]
    assert len(serials) == 22 and "WD-000007" not in serials and "NS-000007" not in serials
    # again, with the fixed file and a log named twice: only what is new goes in
    (logs / "nwipe_log_07.txt").write_text(wipe_log(7))
    code = main(["import", "--data", str(data), "nwipe", str(logs), str(logs / "nwipe_log_01.txt")])
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and out[-1] == "12 files: 12 applied, 0 refused (nothing changed for those)"
    assert len(erasures(data)) == 24


def test_many_files_dry_run_changes_nothing_and_single_file_output_is_unchanged(data, tmp_path, capsys):
    paths = []
    for n in (1, 2):
        paths.append(tmp_path / f"log{n}.txt")
        paths[-1].write_text(wipe_log(n))
    code = main(["import", "--data", str(data), "nwipe", *map(str, paths), "--dry-run"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and out[-1] == "2 files: 2 would be applied, 0 refused (nothing changed for those)"
    assert erasures(data) == []
    code = main(["import", "--data", str(data), "nwipe", str(paths[0])])
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and out[-1] == "nwipe: 2 created, 0 updated, 0 skipped"  # one file: as before, no prefix


def test_import_names_a_missing_file_and_changes_nothing(data, tmp_path, capsys):
    log = tmp_path / "log1.txt"
    log.write_text(wipe_log(1))
    code = main(["import", "--data", str(data), "nwipe", str(log), str(tmp_path / "missing.txt")])
    assert code == 2 and "missing.txt" in capsys.readouterr().err
    assert erasures(data) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["import", "--data", str(data), "nwipe", str(empty)]) == 2
    assert "no nwipe file to import" in capsys.readouterr().err
