"""Secrets that let programs in: API tokens and wiping-station upload tokens.

Only the SHA-256 of a token is stored; the token itself is shown once, when
it is created. Tokens are long random strings, so a plain hash is enough
(no password stretching needed) and lookups stay one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from node.errors import Invalid, NotFound
from node.store.database import Reader, Tx, now_ms

__all__ = ["Holder", "create_token", "check_token", "revoke_token", "create_station", "check_station"]

Role = Literal["admin", "technician", "read_only"]


@dataclass(frozen=True, slots=True)
class Holder:
    """Who presented a valid token."""

    id: int
    name: str
    role: str


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise Invalid("a name has 1 to 100 characters", code="invalid")
    return name


async def create_token(tx: Tx, name: str, role: Role) -> str:
    """Create an API token; return it (the only time it can be read)."""
    if role not in ("admin", "technician", "read_only"):
        raise Invalid("role is admin, technician or read_only", code="invalid")
    name = _check_name(name)
    if await tx.value("SELECT 1 FROM api_tokens WHERE name = ?", (name,)):
        raise Invalid(f"a token named {name!r} exists", code="duplicate_name")
    token = "mln_" + secrets.token_urlsafe(32)
    await tx.run("INSERT INTO api_tokens (name, sha256, role, created) VALUES (?, ?, ?, ?)",
                 (name, _digest(token), role, now_ms()))  # fmt: skip
    return token


async def check_token(db: Reader, token: str) -> Holder | None:
    row = await db.one("SELECT id, name, role FROM api_tokens WHERE sha256 = ? AND revoked IS NULL", (_digest(token),))
    return None if row is None else Holder(row["id"], row["name"], row["role"])


async def revoke_token(tx: Tx, name: str) -> None:
    if not await tx.changes("UPDATE api_tokens SET revoked = ? WHERE name = ? AND revoked IS NULL", (now_ms(), name)):
        raise NotFound(f"no active token named {name!r}")


async def create_station(tx: Tx, name: str) -> str:
    """Register a wiping station (ShredOS); return its upload token."""
    name = _check_name(name)
    if await tx.value("SELECT 1 FROM stations WHERE name = ?", (name,)):
        raise Invalid(f"a station named {name!r} exists", code="duplicate_name")
    token = secrets.token_urlsafe(24)
    await tx.run("INSERT INTO stations (name, sha256, created) VALUES (?, ?, ?)", (name, _digest(token), now_ms()))
    return token


async def check_station(db: Reader, name: str, token: str) -> bool:
    row = await db.one("SELECT sha256 FROM stations WHERE name = ? AND revoked IS NULL", (name,))
    return row is not None and secrets.compare_digest(row["sha256"], _digest(token))
