"""Spreadsheets of items: CSV dialects and encodings, .xlsx, header and value rules."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.imports.errors import ImportFailed
from node.imports.sheet import ItemRow, MappedItems, RowError, Sheet, SheetRow, map_items, read_sheet

FIXTURES = Path(__file__).parent / "fixtures"
CODES = {
    "missing_category",
    "unknown_category",
    "bad_number",
    "bad_unit",
    "unknown_storage_type",
    "bad_grade",
    "too_long",
    "out_of_range",
}


def fixture(name: str) -> MappedItems:
    return map_items(read_sheet((FIXTURES / name).read_bytes(), name))


def xlsx(rows: list[list[Any]], *, title_first: str | None = None, active_second: bool = False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    for row in rows:
        sheet.append(row)
    if title_first:
        sheet.title = title_first
    if active_second:
        other = book.create_sheet("Notes")
        other.append(["Catégorie"])
        other.append(["écran"])
        book.active = 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def items(csv_text: str) -> MappedItems:
    return map_items(read_sheet(csv_text.encode("utf-8"), "items.csv"))


def one(header: str, value: str) -> ItemRow | RowError:
    """The item, or the first error, of a sheet with a category column and one more column."""
    result = items(f"Catégorie;{header}\nportable;{value}\n")
    return result.rows[0] if result.rows else result.errors[0]


# --- fixtures: what associations really send -----------------------------


def test_french_excel_csv_semicolon_cp1252() -> None:
    result = fixture("items-fr-excel.csv")
    laptop, desktop, screen, tablet = result.rows
    assert laptop == ItemRow(
        line=2,
        category="laptop",
        brand="Dell",
        model="Latitude 5490",
        serial="7XKQ2R2",
        donor_asset="INV-2019-0042",
        weight_g=1800,
        cpu="i5-8350U",
        ram_mb=8192,
        storage_gb=256,
        storage_type="ssd",
        grade="A",
        lot="LOT-2024-07",
    )
    assert (desktop.line, desktop.category, desktop.weight_g, desktop.storage_type) == (
        3,
        "desktop",
        5400,
        "hdd",
    )
    assert (screen.line, screen.category, screen.donor_asset) == (5, "screen", None)  # line 4 is empty
    assert (tablet.line, tablet.category, tablet.storage_type, tablet.ram_mb) == (7, "tablet", "emmc", 2048)
    assert [(e.line, e.column, e.code) for e in result.errors] == [
        (6, "Catégorie", "unknown_category"),
        (8, "Poids (kg)", "bad_number"),
        (9, "Catégorie", "missing_category"),
    ]
    assert result.unknown_columns == ["Remarques"]
    assert result.mapping["N° de série"] == "serial" and result.mapping["État"] == "grade"


def test_english_csv_with_bom_and_quoted_cells() -> None:
    result = fixture("items-en-bom.csv")
    assert not result.errors and not result.unknown_columns
    laptop, desktop, screen = result.rows
    assert laptop.model == 'ProBook 450 G5, 15"'
    assert (laptop.ram_mb, laptop.storage_type, laptop.weight_g) == (4096, "nvme", 2100)
    # a cell with a line break is one spreadsheet row: the next row is still line 4
    assert (desktop.line, desktop.model, desktop.weight_g) == (3, "OptiPlex 7050 SFF", 5200)
    assert screen.line == 4


def test_tab_separated_with_other_spellings() -> None:
    result = fixture("items-tab.csv")
    assert [row.category for row in result.rows] == ["screen", "multifunction_printer", "peripheral"]
    assert result.rows[0].donor_asset == "IMMO-5" and result.rows[0].weight_g == 2900
    assert result.mapping["type"] == "category"


def test_no_category_column() -> None:
    with pytest.raises(ImportFailed) as caught:
        fixture("items-no-category.csv")
    assert (caught.value.code, caught.value.line) == ("no_category_column", 1)
    assert "Catégorie" in caught.value.message and "Type" in caught.value.message


# --- reading files ---------------------------------------------------------


def test_xlsx_numbers_gaps_and_line_numbers() -> None:
    data = xlsx(
        [
            ["Catégorie", "Poids (kg)", "RAM (Go)", "N° de série", "Inventaire"],
            ["Portable", 2.25, 8, 123456789012, None],
            [],
            [None, None],
            ["Écran", 4, None, "ABC", 17],
        ]
    )
    result = map_items(read_sheet(data, "Inventaire.XLSX"))
    assert [(r.line, r.category, r.weight_g) for r in result.rows] == [
        (2, "laptop", 2250),
        (5, "screen", 4000),
    ]
    assert result.rows[0].serial == "123456789012"  # an integer cell, not "123456789012.0"
    assert result.rows[1].donor_asset == "17"


def test_xlsx_reads_the_first_sheet_even_when_another_is_active() -> None:
    data = xlsx([["Catégorie"], ["portable"]], active_second=True)
    assert [r.category for r in map_items(read_sheet(data, "x.xlsx")).rows] == ["laptop"]


def test_xlsx_named_csv_is_still_read_as_xlsx() -> None:
    assert read_sheet(xlsx([["Catégorie"], ["tour"]]), "export.csv").rows == [SheetRow(2, ["tour"])]


def test_sheet_starting_lower_keeps_its_line_numbers() -> None:
    sheet = read_sheet("\n\nCatégorie;Marque\nfixe;HP\n".encode(), "a.csv")
    assert sheet == Sheet(headers=["Catégorie", "Marque"], rows=[SheetRow(4, ["fixe", "HP"])], header_line=3)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_encodings(encoding: str) -> None:
    data = "Catégorie\tMarque\nÉcran\tIiyama\n".encode(encoding)
    assert [(r.category, r.brand) for r in map_items(read_sheet(data, "a.csv")).rows] == [
        ("screen", "Iiyama")
    ]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiters(delimiter: str) -> None:
    text = delimiter.join(["Catégorie", "Marque", "Modèle"]) + "\n" + delimiter.join(["UC", "Dell", "7050"])
    assert map_items(read_sheet(text.encode(), "a.csv")).rows[0].model == "7050"


def test_excel_sep_hint_line() -> None:
    result = map_items(read_sheet(b"sep=,\r\nCategory,Brand\r\nlaptop,HP\r\n", "a.csv"))
    assert [(r.line, r.brand) for r in result.rows] == [(2, "HP")]


def test_undefined_cp1252_bytes_still_decode() -> None:
    assert read_sheet(b"Cat\xe9gorie\nportable \x81\n", "a.csv").headers == ["Catégorie"]


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "a.csv", "empty_sheet"),
        (b"\n ; ;\n\n", "a.csv", "empty_sheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", "unsupported_format"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "protected.xlsx", "unsupported_format"),
        (b"Categorie\nportable\n", "items.xls", "unsupported_format"),
        (b"PK\x03\x04 not really", "items.ods", "unsupported_format"),
        (b"PK\x03\x04 not really a zip", "items.xlsx", "bad_xlsx"),
        (b"<html>", "items.xlsx", "bad_xlsx"),
    ],
)
def test_unreadable_files(data: bytes, name: str, code: str) -> None:
    with pytest.raises(ImportFailed) as caught:
        read_sheet(data, name)
    assert caught.value.code == code


def test_csv_cell_beyond_the_csv_module_limit() -> None:
    with pytest.raises(ImportFailed) as caught:
        read_sheet(b"Categorie;Marque\nportable;" + b"x" * 200_000 + b"\n", "a.csv")
    assert caught.value.code == "bad_csv"


def test_absurd_sizes_are_row_errors() -> None:
    result = items(f"Catégorie;Poids (kg);Marque\nportable;{'9' * 5000};{'x' * 2000}\n")
    assert [e.code for e in result.errors] == ["out_of_range", "too_long"]


def test_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportFailed) as caught:
        read_sheet(buffer.getvalue(), "items.xlsx")
    assert caught.value.code == "bad_xlsx"


# --- headers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("catégorie", "category"),
        ("CATEGORIE", "category"),
        ("Type", "category"),
        ("category", "category"),
        ("Marque", "brand"),
        ("brand", "brand"),
        ("Fabricant", "brand"),
        ("Modèle", "model"),
        ("modele", "model"),
        ("Model", "model"),
        ("N° de série", "serial"),
        ("Numéro de série", "serial"),
        ("numero de serie", "serial"),
        ("Serial", "serial"),
        ("S/N", "serial"),
        ("SN", "serial"),
        ("Nº de série", "serial"),
        ("N° inventaire", "donor_asset"),
        ("Numéro d'inventaire", "donor_asset"),
        ("Inventaire", "donor_asset"),
        ("Asset", "donor_asset"),
        ("N° immo", "donor_asset"),
        ("Immobilisation", "donor_asset"),
        ("Donor asset", "donor_asset"),
        ("Poids (g)", "weight_g"),
        ("poids g", "weight_g"),
        ("weight_g", "weight_g"),
        ("Poids (kg)", "weight_g"),
        ("poids kg", "weight_g"),
        ("Poids", "weight_g"),
        ("Processeur", "cpu"),
        ("CPU", "cpu"),
        ("RAM (Go)", "ram_mb"),
        ("Mémoire (Go)", "ram_mb"),
        ("RAM (Mo)", "ram_mb"),
        ("ram_mb", "ram_mb"),
        ("Disque (Go)", "storage_gb"),
        ("Stockage (Go)", "storage_gb"),
        ("storage_gb", "storage_gb"),
        ("Type de disque", "storage_type"),
        ("storage_type", "storage_type"),
        ("Grade", "grade"),
        ("État", "grade"),
        ("etat", "grade"),
        ("Lot", "lot"),
        ("Référence lot", "lot"),
    ],
)
def test_header_aliases(header: str, field: str) -> None:
    category = "Catégorie" if field != "category" else "Couleur"
    result = (
        items(f"{category};{header}\nportable;x\n")
        if field == "category"
        else items(f"{category};{header}\n")
    )
    assert result.mapping[header] == field


def test_first_best_column_wins_and_the_other_is_unknown() -> None:
    result = items("Type;Catégorie;Poids;Poids (g)\nHP;portable;2;1500\n")
    assert result.mapping == {"Catégorie": "category", "Poids (g)": "weight_g"}
    assert result.unknown_columns == ["Type", "Poids"]
    assert result.rows[0].weight_g == 1500


def test_blank_headers_are_neither_mapped_nor_unknown() -> None:
    result = items("Catégorie;;Couleur\nfixe;x;noir\n")
    assert result.unknown_columns == ["Couleur"]


# --- values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("portable", "laptop"),
        ("Ordinateur portable", "laptop"),
        ("PC portable", "laptop"),
        ("Laptop", "laptop"),
        ("Portables", "laptop"),
        ("fixe", "desktop"),
        ("Unité centrale", "desktop"),
        ("UC", "desktop"),
        ("tour", "desktop"),
        ("Ordinateur fixe", "desktop"),
        ("desktop", "desktop"),
        ("écran", "screen"),
        ("ECRAN", "screen"),
        ("Écrans", "screen"),
        ("moniteur", "screen"),
        ("tablette", "tablet"),
        ("smartphone", "smartphone"),
        ("téléphone", "smartphone"),
        ("Telephone", "smartphone"),
        ("mobile", "smartphone"),
        ("imprimante", "printer"),
        ("multifonction", "multifunction_printer"),
        ("Imprimante multifonction", "multifunction_printer"),
        ("serveur", "server"),
        ("réseau", "network"),
        ("switch", "network"),
        ("routeur", "network"),
        ("périphérique", "peripheral"),
        ("clavier", "peripheral"),
        ("souris", "peripheral"),
        ("composant", "component"),
        ("autre", "other"),
    ],
)
def test_category_values(value: str, category: str) -> None:
    assert items(f"Catégorie\n{value}\n").rows[0].category == category


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "missing_category"),
        ("  ", "missing_category"),
        ("ordinateur", "unknown_category"),
        ("fusée", "unknown_category"),
    ],
)
def test_bad_categories(value: str, code: str) -> None:
    result = items(f"Catégorie;Marque\n{value};Dell\n")
    assert result.rows == []
    assert result.errors == [RowError(2, "Catégorie", result.errors[0].message, code)]


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("Poids (kg)", "1,5", 1500),
        ("Poids (kg)", "1.5", 1500),
        ("Poids (kg)", "2", 2000),
        ("Poids (kg)", "1500 g", 1500),
        ("Poids (g)", "2 kg", 2000),
        ("Poids (g)", "1 500", 1500),
        ("Poids (g)", "1\u00a0500", 1500),
        ("Poids", "0,25", 250),
        ("RAM (Go)", "8", 8192),
        ("RAM (Go)", "1,5", 1536),
        ("RAM (Mo)", "4096", 4096),
        ("ram_mb", "512", 512),
        ("RAM", "8", 8192),
        ("RAM", "4096", 4096),
        ("RAM", "8 Go", 8192),
        ("RAM", "512 Mo", 512),
        ("Disque (Go)", "500", 500),
        ("Disque (Go)", "1 To", 1000),
        ("Disque", "2TB", 2000),
        ("Stockage", "256Go", 256),
    ],
)
def test_numbers_and_units(header: str, value: str, expected: int) -> None:
    row = one(header, value)
    assert isinstance(row, ItemRow)
    field = {"P": "weight_g", "R": "ram_mb", "r": "ram_mb", "D": "storage_gb", "S": "storage_gb"}[header[0]]
    assert getattr(row, field) == expected


@pytest.mark.parametrize(
    ("header", "value", "code"),
    [
        ("Poids (kg)", "lourd", "bad_number"),
        ("Poids (kg)", "-3", "bad_number"),
        ("Poids (kg)", "3 lbs", "bad_unit"),
        ("RAM (Go)", "8 Go DDR4", "bad_number"),
        ("RAM (Go)", "1.2.3", "bad_number"),
        ("Poids (kg)", "99999", "out_of_range"),
        ("Disque (Go)", "5000 To", "out_of_range"),
        ("Disque", "500 Go bizarre", "unknown_storage_type"),
        ("Type de disque", "SATA", "unknown_storage_type"),
        ("Grade", "Très bon", "bad_grade"),
        ("Grade", "F", "bad_grade"),
        ("Marque", "x" * 501, "too_long"),
    ],
)
def test_bad_values(header: str, value: str, code: str) -> None:
    error = one(header, value)
    assert isinstance(error, RowError)
    assert (error.line, error.column, error.code) == (2, header, code)
    assert error.message


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("SSD", "ssd"),
        ("hdd", "hdd"),
        ("NVMe", "nvme"),
        ("M.2 NVMe", "nvme"),
        ("M.2", "ssd"),
        ("eMMC", "emmc"),
        ("Disque dur", "hdd"),
        ("mécanique", "hdd"),
        ("DD", "hdd"),
        ("autre", "other"),
    ],
)
def test_storage_types(value: str, kind: str) -> None:
    row = one("Type de disque", value)
    assert isinstance(row, ItemRow) and row.storage_type == kind


def test_storage_type_written_after_the_size_and_the_explicit_column_wins() -> None:
    result = items("Catégorie;Disque;Type de disque\nfixe;256 Go SSD;\nfixe;1 To SSD;HDD\n")
    assert [(r.storage_gb, r.storage_type) for r in result.rows] == [(256, "ssd"), (1000, "hdd")]


@pytest.mark.parametrize(("value", "grade"), [("a", "A"), ("B", "B"), ("Grade C", "C"), (" e ", "E")])
def test_grades(value: str, grade: str) -> None:
    row = one("État", value)
    assert isinstance(row, ItemRow) and row.grade == grade


@pytest.mark.parametrize("value", ["-", "N/A", "?", "inconnu", "", "n.c."])
def test_no_value_markers(value: str) -> None:
    row = one("N° de série", value)
    assert isinstance(row, ItemRow) and row.serial is None


def test_a_row_reports_all_its_errors_and_is_left_out() -> None:
    result = items("Catégorie;Poids (kg);RAM (Go)\nfusée;lourd;beaucoup\nportable;2;8\n")
    assert [e.code for e in result.errors] == ["unknown_category", "bad_number", "bad_number"]
    assert [r.line for r in result.rows] == [3]


def test_short_and_long_rows() -> None:
    result = items("Catégorie;Marque;Modèle\nportable\nfixe;HP;800;extra;cells\n")
    assert [(r.category, r.brand, r.model) for r in result.rows] == [
        ("laptop", None, None),
        ("desktop", "HP", "800"),
    ]


def test_whitespace_inside_text_is_tidied() -> None:
    row = one("Modèle", "  Latitude   5490 ")
    assert isinstance(row, ItemRow) and row.model == "Latitude 5490"


# --- whatever the input, only ImportFailed or row errors ---------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["a.csv", "a.xlsx", "a.txt", "a"]))
def test_random_bytes_raise_only_import_failed(data: bytes, name: str) -> None:
    try:
        map_items(read_sheet(data, name))
    except ImportFailed:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(max_size=15), max_size=6), max_size=8))
def test_random_cells_give_rows_or_row_errors(cells: list[list[str]]) -> None:
    sheet = Sheet(
        headers=["Catégorie", "Poids (kg)", "RAM", "Disque", "Type de disque", "État", "Marque"],
        rows=[SheetRow(line, row) for line, row in enumerate(cells, start=2)],
    )
    result = map_items(sheet)
    assert len({r.line for r in result.rows} & {e.line for e in result.errors}) == 0
    assert all(error.code in CODES for error in result.errors)


# Hostile files: bounded reading (issue 18.1) ---------------------------------------------------

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import hostile_sheets as hostile  # noqa: E402

from node.imports.sheet import SheetLimits  # noqa: E402


def refused(data: bytes, name: str, limits: SheetLimits = SheetLimits()) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        read_sheet(data, name, limits)
    return caught.value


def test_a_zip_bomb_is_refused_from_the_zip_directory_before_anything_is_inflated():
    data = hostile.zip_bomb(300)
    assert len(data) < 2_000_000
    error = refused(data, "bomb.xlsx")
    assert error.code == "unzipped_too_large" and "200 MB" in error.message


def test_a_small_xlsx_with_a_million_rows_is_refused_past_the_row_limit():
    data = hostile.million_rows()
    assert len(data) < 1_000_000
    error = refused(data, "rows.xlsx")
    assert error.code == "too_many_rows" and error.line == 50_002


def test_a_csv_of_800_000_rows_is_refused_past_the_row_limit():
    error = refused(hostile.csv_rows(800_000), "rows.csv")
    assert error.code == "too_many_rows" and "50 000" in error.message


def test_exactly_the_row_limit_is_read():
    sheet = read_sheet(hostile.csv_rows(1000), "rows.csv", SheetLimits(rows=1000))
    assert len(sheet.rows) == 1000
    assert refused(hostile.csv_rows(1001), "rows.csv", SheetLimits(rows=1000)).code == "too_many_rows"


def test_a_value_in_the_last_column_is_refused_and_an_empty_styled_one_is_dropped():
    assert refused(hostile.last_column_cell(), "far.xlsx").code == "too_many_columns"
    sheet = read_sheet(hostile.last_column_cell(value=False), "far.xlsx")
    assert len(sheet.rows) == 2000 and max(len(row.cells) for row in sheet.rows) <= 256
    far = "categorie" + ";" * 300 + "x\nportable\n"
    assert refused(far.encode(), "far.csv").code == "too_many_columns"
    assert len(read_sheet(("categorie" + ";" * 300 + "\nportable\n").encode(), "ok.csv").headers) == 256


def test_a_cell_too_long_is_refused_with_its_line():
    data = ("categorie;modele\nportable;" + "x" * 5001 + "\n").encode()
    error = refused(data, "long.csv")
    assert error.code == "cell_too_long" and error.line == 2
    assert refused(xlsx([["Catégorie"], ["portable", "y" * 5001]]), "long.xlsx").code == "cell_too_long"
