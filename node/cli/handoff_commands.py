"""``maillon handoff ...``: hand a lot to another node, answer an offer, record what arrived.

Each command acts on the node's database (``node.network.handoffs``) and signs its
record there; the running node (``maillon run``) sends it to the other
node. OFFER is the offer's record id in hex, or a unique start of it (8 hex
digits at least), as ``maillon handoff list`` prints it.

Exit codes, as for every command: 0 done, 1 refused (the domain's code and
reason on standard error; nothing was changed), 2 wrong arguments.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from node.cli.commands import with_store
from node.cli.handoff_args import STATES, extra, grams, register  # noqa: F401  (re-exported)
from node.config import Node
from node.domain.items import item_id_by_tag
from node.domain.lots import get_lot, lot_id_by_reference
from node.errors import ConfigError, DomainError, Invalid
from node.network import handoff_views, handoffs
from node.store.database import Store
from node.validation import parse
from protocol.keys import fingerprint

__all__ = ["register"]  # (the arguments: node.cli.handoff_args)

T = TypeVar("T")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_NOTE_MAX = 500


def _note(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > _NOTE_MAX:
        raise Invalid(f"a note is at most {_NOTE_MAX} characters", code="invalid")
    return text or None


def _code(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    if not _CODE.match(text):
        raise Invalid(f"{what} is a code: lowercase letters, digits and _, e.g. no_room", code="invalid")
    return text


def _act(args: argparse.Namespace, action: Callable[[Node, Store], Awaitable[T]]) -> T | None:
    """Run ``action``; a refusal is printed with its code, and ``None`` returned (exit status 1)."""
    try:
        return with_store(args, action)
    except DomainError as exc:
        print(f"maillon: refused ({exc.code}): {exc.message}", file=sys.stderr)
        return None
    except ValidationError as exc:  # a record body the protocol refuses (checked here first where possible)
        first = exc.errors()[0]
        print(f"maillon: refused (invalid): {first['msg']}", file=sys.stderr)
        return None


def _day(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d") if ms else "-"


def _kg(grams_: int | None) -> str:
    return "-" if grams_ is None else f"{grams_ / 1000:.1f} kg"


# commands ----------------------------------------------------------------------------------------


def offer_command(args: argparse.Namespace) -> int:
    note = _note(args.note)

    async def act(node: Node, store: Store) -> tuple[handoff_views.Recipient, handoff_views.OfferDetails, int]:
        async with store.transaction() as tx:
            recipient = await handoff_views.resolve_node(tx, tx.author, args.to)
            lot_id = await lot_id_by_reference(tx, args.lot) if args.lot else None
            item_ids = [await item_id_by_tag(tx, tag) for tag in args.items or []]
            offer = parse(handoffs.OfferInput, {
                "recipient": recipient.key, "lot_id": lot_id, "item_ids": item_ids, "expires_days": args.days,
                "note": note, "share_donor_asset": args.share_donor_asset,
            })  # fmt: skip
            record = await handoffs.create_offer(tx, offer)
            details = await handoff_views.offer_details(tx, record.id)
            pending = sum(line.erasure == "pending" for line in await handoff_views.manifest(tx, record.id))
        return recipient, details, pending

    done = _act(args, act)
    if done is None:
        return 1
    recipient, details, pending = done
    handoff = details.handoff
    print(f"offer {handoff.offer.hex()}")
    print(f"  {handoff.lot_ref}: {handoff.units} items, {_kg(handoff.weight_g)}, to {recipient.name}"
          f" ({recipient.fingerprint}); expires {_day(handoff.expires)}")  # fmt: skip
    if pending:
        print(f"  {pending} items not erased yet: the manifest says so; {recipient.name} will erase them")
    print("it is sent when the node runs (`maillon run`); `maillon handoff list --out` shows the answer")
    return 0


def list_command(args: argparse.Namespace) -> int:
    async def act(node: Node, store: Store) -> tuple[list[handoffs.Handoff], dict[bytes, str]]:
        async with store.reader() as db:
            found = await handoffs.list_handoffs(db, direction=args.direction, state=args.state)
            return found, await handoff_views.node_names(db, [h.peer for h in found])

    found, names = with_store(args, act)
    if not found:
        print(" ".join(["no hand-off", *(x for x in (args.direction, args.state) if x)]))
        return 0
    for h in found:
        state = "expired" if h.expired() else h.state
        arrow = "to" if h.direction == "out" else "from"
        counted = f"; counted {h.units_counted}, weighed {_kg(h.weighed_g)}" if h.state == "received" else ""
        print(f"{h.offer.hex()[:16]}  {h.direction:<3}  {state:<9}  {h.lot_ref}")
        print(f"    {arrow} {names.get(h.peer) or '?'} ({fingerprint(h.peer)}); {h.units} items, {_kg(h.weight_g)};"
              f" made {_day(h.created)}, expires {_day(h.expires)}{counted}")  # fmt: skip
    return 0


def show_command(args: argparse.Namespace) -> int:
    async def act(node: Node, store: Store) -> tuple[handoff_views.OfferDetails, list[handoff_views.ManifestLine]]:
        async with store.reader() as db:
            offer = await handoff_views.resolve_offer(db, args.offer)
            return await handoff_views.offer_details(db, offer), await handoff_views.manifest(db, offer)

    done = _act(args, act)
    if done is None:
        return 1
    details, lines = done
    h = details.handoff
    print(f"offer {h.offer.hex()}")
    print(f"  lot {h.lot_ref}; {'offered to' if h.direction == 'out' else 'offered by'} {details.peer_name}"
          f" ({details.fingerprint})")  # fmt: skip
    print(f"  state {'expired' if h.expired() else h.state}" + (f" ({h.reason})" if h.reason else "")
          + f"; offered {_day(details.offered_at)}, expires {_day(h.expires)}")  # fmt: skip
    print(f"  declared {h.units} items, {_kg(h.weight_g)}"
          + (f"; counted {h.units_counted}, weighed {_kg(h.weighed_g)}" if h.units_counted is not None else ""))  # fmt: skip
    if details.orientations:
        print(f"  donor's orientations: {', '.join(details.orientations)}")
    for label, text in (("note", details.note), ("answer note", details.answer_note),
                        ("receipt note", details.receipt_note)):  # fmt: skip
        if text:
            print(f"  {label}: {text}")
    for line in lines:
        described = " ".join(x for x in (line.brand, line.model) if x)
        outcome = (line.outcome or "-") + (" damaged" if line.damaged else "")
        print(f"{line.gid}  {line.category:<10} {_kg(line.weight_g):>9}  {line.erasure:<14} {outcome:<16}"
              f" {line.asset_tag or ''} {described}" + (f" S/N {line.serial}" if line.serial else "")
              + (f" printed {line.printed_tag}" if line.printed_tag else ""))  # fmt: skip
    for item in details.extra:
        serial = f" S/N {item['serial']}" if item.get("serial") else ""
        print(f"extra  {item.get('category')}  {_kg(item.get('weight_g'))}{serial}")
    return 0


def accept_command(args: argparse.Namespace) -> int:
    note = _note(args.note)
    return _answer(args, accept=True, note=note)


def decline_command(args: argparse.Namespace) -> int:
    note, reason = _note(args.note), _code(args.reason, "--reason")
    return _answer(args, accept=False, note=note, reason=reason or "declined")


def _answer(args: argparse.Namespace, *, accept: bool, note: str | None, reason: str = "declined") -> int:
    async def act(node: Node, store: Store) -> bytes:
        async with store.transaction() as tx:
            offer = await handoff_views.resolve_offer(tx, args.offer)
            await handoffs.answer_offer(tx, offer, accept=accept, reason=reason, note=note)
            return offer

    offer = _act(args, act)
    if offer is None:
        return 1
    print(f"offer {offer.hex()[:16]} {'accepted' if accept else 'declined'}; the answer is sent when the node runs")
    if accept:
        print(f"when the lot arrives: maillon handoff receive --data {args.data} {offer.hex()[:16]} --weight G --all")
    return 0


def cancel_command(args: argparse.Namespace) -> int:
    reason = _code(args.reason, "--reason")

    async def act(node: Node, store: Store) -> bytes:
        async with store.transaction() as tx:
            offer = await handoff_views.resolve_offer(tx, args.offer)
            await handoffs.cancel_offer(tx, offer, reason)
            return offer

    offer = _act(args, act)
    if offer is None:
        return 1
    print(f"offer {offer.hex()[:16]} cancelled; the other node learns it when this node runs")
    return 0


def _read_codes(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _named(lines: list[handoff_views.ManifestLine], codes: list[str], what: str) -> list[str]:
    """The global ids ``codes`` name, in order, once each; a code naming no line (or several) is refused."""
    found: list[str] = []
    for code in codes:
        gids = handoff_views.find_lines(lines, code)
        if len(gids) != 1:
            problem = "is not in this offer" if not gids else "names several lines (use the global id)"
            raise Invalid(f"{what}: {code!r} {problem}", code="not_in_offer")
        if gids[0] not in found:
            found.append(gids[0])
    return found


def receive_command(args: argparse.Namespace) -> int:
    note = _note(args.note)
    codes = _read_codes(args.received_file) if args.received_file else []

    async def act(node: Node, store: Store) -> tuple[handoffs.Handoff, str]:
        async with store.transaction() as tx:
            offer = await handoff_views.resolve_offer(tx, args.offer)
            lines = await handoff_views.manifest(tx, offer)
            missing = _named(lines, args.missing, "--missing")
            damaged = _named(lines, args.damaged, "--damaged")
            if args.all:
                received = [line.gid for line in lines if line.gid not in missing]
            else:
                received = _named(lines, codes, str(args.received_file))
                if args.rest_missing:
                    missing += [line.gid for line in lines if line.gid not in received and line.gid not in missing]
            both = set(received) & set(missing)
            if both:
                raise Invalid(f"listed both as received and missing: {', '.join(sorted(both)[:5])}", code="invalid")
            stray = set(damaged) - set(received)
            if stray:
                raise Invalid(f"damaged but not received: {', '.join(sorted(stray)[:5])}", code="invalid")
            receipt = parse(handoffs.ReceiptInput, {
                "received": received, "missing": missing, "damaged": damaged, "extra": list(args.extra),
                "weight_g": args.weight, "note": note, "keep_tags": args.keep_tags, "happened_on": args.on,
            })  # fmt: skip
            await handoffs.record_receipt(tx, offer, receipt, operator="maillon handoff receive")
            handoff = await handoffs.get_handoff(tx, offer)
            return handoff, (await get_lot(tx, handoff.lot_id)).reference if handoff.lot_id else "?"

    done = _act(args, act)
    if done is None:
        return 1
    handoff, reference = done
    print(f"offer {handoff.offer.hex()[:16]} received: {handoff.units_counted} items counted of {handoff.units}"
          f" declared; {_kg(handoff.weighed_g)} weighed, {_kg(handoff.weight_g)} declared")  # fmt: skip
    print(f"the items are in the lot {reference} here; the receipt is sent when the node runs")
    return 0
