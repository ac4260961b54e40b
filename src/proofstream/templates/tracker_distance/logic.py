"""Tracker distance: the metres a GPS tracker travelled during one task, integer for integer as circuit.circom.

A task is one device's fixes in nonce order. Its length is the sum of equirectangular segment lengths: with
``cosq`` the cosine of the first fix's latitude (Bhaskara's rational approximation, as a 16-bit fraction) and
``d = (dlat, dlon * cos)`` in microdegrees, ``segment = isqrt(dlat^2 * 2^32 + dlon^2 * cosq^2)`` (microdegrees
scaled by 2^16), and ``metres = floor(sum(segment) * 111195 / (2^16 * 10^6))``. Everything is an integer, so
the circuit computes exactly the same number; ``tests/test_project.py`` checks the two against each other.

Coordinates are offset microdegrees: ``lat = round(deg * 1e6) + 90_000_000`` in 0..180_000_000 and
``lon = round(deg * 1e6) + 180_000_000`` in 0..360_000_000. The flat-earth segment is accurate to well under 1%
for the short hops between consecutive fixes; it is not a great-circle distance (it ignores the antimeridian
wrap), and rewards are defined on this number, not on geodesy.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from math import isqrt

from proofstream.prover.ports import TaskRecord

OUTPUTS = ("metres",)
"""The proven outputs in public-signal order; the DApp pays for ``metres``."""

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


def degrees_to_lat(degrees: float) -> int:
    """Latitude in degrees -> offset microdegrees (``round(deg * 1e6) + 90_000_000``)."""
    value = round(degrees * 1e6) + LAT_OFFSET
    if not 0 <= value <= LAT_MAX:
        raise ValueError(f"latitude {degrees} is outside -90..90 degrees")
    return value


def degrees_to_lon(degrees: float) -> int:
    """Longitude in degrees -> offset microdegrees (``round(deg * 1e6) + 180_000_000``)."""
    value = round(degrees * 1e6) + LON_OFFSET
    if not 0 <= value <= LON_MAX:
        raise ValueError(f"longitude {degrees} is outside -180..180 degrees")
    return value


def cos_q(lat0: int) -> int:
    """``floor(2^16 * cos(latitude))`` by Bhaskara's approximation, for an offset-microdegree latitude."""
    d = lat0 - LAT_OFFSET
    return COS_SCALE * (BHASKARA - 4 * d * d) // (BHASKARA + d * d)


def segment(lat_a: int, lon_a: int, lat_b: int, lon_b: int, cosq: int) -> int:
    """Length of the hop a -> b in microdegrees scaled by 2^16: ``isqrt(dlat^2 * 2^32 + dlon^2 * cosq^2)``."""
    dlat = lat_b - lat_a
    dlon = lon_b - lon_a
    return isqrt(dlat * dlat * COS_SCALE * COS_SCALE + dlon * dlon * cosq * cosq)


def check(records: Sequence[TaskRecord]) -> None:
    """Raise ValueError for a fix the circuit rejects: a coordinate outside its offset range.

    (1..capacity records with strictly increasing nonces and timestamps are checked by proofstream itself.)
    """
    for i, record in enumerate(records):
        lat, lon = record.payload["lat"], record.payload["lon"]
        if not 0 <= lat <= LAT_MAX or not 0 <= lon <= LON_MAX:
            raise ValueError(
                f"fix {i} (nonce {record.nonce}) has coordinates out of range: lat={lat} (0..{LAT_MAX}), "
                f"lon={lon} (0..{LON_MAX})"
            )


def outputs(records: Sequence[TaskRecord]) -> tuple[int, ...]:
    """``(metres,)``: whole metres travelled along the fixes, in order, exactly as the circuit computes them."""
    if not records:
        return (0,)
    cosq = cos_q(records[0].payload["lat"])
    total = sum(
        segment(a.payload["lat"], a.payload["lon"], b.payload["lat"], b.payload["lon"], cosq)
        for a, b in pairwise(records)
    )
    return (total * METRES_NUM // METRES_DEN,)
