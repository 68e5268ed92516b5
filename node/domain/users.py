"""People who log into the web interface: accounts, roles, sessions, the audit log.

Passwords are hashed with scrypt (hashlib, RFC 7914) and a per-user salt.
Session tokens are random; only their SHA-256 is stored. There is no
default account: the first admin is created with the one-time setup code
the node prints at start (or with ``maillon user add``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from node.errors import Invalid, NotFound, RuleBroken
from node.store.database import Reader, Tx, now_ms

__all__ = [
    "User", "Session", "ROLES", "create_user", "authenticate", "set_password", "set_role", "disable_user",
    "list_users", "has_users", "open_session", "session_of", "close_session", "audit", "audit_log",
    "hash_password", "check_password", "SESSION_MS", "SESSION_IDLE_MS", "renew_session", "get_user",
]  # fmt: skip

ROLES = ("admin", "technician", "read_only")
Role = Literal["admin", "technician", "read_only"]
SESSION_MS = 12 * 3_600_000  # the longest a session lasts, however busy: a workshop day
# A session unused this long ends: a shared workshop computer left logged in does not stay open all day.
SESSION_IDLE_MS = 3_600_000
RENEW_AFTER_MS = 5 * 60_000  # a session in use is pushed back at most this often (one write, not one per page)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD = 10


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: str
    language: str
    created: int
    disabled: int | None

    def may(self, role: str) -> bool:
        """Whether this user has at least ``role`` (read_only < technician < admin)."""
        return ROLES.index(self.role) <= ROLES.index(role)


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf: str
    expires: int
    created: int = 0

    def needs_renewal(self, now: int) -> bool:
        """Whether using the session now should push its end back (idle limit, never past the day's)."""
        return self.expires < min(now + SESSION_IDLE_MS - RENEW_AFTER_MS, self.created + SESSION_MS)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), dklen=32,
                                  n=int(n), r=int(r), p=int(p))  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, bytes.fromhex(digest))


def _check_username(username: str) -> str:
    username = username.strip()
    if not 2 <= len(username) <= 60 or not all(c.isalnum() or c in "._-@" for c in username):
        raise Invalid("a user name has 2 to 60 letters, digits, . _ - or @", code="invalid_username")
    return username


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD or len(password) > 200:
        raise Invalid(f"a password has at least {MIN_PASSWORD} characters", code="weak_password")


_FIELDS = "id, username, role, language, created, disabled"


async def create_user(tx: Tx, username: str, password: str, role: Role, language: str = "fr") -> int:
    username = _check_username(username)
    _check_password(password)
    if role not in ROLES:
        raise Invalid("role is admin, technician or read_only", code="invalid")
    if await tx.value("SELECT 1 FROM users WHERE username = ?", (username,)):
        raise Invalid(f"the user {username!r} exists", code="duplicate_name")
    return await tx.run(
        "INSERT INTO users (username, password_hash, role, language, created) VALUES (?, ?, ?, ?, ?)",
        (username, hash_password(password), role, language if language in ("fr", "en") else "fr", now_ms()),
    )


async def has_users(db: Reader) -> bool:
    return bool(await db.value("SELECT 1 FROM users LIMIT 1"))


async def authenticate(db: Reader, username: str, password: str) -> User | None:
    """The user if the password is right and the account active; ``None`` otherwise."""
    row = await db.one(f"SELECT {_FIELDS}, password_hash FROM users WHERE username = ?", (username.strip(),))
    if row is None:
        check_password(password, hash_password("timing"))  # same work whether or not the user exists
        return None
    values = dict(row)
    if not check_password(password, values.pop("password_hash")) or values["disabled"]:
        return None
    return User(**values)


async def get_user(db: Reader, user_id: int) -> User:
    row = await db.one(f"SELECT {_FIELDS} FROM users WHERE id = ?", (user_id,))
    if row is None:
        raise NotFound(f"no user {user_id}")
    return User(**dict(row))


async def list_users(db: Reader) -> list[User]:
    return [User(**dict(r)) for r in await db.all(f"SELECT {_FIELDS} FROM users ORDER BY username")]


async def set_password(tx: Tx, user_id: int, password: str) -> None:
    _check_password(password)
    if not await tx.changes("UPDATE users SET password_hash = ? WHERE id = ?", (hash_password(password), user_id)):
        raise NotFound(f"no user {user_id}")
    await tx.run("DELETE FROM sessions WHERE user_id = ?", (user_id,))


async def _admins_left(tx: Tx, excluding: int) -> int:
    return await tx.value(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled IS NULL AND id != ?", (excluding,)
    )


async def set_role(tx: Tx, user_id: int, role: Role) -> None:
    if role not in ROLES:
        raise Invalid("role is admin, technician or read_only", code="invalid")
    if role != "admin" and not await _admins_left(tx, user_id):
        raise RuleBroken("the node needs at least one admin", code="last_admin")
    if not await tx.changes("UPDATE users SET role = ? WHERE id = ?", (role, user_id)):
        raise NotFound(f"no user {user_id}")


async def disable_user(tx: Tx, user_id: int) -> None:
    if not await _admins_left(tx, user_id):
        raise RuleBroken("the node needs at least one admin", code="last_admin")
    if not await tx.changes("UPDATE users SET disabled = ? WHERE id = ? AND disabled IS NULL", (now_ms(), user_id)):
        raise NotFound(f"no active user {user_id}")
    await tx.run("DELETE FROM sessions WHERE user_id = ?", (user_id,))


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", errors="replace")).digest()


async def open_session(tx: Tx, user: User) -> str:
    """Start a session; return its cookie token."""
    token = secrets.token_urlsafe(32)
    now = now_ms()
    await tx.run("DELETE FROM sessions WHERE expires < ?", (now,))
    await tx.run("INSERT INTO sessions (sha256, user_id, csrf, created, expires) VALUES (?, ?, ?, ?, ?)",
                 (_digest(token), user.id, secrets.token_urlsafe(24), now, now + SESSION_IDLE_MS))  # fmt: skip
    return token


async def renew_session(tx: Tx, token: str) -> None:
    """Push an active session's end back by the idle limit, never past ``SESSION_MS`` after its start."""
    now = now_ms()
    await tx.run("UPDATE sessions SET expires = min(created + ?, ?) WHERE sha256 = ? AND expires > ?",
                 (SESSION_MS, now + SESSION_IDLE_MS, _digest(token), now))  # fmt: skip


async def session_of(db: Reader, token: str) -> Session | None:
    row = await db.one(
        "SELECT s.csrf, s.expires, s.created AS session_created, "
        f"{', '.join('u.' + f for f in _FIELDS.split(', '))} FROM sessions s"
        " JOIN users u ON u.id = s.user_id WHERE s.sha256 = ? AND s.expires > ? AND u.disabled IS NULL",
        (_digest(token), now_ms()),
    )
    if row is None:
        return None
    values = dict(row)
    return Session(User(**{k: values[k] for k in _FIELDS.split(", ")}), values["csrf"], values["expires"],
                   values["session_created"])  # fmt: skip


async def close_session(tx: Tx, token: str) -> None:
    await tx.run("DELETE FROM sessions WHERE sha256 = ?", (_digest(token),))


async def audit(tx: Tx, user: User | None, action: str, target: str | None = None, detail: str | None = None) -> None:
    """Note who did what; kept in the same transaction as the action."""
    await tx.run("INSERT INTO audit (time, user_id, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                 (now_ms(), user.id if user else None, user.username if user else "-", action[:100],
                  (target or "")[:200] or None, (detail or "")[:1000] or None))  # fmt: skip


async def count_audit(db: Reader) -> int:
    row = await db.one("SELECT COUNT(*) AS n FROM audit")
    return int(row["n"])


async def audit_log(db: Reader, *, limit: int = 100, offset: int = 0) -> list[dict]:
    rows = await db.all("SELECT time, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT ? OFFSET ?",
                        (limit, offset))  # fmt: skip
    return [dict(r) for r in rows]
