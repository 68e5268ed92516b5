"""What the catalogue pages (donors, lots, items) share: their route table, reading
forms the French way, French messages for the domain's refusals, and paging.

A form is read into a :class:`Form`: the values as the person typed them
(to show them again) and one French message per wrong field. Numbers accept
a decimal comma and spaces (``1 234,5``); weights are typed in kg and kept
in grams. Nothing reaches a transaction until the whole form is valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, TypeVar

from aiohttp import web
from babel.dates import format_date
from pydantic import BaseModel, ValidationError

from node.domain.items import Item
from node.errors import DomainError
from web_ui import labels
from web_ui.i18n import LOCALES, Formats, translator
from web_ui.paging import PER_PAGE, Pager, page_number  # re-exported for the pages of this area
from web_ui.render import LANGUAGE, SESSION, page

__all__ = [
    "routes",
    "PER_PAGE",
    "Form",
    "FormReader",
    "Pager",
    "tr",
    "username",
    "path_id",
    "page_number",
    "refusal",
    "kg_text",
    "decimal_text",
    "view",
    "query_id",
    "not_found",
    "done_flash",
    "see_other",
    "SPACES",
]

routes = web.RouteTableDef()
M = TypeVar("M", bound=BaseModel)
SPACES = re.compile(r"[\s\u00a0\u202f']")
_WHOLE = re.compile(r"^[0-9]{1,15}$")
_DECIMAL = re.compile(r"^[0-9]{1,12}(?:[.,][0-9]{1,6})?$")
_DAY = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where shown, in the person's language."""
    return text


# The domain's stable error codes, said in French; the English detail is shown below, muted.
REFUSALS: dict[str, str] = {
    "duplicate_reference": _("A lot with this reference already exists: choose another reference."),
    "duplicate_item": _("An item with this global id or asset tag already exists."),
    "not_found": _("Something this form names does not exist (any more)."),
    "file_too_large": _("This file is too large: a document is at most 50 MB."),
    "file_missing": _("The file of this document is missing from the node's data directory."),
    "invalid": _("The input was refused: check the fields."),
}
REFUSED = _("The action was refused; nothing was changed.")

# Field errors, by the kind of mistake pydantic names.
REQUIRED = _("This field is required.")
TOO_LONG = _("This text is too long (at most {max} characters).")
NOT_A_WHOLE = _("Write a whole number, such as 12.")
NOT_A_NUMBER = _("Write a number, such as 1,5.")
NEGATIVE = _("This number cannot be negative.")
TOO_SMALL = _("This number is too small.")
TOO_LARGE = _("This number is too large.")
NOT_IN_LIST = _("Choose one of the proposed values.")
NOT_A_DATE = _("Write a date such as 31/12/2025.")
BAD_FORM = _("This value does not have the expected form.")
NOT_ACCEPTED = _("This value is not accepted.")
# What a field whose form is fixed looks like, by the domain model's field name.
PATTERNS: dict[str, str] = {
    "siret": _("A SIRET number has 14 digits."),
    "contact_email": _("Write an e-mail address such as name@example.org."),
    "grade": _("A grade is a letter from A to E."),
}


def view(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """Render a catalogue template, with the shared display names (``web_ui.labels``) at hand."""
    language = request.get(LANGUAGE, "fr")
    names = {
        "state_names": labels.STATE_NAMES,
        "category_names": labels.CATEGORY_NAMES,
        "donor_types": labels.DONOR_TYPES,
        "orientations": labels.ORIENTATIONS,
        "storage_names": labels.STORAGE,
        "storage_types": labels.STORAGE_TYPES,
        "lot_status": labels.LOT_STATUS,
        "lot_sources": labels.LOT_SOURCES,
        "document_kinds": labels.DOCUMENT_KINDS,
        "lot_day": _day_writer(language),
        "item_rows": _item_rows(language),
    }
    return page(request, template, status=status, **{**names, **context})


ItemRow = tuple[int, str, str, str, str, int | None, str | None, str, str, str]


@lru_cache(maxsize=None)
def _item_rows(language: str) -> Callable[[Iterable[Item]], list[ItemRow]]:
    """What ``catalogue/item_table.html`` shows of each item, written once in Python: per-cell
    template logic (a macro, a filter, a translation per row) cost most of the item list's time."""
    _ = translator(language)
    categories = {code: _(name) for code, name in labels.CATEGORY_NAMES.items()}
    states = {code: _(name) for code, name in labels.STATE_NAMES.items()}
    formats = Formats(language)

    def rows(items: Iterable[Item]) -> list[ItemRow]:
        return [
            (
                item.id,
                item.asset_tag,
                categories.get(item.category, item.category),
                f"{item.brand} {item.model}" if item.brand and item.model else item.brand or item.model or "",
                item.serial or "",
                item.lot_id,
                item.lot_reference,
                item.state,
                states.get(item.state, item.state),
                formats.date(item.state_since),
            )
            for item in items
        ]

    return rows


def _day_writer(language: str) -> Callable[[str | None], str]:
    """Writes a lot's ISO day (``2025-03-12``) the way ``language`` writes dates."""
    locale = LOCALES.get(language, LOCALES["fr"])

    def write(iso: str | None) -> str:
        try:
            return format_date(date.fromisoformat(iso), format="short", locale=locale) if iso else ""
        except ValueError:
            return iso or ""

    return write


def tr(request: web.Request) -> Callable[..., str]:
    """The translator of this request's language."""
    return translator(request.get(LANGUAGE, "fr"))


def username(request: web.Request) -> str | None:
    session = request.get(SESSION)
    return session.user.username if session else None


def _whole_number(raw: str, digits: int) -> int | None:
    """``raw`` as a whole number if it is 1 to ``digits`` ASCII digits (no "²", no 5000-digit text)."""
    return int(raw) if 1 <= len(raw) <= digits and raw.isascii() and raw.isdigit() else None


def path_id(request: web.Request, name: str = "id") -> int:
    """A whole number from the path (the routes match ASCII digits only). One too large for
    SQLite becomes 0, which names nothing: the page then says, in French, that it does not exist."""
    value = _whole_number(request.match_info[name], 19)
    return value if value is not None and value <= 2**63 - 1 else 0


def query_id(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name, "").strip()
    value = _whole_number(raw, 18)
    return value or None


@dataclass(slots=True)
class Form:
    """A form as the person filled it, with what is wrong with it."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None  # about the whole form, in the person's language
    detail: str | None = None  # the domain's English detail, shown muted

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.message)


def refusal(form: Form, exc: DomainError, _: Callable[..., str]) -> Form:
    """Put the domain's refusal on ``form``: a French sentence by its code, the English detail below."""
    form.message = _(REFUSALS.get(exc.code, REFUSED))
    form.detail = exc.message
    return form


def decimal_text(value: int | None, scale: int) -> str:
    """``value / scale`` written with a decimal comma and no useless zeros (1500, 1000 → "1,5")."""
    if value is None:
        return ""
    text = format(Decimal(value) / Decimal(scale), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def kg_text(grams: int | None) -> str:
    return decimal_text(grams, 1000)


class FormReader:
    """Reads a posted form field by field into Python values, collecting French errors."""

    def __init__(self, data: Mapping[str, Any], translate: Callable[..., str]) -> None:
        self.data = data
        self._ = translate
        self.form = Form()

    def _raw(self, name: str) -> str:
        value = self.data.get(name, "")
        raw = value.strip() if isinstance(value, str) else ""
        self.form.values[name] = raw
        return raw

    def fail(self, name: str, message: str, **values: Any) -> None:
        self.form.errors.setdefault(name, self._(message, **values))

    def text(self, name: str) -> str | None:
        return self._raw(name) or None

    def whole(self, name: str, *, low: int = 0, high: int | None = None) -> int | None:
        raw = SPACES.sub("", self._raw(name))
        if not raw:
            return None
        if not _WHOLE.match(raw):
            self.fail(name, NEGATIVE if raw.startswith("-") and _WHOLE.match(raw[1:]) else NOT_A_WHOLE)
            return None
        value = int(raw)
        if value < low:
            self.fail(name, TOO_SMALL)
        elif high is not None and value > high:
            self.fail(name, TOO_LARGE)
        else:
            return value
        return None

    def decimal(self, name: str, scale: int, *, high: int | None = None) -> int | None:
        """A number with a decimal comma, times ``scale`` and rounded: kg → g with ``scale=1000``."""
        raw = SPACES.sub("", self._raw(name))
        if not raw:
            return None
        if not _DECIMAL.match(raw):
            self.fail(name, NEGATIVE if raw.startswith("-") and _DECIMAL.match(raw[1:]) else NOT_A_NUMBER)
            return None
        value = int((Decimal(raw.replace(",", ".")) * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if high is not None and value > high:
            self.fail(name, TOO_LARGE)
            return None
        return value

    def day(self, name: str) -> date | None:
        """A date from ``<input type="date">`` (2025-12-31) or typed the French way (31/12/2025)."""
        raw = self._raw(name)
        if not raw:
            return None
        try:
            found = _DAY.match(raw)
            if found:
                return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
            return date.fromisoformat(raw)
        except ValueError:
            self.fail(name, NOT_A_DATE)
            return None

    def choice(self, name: str, choices: Mapping[str, Any] | tuple[str, ...]) -> str | None:
        raw = self._raw(name)
        if raw and raw not in choices:
            self.fail(name, NOT_IN_LIST)
            return None
        return raw or None

    def choices(self, name: str, choices: Mapping[str, Any] | tuple[str, ...]) -> list[str]:
        """Ticked checkboxes (the field repeated); an unknown value is an error."""
        getall = getattr(self.data, "getall", None)
        raw = [
            v.strip()
            for v in (getall(name, []) if getall else [self.data.get(name, "")])
            if isinstance(v, str)
        ]
        chosen = [v for v in dict.fromkeys(raw) if v]
        self.form.values[name] = chosen
        if any(v not in choices for v in chosen):
            self.fail(name, NOT_IN_LIST)
        return [v for v in chosen if v in choices]

    def build(
        self, model: type[M], data: dict[str, Any], fields: Mapping[str, str] | None = None
    ) -> M | None:
        """Validate ``data`` with the domain's model; each error goes to its form field (``fields``
        maps a model field to the form field that feeds it when they differ). ``None`` if anything is wrong.
        """
        fields = fields or {}
        try:
            built = model.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                message, values = _message(name, error, data.get(name))
                self.fail(fields.get(name, name) or "_form", message, **values)
            return None
        return None if self.form.errors else built


def _message(name: str, error: Mapping[str, Any], value: Any) -> tuple[str, dict[str, Any]]:
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "missing" or value is None or kind == "string_too_short":
        return REQUIRED, {}
    if kind == "string_too_long":
        return TOO_LONG, {"max": context.get("max_length", "")}
    if kind in ("greater_than_equal", "greater_than"):
        return (NEGATIVE if context.get("ge") == 0 else TOO_SMALL), {}
    if kind in ("less_than_equal", "less_than"):
        return TOO_LARGE, {}
    if kind in ("literal_error", "enum"):
        return NOT_IN_LIST, {}
    if kind == "string_pattern_mismatch":
        return PATTERNS.get(name, BAD_FORM), {}
    if kind.startswith("date"):
        return NOT_A_DATE, {}
    return NOT_ACCEPTED, {}


NOT_FOUND = _("This page does not exist, or what it showed was removed.")


def not_found(request: web.Request, message: str | None = None, **context: Any) -> web.Response:
    """The French 404 page; ``message`` is an English source string of the catalogue."""
    _ = tr(request)
    return view(request, "catalogue/not_found.html", status=404, message=_(message or NOT_FOUND), **context)


def done_flash(request: web.Request, messages: Mapping[str, str]) -> list[tuple[str, str]]:
    """The flash after a POST-redirect-GET: ``?done=<code>`` names one of ``messages`` (never shown raw)."""
    code = request.query.get("done", "")
    if code not in messages:
        return []
    _ = tr(request)
    count = request.query.get("count", "")
    return [("ok", _(messages[code], count=_whole_number(count, 6) or 0))]


def see_other(location: str) -> web.Response:
    """The 303 after a successful POST. Returned, not raised: the auth middleware audits
    only the responses a handler returns."""
    return web.Response(status=303, headers={"Location": location})
