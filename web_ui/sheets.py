"""Spreadsheets for people: an export as CSV and as XLSX, in the reader's language.

The CSV is what LibreOffice and Excel open without asking in France: UTF-8
with a BOM, ``;`` between cells, a decimal comma, headers and codes (a
category, a state) in words. The XLSX beside it holds the same cells, with
numbers as numbers and dates as dates. In both, a text cell never becomes
a formula (``node.reports.sheet_cells``; in XLSX, text is written as text).
``maillon export`` writes the machine form instead (``node.reports.exports``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.utils import get_column_letter

from node.reports.exports import Column, Table
from node.reports.sheet_cells import csv_writer
from web_ui.event_details import event_details
from web_ui.i18n import DEFAULT_LANGUAGE, TIMEZONE, Formats
from web_ui.labels import (
    CATEGORY_NAMES,
    DONOR_TYPES,
    LOT_SOURCES,
    ORIENTATIONS,
    STATE_NAMES,
    STEP_NAMES,
    STORAGE,
    STORAGE_TYPES,
)

__all__ = ["Sheet", "people_sheet", "csv_bytes", "xlsx_bytes", "XLSX_TYPE"]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CODES: dict[str, dict[str, str]] = {
    "category": CATEGORY_NAMES, "state": STATE_NAMES, "donor_type": DONOR_TYPES, "storage": STORAGE,
    "storage_type": STORAGE_TYPES, "lot_source": LOT_SOURCES, "step": STEP_NAMES,
}  # fmt: skip


class _NodeIds(dict[str, str]):
    """A sheet names a node by its id (the item page names it by what this node knows of it)."""

    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return key


class Decimal3(float):
    """Kilograms to the gram: written "12,345" in a French CSV, a number with three decimals in XLSX."""


class Sheet:
    """Headers and rows of typed cells (text, int, ``Decimal3``, ``datetime``, ``date``), ready to write."""

    def __init__(self, headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Maillon") -> None:
        self.headers, self.rows, self.title = list(headers), [list(row) for row in rows], title


def _moment(ms: int) -> datetime | str:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).astimezone(TIMEZONE).replace(tzinfo=None, microsecond=0)
    except (OverflowError, OSError, ValueError):  # beyond any calendar: the stored number, as it is
        return str(ms)


def _cell(column: Column, value: Any, translate: Callable[..., str]) -> Any:
    if value is None:
        return ""
    kind = column.kind
    if kind == "time":
        return _moment(value)
    if kind == "day":
        moment = _moment(value)
        return moment.date() if isinstance(moment, datetime) else moment
    if kind in ("kg", "grams"):
        return Decimal3(value / 1000)
    if kind == "iso_day":
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            return value
    if kind == "event_detail":
        return _detail(value, translate)
    if kind in _CODES:
        names = _CODES[kind]
        return translate(names[value]) if value in names else value
    if kind == "orientations":
        try:
            codes = json.loads(value) if isinstance(value, str) else list(value)
        except ValueError:
            return value
        return ", ".join(translate(ORIENTATIONS[c]) if c in ORIENTATIONS else str(c) for c in codes)
    return value


def _detail(value: Any, translate: Callable[..., str]) -> str:
    """An event's detail (JSON) as the item page says it: "Orientation : à reconditionner"; empty for none."""
    try:
        detail = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if not isinstance(detail, dict):
        return str(value)
    shown = event_details(detail, translate, Formats(DEFAULT_LANGUAGE).money, _NodeIds())
    return " · ".join(translate("{name}: {value}", name=label, value=link.rsplit("/", 1)[-1] if link else said)
                      for label, said, link in shown)  # fmt: skip


def people_sheet(table: Table, translate: Callable[..., str], title: str = "Maillon") -> Sheet:
    """``table`` with its headers and codes in words, its times in the node's time zone."""
    columns = table.columns
    rows = ([_cell(c, v, translate) for c, v in zip(columns, row, strict=True)] for row in table.rows)
    return Sheet([translate(c.label) for c in columns], rows, title)


def _csv_text(value: Any, decimal: str) -> Any:
    if isinstance(value, Decimal3):
        return f"{value:.3f}".replace(".", decimal)
    if isinstance(value, float):
        return repr(value).replace(".", decimal)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_bytes(sheet: Sheet, decimal: str = ",") -> bytes:
    """The sheet as a CSV file: UTF-8 with a BOM, ``;``, ``decimal`` in numbers, no formula."""
    out = io.StringIO(newline="")
    writer = csv_writer(out, delimiter=";")
    writer.writerow(sheet.headers)
    for row in sheet.rows:
        writer.writerow([_csv_text(value, decimal) for value in row])
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(sheet: Sheet) -> bytes:
    """The sheet as an XLSX workbook: numbers and dates typed, text always text, the header row frozen."""
    book = Workbook(write_only=False)
    ws = book.active
    ws.title = sheet.title[:31]
    ws.append(sheet.headers)
    for row in sheet.rows:
        ws.append(["" if v is None else v for v in row])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING  # "=..." stays text: openpyxl would store it as a formula
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, Decimal3):
                cell.number_format = "0.000"
    for cell in ws[1]:
        cell.data_type = TYPE_STRING
    for index, header in enumerate(sheet.headers, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(max(len(str(header)), 10) + 2, 40)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
