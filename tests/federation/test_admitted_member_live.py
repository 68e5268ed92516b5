"""An admitted member, or a revoked one, cannot bend a live hub: each attempt is refused with its reason, changes nothing.

The member here is a key that joined the hub with a real invitation, then
speaks to it with requests signed as any node's are: what a hostile admin
of a member association can do with its own key.
"""

from __future__ import annotations

import time

import pytest
from livenodes import LiveNode, free_port
from test_requests_live import call

from protocol import canonical
from protocol.keys import SigningKey, node_id
from protocol.kinds import KeyRotation, LotDecline, NodeDescriptor
from protocol.records import Record, sign_record
from protocol.seal import encryption_key

IDENTITY = bytes.fromhex("01" + "00" * 31)  # the Ed25519 identity point: a weak key
P = 2**255 - 19
LOW_ORDER_X25519 = [  # u of points of small order (all-zero shared secrets), in canonical form
    bytes(32),
    (1).to_bytes(32, "little"),
    (325606250916557431795983626356110631294008115727848805560023387167927233504).to_bytes(32, "little"),
    (P - 1).to_bytes(32, "little"),
]


def enrol(hub: LiveNode, key: SigningKey, *, token: str | None = None, x25519: bytes | None = None) -> tuple[int, dict]:
    """``key`` joins ``hub`` (with a fresh invitation unless ``token``); the status and the answer."""
    token = token or hub.invite()[0]
    body = {"token": token, "name": "Atelier hostile", "role": "member",
            "encryption_key": encryption_key(key) if x25519 is None else x25519}  # fmt: skip
    return call(hub, key, "POST", "/fed/v1/join", canonical.encode(body))


def record(author: SigningKey, body, *, seq: int = 1, prev: bytes | None = None, kind: str | None = None) -> Record:
    """A record of ``author``'s log: ``body`` a kind's model, or a map under ``kind``."""
    return sign_record(author, seq=seq, prev=prev, time=int(time.time() * 1000), kind=kind or body.KIND,
                       content=body if isinstance(body, dict) else body.to_content())  # fmt: skip


def push(hub: LiveNode, sender: SigningKey, records: list[Record]) -> list[dict]:
    status, answer = call(hub, sender, "POST", "/fed/v1/push",
                          canonical.encode({"items": [[r.entry(), None] for r in records]}))  # fmt: skip
    assert status == 200, answer
    return answer["results"]


def state(hub: LiveNode) -> tuple:
    """What the hub holds and trusts: its records, leaves, peers, certificates and invitations.

    The hub's own checkpoints are left out: it signs one whenever its log grew, at a moment of its own.
    """
    return (hub.value("SELECT count(*) FROM log_records WHERE kind != 'log.checkpoint/1'"),
            hub.value("SELECT count(*) FROM transparency_leaves"),
            [tuple(r) for r in hub.query("SELECT key, role, relation, url, encryption_key, state FROM peers ORDER BY key")],
            [tuple(r) for r in hub.query("SELECT used, used_by FROM invitations ORDER BY id")])  # fmt: skip


def certificates(hub: LiveNode) -> int:
    return hub.value("SELECT count(*) FROM log_records WHERE kind = 'membership.certificate/1'")


@pytest.fixture
def hub_and_member(make_node):
    hub = make_node("Hub", role="hub").start()
    member = SigningKey.generate()
    assert enrol(hub, member)[0] == 200
    return hub, member


def test_a_member_relays_no_record_of_a_key_nobody_admitted_and_no_kind_the_hub_does_not_know(hub_and_member):
    hub, member = hub_and_member
    before = state(hub)
    stranger = SigningKey.generate()
    foreign = [record(stranger, LotDecline(offer=bytes(32), reason="spam")),
               record(stranger, {"anything": 1}, kind="evil.kind/1")]  # fmt: skip
    assert [r["reason"] for r in push(hub, member, foreign)] == ["unknown_author", "unknown_author"]
    evil = record(member, {"anything": "x" * 1000}, kind="evil.kind/1")
    assert [(r["status"], r["reason"]) for r in push(hub, member, [evil])] == [("refused", "unknown_kind")]
    assert state(hub) == before  # nothing held, no transparency leaf
    reasons = {row["reason"] for row in hub.query("SELECT reason FROM alerts WHERE kind = 'refused'")}
    assert {"unknown_author", "unknown_kind"} <= reasons
    # the member's own records of a known kind are taken, as ever
    assert push(hub, member, [record(member, LotDecline(offer=bytes(32), reason="ok"))])[0]["status"] == "accepted"


@pytest.mark.parametrize("weak", LOW_ORDER_X25519, ids=["zero", "one", "order 8", "p-1"])
def test_a_weak_encryption_key_is_refused_at_a_join(make_node, weak):
    hub = make_node("Hub", role="hub").start()
    token = hub.invite()[0]
    before = state(hub)
    key = SigningKey.generate()
    status, answer = enrol(hub, key, token=token, x25519=weak)
    assert (status, answer["reason"]) == (400, "weak_key")
    assert state(hub) == before  # not pinned, the token not used
    assert enrol(hub, key, token=token)[0] == 200


def test_a_weak_encryption_key_is_refused_in_a_descriptor(hub_and_member):
    hub, member = hub_and_member
    before = state(hub)
    descriptor = record(member, NodeDescriptor(name="Atelier hostile", role="member", endpoints=[],
                                               encryption_key=bytes(32)))  # fmt: skip
    assert [(r["status"], r["reason"]) for r in push(hub, member, [descriptor])] == [("refused", "weak_key")]
    assert state(hub) == before


def test_a_token_is_used_once_and_a_repeated_join_signs_nothing(make_node):
    hub = make_node("Hub", role="hub").start()
    token = hub.invite()[0]
    member = SigningKey.generate()
    status, first = enrol(hub, member, token=token)
    assert status == 200 and certificates(hub) == 1
    before = state(hub)
    for _ in range(3):  # the member lost the answer, or tries its luck: the same membership, nothing signed
        status, again = enrol(hub, member, token=token)
        assert status == 200 and again["certificate"] == first["certificate"]
    assert certificates(hub) == 1 and state(hub) == before
    status, answer = enrol(hub, SigningKey.generate(), token=token)
    assert (status, answer["reason"]) == (400, "bad_invitation")


def test_a_revoked_key_is_never_admitted_again_and_the_token_it_shows_is_void(make_node):
    hub = make_node("Hub", role="hub").start()
    used, unused = hub.invite()[0], hub.invite()[0]
    member = SigningKey.generate()
    assert enrol(hub, member, token=used)[0] == 200
    hub.cli("peers", "revoke", "--data", str(hub.data), node_id(member.public.raw), "--reason", "left the network")
    count = certificates(hub)
    for token in (used, unused):  # its own still-valid token, or another it was given
        status, answer = enrol(hub, member, token=token)
        assert (status, answer["reason"]) == (400, "revoked_key")
    assert certificates(hub) == count
    assert hub.value("SELECT state FROM peers WHERE key = ?", (member.public.raw,)) == "revoked"
    # the unused token it showed is void: the same node under a new key is not admitted with it
    status, answer = enrol(hub, SigningKey.generate(), token=unused)
    assert (status, answer["reason"]) == (400, "bad_invitation")
    assert certificates(hub) == count


def test_nothing_of_a_key_after_its_rotation_is_taken(hub_and_member):
    hub, member = hub_and_member
    new = SigningKey.generate()
    rotation = record(member, KeyRotation(new_key=new.public.raw))
    assert push(hub, member, [rotation])[0]["status"] == "accepted"
    assert hub.value("SELECT state FROM peers WHERE key = ?", (new.public.raw,)) == "active"
    before = state(hub)
    later = record(member, LotDecline(offer=bytes(32), reason="after"), seq=2, prev=rotation.id)
    # relayed by the new key (the old one is refused at the door: it rotated)
    assert [(r["status"], r["reason"]) for r in push(hub, new, [later])] == [("refused", "revoked_key")]
    assert call(hub, member, "POST", "/fed/v1/push", canonical.encode({"items": []}))[1]["reason"] == "revoked_key"
    assert state(hub) == before


def test_a_rotation_names_a_fresh_valid_key(hub_and_member):
    hub, member = hub_and_member
    other = SigningKey.generate()
    assert enrol(hub, other)[0] == 200
    before = state(hub)
    named = {"the hub's key": hub.key, "another member's key": other.public.raw, "its own key": member.public.raw,
             "the identity key": IDENTITY}  # fmt: skip
    rotations = [record(member, KeyRotation(new_key=key, reason=what)) for what, key in named.items()]
    results = push(hub, member, rotations)
    assert [(r["status"], r["reason"]) for r in results] == [("refused", "key_not_fresh")] * 3 + [("refused", "weak_key")]
    assert state(hub) == before  # no key pinned, the member still active under its key
    assert hub.value("SELECT state FROM peers WHERE key = ?", (member.public.raw,)) == "active"


def test_a_descriptor_changes_no_role_and_moves_a_node_only_to_an_origin(hub_and_member):
    hub, member = hub_and_member
    elsewhere = f"http://127.0.0.1:{free_port()}"

    def peer() -> tuple:
        return tuple(hub.query("SELECT role, url, name FROM peers WHERE key = ?", (member.public.raw,))[0])

    def effect_refusals() -> list[str]:
        return [r["reason"] for r in hub.query("SELECT reason FROM alerts WHERE kind = 'refused_effect' ORDER BY id")]

    before = peer()
    assert before == ("member", None, "Atelier hostile")
    descriptors = [NodeDescriptor(name="Fédération nationale", role="national", endpoints=[elsewhere]),
                   NodeDescriptor(name="Atelier", role="member", endpoints=[elsewhere + "/fed/v1/evil"]),
                   NodeDescriptor(name="Atelier", role="member", endpoints=["http://user:pw@127.0.0.1:1"])]  # fmt: skip
    prev = None
    for seq, body in enumerate(descriptors, start=1):
        held = record(member, body, seq=seq, prev=prev)
        prev = held.id
        assert push(hub, member, [held])[0]["status"] == "accepted"  # held: the member's log stays whole
    assert peer() == before  # but nothing it claims changed: not its role, not where the hub calls it
    assert effect_refusals() == ["role_not_certified", "bad_url"]  # (a repeat within the hour is folded)
    # a move to another origin is taken, and shown to the hub's admin
    moved = record(member, NodeDescriptor(name="Atelier", role="member", endpoints=[elsewhere + "/"]), seq=4, prev=prev)
    assert push(hub, member, [moved])[0]["status"] == "accepted"
    assert peer() == ("member", elsewhere, "Atelier")
    change = hub.query("SELECT reason, detail FROM alerts WHERE kind = 'url_changed'")
    assert [(r["reason"], r["detail"]) for r in change] == [("url_changed", f"(none) -> {elsewhere}")]

