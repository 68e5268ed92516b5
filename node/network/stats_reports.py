"""A member's statistics report: its figures for a period, signed as ``stats.report/1`` for its hub.

The figures are ``node.domain.stats``'s for the period, less the stock figures:
those describe the workshop when they are computed, not the period, so two
reports of the same period would differ for no reason of the period's own.
The workforce figures the association chose to share (the ``workforce``
setting) are added when the publication policy allows them.

What leaves the node is decided once, by ``_draft``: ``preview`` shows it
and ``publish_report`` signs it, so what the person saw is what is signed.
The ``publication_policy`` setting gives the record its audience
(``node.domain.publication``):

* ``stats`` is ``none``: nothing is signed (``RuleBroken`` ``not_published``);
* workforce figures go only when ``workforce`` is not ``none`` and reaches at
  least as far as ``stats`` (``hub`` < ``network`` < ``public``): the record
  has one audience, the statistics' one, and must not carry workforce
  figures further than the policy lets them go.

A report is never edited: sending a period again signs version n + 1 whose
``supersedes`` names version n. ``due_reports`` tells the daily upkeep which
period ended and was not reported yet under the ``stats_schedule`` setting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from node.domain.impact import FACTOR_TABLES
from node.domain.memberships import certificates, network_keys
from node.domain.publication import audience_for
from node.domain.settings import POLICY_AUDIENCES, get_setting
from node.domain.stats import compute_stats, period_bounds
from node.errors import RuleBroken
from node.notes import Note
from node.store.database import Reader, Tx, now_ms
from protocol import canonical
from protocol.keys import fingerprint
from protocol.kinds import KeyRotation, StatsReport
from protocol.records import Record, stored_header

__all__ = [
    "ReportPreview", "SentReport", "build_report", "preview", "publish_report", "list_reports", "due_reports",
    "own_keys", "workforce_figures", "reader_names", "last_ended_period", "periods_between", "overlaps", "covered",
]  # fmt: skip

# Figures about the workshop at the time of computing, not about the period.
_SNAPSHOT_PREFIX = "stock."
_WORKFORCE_FIGURES = {"fte": "workforce.fte_hundredths", "insertion_jobs": "workforce.insertion_jobs",
                      "volunteers": "workforce.volunteers"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReportPreview:
    """What sending a period's report would sign, and for whom.

    ``audience`` is ``None`` when the policy publishes no statistics (then
    ``body`` is ``None`` and nothing would leave), ``()`` for anyone, else
    the keys that may read it. ``notes`` say what is kept on this node, and why.
    """

    period: str
    level: str
    audience: tuple[bytes, ...] | None
    body: StatsReport | None
    notes: tuple[Note, ...]

    @property
    def figures(self) -> dict[str, int]:
        """Exactly the figures that would leave the node (none under a ``none`` policy)."""
        return dict(self.body.figures) if self.body is not None else {}


@dataclass(frozen=True, slots=True)
class SentReport:
    """A report this node signed, as its log holds it."""

    id: bytes
    seq: int
    time: int
    period: str
    version: int
    supersedes: bytes | None
    superseded: bool
    audience: tuple[bytes, ...]
    figures: dict[str, int]
    factor_version: str | None


def workforce_figures(value: str) -> dict[str, int]:
    """The figures of the ``workforce`` setting (checked when set): FTE in hundredths, jobs, volunteers."""
    shared = json.loads(value)
    figures = {}
    for name, key in _WORKFORCE_FIGURES.items():
        if name in shared:
            figures[key] = round(shared[name] * 100) if name == "fte" else shared[name]
    return figures


async def build_report(db: Reader, period: str, *, now: int | None = None, me: bytes | None = None) -> StatsReport:
    """Version 1 of ``period``'s report from this node's data: every figure, workforce included.

    ``publish_report`` numbers it and removes what the policy keeps home.
    ``me``: this node's key, to tell hand-offs inside its network from the
    others (a transaction's author by default; without either, every
    hand-off counts as from or to another network).
    """
    start, end = period_bounds(period)
    factors = await get_setting(db, "impact_factors")
    me = me if me is not None else (db.author if isinstance(db, Tx) else None)
    network = await network_keys(db, me) if me is not None else frozenset()
    stats = await compute_stats(db, start, end, years=await get_setting(db, "years_of_second_life"),
                                factors=FACTOR_TABLES[factors], now=now, network=network)  # fmt: skip
    figures = {key: value for key, value in stats.as_figures().items() if not key.startswith(_SNAPSHOT_PREFIX)}
    figures |= workforce_figures(await get_setting(db, "workforce"))
    return StatsReport(period=period, version=1, figures=figures, factor_version=factors)


async def preview(tx: Tx, period: str, *, now: int | None = None) -> ReportPreview:
    """Exactly what ``publish_report`` would sign now for ``period``, and its audience.

    A transaction because the audience is computed as when signing; it
    writes nothing.
    """
    return await _draft(tx, period, now=now)


async def publish_report(tx: Tx, period: str, *, now: int | None = None) -> Record:
    """Sign ``period``'s report (a new version when it was sent before); the federation routes it.

    Refuses (``RuleBroken``) when the policy publishes no statistics
    (``not_published``) or the period has not ended (``period_not_ended``).
    """
    draft = await _draft(tx, period, now=now)
    if draft.body is None or draft.audience is None:
        raise RuleBroken("the publication policy shares no statistics (publication_policy: stats is none)",
                         code="not_published")  # fmt: skip
    _, end = period_bounds(period)
    if end > (now_ms() if now is None else now):
        raise RuleBroken(f"{period} has not ended yet: its report is sent once it has", code="period_not_ended")
    return await tx.append(draft.body, draft.audience)


async def _draft(tx: Tx, period: str, *, now: int | None) -> ReportPreview:
    policy = json.loads(await get_setting(tx, "publication_policy"))
    level = policy["stats"]
    audience = await audience_for(tx, "stats")
    if audience is None:
        period_bounds(period)  # a wrong period is still said to be wrong
        return ReportPreview(period, level, None, None,
                             (Note("not_published", "the publication policy shares no statistics"),))  # fmt: skip
    report = await build_report(tx, period, now=now)
    notes = [Note("stock_kept", "stock figures describe the workshop today, not the period: not reported")]
    if period_bounds(period)[1] > (now_ms() if now is None else now):
        notes.append(Note("period_not_ended", f"{period} has not ended: these figures are partial, and the report is"
                          " sent once it has", {"period": period}))  # fmt: skip
    figures = dict(report.figures)
    workforce = [key for key in figures if key.startswith("workforce.")]
    if workforce and POLICY_AUDIENCES.index(policy["workforce"]) < POLICY_AUDIENCES.index(level):
        for key in workforce:
            del figures[key]
        notes.append(Note("workforce_kept", f"workforce figures kept here: the policy shares them with"
                          f" {policy['workforce']}, statistics with {level}",
                          {"workforce": policy["workforce"], "stats": level}))  # fmt: skip
    previous = [r for r in await list_reports(tx, await own_keys(tx, tx.author)) if r.period == period]
    last = max(previous, key=lambda r: r.version, default=None)
    body = StatsReport(period=period, figures=figures, factor_version=report.factor_version,
                       version=1 if last is None else last.version + 1,
                       supersedes=None if last is None else last.id)  # fmt: skip
    return ReportPreview(period, level, audience, body, tuple(notes))


async def own_keys(db: Reader, me: bytes) -> tuple[bytes, ...]:
    """``me`` and the keys this node had before, following its ``key.rotation/1`` records back."""
    keys = [me]
    rows = await db.all("SELECT author, content FROM log_records WHERE kind = ? AND content IS NOT NULL",
                        (KeyRotation.KIND,))  # fmt: skip
    successor = {KeyRotation.model_validate(canonical.decode(r["content"])).new_key: r["author"] for r in rows}
    while keys[-1] in successor and successor[keys[-1]] not in keys:
        keys.append(successor[keys[-1]])
    return tuple(keys)


async def list_reports(db: Reader, authors: tuple[bytes, ...] | bytes) -> list[SentReport]:
    """The statistics reports ``authors`` signed (this node: ``own_keys``), newest first."""
    authors = (authors,) if isinstance(authors, bytes) else authors
    marks = ", ".join("?" * len(authors))
    rows = await db.all(f"SELECT id, seq, time, envelope, content FROM log_records"
                        f" WHERE kind = ? AND author IN ({marks}) AND content IS NOT NULL ORDER BY time, seq",
                        (StatsReport.KIND, *authors))  # fmt: skip
    bodies = [StatsReport.model_validate(canonical.decode(r["content"])) for r in rows]
    superseded = {b.supersedes for b in bodies if b.supersedes is not None}
    reports = [
        SentReport(id=r["id"], seq=r["seq"], time=r["time"], period=b.period, version=b.version,
                   supersedes=b.supersedes, superseded=r["id"] in superseded,
                   audience=stored_header(r["envelope"]).audience, figures=dict(b.figures),
                   factor_version=b.factor_version)  # fmt: skip
        for r, b in zip(rows, bodies)
    ]
    return reports[::-1]


def last_ended_period(schedule: str, today: date) -> str | None:
    """The last calendar period of ``schedule`` that ended before ``today``; None when ``off``."""
    if schedule == "monthly":
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        return f"{year}-{month:02d}"
    if schedule == "quarterly":
        quarter = (today.month - 1) // 3
        return f"{today.year}-Q{quarter}" if quarter else f"{today.year - 1}-Q4"
    if schedule == "yearly":
        return str(today.year - 1)
    return None


def periods_between(schedule: str, first: date, today: date) -> list[str]:
    """The periods of ``schedule`` from the one holding ``first`` to the last one ended before ``today``, in order."""
    last = last_ended_period(schedule, today)
    if last is None or first >= today:
        return []
    out: list[str] = []
    year, index = first.year, {"monthly": first.month, "quarterly": (first.month - 1) // 3 + 1, "yearly": 1}[schedule]
    size = {"monthly": 12, "quarterly": 4, "yearly": 1}[schedule]
    while True:
        period = {"monthly": f"{year}-{index:02d}", "quarterly": f"{year}-Q{index}", "yearly": str(year)}[schedule]
        out.append(period)
        if period == last or len(out) > 10_000:
            return out
        index += 1
        if index > size:
            year, index = year + 1, 1


@lru_cache(maxsize=4096)
def _bounds(period: str) -> tuple[int, int]:
    return period_bounds(period)


def overlaps(a: str, b: str) -> bool:
    """Whether two periods share some time (one holds the other, or they are the same)."""
    (a_start, a_end), (b_start, b_end) = _bounds(a), _bounds(b)
    return a_start < b_end and b_start < a_end


def _months(period: str) -> list[str]:
    """The months of a period, in order."""
    if len(period) == 7 and "-Q" not in period:
        return [period]
    first, count = (3 * int(period[-1]) - 2, 3) if "-Q" in period else (1, 12)
    return [f"{period[:4]}-{m:02d}" for m in range(first, first + count)]


def covered(period: str, reported: list[str], since: int) -> bool:
    """Whether ``reported`` periods cover all of ``period`` from ``since`` (ms) on: each of its months that
    ends after ``since`` is inside one of them (itself, its quarter or year, or the month itself)."""
    spans = [_bounds(p) for p in reported]
    for month in _months(period):
        start, end = _bounds(month)
        if end > since and not any(a <= start and end <= b for a, b in spans):
            return False
    return True


MAX_DUE = 60  # reports signed in one day's upkeep at most; the next ones the day after, in order


async def due_reports(db: Reader, today: date, me: bytes) -> list[str]:
    """The periods to report automatically, oldest first: every one ended under ``stats_schedule`` not reported yet.

    From the start of this node's membership (the earliest certificate of
    its hub for one of its keys): a node that was off across several period
    ends sends each missed period, in order, not only the last one. A period
    is not due when this node's reports already cover all of it since its
    membership began (``covered``: a quarter's or a year's report covers its
    months; the months' reports together cover their quarter), nor when no
    certificate of the hub covers it (the hub counts no report of a period
    its member was not a member in). After a change of schedule, a period
    partly reported (March sent, then quarterly) is still sent whole: the hub
    counts each member's time once, at the coarsest level it reported
    (``node.network.summary_rules.parts``), so nothing is left out and
    nothing is counted twice.
    """
    schedule = await get_setting(db, "stats_schedule")
    if last_ended_period(schedule, today) is None:
        return []
    keys = await own_keys(db, me)
    sent = {r.period for r in await list_reports(db, keys)}
    hubs = [row[0] for row in await db.all("SELECT key FROM peers WHERE relation = 'upstream' AND state = 'active'")]
    held = [c for c in await certificates(db, hubs) if c.member in keys]
    if not held:
        return []
    zone = ZoneInfo("Europe/Paris")
    since = max(min(c.valid_from for c in held), 0)
    first = datetime.fromtimestamp(since / 1000, zone).date()
    due = []
    for period in periods_between(schedule, first, today):
        start, end = period_bounds(period)
        if any(c.covers(start, end) for c in held) and not covered(period, sorted(sent), since):
            due.append(period)
            if len(due) == MAX_DUE:
                break
    return due


async def reader_names(db: Reader, audience: tuple[bytes, ...], me: bytes) -> list[str]:
    """Who each key of an audience is, for the person: this node, a peer's name, or a fingerprint."""
    names = {r["key"]: f"{r['name']} ({r['relation']})" for r in await db.all("SELECT key, name, relation FROM peers")}
    return [("this node" if key == me else names.get(key, "a member of the network")) + f" {fingerprint(key)}"
            for key in audience]  # fmt: skip
