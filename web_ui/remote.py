"""Who is calling: the client's address, told by a trusted reverse proxy or seen on the socket.

Behind the reverse proxy of ``deploy/`` every request comes from the
proxy's address; the proxy names the client in ``X-Forwarded-For``. Anyone
can write that header, so it is believed only from the proxies listed in
``node.toml`` (``trusted_proxies``), and read from the right: each trusted
proxy appends the address it saw, so the first address from the right that
is not a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from aiohttp import web

__all__ = ["client_address", "proxies"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def proxies(configured: tuple[str, ...]) -> tuple[Network, ...]:
    """The trusted proxies' networks (``node.toml`` was checked when it was loaded)."""
    return tuple(ipaddress.ip_network(p, strict=False) for p in configured)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_address(request: web.Request, trusted: tuple[str, ...]) -> str:
    """The client's address: the socket's peer, or what the trusted proxies before it say."""
    peer = _address(request.remote or "")
    if peer is None:
        return request.remote or "?"
    networks = proxies(trusted)
    if not networks or not _trusted(peer, networks):
        return str(peer)
    hops = [h for header in request.headers.getall("X-Forwarded-For", ()) for h in header.split(",")]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # garbage a client wrote: stop at the last hop a trusted proxy vouched for
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
