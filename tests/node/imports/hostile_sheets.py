"""Spreadsheets made to stall a node: small files that hold huge sheets (issue 18.1).

Each is a real .xlsx (a zip of XML that openpyxl reads) or CSV, built in a
second or two. Imported by path from the tests that need them.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl

__all__ = ["xlsx_with_sheet", "zip_bomb", "million_rows", "last_column_cell", "xlsx_rows", "csv_rows"]

SHEET = "xl/worksheets/sheet1.xml"
_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')  # fmt: skip
_TAIL = b"</sheetData></worksheet>"


def _cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def xlsx_with_sheet(chunks) -> bytes:
    """A workbook made by openpyxl whose first sheet's XML is replaced by ``chunks`` (streamed)."""
    book = openpyxl.Workbook()
    book.active.append(["x"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != SHEET:
                target.writestr(info, source.read(info))
        with target.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(_HEAD)
            for chunk in chunks:
                sheet.write(chunk)
            sheet.write(_TAIL)
    return out.getvalue()


def _header() -> bytes:
    return b'<row r="1">' + _cell("A1", "Categorie") + _cell("B1", "Marque") + b"</row>"


def zip_bomb(megabytes: int = 300) -> bytes:
    """A file of about 1 MB whose sheet is ``megabytes`` MB of XML once unzipped."""
    row = b"<row>" + _cell("A2", "portable").replace(b' r="A2"', b"") + b"</row>"
    block = row * (1024 * 1024 // len(row))

    def chunks():
        yield _header()
        for _ in range(megabytes):
            yield block

    return xlsx_with_sheet(chunks())


def million_rows(rows: int = 1_000_000) -> bytes:
    """A few hundred KB: ``rows`` rows of one laptop each (no cell references, as some writers do)."""
    row = b"<row>" + _cell("A2", "portable").replace(b' r="A2"', b"") + b"</row>"

    def chunks():
        yield _header()
        for _ in range(rows // 10_000):
            yield row * 10_000

    return xlsx_with_sheet(chunks())


def last_column_cell(rows: int = 2_000, value: bool = True) -> bytes:
    """Every row has a cell in column XFD (16 384): with a value, or only a style (``value=False``)."""

    def chunks():
        yield _header()
        for n in range(2, rows + 2):
            far = _cell(f"XFD{n}", "note") if value else f'<c r="XFD{n}" s="0"/>'.encode()
            yield f'<row r="{n}">'.encode() + _cell(f"A{n}", "portable") + far + b"</row>"

    return xlsx_with_sheet(chunks())


def xlsx_rows(rows: int, *, last: str = "portable") -> bytes:
    """A real sheet of ``rows`` laptops with their serial numbers (a big but honest import).

    ``last``: the category of the last row (an unknown one makes the whole file refused, once read).
    """

    def category(n: int) -> str:
        return last if n == rows + 1 else "portable"

    def chunks():
        yield _header().replace(b"Marque", b"Numero de serie")
        for start in range(2, rows + 2, 1000):
            yield b"".join(f'<row r="{n}">'.encode() + _cell(f"A{n}", category(n)) + _cell(f"B{n}", f"SN-{n:09d}")
                           + b"</row>" for n in range(start, min(start + 1000, rows + 2)))

    return xlsx_with_sheet(chunks())


def csv_rows(rows: int, *, columns: int = 2) -> bytes:
    """A CSV of ``rows`` laptops, each with a serial (17 MB for 800 000 rows with a few columns)."""
    extra = ";" * (columns - 2)
    body = "".join(f"portable;SN-{n:09d}{extra}\n" for n in range(rows))
    return ("categorie;numero de serie" + extra + "\n" + body).encode()
