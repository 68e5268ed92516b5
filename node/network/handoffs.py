"""Lot hand-offs between nodes: offer, accept or decline (or cancel), receipt (the fates that flow back: ``node.network.handoff_fates``).

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
``node.network.handoff_fates.fates_received``), idempotently since the inbox applies a record once. A
received record that breaks a rule (a receipt for an unknown offer, from
another node than the addressee, counts that do not add up) is refused by
its ``*_received`` function with a ``RuleBroken`` code; the federation keeps
the record (the author's log stays whole) but nothing changes here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from node.domain.erasure import needs_erasure, settle
from node.domain.fate_evidence import handoff_evidence, state_stock
from node.domain.happened import check_day, day_of, today
from node.domain.item_tags import keep_former_tags, keepable, offered_tags, printed_tag
from node.domain.items import Category, ItemInput, create_items, new_gid
from node.domain.memberships import Membership, certificates
from node.domain.states import TERMINAL
from node.errors import Invalid, NotFound, RuleBroken
from node.store.database import IN_ARRAY, Reader, Tx, as_array, now_ms
from node.validation import MAX_TIME_MS, Day, Id, Input
from protocol import canonical
from protocol.custody_kinds import LotOffer2, LotReceipt2, custody_time
from protocol.keys import node_id
from protocol.kinds import (
    ExtraItem,
    LotAccept,
    LotCancel,
    LotDecline,
    LotOffer,
    LotReceipt,
    NodeDescriptor,
)  # fmt: skip
from protocol.records import Record, stored_header

__all__ = [
    "OfferInput", "ReceiptInput", "ExtraInput", "Handoff", "HandoffLine", "create_offer", "answer_offer",
    "cancel_offer", "record_receipt", "offer_received", "answer_received", "receipt_received",
    "list_handoffs", "get_handoff", "handoff_lines", "OPEN", "take_delivery", "insert_handoff", "set_state",
    "NATIONAL_HOLDS_NO_LOTS",
    "TERMINAL_MARKS", "erasure_state", "marks", "offerable_rows", "held_certificates", "record_content",
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
    happened_on: Day | None = None  # the day the lot arrived (default today): signed as a lot.receipt/2


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
    rows = await offerable_rows(tx, lot_id=offer.lot_id, item_ids=offer.item_ids)
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
              "erasure": erasure_state(r, r["erased"]), "serial": r["serial"] or None,
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
    if isinstance(body, LotReceipt2) and body.received_on > latest_day(record.header.time).isoformat():
        raise RuleBroken(f"a lot received on {body.received_on}, after its receipt was signed",
                         code="unrealistic_value")  # fmt: skip
    if handoff.state in ("declined", "cancelled"):
        raise RuleBroken(f"a receipt for an offer that was {handoff.state}", code="not_open")
    again = handoff.state == "received"
    if again and handoff.receipt != record.id:
        return
    offered = {r[0]: (r[1], r[2]) for r in await tx.all(
        "SELECT h.gid, h.item_id, i.state FROM handoff_items h LEFT JOIN items i ON i.id = h.item_id WHERE h.offer = ?",
        (body.offer,))}  # fmt: skip
    if not again:
        _check_counts(set(offered), body)
        await _mark_outcomes(tx, body, items_here=False)
    from node.domain.workflow import move_items  # the single door to a new state

    # what arrived leaves here, unless it already left (an item's state moved on meanwhile)
    stay = [item_id for item_id, state in map(offered.__getitem__, body.received)
            if item_id is not None and state not in TERMINAL]  # fmt: skip
    # They left when the lot arrived, as the receipt says: a fate this node signs of them states that time, the
    # one a donor's bundle moves custody at (PROTOCOL.md, lot.receipt/2), even before an event this node entered late.
    time = arrival_time(record, body)
    if stay:
        # with the records the items' origin cannot read otherwise
        await move_items(tx, stay, "transferred", detail={"offer": body.offer.hex(), "receipt": record.id.hex(),
                         "to": node_id(record.header.author)}, fate={"to": record.header.author}, at=time,
                         handoff=True, evidence=await handoff_evidence(tx, body.offer, record))  # fmt: skip
    if not again:
        await set_state(tx, body.offer, "received", receipt=record.id, counted=body.units_counted,
                        weighed=body.weight_g)  # fmt: skip
        # what did not arrive stays in this node's custody: it says so, signed, to the node the items came from
        await state_stock(tx, [offered[gid][0] for gid in body.missing if offered[gid][0] is not None], "missing")


def latest_day(ms: int) -> date:
    """The latest calendar day anywhere at the instant ``ms`` (UTC+14): no lot arrived after it.

    An instant past 2100 (the protocol allows up to 2**63 ms, beyond any calendar) reads as 2100's
    last instant: every day a realistic receipt may state is before it, and nothing overflows.
    """
    return datetime.fromtimestamp(min(ms, MAX_TIME_MS) / 1000 + 14 * 3600, UTC).date()


def arrival_day(record: Record, body: LotReceipt) -> date:
    """The day a lot arrived: a ``lot.receipt/2``'s ``received_on``, else the day (in France) it was signed."""
    return date.fromisoformat(body.received_on) if isinstance(body, LotReceipt2) else day_of(record.header.time)


def arrival_time(record: Record, body: LotReceipt) -> int:
    """When custody moved: a ``lot.receipt/2``'s day (its noon UTC, never after the record), else the record's time."""
    return custody_time(record.header.time, body)


# B's side -------------------------------------------------------------------


async def offer_received(tx: Tx, record: Record, body: LotOffer) -> bool:
    """An offer addressed to this node: kept until someone accepts or declines it; ``False`` if known already."""
    if body.recipient != tx.author:
        raise RuleBroken("an offer addressed to another node", code="not_addressee")
    if await own_role(tx) == "national":  # a hub's own check stops such an offer; a hostile one is refused here
        raise RuleBroken(NATIONAL_HOLDS_NO_LOTS, code="national_holds_no_lots")
    if await tx.value("SELECT 1 FROM handoffs WHERE offer = ?", (record.id,)):
        return False
    await insert_handoff(tx, record, body, direction="in", peer=record.header.author, lot_id=None)
    lines = body.model_dump(include={"items"}, exclude_none=True)["items"]  # one call for the whole manifest
    await tx.run_many("INSERT INTO handoff_items (offer, gid, line) VALUES (?, ?, ?)",
                      [(record.id, line["gid"], _line_json(line)) for line in lines])  # fmt: skip
    return True


async def own_role(tx: Tx) -> str | None:
    """This node's role as its own latest signed descriptor states it (None before its first one)."""
    content = await tx.value("SELECT content FROM log_records WHERE author = ? AND kind = ? AND content IS NOT NULL"
                             " ORDER BY seq DESC LIMIT 1", (tx.author, NodeDescriptor.KIND))  # fmt: skip
    return None if content is None else canonical.decode(content).get("role")


_SKEW_MS = 10 * 60 * 1000  # clocks of two nodes may differ by this much


async def _not_signed_unread(tx: Tx, handoff: Handoff, kinds: tuple[str, ...]) -> None:
    """Refuse to sign what this node may have signed already and cannot read.

    A node restored from a backup takes its own records back; one that only
    readers could read comes back as a stub until a reader gives its
    content back (``federation.resync``). An answer or receipt to the
    offer's author held so, signed since the offer, may be this hand-off's:
    signing another could contradict it.
    """
    since = await tx.value("SELECT time FROM log_records WHERE id = ?", (handoff.offer,))
    rows = await tx.all(f"SELECT kind, envelope FROM log_records WHERE author = ? AND content IS NULL AND time >= ?"
                        f" AND kind IN ({', '.join('?' for _ in kinds)})",
                        (tx.author, (since or 0) - _SKEW_MS, *kinds))  # fmt: skip
    for kind, envelope in rows:
        if handoff.peer in stored_header(envelope).audience:
            raise RuleBroken(f"this node was restored from a backup and holds a {kind} it signed to"
                             f" {node_id(handoff.peer)} since this offer without its content: it may be this"
                             f" offer's; wait until that node gives it back, or ask it to withdraw the offer and"
                             f" make it again", code="signed_unread")  # fmt: skip


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
    await _not_signed_unread(tx, handoff, (LotAccept.KIND, LotDecline.KIND))
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
    await _not_signed_unread(tx, handoff, (LotReceipt.KIND, LotReceipt2.KIND))
    lines = await _manifest_lines(tx, offer)
    check_day(receipt.happened_on)
    # A lot that arrived on an earlier day (history entered later) is signed with its day, lot.receipt/2.
    earlier = receipt.happened_on if receipt.happened_on and receipt.happened_on != today() else None
    body = _body(
        LotReceipt2 if earlier else LotReceipt, offer=offer, received=receipt.received, missing=receipt.missing,
        damaged=receipt.damaged, extra=[ExtraItem(**e.model_dump(exclude_none=True)) for e in receipt.extra],
        units_counted=len(receipt.received) + len(receipt.extra), weight_g=receipt.weight_g, note=receipt.note,
        **({"received_on": earlier.isoformat()} if earlier else {}),
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
    arrived = arrival_day(record, body)
    lot_id = await _receive_lot(tx, handoff, body, lines.orientations, arrived)
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
                           offer=offer, since=arrival_time(record, body))  # fmt: skip
    # erasures done at A travel as its signed statement in the offer
    erased = [i for i, gid in zip(ids, body.received) if lines.items[gid].get("erasure") == "erased"]
    tool, evidence = f"maillon {node_id(handoff.peer)[:16]}", offer.hex()
    attested = arrival_time(record, body)  # known here from the day the lot arrived
    await tx.run_many(
        "INSERT INTO erasures (item_id, method, level, tool, result, time, evidence_sha256, source)"
        " VALUES (?, 'attested by the origin node', 'clear', ?, 'success', ?, ?, 'handoff')",
        [(i, tool, attested, evidence) for i in erased],
    )
    await settle(tx, erased, operator=operator)  # that statement is their proof here: they arrive erased
    await _mark_outcomes(tx, body, items_here=True)
    await set_state(tx, offer, "received", receipt=record.id, counted=body.units_counted, weighed=body.weight_g,
                     lot_id=lot_id)  # fmt: skip
    return lot_id


# helpers ----------------------------------------------------------------------

TERMINAL_MARKS = ", ".join("?" * len(TERMINAL))


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


def marks(values: list[Any]) -> str:
    return ", ".join("?" * len(values)) or "NULL"


_OFFERABLE = (
    "SELECT i.id, i.gid, i.asset_tag, i.state, i.category, i.weight_g, i.serial, i.donor_asset, i.brand, i.model,"
    " i.storage, i.lot_id, EXISTS (SELECT 1 FROM erasures e WHERE e.item_id = i.id AND e.result = 'success') AS erased,"
    " EXISTS (SELECT 1 FROM handoff_items h JOIN handoffs o ON o.offer = h.offer WHERE h.item_id = i.id"
    " AND o.direction = 'out' AND o.state IN ('offered', 'accepted')) AS busy FROM items i"
)  # fmt: skip


async def offerable_rows(db: Reader, *, lot_id: int | None, item_ids: list[int]) -> list[Any]:
    """The items an offer lists, with whether each is erased and already in an open offer.

    The items chosen, in their order (those that do not exist left out), else the lot's items still here.
    """
    if item_ids:
        rows = await db.all(f"{_OFFERABLE} WHERE i.id IN {IN_ARRAY}", (as_array(item_ids),))
        order = {item_id: n for n, item_id in enumerate(item_ids)}
        return sorted(rows, key=lambda r: order[r["id"]])
    if lot_id is None:
        return []
    return await db.all(f"{_OFFERABLE} WHERE i.lot_id = ? AND i.state NOT IN ({TERMINAL_MARKS}) ORDER BY i.id",
                        (lot_id, *TERMINAL))  # fmt: skip


def erasure_state(row: Any, erased: bool) -> Literal["erased", "not_applicable", "pending"]:
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
    if any(certificate.member == key for certificate in await held_certificates(tx)):
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
    signed = await record_content(tx, offer)
    if signed is None:
        return _Manifest({line.gid: line.line for line in await handoff_lines(tx, offer)}, [])
    return _Manifest({line["gid"]: line for line in signed["items"]}, signed.get("orientations", []))


async def _receive_lot(tx: Tx, handoff: Handoff, body: LotReceipt, orientations: list[str], arrived: date) -> int:
    """The lot the received items belong to here: source ``handoff``, counted and weighed, received ``arrived``
    (its items are received that day: ``create_items`` takes the lot's day)."""
    base = f"{handoff.lot_ref[:80]} ({node_id(handoff.peer)[:6]})"
    reference, n = base, 1
    while await tx.value("SELECT 1 FROM lots WHERE reference = ?", (reference,)):
        n += 1
        reference = f"{base} {n}"
    return await tx.run(
        "INSERT INTO lots (reference, source, declared_units, declared_weight_g, counted_units, weighed_g, received_on,"
        " orientations, created) VALUES (?, 'handoff', ?, ?, ?, ?, ?, ?, ?)",
        (reference, handoff.units, handoff.weight_g, body.units_counted, body.weight_g, arrived.isoformat(),
         json.dumps(orientations), now_ms()),
    )  # fmt: skip


async def held_certificates(db: Reader) -> list[Membership]:
    """The membership certificates our active upstream signed, valid now, newest first."""
    upstream = [row[0] for row in await db.all("SELECT key FROM peers WHERE relation = 'upstream' AND state = 'active'")]
    now = now_ms()
    return [c for c in reversed(await certificates(db, upstream)) if c.valid_at(now)]


async def record_content(db: Reader, record_id: bytes | None) -> dict[str, Any] | None:
    if record_id is None:
        return None
    content = await db.value("SELECT content FROM log_records WHERE id = ?", (record_id,))
    return None if content is None else canonical.decode(content)
