"""What the command line and the pages read of hand-offs (``node.network.handoffs`` keeps their state).

Who may receive a lot, naming an offer or a node as people type them, the
manifest with its outcomes, the preview of an offer, a lot's custody chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from node.domain.item_tags import printed_tag
from node.domain.states import TERMINAL
from node.errors import Invalid, NotFound, RuleBroken
from node.network.handoffs import (
    NATIONAL_HOLDS_NO_LOTS,
    TERMINAL_MARKS,
    Handoff,
    erasure_state,
    get_handoff,
    handoff_lines,
    held_certificates,
    list_handoffs,
    marks,
    offerable_rows,
    record_content,
)
from node.store.database import IN_ARRAY, Reader, as_array
from protocol import canonical
from protocol.custody_kinds import custody_time_of
from protocol.keys import node_id
from protocol.kinds import (
    MembershipCertificate,
)  # fmt: skip

__all__ = [
    "Recipient", "recipients", "resolve_node", "resolve_offer", "node_names", "ManifestLine", "manifest",
    "find_lines", "OfferDetails", "offer_details", "PreviewLine", "OfferPreview", "preview_offer", "CustodyStep",
    "DownstreamFate", "CustodyChain", "custody_chain",
]  # fmt: skip

_RELATION_ORDER = {"upstream": 0, "downstream": 1, "peer": 2, "member": 3}
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


@dataclass(frozen=True, slots=True)
class Recipient:
    """A node this one may offer a lot to: a trusted node, or a member our hub certified."""

    key: bytes
    name: str
    role: str
    relation: str  # upstream, downstream, peer (a peered network's hub), member (certified by our hub)
    network: str | None

    @property
    def fingerprint(self) -> str:
        from protocol.keys import fingerprint  # noqa: PLC0415

        return fingerprint(self.key)

    @property
    def node_id(self) -> str:
        return node_id(self.key)


async def recipients(db: Reader, own: bytes) -> list[Recipient]:
    """Whom ``create_offer`` accepts as a recipient (``own`` is this node's key), upstream first."""
    from node.network.conventions import peered  # noqa: PLC0415

    found: dict[bytes, Recipient] = {}
    for row in await db.all("SELECT key, name, role, relation, network FROM peers WHERE state = 'active'"):
        if row["key"] == own:
            continue
        if row["role"] == "national":
            continue  # create_offer refuses it (national_holds_no_lots)
        if row["relation"] == "peer" and not (row["role"] == "hub" and await peered(db, own, row["key"])):
            continue
        found[row["key"]] = Recipient(row["key"], row["name"], row["role"], row["relation"], row["network"])
    for certificate in await held_certificates(db):
        if certificate.member != own and certificate.member not in found:
            found[certificate.member] = Recipient(certificate.member, certificate.name, certificate.role,
                                                  "member", certificate.network)  # fmt: skip
    return sorted(found.values(), key=lambda r: (_RELATION_ORDER.get(r.relation, 9), r.name.casefold()))


async def resolve_node(db: Reader, own: bytes, text: str) -> Recipient:
    """A recipient named by its node id (base32 or 64 hex digits) or the start of its fingerprint."""
    from protocol.errors import ProtocolError  # noqa: PLC0415
    from protocol.keys import fingerprint, parse_node_id  # noqa: PLC0415

    text = text.strip()
    known = await recipients(db, own)
    if len(text) in (52, 64):
        try:
            key = parse_node_id(text).raw
        except ProtocolError:
            pass
        else:
            for recipient in known:
                if recipient.key == key:
                    return recipient
            names = await node_names(db, [key])
            return Recipient(key, names.get(key, node_id(key)[:12]), "member", "unknown", None)
    digits = "".join(c for c in text.upper() if c not in "- ")
    if len(digits) < 4 or not set(digits) <= _BASE32:
        raise Invalid(f"{text!r} is neither a node id nor the start of a fingerprint (4 characters at least)",
                      code="bad_fingerprint")  # fmt: skip
    matches = [r for r in known if r.fingerprint.replace("-", "").startswith(digits)]
    if not matches and any(fingerprint(row[0]).replace("-", "").startswith(digits)
                           for row in await db.all("SELECT key FROM peers WHERE role = 'national'")):  # fmt: skip
        raise RuleBroken(NATIONAL_HOLDS_NO_LOTS, code="national_holds_no_lots")
    if not matches:
        raise NotFound(f"no node this one may hand a lot to has a fingerprint starting with {digits}",
                       code="unknown_node")  # fmt: skip
    if len(matches) > 1:
        named = ", ".join(f"{r.name} ({r.fingerprint})" for r in matches[:5])
        raise Invalid(f"several nodes have a fingerprint starting with {digits}: {named}", code="ambiguous_node")
    return matches[0]


async def resolve_offer(db: Reader, text: str) -> bytes:
    """An offer named by its record id in hex, or a unique start of it (8 hex digits at least)."""
    digits = text.strip().lower()
    if not 8 <= len(digits) <= 64 or any(c not in "0123456789abcdef" for c in digits):
        raise Invalid(f"{text!r}: an offer is named by its record id, 8 to 64 hexadecimal digits", code="bad_offer_id")
    rows = await db.all("SELECT offer FROM handoffs WHERE substr(lower(hex(offer)), 1, ?) = ? LIMIT 2",
                        (len(digits), digits))  # fmt: skip
    if not rows:
        raise NotFound(f"no hand-off has a record id starting with {digits}", code="unknown_offer")
    if len(rows) > 1:
        raise Invalid(f"several hand-offs have a record id starting with {digits}: give more digits",
                      code="ambiguous_offer")  # fmt: skip
    return rows[0][0]


async def node_names(db: Reader, keys: list[bytes]) -> dict[bytes, str]:
    """The names this node knows for ``keys``: pinned peers', else the name a membership certificate gives."""
    wanted = {k for k in keys if k}
    if not wanted:
        return {}
    names = {row[0]: row[1] for row in await db.all(
        f"SELECT key, name FROM peers WHERE key IN ({marks(list(wanted))})", list(wanted))}  # fmt: skip
    if wanted - set(names):
        for (content,) in await db.all("SELECT content FROM log_records WHERE kind = ? AND content IS NOT NULL",
                                       (MembershipCertificate.KIND,)):  # fmt: skip
            certificate = canonical.decode(content)
            member = certificate.get("member")
            if member in wanted and member not in names:
                names[member] = str(certificate.get("member_name", ""))
    return names


@dataclass(frozen=True, slots=True)
class ManifestLine:
    """One line of an offer as signed, with what the receipt said of it."""

    gid: str
    category: str
    weight_g: int
    erasure: str
    serial: str | None
    donor_asset: str | None
    brand: str | None
    model: str | None
    outcome: str | None  # received, missing, or None before the receipt
    damaged: bool
    item_id: int | None  # out: the item offered; in: the item made at the receipt
    asset_tag: str | None  # this node's label, when the item is here
    tags: tuple[str, ...] = ()  # the labels the line lists (lot.offer/2), oldest first: the printed one last

    @property
    def printed_tag(self) -> str | None:
        """The label stuck on the item by the node that offered it."""
        return printed_tag(self.tags)


async def manifest(db: Reader, offer: bytes) -> list[ManifestLine]:
    """The offer's lines in the order they were offered (the signed offer's, else the lines kept here)."""
    body = await record_content(db, offer)
    signed = {line["gid"]: line for line in (body or {}).get("items", [])}
    lines = await handoff_lines(db, offer)
    ids = [line.item_id for line in lines if line.item_id is not None]
    here = {row["id"]: row for row in await db.all(
        f"SELECT id, asset_tag, category, weight_g, serial, donor_asset, brand, model FROM items WHERE id IN {IN_ARRAY}",
        (as_array(ids),))}  # fmt: skip
    found = []
    for line in lines:
        item = here.get(line.item_id) if line.item_id is not None else None
        source: dict[str, Any] = signed.get(line.gid) or line.line or (dict(item) if item is not None else {})
        found.append(ManifestLine(
            gid=line.gid, category=source.get("category", "other"), weight_g=source.get("weight_g", 0),
            erasure=source.get("erasure", "pending"), serial=source.get("serial"),
            donor_asset=source.get("donor_asset"), brand=source.get("brand"), model=source.get("model"),
            outcome=line.outcome, damaged=line.damaged, item_id=line.item_id,
            asset_tag=item["asset_tag"] if item is not None else None, tags=tuple(source.get("tags", ())),
        ))  # fmt: skip
    return found


def find_lines(lines: list[ManifestLine], code: str) -> list[str]:
    """The global ids of the lines a scanned or typed code names: a global id, a label's URL
    (``…/i/<gid>``), a serial number, a donor's asset number or a tag the line lists (any case)."""
    code = code.strip()
    if "/i/" in code:
        code = code.rsplit("/i/", 1)[1].split("?")[0].split("#")[0].strip("/")
    if not code:
        return []
    folded = code.casefold()
    by_gid = [line.gid for line in lines if line.gid == folded]
    if by_gid:
        return by_gid
    return [line.gid for line in lines
            if (line.serial and line.serial.casefold() == folded)
            or (line.donor_asset and line.donor_asset.casefold() == folded)
            or any(tag.casefold() == folded for tag in line.tags)]  # fmt: skip


@dataclass(frozen=True, slots=True)
class OfferDetails:
    """What people read about a hand-off beside its manifest."""

    handoff: Handoff
    peer_name: str
    note: str | None
    orientations: tuple[str, ...]
    donor_category: str | None
    offered_at: int | None  # the times the records were signed
    answered_at: int | None
    answer_kind: str | None  # lot.accept/1, lot.decline/1, lot.cancel/1
    answer_note: str | None
    received_at: int | None  # when custody moved (a receipt entered later: the day the lot arrived)
    arrived_on: date | None  # that day, when the receipt was signed later (lot.receipt/2)
    recorded_at: int | None  # when the receipt was signed
    receipt_note: str | None
    extra: tuple[dict[str, Any], ...]  # what arrived that the offer did not list

    @property
    def fingerprint(self) -> str:
        from protocol.keys import fingerprint  # noqa: PLC0415

        return fingerprint(self.handoff.peer)


async def _time_and_kind(db: Reader, record_id: bytes | None) -> tuple[int | None, str | None]:
    if record_id is None:
        return None, None
    row = await db.one("SELECT time, kind FROM log_records WHERE id = ?", (record_id,))
    return (row["time"], row["kind"]) if row is not None else (None, None)


async def offer_details(db: Reader, offer: bytes) -> OfferDetails:
    handoff = await get_handoff(db, offer)
    body = await record_content(db, offer) or {}
    answer = await record_content(db, handoff.answer) or {}
    receipt = await record_content(db, handoff.receipt) or {}
    offered_at, _kind = await _time_and_kind(db, offer)
    answered_at, answer_kind = await _time_and_kind(db, handoff.answer)
    recorded_at, _kind = await _time_and_kind(db, handoff.receipt)
    arrived_on = receipt.get("received_on")
    names = await node_names(db, [handoff.peer])
    return OfferDetails(
        handoff=handoff, peer_name=names.get(handoff.peer) or node_id(handoff.peer)[:12], note=body.get("note"),
        orientations=tuple(body.get("orientations", ())), donor_category=body.get("donor_category"),
        offered_at=offered_at, answered_at=answered_at, answer_kind=answer_kind, answer_note=answer.get("note"),
        received_at=None if recorded_at is None else custody_time_of(recorded_at, arrived_on),
        arrived_on=date.fromisoformat(arrived_on) if arrived_on else None,
        recorded_at=recorded_at, receipt_note=receipt.get("note"), extra=tuple(receipt.get("extra", ())),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PreviewLine:
    item_id: int
    gid: str
    asset_tag: str
    state: str
    category: str
    weight_g: int
    erasure: str  # erased, not_applicable, pending: as the offer will say
    serial: str | None
    brand: str | None
    model: str | None
    busy: bool  # already in an open offer: the offer would be refused


@dataclass(frozen=True, slots=True)
class OfferPreview:
    """What ``create_offer`` would put in the manifest, before anyone signs it."""

    lot_ref: str | None
    orientations: tuple[str, ...]
    lines: list[PreviewLine]
    left_out: int  # the lot's items that already have their fate (not offered)

    @property
    def units(self) -> int:
        return len(self.lines)

    @property
    def weight_g(self) -> int:
        return sum(line.weight_g for line in self.lines)

    def count(self, erasure: str) -> int:
        return sum(line.erasure == erasure for line in self.lines)

    @property
    def busy(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.busy]


async def preview_offer(db: Reader, *, lot_id: int | None = None, item_ids: list[int] | None = None) -> OfferPreview:
    """The lot's items still here (or the items chosen), with the erasure state the offer will declare."""
    lot_ref, orientations, left_out = None, (), 0
    if lot_id is not None:
        lot = await db.one("SELECT reference, orientations FROM lots WHERE id = ?", (lot_id,))
        if lot is None:
            raise NotFound(f"no lot {lot_id}", code="unknown_lot")
        lot_ref, orientations = lot["reference"], tuple(json.loads(lot["orientations"] or "[]"))
    rows = await offerable_rows(db, lot_id=lot_id, item_ids=item_ids or [])
    if lot_id is not None and not item_ids:
        left_out = await db.value(f"SELECT count(*) FROM items WHERE lot_id = ? AND state IN ({TERMINAL_MARKS})",
                                  (lot_id, *TERMINAL))  # fmt: skip
    lines = [PreviewLine(r["id"], r["gid"], r["asset_tag"], r["state"], r["category"], r["weight_g"],
                         erasure_state(r, r["erased"]), r["serial"] or None, r["brand"] or None,
                         r["model"] or None, bool(r["busy"])) for r in rows]  # fmt: skip
    return OfferPreview(lot_ref, orientations, lines, left_out)


@dataclass(frozen=True, slots=True)
class CustodyStep:
    """One hand-off in a lot's custody chain, with its dates and counts."""

    handoff: Handoff
    peer_name: str
    offered_at: int | None
    answered_at: int | None
    received_at: int | None
    received: int
    missing: int
    damaged: int
    of_this_lot: int  # the lines that are items of this lot (an offer of chosen items may mix lots)

    @property
    def fingerprint(self) -> str:
        from protocol.keys import fingerprint  # noqa: PLC0415

        return fingerprint(self.handoff.peer)


@dataclass(frozen=True, slots=True)
class DownstreamFate:
    """What became of an item after it left this node, as the node holding it reported."""

    item_id: int
    gid: str
    asset_tag: str
    fate: str
    time: int
    beneficiary_category: str | None
    weight_g: int | None
    reporter: bytes
    reporter_name: str
    to_node: bytes | None
    to_name: str | None


@dataclass(frozen=True, slots=True)
class CustodyChain:
    """Where a lot came from (a hand-off to this node), where its items went (hand-offs from
    this node), and what the nodes downstream reported of them."""

    incoming: list[CustodyStep]
    outgoing: list[CustodyStep]
    fates: list[DownstreamFate]

    @property
    def empty(self) -> bool:
        return not (self.incoming or self.outgoing or self.fates)


async def _step(db: Reader, handoff: Handoff, lot_id: int, names: dict[bytes, str]) -> CustodyStep:
    counts = {(r[0], r[1]): r[2] for r in await db.all(
        "SELECT outcome, damaged, count(*) FROM handoff_items WHERE offer = ? GROUP BY outcome, damaged",
        (handoff.offer,))}  # fmt: skip
    mine = await db.value("SELECT count(*) FROM handoff_items h JOIN items i ON i.id = h.item_id"
                          " WHERE h.offer = ? AND i.lot_id = ?", (handoff.offer, lot_id))  # fmt: skip
    offered_at, _kind = await _time_and_kind(db, handoff.offer)
    answered_at, _kind = await _time_and_kind(db, handoff.answer)
    received_at, _kind = await _time_and_kind(db, handoff.receipt)
    if received_at is not None:  # a receipt entered later: the day the lot arrived
        received_at = custody_time_of(received_at, (await record_content(db, handoff.receipt) or {}).get("received_on"))
    return CustodyStep(
        handoff=handoff, peer_name=names.get(handoff.peer) or node_id(handoff.peer)[:12], offered_at=offered_at,
        answered_at=answered_at, received_at=received_at,
        received=counts.get(("received", 0), 0) + counts.get(("received", 1), 0),
        missing=counts.get(("missing", 0), 0), damaged=counts.get(("received", 1), 0), of_this_lot=mine,
    )  # fmt: skip


async def custody_chain(db: Reader, lot_id: int, *, fates_limit: int = 1000) -> CustodyChain:
    """The lot's hand-offs both ways and the fates reported downstream of its items (newest last)."""
    incoming = await list_handoffs(db, direction="in", lot_id=lot_id)
    offers = [r[0] for r in await db.all(
        "SELECT offer FROM handoffs WHERE direction = 'out' AND lot_id = ? UNION"
        " SELECT DISTINCT h.offer FROM handoff_items h JOIN items i ON i.id = h.item_id JOIN handoffs o"
        " ON o.offer = h.offer WHERE o.direction = 'out' AND i.lot_id = ?", (lot_id, lot_id))]  # fmt: skip
    outgoing = sorted([await get_handoff(db, offer) for offer in offers], key=lambda h: h.created)
    rows = await db.all(
        "SELECT d.item_id, i.gid, i.asset_tag, d.fate, d.time, d.beneficiary_category, d.weight_g, d.reporter,"
        " d.to_node FROM downstream_fates d JOIN items i ON i.id = d.item_id WHERE i.lot_id = ? AND d.superseded = 0"
        " ORDER BY d.time, i.id LIMIT ?", (lot_id, fates_limit))  # fmt: skip
    keys = [h.peer for h in (*incoming, *outgoing)] + [r["reporter"] for r in rows] + [r["to_node"] for r in rows]
    names = await node_names(db, keys)
    fates = [DownstreamFate(
        item_id=r["item_id"], gid=r["gid"], asset_tag=r["asset_tag"], fate=r["fate"], time=r["time"],
        beneficiary_category=r["beneficiary_category"], weight_g=r["weight_g"], reporter=r["reporter"],
        reporter_name=names.get(r["reporter"]) or node_id(r["reporter"])[:12], to_node=r["to_node"],
        to_name=(names.get(r["to_node"]) or node_id(r["to_node"])[:12]) if r["to_node"] else None,
    ) for r in rows]  # fmt: skip
    return CustodyChain(
        incoming=[await _step(db, h, lot_id, names) for h in incoming],
        outgoing=[await _step(db, h, lot_id, names) for h in outgoing],
        fates=fates,
    )
