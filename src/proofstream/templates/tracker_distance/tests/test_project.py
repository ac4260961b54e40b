"""This project's own tests: run `pytest` in the project folder.

The differential test compiles circuit.circom (no trusted setup needed) and checks that its output equals
logic.outputs() on generated batches with and without the previous task's last fix, on generator.edge_cases()
and chained_edge_cases(), on full and single-fix batches, and that the circuit rejects an empty batch, a first
fix not after the anchor and a wrong opening of the anchor leaf. The other tests pin the reference logic down
with hand-computed values.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from proofstream.projects.spec import load_project
from proofstream.prover.ports import TaskRecord
from proofstream.testing import assert_project

PROJECT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def logic() -> ModuleType:
    return load_project(PROJECT).logic()


def fix(nonce: int, lat: int, lon: int, seconds: int = 3600) -> TaskRecord:
    """Fix ``nonce``, ``seconds`` apart from the one before (an hour: the maximum speed never caps a hop)."""
    return TaskRecord(nonce=nonce, timestamp=1_700_000_000 + seconds * nonce, payload={"lat": lat, "lon": lon})


def test_circuit_matches_logic() -> None:
    assert_project(PROJECT)


def test_one_degree_north_is_111_km(logic: ModuleType) -> None:
    berlin = (90_000_000 + 52_520_008, 180_000_000 + 13_404_954)
    track = [fix(1, *berlin), fix(2, berlin[0] + 1_000_000, berlin[1])]
    assert logic.outputs(track) == (111_195,)


def test_a_fix_alone_is_no_distance(logic: ModuleType) -> None:
    assert logic.outputs([fix(1, 100_000_000, 200_000_000)]) == (0,)


def test_the_previous_tasks_last_fix_starts_the_first_hop(logic: ModuleType) -> None:
    berlin = (90_000_000 + 52_520_008, 180_000_000 + 13_404_954)
    previous = fix(1, *berlin)
    assert logic.outputs([fix(2, berlin[0] + 1_000_000, berlin[1])], previous) == (111_195,)
    assert logic.outputs([fix(2, berlin[0] + 1_000_000, berlin[1])]) == (0,)  # no previous fix: no hop


def test_minus_and_plus_180_degrees_are_one_meridian(logic: ModuleType) -> None:
    equator = 90_000_000
    assert logic.outputs([fix(i, equator, 360_000_000 * (i % 2)) for i in range(1, 9)]) == (0,)
    # 0.001° either side of the antimeridian at the equator: 222 m the short way
    assert logic.outputs([fix(1, equator, 359_999_000), fix(2, equator, 1_000)]) == (222,)


def test_no_hop_is_faster_than_100_m_per_second(logic: ModuleType) -> None:
    assert logic.MAX_SPEED == 100 and logic.SPEED_CAP == 58_937_901
    berlin = (90_000_000 + 52_520_008, 180_000_000 + 13_404_954)
    one_degree = [fix(1, *berlin, seconds=10), fix(2, berlin[0] + 1_000_000, berlin[1], seconds=10)]
    assert logic.outputs(one_degree) == (999,)  # 111 km in 10 s: 1 000 m at most (floored)
    previous = fix(0, berlin[0] - 1_000_000, berlin[1], seconds=1)
    assert logic.outputs([fix(1, *berlin, seconds=1)], previous) == (99,)


def test_coordinates_beyond_the_poles_are_rejected(logic: ModuleType) -> None:
    with pytest.raises(ValueError, match="out of range"):
        logic.check([fix(1, 100_000_000, 200_000_000), fix(2, 180_000_001, 200_000_000)])
