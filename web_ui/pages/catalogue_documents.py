"""Documents of donors and lots: the upload form's reading, and the download.

A download is always an attachment (never shown inline), so a stored HTML
or SVG file cannot run in the interface's origin.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import web

from node.domain.documents import attach_document
from node.errors import DomainError, NotFound
from node.queries.document_files import document_file, get_document
from web_ui.keys import NODE, STORE
from web_ui.pages.catalogue_common import (
    REFUSALS,
    REQUIRED,
    Form,
    FormReader,
    not_found,
    path_id,
    refusal,
    routes,
)  # fmt: skip

__all__ = ["UPLOAD_KINDS", "read_upload", "attach_upload", "download"]


def _(text: str) -> str:
    return text


# What a person may attach from the pages (erasure logs come through the erasure import).
UPLOAD_KINDS = ("convention", "pickup_note", "other")
NO_FILE = _("Choose the file to attach.")
EMPTY_FILE = _("This file is empty.")
DOCUMENT_GONE = _("This document does not exist.")
_SAFE_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


async def read_upload(
    request: web.Request, translate: Callable[..., str]
) -> tuple[Form, str | None, str, bytes]:
    """The upload form: (form, kind, file name, bytes); the form carries the errors, if any."""
    data = await request.post()
    reader = FormReader(data, translate)
    kind = reader.choice("kind", UPLOAD_KINDS)
    if kind is None and "kind" not in reader.form.errors:
        reader.fail("kind", REQUIRED)
    upload = data.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        reader.fail("file", NO_FILE)
        return reader.form, kind, "", b""
    content = upload.file.read()
    if not content:
        reader.fail("file", EMPTY_FILE)
    return reader.form, kind, upload.filename, content


async def attach_upload(request: web.Request, translate: Callable[..., str], *, donor_id: int | None = None,
                        lot_id: int | None = None) -> Form | None:  # fmt: skip
    """Read the upload form and attach the file to the donor or lot; ``None`` when done,
    else the form with what is wrong. Raises ``NotFound`` when the donor or lot is gone."""
    form, kind, filename, content = await read_upload(request, translate)
    if form.failed or kind is None:
        return form
    try:
        async with request.app[STORE].transaction() as tx:
            await attach_document(tx, request.app[NODE].data_dir, kind=kind, filename=filename,  # type: ignore[arg-type]
                                  data=content, donor_id=donor_id, lot_id=lot_id)  # fmt: skip
    except NotFound:
        raise  # the caller answers with its own "no such donor / lot" page
    except DomainError as exc:
        return refusal(form, exc, translate)
    return None


def _disposition(filename: str) -> str:
    fallback = _UNSAFE.sub("_", filename)[:150] or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@routes.get(r"/documents/{id:[0-9]+}")
async def download(request: web.Request) -> web.StreamResponse:
    """The stored file of a document, as an attachment under its own name."""
    try:
        async with request.app[STORE].reader() as db:
            document = await get_document(db, path_id(request))
        path = document_file(request.app[NODE].data_dir, document)
    except NotFound as exc:
        return not_found(request, DOCUMENT_GONE if exc.code == "not_found" else REFUSALS["file_missing"])
    suffix = "." + document.filename.rsplit(".", 1)[-1].lower() if "." in document.filename else ""
    return web.FileResponse(
        path,
        headers={
            "Content-Type": _SAFE_TYPES.get(suffix, "application/octet-stream"),
            "Content-Disposition": _disposition(document.filename),
            "Cache-Control": "private, no-store",
        },
    )
