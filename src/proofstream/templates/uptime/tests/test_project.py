"""This project's own tests: run `pytest` in the project folder.

The differential test compiles circuit.circom (no trusted setup needed) and checks that its output equals
logic.outputs() on generated batches, on generator.edge_cases(), on a full and a single-heartbeat batch, and
that an empty batch is rejected. The other tests pin the reference logic down with hand-computed values.
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


def test_the_first_heartbeat_credits_nothing(logic: ModuleType) -> None:
    assert logic.outputs([beat(0)]) == (0,)


def test_long_silence_is_capped(logic: ModuleType) -> None:
    assert logic.outputs([beat(0), beat(3600)]) == (300,)


def test_reboot_credits_only_the_time_since_boot(logic: ModuleType) -> None:
    assert logic.outputs([beat(0), beat(60, uptime=20)]) == (20,)


def test_poor_link_credits_nothing(logic: ModuleType) -> None:
    assert logic.outputs([beat(0), beat(60, quality=19), beat(120, quality=20)]) == (60,)
