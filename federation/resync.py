"""After a restore: take the node's own log back before it signs anything, then do again what it says.

A restored backup may lack records the node signed and sent after the
backup was made; signing anew from the backup's head would fork its log.
``Resync.attempt`` takes them back from the nodes that hold them (PROTOCOL.md,
"Replication": its upstream, its peers, the members it can call; a member
behind NAT gives back by itself what it sees its hub lacks,
``Resync.give_back``), replays what they say (``node.network.recovery``), allows
signing again and catches up the answers of the nodes they name (an answer held before
the offer it answers is applied when the offer comes back,
``node.network.recovery.answers_held``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from federation.client import NETWORK_ERRORS
from federation.client import describe as _describe
from federation.effects import apply_deferred
from federation.parts import EngineView
from node.network import outbox
from node.network import peers as trust
from node.network.handoff_fates import handoff_peers
from node.network.recovery import answers_held, replay
from node.network.replica import head, held_ids
from node.store.database import RESYNC_COUNTER
from protocol import canonical
from protocol.custody_kinds import OFFER_KINDS
from protocol.records import Record, open_entry, stored_header

__all__ = ["Resync"]

log = logging.getLogger(__name__)

_RESTORED_HEAD = "federation.restored_head"  # this node's own head when it was restored (set at the first attempt)


class Resync:
    """The resync of one restored node (``Federation.restored``)."""

    def __init__(self, fed: EngineView) -> None:
        self.fed = fed
        self.store = fed.store
        self.me = fed.me
        # How far each peer that asked for this node's log holds it (the seq it asked after, + 1).
        self._holds_of_mine: dict[bytes, int] = {}
        self._began: float | None = None
        self._asked: set[tuple[bytes, bytes]] = set()  # (reader, record id): own stubs sent to their reader

    async def attempt(self) -> bool:
        """Take this node's own log back from the nodes that hold it, then sign again; ``False`` if none answered.

        A restored backup may lack records this node signed and sent after
        the backup was made; signing anew from the backup's head would fork
        the log. Its upstream holds every record sent to it, its peers and
        the members it can reach what it sent them (headers at least,
        content sealed to it): each that answers gives back what it holds.
        The records taken back are replayed (``node.network.recovery``), signing is
        allowed again, then the logs of the nodes they name are caught up
        (their answers and receipts to what this node did) and the replay
        runs again, so the node ends in the state its log says. If no node
        answers, the node stays read-only until one does or an admin
        releases it (``maillon resync --accept-fork-risk``).
        """
        async with self.store.reader() as db:
            if await db.value("SELECT 1 FROM counters WHERE name = ?", (RESYNC_COUNTER,)) is None:
                self.store.writes_held = None  # released meanwhile by the admin's command
                return True
            before, _ = await head(db, self.me)
            peers = await trust.list_peers(db, active_only=True)
        holders = sorted((p for p in peers if p.url), key=lambda p: (p.relation != "upstream", p.relation != "peer"))
        if not peers:  # it never gave its log to anyone it still knows: nothing to take back
            await self.store.release_writes()
            return True
        async with self.store.transaction() as tx:  # the head the backup had, noted at the first attempt
            await tx.run("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                         (_RESTORED_HEAD, before))  # fmt: skip
            restored = await tx.value("SELECT value FROM counters WHERE name = ?", (_RESTORED_HEAD,))
        answered = []
        for peer in holders:
            async with self.store.reader() as db:  # own records held as stubs (given back by a node that
                # could not read them): asked again, with their content, from the first
                stub = await db.value("SELECT min(seq) FROM log_records WHERE author = ? AND content IS NULL"
                                      " AND seq > ?", (self.me, restored))  # fmt: skip
            try:
                await self.fed.pull_log(peer, self.me, since=stub)
            except NETWORK_ERRORS as exc:
                log.warning("resync from %s failed: %s", peer.name, _describe(exc))
                continue
            answered.append(peer)
        async with self.store.reader() as db:
            now_held, _ = await head(db, self.me)
        # A node it cannot call (a member behind NAT) may have given records back by pushing them, or
        # said how much of this log it holds by asking for the rest: with no word at all, wait.
        if not answered and now_held <= restored and not self._holds_of_mine:
            return False
        # Its own records taken back as stubs (from nodes that could not read them): their readers hold
        # the content; those it did not call are sent the stubs, which they answer with the content.
        lacking = await self._ask_content(after=restored, asked=peers, called=answered)
        # Those that may hold more of its log and have not said how much: a member behind NAT tells it
        # when it asks for this log (and gives back what is missing), a node that can be called by answering;
        # and the readers of records it holds as stubs, until their content is back.
        silent = [p for p in peers if p not in answered
                  and (self._holds_of_mine.get(p.key, now_held + 1) > now_held or p.key in lacking)]  # fmt: skip
        clock = asyncio.get_running_loop().time()
        self._began = self._began or clock
        if silent and clock - self._began < self.fed.timing.resync_wait:
            return False
        if silent:
            log.warning("resync: signing again without word from %s", ", ".join(p.name for p in silent))
        recovered = await self._own_records(after=restored)
        async with self.store.transaction() as tx:
            await replay(tx, recovered)
        await self.store.release_writes()
        async with self.store.transaction() as tx:
            await tx.run("DELETE FROM counters WHERE name = ?", (_RESTORED_HEAD,))
        named = {key for r in recovered for key in r.header.audience} - {self.me}
        async with self.store.reader() as db:
            named |= await handoff_peers(db)
        for author in named:
            for peer in answered:
                with contextlib.suppress(*NETWORK_ERRORS):
                    await self.fed.pull_log(peer, author)
        async with self.store.transaction() as tx:
            await replay(tx, recovered)  # what needed the answers and receipts taken back just now
            for record in recovered:  # answers that could not apply while signing was held
                if record.header.kind in OFFER_KINDS and record.content is not None:
                    await answers_held(tx, record.id)
        log.warning("resync: took back %d records of this node's log from %s", len(recovered),
                    ", ".join(p.name for p in answered))  # fmt: skip
        return True

    def heard(self, peer: bytes, after: int) -> None:
        """While restored: ``peer`` asked for this node's log after seq ``after`` (it holds up to ``after`` + 1)."""
        self._holds_of_mine[peer] = max(self._holds_of_mine.get(peer, 0), after + 1)

    async def _ask_content(self, *, after: int, asked: list[trust.Peer], called: list[trust.Peer]) -> set[bytes]:
        """The peers not called that read records of this node's log held here as stubs (seq > ``after``).

        Each is sent those stubs once (pushed, or to its mailbox): its author
        sending a reader a bare stub tells it the author lacks the content,
        which the reader pushes back (PROTOCOL.md, "Replication").
        """
        async with self.store.reader() as db:
            rows = await db.all("SELECT id, envelope FROM log_records WHERE author = ? AND seq > ? AND content IS NULL"
                                " ORDER BY seq", (self.me, after))  # fmt: skip
        uncalled = {p.key for p in asked} - {p.key for p in called}
        wanted: dict[bytes, list[bytes]] = {}
        for record_id, envelope in rows:
            for reader in stored_header(envelope).audience:
                if reader in uncalled:
                    wanted.setdefault(reader, []).append(record_id)
        sending = {reader: [i for i in ids if (reader, i) not in self._asked] for reader, ids in wanted.items()}
        sending = {reader: ids for reader, ids in sending.items() if ids}
        if sending:
            async with self.store.transaction() as tx:
                for reader, ids in sending.items():
                    await outbox.enqueue(tx, reader, ids)
                    self._asked.update((reader, i) for i in ids)
            for reader in sending:
                self.fed.wake(reader)
            log.warning("resync: %d records of this node's log are held as stubs; asking their readers for them",
                        sum(map(len, sending.values())))  # fmt: skip
        return set(wanted)

    async def _own_records(self, *, after: int) -> list[Record]:
        async with self.store.reader() as db:
            rows = await db.all("SELECT envelope, content FROM log_records WHERE author = ? AND seq > ? ORDER BY seq",
                                (self.me, after))  # fmt: skip
        return [open_entry(canonical.encode([row[0], row[1]])) for row in rows]

    async def until_done(self) -> None:
        while not await self.attempt():
            await asyncio.sleep(self.fed.timing.pull)
        await self.finish()

    async def finish(self) -> None:
        """The node signs: apply what was received while it could not and needed a signature, then its descriptor.

        Also at every start: an admin may have released the node with ``maillon resync`` while it was stopped.
        """
        async with self.store.reader() as db:
            waiting = await db.value("SELECT count(*) FROM deferred_effects")
        if waiting:
            async with self.store.transaction() as tx:
                await apply_deferred(tx, self.me)
            log.warning("resync: applied the effects of %d records received while this node could not sign", waiting)
        await self.fed.ensure_descriptor()

    async def give_back(self, peer: trust.Peer, author: bytes, held: int) -> None:
        """``peer`` lacks records of ``author``'s log that this node holds (it was restored): push them back to it.

        ``author`` is the peer itself (its own log, a hub restored from a
        backup) or this node (what its upstream held of this node's log).
        The last one is queued; the peer answers ``gap`` with what it has,
        and the send loop queues the rest (``_settle``).
        """
        async with self.store.transaction() as tx:
            refused = await tx.value("SELECT value FROM counters WHERE name = ?",
                                     (f"{outbox.REFUSED_FROM}{peer.key.hex()}.{author.hex()}",))  # fmt: skip
            if refused is not None and refused <= held:
                return  # the peer refused a record of this log for good: giving it again would go round
            ids = await held_ids(tx, author, after=held - 1, before=held + 1)
            await outbox.enqueue(tx, peer.key, ids)
        whose = "its own" if author == peer.key else "this node's"
        log.warning("%s lacks %s records up to seq %d: giving them back", peer.name, whose, held)
        self.fed.wake(peer.key)
