"""Documents and evidence files, stored by content (their SHA-256) beside the database."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from node.errors import Invalid

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
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    return digest


def file_path(data_dir: Path, digest: str) -> Path:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise Invalid("not a SHA-256", code="invalid")
    return data_dir / FILES_DIR / digest[:2] / digest
