#!/usr/bin/env python3
"""maillon-probe: a computer on the workshop bench describes itself to the association's Maillon node.

Run it from a live USB system (Debian live or any Linux with Python 3),
as root so that serial numbers and disk health can be read; the node
serves this file at ``/station/probe`` and its ``/station`` page shows the
one command to run, for example::

    wget -qO- http://192.168.1.10:8470/station/probe | sudo python3 - http://192.168.1.10:8470/upload/probe/poste-1/TOKEN

It reads ``lshw -json``, ``dmidecode``, ``smartctl --json -a`` for each
fixed disk, ``upower -i`` of each battery, ``/sys/class/power_supply``,
``/sys/class/dmi/id``, ``/proc/meminfo``, ``/proc/cpuinfo``, ``lsblk`` and
the internal screen's EDID, and sends the raw outputs in one tar by HTTP
PUT to the station's upload URL (the same pairing as a ShredOS station).
The node reads them, fills in the item and answers with its asset tag.
Missing tools are skipped: the node takes what it gets.

Options: ``--item TAG`` names the item when its label is already on the
machine; ``--from DIR`` reads outputs from files of DIR named as in the
bundle (``dmidecode.txt``, ``smartctl-sda.json``...) before running tools
(``--no-local``: only from DIR); ``--save DIR`` writes the outputs there;
``--dry-run`` sends nothing.

Python standard library only, one file: free software (AGPL-3.0-or-later), part of Maillon.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

VERSION = 1
MAX_OUTPUT = 4 * 1024 * 1024  # the node refuses larger files
TIMEOUT = 180  # seconds per command: lshw can take a minute on a big machine

TEXT = {
    "reading": "Reading the description of this computer…",
    "skipped": "{tool} is not installed: skipped.",
    "not_root": "Not run as root (sudo): serial numbers and disk health may be missing.",
    "sending": "Sending {count} outputs to the node…",
    "unreachable": "The node cannot be reached ({reason}). Check the address, and that this computer is on the workshop's network.",
    "refused": "The node refused the description ({status}): {message}",
    "saved": "Outputs saved in {folder}.",
}
TEXT.update({})  # MAILLON:TRANSLATIONS (the node puts the page's language here when it serves this file)
# The language of those messages, for the node's answer too: a live system's own locale is often
# en_US even in a French workshop, so the language the probe was served in wins.
LANGUAGE = ""  # MAILLON:LANGUAGE


def say(key: str, **values: object) -> None:
    print(TEXT[key].format(**values), file=sys.stderr)


def run(command: list[str]) -> bytes | None:
    """A command's standard output (bounded), or None when the tool is missing or fails to start."""
    if shutil.which(command[0]) is None:
        return None
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout[:MAX_OUTPUT] if done.stdout else None


def read(path: Path, binary: bool = False) -> bytes | None:
    try:
        data = path.read_bytes()[:MAX_OUTPUT]
    except OSError:
        return None
    return data if data or binary else None


def fixed_disks(lsblk: bytes | None) -> list[str]:
    """The machine's own disks (not the live USB stick, not optical drives), as /dev names."""
    names: list[str] = []
    if lsblk:
        try:
            for dev in json.loads(lsblk).get("blockdevices", []):
                removable = dev.get("rm") in (True, "1", 1)
                if dev.get("type") == "disk" and not removable and str(dev.get("tran") or "") != "usb":
                    names.append(str(dev.get("name")))
        except (ValueError, AttributeError):
            names = []
    if not names and Path("/sys/block").is_dir():
        for block in sorted(Path("/sys/block").iterdir()):
            if not re.match(r"^(sd[a-z]+|nvme\d+n\d+|mmcblk\d+|hd[a-z]+|vd[a-z]+)$", block.name):
                continue
            if (read(block / "removable") or b"0").strip() == b"1" or "/usb" in os.path.realpath(block):
                continue
            names.append(block.name)
    # zram and loop devices call themselves disks too
    return [n for n in names if re.match(r"^[A-Za-z0-9]{1,32}$", n) and not n.startswith(("zram", "loop", "ram", "sr"))]


def collect(source: Path | None, local: bool) -> dict[str, bytes]:
    """Every output this machine (or ``source``) gives, by its name in the bundle."""
    files: dict[str, bytes] = {}
    if source is not None:
        for path in sorted(source.iterdir()):
            if path.is_file() and re.match(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$", path.name):
                files[path.name] = path.read_bytes()[:MAX_OUTPUT]
    if not local:
        return files

    def add(name: str, data: bytes | None) -> None:
        if data is not None and name not in files:
            files[name] = data

    commands = {
        "lshw.json": ["lshw", "-json", "-quiet"],
        "dmidecode.txt": ["dmidecode"],
        "lsblk.json": ["lsblk", "-J", "-b", "-d", "-o", "NAME,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,RM"],
    }
    for name, command in commands.items():
        if name not in files:
            output = run(command)
            if output is None and shutil.which(command[0]) is None:
                say("skipped", tool=command[0])
            add(name, output)
    if not any(n.startswith("smartctl-") for n in files):
        if shutil.which("smartctl") is None:
            say("skipped", tool="smartctl")
        for disk in fixed_disks(files.get("lsblk.json")):
            add(f"smartctl-{disk}.json", run(["smartctl", "--json", "-a", f"/dev/{disk}"]))
    if "upower.txt" not in files and shutil.which("upower"):
        paths = (run(["upower", "-e"]) or b"").decode("utf-8", "replace").split()
        batteries = [run(["upower", "-i", p]) for p in paths if "battery" in p.lower()]
        add("upower.txt", b"\n".join(b for b in batteries if b) or None)
    supplies = Path("/sys/class/power_supply")
    if supplies.is_dir() and not any(n.startswith("power_supply-") for n in files):
        for supply in sorted(supplies.iterdir()):
            add(f"power_supply-{supply.name}.uevent", read(supply / "uevent"))
    dmi = Path("/sys/class/dmi/id")
    if dmi.is_dir() and "dmi-id.txt" not in files:
        fields = ("sys_vendor", "product_name", "product_version", "product_serial", "chassis_type", "board_vendor",
                  "board_name", "board_serial", "chassis_serial")
        values = {f: (read(dmi / f) or b"").decode("utf-8", "replace").strip() for f in fields if (dmi / f).exists()}
        lines = [f"{name}={value}" for name, value in values.items()]
        add("dmi-id.txt", "\n".join(lines).encode() + b"\n" if lines else None)
    add("meminfo.txt", read(Path("/proc/meminfo")))
    add("cpuinfo.txt", read(Path("/proc/cpuinfo")))
    drm = Path("/sys/class/drm")
    if drm.is_dir():
        for connector in sorted(drm.iterdir()):
            edid = read(connector / "edid", binary=True)
            if edid:
                add(f"edid-{connector.name}.bin", edid)
    return files


def bundle(files: dict[str, bytes], item: str | None) -> bytes:
    """The uncompressed tar the node reads: flat names, ``probe.json`` first."""
    meta = {"probe": "maillon-probe", "version": VERSION, "item": item, "files": sorted(files)}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in [("probe.json", json.dumps(meta).encode()), *sorted(files.items())]:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def send(url: str, data: bytes) -> int:
    request = urllib.request.Request(url, data=data, method="PUT", headers={
        "Content-Type": "application/x-tar", "User-Agent": f"maillon-probe/{VERSION}",
        "Accept-Language": LANGUAGE or os.environ.get("LANGUAGE") or os.environ.get("LANG", "fr")[:2] or "fr",
    })  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read(1_000_000) or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read(1_000_000) or b"{}")
        except ValueError:
            answer = {}
        message = " ".join(answer.get("messages") or [answer.get("message") or exc.reason or ""])
        say("refused", status=exc.code, message=message)
        return 1
    except (urllib.error.URLError, OSError, ValueError) as exc:
        say("unreachable", reason=getattr(exc, "reason", exc))
        return 2
    for line in answer.get("messages", []):
        print(line)
    return 0 if answer.get("ok") else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maillon-probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="the station's upload URL: http://NODE:PORT/upload/probe/STATION/TOKEN")
    parser.add_argument("--item", help="the asset tag on the machine's label, when it has one already")
    parser.add_argument("--from", dest="source", type=Path, help="read outputs from the files of this directory")
    parser.add_argument("--no-local", action="store_true", help="with --from: read nothing of this machine")
    parser.add_argument("--save", type=Path, help="also write the outputs into this directory")
    parser.add_argument("--dry-run", action="store_true", help="send nothing")
    args = parser.parse_args(argv)
    if not args.url and not (args.dry_run or args.save):
        parser.error("give the station's upload URL (shown on the node's /station page)")
    say("reading")
    if args.source is None and hasattr(os, "geteuid") and os.geteuid() != 0:
        say("not_root")
    files = collect(args.source, local=not args.no_local)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (args.save / name).write_bytes(data)
        say("saved", folder=args.save)
    if args.dry_run or not args.url:
        return 0
    say("sending", count=len(files))
    return send(args.url, bundle(files, args.item))


if __name__ == "__main__":
    raise SystemExit(main())
