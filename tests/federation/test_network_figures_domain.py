"""What entered a network, moved inside it and left it, from hand-offs carried by the real inbox (in process).

Reuses the nodes of ``test_handoff_domain``: a hub, and two members it
certified ("member", "other"), each a real SQLite file.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from test_handoff_domain import carry, gids, keys, nodes, signed, stock, sync_logs  # noqa: F401  (fixtures)

from node.domain.impact import FACTOR_TABLES
from node.domain.memberships import network_keys
from node.domain.stats import compute_stats, period_bounds
from node.domain.workflow import move_items
from node.network import handoffs
from node.network.regional import sum_figures
from node.network.stats_reports import build_report
from node.store.database import clock_at

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS).timestamp()) * 1000


async def figures(node, period: str, **options) -> dict[str, int]:
    async with node.store.transaction() as tx:  # build_report reads as the node signs: with its key
        if options:
            start, end = period_bounds(period)
            stats = await compute_stats(tx, start, end, years=3, factors=FACTOR_TABLES["ademe-2022"], **options)
            return stats.as_figures()
        return dict((await build_report(tx, period)).figures)


async def test_received_is_split_into_entered_moved_inside_and_left(nodes):
    hub, member = nodes["hub"], nodes["member"]
    with clock_at(at("2025-03-03 09:00")):
        lot, ids = await stock(hub, 10, erased=10)  # the State's lot at the hub: it enters the network
        await sync_logs(hub, member)
        offer = await signed(hub, lambda tx: handoffs.create_offer(tx, handoffs.OfferInput(recipient=member.raw,
                                                                                            lot_id=lot)))  # fmt: skip
        await carry([offer], hub, member)
    with clock_at(at("2025-03-10 09:00")):
        await signed(member, lambda tx: handoffs.answer_offer(tx, offer.id, accept=True))
        await sync_logs(member, hub)
        handed = (await gids(hub, ids))[:8]
        receipt = handoffs.ReceiptInput(received=handed, missing=(await gids(hub, ids))[8:], weight_g=16_000)
        await signed(member, lambda tx: handoffs.record_receipt(tx, offer.id, receipt))
        await sync_logs(member, hub)
    with clock_at(at("2025-03-20 09:00")):  # one laptop leaves the federation (no hand-off: no key to name)
        async with member.store.transaction() as tx:
            first = await tx.value("SELECT id FROM items ORDER BY id LIMIT 1")
            await move_items(tx, [first], "transferred")

    hub_march, member_march = await figures(hub, "2025-03"), await figures(member, "2025-03")
    assert (hub_march["entered.laptop.units"], hub_march["entered.laptop.weight_g"]) == (10, 20_000)
    assert hub_march["moved_out.laptop.units"] == 8 and "left.laptop.units" not in hub_march
    assert hub_march["lots.from_donors"] == 1 and hub_march["donors.count"] == 1
    assert member_march["moved_in.laptop.units"] == 8 and "entered.laptop.units" not in member_march
    assert member_march["left.laptop.units"] == 1 and "lots.from_donors" not in member_march
    # "received" adds the hand-off twice across the network; what entered is counted once
    network = sum_figures([hub_march, member_march])
    assert network["received.laptop.units"] == 18
    flows = (network["entered.laptop.units"], network["moved_in.laptop.units"], network["left.laptop.units"])
    assert flows == (10, 8, 1)
    # the same items from a node outside this node's network: they came from another network
    async with member.store.reader() as db:
        assert hub.raw in await network_keys(db, member.raw)
    alone = await figures(member, "2025-03", network=frozenset({member.raw}))
    assert alone["from_other_network.laptop.units"] == 8 and "moved_in.laptop.units" not in alone
