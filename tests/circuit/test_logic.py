"""The plain-Python reference: its integer maths against floating-point geodesy, and its input checks."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuit.circuit_model import track
from proofstream.projects.tracker_distance import TRACKER_DISTANCE
from proofstream.projects.tracker_distance.logic import (
    COS_SCALE,
    LAT_MAX,
    LON_MAX,
    Fix,
    check_track,
    circuit_inputs,
    cos_q,
    degrees_to_lat,
    degrees_to_lon,
    distance_metres,
)
from proofstream.prover.ports import CircuitProject

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def test_degrees_follow_the_protocol_offsets() -> None:
    assert degrees_to_lat(0) == 90_000_000 and degrees_to_lon(0) == 180_000_000
    assert degrees_to_lat(-90) == 0 and degrees_to_lat(90) == LAT_MAX
    assert degrees_to_lon(-180) == 0 and degrees_to_lon(180) == LON_MAX
    assert degrees_to_lat(52.520008) == 142_520_008
    with pytest.raises(ValueError):
        degrees_to_lat(90.000001)
    with pytest.raises(ValueError):
        degrees_to_lon(-180.000001)


@pytest.mark.parametrize("degrees", [0, 10, 30, 45, 52.5, 60, 75, 89, -33.9])
def test_cos_q_approximates_cosine(degrees: float) -> None:
    assert abs(cos_q(degrees_to_lat(degrees)) / COS_SCALE - math.cos(math.radians(degrees))) < 0.002


def test_cos_q_ends() -> None:
    assert cos_q(degrees_to_lat(0)) == COS_SCALE
    assert cos_q(0) == cos_q(LAT_MAX) == 0
    with pytest.raises(ValueError):
        cos_q(LAT_MAX + 1)


@settings(max_examples=200)
@given(
    lat=st.floats(-70, 70),
    lon=st.floats(-179, 179),
    steps=st.lists(st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02)), min_size=1, max_size=7),
)
def test_short_tracks_are_within_one_percent_of_haversine(
    lat: float, lon: float, steps: list[tuple[float, float]]
) -> None:
    points = [(lat, lon)]
    for dlat, dlon in steps:
        points.append((points[-1][0] + dlat, points[-1][1] + dlon))
    fixes = [Fix(i, i, degrees_to_lat(p[0]), degrees_to_lon(p[1])) for i, p in enumerate(points)]
    exact = sum(haversine_m(a, b) for a, b in pairwise(points))
    assert abs(distance_metres(fixes) - exact) <= 0.01 * exact + 2 * len(steps)


def test_distance_edge_cases() -> None:
    assert distance_metres([]) == 0
    assert distance_metres(track(1)) == 0
    assert distance_metres([Fix(1, 1, 100, 100), Fix(2, 2, 100, 100)]) == 0
    one_degree_north = [Fix(1, 1, degrees_to_lat(10), 0), Fix(2, 2, degrees_to_lat(11), 0)]
    assert distance_metres(one_degree_north) == 111_195


def test_check_track_rejects_what_the_circuit_rejects() -> None:
    good = track(3)
    check_track(good, 8)
    bad_tracks = {
        "empty": [],
        "too many": track(9),
        "reordered": [good[1], good[0], good[2]],
        "same nonce": [good[0], Fix(good[0].nonce, good[1].timestamp, 1, 1)],
        "same timestamp": [good[0], Fix(good[1].nonce, good[0].timestamp, 1, 1)],
        "time gap too big": [good[0], Fix(good[1].nonce, good[0].timestamp + 2**32 + 1, 1, 1)],
        "lat too big": [Fix(1, 1, LAT_MAX + 1, 0)],
        "lon negative": [Fix(1, 1, 0, -1)],
    }
    for name, fixes in bad_tracks.items():
        with pytest.raises(ValueError):
            check_track(fixes, 8)
            pytest.fail(f"accepted: {name}")


def test_circuit_inputs_pad_with_zeros() -> None:
    fixes = track(3)
    inputs = circuit_inputs(1, 2, 3, 4, fixes, 5, 3)
    assert inputs["valid"] == [1, 1, 1, 0, 0, 0, 0, 0]
    assert inputs["lat"] == [f.lat for f in fixes] + [0] * 5
    assert (inputs["firstNonce"], inputs["lastNonce"]) == (fixes[0].nonce, fixes[-1].nonce)
    assert list(inputs)[:7] == ["project", "taskId", "root", "device", "prover", "firstNonce", "lastNonce"]
    with pytest.raises(ValueError):
        circuit_inputs(1, 2, 3, 4, track(9), 5, 3)


def test_tracker_distance_is_a_circuit_project() -> None:
    assert isinstance(TRACKER_DISTANCE, CircuitProject)
    assert TRACKER_DISTANCE.schema_fields == ("lat", "lon")
    assert TRACKER_DISTANCE.circuit_path.is_file()
    assert "TrackerDistance(3)" in TRACKER_DISTANCE.circuit_path.read_text()
