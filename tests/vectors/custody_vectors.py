"""Vectors of the donor's proof (PROTOCOL.md, ``item.fates/2``, ``donor.report/2``, "Donor proof bundle").

A hub (the ``hub`` key) received a donor's lot of three items and handed it
to a peered hub (``peer_hub``, a ``lot.offer/1``), whose receipt found one
item missing; the peered hub recycled one item and handed the other to its
member (``member``, a ``lot.offer/2`` whose line carries the item's two
labels), which gave it to a school. The records of the three logs make
``custody.json``: each record (``valid``), bodies that break the new kinds
(``invalid``), and bundle files with the exact lines ``maillon record
verify`` prints and its exit status (``bundles``): a good one, and tampered
ones (a fate signed by a node that never held the item, a receipt that does
not match its offer, a wrong signature, a hop removed, a fate swapped, the
report itself altered, not a bundle at all).

The expected lines were checked by hand against the rules of PROTOCOL.md
once, and are written from the reference verifier; the test checks that
the code still prints exactly them and that this script reproduces the
file byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from protocol import canonical
from protocol.bundle import BUNDLE_MAGIC, verify_bundle, write_bundle
from protocol.bundle import describe as describe_check
from protocol.errors import ProtocolError
from protocol.keys import SigningKey
from protocol.kinds import KINDS
from protocol.records import Record, sign_record

__all__ = ["custody_vectors"]


def custody_vectors(keys: dict[str, SigningKey], t0: int, gid: Callable[[int], str],
                    describe: Callable[[str, str, Record], dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    hub, peer, member = keys["hub"], keys["peer_hub"], keys["member"]
    h, p, m = hub.public.raw, peer.public.raw, member.public.raw
    g1, g2, g3 = gid(101), gid(102), gid(103)
    start = t0 + 86_400_000
    logs: dict[str, list[Record]] = {"hub": [], "peer_hub": [], "member": []}

    def sign(name: str, kind: str, body: dict[str, Any], audience: tuple[bytes, ...], at: int, *,
             raw: bool = False) -> Record:  # fmt: skip
        log = logs[name]
        content = body if raw else KINDS[kind].model_validate(body).to_content()  # raw: a body its kind may refuse
        record = sign_record(keys[name], seq=len(log) + 1, prev=log[-1].id if log else None, time=start + at,
                             kind=kind, content=content, audience=audience)  # fmt: skip
        log.append(record)
        if raw:
            unread.add(record.id)  # not among the 'valid' records: a reader may refuse (or not know) its body
        return record

    unread: set[bytes] = set()

    def item(g: str, serial: str) -> dict[str, Any]:
        return {"gid": g, "category": "laptop", "weight_g": 2100, "erasure": "erased", "serial": serial}

    wipe = {"method": "PRNG stream", "level": "clear", "tool": "nwipe", "result": "success", "disk_serial": "WD-1"}
    descriptors = {name: sign(name, "node.descriptor/1", {"name": title, "role": role, "endpoints": [url]}, (), 0)
                   for name, title, role, url in (
                       ("hub", "Ordi Grand Ouest", "hub", "https://ogo.example.org"),
                       ("peer_hub", "Ordi3 BFC", "hub", "https://bfc.example.org"),
                       ("member", "Recyclerie de Besançon", "member", "https://besancon.example.org"))}  # fmt: skip
    offer = sign("hub", "lot.offer/1", {
        "lot_ref": "ETAT-2026-03", "recipient": p, "items": [item(g1, "PF-001"), item(g2, "PF-002"), item(g3, "PF-003")],
        "units": 3, "weight_g": 6300, "orientations": ["social_priority"], "expires": start + 10**9,
        "donor_category": "public_body"}, (p,), 60_000)  # fmt: skip
    accept = sign("peer_hub", "lot.accept/1", {"offer": offer.id}, (h,), 120_000)
    receipt = sign("peer_hub", "lot.receipt/1", {"offer": offer.id, "received": [g1, g2], "missing": [g3], "damaged": [],
                   "extra": [], "units_counted": 2, "weight_g": 4100}, (h,), 180_000)  # fmt: skip
    transferred = sign("hub", "item.fates/2", {"fates": [
        {"gid": g, "outcome": "transferred", "time": start + 180_000, "to": p,
         "erasures": [{**wipe, "time": start + 30_000, "disk_serial": f"WD-{g[-1]}"}]} for g in (g1, g2)]},
        (h, p), 240_000)  # fmt: skip
    # the peered hub signs the newer version: the line carries the hub's label, then its own
    onward = sign("peer_hub", "lot.offer/2", {
        "lot_ref": "BFC-7", "recipient": m, "items": [{**item(g2, "PF-002"), "tags": ["OGO-000412", "BFC 000087"]}],
        "units": 1, "weight_g": 2100, "orientations": [], "expires": start + 10**9}, (m,), 300_000)  # fmt: skip
    recycled = sign("peer_hub", "item.fates/2", {"fates": [
        {"gid": g1, "outcome": "recycled", "time": start + 310_000, "weight_g": 2100, "outflow": "Ecologic (16 02 14)",
         "erasures": [{**wipe, "level": "destroy", "method": "shredding", "tool": "broyeur", "time": start + 305_000,
                       "disk_serial": "WD-1"}]}]}, (h, p), 310_000)  # fmt: skip
    accept_c = sign("member", "lot.accept/1", {"offer": onward.id}, (p,), 360_000)
    receipt_c = sign("member", "lot.receipt/1", {"offer": onward.id, "received": [g2], "missing": [], "damaged": [],
                     "extra": [], "units_counted": 1, "weight_g": 2100}, (p,), 420_000)  # fmt: skip
    handed = sign("peer_hub", "item.fates/2", {
        "fates": [{"gid": g2, "outcome": "transferred", "time": start + 420_000, "to": m, "erasures": []}],
        "evidence": [onward.entry(), accept_c.entry(), receipt_c.entry(), descriptors["member"].entry()]},
        (h, p), 430_000)  # fmt: skip
    certificate = hashlib.sha256(b"nwipe_report_2026_Model_X_Serial_WD-2.pdf").digest()
    distributed = sign("member", "item.fates/2", {"fates": [
        {"gid": g2, "outcome": "distributed", "time": start + 500_000, "beneficiary_category": "school",
         "erasures": [{**wipe, "level": "purge", "method": "ATA secure erase", "tool": "hdparm",
                       "time": start + 480_000, "disk_serial": "WD-2", "certificate_sha256": certificate}]}]},
        (m, p), 500_000)  # fmt: skip
    passed = sign("peer_hub", "item.fates/2", {"fates": [], "evidence": [distributed.entry()]}, (h, p), 510_000)
    missing = sign("hub", "item.fates/2", {"fates": [
        {"gid": g3, "outcome": "missing", "time": start + 600_000, "erasures": []}]}, (h,), 600_000)  # fmt: skip
    report = sign("hub", "donor.report/2", {
        "donor": "Préfecture du Doubs", "donor_siret": "17250001600013",
        "lots": [{"ref": "ETAT-2026-03", "declared_units": 3, "declared_weight_g": 6300, "counted_units": 3,
                  "weighed_g": 6250, "received": "2023-11-15"}],
        "period_from": "2023-01-01", "period_to": "2023-12-31",
        "items": [{"gid": g, "lot": "ETAT-2026-03", "category": "laptop", "serial": f"PF-00{n}", "donor_asset": f"PREF-{n}"}
                  for n, g in ((1, g1), (2, g2), (3, g3))]}, (h,), 660_000)  # fmt: skip

    records = [offer, accept, receipt, transferred, recycled, handed, passed, missing,
               descriptors["hub"], descriptors["peer_hub"]]  # fmt: skip
    good = [r.entry() for r in records]
    intruder = sign("member", "item.fates/2", {"fates": [
        {"gid": g1, "outcome": "distributed", "time": start + 700_000, "beneficiary_category": "person",
         "erasures": []}]}, (m,), 700_000)  # fmt: skip
    stranger_receipt = sign("member", "lot.receipt/1", {"offer": offer.id, "received": [g1, g2, g3], "missing": [],
                            "damaged": [], "extra": [], "units_counted": 3, "weight_g": 6300}, (h,), 710_000)  # fmt: skip
    # A hand-off entered later (lot.receipt/2): the lot arrived 40 days before anyone signed anything of it.
    # Custody moved at 12:00 UTC of that day, so the member's fate dated the next day is a custodian's; the
    # same receipt without its day (lot.receipt/1, signed at the same time) leaves that fate before custody.
    g4 = gid(104)
    arrived = datetime.fromtimestamp((start - 40 * 86_400_000) / 1000, UTC).date()
    noon = int(datetime.combine(arrived, time(12), tzinfo=UTC).timestamp()) * 1000
    late_offer = sign("hub", "lot.offer/2", {
        "lot_ref": "ETAT-2025-09", "recipient": m, "items": [{**item(g4, "PF-004"), "tags": ["OGO-000420"]}],
        "units": 1, "weight_g": 2100, "orientations": [], "expires": start + 10**9}, (m,), 800_000)  # fmt: skip
    sign("member", "lot.accept/1", {"offer": late_offer.id}, (h,), 810_000)  # in the member's log, not in the bundles
    late_lines = {"offer": late_offer.id, "received": [g4], "missing": [], "damaged": [], "extra": [],
                  "units_counted": 1, "weight_g": 2100}  # fmt: skip
    late_receipt = sign("member", "lot.receipt/2", {**late_lines, "received_on": arrived.isoformat()}, (h,), 820_000)
    late_fate = sign("member", "item.fates/2", {"fates": [
        {"gid": g4, "outcome": "distributed", "time": noon + 86_400_000, "beneficiary_category": "person",
         "erasures": [{**wipe, "time": noon + 3_600_000, "disk_serial": "WD-4"}]}]}, (m, h), 830_000)  # fmt: skip
    undated = sign("member", "lot.receipt/1", late_lines, (h,), 840_000)
    # the member states the item in stock after the distribution it entered with an earlier day: the end counts
    # (with the erasure its distribution stated: the proof lists it once)
    stock_after = sign("member", "item.fates/2", {"fates": [
        {"gid": g4, "outcome": "in_stock", "time": start + 860_000,
         "erasures": [{**wipe, "time": noon + 3_600_000, "disk_serial": "WD-4"}]}]}, (m, h), 860_000)  # fmt: skip
    late_report = sign("hub", "donor.report/2", {
        "donor": "Préfecture du Doubs", "lots": [{"ref": "ETAT-2025-09", "declared_units": 1, "counted_units": 1,
                                                  "received": arrived.isoformat()}],
        "period_from": "2023-01-01", "period_to": "2023-12-31",
        "items": [{"gid": g4, "lot": "ETAT-2025-09", "category": "laptop", "serial": "PF-004"}]}, (h,), 850_000)  # fmt: skip
    # old records still verify: the member's distribution as an item.fates/1, passed on by the peered hub
    distributed_v1 = sign("member", "item.fates/1", {"fates": [
        {"gid": g2, "fate": "distributed", "time": start + 500_000, "beneficiary_category": "school"}]},
        (m, p), 870_000)  # fmt: skip
    passed_v1 = sign("peer_hub", "item.fates/2", {"fates": [], "evidence": [distributed_v1.entry()]}, (h, p), 880_000)
    # a record signed by a custodian whose body breaks its kind (recycled without its weight): it proves nothing;
    # and a record of a kind the check does not read (one this reader does not even know): it states nothing
    unweighed = sign("peer_hub", "item.fates/2", {"fates": [
        {"gid": g1, "outcome": "recycled", "time": start + 890_000, "erasures": []}]}, (h, p), 890_000, raw=True)  # fmt: skip
    weighing = sign("peer_hub", "lot.weighing/1", {"offer": offer.id, "weight_g": 4100}, (h, p), 900_000, raw=True)
    names = [descriptors["hub"].entry(), descriptors["member"].entry()]
    flipped = bytearray(receipt.entry())
    at = flipped.index(receipt.signature) + 10
    flipped[at] ^= 0x01
    swapped = canonical.encode([distributed.envelope, recycled.content])  # another record's body under C's signature
    cases: list[tuple[str, str, bytes]] = [
        ("good", "the whole chain: every link holds", write_bundle(report, good)),
        ("fate_by_non_custodian", "a fate of an item signed by a node that never held it",
         write_bundle(report, [*good, intruder.entry()])),
        ("receipt_not_from_the_recipient", "a receipt of the hub's offer signed by a node it was not offered to",
         write_bundle(report, [*good, stranger_receipt.entry()])),
        ("wrong_signature", "one bit of the peered hub's receipt's signature changed",
         write_bundle(report, [e if e != receipt.entry() else bytes(flipped) for e in good])),
        ("hop_removed", "the peered hub's receipt left out: its fates are no longer a custodian's",
         write_bundle(report, [e for e in good if e != receipt.entry()])),
        ("fate_swapped", "the member's distribution carried with another record's content",
         write_bundle(report, [*good[:6], canonical.encode([passed.envelope, canonical.encode(
             {"fates": [], "evidence": [swapped]})])] + good[7:])),
        ("report_altered", "one byte of the report's content changed",
         BUNDLE_MAGIC + canonical.encode({"report": canonical.encode([report.envelope, report.content[:-1] + b"\x00"]),
                                          "records": good})),
        ("receipt_entered_later", "a lot.receipt/2: custody moved on the day the lot arrived, before the receipt "
         "was signed, and the member's fate the next day is a custodian's",
         write_bundle(late_report, [late_offer.entry(), late_receipt.entry(), late_fate.entry(), *names])),
        ("receipt_entered_later_undated", "the same receipt without its day (a lot.receipt/1 signed at the same "
         "time): the member's fate comes before it held the item",
         write_bundle(late_report, [late_offer.entry(), undated.entry(), late_fate.entry(), *names])),
        ("outcome_before_a_stock_statement", "the member stated the item in stock after the distribution it "
         "entered with an earlier day: the end of the item's life outranks the later statement of the stock, and the "
         "erasure both state is listed once",
         write_bundle(late_report, [late_offer.entry(), late_receipt.entry(), stock_after.entry(), late_fate.entry(),
                                    *names])),
        ("old_fates", "the member's distribution signed as an item.fates/1 (earlier versions), read as the "
         "explicit form", write_bundle(report, [passed_v1.entry() if e == passed.entry() else e for e in good])),
        ("record_breaking_its_kind", "a fate of the peered hub whose body breaks item.fates/2 (recycled without "
         "its weight): a problem bad_content, and the record proves nothing", write_bundle(report, [*good, unweighed.entry()])),
        ("record_of_a_kind_not_read", "a record of a kind the check does not read (lot.weighing/1, unknown): it "
         "states nothing, and the bundle verifies", write_bundle(report, [*good, weighing.entry()])),
        ("not_a_bundle", "a signed document given as a bundle", b"maillon-record/1\n" + report.entry()),
        ("bad_shape", "records given as a map", BUNDLE_MAGIC + canonical.encode({"report": report.entry(),
                                                                                  "records": {}})),
    ]  # fmt: skip
    bundles = []
    for name, why, data in cases:
        bundles.append({"name": name, "why": why, "bundle": data.hex(), **_expected(data)})
    valid = [describe(f"custody_{name}_{n + 1}_{r.header.kind}", name, r)
             for name, log in logs.items() for n, r in enumerate(log) if r.id not in unread]  # fmt: skip
    return {
        "description": "The donor's proof (PROTOCOL.md, 'item.fates/2', 'donor.report/2', 'Donor proof bundle'). "
                       "Keys: keys.json. 'valid': records of the three logs, checked as in records.json. "
                       "'invalid': entries to refuse with 'reason' (a fresh log); 'accepted': entries to accept (a fresh "
                       "log), with the 'tags' their one line carries. 'bundles': files to check, "
                       "with the exact 'lines' `maillon record verify` prints and its 'exit' status.",
        "valid": valid,
        "invalid": _invalid_bodies(hub, h, g1, start),
        "accepted": _accepted_bodies(hub, h, g1, start),
        "bundles": bundles,
    }


def _accepted_bodies(hub: SigningKey, h: bytes, g: str, start: int) -> list[dict[str, Any]]:
    """``lot.offer/2`` bodies at the edges of the tags' rules, each to be accepted (seq 1, by the hub)."""
    line = {"gid": g, "category": "laptop", "weight_g": 2100, "erasure": "erased"}
    cases = [
        ("offer2_16_tags_of_64_characters", [f"{n:02d}" + "é" * 62 for n in range(16)]),
        ("offer2_tag_of_one_character_and_inner_spaces", ["7", "Atelier  Nord – 12", "ÉCRAN-Ø"]),
        ("offer2_tags_differing_by_case", ["ogo-12", "OGO-12"]),
    ]
    found = []
    for name, tags in cases:
        body = {"lot_ref": "L", "recipient": h, "items": [{**line, "tags": tags}], "units": 1, "weight_g": 2100,
                "orientations": [], "expires": start}  # fmt: skip
        record = sign_record(hub, seq=1, prev=None, time=start, kind="lot.offer/2", content=canonical.encode(body))
        found.append({"name": name, "kind": "lot.offer/2", "entry": record.entry().hex(), "tags": tags})
    return found


def _expected(data: bytes) -> dict[str, Any]:
    try:
        check = verify_bundle(data)
    except ProtocolError as exc:
        return {"lines": [f"problem record=- gid=- reason={exc.code.value} {exc.message}",
                          "summary items=0 records=0 problems=1 verdict=fail"], "exit": 1}  # fmt: skip
    return {"lines": describe_check(check), "exit": 0 if check.ok else 1}


def _invalid_bodies(hub: SigningKey, h: bytes, g: str, start: int) -> list[dict[str, Any]]:
    """Bodies that break ``item.fates/2``, ``donor.report/2``, the tags of ``lot.offer/2`` (and tags in a
    ``lot.offer/1``) or the day of ``lot.receipt/2`` (and a day in a ``lot.receipt/1``): each ``bad_content``
    (seq 1, by the hub)."""
    wipe = {"method": "m", "level": "clear", "tool": "t", "time": 1, "result": "success"}
    lot = {"ref": "L"}
    line = {"gid": g, "lot": "L", "category": "laptop"}
    period = {"period_from": "2023-01-01", "period_to": "2023-12-31"}
    def offer(*tags: Any) -> dict[str, Any]:
        line = {"gid": g, "category": "laptop", "weight_g": 2100, "erasure": "erased", "tags": list(tags)}
        return {"lot_ref": "L", "recipient": h, "items": [line], "units": 1, "weight_g": 2100, "orientations": [],
                "expires": start}  # fmt: skip

    receipt = {"offer": bytes(32), "received": [g], "missing": [], "damaged": [], "extra": [], "units_counted": 1,
               "weight_g": 2100}  # fmt: skip
    cases = [
        ("receipt2_without_its_day", "lot.receipt/2", receipt),
        ("receipt2_day_not_of_the_calendar", "lot.receipt/2", {**receipt, "received_on": "2023-02-29"}),
        ("receipt2_day_with_a_time", "lot.receipt/2", {**receipt, "received_on": "2023-06-01T10:00"}),
        ("receipt1_with_a_day", "lot.receipt/1", {**receipt, "received_on": "2023-06-01"}),
        ("offer2_tag_twice", "lot.offer/2", offer("OGO-1", "OGO-1")),
        ("offer2_no_tag", "lot.offer/2", offer()),
        ("offer2_17_tags", "lot.offer/2", offer(*(f"T-{n}" for n in range(17)))),
        ("offer2_tag_65_characters", "lot.offer/2", offer("é" * 65)),
        ("offer2_tag_empty", "lot.offer/2", offer("")),
        ("offer2_tag_control_character", "lot.offer/2", offer("OGO\t12")),
        ("offer2_tag_c1_control", "lot.offer/2", offer("OGO\u008512")),
        ("offer2_tag_leading_space", "lot.offer/2", offer(" OGO-12")),
        ("offer2_tag_trailing_space", "lot.offer/2", offer("OGO-12 ")),
        ("offer2_tag_not_text", "lot.offer/2", offer(b"OGO-12")),
        ("offer1_with_tags", "lot.offer/1", offer("OGO-12")),
        ("fates2_distributed_without_category", "item.fates/2",
         {"fates": [{"gid": g, "outcome": "distributed", "time": 1, "erasures": []}]}),
        ("fates2_category_without_distribution", "item.fates/2",
         {"fates": [{"gid": g, "outcome": "in_stock", "time": 1, "erasures": [], "beneficiary_category": "person"}]}),
        ("fates2_recycled_without_weight", "item.fates/2",
         {"fates": [{"gid": g, "outcome": "recycled", "time": 1, "erasures": []}]}),
        ("fates2_outflow_not_recycled", "item.fates/2",
         {"fates": [{"gid": g, "outcome": "dismantled", "time": 1, "erasures": [], "outflow": "Ecologic"}]}),
        ("fates2_to_not_transferred", "item.fates/2",
         {"fates": [{"gid": g, "outcome": "missing", "time": 1, "erasures": [], "to": h}]}),
        ("fates2_unknown_outcome", "item.fates/2",
         {"fates": [{"gid": g, "outcome": "transfered", "time": 1, "erasures": []}]}),
        ("fates2_gid_twice", "item.fates/2",
         {"fates": [{"gid": g, "outcome": "in_stock", "time": 1, "erasures": []}] * 2}),
        ("fates2_empty", "item.fates/2", {"fates": []}),
        ("fates2_empty_evidence", "item.fates/2", {"fates": [], "evidence": []}),
        ("fates2_erasure_level", "item.fates/2",
         {"fates": [{"gid": g, "outcome": "in_stock", "time": 1, "erasures": [{**wipe, "level": "wipe"}]}]}),
        ("fates2_certificate_length", "item.fates/2",
         {"fates": [{"gid": g, "outcome": "in_stock", "time": 1,
                     "erasures": [{**wipe, "certificate_sha256": bytes(31)}]}]}),
        ("report2_no_lot", "donor.report/2", {"donor": "D", "lots": [], "items": [], **period}),
        ("report2_item_of_no_lot", "donor.report/2",
         {"donor": "D", "lots": [lot], "items": [{**line, "lot": "M"}], **period}),
        ("report2_item_twice", "donor.report/2", {"donor": "D", "lots": [lot], "items": [line, line], **period}),
        ("report2_period_backwards", "donor.report/2",
         {"donor": "D", "lots": [lot], "items": [], "period_from": "2024-01-01", "period_to": "2023-12-31"}),
    ]  # fmt: skip
    found = []
    for name, kind, body in cases:
        content = canonical.encode(body)
        record = sign_record(hub, seq=1, prev=None, time=start, kind=kind, content=content)
        found.append({"name": name, "kind": kind, "entry": record.entry().hex(), "reason": "bad_content"})
    return found
