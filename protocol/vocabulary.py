"""The closed lists the record kinds name: the categories of items and of beneficiaries.

Apart from ``protocol.kinds`` so that a reader of a workshop's file (``node.categories``,
the import parsers) knows them without loading pydantic and every kind's model.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Category", "CATEGORIES", "BeneficiaryCategory"]

Category = Literal[
    "desktop", "laptop", "tablet", "smartphone", "screen", "printer",
    "multifunction_printer", "server", "network", "peripheral", "component", "other",
]  # fmt: skip
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
BeneficiaryCategory = Literal["person", "association", "school", "ess", "other"]
