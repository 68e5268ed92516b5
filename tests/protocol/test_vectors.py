"""The code against the committed known-answer vectors of tests/vectors/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from protocol import canonical
from protocol.errors import KeyRefused, ProtocolError
from protocol.keys import PublicKey, SigningKey, fingerprint, node_id
from protocol.log import LogVerifier, verify_log
from protocol.records import open_entry

HERE = Path(__file__).parents[1] / "vectors"
RECORDS = json.loads((HERE / "records.json").read_text())
CANONICAL = json.loads((HERE / "canonical.json").read_text())
KEYS = json.loads((HERE / "keys.json").read_text())
SEEDS = {k["name"]: bytes.fromhex(k["seed"]) for k in KEYS["valid"]}


def untag(value):
    if isinstance(value, dict):
        if set(value) == {"bin"}:
            return bytes.fromhex(value["bin"])
        if set(value) == {"int"}:
            return int(value["int"])
        return {k: untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [untag(v) for v in value]
    return value


def test_there_are_enough_vectors():
    assert len(RECORDS["valid"]) >= 12
    assert len(RECORDS["invalid"]) >= 15
    assert len({v["reason"] for v in RECORDS["invalid"]}) >= 12


@pytest.mark.parametrize("vector", CANONICAL["valid"], ids=lambda v: v["bytes"][:24])
def test_canonical_valid(vector):
    value = untag(vector["value"])
    assert canonical.encode(value).hex() == vector["bytes"]
    assert canonical.decode(bytes.fromhex(vector["bytes"])) == value


@pytest.mark.parametrize("vector", CANONICAL["invalid"], ids=lambda v: v["name"])
def test_canonical_invalid(vector):
    with pytest.raises(ProtocolError) as info:
        canonical.decode(bytes.fromhex(vector["bytes"]))
    assert info.value.code == vector["reason"]


@pytest.mark.parametrize("vector", KEYS["valid"], ids=lambda v: v["name"])
def test_key_vectors(vector):
    key = SigningKey.from_seed(bytes.fromhex(vector["seed"]))
    assert key.public.raw.hex() == vector["public"]
    assert node_id(key.public.raw) == vector["node_id"]
    assert fingerprint(key.public.raw) == vector["fingerprint"]


@pytest.mark.parametrize("vector", KEYS["weak"], ids=lambda v: v["public"][:16])
def test_weak_keys(vector):
    with pytest.raises(KeyRefused) as info:
        PublicKey.from_bytes(bytes.fromhex(vector["public"]))
    assert info.value.code == vector["reason"]


@pytest.mark.parametrize("vector", RECORDS["valid"], ids=lambda v: v["name"])
def test_valid_records(vector):
    record = open_entry(bytes.fromhex(vector["entry"]))
    assert record.header_bytes.hex() == vector["header"]
    assert record.signature.hex() == vector["signature"]
    assert record.id.hex() == vector["id"]
    assert record.envelope.hex() == vector["envelope"]
    assert record.content.hex() == vector["content"]
    assert record.header.seq == vector["seq"] and record.header.kind == vector["kind"]
    assert canonical.decode(record.content) == untag(vector["body"])
    record.body()
    # Ed25519 is deterministic: the seed gives back the exact signature.
    assert SigningKey.from_seed(SEEDS[vector["author_key"]]).sign(record.header_bytes) == record.signature
    stub = open_entry(bytes.fromhex(vector["stub_entry"]))
    assert stub.is_stub and stub.id == record.id


@pytest.mark.parametrize(("name", "records"), [("hub_log_export", 8), ("member_log_export", 7)])
def test_valid_log_exports(name, records):
    report = verify_log(bytes.fromhex(RECORDS[name]))
    assert report.ok and report.valid == records


@pytest.mark.parametrize("vector", RECORDS["invalid"], ids=lambda v: v["name"])
def test_invalid_records(vector):
    author = bytes.fromhex(vector["author"]) if vector["author"] else None
    verifier = LogVerifier(author)
    for entry in vector["context"]:
        record = open_entry(bytes.fromhex(entry))
        record.body()
        assert verifier.add(record)
    with pytest.raises(ProtocolError) as info:
        record = open_entry(bytes.fromhex(vector["entry"]))
        if not record.is_stub:
            record.body()
        verifier.add(record)
    assert info.value.code == vector["reason"]
    # The same case as a log export: exactly one problem, on the last entry.
    report = verify_log(bytes.fromhex(vector["log_export"]), author)
    assert [(p.index, p.reason.value) for p in report.problems] == [(len(vector["context"]), vector["reason"])]


def test_generator_reproduces_the_committed_vectors():
    sys.path.insert(0, str(HERE))
    try:
        import generate
    finally:
        sys.path.remove(str(HERE))
    for name, text in generate.build().items():
        assert (HERE / name).read_text() == text, f"{name} differs from what generate.py writes"
