"""Read the hardware description printed by ``lshw -json``.

lshw prints a tree of nodes (``id``, ``class``, ``product``, ``vendor``,
``serial``, ``size``, ``configuration``, ``children``). Older versions print
the root object; newer ones wrap it in a list. Whatever a node lacks stays
``None``: a virtual machine has no chassis and no serial numbers, an old
laptop may have no battery data, and that must never stop an import.

lshw itself gives a battery's design capacity only; ``battery_pct`` (health,
energy_full / energy_full_design) is read when the file carries those two
values on the battery node (scripts of the workshops add them from
``/sys/class/power_supply``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from node.imports.errors import ImportFailed

__all__ = ["CATEGORIES", "Disk", "Hardware", "category_of_chassis", "parse_lshw"]

DiskType = Literal["hdd", "ssd", "nvme", "emmc"]

CATEGORIES = ("desktop", "laptop", "tablet", "smartphone", "screen", "printer", "multifunction_printer",
              "server", "network", "peripheral", "component", "other")  # fmt: skip


@dataclass(frozen=True)
class Disk:
    """One storage device of the machine."""

    model: str | None
    serial: str | None
    size_bytes: int | None
    type: DiskType | None
    device: str | None  # the logical name, "/dev/sda", to match an nwipe log


@dataclass(frozen=True)
class Hardware:
    """The machine as lshw describes it; sizes in MB (RAM, binary) and GB (disks, decimal)."""

    category: str
    brand: str | None
    model: str | None
    serial: str | None
    cpu: str | None
    ram_mb: int | None
    disks: list[Disk]
    storage_gb: int | None
    storage_type: DiskType | None
    battery_pct: int | None
    screen: None = None
    chassis: str | None = None  # lshw's own word, shown to the person checking the category


# DMI chassis types as lshw names them (src/core/dmi.cc), plus newer ones.
_CHASSIS = {"desktop": "desktop", "low-profile": "desktop", "pizzabox": "desktop", "mini-tower": "desktop",
            "tower": "desktop", "all-in-one": "desktop", "space-saving": "desktop", "lunchbox": "desktop",
            "sealed": "desktop", "mini": "desktop", "stick": "desktop", "portable": "laptop",
            "laptop": "laptop", "notebook": "laptop", "sub-notebook": "laptop", "convertible": "laptop",
            "detachable": "laptop", "tablet": "tablet", "handheld": "tablet", "server": "server",
            "rackmount": "server", "rack": "server", "blade": "server", "blade-enclosure": "server",
            "multi-system": "server"}  # fmt: skip


def category_of_chassis(chassis: str | None) -> str:
    """The item category for lshw's ``configuration.chassis`` ("other" when unknown)."""
    if not chassis:
        return "other"
    return _CHASSIS.get(chassis.strip().lower().replace(" ", "-"), "other")


# Strings firmware vendors leave in DMI fields instead of a real value.
_PLACEHOLDERS = {"0", "to be filled by o.e.m.", "not specified", "system serial number", "default string",
                 "0123456789", "123456789", "none", "n/a", "not available", "not applicable", "oem",
                 "o.e.m.", "system manufacturer", "system product name", "system version", "unknown",
                 "chassis serial number", "base board serial number", "invalid", "empty"}  # fmt: skip


def _text(value: Any) -> str | None:
    """A cleaned string, or None for a missing value or a placeholder."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = " ".join(str(value).split())
    if text.lower() in _PLACEHOLDERS or not text:
        return None
    if len(text) > 1 and len(set(text.lower())) == 1 and text[0].lower() in "0fx?-. ":
        return None  # "00000000", "FFFFFFFF", "XXXXXXXX": filled, not a serial
    return text


def _number(value: Any) -> float | None:
    """A size, capacity or energy: a finite number, never negative."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str) and (match := re.match(r"\s*(\d{1,18}(?:\.\d{1,9})?)", value)):
        return float(match[1])
    return None


def _nodes(root: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every node of the tree with its parent, depth first, without recursion."""
    stack: list[tuple[dict[str, Any], dict[str, Any] | None]] = [(root, None)]
    while stack:
        node, parent = stack.pop()
        yield node, parent
        children = node.get("children")
        if isinstance(children, list):
            stack.extend((child, node) for child in reversed(children) if isinstance(child, dict))


def _config(node: dict[str, Any]) -> dict[str, Any]:
    config = node.get("configuration")
    return config if isinstance(config, dict) else {}


def _logical_name(node: dict[str, Any]) -> str | None:
    name = node.get("logicalname")
    if isinstance(name, list):  # lshw lists the device and its mount points
        name = next((n for n in name if isinstance(n, str) and n.startswith("/dev/")), None)
    return name if isinstance(name, str) else None


def _root(data: Any) -> dict[str, Any]:
    if isinstance(data, list):
        nodes = [node for node in data if isinstance(node, dict)]
        data = next((n for n in nodes if n.get("class") == "system"), nodes[0] if nodes else None)
    if not isinstance(data, dict) or not isinstance(data.get("class"), str) or "id" not in data:
        raise ImportFailed(
            None,
            "this JSON is not the output of 'lshw -json' (no node with 'id' and 'class')",
            code="not_lshw",
        )
    return data


def _model(system: dict[str, Any], brand: str | None) -> str | None:
    product = _text(system.get("product"))
    sku = _text(_config(system).get("sku"))
    if product and sku and product.endswith(f"({sku})"):
        product = product[: -len(sku) - 2].strip() or None  # lshw appends " (SKU)" to the product
    version = _text(system.get("version"))
    if brand and brand.lower() == "lenovo" and version and re.search(r"[A-Za-z]{3}", version):
        return version  # Lenovo puts the type number in product, the name ("ThinkPad T480") in version
    return product


_SSD = re.compile(
    r"\bssd|solid.state|\bflash\b|^(samsung )?mz[7nv]|^ct\d+(mx|bx|p\d)|^sa400|"
    r"^(kingston )?(sa400|suv|sv300|skc)|^hfs\d|^(sk ?hynix )|^mtfd|^ssdsc|^(lite-?on )?(cv|l8h)\d",
    re.IGNORECASE,
)
_HDD = re.compile(
    r"\bhdd\b|hard dis[ck]|^(wdc )?wd\d|^st\d|^hgst|^hts\d|^hitachi|^maxtor|^seagate|"
    r"^(toshiba )?(mq|dt|hdw|mk|al)\d|^(samsung )?(hd|hm|hn)[-\d]",
    re.IGNORECASE,
)


def _disk_type(node: dict[str, Any], parent: dict[str, Any] | None, model: str | None) -> DiskType | None:
    words = " ".join(str(n.get("description", "")) for n in (node, parent or {}))
    device = _logical_name(node) or ""
    if "nvme" in words.lower() or device.startswith("/dev/nvme"):
        return "nvme"
    if "emmc" in f"{words} {model}".lower() or device.startswith("/dev/mmcblk"):
        return "emmc"  # soldered flash of cheap laptops and tablets, slower than an SSD
    if model and _SSD.search(model):
        return "ssd"
    if model and _HDD.search(model):
        return "hdd"
    return None


_NOT_A_DISK = ("cd-rom", "cdrom", "dvd", "blu-ray", "floppy", "cd-r", "cd/dvd")


def _is_fixed_disk(node: dict[str, Any]) -> bool:
    """A disk that stays in the machine: not an optical drive, a card reader or a USB stick."""
    ident = str(node.get("id", "")).lower()
    words = f"{ident} {node.get('description', '')}".lower()
    capabilities = node.get("capabilities")
    capabilities = capabilities if isinstance(capabilities, dict) else {}
    return not (
        ident.startswith(("cdrom", "medium"))
        or "removable" in capabilities
        or any(word in words for word in _NOT_A_DISK)
        or any(word in capabilities for word in ("cd-r", "dvd", "audio"))
    )


def _disks(nodes: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> list[Disk]:
    disks: list[Disk] = []
    with_disk_child: set[int] = set()
    for node, parent in nodes:
        if node.get("class") != "disk" or not _is_fixed_disk(node):
            continue
        # lshw puts an NVMe drive's model and serial on the controller, the size on its namespace
        controller = parent if parent and "nvme" in str(parent.get("description", "")).lower() else {}
        model = _text(node.get("product")) or _text(controller.get("product"))
        serial = _text(node.get("serial")) or _text(controller.get("serial"))
        size = _number(node.get("size")) if node.get("units", "bytes") == "bytes" else None
        if parent is not None:
            with_disk_child.add(id(parent))
        disks.append(
            Disk(
                model,
                serial,
                int(size) if size else None,
                _disk_type(node, parent, model),
                _logical_name(node),
            )
        )
    for node, _parent in nodes:  # older lshw: an NVMe controller and no namespace node
        if (
            node.get("class") == "storage"
            and "nvme" in str(node.get("description", "")).lower()
            and id(node) not in with_disk_child
        ):
            disks.append(
                Disk(_text(node.get("product")), _text(node.get("serial")), None, "nvme", _logical_name(node))
            )
    return disks


def _ram_mb(nodes: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> int | None:
    def size(node: dict[str, Any]) -> float:
        return _number(node.get("size")) or 0.0

    memories = [node for node, _ in nodes if node.get("class") == "memory"]
    system = [n for n in memories if "system memory" in str(n.get("description", "")).lower()]
    total = sum(size(n) for n in system) or sum(
        size(n) for n in memories if str(n.get("id", "")).startswith("bank")
    )
    return int(total // 2**20) if total >= 2**20 else None


def _cpu(nodes: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> str | None:
    for node, _ in nodes:
        empty = node.get("disabled") is True or "[empty]" in str(node.get("description", ""))
        if node.get("class") == "processor" and not empty and (product := _text(node.get("product"))):
            return product
    return None


def _battery_pct(nodes: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> int | None:
    full = design = 0.0
    for node, _ in nodes:
        if node.get("class") != "power":
            continue
        values = {
            **{k.lower(): v for k, v in node.items()},
            **{k.lower(): v for k, v in _config(node).items()},
        }
        for now_key, design_key in (
            ("energy_full", "energy_full_design"),
            ("charge_full", "charge_full_design"),
        ):
            now, new = _number(values.get(now_key)), _number(values.get(design_key))
            if now is not None and new:
                full, design = full + now, design + new
                break
    if design <= 0:
        return None
    return max(0, min(100, round(full / design * 100)))


_SPEED = {"nvme": 0, "ssd": 1, "emmc": 2, "hdd": 3}


def parse_lshw(text: str) -> Hardware:
    """Describe the machine in the output of ``lshw -json`` (object or list form).

    Raises ``ImportFailed`` for text that is not JSON, or JSON that lshw
    did not write.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed(exc.lineno, f"this file is not valid JSON: {exc.msg}", code="bad_json") from exc
    except (ValueError, RecursionError) as exc:
        raise ImportFailed(None, "this file is not valid JSON", code="bad_json") from exc
    root = _root(data)
    nodes = list(_nodes(root))
    system = next((node for node, _ in nodes if node.get("class") == "system"), root)
    chassis = _text(_config(system).get("chassis"))
    brand = _text(system.get("vendor"))
    disks = _disks(nodes)
    sizes = [disk.size_bytes for disk in disks if disk.size_bytes]
    types = sorted({disk.type for disk in disks if disk.type}, key=_SPEED.__getitem__)
    return Hardware(
        category=category_of_chassis(chassis),
        brand=brand,
        model=_model(system, brand),
        serial=_text(system.get("serial")),
        cpu=_cpu(nodes),
        ram_mb=_ram_mb(nodes),
        disks=disks,
        storage_gb=round(sum(sizes) / 10**9) if sizes else None,
        # the fastest disk is the system disk in practice, and what a beneficiary cares about
        storage_type=types[0] if types else None,
        battery_pct=_battery_pct(nodes),
        chassis=chassis,
    )
