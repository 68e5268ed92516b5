"""Errors of the node layer.

Hierarchy::

    NodeError            base
    ├── ConfigError      a data directory or configuration that cannot be used
    └── AlreadyExists    ``init`` on a directory that already holds a node
"""

from __future__ import annotations

__all__ = ["NodeError", "ConfigError", "AlreadyExists"]


class NodeError(Exception):
    """Base of the node's errors; the message is meant for the person."""


class ConfigError(NodeError):
    """The data directory or its configuration cannot be used."""


class AlreadyExists(NodeError):
    """The data directory already holds a node."""
