"""Known-answer vectors of sealed content and signed requests (seal.json, requests.json).

Part of ``generate.py``, which passes in its keys and record chains. Each
valid vector is assembled here from the primitives, step by step as
PROTOCOL.md describes it, then compared with what ``protocol.seal`` and
``protocol.requests`` produce; each invalid one names the reason code
PROTOCOL.md prescribes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol import _edwards, canonical
from protocol.keys import SigningKey, node_id
from protocol.records import Record
from protocol.requests import sign_request
from protocol.seal import encryption_key, seal

IDENTITY_POINT = bytes([1]) + bytes(31)
ZERO_NONCE = bytes(12)


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def x25519_public(private: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


# ---------------------------------------------------------------- sealed content

def seal_vectors(keys: dict[str, SigningKey], seed: Callable[[str], bytes],
                 hub: list[Record], member: list[Record]) -> dict[str, Any]:
    x_private = {name: hkdf(key.seed, b"", b"maillon/x25519/v1") for name, key in keys.items()}
    x_public = {name: x25519_public(x) for name, x in x_private.items()}
    for name, key in keys.items():
        assert encryption_key(key) == x_public[name]
    accept, offer = member[1], hub[3]
    assert accept.header.kind == "lot.accept/1" and offer.header.kind == "lot.offer/1"
    cases = [
        ("one_recipient", "member_2_lot.accept/1", accept, ["hub"],
         "the arithmetic with one recipient; nodes seal to the audience and the author"),
        ("accept_to_audience_and_author", "member_2_lot.accept/1", accept, ["hub", "member"],
         "what the member sends: its record sealed to its audience (the hub) and itself"),
        ("offer_to_audience_and_author", "hub_4_lot.offer/1", offer, ["hub", "member"], ""),
        ("three_recipients", "hub_4_lot.offer/1", offer, ["hub", "member", "peer_hub"],
         "the offer's content sealed to three keys, to show the order of 'to'"),
    ]
    valid = []
    for number, (name, record_name, record, names, note) in enumerate(cases, 1):
        assert record.content is not None
        e = seed(f"ephemeral {number}")
        ck = seed(f"content key {number}")
        epk = x25519_public(e)
        ordered = sorted(names, key=lambda n: keys[n].public.raw)
        recipients = []
        for n in ordered:
            k_r = keys[n].public.raw
            shared = X25519PrivateKey.from_private_bytes(e).exchange(
                X25519PublicKey.from_public_bytes(x_public[n]))
            kek = hkdf(shared, epk + x_public[n], b"maillon/seal/v1")
            wrapped = ChaCha20Poly1305(kek).encrypt(ZERO_NONCE, ck, record.id + k_r)
            recipients.append({"name": n, "key": k_r.hex(), "encryption_key": x_public[n].hex(),
                               "shared_secret": shared.hex(), "kek": kek.hex(), "wrapped": wrapped.hex()})
        ct = ChaCha20Poly1305(ck).encrypt(ZERO_NONCE, record.content, record.id)
        sealed = canonical.encode({"v": 1, "epk": epk, "ct": ct,
                                   "to": [[bytes.fromhex(r["key"]), bytes.fromhex(r["wrapped"])]
                                          for r in recipients]})
        by_seal = seal(record.id, record.content, {keys[n].public.raw: x_public[n] for n in names},
                       ephemeral=X25519PrivateKey.from_private_bytes(e), content_key=ck)
        assert by_seal == sealed, name
        valid.append({"name": name, "record": record_name, "record_id": record.id.hex(),
                      "content": record.content.hex(), "content_key": ck.hex(),
                      "ephemeral_private": e.hex(), "ephemeral_public": epk.hex(),
                      "recipients": recipients, "ciphertext": ct.hex(), "sealed": sealed.hex(), "note": note})
    return {
        "description": "Sealed content (PROTOCOL.md, 'Encryption keys and sealed content'). 'keys': the "
                       "X25519 key derived from each seed of keys.json. 'valid': sealed with a fixed "
                       "ephemeral key and content key; every recipient opens 'sealed' with its seed and "
                       "'record_id' and gets 'content'. 'invalid': opening 'sealed' for 'record_id' with "
                       "the key named 'opener' fails with 'reason'.",
        "keys": [{"name": n, "seed": keys[n].seed.hex(), "public": keys[n].public.raw.hex(),
                  "x25519_private": x_private[n].hex(), "encryption_key": x_public[n].hex()} for n in keys],
        "valid": valid,
        "invalid": _invalid_seals(keys, accept, bytes.fromhex(valid[1]["sealed"]), hub[2].id),
        "weak_encryption_keys": _weak_encryption_keys(x_public["hub"]),
    }


def _u_of(point: Any) -> bytes:
    """The X25519 u of an edwards25519 point: u = (1 + y) / (1 - y) (RFC 7748 section 4.1)."""
    y = int.from_bytes(_edwards.encode_point(point), "little") & ((1 << 255) - 1)
    p = _edwards.P
    return ((1 + y) * pow(1 - y, p - 2, p) % p).to_bytes(32, "little")


def _weak_encryption_keys(good: bytes) -> list[dict[str, Any]]:
    """X25519 keys a reader refuses (``weak_key``): small order, a small-order component, twist, not canonical."""
    p = _edwards.P
    order_8 = next(pt for y in (0x05FC536D880238B13933C6D305ACDFD5F098EFF289F4C345B027B2C28F95E826,)
                   for pt in [_edwards.decode_point(y.to_bytes(32, "little"))] if pt is not None)  # fmt: skip
    prime = _edwards.decode_point(bytes.fromhex("58" + "66" * 31))  # the base point, of prime order
    twist = next(u for u in range(2, 100) if _twist(u))
    cases = [
        ("zero", (0).to_bytes(32, "little"), "u = 0: order 2 (X25519 with it gives an all-zero secret)"),
        ("one", (1).to_bytes(32, "little"), "u = 1: order 4"),
        ("p_minus_one", (p - 1).to_bytes(32, "little"), "u = p - 1: order 4, no Edwards twin"),
        ("order_8", _u_of(order_8), "a point of order 8"),
        ("p", p.to_bytes(32, "little"), "u = p: 0 written in a non-canonical form"),
        ("p_plus_one", (p + 1).to_bytes(32, "little"), "u = p + 1: 1 written in a non-canonical form"),
        ("top_bit_set", (int.from_bytes(good, "little") | 1 << 255).to_bytes(32, "little"),
         "the hub's valid key with the top bit set: not canonical"),
        ("mixed_order", _u_of(_edwards.add(prime, order_8)), "a prime-order point plus one of order 8"),
        ("twist", twist.to_bytes(32, "little"), f"u = {twist}: a point of the curve's twist, not of Curve25519"),
    ]
    return [{"name": name, "encryption_key": key.hex(), "reason": "weak_key", "note": note}
            for name, key, note in cases]


def _twist(u: int) -> bool:
    """Whether u is on the twist: u^3 + 486662 u^2 + u is not a square mod p."""
    p = _edwards.P
    v = (u**3 + 486662 * u * u + u) % p
    return v != 0 and pow(v, (p - 1) // 2, p) != 1


def _invalid_seals(keys: dict[str, SigningKey], record: Record, sealed: bytes,
                   other_id: bytes) -> list[dict[str, Any]]:
    good = canonical.decode(sealed)
    hub, member = keys["hub"].public.raw, keys["member"].public.raw
    assert [k for k, _ in good["to"]] == sorted([hub, member])
    mine = [k for k, _ in good["to"]].index(member)
    cases: list[dict[str, Any]] = []

    def add(name: str, reason: str, blob: bytes, note: str = "", opener: str = "member",
            record_id: bytes = record.id) -> None:
        cases.append({"name": name, "sealed": blob.hex(), "record_id": record_id.hex(), "opener": opener,
                      "reason": reason, "note": note})

    def changed(**fields: Any) -> bytes:
        return canonical.encode({**good, **fields})

    def flipped(data: bytes, index: int) -> bytes:
        out = bytearray(data)
        out[index] ^= 0x01
        return bytes(out)

    def to_with(index: int, wrapped: bytes) -> list[list[bytes]]:
        return [[k, wrapped if i == index else w] for i, (k, w) in enumerate(good["to"])]

    add("not_a_recipient", "not_a_recipient", sealed, "a valid seal; peer_hub is not listed",
        opener="peer_hub")
    add("another_record_id", "bad_seal", sealed, "the record id is bound as associated data",
        record_id=other_id)
    add("tampered_ciphertext", "bad_seal", changed(ct=flipped(good["ct"], 0)))
    add("tampered_tag", "bad_seal", changed(ct=flipped(good["ct"], len(good["ct"]) - 1)))
    add("tampered_wrapped_key", "bad_seal", changed(to=to_with(mine, flipped(good["to"][mine][1], 0))))
    add("wrapped_keys_swapped", "bad_seal",
        changed(to=[[k, w] for (k, _), (_, w) in zip(good["to"], reversed(good["to"]))]),
        "each wrapped key is bound to its recipient's key as associated data")
    add("tampered_epk", "bad_seal", changed(epk=flipped(good["epk"], 1)))
    add("low_order_epk", "bad_seal", changed(epk=bytes(32)), "X25519 gives an all-zero shared secret")
    add("version_2", "bad_seal", changed(v=2))
    add("version_2_not_a_recipient", "bad_seal", changed(v=2),
        "the shape is checked before the recipient", opener="peer_hub")
    add("recipients_unsorted", "bad_seal", changed(to=list(reversed(good["to"]))))
    add("recipient_twice", "bad_seal", changed(to=[good["to"][mine], good["to"][mine]]))
    add("no_recipient", "bad_seal", changed(to=[]))
    add("66_recipients", "bad_seal",
        changed(to=sorted([[hashlib.sha256(b"%d" % i).digest(), bytes(48)] for i in range(65)]
                          + [good["to"][mine]])), "at most 65")
    add("wrapped_47_bytes", "bad_seal", changed(to=to_with(mine, good["to"][mine][1][:47])))
    add("recipient_three_items", "bad_seal",
        changed(to=[[k, w, None] if i == mine else [k, w] for i, (k, w) in enumerate(good["to"])]))
    add("ciphertext_15_bytes", "bad_seal", changed(ct=good["ct"][:15]), "shorter than the tag")
    add("extra_field", "bad_seal", changed(note="x"))
    missing = dict(good)
    del missing["epk"]
    add("missing_field", "bad_seal", canonical.encode(missing))
    add("trailing_byte", "bad_seal", sealed + b"\x00", "not canonical msgpack")
    long_version = sealed.replace(b"\xa1v\x01", b"\xa1v\xcc\x01", 1)
    assert long_version != sealed
    add("version_in_long_form", "bad_seal", long_version, "v = 1 written cc 01: not canonical")
    return cases


# ---------------------------------------------------------------- signed requests

def request_vectors(keys: dict[str, SigningKey], hub: list[Record], t0_ms: int) -> dict[str, Any]:
    created = t0_ms // 1000
    push_body = canonical.encode({"items": [[hub[0].entry(), None]]})
    hub_id = node_id(keys["hub"].public.raw)
    cases = [
        ("push", "hub", "member", "POST", "/fed/v1/push", "", push_body, 1),
        ("log_pull", "member", "hub", "GET", f"/fed/v1/log/{hub_id}", "after=3&limit=100", b"", 2),
        ("mailbox", "member", "hub", "GET", "/fed/v1/mailbox", "after=0&limit=500", b"", 3),
    ]
    valid = []
    for name, caller, callee, method, path, query, body, number in cases:
        nonce = hashlib.sha256(b"maillon test vector nonce %d" % number).digest()[:16]
        digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
        params = ('("@method" "@path" "@query" "content-digest" "maillon-to")'
                  f';created={created + number};nonce="{nonce.hex()}"'
                  f';keyid="{node_id(keys[caller].public.raw)}";alg="ed25519"')
        base = "\n".join([f'"@method": {method}', f'"@path": {path}', f'"@query": ?{query}',
                          f'"content-digest": {digest}', f'"maillon-to": {node_id(keys[callee].public.raw)}',
                          f'"@signature-params": {params}'])
        signature = base64.b64encode(keys[caller].sign(base.encode())).decode()
        headers = {"Content-Digest": digest, "Maillon-To": node_id(keys[callee].public.raw),
                   "Signature-Input": f"maillon={params}", "Signature": f"maillon=:{signature}:"}
        assert headers == sign_request(keys[caller], method=method, path=path, query=query, body=body,
                                       callee=keys[callee].public.raw, created=created + number, nonce=nonce)
        valid.append({"name": name, "caller": caller, "caller_key": keys[caller].public.raw.hex(),
                      "callee": callee, "callee_key": keys[callee].public.raw.hex(),
                      "method": method, "path": path, "query": query, "body": body.hex(),
                      "created": created + number, "nonce": nonce.hex(), "signature_base": base,
                      "headers": headers})
    return {
        "description": "Signed requests between nodes (PROTOCOL.md, 'Signed requests'). 'valid': "
                       "sign_request with the caller's seed (keys.json) gives exactly 'headers', whose "
                       "signature is over 'signature_base' (UTF-8, no final newline); verifying gives the "
                       "caller, created and nonce. 'invalid': verifying 'headers' for the request "
                       "(method, path, query, body) received by 'callee_key' fails with 'reason'.",
        "valid": valid,
        "invalid": _invalid_requests(keys, valid),
    }


def _invalid_requests(keys: dict[str, SigningKey], valid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    push, log_pull = valid[0], valid[1]
    cases: list[dict[str, Any]] = []

    def add(name: str, reason: str, base: dict[str, Any], note: str = "",
            headers: dict[str, str] | None = None, **request: Any) -> None:
        case = {key: base[key] for key in ("method", "path", "query", "body", "callee_key")}
        case.update(request)
        cases.append({"name": name, **case, "headers": headers if headers is not None else base["headers"],
                      "reason": reason, "note": note})

    def with_header(base: dict[str, Any], **values: str) -> dict[str, str]:
        headers = dict(base["headers"])
        for name, value in values.items():
            headers[name.replace("_", "-")] = value
        return headers

    signature_input = push["headers"]["Signature-Input"]
    keyid = f'keyid="{node_id(keys["hub"].public.raw)}"'
    altered_body = bytearray(bytes.fromhex(push["body"]))
    altered_body[-1] ^= 0x01
    add("body_altered", "digest_mismatch", push, "one byte of the body changed", body=altered_body.hex())
    add("digest_of_the_altered_body", "bad_signature", push,
        "Content-Digest recomputed for the altered body: the digest is covered by the signature",
        headers=with_header(push, Content_Digest="sha-256=:"
                            + base64.b64encode(hashlib.sha256(altered_body).digest()).decode() + ":"),
        body=altered_body.hex())
    add("wrong_recipient", "wrong_recipient", push, "received by peer_hub; Maillon-To names the member",
        callee_key=keys["peer_hub"].public.raw.hex())
    add("altered_path", "bad_signature", push, path="/fed/v1/join")
    add("altered_query", "bad_signature", log_pull, query="after=0&limit=100")
    add("altered_method", "bad_signature", log_pull, method="POST")
    add("parameters_reordered", "bad_request", push, "alg before keyid",
        headers=with_header(push, Signature_Input=signature_input.replace(
            f';{keyid};alg="ed25519"', f';alg="ed25519";{keyid}')))
    add("components_reordered", "bad_request", push,
        headers=with_header(push, Signature_Input=signature_input.replace(
            '"@path" "@query"', '"@query" "@path"')))
    add("keyid_in_hex", "bad_request", push,
        headers=with_header(push, Signature_Input=signature_input.replace(
            keyid, f'keyid="{keys["hub"].public.raw.hex()}"')))
    add("another_label", "bad_request", push,
        headers=with_header(push, Signature_Input=signature_input.replace("maillon=", "sig1=", 1)))
    missing = dict(push["headers"])
    del missing["Signature"]
    add("signature_missing", "bad_request", push, headers=missing)
    add("weak_key", "weak_key", push,
        "keyid is the identity point and the signature R = identity, S = 0, which a cofactorless "
        "verifier accepts for any message",
        headers=with_header(push, Signature_Input=signature_input.replace(
            keyid, f'keyid="{node_id(IDENTITY_POINT)}"'),
            Signature="maillon=:" + base64.b64encode(IDENTITY_POINT + bytes(32)).decode() + ":"))
    signature = bytearray(base64.b64decode(push["headers"]["Signature"][9:-1]))
    signature[5] ^= 0x01
    add("bad_signature", "bad_signature", push, "one bit of the signature flipped",
        headers=with_header(push, Signature="maillon=:" + base64.b64encode(signature).decode() + ":"))
    add("signed_by_another_key", "bad_signature", push, "keyid names the hub; peer_hub signed",
        headers=with_header(push, Signature="maillon=:" + base64.b64encode(keys["peer_hub"].sign(
            push["signature_base"].encode())).decode() + ":"))
    return cases
