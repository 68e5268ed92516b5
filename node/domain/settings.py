"""The node's settings, declared as data: name, type, default, help.

A test checks that every setting declared here is documented.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node.errors import Invalid, NotFound
from node.store.database import Reader, Tx

__all__ = ["Setting", "SETTINGS", "get_setting", "set_setting", "all_settings", "POLICY_FIELDS", "POLICY_AUDIENCES",
           "WORKFORCE_FIELDS", "STATS_SCHEDULES"]


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    minimum: int | None = None
    maximum: int | None = None
    rule: Callable[[Any], str | None] | None = None  # returns why a value is wrong, or None

    def check(self, value: Any) -> Any:
        if self.type is int and (type(value) is not int):
            raise Invalid(f"{self.name} is a whole number", code="invalid_setting")
        if self.type is str and not isinstance(value, str):
            raise Invalid(f"{self.name} is text", code="invalid_setting")
        if self.type is int and (
            (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum)
        ):
            raise Invalid(f"{self.name} must be between {self.minimum} and {self.maximum}", code="invalid_setting")
        if self.type is str and not value.strip():
            raise Invalid(f"{self.name} cannot be empty", code="invalid_setting")
        problem = self.rule(value) if self.rule else None
        if problem:
            raise Invalid(f"{self.name}: {problem}", code="invalid_setting")
        return value


def _prefix_problem(value: str) -> str | None:
    if not (1 <= len(value) <= 20) or not all(c.isalnum() or c in "-_" for c in value):
        return "1 to 20 letters, digits, - or _"
    return None


def _factor_problem(value: str) -> str | None:
    from node.domain.impact import FACTOR_TABLES

    return None if value in FACTOR_TABLES else f"one of {', '.join(FACTOR_TABLES)}"


POLICY_FIELDS = ("stats", "fates", "workforce")
POLICY_AUDIENCES = ("none", "hub", "network", "public")


def _policy_problem(value: str) -> str | None:
    """What the publication policy may say: for each kind of data, who may read it."""
    try:
        policy = json.loads(value)
    except ValueError:
        return "not JSON"
    if not isinstance(policy, dict) or set(policy) != set(POLICY_FIELDS):
        return f"a map of exactly {', '.join(POLICY_FIELDS)}"
    if any(v not in POLICY_AUDIENCES for v in policy.values()):
        return f"each is one of {', '.join(POLICY_AUDIENCES)}"
    return None


WORKFORCE_FIELDS = ("fte", "insertion_jobs", "volunteers")
STATS_SCHEDULES = ("monthly", "quarterly", "yearly", "off")


def _workforce_problem(value: str) -> str | None:
    """Workforce figures an association may share: FTE (two decimals at most), jobs and volunteers."""
    try:
        shared = json.loads(value)
    except ValueError:
        return "not JSON"
    if not isinstance(shared, dict) or not set(shared) <= set(WORKFORCE_FIELDS):
        return f"a map of some of {', '.join(WORKFORCE_FIELDS)}"
    for name, number in shared.items():
        whole = name != "fte"
        if type(number) not in ((int,) if whole else (int, float)) or not 0 <= number <= 1_000_000:
            return f"{name} is a {'whole ' if whole else ''}number between 0 and 1000000"
        if not whole and abs(number * 100 - round(number * 100)) > 1e-6:
            return "fte has at most two decimals"
    return None


def _thresholds_problem(value: str) -> str | None:
    from node.domain.grading import thresholds_problem

    return thresholds_problem(value)


def _label_format_problem(value: str) -> str | None:
    return None if value in ("roll", "sheet") else "roll or sheet"


def _columns_problem(value: str) -> str | None:
    """The columns a sheet import remembers: normalised header -> field (``node.imports.history``)."""
    from node.imports.history import FIELDS, IGNORE, NOTE

    try:
        columns = json.loads(value)
    except ValueError:
        return "not JSON"
    if not isinstance(columns, dict) or len(columns) > 500:
        return "a map of at most 500 headers"
    if any(not isinstance(k, str) or len(k) > 200 or v not in (*FIELDS, NOTE, IGNORE) for k, v in columns.items()):
        return f"each header maps to one of {', '.join(FIELDS)}, {NOTE} or an empty text"
    return None


def _schedule_problem(value: str) -> str | None:
    return None if value in STATS_SCHEDULES else f"one of {', '.join(STATS_SCHEDULES)}"


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("asset_prefix", str, "MLN", "Prefix of the asset tags printed on labels (e.g. MLN-000042).",
                rule=_prefix_problem),
        Setting("years_of_second_life", int, 3, "Years of use assumed for a reused device in impact figures.",
                1, 15),
        Setting("impact_factors", str, "ademe-2022", "Version of the impact factor table used for new figures.",
                rule=_factor_problem),
        Setting("beneficiary_retention_days", int, 1095,
                "Days after which a beneficiary's personal details are erased (code and category stay).", 1, 3650),
        Setting("publication_policy", str, '{"fates": "hub", "stats": "hub", "workforce": "none"}',
                "What this node shares and with whom (none, hub, network, public), for statistics, item "
                "fates and workforce figures (JSON).", rule=_policy_problem),
        Setting("workforce", str, "{}",
                "Workforce figures shared in statistics reports when the policy allows: fte, insertion_jobs, "
                "volunteers (JSON).", rule=_workforce_problem),
        Setting("stats_schedule", str, "monthly",
                "When statistics reports go to the hub by themselves: monthly, quarterly, yearly or off.",
                rule=_schedule_problem),
        Setting("grade_thresholds", str, '{"battery_a": 80, "battery_b": 60, "battery_c": 40, "disk_hours_a": 20000, '
                '"disk_hours_b": 40000, "ram_a_mb": 8192, "ram_b_mb": 4096, "ram_c_mb": 2048}',
                "Thresholds of the grade the workshop probe suggests: battery health (%), RAM (MB) and disk "
                "power-on hours for grades A, B, C (JSON).", rule=_thresholds_problem),
        Setting("station_label_format", str, "roll",
                "The label the workshop station page prints: roll (label printer) or sheet (A4 sheets).",
                rule=_label_format_problem),
        Setting("import_columns", str, "{}",
                "How this node reads the columns of the sheets it imports: each header (lower case, without "
                "accents) and the field it holds, as chosen in an import's preview (JSON).", rule=_columns_problem),
        Setting("bench_days", int, 30, "Days a probed machine stays on the workshop station page.", 1, 365),
        Setting("summary_min_members", int, 3,
                "On a hub: a figure that members share with the hub only (or their network) leaves in the "
                "regional summary only pooled over at least this many of them; else it is withheld.", 1, 10000),
    )
}  # fmt: skip


async def get_setting(db: Reader, name: str) -> Any:
    setting = SETTINGS.get(name)
    if setting is None:
        raise NotFound(f"no setting {name!r}")
    raw = await db.value("SELECT value FROM settings WHERE name = ?", (name,))
    return setting.default if raw is None else json.loads(raw)


async def set_setting(tx: Tx, name: str, value: Any) -> None:
    setting = SETTINGS.get(name)
    if setting is None:
        raise NotFound(f"no setting {name!r}")
    await tx.run(
        "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, json.dumps(setting.check(value))),
    )


async def all_settings(db: Reader) -> dict[str, Any]:
    stored = {row["name"]: json.loads(row["value"]) for row in await db.all("SELECT name, value FROM settings")}
    return {name: stored.get(name, s.default) for name, s in SETTINGS.items()}
