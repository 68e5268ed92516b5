"""A node's data directory: its configuration file and its signing key.

Layout of a data directory::

    node.toml   the configuration (name, role, listening address, public URL)
    node.key    the Ed25519 private key (PKCS#8 PEM, mode 0600)
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.errors import AlreadyExists, ConfigError
from protocol.keys import SigningKey

__all__ = ["Config", "Node", "init_node", "load_node", "CONFIG_FILE", "KEY_FILE", "DB_FILE"]

CONFIG_FILE = "node.toml"
KEY_FILE = "node.key"
DB_FILE = "node.db"
LOCK_FILE = "node.lock"
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
        if self.url and (not self.url.startswith(("http://", "https://")) or any(c.isspace() for c in self.url)):
            raise ConfigError(f"url {self.url!r} is not an http(s) base URL")
        return self

    def to_toml(self) -> str:
        lines = []
        for key, value in asdict(self).items():
            rendered = str(value) if isinstance(value, int) else _toml_string(value)
            lines.append(f"{key} = {rendered}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Node:
    """A loaded data directory: where it is, its configuration, its key."""

    data_dir: Path
    config: Config
    key: SigningKey

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
        config = Config(**raw).validate()
        private = serialization.load_pem_private_key(pem, password=None)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{data_dir}: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigError(f"{data_dir / KEY_FILE} is not an Ed25519 key")
    return Node(data_dir, config, SigningKey(private))


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'
