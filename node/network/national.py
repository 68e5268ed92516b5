"""A national node reading the hubs it admitted: their summaries checked, their transparency logs audited.

Each hub sends its whole log to national (its upstream), and national pulls
from the hub the logs of the members the hub certified (``federation``):
their reports come in clear where the member's policy made them public,
as headers (stubs) otherwise. ``check_summary`` then checks a hub's
``regional.summary/1`` against what is held:

- every report it lists is held, is a ``stats.report/1`` signed after the
  period ended, and its author was certified by that hub (a
  ``membership.certificate/1`` in the hub's log) for some of the period; a
  readable one is of that period;
- no member is both counted and said ``missing``;
- for a ``regional.summary/2``: a member's listed reports are of the
  period or of periods inside it, and do not overlap; ``own`` is a report
  of the hub itself for the period;
- when every listed report is readable, their figures summed
  (``node.network.regional.sum_figures``, each author's staff once: ``summary_rules.staff_once``) are the
  summary's (less those withheld).

A listed report not held yet makes the summary *incomplete* (national may
not have pulled it yet); a broken rule makes it *inconsistent*. A summary
is *verified* only when national could add up every listed report; with
some held as headers only (members that share their statistics with their
hub alone) it is *signed*: its signature, the hub's log and the listing
were checked, its sum could not be. The check says N readable of M.

**Log audit**: national keeps, per hub, the last checkpoint of the hub's
transparency log it checked (``audited_logs``). For each newer checkpoint
the federation asks the hub a consistency proof from the audited size to
the new one; a proof that does not verify means the hub rewrote its
history: the hub is flagged (``rewritten``, kept until an admin looks)
and an alert raised. The first checkpoint seen is taken as the base.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from node.domain.memberships import certificates
from node.domain.stats import period_bounds
from node.errors import NotFound
from node.network.regional import SignedSummary, list_summaries, sum_figures
from node.network.stats_reports import overlaps, own_keys
from node.network.summary_rules import staff_once
from node.notes import Note
from node.store.database import Reader, Tx, now_ms
from protocol import canonical
from protocol.kinds import LogCheckpoint, RegionalSummaryV2, StatsReport

__all__ = ["AuditedLog", "Checkpoint", "SummaryCheck", "HubReading", "audited_log", "new_checkpoints", "record_audit",
           "reset_audit", "check_summary", "read_hubs", "national_totals", "HubPeriod", "hub_periods"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditedLog:
    """The last checkpoint of a hub's transparency log national checked, and what it found."""

    hub: bytes
    checkpoint_seq: int
    tree_size: int
    root: bytes
    checked_at: int
    state: str  # "consistent" | "rewritten"
    detail: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A hub's checkpoint as held here."""

    seq: int
    time: int
    tree_size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class SummaryCheck:
    """A summary and what checking it against the held reports found."""

    summary: SignedSummary
    listed: int
    held: int
    readable: int
    problems: list[Note] = field(default_factory=list)

    @property
    def state(self) -> str:
        """``inconsistent`` (a problem), ``incomplete`` (reports not held yet), ``verified`` (every report read
        and added up) or ``signed`` (held, some as headers only: the sum could not be checked)."""
        if self.problems:
            return "inconsistent"
        if self.held < self.listed:
            return "incomplete"
        return "verified" if self.readable == self.listed else "signed"

    @property
    def sum_checked(self) -> bool:
        return not self.problems and self.readable == self.listed


@dataclass(frozen=True, slots=True)
class HubReading:
    """One hub as national reads it: its latest summary per period, checked, and its log's audit."""

    hub: bytes
    name: str
    network: str | None
    summaries: list[SummaryCheck]  # the latest version per period, newest period first
    log: AuditedLog | None


async def audited_log(db: Reader, hub: bytes) -> AuditedLog | None:
    row = await db.one("SELECT hub, checkpoint_seq, tree_size, root, checked_at, state, detail FROM audited_logs"
                       " WHERE hub = ?", (hub,))  # fmt: skip
    return None if row is None else AuditedLog(*row)


async def new_checkpoints(db: Reader, hub: bytes) -> list[Checkpoint]:
    """The hub's checkpoints held here after the last one audited, in seq order."""
    audited = await audited_log(db, hub)
    rows = await db.all("SELECT seq, time, content FROM log_records WHERE author = ? AND kind = ? AND seq > ?"
                        " AND content IS NOT NULL ORDER BY seq",
                        (hub, LogCheckpoint.KIND, audited.checkpoint_seq if audited else 0))  # fmt: skip
    out = []
    for row in rows:
        body = LogCheckpoint.model_validate(canonical.decode(row["content"]))
        out.append(Checkpoint(row["seq"], row["time"], body.tree_size, body.root))
    return out


async def record_audit(tx: Tx, hub: bytes, checkpoint: Checkpoint, *, state: str, detail: str = "") -> None:
    """Keep ``checkpoint`` as the hub's audited one (``consistent``), or flag the hub (``rewritten``).

    A flagged hub keeps its last good checkpoint: the next proofs are asked
    from it again, and the flag stays until an admin clears the row.
    """
    if state == "rewritten":
        await tx.run("INSERT INTO audited_logs (hub, checkpoint_seq, tree_size, root, checked_at, state, detail)"
                     " VALUES (?, ?, ?, ?, ?, 'rewritten', ?) ON CONFLICT (hub) DO UPDATE SET state = 'rewritten',"
                     " detail = excluded.detail, checked_at = excluded.checked_at",
                     (hub, checkpoint.seq, checkpoint.tree_size, checkpoint.root, now_ms(), detail))  # fmt: skip
        return
    await tx.run("INSERT INTO audited_logs (hub, checkpoint_seq, tree_size, root, checked_at, state, detail)"
                 " VALUES (?, ?, ?, ?, ?, 'consistent', '') ON CONFLICT (hub) DO UPDATE SET"
                 " checkpoint_seq = excluded.checkpoint_seq, tree_size = excluded.tree_size, root = excluded.root,"
                 " checked_at = excluded.checked_at",
                 (hub, checkpoint.seq, checkpoint.tree_size, checkpoint.root, now_ms()))  # fmt: skip


async def reset_audit(tx: Tx, hub: bytes) -> AuditedLog:
    """An admin looked at a flagged hub: its latest checkpoint held becomes the base its later ones must extend.

    Returns the audit as it was. Raises ``NotFound`` (``not_audited``) when
    the hub's log was never audited.
    """
    audited = await audited_log(tx, hub)
    if audited is None:
        raise NotFound("this hub's log was never audited", code="not_audited")
    await tx.run("DELETE FROM audited_logs WHERE hub = ?", (hub,))
    pending = await new_checkpoints(tx, hub)
    if pending:
        await record_audit(tx, hub, pending[-1], state="consistent")
    return audited


async def check_summary(db: Reader, hub_keys: tuple[bytes, ...], summary: SignedSummary) -> SummaryCheck:
    """Check ``summary`` (by the hub of ``hub_keys``) against the reports held here; see the module docstring."""
    body = summary.body
    second = isinstance(body, RegionalSummaryV2)
    start, end = period_bounds(body.period)
    certified = [c for c in await certificates(db, hub_keys) if c.role == "member"]
    problems: list[Note] = []
    held = readable = 0
    figures = []
    authors: list[bytes] = []
    periods: dict[bytes, list[str]] = defaultdict(list)
    listed = [(record_id, False) for record_id in body.reports]
    if second and body.own is not None:
        listed.append((body.own, True))
    for record_id, own in listed:
        row = await db.one("SELECT author, kind, time, content FROM log_records WHERE id = ?", (record_id,))
        if row is None:
            continue
        held += 1
        short = record_id.hex()[:16]
        if row["kind"] != StatsReport.KIND:
            problems.append(Note("not_a_report", f"listed record {short} is a {row['kind']}, not a statistics report",
                                 {"record": short, "kind": row["kind"]}))  # fmt: skip
            continue
        report = None
        if row["content"] is not None:
            report = StatsReport.model_validate(canonical.decode(row["content"]))
            readable += 1
            figures.append((row["author"], report.period, report.figures))
        period = report.period if report is not None else body.period  # a header only: its period is unknown
        if report is not None and (report.period != body.period if (own or not second)
                                   else not _inside(report.period, body.period)):  # fmt: skip
            problems.append(Note("other_period", f"report {short} is for {report.period}, not {body.period}",
                                 {"record": short, "other": report.period, "period": body.period}))  # fmt: skip
            continue
        p_start, p_end = period_bounds(period)
        if own:
            if row["author"] not in hub_keys:
                problems.append(Note("own_not_hub", f"report {short}, said the hub's own, is another node's",
                                     {"record": short}))  # fmt: skip
        else:
            authors.append(row["author"])
            periods[row["author"]].append(period)
            if not any(c.member == row["author"] and c.covers(p_start, p_end) for c in certified):
                problems.append(Note("not_certified", f"report {short}: its author was not certified by the hub for"
                                     f" {period}", {"record": short, "period": period}))  # fmt: skip
        if row["time"] < p_end and (report is not None or not second):  # a header only of /2: its period unknown
            problems.append(Note("signed_early", f"report {short} was signed before {period} ended",
                                 {"record": short, "period": period}))  # fmt: skip
    both = set(authors) & set(body.missing)
    if both:
        problems.append(Note("counted_and_missing", f"{len(both)} member(s) both counted and said missing",
                             {"count": str(len(both))}))  # fmt: skip
    if any(len(p) > 1 and (not second or _overlap(p)) for p in periods.values()):
        problems.append(Note("counted_twice", "a member is counted twice"))
    if readable == len(listed):
        expected = sum_figures(staff_once(figures))
        withheld = set(body.withheld) if second else set()
        expected = {k: v for k, v in expected.items() if k not in withheld}
        stated = {k: v for k, v in body.figures.items() if not k.startswith("members.")}
        if expected != stated:
            keys = sorted(k for k in expected.keys() | stated.keys() if expected.get(k) != stated.get(k))
            problems.append(Note("figures_differ", f"figures differ from the sum of the reports: {', '.join(keys[:8])}",
                                 {"keys": ", ".join(keys[:8])}))  # fmt: skip
    return SummaryCheck(summary, len(listed), held, readable, problems)


def _inside(part: str, period: str) -> bool:
    """Whether ``part`` is ``period`` or one of the periods inside it."""
    (p_start, p_end), (start, end) = period_bounds(part), period_bounds(period)
    return start <= p_start and p_end <= end


def _overlap(periods: list[str]) -> bool:
    return any(overlaps(a, b) for i, a in enumerate(periods) for b in periods[i + 1:])


async def read_hubs(db: Reader) -> list[HubReading]:
    """Every hub this node admitted, with its latest summary per period checked, and its log's audit."""
    hubs = await db.all("SELECT key, name, network FROM peers WHERE relation = 'downstream' AND role = 'hub' ORDER BY name")
    readings = []
    for hub in hubs:
        keys = await own_keys(db, hub["key"])
        latest: dict[str, SignedSummary] = {}
        for summary in await list_summaries(db, keys):
            if summary.body.period not in latest:  # newest first: the first seen is the latest version
                latest[summary.body.period] = summary
        checks = [await check_summary(db, keys, latest[p]) for p in sorted(latest, reverse=True)]
        readings.append(HubReading(hub["key"], hub["name"], hub["network"], checks, await audited_log(db, hub["key"])))
    return readings


def national_totals(readings: list[HubReading]) -> dict[str, dict[str, int]]:
    """Per period, the hubs' latest summaries added up (``sum_figures``), newest period first."""
    by_period: dict[str, list[dict[str, int]]] = defaultdict(list)
    for reading in readings:
        for check in reading.summaries:
            by_period[check.summary.body.period].append(dict(check.summary.body.figures))
    return {period: sum_figures(by_period[period]) for period in sorted(by_period, reverse=True)}


@dataclass(frozen=True, slots=True)
class HubPeriod:
    """One row of national's table: a hub's latest summary of a period, checked, with every figure."""

    hub: bytes
    name: str
    network: str | None
    check: SummaryCheck

    @property
    def period(self) -> str:
        return self.check.summary.body.period

    @property
    def figures(self) -> dict[str, int]:
        return dict(self.check.summary.body.figures)


def hub_periods(readings: list[HubReading]) -> list[HubPeriod]:
    """One row per hub and period (newest period first, then by hub name): never two networks in one row."""
    rows = [HubPeriod(r.hub, r.name, r.network, c) for r in readings for c in r.summaries]
    rows.sort(key=lambda row: row.name.casefold())
    rows.sort(key=lambda row: period_bounds(row.period), reverse=True)
    return rows
