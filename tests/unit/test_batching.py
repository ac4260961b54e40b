from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofstream.domain.batching import BatchPolicy, Pending, cut_batches
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, Timestamp

A = Address("0x00000000000000000000000000000000000000aa")
B = Address("0x00000000000000000000000000000000000000bb")


def msg(device: Address, nonce: int, ts: int, config: int = 1) -> Pending:
    return Pending(MessageId(f"{device}-{nonce}"), device, Nonce(nonce), Timestamp(ts), ConfigVersion(config))


def test_cut_at_capacity_and_keep_the_open_rest() -> None:
    policy = BatchPolicy(capacity=3, window_seconds=1000)
    pending = [msg(A, n, 100 + n) for n in range(7)]
    batches = cut_batches(pending, policy, now=0)
    assert [[m.nonce for m in b.messages] for b in batches] == [[0, 1, 2], [3, 4, 5]]


def test_flush_closes_the_open_batch() -> None:
    policy = BatchPolicy(capacity=3, window_seconds=1000)
    pending = [msg(A, n, 100 + n) for n in range(7)]
    batches = cut_batches(pending, policy, now=0, flush=True)
    assert [len(b.messages) for b in batches] == [3, 3, 1]


def test_window_cuts_by_device_timestamp() -> None:
    policy = BatchPolicy(capacity=8, window_seconds=60, grace_seconds=0)
    pending = [msg(A, 0, 0), msg(A, 1, 30), msg(A, 2, 59), msg(A, 3, 60), msg(A, 4, 61)]
    batches = cut_batches(pending, policy, now=100)
    assert [[m.nonce for m in b.messages] for b in batches] == [[0, 1, 2]]  # [3, 4] is open until 120
    batches = cut_batches(pending, policy, now=120)
    assert [[m.nonce for m in b.messages] for b in batches] == [[0, 1, 2], [3, 4]]


def test_open_window_waits_for_grace_on_node_clock() -> None:
    policy = BatchPolicy(capacity=8, window_seconds=60, grace_seconds=10)
    pending = [msg(A, 0, 1000), msg(A, 1, 1010)]
    assert cut_batches(pending, policy, now=1069) == []
    assert len(cut_batches(pending, policy, now=1070)) == 1


def test_non_increasing_timestamp_starts_a_new_task() -> None:
    policy = BatchPolicy(capacity=8, window_seconds=1000)
    pending = [msg(A, 0, 10), msg(A, 1, 20), msg(A, 2, 20), msg(A, 3, 15)]
    batches = cut_batches(pending, policy, now=0, flush=True)
    assert [[m.nonce for m in b.messages] for b in batches] == [[0, 1], [2], [3]]


def test_devices_are_batched_separately_in_nonce_order() -> None:
    policy = BatchPolicy(capacity=2, window_seconds=1000)
    pending = [msg(B, 1, 2), msg(A, 1, 2), msg(B, 0, 1), msg(A, 0, 1)]
    batches = cut_batches(pending, policy, now=0)
    assert [(b.device, b.first_nonce, b.last_nonce) for b in batches] == [(A, 0, 1), (B, 0, 1)]


def test_a_config_version_change_cuts_the_task_and_keeps_nonce_order() -> None:
    policy = BatchPolicy(capacity=8, window_seconds=1000)
    pending = [msg(A, 0, 10, 1), msg(A, 1, 11, 1), msg(A, 2, 12, 2), msg(A, 3, 13, 2), msg(B, 0, 10, 2)]
    batches = cut_batches(pending, policy, now=0)
    # A's v1 task is closed by the version change; A's v2 and B's tasks stay open (window, capacity not reached).
    assert [(b.device, b.config, [m.nonce for m in b.messages]) for b in batches] == [(A, 1, [0, 1])]
    batches = cut_batches(pending, policy, now=0, flush=True)
    assert [(b.device, b.config, b.first_nonce, b.last_nonce) for b in batches] == [
        (A, 1, 0, 1),
        (A, 2, 2, 3),
        (B, 2, 0, 0),
    ]


def test_a_device_switching_back_and_forth_gets_one_task_per_run() -> None:
    policy = BatchPolicy(capacity=8, window_seconds=1000)
    pending = [msg(A, 0, 10, 1), msg(A, 1, 11, 2), msg(A, 2, 12, 1)]
    batches = cut_batches(pending, policy, now=0, flush=True)
    assert [(b.config, b.first_nonce) for b in batches] == [(1, 0), (2, 1), (1, 2)]


@pytest.mark.parametrize("kwargs", [{"capacity": 0, "window_seconds": 1}, {"capacity": 1, "window_seconds": 0}])
def test_policy_rejects_nonsense(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        BatchPolicy(kwargs["capacity"], kwargs["window_seconds"])


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.integers(1, 2)), max_size=60, unique_by=lambda t: t[1]
    ),
    st.integers(1, 8),
    st.integers(1, 500),
)
def test_batches_respect_every_rule(raw: list[tuple[int, int, int]], capacity: int, window: int) -> None:
    devices = [Address(f"0x{d:040x}") for d in range(4)]
    pending = [msg(devices[d], nonce, ts, config) for nonce, (d, ts, config) in enumerate(raw)]
    batches = cut_batches(pending, BatchPolicy(capacity, window), now=0, flush=True)
    seen = [m.message_id for b in batches for m in b.messages]
    assert sorted(seen) == sorted(m.message_id for m in pending)  # every message exactly once
    for b in batches:
        assert 1 <= len(b.messages) <= capacity
        assert {m.device for m in b.messages} == {b.device}
        assert {m.config for m in b.messages} == {b.config}
        nonces = [m.nonce for m in b.messages]
        stamps = [m.timestamp for m in b.messages]
        assert nonces == sorted(set(nonces))
        assert stamps == sorted(set(stamps))
        assert stamps[-1] < stamps[0] + window
    for device in devices:
        # A device's tasks come in nonce order, so TaskManager (ranges only move forward) accepts them in turn.
        ranges = [(b.first_nonce, b.last_nonce) for b in batches if b.device == device]
        assert all(prev[1] < nxt[0] for prev, nxt in pairwise(ranges))


@given(
    gaps=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=60),
    upgrades=st.lists(st.booleans(), min_size=60, max_size=60),
    capacity=st.sampled_from([1, 2, 4, 8]),
    window=st.integers(min_value=1, max_value=600),
)
def test_cost_guard_at_most_one_short_task_per_window(
    gaps: list[int], upgrades: list[bool], capacity: int, window: int
) -> None:
    """What the gateway admits (timestamps strictly increasing, config versions never decreasing with the nonce)
    is never cut into more than one short task per device per window of device time and config version: a device
    cannot make each message a task of its own, only full tasks or one short task per window."""
    times, config = [], 1
    pending = []
    t = 1_000
    for i, gap in enumerate(gaps):
        t += gap
        config += int(upgrades[i] and i % 7 == 3)  # a few upgrades along the way
        times.append(t)
        pending.append(msg(A, i, t, config))
    batches = cut_batches(pending, BatchPolicy(capacity, window), now=0, flush=True)
    short = [b for b in batches[:-1] if len(b.messages) < capacity]  # the flushed last one may be short
    for before, after in pairwise(short):
        if before.config == after.config:
            assert after.messages[0].timestamp >= before.messages[0].timestamp + window
    assert len(short) <= (times[-1] - times[0]) // window + 1 + (config - 1)
