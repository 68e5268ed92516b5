"""The wire: canonical msgpack, identities, signed records, logs, Merkle trees,
sealed content and signed requests between nodes.

Pure: no I/O, and no import of ``node``, ``federation`` or ``web_ui``.
PROTOCOL.md at the repository root is the contract this package implements.
"""

from protocol import custody_kinds  # noqa: F401  (adds item.fates/2 and donor.report/2 to KINDS)
from protocol.canonical import decode, encode
from protocol.errors import ProtocolError, Reason, RequestRefused, SealInvalid
from protocol.keys import PublicKey, SigningKey, fingerprint, node_id, parse_node_id
from protocol.kinds import KINDS, Body, parse_body
from protocol.log import LogReport, LogVerifier, read_log, verify_log, write_log
from protocol.records import Header, Record, open_entry, open_envelope, sign_record
from protocol.requests import SignedRequest, sign_request, verify_request
from protocol.seal import encryption_key, encryption_private, open_sealed, seal, sealed_recipients

__all__ = [
    "encode",
    "decode",
    "ProtocolError",
    "Reason",
    "RequestRefused",
    "SealInvalid",
    "PublicKey",
    "SigningKey",
    "node_id",
    "fingerprint",
    "parse_node_id",
    "KINDS",
    "Body",
    "parse_body",
    "Header",
    "Record",
    "sign_record",
    "open_envelope",
    "open_entry",
    "LogVerifier",
    "LogReport",
    "read_log",
    "write_log",
    "verify_log",
    "encryption_private",
    "encryption_key",
    "seal",
    "open_sealed",
    "sealed_recipients",
    "SignedRequest",
    "sign_request",
    "verify_request",
]
