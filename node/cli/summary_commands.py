"""``maillon summary ...``: a hub's regional summaries of its members' reports; national's reading of them.

On a hub: ``preview`` says what the summary of a period would say now
(reports that count, members missing, reports refused and why), ``sign``
signs it (a new version only when something changed), ``list`` shows the
summaries signed. On a national node, ``list`` shows each hub's latest
summaries with what checking them found, and each hub's log audit;
``reset-audit`` clears a hub's flag once an admin has looked into it.

Exit codes, as for every command: 0 done, 1 refused (the domain's code and
reason on standard error; nothing was changed), 2 wrong arguments.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from node.cli.commands import print_figures, with_store
from node.cli.summary_args import register  # noqa: F401  (re-exported)
from node.config import Node
from node.errors import DomainError
from node.network import national, regional
from node.network.stats_reports import own_keys
from node.store.database import Store
from protocol.errors import ProtocolError
from protocol.keys import fingerprint, parse_node_id

__all__ = ["register"]


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def preview_command(args: argparse.Namespace) -> int:
    async def act(node: Node, store: Store) -> Any:
        async with store.reader() as db:
            keys = await own_keys(db, store.key.public.raw)
            return await regional.aggregate(db, store.key.public.raw, args.period), \
                await regional.member_reports(db, keys, args.period)  # fmt: skip

    aggregate, reports = with_store(args, act)
    print(f"period {aggregate.period}: {len(aggregate.reports)} report(s) count, {len(aggregate.missing)} member(s) missing")
    if aggregate.own is not None:
        print(f"  own      {'(this hub)':<30} v{aggregate.own.version}  {aggregate.own.id.hex()[:16]}")
    for report in aggregate.own_parts:  # no own report of the period yet: signing the summary signs one first
        print(f"  own      {'(this hub)':<30} v{report.version}  {report.id.hex()[:16]}  ({report.period})")
    for report in aggregate.reports:
        print(f"  counts   {aggregate.names.get(report.member, '?'):<30} v{report.version}  {report.id.hex()[:16]}"
              + (f"  ({report.period})" if report.period != aggregate.period else ""))  # fmt: skip
    for report in reports:
        if not report.counts:
            print(f"  ignored  {aggregate.names.get(report.member, fingerprint(report.member)):<30} v{report.version}"
                  f"  {report.id.hex()[:16]}  {report.why_not}")  # fmt: skip
    for member in aggregate.missing:
        print(f"  missing  {aggregate.names.get(member, '?'):<30} {fingerprint(member)}")
    if aggregate.pooled:
        print(f"pooled over at least {aggregate.min_members} members sharing with the hub only: "
              + ", ".join(aggregate.pooled))  # fmt: skip
    if aggregate.withheld:
        print(f"withheld (fewer than {aggregate.min_members} such members): " + ", ".join(aggregate.withheld))
    print("figures:")
    print_figures(aggregate.figures)
    return 0


def sign_command(args: argparse.Namespace) -> int:
    async def act(node: Node, store: Store) -> Any:
        async with store.transaction() as tx:
            return await regional.sign_summary(tx, args.period)

    try:
        record = with_store(args, act)
    except DomainError as exc:
        print(f"maillon: refused ({exc.code}): {exc.message}", file=sys.stderr)
        return 1
    if record is None:
        print(f"period {args.period}: the last summary still holds; nothing signed")
        return 0
    body = record.body()
    print(f"{record.header.kind} for {body.period}, version {body.version}: {len(body.reports)} report(s),"
          f" {len(body.missing)} missing{', and the hub own' if getattr(body, 'own', None) else ''},"
          f" id {record.id.hex()}")  # fmt: skip
    if body.supersedes:
        print(f"supersedes {body.supersedes.hex()}")
    print("`maillon run` sends it to national.")
    return 0


def list_command(args: argparse.Namespace) -> int:
    async def act(node: Node, store: Store) -> Any:
        async with store.reader() as db:
            own = await regional.list_summaries(db, await own_keys(db, store.key.public.raw))
            return own, await national.read_hubs(db)

    own, hubs = with_store(args, act)
    for summary in own:
        state = "superseded" if summary.superseded else "current"
        print(f"{summary.id.hex()[:16]}  {summary.body.period:<8} v{summary.body.version}  {state:<10}  "
              f"{_when(summary.time)}  {len(summary.body.reports)} report(s)  {len(summary.body.missing)} missing")  # fmt: skip
    for hub in hubs:
        audit = hub.log
        log = "log not audited yet" if audit is None else (
            f"log {audit.state} up to checkpoint {audit.checkpoint_seq} (size {audit.tree_size})"
            + (f": {audit.detail}" if audit.detail else ""))  # fmt: skip
        print(f"hub {hub.name} ({hub.network or '?'}) {fingerprint(hub.hub)}: {log}")
        for check in hub.summaries:
            body = check.summary.body
            print(f"  {body.period:<8} v{body.version}  {check.state:<12}  {check.held}/{check.listed} report(s) held,"
                  f" {check.readable} readable, {len(body.missing)} missing, sum "
                  f"{'checked' if check.sum_checked else 'not checked'}")  # fmt: skip
            if getattr(body, "pooled", None):  # regional.summary/2's publication rule: what national reads pooled
                print(f"    pooled over at least {body.min_members} members sharing with their hub only: "
                      + ", ".join(body.pooled))  # fmt: skip
            if getattr(body, "withheld", None):
                print("    withheld: " + ", ".join(body.withheld))
            for problem in check.problems:
                print(f"    problem: {problem}")
    return 0


def reset_command(args: argparse.Namespace) -> int:
    try:
        hub = parse_node_id(args.hub).raw
    except ProtocolError as exc:
        print(f"maillon: {args.hub!r} is not a node id: {exc.message}", file=sys.stderr)
        return 2

    async def act(node: Node, store: Store) -> Any:
        async with store.transaction() as tx:
            return await national.reset_audit(tx, hub)

    try:
        audited = with_store(args, act)
    except DomainError as exc:
        print(f"maillon: refused ({exc.code}): {exc.message}", file=sys.stderr)
        return 1
    print(f"audit of {fingerprint(hub)} reset (it was {audited.state} at checkpoint {audited.checkpoint_seq});"
          " its next checkpoint is the new base")  # fmt: skip
    return 0
