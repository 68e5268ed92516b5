"""A live hub refuses what it must: replays, forgeries, unknown and revoked keys, stale requests, forks."""

from __future__ import annotations

import hashlib
import http.client
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from livenodes import LiveNode, wait_for

from node.config import load_node
from protocol import canonical
from protocol.keys import SigningKey, node_id
from protocol.kinds import LotDecline
from protocol.records import sign_record, stored_header
from protocol.requests import sign_request

sys.path.insert(0, str(Path(__file__).parents[1] / "vectors"))


def call(node: LiveNode, key: SigningKey, method: str, path: str, body: bytes = b"", *, query: str = "",
         created: int | None = None, callee: bytes | None = None, tamper=None) -> tuple[int, dict]:  # fmt: skip
    """Send one signed request to ``node``; return the status and the decoded answer."""
    headers = sign_request(key, method=method, path=path, query=query, body=body, callee=callee or node.key,
                           created=int(time.time()) if created is None else created,
                           nonce=secrets.token_bytes(16))  # fmt: skip
    headers["Content-Type"] = "application/msgpack"
    if tamper:
        headers, body = tamper(headers, body)
    return send(node, method, path + (f"?{query}" if query else ""), body, headers)


def send(node: LiveNode, method: str, target: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(node.url + target, data=body if method == "POST" else None, headers=headers,
                                     method=method)  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, canonical.decode(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, canonical.decode(exc.read())


def _flip(text: str, index: int) -> str:
    return text[:index] + ("B" if text[index] == "A" else "A") + text[index + 1 :]


@pytest.fixture
def hub_and_member(make_node):
    hub = make_node("Hub", role="hub").start()
    member = make_node("Membre", reachable=False)
    member.join(hub)
    return hub, member, load_node(member.data).key


def test_a_signed_request_from_a_member_is_served_once(hub_and_member):
    hub, member, key = hub_and_member
    status, answer = call(hub, key, "GET", "/fed/v1/mailbox", query="after=0&limit=10")
    assert status == 200 and answer["items"] == [] and answer["more"] is False
    # the same bytes again: a replay
    headers = sign_request(key, method="GET", path="/fed/v1/mailbox", query="after=0&limit=10", body=b"",
                           callee=hub.key, created=int(time.time()), nonce=secrets.token_bytes(16))  # fmt: skip
    assert send(hub, "GET", "/fed/v1/mailbox?after=0&limit=10", b"", headers)[0] == 200
    status, answer = send(hub, "GET", "/fed/v1/mailbox?after=0&limit=10", b"", headers)
    assert (status, answer["reason"]) == (401, "replayed")


@pytest.mark.parametrize(
    ("tamper", "status", "reason"),
    [
        (lambda h, b: ({**h, "Signature": _flip(h["Signature"], 20)}, b), 401, "bad_signature"),
        (lambda h, b: (h, b + b"\x00"), 400, "digest_mismatch"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "Signature-Input"}, b), 400, "bad_request"),
    ],
    ids=["altered signature", "altered body", "missing header"],
)
def test_a_forged_request_is_refused(hub_and_member, tamper, status, reason):
    hub, member, key = hub_and_member
    body = canonical.encode({"items": []})
    got, answer = call(hub, key, "POST", "/fed/v1/push", body, tamper=tamper)
    assert (got, answer["reason"]) == (status, reason)


@pytest.mark.parametrize(("method", "target"), [("post", "/fed/v1/push"), ("Post", "/fed/v1/push"),
                                                ("get", "/fed/v1/mailbox?after=0&limit=10")])
def test_a_method_not_in_capitals_is_a_bad_request_with_its_reason(hub_and_member, method, target):
    # PROTOCOL.md, "Verifying a request", step 2: the method is 1 to 16 capitals, else bad_request,
    # answered as every refusal is: {"reason", "message"}. The HTTP parser refuses it before any route.
    hub, member, key = hub_and_member
    path, _, query = target.partition("?")
    body = canonical.encode({"items": []}) if method.upper() == "POST" else b""
    headers = sign_request(key, method=method.upper(), path=path, query=query, body=body, callee=hub.key,
                           created=int(time.time()), nonce=secrets.token_bytes(16))  # fmt: skip
    host, port = hub.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, target, body=body, headers={**headers, "Content-Type": "application/msgpack"})
        response = connection.getresponse()
        status, content_type, answer = response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()
    assert (status, content_type) == (400, "application/msgpack")
    assert canonical.decode(answer)["reason"] == "bad_request"
    # the node still serves a well-formed request afterwards
    assert call(hub, key, "GET", "/fed/v1/mailbox", query="after=0&limit=10")[0] == 200


def test_unknown_stale_and_misaddressed_requests_are_refused(hub_and_member):
    hub, member, key = hub_and_member
    stranger = SigningKey.generate()
    assert call(hub, stranger, "GET", "/fed/v1/mailbox")[1]["reason"] == "unknown_key"
    assert call(hub, key, "GET", "/fed/v1/mailbox", created=int(time.time()) - 1000)[1]["reason"] == "stale_request"
    status, answer = call(hub, key, "GET", "/fed/v1/mailbox", callee=stranger.public.raw)
    assert (status, answer["reason"]) == (421, "wrong_recipient")


def test_a_revoked_member_is_refused(hub_and_member):
    hub, member, key = hub_and_member
    out = hub.cli("peers", "revoke", "--data", str(hub.data), node_id(key.public.raw), "--reason", "left the network")
    assert "revoked" in out
    status, answer = call(hub, key, "GET", "/fed/v1/mailbox")
    assert (status, answer["reason"]) == (403, "revoked_key")
    # the revocation is a record of the hub's log
    assert hub.value("SELECT count(*) FROM log_records WHERE author = ? AND kind = 'key.revocation/1'", (hub.key,)) == 1


def test_a_flood_is_rate_limited(hub_and_member):
    hub, member, key = hub_and_member
    statuses = [call(hub, key, "GET", "/fed/v1/mailbox")[0] for _ in range(160)]
    assert 429 in statuses and statuses[0] == 200


def test_a_fork_freezes_its_author_and_raises_an_alert(hub_and_member):
    hub, member, key = hub_and_member
    member.start()
    wait_for(lambda: hub.value("SELECT count(*) FROM log_records WHERE author = ?", (member.key,))
             == member.value("SELECT count(*) FROM log_records WHERE author = ?", (member.key,)))  # fmt: skip
    member.stop()
    last = member.query("SELECT seq, id FROM log_records WHERE author = ? ORDER BY seq DESC LIMIT 1", (member.key,))[0]
    # another record with the last seq held by the hub: what a node restored from an old backup would write
    row = member.query("SELECT envelope FROM log_records WHERE author = ? AND seq = ?", (member.key, last["seq"]))[0]
    header = stored_header(row["envelope"])
    forged = sign_record(key, seq=header.seq, prev=header.prev, time=header.time + 1, kind=LotDecline.KIND,
                         content=LotDecline(offer=bytes(32), reason="forked").to_content())  # fmt: skip
    body = canonical.encode({"items": [[forged.entry(), None]]})
    status, answer = call(hub, key, "POST", "/fed/v1/push", body)
    assert status == 200
    assert answer["results"][0]["status"] == "refused" and answer["results"][0]["reason"] == "fork"
    assert hub.value("SELECT count(*) FROM frozen_authors WHERE author = ?", (member.key,)) == 1
    assert hub.value("SELECT kind FROM alerts WHERE author = ?", (member.key,)) == "fork"
    # both records are kept as proof, and nothing more is accepted from that author
    assert hub.value("SELECT evidence FROM frozen_authors") == forged.envelope
    following = sign_record(key, seq=header.seq + 1, prev=last["id"], time=header.time + 2, kind=LotDecline.KIND,
                            content=LotDecline(offer=bytes(32), reason="after").to_content())  # fmt: skip
    answer = call(hub, key, "POST", "/fed/v1/push", canonical.encode({"items": [[following.entry(), None]]}))[1]
    assert answer["results"][0]["reason"] == "fork"


def test_records_the_contract_refuses_are_refused_by_a_live_hub_and_change_nothing(hub_and_member):
    # PROTOCOL.md "Keys and identity" (R of small order) and "Record kinds" (calendar days,
    # version 1 without supersedes, to only with transferred): pushed between real nodes.
    from contract_vectors import sign_with_nonce

    hub, member, key = hub_and_member
    member.start()
    wait_for(lambda: hub.value("SELECT count(*) FROM log_records WHERE author = ?", (member.key,))
             == member.value("SELECT count(*) FROM log_records WHERE author = ?", (member.key,)))  # fmt: skip
    member.stop()
    last = member.query("SELECT seq, id, time FROM log_records WHERE author = ? ORDER BY seq DESC LIMIT 1",
                        (member.key,))[0]  # fmt: skip
    held = hub.value("SELECT count(*) FROM log_records WHERE author = ?", (member.key,))

    def next_record(body) -> bytes:
        return sign_record(key, seq=last["seq"] + 1, prev=last["id"], time=last["time"] + 1, kind=body.KIND,
                           content=body.to_content()).entry()  # fmt: skip

    def with_content(kind: str, content: dict) -> bytes:
        data = canonical.encode(content)
        header = canonical.encode(["maillon/record/v1", key.public.raw, last["seq"] + 1, last["id"], last["time"] + 1,
                                   kind, [], hashlib.sha256(data).digest()])  # fmt: skip
        return canonical.encode([canonical.encode([1, header, key.sign(header)]), data])

    accepted = next_record(LotDecline(offer=bytes(32), reason="no_capacity"))
    envelope, content = canonical.decode(accepted)
    header = canonical.decode(envelope)[1]
    identity_r = sign_with_nonce(key, header, nonce=0, r_bytes=bytes([1]) + bytes(31))  # nonce 0: R = identity
    refused = {
        "bad_signature": canonical.encode([canonical.encode([1, header, identity_r]), content]),
        "bad_content": [
            with_content("donor.report/1", {"donor": "Mairie", "lots": [], "period_from": "2026-02-30",
                                            "period_to": "2026-12-31", "items": []}),
            with_content("stats.report/1", {"period": "2026-01", "version": 1, "figures": {},
                                            "supersedes": bytes(32)}),
            with_content("item.fates/1", {"fates": [{"gid": "01890a5d-ac96-7ab0-9c1e-000000000001",
                                                     "fate": "distributed", "time": 0, "to": hub.key}]}),
        ],
    }
    items = [[refused["bad_signature"], None]] + [[entry, None] for entry in refused["bad_content"]]
    status, answer = call(hub, key, "POST", "/fed/v1/push", canonical.encode({"items": items}))
    assert status == 200
    assert [(r["status"], r["reason"]) for r in answer["results"]] == [("refused", "bad_signature")] + [
        ("refused", "bad_content")] * 3
    assert hub.value("SELECT count(*) FROM log_records WHERE author = ?", (member.key,)) == held
    assert hub.value("SELECT count(*) FROM frozen_authors") == 0
    # the honest record at that seq is still taken
    answer = call(hub, key, "POST", "/fed/v1/push", canonical.encode({"items": [[accepted, None]]}))[1]
    assert answer["results"][0]["status"] == "accepted"


def test_what_a_node_did_not_publish_cannot_be_pulled(hub_and_member, make_node):
    from test_replication import append, held, own

    hub, member, key = hub_and_member
    member.start()
    private = append(member, LotDecline(offer=bytes(32), reason="private", note="Mairie de Vannes"),
                     audience=(member.key,))[0]  # fmt: skip
    wait_for(lambda: held(hub, member.key) == own(member), what="the member's log at the hub")
    other = make_node("Autre membre", reachable=False)
    other.join(hub)
    status, answer = call(hub, load_node(other.data).key, "GET", f"/fed/v1/log/{node_id(member.key)}")
    assert status == 200 and len(answer["items"]) == own(member)
    for entry, sealed in answer["items"]:
        envelope, content = canonical.decode(entry)
        header = stored_header(envelope)
        if header.audience:
            assert content is None and sealed is None  # a header, nothing to open
        else:
            assert content is not None  # the public descriptor
    # its author gets its sealed copy back (what a restore needs)
    answer = call(hub, key, "GET", f"/fed/v1/log/{node_id(member.key)}")[1]
    by_id = {stored_header(canonical.decode(e)[0]).content_hash: s for e, s in answer["items"]}
    assert by_id[private.header.content_hash] is not None
