"""Cells that a spreadsheet opens as text, never as a formula (CSV injection).

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula, even in a CSV file, and a tab or carriage return
before one of those is skipped: a donor named ``=HYPERLINK(...)`` or an
item model typed by anyone with a technician account would run on the
computer of whoever opens the export. Every text cell the node writes to
a CSV file goes through ``neutralise``, which puts an apostrophe before
such a value (OWASP's advice): spreadsheets show it as text, and a person
reading the file sees what was typed. Numbers stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

__all__ = ["neutralise", "csv_writer", "FORMULA_STARTS"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value``, with an apostrophe first when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    """``csv.writer`` whose every text cell goes through ``neutralise``."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **options: Any) -> _SafeWriter:
    """A ``csv.writer`` (same options) that never writes a cell a spreadsheet would run."""
    return _SafeWriter(out, **options)
