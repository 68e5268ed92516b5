"""2 000 item labels as one PDF, against the raw cost of the libraries doing the same drawing.

A workshop prints the labels of a whole lot at once: the State's lots are
of about 1 350 items. ``render_labels`` lays 2 000 labels out on A4 sheets
of 24 (and, separately, on a label printer's roll, one per page): each a QR
code of the item's URL, its asset tag in bold, two lines of text cut to fit.

The limit, measured in the same run, is the same drawing with nothing of
ours around it: per label, segno's QR code of the same URL, its matrix
turned into the same image by Pillow, and fpdf2 placing it and writing the
three texts uncut at the same places, with the same font, on as many
pages; then the same ``output()``. Goal: ratio <= 1.5 (the text fitting and
the layout cost at most half again as much).

    python bench/labels_bench.py [--count N] [--rounds R]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import segno  # noqa: E402
from fpdf import FPDF  # noqa: E402
from PIL import Image  # noqa: E402
from result_lines import print_result  # noqa: E402

from node.reports.donor_pdf import _find_font  # noqa: E402
from node.reports.labels import QR_MASK, ROLL, SHEET, Label, LabelFormat, render_labels  # noqa: E402

GOAL = 1.5
LINES = ("ordinateur portable", "Dell Latitude 5490 — i5-8350U, 8 Go, SSD 256 Go")


def labels(count: int) -> list[Label]:
    return [Label(f"MLN-{n:06d}", f"https://atelier.example/i/0190f0a0-{n:04d}-7abc-8def-0123456789ab", LINES)
            for n in range(count)]  # fmt: skip


def raw(items: list[Label], layout: LabelFormat) -> bytes:
    """The same codes, images, texts and pages, drawn straight with segno, Pillow and fpdf2."""
    pdf = FPDF(unit="mm", format=(layout.page_width, layout.page_height))
    pdf.set_auto_page_break(False)
    font = _find_font()
    family = "Label" if font else "helvetica"
    if font:
        pdf.add_font("Label", "", str(font[0]))
        pdf.add_font("Label", "B", str(font[1]))
    for place, label in enumerate(items):
        slot = place % layout.per_page
        if slot == 0:
            pdf.add_page()
        x = layout.left + (slot % layout.columns) * layout.label_width
        y = layout.top + (slot // layout.columns) * layout.label_height
        matrix = segno.make_qr(label.url, error="m", mode="byte", mask=QR_MASK, encoding="utf-8").matrix
        size = len(matrix)
        image = Image.frombytes("L", (size, size), bytes(0 if dark else 255 for row in matrix for dark in row))
        pdf.image(image.resize((size * 4, size * 4), Image.Resampling.NEAREST), x=x + layout.padding_x, y=y + 2,
                  w=layout.qr_size, h=layout.qr_size)  # fmt: skip
        pdf.set_font(family, "B", layout.tag_size)
        pdf.text(x + 30, y + 6, label.asset_tag)
        pdf.set_font(family, "", layout.text_size)
        for n, line in enumerate(label.lines):
            pdf.text(x + 30, y + 10 + 3 * n, line)
    return bytes(pdf.output())


def best_of(functions, rounds: int) -> list[float]:
    """The best time of each function; rounds interleaved, so that a busy moment weighs on both alike."""
    times = [[] for _ in functions]
    for _ in range(rounds):
        for function, kept in zip(functions, times):
            began = time.perf_counter()
            function()
            kept.append(time.perf_counter() - began)
    return [min(kept) for kept in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    items = labels(args.count)
    print(f"machine: {platform.platform()}, python {platform.python_version()}")
    print(f"data:    {args.count} labels; font: {'DejaVu' if _find_font() else 'Helvetica (no DejaVu found)'}")
    ok = True
    for layout in (SHEET, ROLL):
        ours, limit = best_of([lambda kind=layout: render_labels(items, kind), lambda kind=layout: raw(items, kind)],
                              args.rounds)  # fmt: skip
        ratio = ours / limit
        ok &= ratio <= GOAL
        print(f"{layout.name:6} labels {ours * 1000:8.0f} ms, raw {limit * 1000:8.0f} ms, ratio {ratio:.2f}"
              f" (goal <= {GOAL})")  # fmt: skip
        print_result("labels", f"{args.count} labels, {layout.name} layout / raw segno + fpdf2 drawing",
                     ours * 1000, "ms", limit=limit * 1000, ratio=ratio, goal=f"<= {GOAL}", ok=ratio <= GOAL)  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
