"""The grade a workshop probe suggests, from thresholds the association sets.

Each measure gives a grade and the worst one wins (A is best):

- battery health (energy_full / energy_full_design), when the machine has a battery:
  A from ``battery_a`` %, B from ``battery_b``, C from ``battery_c``, D below;
- RAM: A from ``ram_a_mb``, B from ``ram_b_mb``, C from ``ram_c_mb``, D below;
- the most used disk's power-on hours: A up to ``disk_hours_a``, B up to ``disk_hours_b``, C above;
- a disk with reallocated or pending sectors (media errors on NVMe): C;
- a disk whose own SMART verdict is "failed": D (replace it before reuse).

The thresholds are the ``grade_thresholds`` setting (JSON); the volunteer
keeps the last word: a grade someone gave by hand is never replaced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from node.imports.probe import Machine

__all__ = ["THRESHOLDS", "DEFAULT_THRESHOLDS", "Reason", "thresholds_problem", "read_thresholds", "suggest_grade"]

THRESHOLDS = ("battery_a", "battery_b", "battery_c", "ram_a_mb", "ram_b_mb", "ram_c_mb", "disk_hours_a",
              "disk_hours_b")  # fmt: skip
DEFAULT_THRESHOLDS = {"battery_a": 80, "battery_b": 60, "battery_c": 40, "ram_a_mb": 8192, "ram_b_mb": 4096,
                      "ram_c_mb": 2048, "disk_hours_a": 20000, "disk_hours_b": 40000}  # fmt: skip


@dataclass(frozen=True)
class Reason:
    """One measure and the grade it gives: ``criterion`` is battery, ram, disk_hours, disk_sectors or disk_failed."""

    criterion: str
    grade: str
    value: int


def thresholds_problem(value: str) -> str | None:
    """Why a ``grade_thresholds`` value is wrong, or None."""
    try:
        data = json.loads(value)
    except ValueError:
        return "not JSON"
    if not isinstance(data, dict) or set(data) != set(THRESHOLDS):
        return f"a map of exactly {', '.join(THRESHOLDS)}"
    if any(type(v) is not int or not 0 <= v <= 10_000_000 for v in data.values()):
        return "whole numbers from 0 to 10000000"
    if any(data[f"battery_{g}"] > 100 for g in "abc"):
        return "battery health is a percentage (0 to 100)"
    if not (data["battery_a"] >= data["battery_b"] >= data["battery_c"]
            and data["ram_a_mb"] >= data["ram_b_mb"] >= data["ram_c_mb"]
            and data["disk_hours_a"] <= data["disk_hours_b"]):  # fmt: skip
        return "each grade asks at least as much as the next one (A ≥ B ≥ C)"
    return None


def read_thresholds(value: str) -> dict[str, int]:
    """The thresholds of a stored setting (the defaults for a value that does not check)."""
    return json.loads(value) if thresholds_problem(value) is None else dict(DEFAULT_THRESHOLDS)


def _at_least(value: int, limits: list[int]) -> str:
    return next((grade for grade, limit in zip("ABC", limits) if value >= limit), "D")


def suggest_grade(machine: Machine, thresholds: dict[str, Any]) -> tuple[str | None, list[Reason]]:
    """The grade the measures give (None when nothing was measured), and each measure's grade."""
    t = thresholds
    reasons = []
    if machine.battery_pct is not None:
        limits = [t["battery_a"], t["battery_b"], t["battery_c"]]
        reasons.append(Reason("battery", _at_least(machine.battery_pct, limits), machine.battery_pct))
    if machine.ram_mb is not None:
        reasons.append(Reason("ram", _at_least(machine.ram_mb, [t["ram_a_mb"], t["ram_b_mb"], t["ram_c_mb"]]),
                              machine.ram_mb))  # fmt: skip
    hours = [d.power_on_hours for d in machine.disks if d.power_on_hours is not None]
    if hours:
        most = max(hours)
        grade = "A" if most <= t["disk_hours_a"] else "B" if most <= t["disk_hours_b"] else "C"
        reasons.append(Reason("disk_hours", grade, most))
    sectors = sum(d.reallocated or 0 for d in machine.disks)
    if sectors:
        reasons.append(Reason("disk_sectors", "C", sectors))
    failed = sum(1 for d in machine.disks if d.passed is False)
    if failed:
        reasons.append(Reason("disk_failed", "D", failed))
    return (max(r.grade for r in reasons) if reasons else None), reasons
