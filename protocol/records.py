"""Signed records: the envelope, its header, and the log entry carrying them.

A record is signed once, as bytes, and those bytes travel and are stored as
they are; nothing here re-serialises a record to check it. The layout is in
PROTOCOL.md, section "Records":

    entry    = [envelope: bin, content: bin | nil]
    envelope = [1, header: bin, signature: bin(64)]
    header   = ["maillon/record/v1", author: bin(32), seq, prev: bin(32) | nil,
                time_ms, kind, audience: [bin(32)...], content_hash: bin(32)]

Record id = SHA-256(header bytes); signature = Ed25519(author, header bytes).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from protocol import canonical
from protocol.errors import EncodingError, ProtocolError, Reason, RecordInvalid
from protocol.keys import SIGNATURE_SIZE, PublicKey, SigningKey
from protocol.custody_kinds import KINDS as _ALL_KINDS  # noqa: F401  (the later kinds join KINDS)
from protocol.kinds import parse_body

__all__ = [
    "DOMAIN_TAG",
    "ENVELOPE_VERSION",
    "Header",
    "Record",
    "sign_record",
    "open_envelope",
    "open_entry",
    "split_entry",
    "stored_header",
    "write_record_file",
    "read_record_file",
    "RECORD_FILE_MAGIC",
    "MAX_HEADER",
    "MAX_ENVELOPE",
    "MAX_CONTENT",
    "MAX_ENTRY",
    "MAX_AUDIENCE",
]

DOMAIN_TAG = "maillon/record/v1"
ENVELOPE_VERSION = 1

MAX_HEADER = 4096
MAX_ENVELOPE = 8192
MAX_CONTENT = 4 * 1024 * 1024
MAX_ENTRY = MAX_CONTENT + MAX_ENVELOPE
MAX_AUDIENCE = 64
MAX_SEQ = 2**63 - 1
MAX_TIME = 2**63 - 1

_KIND = re.compile(r"[a-z][a-z0-9_.]{0,47}/[1-9][0-9]{0,5}")
_HASH_SIZE = 32


class Header(NamedTuple):
    """The signed fields of a record, decoded from its header bytes."""

    author: bytes
    seq: int
    prev: bytes | None
    time: int
    kind: str
    audience: tuple[bytes, ...]
    content_hash: bytes

    def to_wire(self) -> list[Any]:
        return [
            DOMAIN_TAG,
            self.author,
            self.seq,
            self.prev,
            self.time,
            self.kind,
            list(self.audience),
            self.content_hash,
        ]

    def readable_by(self, reader: bytes) -> bool:
        """Whether ``reader`` (a public key) may receive the content."""
        return not self.audience or reader in self.audience or reader == self.author


_UNREAD = object()  # a Record's content not decoded yet


@dataclass(slots=True, eq=False)
class Record:
    """A verified record: its exact envelope bytes, and its content if carried.

    Instances come from ``sign_record``, ``open_envelope`` or ``open_entry``;
    all three verify the signature, so holding a ``Record`` means holding a
    record its author signed. ``content`` is ``None`` for a stub. Treat it as
    immutable (it is not frozen only because that costs on the hot path).
    """

    envelope: bytes
    header_bytes: bytes
    signature: bytes
    header: Header
    id: bytes
    content: bytes | None = None
    # The content as decoded when it was checked, so that ``body`` does not decode it again.
    decoded: Any = field(default=_UNREAD, repr=False)

    @property
    def is_stub(self) -> bool:
        return self.content is None

    def entry(self) -> bytes:
        """The log entry bytes: ``[envelope, content | nil]``."""
        return canonical.encode([self.envelope, self.content])

    def stub(self) -> "Record":
        """The same record without its content (what a non-reader receives)."""
        return Record(self.envelope, self.header_bytes, self.signature, self.header, self.id, None)

    def with_content(self, content: bytes) -> "Record":
        """Attach content received apart from the header, checking its hash."""
        value = _check_content(self.header, content)
        return Record(self.envelope, self.header_bytes, self.signature, self.header, self.id, content, value)

    def body(self) -> Any:
        """The content decoded and validated against the model of its kind."""
        if self.content is None:
            raise RecordInvalid(Reason.BAD_ENTRY, "this record is a stub: no content")
        value = self.decoded if self.decoded is not _UNREAD else canonical.decode(self.content, max_size=MAX_CONTENT)
        return parse_body(self.header.kind, value)


def sign_record(
    key: SigningKey,
    *,
    seq: int,
    prev: bytes | None,
    time: int,
    kind: str,
    content: Any,
    audience: tuple[bytes, ...] | list[bytes] = (),
) -> Record:
    """Sign a new record. ``content`` is canonical bytes or a value to encode."""
    content_bytes = content if isinstance(content, bytes) else canonical.encode(content)
    header = Header(
        author=key.public.raw,
        seq=seq,
        prev=prev,
        time=time,
        kind=kind,
        audience=tuple(sorted(audience)),
        content_hash=hashlib.sha256(content_bytes).digest(),
    )
    _check_header_fields(header)
    if len(content_bytes) > MAX_CONTENT:
        raise EncodingError(Reason.TOO_LARGE, f"content of {len(content_bytes)} bytes")
    header_bytes = canonical.encode(header.to_wire())
    if len(header_bytes) > MAX_HEADER:
        raise EncodingError(Reason.TOO_LARGE, f"header of {len(header_bytes)} bytes")
    signature = key.sign(header_bytes)
    envelope = canonical.encode([ENVELOPE_VERSION, header_bytes, signature])
    record_id = hashlib.sha256(header_bytes).digest()
    if isinstance(content, bytes):  # bytes from elsewhere: canonical, or refused
        return Record(envelope, header_bytes, signature, header, record_id, content_bytes,
                      _check_content(header, content_bytes))  # fmt: skip
    return Record(envelope, header_bytes, signature, header, record_id, content_bytes)  # encoded here: canonical


def open_envelope(envelope: bytes) -> Record:
    """Decode and verify envelope bytes; the result is a stub.

    Checks, in this order: canonical form of the envelope, its version and
    shape, canonical form and rules of the header, the author key, the
    signature. Raises a ``ProtocolError`` naming the first failure.
    """
    value = canonical.decode(envelope, max_size=MAX_ENVELOPE)
    if not isinstance(value, list) or not value or type(value[0]) is not int:
        raise RecordInvalid(Reason.BAD_ENVELOPE, "an envelope is an array starting with its version")
    if value[0] != ENVELOPE_VERSION:
        raise RecordInvalid(Reason.UNKNOWN_VERSION, f"envelope version {value[0]}")
    if len(value) != 3 or not isinstance(value[1], bytes) or not isinstance(value[2], bytes):
        raise RecordInvalid(Reason.BAD_ENVELOPE, "an envelope is [1, header: bin, signature: bin]")
    header_bytes, signature = value[1], value[2]
    if len(signature) != SIGNATURE_SIZE:
        raise RecordInvalid(Reason.BAD_ENVELOPE, "a signature is 64 bytes")
    header = _parse_header(header_bytes)
    PublicKey.from_bytes(header.author).verify(signature, header_bytes)
    return Record(envelope, header_bytes, signature, header, hashlib.sha256(header_bytes).digest())


def split_entry(entry: bytes) -> tuple[bytes, bytes | None]:
    """Step 1 of checking an entry: its envelope bytes and its content (``None``: a stub)."""
    value = canonical.decode(entry, max_size=MAX_ENTRY)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], bytes)
        or not (value[1] is None or isinstance(value[1], bytes))
    ):
        raise RecordInvalid(Reason.BAD_ENTRY, "an entry is [envelope: bin, content: bin | nil]")
    return value[0], value[1]


def open_entry(entry: bytes) -> Record:
    """Decode and verify a log entry; the record keeps its content if carried."""
    envelope, content = split_entry(entry)
    record = open_envelope(envelope)
    return record if content is None else record.with_content(content)


def stored_header(envelope: bytes) -> Header:
    """The header of envelope bytes this node verified when it stored them.

    No signature check: only for bytes read back from one's own store, where
    verifying again would cost a signature check per record served.
    """
    value = canonical.decode(envelope, max_size=MAX_ENVELOPE)
    return _parse_header(value[1])


RECORD_FILE_MAGIC = b"maillon-record/1\n"


def write_record_file(record: Record) -> bytes:
    """A signed document: one record with its content, verifiable on its own."""
    if record.content is None:
        raise RecordInvalid(Reason.BAD_ENTRY, "a signed document carries its content")
    return RECORD_FILE_MAGIC + record.entry()


def read_record_file(data: bytes) -> Record:
    """Open a signed document: entry checks, then its body against its kind.

    A stub is refused (``bad_entry``) with the entry's shape, before its
    envelope is read: a stub with a bad signature is ``bad_entry`` too.
    """
    if not data.startswith(RECORD_FILE_MAGIC):
        raise RecordInvalid(Reason.BAD_ENTRY, "not a signed document (magic line missing)")
    envelope, content = split_entry(data[len(RECORD_FILE_MAGIC) :])
    if content is None:
        raise RecordInvalid(Reason.BAD_ENTRY, "a signed document carries its content")
    record = open_envelope(envelope).with_content(content)
    record.body()
    return record


def _check_content(header: Header, content: bytes) -> Any:
    """Check ``content`` against the header (size, hash, canonical form); return it decoded."""
    if len(content) > MAX_CONTENT:
        raise EncodingError(Reason.TOO_LARGE, f"content of {len(content)} bytes")
    if hashlib.sha256(content).digest() != header.content_hash:
        raise RecordInvalid(Reason.CONTENT_MISMATCH, "content does not match the header's hash")
    return canonical.decode(content, max_size=MAX_CONTENT)


def _parse_header(header_bytes: bytes) -> Header:
    value = canonical.decode(header_bytes, max_size=MAX_HEADER)
    if not isinstance(value, list) or not value or not isinstance(value[0], str):
        raise RecordInvalid(Reason.BAD_HEADER, "a header is an array starting with its domain tag")
    if value[0] != DOMAIN_TAG:
        raise RecordInvalid(Reason.WRONG_DOMAIN, f"domain tag {value[0]!r}")
    if len(value) != 8:
        raise RecordInvalid(Reason.BAD_HEADER, f"a header has 8 fields, not {len(value)}")
    _, author, seq, prev, time, kind, audience, content_hash = value
    if not isinstance(audience, list):
        raise RecordInvalid(Reason.BAD_HEADER, "audience is an array")
    header = Header(author, seq, prev, time, kind, tuple(audience), content_hash)
    _check_header_fields(header)
    return header


def _check_header_fields(h: Header) -> None:
    def bad(message: str) -> ProtocolError:
        return RecordInvalid(Reason.BAD_HEADER, message)

    if not _is_hash(h.author):
        raise bad("author is a 32-byte key")
    if type(h.seq) is not int or not 1 <= h.seq <= MAX_SEQ:
        raise bad("seq is an integer from 1")
    if h.seq == 1:
        if h.prev is not None:
            raise bad("the first record of a log has prev nil")
    elif not _is_hash(h.prev):
        raise bad("prev is the 32-byte id of the previous record")
    if type(h.time) is not int or not 0 <= h.time <= MAX_TIME:
        raise bad("time is a non-negative integer of milliseconds")
    if type(h.kind) is not str or h.kind not in _good_kinds:
        if not isinstance(h.kind, str) or not _KIND.fullmatch(h.kind):
            raise bad("kind is name/version, e.g. lot.offer/1")
        if len(_good_kinds) < 1024:
            _good_kinds.add(h.kind)
    audience = h.audience
    if audience:
        if len(audience) > MAX_AUDIENCE or not all(_is_hash(k) for k in audience):
            raise bad(f"audience is at most {MAX_AUDIENCE} 32-byte keys")
        if any(a >= b for a, b in zip(audience, audience[1:])):
            raise bad("audience keys are sorted and distinct")
    if not _is_hash(h.content_hash):
        raise bad("content hash is 32 bytes")


_good_kinds: set[str] = set()


def _is_hash(value: object) -> bool:
    return type(value) is bytes and len(value) == _HASH_SIZE
