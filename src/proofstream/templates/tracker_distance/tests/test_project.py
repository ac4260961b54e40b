"""This project's own tests: run `pytest` in the project folder.

The differential test compiles circuit.circom (no trusted setup needed) and checks that its output equals
logic.outputs() on generated batches, on generator.edge_cases(), on a full and a single-fix batch, and that an
empty batch is rejected. The other tests pin the reference logic down with hand-computed values.
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


def fix(nonce: int, lat: int, lon: int) -> TaskRecord:
    return TaskRecord(nonce=nonce, timestamp=1_700_000_000 + nonce, payload={"lat": lat, "lon": lon})


def test_circuit_matches_logic() -> None:
    assert_project(PROJECT)


def test_one_degree_north_is_111_km(logic: ModuleType) -> None:
    berlin = (90_000_000 + 52_520_008, 180_000_000 + 13_404_954)
    track = [fix(1, *berlin), fix(2, berlin[0] + 1_000_000, berlin[1])]
    assert logic.outputs(track) == (111_195,)


def test_a_fix_alone_is_no_distance(logic: ModuleType) -> None:
    assert logic.outputs([fix(1, 100_000_000, 200_000_000)]) == (0,)


def test_coordinates_beyond_the_poles_are_rejected(logic: ModuleType) -> None:
    with pytest.raises(ValueError, match="out of range"):
        logic.check([fix(1, 100_000_000, 200_000_000), fix(2, 180_000_001, 200_000_000)])
