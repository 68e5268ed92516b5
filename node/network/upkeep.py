"""The node's daily upkeep: erasure past retention, stale import previews, due reports, certificates, summaries.

``maillon run`` runs it at start, then every day (``node.cli.main``). Each task
runs whatever became of the others: a task that fails is logged and raises
an alert (``upkeep_failed``, its reason naming the task: ``UPKEEP_TASKS``)
that the admin sees on the federation page, and is tried again the next day.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from node.domain.alerts import raise_alert
from node.domain.beneficiaries import erase_expired
from node.domain.settings import get_setting
from node.errors import NodeError
from node.network.regional import certificates, due_summaries, renew_certificates, sign_summary
from node.network.silence import check_silence
from node.network.stats_reports import due_reports, own_keys, publish_report
from node.store.database import Store, Tx
from node.store.files import prune_pending

__all__ = ["daily_upkeep", "look_for_silence", "UPKEEP_TASKS"]

logger = logging.getLogger(__name__)


async def daily_upkeep(store: Store, *, today: date | None = None) -> None:
    """What must happen at least daily: erase beneficiaries' details past retention, send due reports.

    It also removes the files uploaded for an import preview and never confirmed,
    past their day (``node.store.files.prune_pending``; the database lives in
    the data directory, so that directory is ``store.path.parent``).

    A statistics report is due when a period of the ``stats_schedule`` ended
    and was not reported; it is signed only for a node with a hub (an active
    upstream peer) and a policy that publishes statistics. A report that
    cannot be signed today is logged and tried again the next day.

    A node that admitted others (a hub, national) also renews the
    certificates of its active members that end within a month and, when
    it has members, signs the summaries due (``node.network.regional.due_summaries``).

    Last, it raises an alert for each member silent longer than its
    reporting period and each peer unreachable for more than a day
    (``node.network.silence``).

    Each task runs whatever became of the others: one that fails is logged
    and raises an alert ``upkeep_failed`` naming it (``UPKEEP_TASKS``), and
    is tried again the next day. Nothing escapes, so the daily loop goes on.
    """
    async def erase() -> None:
        async with store.transaction() as tx:
            await erase_expired(tx)

    async def reports() -> None:
        async with store.reader() as db:
            has_hub = await db.value("SELECT 1 FROM peers WHERE relation = 'upstream' AND state = 'active' LIMIT 1")
            published = json.loads(await get_setting(db, "publication_policy"))["stats"] != "none"
            due = await due_reports(db, day, store.key.public.raw) if has_hub and published else []
        await _sign_each(store, due, publish_report, "stats_report")

    async def renew() -> None:
        async with store.transaction() as tx:
            await renew_certificates(tx)

    async def summaries() -> None:
        async with store.reader() as db:
            me = store.key.public.raw
            has_members = any(c.role == "member" for c in await certificates(db, await own_keys(db, me)))
            due = await due_summaries(db, day, me) if has_members else []
        await _sign_each(store, due, sign_summary, "regional_summary")

    async def previews() -> None:
        removed = prune_pending(store.path.parent)
        if removed:
            logger.info("daily upkeep: %d import preview(s) never confirmed removed", removed)

    await _guarded(store, "erase_expired", "", erase)
    await _guarded(store, "imports_pending", "", previews)
    if store.writes_held:
        return
    day = today or datetime.now(ZoneInfo("Europe/Paris")).date()  # the periods are Paris calendar periods
    await _guarded(store, "stats_report", "", reports)
    await _guarded(store, "renew_certificates", "", renew)
    await _guarded(store, "regional_summary", "", summaries)

    await look_for_silence(store)


async def look_for_silence(store: Store) -> None:
    """Alerts for silent members and unreachable peers (``node.network.silence``); ``maillon run`` also does it hourly."""
    if store.writes_held:
        return

    async def silence() -> None:
        async with store.transaction() as tx:
            await check_silence(tx)

    await _guarded(store, "silence", "", silence)


# The tasks of the daily upkeep, as an alert names them (its reason), and what each does.
UPKEEP_TASKS = {
    "erase_expired": "erasing beneficiaries' details past retention",
    "imports_pending": "removing the import previews never confirmed",
    "stats_report": "signing this node's statistics report",
    "renew_certificates": "renewing members' certificates",
    "regional_summary": "signing the regional summary",
    "silence": "looking for silent members and unreachable peers",
}


async def _guarded(store: Store, task: str, period: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run one task of the upkeep; should it fail, log it, raise an alert naming it, and return all the same."""
    what = UPKEEP_TASKS[task] + (f" for {period}" if period else "")
    try:
        await run()
    except Exception as exc:  # anything: the other tasks, and tomorrow's upkeep, must still run
        logger.exception("daily upkeep: %s failed", what)
        reason = exc.message if isinstance(exc, NodeError) else f"{type(exc).__name__}: {exc}"
        try:
            async with store.transaction() as tx:
                await raise_alert(tx, "upkeep_failed", task, detail=f"{what} failed: {reason}")
        except Exception:  # the database itself fails: the log is all that is left
            logger.exception("daily upkeep: the alert that %s failed could not be recorded", what)


async def _sign_each(store: Store, periods: list[str], sign: Callable[[Tx, str], Awaitable[Any]], task: str) -> None:
    """Sign each period's record in its own transaction; one that cannot be signed today is tried tomorrow.

    A refusal by a rule (``NodeError``: nothing to publish...) is only
    logged; any other failure raises an alert (``_guarded``).
    """
    for period in periods:

        async def sign_one(period: str = period) -> None:
            try:
                async with store.transaction() as tx:
                    await sign(tx, period)
            except NodeError as exc:
                logger.warning("%s for %s not signed: %s", UPKEEP_TASKS[task], period, exc.message)

        await _guarded(store, task, period, sign_one)
