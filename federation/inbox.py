"""Receiving records: verify everything, hold the exact bytes, apply effects, relay; one transaction.

``receive`` is the one door for records arriving from another node, whether
pushed to this node, pulled from a peer's log or from its mailbox. For each
item it checks, in order: the entry (PROTOCOL.md "Checking an entry", steps
1-6), that content with an audience came sealed and public content in clear,
the sealed content when this node is a recipient, the body against its kind,
the author's revocation, then the author's log as held here (step 8).
A refused item changes nothing but an alert; the others are held.

A batch goes through two passes, with the outcome its items would have one
after the other. ``check`` needs no database: decoding, signatures, sealed
content, bodies; for a big batch it runs on worker processes, one per core,
once they are up (the first big batch starts them, ``start_workers`` at
once), since the signatures cost more than all the rest, and
a caller may run it before taking the transaction. ``hold`` reads what it
needs once per author (``node.network.replica.store_records``) and writes with one
statement per table, then applies the effects in order. A record with an
effect on who is trusted (a descriptor, a revocation, a rotation) ends a
segment: the items after it are held against the state it leaves. Other
effects (hand-offs, fates) change nothing the checks read; they run in
order once their segment is held, each seeing its own record held.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, NamedTuple

from federation import admission
from federation.effects import EFFECTS, apply_effects
from federation.wire import Item, Result
from node.domain import alerts
from node.network import peers as trust
from node.network.outbox import enqueue
from node.network.recovery import replay
from node.network.replica import store_records
from node.network.transparency import append_leaves
from node.store.database import Tx
from node.workers import cores, worker_init
from protocol.errors import ContentInvalid, ProtocolError, Reason, RecordInvalid
from protocol.keys import SigningKey
from protocol.kinds import KeyRevocation, KeyRotation, NodeDescriptor
from protocol.records import Header, Record, open_entry
from protocol.seal import open_sealed

__all__ = ["receive", "check", "hold", "Checked", "start_workers", "stop_workers"]

log = logging.getLogger(__name__)

# Refusals that are part of normal catching up, not worth an admin's attention.
_QUIET = {Reason.GAP.value}
# Below this many items a round trip to the workers costs more than it saves.
PARALLEL_MIN = 64
# Far more than a batch takes on a busy machine: beyond, the workers are stuck and the node checks alone.
WORKERS_TIMEOUT = 120.0
# Workers hold some 45 MB each: they stop when no big batch came for this long, and start again at the next.
WORKERS_IDLE = 600.0


# Kinds whose effect changes who is trusted: what follows them is held against the state they leave.
_TRUST_KINDS = frozenset({NodeDescriptor.KIND, KeyRevocation.KIND, KeyRotation.KIND})


class _Refusal(NamedTuple):
    reason: Reason
    message: str


class _Verdict(NamedTuple):
    """An item after the first pass: its record (None if it could not be read), body for effects, refusal."""

    record: Record | None
    body: Any = None  # parsed once, kept only when the kind has an effect (PARSED: parsed on a worker, not kept)
    refusal: _Refusal | None = None


# First pass: no database ----------------------------------------------------------


def _check(entry: bytes, sealed: bytes | None, key: SigningKey) -> _Verdict:
    """The verified record, with its content when this node may read it, or why it is refused."""
    record: Record | None = None
    body = None
    try:
        record = open_entry(entry)
        header = record.header
        if header.audience:
            if record.content is not None:
                raise RecordInvalid(Reason.BAD_ENTRY,
                                    "the content of a record with an audience travels sealed")  # fmt: skip
            if sealed is not None and header.readable_by(key.public.raw):
                record = record.with_content(open_sealed(sealed, record.id, key))
        elif sealed is not None:
            raise RecordInvalid(Reason.BAD_ENTRY, "the content of a public record travels in clear")
        if record.content is not None:
            try:
                body = record.body()
            except ContentInvalid as exc:
                if exc.code is not Reason.UNKNOWN_KIND:
                    raise  # an unknown kind is valid but not understood: held, read again by a newer version
    except ProtocolError as exc:
        return _Verdict(record, None, _Refusal(exc.code, exc.message))
    return _Verdict(record, body if header.kind in EFFECTS else None)


# A verdict's body checked on a worker process: valid, and parsed again only if an effect needs it.
PARSED = True
# A record crosses between processes as a plain tuple: pickling the dataclass costs four times more.
_Packed = tuple[bytes, bytes, bytes, tuple, bytes, bytes | None]
_keys: dict[bytes, SigningKey] = {}


def _check_chunk(seed: bytes, items: list[tuple[bytes, bytes | None]]) -> list[tuple]:
    """``_check`` on a worker process, for a slice of a batch (the seed opens sealed content)."""
    key = _keys.get(seed)
    if key is None:
        key = _keys[seed] = SigningKey.from_seed(seed)
    out = []
    for entry, sealed in items:
        record, body, refusal = _check(entry, sealed, key)
        packed = None if record is None else (record.envelope, record.header_bytes, record.signature,
                                              tuple(record.header), record.id, record.content)  # fmt: skip
        # The body was checked here; sending it back costs more than parsing it again where an effect needs it.
        out.append((packed, PARSED if body is not None else None, refusal))
    return out


def _unpack(packed: _Packed | None, body: Any, refusal: _Refusal | None) -> _Verdict:
    if packed is None:
        return _Verdict(None, body, refusal)
    envelope, header_bytes, signature, header, record_id, content = packed
    return _Verdict(Record(envelope, header_bytes, signature, Header(*header), record_id, content), body, refusal)


def _ready() -> int:
    time.sleep(0.05)  # long enough that each worker takes one: all start now, not at the first batch
    return os.getpid()


class _Workers:
    """Processes that run the first pass of big batches: one per core, none on a single core.

    They are spawned, not forked: the node's process has threads (SQLite,
    HTTP) that a fork would copy in the middle of their work. If they cannot
    run (a worker killed, a script that starts its work on import), batches
    are checked on the node's process from then on.

    A batch never waits for them to start: that takes a second, and many
    more on a busy machine, while the node's process checks a batch of
    MAX_ITEMS in a fraction of that. The first big batch starts them and is
    checked here; the next ones go to them once they are all up. (A peer's
    push that waited was cut short each time by a restart of a node killed
    every few seconds, and never went through.)
    """

    def __init__(self, count: int) -> None:
        self.count = min(count, 8)
        self._pool: ProcessPoolExecutor | None = None
        self._up: ProcessPoolExecutor | None = None  # the pool whose processes are all started
        self._starting: asyncio.Task | None = None
        self._idle: asyncio.TimerHandle | None = None

    @property
    def usable(self) -> bool:
        return self.count >= 2

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.count, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=worker_init, initargs=(os.getpid(),))  # fmt: skip
        return self._pool

    def _broken(self, exc: BaseException) -> None:
        log.warning("checking records on the node's process only: the worker processes failed (%r)", exc)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)  # a hung worker must not hang the node
            self._pool = None
        self.count = 1

    async def _run(self, calls) -> list:
        loop = asyncio.get_running_loop()
        pool = self._executor()
        if self._idle is not None:
            self._idle.cancel()
        self._idle = loop.call_later(WORKERS_IDLE, self._stop_idle, pool)
        futures = [loop.run_in_executor(pool, fn, *args) for fn, *args in calls]
        return await asyncio.wait_for(asyncio.gather(*futures), WORKERS_TIMEOUT)

    def _stop_idle(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
            pool.shutdown(wait=False)

    async def start(self) -> None:
        """Start the processes and wait until each one is up."""
        if not self.usable:
            return
        try:
            await self._run([(_ready,)] * self.count)
        except (BrokenProcessPool, asyncio.TimeoutError, OSError) as exc:
            self._broken(exc)
        else:
            self._up = self._pool  # None if stopped meanwhile

    def _start_soon(self) -> None:
        loop = asyncio.get_running_loop()
        if self._starting is None or self._starting.done() or self._starting.get_loop() is not loop:
            self._starting = loop.create_task(self.start(), name="inbox workers start")

    def stop(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
            self._starting = None
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def check(self, key: SigningKey, items: list[Item]) -> list[_Verdict]:
        if not self.usable or len(items) < PARALLEL_MIN:
            return [_check(item.entry, item.sealed, key) for item in items]
        if self._pool is None or self._up is not self._pool:  # not (all) up yet: this batch does not wait
            self._start_soon()
            return [_check(item.entry, item.sealed, key) for item in items]
        pairs = [(item.entry, item.sealed) for item in items]
        size = -(-len(pairs) // self.count)
        calls = [(_check_chunk, key.seed, pairs[i : i + size]) for i in range(0, len(pairs), size)]
        try:
            chunks = await self._run(calls)
        except (BrokenProcessPool, asyncio.TimeoutError) as exc:
            self._broken(exc)
            return [_check(item.entry, item.sealed, key) for item in items]
        return [_unpack(*verdict) for chunk in chunks for verdict in chunk]


_workers = _Workers(cores())


async def start_workers() -> None:
    """Start the checking processes now rather than at the first big batch (they take about a second).

    A script that receives big batches guards its main code
    (``if __name__ == "__main__":``), as ``multiprocessing`` requires.
    """
    await _workers.start()


def stop_workers() -> None:
    """Stop the checking processes (they also stop when the node's process ends)."""
    _workers.stop()


# Second pass: the database -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checked:
    """A batch after the first pass: each item with its verified record or why it is refused."""

    me: bytes
    items: list[Item]
    verdicts: list[_Verdict]


async def check(key: SigningKey, items: list[Item], *, parallel: bool = True) -> Checked:
    """The first pass over ``items``, which needs no transaction: run it before taking one.

    ``parallel=False`` checks on this process whatever the size of the batch.
    """
    if parallel:
        verdicts = await _workers.check(key, items)
    else:
        verdicts = [_check(item.entry, item.sealed, key) for item in items]
    return Checked(key.public.raw, items, verdicts)


async def hold(tx: Tx, checked: Checked, *, sender: bytes | None, leaves: bool = False) -> list[Result]:
    """The second pass: hold what passed ``check`` (from ``sender``); one result per item.

    ``leaves`` (a hub or national node): each record of another node held as
    new becomes a leaf of the transparency log, in order (``node.network.transparency``).
    """
    receiving = _Receiving(tx, checked.me, sender, leaves)
    items, verdicts = checked.items, await _screened(tx, checked, sender)
    start = 0
    while start < len(items):
        end = start
        while end < len(items) - 1 and not receiving.ends_segment(verdicts[end]):
            end += 1
        await receiving.segment(verdicts[start : end + 1], items[start : end + 1])
        start = end + 1
    return receiving.results


async def _screened(tx: Tx, checked: Checked, sender: bytes | None) -> list[_Verdict]:
    """The verdicts, with what ``federation.admission`` refuses (who may send what) added."""
    refusals = await admission.screen(tx, checked.me, sender, [(v.record if v.refusal is None else None, v.body)
                                                               for v in checked.verdicts])  # fmt: skip
    return [v if r is None else v._replace(refusal=_Refusal(*r)) for v, r in zip(checked.verdicts, refusals)]


async def receive(tx: Tx, key: SigningKey, items: list[Item], *, sender: bytes | None,
                  parallel: bool = True, leaves: bool = False) -> list[Result]:  # fmt: skip
    """Verify and hold ``items`` (from ``sender``, None when read from a file); one result per item.

    The same as ``check`` then ``hold``; ``check`` alone may run before the
    transaction is taken, so that the next batch is verified while this one is written.
    """
    return await hold(tx, await check(key, items, parallel=parallel), sender=sender, leaves=leaves)


class _Receiving:
    """The second pass over one batch, segment after segment."""

    def __init__(self, tx: Tx, me: bytes, sender: bytes | None, leaves: bool = False) -> None:
        self.tx = tx
        self.me = me
        self.sender = sender
        self.leaves = leaves
        self.results: list[Result] = []
        self._alerted: set[tuple] = set()

    def ends_segment(self, verdict: _Verdict) -> bool:
        record = verdict.record
        return (verdict.body is not None and record is not None and record.header.author != self.me
                and record.header.kind in _TRUST_KINDS)  # fmt: skip

    async def segment(self, verdicts: list[_Verdict], items: list[Item]) -> None:
        """Hold a run of items of which only the last may change who is trusted."""
        tx = self.tx
        authors = list({v.record.header.author for v in verdicts if v.refusal is None and v.record is not None})
        revoked: dict[bytes, int] = {}
        if authors:
            rows = await tx.all(f"SELECT key, revoked_from FROM peers WHERE revoked_from IS NOT NULL AND key IN"
                                f" (VALUES {', '.join('(?)' for _ in authors)})", authors)  # fmt: skip
            revoked = {row[0]: row[1] for row in rows}
        refusals: list[_Refusal | None] = []
        to_store: list[tuple[Record, bytes | None]] = []
        for (record, _, refusal), item in zip(verdicts, items):
            if refusal is None and record is not None:
                since = revoked.get(record.header.author)
                if since is not None and record.header.seq >= since:
                    refusal = _Refusal(Reason.REVOKED_KEY, f"records of this key from seq {since} are revoked")
                else:
                    to_store.append((record, item.sealed))
            refusals.append(refusal)
        stored = iter(await store_records(tx, to_store))

        relays: dict[bytes, list[bytes]] = {}
        peers: dict[bytes, bool] = {}  # reader -> pinned and active
        new: list[tuple[bytes, bytes]] = []  # transparency leaves, in acceptance order
        own: list[Record] = []  # this node's own records taken back (after a restore)
        lacked: list[bytes] = []  # the sender's own records it sent as bare stubs: it lacks their content
        for (record, body, _), refusal, item in zip(verdicts, refusals, items):
            have = None
            if refusal is None and record is not None:
                outcome = next(stored)
                if outcome.error is not None:
                    refusal, have = _Refusal(outcome.error.code, outcome.error.message), outcome.have
            if refusal is not None or record is None:
                await self._refused(refusal, record, have)
                continue
            if outcome.outcome == "duplicate" and _lacks_content(record, item, self.sender, self.me):
                lacked.append(record.id)
            if outcome.outcome != "duplicate" and record.header.author != self.me:
                if body is not None:
                    if record.header.kind in _TRUST_KINDS:  # the last of the segment
                        await self._flush(relays)
                    await apply_effects(tx, self.me, record, None if body is PARSED else body)
                    if record.header.kind in _TRUST_KINDS:
                        peers.clear()
                if outcome.outcome == "new":
                    await self._relay(record, relays, peers)
                    new.append((record.id, record.envelope))
            elif outcome.outcome in ("new", "completed") and record.content is not None:
                # this node's own record, taken back after a restore (maybe first as a stub from a
                # node that could not read it): what it says is done again here, with the segment's others
                own.append(record)
            self.results.append(Result(record.id, "duplicate" if outcome.outcome == "duplicate" else "accepted"))
        await self._flush(relays)
        if lacked:
            await self._give_back(lacked)
        if own:
            await replay(tx, own)
        if self.leaves:
            await append_leaves(tx, new)

    async def _give_back(self, ids: list[bytes]) -> None:
        """The sender lacks the content of these records of its own log (restored from a backup, it took them
        back as stubs from nodes that could not read them): push them back to it, sealed as received."""
        assert self.sender is not None
        held = [row[0] for row in await self.tx.all(
            f"SELECT r.id FROM log_records r JOIN sealed s ON s.record_id = r.id WHERE r.content IS NOT NULL"
            f" AND r.id IN (VALUES {', '.join('(?)' for _ in ids)})", ids)]  # fmt: skip
        if held:
            await enqueue(self.tx, self.sender, held)
            log.warning("%d records of %s's own log came back to it as stubs: giving their content back", len(held),
                        self.sender.hex()[:8])  # fmt: skip

    async def _refused(self, refusal: _Refusal, record: Record | None, have: int | None) -> None:
        author = record.header.author if record else None
        seq = record.header.seq if record else None
        if refusal.reason is Reason.FORK:
            kind = "fork"
        elif refusal.reason.value not in _QUIET:
            kind = "refused"
        else:
            kind = None
        # raise_alert folds repeats within an hour: one per kind, reason and author is what it would keep
        if kind is not None and (kind, refusal.reason, author) not in self._alerted:
            self._alerted.add((kind, refusal.reason, author))
            await alerts.raise_alert(self.tx, kind, refusal.reason.value, peer=self.sender, author=author, seq=seq,
                                    detail=refusal.message)  # fmt: skip
        self.results.append(Result(record.id if record else None, "refused", refusal.reason.value, have))

    async def _relay(self, record: Record, relays: dict[bytes, list[bytes]], peers: dict[bytes, bool]) -> None:
        """A record addressed to other trusted nodes goes on to them (the hub relays for members behind NAT)."""
        header = record.header
        for reader in header.audience:
            if reader in (self.me, self.sender, header.author):
                continue
            if reader not in peers:
                peer = await trust.get_peer(self.tx, reader)
                peers[reader] = peer is not None and peer.active
            if peers[reader]:
                relays.setdefault(reader, []).append(record.id)

    async def _flush(self, relays: dict[bytes, list[bytes]]) -> None:
        for reader, ids in relays.items():
            await enqueue(self.tx, reader, ids)
        relays.clear()


def _lacks_content(record: Record, item: Item, sender: bytes | None, me: bytes) -> bool:
    """Whether ``item`` is its author's own record sent to this node, a reader, as a bare stub.

    An author always sends its reader the sealed content (PROTOCOL.md,
    "Items"); one that sends a stub lacks that content: it was restored and
    took the record back from nodes that could not read it (PROTOCOL.md,
    "Replication"). This node, holding it, gives it back.
    """
    header = record.header
    return (sender is not None and header.author == sender and item.sealed is None and bool(header.audience)
            and me in header.audience)  # fmt: skip
