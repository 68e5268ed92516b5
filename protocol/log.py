"""One author's append-only log: chaining rules and the log export format.

``LogVerifier`` checks records one at a time as they arrive (a pull, a push,
a file) and keeps what it needs to judge the next one. ``read_log`` and
``write_log`` handle the export format of PROTOCOL.md, section "Log export":

    "maillon-log/1\\n"  then frames:  u32 big-endian length ‖ entry bytes
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from protocol.errors import EncodingError, LogBroken, ProtocolError, Reason, RecordInvalid
from protocol.keys import node_id
from protocol.records import MAX_ENTRY, Record, open_envelope, split_entry

__all__ = [
    "LOG_MAGIC",
    "LogVerifier",
    "Problem",
    "LogReport",
    "write_log",
    "read_log",
    "verify_log",
]

LOG_MAGIC = b"maillon-log/1\n"
_LENGTH = struct.Struct(">I")


class LogVerifier:
    """Checks that records extend one author's log: seq 1, 2, 3... chained by prev.

    ``add`` returns ``True`` for a record that extends the log, ``False`` for
    an exact duplicate (a no-op), and raises ``LogBroken`` otherwise:
    ``wrong_author``, ``fork`` (same seq, other id: the author is frozen and
    every later record is refused with ``fork``), ``gap`` (any seq but the
    next one that is not held, below the head too), ``bad_prev``.
    """

    def __init__(self, author: bytes | None = None, *, after: tuple[int, bytes] | None = None) -> None:
        self.author = author
        self.ids: dict[int, bytes] = {}
        self.last_seq = 0
        self.last_id: bytes | None = None
        self.forked = False
        if after is not None:
            # Resume after a trusted point (what the store already holds).
            self.last_seq, self.last_id = after
            self.ids[self.last_seq] = self.last_id

    def add(self, record: Record) -> bool:
        header = record.header
        if self.author is None:
            self.author = header.author
        elif header.author != self.author:
            raise LogBroken(Reason.WRONG_AUTHOR, "record of another author")
        if self.forked:
            raise LogBroken(Reason.FORK, "author is frozen after a fork")
        known = self.ids.get(header.seq)
        if known is not None:
            if known == record.id:
                return False
            self.forked = True
            raise LogBroken(Reason.FORK, f"two records with seq {header.seq}")
        if header.seq <= self.last_seq:
            # Not held, below the head (a resumed verifier, or a file read on past a gap): nothing
            # to check it against, and no proof of misbehaviour either, so not a fork.
            raise LogBroken(Reason.GAP, f"seq {header.seq} is not held, below the last accepted {self.last_seq}")
        if header.seq != self.last_seq + 1:
            missing = range(self.last_seq + 1, header.seq)
            raise LogBroken(Reason.GAP, f"missing seq {missing[0]}" + (f" to {missing[-1]}" if len(missing) > 1 else ""))
        if header.prev != self.last_id:
            raise LogBroken(Reason.BAD_PREV, "prev is not the id of the previous record")
        self.ids[header.seq] = record.id
        self.last_seq, self.last_id = header.seq, record.id
        return True

    def skip_to(self, record: Record) -> None:
        """Take ``record`` as the new head after a reported gap above it (file reading)."""
        if record.header.seq <= self.last_seq:
            return  # a gap below the head leaves the head where it is
        self.ids[record.header.seq] = record.id
        self.last_seq, self.last_id = record.header.seq, record.id


@dataclass(frozen=True, slots=True)
class Problem:
    """One refused entry of a log file: where, which record, why."""

    index: int
    seq: int | None
    record_id: bytes | None
    reason: Reason
    message: str

    def line(self) -> str:
        seq = "-" if self.seq is None else str(self.seq)
        rid = "-" if self.record_id is None else self.record_id.hex()
        return f"problem entry={self.index} seq={seq} id={rid} reason={self.reason.value} {self.message}"


@dataclass(slots=True)
class LogReport:
    """The outcome of verifying a log file.

    ``entries`` counts the frames read whole; each is exactly one of: valid
    (it extended the log; ``stubs`` counts the stubs among them), a
    duplicate (not in ``valid``), or a problem. ``problems`` may hold one
    more line than that, for a broken file (magic line, framing).
    """

    author: bytes | None = None
    entries: int = 0
    valid: int = 0
    stubs: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        author = "-" if self.author is None else node_id(self.author)
        verdict = "ok" if self.ok else "fail"
        return (
            f"summary entries={self.entries} valid={self.valid} stubs={self.stubs} "
            f"duplicates={self.duplicates} problems={len(self.problems)} "
            f"author={author} verdict={verdict}"
        )


def write_log(records: Iterable[Record]) -> bytes:
    """A log export: the magic line, then one length-prefixed entry per record."""
    parts = [LOG_MAGIC]
    for record in records:
        entry = record.entry()
        parts.append(_LENGTH.pack(len(entry)))
        parts.append(entry)
    return b"".join(parts)


def read_log(data: bytes) -> Iterator[bytes]:
    """Yield the entry bytes of a log export; raise when the framing breaks."""
    if not data.startswith(LOG_MAGIC):
        raise RecordInvalid(Reason.BAD_ENTRY, "not a log export (magic line missing)")
    pos = len(LOG_MAGIC)
    while pos < len(data):
        if pos + _LENGTH.size > len(data):
            raise EncodingError(Reason.MALFORMED, f"truncated frame length at byte {pos}")
        (length,) = _LENGTH.unpack_from(data, pos)
        if length > MAX_ENTRY:
            raise EncodingError(Reason.TOO_LARGE, f"frame of {length} bytes at byte {pos}")
        pos += _LENGTH.size
        if pos + length > len(data):
            raise EncodingError(Reason.MALFORMED, f"truncated frame at byte {pos}")
        yield data[pos : pos + length]
        pos += length


def verify_log(data: bytes, author: bytes | None = None, *, check_bodies: bool = True) -> LogReport:
    """Verify a whole log export, reporting every problem rather than the first.

    Each entry is opened (signature, hashes, and with ``check_bodies`` its
    body against its kind), then chained. After a gap the verifier carries on
    from the record that follows it, so one hole is reported once.
    """
    report = LogReport(author=author)
    chain = LogVerifier(author)
    try:
        for index, entry in enumerate(read_log(data)):
            report.entries += 1
            _check_entry(entry, index, chain, report, check_bodies)
    except ProtocolError as exc:
        report.problems.append(Problem(report.entries, None, None, exc.code, exc.message))
    report.author = chain.author
    return report


def _check_entry(entry: bytes, index: int, chain: LogVerifier, report: LogReport, check_bodies: bool) -> None:
    # A problem line names seq and id once the header is known to be signed by its author
    # (steps 1-5), never from bytes that did not verify.
    record: Record | None = None
    try:
        envelope, content = split_entry(entry)
        record = open_envelope(envelope)
        if content is not None:
            record = record.with_content(content)
        if check_bodies and record.content is not None:
            record.body()
        if chain.add(record):
            report.valid += 1
            report.stubs += record.is_stub
        else:
            report.duplicates += 1
    except ProtocolError as exc:
        seq = record.header.seq if record else None
        rid = record.id if record else None
        report.problems.append(Problem(index, seq, rid, exc.code, exc.message))
        if exc.code is Reason.GAP and record is not None:
            chain.skip_to(record)
