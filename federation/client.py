"""The outbound side of ``/fed/v1``: one method per endpoint, no logic.

Each call signs its request with the node's key for the one node it is
addressed to (PROTOCOL.md, "Signed requests"), sends it, and returns the
decoded answer. A refusal by the peer raises ``PeerRefused`` with the
peer's reason code; a network failure raises ``aiohttp.ClientError``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from federation import wire
from federation.wire import Item, Result
from protocol import canonical
from protocol.errors import ProtocolError
from protocol.keys import SigningKey, node_id
from protocol.requests import sign_request

__all__ = ["FedClient", "PeerRefused", "TIMEOUT", "NETWORK_ERRORS", "describe"]

TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)


class PeerRefused(Exception):
    """The peer answered with an error: its HTTP status and reason code."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


# What a call to a peer may raise when the peer is down, slow, refuses or answers nonsense.
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError, PeerRefused, ProtocolError)


def describe(exc: BaseException) -> str:
    """One line for the admin: a refusal's reason and message, else the error's type and text."""
    if isinstance(exc, PeerRefused):
        return f"{exc.reason}: {exc.message}"
    if isinstance(exc, ProtocolError):
        return f"{exc.code.value}: {exc.message}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class FedClient:
    """Calls to other nodes, signed by ``key``; shares one ``aiohttp.ClientSession``."""

    def __init__(self, session: aiohttp.ClientSession, key: SigningKey) -> None:
        self._session = session
        self._key = key

    async def descriptor(self, url: str) -> bytes:
        """``GET /.well-known/maillon``: the node's descriptor as a log entry (unsigned call)."""
        async with self._session.get(url.rstrip("/") + "/.well-known/maillon", timeout=TIMEOUT) as response:
            return await _body(response)

    async def push(self, url: str, peer: bytes, items: list[Item]) -> list[Result]:
        body = await self._call("POST", url, "/fed/v1/push", peer, wire.encode_items(items))
        return wire.decode_results(body, len(items))

    async def log(self, url: str, peer: bytes, author: bytes, *, after: int, limit: int = 500) -> tuple[list[Item], bool]:
        body = await self._call("GET", url, f"/fed/v1/log/{node_id(author)}", peer, b"",
                                {"after": after, "limit": limit})  # fmt: skip
        value = wire.decode_map(body, {"items": list, "more": bool})
        return wire.decode_items(value["items"]), value["more"]

    async def mailbox(self, url: str, peer: bytes, *, after: int, limit: int = 500) -> tuple[list[Item], int, bool]:
        body = await self._call("GET", url, "/fed/v1/mailbox", peer, b"", {"after": after, "limit": limit})
        value = wire.decode_map(body, {"items": list, "cursor": int, "more": bool})
        return wire.decode_items(value["items"]), value["cursor"], value["more"]

    async def join(self, url: str, peer: bytes, request: dict[str, Any]) -> dict[str, Any]:
        body = await self._call("POST", url, "/fed/v1/join", peer, canonical.encode(request))
        return wire.decode_map(body, {"certificate": bytes, "descriptor": bytes})

    async def checkpoint(self, url: str, peer: bytes) -> bytes:
        """``GET /fed/v1/checkpoint``: the peer's latest ``log.checkpoint/1`` as a log entry."""
        return await self._call("GET", url, "/fed/v1/checkpoint", peer, b"")

    async def inclusion(self, url: str, peer: bytes, record_id: bytes, size: int) -> dict[str, Any]:
        body = await self._call("GET", url, "/fed/v1/proof/inclusion", peer, b"", {"record": record_id.hex(), "size": size})
        return wire.decode_map(body, {"index": int, "size": int, "path": list})

    async def consistency(self, url: str, peer: bytes, old: int, new: int) -> list[Any]:
        body = await self._call("GET", url, "/fed/v1/proof/consistency", peer, b"", {"old": old, "new": new})
        return wire.decode_map(body, {"path": list})["path"]

    async def _call(self, method: str, url: str, path: str, peer: bytes, body: bytes,
                    params: dict[str, Any] | None = None) -> bytes:  # fmt: skip
        query = urlencode(params or {})
        headers = sign_request(self._key, method=method, path=path, query=query, body=body, callee=peer,
                               created=int(time.time()), nonce=secrets.token_bytes(16))  # fmt: skip
        headers["Content-Type"] = wire.CONTENT_TYPE
        target = url.rstrip("/") + path + (f"?{query}" if query else "")
        async with self._session.request(method, target, data=body, headers=headers, timeout=TIMEOUT) as response:
            return await _body(response)


async def _body(response: aiohttp.ClientResponse) -> bytes:
    try:
        data = await wire.read_body(response.content)
    except ProtocolError as exc:
        raise PeerRefused(response.status, exc.code.value, exc.message) from exc
    if response.status != 200:
        reason, message = "http_error", response.reason or ""
        try:
            value = canonical.decode(data)
            if isinstance(value, dict):
                reason, message = str(value.get("reason", reason)), str(value.get("message", message))
        except ProtocolError:
            pass
        raise PeerRefused(response.status, reason, message)
    return data
