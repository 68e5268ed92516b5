"""Read the spreadsheets of items that associations keep today.

Two steps, so the person can check the second before anything is saved:
``read_sheet`` turns a ``.csv`` or ``.xlsx`` file into rows of text, then
``map_items`` recognises the columns (French or English headers, any case,
with or without accents) and turns each row into an ``ItemRow`` or into
``RowError``\\ s. A bad row never stops the others; only a file that cannot
be read, or has no category column, raises ``ImportFailed``.

Line numbers are the ones a person sees in the spreadsheet (header = 1).

Reading streams (``csv`` module, openpyxl's read-only mode) and stops at
``SheetLimits``: rows, columns, characters in a cell, and, before an
``.xlsx`` is opened at all, the size its parts take once unzipped (a zip
bomb is refused from its directory, without inflating anything). Beyond
them the file is refused whole with a stable code (``too_many_rows``,
``too_many_columns``, ``cell_too_long``, ``unzipped_too_large``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from node.imports.errors import ImportFailed

__all__ = ["ItemRow", "MappedItems", "RowError", "Sheet", "SheetLimits", "SheetRow", "map_items", "read_sheet"]


@dataclass(frozen=True, slots=True)
class SheetLimits:
    """The largest sheet read: beyond any of these, the file is refused whole."""

    rows: int = 50_000  # rows below the header
    columns: int = 256
    cell: int = 5_000  # characters in one cell
    unzipped: int = 200 * 1024 * 1024  # bytes the parts of an .xlsx take once unzipped


@dataclass(frozen=True)
class SheetRow:
    """One non-empty row: its line number and its cells as stripped text."""

    line: int
    cells: list[str]


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet read as text: the header row and the rows below it."""

    headers: list[str]
    rows: list[SheetRow]
    header_line: int = 1


@dataclass(frozen=True)
class ItemRow:
    """One item described by a row; weight in grams, RAM in MB, storage in GB."""

    line: int
    category: str
    brand: str | None = None
    model: str | None = None
    serial: str | None = None
    donor_asset: str | None = None
    weight_g: int | None = None
    cpu: str | None = None
    ram_mb: int | None = None
    storage_gb: int | None = None
    storage_type: str | None = None
    grade: str | None = None
    lot: str | None = None


@dataclass(frozen=True)
class RowError:
    """Why one row (``line``) was left out; ``column`` is the header as written."""

    line: int
    column: str | None
    message: str
    code: str
    values: dict[str, str] = field(default_factory=dict, compare=False)  # the cell, for saying it in French


@dataclass(frozen=True)
class MappedItems:
    """The rows recognised, the rows refused, and how the columns were understood."""

    rows: list[ItemRow]
    errors: list[RowError]
    unknown_columns: list[str]
    mapping: dict[str, str] = field(default_factory=dict)


# --- reading -------------------------------------------------------------

_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_sheet(data: bytes, filename: str, limits: SheetLimits = SheetLimits(), *,
               watch: Callable[[], None] | None = None) -> Sheet:  # fmt: skip
    """Read a ``.csv`` (``;``, ``,`` or tab; UTF-8, UTF-16 or cp1252) or ``.xlsx`` file, within ``limits``.

    ``watch`` is called every thousand rows; it may raise to stop the reading
    (the import worker checks its memory with it).
    """
    name = filename.lower()
    # old .xls and password-protected .xlsx are both OLE containers
    if (
        data.startswith(_OLE)
        or name.endswith((".ods", ".numbers"))
        or (name.endswith(".xls") and not data.startswith(_ZIP))
    ):
        raise ImportFailed(
            None,
            "this spreadsheet format cannot be read: save it as .xlsx (without password) or .csv",
            code="unsupported_format",
        )
    if data.startswith(_ZIP) or name.endswith((".xlsx", ".xlsm")):
        rows = _xlsx_rows(data, limits)
    else:
        rows = _csv_rows(_decode(data), limits)
    filled: list[tuple[int, list[str]]] = []
    for line, cells in rows:
        if watch is not None and line % 1000 == 0:
            watch()
        if not any(cells):
            continue
        if len(filled) > limits.rows:  # the header and `rows` rows below it are held already
            raise ImportFailed(line, f"the sheet has more than {limits.rows:,} rows: split it".replace(",", " "),
                               code="too_many_rows")  # fmt: skip
        filled.append((line, _fit(line, cells, limits)))
    if not filled:
        raise ImportFailed(None, "the spreadsheet is empty", code="empty_sheet")
    (header_line, headers), body = filled[0], filled[1:]
    return Sheet(
        headers=headers, rows=[SheetRow(line, cells) for line, cells in body], header_line=header_line
    )


def _fit(line: int, cells: list[str], limits: SheetLimits) -> list[str]:
    """The row's cells, refused if one is too long; empty columns beyond the limit are dropped."""
    if len(cells) > limits.columns:
        if any(cells[limits.columns :]):
            raise ImportFailed(line, f"a cell lies beyond column {limits.columns}: at most {limits.columns} columns",
                               code="too_many_columns")  # fmt: skip
        cells = cells[: limits.columns]
    if any(len(cell) > limits.cell for cell in cells):
        raise ImportFailed(line, f"a cell holds more than {limits.cell} characters", code="cell_too_long")
    return cells


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # what French Excel on Windows writes
    except UnicodeDecodeError:
        return data.decode("latin-1")  # cp1252 leaves five bytes undefined; latin-1 takes all


def _delimiter(line: str) -> str:
    counts = {d: 0 for d in ";\t,"}
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: counts[d])  # ties go to ";", French Excel's choice
    return best if counts[best] else ","


def _csv_rows(text: str, limits: SheetLimits) -> Iterator[tuple[int, list[str]]]:
    head = text[:65536].splitlines()
    first = next((line for line in head if line.strip()), "")
    delimiter, skip = _delimiter(first), 0
    if (hint := re.fullmatch(r'"?sep=(.)"?', head[0].strip() if head else "")) is not None:
        delimiter, skip = hint[1], 1  # Excel hides this line: it is not row 1 for the person
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # one record per spreadsheet row, even when a quoted cell holds line breaks
    number = 0
    try:
        for index, record in enumerate(reader):
            if index < skip:
                continue
            number += 1
            if len(record) > limits.columns and any(record[limits.columns :]):
                raise ImportFailed(number, f"a cell lies beyond column {limits.columns}: at most {limits.columns}"
                                   " columns", code="too_many_columns")  # fmt: skip
            yield number, [cell.strip() for cell in record[: limits.columns]]
    except csv.Error as exc:
        raise ImportFailed(None, f"this CSV file cannot be read: {exc}", code="bad_csv") from exc


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value).strip()


def _check_unzipped(data: bytes, limits: SheetLimits) -> None:
    """Refuse a zip bomb from the zip's directory, before anything is inflated.

    zipfile stops reading a part at the size the directory declares (and
    then fails its CRC check), so the declared sizes bound what openpyxl
    can inflate.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportFailed(None, "this .xlsx file cannot be read; open it and save it again", code="bad_xlsx") from exc
    if len(parts) > 10_000 or sum(part.file_size for part in parts) > limits.unzipped:
        raise ImportFailed(None, f"this .xlsx file holds more than {limits.unzipped // 2**20} MB once unzipped:"
                           " split it", code="unzipped_too_large")  # fmt: skip


def _xlsx_rows(data: bytes, limits: SheetLimits) -> Iterator[tuple[int, list[str]]]:
    import openpyxl  # imported here: only spreadsheet imports need it
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    _check_unzipped(data, limits)
    # A read-only sheet looks for its <dimension> when it opens, and a sheet without one
    # is parsed to its end to find out (three minutes for a million rows). The size is
    # not needed: reset_dimensions() below drops it anyway. So the look is skipped.
    size, ReadOnlyWorksheet._get_size = ReadOnlyWorksheet._get_size, lambda self: None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    # openpyxl reports a damaged file with many exception types (zip, XML, key, value...)
    except Exception as exc:
        raise ImportFailed(None, "this .xlsx file cannot be read; open it and save it again", code="bad_xlsx") from exc
    finally:
        ReadOnlyWorksheet._get_size = size
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong size, which would cut rows
        # Rows come one by one, the missing ones as empty rows, each padded up to its last cell.
        rows = sheet.iter_rows(values_only=True)
        line = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except ImportFailed:
                raise
            except Exception as exc:
                raise ImportFailed(line + 1, "this .xlsx file cannot be read; open it and save it again",
                                   code="bad_xlsx") from exc  # fmt: skip
            line += 1
            if len(values) > limits.columns and values[limits.columns :].count(None) != len(values) - limits.columns:
                raise ImportFailed(line, f"a cell lies beyond column {limits.columns}: at most {limits.columns}"
                                   " columns", code="too_many_columns")  # fmt: skip
            yield line, [_cell_text(value) for value in values[: limits.columns]]
    finally:
        book.close()


# --- mapping -------------------------------------------------------------


def _norm(text: str) -> str:
    """Lower case, no accents, words separated by one space: "N° de Série" -> "n de serie"."""
    text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe"))
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


# field, unit, normalised headers; the earlier alias wins when two columns claim a field
_ALIASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("category", "", ("categorie", "category", "type de materiel", "type d appareil", "type")),
    ("brand", "", ("marque", "brand", "fabricant", "constructeur", "manufacturer")),
    ("model", "", ("modele", "model")),
    ("serial", "", ("n de serie", "no de serie", "numero de serie", "num de serie", "n serie", "no serie",
                    "numero serie", "serial", "serial number", "s n", "sn")),
    ("donor_asset", "", ("n inventaire", "no inventaire", "n d inventaire", "numero d inventaire",
                         "numero inventaire", "inventaire", "asset", "asset tag", "n immo", "no immo",
                         "immobilisation", "n d immobilisation", "numero d immobilisation", "donor asset")),
    ("weight_g", "g", ("poids g", "poids en g", "poids grammes", "weight g")),
    ("weight_g", "kg", ("poids kg", "poids en kg", "poids", "weight kg", "weight")),
    ("cpu", "", ("processeur", "cpu")),
    ("ram_mb", "gb", ("ram go", "ram en go", "memoire go", "memoire vive go", "ram gb")),
    ("ram_mb", "mb", ("ram mo", "ram en mo", "memoire mo", "ram mb")),
    ("ram_mb", "auto", ("ram", "memoire", "memoire vive")),
    ("storage_gb", "gb", ("disque go", "stockage go", "storage gb", "disque dur go", "capacite go")),
    ("storage_gb", "auto", ("disque", "stockage", "disque dur", "capacite disque", "storage")),
    ("storage_type", "", ("type de disque", "type disque", "type de stockage", "storage type")),
    ("grade", "", ("grade", "etat", "condition")),
    ("lot", "", ("lot", "reference lot", "ref lot", "n lot", "no lot", "numero de lot")),
]  # fmt: skip
# rank = place in the table above: "catégorie" beats "type", "poids (g)" beats "poids"
_ALIAS = {
    alias: (rank, fld, unit)
    for rank, (fld, unit, alias) in enumerate(
        (fld, unit, alias) for fld, unit, aliases in _ALIASES for alias in aliases
    )
}
_CATEGORY_HEADERS = "Catégorie, Categorie, Category, Type"

_CATEGORY_VALUES = {
    "laptop": ("portable", "ordinateur portable", "pc portable", "laptop", "notebook"),
    "desktop": ("fixe", "unite centrale", "uc", "tour", "ordinateur fixe", "pc fixe", "desktop"),
    "screen": ("ecran", "moniteur", "screen", "monitor"),
    "tablet": ("tablette", "tablet"),
    "smartphone": ("smartphone", "telephone", "mobile", "phone"),
    "printer": ("imprimante", "printer"),
    "multifunction_printer": ("multifonction", "imprimante multifonction", "multifunction printer",
                              "multifunction_printer", "mfp"),
    "server": ("serveur", "server"),
    "network": ("reseau", "switch", "routeur", "network", "router"),
    "peripheral": ("peripherique", "clavier", "souris", "peripheral", "keyboard", "mouse"),
    "component": ("composant", "component"),
    "other": ("autre", "other"),
}  # fmt: skip
_CATEGORY = {_norm(word): category for category, words in _CATEGORY_VALUES.items() for word in words}
# the storage types of node.domain.items; order matters: "m.2 nvme" is nvme, "m.2" alone an SSD
_STORAGE_TYPES = (("nvme", "nvme"), ("emmc", "emmc"), ("ssd", "ssd"), ("flash", "ssd"), ("m 2", "ssd"),
                  ("hdd", "hdd"), ("disque dur", "hdd"), ("mecanique", "hdd"), ("rotatif", "hdd"),
                  ("dd", "hdd"), ("autre", "other"), ("other", "other"))  # fmt: skip
# what node.domain.items accepts; checked here so that a bad cell is a row error, not a failed import
_MAX = {"weight_g": 10**7, "ram_mb": 10**7, "storage_gb": 10**6}
_MAX_TEXT = 500
_NO_VALUE = {"", "-", "--", "?", "x", "na", "n a", "nc", "n c", "inconnu", "aucun", "sans", "illisible",
             "none", "unknown"}  # fmt: skip


def _quote(value: str) -> str:
    """The cell as quoted in a message, cut so that a runaway cell does not flood the screen."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


class _BadValue(Exception):
    def __init__(self, code: str, message: str, **values: str) -> None:
        super().__init__(message)
        self.code, self.message, self.values = code, message, values


def _category(value: str) -> str:
    key = _norm(value)
    if not key:
        raise _BadValue("missing_category", "the category is empty")
    found = _CATEGORY.get(key) or _CATEGORY.get(" ".join(w.rstrip("sx") for w in key.split()))
    if found is None:
        raise _BadValue("unknown_category", f"unknown category {_quote(value)}", value=value[:40])
    return found


_QUANTITY = re.compile(r"^(\d[\d \u00a0\u202f]*(?:[.,]\d+)?)\s*([a-z]{0,4})\.?\s*(.*)$")


def _quantity(value: str) -> tuple[Decimal, str, str]:
    """A positive number, the unit written after it, and any words after that."""
    match = _QUANTITY.match(value.strip().lower())
    if match is None:
        raise _BadValue("bad_number", f"{_quote(value)} is not a number", value=value[:40])
    digits = re.sub(r"[ \u00a0\u202f]", "", match[1]).replace(",", ".")
    try:
        return Decimal(digits), match[2], match[3]
    except InvalidOperation as exc:
        raise _BadValue("bad_number", f"{_quote(value)} is not a number", value=value[:40]) from exc


_TO_GRAMS = {"g": 1, "gr": 1, "kg": 1000, "kilo": 1000, "kilos": 1000}
_TO_MB = {"mo": 1, "mb": 1, "m": 1, "mio": 1, "mib": 1, "go": 1024, "gb": 1024, "g": 1024, "gio": 1024,
          "gib": 1024, "to": 1024**2, "tb": 1024**2}  # fmt: skip
_TO_GB: dict[str, Any] = {"mo": Decimal("0.001"), "mb": Decimal("0.001"), "go": 1, "gb": 1, "g": 1,
                          "to": 1000, "tb": 1000, "t": 1000}  # fmt: skip
_UNITS: dict[str, dict[str, Any]] = {"weight_g": _TO_GRAMS, "ram_mb": _TO_MB, "storage_gb": _TO_GB}


def _convert(fld: str, unit: str, value: str) -> tuple[int, str | None]:
    """The field's integer value, and a storage type found after the number."""
    number, written, rest = _quantity(value)
    if rest and fld != "storage_gb":
        raise _BadValue("bad_number", f"{_quote(value)} is not a number", value=value[:40])
    table: dict[str, Any] = _UNITS[fld]
    if written and written not in table:
        raise _BadValue("bad_unit", f"unknown unit {_quote(written)} in {_quote(value)}", unit=written,
                        value=value[:40])
    if written:
        factor = table[written]
    elif unit == "auto":  # "RAM" alone: 4, 8, 16 are GB; 256 and more are MB (512, 4096)
        factor = table["go"] if fld == "storage_gb" or number < 256 else table["mo"]
    else:
        factor = table[{"g": "g", "kg": "kg", "gb": "go", "mb": "mo"}[unit]]
    storage_type = _storage_type(rest) if rest else None
    result = int((number * factor).to_integral_value())
    if result > _MAX[fld]:
        raise _BadValue("out_of_range", f"{_quote(value)} is too large", value=value[:40])
    return result, storage_type


def _storage_type(value: str) -> str:
    key = f" {_norm(value)} "
    for word, kind in _STORAGE_TYPES:
        if f" {word} " in key or (len(word) > 3 and word in key):
            return kind
    raise _BadValue("unknown_storage_type", f"unknown storage type {_quote(value)}", value=value[:40])


def _mapping(headers: list[str]) -> tuple[dict[int, tuple[str, str]], list[str]]:
    best: dict[str, tuple[int, int, str]] = {}  # field -> (rank, column, unit)
    unknown: list[int] = []
    for column, header in enumerate(headers):
        found = _ALIAS.get(_norm(header))
        if found is None:
            if header.strip():
                unknown.append(column)
            continue
        rank, fld, unit = found
        if fld in best and best[fld][0] <= rank:
            unknown.append(column)  # a second column for a field already taken: ignored
            continue
        if fld in best:
            unknown.append(best[fld][1])
        best[fld] = (rank, column, unit)
    columns = {column: (fld, unit) for fld, (_, column, unit) in best.items()}
    return columns, [headers[column] for column in sorted(unknown)]


def map_items(sheet: Sheet, *, watch: Callable[[], None] | None = None) -> MappedItems:
    """Recognise the columns of ``sheet`` and turn each row into an item or into errors (``watch``: see ``read_sheet``)."""
    columns, unknown = _mapping(sheet.headers)
    if not any(fld == "category" for fld, _ in columns.values()):
        raise ImportFailed(
            sheet.header_line,
            f"no category column; name one of its headers: {_CATEGORY_HEADERS}",
            code="no_category_column",
        )
    rows: list[ItemRow] = []
    errors: list[RowError] = []
    for number, row in enumerate(sheet.rows):
        if watch is not None and number % 1000 == 999:
            watch()
        values: dict[str, Any] = {}
        row_errors: list[RowError] = []
        for column, (fld, unit) in sorted(columns.items()):
            text = row.cells[column].strip() if column < len(row.cells) else ""
            try:
                _put(values, fld, unit, text)
            except _BadValue as bad:
                row_errors.append(RowError(row.line, sheet.headers[column], bad.message, bad.code, bad.values))
        if row_errors:
            errors.extend(row_errors)
        else:
            rows.append(ItemRow(line=row.line, **values))
    mapping = {sheet.headers[column]: fld for column, (fld, _) in sorted(columns.items())}
    return MappedItems(rows=rows, errors=errors, unknown_columns=unknown, mapping=mapping)


def _put(values: dict[str, Any], fld: str, unit: str, text: str) -> None:
    if fld == "category":
        values["category"] = _category(text)
    elif _norm(text) in _NO_VALUE:
        return
    elif fld in ("weight_g", "ram_mb", "storage_gb"):
        number, storage_type = _convert(fld, unit, text)
        values[fld] = number
        if storage_type and not values.get("storage_type"):
            values["storage_type"] = storage_type
    elif fld == "storage_type":
        values["storage_type"] = _storage_type(text)
    elif fld == "grade":
        grade = re.fullmatch(r"(?:grade )?([a-e])", _norm(text))
        if grade is None:
            raise _BadValue("bad_grade", f"the grade must be a letter from A to E, not {_quote(text)}",
                            value=text[:40])
        values["grade"] = grade[1].upper()
    elif len(text) > _MAX_TEXT:
        raise _BadValue("too_long", f"more than {_MAX_TEXT} characters", limit=str(_MAX_TEXT))
    else:
        values[fld] = " ".join(text.split())
