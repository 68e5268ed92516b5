"""Lot hand-offs between nodes: the list, offering a lot, answering or withdrawing an offer.

- ``/handoffs``: the offers made to this node and by it, with their state.
- ``/handoffs/new?lot_id=N``: "Céder ce lot" from the lot page: choose the
  node (a peer, a member our hub certified, a peered network's hub, each
  with its fingerprint), review the manifest (units, weight, erasure
  states, items still to erase flagged), confirm (``POST /handoffs``).
- ``/handoffs/{offer}``: one hand-off, its manifest and, as the case may
  be, Accept / Decline (an offer made to us), Cancel (ours, not accepted
  yet), or the link to the reception screen (``handoffs_reception``).

Offering, answering and cancelling commit the association to another one:
administrators only. Everything is read through ``node.network.handoffs``; every
refusal is shown in French by the domain's code, with its English detail
below, and changes nothing. What is signed leaves when the federation runs
(woken at once when it runs in this process).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from node.domain.lots import get_lot
from node.errors import DomainError, Invalid, NotFound
from node.network import handoff_views, handoffs
from node.store.database import Reader
from node.validation import parse
from protocol.keys import fingerprint
from web_ui.auth import requires
from web_ui.i18n import translator
from web_ui.keys import FEDERATION, NODE, STORE
from web_ui.labels import CATEGORY_NAMES, ORIENTATIONS
from web_ui.pages.workshop_common import Refusal, as_id, ids_from, see_other, status_of
from web_ui.render import LANGUAGE, page

__all__ = [
    "routes", "OFFER", "STATE_NAMES", "ERASURE_NAMES", "REFUSALS", "offer_of", "render", "refusal_of",
    "wake_federation", "state_of",
]  # fmt: skip

routes = web.RouteTableDef()
OFFER = "/handoffs/{offer:[0-9a-f]{64}}"


def _(text: str) -> str:
    return text


# node.network.handoffs.Handoff.state, and "expired" for an offer past its date that nobody answered
STATE_NAMES: dict[str, str] = {
    "offered": _("offered"),
    "accepted": _("accepted"),
    "declined": _("declined"),
    "cancelled": _("cancelled"),
    "received": _("received"),
    "expired": _("expired"),
}
# protocol.kinds.OfferedItem.erasure
ERASURE_NAMES: dict[str, str] = {
    "erased": _("erased"),
    "not_applicable": _("holds no data"),
    "pending": _("erasure pending"),
}
RELATION_NAMES: dict[str, str] = {
    "upstream": _("our hub"),
    "downstream": _("a member of our network"),
    "peer": _("the hub of a peered network"),
    "member": _("a member of our network, certified by our hub"),
}
# Codes a decline or a cancel gives; the other node shows them in its own words.
DECLINE_REASONS: dict[str, str] = {
    "no_room": _("no room to store it"),
    "not_needed": _("we do not need this equipment"),
    "no_transport": _("we cannot carry it"),
    "declined": _("another reason (see the note)"),
}
CANCEL_REASONS: dict[str, str] = {
    "no_transport": _("the transport fell through"),
    "given_elsewhere": _("the lot went elsewhere"),
    "mistake": _("offered by mistake"),
    "cancelled": _("another reason"),
}
REASON_NAMES = {**DECLINE_REASONS, **CANCEL_REASONS}
# node.network.handoffs' refusal codes, in the volunteers' words
REFUSALS: dict[str, str] = {
    "unknown_node": _("This node is neither a peer nor a member of this node's network: it cannot be offered a lot."),
    "not_peered": _("No peering convention is in force with this node's network: the hubs must sign one first."),
    "revoked_key": _("This node's key was revoked: nothing is handed to it."),
    "national_holds_no_lots": _("The national federation holds no lots: it reads the hubs' summaries. Offer the lot to a member or a peered network."),
    "own_key": _("That is this node itself."),
    "empty_offer": _("Nothing to offer: every item of this lot already has its fate."),
    "not_in_stock": _("Some items are no longer in stock here (distributed, recycled or transferred)."),
    "already_offered": _("Some items are already in another open offer: wait for its answer, or cancel it."),
    "unknown_lot": _("This lot does not exist (any more)."),
    "unknown_item": _("An item offered does not exist (any more)."),
    "unknown_offer": _("This hand-off does not exist here."),
    "not_yours": _("This node cannot do that with this offer: only the node offered a lot answers it, only the node that offered cancels it."),
    "not_open": _("This offer is no longer open: it was already answered, cancelled or received."),
    "expired": _("This offer has expired: ask the other node to offer the lot again."),
    "bad_counts": _("The receipt does not add up with the offer: every item of the list must be either received or missing, and nothing else. Nothing was recorded."),
    "duplicate_item": _("An item of this offer is already held here. Nothing was recorded."),
    "signed_unread": _("This node was restored from a backup and may have answered this offer already: it is getting that answer back from the other node. Try again in a few minutes; if it stays refused, ask the other node to cancel the offer and make it again."),
    "not_in_offer": _("A code scanned or typed names no item of this offer."),
    "bad_fingerprint": _("Choose the node in the list."),
    "ambiguous_node": _("Several nodes match: choose the node in the list."),
    "not_found": _("Something this form names does not exist (any more)."),
    "invalid": _("The form was refused: a field is missing or has a wrong value. Nothing was recorded."),
    "future_date": _("The date of arrival is in the future: give the day the lot arrived, today at the latest. Nothing was recorded."),
}  # fmt: skip
REFUSED = _("The action was refused. Nothing was changed.")
DONE: dict[str, str] = {
    "offered": _("The offer was signed; it is sent to the other node, which accepts or declines it."),
    "accepted": _("You accepted the offer: the node that offered is told. Record the reception when the lot arrives."),
    "declined": _("You declined the offer: the node that offered is told."),
    "cancelled": _("The offer was cancelled: the other node is told, and the items are free again."),
    "received": _("The reception was recorded: the items are in this node's custody, and the node that offered is told."),
}  # fmt: skip


def state_of(handoff: handoffs.Handoff) -> str:
    return "expired" if handoff.expired() else handoff.state


def tr(request: web.Request) -> Callable[..., str]:
    return translator(request.get(LANGUAGE, "fr"))


def refusal_of(translate: Callable[..., str], exc: DomainError, *named: str) -> Refusal:
    """The French refusal of a domain error (the English detail kept apart)."""
    return Refusal((translate(REFUSALS.get(exc.code, REFUSED)), *named), exc.message)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A hand-off template, with the display names of the codes it shows."""
    names = {
        "state_names": STATE_NAMES, "erasure_names": ERASURE_NAMES, "relation_names": RELATION_NAMES,
        "category_names": CATEGORY_NAMES, "orientation_names": ORIENTATIONS, "reason_names": REASON_NAMES,
        "state_of": state_of, "fingerprint": fingerprint,
    }  # fmt: skip
    return page(request, template, status=status, **{**names, **context})


def offer_of(request: web.Request) -> bytes:
    return bytes.fromhex(request.match_info["offer"])


def wake_federation(request: web.Request) -> None:
    """What was just signed leaves now rather than at the federation's next look."""
    fed = request.app.get(FEDERATION)
    if fed is not None:
        fed.wake()


def not_found(request: web.Request) -> web.Response:
    _ = tr(request)
    return page(request, "catalogue/not_found.html", status=404, message=_("This hand-off does not exist here."))


# --- the list ------------------------------------------------------------------------------------


@routes.get("/handoffs")
async def handoff_list(request: web.Request) -> web.Response:
    """Offers made to this node (those waiting for an answer first) and offers it made."""
    async with request.app[STORE].reader() as db:
        incoming = await handoffs.list_handoffs(db, direction="in")
        outgoing = await handoffs.list_handoffs(db, direction="out")
        names = await handoff_views.node_names(db, [h.peer for h in (*incoming, *outgoing)])
    waiting = [h for h in incoming if h.state in handoffs.OPEN and not h.expired()]
    return render(request, "handoffs/index.html", incoming=[*waiting, *(h for h in incoming if h not in waiting)],
                  outgoing=outgoing, names=names)  # fmt: skip


# --- offering a lot ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """What the offer form holds: the lot (or items), the node, the days, the note."""

    lot_id: int | None
    item_ids: list[int]
    to: str
    days: str
    note: str
    share_donor_asset: bool

    def days_value(self) -> int | None:
        value = as_id(self.days)
        return value if value is not None and value <= 90 else None


def _choice(data: Any) -> Choice:
    item_ids, _bad = ids_from(data.getall("item_id", []))
    return Choice(
        lot_id=as_id(data.get("lot_id", "")), item_ids=item_ids, to=str(data.get("to", "")).strip()[:100],
        days=str(data.get("days", "14")).strip()[:3] or "14", note=str(data.get("note", "")).strip(),
        share_donor_asset=str(data.get("share_donor_asset", "")) == "1",
    )  # fmt: skip


async def _recipient(db: Reader, own: bytes, text: str) -> handoff_views.Recipient | None:
    if not text:
        return None
    try:
        return await handoff_views.resolve_node(db, own, text)
    except DomainError:
        return None


async def _offer_page(request: web.Request, choice: Choice, *, status: int = 200,
                      refused: Refusal | None = None) -> web.Response:  # fmt: skip
    _ = tr(request)
    own = request.app[NODE].key.public.raw
    notes: list[str] = []
    async with request.app[STORE].reader() as db:
        candidates = await handoff_views.recipients(db, own)
        chosen = await _recipient(db, own, choice.to)
        try:
            preview = await handoff_views.preview_offer(db, lot_id=choice.lot_id, item_ids=choice.item_ids or None)
        except NotFound:
            return page(request, "catalogue/not_found.html", status=404, message=_("This lot does not exist."))
    if choice.to and chosen is None:
        notes.append(_("Choose the node in the list."))
    if choice.days_value() is None:
        notes.append(_("The offer is valid from 1 to 90 days."))
    if len(choice.note) > 500:
        notes.append(_("The note is too long (at most 500 characters)."))
    reviewing = chosen is not None and not notes
    return render(
        request, "handoffs/new.html", status=status, choice=choice, candidates=candidates, chosen=chosen,
        preview=preview, notes=notes, reviewing=reviewing, refused=refused,
        confirmable=reviewing and bool(preview.lines) and not preview.busy,
    )  # fmt: skip


@routes.get("/handoffs/new")
async def new_offer(request: web.Request) -> web.Response:
    """Choose the node, then review the manifest (the same page, with ``to``), then confirm."""
    choice = _choice(request.query)
    if choice.lot_id is None and not choice.item_ids:
        raise web.HTTPSeeOther("/lots")
    return await _offer_page(request, choice)


@routes.post("/handoffs")
@requires("admin")
async def make_offer(request: web.Request) -> web.Response:
    """Sign the offer (``node.network.handoffs.create_offer``) and go to its page."""
    _ = tr(request)
    choice = _choice(await request.post())
    own = request.app[NODE].key.public.raw
    try:
        async with request.app[STORE].transaction() as tx:
            recipient = await handoff_views.resolve_node(tx, own, choice.to)
            offer = parse(handoffs.OfferInput, {
                "recipient": recipient.key, "lot_id": choice.lot_id, "item_ids": choice.item_ids,
                "expires_days": choice.days_value() or 0, "note": choice.note or None,
                "share_donor_asset": choice.share_donor_asset,
            })  # fmt: skip
            record = await handoffs.create_offer(tx, offer)
    except DomainError as exc:
        return await _offer_page(request, choice, status=status_of(exc), refused=refusal_of(_, exc))
    wake_federation(request)
    return see_other(f"/handoffs/{record.id.hex()}?done=offered")


# --- one hand-off --------------------------------------------------------------------------------


async def offer_page(request: web.Request, offer: bytes, *, status: int = 200, refused: Refusal | None = None,
                     form: str | None = None, entered: dict[str, str] | None = None) -> web.Response:  # fmt: skip
    _ = tr(request)
    async with request.app[STORE].reader() as db:
        try:
            details = await handoff_views.offer_details(db, offer)
        except NotFound:
            return not_found(request)
        lines = await handoff_views.manifest(db, offer)
        lot = details.handoff.lot_id
        lot_ref = (await get_lot(db, lot)).reference if lot else None
    code = request.query.get("done", "")
    flashes = [("ok", _(DONE[code]))] if code in DONE and status == 200 else []
    return render(
        request, "handoffs/offer.html", status=status, details=details, handoff=details.handoff, lines=lines,
        lot_ref=lot_ref, refused=refused, form=form, entered=entered or {}, flashes=flashes,
        decline_reasons=DECLINE_REASONS, cancel_reasons=CANCEL_REASONS,
        pending=sum(line.erasure == "pending" for line in lines),
    )  # fmt: skip


@routes.get(OFFER)
async def show_offer(request: web.Request) -> web.Response:
    return await offer_page(request, offer_of(request))


def _form_text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


async def _answer(request: web.Request, *, accept: bool) -> web.Response:
    _ = tr(request)
    offer = offer_of(request)
    form = await request.post()
    entered = {"note": _form_text(form, "note"), "reason": _form_text(form, "reason")}
    try:
        reason = entered["reason"] or "declined"
        if not accept and reason not in DECLINE_REASONS:
            raise Invalid(f"reason: choose one of {', '.join(DECLINE_REASONS)}", code="invalid")
        if len(entered["note"]) > 500:
            raise Invalid("note: at most 500 characters", code="invalid")
        async with request.app[STORE].transaction() as tx:
            await handoffs.answer_offer(tx, offer, accept=accept, reason=reason, note=entered["note"] or None)
    except NotFound:
        return not_found(request)
    except DomainError as exc:
        return await offer_page(request, offer, status=status_of(exc), refused=refusal_of(_, exc),
                                form="accept" if accept else "decline", entered=entered)  # fmt: skip
    wake_federation(request)
    return see_other(f"/handoffs/{offer.hex()}?done={'accepted' if accept else 'declined'}")


@routes.post(OFFER + "/accept")
@requires("admin")
async def accept_offer(request: web.Request) -> web.Response:
    """Accept an offer made to this node: the lot will come here."""
    return await _answer(request, accept=True)


@routes.post(OFFER + "/decline")
@requires("admin")
async def decline_offer(request: web.Request) -> web.Response:
    """Decline it, with a reason the other node reads."""
    return await _answer(request, accept=False)


@routes.post(OFFER + "/cancel")
@requires("admin")
async def cancel_offer(request: web.Request) -> web.Response:
    """Withdraw an offer this node made, while it is not accepted."""
    _ = tr(request)
    offer = offer_of(request)
    form = await request.post()
    reason = _form_text(form, "reason") or "cancelled"
    try:
        if reason not in CANCEL_REASONS:
            raise Invalid(f"reason: choose one of {', '.join(CANCEL_REASONS)}", code="invalid")
        async with request.app[STORE].transaction() as tx:
            await handoffs.cancel_offer(tx, offer, reason)
    except NotFound:
        return not_found(request)
    except DomainError as exc:
        return await offer_page(request, offer, status=status_of(exc), refused=refusal_of(_, exc), form="cancel",
                                entered={"reason": reason})  # fmt: skip
    wake_federation(request)
    return see_other(f"/handoffs/{offer.hex()}?done=cancelled")
