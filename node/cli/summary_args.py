"""The arguments of ``maillon summary ...`` (``node.cli.summary_commands`` runs them).

Kept apart so that ``maillon --help`` builds them without importing the
statistics domain (``node.cli.args``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from node.cli.args import lazy

__all__ = ["register"]


def register(sub: argparse._SubParsersAction, data: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``maillon summary`` and its actions to the parser (``data`` adds ``--data``)."""
    summary = sub.add_parser("summary", help="a hub's regional summaries of its members' reports",
                             description="the regional summary of a period (regional.summary/2): a hub sums up"
                             " its own and its members' statistics reports; national reads the hubs'"
                             " summaries")  # fmt: skip
    actions = summary.add_subparsers(dest="summary_command", required=True, metavar="ACTION")
    preview = actions.add_parser("preview", help="what a period's summary would say now: reports, missing members")
    data(preview)
    preview.add_argument("--period", required=True, help="YYYY, YYYY-MM or YYYY-Qn")
    preview.set_defaults(handler=lazy("node.cli.summary_commands:preview_command"))
    sign = actions.add_parser("sign", help="sign a period's summary (a new version only if something changed)")
    data(sign)
    sign.add_argument("--period", required=True, help="YYYY, YYYY-MM or YYYY-Qn, ended")
    sign.set_defaults(handler=lazy("node.cli.summary_commands:sign_command"))
    listing = actions.add_parser("list", help="the summaries this hub signed; on national, the hubs' summaries checked")
    data(listing)
    listing.set_defaults(handler=lazy("node.cli.summary_commands:list_command"))
    reset = actions.add_parser("reset-audit", help="national: after looking at a hub flagged for a rewritten log,"
                               " take its next checkpoint as a new base")  # fmt: skip
    data(reset)
    reset.add_argument("hub", metavar="HUB", help="the hub's node id (base32) or 64 hex digits")
    reset.set_defaults(handler=lazy("node.cli.summary_commands:reset_command"))
