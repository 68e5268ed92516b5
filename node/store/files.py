"""Documents and evidence files, stored by content (their SHA-256) beside the database.

Beside them, the sheets a person previews before importing them wait in
``imports-pending/`` (``keep_pending``): only until the import is confirmed
(``drop_pending``), at most ``PENDING_HOURS`` (``prune_pending``, at each
preview and in the daily upkeep), and at most ``PENDING_BYTES`` together (a
new preview past it removes the oldest ones first). A preview never
confirmed thus leaves nothing behind for long, and fills no disk.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from pathlib import Path
from typing import BinaryIO

from node.errors import Invalid, StoreError

__all__ = ["FILES_DIR", "store_file", "file_path", "MAX_FILE", "PENDING_DIR", "PENDING_HOURS", "PENDING_BYTES",
           "PENDING_FILES", "keep_pending", "pending_file", "drop_pending", "prune_pending"]  # fmt: skip

FILES_DIR = "files"
MAX_FILE = 50 * 1024 * 1024
PENDING_DIR = "imports-pending"
PENDING_HOURS = 24
PENDING_BYTES = 200 * 1024 * 1024  # four previews of the largest file
PENDING_FILES = 50


def store_file(data_dir: Path, data: bytes) -> str:
    """Keep ``data`` under ``files/<sha256>`` (written once, atomically); return the hash."""
    if len(data) > MAX_FILE:
        raise Invalid(f"a document is at most {MAX_FILE // (1024 * 1024)} MB", code="file_too_large")
    digest = hashlib.sha256(data).hexdigest()
    path = file_path(data_dir, digest)
    if not path.exists():
        _write_atomically(path, data)
    return digest


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` whole or not at all: through a ``.partial`` file, removed should it fail."""
    partial = path.with_suffix(".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as handle:
            _write(handle, data)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)  # never a half file left behind
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StoreError(f"the disk is full: {path.parent} has no room for a {len(data)}-byte file, and"
                             f" nothing was written. Free some space (old backups, logs), then try again.",
                             code="disk_full") from exc  # fmt: skip
        raise StoreError(f"cannot write {path}: {exc.strerror}", code="disk_error") from exc


def _write(handle: BinaryIO, data: bytes) -> None:
    """Write ``data`` and wait until the disk holds it."""
    handle.write(data)
    handle.flush()
    os.fsync(handle.fileno())


def file_path(data_dir: Path, digest: str) -> Path:
    if not _is_sha256(digest):
        raise Invalid("not a SHA-256", code="invalid")
    return data_dir / FILES_DIR / digest[:2] / digest


def _is_sha256(digest: str) -> bool:
    return len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)


def keep_pending(data_dir: Path, data: bytes, *, now: float | None = None) -> str:
    """Keep a previewed sheet under ``imports-pending/<sha256>`` until its import is confirmed; return the hash.

    Pending files past ``PENDING_HOURS`` are removed first; then, should this
    one not fit within ``PENDING_BYTES`` and ``PENDING_FILES``, the oldest
    pending ones, so that a preview is never refused for others' leftovers.
    The same sheet previewed again is kept once, as new.
    """
    if len(data) > MAX_FILE:
        raise Invalid(f"a file to import is at most {MAX_FILE // (1024 * 1024)} MB", code="file_too_large")
    now = time.time() if now is None else now
    digest = hashlib.sha256(data).hexdigest()
    prune_pending(data_dir, now=now)
    others = sorted((at, size, path) for at, size, path in _pending(data_dir) if path.name != digest)  # oldest first
    total = sum(size for _, size, _ in others) + len(data)
    while others and (total > PENDING_BYTES or len(others) >= PENDING_FILES):
        _, size, oldest = others.pop(0)
        oldest.unlink(missing_ok=True)
        total -= size
    path = _pending_path(data_dir, digest)
    if not path.is_file():
        _write_atomically(path, data)
    os.utime(path, (now, now))  # its age counts from this preview
    return digest


def pending_file(data_dir: Path, digest: str, *, now: float | None = None) -> bytes | None:
    """The previewed sheet of this hash, or None: not previewed here, imported already, or expired."""
    if not _is_sha256(digest):
        return None
    path = _pending_path(data_dir, digest)
    try:
        if _expired(path.stat().st_mtime, time.time() if now is None else now):
            return None
        return path.read_bytes()
    except FileNotFoundError:
        return None


def drop_pending(data_dir: Path, digest: str) -> None:
    """Remove the previewed sheet of this hash (its import is done)."""
    if _is_sha256(digest):
        _pending_path(data_dir, digest).unlink(missing_ok=True)


def prune_pending(data_dir: Path, *, now: float | None = None) -> int:
    """Remove the previewed sheets past ``PENDING_HOURS``, and any half file a crash left; return how many."""
    now = time.time() if now is None else now
    removed = 0
    folder = data_dir / PENDING_DIR
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        try:
            stale = not _is_sha256(path.name) or _expired(path.stat().st_mtime, now)
            if stale and path.is_file():
                path.unlink()
                removed += 1
        except FileNotFoundError:  # removed meanwhile
            continue
    return removed


def _pending_path(data_dir: Path, digest: str) -> Path:
    return data_dir / PENDING_DIR / digest


def _pending(data_dir: Path) -> list[tuple[float, int, Path]]:
    """The pending sheets: (time kept, size, path)."""
    found = []
    folder = data_dir / PENDING_DIR
    for path in folder.iterdir() if folder.is_dir() else ():
        if _is_sha256(path.name):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            found.append((stat.st_mtime, stat.st_size, path))
    return found


def _expired(kept_at: float, now: float) -> bool:
    return now - kept_at > PENDING_HOURS * 3600
