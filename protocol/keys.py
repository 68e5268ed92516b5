"""Ed25519 identities: signing keys, checked public keys, node ids, fingerprints."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol import _edwards
from protocol.errors import KeyRefused, Reason, SignatureInvalid

__all__ = ["SigningKey", "PublicKey", "node_id", "fingerprint", "parse_node_id"]

KEY_SIZE = 32
SIGNATURE_SIZE = 64
_SMALL_ORDER_R = _edwards.SMALL_ORDER_ENCODINGS


class PublicKey:
    """An Ed25519 public key that passed the weak-key check.

    Build it with ``PublicKey.from_bytes``; the check runs once per distinct
    key (results are cached), so verifying many records of one author costs
    one curve check.
    """

    __slots__ = ("raw", "_key")

    def __init__(self, raw: bytes, key: Ed25519PublicKey) -> None:
        self.raw = raw
        self._key = key

    @staticmethod
    def from_bytes(raw: bytes) -> "PublicKey":
        """Return the checked key, or raise ``KeyRefused`` (``weak_key``)."""
        if not isinstance(raw, bytes) or len(raw) != KEY_SIZE:
            raise KeyRefused(Reason.WEAK_KEY, "a public key is 32 bytes")
        return _checked_key(raw)

    def verify(self, signature: bytes, message: bytes) -> None:
        """Raise ``SignatureInvalid`` unless ``signature`` signs ``message``.

        The rule of PROTOCOL.md ("Keys and identity"), libsodium's: S < L, R
        not one of the 14 small-order encodings, and [S]B - [k]A encoded
        byte for byte equal to R. OpenSSL checks all but the R blacklist,
        which with a prime-order key only ever lets R = identity through
        (a signature made with the nonce 0): that one set lookup costs
        nothing beside the curve work.
        """
        if len(signature) != SIGNATURE_SIZE:
            raise SignatureInvalid(Reason.BAD_SIGNATURE, "a signature is 64 bytes")
        if signature[:32] in _SMALL_ORDER_R:
            raise SignatureInvalid(Reason.BAD_SIGNATURE, "R is a point of small order")
        try:
            self._key.verify(signature, message)
        except InvalidSignature as exc:
            raise SignatureInvalid(Reason.BAD_SIGNATURE, "signature does not verify") from exc

    @property
    def node_id(self) -> str:
        return node_id(self.raw)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"PublicKey({self.fingerprint})"


@lru_cache(maxsize=65536)
def _checked_key(raw: bytes) -> PublicKey:
    # lru_cache does not cache exceptions: a refused key is re-checked each
    # time, which only costs the one who sends it.
    if not _edwards.is_prime_order(raw):
        raise KeyRefused(
            Reason.WEAK_KEY, "not the canonical encoding of a prime-order Ed25519 point"
        )
    return PublicKey(raw, Ed25519PublicKey.from_public_bytes(raw))


class SigningKey:
    """A node's Ed25519 private key."""

    __slots__ = ("_key", "public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public = PublicKey.from_bytes(raw)

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> "SigningKey":
        """The key of RFC 8032 for a 32-byte seed (test vectors, key files)."""
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def seed(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def node_id(raw: bytes) -> str:
    """A node's id: its public key in unpadded lowercase base32 (52 chars)."""
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def parse_node_id(text: str) -> PublicKey:
    """Read a node id (base32, as ``node_id`` writes it) or 64 hex digits."""
    text = text.strip()
    try:
        if len(text) == 64:
            raw = bytes.fromhex(text)
        else:
            raw = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except ValueError as exc:
        raise KeyRefused(Reason.WEAK_KEY, "not a node id (base32) nor 64 hex digits") from exc
    return PublicKey.from_bytes(raw)


def fingerprint(raw: bytes) -> str:
    """Short text people compare: first 10 bytes of SHA-256(key), base32, 4x4."""
    digits = base64.b32encode(hashlib.sha256(raw).digest()[:10]).decode("ascii")
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))
