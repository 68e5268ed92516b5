"""The figures' downloads: CSV for scripts (figure keys, as signed), XLSX for people (headers in words).

``/reports/stats.csv``, ``/network.csv`` and ``/national.csv`` are machine
interfaces: one column per figure key (``distributed.laptop.units``),
values as the reports carry them (grams, counts), read by scripts and
compared across nodes; they stay as they are (``;``, UTF-8 with a BOM).
Their ``.xlsx`` twins hold the same cells with each header in the reader's
language (``web_ui.labels.figure_name``), for the activity report's
spreadsheet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web

from web_ui.labels import figure_name, figure_unit
from web_ui.pages.outputs_common import download
from web_ui.sheets import XLSX_TYPE, Sheet, xlsx_bytes

__all__ = ["SHEET_HEADS", "figures_xlsx", "figure_header"]


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


# the columns of those files that are not figures
SHEET_HEADS: dict[str, str] = {
    "period": _("Period"), "member": _("Member"), "fingerprint": _("Fingerprint"), "state": _("State"),
    "version": _("Version"), "row": _("Row"), "hub": _("Hub"), "network": _("Network"), "check": _("Check"),
    "reports_listed": _("Reports listed"), "reports_held": _("Reports held"),
    "reports_readable": _("Reports readable"), "sum_checked": _("Sum checked"), "log_audit": _("Log audit"),
    "min_members": _("Fewest members behind a pooled figure"), "pooled": _("Figures pooled (keys)"),
    "withheld": _("Figures withheld (keys)"), "figure": _("Figure"),
    "value": _("Value"), "key": _("Key"), "start_ms": _("Start (ms since 1970, UTC)"),
    "end_ms": _("End (ms since 1970, UTC)"), "computed_ms": _("Computed at (ms since 1970, UTC)"),
    "impact.factor_version": _("Impact factor table"), "impact.factor_source": _("Source of the factors"),
}  # fmt: skip


def figure_header(key: str, translate: Callable[..., str]) -> str:
    """A column's header in words; a weight says its unit (the files hold grams)."""
    if key in SHEET_HEADS:
        return translate(SHEET_HEADS[key])
    name = figure_name(key, translate)
    return f"{name} (g)" if figure_unit(key) == "grams" else name


def figures_xlsx(rows: Sequence[Sequence[object]], filename: str, translate: Callable[..., str],
                 title: str) -> web.Response:  # fmt: skip
    """``rows`` (figure keys in the first row) as an XLSX whose header row is in words."""
    sheet = Sheet([figure_header(str(key), translate) for key in rows[0]], rows[1:], title)
    return download(xlsx_bytes(sheet), XLSX_TYPE, filename)
