"""The record-checking worker processes of a real node live and die with it, even when it is killed."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import aiohttp
import pytest
from livenodes import wait_for

from federation.client import FedClient
from federation.inbox import PARALLEL_MIN
from federation.wire import Item
from node.config import load_node
from protocol import canonical
from protocol.keys import SigningKey
from protocol.records import sign_record

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists() or len(os.sched_getaffinity(0)) < 2,
                                reason="reads /proc; a node on one core checks on its own process")  # fmt: skip


def workers_of(pid: int) -> set[int]:
    """The multiprocessing workers (spawned) whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def a_big_batch() -> list[Item]:
    """Records enough for the node to check them on its workers (who signed them does not matter)."""
    author = SigningKey.from_seed(hashlib.sha256(b"workers live").digest())
    items, prev = [], None
    for seq in range(1, PARALLEL_MIN + 7):
        record = sign_record(author, seq=seq, prev=prev, time=1_767_225_600_000 + seq, kind="future.thing/1",
                             content={"n": seq})  # fmt: skip
        items.append(Item(canonical.encode([record.envelope, record.content])))
        prev = record.id
    return items


async def push(url: str, to: bytes, signer: SigningKey, items: list[Item]) -> None:
    async with aiohttp.ClientSession() as session:
        await FedClient(session, signer).push(url, to, items)


def test_the_workers_of_a_node_killed_outright_end_with_it(make_node):
    hub = make_node("Hub", role="hub").start()
    member = make_node("Membre", reachable=False)
    member.join(hub)  # a peer the hub knows, so that it checks what the member pushes
    asyncio.run(push(hub.url, hub.key, load_node(member.data).key, a_big_batch()))
    count = min(len(os.sched_getaffinity(0)), 8)  # one a core (the batch is checked meanwhile: not waited for)
    workers = wait_for(lambda: len(found := workers_of(hub.process.pid)) == count and found, what="the hub's workers")
    assert all(alive(pid) for pid in workers)
    hub.kill()  # SIGKILL: the node cleans nothing up
    wait_for(lambda: not any(alive(pid) for pid in workers), 30, "the workers ending with their node")
