"""Erasure logs straight from the wiping station: ShredOS ``http_post_url=``.

Each station has its own URL with a secret token in it (ShredOS cannot add
headers): ``PUT /upload/shredos/<station>/<token>``. Only machines on the
local network may upload; the log is filed exactly like an imported one.
"""

from __future__ import annotations

import ipaddress
import logging

from aiohttp import web

from node.domain.access import check_station
from node.domain.importing import run_import
from node.errors import StoreError
from web_ui.keys import NODE, STORE
from web_ui.remote import client_address
from web_ui.storage_errors import status_of_storage

__all__ = ["add_upload_routes", "MAX_LOG"]

MAX_LOG = 10 * 1024 * 1024
log = logging.getLogger(__name__)


def add_upload_routes(app: web.Application) -> None:
    app.router.add_route("PUT", "/upload/shredos/{station}/{token}", upload_nwipe)
    app.router.add_route("POST", "/upload/shredos/{station}/{token}", upload_nwipe)


def from_lan(request: web.Request) -> bool:
    """Whether the client is on the local network (its own address, through the trusted proxies only)."""

    return _from_lan(client_address(request, request.app[NODE].config.trusted_proxies))


def _from_lan(remote: str | None) -> bool:
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


async def _read_log(request: web.Request) -> bytes | None:
    """The body, or ``None`` past ``MAX_LOG``: Content-Length is checked first, a chunked body as it comes."""
    if request.content_length is not None and request.content_length > MAX_LOG:
        return None
    chunks, size = [], 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > MAX_LOG:
            return None  # aiohttp closes the connection rather than read the rest
        chunks.append(chunk)
    return b"".join(chunks)


async def upload_nwipe(request: web.Request) -> web.Response:
    from web_ui.keys import NODE

    if not from_lan(request):
        return web.json_response({"code": "not_local", "message": "uploads are accepted from the local network only"},
                                 status=403)  # fmt: skip
    store = request.app[STORE]
    try:
        async with store.reader() as db:
            allowed = await check_station(db, request.match_info["station"], request.match_info["token"])
        if not allowed:
            return web.json_response({"code": "unknown_station", "message": "unknown station or wrong token"},
                                     status=403)  # fmt: skip
        data = await _read_log(request)
        if data is None:
            return web.json_response({"code": "too_large", "message": "an erasure log is at most 10 MB"}, status=413)
        report = await run_import(request.app[NODE], store, "nwipe", data, "shredos.log", source="shredos_upload")
    except StoreError as exc:
        status = status_of_storage(exc)
        if status is None:
            raise
        # The station keeps its log and can send it again; the node's log tells the administrator why.
        log.error("upload from station %s: %s", request.match_info["station"], exc.message)
        return web.json_response({"code": exc.code, "message": exc.message}, status=status)
    status = 200 if report.ok else 422
    return web.json_response({"ok": report.ok, "lines": report.lines()}, status=status)
