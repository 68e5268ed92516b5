"""Key rotation: the old key's last record names the new key; peers follow, old records still verify."""

from __future__ import annotations

from livenodes import wait_for
from test_replication import append, held

from node.config import NEXT_KEY, load_node, next_key
from protocol import canonical
from protocol.kinds import LotDecline
from protocol.log import verify_log, write_log
from protocol.records import open_entry


def test_a_member_rotates_its_key_and_its_hub_follows(make_node):
    hub = make_node("Hub", role="hub").start()
    member = make_node("Membre", reachable=False)
    member.join(hub)
    member.start()
    old = member.key
    wait_for(lambda: held(hub, old) == held(member, old), what="the log under the old key")
    member.stop()
    out = member.cli("key", "rotate", "--data", str(member.data), "--reason", "laptop stolen")
    new_fingerprint = out.split("new fingerprint: ")[1].split()[0]
    assert new_fingerprint != member.fingerprint
    assert (member.data / "keys").is_dir() and len(list((member.data / "keys").glob("*.key"))) == 1
    member.start()
    new = wait_for(lambda: hub.value("SELECT key FROM peers WHERE state = 'active' AND key != ? AND relation = "
                                     "'downstream'", (old,)), what="the hub pinning the new key")  # fmt: skip
    assert hub.value("SELECT state FROM peers WHERE key = ?", (old,)) == "rotated"
    # the member now signs with the new key, and the hub takes it
    record = append(member, LotDecline(offer=bytes(32), reason="new_key"))[0]
    assert record.header.author == new
    wait_for(lambda: held(hub, new) == held(member, new), what="the log under the new key")
    # the old log is complete, ends with the rotation, and still verifies
    last = hub.query("SELECT kind FROM log_records WHERE author = ? ORDER BY seq DESC LIMIT 1", (old,))[0]
    assert last["kind"] == "key.rotation/1"
    member.stop()
    export = member.data / "old.log"
    rows = member.query("SELECT envelope, content FROM log_records WHERE author = ? ORDER BY seq", (old,))
    export.write_bytes(write_log([open_entry(canonical.encode([r["envelope"], r["content"]])) for r in rows]))
    assert verify_log(export.read_bytes(), old).ok


def test_an_interrupted_rotation_is_finished_by_running_it_again(make_node):
    member = make_node("Membre")
    # a rotation that stopped after saving the new key, before signing: the node refuses to start as it is
    planned = next_key(member.data)
    assert (member.data / "keys" / NEXT_KEY).exists()
    assert "interrupted" in member.cli("run", "--data", str(member.data), check=False)
    member.cli("key", "rotate", "--data", str(member.data))
    assert load_node(member.data).key.public.raw == planned.public.raw
