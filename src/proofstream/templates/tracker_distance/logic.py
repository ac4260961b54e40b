"""Tracker distance: the metres a GPS tracker travelled during one task, integer for integer as circuit.circom.

A task is one device's fixes in nonce order. Its length is the sum of equirectangular hop lengths: with
``cosq`` the cosine of the first fix's latitude (Bhaskara's rational approximation, as a 16-bit fraction) and
``d = (dlat, dlon * cos)`` in microdegrees, ``hop = isqrt(dlat^2 * 2^32 + dlon^2 * cosq^2)`` (microdegrees
scaled by 2^16), and ``metres = floor(sum(hop) * 111195 / (2^16 * 10^6))``. Everything is an integer, so
the circuit computes exactly the same number; ``tests/test_project.py`` checks the two against each other.

- **Across task boundaries**: the first hop starts at the previous task's last fix (``previous``, the message
  the chain's anchor commits to) when the proof opens it; without one (a device's first task, or the first
  under a new config version) the first fix starts the track.
- **Antimeridian**: ``dlon`` is the shorter way round: ``|dlon| > 180e6`` becomes ``360e6 - |dlon|``, so the
  encoded longitudes 0 and 360_000_000 (-180° and +180°) are the same meridian and hopping between them is no
  distance.
- **Maximum speed**: each hop counts at most :data:`MAX_SPEED` m/s over its seconds: ``min(hop, SPEED_CAP * dt)``
  with ``SPEED_CAP = floor(MAX_SPEED * 2^16 * 10^6 / 111195)`` in the hop's scaled units. A device cannot earn
  more than 100 m per second of wall-clock time, whatever it signs.

Coordinates are offset microdegrees: ``lat = round(deg * 1e6) + 90_000_000`` in 0..180_000_000 and
``lon = round(deg * 1e6) + 180_000_000`` in 0..360_000_000. The flat-earth hop is accurate to well under 1%
for the short hops between consecutive fixes; it is not a great-circle distance, and rewards are defined on
this number, not on geodesy.
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
HALF_TURN = 180_000_000
"""A longitude difference beyond 180° in microdegrees is shorter the other way round (LON_MAX - it)."""
MAX_SPEED = 100
"""Metres per second a hop can count at most (360 km/h: no tracker on the ground moves faster)."""
SPEED_CAP = MAX_SPEED * METRES_DEN // METRES_NUM
"""MAX_SPEED in the hop's units (microdegrees scaled by 2^16) per second: 58_937_901, so a capped hop of ``dt``
seconds is at most ``MAX_SPEED * dt`` metres."""


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


def lon_difference(lon_a: int, lon_b: int) -> int:
    """``|lon_b - lon_a|`` the shorter way round the globe, in 0..180_000_000 microdegrees."""
    dlon = abs(lon_b - lon_a)
    return LON_MAX - dlon if dlon > HALF_TURN else dlon


def segment(lat_a: int, lon_a: int, lat_b: int, lon_b: int, cosq: int) -> int:
    """Length of the hop a -> b in microdegrees scaled by 2^16: ``isqrt(dlat^2 * 2^32 + dlon^2 * cosq^2)``."""
    dlat = lat_b - lat_a
    dlon = lon_difference(lon_a, lon_b)
    return isqrt(dlat * dlat * COS_SCALE * COS_SCALE + dlon * dlon * cosq * cosq)


def capped_segment(a: TaskRecord, b: TaskRecord, cosq: int) -> int:
    """The hop a -> b, at most MAX_SPEED for the seconds between them (``min(hop, SPEED_CAP * dt)``)."""
    hop = segment(a.payload["lat"], a.payload["lon"], b.payload["lat"], b.payload["lon"], cosq)
    return min(hop, SPEED_CAP * (b.timestamp - a.timestamp))


def _out_of_range(record: TaskRecord) -> bool:
    lat, lon = record.payload["lat"], record.payload["lon"]
    return not 0 <= lat <= LAT_MAX or not 0 <= lon <= LON_MAX


def check(records: Sequence[TaskRecord]) -> None:
    """Raise ValueError for a fix the circuit rejects: a coordinate outside its offset range.

    (1..capacity records with strictly increasing nonces and timestamps are checked by proofstream itself.)
    """
    for i, record in enumerate(records):
        lat, lon = record.payload["lat"], record.payload["lon"]
        if _out_of_range(record):
            raise ValueError(
                f"fix {i} (nonce {record.nonce}) has coordinates out of range: lat={lat} (0..{LAT_MAX}), "
                f"lon={lon} (0..{LON_MAX})"
            )


def outputs(records: Sequence[TaskRecord], previous: TaskRecord | None = None) -> tuple[int, ...]:
    """``(metres,)``: whole metres travelled along the fixes, in order, from ``previous`` (the previous task's
    last fix, when the proof opens it) on, each hop capped by MAX_SPEED, exactly as the circuit computes them."""
    if not records:
        return (0,)
    if previous is not None and _out_of_range(previous):
        raise ValueError(f"the previous fix (nonce {previous.nonce}) has coordinates out of range")
    cosq = cos_q(records[0].payload["lat"])
    track = [previous, *records] if previous is not None else list(records)
    total = sum(capped_segment(a, b, cosq) for a, b in pairwise(track))
    return (total * METRES_NUM // METRES_DEN,)
