"""Read what ``maillon-probe`` (or its shell fallback) sent: a tar of raw command outputs.

The bundle is an uncompressed tar (Python's ``tarfile`` on the probe side,
``tar -cf -`` in the shell fallback) of flat file names:

=========================  ==============================================
``probe.json``             the probe's own notes (version, ``item`` tag)
``lshw.json``              ``lshw -json``
``dmidecode.txt``          ``dmidecode``
``dmi-id.txt``             ``name=value`` lines of ``/sys/class/dmi/id/*``
``smartctl-<dev>.json``    ``smartctl --json -a /dev/<dev>``, one per disk
``lsblk.json``             ``lsblk -J -b -d -o NAME,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,RM``
``upower.txt``             ``upower -i`` of each battery
``power_supply-<n>.uevent``  ``/sys/class/power_supply/<n>/uevent``
``meminfo.txt``            ``/proc/meminfo``
``cpuinfo.txt``            ``/proc/cpuinfo``
``edid-<connector>.bin``   ``/sys/class/drm/<connector>/edid`` (the screen's size)
=========================  ==============================================

Every source is optional and read on its own: a broken one becomes a
``Problem`` in the result and the others still count. Sizes are bounded
before anything is read. ``ImportFailed`` only for a bundle that is not a
tar, is too big, or from which nothing at all could be read.
"""

from __future__ import annotations

import io
import json
import math
import re
import tarfile
from dataclasses import dataclass, field, replace
from typing import Any

from node.imports.battery import Battery, health_pct, parse_power_supply, parse_upower
from node.imports.dmidecode import parse_dmidecode
from node.imports.errors import ImportFailed
from node.imports.lshw import DiskType, _text, category_of_chassis, parse_lshw
from node.imports.smartctl import parse_smartctl

__all__ = ["MAX_BUNDLE", "MAX_MEMBER", "MAX_MEMBERS", "Machine", "ProbedDisk", "Problem", "read_bundle",
           "describe_machine", "parse_probe"]  # fmt: skip

MAX_BUNDLE = 16 * 1024 * 1024
MAX_MEMBER = 4 * 1024 * 1024
MAX_MEMBERS = 200
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


@dataclass(frozen=True)
class Problem:
    """A source that could not be read; the others still count."""

    source: str
    code: str
    message: str


@dataclass(frozen=True)
class ProbedDisk:
    device: str | None
    model: str | None
    serial: str | None
    size_bytes: int | None
    type: DiskType | None
    power_on_hours: int | None = None
    reallocated: int | None = None
    passed: bool | None = None


@dataclass(frozen=True)
class Machine:
    """The machine on the bench, from every source the probe sent."""

    category: str
    brand: str | None
    model: str | None
    serial: str | None
    cpu: str | None
    ram_mb: int | None
    disks: list[ProbedDisk]
    storage_gb: int | None
    storage_type: DiskType | None
    battery_pct: int | None
    screen_in10: int | None
    chassis: str | None
    item_tag: str | None = None
    sources: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_bundle(data: bytes) -> dict[str, bytes]:
    """The files of a probe bundle by name; ``ImportFailed`` for anything but a bounded, flat tar."""
    if len(data) > MAX_BUNDLE:
        raise ImportFailed(None, f"a probe bundle is at most {MAX_BUNDLE // 2**20} MB", code="too_large")
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for count, member in enumerate(tar):
                if count >= MAX_MEMBERS:
                    raise ImportFailed(None, f"a probe bundle holds at most {MAX_MEMBERS} files", code="too_many_files")
                if not member.isfile():
                    continue
                name = member.name.removeprefix("./")
                if not _NAME.match(name):
                    continue  # a sub-directory or a strange name: not something the probe writes
                if member.size > MAX_MEMBER:
                    raise ImportFailed(None, f"{name} is larger than {MAX_MEMBER // 2**20} MB", code="too_large")
                handle = tar.extractfile(member)
                files[name] = handle.read(MAX_MEMBER + 1) if handle else b""
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ImportFailed(None, f"this is not a probe bundle (tar): {exc}", code="not_a_bundle") from exc
    if not files:
        raise ImportFailed(None, "the probe bundle is empty", code="empty_bundle")
    return files


# SMBIOS chassis type numbers (/sys/class/dmi/id/chassis_type), as dmidecode names them.
_CHASSIS_TYPES = {3: "desktop", 4: "low-profile", 5: "pizzabox", 6: "mini-tower", 7: "tower", 8: "portable",
                  9: "laptop", 10: "notebook", 11: "handheld", 13: "all-in-one", 14: "sub-notebook",
                  15: "space-saving", 16: "lunchbox", 17: "server", 23: "rackmount", 30: "tablet",
                  31: "convertible", 32: "detachable", 35: "mini", 36: "stick"}  # fmt: skip
_INTERNAL_SCREEN = ("edp", "lvds", "dsi")


def _dmi_id(text: str) -> dict[str, str | None]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = _text(value)
    return values


def _screen_in10(edid: bytes) -> int | None:
    """The diagonal in tenths of an inch from an EDID block (detailed timing size, else the cm fields)."""
    if len(edid) < 128 or edid[:8] != b"\x00\xff\xff\xff\xff\xff\xff\x00":
        return None
    width, height = edid[66] | (edid[68] & 0xF0) << 4, edid[67] | (edid[68] & 0x0F) << 8
    if not (edid[54] or edid[55]) or not width or not height:
        width, height = edid[21] * 10, edid[22] * 10
    inches = math.hypot(width, height) / 25.4
    return round(inches * 10) if 5 <= inches <= 100 else None


def _meminfo_mb(text: str) -> int | None:
    match = re.search(r"^MemTotal:\s+(\d{1,12})\s*kB", text, re.MULTILINE)
    if not match:
        return None
    # The kernel keeps some memory for itself: round up to what was installed (a multiple of 512 MB).
    return math.ceil(int(match[1]) / 1024 / 512) * 512 or None


def _cpuinfo(text: str) -> str | None:
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return _text(match[1]) if match else None


def _lsblk(text: str) -> list[ProbedDisk]:
    data = json.loads(text)
    devices = data.get("blockdevices") if isinstance(data, dict) else None
    if not isinstance(devices, list):
        raise ValueError("no blockdevices")
    disks = []
    for dev in devices:
        if not isinstance(dev, dict) or dev.get("type") != "disk" or dev.get("rm") in (True, "1", 1):
            continue
        name = str(dev.get("name", ""))
        if str(dev.get("tran") or "").lower() == "usb" or name.startswith(("loop", "zram", "sr", "ram")):
            continue  # the live USB stick itself, and what is not a disk of the machine
        size = dev.get("size")
        rota = dev.get("rota")
        kind: DiskType | None = "nvme" if name.startswith("nvme") else "emmc" if name.startswith("mmcblk") else (
            None if rota is None else "hdd" if rota in (True, "1", 1) else "ssd")  # fmt: skip
        disks.append(ProbedDisk(f"/dev/{name}" if name else None, _text(dev.get("model")), _text(dev.get("serial")),
                                size if isinstance(size, int) and size > 0 else None, kind))  # fmt: skip
    return disks


def _merge_disks(groups: list[list[ProbedDisk]]) -> list[ProbedDisk]:
    """Disks of every source, one per physical disk: the same serial (or, without one, device) is merged."""
    merged: list[ProbedDisk] = []
    for group in groups:
        for disk in group:
            key = (disk.serial or "").lower()
            same = next((d for d in merged if (key and (d.serial or "").lower() == key)
                         or (not key and disk.device and d.device == disk.device)), None)  # fmt: skip
            if same is None:
                merged.append(disk)
                continue
            filled = {f: getattr(disk, f) for f in ProbedDisk.__dataclass_fields__ if getattr(same, f) is None}
            merged[merged.index(same)] = replace(same, **{k: v for k, v in filled.items() if v is not None})
    return merged


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


_SPEED = {"nvme": 0, "ssd": 1, "emmc": 2, "hdd": 3}


def describe_machine(files: dict[str, bytes]) -> Machine:
    """The machine the files describe; never raises for a broken source (see ``Machine.problems``)."""
    problems: list[Problem] = []
    sources: list[str] = []

    def read(name: str, parser: Any) -> Any:
        try:
            result = parser(files[name].decode("utf-8", errors="replace"))
        except ImportFailed as exc:
            problems.append(Problem(name, exc.code, exc.message))
            return None
        except (ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
            problems.append(Problem(name, "unreadable", f"{type(exc).__name__}: {str(exc)[:200]}"))
            return None
        sources.append(name)
        return result

    def each(prefix: str, suffix: str) -> list[str]:
        return sorted(n for n in files if n.startswith(prefix) and n.endswith(suffix))

    meta = read("probe.json", json.loads) if "probe.json" in files else None
    lshw = read("lshw.json", parse_lshw) if "lshw.json" in files else None
    dmi = read("dmidecode.txt", parse_dmidecode) if "dmidecode.txt" in files else None
    dmi_id = read("dmi-id.txt", _dmi_id) if "dmi-id.txt" in files else None
    smart = [d for d in (read(n, parse_smartctl) for n in each("smartctl-", ".json")) if d is not None]
    lsblk = read("lsblk.json", _lsblk) if "lsblk.json" in files else None
    batteries: list[Battery] = []
    if "upower.txt" in files:
        batteries = read("upower.txt", parse_upower) or []
    if not batteries:
        batteries = [b for b in (read(n, parse_power_supply) for n in each("power_supply-", ".uevent")) if b]
    ram = _meminfo_mb(files["meminfo.txt"].decode("ascii", "replace")) if "meminfo.txt" in files else None
    cpu = _cpuinfo(files["cpuinfo.txt"].decode("utf-8", "replace")) if "cpuinfo.txt" in files else None
    internal = [n for n in each("edid-", ".bin") if any(w in n.lower() for w in _INTERNAL_SCREEN)]
    screens = {n: _screen_in10(files[n]) for n in internal}
    sources += [name for name, value in (("meminfo.txt", ram), ("cpuinfo.txt", cpu), *screens.items()) if value]

    ident = dmi_id or {}
    chassis_number = ident.get("chassis_type")
    id_chassis = _CHASSIS_TYPES.get(int(chassis_number)) if chassis_number and chassis_number.isdigit() else None
    brand = _first(dmi and dmi.brand, ident.get("sys_vendor"), lshw and lshw.brand)
    model = _first(dmi and dmi.model, lshw and lshw.model)
    if model is None and ident.get("product_name"):
        model = (ident.get("product_version") if (brand or "").lower() == "lenovo" else None) or ident["product_name"]
    chassis = _first(dmi and dmi.chassis, id_chassis, lshw and lshw.chassis)
    category = category_of_chassis(chassis)
    battery = health_pct(batteries) if batteries else (lshw.battery_pct if lshw else None)
    if category == "other" and batteries:
        category = "laptop"  # a battery and no chassis word: a laptop in the workshops' experience
    disks = _merge_disks([
        [ProbedDisk(d.device, d.model, d.serial, d.size_bytes, d.type, d.power_on_hours, d.reallocated, d.passed)
         for d in smart],
        [ProbedDisk(d.device, d.model, d.serial, d.size_bytes, d.type) for d in (lshw.disks if lshw else [])],
        lsblk or [],
    ])  # fmt: skip
    sizes = [d.size_bytes for d in disks if d.size_bytes]
    types = sorted({d.type for d in disks if d.type}, key=_SPEED.__getitem__)
    machine = Machine(
        category=category, brand=brand, model=model,
        serial=_first(dmi and dmi.serial, ident.get("product_serial"), lshw and lshw.serial),
        cpu=_first(dmi and dmi.cpu, lshw and lshw.cpu, cpu),
        ram_mb=_first(dmi and dmi.ram_mb, lshw and lshw.ram_mb, ram),
        disks=disks, storage_gb=round(sum(sizes) / 10**9) if sizes else None,
        storage_type=types[0] if types else None, battery_pct=battery,
        screen_in10=next((s for s in screens.values() if s), None), chassis=chassis,
        item_tag=_text(meta.get("item")) if isinstance(meta, dict) else None,
        sources=sources, problems=problems,
    )  # fmt: skip
    return machine


def parse_probe(data: bytes) -> Machine:
    """Read a bundle and describe its machine; ``ImportFailed`` when nothing in it could be read."""
    machine = describe_machine(read_bundle(data))
    known = (machine.serial, machine.brand, machine.model, machine.cpu, machine.ram_mb, machine.battery_pct)
    if all(v is None for v in known) and not machine.disks:
        details = "; ".join(f"{p.source}: {p.message}" for p in machine.problems[:5])
        raise ImportFailed(None, "nothing in this bundle describes a machine" + (f" ({details})" if details else ""),
                           code="nothing_usable")  # fmt: skip
    return machine
