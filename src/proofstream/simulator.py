"""Plausible GPS tracks for simulated trackers: a vehicle leaves a start point and drives on, turning a little
between fixes. Deterministic for a given seed, so a demo run can be reproduced."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from proofstream.projects.tracker_distance.logic import degrees_to_lat, degrees_to_lon

METRES_PER_DEGREE = 111_195.08
"""On a sphere of radius 6371008.8 m; only used to place the simulated points."""

START_POINTS = (
    (52.5200, 13.4050),  # Berlin
    (48.8566, 2.3522),  # Paris
    (40.4168, -3.7038),  # Madrid
    (-33.8688, 151.2093),  # Sydney
    (35.6762, 139.6503),  # Tokyo
    (37.7749, -122.4194),  # San Francisco
    (-23.5505, -46.6333),  # São Paulo
    (1.3521, 103.8198),  # Singapore
)


@dataclass(frozen=True)
class SimulatedFix:
    timestamp: int
    lat: int
    """Offset microdegrees (docs/protocol.md)."""
    lon: int


def simulate_track(seed: int, count: int, *, start_time: int, interval_s: int = 10) -> list[SimulatedFix]:
    """``count`` fixes ``interval_s`` apart, starting near one of START_POINTS, at 3-20 m/s with gentle turns."""
    rng = random.Random(seed)
    lat0, lon0 = START_POINTS[seed % len(START_POINTS)]
    lat = lat0 + rng.uniform(-0.05, 0.05)
    lon = lon0 + rng.uniform(-0.05, 0.05)
    heading = rng.uniform(0, 2 * math.pi)
    speed = rng.uniform(3.0, 20.0)
    fixes = []
    for i in range(count):
        fixes.append(SimulatedFix(start_time + i * interval_s, degrees_to_lat(lat), degrees_to_lon(lon)))
        heading += rng.gauss(0, 0.3)
        speed = min(30.0, max(0.0, speed + rng.gauss(0, 1.5)))
        step = speed * interval_s
        lat += step * math.cos(heading) / METRES_PER_DEGREE
        lon += step * math.sin(heading) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return fixes
