"""Vectors that pin where PROTOCOL.md could be read two ways (issue 15, items a-h).

Part of ``generate.py``, which passes in its keys and record chains:

- signatures a verifier must refuse although some Ed25519 libraries accept
  them (small-order R, non-canonical R, one only a cofactored check
  accepts), made by a plain Ed25519 signer whose nonce is chosen on purpose;
- a ``bad_content`` case for each of the 16 kinds, calendar dates and
  periods included, and the cases a reader must accept (``accepted``);
- signed documents, valid and refused;
- log exports with the exact problem lines and summary they give.

Every expected reason is written here by hand from PROTOCOL.md, never read
back from the implementation.
"""

from __future__ import annotations

import hashlib
from typing import Any

from protocol import _edwards as ed
from protocol import canonical
from protocol.keys import SigningKey, fingerprint, node_id
from protocol.log import LOG_MAGIC
from protocol.records import RECORD_FILE_MAGIC, Record

T0 = 1_700_000_000_000
IDENTITY = bytes([1]) + bytes(31)
ORDER_8 = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
ORDER_2 = bytes.fromhex("ec" + "ff" * 30 + "7f")
IDENTITY_NEGATIVE_ZERO = bytes([1]) + bytes(30) + b"\x80"  # x = 0 with the sign bit set
IDENTITY_Y_P_PLUS_1 = bytes.fromhex("ee" + "ff" * 30 + "7f")  # y = p + 1, which is 1 mod p

Case = tuple[str, str, list[bytes], bytes, bytes | None, str]  # name, reason, context, entry, author, note


# ---------------------------------------------------------------- Ed25519 with a chosen nonce

def secret_scalar(seed: bytes) -> int:
    """RFC 8032 5.1.5: the clamped first half of SHA-512(seed)."""
    digest = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(digest[:32], "little")
    return (scalar & ((1 << 254) - 8)) | (1 << 254)


def sign_with_nonce(key: SigningKey, message: bytes, *, nonce: int, torsion: bytes | None = None,
                    r_bytes: bytes | None = None) -> bytes:
    """An Ed25519 signature whose R is [nonce]B (plus ``torsion``), or the given bytes ``r_bytes``.

    S = nonce + k·a mod L with k = SHA-512(R ‖ A ‖ M) mod L, as RFC 8032
    5.1.6 computes it; only the choice of R differs from an honest signer.
    """
    if r_bytes is None:
        point = ed.multiply(nonce, ed.BASE)
        if torsion is not None:
            point = ed.add(point, ed.decode_point(torsion))
        r_bytes = ed.encode_point(point)
    k = int.from_bytes(hashlib.sha512(r_bytes + key.public.raw + message).digest(), "little") % ed.L
    s = (nonce + k * secret_scalar(key.seed)) % ed.L
    return r_bytes + s.to_bytes(32, "little")


def cofactored_accepts(public: bytes, message: bytes, signature: bytes) -> bool:
    """[8][S]B = [8]R + [8][k]A, R and A decoded leniently (y mod p): the most permissive check."""
    r_point, a_point = _lenient(signature[:32]), _lenient(public)
    s = int.from_bytes(signature[32:], "little")
    if r_point is None or a_point is None or s >= ed.L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % ed.L
    left = ed.multiply(8 * s, ed.BASE)
    right = ed.multiply(8, ed.add(r_point, ed.multiply(k, a_point)))
    return ed.encode_point(left) == ed.encode_point(right)


def _lenient(encoded: bytes) -> ed.Point | None:
    value = int.from_bytes(encoded, "little")
    y, sign = (value & ((1 << 255) - 1)) % ed.P, value >> 255
    return ed.decode_point((y | sign << 255).to_bytes(32, "little")) or (
        ed.decode_point(y.to_bytes(32, "little")) if y in (1, ed.P - 1) else None  # x = 0 "negative zero"
    )


def signature_vectors(keys: dict[str, SigningKey]) -> list[dict[str, Any]]:
    """keys.json "signatures": raw Ed25519 verdicts under the rule of "Keys and identity"."""
    key = keys["hub"]
    message = b"maillon signature vector"
    nonce = int.from_bytes(hashlib.sha512(b"maillon vector nonce").digest(), "little") % ed.L
    honest = key.sign(message)
    s_plus_l = honest[:32] + (int.from_bytes(honest[32:], "little") + ed.L).to_bytes(32, "little")
    cases = [
        ("honest", honest, None, "RFC 8032 signature by the key"),
        ("chosen_nonce", sign_with_nonce(key, message, nonce=nonce), None,
         "R = [r]B for a nonce chosen by the signer: any nonce but 0 gives a valid signature"),
        ("s_not_reduced", s_plus_l, "bad_signature", "the honest signature with S + L: S >= L"),
        ("r_identity", sign_with_nonce(key, message, nonce=0, r_bytes=IDENTITY), "bad_signature",
         "nonce 0: R = identity (01 00...00), S = k·a; [S]B = R + [k]A holds, and OpenSSL accepts it; "
         "R of small order is refused"),
        ("r_identity_negative_zero", sign_with_nonce(key, message, nonce=0, r_bytes=IDENTITY_NEGATIVE_ZERO),
         "bad_signature", "R = the identity with the sign bit set (x = 0): non-canonical and of small order; "
         "a verifier that decodes R leniently and compares points accepts it"),
        ("r_identity_y_p_plus_1", sign_with_nonce(key, message, nonce=0, r_bytes=IDENTITY_Y_P_PLUS_1),
         "bad_signature", "R = ee ff...ff 7f, y = p + 1: a non-canonical encoding of the identity; "
         "a verifier that reduces y mod p and compares points accepts it"),
        ("r_order_2", sign_with_nonce(key, message, nonce=0, r_bytes=ORDER_2), "bad_signature",
         "R of order 2, S = k·a: only a cofactored check accepts it"),
        ("r_order_8", sign_with_nonce(key, message, nonce=0, r_bytes=ORDER_8), "bad_signature",
         "R of order 8, S = k·a: only a cofactored check accepts it"),
        ("r_mixed_order", sign_with_nonce(key, message, nonce=nonce, torsion=ORDER_8), "bad_signature",
         "R = [r]B + T, T of order 8, S = r + k·a: R is canonical and not of small order, "
         "[S]B - [k]A = R - T; only a cofactored check accepts it"),
    ]
    vectors = []
    for name, signature, reason, why in cases:
        vectors.append({"name": name, "key": "hub", "public": key.public.raw.hex(), "message": message.hex(),
                        "signature": signature.hex(), "reason": reason,
                        "cofactored_accepts": cofactored_accepts(key.public.raw, message, signature), "why": why})
    assert [v["cofactored_accepts"] for v in vectors] == [True, True, False] + [True] * 6
    return vectors


# ---------------------------------------------------------------- records

def _header(author: bytes, kind: str, content: bytes, *, seq: int = 1, prev: bytes | None = None,
            audience: list[bytes] | None = None, time: int = T0) -> bytes:
    return canonical.encode(["maillon/record/v1", author, seq, prev, time, kind, audience or [],
                             hashlib.sha256(content).digest()])


def _entry(header: bytes, signature: bytes, content: bytes | None) -> bytes:
    return canonical.encode([canonical.encode([1, header, signature]), content])


def signature_cases(keys: dict[str, SigningKey]) -> list[Case]:
    """Records of the hub whose signature only some libraries accept: all ``bad_signature``."""
    key = keys["hub"]
    content = canonical.encode({"offer": bytes(32)})
    header = _header(key.public.raw, "lot.accept/1", content)
    nonce = int.from_bytes(hashlib.sha512(b"maillon record nonce").digest(), "little") % ed.L
    cases = [
        ("signature_r_identity", sign_with_nonce(key, header, nonce=0, r_bytes=IDENTITY),
         "nonce 0: R = identity, S = k·a, the equation holds; R of small order → bad_signature"),
        ("signature_r_non_canonical", sign_with_nonce(key, header, nonce=0, r_bytes=IDENTITY_Y_P_PLUS_1),
         "R = ee ff...ff 7f (y = p + 1): the identity, not canonically encoded"),
        ("signature_r_order_8", sign_with_nonce(key, header, nonce=0, r_bytes=ORDER_8),
         "R of order 8, S = k·a: a cofactored check accepts it"),
        ("signature_only_cofactored", sign_with_nonce(key, header, nonce=nonce, torsion=ORDER_8),
         "R = [r]B + T (T of order 8), S = r + k·a: only a cofactored check accepts it"),
    ]
    return [(name, "bad_signature", [], _entry(header, signature, content), None, note)
            for name, signature, note in cases]


def content_cases(keys: dict[str, SigningKey], hub: list[Record], member: list[Record]) -> list[Case]:
    """A body that breaks its kind, for each of the 16 kinds: ``bad_content`` (seq 1, signed by the hub)."""
    key = keys["hub"]
    other = keys["member"].public.raw
    by_kind: dict[str, dict[str, Any]] = {}
    for record in hub + member:  # the first record of each kind
        by_kind.setdefault(record.header.kind, canonical.decode(record.content))
    rid = [hashlib.sha256(b"record %d" % n).digest() for n in range(3)]

    def changed(kind: str, **fields: Any) -> dict[str, Any]:
        body = dict(by_kind[kind], **fields)
        return {k: v for k, v in body.items() if v is not None}

    fate = {"gid": "01890a5d-ac96-7ab0-9c1e-000000000001", "fate": "distributed", "time": T0, "to": other}
    offer = by_kind["lot.offer/1"]
    bodies: list[tuple[str, str, dict[str, Any], str]] = [
        ("descriptor_unknown_role", "node.descriptor/1", changed("node.descriptor/1", role="observer"), ""),
        ("certificate_empty_validity", "membership.certificate/1",
         changed("membership.certificate/1", valid_until=T0, valid_from=T0), "valid_until equals valid_from"),
        ("convention_hubs_unsorted", "peering.convention/1",
         changed("peering.convention/1", hubs=sorted(by_kind["peering.convention/1"]["hubs"], reverse=True)), ""),
        ("rotation_short_key", "key.rotation/1", changed("key.rotation/1", new_key=bytes(31)), "31 bytes"),
        ("revocation_seq_zero", "key.revocation/1", changed("key.revocation/1", from_seq=0), ""),
        ("offer_item_twice", "lot.offer/1",
         dict(offer, items=[offer["items"][0], offer["items"][0], offer["items"][2]]), "the same gid twice"),
        ("accept_unknown_field", "lot.accept/1", {"offer": rid[0], "price": 0}, "bodies are closed"),
        ("decline_reason_not_a_code", "lot.decline/1", changed("lot.decline/1", reason="No capacity"), ""),
        ("cancel_without_offer", "lot.cancel/1", {"reason": "donor_withdrew"}, "offer is required"),
        ("receipt_damaged_not_received", "lot.receipt/1",
         changed("lot.receipt/1", damaged=by_kind["lot.receipt/1"]["missing"]), "damaged ⊄ received"),
        ("fates_to_without_transfer", "item.fates/1", {"fates": [fate]},
         "to is given only with the fate transferred"),
        ("stats_period_month_13", "stats.report/1", changed("stats.report/1", period="2023-13"), ""),
        ("stats_period_year_0000", "stats.report/1", changed("stats.report/1", period="0000"),
         "no calendar has a year 0000"),
        ("stats_version_1_supersedes", "stats.report/1", changed("stats.report/1", supersedes=rid[0]),
         "version 1 supersedes nothing"),
        ("summary_reports_unsorted", "regional.summary/1",
         changed("regional.summary/1", reports=[max(rid), min(rid)]), "reports in descending byte order"),
        ("summary_missing_twice", "regional.summary/1", changed("regional.summary/1", missing=[other, other]), ""),
        ("summary_period_year_0000", "regional.summary/1", changed("regional.summary/1", period="0000-Q3"), ""),
        ("summary_version_1_supersedes", "regional.summary/1",
         changed("regional.summary/1", supersedes=rid[1]), ""),
        ("summary_2_withheld_figure_given", "regional.summary/2",
         changed("regional.summary/2", withheld=["received.laptop.units"]), "a withheld figure is not in figures"),
        ("summary_2_own_among_reports", "regional.summary/2",
         changed("regional.summary/2", own=by_kind["regional.summary/2"]["reports"][0]),
         "own is the hub's report, not a member's"),
        ("summary_2_without_min_members", "regional.summary/2", changed("regional.summary/2", min_members=None),
         "min_members is required"),
        ("checkpoint_short_root", "log.checkpoint/1", changed("log.checkpoint/1", root=bytes(31)), ""),
        ("donor_report_february_30", "donor.report/1",
         changed("donor.report/1", period_from="2026-02-30", period_to="2026-12-31"), "no 30 February"),
        ("donor_report_february_29_2025", "donor.report/1",
         changed("donor.report/1", period_from="2025-01-01", period_to="2025-02-29"), "2025 is not a leap year"),
        ("donor_report_year_0000", "donor.report/1",
         changed("donor.report/1", period_from="0000-01-01"), "no calendar has a year 0000"),
        ("donor_report_ends_before_start", "donor.report/1",
         changed("donor.report/1", period_from="2023-12-31", period_to="2023-01-01"), ""),
    ]
    cases = []
    for name, kind, body, note in bodies:
        content = canonical.encode(body)
        header = _header(key.public.raw, kind, content)
        cases.append((f"content_{name}", "bad_content", [], _entry(header, key.sign(header), content), None, note))
    assert {kind for _, kind, _, _ in bodies} == set(by_kind)
    return cases


def accepted_vectors(keys: dict[str, SigningKey]) -> list[dict[str, Any]]:
    """Records a reader must accept: rules PROTOCOL.md states as allowed, and calendar edges."""
    key = keys["hub"]
    me, other = key.public.raw, keys["member"].public.raw
    bodies: list[tuple[str, str, dict[str, Any], list[bytes], str]] = [
        ("author_alone_in_its_audience", "lot.accept/1", {"offer": bytes(32)}, [me],
         "a record private to its author: an empty audience would make it public"),
        ("author_among_its_audience", "lot.accept/1", {"offer": bytes(32)}, sorted([me, other]), ""),
        ("transfer_outside_the_federation", "item.fates/1",
         {"fates": [{"gid": "01890a5d-ac96-7ab0-9c1e-000000000001", "fate": "transferred", "time": T0}]}, [],
         "a transferred fate without to: the item left for someone who has no key"),
        ("transfer_to_a_node", "item.fates/1",
         {"fates": [{"gid": "01890a5d-ac96-7ab0-9c1e-000000000001", "fate": "transferred", "time": T0,
                     "to": other}]}, [], ""),
        ("version_2_without_supersedes", "stats.report/1", {"period": "2023-Q4", "version": 2, "figures": {}}, [],
         "from version 2 on supersedes is optional"),
        ("period_year_0001", "stats.report/1", {"period": "0001", "version": 1, "figures": {}}, [], ""),
        ("period_9999_q4", "regional.summary/1",
         {"period": "9999-Q4", "version": 1, "figures": {}, "reports": [], "missing": []}, [], ""),
        ("summary_2_without_own", "regional.summary/2",
         {"period": "2023", "version": 1, "figures": {}, "reports": [], "missing": [], "pooled": [], "withheld": [],
          "min_members": 1}, [], "a hub that signed no report of its own"),
        ("donor_report_leap_day", "donor.report/1",
         {"donor": "Lycée", "lots": [], "period_from": "2024-02-29", "period_to": "9999-12-31", "items": []}, [],
         "2024 is a leap year; 9999-12-31 is the last day"),
    ]
    vectors = []
    for name, kind, body, audience, note in bodies:
        content = canonical.encode(body)
        header = _header(me, kind, content, audience=audience)
        vectors.append({"name": name, "entry": _entry(header, key.sign(header), content).hex(), "note": note})
    return vectors


# ---------------------------------------------------------------- signed documents

def document_vectors(keys: dict[str, SigningKey], hub: list[Record]) -> dict[str, Any]:
    """Signed documents ("Signed document"): files to open, or to refuse with a reason."""
    report = next(r for r in hub if r.header.kind == "donor.report/1")
    assert report.content is not None
    envelope = report.envelope
    good = RECORD_FILE_MAGIC + report.entry()
    flipped = bytearray(report.signature)
    flipped[5] ^= 0x01
    bad_signature_envelope = canonical.encode([1, report.header_bytes, bytes(flipped)])
    tampered = bytearray(report.content)
    tampered[-1] ^= 0x01
    key = keys["hub"]
    wrong_day = dict(canonical.decode(report.content), period_from="2023-02-30")
    wrong_content = canonical.encode(wrong_day)
    header = _header(key.public.raw, "donor.report/1", wrong_content)
    teleport = canonical.encode({"offer": bytes(32)})
    unknown = _header(key.public.raw, "lot.teleport/1", teleport)
    invalid = [
        ("no_magic_line", report.entry(), "bad_entry", "the entry alone"),
        ("log_export_magic", LOG_MAGIC + report.entry(), "bad_entry", "another file's magic line"),
        ("stub", RECORD_FILE_MAGIC + report.stub().entry(), "bad_entry", "a document carries its content"),
        ("stub_with_bad_signature", RECORD_FILE_MAGIC + canonical.encode([bad_signature_envelope, None]),
         "bad_entry", "a stub is refused with the entry's shape, before its signature is checked"),
        ("bad_signature", RECORD_FILE_MAGIC + canonical.encode([bad_signature_envelope, report.content]),
         "bad_signature", ""),
        ("content_mismatch", RECORD_FILE_MAGIC + canonical.encode([envelope, bytes(tampered)]),
         "content_mismatch", ""),
        ("bad_content", RECORD_FILE_MAGIC + _entry(header, key.sign(header), wrong_content), "bad_content",
         "period_from 2023-02-30"),
        ("unknown_kind", RECORD_FILE_MAGIC + _entry(unknown, key.sign(unknown), teleport), "unknown_kind",
         "a document must be understood: steps 1 to 7"),
        ("trailing_bytes", good + b"\n", "trailing_bytes", "a line feed after the entry"),
        ("nothing_after_magic", RECORD_FILE_MAGIC, "malformed", ""),
    ]
    return {
        "valid": [{"name": "donor_report", "file": good.hex(), "kind": report.header.kind,
                   "author": node_id(report.header.author), "fingerprint": fingerprint(report.header.author),
                   "seq": report.header.seq, "time": report.header.time, "id": report.id.hex()}],
        "invalid": [{"name": name, "file": data.hex(), "reason": reason, "note": note}
                    for name, data, reason, note in invalid],
    }


# ---------------------------------------------------------------- log exports

def log_export_vectors(keys: dict[str, SigningKey], hub: list[Record], member: list[Record]) -> list[dict[str, Any]]:
    """Log exports with the exact output of ``maillon log verify`` (each problem line up to its reason)."""
    key = keys["hub"]
    e = [r.entry() for r in hub]
    flipped = bytearray(hub[1].signature)
    flipped[5] ^= 0x01
    bad_signature = canonical.encode([canonical.encode([1, hub[1].header_bytes, bytes(flipped)]), hub[1].content])
    tampered = canonical.encode([hub[1].envelope, hub[1].content[:-1] + bytes([hub[1].content[-1] ^ 1])])
    fork_content = canonical.encode({"offer": bytes(32)})
    fork_header = _header(key.public.raw, "lot.accept/1", fork_content, seq=2, prev=hub[0].id, time=T0 + 1)
    fork = _entry(fork_header, key.sign(fork_header), fork_content)
    fork_id = hashlib.sha256(fork_header).digest()
    limit = 4_194_304 + 8192
    hub_key = key.public.raw

    def named(record: Record) -> tuple[int, bytes]:
        return record.header.seq, record.id

    # name, --author, file, problems (entry index, (seq, id) once the header verified, reason),
    # (entries, valid, stubs, duplicates), note
    cases: list[tuple[str, bytes | None, bytes, list[tuple[int, tuple[int, bytes] | None, str]],
                      tuple[int, int, int, int], str]] = [
        ("empty", None, LOG_MAGIC, [], (0, 0, 0, 0), "no record: no problem, author -"),
        ("no_magic_line", None, b"maillon-log/2\n" + _frame(e[0]), [(0, None, "bad_entry")], (0, 0, 0, 0),
         "nothing more is read"),
        ("truncated_length", None, LOG_MAGIC + _frame(e[0]) + b"\x00\x00", [(1, None, "malformed")],
         (1, 1, 0, 0), "2 bytes where a length of 4 is expected"),
        ("truncated_entry", None, LOG_MAGIC + _frame(e[0]) + _frame(e[1])[:-1], [(1, None, "malformed")],
         (1, 1, 0, 0), "the last frame lacks one byte"),
        ("length_over_limit", None, LOG_MAGIC + (limit + 1).to_bytes(4, "big") + e[0],
         [(0, None, "too_large")], (0, 0, 0, 0), "checked before the bytes left: the frame is not read"),
        ("empty_frame", None, LOG_MAGIC + _frame(e[0]) + _frame(b"") + _frame(e[1]), [(1, None, "malformed")],
         (3, 2, 0, 0), "a frame of length 0 is an entry that does not decode; reading goes on"),
        ("duplicates_and_stubs", None,
         LOG_MAGIC + _frame(e[0]) + _frame(hub[1].stub().entry()) + _frame(e[1]) + _frame(e[2]), [], (4, 3, 1, 1),
         "the full copy of seq 2 after its stub is a duplicate: counted in duplicates, not in valid"),
        ("lower_seq_after_gap", None, LOG_MAGIC + _frame(e[0]) + _frame(e[2]) + _frame(e[1]) + _frame(e[3]),
         [(1, named(hub[2]), "gap"), (2, named(hub[1]), "gap")], (4, 2, 0, 0),
         "seq 3 after 1 is a gap and becomes the last accepted; seq 2, lower and not held, is a gap too "
         "(not a fork: the author is not frozen); seq 4 extends seq 3"),
        ("problems_name_signed_records_only", None,
         LOG_MAGIC + _frame(e[0]) + _frame(bad_signature) + _frame(tampered) + _frame(e[1]),
         [(1, None, "bad_signature"), (2, named(hub[1]), "content_mismatch")], (4, 2, 0, 0),
         "seq and id are printed once the header's signature verified (a problem at step 6, 7 or 8)"),
        ("fork_then_frozen", None, LOG_MAGIC + _frame(e[0]) + _frame(e[1]) + _frame(fork) + _frame(e[2]),
         [(2, (2, fork_id), "fork"), (3, named(hub[2]), "fork")], (4, 2, 0, 0), ""),
        ("wrong_author", hub_key, LOG_MAGIC + _frame(member[0].entry()) + _frame(e[0]),
         [(0, named(member[0]), "wrong_author")], (2, 1, 0, 0), "--author names the hub"),
    ]
    vectors = []
    for name, author, data, problems, (entries, valid, stubs, duplicates), note in cases:
        lines = [f"problem entry={index} seq={'-' if known is None else known[0]} "
                 f"id={'-' if known is None else known[1].hex()} reason={reason}" for index, known, reason in problems]
        shown = author or (hub_key if valid else None)  # every entry here is the hub's
        summary = (f"summary entries={entries} valid={valid} stubs={stubs} duplicates={duplicates} "
                   f"problems={len(problems)} author={'-' if shown is None else node_id(shown)} "
                   f"verdict={'fail' if problems else 'ok'}")
        vectors.append({"name": name, "author": None if author is None else author.hex(), "log_export": data.hex(),
                        "problems": lines, "summary": summary, "note": note})
    return vectors


def _frame(entry: bytes) -> bytes:
    return len(entry).to_bytes(4, "big") + entry
