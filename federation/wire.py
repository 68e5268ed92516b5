"""The bodies of ``/fed/v1`` requests and answers (PROTOCOL.md, "Federation transport").

Every body is canonical msgpack. Records travel as *items*:
``[entry, sealed | nil]``: a log entry, and when the record has an audience
its content sealed to that audience (the entry is then a stub). Decoding
checks shapes only; the records themselves are checked by the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocol import canonical
from protocol.errors import ProtocolError, Reason, RequestRefused
from protocol.records import MAX_CONTENT, MAX_ENTRY

__all__ = [
    "Item", "Result", "MAX_BODY", "read_body", "MAX_ITEMS", "encode", "decode_map", "encode_items", "decode_items",
    "encode_results", "decode_results", "CONTENT_TYPE",
]  # fmt: skip

CONTENT_TYPE = "application/msgpack"
MAX_BODY = 16 * 1024 * 1024
MAX_ITEMS = 500
MAX_SEALED = MAX_CONTENT + 4096
STATUSES = ("accepted", "duplicate", "refused")


@dataclass(frozen=True, slots=True)
class Item:
    """One record on the wire: its entry, and its sealed content when it has an audience."""

    entry: bytes
    sealed: bytes | None = None

    def to_wire(self) -> list[Any]:
        return [self.entry, self.sealed]


@dataclass(frozen=True, slots=True)
class Result:
    """The receiver's verdict on one pushed item."""

    id: bytes | None
    status: str
    reason: str | None = None
    have: int | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.have is not None:
            out["have"] = self.have
        return out


async def read_body(stream, limit: int = MAX_BODY) -> bytes:
    """A whole HTTP body from an aiohttp stream, refused (``too_large``) past ``limit`` bytes.

    ``StreamReader.read(n)`` returns what has arrived so far, up to n: read
    until the end of the body.
    """
    chunks, size = [], 0
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise RequestRefused(Reason.TOO_LARGE, f"a body is at most {limit} bytes")
        chunks.append(chunk)


def _bad(message: str) -> RequestRefused:
    return RequestRefused(Reason.BAD_REQUEST, message)


def encode(value: Any) -> bytes:
    return canonical.encode(value)


def decode_map(body: bytes, fields: dict[str, type | tuple[type, ...]], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A body that is a map with exactly ``fields`` (some ``optional``), each of its type."""
    if len(body) > MAX_BODY:
        raise RequestRefused(Reason.TOO_LARGE, f"a body is at most {MAX_BODY} bytes")
    try:
        value = canonical.decode(body, max_size=MAX_BODY)
    except ProtocolError as exc:
        raise _bad(f"the body is not canonical msgpack: {exc.code.value}") from exc
    if not isinstance(value, dict):
        raise _bad("the body is a map")
    unknown = set(value) - set(fields)
    if unknown:
        raise _bad(f"unknown field {sorted(unknown)[0]!r}")
    for name, kind in fields.items():
        if name not in value:
            if name in optional:
                continue
            raise _bad(f"missing field {name!r}")
        # bool is an int in Python: never accept one where a number is expected
        if not isinstance(value[name], kind) or (isinstance(value[name], bool) and bool not in _tuple(kind)):
            raise _bad(f"field {name!r} has the wrong type")
    return value


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def encode_items(items: list[Item], **extra: Any) -> bytes:
    return canonical.encode({"items": [item.to_wire() for item in items], **extra})


def decode_items(value: Any) -> list[Item]:
    """The ``items`` array of a decoded body."""
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise _bad(f"items is an array of at most {MAX_ITEMS}")
    items = []
    for raw in value:
        if (
            not isinstance(raw, list) or len(raw) != 2 or not isinstance(raw[0], bytes) or len(raw[0]) > MAX_ENTRY
            or not (raw[1] is None or (isinstance(raw[1], bytes) and len(raw[1]) <= MAX_SEALED))
        ):  # fmt: skip
            raise _bad("an item is [entry: bin, sealed: bin | nil]")
        items.append(Item(raw[0], raw[1]))
    return items


def encode_results(results: list[Result]) -> bytes:
    return canonical.encode({"results": [result.to_wire() for result in results]})


def decode_results(body: bytes, expected: int) -> list[Result]:
    value = decode_map(body, {"results": list})
    results = []
    for raw in value["results"]:
        if not isinstance(raw, dict) or raw.get("status") not in STATUSES or not set(raw) <= {"id", "status", "reason", "have"}:
            raise _bad("a result is {id, status, reason?, have?}")
        results.append(Result(raw.get("id"), raw["status"], raw.get("reason"), raw.get("have")))
    if len(results) != expected:
        raise _bad(f"{len(results)} results for {expected} items")
    return results
