"""The JSON API for local programs (``/api/v1``): scanners, scripts, spreadsheets.

Every call but ``GET /api/v1/openapi.json`` carries ``Authorization: Bearer
<token>`` (``maillon token create``). A ``read_only`` token may only GET; a
``technician`` or ``admin`` token may write; only an admin may override a
price rule or read beneficiaries' personal details.

Errors are always ``{"code": ..., "message": ...}`` with a stable code:

====  =========================================================================
400   ``bad_json``: the body is not JSON (or repeats a key, or uses NaN)
401   ``unauthorized``: no token, or an unknown or revoked one
403   ``forbidden``: the token's role may not do this
404   ``not_found`` (or the domain's code): no such thing, or no such route
405   ``method_not_allowed``
409   the domain's rule code: ``erasure_required``, ``price_refused``, ``duplicate_reference``...
413   ``too_large``
422   ``invalid`` (or the domain's code): the input names a wrong field
500   ``internal``: a bug, logged; never the answer to bad input
====  =========================================================================

The route table below is the source of truth; ``openapi.json`` describes it
and ``tests/web_ui/test_api.py`` keeps the two equal.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from aiohttp import web

from node.domain.access import Holder, check_token
from node.domain.beneficiaries import BeneficiaryInput
from node.domain.distribution import OutflowInput
from node.domain.donors import DonorInput
from node.domain.erasure import ErasureInput
from node.domain.lots import LotInput, Reception
from node.errors import DomainError, NodeError, StoreError
from node.validation import parse_json
from web_ui import api_outcomes as outcomes
from web_ui import api_parts as parts
from web_ui import api_workshop as workshop
from web_ui.api_io import ApiError, Handler, Route, error_response, read_object, status_of
from web_ui.keys import STORE
from web_ui.storage_errors import status_of_storage

__all__ = ["add_api_routes", "ROUTES", "PREFIX", "OPENAPI_PATH"]

PREFIX = "/api/v1"
OPENAPI_PATH = Path(__file__).with_name("openapi.json")
log = logging.getLogger(__name__)


async def openapi(request: web.Request) -> web.Response:
    """This API's description (OpenAPI 3.1), readable without a token."""
    return web.Response(body=_openapi_bytes(), content_type="application/json")


@cache
def _openapi_bytes() -> bytes:
    return OPENAPI_PATH.read_bytes()


PAGE = ("limit", "offset")

ROUTES: tuple[Route, ...] = (
    Route("GET", "/openapi.json", openapi, public=True),
    Route("GET", "/donors", workshop.get_donors),
    Route("POST", "/donors", workshop.post_donor, DonorInput),
    Route("GET", "/donors/{id}", workshop.get_donor),
    Route("PUT", "/donors/{id}", workshop.put_donor, DonorInput),
    Route("GET", "/lots", workshop.get_lots, query=("donor_id", *PAGE)),
    Route("POST", "/lots", workshop.post_lot, LotInput),
    Route("GET", "/lots/{id}", workshop.get_lot),
    Route("POST", "/lots/{id}/reception", workshop.post_reception, Reception),
    Route("GET", "/items", workshop.get_items, query=("q", "state", "category", "lot_id", "donor_id", *PAGE)),
    Route("POST", "/items", workshop.post_items, workshop.ItemsRequest),
    Route("GET", "/items/lookup", workshop.lookup_item, query=("tag",)),
    Route("GET", "/items/{id}", workshop.get_item),
    Route("PATCH", "/items/{id}", workshop.patch_item, workshop.ItemPatch),
    Route("GET", "/steps", workshop.get_steps),
    Route("POST", "/steps", parts.post_step_name, parts.StepName),
    Route("POST", "/items/storage-removal", parts.post_storage_removal, parts.StorageRemoval),
    Route("POST", "/components", parts.post_component, parts.Harvest),
    Route("POST", "/components/{id}/fit", parts.post_fit, parts.Fit),
    Route("POST", "/events", workshop.post_events, workshop.StepsRequest),
    Route("POST", "/events/{id}/correction", workshop.post_correction, workshop.CorrectionRequest),
    Route("POST", "/erasures", workshop.post_erasure, ErasureInput),
    Route("GET", "/erasures/orphans", workshop.get_orphans, query=PAGE),
    Route("GET", "/beneficiaries", outcomes.get_beneficiaries, query=PAGE),
    Route("POST", "/beneficiaries", outcomes.post_beneficiary, BeneficiaryInput),
    Route("GET", "/beneficiaries/{id}", outcomes.get_beneficiary),
    Route("POST", "/distributions", outcomes.post_distribution, outcomes.DistributionRequest),
    Route("POST", "/outflows", outcomes.post_outflow, OutflowInput),
    Route("GET", "/stats", outcomes.get_stats, query=("period",)),
)


def add_api_routes(app: web.Application) -> None:
    """Register the ``/api/v1`` routes and the middleware that turns every error under it into JSON."""
    app.middlewares.append(api_errors)
    for route in ROUTES:
        # ASCII digits only (\d would take other scripts' digits), so /items/lookup is never an item id.
        path = PREFIX + route.path.replace("{id}", "{id:[0-9]+}")
        app.router.add_route(route.method, path, _endpoint(route))


def _endpoint(route: Route) -> Handler:
    """Wrap a handler: token, role, query parameters and body are checked before it runs."""

    async def endpoint(request: web.Request) -> web.StreamResponse:
        if route.public:
            return await route.handler(request)
        holder = await _authenticate(request)
        if route.method != "GET" and holder.role not in ("admin", "technician"):
            raise ApiError(403, "forbidden", f"the token {holder.name!r} ({holder.role}) may only read")
        unknown = sorted(set(request.query) - set(route.query))
        if unknown:
            known = f"; known: {', '.join(route.query)}" if route.query else ""
            raise ApiError(422, "invalid", f"{unknown[0]}: unknown query parameter{known}")
        if route.body is None:
            return await route.handler(request, holder)
        return await route.handler(request, holder, parse_json(route.body, await read_object(request)))

    endpoint.__name__ = endpoint.__qualname__ = route.handler.__name__
    endpoint.__doc__ = route.handler.__doc__
    return endpoint


async def _authenticate(request: web.Request) -> Holder:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    # Tokens are short ASCII (mln_...); anything else cannot match and must not reach the hash.
    if scheme.lower() != "bearer" or not token or not token.isascii() or len(token) > 200:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token> (maillon token create)")
    async with request.app[STORE].reader() as db:
        holder = await check_token(db, token)
    if holder is None:
        raise ApiError(401, "unauthorized", "unknown or revoked token")
    return holder


# Codes for the errors aiohttp raises itself (no route, wrong method, body too large...).
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def _is_api(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under ``/api/v1``, answer every error as ``{"code", "message"}``; elsewhere, stay out of the way."""
    if not _is_api(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as exc:
        headers = {"WWW-Authenticate": 'Bearer realm="maillon"'} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, headers)
    except DomainError as exc:
        return error_response(status_of(exc), exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        # Keep Allow on a 405, so the client learns which methods exist.
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        code = _HTTP_CODES.get(exc.status, "http_error")
        message = "no such route in /api/v1 (see /api/v1/openapi.json)" if exc.status == 404 else exc.reason
        return error_response(exc.status, code, message, headers)
    except NodeError as exc:  # the node itself failed (database...): not the client's fault
        status = status_of_storage(exc) if isinstance(exc, StoreError) else None
        if status is not None:  # a full disk, a damaged database: nothing was written, the code says which
            log.error("API %s %s: %s", request.method, request.path, exc.message)
            return error_response(status, exc.code, exc.message)
        log.exception("API %s %s failed", request.method, request.path)
        return error_response(500, exc.code, exc.message)
    except Exception:
        log.exception("API %s %s failed", request.method, request.path)
        return error_response(500, "internal", "internal error; the node's log has the details")
