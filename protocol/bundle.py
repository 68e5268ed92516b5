"""The donor proof bundle: a donor report with the signed records of every hop, checked offline.

A bundle holds the ``donor.report/2`` of the node that received the donor's
lots and, beside it, the records of every node that held the items after
it, exactly as their authors signed them: offers, accepts, receipts and
fates (with the records forwarding nodes passed on inside their
``item.fates/2``). Checking it trusts no node's word: each record is
verified against its own author's key, custody is followed link by link
from the report's author (a receipt moves an item only when it matches the
offer it answers), and a fate counts only when the custodian of that time
signed it. PROTOCOL.md, "Donor proof bundle", is the contract; the lines
``describe`` prints are the output of ``maillon record verify``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from protocol import canonical
from protocol.custody_kinds import DonorReport2, ErasureEvidence, ItemFates2, custody_time
from protocol.errors import ProtocolError, Reason, RecordInvalid
from protocol.keys import fingerprint, node_id
from protocol.kinds import ItemFates, LotOffer, LotReceipt, NodeDescriptor
from protocol.records import Record, open_entry, open_envelope, split_entry

__all__ = [
    "BUNDLE_MAGIC", "MAX_BUNDLE", "MAX_RECORDS", "write_bundle", "verify_bundle", "check_custody", "describe", "BundleCheck",
    "ItemProof", "Statement", "Problem",
]  # fmt: skip

BUNDLE_MAGIC = b"maillon-bundle/1\n"
MAX_BUNDLE = 64 * 1024 * 1024
MAX_RECORDS = 100_000  # records read, those passed on inside others included
MAX_NESTING = 16  # records inside records inside records...
# The kinds whose bodies the check reads (and checks: PROTOCOL.md, "Checking a bundle", step 3); a record of
# another kind (an accept, say) states nothing here, and is passed over once its signature and content hash hold.
READ_KINDS = frozenset({"lot.offer/1", "lot.offer/2", "lot.receipt/1", "lot.receipt/2", "item.fates/1",
                        "item.fates/2", "node.descriptor/1"})
# The outcomes that end an item's life; ``in_stock`` and ``missing`` state where it is meanwhile.
ENDS = frozenset({"distributed", "recycled", "dismantled", "transferred"})


@dataclass(frozen=True, slots=True)
class Statement:
    """One fate of one item as a record states it (``item.fates/1`` read as the explicit form)."""

    gid: str
    outcome: str
    time: int
    author: bytes
    record: bytes
    where: str  # the record's place in the bundle: "3", or "3.0" for the first record passed on inside record 3
    erasures: tuple[ErasureEvidence, ...] = ()
    beneficiary_category: str | None = None
    outflow: str | None = None
    weight_g: int | None = None
    to: bytes | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    reason: str
    text: str
    where: str | None = None  # a record's place, or None
    gid: str | None = None


@dataclass(slots=True)
class ItemProof:
    """What the bundle proves of one item of the report."""

    gid: str
    lot: str
    category: str
    serial: str | None
    donor_asset: str | None
    custody: list[bytes]  # the custodians in order, the report's author first
    outcome: str = "in_stock"
    by: bytes | None = None  # who stated the outcome; for an outcome no one signed, the custodian
    signed: bool = False  # the outcome is a statement (else derived from custody: in stock, missing)
    statement: Statement | None = None
    missing_at: list[bytes] = field(default_factory=list)  # the receivers that listed it missing
    erasures: list[tuple[bytes, ErasureEvidence]] = field(default_factory=list)
    broken: bool = False

    @property
    def erased(self) -> bool | None:
        """Whether the last pass of each disk succeeded; None without any erasure."""
        if not self.erasures:
            return None
        latest: dict[str | None, ErasureEvidence] = {}
        for _, proof in self.erasures:
            seen = latest.get(proof.disk_serial)
            if seen is None or proof.time >= seen.time:
                latest[proof.disk_serial] = proof
        return all(proof.result == "success" for proof in latest.values())


@dataclass(slots=True)
class BundleCheck:
    report: Record | None  # None while the report is not signed yet (``check_custody``)
    body: DonorReport2
    items: list[ItemProof]
    problems: list[Problem]
    records: int  # records read, those passed on inside others included
    names: dict[bytes, str]  # what each node's own descriptor in the bundle says its name is
    receipts: list[tuple[Record, LotReceipt, LotOffer]]  # the receipts that moved custody, with their offer

    @property
    def ok(self) -> bool:
        return not self.problems


def write_bundle(report: Record, entries: list[bytes]) -> bytes:
    """The bundle file: the report (with its content) and the log entries of the records beside it."""
    if report.content is None:
        raise RecordInvalid(Reason.BAD_ENTRY, "a bundle's report carries its content")
    return BUNDLE_MAGIC + canonical.encode({"report": report.entry(), "records": list(entries)})


def _read(data: bytes) -> tuple[Record, DonorReport2, list[bytes]]:
    if not data.startswith(BUNDLE_MAGIC):
        raise RecordInvalid(Reason.BAD_ENTRY, "not a donor proof bundle (magic line missing)")
    value = canonical.decode(data[len(BUNDLE_MAGIC) :], max_size=MAX_BUNDLE)
    if (
        not isinstance(value, dict)
        or set(value) != {"report", "records"}
        or not isinstance(value["report"], bytes)
        or not isinstance(value["records"], list)
        or len(value["records"]) > MAX_RECORDS
        or not all(isinstance(entry, bytes) for entry in value["records"])
    ):
        raise ProtocolError(Reason.BAD_BUNDLE, 'a bundle is {"report": bin, "records": [bin, ...]}')
    envelope, content = split_entry(value["report"])
    if content is None:
        raise RecordInvalid(Reason.BAD_ENTRY, "the report carries its content")
    report = open_envelope(envelope).with_content(content)
    if report.header.kind != DonorReport2.KIND:
        raise ProtocolError(Reason.BAD_BUNDLE, f"the report is a {report.header.kind}, not a {DonorReport2.KIND}")
    return report, report.body(), value["records"]


def verify_bundle(data: bytes) -> BundleCheck:
    """Check a bundle file; raise a ``ProtocolError`` when it cannot be read or its report does not verify.

    Every other failure is a ``Problem`` of the result: a record that does not
    verify, a receipt that does not match its offer, a fate signed by a node
    that did not hold the item then.
    """
    report, body, entries = _read(data)
    check = check_custody(report.header.author, body, entries)
    check.report = report
    return check


def check_custody(author: bytes, body: DonorReport2, entries: list[bytes]) -> BundleCheck:
    """What ``entries`` prove of the items of ``body``, a report by ``author`` (checked or about to be signed)."""
    problems: list[Problem] = []
    records = _open_records(entries, problems)
    offers: dict[bytes, tuple[Record, LotOffer]] = {}
    receipts: list[tuple[Record, LotReceipt, str]] = []
    fates: list[tuple[Record, Any, str]] = []
    names: dict[bytes, tuple[int, str]] = {}
    for where, record, body_ in records:
        if isinstance(body_, LotOffer):
            offers[record.id] = (record, body_)
        elif isinstance(body_, LotReceipt):
            receipts.append((record, body_, where))
        elif isinstance(body_, (ItemFates, ItemFates2)):
            fates.append((record, body_, where))
        elif isinstance(body_, NodeDescriptor):
            seen = names.get(record.header.author)
            if seen is None or seen[0] < record.header.seq:
                names[record.header.author] = (record.header.seq, body_.name)
    wanted = {item.gid for item in body.items}
    hops, moved = _hops(offers, receipts, wanted, problems)
    statements = _statements(fates, wanted)
    items = []
    for line in body.items:
        proof = ItemProof(line.gid, line.lot, line.category, line.serial, line.donor_asset, [author])
        _follow(proof, hops.get(line.gid, []), statements.get(line.gid, []), problems)
        items.append(proof)
    return BundleCheck(None, body, items, problems, len(records), {k: v for k, (_, v) in names.items()}, moved)


def _open_records(entries: list[bytes], problems: list[Problem]) -> list[tuple[str, Record, Any]]:
    """Every record of the bundle with its content, those passed on inside others included, each once, with its
    body when the check reads its kind (``READ_KINDS``; else None: valid, it states nothing here)."""
    opened: list[tuple[str, Record, Any]] = []
    seen: set[bytes] = set()
    pending = [(str(n), entry, 0) for n, entry in enumerate(entries)]
    count = 0
    while pending:
        where, entry, depth = pending.pop(0)
        count += 1
        if count > MAX_RECORDS:
            problems.append(Problem(Reason.TOO_LARGE, f"more than {MAX_RECORDS} records", where))
            break
        try:
            record = open_entry(entry)
            if record.content is None:
                continue  # a stub states nothing: its content stays private
            body = record.body() if record.header.kind in READ_KINDS else None
        except ProtocolError as exc:
            problems.append(Problem(exc.code, exc.message, where))
            continue
        if record.id in seen:
            continue
        seen.add(record.id)
        opened.append((where, record, body))
        if isinstance(body, ItemFates2) and body.evidence:
            if depth + 1 > MAX_NESTING:
                problems.append(Problem(Reason.TOO_DEEP, f"records passed on more than {MAX_NESTING} times", where))
                continue
            pending.extend((f"{where}.{n}", inner, depth + 1) for n, inner in enumerate(body.evidence))
    return opened


@dataclass(frozen=True, slots=True)
class _Hop:
    giver: bytes
    taker: bytes
    time: int
    received: bool  # else listed missing: the item stays with the giver


def _hops(offers: dict[bytes, tuple[Record, LotOffer]], receipts: list[tuple[Record, LotReceipt, str]],
          wanted: set[str], problems: list[Problem]) -> tuple[dict[str, list[_Hop]], list[Any]]:  # fmt: skip
    """Per item, the hand-offs whose receipt matches its offer, in time order."""
    hops: dict[str, list[_Hop]] = {}
    moved = []
    done: set[bytes] = set()
    for record, receipt, where in sorted(receipts, key=lambda r: (custody_time(r[0].header.time, r[1]), r[0].id)):
        held = offers.get(receipt.offer)
        if held is None:
            continue  # the offer is not in the bundle: this receipt moves nothing the report asks about
        offer_record, offer = held
        listed = {line.gid for line in offer.items}
        if record.header.author != offer.recipient:
            problems.append(Problem(Reason.RECEIPT_MISMATCH, "a receipt signed by a node the lot was not offered to",
                                    where))  # fmt: skip
            continue
        if set(receipt.received) | set(receipt.missing) != listed:
            problems.append(Problem(Reason.RECEIPT_MISMATCH, "the receipt's lines are not the offer's", where))
            continue
        if receipt.offer in done:
            continue  # one receipt per offer moves custody: the first one
        done.add(receipt.offer)
        moved.append((record, receipt, offer))
        giver, time = offer_record.header.author, custody_time(record.header.time, receipt)
        for gid in receipt.received:
            if gid in wanted:
                hops.setdefault(gid, []).append(_Hop(giver, record.header.author, time, True))
        for gid in receipt.missing:
            if gid in wanted:
                hops.setdefault(gid, []).append(_Hop(giver, record.header.author, time, False))
    return hops, moved


def _statements(fates: list[tuple[Record, Any, str]], wanted: set[str]) -> dict[str, list[Statement]]:
    """Per item, the fates stated by records no later record of their author corrects."""
    corrected = {(record.header.author, body.corrects) for record, body, _ in fates if body.corrects is not None}
    found: dict[str, list[Statement]] = {}
    for record, body, where in sorted(fates, key=lambda f: (f[0].header.time, f[0].header.seq)):
        if (record.header.author, record.id) in corrected:
            continue
        for fate in body.fates:
            if fate.gid not in wanted:
                continue
            if isinstance(body, ItemFates2):
                found.setdefault(fate.gid, []).append(Statement(
                    fate.gid, fate.outcome, fate.time, record.header.author, record.id, where, tuple(fate.erasures),
                    fate.beneficiary_category, fate.outflow, fate.weight_g, fate.to))  # fmt: skip
            else:
                found.setdefault(fate.gid, []).append(Statement(
                    fate.gid, fate.fate, fate.time, record.header.author, record.id, where, (),
                    fate.beneficiary_category, None, fate.weight_g, fate.to))  # fmt: skip
    return found


def _follow(proof: ItemProof, hops: list[_Hop], statements: list[Statement], problems: list[Problem]) -> None:
    """Custody link by link from the report's author; then the fates its custodians signed."""
    custodian, since = proof.custody[0], -1
    spans: list[tuple[bytes, int, int | None]] = []
    missing_since: int | None = None
    for hop in sorted(hops, key=lambda h: h.time):
        if hop.giver != custodian or hop.time < since:
            continue
        if hop.received:
            spans.append((custodian, since, hop.time))
            custodian, since, missing_since = hop.taker, hop.time, None
            proof.custody.append(custodian)
        else:
            proof.missing_at.append(hop.taker)
            missing_since = hop.time
    spans.append((custodian, since, None))

    def held_by(key: bytes, time: int) -> bool:
        return any(k == key and start <= time and (end is None or time <= end) for k, start, end in spans)

    latest: dict[bool, Statement] = {}  # the last end of the item's life, and the last statement of the stock
    for statement in sorted(statements, key=lambda s: s.time):
        if not held_by(statement.author, statement.time):
            proof.broken = True
            problems.append(Problem(Reason.NOT_CUSTODIAN, f"a fate {statement.outcome} signed by "
                                    f"{fingerprint(statement.author)}, who did not hold the item then",
                                    statement.where, proof.gid))  # fmt: skip
            continue
        for erasure in statement.erasures:  # each once: an outcome repeats what "in stock" stated of them
            if (statement.author, erasure) not in proof.erasures:
                proof.erasures.append((statement.author, erasure))
        if statement.author == custodian and statement.time >= since:
            latest[statement.outcome in ENDS] = statement
    # an end outranks a statement of the stock whatever their times: a distribution entered with a past day,
    # after the custodian said the item was in stock, is its outcome
    last = latest.get(True) or latest.get(False)
    if last is not None:
        proof.outcome, proof.by, proof.signed, proof.statement = last.outcome, last.author, True, last
    else:
        proof.outcome = "missing" if missing_since is not None else "in_stock"
        proof.by = custodian


def _text(value: str | None) -> str:
    return "-" if value is None else json.dumps(value, ensure_ascii=False)


def describe(check: BundleCheck) -> list[str]:
    """The lines ``maillon record verify`` prints for a bundle it could read (PROTOCOL.md gives them exactly)."""
    report, body = check.report, check.body
    assert report is not None, "describe a bundle read from a file"
    lines = [f"report id={report.id.hex()} author={node_id(report.header.author)} "
             f"fingerprint={fingerprint(report.header.author)} time={report.header.time} items={len(body.items)} "
             f"lots={len(body.lots)} period={body.period_from}..{body.period_to} donor={_text(body.donor)}"]  # fmt: skip
    keys = dict.fromkeys(key for item in check.items for key in (*item.custody, *([item.by] if item.by else [])))
    for key in keys:
        lines.append(f"node fingerprint={fingerprint(key)} id={node_id(key)} name={_text(check.names.get(key))}")
    for item in check.items:
        erased = {None: "-", True: "yes", False: "no"}[item.erased]
        time = item.statement.time if item.statement is not None else "-"
        said = item.statement
        beneficiary = said.beneficiary_category if said is not None and said.beneficiary_category else "-"
        weight = said.weight_g if said is not None and said.weight_g is not None else "-"
        lines.append(
            f"item gid={item.gid} fate={item.outcome} beneficiary={beneficiary} weight={weight} "
            f"by={fingerprint(item.by) if item.by else '-'} signed={'yes' if item.signed else 'no'} time={time} "
            f"custody={'>'.join(fingerprint(k) for k in item.custody)} erasures={len(item.erasures)} "
            f"erased={erased} serial={_text(item.serial)} outflow={_text(said.outflow if said else None)}"
        )  # fmt: skip
        for who, proof in item.erasures:
            certificate = proof.certificate_sha256.hex() if proof.certificate_sha256 else "-"
            lines.append(
                f"erasure gid={item.gid} by={fingerprint(who)} level={proof.level} result={proof.result} "
                f"time={proof.time} certificate={certificate} disk={_text(proof.disk_serial)} "
                f"tool={_text(proof.tool)} method={_text(proof.method)}"
            )  # fmt: skip
    for problem in check.problems:
        lines.append(f"problem record={problem.where or '-'} gid={problem.gid or '-'} reason={problem.reason} "
                     f"{problem.text}")  # fmt: skip
    verdict = "ok" if check.ok else "fail"
    lines.append(f"summary items={len(check.items)} records={check.records} problems={len(check.problems)} "
                 f"verdict={verdict}")  # fmt: skip
    return lines
