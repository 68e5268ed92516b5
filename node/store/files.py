"""Documents and evidence files, stored by content (their SHA-256) beside the database."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from node.errors import Invalid, StoreError

__all__ = ["FILES_DIR", "store_file", "file_path", "MAX_FILE"]

FILES_DIR = "files"
MAX_FILE = 50 * 1024 * 1024


def store_file(data_dir: Path, data: bytes) -> str:
    """Keep ``data`` under ``files/<sha256>`` (written once, atomically); return the hash."""
    if len(data) > MAX_FILE:
        raise Invalid(f"a document is at most {MAX_FILE // (1024 * 1024)} MB", code="file_too_large")
    digest = hashlib.sha256(data).hexdigest()
    path = file_path(data_dir, digest)
    if not path.exists():
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
    return digest


def _write(handle: BinaryIO, data: bytes) -> None:
    """Write ``data`` and wait until the disk holds it."""
    handle.write(data)
    handle.flush()
    os.fsync(handle.fileno())


def file_path(data_dir: Path, digest: str) -> Path:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise Invalid("not a SHA-256", code="invalid")
    return data_dir / FILES_DIR / digest[:2] / digest
