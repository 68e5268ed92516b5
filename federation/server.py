"""The inbound side of ``/fed/v1``: authenticate once, parse, hand over, answer.

Mounted by the node's HTTP server next to the web interface (``add_routes``).
Every ``/fed/v1`` call but ``join`` must come from a pinned, active key;
``join`` is the one call an unknown key may make, with an invitation token.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from federation import wire
from federation.inbox import check, hold
from federation.membership import admit
from node.errors import DomainError, NotFound
from node.network import outbox, transparency
from node.network import peers as trust
from node.network.replica import held_records
from protocol import canonical
from protocol.errors import ProtocolError, Reason, RequestRefused
from protocol.keys import parse_node_id
from protocol.requests import SignedRequest

if TYPE_CHECKING:
    from federation.engine import Federation

__all__ = ["add_routes", "FED", "refuse_unreadable_requests"]

logger = logging.getLogger(__name__)

FED: web.AppKey["Federation"] = web.AppKey("federation")
MAX_LIMIT = 500

_STATUS = {
    Reason.BAD_REQUEST: 400, Reason.TOO_LARGE: 413, Reason.WRONG_RECIPIENT: 421, Reason.DIGEST_MISMATCH: 400,
    Reason.WEAK_KEY: 401, Reason.BAD_SIGNATURE: 401, Reason.STALE_REQUEST: 401, Reason.REPLAYED: 401,
    Reason.UNKNOWN_KEY: 403, Reason.REVOKED_KEY: 403, Reason.RATE_LIMITED: 429,
}  # fmt: skip


def add_routes(app: web.Application, fed: "Federation") -> None:
    app[FED] = fed
    app.router.add_get("/.well-known/maillon", well_known)
    app.router.add_post("/fed/v1/push", push)
    app.router.add_get("/fed/v1/log/{author}", log)
    app.router.add_get("/fed/v1/mailbox", mailbox)
    app.router.add_post("/fed/v1/join", join)
    app.router.add_get("/fed/v1/checkpoint", checkpoint)
    app.router.add_get("/fed/v1/proof/inclusion", inclusion_proof)
    app.router.add_get("/fed/v1/proof/consistency", consistency_proof)


class _RefusingHandler(web.RequestHandler):
    """A connection whose request the HTTP parser refuses gets a protocol refusal, not plain text."""

    __slots__ = ()

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:  # fmt: skip
        if status != 400:
            return super().handle_error(request, status, exc, message)
        # The parser (llhttp) refused the request line or a header before any route or
        # handler ran: a method not in capitals ("post") is refused here, not by the router.
        first = (message or "malformed request").splitlines()[0].rstrip(":")
        # The client's mistake (a header too long, garbage on the port), not the node's: one line, no traceback.
        logger.info("refused a request from %s that HTTP cannot read (400 bad_request): %s", request.remote,
                 first[:200])  # fmt: skip
        response = refusal(Reason.BAD_REQUEST.value, f"not an HTTP request this node reads: {first}", 400)
        response.force_close()
        return response


class _RefusingServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        handler = super().__call__()
        handler.__class__ = _RefusingHandler  # same slots: only handle_error differs
        return handler


def refuse_unreadable_requests(runner: web.AppRunner) -> None:
    """Answer what ``runner``'s HTTP parser refuses with ``{"reason": "bad_request", ...}`` (after ``setup``).

    PROTOCOL.md ("Verifying a request", step 2): a method that is not 1 to
    16 capitals is ``bad_request``; aiohttp's parser refuses it before the
    application sees it, with a plain-text 400 of its own.
    """
    assert runner.server is not None, "call it after runner.setup()"
    runner.server.__class__ = _RefusingServer


def _answer(value: object, status: int = 200) -> web.Response:
    return web.Response(body=canonical.encode(value), status=status, content_type=wire.CONTENT_TYPE)


def refusal(reason: str, message: str, status: int = 400) -> web.Response:
    return _answer({"reason": reason, "message": message}, status)


async def _authenticate(request: web.Request, *, known: bool = True) -> tuple[SignedRequest, bytes]:
    fed = request.app[FED]
    if (request.content_length or 0) > wire.MAX_BODY:
        raise RequestRefused(Reason.TOO_LARGE, f"a body is at most {wire.MAX_BODY} bytes")
    body = await wire.read_body(request.content)
    signed = fed.guard.check(request.headers, method=request.method, path=request.rel_url.raw_path,
                             query=request.rel_url.raw_query_string, body=body)  # fmt: skip
    if known:
        async with fed.store.reader() as db:
            peer = await trust.get_peer(db, signed.caller)
        if peer is None:
            raise RequestRefused(Reason.UNKNOWN_KEY, "this node does not know your key: join first")
        if not peer.active:
            raise RequestRefused(Reason.REVOKED_KEY, f"your key is {peer.state} here")
        await fed.heard_from(peer)
    return signed, body


async def _guarded(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProtocolError as exc:
        return refusal(exc.code.value, exc.message, _STATUS.get(exc.code, 400))
    except DomainError as exc:
        return refusal(exc.code, exc.message, 400)


def _guard(handler):
    async def wrapped(request: web.Request) -> web.StreamResponse:
        return await _guarded(request, handler)

    wrapped.__doc__ = handler.__doc__
    return wrapped


@_guard
async def well_known(request: web.Request) -> web.Response:
    """This node's descriptor: who it is, where it is, its encryption key. Unsigned, public."""
    fed = request.app[FED]
    return web.Response(body=await fed.descriptor_entry(), content_type=wire.CONTENT_TYPE)


@_guard
async def push(request: web.Request) -> web.Response:
    """Records pushed into this node's inbox; one verdict per item, in order."""
    signed, body = await _authenticate(request)
    fed = request.app[FED]
    items = wire.decode_items(wire.decode_map(body, {"items": list})["items"])
    checked = await check(fed.key, items)  # signatures checked before the write lock is taken
    async with fed.store.transaction() as tx:
        results = await hold(tx, checked, sender=signed.caller, leaves=fed.keeps_log)
    fed.wake()
    return web.Response(body=wire.encode_results(results), content_type=wire.CONTENT_TYPE)


def _int_param(request: web.Request, name: str, default: int, high: int) -> int:
    text = request.rel_url.query.get(name, str(default))
    if not text.isdigit() or len(text) > 19 or int(text) > high:
        raise RequestRefused(Reason.BAD_REQUEST, f"{name} is a whole number from 0 to {high}")
    return int(text)


@_guard
async def log(request: web.Request) -> web.Response:
    """An author's log as held here after a seq; what the caller may not read comes as stubs."""
    signed, _ = await _authenticate(request)
    fed = request.app[FED]
    try:
        author = parse_node_id(request.match_info["author"]).raw
    except ProtocolError as exc:
        raise RequestRefused(Reason.BAD_REQUEST, "the path names a node id") from exc
    after = _int_param(request, "after", 0, 2**63 - 1)
    limit = max(1, _int_param(request, "limit", MAX_LIMIT, MAX_LIMIT))
    if author == fed.me and fed.store.writes_held is not None:
        fed.heard_own_log(signed.caller, after)  # restored: what the caller holds of our log tells the resync
    async with fed.store.reader() as db:
        held = await held_records(db, author, after=after, limit=limit + 1)
    items = [await fed.item_for(record, signed.caller) for record in held[:limit]]
    return web.Response(body=wire.encode_items(items, more=len(held) > limit), content_type=wire.CONTENT_TYPE)


@_guard
async def mailbox(request: web.Request) -> web.Response:
    """What waits here for the caller (a member behind NAT); naming a cursor acknowledges up to it."""
    signed, _ = await _authenticate(request)
    fed = request.app[FED]
    after = _int_param(request, "after", 0, 2**63 - 1)
    limit = max(1, _int_param(request, "limit", MAX_LIMIT, MAX_LIMIT))
    async with fed.store.reader() as db:  # a member polls often: most polls find nothing and write nothing
        idle = not await outbox.waiting(db, signed.caller)
    if idle:
        return web.Response(body=wire.encode_items([], cursor=after, more=False), content_type=wire.CONTENT_TYPE)
    async with fed.store.transaction() as tx:
        if after:
            await outbox.acknowledge_mailbox(tx, signed.caller, after)
        held, cursor, more = await outbox.mailbox(tx, signed.caller, after=after, limit=limit)
        if cursor > after:
            await outbox.served(tx, signed.caller, cursor)
    items = [await fed.item_for(record, signed.caller, relay=True) for record in held]
    return web.Response(body=wire.encode_items(items, cursor=cursor, more=more), content_type=wire.CONTENT_TYPE)


@_guard
async def join(request: web.Request) -> web.Response:
    """A node joins this one with an invitation token; answers its certificate and our descriptor."""
    signed, body = await _authenticate(request, known=False)
    fed = request.app[FED]
    value = wire.decode_map(body, {"token": str, "name": str, "role": str, "url": str, "encryption_key": bytes},
                            optional=("url",))  # fmt: skip
    certificate = await admit(fed.store, fed.node, signed.caller, value)
    fed.wake()
    return _answer({"certificate": certificate, "descriptor": await fed.descriptor_entry()})


# the transparency log (a hub or national node) ----------------------------------


@_guard
async def checkpoint(request: web.Request) -> web.Response:
    """This node's latest ``log.checkpoint/1`` as a log entry with its content (the bare entry bytes)."""
    await _authenticate(request)
    fed = request.app[FED]
    async with fed.store.reader() as db:
        held, _ = await transparency.last_checkpoint(db, fed.me)
    if held is None:
        return refusal("no_checkpoint", "this node has signed no checkpoint of a transparency log", 404)
    return web.Response(body=canonical.encode([held.envelope, held.content]), content_type=wire.CONTENT_TYPE)


@_guard
async def inclusion_proof(request: web.Request) -> web.Response:
    """``?record=<hex id>&size=N``: where the record is among the log's first N leaves, and the path to the root."""
    await _authenticate(request)
    fed = request.app[FED]
    text = request.rel_url.query.get("record", "")
    try:
        record_id = bytes.fromhex(text)
    except ValueError:
        record_id = b""
    if len(record_id) != 32:
        raise RequestRefused(Reason.BAD_REQUEST, "record is a record id: 64 hexadecimal digits")
    size = _int_param(request, "size", 0, 2**63 - 1)
    try:
        async with fed.store.reader() as db:
            proof = await transparency.inclusion(db, record_id, size, leaves=fed.leaves)
    except NotFound as exc:
        return refusal(exc.code, exc.message, 404)
    return _answer({"index": proof.index, "size": proof.size, "path": proof.path})


@_guard
async def consistency_proof(request: web.Request) -> web.Response:
    """``?old=M&new=N``: the proof that the log's first N leaves extend its first M."""
    await _authenticate(request)
    fed = request.app[FED]
    old = _int_param(request, "old", 0, 2**63 - 1)
    new = _int_param(request, "new", 0, 2**63 - 1)
    async with fed.store.reader() as db:
        path = await transparency.consistency(db, old, new, leaves=fed.leaves)
    return _answer({"path": path})
