"""BabyJubJub: the twisted Edwards curve over the BN254 scalar field that circomlib's EdDSA uses.

``A*x^2 + y^2 = 1 + D*x^2*y^2 (mod p)`` with ``p`` the BN254 scalar field (:data:`FIELD_MODULUS`), so a circuit
does curve arithmetic on its native field elements. The constants are circomlibjs's (``buildBabyjub``) and
EIP-2494's. ``A`` is a square and ``D`` is not, so the addition law is complete: the same formula adds any two
points, the identity ``(0, 1)`` and doublings included, with no exceptional cases.

The curve has ``ORDER = 8 * SUBORDER`` points, ``SUBORDER`` prime. :data:`BASE8` (``8 * GENERATOR``) generates
the prime-order subgroup; keys and signature nonces are multiples of it. A point whose order divides 8 is of
*small order*: as a public key it would make ``8 * h * A`` vanish, so it must never be accepted.

Points are affine ``(x, y)`` tuples of plain ints below ``p``. Sums and scalar multiples are computed in
extended coordinates ``(X : Y : T : Z)`` with ``x = X/Z, y = Y/Z, T = XY/Z`` (Hisil, Wong, Carter, Dawson 2008),
one inversion per result. Multiples of :data:`BASE8` use a precomputed fixed-window table. Nothing here is
constant-time: Python ints are not, which matters for where a device key signs (see docs/signing.md).
"""

from __future__ import annotations

import functools

from proofstream.domain.types import FIELD_MODULUS

__all__ = [
    "BASE8",
    "COFACTOR",
    "GENERATOR",
    "IDENTITY",
    "ORDER",
    "SUBORDER",
    "A",
    "D",
    "P",
    "Point",
    "add",
    "base8_mul",
    "base8_mul_is_sum",
    "double",
    "in_subgroup",
    "is_on_curve",
    "is_small_order",
    "negate",
    "pack_point",
    "scalar_mul",
    "unpack_point",
]

Point = tuple[int, int]
"""An affine point ``(x, y)``, both coordinates in ``0..P-1``."""

P = FIELD_MODULUS
"""The base field of BabyJubJub is the BN254 *scalar* field (circuits' native field)."""

A = 168700
"""Twisted Edwards coefficient ``a`` (a square mod ``P``)."""
D = 168696
"""Twisted Edwards coefficient ``d`` (a non-square mod ``P``, which makes the addition law complete)."""

ORDER = 21888242871839275222246405745257275088614511777268538073601725287587578984328
"""Number of points on the curve (circomlibjs ``order``)."""
COFACTOR = 8
SUBORDER = ORDER >> 3
"""Prime order ``l`` of the subgroup that :data:`BASE8` generates (circomlibjs ``subOrder``); signature
scalars ``S`` must lie below it."""

GENERATOR: Point = (
    995203441582195749578291179787384436505546430278305826713579947235728471134,
    5472060717959818805561601436314318772137091100104008585924551046643952123905,
)
"""circomlibjs ``Generator``: a point of full order ``ORDER``."""
BASE8: Point = (
    5299619240641551281634865583518297030282874472190772894086521144482721001553,
    16950150798460657717958625567821834550301663161624707787222815936182638968203,
)
"""circomlibjs ``Base8 = 8 * Generator``: the base point of keys and signatures (order :data:`SUBORDER`)."""

IDENTITY: Point = (0, 1)
"""The neutral element."""

_HALF_P = (P - 1) // 2
"""Packing sets the sign bit when ``x > (P - 1) / 2`` (circomlibjs ``pm1d2``)."""

_Ext = tuple[int, int, int, int]
"""Extended coordinates ``(X, Y, T, Z)``."""

_WINDOW_BITS = 4
_WINDOWS = (SUBORDER.bit_length() + _WINDOW_BITS - 1) // _WINDOW_BITS
"""The fixed-base table covers scalars below ``2**(4 * 63)``, enough for any scalar reduced mod SUBORDER."""


def _is_coordinate(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < P


def is_on_curve(point: Point) -> bool:
    """Whether ``point`` is two field elements satisfying ``A*x^2 + y^2 == 1 + D*x^2*y^2`` (circomlibjs
    ``inCurve``, but also refusing coordinates outside ``0..P-1`` instead of reducing them)."""
    if not isinstance(point, tuple) or len(point) != 2:
        return False
    x, y = point
    if not (_is_coordinate(x) and _is_coordinate(y)):
        return False
    x2, y2 = x * x % P, y * y % P
    return (A * x2 + y2 - 1 - D * x2 * y2) % P == 0


def _to_ext(point: Point) -> _Ext:
    x, y = point
    return (x, y, x * y % P, 1)


def _to_affine(point: _Ext) -> Point:
    x, y, _, z = point
    inverse = pow(z, -1, P)
    return (x * inverse % P, y * inverse % P)


def _add(p1: _Ext, p2: _Ext) -> _Ext:
    """Unified addition ``add-2008-hwcd`` for any ``a``: complete on this curve."""
    x1, y1, t1, z1 = p1
    x2, y2, t2, z2 = p2
    a = x1 * x2 % P
    b = y1 * y2 % P
    c = D * t1 % P * t2 % P
    d = z1 * z2 % P
    e = ((x1 + y1) * (x2 + y2) - a - b) % P
    f = d - c
    g = d + c
    h = b - A * a
    return (e * f % P, g * h % P, e * h % P, f * g % P)


def _add_affine(p1: _Ext, x2: int, y2: int, dt2: int) -> _Ext:
    """``p1 + (x2, y2)`` for a point with ``Z = 1`` whose ``D * x2 * y2`` is precomputed (one product less)."""
    x1, y1, t1, z1 = p1
    a = x1 * x2 % P
    b = y1 * y2 % P
    c = t1 * dt2 % P
    e = ((x1 + y1) * (x2 + y2) - a - b) % P
    f = z1 - c
    g = z1 + c
    h = b - A * a
    return (e * f % P, g * h % P, e * h % P, f * g % P)


def _double(p1: _Ext) -> _Ext:
    """Doubling ``dbl-2008-hwcd`` for any ``a``."""
    x1, y1, _, z1 = p1
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    d = A * a % P
    e = ((x1 + y1) * (x1 + y1) - a - b) % P
    g = d + b
    f = g - c
    h = d - b
    return (e * f % P, g * h % P, e * h % P, f * g % P)


def _is_identity(point: _Ext) -> bool:
    x, y, _, z = point
    return x % P == 0 and (y - z) % P == 0


def _same(p1: _Ext, p2: _Ext) -> bool:
    """Projective equality: ``X1/Z1 == X2/Z2`` and ``Y1/Z1 == Y2/Z2`` without inverting."""
    x1, y1, _, z1 = p1
    x2, y2, _, z2 = p2
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def _mul(point: _Ext, scalar: int) -> _Ext:
    """``scalar * point`` for ``scalar >= 0``, left to right with a 4-bit window of precomputed multiples."""
    if scalar == 0:
        return (0, 1, 0, 1)
    multiples = [(0, 1, 0, 1), point]
    for _ in range(2, 1 << _WINDOW_BITS):
        multiples.append(_add(multiples[-1], point))
    digits = []
    while scalar:
        digits.append(scalar & 0xF)
        scalar >>= _WINDOW_BITS
    result = multiples[digits[-1]]
    for digit in reversed(digits[:-1]):
        result = _double(_double(_double(_double(result))))
        if digit:
            result = _add(result, multiples[digit])
    return result


@functools.cache
def _base8_table() -> tuple[tuple[tuple[int, int, int], ...], ...]:
    """``table[w][j] = j * 16**w * BASE8`` as ``(x, y, D*x*y)``, ``j = 0..15``, ``w = 0..62`` (~10 ms once)."""
    table = []
    base = _to_ext(BASE8)
    for _ in range(_WINDOWS):
        row = [(0, 1, 0, 1), base]
        for _ in range(2, 1 << _WINDOW_BITS):
            row.append(_add(row[-1], base))
        affine = [_to_affine(point) for point in row]
        table.append(tuple((x, y, D * x * y % P) for x, y in affine))
        base = _double(_double(_double(_double(base))))
    return tuple(table)


def _base8_mul(scalar: int) -> _Ext:
    scalar %= SUBORDER
    result: _Ext = (0, 1, 0, 1)
    for row in _base8_table():
        if not scalar:
            break
        digit = scalar & 0xF
        if digit:
            result = _add_affine(result, *row[digit])
        scalar >>= _WINDOW_BITS
    return result


def _check_point(point: Point, what: str = "point") -> None:
    if not is_on_curve(point):
        raise ValueError(f"{what} is not a BabyJubJub point: {point!r}")


def add(p1: Point, p2: Point) -> Point:
    """``p1 + p2`` (circomlibjs ``addPoint``); ValueError if either is not on the curve."""
    _check_point(p1)
    _check_point(p2)
    return _to_affine(_add(_to_ext(p1), _to_ext(p2)))


def double(point: Point) -> Point:
    """``2 * point``."""
    _check_point(point)
    return _to_affine(_double(_to_ext(point)))


def negate(point: Point) -> Point:
    """``-point = (-x, y)``."""
    _check_point(point)
    x, y = point
    return (-x % P, y)


def scalar_mul(point: Point, scalar: int) -> Point:
    """``scalar * point`` (circomlibjs ``mulPointEscalar``) for any integer ``scalar``.

    Reducing the scalar mod :data:`ORDER` changes nothing (every point's order divides it), so negative and huge
    scalars are fine. ValueError if ``point`` is not on the curve."""
    _check_point(point)
    if isinstance(scalar, bool) or not isinstance(scalar, int):
        raise ValueError(f"a scalar is an int, got {type(scalar).__name__}")
    return _to_affine(_mul(_to_ext(point), scalar % ORDER))


def base8_mul(scalar: int) -> Point:
    """``scalar * BASE8``, from the fixed-base table (about 4x faster than :func:`scalar_mul`)."""
    if isinstance(scalar, bool) or not isinstance(scalar, int):
        raise ValueError(f"a scalar is an int, got {type(scalar).__name__}")
    return _to_affine(_base8_mul(scalar))


def base8_mul_is_sum(scalar: int, point1: Point, factor: int, point2: Point) -> bool:
    """Whether ``scalar * BASE8 == point1 + factor * point2``, compared without inverting (the EdDSA
    verification equation). Both points must be on the curve (ValueError otherwise)."""
    _check_point(point1)
    _check_point(point2)
    right = _add(_to_ext(point1), _mul(_to_ext(point2), factor % ORDER))
    return _same(_base8_mul(scalar), right)


def in_subgroup(point: Point) -> bool:
    """Whether ``point`` is on the curve and in the prime-order subgroup: ``SUBORDER * point == IDENTITY``
    (circomlibjs ``inSubgroup``). The identity itself passes; small-order and mixed-order points fail."""
    return is_on_curve(point) and _is_identity(_mul(_to_ext(point), SUBORDER))


def is_small_order(point: Point) -> bool:
    """Whether ``8 * point`` is the identity: one of the 8 points of order 1, 2, 4 or 8 (the identity
    included). circomlib's EdDSA verifier circuits refuse such public keys; ``False`` off the curve."""
    if not is_on_curve(point):
        return False
    return _is_identity(_double(_double(_double(_to_ext(point)))))


# --- packing (circomlibjs packPoint / unpackPoint) ------------------------------------------------------------


def pack_point(point: Point) -> bytes:
    """32 bytes: ``y`` little-endian, with the top bit set when ``x > (P - 1) / 2`` (circomlibjs ``packPoint``)."""
    _check_point(point)
    x, y = point
    packed = bytearray(y.to_bytes(32, "little"))
    if x > _HALF_P:
        packed[31] |= 0x80
    return bytes(packed)


def _sqrt(value: int) -> int | None:
    """A square root mod ``P`` (Tonelli-Shanks: ``P - 1 = 2**28 * q``), or None for a non-residue."""
    value %= P
    if value == 0:
        return 0
    if pow(value, (P - 1) // 2, P) != 1:
        return None
    q, s = P - 1, 0
    while q % 2 == 0:
        q, s = q // 2, s + 1
    z = 5  # the smallest quadratic non-residue mod P
    m, c, t, r = s, pow(z, q, P), pow(value, q, P), pow(value, (q + 1) // 2, P)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2, i = t2 * t2 % P, i + 1
        b = pow(c, 1 << (m - i - 1), P)
        m, c, t, r = i, b * b % P, t * b * b % P, r * b % P
    return r


def unpack_point(packed: bytes) -> Point | None:
    """The point :func:`pack_point` made, or None when the bytes are not one (``y >= P``, no ``x``)."""
    if len(packed) != 32:
        return None
    sign = bool(packed[31] & 0x80)
    y = int.from_bytes(bytes(packed[:31]) + bytes([packed[31] & 0x7F]), "little")
    if y >= P:
        return None
    y2 = y * y % P
    denominator = (A - D * y2) % P
    if denominator == 0:
        return None
    x = _sqrt((1 - y2) * pow(denominator, -1, P))
    if x is None:
        return None
    if x > _HALF_P:
        x = P - x
    if sign:
        x = -x % P
    if sign and x == 0:
        return None  # x = 0 has no negative: the sign bit would make a second encoding of the same point
    return (x, y)
