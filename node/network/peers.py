"""The nodes this one trusts and the invitations it gave (the alerts it raises: ``node.domain.alerts``).

Trust is a pinned key: a row of ``peers`` is written only by a join, an
accepted invitation or an admin's explicit choice, never by discovery. The
federation (``federation/``) calls these functions; it writes no SQL itself.

Back-off: each failed send to a peer doubles the wait (5 s … 1 h) with a
random jitter, stored here so that a restart keeps it; a valid signed
request from that peer resets it (the peer is back).
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
from dataclasses import dataclass
from typing import Literal

from node.config import url_origin
from node.domain.alerts import raise_alert
from node.errors import Invalid, NotFound, RuleBroken
from node.store.database import Reader, Tx, now_ms
from protocol.errors import KeyRefused
from protocol.keys import node_id
from protocol.seal import check_encryption_key

__all__ = [
    "Peer", "Invitation", "get_peer", "list_peers", "pin_peer", "update_peer_descriptor",
    "set_peer_url", "mark_contact", "mark_failure", "revoke_peer", "rotate_peer", "backoff_ms",
    "create_invitation", "use_invitation", "void_invitation", "list_invitations", "Relation",
]  # fmt: skip

Relation = Literal["upstream", "downstream", "peer"]
RELATIONS = ("upstream", "downstream", "peer")
ROLES = ("member", "hub", "national")
BACKOFF_FIRST_MS = 5_000
BACKOFF_MAX_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Peer:
    """A trusted node: its pinned key, where to reach it, how sending to it goes."""

    key: bytes
    name: str
    role: str
    relation: str
    url: str | None
    encryption_key: bytes | None
    network: str | None
    state: str
    revoked_from: int | None
    added: int
    last_contact: int | None
    failures: int
    next_attempt: int
    last_error: str | None
    mailbox_cursor: int

    @property
    def node_id(self) -> str:
        return node_id(self.key)

    @property
    def active(self) -> bool:
        return self.state == "active"


_PEER_COLUMNS = ", ".join(Peer.__dataclass_fields__)


def _peer(row) -> Peer:
    return Peer(*(row[name] for name in Peer.__dataclass_fields__))


async def get_peer(db: Reader, key: bytes) -> Peer | None:
    row = await db.one(f"SELECT {_PEER_COLUMNS} FROM peers WHERE key = ?", (key,))
    return None if row is None else _peer(row)


async def list_peers(db: Reader, *, relation: str | None = None, active_only: bool = False) -> list[Peer]:
    sql = f"SELECT {_PEER_COLUMNS} FROM peers WHERE (? IS NULL OR relation = ?)"
    if active_only:
        sql += " AND state = 'active'"
    return [_peer(row) for row in await db.all(sql + " ORDER BY relation, name", (relation, relation))]


def _check_url(url: str | None) -> str | None:
    """``url`` as an origin (``scheme://host[:port]``), None if empty; ``Invalid`` (``bad_url``) otherwise.

    A node is reached at an origin: a path, a query or credentials would let
    a node choose where, on a server, this one sends its requests.
    """
    if url is None or not url.strip():
        return None
    origin = url_origin(url)
    if origin is None:
        raise Invalid(f"{url.strip()[:300]!r} is not an http(s) origin (scheme, host, port; no path)", code="bad_url")
    return origin


def _check_encryption_key(encryption_key: bytes | None) -> bytes | None:
    if encryption_key is None:
        return None
    try:
        return check_encryption_key(encryption_key)
    except KeyRefused as exc:
        raise Invalid(f"encryption key refused: {exc.message}", code="weak_key") from exc


async def pin_peer(tx: Tx, key: bytes, *, name: str, role: str, relation: str, url: str | None = None,
                   encryption_key: bytes | None = None, network: str | None = None) -> Peer:  # fmt: skip
    """Trust ``key``: insert it, or update a known one (a re-join keeps its history)."""
    if len(key) != 32:
        raise Invalid("a node key is 32 bytes", code="bad_key")
    if key == tx.author:
        raise RuleBroken("a node does not pin its own key", code="own_key")
    if role not in ROLES or relation not in RELATIONS:
        raise Invalid(f"role {role!r} / relation {relation!r} unknown", code="invalid")
    if encryption_key is not None and len(encryption_key) != 32:
        raise Invalid("an encryption key is 32 bytes", code="bad_key")
    encryption_key = _check_encryption_key(encryption_key)
    name = name.strip()[:200] or node_id(key)[:12]
    await tx.run(
        "INSERT INTO peers (key, name, role, relation, url, encryption_key, network, added)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET name = excluded.name, role = excluded.role, relation = excluded.relation,"
        " url = coalesce(excluded.url, url), encryption_key = coalesce(excluded.encryption_key, encryption_key),"
        " network = coalesce(excluded.network, network)",
        (key, name, role, relation, _check_url(url), encryption_key, network, now_ms()),
    )
    peer = await get_peer(tx, key)
    assert peer is not None
    return peer


async def update_peer_descriptor(tx: Tx, key: bytes, *, name: str, role: str, url: str | None,
                                 encryption_key: bytes | None, network: str | None) -> bool:  # fmt: skip
    """What a peer's newer ``node.descriptor/1`` says about it; ``False`` if not a peer.

    A descriptor is what a node says of itself: it may rename the node, move
    it (a new origin, shown to the admin as an alert ``url_changed``) and
    give its encryption key, never change its role, which the certificate
    its issuer signed fixed when it was pinned (``role_not_certified``). A
    refused descriptor (also ``bad_url``, ``weak_key``) changes nothing.
    """
    peer = await get_peer(tx, key)
    if peer is None:
        return False
    if role != peer.role:
        raise RuleBroken(f"this node is pinned as a {peer.role}; its own descriptor cannot make it a {role}",
                         code="role_not_certified")  # fmt: skip
    url = _check_url(url)
    encryption_key = _check_encryption_key(encryption_key)
    await tx.run(
        "UPDATE peers SET name = ?, url = coalesce(?, url), encryption_key = coalesce(?, encryption_key),"
        " network = coalesce(?, network) WHERE key = ?",
        (name.strip()[:200] or peer.name, url, encryption_key, network, key),
    )
    if url is not None and url != peer.url:
        await raise_alert(tx, "url_changed", "url_changed", peer=key, author=key,
                          detail=f"{peer.url or '(none)'} -> {url}")  # fmt: skip
    return True


async def set_peer_url(tx: Tx, key: bytes, url: str) -> None:
    """A known key seen at a new address (discovery, an admin's edit)."""
    if not await tx.changes("UPDATE peers SET url = ? WHERE key = ?", (_check_url(url), key)):
        raise NotFound(f"{node_id(key)} is not a known peer", code="unknown_peer")


async def mark_contact(tx: Tx, key: bytes, *, at: int | None = None) -> None:
    """A valid signed exchange with the peer: it is up, so sending may resume at once."""
    await tx.run("UPDATE peers SET last_contact = ?, failures = 0, next_attempt = 0, last_error = NULL WHERE key = ?",
                 (at if at is not None else now_ms(), key))  # fmt: skip


def backoff_ms(failures: int, *, first: int = BACKOFF_FIRST_MS, cap: int = BACKOFF_MAX_MS,
               rng: random.Random | None = None) -> int:  # fmt: skip
    """Wait after ``failures`` consecutive failures: doubling, capped, with ±20 % jitter."""
    base = min(cap, first * 2 ** min(max(failures - 1, 0), 20))
    return int(base * (rng or random).uniform(0.8, 1.2))


async def mark_failure(tx: Tx, key: bytes, error: str, *, at: int | None = None, first: int = BACKOFF_FIRST_MS,
                       cap: int = BACKOFF_MAX_MS) -> int:  # fmt: skip
    """A failed send: count it and set the next attempt; return the wait in ms."""
    at = at if at is not None else now_ms()
    failures = (await tx.value("SELECT failures FROM peers WHERE key = ?", (key,)) or 0) + 1
    wait = backoff_ms(failures, first=first, cap=cap)
    await tx.run("UPDATE peers SET failures = ?, next_attempt = ?, last_error = ? WHERE key = ?",
                 (failures, at + wait, error[:500], key))  # fmt: skip
    return wait


async def revoke_peer(tx: Tx, key: bytes, from_seq: int) -> None:
    """Refuse the key's requests, and its records from ``from_seq`` on."""
    await tx.run(
        "UPDATE peers SET state = 'revoked', revoked_from = min(coalesce(revoked_from, ?), ?) WHERE key = ?",
        (from_seq, from_seq, key),
    )
    await tx.run("DELETE FROM outbox WHERE peer = ?", (key,))


async def rotate_peer(tx: Tx, old: bytes, new: bytes) -> None:
    """The peer's old key named its successor: trust the new key the same way.

    The successor is a fresh key (the inbox refuses a rotation naming a
    known key, ``key_not_fresh``): never a key pinned here, whatever its state.
    """
    peer = await get_peer(tx, old)
    if peer is None:
        return
    if new == tx.author or await get_peer(tx, new) is not None:
        raise RuleBroken(f"{node_id(new)} is already known here: a rotation names a fresh key", code="key_not_fresh")
    await tx.run(
        "INSERT INTO peers (key, name, role, relation, url, network, added, last_contact, mailbox_cursor)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        (new, peer.name, peer.role, peer.relation, peer.url, peer.network, now_ms(), peer.last_contact,
         peer.mailbox_cursor),
    )  # fmt: skip
    await tx.run("UPDATE peers SET state = 'rotated' WHERE key = ? AND state = 'active'", (old,))
    # what waited for the old key now waits for the new one (the same node)
    await tx.run("UPDATE OR IGNORE outbox SET peer = ? WHERE peer = ?", (new, old))
    await tx.run("DELETE FROM outbox WHERE peer = ?", (old,))


# Invitations ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    role: str
    note: str
    created: int
    expires: int
    used: int | None
    used_by: bytes | None
    member_since: int | None = None  # the membership's start when before the join (millis)
    repeated: bool = False  # presented again by the key that used it (``use_invitation``)


MEMBER_SINCE_MAX_DAYS = 3660  # how far back a membership may be said to have begun


def _token_digest(token: str) -> bytes:
    return hashlib.sha256(token.strip().encode("utf-8")).digest()


async def create_invitation(tx: Tx, *, role: str = "member", note: str = "", days: int = 7,
                            member_since: int | None = None) -> str:  # fmt: skip
    """A one-time token for a node to join this one; returned once, stored hashed.

    ``member_since`` (millis, in the past, at most ``MEMBER_SINCE_MAX_DAYS``
    ago): the membership began before the node joins; its certificate is
    valid from then, so its reports for those periods count.
    """
    if role not in ("member", "hub"):
        raise Invalid("an invitation admits a member or a hub", code="invalid")
    if not 1 <= days <= 90:
        raise Invalid("an invitation is valid 1 to 90 days", code="invalid")
    now = now_ms()
    if member_since is not None and not now - MEMBER_SINCE_MAX_DAYS * 86_400_000 <= member_since <= now:
        raise Invalid(f"a membership begins today or in the last {MEMBER_SINCE_MAX_DAYS} days", code="invalid")
    # base32: letters and digits only, so it never starts with "-" on a command line
    token = base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()
    await tx.run("INSERT INTO invitations (sha256, role, note, created, expires, member_since) VALUES (?, ?, ?, ?, ?, ?)",
                 (_token_digest(token), role, note.strip()[:200], now, now + days * 86_400_000, member_since))  # fmt: skip
    return token


async def use_invitation(tx: Tx, token: str, key: bytes) -> Invitation:
    """Consume an invitation for ``key``; refused if unknown, used by another key or expired.

    A token is used once. The key that used it may present it again (the
    answer to its join was lost): the invitation comes back ``repeated``,
    and nothing changes.
    """
    row = await tx.one("SELECT * FROM invitations WHERE sha256 = ?", (_token_digest(token),))
    if row is None:
        raise RuleBroken("this invitation token is unknown", code="bad_invitation")
    if row["used"] is not None:
        if row["used_by"] != key:
            raise RuleBroken("this invitation was already used", code="bad_invitation")
        return Invitation(row["id"], row["role"], row["note"], row["created"], row["expires"], row["used"], key,
                          row["member_since"], repeated=True)  # fmt: skip
    if row["expires"] < now_ms():
        raise RuleBroken("this invitation has expired", code="bad_invitation")
    await tx.run("UPDATE invitations SET used = ?, used_by = ? WHERE id = ?", (now_ms(), key, row["id"]))
    return Invitation(row["id"], row["role"], row["note"], row["created"], row["expires"], now_ms(), key,
                      row["member_since"])  # fmt: skip


async def void_invitation(tx: Tx, token: str, key: bytes) -> None:
    """A key this node no longer trusts (revoked, rotated out) presented ``token``: if unused, it is void from now on.

    It is marked used by that key, so that no other key (a new one the same
    node made) is admitted with it.
    """
    await tx.run("UPDATE invitations SET used = ?, used_by = ? WHERE sha256 = ? AND used IS NULL",
                 (now_ms(), key, _token_digest(token)))  # fmt: skip


async def list_invitations(db: Reader) -> list[Invitation]:
    rows = await db.all("SELECT id, role, note, created, expires, used, used_by, member_since FROM invitations"
                        " ORDER BY id DESC")  # fmt: skip
    return [Invitation(*row) for row in rows]
