"""Signed requests between nodes: the RFC 9421 profile, its one form, every refusal."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import Reason, RequestRefused
from protocol.keys import SigningKey, node_id
from protocol.requests import SignedRequest, content_digest, sign_request, verify_request

CALLER = SigningKey.from_seed(hashlib.sha256(b"request caller").digest())
CALLEE = SigningKey.from_seed(hashlib.sha256(b"request callee").digest())
OTHER = SigningKey.from_seed(hashlib.sha256(b"request other").digest())
IDENTITY = bytes([1]) + bytes(31)
NONCE = bytes(range(16))
CREATED = 1_700_000_000
BODY = b"\x81\xa5items\x90"
REQUEST = {"method": "POST", "path": "/fed/v1/push", "query": "", "body": BODY}


def signed(key: SigningKey = CALLER, **changes) -> dict[str, str]:
    args = {**REQUEST, "callee": CALLEE.public.raw, "created": CREATED, "nonce": NONCE, **changes}
    return sign_request(key, **args)


def verify(headers, **changes) -> SignedRequest:
    return verify_request(headers, **{**REQUEST, "callee": CALLEE.public.raw, **changes})


def refused(reason: Reason, headers, **changes) -> None:
    with pytest.raises(RequestRefused) as info:
        verify(headers, **changes)
    assert info.value.code is reason


def test_round_trip():
    headers = signed()
    assert set(headers) == {"Content-Digest", "Maillon-To", "Signature-Input", "Signature"}
    assert verify(headers) == SignedRequest(CALLER.public.raw, CREATED, NONCE)


def test_the_exact_header_forms():
    headers = signed()
    assert headers["Maillon-To"] == node_id(CALLEE.public.raw)
    digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert headers["Content-Digest"] == f"sha-256=:{digest}:"
    assert headers["Signature-Input"] == (
        'maillon=("@method" "@path" "@query" "content-digest" "maillon-to");created=1700000000;'
        f'nonce="000102030405060708090a0b0c0d0e0f";keyid="{CALLER.public.node_id}";alg="ed25519"'
    )
    assert headers["Signature"].startswith("maillon=:") and headers["Signature"].endswith(":")


def test_the_signature_base():
    headers = signed(query="after=3&limit=10")
    params = headers["Signature-Input"].removeprefix("maillon=")
    base = (
        '"@method": POST\n"@path": /fed/v1/push\n"@query": ?after=3&limit=10\n'
        f'"content-digest": {content_digest(BODY)}\n"maillon-to": {node_id(CALLEE.public.raw)}\n'
        f'"@signature-params": {params}'
    ).encode()
    signature = base64.b64decode(headers["Signature"][len("maillon=:") : -1])
    CALLER.public.verify(signature, base)


def test_empty_body_still_has_a_digest():
    headers = signed(method="GET", path="/fed/v1/mailbox", query="after=0&limit=100", body=b"")
    assert headers["Content-Digest"] == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
    verify(headers, method="GET", path="/fed/v1/mailbox", query="after=0&limit=100", body=b"")


def test_header_names_in_any_case_and_spaces_around_values():
    headers = {name.lower(): f" {value}\t" for name, value in signed().items()}
    headers["X-Other"] = "ignored"
    assert verify(headers).caller == CALLER.public.raw


def test_a_multidict_with_a_header_twice_is_refused():
    class Multi:
        def __init__(self, pairs):
            self.pairs = pairs

        def items(self):
            return iter(self.pairs)

    pairs = list(signed().items())
    verify(Multi(pairs))
    refused(Reason.BAD_REQUEST, Multi([*pairs, ("signature", signed(OTHER)["Signature"])]))


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize("name", ["Content-Digest", "Maillon-To", "Signature-Input", "Signature"])
def test_a_missing_header(name):
    headers = signed()
    del headers[name]
    refused(Reason.BAD_REQUEST, headers)


def _input(**replace: str) -> str:
    value = signed()["Signature-Input"]
    for old, new in replace.items():
        assert old in value
        value = value.replace(old, new)
    return value


KEYID = f'keyid="{CALLER.public.node_id}"'


@pytest.mark.parametrize(
    "signature_input",
    [
        _input(**{'"@query" ': ""}),  # a component left out
        _input(**{'"@path" "@query"': '"@query" "@path"'}),  # components reordered
        _input(**{'"maillon-to")': '"maillon-to" "content-type")'}),  # one more
        _input(**{";alg=\"ed25519\"": ""}),  # a parameter left out
        _input(**{";alg=\"ed25519\"": "", "created=": "alg=\"ed25519\";created="}),  # parameters reordered
        _input(**{"alg=\"ed25519\"": "alg=\"rsa-pss-sha512\""}),
        _input(**{"maillon=": "sig1="}),  # another label
        _input(**{"created=1700000000": "created=01700000000"}),  # leading zero
        _input(**{"created=1700000000": "created=-1"}),
        _input(**{"created=1700000000": "created=1700000000000000"}),  # 16 digits
        _input(**{"000102": "ABCDEF"}),  # upper-case nonce
        _input(**{"0e0f\"": "0e\""}),  # short nonce
        _input(**{KEYID: f'keyid="{CALLER.public.raw.hex()}"'}),  # hex, not a node id
        _input(**{KEYID: f'keyid="{CALLER.public.node_id[:-1]}b"'}),  # trailing bits set
        _input(**{KEYID: f'keyid="{CALLER.public.node_id.upper()}"'}),
        _input(**{";nonce": "; nonce"}),  # whitespace inside
        _input() + ";expires=1700000300",
        _input() + ", other=()",
    ],
)
def test_malformed_signature_input(signature_input):
    refused(Reason.BAD_REQUEST, {**signed(), "Signature-Input": signature_input})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Signature", "sig1=:" + "A" * 86 + "==:"),
        ("Signature", "maillon=:" + "A" * 84 + "==:"),  # 63 bytes
        ("Signature", "maillon=:" + "A" * 85 + "B==:"),  # unused bits set
        ("Signature", "maillon=" + "A" * 86 + "=="),
        ("Content-Digest", "sha-512=:" + "A" * 86 + "==:"),
        ("Content-Digest", "sha-256=:" + "A" * 42 + "B=:"),  # unused bits set
        ("Content-Digest", "sha-256=:" + "A" * 43 + "=:, sha-512=:" + "A" * 86 + "==:"),
        ("Content-Digest", "SHA-256=:" + "A" * 43 + "=:"),
    ],
)
def test_malformed_signature_or_digest(name, value):
    refused(Reason.BAD_REQUEST, {**signed(), name: value})


def test_method_path_or_query_outside_the_profile():
    headers = signed()
    refused(Reason.BAD_REQUEST, headers, method="post")
    refused(Reason.BAD_REQUEST, headers, path="fed/v1/push")
    refused(Reason.BAD_REQUEST, headers, path="/fed/v1/push\n\"@query\": ?")
    refused(Reason.BAD_REQUEST, headers, query="a b")


def test_wrong_recipient():
    refused(Reason.WRONG_RECIPIENT, signed(), callee=OTHER.public.raw)
    refused(Reason.WRONG_RECIPIENT, {**signed(), "Maillon-To": node_id(OTHER.public.raw)})
    # Maillon-To is checked before the digest and the signature.
    refused(Reason.WRONG_RECIPIENT, signed(), callee=OTHER.public.raw, body=b"other")


def test_digest_mismatch():
    refused(Reason.DIGEST_MISMATCH, signed(), body=BODY + b"\x00")
    refused(Reason.DIGEST_MISMATCH, signed(), body=b"")
    # A digest of the new body does not help: the digest header is signed.
    refused(Reason.BAD_SIGNATURE, {**signed(), "Content-Digest": content_digest(b"")}, body=b"")


def test_weak_key_is_refused_before_the_signature():
    keyid = node_id(IDENTITY)
    headers = {
        **signed(),
        "Signature-Input": _input(**{KEYID: f'keyid="{keyid}"'}),
        "Signature": "maillon=:" + base64.b64encode(IDENTITY + bytes(32)).decode() + ":",
    }
    refused(Reason.WEAK_KEY, headers)


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUT"},
        {"path": "/fed/v1/pus"},
        {"path": "/fed/v1/push/"},
        {"query": "a=1"},
    ],
)
def test_altered_request_line(change):
    refused(Reason.BAD_SIGNATURE, signed(), **change)


def test_altered_signature_parameters_or_another_signer():
    later = _input(**{"created=1700000000": "created=1700000001"})
    refused(Reason.BAD_SIGNATURE, {**signed(), "Signature-Input": later})
    refused(Reason.BAD_SIGNATURE, {**signed(), "Signature-Input": _input(**{"000102": "ff0102"})})
    refused(Reason.BAD_SIGNATURE, {**signed(), "Signature": signed(OTHER)["Signature"]})
    other_keyid = {"Signature-Input": _input(**{KEYID: f'keyid="{OTHER.public.node_id}"'})}
    refused(Reason.BAD_SIGNATURE, {**signed(), **other_keyid})


def test_sign_request_refuses_out_of_profile_arguments():
    for change in ({"method": "get"}, {"path": "relative"}, {"query": "a b"}, {"nonce": bytes(15)},
                   {"callee": bytes(31)}, {"created": -1}, {"created": 10**15}):
        with pytest.raises(ValueError):
            signed(**change)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["GET", "POST"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40),
    st.binary(max_size=300),
    st.integers(0, 10**15 - 1),
    st.binary(min_size=16, max_size=16),
)
def test_round_trip_property(method, path, query, body, created, nonce):
    args = {"method": method, "path": "/" + path, "query": query, "body": body}
    headers = sign_request(CALLER, callee=CALLEE.public.raw, created=created, nonce=nonce, **args)
    result = verify_request(headers, callee=CALLEE.public.raw, **args)
    assert result == SignedRequest(CALLER.public.raw, created, nonce)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["Content-Digest", "Maillon-To", "Signature-Input", "Signature"]), st.data())
def test_any_change_of_one_header_character_is_refused(name, data):
    headers = signed()
    value = headers[name]
    position = data.draw(st.integers(0, len(value) - 1))
    visible = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
    replacement = data.draw(visible.filter(lambda c: c != value[position]))
    headers[name] = value[:position] + replacement + value[position + 1 :]
    with pytest.raises(RequestRefused):
        verify(headers)
