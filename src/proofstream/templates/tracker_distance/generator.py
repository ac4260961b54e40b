"""Simulated GPS trackers for tracker distance: fixes every few seconds along a wandering path.

Coordinates are offset microdegrees (see logic.py): ``lat = round(deg * 1e6) + 90_000_000``,
``lon = round(deg * 1e6) + 180_000_000``.
"""

from __future__ import annotations

import random

LAT_OFFSET = 90_000_000
LON_OFFSET = 180_000_000
LAT_MAX = 180_000_000
LON_MAX = 360_000_000

CITIES = (
    (52_520_008, 13_404_954),  # Berlin
    (-33_868_820, 151_209_296),  # Sydney
    (40_712_776, -74_005_974),  # New York
    (1_352_083, 103_819_836),  # Singapore
)
"""Starting points in signed microdegrees; device ``d`` starts near city ``d % 4``."""


def _clamp(value: int, high: int) -> int:
    return max(0, min(high, value))


def readings(rng: random.Random, device: int, count: int, start: int) -> list[tuple[int, dict[str, int]]]:
    """``count`` fixes of tracker ``device``: a walk or drive (2..30 m/s) with fixes 5..30 s apart.

    About one fix in 20 is a GPS glitch: a jump of up to ~1 km that the next fix comes back from. The glitch is
    counted like any hop (the logic has no outlier rule), which is what a real tracker's data looks like.
    """
    city_lat, city_lon = CITIES[device % len(CITIES)]
    lat = LAT_OFFSET + city_lat + rng.randint(-20_000, 20_000)
    lon = LON_OFFSET + city_lon + rng.randint(-20_000, 20_000)
    speed = rng.randint(2, 30)  # metres per second
    heading_lat, heading_lon = rng.choice(((1, 0), (0, 1), (-1, 1), (1, -1), (-1, -1), (1, 1)))
    out: list[tuple[int, dict[str, int]]] = []
    timestamp = start
    for _ in range(count):
        step = rng.randint(5, 30)
        timestamp += step
        micro = speed * step * 9  # ~9 microdegrees per metre
        lat = _clamp(lat + heading_lat * micro + rng.randint(-50, 50), LAT_MAX)
        lon = _clamp(lon + heading_lon * micro + rng.randint(-50, 50), LON_MAX)
        if rng.randrange(20) == 0:
            glitch = (
                _clamp(lat + rng.randint(-9_000, 9_000), LAT_MAX),
                _clamp(lon + rng.randint(-9_000, 9_000), LON_MAX),
            )
            out.append((timestamp, {"lat": glitch[0], "lon": glitch[1]}))
        else:
            out.append((timestamp, {"lat": lat, "lon": lon}))
    return out


def _fixes(*points: tuple[int, int, int]) -> list[tuple[int, dict[str, int]]]:
    return [(t, {"lat": lat, "lon": lon}) for t, lat, lon in points]


def edge_cases() -> list[list[tuple[int, dict[str, int]]]]:
    """Boundary batches: one fix, poles, the equator, coordinate extremes, repeated positions, huge time gaps."""
    return [
        _fixes((1_700_000_000, 142_520_008, 193_404_954)),
        _fixes(*((100 + i, 100_000_000, 200_000_000) for i in range(5))),
        _fixes((1, LAT_MAX, 0), (2, LAT_MAX, LON_MAX), (3, LAT_MAX - 1000, 5)),
        _fixes((1, 0, 1), (2, 0, LON_MAX), (3, 500, LON_MAX - 7)),
        _fixes((1, LAT_OFFSET, 0), (2, LAT_OFFSET, LON_MAX), (3, LAT_OFFSET + 1, 1)),
        _fixes((0, 0, 0), (1, LAT_MAX, LON_MAX), (2, 0, 0), (3, LAT_MAX, 0), (4, 0, LON_MAX)),
        _fixes((5, 5, 5), (2**64 - 1, 6, 6)),
        _fixes(*((1_000 + 7 * i, LAT_MAX - 3 * i, LON_MAX - 11 * i) for i in range(8))),
    ]
