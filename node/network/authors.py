"""The authors this node knows, and where a rotated key's log ends: what the inbox asks before holding a record.

A node holds records relayed to it only of authors it knows (PROTOCOL.md,
"Who may send what"), and nothing of a key after that key's
``key.rotation/1``. Knowing an author never comes from what a node says of
itself: a key is known when this node pinned it (a join, an admin's
choice, a rotation it followed), when a node it pinned certified it
(``membership.certificate/1``), or when a known key named it as its
successor (``key.rotation/1``).
"""

from __future__ import annotations

from collections.abc import Iterable

from node.domain.memberships import certificates
from node.network.stats_reports import own_keys
from node.store.database import Reader
from protocol import canonical
from protocol.kinds import KeyRotation

__all__ = ["known_authors", "keys_in_use", "rotation_points", "MAX_SUCCESSION"]

MAX_SUCCESSION = 16  # rotations followed back from a key to a known one (a node rotates a few times in its life)


def _values(keys: Iterable[bytes]) -> str:
    return ", ".join("(?)" for _ in keys)


async def known_authors(db: Reader, me: bytes, keys: Iterable[bytes]) -> set[bytes]:
    """Those of ``keys`` this node knows (see the module docstring); ``me`` is this node's key.

    This node's own keys (``me`` and those it rotated away from) are known;
    a pinned key is known whatever its state (a revocation is checked apart).
    """
    wanted = set(keys)
    if not wanted:
        return set()
    own = set(await own_keys(db, me))
    pinned = {row[0] for row in await db.all("SELECT key FROM peers")}
    known = wanted & (own | pinned)
    for key in sorted(wanted - known):
        if await certificates(db, pinned | own, member=key) or await _successor_of_known(db, key, own | pinned):
            known.add(key)
    return known


async def keys_in_use(db: Reader, me: bytes, keys: Iterable[bytes]) -> set[bytes]:
    """Those of ``keys`` a ``key.rotation/1`` may not name: this node's keys, pinned keys, successors already named.

    A key some node certified is not among them: the node that certified a
    member's new key (its hub, once it followed the rotation) may be read
    here before the rotation itself.
    """
    wanted = set(keys)
    if not wanted:
        return set()
    taken = wanted & set(await own_keys(db, me))
    taken |= {row[0] for row in await db.all(f"SELECT key FROM peers WHERE key IN (VALUES {_values(wanted)})",
                                             tuple(wanted))}  # fmt: skip
    for key in wanted - taken:
        rows = await db.all("SELECT content FROM log_records WHERE kind = ? AND content IS NOT NULL"
                            " AND instr(content, ?) > 0", (KeyRotation.KIND, key))  # fmt: skip
        if any(KeyRotation.model_validate(canonical.decode(r["content"])).new_key == key for r in rows):
            taken.add(key)
    return taken


async def _successor_of_known(db: Reader, key: bytes, trusted: set[bytes]) -> bool:
    """Whether ``key`` is named by a held ``key.rotation/1`` whose author is known, following rotations back."""
    seen = {key}
    current = [key]
    for _ in range(MAX_SUCCESSION):
        authors: set[bytes] = set()
        for successor in current:
            # the successor's key is in the content's bytes: a cheap filter before decoding
            rows = await db.all("SELECT author, content FROM log_records WHERE kind = ? AND content IS NOT NULL"
                                " AND instr(content, ?) > 0", (KeyRotation.KIND, successor))  # fmt: skip
            authors |= {r["author"] for r in rows
                        if KeyRotation.model_validate(canonical.decode(r["content"])).new_key == successor}  # fmt: skip
        if authors & trusted:
            return True
        for author in authors - seen:
            if await certificates(db, trusted, member=author):
                return True
        current = list(authors - seen)
        seen |= authors
        if not current:
            return False
    return False


async def rotation_points(db: Reader, authors: Iterable[bytes]) -> dict[bytes, int]:
    """For each of ``authors`` whose ``key.rotation/1`` is held here, its seq: that key's last record."""
    authors = list(set(authors))
    if not authors:
        return {}
    rows = await db.all(f"SELECT author, min(seq) FROM log_records WHERE kind = ? AND author IN (VALUES {_values(authors)})"
                        " GROUP BY author", (KeyRotation.KIND, *authors))  # fmt: skip
    return {row[0]: row[1] for row in rows}
