"""A spreadsheet of items with their history, read as associations keep it.

One row per item: its description (``node.imports.sheet``'s columns), and
what happened to it: lot, donor, reception date, erasure, fate
(distributed, recycled...), the fate's date, the beneficiary's category,
the price. ``map_history`` understands the columns by their headers (French
or English, any case, with or without accents) or by the person's own
choice (``columns``: header -> field, remembered per node), and turns each
row into a ``HistoryRow`` or into ``RowError``\\ s. A bad row never stops
the others: it is listed with its reason, and every value no field accepts
is gathered in ``unknown_values`` with the values that field accepts.

Columns mapped to no field are kept with each item as notes (``notes``).
Pure: a ``Sheet`` in, frozen dataclasses out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from node.categories import HAS_STORAGE
from node.imports.errors import ImportFailed
from node.imports.sheet import (
    _ALIAS,
    _CATEGORY_VALUES,
    _NO_VALUE,
    RowError,
    Sheet,
    _BadValue,
    _norm,
    _put,
    _quote,
)

__all__ = ["HistoryRow", "MappedHistory", "UnknownValue", "map_history", "FIELDS", "IGNORE", "NOTE",
           "ACCEPTED", "default_columns", "remembered_columns", "parse_day"]  # fmt: skip

IGNORE, NOTE = "", "note"  # a column the person leaves out, or keeps as a note on each item

# Every field a column may be mapped to, in the order a preview lists them.
FIELDS: tuple[str, ...] = (
    "category", "brand", "model", "serial", "donor_asset", "weight_g", "cpu", "ram_mb", "storage_gb",
    "storage_type", "grade", "lot", "donor", "received_on", "erasure", "erased_on", "fate", "fate_on",
    "beneficiary_category", "price_cents", "recipient",
)  # fmt: skip

_HISTORY_ALIASES: dict[str, tuple[str, ...]] = {
    "donor": ("donateur", "donor", "donneur", "entreprise", "origine", "provenance", "structure donatrice"),
    "received_on": ("date de reception", "reception", "date reception", "recu le", "date d entree", "entree",
                    "date du don", "date de collecte", "received on", "reception date", "date lot"),
    "erasure": ("effacement", "effacement des donnees", "efface", "erasure", "erased", "nettoyage",
                "effacement disque", "wipe"),
    "erased_on": ("date d effacement", "date effacement", "efface le", "erased on", "erasure date"),
    "fate": ("devenir", "destination", "sortie", "fate", "statut", "etat final", "issue", "orientation"),
    "fate_on": ("date de sortie", "date sortie", "date de don", "date de distribution", "date distribution",
                "date du devenir", "sorti le", "fate on", "fate date", "date de remise"),
    "beneficiary_category": ("categorie de beneficiaire", "categorie beneficiaire", "beneficiaire",
                             "type de beneficiaire", "public", "beneficiary", "beneficiary category"),
    "price_cents": ("prix", "prix solidaire", "prix de vente", "tarif", "montant", "price", "prix eur",
                    "prix euros", "prix ttc"),
    "recipient": ("recycleur", "eco organisme", "destinataire", "recipient"),
}  # fmt: skip
_HISTORY_ALIAS = {alias: fld for fld, aliases in _HISTORY_ALIASES.items() for alias in aliases}

# Values accepted, as written in spreadsheets (normalised by _norm), for the history's own fields.
_FATE_VALUES = {
    "distributed": ("distribue", "distribuee", "donne", "donnee", "remis", "remise", "vendu", "vendue", "reemploi",
                    "reemploye", "beneficiaire", "distributed", "given", "sold"),
    "recycled": ("recycle", "recyclee", "recyclage", "deee", "d3e", "ecologic", "rebut", "dechet", "recycled"),
    "dismantled": ("demantele", "demantelement", "pieces", "pieces detachees", "demonte", "dismantled", "parts"),
    "transferred": ("transfere", "transferee", "transfert", "cede", "cedee", "transferred"),
    "": ("stock", "en stock", "en cours", "atelier", "a faire", "in stock"),
}  # fmt: skip
_FATE = {_norm(word): fate for fate, words in _FATE_VALUES.items() for word in words}
_BENEFICIARY_VALUES = {
    "person": ("personne", "particulier", "particuliere", "famille", "menage", "individu", "person", "individual"),
    "association": ("association", "asso", "associatif"),
    "school": ("ecole", "etablissement scolaire", "college", "lycee", "scolaire", "school"),
    "ess": ("ess", "structure ess", "entreprise d insertion", "insertion"),
    "other": ("autre", "other"),
}  # fmt: skip
_BENEFICIARY = {_norm(word): cat for cat, words in _BENEFICIARY_VALUES.items() for word in words}
_YES = {"oui", "o", "yes", "y", "x", "ok", "fait", "efface", "effacee", "true", "vrai", "1"}
_NO = {"non", "n", "no", "false", "faux", "0", "a faire", "pas efface"}
_DESTROY = ("detruit", "destruction", "broye", "perce", "destroyed", "shredded")

# What a person may type, per field whose values are a closed list (shown beside an unknown value).
ACCEPTED: dict[str, tuple[str, ...]] = {
    "category": tuple(_CATEGORY_VALUES),
    "fate": tuple(f for f in _FATE_VALUES if f),
    "beneficiary_category": tuple(_BENEFICIARY_VALUES),
    "erasure": ("oui", "non", "détruit", "nwipe", "blancco", "date JJ/MM/AAAA"),
    "storage_type": ("hdd", "ssd", "nvme", "emmc", "other"),
    "grade": ("A", "B", "C", "D", "E"),
}
_DATE_FIELDS = ("received_on", "erased_on", "fate_on")
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class HistoryRow:
    """One item and what became of it; weight in grams, price in cents, dates as days."""

    line: int
    item: dict[str, Any]  # ItemInput's fields (category, brand, model...)
    lot: str | None = None
    donor: str | None = None
    received_on: date | None = None
    erased: bool = False
    erasure_method: str | None = None
    erasure_level: str = "clear"
    erased_on: date | None = None
    fate: str | None = None
    fate_on: date | None = None
    beneficiary_category: str | None = None
    price_cents: int | None = None
    recipient: str | None = None
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnknownValue:
    """A value no field accepts, the rows that hold it, and what the field accepts."""

    column: str
    field: str
    value: str
    lines: tuple[int, ...]
    count: int
    accepted: tuple[str, ...]


@dataclass(frozen=True)
class MappedHistory:
    """The rows understood, the rows left out (with why), and how the columns were read."""

    rows: list[HistoryRow]
    errors: list[RowError]
    columns: dict[str, str]  # every header -> its field, NOTE or IGNORE
    unknown_values: list[UnknownValue]
    headers: list[str] = field(default_factory=list)
    # Why no row could be read (no category column, a field read from two columns): the person
    # chooses the columns again in the preview, so the headers and columns are kept.
    problem: ImportFailed | None = None

    @property
    def unmapped(self) -> list[str]:
        return [h for h, f in self.columns.items() if f in (IGNORE, NOTE)]


def default_columns(headers: list[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """What each header means: the person's earlier choice for that header, else its known name, else a note.

    ``remembered`` is keyed by normalised header (``_norm``). A field claimed
    twice goes to the first column; the others become notes.
    """
    remembered = remembered or {}
    columns: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        if not header.strip() or header in columns:
            continue
        key = _norm(header)
        if key in remembered and remembered[key] in (*FIELDS, IGNORE, NOTE):
            fld = remembered[key]
        elif key in _HISTORY_ALIAS:
            fld = _HISTORY_ALIAS[key]
        elif key in _ALIAS:
            fld = _ALIAS[key][1]
        else:
            fld = NOTE
        if fld in FIELDS and fld in taken:
            fld = NOTE
        taken.add(fld)
        columns[header] = fld
    return columns


def remembered_columns(columns: dict[str, str], remembered: dict[str, str]) -> dict[str, str]:
    """``remembered`` with the choices of ``columns`` (header -> field) added, keyed by normalised header."""
    return {**remembered, **{_norm(header): fld for header, fld in columns.items() if _norm(header)}}


def _units(headers: list[str]) -> dict[str, str]:
    """The unit a header implies for weight, RAM and storage (``poids (kg)``, ``RAM (Go)``)."""
    units = {}
    for header in headers:
        found = _ALIAS.get(_norm(header))
        units[header] = found[2] if found else ""
    return units


_DAY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def parse_day(text: str) -> date:
    """A day as spreadsheets write it: 01/06/2023, 1.6.23, 2023-06-01, an .xlsx date, an Excel serial number."""
    value = text.strip()
    try:
        if (m := _ISO.match(value)) is not None:
            return date(int(m[1]), int(m[2]), int(m[3]))
        if (m := _DAY.match(value)) is not None:
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return date(year, int(m[2]), int(m[1]))
        if value.isdigit() and 20000 <= int(value) <= 80000:  # a date cell read as its number
            return _EXCEL_EPOCH + timedelta(days=int(value))
    except ValueError:
        pass
    raise _BadValue("bad_date", f"{_quote(text)} is not a date: write it as 01/06/2023")


def _price(text: str) -> int:
    raw = re.sub(r"[\s\u00a0\u202f€]|eur(os?)?$", "", text.strip().lower()).replace(",", ".")
    try:
        cents = int((Decimal(raw) * 100).to_integral_value())
    except InvalidOperation as exc:
        raise _BadValue("bad_price", f"{_quote(text)} is not a price in euros") from exc
    if not 0 <= cents <= 10**7:
        raise _BadValue("bad_price", f"{_quote(text)} is not a price in euros")
    return cents


def _closed(fld: str, table: dict[str, str], text: str) -> str:
    key = _norm(text)
    found = table.get(key)
    if found is None:
        found = table.get(" ".join(w.rstrip("sx") for w in key.split()))
    if found is None:
        raise _BadValue(f"unknown_{fld}", f"unknown value {_quote(text)}")
    return found


def _erasure(text: str, values: dict[str, Any]) -> None:
    key = _norm(text)
    if key in _NO or key in _NO_VALUE:
        return
    if any(word in key for word in _DESTROY):
        values.update(erased=True, erasure_level="destroy", erasure_method=text[:200])
        return
    if key in _YES:
        values.update(erased=True)
        return
    try:
        values.update(erased=True, erased_on=values.get("erased_on") or parse_day(text))
        return
    except _BadValue:
        pass
    if re.search(r"[a-z]", key) and len(text) <= 200:  # a tool or method: "nwipe", "Blancco DoD"
        values.update(erased=True, erasure_method=text)
        return
    raise _BadValue("unknown_erasure", f"unknown value {_quote(text)}")


def _field(values: dict[str, Any], item: dict[str, Any], fld: str, unit: str, text: str) -> None:
    if fld in ("category", "brand", "model", "serial", "donor_asset", "weight_g", "cpu", "ram_mb", "storage_gb",
               "storage_type", "grade", "lot"):  # fmt: skip
        _put(item, fld, unit, text)
        return
    if _norm(text) in _NO_VALUE and fld != "erasure":
        return
    if fld in _DATE_FIELDS:
        values[fld] = parse_day(text)
    elif fld == "fate":
        values["fate"] = _closed("fate", _FATE, text) or None
    elif fld == "beneficiary_category":
        values["beneficiary_category"] = _closed("beneficiary_category", _BENEFICIARY, text)
    elif fld == "price_cents":
        values["price_cents"] = _price(text)
    elif fld == "erasure":
        _erasure(text, values)
    elif fld in ("donor", "recipient"):
        if len(text) > 200:
            raise _BadValue("too_long", "more than 200 characters")
        values[fld] = " ".join(text.split())


def _check(values: dict[str, Any], item: dict[str, Any], today: date) -> list[tuple[str, str, str]]:
    """What is wrong with a row read whole: (field, message, code)."""
    problems = []
    for fld in _DATE_FIELDS:
        day = values.get(fld)
        if day is not None and day > today:
            problems.append((fld, f"the date {day.isoformat()} is in the future", "future_date"))
        if day is not None and day.year < 1980:
            problems.append((fld, f"the date {day.isoformat()} is before 1980", "bad_date"))
    received = values.get("received_on")
    for fld in ("erased_on", "fate_on"):
        day = values.get(fld)
        if day is not None and received is not None and day < received:
            problems.append((fld, f"the date {day.isoformat()} is before the reception ({received.isoformat()})",
                             "before_reception"))  # fmt: skip
    fate = values.get("fate")
    if values.get("beneficiary_category") and fate not in (None, "distributed"):
        problems.append(("beneficiary_category", "a beneficiary is given for an item that was not distributed",
                         "beneficiary_without_distribution"))  # fmt: skip
    if values.get("price_cents") and fate != "distributed":
        problems.append(("price_cents", "a price is given for an item that was not distributed", "price_without_distribution"))
    if (fate in ("distributed", "recycled", "transferred") and not values.get("erased")
            and item.get("category") in HAS_STORAGE):  # fmt: skip
        problems.append(("erasure", f"a {item['category']} that left ({fate}) needs its data erasure: say it in the "
                         "erasure column", "erasure_required"))  # fmt: skip
    return problems


def map_history(sheet: Sheet, columns: dict[str, str] | None = None, *, today: date,
                remembered: dict[str, str] | None = None, watch: Callable[[], None] | None = None,
                ) -> MappedHistory:  # fmt: skip
    """Read every row of ``sheet`` with ``columns`` (header -> field; by default ``default_columns``).

    ``today``: the node's day, after which no date can be; ``remembered``: the
    node's earlier choices (normalised header -> field).
    """
    chosen = default_columns(sheet.headers, remembered)
    for header, fld in (columns or {}).items():
        if header in chosen and fld in (*FIELDS, IGNORE, NOTE):
            chosen[header] = fld
    taken = [f for f in chosen.values() if f in FIELDS]
    twice = sorted({f for f in taken if taken.count(f) > 1})
    problem = None
    if twice:
        problem = ImportFailed(sheet.header_line, f"two columns are read as {', '.join(twice)}: choose one",
                               code="column_twice")  # fmt: skip
    elif "category" not in taken:
        problem = ImportFailed(sheet.header_line, "no column is read as the category: choose one",
                               code="no_category_column")  # fmt: skip
    if problem is not None:
        return MappedHistory(rows=[], errors=[], columns=chosen, unknown_values=[], headers=list(sheet.headers),
                             problem=problem)  # fmt: skip
    units = _units(sheet.headers)
    index = {header: n for n, header in reversed(list(enumerate(sheet.headers)))}
    mapped = [(index[h], h, f) for h, f in chosen.items() if f in FIELDS]
    noted = [(index[h], h) for h, f in chosen.items() if f == NOTE]
    rows: list[HistoryRow] = []
    errors: list[RowError] = []
    unknown: dict[tuple[str, str], list[int]] = {}
    for number, row in enumerate(sheet.rows):
        if watch is not None and number % 1000 == 999:
            watch()
        values: dict[str, Any] = {}
        item: dict[str, Any] = {}
        row_errors: list[RowError] = []
        for column, header, fld in mapped:
            text = row.cells[column].strip() if column < len(row.cells) else ""
            try:
                _field(values, item, fld, units.get(header, ""), text)
            except _BadValue as bad:
                row_errors.append(RowError(row.line, header, bad.message, bad.code))
                if bad.code.startswith("unknown_"):
                    unknown.setdefault((header, text), []).append(row.line)
        if not row_errors:
            row_errors = [RowError(row.line, next((h for _, h, f in mapped if f == fld), None), message, code)
                          for fld, message, code in _check(values, item, today)]  # fmt: skip
        if row_errors:
            errors.extend(row_errors)
            continue
        notes = {header: row.cells[column].strip() for column, header in noted
                 if column < len(row.cells) and row.cells[column].strip()}  # fmt: skip
        lot = item.pop("lot", None)
        rows.append(HistoryRow(line=row.line, item=item, lot=lot, notes=notes, **values))
    fields_of = {h: f for _, h, f in mapped}
    unknown_values = [
        UnknownValue(column=header, field=fields_of[header], value=value, lines=tuple(lines[:20]), count=len(lines),
                     accepted=ACCEPTED.get(fields_of[header], ()))
        for (header, value), lines in sorted(unknown.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][1]))
    ]  # fmt: skip
    return MappedHistory(rows=rows, errors=errors, columns=chosen, unknown_values=unknown_values,
                         headers=list(sheet.headers))  # fmt: skip
