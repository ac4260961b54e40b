"""Tracker distance: the plain-Python reference of the circuit's logic, integer for integer.

A task is one device's GPS fixes in nonce order. Its length is the sum of equirectangular segment lengths:
with ``cosq`` the cosine of the first fix's latitude (Bhaskara's rational approximation, as a 16-bit fraction)
and ``d = (dlat, dlon * cos)`` in microdegrees, ``segment = isqrt(dlat^2 * 2^32 + dlon^2 * cosq^2)``
(microdegrees scaled by 2^16), and ``metres = floor(sum(segment) * 111195 / (2^16 * 10^6))``. Everything is an
integer, so the circuit (circuit.circom) computes exactly the same number; the tests check the two against
each other.

Coordinates are the offset microdegrees of docs/protocol.md: ``lat`` in 0..180_000_000, ``lon`` in
0..360_000_000. The flat-earth segment is accurate to well under 1% for the short hops between consecutive
fixes; it is not a great-circle distance (it ignores the antimeridian wrap), and rewards are defined on this
number, not on geodesy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from math import isqrt

__all__ = [
    "BHASKARA",
    "COS_SCALE",
    "LAT_MAX",
    "LAT_OFFSET",
    "LON_MAX",
    "LON_OFFSET",
    "METRES_DEN",
    "METRES_NUM",
    "TIME_GAP_BITS",
    "Fix",
    "check_track",
    "circuit_inputs",
    "cos_q",
    "degrees_to_lat",
    "degrees_to_lon",
    "distance_metres",
    "segment",
]

LAT_OFFSET = 90_000_000
"""Added to latitude microdegrees so the circuit sees an unsigned number; also the equator in offset units."""
LON_OFFSET = 180_000_000
LAT_MAX = 180_000_000
"""The north pole in offset microdegrees (28 bits)."""
LON_MAX = 360_000_000
"""+180° in offset microdegrees (29 bits)."""
COS_SCALE = 2**16
"""cos(latitude) as a fraction of 2^16: 1.5e-5 resolution, far below the approximation's own error."""
BHASKARA = 32400 * 10**12
"""180^2 in microdegrees^2: Bhaskara's cos(x) ~ (180^2 - 4x^2) / (180^2 + x^2) with x in degrees."""
METRES_NUM = 111195
"""Metres per degree on a 6371008.8 m sphere (2*pi*R/360 = 111195.08): per microdegree once divided by 1e6."""
METRES_DEN = COS_SCALE * 10**6
NONCE_GAP_BITS = 64
"""Nonces are uint64: consecutive ones may be up to 2^64 apart."""
TIME_GAP_BITS = 32
"""Consecutive fixes must be less than 2^32 s apart (the circuit range-checks the gap)."""


@dataclass(frozen=True, slots=True)
class Fix:
    """One GPS fix of a device: its message's nonce and timestamp, and the offset-encoded position."""

    nonce: int
    timestamp: int
    lat: int
    lon: int


def degrees_to_lat(degrees: float) -> int:
    """Latitude in degrees -> offset microdegrees (protocol.md: ``round(deg * 1e6) + 90_000_000``)."""
    value = round(degrees * 1e6) + LAT_OFFSET
    if not 0 <= value <= LAT_MAX:
        raise ValueError(f"latitude {degrees} is outside -90..90 degrees")
    return value


def degrees_to_lon(degrees: float) -> int:
    """Longitude in degrees -> offset microdegrees (protocol.md: ``round(deg * 1e6) + 180_000_000``)."""
    value = round(degrees * 1e6) + LON_OFFSET
    if not 0 <= value <= LON_MAX:
        raise ValueError(f"longitude {degrees} is outside -180..180 degrees")
    return value


def cos_q(lat0: int) -> int:
    """``floor(2^16 * cos(latitude))`` by Bhaskara's approximation, for an offset-microdegree latitude."""
    if not 0 <= lat0 <= LAT_MAX:
        raise ValueError(f"lat {lat0} is outside 0..{LAT_MAX}")
    d = lat0 - LAT_OFFSET
    return COS_SCALE * (BHASKARA - 4 * d * d) // (BHASKARA + d * d)


def segment(lat_a: int, lon_a: int, lat_b: int, lon_b: int, cosq: int) -> int:
    """Length of the hop a -> b in microdegrees scaled by 2^16: ``isqrt(dlat^2 * 2^32 + dlon^2 * cosq^2)``."""
    dlat = lat_b - lat_a
    dlon = lon_b - lon_a
    return isqrt(dlat * dlat * COS_SCALE * COS_SCALE + dlon * dlon * cosq * cosq)


def distance_metres(fixes: Sequence[Fix]) -> int:
    """Whole metres travelled along ``fixes`` (in order), exactly as the circuit computes them."""
    if not fixes:
        return 0
    cosq = cos_q(fixes[0].lat)
    total = sum(segment(a.lat, a.lon, b.lat, b.lon, cosq) for a, b in pairwise(fixes))
    return total * METRES_NUM // METRES_DEN


def check_track(fixes: Sequence[Fix], capacity: int) -> None:
    """Raise ValueError unless the circuit would accept ``fixes``: 1..capacity fixes, coordinates in range,
    nonces and timestamps strictly increasing (timestamp gaps below 2^32 s, nonces uint64)."""
    if not 1 <= len(fixes) <= capacity:
        raise ValueError(f"a task holds 1..{capacity} fixes, got {len(fixes)}")
    for i, fix in enumerate(fixes):
        if not 0 <= fix.lat <= LAT_MAX or not 0 <= fix.lon <= LON_MAX:
            raise ValueError(f"fix {i} (nonce {fix.nonce}) has coordinates out of range: {fix.lat}, {fix.lon}")
        if not 0 <= fix.nonce < 2**NONCE_GAP_BITS or not 0 <= fix.timestamp < 2**64:
            raise ValueError(f"fix {i} has a nonce or timestamp outside uint64")
        if i and not fix.nonce > fixes[i - 1].nonce:
            raise ValueError(f"fix {i}: nonce {fix.nonce} does not follow {fixes[i - 1].nonce}")
        if i and not 0 < fix.timestamp - fixes[i - 1].timestamp <= 2**TIME_GAP_BITS:
            raise ValueError(f"fix {i}: timestamp {fix.timestamp} is not 1..2^32 s after {fixes[i - 1].timestamp}")


def circuit_inputs(
    project: int, task_id: int, device: int, prover: int, fixes: Sequence[Fix], root: int, depth: int
) -> dict[str, int | list[int]]:
    """The circuit's full input: public inputs, then per-slot arrays with zero padding after the last fix.

    It does not validate (tests use it to feed the circuit bad tracks); :func:`check_track` does.
    """
    capacity = 1 << depth
    if len(fixes) > capacity:
        raise ValueError(f"{len(fixes)} fixes do not fit capacity {capacity}")
    pad = [0] * (capacity - len(fixes))
    return {
        "project": project,
        "taskId": task_id,
        "root": root,
        "device": device,
        "prover": prover,
        "firstNonce": fixes[0].nonce if fixes else 0,
        "lastNonce": fixes[-1].nonce if fixes else 0,
        "valid": [1] * len(fixes) + pad,
        "nonce": [f.nonce for f in fixes] + pad,
        "timestamp": [f.timestamp for f in fixes] + pad,
        "lat": [f.lat for f in fixes] + pad,
        "lon": [f.lon for f in fixes] + pad,
    }
