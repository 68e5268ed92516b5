"""Read the text log of nwipe (and ShredOS, which runs nwipe).

The log is the erasure evidence most workshops of the network have: one line
per event, ``[YYYY/MM/DD hh:mm:ss]  notice: Found /dev/sda, ATA, <model>,
<size>, S/N=<serial>``, the machine's DMI data (``system-serial-number = ...``),
the options (``method = ...``, ``verify = ...``) and, at the end, an "Error
Summary" and a "Drive Status" table with ``Erased`` / ``-FAILED-`` per disk.

Only what the log proves counts as a success: a disk whose wipe started but
that has no ``Erased`` row (log cut short, power loss, abort) is a failure.
Disks that were found but never wiped (typically the ShredOS USB stick) are
listed in ``NwipeLog.skipped_devices``, not as failures.

nwipe stamps lines with the wiping station's local clock and no zone; the
caller says which zone that clock was in (``tz``, UTC by default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

from node.imports.errors import ImportFailed

__all__ = ["DiskWipe", "NistLevel", "NwipeLog", "NWIPE_METHODS", "method_label", "nist_level", "parse_nwipe",
           "parse_size"]

NistLevel = Literal["clear", "purge", "destroy"]


@dataclass(frozen=True)
class DiskWipe:
    """The erasure of one disk, as the log tells it.

    ``status`` is "success" only with an ``Erased`` row and no error;
    ``outcome`` says more: "erased", "failed", "aborted", "insanity" or
    "incomplete" (the wipe started but the log has no result for it).
    Times are integer milliseconds since the epoch (UTC).
    """

    device: str
    model: str | None
    serial: str | None
    size_bytes: int | None
    status: Literal["success", "failure"]
    outcome: str
    bus: str | None
    method: str | None
    level: NistLevel | None
    rounds: int | None
    passes: int | None
    verification: Literal["verified", "failed", "off"] | None
    throughput_bytes_per_s: int | None
    duration_s: int | None
    started: int | None
    ended: int | None
    pass_errors: int | None
    verify_errors: int | None
    sync_errors: int | None
    errors: int | None
    line: int


@dataclass(frozen=True)
class NwipeLog:
    """Everything useful in one nwipe log: the machine, the options, the disks."""

    system_serial: str | None
    system_manufacturer: str | None
    system_product: str | None
    system_uuid: str | None
    chassis_type: str | None
    nwipe_version: str | None
    banner: str | None
    method: str | None
    level: NistLevel | None
    verify: str | None
    rounds: int | None
    prng: str | None
    blank: bool | None
    started: int | None
    ended: int | None
    complete: bool
    disks: list[DiskWipe]
    skipped_devices: list[str]
    operator: str | None
    customer: str | None


# The methods' names as nwipe writes them in its logs (src/method.c), and the
# disks' own commands; reports translate these (``method_label`` finds one
# whatever its case and spacing). Other names are shown as written.
NWIPE_METHODS = ("Fill With Zeros", "Fill With Ones", "PRNG Stream", "DoD Short", "DoD 5220.22M", "Gutmann Wipe",
                 "RCMP TSSIT OPS-II", "HMG IS5 Enhanced", "Schneier Wipe", "BMB21-2019", "Verify Zeros",
                 "Verify Ones", "ATA Secure Erase", "Secure Erase")  # fmt: skip
_METHOD_KEYS = {" ".join(m.lower().replace("-", " ").split()): m for m in NWIPE_METHODS}


def method_label(method: str | None) -> str | None:
    """The name of ``NWIPE_METHODS`` that ``method`` writes (any case, spacing or hyphens), else ``None``."""
    if not method:
        return None
    return _METHOD_KEYS.get(" ".join(method.lower().replace("-", " ").split()))


# Words that name a method above "clear" in NIST SP 800-88; anything else
# (overwrites, and names we do not know) is "clear", so the tool never claims
# more than was done.
_DESTROY_WORDS = ("destroy", "destruction", "physical", "crush", "shredder", "shredding", "broyage",
                  "broyeur", "disintegrat", "pulveri", "incinerat", "melt")  # fmt: skip
_PURGE_WORDS = ("secure erase", "secure_erase", "security erase", "crypto", "sanitize", "sanitise",
                "block erase", "degauss", "purge")  # fmt: skip


def nist_level(method: str) -> NistLevel:
    """Map a wipe method's name to its NIST SP 800-88 level.

    Overwrites (zeros, PRNG stream, DoD, Gutmann...) are "clear"; ATA/NVMe
    secure erase, crypto erase and sanitize commands are "purge"; physical
    destruction is "destroy". Unknown names are "clear", the weakest claim.
    """
    name = " ".join(method.lower().replace("-", " ").split())
    if any(word in name for word in _DESTROY_WORDS):
        return "destroy"
    if any(word in name for word in _PURGE_WORDS):
        return "purge"
    return "clear"


_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_SIZE = re.compile(r"^\s*(\d{1,15}(?:[.,]\d{1,6})?)\s*([kmgtp]?)[bo]?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """Bytes in a size as nwipe prints it ("500 GB", "1TB", "256GB"), else None.

    nwipe uses decimal units (1 GB = 10**9 bytes); French "Go"/"To" are read
    the same way.
    """
    match = _SIZE.match(text)
    if match is None:
        return None
    number = float(match[1].replace(",", "."))
    return round(number * _UNITS[match[2].lower()])


# Values DMI and nwipe print when there is nothing to say; nwipe's -q option
# also masks serial numbers with X ("exists") or ? ("not obtainable").
_PLACEHOLDERS = {"", "not specified", "to be filled by o.e.m.", "default string", "none", "n/a",
                 "not available", "not applicable", "system serial number", "0123456789",
                 "system manufacturer", "system product name", "unknown"}  # fmt: skip


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value.lower() in _PLACEHOLDERS or set(value) <= {"X", "x", "?", "0"}:
        return None
    return value


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_STAMPED = re.compile(
    r"^\[(\d{4})/(\d{1,2})/(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})\]\s*"
    r"(?:nwipe:\s*)?(?:(?:debug|info|notice|warning|error|fatal|sanity):)?\s*(.*)$"
)
_FOUND = re.compile(r"^Found (/\S+?),(.*)$")
_GEOMETRY = re.compile(r"^(/\S+), sect/blk/dev \d{1,9}/\d{1,9}/(\d{1,20})\s*$")
_HAS_SERIAL = re.compile(r"^(/\S+) has serial number (.+)$")
_INVOKE = re.compile(r"^Invoking method '(.+)' on (/\S+)\s*$")
_ROUND = re.compile(r"^Starting round \d{1,6} of (\d{1,6}) on (/\S+)")
_PASS = re.compile(
    r"^Starting pass \d{1,6}\s*(?:/|of)\s*(\d{1,6}),\s*round \d{1,6}\s*(?:/|of)\s*(\d{1,6}),?"
    r"\s*on (/\S+)"
)
_VERIFIED = re.compile(r"^Verified (?:pass .* on|that) '?(/[^'\s]+)'?")
_FINISHED = re.compile(r"^Finished final round .* on (/\S+)")
_BLANKING = re.compile(r"^Blank(?:ing|ed) device (/\S+)")
_KEY_VALUE = re.compile(r"^([A-Za-z][\w/ -]{0,40}?)\s*=\s*(.*)$")
_ERROR_ROW = re.compile(r"^\s*!?\s*(\S+)\s*\|\s*(\d{1,20})\s*\|\s*(\d{1,20})\s*\|\s*(\d{1,20})\s*$")
_DRIVE_ROW = re.compile(r"^\s*!?\s*(\S+)\s*\|([^|]*)\|([^|]*)\|\s*(\d{1,6}):(\d{1,2}):(\d{1,2})\s*\|(.*)$")
_FOOTER = re.compile(r"Total Throughput .*, (\d{1,6})R\+(N?B)\+(VL|VA|NV)\s*$")
_SHREDOS_VERSION = re.compile(r"_(\d+\.\d+(?:\.\d+)?)\s*$")
_NWIPE_VERSION = re.compile(r"\bnwipe(?: version)?\s+v?(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)
_OUTCOMES = {"ERASED": "erased", "FAILED": "failed", "FAIL": "failed", "UABORTED": "aborted",
             "ABORTED": "aborted", "INSANITY": "insanity"}  # fmt: skip
_VERIFY_WORDS = {"0": "off", "1": "last", "2": "all", "off": "off", "last": "last", "all": "all"}
_KEYS = {"operator": "operator", "operator id": "operator", "technician": "operator",
         "technician id": "operator", "technician/operator id": "operator", "customer": "customer",
         "customer name": "customer"}  # fmt: skip


@dataclass
class _Disk:
    """What the log said so far about one device, in one nwipe run."""

    device: str
    line: int
    bus: str | None = None
    model: str | None = None
    serial: str | None = None
    size: int | None = None
    method: str | None = None
    rounds: int | None = None
    passes: int | None = None
    verified: bool = False
    started: int | None = None
    ended: int | None = None
    errors: tuple[int, int, int] | None = None
    wiped: bool = False  # the wipe started
    finished: bool = False  # its last round ended
    reported: bool = False  # a Drive Status row gave its result

    def touch(self, stamp: int | None, *, start: bool = False) -> _Disk:
        """Note wipe activity at ``stamp``; returns the disk, to chain one setting."""
        self.wiped = True
        if start and self.started is None:
            self.started = stamp
        if stamp is not None:
            self.ended = stamp
        return self


class _Reader:
    """Reads the lines in order; one instance per call of ``parse_nwipe``."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.info: dict[str, str | None] = {}
        self.session: dict[str, _Disk] = {}
        self.disks: list[DiskWipe] = []
        self.skipped: list[str] = []
        self.section: str | None = None
        self.nwipe_like = False
        self.complete = False
        self.blank: bool | None = None
        self.first: int | None = None
        self.last: int | None = None

    def stamp(self, groups: tuple[str, ...]) -> int | None:
        year, month, day, hour, minute, second = (int(group) for group in groups)
        try:
            moment = datetime(year, month, day, hour, minute, second, tzinfo=self.tz)
        except (ValueError, OverflowError):
            return None  # a garbled timestamp costs the time, not the line
        return int(moment.astimezone(UTC).timestamp() * 1000)

    def disk(self, device: str, line: int) -> _Disk:
        if device not in self.session:
            self.session[device] = _Disk(device, line)
        return self.session[device]

    def feed(self, number: int, raw: str) -> None:
        text = _ANSI.sub("", raw).rstrip()
        stamp = None
        match = _STAMPED.match(text)
        if match:
            stamp = self.stamp(match.groups()[:6])
            text = match[7]
            if stamp is not None:
                self.first = stamp if self.first is None else self.first
                self.last = stamp
        body = text.strip()
        if body.startswith("*"):
            self.table_border(body)
        elif self.section is not None and "|" in body:
            self.table_row(number, body)
        elif body.startswith("Total Throughput") and (footer := _FOOTER.search(body)):
            self.blank = footer[2] == "B"
        else:
            self.event(number, body, stamp)

    def table_border(self, body: str) -> None:
        title = body.strip("* ").lower()
        if title == "error summary":
            self.section, self.nwipe_like = "errors", True
        elif title == "drive status":
            self.section, self.nwipe_like = "drives", True
        elif not title:
            if self.section == "drives":
                self.close_session()
            self.section = None

    def table_row(self, number: int, body: str) -> None:
        if self.section == "errors" and (row := _ERROR_ROW.match(body)):
            disk = self.disk_by_name(row[1], None, number)
            disk.errors = (int(row[2]), int(row[3]), int(row[4]))
        elif self.section == "drives" and (row := _DRIVE_ROW.match(body)):
            model_serial = row[7].strip()
            model, _, serial = model_serial.rpartition("/") if "/" in model_serial else (model_serial, "", "")
            disk = self.disk_by_name(row[1], _clean(serial), number)
            disk.model = disk.model or _clean(model)
            disk.serial = disk.serial or _clean(serial)
            self.disks.append(self.result(disk, row, number))
            disk.reported = self.complete = True

    def disk_by_name(self, name: str, serial: str | None, number: int) -> _Disk:
        """The disk of a summary row: by device name, else by serial number."""
        for disk in self.session.values():
            if disk.device.rsplit("/", 1)[-1] == name.rsplit("/", 1)[-1]:
                return disk
        for disk in self.session.values():
            if serial is not None and disk.serial == serial:
                return disk
        return self.disk(name if name.startswith("/") else f"/dev/{name}", number)

    def result(self, disk: _Disk, row: re.Match[str] | None, number: int) -> DiskWipe:
        pass_e, verify_e, sync_e = disk.errors if disk.errors else (None, None, None)
        total = sum(disk.errors) if disk.errors else None
        outcome, throughput, duration = "incomplete", None, None
        if row is not None:
            word = row[2].strip().strip("-").upper()
            outcome = _OUTCOMES.get(word, word.lower() or "unknown")
            if outcome == "erased" and total:
                outcome = "failed"  # nwipe itself would have said -FAILED-; trust the counts
            speed = row[3].strip()
            throughput = parse_size(speed[:-2]) if speed.endswith("/s") else None
            duration = int(row[4]) * 3600 + int(row[5]) * 60 + int(row[6])
        if disk.finished and disk.started is not None and disk.ended is not None:
            # nwipe 0.32 carries the hours of one row over to the next: the stamps are right
            duration = (disk.ended - disk.started) // 1000
        method = disk.method or self.info.get("method")
        verification: Literal["verified", "failed", "off"] | None = (
            "failed" if verify_e else "verified" if disk.verified
            else "off" if self.info.get("verify") == "off" else None)  # fmt: skip
        rounds = disk.rounds if disk.rounds is not None else _int(self.info.get("rounds"))
        return DiskWipe(
            device=disk.device, model=disk.model, serial=disk.serial, size_bytes=disk.size,
            status="success" if outcome == "erased" else "failure", outcome=outcome, bus=disk.bus,
            method=method, level=nist_level(method) if method else None, rounds=rounds,
            passes=disk.passes, verification=verification, throughput_bytes_per_s=throughput,
            duration_s=duration, started=disk.started, ended=disk.ended, pass_errors=pass_e,
            verify_errors=verify_e, sync_errors=sync_e, errors=total, line=number,
        )  # fmt: skip

    def close_session(self) -> None:
        """End of one nwipe run: disks left without a result are incomplete."""
        for disk in self.session.values():
            if disk.reported:
                continue
            if disk.wiped:
                self.disks.append(self.result(disk, None, disk.line))
            elif disk.device not in self.skipped:
                self.skipped.append(disk.device)
        self.session = {}

    def event(self, number: int, body: str, stamp: int | None) -> None:
        if match := _FOUND.match(body):
            self.found(number, match[1], match[2])
        elif match := _GEOMETRY.match(body):
            self.disk(match[1], number).size = int(match[2])
        elif match := _HAS_SERIAL.match(body):
            disk = self.disk(match[1], number)
            disk.serial = disk.serial or _clean(match[2])
        elif match := _INVOKE.match(body):
            self.nwipe_like = True
            self.disk(match[2], number).touch(stamp, start=True).method = match[1].strip()
        elif match := _ROUND.match(body):
            self.disk(match[2], number).touch(stamp, start=True).rounds = int(match[1])
        elif match := _PASS.match(body):
            disk = self.disk(match[3], number).touch(stamp, start=True)
            disk.passes, disk.rounds = int(match[1]), int(match[2])
        elif match := _VERIFIED.match(body):
            self.disk(match[1], number).touch(stamp).verified = True
        elif match := _FINISHED.match(body):
            self.disk(match[1], number).touch(stamp).finished = True
        elif match := _BLANKING.match(body):
            self.disk(match[1], number).touch(stamp)
        elif body.startswith("Program options are set as follows"):
            self.nwipe_like = True
        elif body == "do not perform a final blank pass":
            self.blank = False
        elif match := _KEY_VALUE.match(body):
            self.setting(match[1].strip().lower(), match[2].strip())

    def found(self, number: int, device: str, rest: str) -> None:
        self.nwipe_like = True
        if device in self.session and self.session[device].wiped:
            self.close_session()  # a new run began without the last one's summary
        disk = self.disk(device, number)
        rest, _, serial = rest.partition("S/N=")
        parts = [part.strip() for part in rest.rstrip().rstrip(",").split(",")]
        size = parse_size(parts[-1]) if len(parts) > 1 else None
        model_parts = parts[1:-1] if size is not None else parts[1:]
        disk.bus = _clean(parts[0])
        disk.model = _clean(", ".join(model_parts))
        disk.serial = _clean(serial)
        disk.size = disk.size or size

    def setting(self, key: str, value: str) -> None:
        if key == "verify":
            words = value.split()
            self.info[key] = _VERIFY_WORDS.get(words[0].lower(), value) if words else None
        elif key == "system-serial-number":
            serial, known = _clean(value), self.info.get(key)
            if known and serial and known != serial:
                raise ImportFailed(
                    None,
                    f"this log holds runs on two machines ({known} and {serial}); import each run separately",
                    code="several_machines",
                )
            self.info[key] = serial or known
        else:
            self.info[_KEYS.get(key, key)] = _clean(value)


def _int(value: str | None) -> int | None:
    match = re.match(r"\s*(\d{1,9})", value or "")
    return int(match[1]) if match else None


def _version(banner: str | None) -> str | None:
    if not banner:
        return None
    match = _NWIPE_VERSION.search(banner) or _SHREDOS_VERSION.search(banner)
    return match[1] if match else None


def parse_nwipe(text: str, *, tz: tzinfo = UTC) -> NwipeLog:
    """Parse an nwipe / ShredOS log; ``tz`` is the zone of the station's clock.

    Raises ``ImportFailed`` when the text is not an nwipe log, or is one in
    which no disk was wiped.
    """
    reader = _Reader(tz)
    for number, line in enumerate(text.splitlines(), start=1):
        reader.feed(number, line)
    reader.close_session()
    if not reader.nwipe_like:
        raise ImportFailed(
            None,
            "this is not an nwipe log: it has no 'Found /dev/...' line, no wipe and no Drive Status table",
            code="not_nwipe_log",
        )
    if not reader.disks:
        found = ", ".join(reader.skipped)
        message = (
            f"no disk was wiped in this log (found: {found}); it may stop before the wipe started"
            if found
            else "this nwipe log names no disk"
        )
        raise ImportFailed(None, message, code="no_disk_wiped")
    info, banner, method = reader.info, reader.info.get("banner"), reader.info.get("method")
    return NwipeLog(
        system_serial=info.get("system-serial-number"), system_manufacturer=info.get("system-manufacturer"),
        system_product=info.get("system-product-name"), system_uuid=info.get("system-uuid"),
        chassis_type=info.get("chassis-type"), nwipe_version=_version(banner), banner=banner, method=method,
        level=nist_level(method) if method else None, verify=info.get("verify"),
        rounds=_int(info.get("rounds")), prng=info.get("prng"), blank=reader.blank, started=reader.first,
        ended=reader.last, complete=reader.complete, disks=reader.disks, skipped_devices=reader.skipped,
        operator=info.get("operator"), customer=info.get("customer"),
    )  # fmt: skip
