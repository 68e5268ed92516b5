"""The rules of a hub's summary that need no storage: which reports make up a period, which figures leave.

- **Periods inside a period** (``parts``): a year's figures are its members'
  yearly reports, or, for a member that sent none, its quarters' reports,
  or, for a quarter it sent none for, its months' reports: each member's
  time is counted once, at the coarsest level it reported, never twice.
- **Publication** (``publish``): a figure of the summary built from reports
  the summary's readers may not read (a member's policy shares its
  statistics with its hub only, or its network) leaves only pooled over at
  least ``min_members`` such members (the hub's ``summary_min_members``
  setting, 3 by default); else it is withheld. Counting only the members
  whose figures are kept from the readers matters: with one such member and
  public ones beside it, a reader would take the public ones away and read
  the first one's figure.
- **Staff once per member** (``staff_once``): the ``workforce.*`` figures
  (FTE, work-integration jobs, volunteers) describe the association when
  it reported, not its period: of one author's reports that stand for a
  period (its months in a quarter...), each such figure counts from its
  report of the latest period that carries it, not from every one: a year
  of twelve monthly reports is not twelve times the association's staff.
  Across authors they add up as any figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from node.domain.stats import period_bounds

__all__ = ["parts", "Contribution", "Published", "publish", "contributes", "staff_once", "STAFF_PREFIX"]

STAFF_PREFIX = "workforce."

_FATE_UNITS = ("distributed", "recycled", "dismantled")
_SUMMARY_OWN = ("members.reporting", "members.missing")


def staff_once(reports: Sequence[tuple[bytes, str, Mapping[str, int]]]) -> list[dict[str, int]]:
    """The figures of ``reports`` (author, period, figures) ready to be summed: each author's ``workforce.*``
    figure kept only in its report of the latest period carrying it (the one ending last: one author's
    periods in a summary do not overlap), left out of its others. In the order given."""
    latest: dict[tuple[bytes, str], int] = {}
    for n, (author, period, figures) in enumerate(reports):
        for key in figures:
            if key.startswith(STAFF_PREFIX):
                best = latest.get((author, key))
                if best is None or period_bounds(period)[1] > period_bounds(reports[best][1])[1]:
                    latest[(author, key)] = n
    return [{key: value for key, value in figures.items()
             if not key.startswith(STAFF_PREFIX) or latest[(author, key)] == n}
            for n, (author, _period, figures) in enumerate(reports)]  # fmt: skip


def parts(period: str) -> list[tuple[str, list[str]]]:
    """The periods that stand for ``period``, coarsest first: ``[(part, [its own parts])]``.

    A year: its four quarters, each with its three months; a quarter: its
    three months; a month: nothing below it.
    """
    if len(period) == 4:
        year = period
        return [(f"{year}-Q{q}", [f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]) for q in range(1, 5)]
    if "-Q" in period:
        year, q = period[:4], int(period[-1])
        return [(f"{year}-{m:02d}", []) for m in range(3 * q - 2, 3 * q + 1)]
    return []


@dataclass(frozen=True, slots=True)
class Contribution:
    """One report in a summary: whose, its figures, and whether the summary's readers may read it."""

    author: bytes
    figures: Mapping[str, int]
    readable_by_readers: bool


@dataclass(frozen=True, slots=True)
class Published:
    figures: dict[str, int]
    pooled: list[str]
    withheld: list[str]


def contributes(key: str, figures: Mapping[str, int]) -> bool:
    """Whether a report with ``figures`` contributes to the summed figure ``key``."""
    if key == "reuse_rate_permille":
        return any(k.count(".") == 2 and k.endswith(".units") and k.split(".", 1)[0] in _FATE_UNITS for k in figures)
    return key in figures


def publish(summed: Mapping[str, int], contributions: Sequence[Contribution], min_members: int) -> Published:
    """``summed`` (the contributions' figures summed) less what the publication rule keeps from the readers.

    A figure to which only readable reports contribute leaves as it is; one
    with reports the readers may not read leaves *pooled* when those come
    from at least ``min_members`` distinct authors, else it is *withheld*.
    """
    figures: dict[str, int] = {}
    pooled: list[str] = []
    withheld: list[str] = []
    for key, value in summed.items():
        if key in _SUMMARY_OWN:
            figures[key] = value
            continue
        hidden = {c.author for c in contributions if not c.readable_by_readers and contributes(key, c.figures)}
        if not hidden:
            figures[key] = value
        elif len(hidden) >= min_members:
            figures[key] = value
            pooled.append(key)
        else:
            withheld.append(key)
    return Published(figures, sorted(pooled), sorted(withheld))


def authors(contributions: Iterable[Contribution]) -> set[bytes]:
    return {c.author for c in contributions}
