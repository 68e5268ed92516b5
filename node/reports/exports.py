"""CSV exports: items, lots, events, the waste register, donors for nwipe.

Each export is a header and rows produced from one query, written with the
``csv`` module; spreadsheet users in France get UTF-8 with a BOM and ``;``
(what LibreOffice and Excel open without asking), except the nwipe
customers file, whose format nwipe fixes. No text cell starts as a
formula (``node.reports.sheet_cells``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from node.reports.sheet_cells import csv_writer
from node.store.database import Reader

__all__ = ["CSV_EXPORTS", "write_csv", "nwipe_customers"]


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

# name -> (header, query, needs a period, row formatter)
CSV_EXPORTS: dict[str, tuple[tuple[str, ...], str, bool, Any]] = {
    "items": (
        ("gid", "asset_tag", "lot", "donor_asset", "category", "brand", "model", "serial", "cpu", "ram_mb", "storage",
         "storage_type", "storage_gb", "screen_in10", "battery_pct", "weight_g", "grade", "state", "state_since",
         "created"),
        _ITEMS, False, lambda r: [*r[:18], _iso(r[18]), _iso(r[19])],
    ),
    "lots": (
        ("reference", "donor", "donor_type", "received_on", "source", "site", "declared_units", "declared_weight_g",
         "counted_units", "weighed_g", "orientations", "items"),
        _LOTS, False, list,
    ),
    "events": (
        ("event", "gid", "asset_tag", "time", "state", "step", "operator", "corrects", "detail"),
        _EVENTS, False, lambda r: [r[0], r[1], r[2], _iso(r[3]), *r[4:]],
    ),
    "waste-register": (
        ("date", "waste_code", "description", "quantity_kg", "recipient", "treatment", "items", "note"),
        _WASTE, True,
        lambda r: [_day(r[0]), r[1], "DEEE - équipements informatiques et de télécommunications",
                   f"{r[2] / 1000:.3f}", r[3], r[4], r[5], r[6] or ""],
    ),
}  # fmt: skip


async def write_csv(db: Reader, name: str, out: io.TextIOBase, *, period: tuple[int, int] | None = None) -> int:
    """Write export ``name`` to ``out``; return the number of rows written."""
    header, query, needs_period, format_row = CSV_EXPORTS[name]
    params: Sequence[Any] = period if needs_period and period else ((0, 2**62) if needs_period else ())
    writer = csv_writer(out, delimiter=";")
    writer.writerow(header)
    count = 0
    for row in await db.all(query, params):
        writer.writerow(["" if v is None else v for v in format_row(tuple(row))])
        count += 1
    return count


async def nwipe_customers(db: Reader, out: io.TextIOBase) -> int:
    """Donors as nwipe's customers file (``nwipe --customers``): semicolon CSV, every field quoted."""
    writer = csv_writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["Customer Name", "Contact Name", "Customer Address", "Contact Phone"])
    rows = await db.all("SELECT name, contact_name, address, contact_phone FROM donors ORDER BY name")
    for row in rows:
        # nwipe splits on ';' and strips quotes: keep both out of the fields.
        writer.writerow([(v or "").replace(";", ",").replace('"', "'").replace("\n", " ") for v in row])
    return len(rows)
