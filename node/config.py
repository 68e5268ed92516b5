"""A node's data directory: its configuration file and its signing key.

Layout of a data directory::

    node.toml   the configuration (name, role, listening address, public URL)
    node.key    the Ed25519 private key (PKCS#8 PEM, mode 0600)
    keys/       the keys it used before a rotation, one PEM file each
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.errors import AlreadyExists, ConfigError
from protocol.keys import SigningKey

__all__ = ["Config", "Node", "url_origin", "is_loopback", "init_node", "load_node", "load_node_rotating", "next_key", "retire_key", "CONFIG_FILE", "KEY_FILE", "DB_FILE"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address; IPv6 with or without brackets) names this machine only.

    An address no other machine can reach: a node's url or a page's address
    pointing there must not be handed to anyone else.
    """
    host = host.strip().strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_origin(url: str) -> str | None:
    """``url`` as the origin ``scheme://host[:port]`` a node is reached at, or None if it is not one.

    http or https, a host, an optional port; no credentials, path (but "/"),
    query or fragment, no space, at most 300 characters (PROTOCOL.md,
    ``node.descriptor/1``). The scheme and host come back in lower case.
    """
    text = url.strip()
    if not text or len(text) > 300 or any(c.isspace() or not c.isprintable() for c in text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if (parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc or parts.path not in ("", "/")
            or parts.query or parts.fragment or text.endswith(("?", "#"))):  # fmt: skip
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


CONFIG_FILE = "node.toml"
KEY_FILE = "node.key"
DB_FILE = "node.db"
LOCK_FILE = "node.lock"
RETIRED_DIR = "keys"
NEXT_KEY = "next.pem"  # the new key while a rotation is under way (not *.key: not a retired key)
Role = Literal["member", "hub", "national"]
ROLES: tuple[str, ...] = ("member", "hub", "national")


@dataclass(frozen=True, slots=True)
class Config:
    """What ``node.toml`` holds."""

    name: str
    role: Role = "member"
    host: str = "127.0.0.1"
    port: int = 8470
    # The base URL other nodes reach this node at; empty when they cannot
    # (a member behind NAT: it reaches its hub, never the other way round).
    url: str = ""
    # A hub's network name (default: the hub's name).
    network: str = ""
    # Addresses or networks of the reverse proxies in front of the node: only
    # a request from one of them says who the client is (X-Forwarded-For).
    trusted_proxies: tuple[str, ...] = ()

    def validate(self) -> "Config":
        if not all(isinstance(v, str) for v in (self.name, self.role, self.host, self.url, self.network)):
            raise ConfigError("name, role, host, url and network are text")
        if not isinstance(self.port, int) or isinstance(self.port, bool):
            raise ConfigError("port is a number")
        if not self.name.strip():
            raise ConfigError("the node needs a name")
        if self.role not in ROLES:
            raise ConfigError(f"role must be one of {', '.join(ROLES)}, not {self.role!r}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"port {self.port} is out of range")
        if not isinstance(self.trusted_proxies, (tuple, list)) or not all(
                isinstance(p, str) for p in self.trusted_proxies):  # fmt: skip
            raise ConfigError("trusted_proxies is a list of addresses or networks")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ConfigError(f"trusted_proxies: {proxy!r} is not an IP address or network") from exc
        if self.url and url_origin(self.url) is None:
            raise ConfigError(f"url {self.url!r} is not an http(s) origin: scheme, host and port, no path")
        return self

    def to_toml(self) -> str:
        lines = []
        for key, value in asdict(self).items():
            if isinstance(value, (tuple, list)):
                rendered = "[" + ", ".join(_toml_string(v) for v in value) + "]"
            else:
                rendered = str(value) if isinstance(value, int) else _toml_string(value)
            lines.append(f"{key} = {rendered}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Node:
    """A loaded data directory: where it is, its configuration, its key."""

    data_dir: Path
    config: Config
    key: SigningKey
    # Keys this node used before a rotation (``keys/<node id>.key``), kept so
    # that what was queued under them can still be delivered and answered.
    retired: tuple[SigningKey, ...] = ()

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILE

    @contextmanager
    def running(self) -> Iterator[None]:
        """Hold the data directory's lock while the node runs (``restore`` checks it)."""
        handle = (self.data_dir / LOCK_FILE).open("a")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise ConfigError(f"the node in {self.data_dir} is running: stop it first") from exc
            yield
        finally:
            handle.close()


def init_node(data_dir: Path, config: Config) -> Node:
    """Create a node's data directory with a fresh key. Never overwrites one."""
    config.validate()
    data_dir.mkdir(parents=True, exist_ok=True)
    key_path = data_dir / KEY_FILE
    if key_path.exists() or (data_dir / CONFIG_FILE).exists():
        raise AlreadyExists(f"{data_dir} already holds a node")
    key = SigningKey.generate()
    pem = Ed25519PrivateKey.from_private_bytes(key.seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # O_EXCL: two `init` racing cannot both write a key.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        (data_dir / CONFIG_FILE).write_text(config.to_toml(), encoding="utf-8")
    except OSError as exc:
        # Leave no half-made node behind: a key without its configuration
        # would block the next `init` and could not be loaded either.
        key_path.unlink(missing_ok=True)
        (data_dir / CONFIG_FILE).unlink(missing_ok=True)
        raise ConfigError(f"cannot write the node into {data_dir}: {exc.strerror}") from exc
    return Node(data_dir, config, key)


def load_node(data_dir: Path) -> Node:
    """Read a data directory made by ``init_node``."""
    try:
        raw = tomllib.loads((data_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        pem = (data_dir / KEY_FILE).read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"{data_dir} is not a node's data directory (run `maillon init`)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{data_dir / CONFIG_FILE}: {exc}") from exc
    known = set(Config.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{data_dir / CONFIG_FILE}: unknown settings {', '.join(sorted(unknown))}")
    try:
        if isinstance(raw.get("trusted_proxies"), list):
            raw["trusted_proxies"] = tuple(raw["trusted_proxies"])
        config = Config(**raw).validate()
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{data_dir}: {exc}") from exc
    if (data_dir / RETIRED_DIR / NEXT_KEY).exists():
        raise ConfigError(f"a key rotation of {data_dir} was interrupted: run `maillon key rotate --data {data_dir}`"
                          " again to finish it")  # fmt: skip
    retired = tuple(_load_key(path, path.read_bytes()) for path in sorted((data_dir / RETIRED_DIR).glob("*.key")))
    return Node(data_dir, config, _load_key(data_dir / KEY_FILE, pem), retired)


def _load_key(path: Path, pem: bytes) -> SigningKey:
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return SigningKey(private)


def _pem(key: SigningKey) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(key.seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_secret(path: Path, data: bytes) -> None:
    """Write a key file readable by its owner only, atomically (never a half-written key)."""
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def next_key(data_dir: Path) -> SigningKey:
    """The key a rotation moves to: made and saved first, so an interrupted rotation resumes with it."""
    retired_dir = data_dir / RETIRED_DIR
    retired_dir.mkdir(mode=0o700, exist_ok=True)
    path = retired_dir / NEXT_KEY
    if path.exists():
        return _load_key(path, path.read_bytes())
    key = SigningKey.generate()
    _write_secret(path, _pem(key))
    return key


def load_node_rotating(data_dir: Path) -> Node:
    """``load_node`` for the rotation itself, which may find one under way."""
    pending = data_dir / RETIRED_DIR / NEXT_KEY
    if not pending.exists():
        return load_node(data_dir)
    pending.rename(pending.with_suffix(".hold"))
    try:
        return load_node(data_dir)
    finally:
        pending.with_suffix(".hold").rename(pending)


def retire_key(node: Node, new: SigningKey) -> Node:
    """Make ``new`` the node's key; keep the old one under ``keys/``. The caller signed the rotation first."""
    retired_dir = node.data_dir / RETIRED_DIR
    _write_secret(retired_dir / f"{node.key.public.node_id}.key", _pem(node.key))
    _write_secret(node.data_dir / KEY_FILE, _pem(new))
    (retired_dir / NEXT_KEY).unlink()
    return Node(node.data_dir, node.config, new, (*node.retired, node.key))


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'
