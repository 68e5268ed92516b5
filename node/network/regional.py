"""A hub's side of the statistics: its members' reports, checked and summed into a signed regional summary.

Members sign a ``stats.report/1`` per period (``node.network.stats_reports``); the
hub holds them like any record. A report **counts** toward the hub's
summary of its period when:

- its content is held here (its audience includes the hub, or is public);
- its author was a member of this hub during the period: a
  ``membership.certificate/1`` of this hub (any of its keys) for that key,
  with role ``member``, whose validity overlaps the period;
- the period had ended when the report was signed (its header's time);
- its figures are within the bounds a summary can add up (``FIGURE_BOUND``,
  no negative number of items of a fate);
- it is its author's latest version for the period (the highest
  ``version``; a correction names the version it supersedes);
- its figures still fit in the summary's 2 000 entries, the reports being
  taken from those with the fewest figures (``_fits``).

The last two rules keep a signed summary within the bounds of
``regional.summary/1`` whatever its members send: a report that would make
it overflow does not count, rather than stopping the hub from signing. Since
every report in bounds sums to a figure in bounds, and the entries are
shared out from the smallest report up, a member cannot push another out by
sending huge figures or thousands of keys.

A report that breaks the second, third, fourth or last rule is held all the
same (its author's log stays whole) and refused at receipt with an alert
(``not_a_member``, ``period_not_ended``, ``summary_overflow``,
``bad_supersedes``), so the hub's admin sees it; it never counts.

The **summary** (``regional.summary/1``) of a period lists the reports that
count (``reports``), the members certified for the period that sent none
(``missing``), and the figures summed by ``sum_figures``. The hub signs it
on demand or in its daily upkeep (``due_summaries``); a summary is signed
again, as version n + 1 superseding n, only when what it would say changed
(a late report, a correction). Its audience is the hub's ``stats``
publication policy (the hub and national under ``hub``).

The same ``sum_figures`` adds the hubs' summaries up on a national node
(``node.network.national``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from node.domain.memberships import Membership, certificates, members_during
from node.domain.publication import audience_for, audience_of, reaches
from node.domain.settings import get_setting
from node.domain.stats import period_bounds
from node.errors import RuleBroken
from node.network.stats_reports import last_ended_period, own_keys, periods_between, publish_report
from node.network.summary_rules import Contribution, parts, publish, staff_once
from node.store.database import Reader, Tx, now_ms
from protocol import canonical
from protocol.kinds import MembershipCertificate, RegionalSummary, RegionalSummaryV2, StatsReport
from protocol.records import Record, stored_header

SUMMARY_KINDS = {RegionalSummary.KIND: RegionalSummary, RegionalSummaryV2.KIND: RegionalSummaryV2}

__all__ = [
    "MemberReport", "Aggregate", "SignedSummary", "sum_figures", "member_reports", "aggregate", "sign_summary",
    "list_summaries", "due_summaries", "report_received", "renew_certificates", "reported_periods",
    "own_report", "own_parts", "counted_reports", "SUMMARY_KINDS",
]  # fmt: skip

# Figures that are not added up across reports: they are ratios or calendar facts, recomputed or kept apart.
_REUSE_RATE = "reuse_rate_permille"
_LEAD_MEAN = "lead_time.mean_days"
_LEAD_MEDIAN = "lead_time.median_days"
_YEARS = "impact.years"
_REUSED, _OTHER_ENDS, _ALL_FATES = ("distributed",), ("recycled", "dismantled"), ("distributed", "recycled",
                                                                                 "dismantled", "transferred")
RENEW_DAYS = 30  # a member's certificate is renewed when it ends within this many days
# A summary lists at most 10 000 reports (< 2**14): figures within ±2**48 add up within the ±2**62 a figure may hold.
FIGURE_BOUND = 2**48
# A summary holds at most 2 000 figures, some of which it may add to those its reports carry.
MAX_FIGURES = 2000
_SUMMARY_KEYS = frozenset({"members.reporting", "members.missing", "reuse_rate_permille", "lead_time.mean_days"})


@dataclass(frozen=True, slots=True)
class MemberReport:
    """A member's report for a period as held here, and whether it counts."""

    id: bytes
    member: bytes
    seq: int
    time: int
    version: int
    supersedes: bytes | None
    figures: dict[str, int]
    counts: bool
    why_not: str = ""  # the rule it breaks, for those that do not count
    audience: tuple[bytes, ...] = ()  # who may read it, as its author signed it (() anyone)
    period: str = ""


@dataclass(frozen=True, slots=True)
class Aggregate:
    """What the hub's summary of ``period`` says (or would say)."""

    period: str
    figures: dict[str, int]  # what the summary says: its publication rule applied
    reports: list[MemberReport]  # those that count: one per member, or its quarters' and months' (a year, a quarter)
    missing: list[bytes]  # members certified for the period without a report that counts
    names: dict[bytes, str]  # the names of every node the hub certified, from their certificates
    own: MemberReport | None = None  # the hub's own report for the period
    # without one, its own reports of the periods inside it (a quarter's months...): what the hub's pages and its
    # year count of its own activity until it signs a report of the period (signing the summary does, first)
    own_parts: list[MemberReport] = field(default_factory=list)
    all_figures: dict[str, int] = field(default_factory=dict)  # every figure summed, for the hub's eyes
    pooled: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    min_members: int = 3

    def same_as(self, body: RegionalSummary | RegionalSummaryV2) -> bool:
        return (isinstance(body, RegionalSummaryV2) and sorted(r.id for r in self.reports) == body.reports
                and sorted(self.missing) == body.missing and self.figures == dict(body.figures)
                and (self.own.id if self.own else None) == body.own and self.pooled == body.pooled
                and self.withheld == body.withheld and self.min_members == body.min_members)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SignedSummary:
    """A regional summary as held: by this hub, or (on a national node) by a hub it reads."""

    id: bytes
    author: bytes
    seq: int
    time: int
    body: RegionalSummary | RegionalSummaryV2
    superseded: bool


def sum_figures(reports: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The figures of several reports (or summaries) as one: counts and weights added up.

    ``reuse_rate_permille`` is recomputed from the summed fates (distributed
    × 1000 / (distributed + recycled + dismantled), rounded half up);
    ``lead_time.mean_days`` is the mean of the reports' means weighted by
    their number of fates; ``lead_time.median_days`` cannot be combined and
    is left out; ``impact.years`` is kept when every report says the same.
    Every other figure is added up.
    """
    total: dict[str, int] = defaultdict(int)
    years: set[int] = set()
    weighted_days = weight = 0
    for figures in reports:
        for key, value in figures.items():
            if key in (_REUSE_RATE, _LEAD_MEAN, _LEAD_MEDIAN):
                continue
            if key == _YEARS:
                years.add(value)
                continue
            total[key] += value
        if _LEAD_MEAN in figures:
            fates = _units(figures, _ALL_FATES)
            weighted_days += figures[_LEAD_MEAN] * fates
            weight += fates
    out = dict(total)
    reused, ended = _units(out, _REUSED), _units(out, _REUSED + _OTHER_ENDS)
    if ended:
        out[_REUSE_RATE] = (reused * 1000 * 2 + ended) // (2 * ended)
    if weight:
        out[_LEAD_MEAN] = (weighted_days * 2 + weight) // (2 * weight)
    if len(years) == 1:
        out[_YEARS] = years.pop()
    return out


def _units(figures: Mapping[str, int], fates: tuple[str, ...]) -> int:
    return sum(value for key, value in figures.items() if _is_fate_units(key, fates))


def _is_fate_units(key: str, fates: tuple[str, ...]) -> bool:
    """``<fate>.<category>.units`` for one of ``fates``: the figures the reuse rate and lead time are weighed by."""
    return key.endswith(".units") and key.split(".", 1)[0] in fates and key.count(".") == 2


async def member_reports(db: Reader, hub_keys: tuple[bytes, ...], period: str) -> list[MemberReport]:
    """Every report held for ``period`` by anyone, oldest first, each said to count or not (and why)."""
    start, end = period_bounds(period)
    certified = [c for c in await certificates(db, hub_keys) if c.role == "member"]
    # the period's text is in the content's bytes: a cheap filter before decoding (then checked exactly)
    rows = await db.all("SELECT id, author, seq, time, envelope, content FROM log_records WHERE kind = ?"
                        " AND content IS NOT NULL AND instr(content, ?) > 0 ORDER BY time, seq",
                        (StatsReport.KIND, period.encode()))  # fmt: skip
    found = []
    for row in rows:
        if row["author"] in hub_keys:  # the hub's own report: ``own_report``
            continue
        body = StatsReport.model_validate(canonical.decode(row["content"]))
        if body.period != period:
            continue
        why = _breaks(row["author"], row["time"], start, end, certified) or _out_of_bounds(body.figures)
        found.append(MemberReport(row["id"], row["author"], row["seq"], row["time"], body.version, body.supersedes,
                                  dict(body.figures), counts=not why, why_not=why,
                                  audience=stored_header(row["envelope"]).audience, period=period))  # fmt: skip
    latest: dict[bytes, MemberReport] = {}
    for report in found:
        if report.counts:
            best = latest.get(report.member)
            if best is None or (report.version, report.seq) > (best.version, best.seq):
                latest[report.member] = report
    chosen = {r.id for r in latest.values()}
    fitting = _fits(latest.values())
    out = []
    for report in found:
        if report.counts and report.id not in fitting:
            report = _not_counted(report, "summary_overflow" if report.id in chosen else "superseded")
        out.append(report)
    return out


def _not_counted(report: MemberReport, why: str) -> MemberReport:
    return MemberReport(report.id, report.member, report.seq, report.time, report.version, report.supersedes,
                        report.figures, counts=False, why_not=why, audience=report.audience,
                        period=report.period)  # fmt: skip


def _out_of_bounds(figures: Mapping[str, int]) -> str:
    """``summary_overflow`` when ``figures`` could make a summary overflow, else ``""``.

    A figure beyond ``FIGURE_BOUND``, or a negative number of items of a fate
    (the recomputed reuse rate and mean lead time then stay within their
    parts' bounds).
    """
    for key, value in figures.items():
        if abs(value) > FIGURE_BOUND or (value < 0 and _is_fate_units(key, _ALL_FATES)):
            return "summary_overflow"
    return ""


def _fits(reports: Iterable[MemberReport]) -> set[bytes]:
    """The ids of ``reports`` whose figures fit in a summary's entries, taken from the fewest figures up (then id).

    A report whose keys would take the summary past ``MAX_FIGURES`` entries
    (with those a summary may add) is left out; the next may still fit.
    """
    keys = set(_SUMMARY_KEYS)
    fitting = set()
    for report in sorted(reports, key=lambda r: (len(r.figures), r.id)):
        new = report.figures.keys() - keys
        if len(keys) + len(new) <= MAX_FIGURES:
            keys |= new
            fitting.add(report.id)
    return fitting


def _breaks(author: bytes, signed_at: int, start: int, end: int, certified: list[Membership]) -> str:
    """The rule a report of ``author`` signed at ``signed_at`` for [start, end) breaks, or ``""``."""
    if not any(c.member == author and c.covers(start, end) for c in certified):
        return "not_a_member"
    if signed_at < end:
        return "period_not_ended"
    return ""


async def own_report(db: Reader, hub_keys: tuple[bytes, ...], period: str) -> MemberReport | None:
    """The hub's own latest report for ``period`` (its own workshop, what it received from donors), if signed."""
    _, end = period_bounds(period)
    marks = ", ".join("?" * len(hub_keys))
    rows = await db.all(f"SELECT id, author, seq, time, envelope, content FROM log_records WHERE kind = ?"
                        f" AND author IN ({marks}) AND content IS NOT NULL AND instr(content, ?) > 0",
                        (StatsReport.KIND, *hub_keys, period.encode()))  # fmt: skip
    best = None
    for row in rows:
        body = StatsReport.model_validate(canonical.decode(row["content"]))
        if body.period != period or row["time"] < end or _out_of_bounds(body.figures):
            continue
        report = MemberReport(row["id"], row["author"], row["seq"], row["time"], body.version, body.supersedes,
                              dict(body.figures), counts=True, audience=stored_header(row["envelope"]).audience,
                              period=period)  # fmt: skip
        if best is None or (report.version, report.seq) > (best.version, best.seq):
            best = report
    return best


async def own_parts(db: Reader, hub_keys: tuple[bytes, ...], period: str) -> list[MemberReport]:
    """The hub's own reports standing for ``period`` when it signed none for it: as a member's
    (``counted_reports``), per quarter its report of the quarter, else those of its months."""
    out = []
    for part, below in parts(period):
        report = await own_report(db, hub_keys, part)
        if report is not None:
            out.append(report)
            continue
        for month in below:
            report = await own_report(db, hub_keys, month)
            if report is not None:
                out.append(report)
    return out


async def counted_reports(db: Reader, hub_keys: tuple[bytes, ...], period: str) -> list[MemberReport]:
    """The members' reports that count for ``period``: per member, its report of the period, or else those of
    the periods inside it (``node.network.summary_rules.parts``), coarsest first, each time counted once."""
    inside = [(part, below) for part, below in parts(period)]
    levels = [period, *(p for p, _ in inside), *(m for _, below in inside for m in below)]
    counted = {p: {r.member: r for r in await member_reports(db, hub_keys, p) if r.counts} for p in levels}
    out = []
    for member in sorted({m for by in counted.values() for m in by}):
        if member in counted[period]:
            out.append(counted[period][member])
            continue
        for part, below in inside:
            if member in counted[part]:
                out.append(counted[part][member])
            else:
                out.extend(counted[m][member] for m in below if member in counted[m])
    return out


async def aggregate(db: Reader, hub: bytes, period: str) -> Aggregate:
    """What the summary of ``period`` by the hub of key ``hub`` would say now."""
    keys = await own_keys(db, hub)
    members = await members_during(db, keys, period)
    counted = await counted_reports(db, keys, period)
    own = await own_report(db, keys, period)
    inside = await own_parts(db, keys, period) if own is None else []
    fitting = _fits([*counted, *([own] if own else []), *inside])
    counted = [r for r in counted if r.id in fitting][:10_000]
    own = own if own is not None and own.id in fitting else None
    inside = [r for r in inside if r.id in fitting]
    reporting = {r.member for r in counted}
    missing = sorted(key for key in members if key not in reporting)
    everyone = [*counted, *([own] if own else []), *inside]
    figures = staff_once([(r.member, r.period, r.figures) for r in everyone])
    summed = sum_figures(figures)
    summed["members.reporting"] = len(reporting)
    summed["members.missing"] = len(missing)
    readers = await audience_of(db, hub, "stats")
    k = await get_setting(db, "summary_min_members")
    published = publish(summed, [Contribution(r.member, f, reaches(r.audience, readers))
                                 for r, f in zip(everyone, figures)], k)  # fmt: skip
    names = {c.member: c.name for c in await certificates(db, keys)}
    return Aggregate(period, published.figures, counted, missing, names, own, inside, summed, published.pooled,
                     published.withheld, k)  # fmt: skip


async def list_summaries(db: Reader, authors: Iterable[bytes], period: str | None = None) -> list[SignedSummary]:
    """The regional summaries ``authors`` signed that are held with their content, newest first."""
    authors = tuple(authors)
    marks = ", ".join("?" * len(authors))
    rows = await db.all(f"SELECT id, author, seq, time, kind, content FROM log_records WHERE kind IN (?, ?)"
                        f" AND author IN ({marks}) AND content IS NOT NULL ORDER BY time, seq",
                        (*SUMMARY_KINDS, *authors))  # fmt: skip
    bodies = [SUMMARY_KINDS[r["kind"]].model_validate(canonical.decode(r["content"])) for r in rows]
    superseded = {b.supersedes for b in bodies if b.supersedes is not None}
    out = [SignedSummary(r["id"], r["author"], r["seq"], r["time"], b, r["id"] in superseded)
           for r, b in zip(rows, bodies) if period is None or b.period == period]  # fmt: skip
    return out[::-1]


async def sign_summary(tx: Tx, period: str, *, now: int | None = None) -> Record | None:
    """Sign the summary of ``period`` when it would say something new; ``None`` when the last one still holds.

    Refuses: ``Invalid`` (``invalid_period``) for a text that is no period;
    ``RuleBroken`` ``not_a_hub`` on a node that admitted no member,
    ``period_not_ended``, ``not_published`` when the policy shares no statistics.
    """
    _, end = period_bounds(period)
    if not any(c.role == "member" for c in await certificates(tx, await own_keys(tx, tx.author))):
        raise RuleBroken("this node admitted no member: it has nothing to summarise", code="not_a_hub")
    if end > (now_ms() if now is None else now):
        raise RuleBroken(f"{period} has not ended yet: its summary is signed once it has", code="period_not_ended")
    audience = await audience_for(tx, "stats")
    if audience is None:
        raise RuleBroken("the publication policy shares no statistics (publication_policy: stats is none)",
                         code="not_published")  # fmt: skip
    keys = await own_keys(tx, tx.author)
    if await own_report(tx, keys, period) is None:
        await publish_report(tx, period, now=now)  # the hub's own activity is in its summary
    current = await aggregate(tx, tx.author, period)
    previous = await list_summaries(tx, keys, period)
    last = previous[0] if previous else None
    if last is not None and current.same_as(last.body):
        return None
    body = RegionalSummaryV2(period=period, figures=current.figures, reports=sorted(r.id for r in current.reports),
                             missing=current.missing, own=current.own.id if current.own else None,
                             pooled=current.pooled, withheld=current.withheld, min_members=current.min_members,
                             version=1 if last is None else last.body.version + 1,
                             supersedes=None if last is None else last.id)  # fmt: skip
    return await tx.append(body, audience)


async def reported_periods(db: Reader) -> list[str]:
    """Every period for which a report or a summary is held, newest first (periods sort as text)."""
    periods = set()
    for kind, model in ((StatsReport.KIND, StatsReport), *SUMMARY_KINDS.items()):
        for row in await db.all("SELECT content FROM log_records WHERE kind = ? AND content IS NOT NULL", (kind,)):
            periods.add(model.model_validate(canonical.decode(row["content"])).period)
    return sorted(periods, reverse=True)


async def due_summaries(db: Reader, today: date, hub: bytes) -> list[str]:
    """Periods whose summary the daily upkeep should sign, oldest first.

    Every period of ``stats_schedule`` ended since the hub admitted its
    first member (a hub off across several period ends signs each), every
    ended period a member reported, and those already summarised:
    ``sign_summary`` signs nothing for a period whose summary still holds,
    so a late report or a correction is taken in the day after it arrives.
    """
    keys = await own_keys(db, hub)
    periods = {s.body.period for s in await list_summaries(db, keys)}
    ended = int(datetime(today.year, today.month, today.day, tzinfo=ZoneInfo("Europe/Paris")).timestamp()) * 1000
    members = {c.member for c in await certificates(db, keys) if c.role == "member"} | set(keys)
    rows = await db.all("SELECT author, content FROM log_records WHERE kind = ? AND content IS NOT NULL",
                        (StatsReport.KIND,))  # fmt: skip
    for row in rows:
        if row["author"] not in members:  # another network's member, relayed: not this hub's to summarise
            continue
        period = StatsReport.model_validate(canonical.decode(row["content"])).period
        if period_bounds(period)[1] <= ended:
            periods.add(period)
    marks = ", ".join("?" * len(keys))
    first = await db.value(f"SELECT min(time) FROM log_records WHERE kind = ? AND author IN ({marks})",
                           (MembershipCertificate.KIND, *keys))  # fmt: skip
    if first is not None:
        since = datetime.fromtimestamp(first / 1000, ZoneInfo("Europe/Paris")).date()
        periods.update(periods_between(await get_setting(db, "stats_schedule"), since, today))
    last = last_ended_period(await get_setting(db, "stats_schedule"), today)
    if last is not None:
        periods.add(last)
    return sorted(periods, key=lambda p: (period_bounds(p)[1], -period_bounds(p)[0]))


async def report_received(tx: Tx, record: Record, body: StatsReport) -> None:
    """At a hub, a member's report arrives: refuse it (``RuleBroken``, an alert) if it cannot count.

    Held either way. Checked: the author was certified by this hub for the
    period, the period had ended when it was signed, its figures keep the
    summary within its bounds (``summary_overflow``), and a correction
    supersedes the author's previous version of the same period.
    """
    author = record.header.author
    held = ("member certificates", author)  # the hub signs them itself: no received record adds one
    if held not in tx.memo:
        keys = await own_keys(tx, tx.author)
        tx.memo[held] = [c for c in await certificates(tx, keys, member=author) if c.role == "member"]
    start, end = period_bounds(body.period)
    why = _breaks(author, record.header.time, start, end, tx.memo[held])
    if why == "not_a_member":
        raise RuleBroken(f"report for {body.period}: its author was not certified by this hub during the period",
                         code="not_a_member")  # fmt: skip
    if why:
        raise RuleBroken(f"report for {body.period} signed before the period ended", code=why)
    if _out_of_bounds(body.figures) or not await _fits_at_receipt(tx, record, body):
        raise RuleBroken(f"report for {body.period}: its figures would take the summary beyond what a "
                         f"regional.summary/1 holds (a figure beyond ±2^48, a negative count of items, "
                         f"more than {MAX_FIGURES} figures in all)", code="summary_overflow")  # fmt: skip
    if body.supersedes is not None:
        row = await tx.one("SELECT author, content FROM log_records WHERE id = ? AND kind = ? AND content IS NOT NULL",
                           (body.supersedes, StatsReport.KIND))  # fmt: skip
        earlier = None if row is None else StatsReport.model_validate(canonical.decode(row["content"]))
        if (earlier is None or row["author"] not in await own_keys(tx, author) or earlier.period != body.period
                or earlier.version >= body.version):  # fmt: skip
            raise RuleBroken(f"report for {body.period} version {body.version} supersedes no earlier version "
                             f"of its author for that period", code="bad_supersedes")  # fmt: skip


async def _fits_at_receipt(tx: Tx, record: Record, body: StatsReport) -> bool:
    """Whether ``record`` (held already) keeps a place among the summary's figures of its period.

    The keys of the period's reports held are gathered once per transaction;
    only when they could not all fit does it take the reports that count.
    """
    gathered = ("report keys", body.period)
    if gathered not in tx.memo:
        rows = await tx.all("SELECT content FROM log_records WHERE kind = ? AND content IS NOT NULL"
                            " AND instr(content, ?) > 0", (StatsReport.KIND, body.period.encode()))  # fmt: skip
        keys = set(_SUMMARY_KEYS)
        for row in rows:
            held = StatsReport.model_validate(canonical.decode(row["content"]))
            if held.period == body.period:
                keys.update(held.figures)
        tx.memo[gathered] = keys
    keys = tx.memo[gathered]
    keys.update(body.figures)
    if len(keys) <= MAX_FIGURES:
        return True
    reports = await member_reports(tx, await own_keys(tx, tx.author), body.period)
    return any(r.id == record.id and r.why_not != "summary_overflow" for r in reports)


async def renew_certificates(tx: Tx, *, now: int | None = None, days: int = 366) -> list[Record]:
    """Sign a new certificate for each active downstream peer whose last one ends within ``RENEW_DAYS``.

    A certificate that ended more than ``RENEW_DAYS`` ago is not renewed
    (the membership lapsed; a new invitation admits the node again), nor
    is a revoked peer's: its certificate runs out, and its later reports no
    longer count.
    """
    now = now_ms() if now is None else now
    last: dict[bytes, Membership] = {}
    for cert in await certificates(tx, await own_keys(tx, tx.author)):
        if cert.member not in last or cert.valid_until > last[cert.member].valid_until:
            last[cert.member] = cert
    active = {row["key"] for row in await tx.all("SELECT key FROM peers WHERE relation = 'downstream' AND state = 'active'")}
    renewed = []
    for member, cert in sorted(last.items()):
        if member in active and abs(cert.valid_until - now) < RENEW_DAYS * 86_400_000:
            start = max(now, cert.valid_until)  # the new one follows the old one without a gap
            renewed.append(await tx.append(MembershipCertificate(
                member=member, member_name=cert.name, role=cert.role, network=cert.network,
                valid_from=start, valid_until=start + days * 86_400_000)))  # fmt: skip
    return renewed
