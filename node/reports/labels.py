"""Item labels as a PDF: a QR code that opens the item's page, its asset tag, a few lines of text.

Pure: labels in, PDF bytes out; nothing here reads a database or knows
where the node is reachable (the caller builds each label's URL).

Two formats:

* ``sheet``: A4 sheets of 24 labels of 70 × 37 mm, 3 columns × 8 rows,
  edge to edge (the common French 24-per-sheet format; 8 × 37 = 296 mm, so
  0.5 mm is left above and below). Office printers cannot print the last
  4 mm or so of a sheet, so each label keeps 5 mm clear on its sides.
* ``roll``: one 62 × 29 mm label per page, for Brother QL-style label
  printers (DK-11209 die-cut labels, or 62 mm continuous tape cut at 29 mm).

QR codes: error correction M (boosted when the version allows), encoded
in byte mode so the URL stays exactly as given. The mask is fixed
(``QR_MASK``) rather than chosen by the standard's penalty score: every mask
decodes the same (readers take it from the format information), and the
score costs 3.5 ms a code, 7 s of a 2000-label sheet; the payload (a URL
ending in a random UUID) gives no pattern a mask would have to break.
Each code is drawn as one image, 4 pixels a module (no PDF smoothing
asked), so that it stays sharp on a 300 dpi label printer.

Fonts: the DejaVu face found by the donor report (``donor_pdf._find_font``),
else Helvetica with the text reduced to Latin-1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF
from PIL import Image

from node.reports.donor_pdf import _find_font, _latin1

__all__ = [
    "Label", "LabelFormat", "FORMATS", "SHEET", "ROLL", "QR_MASK", "MAX_LINES", "qr_code", "render_labels",
]  # fmt: skip

QR_MASK = 0
MAX_LINES = 5  # text lines under the asset tag
_PIXELS_PER_MODULE = 4
_PT = 25.4 / 72  # millimetres per point


@dataclass(frozen=True, slots=True)
class LabelFormat:
    """Where labels sit on a page and how their content is laid out; lengths in millimetres."""

    name: str
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    left: float  # page edge to the first column
    top: float  # page edge to the first row
    padding_x: float  # label edge to its content, left and right
    qr_size: float
    tag_size: float  # points
    text_size: float  # points

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


SHEET = LabelFormat("sheet", 210, 297, 3, 8, 70, 37, 0, 0.5, 5, 27, 11, 7)
ROLL = LabelFormat("roll", 62, 29, 1, 1, 62, 29, 0, 0, 2, 25, 10, 6.5)
FORMATS: dict[str, LabelFormat] = {f.name: f for f in (SHEET, ROLL)}


@dataclass(frozen=True, slots=True)
class Label:
    """One label: the asset tag in bold, the QR code of ``url``, and up to ``MAX_LINES`` lines."""

    asset_tag: str
    url: str
    lines: tuple[str, ...] = ()


def qr_code(url: str) -> segno.QRCode:
    """The QR code printed for ``url`` (the tests read it back from the PDF and compare)."""
    # UTF-8, not segno's default Latin-1: what phones assume for a URL without ECI.
    return segno.make_qr(url, error="m", mode="byte", mask=QR_MASK, encoding="utf-8")


def _qr_image(url: str) -> Image.Image:
    matrix = qr_code(url).matrix
    size = len(matrix)
    # Greyscale, 0 for a dark module: fpdf2 embeds it fastest, in under 1 KB.
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (size, size), pixels)
    scale = size * _PIXELS_PER_MODULE
    return image.resize((scale, scale), Image.Resampling.NEAREST)


class _LabelPDF(FPDF):
    def __init__(self, layout: LabelFormat, font: tuple[Path, Path] | None) -> None:
        super().__init__(unit="mm", format=(layout.page_width, layout.page_height))
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self._widths: dict[tuple[str, float], dict[str, float]] = {}
        if font:
            self.add_font("Label", "", str(font[0]))
            self.add_font("Label", "B", str(font[1]))
            self.family_name, self.clean = "Label", str
        else:
            self.family_name, self.clean = "helvetica", _latin1

    def width_of(self, text: str) -> float:
        # fpdf2 applies no kerning, so a text's width is the sum of its
        # characters'; cached per character, as 2000 labels measure 12 000 lines.
        key = (self.font_style, self.font_size_pt)
        known = self._widths.setdefault(key, {})
        total = 0.0
        for char in text:
            if char not in known:
                known[char] = self.get_string_width(char)
            total += known[char]
        return total

    def fit(self, text: str, width: float) -> str:
        """``text`` cut with an ellipsis to fit ``width`` in the current font."""
        text = self.clean(text)
        if self.width_of(text) <= width:
            return text
        ellipsis = self.clean("…")
        room = width - self.width_of(ellipsis)
        used = 0.0
        for end, char in enumerate(text):
            used += self.width_of(char)
            if used > room:
                return text[:end].rstrip() + ellipsis
        return text


def render_labels(labels: Sequence[Label], layout: LabelFormat = SHEET, *, skip: int = 0,
                  title: str = "Labels", progress: Callable[[int, int], None] | None = None) -> bytes:  # fmt: skip
    """The PDF of ``labels`` in ``layout``, leaving the first ``skip`` places of the first page empty.

    ``skip`` lets a partly used sheet go back in the printer. ``progress(done,
    total)`` is called every few labels (1 200 labels take seconds on a small
    box: the page shows how far it is). Raises ValueError without labels or
    with ``skip`` outside ``0 .. per_page - 1``.
    """
    if not labels:
        raise ValueError("no labels to print")
    if not 0 <= skip < layout.per_page:
        raise ValueError(f"skip is 0 to {layout.per_page - 1}")
    pdf = _LabelPDF(layout, _find_font())
    pdf.set_title(pdf.clean(title))
    pdf.set_creator("Maillon")
    tag_height, line_height = layout.tag_size * _PT, layout.text_size * _PT * 1.2
    qr_top = (layout.label_height - layout.qr_size) / 2
    text_left = layout.padding_x + layout.qr_size + 2.5
    text_width = layout.label_width - text_left - layout.padding_x
    fits = int((layout.label_height - 2 * qr_top - tag_height * 1.3) // line_height)
    for place, label in enumerate(labels, start=skip):
        slot = place % layout.per_page
        if slot == 0 or pdf.page == 0:
            pdf.add_page()
        x = layout.left + (slot % layout.columns) * layout.label_width
        y = layout.top + (slot // layout.columns) * layout.label_height
        side = layout.qr_size
        pdf.image(_qr_image(label.url), x=x + layout.padding_x, y=y + qr_top, w=side, h=side)
        baseline = y + qr_top + tag_height
        pdf.set_font(pdf.family_name, "B", layout.tag_size)
        pdf.text(x + text_left, baseline, pdf.fit(label.asset_tag, text_width))
        baseline += tag_height * 0.3
        pdf.set_font(pdf.family_name, "", layout.text_size)
        for line in label.lines[: min(fits, MAX_LINES)]:
            baseline += line_height
            pdf.text(x + text_left, baseline, pdf.fit(line, text_width))
        if progress is not None and (place - skip) % 20 == 19:
            progress(place - skip + 1, len(labels))
    if progress is not None:
        progress(len(labels), len(labels))
    return bytes(pdf.output())
