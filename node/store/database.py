"""The one owner of the node's SQLite database.

One writer connection, used one transaction at a time (``BEGIN IMMEDIATE``,
queued behind an asyncio lock), and a small pool of read-only connections
beside it (WAL lets them read while the writer writes). Migrations run at
open. Nothing outside this class opens the database for writing: the domain
modules receive a ``Tx`` and call its methods.

The node's own signed log lives here too (``log_records``), so that a domain
change and the record that shares it are committed together or not at all.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import aiosqlite

from node.errors import StoreError
from node.store import search
from node.store.migrations import MIGRATIONS
from node.store.storage_failures import (
    file_state,
    is_no_space,
    lost_database,
    no_space_for,
    not_a_database,
    quick_check,
    require_maillon,  # fmt: skip
    require_own,
    storage_error,
)
from protocol.keys import SigningKey
from protocol.kinds import Body
from protocol.records import Record, sign_record

__all__ = ["Store", "Tx", "Reader", "now_ms", "clock_at", "day_ms", "restore", "IN_ARRAY", "as_array"]

READERS = 2
RESYNC_COUNTER = "federation.resync_required"
RESYNC_MESSAGE = ("this node was restored from a backup: it is taking its own signed log back from the nodes"
                  " that hold it before it signs anything new; try again in a moment")  # fmt: skip


_CLOCK: ContextVar[int | None] = ContextVar("maillon_clock", default=None)


def now_ms() -> int:
    """The current time as protocol time: integer milliseconds UTC (or the time ``clock_at`` set)."""
    fixed = _CLOCK.get()
    return time.time_ns() // 1_000_000 if fixed is None else fixed


@contextmanager
def clock_at(ms: int) -> Iterator[None]:
    """Within the block, ``now_ms`` in this task says ``ms``: to write a history that happened before.

    For generated data (the demonstration federation) and imports of past
    activity; a node's own log stays in order, since ``Tx.append`` never
    dates a record before the one it follows.
    """
    token = _CLOCK.set(ms)
    try:
        yield
    finally:
        _CLOCK.reset(token)


# A list bound as one parameter (``as_array``): ``WHERE id IN {IN_ARRAY}``, one statement
# whatever the list's length (no limit on host parameters, one trip to the database's thread).
IN_ARRAY = "(SELECT value FROM json_each(?))"


def as_array(values: Iterable[int | str]) -> str:
    """Numbers or texts as the one parameter of ``IN_ARRAY``."""
    return json.dumps(list(values), ensure_ascii=False)


def day_ms(day: date) -> int:
    """A calendar day as protocol time: its noon UTC, the same day in France."""
    return int(datetime.combine(day, dtime(12), tzinfo=UTC).timestamp()) * 1000


class Reader:
    """Read-only access: the queries a view or a report needs."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        # one trip to the connection's thread (a cursor takes three)
        return list(await self._db.execute_fetchall(sql, params))

    async def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        """The first row of a query that returns one row (or none)."""
        rows = await self._db.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def value(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]


class Tx(Reader):
    """One write transaction; also appends to the node's own log."""

    def __init__(self, db: aiosqlite.Connection, key: SigningKey, held: str | None = None) -> None:
        super().__init__(db)
        self._key = key
        self._held = held
        self.records: list[Record] = []
        # Facts looked up once per transaction by code that runs for many records in a row (the
        # effects of a received batch), keyed by the caller; only facts no step of it can change.
        self.memo: dict[tuple, Any] = {}
        self._at_end: dict[str, Callable[[Tx], Awaitable[None]]] = {}

    def at_end(self, name: str, step: Callable[["Tx"], Awaitable[None]]) -> None:
        """Run ``step(tx)`` once, when the work of this transaction is done and before it commits.

        For what many calls of one transaction gather (``tx.memo``) and one
        write settles: the erasures of an import of many logs, signed in one
        record. A step registered again under the same ``name`` runs once.
        """
        self._at_end.setdefault(name, step)

    async def end(self) -> None:
        """Run the steps ``at_end`` registered (each may register others), in order."""
        while self._at_end:
            name = next(iter(self._at_end))
            await self._at_end.pop(name)(self)

    @property
    def author(self) -> bytes:
        """The node's public key: the author of what this transaction appends."""
        return self._key.public.raw

    @property
    def signing_held(self) -> bool:
        """Whether ``append`` refuses (restored from a backup, the node's own log not taken back yet)."""
        return self._held is not None

    async def run(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Execute one statement; return the last row id (meaningful after an insert)."""
        row = await self._db.execute_insert(sql, params)  # one trip to the connection's thread
        return (row[0] if row else 0) or 0

    async def run_many(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> None:
        await self._db.executemany(sql, rows)

    async def changes(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Execute one statement; return how many rows it changed."""
        async with self._db.execute(sql, params) as cursor:
            return cursor.rowcount

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested part of the transaction that an error undoes alone (the rest stays)."""
        name = f"sp{id(self)}_{len(self.records)}"
        await self.run(f"SAVEPOINT {name}")
        kept = len(self.records)
        try:
            yield
        except BaseException:
            # A full disk may have made SQLite roll the whole transaction back already:
            # there is no savepoint left to return to, and the error must go up as it is.
            if self._db.in_transaction:
                await self.run(f"ROLLBACK TO {name}")
                await self.run(f"RELEASE {name}")
            del self.records[kept:]
            raise
        await self.run(f"RELEASE {name}")

    async def append(self, body: Body, audience: Sequence[bytes] = (), *, at: int | None = None) -> Record:
        """Sign ``body`` as the next record of the node's log, in this transaction."""
        if self._held:
            raise StoreError(self._held, code="resync_required")
        author = self._key.public.raw
        head = await self.one(
            "SELECT seq, id, time FROM log_records WHERE author = ? ORDER BY seq DESC LIMIT 1", (author,)
        )
        seq, prev, last_time = (head["seq"], head["id"], head["time"]) if head else (0, None, 0)
        record = sign_record(
            self._key,
            seq=seq + 1,
            prev=prev,
            # Never behind the previous record, even if the clock stepped back.
            time=max(at if at is not None else now_ms(), last_time),
            kind=body.KIND,
            content=body.to_content(),
            audience=tuple(audience),
        )
        await self.run(
            "INSERT INTO log_records (author, seq, id, kind, time, envelope, content)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (author, record.header.seq, record.id, record.header.kind, record.header.time,
             record.envelope, record.content),
        )  # fmt: skip
        self.records.append(record)
        return record


class Store:
    """The node's database: open with ``Store.open``, close with ``close``."""

    def __init__(self, path: Path, key: SigningKey, writer: aiosqlite.Connection,
                 readers: list[aiosqlite.Connection]) -> None:  # fmt: skip
        self.path = path
        self.key = key
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers = readers
        for reader in readers:
            self._readers.put_nowait(reader)
        self._closed = False
        # Run in a transaction that appended records to the node's log, just
        # before its commit: the federation queues them for its peers, so that
        # the records and their outbox rows are committed together.
        self.before_commit: list[Callable[[Tx], Awaitable[None]]] = []
        # Called after a commit that appended records to the node's log (the
        # federation sends them); plain callbacks, they must not block.
        self.on_commit: list[Callable[[list[Record]], None]] = []
        # Set after a restore: no record may be signed until the node's own
        # log is caught up from its hub (else the log forks). See ``restore``.
        self.writes_held: str | None = None

    @classmethod
    async def open(cls, path: Path, key: SigningKey, *, create: bool = False) -> "Store":
        """Open and migrate this node's database at ``path``; refuse one it cannot trust (``node.store.storage_failures``).

        The file must be a Maillon database holding this node's history: a
        record ``key`` signed (or a rotation to it), and not knowing ``key`` as
        a peer. Missing, empty, foreign or damaged, it is refused with what to
        do, and nothing is written to it. ``create=True`` (``maillon init``,
        tests) makes a new database where there is none, and accepts one that
        holds no record yet.
        """
        state = file_state(path)
        if state in ("missing", "empty") and not create:
            raise lost_database(path, state)
        if state == "other":
            raise not_a_database(path, "not a database (it does not start as a SQLite file does)")
        opened: list[aiosqlite.Connection] = []
        try:
            if state == "sqlite":  # looked at read-only first: another program's file is not touched
                opened.append(await _connect(path, read_only=True))
                await require_maillon(opened[0], path)
            writer = await _connect(path, read_only=False)
            opened.append(writer)
            await _migrate(writer)
            readers = [c for c in opened if c is not writer]
            while len(readers) < READERS:
                readers.append(await _connect(path, read_only=True))
                opened.append(readers[-1])
            await require_own(writer, path, key.public.raw, history=not create)
            async with writer.execute("SELECT value FROM counters WHERE name = ?", (RESYNC_COUNTER,)) as cursor:
                resync = await cursor.fetchone()
        except BaseException as exc:
            for connection in reversed(opened):  # else their threads keep the process alive for ever
                try:
                    await connection.close()
                except Exception:  # noqa: BLE001 - the first error is the one to report
                    pass
            if isinstance(exc, sqlite3.Error):
                raise storage_error(exc, path) or StoreError(f"cannot open the database {path}: {exc}") from exc
            raise
        store = cls(path, key, writer, readers)
        if resync is not None:
            store.writes_held = RESYNC_MESSAGE
        return store

    async def check(self) -> None:
        """SQLite's quick check of the whole file, bounded; ``StoreError`` (``database_damaged``) if damaged."""
        await asyncio.to_thread(quick_check, self.path)

    async def release_writes(self) -> None:
        """The node's own log is caught up (or there is no hub to catch up from): sign again."""
        async with self.transaction() as tx:
            await tx.run("DELETE FROM counters WHERE name = ?", (RESYNC_COUNTER,))
        self.writes_held = None

    async def close(self) -> None:
        """Close every connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for reader in self._all_readers:
            await reader.close()
        await self._writer.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """``async with store.transaction() as tx``: commit on success, roll back on error."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            tx = Tx(self._writer, self.key, self.writes_held)
            try:
                yield tx
                await tx.end()
                if tx.records:
                    for hook in self.before_commit:
                        await hook(tx)
                await self._writer.commit()
            except BaseException as exc:
                # A commit that failed (a full disk) left the transaction open: roll it back
                # too, else every later BEGIN fails and the node stays stuck until restarted.
                await self._writer.rollback()
                failure = storage_error(exc, self.path)
                if failure is None:
                    raise
                raise failure from exc
        if tx.records:
            for callback in self.on_commit:
                callback(tx.records)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Reader]:
        """``async with store.reader() as db``: a read-only connection from the pool."""
        connection = await self._readers.get()
        try:
            yield Reader(connection)
        except sqlite3.DatabaseError as exc:
            failure = storage_error(exc, self.path)
            if failure is None:
                raise
            raise failure from exc
        finally:
            self._readers.put_nowait(connection)

    async def backup(self, destination: Path) -> None:
        """Write a consistent copy of the live database to ``destination``, whole or not at all.

        A damaged database is refused (a copy of it would be restored one
        day as if it were sound). The copy is written beside the destination
        and takes its name only once complete, so a full disk or a crash
        never leaves a half copy that looks like a backup.
        """
        if destination.exists():
            raise StoreError(f"{destination} already exists; choose a new file")
        await self.check()
        partial = destination.with_name(destination.name + ".partial")
        journal = Path(f"{partial}-journal")
        try:
            async with self._write_lock:
                for leftover in (partial, journal):  # from a copy interrupted before
                    leftover.unlink(missing_ok=True)
                _private(partial)
                target = sqlite3.connect(partial)
                try:
                    await self._writer.backup(target)
                finally:
                    target.close()
            _durable(partial)
            _name_once(partial, destination)
            _durable(destination.parent)
        except FileExistsError as exc:
            raise StoreError(f"{destination} already exists; choose a new file") from exc
        except BaseException as exc:
            failure = no_space_for(destination) if is_no_space(exc) else storage_error(exc, self.path)
            if failure is None:
                raise
            raise failure from exc
        finally:
            partial.unlink(missing_ok=True)
            journal.unlink(missing_ok=True)


def _private(path: Path) -> None:
    """Create the database file readable by this user alone (it holds beneficiaries' personal data).

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _name_once(source: Path, destination: Path) -> None:
    """Give the finished copy its name, never over an existing file (a hard link where the disk has them)."""
    try:
        os.link(source, destination)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # A disk without hard links (FAT, some network shares): check, then rename.
        if destination.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(destination)) from exc
        os.rename(source, destination)


def _durable(path: Path) -> None:
    """Flush a finished copy (or the directory naming it) to the disk: no name on data still in the cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    if read_only:
        db = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    else:
        _private(path)
        db = await aiosqlite.connect(path, isolation_level=None)
    try:
        if read_only:
            await db.execute("PRAGMA query_only = ON")
            await db.execute("PRAGMA cache_size = -32768")  # 32 MiB: the item list's indexes stay in memory
        else:
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
        db.row_factory = sqlite3.Row
        for name, count, function in search.FUNCTIONS:  # what the item search's triggers call
            await db.create_function(name, count, function, deterministic=True)
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 5000")
    except BaseException:
        await db.close()  # a connection left open keeps its thread, and the process, alive
        raise
    return db


async def _migrate(db: aiosqlite.Connection) -> None:
    await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    async with db.execute("SELECT max(version) FROM schema_version") as cursor:
        row = await cursor.fetchone()
    current = row[0] or 0
    latest = len(MIGRATIONS)
    if current > latest:
        raise StoreError(f"the database is at schema {current}, newer than this Maillon ({latest}): upgrade")
    for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                await db.execute(statement)
            await db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        except BaseException:
            await db.rollback()
            raise
        await db.commit()


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise StoreError("a migration ends in the middle of a statement")
    return statements


def restore(backup: Path, database: Path) -> None:
    """Replace ``database`` with the copy at ``backup``; the node must be stopped.

    The backup is checked (integrity, schema) before anything is replaced.
    """
    try:
        source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise StoreError(f"{backup} is damaged (integrity check failed)")
            version = source.execute("SELECT max(version) FROM schema_version").fetchone()[0]
            if version is None or version > len(MIGRATIONS):
                raise StoreError(f"{backup} is not a Maillon backup this version can restore")
            # Copied beside the database first: whatever is there now (damaged, not a database, a
            # stale -wal of it) is replaced only by a complete copy, and never read.
            partial = database.with_name(database.name + ".restoring")
            partial.unlink(missing_ok=True)
            _private(partial)
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")  # one file; the node sets WAL again at start
                # The backup may lack records this node signed and sent after it:
                # hold signing until the log is caught up from the hub (federation).
                target.execute("INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO NOTHING",
                               (RESYNC_COUNTER,))  # fmt: skip
                target.commit()
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{backup} is not a Maillon backup: {exc}") from exc
    for stale in (f"{database}-wal", f"{database}-shm"):
        Path(stale).unlink(missing_ok=True)
    os.replace(partial, database)
