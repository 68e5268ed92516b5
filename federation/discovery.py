"""Finding other Maillon nodes on the local network (zeroconf, DNS-SD).

Each node announces ``_maillon._tcp.local.`` with a small TXT record::

    v=1            version of this announcement
    id=<node id>   the node's public key (base32, ``protocol.keys.node_id``)
    fp=<fp>        its fingerprint, as people compare it
    role=<role>    member, hub or national

The instance name is the node's name made safe for DNS-SD followed by the
first group of its fingerprint, e.g. ``Atelier du Lien (K3QF)``.

Discovery finds addresses, never trust. A ``Found`` only says "a node
claiming this key answers at this URL"; it never adds a peer by itself.
The person confirms (an invitation, a pinned fingerprint); a peer already
known by its key may take the new address. Anyone on the LAN can announce
anything, so a ``Found`` whose TXT does not hold together (version, node
id, fingerprint of that id, role) is refused and only logged.

Discovery defaults **on** for a node on a LAN and **off** in containers,
where multicast does not reach the network anyway: the container image sets
``MAILLON_DISCOVERY=off`` (see ``discovery_enabled``). The federation engine
does not start ``Discovery`` when it is off, nor when the node listens on
loopback only (a peer could not reach the announced address).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import ifaddr  # zeroconf's own dependency, used to list the addresses to announce
from zeroconf import (
    BadTypeInNameException,
    InterfaceChoice,
    IPVersion,
    NonUniqueNameException,
    ServiceInfo,
    ServiceStateChange,
    Zeroconf,
)
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from node.config import ROLES
from node.errors import ConfigError
from protocol.errors import KeyRefused
from protocol.keys import parse_node_id

__all__ = [
    "Discovery", "Found", "ServiceRefused", "discovery_enabled", "instance_name", "SERVICE_TYPE", "ENV_SWITCH",
]

log = logging.getLogger(__name__)

SERVICE_TYPE = "_maillon._tcp.local."
ENV_SWITCH = "MAILLON_DISCOVERY"
TXT_VERSION = "1"
RESOLVE_TIMEOUT_MS = 3000
MAX_LABEL = 63  # bytes of a DNS label (RFC 6763 §4.1.1)
_OFF = frozenset({"off", "0", "false", "no"})
_ON = frozenset({"on", "1", "true", "yes", ""})


def discovery_enabled(environ: Mapping[str, str]) -> bool:
    """Whether ``MAILLON_DISCOVERY`` lets discovery run: on unless set to ``off``.

    ``on``/``off`` (also ``1``/``0``, ``true``/``false``, ``yes``/``no``, any
    case); anything else raises ``ConfigError`` rather than guessing.
    """
    value = environ.get(ENV_SWITCH, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise ConfigError(f"{ENV_SWITCH} must be on or off, not {environ[ENV_SWITCH]!r}")


class ServiceRefused(ValueError):
    """An announcement that is not a well-formed Maillon node; it is ignored."""


@dataclass(frozen=True, slots=True)
class Found:
    """A node seen on the LAN: what it claims to be and where it answers. Not trusted."""

    node_id: str
    fingerprint: str
    name: str
    role: str
    url: str

    @classmethod
    def from_service(cls, info: ServiceInfo) -> "Found":
        """Read a resolved announcement, or raise ``ServiceRefused`` naming what is wrong."""
        txt = info.decoded_properties
        if txt.get("v") != TXT_VERSION:
            raise ServiceRefused(f"announcement version {txt.get('v')!r}, expected {TXT_VERSION}")
        try:
            key = parse_node_id(txt.get("id") or "")
        except KeyRefused as exc:
            raise ServiceRefused(f"not a node id: {txt.get('id')!r}") from exc
        if txt.get("fp") != key.fingerprint:
            raise ServiceRefused(f"fingerprint {txt.get('fp')!r} is not the fingerprint of {key.node_id}")
        role = txt.get("role")
        if role not in ROLES:
            raise ServiceRefused(f"unknown role {role!r}")
        if not info.port:
            raise ServiceRefused("no port")
        host = _reachable_host(info)
        if host is None:
            raise ServiceRefused("no usable address")
        return cls(
            node_id=key.node_id,
            fingerprint=key.fingerprint,
            name=_name_from_instance(info.name, key.fingerprint),
            role=role,
            url=f"http://{host}:{info.port}",
        )


class Discovery:
    """Announce this node on the LAN and report the other Maillon nodes seen there.

    ``service_name`` is this node's full DNS-SD name.
    ``interfaces``: the IP addresses to announce on and listen to; ``None``
    for every interface (the loopback address is then not announced).
    ``on_found`` is called in the event loop for each valid announcement of
    another node, again when its address changes; it must not block.
    """

    def __init__(
        self,
        name: str,
        node_id: str,
        fingerprint: str,
        role: str,
        port: int,
        *,
        interfaces: Sequence[str] | None = None,
        on_found: Callable[[Found], None],
    ) -> None:
        self.node_id = node_id
        self.interfaces = list(interfaces) if interfaces is not None else None
        self._on_found = on_found
        self.service_name = f"{instance_name(name, fingerprint)}.{SERVICE_TYPE}"
        self._port = port
        self._txt = {"v": TXT_VERSION, "fp": fingerprint, "id": node_id, "role": role}
        self._info: AsyncServiceInfo | None = None
        self._zeroconf: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._resolving: set[asyncio.Task[None]] = set()
        self._visible: dict[str, Found] = {}  # by service name (lower case)
        self._registered = False

    def visible(self) -> tuple[Found, ...]:
        """The other nodes announcing themselves right now."""
        return tuple(self._visible.values())

    async def start(self) -> None:
        """Open the sockets, announce this node, browse for the others.

        Raises ``OSError`` when the multicast sockets cannot be opened. A name
        already announced by someone else (the same key running twice, say
        a restored backup on a second machine) is logged, and this node then
        only looks for the others.
        """
        if self._zeroconf is not None:
            raise RuntimeError("discovery already started")
        # addresses read now, not at construction: the LAN may have changed
        self._info = AsyncServiceInfo(
            SERVICE_TYPE,
            self.service_name,
            port=self._port,
            properties=self._txt,
            server=f"maillon-{self.node_id[:16]}.local.",
            parsed_addresses=_addresses_to_announce(self.interfaces),
        )
        if self.interfaces is None:
            self._zeroconf = AsyncZeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.V4Only)
        else:
            self._zeroconf = AsyncZeroconf(interfaces=self.interfaces)
        try:
            self._browser = AsyncServiceBrowser(
                self._zeroconf.zeroconf, SERVICE_TYPE, handlers=[self._on_change]
            )
            if not self._info.addresses:
                log.warning("discovery: no address to announce; looking for other nodes only")
            else:
                try:
                    await self._zeroconf.async_register_service(self._info)
                    self._registered = True
                except NonUniqueNameException:
                    log.warning(
                        "discovery: %r is already announced on the network (the same node running twice?);"
                        " looking for other nodes only", self.service_name,
                    )
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Say goodbye on the network and close the sockets. Safe to call twice."""
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is None:
            return
        for task in list(self._resolving):
            task.cancel()
        if self._resolving:
            await asyncio.gather(*self._resolving, return_exceptions=True)
        if self._browser is not None:
            await self._browser.async_cancel()
            self._browser = None
        try:
            if self._registered and self._info is not None:
                self._registered = False
                await (await zeroconf.async_unregister_service(self._info))
        finally:
            await zeroconf.async_close()
            self._visible.clear()

    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        key = name.lower()
        if key == self.service_name.lower():
            return
        if state_change is ServiceStateChange.Removed:
            self._visible.pop(key, None)
            return
        task = asyncio.get_running_loop().create_task(self._resolve(zeroconf, name))
        self._resolving.add(task)
        task.add_done_callback(self._resolving.discard)

    async def _resolve(self, zeroconf: Zeroconf, name: str) -> None:
        try:
            info = AsyncServiceInfo(SERVICE_TYPE, name)
        except BadTypeInNameException:
            log.info("discovery: ignored %r: not a service name", name)
            return
        if not await info.async_request(zeroconf, RESOLVE_TIMEOUT_MS):
            log.debug("discovery: %r did not answer", name)
            return
        try:
            found = Found.from_service(info)
        except ServiceRefused as exc:
            log.info("discovery: ignored %r: %s", name, exc)
            return
        if found.node_id == self.node_id or self._visible.get(name.lower()) == found:
            return
        self._visible[name.lower()] = found
        try:
            self._on_found(found)
        except Exception:  # a faulty callback must not stop discovery
            log.exception("discovery: on_found failed for %s", found.node_id)


def instance_name(name: str, fingerprint: str) -> str:
    """The DNS-SD instance label: ``<name made safe> (<first group of the fingerprint>)``.

    Control and format characters and dots (label separators) become
    spaces; the name is cut so the whole label stays within 63 bytes.
    """
    suffix = f" ({fingerprint.split('-')[0]})"
    cleaned = "".join(
        " " if c == "." or unicodedata.category(c)[0] in "CZ" else c
        for c in unicodedata.normalize("NFC", name)
    )
    cleaned = " ".join(cleaned.split()) or "Maillon"
    budget = MAX_LABEL - len(suffix.encode("utf-8"))
    while len(cleaned.encode("utf-8")) > budget:
        cleaned = cleaned[:-1]
    return cleaned.rstrip() + suffix


def _name_from_instance(service_name: str, fingerprint: str) -> str:
    label = service_name[: -len(SERVICE_TYPE) - 1] if service_name.endswith("." + SERVICE_TYPE) else service_name
    # zeroconf may append "-2" on a name clash; the suffix is ours only when it is this key's
    match = re.fullmatch(r"(.*) \((\w{4})\)(?:-\d+)?", label)
    if match and match.group(2) == fingerprint.split("-")[0]:
        return match.group(1)
    return label


def _reachable_host(info: ServiceInfo) -> str | None:
    for address in info.ip_addresses_by_version(IPVersion.V4Only):
        return str(address)
    for address in info.ip_addresses_by_version(IPVersion.V6Only):
        if not address.is_link_local:  # would need a scope id the URL cannot carry
            return f"[{address}]"
    return None


def _addresses_to_announce(interfaces: list[str] | None) -> list[str]:
    if interfaces is not None:
        return [i for i in interfaces if _is_ip(i)]
    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.IPv4Address(ip.ip).is_loopback:
                found.append(ip.ip)
    return found


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
