"""Joining: a hub admits a member (national admits a hub) with a one-time invitation.

The hub's admin makes an invitation (``maillon invite``): the hub's URL, a
one-time token and the hub's fingerprint, given to the member's admin as
text or a QR code. The member fetches the hub's descriptor, compares its
author's fingerprint with the one given (a mismatch stops everything: pin
nothing), then calls ``/fed/v1/join`` signed with its own key. The hub checks
the token, pins the member's key and signs a ``membership.certificate/1`` (valid from the
membership's start, the join unless the invitation says an earlier date,
for a year);
the member pins the hub's key and queues its whole log for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from node.config import Node
from node.domain import memberships
from node.errors import Invalid, RuleBroken
from node.network import outbox
from node.network import peers as trust
from node.network.replica import record_by_id
from node.network.stats_reports import own_keys
from node.store.database import Store, Tx, now_ms
from protocol import canonical
from protocol.errors import KeyRefused, ProtocolError
from protocol.keys import fingerprint
from protocol.kinds import MembershipCertificate, NodeDescriptor
from protocol.records import open_entry
from protocol.seal import check_encryption_key

__all__ = ["admit", "check_descriptor", "accept_certificate", "membership_start", "CERTIFICATE_DAYS"]

CERTIFICATE_DAYS = 366


async def admit(store: Store, node: Node, member: bytes, request: dict[str, Any]) -> bytes:
    """Hub side of a join: consume the token, pin the member, sign its certificate; return the certificate entry.

    A key that used its token already is answered its certificate again, and
    nothing is signed. A key this node revoked (or that rotated away) is
    never admitted again: refused (``revoked_key``), and the token it
    presented is void.
    """
    name = request["name"].strip()
    if not 1 <= len(name) <= 200:
        raise Invalid("name: 1 to 200 characters", code="bad_request")
    if len(request["encryption_key"]) != 32:
        raise Invalid("encryption_key: 32 bytes", code="bad_request")
    try:
        check_encryption_key(request["encryption_key"])
    except KeyRefused as exc:
        raise Invalid(f"encryption_key: {exc.message}", code="weak_key") from exc
    if node.config.role == "member":
        raise RuleBroken("a member node admits no one", code="not_a_hub")
    async with store.transaction() as tx:
        known = await trust.get_peer(tx, member)
        if known is not None and not known.active:
            await trust.void_invitation(tx, request["token"], member)
        else:
            entry = await _admit(tx, node, member, name, request)
    if known is not None and not known.active:  # raised once the voiding is committed
        raise RuleBroken(f"this key is {known.state} here: it is not admitted again", code="revoked_key")
    return entry


async def _admit(tx: Tx, node: Node, member: bytes, name: str, request: dict[str, Any]) -> bytes:
    invitation = await trust.use_invitation(tx, request["token"], member)
    if request["role"] != invitation.role:
        raise RuleBroken(f"this invitation admits a {invitation.role}", code="bad_invitation")
    if invitation.repeated:
        held = await memberships.certificates(tx, await own_keys(tx, tx.author), member=member)
        if held:
            latest = await record_by_id(tx, held[-1].record_id)
            assert latest is not None
            return canonical.encode([latest.envelope, latest.content])
    await trust.pin_peer(tx, member, name=name, role=invitation.role, relation="downstream",
                         url=request.get("url"), encryption_key=request["encryption_key"])  # fmt: skip
    now = now_ms()
    record = await tx.append(MembershipCertificate(
        member=member, member_name=name, role=invitation.role, network=network_name(node),
        valid_from=invitation.member_since or now, valid_until=now + CERTIFICATE_DAYS * 86_400_000,
    ))  # fmt: skip
    return record.entry()


def membership_start(text: str) -> int:
    """A membership's first day, ``YYYY-MM-DD`` (Paris time, where the networks are), as the millis of its midnight.

    Raises ``Invalid`` (``invalid``) for anything else; ``create_invitation``
    checks the day is not in the future nor too far back.
    """
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=ZoneInfo("Europe/Paris"))
    except ValueError:
        raise Invalid(f"{text!r} is not a day: write YYYY-MM-DD", code="invalid") from None
    return int(day.timestamp()) * 1000


def network_name(node: Node) -> str:
    """The network a hub runs is named after the hub; national is its own network."""
    return node.config.network or node.config.name


def check_descriptor(entry: bytes, expected_fingerprint: str) -> tuple[bytes, NodeDescriptor]:
    """The hub's key and descriptor, if its author's fingerprint is the one the invitation gave."""
    try:
        record = open_entry(entry)
        body = record.body()
    except ProtocolError as exc:
        raise RuleBroken(f"the node's descriptor does not verify: {exc}", code="bad_descriptor") from exc
    if not isinstance(body, NodeDescriptor):
        raise RuleBroken("the node did not answer with its descriptor", code="bad_descriptor")
    wanted = expected_fingerprint.strip().upper()
    if fingerprint(record.header.author) != wanted:
        raise RuleBroken(
            f"fingerprint mismatch: the node at this address is {fingerprint(record.header.author)}, "
            f"the invitation says {wanted}. Nothing was changed; check the address.", code="fingerprint_mismatch",
        )  # fmt: skip
    if body.encryption_key is not None:
        try:
            check_encryption_key(body.encryption_key)
        except KeyRefused as exc:
            raise RuleBroken(f"the node publishes an unusable encryption key: {exc.message}", code="weak_key") from exc
    return record.header.author, body


async def accept_certificate(store: Store, hub: bytes, descriptor: NodeDescriptor, url: str, certificate: bytes) -> None:
    """Member side: the certificate is the hub's, for us; pin the hub and queue our whole log for it."""
    try:
        record = open_entry(certificate)
        body = record.body()
    except ProtocolError as exc:
        raise RuleBroken(f"the certificate does not verify: {exc}", code="bad_certificate") from exc
    if record.header.author != hub or not isinstance(body, MembershipCertificate) or body.member != store.key.public.raw:
        raise RuleBroken("the hub answered with a certificate that is not ours", code="bad_certificate")
    async with store.transaction() as tx:
        await trust.pin_peer(tx, hub, name=descriptor.name, role=descriptor.role, relation="upstream", url=url,
                             encryption_key=descriptor.encryption_key, network=body.network)  # fmt: skip
        await outbox.enqueue_log(tx, hub, tx.author)
