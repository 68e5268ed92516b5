"""The pinned Ed25519 verification rule: libsodium's, whatever library a node verifies with.

PROTOCOL.md ("Keys and identity"): S < L; R not one of the 14 small-order
encodings; [S]B - [k]A encoded byte for byte equal to R. OpenSSL (through
``cryptography``) checks all but the second; libsodium checks all three.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import _edwards as ed
from protocol import canonical
from protocol.errors import Reason, SignatureInvalid
from protocol.keys import PublicKey, SigningKey
from protocol.records import open_entry

VECTORS = Path(__file__).parents[1] / "vectors"
sys.path.insert(0, str(VECTORS))
from contract_vectors import ORDER_8, sign_with_nonce  # noqa: E402

KEYS = json.loads((VECTORS / "keys.json").read_text())
SIGNATURES = KEYS["signatures"]
SMALL_ORDER = {bytes.fromhex(h) for h in KEYS["small_order_r"]}
RECORDS = json.loads((VECTORS / "records.json").read_text())
KEY = SigningKey.from_seed(hashlib.sha256(b"signature rule").digest())


def pinned_rule(public: bytes, signature: bytes, message: bytes) -> bool:
    """PROTOCOL.md's verification rule, step by step, in plain arithmetic (key already accepted)."""
    r, s = signature[:32], int.from_bytes(signature[32:], "little")
    if s >= ed.L or r in SMALL_ORDER:
        return False
    k = int.from_bytes(hashlib.sha512(r + public + message).digest(), "little") % ed.L
    a = ed.decode_point(public)
    minus_ka = ed.multiply(k, (ed.P - a[0], a[1], a[2], ed.P - a[3]))
    return ed.encode_point(ed.add(ed.multiply(s, ed.BASE), minus_ka)) == r


def _libsodium():
    name = ctypes.util.find_library("sodium")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    if lib.sodium_init() < 0:
        return None
    lib.crypto_sign_verify_detached.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p]
    return lib


SODIUM = _libsodium()


def ours(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        PublicKey.from_bytes(public).verify(signature, message)
    except SignatureInvalid as exc:
        assert exc.code is Reason.BAD_SIGNATURE
        return False
    return True


def test_openssl_alone_accepts_a_signature_with_r_the_identity():
    # Why the R check exists: the nonce 0 gives R = identity and S = k·a, and the cofactorless
    # equation holds; libsodium refuses R of small order, OpenSSL does not.
    message = b"a record"
    signature = sign_with_nonce(KEY, message, nonce=0, r_bytes=bytes([1]) + bytes(31))
    Ed25519PublicKey.from_public_bytes(KEY.public.raw).verify(signature, message)
    assert not ours(KEY.public.raw, signature, message)


@pytest.mark.parametrize("vector", SIGNATURES, ids=lambda v: v["name"])
def test_each_signature_vector_follows_the_pinned_rule(vector):
    public, signature, message = (bytes.fromhex(vector[k]) for k in ("public", "signature", "message"))
    expected = vector["reason"] is None
    assert ours(public, signature, message) is expected
    assert pinned_rule(public, signature, message) is expected


@pytest.mark.skipif(SODIUM is None, reason="libsodium is not installed")
@pytest.mark.parametrize("vector", SIGNATURES, ids=lambda v: v["name"])
def test_libsodium_agrees_on_each_signature_vector(vector):
    public, signature, message = (bytes.fromhex(vector[k]) for k in ("public", "signature", "message"))
    accepted = SODIUM.crypto_sign_verify_detached(signature, message, len(message), public) == 0
    assert accepted is (vector["reason"] is None)


@pytest.mark.skipif(SODIUM is None, reason="libsodium is not installed")
def test_libsodium_agrees_on_every_record_vector():
    cases = [(v["entry"], True) for v in RECORDS["valid"]] + [
        (v["entry"], v["reason"] != "bad_signature") for v in RECORDS["invalid"] if v["name"].startswith("signature")
    ]
    for entry, expected in cases:
        envelope = canonical.decode(canonical.decode(bytes.fromhex(entry))[0])
        header, signature = envelope[1], envelope[2]
        author = canonical.decode(header)[1]
        assert (SODIUM.crypto_sign_verify_detached(signature, header, len(header), author) == 0) is expected
        if expected:
            open_entry(bytes.fromhex(entry))


@settings(deadline=None, max_examples=25)
@given(nonce=st.integers(min_value=0, max_value=ed.L - 1), torsion=st.sampled_from([None, ORDER_8]),
       message=st.binary(max_size=64))
def test_chosen_nonces_and_torsion_agree_with_the_rule(nonce, torsion, message):
    signature = sign_with_nonce(KEY, message, nonce=nonce, torsion=torsion)
    expected = nonce != 0 and torsion is None  # R = identity, or R with a small-order component: refused
    assert ours(KEY.public.raw, signature, message) is expected
    assert pinned_rule(KEY.public.raw, signature, message) is expected
    if SODIUM is not None:
        assert (SODIUM.crypto_sign_verify_detached(signature, message, len(message), KEY.public.raw) == 0) is expected
