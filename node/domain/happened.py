"""The date an event happened, beside the time it was recorded.

A network that starts using Maillon enters its past: a distribution made
last March, a lot received in 2023. Every event keeps the time it was
recorded (``events.time``, ``erasures.recorded``) and the time it happened
(``events.happened``, ``erasures.time``, ``items.state_since``), and the
figures (``node.domain.stats``, the dashboard, the donor report) count the time it
happened.

A person gives a day (``happened_on``); it becomes an instant: now when the
day is today, else noon UTC of that day (``node.store.day_ms``: the same
day in France). A day in the future, or before the reception of an item's
lot (or before the item's last step), is refused with a French message and
a stable code (``future_date``, ``before_reception``, ``before_last_step``).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from node.errors import Invalid
from node.store.database import IN_ARRAY, Reader, as_array, day_ms, now_ms

__all__ = ["ZONE", "today", "day_of", "happened_ms", "check_day", "check_items_day", "check_lot_day"]

ZONE = ZoneInfo("Europe/Paris")  # the calendar of the figures (node.domain.stats.period_bounds)


def today(now: int | None = None) -> date:
    """The current day in France (``now_ms``: the history's day under ``clock_at``)."""
    return day_of(now_ms() if now is None else now)


def day_of(ms: int) -> date:
    """The day in France of an instant."""
    return datetime.fromtimestamp(ms / 1000, ZONE).date()


def happened_ms(day: date | None) -> int | None:
    """The instant of a day an event happened: ``None`` (the caller's now) for no day or today, else that
    day's noon UTC."""
    if day is None or day == today():
        return None
    return day_ms(day)


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def check_day(day: date | None, field: str = "happened_on") -> None:
    """Refuse a day after today (``future_date``); ``field``: the input's name for it."""
    if day is not None and day > today():
        raise Invalid(f"{field}: la date {_fr(day)} est dans le futur : donnez le jour où cela s'est passé, "
                      "aujourd'hui au plus tard", code="future_date")  # fmt: skip


def check_lot_day(day: date | None, received_on: str | None, reference: str) -> None:
    """Refuse a day after today, or before the day the lot ``reference`` was received."""
    check_day(day)
    if day is not None and received_on and day.isoformat() < received_on:
        raise Invalid(f"happened_on: la date {_fr(day)} est antérieure à la réception du lot {reference} "
                      f"({_fr(date.fromisoformat(received_on))})", code="before_reception")  # fmt: skip


async def check_items_day(db: Reader, item_ids: list[int], day: date | None) -> None:
    """Refuse a day in the future, before an item's lot was received, or before the item's last step."""
    check_day(day)
    if day is None or not item_ids:
        return
    text = day.isoformat()
    late = await db.one(
        f"SELECT i.asset_tag, l.reference, l.received_on FROM items i JOIN lots l ON l.id = i.lot_id"
        f" WHERE i.id IN {IN_ARRAY} AND l.received_on > ? ORDER BY l.received_on DESC LIMIT 1",
        (as_array(item_ids), text),
    )  # fmt: skip
    if late is not None:
        check_lot_day(day, late["received_on"], late["reference"])
    # The day of the item's last event (its state_since): a step cannot come before the one it follows.
    last = await db.one(
        f"SELECT asset_tag, state_since FROM items WHERE id IN {IN_ARRAY} ORDER BY state_since DESC LIMIT 1",
        (as_array(item_ids),),
    )  # fmt: skip
    if last is not None and day_of(last["state_since"]) > day:
        raise Invalid(f"happened_on: la date {_fr(day)} est antérieure à la dernière étape de {last['asset_tag']} "
                      f"({_fr(day_of(last['state_since']))})", code="before_last_step")  # fmt: skip
