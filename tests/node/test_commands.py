"""The data commands, run through ``maillon`` as a person runs them."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from node.cli.main import main

FIXTURES = Path(__file__).parent / "imports" / "fixtures"


@pytest.fixture
def data(tmp_path, capsys):
    directory = tmp_path / "node"
    assert main(["init", "--data", str(directory), "--name", "Atelier"]) == 0
    capsys.readouterr()
    return directory


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_sheet(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["Catégorie;Marque;Modèle;N° de série;Poids (kg)", *rows]) + "\n", encoding="utf-8")
    return path


def test_import_items_dry_run_changes_nothing_then_real_run(data, tmp_path, capsys):
    sheet = write_sheet(tmp_path / "lot.csv", ["Portable;Dell;Latitude 5490;SN1;2,1", "Écran;HP;E24;SN2;4,5"])
    code, out, _ = run(capsys, "import", "--data", data, "items", sheet, "--dry-run")
    assert code == 0 and "2 created" in out and "would be applied" in out
    code, out, _ = run(capsys, "export", "--data", data, "items")
    assert len(list(csv.reader(io.StringIO(out), delimiter=";"))) == 1  # header only
    code, out, _ = run(capsys, "import", "--data", data, "items", sheet)
    assert code == 0 and "2 created" in out
    code, out, _ = run(capsys, "export", "--data", data, "items")
    rows = list(csv.DictReader(io.StringIO(out), delimiter=";"))
    assert [(r["category"], r["serial"], r["weight_g"]) for r in rows] == [("laptop", "SN1", "2100"), ("screen", "SN2", "4500")]


def test_import_lists_a_bad_row_and_imports_the_others(data, tmp_path, capsys):
    # One unknown category no longer refuses the whole sheet (issue 19): the row is listed, the others import.
    sheet = write_sheet(tmp_path / "lot.csv", ["Portable;Dell;Latitude;SN1;2,1", "Grille-pain;X;Y;SN2;1"])
    code, out, _ = run(capsys, "import", "--data", data, "items", sheet)
    assert code == 0 and "line 3" in out and "unknown_category" in out and "1 created, 0 updated, 1 skipped" in out
    code, out, _ = run(capsys, "export", "--data", data, "items")
    assert out.count("\n") == 2 and "SN1" in out and "SN2" not in out


def test_import_nwipe_then_lshw_attaches_the_orphan_disks(data, capsys):
    code, out, _ = run(capsys, "import", "--data", data, "nwipe", FIXTURES / "nwipe-shredos-example.log")
    assert code == 0 and out.count("orphan disk") == 2
    code, out, _ = run(capsys, "import", "--data", data, "nwipe", FIXTURES / "nwipe-shredos-example.log")
    assert "0 created" in out and "2 skipped" in out  # idempotent
    code, out, _ = run(capsys, "import", "--data", data, "lshw", FIXTURES / "lshw-thinkpad-battery.json")
    assert code == 0 and "1 created" in out


def test_import_of_a_broken_file_is_a_clear_refusal(data, capsys):
    code, out, _ = run(capsys, "import", "--data", data, "lshw", FIXTURES / "lshw-truncated.json")
    assert code == 1 and "nothing was changed" in out
    code, out, _ = run(capsys, "import", "--data", data, "nwipe", FIXTURES / "not-an-nwipe-log.txt")
    assert code == 1


def test_backup_and_restore(data, tmp_path, capsys):
    sheet = write_sheet(tmp_path / "lot.csv", ["Portable;Dell;Latitude;SN1;2,1"])
    run(capsys, "import", "--data", data, "items", sheet)
    code, out, _ = run(capsys, "backup", "--data", data, "--out", tmp_path / "b.db")
    assert code == 0 and (tmp_path / "b.db").exists()
    run(capsys, "import", "--data", data, "items", write_sheet(tmp_path / "more.csv", ["Écran;HP;E24;SN9;4"]))
    code, out, _ = run(capsys, "restore", "--data", data, tmp_path / "b.db")
    assert code == 0
    code, out, _ = run(capsys, "export", "--data", data, "items")
    assert "SN1" in out and "SN9" not in out
    code, _, err = run(capsys, "restore", "--data", data, tmp_path / "missing.db")
    assert code == 2 and "not a file" in err


def test_restore_refuses_while_the_node_runs(data, tmp_path, capsys):
    from node.config import load_node

    run(capsys, "backup", "--data", data, "--out", tmp_path / "b.db")
    with load_node(data).running():
        code, _, err = run(capsys, "restore", "--data", data, tmp_path / "b.db")
    assert code == 2 and "running" in err


def test_log_export_verifies(data, tmp_path, capsys):
    code, out, _ = run(capsys, "log", "export", "--data", data, "--out", tmp_path / "own.log")
    assert code == 0 and "1 records" in out
    code, out, _ = run(capsys, "log", "verify", tmp_path / "own.log")
    assert code == 0 and "verdict=ok" in out


def test_nwipe_customers_and_waste_register(data, tmp_path, capsys):
    code, out, _ = run(capsys, "export", "--data", data, "nwipe-customers")
    assert out.splitlines() == ['"Customer Name";"Contact Name";"Customer Address";"Contact Phone"']
    code, out, _ = run(capsys, "export", "--data", data, "waste-register", "--out", tmp_path / "w.csv")
    assert code == 0 and (tmp_path / "w.csv").read_bytes().startswith(b"\xef\xbb\xbfdate;waste_code")


def test_tokens_and_stations(data, capsys):
    code, out, _ = run(capsys, "token", "create", "--data", data, "inventaire", "--role", "technician")
    assert code == 0 and out.splitlines()[-1].startswith("mln_")
    code, _, err = run(capsys, "token", "create", "--data", data, "inventaire")
    assert code == 2 and "exists" in err
    assert run(capsys, "token", "revoke", "--data", data, "inventaire")[0] == 0
    code, out, _ = run(capsys, "station", "add", "--data", data, "poste-1")
    assert code == 0 and "http_post_url=http://127.0.0.1:8470/upload/shredos/poste-1/" in out
    assert run(capsys, "station", "add", "--data", data, "bad name!")[0] == 2


def test_a_station_is_given_the_address_the_workshop_reaches(tmp_path, capsys):
    """Not the address the node listens on (0.0.0.0, 127.0.0.1): its url when it has one, else a warning."""
    listening = tmp_path / "all"
    main(["init", "--data", str(listening), "--name", "Atelier", "--host", "0.0.0.0", "--port", "8471",
          "--url", "http://192.168.1.10:8471"])  # fmt: skip
    capsys.readouterr()
    code, out, err = run(capsys, "station", "add", "--data", listening, "poste-1")
    assert code == 0 and "0.0.0.0" not in out + err
    assert "http_post_url=http://192.168.1.10:8471/upload/shredos/poste-1/" in out
    assert "wget -qO- http://192.168.1.10:8471/station/probe | sudo python3 - http://192.168.1.10:8471/upload/" in out
    nameless = tmp_path / "nameless"
    main(["init", "--data", str(nameless), "--name", "Atelier", "--host", "0.0.0.0"])
    capsys.readouterr()
    code, out, err = run(capsys, "station", "add", "--data", nameless, "poste-1")
    assert code == 0 and "--url" in err and "0.0.0.0" in err
    code, out, err = run(capsys, "station", "add", "--data", nameless, "poste-2", "--url", "http://10.0.0.5:8470/")
    assert "http_post_url=http://10.0.0.5:8470/upload/shredos/poste-2/" in out and not err


def test_commands_refuse_a_directory_without_a_node(tmp_path, capsys):
    code, _, err = run(capsys, "export", "--data", tmp_path, "items")
    assert code == 2 and "maillon init" in err


def test_record_verify(tmp_path, capsys):
    import json

    from protocol.records import RECORD_FILE_MAGIC

    vectors = json.loads((Path(__file__).parents[1] / "vectors" / "records.json").read_text())
    entry = bytes.fromhex(vectors["valid"][0]["entry"])
    (tmp_path / "doc.mlnrec").write_bytes(RECORD_FILE_MAGIC + entry)
    code, out, _ = run(capsys, "record", "verify", tmp_path / "doc.mlnrec")
    assert code == 0 and "verdict=ok" in out and "kind=node.descriptor/1" in out
    (tmp_path / "bad.mlnrec").write_bytes(RECORD_FILE_MAGIC + entry[:-1] + bytes([entry[-1] ^ 1]))
    code, out, _ = run(capsys, "record", "verify", tmp_path / "bad.mlnrec")
    assert code == 1 and "reason=content_mismatch" in out
    shutil.copy(tmp_path / "doc.mlnrec", tmp_path / "other.mlnrec")
    code, out, _ = run(capsys, "record", "verify", tmp_path / "other.mlnrec", "--author", "00" * 31 + "01")
    assert code == 2  # not an acceptable key at all
    keys = json.loads((Path(__file__).parents[1] / "vectors" / "keys.json").read_text())
    member_key = next(k["public"] for k in keys["valid"] if k["name"] == "member")
    code, out, _ = run(capsys, "record", "verify", tmp_path / "other.mlnrec", "--author", member_key)
    assert code == 1 and "reason=wrong_author" in out


def test_donor_report_pdf_and_signed_document(data, tmp_path, capsys):
    import asyncio

    from pypdf import PdfReader

    from node.config import load_node
    from node.domain.beneficiaries import BeneficiaryInput, create_beneficiary
    from node.domain.distribution import DistributionInput, distribute
    from node.domain.donors import DonorInput, create_donor
    from node.domain.items import ItemInput, create_items
    from node.domain.lots import LotInput, create_lot
    from node.domain.workflow import StepInput, record_step
    from node.store.database import Store
    from node.validation import parse

    async def prepare() -> None:
        node = load_node(data)
        store = await Store.open(node.db_path, node.key)
        async with store.transaction() as tx:
            donor = await create_donor(tx, parse(DonorInput, {"name": "Région Bretagne", "type": "public_body"}))
            lot = await create_lot(tx, parse(LotInput, {"reference": "REG-1", "donor_id": donor}))
            ids = await create_items(tx, lot, [parse(ItemInput, {"category": "screen", "serial": "SCR-42",
                                                                 "donor_asset": "RB-7"})] * 2)  # fmt: skip
            person = await create_beneficiary(tx, parse(BeneficiaryInput, {"category": "person"}))
            await record_step(tx, ids, parse(StepInput, {"state": "sorted", "orientation": "refurbish"}))
            await record_step(tx, ids, parse(StepInput, {"state": "ready"}))
            await distribute(tx, ids[:1], parse(DistributionInput, {"beneficiary_id": person}))
        await store.close()

    asyncio.run(prepare())
    out = tmp_path / "rapport.pdf"
    code, text, _ = run(capsys, "export", "--data", data, "donor-report", "--lot", "REG-1", "--out", out)
    assert code == 0 and "2 items" in text
    pdf = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Région Bretagne" in pdf and "SCR-42" in pdf and "RB-7" in pdf
    code, text, _ = run(capsys, "record", "verify", out.with_suffix(".mlnrec"))
    assert code == 0 and "kind=donor.report/2" in text
    code, text, _ = run(capsys, "record", "verify", out.with_suffix(".mlnbundle"))
    assert code == 0 and text.count("\nitem ") == 2 and "verdict=ok" in text
    assert "fate=distributed" in text and "fate=in_stock" in text and 'serial="SCR-42"' in text
    # the per-serial register for the donor's own books
    rows = out.with_suffix(".csv").read_bytes().decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Lot;N° d’inventaire donateur;N° de série") and len(rows) == 3
    assert {row.split(";")[5] for row in rows[1:]} == {"distribué", "en stock"}
    from openpyxl import load_workbook

    sheet = load_workbook(out.with_suffix(".xlsx")).active
    assert [cell.value for cell in sheet[2]][:3] == ["REG-1", "RB-7", "SCR-42"]
    code, _, err = run(capsys, "export", "--data", data, "donor-report", "--lot", "NOPE", "--out", out)
    assert code == 2 and "NOPE" in err


def test_attach_a_document_and_settings(data, tmp_path, capsys):
    import asyncio

    from node.config import load_node
    from node.domain.documents import documents_of
    from node.domain.donors import DonorInput, create_donor
    from node.store.database import Store
    from node.store.files import file_path
    from node.validation import parse

    async def donor() -> int:
        node = load_node(data)
        store = await Store.open(node.db_path, node.key)
        async with store.transaction() as tx:
            donor_id = await create_donor(tx, parse(DonorInput, {"name": "La Poste", "type": "company"}))
        await store.close()
        return donor_id

    donor_id = asyncio.run(donor())
    scan = tmp_path / "convention.pdf"
    scan.write_bytes(b"%PDF-1.4 convention de cession")
    code, out, _ = run(capsys, "attach", "--data", data, scan, "--donor", donor_id, "--kind", "convention")
    assert code == 0

    async def check() -> None:
        node = load_node(data)
        store = await Store.open(node.db_path, node.key)
        async with store.reader() as db:
            [doc] = await documents_of(db, donor_id=donor_id)
        await store.close()
        assert doc.filename == "convention.pdf" and file_path(data, doc.sha256).read_bytes() == scan.read_bytes()

    asyncio.run(check())
    assert run(capsys, "attach", "--data", data, scan, "--donor", 99)[0] == 2
    code, out, _ = run(capsys, "settings", "--data", data, "years_of_second_life", "5")
    assert code == 0 and "years_of_second_life = 5" in out
    code, _, err = run(capsys, "settings", "--data", data, "years_of_second_life", "cinq")
    assert code == 2 and "whole number" in err
    code, _, err = run(capsys, "settings", "--data", data, "years_of_second_life", "99")
    assert code == 2
    assert run(capsys, "settings", "--data", data, "colour", "red")[0] == 2


def test_user_add_reads_the_password_from_standard_input(data, capsys, monkeypatch):
    import io as _io

    monkeypatch.setattr("sys.stdin", _io.StringIO("a long enough password\n"))
    assert run(capsys, "user", "add", "--data", data, "marie", "--role", "admin")[0] == 0
    monkeypatch.setattr("sys.stdin", _io.StringIO("short\n"))
    code, _, err = run(capsys, "user", "add", "--data", data, "paul")
    assert code == 2 and "10 characters" in err


def test_a_dry_run_sees_a_log_imported_before(data, capsys):
    assert run(capsys, "import", "--data", data, "nwipe", FIXTURES / "nwipe-shredos-example.log")[0] == 0
    code, out, _ = run(capsys, "import", "--data", data, "nwipe", FIXTURES / "nwipe-shredos-example.log", "--dry-run")
    assert code == 0 and "0 created" in out and "2 skipped" in out


def test_record_verify_checks_a_donor_proof_bundle_offline(tmp_path, capsys):
    """A good bundle and tampered ones (tests/vectors/custody.json): per serial the fate, its signer and the
    erasure proof; exit 1 on any broken link (a fate by a non-custodian, a receipt not matching the offer, a
    wrong signature, a hop removed, a record or the report altered)."""
    import json

    vectors = json.loads((Path(__file__).parents[1] / "vectors" / "custody.json").read_text())
    for vector in vectors["bundles"]:
        if vector["name"] == "not_a_bundle":
            continue  # without the bundle's magic line the command reads a signed document: it is one
        path = tmp_path / f"{vector['name']}.mlnbundle"
        path.write_bytes(bytes.fromhex(vector["bundle"]))
        code, out, _ = run(capsys, "record", "verify", path)
        assert (code, out.splitlines()) == (vector["exit"], vector["lines"]), vector["name"]
    good = tmp_path / "good.mlnbundle"
    reporter = next(v for v in vectors["valid"] if v["author_key"] == "hub")
    keys = json.loads((Path(__file__).parents[1] / "vectors" / "keys.json").read_text())
    hub, member = (next(k["public"] for k in keys["valid"] if k["name"] == name) for name in ("hub", "member"))
    assert reporter and run(capsys, "record", "verify", good, "--author", hub)[0] == 0
    code, out, _ = run(capsys, "record", "verify", good, "--author", member)
    assert code == 1 and "reason=wrong_author" in out and out.splitlines()[-1].endswith("verdict=fail")
