"""``maillon join``, ``invite``, ``peers`` and ``resync``: the federation's commands.

Their arguments are in ``federation.cli``, registered under the
``maillon.commands`` entry point group; this module runs them. aiohttp, the
client and the QR code are imported by the commands that reach another node
or draw a code: ``maillon peers`` only reads the database, and starts without them.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
from datetime import UTC, datetime

from federation.membership import accept_certificate, check_descriptor, network_name
from node.cli.commands import with_store
from node.config import Node, url_origin
from node.errors import Invalid, NotFound, RuleBroken
from node.network import outbox
from node.network import peers as trust
from node.network.conventions import Convention, list_conventions
from node.store.database import Store, now_ms
from protocol.keys import fingerprint, parse_node_id
from protocol.kinds import KeyRevocation, PeeringConvention
from protocol.records import Record
from protocol.seal import encryption_key

__all__ = ["join", "add_peer", "invite_text", "propose_convention", "accept_convention"]


def base_url(node: Node) -> str:
    """Where other nodes reach this one: its ``url``, else its listening address (a LAN address for 0.0.0.0)."""
    if node.config.url:
        return node.config.url.rstrip("/")
    host = node.config.host
    if host in ("0.0.0.0", "::", ""):
        host = lan_address()
    return f"http://{f'[{host}]' if ':' in host else host}:{node.config.port}"


def lan_address() -> str:
    """This machine's address on its local network (the interface of its default route), else loopback.

    Connecting a UDP socket sends nothing: it only picks the interface.
    """
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere
        return probe.getsockname()[0]
    return "127.0.0.1"


def invite_text(node: Node, token: str) -> str:
    """The command the invited node's admin runs (also what the QR code holds)."""
    return f"maillon join {base_url(node)} --token {token} --fingerprint {node.key.public.fingerprint}"


async def join(node: Node, store: Store, url: str, token: str, expected: str) -> trust.Peer:
    """Join the node at ``url``: check its fingerprint, present the token, pin it with its certificate."""
    origin = url_origin(url)
    if origin is None:  # before anything is asked of the hub: it would admit a node that then could not pin it
        raise Invalid(f"{url!r} is not a node's address: http(s), a host, maybe a port, no path", code="bad_url")
    url = origin
    import aiohttp  # noqa: PLC0415  (see the module's docstring)

    from federation.client import FedClient  # noqa: PLC0415

    async with aiohttp.ClientSession() as session:
        client = FedClient(session, node.key)
        hub, descriptor = check_descriptor(await client.descriptor(url), expected)
        answer = await client.join(url, hub, {
            "token": token, "name": node.config.name, "role": node.config.role if node.config.role != "national" else "hub",
            "encryption_key": encryption_key(node.key), **({"url": node.config.url} if node.config.url else {}),
        })  # fmt: skip
    await accept_certificate(store, hub, descriptor, url, answer["certificate"])
    async with store.reader() as db:
        peer = await trust.get_peer(db, hub)
    assert peer is not None
    return peer


def _reaching(args: argparse.Namespace, action) -> trust.Peer | None:
    """Run ``action(node, store)`` that calls ``args.url``; ``None`` (said on stderr) if it cannot be reached."""
    import aiohttp  # noqa: PLC0415  (see the module's docstring)

    try:
        return with_store(args, action)
    except aiohttp.ClientError as exc:
        print(f"maillon: cannot reach {args.url}: {exc}", file=sys.stderr)
        return None


def _cmd_join(args: argparse.Namespace) -> int:
    peer = _reaching(args, lambda node, store: join(node, store, args.url, args.token, args.fingerprint))
    if peer is None:
        return 2
    print(f"joined {peer.name} ({peer.role}), fingerprint {fingerprint(peer.key)}")
    print("this node's log will be sent to it as soon as the node runs (`maillon run`)")
    return 0


def _cmd_invite(args: argparse.Namespace) -> int:
    async def act(node: Node, store: Store) -> str:
        async with store.transaction() as tx:
            token = await trust.create_invitation(tx, role=args.role, note=args.note, days=args.days,
                                                  member_since=args.member_since)  # fmt: skip
        return invite_text(node, token)

    text = with_store(args, act)
    print("Give this to the admin of the node that joins (valid once):\n")
    print(f"  {text}\n")
    import segno  # noqa: PLC0415  (see the module's docstring)

    qr = segno.make(text, error="m")
    qr.terminal(out=sys.stdout, compact=True)
    return 0


def _cmd_peers_list(args: argparse.Namespace) -> int:
    if args.data is None:
        print("maillon: peers needs --data DIR (or an action: add, revoke)", file=sys.stderr)
        return 2

    async def act(node: Node, store: Store) -> tuple[list[trust.Peer], dict[bytes, int], str | None]:
        async with store.reader() as db:
            return await trust.list_peers(db), await outbox.queue_sizes(db), store.writes_held

    peers, queues, held = with_store(args, act)
    if held:
        print(f"READ-ONLY: {held}\n  (`maillon resync --data DIR` tells more)")
    if not peers:
        print("no peer yet: `maillon join` (a member) or `maillon invite` (a hub)")
        return 0
    for peer in peers:
        contact = (datetime.fromtimestamp(peer.last_contact / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
                   if peer.last_contact else "never")  # fmt: skip
        print(f"{peer.name}\n  {peer.relation} {peer.role}, {peer.state}; fingerprint {fingerprint(peer.key)}"
              f"\n  url {peer.url or '(unreachable: it calls us)'}; last contact {contact}; queued {queues.get(peer.key, 0)}"
              + (f"; {peer.failures} failures, last: {peer.last_error}" if peer.failures else ""))  # fmt: skip
    return 0


def _cmd_resync(args: argparse.Namespace) -> int:
    async def act(node: Node, store: Store) -> tuple[str | None, list[trust.Peer]]:
        async with store.reader() as db:
            holders = [p for p in await trust.list_peers(db, active_only=True) if p.url]
        held = store.writes_held
        if held and args.accept_fork_risk:
            await store.release_writes()
        return held, holders

    held, holders = with_store(args, act)
    if not held:
        print("this node signs: its log is whole as far as it knows (nothing to take back)")
        return 0
    if args.accept_fork_risk:
        print("released: this node signs again without its log taken back. If it signed records after the backup"
              " that no node gave back, its next records fork its log: the nodes that hold the old ones freeze it"
              " and raise an alert, and its admin must then revoke this key and join again with a new one.")  # fmt: skip
        return 0
    names = ", ".join(f"{p.name} ({p.relation} {p.role}, {p.url})" for p in holders) or "none (no node it can call)"
    print(f"read-only: {held}\n  nodes it asks, while `maillon run` runs: {names}\n  once one of them answers, it"
          " signs again by itself. If none ever can (the hub alone was restored and its members are behind NAT"
          " or gone), `maillon resync --data DIR --accept-fork-risk` releases it, at the risk it names.")  # fmt: skip
    return 1


async def add_peer(node: Node, store: Store, url: str, expected: str) -> trust.Peer:
    """Trust the node at ``url`` as a peer if its fingerprint is ``expected`` (else change nothing)."""
    import aiohttp  # noqa: PLC0415  (see the module's docstring)

    from federation.client import FedClient  # noqa: PLC0415

    async with aiohttp.ClientSession() as session:
        key, descriptor = check_descriptor(await FedClient(session, node.key).descriptor(url), expected)
    async with store.transaction() as tx:
        return await trust.pin_peer(tx, key, name=descriptor.name, role=descriptor.role, relation="peer", url=url,
                                    encryption_key=descriptor.encryption_key, network=descriptor.network)  # fmt: skip


def _cmd_peers_add(args: argparse.Namespace) -> int:
    peer = _reaching(args, lambda node, store: add_peer(node, store, args.url, args.fingerprint))
    if peer is None:
        return 2
    print(f"now trusting {peer.name} ({peer.role}), fingerprint {fingerprint(peer.key)}")
    return 0


def _cmd_peers_revoke(args: argparse.Namespace) -> int:
    key = parse_node_id(args.node).raw

    async def act(node: Node, store: Store) -> trust.Peer:
        async with store.transaction() as tx:
            peer = await trust.get_peer(tx, key)
            if peer is None:
                raise NotFound(f"{args.node} is not a peer of this node", code="unknown_peer")
            await tx.append(KeyRevocation(key=key, from_seq=args.from_seq, reason=args.reason))
            await trust.revoke_peer(tx, key, args.from_seq)
            return peer

    peer = with_store(args, act)
    print(f"revoked {peer.name} ({fingerprint(peer.key)}) from seq {args.from_seq}; the revocation is signed in this node's log")
    return 0


async def propose_convention(node: Node, store: Store, other: bytes, scope: str, days: int) -> Record:
    """Sign a convention with the peered hub ``other``; it is in force once ``other`` signs it too."""
    if node.config.role != "hub":
        raise RuleBroken("only a hub signs peering conventions", code="not_a_hub")
    if not 1 <= days <= 3660:
        raise Invalid("a convention is valid 1 to 3660 days", code="invalid")
    async with store.transaction() as tx:
        peer = await trust.get_peer(tx, other)
        if peer is None or not peer.active or peer.role != "hub":
            raise RuleBroken("the other party must be a hub this node trusts (`maillon peers add`)", code="unknown_peer")
        mine = (tx.author, network_name(node))
        theirs = (other, peer.network or peer.name)
        first, second = sorted([mine, theirs])
        now = now_ms()
        body = PeeringConvention(hubs=[first[0], second[0]], networks=[first[1], second[1]], scope=scope.strip(),
                                 valid_from=now, valid_until=now + days * 86_400_000)  # fmt: skip
        return await tx.append(body)


async def accept_convention(node: Node, store: Store, record_id: bytes) -> Record:
    """Sign, byte for byte, a convention the other hub signed."""
    async with store.transaction() as tx:
        for convention in await list_conventions(tx, tx.author):
            if record_id in convention.record_ids:
                if tx.author in convention.signed_by:
                    raise RuleBroken("this node already signed this convention", code="already_signed")
                return await tx.append(convention.body)
    raise NotFound("no convention naming this node has that record id", code="unknown_convention")


def _cmd_convention_propose(args: argparse.Namespace) -> int:
    other = parse_node_id(args.node).raw
    record = with_store(args, lambda node, store: propose_convention(node, store, other, args.scope, args.days))
    print(f"convention proposed (record {record.id.hex()}); in force once the other hub accepts it")
    return 0


def _cmd_convention_accept(args: argparse.Namespace) -> int:
    try:
        record_id = bytes.fromhex(args.record)
    except ValueError:
        print("maillon: a record id is 64 hexadecimal digits", file=sys.stderr)
        return 2
    record = with_store(args, lambda node, store: accept_convention(node, store, record_id))
    print(f"convention signed (record {record.id.hex()}); it is in force for both networks")
    return 0


def _cmd_conventions(args: argparse.Namespace) -> int:
    async def act(node: Node, store: Store) -> list[Convention]:
        async with store.reader() as db:
            return await list_conventions(db)

    conventions = with_store(args, act)
    if not conventions:
        print("no peering convention")
    now = now_ms()
    for c in conventions:
        until = datetime.fromtimestamp(c.body.valid_until / 1000, UTC).strftime("%Y-%m-%d")
        print(f"{' / '.join(c.body.networks)}: {c.state(now)} until {until}; {c.body.scope}")
        print(f"  record {c.record_ids[0].hex()}; signed by {', '.join(fingerprint(k) for k in sorted(c.signed_by))}")
    return 0
