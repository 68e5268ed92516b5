"""Turning boundary input into domain models, with one clear error."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from node.errors import Invalid

__all__ = ["Input", "parse", "parse_json", "Id", "Millis", "Day", "EARLIEST", "LATEST", "MIN_TIME_MS", "MAX_TIME_MS"]

M = TypeVar("M", bound=BaseModel)

# SQLite integers are 64-bit: bound what reaches a query, so a huge number is
# a clear ``Invalid`` rather than an overflow deep in the driver.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]

# What a node records happened between these days: a workshop's history, a
# donor's old inventory, the next decades. A date typed as 0025 or 9999 (or a
# time of 2**63 ms) is a mistake, refused, rather than a value no page can show.
EARLIEST = date(1980, 1, 1)
LATEST = date(2100, 12, 31)
MIN_TIME_MS = int(datetime(1980, 1, 1, tzinfo=UTC).timestamp() * 1000)
MAX_TIME_MS = int(datetime(2101, 1, 1, tzinfo=UTC).timestamp() * 1000) - 1
Millis = Annotated[int, Field(ge=MIN_TIME_MS, le=MAX_TIME_MS)]
# JSON Schema cannot bound a date: the pattern says the same years to a schema's reader.
Day = Annotated[date, Field(ge=EARLIEST, le=LATEST, json_schema_extra={"pattern": r"^(19[89][0-9]|20[0-9][0-9]|2100)-"})]


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


def parse_json(model: type[M], data: Any) -> M:
    """Validate a decoded JSON document strictly, as its JSON Schema reads it; raise ``Invalid`` like ``parse``.

    The local API's bodies: ``false`` is not a number, ``"12"`` is not a
    number, ``12`` is not text. (Forms and imports go through ``parse``,
    which reads numbers written as text.)
    """
    try:
        return model.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "input"
        raise Invalid(f"{field}: {first['msg']}", code="invalid") from exc
