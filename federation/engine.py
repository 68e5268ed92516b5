"""The federation of one running node: routing, one send loop per peer, pulls, discovery.

``Federation`` is made by the node's HTTP service (``web_ui/service.py``),
which mounts ``federation.server`` next to the web interface and calls
``start`` and ``stop``. Everything it does is driven by the database:

- **Routing**: each record the node appends is queued (``node.network.outbox``) for
  its upstream (its hub keeps its whole log, headers at least) and for the
  pinned peers in its audience. A restart routes what was not routed yet.
- **Sending**: one loop per reachable peer pushes its queue in batches,
  each author's records in seq order; a failure sets a back-off (stored,
  with jitter); a valid request from the peer resets it; a ``gap`` answer
  queues the records the peer lacks. Rows go only once the peer holds them.
- **Pulling** (a member from its hub, a hub from national): its own log
  (after a restore, what the hub holds that the backup lacks), the
  upstream's log, and its mailbox (records relayed to it, since the hub
  cannot reach a member behind NAT); a gap there is filled by pulling the
  author's log from the same upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import os
import socket

import aiohttp

from federation.audit import Audit
from federation.client import NETWORK_ERRORS, FedClient
from federation.client import describe as _describe
from federation.discovery import Discovery, Found, discovery_enabled
from federation.guard import Guard
from federation.membership import network_name
from federation.parts import SendBlocked, Timing
from federation.pulling import Puller
from federation.resync import Resync
from federation.wire import MAX_BODY, MAX_ITEMS, Item, Result
from node.config import Node
from node.domain import alerts
from node.network import outbox, transparency
from node.network import peers as trust
from node.network.replica import Held, held_ids, latest_of_kind, save_sealed
from node.store.database import Store, Tx, now_ms
from protocol import canonical
from protocol.errors import KeyRefused, Reason
from protocol.keys import SigningKey, node_id, parse_node_id
from protocol.kinds import NodeDescriptor
from protocol.records import Record
from protocol.seal import encryption_key, seal

__all__ = ["Federation", "SendBlocked", "Timing"]

log = logging.getLogger(__name__)

CONTACT_REFRESH_MS = 60_000


class Federation:
    """The federation side of a running node; see the module docstring."""

    def __init__(self, node: Node, store: Store, *, session: aiohttp.ClientSession | None = None,
                 timing: Timing | None = None) -> None:  # fmt: skip
        self.node = node
        self.timing = timing or Timing.from_environ(os.environ)
        self.store = store
        self.key: SigningKey = node.key
        self.me = node.key.public.raw
        self.retired = {key.public.raw: key for key in node.retired}
        self.guard = Guard(self.me, retired=tuple(self.retired))
        self._session = session
        self._own_session = session is None
        self.client: FedClient | None = None
        self._retired_clients: dict[bytes, FedClient] = {}
        self._tasks: dict[tuple[str, bytes], asyncio.Task] = {}
        self._wake: dict[tuple[str, bytes], asyncio.Event] = {}  # (loop's role, peer): what wakes it
        self._route = asyncio.Event()
        self._supervisor: asyncio.Task | None = None
        self._discovery: Discovery | None = None
        self._found: dict[str, Found] = {}
        self._background: set[asyncio.Task] = set()
        self.leaves = transparency.LeafTree()  # the transparency log's tree, for the proofs it serves
        self.audit = Audit(self)
        self.restored = Resync(self)
        self.puller = Puller(self)

    # life cycle -----------------------------------------------------------

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self.client = FedClient(self._session, self.key)
        self._retired_clients = {raw: FedClient(self._session, key) for raw, key in self.retired.items()}
        self.store.before_commit.append(self._route_records)
        self.store.on_commit.append(self._committed)
        if self.store.writes_held and not await self.resync():
            task = asyncio.create_task(self.restored.until_done(), name="federation resync")
            self._background.add(task)
        else:
            await self.restored.finish()
        self._supervisor = asyncio.create_task(self._supervise(), name="federation")
        await self._start_discovery()

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.store.before_commit.remove(self._route_records)
        with contextlib.suppress(ValueError):
            self.store.on_commit.remove(self._committed)
        if self._discovery is not None:
            await self._discovery.stop()
        tasks = [t for t in [self._supervisor, *self._tasks.values(), *self._background] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self._own_session and self._session is not None:
            await self._session.close()

    async def _route_records(self, tx: Tx) -> None:
        """In the transaction that signed records: queue them for their peers (a hub: make them leaves)."""
        await outbox.route_own(tx, self.me)
        if self.keeps_log:
            await transparency.append_own(tx, self.me)

    def _committed(self, records: list[Record]) -> None:
        """Records signed here were committed, routed already (``_route_records``): send them now."""
        self._wake_loops(None, pull=False)

    def wake(self, peer: bytes | None = None, *, pull: bool = False) -> None:
        """Look at the queues now (after a commit that queued records for peers).

        ``pull``: pull from the upstream (and read the hubs) now as well, e.g.
        just after joining. A node nobody can push to (no URL of its own:
        behind NAT) pulls whenever it looks at its queues, since that is how
        what its peers answer reaches it; any other node is pushed to, and
        pulls only every ``Timing.pull`` seconds, to catch up what it missed.
        """
        self._wake_loops(peer, pull=pull)
        self._route.set()

    def _wake_loops(self, peer: bytes | None, *, pull: bool) -> None:
        pull = pull or not self.node.config.url
        for (role, key), event in self._wake.items():
            if (peer is None or key == peer) and (role == "send" or pull):
                event.set()

    async def heard_from(self, peer: trust.Peer) -> None:
        """A valid signed request from ``peer``: it is up; reset its back-off and send to it now."""
        now = now_ms()
        if peer.failures or peer.last_contact is None or now - peer.last_contact > CONTACT_REFRESH_MS:
            async with self.store.transaction() as tx:
                await trust.mark_contact(tx, peer.key, at=now)
            self.wake(peer.key)

    # after a restore (federation.resync) -------------------------------------------

    async def resync(self) -> bool:
        """Take this node's own log back from the nodes that hold it, then sign again; ``False`` if not yet."""
        return await self.restored.attempt()

    def heard_own_log(self, peer: bytes, after: int) -> None:
        """While restored: ``peer`` asked for this node's log after seq ``after``."""
        self.restored.heard(peer, after)

    # discovery ----------------------------------------------------------------

    async def _start_discovery(self) -> None:
        """Announce and browse on the LAN, unless switched off or listening on loopback only."""
        config = self.node.config
        if not discovery_enabled(os.environ) or ipaddress.ip_address(_host_ip(config.host)).is_loopback:
            return
        interfaces = None if config.host in ("0.0.0.0", "::") else [config.host]
        public = self.key.public
        self._discovery = Discovery(config.name, public.node_id, public.fingerprint, config.role, config.port,
                                    interfaces=interfaces, on_found=self._on_found)  # fmt: skip
        try:
            await self._discovery.start()
        except OSError as exc:
            log.warning("discovery is off: %s", exc)
            self._discovery = None

    def _on_found(self, found: Found) -> None:
        self._found[found.node_id] = found
        task = asyncio.get_running_loop().create_task(self._update_address(found))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _update_address(self, found: Found) -> None:
        """A known key at a new address: take the address (never the trust: the key was pinned before)."""
        key = parse_node_id(found.node_id).raw
        async with self.store.reader() as db:
            peer = await trust.get_peer(db, key)
        if peer is not None and peer.url != found.url:
            async with self.store.transaction() as tx:
                await trust.set_peer_url(tx, key, found.url)
            self.wake(key, pull=True)

    async def discovered(self) -> list[Found]:
        """Nodes seen on the LAN that this node does not trust yet ("add this node?")."""
        async with self.store.reader() as db:
            known = {peer.node_id for peer in await trust.list_peers(db)}
        return sorted((f for f in self._found.values() if f.node_id not in known), key=lambda f: f.name)

    def found(self, node_id: str) -> Found | None:
        return self._found.get(node_id)

    # this node's descriptor ---------------------------------------------------

    def descriptor(self) -> NodeDescriptor:
        config = self.node.config
        return NodeDescriptor(
            name=config.name, role=config.role, endpoints=[config.url.rstrip("/")] if config.url else [],
            encryption_key=encryption_key(self.key),
            network=network_name(self.node) if config.role != "member" else None, software="maillon",
        )  # fmt: skip

    async def ensure_descriptor(self) -> None:
        """Sign a new descriptor when the configuration changed what it says."""
        wanted = self.descriptor()
        async with self.store.transaction() as tx:
            held = await latest_of_kind(tx, self.me, NodeDescriptor.KIND)
            if held is None or canonical.decode(held.content) != wanted.to_content():
                await tx.append(wanted)

    async def descriptor_entry(self) -> bytes:
        async with self.store.reader() as db:
            held = await latest_of_kind(db, self.me, NodeDescriptor.KIND)
        assert held is not None, "ensure_descriptor runs at start"
        return canonical.encode([held.envelope, held.content])

    # items on the wire ----------------------------------------------------

    async def item_for(self, held: Held, reader: bytes, *, relay: bool = False) -> Item:
        """``held`` as ``reader`` may receive it: public content in clear, other content sealed.

        The sealed copy goes to a recipient, or to a relay (``relay``: the
        reader will pass it on; it cannot open it). A record this node wrote
        is sealed on first need, and the sealed copy kept.
        """
        header = held.header
        if not header.audience:
            return Item(canonical.encode([held.envelope, held.content]))
        stub = canonical.encode([held.envelope, None])
        if not (relay or header.readable_by(reader)):
            return Item(stub)
        sealed = held.sealed
        if sealed is None and header.author == self.me and held.content is not None:
            sealed = await self._seal(held)
        return Item(stub, sealed)

    async def _seal(self, held: Held) -> bytes:
        readers = sorted({*held.header.audience, self.me})
        keys: dict[bytes, bytes] = {self.me: encryption_key(self.key)}
        for reader in readers:
            if reader not in keys:
                x = await self._encryption_key(reader)
                if x is None:  # a member behind NAT: its hub holds its log, descriptor included
                    await self._fetch_log_of(reader)
                    x = await self._encryption_key(reader)
                if x is None:
                    raise SendBlocked(f"the encryption key of {node_id(reader)} is unknown: its descriptor is needed")
                keys[reader] = x
        try:
            sealed = seal(held.id, held.content, keys)
        except KeyRefused as exc:
            raise SendBlocked(f"a reader published an unusable encryption key: {exc}") from exc
        async with self.store.transaction() as tx:
            await save_sealed(tx, held.id, sealed)
        return sealed

    async def _encryption_key(self, reader: bytes) -> bytes | None:
        """A node's X25519 key: from its pinned peer row, else from its latest descriptor held here."""
        async with self.store.reader() as db:
            peer = await trust.get_peer(db, reader)
            if peer is not None and peer.encryption_key is not None:
                return peer.encryption_key
            descriptor = await latest_of_kind(db, reader, NodeDescriptor.KIND)
        if descriptor is None:
            return None
        return NodeDescriptor.model_validate(canonical.decode(descriptor.content)).encryption_key

    async def _fetch_log_of(self, author: bytes) -> None:
        """Pull ``author``'s log (headers at least) from the upstreams that can be reached."""
        async with self.store.reader() as db:
            upstreams = await trust.list_peers(db, relation="upstream", active_only=True)
        for peer in upstreams:
            if peer.url:
                with contextlib.suppress(*NETWORK_ERRORS):
                    await self.pull_log(peer, author)

    # routing ----------------------------------------------------------------

    async def route(self) -> int:
        """Queue this node's records not routed yet for their peers; return how many records were routed.

        A hub or national node also makes them leaves of its transparency log.
        What this process signs is routed in its own transaction
        (``_route_records``); this catches up the rest: records signed by
        another process on the same database (a command), or while the
        federation was not running.
        """
        async with self.store.transaction() as tx:
            routed = await outbox.route_own(tx, self.me)
            if self.keeps_log:
                await transparency.append_own(tx, self.me)
        if routed:
            self.wake()
        return routed

    # loops ------------------------------------------------------------------

    async def _supervise(self) -> None:
        clock = asyncio.get_running_loop().time
        routed_at = -math.inf
        while True:
            try:
                self._route.clear()
                # What this process signs is routed as it commits; at start, then every
                # ``supervise`` seconds, what another process signed on the same database.
                if clock() - routed_at >= self.timing.supervise:
                    routed_at = clock()
                    while await self.route() == outbox.ROUTE_BATCH:  # fewer: none left
                        pass
                async with self.store.reader() as db:
                    peers = await trust.list_peers(db, active_only=True)
                for peer in peers:
                    if peer.url:
                        self._ensure_task("send", peer.key, self._send_loop)
                    if peer.url and peer.relation == "upstream":
                        self._ensure_task("pull", peer.key, self._pull_loop)
                    if peer.url and peer.relation == "downstream" and peer.role == "hub" and self.reads_hubs:
                        self._ensure_task("read", peer.key, self._read_loop)
                if self.keeps_log:
                    self._ensure_task("checkpoint", self.me, self._checkpoint_loop)
            except Exception:  # never let one bad round stop the federation
                log.exception("federation supervisor round failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._route.wait(), self.timing.supervise)

    def _ensure_task(self, role: str, key: bytes, loop) -> None:
        task = self._tasks.get((role, key))
        if task is None or task.done():
            self._tasks[(role, key)] = asyncio.create_task(loop(key), name=f"federation {role} {key.hex()[:8]}")

    async def _wait(self, role: str, key: bytes, seconds: float) -> None:
        event = self._wake.setdefault((role, key), asyncio.Event())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), max(seconds, 0.0))
        event.clear()

    async def _send_loop(self, key: bytes) -> None:
        """Push ``key``'s queue until the peer is no longer active or reachable."""
        while True:
            async with self.store.reader() as db:
                peer = await trust.get_peer(db, key)
            if peer is None or not peer.active or not peer.url:
                return
            wait_ms = peer.next_attempt - now_ms()
            if wait_ms > 0:
                await self._wait("send", key, wait_ms / 1000)
                continue
            self._wake.setdefault(("send", key), asyncio.Event()).clear()
            if not await self.send_once(peer):
                await self._wait("send", key, self.timing.idle)

    async def send_once(self, peer: trust.Peer) -> bool:
        """Push one batch to ``peer``; ``False`` when its queue was empty."""
        async with self.store.reader() as db:
            held = await outbox.pending(db, peer.key, limit=MAX_ITEMS)
        if not held:
            return False
        assert self.client is not None and peer.url is not None
        # Records still queued under a key this node rotated away from go signed by that key:
        # the peer learns the new key from the rotation record among them.
        retired = next((h.header.author for h in held if h.header.author in self._retired_clients), None)
        client = self._retired_clients[retired] if retired else self.client
        try:
            items = await self._batch(held, peer.key)
            results = await client.push(peer.url, peer.key, items)
        except (*NETWORK_ERRORS, SendBlocked) as exc:
            async with self.store.transaction() as tx:
                await trust.mark_failure(tx, peer.key, _describe(exc), first=self.timing.backoff_first_ms,
                                         cap=self.timing.backoff_cap_ms)  # fmt: skip
            return True
        async with self.store.transaction() as tx:
            await trust.mark_contact(tx, peer.key)
            await self._settle(tx, peer.key, held[: len(items)], results)
        return True

    async def _batch(self, held: list[Held], reader: bytes) -> list[Item]:
        items, size = [], 0
        for record in held:
            item = await self.item_for(record, reader, relay=True)
            size += len(item.entry) + len(item.sealed or b"") + 16
            if items and size > MAX_BODY // 2:
                break
            items.append(item)
        return items

    async def _settle(self, tx, peer: bytes, held: list[Held], results: list[Result]) -> None:
        """The peer answered a push: what it holds leaves the queue, and what it lacks is queued before.

        A record the peer refuses for good (a kind it does not know yet, a
        rule it enforces) leaves the queue with an alert, and the peer's
        log of its author stops there: the later records it answers with
        ``gap`` are not followed by that record again (that would go round
        for ever), until the peer takes a record of the author at or after
        the refused seq (``outbox.REFUSED_FROM``).
        """
        done, holds = [], []
        taken: dict[str, int] = {}  # per author's mark: the last seq the peer took in this batch
        for record, result in zip(held, results):
            author, seq = record.header.author, record.header.seq
            mark = f"{outbox.REFUSED_FROM}{peer.hex()}.{author.hex()}"
            if result.status != "refused":
                done.append(record.id)
                holds.append(record.id)
                taken[mark] = max(taken.get(mark, 0), seq)
                continue
            if result.reason == Reason.GAP.value and result.have is not None:
                refused_from = await tx.value("SELECT value FROM counters WHERE name = ?", (mark,))
                if refused_from is not None and result.have < refused_from <= seq:
                    done.append(record.id)  # behind a record the peer refused: it cannot take this one
                    continue
                missing = await held_ids(tx, author, after=result.have, before=seq)
                if missing and len(missing) == seq - result.have - 1:
                    await outbox.enqueue(tx, peer, missing)
                    continue  # sent again after what the peer lacks
            elif result.reason != Reason.GAP.value:
                await tx.run("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE"
                             " SET value = min(value, excluded.value)", (mark, seq))  # fmt: skip
            done.append(record.id)
            await alerts.raise_alert(tx, "refused_by_peer", result.reason or "refused", peer=peer,
                                    author=author, seq=seq)  # fmt: skip
        if taken:  # one statement per batch: the peer took these authors' records up to these seqs
            await tx.run_many("DELETE FROM counters WHERE name = ? AND value <= ?", list(taken.items()))
        await outbox.delivered(tx, peer, done, held=holds)

    async def _pull_loop(self, key: bytes) -> None:
        while True:
            async with self.store.reader() as db:
                peer = await trust.get_peer(db, key)
            if peer is None or not peer.active or not peer.url:
                return
            try:
                await self.pull_once(peer)
                await self.audit.check_reports_included()
            except (*NETWORK_ERRORS, SendBlocked) as exc:
                log.info("pull from %s failed: %s", peer.name, _describe(exc))
            except Exception:  # a bug: say it, and keep the node running
                log.exception("pull from %s failed", peer.name)
            await self._wait("pull", key, self.timing.pull)

    async def pull_once(self, peer: trust.Peer) -> int:
        """One round of pulling from an upstream (``federation.pulling``). Returns records received."""
        return await self.puller.pull_once(peer)

    async def pull_log(self, peer: trust.Peer, author: bytes, *, since: int | None = None) -> int:
        """Catch up ``author``'s log from ``peer`` (``federation.pulling``); return how many records were new."""
        return await self.puller.pull_log(peer, author, since=since)

    # the transparency log -------------------------------------------------------

    @property
    def keeps_log(self) -> bool:
        """A hub or national node keeps a transparency log of the records it accepts."""
        return self.node.config.role in ("hub", "national")

    @property
    def reads_hubs(self) -> bool:
        """National reads the hubs it admitted: their members' logs, their transparency logs."""
        return self.node.config.role == "national"

    async def _checkpoint_loop(self, key: bytes) -> None:
        while True:
            try:
                await self.audit.checkpoint_once()
            except Exception:  # a bug: say it, and keep the node running
                log.exception("signing a transparency checkpoint failed")
            await asyncio.sleep(self.timing.checkpoint)

    async def _read_loop(self, key: bytes) -> None:
        """National: read a hub it admitted (its log, its members' logs) and audit its transparency log."""
        while True:
            async with self.store.reader() as db:
                peer = await trust.get_peer(db, key)
            if peer is None or not peer.active or not peer.url:
                return
            try:
                await self.audit.read_hub(peer)
            except (*NETWORK_ERRORS, SendBlocked) as exc:
                log.info("reading hub %s failed: %s", peer.name, _describe(exc))
            except Exception:  # a bug: say it, and keep the node running
                log.exception("reading hub %s failed", peer.name)
            await self._wait("read", key, self.timing.read)


def _host_ip(host: str) -> str:
    """The configured listening host as an IP address (a name is resolved; unknown means loopback)."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        try:
            return socket.gethostbyname(host)
        except OSError:
            return "127.0.0.1"
