"""The donor report per serial, for the donor's own register: CSV and XLSX.

One row per item, the same facts as the PDF's item table (built from the
same ``DonorReport``), in the report's language. Text that a spreadsheet
would read as a formula (``=``, ``+``, ``-``, ``@`` first) is written with
a leading apostrophe: a serial number from a hostile file runs nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from node.reports.donor_model import DonorReport, ReportLine
from node.reports.donor_text import erasure_text, label, texts

__all__ = ["register_rows", "register_csv", "register_xlsx"]

_COLUMNS = ("lot", "donor_asset", "serial", "category", "model", "fate", "date", "beneficiary", "by", "erased",
            "erasures", "gid")  # fmt: skip


def _safe(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _erased(line: ReportLine, t: dict[str, str]) -> str:
    if not line.erasures:
        return t["erasure.missing"] if line.has_storage else t["erasure.not_applicable"]
    return t["register.yes"] if line.erased else t["register.no"]


def _iso(ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000, zone).strftime("%Y-%m-%d")


def register_rows(report: DonorReport, language: str = "fr", *, tz: str = "Europe/Paris") -> list[list[object]]:
    """The heading row, then one row per item."""
    t, zone = texts(language), ZoneInfo(tz)
    rows: list[list[object]] = [[t[f"register.{name}"] for name in _COLUMNS]]
    for line in report.lines:
        if line.missing_at:
            fate = t["items.missing_at"].format(name=line.missing_at)
        elif line.fate is None:
            fate = t["items.held_by"].format(name=line.processed_by) if line.processed_by else label(t, "fate", "in_stock")
        else:
            fate = label(t, "fate", line.fate)
        day = _iso(line.fate_time_ms, zone) if line.fate_time_ms else ""
        proofs = " | ".join(erasure_text(p, t, _iso(p.time_ms, zone), p.by or report.node_name, p.certificate_sha256)
                            for p in line.erasures)  # fmt: skip
        rows.append([_safe(v) for v in (
            line.lot or "", line.donor_asset or "", line.serial or "", label(t, "category", line.category),
            " ".join(part for part in (line.brand, line.model) if part), fate, day,
            label(t, "beneficiary", line.beneficiary_category) if line.beneficiary_category else "",
            line.processed_by or report.node_name, _erased(line, t), proofs, line.gid,
        )])  # fmt: skip
    return rows


def register_csv(report: DonorReport, language: str = "fr") -> bytes:
    """UTF-8 with a BOM and ``;``, as French spreadsheets open it."""
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";").writerows(register_rows(report, language))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def register_xlsx(report: DonorReport, language: str = "fr") -> bytes:
    from openpyxl import Workbook  # noqa: PLC0415  (only when asked)

    book = Workbook(write_only=True)
    sheet = book.create_sheet(texts(language)["register.sheet"][:31])
    for row in register_rows(report, language):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
