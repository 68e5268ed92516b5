"""A network in chaos: hand-offs every way while nodes are killed and restored from backups.

Real node processes on loopback: a hub with two members behind NAT and one
it can reach, and a second hub peered with it by a convention. The test
plays every admin: it offers lots along the allowed routes (hub to
members, members to each other and to their hub, hub to hub across the
peering), accepts, and records receipts, while a chaos thread kills nodes
(SIGKILL) at random moments and restores some from backups taken at random
moments. Afterwards every item has exactly one custodian, both sides of
every hand-off agree, every queue drains, every log held anywhere
verifies, and no node froze another (no fork was made).

The short form (``make test``) runs about 25 seconds of chaos; ``pytest
--full`` runs until 100 kills and 10 restores.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

from livenodes import run, wait_for

from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.errors import NodeError
from node.network import handoffs
from protocol import canonical
from protocol.log import LogVerifier
from protocol.records import open_entry

ROUTES = {  # who may offer to whom (a member to another of its network, a hub to a peered hub)
    "hub": ["a", "b", "c", "peer"],
    "a": ["hub", "b", "c"],
    "b": ["hub", "a", "c"],
    "c": ["hub", "a", "b"],
    "peer": ["hub"],
}


class Network:
    """The five nodes, a lock per node (an admin action and a restore never overlap), and the backups taken."""

    def __init__(self, make_node) -> None:
        hub = make_node("Hub", role="hub").start()
        peer = make_node("Pair", role="hub").start()
        a = make_node("Atelier A", reachable=False)
        b = make_node("Atelier B", reachable=False)
        c = make_node("Atelier C")
        for member in (a, b, c):
            member.join(hub)
            member.start()
        hub.cli("peers", "add", "--data", str(hub.data), peer.url, "--fingerprint", peer.fingerprint)
        peer.cli("peers", "add", "--data", str(peer.data), hub.url, "--fingerprint", hub.fingerprint)
        out = hub.cli("peers", "convention", "--data", str(hub.data), peer.node_id, "--scope", "hand-offs of lots")
        record = out.split("record ")[1].split(")")[0]
        wait_for(lambda: peer.value("SELECT 1 FROM log_records WHERE id = ?", (bytes.fromhex(record),)), 60,
                 "the proposal at the peered hub")  # fmt: skip
        peer.cli("peers", "accept", "--data", str(peer.data), record)
        self.nodes = {"hub": hub, "a": a, "b": b, "c": c, "peer": peer}
        self.locks = {name: threading.Lock() for name in self.nodes}
        self.backups: dict[str, list[Path]] = {name: [] for name in self.nodes}
        self.visited: dict[str, set[str]] = {}  # gid: the nodes it was ever offered to or held by
        self.refused: dict[str, str] = {}  # the last refusal each node gave an admin (shown if it fails)
        # each member knows the others' certificates (from the hub's log) before they hand lots to each other
        for member in (a, b, c):
            wait_for(lambda m=member: m.value("SELECT count(*) FROM log_records WHERE author = ? AND kind ="
                                              " 'membership.certificate/1'", (hub.key,)) == 3, 60,
                     f"the certificates at {member.name}")  # fmt: skip
        wait_for(lambda: hub.value("SELECT count(*) FROM log_records WHERE kind = 'peering.convention/1'") == 2
                 and peer.value("SELECT count(*) FROM log_records WHERE kind = 'peering.convention/1'") == 2, 60,
                 "the convention in force")  # fmt: skip

    def act(self, name: str, action):
        """``action(tx)`` on a node as its admin would; None when the node refuses it (rules, read-only)."""
        with self.locks[name]:
            try:
                return run(self.nodes[name], action)
            except NodeError as exc:
                self.refused[name] = str(exc)
                return None


def stock(network: Network, name: str, lots: int, items: int) -> None:
    async def action(tx):
        for n in range(lots):
            lot = await create_lot(tx, LotInput(reference=f"{name.upper()}-{n}", declared_units=items))
            await create_items(tx, lot, [ItemInput(category="laptop", serial=f"{name}-{n}-{k}", weight_g=2000)
                                         for k in range(items)])  # fmt: skip

    network.act(name, action)


def one_round(network: Network, rng: random.Random, *, offering: bool) -> None:
    """Every admin answers what waits for it; some offer a lot."""
    for name, node in network.nodes.items():
        for offer, state in node.query("SELECT offer, state FROM handoffs WHERE direction = 'in' AND state IN"
                                       " ('offered', 'accepted')"):  # fmt: skip
            if state == "offered":
                network.act(name, lambda tx, o=offer: handoffs.answer_offer(tx, o, accept=rng.random() < 0.9))
            else:
                lines = [r[0] for r in node.query("SELECT gid FROM handoff_items WHERE offer = ? ORDER BY gid", (offer,))]
                missing = lines[-1:] if len(lines) > 1 and rng.random() < 0.2 else []
                received = [g for g in lines if g not in missing]
                network.act(name, lambda tx, o=offer, r=received, m=missing: handoffs.record_receipt(
                    tx, o, handoffs.ReceiptInput(received=r, missing=m, weight_g=2000 * len(r))))  # fmt: skip
        if offering and rng.random() < 0.5:
            to = network.nodes[rng.choice(ROUTES[name])]
            lots = [r[0] for r in node.query("SELECT DISTINCT lot_id FROM items WHERE state NOT IN ('distributed',"
                                             " 'recycled', 'dismantled', 'transferred')")]  # fmt: skip
            rng.shuffle(lots)
            for lot in lots[:1]:
                gids = [r[0] for r in node.query("SELECT gid FROM items WHERE lot_id = ?", (lot,))]
                if any(to.name in network.visited.get(gid, ()) for gid in gids) or to.value(
                        f"SELECT 1 FROM items WHERE gid IN ({', '.join('?' for _ in gids)})", tuple(gids)):
                    continue  # a lot never goes back to a node that held it (its receipt would be refused)
                made = network.act(name, lambda tx, lot=lot, key=to.key: handoffs.create_offer(
                    tx, handoffs.OfferInput(recipient=key, lot_id=lot)))  # fmt: skip
                if made is not None:
                    for gid in gids:
                        network.visited.setdefault(gid, {node.name}).add(to.name)


class Chaos(threading.Thread):
    """Kills a node at random (SIGKILL) and starts it again; now and then backs one up, or restores one."""

    def __init__(self, network: Network, seed: int, *, kills: int, restores: int, seconds: float) -> None:
        super().__init__(daemon=True)
        self.network = network
        self.random = random.Random(seed)
        self.done = threading.Event()
        self.kills = self.restores = 0
        self.goal = (kills, restores)
        self.deadline = time.monotonic() + seconds
        self.error: BaseException | None = None

    def finished(self) -> bool:
        return self.kills >= self.goal[0] and self.restores >= self.goal[1] and time.monotonic() > self.deadline

    def run(self) -> None:
        try:
            turn = 0
            while not self.done.wait(self.random.uniform(0.3, 1.0)):
                turn += 1
                backed = [name for name, paths in self.network.backups.items() if paths]
                if turn % 3 == 1:  # a backup of a running node, at a random moment
                    name = self.random.choice(list(self.network.nodes))
                    node = self.network.nodes[name]
                    path = node.data / f"backup-{len(self.network.backups[name])}.db"
                    node.cli("backup", "--data", str(node.data), "--out", str(path))
                    self.network.backups[name].append(path)
                elif turn % 5 == 0 and backed and self.restores < self.goal[1]:
                    name = self.random.choice(backed)
                    node = self.network.nodes[name]
                    with self.network.locks[name]:
                        node.stop()
                        node.cli("restore", "--data", str(node.data), str(self.random.choice(self.network.backups[name])))
                        node.start()
                    self.restores += 1
                else:
                    node = self.network.nodes[self.random.choice(list(self.network.nodes))]
                    node.kill()
                    time.sleep(self.random.uniform(0, 0.3))
                    node.start()
                    self.kills += 1
        except BaseException as exc:  # reported by the test
            self.error = exc


def unsettled(network: Network) -> str:
    """What keeps the network from having settled ('' once every queue is empty and every hand-off agrees)."""
    nodes = network.nodes
    queued = {name: n for name, node in nodes.items() if (n := node.value("SELECT count(*) FROM outbox"))}
    out = {r[0]: (name, r[1]) for name, node in nodes.items()
           for r in node.query("SELECT offer, state FROM handoffs WHERE direction = 'out'")}  # fmt: skip
    into = {r[0]: (name, r[1]) for name, node in nodes.items()
            for r in node.query("SELECT offer, state FROM handoffs WHERE direction = 'in'")}  # fmt: skip
    differ = {o.hex()[:8]: (out.get(o), into.get(o)) for o in set(out) | set(into)
              if (out.get(o) or (0, 0))[1] != (into.get(o) or (0, 0))[1]
              or (out.get(o) or (0, "offered"))[1] in ("offered", "accepted")}  # fmt: skip
    frozen = {name: n for name, node in nodes.items() if (n := node.value("SELECT count(*) FROM frozen_authors"))}
    held = {name: node.value("SELECT value FROM counters WHERE name = 'federation.resync_required'")
            for name, node in nodes.items()}
    held = {name: v for name, v in held.items() if v is not None}
    return "" if not (queued or differ) else (f"queued {queued}; hand-offs {differ}; frozen {frozen};"
                                              f" read-only {held}; last refusals {network.refused}")


def test_custody_holds_through_kills_and_restores(make_node, request):
    full = request.config.getoption("--full")
    began = time.monotonic()
    network = Network(make_node)
    print(f"setup {time.monotonic() - began:.0f}s")
    seed = int(os.environ.get("MAILLON_CHAOS_SEED", "14"))
    rng = random.Random(seed)
    for name in network.nodes:
        stock(network, name, lots=6 if full else 3, items=2)
    all_gids = {r[0] for node in network.nodes.values() for r in node.query("SELECT gid FROM items")}
    chaos = Chaos(network, seed=seed, kills=100 if full else 6, restores=10 if full else 2, seconds=120 if full else 15)
    chaos.start()
    try:
        while not chaos.finished() and chaos.error is None:
            one_round(network, rng, offering=True)
            time.sleep(0.2)
    finally:
        chaos.done.set()
        chaos.join()
    assert chaos.error is None, chaos.error
    print(f"chaos until {time.monotonic() - began:.0f}s: {chaos.kills} kills, {chaos.restores} restores")
    for node in network.nodes.values():
        if node.process is None or node.process.poll() is not None:
            node.start()

    last = []

    def finish() -> bool:
        one_round(network, rng, offering=False)
        last[:] = [unsettled(network)]
        return not last[0]

    try:
        wait_for(finish, 240, "every hand-off settled and every queue drained")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {last[0]}") from None
    print(f"settled at {time.monotonic() - began:.0f}s")
    nodes = network.nodes.values()
    # no fork was made: nobody froze anybody
    assert all(node.value("SELECT count(*) FROM frozen_authors") == 0 for node in nodes)
    # every item has exactly one custodian
    held: dict[str, list[str]] = {}
    for node in nodes:
        for (gid,) in node.query("SELECT gid FROM items WHERE state != 'transferred'"):
            held.setdefault(gid, []).append(node.name)
    assert set(held) == all_gids, "an item was lost"
    doubled = {gid: names for gid, names in held.items() if len(names) != 1}
    assert not doubled, f"items held twice: {doubled}"
    # every log held anywhere verifies, from seq 1, chained
    for node in nodes:
        for (author,) in node.query("SELECT DISTINCT author FROM log_records"):
            verifier = LogVerifier(author)
            rows = node.query("SELECT envelope FROM log_records WHERE author = ? ORDER BY seq", (author,))
            for row in rows:
                assert verifier.add(open_entry(canonical.encode([row[0], None])))
            assert verifier.last_seq == len(rows)
    assert chaos.kills >= chaos.goal[0] and chaos.restores >= chaos.goal[1]
    moved = sum(node.value("SELECT count(*) FROM handoffs WHERE direction = 'out' AND state = 'received'") for node in nodes)
    assert moved >= 3, "the chaos left too few hand-offs to mean anything"
