"""``maillon handoff ...`` on two real data directories, records carried between them.

The hub and the member are made by ``maillon init``; each pins the other as
a join would. ``carry`` hands one node's log to the other exactly as the
federation does (the entry, the content sealed to its audience,
``federation.inbox.receive``), as tests/federation/test_handoff_domain.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from federation.inbox import receive
from federation.wire import Item
from node.cli.main import main
from node.config import Node, load_node
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.network import handoff_views, handoffs, peers
from node.store.database import Store
from protocol import canonical
from protocol.records import open_entry
from protocol.seal import encryption_key, seal


@dataclass
class Pair:
    hub: Node
    member: Node

    def keys(self):
        return {node.key.public.raw: node.key for node in (self.hub, self.member)}


def init(root: Path, name: str, role: str) -> Node:
    assert main(["init", "--data", str(root / name), "--name", name, "--role", role]) == 0
    return load_node(root / name)


async def on(node: Node, action):
    store = await Store.open(node.db_path, node.key)
    try:
        return await action(store)
    finally:
        await store.close()


def run(node: Node, action):
    return asyncio.run(on(node, action))


async def _pin(store: Store, other: Node, relation: str) -> None:
    async with store.transaction() as tx:
        await peers.pin_peer(tx, other.key.public.raw, name=other.config.name, role=other.config.role,
                             relation=relation, encryption_key=encryption_key(other.key))  # fmt: skip


@pytest.fixture
def pair(tmp_path, capsys) -> Pair:
    made = Pair(init(tmp_path, "hub", "hub"), init(tmp_path, "member", "member"))
    run(made.hub, lambda store: _pin(store, made.member, "downstream"))
    run(made.member, lambda store: _pin(store, made.hub, "upstream"))
    capsys.readouterr()
    return made


def carry(pair: Pair, source: Node, target: Node) -> None:
    """``target`` receives ``source``'s whole log (already held records are skipped)."""
    keys = pair.keys()

    async def read(store: Store) -> list:
        async with store.reader() as db:
            return await db.all("SELECT envelope, content FROM log_records WHERE author = ? ORDER BY seq",
                                (source.key.public.raw,))  # fmt: skip

    items = []
    for row in run(source, read):
        record = open_entry(canonical.encode([row["envelope"], row["content"]]))
        if record.header.audience:
            readers = {*record.header.audience, record.header.author}
            sealed = seal(record.id, record.content, {k: encryption_key(keys[k]) for k in readers})
            items.append(Item(canonical.encode([record.envelope, None]), sealed))
        else:
            items.append(Item(record.entry()))

    async def hold(store: Store) -> None:
        async with store.transaction() as tx:
            await receive(tx, target.key, items, sender=source.key.public.raw)

    run(target, hold)


def stock(node: Node, count: int, *, erased: int = 0, reference: str = "ETAT-2026-01") -> list[str]:
    """A lot of ``count`` laptops (serials SN0, SN1...); the first ``erased`` wiped. Returns the global ids."""

    async def act(store: Store) -> list[str]:
        async with store.transaction() as tx:
            lot = await create_lot(tx, LotInput(reference=reference, declared_units=count))
            ids = await create_items(tx, lot, [ItemInput(category="laptop", serial=f"SN{n}", weight_g=2000)
                                               for n in range(count)])  # fmt: skip
            for item_id in ids[:erased]:
                await tx.run("INSERT INTO erasures (item_id, method, level, tool, result, time)"
                             " VALUES (?, 'nist', 'purge', 'nwipe', 'success', 1)", (item_id,))  # fmt: skip
            return [await tx.value("SELECT gid FROM items WHERE id = ?", (i,)) for i in ids]

    return run(node, act)


def query(node: Node, sql: str, params=()) -> list:
    async def act(store: Store) -> list:
        async with store.reader() as db:
            return [tuple(row) for row in await db.all(sql, params)]

    return run(node, act)


def handoff(node: Node) -> handoffs.Handoff:
    async def act(store: Store) -> handoffs.Handoff:
        async with store.reader() as db:
            return (await handoffs.list_handoffs(db))[0]

    return run(node, act)


def maillon(*args: str) -> int:
    return main([str(a) for a in args])


def test_a_lot_offered_accepted_and_received_from_the_command_line(pair, capsys, tmp_path):
    hub, member = pair.hub, pair.member
    gids = stock(hub, 6, erased=2)
    prefix = member.key.public.fingerprint[:9]  # "ABCD-EFGH": the start of the fingerprint, as read aloud
    assert maillon("handoff", "offer", "--data", hub.data_dir, "--lot", "ETAT-2026-01", "--to", prefix,
                   "--days", 10, "--note", "palette 3") == 0  # fmt: skip
    out = capsys.readouterr().out
    offer = handoff(hub).offer
    assert f"offer {offer.hex()}" in out and "6 items, 12.0 kg, to member" in out
    assert "4 items not erased yet" in out
    assert maillon("handoff", "list", "--data", hub.data_dir, "--out") == 0
    assert "offered" in capsys.readouterr().out

    carry(pair, hub, member)
    assert maillon("handoff", "list", "--data", member.data_dir, "--in", "--state", "offered") == 0
    listed = capsys.readouterr().out
    assert offer.hex()[:16] in listed and "from hub" in listed
    assert maillon("handoff", "show", "--data", member.data_dir, offer.hex()[:8]) == 0
    shown = capsys.readouterr().out
    assert "note: palette 3" in shown and shown.count("erased") == 2 and "S/N SN5" in shown
    assert maillon("handoff", "accept", "--data", member.data_dir, offer.hex()[:8], "--note", "merci") == 0
    assert "accepted" in capsys.readouterr().out
    carry(pair, member, hub)
    assert handoff(hub).state == "accepted"

    # the truck arrives: scanned labels (URL), a typed serial, a global id; one missing; one damaged; a screen extra
    scanned = tmp_path / "scanned.txt"
    scanned.write_text(f"https://hub.example/i/{gids[0]}\nsn1\n{gids[2]}\n# the end of the pallet\n{gids[3]}\n"
                       f"{gids[4]}\n", encoding="utf-8")  # fmt: skip
    assert maillon("handoff", "receive", "--data", member.data_dir, offer.hex()[:10], "--weight", "13,5kg",
                   "--received-file", scanned, "--missing", gids[5], "--damaged", "SN4", "--extra", "screen:4000",
                   "--note", "one laptop missing") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "6 items counted of 6 declared; 13.5 kg weighed, 12.0 kg declared" in out
    held = query(member, "SELECT gid, origin_node FROM items ORDER BY id")
    assert [g for g, _ in held[:5]] == gids[:5] and len(held) == 6
    assert query(member, "SELECT damaged FROM handoff_items WHERE gid = ?", (gids[4],)) == [(1,)]
    carry(pair, member, hub)
    states = query(hub, "SELECT state FROM items ORDER BY id")
    assert [s for (s,) in states] == ["transferred"] * 5 + ["received"]
    assert maillon("handoff", "show", "--data", hub.data_dir, offer.hex()) == 0
    shown = capsys.readouterr().out
    assert "received damaged" in shown and "missing" in shown and "extra  screen  4.0 kg" in shown


def test_receipts_that_do_not_add_up_are_refused_and_change_nothing(pair, capsys, tmp_path):
    hub, member = pair.hub, pair.member
    gids = stock(hub, 3, erased=3)
    assert maillon("handoff", "offer", "--data", hub.data_dir, "--lot", "ETAT-2026-01", "--to",
                   member.key.public.node_id) == 0  # fmt: skip
    offer = handoff(hub).offer.hex()
    carry(pair, hub, member)
    assert maillon("handoff", "accept", "--data", member.data_dir, offer) == 0
    scanned = tmp_path / "scanned.txt"
    scanned.write_text(gids[0] + "\n", encoding="utf-8")
    capsys.readouterr()
    # two lines neither received nor missing: the domain's bad_counts
    assert maillon("handoff", "receive", "--data", member.data_dir, offer, "--weight", "2000",
                   "--received-file", scanned) == 1  # fmt: skip
    assert "refused (bad_counts)" in capsys.readouterr().err
    # a code of the file that names no line
    scanned.write_text(gids[0] + "\nNOT-A-SERIAL\n", encoding="utf-8")
    assert maillon("handoff", "receive", "--data", member.data_dir, offer, "--weight", "2000",
                   "--received-file", scanned, "--rest-missing") == 1  # fmt: skip
    assert "refused (not_in_offer)" in capsys.readouterr().err
    # damaged but not received
    assert maillon("handoff", "receive", "--data", member.data_dir, offer, "--weight", "2000", "--all",
                   "--missing", gids[1], "--damaged", gids[1]) == 1  # fmt: skip
    assert "damaged but not received" in capsys.readouterr().err
    assert query(member, "SELECT count(*) FROM items") == [(0,)]
    assert handoff(member).state == "accepted"
    # a day in the future, or not a day
    assert maillon("handoff", "receive", "--data", member.data_dir, offer, "--weight", "2000", "--all",
                   "--on", "2099-01-01") == 1  # fmt: skip
    assert "refused (future_date)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        maillon("handoff", "receive", "--data", member.data_dir, offer, "--weight", "2000", "--all", "--on", "1/6/2023")
    assert "not a day written YYYY-MM-DD" in capsys.readouterr().err
    assert query(member, "SELECT count(*) FROM items") == [(0,)]
    # entered afterwards: the lot arrived on 2023-06-01
    scanned.write_text(gids[0] + "\n", encoding="utf-8")
    assert maillon("handoff", "receive", "--data", member.data_dir, offer, "--weight", "2000",
                   "--received-file", scanned, "--rest-missing", "--on", "2023-06-01") == 0  # fmt: skip
    assert query(member, "SELECT received_on FROM lots") == [("2023-06-01",)]
    assert "1 items counted of 3 declared" in capsys.readouterr().out
    assert query(member, "SELECT outcome, count(*) FROM handoff_items GROUP BY outcome ORDER BY outcome") == [
        ("missing", 2), ("received", 1)]  # fmt: skip


def test_decline_cancel_and_bad_names(pair, capsys):
    hub, member = pair.hub, pair.member
    stock(hub, 2)
    stock(hub, 1, reference="MAIRIE-7")
    tags = [tag for (tag,) in query(hub, "SELECT asset_tag FROM items ORDER BY id")]
    assert maillon("handoff", "offer", "--data", hub.data_dir, "--to", "ZZZZ", "--lot", "ETAT-2026-01") == 1
    assert "refused (unknown_node)" in capsys.readouterr().err
    assert maillon("handoff", "offer", "--data", hub.data_dir, "--to", "!!", "--lot", "ETAT-2026-01") == 1
    assert "refused (bad_fingerprint)" in capsys.readouterr().err
    assert maillon("handoff", "offer", "--data", hub.data_dir, "--to", member.key.public.fingerprint,
                   "--items", tags[0], tags[2].lower()) == 0  # fmt: skip
    first = handoff(hub).offer.hex()
    # an item already in an open offer cannot be offered again
    assert maillon("handoff", "offer", "--data", hub.data_dir, "--to", member.key.public.fingerprint,
                   "--lot", "ETAT-2026-01") == 1  # fmt: skip
    assert "refused (already_offered)" in capsys.readouterr().err
    assert maillon("handoff", "show", "--data", hub.data_dir, first[:7]) == 1
    assert "refused (bad_offer_id)" in capsys.readouterr().err
    assert maillon("handoff", "show", "--data", hub.data_dir, "ffffffff") == 1
    assert "refused (unknown_offer)" in capsys.readouterr().err
    # the hub cannot accept its own offer; the member declines it with a reason
    assert maillon("handoff", "accept", "--data", hub.data_dir, first) == 1
    assert "refused (not_yours)" in capsys.readouterr().err
    carry(pair, hub, member)
    assert maillon("handoff", "decline", "--data", member.data_dir, first, "--reason", "No room!") == 2
    assert "--reason is a code" in capsys.readouterr().err
    assert maillon("handoff", "decline", "--data", member.data_dir, first, "--reason", "no_room",
                   "--note", "plus de place") == 0  # fmt: skip
    carry(pair, member, hub)
    assert handoff(hub).state == "declined" and handoff(hub).reason == "no_room"
    # a new offer, withdrawn before it is answered
    assert maillon("handoff", "offer", "--data", hub.data_dir, "--to", member.key.public.fingerprint,
                   "--lot", "ETAT-2026-01") == 0  # fmt: skip
    second = handoff(hub).offer.hex()
    assert maillon("handoff", "cancel", "--data", hub.data_dir, second[:12], "--reason", "no_transport") == 0
    assert maillon("handoff", "cancel", "--data", hub.data_dir, second[:12]) == 1
    assert "refused (not_open)" in capsys.readouterr().err
    carry(pair, hub, member)
    assert maillon("handoff", "list", "--data", member.data_dir, "--state", "cancelled") == 0
    assert second[:16] in capsys.readouterr().out
    assert maillon("handoff", "accept", "--data", member.data_dir, second) == 1
    assert "refused (not_open)" in capsys.readouterr().err


def test_a_hub_cannot_offer_a_lot_to_national(tmp_path, capsys):
    """National reads the hubs' summaries and holds no stock: an offer to it is refused, nothing is signed."""
    hub, federation = init(tmp_path, "hub", "hub"), init(tmp_path, "national", "national")
    run(hub, lambda store: _pin(store, federation, "upstream"))
    stock(hub, 2)
    records = query(hub, "SELECT count(*) FROM log_records")
    capsys.readouterr()
    for to in (federation.key.public.fingerprint[:9], federation.key.public.node_id):  # read aloud, or pasted
        assert maillon("handoff", "offer", "--data", hub.data_dir, "--lot", "ETAT-2026-01", "--to", to) == 1
        assert "refused (national_holds_no_lots)" in capsys.readouterr().err
    assert query(hub, "SELECT count(*) FROM handoffs") == [(0,)]
    assert query(hub, "SELECT count(*) FROM log_records") == records

    async def whom(store: Store) -> list[bytes]:
        async with store.reader() as db:
            return [r.key for r in await handoff_views.recipients(db, hub.key.public.raw)]

    assert federation.key.public.raw not in run(hub, whom)  # the page never proposes it
