"""The federation page: this node's identity, its peers and what waits for them, alerts,
invitations, joining a hub, the nodes seen on the local network; offers and published
reports come with their issues.

One function per section reads its part from the node (``node.network.peers``,
``node.network.outbox``; never SQL here) in the same reader. The forms are for
admins only (``@requires("admin")``): a refused form shows the page again
with the reason in French (the domain's or the other node's English detail
below it) and changes nothing; an accepted one redirects (303) to the page,
which says what was done, except a new invitation, whose token is shown
once on the answer itself.

The running node's ``Federation`` (``web_ui.app.FEDERATION``) knows the
nodes seen on the LAN; without it (a test app, a command) the page still
works, and says that discovery is not running.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Any

import aiohttp
import segno
from aiohttp import web
from markupsafe import Markup
from yarl import URL

from federation.client import PeerRefused
from federation.commands import add_peer, base_url, invite_text, join
from federation.membership import membership_start
from node.config import Node, is_loopback
from node.domain import alerts
from node.errors import DomainError
from node.network import handoff_views, handoffs, outbox
from node.network import peers as trust
from node.network.stats_reports import SentReport, list_reports, own_keys
from node.network.transparency import Inclusion, inclusion_of
from node.store.database import Reader, now_ms
from protocol.errors import ProtocolError
from protocol.keys import fingerprint
from web_ui.auth import requires
from web_ui.i18n import translator
from web_ui.keys import FEDERATION, NODE, STORE
from web_ui.periods import period_name
from web_ui.render import LANGUAGE, page

routes = web.RouteTableDef()

Section = dict[str, Any]
# What a call to another node may raise: its refusal, our checks, the network.
CALL_ERRORS = (PeerRefused, DomainError, ProtocolError, aiohttp.ClientError, asyncio.TimeoutError, OSError)
FINGERPRINT_DIGITS = 16


@dataclass(frozen=True, slots=True)
class Identity:
    """What another node's admin compares, aloud, before trusting this node."""

    name: str
    role: str
    fingerprint_groups: tuple[str, ...]
    node_id: str
    node_id_groups: tuple[str, ...]


def identity(node: Node) -> Identity:
    public = node.key.public
    node_id = public.node_id
    return Identity(
        name=node.config.name, role=node.config.role, fingerprint_groups=tuple(public.fingerprint.split("-")),
        node_id=node_id, node_id_groups=tuple(node_id[i : i + 4] for i in range(0, len(node_id), 4)),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PeerRow:
    """A trusted node as the page shows it, with what waits for it."""

    peer: trust.Peer
    fingerprint: str
    queued: int
    waiting_since: int | None


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert: alerts.Alert
    peer_name: str | None
    author_fingerprint: str | None


@dataclass(frozen=True, slots=True)
class InvitationRow:
    invitation: trust.Invitation
    status: str  # waiting, used, expired
    used_by: str | None  # the name of the node that used it, else its fingerprint


def reason_messages(_: Any) -> dict[str, str]:
    """Every reason code a record or a call may be refused with, explained to an admin."""
    return {
        # the record's bytes
        "malformed": _("The data is not readable (malformed)."),
        "non_canonical": _("The data is not written in its one canonical form."),
        "duplicate_key": _("The data names one field twice."),
        "forbidden_type": _("The data holds a type of value the protocol forbids."),
        "trailing_bytes": _("The data has extra bytes after its end."),
        "too_large": _("Too large: beyond what the protocol accepts."),
        "too_deep": _("The data is nested too deeply."),
        # keys and signatures
        "weak_key": _("The key is not a valid signing or encryption key."),
        "bad_signature": _("The signature does not verify: the data was changed or not signed by this key."),
        # records
        "bad_entry": _("The record is not a valid log entry (e.g. content sent in clear that should be sealed)."),
        "bad_envelope": _("The record's envelope is not valid."),
        "unknown_version": _("The record uses a protocol version this node does not know: update Maillon."),
        "wrong_domain": _("The signature was made for another use than a record."),
        "bad_header": _("The record's header is not valid."),
        "content_mismatch": _("The content does not match the fingerprint in the record's header."),
        "unknown_kind": _("A kind of record this version of Maillon does not know."),
        "bad_content": _("The content does not follow the rules of its kind of record."),
        # logs
        "wrong_author": _("The record is not by the author it claims."),
        "gap": _("Records of this author are missing before this one; they are fetched first."),
        "fork": _("Two different records with the same number from one author: this author is frozen until the admins sort it out."),
        "bad_prev": _("The record does not follow the previous record of its author."),
        # who may send what
        "unknown_author": _("A record of a node nobody admitted in this network: a node takes records from their author, or relayed of a node it knows."),
        "key_not_fresh": _("A key rotation must name a new key, never a key already known here."),
        "role_not_certified": _("A node's role comes from the certificate that admitted it, not from what it says of itself: its new description was not taken."),
        "url_changed": _("The node published a new address: this node now reaches it there."),
        "bad_proof": _("The proof of inclusion does not verify."),
        # signed requests between nodes
        "bad_request": _("The request is malformed or its signature headers are missing."),
        "wrong_recipient": _("The request was addressed to another node."),
        "digest_mismatch": _("The request's body was changed on the way."),
        "unknown_key": _("The other node does not know this node's key: it must join or be added first."),
        "revoked_key": _("This key was revoked: its requests and records from then on are refused."),
        "stale_request": _("The request is too old or dated in the future: check both nodes' clocks."),
        "replayed": _("The same request was received twice (a replay)."),
        "rate_limited": _("Too many requests: the other node asks to slow down."),
        # sealed content
        "bad_seal": _("The sealed content cannot be opened."),
        "not_a_recipient": _("This node is not among the readers of the sealed content."),
        # donor proof bundles, and fates passed on up the chain
        "bad_bundle": _("The file is not a donor proof bundle, or its report is not a donor report."),
        "receipt_mismatch": _("A receipt that was not signed by the node the lot was offered to, or whose lines are not the offer's."),
        "not_custodian": _("An item's fate signed by a node that did not hold the item at that time: it is not taken."),
        # joining and trusting
        "fingerprint_mismatch": _("The node at this address does not have the fingerprint given: it is not the node you think. Check the address and the fingerprint with its administrator."),
        "bad_descriptor": _("The address does not answer as a Maillon node (no valid signed description)."),
        "bad_certificate": _("The hub answered with a membership certificate that is not valid for this node."),
        "bad_invitation": _("The invitation is unknown, already used, expired or for another role: ask for a new one."),
        "not_a_hub": _("The node of a member association admits no one: only a hub or the national federation does."),
        "own_key": _("That is this node itself."),
        "bad_url": _("A node's address is http:// or https://, a host and maybe a port, with nothing after (no path)."),
        "bad_fingerprint": _("A fingerprint has 16 letters and digits in 4 groups, e.g. GAIE-V2KS-35UT-7WCO."),
        "unreachable": _("The node could not be reached: check the address and that it is running."),
        "http_error": _("The address answered with an HTTP error: is it a Maillon node?"),
        "not_seen": _("This node is no longer seen on the local network: reload the page."),
        "no_discovery": _("Discovery of the local network is not running in this process."),
        "refused": _("Refused, without a reason given."),
        # statistics
        "summary_overflow": _("The report's figures would take the regional summary beyond what it can hold (a figure too large, a negative number of items, too many figures): it does not count."),
        # the tasks of the daily upkeep (node.network.upkeep.UPKEEP_TASKS)
        "erase_expired": _("Daily upkeep: erasing beneficiaries' details past their retention period."),
        "imports_pending": _("Daily upkeep: removing the files uploaded for an import preview and never confirmed."),
        "stats_report": _("Daily upkeep: signing this node's statistics report."),
        "renew_certificates": _("Daily upkeep: renewing the members' certificates."),
        "regional_summary": _("Daily upkeep: signing the regional summary of the members' reports."),
        "silence": _("Daily upkeep: looking for silent members and unreachable peers."),
        # node.network.silence
        "member_silent": _("This member sent no statistics report for longer than its reporting period (a month, a quarter or a year, as its last report): it may be switched off, or its reports blocked."),
        "peer_unreachable": _("No valid exchange with this node, either way, for more than a day: it may be switched off, or its address or the network may have changed."),
        "invalid": _("A value is out of range."),
    }  # fmt: skip


def explain(_: Any, code: str) -> str:
    """The French explanation of a reason code; an unknown code is named as it is."""
    known = reason_messages(_).get(code)
    return known or _("Reason {code} (not explained by this version of Maillon).", code=code)


def alert_kinds(_: Any) -> dict[str, str]:
    return {
        "fork": _("Fork of a log"),
        "url_changed": _("A node's address changed"),
        "refused": _("Record refused by this node"),
        "refused_by_peer": _("Record refused by a peer"),
        "revoked": _("Key revoked"),
        "refused_effect": _("Record held but its effect refused"),
        "inclusion_failed": _("The hub could not prove it holds a record of ours"),
        "log_tampered": _("Transparency log altered: no checkpoint signed"),
        "upkeep_failed": _("A task of the daily upkeep failed"),
        "silent": _("A node is silent"),
    }


async def _peer_rows(db: Reader) -> list[PeerRow]:
    queues = await outbox.queue_summary(db)
    return [PeerRow(peer, fingerprint(peer.key), *queues.get(peer.key, (0, None)))
            for peer in await trust.list_peers(db)]  # fmt: skip


async def peers_section(db: Reader, node: Node) -> Section:
    """Trusted nodes: role, relation, state, address, last contact, what waits for them, back-off."""
    rows = await _peer_rows(db)
    upstream = [row.peer for row in rows if row.peer.relation == "upstream" and row.peer.active]
    return {"peers": rows, "upstream": upstream}


async def outbox_section(db: Reader, node: Node) -> Section:
    """The peers with records waiting to be sent (or pulled from their mailbox), the longest waiting first."""
    waiting = [row for row in await _peer_rows(db) if row.queued]
    return {"outbox": sorted(waiting, key=lambda row: row.waiting_since or 0)}


async def alerts_section(db: Reader, node: Node) -> Section:
    """Forks, records refused either way, revoked keys: the 50 latest."""
    names = {peer.key: peer.name for peer in await trust.list_peers(db)}
    rows = [
        AlertRow(alert, names.get(alert.peer) if alert.peer else None,
                 fingerprint(alert.author) if alert.author else None)
        for alert in await alerts.list_alerts(db)
    ]  # fmt: skip
    return {"alerts": rows}


async def invitations_section(db: Reader, node: Node) -> Section:
    """The invitations this node gave: waiting, used (by whom) or expired. Their tokens are never kept."""
    names = {peer.key: peer.name for peer in await trust.list_peers(db)}
    now, rows = now_ms(), []
    for invitation in await trust.list_invitations(db):
        status = "used" if invitation.used else "expired" if invitation.expires < now else "waiting"
        by = invitation.used_by
        rows.append(InvitationRow(invitation, status, (names.get(by) or fingerprint(by)) if by else None))
    return {"invitations": rows}


@dataclass(frozen=True, slots=True)
class OfferRow:
    """A lot another node offers to this one, waiting for an answer (``node.network.handoffs``)."""

    handoff: handoffs.Handoff
    peer_name: str | None
    fingerprint: str


async def offers_section(db: Reader, node: Node) -> Section:
    """Lots other nodes offer to hand over to this one, waiting for an answer (the expired ones left out)."""
    waiting = [h for h in await handoffs.list_handoffs(db, direction="in", state="offered") if not h.expired()]
    names = await handoff_views.node_names(db, [h.peer for h in waiting])
    return {"offers": [OfferRow(h, names.get(h.peer), fingerprint(h.peer)) for h in waiting]}


@dataclass(frozen=True, slots=True)
class ReportRow:
    report: SentReport
    included: Inclusion | None


async def reports_section(db: Reader, node: Node) -> Section:
    """The statistics reports this node signed, who may read them, and whether its hub proved it holds them."""
    reports = await list_reports(db, await own_keys(db, node.key.public.raw))
    return {"reports": [ReportRow(report, await inclusion_of(db, report.id)) for report in reports[:24]]}


SECTIONS = (peers_section, outbox_section, alerts_section, invitations_section, offers_section,
            reports_section)  # fmt: skip


def qr_svg(text: str, title: str) -> Markup:
    """``text`` as a QR code in inline SVG (no style attribute: the CSP forbids them), with a title to be read."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", xmldecl=False, svgclass="qr", lineclass=None,
                                     omitsize=True, title=title, border=4)  # fmt: skip
    return Markup(buffer.getvalue().decode("utf-8"))


def done_messages(_: Any) -> dict[str, str]:
    return {
        "joined": _("This node joined the network: its records will be sent to the node it joined, and that node's received."),
        "added": _("The node is now trusted as a peer."),
    }


async def _page(request: web.Request, *, status: int = 200, form: str | None = None,
                error: tuple[str, str] | None = None, entered: dict[str, str] | None = None,
                invitation: dict[str, Any] | None = None) -> web.Response:  # fmt: skip
    """The page; after a refused form, ``form`` names it and ``entered`` holds what was typed."""
    node = request.app[NODE]
    language = request.get(LANGUAGE, "fr")
    _ = translator(language)
    context: Section = {}
    async with request.app[STORE].reader() as db:
        for section in SECTIONS:
            context.update(await section(db, node))
    fed = request.app.get(FEDERATION)
    discovered = await fed.discovered() if fed is not None else []
    flashes = []
    done = done_messages(_).get(request.query.get("done", ""))
    if done:
        flashes.append(("ok", done))
    response = page(
        request, "federation/index.html", status=status, identity=identity(node), flashes=flashes,
        discovery_running=fed is not None, discovered=discovered, form=form, error=error,
        entered=entered or {}, invitation=invitation, explain=lambda code: explain(_, code),
        alert_kinds=alert_kinds(_), now=now_ms(), public_url=node.config.url,
        period_name=lambda period: period_name(period, language), **context,
    )  # fmt: skip
    if invitation is not None:
        response.headers["Cache-Control"] = "no-store"  # the token is shown this once
    return response


@routes.get("/federation")
async def federation(request: web.Request) -> web.Response:
    return await _page(request)


def normal_fingerprint(text: str) -> str | None:
    """A fingerprint as typed (any case, spaces or dashes) as it is written, or None if it cannot be one."""
    digits = "".join(c for c in text.upper() if c.isalnum())
    if len(digits) != FINGERPRINT_DIGITS or not all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for c in digits):
        return None
    return "-".join(digits[i : i + 4] for i in range(0, FINGERPRINT_DIGITS, 4))


def normal_url(text: str) -> str | None:
    text = text.strip().rstrip("/")
    try:
        url = URL(text)
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host or len(text) > 300:
        return None
    if any(c.isspace() for c in text):
        return None
    return text


def read_invitation_line(fields: dict[str, str]) -> dict[str, str]:
    """The join form's fields, filled from a pasted ``maillon join URL --token T --fingerprint F`` line."""
    words = fields["url"].split()
    if words[:2] != ["maillon", "join"]:
        return fields
    found = {"url": "", "token": "", "fingerprint": ""}
    rest = iter(words[2:])
    for word in rest:
        if word in ("--token", "--fingerprint"):
            found[word[2:]] = next(rest, "")
        elif not found["url"]:
            found["url"] = word
    return {name: fields[name] if name != "url" and fields[name] else found[name] for name in found}


def failure(exc: BaseException) -> tuple[str, str]:
    """A failed call to another node as (reason code, English detail)."""
    if isinstance(exc, PeerRefused):
        return exc.reason, f"{exc.status} {exc.reason}: {exc.message}"
    if isinstance(exc, DomainError):
        return exc.code, exc.message
    if isinstance(exc, ProtocolError):
        return exc.code.value, exc.message
    return "unreachable", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _refusal(_: Any, headline: str, code: str, detail: str = "") -> tuple[str, str]:
    return f"{headline} {explain(_, code)}", detail


@routes.post("/federation/join")
@requires("admin")
async def join_hub(request: web.Request) -> web.Response:
    """Join a hub (a member) or the national federation (a hub) with an invitation."""
    node, store = request.app[NODE], request.app[STORE]
    _ = translator(request.get(LANGUAGE, "fr"))
    form = await request.post()
    typed = {name: str(form.get(name, "")).strip() for name in ("url", "token", "fingerprint")}
    entered = read_invitation_line(typed)
    headline = _("Nothing was changed: this node did not join.")
    url, expected = normal_url(entered["url"]), normal_fingerprint(entered["fingerprint"])
    code, detail = "", ""
    if node.config.role == "national":
        code = "invalid"
        detail = "the national federation joins no one"
    elif url is None:
        code = "bad_url"
    elif expected is None:
        code = "bad_fingerprint"
    elif not entered["token"]:
        code = "bad_invitation"
        detail = "no token given"
    else:
        try:
            await join(node, store, url, entered["token"], expected)
        except CALL_ERRORS as exc:
            code, detail = failure(exc)
    if code:
        return await _page(request, status=422, form="join", error=_refusal(_, headline, code, detail),
                           entered=entered)  # fmt: skip
    fed = request.app.get(FEDERATION)
    if fed is not None:
        fed.wake(pull=True)  # the hub's log (our certificate among it) now, not at the next pull
    raise web.HTTPSeeOther("/federation?done=joined#peers-title")


@routes.post("/federation/invitations")
@requires("admin")
async def create_invitation(request: web.Request) -> web.Response:
    """A one-time invitation for a node to join this one; its token is shown on this answer only."""
    node, store = request.app[NODE], request.app[STORE]
    _ = translator(request.get(LANGUAGE, "fr"))
    form = await request.post()
    entered = {name: str(form.get(name, "")).strip() for name in ("role", "note", "days", "member_since")}
    headline = _("No invitation was made.")
    if node.config.role == "member":
        error = _refusal(_, headline, "not_a_hub", "a member node admits no one")
        return await _page(request, status=422, form="invite", error=error, entered=entered)
    days = int(entered["days"]) if entered["days"].isascii() and entered["days"].isdigit() else 0
    try:
        since = membership_start(entered["member_since"]) if entered["member_since"] else None
        async with store.transaction() as tx:
            token = await trust.create_invitation(tx, role=entered["role"], note=entered["note"], days=days,
                                                  member_since=since)  # fmt: skip
    except DomainError as exc:
        advice = _("Choose a role, from 1 to 90 days, and a membership start that is not in the future.")
        error = (f"{headline} {advice}", exc.message)
        return await _page(request, status=422, form="invite", error=error, entered=entered)
    line = invite_text(node, token)
    address = base_url(node)
    invitation = {"line": line, "qr": qr_svg(line, _("QR code of the invitation")), "days": days,
                  "loopback": address if is_loopback(URL(address).host or "") else ""}  # fmt: skip
    return await _page(request, invitation=invitation)


@routes.post("/federation/discovered")
@requires("admin")
async def add_discovered(request: web.Request) -> web.Response:
    """Trust a node seen on the LAN, once its fingerprint, read aloud by its admin, is typed here."""
    node, store = request.app[NODE], request.app[STORE]
    _ = translator(request.get(LANGUAGE, "fr"))
    form = await request.post()
    entered = {name: str(form.get(name, "")).strip() for name in ("node_id", "fingerprint")}
    headline = _("Nothing was changed: the node was not added.")
    fed = request.app.get(FEDERATION)
    found = fed.found(entered["node_id"]) if fed is not None else None
    typed = normal_fingerprint(entered["fingerprint"])
    code, detail = "", ""
    if fed is None:
        code = "no_discovery"
    elif found is None:
        code = "not_seen"
    elif typed is None:
        code = "bad_fingerprint"
    elif typed != found.fingerprint:
        code = "fingerprint_mismatch"
        detail = f"typed {typed}, the node announces {found.fingerprint}"
    else:
        try:
            await add_peer(node, store, found.url, typed)
        except CALL_ERRORS as exc:
            code, detail = failure(exc)
    if code:
        return await _page(request, status=422, form="discovered", error=_refusal(_, headline, code, detail),
                           entered=entered)  # fmt: skip
    assert fed is not None
    fed.wake(pull=True)
    raise web.HTTPSeeOther("/federation?done=added#peers-title")

