"""A national node catching up its hubs' logs over HTTP: records/s against bare Ed25519 verify; Merkle costs.

Five hub nodes run on their real HTTP stack (``web_ui.app.make_app`` with
their ``Federation``, served by aiohttp on loopback), each with its own
SQLite file in a temporary directory. Each hub admits 4 members with the
real join code (``federation.membership.admit``: an invitation consumed, the
member pinned, a public ``membership.certificate/1`` signed) and holds
20 000 records: its own log and its members'. A member's log is a
descriptor, then ``stats.report/1`` and ``item.fates/1`` records: half the
fates sealed to the hub, half the reports sealed to the hub and national,
the others public. The members' records are signed and sealed beforehand
and written into the hub's database with ``node.network.replica.store_records``, as
the hub would hold them after receiving them (content, sealed copy): how
they got there is not what this bench measures.

A national node (role ``national``; a fresh database for each run) has the
hubs pinned as downstream peers with their URLs. The catch-up is what a
national node does with a hub (``Audit.read_hub``): it pulls the hub's own
log, reads the certificates it holds, pulls each certified member's log
from that hub, then audits the hub's transparency log; the hubs
concurrently (``asyncio.gather``), each hub's authors one after the other
(each log's next page asked while one is written). The time runs
from the first request to the last answer. National's own loops are not
started: a running national reads its hubs on its own schedule, which would
pull the same logs during the timed pulls. Then the bench checks that
national holds every record with its exact envelope bytes, in seq order,
with its content when national may read it (public, or sealed to it) and
without it otherwise (national gets a stub).

The limit is the raw single-core ``Ed25519PublicKey.verify`` rate over the
same header bytes, measured in the same run (best of rounds, before and
after each run); the figure that matters is the ratio (goal: >= 0.7).
National checks big batches on one worker process per core, but the hubs'
servers share this process and the machine's cores with it.

A breakdown follows: what national's receiving costs per record on one
core for the records of one hub, replayed as they came (the checks with no
database: decoding, verifying, opening sealed content, bodies; then
holding them: chain checks, SQL, the records' effects, transparency leaves).

Last, the Merkle trees of the transparency log (``protocol.merkle``, RFC
9162) over 1 000 000 leaves: the root (leaf hashes, then the tree), and
inclusion and consistency proofs (generation from the cached tree,
verification), each against the raw ``hashlib.sha256`` calls on 64-byte
messages it needs, timed in the same run. A leaf's data is 63 bytes, so a
leaf hash and a node hash both hash 64 to 65 bytes: two SHA-256 blocks, as
a raw call on 64 bytes does (the padding takes a second block). The limit of
a proof is the node hashes its verifier computes (counted), at the raw rate.

``--no-effects`` switches off the effects of records on the domain (the
fates national applies), to see what the receive path costs alone.

    python bench/national_bench.py [--hubs H] [--members M] [--records N] [--runs R] [--leaves L] [--no-effects]
                                   [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: E402
from federation_bench import TRUST_KINDS, children_cpu, free_port, verify_rate  # noqa: E402
from result_lines import print_result  # noqa: E402

import protocol.merkle as merkle  # noqa: E402
from federation import inbox  # noqa: E402
from federation.client import FedClient  # noqa: E402
from federation.effects import EFFECTS  # noqa: E402
from federation.engine import Federation  # noqa: E402
from federation.membership import admit  # noqa: E402
from federation.wire import Item  # noqa: E402
from node.config import Config, Node, init_node, load_node  # noqa: E402
from node.network import peers as trust  # noqa: E402
from node.network.replica import held_records, store_records  # noqa: E402
from node.store.database import Store  # noqa: E402
from protocol import canonical  # noqa: E402
from protocol.keys import SigningKey  # noqa: E402
from protocol.kinds import CATEGORIES, Fate, ItemFates, NodeDescriptor, StatsReport  # noqa: E402
from protocol.records import Record, sign_record, stored_header  # noqa: E402
from protocol.seal import encryption_key, seal  # noqa: E402
from web_ui.app import make_app  # noqa: E402

GOAL = 0.7
START_MS = 1_767_225_600_000  # 2026-01-01
STORE_BATCH = 2000
QUICK = {"hubs": 2, "members": 2, "records": 2000, "runs": 1, "rounds": 1, "leaves": 20_000, "proofs": 200}


# the hubs ------------------------------------------------------------------------


@dataclass
class Hub:
    """A running hub: its node, Store, Federation and HTTP server, and the members it admitted."""

    node: Node
    store: Store
    fed: Federation
    runner: web.AppRunner
    url: str
    members: list[bytes] = field(default_factory=list)

    @property
    def key(self) -> bytes:
        return self.node.key.public.raw

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.fed.stop()
        await self.store.close()


def member_log(key: SigningKey, name: str, count: int, to_hub: dict[bytes, bytes], to_national: dict[bytes, bytes],
               rng: random.Random) -> list[tuple[Record, bytes | None]]:  # fmt: skip
    """A member's ``count`` records as its hub holds them: each record (with its content) and its sealed copy.

    ``to_hub`` and ``to_national``: the readers' X25519 keys of the records sealed to the hub, and to
    the hub and national.
    """
    me, my_x = key.public.raw, encryption_key(key)
    out: list[tuple[Record, bytes | None]] = []
    prev = None
    for seq in range(1, count + 1):
        body, readers = _body(name, seq, my_x, rng, to_hub, to_national)
        record = sign_record(key, seq=seq, prev=prev, time=START_MS + seq * 60_000, kind=body.KIND,
                             content=body.to_content(), audience=tuple(readers))  # fmt: skip
        prev = record.id
        out.append((record, seal(record.id, record.content, {**readers, me: my_x}) if readers else None))
    return out


def _body(name: str, seq: int, my_x: bytes, rng: random.Random, to_hub: dict, to_national: dict):
    """The body of a member's record ``seq`` and the readers it is sealed to (none: public)."""
    if seq == 1:
        return NodeDescriptor(name=name, role="member", endpoints=[], encryption_key=my_x, software="maillon"), {}
    if rng.random() < 0.25:
        figures = {f"{state}.{category}.units": rng.randrange(200) for state in ("received", "distributed", "recycled")
                   for category in rng.sample(CATEGORIES, 4)}  # fmt: skip
        report = StatsReport(period=f"2026-{seq % 12 + 1:02d}", version=1, figures=figures)
        return report, (to_national if seq % 2 == 0 else {})
    fates = []
    for _ in range(rng.randint(1, 6)):
        fate = rng.choice(("distributed", "distributed", "recycled", "transferred"))
        fates.append(Fate(
            gid=str(uuid.UUID(int=rng.getrandbits(128))), fate=fate, time=START_MS + seq * 60_000 - rng.randrange(10**8),
            beneficiary_category=rng.choice(("person", "association", "school")) if fate == "distributed" else None,
            weight_g=rng.randrange(150, 9000) if fate == "recycled" else None,
        ))  # fmt: skip
    return ItemFates(fates=fates), (to_hub if seq % 2 == 0 else {})


async def start_hub(root: Path, n: int, national: bytes) -> Hub:
    """A hub running on loopback, with national as its upstream."""
    node = init_node(root / f"hub{n}", Config(name=f"Hub {n + 1}", role="hub", port=free_port()))
    store = await Store.open(node.db_path, node.key, create=True)
    fed = Federation(node, store)
    # National is pinned without a URL: the hub pushes nothing to it and pulls nothing from it
    # (this bench measures national's pulls), but answers its signed requests.
    async with store.transaction() as tx:
        await trust.pin_peer(tx, national, name="National", role="national", relation="upstream")
    await fed.start()
    runner = web.AppRunner(make_app(node, store, fed), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", node.config.port).start()
    return Hub(node, store, fed, runner, f"http://127.0.0.1:{node.config.port}")


async def fill_hub(hub: Hub, n: int, national: SigningKey, members: int, records: int) -> None:
    """The hub admits ``members`` members, then holds their logs: about ``records`` records with its own."""
    keys = [SigningKey.from_seed(hashlib.sha256(f"national bench hub {n} member {m}".encode()).digest())
            for m in range(members)]  # fmt: skip
    names = [f"Atelier {n + 1}.{m + 1}" for m in range(members)]
    for key, name in zip(keys, names):
        async with hub.store.transaction() as tx:
            token = await trust.create_invitation(tx)
        await admit(hub.store, hub.node, key.public.raw, {"token": token, "name": name, "role": "member",
                                                          "encryption_key": encryption_key(key)})  # fmt: skip
        hub.members.append(key.public.raw)
    to_hub = {hub.key: encryption_key(hub.node.key)}
    to_national = {**to_hub, national.public.raw: encryption_key(national)}
    share, extra = divmod(max(records - 1 - members, members), members)  # the hub's own: descriptor, certificates
    rng = random.Random(2026 + n)
    for m, (key, name) in enumerate(zip(keys, names)):
        log = member_log(key, name, share + (m < extra), to_hub, to_national, rng)
        for start in range(0, len(log), STORE_BATCH):
            async with hub.store.transaction() as tx:
                stored = await store_records(tx, log[start : start + STORE_BATCH])
            assert all(s.outcome == "new" for s in stored), f"{name}: {stored[0]}"


@dataclass(frozen=True, slots=True)
class Expected:
    """An author's log as national must hold it: envelopes, and content where national may read it."""

    author: bytes
    envelopes: list[bytes]
    contents: list[bytes | None]


async def expected_logs(hub: Hub, national: bytes) -> list[Expected]:
    """The hub's log and its members' logs, as held at the hub, seen by national."""
    out = []
    async with hub.store.reader() as db:
        for author in (hub.key, *hub.members):
            held = await held_records(db, author, after=0, limit=10**7)
            out.append(Expected(author, [h.envelope for h in held],
                                [h.content if h.header.readable_by(national) else None for h in held]))  # fmt: skip
    return out


# national ------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float  # this process: national and the hubs' servers
    workers_cpu: float  # national's checking workers
    received: int
    batches: list[tuple[bytes, list[Item]]]  # what one hub answered, in order (for the breakdown)


async def catch_up(pristine: Path, run_dir: Path, sample_hub: bytes | None) -> Run:
    """A fresh national node pulls every hub; the wall time, CPU times, and one hub's answers."""
    shutil.copytree(pristine, run_dir)
    node = load_node(run_dir)
    store = await Store.open(node.db_path, node.key, create=True)
    session = aiohttp.ClientSession()
    # National's own loops are not started: a running national reads its hubs on its own schedule,
    # which would pull the same logs concurrently with the timed pulls. Its client is all they need.
    fed = Federation(node, store, session=session)
    fed.client = FedClient(session, node.key)
    batches: list[tuple[bytes, list[Item]]] = []
    log = fed.client.log

    async def recording(url: str, peer: bytes, author: bytes, **kwargs):
        items, more = await log(url, peer, author, **kwargs)
        if peer == sample_hub:
            batches.append((peer, items))
        return items, more

    fed.client.log = recording  # type: ignore[method-assign]
    try:
        async with store.reader() as db:
            hubs = await trust.list_peers(db, relation="downstream", active_only=True)
        cpu, workers_cpu, began = time.process_time(), children_cpu(), time.perf_counter()
        counts = await asyncio.gather(*(fed.audit.read_hub(peer) for peer in hubs))
        wall = time.perf_counter() - began
        cpu, workers_cpu = time.process_time() - cpu, children_cpu() - workers_cpu
        return Run(wall, cpu, workers_cpu, sum(counts), batches)
    finally:
        await session.close()
        await store.close()


async def check_held(path: Path, key: SigningKey, expected: list[Expected]) -> None:
    """National holds every record: exact envelope bytes in seq order, content exactly where it may read it."""
    store = await Store.open(path, key, create=True)
    try:
        async with store.reader() as db:
            for log in expected:
                held = await held_records(db, log.author, after=0, limit=10**7)
                name = log.author.hex()[:8]
                assert [h.header.seq for h in held] == list(range(1, len(log.envelopes) + 1)), f"{name}: seqs"
                assert [h.envelope for h in held] == log.envelopes, f"{name}: envelope bytes"
                assert [h.content for h in held] == log.contents, f"{name}: contents"
    finally:
        await store.close()


async def breakdown(pristine: Path, root: Path, batches: list[tuple[bytes, list[Item]]]) -> dict[str, float]:
    """One hub's answers received again on one core into a fresh national database; µs per record."""
    shutil.copytree(pristine, root)
    node = load_node(root)
    store = await Store.open(node.db_path, node.key, create=True)
    effects = 0.0
    apply_effects = inbox.apply_effects

    async def timed(*args) -> None:
        nonlocal effects
        began = time.perf_counter()
        await apply_effects(*args)
        effects += time.perf_counter() - began

    inbox.apply_effects = timed
    checking = holding = 0.0
    try:
        for sender, items in batches:
            began = time.perf_counter()
            checked = await inbox.check(node.key, items, parallel=False)
            checking += time.perf_counter() - began
            began = time.perf_counter()
            async with store.transaction() as tx:
                results = await inbox.hold(tx, checked, sender=sender, leaves=True)
            holding += time.perf_counter() - began
            assert all(r.status == "accepted" for r in results), {r.reason for r in results}
    finally:
        inbox.apply_effects = apply_effects
        await store.close()
    total = sum(len(items) for _, items in batches)
    return {"check": checking / total * 1e6, "hold": holding / total * 1e6, "effects": effects / total * 1e6,
            "records": total}  # fmt: skip


def verify_pairs(expected: list[Expected]) -> list[tuple[Ed25519PublicKey, bytes, bytes]]:
    pairs = []
    for log in expected:
        key = Ed25519PublicKey.from_public_bytes(log.author)
        for envelope in log.envelopes:
            _, header_bytes, signature = canonical.decode(envelope)
            pairs.append((key, signature, header_bytes))
    return pairs


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What the catch-up part measured and checked."""

    runs: list[Run]
    verify: float  # bare Ed25519 verify/s, one core, best of rounds
    total: int  # records national caught up
    authors: int
    prepared_s: float
    cost: dict[str, float]  # the one-core breakdown, µs per record
    sealed: int  # records sealed to national (it opens them)
    stubs: int  # records sealed to the hub only (national holds their header)
    mean_envelope: int


async def national_catch_up(root: Path, args: argparse.Namespace) -> CatchUp:
    national = init_node(root / "national", Config(name="National", role="national", port=free_port()))
    hubs: list[Hub] = []
    try:
        began = time.perf_counter()
        for n in range(args.hubs):
            hubs.append(await start_hub(root, n, national.key.public.raw))
            await fill_hub(hubs[-1], n, national.key, args.members, args.records // args.hubs)
        await asyncio.sleep(0.2)  # the hubs' first checkpoints are signed
        expected = [log for hub in hubs for log in await expected_logs(hub, national.key.public.raw)]
        prepared_s = time.perf_counter() - began
        store = await Store.open(national.db_path, national.key, create=True)
        try:
            async with store.transaction() as tx:
                for hub in hubs:
                    await trust.pin_peer(tx, hub.key, name=hub.node.config.name, role="hub", relation="downstream",
                                         url=hub.url, encryption_key=encryption_key(hub.node.key))  # fmt: skip
        finally:
            await store.close()
        gc.collect()
        gc.freeze()  # what the bench keeps to check against is not national's: out of its collections

        pairs = verify_pairs(expected)
        total = len(pairs)
        verify = max(verify_rate(pairs) for _ in range(args.rounds))
        await inbox.start_workers()  # as in a running national node after its first big batch
        runs: list[Run] = []
        for n in range(args.runs):
            run = await catch_up(root / "national", root / f"run{n}", hubs[0].key if n == 0 else None)
            assert run.received == total, f"run {n}: {run.received} records received of {total}"
            await check_held(root / f"run{n}" / national.db_path.name, national.key, expected)
            runs.append(run)
            verify = max(verify, *(verify_rate(pairs) for _ in range(args.rounds)))
        inbox.stop_workers()
        cost = await breakdown(root / "national", root / "breakdown", runs[0].batches)
        return CatchUp(
            runs=runs, verify=verify, total=total, authors=len(expected), prepared_s=prepared_s, cost=cost,
            sealed=sum(1 for log in expected for content, envelope in zip(log.contents, log.envelopes)
                       if content is not None and stored_header(envelope).audience),
            stubs=sum(content is None for log in expected for content in log.contents),
            mean_envelope=sum(len(envelope) for log in expected for envelope in log.envelopes) // total,
        )  # fmt: skip
    finally:
        for hub in hubs:
            await hub.stop()


# Merkle --------------------------------------------------------------------------


def best(rounds: int, work) -> float:
    """Best wall time of ``work()`` over ``rounds`` (the machine is shared and noisy)."""
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def raw_sha256(messages: list[bytes], calls: int) -> float:
    """Seconds for ``calls`` bare ``hashlib.sha256(m).digest()`` on 64-byte messages."""
    sha256 = hashlib.sha256
    began = time.perf_counter()
    done = 0
    while done < calls:
        for message in messages[: calls - done]:
            sha256(message).digest()
        done += min(len(messages), calls - done)
    return time.perf_counter() - began


def node_hashes(work) -> int:
    """How many node hashes ``work()`` computes (``protocol.merkle.node_hash`` counted, not timed)."""
    count = 0
    original = merkle.node_hash

    def counted(left: bytes, right: bytes) -> bytes:
        nonlocal count
        count += 1
        return original(left, right)

    merkle.node_hash = counted
    try:
        work()
    finally:
        merkle.node_hash = original
    return count


@dataclass(frozen=True, slots=True)
class MerkleCosts:
    """Each measure as (seconds, seconds of the raw SHA-256 calls it needs); the raw call; hashes per proof."""

    measures: dict[str, tuple[float, float]]
    raw_call: float
    inclusion_hashes: float
    consistency_hashes: float


PROOFS = ("inclusion proof, generation", "inclusion proof, verification", "consistency proof, generation",
          "consistency proof, verification")  # fmt: skip


def merkle_costs(leaves: int, proofs: int, rounds: int) -> MerkleCosts:
    """The root of ``leaves`` leaves and ``proofs`` proofs of each kind, against raw SHA-256 calls."""
    rng = random.Random(9162)
    blob = rng.randbytes(63 * leaves)
    data = [blob[i * 63 : (i + 1) * 63] for i in range(leaves)]
    messages = [rng.randbytes(64) for _ in range(min(leaves, 100_000))]
    del blob
    raw_call = min(raw_sha256(messages, leaves) for _ in range(rounds)) / leaves

    hashes: list[bytes] = []
    trees: list[merkle.MerkleTree] = []

    def hash_leaves() -> None:
        hashes[:] = [merkle.leaf_hash(d) for d in data]

    def build() -> None:
        trees.clear()  # one tree in memory at a time
        tree = merkle.MerkleTree(hashes)
        tree.root()
        trees.append(tree)

    leaves_s = best(rounds, hash_leaves)
    tree_s = best(rounds, build)
    raw_call = min(raw_call, min(raw_sha256(messages, leaves) for _ in range(rounds)) / leaves)
    del data
    tree = trees[0]
    root = tree.root()

    indices = [rng.randrange(leaves) for _ in range(proofs)]
    olds = [rng.randrange(1, leaves) for _ in range(proofs)]
    paths = [tree.inclusion_proof(i) for i in indices]
    consistency = [tree.consistency_proof(m) for m in olds]
    old_roots = [tree.root(m) for m in olds]

    def verify_inclusions() -> None:
        for i, path in zip(indices, paths):
            merkle.verify_inclusion(hashes[i], i, leaves, path, root)

    def verify_consistencies() -> None:
        for m, old_root, path in zip(olds, old_roots, consistency):
            merkle.verify_consistency(m, leaves, old_root, root, path)

    inclusion = node_hashes(verify_inclusions) / proofs
    consistent = node_hashes(verify_consistencies) / proofs
    measures = {
        "leaf hashes": (leaves_s, raw_call * leaves),
        "tree root from leaf hashes": (tree_s, raw_call * (leaves - 1)),
        "root from leaf data (both)": (leaves_s + tree_s, raw_call * (2 * leaves - 1)),
        PROOFS[0]: (best(rounds, lambda: [tree.inclusion_proof(i) for i in indices]) / proofs, raw_call * inclusion),
        PROOFS[1]: (best(rounds, verify_inclusions) / proofs, raw_call * inclusion),
        PROOFS[2]: (best(rounds, lambda: [tree.consistency_proof(m) for m in olds]) / proofs, raw_call * consistent),
        PROOFS[3]: (best(rounds, verify_consistencies) / proofs, raw_call * consistent),
    }
    return MerkleCosts(measures, raw_call, inclusion, consistent)


# report --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hubs", type=int, default=5)
    parser.add_argument("--members", type=int, default=4, help="per hub")
    parser.add_argument("--records", type=int, default=100_000, help="in all, hubs' and members' logs")
    parser.add_argument("--runs", type=int, default=2, help="catch-ups into a fresh national node, best of")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each raw loop, best of")
    parser.add_argument("--leaves", type=int, default=1_000_000, help="leaves of the Merkle tree")
    parser.add_argument("--proofs", type=int, default=2000, help="proofs of each kind timed")
    parser.add_argument("--no-effects", action="store_true",
                        help="switch off the effects of records on the domain (fates...): the receive path alone")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run: " +
                        ", ".join(f"--{k} {v}" for k, v in QUICK.items()))  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    if args.hubs < 1 or args.members < 1 or args.leaves < 2 or args.runs < 1:
        parser.error("at least one hub, one member per hub, one run and two leaves")
    if args.no_effects:  # the effects on trust stay: they decide how a batch is held
        for kind in set(EFFECTS) - TRUST_KINDS:
            del EFFECTS[kind]

    load = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="maillon-national-bench-"))
    try:
        got = asyncio.run(national_catch_up(root, args))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    gc.unfreeze()
    gc.collect()
    tree = merkle_costs(args.leaves, args.proofs, args.rounds)

    runs, verify, total = got.runs, got.verify, got.total
    bestrun = min(runs, key=lambda run: run.wall)
    rate = total / bestrun.wall
    ratio = rate / verify
    ok = ratio >= GOAL
    cost = got.cost
    print(f"machine: {platform.platform()} {platform.machine()}, {os.cpu_count()} cpus,"
          f" python {platform.python_version()}; load average {load:.1f} at start")  # fmt: skip
    print(f"data:    {total} records in {got.authors} logs: {args.hubs} hubs with {args.members} members each"
          f" (prepared: signed, sealed and stored at the hubs in {got.prepared_s:.1f} s); mean envelope"
          f" {got.mean_envelope} bytes")  # fmt: skip
    print(f"         national reads {got.sealed} sealed to it, gets {got.stubs} as stubs (sealed to the hub"
          f" only), the others public")  # fmt: skip
    print(f"effects: {', '.join(sorted(set(EFFECTS) - TRUST_KINDS)) or 'none'} on the domain, besides trust"
          f"{' (switched off by --no-effects)' if args.no_effects else ''}")  # fmt: skip
    print("held:    every record at national, exact envelope bytes in seq order, content where it may read it: ok")
    print(f"runs:    {', '.join(str(round(total / run.wall)) for run in runs)} records/s")
    print()
    print(f"{'measure':<50} {'value':>12} {'goal':>8} {'':>6}")
    print(f"{'catch-up wall time, first request to last answer':<50} {bestrun.wall:>10.2f} s")
    print(f"{'records/s at national (best of %d)' % args.runs:<50} {rate:>12.0f}")
    print(f"{'bare Ed25519 verify/s, one core (best of %d)' % ((args.runs + 1) * args.rounds):<50} {verify:>12.0f}")
    print(f"{'ratio records/s / verify/s':<50} {ratio:>12.3f} {'>= %.1f' % GOAL:>8} {'PASS' if ok else 'MISS':>6}")
    print()
    print(f"where the time goes, per record (µs; one core: {cost['records']} records of hub 1, received again):")
    print(f"  bare Ed25519 verify, one core                   {1e6 / verify:8.1f}")
    print(f"  national's checks, one core                     {cost['check']:8.1f}"
          "   (decode, verify, sealed content, bodies)")  # fmt: skip
    print(f"  national holding them, one core                 {cost['hold']:8.1f}"
          f"   (chain checks, SQL, leaves; the records' effects: {cost['effects']:.1f})")  # fmt: skip
    print(f"  catch-up: CPU of national's checking workers    {bestrun.workers_cpu / total * 1e6:8.1f}")
    print(f"  catch-up: CPU of national and the hubs' process {bestrun.cpu / total * 1e6:8.1f}"
          "   (HTTP both ways, serving the logs, SQL)")  # fmt: skip
    print(f"  catch-up: wall                                  {bestrun.wall / total * 1e6:8.1f}"
          f"   ({(bestrun.cpu + bestrun.workers_cpu) / bestrun.wall:.2f} of {os.cpu_count()} cores busy)")
    print()
    print(f"Merkle tree of {args.leaves} leaves (protocol.merkle; best of {args.rounds}; raw: hashlib.sha256 on 64"
          f" bytes, {tree.raw_call * 1e9:.0f} ns a call):")  # fmt: skip
    print(f"  {'measure':<36} {'time':>12} {'raw SHA-256':>12} {'ratio':>7}")
    for name, (seconds, limit) in tree.measures.items():
        if name in PROOFS:
            print(f"  {name:<36} {seconds * 1e6:>9.1f} µs {limit * 1e6:>9.1f} µs {seconds / limit:>7.2f}")
        else:
            print(f"  {name:<36} {seconds:>10.3f} s {limit:>10.3f} s {seconds / limit:>7.2f}")
    print(f"  (a proof's raw limit: the node hashes its verifier computes, {tree.inclusion_hashes:.1f} for an"
          f" inclusion and {tree.consistency_hashes:.1f} for a consistency proof on average)")  # fmt: skip

    print_result("national", f"catch-up of {total} records from {args.hubs} hubs, records/s / Ed25519 verify/s"
                 f"{' (no effects)' if args.no_effects else ''}",
                 rate, "records/s", limit=verify, limit_unit="verify/s", ratio=ratio, goal=f">= {GOAL}", ok=ok)
    seconds, limit = tree.measures["root from leaf data (both)"]
    print_result("national", f"Merkle root of {args.leaves} leaves / raw SHA-256 (2n-1 calls)", seconds, "s",
                 limit=limit, ratio=seconds / limit)  # fmt: skip
    for name in PROOFS:
        seconds, limit = tree.measures[name]
        print_result("national", f"Merkle {name} ({args.leaves} leaves) / raw SHA-256 of its verification",
                     seconds * 1e6, "µs", limit=limit * 1e6, ratio=seconds / limit)  # fmt: skip


if __name__ == "__main__":
    main()
