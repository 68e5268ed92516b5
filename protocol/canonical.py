"""Canonical msgpack: exactly one byte form per value.

Allowed values are nil, booleans, integers in [-2**63, 2**64 - 1], text
(``str``, valid UTF-8), bytes (``bin``), arrays and maps with text keys.
Integers, strings, bins, arrays and maps use their smallest header form;
map keys are sorted by their encoded bytes; floats and ext types do not
exist here. PROTOCOL.md, section "Canonical encoding", is the contract.

``decode`` refuses any input that is not canonical.  Its fast path lets the
C unpacker read the bytes and checks that re-encoding them gives the same
bytes; anything else goes through ``_Reader``, a strict reader that names the
first violation in reading order, so that the reason code is the same one
another implementation following PROTOCOL.md would give.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgpack

from protocol.errors import EncodingError, Reason

__all__ = ["encode", "decode", "MAX_DEPTH", "MAX_SIZE"]

MAX_DEPTH = 16
"""Containers may nest at most this deep (a top-level array is depth 1)."""

MAX_SIZE = 4 * 1024 * 1024 + 8192
"""Default bound on one encoded value, in bytes (the largest log entry)."""

_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1


def encode(value: Any) -> bytes:
    """Return the canonical msgpack bytes of ``value``.

    Tuples encode as arrays, ``bytes``/``bytearray``/``memoryview`` as bin.
    Raises ``EncodingError`` (``forbidden_type``, ``too_deep``) for values
    that have no canonical form.
    """
    return _packb(_normalise(value, 0))


def decode(data: bytes, *, max_size: int = MAX_SIZE) -> Any:
    """Decode canonical msgpack bytes holding exactly one value.

    Raises ``EncodingError`` naming the first violation: ``too_large``,
    ``malformed``, ``forbidden_type``, ``non_canonical``, ``duplicate_key``,
    ``too_deep`` or ``trailing_bytes``.
    """
    if type(data) is not bytes:
        if not isinstance(data, (bytearray, memoryview)):
            raise EncodingError(Reason.MALFORMED, "expected bytes")
        data = bytes(data)
    if len(data) > max_size:
        raise EncodingError(Reason.TOO_LARGE, f"{len(data)} bytes, limit {max_size}")
    try:
        value = _unpackb(data)
        # msgpack-python writes every value in its smallest form, so equal
        # bytes leave only what it does not check: floats, key order, depth.
        if _plain(value, 0) and _packb(value) == data:
            return value
    except Exception:  # noqa: BLE001 - any failure: let the strict reader name it
        pass
    return _Reader(data).read_all()


def _unpackb(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=True, ext_hook=_refuse_ext)


def _packb(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


_SCALARS = frozenset({int, str, bytes, bool, type(None)})


def _plain(value: Any, depth: int) -> bool:
    """True when a decoded value has a canonical form equal to msgpack's own."""
    kind = type(value)
    if kind is list:
        if depth >= MAX_DEPTH:
            return False
        for item in value:
            if type(item) not in _SCALARS and not _plain(item, depth + 1):
                return False
        return True
    if kind is dict:
        if depth >= MAX_DEPTH:
            return False
        keys = tuple(value)
        ordered = _ORDERED.get(keys)
        if ordered is None:
            ordered = _in_order(keys)
            if _cacheable(keys) and len(_ORDERED) < _SHAPES_CACHED:
                _ORDERED[keys] = ordered
        if not ordered:
            return False
        for item in value.values():
            if type(item) not in _SCALARS and not _plain(item, depth + 1):
                return False
        return True
    return kind in _SCALARS


# The shapes of maps met so far (their keys, in the order they came): the records of a kind
# share a few, so that a map's keys are checked (or sorted) once per shape, not once per map.
_KEYS_CACHED = 32  # keys of larger maps (or longer keys) are checked every time
_KEY_CACHED = 64  # characters of a key
_SHAPES_CACHED = 4096
_ORDERED: dict[tuple, bool] = {}  # keys as decoded -> text keys in canonical order
_ORDER: dict[tuple, tuple[str, ...]] = {}  # text keys as given -> the same keys in canonical order


def _cacheable(keys: tuple) -> bool:
    return len(keys) <= _KEYS_CACHED and all(type(k) is str and len(k) <= _KEY_CACHED for k in keys)


def _in_order(keys: tuple) -> bool:
    previous = b""
    for key in keys:
        if type(key) is not str:
            return False
        key_bytes = _key_bytes(key)
        if key_bytes <= previous:
            return False
        previous = key_bytes
    return True


def _refuse_ext(code: int, payload: bytes) -> Any:
    raise EncodingError(Reason.FORBIDDEN_TYPE, "ext type")


def _key_bytes(key: str) -> bytes:
    # Field names are short and few: cached. Anything longer is encoded each time, so that
    # the caches hold a bounded amount whatever maps a peer sends.
    return _short_key_bytes(key) if len(key) <= _KEY_CACHED else msgpack.packb(key, use_bin_type=True)


@lru_cache(maxsize=4096)
def _short_key_bytes(key: str) -> bytes:
    return msgpack.packb(key, use_bin_type=True)


def _normalise(value: Any, depth: int) -> Any:
    # The exact built-in types first (most of a body); anything else (subclasses, tuples, bytearray...)
    # goes through the general rules below.
    kind = type(value)
    if kind is str or kind is bytes or kind is bool or value is None:
        return value
    if kind is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise EncodingError(Reason.FORBIDDEN_TYPE, "integer out of the 64-bit range")
        return value
    if kind is dict and depth < MAX_DEPTH:
        keys = tuple(value)
        order = _ORDER.get(keys)
        if order is None:
            for key in keys:
                if type(key) is not str:
                    return _normalise_any(value, depth)
            order = tuple(sorted(keys, key=_key_bytes))
            if _cacheable(keys) and len(_ORDER) < _SHAPES_CACHED:
                _ORDER[keys] = order
        out = {}
        for key in order:  # the scalars inline: a call per value costs more than the check
            item = value[key]
            kind = type(item)
            if (kind is str or kind is bytes or item is None or kind is bool
                    or (kind is int and _INT_MIN <= item <= _INT_MAX)):  # fmt: skip
                out[key] = item
            else:
                out[key] = _normalise(item, depth + 1)
        return out
    if kind is list and depth < MAX_DEPTH:
        return [_normalise(item, depth + 1) for item in value]
    return _normalise_any(value, depth)


def _normalise_any(value: Any, depth: int) -> Any:
    # Order of the checks matters: bool is an int, str subclasses are str.
    if value is None or value is True or value is False:
        return value
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise EncodingError(Reason.FORBIDDEN_TYPE, "integer out of the 64-bit range")
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        if depth >= MAX_DEPTH:
            raise EncodingError(Reason.TOO_DEEP, f"more than {MAX_DEPTH} nested containers")
        return [_normalise(item, depth + 1) for item in value]
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise EncodingError(Reason.TOO_DEEP, f"more than {MAX_DEPTH} nested containers")
        for key in value:
            if not isinstance(key, str):
                raise EncodingError(Reason.FORBIDDEN_TYPE, "map key is not text")
        keys = sorted(value, key=_key_bytes)
        return {str(key): _normalise(value[key], depth + 1) for key in keys}
    if isinstance(value, float):
        raise EncodingError(Reason.FORBIDDEN_TYPE, "floats are not allowed")
    raise EncodingError(Reason.FORBIDDEN_TYPE, f"cannot encode {type(value).__name__}")


# Smallest forms: (upper bound of the value or length, first byte of the form).
_UINT_FORMS = ((0x7F, None), (0xFF, 0xCC), (0xFFFF, 0xCD), (0xFFFFFFFF, 0xCE), (_INT_MAX, 0xCF))
_NEG_FORMS = ((-32, None), (-(2**7), 0xD0), (-(2**15), 0xD1), (-(2**31), 0xD2), (_INT_MIN, 0xD3))
_LEN_FORMS = {
    "str": ((31, None), (0xFF, 0xD9), (0xFFFF, 0xDA), (0xFFFFFFFF, 0xDB)),
    "bin": ((0xFF, 0xC4), (0xFFFF, 0xC5), (0xFFFFFFFF, 0xC6)),
    "array": ((15, None), (0xFFFF, 0xDC), (0xFFFFFFFF, 0xDD)),
    "map": ((15, None), (0xFFFF, 0xDE), (0xFFFFFFFF, 0xDF)),
}


def _smallest_uint_form(value: int) -> int | None:
    for bound, form in _UINT_FORMS:
        if value <= bound:
            return form
    raise AssertionError("unreachable")


def _smallest_neg_form(value: int) -> int | None:
    for bound, form in _NEG_FORMS:
        if value >= bound:
            return form
    raise AssertionError("unreachable")


def _smallest_len_form(family: str, length: int) -> int | None:
    for bound, form in _LEN_FORMS[family]:
        if length <= bound:
            return form
    raise AssertionError("unreachable")


class _Reader:
    """Strict reader: the reference for which input is canonical, and why not.

    It reads one value front to back and raises at the first byte that breaks
    a rule, so the reason code does not depend on implementation details.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read_all(self) -> Any:
        value = self.read(0)
        if self.pos != len(self.data):
            raise EncodingError(
                Reason.TRAILING_BYTES, f"{len(self.data) - self.pos} bytes after the value"
            )
        return value

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise EncodingError(Reason.MALFORMED, f"truncated at byte {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def read(self, depth: int) -> Any:
        start = self.pos
        b = self.take(1)[0]
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 0x100
        if 0xA0 <= b <= 0xBF:
            return self.text(b & 0x1F, None, start)
        if 0x90 <= b <= 0x9F:
            return self.array(b & 0x0F, None, start, depth)
        if 0x80 <= b <= 0x8F:
            return self.map(b & 0x0F, None, start, depth)
        if b == 0xC0:
            return None
        if b == 0xC2:
            return False
        if b == 0xC3:
            return True
        if b in (0xCC, 0xCD, 0xCE, 0xCF):
            value = self.uint(1 << (b - 0xCC))
            if _smallest_uint_form(value) != b:
                raise EncodingError(Reason.NON_CANONICAL, f"integer in a long form at byte {start}")
            return value
        if b in (0xD0, 0xD1, 0xD2, 0xD3):
            size = 1 << (b - 0xD0)
            value = int.from_bytes(self.take(size), "big", signed=True)
            if value >= 0 or _smallest_neg_form(value) != b:
                raise EncodingError(Reason.NON_CANONICAL, f"integer in a long form at byte {start}")
            return value
        if b in (0xD9, 0xDA, 0xDB):
            return self.text(self.uint(1 << (b - 0xD9)), b, start)
        if b in (0xC4, 0xC5, 0xC6):
            length = self.uint(1 << (b - 0xC4))
            if _smallest_len_form("bin", length) != b:
                raise EncodingError(Reason.NON_CANONICAL, f"bin length in a long form at byte {start}")
            return self.take(length)
        if b in (0xDC, 0xDD):
            return self.array(self.uint(2 if b == 0xDC else 4), b, start, depth)
        if b in (0xDE, 0xDF):
            return self.map(self.uint(2 if b == 0xDE else 4), b, start, depth)
        if b in (0xCA, 0xCB):
            raise EncodingError(Reason.FORBIDDEN_TYPE, f"float at byte {start}")
        if b in (0xC7, 0xC8, 0xC9) or 0xD4 <= b <= 0xD8:
            raise EncodingError(Reason.FORBIDDEN_TYPE, f"ext type at byte {start}")
        raise EncodingError(Reason.MALFORMED, f"reserved byte 0x{b:02x} at byte {start}")

    def text(self, length: int, form: int | None, start: int) -> str:
        if _smallest_len_form("str", length) != form:
            raise EncodingError(Reason.NON_CANONICAL, f"str length in a long form at byte {start}")
        raw = self.take(length)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(Reason.MALFORMED, f"invalid UTF-8 at byte {start}") from exc

    def container(self, family: str, length: int, form: int | None, start: int, depth: int) -> None:
        if _smallest_len_form(family, length) != form:
            raise EncodingError(Reason.NON_CANONICAL, f"{family} length in a long form at byte {start}")
        if depth >= MAX_DEPTH:
            raise EncodingError(Reason.TOO_DEEP, f"more than {MAX_DEPTH} nested containers at byte {start}")
        # Every element takes at least one byte: refuse impossible lengths
        # before allocating anything for them.
        if length > len(self.data) - self.pos:
            raise EncodingError(Reason.MALFORMED, f"truncated {family} at byte {start}")

    def array(self, length: int, form: int | None, start: int, depth: int) -> list[Any]:
        self.container("array", length, form, start, depth)
        return [self.read(depth + 1) for _ in range(length)]

    def map(self, length: int, form: int | None, start: int, depth: int) -> dict[str, Any]:
        self.container("map", length, form, start, depth)
        result: dict[str, Any] = {}
        previous = b""
        for _ in range(length):
            key_start = self.pos
            key = self.read(depth + 1)
            if not isinstance(key, str):
                raise EncodingError(Reason.FORBIDDEN_TYPE, f"map key is not text at byte {key_start}")
            key_bytes = self.data[key_start : self.pos]
            if key_bytes == previous:
                raise EncodingError(Reason.DUPLICATE_KEY, f"duplicate key {key!r} at byte {key_start}")
            if key_bytes < previous:
                raise EncodingError(Reason.NON_CANONICAL, f"unsorted key {key!r} at byte {key_start}")
            previous = key_bytes
            result[key] = self.read(depth + 1)
        return result
