"""What can go wrong under the ``Store``: the database file, and the disk it lives on.

Each case is a ``StoreError`` with a stable code and a message that says
what to do; the CLI prints it (exit 2), the web layer maps the code to a
status and a page message (``web_ui.storage_errors``).

=========================  ======================================================================
code                       when
=========================  ======================================================================
``database_missing``       the node's key exists but ``node.db`` does not
``database_empty``         ``node.db`` is 0 bytes
``not_a_database``         ``node.db`` is not SQLite, or SQLite but not Maillon
``database_foreign``       ``node.db`` is another node's (or holds no record of this node's key)
``database_damaged``       SQLite finds the file damaged (corrupt page, garbage)
``disk_full``              SQLite or a file write found no space left
``disk_error``             the disk failed to read or write
=========================  ======================================================================

Why refuse rather than start afresh: ``maillon init`` makes the key and the
database together and signs the node's descriptor at once, so a key
without its database is a node whose history was lost. A new database
would sign seq 1 again with the same key, a fork that freezes the node
everywhere; restoring a backup lets the node take its own log back from
its hub instead.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import time
from pathlib import Path

import aiosqlite

from node.errors import StoreError
from protocol import canonical
from protocol.keys import node_id
from protocol.kinds import KeyRotation

__all__ = ["DOC", "file_state", "lost_database", "not_a_database", "require_maillon", "require_own", "storage_error",
           "is_no_space", "no_space_for", "damaged", "quick_check", "CHECK_SECONDS"]  # fmt: skip

log = logging.getLogger(__name__)

DOC = 'docs/admin.md, "When the database is missing, damaged or the disk is full"'
SQLITE_HEADER = b"SQLite format 3\x00"
# The check at start (and before a backup) reads the whole file; it is cut short
# on a database so large that it would hold the start for longer than this.
CHECK_SECONDS = 120.0
CHECK_PROBLEMS = 5  # listing more of them tells the administrator nothing more

_DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def file_state(path: Path) -> str:
    """``missing``, ``empty``, ``sqlite`` (it has SQLite's header) or ``other``; read without opening it in SQLite."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise StoreError(f"cannot read the database {path}: {exc.strerror}", code="disk_error") from exc
    if not head:
        return "empty"
    return "sqlite" if head == SQLITE_HEADER else "other"


def _recovery(path: Path) -> str:
    """What to do when the node's database cannot be used: set aside what is left, restore the last backup."""
    data = path.parent
    return (
        "Nothing was changed. To recover:\n"
        f"  1. move what is left aside: {path.name}, and {path.name}-wal and {path.name}-shm if present"
        f" (e.g. into {data / 'damaged'})\n"
        f"  2. maillon restore --data {data} BACKUP   (the latest backup; `maillon backup` writes them in"
        f" {data / 'backups'} unless told otherwise)\n"
        f"  3. maillon run --data {data}   (the node takes back from its hub what it signed after the backup)\n"
        f"See {DOC}."
    )


def lost_database(path: Path, state: str) -> StoreError:
    """The refusal to open a node whose database is missing or empty: starting afresh would fork its log."""
    what = "is missing" if state == "missing" else "is empty (0 bytes)"
    return StoreError(
        f"the database {path} {what}.\n"
        "This node's key has already signed records: a new database would sign them again, and the network"
        " would freeze the node for forking its log. (Only if `maillon init` was interrupted before it"
        " finished did the node sign nothing: then delete the directory and run `maillon init` again.)\n"
        + _recovery(path),
        code="database_missing" if state == "missing" else "database_empty",
    )  # fmt: skip


def not_a_database(path: Path, detail: str) -> StoreError:
    return StoreError(f"{path} is {detail}.\n" + _recovery(path), code="not_a_database")


async def require_maillon(db: aiosqlite.Connection, path: Path) -> None:
    """Refuse a SQLite file that no Maillon made (checked before anything writes to it: no migration, no WAL)."""
    async with db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") as cursor:
        if await cursor.fetchone() is None:
            raise not_a_database(path, "a SQLite database, but not a Maillon database")


async def require_own(db: aiosqlite.Connection, path: Path, me: bytes, *, history: bool) -> None:
    """Refuse another node's database; with ``history``, also one that holds no record of this node.

    No node pins its own key (``node.network.peers.pin_peer``), so a database that
    knows ``me`` as a peer belongs to a node that knows this one: a hub's
    copy holding its member's records, say. This node's own history is a
    record ``me`` signed, or a ``key.rotation/1`` naming ``me`` (a rotated
    key signs its first record when the node next signs something).
    """
    async with db.execute("SELECT 1 FROM peers WHERE key = ?", (me,)) as cursor:
        if await cursor.fetchone() is not None:
            raise _foreign(path, me, "knows this node's key as one of its peers: it is another node's database")
    if not history:
        return
    async with db.execute("SELECT 1 FROM log_records WHERE author = ? LIMIT 1", (me,)) as cursor:
        if await cursor.fetchone() is not None:
            return
    async with db.execute("SELECT content FROM log_records WHERE kind = ? AND content IS NOT NULL",
                          (KeyRotation.KIND,)) as cursor:  # fmt: skip
        for (content,) in await cursor.fetchall():
            if KeyRotation.model_validate(canonical.decode(content)).new_key == me:
                return
    async with db.execute("SELECT 1 FROM log_records LIMIT 1") as cursor:
        others = await cursor.fetchone() is not None
    reason = ("holds the log of another node and no record signed by this node's key" if others
              else "holds no record signed by this node's key (not even its descriptor)")  # fmt: skip
    raise _foreign(path, me, reason)


def _foreign(path: Path, me: bytes, reason: str) -> StoreError:
    return StoreError(f"{path} is not this node's database ({node_id(me)}): it {reason}.\n" + _recovery(path),
                      code="database_foreign")  # fmt: skip


def storage_error(exc: BaseException, path: Path) -> StoreError | None:
    """The ``StoreError`` for a damaged database or a full or failing disk; ``None`` for any other error.

    SQLite rolls back the statement (and may roll back the transaction) that
    met a full disk, so "nothing was written" holds: ``Store.transaction``
    rolls back whatever is left.
    """
    if is_no_space(exc):
        return _disk_full(path)
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    primary = _primary(exc)
    if primary in _DAMAGED or (primary is None and str(exc) in ("database disk image is malformed",
                                                               "file is not a database")):  # fmt: skip
        return damaged(path, str(exc))
    if primary == sqlite3.SQLITE_IOERR:
        return StoreError(f"the disk failed to read or write the database {path} ({exc}): check the disk"
                          f" (free space, system log); if the database is damaged, restore the latest backup."
                          f" See {DOC}.", code="disk_error")  # fmt: skip
    return None


def _primary(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``exc`` (``None`` for an error raised by Python code, not by SQLite)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def is_no_space(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk is full: SQLite's ``SQLITE_FULL``, or ``ENOSPC`` / ``EDQUOT`` from the system."""
    if isinstance(exc, OSError):
        return exc.errno in _NO_SPACE
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    primary = _primary(exc)
    return primary == sqlite3.SQLITE_FULL or (primary is None and str(exc) == "database or disk is full")


def _disk_full(path: Path) -> StoreError:
    return StoreError(f"the disk is full: nothing was written (what was being saved was undone). Free some space"
                      f" on the disk that holds {path.parent} (old backups, logs), then try again. See {DOC}.",
                      code="disk_full")  # fmt: skip


def no_space_for(destination: Path) -> StoreError:
    """A backup's destination filled up: nothing is left there, and the database is untouched."""
    return StoreError(f"not enough space for the backup in {destination.parent}: nothing was written there. Free"
                      f" some space, or choose another place with --out. The database itself is untouched.",
                      code="disk_full")  # fmt: skip


def damaged(path: Path, detail: str) -> StoreError:
    return StoreError(f"the database {path} is damaged ({detail}). Stop the node and keep the damaged file for"
                      f" the record: its contents cannot be trusted.\n" + _recovery(path),
                      code="database_damaged")  # fmt: skip


def quick_check(path: Path, seconds: float = CHECK_SECONDS) -> None:
    """SQLite's ``quick_check`` of the file (blocking: run it in a thread), bounded in time and in problems listed.

    Raises ``StoreError`` (``database_damaged``) when a problem is found. A
    check cut short by the time bound proves nothing: it is logged, and the
    node goes on.
    """
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise storage_error(exc, path) or StoreError(f"cannot open the database {path}: {exc}") from exc
    deadline = time.monotonic() + seconds
    db.set_progress_handler(lambda: time.monotonic() > deadline, 100_000)
    try:
        rows = db.execute(f"PRAGMA quick_check({CHECK_PROBLEMS})").fetchall()
    except sqlite3.OperationalError as exc:
        if str(exc) != "interrupted":
            raise storage_error(exc, path) or StoreError(f"cannot check the database {path}: {exc}") from exc
        log.warning("the check of %s was stopped after %d s (a large database); it found nothing until then",
                    path, seconds)  # fmt: skip
        return
    except sqlite3.DatabaseError as exc:
        raise storage_error(exc, path) or damaged(path, str(exc)) from exc
    finally:
        db.close()
    problems = [row[0] for row in rows]
    if problems != ["ok"]:
        raise damaged(path, "; ".join(problems))
