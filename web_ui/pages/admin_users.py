"""Accounts of the web interface and the audit log, for admins only.

Registered through ``web_ui.pages.admin`` (which adds these routes to its
own table). Each change to an account is also written to the audit log
with the account's name and the new role, so the log says more than the
page's address.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.domain import users
from node.errors import DomainError, NotFound
from web_ui.auth import requires
from web_ui.i18n import translator
from web_ui.keys import STORE
from web_ui.paging import Pager, page_number
from web_ui.render import LANGUAGE, SESSION, page

routes = web.RouteTableDef()

AUDIT_PAGE = 50
USER_ID = "{id:[0-9]{1,18}}"


def _done_messages(_: Any) -> dict[str, str]:
    return {
        "created": _("The account is created."),
        "role": _("The role is changed."),
        "password": _("The password is changed; that person's open sessions were closed."),
        "disabled": _("The account is disabled; its open sessions were closed."),
    }


def _user_problem(_: Any, exc: DomainError) -> tuple[str, str]:
    """A refused account change in French, and the domain's English detail."""
    messages = {
        "last_admin": _("Refused: the node must keep at least one active administrator."),
        "weak_password": _("Refused: a password has at least 10 characters (and at most 200)."),
        "duplicate_name": _("Refused: an account with this name exists already."),
        "invalid_username": _(
            "Refused: a user name has 2 to 60 letters, digits, dots, dashes, underscores or @."
        ),
        "not_found": _("Refused: this account does not exist, or is already disabled."),
    }
    return messages.get(exc.code, _("Refused: the change was not made.")), exc.message


def _flashes(request: web.Request, _: Any) -> list[tuple[str, str]]:
    done = _done_messages(_).get(request.query.get("done", ""))
    return [("ok", done)] if done else []


async def _users_page(request: web.Request, *, status: int = 200, error: tuple[str, str] | None = None,
                      entered: dict[str, str] | None = None) -> web.Response:  # fmt: skip
    _ = translator(request.get(LANGUAGE, "fr"))
    async with request.app[STORE].reader() as db:
        accounts = await users.list_users(db)
    entered = entered or {"username": "", "role": "technician"}
    return page(request, "admin/users.html", status=status, flashes=_flashes(request, _), accounts=accounts,
                roles=users.ROLES, error=error, entered=entered)  # fmt: skip


@routes.get("/settings/users")
@requires("admin")
async def users_page(request: web.Request) -> web.Response:
    return await _users_page(request)


@routes.post("/settings/users")
@requires("admin")
async def create_user(request: web.Request) -> web.Response:
    _ = translator(request.get(LANGUAGE, "fr"))
    form = await request.post()
    username, role = str(form.get("username", "")).strip(), str(form.get("role", ""))
    password = str(form.get("password", ""))
    entered = {"username": username, "role": role}
    if password != str(form.get("password2", "")):
        differ = (_("The two passwords differ."), "")
        return await _users_page(request, status=422, error=differ, entered=entered)
    try:
        async with request.app[STORE].transaction() as tx:
            language = request.get(LANGUAGE, "fr")
            await users.create_user(tx, username, password, role, language)  # type: ignore[arg-type]
            await users.audit(tx, request[SESSION].user, "user.create", username, role)
    except DomainError as exc:
        return await _users_page(request, status=409 if exc.code == "duplicate_name" else 422,
                                 error=_user_problem(_, exc), entered=entered)  # fmt: skip
    raise web.HTTPSeeOther("/settings/users?done=created")


class _NoAccount(Exception):
    pass


async def _account(request: web.Request) -> users.User:
    async with request.app[STORE].reader() as db:
        try:
            return await users.get_user(db, int(request.match_info["id"]))
        except NotFound:
            raise _NoAccount from None


def _no_account(request: web.Request) -> web.Response:
    _ = translator(request.get(LANGUAGE, "fr"))
    return page(request, "error.html", status=404, message=_("This account does not exist."))


def _with_account(handler):
    """Answer 404 in the person's language when the account in the address does not exist."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _NoAccount:
            return _no_account(request)

    wrapped.__name__, wrapped.__doc__ = handler.__name__, handler.__doc__
    return wrapped


async def _account_page(request: web.Request, account: users.User, *, status: int = 200,
                        error: tuple[str, str] | None = None,
                        form: str | None = None) -> web.Response:  # fmt: skip
    _ = translator(request.get(LANGUAGE, "fr"))
    return page(request, "admin/user.html", status=status, flashes=_flashes(request, _), account=account,
                roles=users.ROLES, error=error, form=form)  # fmt: skip


@routes.get(f"/settings/users/{USER_ID}")
@requires("admin")
@_with_account
async def account_page(request: web.Request) -> web.Response:
    return await _account_page(request, await _account(request))


async def _change(request: web.Request, form: str, action: str, detail: str | None, change) -> web.Response:
    """Run one change to an account in a transaction; show the account page again if refused."""
    _ = translator(request.get(LANGUAGE, "fr"))
    account = await _account(request)
    try:
        async with request.app[STORE].transaction() as tx:
            await change(tx, account.id)
            await users.audit(tx, request[SESSION].user, action, account.username, detail)
    except DomainError as exc:
        status = 409 if exc.code == "last_admin" else 422
        return await _account_page(request, account, status=status, error=_user_problem(_, exc), form=form)
    raise web.HTTPSeeOther(f"/settings/users/{account.id}?done={form}")


@routes.post(f"/settings/users/{USER_ID}/role")
@requires("admin")
@_with_account
async def change_role(request: web.Request) -> web.Response:
    role = str((await request.post()).get("role", ""))
    return await _change(request, "role", "user.role", role[:20],
                         lambda tx, user_id: users.set_role(tx, user_id, role))  # type: ignore[arg-type]


@routes.post(f"/settings/users/{USER_ID}/password")
@requires("admin")
@_with_account
async def reset_password(request: web.Request) -> web.Response:
    _ = translator(request.get(LANGUAGE, "fr"))
    form = await request.post()
    password = str(form.get("password", ""))
    if password != str(form.get("password2", "")):
        account = await _account(request)
        return await _account_page(request, account, status=422, error=(_("The two passwords differ."), ""),
                                   form="password")  # fmt: skip
    return await _change(request, "password", "user.password", None,
                         lambda tx, user_id: users.set_password(tx, user_id, password))  # fmt: skip


@routes.post(f"/settings/users/{USER_ID}/disable")
@requires("admin")
@_with_account
async def disable(request: web.Request) -> web.Response:
    return await _change(request, "disabled", "user.disable", None, users.disable_user)


@routes.get("/settings/audit")
@requires("admin")
async def audit_page(request: web.Request) -> web.Response:
    """Who did what, newest first, 50 a page."""
    async with request.app[STORE].reader() as db:
        pager = Pager(page_number(request), await users.count_audit(db), per_page=AUDIT_PAGE)
        rows = await users.audit_log(db, limit=AUDIT_PAGE, offset=pager.offset)
    return page(request, "admin/audit.html", entries=rows, pager=pager)
