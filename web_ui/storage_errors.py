"""What the web interface answers when the node's disk is full or its database is damaged.

The node raises a ``StoreError`` with a code (``node.store.storage_failures``);
nothing was written. Pages show a French message saying so and what to do;
the JSON API and the wiping-station uploads answer the code with its status
(507 for a full disk: the request may succeed once space is freed; 503 when
the database or the disk fails: the node cannot serve until an
administrator acts).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from node.errors import StoreError
from web_ui.i18n import translator
from web_ui.render import LANGUAGE, page

__all__ = ["STATUS", "status_of_storage", "storage_errors"]

log = logging.getLogger(__name__)

STATUS = {"disk_full": 507, "database_damaged": 503, "disk_error": 503}

# Answered by their own middleware or handler (JSON), not with a page.
_NOT_PAGES = ("/api/v1", "/upload/", "/fed/v1/", "/.well-known/", "/health", "/static/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def status_of_storage(error: StoreError) -> int | None:
    """The HTTP status of a storage failure; ``None`` for another ``StoreError`` (a bug, answered 500)."""
    return STATUS.get(error.code)


@web.middleware
async def storage_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A page whose request met a full disk or a damaged database says so, in the person's language."""
    try:
        return await handler(request)
    except StoreError as exc:
        status = status_of_storage(exc)
        if status is None or request.path.startswith(_NOT_PAGES):
            raise
        log.error("%s %s: %s", request.method, request.path, exc.message)  # the administrator reads the log
        _ = translator(request.get(LANGUAGE, "fr"))
        message = _page_message(_, exc.code)
        return page(request, "error.html", status=status, heading=_("Not saved"), message=message)


def _page_message(_: Callable[..., str], code: str) -> str:
    """What a volunteer reads: nothing was saved, and who must do what."""
    if code == "disk_full":
        return _("The node's disk is full: nothing was saved. Tell the node's administrator, who must free some space on it; then try again.")
    if code == "database_damaged":
        return _("The node's database is damaged: nothing was saved. Tell the node's administrator, who must restore the latest backup.")
    return _("The node's disk failed to read or write: nothing was saved. Tell the node's administrator.")
