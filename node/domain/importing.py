"""Applying imported files to the node: items sheets, histories, nwipe logs, lshw descriptions.

Every import runs in one transaction: it is applied whole or not at all. A
dry run does all the work, reports it, and rolls the transaction back, so
what it shows is exactly what a real run would do. The file is parsed on a
worker process, within ``ImportLimits`` (``node.imports.parsing``), so the
node keeps answering while a big file is read.

A sheet (``items``: into existing lots; ``history``: lots and donors made
as named) is read with the person's choice of columns (``columns``), and
applied by ``node.domain.history_import``: a row the node cannot take is left out
and listed (``skipped_rows``, ``unknown_values``), the others are imported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node.config import Node
from node.domain.erasure import ErasureInput, attach_orphans, record_erasure
from node.domain.happened import today
from node.domain.history_import import apply_history
from node.domain.items import ItemEdit, ItemInput, create_items, edit_item, get_item, item_id_by_tag
from node.domain.lots import lot_id_by_reference
from node.domain.settings import get_setting, set_setting
from node.domain.states import TERMINAL
from node.errors import Invalid, NotFound
from node.imports import ImportFailed, nist_level
from node.imports.history import MappedHistory, UnknownValue, remembered_columns
from node.imports.lshw import Hardware
from node.imports.nwipe import NwipeLog
from node.imports.parsing import LIMITS, ImportLimits, parse_import
from node.imports.sheet import RowError
from node.notes import Said
from node.store.database import IN_ARRAY, Store, Tx, as_array
from node.store.files import store_file
from node.validation import parse

__all__ = ["ImportReport", "run_import", "apply_nwipe", "IMPORT_KINDS"]

IMPORT_KINDS = ("items", "history", "nwipe", "lshw")
SHEET_KINDS = ("items", "history")
PREVIEW_ROWS = 200  # rows a preview lists one by one
MAX_ERRORS = 500
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did (or would do): lines for the person, and whether it was refused."""

    kind: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # The stable code of a file refused whole (ImportFailed.code): its reason in the person's words.
    failed: str | None = None
    # A sheet: how its columns were read, the rows left out and why, the values no field accepts,
    # the first rows it creates, and where the new items are.
    headers: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    skipped_rows: list[RowError] = field(default_factory=list)
    unknown_values: list[UnknownValue] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)
    lots: dict[int, str] = field(default_factory=dict)
    lots_created: list[str] = field(default_factory=list)
    donors_created: list[str] = field(default_factory=list)
    erasures: int = 0
    fates: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        if self.errors:
            return [*self.errors, f"refused: {len(self.errors)} problem(s), nothing was changed"]
        summary = f"{self.kind}: {self.created} created, {self.updated} updated, {self.skipped} skipped"
        return [*self.notes, f"{summary} ({verb} applied)" if self.dry_run else summary]


class _Rollback(Exception):
    """Raised to end a dry run's transaction without committing it."""


async def run_import(node: Node, store: Store, kind: str, data: bytes, filename: str, *, lot: str | None = None,
                     item: str | None = None, dry_run: bool = False, progress: Progress | None = None,
                     source: str = "nwipe", limits: ImportLimits = LIMITS, columns: dict[str, str] | None = None,
                     operator: str = "import") -> ImportReport:  # fmt: skip
    """Parse ``data`` as ``kind`` and apply it in one transaction (rolled back on a dry run).

    ``columns``: for a sheet, the field each header is read as (``node.imports.history.FIELDS``,
    or ``note``, or ``""`` to leave it out); by default the headers' known names.
    """
    if kind not in IMPORT_KINDS:
        raise Invalid(f"unknown import {kind!r}: one of {', '.join(IMPORT_KINDS)}", code="invalid")
    report = ImportReport(kind, dry_run)
    try:
        options = None
        if kind in SHEET_KINDS:
            async with store.reader() as db:
                remembered = json.loads(await get_setting(db, "import_columns"))
            options = {"columns": columns, "today": today(), "remembered": remembered}
        parsed = await parse_import(kind, data, filename, limits, options)
    except ImportFailed as exc:
        report.errors.append(str(exc))
        report.failed = exc.code
        return report
    if kind in SHEET_KINDS:
        _describe(report, parsed)
        if parsed.problem is not None:
            report.errors.append(str(parsed.problem))
            report.failed = parsed.problem.code
            return report
    if len(report.errors) > MAX_ERRORS:  # a page of 100 000 problems helps nobody, and stalls the browser
        hidden = len(report.errors) - MAX_ERRORS
        report.errors[MAX_ERRORS:] = [Said("more_problems", "... and {count} more problem(s) of the same kind",
                                           count=hidden)]  # fmt: skip
    if report.errors:
        return report
    # Evidence is kept by content; a dry run names it the same way (so it sees
    # a log imported before) but does not keep the file.
    evidence = None
    if kind == "nwipe":
        evidence = hashlib.sha256(data).hexdigest() if dry_run else store_file(node.data_dir, data)
    try:
        async with store.transaction() as tx:
            if kind in SHEET_KINDS:
                outcome = await apply_history(tx, parsed, lot=lot, create_lots=kind == "history", operator=operator,
                                              progress=progress)  # fmt: skip
                _outcome(report, outcome)
                if not dry_run:  # the columns as read this time are how this node reads them from now on
                    chosen = remembered_columns(report.columns, json.loads(await get_setting(tx, "import_columns")))
                    await set_setting(tx, "import_columns", json.dumps(chosen, ensure_ascii=False, sort_keys=True))
            elif kind == "nwipe":
                await apply_nwipe(tx, parsed, evidence, report, source=source)  # type: ignore[arg-type]
            else:
                await _apply_lshw(tx, parsed, lot, item, report)  # type: ignore[arg-type]
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except (Invalid, NotFound) as exc:
        report.errors.append(exc.message)
    return report


def _describe(report: ImportReport, parsed: MappedHistory) -> None:
    """What reading the sheet found: its columns, the rows left out, the values no field accepts."""
    report.headers, report.columns = parsed.headers, parsed.columns
    report.skipped_rows = list(parsed.errors)
    report.unknown_values = parsed.unknown_values
    report.rows = [{"line": row.line, "lot": row.lot, **row.item, "received_on": row.received_on,
                    "erased": row.erased, "fate": row.fate, "fate_on": row.fate_on,
                    "beneficiary_category": row.beneficiary_category, "price_cents": row.price_cents}
                   for row in parsed.rows[:PREVIEW_ROWS]]  # fmt: skip
    if parsed.unmapped:
        report.notes.append(f"columns kept as notes: {', '.join(h for h in parsed.unmapped if parsed.columns[h])}")


def _outcome(report: ImportReport, outcome: Any) -> None:
    report.skipped_rows += outcome.skipped
    report.skipped_rows.sort(key=lambda e: e.line)
    report.skipped = len({e.line for e in report.skipped_rows})
    report.created, report.item_ids, report.lots = outcome.created, outcome.item_ids, outcome.lots
    report.lots_created, report.donors_created = outcome.lots_created, outcome.donors_created
    report.erasures, report.fates = outcome.erasures, outcome.fates
    for row in report.rows:  # a row without its own reception day: the day its item gets (the lot's, or today)
        if row["line"] in outcome.received_by_default:
            row["received_by_default"] = outcome.received_by_default[row["line"]]
    report.notes += [f"line {e.line}: {e.column or '-'}: {e.message} ({e.code})" for e in report.skipped_rows[:MAX_ERRORS]]


async def apply_nwipe(tx: Tx, log: NwipeLog, evidence: str | None, report: ImportReport, *,
                      source: str = "nwipe") -> None:  # fmt: skip
    """Record each wiped disk of an nwipe log; match it to an item or keep it as an orphan disk."""
    for disk in log.disks:
        if evidence and await tx.value(
            "SELECT 1 FROM erasures WHERE evidence_sha256 = ? AND coalesce(disk_serial, '') = coalesce(?, '')",
            (evidence, disk.serial),
        ):
            report.skipped += 1
            report.notes.append(Said("disk_seen", "disk {disk}: already imported from this log",
                                     disk=disk.serial or disk.device))  # fmt: skip
            continue
        item_id = await _disk_item(tx, disk.serial) if disk.serial else None
        method = disk.method or log.method or "unknown"
        # parse, not the constructor: a log from a machine whose clock said 1900 is a clear Invalid
        erasure_id = await record_erasure(tx, parse(ErasureInput, dict(
            item_id=item_id, disk_serial=disk.serial, disk_model=disk.model, disk_size_bytes=disk.size_bytes,
            host_serial=log.system_serial, method=method, level=disk.level or nist_level(method), tool="nwipe",
            tool_version=log.nwipe_version, passes=disk.passes, verification=disk.verification,
            result=disk.status, time=disk.ended or log.ended or log.started, evidence_sha256=evidence, source=source,
        )))  # fmt: skip
        matched = await tx.one(
            "SELECT i.asset_tag FROM erasures e JOIN items i ON i.id = e.item_id WHERE e.id = ?", (erasure_id,)
        )
        disk_name = {"disk": disk.serial or disk.device, "model": disk.model or "", "status": disk.status}
        if matched:
            report.notes.append(Said("disk_to_item", "disk {disk} {model}: {status} → item {tag}",
                                     tag=matched["asset_tag"], **disk_name))  # fmt: skip
        else:
            report.notes.append(Said("disk_orphan", "disk {disk} {model}: {status} → orphan disk"
                                     " (no item with that serial yet)", **disk_name))  # fmt: skip
        report.created += 1


async def _disk_item(tx: Tx, serial: str) -> int | None:
    """The item a disk was last seen in: the newest sighting (a workshop probe that found it, node.domain.station,
    or an erasure record of it), in an item still in the workshop before one that has left: a machine back after
    it left is a new item, and its disk's new log goes to that one."""
    return await tx.value(
        "SELECT s.item_id FROM (SELECT item_id, seen AS at, 1 AS probed, 0 AS n FROM item_disks"
        " WHERE serial = ? COLLATE NOCASE UNION ALL SELECT item_id, coalesce(recorded, time), 0, id FROM erasures"
        " WHERE disk_serial = ? AND item_id IS NOT NULL) s JOIN items i ON i.id = s.item_id"
        f" ORDER BY i.state IN {IN_ARRAY}, s.at DESC, s.probed DESC, s.n DESC LIMIT 1",
        (serial, serial, as_array(sorted(TERMINAL))),
    )


def _hardware_fields(hw: Hardware) -> dict[str, object]:
    values = {
        "category": hw.category, "brand": hw.brand, "model": hw.model, "serial": hw.serial, "cpu": hw.cpu,
        "ram_mb": hw.ram_mb, "storage_gb": hw.storage_gb, "storage_type": hw.storage_type,
        "battery_pct": hw.battery_pct, "storage": "present" if hw.disks else None,
    }  # fmt: skip
    return {k: v for k, v in values.items() if v is not None}


async def _apply_lshw(tx: Tx, hw: Hardware, lot: str | None, item: str | None, report: ImportReport) -> None:
    values = _hardware_fields(hw)
    if item is not None:
        if hw.category == "other":
            values.pop("category")  # lshw could not tell: keep what the volunteer chose
        item_id = await item_id_by_tag(tx, item)
        current = await get_item(tx, item_id)
        merged = {k: getattr(current, k) for k in ItemEdit.model_fields} | values
        await edit_item(tx, item_id, parse(ItemEdit, {k: v for k, v in merged.items() if v is not None}))
        report.updated = 1
        tag = current.asset_tag
    else:
        lot_id = await lot_id_by_reference(tx, lot) if lot else None
        [item_id] = await create_items(tx, lot_id, [parse(ItemInput, values)], operator="import")
        report.created = 1
        tag = (await get_item(tx, item_id)).asset_tag
    attached = await attach_orphans(tx, item_id)
    report.notes.append(Said("hardware", "{tag}: {category} {brand} {model} (chassis: {chassis})", tag=tag,
                             category=hw.category, brand=hw.brand or "", model=hw.model or "",
                             chassis=hw.chassis or "unknown"))  # fmt: skip
    if attached:
        report.notes.append(Said("disks_attached", "{tag}: {count} erasure record(s) of its disks attached",
                                 tag=tag, count=attached))  # fmt: skip
