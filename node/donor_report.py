"""Building the donor report from the database, signing it, writing PDF and signed document.

The report covers a donor's lots (or one lot) received in a period: each
item with its fate and erasure proofs (the REEN proof of effective reuse).
The same data is signed as a ``donor.report/1`` record in the node's log,
written beside the PDF as a signed document anyone can verify offline.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from node.config import Node, load_node
from node.errors import ConfigError, Invalid, NotFound
from node.impact import factor_table, impact
from node.reports.donor_model import DonorReport, ErasureProof, ReportLine
from node.reports.donor_pdf import render_donor_report
from node.settings import get_setting
from node.states import FATES
from node.stats import period_bounds
from node.store import Reader, Store, Tx, now_ms
from protocol import kinds
from protocol.keys import fingerprint, node_id
from protocol.records import Record, write_record_file

__all__ = ["build_donor_report", "sign_donor_report", "export_donor_report"]


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


async def build_donor_report(db: Reader, node: Node, *, donor_id: int | None = None, lot: str | None = None,
                             period: tuple[int, int] | None = None) -> DonorReport:  # fmt: skip
    """Gather the report of a donor's lots (or of one lot) created or received in ``period``."""
    if (donor_id is None) == (lot is None):
        raise Invalid("choose a donor or a lot", code="invalid")
    if lot is not None:
        row = await db.one("SELECT id, donor_id FROM lots WHERE reference = ?", (lot,))
        if row is None:
            raise NotFound(f"no lot with reference {lot!r}")
        lot_ids, donor_id = [row["id"]], row["donor_id"]
        if donor_id is None:
            raise Invalid(f"lot {lot!r} has no donor", code="invalid")
    donor = await db.one("SELECT name, type, siret FROM donors WHERE id = ?", (donor_id,))
    if donor is None:
        raise NotFound(f"no donor {donor_id}")
    now = now_ms()
    start, end = period or (0, now + 1)
    if lot is None:
        lot_ids = [r["id"] for r in await db.all(
            "SELECT id FROM lots WHERE donor_id = ? AND created >= ? AND created < ? ORDER BY id", (donor_id, start, end)
        )]  # fmt: skip
    marks = ", ".join("?" * len(lot_ids))
    lots = await db.all(f"SELECT reference, created FROM lots WHERE id IN ({marks}) ORDER BY id", lot_ids)
    if period is None:  # the report then runs from the first lot to today
        start, end = min([r["created"] for r in lots], default=now), now + 1
    items = await db.all(
        f"""SELECT i.id, i.gid, i.asset_tag, i.donor_asset, i.serial, i.category, i.brand, i.model, i.state,
                   i.state_since, i.weight_g,
                   (SELECT b.category FROM distributions d JOIN beneficiaries b ON b.id = d.beneficiary_id
                     WHERE d.item_id = i.id ORDER BY d.id DESC LIMIT 1) AS beneficiary_category
            FROM items i WHERE i.lot_id IN ({marks}) ORDER BY i.lot_id, i.id""",
        lot_ids,
    )
    proofs: dict[int, list[ErasureProof]] = {}
    for row in await db.all(
        f"SELECT e.item_id, e.disk_serial, e.method, e.level, e.tool, e.time, e.result FROM erasures e"
        f" JOIN items i ON i.id = e.item_id WHERE i.lot_id IN ({marks}) ORDER BY e.time",
        lot_ids,
    ):
        proofs.setdefault(row["item_id"], []).append(
            ErasureProof(row["disk_serial"], row["method"], row["level"], row["tool"], row["time"], row["result"])
        )
    downstream = await _downstream_fates(db, [r["id"] for r in items if r["state"] == "transferred"])
    lines = []
    for r in items:
        fate = r["state"] if r["state"] in FATES else None
        fate_time = r["state_since"] if fate else None
        beneficiary = r["beneficiary_category"] if r["state"] == "distributed" else None
        processed_by = None
        later = downstream.get(r["id"])
        if later is not None:  # handed to another node: what it (or the next one) did, as signed by it
            fate, fate_time, beneficiary = later["fate"], later["time"], later["beneficiary_category"]
            who = later["name"] or node_id(later["reporter"])[:16]
            processed_by = f"{who} · {fingerprint(later['reporter'])} · record {later['record_id'].hex()[:16]}"
        lines.append(ReportLine(
            gid=r["gid"], asset_tag=r["asset_tag"], donor_asset=r["donor_asset"], serial=r["serial"],
            category=r["category"], brand=r["brand"], model=r["model"], state=r["state"], fate=fate,
            fate_time_ms=fate_time, beneficiary_category=beneficiary, weight_g=r["weight_g"],
            erasures=tuple(proofs.get(r["id"], ())), processed_by=processed_by,
        ))  # fmt: skip
    lines = tuple(lines)
    years = await get_setting(db, "years_of_second_life")
    table = factor_table(await get_setting(db, "impact_factors"))
    distributed: dict[str, int] = {}
    for line in lines:
        if line.fate == "distributed":
            distributed[line.category] = distributed.get(line.category, 0) + 1
    avoided = impact(distributed, years, table)

    return DonorReport(
        node_name=node.config.name, node_fingerprint=node.key.public.fingerprint, donor_name=donor["name"],
        donor_type=donor["type"], siret=donor["siret"], lots=tuple(r["reference"] for r in lots),
        period_from=_day(start), period_to=_day(end - 1),
        generated_ms=now_ms(), lines=lines,
        impact=avoided.lines,
        factor_version=table.version, factor_source=table.source, record_id_hex=None,
    )  # fmt: skip


async def _downstream_fates(db: Reader, item_ids: list[int]) -> dict[int, Any]:
    """For items handed to another node, the latest fate reported back (an end of life before a further transfer)."""
    found: dict[int, Any] = {}
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start : start + 500]
        rows = await db.all(
            "SELECT d.item_id, d.record_id, d.reporter, d.fate, d.time, d.beneficiary_category, p.name"
            " FROM downstream_fates d LEFT JOIN peers p ON p.key = d.reporter"
            f" WHERE d.superseded = 0 AND d.item_id IN ({', '.join('?' * len(chunk))})"
            " ORDER BY d.fate = 'transferred' DESC, d.time",
            chunk,
        )  # fmt: skip
        for row in rows:  # the last one wins: a real fate comes after any 'transferred'
            found[row["item_id"]] = row
    return found


async def sign_donor_report(tx: Tx, report: DonorReport) -> Record:
    """Append the machine-readable version of ``report`` to the node's log."""
    body = kinds.DonorReport(
        donor=report.donor_name, donor_siret=report.siret, lots=list(report.lots),
        period_from=report.period_from, period_to=report.period_to, factor_version=report.factor_version,
        co2e_g=report.impact_co2e_g, materials_g=report.impact_materials_g,
        items=[kinds.ReportedItem(
            gid=line.gid, category=line.category, state=line.state, serial=line.serial, donor_asset=line.donor_asset,
            fate_time=line.fate_time_ms, beneficiary_category=line.beneficiary_category,
            processed_by=line.processed_by,
            erasures=[kinds.ReportedErasure(method=p.method, level=p.level, tool=p.tool, time=p.time_ms,
                                            result=p.result, disk_serial=p.disk_serial) for p in line.erasures[-16:]],
        ) for line in report.lines],
    )  # fmt: skip
    # The donor is not a node: the record stays private in the log, and
    # travels as a signed document file.
    return await tx.append(body, audience=[tx.author])


def export_donor_report(args: argparse.Namespace) -> int:
    """``maillon export donor-report``: write the PDF and, beside it, the signed document."""
    if args.out is None:
        raise ConfigError("the donor report needs --out FILE.pdf")
    node = load_node(args.data)
    period = period_bounds(args.period) if args.period else None

    async def act() -> tuple[DonorReport, Record]:
        store = await Store.open(node.db_path, node.key)
        try:
            async with store.reader() as db:
                report = await build_donor_report(db, node, donor_id=args.donor, lot=args.lot, period=period)
            async with store.transaction() as tx:
                record = await sign_donor_report(tx, report)
            return report, record
        finally:
            await store.close()

    report, record = asyncio.run(act())
    args.out.write_bytes(render_donor_report(replace(report, record_id_hex=record.id.hex()), args.language))
    signed = args.out.with_suffix(".mlnrec")
    signed.write_bytes(write_record_file(record))
    print(f"{len(report.lines)} items: {args.out} and its signed document {signed}")
    print(f"verify with: maillon record verify {signed} --author {node.key.public.node_id}")
    return 0
