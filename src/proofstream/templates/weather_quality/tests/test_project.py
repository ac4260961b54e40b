"""This project's own tests: run `pytest` in the project folder.

The differential test compiles circuit.circom (no trusted setup needed) and checks that its output equals
logic.outputs() on generated batches with and without the previous task's last reading, on
generator.edge_cases() and chained_edge_cases(), on full and single-reading batches, and that the circuit
rejects an empty batch, a first reading not after the anchor and a wrong opening of the anchor leaf. The other
tests pin the reference logic down with hand-computed values.
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


def test_steady_readings_all_count_after_the_first(logic: ModuleType) -> None:
    batch = [reading(60 * i, 215, 60, 10132) for i in range(8)]
    assert logic.outputs(batch) == (7,)  # the first has no reading before it
    assert logic.outputs(batch, reading(-60, 215, 60, 10132)) == (8,)  # the previous task's last reading


def test_out_of_range_reading_does_not_count(logic: ModuleType) -> None:
    batch = [reading(0, 215, 60, 10132), reading(60, 215, 101, 10132), reading(600, 215, 60, 10132)]
    assert logic.outputs(batch) == (1,)  # 101 % does not count; 9 minutes later, back to 60 % is plausible


def test_the_reading_after_a_spike_does_not_count_either(logic: ModuleType) -> None:
    batch = [reading(0, 215, 60, 10132), reading(60, 215, 101, 10132), reading(120, 215, 60, 10132)]
    assert logic.outputs(batch) == (0,)  # back from 101 % to 60 % within a minute is a jump of 41 %


def test_a_jump_too_fast_does_not_count(logic: ModuleType) -> None:
    # a minute allows 0.5 + 1.0 °C: 1.5 °C counts, 1.6 °C does not
    assert logic.outputs([reading(0, 200, 50, 10000), reading(60, 215, 50, 10000)]) == (1,)
    assert logic.outputs([reading(0, 200, 50, 10000), reading(60, 216, 50, 10000)]) == (0,)
    # the same rule across the task boundary, against the previous task's last reading
    assert logic.outputs([reading(60, 215, 50, 10000)], reading(0, 200, 50, 10000)) == (1,)
    assert logic.outputs([reading(60, 216, 50, 10000)], reading(0, 200, 50, 10000)) == (0,)


def test_readings_closer_than_the_minimum_interval_do_not_count(logic: ModuleType) -> None:
    assert logic.MIN_INTERVAL == 30
    steady = [reading(29 * i, 215, 60, 10132) for i in range(8)]
    assert logic.outputs(steady, reading(-29, 215, 60, 10132)) == (0,)  # 29 s apart: never paid
    assert logic.outputs([reading(30 * i, 215, 60, 10132) for i in range(8)], reading(-30, 215, 60, 10132)) == (8,)
    assert logic.outputs([reading(0, 215, 60, 10132)], reading(-29, 215, 60, 10132)) == (0,)


def test_only_unrepresentable_values_are_errors(logic: ModuleType) -> None:
    logic.check([reading(0, 60_000, 255, 0)])  # wildly out of range, but a valid uint16/uint8: no error
    with pytest.raises(ValueError, match="humidity"):
        logic.check([reading(0, 215, 256, 10132)])
