"""What the workshop pages share: reading forms the French way, the domain's refusals
in French, paging, and the display names they pass to their templates.

Amounts are typed in euros with a decimal comma (``12,50``) and kept in
cents; weights in kg (``1,5``) and kept in grams; disk sizes in GB. A
refused form is shown again with what was typed: a French sentence chosen
by the domain error's stable ``code``, the English detail below, muted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from node.domain import happened
from node.domain.states import SORT_ORIENTATIONS
from node.errors import DomainError
from web_ui import labels
from web_ui.i18n import translator
from web_ui.paging import PER_PAGE, Pager, page_number  # re-exported for the pages of this area
from web_ui.render import LANGUAGE, SESSION, page

__all__ = [
    "PER_PAGE", "ID_MAX", "Pager", "as_id", "Refusal", "tr", "operator", "may", "path_id", "page_number", "query_id",
    "query_choice", "ids_from", "euros", "decimal_units", "form_day", "DAY_HELP", "REFUSALS", "refusal", "field_of", "render", "ORIENTATION_NAMES",
    "status_of", "see_other",
]  # fmt: skip

ID_MAX = 2**63 - 1
MAX_CHOSEN = 2000  # items one form may name: far more than a page, far less than a denial of service
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_AMOUNT = re.compile(r"^[0-9]{1,9}(?:[.,][0-9]{1,3})?$")
_FIELD = re.compile(r"[a-z][a-z_]{0,40}")
_DAY = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")


def _(text: str) -> str:
    """Mark ``text`` for translation; it is translated where it is shown."""
    return text


# What sorting decides (node.domain.states.SORT_ORIENTATIONS), as the workshop says it.
ORIENTATION_NAMES: dict[str, str] = labels.SORT_ORIENTATIONS
assert set(ORIENTATION_NAMES) == set(SORT_ORIENTATIONS)

# The domain's stable error codes, in the volunteers' words. Codes whose
# refusal names items get a sentence built by the page itself.
REFUSALS: dict[str, str] = {
    "invalid": _("The form was refused: a field is missing or has a wrong value. Nothing was recorded."),
    "not_found": _("An item, beneficiary or lot named in the form does not exist (any more). Nothing was recorded."),
    "invalid_transition": _("This step is not allowed from the current state of some items. Nothing was recorded."),
    "erasure_required": _("Some items may still hold data: record their data erasure (or remove the disk) first. Nothing was recorded."),
    "erasure_proof_required": _("“Erased” cannot be recorded by hand: an item becomes erased when the erasure of its disks is recorded (nwipe or ShredOS log, or by hand on the Erasure page), or when its disk is taken out or destroyed. Nothing was recorded."),
    "erasure_proven_final": _("This item became erased by its erasure records: that cannot be undone. Record its next step instead."),
    "step_not_for_category": _("This step does not apply to some of these items (an operating system only goes on computers, tablets and phones; a screen or a keyboard has no disk). Nothing was recorded."),
    "price_refused": _("This price breaks a prix solidaire rule. Nothing was recorded."),
    "not_last_event": _("Only the last event of an item can be corrected, and the item changed since the page was shown. Reload it."),
    "storage_removal_final": _("A disk removal cannot be undone here: the disk is counted as gone. Ask an administrator if it was a mistake."),
    "not_correctable": _("The reception of an item cannot be corrected: edit the item's description instead."),
    "duplicate_item": _("An item with this global id or asset tag already exists. Nothing was recorded."),
    "file_too_large": _("The file is too large (at most 50 MB)."),
    "import_failed": _("The file could not be read. Nothing was imported."),
    "future_date": _("This date is in the future: give the day it happened, today at the latest. Nothing was recorded."),
    "before_reception": _("This date is before the reception of the lot: give the day it happened. Nothing was recorded."),
    "before_last_step": _("This date is before the item's last step: give the day it happened. Nothing was recorded."),
}
# A day the form reader could not read (``form_day``).
DAY_HELP = _("Date: a day such as 31/12/2025 (empty: today).")
REFUSED_OTHER = _("The action was refused. Nothing was recorded.")


def status_of(exc: DomainError) -> int:
    """The HTTP status of a refusal shown again in its form: 409 for a broken rule, else 422."""
    from node.errors import RuleBroken

    return 409 if isinstance(exc, RuleBroken) else 422


# The refusals of a day (node.domain.happened): their detail is a French sentence naming the dates.
DAY_CODES = ("future_date", "before_reception", "before_last_step")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a form was refused: French sentences, and the domain's detail (English, unless ``detail_lang``)."""

    messages: tuple[str, ...]
    detail: str | None = None
    detail_lang: str = "en"


def refusal(translate: Callable[..., str], exc: DomainError, *named: str) -> Refusal:
    """The French refusal of a domain error; ``named`` adds sentences that name the items.

    A refused day keeps the domain's French sentence when it names more than the refusal says (the lot or the
    step it comes before, and their dates), without the field it is about; a day in the future says it all.
    """
    message = translate(REFUSALS.get(exc.code, REFUSED_OTHER))
    if exc.code == "future_date":
        return Refusal((message, *named))
    if exc.code in DAY_CODES:
        head, sep, rest = exc.message.partition(": ")
        return Refusal((message, *named), rest if sep and _FIELD.fullmatch(head) else exc.message, "fr")
    return Refusal((message, *named), exc.message)


def field_of(exc: DomainError) -> str | None:
    """The input field a validation error names (``node.validation.parse`` writes ``field: reason``)."""
    head, sep, _rest = exc.message.partition(":")
    field = head.split(".")[0]
    return field if sep and exc.code == "invalid" and _FIELD.fullmatch(field) else None


def see_other(location: str) -> web.Response:
    """The 303 after a successful POST. Returned, not raised: the auth middleware
    writes the audit log only for a response the handler returns."""
    return web.Response(status=303, headers={"Location": location})


def tr(request: web.Request) -> Callable[..., str]:
    return translator(request.get(LANGUAGE, "fr"))


def operator(request: web.Request) -> str | None:
    """Who records the step: the logged-in person's user name."""
    session = request.get(SESSION)
    return session.user.username if session else None


def may(request: web.Request, role: str) -> bool:
    session = request.get(SESSION)
    return bool(session and session.user.may(role))


def path_id(request: web.Request, name: str = "id") -> int:
    """A whole number of the path (routes match ASCII digits only); too large cannot exist."""
    value = int(request.match_info[name])
    if value > ID_MAX:
        raise web.HTTPNotFound()
    return value


def as_id(raw: object) -> int | None:
    """A whole number that can be a row id (ASCII digits, 1 to 2**63-1), or ``None``."""
    text = raw.strip() if isinstance(raw, str) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 and 1 <= int(text) <= ID_MAX else None


def query_id(request: web.Request, name: str) -> int | None:
    return as_id(request.query.get(name, ""))


def query_choice(request: web.Request, name: str, choices: Iterable[str]) -> str | None:
    value = request.query.get(name, "")
    return value if value in set(choices) else None


def ids_from(values: list[Any]) -> tuple[list[int], bool]:
    """Item ids from repeated fields (checkboxes, links), in order, once each; and whether some were not ids."""
    ids, bad = [], False
    for raw in values[:MAX_CHOSEN]:
        value = as_id(raw)
        if value is None:
            bad = True
        elif value not in ids:
            ids.append(value)
    return ids, bad or len(values) > MAX_CHOSEN


def decimal_units(text: str, scale: int, *, high: int) -> int | None:
    """``text`` (decimal comma or point, spaces allowed) times ``scale``, rounded; ``ValueError`` if not a number.

    ``None`` for an empty field. ``decimal_units("12,50", 100)`` is 1250 cents.
    """
    raw = _SPACES.sub("", text or "").removesuffix("€").removesuffix("kg").removesuffix("Go").removesuffix("GB")
    if not raw:
        return None
    if not _AMOUNT.match(raw):
        raise ValueError(text)
    try:
        value = int((Decimal(raw.replace(",", ".")) * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise ValueError(text) from exc
    if value > high:
        raise ValueError(text)
    return value


def form_day(text: str) -> date | None:
    """The day an event happened (``happened_on``), from ``<input type="date">`` (2025-12-31) or typed
    the French way (31/12/2025); ``None`` for an empty field (today); ``ValueError`` if it is not a day.

    The domain refuses a day in the future or before the lot's reception (``node.domain.happened``).
    """
    raw = (text or "").strip()
    found = _DAY.match(raw)
    if found:
        return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    return date.fromisoformat(raw) if raw else None


def euros(text: str) -> int:
    """A price typed in euros, in cents; an empty field is free (0)."""
    return decimal_units(text, 100, high=10**7) or 0


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """Render a workshop template with the display names of the domain's codes at hand."""
    names = {
        "state_names": labels.STATE_NAMES, "category_names": labels.CATEGORY_NAMES,
        "beneficiary_categories": labels.BENEFICIARY_CATEGORIES, "orientation_names": ORIENTATION_NAMES,
        "storage_names": labels.STORAGE, "donor_types": labels.DONOR_TYPES,
        "today": happened.today().isoformat(),  # the latest day a date field takes (its max)
    }  # fmt: skip
    return page(request, template, status=status, **{**names, **context})
