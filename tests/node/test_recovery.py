"""Replaying a node's own records after a restore (``node.recovery``), on a real SQLite file."""

from __future__ import annotations

from node import peers
from node.recovery import replay
from node.store import Store, restore
from protocol.kinds import KeyRevocation, MembershipCertificate

MEMBER = bytes(range(1, 33))


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
