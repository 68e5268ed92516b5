"""Avoided environmental impact: versioned factor tables and the arithmetic shown in full.

A reused device avoids making a new one. Per year of second life, ADEME
(2022) gives grams of CO2e and of raw materials avoided per category. The
impact of a period is ``units × years × factor`` per category, in integer
grams so that a report can be redone by hand to the gram.

Impact totals are never shown alone: the network's "566 970,8 kg CO2eq
évités" could not be reproduced from the published factors with any single
lifetime (DOMAIN.md), so every total travels with its formula, its factors,
their source and version, and the assumed years of second life
(``Impact.formula_lines``). Categories the table has no factor for (screens,
printers...) are listed apart, never counted as zero or guessed.

A table that has been used for a published figure must never change: a new
study or a correction is a new version in ``FACTOR_TABLES``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from node.errors import Invalid, NotFound

__all__ = [
    "Factor", "FactorTable", "ImpactLine", "Impact", "FACTOR_TABLES", "DEFAULT_FACTOR_VERSION",
    "factor_table", "impact", "format_kg",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Factor:
    """What one device of a category avoids per year of second life, in grams."""

    co2e_g_per_year: int
    materials_g_per_year: int

    def __post_init__(self) -> None:
        for value in (self.co2e_g_per_year, self.materials_g_per_year):
            if type(value) is not int or value < 0:
                raise ValueError("impact factors are whole, non-negative grams")


@dataclass(frozen=True)
class FactorTable:
    """A named, sourced, immutable set of factors by item category."""

    version: str
    source: str
    factors: Mapping[str, Factor]
    note: str = ""

    def __post_init__(self) -> None:
        # Read-only view: a table used for a published figure must not drift.
        object.__setattr__(self, "factors", MappingProxyType(dict(self.factors)))

    def __hash__(self) -> int:  # the mapping is not hashable; the version names the table
        return hash(self.version)


DEFAULT_FACTOR_VERSION = "ademe-2022"

FACTOR_TABLES: Mapping[str, FactorTable] = MappingProxyType({
    table.version: table
    for table in (
        FactorTable(
            version="ademe-2022",
            source="ADEME 2022, Évaluation de l'impact environnemental"
                   " d'un ensemble de produits reconditionnés",
            factors={
                "laptop": Factor(27_000, 127_000),
                "desktop": Factor(42_000, 259_000),
                "smartphone": Factor(24_600, 76_900),
                "tablet": Factor(20_000, 80_000),
            },
            note="Desktop figures as cited by the Ordi Grand Ouest 2023 activity report; "
                 "screens were not in the study.",
        ),
    )
})  # fmt: skip


def factor_table(version: str) -> FactorTable:
    """The factor table named ``version`` (the ``impact_factors`` setting), or ``NotFound``."""
    table = FACTOR_TABLES.get(version)
    if table is None:
        raise NotFound(f"no impact factor table {version!r}; known: {', '.join(FACTOR_TABLES)}")
    return table


@dataclass(frozen=True, slots=True)
class ImpactLine:
    """One category: ``units × years × factor``, for CO2e and for raw materials.

    Field names match ``node.reports.donor_model.ImpactLine`` so a report can
    take these lines as they are.
    """

    category: str
    units: int
    years: int
    factor_co2e_g_per_year: int
    factor_materials_g_per_year: int
    co2e_g: int
    materials_g: int

    def __post_init__(self) -> None:
        # Reports print this product as true: refuse lines where it is not.
        if min(self.units, self.years, self.factor_co2e_g_per_year, self.factor_materials_g_per_year) < 0:
            raise ValueError("impact units, years and factors must not be negative")
        if self.co2e_g != self.units * self.years * self.factor_co2e_g_per_year:
            raise ValueError(f"{self.category}: co2e_g is not units × years × factor")
        if self.materials_g != self.units * self.years * self.factor_materials_g_per_year:
            raise ValueError(f"{self.category}: materials_g is not units × years × factor")


@dataclass(frozen=True)
class Impact:
    """The avoided impact of some reused devices, with everything needed to redo it."""

    version: str
    source: str
    note: str
    years: int
    lines: tuple[ImpactLine, ...]
    # Units of categories the table has no factor for: shown, not counted.
    unfactored: Mapping[str, int] = field(default_factory=dict)

    @property
    def co2e_g(self) -> int:
        return sum(line.co2e_g for line in self.lines)

    @property
    def materials_g(self) -> int:
        return sum(line.materials_g for line in self.lines)

    def formula_lines(self) -> list[str]:
        """The computation as a person reads it, one line per step, source and version last.

        For example ``laptop: 550 × 3 years × 27.0 kg CO2e/year = 44 550.0 kg CO2e``.
        """
        years = _years(self.years)
        out = []
        for line in self.lines:
            product = f"{line.category}: {_int(line.units)} × {years}"
            out.append(f"{product} × {format_kg(line.factor_co2e_g_per_year)} kg CO2e/year"
                       f" = {format_kg(line.co2e_g)} kg CO2e")  # fmt: skip
            out.append(f"{product} × {format_kg(line.factor_materials_g_per_year)} kg raw materials/year"
                       f" = {format_kg(line.materials_g)} kg raw materials")  # fmt: skip
        out.append(f"total: {format_kg(self.co2e_g)} kg CO2e and {format_kg(self.materials_g)} kg raw materials"
                   f" avoided, assuming {years} of second life")  # fmt: skip
        for category, units in sorted(self.unfactored.items()):
            out.append(f"{category}: {_int(units)} units not counted (no factor in {self.version})")
        out.append(f"factors: {self.version}, {self.source}" + (f". {self.note}" if self.note else ""))
        return out


def impact(units_by_category: Mapping[str, int], years: int, table: FactorTable) -> Impact:
    """Avoided impact of ``units_by_category`` reused devices over ``years`` of second life.

    Lines follow the table's order; categories without a factor go to
    ``unfactored``; categories with no unit are left out.
    """
    if type(years) is not int or years < 1:
        raise Invalid("years of second life is a whole number, at least 1", code="invalid")
    for category, units in units_by_category.items():
        if type(units) is not int or units < 0:
            raise Invalid(f"{category}: units must be a whole, non-negative number", code="invalid")
    lines = tuple(
        ImpactLine(
            category=category, units=units, years=years,
            factor_co2e_g_per_year=f.co2e_g_per_year, factor_materials_g_per_year=f.materials_g_per_year,
            co2e_g=units * years * f.co2e_g_per_year, materials_g=units * years * f.materials_g_per_year,
        )
        for category, f in table.factors.items()
        if (units := units_by_category.get(category, 0))
    )  # fmt: skip
    unfactored = {c: u for c, u in sorted(units_by_category.items()) if u and c not in table.factors}
    return Impact(table.version, table.source, table.note, years, lines, MappingProxyType(unfactored))


def format_kg(grams: int) -> str:
    """Exact kilograms from grams, at least one decimal: 44_550_000 → ``44 550.0``, 24_650 → ``24.65``.

    Integer arithmetic, so that the printed figure is the stored one.
    """
    sign = "-" if grams < 0 else ""
    kg, g = divmod(abs(grams), 1000)
    decimals = f"{g:03d}".rstrip("0") or "0"
    return f"{sign}{_int(kg)}.{decimals}"


def _int(value: int) -> str:
    # A space between thousands, as French readers write them.
    return f"{value:,}".replace(",", " ")


def _years(years: int) -> str:
    return "1 year" if years == 1 else f"{years} years"
