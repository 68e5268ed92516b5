"""Settings, for admins only: the association's step names, impact and label settings, the
publication policy, a backup download; accounts and the audit log are in ``admin_users``.

Every handler is ``@requires("admin")``. A form that is refused is shown
again with what was typed and the reason in French (the domain's English
detail below it); a form that is accepted redirects (303) to the page,
which says what was done.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from node.domain import users, workflow
from node.domain.impact import FACTOR_TABLES
from node.domain.settings import POLICY_AUDIENCES, POLICY_FIELDS, SETTINGS, all_settings, set_setting
from node.domain.states import STEP_STATES
from node.errors import DomainError, Invalid
from web_ui.auth import requires
from web_ui.i18n import TIMEZONE, Formats, translator
from web_ui.keys import NODE, STORE
from web_ui.labels import CATEGORY_NAMES, STATE_NAMES
from web_ui.pages import admin_users
from web_ui.render import LANGUAGE, SESSION, page

routes = web.RouteTableDef()

# The impact and label settings edited together, in the form's order.
GENERAL = ("years_of_second_life", "impact_factors", "asset_prefix", "beneficiary_retention_days")
PREFIX_MAX = 20  # what fits on a label beside the number
TEMP_PREFIX = "backup-download-"  # the temporary copies' folders in the data directory


class _Refused(Exception):
    """Some field was refused: roll the whole form back."""


def _done_messages(_: Any) -> dict[str, str]:
    return {
        "step": _("The step name is saved."),
        "general": _("The settings are saved."),
        "policy": _("The publication policy is saved."),
    }


def _setting_problem(_: Any, name: str) -> str:
    """The French reason a value of setting ``name`` is refused."""
    setting = SETTINGS[name]
    return {
        "years_of_second_life": _("Years of second life: a whole number from {low} to {high}.",
                                  low=setting.minimum, high=setting.maximum),
        "beneficiary_retention_days": _("Retention: a whole number of days from {low} to {high}.",
                                        low=setting.minimum, high=setting.maximum),
        "impact_factors": _("Choose one of the factor tables listed below."),
        "asset_prefix": _("The asset tag prefix has 1 to {high} characters, without spaces.",
                          high=PREFIX_MAX),
    }[name]  # fmt: skip


async def _settings_page(request: web.Request, *, status: int = 200, form: str | None = None,
                         error: tuple[str, str] | None = None, errors: dict[str, str] | None = None,
                         entered: dict[str, Any] | None = None) -> web.Response:  # fmt: skip
    """The settings page; after a refused form, ``form`` names it and ``entered`` holds what was typed."""
    _ = translator(request.get(LANGUAGE, "fr"))
    async with request.app[STORE].reader() as db:
        steps = await workflow.steps(db)
        values = await all_settings(db)
    try:
        policy = json.loads(values["publication_policy"])
    except ValueError:
        policy = {}
    if form == "general" and entered:
        values = {**values, **entered}
    if form == "policy" and entered:
        policy = entered
    flashes = []
    done = _done_messages(_).get(request.query.get("done", ""))
    if done:
        flashes.append(("ok", done))
    return page(
        request, "admin/settings.html", status=status, flashes=flashes, steps=steps, step_states=STEP_STATES,
        state_names=STATE_NAMES, category_names=CATEGORY_NAMES, values=values, settings=SETTINGS,
        factor_tables=FACTOR_TABLES, policy=policy, policy_fields=POLICY_FIELDS, audiences=POLICY_AUDIENCES,
        form=form, error=error, errors=errors or {}, step_entered=entered if form == "step" else {},
        prefix_max=PREFIX_MAX,
    )  # fmt: skip


@routes.get("/settings")
@requires("admin")
async def settings_page(request: web.Request) -> web.Response:
    return await _settings_page(request)


@routes.post("/settings/steps")
@requires("admin")
async def define_step(request: web.Request) -> web.Response:
    """Name one of the association's steps (or map an existing name to another state)."""
    _ = translator(request.get(LANGUAGE, "fr"))
    form = await request.post()
    name, state = str(form.get("name", "")).strip(), str(form.get("state", ""))
    try:
        async with request.app[STORE].transaction() as tx:
            await workflow.define_step(tx, name, state)
            await users.audit(tx, request[SESSION].user, "settings", "step", f"{name}={state}")
    except DomainError as exc:
        message = _(
            "This step name was not saved: a name has 1 to 60 characters and records one of the states listed."
        )
        return await _settings_page(request, status=422, form="step", error=(message, exc.message),
                                    entered={"name": name, "state": state})  # fmt: skip
    raise web.HTTPSeeOther("/settings?done=step#steps")


def _read_general(form: Any, _: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The general settings as typed (for the form) and the problems found before the domain's checks."""
    entered: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in GENERAL}
    problems = {}
    for name in ("years_of_second_life", "beneficiary_retention_days"):
        text = entered[name]
        if text.isascii() and text.isdigit() and len(text) <= 6:
            entered[name] = int(text)
        else:
            problems[name] = _setting_problem(_, name)
    if entered["impact_factors"] not in FACTOR_TABLES:
        problems["impact_factors"] = _setting_problem(_, "impact_factors")
    prefix = entered["asset_prefix"]
    if not 1 <= len(prefix) <= PREFIX_MAX or any(c.isspace() for c in prefix):
        problems["asset_prefix"] = _setting_problem(_, "asset_prefix")
    return entered, problems


@routes.post("/settings/general")
@requires("admin")
async def save_general(request: web.Request) -> web.Response:
    """Impact and label settings, all or none."""
    _ = translator(request.get(LANGUAGE, "fr"))
    entered, problems = _read_general(await request.post(), _)
    details = []
    try:
        async with request.app[STORE].transaction() as tx:
            for name in GENERAL:
                if name in problems:
                    continue
                try:
                    await set_setting(tx, name, entered[name])
                except DomainError as exc:
                    problems[name] = _setting_problem(_, name)
                    details.append(exc.message)
            if problems:
                raise _Refused
            await users.audit(tx, request[SESSION].user, "settings", "general",
                              ", ".join(f"{name}={entered[name]}" for name in GENERAL))  # fmt: skip
    except _Refused:
        message = _("Nothing was changed: correct the fields marked below.")
        return await _settings_page(request, status=422, form="general", error=(message, "; ".join(details)),
                                    errors=problems, entered=entered)  # fmt: skip
    raise web.HTTPSeeOther("/settings?done=general#general")


@routes.post("/settings/publication")
@requires("admin")
async def save_policy(request: web.Request) -> web.Response:
    """What this node will share, and with whom (used by the federation)."""
    _ = translator(request.get(LANGUAGE, "fr"))
    form = await request.post()
    policy = {field: str(form.get(field, "")) for field in POLICY_FIELDS}
    # on a hub, how many members a figure they keep from national must be added up over (the summary's rule)
    pooled = str(form.get("summary_min_members", "")).strip() if request.app[NODE].config.role == "hub" else None
    refused = "policy"
    try:
        async with request.app[STORE].transaction() as tx:
            value = json.dumps(policy, sort_keys=True)
            await set_setting(tx, "publication_policy", value)
            await users.audit(tx, request[SESSION].user, "settings", "publication_policy", value)
            if pooled is not None:
                refused = "summary_min_members"
                if not (pooled.isascii() and pooled.isdigit() and len(pooled) <= 6):
                    raise Invalid(f"summary_min_members: {pooled[:20]!r} is not a whole number", code="invalid")
                await set_setting(tx, "summary_min_members", int(pooled))
                await users.audit(tx, request[SESSION].user, "settings", "summary_min_members", pooled)
    except DomainError as exc:
        if refused == "summary_min_members":
            setting = SETTINGS["summary_min_members"]
            message = _("Nothing was changed: the fewest members is a whole number from {low} to {high}.",
                        low=setting.minimum, high=Formats(request.get(LANGUAGE, "fr")).number(setting.maximum))
        else:
            message = _("Nothing was changed: choose one audience for each kind of data.")
        entered = {**policy, **({"summary_min_members": pooled} if pooled is not None else {})}
        return await _settings_page(request, status=422, form="policy", error=(message, exc.message),
                                    entered=entered)  # fmt: skip
    raise web.HTTPSeeOther("/settings?done=policy#publication")


@routes.get("/settings/backup")
@requires("admin")
async def download_backup(request: web.Request) -> web.StreamResponse:
    """A fresh, consistent copy of the database (SQLite online backup), streamed then deleted.

    The copy holds beneficiaries' personal details: it is written in a
    private directory of the node's own data directory (not a shared /tmp),
    and the download is written to the audit log.
    """
    node, store = request.app[NODE], request.app[STORE]
    for stale in node.data_dir.glob(f"{TEMP_PREFIX}*"):  # left by a download the node did not finish
        if stale.is_dir() and time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=node.data_dir))  # mode 0700
    try:
        copy = folder / "node.db"
        await store.backup(copy)
        async with store.transaction() as tx:
            await users.audit(tx, request[SESSION].user, "backup download")
        stamp = datetime.now(TIMEZONE).strftime("%Y-%m-%d-%H%M")
        response = web.StreamResponse(headers={
            "Content-Disposition": f'attachment; filename="maillon-backup-{stamp}.db"',
            "Content-Type": "application/vnd.sqlite3",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        })  # fmt: skip
        response.content_length = copy.stat().st_size
        # Sent here, so that the copy can be deleted before the handler returns (a FileResponse
        # would look for its file again once returned, and fail on the deleted copy).
        await response.prepare(request)
        with copy.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, 1 << 20):
                await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        shutil.rmtree(folder, ignore_errors=True)


for _route in admin_users.routes:  # accounts and the audit log live in their own module
    routes.route(_route.method, _route.path, **_route.kwargs)(_route.handler)  # type: ignore[attr-defined]
