"""PROTOCOL.md against the code: every reason code listed, worked examples equal to the vectors."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from protocol.errors import Reason

ROOT = Path(__file__).parents[2]
PROTOCOL = (ROOT / "PROTOCOL.md").read_text()
VECTORS = ROOT / "tests" / "vectors"


def section(title: str) -> str:
    start = PROTOCOL.index(f"\n## {title}\n")
    end = PROTOCOL.find("\n## ", start + 1)
    return PROTOCOL[start:end]


def hex_in(text: str) -> str:
    """All the long hexadecimal runs of a text, concatenated (wrapped values become one)."""
    return "".join(re.findall(r"\b[0-9a-f]{32,}\b", text))


@pytest.mark.parametrize("reason", list(Reason), ids=str)
def test_every_reason_code_is_in_the_table(reason):
    assert f"| `{reason.value}` |" in section("Reason codes")


def test_records_worked_example():
    vector = json.loads((VECTORS / "records.json").read_text())["valid"][0]
    text = section("Records")
    assert vector["id"] in text
    assert vector["signature"] in hex_in(text)
    assert vector["content_hash"] in hex_in(text)
    key = vector["body"]["encryption_key"]["bin"]
    assert f"{key[:8]}…{key[-4:]}" in text


def test_seal_worked_example():
    vectors = json.loads((VECTORS / "seal.json").read_text())
    text = section("Encryption keys and sealed content")
    hub = vectors["keys"][0]
    for field in ("seed", "x25519_private", "encryption_key"):
        assert hub[field] in text
    example = vectors["valid"][0]
    assert example["name"] in text and len(example["recipients"]) == 1
    shown = hex_in(text)
    fields = ("record_id", "content", "content_key", "ciphertext", "ephemeral_private", "ephemeral_public")
    for field in fields:
        assert example[field] in shown, field
    for field in ("key", "encryption_key", "shared_secret", "kek", "wrapped"):
        assert example["recipients"][0][field] in shown, field
    assert f"sealed ({len(example['sealed']) // 2} bytes)" in text


def test_request_worked_example():
    vectors = json.loads((VECTORS / "requests.json").read_text())
    text = section("Signed requests")
    example = next(v for v in vectors["valid"] if v["name"] == "mailbox")
    assert example["signature_base"] in text
    for name, value in example["headers"].items():
        assert f"{name}: {value}\n" in text
    signature = base64.b64decode(example["headers"]["Signature"].removeprefix("maillon=:").removesuffix(":"))
    assert signature.hex() in "".join(re.findall(r"`([0-9a-f]{64})`", text))


def test_small_order_encodings_listed_are_the_vectors_and_the_code():
    from protocol._edwards import SMALL_ORDER_ENCODINGS

    text = section("Keys and identity")
    listed = re.findall(r"^  ([0-9a-f]{64})$", text, flags=re.MULTILINE)
    keys = json.loads((VECTORS / "keys.json").read_text())
    assert sorted(listed) == keys["small_order_r"] == sorted(b.hex() for b in SMALL_ORDER_ENCODINGS)
    names = {v["name"] for v in keys["signatures"]}
    for name in re.findall(r"vectors? `([a-z_0-9]+)`(?: and `([a-z_0-9]+)`)?", text):
        assert set(filter(None, name)) <= names


def test_the_days_given_as_examples_are_judged_as_the_text_says():
    from protocol.errors import ContentInvalid
    from protocol.kinds import parse_body

    row = next(line for line in section("Record kinds").splitlines() if line.startswith("| `day` |"))
    good, bad = row.split(" is one, ")
    days_good, days_bad = re.findall(r"`(\d{4}-\d\d-\d\d)`", good), re.findall(r"`(\d{4}-\d\d-\d\d)`", bad)
    assert days_good and len(days_bad) >= 4
    body = {"donor": "x", "lots": [], "items": [], "period_to": "9999-12-31"}
    for day in days_good:
        parse_body("donor.report/1", body | {"period_from": day})
    for day in days_bad:
        with pytest.raises(ContentInvalid) as info:
            parse_body("donor.report/1", body | {"period_from": day})
        assert info.value.code is Reason.BAD_CONTENT
