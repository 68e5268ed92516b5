"""A node whose database is missing, empty, foreign, damaged, or whose disk is full (issue 14, points 4-6).

Every command runs as an administrator runs it: a real ``maillon`` process
on a real data directory, bounded by a timeout (a command that hangs fails
the test). A refusal exits at once with status 2, says what to do, and
changes nothing: no new database, no re-signed seq 1, no half-written file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from node.cli.main import main
from node.store import database as store_module

ITEMS = 400
TIMEOUT = 60  # seconds; a command that hangs (the old aiosqlite thread) fails here


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def maillon(*args: object) -> subprocess.CompletedProcess[str]:
    """Run ``maillon ARGS`` in its own process; a hang raises TimeoutExpired (the process is killed)."""
    return subprocess.run(
        [sys.executable, "-c", "from node.cli.main import main; raise SystemExit(main())", *map(str, args)],
        capture_output=True, text=True, timeout=TIMEOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def write_sheet(path: Path, count: int, prefix: str = "SN") -> Path:
    lines = ["Catégorie;Marque;N° de série"] + [f"Portable;Dell;{prefix}{n:06d}" for n in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def node(tmp_path, capsys) -> Path:
    directory = tmp_path / "node"
    assert main(["init", "--data", str(directory), "--name", "Atelier", "--port", str(free_port())]) == 0
    capsys.readouterr()
    return directory


def commands(directory: Path, tmp_path: Path) -> dict[str, list[object]]:
    """The commands that open the store, as an administrator types them."""
    sheet = write_sheet(tmp_path / "items.csv", 3, prefix="NEW")
    return {
        "run": ["run", "--data", directory],
        "peers": ["peers", "--data", directory],
        "backup": ["backup", "--data", directory, "--out", tmp_path / "copy.db"],
        "import": ["import", "--data", directory, "items", sheet],
        "stats": ["stats", "--data", directory, "--period", "2026"],
    }


def assert_refused_with_recovery(result: subprocess.CompletedProcess[str], directory: Path) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert f"maillon restore --data {directory} BACKUP" in result.stderr, result.stderr
    assert "fingerprint" not in result.stdout  # never started


# --- 4. a missing, empty or foreign database ------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "peers", "backup", "import", "stats"])
def test_a_node_whose_database_is_missing_refuses_and_creates_none(node, tmp_path, command):
    (node / "node.db").unlink()
    result = maillon(*commands(node, tmp_path)[command])
    assert_refused_with_recovery(result, node)
    assert "is missing" in result.stderr
    assert not (node / "node.db").exists()  # no fresh database that would sign seq 1 again
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize("command", ["run", "peers", "import"])
def test_a_node_whose_database_is_empty_refuses_and_leaves_it_empty(node, tmp_path, command):
    (node / "node.db").write_bytes(b"")
    result = maillon(*commands(node, tmp_path)[command])
    assert_refused_with_recovery(result, node)
    assert "is empty" in result.stderr
    assert (node / "node.db").stat().st_size == 0


def test_a_file_that_is_no_database_or_another_programs_is_refused_untouched(node, tmp_path):
    database = node / "node.db"
    database.write_text("these are notes, not a database\n" * 200)
    before = digest(database)
    result = maillon("run", "--data", node)
    assert_refused_with_recovery(result, node)
    assert "not a database" in result.stderr and digest(database) == before

    database.unlink()
    other = sqlite3.connect(database)
    other.execute("CREATE TABLE contacts (name TEXT)")
    other.execute("INSERT INTO contacts VALUES ('Camille')")
    other.commit()
    other.close()
    before = digest(database)
    result = maillon("peers", "--data", node)
    assert_refused_with_recovery(result, node)
    assert "not a Maillon database" in result.stderr
    assert digest(database) == before  # not migrated, not switched to WAL
    assert not Path(f"{database}-wal").exists()


def test_another_nodes_database_is_refused(node, tmp_path, capsys):
    other = tmp_path / "other"
    assert main(["init", "--data", str(other), "--name", "Autre atelier"]) == 0
    capsys.readouterr()
    shutil.copy(other / "node.db", node / "node.db")
    before = digest(node / "node.db")
    for command in ("run", "import"):
        result = maillon(*commands(node, tmp_path)[command])
        assert_refused_with_recovery(result, node)
        assert "not this node's database" in result.stderr and "another node" in result.stderr
    assert digest(node / "node.db") == before


def test_a_database_that_knows_this_key_as_a_peer_is_refused(node, tmp_path, capsys):
    """A hub's database holds its member's records: copied into the member's directory, it is still the hub's."""
    import asyncio

    from node.config import load_node
    from node.network.peers import pin_peer
    from node.store.database import Store

    hub = tmp_path / "hub"
    assert main(["init", "--data", str(hub), "--name", "Réseau", "--role", "hub"]) == 0
    capsys.readouterr()
    member = load_node(node)

    async def pin() -> None:
        loaded = load_node(hub)
        store = await Store.open(loaded.db_path, loaded.key)
        try:
            async with store.transaction() as tx:
                await pin_peer(tx, member.key.public.raw, name="Atelier", role="member", relation="downstream")
                # the member's own descriptor, as the hub holds it
                source = sqlite3.connect(node / "node.db")
                row = source.execute("SELECT author, seq, id, kind, time, envelope, content FROM log_records").fetchone()
                source.close()
                await tx.run("INSERT INTO log_records VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(row))
        finally:
            await store.close()

    asyncio.run(pin())
    shutil.copy(hub / "node.db", node / "node.db")
    result = maillon("peers", "--data", node)
    assert_refused_with_recovery(result, node)
    assert "another node" in result.stderr


def test_a_rotated_key_still_opens_its_database(node, capsys):
    assert main(["key", "rotate", "--data", str(node)]) == 0
    capsys.readouterr()
    result = maillon("peers", "--data", node)
    assert result.returncode == 0, result.stderr


def test_an_interrupted_init_leaves_no_database_to_start_from(tmp_path, capsys, monkeypatch):
    """``maillon init`` makes the database whole (descriptor signed) or not at all."""
    from node.cli import commands as node_commands

    def broken(**fields):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(node_commands, "NodeDescriptor", broken)
    directory = tmp_path / "node"
    with pytest.raises(OSError):
        main(["init", "--data", str(directory), "--name", "Atelier"])
    assert not (directory / "node.db").exists()
    assert [p.name for p in directory.iterdir() if p.name.startswith("node.db")] == []


# --- 5. a damaged database ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "peers", "backup", "import"])
def test_garbage_over_the_database_ends_every_command_at_once(node, tmp_path, command):
    database = node / "node.db"
    database.write_bytes(b"SQLite format 3\x00" + os.urandom(64 * 1024))
    result = maillon(*commands(node, tmp_path)[command])
    assert_refused_with_recovery(result, node)
    assert "damaged" in result.stderr
    assert not (tmp_path / "copy.db").exists()


@pytest.fixture
def damaged(node, tmp_path) -> Path:
    """A node with items whose table has a page of garbage in the middle of the file."""
    assert maillon("import", "--data", node, "items", write_sheet(tmp_path / "big.csv", ITEMS)).returncode == 0
    database = node / "node.db"
    db = sqlite3.connect(database)
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'items'").fetchone()[0]
    page = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with database.open("r+b") as handle:
        handle.seek((root - 1) * page)
        handle.write(os.urandom(page))
    return node


def test_run_checks_the_database_at_start_and_refuses_a_damaged_one(damaged):
    result = maillon("run", "--data", damaged)
    assert_refused_with_recovery(result, damaged)
    assert "is damaged" in result.stderr


def test_backup_refuses_to_copy_a_damaged_database(damaged, tmp_path):
    result = maillon("backup", "--data", damaged, "--out", tmp_path / "copy.db")
    assert_refused_with_recovery(result, damaged)
    assert "is damaged" in result.stderr
    assert not (tmp_path / "copy.db").exists()
    assert not list(tmp_path.glob("copy.db*"))


def test_an_import_that_meets_damage_says_so_without_a_traceback(damaged, tmp_path):
    result = maillon("import", "--data", damaged, "items", write_sheet(tmp_path / "more.csv", 5, prefix="MORE"))
    assert_refused_with_recovery(result, damaged)
    assert "is damaged" in result.stderr


# --- 6. a full disk -------------------------------------------------------------------------------


@pytest.fixture
def full_disk(monkeypatch):
    """From the next open on, the node's database cannot grow: SQLite answers SQLITE_FULL, as on a full disk."""
    real = store_module._connect

    async def tight(path, *, read_only):
        db = await real(path, read_only=read_only)
        if not read_only:
            async with db.execute("PRAGMA page_count") as cursor:
                pages = (await cursor.fetchone())[0]
            await db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(store_module, "_connect", tight)


def counts(database: Path) -> tuple[int, int, int, str]:
    db = sqlite3.connect(database)
    try:
        return (db.execute("SELECT count(*) FROM items").fetchone()[0], db.execute("SELECT count(*) FROM events").fetchone()[0],
                db.execute("SELECT count(*) FROM log_records").fetchone()[0],
                db.execute("PRAGMA integrity_check").fetchone()[0])  # fmt: skip
    finally:
        db.close()


def test_an_import_on_a_full_disk_says_so_and_writes_nothing(node, tmp_path, capsys, full_disk):
    before = counts(node / "node.db")
    code = main(["import", "--data", str(node), "items", str(write_sheet(tmp_path / "big.csv", ITEMS))])
    err = capsys.readouterr().err
    assert code == 2 and "disk is full" in err and "nothing was written" in err
    assert counts(node / "node.db") == before  # not one item of the sheet: the import is whole or absent


def test_an_import_whose_evidence_file_meets_a_full_disk_leaves_no_partial_file(node, capsys, monkeypatch):
    from node.store import files

    def no_space(handle, data):
        handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_write", no_space)
    log = Path(__file__).parent / "imports" / "fixtures" / "nwipe-shredos-example.log"
    before = counts(node / "node.db")
    code = main(["import", "--data", str(node), "nwipe", str(log)])
    err = capsys.readouterr().err
    assert code == 2 and "disk is full" in err
    assert counts(node / "node.db") == before
    assert not [p for p in (node / "files").rglob("*") if p.is_file()]


def test_a_backup_to_a_full_disk_says_so_and_leaves_no_partial_copy(node, tmp_path, capsys, monkeypatch):
    """The backup's destination cannot grow past two pages, as on a full disk."""
    out = tmp_path / "backups" / "copy.db"
    out.parent.mkdir()
    real = sqlite3.connect

    def cramped(database, *args, **kwargs):
        connection = real(database, *args, **kwargs)
        if Path(str(database)).parent == out.parent:
            connection.execute("PRAGMA max_page_count = 2")
        return connection

    monkeypatch.setattr(store_module.sqlite3, "connect", cramped)
    code = main(["backup", "--data", str(node), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "not enough space" in err and str(out.parent) in err
    assert list(out.parent.iterdir()) == []  # no half-written copy under any name
