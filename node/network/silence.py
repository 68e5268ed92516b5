"""Silence in the network: members that stopped reporting, peers this node could not reach. Alerts for the admin.

- A **member is silent** when its last statistics report held here (its
  header time; its membership's start when it never reported) is older
  than its reporting period: the length of the period its last report was
  for (a month, a quarter or a year: 31, 92 or 366 days), plus a day for
  the report to be signed once that period ended. A member that never
  reported is taken as reporting monthly (the ``stats_schedule`` default).
- A **peer is unreachable** when no valid signed exchange with it, either
  way, happened for more than a day (``peers.last_contact``; since it was
  added when there was none).

``check_silence`` raises an alert (kind ``silent``, reason ``member_silent``
or ``peer_unreachable``, the peer named) for each, once per silence: not
again while an alert of the same reason for that peer is newer than the
peer's last sign of life. The daily upkeep runs it, and ``maillon run``
every hour (``node.network.upkeep.look_for_silence``); the alerts show on the
federation page with the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from node.domain.alerts import raise_alert
from node.domain.memberships import certificates
from node.network.stats_reports import own_keys
from node.store.database import Reader, Tx, now_ms
from protocol import canonical
from protocol.kinds import StatsReport

__all__ = ["Silence", "silent_nodes", "check_silence", "REPORTING_DAYS", "UNREACHABLE_MS"]

DAY_MS = 86_400_000
UNREACHABLE_MS = DAY_MS
# The length of a reporting period, by the length of the period's text: a month, a quarter, a year.
REPORTING_DAYS = {"month": 31, "quarter": 92, "year": 366}


@dataclass(frozen=True, slots=True)
class Silence:
    """A peer silent since ``since`` (ms): ``member_silent`` or ``peer_unreachable``."""

    key: bytes
    name: str
    reason: str
    since: int
    detail: str


def _day(ms: int, *, minutes: bool = False) -> str:
    """A time of the alert's detail as a person reads it: the day (and time), Paris time."""
    moment = datetime.fromtimestamp(ms / 1000, ZoneInfo("Europe/Paris"))
    return moment.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d") + " (Paris time)"


def _kind(period: str) -> str:
    return "year" if len(period) == 4 else "quarter" if "-Q" in period else "month"


async def silent_nodes(db: Reader, me: bytes, *, now: int | None = None) -> list[Silence]:
    """The members silent longer than their reporting period, and the peers unreachable for more than a day."""
    now = now_ms() if now is None else now
    out: list[Silence] = []
    peers = await db.all("SELECT key, name, role, relation, added, last_contact FROM peers WHERE state = 'active'"
                         " ORDER BY name")  # fmt: skip
    keys = await own_keys(db, me)
    current = {c.member: c for c in await certificates(db, keys) if c.role == "member" and c.valid_at(now)}
    for peer in peers:
        if peer["relation"] == "downstream" and peer["role"] == "member" and peer["key"] in current:
            rows = await db.all("SELECT time, content FROM log_records WHERE author = ? AND kind = ?"
                                " AND content IS NOT NULL ORDER BY time DESC LIMIT 1",
                                (peer["key"], StatsReport.KIND))  # fmt: skip
            if rows:
                body = StatsReport.model_validate(canonical.decode(rows[0]["content"]))
                last, kind = rows[0]["time"], _kind(body.period)
                said = f"last statistics report signed on {_day(last)}, for a {kind}"
            else:
                last, kind = current[peer["key"]].valid_from, "month"
                said = "no statistics report since its membership began"
            if now - last > (REPORTING_DAYS[kind] + 1) * DAY_MS:
                out.append(Silence(peer["key"], peer["name"], "member_silent", last, said))
        contact = peer["last_contact"] if peer["last_contact"] is not None else peer["added"]
        if now - contact > UNREACHABLE_MS:
            out.append(Silence(peer["key"], peer["name"], "peer_unreachable", contact,
                               f"no valid signed exchange either way since {_day(contact, minutes=True)}"))  # fmt: skip
    return out


async def check_silence(tx: Tx, *, now: int | None = None) -> list[Silence]:
    """Raise an alert for each silence not alerted yet since the peer's last sign of life; returns them all."""
    found = await silent_nodes(tx, tx.author, now=now)
    for silence in found:
        alerted = await tx.value("SELECT 1 FROM alerts WHERE kind = 'silent' AND reason = ? AND peer = ? AND time > ?",
                                 (silence.reason, silence.key, silence.since))  # fmt: skip
        if not alerted:
            await raise_alert(tx, "silent", silence.reason, peer=silence.key,
                              detail=f"{silence.name}: {silence.detail}")  # fmt: skip
    return found
