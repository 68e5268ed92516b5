"""nwipe / ShredOS logs: the real sample, broken variants, and every rule."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.errors import NodeError
from node.imports.errors import ImportFailed
from node.imports.nwipe import nist_level, parse_nwipe, parse_size

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def ms(text: str, tz: timezone = UTC) -> int:
    return int(datetime.strptime(text, "%Y/%m/%d %H:%M:%S").replace(tzinfo=tz).timestamp() * 1000)


def one_disk(**lines: str) -> str:
    """A minimal, complete log for /dev/sda; keyword arguments replace its parts."""
    parts = {
        "found": "[2024/01/01 10:00:00]  notice: Found /dev/sda, ATA, WDC WD5000AAKX-0, 500 GB, S/N=WD-1",
        "options": "[2024/01/01 10:00:00]  notice:   method   = Fill With Zeros",
        "invoke": "[2024/01/01 10:00:01]  notice: Invoking method 'Fill With Zeros' on /dev/sda",
        "finish": "[2024/01/01 11:00:01]  notice: Finished final round 1 of 1 on /dev/sda",
        "errors": "       sda |           0 |                    0 |                    0",
        "status": "       sda | Erased | 120 MB/s | 01:00:00 | WDC WD5000AAKX-0/WD-1",
    }
    parts.update(lines)
    return "\n".join(
        [
            parts["found"],
            parts["options"],
            parts["invoke"],
            parts["finish"],
            "",
            "******************************** Error Summary *********************************",
            r"!   Device | Pass Errors | Verifications Errors | Fdatasync I\O Errors",
            "-" * 80,
            parts["errors"],
            "*" * 80,
            "",
            "********************************* Drive Status *********************************",
            "!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number",
            "-" * 80,
            parts["status"],
            "-" * 80,
            "[2024/01/01 11:00:02] Total Throughput 120 MB/s, Fill With Zeros, 1R+B+VL",
            "*" * 80,
        ]
    )


# --- the real sample ------------------------------------------------------


def test_real_shredos_sample_machine_and_options() -> None:
    log = parse_nwipe(read("nwipe-shredos-example.log"))
    assert (log.system_serial, log.system_manufacturer, log.system_product) == (
        "3FBJ6P2",
        "Dell Inc.",
        "Vostro 5581",
    )
    assert log.system_uuid == "4c4c4544-0046-4210-804a-b3c04f365032"
    assert log.chassis_type == "Notebook"
    assert log.banner == "ShredOS v2021.08.2_22_x86-64_0.32.023"
    assert log.nwipe_version == "0.32.023"
    assert (log.method, log.level, log.verify, log.rounds, log.prng) == (
        "Fill With Zeros",
        "clear",
        "last",
        1,
        "Isaac64",
    )
    assert log.blank is False  # "do not perform a final blank pass", and NB in the footer
    assert log.complete is True
    assert log.started == ms("2023/01/24 13:35:06")
    assert log.ended == ms("2023/01/24 15:48:44")
    assert log.skipped_devices == []
    assert log.operator is None and log.customer is None


def test_real_shredos_sample_disks() -> None:
    sda, nvme = parse_nwipe(read("nwipe-shredos-example.log")).disks
    assert sda.device == "/dev/sda"
    assert sda.model == "WDC WD3200LPVX-6"
    assert sda.serial == "WD-WXC1A14S2591"
    assert sda.size_bytes == 320072933376  # exact, from "sect/blk/dev", not the rounded "320 GB"
    assert sda.bus == "ATA"
    assert (sda.status, sda.outcome, sda.verification) == ("success", "erased", "verified")
    assert (sda.method, sda.level, sda.rounds, sda.passes) == ("Fill With Zeros", "clear", 1, 1)
    assert sda.throughput_bytes_per_s == 80_000_000
    assert (sda.pass_errors, sda.verify_errors, sda.sync_errors, sda.errors) == (0, 0, 0, 0)
    assert sda.started == ms("2023/01/24 13:35:32") and sda.ended == ms("2023/01/24 15:48:41")
    assert sda.duration_s == 2 * 3600 + 13 * 60 + 9
    # the Drive Status table cuts the model to 17 characters: the Found line wins
    assert nvme.model == "BC501 NVMe SK hynix 256GB"
    assert nvme.serial == "NS8BN06381120BD03"
    assert (nvme.bus, nvme.size_bytes, nvme.status) == ("NVME", 256060514304, "success")
    assert nvme.throughput_bytes_per_s == 414_000_000


def test_duration_comes_from_the_timestamps_when_nwipe_misprints_it() -> None:
    nvme = parse_nwipe(read("nwipe-shredos-example.log")).disks[1]
    # the table says 02:20:37, but the wipe ran 13:35:32 -> 13:56:09
    assert nvme.duration_s == 20 * 60 + 37


def test_summary_header_with_backslash_is_kept_verbatim_in_the_fixture() -> None:
    assert r"Fdatasync I\O Errors" in read("nwipe-shredos-example.log")


def test_station_clock_zone_shifts_the_times() -> None:
    paris_winter = timezone(timedelta(hours=1))
    log = parse_nwipe(read("nwipe-shredos-example.log"), tz=paris_winter)
    assert log.started == ms("2023/01/24 13:35:06") - 3600 * 1000
    assert log.disks[0].started == ms("2023/01/24 13:35:32", paris_winter)


def test_windows_line_endings_and_colour_codes() -> None:
    text = read("nwipe-shredos-example.log").replace("Found", "\x1b[1;32mFound\x1b[0m").replace("\n", "\r\n")
    assert [d.serial for d in parse_nwipe(text).disks] == ["WD-WXC1A14S2591", "NS8BN06381120BD03"]


# --- variants -------------------------------------------------------------


def test_failed_disk_beside_an_erased_one() -> None:
    log = parse_nwipe(read("nwipe-failed-desktop.log"))
    assert log.nwipe_version == "0.34"
    assert (log.verify, log.blank, log.method) == ("all", True, "DoD Short")
    sda, sdb = log.disks
    assert (sda.status, sda.outcome, sda.verification) == ("failure", "failed", "failed")
    assert (sda.pass_errors, sda.verify_errors, sda.sync_errors, sda.errors) == (3, 1, 1, 5)
    assert (sdb.status, sdb.outcome, sdb.passes) == ("success", "erased", 3)
    assert sdb.model == "Samsung SSD 860 EVO 250GB"  # the table says "Samsung SSD 860 E"


def test_truncated_log_turns_started_wipes_into_failures() -> None:
    log = parse_nwipe(read("nwipe-truncated.log"))
    assert log.complete is False
    assert [(d.device, d.status, d.outcome) for d in log.disks] == [
        ("/dev/sda", "failure", "incomplete"),
        ("/dev/nvme0n1", "failure", "incomplete"),
    ]
    assert log.disks[0].throughput_bytes_per_s is None


def test_quiet_mode_masks_serials_and_aborted_disk_fails() -> None:
    log = parse_nwipe(read("nwipe-quiet-aborted.log"))
    assert log.system_serial is None
    sda, sdc = log.disks
    assert sda.serial is None and sdc.serial is None  # XXXX... and ????? mean "hidden"
    assert (sda.status, sda.outcome) == ("failure", "aborted")
    assert (sdc.status, sdc.outcome, sdc.verification) == ("success", "erased", "off")
    assert sda.duration_s == 52 * 60 + 6  # no "finished" line: nwipe's own figure


def test_found_but_not_wiped_disk_is_skipped_not_failed() -> None:
    log = parse_nwipe(read("nwipe-usb-stick-skipped.log"))
    assert [d.device for d in log.disks] == ["/dev/sda"]
    assert log.skipped_devices == ["/dev/sdb"]
    assert log.nwipe_version == "0.35"
    assert log.disks[0].size_bytes == 240 * 10**9


def test_secure_erase_is_purge() -> None:
    log = parse_nwipe(read("nwipe-secure-erase.log"))
    disk = log.disks[0]
    assert (log.level, disk.level, disk.status, disk.verification) == (
        "purge",
        "purge",
        "success",
        "verified",
    )
    assert disk.errors is None  # no Error Summary in this log


def test_old_nwipe_prefix() -> None:
    text = one_disk().replace("]  notice: ", "] nwipe: notice: ")
    assert parse_nwipe(text).disks[0].method == "Fill With Zeros"


def test_summary_row_matched_by_serial_when_the_name_differs() -> None:
    log = parse_nwipe(
        one_disk(errors="", status="       sdx | Erased |  90 MB/s | 01:00:00 | WDC WD5000AAKX-0/WD-1")
    )
    assert [(d.device, d.status) for d in log.disks] == [("/dev/sda", "success")]


def test_disk_without_summary_row_is_incomplete() -> None:
    extra = (
        "[2024/01/01 10:00:00]  notice: Found /dev/sdb, ATA, ST1000DM010, 1 TB, S/N=Z9\n"
        "[2024/01/01 10:00:01]  notice: Invoking method 'Fill With Zeros' on /dev/sdb\n"
    )
    log = parse_nwipe(extra + one_disk())
    assert [(d.device, d.outcome) for d in log.disks] == [("/dev/sda", "erased"), ("/dev/sdb", "incomplete")]


@pytest.mark.parametrize(
    ("word", "outcome"),
    [
        (" Erased ", "erased"),
        ("-FAILED-", "failed"),
        ("--FAIL--", "failed"),
        ("UABORTED", "aborted"),
        ("INSANITY", "insanity"),
        ("WHATEVER", "whatever"),
    ],
)
def test_status_words(word: str, outcome: str) -> None:
    disk = parse_nwipe(one_disk(status=f"       sda |{word}| 120 MB/s | 01:00:00 | M/WD-1")).disks[0]
    assert disk.outcome == outcome
    assert disk.status == ("success" if outcome == "erased" else "failure")


def test_erased_with_errors_counts_as_failed() -> None:
    disk = parse_nwipe(
        one_disk(errors="!      sda |           0 |                    0 |                    2")
    ).disks[0]
    assert (disk.status, disk.outcome, disk.sync_errors) == ("failure", "failed", 2)


def test_found_line_without_serial_and_with_a_comma_in_the_model() -> None:
    disk = parse_nwipe(
        one_disk(found="[2024/01/01 10:00:00]  notice: Found /dev/sda, ATA, Disk, rev 2, 1TB, S/N=")
    ).disks[0]
    assert (disk.model, disk.size_bytes) == ("Disk, rev 2", 10**12)
    assert disk.serial == "WD-1"  # taken from the summary row


def test_garbled_timestamp_costs_only_the_time() -> None:
    log = parse_nwipe(
        one_disk(invoke="[2024/13/45 10:00:01]  notice: Invoking method 'Fill With Zeros' on /dev/sda")
    )
    assert log.disks[0].method == "Fill With Zeros"
    assert log.disks[0].started is None


def test_operator_and_customer_when_present() -> None:
    text = (
        "[2024/01/01 10:00:00]  notice: customer name = Mairie de Rennes\n"
        "[2024/01/01 10:00:00]  notice: technician/operator id = Camille\n" + one_disk()
    )
    log = parse_nwipe(text)
    assert (log.customer, log.operator) == ("Mairie de Rennes", "Camille")


def test_two_runs_of_the_same_station_give_every_disk() -> None:
    second = one_disk().replace("WD-1", "WD-2")
    disks = parse_nwipe(one_disk() + "\n" + second).disks
    assert [(d.device, d.serial) for d in disks] == [("/dev/sda", "WD-1"), ("/dev/sda", "WD-2")]


def test_runs_on_two_machines_are_refused() -> None:
    first = "[2024/01/01 10:00:00]  notice: system-serial-number = AAA\n" + one_disk()
    second = "[2024/01/02 10:00:00]  notice: system-serial-number = BBB\n" + one_disk()
    with pytest.raises(ImportFailed) as caught:
        parse_nwipe(first + "\n" + second)
    assert caught.value.code == "several_machines"


def test_results_are_frozen() -> None:
    log = parse_nwipe(one_disk())
    with pytest.raises(dataclasses.FrozenInstanceError):
        log.disks[0].status = "failure"  # type: ignore[misc]


# --- files that cannot be imported ---------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world\n",
        read("not-an-nwipe-log.txt"),
        read("lshw-virtual-machine.json"),
        "\x00\x01\x02" * 50,
    ],
)
def test_not_an_nwipe_log(text: str) -> None:
    with pytest.raises(ImportFailed) as caught:
        parse_nwipe(text)
    assert caught.value.code == "not_nwipe_log"
    assert isinstance(caught.value, NodeError)
    assert "not an nwipe log" in str(caught.value)


def test_log_that_stops_before_the_wipe() -> None:
    with pytest.raises(ImportFailed) as caught:
        parse_nwipe(read("nwipe-no-wipe.log"))
    assert caught.value.code == "no_disk_wiped"
    assert "/dev/sda" in caught.value.message


def test_log_without_any_disk() -> None:
    with pytest.raises(ImportFailed) as caught:
        parse_nwipe("[2024/01/01 10:00:00]  notice: Program options are set as follows...\n")
    assert caught.value.code == "no_disk_wiped"


# --- method names and sizes ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "level"),
    [
        ("Fill With Zeros", "clear"),
        ("Fill With Ones", "clear"),
        ("Quick Erase", "clear"),
        ("PRNG Stream", "clear"),
        ("DoD 5220.22-M", "clear"),
        ("DoD Short", "clear"),
        ("Gutmann Wipe", "clear"),
        ("RCMP TSSIT OPS-II", "clear"),
        ("HMG IS5 Enhanced", "clear"),
        ("Bruce Schneier 7-Pass", "clear"),
        ("BMB21-2019", "clear"),
        ("Verify Zeros (0x00)", "clear"),
        ("something new", "clear"),
        ("", "clear"),
        ("Secure Erase (ATA/NVMe)", "purge"),
        ("Secure Erase + PRNG + Verify", "purge"),
        ("Sanitize Crypto Erase (ATA/SCSI/NVMe)", "purge"),
        ("Sanitize Block Erase (ATA/SCSI/NVMe)", "purge"),
        ("Sanitize Overwrite (ATA/SCSI/NVMe)", "purge"),
        ("hdparm --security-erase", "purge"),
        ("Crypto Erase", "purge"),
        ("Degauss", "purge"),
        ("Physical destruction", "destroy"),
        ("Destruction physique (broyage)", "destroy"),
        ("Crushed", "destroy"),
    ],
)
def test_nist_level(method: str, level: str) -> None:
    assert nist_level(method) == level


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("500 GB", 500 * 10**9),
        ("1TB", 10**12),
        ("256GB", 256 * 10**9),
        ("   1 TB", 10**12),
        ("128 MB", 128 * 10**6),
        ("512 B", 512),
        ("1,5 TB", 1_500 * 10**9),
        ("500 Go", 500 * 10**9),
        ("2 To", 2 * 10**12),
        ("", None),
        ("big", None),
        ("12 parsecs", None),
    ],
)
def test_parse_size(text: str, size: int | None) -> None:
    assert parse_size(text) == size


# --- whatever the text, only ImportFailed --------------------------------

_SAMPLE_LINES = read("nwipe-shredos-example.log").splitlines() + read("nwipe-failed-desktop.log").splitlines()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_raises_only_import_failed(text: str) -> None:
    try:
        parse_nwipe(text)
    except ImportFailed:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_SAMPLE_LINES), st.text(max_size=80)), max_size=60))
def test_shuffled_and_mutated_logs_raise_only_import_failed(lines: list[str]) -> None:
    try:
        log = parse_nwipe("\n".join(lines))
    except ImportFailed:
        return
    assert log.disks
    assert all(disk.status in ("success", "failure") for disk in log.disks)
