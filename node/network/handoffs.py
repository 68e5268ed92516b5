"""Lot hand-offs between nodes: offer, accept or decline (or cancel), receipt; fates flowing back.

A (who has the items) offers a lot to B; B accepts or declines; A may cancel
while the offer is not accepted; after the physical transport B records a
receipt of what arrived. **Custody moves at the receipt**, in one
transaction on each side: B creates the received items with their global
ids and provenance when it signs the receipt; A marks them ``transferred``
when the receipt reaches it. Every later fate of an item at B (or further
down the chain) flows back to A as ``item.fates/1`` records, and A forwards
them to where the item came from, so the donor report at the origin is
complete.

Each step is one signed record in its author's log, written in the same
transaction as its effect here; the other side applies it when it receives
it (``offer_received``, ``answer_received``, ``receipt_received``,
``fates_received``), idempotently since the inbox applies a record once. A
received record that breaks a rule (a receipt for an unknown offer, from
another node than the addressee, counts that do not add up) is refused by
its ``*_received`` function with a ``RuleBroken`` code; the federation keeps
the record (the author's log stays whole) but nothing changes here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from node.domain.erasure import needs_erasure
from node.domain.item_tags import keep_former_tags, keepable, offered_tags, printed_tag
from node.domain.items import Category, ItemInput, create_items, new_gid
from node.domain.memberships import Membership, certificates
from node.domain.publication import audience_for, fates_audience
from node.domain.states import TERMINAL
from node.errors import Invalid, NotFound, RuleBroken
from node.store.database import IN_ARRAY, Reader, Tx, as_array, now_ms
from node.validation import Id, Input
from protocol import canonical
from protocol.custody_kinds import LotOffer2
from protocol.keys import node_id
from protocol.kinds import (
    ExtraItem,
    Fate,
    ItemFates,
    LotAccept,
    LotCancel,
    LotDecline,
    LotOffer,
    LotReceipt,
    MembershipCertificate,
)  # fmt: skip
from protocol.records import Record

__all__ = [
    "OfferInput", "ReceiptInput", "ExtraInput", "Handoff", "HandoffLine", "create_offer", "answer_offer",
    "cancel_offer", "record_receipt", "offer_received", "answer_received", "receipt_received", "fates_received",
    "list_handoffs", "get_handoff", "handoff_lines", "OPEN", "take_delivery", "insert_handoff", "set_state",
    "handoff_peers", "open_handoff_peers",
]  # fmt: skip

OPEN = ("offered", "accepted")
MAX_ITEMS = 20_000
DAY_MS = 86_400_000
# National reads the hubs' summaries: it holds no stock, so nobody hands it a lot (refused, and never proposed).
NATIONAL_HOLDS_NO_LOTS = "the national federation holds no lots: it only reads the hubs' summaries"
Gid = Annotated[str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Note = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


class OfferInput(Input):
    """What A offers: a lot (its items still here) or chosen items, to one node."""

    recipient: bytes = Field(min_length=32, max_length=32)
    lot_id: Id | None = None
    item_ids: Annotated[list[Id], Field(max_length=MAX_ITEMS)] = []
    expires_days: Annotated[int, Field(ge=1, le=90)] = 14
    note: Note | None = None
    share_donor_asset: bool = False


class ExtraInput(Input):
    category: Category
    weight_g: Annotated[int, Field(ge=0, le=10**12)]
    serial: Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")] | None = None
    note: Note | None = None


class ReceiptInput(Input):
    """What B counted on arrival: every manifest line is received or missing."""

    received: Annotated[list[Gid], Field(max_length=MAX_ITEMS)]
    missing: Annotated[list[Gid], Field(max_length=MAX_ITEMS)] = []
    damaged: Annotated[list[Gid], Field(max_length=MAX_ITEMS)] = []
    extra: Annotated[list[ExtraInput], Field(max_length=MAX_ITEMS)] = []
    weight_g: Annotated[int, Field(ge=0, le=10**12)]
    note: Note | None = None
    keep_tags: bool = False  # each item received keeps the label printed on it, where no label here clashes


@dataclass(frozen=True, slots=True)
class Handoff:
    offer: bytes
    direction: str
    peer: bytes
    lot_id: int | None
    lot_ref: str
    state: str
    units: int
    weight_g: int
    expires: int
    created: int
    updated: int
    answer: bytes | None
    receipt: bytes | None
    reason: str | None
    units_counted: int | None
    weighed_g: int | None

    @property
    def open(self) -> bool:
        return self.state in OPEN

    def expired(self, at: int | None = None) -> bool:
        return self.state == "offered" and (now_ms() if at is None else at) >= self.expires


@dataclass(frozen=True, slots=True)
class HandoffLine:
    gid: str
    item_id: int | None
    line: dict[str, Any]
    outcome: str | None
    damaged: bool


_COLUMNS = ", ".join(Handoff.__dataclass_fields__)


async def get_handoff(db: Reader, offer: bytes) -> Handoff:
    row = await db.one(f"SELECT {_COLUMNS} FROM handoffs WHERE offer = ?", (offer,))
    if row is None:
        raise NotFound("no such hand-off", code="unknown_offer")
    return Handoff(*row)


async def list_handoffs(db: Reader, *, direction: str | None = None, state: str | None = None,
                        lot_id: int | None = None, limit: int = 200) -> list[Handoff]:  # fmt: skip
    rows = await db.all(
        f"SELECT {_COLUMNS} FROM handoffs WHERE (? IS NULL OR direction = ?) AND (? IS NULL OR state = ?)"
        " AND (? IS NULL OR lot_id = ?) ORDER BY created DESC LIMIT ?",
        (direction, direction, state, state, lot_id, lot_id, limit),
    )
    return [Handoff(*row) for row in rows]


async def handoff_lines(db: Reader, offer: bytes) -> list[HandoffLine]:
    rows = await db.all("SELECT gid, item_id, line, outcome, damaged FROM handoff_items WHERE offer = ? ORDER BY rowid",
                        (offer,))  # fmt: skip
    return [HandoffLine(r[0], r[1], json.loads(r[2]), r[3], bool(r[4])) for r in rows]


# A's side -------------------------------------------------------------------


async def create_offer(tx: Tx, offer: OfferInput) -> Record:
    """Offer a lot (or items) to another node; sign it (audience: that node)."""
    await _check_recipient(tx, offer.recipient)
    lot_ref = None
    if offer.lot_id is not None:
        lot = await tx.one("SELECT reference FROM lots WHERE id = ?", (offer.lot_id,))
        if lot is None:
            raise NotFound(f"no lot {offer.lot_id}", code="unknown_lot")
        lot_ref = lot["reference"]
    if len(set(offer.item_ids)) != len(offer.item_ids):
        raise Invalid("an item is listed twice", code="invalid")
    rows = await _offerable(tx, lot_id=offer.lot_id, item_ids=offer.item_ids)
    if len(rows) != len(offer.item_ids) and offer.item_ids:
        raise NotFound("an item offered does not exist", code="unknown_item")
    if not rows:
        raise Invalid("nothing to offer: choose a lot with items in stock, or items", code="empty_offer")
    not_here = [r["asset_tag"] for r in rows if r["state"] in TERMINAL]
    if not_here:
        raise RuleBroken(f"not in stock here: {', '.join(not_here[:10])}", code="not_in_stock")
    busy = [r["asset_tag"] for r in rows if r["busy"]]
    if busy:
        raise RuleBroken(f"already in an open offer: {', '.join(busy[:10])}", code="already_offered")
    tags = await offered_tags(tx, [(r["id"], r["asset_tag"]) for r in rows])
    lines = [{"gid": r["gid"], "category": r["category"], "weight_g": r["weight_g"],
              "erasure": _erasure_state(r, r["erased"]), "serial": r["serial"] or None,
              "donor_asset": (r["donor_asset"] or None) if offer.share_donor_asset else None,
              "brand": r["brand"] or None, "model": r["model"] or None, "tags": tags.get(r["id"])}
             for r in rows]  # checked once, by LotOffer2  # fmt: skip
    orientations, donor_category = await _lot_context(tx, offer.lot_id or rows[0]["lot_id"])
    now = now_ms()
    body = LotOffer2(
        lot_ref=(lot_ref or f"items-{now}")[:500], recipient=offer.recipient, items=lines, units=len(lines),
        weight_g=sum(r["weight_g"] for r in rows), orientations=orientations, expires=now + offer.expires_days * DAY_MS,
        donor_category=donor_category, note=offer.note,
    )  # fmt: skip
    record = await tx.append(body, audience=[offer.recipient])
    await insert_handoff(tx, record, body, direction="out", peer=offer.recipient, lot_id=offer.lot_id)
    await tx.run_many("INSERT INTO handoff_items (offer, gid, item_id) VALUES (?, ?, ?)",
                      [(record.id, r["gid"], r["id"]) for r in rows])  # fmt: skip
    return record


async def cancel_offer(tx: Tx, offer: bytes, reason: str | None = None) -> Record:
    """Withdraw an offer B has not accepted (as far as this node knows)."""
    handoff = await get_handoff(tx, offer)
    if handoff.direction != "out":
        raise RuleBroken("only the node that made an offer cancels it", code="not_yours")
    if handoff.state != "offered":
        raise RuleBroken(f"this offer is {handoff.state}: it can no longer be cancelled", code="not_open")
    record = await tx.append(_body(LotCancel, offer=offer, reason=reason), audience=[handoff.peer])
    await set_state(tx, offer, "cancelled", answer=record.id, reason=reason)
    return record


async def answer_received(tx: Tx, record: Record, body: LotAccept | LotDecline | LotCancel) -> None:
    """A's side of B's accept or decline; B's side of A's cancel."""
    handoff = await _handoff_or_refuse(tx, body.offer)
    author = record.header.author
    if handoff.peer != author:
        raise RuleBroken("an answer from a node the offer is not between", code="not_addressee")
    if isinstance(body, LotCancel):
        if handoff.direction != "in":
            raise RuleBroken("a cancel for an offer this node made", code="not_addressee")
        if handoff.state in ("received", "cancelled"):
            return
        await set_state(tx, body.offer, "cancelled", answer=record.id, reason=body.reason)
        return
    if handoff.direction != "out":
        raise RuleBroken("an answer to an offer this node did not make", code="not_addressee")
    if handoff.state != "offered":
        return  # cancelled first (our cancel wins), or answered already
    state = "accepted" if isinstance(body, LotAccept) else "declined"
    await set_state(tx, body.offer, state, answer=record.id, reason=getattr(body, "reason", None))


async def receipt_received(tx: Tx, record: Record, body: LotReceipt) -> None:
    """A's side of the receipt: what arrived at B leaves here (``transferred``); what is missing stays.

    Applied again (``node.network.recovery``, after a restore), it moves what the
    first time could not: items this node took back only since.
    """
    handoff = await _handoff_or_refuse(tx, body.offer)
    if handoff.direction != "out" or handoff.peer != record.header.author:
        raise RuleBroken("a receipt from a node other than the addressee", code="not_addressee")
    if handoff.state in ("declined", "cancelled"):
        raise RuleBroken(f"a receipt for an offer that was {handoff.state}", code="not_open")
    again = handoff.state == "received"
    if again and handoff.receipt != record.id:
        return
    offered = {r[0]: (r[1], r[2]) for r in await tx.all(
        "SELECT h.gid, h.item_id, i.state FROM handoff_items h LEFT JOIN items i ON i.id = h.item_id WHERE h.offer = ?",
        (body.offer,))}  # fmt: skip
    time = record.header.time
    if not again:
        _check_counts(set(offered), body)
        await _mark_outcomes(tx, body, items_here=False)
    from node.domain.workflow import move_items  # the single door to a new state

    # what arrived leaves here, unless it already left (an item's state moved on meanwhile)
    stay = [item_id for item_id, state in map(offered.__getitem__, body.received)
            if item_id is not None and state not in TERMINAL]  # fmt: skip
    if stay:
        from node.domain.fate_evidence import (
            handoff_evidence,  # the records the items' origin cannot read otherwise
        )

        await move_items(tx, stay, "transferred", detail={"offer": body.offer.hex(), "receipt": record.id.hex(),
                         "to": node_id(record.header.author)}, fate={"to": record.header.author}, at=time,
                         handoff=True, evidence=await handoff_evidence(tx, body.offer, record))  # fmt: skip
    if not again:
        await set_state(tx, body.offer, "received", receipt=record.id, counted=body.units_counted,
                        weighed=body.weight_g)  # fmt: skip


# B's side -------------------------------------------------------------------


async def offer_received(tx: Tx, record: Record, body: LotOffer) -> bool:
    """An offer addressed to this node: kept until someone accepts or declines it; ``False`` if known already."""
    if body.recipient != tx.author:
        raise RuleBroken("an offer addressed to another node", code="not_addressee")
    if await tx.value("SELECT 1 FROM handoffs WHERE offer = ?", (record.id,)):
        return False
    await insert_handoff(tx, record, body, direction="in", peer=record.header.author, lot_id=None)
    lines = body.model_dump(include={"items"}, exclude_none=True)["items"]  # one call for the whole manifest
    await tx.run_many("INSERT INTO handoff_items (offer, gid, line) VALUES (?, ?, ?)",
                      [(record.id, line["gid"], _line_json(line)) for line in lines])  # fmt: skip
    return True


async def answer_offer(tx: Tx, offer: bytes, *, accept: bool, reason: str = "declined",
                       note: str | None = None) -> Record:  # fmt: skip
    """Accept or decline an offer made to this node; sign the answer (audience: A)."""
    handoff = await get_handoff(tx, offer)
    if handoff.direction != "in":
        raise RuleBroken("only the node offered a lot answers the offer", code="not_yours")
    if handoff.state != "offered":
        raise RuleBroken(f"this offer is {handoff.state}", code="not_open")
    if handoff.expired():
        raise RuleBroken("this offer has expired", code="expired")
    body = _body(LotAccept, offer=offer, note=note) if accept else _body(LotDecline, offer=offer, reason=reason, note=note)
    record = await tx.append(body, audience=[handoff.peer])
    await set_state(tx, offer, "accepted" if accept else "declined", answer=record.id,
                     reason=None if accept else reason)  # fmt: skip
    return record


async def record_receipt(tx: Tx, offer: bytes, receipt: ReceiptInput, *, operator: str | None = None) -> Record:
    """What arrived: the items come into this node's custody with their provenance; sign the receipt."""
    handoff = await get_handoff(tx, offer)
    if handoff.direction != "in":
        raise RuleBroken("a receipt is recorded by the node the lot was offered to", code="not_yours")
    if handoff.state != "accepted":
        raise RuleBroken(f"this offer is {handoff.state}: accept it before receiving", code="not_open")
    lines = await _manifest_lines(tx, offer)
    body = _body(
        LotReceipt, offer=offer, received=receipt.received, missing=receipt.missing, damaged=receipt.damaged,
        extra=[ExtraItem(**e.model_dump(exclude_none=True)) for e in receipt.extra],
        units_counted=len(receipt.received) + len(receipt.extra), weight_g=receipt.weight_g, note=receipt.note,
    )  # fmt: skip
    _check_counts(set(lines.items), body)
    taken = await tx.all(f"SELECT gid FROM items WHERE gid IN {IN_ARRAY}", (as_array(body.received),))
    if taken:
        raise RuleBroken(f"already held here: {', '.join(r[0] for r in taken[:5])}", code="duplicate_item")
    record = await tx.append(body, audience=[handoff.peer])
    await take_delivery(tx, handoff, record, body, lines, operator=operator, keep_tags=receipt.keep_tags)
    return record


async def take_delivery(tx: Tx, handoff: Handoff, record: Record, body: LotReceipt, lines: "_Manifest | None" = None,
                        *, operator: str | None = None, keep_tags: bool = False) -> int:  # fmt: skip
    """B's side of its signed receipt ``record``: the items come into its custody; return the lot id.

    The items received keep the tags their line listed as former tags; with
    ``keep_tags``, each keeps its printed tag as its label here where
    ``node.domain.item_tags.keepable`` allows (else it is numbered here).
    Also what a node restored from a backup does again with a receipt it
    signed after the backup (``node.network.recovery``: the labels are numbered
    here, the printed tags stay former tags).
    """
    offer = handoff.offer
    lines = lines or await _manifest_lines(tx, offer)
    lot_id = await _receive_lot(tx, handoff, body, lines.orientations)
    described = [{"category": line["category"], "weight_g": line["weight_g"], "serial": _short(line.get("serial")),
                  "donor_asset": _short(line.get("donor_asset")), "brand": _short(line.get("brand")),
                  "model": _short(line.get("model"))} for line in map(lines.items.__getitem__, body.received)]  # fmt: skip
    described += [{"category": e.category, "weight_g": e.weight_g, "serial": _short(e.serial)} for e in body.extra]
    try:
        inputs = _ITEM_INPUTS.validate_python(described)  # one call for the whole lot
    except ValidationError as exc:
        first = exc.errors()[0]
        line = body.received[first["loc"][0]] if first["loc"][0] < len(body.received) else "extra"
        raise Invalid(f"manifest line {line}: {first['msg']}", code="invalid") from exc
    gids = [*body.received, *(new_gid() for _ in body.extra)]
    detail = json.dumps({"from": node_id(handoff.peer), "offer": offer.hex(), "receipt": record.id.hex()})
    origin = (handoff.peer, offer, record.id)  # the received ones; the extra ones have no provenance but this lot
    origins = [origin] * len(body.received) + [None] * len(body.extra)
    tags = [list(lines.items[gid].get("tags") or ()) for gid in body.received]
    printed = [printed_tag(listed) for listed in tags]
    kept = await keepable(tx, [tag for tag in printed if tag]) if keep_tags else set()
    labels: list[str | None] = [tag if tag in kept else None for tag in printed] + [None] * len(body.extra)
    ids = await create_items(tx, lot_id, inputs, operator=operator, gids=gids, detail=detail, origins=origins,
                             asset_tags=labels)  # fmt: skip
    await keep_former_tags(tx, {item_id: listed for item_id, listed in zip(ids, tags) if listed}, node=handoff.peer,
                           offer=offer, since=record.header.time)  # fmt: skip
    # erasures done at A travel as its signed statement in the offer
    erased = [i for i, gid in zip(ids, body.received) if lines.items[gid].get("erasure") == "erased"]
    tool, evidence = f"maillon {node_id(handoff.peer)[:16]}", offer.hex()
    await tx.run_many(
        "INSERT INTO erasures (item_id, method, level, tool, result, time, evidence_sha256, source)"
        " VALUES (?, 'attested by the origin node', 'clear', ?, 'success', ?, ?, 'handoff')",
        [(i, tool, record.header.time, evidence) for i in erased],
    )
    await _mark_outcomes(tx, body, items_here=True)
    await set_state(tx, offer, "received", receipt=record.id, counted=body.units_counted, weighed=body.weight_g,
                     lot_id=lot_id)  # fmt: skip
    return lot_id


# fates flowing back ---------------------------------------------------------


async def handoff_peers(db: Reader) -> set[bytes]:
    """The nodes this node has a hand-off with, either way (whose logs answer or follow its own)."""
    return {row[0] for row in await db.all("SELECT DISTINCT peer FROM handoffs")}


async def open_handoff_peers(db: Reader) -> set[bytes]:
    """The nodes of the hand-offs still open here (offered or accepted), either way."""
    return {row[0] for row in await db.all("SELECT DISTINCT peer FROM handoffs WHERE state IN ('offered', 'accepted')")}


async def handed_to(tx: Tx, node: bytes) -> bool:
    """Whether this node ever offered anything to ``node`` (so that fates it reports may be about our items).

    Looked up once per transaction: only this node's own offers change it,
    never a record it receives.
    """
    key = ("handed to", node)
    if key not in tx.memo:
        tx.memo[key] = await tx.value("SELECT 1 FROM handoffs WHERE direction = 'out' AND peer = ? LIMIT 1",
                                      (node,)) is not None  # fmt: skip
    return tx.memo[key]


async def fates_received(tx: Tx, record: Record, body: ItemFates) -> int:
    """Fates of items this node handed to the record's author: keep them, forward them to our origin.

    A correction (``corrects``) sets the fates of the corrected record
    aside; where that record's fates were forwarded, the forwarded record is
    corrected the same way, with the fates that remain (possibly none), so
    the correction travels as far as the fates did.
    """
    reporter = record.header.author
    forwarded: dict[bytes, bytes] = {}  # origin -> our record that carried the corrected fates there
    if body.corrects is not None:
        await tx.run("UPDATE downstream_fates SET superseded = 1 WHERE record_id = ? AND reporter = ?",
                     (body.corrects, reporter))  # fmt: skip
        forwarded = {r["origin"]: r["forwarded"] for r in await tx.all(
            "SELECT origin, forwarded FROM fates_forwarded WHERE source = ?", (body.corrects,))}  # fmt: skip
    if not forwarded and not await handed_to(tx, reporter):
        return 0  # this node never handed anything to the reporter (a hub or national reading the fates of others)
    gids = [f.gid for f in body.fates]
    ours = {r["gid"]: r for r in await tx.all(
        f"SELECT i.id, i.gid, i.origin_node FROM items i JOIN handoff_items h ON h.item_id = i.id"
        f" JOIN handoffs o ON o.offer = h.offer WHERE o.direction = 'out' AND o.peer = ? AND h.outcome = 'received'"
        f" AND i.gid IN {IN_ARRAY}", (reporter, as_array(gids)))}  # fmt: skip
    kept = [f for f in body.fates if f.gid in ours]
    if kept:
        await tx.run_many(
            "INSERT INTO downstream_fates (item_id, record_id, reporter, fate, time, beneficiary_category, weight_g,"
            " to_node) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(ours[f.gid]["id"], record.id, reporter, f.fate, f.time, f.beneficiary_category, f.weight_g, f.to)
             for f in kept],
        )  # fmt: skip
    by_origin: dict[bytes, list[Fate]] = {origin: [] for origin in forwarded}
    for fate in kept:
        origin = ours[fate.gid]["origin_node"]
        if origin is not None:
            by_origin.setdefault(origin, []).append(fate)
    if by_origin:
        policy = await audience_for(tx, "fates")
        for origin, fates in by_origin.items():
            sent = await tx.append(ItemFates(fates=fates, corrects=forwarded.get(origin)),
                                   audience=fates_audience(policy, tx.author, origin))  # fmt: skip
            await tx.run("INSERT INTO fates_forwarded (source, origin, forwarded) VALUES (?, ?, ?)",
                         (record.id, origin, sent.id))  # fmt: skip
    return len(kept)


# helpers ----------------------------------------------------------------------

_TERMINAL_SQL = ", ".join("?" * len(TERMINAL))


def _body(kind: type[Any], **fields: Any) -> Any:
    """A record body built from checked input; a rule of its kind broken is ``Invalid`` (nothing signed)."""
    try:
        return kind(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or kind.KIND
        raise Invalid(f"{where}: {first['msg']}", code="invalid") from exc


_ITEM_INPUTS = TypeAdapter(list[ItemInput])
_line_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode  # one encoder for every manifest line


def _short(text: str | None) -> str | None:
    """Manifest text (up to 500 characters) as an item field (up to 200)."""
    return text[:200] if text else None


def _marks(values: list[Any]) -> str:
    return ", ".join("?" * len(values)) or "NULL"


_OFFERABLE = (
    "SELECT i.id, i.gid, i.asset_tag, i.state, i.category, i.weight_g, i.serial, i.donor_asset, i.brand, i.model,"
    " i.storage, i.lot_id, EXISTS (SELECT 1 FROM erasures e WHERE e.item_id = i.id AND e.result = 'success') AS erased,"
    " EXISTS (SELECT 1 FROM handoff_items h JOIN handoffs o ON o.offer = h.offer WHERE h.item_id = i.id"
    " AND o.direction = 'out' AND o.state IN ('offered', 'accepted')) AS busy FROM items i"
)  # fmt: skip


async def _offerable(db: Reader, *, lot_id: int | None, item_ids: list[int]) -> list[Any]:
    """The items an offer lists, with whether each is erased and already in an open offer.

    The items chosen, in their order (those that do not exist left out), else the lot's items still here.
    """
    if item_ids:
        rows = await db.all(f"{_OFFERABLE} WHERE i.id IN {IN_ARRAY}", (as_array(item_ids),))
        order = {item_id: n for n, item_id in enumerate(item_ids)}
        return sorted(rows, key=lambda r: order[r["id"]])
    if lot_id is None:
        return []
    return await db.all(f"{_OFFERABLE} WHERE i.lot_id = ? AND i.state NOT IN ({_TERMINAL_SQL}) ORDER BY i.id",
                        (lot_id, *TERMINAL))  # fmt: skip


def _erasure_state(row: Any, erased: bool) -> Literal["erased", "not_applicable", "pending"]:
    if erased:
        return "erased"
    return "pending" if needs_erasure(row["category"], row["storage"]) else "not_applicable"


async def _lot_context(tx: Tx, lot_id: int | None) -> tuple[list[str], str | None]:
    """The donor's orientations that travel with the lot, and the donor's category."""
    if lot_id is None:
        return [], None
    row = await tx.one("SELECT l.orientations, d.type FROM lots l LEFT JOIN donors d ON d.id = l.donor_id WHERE l.id = ?",
                       (lot_id,))  # fmt: skip
    if row is None:
        return [], None
    return json.loads(row["orientations"] or "[]")[:16], row["type"]


async def _check_recipient(tx: Tx, key: bytes) -> None:
    """The recipient is in this node's network (pinned, or certified by our upstream) or a peered hub."""
    if key == tx.author:
        raise RuleBroken("a node does not offer a lot to itself", code="own_key")
    peer = await tx.one("SELECT relation, role, state FROM peers WHERE key = ?", (key,))
    if peer is not None:
        if peer["state"] != "active":
            raise RuleBroken(f"this node is {peer['state']} here", code="revoked_key")
        if peer["role"] == "national":
            raise RuleBroken(NATIONAL_HOLDS_NO_LOTS, code="national_holds_no_lots")
        if peer["relation"] != "peer":
            return
        from node.network.conventions import peered  # noqa: PLC0415

        if peer["role"] == "hub" and await peered(tx, tx.author, key):
            return
        raise RuleBroken("no peering convention in force with this node's network", code="not_peered")
    if any(certificate.member == key for certificate in await _certificates(tx)):
        return
    raise RuleBroken("this node is neither a peer nor a member of this node's network", code="unknown_node")


async def insert_handoff(tx: Tx, record: Record, body: LotOffer, *, direction: str, peer: bytes,
                          lot_id: int | None) -> None:  # fmt: skip
    now = now_ms()
    await tx.run(
        "INSERT INTO handoffs (offer, direction, peer, lot_id, lot_ref, state, units, weight_g, expires, created, updated)"
        " VALUES (?, ?, ?, ?, ?, 'offered', ?, ?, ?, ?, ?)",
        (record.id, direction, peer, lot_id, body.lot_ref, body.units, body.weight_g, body.expires, now, now),
    )


async def set_state(tx: Tx, offer: bytes, state: str, *, answer: bytes | None = None, receipt: bytes | None = None,
                     reason: str | None = None, counted: int | None = None, weighed: int | None = None,
                     lot_id: int | None = None) -> None:  # fmt: skip
    await tx.run(
        "UPDATE handoffs SET state = ?, updated = ?, answer = coalesce(?, answer), receipt = coalesce(?, receipt),"
        " reason = coalesce(?, reason), units_counted = coalesce(?, units_counted), weighed_g = coalesce(?, weighed_g),"
        " lot_id = coalesce(?, lot_id) WHERE offer = ?",
        (state, now_ms(), answer, receipt, reason, counted, weighed, lot_id, offer),
    )


async def _handoff_or_refuse(tx: Tx, offer: bytes) -> Handoff:
    try:
        return await get_handoff(tx, offer)
    except NotFound as exc:
        raise RuleBroken("a record about an offer this node does not know", code="unknown_offer") from exc


def _check_counts(manifest: set[str], body: LotReceipt) -> None:
    """Every manifest line is received or missing, and nothing else is."""
    listed = set(body.received) | set(body.missing)
    if listed != manifest:
        strange = sorted(listed - manifest)[:3]
        forgotten = sorted(manifest - listed)[:3]
        raise RuleBroken(
            "the receipt does not add up with the offer: "
            + (f"not offered {', '.join(strange)} " if strange else "")
            + (f"neither received nor missing {', '.join(forgotten)}" if forgotten else ""),
            code="bad_counts",
        )  # fmt: skip


async def _mark_outcomes(tx: Tx, body: LotReceipt, *, items_here: bool) -> None:
    """Every line received (the receipt was checked to cover the manifest), then the exceptions.

    ``items_here``: B's side, where the received lines now point at the items just made (by their gid).
    """
    if items_here:
        await tx.run("UPDATE handoff_items SET outcome = 'received', damaged = 0,"
                     " item_id = (SELECT i.id FROM items i WHERE i.gid = handoff_items.gid) WHERE offer = ?",
                     (body.offer,))  # fmt: skip
    else:
        await tx.run("UPDATE handoff_items SET outcome = 'received', damaged = 0 WHERE offer = ?", (body.offer,))
    missing = "outcome = 'missing', item_id = NULL" if items_here else "outcome = 'missing'"
    await tx.run_many(f"UPDATE handoff_items SET {missing} WHERE offer = ? AND gid = ?",
                      [(body.offer, g) for g in body.missing])  # fmt: skip
    await tx.run_many("UPDATE handoff_items SET damaged = 1 WHERE offer = ? AND gid = ?",
                      [(body.offer, g) for g in body.damaged])  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Manifest:
    items: dict[str, dict[str, Any]]  # gid: the manifest line
    orientations: list[str]


async def _manifest_lines(tx: Tx, offer: bytes) -> _Manifest:
    """B's side: the offer's manifest and orientations, from the signed offer (the lines kept here if not held)."""
    signed = await _content(tx, offer)
    if signed is None:
        return _Manifest({line.gid: line.line for line in await handoff_lines(tx, offer)}, [])
    return _Manifest({line["gid"]: line for line in signed["items"]}, signed.get("orientations", []))


async def _receive_lot(tx: Tx, handoff: Handoff, body: LotReceipt, orientations: list[str]) -> int:
    """The lot the received items belong to here: source ``handoff``, counted and weighed."""
    base = f"{handoff.lot_ref[:80]} ({node_id(handoff.peer)[:6]})"
    reference, n = base, 1
    while await tx.value("SELECT 1 FROM lots WHERE reference = ?", (reference,)):
        n += 1
        reference = f"{base} {n}"
    return await tx.run(
        "INSERT INTO lots (reference, source, declared_units, declared_weight_g, counted_units, weighed_g, received_on,"
        " orientations, created) VALUES (?, 'handoff', ?, ?, ?, ?, date('now'), ?, ?)",
        (reference, handoff.units, handoff.weight_g, body.units_counted, body.weight_g, json.dumps(orientations),
         now_ms()),
    )  # fmt: skip


# reading, for the command line and the pages --------------------------------
# (who may receive a lot, naming an offer or a node as people type them, the
# manifest with its outcomes, the preview of an offer, a lot's custody chain)

__all__ += [
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


async def _certificates(db: Reader) -> list[Membership]:
    """The membership certificates our active upstream signed, valid now, newest first."""
    upstream = [row[0] for row in await db.all("SELECT key FROM peers WHERE relation = 'upstream' AND state = 'active'")]
    now = now_ms()
    return [c for c in reversed(await certificates(db, upstream)) if c.valid_at(now)]


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
    for certificate in await _certificates(db):
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
        f"SELECT key, name FROM peers WHERE key IN ({_marks(list(wanted))})", list(wanted))}  # fmt: skip
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


async def _content(db: Reader, record_id: bytes | None) -> dict[str, Any] | None:
    if record_id is None:
        return None
    content = await db.value("SELECT content FROM log_records WHERE id = ?", (record_id,))
    return None if content is None else canonical.decode(content)


async def manifest(db: Reader, offer: bytes) -> list[ManifestLine]:
    """The offer's lines in the order they were offered (the signed offer's, else the lines kept here)."""
    body = await _content(db, offer)
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
    received_at: int | None
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
    body = await _content(db, offer) or {}
    answer = await _content(db, handoff.answer) or {}
    receipt = await _content(db, handoff.receipt) or {}
    offered_at, _kind = await _time_and_kind(db, offer)
    answered_at, answer_kind = await _time_and_kind(db, handoff.answer)
    received_at, _kind = await _time_and_kind(db, handoff.receipt)
    names = await node_names(db, [handoff.peer])
    return OfferDetails(
        handoff=handoff, peer_name=names.get(handoff.peer) or node_id(handoff.peer)[:12], note=body.get("note"),
        orientations=tuple(body.get("orientations", ())), donor_category=body.get("donor_category"),
        offered_at=offered_at, answered_at=answered_at, answer_kind=answer_kind, answer_note=answer.get("note"),
        received_at=received_at, receipt_note=receipt.get("note"), extra=tuple(receipt.get("extra", ())),
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
    rows = await _offerable(db, lot_id=lot_id, item_ids=item_ids or [])
    if lot_id is not None and not item_ids:
        left_out = await db.value(f"SELECT count(*) FROM items WHERE lot_id = ? AND state IN ({_TERMINAL_SQL})",
                                  (lot_id, *TERMINAL))  # fmt: skip
    lines = [PreviewLine(r["id"], r["gid"], r["asset_tag"], r["state"], r["category"], r["weight_g"],
                         _erasure_state(r, r["erased"]), r["serial"] or None, r["brand"] or None,
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
