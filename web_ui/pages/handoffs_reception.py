"""The reception screen of an accepted offer: tick what arrived, weigh it, read the gaps, confirm.

``GET /handoffs/{offer}/reception`` lists the manifest with a box per line
(none ticked: each is ticked as it is found), a "damaged" box, a field a
label is scanned or typed into (the label printed by the node that offered,
a global id, the label's URL ``…/i/<gid>``, a serial or the donor's asset
number; ``handoffs.js`` ticks the line at once, and with a phone camera
where the browser can read QR codes), the choice to keep the printed labels
(``node.domain.item_tags``), rows for items that arrived without being listed, the
weight on the scale. Lines are named by their printed label, model and
serial, not by their global id.

``POST …/summary`` reads all that (without JavaScript the scan field posts
here too, and the page comes back with the line ticked) and shows the
discrepancy summary: counted against declared units and weight, the missing
list, the damaged, the extras. Its confirmation form carries exactly what
will be signed to ``POST …/receipt`` (``node.network.handoffs.record_receipt``);
the unticked lines are missing. Technicians record receptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Callable

from aiohttp import web
from pydantic import ValidationError

from node.categories import DEFAULT_WEIGHT_G
from node.domain import happened, item_tags
from node.domain.settings import get_setting
from node.errors import DomainError, Invalid, NotFound
from node.network import handoff_views, handoffs
from node.validation import EARLIEST, parse
from web_ui.auth import requires
from web_ui.i18n import Formats
from web_ui.keys import STORE
from web_ui.labels import CATEGORY_NAMES
from web_ui.pages.catalogue_lots import weight_gap_text
from web_ui.pages.handoffs import OFFER, not_found, offer_of, refusal_of, render, tr, wake_federation
from web_ui.pages.workshop_common import Refusal, decimal_units, see_other, status_of
from web_ui.render import LANGUAGE, SESSION

__all__ = ["routes", "Counting", "read_counting"]

routes = web.RouteTableDef()
BLANK_EXTRAS = 2
MAX_EXTRAS = 500
MAX_SCANNED = 500
_GID_CHARS = frozenset("0123456789abcdef-")


def _(text: str) -> str:
    return text


@dataclass(slots=True)
class Extra:
    """An item that arrived without being in the manifest, as typed (``weight`` in kg) and read."""

    category: str = ""
    weight: str = ""
    serial: str = ""
    weight_g: int | None = None


@dataclass(slots=True)
class Counting:
    """What the reception form says: the lines ticked, the damaged, the extras, the weight."""

    received: list[str] = field(default_factory=list)  # global ids, in the manifest's order
    damaged: list[str] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    weight: str = ""
    weight_g: int | None = None
    note: str = ""
    problems: list[str] = field(default_factory=list)  # what prevents confirming, in French
    scanned: list[str] = field(default_factory=list)  # what the scan field did, in French
    keep_tags: bool = False  # each item received keeps its printed label, where none here clashes
    happened_on: str = ""  # the day the lot arrived (YYYY-MM-DD), for a reception entered afterwards; "": today


@dataclass(frozen=True, slots=True)
class Summary:
    declared_units: int
    counted_units: int
    declared_weight_g: int
    weighed_g: int | None
    arrived_declared_g: int  # what the ticked lines and the extras should weigh, by the manifest
    missing: list[handoff_views.ManifestLine]
    damaged: list[handoff_views.ManifestLine]
    extras: list[Extra]
    unit_gap: str
    weight_gap: str
    kept_tags: int = 0  # with keep_tags: the items received that keep their printed label
    relabelled: list[handoff_views.ManifestLine] = field(default_factory=list)  # and those that get a label of ours


def _texts(form: Any, name: str, limit: int = handoffs.MAX_ITEMS) -> list[str]:
    return [v.strip() for v in form.getall(name, [])[:limit] if isinstance(v, str)]


def _text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def read_counting(form: Any, lines: list[handoff_views.ManifestLine], translate: Callable[..., str]) -> Counting:
    """The reception form read against the manifest; wrong values become French problems."""
    _ = translate
    known = {line.gid for line in lines}
    ticked, damaged = set(_texts(form, "received")), set(_texts(form, "damaged"))
    counting = Counting(weight=_text(form, "weight_kg")[:30], note=_text(form, "note"),
                        keep_tags=_text(form, "keep_tags") == "1")  # fmt: skip
    scan = _text(form, "scan")[:4000]
    if scan:
        codes = [scan] if handoff_views.find_lines(lines, scan) else scan.split()
        for code in codes[:MAX_SCANNED]:
            found = handoff_views.find_lines(lines, code)
            if len(found) == 1:
                ticked.add(found[0])
                counting.scanned.append(_("Ticked: {code}.", code=code))
            elif not found:
                counting.scanned.append(_("“{code}” is not in this offer.", code=code))
            else:
                counting.scanned.append(_("“{code}” names several items: scan their label or type the global id.",
                                          code=code))  # fmt: skip
    strange = (ticked | damaged) - known
    if strange:
        counting.problems.append(
            _("{count} ticked item(s) are not in this offer (the page was out of date): tick again.", count=len(strange)))
    counted_damaged = (damaged - ticked) & known
    if counted_damaged:
        counting.scanned.append(_("{count} item(s) marked damaged were not ticked: they are counted as received.",
                                  count=len(counted_damaged)))  # fmt: skip
    ticked |= damaged & known
    counting.received = [line.gid for line in lines if line.gid in ticked]
    counting.damaged = [line.gid for line in lines if line.gid in damaged]
    rows = zip(_texts(form, "extra_category", MAX_EXTRAS), _texts(form, "extra_weight_kg", MAX_EXTRAS),
               _texts(form, "extra_serial", MAX_EXTRAS))  # fmt: skip
    for number, (category, weight, serial) in enumerate(rows, start=1):
        if not (category or weight or serial):
            continue
        extra = Extra(category, weight[:30], serial[:500])
        if category not in CATEGORY_NAMES:
            counting.problems.append(_("Item not listed no. {n}: choose its category.", n=number))
        try:
            extra.weight_g = decimal_units(weight, 1000, high=10**9)
        except ValueError:
            counting.problems.append(_("Item not listed no. {n}: write its weight in kg, such as 4,5.", n=number))
        else:
            if extra.weight_g is None and category in DEFAULT_WEIGHT_G:
                extra.weight_g = DEFAULT_WEIGHT_G[category]
            elif extra.weight_g is None:
                counting.problems.append(_("Item not listed no. {n}: write its weight in kg, such as 4,5.", n=number))
        counting.extras.append(extra)
    try:
        counting.weight_g = decimal_units(counting.weight, 1000, high=10**12)
    except ValueError:
        counting.problems.append(_("Weight on the scale: write kilograms, such as 21,5."))
    if len(counting.note) > 500:
        counting.problems.append(_("The note is too long (at most 500 characters)."))
    counting.happened_on = _text(form, "happened_on")[:10]
    problem = _arrival_problem(counting.happened_on, _)
    if problem:
        counting.problems.append(problem)
    return counting


def _arrival_problem(text: str, _: Callable[..., str]) -> str | None:
    """What is wrong with the day of arrival as entered, in the person's words (None: nothing, or empty)."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _("Date of arrival: choose a day in the calendar.")
    if day > happened.today():
        return _("Date of arrival: the day is in the future. Give the day the lot arrived, today at the latest.")
    if day < EARLIEST:
        return _("Date of arrival: a day from 1980 on.")
    return None


def _signed(gap: int, translate: Callable[..., str], fmt: Formats) -> str:
    """A units gap as "+2" or "−1": missing lines and extras may make it up, so never "1 missing"."""
    if gap == 0:
        return translate("as declared")
    return ("+" if gap > 0 else "\u2212") + fmt.number(abs(gap))


def summarise(handoff: handoffs.Handoff, lines: list[handoff_views.ManifestLine], counting: Counting,
              translate: Callable[..., str], fmt: Formats) -> Summary:  # fmt: skip
    received, damaged = set(counting.received), set(counting.damaged)
    counted = len(received) + len(counting.extras)
    arrived = sum(line.weight_g for line in lines if line.gid in received)
    arrived += sum(extra.weight_g or 0 for extra in counting.extras)
    weighed = counting.weight_g
    return Summary(
        declared_units=handoff.units, counted_units=counted, declared_weight_g=handoff.weight_g, weighed_g=weighed,
        arrived_declared_g=arrived, missing=[line for line in lines if line.gid not in received],
        damaged=[line for line in lines if line.gid in damaged], extras=counting.extras,
        unit_gap=_signed(counted - handoff.units, translate, fmt),
        weight_gap=weight_gap_text(None if weighed is None else weighed - handoff.weight_g, translate, fmt),
    )  # fmt: skip


async def _screen(request: web.Request, offer: bytes, counting: Counting | None = None, *, status: int = 200,
                  summary: bool = False, refused: Refusal | None = None, after_scan: bool = False) -> web.Response:  # fmt: skip
    _ = tr(request)
    async with request.app[STORE].reader() as db:
        try:
            details = await handoff_views.offer_details(db, offer)
        except NotFound:
            return not_found(request)
        lines = await handoff_views.manifest(db, offer)
    handoff = details.handoff
    counting = counting or Counting()
    open_here = handoff.direction == "in" and handoff.state == "accepted"
    shown = None
    if summary and open_here:
        if counting.weight_g is None and not counting.weight:  # a wrong weight is already named
            counting.problems.append(_("Weigh what arrived and write the weight on the scale."))
        shown = summarise(handoff, lines, counting, _, Formats(request.get(LANGUAGE, "fr")))
        if counting.keep_tags:
            received = [line for line in lines if line.gid in set(counting.received) and line.printed_tag]
            async with request.app[STORE].reader() as db:
                kept = await item_tags.keepable(db, [line.printed_tag for line in received if line.printed_tag])
            shown = replace(shown, kept_tags=sum(line.printed_tag in kept for line in received),
                            relabelled=[line for line in received if line.printed_tag not in kept])  # fmt: skip
    async with request.app[STORE].reader() as db:
        example = f"{await get_setting(db, 'asset_prefix')}-000123"
    session = request.get(SESSION)
    may = bool(session and session.user.may("technician"))
    blanks = [Extra() for _n in range(BLANK_EXTRAS)]
    return render(
        request, "handoffs/reception.html", status=status, details=details, handoff=handoff, lines=lines,
        counting=counting, ticked=set(counting.received), damaged=set(counting.damaged),
        extra_rows=[*counting.extras, *blanks], summary=shown, refused=refused, open_here=open_here,
        may_receive=may and open_here, confirmable=bool(shown and not counting.problems and may),
        after_scan=after_scan, missing_gids=[line.gid for line in lines if line.gid not in set(counting.received)],
        own_tag_example=example, today=happened.today().isoformat(),
        arrived_on=date.fromisoformat(counting.happened_on) if counting.happened_on and shown else None,
    )  # fmt: skip


@routes.get(OFFER + "/reception")
async def reception(request: web.Request) -> web.Response:
    """The manifest to tick, nothing ticked yet."""
    return await _screen(request, offer_of(request))


@routes.post(OFFER + "/summary")
@requires("technician")
async def reception_summary(request: web.Request) -> web.Response:
    """The form read back: a scanned code ticked (``action=scan``), every line ticked or unticked
    (``action=tick_all``, ``untick_all``: the button a phone shows, without JavaScript), or the discrepancy summary."""
    _ = tr(request)
    offer = offer_of(request)
    form = await request.post()
    async with request.app[STORE].reader() as db:
        try:
            lines = await handoff_views.manifest(db, offer)
        except NotFound:
            return not_found(request)
    counting = read_counting(form, lines, _)
    action = _text(form, "action")
    if action in ("tick_all", "untick_all"):  # the « Tick all » button without JavaScript: back to the list
        counting.received = [line.gid for line in lines] if action == "tick_all" else []
        counting.damaged = [] if action == "untick_all" else counting.damaged
        return await _screen(request, offer, counting)
    scanning = action == "scan"
    return await _screen(request, offer, counting, summary=not scanning, after_scan=scanning)


def _whole(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 13 else None


def _receipt(form: Any) -> tuple[handoffs.ReceiptInput, Counting]:
    """The confirmation form: what the summary showed, to be signed as it is."""
    counting = Counting(received=_texts(form, "received"), damaged=_texts(form, "damaged"), note=_text(form, "note"),
                        keep_tags=_text(form, "keep_tags") == "1", happened_on=_text(form, "happened_on")[:10])  # fmt: skip
    counting.weight_g = _whole(_text(form, "weight_g"))
    counting.weight = "" if counting.weight_g is None else f"{counting.weight_g / 1000:g}".replace(".", ",")
    missing = _texts(form, "missing")
    extras = []
    rows = zip(*(_texts(form, name, MAX_EXTRAS) for name in ("extra_category", "extra_weight_g", "extra_serial")))
    for category, grams, serial in rows:
        weight = _whole(grams)
        counting.extras.append(Extra(category, "" if weight is None else f"{weight / 1000:g}".replace(".", ","),
                                     serial, weight))  # fmt: skip
        extras.append({"category": category, "weight_g": weight, **({"serial": serial} if serial else {})})
    if set(counting.received) & set(missing) or not set(counting.damaged) <= set(counting.received):
        raise Invalid("an item is both received and missing, or damaged without being received", code="invalid")
    if any(e["category"] not in CATEGORY_NAMES for e in extras):
        raise Invalid("extra: unknown category", code="invalid")
    receipt = parse(handoffs.ReceiptInput, {
        "received": counting.received, "missing": missing, "damaged": counting.damaged, "extra": extras,
        "weight_g": counting.weight_g, "note": counting.note or None, "keep_tags": counting.keep_tags,
        "happened_on": counting.happened_on or None,
    })  # fmt: skip
    return receipt, counting


@routes.post(OFFER + "/receipt")
@requires("technician")
async def record_receipt(request: web.Request) -> web.Response:
    """Sign the receipt: the items received come into this node's custody, in a new lot."""
    _ = tr(request)
    offer = offer_of(request)
    form = await request.post()
    counting = None
    try:
        receipt, counting = _receipt(form)
        async with request.app[STORE].transaction() as tx:
            await handoffs.record_receipt(tx, offer, receipt, operator=_username(request))
    except NotFound:
        return not_found(request)
    except ValidationError as exc:  # a body the protocol refuses, should the domain let one through
        invalid = Invalid(str(exc.errors()[0]["msg"]), code="invalid")
        return await _screen(request, offer, counting, status=422, refused=refusal_of(_, invalid))
    except DomainError as exc:
        if counting is None:
            counting = Counting(received=[g for g in _texts(form, "received") if set(g) <= _GID_CHARS])
        return await _screen(request, offer, counting, status=status_of(exc), refused=refusal_of(_, exc))
    wake_federation(request)
    return see_other(f"/handoffs/{offer.hex()}?done=received")


def _username(request: web.Request) -> str | None:
    session = request.get(SESSION)
    return session.user.username if session else None
