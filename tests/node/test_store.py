"""The Store: WAL, one writer, readers, migrations, the node's own log, backup and restore."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from node.errors import StoreError
from node.store.database import Store, restore
from node.store.migrations import MIGRATIONS
from protocol.kinds import LogCheckpoint
from protocol.log import LogVerifier
from protocol.records import open_entry


async def test_database_is_in_wal_mode_and_migrated(store, tmp_path):
    async with store.reader() as db:
        assert await db.value("PRAGMA journal_mode") == "wal"
        assert await db.value("SELECT max(version) FROM schema_version") == len(MIGRATIONS)


async def test_reopening_does_not_migrate_twice(store, tmp_path):
    await store.close()
    again = await Store.open(tmp_path / "node.db", store.key, create=True)
    async with again.reader() as db:
        assert await db.value("SELECT count(*) FROM schema_version") == len(MIGRATIONS)
    await again.close()


async def test_a_newer_schema_is_refused(store, tmp_path):
    async with store.transaction() as tx:
        await tx.run("INSERT INTO schema_version (version) VALUES (999)")
    await store.close()
    with pytest.raises(StoreError, match="newer"):
        await Store.open(tmp_path / "node.db", store.key, create=True)


async def test_an_error_rolls_back_everything_including_the_log(store):
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.run("INSERT INTO settings (name, value) VALUES ('x', '1')")
            await tx.append(LogCheckpoint(tree_size=0, root=bytes(32)))
            raise RuntimeError("crash mid-transaction")
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM settings") == 0
        assert await db.value("SELECT count(*) FROM log_records") == 0


async def test_before_commit_hooks_run_inside_a_transaction_that_signed_and_can_undo_it(store):
    seen = []

    async def queue(tx):  # what the federation does: rows about the records, in their transaction
        seen.append([r.header.seq for r in tx.records])
        await tx.run("INSERT INTO settings (name, value) VALUES (?, '1')", (f"queued {tx.records[-1].header.seq}",))

    store.before_commit.append(queue)
    async with store.transaction() as tx:
        await tx.run("INSERT INTO settings (name, value) VALUES ('unsigned', '1')")
    async with store.transaction() as tx:
        await tx.append(LogCheckpoint(tree_size=0, root=bytes(32)))
    assert seen == [[1]]  # only the transaction that signed
    async with store.reader() as db:
        assert await db.value("SELECT value FROM settings WHERE name = 'queued 1'") == "1"

    async def fail(tx):
        raise RuntimeError("cannot queue")

    store.before_commit.append(fail)
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.append(LogCheckpoint(tree_size=0, root=bytes(32)))
    async with store.reader() as db:  # the record and its rows go together, or not at all
        assert await db.value("SELECT count(*) FROM log_records") == 1
        assert await db.value("SELECT count(*) FROM settings WHERE name LIKE 'queued%'") == 1


async def test_a_step_at_the_end_of_a_transaction_runs_once_and_what_it_signs_is_routed(store):
    """What many calls of one transaction gather, one record signs as it ends (the erasures of an import)."""
    routed = []

    async def queue(tx):
        routed.append([r.header.kind for r in tx.records])

    store.before_commit.append(queue)
    async with store.transaction() as tx:
        for n in range(3):
            tx.memo.setdefault(("gathered",), []).append(n)

            async def sign(tx):
                await tx.append(LogCheckpoint(tree_size=len(tx.memo[("gathered",)]), root=bytes(32)))

            tx.at_end("sign what was gathered", sign)
    assert routed == [["log.checkpoint/1"]]  # signed once, with all three, before the commit's hooks
    async with store.reader() as db:
        assert await db.value("SELECT count(*) FROM log_records") == 1
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            tx.at_end("sign what was gathered", sign)
            raise RuntimeError("the work failed")
    async with store.reader() as db:  # the block failed: its end step did not run
        assert await db.value("SELECT count(*) FROM log_records") == 1


async def test_readers_are_read_only(store):
    async with store.reader() as db:
        with pytest.raises(sqlite3.OperationalError):
            await db.all("INSERT INTO settings (name, value) VALUES ('x', '1')")


async def test_log_appends_chain_and_keep_their_bytes(store):
    for size in range(5):
        async with store.transaction() as tx:
            await tx.append(LogCheckpoint(tree_size=size, root=bytes(32)))
    async with store.reader() as db:
        rows = await db.all("SELECT envelope, content FROM log_records ORDER BY seq")
    verifier = LogVerifier(store.key.public.raw)
    for row in rows:
        record = open_entry(sqlite3_entry(row["envelope"], row["content"]))
        assert verifier.add(record)
    assert verifier.last_seq == 5


def sqlite3_entry(envelope: bytes, content: bytes | None) -> bytes:
    from protocol import canonical

    return canonical.encode([envelope, content])


async def test_concurrent_writers_are_serialised(store):
    async def bump(n: int) -> None:
        async with store.transaction() as tx:
            current = await tx.value("SELECT value FROM counters WHERE name = 'c'") or 0
            await asyncio.sleep(0)
            await tx.run("INSERT INTO counters (name, value) VALUES ('c', ?) ON CONFLICT (name) DO UPDATE SET value = ?",
                         (current + 1, current + 1))  # fmt: skip

    await asyncio.gather(*(bump(n) for n in range(20)))
    async with store.reader() as db:
        assert await db.value("SELECT value FROM counters WHERE name = 'c'") == 20


async def test_backup_then_restore(store, tmp_path):
    async with store.transaction() as tx:
        await tx.run("INSERT INTO settings (name, value) VALUES ('kept', '1')")
    await store.backup(tmp_path / "backup.db")
    with pytest.raises(StoreError, match="already exists"):
        await store.backup(tmp_path / "backup.db")
    async with store.transaction() as tx:
        await tx.run("INSERT INTO settings (name, value) VALUES ('lost', '2')")
    await store.close()
    restore(tmp_path / "backup.db", tmp_path / "node.db")
    again = await Store.open(tmp_path / "node.db", store.key, create=True)
    async with again.reader() as db:
        assert [r["name"] for r in await db.all("SELECT name FROM settings")] == ["kept"]
    await again.close()


async def test_restore_replaces_a_damaged_database_and_its_stale_wal(store, tmp_path):
    from protocol.kinds import LotDecline

    async with store.transaction() as tx:
        await tx.run("INSERT INTO settings (name, value) VALUES ('kept', '1')")
        await tx.append(LotDecline(offer=bytes(32), reason="before_backup"))
    await store.backup(tmp_path / "backup.db")
    await store.close()
    (tmp_path / "node.db").write_bytes(b"garbage, not a database" * 500)
    (tmp_path / "node.db-wal").write_bytes(b"a stale log of another database" * 50)
    restore(tmp_path / "backup.db", tmp_path / "node.db")
    assert not (tmp_path / "node.db-wal").exists() and not (tmp_path / "node.db.restoring").exists()
    again = await Store.open(tmp_path / "node.db", store.key)
    try:
        async with again.reader() as db:
            assert await db.value("SELECT value FROM settings WHERE name = 'kept'") == "1"
        assert again.writes_held  # it takes its log back before it signs
    finally:
        await again.close()


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    (tmp_path / "node.db").write_bytes(b"")
    with pytest.raises(StoreError):
        restore(tmp_path / "junk.db", tmp_path / "node.db")
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE t (x)")
    other.close()
    with pytest.raises(StoreError):
        restore(tmp_path / "other.db", tmp_path / "node.db")


async def test_clock_at_dates_what_is_written_inside_it_and_never_breaks_the_log_order(store):
    from node.store.database import clock_at, now_ms
    from protocol.kinds import LotDecline

    past = 1_700_000_000_000
    with clock_at(past):
        assert now_ms() == past
        async with store.transaction() as tx:
            first = await tx.append(LotDecline(offer=bytes(32), reason="then"))
    assert now_ms() > past + 10**9  # back to the real time outside the block
    async with store.transaction() as tx:
        second = await tx.append(LotDecline(offer=bytes(32), reason="now"))
    with clock_at(past - 1000):  # earlier than the last record: dated as that record, not before it
        async with store.transaction() as tx:
            third = await tx.append(LotDecline(offer=bytes(32), reason="before"))
    assert first.header.time == past and second.header.time > past and third.header.time == second.header.time


async def test_the_database_and_its_backups_are_readable_by_their_owner_alone(store, tmp_path):
    import stat

    await store.backup(tmp_path / "copy.db")
    for path in (store.path, tmp_path / "copy.db"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    wal = store.path.with_name(store.path.name + "-wal")
    assert not wal.exists() or stat.S_IMODE(wal.stat().st_mode) == 0o600
