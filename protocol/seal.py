"""Sealed content: a record's content encrypted to its audience and its author.

The content of a record with a non-empty audience travels between nodes
only sealed (PROTOCOL.md, "Encryption keys and sealed content"):

    sealed = {"v": 1, "epk": E: bin(32), "to": [[K_R: bin(32), wrapped: bin(48)], ...],
              "ct": ChaCha20-Poly1305(CK, nonce 0, content, aad=record_id)}
    wrapped = ChaCha20-Poly1305(kek_R, nonce 0, CK, aad=record_id || K_R)
    kek_R   = HKDF-SHA256(ikm=X25519(e, X_R), salt=E || X_R, info="maillon/seal/v1")

A node's X25519 key is derived from its Ed25519 seed, so a node keeps one
secret. Opening returns the content only; the caller then checks it against
the header's content hash (``Record.with_content``), which also binds the
content to the signed header.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol import _edwards, canonical
from protocol.errors import EncodingError, KeyRefused, Reason, SealInvalid
from protocol.keys import SigningKey
from protocol.records import MAX_AUDIENCE, MAX_CONTENT

__all__ = [
    "SEAL_VERSION",
    "MAX_RECIPIENTS",
    "MAX_SEALED",
    "encryption_private",
    "encryption_key",
    "check_encryption_key",
    "seal",
    "open_sealed",
    "sealed_recipients",
]

SEAL_VERSION = 1
MAX_RECIPIENTS = MAX_AUDIENCE + 1  # the audience and the author
# 65 recipients take 5 528 bytes of "to": the margin is 8 KiB, not 4 KiB.
MAX_SEALED = MAX_CONTENT + 8192

X25519_INFO = b"maillon/x25519/v1"
SEAL_INFO = b"maillon/seal/v1"
_KEY_SIZE = 32
_TAG_SIZE = 16
_WRAPPED_SIZE = _KEY_SIZE + _TAG_SIZE
_NONCE = bytes(12)  # every key encrypts exactly one message
_FIELDS = frozenset({"v", "epk", "to", "ct"})


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_SIZE, salt=salt, info=info).derive(ikm)


def _raw_public(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encryption_private(key: SigningKey) -> X25519PrivateKey:
    """The node's X25519 private key, derived from its Ed25519 seed."""
    return _derived(key.seed)


@lru_cache(maxsize=8)
def _derived(seed: bytes) -> X25519PrivateKey:
    # A node opens many sealed contents with one key: derive it once (about a third of an opening).
    return X25519PrivateKey.from_private_bytes(_hkdf(seed, b"", X25519_INFO))


def encryption_key(key: SigningKey) -> bytes:
    """The node's 32-byte X25519 public key (``encryption_key`` of its descriptor)."""
    return _raw_public(encryption_private(key))


@lru_cache(maxsize=1024)
def _prime_order_u(raw: bytes) -> bool:
    u = int.from_bytes(raw, "little")
    if u >= _edwards.P - 1:  # not canonical (the top bit set, or u >= p), or u = -1, which has no Edwards twin
        return False
    # The birational map to edwards25519 (RFC 7748 section 4.1): y = (u - 1) / (u + 1). A u of the
    # curve's twist has no x there; the order of the point is the order of its twin, whatever x's sign.
    y = (u - 1) * pow(u + 1, _edwards.P - 2, _edwards.P) % _edwards.P
    return _edwards.is_prime_order(y.to_bytes(32, "little"))


def check_encryption_key(raw: bytes) -> bytes:
    """``raw`` if it is an acceptable X25519 encryption key, else ``KeyRefused`` (``weak_key``).

    Accepted: the canonical u-coordinate (u < p) of a point of Curve25519 of
    prime order L, the only keys an honest node publishes (X25519 of a
    clamped scalar and the base point). That refuses the points of small
    order (u = 0 and the like, with which a sealed key would be public), every
    point with a small-order component, points of the twist and
    non-canonical encodings, as Ed25519 key acceptance does for signing keys.
    """
    if len(raw) != _KEY_SIZE or not _prime_order_u(bytes(raw)):
        raise KeyRefused(Reason.WEAK_KEY, "an encryption key is the u of a point of prime order, in canonical form")
    return raw


def _kek(shared: bytes, epk: bytes, recipient_x: bytes) -> bytes:
    return _hkdf(shared, epk + recipient_x, SEAL_INFO)


def seal(
    record_id: bytes,
    content: bytes,
    recipients: Mapping[bytes, bytes],
    *,
    ephemeral: X25519PrivateKey | None = None,
    content_key: bytes | None = None,
) -> bytes:
    """Seal ``content`` of record ``record_id`` to ``recipients``.

    ``recipients`` maps each reader's Ed25519 public key (K_R) to its X25519
    ``encryption_key`` (X_R): the record's audience plus its author.
    ``ephemeral`` and ``content_key`` are drawn at random unless given (test
    vectors fix them; never reuse them otherwise). Raises ``ValueError`` for
    arguments of the wrong size or count, ``EncodingError`` (``too_large``)
    for content over the limit and ``KeyRefused`` (``weak_key``) for an
    encryption key of low order, which would make its wrapping key public.
    """
    if len(record_id) != _KEY_SIZE:
        raise ValueError("a record id is 32 bytes")
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise ValueError(f"sealed content has 1 to {MAX_RECIPIENTS} recipients")
    if any(len(k) != _KEY_SIZE or len(x) != _KEY_SIZE for k, x in recipients.items()):
        raise ValueError("recipient keys and encryption keys are 32 bytes")
    if len(content) > MAX_CONTENT:
        raise EncodingError(Reason.TOO_LARGE, f"content of {len(content)} bytes")
    if content_key is None:
        content_key = ChaCha20Poly1305.generate_key()
    elif len(content_key) != _KEY_SIZE:
        raise ValueError("a content key is 32 bytes")
    if ephemeral is None:
        ephemeral = X25519PrivateKey.generate()
    epk = _raw_public(ephemeral)
    to: list[list[bytes]] = []
    for recipient in sorted(recipients):
        recipient_x = recipients[recipient]
        try:
            shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_x))
        except ValueError as exc:  # all-zero shared secret: a low-order point
            raise KeyRefused(Reason.WEAK_KEY, "encryption key of low order") from exc
        wrapped = ChaCha20Poly1305(_kek(shared, epk, recipient_x)).encrypt(
            _NONCE, content_key, record_id + recipient
        )
        to.append([recipient, wrapped])
    ciphertext = ChaCha20Poly1305(content_key).encrypt(_NONCE, content, record_id)
    return canonical.encode({"v": SEAL_VERSION, "epk": epk, "to": to, "ct": ciphertext})


def _parse(sealed: bytes) -> dict[str, Any]:
    def bad(message: str) -> SealInvalid:
        return SealInvalid(Reason.BAD_SEAL, message)

    try:
        value = canonical.decode(sealed, max_size=MAX_SEALED)
    except EncodingError as exc:
        raise bad(f"not canonical msgpack ({exc.code.value})") from exc
    if not isinstance(value, dict) or set(value) != _FIELDS:
        raise bad('sealed content is a map of "v", "epk", "to" and "ct"')
    if type(value["v"]) is not int or value["v"] != SEAL_VERSION:
        raise bad(f"sealed content version {value['v']!r}")
    epk, to, ct = value["epk"], value["to"], value["ct"]
    if type(epk) is not bytes or len(epk) != _KEY_SIZE:
        raise bad("epk is 32 bytes")
    if not isinstance(to, list) or not 1 <= len(to) <= MAX_RECIPIENTS:
        raise bad(f"to lists 1 to {MAX_RECIPIENTS} recipients")
    for pair in to:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or type(pair[0]) is not bytes
            or len(pair[0]) != _KEY_SIZE
            or type(pair[1]) is not bytes
            or len(pair[1]) != _WRAPPED_SIZE
        ):
            raise bad("each recipient is [key: bin(32), wrapped: bin(48)]")
    if any(a[0] >= b[0] for a, b in zip(to, to[1:])):
        raise bad("recipients are sorted and distinct")
    if type(ct) is not bytes or not _TAG_SIZE <= len(ct) <= MAX_CONTENT + _TAG_SIZE:
        raise bad(f"ct is 16 to {MAX_CONTENT + _TAG_SIZE} bytes")
    return value


def sealed_recipients(sealed: bytes) -> tuple[bytes, ...]:
    """The public keys the content is sealed to, after checking the shape."""
    return tuple(pair[0] for pair in _parse(sealed)["to"])


def open_sealed(sealed: bytes, record_id: bytes, key: SigningKey) -> bytes:
    """The content sealed to ``key`` for record ``record_id``.

    Raises ``SealInvalid``: ``not_a_recipient`` when ``key`` is not listed,
    ``bad_seal`` for any other failure (shape, a key or ciphertext that does
    not decrypt, another record id). The caller checks the content against
    the record's content hash.
    """
    value = _parse(sealed)
    me = key.public.raw
    wrapped = next((w for k, w in value["to"] if k == me), None)
    if wrapped is None:
        raise SealInvalid(Reason.NOT_A_RECIPIENT, "this node is not among the recipients")
    private = encryption_private(key)
    own_x = _raw_public(private)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(value["epk"]))
    except ValueError as exc:
        raise SealInvalid(Reason.BAD_SEAL, "epk is a point of low order") from exc
    try:
        content_key = ChaCha20Poly1305(_kek(shared, value["epk"], own_x)).decrypt(
            _NONCE, wrapped, record_id + me
        )
        return ChaCha20Poly1305(content_key).decrypt(_NONCE, value["ct"], record_id)
    except InvalidTag as exc:
        raise SealInvalid(Reason.BAD_SEAL, "does not decrypt (altered, or another record)") from exc
