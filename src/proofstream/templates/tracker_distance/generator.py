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
    counted like any hop (the logic has no outlier rule), which is what a real tracker's data looks like, up to
    the maximum speed (100 m/s): a glitch a few seconds after the fix before it is capped.
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
    """Boundary batches: one fix, poles, the equator, coordinate extremes, repeated positions, huge time gaps, the
    antimeridian (-180° and +180° are one meridian) and the maximum speed."""
    return [
        _fixes((1_700_000_000, 142_520_008, 193_404_954)),
        _fixes(*((100 + i, 100_000_000, 200_000_000) for i in range(5))),
        _fixes((1, LAT_MAX, 0), (2, LAT_MAX, LON_MAX), (3, LAT_MAX - 1000, 5)),
        _fixes((1, 0, 1), (2, 0, LON_MAX), (3, 500, LON_MAX - 7)),
        _fixes((1, LAT_OFFSET, 0), (2, LAT_OFFSET, LON_MAX), (3, LAT_OFFSET + 1, 1)),
        _fixes((1, 0, 0), (2, LAT_MAX, LON_MAX), (3, 0, 0), (4, LAT_MAX, 0), (5, 0, LON_MAX)),
        _fixes((5, 5, 5), (2**64 - 1, 6, 6)),
        _fixes(*((1_000 + 7 * i, LAT_MAX - 3 * i, LON_MAX - 11 * i) for i in range(8))),
        # an attacker alternating between -180° and +180° a day apart: the same meridian, 0 m
        _fixes(*((10**6 + 86_400 * i, LAT_OFFSET, LON_MAX * (i % 2)) for i in range(8))),
        # across the antimeridian the short way: 0.002° of longitude, not 359.998°
        _fixes((10**6, 142_000_000, LON_MAX - 1_000), (10**6 + 60, 142_000_000, 1_000), (10**6 + 120, 142_000_000, 0)),
        # differences of exactly 180° (either way is as long) and one microdegree either side of it
        _fixes(
            (10**6, LAT_OFFSET, 0),
            (2 * 10**6, LAT_OFFSET, LON_MAX // 2),
            (3 * 10**6, LAT_OFFSET, LON_MAX - 1),
            (4 * 10**6, LAT_OFFSET, LON_MAX // 2 - 2),
        ),
        # the maximum speed: 1° (111 km) in 10 s counts 1 000 m; in 1 s, 100 m; a day later, all of it
        _fixes(
            (10**6, 100_000_000, 200_000_000),
            (10**6 + 10, 101_000_000, 200_000_000),
            (10**6 + 11, 100_000_000, 200_000_000),
        ),
        _fixes((10**6, 100_000_000, 200_000_000), (10**6 + 86_400, 101_000_000, 200_000_000)),
        # the largest hop (half way round, pole to pole) one second apart: capped to 100 m
        _fixes((10**6, 0, 0), (10**6 + 1, LAT_MAX, LON_MAX // 2)),
    ]


def chained_edge_cases() -> list[tuple[tuple[int, dict[str, int]], list[tuple[int, dict[str, int]]]]]:
    """``(previous fix, batch)`` pairs: the previous task's last fix starts the first hop."""
    t = 1_700_000_000
    here = {"lat": 142_520_008, "lon": 193_404_954}
    return [
        # one fix after the previous one, 1 km north a minute later: the boundary hop counts
        ((t, here), _fixes((t + 60, here["lat"] + 9_000, here["lon"]))),
        # standing still across the boundary
        ((t, here), _fixes((t + 1, here["lat"], here["lon"]), (t + 2, here["lat"], here["lon"] + 5))),
        # the previous fix at +180°, the task at -180° and back: the same meridian, 0 m
        ((t, {"lat": LAT_OFFSET, "lon": LON_MAX}), _fixes((t + 60, LAT_OFFSET, 0), (t + 120, LAT_OFFSET, LON_MAX))),
        # across the antimeridian at the boundary, the short way
        ((t, {"lat": 100_000_000, "lon": 1}), _fixes((t + 30, 100_000_000, LON_MAX - 1))),
        # a previous fix far away a second ago: the boundary hop is capped to 100 m
        ((t, {"lat": 0, "lon": 0}), _fixes((t + 1, LAT_MAX, LON_MAX // 2), (t + 2, LAT_MAX, LON_MAX // 2))),
        # the largest gap since the previous fix, and coordinate extremes
        ((0, {"lat": LAT_MAX, "lon": LON_MAX}), _fixes((2**64 - 1, 0, 0))),
        ((5, {"lat": 0, "lon": 0}), _fixes(*((6 + i, i, LON_MAX - i) for i in range(8)))),
    ]
