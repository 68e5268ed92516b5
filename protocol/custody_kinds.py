"""The kinds of custody added after the first ones: the offer whose items carry their labels, explicit
fates with their erasure evidence, and the donor report.

``lot.offer/2`` is ``lot.offer/1`` whose items may carry ``tags``: the
labels the item has carried at the nodes that held it, oldest first, the
offering node's own last, so that the receiver finds an item by the label
printed on it (PROTOCOL.md, ``lot.offer/2``). A reader reads both versions
as a ``LotOffer`` (``LotOffer2`` is one), a version 1 item having no tags.

``item.fates/2`` is what the node that settles an item signs: an explicit
outcome (distributed with the beneficiary's category, recycled with its
weight and outflow, dismantled, transferred, in stock, missing at
reception) and the erasure evidence it holds for the item, disk by disk.
A node passing fates up the chain signs one carrying the records it
received, unchanged (``evidence``): it adds its own, never rewrites.
``lot.receipt/2`` is ``lot.receipt/1`` with the day the lot arrived, for a
hand-off entered after the day it happened (a network loading its past).
``donor.report/2`` is what the node that received the donor's lots signs:
the lots as counted at reception and the items they held. The fates
themselves are the records of whoever settled them (PROTOCOL.md, "Donor
proof bundle").

These kinds extend ``protocol.kinds.KINDS`` when this module is imported,
which ``protocol.records`` does, so that ``parse_body`` knows them wherever
a record is read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from protocol.kinds import (
    KINDS,
    BeneficiaryCategory,
    Body,
    Category,
    Count,
    Day,
    GlobalId,
    Grams,
    Key,
    LotOffer,
    LotReceipt,
    Millis,
    OfferedItem,
    RecordId,
    Text,
    _Part,
)  # fmt: skip

__all__ = [
    "ItemFates2", "FateStatement", "ErasureEvidence", "DonorReport2", "ReportedLot", "ReportLine2",
    "OUTCOMES", "MAX_EVIDENCE", "LotOffer2", "OfferedItem2", "OFFER_KINDS", "LotReceipt2", "RECEIPT_KINDS", "custody_time", "custody_time_of", "MAX_TAGS", "MAX_TAG_LENGTH", "valid_tag",
]  # fmt: skip

Outcome = Literal["distributed", "recycled", "dismantled", "transferred", "in_stock", "missing"]
OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]
MAX_EVIDENCE = 10_000
# A log entry with its content is at most 4 194 304 + 8192 bytes (PROTOCOL.md, "Log entry").
Entry = Annotated[bytes, Field(min_length=1, max_length=4 * 1024 * 1024 + 8192)]


MAX_TAGS = 16
MAX_TAG_LENGTH = 64


def valid_tag(text: str) -> str:
    """A label as printed: no control character (U+0000-U+001F, U+007F-U+009F), no space at either end."""
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):
        raise ValueError("a tag holds no control character")
    if text[:1] == " " or text[-1:] == " ":
        raise ValueError("a tag neither starts nor ends with a space")
    return text


Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG_LENGTH), AfterValidator(valid_tag)]


class OfferedItem2(OfferedItem):
    """A manifest line of ``lot.offer/2``: ``lot.offer/1``'s, with the labels the item carried."""

    tags: Annotated[list[Tag], Field(min_length=1, max_length=MAX_TAGS)] | None = None

    @model_validator(mode="after")
    def _check(self) -> "OfferedItem2":
        if self.tags is not None and len(set(self.tags)) != len(self.tags):
            raise ValueError("a tag appears twice")
        return self


class LotOffer2(LotOffer):
    """A offers a lot to ``recipient``; each item may name the labels it carried, the offering node's last."""

    KIND: ClassVar[str] = "lot.offer/2"
    items: Annotated[list[OfferedItem2], Field(min_length=1, max_length=20000)]  # type: ignore[assignment]


# The offer's versions: both are read (as a LotOffer), nodes sign the last.
OFFER_KINDS = (LotOffer.KIND, LotOffer2.KIND)


class LotReceipt2(LotReceipt):
    """B's receipt of a lot that arrived on an earlier day than B signs it (history entered later).

    ``lot.receipt/1`` with ``received_on``: the day the lot physically
    arrived, in B's calendar. Custody moved that day: B's items were
    received then, A's left then (PROTOCOL.md, ``lot.receipt/2``). A reader
    reads both versions as a ``LotReceipt`` (``LotReceipt2`` is one); a
    ``lot.receipt/1`` arrived the day of its record's time.
    """

    KIND: ClassVar[str] = "lot.receipt/2"
    received_on: Day


# The receipt's versions: both are read (as a LotReceipt); a node signs version 2 only for an earlier day.
RECEIPT_KINDS = (LotReceipt.KIND, LotReceipt2.KIND)


def custody_time(record_time: int, receipt: LotReceipt) -> int:
    """When custody moved at ``receipt``, signed at ``record_time`` (PROTOCOL.md, ``lot.receipt/2``).

    A ``lot.receipt/2``: 12:00 UTC of its ``received_on``, or the record's
    time if that is earlier; a ``lot.receipt/1``: the record's time.
    """
    return custody_time_of(record_time, receipt.received_on if isinstance(receipt, LotReceipt2) else None)


def custody_time_of(record_time: int, received_on: str | None) -> int:
    """``custody_time`` from a receipt's time and its ``received_on`` (None: a ``lot.receipt/1``)."""
    if received_on is None:
        return record_time
    noon = datetime(int(received_on[:4]), int(received_on[5:7]), int(received_on[8:]), 12, tzinfo=UTC)
    return min(record_time, (noon - _EPOCH) // timedelta(milliseconds=1))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ErasureEvidence(_Part):
    """One erasure pass of one disk, as the node that ran (or imported) it holds it."""

    method: Text
    level: Literal["clear", "purge", "destroy"]
    tool: Text
    time: Millis
    result: Literal["success", "failure"]
    disk_serial: Text | None = None
    certificate_sha256: Annotated[bytes, Field(min_length=32, max_length=32)] | None = None


class FateStatement(_Part):
    """What became of one item, as the node holding it states it."""

    gid: GlobalId
    outcome: Outcome
    time: Millis
    erasures: Annotated[list[ErasureEvidence], Field(max_length=16)]
    beneficiary_category: BeneficiaryCategory | None = None
    outflow: Text | None = None
    weight_g: Grams | None = None
    to: Key | None = None

    @model_validator(mode="after")
    def _check(self) -> "FateStatement":
        if (self.beneficiary_category is not None) != (self.outcome == "distributed"):
            raise ValueError("beneficiary_category is given with the outcome distributed, and only then")
        if self.outcome == "recycled" and self.weight_g is None:
            raise ValueError("a recycled item states its weight")
        if self.weight_g is not None and self.outcome not in ("recycled", "dismantled"):
            raise ValueError("weight_g is given only with recycled or dismantled")
        if self.outflow is not None and self.outcome != "recycled":
            raise ValueError("outflow is given only with recycled")
        if self.to is not None and self.outcome != "transferred":
            raise ValueError("to is given only with the outcome transferred")
        return self


class ItemFates2(Body):
    """Explicit outcomes with their erasure evidence, and the records passed on from further down the chain."""

    KIND: ClassVar[str] = "item.fates/2"
    fates: Annotated[list[FateStatement], Field(max_length=20000)]
    corrects: RecordId | None = None
    evidence: Annotated[list[Entry], Field(min_length=1, max_length=MAX_EVIDENCE)] | None = None

    @model_validator(mode="after")
    def _check(self) -> "ItemFates2":
        if not self.fates and self.corrects is None and self.evidence is None:
            raise ValueError("at least one fate, unless the record corrects another or passes evidence on")
        if len({fate.gid for fate in self.fates}) != len(self.fates):
            raise ValueError("an item appears twice among the fates")
        return self


class ReportedLot(_Part):
    """One of the donor's lots as the reporting node received it: declared, then counted and weighed."""

    ref: Text
    declared_units: Count | None = None
    declared_weight_g: Grams | None = None
    counted_units: Count | None = None
    weighed_g: Grams | None = None
    received: Day | None = None


class ReportLine2(_Part):
    """One item the donor gave, as the reporting node received it."""

    gid: GlobalId
    lot: Text
    category: Category
    serial: Text | None = None
    donor_asset: Text | None = None


class DonorReport2(Body):
    """The head of a donor proof bundle: the donor's lots and items, signed by the node that received them."""

    KIND: ClassVar[str] = "donor.report/2"
    donor: Text
    lots: Annotated[list[ReportedLot], Field(min_length=1, max_length=1000)]
    period_from: Day
    period_to: Day
    items: Annotated[list[ReportLine2], Field(max_length=20000)]
    donor_siret: Annotated[str, Field(pattern=r"^[0-9]{14}$")] | None = None
    factor_version: Text | None = None
    co2e_g: Annotated[int, Field(ge=0)] | None = None
    materials_g: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _check(self) -> "DonorReport2":
        if self.period_to < self.period_from:
            raise ValueError("period_to is before period_from")
        if len({item.gid for item in self.items}) != len(self.items):
            raise ValueError("an item appears twice")
        refs = {lot.ref for lot in self.lots}
        if len(refs) != len(self.lots):
            raise ValueError("a lot appears twice")
        if any(item.lot not in refs for item in self.items):
            raise ValueError("an item's lot is not among the lots")
        return self


KINDS.update({model.KIND: model for model in (ItemFates2, DonorReport2, LotOffer2, LotReceipt2)})
