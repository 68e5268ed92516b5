"""Donor report: the derived figures, the locale formatting and the PDF itself.

The PDF is checked through its extracted text (pypdf), which is what a
reader or an indexer of the public body's archive will see.
"""

from __future__ import annotations

import io
import re
import string
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from node.reports import donor_pdf
from node.reports.donor_model import (
    FATE_KEYS,
    IN_STOCK,
    DonorReport,
    ErasureProof,
    FateTotal,
    ImpactLine,
    ReportLine,
)
from node.reports.donor_pdf import render_donor_report
from node.reports.donor_text import (
    TEXTS,
    format_day,
    format_int,
    format_kg,
    format_permille,
    format_years,
    texts,
)

pypdf = pytest.importorskip("pypdf")

NNBSP = "\u202f"
DAY_MS = 86_400_000
# 2026-11-23 10:00 UTC, 11:00 in Paris.
T0 = 1_795_428_000_000
RECORD = "0123456789abcdef" * 4
FATE_CYCLE = ("distributed", "recycled", "dismantled", "transferred", None)


def proof(
    disk: str | None = "WD-1", result: str = "success", time_ms: int = T0, level: str = "purge"
) -> ErasureProof:
    return ErasureProof(disk, "PRNG stream", level, "nwipe 0.35", time_ms, result)


def line(i: int = 0, fate: str | None = "distributed", **changes: object) -> ReportLine:
    base = ReportLine(
        gid=f"gid-{i}",
        asset_tag=f"MA-{i:05d}",
        donor_asset=f"INV-{i:05d}",
        serial=f"SN{i:08d}",
        category="laptop",
        brand="Dell",
        model="Latitude 5490",
        state=fate or "ready",
        fate=fate,
        fate_time_ms=T0 if fate else None,
        beneficiary_category="person" if fate == "distributed" else None,
        weight_g=2200,
        erasures=(proof(f"WD-{i}"),),
        processed_by=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def laptop_impact(units: int = 12, years: int = 3) -> ImpactLine:
    co2e, materials = units * years * 27_000, units * years * 127_000
    return ImpactLine(category="laptop", units=units, years=years, co2e_g=co2e, materials_g=materials,
                      factor_co2e_g_per_year=27_000, factor_materials_g_per_year=127_000)


def report(lines: tuple[ReportLine, ...] = (), **changes: object) -> DonorReport:
    base = DonorReport(
        node_name="Ordi Solidaire Rennes",
        node_fingerprint="ABCD-EFGH-IJKL-MNOP",
        donor_name="Préfecture d’Ille-et-Vilaine",
        donor_type="public_body",
        siret="17350001800015",
        lots=("LOT-2026-001", "LOT-2026-002"),
        period_from="2026-01-01",
        period_to="2026-12-31",
        generated_ms=T0,
        lines=lines,
        impact=(laptop_impact(),),
        factor_version="ademe-2022-v1",
        factor_source="ADEME 2022, produits reconditionnés",
        record_id_hex=RECORD,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def many(n: int) -> tuple[ReportLine, ...]:
    return tuple(line(i, FATE_CYCLE[i % 5]) for i in range(n))


def pages_text(pdf: bytes) -> list[str]:
    """Text of each page, thousands separators and runs of spaces made plain spaces."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [re.sub(r"[ \u00a0\u202f]+", " ", page.extract_text()) for page in reader.pages]


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


# --- model -----------------------------------------------------------------


def test_totals_by_fate_count_units_and_grams_with_every_key_in_order() -> None:
    lines = (
        line(1, "distributed", weight_g=2000),
        line(2, "distributed", weight_g=2500),
        line(3, "recycled", weight_g=7000),
        line(4, None, weight_g=100),
    )
    totals = report(lines).totals_by_fate
    assert tuple(totals) == FATE_KEYS
    assert totals["distributed"] == FateTotal(2, 4500)
    assert totals["recycled"] == FateTotal(1, 7000)
    assert totals["dismantled"] == FateTotal(0, 0)
    assert totals[IN_STOCK] == FateTotal(1, 100)
    assert report(lines).weight_g == 11_600


@pytest.mark.parametrize(
    ("distributed", "other", "expected"),
    [(1, 0, 1000), (2, 1, 667), (1, 7, 125), (1, 15, 63), (0, 3, 0), (1, 2, 333)],
)
def test_reuse_rate_is_per_mille_rounded_half_up(distributed: int, other: int, expected: int) -> None:
    lines = tuple(line(i, "distributed") for i in range(distributed))
    lines += tuple(line(100 + i, "recycled") for i in range(other))
    assert report(lines).reuse_rate_permille == expected


def test_reuse_rate_leaves_items_in_stock_out_and_is_none_without_any_fate() -> None:
    assert report((line(1, "distributed"), line(2, None), line(3, None))).reuse_rate_permille == 1000
    assert report((line(1, None),)).reuse_rate_permille is None
    assert report(()).reuse_rate_permille is None


def test_erased_needs_the_latest_proof_of_every_disk_to_succeed() -> None:
    retried = (proof("A", "failure", T0), proof("A", "success", T0 + 1))
    failed_last = (proof("A", "success", T0), proof("A", "failure", T0 + 1))
    one_disk_failed = (proof("A", "success"), proof("B", "failure"))
    assert line(erasures=retried).erased
    assert not line(erasures=failed_last).erased
    assert not line(erasures=one_disk_failed).erased
    assert not line(erasures=()).erased
    assert line(erasures=(proof(None),)).erased


def test_erasure_counts_and_storage_denominator() -> None:
    lines = (
        line(1),  # laptop, erased
        line(2, erasures=()),  # laptop, no proof
        line(3, category="screen", erasures=()),  # no storage
        line(4, category="screen", erasures=(proof(),)),  # a wiped disk makes it count
    )
    r = report(lines)
    assert (r.erased_units, r.storage_units) == (2, 3)


def test_impact_line_refuses_totals_that_are_not_the_product() -> None:
    with pytest.raises(ValueError):
        ImpactLine(category="laptop", units=12, years=3, co2e_g=1, materials_g=12 * 3 * 127_000,
                   factor_co2e_g_per_year=27_000, factor_materials_g_per_year=127_000)
    assert report(()).impact_co2e_g == 972_000
    assert report(()).impact_materials_g == 4_572_000


def test_categories_without_factor_in_first_seen_order() -> None:
    lines = (line(1, category="screen"), line(2), line(3, category="printer"), line(4, category="screen"))
    assert report(lines).categories_without_factor == ("screen", "printer")


@pytest.mark.parametrize(
    "changes",
    [{"period_from": "2026-1-01"}, {"period_from": "2027-01-01"}, {"record_id_hex": "ABC"}],
)
def test_report_refuses_bad_period_or_record_id(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        report((), **changes)


def test_line_and_proof_refuse_unknown_codes() -> None:
    with pytest.raises(ValueError):
        line(fate="sold")
    with pytest.raises(ValueError):
        line(state="lost")
    with pytest.raises(ValueError):
        proof(level="shred")


# --- text and formatting ---------------------------------------------------


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    def fields(s: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(s) if name}

    french = TEXTS["fr"]
    assert list(TEXTS)[0] == "fr"
    for language, strings in TEXTS.items():
        assert strings.keys() == french.keys(), language
        for key, value in strings.items():
            assert fields(value) == fields(french[key]), (language, key)


def test_numbers_and_dates_follow_the_language() -> None:
    assert format_int(1_234_567, "fr") == f"1{NNBSP}234{NNBSP}567"
    assert format_int(1_234_567, "en") == "1,234,567"
    assert format_kg(1_234_550, "fr") == f"1{NNBSP}234,6"
    assert format_kg(1_234_549, "en") == "1,234.5"
    assert format_kg(0, "fr") == "0,0"
    assert format_permille(875, "fr") == "87,5"
    assert format_permille(1000, "en") == "100.0"
    assert format_day("2026-11-23", "fr") == "23/11/2026"
    assert format_day("2026-11-23", "en") == "2026-11-23"
    assert [format_years(n, "fr") for n in (0, 1, 2)] == ["0 an", "1 an", "2 ans"]
    assert [format_years(n, "en") for n in (0, 1, 2)] == ["0 years", "1 year", "2 years"]
    with pytest.raises(ValueError):
        texts("de")


# --- PDF -------------------------------------------------------------------


def test_empty_report_renders_one_page_saying_so() -> None:
    pdf = render_donor_report(report((), impact=()))
    assert pdf.startswith(b"%PDF-")
    (text,) = pages_text(pdf)
    assert "Préfecture d’Ille-et-Vilaine" in text
    assert "Aucun appareil dans ce rapport." in text
    assert "Aucun impact n’est calculé dans ce rapport." in text
    assert "non calculable" in text
    assert "page 1 / 1" in text


def test_one_item_shows_its_serial_fate_date_and_erasure() -> None:
    item = line(7, "distributed", processed_by="Rés’Ordi 35")
    (text,) = pages_text(render_donor_report(report((item,))))
    assert "SN00000007" in text and "INV-00007" in text and "MA-00007" in text
    assert "distribué (particulier)" in text
    assert "par Rés’Ordi 35" in text
    assert "23/11/2026" in text
    # The erasure cell wraps: compare with line breaks as spaces.
    assert "purge · Flux pseudo-aléatoire (PRNG) · nwipe 0.35 · 23/11/2026 · réussi" in " ".join(text.split())
    assert "disque WD-7" in text
    assert "Effacements prouvés 1 sur 1 appareils porteurs de données" in text
    assert "Taux de réemploi 100,0 %" in text
    assert "Rapport de traçabilité — donateur" in text


def test_in_stock_and_missing_proof_are_spelled_out() -> None:
    lines = (line(1, None, state="tested", erasures=()), line(2, "recycled", category="screen", erasures=()))
    text = "".join(pages_text(render_donor_report(report(lines))))
    assert "en stock : testé" in text
    assert "aucune preuve" in text
    assert "sans objet" in text


def test_footer_names_the_signed_record_only_when_there_is_one() -> None:
    (signed,) = pages_text(render_donor_report(report((line(),))))
    assert RECORD in signed and "ABCD-EFGH-IJKL-MNOP" in signed
    assert "version signée" in signed
    (unsigned,) = pages_text(render_donor_report(report((line(),), record_id_hex=None)))
    assert "version signée" not in unsigned
    assert "ABCD-EFGH-IJKL-MNOP" in unsigned


def test_totals_and_formula_match_the_data() -> None:
    lines = many(10)  # two of each fate, 2.2 kg each
    text = pages_text(render_donor_report(report(lines)))[0]
    assert "Appareils reçus 10 (22,0 kg)" in text
    assert "Distribués (réemploi) 2" in text
    assert "Recyclés 4,4 kg (2 appareils)" in text
    assert "Taux de réemploi 25,0 %" in text  # 2 distributed of 8 with a fate
    for word in ("distribué", "recyclé", "démantelé (pièces)", "transféré", "en stock"):
        assert f"{word} 2 4,4" in text
    assert "Total 10 22,0" in text
    assert "12 × 3 ans × 27,0 kg CO₂e/an = 972,0 kg CO₂e" in text
    assert "12 × 3 ans × 127,0 kg/an = 4 572,0 kg de matières premières" in text
    assert "version ademe-2022-v1" in text
    assert "ADEME 2022, produits reconditionnés" in text


def test_two_thousand_items_span_pages_with_headings_and_numbers() -> None:
    small = render_donor_report(report(many(1)))
    pdf = render_donor_report(report(many(2000)))
    pages = pages_text(pdf)
    count = len(pages)
    assert count > page_count(small) and count >= 20
    assert "Appareils reçus 2 000 (4 400,0 kg)" in pages[0]
    for number, text in enumerate(pages, start=1):
        assert f"page {number} / {count}" in text
        assert "Effacement des données" in text  # heading row repeated on every page
    assert "SN00001999" in pages[-1]
    assert sum(text.count("SN0000") for text in pages) == 2000


def test_english_report_uses_english_words_and_formats() -> None:
    text = pages_text(render_donor_report(report(many(10)), "en"))[0]
    assert "Traceability report — donor" in text
    assert "distributed (individual)" in text
    assert "Reuse rate 25.0 %" in text
    assert "Devices received 10 (22.0 kg)" in text
    assert "2026-11-23" in text
    assert "12 × 3 years × 27.0 kg CO₂e/year" in text
    assert "distribué" not in text


def test_dates_are_local_days_in_the_given_time_zone() -> None:
    late = T0 - 10 * 3_600_000 - 30 * 60_000  # 2026-11-22 23:30 UTC, 00:30 in Paris
    item = line(1, fate_time_ms=late, erasures=())
    assert "23/11/2026" in pages_text(render_donor_report(report((item,), generated_ms=late)))[0]
    utc = pages_text(render_donor_report(report((item,), generated_ms=late), tz="UTC"))[0]
    assert "22/11/2026" in utc and "23/11/2026" not in utc


def test_long_cells_wrap_and_many_proofs_are_summed_up() -> None:
    item = line(
        1,
        serial="X" * 80,
        erasures=tuple(proof("D", time_ms=T0 + i) for i in range(12)),
        processed_by="Association intercommunale pour le réemploi solidaire du numérique",
    )
    text = "".join(pages_text(render_donor_report(report((item,)))))
    assert text.replace("\n", "").count("X") >= 80
    assert "… et 4 autres preuves" in text


@pytest.mark.parametrize("unicode_font", [True, False])
def test_creation_date_is_when_the_report_was_generated(
    unicode_font: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not unicode_font:
        monkeypatch.setattr(donor_pdf, "_find_font", lambda: None)
    elif donor_pdf._find_font() is None:
        pytest.skip("no DejaVu font on this machine")
    reader = pypdf.PdfReader(io.BytesIO(render_donor_report(report(many(3)))))
    if unicode_font:  # PDF/A: the dates live in the XMP metadata
        xmp = reader.trailer["/Root"]["/Metadata"].get_data()
        assert b'xmp:CreateDate="2026-11-23T10:00:00+00:00"' in xmp
    else:
        assert reader.metadata.creation_date == datetime(2026, 11, 23, 10, tzinfo=timezone.utc)


def test_archival_profile_when_a_unicode_font_is_installed() -> None:
    if donor_pdf._find_font() is None:
        pytest.skip("no DejaVu font on this machine")
    reader = pypdf.PdfReader(io.BytesIO(render_donor_report(report((line(),)))))
    xmp = reader.trailer["/Root"]["/Metadata"].get_data()
    assert b"<pdfaid:part>2</pdfaid:part>" in xmp and b"<pdfaid:conformance>U</pdfaid:conformance>" in xmp
    assert reader.trailer["/Root"]["/OutputIntents"]  # the sRGB profile PDF/A requires


def test_without_a_unicode_font_text_falls_back_to_latin1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(donor_pdf, "_find_font", lambda: None)
    item = line(1, processed_by="Cœur d’Œuvre…")
    text = "".join(pages_text(render_donor_report(report(many(3) + (item,)))))
    assert "Rapport de traçabilité - donateur" in text
    assert "par Coeur d'OEuvre..." in text
    assert "Préfecture d'Ille-et-Vilaine" in text
    assert "CO2e" in text


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        render_donor_report(report(()), "de")


# --- what the donor's proof adds (issue 16) ----------------------------------


def test_the_reception_discrepancies_of_each_lot_are_in_the_pdf() -> None:
    from node.reports.donor_model import Reception

    receptions = (Reception("LOT-2026-001", None, 8, 30_000, 5, 10_000),
                  Reception("LOT-2026-001", "Atelier · WXYZ-WXYZ-WXYZ-WXYZ", 5, 10_000, 4, 8_000, missing=1))  # fmt: skip
    text = " ".join("".join(pages_text(render_donor_report(report((line(),), receptions=receptions)))).split())
    assert "Réception des lots" in text and "Ordi Solidaire Rennes (du donateur)" in text
    flat = text.replace("\u2212", "-")
    assert "-3 app. · -20,0 kg" in flat  # 3 units and 20 kg fewer than declared
    assert "-1 app. · -2,0 kg" in flat and "Atelier · WXYZ-WXYZ-WXYZ-WXYZ" in flat


def test_who_did_the_work_and_what_is_missing_are_spelled_out() -> None:
    lines = (
        line(1, "distributed", processed_by="Recyclerie · WXYZ-WXYZ-WXYZ-WXYZ"),
        line(2, None, processed_by="Atelier · QRST-QRST-QRST-QRST"),
        line(3, None, missing_at="Atelier · QRST-QRST-QRST-QRST"),
    )
    text = " ".join("".join(pages_text(render_donor_report(report(lines)))).split())
    assert "par Recyclerie WXYZ-WXYZ-WXYZ-WXYZ" in text  # the fingerprint on a line of its own, whole
    assert "en stock chez Atelier QRST-QRST-QRST-QRST" in text
    assert "manquant à la réception (Atelier QRST-QRST-QRST-QRST)" in text


def test_the_reen_summary_counts_screens_and_small_it_apart() -> None:
    lines = (line(1, "distributed"), line(2, "recycled"), line(3, "distributed", category="screen"),
             line(4, None, category="component"))  # fmt: skip
    text = " ".join("".join(pages_text(render_donor_report(report(lines)))).split())
    assert "Synthèse REEN (décret 2023-266)" in text
    assert "2° écrans 1 1 0 100,0 %" in text
    assert "6° petits équipements informatiques 2 1 1 50,0 %" in text
    assert "hors catégories 2° et 6° 1 0 0 0,0 %" in text


def test_a_chain_with_a_problem_says_so() -> None:
    problems = ("not_custodian a fate signed by a node that did not hold the item",)
    text = " ".join("".join(pages_text(render_donor_report(report((line(),), chain_problems=problems)))).split())
    assert "1 anomalie(s) dans la chaîne de garde : not_custodian" in text


def test_the_register_has_a_row_per_serial_and_runs_no_formula() -> None:
    from node.reports.donor_register import register_csv, register_rows

    lines = (line(1, "distributed", processed_by="Recyclerie · WXYZ-WXYZ-WXYZ-WXYZ", lot="LOT-2026-001"),
             line(2, None, serial="=HYPERLINK(\"http://x\")", erasures=()))  # fmt: skip
    rows = register_rows(report(lines))
    assert rows[0][:3] == ["Lot", "N° d’inventaire donateur", "N° de série"] and len(rows) == 3
    assert rows[1][5:9] == ["distribué", "23/11/2026"[6:] + "-11-23", "particulier", "Recyclerie · WXYZ-WXYZ-WXYZ-WXYZ"]
    assert rows[2][2] == "'=HYPERLINK(\"http://x\")" and rows[2][9] == "aucune preuve"
    assert register_csv(report(lines)).startswith("\ufeffLot;".encode())


def test_a_qr_code_leads_to_the_verification_page() -> None:
    from PIL import Image

    url = "https://ogo.example.org/verify"
    pdf = render_donor_report(report((line(),), verify_url=url))
    text = " ".join(pages_text(pdf)[0].split())
    assert f"Vérifier sans compte : {url}" in text
    images = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    qr = images[0].image.convert("L")
    assert isinstance(qr, Image.Image) and qr.size[0] == qr.size[1]
    assert "Vérifier sans compte" not in " ".join(pages_text(render_donor_report(report((line(),))))[0].split())


def test_nwipe_method_names_are_written_in_the_reports_language() -> None:
    fill = ErasureProof("WD-1", "Fill With Zeros", "clear", "nwipe 0.35", T0, "success")
    own = ErasureProof("WD-2", "effacement maison", "clear", "outil", T0, "success")
    lines = (line(1, erasures=(fill,)), line(2, erasures=(own,)))
    french = " ".join(pages_text(render_donor_report(report(lines), "fr")))
    assert "Remplissage par des zéros" in french and "Fill With Zeros" not in french
    assert "effacement maison" in french  # an association's own words are shown as written
    english = " ".join(pages_text(render_donor_report(report(lines), "en")))
    assert "Fill With Zeros" in english
