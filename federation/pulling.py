"""Pulling from an upstream (a member from its hub, a hub from national), for ``federation.engine``.

Each round: the node's own log (after a restore of the upstream, what it
lacks is given back), the upstream's log, the logs of the nodes of open
hand-offs, then the mailbox (records relayed to a node behind NAT); a gap
there is filled by pulling the author's log from the same upstream.
"""

from __future__ import annotations

import asyncio

from federation.inbox import check, hold, receive
from federation.parts import EngineView
from federation.wire import Item
from node.network import peers as trust
from node.network.handoff_fates import open_handoff_peers
from node.network.replica import head
from protocol.errors import ProtocolError, Reason
from protocol.records import open_entry, split_entry, stored_header

__all__ = ["Puller"]


class Puller:
    """What a running node pulls from its upstreams; ``fed`` is the engine it serves."""

    def __init__(self, fed: EngineView) -> None:
        self.fed = fed

    async def pull_once(self, peer: trust.Peer) -> int:
        """One round of pulling from an upstream: our own log, its log, our mailbox. Returns records received."""
        received = await self.pull_log(peer, self.fed.me)
        received += await self.pull_log(peer, peer.key)
        # The nodes of hand-offs still open here: what they answered reaches us relayed, once; should
        # that copy be lost (this node or its hub restored from a backup), their log has it.
        async with self.fed.store.reader() as db:
            waiting = await open_handoff_peers(db)
        for author in waiting - {self.fed.me, peer.key}:
            received += await self.pull_log(peer, author)
        assert self.fed.client is not None and peer.url is not None
        cursor = peer.mailbox_cursor
        while True:
            # naming the cursor tells the upstream it may drop what came before
            items, next_cursor, more = await self.fed.client.mailbox(peer.url, peer.key, after=cursor)
            checked = await check(self.fed.key, items)  # before the write lock
            async with self.fed.store.transaction() as tx:
                results = await hold(tx, checked, sender=peer.key, leaves=self.fed.keeps_log)
            gapped = [item for item, result in zip(items, results) if result.reason == Reason.GAP.value]
            if gapped:  # relayed records of an author we do not follow yet: pull its log first
                for author in {_author(item) for item in gapped}:
                    received += await self.pull_log(peer, author)
                async with self.fed.store.transaction() as tx:
                    await receive(tx, self.fed.key, gapped, sender=peer.key, leaves=self.fed.keeps_log)
            async with self.fed.store.transaction() as tx:
                await tx.run("UPDATE peers SET mailbox_cursor = ? WHERE key = ?", (next_cursor, peer.key))
            received += sum(r.status == "accepted" for r in results)
            if not more or next_cursor == cursor:
                return received
            cursor = next_cursor

    async def pull_log(self, peer: trust.Peer, author: bytes, *, since: int | None = None) -> int:
        """Catch up ``author``'s log from ``peer``; return how many records were new.

        ``since``: ask from this seq on rather than after the head (records
        held as stubs that ``peer`` may give with their content).
        The next page is asked while this one is checked and written (from
        the seq this page ends at); should a record of this page be refused,
        that early answer is dropped and the next page asked from the head.
        """
        client = self.fed.client
        assert client is not None and peer.url is not None
        received = 0
        async with self.fed.store.reader() as db:
            held, _ = await head(db, author)
        # A log starts one record back: the last one held is asked again. A node that lost records
        # (restored from a backup) answers none of it; one that signed over them answers another
        # record at that seq, a fork, which freezes it. This node's own log is probed so too (not
        # while it resyncs): a hub restored from a backup lacks what it held of it, and gets it back.
        probe = held > 0 and (author != self.fed.me or (since is None and self.fed.store.writes_held is None))
        after = held - 1 if probe else held
        if since is not None:
            after = min(after, max(since - 1, 0))
        page = asyncio.ensure_future(client.log(peer.url, peer.key, author, after=after))
        try:
            while True:
                items, more = await page
                if probe and items and await self._same_as_held(peer, author, held, items[0]):
                    items = items[1:]  # the record asked again is the one held: nothing to check or write
                    if not items and not more:
                        return received
                elif not items:
                    if probe and author in (peer.key, self.fed.me):
                        await self.fed.restored.give_back(peer, author, held)
                    return received
                probe = False
                if not items:  # the probed record alone on a full page: the next one
                    _drop(page)
                    page = asyncio.ensure_future(client.log(peer.url, peer.key, author, after=held))
                    continue
                checked = await check(self.fed.key, items)  # before the write lock
                last = checked.verdicts[-1].record
                if more and last is not None:
                    page = asyncio.ensure_future(client.log(peer.url, peer.key, author, after=last.header.seq))
                async with self.fed.store.transaction() as tx:
                    results = await hold(tx, checked, sender=peer.key, leaves=self.fed.keeps_log)
                received += sum(r.status == "accepted" for r in results)
                if not more or all(r.status == "refused" for r in results):
                    return received
                if last is None or any(r.status == "refused" for r in results):
                    _drop(page)
                    async with self.fed.store.reader() as db:
                        after, _ = await head(db, author)
                    page = asyncio.ensure_future(client.log(peer.url, peer.key, author, after=after))
        finally:
            _drop(page)

    async def _same_as_held(self, peer: trust.Peer, author: bytes, seq: int, item: Item) -> bool:
        """Whether ``item`` is, byte for byte, the record of ``author`` at ``seq`` held here (with its content if
        held with it): a log's last record asked again, which an idle pull need not verify nor write again.

        Not so when its author sends it to this node, a reader, as a bare stub:
        the author lacks its content, which the inbox then gives back.
        """
        try:
            envelope, content = split_entry(item.entry)
        except ProtocolError:
            return False  # checked, and refused, as any other
        async with self.fed.store.reader() as db:
            row = await db.one("SELECT envelope, content FROM log_records WHERE author = ? AND seq = ?", (author, seq))
        if row is None or row[0] != envelope:
            return False
        if row[1] is None:
            return content is None and not item.sealed
        lacked = author == peer.key and content is None and not item.sealed and self.fed.me in stored_header(envelope).audience
        return not lacked


def _drop(page: asyncio.Future) -> None:
    """Give up on an answer asked ahead; a failure it had is not ours to report."""
    if page.done():
        if not page.cancelled():
            page.exception()
    else:
        page.cancel()


def _author(item: Item) -> bytes:
    return open_entry(item.entry).header.author
