"""API handlers for where items go and what it adds up to: beneficiaries,
distributions, recycling outflows, statistics and impact.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from node.domain import beneficiaries, distribution
from node.domain.access import Holder
from node.domain.beneficiaries import Beneficiary, BeneficiaryInput
from node.domain.distribution import DistributionInput, OutflowInput
from node.domain.impact import factor_table
from node.domain.settings import get_setting
from node.domain.stats import compute_stats, period_bounds
from node.errors import Invalid
from node.validation import EARLIEST, LATEST, Input
from web_ui.api_io import ItemIds, answer, created, path_id, plain, query_int, query_text
from web_ui.keys import STORE

__all__ = [
    "DistributionRequest", "get_beneficiaries", "post_beneficiary", "get_beneficiary", "post_distribution",
    "post_outflow", "get_stats",
]  # fmt: skip


class DistributionRequest(Input):
    """Items handed to one beneficiary, at one price per item."""

    item_ids: ItemIds
    distribution: DistributionInput


# --- beneficiaries ------------------------------------------------------------------------------


def _beneficiary(beneficiary: Beneficiary, holder: Holder) -> dict[str, Any]:
    # Personal details stay with the node's admins; anyone else working with
    # a token (a label printer, a script) needs the code and category only.
    if holder.role == "admin":
        return asdict(beneficiary)
    return {"id": beneficiary.id, "code": beneficiary.code, "category": beneficiary.category}


async def get_beneficiaries(request: web.Request, holder: Holder) -> web.Response:
    """GET /beneficiaries: newest first; personal details for admins only."""
    limit = query_int(request, "limit", 100, minimum=1, maximum=500)
    offset = query_int(request, "offset", 0)
    async with request.app[STORE].reader() as db:
        found = await beneficiaries.list_beneficiaries(db, limit=limit, offset=offset)
    return answer(
        {"beneficiaries": [_beneficiary(b, holder) for b in found], "limit": limit, "offset": offset}
    )


async def post_beneficiary(request: web.Request, holder: Holder, body: BeneficiaryInput) -> web.Response:
    """POST /beneficiaries: register one; it gets a pseudonymous code."""
    async with request.app[STORE].transaction() as tx:
        found = await beneficiaries.get_beneficiary(tx, await beneficiaries.create_beneficiary(tx, body))
    return created(_beneficiary(found, holder), f"/api/v1/beneficiaries/{found.id}")


async def get_beneficiary(request: web.Request, holder: Holder) -> web.Response:
    """GET /beneficiaries/{id}."""
    async with request.app[STORE].reader() as db:
        return answer(_beneficiary(await beneficiaries.get_beneficiary(db, path_id(request)), holder))


# --- where items go -----------------------------------------------------------------------------


async def post_distribution(request: web.Request, holder: Holder, body: DistributionRequest) -> web.Response:
    """POST /distributions: a price that breaks a rule needs an admin's token and an override reason."""
    handout = body.distribution
    if handout.operator is None:
        handout = handout.model_copy(update={"operator": holder.name})
    async with request.app[STORE].transaction() as tx:
        event_ids = await distribution.distribute(
            tx, list(body.item_ids), handout, is_admin=holder.role == "admin"
        )
    return created({"event_ids": event_ids})


async def post_outflow(request: web.Request, holder: Holder, body: OutflowInput) -> web.Response:
    """POST /outflows: what leaves for a recycler; its items become recycled."""
    if body.operator is None:
        body = body.model_copy(update={"operator": holder.name})
    async with request.app[STORE].transaction() as tx:
        outflow_id = await distribution.recycle(tx, body)
    return created({"id": outflow_id})


# --- figures ------------------------------------------------------------------------------------


async def get_stats(request: web.Request, holder: Holder) -> web.Response:
    """GET /stats?period=: the figures of a period, with the impact's formula and source beside them."""
    period = query_text(request, "period", max_length=40)
    if period is None:
        raise Invalid("period: say which, e.g. 2026, 2026-10 or 2026-Q4", code="invalid_period")
    start_ms, end_ms = period_bounds(period)
    if not EARLIEST.year <= int(period[:4]) <= LATEST.year:
        raise Invalid(f"{period!r}: a period from 1980 to 2100", code="invalid_period")
    async with request.app[STORE].reader() as db:
        years = await get_setting(db, "years_of_second_life")
        factors = factor_table(await get_setting(db, "impact_factors"))
        stats = await compute_stats(db, start_ms, end_ms, years=years, factors=factors)
    impact = stats.impact
    return answer({
        "period": period, "start_ms": stats.start_ms, "end_ms": stats.end_ms,
        "computed_ms": stats.computed_ms, "figures": stats.as_figures(),
        "impact": {
            "version": impact.version, "source": impact.source, "note": impact.note, "years": impact.years,
            "co2e_g": impact.co2e_g, "materials_g": impact.materials_g, "lines": plain(list(impact.lines)),
            "unfactored": dict(impact.unfactored), "formula": impact.formula_lines(),
        },
    })  # fmt: skip
