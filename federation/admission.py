"""Who may send which records: what the inbox refuses beyond a record's own checks (PROTOCOL.md, "Who may send what").

A signature proves who wrote a record, not that this node should hold it.
Before a batch is held (``federation.inbox.hold``), ``screen`` refuses:

- from a sender other than this node's upstream: a record whose author this
  node does not know (``unknown_author``: neither this node, nor the sender,
  nor a key known here, ``node.network.authors``), or whose kind it does not know
  (``unknown_kind``). What the upstream serves or relays is taken whatever
  its author and kind: the upstream checked it by the same rule, and a node
  follows the upstream's logs whole, holding what a newer version will read;
- a record of a key after that key's ``key.rotation/1`` (``revoked_key``):
  the rotation is the old key's last record;
- a ``key.rotation/1`` naming a weak key (``weak_key``) or a key not fresh
  (``key_not_fresh``): this node's own, the sender's, the rotating key
  itself, a key pinned here or one another rotation named;
- a ``node.descriptor/1`` whose encryption key is weak (``weak_key``).

A refused record changes nothing, as every refusal of the inbox.
"""

from __future__ import annotations

from typing import Any

from node.network import peers as trust
from node.network.authors import keys_in_use, known_authors, rotation_points
from node.network.replica import record_by_id
from node.store.database import Tx
from protocol.errors import KeyRefused, ProtocolError, Reason
from protocol.keys import PublicKey
from protocol.kinds import KINDS, KeyRotation, NodeDescriptor
from protocol.records import Record
from protocol.seal import check_encryption_key

__all__ = ["screen", "Refusal"]

Refusal = tuple[Reason, str]


def _body(record: Record, body: Any) -> Any:
    """The record's parsed body (``body`` is None, a model, or a mark that it was checked on a worker)."""
    if record.content is None:
        return None
    if isinstance(body, (KeyRotation, NodeDescriptor)):
        return body
    try:
        return record.body()
    except ProtocolError:  # refused already, or a kind this node does not read
        return None


def _weak(key: bytes) -> str | None:
    try:
        PublicKey.from_bytes(key)
    except KeyRefused as exc:
        return exc.message
    return None


async def screen(tx: Tx, me: bytes, sender: bytes | None, batch: list[tuple[Record | None, Any]]) -> list[Refusal | None]:
    """One refusal or None per ``(record, body)`` of a batch, in order (``record`` None: refused already).

    ``sender`` None: records this node's admin chose to read (a file), under
    the rules of the upstream.
    """
    records = [(i, record, body) for i, (record, body) in enumerate(batch) if record is not None]
    out: list[Refusal | None] = [None] * len(batch)
    if not records:
        return out
    peer = await trust.get_peer(tx, sender) if sender is not None else None
    follows = sender is None or (peer is not None and peer.relation == "upstream" and peer.active)
    rotations = {i: rotation.new_key for i, record, body in records if record.header.kind == KeyRotation.KIND
                 and (rotation := _body(record, body)) is not None}  # fmt: skip
    authors = {record.header.author for _, record, _ in records}
    known = await known_authors(tx, me, authors - {me, sender})
    known |= {me} | ({sender} if sender is not None else set())
    taken = await keys_in_use(tx, me, set(rotations.values()))

    # A rotation that passes names a key this batch may already carry records of (a rotated node
    # sends the old key's last records and the new key's first ones together, in the order of their keys).
    stale: dict[int, Refusal] = {}
    named: set[bytes] = set()
    for i, new_key in rotations.items():
        record = batch[i][0]
        assert record is not None
        if await record_by_id(tx, record.id) is not None:
            continue  # held already: a duplicate, nothing to judge again
        weak = _weak(new_key)
        if weak is not None:
            stale[i] = (Reason.WEAK_KEY, f"the new key of this rotation is refused: {weak}")
        elif new_key in taken or new_key in (me, sender, record.header.author) or new_key in named:
            stale[i] = (Reason.KEY_NOT_FRESH, "a rotation names a fresh key, not one already known here")
        named.add(new_key)
    introduced = {new_key for i, new_key in rotations.items() if i not in stale
                  and (follows or batch[i][0].header.author in known)}  # type: ignore[union-attr]  # fmt: skip

    rotated = await rotation_points(tx, authors)
    for i, record, body in records:
        header = record.header
        refusal: Refusal | None = None
        since = rotated.get(header.author)
        if since is not None and header.seq > since:
            refusal = (Reason.REVOKED_KEY, f"this key rotated at seq {since}: nothing of it after its rotation is taken")
        elif not follows and header.author not in known and header.author not in introduced:
            refusal = (Reason.UNKNOWN_AUTHOR, "records are taken from their author, or relayed of an author known here")
        elif not follows and header.kind not in KINDS:
            refusal = (Reason.UNKNOWN_KIND, f"{header.kind!r} is a kind this node does not know: it takes none pushed")
        elif i in stale:
            refusal = stale[i]
        elif header.kind == NodeDescriptor.KIND:
            refusal = _descriptor_key(_body(record, body))
        if refusal is None and header.kind == KeyRotation.KIND:
            rotated[header.author] = min(rotated.get(header.author, header.seq), header.seq)
        out[i] = refusal
    return out


def _descriptor_key(body: NodeDescriptor | None) -> Refusal | None:
    if body is None or body.encryption_key is None:
        return None
    try:
        check_encryption_key(body.encryption_key)
    except KeyRefused as exc:
        return (Reason.WEAK_KEY, f"the descriptor's encryption key is refused: {exc.message}")
    return None
