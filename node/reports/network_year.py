"""A hub's year for its activity report ("Quelques chiffres"): its own figures and its members', each counted once."""

from __future__ import annotations

from dataclasses import dataclass

from node.network.regional import aggregate
from node.store.database import Reader

__all__ = ["Year", "year_figures"]


@dataclass(frozen=True, slots=True)
class Year:
    """A year's figures from the members' reports, and how many members they cover."""

    figures: dict[str, int]
    certified: int  # members certified for some of the year, or reporting in it
    reporting: int
    partial: int  # members whose reports cover only part of the year


async def year_figures(db: Reader, hub: bytes, year: str) -> Year:
    """The year's figures for the hub's own use: its own and, per member, its yearly report if one counts,
    else its quarters', else its months' (``counted_reports``, ``own_parts``), each time counted once."""
    result = await aggregate(db, hub, year)
    months: dict[bytes, int] = {}
    for report in result.reports:
        months[report.member] = months.get(report.member, 0) + (12 if len(report.period) == 4 else
                                                                3 if "-Q" in report.period else 1)  # fmt: skip
    figures = {k: v for k, v in result.all_figures.items() if not k.startswith("members.")}
    return Year(figures, len(set(result.missing) | set(months)), len(months),
                sum(1 for count in months.values() if count < 12))  # fmt: skip
