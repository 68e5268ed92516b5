"""Signed documents read back from the node's log: the donor reports signed so far, and their files.

A donor report is signed once, as a ``donor.report/1`` record of the
node's log (``node.reports.donor_report.sign_donor_report``); its signed document
(``.mlnrec``) can be written again at any time from the stored envelope and
content, byte for byte the same, and verified offline by anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from node.errors import Invalid, NotFound
from node.store.database import Reader
from protocol import canonical
from protocol.custody_kinds import DonorReport2
from protocol.kinds import DonorReport
from protocol.records import open_envelope, write_record_file

__all__ = ["SignedReport", "donor_reports", "donor_report", "signed_document"]

_HEX_ID = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class SignedReport:
    """What a list of signed donor reports shows of one."""

    id_hex: str
    seq: int
    time_ms: int
    donor: str
    lots: tuple[str, ...]
    period_from: str
    period_to: str
    items: int

    @property
    def first_day(self) -> date | None:
        """``period_from`` as a day, for a page to write in its reader's format; ``None`` if it is not one."""
        return _iso_day(self.period_from)

    @property
    def last_day(self) -> date | None:
        """``period_to`` as a day, else ``None``."""
        return _iso_day(self.period_to)


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _record_id(record_id_hex: str) -> bytes:
    if not isinstance(record_id_hex, str) or not _HEX_ID.match(record_id_hex):
        raise Invalid("a record id is 64 lowercase hexadecimal digits", code="invalid_record_id")
    return bytes.fromhex(record_id_hex)


def _summary(row) -> SignedReport:
    # Only the summary fields are read: the items list can hold 20 000 entries
    # and is not validated again for a listing (it was when signed).
    body = canonical.decode(row["content"]) if row["content"] is not None else {}
    return SignedReport(
        id_hex=row["id"].hex(), seq=row["seq"], time_ms=row["time"], donor=str(body.get("donor", "")),
        lots=tuple(str(lot.get("ref", "")) if isinstance(lot, dict) else str(lot) for lot in body.get("lots", ())),
        period_from=str(body.get("period_from", "")),
        period_to=str(body.get("period_to", "")), items=len(body.get("items", ())),
    )  # fmt: skip


async def donor_reports(db: Reader, author: bytes, *, limit: int = 50, offset: int = 0) -> list[SignedReport]:
    """The donor reports ``author`` (the node) signed, newest first."""
    if not 1 <= limit <= 500 or offset < 0:
        raise Invalid("limit is 1 to 500 and offset is not negative", code="invalid")
    rows = await db.all(
        "SELECT id, seq, time, content FROM log_records WHERE author = ? AND kind IN (?, ?)"
        " ORDER BY seq DESC LIMIT ? OFFSET ?",
        (author, DonorReport.KIND, DonorReport2.KIND, limit, offset),
    )
    return [_summary(row) for row in rows]


async def count_donor_reports(db: Reader, author: bytes) -> int:
    """How many donor reports ``author`` signed (the pager of the reports page)."""
    row = await db.one("SELECT COUNT(*) AS n FROM log_records WHERE author = ? AND kind IN (?, ?)",
                       (author, DonorReport.KIND, DonorReport2.KIND))  # fmt: skip
    return int(row["n"])


async def donor_report(db: Reader, record_id_hex: str) -> SignedReport:
    """One signed donor report's summary, or ``NotFound``."""
    row = await db.one(
        "SELECT id, seq, time, content FROM log_records WHERE id = ? AND kind IN (?, ?)",
        (_record_id(record_id_hex), DonorReport.KIND, DonorReport2.KIND),
    )
    if row is None:
        raise NotFound(f"no donor report {record_id_hex}")
    return _summary(row)


async def signed_document(db: Reader, record_id_hex: str) -> bytes:
    """The signed document (``.mlnrec``) of a record of the log that carries its content.

    Raises ``Invalid`` for a malformed id, ``NotFound`` when the log has no
    such record or only its stub (a record sent to other readers).
    """
    row = await db.one("SELECT envelope, content FROM log_records WHERE id = ?", (_record_id(record_id_hex),))
    if row is None or row["content"] is None:
        raise NotFound(f"no signed document {record_id_hex}")
    return write_record_file(open_envelope(row["envelope"]).with_content(row["content"]))
