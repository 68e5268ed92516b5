"""Signed requests between nodes: one fixed profile of RFC 9421.

Every call of one node to another under /fed/v1 carries four headers
(PROTOCOL.md, "Signed requests"):

    Content-Digest:  sha-256=:<base64 SHA-256(body)>:
    Maillon-To:      <node id of the callee>
    Signature-Input: maillon=("@method" "@path" "@query" "content-digest" "maillon-to");
                     created=<unix s>;nonce="<32 hex>";keyid="<caller node id>";alg="ed25519"
    Signature:       maillon=:<base64 Ed25519 signature of the signature base>:

The verifier accepts this exact form and nothing else, so there is one way
to sign a request and one signature base. What needs state (is the key
known, revoked, the clock window, nonces already seen) is the federation
layer's, which raises ``RequestRefused`` with its own codes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from protocol.errors import KeyRefused, Reason, RequestRefused, SignatureInvalid
from protocol.keys import PublicKey, SigningKey, node_id

__all__ = [
    "COVERED_COMPONENTS",
    "SIGNATURE_LABEL",
    "NONCE_SIZE",
    "REQUEST_WINDOW",
    "SignedRequest",
    "sign_request",
    "verify_request",
    "signature_base",
    "content_digest",
]

SIGNATURE_LABEL = "maillon"
COVERED_COMPONENTS = ("@method", "@path", "@query", "content-digest", "maillon-to")
NONCE_SIZE = 16
# Seconds a request stays acceptable either side of its ``created`` time; the
# federation layer enforces it (``stale_request``) and remembers nonces as long.
REQUEST_WINDOW = 300

_COMPONENTS = "(" + " ".join(f'"{c}"' for c in COVERED_COMPONENTS) + ")"
_SIGNATURE_INPUT = re.compile(
    re.escape(f"{SIGNATURE_LABEL}={_COMPONENTS}")
    + r';created=(0|[1-9][0-9]{0,14});nonce="([0-9a-f]{32})";keyid="([a-z2-7]{52})";alg="ed25519"'
)
_SIGNATURE = re.compile(re.escape(SIGNATURE_LABEL) + r"=:([A-Za-z0-9+/]{86}==):")
_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):")
_METHOD = re.compile(r"[A-Z]{1,16}")
_PATH = re.compile(r"/[\x21-\x7e]*")
_QUERY = re.compile(r"[\x21-\x7e]*")
_MAX_CREATED = 10**15 - 1
_HEADERS = ("content-digest", "maillon-to", "signature-input", "signature")


@dataclass(frozen=True)
class SignedRequest:
    """Who signed a request that verified, and its replay-protection fields."""

    caller: bytes  # the caller's 32-byte public key
    created: int  # unix seconds
    nonce: bytes  # 16 bytes


def content_digest(body: bytes) -> str:
    """The ``Content-Digest`` value of RFC 9530 for ``body``, SHA-256 only."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def signature_base(
    *, method: str, path: str, query: str, digest: str, callee_id: str, signature_params: str
) -> bytes:
    """The RFC 9421 signature base of the profile (lines joined by LF, none at the end)."""
    lines = (
        f'"@method": {method}',
        f'"@path": {path}',
        f'"@query": ?{query}',
        f'"content-digest": {digest}',
        f'"maillon-to": {callee_id}',
        f'"@signature-params": {signature_params}',
    )
    return "\n".join(lines).encode("ascii")


def sign_request(
    key: SigningKey,
    *,
    method: str,
    path: str,
    query: str,
    body: bytes,
    callee: bytes,
    created: int,
    nonce: bytes,
) -> dict[str, str]:
    """The four headers that sign a request from ``key`` to the node ``callee``.

    ``path`` and ``query`` are as sent in the request target, percent-encoded;
    ``query`` without its leading ``?`` (empty when there is none). ``nonce``
    is 16 random bytes, fresh for each request.
    """
    if not _METHOD.fullmatch(method):
        raise ValueError("the method is an upper-case token, e.g. POST")
    if not _PATH.fullmatch(path) or not _QUERY.fullmatch(query):
        raise ValueError("path starts with / and path and query are visible ASCII")
    if len(callee) != 32 or len(nonce) != NONCE_SIZE:
        raise ValueError("the callee is a 32-byte key and the nonce 16 bytes")
    if type(created) is not int or not 0 <= created <= _MAX_CREATED:
        raise ValueError("created is unix seconds, at most 15 digits")
    params = (
        f'{_COMPONENTS};created={created};nonce="{nonce.hex()}";'
        f'keyid="{key.public.node_id}";alg="ed25519"'
    )
    digest = content_digest(body)
    callee_id = node_id(callee)
    base = signature_base(
        method=method, path=path, query=query, digest=digest, callee_id=callee_id, signature_params=params
    )
    signature = base64.b64encode(key.sign(base)).decode("ascii")
    return {
        "Content-Digest": digest,
        "Maillon-To": callee_id,
        "Signature-Input": f"{SIGNATURE_LABEL}={params}",
        "Signature": f"{SIGNATURE_LABEL}=:{signature}:",
    }


def verify_request(
    headers: Mapping[str, str], *, method: str, path: str, query: str, body: bytes, callee: bytes
) -> SignedRequest:
    """Check a request's signature headers; return who signed it.

    ``headers`` may be any mapping, header names in any case (a multidict
    too: a signature header given twice is refused). Checks, in this order:
    the four headers' exact form (``bad_request``), ``Maillon-To`` names
    ``callee`` (``wrong_recipient``), the body's digest
    (``digest_mismatch``), the caller's key (``weak_key``), the signature
    (``bad_signature``). Raises ``RequestRefused`` with that code.
    """
    found: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _HEADERS:
            if lower in found:
                raise RequestRefused(Reason.BAD_REQUEST, f"header {name} given twice")
            found[lower] = value.strip(" \t")
    missing = [name for name in _HEADERS if name not in found]
    if missing:
        raise RequestRefused(Reason.BAD_REQUEST, f"missing header {missing[0]}")
    if not _METHOD.fullmatch(method) or not _PATH.fullmatch(path) or not _QUERY.fullmatch(query):
        raise RequestRefused(Reason.BAD_REQUEST, "method, path or query out of the profile")
    signature_input = _SIGNATURE_INPUT.fullmatch(found["signature-input"])
    if signature_input is None:
        raise RequestRefused(Reason.BAD_REQUEST, "Signature-Input is not the form of the profile")
    created, nonce_hex, keyid = signature_input.groups()
    caller = _decode_node_id(keyid)
    signature = _decode_base64(_SIGNATURE.fullmatch(found["signature"]), 64, "Signature")
    digest = _decode_base64(_DIGEST.fullmatch(found["content-digest"]), 32, "Content-Digest")
    callee_id = node_id(callee)
    if found["maillon-to"] != callee_id:
        raise RequestRefused(Reason.WRONG_RECIPIENT, "the request is addressed to another node")
    if digest != hashlib.sha256(body).digest():
        raise RequestRefused(Reason.DIGEST_MISMATCH, "the body does not match Content-Digest")
    try:
        public = PublicKey.from_bytes(caller)
    except KeyRefused as exc:
        raise RequestRefused(Reason.WEAK_KEY, "the caller's key is refused") from exc
    base = signature_base(
        method=method,
        path=path,
        query=query,
        digest=found["content-digest"],
        callee_id=callee_id,
        signature_params=found["signature-input"][len(SIGNATURE_LABEL) + 1 :],
    )
    try:
        public.verify(signature, base)
    except SignatureInvalid as exc:
        raise RequestRefused(Reason.BAD_SIGNATURE, "the signature does not verify") from exc
    return SignedRequest(caller=caller, created=int(created), nonce=bytes.fromhex(nonce_hex))


def _decode_node_id(text: str) -> bytes:
    raw = base64.b32decode(text.upper() + "====")
    if node_id(raw) != text:  # the last 4 bits of a node id are zero
        raise RequestRefused(Reason.BAD_REQUEST, "keyid is not a node id")
    return raw


def _decode_base64(match: re.Match[str] | None, size: int, header: str) -> bytes:
    if match is None:
        raise RequestRefused(Reason.BAD_REQUEST, f"{header} is not the form of the profile")
    try:
        raw = base64.b64decode(match.group(1), validate=True)
    except binascii.Error as exc:
        raise RequestRefused(Reason.BAD_REQUEST, f"{header} is not base64") from exc
    # One encoding only: the unused low bits of the last character are zero.
    if len(raw) != size or base64.b64encode(raw).decode("ascii") != match.group(1):
        raise RequestRefused(Reason.BAD_REQUEST, f"{header} is not canonical base64")
    return raw
