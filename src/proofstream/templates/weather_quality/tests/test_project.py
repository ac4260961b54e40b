"""This project's own tests: run `pytest` in the project folder.

The differential test compiles circuit.circom (no trusted setup needed) and checks that its output equals
logic.outputs() on generated batches, on generator.edge_cases(), on a full and a single-reading batch, and that
an empty batch is rejected. The other tests pin the reference logic down with hand-computed values.
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


def reading(seconds: int, celsius_tenths: int, humidity: int, pressure: int) -> TaskRecord:
    payload = {"temperature": celsius_tenths + 1000, "humidity": humidity, "pressure": pressure}
    return TaskRecord(nonce=seconds + 1, timestamp=1_700_000_000 + seconds, payload=payload)


def test_circuit_matches_logic() -> None:
    assert_project(PROJECT)


def test_steady_readings_all_count(logic: ModuleType) -> None:
    batch = [reading(60 * i, 215, 60, 10132) for i in range(8)]
    assert logic.outputs(batch) == (8,)


def test_out_of_range_reading_does_not_count(logic: ModuleType) -> None:
    batch = [reading(0, 215, 60, 10132), reading(60, 215, 101, 10132), reading(600, 215, 60, 10132)]
    assert logic.outputs(batch) == (2,)  # 101 % does not count; 9 minutes later, back to 60 % is plausible


def test_the_reading_after_a_spike_does_not_count_either(logic: ModuleType) -> None:
    batch = [reading(0, 215, 60, 10132), reading(60, 215, 101, 10132), reading(120, 215, 60, 10132)]
    assert logic.outputs(batch) == (1,)  # back from 101 % to 60 % within a minute is a jump of 41 %


def test_a_jump_too_fast_does_not_count(logic: ModuleType) -> None:
    # a minute allows 0.5 + 1.0 °C: 1.5 °C counts, 1.6 °C does not
    assert logic.outputs([reading(0, 200, 50, 10000), reading(60, 215, 50, 10000)]) == (2,)
    assert logic.outputs([reading(0, 200, 50, 10000), reading(60, 216, 50, 10000)]) == (1,)


def test_only_unrepresentable_values_are_errors(logic: ModuleType) -> None:
    logic.check([reading(0, 60_000, 255, 0)])  # wildly out of range, but a valid uint16/uint8: no error
    with pytest.raises(ValueError, match="humidity"):
        logic.check([reading(0, 215, 256, 10132)])
