"""The workshop station: the command that makes a machine on the bench describe itself, the machines
on the bench with what each still needs before "ready", their labels, and the grading thresholds.

- ``GET /station``: the page (every account; read-only accounts may print labels);
- ``POST /station/stations`` (admin): register a station; its token is shown once, in the command;
- ``GET|POST /station/settings`` (admin): grade thresholds, label format, days on the bench;
- ``GET /station/probe`` and ``/station/probe.sh``: ``maillon-probe`` itself, without login
  (a live USB fetches it) but to the local network only, its messages in the language asked;
- ``PUT /upload/probe/<station>/<token>``: the probe's upload (``web_ui.station_uploads``).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from aiohttp import web

from node.config import is_loopback
from node.domain import users
from node.domain.access import create_station
from node.domain.grading import THRESHOLDS, read_thresholds, thresholds_problem
from node.domain.settings import all_settings, set_setting
from node.errors import DomainError
from node.queries.bench import MISSING, bench_machines, probe_evidence
from node.store.files import file_path
from web_ui.auth import requires
from web_ui.i18n import translator
from web_ui.keys import NODE, STORE
from web_ui.pages.outputs_labels import DEFAULT_FIELDS as LABEL_FIELDS
from web_ui.pages.workshop_common import render, see_other, tr
from web_ui.render import LANGUAGE, SESSION
from web_ui.station_uploads import MISSING_NAMES, REASON_NAMES, add_probe_upload
from web_ui.uploads import from_lan

__all__ = ["routes", "PROBE", "PROBE_SHELL", "PROBE_TEXT", "SHELL_TEXT", "probe_source", "probe_shell_source",
           "shell_translations"]

routes = web.RouteTableDef()
PROBE = Path(__file__).parents[1] / "probe" / "maillon_probe.py"
PROBE_SHELL = Path(__file__).parents[1] / "probe" / "maillon-probe.sh"
_MARKER = "TEXT.update({})  # MAILLON:TRANSLATIONS"
_LANGUAGE_MARKER = 'LANGUAGE = ""  # MAILLON:LANGUAGE'
_SHELL_BLOCK = ("# MAILLON:TRANSLATIONS (the node puts the page's language here; %s is a value)", "# MAILLON:END")
_STATION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,60}$")
assert set(MISSING_NAMES) == set(MISSING)


def _(text: str) -> str:
    return text


# The probe's own messages (English in maillon_probe.py; a test keeps both the same).
PROBE_TEXT = {
    "reading": _("Reading the description of this computer…"),
    "skipped": _("{tool} is not installed: skipped."),
    "not_root": _("Not run as root (sudo): serial numbers and disk health may be missing."),
    "sending": _("Sending {count} outputs to the node…"),
    "unreachable": _("The node cannot be reached ({reason}). Check the address, and that this computer is on the workshop's network."),
    "refused": _("The node refused the description ({status}): {message}"),
    "saved": _("Outputs saved in {folder}."),
}  # fmt: skip
# The shell fallback's messages: those it shares with the Python probe, and its own.
SHELL_TEXT = {
    **{key: PROBE_TEXT[key] for key in ("reading", "skipped", "not_root", "sending", "unreachable")},
    "no_sender": _("Neither curl nor wget is installed: the outputs cannot be sent."),
    "usage": _("Give the station's upload URL (shown on the node's Workshop station page)."),
}
THRESHOLD_NAMES = {
    "battery_a": _("Battery health for grade A (at least, %)"),
    "battery_b": _("Battery health for grade B (at least, %)"),
    "battery_c": _("Battery health for grade C (at least, %)"),
    "ram_a_mb": _("RAM for grade A (at least, MB)"),
    "ram_b_mb": _("RAM for grade B (at least, MB)"),
    "ram_c_mb": _("RAM for grade C (at least, MB)"),
    "disk_hours_a": _("Disk power-on hours for grade A (at most)"),
    "disk_hours_b": _("Disk power-on hours for grade B (at most)"),
}
assert set(THRESHOLD_NAMES) == set(THRESHOLDS)
LABEL_FORMATS = {"roll": _("Label printer, 62 × 29 mm (Brother QL type), one label per page"),
                 "sheet": _("A4 sheets of 24 labels, 70 × 37 mm (3 columns, 8 rows)")}  # fmt: skip

add_probe_upload(routes)


def probe_source(language: str) -> str:
    """The probe's source with its messages in ``language``, the language it asks the node to answer in."""
    _ = translator(language)
    text = PROBE.read_text(encoding="utf-8")
    translated = {key: _(message) for key, message in PROBE_TEXT.items()}
    filled = f"TEXT.update({json.dumps(translated, ensure_ascii=False)})  # MAILLON:TRANSLATIONS"
    language_line = f"LANGUAGE = {json.dumps(language)}  # MAILLON:LANGUAGE"
    return text.replace(_MARKER, filled, 1).replace(_LANGUAGE_MARKER, language_line, 1)


def shell_translations(language: str) -> str:
    """The shell fallback's block of messages in ``language``: ``printf`` formats, quoted for ``sh``."""
    _ = translator(language) if language else (lambda message: message)
    lines = [_SHELL_BLOCK[0]]
    for key, message in SHELL_TEXT.items():
        form = re.sub(r"\{\w+\}", "%s", _(message).replace("%", "%%"))
        lines.append(f"T_{key}={shlex.quote(form)}")
    lines += [f"T_language={shlex.quote(language)}", _SHELL_BLOCK[1]]
    return "\n".join(lines)


def probe_shell_source(language: str) -> str:
    """The shell fallback with its messages in ``language``, the language it asks the node to answer in."""
    text = PROBE_SHELL.read_text(encoding="utf-8")
    start = text.index(_SHELL_BLOCK[0])
    end = text.index(_SHELL_BLOCK[1], start) + len(_SHELL_BLOCK[1])
    return text[:start] + shell_translations(language) + text[end:]


def _lan_only(request: web.Request) -> None:
    """The probe holds no secret, but it is for the workshop's machines: a stranger gets nothing."""
    if not from_lan(request):
        raise web.HTTPForbidden(text="the probe is served to the local network only")


@routes.get("/station/probe")
async def probe(request: web.Request) -> web.Response:
    """``maillon-probe`` (Python): open to the workshop's machines, like the uploads."""
    _lan_only(request)
    return web.Response(text=probe_source(request.get(LANGUAGE, "fr")), content_type="text/x-python",
                        headers={"Content-Disposition": 'inline; filename="maillon-probe"'})  # fmt: skip


@routes.get("/station/probe.sh")
async def probe_shell(request: web.Request) -> web.Response:
    """The shell fallback, for a live system without Python."""
    _lan_only(request)
    source = probe_shell_source(request.get(LANGUAGE, "fr"))
    return web.Response(text=source, content_type="text/x-shellscript",
                        headers={"Content-Disposition": 'inline; filename="maillon-probe.sh"'})  # fmt: skip


@routes.get("/station/probes/{id:[0-9]{1,18}}.tar")
async def raw_outputs(request: web.Request) -> web.StreamResponse:
    """The raw outputs a probe sent, as they arrived (a tar), kept as the item's evidence."""
    async with request.app[STORE].reader() as db:
        sha256 = await probe_evidence(db, int(request.match_info["id"]))
    path = file_path(request.app[NODE].data_dir, sha256) if sha256 else None
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "application/x-tar", "Content-Disposition":
                                           f'attachment; filename="probe-{request.match_info["id"]}.tar"'})  # fmt: skip


def _commands(origin: str, station: str, token: str) -> dict[str, str]:
    upload = f"{origin}/upload/probe/{station}/{token}"
    return {"python": f"wget -qO- {origin}/station/probe | sudo python3 - {upload}",
            "shell": f"wget -qO- {origin}/station/probe.sh | sudo sh -s {upload}",
            "shredos": f"http_post_url={origin}/upload/shredos/{station}/{token}"}  # fmt: skip


async def _bench_page(request: web.Request, *, status: int = 200, created: tuple[str, str] | None = None,
                      error: str | None = None, name: str = "") -> web.Response:  # fmt: skip
    _ = tr(request)
    async with request.app[STORE].reader() as db:
        settings = await all_settings(db)
        machines = await bench_machines(db, days=settings["bench_days"])
    origin = str(request.url.origin())
    shown = _commands(origin, *created) if created else _commands(origin, _("STATION"), _("TOKEN"))
    return render(
        request, "station/bench.html", status=status, machines=machines, commands=shown, created=created,
        error=error, name=name, missing_names=MISSING_NAMES, label_format=settings["station_label_format"],
        label_fields=LABEL_FIELDS,
        days=settings["bench_days"], origin=origin, local_origin=is_loopback(request.url.host or ""),
    )  # fmt: skip


@routes.get("/station")
async def bench(request: web.Request) -> web.Response:
    return await _bench_page(request)


@routes.post("/station/stations")
@requires("admin")
async def add_station(request: web.Request) -> web.Response:
    """Register a station: the page shows its commands with the token, this once."""
    _ = tr(request)
    name = str((await request.post()).get("name", "")).strip()[:100]
    if not _STATION_NAME.match(name):
        return await _bench_page(request, status=422, name=name,
                                 error=_("A station name uses letters, digits, - and _ (at most 60)."))  # fmt: skip
    try:
        async with request.app[STORE].transaction() as tx:
            token = await create_station(tx, name)
            await users.audit(tx, request[SESSION].user, "station", "added", name)
    except DomainError:
        return await _bench_page(request, status=422, name=name, error=_("A station with this name exists already."))
    return await _bench_page(request, created=(name, token))


async def _settings_page(request: web.Request, *, status: int = 200, entered: dict[str, Any] | None = None,
                         error: str | None = None) -> web.Response:  # fmt: skip
    async with request.app[STORE].reader() as db:
        settings = await all_settings(db)
    values = entered or {**read_thresholds(settings["grade_thresholds"]),
                         "station_label_format": settings["station_label_format"],
                         "bench_days": settings["bench_days"]}  # fmt: skip
    done = request.query.get("done") == "saved"
    flashes = [("ok", tr(request)("The settings are saved."))] if done and not error else []
    return render(request, "station/settings.html", status=status, values=values, error=error, flashes=flashes,
                  threshold_names=THRESHOLD_NAMES, label_formats=LABEL_FORMATS, reason_names=REASON_NAMES)  # fmt: skip


@routes.get("/station/settings")
@requires("admin")
async def settings_form(request: web.Request) -> web.Response:
    return await _settings_page(request)


@routes.post("/station/settings")
@requires("admin")
async def save_settings(request: web.Request) -> web.Response:
    """The thresholds, label format and days on the bench: all saved, or none."""
    _ = tr(request)
    form = await request.post()
    entered: dict[str, Any] = {name: str(form.get(name, "")).strip()[:12] for name in (*THRESHOLDS, "bench_days")}
    entered["station_label_format"] = str(form.get("station_label_format", ""))[:10]
    wrong = [n for n in (*THRESHOLDS, "bench_days") if not (entered[n].isascii() and entered[n].isdigit())]
    if wrong:
        return await _settings_page(request, status=422, entered=entered,
                                    error=_("Each threshold is a whole number, without spaces."))  # fmt: skip
    thresholds = {name: int(entered[name]) for name in THRESHOLDS}
    value = json.dumps(thresholds, sort_keys=True)
    if thresholds_problem(value):
        return await _settings_page(request, status=422, entered=entered, error=_(
            "Each grade asks at least as much as the next one (A, then B, then C), and battery health is at most 100 %."))
    try:
        async with request.app[STORE].transaction() as tx:
            await set_setting(tx, "grade_thresholds", value)
            await set_setting(tx, "station_label_format", entered["station_label_format"])
            await set_setting(tx, "bench_days", int(entered["bench_days"]))
            await users.audit(tx, request[SESSION].user, "settings", "station", value)
    except DomainError:
        return await _settings_page(request, status=422, entered=entered, error=_(
            "Choose a label format, and keep machines on the bench 1 to 365 days."))  # fmt: skip
    return see_other("/station/settings?done=saved")
