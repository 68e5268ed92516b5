"""Zeroconf discovery between nodes, on the loopback interface.

The network tests run real mDNS, restricted to ``127.0.0.1``
(``interfaces=["127.0.0.1"]``, which zeroconf opens IPv4-only): Linux loops
multicast back on ``lo`` even though the interface lacks the MULTICAST flag,
so two ``Discovery`` in one process see each other without touching the
real LAN. Every test uses fresh keys and only looks for the node ids it
made, so other Maillon processes announcing on this host do not disturb
it. Nothing is skipped: if loopback multicast stops working here, these
tests fail.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from federation.discovery import (
    SERVICE_TYPE,
    Discovery,
    Found,
    ServiceRefused,
    discovery_enabled,
    instance_name,
)
from node.errors import ConfigError
from protocol.keys import SigningKey

LOOPBACK = ["127.0.0.1"]


async def until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s")
        await asyncio.sleep(0.05)


def make(name: str, port: int, role: str = "member") -> tuple[Discovery, list[Found], SigningKey]:
    key = SigningKey.generate()
    seen: list[Found] = []
    discovery = Discovery(
        name, key.public.node_id, key.public.fingerprint, role, port,
        interfaces=LOOPBACK, on_found=seen.append,
    )
    return discovery, seen, key


def ids(found) -> set[str]:
    return {f.node_id for f in found}


def service(key: SigningKey, **txt: str) -> AsyncServiceInfo:
    properties = {"v": "1", "id": key.public.node_id, "fp": key.public.fingerprint, "role": "hub"}
    properties.update(txt)
    return AsyncServiceInfo(
        SERVICE_TYPE, f"{instance_name('Atelier', key.public.fingerprint)}.{SERVICE_TYPE}",
        port=8470, properties=properties, server="forged.local.", parsed_addresses=["127.0.0.1"],
    )


async def test_two_nodes_find_each_other_and_refuse_a_forged_announcement(caplog):
    caplog.set_level(logging.INFO, logger="federation.discovery")
    a, seen_a, key_a = make("Atelier du Lien", 8471, "hub")
    b, seen_b, key_b = make("Ressourcerie Nord", 8472)
    forger, victim = SigningKey.generate(), SigningKey.generate()
    forged = service(forger, fp=victim.public.fingerprint)  # a key, and someone else's fingerprint
    rogue = AsyncZeroconf(interfaces=LOOPBACK)
    await asyncio.gather(rogue.async_register_service(forged), a.start(), b.start())
    try:
        await until(lambda: key_b.public.node_id in ids(seen_a) and key_a.public.node_id in ids(seen_b))
        [from_b] = [f for f in seen_a if f.node_id == key_b.public.node_id]
        assert from_b == Found(
            key_b.public.node_id, key_b.public.fingerprint, "Ressourcerie Nord", "member", "http://127.0.0.1:8472"
        )
        [from_a] = [f for f in seen_b if f.node_id == key_a.public.node_id]
        assert (from_a.name, from_a.role, from_a.url) == ("Atelier du Lien", "hub", "http://127.0.0.1:8471")
        assert key_a.public.node_id not in ids(seen_a) and key_b.public.node_id not in ids(seen_b)
        # both resolved the forged service, refused it, and never reported it
        refusals = lambda: [r for r in caplog.records if forged.name in r.getMessage()]  # noqa: E731
        await until(lambda: len(refusals()) >= 2)
        assert all("is not the fingerprint of" in r.getMessage() for r in refusals())
        assert ids(seen_a + seen_b).isdisjoint({forger.public.node_id, victim.public.node_id})
        assert ids(b.visible()) >= {key_a.public.node_id}
    finally:
        await asyncio.gather(a.stop(), b.stop(), rogue.async_close())


async def test_stop_unregisters():
    a, _, key_a = make("Atelier", 8473)
    b, seen_b, _ = make("Voisin", 8474)
    await asyncio.gather(a.start(), b.start())
    try:
        await until(lambda: key_a.public.node_id in ids(b.visible()))
        await a.stop()
        await until(lambda: key_a.public.node_id not in ids(b.visible()))
        probe = AsyncZeroconf(interfaces=LOOPBACK)
        try:
            assert not await AsyncServiceInfo(SERVICE_TYPE, a.service_name).async_request(probe.zeroconf, 1000)
        finally:
            await probe.async_close()
        assert key_a.public.node_id in ids(seen_b)  # reported once; what the engine did with it stays
        await a.stop()  # twice is harmless
    finally:
        await asyncio.gather(a.stop(), b.stop())


def test_a_fingerprint_that_is_not_the_node_ids_is_refused():
    key, other = SigningKey.generate(), SigningKey.generate()
    with pytest.raises(ServiceRefused, match="fingerprint"):
        Found.from_service(service(key, fp=other.public.fingerprint))


@pytest.mark.parametrize(
    ("txt", "reason"),
    [
        ({"v": "2"}, "version"),
        ({"id": "not-a-key"}, "node id"),
        ({"id": "a" * 52}, "node id"),  # base32 of 32 bytes, but not a valid key
        ({"role": "admin"}, "role"),
    ],
)
def test_malformed_txt_is_refused(txt, reason):
    with pytest.raises(ServiceRefused, match=reason):
        Found.from_service(service(SigningKey.generate(), **txt))


def test_a_well_formed_service_is_read():
    key = SigningKey.generate()
    found = Found.from_service(service(key))
    assert found == Found(key.public.node_id, key.public.fingerprint, "Atelier", "hub", "http://127.0.0.1:8470")


def test_instance_name_is_safe_and_short():
    fp = SigningKey.generate().public.fingerprint
    label = instance_name("Atelier St. Jean\n\u200b" + "é" * 80, fp)
    assert len(label.encode("utf-8")) <= 63
    assert "." not in label and "\n" not in label and "\u200b" not in label
    assert label.startswith("Atelier St Jean é") and label.endswith(f" ({fp[:4]})")
    assert instance_name(" \t", fp) == f"Maillon ({fp[:4]})"


def test_discovery_switch():
    assert discovery_enabled({}) is True
    assert discovery_enabled({"MAILLON_DISCOVERY": "on"}) is True
    assert discovery_enabled({"MAILLON_DISCOVERY": "OFF"}) is False
    assert discovery_enabled({"MAILLON_DISCOVERY": "0"}) is False
    with pytest.raises(ConfigError, match="MAILLON_DISCOVERY"):
        discovery_enabled({"MAILLON_DISCOVERY": "maybe"})
