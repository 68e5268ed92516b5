"""The arguments of the federation's commands: ``maillon join``, ``invite``, ``peers``, ``resync``, ``demo``.

Registered under the ``maillon.commands`` entry point group, so that the CLI
in node/ lists them without importing the federation; and kept apart from
``federation.commands`` (which runs them) so that ``maillon --help`` builds
them without importing aiohttp or the domain (``node.cli.args``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from node.cli.args import lazy

__all__ = ["register"]


def register(sub: argparse._SubParsersAction, data) -> None:
    """Add the federation's commands to the ``maillon`` parser (``data`` adds ``--data``)."""
    join_p = sub.add_parser("join", help="join a hub (or national) with an invitation",
                            description="join a hub (or national) with an invitation: URL, token and fingerprint")  # fmt: skip
    data(join_p)
    join_p.add_argument("url", help="the hub's base URL, from the invitation")
    join_p.add_argument("--token", required=True, help="the one-time token of the invitation")
    join_p.add_argument("--fingerprint", required=True, help="the hub's fingerprint, e.g. GAIE-V2KS-35UT-7WCO")
    join_p.set_defaults(handler=lazy("federation.commands:_cmd_join"))

    invite_p = sub.add_parser("invite", help="invite a member (or a hub) to join this node",
                              description="make a one-time invitation to join this node; shown once, as text and QR")  # fmt: skip
    data(invite_p)
    invite_p.add_argument("--role", default="member", choices=["member", "hub"], help="what the new node will be")
    invite_p.add_argument("--note", default="", help="who it is for (kept with the invitation)")
    invite_p.add_argument("--days", type=int, default=7, help="days before the invitation expires (1 to 90)")
    invite_p.add_argument("--member-since", type=_day, metavar="YYYY-MM-DD",
                          help="when its membership began, if before it joins: its reports for the periods"
                          " since then count in the network's summaries (default: the day it joins)")  # fmt: skip
    invite_p.set_defaults(handler=lazy("federation.commands:_cmd_invite"))

    peers_p = sub.add_parser("peers", help="the nodes this node trusts", description="the nodes this node trusts")
    peers_sub = peers_p.add_subparsers(dest="peers_command", metavar="ACTION")
    peers_p.add_argument("--data", type=Path, help="the node's data directory (lists its peers)")
    peers_p.set_defaults(handler=lazy("federation.commands:_cmd_peers_list"))
    add = peers_sub.add_parser("add", help="trust a node by its URL and fingerprint (a peered hub, a LAN node)")
    data(add)
    add.add_argument("url")
    add.add_argument("--fingerprint", required=True, help="the fingerprint its admin read to you")
    add.set_defaults(handler=lazy("federation.commands:_cmd_peers_add"))
    revoke = peers_sub.add_parser("revoke", help="stop trusting a node's key, and sign why")
    data(revoke)
    revoke.add_argument("node", help="its node id (base32) or 64 hex digits")
    revoke.add_argument("--reason", required=True)
    revoke.add_argument("--from-seq", type=int, default=1, help="refuse its records from this seq on (default: all)")
    revoke.set_defaults(handler=lazy("federation.commands:_cmd_peers_revoke"))
    propose = peers_sub.add_parser("convention", help="(a hub) propose a peering convention to a peered hub")
    data(propose)
    propose.add_argument("node", help="the other hub's node id (it must be a peer: `maillon peers add`)")
    propose.add_argument("--scope", required=True, help="what the convention covers, e.g. hand-offs of lots")
    propose.add_argument("--days", type=int, default=365, help="how long it is valid (1 to 3660 days)")
    propose.set_defaults(handler=lazy("federation.commands:_cmd_convention_propose"))
    accept = peers_sub.add_parser("accept", help="(a hub) sign a convention another hub proposed")
    data(accept)
    accept.add_argument("record", help="the proposal's record id (hex), from `maillon peers conventions`")
    accept.set_defaults(handler=lazy("federation.commands:_cmd_convention_accept"))
    listing = peers_sub.add_parser("conventions", help="the peering conventions this node holds, and their state")
    data(listing)
    listing.set_defaults(handler=lazy("federation.commands:_cmd_conventions"))

    resync_p = sub.add_parser("resync", help="after a restore: whether the node signs again, or release it",
                              description="a node restored from a backup signs nothing until it has taken its own"
                              " log back from a node that holds it (its hub, national, a peer, a member it can"
                              " reach); this says where it stands, and --accept-fork-risk releases it by hand")  # fmt: skip
    data(resync_p)
    resync_p.add_argument("--accept-fork-risk", action="store_true",
                          help="sign again without the log taken back: whatever this node signed after the backup"
                          " and did not get back is signed over, a fork its peers will freeze it for")  # fmt: skip
    resync_p.set_defaults(handler=lazy("federation.commands:_cmd_resync"))

    _register_demo(sub)


def _day(text: str) -> int:
    from federation.membership import membership_start  # noqa: PLC0415  (only when the command runs)
    from node.errors import Invalid  # noqa: PLC0415

    try:
        return membership_start(text)
    except Invalid as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _register_demo(sub: argparse._SubParsersAction) -> None:
    """Add ``maillon demo`` to the parser."""
    demo = sub.add_parser("demo", help="start a demonstration federation on this machine (6 nodes)",
                          description="start, on loopback, a national node, two regional hubs and three member"
                          " associations with a year of data, federated; Ctrl-C stops them")  # fmt: skip
    demo.add_argument("--data", type=Path, help="where the nodes keep their data (default: a temporary directory, "
                      "or demo-data/ with --keep)")  # fmt: skip
    demo.add_argument("--keep", action="store_true", help="keep the data between runs (start the kept demo again)")
    demo.add_argument("--port", type=int, default=8470, help="first port; the nodes take the next ones (0: any free)")
    demo.add_argument("--small", action="store_true", help="a tenth of the items (quick tests)")
    demo.add_argument("--host", default="127.0.0.1", help="address the nodes listen on (default: loopback only);"
                      " 0.0.0.0 lets a phone on the same network reach them at this machine's address")  # fmt: skip
    demo.set_defaults(handler=lazy("federation.demo:run"))
