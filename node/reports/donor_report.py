"""Building the donor report from the database, signing it, writing PDF and signed document.

The report covers a donor's lots (or one lot) received in a period: each
item with its fate and erasure proofs (the REEN proof of effective reuse).
The report is signed as a ``donor.report/2`` record in the node's log and
written beside the PDF as a proof bundle (``.mlnbundle``: the report with
the signed records of every hop, ``node.reports.donor_bundle``) anyone can verify
offline (``maillon record verify``), and as a signed document (``.mlnrec``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from node.config import Node, load_node
from node.domain.recycling_weight import recycled_weights
from node.domain.fate_evidence import erasure_evidence, statement
from node.domain.impact import factor_table, impact
from node.domain.settings import get_setting
from node.domain.states import FATES
from node.domain.stats import period_bounds
from node.errors import ConfigError, Invalid, NotFound
from node.network.handoff_views import node_names
from node.reports.donor_bundle import bundle_file, custody_check
from node.reports.donor_model import DonorReport, ErasureProof, Reception, ReportLine
from node.reports.donor_pdf import render_donor_report
from node.reports.donor_register import register_csv, register_xlsx
from node.store.database import IN_ARRAY, Reader, Store, Tx, as_array, now_ms
from protocol import custody_kinds as kinds_v2
from protocol.keys import fingerprint, node_id
from protocol.records import Record, write_record_file

__all__ = ["build_donor_report", "report_of_signed", "sign_donor_report", "export_donor_report"]


_ZONE = ZoneInfo("Europe/Paris")  # the periods are Paris calendar periods (node.domain.stats.period_bounds)


def _day(ms: int) -> str:
    """The local day (Europe/Paris) of an instant: 2023-01-01 00:00 in Paris is 2022-12-31 in UTC."""
    return datetime.fromtimestamp(ms / 1000, _ZONE).strftime("%Y-%m-%d")


def _text(value: Any) -> str | None:
    """Text for a signed field (1 to 500 characters), or None."""
    return str(value)[:500] if value else None


def _received_day(value: Any) -> str | None:
    return value if isinstance(value, str) and _DAY.match(value) else None


_DAY = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


async def build_donor_report(db: Reader, node: Node, *, donor_id: int | None = None, lot: str | None = None,
                             period: tuple[int, int] | None = None) -> DonorReport:  # fmt: skip
    """Gather the report of a donor's lots (or of one lot) received in ``period``.

    A lot is in the period by the day it was received (``received_on``),
    else the day it was entered, as the statistics count it: a lot of 2023
    entered in 2024 is in the report of 2023. What became of each item is
    what the signed records held here prove (``node.reports.donor_bundle``):
    for an item handed on, the fate its custodian signed, with the erasures
    each hop signed, attributed to its signer.
    """
    if (donor_id is None) == (lot is None):
        raise Invalid("choose a donor or a lot", code="invalid")
    if lot is not None:
        row = await db.one("SELECT id, donor_id FROM lots WHERE reference = ?", (lot,))
        if row is None:
            raise NotFound(f"no lot with reference {lot!r}")
        lot_ids, donor_id = [row["id"]], row["donor_id"]
        if donor_id is None:
            raise Invalid(f"lot {lot!r} has no donor", code="invalid")
    elif period is None:
        lot_ids = [r["id"] for r in await db.all("SELECT id FROM lots WHERE donor_id = ? ORDER BY id", (donor_id,))]
    else:
        start, end = period
        lot_ids = [r["id"] for r in await db.all(
            "SELECT id FROM lots WHERE donor_id = :donor AND CASE WHEN received_on IS NULL"
            " THEN created >= :start AND created < :end ELSE received_on >= :first AND received_on <= :last END"
            " ORDER BY id", {"donor": donor_id, "start": start, "end": end, "first": _day(start), "last": _day(end - 1)})]  # fmt: skip
    days = (_day(period[0]), _day(period[1] - 1)) if period is not None else None
    return await _gather(db, node, donor_id, lot_ids, days)


async def report_of_signed(db: Reader, node: Node, record: Record) -> DonorReport:
    """A signed ``donor.report/2`` gathered again: its lots and period, its items as the records held now prove."""
    body: kinds_v2.DonorReport2 = record.body()
    refs = [lot.ref for lot in body.lots]
    rows = await db.all(f"SELECT id, donor_id FROM lots WHERE reference IN ({', '.join('?' * len(refs))}) ORDER BY id",
                        refs)  # fmt: skip
    donor_id = next((row["donor_id"] for row in rows if row["donor_id"] is not None), None)
    if donor_id is None:
        raise NotFound("the lots of this report are no longer here")
    report = await _gather(db, node, donor_id, [row["id"] for row in rows], (body.period_from, body.period_to))
    return replace(report, record_id_hex=record.id.hex())


async def _gather(db: Reader, node: Node, donor_id: int, lot_ids: list[int],
                  days: tuple[str, str] | None) -> DonorReport:  # fmt: skip
    """The report of ``lot_ids`` of the donor, over ``days`` (first, last; None: the first lot to today)."""
    donor = await db.one("SELECT name, type, siret FROM donors WHERE id = ?", (donor_id,))
    if donor is None:
        raise NotFound(f"no donor {donor_id}")
    now = now_ms()
    marks = ", ".join("?" * len(lot_ids))
    lots = await db.all(f"SELECT id, reference, created, received_on, declared_units, declared_weight_g, counted_units,"
                        f" weighed_g FROM lots WHERE id IN ({marks}) ORDER BY id", lot_ids)  # fmt: skip
    if days is None:  # the report then runs from the first lot's reception to today
        days = (min([r["received_on"] or _day(r["created"]) for r in lots], default=_day(now)), _day(now))
    items = await db.all(
        f"""SELECT i.id, i.gid, i.asset_tag, i.donor_asset, i.serial, i.category, i.brand, i.model, i.state,
                   i.state_since, i.weight_g, l.reference AS lot,
                   (SELECT b.category FROM distributions d JOIN beneficiaries b ON b.id = d.beneficiary_id
                     WHERE d.item_id = i.id ORDER BY d.id DESC LIMIT 1) AS beneficiary_category
            FROM items i JOIN lots l ON l.id = i.lot_id WHERE i.lot_id IN ({marks}) ORDER BY i.lot_id, i.id""",
        lot_ids,
    )
    proofs: dict[int, list[ErasureProof]] = {}
    for row in await db.all(
        f"SELECT e.item_id, e.disk_serial, e.method, e.level, e.tool, e.time, e.result, e.evidence_sha256"
        f" FROM erasures e JOIN items i ON i.id = e.item_id WHERE i.lot_id IN ({marks}) AND e.source != 'handoff'"
        f" ORDER BY e.time", lot_ids,
    ):  # fmt: skip
        proofs.setdefault(row["item_id"], []).append(ErasureProof(
            row["disk_serial"], row["method"], row["level"], row["tool"], row["time"], row["result"],
            certificate_sha256=row["evidence_sha256"] or None))  # fmt: skip
    receptions = [Reception(r["reference"], None, r["declared_units"], r["declared_weight_g"], r["counted_units"],
                            r["weighed_g"], received=_received_day(r["received_on"])) for r in lots]  # fmt: skip
    me = node.key.public.raw
    check = None
    if lots:
        body = _signed_body(donor, receptions, items, *days)
        check, _entries = await custody_check(db, me, body)
    proven = {proof.gid: proof for proof in check.items} if check is not None else {}
    keys = [k for proof in proven.values() for k in (proof.by, *proof.missing_at) if k is not None]
    known = {**await node_names(db, keys), **(check.names if check is not None else {})}

    def who(key: bytes) -> str:
        return f"{known.get(key) or node_id(key)[:16]} · {fingerprint(key)}"

    # a recycled item weighs its share of the outflow, as the waste register says (one source)
    recycled = await recycled_weights(db, [r["id"] for r in items if r["state"] == "recycled"])
    lines = []
    for r in items:
        fate = r["state"] if r["state"] in FATES else None
        fate_time = r["state_since"] if fate else None
        beneficiary = r["beneficiary_category"] if r["state"] == "distributed" else None
        erasures = list(proofs.get(r["id"], ()))
        processed_by = missing_at = None
        weight = recycled.get(r["id"], r["weight_g"]) if fate == "recycled" else r["weight_g"]
        proof = proven.get(r["gid"])
        if proof is not None and proof.by is not None and proof.by != me:
            # handed on: what the records of the nodes that held it prove, signed by the one that settled it
            statement = proof.statement
            fate = proof.outcome if proof.outcome in FATES else None
            fate_time = statement.time if statement is not None else None
            beneficiary = statement.beneficiary_category if statement is not None else None
            if statement is not None and statement.weight_g is not None:
                weight = statement.weight_g  # recycled: its share of the outflow, as that node's register says
            processed_by = who(proof.by)
        if proof is not None:
            erasures += [ErasureProof(e.disk_serial, e.method, e.level, e.tool, e.time, e.result, who(signer),
                                      e.certificate_sha256.hex() if e.certificate_sha256 else None)
                         for signer, e in proof.erasures if signer != me]  # fmt: skip
            if proof.outcome == "missing" and proof.missing_at:
                missing_at = who(proof.missing_at[-1])
        lines.append(ReportLine(
            gid=r["gid"], asset_tag=r["asset_tag"], donor_asset=r["donor_asset"], serial=r["serial"],
            category=r["category"], brand=r["brand"], model=r["model"], state=r["state"], fate=fate,
            fate_time_ms=fate_time, beneficiary_category=beneficiary,
            weight_g=weight,
            erasures=tuple(sorted(erasures, key=lambda e: e.time_ms)), processed_by=processed_by, lot=r["lot"],
            missing_at=missing_at,
        ))  # fmt: skip
    if check is not None:
        wanted = {r["gid"] for r in items}
        for receipt_record, receipt, offer in check.receipts:
            if any(line.gid in wanted for line in offer.items):
                receptions.append(Reception(offer.lot_ref, who(receipt_record.header.author), offer.units,
                                            offer.weight_g, receipt.units_counted, receipt.weight_g,
                                            len(receipt.missing)))  # fmt: skip
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
        period_from=days[0], period_to=days[1],
        generated_ms=now_ms(), lines=lines,
        impact=avoided.lines,
        factor_version=table.version, factor_source=table.source, record_id_hex=None,
        receptions=tuple(receptions), verify_url=f"{node.config.url.rstrip('/')}/verify" if node.config.url else None,
        chain_problems=tuple(f"{p.reason} {p.text}" for p in check.problems) if check is not None else (),
    )  # fmt: skip


def _signed_body(donor: Any, receptions: list[Reception], items: list[Any], period_from: str, period_to: str,
                 **extra: Any) -> kinds_v2.DonorReport2:  # fmt: skip
    return kinds_v2.DonorReport2(
        donor=donor["name"][:500], donor_siret=donor["siret"] or None,
        lots=[kinds_v2.ReportedLot(ref=r.lot[:500], declared_units=r.declared_units,
                                   declared_weight_g=r.declared_weight_g, counted_units=r.counted_units,
                                   weighed_g=r.weighed_g, received=r.received) for r in receptions],
        period_from=period_from, period_to=period_to,
        items=[kinds_v2.ReportLine2(gid=r["gid"], lot=r["lot"][:500], category=r["category"], serial=_text(r["serial"]),
                                    donor_asset=_text(r["donor_asset"])) for r in items],
        **extra,
    )  # fmt: skip


async def sign_donor_report(tx: Tx, report: DonorReport) -> Record:
    """Sign what the report says: the state of the items still here, then the ``donor.report/2`` itself.

    The items this node still holds get an explicit, signed outcome (in
    stock, or missing when a hand-off's receipt listed them missing) with
    the erasures recorded here, so that every line of the bundle is a
    signed statement.
    """
    held = [line for line in report.lines if line.fate is None and line.processed_by is None]
    if held:
        ids = {r["gid"]: r["id"] for r in await tx.all(f"SELECT id, gid FROM items WHERE gid IN {IN_ARRAY}",
                                                       (as_array([line.gid for line in held]),))}  # fmt: skip
        proofs = await erasure_evidence(tx, ids.values())
        now = now_ms()
        fates = [statement(line.gid, "missing" if line.missing_at else "in_stock", now, proofs.get(ids[line.gid], []),
                           {}, line.weight_g) for line in held if line.gid in ids]  # fmt: skip
        for start in range(0, len(fates), 5000):
            await tx.append(kinds_v2.ItemFates2(fates=fates[start : start + 5000]), audience=[tx.author])
    donor = {"name": report.donor_name, "siret": report.siret}
    items = [{"gid": line.gid, "lot": line.lot or (report.lots[0] if report.lots else "-"), "category": line.category,
              "serial": line.serial, "donor_asset": line.donor_asset} for line in report.lines]  # fmt: skip
    body = _signed_body(donor, [r for r in report.receptions if r.taker is None], items, report.period_from,
                        report.period_to, factor_version=report.factor_version, co2e_g=report.impact_co2e_g,
                        materials_g=report.impact_materials_g)  # fmt: skip
    # The donor is not a node: the record stays private in the log, and
    # travels as a proof bundle (and a signed document) file.
    return await tx.append(body, audience=[tx.author])


def export_donor_report(args: argparse.Namespace) -> int:
    """``maillon export donor-report``: write the PDF and, beside it, the signed document."""
    if args.out is None:
        raise ConfigError("the donor report needs --out FILE.pdf")
    node = load_node(args.data)
    period = period_bounds(args.period) if args.period else None

    async def act() -> tuple[DonorReport, Record, bytes]:
        store = await Store.open(node.db_path, node.key)
        try:
            async with store.transaction() as tx:
                report = await build_donor_report(tx, node, donor_id=args.donor, lot=args.lot, period=period)
                record = await sign_donor_report(tx, report)
            async with store.reader() as db:
                bundle = await bundle_file(db, record)
            return report, record, bundle
        finally:
            await store.close()

    report, record, bundle = asyncio.run(act())
    args.out.write_bytes(render_donor_report(replace(report, record_id_hex=record.id.hex()), args.language))
    signed = args.out.with_suffix(".mlnrec")
    signed.write_bytes(write_record_file(record))
    proof = args.out.with_suffix(".mlnbundle")
    proof.write_bytes(bundle)
    args.out.with_suffix(".csv").write_bytes(register_csv(report, args.language))
    args.out.with_suffix(".xlsx").write_bytes(register_xlsx(report, args.language))
    print(f"{len(report.lines)} items: {args.out}, its proof bundle {proof}, its signed document {signed}, and the"
          f" per-serial register {args.out.with_suffix('.csv')} and {args.out.with_suffix('.xlsx')}")  # fmt: skip
    print(f"verify with: maillon record verify {proof} --author {node.key.public.node_id}")
    return 0
