"""Signed records: sign the bytes, keep the bytes, verify the bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import canonical
from protocol.errors import ProtocolError, Reason, RecordInvalid
from protocol.keys import SigningKey
from protocol.kinds import LotAccept
from protocol.records import Record, open_entry, open_envelope, sign_record

KEY = SigningKey.from_seed(hashlib.sha256(b"records test").digest())
READER = SigningKey.from_seed(hashlib.sha256(b"reader").digest()).public.raw


def make(seq: int = 1, prev: bytes | None = None, audience=()) -> Record:
    body = LotAccept(offer=bytes(range(32)), note="d'accord")
    return sign_record(KEY, seq=seq, prev=prev, time=1_700_000_000_000, kind=body.KIND,
                       content=body.to_content(), audience=audience)


def test_record_id_is_the_hash_of_the_header_bytes():
    record = make()
    assert record.id == hashlib.sha256(record.header_bytes).digest()
    assert record.header.content_hash == hashlib.sha256(record.content).digest()


def test_open_entry_returns_the_same_bytes():
    record = make()
    opened = open_entry(record.entry())
    assert opened.envelope == record.envelope
    assert opened.id == record.id
    assert opened.content == record.content
    assert opened.body() == LotAccept(offer=bytes(range(32)), note="d'accord")


def test_stub_keeps_the_header_and_drops_the_content():
    record = make(audience=(READER,))
    stub = open_entry(record.stub().entry())
    assert stub.is_stub and stub.id == record.id
    assert stub.header.readable_by(READER) and not stub.header.readable_by(bytes(32))
    assert stub.with_content(record.content).content == record.content
    with pytest.raises(RecordInvalid) as info:
        stub.with_content(record.content + b"\x00")
    assert info.value.code is Reason.CONTENT_MISMATCH
    with pytest.raises(RecordInvalid):
        stub.body()


def test_envelope_alone_verifies():
    record = make()
    assert open_envelope(record.envelope).id == record.id


def test_audience_is_sorted_when_signing():
    a, b = bytes([2]) * 32, bytes([1]) * 32
    assert make(audience=(a, b)).header.audience == (b, a)


@pytest.mark.parametrize(
    ("seq", "prev", "reason"),
    [(0, None, Reason.BAD_HEADER), (1, bytes(32), Reason.BAD_HEADER), (2, None, Reason.BAD_HEADER)],
)
def test_signer_refuses_bad_headers(seq, prev, reason):
    with pytest.raises(RecordInvalid) as info:
        make(seq=seq, prev=prev)
    assert info.value.code is reason


VECTOR_ENTRIES = [
    bytes.fromhex(v[field])
    for v in json.loads((Path(__file__).parents[1] / "vectors" / "records.json").read_text())["valid"]
    for field in ("entry", "stub_entry")
]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(VECTOR_ENTRIES), st.data())
def test_any_single_byte_mutation_of_an_entry_is_refused_with_a_protocol_error(original, data):
    entry = bytearray(original)
    position = data.draw(st.integers(0, len(entry) - 1))
    entry[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(ProtocolError):
        record = open_entry(bytes(entry))
        if not record.is_stub:
            record.body()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_but_protocol_errors(blob):
    with pytest.raises(ProtocolError):
        open_entry(blob)


def test_content_must_be_canonical_even_when_signed():
    unsorted = b"\x82\xa5offer\xc4\x20" + bytes(32) + b"\xa4note\xa2ok"
    with pytest.raises(ProtocolError) as info:
        sign_record(KEY, seq=1, prev=None, time=0, kind="lot.accept/1", content=unsorted)
    assert info.value.code is Reason.NON_CANONICAL
    assert canonical.decode(canonical.encode({"offer": bytes(32), "note": "ok"}))


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": ["lot.accept/1"]},  # unhashable where text is expected
        {"kind": "Lot.Accept/1"},
        {"time": -1},
        {"seq": True},
        {"audience": [b"short"]},
        {"author": "not bytes"},
    ],
)
def test_signed_headers_with_wrong_field_types_are_bad_headers(fields):
    content = canonical.encode({"offer": bytes(32)})
    header = {"author": KEY.public.raw, "seq": 1, "prev": None, "time": 0, "kind": "lot.accept/1",
              "audience": [], "content_hash": hashlib.sha256(content).digest()} | fields  # fmt: skip
    header_bytes = canonical.encode(["maillon/record/v1", *header.values()])
    envelope = canonical.encode([1, header_bytes, KEY.sign(header_bytes)])
    with pytest.raises(ProtocolError) as info:
        open_entry(canonical.encode([envelope, content]))
    assert info.value.code is Reason.BAD_HEADER


def test_signed_document_round_trip_and_refusals():
    from protocol.records import RECORD_FILE_MAGIC, read_record_file, write_record_file

    record = make()
    data = write_record_file(record)
    assert data.startswith(RECORD_FILE_MAGIC) and read_record_file(data).id == record.id
    with pytest.raises(RecordInvalid):
        write_record_file(record.stub())
    with pytest.raises(RecordInvalid):
        read_record_file(RECORD_FILE_MAGIC + record.stub().entry())
    with pytest.raises(RecordInvalid):
        read_record_file(record.entry())
    with pytest.raises(ProtocolError):
        read_record_file(data[:-1] + bytes([data[-1] ^ 1]))
