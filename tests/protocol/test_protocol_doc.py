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
