"""Read the machine's identity, processor and memory from ``dmidecode``'s text output.

dmidecode prints blocks: a ``Handle ..., DMI type N`` line, a title, then
tab-indented ``Key: Value`` lines. Firmware leaves placeholders
("To Be Filled By O.E.M.", "Not Specified"); those read as missing. A
block cut short (a truncated file) keeps what it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from node.imports.errors import ImportFailed
from node.imports.lshw import _text, category_of_chassis

__all__ = ["Dmi", "parse_dmidecode"]

_HANDLE = re.compile(r"^Handle 0x[0-9A-Fa-f]+, DMI type (\d+)")
_SIZE = re.compile(r"^(\d{1,9})\s*(kB|KB|MB|GB|TB)\b")
_UNITS = {"kB": 1 / 1024, "KB": 1 / 1024, "MB": 1, "GB": 1024, "TB": 1024 * 1024}


@dataclass(frozen=True)
class Dmi:
    brand: str | None
    model: str | None
    serial: str | None
    chassis: str | None  # dmidecode's word ("Notebook", "Mini Tower"), lower case
    category: str
    cpu: str | None
    ram_mb: int | None


def _blocks(text: str) -> list[tuple[int, dict[str, str]]]:
    blocks: list[tuple[int, dict[str, str]]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if match := _HANDLE.match(line):
            current = {}
            blocks.append((int(match[1]), current))
        elif current is not None and line.startswith("\t") and not line.startswith("\t\t") and ":" in line:
            key, _, value = line.strip().partition(":")
            current.setdefault(key.strip(), value.strip()[:500])
    return blocks


def _model(brand: str | None, product: str | None, version: str | None) -> str | None:
    if brand and brand.lower() == "lenovo" and version and re.search(r"[A-Za-z]{3}", version):
        return version  # Lenovo: the type number in Product Name, "ThinkPad T480" in Version
    if brand and product and product.lower().startswith(brand.lower() + " "):
        return product[len(brand) + 1 :]  # "HP EliteBook 840 G5" by HP
    return product


def parse_dmidecode(text: str) -> Dmi:
    """The machine in ``dmidecode`` output; ``ImportFailed`` when the text holds no DMI block."""
    blocks = _blocks(text)
    if not blocks:
        reason = text.strip().splitlines()[0][:200] if text.strip() else "empty output"
        raise ImportFailed(None, f"this is not dmidecode output ({reason})", code="not_dmidecode")
    system = next((b for t, b in blocks if t == 1), {})
    chassis_block = next((b for t, b in blocks if t == 3), {})
    brand = _text(system.get("Manufacturer"))
    chassis = _text(chassis_block.get("Type"))
    cpu = next((_text(b.get("Version")) for t, b in blocks if t == 4 and _text(b.get("Version"))), None)
    total = 0.0
    for kind, block in blocks:
        if kind == 17 and (match := _SIZE.match(block.get("Size", ""))):
            total += int(match[1]) * _UNITS[match[2]]
    return Dmi(
        brand=brand,
        model=_model(brand, _text(system.get("Product Name")), _text(system.get("Version"))),
        serial=_text(system.get("Serial Number")) or _text(chassis_block.get("Serial Number")),
        chassis=chassis.lower() if chassis else None,
        category=category_of_chassis(chassis),
        cpu=cpu,
        ram_mb=int(total) or None,
    )
