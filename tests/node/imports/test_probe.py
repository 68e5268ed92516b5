"""The workshop probe's sources: smartctl, dmidecode, upower, power_supply, and the bundle that carries them."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from node.imports import ImportFailed
from node.imports.battery import parse_power_supply, parse_upower
from node.imports.dmidecode import parse_dmidecode
from node.imports.probe import MAX_MEMBERS, describe_machine, parse_probe, read_bundle
from node.imports.smartctl import parse_smartctl

STATION = Path(__file__).parent / "fixtures" / "station"
BROKEN = STATION / "broken"


def bundle_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def machine_dir(name: str) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in (STATION / name).iterdir()}


EXPECTED = {
    # machine: category, brand, model, serial, cpu, ram_mb, storage_gb, storage_type, battery_pct, screen_in10
    "dell-latitude-5490": ("laptop", "Dell Inc.", "Latitude 5490", "7XK2QK2", "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz",
                           8192, 256, "ssd", 72, 140),
    "dell-optiplex-7050": ("desktop", "Dell Inc.", "OptiPlex 7050", "9GTR4L2", "Intel(R) Core(TM) i5-7500 CPU @ 3.40GHz",
                           8192, 500, "hdd", None, None),
    "lenovo-thinkpad-t480": ("laptop", "LENOVO", "ThinkPad T480", "PF1KZ3XY", "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz",
                             16384, 256, "nvme", 78, 139),
    "lenovo-thinkcentre-m710q": ("desktop", "LENOVO", "ThinkCentre M710q", "MJ07ABCD",
                                 "Intel(R) Core(TM) i3-7100T CPU @ 3.40GHz", 4096, 128, "ssd", None, None),
    "hp-elitebook-840-g5": ("laptop", "HP", "EliteBook 840 G5", "5CG8331XYZ", "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz",
                            8192, 256, "nvme", 38, 140),
    "hp-prodesk-600-g3": ("desktop", "HP", "ProDesk 600 G3 SFF", "CZC7308ABC", "Intel(R) Core(TM) i3-7100 CPU @ 3.90GHz",
                          4096, 500, "hdd", None, None),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_machine_of_the_workshops_is_described(name):
    machine = parse_probe(bundle_of(machine_dir(name)))
    got = (machine.category, machine.brand, machine.model, machine.serial, machine.cpu, machine.ram_mb,
           machine.storage_gb, machine.storage_type, machine.battery_pct, machine.screen_in10)  # fmt: skip
    assert got == EXPECTED[name]
    assert not machine.problems
    assert machine.disks and all(d.serial and d.power_on_hours for d in machine.disks)


def test_disk_health_from_ata_and_nvme():
    worn = parse_smartctl((STATION / "hp-prodesk-600-g3" / "smartctl-sda.json").read_text())
    assert (worn.serial, worn.type, worn.power_on_hours, worn.reallocated, worn.passed) == (
        "76AKG1ABCDE", "hdd", 41877, 1544, False)
    nvme = parse_smartctl((STATION / "lenovo-thinkpad-t480" / "smartctl-nvme0.json").read_text())
    assert (nvme.device, nvme.type, nvme.power_on_hours, nvme.reallocated, nvme.passed) == (
        "/dev/nvme0", "nvme", 6120, 0, True)


@pytest.mark.parametrize(("fixture", "code"), [("smartctl-truncated.json", "bad_json"),
                                               ("smartctl-no-device.json", "no_disk"), ("garbage.json", "bad_json"),
                                               ("not-a-tar.txt", "bad_json")])  # fmt: skip
def test_broken_smartctl_is_refused_with_its_reason(fixture, code):
    with pytest.raises(ImportFailed) as refused:
        parse_smartctl((BROKEN / fixture).read_bytes().decode("utf-8", "replace"))
    assert refused.value.code == code
    if fixture == "smartctl-no-device.json":
        assert "Unknown USB bridge" in refused.value.message


def test_dmidecode_partial_and_placeholder_outputs():
    with pytest.raises(ImportFailed) as refused:
        parse_dmidecode((BROKEN / "dmidecode-no-smbios.txt").read_text())
    assert refused.value.code == "not_dmidecode"
    cut = parse_dmidecode((BROKEN / "dmidecode-truncated.txt").read_text())
    assert (cut.brand, cut.model, cut.serial) == ("HP", "EliteBook 840 G5", "5CG8331XYZ")
    assert cut.cpu is None and cut.ram_mb is None  # the blocks after the cut are missing, not invented
    whitebox = parse_dmidecode((BROKEN / "dmidecode-whitebox.txt").read_text())
    assert (whitebox.brand, whitebox.model, whitebox.serial, whitebox.category, whitebox.ram_mb) == (
        None, None, None, "desktop", 2048)


def test_battery_sources():
    assert parse_upower((BROKEN / "upower-no-battery.txt").read_text()) == []
    assert parse_upower((BROKEN / "upower-design-zero.txt").read_text()) == []
    assert parse_power_supply((BROKEN / "power_supply-charge.uevent").read_text()).health_pct == 75
    assert parse_power_supply((STATION / "lenovo-thinkpad-t480" / "power_supply-AC.uevent").read_text()) is None
    with pytest.raises(ImportFailed):
        parse_upower("garbage")
    with pytest.raises(ImportFailed):
        parse_power_supply("garbage")


def test_a_broken_source_is_a_problem_and_the_others_still_count():
    files = machine_dir("dell-latitude-5490")
    files["smartctl-sdb.json"] = (BROKEN / "smartctl-no-device.json").read_bytes()
    files["upower.txt"] = (BROKEN / "garbage.bin").read_bytes()
    files["lshw.json"] = b'{"id": "cut'
    machine = describe_machine(files)
    assert machine.serial == "7XK2QK2" and len(machine.disks) == 1
    assert machine.battery_pct is None
    assert {p.source for p in machine.problems} == {"smartctl-sdb.json", "upower.txt", "lshw.json"}


def test_fallbacks_without_dmidecode_nor_smartctl():
    files = {
        "dmi-id.txt": b"sys_vendor=LENOVO\nproduct_name=20L5CTO1WW\nproduct_version=ThinkPad T480\n"
                      b"product_serial=PF1KZ3XY\nchassis_type=10\n",
        "meminfo.txt": b"MemTotal:        7917604 kB\nMemFree:         6012345 kB\n",
        "cpuinfo.txt": b"processor\t: 0\nmodel name\t: Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz\n",
        "lsblk.json": b'{"blockdevices": [{"name": "sda", "type": "disk", "size": 256060514304, "model": "SAMSUNG MZ7LN256",'
                      b' "serial": "S3T1", "rota": false, "tran": "sata", "rm": false}, {"name": "sdb", "type": "disk",'
                      b' "size": 16000000000, "model": "Cruzer", "serial": "4C53", "rota": false, "tran": "usb", "rm": true}]}',
        "power_supply-BAT0.uevent": (BROKEN / "power_supply-charge.uevent").read_bytes(),
    }  # fmt: skip
    machine = parse_probe(bundle_of(files))
    assert (machine.brand, machine.model, machine.serial, machine.category) == ("LENOVO", "ThinkPad T480", "PF1KZ3XY", "laptop")
    assert (machine.ram_mb, machine.storage_gb, machine.storage_type, machine.battery_pct) == (8192, 256, "ssd", 75)
    assert [d.serial for d in machine.disks] == ["S3T1"]  # the live USB stick is not the machine's disk


def test_the_shell_fallback_layout_and_unknown_files_are_read():
    files = {f"./{name}": data for name, data in machine_dir("dell-optiplex-7050").items()}
    files["./notes/deeper.txt"] = b"ignored"
    assert parse_probe(bundle_of(files)).serial == "9GTR4L2"


@pytest.mark.parametrize("data", [b"", b"not a tar" * 100, (BROKEN / "garbage.bin").read_bytes()])
def test_not_a_bundle(data):
    with pytest.raises(ImportFailed) as refused:
        read_bundle(data)
    assert refused.value.code in ("not_a_bundle", "empty_bundle")


def test_bounds():
    with pytest.raises(ImportFailed) as refused:
        read_bundle(bundle_of({f"f{n}.txt": b"x" for n in range(MAX_MEMBERS + 1)}))
    assert refused.value.code == "too_many_files"
    header = tarfile.TarInfo("dmidecode.txt")
    header.size = 5 * 2**20
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        tar.addfile(header, io.BytesIO(b"\0" * header.size))
    with pytest.raises(ImportFailed) as refused:
        read_bundle(out.getvalue())
    assert refused.value.code == "too_large"


def test_nothing_usable_is_refused():
    with pytest.raises(ImportFailed) as refused:
        parse_probe(bundle_of({"dmidecode.txt": (BROKEN / "dmidecode-no-smbios.txt").read_bytes()}))
    assert refused.value.code == "nothing_usable" and "dmidecode.txt" in refused.value.message


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SOURCES = ["lshw.json", "dmidecode.txt", "dmi-id.txt", "smartctl-sda.json", "lsblk.json", "upower.txt",
           "power_supply-BAT0.uevent", "meminfo.txt", "cpuinfo.txt", "edid-card0-eDP-1.bin", "probe.json"]  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(SOURCES), st.binary(max_size=600), max_size=len(SOURCES)))
def test_any_bytes_in_any_source_never_escape_as_an_error(files):
    machine = describe_machine(files)
    assert machine.battery_pct is None or 0 <= machine.battery_pct <= 100


@settings(max_examples=300, deadline=None)
@given(JSON, st.sampled_from(["smartctl-sda.json", "lshw.json", "lsblk.json", "probe.json"]))
def test_any_json_in_a_json_source_is_read_or_reported(value, name):
    import json

    base = json.loads((STATION / "dell-latitude-5490" / "smartctl-sda.json").read_text())
    for data in (value, {**base, "smart_status": value, "power_on_time": value, "user_capacity": value}):
        machine = describe_machine({name: json.dumps(data).encode()})
        assert all(d.size_bytes is None or d.size_bytes > 0 for d in machine.disks)
