"""Reference data about item categories: default weights, storage, price caps."""

from __future__ import annotations

from protocol.vocabulary import CATEGORIES

__all__ = ["CATEGORIES", "DEFAULT_WEIGHT_G", "HAS_STORAGE", "MAY_HOLD_DATA", "GETS_OS", "PRICE_CAP_CENTS",
           "default_weight", "holds_data", "gets_os"]  # fmt: skip

# Typical weights, used when a volunteer does not weigh the item; editable per item.
DEFAULT_WEIGHT_G: dict[str, int] = {
    "desktop": 7500,
    "laptop": 2200,
    "tablet": 500,
    "smartphone": 180,
    "screen": 4500,
    "printer": 8000,
    "multifunction_printer": 12000,
    "server": 15000,
    "network": 1500,
    "peripheral": 400,
    "component": 300,
    "other": 1000,
}

# Categories that carry user data unless told otherwise: the erasure rule
# applies to them while their storage is "unknown".
HAS_STORAGE: frozenset[str] = frozenset(
    {"desktop", "laptop", "tablet", "smartphone", "server", "multifunction_printer"}
)

# Categories whose items may carry a disk or memory holding someone's data: the erased state applies
# to them (by proof, ``node.domain.erasure``). A screen, a keyboard or a mouse never reach "erased"; an item
# of another category does once a disk was found in it (its storage "present" or "removed").
MAY_HOLD_DATA: frozenset[str] = HAS_STORAGE | {"printer", "network", "component", "other"}

# Categories that get an operating system at refurbishing (the ``os`` of a "refurbished" step).
GETS_OS: frozenset[str] = frozenset({"desktop", "laptop", "tablet", "smartphone", "server", "other"})


def holds_data(category: str, storage: str) -> bool:
    """Whether the erasure step applies to an item: its category may hold data, or a disk was found in it."""
    return storage in ("present", "removed") or (storage == "unknown" and category in MAY_HOLD_DATA)


def gets_os(category: str, storage: str) -> bool:
    """Whether an operating system can be installed on an item: a computer, phone or tablet with storage."""
    return category in GETS_OS and storage != "none"


# Prix solidaire caps incl. VAT (décrets 2022-791 / 2022-1413, DOMAIN.md).
# The desktop cap covers the whole set (unit, screen, keyboard, mouse).
PRICE_CAP_CENTS: dict[str, int] = {
    "laptop": 18000,
    "desktop": 15000,
    "tablet": 10000,
    "smartphone": 10000,
    "screen": 3000,
    "printer": 3000,
    "multifunction_printer": 17000,
}


def default_weight(category: str) -> int:
    return DEFAULT_WEIGHT_G[category]
