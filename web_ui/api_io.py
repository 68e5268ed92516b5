"""The JSON API's boundary: reading bodies and query strings, writing answers and errors.

Everything a client sends is checked here or by the domain's input models
before any transaction starts, so bad input gets a clear error (naming the
field or parameter) and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any, overload

from aiohttp import web
from pydantic import AfterValidator, BaseModel, Field

from node.errors import DomainError, Invalid, NotFound, RuleBroken

__all__ = [
    "ApiError", "Route", "Handler", "ID_MAX", "Id", "ItemIds", "read_object", "path_id", "query_int",
    "query_text", "answer", "created", "error_response", "status_of", "plain",
]  # fmt: skip

# SQLite stores signed 64-bit integers; a larger number would fail deep in
# the driver (OverflowError), so it is refused at the door instead.
ID_MAX = 2**63 - 1

Handler = Callable[..., Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: the table in ``web_ui.api`` is the source of truth for the
    routes, the body each one parses, the query parameters it accepts, and
    ``openapi.json`` (a test keeps the two equal).
    """

    method: str
    path: str  # under /api/v1; ``{id}`` is a whole number (ASCII digits)
    handler: Handler
    body: type[BaseModel] | None = None
    query: tuple[str, ...] = ()
    public: bool = False  # served without a token (the API description only)


class ApiError(Exception):
    """An error of the HTTP layer itself (token, role, JSON syntax), not of the domain."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _unique(ids: list[int]) -> list[int]:
    # A repeated id would make a batch ambiguous (one event, two distributions).
    if len(set(ids)) != len(ids):
        raise ValueError("an item appears twice")
    return ids


Id = Annotated[int, Field(ge=1, le=ID_MAX)]
ItemIds = Annotated[list[Id], Field(min_length=1, max_length=20000, json_schema_extra={"uniqueItems": True}),
                    AfterValidator(_unique)]  # fmt: skip


class _Huge(str):
    """A whole number too long to store, kept as text until its place is known."""


def _whole(text: str) -> int | _Huge:
    # Checked on the text first: Python refuses to parse more than 4300 digits.
    return _Huge(text) if len(text.lstrip("-")) > 19 else int(text)


def _number(text: str) -> float | int | _Huge:
    # JSON Schema's "integer" is any number without a fractional part: 12.0 is the integer 12.
    value = float(text)
    if value.is_integer():
        return _Huge(text) if abs(value) > ID_MAX else int(value)
    return value


def _check_numbers(data: Any) -> None:
    """Refuse, naming its place, a whole number that does not fit in SQLite's 64 bits."""
    stack: list[tuple[str, Any]] = [("", data)]  # a loop, not recursion: the JSON may be deeply nested
    while stack:
        place, value = stack.pop()
        if isinstance(value, _Huge) or (type(value) is int and not -ID_MAX - 1 <= value <= ID_MAX):
            raise Invalid(f"{place or 'input'}: the number is out of range", code="invalid")
        if isinstance(value, dict):
            stack += [(f"{place}.{key}" if place else key, v) for key, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{place}.{n}" if place else str(n), v) for n, v in enumerate(value)]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two values for one key: which one the client meant is unknowable.
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"the key {key!r} appears twice")
        data[key] = value
    return data


async def read_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object: 400 ``bad_json`` if it is not JSON, 422 if not an object."""
    raw = await request.read()
    if not raw.strip():
        raise ApiError(400, "bad_json", "the body is empty: send a JSON object")
    try:
        data = json.loads(raw.decode("utf-8"), parse_int=_whole, parse_float=_number,
                          parse_constant=_no_constant, object_pairs_hook=_no_duplicates)  # fmt: skip
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Invalid("input: the body must be a JSON object", code="invalid")
    _check_numbers(data)
    return data


def path_id(request: web.Request, name: str = "id") -> int:
    """The whole number in the path (the route's pattern allows digits only)."""
    value = int(request.match_info[name])
    if value > ID_MAX:  # cannot exist in the database
        raise NotFound(f"nothing numbered {request.match_info[name][:30]}: the number is out of range")
    return value


def _one(request: web.Request, name: str) -> str | None:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise Invalid(f"{name}: give it once", code="invalid")
    return values[0] if values else None


def query_text(request: web.Request, name: str, *, max_length: int = 200) -> str | None:
    """A text query parameter, or None when absent or empty."""
    value = _one(request, name)
    if value is not None and len(value) > max_length:
        raise Invalid(f"{name}: at most {max_length} characters", code="invalid")
    return value or None


@overload
def query_int(request: web.Request, name: str, default: int, *, minimum: int = 0,
              maximum: int = ID_MAX) -> int: ...  # fmt: skip
@overload
def query_int(request: web.Request, name: str, default: None = None, *, minimum: int = 0,
              maximum: int = ID_MAX) -> int | None: ...  # fmt: skip
def query_int(request: web.Request, name: str, default: int | None = None, *, minimum: int = 0,
              maximum: int = ID_MAX) -> int | None:  # fmt: skip
    """A whole-number query parameter, or ``default`` when absent; 422 naming it otherwise (empty included)."""
    value = _one(request, name)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or len(value) > 19 or not minimum <= int(value) <= maximum:
        raise Invalid(f"{name}: a whole number from {minimum} to {maximum}", code="invalid")
    return int(value)


def plain(value: Any) -> Any:
    """A domain dataclass (or a list of them) as JSON-ready data; times stay integer ms."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    return asdict(value)


def answer(data: Any, status: int = 200, *, location: str | None = None) -> web.Response:
    headers = {"Location": location} if location else None
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def created(data: Any, location: str | None = None) -> web.Response:
    return answer(data, 201, location=location)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> web.Response:  # fmt: skip
    """The one error shape of the API: ``{"code": ..., "message": ...}``."""
    return web.json_response({"code": code, "message": message}, status=status, headers=headers, dumps=_dumps)


def status_of(error: DomainError) -> int:
    """The HTTP status of a domain error; the domain itself knows nothing of HTTP."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, RuleBroken):
        return 409
    return 422  # Invalid, and any other refusal of the input
