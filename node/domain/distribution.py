"""Where items go: distribution to beneficiaries (with the prix solidaire
rules) and recycling outflows (with the waste register's data).
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import ConfigDict, Field

from node.categories import PRICE_CAP_CENTS
from node.domain.happened import check_items_day, happened_ms
from node.domain.recycling_weight import recycled_weights
from node.domain.workflow import items_by_ids, move_items
from node.errors import Invalid, NotFound, RuleBroken
from node.store.database import Tx, now_ms
from node.validation import Day, Id, Input

__all__ = ["DistributionInput", "OutflowInput", "distribute", "recycle", "price_problems"]


class DistributionInput(Input):
    beneficiary_id: Id
    price_cents: Annotated[int, Field(ge=0, le=10**7)] = 0
    override_reason: Annotated[str, Field(min_length=3, max_length=500)] | None = None
    operator: Annotated[str, Field(max_length=100)] | None = None
    happened_on: Day | None = None  # the day of the hand-out (default today)


class OutflowInput(Input):
    """What leaves as waste, for the register (Code de l'environnement R541-43)."""

    # recycle refuses an outflow with neither items nor weight: the schema says so too
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["item_ids"], "properties": {"item_ids": {"minItems": 1}}},
        {"required": ["weight_g"], "properties": {"weight_g": {"type": "integer"}}},
    ]})  # fmt: skip

    item_ids: Annotated[list[Id], Field(max_length=20000, json_schema_extra={"uniqueItems": True})] = []
    recipient: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
    waste_code: Annotated[str, Field(pattern=r"^[0-9]{2} [0-9]{2} [0-9]{2}\*?$")]
    weight_g: Annotated[int, Field(ge=0, le=10**9)] | None = None
    treatment: Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
    happened_on: Day | None = None  # the day it left (default today)
    on: Day | None = Field(None, description="The former name of happened_on.")
    note: Annotated[str, Field(max_length=500)] | None = None
    operator: Annotated[str, Field(max_length=100)] | None = None


def price_problems(category: str, price_cents: int, donor_type: str | None, orientations: list[str],
                   beneficiary_category: str) -> list[str]:  # fmt: skip
    """Why this price breaks a rule (empty when it does not); shared by the check and the UI."""
    problems = []
    if price_cents == 0:
        return problems
    if "no_resale" in orientations:
        problems.append("the donor asked for no resale: the item must be given free")
    cap = PRICE_CAP_CENTS.get(category)
    if cap is not None and price_cents > cap:
        problems.append(f"{price_cents / 100:.2f} € is above the prix solidaire cap of {cap / 100:.2f} € for a {category}")
    if donor_type == "public_body" and beneficiary_category not in ("person", "association"):
        problems.append("equipment given by a public body may be sold only to people in precarity "
                        "or associations serving them")  # fmt: skip
    return problems


async def distribute(tx: Tx, item_ids: list[int], distribution: DistributionInput, *, is_admin: bool = False) -> list[int]:
    """Hand items to a beneficiary; the price is per item. Returns the event ids.

    A price that breaks a rule is refused (``price_refused``) unless an admin
    overrides it with a reason, which is recorded with the distribution.
    """
    beneficiary = await tx.one("SELECT category FROM beneficiaries WHERE id = ?", (distribution.beneficiary_id,))
    if beneficiary is None:
        raise NotFound(f"no beneficiary {distribution.beneficiary_id}")
    rows = await tx.all(
        f"SELECT i.id, i.asset_tag, i.category, d.type AS donor_type, l.orientations FROM items i"
        f" LEFT JOIN lots l ON l.id = i.lot_id LEFT JOIN donors d ON d.id = l.donor_id"
        f" WHERE i.id IN ({', '.join('?' * len(item_ids))})",
        item_ids,
    ) if item_ids else []  # fmt: skip
    await items_by_ids(tx, item_ids)  # names the missing ones
    problems = []
    for row in rows:
        orientations = json.loads(row["orientations"]) if row["orientations"] else []
        for problem in price_problems(row["category"], distribution.price_cents, row["donor_type"], orientations,
                                      beneficiary["category"]):  # fmt: skip
            problems.append(f"{row['asset_tag']}: {problem}")
    if problems:
        if not is_admin or distribution.override_reason is None:
            raise RuleBroken("; ".join(problems[:10]), code="price_refused")
    elif distribution.override_reason is not None:
        raise Invalid("an override reason is only for a price that breaks a rule", code="invalid")
    await check_items_day(tx, item_ids, distribution.happened_on)
    time = happened_ms(distribution.happened_on) or now_ms()
    event_ids = await move_items(
        tx, item_ids, "distributed", operator=distribution.operator, at=time,
        detail={"price_cents": distribution.price_cents}, fate={"beneficiary_category": beneficiary["category"]},
    )  # fmt: skip
    await tx.run_many(
        "INSERT INTO distributions (item_id, beneficiary_id, price_cents, override_reason, event_id, time)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(item_id, distribution.beneficiary_id, distribution.price_cents, distribution.override_reason, event_id, time)
         for item_id, event_id in zip(item_ids, event_ids)],
    )  # fmt: skip
    return event_ids


async def recycle(tx: Tx, outflow: OutflowInput) -> int:
    """Record an outflow to a recycler; its items (if any) become ``recycled``.

    The weight defaults to the sum of the items' weights; loose material
    (no item) needs its weight.
    """
    rows = await items_by_ids(tx, outflow.item_ids) if outflow.item_ids else []
    weight = outflow.weight_g if outflow.weight_g is not None else sum(r["weight_g"] for r in rows)
    if not rows and outflow.weight_g is None:
        raise Invalid("an outflow without items needs its weight", code="invalid")
    if outflow.on is not None and outflow.happened_on is not None and outflow.on != outflow.happened_on:
        raise Invalid("on and happened_on name two different days: give happened_on alone", code="invalid")
    day = outflow.happened_on or outflow.on
    await check_items_day(tx, [r["id"] for r in rows], day)
    time = happened_ms(day) or now_ms()
    outflow_id = await tx.run(
        "INSERT INTO outflows (time, recipient, waste_code, weight_g, treatment, note) VALUES (?, ?, ?, ?, ?, ?)",
        (time, outflow.recipient, outflow.waste_code, weight, outflow.treatment, outflow.note),
    )
    if rows:
        await tx.run_many("INSERT INTO outflow_items (outflow_id, item_id) VALUES (?, ?)",
                          [(outflow_id, r["id"]) for r in rows])  # fmt: skip
        # each item's signed weight is its share of the outflow, the weight the waste register says
        await move_items(tx, outflow.item_ids, "recycled", operator=outflow.operator, at=time,
                         detail={"outflow": outflow_id, "recipient": outflow.recipient},
                         fate={"outflow": f"{outflow.recipient} ({outflow.waste_code})",
                               "weights": await recycled_weights(tx, [r["id"] for r in rows])})  # fmt: skip
    return outflow_id
