"""Appending events to items' histories: the write that every change of state ends in.

``node.domain.workflow.move_items`` checks a move (transitions, the erasure rule,
signed fates) before it appends; ``node.domain.erasure.settle`` appends the
"erased" event an erasure proof brings. Both end here, so an item's
``state`` column is always the state of its last event, set in the same
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from node.store.database import IN_ARRAY, Tx, as_array, now_ms

__all__ = ["append_events"]


async def append_events(tx: Tx, item_ids: Sequence[int], state: str, time: int, *, step: str | None = None,
                        detail: dict[str, Any] | None = None, operator: str | None = None,
                        record_ids: Sequence[bytes | None] | None = None) -> list[int]:  # fmt: skip
    """One event per item (in order), each item's state set to ``state``; the new events' ids.

    ``time``: when the move happened (``node.domain.happened``), the items' ``state_since``;
    the events keep it beside the time they are recorded (now).
    """
    detail_json = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
    signed = list(record_ids) if record_ids is not None else [None] * len(item_ids)
    recorded = now_ms()
    base = await tx.value("SELECT coalesce(max(id), 0) + 1 FROM events")  # the one writer: ids taken in a block
    event_ids = list(range(base, base + len(item_ids)))
    await tx.run_many(
        "INSERT INTO events (id, item_id, time, happened, state, step, detail, operator, record_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(event_id, item_id, recorded, time, state, step, detail_json, operator, record_id)
         for event_id, item_id, record_id in zip(event_ids, item_ids, signed)],
    )  # fmt: skip
    await tx.run(f"UPDATE items SET state = ?, state_since = ? WHERE id IN {IN_ARRAY}", (state, time, as_array(item_ids)))
    return event_ids
