"""Turning boundary input into domain models, with one clear error."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from node.errors import Invalid

__all__ = ["Input", "parse", "Id", "Millis"]

M = TypeVar("M", bound=BaseModel)

# SQLite integers are 64-bit: bound what reaches a query, so a huge number is
# a clear ``Invalid`` rather than an overflow deep in the driver.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Millis = Annotated[int, Field(ge=0, le=2**63 - 1)]


class Input(BaseModel):
    """Base of the domain's input models: no unknown field, trimmed text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data``; raise ``Invalid`` naming the first wrong field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "input"
        raise Invalid(f"{field}: {first['msg']}", code="invalid") from exc
