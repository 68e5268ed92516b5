"""Fates that carry their evidence up the chain (``item.fates/2``).

The node that settles an item signs its outcome with the erasure evidence
it holds for it (``statements``). When items it received from another node
leave it for a third one, its ``transferred`` statement to that origin
carries the records of the hand-off (``handoff_evidence``: the offer, the
answer, the receipt, the taker's descriptor), since the origin reads none
of them otherwise. A node that receives fates of items it handed on keeps
them, attributed to the node that signed them, and passes the record on
unchanged to where the items came from (``fates_received``), inside a
record of its own: it adds, it never rewrites. The donor report at the
origin is then made of the records of whoever did the work
(``node.reports.donor_bundle``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from node.domain.alerts import raise_alert
from node.domain.publication import audience_for, fates_audience
from node.store.database import IN_ARRAY, Reader, Tx, as_array, now_ms
from protocol import canonical
from protocol.custody_kinds import ErasureEvidence, FateStatement, ItemFates2
from protocol.errors import ProtocolError
from protocol.kinds import ItemFates, NodeDescriptor
from protocol.records import MAX_CONTENT, Record, open_entry

__all__ = [
    "erasure_evidence", "statement", "handoff_evidence", "fates_received", "statements_in", "FATE_KINDS",
    "parse_fates", "evidence_batches", "evidence_recorded", "state_stock",
]  # fmt: skip

FATE_KINDS = (ItemFates.KIND, ItemFates2.KIND)
MAX_NESTING = 16


async def erasure_evidence(db: Reader, item_ids: Iterable[int]) -> dict[int, list[ErasureEvidence]]:
    """The erasures this node recorded for each item (the last 16), not those another node attested."""
    found: dict[int, list[ErasureEvidence]] = {}
    rows = await db.all(
        "SELECT item_id, disk_serial, method, level, tool, time, result, evidence_sha256 FROM erasures"
        f" WHERE item_id IN {IN_ARRAY} AND source != 'handoff' ORDER BY time, id", (as_array(list(item_ids)),))  # fmt: skip
    for row in rows:
        certificate = row["evidence_sha256"]
        found.setdefault(row["item_id"], []).append(ErasureEvidence(
            method=row["method"][:500] or "unknown", level=row["level"], tool=row["tool"][:500] or "unknown",
            time=row["time"], result=row["result"], disk_serial=(row["disk_serial"] or None) and row["disk_serial"][:500],
            certificate_sha256=bytes.fromhex(certificate) if certificate and len(certificate) == 64 else None,
        ))  # fmt: skip
    return {item_id: proofs[-16:] for item_id, proofs in found.items()}


def statement(gid: str, outcome: str, time: int, erasures: list[ErasureEvidence], fate: dict[str, Any],
              weight_g: int) -> FateStatement:  # fmt: skip
    """The explicit form of an item's fate, from what ``node.domain.workflow.move_items`` was told."""
    fields: dict[str, Any] = {"gid": gid, "outcome": outcome, "time": time, "erasures": erasures}
    if outcome == "distributed":
        fields["beneficiary_category"] = fate.get("beneficiary_category") or "other"
    if outcome in ("recycled", "dismantled"):
        fields["weight_g"] = fate.get("weight_g", weight_g)
    if outcome == "recycled" and fate.get("outflow"):
        fields["outflow"] = str(fate["outflow"])[:500]
    if outcome == "transferred" and fate.get("to") is not None:
        fields["to"] = fate["to"]
    return FateStatement(**fields)


_ENDS = ("distributed", "recycled", "dismantled", "transferred")  # node.domain.states.FATES
_CHUNK = 5000  # statements per record: with their erasures, well under the 4 MiB of a content


async def state_stock(tx: Tx, item_ids: Iterable[int], outcome: str, *, own_evidence: bool = False) -> None:
    """Sign ``outcome`` (``in_stock`` or ``missing``) for the items here, each with the erasures recorded here,
    to whom their fates go (the publication policy's readers, and the node each item came from).

    The items whose life ended here are passed over; with ``own_evidence``,
    so are those this node recorded no erasure of (an ``in_stock`` stated to
    bring erasures up the chain says nothing without them).
    """
    ids = list(dict.fromkeys(item_ids))
    if not ids or tx.signing_held:  # (after a restore the item's next statement carries the evidence)
        return
    rows = await tx.all(f"SELECT id, gid, weight_g, origin_node FROM items WHERE id IN {IN_ARRAY}"
                        f" AND state NOT IN {IN_ARRAY} ORDER BY id", (as_array(ids), as_array(_ENDS)))  # fmt: skip
    proofs = await erasure_evidence(tx, [row["id"] for row in rows])
    if own_evidence:
        rows = [row for row in rows if proofs.get(row["id"])]
    if not rows:
        return
    policy = await audience_for(tx, "fates")
    now = now_ms()
    groups: dict[bytes | None, list[FateStatement]] = {}
    for row in rows:
        groups.setdefault(row["origin_node"], []).append(
            statement(row["gid"], outcome, now, proofs.get(row["id"], []), {}, row["weight_g"]))
    for origin, fates in groups.items():
        for start in range(0, len(fates), _CHUNK):
            await tx.append(ItemFates2(fates=fates[start : start + _CHUNK]),
                            audience=fates_audience(policy, tx.author, origin))  # fmt: skip


def evidence_recorded(tx: Tx, item_ids: Iterable[int]) -> None:
    """Erasures of these items were recorded (or attached to them) in ``tx``: for those another node handed
    over, sign once, as ``tx`` ends, that they are in stock here with the erasures recorded here, so that the
    evidence goes up the chain before the item's outcome does (the donor's report counts it)."""
    gathered: set[int] = tx.memo.setdefault(("erasures recorded",), set())
    gathered.update(item_ids)

    async def state(tx: Tx) -> None:
        handed = [r[0] for r in await tx.all(f"SELECT id FROM items WHERE id IN {IN_ARRAY} AND origin_node IS NOT NULL",
                                             (as_array(sorted(gathered)),))]  # fmt: skip
        await state_stock(tx, handed, "in_stock", own_evidence=True)

    tx.at_end("state erasures in stock", state)


async def handoff_evidence(db: Reader, offer: bytes, receipt: Record) -> list[bytes]:
    """The records of a hand-off this node made, for the node it had the items from: offer, answer, receipt,
    and the taker's latest descriptor (its name, as it says it)."""
    entries = []
    answer = await db.value("SELECT answer FROM handoffs WHERE offer = ?", (offer,))
    for record_id in (offer, answer):
        row = await db.one("SELECT envelope, content FROM log_records WHERE id = ?", (record_id,))
        if row is not None and row["content"] is not None:
            entries.append(canonical.encode([row["envelope"], row["content"]]))
    if receipt.content is not None:
        entries.append(receipt.entry())
    row = await db.one("SELECT envelope, content FROM log_records WHERE author = ? AND kind = ? AND content IS NOT NULL"
                       " ORDER BY seq DESC LIMIT 1", (receipt.header.author, NodeDescriptor.KIND))  # fmt: skip
    if row is not None:
        entries.append(canonical.encode([row["envelope"], row["content"]]))
    return entries


_ROOM = 3_000_000  # bytes of entries per record: with its statements, within a content's 4 MiB


def evidence_batches(entries: list[bytes]) -> list[list[bytes]]:
    """``entries`` in groups that fit a record each; one too large to be passed on in any record is left out."""
    batches: list[list[bytes]] = []
    size = 0
    for entry in entries:
        if len(entry) > MAX_CONTENT - 65_536:
            continue  # (a 20 000-item manifest near 4 MiB: the origin then lacks that link, and its bundle says so)
        if not batches or size + len(entry) > _ROOM:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += len(entry)
    return batches


def parse_fates(record: Record) -> ItemFates | ItemFates2 | None:
    """The body of a fates record of either version, or None when it is not one (or holds no content)."""
    if record.header.kind not in FATE_KINDS or record.content is None:
        return None
    return record.body()


def statements_in(record: Record, body: Any, depth: int = 0) -> list[tuple[Record, Any]]:
    """``record`` and every fates record passed on inside it, however deep, each with its body.

    A record passed on that does not verify is left out: it proves nothing.
    """
    found = [(record, body)]
    if isinstance(body, ItemFates2) and body.evidence and depth < MAX_NESTING:
        for entry in body.evidence:
            try:
                inner = open_entry(entry)
                inner_body = parse_fates(inner)
            except ProtocolError:
                continue
            if inner_body is not None:
                found += statements_in(inner, inner_body, depth + 1)
    return found


async def fates_received(tx: Tx, record: Record, body: ItemFates2) -> int:
    """Fates of items this node handed to the record's author, signed by whoever settled them down the chain.

    Each is kept attributed to its signer (``downstream_fates.reporter``); a
    correction sets aside the fates of the record it corrects. The record
    goes on, unchanged, to the node each item came from, inside an
    ``item.fates/2`` of this node (``evidence``).
    """
    giver = record.header.author
    found = statements_in(record, body)
    gids = list({fate.gid for _, inner in found for fate in inner.fates})
    ours = {r["gid"]: r for r in await tx.all(
        "SELECT i.id, i.gid, i.origin_node FROM items i JOIN handoff_items h ON h.item_id = i.id"
        " JOIN handoffs o ON o.offer = h.offer WHERE o.direction = 'out' AND o.peer = ? AND h.outcome = 'received'"
        f" AND i.gid IN {IN_ARRAY}", (giver, as_array(gids)))}  # fmt: skip
    kept = 0
    origins: set[bytes] = set()
    refused: set[bytes] = set()
    for inner, inner_body in found:
        author = inner.header.author
        if inner_body.corrects is not None:
            await tx.run("UPDATE downstream_fates SET superseded = 1 WHERE record_id = ? AND reporter = ?",
                         (inner_body.corrects, author))  # fmt: skip
        rows = []
        for fate in inner_body.fates:
            item = ours.get(fate.gid)
            if item is None:
                continue
            if not await _may_state(tx, item["id"], author, giver):
                refused.add(author)
                continue
            if item["origin_node"] is not None:  # whatever it says, the statement goes on to where the item came from
                origins.add(item["origin_node"])
            outcome = getattr(fate, "outcome", None) or fate.fate
            if outcome in ("in_stock", "missing"):
                continue  # a state of the stock, not an end of life
            rows.append((item["id"], inner.id, author, outcome, fate.time, fate.beneficiary_category,
                         fate.weight_g, fate.to))  # fmt: skip
        if rows:
            await tx.run_many(
                "INSERT INTO downstream_fates (item_id, record_id, reporter, fate, time, beneficiary_category, weight_g,"
                " to_node) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)  # fmt: skip
            kept += len(rows)
        if inner_body.corrects is not None:  # a correction goes where the fates it corrects went
            origins |= {r[0] for r in await tx.all(
                "SELECT DISTINCT i.origin_node FROM downstream_fates d JOIN items i ON i.id = d.item_id"
                " WHERE d.record_id = ? AND i.origin_node IS NOT NULL", (inner_body.corrects,))}  # fmt: skip
    if refused:  # kept as held (the log stays whole), but its word about our items is not taken
        await raise_alert(tx, "refused_effect", "not_custodian", author=giver, seq=record.header.seq,
                          detail=f"{ItemFates2.KIND} passes on fates signed by {len(refused)} key(s) that never held"
                                 " the items")  # fmt: skip
    if origins:
        await pass_on(tx, record, origins)
    return kept


async def _may_state(tx: Tx, item_id: int, author: bytes, giver: bytes) -> bool:
    """Whether ``author`` may have held the item: the node it was handed to, or one a holder said it handed it to.

    A node passing records on cannot slip in the word of a key that never
    held the item (the donor's bundle would refuse it anyway, ``not_custodian``).
    """
    if author == giver:
        return True
    return await tx.value("SELECT 1 FROM downstream_fates WHERE item_id = ? AND fate = 'transferred' AND to_node = ?"
                          " AND superseded = 0 LIMIT 1", (item_id, author)) is not None  # fmt: skip


async def pass_on(tx: Tx, record: Record, origins: Iterable[bytes]) -> None:
    """Send ``record`` on, unchanged, to each node in ``origins``, inside an ``item.fates/2`` of this node."""
    policy = await audience_for(tx, "fates")
    entry = record.entry()
    if not evidence_batches([entry]):
        await raise_alert(tx, "refused_effect", "too_large", author=record.header.author, seq=record.header.seq,
                          detail=f"{record.header.kind} too large to be passed on inside a record")  # fmt: skip
        return
    for origin in origins:
        if await tx.value("SELECT 1 FROM fates_forwarded WHERE source = ? AND origin = ?", (record.id, origin)):
            continue
        sent = await tx.append(ItemFates2(fates=[], evidence=[entry]), audience=fates_audience(policy, tx.author, origin))
        await tx.run("INSERT INTO fates_forwarded (source, origin, forwarded) VALUES (?, ?, ?)",
                     (record.id, origin, sent.id))  # fmt: skip
