"""This project's own tests: run `pytest` in the project folder.

The differential test compiles circuit.circom (no trusted setup needed) and checks that its output equals
logic.outputs() on generated batches with and without the previous task's last heartbeat, on
generator.edge_cases() and chained_edge_cases(), on full and single-heartbeat batches, and that the circuit
rejects an empty batch, a first heartbeat not after the anchor and a wrong opening of the anchor leaf. The other
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
DAY = 86_400


@pytest.fixture(scope="module")
def logic() -> ModuleType:
    return load_project(PROJECT).logic()


def beat(seconds: int, quality: int = 60, uptime: int | None = None) -> TaskRecord:
    payload = {"quality": quality, "uptime": DAY + seconds if uptime is None else uptime}
    return TaskRecord(nonce=seconds + 1, timestamp=1_700_000_000 + seconds, payload=payload)


def test_circuit_matches_logic() -> None:
    assert_project(PROJECT)


def test_every_minute_credits_the_intervals(logic: ModuleType) -> None:
    assert logic.outputs([beat(60 * i) for i in range(8)]) == (7 * 60,)


def test_without_a_previous_heartbeat_the_first_credits_nothing(logic: ModuleType) -> None:
    assert logic.outputs([beat(0)]) == (0,)


def test_the_previous_tasks_last_heartbeat_credits_the_boundary(logic: ModuleType) -> None:
    assert logic.outputs([beat(60 * i) for i in range(1, 9)], beat(0)) == (8 * 60,)
    assert logic.outputs([beat(60)], beat(0)) == (60,)
    assert logic.outputs([beat(3600)], beat(0)) == (300,)  # capped like any gap
    assert logic.outputs([beat(60, quality=19)], beat(0)) == (0,)
    assert logic.outputs([beat(60, uptime=20)], beat(0, quality=0)) == (20,)  # only the later beat's health counts


def test_long_silence_is_capped(logic: ModuleType) -> None:
    assert logic.outputs([beat(0), beat(3600)]) == (300,)


def test_reboot_credits_only_the_time_since_boot(logic: ModuleType) -> None:
    assert logic.outputs([beat(0), beat(60, uptime=20)]) == (20,)


def test_poor_link_credits_nothing(logic: ModuleType) -> None:
    assert logic.outputs([beat(0), beat(60, quality=19), beat(120, quality=20)]) == (60,)
