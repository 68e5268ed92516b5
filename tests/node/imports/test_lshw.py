"""lshw -json: the real VM sample, a laptop, a desktop, broken files, and every rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.imports.errors import ImportFailed
from node.imports.lshw import CATEGORIES, Disk, category_of_chassis, parse_lshw

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def system(children: list[dict[str, Any]] | None = None, **fields: Any) -> str:
    """A minimal lshw tree, as JSON text."""
    return json.dumps({"id": "pc", "class": "system", **fields, "children": children or []})


def test_virtual_machine_sample_has_no_chassis_and_no_serials() -> None:
    hw = parse_lshw(read("lshw-virtual-machine.json"))
    assert hw.category == "other"
    assert (hw.brand, hw.model, hw.serial, hw.chassis) == (None, None, None, None)
    assert hw.cpu == "Intel(R) Xeon(R) Processor"
    assert hw.ram_mb == 24 * 1024
    assert hw.disks == [Disk(model=None, serial=None, size_bytes=None, type=None, device="/dev/vda")]
    assert (hw.storage_gb, hw.storage_type, hw.battery_pct, hw.screen) == (None, None, None, None)


def test_list_form_reads_like_the_object_form() -> None:
    text = read("lshw-virtual-machine.json")
    assert parse_lshw(f"[{text}]") == parse_lshw(text)


def test_laptop_in_list_form_with_nvme() -> None:
    hw = parse_lshw(read("lshw-laptop-list.json"))
    assert (hw.category, hw.chassis) == ("laptop", "notebook")
    assert (hw.brand, hw.model, hw.serial) == (
        "Dell Inc.",
        "Latitude 5490",
        "7XKQ2R2",
    )  # " (0817)" is the SKU
    assert hw.cpu == "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz"
    assert hw.ram_mb == 8192
    # the namespace holds the size, its controller the model and serial; the USB stick is left out
    assert hw.disks == [
        Disk("PC401 NVMe SK hynix 256GB", "EJ84N612345604R3K", 256060514304, "nvme", "/dev/nvme0n1")
    ]
    assert (hw.storage_gb, hw.storage_type) == (256, "nvme")
    assert hw.battery_pct is None  # lshw alone gives the design capacity only


def test_thinkpad_model_from_version_and_battery_health() -> None:
    hw = parse_lshw(read("lshw-thinkpad-battery.json"))
    assert (hw.brand, hw.model, hw.serial) == ("LENOVO", "ThinkPad T480", "PF1ABCDE")
    assert hw.ram_mb == 16384
    assert hw.disks[0].type == "ssd"
    # two batteries: (19.85 + 14.20) / (24.05 + 23.94) Wh
    assert hw.battery_pct == 71


def test_white_box_desktop() -> None:
    hw = parse_lshw(read("lshw-whitebox-desktop.json"))
    assert hw.category == "desktop"
    assert (hw.brand, hw.model, hw.serial) == (None, None, None)  # "System manufacturer"...
    assert hw.cpu == "Intel(R) Pentium(R) CPU G4400 @ 3.30GHz"  # the empty socket is skipped
    assert hw.ram_mb == 4096  # the L1 cache is not RAM
    assert [(d.model, d.type) for d in hw.disks] == [("WDC WD10EZEX-08W", "hdd")]  # no DVD writer
    assert (hw.storage_gb, hw.storage_type) == (1000, "hdd")


@pytest.mark.parametrize(
    ("chassis", "category"),
    [
        ("desktop", "desktop"),
        ("tower", "desktop"),
        ("mini-tower", "desktop"),
        ("low-profile", "desktop"),
        ("all-in-one", "desktop"),
        ("space-saving", "desktop"),
        ("pizzabox", "desktop"),
        ("mini", "desktop"),
        ("laptop", "laptop"),
        ("notebook", "laptop"),
        ("portable", "laptop"),
        ("convertible", "laptop"),
        ("sub-notebook", "laptop"),
        ("Notebook", "laptop"),
        ("Mini Tower", "desktop"),
        ("tablet", "tablet"),
        ("server", "server"),
        ("rackmount", "server"),
        ("rack", "server"),
        ("blade", "server"),
        ("docking", "other"),
        ("expansion", "other"),
        ("", "other"),
        (None, "other"),
        ("spaceship", "other"),
    ],
)
def test_category_from_chassis(chassis: str | None, category: str) -> None:
    assert category_of_chassis(chassis) == category
    config = {"chassis": chassis} if chassis is not None else {}
    assert parse_lshw(system(configuration=config)).category == category
    assert category in CATEGORIES


@pytest.mark.parametrize(
    "serial",
    [
        "0",
        "To be filled by O.E.M.",
        "TO BE FILLED BY O.E.M.",
        "Not Specified",
        "System Serial Number",
        "Default string",
        "default STRING",
        "0123456789",
        "00000000",
        "FFFFFFFF",
        "XXXXXXXXXX",
        "  ",
        "",
        None,
        0,
        True,
        ["x"],
    ],
)
def test_placeholder_serials_are_none(serial: Any) -> None:
    assert parse_lshw(system(serial=serial)).serial is None


def test_real_serial_is_kept() -> None:
    assert parse_lshw(system(serial=" 5CG 9281ABC ")).serial == "5CG 9281ABC"


def battery(**values: Any) -> dict[str, Any]:
    return {"id": "battery", "class": "power", **values}


@pytest.mark.parametrize(
    ("node", "pct"),
    [
        (battery(configuration={"energy_full": "40000000", "energy_full_design": "50000000"}), 80),
        (battery(energy_full=60, energy_full_design=50), 100),  # a fresh battery can read above design
        (battery(energy_full=0, energy_full_design=50), 0),
        (battery(energy_full=10, energy_full_design=0), None),
        (battery(charge_full=2000, charge_full_design=4000), 50),
        (battery(capacity=42000, units="mWh"), None),
        (battery(energy_full="lots", energy_full_design="more"), None),
    ],
)
def test_battery_health(node: dict[str, Any], pct: int | None) -> None:
    assert parse_lshw(system([node])).battery_pct == pct


@pytest.mark.parametrize(
    ("product", "description", "kind"),
    [
        ("Samsung SSD 860", "ATA Disk", "ssd"),
        ("KINGSTON SA400S37240G", "ATA Disk", "ssd"),
        ("CT500MX500SSD1", "ATA Disk", "ssd"),
        ("ST500LM012 HN-M500MBB", "ATA Disk", "hdd"),
        ("WDC WD10EZEX-08W", "ATA Disk", "hdd"),
        ("TOSHIBA MQ01ABD100", "ATA Disk", "hdd"),
        ("HGST HTS545050A7", "ATA Disk", "hdd"),
        ("Mystery 3000", "ATA Disk", None),
        ("Something", "NVMe disk", "nvme"),
        ("SanDisk DA4064", "eMMC disk", "emmc"),
    ],
)
def test_disk_type(product: str, description: str, kind: str | None) -> None:
    disk = {"id": "disk", "class": "disk", "product": product, "description": description, "size": 10**9}
    assert parse_lshw(system([disk])).disks[0].type == kind


def test_storage_total_and_fastest_type() -> None:
    disks = [
        {"id": "disk:0", "class": "disk", "product": "WDC WD10EZEX", "size": 10**12},
        {"id": "disk:1", "class": "disk", "product": "Samsung SSD 870", "size": 250 * 10**9},
    ]
    hw = parse_lshw(system(disks))
    assert (hw.storage_gb, hw.storage_type) == (1250, "ssd")


def test_emmc_by_device_name() -> None:
    disk = {"id": "disk", "class": "disk", "logicalname": "/dev/mmcblk0", "size": 64 * 10**9}
    assert parse_lshw(system([disk])).storage_type == "emmc"


def test_nvme_controller_without_namespace_node() -> None:
    controller = {
        "id": "nvme",
        "class": "storage",
        "description": "NVMe device",
        "product": "PM981",
        "serial": "S1",
    }
    assert parse_lshw(system([controller])).disks == [Disk("PM981", "S1", None, "nvme", None)]


def test_ram_from_banks_when_no_system_memory_node() -> None:
    banks = [{"id": f"bank:{i}", "class": "memory", "size": 2 * 2**30} for i in range(2)]
    assert parse_lshw(system([{"id": "memory", "class": "memory", "children": banks}])).ram_mb == 4096


def test_odd_values_never_crash() -> None:
    weird = [
        {"id": "disk", "class": "disk", "size": "big", "product": 12, "logicalname": [3, None]},
        {"id": "disk:1", "class": "disk", "size": -5, "product": "Ghost"},
        {"id": "cpu", "class": "processor", "product": ["x"]},
        {"id": "memory", "class": "memory", "description": "System memory", "size": -5},
        "not a node",
        None,
        7,
    ]
    hw = parse_lshw(
        json.dumps(
            {
                "id": "x",
                "class": "system",
                "configuration": [],
                "children": weird,
                "vendor": {"a": 1},
                "product": 3.5,
            }
        )
    )
    assert hw.disks == [Disk("12", None, None, None, None), Disk("Ghost", None, None, None, None)]
    assert (hw.cpu, hw.ram_mb, hw.brand, hw.model, hw.category) == (None, None, None, None, "other")


def test_lists_without_a_system_node_take_the_first_node() -> None:
    assert parse_lshw(json.dumps([{"id": "core", "class": "bus"}])).category == "other"


# --- files that cannot be imported ---------------------------------------


def test_truncated_json() -> None:
    with pytest.raises(ImportFailed) as caught:
        parse_lshw(read("lshw-truncated.json"))
    assert caught.value.code == "bad_json"
    assert caught.value.line == 2  # the file ends, on line 2, in the middle of an object


@pytest.mark.parametrize("text", ["", "   ", "lshw: command not found", "{'id': 'x'}", "[" * 100_000, "NaN]"])
def test_not_json(text: str) -> None:
    with pytest.raises(ImportFailed) as caught:
        parse_lshw(text)
    assert caught.value.code == "bad_json"


@pytest.mark.parametrize(
    "text",
    [
        read("smartctl-not-lshw.json"),
        "[]",
        "{}",
        "null",
        "42",
        '"lshw"',
        "[1, 2]",
        '{"class": "system"}',
        '{"id": "x", "class": 3}',
    ],
)
def test_json_that_is_not_lshw(text: str) -> None:
    with pytest.raises(ImportFailed) as caught:
        parse_lshw(text)
    assert caught.value.code == "not_lshw"
    assert "lshw" in caught.value.message


# --- whatever the input, only ImportFailed -------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_raises_only_import_failed(text: str) -> None:
    try:
        parse_lshw(text)
    except ImportFailed:
        pass


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "system",
            "disk",
            "power",
            "memory",
            "processor",
            "storage",
            "bytes",
            "notebook",
            "NVMe disk",
            "System Memory",
            "energy_full",
        ]
    ),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "class",
                    "children",
                    "size",
                    "product",
                    "serial",
                    "vendor",
                    "configuration",
                    "description",
                    "logicalname",
                    "units",
                    "chassis",
                    "energy_full",
                    "energy_full_design",
                    "capabilities",
                    "version",
                ]
            ),
            inner,
            max_size=8,
        ),
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_random_lshw_like_json_raises_only_import_failed(data: Any) -> None:
    try:
        hw = parse_lshw(json.dumps(data))
    except ImportFailed:
        return
    assert hw.category in CATEGORIES
    assert hw.battery_pct is None or 0 <= hw.battery_pct <= 100
