"""Write the known-answer vectors of PROTOCOL.md into tests/vectors/*.json.

Deterministic: fixed seeds, fixed times, Ed25519 signatures are
deterministic. Run ``python tests/vectors/generate.py`` after a deliberate
change of the wire format; ``tests/protocol/test_vectors.py`` checks the code
against the committed files and that this script reproduces them exactly.

The vectors of sealed content and signed requests are built in
``federation_vectors.py``, those of the donor's proof in ``custody_vectors.py``. Invalid vectors are built by hand, byte by byte
where needed, and each names the reason code PROTOCOL.md prescribes; the
expected reason is written here, not read back from the implementation.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from protocol import canonical  # noqa: E402
from protocol.keys import SigningKey, fingerprint, node_id  # noqa: E402
from protocol.kinds import KINDS  # noqa: E402
from protocol.log import write_log  # noqa: E402
from protocol.records import Record, open_entry, sign_record  # noqa: E402
from protocol.seal import encryption_key  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from contract_vectors import (  # noqa: E402
    accepted_vectors,
    content_cases,
    document_vectors,
    log_export_vectors,
    signature_cases,
    signature_vectors,
)
from custody_vectors import custody_vectors  # noqa: E402
from federation_vectors import request_vectors, seal_vectors  # noqa: E402
from statistics_vectors import statistics_vectors  # noqa: E402

HERE = Path(__file__).resolve().parent
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z, in milliseconds
IDENTITY_POINT = bytes([1]) + bytes(31)
ORDER_8_POINT = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")


def seed(name: str) -> bytes:
    return hashlib.sha256(b"maillon test vector seed " + name.encode()).digest()


KEYS = {name: SigningKey.from_seed(seed(name)) for name in ("hub", "member", "peer_hub", "national")}


def pub(name: str) -> bytes:
    return KEYS[name].public.raw


def gid(n: int) -> str:
    return f"01890a5d-ac96-7ab0-9c1e-{n:012x}"


def tagged(value: Any) -> Any:
    """A JSON rendition of a msgpack value: bytes as {"bin": hex}, big ints as {"int": str}."""
    if isinstance(value, bytes):
        return {"bin": value.hex()}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else {"int": str(value)}
    if isinstance(value, list):
        return [tagged(v) for v in value]
    return {k: tagged(v) for k, v in value.items()}


# ---------------------------------------------------------------- valid chains

def hub_chain() -> list[Record]:
    hub = KEYS["hub"]
    bodies: list[tuple[str, dict[str, Any], tuple[bytes, ...]]] = [
        ("node.descriptor/1", {"name": "Ordi Grand Ouest", "role": "hub",
                               "endpoints": ["https://hub.example.org"], "network": "Bretagne",
                               "encryption_key": encryption_key(hub)}, ()),
        ("membership.certificate/1", {"member": pub("member"), "member_name": "Atelier Recyclerie",
                                      "role": "member", "network": "Bretagne",
                                      "valid_from": T0, "valid_until": T0 + 365 * 86_400_000}, ()),
        ("peering.convention/1", {"hubs": sorted([pub("hub"), pub("peer_hub")]),
                                  "networks": ["Bretagne", "Bourgogne-Franche-Comté"]
                                  if pub("hub") < pub("peer_hub") else ["Bourgogne-Franche-Comté", "Bretagne"],
                                  "scope": "Lot hand-offs between the two networks",
                                  "valid_from": T0, "valid_until": T0 + 2 * 365 * 86_400_000}, ()),
        ("lot.offer/1", {"lot_ref": "REG-2023-01", "recipient": pub("member"),
                         "items": [{"gid": gid(1), "category": "laptop", "weight_g": 2100,
                                    "erasure": "erased", "serial": "5CG7310ABC", "donor_asset": "RB-00412"},
                                   {"gid": gid(2), "category": "desktop", "weight_g": 7800,
                                    "erasure": "pending", "brand": "Dell", "model": "OptiPlex 7050"},
                                   {"gid": gid(3), "category": "screen", "weight_g": 4500,
                                    "erasure": "not_applicable"}],
                         "units": 3, "weight_g": 14400, "orientations": ["local_only", "no_resale"],
                         "expires": T0 + 14 * 86_400_000, "donor_category": "public_body"},
         (pub("member"),)),
        ("log.checkpoint/1", {"tree_size": 4, "root": hashlib.sha256(b"root of 4").digest()}, ()),
        ("regional.summary/1", {"period": "2023-11", "version": 1,
                                "figures": {"received.laptop.units": 550, "distributed.laptop.units": 412,
                                            "recycled.weight_g": 850_000},
                                "reports": [hashlib.sha256(b"report 1").digest()],
                                "missing": [pub("peer_hub")]}, ()),
        ("key.revocation/1", {"key": pub("national"), "from_seq": 7, "reason": "compromised laptop"}, ()),
        ("donor.report/1", {"donor": "Région Bretagne", "donor_siret": "23350001600040", "lots": ["REG-2023-01"],
                            "period_from": "2023-01-01", "period_to": "2023-12-31", "factor_version": "ademe-2022",
                            "co2e_g": 81_000, "materials_g": 381_000,
                            "items": [{"gid": gid(1), "category": "laptop", "state": "distributed",
                                       "serial": "5CG7310ABC", "donor_asset": "RB-00412",
                                       "fate_time": T0 + 20 * 86_400_000, "beneficiary_category": "person",
                                       "processed_by": "Atelier Recyclerie",
                                       "erasures": [{"method": "PRNG Stream", "level": "clear", "tool": "nwipe 0.34",
                                                     "time": T0 + 86_400_000, "result": "success",
                                                     "disk_serial": "S3Z9NB0K123456"}]},
                                      {"gid": gid(2), "category": "desktop", "state": "recycled",
                                       "fate_time": T0 + 21 * 86_400_000, "erasures": []}]}, ()),
        ("lot.offer/1", {"lot_ref": "REG-2023-02", "recipient": pub("member"),
                         "items": [{"gid": gid(4), "category": "screen", "weight_g": 4200,
                                    "erasure": "not_applicable"}],
                         "units": 1, "weight_g": 4200, "orientations": [], "expires": T0 + 14 * 86_400_000,
                         "note": "un écran de plus"}, (pub("member"),)),
    ]
    # The cancel names the offer above by its id, so it is signed in a second step. Both come last so that
    # every earlier record keeps its bytes.
    records = _chain(hub, bodies, T0)
    cancel = ("lot.cancel/1", {"offer": records[-1].id, "reason": "donor_withdrew",
                               "note": "le donateur garde l'écran"}, (pub("member"),))
    records = _chain(hub, [cancel], T0, records)
    # Version 2 of the summary of 2023-11, in the newer kind: the hub's own report, a figure pooled
    # over members who share theirs with their hub only, one withheld; it supersedes version 1 above.
    summary = next(r for r in records if r.header.kind == "regional.summary/1")
    summary_2 = ("regional.summary/2", {"period": "2023-11", "version": 2, "supersedes": summary.id,
                                        "figures": {"entered.laptop.units": 1350, "received.laptop.units": 550,
                                                    "distributed.laptop.units": 412, "members.reporting": 3,
                                                    "members.missing": 0, "recycled.weight_g": 850_000},
                                        "reports": sorted(hashlib.sha256(b"report %d" % n).digest() for n in (1, 2, 3)),
                                        "missing": [], "own": hashlib.sha256(b"hub's own report").digest(),
                                        "pooled": ["distributed.laptop.units"],
                                        "withheld": ["workforce.volunteers"], "min_members": 3}, ())
    return _chain(hub, [summary_2], T0, records)


def member_chain() -> list[Record]:
    member = KEYS["member"]
    offer_id = hub_chain()[3].id
    bodies: list[tuple[str, dict[str, Any], tuple[bytes, ...]]] = [
        ("node.descriptor/1", {"name": "Atelier Recyclerie", "role": "member", "endpoints": [],
                               "encryption_key": encryption_key(member)}, ()),
        ("lot.accept/1", {"offer": offer_id}, (pub("hub"),)),
        ("lot.receipt/1", {"offer": offer_id, "received": [gid(1), gid(2)], "missing": [gid(3)],
                           "damaged": [gid(2)], "extra": [{"category": "peripheral", "weight_g": 300}],
                           "units_counted": 3, "weight_g": 10_200, "note": "écran manquant"}, (pub("hub"),)),
        ("item.fates/1", {"fates": [{"gid": gid(1), "fate": "distributed", "time": T0 + 20 * 86_400_000,
                                     "beneficiary_category": "person"},
                                    {"gid": gid(2), "fate": "recycled", "time": T0 + 21 * 86_400_000,
                                     "weight_g": 7800}]}, (pub("hub"),)),
        ("stats.report/1", {"period": "2023-11", "version": 1, "factor_version": "ademe-2022",
                            "figures": {"distributed.laptop.units": 1, "recycled.weight_g": 7800,
                                        "impact.co2e_g": 27_000}}, (pub("hub"),)),
        ("lot.decline/1", {"offer": hashlib.sha256(b"another offer").digest(), "reason": "no_capacity",
                           "note": "atelier plein"}, (pub("hub"),)),
        ("key.rotation/1", {"new_key": pub("peer_hub"), "reason": "scheduled rotation"}, ()),
    ]
    return _chain(member, bodies, T0 + 3_600_000)


def _chain(key: SigningKey, bodies, start: int, before: Sequence[Record] = ()) -> list[Record]:
    """``before`` followed by the records of ``bodies``, one minute apart from ``start`` on."""
    records = list(before)
    for kind, body, audience in bodies:
        i, prev = len(records), records[-1].id if records else None
        record = sign_record(key, seq=i + 1, prev=prev, time=start + i * 60_000, kind=kind,
                             content=KINDS[kind].model_validate(body).to_content(), audience=audience)
        records.append(record)
    return records


def describe(name: str, key_name: str, record: Record) -> dict[str, Any]:
    assert record.content is not None
    return {
        "name": name,
        "author_key": key_name,
        "seq": record.header.seq,
        "kind": record.header.kind,
        "time": record.header.time,
        "audience": [a.hex() for a in record.header.audience],
        "body": tagged(canonical.decode(record.content)),
        "content": record.content.hex(),
        "content_hash": record.header.content_hash.hex(),
        "header": record.header_bytes.hex(),
        "signature": record.signature.hex(),
        "id": record.id.hex(),
        "envelope": record.envelope.hex(),
        "entry": record.entry().hex(),
        "stub_entry": record.stub().entry().hex(),
    }


# ---------------------------------------------------------------- invalid

def raw_header(author: bytes, seq: Any, prev: Any, time: Any, kind: Any, audience: Any,
               content: bytes, tag: str = "maillon/record/v1") -> list[Any]:
    return [tag, author, seq, prev, time, kind, audience, hashlib.sha256(content).digest()]


def entry_of(header_bytes: bytes, signature: bytes, content: bytes | None, version: int = 1) -> bytes:
    envelope = canonical.encode([version, header_bytes, signature])
    return canonical.encode([envelope, content])


def signed_entry(key_name: str, header: list[Any] | bytes, content: bytes | None) -> bytes:
    header_bytes = header if isinstance(header, bytes) else canonical.encode(header)
    return entry_of(header_bytes, KEYS[key_name].sign(header_bytes), content)


def invalid_vectors(hub: list[Record], member: list[Record]) -> list[dict[str, Any]]:
    first = hub[0]
    good_content = first.content
    assert good_content is not None
    ctx1 = [first.entry()]
    h = first.header
    cases: list[tuple[str, str, list[bytes], bytes, bytes | None, str]] = []

    def add(name: str, reason: str, entry: bytes, context: list[bytes] = (), author: bytes | None = None,
            note: str = "") -> None:
        cases.append((name, reason, list(context), entry, author, note))

    # Tampered content: one byte of the content changed after signing.
    tampered = bytearray(good_content)
    tampered[-1] ^= 0x01
    add("tampered_content", "content_mismatch", entry_of(first.header_bytes, first.signature, bytes(tampered)),
        note="last content byte flipped; the header still names the original hash")

    bad_sig = bytearray(first.signature)
    bad_sig[10] ^= 0x40
    add("bad_signature", "bad_signature", entry_of(first.header_bytes, bytes(bad_sig), good_content))

    # Signature with S + L: the same signature in a malleated, non-reduced form.
    s = int.from_bytes(first.signature[32:], "little") + 2**252 + 27742317777372353535851937790883648493
    add("signature_s_not_reduced", "bad_signature",
        entry_of(first.header_bytes, first.signature[:32] + s.to_bytes(32, "little"), good_content),
        note="S + L instead of S: RFC 8032 verifiers refuse S >= L")

    forged_header = canonical.encode(raw_header(IDENTITY_POINT, 1, None, T0, "lot.accept/1", [],
                                                canonical.encode({"offer": bytes(32)})))
    add("weak_key_identity_forgery", "weak_key",
        entry_of(forged_header, IDENTITY_POINT + bytes(32), canonical.encode({"offer": bytes(32)})),
        note="author is the identity point, signature R = identity, S = 0: a cofactorless verifier "
             "accepts it for any message; the key must be refused first")
    order8_content = canonical.encode({"offer": bytes(32)})
    add("weak_key_small_order", "weak_key",
        entry_of(canonical.encode(raw_header(ORDER_8_POINT, 1, None, T0, "lot.accept/1", [], order8_content)),
                 bytes(64), order8_content), note="author is a point of order 8")

    # Content that is valid msgpack but not canonical, correctly hashed and signed.
    unsorted = b"\x82" + b"\xa5offer\xc4\x20" + bytes(32) + b"\xa4note\xa2ok"
    add("content_map_unsorted", "non_canonical",
        signed_entry("hub", raw_header(pub("hub"), 1, None, T0, "lot.accept/1", [], unsorted), unsorted),
        note="keys 'offer' then 'note': canonical order sorts by encoded bytes, a4 'note' before a5 'offer'")
    duplicate = b"\x82" + b"\xa5offer\xc4\x20" + bytes(32) + b"\xa5offer\xc4\x20" + bytes(32)
    add("content_duplicate_key", "duplicate_key",
        signed_entry("hub", raw_header(pub("hub"), 1, None, T0, "lot.accept/1", [], duplicate), duplicate))
    floaty = b"\x82" + b"\xa4note\xcb" + bytes(8) + b"\xa5offer\xc4\x20" + bytes(32)
    add("content_float", "forbidden_type",
        signed_entry("hub", raw_header(pub("hub"), 1, None, T0, "lot.accept/1", [], floaty), floaty))
    deep = b"\x91" * 16 + b"\x90"
    add("content_too_deep", "too_deep",
        signed_entry("hub", raw_header(pub("hub"), 1, None, T0, "lot.accept/1", [], deep), deep),
        note="17 nested arrays; 16 is the limit")

    # Header with seq 1 written as uint8 (cc 01) instead of a positive fixint.
    hdr = canonical.encode(raw_header(pub("hub"), 1, None, h.time, h.kind, [], good_content))
    long_int = hdr.replace(b"\xc4\x20" + pub("hub") + b"\x01\xc0", b"\xc4\x20" + pub("hub") + b"\xcc\x01\xc0")
    assert long_int != hdr
    add("header_long_integer", "non_canonical", signed_entry("hub", long_int, good_content),
        note="seq 1 encoded as cc 01")

    add("trailing_bytes", "trailing_bytes", first.entry() + b"\x00", note="one zero byte after the entry")
    add("truncated_entry", "malformed", first.entry()[:-5])
    add("entry_three_items", "bad_entry", canonical.encode([first.envelope, good_content, None]))
    add("unknown_version", "unknown_version", entry_of(first.header_bytes, first.signature, good_content, 2))
    add("wrong_domain_tag", "wrong_domain",
        signed_entry("hub", raw_header(pub("hub"), 1, None, h.time, h.kind, [], good_content,
                                       tag="maillon/record/v0"), good_content))
    big_header = canonical.encode(raw_header(pub("hub"), 1, None, h.time, h.kind, [bytes(32)] * 130, good_content))
    add("oversize_header", "too_large", signed_entry("hub", big_header, good_content),
        note=f"header of {len(big_header)} bytes; the limit is 4096")
    add("seq_zero", "bad_header",
        signed_entry("hub", raw_header(pub("hub"), 0, None, h.time, h.kind, [], good_content), good_content))
    add("first_record_with_prev", "bad_header",
        signed_entry("hub", raw_header(pub("hub"), 1, bytes(32), h.time, h.kind, [], good_content), good_content))
    add("audience_unsorted", "bad_header",
        signed_entry("hub", raw_header(pub("hub"), 1, None, h.time, h.kind,
                                       sorted([pub("member"), pub("peer_hub")], reverse=True), good_content),
                     good_content))
    teleport = canonical.encode({"offer": bytes(32)})
    add("unknown_kind", "unknown_kind",
        signed_entry("hub", raw_header(pub("hub"), 1, None, T0, "lot.teleport/1", [], teleport), teleport))
    nil_note = canonical.encode({"note": None, "offer": bytes(32)})
    add("optional_field_as_nil", "bad_content",
        signed_entry("hub", raw_header(pub("hub"), 1, None, T0, "lot.accept/1", [], nil_note), nil_note),
        note="optional fields are omitted, never nil")
    offer = canonical.decode(hub[3].content)
    offer["units"] = 4
    wrong_units = canonical.encode(offer)
    add("offer_units_mismatch", "bad_content",
        signed_entry("hub", raw_header(pub("hub"), 1, None, T0, "lot.offer/1", [pub("member")], wrong_units),
                     wrong_units), note="units 4 for a manifest of 3 items")
    no_fates = canonical.encode({"fates": []})
    add("fates_empty_without_correction", "bad_content",
        signed_entry("hub", raw_header(pub("hub"), 1, None, T0, "item.fates/1", [], no_fates), no_fates),
        note="an empty list of fates only in a correction (corrects present)")

    # Log-level failures: the context entries are valid and come first.
    add("gap", "gap", hub[2].entry(), context=ctx1, note="seq 3 after seq 1")
    fork_content = canonical.encode({"offer": bytes(32)})
    add("fork", "fork",
        signed_entry("hub", raw_header(pub("hub"), 2, first.id, T0 + 1, "lot.accept/1", [], fork_content),
                     fork_content),
        context=[hub[0].entry(), hub[1].entry()], note="a second, different record with seq 2")
    add("bad_prev", "bad_prev",
        signed_entry("hub", raw_header(pub("hub"), 2, hashlib.sha256(b"elsewhere").digest(), T0 + 1,
                                       "lot.accept/1", [], fork_content), fork_content),
        context=ctx1)
    add("wrong_author", "wrong_author", member[0].entry(), author=pub("hub"),
        note="the verifier expects the hub's log; this is the member's first record")
    cases += signature_cases(KEYS) + content_cases(KEYS, hub, member)
    return [
        {"name": name, "reason": reason, "context": [c.hex() for c in context], "entry": entry.hex(),
         "author": None if author is None else author.hex(), "note": note,
         "log_export": _export([*context, entry]).hex()}
        for name, reason, context, entry, author, note in cases
    ]


def _export(entries: list[bytes]) -> bytes:
    from protocol.log import LOG_MAGIC

    return LOG_MAGIC + b"".join(len(e).to_bytes(4, "big") + e for e in entries)


# ---------------------------------------------------------------- canonical encoding

def canonical_vectors() -> dict[str, Any]:
    valid_values: list[Any] = [
        None, True, False, 0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1,
        -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63),
        "", "a", "é", "x" * 31, "x" * 32, "x" * 256, b"", b"\x00\xff", b"\x01" * 256,
        [], [1, [2, [3]]], list(range(16)), {}, {"b": 1, "a": 2, "aa": 3}, {"z": {"y": [b"k", None]}},
    ]
    valid = [{"value": tagged(v), "bytes": canonical.encode(v).hex()} for v in valid_values]
    invalid = [
        ("05 in uint8", "cc05", "non_canonical"),
        ("200 in uint16", "cd00c8", "non_canonical"),
        ("-1 in int8", "d0ff", "non_canonical"),
        ("5 as int8", "d005", "non_canonical"),
        ("fixstr length in str8", "d901" + "61", "non_canonical"),
        ("empty array in array16", "dc0000", "non_canonical"),
        ("unsorted keys", "82a162" + "01" + "a161" + "02", "non_canonical"),
        ("longer key first", "82a26161" + "01" + "a162" + "02", "non_canonical"),
        ("duplicate key", "82a161" + "01" + "a161" + "02", "duplicate_key"),
        ("float64", "cb3ff0000000000000", "forbidden_type"),
        ("float32", "ca3f800000", "forbidden_type"),
        ("fixext1", "d40101", "forbidden_type"),
        ("integer map key", "810101", "forbidden_type"),
        ("bin map key", "81c4016101", "forbidden_type"),
        ("reserved byte", "c1", "malformed"),
        ("truncated str", "a3616263"[:-2], "malformed"),
        ("invalid UTF-8", "a2fffe", "malformed"),
        ("array claims more than it holds", "dd000fffff", "malformed"),
        ("trailing byte", "0102", "trailing_bytes"),
        ("17 nested arrays", "91" * 16 + "90", "too_deep"),
        ("unsorted keys before a float", "82a162cb3ff0000000000000a16102", "forbidden_type"),
        ("float after unsorted keys", "82a16202a161cb3ff0000000000000", "non_canonical"),
    ]
    return {
        "description": "Canonical msgpack (PROTOCOL.md, 'Canonical encoding'). value uses a JSON rendition: "
                       "{\"bin\": hex} for bytes, {\"int\": decimal} for integers beyond 2^53.",
        "valid": valid,
        "invalid": [{"name": n, "bytes": b, "reason": r} for n, b, r in invalid],
    }


def key_vectors() -> dict[str, Any]:
    small_order = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    ]
    mixed = _mixed_order_key()
    return {
        "description": "Ed25519 keys (PROTOCOL.md, 'Keys and identity').",
        "valid": [{"name": name, "seed": seed(name).hex(), "public": pub(name).hex(),
                   "node_id": node_id(pub(name)), "fingerprint": fingerprint(pub(name))} for name in KEYS],
        "weak": [{"public": k, "reason": "weak_key", "why": "small order"} for k in small_order]
        + [{"public": "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "reason": "weak_key",
            "why": "y = p: not canonical"},
           {"public": "0200000000000000000000000000000000000000000000000000000000000000", "reason": "weak_key",
            "why": "not on the curve"},
           {"public": mixed.hex(), "reason": "weak_key", "why": "a valid key plus a point of order 8"}],
        "small_order_r": sorted(small_order + [
            "0100000000000000000000000000000000000000000000000000000000000080",  # identity, x = 0 with sign
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  # order 2, x = 0 with sign
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p (0 mod p), order 4
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1 (1 mod p): identity
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ]),
        "signatures": signature_vectors(KEYS),
    }


def _mixed_order_key() -> bytes:
    from protocol import _edwards as ed

    a = ed.decode_point(pub("hub"))
    t = ed.decode_point(ORDER_8_POINT)
    x, y, z, _ = ed.add(a, t)
    zi = pow(z, ed.P - 2, ed.P)
    x, y = x * zi % ed.P, y * zi % ed.P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def build() -> dict[str, str]:
    hub, member = hub_chain(), member_chain()
    records = {
        "description": "Signed records and logs (PROTOCOL.md, 'Records', 'Logs', 'Log export'). Keys: "
                       "keys.json. Check a valid entry: open it, its id, signature and bytes must match. "
                       "Check an invalid case: feed 'context' entries to a fresh log verifier (expecting "
                       "author 'author' when not null); all pass; then 'entry' fails with 'reason'. "
                       "'log_export' is the same sequence as a log export file.",
        "valid": [describe(f"hub_{i + 1}_{r.header.kind}", "hub", r) for i, r in enumerate(hub)]
        + [describe(f"member_{i + 1}_{r.header.kind}", "member", r) for i, r in enumerate(member)],
        "hub_log_export": write_log(hub).hex(),
        "member_log_export": write_log(member).hex(),
        "invalid": invalid_vectors(hub, member),
        "accepted": accepted_vectors(KEYS),
        "log_exports": log_export_vectors(KEYS, hub, member),
        "documents": document_vectors(KEYS, hub),
    }
    for record in hub + member:
        assert open_entry(record.entry()).id == record.id
    return {
        "records.json": json.dumps(records, indent=1, ensure_ascii=False) + "\n",
        "canonical.json": json.dumps(canonical_vectors(), indent=1, ensure_ascii=False) + "\n",
        "keys.json": json.dumps(key_vectors(), indent=1, ensure_ascii=False) + "\n",
        "seal.json": json.dumps(seal_vectors(KEYS, seed, hub, member), indent=1, ensure_ascii=False) + "\n",
        "requests.json": json.dumps(request_vectors(KEYS, hub, T0), indent=1, ensure_ascii=False) + "\n",
        "statistics.json": json.dumps(statistics_vectors(), indent=1, ensure_ascii=False) + "\n",
        "custody.json": json.dumps(custody_vectors(KEYS, T0, gid, describe), indent=1, ensure_ascii=False) + "\n",
    }


if __name__ == "__main__":
    for name, text in build().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote {name}")
