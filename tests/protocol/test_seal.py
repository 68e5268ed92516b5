"""Sealed content: X25519 key derivation, sealing to an audience, opening, refusals."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import canonical
from protocol.errors import EncodingError, KeyRefused, ProtocolError, Reason, SealInvalid
from protocol.keys import SigningKey
from protocol.records import MAX_CONTENT, sign_record
from protocol.seal import (
    MAX_RECIPIENTS,
    MAX_SEALED,
    encryption_key,
    encryption_private,
    open_sealed,
    seal,
    sealed_recipients,
)

KEYS = [SigningKey.from_seed(hashlib.sha256(b"seal test %d" % i).digest()) for i in range(4)]
AUTHOR, READER, OTHER, OUTSIDER = KEYS
RECORD_ID = hashlib.sha256(b"a record").digest()


def to(*keys: SigningKey) -> dict[bytes, bytes]:
    return {k.public.raw: encryption_key(k) for k in keys}


def sealed_example(content: bytes = b"the content") -> bytes:
    return seal(RECORD_ID, content, to(AUTHOR, READER, OTHER))


def refused(reason: Reason, sealed: bytes, key: SigningKey = READER, record_id: bytes = RECORD_ID) -> None:
    with pytest.raises(SealInvalid) as info:
        open_sealed(sealed, record_id, key)
    assert info.value.code is reason


def test_encryption_key_is_derived_from_the_seed():
    key = KEYS[0]
    assert encryption_key(key) == encryption_key(SigningKey.from_seed(key.seed))
    assert len(encryption_key(key)) == 32
    assert len({encryption_key(k) for k in KEYS}) == len(KEYS)
    assert encryption_private(key).public_key().public_bytes_raw() == encryption_key(key)
    # Not the Ed25519 key in another form: a separate HKDF output.
    assert encryption_key(key) != key.public.raw


def test_every_recipient_opens_and_others_cannot():
    sealed = sealed_example()
    for key in (AUTHOR, READER, OTHER):
        assert open_sealed(sealed, RECORD_ID, key) == b"the content"
    refused(Reason.NOT_A_RECIPIENT, sealed, OUTSIDER)


def test_recipients_are_listed_in_byte_order():
    sealed = sealed_example()
    assert sealed_recipients(sealed) == tuple(sorted(k.public.raw for k in (AUTHOR, READER, OTHER)))
    value = canonical.decode(sealed)
    assert list(value) == ["v", "ct", "to", "epk"]  # canonical key order
    assert value["v"] == 1 and all(len(w) == 48 for _, w in value["to"])
    assert len(value["ct"]) == len(b"the content") + 16


def test_fresh_randomness_for_each_seal():
    first, second = sealed_example(), sealed_example()
    assert first != second
    assert canonical.decode(first)["epk"] != canonical.decode(second)["epk"]


def test_fixed_ephemeral_and_content_key_give_fixed_bytes():
    ephemeral = X25519PrivateKey.from_private_bytes(bytes(range(32)))
    args = (RECORD_ID, b"x", to(AUTHOR, READER))
    one = seal(*args, ephemeral=ephemeral, content_key=bytes(32))
    assert one == seal(*args, ephemeral=ephemeral, content_key=bytes(32))
    assert one != seal(*args, ephemeral=ephemeral, content_key=bytes(31) + b"\x01")


def test_another_record_id_does_not_open():
    refused(Reason.BAD_SEAL, sealed_example(), record_id=hashlib.sha256(b"another").digest())


def test_empty_and_maximal_content():
    assert open_sealed(seal(RECORD_ID, b"", to(READER)), RECORD_ID, READER) == b""
    big = bytes(MAX_CONTENT)
    keys = [SigningKey.from_seed(hashlib.sha256(b"many %d" % i).digest()) for i in range(MAX_RECIPIENTS)]
    sealed = seal(RECORD_ID, big, to(*keys))
    assert len(sealed) <= MAX_SEALED
    assert open_sealed(sealed, RECORD_ID, keys[-1]) == big
    with pytest.raises(EncodingError) as info:
        seal(RECORD_ID, big + b"x", to(READER))
    assert info.value.code is Reason.TOO_LARGE


def test_seal_refuses_wrong_arguments():
    with pytest.raises(ValueError):
        seal(RECORD_ID, b"x", {})
    with pytest.raises(ValueError):
        seal(RECORD_ID[:31], b"x", to(READER))
    with pytest.raises(ValueError):
        seal(RECORD_ID, b"x", {READER.public.raw: bytes(31)})
    with pytest.raises(ValueError):
        seal(RECORD_ID, b"x", to(READER), content_key=bytes(16))
    many = {hashlib.sha256(b"%d" % i).digest(): encryption_key(READER) for i in range(MAX_RECIPIENTS + 1)}
    with pytest.raises(ValueError):
        seal(RECORD_ID, b"x", many)


@pytest.mark.parametrize(
    "point",
    [
        bytes(32),
        bytes([1]) + bytes(31),
        bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),  # order 8
    ],
)
def test_seal_refuses_a_low_order_encryption_key(point):
    # The shared secret would be all zeros, and the wrapping key public.
    with pytest.raises(KeyRefused) as info:
        seal(RECORD_ID, b"x", {READER.public.raw: point})
    assert info.value.code is Reason.WEAK_KEY


def test_a_real_record_round_trip():
    record = sign_record(AUTHOR, seq=1, prev=None, time=0, kind="lot.accept/1",
                         content={"offer": bytes(32)}, audience=[READER.public.raw])
    audience = to(AUTHOR, *(k for k in (READER,) if k.public.raw in record.header.audience))
    sealed = seal(record.id, record.content, audience)
    opened = record.stub().with_content(open_sealed(sealed, record.id, READER))
    assert opened.content == record.content


# ---------------------------------------------------------------- tampering

def rebuild(sealed: bytes, **changes) -> bytes:
    value = canonical.decode(sealed)
    value.update(changes)
    return canonical.encode(value)


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def test_each_field_tampered_is_refused():
    sealed = sealed_example()
    value = canonical.decode(sealed)
    mine = [i for i, (k, _) in enumerate(value["to"]) if k == READER.public.raw][0]
    refused(Reason.BAD_SEAL, rebuild(sealed, ct=flip(value["ct"], 0)))
    refused(Reason.BAD_SEAL, rebuild(sealed, ct=flip(value["ct"], len(value["ct"]) - 1)))  # the tag
    refused(Reason.BAD_SEAL, rebuild(sealed, epk=flip(value["epk"], 3)))
    wrapped = [list(p) for p in value["to"]]
    wrapped[mine][1] = flip(wrapped[mine][1], 5)
    refused(Reason.BAD_SEAL, rebuild(sealed, to=wrapped))
    # Another recipient's wrapped key under my name: bound to its key by the AAD.
    swapped = [list(p) for p in value["to"]]
    other = (mine + 1) % len(swapped)
    swapped[mine][1], swapped[other][1] = swapped[other][1], swapped[mine][1]
    refused(Reason.BAD_SEAL, rebuild(sealed, to=swapped))
    # Removing a recipient from the list removes only that one.
    kept = [p for i, p in enumerate(value["to"]) if i != mine]
    refused(Reason.NOT_A_RECIPIENT, rebuild(sealed, to=kept))
    assert open_sealed(rebuild(sealed, to=kept), RECORD_ID, AUTHOR) == b"the content"


def test_a_low_order_epk_is_refused():
    sealed = sealed_example()
    refused(Reason.BAD_SEAL, rebuild(sealed, epk=bytes(32)))


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"v": True},
        {"epk": bytes(31)},
        {"epk": "text"},
        {"to": []},
        {"to": [[bytes(32), bytes(47)]]},
        {"to": [[bytes(32)]]},
        {"to": [[bytes(32), bytes(48), None]]},
        {"to": [[bytes(32), bytes(48)], [bytes(32), bytes(48)]]},
        {"to": [[b"\x02" * 32, bytes(48)], [b"\x01" * 32, bytes(48)]]},
        {"to": [[bytes([i]) * 32, bytes(48)] for i in range(MAX_RECIPIENTS + 1)]},
        {"ct": bytes(15)},
        {"ct": None},
        {"extra": 1},
    ],
    ids=lambda c: repr(c)[:40],
)
def test_shapes_refused(change):
    sealed = rebuild(sealed_example(), **change)
    refused(Reason.BAD_SEAL, sealed)
    with pytest.raises(SealInvalid):
        sealed_recipients(sealed)


def test_not_canonical_or_not_a_map():
    sealed = sealed_example()
    refused(Reason.BAD_SEAL, sealed + b"\x00")
    refused(Reason.BAD_SEAL, sealed[:-1])
    refused(Reason.BAD_SEAL, canonical.encode([1, 2]))
    missing = canonical.decode(sealed)
    del missing["ct"]
    refused(Reason.BAD_SEAL, canonical.encode(missing))
    refused(Reason.BAD_SEAL, b"\xdf" + b"\x00" * (MAX_SEALED + 1))  # too large, before decoding


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000), st.sets(st.integers(0, 3), min_size=1))
def test_round_trip_property(content, chosen):
    keys = [KEYS[i] for i in sorted(chosen)]
    sealed = seal(RECORD_ID, content, to(*keys))
    for key in KEYS:
        if key in keys:
            assert open_sealed(sealed, RECORD_ID, key) == content
        else:
            refused(Reason.NOT_A_RECIPIENT, sealed, key)


SAMPLE = sealed_example(b"a" * 40)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(SAMPLE) - 1), st.integers(1, 255))
def test_any_single_byte_mutation_is_refused(position, xor):
    mutated = bytearray(SAMPLE)
    mutated[position] ^= xor
    try:
        content = open_sealed(bytes(mutated), RECORD_ID, READER)
    except ProtocolError as exc:
        assert isinstance(exc, SealInvalid)
        assert exc.code in (Reason.BAD_SEAL, Reason.NOT_A_RECIPIENT)
    else:
        # Only bytes that do not concern this reader may change: another
        # recipient's key or wrapped key.
        assert content == b"a" * 40
        assert READER.public.raw in sealed_recipients(bytes(mutated))
