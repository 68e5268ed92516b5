"""The donor's proof against its committed vectors (tests/vectors/custody.json, PROTOCOL.md "Donor proof bundle")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from protocol import canonical
from protocol.bundle import describe, verify_bundle
from protocol.custody_kinds import LotOffer2, LotReceipt2, custody_time
from protocol.errors import ContentInvalid, ProtocolError
from protocol.kinds import LotOffer, LotReceipt, parse_body
from protocol.records import open_entry

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "custody.json").read_text())


def test_the_vectors_cover_the_new_kinds_and_every_broken_link():
    assert {v["kind"] for v in VECTORS["valid"]} >= {"item.fates/2", "donor.report/2", "lot.offer/2", "lot.offer/1",
                                                     "lot.receipt/2"}  # fmt: skip
    assert {v["kind"] for v in VECTORS["invalid"]} == {"item.fates/2", "donor.report/2", "lot.offer/2", "lot.offer/1",
                                                       "lot.receipt/2", "lot.receipt/1"}  # fmt: skip
    reasons = {line.split("reason=")[1].split()[0] for b in VECTORS["bundles"] for line in b["lines"]
               if line.startswith("problem")}  # fmt: skip
    assert reasons >= {"not_custodian", "receipt_mismatch", "bad_signature", "content_mismatch", "bad_entry",
                       "bad_bundle"}  # fmt: skip
    assert {b["name"] for b in VECTORS["bundles"] if b["exit"] == 0} == {
        "good", "receipt_entered_later", "outcome_before_a_stock_statement", "old_fates", "record_of_a_kind_not_read"}
    assert "bad_content" in reasons


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_records_open_and_their_bodies_round_trip(vector):
    record = open_entry(bytes.fromhex(vector["entry"]))
    assert record.id.hex() == vector["id"] and record.header.kind == vector["kind"]
    body = parse_body(vector["kind"], canonical.decode(record.content))
    assert canonical.encode(body.to_content()).hex() == vector["content"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_bodies_breaking_the_new_kinds_are_refused(vector):
    record = open_entry(bytes.fromhex(vector["entry"]))  # steps 1-6 pass: the signature holds
    with pytest.raises(ContentInvalid) as refused:
        record.body()
    assert refused.value.code == vector["reason"]


@pytest.mark.parametrize("vector", VECTORS["accepted"], ids=lambda v: v["name"])
def test_offers_at_the_edges_of_the_tags_rules_are_accepted(vector):
    record = open_entry(bytes.fromhex(vector["entry"]))
    body = record.body()
    assert isinstance(body, LotOffer) and body.items[0].tags == vector["tags"]
    assert canonical.encode(body.to_content()) == record.content


def test_a_version_1_offer_reads_as_an_offer_without_tags():
    first = next(v for v in VECTORS["valid"] if v["kind"] == "lot.offer/1")
    body = open_entry(bytes.fromhex(first["entry"])).body()
    assert isinstance(body, LotOffer) and not isinstance(body, LotOffer2)
    assert all(getattr(line, "tags", None) is None for line in body.items)
    second = next(v for v in VECTORS["valid"] if v["kind"] == "lot.offer/2" and "peer_hub" in v["name"])
    assert open_entry(bytes.fromhex(second["entry"])).body().items[0].tags == ["OGO-000412", "BFC 000087"]


def test_a_receipt_of_version_2_reads_as_a_receipt_with_its_day():
    first = next(v for v in VECTORS["valid"] if v["kind"] == "lot.receipt/1")
    assert not isinstance(open_entry(bytes.fromhex(first["entry"])).body(), LotReceipt2)
    second = open_entry(bytes.fromhex(next(v for v in VECTORS["valid"] if v["kind"] == "lot.receipt/2")["entry"]))
    body = second.body()
    assert isinstance(body, LotReceipt) and body.received_on == "2023-10-06"
    # custody moved at 12:00 UTC of that day, 40 days before the receipt was signed
    assert custody_time(second.header.time, body) == 1_696_593_600_000 < second.header.time


@pytest.mark.parametrize("vector", VECTORS["bundles"], ids=lambda v: v["name"])
def test_bundles_verify_to_the_exact_lines(vector):
    data = bytes.fromhex(vector["bundle"])
    try:
        check = verify_bundle(data)
    except ProtocolError as exc:
        lines, code = [f"problem record=- gid=- reason={exc.code.value} {exc.message}"], 1
        assert vector["lines"][0].split(" ", 4)[:4] == lines[0].split(" ", 4)[:4]
        assert vector["exit"] == code
        return
    assert describe(check) == vector["lines"]
    assert (0 if check.ok else 1) == vector["exit"]


def test_the_good_bundle_says_who_did_what():
    good = next(b for b in VECTORS["bundles"] if b["name"] == "good")
    items = [line for line in good["lines"] if line.startswith("item ")]
    assert [line.split("fate=")[1].split()[0] for line in items] == ["recycled", "distributed", "missing"]
    # the distribution two hops down is signed by the member that did it, not by the hub in between
    member = next(line for line in good["lines"] if "Recyclerie" in line).split("fingerprint=")[1].split()[0]
    assert f"by={member}" in items[1] and items[1].count(">") == 2
    # each fate explicit, as signed: the recycler and the weight, the beneficiary's category
    assert "beneficiary=- weight=2100 " in items[0] and items[0].endswith('outflow="Ecologic (16 02 14)"')
    assert "beneficiary=school weight=- " in items[1] and items[1].endswith("outflow=-")
    assert "beneficiary=- weight=- " in items[2]
