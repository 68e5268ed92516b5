"""The workshop probe's uploads: ``PUT /upload/probe/<station>/<token>``, the same pairing as ShredOS.

A station registered once (``maillon station add`` or the ``/station``
page) has one token for both: its ShredOS logs go to
``/upload/shredos/...``, its machines' descriptions here. Only machines on
the local network may upload. The bundle (``node.imports.probe``) is
parsed off the event loop, kept by its SHA-256 beside the node's other
evidence, and applied by ``node.domain.station.record_probe`` in one transaction;
a refused bundle changes nothing. The answer is JSON with French
``messages`` (the probe prints them) unless the request asks for English;
a request that accepts ``text/plain`` and not JSON (the shell fallback,
which has no JSON reader) gets those messages alone, one per line. A
machine whose item had left the workshop comes back as a new item: the
answer names the item that left, when, and how (``LEFT``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from node.domain.access import check_station
from node.domain.station import ProbeResult, record_probe
from node.errors import DomainError, StoreError
from node.imports import ImportFailed
from node.imports.probe import MAX_BUNDLE, Machine, parse_probe
from node.queries.bench import bench_machines
from node.store.files import file_path, store_file
from web_ui.i18n import Formats, translator
from web_ui.keys import STORE
from web_ui.labels import CATEGORY_NAMES, STATE_NAMES, name_of
from web_ui.render import LANGUAGE
from web_ui.storage_errors import status_of_storage
from web_ui.uploads import from_lan

__all__ = ["add_probe_upload", "MISSING_NAMES", "REASON_NAMES"]

log = logging.getLogger(__name__)


def _(text: str) -> str:
    return text


MISSING_NAMES = {"erasure": _("erasure proof"), "tests": _("tests"), "os": _("OS install")}
REASON_NAMES = {
    "battery": _("battery health {value} %"), "ram": _("RAM {value} MB"),
    "disk_hours": _("disk used {value} hours"), "disk_sectors": _("{value} damaged sectors on the disks"),
    "disk_failed": _("{value} disk(s) failing (SMART)"),
}  # fmt: skip
MATCHED = {
    "item_tag": _("Item {tag} updated (named by its label)."),
    "serial": _("Item {tag} updated (found by its serial number)."),
    "disk_serial": _("Item {tag} updated (found by the serial number of a disk)."),
}
# The machine's serial (or a disk's) named an item that has left: this one is new, that one untouched.
LEFT = {
    "serial": _("This serial number was that of item {tag}, which left on {date} ({state}): the machine is back, recorded as a new item."),
    "disk_serial": _("A disk of this machine was in item {tag}, which left on {date} ({state}): the machine is recorded as a new item."),
}  # fmt: skip
NO_SERIAL = _("This machine gave no serial number, nor did its disks: to describe it again, add --item {tag} to the command, or it becomes a new item.")  # noqa: E501
REFUSED = {
    "unknown_station": _("Unknown station or wrong token: check the command on the node's Workshop station page."),
    "not_local": _("Descriptions are accepted from the workshop's local network only."),
    "too_large": _("This description is too large."),
    "not_found": _("No item has the asset tag given with --item."),
}


def add_probe_upload(routes: web.RouteTableDef) -> None:
    routes.put("/upload/probe/{station}/{token}")(upload_probe)
    routes.post("/upload/probe/{station}/{token}")(upload_probe)


def _answer(request: web.Request, body: dict[str, Any], status: int = 200) -> web.Response:
    accepted = request.headers.get("Accept", "")
    if "text/plain" in accepted and "json" not in accepted:
        lines = body.get("messages") or [body.get("message", "")]
        return web.Response(text="".join(f"{line}\n" for line in lines), status=status, charset="utf-8")
    return web.json_response(body, status=status)


def _refused(request: web.Request, code: str, message: str, status: int) -> web.Response:
    _ = translator(request.get(LANGUAGE, "fr"))
    said = _(REFUSED[code]) if code in REFUSED else _("The description could not be read: nothing was recorded.")
    body = {"ok": False, "code": code, "message": message, "messages": [said, message]}
    return _answer(request, body, status)


def _messages(_: Callable[..., str], fmt: Formats, machine: Machine, result: ProbeResult,
              missing: tuple[str, ...]) -> list[str]:  # fmt: skip
    what = " ".join(p for p in (machine.brand, machine.model) if p) or _("unknown model")
    category = name_of(CATEGORY_NAMES, machine.category, _)
    lines = [
        _("New item {tag}: {what} ({category}).", tag=result.asset_tag, what=what, category=category)
        if result.created else _(MATCHED[result.matched_by or "serial"], tag=result.asset_tag)
    ]  # fmt: skip
    if (left := result.left) is not None:
        lines.append(_(LEFT[left.by], tag=left.asset_tag, date=fmt.date(left.since),
                       state=name_of(STATE_NAMES, left.state, _)))  # fmt: skip
    if result.grade:
        why = ", ".join(_(REASON_NAMES[r.criterion], value=r.value) for r in result.reasons)
        lines.append(_("Suggested grade: {grade} ({why}).", grade=result.grade, why=why))
    if result.attached:
        lines.append(_("{count} erasure record(s) of its disks attached.", count=result.attached))
    for problem in machine.problems:
        lines.append(_("Could not read {source}: {detail}", source=problem.source, detail=problem.message))
    if result.created and not machine.serial and not any(d.serial for d in machine.disks):
        lines.append(_(NO_SERIAL, tag=result.asset_tag))
    if missing:
        named = ", ".join(_(MISSING_NAMES[m]) for m in missing)
        lines.append(_("Still missing before ready: {missing}.", missing=named))
    lines.append(_("Print its label from the Workshop station page."))
    return lines


async def upload_probe(request: web.Request) -> web.Response:
    from web_ui.keys import NODE

    if not from_lan(request):
        return _refused(request, "not_local", "uploads are accepted from the local network only", 403)
    store, station = request.app[STORE], request.match_info["station"]
    try:
        async with store.reader() as db:
            allowed = await check_station(db, station, request.match_info["token"])
        if not allowed:
            return _refused(request, "unknown_station", "unknown station or wrong token", 403)
        if request.content_length is not None and request.content_length > MAX_BUNDLE:
            return _refused(request, "too_large", f"a probe bundle is at most {MAX_BUNDLE // 2**20} MB", 413)
        data = await request.content.read(MAX_BUNDLE + 1)
        if len(data) > MAX_BUNDLE:
            return _refused(request, "too_large", f"a probe bundle is at most {MAX_BUNDLE // 2**20} MB", 413)
        try:
            machine = await asyncio.to_thread(parse_probe, data)
        except ImportFailed as exc:
            return _refused(request, exc.code, str(exc), 422)
        # Kept before the transaction that names it; a refused probe leaves no file it brought.
        data_dir = request.app[NODE].data_dir
        known = file_path(data_dir, hashlib.sha256(data).hexdigest()).exists()
        sha256 = await asyncio.to_thread(store_file, data_dir, data)
        try:
            async with store.transaction() as tx:
                result = await record_probe(tx, machine, station=station, sha256=sha256)
        except DomainError as exc:
            if not known:
                file_path(data_dir, sha256).unlink(missing_ok=True)
            return _refused(request, exc.code, exc.message, 404 if exc.code == "not_found" else 422)
        async with store.reader() as db:
            found = await bench_machines(db, days=36500, item_id=result.item_id)
        missing = found[0].missing if found else ()
    except StoreError as exc:
        status = status_of_storage(exc)
        if status is None:
            raise
        log.error("probe upload from station %s: %s", station, exc.message)
        return _answer(request, {"ok": False, "code": exc.code, "message": exc.message}, status)
    language = request.get(LANGUAGE, "fr")
    _ = translator(language)
    left = result.left
    return _answer(request, {
        "ok": True, "created": result.created, "matched_by": result.matched_by,
        "item": {"id": result.item_id, "asset_tag": result.asset_tag, "gid": result.gid},
        "grade": result.grade, "missing": list(missing),
        "left": left and {"asset_tag": left.asset_tag, "state": left.state, "since": left.since, "by": left.by},
        "problems": [{"source": p.source, "code": p.code, "message": p.message} for p in machine.problems],
        "messages": _messages(_, Formats(language), machine, result, missing),
    })  # fmt: skip
