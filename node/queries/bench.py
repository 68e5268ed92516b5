"""The machines on the workshop bench: probed lately, not gone yet, and what each still needs before "ready".

Before an item is ready (``prêt``), the workshop needs:

- ``erasure``: a successful erasure record for each disk the probe found
  (by serial), or any successful one when the probe found none with a
  serial; not needed when the item cannot hold data (storage none or removed);
- ``tests``: a ``tested`` event;
- ``os``: a ``refurbished`` event (the reinstall), unless the item has no storage.

A machine back after its item left the workshop became a new item
(``node.domain.station``): the probe that created it names the item that
left (``left``), shown for as long as the machine is on the bench.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from node.domain.erasure import needs_erasure
from node.domain.station import LeftItem
from node.store.database import Reader, now_ms

__all__ = ["MISSING", "BenchMachine", "bench_machines", "BENCH_LIMIT", "LastProbe", "last_probe", "probe_evidence"]

MISSING = ("erasure", "tests", "os")
BENCH_LIMIT = 200
_DAY_MS = 86_400_000


@dataclass(frozen=True)
class BenchMachine:
    item_id: int
    probe_id: int  # the last probe (its raw outputs: ``probes.sha256``)
    gid: str
    asset_tag: str
    category: str
    brand: str | None
    model: str | None
    serial: str | None
    state: str
    grade: str | None
    battery_pct: int | None
    probed: int  # the last probe's time
    station: str
    suggested: str | None  # the grade the last probe suggested
    problems: int  # sources of the last probe that could not be read
    disks: int  # disks with a serial the probe found
    disks_erased: int  # of those, with a successful erasure on record
    missing: tuple[str, ...]  # in the order of MISSING
    left: LeftItem | None  # the item with its serial (or a disk's) that had left when it came back

    @property
    def ready(self) -> bool:
        return self.state == "ready"


_QUERY = """
SELECT i.id, p.id AS probe_id, i.gid, i.asset_tag, i.category, i.brand, i.model, i.serial, i.state, i.grade,
       i.battery_pct, i.storage, p.time, p.station, p.grade AS suggested, p.summary,
       (SELECT f.summary FROM probes f WHERE f.item_id = i.id ORDER BY f.id LIMIT 1) AS first_summary,
       (SELECT count(*) FROM item_disks d WHERE d.item_id = i.id) AS disks,
       (SELECT count(*) FROM item_disks d WHERE d.item_id = i.id AND EXISTS (SELECT 1 FROM erasures e
            WHERE e.item_id = i.id AND e.result = 'success' AND e.disk_serial = d.serial COLLATE NOCASE)) AS erased,
       EXISTS (SELECT 1 FROM erasures e WHERE e.item_id = i.id AND e.result = 'success') AS any_erased,
       EXISTS (SELECT 1 FROM events v WHERE v.item_id = i.id AND v.state = 'tested') AS tested,
       EXISTS (SELECT 1 FROM events v WHERE v.item_id = i.id AND v.state = 'refurbished') AS installed
FROM (SELECT item_id, max(id) AS last FROM probes WHERE time >= :since GROUP BY item_id) latest
JOIN probes p ON p.id = latest.last
JOIN items i ON i.id = latest.item_id
WHERE i.state NOT IN ('reserved', 'distributed', 'recycled', 'dismantled', 'transferred')
  AND (:item IS NULL OR i.id = :item)
ORDER BY p.id DESC LIMIT :limit
"""


async def bench_machines(db: Reader, *, days: int, limit: int = BENCH_LIMIT,
                         item_id: int | None = None) -> list[BenchMachine]:  # fmt: skip
    """The items probed in the last ``days`` days still in the workshop, newest probe first (or only ``item_id``)."""
    rows = await db.all(_QUERY, {"since": now_ms() - days * _DAY_MS, "limit": limit, "item": item_id})
    machines = []
    for r in rows:
        missing = []
        if needs_erasure(r["category"], r["storage"]) and not (
            r["erased"] == r["disks"] and (r["disks"] > 0 or r["any_erased"])
        ):
            missing.append("erasure")
        if not r["tested"]:
            missing.append("tests")
        if not r["installed"] and r["storage"] not in ("none", "removed"):
            missing.append("os")
        try:
            problems = len(json.loads(r["summary"]).get("problems", []))
        except (ValueError, AttributeError):
            problems = 0
        machines.append(BenchMachine(
            r["id"], r["probe_id"], r["gid"], r["asset_tag"], r["category"], r["brand"], r["model"], r["serial"],
            r["state"], r["grade"], r["battery_pct"], r["time"], r["station"], r["suggested"], problems, r["disks"], r["erased"],
            tuple(missing), _left(r["first_summary"]),
        ))  # fmt: skip
    return machines


def _left(summary: str) -> LeftItem | None:
    try:
        left = json.loads(summary).get("left")
        return LeftItem(**left) if left else None
    except (ValueError, AttributeError, TypeError):
        return None  # a summary written before, or damaged: no note


@dataclass(frozen=True)
class ProbedDiskRow:
    serial: str
    model: str | None
    size_bytes: int | None
    type: str | None
    power_on_hours: int | None
    reallocated: int | None
    passed: bool | None


@dataclass(frozen=True)
class LastProbe:
    """An item's last probe, for its page: when, by which station, the grade it suggested, its disks."""

    id: int
    time: int
    station: str
    grade: str | None
    problems: int
    disks: list[ProbedDiskRow]


async def last_probe(db: Reader, item_id: int) -> LastProbe | None:
    row = await db.one("SELECT id, time, station, grade, summary FROM probes WHERE item_id = ? ORDER BY id DESC LIMIT 1",
                       (item_id,))  # fmt: skip
    if row is None:
        return None
    disks = await db.all("SELECT serial, model, size_bytes, type, power_on_hours, reallocated, passed FROM item_disks"
                         " WHERE item_id = ? ORDER BY serial", (item_id,))  # fmt: skip
    try:
        problems = len(json.loads(row["summary"]).get("problems", []))
    except (ValueError, AttributeError):
        problems = 0
    return LastProbe(row["id"], row["time"], row["station"], row["grade"], problems, [
        ProbedDiskRow(*d[:6], None if d["passed"] is None else bool(d["passed"])) for d in disks])  # fmt: skip


async def probe_evidence(db: Reader, probe_id: int) -> str | None:
    """The SHA-256 of the raw outputs a probe sent (the file kept as its evidence); None for no such probe."""
    return await db.value("SELECT sha256 FROM probes WHERE id = ?", (probe_id,))
