"""Two networks peer: one hub proposes a convention, the other signs the same body."""

from __future__ import annotations

import asyncio

from livenodes import wait_for

from node.config import load_node
from node.network.conventions import list_conventions, peered
from node.store.database import Store


def conventions_of(node, other: bytes):
    """The conventions ``node`` holds, and whether it is peered with ``other`` now."""

    async def go():
        loaded = load_node(node.data)
        store = await Store.open(loaded.db_path, loaded.key)
        try:
            async with store.reader() as db:
                return await list_conventions(db), await peered(db, node.key, other)
        finally:
            await store.close()

    return asyncio.run(go())


def test_a_convention_is_in_force_once_both_hubs_signed_it(make_node):
    ogo = make_node("Ordi Grand Ouest", role="hub").start()
    bfc = make_node("Ordi3 BFC", role="hub").start()
    # each admin pins the other after comparing fingerprints aloud
    ogo.cli("peers", "add", "--data", str(ogo.data), bfc.url, "--fingerprint", bfc.fingerprint)
    bfc.cli("peers", "add", "--data", str(bfc.data), ogo.url, "--fingerprint", ogo.fingerprint)
    out = ogo.cli("peers", "convention", "--data", str(ogo.data), bfc.node_id, "--scope", "hand-offs of lots")
    record = out.split("record ")[1].split(")")[0]
    wait_for(lambda: bfc.value("SELECT 1 FROM log_records WHERE id = ?", (bytes.fromhex(record),)), what="the proposal")
    listed = bfc.cli("peers", "conventions", "--data", str(bfc.data))
    assert "proposed" in listed and "Ordi Grand Ouest" in listed
    assert conventions_of(bfc, ogo.key)[1] is False
    bfc.cli("peers", "accept", "--data", str(bfc.data), record)
    wait_for(lambda: conventions_of(ogo, bfc.key)[1], what="the convention in force at the proposer")
    conventions, in_force = conventions_of(bfc, ogo.key)
    assert in_force and len(conventions) == 1 and conventions[0].signed_by == {ogo.key, bfc.key}
    assert "in_force" in ogo.cli("peers", "conventions", "--data", str(ogo.data))
    # signing twice is refused
    assert "already signed" in bfc.cli("peers", "accept", "--data", str(bfc.data), record, check=False)
