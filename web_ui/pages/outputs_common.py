"""What the output pages (labels, reports, statistics, exports) share: errors, periods, downloads."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from node.domain.stats import period_bounds
from node.errors import DomainError
from web_ui.i18n import TIMEZONE, translator
from web_ui.render import LANGUAGE

__all__ = [
    "ERRORS", "Problem", "error_of", "parse_period", "current_year", "today", "slug", "download", "translate",
]  # fmt: skip


def _(text: str) -> str:
    """Mark ``text`` for translation; translated where it is shown."""
    return text


# Stable domain codes → the sentence the person reads (English source, French in outputs.po).
ERRORS: dict[str, str] = {
    "invalid_period": _("This is not a period. Write a year (2026), a month (2026-10) or a quarter (2026-Q3)."),
    "no_selection": _("Choose the items to label: a lot, a range of asset tags, today's items or the checked items."),
    "invalid_range": _("This range of asset tags ends before it starts."),
    "too_many_labels": _("Too many items for one PDF. Narrow the choice (at most 5000 labels at a time)."),
    "not_found": _("Nothing was found for this choice."),
    "invalid_record_id": _("This link to a signed document is not valid."),
}
_FALLBACK = _("This choice cannot be used.")


class Problem(Exception):
    """A form value the page itself refuses, before the domain sees it; ``message`` is an English source."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message, self.detail = message, detail


def translate(request: web.Request) -> Callable[..., str]:
    return translator(request.get(LANGUAGE, "fr"))


def error_of(request: web.Request, exc: DomainError | Problem) -> tuple[str, str]:
    """(the sentence in the person's language, the English detail to show below it, muted)."""
    t = translate(request)
    if isinstance(exc, Problem):
        return t(exc.message), exc.detail
    return t(ERRORS.get(exc.code, _FALLBACK)), exc.message


def parse_period(text: str | None, *, required: bool = True) -> tuple[str, tuple[int, int]] | None:
    """``(period, (start_ms, end_ms))`` of "2026", "2026-10" or "2026-Q3"; ``Invalid`` otherwise.

    Lowercase "q" is accepted (phones start words with a capital, people do not).
    """
    text = (text or "").strip().upper()
    if not text:
        if required:
            return parse_period(current_year())
        return None
    return text, period_bounds(text, str(TIMEZONE))


def current_year() -> str:
    return str(datetime.now(TIMEZONE).year)


def today() -> tuple[str, tuple[int, int]]:
    """The local day as ``YYYY-MM-DD`` and its bounds in protocol milliseconds."""
    now = datetime.now(TIMEZONE)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    following = datetime.fromordinal(start.toordinal() + 1).replace(tzinfo=TIMEZONE)
    return start.strftime("%Y-%m-%d"), (int(start.timestamp() * 1000), int(following.timestamp() * 1000))


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def slug(text: str, default: str = "document") -> str:
    """A file-name-safe ASCII form of ``text``: "Mairie de Brest–Nord" → "mairie-de-brest-nord"."""
    letters = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    plain = "".join(c for c in letters if not unicodedata.combining(c))  # é → e, not dropped
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:60].strip("-") or default


def download(body: bytes, content_type: str, filename: str, *, inline: bool = False,
             charset: str | None = None) -> web.Response:  # fmt: skip
    """A file answer; ``filename`` must already be ASCII (see ``slug``)."""
    disposition = "inline" if inline else "attachment"
    response = web.Response(body=body, content_type=content_type, charset=charset)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
