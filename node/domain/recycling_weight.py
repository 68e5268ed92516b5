"""The one weight of a recycling: each recycled item's share of its outflow's weighed weight.

The waste register writes an outflow's weight (weighed at the door, or the
sum of its items'); the donor report and the statistics count items. All
read it from here, so the three agree (issue 19.12).
"""

from __future__ import annotations

from node.store.database import Reader

__all__ = ["recycled_weights", "recycled_weights_by_category"]


async def recycled_weights(db: Reader, item_ids: list[int]) -> dict[int, int]:
    """Each recycled item's share of its outflow's weight, in grams: the one weight of a recycling.

    The waste register writes the outflow's weight (weighed at the door, or
    the sum of its items'); the donor report counts each item. Both read the
    outflow: its weight is split across its items in proportion to their
    own weights (equally when none is known), the remainders going to the
    first items, so the shares add up to the register's weight exactly.
    """
    if not item_ids:
        return {}
    marks = ", ".join("?" * len(item_ids))
    rows = await db.all(
        f"SELECT o.id, o.weight_g AS total, i.id AS item_id, i.weight_g FROM outflows o"
        f" JOIN outflow_items oi ON oi.outflow_id = o.id JOIN items i ON i.id = oi.item_id"
        f" WHERE o.id IN (SELECT outflow_id FROM outflow_items WHERE item_id IN ({marks})) ORDER BY o.id, i.id",
        item_ids,
    )
    return _shares(rows)


# The outflows holding an item that became recycled in the period, with all their items (a share depends on
# the whole outflow); ``counted`` marks the items the period counts.
_RECYCLED_IN_PERIOD = """
SELECT o.id, o.weight_g AS total, i.id AS item_id, i.weight_g, i.category,
       (i.state = 'recycled' AND i.state_since >= :start AND i.state_since < :end) AS counted
FROM outflows o JOIN outflow_items oi ON oi.outflow_id = o.id JOIN items i ON i.id = oi.item_id
WHERE o.id IN (SELECT x.outflow_id FROM outflow_items x JOIN items r ON r.id = x.item_id
               WHERE r.state = 'recycled' AND r.state_since >= :start AND r.state_since < :end)
ORDER BY o.id, i.id
"""


async def recycled_weights_by_category(db: Reader, start_ms: int, end_ms: int) -> dict[str, int]:
    """The recycling weight of the items that became recycled in ``start_ms <= time < end_ms``, by category.

    The same shares as ``recycled_weights`` (the statistics, the waste
    register and the donor report say one weight), in one query whatever
    the number of items.
    """
    rows = await db.all(_RECYCLED_IN_PERIOD, {"start": start_ms, "end": end_ms})
    shares = _shares(rows)
    by_category: dict[str, int] = {}
    for row in rows:
        if row["counted"]:
            by_category[row["category"]] = by_category.get(row["category"], 0) + shares[row["item_id"]]
    return by_category


def _shares(rows) -> dict[int, int]:
    """Split each outflow's weight across its items (rows ordered by outflow, then item)."""
    by_outflow: dict[int, list[tuple[int, int, int]]] = {}
    for row in rows:
        by_outflow.setdefault(row["id"], []).append((row["item_id"], row["weight_g"] or 0, row["total"] or 0))
    shares: dict[int, int] = {}
    for members in by_outflow.values():
        total = members[0][2]
        weights = [w for _, w, _ in members]
        basis = sum(weights) or len(members)
        parts = [total * (w if sum(weights) else 1) // basis for w in weights]
        for n in range(total - sum(parts)):  # the grams lost to rounding
            parts[n % len(parts)] += 1
        shares.update({item_id: part for (item_id, _, _), part in zip(members, parts, strict=True)})
    return shares
