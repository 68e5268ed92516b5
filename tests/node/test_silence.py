"""Members silent longer than their reporting period, peers unreachable for more than a day: alerts, once."""

from __future__ import annotations

import pytest
from test_regional import ANNE, BERT, DAY, Member, certify, hold, paris

from node.network import peers
from node.network.silence import check_silence
from node.store.database import clock_at, now_ms

NOW = paris("2024-06-20")


@pytest.fixture
async def hub(store):
    with clock_at(paris("2024-01-01")):
        await certify(store, ANNE, "Anne", start="2024-01-01")
        await certify(store, BERT, "Bert", start="2024-01-01")
    return store


async def alerts(store) -> list[tuple[str, bytes]]:
    async with store.reader() as db:
        return [(r["reason"], r["peer"]) for r in await db.all("SELECT reason, peer FROM alerts WHERE kind = 'silent'"
                                                               " ORDER BY id")]  # fmt: skip


async def contact(store, key: bytes, at: int) -> None:
    async with store.transaction() as tx:
        await tx.run("UPDATE peers SET last_contact = ? WHERE key = ?", (at, key))


async def check(store, now: int):
    with clock_at(now):
        async with store.transaction() as tx:
            return await check_silence(tx, now=now)


async def test_a_member_silent_longer_than_its_period_and_a_peer_unreachable_for_a_day_raise_alerts(hub):
    anne, bert = Member(ANNE), Member(BERT)
    # Anne reports monthly and sent May on June 2; Bert reports quarterly and sent Q1 on April 10
    await hold(hub, anne.report("2024-05", {"received.laptop.units": 1}, at="2024-06-02"),
               bert.report("2024-Q1", {"received.laptop.units": 1}, at="2024-04-10"))
    for key in (ANNE.public.raw, BERT.public.raw):
        await contact(hub, key, NOW - DAY // 2)
    assert await check(hub, NOW) == [] and await alerts(hub) == []
    # July 5: 33 days since Anne's last report, more than a month and a day; Bert's quarter is not due yet
    later = paris("2024-07-05")
    await contact(hub, ANNE.public.raw, later - DAY // 2)
    await contact(hub, BERT.public.raw, later - 2 * DAY)  # Bert's node has not called for two days
    assert [(s.reason, s.name) for s in await check(hub, later)] == [("member_silent", "Anne"),
                                                                     ("peer_unreachable", "Bert")]  # fmt: skip
    assert await alerts(hub) == [("member_silent", ANNE.public.raw), ("peer_unreachable", BERT.public.raw)]
    async with hub.reader() as db:  # the detail says when, as a person reads a date, not in milliseconds
        details = [r[0] for r in await db.all("SELECT detail FROM alerts WHERE kind = 'silent' ORDER BY id")]
    assert details[0] == "Anne: last statistics report signed on 2024-06-02 (Paris time), for a month"
    assert details[1].startswith("Bert: no valid signed exchange either way since 2024-07-03 ")
    await check(hub, later + DAY // 4)  # looked at again: the same silences, no second alert
    assert len(await alerts(hub)) == 2
    # Anne reports again, then falls silent again: a new silence, a new alert
    await hold(hub, anne.report("2024-06", {"received.laptop.units": 1}, at="2024-07-06"),
               bert.report("2024-Q2", {"received.laptop.units": 1}, at="2024-07-08"))
    await contact(hub, BERT.public.raw, paris("2024-08-07") - DAY // 2)
    await contact(hub, ANNE.public.raw, paris("2024-08-07") - DAY // 2)
    assert await check(hub, paris("2024-08-07")) == []  # 32 days: a month and a day
    assert [s.reason for s in await check(hub, paris("2024-08-07") + DAY // 2)] == ["member_silent"]
    assert [reason for reason, _ in await alerts(hub)].count("member_silent") == 2


async def test_a_revoked_peer_raises_no_silence_alert(hub):
    async with hub.transaction() as tx:
        await peers.revoke_peer(tx, BERT.public.raw, 1)
    await contact(hub, ANNE.public.raw, NOW)
    silences = await check(hub, NOW)
    assert [(s.reason, s.name) for s in silences] == [("member_silent", "Anne")]  # never reported since January


async def test_the_hourly_look_raises_the_same_alerts_once(hub):
    from node.network.upkeep import look_for_silence

    for member in (ANNE, BERT):
        await contact(hub, member.public.raw, now_ms())
    await look_for_silence(hub)  # now: Anne and Bert certified for 2024 only, so no member is due a report
    assert await alerts(hub) == []
    await contact(hub, BERT.public.raw, now_ms() - 2 * DAY)  # Bert was last heard of two days ago
    await look_for_silence(hub)
    await look_for_silence(hub)
    assert await alerts(hub) == [("peer_unreachable", BERT.public.raw)]
