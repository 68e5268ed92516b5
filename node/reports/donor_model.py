"""What a donor report says: pure, frozen data and the figures derived from it.

A donor report lists, for one donor's lot(s) over a period, every item with
its fate and its erasure proofs, plus totals and the environmental impact
with the figures needed to redo its arithmetic. The REEN law (décret
2023-266) makes this per-serial account the public donor's evidence of
reuse, so the figures here are integers (grams, per-mille) and computed in
one place: the PDF, a web page and a test all show the same numbers.

Nothing here reads a database, a clock or a file; whoever builds a
``DonorReport`` gathers the data, this module only checks it holds together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

from node.categories import HAS_STORAGE
from node.domain.impact import ImpactLine
from node.domain.states import FATES, STATES

__all__ = [
    "IN_STOCK",
    "FATE_KEYS",
    "ErasureProof",
    "ReportLine",
    "ImpactLine",
    "FateTotal",
    "Reception",
    "DonorReport",
]

# Key of ``DonorReport.totals_by_fate`` for items that have no fate yet.
IN_STOCK = "in_stock"
# Order of the totals: the four fates as in node.domain.states, then what is left.
FATE_KEYS: tuple[str, ...] = (*FATES, IN_STOCK)

_LEVELS = frozenset({"clear", "purge", "destroy"})  # NIST SP 800-88
_RESULTS = frozenset({"success", "failure"})
_DAY = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


@dataclass(frozen=True)
class ErasureProof:
    """One erasure of one disk (or of the device's storage when the disk is unnamed)."""

    disk_serial: str | None
    method: str  # as the tool names it: "PRNG stream", "ATA secure erase"...
    level: str  # NIST SP 800-88: clear, purge or destroy
    tool: str
    time_ms: int
    result: str  # success or failure
    by: str | None = None  # the node that signed it (name · fingerprint), when not the report's issuer
    certificate_sha256: str | None = None  # hex: the certificate or log file the tool wrote

    def __post_init__(self) -> None:
        if self.level not in _LEVELS:
            raise ValueError(f"erasure level {self.level!r} is not one of clear, purge, destroy")
        if self.result not in _RESULTS:
            raise ValueError(f"erasure result {self.result!r} is not success or failure")


@dataclass(frozen=True)
class ReportLine:
    """One item of the donor's lot(s), as the donor will read it."""

    gid: str
    asset_tag: str
    donor_asset: str | None
    serial: str | None
    category: str
    brand: str | None
    model: str | None
    state: str  # canonical state (node.domain.states.STATES)
    fate: str | None  # one of node.domain.states.FATES, None while the item is still here
    fate_time_ms: int | None
    beneficiary_category: str | None
    weight_g: int
    erasures: tuple[ErasureProof, ...]
    processed_by: str | None  # the node that signed the fate (or holds the item), when not this node: name · fingerprint
    lot: str | None = None  # the donor's lot the item came in
    missing_at: str | None = None  # the node whose reception found it missing (name · fingerprint), if so

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state {self.state!r} is not a canonical state")
        if self.fate is not None and self.fate not in FATES:
            raise ValueError(f"fate {self.fate!r} is not one of {', '.join(FATES)}")
        if self.weight_g < 0:
            raise ValueError("weight_g must not be negative")

    @property
    def has_storage(self) -> bool:
        """Whether the item is expected to hold data: by its category, or because a disk was wiped."""
        return self.category in HAS_STORAGE or bool(self.erasures)

    @property
    def erased(self) -> bool:
        """Whether the item's storage is proven erased.

        True when there is at least one proof and, for each disk, the latest
        proof succeeded: a failed pass followed by a successful one on the
        same disk counts (that is how wiping stations retry), a disk whose
        last pass failed does not.
        """
        if not self.erasures:
            return False
        latest: dict[str | None, ErasureProof] = {}
        for proof in self.erasures:
            seen = latest.get(proof.disk_serial)
            if seen is None or proof.time_ms >= seen.time_ms:
                latest[proof.disk_serial] = proof
        return all(proof.result == "success" for proof in latest.values())


@dataclass(frozen=True)
class Reception:
    """What was declared and what was counted when a lot arrived: from the donor, or at a hand-off."""

    lot: str
    taker: str | None  # the node that received a hand-off (name · fingerprint); None: this node, from the donor
    declared_units: int | None
    declared_weight_g: int | None
    counted_units: int | None
    weighed_g: int | None
    missing: int = 0  # manifest lines of a hand-off the receipt lists missing
    received: str | None = None  # YYYY-MM-DD, when known

    @property
    def units_gap(self) -> int | None:
        """Counted minus declared units (negative: fewer arrived); None when either is unknown."""
        if self.declared_units is None or self.counted_units is None:
            return None
        return self.counted_units - self.declared_units

    @property
    def weight_gap_g(self) -> int | None:
        if self.declared_weight_g is None or self.weighed_g is None:
            return None
        return self.weighed_g - self.declared_weight_g


@dataclass(frozen=True)
class FateTotal:
    """How many items share a fate, and their weight."""

    units: int
    weight_g: int


@dataclass(frozen=True)
class DonorReport:
    """Everything a donor report shows; the derived figures are properties.

    ``lines`` keep the builder's order (the PDF does not re-sort them).
    ``record_id_hex`` names the signed, machine-readable version of the same
    report when one was published.
    """

    node_name: str
    node_fingerprint: str
    donor_name: str
    donor_type: str  # public_body, company or association
    siret: str | None
    lots: tuple[str, ...]
    period_from: str  # YYYY-MM-DD, inclusive
    period_to: str  # YYYY-MM-DD, inclusive
    generated_ms: int
    lines: tuple[ReportLine, ...]
    impact: tuple[ImpactLine, ...]
    factor_version: str
    factor_source: str
    record_id_hex: str | None
    receptions: tuple[Reception, ...] = ()
    chain_problems: tuple[str, ...] = ()  # what checking the signed records of every hop found wrong
    verify_url: str | None = None  # the issuing node's public verification page, printed as a QR code

    def __post_init__(self) -> None:
        for day in (self.period_from, self.period_to):
            if not _DAY.match(day):
                raise ValueError(f"period bound {day!r} is not YYYY-MM-DD")
        # ISO dates compare as text, which is why the format is checked first.
        if self.period_from > self.period_to:
            raise ValueError("period_from is after period_to")
        if self.record_id_hex is not None and not re.fullmatch(r"[0-9a-f]{64}", self.record_id_hex):
            raise ValueError("record_id_hex must be 64 lowercase hex digits")

    # Cached: the renderer asks several times and a report may hold 20 000 lines.
    # cached_property writes the instance __dict__ directly, so it works on a
    # frozen dataclass, and eq/hash only look at the fields.

    @cached_property
    def totals_by_fate(self) -> Mapping[str, FateTotal]:
        """Units and grams per fate, every key of ``FATE_KEYS`` present, in that order."""
        units = dict.fromkeys(FATE_KEYS, 0)
        grams = dict.fromkeys(FATE_KEYS, 0)
        for line in self.lines:
            key = line.fate or IN_STOCK
            units[key] += 1
            grams[key] += line.weight_g
        return MappingProxyType({key: FateTotal(units[key], grams[key]) for key in FATE_KEYS})

    @property
    def units(self) -> int:
        """Items in the report (received from the donor and traced here)."""
        return len(self.lines)

    @cached_property
    def weight_g(self) -> int:
        """Total weight of the items."""
        return sum(line.weight_g for line in self.lines)

    @property
    def units_with_fate(self) -> int:
        """Items that have left the stock, whatever their fate."""
        return self.units - self.totals_by_fate[IN_STOCK].units

    @property
    def reuse_rate_permille(self) -> int | None:
        """Distributed items per thousand items with a fate, rounded half up; None when none has one.

        Integer per-mille so that every screen shows the same digits; items
        still in stock are left out because their outcome is not known yet.
        """
        total = self.units_with_fate
        if total == 0:
            return None
        distributed = self.totals_by_fate["distributed"].units
        return (2000 * distributed + total) // (2 * total)

    @cached_property
    def erased_units(self) -> int:
        """Items whose storage is proven erased (see ``ReportLine.erased``)."""
        return sum(1 for line in self.lines if line.erased)

    @cached_property
    def storage_units(self) -> int:
        """Items expected to hold data, the denominator of the erasure count."""
        return sum(1 for line in self.lines if line.has_storage)

    @property
    def impact_co2e_g(self) -> int:
        """Avoided CO2e over all impact lines."""
        return sum(line.co2e_g for line in self.impact)

    @property
    def impact_materials_g(self) -> int:
        """Avoided raw materials over all impact lines."""
        return sum(line.materials_g for line in self.impact)

    @property
    def categories_without_factor(self) -> tuple[str, ...]:
        """Categories present in the lines that no impact line covers, in first-seen order."""
        covered = {line.category for line in self.impact}
        return tuple(dict.fromkeys(line.category for line in self.lines if line.category not in covered))
