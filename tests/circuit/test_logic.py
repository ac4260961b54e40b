"""The tracker-distance template's plain-Python reference: its integer maths against floating-point geodesy,
and the checks the prover makes before it proves (the template's ``check`` plus the framework's order rules)."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuit.circuit_model import DEPTH, SPEC, TRACKER, Fix, make_task, records, reference_metres, track
from proofstream.domain.layout import circuit_inputs
from proofstream.prover.ports import CircuitProject
from proofstream.templates.tracker_distance import logic
from proofstream.templates.tracker_distance.logic import (
    COS_SCALE,
    HALF_TURN,
    LAT_MAX,
    LON_MAX,
    MAX_SPEED,
    METRES_DEN,
    METRES_NUM,
    SPEED_CAP,
    cos_q,
    degrees_to_lat,
    degrees_to_lon,
    lon_difference,
)

EARTH_RADIUS_M = 6_371_008.8


def metres(fixes: list[Fix]) -> int:
    """The logic's ``outputs()`` alone (no checks): what the DApp is paid on for a valid batch."""
    (value,) = logic.outputs(records(fixes))
    return value


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
    # cos_q itself takes any latitude; one beyond the poles never reaches it because check() refuses the fix
    with pytest.raises(ValueError, match="out of range"):
        reference_metres([Fix(1, 1, LAT_MAX + 1, 0), Fix(2, 2, LAT_MAX, 0)])


@settings(max_examples=200, deadline=None)
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
    # an hour apart, so the maximum speed never caps a hop of these few kilometres
    fixes = [Fix(i, 1 + 3600 * i, degrees_to_lat(p[0]), degrees_to_lon(p[1])) for i, p in enumerate(points)]
    exact = sum(haversine_m(a, b) for a, b in pairwise(points))
    assert abs(reference_metres(fixes) - exact) <= 0.01 * exact + 2 * len(steps)


def test_distance_edge_cases() -> None:
    assert logic.outputs([]) == (0,)
    assert metres(track(1)) == reference_metres(track(1)) == 0
    assert metres([Fix(1, 1, 100, 100), Fix(2, 2, 100, 100)]) == 0
    one_degree_north = [Fix(1, 1, degrees_to_lat(10), 0), Fix(2, 3601, degrees_to_lat(11), 0)]
    assert reference_metres(one_degree_north) == 111_195


def test_the_previous_fix_starts_the_first_hop() -> None:
    previous = Fix(1, 1, degrees_to_lat(10), degrees_to_lon(20))
    fixes = [Fix(2, 3601, degrees_to_lat(11), degrees_to_lon(20))]
    assert reference_metres(fixes) == metres(fixes) == 0
    assert reference_metres(fixes, previous) == logic.outputs(records(fixes), previous.record)[0] == 111_195
    # cosq stays the first fix's: the boundary hop uses the task's own latitude
    east = [Fix(2, 3601, degrees_to_lat(60), degrees_to_lon(21))]
    assert (
        reference_metres(east, replace(previous, lat=degrees_to_lat(60))) == 111_195 * cos_q(east[0].lat) // COS_SCALE
    )


def test_longitude_wraps_at_the_antimeridian() -> None:
    assert lon_difference(0, LON_MAX) == 0
    assert lon_difference(LON_MAX - 1_000, 1_000) == lon_difference(1_000, LON_MAX - 1_000) == 2_000
    assert lon_difference(0, HALF_TURN) == lon_difference(0, HALF_TURN + 1) + 1 == HALF_TURN
    # an attacker hopping between -180° and +180° a day apart earns nothing
    hops = [Fix(i + 1, 86_400 * (i + 1), degrees_to_lat(0), LON_MAX * (i % 2)) for i in range(8)]
    assert reference_metres(hops) == 0
    # across it the short way: 0.002° at the equator is 222 m, not 40 000 km
    across = [
        Fix(1, 1, degrees_to_lat(0), degrees_to_lon(179.999)),
        Fix(2, 61, degrees_to_lat(0), degrees_to_lon(-179.999)),
    ]
    assert reference_metres(across) == 222


def test_no_hop_counts_more_than_the_maximum_speed() -> None:
    assert SPEED_CAP == MAX_SPEED * METRES_DEN // METRES_NUM == 58_937_901
    start = (degrees_to_lat(10), degrees_to_lon(0))
    for seconds, expected in ((1, 99), (10, 999), (1_000, 99_999), (1_112, 111_195), (3_600, 111_195)):
        fixes = [Fix(1, 1, *start), Fix(2, 1 + seconds, start[0] + 1_000_000, start[1])]
        assert reference_metres(fixes) == expected  # 1° north (111 195 m) at most 100 m/s
        assert expected <= MAX_SPEED * seconds
    # the boundary hop is capped like any other
    previous = Fix(1, 1, *start)
    assert reference_metres([Fix(2, 2, start[0] + 1_000_000, start[1])], previous) == 99


def test_reference_rejects_what_the_circuit_rejects() -> None:
    """What the prover refuses before proving (ValueError -> ProverError invalid_task); test_rejections shows the
    circuit refuses the same tracks."""
    good = track(3)
    assert reference_metres(good) > 0
    bad_tracks = {
        "empty": [],
        "too many": track(9),
        "reordered": [good[1], good[0], good[2]],
        "same nonce": [good[0], replace(good[1], nonce=good[0].nonce)],
        "same timestamp": [good[0], replace(good[1], timestamp=good[0].timestamp)],
        "timestamp going back": [good[0], replace(good[1], timestamp=good[0].timestamp - 1)],
        "duplicated fix": [good[0], good[1], good[1], good[2]],
        "lat too big": [Fix(1, 1, LAT_MAX + 1, 0)],
        "lon too big": [Fix(1, 1, 0, LON_MAX + 1)],
        "lon negative": [Fix(1, 1, 0, -1)],
        "lat negative in the last fix": [*good[:2], replace(good[2], lat=-1)],
    }
    for name, fixes in bad_tracks.items():
        with pytest.raises(ValueError):
            TRACKER.circuit_inputs(make_task(fixes, root=0))
            pytest.fail(f"accepted: {name}")
        with pytest.raises(ValueError):
            reference_metres(fixes)
            pytest.fail(f"accepted: {name}")


def test_time_gaps_beyond_2_32_seconds_are_accepted() -> None:
    # The old circuit capped the gap between fixes at 2^32 s; the template's allows any uint64 gap.
    fixes = [Fix(1, 1, 100_000_000, 200_000_000), Fix(2, 2**32 + 1, 100_001_000, 200_000_000)]
    assert reference_metres(fixes) == metres(fixes) > 0
    assert reference_metres([*fixes, Fix(3, 2**64 - 1, 100_002_000, 200_000_000)]) > reference_metres(fixes)


def test_circuit_inputs_pad_with_zeros() -> None:
    fixes = track(3)
    inputs = TRACKER.circuit_inputs(make_task(fixes))
    assert inputs["valid"] == [1, 1, 1, 0, 0, 0, 0, 0]
    assert inputs["lat"] == [f.lat for f in fixes] + [0] * 5
    assert inputs["lon"] == [f.lon for f in fixes] + [0] * 5
    assert (inputs["firstNonce"], inputs["lastNonce"]) == (fixes[0].nonce, fixes[-1].nonce)
    assert list(inputs) == [
        *("project", "taskId", "root", "device", "prover", "firstNonce", "lastNonce"),
        *("prevTime", "prevLeaf", "lastTime", "lastLeaf", "prevNonce", "prevFields"),
        *("valid", "nonce", "timestamp", "lat", "lon"),
    ]
    assert (inputs["prevTime"], inputs["prevLeaf"], inputs["prevNonce"], inputs["prevFields"]) == (0, 0, 0, [0, 0])
    previous = Fix(fixes[0].nonce - 1, fixes[0].timestamp - 5, 100_000_000, 200_000_000)
    chained = TRACKER.circuit_inputs(make_task(fixes, previous=previous))
    assert chained["prevFields"] == [previous.lat, previous.lon] and chained["prevNonce"] == previous.nonce
    assert (chained["prevTime"], chained["lastTime"]) == (previous.timestamp, fixes[-1].timestamp)
    with pytest.raises(ValueError):
        circuit_inputs(make_task(track(9), root=0), ("lat", "lon"), DEPTH)


def test_tracker_distance_is_a_circuit_project() -> None:
    assert isinstance(TRACKER, CircuitProject)
    assert TRACKER.schema_fields == ("lat", "lon")
    assert [(f.name, f.type) for f in SPEC.schema.payload] == [("lat", "uint32"), ("lon", "uint32")]
    assert (TRACKER.depth, TRACKER.capacity, TRACKER.n_public) == (DEPTH, 8, 12)
    assert SPEC.outputs == logic.OUTPUTS == ("metres",)
    assert TRACKER.circuit_path.is_file()
    assert f"TrackerDistance({DEPTH})" in TRACKER.circuit_path.read_text()
