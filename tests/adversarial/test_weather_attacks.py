"""Weather quality: readings that swing from -40 °C to +60 °C every second, or run backwards in time one task
each, are paid no more than an honest station over the same wall-clock span. Each attack through the public API
and through a malicious sequencer that injects tasks straight on chain."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from adversarial.attack_world import AttackWorld, attack_world
from proofstream.templates.weather_quality import logic

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackWorld]:
    yield from attack_world("weather-quality", tmp_path_factory)


def reading(temperature: int) -> dict[str, int]:
    return {"temperature": temperature, "humidity": 50, "pressure": 10_132}


def swings(start: int, count: int = 16, step: int = 1) -> list[tuple[int, dict[str, int]]]:
    """-40 °C, +60 °C, -40 °C, ... ``step`` seconds apart: each reading alone is in range."""
    return [(start + step * i, reading(600 if i % 2 == 0 else 1_600)) for i in range(count)]


def calm(start: int, count: int = 8) -> list[tuple[int, dict[str, int]]]:
    """An honest station: 21.5 °C, a reading a minute."""
    return [(start + 60 * i, reading(1_215)) for i in range(count)]


def test_swinging_every_second_is_paid_nothing(world: AttackWorld) -> None:
    """16 readings in 15 s: none is MIN_INTERVAL after the one before, and none changed plausibly."""
    attacker = world.device()
    for t, values in swings(int(time.time()) - 3_000):
        assert world.send(attacker, t, values).status_code == 202
    world.settle()
    assert logic.MIN_INTERVAL > 15  # an honest station counts no reading in that span either
    assert world.paid(attacker) == 0


def test_readings_sent_backwards_in_time_are_refused(world: AttackWorld) -> None:
    attacker = world.device()
    now = int(time.time())
    answers = [world.send(attacker, t, values) for t, values in reversed(calm(now - 2_800, 16))]
    assert [a.status_code for a in answers].count(202) == 1
    assert {a.json()["error"]["code"] for a in answers[1:]} == {"stale_timestamp"}


def test_one_task_per_reading_backwards_in_time_settles_once(world: AttackWorld) -> None:
    """The gateway bypassed: 16 one-reading tasks with decreasing timestamps (paid 16 before the anchor)."""
    attacker = world.device()
    outcomes = [world.inject(attacker, [r]) for r in reversed(calm(int(time.time()) - 2_000, 16))]
    assert [o.settled for o in outcomes] == [True] + [False] * 15
    assert world.paid(attacker) == 0  # its one settled reading has no predecessor: it earns nothing


def test_one_task_per_reading_earns_what_one_task_does(world: AttackWorld) -> None:
    """The rate-of-change rule looks across each boundary at the anchor's reading, so splitting gains nothing."""
    start = int(time.time()) - 1_500
    whole, split = world.device(), world.device()
    assert world.inject(whole, calm(start, 5)).settled
    for r in calm(start, 5):
        assert world.inject(split, [r]).settled
    assert world.paid(split) == world.paid(whole) == 4  # every reading but the first (no predecessor)
    swinging = world.device()
    for r in swings(start, 4, step=logic.MIN_INTERVAL):
        assert world.inject(swinging, [r]).settled
    assert world.paid(swinging) == 0  # spaced far enough apart, but a 100 °C jump is never plausible
