"""The code against the committed known-answer vectors of tests/vectors/."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol import canonical
from protocol._edwards import SMALL_ORDER_ENCODINGS
from protocol.errors import KeyRefused, ProtocolError
from protocol.keys import PublicKey, SigningKey, fingerprint, node_id
from protocol.log import LOG_MAGIC, LogVerifier, verify_log
from protocol.records import open_entry, read_record_file
from protocol.requests import SignedRequest, sign_request, verify_request
from protocol.seal import (
    check_encryption_key,
    encryption_key,
    encryption_private,
    open_sealed,
    seal,
    sealed_recipients,
)

HERE = Path(__file__).parents[1] / "vectors"
RECORDS = json.loads((HERE / "records.json").read_text())
CANONICAL = json.loads((HERE / "canonical.json").read_text())
KEYS = json.loads((HERE / "keys.json").read_text())
SEAL = json.loads((HERE / "seal.json").read_text())
REQUESTS = json.loads((HERE / "requests.json").read_text())
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
    # a bad_content case for every one of the 16 kinds
    kinds = {canonical.decode(canonical.decode(canonical.decode(bytes.fromhex(v["entry"]))[0])[1])[5]
             for v in RECORDS["invalid"] if v["reason"] == "bad_content"}
    assert kinds == {v["kind"] for v in RECORDS["valid"]} and len(kinds) == 16
    assert {v["reason"] for v in RECORDS["documents"]["invalid"]} >= {"bad_entry", "bad_signature", "bad_content"}
    assert {p.split("reason=")[1] for v in RECORDS["log_exports"] for p in v["problems"]} >= {
        "bad_entry", "malformed", "too_large", "gap", "fork", "wrong_author", "bad_signature", "content_mismatch"
    }
    assert {len(v["recipients"]) for v in SEAL["valid"]} >= {1, 3}
    assert {v["reason"] for v in SEAL["invalid"]} == {"bad_seal", "not_a_recipient"}
    assert {v["reason"] for v in REQUESTS["invalid"]} == {
        "bad_request", "wrong_recipient", "digest_mismatch", "weak_key", "bad_signature"
    }


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


@pytest.mark.parametrize(("name", "records"), [("hub_log_export", 11), ("member_log_export", 7)])
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


@pytest.mark.parametrize("vector", RECORDS["accepted"], ids=lambda v: v["name"])
def test_accepted_records(vector):
    entry = bytes.fromhex(vector["entry"])
    open_entry(entry).body()
    assert verify_log(LOG_MAGIC + len(entry).to_bytes(4, "big") + entry).ok


@pytest.mark.parametrize("vector", RECORDS["log_exports"], ids=lambda v: v["name"])
def test_log_export_output(vector):
    author = bytes.fromhex(vector["author"]) if vector["author"] else None
    report = verify_log(bytes.fromhex(vector["log_export"]), author)
    assert [p.line().split(" reason=")[0] + f" reason={p.reason.value}" for p in report.problems] == vector["problems"]
    assert report.summary() == vector["summary"]


@pytest.mark.parametrize("vector", RECORDS["documents"]["valid"], ids=lambda v: v["name"])
def test_signed_documents(vector):
    record = read_record_file(bytes.fromhex(vector["file"]))
    header = record.header
    assert (header.kind, node_id(header.author), fingerprint(header.author), header.seq, header.time,
            record.id.hex()) == tuple(vector[k] for k in ("kind", "author", "fingerprint", "seq", "time", "id"))


@pytest.mark.parametrize("vector", RECORDS["documents"]["invalid"], ids=lambda v: v["name"])
def test_refused_signed_documents(vector):
    with pytest.raises(ProtocolError) as info:
        read_record_file(bytes.fromhex(vector["file"]))
    assert info.value.code == vector["reason"]


def test_small_order_encodings_are_the_vectors_list():
    assert sorted(b.hex() for b in SMALL_ORDER_ENCODINGS) == KEYS["small_order_r"]


@pytest.mark.parametrize("vector", KEYS["signatures"], ids=lambda v: v["name"])
def test_signature_vectors(vector):
    public = PublicKey.from_bytes(bytes.fromhex(vector["public"]))
    signature, message = bytes.fromhex(vector["signature"]), bytes.fromhex(vector["message"])
    if vector["reason"] is None:
        public.verify(signature, message)
    else:
        with pytest.raises(ProtocolError) as info:
            public.verify(signature, message)
        assert info.value.code == vector["reason"]


@pytest.mark.parametrize("vector", SEAL["keys"], ids=lambda v: v["name"])
def test_encryption_key_vectors(vector):
    key = SigningKey.from_seed(SEEDS[vector["name"]])
    assert key.seed.hex() == vector["seed"] and key.public.raw.hex() == vector["public"]
    assert encryption_private(key).private_bytes_raw().hex() == vector["x25519_private"]
    assert encryption_key(key).hex() == vector["encryption_key"]


def test_vector_descriptors_carry_the_derived_encryption_key():
    descriptors = [v for v in RECORDS["valid"] if v["kind"] == "node.descriptor/1"]
    assert len(descriptors) == 2
    for vector in descriptors:
        key = SigningKey.from_seed(SEEDS[vector["author_key"]])
        assert untag(vector["body"])["encryption_key"] == encryption_key(key)


@pytest.mark.parametrize("vector", SEAL["valid"], ids=lambda v: v["name"])
def test_sealed_vectors(vector):
    record = next(v for v in RECORDS["valid"] if v["name"] == vector["record"])
    assert record["id"] == vector["record_id"] and record["content"] == vector["content"]
    record_id, content = bytes.fromhex(vector["record_id"]), bytes.fromhex(vector["content"])
    recipients = {bytes.fromhex(r["key"]): bytes.fromhex(r["encryption_key"]) for r in vector["recipients"]}
    ephemeral = X25519PrivateKey.from_private_bytes(bytes.fromhex(vector["ephemeral_private"]))
    sealed = seal(record_id, content, recipients, ephemeral=ephemeral,
                  content_key=bytes.fromhex(vector["content_key"]))
    assert sealed.hex() == vector["sealed"]
    assert sealed_recipients(sealed) == tuple(bytes.fromhex(r["key"]) for r in vector["recipients"])
    for recipient in vector["recipients"]:
        assert open_sealed(sealed, record_id, SigningKey.from_seed(SEEDS[recipient["name"]])) == content


@pytest.mark.parametrize("vector", SEAL["invalid"], ids=lambda v: v["name"])
def test_invalid_sealed_vectors(vector):
    with pytest.raises(ProtocolError) as info:
        open_sealed(bytes.fromhex(vector["sealed"]), bytes.fromhex(vector["record_id"]),
                    SigningKey.from_seed(SEEDS[vector["opener"]]))
    assert info.value.code == vector["reason"]


@pytest.mark.parametrize("vector", SEAL["weak_encryption_keys"], ids=lambda v: v["name"])
def test_weak_encryption_key_vectors(vector):
    with pytest.raises(ProtocolError) as info:
        check_encryption_key(bytes.fromhex(vector["encryption_key"]))
    assert info.value.code == vector["reason"]


def test_every_nodes_encryption_key_is_accepted():
    for key in SEAL["keys"]:
        assert check_encryption_key(bytes.fromhex(key["encryption_key"]))


@pytest.mark.parametrize("vector", REQUESTS["valid"], ids=lambda v: v["name"])
def test_signed_request_vectors(vector):
    request = {k: vector[k] for k in ("method", "path", "query")} | {"body": bytes.fromhex(vector["body"])}
    caller = SigningKey.from_seed(SEEDS[vector["caller"]])
    callee = bytes.fromhex(vector["callee_key"])
    headers = sign_request(caller, callee=callee, created=vector["created"],
                           nonce=bytes.fromhex(vector["nonce"]), **request)
    assert headers == vector["headers"]
    signature = base64.b64decode(vector["headers"]["Signature"].removeprefix("maillon=:").removesuffix(":"))
    caller.public.verify(signature, vector["signature_base"].encode())
    assert verify_request(vector["headers"], callee=callee, **request) == SignedRequest(
        caller.public.raw, vector["created"], bytes.fromhex(vector["nonce"])
    )


@pytest.mark.parametrize("vector", REQUESTS["invalid"], ids=lambda v: v["name"])
def test_invalid_request_vectors(vector):
    with pytest.raises(ProtocolError) as info:
        verify_request(vector["headers"], method=vector["method"], path=vector["path"], query=vector["query"],
                       body=bytes.fromhex(vector["body"]), callee=bytes.fromhex(vector["callee_key"]))
    assert info.value.code == vector["reason"]


def test_generator_reproduces_the_committed_vectors():
    sys.path.insert(0, str(HERE))
    try:
        import generate
    finally:
        sys.path.remove(str(HERE))
    for name, text in generate.build().items():
        assert (HERE / name).read_text() == text, f"{name} differs from what generate.py writes"
