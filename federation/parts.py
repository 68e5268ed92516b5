"""What the federation engine's parts share: its timing, and the view of the engine they are given.

The parts (``federation.audit``, ``federation.resync``, ``federation.pulling``)
are made by ``federation.engine.Federation`` and hold it as an ``EngineView``:
they use these members of it, and never import the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from federation.client import FedClient
from node.store.database import Store
from protocol.keys import SigningKey

if TYPE_CHECKING:
    from node.network.peers import Peer

__all__ = ["EngineView", "GivesBack", "SendBlocked", "Timing"]


@dataclass(frozen=True, slots=True)
class Timing:
    """How often the loops look at the database and the network."""

    supervise: float = 2.0  # routing and peer list, at the latest (a commit wakes it at once)
    pull: float = 15.0  # pulling from the upstream
    idle: float = 30.0  # an empty queue is looked at again (a commit wakes it at once)
    backoff_first_ms: int = 5_000
    backoff_cap_ms: int = 3_600_000
    checkpoint: float = 3600.0  # a hub or national signs a transparency checkpoint (if its log grew)
    recheck: float = 86_400.0  # a member has its statistics reports proved again in its hub's log
    read: float = 300.0  # national reads each hub it admitted (its members' logs, its transparency log)
    skew_ms: int = 300_000  # how far two nodes' clocks may differ (the signed requests' window)
    resync_wait: float = 900.0  # restored: how long to wait for word from every peer once one gave the log back

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Timing":
        """``MAILLON_FEDERATION_FAST=1`` (tests, the local demo): everything in about a second."""
        if environ.get("MAILLON_FEDERATION_FAST") == "1":
            return cls(supervise=0.5, pull=1.0, idle=2.0, backoff_first_ms=300, backoff_cap_ms=3_000, checkpoint=1.0,
                       recheck=2.0, skew_ms=0, read=1.0, resync_wait=20.0)  # fmt: skip
        return cls()



class SendBlocked(Exception):
    """A record cannot be sent yet (e.g. a reader's encryption key is unknown)."""


class GivesBack(Protocol):
    async def give_back(self, peer: "Peer", author: bytes, held: int) -> None: ...


class EngineView(Protocol):
    """The members of a running ``Federation`` its parts use."""

    store: Store
    key: SigningKey
    me: bytes
    timing: Timing
    client: FedClient | None
    restored: GivesBack

    @property
    def keeps_log(self) -> bool: ...

    async def pull_log(self, peer: "Peer", author: bytes, *, since: int | None = None) -> int: ...

    def wake(self, peer: bytes | None = None, *, pull: bool = False) -> None: ...

    async def ensure_descriptor(self) -> None: ...
