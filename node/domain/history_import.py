"""Applying a spreadsheet of items with their history (``node.imports.history``) to the node.

Runs inside the transaction ``node.domain.importing.run_import`` opens: the items
are created in their lots (made, with their donors, when the history names
lots the node does not know), dated by their reception; their erasures are
recorded; their fates go through the same doors as the workshop's
(``distribute``, ``recycle``, ``move_items``), dated by the day they
happened, so the rules hold (no item with storage leaves without its
erasure, prix solidaire caps) and the fates are signed like any other.

Rows are grouped (one reception per lot and day, one distribution per day,
beneficiary category and price, one outflow per day and recycler), so a
year of 10 000 rows is a few hundred domain calls, not 30 000.

A row the node cannot take (an unknown lot on a lot's page, a price above
the cap, a date before its lot's reception) is left out and listed; the
others are imported.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from node.domain.distribution import DistributionInput, OutflowInput, distribute, price_problems, recycle
from node.domain.donors import DonorInput, create_donor
from node.domain.erasure import ErasureInput, record_erasure
from node.domain.happened import check_items_day, happened_ms, today
from node.domain.items import ItemInput, create_items
from node.domain.lots import LotInput, create_lot
from node.domain.workflow import move_items
from node.errors import Invalid, NotFound
from node.imports.history import HistoryRow, MappedHistory
from node.imports.sheet import RowError
from node.store.database import Tx, now_ms
from node.validation import parse

__all__ = ["HistoryOutcome", "apply_history", "HISTORY_REFERRER", "WASTE_CODE"]

HISTORY_REFERRER = "Historique importé (sans personne désignée)"  # the beneficiary standing for a history's people
WASTE_CODE = "16 02 14"  # discarded equipment (European waste list): what a workshop sends to recycling
_RECIPIENT = "Non précisé (historique importé)"
_METHOD = "déclaré dans l'historique importé"
_CHUNK = 500
Progress = Callable[[int, int], None]


@dataclass
class HistoryOutcome:
    """What the rows became: items, lots and donors made, fates, and the rows left out."""

    created: int = 0
    item_ids: list[int] | None = None
    lots: dict[int, str] | None = None  # lot id -> reference, every lot that got items
    lots_created: list[str] | None = None
    donors_created: list[str] | None = None
    erasures: int = 0
    fates: dict[str, int] | None = None
    skipped: list[RowError] | None = None
    # line -> (day, "lot" or "today"): the reception day of a row that gives none, its lot's day or else today's
    received_by_default: dict[int, tuple[date, str]] = field(default_factory=dict)


async def _donor_id(tx: Tx, name: str, made: dict[str, int], outcome: HistoryOutcome) -> int:
    key = name.casefold()
    if key not in made:
        found = await tx.value("SELECT id FROM donors WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT 1", (name,))
        if found is None:
            # A company unless told otherwise: the donor's page lets the person say it is a public body.
            found = await create_donor(tx, parse(DonorInput, {"name": name[:200], "type": "company"}))
            outcome.donors_created.append(name)  # type: ignore[union-attr]
        made[key] = found
    return made[key]


async def _lots(tx: Tx, rows: list[HistoryRow], fixed: str | None, create: bool, outcome: HistoryOutcome,
                skip: Callable[[HistoryRow, str | None, str, str], None]) -> dict[int, Any]:  # fmt: skip
    """Each row's lot (id, reference, received_on, donor type, orientations); rows without one are skipped."""
    known: dict[str, Any] = {}
    donors: dict[str, int] = {}
    first_day: dict[str, date] = {}
    for row in rows:
        if row.lot and row.received_on and (row.lot not in first_day or row.received_on < first_day[row.lot]):
            first_day[row.lot] = row.received_on
    chosen: dict[int, Any] = {}
    for row in rows:
        reference = fixed or row.lot
        if reference is None:
            chosen[row.line] = None
            continue
        if reference not in known:
            lot = await tx.one(
                "SELECT l.id, l.reference, l.received_on, l.orientations, d.type AS donor_type FROM lots l"
                " LEFT JOIN donors d ON d.id = l.donor_id WHERE l.reference = ?", (reference,))  # fmt: skip
            if lot is None and create and not fixed:
                donor = await _donor_id(tx, row.donor, donors, outcome) if row.donor else None
                day = first_day.get(reference)
                await create_lot(tx, parse(LotInput, {"reference": reference[:100], "donor_id": donor,
                                                      "received_on": day.isoformat() if day else None}))  # fmt: skip
                outcome.lots_created.append(reference)  # type: ignore[union-attr]
                lot = await tx.one(
                    "SELECT l.id, l.reference, l.received_on, l.orientations, d.type AS donor_type FROM lots l"
                    " LEFT JOIN donors d ON d.id = l.donor_id WHERE l.reference = ?", (reference,))  # fmt: skip
            known[reference] = lot
        lot = known[reference]
        if lot is None:
            skip(row, "lot", f"no lot with reference {reference!r}", "unknown_lot")
        elif row.received_on and lot["received_on"] and row.received_on.isoformat() < lot["received_on"]:
            skip(row, "received_on", f"received {row.received_on.isoformat()}, before its lot {reference} "
                 f"({lot['received_on']})", "before_reception")  # fmt: skip
        else:
            chosen[row.line] = lot
    return chosen


async def _beneficiary(tx: Tx, category: str, made: dict[str, int]) -> int:
    if category not in made:
        found = await tx.value("SELECT id FROM beneficiaries WHERE category = ? AND referrer = ? AND name IS NULL"
                               " ORDER BY id LIMIT 1", (category, HISTORY_REFERRER))  # fmt: skip
        if found is None:
            found = await tx.run("INSERT INTO beneficiaries (code, category, referrer, created) VALUES"
                                 " ('pending', ?, ?, ?)", (category, HISTORY_REFERRER, now_ms()))  # fmt: skip
            await tx.run("UPDATE beneficiaries SET code = ? WHERE id = ?", (f"B-{found:06d}", found))
        made[category] = found
    return made[category]


def _day(row: HistoryRow, *days: date | None) -> date | None:
    return next((day for day in days if day is not None), None)


async def apply_history(tx: Tx, mapped: MappedHistory, *, lot: str | None, create_lots: bool,
                        operator: str = "import", progress: Progress | None = None) -> HistoryOutcome:  # fmt: skip
    """Create the items of ``mapped`` with their history, in ``tx``; list the rows left out.

    ``lot``: every row goes into this lot (a lot's page); else each row's own,
    made with its donor when ``create_lots`` (a history) and left out
    otherwise.
    """
    outcome = HistoryOutcome(item_ids=[], lots={}, lots_created=[], donors_created=[], fates={}, skipped=[])
    if lot is not None and await tx.value("SELECT 1 FROM lots WHERE reference = ?", (lot,)) is None:
        raise NotFound(f"no lot with reference {lot!r}")
    column_of = {fld: header for header, fld in mapped.columns.items()}
    left_out: set[int] = set()

    def skip(row: HistoryRow, fld: str | None, message: str, code: str) -> None:
        outcome.skipped.append(RowError(row.line, column_of.get(fld or "", fld), message, code))  # type: ignore[union-attr]
        left_out.add(row.line)

    lots = await _lots(tx, mapped.rows, lot, create_lots, outcome, skip)
    # Items: one reception per lot and day; a row whose description the domain refuses is left out.
    receptions: dict[tuple[int | None, date | None], list[tuple[HistoryRow, ItemInput]]] = {}
    for row in mapped.rows:
        if row.line in left_out:
            continue
        try:
            item = parse(ItemInput, row.item)
        except Invalid as exc:
            skip(row, exc.message.partition(":")[0], exc.message, "invalid")
            continue
        found = lots[row.line]
        lot_day = date.fromisoformat(found["received_on"]) if found and found["received_on"] else None
        received = row.received_on or lot_day or today()
        if row.received_on is None:  # the preview says which day the item gets
            outcome.received_by_default[row.line] = (received, "lot" if lot_day else "today")
        late = [(fld, day) for fld, day in (("erased_on", row.erased_on), ("fate_on", row.fate_on))
                if day is not None and day < received]  # fmt: skip
        if late:
            skip(row, late[0][0], f"{late[0][1].isoformat()} is before the item's reception ({received.isoformat()}):"
                 " give its reception date", "before_reception")  # fmt: skip
            continue
        if row.fate == "distributed" and row.price_cents:
            orientations = json.loads(found["orientations"]) if found and found["orientations"] else []
            problems = price_problems(item.category, row.price_cents, found["donor_type"] if found else None,
                                      orientations, row.beneficiary_category or "other")  # fmt: skip
            if problems:
                skip(row, "price_cents", "; ".join(problems), "price_refused")
                continue
        receptions.setdefault((found["id"] if found else None, row.received_on), []).append((row, item))
    total = sum(map(len, receptions.values()))
    ids: dict[int, int] = {}  # line -> item id
    done = 0
    for (lot_id, day), group in receptions.items():
        for start in range(0, len(group), _CHUNK):
            chunk = group[start : start + _CHUNK]
            details = [json.dumps({"import": True, **({"notes": row.notes} if row.notes else {})}, ensure_ascii=False,
                                  sort_keys=True) for row, _ in chunk]  # fmt: skip
            made = await create_items(tx, lot_id, [item for _, item in chunk], operator=operator, received_on=day,
                                      details=details)  # fmt: skip
            ids.update({row.line: item_id for (row, _), item_id in zip(chunk, made)})
            done += len(chunk)
            if progress:
                progress(done, total)
            await asyncio.sleep(0)  # a year takes seconds: let the pages and /health answer meanwhile
        if lot_id is not None:
            outcome.lots[lot_id] = next(v["reference"] for v in lots.values() if v and v["id"] == lot_id)  # type: ignore[index]
    kept = [row for row in mapped.rows if row.line in ids]
    # Erasures, each dated by its day (else the fate's, else the reception's).
    for n, row in enumerate(kept):
        if row.erased:
            await record_erasure(tx, parse(ErasureInput, {
                "item_id": ids[row.line], "method": (row.erasure_method or _METHOD)[:200],
                "level": row.erasure_level, "tool": "import", "result": "success", "source": "import",
                "operator": operator, "happened_on": _day(row, row.erased_on, row.fate_on, row.received_on),
            }))  # fmt: skip
            outcome.erasures += 1
        if n % 500 == 499:
            await asyncio.sleep(0)
    await _fates(tx, kept, ids, operator, outcome)
    outcome.item_ids = sorted(ids.values())
    outcome.created = len(ids)
    return outcome


async def _fates(tx: Tx, rows: list[HistoryRow], ids: dict[int, int], operator: str, outcome: HistoryOutcome) -> None:
    """The fates, one domain call per group of rows that share them (day, beneficiary, price, recycler)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        if row.fate is None:
            continue
        key = (row.fate, row.fate_on, row.beneficiary_category or "other" if row.fate == "distributed" else None,
               row.price_cents or 0, row.recipient if row.fate == "recycled" else None)  # fmt: skip
        groups.setdefault(key, []).append(ids[row.line])
    beneficiaries: dict[str, int] = {}
    for (fate, day, category, price, recipient), item_ids in sorted(groups.items(), key=lambda kv: str(kv[0])):
        if fate == "distributed":
            # A distributed item was made ready first, that day: the same road as in the workshop.
            await check_items_day(tx, item_ids, day)
            await move_items(tx, item_ids, "ready", operator=operator, at=happened_ms(day), detail={"import": True})
            await distribute(tx, item_ids, parse(DistributionInput, {
                "beneficiary_id": await _beneficiary(tx, category, beneficiaries), "price_cents": price,
                "operator": operator, "happened_on": day}))  # fmt: skip
        elif fate == "recycled":
            await recycle(tx, parse(OutflowInput, {
                "item_ids": item_ids, "recipient": recipient or _RECIPIENT, "waste_code": WASTE_CODE,
                "treatment": "recyclage", "happened_on": day, "operator": operator}))  # fmt: skip
        else:
            await check_items_day(tx, item_ids, day)
            await move_items(tx, item_ids, fate, operator=operator, at=happened_ms(day))
        outcome.fates[fate] = outcome.fates.get(fate, 0) + len(item_ids)  # type: ignore[index]
        await asyncio.sleep(0)
