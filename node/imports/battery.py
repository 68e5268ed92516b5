"""Battery health from ``upower -i`` or ``/sys/class/power_supply/*/uevent``.

Health is energy_full / energy_full_design (or the charge_ pair, in µAh,
on batteries that report charge). upower writes numbers the way the
locale does ("48,8 Wh" under a French live system); both are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from node.imports.errors import ImportFailed

__all__ = ["Battery", "parse_upower", "parse_power_supply", "health_pct"]


@dataclass(frozen=True)
class Battery:
    name: str | None
    full: float  # Wh, or any unit shared with ``design``
    design: float

    @property
    def health_pct(self) -> int:
        return max(0, min(100, round(self.full / self.design * 100)))


def health_pct(batteries: list[Battery]) -> int | None:
    """The health of all batteries together (two-battery ThinkPads), or None without any."""
    design = sum(b.design for b in batteries)
    return max(0, min(100, round(sum(b.full for b in batteries) / design * 100))) if design > 0 else None


_NUMBER = re.compile(r"^\s*(\d{1,9}(?:[.,]\d{1,9})?)")


def _number(text: str | None) -> float | None:
    match = _NUMBER.match(text or "")
    return float(match[1].replace(",", ".")) if match else None


def _battery(name: str | None, full: float | None, design: float | None) -> Battery | None:
    if full is None or not design or design <= 0:
        return None
    return Battery(name, full, design)


def parse_upower(text: str) -> list[Battery]:
    """The batteries in ``upower -i`` output (one or more devices); ``[]`` for a device without a battery."""
    if "native-path" not in text and "energy-full" not in text:
        raise ImportFailed(None, "this is not the output of 'upower -i'", code="not_upower")
    found: list[Battery] = []
    for device in re.split(r"\n(?=\s*native-path:)", text):
        values: dict[str, str] = {}
        for line in device.splitlines():
            key, sep, value = line.strip().partition(":")
            if sep:
                values.setdefault(key.strip().lower(), value.strip())
        if values.get("present", "yes") == "no":
            continue
        battery = _battery(values.get("native-path"), _number(values.get("energy-full")),
                           _number(values.get("energy-full-design")))  # fmt: skip
        if battery:
            found.append(battery)
    return found


def parse_power_supply(text: str) -> Battery | None:
    """A battery from a ``power_supply`` ``uevent`` file; None for a mains adapter or a battery without data."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("POWER_SUPPLY_"):
            values[key[13:].lower()] = value.strip()
    if not values:
        raise ImportFailed(None, "this is not a power_supply uevent file", code="not_power_supply")
    if values.get("type", "Battery") != "Battery" or values.get("present", "1") == "0":
        return None
    for now, design in (("energy_full", "energy_full_design"), ("charge_full", "charge_full_design")):
        battery = _battery(values.get("name"), _number(values.get(now)), _number(values.get(design)))
        if battery:
            return battery
    return None
