"""Replaying a node's own records after a restore (``node.network.recovery``), on a real SQLite file."""

from __future__ import annotations

from node.network import peers
from node.network.recovery import replay
from node.store.database import Store, restore
from protocol.kinds import KeyRevocation, MembershipCertificate

MEMBER = bytes(range(1, 33))
OTHER = bytes(range(2, 34))


async def test_a_member_admitted_then_revoked_after_the_backup_stays_revoked(store, tmp_path):
    async with store.transaction() as tx:
        await tx.append(MembershipCertificate(member=bytes(range(40, 72)), member_name="Autre", role="member",
                                              network="Réseau", valid_from=0, valid_until=2**40))  # fmt: skip
    await store.backup(tmp_path / "backup.db")
    async with store.transaction() as tx:
        admitted = await tx.append(MembershipCertificate(member=MEMBER, member_name="Atelier", role="member",
                                                         network="Réseau", valid_from=0, valid_until=2**40))  # fmt: skip
        await peers.pin_peer(tx, MEMBER, name="Atelier", role="member", relation="downstream")
        revoked = await tx.append(KeyRevocation(key=MEMBER, from_seq=1, reason="left the network"))
        await peers.revoke_peer(tx, MEMBER, 1)
    key = store.key
    await store.close()
    restore(tmp_path / "backup.db", tmp_path / "node.db")
    again = await Store.open(tmp_path / "node.db", key)
    try:
        async with again.transaction() as tx:
            assert await peers.get_peer(tx, MEMBER) is None  # the backup does not know it
            assert await replay(tx, [admitted, revoked]) == 2
            assert await replay(tx, [admitted, revoked]) == 0  # idempotent
            peer = await peers.get_peer(tx, MEMBER)
        assert (peer.state, peer.revoked_from) == ("revoked", 1)
    finally:
        await again.close()


async def test_fates_signed_after_the_backup_move_the_items_again_and_what_was_passed_on_stays_passed_on(store, tmp_path):
    """``item.fates/2``: the outcomes this node signed are replayed; in stock and missing move nothing;
    the records it passed on are marked so, so that they are not passed on twice."""
    from node.domain.fate_evidence import statement
    from node.domain.items import ItemInput, create_items
    from node.domain.lots import LotInput, create_lot
    from node.domain.workflow import move_items
    from protocol.custody_kinds import ItemFates2

    async with store.transaction() as tx:
        lot = await create_lot(tx, LotInput(reference="ETAT-1"))
        ids = await create_items(tx, lot, [ItemInput(category="screen", weight_g=4000) for _ in range(3)])
        await move_items(tx, ids, "ready")
        gid = [await tx.value("SELECT gid FROM items WHERE id = ?", (i,)) for i in ids]
        await tx.append(ItemFates2(fates=[statement(gid[2], "in_stock", 1, [], {}, 4000)]))
    await store.backup(tmp_path / "backup.db")
    async with store.transaction() as tx:
        await move_items(tx, ids[:1], "recycled", fate={"outflow": "Ecologic (16 02 14)"})
        recycled = await tx.one("SELECT envelope, content FROM log_records WHERE kind = 'item.fates/2' ORDER BY seq DESC")
        held = await tx.append(ItemFates2(fates=[statement(gid[1], "in_stock", 1, [], {}, 4000)]))
        passed = await tx.append(ItemFates2(fates=[], evidence=[held.entry()]), audience=[OTHER])
    from protocol import canonical
    from protocol.records import open_entry

    recycled = open_entry(canonical.encode([recycled[0], recycled[1]]))
    assert recycled.body().fates[0].outcome == "recycled" and recycled.body().fates[0].weight_g == 4000
    key = store.key
    await store.close()
    restore(tmp_path / "backup.db", tmp_path / "node.db")
    again = await Store.open(tmp_path / "node.db", key)
    try:
        async with again.transaction() as tx:
            assert await replay(tx, [recycled, held, passed]) == 1
            assert await replay(tx, [recycled, held, passed]) == 0  # idempotent
            states = [await tx.value("SELECT state FROM items WHERE id = ?", (i,)) for i in ids]
            forwarded = await tx.all("SELECT source, origin, forwarded FROM fates_forwarded")
        assert states == ["recycled", "ready", "ready"]
        assert [tuple(row) for row in forwarded] == [(held.id, OTHER, passed.id)]
    finally:
        await again.close()


def test_evidence_too_large_for_one_record_goes_in_several():
    from node.domain.fate_evidence import evidence_batches

    small, big, huge = b"x" * 1000, b"y" * 2_500_000, b"z" * (4 * 1024 * 1024)
    assert evidence_batches([small, small]) == [[small, small]]
    assert evidence_batches([big, big, small]) == [[big], [big, small]]
    assert evidence_batches([huge, small]) == [[small]]  # no record could carry it
