"""Errors raised by the protocol layer.

Every rejection carries a stable reason code (``ProtocolError.code``), the
same strings PROTOCOL.md lists, so that logs, HTTP answers and other
implementations can name a failure the same way.

Hierarchy::

    ProtocolError                 base; never raised itself
    ├── EncodingError             canonical msgpack: malformed, non_canonical,
    │                             duplicate_key, forbidden_type,
    │                             trailing_bytes, too_large, too_deep
    ├── KeyRefused                weak_key
    ├── SignatureInvalid          bad_signature
    ├── RecordInvalid             bad_entry, bad_envelope, unknown_version,
    │                             wrong_domain, bad_header, content_mismatch
    ├── ContentInvalid            unknown_kind, bad_content
    ├── LogBroken                 wrong_author, gap, fork, bad_prev
    │                             (the inbox also refuses records with
    │                             unknown_author, key_not_fresh: codes only)
    ├── ProofInvalid              bad_proof (Merkle inclusion / consistency)
    ├── RequestRefused            a signed request between nodes: bad_request,
    │                             wrong_recipient, digest_mismatch, weak_key,
    │                             bad_signature; and, raised by the federation
    │                             layer: unknown_key, revoked_key,
    │                             stale_request, replayed, rate_limited,
    │                             too_large
    └── SealInvalid               sealed content: bad_seal, not_a_recipient
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Reason",
    "ProtocolError",
    "EncodingError",
    "KeyRefused",
    "SignatureInvalid",
    "RecordInvalid",
    "ContentInvalid",
    "LogBroken",
    "ProofInvalid",
    "RequestRefused",
    "SealInvalid",
]


class Reason(StrEnum):
    """The stable reason codes of PROTOCOL.md, section "Reason codes"."""

    # canonical encoding
    MALFORMED = "malformed"
    NON_CANONICAL = "non_canonical"
    DUPLICATE_KEY = "duplicate_key"
    FORBIDDEN_TYPE = "forbidden_type"
    TRAILING_BYTES = "trailing_bytes"
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    # keys and signatures
    WEAK_KEY = "weak_key"
    BAD_SIGNATURE = "bad_signature"
    # records
    BAD_ENTRY = "bad_entry"
    BAD_ENVELOPE = "bad_envelope"
    UNKNOWN_VERSION = "unknown_version"
    WRONG_DOMAIN = "wrong_domain"
    BAD_HEADER = "bad_header"
    CONTENT_MISMATCH = "content_mismatch"
    UNKNOWN_KIND = "unknown_kind"
    BAD_CONTENT = "bad_content"
    # logs
    WRONG_AUTHOR = "wrong_author"
    GAP = "gap"
    FORK = "fork"
    BAD_PREV = "bad_prev"
    # who may send what (a receiver's rules beyond the record's own checks)
    UNKNOWN_AUTHOR = "unknown_author"
    KEY_NOT_FRESH = "key_not_fresh"
    # transparency
    BAD_PROOF = "bad_proof"
    # signed requests between nodes
    BAD_REQUEST = "bad_request"
    WRONG_RECIPIENT = "wrong_recipient"
    DIGEST_MISMATCH = "digest_mismatch"
    UNKNOWN_KEY = "unknown_key"
    REVOKED_KEY = "revoked_key"
    STALE_REQUEST = "stale_request"
    REPLAYED = "replayed"
    RATE_LIMITED = "rate_limited"
    # sealed content
    BAD_SEAL = "bad_seal"
    NOT_A_RECIPIENT = "not_a_recipient"
    # donor proof bundles
    BAD_BUNDLE = "bad_bundle"
    RECEIPT_MISMATCH = "receipt_mismatch"
    NOT_CUSTODIAN = "not_custodian"


class ProtocolError(Exception):
    """A rejection by the protocol layer, with its stable reason code."""

    code: Reason

    def __init__(self, code: Reason, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


class EncodingError(ProtocolError):
    """Bytes that are not the canonical msgpack form of an allowed value."""


class KeyRefused(ProtocolError):
    """A public key that is not a valid, prime-order Ed25519 point."""


class SignatureInvalid(ProtocolError):
    """A signature that does not verify under the author's key."""


class RecordInvalid(ProtocolError):
    """A log entry, envelope or header that breaks the record rules."""


class ContentInvalid(ProtocolError):
    """Content whose kind is unknown or that does not match its kind's model."""


class LogBroken(ProtocolError):
    """A record that does not extend its author's log as expected."""


class ProofInvalid(ProtocolError):
    """A Merkle inclusion or consistency proof that does not verify."""


class RequestRefused(ProtocolError):
    """A request between nodes refused before its body is read as a call.

    ``verify_request`` raises it for the request's own shape and signature;
    the federation layer raises it, with its own codes, for what needs state
    (known and revoked keys, clock window, nonces seen, rates, sizes).
    """


class SealInvalid(ProtocolError):
    """Sealed content that cannot be opened by this node."""
