"""Ed25519 identities, and the weak keys that must never be registered."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from protocol.errors import KeyRefused, Reason, SignatureInvalid
from protocol.keys import PublicKey, SigningKey, fingerprint, node_id, parse_node_id

IDENTITY = bytes([1]) + bytes(31)
FORGED = IDENTITY + bytes(32)  # R = identity point, S = 0


def test_cryptography_accepts_a_forged_signature_under_the_identity_key():
    # Why the weak-key check exists: cofactorless verification of
    # [S]B = R + [k]A holds for A = R = identity, S = 0, whatever the message.
    raw = Ed25519PublicKey.from_public_bytes(IDENTITY)
    raw.verify(FORGED, b"transfer every lot to me")
    raw.verify(FORGED, b"any other message")


def test_identity_key_is_refused_before_any_signature_is_checked():
    with pytest.raises(KeyRefused) as info:
        PublicKey.from_bytes(IDENTITY)
    assert info.value.code is Reason.WEAK_KEY


def test_sign_and_verify():
    key = SigningKey.generate()
    signature = key.sign(b"hello")
    key.public.verify(signature, b"hello")
    with pytest.raises(SignatureInvalid):
        key.public.verify(signature, b"hellp")
    with pytest.raises(SignatureInvalid):
        key.public.verify(signature[:63], b"hello")


def test_rfc8032_test_1():
    # RFC 8032, section 7.1, TEST 1: the empty message.
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = SigningKey.from_seed(seed)
    assert key.public.raw.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert key.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert SigningKey.from_seed(key.seed).public == key.public


def test_node_id_and_fingerprint_forms():
    key = SigningKey.from_seed(bytes(32))
    assert len(node_id(key.public.raw)) == 52
    assert parse_node_id(key.public.node_id) == key.public
    assert parse_node_id(key.public.raw.hex()) == key.public
    parts = fingerprint(key.public.raw).split("-")
    assert [len(p) for p in parts] == [4, 4, 4, 4]
    assert fingerprint(key.public.raw) != fingerprint(SigningKey.from_seed(bytes([1]) * 32).public.raw)


@pytest.mark.parametrize("text", ["not a key", "ab" * 31, ""])
def test_parse_node_id_refuses_garbage(text):
    with pytest.raises(KeyRefused):
        parse_node_id(text)


def test_many_generated_keys_pass_the_check():
    for _ in range(20):
        PublicKey.from_bytes(SigningKey.generate().public.raw)
