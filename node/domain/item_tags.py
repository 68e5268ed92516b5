"""The labels an item carried before it came here: kept, searchable, scannable, and passed on.

A ``lot.offer/2`` lists, for each item, the labels (tags) it carried at the
nodes that held it, oldest first, the offering node's own last: the one
printed on the item that arrives (PROTOCOL.md, ``lot.offer/2``). At the
reception (``node.network.handoffs.take_delivery``) each received item keeps them as
**former tags** (table ``item_tags``, migration V13), indexed by the item
search (``node.store.search``), found by a scan (``node.domain.items.item_id_by_tag``) and
shown on the item's page. The node may keep the printed tag as the item's own
label here (``keepable``), unless that would make one label name two items
here. When the node offers the item on, its line carries the former tags and
then its own label (``offered_tags``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from node.domain.settings import get_setting
from node.store.database import IN_ARRAY, Reader, Tx, as_array
from protocol.custody_kinds import MAX_TAG_LENGTH, MAX_TAGS, valid_tag

__all__ = ["FormerTag", "former_tags", "items_with_former_tag", "keep_former_tags", "offered_tags", "keepable",
           "printed_tag"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class FormerTag:
    """A label the item carried at another node, as that node's offer listed it."""

    tag: str
    node: bytes | None
    since: int  # when it came here


def printed_tag(tags: list[str] | tuple[str, ...] | None) -> str | None:
    """The label stuck on an item that arrives: the offering node's own, the last of its line's tags."""
    return tags[-1] if tags else None


async def former_tags(db: Reader, item_id: int) -> list[FormerTag]:
    """The item's former tags, oldest first."""
    rows = await db.all("SELECT tag, node, since FROM item_tags WHERE item_id = ? ORDER BY rowid", (item_id,))
    return [FormerTag(r["tag"], r["node"], r["since"]) for r in rows]


async def items_with_former_tag(db: Reader, tag: str) -> list[int]:
    """The items here that carried ``tag`` elsewhere (any case), newest first."""
    rows = await db.all("SELECT DISTINCT item_id FROM item_tags WHERE tag = ? COLLATE NOCASE ORDER BY item_id DESC"
                        " LIMIT 50", (tag.strip(),))  # fmt: skip
    return [r[0] for r in rows]


async def keep_former_tags(tx: Tx, tags: dict[int, list[str]], *, node: bytes | None, offer: bytes | None,
                           since: int) -> None:  # fmt: skip
    """Record, per item here, the tags its offer's line listed (oldest first), and index them for the search.

    The only writer of ``item_tags``: it makes each item's search text again
    (``node.store.search``), once per item, in the same transaction.
    """
    await tx.run_many("INSERT INTO item_tags (item_id, tag, node, offer, since) VALUES (?, ?, ?, ?, ?)"
                      " ON CONFLICT DO NOTHING",
                      [(item_id, tag, node, offer, since) for item_id, listed in tags.items() for tag in listed])  # fmt: skip
    await tx.run(f"UPDATE items_search SET body = (SELECT t.body FROM item_search_texts t WHERE t.id = items_search.rowid)"
                 f" WHERE rowid IN {IN_ARRAY}", (as_array(list(tags)),))  # fmt: skip


async def offered_tags(db: Reader, items: list[tuple[int, str]]) -> dict[int, list[str]]:
    """Per item (id, own label), the tags its manifest line carries: the former ones, then its own label,
    each once, the newest 16 at most."""
    former: dict[int, list[str]] = {}
    for item_id, tag in await db.all(f"SELECT item_id, tag FROM item_tags WHERE item_id IN {IN_ARRAY} ORDER BY rowid",
                                     (as_array([item_id for item_id, _own in items]),)):  # fmt: skip
        former.setdefault(item_id, []).append(tag)
    found = {}
    for item_id, own in items:
        listed = [tag for tag in (*former.get(item_id, ()), own) if _sendable(tag)]
        listed = list(reversed(dict.fromkeys(reversed(listed))))  # each once, at its latest place
        if listed:
            found[item_id] = listed[-MAX_TAGS:]
    return found


def _sendable(tag: str | None) -> bool:
    """Whether a label here may travel as a tag (an own label imported long ago might not)."""
    if not tag or len(tag) > MAX_TAG_LENGTH:
        return False
    try:
        valid_tag(tag)
    except ValueError:
        return False
    return True


async def own_form(db: Reader) -> re.Pattern[str]:
    """The form of this node's own labels (``<prefix>-<digits>``), which its numbering may give later."""
    prefix = await get_setting(db, "asset_prefix")
    return re.compile(rf"{re.escape(str(prefix))}-[0-9]+", re.IGNORECASE)


async def keepable(db: Reader, tags: list[str]) -> set[str]:
    """Of ``tags`` (printed labels of items arriving), those an item arriving may keep as its label here.

    Refused: a label of the form of this node's own; a label an item here carries or carried (any case);
    a label two items arriving share (neither keeps it). What is refused stays a former tag.
    """
    form = await own_form(db)
    folded: dict[str, int] = {}
    for tag in tags:
        folded[tag.casefold()] = folded.get(tag.casefold(), 0) + 1
    candidates = [tag for tag in tags if folded[tag.casefold()] == 1 and not form.fullmatch(tag)]
    taken = {r[0].casefold() for r in await db.all(
        f"SELECT asset_tag FROM items WHERE asset_tag COLLATE NOCASE IN {IN_ARRAY}"
        f" UNION SELECT tag FROM item_tags WHERE tag COLLATE NOCASE IN {IN_ARRAY}",
        (as_array(candidates), as_array(candidates)))}  # fmt: skip
    return {tag for tag in candidates if tag.casefold() not in taken}
