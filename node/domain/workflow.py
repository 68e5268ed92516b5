"""Workshop steps: the events that move items through their states.

Every action appends events (never edits them); an item's ``state`` column
is the state of its last event, kept in the same transaction. When items
reach a fate, an ``item.fates/2`` record is appended to the node's log in
that transaction too, private to the node until the publication policy
shares it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from node.categories import gets_os, holds_data
from node.domain.erasure import PROOF_STEP, require_erased, settle
from node.domain.fate_evidence import erasure_evidence, evidence_batches, statement
from node.domain.happened import check_items_day, happened_ms
from node.domain.item_events import append_events
from node.domain.publication import audience_for, fates_audience
from node.domain.states import FATES, STATES, STEP_STATES, can_move
from node.errors import Invalid, NotFound, RuleBroken
from node.store.database import IN_ARRAY, Reader, Tx, as_array, now_ms
from node.validation import Day, Input
from protocol import canonical
from protocol.custody_kinds import FateStatement, ItemFates2
from protocol.kinds import ItemFates
from protocol.records import stored_header

__all__ = [
    "StepInput", "record_step", "move_items", "correct_event", "define_step", "steps", "remove_storage",
    "harvest_component", "fit_component", "items_by_ids", "allowed_steps", "PROOF_REQUIRED",
]  # fmt: skip

Text = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]
# "erased" is accepted here only to be refused with its reason (``PROOF_REQUIRED``): it is not a step.
StepState = Literal["sorted", "tested", "erased", "refurbished", "ready", "reserved", "recycled", "dismantled"]
assert set(StepState.__args__) == {*STEP_STATES, "erased"}  # type: ignore[attr-defined]

PROOF_REQUIRED = ("an item becomes erased when its erasure is recorded (an nwipe or ShredOS log, or by hand on the"
                  " Erasure page) for each of its disks, or when its storage is removed or destroyed; it cannot be"
                  " marked erased by hand")  # fmt: skip


def allowed_steps(category: str, storage: str) -> tuple[str, ...]:
    """The states a workshop step may record for an item of this category and storage (node.categories).

    Every item may be sorted, tested, refurbished, made ready, reserved,
    recycled or dismantled; "erased" (by proof only, ``node.domain.erasure.settle``)
    is listed for the items that may hold data.
    """
    erasable = ("erased",) if holds_data(category, storage) else ()
    return (*STEP_STATES[:2], *erasable, *STEP_STATES[2:])


class StepInput(Input):
    """One step for one or many items: a canonical state, or the association's own step name."""

    # record_step refuses a step with neither: the schema says so too
    # (and sorting decides an orientation)
    model_config = ConfigDict(json_schema_extra={
        "anyOf": [
            {"required": ["state"], "properties": {"state": {"type": "string"}}},
            {"required": ["step"], "properties": {"step": {"type": "string"}}},
        ],
        "if": {"required": ["state"], "properties": {"state": {"const": "sorted"}}},
        "then": {"required": ["orientation"], "properties": {"orientation": {"type": "string"}}},
    })  # fmt: skip

    state: StepState | None = None
    step: Annotated[str, Field(min_length=1, max_length=60, pattern=r"\S")] | None = None
    orientation: Literal["refurbish", "parts", "recycle"] | None = None
    grade: Annotated[str, Field(pattern=r"^[A-E]$")] | None = None
    os: Annotated[str, Field(max_length=100)] | None = None
    note: Text | None = None
    operator: Annotated[str, Field(max_length=100)] | None = None
    happened_on: Day | None = None  # the day it was done (default today): not in the future, not before the lot


async def items_by_ids(db: Reader, item_ids: list[int]) -> list[Any]:
    """The rows (id, gid, asset_tag, state, weight_g...) of these items, or ``NotFound``."""
    unique = list(dict.fromkeys(item_ids))
    rows = await db.all("SELECT id, gid, asset_tag, state, category, storage, weight_g, origin_node FROM items"
                        f" WHERE id IN {IN_ARRAY}", (as_array(unique),))  # fmt: skip
    if len(rows) != len(unique):
        missing = sorted(set(unique) - {r["id"] for r in rows})
        raise NotFound(f"no item {', '.join(map(str, missing[:10]))}")
    order = {item_id: n for n, item_id in enumerate(unique)}
    return sorted(rows, key=lambda r: order[r["id"]])


async def record_step(tx: Tx, item_ids: list[int], step: StepInput) -> list[int]:
    """Record a workshop step for items; refuse them all if one may not move."""
    state = step.state
    if step.step is not None:
        mapped = await tx.value("SELECT state FROM steps WHERE name = ?", (step.step,))
        if mapped is None:
            raise NotFound(f"no step named {step.step!r}")
        if state is not None and state != mapped:
            raise Invalid(f"step {step.step!r} records {mapped}, not {state}", code="invalid")
        state = mapped
    if state is None:
        raise Invalid("say which state or step to record", code="invalid")
    if state == "sorted" and step.orientation is None:
        raise Invalid("sorting decides an orientation: refurbish, parts or recycle", code="invalid")
    if state == "erased":
        raise RuleBroken(PROOF_REQUIRED, code="erasure_proof_required")
    if step.os is not None:
        rows = await items_by_ids(tx, item_ids)
        no_os = [f"{r['asset_tag']} ({r['category']})" for r in rows if not gets_os(r["category"], r["storage"])]
        if no_os:
            raise RuleBroken(f"no operating system is installed on {', '.join(no_os[:10])}"
                             f"{' ...' if len(no_os) > 10 else ''}: leave the OS empty for them",
                             code="step_not_for_category")  # fmt: skip
    detail = {k: v for k, v in (("orientation", step.orientation), ("grade", step.grade), ("os", step.os),
                                ("note", step.note)) if v is not None}  # fmt: skip
    await check_items_day(tx, item_ids, step.happened_on)
    event_ids = await move_items(tx, item_ids, state, step=step.step, detail=detail, operator=step.operator,
                                 at=happened_ms(step.happened_on))  # fmt: skip
    if step.grade is not None:
        await tx.run_many("UPDATE items SET grade = ? WHERE id = ?", [(step.grade, i) for i in item_ids])
    return event_ids


async def move_items(tx: Tx, item_ids: list[int], state: str, *, step: str | None = None,
                     detail: dict[str, Any] | None = None, operator: str | None = None,
                     fate: dict[str, Any] | None = None, at: int | None = None,
                     handoff: bool = False, evidence: list[bytes] | None = None) -> list[int]:  # fmt: skip
    """Append one event per item after checking every move; the single door to a new state.

    An item that may still hold data (``node.domain.erasure.needs_erasure``) leaves
    the workshop (distributed, sent to recycling, transferred outside the
    federation) only with a successful erasure recorded, or its storage
    removed or destroyed (``erasure_required``).
    ``handoff``: a transfer to another node of the federation (``node.network.handoffs``),
    where custody and the erasure duty travel with the items, so no erasure
    is required before it; ``evidence``: the records of that hand-off, for
    the node the items came from (``node.domain.fate_evidence.handoff_evidence``).
    ``at``: when the move happened (``node.domain.happened``; default now): the
    events keep it beside the time they are recorded, it is the items'
    ``state_since``, and the signed fates state it (``FateStatement.time``).
    The caller checks the day (``node.domain.happened.check_items_day``).
    """
    if state not in STATES:
        raise Invalid(f"unknown state {state!r}", code="invalid")
    if state == "erased":  # the proofs move an item there (node.domain.erasure.settle), no move does
        raise RuleBroken(PROOF_REQUIRED, code="erasure_proof_required")
    if not item_ids:
        raise Invalid("no item chosen", code="invalid")
    if len(set(item_ids)) != len(item_ids):
        raise Invalid("an item is listed twice", code="invalid")
    rows = await items_by_ids(tx, item_ids)
    refused = [f"{r['asset_tag']} ({r['state']})" for r in rows if not can_move(r["state"], state)]
    if refused:
        raise RuleBroken(f"cannot move to {state}: {', '.join(refused[:10])}", code="invalid_transition")
    if state in ("distributed", "recycled") or (state == "transferred" and not handoff):
        await require_erased(tx, [r["id"] for r in rows], action="send to recycling" if state == "recycled" else "hand over")
    time = at if at is not None else now_ms()
    # A fate is signed first, so that each event is written once, with the record that states it.
    signed = (await _publish_fates(tx, rows, state, time, fate or {}, evidence or [])
              if state in FATES else None)  # fmt: skip
    return await append_events(tx, [r["id"] for r in rows], state, time, step=step, detail=detail, operator=operator,
                               record_ids=signed)  # fmt: skip


_CHUNK = 5000  # statements per record: with their erasures, well under the 4 MiB of a content


async def _publish_fates(tx: Tx, rows: list[Any], state: str, time: int, fate: dict[str, Any],
                         evidence: list[bytes]) -> list[bytes]:  # fmt: skip
    """Sign the items' fates in the explicit form, each with the erasure evidence held here for it
    (``item.fates/2``); the id of the record stating each row's fate, in the order of ``rows``."""
    proofs = await erasure_evidence(tx, [row["id"] for row in rows])
    weights = fate.get("weights", {})  # a recycled item's share of its outflow (node.domain.recycling_weight)
    fates = [statement(row["gid"], state, time, proofs.get(row["id"], []), fate, weights.get(row["id"], row["weight_g"]))
             for row in rows]  # fmt: skip
    # Whom the publication policy shares fates with (itself alone under "none"), plus,
    # for items another node handed over, that node: their fates flow back to it.
    policy = await audience_for(tx, "fates")
    groups: dict[bytes | None, list[tuple[FateStatement, int]]] = {}
    for n, (row, fate_) in enumerate(zip(rows, fates)):
        groups.setdefault(row["origin_node"], []).append((fate_, n))
    signed: list[bytes] = [b""] * len(rows)
    for origin, group in groups.items():
        audience = fates_audience(policy, tx.author, origin)
        # the hand-off's records go once, to the node the items came from: with the first statements when
        # they fit in one content, else in records of their own
        batches = evidence_batches(evidence) if origin is not None else []
        for start in range(0, len(group), _CHUNK):
            chunk = group[start : start + _CHUNK]
            passed = batches.pop(0) if start == 0 and len(batches) == 1 and len(chunk) <= 1000 else None
            # signed now; each statement says when its item reached the fate (``time``), maybe long before
            record = await tx.append(ItemFates2(fates=[f for f, _ in chunk], evidence=passed), audience=audience)
            for _, n in chunk:
                signed[n] = record.id
        for batch in batches:
            await tx.append(ItemFates2(fates=[], evidence=batch), audience=audience)
    return signed


async def correct_event(tx: Tx, event_id: int, reason: str, operator: str | None = None) -> int:
    """Undo an item's last event by a new event that restores the state before it."""
    if not reason.strip():
        raise Invalid("a correction needs a reason", code="invalid")
    event = await tx.one("SELECT id, item_id, state, step, record_id FROM events WHERE id = ?", (event_id,))
    if event is None:
        raise NotFound(f"no event {event_id}")
    if event["step"] == "storage_removed":
        # Undoing it would let an item leave with no erasure proof and no disk record.
        raise RuleBroken("a storage removal cannot be undone", code="storage_removal_final")
    if event["step"] == PROOF_STEP:
        # The proofs stay on record: the item is erased as long as they say so.
        raise RuleBroken("an item erased by its erasure records stays erased; record the next step instead",
                         code="erasure_proven_final")  # fmt: skip
    last = await tx.one("SELECT id FROM events WHERE item_id = ? ORDER BY id DESC LIMIT 1", (event["item_id"],))
    if last["id"] != event_id:
        raise RuleBroken("only the last event of an item can be corrected", code="not_last_event")
    previous = await tx.one(
        "SELECT state FROM events WHERE item_id = ? AND id < ? ORDER BY id DESC LIMIT 1", (event["item_id"], event_id)
    )
    if previous is None:
        raise RuleBroken("the reception of an item cannot be corrected; edit the item instead", code="not_correctable")
    time = now_ms()
    correction = await tx.run(
        "INSERT INTO events (item_id, time, state, step, detail, operator, corrects) VALUES (?, ?, ?, 'correction', ?, ?, ?)",
        (event["item_id"], time, previous["state"], json.dumps({"reason": reason.strip()}, ensure_ascii=False),
         operator, event_id),
    )  # fmt: skip
    await tx.run("UPDATE items SET state = ?, state_since = ? WHERE id = ?", (previous["state"], time, event["item_id"]))
    if event["state"] == "recycled":
        # The item is back in the workshop: it is no longer part of that outflow.
        await tx.run("DELETE FROM outflow_items WHERE item_id = ?", (event["item_id"],))
    if event["record_id"] is not None:
        await _correct_fates(tx, event["record_id"], event["item_id"])
    return correction


async def _correct_fates(tx: Tx, record_id: bytes, item_id: int) -> None:
    """A fate undone was signed: sign the record's fates again without it, as a correction of it.

    Readers replace the corrected record's fates by the correction's. The
    other items of that record now point at the correction, so that a later
    correction corrects the latest statement.
    """
    row = await tx.one("SELECT envelope, content FROM log_records WHERE id = ? AND author = ?", (record_id, tx.author))
    if row is None or row["content"] is None:
        return
    gid = await tx.value("SELECT gid FROM items WHERE id = ?", (item_id,))
    header = stored_header(row["envelope"])
    model = ItemFates2 if header.kind == ItemFates2.KIND else ItemFates  # a correction keeps its record's version
    body = model.model_validate(canonical.decode(row["content"]))
    remaining = [f for f in body.fates if f.gid != gid]
    correction = await tx.append(model(fates=remaining, corrects=record_id), audience=header.audience)
    await tx.run("UPDATE events SET record_id = ? WHERE record_id = ? AND item_id != ?", (correction.id, record_id, item_id))


async def define_step(tx: Tx, name: str, state: str) -> None:
    """Name one of the association's own steps, mapped to a canonical state."""
    name = name.strip()
    if not 1 <= len(name) <= 60:
        raise Invalid("a step name has 1 to 60 characters", code="invalid")
    if state == "erased":
        raise RuleBroken(PROOF_REQUIRED, code="erasure_proof_required")
    if state not in STEP_STATES:
        raise Invalid(f"a step maps to one of {', '.join(STEP_STATES)}", code="invalid")
    await tx.run(
        "INSERT INTO steps (name, state) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET state = excluded.state",
        (name, state),
    )


async def steps(db: Reader) -> dict[str, str]:
    return {r["name"]: r["state"] for r in await db.all("SELECT name, state FROM steps ORDER BY name")}


async def remove_storage(tx: Tx, item_ids: list[int], *, destroyed: bool, operator: str | None = None) -> None:
    """The disks were taken out (or destroyed): the item no longer holds data, which counts as erased
    (an item before its erasure moves to "erased", ``node.domain.erasure.settle``)."""
    rows = await items_by_ids(tx, item_ids)
    no_disk = [f"{r['asset_tag']} ({r['category']})" for r in rows if not holds_data(r["category"], r["storage"])]
    if no_disk:
        raise RuleBroken(f"no disk to take out of {', '.join(no_disk[:10])}{' ...' if len(no_disk) > 10 else ''}",
                         code="step_not_for_category")  # fmt: skip
    time = now_ms()
    for row in rows:
        await tx.run(
            "INSERT INTO events (item_id, time, state, step, detail, operator) VALUES (?, ?, ?, 'storage_removed', ?, ?)",
            (row["id"], time, row["state"], json.dumps({"destroyed": destroyed}), operator),
        )
    await tx.run_many("UPDATE items SET storage = 'removed' WHERE id = ?", [(r["id"],) for r in rows])
    await settle(tx, [r["id"] for r in rows], operator=operator)


async def harvest_component(tx: Tx, from_item: int, description: str) -> int:
    """A part taken out of an item (RAM, disk, screen...), traced until fitted elsewhere."""
    await items_by_ids(tx, [from_item])
    if not 1 <= len(description.strip()) <= 200:
        raise Invalid("describe the part in 1 to 200 characters", code="invalid")
    return await tx.run(
        "INSERT INTO components (from_item, description, harvested) VALUES (?, ?, ?)",
        (from_item, description.strip(), now_ms()),
    )


async def fit_component(tx: Tx, component_id: int, to_item: int) -> None:
    await items_by_ids(tx, [to_item])
    row = await tx.one("SELECT from_item, to_item FROM components WHERE id = ?", (component_id,))
    if row is None:
        raise NotFound(f"no component {component_id}")
    if row["to_item"] is not None:
        raise RuleBroken("this part is already fitted in another item", code="already_fitted")
    if row["from_item"] == to_item:
        raise Invalid("a part cannot be fitted back into the item it came from", code="invalid")
    await tx.run("UPDATE components SET to_item = ?, fitted = ? WHERE id = ?", (to_item, now_ms(), component_id))
