"""Labels, donor reports, statistics and exports pages, on a real node with data made by the domain functions."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from html import unescape

import pytest
from webtools import Browser

from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
from node.domain.distribution import DistributionInput, OutflowInput, distribute, recycle
from node.domain.donors import DonorInput, create_donor
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.workflow import StepInput, record_step
from node.reports.labels import qr_code
from node.validation import parse
from protocol.bundle import verify_bundle
from protocol.records import read_record_file
from web_ui.i18n import TIMEZONE, translator
from web_ui.pages.outputs_common import current_year, slug, today
from web_ui.pages.outputs_stats import neighbours

pypdf = pytest.importorskip("pypdf")
fr = translator("fr")
DONOR = "Mairie <script>alert(1)</script>"


@pytest.fixture
async def workshop(web):
    """A donor's lot L-1: 3 laptops (2 distributed) and a desktop (recycled); lot L-2 without donor, 1 screen."""
    node, store, client = web
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": DONOR, "type": "public_body"}))
        await create_donor(tx, parse(DonorInput, {"name": "Donateur sans lot", "type": "company"}))
        lot = await create_lot(tx, parse(LotInput, {"reference": "L-1", "donor_id": donor}))
        other = await create_lot(tx, parse(LotInput, {"reference": "L-2"}))
        laptops = await create_items(tx, lot, [
            parse(ItemInput, {"category": "laptop", "brand": "Dell", "model": "Latitude 5490", "storage": "none",
                              "serial": f"SN-{n}"}) for n in range(3)])  # fmt: skip
        (desktop,) = await create_items(tx, lot, [parse(ItemInput, {"category": "desktop", "storage": "none"})])
        (screen,) = await create_items(tx, other, [parse(ItemInput, {"category": "screen"})])
        person = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "person"}))
        await record_step(tx, laptops[:2], parse(StepInput, {"state": "ready"}))
        await distribute(tx, laptops[:2], parse(DistributionInput, {"beneficiary_id": person}))
        await recycle(tx, parse(OutflowInput, {"item_ids": [desktop], "recipient": "Ecologic",
                                               "waste_code": "16 02 14", "treatment": "R4"}))  # fmt: skip
    return {"donor": donor, "lot": lot, "other": other, "laptops": laptops, "desktop": desktop, "screen": screen}


async def count(store, sql: str) -> int:
    async with store.reader() as db:
        return await db.value(sql)


async def reports_signed(store) -> int:
    return await count(store, "SELECT count(*) FROM log_records WHERE kind = 'donor.report/2'")


def pdf_of(body: bytes):
    return pypdf.PdfReader(io.BytesIO(body))


def modules(image) -> list[list[bool]]:
    """The QR image's modules: its first row starts with 7 dark modules (the finder pattern)."""
    grey = image.convert("L")
    pixels, width = grey.load(), grey.size[0]
    step = next(x for x in range(width) if pixels[x, 0] >= 128) / 7
    size = round(width / step)
    return [[pixels[int((j + 0.5) * step), int((i + 0.5) * step)] < 128 for j in range(size)] for i in range(size)]


async def post_file(browser: Browser, path: str, data: dict):
    """A form posted with the session's CSRF token, whose answer may be a file: (response, bytes)."""
    response = await browser.client.post(path, data={**data, "_csrf": browser.csrf})
    return response, await response.read()


async def gids(store, ids: list[int]) -> list[str]:
    async with store.reader() as db:
        return [await db.value("SELECT gid FROM items WHERE id = ?", (i,)) for i in ids]


# Labels


async def test_labels_form_lists_lots_and_warns_about_a_local_address(web, workshop, admin):
    response, text = await admin.get("/labels")
    assert response.status == 200
    assert fr("Item labels") in text and "L-1" in text and "L-2" in text
    assert 'name="mode"' in text and 'name="format"' in text and 'name="field"' in text
    # The test client talks to 127.0.0.1: phones could not follow those codes.
    assert unescape(fr("This page is open at {origin}: the QR codes would point there, and phones cannot reach it. "
                       "Open this page with the node's network address (the one phones use) before printing.",
                       origin="http://127.0.0.1")[:40]) in unescape(text)  # fmt: skip
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert(1)" not in text
    # today's date the French way, as every date of the pages
    day = today()[0]
    assert f"aujourd&#39;hui ({day[8:]}/{day[5:7]}/{day[:4]})" in text and day not in text


async def test_labels_of_a_lot_carry_the_qr_code_of_each_items_page(web, workshop, admin):
    _node, store, client = web
    query = f"mode=lot&lot_id={workshop['lot']}&format=sheet&skip=0&field=category&field=serial&field=lot"
    response = await client.get(f"/labels.pdf?{query}")
    assert response.status == 200 and response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('inline; filename="etiquettes-')
    pdf = pdf_of(await response.read())
    assert len(pdf.pages) == 1 and len(pdf.pages[0].images) == 4
    text = pdf.pages[0].extract_text()
    for tag in ("MLN-000001", "MLN-000002", "MLN-000003", "MLN-000004"):
        assert tag in text
    assert "N/S SN-0" in text and "Lot : L-1" in text and fr("laptop computer") in text
    assert "Latitude" not in text  # brand and model not asked for
    origin = str(client.make_url("/").origin())
    expected = {tuple(tuple(map(bool, row)) for row in qr_code(f"{origin}/i/{gid}").matrix)
                for gid in await gids(store, workshop["laptops"])}  # fmt: skip
    printed = {tuple(map(tuple, modules(image.image))) for image in pdf.pages[0].images}
    assert expected <= printed


async def test_labels_by_range_today_and_checked_items_in_both_formats(web, workshop, admin):
    _node, _store, client = web
    response = await client.get("/labels.pdf?mode=range&tag_from=2&tag_to=mln-3&format=roll&field=model")
    pdf = pdf_of(await response.read())
    assert response.status == 200 and len(pdf.pages) == 2
    assert "MLN-000002" in pdf.pages[0].extract_text() and "Dell Latitude 5490" in pdf.pages[0].extract_text()
    width = float(pdf.pages[0].mediabox[2]) * 25.4 / 72
    assert round(width) == 62

    response = await client.get("/labels.pdf?mode=today&format=sheet&skip=23")
    pdf = pdf_of(await response.read())
    assert [len(page.images) for page in pdf.pages] == [1, 4]  # 5 items from the last place of a used sheet

    ids = workshop["laptops"][1:]
    response, text = await admin.get("/labels?" + "&".join(f"item_id={i}" for i in ids))
    assert response.status == 200 and fr("{count} items chosen.", count=2) in text
    assert 'id="mode-checked" name="mode" value="checked" checked' in text
    response = await client.get("/labels.pdf?mode=checked&format=sheet&" + "&".join(f"item_id={i}" for i in ids))
    text = pdf_of(await response.read()).pages[0].extract_text()
    assert "MLN-000002" in text and "MLN-000003" in text and "MLN-000001" not in text

    # A long list of checked items may come as a form (POST), with the session's CSRF token.
    response, _body = await post_file(admin, "/labels.pdf", {"mode": "checked", "format": "roll", "item_id": str(ids[0])})
    assert response.status == 200 and response.content_type == "application/pdf"


async def test_labels_page_preselects_a_lot(web, workshop, admin):
    response, text = await admin.get(f"/labels?lot_id={workshop['lot']}")
    assert response.status == 200 and fr("{count} items chosen.", count=4) in text
    assert f'<option value="{workshop["lot"]}" selected>' in text


@pytest.mark.parametrize(("query", "message"), [
    ("mode=range&tag_from=5&tag_to=1&format=sheet", "This range of asset tags ends before it starts."),
    ("mode=range&tag_from=1&format=sheet", "Give the first and the last asset tag of the range."),
    ("mode=lot&format=sheet", "Choose a lot."),
    ("mode=lot&lot_id=abc&format=sheet", "A number was expected here."),
    (f"mode=lot&lot_id={10**30}&format=sheet", "A number was expected here."),
    ("mode=checked&item_id=-1&format=sheet", "A number was expected here."),
    ("mode=lot&lot_id=999&format=sheet", "Nothing was found for this choice."),
    ("mode=checked&format=sheet", "No item is checked. Check items in the list of items first."),
    ("mode=lot&lot_id=1&format=sheet&skip=30", "A sheet has 24 labels: skip 0 to 23 of them."),
    ("mode=lot&lot_id=1&format=a3", "Choose a sheet of labels or a label printer."),
    ("mode=range&tag_from=MLN-900000&tag_to=MLN-900001&format=sheet", "No item matches this choice: there is no label to print."),
])  # fmt: skip
async def test_labels_errors_are_french_and_keep_the_form(web, workshop, admin, query, message):
    response, text = await admin.get(f"/labels.pdf?{query}")
    assert response.status == 422 and response.content_type == "text/html"
    assert unescape(fr(message)) in unescape(text)
    assert 'action="/labels.pdf"' in text


async def test_too_many_labels_are_refused(web, workshop, admin, monkeypatch):
    import web_ui.pages.outputs_labels as labels_page

    real = labels_page.label_items

    async def small(db, **kwargs):
        return await real(db, **kwargs, limit=2)

    monkeypatch.setattr(labels_page, "label_items", small)
    response, text = await admin.get(f"/labels.pdf?mode=lot&lot_id={workshop['lot']}&format=sheet")
    assert response.status == 422
    assert unescape(fr("Too many items for one PDF. Narrow the choice (at most 5000 labels at a time).")) in unescape(text)
    assert "4 items selected" in text  # the English detail, below


async def test_read_only_accounts_print_labels_but_post_nothing(web, workshop):
    _node, _store, client = web
    reader = Browser(client)
    await reader.login("reader")
    response, _text = await reader.get(f"/labels?lot_id={workshop['lot']}")
    assert response.status == 200
    response = await client.get(f"/labels.pdf?mode=lot&lot_id={workshop['lot']}&format=roll")
    assert response.status == 200 and response.content_type == "application/pdf"
    response, _text = await reader.post("/labels.pdf", {"mode": "lot", "lot_id": str(workshop["lot"])})
    assert response.status == 403


# Donor reports


async def test_reports_page_lists_donors_lots_and_exports(web, workshop, admin):
    response, text = await admin.get("/reports")
    assert response.status == 200
    assert fr("Donor report") in text and 'action="/reports/donor"' in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert(1)" not in text
    assert fr("No donor report has been signed yet.") in unescape(text).replace("’", "'") or \
        unescape(fr("No donor report has been signed yet.")) in unescape(text)
    for kind in ("items", "lots", "events", "nwipe-customers"):
        assert f'href="/exports/{kind}.csv"' in text
    assert 'action="/exports/waste-register.csv"' in text


async def test_donor_report_is_signed_and_downloaded_then_listed_with_its_signed_document(web, workshop, admin):
    node, store, client = web
    response, body = await post_file(admin, "/reports/donor", {"donor_id": str(workshop["donor"]), "lot": "",
                                                               "period": current_year(), "language": "fr"})  # fmt: skip
    assert response.status == 200 and response.content_type == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="rapport-donateur-mairie-script-alert-1-script-\d{4}-\d\d-\d\d\.pdf"',
                        disposition), disposition  # fmt: skip
    pdf_text = "\n".join(page.extract_text() for page in pdf_of(body).pages)
    assert DONOR in pdf_text and "SN-1" in pdf_text
    assert await reports_signed(store) == 1
    async with store.reader() as db:
        record_id = (await db.value("SELECT id FROM log_records WHERE kind = 'donor.report/2'")).hex()
    assert record_id in pdf_text.replace("\n", "")  # the PDF names its signed version

    response, text = await admin.get("/reports")
    assert f'href="/reports/donor/{record_id}.mlnrec"' in text and "L-1" in text
    # the period covered, in French dates as on the PDF
    assert re.search(r"<td>01/01/\d{4} – \d\d/\d\d/\d{4}</td>", text) and not re.search(r"<td>\d{4}-\d\d-\d\d", text)
    response = await client.get(f"/reports/donor/{record_id}.mlnrec")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="rapport-donateur-mairie')
    record = read_record_file(await response.read())
    assert record.id.hex() == record_id and record.header.author == node.key.public.raw
    body = record.body()
    assert body.donor == DONOR and [lot.ref for lot in body.lots] == ["L-1"] and len(body.items) == 4
    assert {item.serial for item in body.items} >= {"SN-0", "SN-1", "SN-2"}
    # its proof bundle: the report with the records that prove each line, checked offline
    assert f'href="/reports/donor/{record_id}.mlnbundle"' in text
    response = await client.get(f"/reports/donor/{record_id}.mlnbundle")
    assert response.status == 200 and response.headers["Content-Disposition"].endswith('.mlnbundle"')
    check = verify_bundle(await response.read())
    assert check.ok and check.report.id.hex() == record_id and len(check.items) == 4
    # the donor's register, serial by serial, for its own books: CSV and XLSX, from the list
    assert f'href="/reports/donor/{record_id}.csv"' in text and f'href="/reports/donor/{record_id}.xlsx"' in text
    response = await client.get(f"/reports/donor/{record_id}.csv")
    assert response.status == 200 and response.headers["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Lot", "N° d’inventaire donateur", "N° de série"] and len(rows) == 5
    assert {row[2] for row in rows[1:]} >= {"SN-0", "SN-1", "SN-2"} and {row[0] for row in rows[1:]} == {"L-1"}
    response = await client.get(f"/reports/donor/{record_id}.xlsx")
    assert response.status == 200 and (await response.read())[:2] == b"PK"
    assert (await client.get(f"/reports/donor/{'0' * 64}.csv")).status == 404


async def test_donor_report_of_one_lot_in_english(web, workshop, admin):
    _node, store, _client = web
    response, body = await post_file(admin, "/reports/donor", {"donor_id": "", "lot": "L-1", "language": "en"})
    assert response.status == 200 and response.content_type == "application/pdf"
    text = "\n".join(page.extract_text() for page in pdf_of(body).pages)
    assert "SN-2" in text and DONOR in text
    assert await reports_signed(store) == 1


@pytest.mark.parametrize(("form", "message"), [
    ({"donor_id": "", "lot": ""}, "Choose a donor or a lot: one of the two."),
    ({"donor_id": "1", "lot": "L-1"}, "Choose a donor or a lot: one of the two."),
    ({"donor_id": "x"}, "Choose a donor in the list."),
    ({"donor_id": "9" * 30}, "Choose a donor in the list."),
    ({"donor_id": "1", "period": "2026-13"}, "This is not a period. Write a year (2026), a month (2026-10) or a quarter (2026-Q3)."),
    ({"donor_id": "1", "period": "1999"}, "No item of this donor in this period: there is nothing to report."),
    ({"donor_id": "2"}, "No item of this donor in this period: there is nothing to report."),
    ({"donor_id": "999"}, "Nothing was found for this choice."),
    ({"lot": "L-2"}, "This choice cannot be used."),
    ({"donor_id": "1", "language": "de"}, "Choose the language of the report."),
])  # fmt: skip
async def test_donor_report_errors_are_french_and_sign_nothing(web, workshop, admin, form, message):
    _node, store, _client = web
    response, text = await admin.post("/reports/donor", {"language": "fr", **form})
    assert response.status == 422 and response.content_type == "text/html"
    assert unescape(fr(message)) in unescape(text)
    assert await reports_signed(store) == 0


async def test_donor_report_error_keeps_the_choice_and_shows_the_english_detail(web, workshop, admin):
    response, text = await admin.post("/reports/donor", {"lot": "L-2", "period": "", "language": "en"})
    assert response.status == 422
    assert '<option value="L-2" selected>' in text and 'value="en" checked' in text
    assert "lot &#39;L-2&#39; has no donor" in text or "lot 'L-2' has no donor" in unescape(text)


async def test_read_only_accounts_download_reports_but_do_not_sign(web, workshop, admin):
    _node, store, client = web
    await post_file(admin, "/reports/donor", {"donor_id": str(workshop["donor"]), "language": "fr"})
    reader = Browser(client)
    await reader.login("reader")
    response, text = await reader.get("/reports")
    assert response.status == 200 and 'action="/reports/donor"' not in text
    assert unescape(fr("Your account may only read: a technician or an administrator signs new donor reports. "
                       "You may download those already signed.")) in unescape(text)  # fmt: skip
    link = re.search(r'href="(/reports/donor/[0-9a-f]{64}\.mlnrec)"', text).group(1)
    response = await client.get(link)
    assert response.status == 200 and read_record_file(await response.read()).body().donor == DONOR
    response, _text = await reader.post("/reports/donor", {"donor_id": str(workshop["donor"]), "language": "fr"})
    assert response.status == 403 and await reports_signed(store) == 1


async def test_unknown_signed_document_is_not_found(web, workshop, admin):
    response, text = await admin.get(f"/reports/donor/{'0' * 64}.mlnrec")
    assert response.status == 404 and unescape(fr("Nothing was found for this choice.")) in unescape(text)
    response, _text = await admin.get("/reports/donor/xyz.mlnrec")
    assert response.status == 404
    response, _text = await admin.get(f"/reports?page={10**30}")
    assert response.status == 200


# Statistics and impact


async def test_stats_page_shows_figures_and_the_impact_formula_in_french(web, workshop, admin):
    response, text = await admin.get("/reports/stats")  # this year by default
    assert response.status == 200
    page_text = unescape(text)
    laptop = fr("laptop computer")
    # 2 laptops distributed × 3 years × 27 kg CO2e a year (ADEME 2022).
    assert fr("{category}: {units} × {years} × {factor} of CO2e a year = {total} of CO2e avoided",
              category=laptop, units=fr("{units} devices", units="2"), years=fr("{years} years", years="3"),
              factor="27,0 kg", total="162,0 kg") in page_text  # fmt: skip
    assert fr("{category}: {units} × {years} × {factor} of raw materials a year = {total} of raw materials avoided",
              category=laptop, units=fr("{units} devices", units="2"), years=fr("{years} years", years="3"),
              factor="127,0 kg", total="762,0 kg") in page_text  # fmt: skip
    assert "ademe-2022" in page_text and "ADEME 2022" in page_text
    assert fr("Years of second life assumed") in page_text
    # Reuse rate: 2 distributed / (2 + 1 recycled) = 66.7 %.
    assert "66,7 %" in page_text
    # The chart, drawn on the server, with its table.
    assert "<svg" in text and "<rect" in text and f"<title>{laptop}: 2</title>" in page_text
    assert fr("The chart's figures: units distributed for reuse, by category") in page_text
    assert "<script" not in text.split("</head>")[1]


async def test_stats_of_a_period_without_activity_and_bad_periods(web, workshop, admin):
    response, text = await admin.get("/reports/stats?period=1999-q2")
    assert response.status == 200 and "1999-Q2" in text
    assert unescape(fr("No item was distributed in this period.")) in unescape(text)
    # 1999 is not in the period list: no neighbour of it is offered either
    assert 'href="/reports/stats?period=1999-Q1"' not in text and 'href="/reports/stats?period=1999-Q3"' not in text
    for bad in ("2026-13", "yesterday", "2026-Q5", "<script>"):
        response, text = await admin.get(f"/reports/stats?period={bad}")
        assert response.status == 422
        assert unescape(fr("This is not a period. Write a year (2026), a month (2026-10) or a quarter (2026-Q3).")) \
            in unescape(text)
        assert "<script>" not in text.split("</head>")[1].replace("<script src", "")


async def test_stats_csv_has_the_same_figures(web, workshop, admin):
    _node, _store, client = web
    year = current_year()
    response = await client.get(f"/reports/stats.csv?period={year}")
    assert response.status == 200 and response.content_type == "text/csv" and response.charset == "utf-8"
    raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = dict(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows["period"] == year and rows["impact.factor_version"] == "ademe-2022"
    assert rows["distributed.laptop.units"] == "2" and rows["recycled.desktop.units"] == "1"
    assert rows["impact.co2e_g"] == str(2 * 3 * 27_000) and rows["received.laptop.units"] == "3"
    response = await client.get("/reports/stats.csv?period=2026-00")
    assert response.status == 422


async def test_the_stats_page_offers_only_neighbours_the_period_list_has(web, workshop, admin):
    now = datetime.now(TIMEZONE)
    year, month = now.year, now.month
    _, html = await admin.get(f"/reports/stats?period={year}")
    text = unescape(html)
    assert f"Période précédente : {year - 1}" in text and "Période suivante" not in text  # not the future
    _, html = await admin.get(f"/reports/stats?period={year - 5}")  # the oldest year of the list
    text = unescape(html)
    assert f"Période suivante : {year - 4}" in text and "Période précédente" not in text
    _, html = await admin.get(f"/reports/stats?period={year}-{month:02d}")
    assert "Période suivante" not in unescape(html) and "Période précédente" in unescape(html)


def test_neighbouring_periods():
    assert neighbours("2026") == ("2025", "2027")
    assert neighbours("2026-01") == ("2025-12", "2026-02")
    assert neighbours("2026-12") == ("2026-11", "2027-01")
    assert neighbours("2026-Q1") == ("2025-Q4", "2026-Q2")
    assert neighbours("2026-Q4") == ("2026-Q3", "2027-Q1")


def test_slug_for_file_names():
    assert slug("Mairie de Brest–Nord (29)") == "mairie-de-brest-nord-29"
    assert slug("École Jules-Ferry") == "ecole-jules-ferry"
    assert slug("!!!") == "document"
    assert slug("Cœur de ville") == "coeur-de-ville"


# Exports


@pytest.mark.parametrize(("kind", "rows", "bom"), [
    ("items", 5, True), ("lots", 2, True), ("events", 5 + 2 + 2 + 1, True), ("waste-register", 1, True),
    ("nwipe-customers", 2, False),
])  # fmt: skip
async def test_csv_exports_download_and_parse(web, workshop, kind, rows, bom):
    _node, _store, client = web
    reader = Browser(client)
    await reader.login("reader")  # reading is enough
    response = await client.get(f"/exports/{kind}.csv")
    assert response.status == 200 and response.content_type == "text/csv" and response.charset == "utf-8"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{kind}-')
    raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf") == bom
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(table) == 1 + rows, table
    if kind == "nwipe-customers":
        assert table[0] == ["Customer Name", "Contact Name", "Customer Address", "Contact Phone"]
        assert DONOR in {row[0] for row in table}


FORMULAS = ["=HYPERLINK(\"http://evil.example\";\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1+1",
            "\r=1+1"]


@pytest.mark.parametrize("kind", ["items", "lots", "events", "nwipe-customers"])
async def test_csv_exports_never_hold_a_formula(web, kind):
    """Text typed by anyone with a technician account opens as text in a spreadsheet, never as a formula."""
    _node, store, client = web
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": FORMULAS[0], "type": "company",
                                                          "contact_name": FORMULAS[3], "address": FORMULAS[1]}))
        lot = await create_lot(tx, parse(LotInput, {"reference": FORMULAS[2], "donor_id": donor,
                                                    "site": FORMULAS[4]}))  # fmt: skip
        items = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop", "brand": f, "model": f,
                                                               "serial": f"{f}{n}"})
                                             for n, f in enumerate(FORMULAS)])  # fmt: skip
        await record_step(tx, items[:1], parse(StepInput, {"state": "tested", "operator": FORMULAS[5], "note": FORMULAS[1]}))
    reader = Browser(client)
    await reader.login("reader")
    response = await client.get(f"/exports/{kind}.csv")
    assert response.status == 200
    table = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig")), delimiter=";"))
    cells = [cell for row in table for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))], cells
    quoted = [cell for cell in cells if cell.startswith("'")]
    assert quoted  # what was typed is still there, behind an apostrophe
    if kind == "items":
        assert "'" + FORMULAS[3] in cells and "'" + FORMULAS[1] in cells, cells


def test_neutralise_leaves_numbers_and_plain_text():
    from node.reports.sheet_cells import neutralise

    assert neutralise(-5) == -5 and neutralise(1.5) == 1.5 and neutralise(None) is None
    assert neutralise("Dell") == "Dell" and neutralise("") == "" and neutralise("a=b") == "a=b"
    assert neutralise("=1") == "'=1" and neutralise("\r@x") == "'\r@x"


async def test_waste_register_of_a_period_and_bad_period(web, workshop, admin):
    _node, _store, client = web
    response = await client.get(f"/exports/waste-register.csv?period={current_year()}")
    table = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig")), delimiter=";"))
    assert response.status == 200 and len(table) == 2 and table[1][1] == "16 02 14" and table[1][5] == "R4"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="waste-register-{current_year()}-')
    response = await client.get("/exports/waste-register.csv?period=1999")
    assert len((await response.read()).decode("utf-8-sig").strip().splitlines()) == 1
    response, text = await admin.get("/exports/waste-register.csv?period=20x6")
    assert response.status == 422 and response.content_type == "text/html"
    assert unescape(fr("This is not a period. Write a year (2026), a month (2026-10) or a quarter (2026-Q3).")) \
        in unescape(text)
    assert 'id="waste-period"' in text  # the list again, to choose from
    response, _text = await admin.get("/exports/passwords.csv")
    assert response.status == 404


async def test_pages_need_a_login(web):
    _node, _store, client = web
    for path in ("/labels", "/labels.pdf?mode=today", "/reports", "/reports/stats", "/exports/items.csv"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith(("/login", "/setup"))


# Spreadsheets in French: CSV (BOM, ;, decimal comma, French headers) and XLSX beside it


def _csv_table(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def _xlsx_table(raw: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(raw))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


@pytest.mark.parametrize("kind", ["items", "lots", "events", "waste-register"])
async def test_every_export_is_a_french_csv_and_an_xlsx_with_the_same_cells(web, workshop, kind):
    _node, _store, client = web
    reader = Browser(client)
    await reader.login("reader")
    response = await client.get(f"/exports/{kind}.csv")
    table = _csv_table(await response.read())
    response = await client.get(f"/exports/{kind}.xlsx")
    assert response.status == 200 and response.content_type.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = _xlsx_table(await response.read())
    assert sheet[0] == table[0] and len(sheet) == len(table)
    assert all(header and not re.fullmatch(r"[a-z_]+", header) for header in table[0]), table[0]  # words, not keys
    english = {"gid", "asset_tag", "state", "category", "quantity_kg", "donor_type", "reference"}
    assert not english & set(table[0])


async def test_the_french_csv_writes_words_and_a_decimal_comma_and_the_xlsx_numbers(web, workshop, admin):
    _node, _store, client = web
    items = _csv_table(await (await client.get("/exports/items.csv")).read())
    assert items[0][:5] == ["Identifiant global", "N° d'étiquette", "Lot", "N° d'immobilisation du donateur",
                            "Catégorie"]  # fmt: skip
    by_header = [dict(zip(items[0], row, strict=True)) for row in items[1:]]
    assert {row["Catégorie"] for row in by_header} == {"ordinateur portable", "ordinateur fixe", "écran"}
    assert {row["État"] for row in by_header} >= {"distribué", "recyclé"}
    waste = _csv_table(await (await client.get("/exports/waste-register.csv")).read())
    row = dict(zip(waste[0], waste[1], strict=True))
    assert re.fullmatch(r"\d+,\d{3}", row["Quantité (kg)"]), row  # a decimal comma, never a point
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["Date"])
    sheet = _xlsx_table(await (await client.get("/exports/waste-register.xlsx")).read())
    cells = dict(zip(sheet[0], sheet[1], strict=True))
    assert isinstance(cells["Quantité (kg)"], float) and f"{cells['Quantité (kg)']:.3f}".replace(".", ",") \
        == row["Quantité (kg)"]
    assert cells["Code déchet"] == "16 02 14"
    # English readers get English headers from the same catalogue.
    response = await client.get("/exports/items.csv", headers={"Cookie": "lang=en"})
    assert response.status == 200


@pytest.mark.parametrize("kind", ["items", "lots", "events"])
async def test_an_xlsx_export_never_holds_a_formula(web, kind):
    from openpyxl import load_workbook

    _node, store, client = web
    async with store.transaction() as tx:
        donor = await create_donor(tx, parse(DonorInput, {"name": FORMULAS[0], "type": "company"}))
        lot = await create_lot(tx, parse(LotInput, {"reference": FORMULAS[2], "donor_id": donor}))
        await create_items(tx, lot, [parse(ItemInput, {"category": "laptop", "brand": f, "model": f,
                                                       "serial": f"{f}{n}"}) for n, f in enumerate(FORMULAS)])  # fmt: skip
    reader = Browser(client)
    await reader.login("reader")
    raw = await (await client.get(f"/exports/{kind}.xlsx")).read()
    book = load_workbook(io.BytesIO(raw))
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert not [cell.value for cell in cells if cell.data_type == "f"]
    if kind == "items":
        assert FORMULAS[0] in [cell.value for cell in cells]  # kept as it was typed, as text


async def test_nwipe_customers_has_no_xlsx(web, admin):
    response, _text = await admin.get("/exports/nwipe-customers.xlsx")
    assert response.status == 404


async def test_the_stats_xlsx_names_each_figure_in_french_beside_the_csvs_keys(web, workshop, admin):
    _node, _store, client = web
    year = current_year()
    response = await client.get(f"/reports/stats.xlsx?period={year}")
    assert response.status == 200 and response.content_type.endswith("spreadsheetml.sheet")
    rows = _xlsx_table(await response.read())
    assert rows[0] == ["Chiffre", "Valeur", "Clé"]
    by_key = {row[2]: row for row in rows[1:]}
    assert by_key["distributed.laptop.units"][1] == 2 and by_key["period"][1] == year
    assert "ordinateur portable" in by_key["distributed.laptop.units"][0]
    # the CSV stays the machine interface: the same keys and values
    csv_rows = dict(_csv_table(await (await client.get(f"/reports/stats.csv?period={year}")).read()))
    assert csv_rows["distributed.laptop.units"] == "2"


async def test_a_long_labels_pdf_says_how_far_it_is(web, workshop, admin, monkeypatch):
    """The form sends a token; while the PDF is made, /labels/progress/<token> says how many labels are done."""
    import web_ui.pages.outputs_labels as outputs_labels

    _node, _store, client = web
    response, text = await admin.get("/labels")
    assert 'name="progress"' in text and "/static/labels.js" in text and "Préparation des étiquettes" in text
    seen: list[tuple[int, int]] = []
    render = outputs_labels.render_labels

    def watched(*args, progress=None, **kwargs):
        def spy(done, total):
            progress(done, total)
            seen.append(outputs_labels._PROGRESS["tok-12345678"])
        return render(*args, progress=spy, **kwargs)

    monkeypatch.setattr(outputs_labels, "render_labels", watched)
    response = await client.get(f"/labels.pdf?mode=lot&lot_id={workshop['lot']}&format=sheet&skip=0"
                                "&progress=tok-12345678")  # fmt: skip
    assert response.status == 200 and response.content_type == "application/pdf"
    assert seen and seen[-1] == (4, 4)
    answer = await (await client.get("/labels/progress/tok-12345678")).json()
    assert answer == {"done": 0, "total": 0}  # done: forgotten
    response = await client.get("/labels/progress/x")
    assert response.status == 404


def test_rendering_labels_reports_progress_every_few_labels():
    from node.reports.labels import SHEET, Label, render_labels

    calls: list[tuple[int, int]] = []
    labels = [Label(f"MLN-{n:06d}", f"http://node.example/i/{n}", ()) for n in range(45)]
    render_labels(labels, SHEET, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(20, 45), (40, 45), (45, 45)]


async def test_the_labels_page_gives_examples_with_the_nodes_own_prefix(web, admin):
    from node.domain.settings import set_setting

    _node, store, _client = web
    async with store.transaction() as tx:
        await set_setting(tx, "asset_prefix", "LIEN")
    _response, text = await admin.get("/labels")
    assert 'placeholder="LIEN-000001"' in text and "MLN-0" not in text


async def test_exports_say_codes_in_french_and_weights_in_kilograms(web, workshop, admin):
    """Storage, steps, details and lot sources in the guide's French words; weights in kg with a decimal comma
    in the CSV and numbers of kg in the XLSX; a lot's reception day a real date in the XLSX."""
    from datetime import date

    from node.domain.workflow import remove_storage
    from web_ui.labels import SORT_ORIENTATIONS

    _node, store, client = web
    async with store.transaction() as tx:
        lot = await create_lot(tx, parse(LotInput, {"reference": "L-3", "received_on": "2025-12-23",
                                                    "source": "handoff", "declared_weight_g": 436607}))  # fmt: skip
        items = await create_items(tx, lot, [parse(ItemInput, {"category": "laptop", "storage": "present",
                                                               "weight_g": 2150})])  # fmt: skip
        await record_step(tx, items, parse(StepInput, {"state": "sorted", "orientation": "refurbish"}))
        await remove_storage(tx, items, destroyed=True)
    items_csv = _csv_table(await (await client.get("/exports/items.csv")).read())
    item = next(dict(zip(items_csv[0], row, strict=True)) for row in items_csv[1:] if row[2] == "L-3")
    assert item["Poids (kg)"] == "2,150" and "Poids (g)" not in items_csv[0]
    storage = {dict(zip(items_csv[0], row, strict=True))["Stockage"] for row in items_csv[1:]}
    assert storage <= set(fr(v) for v in ("no storage", "storage present", "storage removed", "storage unknown"))
    assert fr("storage removed") in storage
    lots_csv = _csv_table(await (await client.get("/exports/lots.csv")).read())
    lot_row = next(dict(zip(lots_csv[0], row, strict=True)) for row in lots_csv[1:] if row[0] == "L-3")
    assert lot_row["Source"] == fr("handed over by another node")
    assert lot_row["Poids déclaré (kg)"] == "436,607"
    lots_xlsx = _xlsx_table(await (await client.get("/exports/lots.xlsx")).read())
    cells = next(dict(zip(lots_xlsx[0], row, strict=True)) for row in lots_xlsx[1:] if row[0] == "L-3")
    assert cells["Poids déclaré (kg)"] == pytest.approx(436.607)
    received = cells["Reçu le"]
    assert isinstance(received, date) and received.strftime("%Y-%m-%d") == "2025-12-23"
    items_xlsx = _xlsx_table(await (await client.get("/exports/items.xlsx")).read())
    assert items_xlsx[0] == items_csv[0]
    assert next(dict(zip(items_xlsx[0], r, strict=True)) for r in items_xlsx[1:] if r[2] == "L-3")["Poids (kg)"] \
        == pytest.approx(2.15)
    events = _csv_table(await (await client.get("/exports/events.csv")).read())
    rows = [dict(zip(events[0], row, strict=True)) for row in events[1:]]
    steps = {row["Étape"] for row in rows}
    assert "storage_removed" not in steps and "erasure_proven" not in steps and fr("storage removed") in steps
    details = {row["Détail"] for row in rows}
    assert not [d for d in details if d.startswith("{")], details
    said = fr("{name}: {value}", name=fr("Orientation"), value=fr(SORT_ORIENTATIONS["refurbish"]))
    assert said in details and said == "Orientation : à reconditionner", details
    assert fr("{name}: {value}", name=fr("Disk"), value=fr("destroyed")) in details, details
    assert "" in details  # an event with no detail ({}) leaves the cell empty
