"""Reference data about item categories: default weights, storage, price caps."""

from __future__ import annotations

from protocol.kinds import CATEGORIES

__all__ = ["CATEGORIES", "DEFAULT_WEIGHT_G", "HAS_STORAGE", "PRICE_CAP_CENTS", "default_weight"]

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
