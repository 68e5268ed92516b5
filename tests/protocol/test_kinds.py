"""Record kinds: strict, versioned models whose canonical form is unique."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from protocol import canonical
from protocol.errors import ContentInvalid, Reason
from protocol.kinds import (
    KINDS,
    LotCancel,
    LotOffer,
    LotReceipt,
    MembershipCertificate,
    OfferedItem,
    StatsReport,
    parse_body,
)  # fmt: skip

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "records.json").read_text())
GID = "01890a5d-ac96-7ab0-9c1e-000000000001"

EXPECTED_KINDS = {
    "node.descriptor/1", "membership.certificate/1", "peering.convention/1", "key.rotation/1",
    "key.revocation/1", "lot.offer/1", "lot.accept/1", "lot.decline/1", "lot.cancel/1", "lot.receipt/1",
    "item.fates/1", "stats.report/1", "regional.summary/1", "log.checkpoint/1", "donor.report/1",
    "regional.summary/2",
    "item.fates/2", "donor.report/2", "lot.offer/2", "lot.receipt/2",
}  # fmt: skip
CUSTODY = json.loads((Path(__file__).parents[1] / "vectors" / "custody.json").read_text())


def test_every_kind_of_the_design_exists_and_has_a_vector():
    assert set(KINDS) == EXPECTED_KINDS
    assert {v["kind"] for v in VECTORS["valid"] + CUSTODY["valid"]} == EXPECTED_KINDS


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_vector_bodies_round_trip(vector):
    content = bytes.fromhex(vector["content"])
    body = parse_body(vector["kind"], canonical.decode(content))
    assert canonical.encode(body.to_content()) == content


def offer(**changes):
    value = {
        "lot_ref": "L1", "recipient": bytes(32), "units": 1, "weight_g": 2000, "orientations": [],
        "expires": 1, "items": [{"gid": GID, "category": "laptop", "weight_g": 2000, "erasure": "erased"}],
    }  # fmt: skip
    value.update(changes)
    return value


@pytest.mark.parametrize(
    "value",
    [
        offer(units="1"),  # no coercion from text
        offer(units=True),  # a boolean is not a count
        offer(weight_g=-1),
        offer(surprise=1),  # unknown field
        offer(items=[{"gid": "not-a-uuid", "category": "laptop", "weight_g": 1, "erasure": "erased"}]),
        offer(items=[{"gid": GID, "category": "toaster", "weight_g": 1, "erasure": "erased"}]),
        offer(units=2),
        offer(recipient=bytes(31)),
    ],
)
def test_offer_is_strict(value):
    with pytest.raises(ContentInvalid) as info:
        parse_body(LotOffer.KIND, value)
    assert info.value.code is Reason.BAD_CONTENT


def test_receipt_counts_must_add_up():
    base = {"offer": bytes(32), "received": [GID], "missing": [], "damaged": [], "extra": [],
            "units_counted": 1, "weight_g": 100}  # fmt: skip
    assert parse_body(LotReceipt.KIND, base)
    other = "01890a5d-ac96-7ab0-9c1e-000000000002"
    for change in ({"units_counted": 2}, {"missing": [GID]}, {"damaged": [other]}, {"damaged": [GID, GID]},
                   {"missing": [other, other]}):
        with pytest.raises(ContentInvalid):
            parse_body(LotReceipt.KIND, base | change)


def test_cancel_names_an_offer_and_at_most_a_code():
    parse_body(LotCancel.KIND, {"offer": bytes(32)})
    parse_body(LotCancel.KIND, {"offer": bytes(32), "reason": "donor_withdrew", "note": "gardé"})
    for value in ({}, {"offer": bytes(31)}, {"offer": bytes(32), "reason": "Donor withdrew"},
                  {"offer": bytes(32), "reason": None}, {"offer": bytes(32), "items": []}):
        with pytest.raises(ContentInvalid) as info:
            parse_body(LotCancel.KIND, value)
        assert info.value.code is Reason.BAD_CONTENT


def test_certificate_validity_must_be_a_period():
    value = {"member": bytes(32), "member_name": "A", "role": "member", "network": "N",
             "valid_from": 10, "valid_until": 10}  # fmt: skip
    with pytest.raises(ContentInvalid):
        parse_body(MembershipCertificate.KIND, value)


def test_stats_period_forms():
    for period in ("2024", "2024-03", "2024-Q2"):
        parse_body(StatsReport.KIND, {"period": period, "version": 1, "figures": {}})
    for period in ("2024-13", "2024-Q5", "24-01"):
        with pytest.raises(ContentInvalid):
            parse_body(StatsReport.KIND, {"period": period, "version": 1, "figures": {}})


def test_unknown_kind_and_non_map_body():
    with pytest.raises(ContentInvalid) as info:
        parse_body("lot.offer/9", {})
    assert info.value.code is Reason.UNKNOWN_KIND
    with pytest.raises(ContentInvalid) as info:
        parse_body("lot.offer/1", [1])
    assert info.value.code is Reason.BAD_CONTENT


@pytest.mark.parametrize("value", [
    offer(note=None),  # an optional field of the body, present with nil
    offer(items=[{"gid": GID, "category": "laptop", "weight_g": 2000, "erasure": "erased", "serial": None}]),  # of a part
])  # fmt: skip
def test_an_optional_field_is_absent_never_nil(value):
    with pytest.raises(ContentInvalid, match="never nil") as info:
        parse_body(LotOffer.KIND, value)
    assert info.value.code is Reason.BAD_CONTENT


def test_no_field_defaults_to_anything_but_absent():
    """parse_body's nil rule stands for "the body is its own canonical form" only while this holds."""
    seen, models = set(), list(KINDS.values())
    while models:
        model = models.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            assert field.is_required() or field.default is None, f"{model.__name__}.{name}"
            models += [arg for arg in _types_in(field.annotation) if isinstance(arg, type) and issubclass(arg, BaseModel)]
    assert OfferedItem in seen


def _types_in(annotation):
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _types_in(arg)
