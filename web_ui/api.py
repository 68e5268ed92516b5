"""The JSON API for local use (``/api/v1``); filled in by the API work."""

from __future__ import annotations

from aiohttp import web

__all__ = ["add_api_routes"]


def add_api_routes(app: web.Application) -> None:
    """Register the ``/api/v1`` routes."""
