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
import json
import os
import sqlite3
import time
from datetime import UTC, date, datetime
from datetime import time as dtime
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite

from node.errors import StoreError
from node.migrations import MIGRATIONS
from protocol.kinds import Body
from protocol.keys import SigningKey
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

    @property
    def author(self) -> bytes:
        """The node's public key: the author of what this transaction appends."""
        return self._key.public.raw

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
    async def open(cls, path: Path, key: SigningKey) -> "Store":
        """Open (creating if needed) and migrate the database at ``path``."""
        try:
            writer = await _connect(path, read_only=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from exc
        try:
            await _migrate(writer)
            readers = [await _connect(path, read_only=True) for _ in range(READERS)]
            async with writer.execute("SELECT value FROM counters WHERE name = ?", (RESYNC_COUNTER,)) as cursor:
                resync = await cursor.fetchone()
        except BaseException:
            await writer.close()
            raise
        store = cls(path, key, writer, readers)
        if resync is not None:
            store.writes_held = RESYNC_MESSAGE
        return store

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
                if tx.records:
                    for hook in self.before_commit:
                        await hook(tx)
            except BaseException:
                await self._writer.rollback()
                raise
            else:
                await self._writer.commit()
        if tx.records:
            for callback in self.on_commit:
                callback(tx.records)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Reader]:
        """``async with store.reader() as db``: a read-only connection from the pool."""
        connection = await self._readers.get()
        try:
            yield Reader(connection)
        finally:
            self._readers.put_nowait(connection)

    async def backup(self, destination: Path) -> None:
        """Write a consistent copy of the live database to ``destination``."""
        if destination.exists():
            raise StoreError(f"{destination} already exists; choose a new file")
        async with self._write_lock:
            _private(destination)
            target = sqlite3.connect(destination)
            try:
                await self._writer.backup(target)
            finally:
                target.close()


def _private(path: Path) -> None:
    """Create the database file readable by this user alone (it holds beneficiaries' personal data).

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


async def _connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    if read_only:
        db = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        await db.execute("PRAGMA query_only = ON")
        await db.execute("PRAGMA cache_size = -32768")  # 32 MiB: the item list's indexes stay in memory
    else:
        _private(path)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
    db.row_factory = sqlite3.Row
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("PRAGMA busy_timeout = 5000")
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
            target = sqlite3.connect(database)
            try:
                source.backup(target)
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
