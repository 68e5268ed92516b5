"""The donor's proof bundle: the signed records of every hop for the items of a donor report.

The node that received the donor's lots gathers, for the report's items,
the records it holds as they were signed: its own offers and the answers
and receipts they got, its own fates, the fates the nodes downstream sent
it (``item.fates/2``, carrying the records of the nodes further down,
unchanged), and the descriptors naming the nodes involved. Checking them
(``protocol.bundle``) trusts no node's word; the PDF says what they prove.
PROTOCOL.md, "Donor proof bundle", gives the file's bytes.
"""

from __future__ import annotations

from typing import Any

from node.domain.fate_evidence import FATE_KINDS
from node.store.database import IN_ARRAY, Reader, as_array
from protocol import canonical
from protocol.bundle import BundleCheck, check_custody, write_bundle
from protocol.custody_kinds import DonorReport2
from protocol.errors import Reason
from protocol.kinds import NodeDescriptor
from protocol.records import Record

__all__ = ["collect_entries", "custody_check", "bundle_file"]

MAX_NESTING = 16


async def collect_entries(db: Reader, me: bytes, gids: list[str]) -> list[bytes]:
    """The log entries (with content) of the records that say where the items ``gids`` went."""
    wanted = set(gids)
    ids: dict[bytes, None] = {}
    for row in await db.all(
        "SELECT DISTINCT o.offer, o.answer, o.receipt, o.peer FROM handoff_items h JOIN handoffs o ON o.offer = h.offer"
        f" WHERE o.direction = 'out' AND h.gid IN {IN_ARRAY}", (as_array(gids),)):  # fmt: skip
        ids.update(dict.fromkeys(r for r in (row["offer"], row["answer"], row["receipt"]) if r is not None))
    entries = []
    listed = list(ids)
    for start in range(0, len(listed), 500):  # record ids are blobs: bound one by one, by chunks
        chunk = listed[start : start + 500]
        entries += [canonical.encode([row["envelope"], row["content"]]) for row in await db.all(
            f"SELECT envelope, content FROM log_records WHERE id IN ({', '.join('?' * len(chunk))})"
            " AND content IS NOT NULL ORDER BY author, seq", chunk)]  # fmt: skip
    takers = [row[0] for row in await db.all("SELECT DISTINCT peer FROM handoffs WHERE direction = 'out'")]
    # fates: this node's own, and those of the nodes it handed items to (with what they pass on)
    marks = ", ".join("?" * len(FATE_KINDS))
    kept: set[bytes] = set()
    for author in (me, *takers):
        for row in await db.all(f"SELECT id, envelope, content FROM log_records WHERE author = ? AND kind IN ({marks})"
                                " AND content IS NOT NULL ORDER BY seq", (author, *FATE_KINDS)):  # fmt: skip
            body = canonical.decode(row["content"])
            if body.get("corrects") in kept or _mentions(body, wanted):
                kept.add(row["id"])
                entries.append(canonical.encode([row["envelope"], row["content"]]))
    for author in (me, *takers):  # names, as each node says its own
        row = await db.one("SELECT envelope, content FROM log_records WHERE author = ? AND kind = ? AND content IS NOT"
                           " NULL ORDER BY seq DESC LIMIT 1", (author, NodeDescriptor.KIND))  # fmt: skip
        if row is not None:
            entries.append(canonical.encode([row["envelope"], row["content"]]))
    return entries


def _mentions(body: dict[str, Any], wanted: set[str], depth: int = 0) -> bool:
    """Whether a body (decoded, not validated) names one of ``wanted``, itself or in what it passes on.

    A fates record names items in its statements; the records a node passes
    on name them in offers' lines and receipts' lists too: the hand-off's
    records of a large lot travel in a record of their own, with no
    statement (``node.domain.workflow``), and custody follows them.
    """
    for lines in (body.get("fates"), body.get("items")):
        if isinstance(lines, list) and any(isinstance(f, dict) and f.get("gid") in wanted for f in lines):
            return True
    for gids in (body.get("received"), body.get("missing")):
        if isinstance(gids, list) and any(isinstance(g, str) and g in wanted for g in gids):
            return True
    evidence = body.get("evidence")
    if not isinstance(evidence, list) or depth >= MAX_NESTING:
        return False
    for entry in evidence:
        try:
            _envelope, content = canonical.decode(entry)
            inner = canonical.decode(content)
        except Exception:  # noqa: BLE001  (a record passed on that does not even decode proves nothing)
            continue
        if isinstance(inner, dict) and _mentions(inner, wanted, depth + 1):
            return True
    return False


async def custody_check(db: Reader, me: bytes, body: DonorReport2) -> tuple[BundleCheck, list[bytes]]:
    """What the records held here prove of the report's items, and the entries that prove it.

    Fates a node signed again for the node it had the items from (the
    ``item.fates/1`` forwarding of earlier versions) are left out: they were
    not signed by the node that held the items, so they prove nothing.
    """
    entries = await collect_entries(db, me, [item.gid for item in body.items])
    check = check_custody(me, body, entries)
    if check.problems:
        entries, check = _without_resigned(me, body, entries, check)
    return check, entries


def _without_resigned(me: bytes, body: DonorReport2, entries: list[bytes],
                      check: BundleCheck) -> tuple[list[bytes], BundleCheck]:  # fmt: skip
    """``entries`` without the fates records of others that state the word of a node that did not hold the item
    (and the check of the rest).

    Those are the ``item.fates/1`` a node signed again for the node it had
    the items from (earlier versions), and an ``item.fates/2`` that passes
    on such a statement: a node's record cannot be cut, so it goes whole.
    """
    bad = {problem.where.split(".")[0] for problem in check.problems
           if problem.reason == Reason.NOT_CUSTODIAN and problem.where}  # fmt: skip
    dropped = {where for where in bad if _author_and_kind(entries[int(where)])[0] != me}
    if dropped:
        entries = [entry for n, entry in enumerate(entries) if str(n) not in dropped]
        check = check_custody(me, body, entries)
    return entries, check


def _author_and_kind(entry: bytes) -> tuple[bytes, str]:
    """The author and kind in an entry's header (read from bytes this node holds, checked when they came)."""
    envelope, _content = canonical.decode(entry)
    header = canonical.decode(canonical.decode(envelope)[1])
    return header[1], header[5]


async def bundle_file(db: Reader, report: Record) -> bytes:
    """The bundle of a signed ``donor.report/2``: the report and the records held here that prove it."""
    _check, entries = await custody_check(db, report.header.author, report.body())
    return write_bundle(report, entries)
