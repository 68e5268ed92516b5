"""Logins, sessions, CSRF, the login rate limit, roles and the audit log for the pages.

Every page needs a session except the login and first-run setup pages,
static assets, ``/health``, and the routes that have their own
authentication (``/api/v1`` bearer tokens, wiping-station uploads).
Every form posts its session's CSRF token; a POST without it is refused
and changes nothing. Every successful POST is written to the audit log.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from node.domain import users
from node.errors import DomainError, StoreError
from node.store.database import now_ms
from web_ui.i18n import negotiate, translator
from web_ui.keys import STORE
from web_ui.remote import client_address
from web_ui.render import LANGUAGE, SESSION, page

__all__ = ["auth_middleware", "add_auth_routes", "requires", "setup_code", "safe_next", "COOKIE", "LOGIN_COOKIE",
           "RateLimit", "LoginLimits"]

COOKIE = "maillon_session"
SETUP_FILE = "setup-code"
# /fed/v1 and the descriptor authenticate each request by its node signature, not a session.
OPEN_PREFIXES = ("/static/", "/api/v1", "/upload/", "/health", "/login", "/setup", "/language/", "/fed/v1/",
                 "/.well-known/maillon", "/verify")  # fmt: skip  (/verify: a donor checks a report, no account)
# Open as exact paths only: the workshop probe itself (the raw outputs at /station/probes/ need an account).
OPEN_PATHS = frozenset({"/station/probe", "/station/probe.sh"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RateLimit:
    """At most ``attempts`` failures per key (an account, an address) in ``window`` seconds.

    Keys are made by whoever calls (any user name can be tried), so at most
    ``keys`` are remembered: the oldest are forgotten first.
    """

    def __init__(self, attempts: int = 5, window: float = 300.0, keys: int = 10_000) -> None:
        self.attempts, self.window, self.keys = attempts, window, keys
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, key: str) -> bool:
        failures = self._failures.get(key)
        if failures is None:
            return False
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return len(failures) >= self.attempts

    def fail(self, key: str) -> None:
        if key not in self._failures and len(self._failures) >= self.keys:
            del self._failures[next(iter(self._failures))]
        self._failures.setdefault(key, deque(maxlen=self.attempts)).append(time.monotonic())

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class LoginLimits:
    """Failed logins are counted per account and per client address; either one blocks.

    Per account, because behind a reverse proxy or a workshop's NAT many
    people share one address; per address, because one client may try many
    accounts. A workshop's address allows more failures than one account.
    """

    def __init__(self) -> None:
        self.accounts = RateLimit(attempts=5)
        self.addresses = RateLimit(attempts=20)

    @staticmethod
    def account(username: str) -> str:
        return username.strip().casefold()[:100]

    def blocked(self, username: str, address: str) -> bool:
        return self.accounts.blocked(self.account(username)) or self.addresses.blocked(address)

    def fail(self, username: str, address: str) -> None:
        self.accounts.fail(self.account(username))
        self.addresses.fail(address)

    def succeeded(self, username: str) -> None:
        self.accounts.clear(self.account(username))


RATE_LIMIT = web.AppKey("rate_limit", LoginLimits)
LOGIN_COOKIE = "maillon_login"  # the login form's CSRF token, before there is a session


def setup_code(data_dir: Path) -> str:
    """The one-time code that lets the first admin be created (kept until then)."""
    path = data_dir / SETUP_FILE
    if path.exists():
        return path.read_text().strip()
    code = secrets.token_hex(4)
    path.touch(mode=0o600)
    path.write_text(code + "\n")
    return code


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or any(path == p or path.startswith(p) for p in OPEN_PREFIXES)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:

    store = request.app[STORE]
    token = request.cookies.get(COOKIE)
    session = None
    if token:
        async with store.reader() as db:
            session = await users.session_of(db, token)
    if session is not None and session.needs_renewal(now_ms()):
        try:
            async with store.transaction() as tx:
                await users.renew_session(tx, token)
        except StoreError:
            pass  # a full disk or a read-only database: the session just ends at its time
    request[SESSION] = session
    request[LANGUAGE] = negotiate(request.cookies.get("lang"), session.user.language if session else None,
                                  request.headers.get("Accept-Language"))  # fmt: skip
    if _is_open(request.path):
        return await handler(request)
    if session is None:
        async with store.reader() as db:
            target = "/login" if await users.has_users(db) else "/setup"
        raise web.HTTPSeeOther(f"{target}?next={request.path_qs}" if request.method == "GET" else target)
    if request.method not in ("GET", "HEAD"):
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            _ = translator(request[LANGUAGE])
            return page(request, "error.html", status=413, message=_("This file is too large (20 MB at most)."))
        if not secrets.compare_digest(str(form.get("_csrf", "")), session.csrf):
            _ = translator(request[LANGUAGE])
            return page(request, "error.html", status=403, message=_("This form has expired. Reload the page and try again."))
        if not session.user.may("technician") and not request.path.startswith("/account") and request.path != "/logout":
            _ = translator(request[LANGUAGE])
            return page(request, "error.html", status=403, message=_("Your account may only read."))
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # a redirect after a successful POST
            await _audit(request, session)
        raise
    if response.status < 400:
        await _audit(request, session)
    return response


async def _audit(request: web.Request, session: users.Session) -> None:

    if request.method == "POST":
        async with request.app[STORE].transaction() as tx:
            await users.audit(tx, session.user, f"{request.method} {request.path}")


def requires(role: str) -> Callable[[Handler], Handler]:
    """Page decorator: the logged-in user must have at least ``role``."""

    def decorate(handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            session = request.get(SESSION)
            if session is None or not session.user.may(role):
                _ = translator(request.get(LANGUAGE, "fr"))
                return page(request, "error.html", status=403, message=_("Your role does not allow this."))
            return await handler(request)

        wrapped.__name__ = handler.__name__
        wrapped.__doc__ = handler.__doc__
        return wrapped

    return decorate


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this node, else ``/``: never send a volunteer to another site.

    Browsers drop tabs and line breaks from a URL and read ``\\`` as ``/``:
    ``/<TAB>/evil.example`` would reach ``//evil.example``. So a path with
    any control character, space or backslash is refused, not cleaned.
    """
    if (not value or not value.startswith("/") or value.startswith("//") or len(value) > 2000
            or any(c == "\\" or c.isspace() or not c.isprintable() for c in value)):  # fmt: skip
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _set_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    # No Max-Age: the cookie ends with the browser; the session itself ends when idle (users.SESSION_IDLE_MS).
    response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=request.secure, path="/")


def _login_token(request: web.Request) -> str:
    token = request.cookies.get(LOGIN_COOKIE, "")
    return token if 20 <= len(token) <= 64 and token.isascii() and token.isalnum() else ""


def _login_page(request: web.Request, *, status: int = 200, next_path: str, error: str | None) -> web.Response:
    """The login form, with its CSRF token (a cookie set here, and the same in the form)."""
    token = _login_token(request) or secrets.token_hex(16)
    response = page(request, "login.html", status=status, next=next_path, error=error, csrf=token)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="Strict", secure=request.secure, path="/login")
    return response


async def login_form(request: web.Request) -> web.Response:
    return _login_page(request, next_path=safe_next(request.query.get("next")), error=None)


async def login(request: web.Request) -> web.StreamResponse:
    from web_ui.keys import NODE

    _ = translator(request[LANGUAGE])
    form = await request.post()
    next_path = safe_next(str(form.get("next", "/")))
    # Login CSRF: another site must not log a volunteer's browser into an account of its choosing.
    expected = _login_token(request)
    if not expected or not secrets.compare_digest(str(form.get("_csrf", "")), expected):
        return _login_page(request, status=403, next_path=next_path,
                           error=_("This form has expired. Reload the page and try again."))  # fmt: skip
    username = str(form.get("username", ""))
    address = client_address(request, request.app[NODE].config.trusted_proxies)
    limit = request.app[RATE_LIMIT]
    if limit.blocked(username, address):
        return _login_page(request, status=429, next_path=next_path,
                           error=_("Too many failed attempts. Wait a few minutes and try again."))  # fmt: skip
    store = request.app[STORE]
    async with store.reader() as db:
        user = await users.authenticate(db, username, str(form.get("password", "")))
    if user is None:
        limit.fail(username, address)
        return _login_page(request, status=401, next_path=next_path, error=_("Wrong user name or password."))
    limit.succeeded(username)
    async with store.transaction() as tx:
        token = await users.open_session(tx, user)
        await users.audit(tx, user, "login", detail=f"from {address}")
    response = web.HTTPSeeOther(next_path)
    _set_cookie(response, request, token)
    response.del_cookie(LOGIN_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:

    session = request.get(SESSION)
    form = await request.post()
    if session is not None and secrets.compare_digest(str(form.get("_csrf", "")), session.csrf):
        async with request.app[STORE].transaction() as tx:
            await users.close_session(tx, request.cookies[COOKIE])
            await users.audit(tx, session.user, "logout")
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


async def setup_form(request: web.Request) -> web.StreamResponse:

    async with request.app[STORE].reader() as db:
        if await users.has_users(db):
            raise web.HTTPSeeOther("/login")
    return page(request, "setup.html", error=None, username="")


async def setup(request: web.Request) -> web.StreamResponse:
    from web_ui.keys import NODE

    _ = translator(request[LANGUAGE])
    form = await request.post()
    store, node = request.app[STORE], request.app[NODE]
    username = str(form.get("username", ""))
    limit = request.app[RATE_LIMIT].addresses
    key = client_address(request, node.config.trusted_proxies)
    if limit.blocked(key):
        return page(request, "setup.html", status=429, username=username,
                    error=_("Too many failed attempts. Wait a few minutes and try again."))  # fmt: skip
    if not secrets.compare_digest(str(form.get("code", "")).strip(), setup_code(node.data_dir)):
        limit.fail(key)
        return page(request, "setup.html", status=403, username=username,
                    error=_("Wrong setup code. It is printed where the node was started."))  # fmt: skip
    if str(form.get("password", "")) != str(form.get("password2", "")):
        return page(request, "setup.html", status=422, username=username, error=_("The two passwords differ."))
    try:
        async with store.transaction() as tx:
            if await users.has_users(tx):
                raise web.HTTPSeeOther("/login")
            user_id = await users.create_user(tx, username, str(form.get("password", "")), "admin",
                                              request[LANGUAGE])  # fmt: skip
            user = await users.get_user(tx, user_id)
            token = await users.open_session(tx, user)
            await users.audit(tx, user, "setup", "first admin")
    except DomainError as exc:
        return page(request, "setup.html", status=422, username=username, error=_(exc.message))
    (node.data_dir / SETUP_FILE).unlink(missing_ok=True)
    response = web.HTTPSeeOther("/")
    _set_cookie(response, request, token)
    raise response


async def set_language(request: web.Request) -> web.StreamResponse:
    """GET /language/{code}: remember the chosen language in a cookie, go back."""
    code = request.match_info["code"]
    response = web.HTTPSeeOther(safe_next(request.query.get("next")))
    if code in ("fr", "en"):
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", path="/")
    raise response


def add_auth_routes(app: web.Application) -> None:
    app[RATE_LIMIT] = LoginLimits()
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/setup", setup_form)
    app.router.add_post("/setup", setup)
    app.router.add_get("/language/{code}", set_language)
