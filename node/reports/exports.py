"""Exports: items, lots, events, the waste register, donors for nwipe.

Each export is a ``Table`` from one query: its columns (a machine key, a
header for people, a kind) and its values as stored. Two forms write it:
``write_csv`` here is the machine form of ``maillon export`` (column keys,
ISO times in UTC, codes, a decimal point), stable for scripts; the web
interface writes the people's form, CSV and XLSX (``web_ui.sheets``:
headers and codes in the reader's language, a decimal comma). Both CSV
forms are UTF-8 with a BOM and ``;`` (what LibreOffice and Excel open
without asking in France), except the nwipe customers file, whose format
nwipe fixes. No text cell starts as a formula (``node.reports.sheet_cells``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from node.reports.sheet_cells import csv_writer
from node.store.database import Reader

__all__ = ["CSV_EXPORTS", "Column", "Export", "Table", "export_table", "write_csv", "nwipe_customers"]


def _moment(ms: int | None, form: str) -> str:
    if ms is None:
        return ""
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime(form)
    except (OverflowError, OSError, ValueError):  # beyond any calendar (a record held from before the bounds)
        return str(ms)


def _iso(ms: int | None) -> str:
    return _moment(ms, "%Y-%m-%dT%H:%M:%SZ")


def _day(ms: int | None) -> str:
    return _moment(ms, "%Y-%m-%d")


_ITEMS = (
    "SELECT i.gid, i.asset_tag, l.reference, i.donor_asset, i.category, i.brand, i.model, i.serial, i.cpu,"
    " i.ram_mb, i.storage, i.storage_type, i.storage_gb, i.screen_in10, i.battery_pct, i.weight_g, i.grade,"
    " i.state, i.state_since, i.created FROM items i LEFT JOIN lots l ON l.id = i.lot_id ORDER BY i.id"
)
_LOTS = (
    "SELECT l.reference, d.name, d.type, l.received_on, l.source, l.site, l.declared_units, l.declared_weight_g,"
    " l.counted_units, l.weighed_g, l.orientations, (SELECT count(*) FROM items i WHERE i.lot_id = l.id)"
    " FROM lots l LEFT JOIN donors d ON d.id = l.donor_id ORDER BY l.id"
)
_EVENTS = (
    "SELECT e.id, i.gid, i.asset_tag, e.time, e.state, e.step, e.operator, e.corrects, e.detail"
    " FROM events e JOIN items i ON i.id = e.item_id ORDER BY e.id"
)
_WASTE = (
    "SELECT o.time, o.waste_code, o.weight_g, o.recipient, o.treatment,"
    " (SELECT count(*) FROM outflow_items oi WHERE oi.outflow_id = o.id), o.note"
    " FROM outflows o WHERE o.time >= ? AND o.time < ? ORDER BY o.time, o.id"
)

def _(text: str) -> str:
    """Mark a header for translation (the web interface's catalogue says it in the reader's language)."""
    return text


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an export: its machine name, the header people read (English, translated by the web
    interface), and the kind of its values, which says how each form writes them."""

    key: str
    label: str
    # text | int | time | day | iso_day | kg | grams | category | state | donor_type | orientations | storage
    # | storage_type | lot_source | step | event_detail. The machine form writes grams as grams, an ISO day, a
    # detail and the codes as stored; people's forms (web_ui.sheets) write kg, dates and words.
    kind: str = "text"


@dataclass(frozen=True, slots=True)
class Export:
    columns: tuple[Column, ...]
    query: str
    needs_period: bool
    row: Callable[[tuple[Any, ...]], list[Any]] = list


@dataclass(frozen=True, slots=True)
class Table:
    """An export's rows with their values as stored (grams, milliseconds, codes), before any writing."""

    columns: tuple[Column, ...]
    rows: list[list[Any]]


C = Column
WASTE_DESCRIPTION = "DEEE - équipements informatiques et de télécommunications"
CSV_EXPORTS: dict[str, Export] = {
    "items": Export((
        C("gid", _("Global id")), C("asset_tag", _("Asset tag")), C("lot", _("Lot")),
        C("donor_asset", _("Donor's asset number")), C("category", _("Category"), "category"),
        C("brand", _("Brand")), C("model", _("Model")), C("serial", _("Serial number")), C("cpu", _("Processor")),
        C("ram_mb", _("Memory (MB)"), "int"), C("storage", _("Storage"), "storage"), C("storage_type", _("Storage type"), "storage_type"),
        C("storage_gb", _("Storage (GB)"), "int"), C("screen_in10", _("Screen (tenths of an inch)"), "int"),
        C("battery_pct", _("Battery (%)"), "int"), C("weight_g", _("Weight (kg)"), "grams"), C("grade", _("Grade")),
        C("state", _("State"), "state"), C("state_since", _("State since"), "time"),
        C("created", _("Registered on"), "time")), _ITEMS, False),
    "lots": Export((
        C("reference", _("Reference")), C("donor", _("Donor")), C("donor_type", _("Donor type"), "donor_type"),
        C("received_on", _("Received on"), "iso_day"), C("source", _("Source"), "lot_source"), C("site", _("Site")),
        C("declared_units", _("Units declared"), "int"), C("declared_weight_g", _("Weight declared (kg)"), "grams"),
        C("counted_units", _("Units counted"), "int"), C("weighed_g", _("Weight weighed (kg)"), "grams"),
        C("orientations", _("What the donor asks for (orientations)"), "orientations"),
        C("items", _("Items"), "int")), _LOTS, False),
    "events": Export((
        C("event", _("Event"), "int"), C("gid", _("Global id")), C("asset_tag", _("Asset tag")),
        C("time", _("Time"), "time"), C("state", _("State"), "state"), C("step", _("Step"), "step"),
        C("operator", _("Operator")), C("corrects", _("Corrects event"), "int"), C("detail", _("Detail"), "event_detail")),
        _EVENTS, False),
    "waste-register": Export((
        C("date", _("Date"), "day"), C("waste_code", _("Waste code")), C("description", _("Description")),
        C("quantity_kg", _("Quantity (kg)"), "kg"), C("recipient", _("Recipient")), C("treatment", _("Treatment")),
        C("items", _("Items"), "int"), C("note", _("Note"))),
        _WASTE, True, lambda r: [r[0], r[1], WASTE_DESCRIPTION, *r[2:]]),
}  # fmt: skip


async def export_table(db: Reader, name: str, *, period: tuple[int, int] | None = None) -> Table:
    """Export ``name``'s rows, values as stored; ``period`` (start, end ms) for the waste register."""
    export = CSV_EXPORTS[name]
    params: Sequence[Any] = (period or (0, 2**62)) if export.needs_period else ()
    return Table(export.columns, [export.row(tuple(row)) for row in await db.all(export.query, params)])


def _machine(kind: str, value: Any) -> Any:
    if value is None:
        return ""
    if kind == "time":
        return _iso(value)
    if kind == "day":
        return _day(value)
    if kind == "kg":
        return f"{value / 1000:.3f}"
    return value


async def write_csv(db: Reader, name: str, out: io.TextIOBase, *, period: tuple[int, int] | None = None) -> int:
    """Write export ``name`` to ``out`` in its machine form (``maillon export``): column keys, ISO times in
    UTC, codes, a decimal point; return the number of rows written."""
    table = await export_table(db, name, period=period)
    writer = csv_writer(out, delimiter=";")
    writer.writerow([column.key for column in table.columns])
    for row in table.rows:
        writer.writerow([_machine(column.kind, value) for column, value in zip(table.columns, row, strict=True)])
    return len(table.rows)


async def nwipe_customers(db: Reader, out: io.TextIOBase) -> int:
    """Donors as nwipe's customers file (``nwipe --customers``): semicolon CSV, every field quoted."""
    writer = csv_writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["Customer Name", "Contact Name", "Customer Address", "Contact Phone"])
    rows = await db.all("SELECT name, contact_name, address, contact_phone FROM donors ORDER BY name")
    for row in rows:
        # nwipe splits on ';' and strips quotes: keep both out of the fields.
        writer.writerow([(v or "").replace(";", ",").replace('"', "'").replace("\n", " ") for v in row])
    return len(rows)
