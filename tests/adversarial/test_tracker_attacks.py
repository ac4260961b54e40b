"""Tracker distance: fixes that jump across the antimeridian, teleport, rewind time or are split into one task
each earn no more than an honest tracker over the same wall-clock span. Each attack through the public API and
through a malicious sequencer that injects tasks straight on chain."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from adversarial.attack_world import AttackWorld, attack_world
from proofstream.sdk.device import BjjDeviceKey
from proofstream.templates.tracker_distance import logic

pytestmark = pytest.mark.slow

EQUATOR = logic.LAT_OFFSET
"""Latitude 0° in offset microdegrees."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackWorld]:
    yield from attack_world("tracker-distance", tmp_path_factory)


def meridian_hops(start: int) -> list[tuple[int, dict[str, int]]]:
    """Eight fixes one second apart alternating between -180° and +180° (encoded 0 and 360,000,000): one
    meridian, so no distance at all."""
    return [(start + i, {"lat": EQUATOR, "lon": 0 if i % 2 == 0 else logic.LON_MAX}) for i in range(8)]


def test_a_babyjubjub_devices_task_cannot_settle_in_an_unsigned_project(world: AttackWorld) -> None:
    """The wrong kind of device: a BabyJubJub key registered in a project whose circuit checks no signatures. A
    malicious sequencer proves its task with the real (unsigned) circuit, but the Router hands the verifier the
    registered key's signature inputs too, and the verifier takes only the unsigned circuit's count."""
    attacker = world.device(BjjDeviceKey)
    assert world.node.core.devices.bjj_key_of(world.project, attacker.address) is not None
    injected = world.inject(attacker, track(int(time.time()) - 2_950))
    assert (injected.settled, injected.reason) == (False, "route: PublicInputCount")
    assert world.paid(attacker) == 0


def teleport(start: int) -> list[tuple[int, dict[str, int]]]:
    """Eight fixes one second apart, each a degree (111 km) east of the one before."""
    return [(start + i, {"lat": EQUATOR, "lon": logic.LON_OFFSET + i * 1_000_000}) for i in range(8)]


def track(start: int) -> list[tuple[int, dict[str, int]]]:
    """An honest drive: eight fixes a minute apart, 600 m north each (10 m/s)."""
    return [(start + 60 * i, {"lat": EQUATOR + 5_400 * i, "lon": logic.LON_OFFSET}) for i in range(8)]


def test_the_antimeridian_earns_nothing_through_the_gateway(world: AttackWorld) -> None:
    attacker = world.device()
    for t, fix in meridian_hops(int(time.time()) - 3_000):
        assert world.send(attacker, t, fix).status_code == 202
    world.settle()
    assert world.paid(attacker) == 0  # was 280,211,400 m before the longitude wrap


def test_the_antimeridian_earns_nothing_injected(world: AttackWorld) -> None:
    attacker = world.device()
    assert world.inject(attacker, meridian_hops(int(time.time()) - 2_900)).settled
    assert world.paid(attacker) == 0


def test_teleporting_is_paid_at_most_the_maximum_speed(world: AttackWorld) -> None:
    start = int(time.time()) - 2_800
    through_http, injected = world.device(), world.device()
    for t, fix in teleport(start):
        assert world.send(through_http, t, fix).status_code == 202
    world.settle()
    assert world.inject(injected, teleport(start)).settled
    span = 7  # seconds from the first fix to the last
    for device in (through_http, injected):
        assert 0 < world.paid(device) <= logic.MAX_SPEED * span  # 700 m, not 778 km


def test_rewinding_to_drive_the_same_road_again_is_refused(world: AttackWorld) -> None:
    start = int(time.time()) - 2_600
    honest, attacker = world.device(), world.device()
    for t, fix in track(start):
        assert world.send(honest, t, fix).status_code == 202
        assert world.send(attacker, t, fix).status_code == 202
    replay = [world.send(attacker, t, fix) for t, fix in track(start)]
    assert {r.status_code for r in replay} == {409}
    assert {r.json()["error"]["code"] for r in replay} == {"stale_timestamp"}
    world.settle()
    honest_paid, attacker_paid = world.paid(honest), world.paid(attacker)
    # The same road, which the sequencer may cut into tasks at other points for each device (it cuts what has
    # arrived): each task's metres are an integer of their own, so the totals may differ by a metre a task,
    # never by the road again.
    tolerance = world.tasks_of(honest) + world.tasks_of(attacker)
    assert honest_paid > 10 * tolerance and abs(attacker_paid - honest_paid) <= tolerance
    # The gateway bypassed: a second task of the same road, assigned on chain, has no proof past the anchor.
    replayed = world.inject(attacker, track(start))
    assert not replayed.settled and replayed.reason is not None and replayed.reason.startswith("circuit")
    assert world.paid(attacker) == attacker_paid  # the injected task earned nothing


def test_one_fix_per_task_earns_what_one_task_does(world: AttackWorld) -> None:
    """Each boundary hop is counted from the anchor's fix, once: splitting gains nothing (each task rounds its
    metres down, so each task may lose up to a metre)."""
    start = int(time.time()) - 2_000
    whole, split = world.device(), world.device()
    fixes = track(start)[:5]
    assert world.inject(whole, fixes).settled
    for fix in fixes:
        assert world.inject(split, [fix]).settled
    assert world.paid(whole) - len(fixes) <= world.paid(split) <= world.paid(whole)
    assert world.paid(whole) > 2_000
