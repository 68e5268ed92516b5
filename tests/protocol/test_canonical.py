"""Canonical msgpack: one byte form per value, and a stable reason for every refusal."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import canonical
from protocol.canonical import MAX_DEPTH, _Reader, decode, encode
from protocol.errors import EncodingError, ProtocolError, Reason

text_keys = st.text(max_size=12)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text(max_size=40)
    | st.binary(max_size=40),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(text_keys, children, max_size=6),
    max_leaves=30,
)


@given(values)
def test_round_trip(value):
    data = encode(value)
    assert decode(data) == value
    assert encode(decode(data)) == data


@given(st.dictionaries(text_keys, st.integers(0, 1000), min_size=2, max_size=8))
def test_map_order_does_not_depend_on_insertion_order(mapping):
    reversed_mapping = dict(reversed(list(mapping.items())))
    assert encode(mapping) == encode(reversed_mapping)


def test_keys_sort_by_encoded_bytes_so_shorter_text_comes_first():
    # "b" encodes as a1 62, "aa" as a2 61 61: the length prefix decides.
    assert encode({"aa": 1, "b": 2}) == bytes.fromhex("82a16202a2616101")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(127, "7f"), (128, "cc80"), (-32, "e0"), (-33, "d0df"), (2**64 - 1, "cf" + "ff" * 8), (b"", "c400")],
)
def test_smallest_forms(value, expected):
    assert encode(value).hex() == expected


@pytest.mark.parametrize("value", [1.5, {1: 2}, {b"k": 1}, 2**64, -(2**63) - 1, object(), {"a": {1.0}}])
def test_encode_refuses_what_has_no_canonical_form(value):
    with pytest.raises(EncodingError) as info:
        encode(value)
    assert info.value.code is Reason.FORBIDDEN_TYPE


def test_depth_limit_is_the_same_for_encoder_and_decoder():
    nested: list = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    assert decode(encode(nested)) == nested
    with pytest.raises(EncodingError) as info:
        encode([nested])
    assert info.value.code is Reason.TOO_DEEP
    with pytest.raises(EncodingError) as info:
        decode(b"\x91" + encode(nested))
    assert info.value.code is Reason.TOO_DEEP


def test_size_limit():
    data = encode(b"x" * 100)
    with pytest.raises(EncodingError) as info:
        decode(data, max_size=50)
    assert info.value.code is Reason.TOO_LARGE


def test_decoder_refuses_a_long_form_that_msgpack_itself_accepts():
    data = bytes.fromhex("cd0005")  # 5 as uint16
    assert msgpack.unpackb(data) == 5
    with pytest.raises(EncodingError) as info:
        decode(data)
    assert info.value.code is Reason.NON_CANONICAL


def test_decoder_refuses_duplicate_keys_that_msgpack_merges():
    data = bytes.fromhex("82a16101a16102")
    assert msgpack.unpackb(data) == {"a": 2}
    with pytest.raises(EncodingError) as info:
        decode(data)
    assert info.value.code is Reason.DUPLICATE_KEY


@settings(max_examples=400)
@given(st.binary(max_size=64))
def test_fast_path_and_strict_reader_agree_on_any_bytes(data):
    try:
        expected = _Reader(data).read_all()
    except EncodingError as exc:
        with pytest.raises(EncodingError) as info:
            decode(data)
        assert info.value.code is exc.code
    else:
        assert decode(data) == expected
        assert encode(expected) == data


@settings(max_examples=300)
@given(values, st.data())
def test_single_byte_mutations_are_refused_or_decode_to_their_own_canonical_form(value, data):
    encoded = bytearray(encode(value))
    position = data.draw(st.integers(0, len(encoded) - 1))
    encoded[position] ^= data.draw(st.integers(1, 255))
    try:
        decoded = decode(bytes(encoded))
    except ProtocolError:
        return
    # A mutation may land on another valid value (5 -> 6); then it is canonical.
    assert encode(decoded) == bytes(encoded)


def test_maps_with_long_keys_do_not_grow_the_caches():
    """Map shapes and key encodings are cached for speed; what a peer sends cannot fill memory through them."""

    def sizes():
        return len(canonical._ORDERED), len(canonical._ORDER), canonical._short_key_bytes.cache_info().currsize

    decode(encode({"a": [{}]}))  # the short key and its shapes, once
    before = sizes()
    for n in range(300):
        value = {f"{n:04d}" + "k" * 10_000: n, "a": [{f"{n:04d}" + "x" * 100: n}]}
        assert canonical.decode(canonical.encode(value)) == value
    assert sizes() == before
