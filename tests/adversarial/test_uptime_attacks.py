"""Uptime: a station that replays the same window, or splits it into one task per heartbeat, is paid no more than
an honest station over the same wall-clock span. Each attack through the public API and through a malicious
sequencer that injects tasks straight on chain."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from adversarial.attack_world import AttackWorld, attack_world

pytestmark = pytest.mark.slow

WINDOW_S = 599
"""The attacked span: heartbeats every minute, the last one at 599 s."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackWorld]:
    yield from attack_world("uptime", tmp_path_factory)


def heartbeats(start: int) -> list[tuple[int, dict[str, int]]]:
    """One healthy window that fills one task: 8 heartbeats from ``start`` to ``start + 599``, booted a day ago."""
    times = [start + WINDOW_S * i // 7 for i in range(8)]
    return [(t, {"quality": 90, "uptime": 86_400 + t - start}) for t in times]


def test_replaying_a_window_with_rewound_timestamps_is_refused(world: AttackWorld) -> None:
    start = int(time.time()) - 3_000
    honest, attacker = world.device(), world.device()
    for t, payload in heartbeats(start):
        assert world.send(honest, t, payload).status_code == 202
    codes = []
    for _ in range(5):  # the same 599 s five times, fresh nonces, the clock rewound each time
        codes += [world.send(attacker, t, payload).status_code for t, payload in heartbeats(start)]
    assert codes.count(202) == len(heartbeats(start))  # only the first pass got in
    refused = [world.send(attacker, start + 10, {"quality": 90, "uptime": 86_410})]
    assert refused[0].status_code == 409 and refused[0].json()["error"]["code"] == "stale_timestamp"
    world.settle()
    assert 0 < world.paid(honest) <= WINDOW_S
    assert world.paid(attacker) <= world.paid(honest)


def test_injected_replays_cannot_settle_past_the_anchor(world: AttackWorld) -> None:
    """The gateway bypassed: five tasks of the same window assigned on chain. Only the first can be proven."""
    start = int(time.time()) - 2_000
    attacker = world.device()
    outcomes = [world.inject(attacker, heartbeats(start)) for _ in range(5)]
    assert [o.settled for o in outcomes] == [True, False, False, False, False]
    assert all(o.reason is not None and o.reason.startswith("circuit") for o in outcomes[1:])
    assert world.paid(attacker) <= WINDOW_S


def test_one_heartbeat_per_task_earns_what_one_task_does(world: AttackWorld) -> None:
    """Splitting a window into one task per heartbeat gains nothing: each boundary is credited from the anchor, once."""
    start = int(time.time()) - 1_000
    whole, split = world.device(), world.device()
    beats = heartbeats(start)[:5]
    assert world.inject(whole, beats).settled
    for reading in beats:
        assert world.inject(split, [reading]).settled
    assert world.paid(split) <= world.paid(whole) <= WINDOW_S
