"""Just enough edwards25519 arithmetic to judge a public key (RFC 8032).

Used once per key, when a key is first registered, never on the hot path:
the ``cryptography`` verifier accepts keys that must be refused (the
identity point verifies a forged signature for every message). The hot path
only compares a signature's R with ``SMALL_ORDER_ENCODINGS`` (a set lookup).
"""

from __future__ import annotations

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)
IDENTITY: Point = (0, 1, 1, 0)

# The 7 values of y (mod 2^255, the sign bit aside) whose points have small
# order, canonical or not: 0 and p (order 4), 1 and p + 1 (the identity),
# p - 1 (order 2), and the two y of the points of order 8. With the sign bit
# clear and set: the 14 encodings libsodium refuses as a signature's R (and
# as a key), whether or not they decode canonically.
_SMALL_ORDER_Y = (
    0, 1, P - 1, P, P + 1,
    0x05FC536D880238B13933C6D305ACDFD5F098EFF289F4C345B027B2C28F95E826,
    0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7,
)  # fmt: skip
SMALL_ORDER_ENCODINGS: frozenset[bytes] = frozenset(
    (y | sign << 255).to_bytes(32, "little") for y in _SMALL_ORDER_Y for sign in (0, 1)
)


def decode_point(encoded: bytes) -> Point | None:
    """Decode a 32-byte point as RFC 8032 5.1.3, refusing non-canonical forms.

    Returns ``None`` when the bytes are not the canonical encoding of a point
    of the curve (y >= p, no square root, or "negative zero" x).
    """
    if len(encoded) != 32:
        return None
    as_int = int.from_bytes(encoded, "little")
    sign = as_int >> 255
    y = as_int & ((1 << 255) - 1)
    if y >= P:
        return None
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = (u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P)) % P
    if (v * x * x - u) % P != 0:
        x = (x * SQRT_M1) % P
        if (v * x * x - u) % P != 0:
            return None
    if x == 0 and sign == 1:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, (x * y) % P)


def add(p: Point, q: Point) -> Point:
    """Add two points (extended coordinates, complete formula)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def multiply(scalar: int, point: Point) -> Point:
    """Scalar multiplication by double-and-add."""
    result = IDENTITY
    while scalar:
        if scalar & 1:
            result = add(result, point)
        point = add(point, point)
        scalar >>= 1
    return result


def is_identity(point: Point) -> bool:
    """True when the point is the neutral element (X = 0, Y = Z)."""
    x, y, z, _ = point
    return x % P == 0 and (y - z) % P == 0


def is_prime_order(encoded: bytes) -> bool:
    """True when the bytes canonically encode a point of order exactly L.

    That refuses the eight small-order points (the weak keys) and every
    point with a small-order component, which an honest key never has.
    """
    point = decode_point(encoded)
    if point is None or is_identity(point):
        return False
    return is_identity(multiply(L, point))


def encode_point(point: Point) -> bytes:
    """The canonical 32-byte encoding of a point (RFC 8032 5.1.2)."""
    x, y, z, _ = point
    z_inv = pow(z, P - 2, P)
    x, y = x * z_inv % P, y * z_inv % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


BASE: Point = decode_point(bytes.fromhex("58" + "66" * 31))  # type: ignore[assignment]
