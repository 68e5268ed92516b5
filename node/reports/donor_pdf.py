"""The donor report as an A4 PDF a public body can file.

Layout: header (association, title, donor, lots, period), summary box,
totals by fate, avoided impact with its arithmetic written out, then the
item table (repeated heading row on every page), and on every page a footer
with "page X / Y" and how to verify the signed machine-readable version.

Fonts: fpdf2's core fonts only cover Latin-1, and the report needs "—",
"’", "œ", "₂" and the narrow no-break space. When a DejaVu TTF is installed
(Debian's fonts-dejavu-core, or the copy shipped inside matplotlib) it is
embedded and the file is made PDF/A-2U, the archival profile, with
extractable Unicode text. Otherwise the report falls back to Helvetica and
``_latin1`` rewrites the few characters Latin-1 lacks, so a report always
renders. Nothing here touches the network or a database.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from node.reports.donor_model import FATE_KEYS, DonorReport, ReportLine
from node.reports.donor_text import (
    erasure_text,
    format_date,
    format_day,
    format_int,
    format_kg,
    format_permille,
    format_time,
    format_years,
    label,
    texts,
)

__all__ = ["render_donor_report"]

# (regular, bold) file names, best first: the condensed face fits the item table.
_FONT_FILES: tuple[tuple[str, str], ...] = (
    ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf"),
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
)
# Where distributions install DejaVu: Debian/Ubuntu, Fedora, Alpine, Arch.
_FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
)

# Latin-1 stand-ins for the characters the texts and typography use; the rest
# of the non-Latin-1 characters become "?" (names typed by people, rarely).
_LATIN1 = str.maketrans(
    {
        "\u202f": "\xa0", "\u2009": " ", "\u2014": "-", "\u2013": "-", "\u2019": "'",
        "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u0153": "oe",
        "\u0152": "OE", "\u2082": "2", "\u20ac": "EUR", "\u2212": "-",
    }
)  # fmt: skip

_GREY_FILL = (235, 235, 235)
# Item table column weights: asset, serial, category, fate, date, erasure.
_ITEM_WIDTHS = (15, 17, 13, 22, 10, 37)
# Beyond this many proofs an item's erasure cell is summed up, so a row
# always fits on a page.
_MAX_PROOFS = 8


@lru_cache(maxsize=1)
def _find_font() -> tuple[Path, Path] | None:
    """A (regular, bold) DejaVu pair installed on this machine, or None."""
    dirs = [Path(d) for d in _FONT_DIRS]
    spec = importlib.util.find_spec("matplotlib")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        dirs.extend(Path(loc) / "mpl-data" / "fonts" / "ttf" for loc in spec.submodule_search_locations)
    for regular, bold in _FONT_FILES:
        for directory in dirs:
            pair = (directory / regular, directory / bold)
            if pair[0].is_file() and pair[1].is_file():
                return pair
    return None


def _latin1(text: str) -> str:
    """``text`` restricted to what the core fonts can draw."""
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


class _ReportPDF(FPDF):
    """FPDF with the report's running head and footer on every page."""

    def __init__(self, report: DonorReport, text: dict[str, str], font: tuple[Path, Path] | None) -> None:
        # PDF/A needs every font embedded, so it is only asked for with a TTF.
        super().__init__(format="A4", unit="mm", enforce_compliance="PDF/A-2U" if font else None)
        self.report = report
        self.strings = text
        self.clean: Callable[[str], str]  # makes any text drawable by the chosen font
        if font:
            self.add_font("Report", "", str(font[0]))
            self.add_font("Report", "B", str(font[1]))
            self.family_name, self.clean = "Report", str  # str(text) is text: nothing to rewrite
        else:
            self.family_name, self.clean = "helvetica", _latin1
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(True, margin=20)

    def style(self, size: float, bold: bool = False) -> None:
        """Select the report font at ``size`` points."""
        self.set_font(self.family_name, "B" if bold else "", size)

    def write_line(self, text: str, size: float = 9, bold: bool = False, height: float = 4.6) -> None:
        """A paragraph across the text width, wrapped."""
        self.style(size, bold)
        self.multi_cell(0, height, self.clean(text), align="L", new_x="LMARGIN", new_y="NEXT")

    def section(self, title: str) -> None:
        """A section title, moved to the next page when it would end one (no orphan titles)."""
        if self.get_y() + 25 > self.page_break_trigger:
            self.add_page()
        self.write_line(title, size=11, bold=True, height=6)

    def header(self) -> None:
        # Page 1 carries the full header; later pages name the report so a
        # loose sheet can be put back in its file.
        if self.page_no() == 1:
            return
        t, r = self.strings, self.report
        self.style(7)
        self.set_text_color(90)
        head = t["running_head"].format(node=r.node_name, title=t["title"], donor=r.donor_name)
        self.cell(0, 4, self.clean(head), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        t, r = self.strings, self.report
        self.set_y(-16)
        self.style(7)
        self.set_text_color(90)
        if r.record_id_hex:
            note = t["footer.signed"].format(fingerprint=r.node_fingerprint, record=r.record_id_hex)
        else:
            note = t["footer.unsigned"].format(node=r.node_name, fingerprint=r.node_fingerprint)
        self.multi_cell(0, 3.2, self.clean(note), align="L", new_x="LMARGIN", new_y="NEXT")
        # "{nb}" is fpdf2's alias for the page count, filled in at output.
        page = t["footer.page"].format(page=self.page_no(), pages="{nb}")
        self.cell(0, 3.5, self.clean(page), align="R")
        self.set_text_color(0)


def render_donor_report(report: DonorReport, language: str = "fr", *, tz: str = "Europe/Paris") -> bytes:
    """Render ``report`` as PDF bytes in ``language`` ("fr" or "en").

    Dates are the local days in ``tz``. The PDF's creation date is the
    report's ``generated_ms`` (when the figures were taken), not the time of
    rendering; fpdf2 still stamps the XMP modification date with the current
    time, so two renderings differ by a few bytes. Raises ValueError for an
    unknown language, ``ZoneInfoNotFoundError`` for an unknown ``tz``.
    """
    text = texts(language)
    zone = ZoneInfo(tz)
    pdf = _ReportPDF(report, text, _find_font())
    pdf.set_creation_date(datetime.fromtimestamp(report.generated_ms / 1000, timezone.utc))
    pdf.set_title(pdf.clean(f"{text['title']} — {report.donor_name}"))
    pdf.set_author(pdf.clean(report.node_name))
    pdf.set_creator("Maillon")
    pdf.set_lang("fr-FR" if language == "fr" else language)
    pdf.add_page()
    _write_header(pdf, report, language, zone)
    _write_summary(pdf, report, language)
    _write_receptions(pdf, report, language)
    _write_reen(pdf, report, language)
    _write_totals(pdf, report, language)
    _write_impact(pdf, report, language)
    _write_items(pdf, report, language, zone)
    return bytes(pdf.output())


def _write_header(pdf: _ReportPDF, report: DonorReport, language: str, zone: ZoneInfo) -> None:
    t, margin, bottom = pdf.strings, pdf.r_margin, 0.0
    if report.verify_url:  # top right: a phone opens the page that checks the proof bundle
        from node.reports.donor_qr import verify_qr  # noqa: PLC0415

        side = 24
        pdf.image(verify_qr(report.verify_url), x=pdf.w - margin - side, y=pdf.t_margin, w=side, h=side)
        room = side + 22  # the caption's URL on one line
        pdf.set_xy(pdf.w - margin - room, pdf.t_margin + side)
        pdf.style(5.5)
        pdf.multi_cell(room, 2.4, pdf.clean(t["verify_qr"].format(url=report.verify_url)), align="R")
        bottom = pdf.get_y() + 2
        pdf.set_right_margin(margin + room + 3)  # the header's lines keep clear of it
        pdf.set_xy(pdf.l_margin, pdf.t_margin)
    pdf.write_line(report.node_name, size=15, bold=True, height=7)
    pdf.write_line(t["title"], size=12, bold=True, height=6)
    generated = t["generated"].format(
        date=format_date(report.generated_ms, language, zone), time=format_time(report.generated_ms, zone)
    )
    pdf.write_line(generated, size=8)
    pdf.write_line(t["issuer"].format(node=report.node_name, fingerprint=report.node_fingerprint), size=8)
    pdf.ln(3)
    period = t["period_value"].format(
        start=format_day(report.period_from, language), end=format_day(report.period_to, language)
    )
    rows = [
        (t["donor"], report.donor_name),
        (t["donor_type"], label(t, "donor_type", report.donor_type)),
        (t["siret"], report.siret or t["none"]),
        (t["lots"], ", ".join(report.lots) or t["none"]),
        (t["period"], period),
    ]
    for name, value in rows:  # bold label, value wrapped beside it (lots can be many)
        pdf.style(9, bold=True)
        pdf.cell(30, 5, pdf.clean(name))
        pdf.style(9)
        pdf.multi_cell(0, 5, pdf.clean(value), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_right_margin(margin)
    pdf.set_y(max(pdf.get_y(), bottom))
    pdf.ln(3)


def _write_summary(pdf: _ReportPDF, report: DonorReport, language: str) -> None:
    t, fates, rate = pdf.strings, report.totals_by_fate, report.reuse_rate_permille
    num, kg = (lambda v: format_int(v, language)), (lambda g: format_kg(g, language))
    distributed, recycled = fates["distributed"], fates["recycled"]
    received = t["summary.received_value"].format(units=num(report.units), kg=kg(report.weight_g))
    recycled_text = t["summary.recycled_value"].format(kg=kg(recycled.weight_g), units=num(recycled.units))
    if rate is None:
        rate_text = t["summary.reuse_rate_none"]
    else:
        rate_text = t["summary.reuse_rate_value"].format(rate=format_permille(rate, language))
    erased = num(report.erased_units)
    erasures = t["summary.erasures_value"].format(erased=erased, storage=num(report.storage_units))
    rows = [
        (t["summary.received"], received),
        (t["summary.distributed"], num(distributed.units)),
        (t["summary.recycled"], recycled_text),
        (t["summary.reuse_rate"], rate_text),
        (t["summary.erasures"], erasures),
        (t["summary.proof"], t["summary.proof_problems"].format(count=num(len(report.chain_problems)),
                                                                first=report.chain_problems[0])
         if report.chain_problems else t["summary.proof_ok"]),
    ]
    pdf.section(t["summary"])
    top, height = pdf.get_y(), 5 * len(rows) + 9
    pdf.set_fill_color(*_GREY_FILL)
    pdf.rect(pdf.l_margin, top, pdf.epw, height, style="F")
    pdf.set_y(top + 2)
    for name, value in rows:
        pdf.set_x(pdf.l_margin + 3)
        pdf.style(9, bold=True)
        pdf.cell(48, 5, pdf.clean(name))
        pdf.style(9)
        pdf.multi_cell(0, 5, pdf.clean(value), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(top + height + 4)


def _signed(value: int, text: str) -> str:
    return f"+{text}" if value > 0 else (f"\u2212{text.lstrip('-')}" if value < 0 else text)


def _write_receptions(pdf: _ReportPDF, report: DonorReport, language: str) -> None:
    """Declared against counted, for each lot from the donor and each hand-off of its items."""
    if not report.receptions:
        return
    t, none = pdf.strings, pdf.strings["none"]
    num, kg = (lambda v: format_int(v, language)), (lambda g: format_kg(g, language))

    def amount(units: int | None, grams: int | None) -> str:
        return t["receptions.value"].format(units=none if units is None else num(units),
                                            kg=none if grams is None else kg(grams))  # fmt: skip

    pdf.section(t["receptions"])
    keys = ("lot", "by", "declared", "counted", "gap", "missing")
    grid = _Grid(pdf, (16, 26, 16, 16, 16, 10), tuple(t[f"receptions.{key}"] for key in keys), size=8,
                 line_height=3.8, align="LLRRRR")  # fmt: skip
    for r in report.receptions:
        units_gap, weight_gap = r.units_gap, r.weight_gap_g
        gap = t["receptions.value"].format(units=none if units_gap is None else _signed(units_gap, num(units_gap)),
                                           kg=none if weight_gap is None else _signed(weight_gap, kg(weight_gap)))  # fmt: skip
        by = r.taker or t["receptions.donor"].format(node=report.node_name)
        grid.row((r.lot, by, amount(r.declared_units, r.declared_weight_g), amount(r.counted_units, r.weighed_g),
                  gap, num(r.missing)))  # fmt: skip
    pdf.ln(4)


_WEEE = (("reen.screens", frozenset({"screen"})),
         ("reen.small_it", frozenset({"desktop", "laptop", "tablet", "smartphone", "printer",
                                      "multifunction_printer", "server", "network", "peripheral"})))  # fmt: skip


def _write_reen(pdf: _ReportPDF, report: DonorReport, language: str) -> None:
    """Per WEEE category of the REEN decree (2° screens, 6° small IT), the reuse rate the law counts."""
    t, num = pdf.strings, (lambda v: format_int(v, language))
    groups: dict[str, list[int]] = {}
    for line in report.lines:
        key = next((name for name, categories in _WEEE if line.category in categories), "reen.other")
        counts = groups.setdefault(key, [0, 0, 0])
        counts[0] += 1
        counts[1] += line.fate == "distributed"
        counts[2] += line.fate == "recycled"
    if not groups:
        return
    pdf.section(t["reen"])
    keys = ("category", "units", "reused", "recycled", "rate")
    grid = _Grid(pdf, (40, 18, 18, 18, 18), tuple(t[f"reen.{key}"] for key in keys), size=8, line_height=3.8,
                 width=140, align="LRRRR")  # fmt: skip
    for key in (name for name, _ in (*_WEEE, ("reen.other", None)) if name in groups):
        units, reused, recycled = groups[key]
        rate = format_permille((2000 * reused + units) // (2 * units), language) + " %"
        grid.row((t[key], num(units), num(reused), num(recycled), rate))
    pdf.write_line(t["reen.note"], size=7, height=4)
    pdf.ln(3)


def _write_totals(pdf: _ReportPDF, report: DonorReport, language: str) -> None:
    t = pdf.strings
    num, kg = (lambda v: format_int(v, language)), (lambda g: format_kg(g, language))
    pdf.section(t["totals"])
    headings = (t["totals.fate"], t["totals.units"], t["totals.weight"])
    grid = _Grid(pdf, (50, 25, 25), headings, size=9, line_height=4.4, width=110, align="LRR")
    for key in FATE_KEYS:
        total = report.totals_by_fate[key]
        grid.row((label(t, "fate", key), num(total.units), kg(total.weight_g)))
    grid.row((t["totals.all"], num(report.units), kg(report.weight_g)), bold=True)
    pdf.ln(4)


def _write_impact(pdf: _ReportPDF, report: DonorReport, language: str) -> None:
    t = pdf.strings
    num, kg = (lambda v: format_int(v, language)), (lambda g: format_kg(g, language))
    pdf.section(t["impact"])
    if not report.impact:
        pdf.write_line(t["impact.none"], size=9)
    else:
        keys = ("category", "units", "years", "factor_co2e", "co2e", "factor_materials", "materials")
        headings = tuple(t[f"impact.{key}"] for key in keys)
        grid = _Grid(pdf, (24, 11, 13, 14, 14, 14, 14), headings, size=8, line_height=3.8, align="LRRRRRR")
        for line in report.impact:
            grid.row((
                label(t, "category", line.category), num(line.units), num(line.years),
                kg(line.factor_co2e_g_per_year), kg(line.co2e_g),
                kg(line.factor_materials_g_per_year), kg(line.materials_g),
            ))  # fmt: skip
        pdf.ln(2)
        # The arithmetic written out, so a reader can redo it (DOMAIN.md: an
        # impact figure without its formula cannot be checked).
        pdf.write_line(t["impact.formula"], size=8, height=4)
        for line in report.impact:
            formula = t["impact.formula_line"].format(
                category=label(t, "category", line.category), units=num(line.units),
                years=format_years(line.years, language), factor_co2e=kg(line.factor_co2e_g_per_year),
                co2e=kg(line.co2e_g), factor_materials=kg(line.factor_materials_g_per_year),
                materials=kg(line.materials_g),
            )  # fmt: skip
            pdf.write_line(formula, size=8, height=4)
        total = t["impact.total"].format(
            co2e=kg(report.impact_co2e_g), materials=kg(report.impact_materials_g)
        )
        pdf.write_line(total, size=8, bold=True, height=4)
    # Source and version are shown even without lines: they say which table was used.
    source = t["impact.source"].format(source=report.factor_source, version=report.factor_version)
    pdf.write_line(source, size=8)
    if report.categories_without_factor:
        names = ", ".join(label(t, "category", c) for c in report.categories_without_factor)
        pdf.write_line(t["impact.uncovered"].format(categories=names), size=8)
    pdf.ln(4)


def _write_items(pdf: _ReportPDF, report: DonorReport, language: str, zone: ZoneInfo) -> None:
    t = pdf.strings
    pdf.section(t["items"])
    if not report.lines:
        pdf.write_line(t["items.none"], size=9)
        return
    headings = tuple(t[f"items.{key}"] for key in ("asset", "serial", "category", "fate", "date", "erasure"))
    grid = _Grid(pdf, _ITEM_WIDTHS, headings, size=7, line_height=3.2)
    for line in report.lines:
        grid.row(_item_cells(line, t, language, zone, report.node_name))


class _Grid:
    """A bordered table drawn line by line, heading row repeated on each page.

    fpdf2's ``table()`` lays every cell out twice through its general line
    breaker, about 3 ms a row: a 2000-item report took 6 s. This grid wraps
    words itself with widths cached per word (fpdf2 applies no kerning, so
    widths add up exactly) and draws with ``text()``, about nine times faster.
    ``align`` has one letter per column, L or R.
    """

    def __init__(
        self, pdf: _ReportPDF, weights: tuple[int, ...], headings: tuple[str, ...], size: float,
        line_height: float, width: float | None = None, align: str = "", pad: float = 1.0,
    ) -> None:  # fmt: skip
        self.pdf, self.size, self.line_height, self.pad = pdf, size, line_height, pad
        total = pdf.epw if width is None else width
        self.widths = [total * w / sum(weights) for w in weights]
        self.align = align.ljust(len(weights), "L")
        self.headings = tuple(pdf.clean(h) for h in headings)
        self._cache: dict[tuple[bool, str], float] = {}
        # Baseline inside a line: centred glyph box, descent about a fifth of the size.
        size_mm = size * 25.4 / 72
        self.baseline = (line_height - size_mm) / 2 + size_mm * 0.8
        self._draw(self.headings, bold=True, fill=True)

    def row(self, cells: tuple[str, ...], bold: bool = False) -> None:
        """Add one row; a row that does not fit starts a new page, after the headings."""
        self._draw(tuple(self.pdf.clean(c) for c in cells), bold=bold, fill=False)

    def _draw(self, cells: tuple[str, ...], bold: bool, fill: bool) -> None:
        pdf = self.pdf
        pdf.style(self.size, bold)
        inner = [width - 2 * self.pad for width in self.widths]
        wrapped = [self._wrap(text, width, bold) for text, width in zip(cells, inner)]
        height = max(len(lines) for lines in wrapped) * self.line_height + 2 * self.pad
        if pdf.get_y() + height > pdf.page_break_trigger and not fill:
            pdf.add_page()
            self._draw(self.headings, bold=True, fill=True)
            pdf.style(self.size, bold)
        pdf.set_fill_color(*_GREY_FILL)
        x, y = pdf.l_margin, pdf.get_y()
        for lines, width, room, align in zip(wrapped, self.widths, inner, self.align):
            pdf.rect(x, y, width, height, style="DF" if fill else "D")
            for i, text in enumerate(lines):
                shift = room - self._width(text, bold) if align == "R" else 0.0
                pdf.text(x + self.pad + shift, y + self.pad + i * self.line_height + self.baseline, text)
            x += width
        pdf.set_xy(pdf.l_margin, y + height)

    def _width(self, word: str, bold: bool) -> float:
        key = (bold, word)
        width = self._cache.get(key)
        if width is None:
            width = self._cache[key] = self.pdf.get_string_width(word)
        return width

    def _wrap(self, text: str, width: float, bold: bool) -> list[str]:
        """Lines of ``text`` fitting ``width``: line breaks kept, words wrapped, over-long words cut."""
        lines: list[str] = []
        space = self._width(" ", bold)
        for paragraph in text.split("\n"):
            current, used = "", 0.0
            for word in paragraph.split(" "):
                w = self._width(word, bold)
                if current and used + space + w <= width:
                    current, used = f"{current} {word}", used + space + w
                    continue
                if current:
                    lines.append(current)
                while w > width and len(word) > 1:  # a serial longer than its column
                    cut = len(word) - 1
                    while cut > 1 and self._width(word[:cut], bold) > width:
                        cut -= 1
                    lines.append(word[:cut])
                    word = word[cut:]
                    w = self._width(word, bold)
                current, used = word, w
            lines.append(current)
        return lines


def _item_cells(line: ReportLine, t: dict[str, str], language: str, zone: ZoneInfo,
                issuer: str) -> tuple[str, ...]:  # fmt: skip
    """The six cells of one item row; multi-line cells use "\\n"."""
    none = t["none"]
    asset = f"{line.donor_asset or none}\n{line.asset_tag}"
    model = " ".join(part for part in (line.brand, line.model) if part)
    serial = f"{line.serial or none}\n{model}" if model else (line.serial or none)
    # a node named with its fingerprint, on a line of its own so that it is never cut
    node = (line.processed_by or "").replace(" · ", "\n")
    if line.missing_at:
        fate = t["items.missing_at"].format(name=line.missing_at.replace(" · ", "\n"))
    elif line.fate is None and line.processed_by:
        fate = t["items.held_by"].format(name=node)
    elif line.fate is None:
        fate = t["in_stock_state"].format(state=label(t, "state", line.state))
    else:
        fate = label(t, "fate", line.fate)
        if line.beneficiary_category:
            fate += f" ({label(t, 'beneficiary', line.beneficiary_category)})"
    if line.processed_by and line.fate is not None:
        fate += "\n" + t["items.by"].format(name=node)
    day = format_date(line.fate_time_ms, language, zone) if line.fate_time_ms is not None else none
    category = label(t, "category", line.category)
    return (asset, serial, category, fate, day, _erasure_cell(line, t, language, zone, issuer))


def _erasure_cell(line: ReportLine, t: dict[str, str], language: str, zone: ZoneInfo, issuer: str) -> str:
    if not line.erasures:
        return t["erasure.missing"] if line.has_storage else t["erasure.not_applicable"]
    # who did each pass, once another node did one: the issuer's own passes and the others' read apart
    attributed = any(proof.by for proof in line.erasures)
    parts = []
    for proof in line.erasures[:_MAX_PROOFS]:
        certificate = proof.certificate_sha256[:16] + "…" if proof.certificate_sha256 else None
        parts.append(erasure_text(proof, t, format_date(proof.time_ms, language, zone),
                                  (proof.by or issuer) if attributed else None, certificate))  # fmt: skip
    if len(line.erasures) > _MAX_PROOFS:
        parts.append(t["erasure.more"].format(count=len(line.erasures) - _MAX_PROOFS))
    return "\n".join(parts)
