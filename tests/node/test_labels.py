"""Label sheets: one QR code per label that decodes to the item's URL, the asset tags as text, the layouts.

No QR reader is installed where the tests run, so ``decode_qr`` below reads
the printed codes back: a small decoder for versions 2 to 6 in byte mode,
written from ISO/IEC 18004 and not from the encoder, applied to the
images taken out of the PDF. A code that decodes here decodes on a phone
(the rest is optics).
"""

from __future__ import annotations

import io

import pytest
import segno

from node.reports.labels import FORMATS, MAX_LINES, QR_MASK, ROLL, SHEET, Label, qr_code, render_labels

pypdf = pytest.importorskip("pypdf")

MM = 72 / 25.4  # PDF points per millimetre
BASE = "http://192.168.1.10:8470"

# ISO/IEC 18004 table 9, versions 2-6: level -> [(blocks, data codewords per block)].
BLOCKS = {
    2: {"L": [(1, 34)], "M": [(1, 28)], "Q": [(1, 22)], "H": [(1, 16)]},
    3: {"L": [(1, 55)], "M": [(1, 44)], "Q": [(2, 17)], "H": [(2, 13)]},
    4: {"L": [(1, 80)], "M": [(2, 32)], "Q": [(2, 24)], "H": [(4, 9)]},
    5: {"L": [(1, 108)], "M": [(2, 43)], "Q": [(2, 15), (2, 16)], "H": [(2, 11), (2, 12)]},
    6: {"L": [(2, 68)], "M": [(4, 27)], "Q": [(4, 19)], "H": [(4, 15)]},
}
MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)


def _function_module(i: int, j: int, size: int) -> bool:
    """Finder patterns with separators and format areas, timing patterns, the alignment pattern."""
    if (i < 9 and j < 9) or (i < 9 and j >= size - 8) or (i >= size - 8 and j < 9):
        return True
    if i == 6 or j == 6:
        return True
    centre = size - 7  # the one alignment pattern of versions 2 to 6
    return abs(i - centre) <= 2 and abs(j - centre) <= 2


def _codewords(matrix: list[list[bool]]) -> list[int]:
    size = len(matrix)
    bits = []
    column, upward = size - 1, True
    while column > 0:
        if column == 6:  # the vertical timing pattern takes a whole column
            column -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for i in rows:
            for j in (column, column - 1):
                if not _function_module(i, j, size):
                    bits.append(matrix[i][j])
        column, upward = column - 2, not upward
    return [int("".join("1" if b else "0" for b in bits[n : n + 8]), 2) for n in range(0, len(bits) - 7, 8)]


def _payload(data: list[int]) -> str | None:
    """The byte-mode text of the data codewords, or None when they are not a well-formed message."""
    bits = "".join(f"{byte:08b}" for byte in data)
    if bits[:4] != "0100":
        return None
    count = int(bits[4:12], 2)
    end = 12 + 8 * count
    if end + 4 > len(bits) or bits[end : end + 4] != "0000":
        return None
    text = bytes(int(bits[n : n + 8], 2) for n in range(12, end, 8))
    rest = (end + 4 + 7) // 8
    while rest < len(data) and data[rest] == 0:  # readers stop at the terminator; segno may add a zero byte
        rest += 1
    if any(byte != (0xEC, 0x11)[n % 2] for n, byte in enumerate(data[rest:])):
        return None
    return text.decode("utf-8")


def decode_qr(matrix: list[list[bool]]) -> str:
    """The text a QR code of version 2 to 6 in byte mode carries (every mask and level is tried)."""
    size = len(matrix)
    version = (size - 17) // 4
    assert version in BLOCKS, f"version {version} is beyond this test decoder"
    found = set()
    for mask in MASKS:
        unmasked = [[matrix[i][j] ^ (mask(i, j) and not _function_module(i, j, size)) for j in range(size)]
                    for i in range(size)]  # fmt: skip
        codewords = _codewords(unmasked)
        for groups in BLOCKS[version].values():
            blocks = [count for number, count in groups for _ in range(number)]
            data: list[list[int]] = [[] for _ in blocks]
            position = 0
            for n in range(max(blocks)):  # data codewords are interleaved block by block
                for b, count in enumerate(blocks):
                    if n < count:
                        data[b].append(codewords[position])
                        position += 1
            text = _payload([byte for block in data for byte in block])
            if text is not None:
                found.add(text)
    assert len(found) == 1, f"decoded {found}"
    return found.pop()


def modules(image) -> list[list[bool]]:
    """The module matrix of a QR image: the first row starts with the finder pattern, 7 modules dark."""
    grey = image.convert("L")
    width, _height = grey.size
    pixels = grey.load()
    run = next(x for x in range(width) if pixels[x, 0] >= 128)
    step = run / 7
    size = round(width / step)
    return [[pixels[int((j + 0.5) * step), int((i + 0.5) * step)] < 128 for j in range(size)] for i in range(size)]


def labels(count: int, lines: tuple[str, ...] = ("laptop computer", "Dell Latitude 5490")) -> list[Label]:
    return [Label(f"MLN-{n:06d}", f"{BASE}/i/0190f0a0-{n:04d}-7abc-8def-0123456789ab", lines) for n in range(count)]


def read(pdf: bytes):
    return pypdf.PdfReader(io.BytesIO(pdf))


def test_the_test_decoder_reads_codes_made_elsewhere():
    for text in ("http://a.example/i/x", f"{BASE}/i/0190f0a0-1234-7abc-8def-0123456789ab", "https://é.example/ü"):
        for error in ("l", "m", "q", "h"):
            for mask in range(8):
                code = qr_code(text) if (error, mask) == ("m", QR_MASK) else None
                code = code or segno.make_qr(text, error=error, mask=mask, mode="byte", boost_error=False,
                                             encoding="utf-8")
                if code.version > 6:
                    continue
                assert decode_qr([[bool(v) for v in row] for row in code.matrix]) == text


def test_the_qr_code_encodes_the_exact_url_in_byte_mode():
    url = f"{BASE}/i/0190f0a0-1234-7abc-8def-0123456789ab"
    code = qr_code(url)
    assert code.mode == "byte" and code.error in ("M", "Q", "H") and code.mask == QR_MASK
    assert code.designator.startswith("5-")
    assert decode_qr([[bool(v) for v in row] for row in code.matrix]) == url


def test_a_sheet_holds_24_labels_each_with_its_code_and_tag():
    printed = labels(30)
    pdf = read(render_labels(printed, SHEET))
    assert len(pdf.pages) == 2
    width, height = (float(v) / MM for v in pdf.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (210, 297)
    assert [len(page.images) for page in pdf.pages] == [24, 6]
    decoded = [decode_qr(modules(image.image)) for page in pdf.pages for image in page.images]
    assert sorted(decoded) == sorted(label.url for label in printed)
    text = "\n".join(page.extract_text() for page in pdf.pages)
    for label in printed:
        assert label.asset_tag in text
    assert "Dell Latitude 5490" in text


def test_skip_leaves_used_places_of_the_first_sheet_empty():
    pdf = read(render_labels(labels(30), SHEET, skip=20))
    assert [len(page.images) for page in pdf.pages] == [4, 24, 2]
    with pytest.raises(ValueError):
        render_labels(labels(1), SHEET, skip=24)
    with pytest.raises(ValueError):
        render_labels([], SHEET)


def test_label_printer_pages_are_one_62_by_29_label_each():
    printed = labels(3, ("an extremely long line of text that cannot possibly fit on a small label at all",))
    pdf = read(render_labels(printed, ROLL))
    assert len(pdf.pages) == 3
    width, height = (float(v) / MM for v in pdf.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (62, 29)
    for page, label in zip(pdf.pages, printed, strict=True):
        (image,) = page.images
        assert decode_qr(modules(image.image)) == label.url
        text = page.extract_text()
        assert label.asset_tag in text and "…" in text  # the long line was cut to fit
    assert FORMATS == {"sheet": SHEET, "roll": ROLL}


def test_text_keeps_accents_and_at_most_max_lines():
    lines = tuple(f"ligne {n} : réemploi" for n in range(MAX_LINES + 2))
    text = read(render_labels([Label("MLN-000001", f"{BASE}/i/x", lines)], SHEET)).pages[0].extract_text()
    assert "ligne 0 : réemploi" in text
    assert f"ligne {MAX_LINES - 1}" in text and f"ligne {MAX_LINES}" not in text


@pytest.mark.parametrize("layout", [SHEET, ROLL])
def test_2000_labels_fill_their_pages(layout, request):
    # How fast is bench/labels_bench.py's; the label printer's run is cut short unless --full.
    count = 2000 if layout is SHEET or request.config.getoption("--full") else 200
    pdf = render_labels(labels(count), layout)
    assert len(read(pdf).pages) == (-(-count // 24) if layout is SHEET else count)
