"""The wire: canonical msgpack, Ed25519 identity, signed records, logs, Merkle trees.

Pure: no I/O, and no import of ``node``, ``federation`` or ``web_ui``.
PROTOCOL.md at the repository root is the contract this package implements.
"""

from protocol.canonical import decode, encode
from protocol.errors import ProtocolError, Reason
from protocol.keys import PublicKey, SigningKey, fingerprint, node_id, parse_node_id
from protocol.kinds import KINDS, Body, parse_body
from protocol.log import LogReport, LogVerifier, read_log, verify_log, write_log
from protocol.records import Header, Record, open_entry, open_envelope, sign_record

__all__ = [
    "encode",
    "decode",
    "ProtocolError",
    "Reason",
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
]
