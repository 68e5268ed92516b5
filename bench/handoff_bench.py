"""A 1 350-item lot handed from a hub to a member over HTTP, against the raw cost of the same work.

Two nodes run in this process, each with a fresh data directory, its own
SQLite file, its ``Federation`` and its real HTTP stack (``make_app``
served by aiohttp on loopback), started as ``maillon run`` starts a node
(its heap frozen once started: ``node.cli.main.freeze_startup_heap``); the hub
and the member are pinned to each other with their URLs, so each pushes to
the other, with the federation's production timing. The hub holds one lot
of 1 350 items (the size of the State experiment): laptops, desktops and
screens in a workshop's proportions, described, half of them erased.

The time runs from ``create_offer`` on the hub to the moment both
databases show the hand-off ``received`` (the member: the items created,
with their provenance; the hub: the items ``transferred``). The bench plays
the member's admin: it accepts as soon as the offer is in the member's
database, and records the receipt (everything arrived) as soon as the
accept is in the hub's; each database is polled every 2 ms. Each step
says how many calls went to SQLite's threads meanwhile (both nodes, every
task): an ``await`` of aiosqlite each, what a per-row loop pays for.

The limit, measured in the same run, is the raw cost of the same work:
one Ed25519 signature and one verification per record the run signed
(read from the two logs afterwards), one seal and one opening
(``protocol.seal``) per record with an audience, on its content, and the
rows the run inserted in each database that are still there afterwards
(every table, read back by rowid), inserted with plain
``sqlite3.executemany``, one transaction per side, into a copy of that
side's database taken just before the hand-off (``Store.backup``), opened
with the node's own settings (WAL, ``synchronous = NORMAL``, foreign keys
on): the same inserts into the same tables, indexes and rows, with
nothing of ours around them. Each round warms the copy's cache with the
same inserts rolled back first. Goal: ratio <= 3. Rows updated (states,
provenance, outcomes) are not in the limit.

``--profile`` hands one more lot over under cProfile and prints where the
event loop's thread spends its time (SQLite's own work, on aiosqlite's
threads, is not in it).

    python bench/handoff_bench.py [--items N] [--runs R] [--rounds R] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import platform
import pstats
import random
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiosqlite  # noqa: E402
from aiohttp import web  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey  # noqa: E402
from result_lines import print_result  # noqa: E402

from federation.engine import Federation, Timing  # noqa: E402
from node.store import search  # noqa: E402
from node.cli.main import freeze_startup_heap  # noqa: E402
from node.config import Config, Node, init_node, load_node  # noqa: E402
from node.domain.donors import DonorInput, create_donor  # noqa: E402
from node.domain.erasure import ErasureInput, record_erasure  # noqa: E402
from node.domain.items import ItemInput, create_items  # noqa: E402
from node.domain.lots import LotInput, create_lot  # noqa: E402
from node.network import handoffs
from node.network import peers as trust
from node.store.database import Store  # noqa: E402
from protocol.keys import SigningKey  # noqa: E402
from protocol.records import open_envelope, stored_header  # noqa: E402
from protocol.seal import encryption_key, open_sealed, seal  # noqa: E402
from web_ui.app import make_app  # noqa: E402

GOAL = 3.0
POLL_S = 0.002
TIMING = Timing(backoff_first_ms=100, backoff_cap_ms=1_000)
MODELS = {  # category: (share, weight_g, storage_gb, [(brand, model)])
    "laptop": (41, 2200, 256, [("Dell", "Latitude E7470"), ("Lenovo", "ThinkPad T460"), ("HP", "EliteBook 840 G3")]),
    "desktop": (38, 7500, 500, [("Dell", "OptiPlex 7040"), ("HP", "ProDesk 600 G2"), ("Lenovo", "ThinkCentre M700")]),
    "screen": (21, 4500, 0, [("Dell", "P2217"), ("Iiyama", "ProLite E2283HS")]),
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Trips:
    """Counts the calls sent to the SQLite connections' threads (both nodes, every task): one
    ``await`` of aiosqlite each, the unit a per-row loop in the domain pays for."""

    count = 0

    @classmethod
    def install(cls) -> None:
        execute = aiosqlite.Connection._execute

        async def counted(self, fn, *args, **kwargs):
            cls.count += 1
            return await execute(self, fn, *args, **kwargs)

        aiosqlite.Connection._execute = counted  # type: ignore[method-assign]


@dataclass
class Side:
    """One running node: its data, database, federation and HTTP server."""

    node: Node
    store: Store
    fed: Federation
    runner: web.AppRunner

    @property
    def raw(self) -> bytes:
        return self.node.key.public.raw

    @property
    def url(self) -> str:
        return self.node.config.url

    async def stop(self) -> None:
        await self.fed.stop()
        await self.runner.cleanup()
        await self.store.close()


async def start(root: Path, name: str, role: str) -> Side:
    port = free_port()
    node = init_node(root / name.lower(), Config(name=name, role=role, port=port, url=f"http://127.0.0.1:{port}"))
    store = await Store.open(node.db_path, node.key, create=True)
    fed = Federation(node, store, timing=TIMING)
    runner = web.AppRunner(make_app(node, store, fed), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    freeze_startup_heap()  # as ``maillon run`` does once its services started
    return Side(node, store, fed, runner)


async def pin_each_other(hub: Side, member: Side) -> None:
    for side, other, relation in ((hub, member, "downstream"), (member, hub, "upstream")):
        async with side.store.transaction() as tx:
            await trust.pin_peer(tx, other.raw, name=other.node.config.name, role=other.node.config.role,
                                 relation=relation, url=other.url, encryption_key=encryption_key(other.node.key),
                                 network="Hub" if relation == "upstream" else None)  # fmt: skip


async def stock(hub: Side, count: int, rng: random.Random) -> int:
    """The State's lot at the hub: described items, half of them erased; returns the lot id."""
    categories = rng.choices(list(MODELS), [m[0] for m in MODELS.values()], k=count)
    inputs = []
    for n, category in enumerate(categories):
        _share, weight, storage_gb, models = MODELS[category]
        brand, model = models[n % len(models)]
        inputs.append(ItemInput(
            category=category, brand=brand, model=model, serial=f"SN{rng.getrandbits(40):010X}",
            donor_asset=f"ETAT-{n + 1:05d}", weight_g=weight + rng.randrange(-200, 200),
            storage="present" if storage_gb else "none", storage_gb=storage_gb or None,
        ))  # fmt: skip
    async with hub.store.transaction() as tx:
        donor = await create_donor(tx, DonorInput(name="Ministère (expérimentation État)", type="public_body"))
        lot = await create_lot(tx, LotInput(reference="ETAT-2026-01", donor_id=donor, declared_units=count,
                                            orientations=["reuse_first", "schools"]))  # fmt: skip
        ids = await create_items(tx, lot, inputs)
        with_disks = [item_id for item_id, category in zip(ids, categories) if category != "screen"]
        for item_id in sorted(rng.sample(with_disks, min(count // 2, len(with_disks)))):
            await record_erasure(tx, ErasureInput(item_id=item_id, method="nist 800-88", level="purge", tool="nwipe",
                                                  result="success"))  # fmt: skip
    return lot


async def value(store: Store, sql: str, params: tuple = ()) -> object:
    async with store.reader() as db:
        return await db.value(sql, params)


async def until(store: Store, sql: str, params: tuple = (), timeout: float = 120.0) -> float:
    """Poll ``store`` until ``sql`` answers something true; the moment it did."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if await value(store, sql, params):
            return time.perf_counter()
        await asyncio.sleep(POLL_S)
    raise TimeoutError(f"timed out waiting for: {sql} {params}")


async def settled(hub: Side, member: Side) -> None:
    """Both outboxes empty and each node holding the other's whole log."""
    for _ in range(3):
        for side, other in ((hub, member), (member, hub)):
            head = await value(side.store, "SELECT max(seq) FROM log_records WHERE author = ?", (side.raw,))
            await until(other.store, "SELECT 1 FROM log_records WHERE author = ? AND seq = ?", (side.raw, head))
            await until(side.store, "SELECT count(*) = 0 FROM outbox")
        await asyncio.sleep(0.1)


async def high_marks(store: Store) -> dict[str, int]:
    """Every table's highest rowid, in the order the schema created them (so parents come first).

    The item search's full-text table and its shadow tables are left out:
    their rows are the triggers' work on inserting items, in the raw run too.
    """
    async with store.reader() as db:
        tables = [r[0] for r in await db.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            " AND name NOT LIKE 'items_search%' ORDER BY rowid")]  # fmt: skip
        return {t: await db.value(f"SELECT coalesce(max(rowid), 0) FROM {t}") for t in tables}


async def new_rows(store: Store, marks: dict[str, int]) -> dict[str, tuple[list[str], list[tuple]]]:
    """The rows inserted since ``marks`` and still there, per table, with their column names, as they are now."""
    out = {}
    async with store.reader() as db:
        for table in marks:
            rows = await db.all(f"SELECT * FROM {table} WHERE rowid > ? ORDER BY rowid", (marks[table],))
            if rows:
                out[table] = (list(rows[0].keys()), [tuple(r) for r in rows])
    return out


@dataclass
class Run:
    steps: dict[str, tuple[float, int]]  # step: (seconds, calls to SQLite's threads)
    total: float
    cpu: float  # CPU seconds of this process (both nodes, every thread) meanwhile
    rows: dict[bytes, dict[str, tuple[list[str], list[tuple]]]]  # per side's key
    snapshots: dict[bytes, Path]  # per side's key: its database just before the hand-off
    signed: dict[bytes, list[tuple[bytes, bytes, bytes | None]]]  # per author: (envelope, id, content)
    held_items: int
    transferred: int


async def handoff_once(root: Path, count: int, seed: int, profile: cProfile.Profile | None = None) -> Run:
    hub = await start(root, "Hub", "hub")
    member = await start(root, "Member", "member")
    try:
        await pin_each_other(hub, member)
        for side in (hub, member):
            await side.fed.start()
        lot = await stock(hub, count, random.Random(seed))
        await settled(hub, member)
        marks = {side.raw: await high_marks(side.store) for side in (hub, member)}
        snapshots = {side.raw: root / f"before-{side.node.config.name.lower()}.db" for side in (hub, member)}
        for side in (hub, member):
            await side.store.backup(snapshots[side.raw])
        heads = {side.raw: await value(side.store, "SELECT max(seq) FROM log_records WHERE author = ?", (side.raw,))
                 for side in (hub, member)}  # fmt: skip

        steps: dict[str, tuple[float, int]] = {}  # step: (seconds, SQLite calls)
        last = [0.0, 0]

        def step(name: str) -> None:
            now = time.perf_counter()
            steps[name] = (now - last[0], Trips.count - last[1])
            last[:] = [now, Trips.count]

        state = "SELECT 1 FROM handoffs WHERE offer = ? AND state = ?"
        if profile is not None:
            profile.enable()
        cpu = time.process_time()
        t0 = last[0] = time.perf_counter()
        last[1] = Trips.count
        async with hub.store.transaction() as tx:
            offer = await handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw, lot_id=lot))
        step("offer signed (hub: create_offer)")
        await until(member.store, state, (offer.id, "offered"))
        step("offer delivered (in the member's database)")
        async with member.store.transaction() as tx:
            await handoffs.answer_offer(tx, offer.id, accept=True)
        step("accept signed (member: answer_offer)")
        await until(hub.store, state, (offer.id, "accepted"))
        step("accept delivered (in the hub's database)")
        async with member.store.reader() as db:  # the volunteers scan every line of the manifest
            lines = await handoffs.handoff_lines(db, offer.id)
        receipt = handoffs.ReceiptInput(received=[line.gid for line in lines],
                                        weight_g=sum(line.line["weight_g"] for line in lines))  # fmt: skip
        async with member.store.transaction() as tx:
            await handoffs.record_receipt(tx, offer.id, receipt)
        step("receipt signed (member: record_receipt, items made)")
        await until(hub.store, state, (offer.id, "received"))
        step("receipt delivered and applied (hub: transferred)")
        total, cpu = time.perf_counter() - t0, time.process_time() - cpu
        if profile is not None:
            profile.disable()

        held = await value(member.store, "SELECT count(*) FROM items WHERE origin_offer = ?", (offer.id,))
        transferred = await value(hub.store, "SELECT count(*) FROM items WHERE lot_id = ? AND state = 'transferred'",
                                  (lot,))  # fmt: skip
        assert held == count and transferred == count, (held, transferred)
        rows = {side.raw: await new_rows(side.store, marks[side.raw]) for side in (hub, member)}
        signed = {}
        for side in (hub, member):
            async with side.store.reader() as db:
                signed[side.raw] = [tuple(r) for r in await db.all(
                    "SELECT envelope, id, content FROM log_records WHERE author = ? AND seq > ? ORDER BY seq",
                    (side.raw, heads[side.raw]))]  # fmt: skip
        return Run(steps, total, cpu, rows, snapshots, signed, held, transferred)
    finally:
        await member.stop()
        await hub.stop()


# the limit ------------------------------------------------------------------


def crypto_cost(signed: dict[bytes, list[tuple[bytes, bytes, bytes | None]]], keys: dict[bytes, SigningKey]) -> float:
    """One Ed25519 signature and verification per record; a seal and an opening per record with an audience."""
    work = []
    for author, records in signed.items():
        private = Ed25519PrivateKey.from_private_bytes(keys[author].seed)
        public = Ed25519PublicKey.from_public_bytes(author)
        for envelope, record_id, content in records:
            header = stored_header(envelope)
            readers = {*header.audience, author} if header.audience else set()
            recipients = {k: encryption_key(keys[k]) for k in readers if k in keys}
            # the reader that opens it: another node than the author, when there is one
            opener = next((keys[k] for k in sorted(readers) if k != author and k in keys), keys[author])
            header_bytes = open_envelope(envelope).header_bytes
            work.append((private, public, header_bytes, record_id, content, recipients, opener))
    began = time.perf_counter()
    for private, public, header_bytes, record_id, content, recipients, opener in work:
        public.verify(private.sign(header_bytes), header_bytes)
        if recipients and content is not None:
            open_sealed(seal(record_id, content, recipients), record_id, opener)
    return time.perf_counter() - began


def sql_cost(snapshot: Path, rows: dict[str, tuple[list[str], list[tuple]]]) -> float:
    """The same rows inserted with plain executemany into a copy of ``snapshot``, one transaction."""
    path = snapshot.with_name(f"raw-{snapshot.name}")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(snapshot, path)
    db = sqlite3.connect(path, isolation_level=None)
    search.register(db)  # the functions the item search's triggers call, as on the node's connections
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        inserts = [(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values)
                   for table, (columns, values) in rows.items()]  # fmt: skip

        def insert_all() -> None:
            db.execute("BEGIN IMMEDIATE")
            db.execute("PRAGMA defer_foreign_keys = ON")  # parents and children in any order, checked at commit
            for sql, values in inserts:
                db.executemany(sql, values)

        insert_all()  # warm the cache with the same work, rolled back
        db.execute("ROLLBACK")
        began = time.perf_counter()
        insert_all()
        db.execute("COMMIT")
        return time.perf_counter() - began
    finally:
        db.close()


def raw_cost(run: Run, keys: dict[bytes, SigningKey], rounds: int) -> tuple[float, float]:
    """Best of ``rounds``: (crypto seconds, SQL seconds)."""
    crypto = min(crypto_cost(run.signed, keys) for _ in range(rounds))
    sql = min(sum(sql_cost(run.snapshots[side], rows) for side, rows in run.rows.items()) for _ in range(rounds))
    return crypto, sql


# report ---------------------------------------------------------------------


def counts(run: Run) -> tuple[str, int, int, dict[str, int]]:
    """The records signed (kinds by side), how many, how many sealed, and the rows inserted per table."""
    headers = {name: [stored_header(envelope) for envelope, _, _ in records]
               for name, records in zip(("hub", "member"), run.signed.values())}  # fmt: skip
    kinds = "; ".join(f"{name}: {', '.join(h.kind for h in signed)}" for name, signed in headers.items())
    records = sum(len(signed) for signed in headers.values())
    sealed = sum(1 for signed in headers.values() for h in signed if h.audience)
    tables: dict[str, int] = {}
    for rows in run.rows.values():
        for table, (_, values) in rows.items():
            tables[table] = tables.get(table, 0) + len(values)
    return kinds, records, sealed, tables


def print_profile(profile: cProfile.Profile, limit: int = 30) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(r"^(?!.*select\.epoll)", limit)  # waiting is not a hot spot
    print("\nprofile of the event loop's thread during one hand-off (cProfile, by own time; SQLite runs on"
          " aiosqlite's threads, unseen here: see the SQLite calls per step):")
    print("\n".join(line for line in out.getvalue().splitlines()[4:] if line.strip()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1350)
    parser.add_argument("--runs", type=int, default=7, help="hand-offs between fresh nodes, best of")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the raw work after each run, best of")
    parser.add_argument("--profile", action="store_true", help="profile one more hand-off and print the hot spots")
    args = parser.parse_args()

    Trips.install()
    root = Path(tempfile.mkdtemp(prefix="maillon-handoff-bench-"))
    load = os.getloadavg()[0]
    try:
        results = []
        for n in range(args.runs):
            run = asyncio.run(handoff_once(root / f"run{n}", args.items, seed=2026))
            keys = _keys(root / f"run{n}")
            crypto, sql = raw_cost(run, keys, args.rounds)
            results.append((run, crypto, sql))
        run = min((r for r, _, _ in results), key=lambda r: r.total)
        crypto, sql = min(r[1] for r in results), min(r[2] for r in results)
        raw = crypto + sql
        ratio = run.total / raw
        kinds, records, sealed, tables = counts(run)

        print(f"machine: {platform.platform()} {platform.machine()}, {os.cpu_count()} cpus,"
              f" python {platform.python_version()}; load average {load:.1f} at start")  # fmt: skip
        print(f"data:    a lot of {args.items} items ({_mix(root / 'run0')}) handed hub → member over HTTP on"
              f" loopback; {run.held_items} held by the member with provenance, {run.transferred} transferred"
              f" at the hub")  # fmt: skip
        print(f"work:    {records} records signed ({kinds}), {sealed} sealed to an audience; rows inserted: "
              + ", ".join(f"{t} {c}" for t, c in tables.items()))
        print(f"runs:    {', '.join(f'{r.total * 1000:.0f}' for r, _, _ in results)} ms")
        print()
        print(f"{'step (best run)':<54} {'ms':>9} {'SQLite calls':>13}")
        for step, (seconds, trips) in run.steps.items():
            print(f"  {step:<52} {seconds * 1000:>9.1f} {trips:>13}")
        print()
        verdict = "ok" if ratio <= GOAL else "MISSED"
        print(f"{'measure':<54} {'value':>9} {'goal':>8} {'':>6}")
        print(f"{'raw: Ed25519 sign + verify, seal + open':<54} {crypto * 1000:>6.1f} ms")
        print(f"{'raw: the same rows, executemany, one tx per side':<54} {sql * 1000:>6.1f} ms")
        print(f"{'raw total (limit, best of %d)' % (args.runs * args.rounds):<54} {raw * 1000:>6.1f} ms")
        print(f"{'hand-off, offer to both databases received (best of %d)' % args.runs:<54}"
              f" {run.total * 1000:>6.1f} ms")  # fmt: skip
        print(f"{'  CPU of the process meanwhile (both nodes, all threads)':<54} {run.cpu * 1000:>6.1f} ms")
        print(f"{'ratio hand-off / raw':<54} {ratio:>9.2f} {'<= %g' % GOAL:>8} {verdict:>6}")
        if args.profile:
            profile = cProfile.Profile()
            asyncio.run(handoff_once(root / "profiled", args.items, seed=2026, profile=profile))
            print_profile(profile)
        print_result("handoff", f"hand-off of a {args.items}-item lot over HTTP / raw crypto and SQL of the same work",
                     run.total * 1000, "ms", limit=raw * 1000, ratio=ratio, goal=f"<= {GOAL:g}", ok=ratio <= GOAL)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _keys(root: Path) -> dict[bytes, SigningKey]:
    keys = {}
    for name in ("hub", "member"):
        key = load_node(root / name).key
        keys[key.public.raw] = key
    return keys


def _mix(root: Path) -> str:
    db = sqlite3.connect(f"file:{root / 'hub' / 'node.db'}?mode=ro", uri=True)
    try:
        by = dict(db.execute("SELECT category, count(*) FROM items GROUP BY category").fetchall())
        erased = db.execute("SELECT count(DISTINCT item_id) FROM erasures WHERE result = 'success'").fetchone()[0]
    finally:
        db.close()
    return ", ".join(f"{c} {by[c]}" for c in MODELS if c in by) + f"; {erased} erased"


if __name__ == "__main__":
    main()
