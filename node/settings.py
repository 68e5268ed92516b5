"""The node's settings, declared as data: name, type, default, help.

A test checks that every setting declared here is documented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from node.errors import Invalid, NotFound
from node.store import Reader, Tx

__all__ = ["Setting", "SETTINGS", "get_setting", "set_setting", "all_settings"]


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    minimum: int | None = None
    maximum: int | None = None

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
        return value


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("asset_prefix", str, "MLN", "Prefix of the asset tags printed on labels (e.g. MLN-000042)."),
        Setting("years_of_second_life", int, 3, "Years of use assumed for a reused device in impact figures.",
                1, 15),
        Setting("impact_factors", str, "ademe-2022", "Version of the impact factor table used for new figures."),
        Setting("beneficiary_retention_days", int, 1095,
                "Days after which a beneficiary's personal details are erased (code and category stay).", 1, 3650),
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
