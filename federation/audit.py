"""Checking the transparency logs over the network: a member's inclusion checks, national's reading of its hubs.

- **Checkpoints** (a hub or national node): on a schedule, sign a
  checkpoint of its own transparency log if it grew (``node.network.transparency``).
- **Inclusion** (a node with an upstream): have the upstream prove that it
  holds one of this node's records in its log, at its latest checkpoint;
  the node does it on its own for its statistics reports until each is
  proved ("included at checkpoint N"), then again every day. A hub that says it does not hold a
  record it was given, or whose proof does not verify, raises an alert.
- **Reading** (national): pull each admitted hub's log and the logs of the
  members it certified (their reports come in clear where published), then
  audit the hub's transparency log: every new checkpoint must extend the
  last one audited (an RFC 9162 consistency proof asked from the hub). A
  hub that rewrote its history is flagged (``node.network.national``) and an alert
  raised.
"""

from __future__ import annotations

import logging

from federation.client import PeerRefused
from federation.parts import EngineView
from node.domain import alerts, memberships
from node.network import national, outbox, transparency
from node.network import peers as trust
from node.network.replica import Held, record_by_id
from node.network.stats_reports import own_keys
from node.store.database import now_ms
from protocol.errors import ProofInvalid, ProtocolError, Reason
from protocol.kinds import LogCheckpoint, StatsReport
from protocol.merkle import leaf_hash, verify_consistency, verify_inclusion
from protocol.records import Record, open_entry

__all__ = ["Audit", "InclusionFailed"]

log = logging.getLogger(__name__)


class InclusionFailed(Exception):
    """The upstream did not prove a record in its transparency log; ``reason`` says how.

    ``not_yet``: the record reached it after its latest checkpoint (ask again
    later). The others are what a hub that dropped or rewrote a record looks
    like, and raise an alert: ``not_included`` (it says the record is not in
    the log at its checkpoint), ``bad_proof`` (its proof does not lead to the
    checkpoint's root), ``bad_checkpoint`` (not a valid checkpoint of its own).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class Audit:
    """The transparency side of a running node's federation; see the module docstring."""

    def __init__(self, fed: EngineView) -> None:
        self.fed = fed

    @property
    def store(self):
        return self.fed.store

    # a hub's or national's own log ---------------------------------------------

    async def checkpoint_once(self) -> Record | None:
        """Sign a checkpoint of the transparency log if it grew; None if not, or if a leaf was tampered with."""
        if self.store.writes_held:
            return None
        try:
            async with self.store.transaction() as tx:
                await transparency.append_own(tx, self.fed.me)
                return await transparency.checkpoint(tx)
        except transparency.LogTampered as exc:
            log.warning("no transparency checkpoint signed: %s", exc.message)
            async with self.store.transaction() as tx:
                await alerts.raise_alert(tx, "log_tampered", exc.code, detail=exc.message)
            return None

    # a node and its upstream ------------------------------------------------------

    async def check_inclusion(self, record_id: bytes) -> transparency.Inclusion:
        """Have the upstream prove that it holds this node's record ``record_id`` in its transparency log.

        Fetches the upstream's latest checkpoint, checks it is a valid record
        of the upstream's key, asks the inclusion proof at the checkpoint's
        size and verifies it against the checkpoint's root with the leaf
        hash of the envelope held here. Keeps the result ("included at
        checkpoint N") and returns it. Raises ``InclusionFailed`` (an alert
        is raised unless ``not_yet``); a network failure propagates.
        """
        async with self.store.reader() as db:
            held = await record_by_id(db, record_id)
            upstreams = [p for p in await trust.list_peers(db, relation="upstream", active_only=True) if p.url]
        if held is None:
            raise InclusionFailed("not_held", f"record {record_id.hex()} is not held here")
        if not upstreams:
            raise InclusionFailed("no_upstream", "this node has no upstream to ask")
        peer = upstreams[0]
        client = self.fed.client
        assert client is not None and peer.url is not None
        try:
            record = open_entry(await client.checkpoint(peer.url, peer.key))
            if record.header.author != peer.key or record.header.kind != LogCheckpoint.KIND:
                raise ProtocolError(Reason.BAD_CONTENT, "the answer is not a checkpoint of the upstream's own log")
            body: LogCheckpoint = record.body()
        except ProtocolError as exc:
            raise await self._not_included(held, peer, "bad_checkpoint", exc.message) from exc
        except PeerRefused as exc:
            if exc.reason != "no_checkpoint":
                raise
            raise InclusionFailed("not_yet", "the upstream has signed no checkpoint yet") from exc
        at = f"checkpoint {record.header.seq} (size {body.tree_size})"
        try:
            answer = await client.inclusion(peer.url, peer.key, record_id, body.tree_size)
        except PeerRefused as exc:
            if exc.reason != "not_in_log":
                raise
            async with self.store.reader() as db:
                delivered = await outbox.delivered_at(db, record_id, peer.key)
            # a record the upstream took after (or about when) it signed its checkpoint is in the next one
            if delivered is None or delivered + self.fed.timing.skew_ms >= record.header.time:
                raise InclusionFailed("not_yet", f"the record reached the upstream after its {at}") from exc
            raise await self._not_included(held, peer, "not_included", f"the upstream says it is not in its log at {at}")
        try:
            if answer["size"] != body.tree_size:
                raise ProofInvalid(Reason.BAD_PROOF, f"a proof for size {answer['size']}, not {body.tree_size}")
            verify_inclusion(leaf_hash(held.envelope), answer["index"], body.tree_size, answer["path"], body.root)
        except ProofInvalid as exc:
            raise await self._not_included(held, peer, "bad_proof", f"{exc.message} ({at})") from exc
        async with self.store.transaction() as tx:
            return await transparency.record_inclusion(tx, record_id, checkpoint_seq=record.header.seq,
                                                       tree_size=body.tree_size, leaf_index=answer["index"])  # fmt: skip

    async def _not_included(self, held: Held, peer: trust.Peer, reason: str, message: str) -> InclusionFailed:
        async with self.store.transaction() as tx:
            await alerts.raise_alert(tx, "inclusion_failed", reason, peer=peer.key, author=held.header.author,
                                    seq=held.header.seq, detail=message)  # fmt: skip
        return InclusionFailed(reason, message)

    async def check_reports_included(self) -> int:
        """Have the upstream prove this node's statistics reports in its log; return how many it proved.

        A report not proved yet is asked at every round (it may not be in
        the upstream's checkpoint yet; a failure raised its alert); one
        proved is asked again once ``timing.recheck`` has passed (a day), so
        that a hub that later drops it from its log is caught.
        """
        since = now_ms() - int(self.fed.timing.recheck * 1000)
        async with self.store.reader() as db:
            rows = await db.all("SELECT r.id FROM log_records r LEFT JOIN inclusions i ON i.record_id = r.id"
                                " WHERE r.author = ? AND r.kind = ? AND (i.record_id IS NULL OR i.verified_at < ?)"
                                " ORDER BY r.seq", (self.fed.me, StatsReport.KIND, since))  # fmt: skip
        proved = 0
        for row in rows:
            try:
                await self.check_inclusion(row[0])
            except InclusionFailed as exc:
                if exc.reason != "not_yet":
                    log.warning("statistics report %s: %s", row[0].hex()[:16], exc)
                continue
            proved += 1
        return proved

    # national reading its hubs -------------------------------------------------------

    async def read_hub(self, peer: trust.Peer) -> int:
        """Pull a hub's log and the logs of the members it certified, then audit its log; return records received."""
        received = await self.fed.pull_log(peer, peer.key)
        async with self.store.reader() as db:
            members = {c.member for c in await memberships.certificates(db, await own_keys(db, peer.key))}
        for member in sorted(members):
            received += await self.fed.pull_log(peer, member)
        await self.audit_log(peer)
        return received

    async def audit_log(self, peer: trust.Peer) -> national.AuditedLog | None:
        """Check that each checkpoint of ``peer`` held since the last audited one extends it.

        The first checkpoint seen is the base. A smaller tree, another root
        at the same size, or a consistency proof (asked from the hub) that
        does not verify flags the hub as having rewritten its history.
        """
        async with self.store.reader() as db:
            audited = await national.audited_log(db, peer.key)
            pending = await national.new_checkpoints(db, peer.key)
        if not pending:
            return audited
        if audited is None:
            base, pending = pending[0], pending[1:]
            async with self.store.transaction() as tx:
                await national.record_audit(tx, peer.key, base, state="consistent")
            old = base
        else:
            old = national.Checkpoint(audited.checkpoint_seq, audited.checked_at, audited.tree_size, audited.root)
        client = self.fed.client
        assert client is not None and peer.url is not None
        for new in pending:
            try:
                if new.tree_size < old.tree_size or (new.tree_size == old.tree_size and new.root != old.root):
                    raise ProofInvalid(Reason.BAD_PROOF, f"checkpoint {new.seq} (size {new.tree_size}) does not extend"
                                                         f" checkpoint {old.seq} (size {old.tree_size})")  # fmt: skip
                if new.tree_size > old.tree_size:
                    proof = await client.consistency(peer.url, peer.key, old.tree_size, new.tree_size)
                    verify_consistency(old.tree_size, new.tree_size, old.root, new.root, proof)
            except (ProofInvalid, PeerRefused) as exc:
                if isinstance(exc, PeerRefused) and exc.reason not in ("bad_size",):
                    raise
                message = exc.message
                detail = f"checkpoint {new.seq} (size {new.tree_size}) does not extend checkpoint {old.seq}: {message}"
                async with self.store.transaction() as tx:
                    await national.record_audit(tx, peer.key, new, state="rewritten", detail=detail)
                    await alerts.raise_alert(tx, "log_rewritten", "bad_proof", peer=peer.key, author=peer.key,
                                            seq=new.seq, detail=detail)  # fmt: skip
                break
            async with self.store.transaction() as tx:
                await national.record_audit(tx, peer.key, new, state="consistent")
            old = new
        async with self.store.reader() as db:
            return await national.audited_log(db, peer.key)
