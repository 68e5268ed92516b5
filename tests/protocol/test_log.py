"""One author's log: seq from 1 by 1, prev chaining, forks, gaps, the export format."""

from __future__ import annotations

import hashlib

import pytest

from protocol.errors import LogBroken, Reason
from protocol.keys import SigningKey
from protocol.log import LOG_MAGIC, LogVerifier, read_log, verify_log, write_log
from protocol.records import Record, sign_record

ALICE = SigningKey.from_seed(hashlib.sha256(b"alice").digest())
BOB = SigningKey.from_seed(hashlib.sha256(b"bob").digest())


def chain(key: SigningKey, n: int, *, start: int = 1, prev: bytes | None = None, salt: str = "") -> list[Record]:
    records = []
    for seq in range(start, start + n):
        record = sign_record(key, seq=seq, prev=prev, time=seq * 1000, kind="lot.accept/1",
                             content={"offer": bytes(32), "note": f"{salt}{seq}"})
        records.append(record)
        prev = record.id
    return records


def test_a_chain_extends_and_duplicates_are_no_ops():
    records = chain(ALICE, 5)
    verifier = LogVerifier()
    assert all(verifier.add(r) for r in records)
    assert verifier.add(records[2]) is False
    assert verifier.last_seq == 5 and verifier.author == ALICE.public.raw


def test_fork_freezes_the_author():
    records = chain(ALICE, 3)
    other = chain(ALICE, 1, start=3, prev=records[1].id, salt="other")[0]
    verifier = LogVerifier()
    for record in records:
        verifier.add(record)
    with pytest.raises(LogBroken) as info:
        verifier.add(other)
    assert info.value.code is Reason.FORK
    later = chain(ALICE, 1, start=4, prev=records[2].id)[0]
    with pytest.raises(LogBroken) as info:
        verifier.add(later)
    assert info.value.code is Reason.FORK


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda r: chain(ALICE, 1, start=3, prev=r[1].id)[0], Reason.GAP),
        (lambda r: chain(ALICE, 1, start=2, prev=bytes(32))[0], Reason.BAD_PREV),
        (lambda r: chain(BOB, 1)[0], Reason.WRONG_AUTHOR),
    ],
)
def test_broken_logs(build, reason):
    records = chain(ALICE, 1)
    verifier = LogVerifier(ALICE.public.raw)
    verifier.add(records[0])
    with pytest.raises(LogBroken) as info:
        verifier.add(build(chain(ALICE, 2)))
    assert info.value.code is reason


def test_resume_after_a_known_head():
    records = chain(ALICE, 4)
    verifier = LogVerifier(ALICE.public.raw, after=(2, records[1].id))
    assert verifier.add(records[2]) and verifier.add(records[3])


def test_a_lower_seq_not_held_is_a_gap_and_freezes_nothing():
    # PROTOCOL.md "Logs", step 4: one rule for any seq but the next that is not held.
    records = chain(ALICE, 4)
    verifier = LogVerifier(ALICE.public.raw, after=(3, records[2].id))
    with pytest.raises(LogBroken) as info:
        verifier.add(records[1])
    assert info.value.code is Reason.GAP and not verifier.forked
    assert verifier.add(records[3]) and verifier.last_seq == 4


def test_export_round_trip():
    records = chain(ALICE, 3)
    data = write_log(records)
    assert data.startswith(LOG_MAGIC)
    assert list(read_log(data)) == [r.entry() for r in records]
    report = verify_log(data)
    assert report.ok and report.valid == 3 and report.author == ALICE.public.raw
    assert report.summary().endswith("verdict=ok")


def test_verify_reports_every_problem_and_carries_on_after_a_gap():
    records = chain(ALICE, 6)
    tampered = records[4].entry()[:-1] + bytes([records[4].entry()[-1] ^ 1])
    data = write_log(records[:2]) + b"".join(
        len(e).to_bytes(4, "big") + e for e in [records[3].entry(), tampered, records[5].entry()]
    )
    report = verify_log(data)
    assert [(p.index, p.reason) for p in report.problems] == [
        (2, Reason.GAP),
        (3, Reason.CONTENT_MISMATCH),
        (4, Reason.GAP),
    ]
    assert report.valid == 2 and not report.ok


def test_stubs_verify_and_are_counted():
    records = chain(ALICE, 3)
    report = verify_log(write_log([records[0], records[1].stub(), records[2]]))
    assert report.ok and report.stubs == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a log", Reason.BAD_ENTRY),
        (LOG_MAGIC + b"\x00\x00", Reason.MALFORMED),
        (LOG_MAGIC + b"\x00\x00\x00\x09abc", Reason.MALFORMED),
        (LOG_MAGIC + b"\xff\xff\xff\xff", Reason.TOO_LARGE),
    ],
)
def test_broken_framing_is_one_problem(data, reason):
    report = verify_log(data)
    assert [p.reason for p in report.problems] == [reason]


def test_empty_export_is_valid():
    assert verify_log(LOG_MAGIC).ok
