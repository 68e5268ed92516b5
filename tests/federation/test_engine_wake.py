"""What a commit or a received push wakes: the send loops always, the pull loops only where pulling is needed."""

from __future__ import annotations

import asyncio

from federation.engine import Federation, Timing
from node.config import Config, init_node
from node.store.database import Store

PEER = bytes(range(32))


async def waiting(fed: Federation) -> dict[str, asyncio.Task]:
    """A send, a pull and a read loop asleep on ``PEER`` for a minute."""
    tasks = {role: asyncio.create_task(fed._wait(role, PEER, 60.0)) for role in ("send", "pull", "read")}
    await asyncio.sleep(0)
    return tasks


async def woken(tasks: dict[str, asyncio.Task]) -> set[str]:
    await asyncio.sleep(0.01)
    done = {role for role, task in tasks.items() if task.done()}
    for task in tasks.values():
        task.cancel()
    return done


async def test_a_reachable_node_pulls_on_its_timer_or_when_asked_not_at_every_commit(tmp_path):
    for name, url, pulls_at_commit in (("reachable", "http://127.0.0.1:8741", False), ("behind-nat", "", True)):
        node = init_node(tmp_path / name, Config(name=name, role="member", port=8741, url=url))
        store = await Store.open(node.db_path, node.key, create=True)
        try:
            fed = Federation(node, store, timing=Timing())
            fed.wake()  # what a commit or a received push does
            assert await woken(await waiting(fed)) == set(), "an earlier wake does not linger"
            tasks = await waiting(fed)
            fed.wake()
            assert await woken(tasks) == ({"send", "pull", "read"} if pulls_at_commit else {"send"}), name
            tasks = await waiting(fed)
            fed.wake(PEER, pull=True)  # just joined, or the peer moved: pull now
            assert await woken(tasks) == {"send", "pull", "read"}, name
            tasks = await waiting(fed)
            fed.wake(bytes(32), pull=True)  # another peer
            assert await woken(tasks) == set(), name
        finally:
            await store.close()
