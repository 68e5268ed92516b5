"""Received records with values no workshop records: held as signed, their effect refused (issue 18.2).

The protocol lets a peer sign an offer expiring in the year 292 million or a
lot of a million tonnes; before this, such an offer became a hand-off here
(and its dates and weights reached the pages and the figures).
"""

from __future__ import annotations

import hashlib

import pytest

from federation import inbox
from federation.wire import Item
from node.domain.realistic import unrealistic
from node.network import peers as trust
from node.store.database import Store, now_ms
from protocol.custody_kinds import FateStatement, ItemFates2
from protocol.keys import SigningKey
from protocol.kinds import LotOffer, OfferedItem
from protocol.records import sign_record
from protocol.seal import encryption_key, seal

HUB, A = (SigningKey.from_seed(hashlib.sha256(f"bounds {n}".encode()).digest()) for n in ("hub", "a"))
GID = "0192e0c0-0000-7000-8000-0000000000{:02d}"


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "hub.db", HUB, create=True)
    async with store.transaction() as tx:
        await trust.pin_peer(tx, A.public.raw, name="Atelier A", role="member", relation="downstream",
                             encryption_key=encryption_key(A))  # fmt: skip
    yield store
    await store.close()


def offer(seq: int, prev: bytes | None, *, expires: int, weight_g: int = 2000):
    body = LotOffer(lot_ref=f"L-{seq}", recipient=HUB.public.raw, units=1, weight_g=weight_g, orientations=[],
                    expires=expires, items=[OfferedItem(gid=GID.format(seq), category="laptop",
                                                        weight_g=min(weight_g, 10**12), erasure="erased")])  # fmt: skip
    return sign_record(A, seq=seq, prev=prev, time=now_ms(), kind=body.KIND, content=body.to_content(),
                       audience=(HUB.public.raw,))  # fmt: skip


async def receive(store: Store, records) -> list[str]:
    keys = {HUB.public.raw: encryption_key(HUB), A.public.raw: encryption_key(A)}
    items = [Item(r.stub().entry(), seal(r.id, r.content, keys)) for r in records]
    async with store.transaction() as tx:
        results = await inbox.receive(tx, HUB, items, sender=A.public.raw)
    return [r.status for r in results]


async def test_an_offer_beyond_realistic_bounds_is_held_but_changes_nothing(store):
    fine = offer(1, None, expires=now_ms() + 14 * 86_400_000)
    forever = offer(2, fine.id, expires=2**63 - 1)
    heavy = offer(3, forever.id, expires=now_ms() + 86_400_000, weight_g=10**12)
    assert await receive(store, [fine, forever, heavy]) == ["accepted"] * 3  # the log stays whole
    async with store.reader() as db:
        assert [bytes(r[0]) for r in await db.all("SELECT offer FROM handoffs")] == [fine.id]
        held = await db.value("SELECT count(*) FROM log_records WHERE author = ?", (A.public.raw,))
        refused = await db.all("SELECT reason, seq FROM alerts WHERE kind = 'refused_effect' ORDER BY seq")
    assert held == 3
    assert [tuple(r) for r in refused] == [("unrealistic_value", 2)]  # one alert an hour per author and reason


def test_the_bounds_name_the_field_nested_or_not():
    fates = ItemFates2(fates=[FateStatement(gid=GID.format(1), outcome="recycled", time=now_ms(), weight_g=2000, erasures=[]),
                              FateStatement(gid=GID.format(2), outcome="recycled", time=0, weight_g=2000, erasures=[])])  # fmt: skip
    assert unrealistic(fates) == "fates[1].time: 0 is not a time from 1980 to 2100"
    assert unrealistic(ItemFates2(fates=fates.fates[:1])) is None
