"""The arguments of ``maillon handoff ...`` (``node.cli.handoff_commands`` runs them).

Kept apart so that ``maillon --help`` builds them without importing the
hand-off domain (``node.cli.args``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from node.cli.args import lazy

if TYPE_CHECKING:
    from node.network.handoffs import ExtraInput

__all__ = ["register", "grams", "extra", "STATES", "OFFER_HELP"]

STATES = ("offered", "accepted", "declined", "cancelled", "received")
OFFER_HELP = "the offer's record id in hex, or its first digits (8 at least), as `maillon handoff list` shows"


def register(sub: argparse._SubParsersAction, data: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``maillon handoff`` and its actions to the parser (``data`` adds ``--data``)."""
    handoff = sub.add_parser("handoff", help="hand lots to other nodes and receive theirs",
                             description="hand lots to other nodes of the network, and receive theirs")  # fmt: skip
    actions = handoff.add_subparsers(dest="handoff_command", required=True, metavar="ACTION")

    offer = actions.add_parser("offer", help="offer a lot (or items) to another node",
                               description="offer a lot, or chosen items, to another node; it answers, then receives")  # fmt: skip
    data(offer)
    what = offer.add_mutually_exclusive_group(required=True)
    what.add_argument("--lot", help="the lot's reference: its items still here are offered")
    what.add_argument("--items", nargs="+", metavar="TAG", help="asset tags or global ids of the items offered")
    offer.add_argument("--to", required=True, metavar="NODE",
                       help="node id, or the start of the fingerprint, of a peer or a member of our network")  # fmt: skip
    offer.add_argument("--days", type=int, default=14, help="days before the offer expires (1 to 90, default 14)")
    offer.add_argument("--note", help="a note for the other node (at most 500 characters)")
    offer.add_argument("--share-donor-asset", action="store_true", help="put the donor's asset numbers in the manifest")
    offer.set_defaults(handler=lazy("node.cli.handoff_commands:offer_command"))

    listing = actions.add_parser("list", help="the hand-offs, newest first")
    data(listing)
    way = listing.add_mutually_exclusive_group()
    way.add_argument("--in", dest="direction", action="store_const", const="in", help="offers made to this node")
    way.add_argument("--out", dest="direction", action="store_const", const="out", help="offers this node made")
    listing.add_argument("--state", choices=STATES)
    listing.set_defaults(handler=lazy("node.cli.handoff_commands:list_command"))

    show = actions.add_parser("show", help="one hand-off: its facts and manifest lines with their outcome")
    data(show)
    show.add_argument("offer", metavar="OFFER", help=OFFER_HELP)
    show.set_defaults(handler=lazy("node.cli.handoff_commands:show_command"))

    accept = actions.add_parser("accept", help="accept an offer made to this node")
    data(accept)
    accept.add_argument("offer", metavar="OFFER", help=OFFER_HELP)
    accept.add_argument("--note", help="a note for the node that offered")
    accept.set_defaults(handler=lazy("node.cli.handoff_commands:accept_command"))

    decline = actions.add_parser("decline", help="decline an offer made to this node")
    data(decline)
    decline.add_argument("offer", metavar="OFFER", help=OFFER_HELP)
    decline.add_argument("--reason", required=True, metavar="CODE", help="why, as a code: no_room, not_needed...")
    decline.add_argument("--note", help="a note for the node that offered")
    decline.set_defaults(handler=lazy("node.cli.handoff_commands:decline_command"))

    cancel = actions.add_parser("cancel", help="withdraw an offer this node made, while it is not accepted")
    data(cancel)
    cancel.add_argument("offer", metavar="OFFER", help=OFFER_HELP)
    cancel.add_argument("--reason", metavar="CODE", help="why, as a code: no_transport, given_elsewhere...")
    cancel.set_defaults(handler=lazy("node.cli.handoff_commands:cancel_command"))

    receive = actions.add_parser("receive", help="record what arrived of an accepted offer",
                                 description="record what arrived of an accepted offer: every line of the manifest is"
                                 " received or missing; the items come into this node's custody")  # fmt: skip
    data(receive)
    receive.add_argument("offer", metavar="OFFER", help=OFFER_HELP)
    receive.add_argument("--weight", required=True, type=grams, metavar="G",
                         help="the weight on the scale, in grams (or in kg: 21.5kg)")  # fmt: skip
    counted = receive.add_mutually_exclusive_group(required=True)
    counted.add_argument("--all", action="store_true", help="every line arrived (except those named --missing)")
    counted.add_argument("--received-file", type=Path, metavar="FILE",
                         help="what arrived: one global id, label URL or serial number per line")  # fmt: skip
    receive.add_argument("--missing", nargs="+", default=[], metavar="GID", help="lines that did not arrive")
    receive.add_argument("--rest-missing", action="store_true",
                         help="with --received-file: every line not in the file is missing")  # fmt: skip
    receive.add_argument("--damaged", nargs="+", default=[], metavar="GID", help="lines that arrived damaged")
    receive.add_argument("--extra", nargs="+", default=[], type=extra, metavar="CATEGORY:G",
                         help="items that arrived but were not offered: category and grams, e.g. screen:4000")  # fmt: skip
    receive.add_argument("--note", help="a note for the node that offered")
    receive.add_argument("--keep-tags", action="store_true",
                         help="each item received keeps the label printed on it as its label here, unless an item"
                              " here carries or carried it or it has the form of this node's own labels")  # fmt: skip
    receive.add_argument("--on", type=day, metavar="YYYY-MM-DD",
                         help="the day the lot arrived, for a reception entered afterwards (default today): the"
                              " items are received, and leave the node that offered, on that day")  # fmt: skip
    receive.set_defaults(handler=lazy("node.cli.handoff_commands:receive_command"))


# arguments ---------------------------------------------------------------------------------------


def day(text: str) -> date:
    """A day written YYYY-MM-DD."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"not a day written YYYY-MM-DD: {text!r}")


def grams(text: str) -> int:
    """A weight: whole grams (``21500``) or kilograms with a decimal point or comma (``21,5kg``)."""
    raw = text.strip().lower().replace(" ", "")
    try:
        if raw.endswith("kg"):
            value = Decimal(raw.removesuffix("kg").replace(",", ".")) * 1000
        else:
            value = Decimal(raw.removesuffix("g"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a weight (grams, or kg such as 21.5kg)") from None
    if value < 0 or value > 10**12 or value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of grams between 0 and 10^12")
    return int(value)


def extra(text: str) -> ExtraInput:
    from node.network.handoffs import ExtraInput  # noqa: PLC0415  (the domain, only when the command runs)
    from protocol.kinds import CATEGORIES  # noqa: PLC0415

    category, sep, weight = text.partition(":")
    if not sep or category not in CATEGORIES:
        raise argparse.ArgumentTypeError(f"{text!r}: write CATEGORY:GRAMS; categories: {', '.join(CATEGORIES)}")
    return ExtraInput(category=category, weight_g=grams(weight))
