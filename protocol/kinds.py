"""Record kinds: the body of each kind as a strict, versioned pydantic model.

A kind is named ``name/version`` in the header (``lot.offer/1``). A body is a
msgpack map; ``parse_body`` validates it strictly (no coercion, no unknown
field) and refuses a body whose canonical form differs from its model's:
optional fields are left out, never sent as nil. A new field or a changed
meaning makes a new version of the kind; the envelope does not change.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from protocol.errors import ContentInvalid, Reason
from protocol.vocabulary import CATEGORIES, BeneficiaryCategory, Category

__all__ = [
    "Body",
    "KINDS",
    "parse_body",
    "NodeDescriptor",
    "MembershipCertificate",
    "PeeringConvention",
    "KeyRotation",
    "KeyRevocation",
    "LotOffer",
    "OfferedItem",
    "LotAccept",
    "LotDecline",
    "LotCancel",
    "LotReceipt",
    "ExtraItem",
    "ItemFates",
    "Fate",
    "StatsReport",
    "RegionalSummary",
    "RegionalSummaryV2",
    "LogCheckpoint",
    "DonorReport",
    "ReportedItem",
    "ReportedErasure",
    "CATEGORIES",
]

Key = Annotated[bytes, Field(min_length=32, max_length=32)]
RecordId = Annotated[bytes, Field(min_length=32, max_length=32)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Millis = Annotated[int, Field(ge=0, le=2**63 - 1)]
Grams = Annotated[int, Field(ge=0, le=10**12)]
Count = Annotated[int, Field(ge=0, le=10**9)]
# Items keep one global id for life: a UUID in its 36-character text form.
GlobalId = Annotated[str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]


def _real_year(text: str) -> str:
    # The pattern leaves one case to refuse: the year 0000, which no calendar has.
    if text.startswith("0000"):
        raise ValueError("the year is 0001 to 9999")
    return text


Period = Annotated[str, Field(pattern=r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"), AfterValidator(_real_year)]



class Body(BaseModel):
    """Base of every kind's body."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)
    KIND: ClassVar[str]

    def to_content(self) -> dict[str, Any]:
        """The value to encode as the record's content."""
        return self.model_dump(mode="python", exclude_none=True)


class _Part(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)


def _valid_period(model: Any) -> Any:
    if model.valid_until <= model.valid_from:
        raise ValueError("valid_until must be after valid_from")
    return model


class NodeDescriptor(Body):
    """Who a node is and where to reach it; its first record, re-issued on change."""

    KIND: ClassVar[str] = "node.descriptor/1"
    name: Text
    role: Literal["member", "hub", "national"]
    endpoints: Annotated[list[Annotated[str, Field(min_length=1, max_length=300)]], Field(max_length=8)]
    encryption_key: Key | None = None
    network: Text | None = None
    software: Text | None = None


class MembershipCertificate(Body):
    """A hub admits a member (or national admits a hub) for a period."""

    KIND: ClassVar[str] = "membership.certificate/1"
    member: Key
    member_name: Text
    role: Literal["member", "hub"]
    network: Text
    valid_from: Millis
    valid_until: Millis

    _check = model_validator(mode="after")(_valid_period)


class PeeringConvention(Body):
    """A convention between two networks; in force once both hubs signed the same body."""

    KIND: ClassVar[str] = "peering.convention/1"
    hubs: Annotated[list[Key], Field(min_length=2, max_length=2)]
    networks: Annotated[list[Text], Field(min_length=2, max_length=2)]
    scope: Text
    valid_from: Millis
    valid_until: Millis

    @model_validator(mode="after")
    def _check(self) -> "PeeringConvention":
        if not self.hubs[0] < self.hubs[1]:
            raise ValueError("hubs are two distinct keys in ascending byte order")
        return _valid_period(self)


class KeyRotation(Body):
    """The last record of an old key, naming the key that continues the node."""

    KIND: ClassVar[str] = "key.rotation/1"
    new_key: Key
    reason: Text | None = None


class KeyRevocation(Body):
    """Records of ``key`` from ``from_seq`` on are no longer to be trusted."""

    KIND: ClassVar[str] = "key.revocation/1"
    key: Key
    from_seq: Annotated[int, Field(ge=1, le=2**63 - 1)]
    reason: Text


class OfferedItem(_Part):
    gid: GlobalId
    category: Category
    weight_g: Grams
    erasure: Literal["erased", "not_applicable", "pending"]
    serial: Text | None = None
    donor_asset: Text | None = None
    brand: Text | None = None
    model: Text | None = None


class LotOffer(Body):
    """A proposes to hand a lot (its manifest) to ``recipient``."""

    KIND: ClassVar[str] = "lot.offer/1"
    lot_ref: Text
    recipient: Key
    items: Annotated[list[OfferedItem], Field(min_length=1, max_length=20000)]
    units: Count
    weight_g: Grams
    orientations: Annotated[list[Code], Field(max_length=16)]
    expires: Millis
    donor_category: Literal["public_body", "company", "association"] | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _check(self) -> "LotOffer":
        if self.units != len(self.items):
            raise ValueError("units must equal the number of items")
        if len({item.gid for item in self.items}) != len(self.items):
            raise ValueError("an item appears twice in the manifest")
        return self


class LotAccept(Body):
    KIND: ClassVar[str] = "lot.accept/1"
    offer: RecordId
    note: Text | None = None


class LotDecline(Body):
    KIND: ClassVar[str] = "lot.decline/1"
    offer: RecordId
    reason: Code
    note: Text | None = None


class LotCancel(Body):
    """A withdraws an offer it made; only while the offer is not accepted."""

    KIND: ClassVar[str] = "lot.cancel/1"
    offer: RecordId
    reason: Code | None = None
    note: Text | None = None


class ExtraItem(_Part):
    category: Category
    weight_g: Grams
    serial: Text | None = None
    note: Text | None = None


GidList = Annotated[list[GlobalId], Field(max_length=20000)]


class LotReceipt(Body):
    """What physically arrived; custody moves when this record is written."""

    KIND: ClassVar[str] = "lot.receipt/1"
    offer: RecordId
    received: GidList
    missing: GidList
    damaged: GidList
    extra: Annotated[list[ExtraItem], Field(max_length=20000)]
    units_counted: Count
    weight_g: Grams
    note: Text | None = None

    @model_validator(mode="after")
    def _check(self) -> "LotReceipt":
        received, missing = set(self.received), set(self.missing)
        if (
            len(received) != len(self.received)
            or len(missing) != len(self.missing)
            or len(set(self.damaged)) != len(self.damaged)
            or received & missing
        ):
            raise ValueError("an item is listed twice among received, missing or damaged")
        if not set(self.damaged) <= received:
            raise ValueError("damaged items must be among the received ones")
        if self.units_counted != len(self.received) + len(self.extra):
            raise ValueError("units_counted must equal received plus extra items")
        return self


class Fate(_Part):
    gid: GlobalId
    fate: Literal["distributed", "recycled", "dismantled", "transferred"]
    time: Millis
    beneficiary_category: BeneficiaryCategory | None = None
    weight_g: Grams | None = None
    to: Key | None = None


class ItemFates(Body):
    """A batch of item outcomes flowing back toward the origin of the lot."""

    KIND: ClassVar[str] = "item.fates/1"
    fates: Annotated[list[Fate], Field(max_length=20000)]
    corrects: RecordId | None = None

    @model_validator(mode="after")
    def _check(self) -> "ItemFates":
        if not self.fates and self.corrects is None:
            raise ValueError("at least one fate, unless the record corrects another (then possibly none)")
        # ``to`` names the node an item was handed to; a transfer outside the federation names none.
        if any(fate.to is not None and fate.fate != "transferred" for fate in self.fates):
            raise ValueError("to is given only with the fate transferred")
        return self


def _first_supersedes_nothing(model: Any) -> Any:
    # Version 1 has no earlier version; from version 2 on ``supersedes`` stays optional (PROTOCOL.md).
    if model.version == 1 and model.supersedes is not None:
        raise ValueError("version 1 supersedes nothing")
    return model


Figures = Annotated[
    dict[Annotated[str, Field(pattern=r"^[a-z0-9_.]{1,64}$")], Annotated[int, Field(ge=-(2**62), le=2**62)]],
    Field(max_length=2000),
]


class StatsReport(Body):
    """A member's figures for a period; a correction supersedes an earlier version."""

    KIND: ClassVar[str] = "stats.report/1"
    period: Period
    version: Annotated[int, Field(ge=1)]
    figures: Figures
    supersedes: RecordId | None = None
    factor_version: Text | None = None

    _check = model_validator(mode="after")(_first_supersedes_nothing)


class RegionalSummary(Body):
    """A hub's aggregate for a period, naming the reports it contains."""

    KIND: ClassVar[str] = "regional.summary/1"
    period: Period
    version: Annotated[int, Field(ge=1)]
    figures: Figures
    reports: Annotated[list[RecordId], Field(max_length=10000)]
    missing: Annotated[list[Key], Field(max_length=10000)]
    supersedes: RecordId | None = None

    @model_validator(mode="after")
    def _check(self) -> "RegionalSummary":
        for name in ("reports", "missing"):  # one order, so one body for one summary
            values = getattr(self, name)
            if any(a >= b for a, b in zip(values, values[1:])):
                raise ValueError(f"{name} are distinct and in ascending byte order")
        return _first_supersedes_nothing(self)


FigureName = Annotated[str, Field(pattern=r"^[a-z0-9_.]{1,64}$")]


def _ascending(model: Any, *names: str) -> Any:
    for name in names:  # one order, so one body for one summary
        values = getattr(model, name)
        if any(a >= b for a, b in zip(values, values[1:])):
            raise ValueError(f"{name} are distinct and in ascending order")
    return model


class RegionalSummaryV2(Body):
    """A hub's aggregate for a period: its own report, its members' (a year's from its quarters and months
    where a member sent no yearly one), and which figures its publication rule pooled or withheld."""

    KIND: ClassVar[str] = "regional.summary/2"
    period: Period
    version: Annotated[int, Field(ge=1)]
    figures: Figures
    reports: Annotated[list[RecordId], Field(max_length=10000)]
    missing: Annotated[list[Key], Field(max_length=10000)]
    own: RecordId | None = None
    pooled: Annotated[list[FigureName], Field(max_length=2000)]
    withheld: Annotated[list[FigureName], Field(max_length=2000)]
    min_members: Annotated[int, Field(ge=1, le=10000)]
    supersedes: RecordId | None = None

    @model_validator(mode="after")
    def _check(self) -> "RegionalSummaryV2":
        _ascending(self, "reports", "missing", "pooled", "withheld")
        if self.own is not None and self.own in self.reports:
            raise ValueError("own is the hub's report, not one of its members' reports")
        if set(self.pooled) & set(self.withheld):
            raise ValueError("a figure is pooled or withheld, not both")
        if set(self.withheld) & set(self.figures) or not set(self.pooled) <= set(self.figures):
            raise ValueError("a withheld figure is not in figures; a pooled one is")
        return _first_supersedes_nothing(self)


class ReportedErasure(_Part):
    method: Text
    level: Literal["clear", "purge", "destroy"]
    tool: Text
    time: Millis
    result: Literal["success", "failure"]
    disk_serial: Text | None = None


class ReportedItem(_Part):
    gid: GlobalId
    category: Category
    state: Code
    erasures: Annotated[list[ReportedErasure], Field(max_length=16)]
    serial: Text | None = None
    donor_asset: Text | None = None
    fate_time: Millis | None = None
    beneficiary_category: BeneficiaryCategory | None = None
    processed_by: Text | None = None


def _real_day(text: str) -> str:
    # A day of the (proleptic Gregorian) calendar: not 2026-02-30, not 2025-02-29, not year 0000.
    try:
        date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError as exc:
        raise ValueError("not a day of the calendar (years 0001 to 9999)") from exc
    return text


Day = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), AfterValidator(_real_day)]


class DonorReport(Body):
    """The machine-readable donor report: each item's fate and erasure proofs."""

    KIND: ClassVar[str] = "donor.report/1"
    donor: Text
    lots: Annotated[list[Text], Field(max_length=1000)]
    period_from: Day
    period_to: Day
    items: Annotated[list[ReportedItem], Field(max_length=20000)]
    donor_siret: Annotated[str, Field(pattern=r"^[0-9]{14}$")] | None = None
    factor_version: Text | None = None
    co2e_g: Annotated[int, Field(ge=0)] | None = None
    materials_g: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _check(self) -> "DonorReport":
        if self.period_to < self.period_from:
            raise ValueError("period_to is before period_from")
        return self


class LogCheckpoint(Body):
    """A signed state of the hub's transparency log (RFC 9162 tree head)."""

    KIND: ClassVar[str] = "log.checkpoint/1"
    tree_size: Annotated[int, Field(ge=0, le=2**63 - 1)]
    root: RecordId


KINDS: dict[str, type[Body]] = {
    model.KIND: model
    for model in (
        NodeDescriptor, MembershipCertificate, PeeringConvention, KeyRotation, KeyRevocation,
        LotOffer, LotAccept, LotDecline, LotCancel, LotReceipt, ItemFates, StatsReport,
        RegionalSummary, LogCheckpoint, DonorReport, RegionalSummaryV2,
    )
}  # fmt: skip


def parse_body(kind: str, value: Any) -> Body:
    """Validate a decoded content value against the model of ``kind``.

    Raises ``ContentInvalid``: ``unknown_kind`` or ``bad_content``.
    """
    model = KINDS.get(kind)
    if model is None:
        raise ContentInvalid(Reason.UNKNOWN_KIND, f"unknown kind {kind!r}")
    if not isinstance(value, dict):
        raise ContentInvalid(Reason.BAD_CONTENT, "a body is a map")
    try:
        body = model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ContentInvalid(Reason.BAD_CONTENT, f"{kind}: {where}: {first['msg']}") from exc
    if _nil_in_a_map(value):  # (no field has a default but nil: this is the only way to_content could differ)
        raise ContentInvalid(Reason.BAD_CONTENT, f"{kind}: optional fields are omitted, never nil")
    return body


def _nil_in_a_map(value: Any) -> bool:
    """Whether a map anywhere in a decoded value holds nil: a field present with nil."""
    if type(value) is dict:
        if None in value.values():
            return True
        inside: Any = value.values()
    elif type(value) is list:
        inside = value
    else:
        return False
    for item in inside:
        kind = type(item)
        if (kind is dict or kind is list) and _nil_in_a_map(item):
            return True
    return False
