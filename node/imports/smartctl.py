"""Read one disk's health from ``smartctl --json`` (smartmontools 7 or later).

smartctl prints JSON even when it fails (no such device, a USB bridge it
cannot pass through): the ``smartctl.messages`` then say why, and the disk
fields are missing. Whatever is missing stays ``None``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from node.imports.errors import ImportFailed
from node.imports.lshw import DiskType, _number, _text

__all__ = ["DiskHealth", "parse_smartctl"]


@dataclass(frozen=True)
class DiskHealth:
    """One disk as smartctl saw it."""

    device: str | None
    model: str | None
    serial: str | None
    size_bytes: int | None
    type: DiskType | None
    power_on_hours: int | None
    reallocated: int | None  # reallocated + pending sectors (ATA), media errors (NVMe)
    passed: bool | None  # the disk's own overall health verdict


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _whole(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number < 2**62 else None


def _attributes(data: dict[str, Any]) -> dict[int, int]:
    table = _get(data, "ata_smart_attributes", "table")
    found: dict[int, int] = {}
    for row in table if isinstance(table, list) else []:
        if isinstance(row, dict) and isinstance(row.get("id"), int):
            raw = _whole(_get(row, "raw", "value"))
            if raw is not None:
                found[row["id"]] = raw & 0xFFFFFFFF  # vendors pack other counters in the high bytes
    return found


def _type(data: dict[str, Any], protocol: str) -> DiskType | None:
    if protocol == "nvme" or str(_get(data, "device", "type")).lower() == "nvme":
        return "nvme"
    rotation = _get(data, "rotation_rate")
    if rotation == 0:
        return "ssd"
    if isinstance(rotation, int) and rotation > 0:
        return "hdd"
    return None


def parse_smartctl(text: str) -> DiskHealth:
    """The disk in ``smartctl --json -a`` output; ``ImportFailed`` when it names no disk at all."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ImportFailed(None, "this is not valid JSON from smartctl --json", code="bad_json") from exc
    if not isinstance(data, dict) or not isinstance(data.get("smartctl"), dict):
        raise ImportFailed(None, "this JSON is not the output of 'smartctl --json'", code="not_smartctl")
    model, serial = _text(data.get("model_name")), _text(data.get("serial_number"))
    if model is None and serial is None:
        messages = _get(data, "smartctl", "messages")
        messages = messages if isinstance(messages, list) else []
        said = [str(m.get("string"))[:200] for m in messages if isinstance(m, dict)]
        raise ImportFailed(None, "smartctl read no disk" + (f": {said[0]}" if said else ""), code="no_disk")
    protocol = str(_get(data, "device", "protocol") or "").lower()
    attributes = _attributes(data)
    nvme = _get(data, "nvme_smart_health_information_log")
    nvme = nvme if isinstance(nvme, dict) else {}
    hours = _whole(_get(data, "power_on_time", "hours"))
    if hours is None:
        hours = _whole(nvme.get("power_on_hours")) if nvme else attributes.get(9)
    if nvme:
        reallocated = _whole(nvme.get("media_errors"))
    elif 5 in attributes or 197 in attributes:
        reallocated = attributes.get(5, 0) + attributes.get(197, 0)
    else:
        reallocated = None
    passed = _get(data, "smart_status", "passed")
    size = _whole(_get(data, "user_capacity", "bytes")) or _whole(data.get("nvme_total_capacity"))
    return DiskHealth(
        device=_text(_get(data, "device", "name")),
        model=model,
        serial=serial,
        size_bytes=size or None,
        type=_type(data, protocol),
        power_on_hours=hours,
        reallocated=reallocated,
        passed=passed if isinstance(passed, bool) else None,
    )
