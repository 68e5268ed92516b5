"""Canonical item states and the moves allowed between them.

An item's history is a list of events; its state is the state of its last
event. Associations may name their own steps, each mapped to one of these.
"""

from __future__ import annotations

__all__ = ["STATES", "FATES", "TERMINAL", "SORT_ORIENTATIONS", "can_move", "STEP_STATES"]

STATES: tuple[str, ...] = (
    "received", "sorted", "tested", "erased", "refurbished", "ready", "reserved",
    "distributed", "recycled", "dismantled", "transferred",
)  # fmt: skip

# States that end an item's life here: what the donor report calls its fate.
FATES: tuple[str, ...] = ("distributed", "recycled", "dismantled", "transferred")
TERMINAL = frozenset(FATES)

# What sorting decides.
SORT_ORIENTATIONS: tuple[str, ...] = ("refurbish", "parts", "recycle")

# States a workshop step may record directly; the others have their own
# action (receive at creation, distribute with a beneficiary, transfer by a
# hand-off, recycle through an outflow or this generic step). "erased" is
# not one of them: it follows from erasure proofs (node.domain.erasure.settle).
STEP_STATES: tuple[str, ...] = (
    "sorted", "tested", "refurbished", "ready", "reserved", "recycled", "dismantled",
)  # fmt: skip


def can_move(current: str, target: str) -> bool:
    """Whether an item in ``current`` may move to ``target`` (corrections aside)."""
    if current in TERMINAL or target == "received":
        return False
    if target == "reserved":
        return current == "ready"
    if target == "distributed":
        return current in ("ready", "reserved")
    return True
