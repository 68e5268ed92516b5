"""Periods in words ("novembre 2026", "3e trimestre 2026", "2026") and the list a person chooses one from.

A period is written ``2026``, ``2026-Q3`` or ``2026-11`` in URLs, files and
records (``node.domain.stats.period_bounds``); people read and choose it in words.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date

from web_ui.i18n import TIMEZONE, Formats, translator

__all__ = ["period_name", "period_options", "listed", "KIND_NAMES"]


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


QUARTERS = (_("Q1 {year}"), _("Q2 {year}"), _("Q3 {year}"), _("Q4 {year}"))
KIND_NAMES = {"month": _("Months"), "quarter": _("Quarters"), "year": _("Years")}


def _kind(period: str) -> str:
    return "year" if len(period) == 4 else "quarter" if "Q" in period else "month"


def period_name(period: str, language: str) -> str:
    """"novembre 2026", "3e trimestre 2026", "2026" (a valid period; anything else as it is)."""
    try:
        kind = _kind(period)
        if kind == "year":
            return str(int(period))
        if kind == "quarter":
            return translator(language)(QUARTERS[int(period[-1]) - 1], year=int(period[:4]))
        return format_date(date(int(period[:4]), int(period[5:7]), 1), format="LLLL y",
                           locale=Formats(language).locale)  # fmt: skip
    except (ValueError, IndexError):
        return period


def _periods(day: date) -> dict[str, list[str]]:
    """This month, quarter and year, and those before: 24 months, 8 quarters, 6 years, newest first."""
    months, quarters = [], []
    year, month = day.year, day.month
    for _n in range(24):
        months.append(f"{year}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    year, quarter = day.year, (day.month - 1) // 3 + 1
    for _n in range(8):
        quarters.append(f"{year}-Q{quarter}")
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return {"month": months, "quarter": quarters, "year": [str(day.year - n) for n in range(6)]}


def listed(period: str) -> bool:
    """Whether ``period`` is one of the period list's own choices (current or ended, within its range)."""
    return period in sum(_periods(datetime.now(TIMEZONE).date()).values(), [])


def period_options(language: str, selected: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """The choices of a period list, grouped (years first): (kind's name, [(period, its name)]).

    ``selected``, when it is a period not in the list (an old one from a link), is added to its group.
    """
    choices = _periods(datetime.now(TIMEZONE).date())
    selected = selected.strip().upper()
    if selected and selected not in sum(choices.values(), []):
        try:
            from node.domain.stats import period_bounds

            period_bounds(selected)
            choices[_kind(selected)].append(selected)
        except Exception:  # noqa: BLE001 - not a period: nothing to add, the page says why
            pass
    _t = translator(language)
    return [(_t(KIND_NAMES[kind]), [(p, period_name(p, language)) for p in choices[kind]])
            for kind in ("year", "quarter", "month")]  # fmt: skip
