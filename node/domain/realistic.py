"""Realistic values in what other nodes sign: the effect of a received record applies only within them.

The protocol accepts any instant from 1970 to 2**63 ms and weights up to a
million tonnes: a record is a signed fact, held as it is (its author's log
stays whole). What this node does with it is another matter: a hand-off
expiring in the year 292 million, a fate dated 1970, a lot of a million
tonnes are not facts of the reuse domain, and one peer's mistake (or
malice) must not move custody or figures here. So the domain effects of
a received record (``federation.effects``) first check its body against
the same bounds a person meets at the pages, the API and the imports
(``node.validation``: days from 1980 to 2100); beyond them the effect is
refused with ``unrealistic_value`` (an alert names the record) and
nothing changes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from node.errors import RuleBroken
from node.validation import EARLIEST, LATEST, MAX_TIME_MS, MIN_TIME_MS

__all__ = ["MAX_WEIGHT_G", "MAX_UNITS", "check_realistic", "unrealistic"]

MAX_WEIGHT_G = 10**9  # a thousand tonnes: more than any lot, outflow or year of a workshop weighs
MAX_UNITS = 10**7  # more devices than a network handles in a year
_TIMES = ("time", "expires")  # instants of the domain (a certificate's validity is the trust layer's)


def unrealistic(body: BaseModel) -> str | None:
    """The first field of ``body`` (nested parts and lists included) beyond realistic bounds, named; or None."""
    for name, value in body:
        problem = _value(name, value)
        if problem:
            return problem
    return None


def _value(name: str, value: Any) -> str | None:
    if isinstance(value, BaseModel):
        inner = unrealistic(value)
        return f"{name}.{inner}" if inner else None
    if isinstance(value, list | tuple):
        for index, part in enumerate(value):
            problem = _value(f"{name}[{index}]", part)
            if problem:
                return problem
        return None
    if isinstance(value, str) and name.endswith("_on") and not EARLIEST.isoformat() <= value <= LATEST.isoformat():
        return f"{name}: {value} is not a day from 1980 to 2100"  # a day of the calendar: the kind checked it
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if (name in _TIMES or name.endswith("_time")) and not MIN_TIME_MS <= value <= MAX_TIME_MS:
        return f"{name}: {value} is not a time from 1980 to 2100"
    if name.endswith("weight_g") and value > MAX_WEIGHT_G:
        return f"{name}: {value} g is more than {MAX_WEIGHT_G // 10**6} tonnes"
    if name in ("units", "units_counted") and value > MAX_UNITS:
        return f"{name}: {value} units is more than {MAX_UNITS}"
    return None


def check_realistic(body: BaseModel) -> None:
    """Raise ``RuleBroken`` (``unrealistic_value``) when a field of ``body`` is beyond realistic bounds."""
    problem = unrealistic(body)
    if problem:
        raise RuleBroken(f"a value no workshop records: {problem}", code="unrealistic_value")
