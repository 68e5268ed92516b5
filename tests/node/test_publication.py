"""The publication policy decides the audience of what the node signs."""

from __future__ import annotations

import json

import pytest

from node.domain.publication import audience_for
from node.domain.settings import set_setting
from node.network import peers
from node.store.database import now_ms
from protocol.keys import SigningKey
from protocol.kinds import MembershipCertificate
from protocol.records import sign_record

HUB = SigningKey.from_seed(bytes([7]) * 32)
OTHER = SigningKey.from_seed(bytes([8]) * 32).public.raw


async def policy(store, **levels):
    value = {"fates": "hub", "stats": "hub", "workforce": "none", **levels}
    async with store.transaction() as tx:
        await set_setting(tx, "publication_policy", json.dumps(value))


async def audience(store, topic):
    async with store.transaction() as tx:
        return await audience_for(tx, topic)


async def test_each_level_gives_its_audience(store):
    me = store.key.public.raw
    await policy(store, stats="none", fates="public")
    assert await audience(store, "stats") is None
    assert await audience(store, "fates") == ()
    await policy(store, stats="hub")
    assert await audience(store, "stats") == (me,)  # no hub yet: this node alone
    async with store.transaction() as tx:
        await peers.pin_peer(tx, HUB.public.raw, name="Hub", role="hub", relation="upstream", url="http://hub")
        # the hub certified another member: its certificate is in the hub's log, held here
        now = now_ms()
        body = MembershipCertificate(member=OTHER, member_name="Autre", role="member", network="Réseau",
                                     valid_from=now - 1000, valid_until=now + 10**9)  # fmt: skip
        record = sign_record(HUB, seq=1, prev=None, time=now, kind=body.KIND, content=body.to_content())
        await tx.run("INSERT INTO log_records (author, seq, id, kind, time, envelope, content) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (HUB.public.raw, 1, record.id, body.KIND, now, record.envelope, record.content))  # fmt: skip
    assert await audience(store, "stats") == tuple(sorted([me, HUB.public.raw]))
    await policy(store, stats="network")
    assert await audience(store, "stats") == tuple(sorted([me, HUB.public.raw, OTHER]))


async def test_an_unknown_topic_is_a_bug(store):
    with pytest.raises(ValueError):
        await audience(store, "donors")
