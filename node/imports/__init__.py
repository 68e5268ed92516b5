"""Importers: what the workshops already have, read into typed records.

- ``parse_nwipe``: an nwipe / ShredOS erasure log -> ``NwipeLog`` (per-disk ``DiskWipe``).
- ``parse_lshw``: ``lshw -json`` output -> ``Hardware`` (category, CPU, RAM, disks, battery).
- ``parse_probe``: a workshop probe's bundle of raw outputs (smartctl, dmidecode, upower...) -> ``Machine``.
- ``read_sheet`` then ``map_items``: a .csv / .xlsx list of items -> ``MappedItems``.

All of them are pure: text or bytes in, frozen dataclasses out, no database.
A file that cannot be imported raises ``ImportFailed``; nothing else escapes.
"""

from __future__ import annotations

from node.imports.errors import ImportFailed
from node.imports.lshw import Disk, Hardware, parse_lshw
from node.imports.nwipe import DiskWipe, NwipeLog, nist_level, parse_nwipe
from node.imports.probe import Machine, parse_probe
from node.imports.sheet import ItemRow, MappedItems, RowError, Sheet, SheetRow, map_items, read_sheet

__all__ = [
    "Disk",
    "DiskWipe",
    "Hardware",
    "ImportFailed",
    "ItemRow",
    "Machine",
    "MappedItems",
    "NwipeLog",
    "RowError",
    "Sheet",
    "SheetRow",
    "map_items",
    "nist_level",
    "parse_lshw",
    "parse_nwipe",
    "parse_probe",
    "read_sheet",
]
