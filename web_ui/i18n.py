"""Translation catalogue and the French way of writing dates, numbers, weights, money.

Source strings are English; French is the default language. Catalogues are
gettext ``.po`` files: every ``*.po`` under ``locale/<lang>/LC_MESSAGES``
is read (one file per area of the interface, so translators and
developers do not collide), once, with Babel; no compile step exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.dates import format_time as babel_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_group_symbol

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "translator", "catalogue", "Formats", "negotiate"]

DEFAULT_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")
LOCALES = {"fr": "fr_FR", "en": "en_GB"}
TIMEZONE = ZoneInfo("Europe/Paris")
_LOCALE_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, str]:
    """msgid → msgstr of every catalogue file of ``language`` (fuzzy and empty entries left out)."""
    table: dict[str, str] = {}
    for path in sorted((_LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.string and not message.fuzzy:
                    table[str(message.id)] = str(message.string)
    return table


def translator(language: str) -> Callable[..., str]:
    """Return ``_`` for ``language``; ``_(text, **values)`` fills ``{placeholders}``; unknown text stays English."""
    table = catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE)

    def _(message: str, **values: object) -> str:
        text = table.get(message, message)
        return text.format(**values) if values else text

    return _


def negotiate(cookie: str | None, user_language: str | None, accept_language: str | None) -> str:
    """The language to answer in: the person's explicit choice, their account's, their browser's, French."""
    for choice in (cookie, user_language):
        if choice in LANGUAGES:
            return choice
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


# Babel's formatting costs ~50 µs a call; a list page writes 50+ dates, most
# of them on a few days: format each day (or minute) once per locale.
@lru_cache(maxsize=8192)
def _day(locale: str, day: date) -> str:
    return babel_date(day, format="short", locale=locale)


@lru_cache(maxsize=8192)
def _minute(locale: str, moment: datetime) -> str:
    return babel_datetime(moment, format="short", tzinfo=TIMEZONE, locale=locale)


@lru_cache(maxsize=8192)
def _clock(locale: str, moment: datetime) -> str:
    return babel_time(moment, format="short", tzinfo=TIMEZONE, locale=locale)


@lru_cache(maxsize=8)
def _group(locale: str) -> str:
    """The thousands separator (fr: a narrow no-break space); both locales group by threes."""
    return get_group_symbol(locale)


OUT_OF_RANGE = "–"
# How node.store.database.day_ms stores a day given without a time (an event entered for a past
# day, node.domain.happened.happened_ms): its noon UTC. Such an instant is written as its date alone.
_DAY_MS = 86_400_000
_NOON_MS = 43_200_000


class Formats:
    """Dates, numbers, weights and money written the way ``language`` writes them."""

    def __init__(self, language: str) -> None:
        self.locale = LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE])

    def _local(self, ms: int) -> datetime | None:
        """The moment in the node's time zone, or ``None`` for one no calendar holds (years 1 to 9999)."""
        try:
            return datetime.fromtimestamp(ms / 1000, UTC).astimezone(TIMEZONE)
        except (OverflowError, OSError, ValueError):
            return None

    # Pages never fail on stored data: a time beyond the calendar (a record another
    # node signed, a row older than the bounds) is shown as a dash.
    def date(self, ms: int | None) -> str:
        if ms is None:
            return ""
        local = self._local(ms)
        return OUT_OF_RANGE if local is None else _day(self.locale, local.date())

    def day(self, value: date | None) -> str:
        """A calendar day (an imported row's date)."""
        return "" if value is None else _day(self.locale, value)

    def datetime(self, ms: int | None) -> str:
        if ms is None:
            return ""
        local = self._local(ms)
        return OUT_OF_RANGE if local is None else _minute(self.locale, local.replace(second=0, microsecond=0))

    def time(self, ms: int | None) -> str:
        """The hour and minute of an instant (14:05)."""
        if ms is None:
            return ""
        local = self._local(ms)
        return OUT_OF_RANGE if local is None else _clock(self.locale, local.replace(second=0, microsecond=0))

    def when(self, ms: int | None) -> str:
        """When something happened: its date alone for a day-only instant (noon UTC, how a past day
        given without a time is stored), else its date and time; the pages' one rule for it."""
        if ms is not None and ms % _DAY_MS == _NOON_MS:
            return self.date(ms)
        return self.datetime(ms)

    def number(self, value: int | float | None) -> str:
        if type(value) is int:  # counts and page numbers: grouped by thousands, 50 times faster than Babel
            return f"{value:,}".replace(",", _group(self.locale))
        return "" if value is None else format_decimal(value, locale=self.locale)

    def kg(self, grams: int | None) -> str:
        if grams is None:
            return ""
        return format_decimal(grams / 1000, format="#,##0.0", locale=self.locale) + " kg"

    def money(self, cents: int | None) -> str:
        if cents is None:
            return ""
        return format_decimal(cents / 100, format="#,##0.00", locale=self.locale) + " €"

    def permille(self, value: int | None) -> str:
        if value is None:
            return "–"
        return format_decimal(value / 10, format="0.#", locale=self.locale) + " %"
