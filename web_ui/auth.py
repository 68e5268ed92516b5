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
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from node import users
from node.errors import DomainError
from web_ui.i18n import negotiate, translator
from web_ui.render import LANGUAGE, SESSION, page

__all__ = ["auth_middleware", "add_auth_routes", "requires", "setup_code", "COOKIE", "RateLimit"]

COOKIE = "maillon_session"
SETUP_FILE = "setup-code"
# /fed/v1 and the descriptor authenticate each request by its node signature, not a session.
OPEN_PREFIXES = ("/static/", "/api/v1", "/upload/", "/health", "/login", "/setup", "/language/", "/fed/v1/",
                 "/.well-known/maillon", "/station/probe")  # fmt: skip
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RateLimit:
    """At most ``attempts`` failed logins per address in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, key: str) -> bool:
        failures = self._failures[key]
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return len(failures) >= self.attempts

    def fail(self, key: str) -> None:
        self._failures[key].append(time.monotonic())

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


RATE_LIMIT = web.AppKey("rate_limit", RateLimit)


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
    return any(path == p or path.startswith(p) for p in OPEN_PREFIXES)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    from web_ui.app import STORE

    store = request.app[STORE]
    token = request.cookies.get(COOKIE)
    session = None
    if token:
        async with store.reader() as db:
            session = await users.session_of(db, token)
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
        if not session.user.may("technician") and not request.path.startswith("/account"):
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
    from web_ui.app import STORE

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


def _safe_next(value: str | None) -> str:
    # Only local paths: never redirect a volunteer to another site after login.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _set_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=request.secure,
                        max_age=users.SESSION_MS // 1000, path="/")  # fmt: skip


async def login_form(request: web.Request) -> web.Response:
    return page(request, "login.html", next=_safe_next(request.query.get("next")), error=None)


async def login(request: web.Request) -> web.StreamResponse:
    from web_ui.app import STORE

    _ = translator(request[LANGUAGE])
    form = await request.post()
    key = request.remote or "?"
    limit = request.app[RATE_LIMIT]
    next_path = _safe_next(str(form.get("next", "/")))
    if limit.blocked(key):
        return page(request, "login.html", status=429, next=next_path,
                    error=_("Too many failed attempts. Wait a few minutes and try again."))  # fmt: skip
    store = request.app[STORE]
    async with store.reader() as db:
        user = await users.authenticate(db, str(form.get("username", "")), str(form.get("password", "")))
    if user is None:
        limit.fail(key)
        return page(request, "login.html", status=401, next=next_path, error=_("Wrong user name or password."))
    limit.clear(key)
    async with store.transaction() as tx:
        token = await users.open_session(tx, user)
        await users.audit(tx, user, "login")
    response = web.HTTPSeeOther(next_path)
    _set_cookie(response, request, token)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    from web_ui.app import STORE

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
    from web_ui.app import STORE

    async with request.app[STORE].reader() as db:
        if await users.has_users(db):
            raise web.HTTPSeeOther("/login")
    return page(request, "setup.html", error=None, username="")


async def setup(request: web.Request) -> web.StreamResponse:
    from web_ui.app import NODE, STORE

    _ = translator(request[LANGUAGE])
    form = await request.post()
    store, node = request.app[STORE], request.app[NODE]
    username = str(form.get("username", ""))
    limit = request.app[RATE_LIMIT]
    key = request.remote or "?"
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
    response = web.HTTPSeeOther(_safe_next(request.query.get("next")))
    if code in ("fr", "en"):
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", path="/")
    raise response


def add_auth_routes(app: web.Application) -> None:
    app[RATE_LIMIT] = RateLimit()
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/setup", setup_form)
    app.router.add_post("/setup", setup)
    app.router.add_get("/language/{code}", set_language)
