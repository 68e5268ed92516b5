"""Errors of the node layer.

Every error carries a stable ``code`` (for the catalogue of user messages
and for the JSON API) and a message meant for the person.

Hierarchy::

    NodeError             base
    ├── ConfigError       a data directory or configuration that cannot be used
    ├── AlreadyExists     ``init`` on a directory that already holds a node
    ├── StoreError        the database cannot be opened, migrated or restored
    └── DomainError       a domain rule refused an action; nothing was changed
        ├── Invalid       input of the wrong shape or out of range
        ├── NotFound      the thing named does not exist
        └── RuleBroken    a reuse rule (erasure, price cap, state) forbids it
"""

from __future__ import annotations

__all__ = [
    "NodeError",
    "ConfigError",
    "AlreadyExists",
    "StoreError",
    "DomainError",
    "Invalid",
    "NotFound",
    "RuleBroken",
]


class NodeError(Exception):
    """Base of the node's errors; the message is meant for the person."""

    code = "node_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigError(NodeError):
    """The data directory or its configuration cannot be used."""

    code = "config"


class AlreadyExists(NodeError):
    """The data directory already holds a node."""

    code = "already_exists"


class StoreError(NodeError):
    """The database cannot be opened, migrated, backed up or restored."""

    code = "store"


class DomainError(NodeError):
    """A domain rule refused an action; the transaction was rolled back."""

    code = "domain"


class Invalid(DomainError):
    """Input of the wrong shape or out of range."""

    code = "invalid"


class NotFound(DomainError):
    """The donor, lot, item... named does not exist."""

    code = "not_found"


class RuleBroken(DomainError):
    """A reuse rule forbids the action (erasure missing, price above the cap...)."""

    code = "rule_broken"
